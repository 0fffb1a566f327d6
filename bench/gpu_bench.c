/* GPU benchmarks (bench/README-gpu.md):
 *
 *   gpu_bench lif [--sizes 1e3,1e4,1e5,1e6,1e7] [--iters 100] [--cpu-threads 1]
 *       the GPU-vs-CPU benchmark of the array LIF update (n4d_gpu_benchmark):
 *       CPU time, GPU kernel time, GPU time with transfers, speedups, and
 *       whether the GPU results are bitwise the CPU's
 *   gpu_bench cuba         [--scale S] [--ms T] [common options]
 *   gpu_bench brunel       [--n N] [--k K] [--j J] [--g G] [--eta ETA] [--ms T] [...]
 *   gpu_bench microcircuit [--scale S] [--ms T] [...]
 *       a network on a backend: build time, sim creation (device upload),
 *       run time, real-time factor (wall / biological time), spikes, rate and
 *       synaptic events per second (spikes x out-degree / wall time)
 *   common: --backend NAME (default cuda), --seed S, --compare BACKEND
 *       (also run BACKEND for --compare-ms ms, default 100, and check that
 *       spike totals and checksums are bitwise equal), --warmup-ms (10)
 *
 * Prints "key: value" lines and one Markdown table row ("| ... |") per
 * result, for bench/RESULTS.md. Exit status 0, or 1 on an error or a
 * --compare mismatch. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "n4d.h"
#include "bench_util.h"
#include "n4d/gpu.h"

#define TRY(call, handle)                                                                         \
    do {                                                                                          \
        n4d_status st_ = (call);                                                                  \
        if (st_ != N4D_OK) {                                                                      \
            fprintf(stderr, "gpu_bench: %s: %s (%s)\n", #call, n4d_status_string(st_),            \
                    n4d_last_error(handle));                                                      \
            exit(1);                                                                              \
        }                                                                                         \
    } while (0)

/* ---- options ---------------------------------------------------------------------- */

typedef struct opts {
    const char *backend, *compare, *build_backend;
    int compare_build;
    double ms, compare_ms, warmup_ms, scale;
    uint64_t seed, n, k;
    double j, g, eta;
    uint32_t iters;
    int32_t cpu_threads;
    uint64_t sizes[32];
    size_t n_sizes;
} opts;

static void usage(void)
{
    fprintf(stderr,
            "usage: gpu_bench lif [--sizes 1e3,1e4,...] [--iters N] [--cpu-threads T]\n"
            "       gpu_bench cuba|brunel|microcircuit [--backend cuda] [--ms T] [--scale S]\n"
            "                 [--n N --k K --j J --g G --eta ETA] [--seed S]\n"
            "                 [--compare BACKEND] [--compare-ms T] [--warmup-ms T]\n"
            "                 [--build-backend cpu|auto|cuda|cuda:N] [--compare-build 1]\n");
    exit(2);
}

