/* n4d bench: the benchmark calls of the 4D Neural Cognition performance
 * guide as commands.
 *
 *   n4d bench scaling CONFIG [--threads 1,2,4] [--steps N | --duration MS]
 *                            [--reps R] [--seed S]
 *       benchmark_parallel_scaling: the model is built once and simulated
 *       on cpu-omp with each thread count (a fresh sim each time; the
 *       fastest of R repetitions). Prints wall and CPU time, speed-up and
 *       efficiency against the first count, and the checksum, which must be
 *       the same for every count (exit status 1 if not).
 *   n4d bench gpu [--sizes 1e3,1e4,1e5,1e6] [--iters N] [--cpu-threads T]
 *       benchmark_vs_cpu: the array LIF update of the GPU API
 *       (n4d_gpu_benchmark) on the GPU and the CPU for each size; where no
 *       GPU is usable, the CPU times alone and the reason. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { MAX_LIST = 64, MAX_THREADS = 1024 };
#define MAX_GPU_SIZE 1e8 /* neurons: about 1.4 GB of arrays per side */

/* "--name VALUE" or "--name=VALUE" at argv[*i]: 1 with *val set (and *i
 * advanced), 0 for another argument, -1 (usage error printed) when the
 * value is missing. */
static int opt_value(int argc, char **argv, int *i, const char *name, const char **val)
{
    const size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0)
        return 0;
    if (argv[*i][n] == '=') {
        *val = argv[*i] + n + 1;
        return 1;
    }
    if (argv[*i][n] != '\0')
        return 0;
    if (*i + 1 >= argc) {
        usage_error("option '%s' needs a value", name);
        return -1;
    }
    *val = argv[++*i];
    return 1;
}

/* A comma-separated list of numbers in [lo, hi]: integers, or (sizes) also
 * forms such as 1e5. Returns false (usage error printed) on a bad list. */
static bool parse_list(const char *opt, const char *s, double lo, double hi, bool exp_ok,
                       uint64_t *out, size_t *n)
{
    *n = 0;
    const char *p = s;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char item[32];
        double x = 0;
        uint64_t u = 0;
        bool ok = len > 0 && len < sizeof item;
        if (ok) {
            memcpy(item, p, len);
            item[len] = '\0';
            if (exp_ok)
                ok = parse_double(item, &x) && x == floor(x);
            else if ((ok = parse_u64(item, &u)))
                x = (double)u;
        }
        if (!ok || x < lo || x > hi || *n == MAX_LIST) {
            usage_error("%s: expected a comma-separated list of up to %d integers in "
                        "[%.0f, %.0f]%s, got '%s'",
                        opt, MAX_LIST, lo, hi, exp_ok ? " (1e5 style allowed)" : "", s);
            return false;
        }
        out[(*n)++] = (uint64_t)x;
        if (!end)
            return true;
        p = end + 1;
    }
}

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- n4d bench scaling ------------------------------------------------------ */

