/* HDF5 storage benchmark (docs/storage.md): save and load throughput
 * (synapses/s, MB/s) and file sizes with and without compression, and the
 * resident memory of a memory-mapped model against an in-memory one, on a
 * cuba_400k-sized network built programmatically: 400,000 lif_exp neurons
 * (80% excitatory, 20% inhibitory), fixed probability p = 80 / N, so about
 * 32 million synapses.
 *
 *   store_bench [--neurons N] [--dir DIR] [--threads T] [--keep]
 *   store_bench --plastic CONFIG [--steps N] [--dir DIR] [--threads T]
 *
 * --plastic: checkpoint write and resume (read) time and file size of a
 * learning run (e.g. bench/configs/cuba_40k_stdp.json) after N steps
 * (default 1000), checked by running on 100 steps against the original.
 *
 * Files are written to DIR (default: the current folder) and removed at the
 * end unless --keep. Every load is checked against the built model (counts;
 * the first loads also by a short simulation checksum). Memory figures come
 * from /proc/self/status (VmRSS) of a child process per measurement. */
#include "n4d.h"
#include "bench_util.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what, const void *handle)
{
    fprintf(stderr, "store_bench: %s: %s\n", what, n4d_last_error(handle));
    exit(1);
}

static uint64_t file_bytes(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0 ? (uint64_t)sb.st_size : 0;
}

/* Resident set size of this process in KiB. */
static uint64_t rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    uint64_t kb = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %" SCNu64, &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb;
}

static n4d_model *build_cuba(n4d_context *ctx, uint64_t n, int threads)
{
    n4d_model *m = NULL;
    if (n4d_model_create(ctx, &m))
        die("create", ctx);
    uint32_t side = (uint32_t)ceil(cbrt((double)n));
    const uint32_t shape[4] = {side, side, side, 1};
    const int32_t lo[4] = {0, 0, 0, 0}, hi[4] = {(int32_t)side - 1, (int32_t)side - 1,
                                                  (int32_t)side - 1, 0};
    if (n4d_model_set_lattice(m, shape) || n4d_model_add_area(m, "cortex", lo, hi) ||
        n4d_model_set_build_threads(m, threads))
        die("lattice", m);
    n4d_population_desc p;
    n4d_population_desc_init(&p);
    p.area = "cortex";
    p.model = N4D_NEURON_LIF_EXP;
    p.placement = N4D_PLACE_COUNT;
    p.v_init = n4d_dist_uniform(-60.0, -50.0);
    p.name = "E";
    p.count = n * 4 / 5;
    if (n4d_model_add_population(m, &p, NULL))
        die("population E", m);
    p.name = "I";
    p.count = n - n * 4 / 5;
    if (n4d_model_add_population(m, &p, NULL))
        die("population I", m);
    static const char *const pops[2] = {"E", "I"};
    for (int s = 0; s < 2; s++)
        for (int t = 0; t < 2; t++) {
            n4d_projection_desc j;
            n4d_projection_desc_init(&j);
            j.source = pops[s];
            j.target = pops[t];
            j.p = 80.0 / (double)n;
            j.weight = n4d_dist_constant(s == 0 ? 1.62 : 9.0);
            j.syn_type = s == 0 ? N4D_SYN_EXCITATORY : N4D_SYN_INHIBITORY;
            j.delay = n4d_dist_constant(0.8);
            if (n4d_model_add_projection(m, &j, NULL))
                die("projection", m);
        }
    double t0 = now_s();
    if (n4d_model_build(m))
        die("build", m);
    printf("built %" PRIu64 " neurons, %" PRIu64 " synapses in %.2f s\n",
           n4d_model_num_neurons(m), n4d_model_num_synapses(m), now_s() - t0);
    return m;
}