static void parse(int argc, char **argv, opts *o)
{
    memset(o, 0, sizeof *o);
    o->backend = "cuda";
    o->build_backend = "cpu";
    o->ms = 1000.0;
    o->compare_ms = 100.0;
    o->warmup_ms = 10.0;
    o->scale = 1.0;
    o->seed = 1;
    o->n = 100000;
    o->k = 10000;
    o->j = 0.1;
    o->g = 5.0;
    o->eta = 2.0;
    o->iters = 100;
    o->cpu_threads = 1;
    const double def_sizes[] = {1e3, 1e4, 1e5, 1e6, 1e7};
    for (size_t i = 0; i < 5; i++)
        o->sizes[i] = (uint64_t)def_sizes[i];
    o->n_sizes = 5;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            usage();
        if (!strcmp(a, "--backend"))
            o->backend = v;
        else if (!strcmp(a, "--compare"))
            o->compare = v;
        else if (!strcmp(a, "--build-backend"))
            o->build_backend = v;
        else if (!strcmp(a, "--compare-build"))
            o->compare_build = atoi(v);
        else if (!strcmp(a, "--ms"))
            o->ms = atof(v);
        else if (!strcmp(a, "--compare-ms"))
            o->compare_ms = atof(v);
        else if (!strcmp(a, "--warmup-ms"))
            o->warmup_ms = atof(v);
        else if (!strcmp(a, "--scale"))
            o->scale = atof(v);
        else if (!strcmp(a, "--seed"))
            o->seed = (uint64_t)atof(v);
        else if (!strcmp(a, "--n"))
            o->n = (uint64_t)atof(v);
        else if (!strcmp(a, "--k"))
            o->k = (uint64_t)atof(v);
        else if (!strcmp(a, "--j"))
            o->j = atof(v);
        else if (!strcmp(a, "--g"))
            o->g = atof(v);
        else if (!strcmp(a, "--eta"))
            o->eta = atof(v);
        else if (!strcmp(a, "--iters"))
            o->iters = (uint32_t)atof(v);
        else if (!strcmp(a, "--cpu-threads"))
            o->cpu_threads = (int32_t)atof(v);
        else if (!strcmp(a, "--sizes")) {
            o->n_sizes = 0;
            char buf[512];
            snprintf(buf, sizeof buf, "%s", v);
            for (char *t = strtok(buf, ","); t && o->n_sizes < 32; t = strtok(NULL, ","))
                o->sizes[o->n_sizes++] = (uint64_t)atof(t);
        } else
            usage();
        i++;
    }
}

/* ---- the LIF benchmark --------------------------------------------------------------- */

static int bench_lif(const opts *o)
{
    n4d_context *ctx = NULL;
    TRY(n4d_context_create(NULL, &ctx), NULL);
    n4d_gpu *gpu = NULL;
    TRY(n4d_gpu_create(ctx, NULL, &gpu), ctx);
    n4d_gpu_info info;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    TRY(n4d_gpu_get_info(gpu, &info), NULL);
    if (info.on_gpu)
        printf("device: %s (%d SMs, %.1f GiB)\n", info.name, (int)info.multiprocessors,
               (double)info.total_bytes / 1073741824.0);
    else
        printf("device: cpu (GPU unavailable: %s)\n", info.reason);
    n4d_gpu_benchmark_options bo;
    n4d_gpu_benchmark_options_init(&bo);
    bo.sizes = o->sizes;
    bo.n_sizes = o->n_sizes;
    bo.iterations = o->iters;
    bo.cpu_threads = o->cpu_threads;
    uint64_t sizes[32];
    double cpu[32], gk[32], gt[32], sp[32], spt[32];
    n4d_gpu_benchmark_result r;
    memset(&r, 0, sizeof r);
    r.struct_size = sizeof r;
    r.sizes = sizes;
    r.cpu_seconds = cpu;
    r.gpu_seconds = gk;
    r.gpu_seconds_with_transfers = gt;
    r.speedups = sp;
    r.speedups_with_transfers = spt;
    TRY(n4d_gpu_benchmark(gpu, &bo, &r), NULL);
    printf("note: %s\n", r.note);
    printf("iterations: %u, CPU threads: %d\n", o->iters, (int)o->cpu_threads);
    printf("results bitwise equal (GPU vs CPU): %s\n",
           r.results_match == 1 ? "yes" : r.results_match == 0 ? "NO" : "n/a (no GPU)");
    printf("| neurons | CPU ms | GPU ms (kernel) | GPU ms (with transfers) | speedup | "
           "speedup with transfers |\n|---:|---:|---:|---:|---:|---:|\n");
    for (size_t i = 0; i < o->n_sizes; i++)
        printf("| %llu | %.4f | %.4f | %.4f | %.2f | %.2f |\n", (unsigned long long)sizes[i],
               cpu[i] * 1e3, gk[i] * 1e3, gt[i] * 1e3, sp[i], spt[i]);
    int bad = r.results_match == 0;
    n4d_gpu_destroy(gpu);
    n4d_context_destroy(ctx);
    return bad;
}

/* ---- networks ------------------------------------------------------------------------- */

static void add_area(n4d_model *m, const char *name, const int32_t lo[4], const int32_t hi[4])
{
    TRY(n4d_model_add_area(m, name, lo, hi), m);
}