static int bench_scaling(int argc, char **argv)
{
    run_opts o;
    memset(&o, 0, sizeof o);
    o.is_run = true;
    uint64_t threads[MAX_LIST] = {1, 2, 4};
    size_t n_threads = 3;
    uint64_t reps = 1;
    for (int i = 0; i < argc; i++) {
        const char *v = NULL;
        int r;
        if ((r = opt_value(argc, argv, &i, "--threads", &v)) != 0) {
            if (r < 0 || !parse_list("--threads", v, 1, MAX_THREADS, false, threads, &n_threads))
                return EXIT_USAGE;
        } else if ((r = opt_value(argc, argv, &i, "--steps", &v)) != 0) {
            if (r < 0)
                return EXIT_USAGE;
            if (!parse_u64(v, &o.steps) || o.steps == 0)
                return usage_error("--steps: expected an integer >= 1, got '%s'", v);
            o.have_steps = true;
        } else if ((r = opt_value(argc, argv, &i, "--duration", &v)) != 0) {
            if (r < 0)
                return EXIT_USAGE;
            if (!parse_double(v, &o.duration) || !(o.duration > 0))
                return usage_error("--duration: expected a number of ms > 0, got '%s'", v);
            o.have_duration = true;
        } else if ((r = opt_value(argc, argv, &i, "--reps", &v)) != 0) {
            if (r < 0)
                return EXIT_USAGE;
            if (!parse_u64(v, &reps) || reps == 0 || reps > 1000)
                return usage_error("--reps: expected an integer in [1, 1000], got '%s'", v);
        } else if ((r = opt_value(argc, argv, &i, "--seed", &v)) != 0) {
            if (r < 0)
                return EXIT_USAGE;
            if (!parse_u64(v, &o.seed))
                return usage_error("--seed: expected an integer >= 0, got '%s'", v);
            o.have_seed = true;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return usage_error("unknown option '%s' for 'n4d bench scaling' (expected --threads, "
                               "--steps, --duration, --reps or --seed)",
                               argv[i]);
        } else if (o.config) {
            return usage_error("unexpected argument '%s' (one CONFIG only)", argv[i]);
        } else {
            o.config = argv[i];
        }
    }
    if (!o.config)
        return usage_error("missing CONFIG (n4d bench scaling CONFIG [--threads 1,2,4])");
    if (o.have_steps && o.have_duration)
        return usage_error("--steps and --duration cannot be combined");

    cli_log lg = {false};
    n4d_context *ctx = NULL;
    n4d_model *m = NULL;
    int rc = load_model(&o, &lg, &ctx, &m);
    if (rc != EXIT_OK)
        return rc;
    const double t0 = now_s();
    if ((rc = build_model(m)) != EXIT_OK)
        goto done;
    const double build_s = now_s() - t0;
    const double dt = n4d_model_dt(m);
    uint64_t steps = o.steps;
    if (!o.have_steps) {
        double dur = o.have_duration ? o.duration : n4d_model_default_duration(m);
        if (!(dur > 0))
            dur = DEFAULT_DURATION_MS;
        const double s = floor(dur / dt + 0.5);
        if (s > 1e18) {
            errorf("duration %g ms is too long for dt %g ms", dur, dt);
            rc = EXIT_USAGE;
            goto done;
        }
        steps = s < 1 ? 1 : (uint64_t)s;
    }

    double load[3] = {-1, -1, -1};
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3)
            load[0] = -1;
        fclose(f);
    }
    const char *wait = getenv("OMP_WAIT_POLICY");
    printf("config:       %s\n", o.config);
    printf("model:        %llu neurons, %llu synapses (built in %.3f s)\n",
           (unsigned long long)n4d_model_num_neurons(m),
           (unsigned long long)n4d_model_num_synapses(m), build_s);
    printf("run:          %llu steps (%g ms), cpu-omp, best of %llu\n",
           (unsigned long long)steps, (double)steps * dt, (unsigned long long)reps);
    printf("machine:      %ld cores online", sysconf(_SC_NPROCESSORS_ONLN));
    if (load[0] >= 0)
        printf(", load average %.2f", load[0]);
    printf(", OMP_WAIT_POLICY %s\n\n", wait ? wait : "unset");
    printf("%8s %12s %12s %9s %11s  %s\n", "threads", "time (s)", "CPU (s)", "speed-up",
           "efficiency", "checksum");

    /* an untimed warm-up with the most threads: the OpenMP pool starts and
     * the model's pages are touched before the first timed run, which would
     * otherwise pay for both */
    {
        uint64_t most = 0;
        for (size_t k = 0; k < n_threads; k++)
            most = threads[k] > most ? threads[k] : most;
        n4d_sim_options so;
        n4d_sim_options_init(&so);
        so.backend = "cpu-omp";
        so.num_threads = (int32_t)most;
        so.record_spikes = 0;
        n4d_sim *sim = NULL;
        n4d_status st = n4d_sim_create(m, &so, &sim);
        if (st == N4D_OK)
            st = n4d_sim_run(sim, steps < 1000 ? steps : 1000);
        if (st != N4D_OK) {
            library_error(sim ? (const void *)sim : (const void *)m, st, "warm-up run");
            n4d_sim_destroy(sim);
            rc = EXIT_RUNTIME;
            goto done;
        }
        n4d_sim_destroy(sim);
    }

    double base = 0;
    uint64_t first_sum = 0;
    bool same = true, fewer = false;
    for (size_t k = 0; k < n_threads; k++) {
        double best = INFINITY, best_cpu = 0;
        uint64_t sum = 0;
        int32_t used = 0;
        for (uint64_t r = 0; r < reps; r++) {
            n4d_sim_options so;
            n4d_sim_options_init(&so);
            so.backend = "cpu-omp";
            so.num_threads = (int32_t)threads[k];
            so.record_spikes = 0;
            if (o.have_seed)
                so.seed = o.seed;
            n4d_sim *sim = NULL;
            n4d_status st = n4d_sim_create(m, &so, &sim);
            if (st != N4D_OK) {
                library_error(m, st, "simulation");
                rc = EXIT_RUNTIME;
                goto done;
            }
            const double w0 = now_s(), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
            st = n4d_sim_run(sim, steps);
            const double w = now_s() - w0, c = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
            if (st != N4D_OK) {
                library_error(sim, st, "run");
                n4d_sim_destroy(sim);
                rc = EXIT_RUNTIME;
                goto done;
            }
            if (w < best) {
                best = w;
                best_cpu = c;
            }
            sum = n4d_sim_checksum(sim);
            used = n4d_sim_num_threads(sim);
            n4d_sim_destroy(sim);
        }
        if (k == 0) {
            base = best;
            first_sum = sum;
        }
        same = same && sum == first_sum;
        const double speedup = best > 0 ? base / best : 0;
        const double eff = speedup * (double)threads[0] / (double)threads[k];
        char tl[32];
        snprintf(tl, sizeof tl, "%llu%s", (unsigned long long)threads[k],
                 (uint64_t)used != threads[k] ? "*" : "");
        fewer = fewer || (uint64_t)used != threads[k];
        printf("%8s %12.4f %12.4f %8.2fx %10.1f%%  %016llx\n", tl, best, best_cpu, speedup,
               100 * eff, (unsigned long long)sum);
    }
    if (fewer)
        printf("\n* cpu-omp ran fewer threads than asked (a partitioned layout uses at most one "
               "thread per partition; a build without OpenMP runs one)\n");
    printf("\nspeed-up: the time of the first count (%llu) / the time; efficiency: speed-up x "
           "%llu / threads;\nCPU: the process's CPU time during the run (all threads)\n",
           (unsigned long long)threads[0], (unsigned long long)threads[0]);
    if (!same) {
        errorf("the checksums differ between thread counts: the simulation is not "
               "deterministic here (please report it)");
        rc = EXIT_RUNTIME;
        goto done;
    }
    printf("checksums:    equal for every thread count\n");

