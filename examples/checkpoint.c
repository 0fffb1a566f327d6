/* checkpoint.c — checkpoint a simulation and resume it, bit for bit.
 *
 * n4d_sim_checkpoint saves the model and the whole state of a simulation
 * (neuron state, pending synaptic input in the delay buffers, step counter,
 * checksum, recorded spikes, seed, backend options, plastic state) to HDF5;
 * n4d_sim_resume makes a new model and simulation from it. The resumed run
 * gives the spikes, states and checksum of one uninterrupted run, on any
 * thread count.
 *
 * This program runs a config (default examples/configs/cuba.json) for
 * 2 x HALF steps without a break; then runs HALF steps, checkpoints, throws
 * the simulation away, resumes from the file (on 2 threads) and runs HALF
 * more.
 *
 * Exit status 0 when the resumed run's checksum, spike count and final V
 * equal the uninterrupted run's, 1 otherwise (ctest `example_checkpoint`,
 * built when the HDF5 module is).
 *
 * Usage: checkpoint [CONFIG [FILE.h5]] (default FILE: n4d_example_checkpoint.h5
 * in the current directory; removed at the end).
 *
 * Build: part of the n4d build (target `checkpoint`), or
 *   cc examples/checkpoint.c -I include -L build/src -Wl,-rpath,build/src -ln4d -o checkpoint */
#include <n4d.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(call, handle)                                                              \
    do {                                                                                 \
        n4d_status st_ = (call);                                                         \
        if (st_ != N4D_OK) {                                                             \
            fprintf(stderr, "checkpoint: %s failed: %s (%s)\n", #call,                  \
                    n4d_status_string(st_), n4d_last_error(handle));                     \
            goto fail;                                                                   \
        }                                                                                \
    } while (0)

enum { HALF = 1000 };

int main(int argc, char **argv)
{
    const char *config = argc > 1 ? argv[1] : "examples/configs/cuba.json";
    const char *path = argc > 2 ? argv[2] : "n4d_example_checkpoint.h5";
    n4d_context *ctx = NULL;
    n4d_model *model = NULL, *model2 = NULL;
    n4d_sim *sim = NULL, *sim2 = NULL;
    float *v_one = NULL, *v_res = NULL;
    int rc = 1;

    if (!n4d_has_feature(N4D_FEATURE_HDF5)) {
        printf("checkpoint: this n4d was built without HDF5\n");
        return 77; /* ctest's skip code */
    }
    CHECK(n4d_context_create(NULL, &ctx), NULL);
    CHECK(n4d_model_from_json_file(ctx, config, &model), ctx);
    CHECK(n4d_model_build(model), model);
    const uint64_t n = n4d_model_num_neurons(model);
    v_one = malloc(n * sizeof *v_one);
    v_res = malloc(n * sizeof *v_res);
    if (!v_one || !v_res)
        goto fail;

    /* The uninterrupted run, on one thread. */
    n4d_sim_options so;
    n4d_sim_options_init(&so);
    so.backend = "cpu-omp";
    so.num_threads = 1;
    CHECK(n4d_sim_create(model, &so, &sim), model);
    CHECK(n4d_sim_run(sim, 2 * HALF), sim);
    const uint64_t c_one = n4d_sim_checksum(sim), s_one = n4d_sim_total_spikes(sim);
    CHECK(n4d_sim_get_state(sim, "v", v_one, n), sim);
    printf("uninterrupted: %d steps, %" PRIu64 " spikes, checksum %016" PRIx64 "\n", 2 * HALF,
           s_one, c_one);
    n4d_sim_destroy(sim);
    sim = NULL;

    /* Half the run, then the checkpoint. */
    CHECK(n4d_sim_create(model, &so, &sim), model);
    CHECK(n4d_sim_run(sim, HALF), sim);
    CHECK(n4d_sim_checkpoint(sim, path, NULL), sim);
    printf("checkpoint:    step %" PRIu64 ", %" PRIu64 " spikes so far -> %s\n",
           n4d_sim_current_step(sim), n4d_sim_total_spikes(sim), path);
    n4d_sim_destroy(sim);
    sim = NULL;

    /* Resume: a new model and sim from the file alone, here on 2 threads
     * (backend and threads default to the saved ones). */
    n4d_resume_options ro;
    n4d_resume_options_init(&ro);
    ro.num_threads = 2;
    CHECK(n4d_sim_resume(ctx, path, &ro, &model2, &sim2), ctx);
    printf("resumed:       step %" PRIu64 " on %s (%d threads)\n", n4d_sim_current_step(sim2),
           n4d_sim_backend(sim2), (int)n4d_sim_num_threads(sim2));
    CHECK(n4d_sim_run(sim2, HALF), sim2);
    const uint64_t c_res = n4d_sim_checksum(sim2), s_res = n4d_sim_total_spikes(sim2);
    CHECK(n4d_sim_get_state(sim2, "v", v_res, n), sim2);
    const int same_v = memcmp(v_one, v_res, n * sizeof *v_one) == 0;
    printf("resumed run:   %" PRIu64 " steps, %" PRIu64 " spikes, checksum %016" PRIx64
           ", final V %s\n",
           n4d_sim_current_step(sim2), s_res, c_res,
           same_v ? "bitwise equal" : "DIFFERS");
    if (c_res != c_one || s_res != s_one || !same_v) {
        fprintf(stderr, "checkpoint: the resumed run differs from the uninterrupted one\n");
        goto fail;
    }
    printf("the resumed run equals the uninterrupted one\n");
    rc = 0;

fail:
    free(v_one);
    free(v_res);
    n4d_sim_destroy(sim2);
    n4d_model_destroy(model2);
    n4d_sim_destroy(sim);
    n4d_model_destroy(model);
    n4d_context_destroy(ctx);
    remove(path);
    return rc;
}