static void add_pop(n4d_model *m, const char *name, const char *area, uint64_t count,
                    const n4d_param_value *p, uint32_t n_p, n4d_dist v_init)
{
    n4d_population_desc d;
    n4d_population_desc_init(&d);
    d.name = name;
    d.area = area;
    d.model = N4D_NEURON_LIF_EXP;
    d.params = p;
    d.n_params = n_p;
    d.v_init = v_init;
    if (count) {
        d.placement = N4D_PLACE_COUNT;
        d.count = count;
    }
    TRY(n4d_model_add_population(m, &d, NULL), m);
}

static void add_poisson(n4d_model *m, const char *target, double rate, double w, uint32_t n)
{
    n4d_input_desc in;
    n4d_input_desc_init(&in);
    in.kind = N4D_INPUT_POISSON;
    in.target = target;
    in.rate = rate;
    in.weight = w;
    in.n_sources = n;
    TRY(n4d_model_add_input(m, &in), m);
}

/* Peak of the PSP of a unit exponential current jump (lif_exp): to convert
 * a PSP amplitude in mV to the jump of ge. */
static double psp_peak(double tau_s, double tau_m)
{
    double tp = log(tau_m / tau_s) * tau_s * tau_m / (tau_m - tau_s);
    return tau_s / (tau_m - tau_s) * (exp(-tp / tau_m) - exp(-tp / tau_s));
}

/* CUBA (Vogels & Abbott 2005, Brian2's example): 4000 * scale neurons,
 * 80 synapses per neuron on average, delay one step. */
/* A model with two square areas "exc" (z = 0) and "inh" (z = 1), each with
 * room for N neurons. */
static n4d_model *exc_inh_model(n4d_context *ctx, uint64_t N, uint64_t seed)
{
    uint32_t side = (uint32_t)ceil(sqrt((double)N)) + 1;
    n4d_model *m = NULL;
    TRY(n4d_model_create(ctx, &m), ctx);
    const uint32_t shape[4] = {side, side, 2, 1};
    TRY(n4d_model_set_lattice(m, shape), m);
    TRY(n4d_model_set_seed(m, seed), m);
    const int32_t lo0[4] = {0, 0, 0, 0}, hi0[4] = {(int32_t)side - 1, (int32_t)side - 1, 0, 0};
    const int32_t lo1[4] = {0, 0, 1, 0}, hi1[4] = {(int32_t)side - 1, (int32_t)side - 1, 1, 0};
    add_area(m, "exc", lo0, hi0);
    add_area(m, "inh", lo1, hi1);
    return m;
}

static n4d_model *make_cuba(n4d_context *ctx, const opts *o)
{
    const uint64_t N = (uint64_t)llround(4000.0 * o->scale);
    const uint64_t NE = N * 4 / 5;
    n4d_model *m = exc_inh_model(ctx, N, o->seed);
    add_pop(m, "E", "exc", NE, NULL, 0, n4d_dist_uniform(-60.0, -50.0));
    add_pop(m, "I", "inh", N - NE, NULL, 0, n4d_dist_uniform(-60.0, -50.0));
    const double prob = 80.0 / (double)N < 1.0 ? 80.0 / (double)N : 1.0;
    const char *pops[2] = {"E", "I"};
    for (int s = 0; s < 2; s++)
        for (int t = 0; t < 2; t++) {
            n4d_projection_desc d;
            n4d_projection_desc_init(&d);
            d.source = pops[s];
            d.target = pops[t];
            d.rule = N4D_RULE_FIXED_PROBABILITY;
            d.p = prob;
            d.weight = n4d_dist_constant(s == 0 ? 1.62 : -9.0);
            TRY(n4d_model_add_projection(m, &d, NULL), m);
        }
    return m;
}

/* Brunel (2000) network A: N = n (80 % excitatory), in-degree K (80 %
 * excitatory), PSP J mV (lif_exp, tau_syn 0.5 ms), g, external Poisson
 * drive eta * nu_thr from C_E sources, delay 1.5 ms. With n = 1e5 and
 * k = 1e4: 1e9 synapses. */