done:
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
    return rc;
}

/* ---- n4d bench gpu ---------------------------------------------------------- */

static int bench_gpu(int argc, char **argv)
{
    uint64_t sizes[MAX_LIST] = {1000, 10000, 100000, 1000000};
    size_t n_sizes = 4;
    uint64_t iters = 100, cpu_threads = 1;
    for (int i = 0; i < argc; i++) {
        const char *v = NULL;
        int r;
        if ((r = opt_value(argc, argv, &i, "--sizes", &v)) != 0) {
            if (r < 0 || !parse_list("--sizes", v, 1, MAX_GPU_SIZE, true, sizes, &n_sizes))
                return EXIT_USAGE;
        } else if ((r = opt_value(argc, argv, &i, "--iters", &v)) != 0) {
            if (r < 0)
                return EXIT_USAGE;
            if (!parse_u64(v, &iters) || iters == 0 || iters > 1000000)
                return usage_error("--iters: expected an integer in [1, 1000000], got '%s'", v);
        } else if ((r = opt_value(argc, argv, &i, "--cpu-threads", &v)) != 0) {
            if (r < 0)
                return EXIT_USAGE;
            if (!parse_u64(v, &cpu_threads) || cpu_threads == 0 || cpu_threads > MAX_THREADS)
                return usage_error("--cpu-threads: expected an integer in [1, %d], got '%s'",
                                   MAX_THREADS, v);
        } else {
            return usage_error("unexpected argument '%s' for 'n4d bench gpu' (expected --sizes, "
                               "--iters or --cpu-threads)",
                               argv[i]);
        }
    }

    cli_log lg = {false};
    n4d_context *ctx = NULL;
    n4d_gpu *gpu = NULL;
    int rc = make_context(&lg, 0, &ctx);
    if (rc != EXIT_OK)
        return rc;
    n4d_status st = n4d_gpu_create(ctx, NULL, &gpu); /* the GPU if usable, else the CPU */
    if (st != N4D_OK) {
        library_error(ctx, st, "GPU handle");
        rc = EXIT_RUNTIME;
        goto done;
    }
    double cpu[MAX_LIST], g[MAX_LIST], gt[MAX_LIST], sp[MAX_LIST], spt[MAX_LIST];
    n4d_gpu_benchmark_options bo;
    n4d_gpu_benchmark_options_init(&bo);
    bo.sizes = sizes;
    bo.n_sizes = n_sizes;
    bo.iterations = (uint32_t)iters;
    bo.cpu_threads = (int32_t)cpu_threads;
    n4d_gpu_benchmark_result br;
    memset(&br, 0, sizeof br);
    br.struct_size = sizeof br;
    br.cpu_seconds = cpu;
    br.gpu_seconds = g;
    br.gpu_seconds_with_transfers = gt;
    br.speedups = sp;
    br.speedups_with_transfers = spt;
    if ((st = n4d_gpu_benchmark(gpu, &bo, &br)) != N4D_OK) {
        library_error(gpu, st, "benchmark");
        rc = st == N4D_E_NOMEM ? EXIT_RUNTIME : EXIT_USAGE;
        goto done;
    }
    printf("operation:    vectorised LIF update (n4d_gpu_lif_update), %llu iterations per size, "
           "CPU path on %llu thread%s\n",
           (unsigned long long)iters, (unsigned long long)cpu_threads, cpu_threads > 1 ? "s" : "");
    if (br.gpu_available) {
        printf("device:       %s\n\n", br.device);
        printf("%12s %12s %12s %16s %9s %16s\n", "neurons", "CPU (ms)", "GPU (ms)",
               "GPU+copy (ms)", "speed-up", "with copies");
        for (size_t k = 0; k < n_sizes; k++)
            printf("%12llu %12.4f %12.4f %16.4f %8.2fx %15.2fx\n", (unsigned long long)sizes[k],
                   cpu[k] * 1e3, g[k] * 1e3, gt[k] * 1e3, sp[k], spt[k]);
        printf("\nGPU results bitwise equal to the CPU's: %s\n",
               br.results_match == 1 ? "yes" : "NO");
        if (br.results_match != 1) {
            errorf("the GPU's LIF update differs from the CPU's (please report it)");
            rc = EXIT_RUNTIME;
        }
    } else {
        printf("device:       none, CPU times only\nreason:       %s\n\n",
               br.note[0] ? br.note : "no usable GPU");
        printf("%12s %12s %14s\n", "neurons", "CPU (ms)", "ns per neuron");
        for (size_t k = 0; k < n_sizes; k++)
            printf("%12llu %12.4f %14.3f\n", (unsigned long long)sizes[k], cpu[k] * 1e3,
                   cpu[k] * 1e9 / (double)sizes[k]);
    }

done:
    n4d_gpu_destroy(gpu);
    n4d_context_destroy(ctx);
    return rc;
}

int cmd_bench(int argc, char **argv)
{
    if (argc < 1)
        return usage_error("missing benchmark: n4d bench scaling CONFIG [...] or n4d bench gpu "
                           "[...]");
    if (strcmp(argv[0], "scaling") == 0)
        return bench_scaling(argc - 1, argv + 1);
    if (strcmp(argv[0], "gpu") == 0)
        return bench_gpu(argc - 1, argv + 1);
    return usage_error("unknown benchmark '%s' (expected scaling or gpu)", argv[0]);
}