static uint64_t checksum_of(n4d_model *m, uint64_t steps)
{
    n4d_sim_options o;
    n4d_sim_options_init(&o);
    o.record_spikes = 0;
    o.history_steps = 0;
    n4d_sim *s = NULL;
    if (n4d_sim_create(m, &o, &s) || n4d_sim_run(s, steps))
        die("sim", s ? (const void *)s : (const void *)m);
    uint64_t c = n4d_sim_checksum(s);
    n4d_sim_destroy(s);
    return c;
}

typedef struct variant {
    const char *name;
    int compression, level, shuffle, contiguous, sonata;
} variant;

/* In a fresh process (this program run with --rss-child: OpenMP does not
 * survive a fork), loads `path` (mmap or not) and reports VmRSS (KiB)
 * before, after the load and after `steps` steps, into out[0..2]. */
static int rss_child_main(const char *path, int mmap_syn, uint64_t steps)
{
    uint64_t r[3];
    r[0] = rss_kib();
    n4d_context *ctx = NULL;
    n4d_model *m = NULL;
    n4d_context_create(NULL, &ctx);
    n4d_load_options lo;
    n4d_load_options_init(&lo);
    lo.mmap_synapses = mmap_syn;
    if (n4d_model_load(ctx, path, &lo, &m))
        die("load", ctx);
    r[1] = rss_kib();
    n4d_sim_options o;
    n4d_sim_options_init(&o);
    o.record_spikes = 0;
    o.history_steps = 0;
    n4d_sim *s = NULL;
    if (n4d_sim_create(m, &o, &s) || n4d_sim_run(s, steps))
        die("sim", m);
    r[2] = rss_kib();
    printf("%" PRIu64 " %" PRIu64 " %" PRIu64 "\n", r[0], r[1], r[2]);
    n4d_sim_destroy(s);
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
    return 0;
}

static void child_rss(const char *path, int mmap_syn, uint64_t steps, uint64_t out[3])
{
    char self[4096], cmd[9000];
    ssize_t k = readlink("/proc/self/exe", self, sizeof self - 1);
    memset(out, 0, 3 * sizeof out[0]);
    if (k <= 0)
        return;
    self[k] = '\0';
    snprintf(cmd, sizeof cmd, "'%s' --rss-child '%s' %d %" PRIu64, self, path, mmap_syn, steps);
    fflush(NULL);
    FILE *p = popen(cmd, "r");
    if (!p || fscanf(p, "%" SCNu64 " %" SCNu64 " %" SCNu64, &out[0], &out[1], &out[2]) != 3)
        fprintf(stderr, "store_bench: the memory child failed\n");
    if (p)
        pclose(p);
}

/* A checkpoint of a plastic sim: write and resume times, file size. */
static int plastic_main(const char *config, uint64_t steps, const char *dir, int threads)
{
    n4d_context *ctx = NULL;
    n4d_model *m = NULL;
    n4d_sim *s = NULL;
    if (n4d_context_create(NULL, &ctx) || n4d_model_from_json_file(ctx, config, &m))
        die("config", ctx);
    if (n4d_model_build(m))
        die("build", m);
    n4d_sim_options o;
    n4d_sim_options_init(&o);
    o.num_threads = threads;
    o.record_spikes = 0;
    o.history_steps = 0;
    if (n4d_sim_create(m, &o, &s) || n4d_sim_run(s, steps))
        die("sim", m);
    char path[4096];
    snprintf(path, sizeof path, "%s/store_bench_plastic.h5", dir);
    double t0 = now_s();
    if (n4d_sim_checkpoint(s, path, NULL))
        die("checkpoint", s);
    const double write_s = now_s() - t0;
    struct stat sb;
    const double mb = stat(path, &sb) == 0 ? (double)sb.st_size / 1e6 : 0.0;
    n4d_model *m2 = NULL;
    n4d_sim *s2 = NULL;
    n4d_resume_options ro;
    n4d_resume_options_init(&ro);
    ro.num_threads = threads;
    t0 = now_s();
    if (n4d_sim_resume(ctx, path, &ro, &m2, &s2))
        die("resume", ctx);
    const double read_s = now_s() - t0;
    if (n4d_sim_run(s, 100) || n4d_sim_run(s2, 100))
        die("continue", s);
    const int same = n4d_sim_checksum(s) == n4d_sim_checksum(s2);
    printf("plastic checkpoint of %s after %" PRIu64 " steps: %" PRIu64 " neurons, %" PRIu64
           " synapses\n  write %.3f s, resume %.3f s, file %.1f MB; 100 more steps %s\n",
           config, steps, n4d_model_num_neurons(m), n4d_model_num_synapses(m), write_s, read_s,
           mb, same ? "give the same checksum" : "DIFFER");
    remove(path);
    n4d_sim_destroy(s2);
    n4d_model_destroy(m2);
    n4d_sim_destroy(s);
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
    return same ? 0 : 1;
}