static n4d_model *make_brunel(n4d_context *ctx, const opts *o)
{
    const uint64_t N = o->n, NE = N * 4 / 5, CE = o->k * 4 / 5, CI = o->k - CE;
    const double tau_m = 20.0, tau_s = 0.5, theta = 20.0;
    const double w = o->j / psp_peak(tau_s, tau_m);
    n4d_model *m = exc_inh_model(ctx, N, o->seed);
    const n4d_param_value p[] = {{"tau_m", tau_m},         {"v_rest", 0.0}, {"v_reset", 10.0},
                                 {"v_threshold", theta},   {"t_ref", 2.0},  {"tau_syn_ex", tau_s},
                                 {"tau_syn_in", tau_s}};
    add_pop(m, "E", "exc", NE, p, 7, n4d_dist_uniform(0.0, theta));
    add_pop(m, "I", "inh", N - NE, p, 7, n4d_dist_uniform(0.0, theta));
    const char *pops[2] = {"E", "I"};
    for (int s = 0; s < 2; s++)
        for (int t = 0; t < 2; t++) {
            n4d_projection_desc d;
            n4d_projection_desc_init(&d);
            d.source = pops[s];
            d.target = pops[t];
            d.rule = N4D_RULE_FIXED_INDEGREE;
            d.n = s == 0 ? CE : CI;
            d.weight = n4d_dist_constant(s == 0 ? w : -o->g * w);
            d.delay = n4d_dist_constant(1.5);
            d.syn_type = s == 0 ? N4D_SYN_EXCITATORY : N4D_SYN_INHIBITORY;
            TRY(n4d_model_add_projection(m, &d, NULL), m);
        }
    /* nu_thr = theta / (J C_E tau_m) per source, in Hz */
    const double nu_thr = theta / (o->j * (double)CE * tau_m) * 1000.0;
    for (int t = 0; t < 2; t++)
        add_poisson(m, pops[t], o->eta * nu_thr, w, (uint32_t)CE);
    return m;
}

/* Potjans & Diesmann (2014) cortical microcircuit: 77,169 neurons (x scale),
 * ~0.3e9 synapses, iaf_psc_exp neurons (C 250 pF, tau_m 10 ms, tau_syn
 * 0.5 ms: a PSC of w pA is a jump of w * tau_m / C mV of ge), Poisson
 * background 8 Hz x K_ext, w 87.8 pA (+-10 %), g = -4, L4E->L23E doubled,
 * delays 1.5 +- 0.75 ms (E) and 0.75 +- 0.375 ms (I), clipped at 0.1 ms. */
