/* The cell lifecycle benchmark (issue 11: a 4D Neural Cognition style model
 * with hebb_4dnc and the lifecycle at 1k neurons, >= 1e5 steps/s): runs a
 * config (bench/configs/nc_1k_life.json: nc_1k with the 4DNC plasticity and
 * cell_lifecycle sections) and prints one JSON line: steps, seconds,
 * steps/s, the CPU seconds of the process and steps per CPU second (on a
 * shared machine the wall time also counts the waits for a core), spikes,
 * deaths, births, checksum. The build is not timed; the run is timed after
 * a warm-up of 1000 steps.
 *
 *   build/bench/lifecycle_bench CONFIG [--steps S] [--threads T] [--backend B] */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "n4d.h"
#include "bench_util.h"

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s CONFIG [--steps S] [--threads T] [--backend B]\n", argv[0]);
        return 2;
    }
    const char *config = argv[1], *backend = "cpu-omp";
    int threads = 1;
    uint64_t steps = 100000;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--steps") == 0)
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
    n4d_context *ctx = NULL;
    CHECK_OK(n4d_context_create(NULL, &ctx), NULL);
    n4d_model *m = NULL;
    CHECK_OK(n4d_model_from_json_file(ctx, config, &m), ctx);
    n4d_sim_options o;
    n4d_sim_options_init(&o);
    o.backend = backend;
    o.num_threads = threads;
    n4d_sim *s = NULL;
    CHECK_OK(n4d_sim_create(m, &o, &s), m);
    CHECK_OK(n4d_sim_run(s, 1000), s);
    const double t0 = now_s(), c0 = cpu_s();
    CHECK_OK(n4d_sim_run(s, steps), s);
    const double sec = now_s() - t0, cpu = cpu_s() - c0;
    uint64_t deaths = 0, births = 0;
    CHECK_OK(n4d_sim_lifecycle_counts(s, &deaths, &births), s);
    printf("{\"config\": \"%s\", \"backend\": \"%s\", \"threads\": %d, \"neurons\": %" PRIu64
           ", \"synapses\": %" PRIu64 ", \"steps\": %" PRIu64 ", \"seconds\": %.4f, "
           "\"steps_per_s\": %.0f, \"cpu_s\": %.4f, \"steps_per_cpu_s\": %.0f, "
           "\"spikes\": %" PRIu64 ", \"deaths\": %" PRIu64 ", \"births\": %" PRIu64
           ", \"checksum\": \"%016" PRIx64 "\"}\n",
           config, n4d_sim_backend(s), n4d_sim_num_threads(s), n4d_model_num_neurons(m),
           n4d_model_num_synapses(m), steps, sec, (double)steps / sec, cpu, (double)steps / cpu,
           n4d_sim_total_spikes(s), deaths, births, n4d_sim_checksum(s));
    n4d_sim_destroy(s);
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
    return 0;
}
