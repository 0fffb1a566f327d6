/* profilers.c — the memory and performance profilers, and memory optimisation.
 *
 * The guide's MemoryProfiler (snapshots, comparisons, a report),
 * optimize_model_memory and PerformanceProfiler (named sections with calls
 * and mean times), as n4d provides them (include/n4d/profile.h). Every byte
 * n4d allocates carries a tag (neurons, synapses, delay buffers, recording,
 * ...), so a snapshot gives real bytes per component, not an estimate.
 *
 * This program loads a config (default examples/configs/cuba.json) and:
 *   1. takes memory snapshots as the model is described, built, simulated;
 *      prints the report and the bytes per synapse;
 *   2. optimises memory before the build (Z-order layout) and after a run
 *      (spike recording buffers cut to size, spike-history window released,
 *      compression enabled), printing what each did and the bytes saved;
 *   3. times 100 single steps in a section of its own, then a longer run,
 *      and prints the profiler's table (update, delivery, exchange, ...).
 *
 * Exit status 0 when the figures are consistent: the synapses take at least
 * 8 bytes each, the optimisation after the run saved bytes, the section of
 * its own counted 100 calls and the neuron update was timed (ctest
 * `example_profilers`).
 *
 * Build: part of the n4d build (target `profilers`), or
 *   cc examples/profilers.c -I include -L build/src -Wl,-rpath,build/src -ln4d -o profilers */
#include <n4d.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define CHECK(call, handle)                                                              \
    do {                                                                                 \
        n4d_status st_ = (call);                                                         \
        if (st_ != N4D_OK) {                                                             \
            fprintf(stderr, "profilers: %s failed: %s (%s)\n", #call,                   \
                    n4d_status_string(st_), n4d_last_error(handle));                     \
            goto fail;                                                                   \
        }                                                                                \
    } while (0)

enum { SNAPS = 4, SINGLE = 100, RUN = 2000 };

static void print_optimization(const char *what, const n4d_memory_optimization *r)
{
    printf("%s: %.3f MiB -> %.3f MiB (saved %" PRId64 " bytes)\n  %s\n", what,
           (double)r->initial_bytes / (1 << 20), (double)r->final_bytes / (1 << 20),
           r->bytes_saved, r->description);
}

int main(int argc, char **argv)
{
    const char *config = argc > 1 ? argv[1] : "examples/configs/cuba.json";
    n4d_context *ctx = NULL;
    n4d_model *model = NULL;
    n4d_sim *sim = NULL;
    int rc = 1;
    n4d_mem_snapshot snap[SNAPS];
    memset(snap, 0, sizeof snap);
    for (int i = 0; i < SNAPS; i++)
        snap[i].struct_size = sizeof snap[i];

    CHECK(n4d_context_create(NULL, &ctx), NULL);
    CHECK(n4d_model_from_json_file(ctx, config, &model), ctx);
    CHECK(n4d_memory_snapshot(ctx, "described", &snap[0]), ctx);

    /* optimize_model_memory(enable_cache_optimization=True): before the
     * build, the Z-order layout (it saves no bytes; it makes delivery touch
     * fewer pages) and the description arrays cut to size. */
    n4d_memory_optimization opt;
    memset(&opt, 0, sizeof opt);
    opt.struct_size = sizeof opt;
    CHECK(n4d_optimize_memory(model, N4D_OPTIMIZE_ZORDER | N4D_OPTIMIZE_SHRINK, &opt), model);
    print_optimization("model, before the build", &opt);

    CHECK(n4d_model_build(model), model);
    CHECK(n4d_memory_snapshot(ctx, "built", &snap[1]), ctx);
    CHECK(n4d_sim_create(model, NULL, &sim), model);
    CHECK(n4d_memory_snapshot(ctx, "sim", &snap[2]), ctx);

    /* PerformanceProfiler: the built-in sections, plus one of our own
     * around single steps (profiler.start / stop). */
    CHECK(n4d_sim_profile_enable(sim, 1), sim);
    for (int i = 0; i < SINGLE; i++) {
        CHECK(n4d_sim_profile_start(sim, "simulation_step"), sim);
        CHECK(n4d_sim_step(sim), sim);
        CHECK(n4d_sim_profile_stop(sim, "simulation_step"), sim);
    }
    CHECK(n4d_sim_run(sim, RUN), sim);
    CHECK(n4d_memory_snapshot(ctx, "after run", &snap[3]), ctx);

    /* 1. The memory report: one column per snapshot, MiB per component. */
    char text[4096];
    CHECK(n4d_memory_report(snap, SNAPS, text, sizeof text, NULL), NULL);
    printf("\nmemory (MiB):\n%s", text);
    n4d_mem_diff diff;
    memset(&diff, 0, sizeof diff);
    diff.struct_size = sizeof diff;
    CHECK(n4d_memory_diff(&snap[0], &snap[1], &diff), NULL);
    const uint64_t nsyn = n4d_model_num_synapses(model);
    const double per_syn = nsyn ? (double)diff.bytes[N4D_MEM_SYNAPSES] / (double)nsyn : 0;
    printf("the build added %.2f MiB, %.2f bytes per synapse for the synapses; peak %.2f MiB\n",
           (double)diff.total / (1 << 20), per_syn, (double)snap[3].peak_total / (1 << 20));

    /* 2. After the run: recording buffers to size, the history window
     * released, compression on (its savings come as the sim runs on). */
    memset(&opt, 0, sizeof opt);
    opt.struct_size = sizeof opt;
    CHECK(n4d_sim_optimize_memory(sim, N4D_OPTIMIZE_SHRINK | N4D_OPTIMIZE_HISTORY |
                                           N4D_OPTIMIZE_COMPRESS,
                                  &opt),
          sim);
    printf("\n");
    print_optimization("simulation, after the run", &opt);

    /* 3. The profile: get_results() as a table, then the caller's section. */
    CHECK(n4d_sim_profile_report(sim, text, sizeof text, NULL), sim);
    printf("\nprofile of %d single steps and a run of %d (backend %s, threads: %d):\n%s", SINGLE, RUN,
           n4d_sim_backend(sim), (int)n4d_sim_num_threads(sim), text);
    n4d_profile_entry e[N4D_PROFILE_BUILTIN_COUNT + 4];
    size_t count = 0;
    CHECK(n4d_sim_profile_get(sim, e, sizeof e / sizeof e[0], &count), sim);
    uint64_t own_calls = 0, update_calls = 0;
    for (size_t k = 0; k < count && k < sizeof e / sizeof e[0]; k++) {
        if (strcmp(e[k].name, "simulation_step") == 0) {
            own_calls = e[k].calls;
            printf("%s: %.3f ms avg (%" PRIu64 " calls)\n", e[k].name, e[k].mean_s * 1e3,
                   e[k].calls);
        }
        if (k == N4D_PROFILE_UPDATE)
            update_calls = e[k].calls;
    }
    if (per_syn < 8.0 || opt.bytes_saved <= 0 || own_calls != SINGLE || update_calls == 0) {
        fprintf(stderr, "profilers: inconsistent figures\n");
        goto fail;
    }
    rc = 0;

fail:
    n4d_sim_destroy(sim);
    n4d_model_destroy(model);
    n4d_context_destroy(ctx);
    return rc;
}