static n4d_model *make_microcircuit(n4d_context *ctx, const opts *o)
{
    static const char *const names[8] = {"L23E", "L23I", "L4E", "L4I",
                                          "L5E",  "L5I",  "L6E", "L6I"};
    static const double count[8] = {20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948};
    static const double k_ext[8] = {1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100};
    /* conn_probs[target][source] */
    static const double prob[8][8] = {
        {0.1009, 0.1689, 0.0437, 0.0818, 0.0323, 0.0, 0.0076, 0.0},
        {0.1346, 0.1371, 0.0316, 0.0515, 0.0755, 0.0, 0.0042, 0.0},
        {0.0077, 0.0059, 0.0497, 0.135, 0.0067, 0.0003, 0.0453, 0.0},
        {0.0691, 0.0029, 0.0794, 0.1597, 0.0033, 0.0, 0.1057, 0.0},
        {0.1004, 0.0622, 0.0505, 0.0057, 0.0831, 0.3726, 0.0204, 0.0},
        {0.0548, 0.0269, 0.0257, 0.0022, 0.06, 0.3158, 0.0086, 0.0},
        {0.0156, 0.0066, 0.0211, 0.0166, 0.0572, 0.0197, 0.0396, 0.2252},
        {0.0364, 0.001, 0.0034, 0.0005, 0.0277, 0.008, 0.0658, 0.1443}};
    const double w_mv = 87.8 * 10.0 / 250.0; /* 3.512 mV */
    const uint32_t side = (uint32_t)ceil(sqrt(21915.0 * o->scale)) + 2;
    n4d_model *m = NULL;
    TRY(n4d_model_create(ctx, &m), ctx);
    const uint32_t shape[4] = {side, side, 1, 8};
    TRY(n4d_model_set_lattice(m, shape), m);
    TRY(n4d_model_set_seed(m, o->seed), m);
    const n4d_param_value p[] = {{"tau_m", 10.0},        {"v_rest", -65.0}, {"v_reset", -65.0},
                                 {"v_threshold", -50.0}, {"t_ref", 2.0},    {"tau_syn_ex", 0.5},
                                 {"tau_syn_in", 0.5}};
    for (int i = 0; i < 8; i++) {
        const int32_t lo[4] = {0, 0, 0, i}, hi[4] = {(int32_t)side - 1, (int32_t)side - 1, 0, i};
        add_area(m, names[i], lo, hi);
        add_pop(m, names[i], names[i], (uint64_t)llround(count[i] * o->scale), p, 7,
                n4d_dist_normal(-58.0, 10.0, -INFINITY, -50.5));
    }
    for (int t = 0; t < 8; t++)
        for (int s = 0; s < 8; s++) {
            if (prob[t][s] <= 0.0)
                continue;
            const int exc = s % 2 == 0;
            double w = exc ? w_mv : -4.0 * w_mv;
            if (s == 2 && t == 0)
                w *= 2.0; /* L4E -> L23E */
            n4d_projection_desc d;
            n4d_projection_desc_init(&d);
            d.source = names[s];
            d.target = names[t];
            d.rule = N4D_RULE_FIXED_PROBABILITY;
            d.p = prob[t][s];
            d.weight = exc ? n4d_dist_normal(w, 0.1 * w, 0.0, INFINITY)
                           : n4d_dist_normal(w, -0.1 * w, -INFINITY, 0.0);
            d.delay = exc ? n4d_dist_normal(1.5, 0.75, 0.1, INFINITY)
                          : n4d_dist_normal(0.75, 0.375, 0.1, INFINITY);
            d.syn_type = exc ? N4D_SYN_EXCITATORY : N4D_SYN_INHIBITORY;
            TRY(n4d_model_add_projection(m, &d, NULL), m);
        }
    for (int t = 0; t < 8; t++)
        add_poisson(m, names[t], 8.0, w_mv, (uint32_t)k_ext[t]);
    return m;
}

/* Runs `ms` of biological time on `backend`; reports timing and rates. */
/* Builds the model again on the CPU and compares every row with m's (targets,
 * weights, delays through the public API). Returns 1 on a difference. */
static int compare_builds(const n4d_model *m, n4d_model *(*make)(n4d_context *, const opts *),
                          n4d_context *ctx, const opts *o)
{
    n4d_model *c = make(ctx, o);
    TRY(n4d_model_set_build_backend(c, "cpu"), c);
    const double t0 = now_s();
    TRY(n4d_model_build(c), c);
    const double t_cpu = now_s() - t0;
    const uint64_t N = n4d_model_num_neurons(m);
    uint64_t rows_bad = 0, cap = 0;
    uint32_t *t[2] = {NULL, NULL};
    float *w[2] = {NULL, NULL}, *d[2] = {NULL, NULL};
    int bad = n4d_model_num_neurons(c) != N || n4d_model_num_synapses(c) != n4d_model_num_synapses(m);
    for (uint64_t i = 0; i < N && !bad; i++) {
        uint64_t n[2];
        TRY(n4d_model_out_degree(m, i, &n[0]), m);
        TRY(n4d_model_out_degree(c, i, &n[1]), c);
        if (n[0] != n[1]) {
            rows_bad++;
            continue;
        }
        if (n[0] > cap) {
            cap = n[0] * 2;
            for (int k = 0; k < 2; k++) {
                free(t[k]);
                free(w[k]);
                free(d[k]);
                t[k] = malloc(cap * sizeof *t[k]);
                w[k] = malloc(cap * sizeof *w[k]);
                d[k] = malloc(cap * sizeof *d[k]);
                if (!t[k] || !w[k] || !d[k]) {
                    fprintf(stderr, "gpu_bench: out of memory comparing builds\n");
                    exit(1);
                }
            }
        }
        if (n[0] == 0)
            continue;
        TRY(n4d_model_get_synapses(m, i, cap, t[0], w[0], d[0], NULL), m);
        TRY(n4d_model_get_synapses(c, i, cap, t[1], w[1], d[1], NULL), c);
        rows_bad += memcmp(t[0], t[1], n[0] * sizeof *t[0]) != 0 ||
                    memcmp(w[0], w[1], n[0] * sizeof *w[0]) != 0 ||
                    memcmp(d[0], d[1], n[0] * sizeof *d[0]) != 0;
    }
    for (int k = 0; k < 2; k++) {
        free(t[k]);
        free(w[k]);
        free(d[k]);
    }
    bad |= rows_bad != 0;
    printf("compare build %s vs cpu (%.3f s on the CPU): %s (%llu of %llu rows differ)\n",
           n4d_model_build_backend(m), t_cpu, bad ? "DIFFERENT" : "identical",
           (unsigned long long)rows_bad, (unsigned long long)N);
    n4d_model_destroy(c);
    return bad;
}