int main(int argc, char **argv)
{
    const char *plastic = NULL;
    uint64_t plastic_steps = 1000;
    uint64_t n = 400000;
    const char *dir = ".";
    int threads = 0, keep = 0;
    if (argc == 5 && strcmp(argv[1], "--rss-child") == 0)
        return rss_child_main(argv[2], atoi(argv[3]), strtoull(argv[4], NULL, 10));
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--neurons") == 0 && i + 1 < argc)
            n = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
            dir = argv[++i];
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "--keep") == 0)
            keep = 1;
        else if (strcmp(argv[i], "--plastic") == 0 && i + 1 < argc)
            plastic = argv[++i];
        else if (strcmp(argv[i], "--steps") == 0 && i + 1 < argc)
            plastic_steps = strtoull(argv[++i], NULL, 10);
        else {
            fprintf(stderr,
                    "usage: %s [--neurons N] [--dir DIR] [--threads T] [--keep]\n"
                    "       %s --plastic CONFIG [--steps N] [--dir DIR] [--threads T]\n",
                    argv[0], argv[0]);
            return 2;
        }
    }
    if (!n4d_has_feature(N4D_FEATURE_HDF5)) {
        printf("store_bench: built without HDF5\n");
        return 0;
    }
    printf("command: %s", argv[0]);
    for (int i = 1; i < argc; i++)
        printf(" %s", argv[i]);
    if (plastic) {
        printf("\n");
        return plastic_main(plastic, plastic_steps, dir, threads);
    }
    printf("\nn4d %s, cuba-like network: %" PRIu64 " lif_exp neurons, p = 80/N\n",
           n4d_version_string(), n);
    n4d_context *ctx = NULL;
    if (n4d_context_create(NULL, &ctx))
        return 1;
    n4d_model *m = build_cuba(ctx, n, threads);
    const uint64_t S = n4d_model_num_synapses(m), N = n4d_model_num_neurons(m);
    const uint64_t ref = checksum_of(m, 200);
    static const variant vs[] = {
        {"exact arrays only, no compression", N4D_COMPRESSION_NONE, 0, 0, 0, 0},
        {"exact arrays only, gzip 1 + shuffle", N4D_COMPRESSION_GZIP, 1, 1, 0, 0},
        {"exact arrays only, gzip 6 + shuffle", N4D_COMPRESSION_GZIP, 6, 1, 0, 0},
        {"with SONATA /edges, no compression", N4D_COMPRESSION_NONE, 0, 0, 0, 1},
        {"with SONATA /edges, gzip 4 + shuffle", N4D_COMPRESSION_GZIP, 4, 1, 0, 1},
        {"contiguous (mmap-able), no compression", N4D_COMPRESSION_NONE, 0, 0, 1, 0},
    };
    const int nv = (int)(sizeof vs / sizeof vs[0]);
    char paths[8][4096];
    uint64_t mem[N4D_MEM_TAG_COUNT];
    n4d_model_memory(m, mem);
    /* what a load reads (uncompressed): the CSR arrays and the positions */
    const double read_mb = (double)(mem[N4D_MEM_SYNAPSES] + mem[N4D_MEM_NEURONS]) / 1e6;
    printf("\nsave MB/s: file bytes written per second; load MB/s: bytes of the arrays a load\n"
           "reads (%.1f MB uncompressed: /n4d CSR and positions; /edges is not read) per second\n",
           read_mb);
    printf("\n%-40s %10s %8s %12s %9s %12s %9s\n", "file layout", "size MB", "B/syn",
           "save Msyn/s", "save MB/s", "load Msyn/s", "load MB/s");
    for (int k = 0; k < nv; k++) {
        snprintf(paths[k], sizeof paths[k], "%s/store_bench_%d.h5", dir, k);
        n4d_save_options so;
        n4d_save_options_init(&so);
        so.compression = vs[k].compression;
        so.gzip_level = vs[k].level ? vs[k].level : 4;
        so.shuffle = vs[k].shuffle;
        so.contiguous = vs[k].contiguous;
        so.sonata_edges = vs[k].sonata;
        double t0 = now_s();
        if (n4d_model_save(m, paths[k], &so))
            die("save", m);
        double ts = now_s() - t0;
        uint64_t bytes = file_bytes(paths[k]);
        t0 = now_s();
        n4d_model *l = NULL;
        if (n4d_model_load(ctx, paths[k], NULL, &l))
            die("load", ctx);
        double tl = now_s() - t0;
        if (n4d_model_num_synapses(l) != S || n4d_model_num_neurons(l) != N)
            die("the loaded model differs", l);
        if (k == 0 && checksum_of(l, 200) != ref) {
            fprintf(stderr, "store_bench: the loaded model simulates differently\n");
            return 1;
        }
        n4d_model_destroy(l);
        printf("%-40s %10.1f %8.2f %12.1f %9.1f %12.1f %9.1f\n", vs[k].name, bytes / 1e6,
               (double)bytes / (double)S, S / ts / 1e6, bytes / ts / 1e6, S / tl / 1e6,
               read_mb / tl);
        fflush(stdout);
    }
    /* memory-mapped synapses */
    const int kc = nv - 1;
    n4d_load_options lo;
    n4d_load_options_init(&lo);
    lo.mmap_synapses = 1;
    n4d_model *mm = NULL;
    double t0 = now_s();
    if (n4d_model_load(ctx, paths[kc], &lo, &mm))
        die("mmap load", ctx);
    double tm = now_s() - t0;
    uint64_t cm = checksum_of(mm, 200);
    n4d_model_destroy(mm);
    printf("\nmmap load (validation included): %.2f s, %.1f Msyn/s; checksum %s the in-memory "
           "model's\n",
           tm, S / tm / 1e6, cm == ref ? "equals" : "DIFFERS FROM");
    n4d_model_destroy(m); /* the children measure without the built model */
    const uint64_t steps = 1000;
    uint64_t r_mem[3], r_map[3];
    child_rss(paths[kc], 0, steps, r_mem);
    child_rss(paths[kc], 1, steps, r_map);
    printf("resident memory (VmRSS of a fresh process, MiB):\n");
    printf("  %-34s %10s %14s %18s\n", "", "before", "after load",
           "after 1000 steps");
    printf("  %-34s %10.1f %14.1f %18.1f\n", "synapses read into memory", r_mem[0] / 1024.0,
           r_mem[1] / 1024.0, r_mem[2] / 1024.0);
    printf("  %-34s %10.1f %14.1f %18.1f\n", "synapses memory-mapped", r_map[0] / 1024.0,
           r_map[1] / 1024.0, r_map[2] / 1024.0);
    printf("  difference after load: %.1f MiB (the synapse arrays: %.1f MiB)\n",
           (double)((int64_t)r_mem[1] - (int64_t)r_map[1]) / 1024.0, S * 8.0 / 1048576.0);
    printf("  (mapped pages touched by the run are file-backed and clean: the kernel may drop\n"
           "   them under memory pressure, so the synapses need not fit in RAM)\n");
    if (!keep)
        for (int k = 0; k < nv; k++)
            remove(paths[k]);
    n4d_context_destroy(ctx);
    return 0;
}
