/* Cost of the spike-time and current inputs (n4d_input_kind spikes,
 * step_current, ac, noise) per neuron and step: N lif_exp neurons (no
 * synapses, threshold out of reach: only the update and the input run),
 * timed without input and with one input of each kind on every neuron (and
 * noise on half of them, through `neurons`); spikes at 10 Hz per neuron.
 * Prints one JSON line per case: ns per neuron-step, and the extra over the
 * case without input. The build and a warm-up of 100 steps are not timed;
 * each case takes the best of 3 runs.
 *
 *   build/bench/inputs_bench [--neurons N] [--steps S] [--threads T] [--backend B] */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "n4d.h"
#include "bench_util.h"

enum { NONE, SPIKES, STEP, AC, NOISE, NOISE_HALF, CASES };
static const char *const NAMES[CASES] = {"none", "spikes_10Hz", "step_current", "ac", "noise",
                                         "noise_half"};

static double run_case(int c, uint32_t n, uint64_t steps, int threads, const char *backend)
{
    n4d_context *ctx = NULL;
    n4d_model *m = NULL;
    CHECK_OK(n4d_context_create(NULL, &ctx), ctx);
    CHECK_OK(n4d_model_create(ctx, &m), ctx);
    const uint32_t shape[4] = {n, 1, 1, 1};
    const int32_t lo[4] = {0, 0, 0, 0}, hi[4] = {(int32_t)n - 1, 0, 0, 0};
    CHECK_OK(n4d_model_set_lattice(m, shape), m);
    CHECK_OK(n4d_model_add_area(m, "a", lo, hi), m);
    n4d_population_desc pd;
    n4d_population_desc_init(&pd);
    pd.name = "p";
    pd.area = "a";
    pd.model_name = "lif_exp";
    CHECK_OK(n4d_model_add_population(m, &pd, NULL), m);
    CHECK_OK(n4d_model_set_population_param(m, "p", "v_threshold", 1e9), m);
    n4d_input_desc in;
    n4d_input_desc_init(&in);
    in.target = "p";
    double *times = NULL;
    uint32_t *idx = NULL;
    const double dur = (double)(steps + 100) * 0.1;
    const uint64_t per = (uint64_t)(10.0 * dur * 1e-3) + 1; /* 10 Hz */
    switch (c) {
    case SPIKES:
        in.kind = N4D_INPUT_SPIKES;
        times = malloc((size_t)n * per * sizeof *times);
        idx = malloc((size_t)n * per * sizeof *idx);
        if (!times || !idx)
            return -1;
        for (uint64_t k = 0; k < (uint64_t)n * per; k++) {
            idx[k] = (uint32_t)(k % n);
            times[k] = fmod((double)k * 0.6180339887 * 7.0, dur);
        }
        in.times = times;
        in.indices = idx;
        in.n_times = (uint64_t)n * per;
        in.weight = 0.5;
        break;
    case STEP: {
        static const double t[] = {0.0, 5.0, 20.0}, v[] = {1.0, 2.0, 0.5};
        in.kind = N4D_INPUT_STEP_CURRENT;
        in.times = t;
        in.values = v;
        in.n_times = 3;
        break;
    }
    case AC:
        in.kind = N4D_INPUT_AC;
        in.amplitude = 2.0;
        in.frequency = 10.0;
        break;
    case NOISE:
    case NOISE_HALF:
        in.kind = N4D_INPUT_NOISE;
        in.std = 1.0;
        if (c == NOISE_HALF) {
            idx = malloc((size_t)n / 2 * sizeof *idx);
            if (!idx)
                return -1;
            for (uint32_t k = 0; k < n / 2; k++)
                idx[k] = 2 * k;
            in.neurons = idx;
            in.n_neurons = n / 2;
        }
        break;
    default:
        break;
    }
    if (c != NONE)
        CHECK_OK(n4d_model_add_input(m, &in), m);
    free(times);
    free(idx);
    CHECK_OK(n4d_model_build(m), m);
    n4d_sim_options o;
    n4d_sim_options_init(&o);
    o.backend = backend;
    o.num_threads = threads;
    double best = INFINITY;
    for (int rep = 0; rep < 3; rep++) {
        n4d_sim *sim = NULL;
        CHECK_OK(n4d_sim_create(m, &o, &sim), m);
        CHECK_OK(n4d_sim_run(sim, 100), sim);
        const double t0 = now_s();
        CHECK_OK(n4d_sim_run(sim, steps), sim);
        const double t = now_s() - t0;
        best = t < best ? t : best;
        n4d_sim_destroy(sim);
    }
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
    return best * 1e9 / ((double)n * (double)steps);
}

int main(int argc, char **argv)
{
    uint32_t n = 100000;
    uint64_t steps = 1000;
    int threads = 1;
    const char *backend = "cpu-omp";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--neurons") == 0)
            n = (uint32_t)strtoul(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--steps") == 0)
            steps = strtoull(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--threads") == 0)
            threads = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--backend") == 0)
            backend = argv[i + 1];
        else {
            fprintf(stderr, "unknown option %s\n", argv[i]);
            return 2;
        }
    }
    double base = 0.0;
    for (int c = 0; c < CASES; c++) {
        const double ns = run_case(c, n, steps, threads, backend);
        if (ns < 0)
            return 1;
        if (c == NONE)
            base = ns;
        printf("{\"input\": \"%s\", \"neurons\": %u, \"steps\": %" PRIu64
               ", \"threads\": %d, \"backend\": \"%s\", \"ns_per_neuron_step\": %.3f, "
               "\"extra_ns\": %.3f}\n",
               NAMES[c], n, steps, threads, backend, ns, ns - base);
        fflush(stdout);
    }
    return 0;
}