/* Library messages (info level: the device build reports its device time). */
static void print_log(void *ud, int32_t level, const char *msg)
{
    (void)ud;
    printf("note: %s%s\n", level <= N4D_LOG_WARN ? "warning: " : "", msg);
}

/* "device memory: used X of Y MiB" of device 0, when there is one. */
static void print_device_memory(n4d_context *ctx, const char *when)
{
    if (n4d_gpu_device_count() <= 0)
        return;
    n4d_gpu *gpu = NULL;
    n4d_gpu_memory mem;
    mem.struct_size = sizeof mem;
    if (n4d_gpu_create(ctx, NULL, &gpu) == N4D_OK && n4d_gpu_memory_usage(gpu, &mem) == N4D_OK &&
        mem.on_gpu)
        printf("device memory %s: %.0f MiB used of %.0f MiB\n", when, mem.used_mb, mem.total_mb);
    n4d_gpu_destroy(gpu);
}

static int bench_net(const char *name, n4d_model *(*make)(n4d_context *, const opts *),
                     const opts *o)
{
    n4d_context_options co;
    n4d_context_options_init(&co);
    co.log = print_log;
    co.log_level = N4D_LOG_INFO;
    n4d_context *ctx = NULL;
    TRY(n4d_context_create(&co, &ctx), NULL);
    n4d_model *m = make(ctx, o);
    TRY(n4d_model_set_build_backend(m, o->build_backend), m);
    double t0 = now_s();
    TRY(n4d_model_build(m), m);
    const double t_build = now_s() - t0;
    if (strcmp(n4d_model_build_backend(m), "cpu") != 0)
        print_device_memory(ctx, "after the build"); /* the build's memory is released */
    int bad = 0;
    if (o->compare_build)
        bad |= compare_builds(m, make, ctx, o);
    const uint64_t N = n4d_model_num_neurons(m), S = n4d_model_num_synapses(m);
    const double dt = n4d_model_dt(m);
    uint32_t dmin = 0, dmax = 0;
    TRY(n4d_model_delay_range(m, &dmin, &dmax), m);
    n4d_sim_options so;
    n4d_sim_options_init(&so);
    so.backend = o->backend;
    so.history_steps = 0;
    n4d_sim *sim = NULL;
    t0 = now_s();
    TRY(n4d_sim_create(m, &so, &sim), m);
    const double t_create = now_s() - t0;
    if (strcmp(n4d_sim_backend(sim), "cuda") == 0)
        print_device_memory(ctx, "with the simulation");
    const uint64_t warm = (uint64_t)llround(o->warmup_ms / dt);
    const uint64_t steps = (uint64_t)llround(o->ms / dt);
    if (warm)
        TRY(n4d_sim_run(sim, warm), sim);
    TRY(n4d_sim_clear_spikes(sim), sim);
    t0 = now_s();
    TRY(n4d_sim_run(sim, steps), sim);
    const double t_run = now_s() - t0;
    /* synaptic events: out-degree of every spike of the timed run */
    const uint64_t *sp;
    const uint32_t *ids;
    uint64_t ns = 0;
    TRY(n4d_sim_spikes(sim, &sp, &ids, &ns), sim);
    uint64_t *deg = malloc((N ? N : 1) * sizeof *deg);
    if (!deg)
        return 1;
    for (uint64_t i = 0; i < N; i++)
        TRY(n4d_model_out_degree(m, i, &deg[i]), m);
    double events = 0.0;
    for (uint64_t j = 0; j < ns; j++)
        events += (double)deg[ids[j]];
    free(deg);
    const double bio_s = (double)steps * dt * 1e-3;
    printf("model: %s\nbackend: %s\nneurons: %llu\nsynapses: %llu\ndt: %g ms, delays %u..%u "
           "steps\n",
           name, n4d_sim_backend(sim), (unsigned long long)N, (unsigned long long)S, dt, dmin, dmax);
    printf("build (%s): %.3f s\nsim create (incl. device upload): %.3f s\n",
           n4d_model_build_backend(m), t_build, t_create);
    printf("simulated: %.1f ms in %.3f s wall\nreal-time factor: %.4f\n", o->ms, t_run,
           t_run / bio_s);
    printf("spikes: %llu (%.2f Hz per neuron)\nsynaptic events: %.4g (%.4g per second of wall "
           "time)\n",
           (unsigned long long)ns, (double)ns / (double)(N ? N : 1) / bio_s, events,
           events / t_run);
    printf("| %s | %s | %llu | %.3g | %.3f | %.3f | %.1f | %.4f | %.2f | %.4g |\n", name,
           n4d_sim_backend(sim), (unsigned long long)N, (double)S, t_build, t_create, o->ms,
           t_run / bio_s, (double)ns / (double)(N ? N : 1) / bio_s, events / t_run);
    n4d_sim_destroy(sim);
    if (o->compare) {
        /* bitwise check: fresh sims of both backends, compare_ms each */
        const uint64_t cs = (uint64_t)llround(o->compare_ms / dt);
        uint64_t sum[2] = {0, 0}, tot[2] = {0, 0};
        const char *bk[2] = {o->backend, o->compare};
        double wall[2];
        for (int b = 0; b < 2; b++) {
            so.backend = bk[b];
            so.record_spikes = 0;
            TRY(n4d_sim_create(m, &so, &sim), m);
            t0 = now_s();
            TRY(n4d_sim_run(sim, cs), sim);
            wall[b] = now_s() - t0;
            sum[b] = n4d_sim_checksum(sim);
            tot[b] = n4d_sim_total_spikes(sim);
            n4d_sim_destroy(sim);
        }
        bad = sum[0] != sum[1] || tot[0] != tot[1];
        printf("compare %s vs %s over %.1f ms: %s (spikes %llu vs %llu, checksums %016llx vs "
               "%016llx; %.3f s vs %.3f s)\n",
               bk[0], bk[1], o->compare_ms, bad ? "DIFFERENT" : "bitwise identical",
               (unsigned long long)tot[0], (unsigned long long)tot[1],
               (unsigned long long)sum[0], (unsigned long long)sum[1], wall[0], wall[1]);
    }
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
    return bad;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        usage();
    /* A copy of this program built in bench/ (the bench glob) finds the
     * CUDA library of the build in the directory above. */
    if (!getenv("N4D_CUDA_LIBRARY")) {
        char exe[4096];
        ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 64);
        if (len > 0) {
            exe[len] = '\0';
            char *slash = strrchr(exe, '/');
            if (slash) {
                strcpy(slash, "/libn4d_cuda.so");
                if (access(exe, F_OK) != 0) {
                    strcpy(slash, "/../libn4d_cuda.so");
                    if (access(exe, F_OK) == 0)
                        setenv("N4D_CUDA_LIBRARY", exe, 1);
                }
            }
        }
    }
    opts o;
    parse(argc, argv, &o);
    if (!strcmp(argv[1], "lif"))
        return bench_lif(&o);
    if (!strcmp(argv[1], "cuba"))
        return bench_net("cuba", make_cuba, &o);
    if (!strcmp(argv[1], "brunel"))
        return bench_net("brunel", make_brunel, &o);
    if (!strcmp(argv[1], "microcircuit"))
        return bench_net("microcircuit", make_microcircuit, &o);
    usage();
    return 2;
}
