/* Several sims on one built model, from several threads at once: the model
 * is immutable (docs/architecture.md, "Model and overlays"), so each sim's
 * spike train equals the same sim run alone. Built and run under
 * ThreadSanitizer in CI (N4D_TSAN, scripts/test.sh --tsan), where any data
 * race on the shared model fails the test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "n4d.h"
#include "test_util.h"

#define THREADS 4
#define STEPS 300

/* A small network with recurrent excitation and inhibition, DC drive,
 * Poisson input and a sense, so every code path of a run is taken, and a
 * quiet population Q (lif at rest, no input) that compression takes. */
static const char MODEL_JSON[] =
    "{\"dt\": 0.1, \"seed\": 7, \"lattice_shape\": [16, 16, 12, 2],"
    " \"areas\": [{\"name\": \"ctx\", \"coord_ranges\": {\"x\": [0, 15], \"y\": [0, 15],"
    "   \"z\": [0, 3], \"w\": [0, 0]}},"
    "  {\"name\": \"v1\", \"coord_ranges\": {\"x\": [0, 15], \"y\": [0, 15], \"z\": [0, 3],"
    "   \"w\": [1, 1]}},"
    "  {\"name\": \"quiet\", \"coord_ranges\": {\"x\": [0, 15], \"y\": [0, 15], \"z\": [4, 11],"
    "   \"w\": [0, 0]}}],"
    " \"neuron_model\": {\"type\": \"lif_exp\", \"params_default\": {\"v_rest\": -60.0}},"
    " \"populations\": [{\"name\": \"E\", \"area\": \"ctx\", \"count\": 800},"
    "  {\"name\": \"I\", \"area\": \"ctx\", \"count\": 200},"
    "  {\"name\": \"V\", \"area\": \"v1\"},"
    "  {\"name\": \"Q\", \"area\": \"quiet\", \"model\": \"lif\"}],"
    " \"senses\": {\"eye\": {\"areal\": \"v1\", \"input_size\": [16, 16]}},"
    " \"projections\": ["
    "  {\"source\": \"E\", \"target\": \"E\", \"rule\": \"fixed_probability\", \"p\": 0.05,"
    "   \"weight\": 2.0, \"delay\": 0.5, \"type\": \"excitatory\"},"
    "  {\"source\": \"E\", \"target\": \"I\", \"rule\": \"fixed_probability\", \"p\": 0.05,"
    "   \"weight\": 2.0, \"delay\": 0.3, \"type\": \"excitatory\"},"
    "  {\"source\": \"I\", \"target\": \"E\", \"rule\": \"fixed_probability\", \"p\": 0.1,"
    "   \"weight\": -8.0, \"delay\": 0.2, \"type\": \"inhibitory\"},"
    "  {\"source\": \"V\", \"target\": \"E\", \"rule\": \"fixed_indegree\", \"indegree\": 4,"
    "   \"weight\": 3.0, \"delay\": 1.0, \"type\": \"excitatory\"}],"
    " \"inputs\": [{\"type\": \"poisson\", \"target\": \"E\", \"rate\": 900.0, \"weight\": 2.5,"
    "   \"n_sources\": 2}, {\"type\": \"dc\", \"target\": \"I\", \"amplitude\": 5.0}]}";

typedef struct job {
    n4d_model *model;
    const char *backend;
    uint64_t seed;
    int compress;
    uint64_t checksum, spikes, compressions;
    n4d_status status;
    char error[256];
} job;

/* One sim from creation to destruction, as a user thread would run it. */
static void *run_job(void *arg)
{
    job *j = arg;
    n4d_sim_options o;
    n4d_sim_options_init(&o);
    o.backend = j->backend;
    o.num_threads = 2; /* cpu-omp: a block may be shared by two threads */
    o.seed = j->seed;
    n4d_sim *sim = NULL;
    j->status = n4d_sim_create(j->model, &o, &sim);
    if (j->status) {
        snprintf(j->error, sizeof j->error, "sim_create: %s", n4d_last_error(j->model));
        return NULL;
    }
    if (j->compress) {
        n4d_compress_options co;
        n4d_compress_options_init(&co);
        co.threshold_steps = 20;
        co.check_every = 10;
        j->status = n4d_sim_compression_enable(sim, &co);
    }
    float eye[16 * 16];
    for (int i = 0; i < 16 * 16; i++)
        eye[i] = (float)((i * 7 + (int)j->seed) % 11);
    for (int k = 0; k < 3 && !j->status; k++) {
        j->status = n4d_sim_feed_sense(sim, "eye", eye, 16, 16, (uint32_t)k);
        if (!j->status)
            j->status = n4d_sim_run(sim, STEPS / 3);
    }
    if (j->status)
        snprintf(j->error, sizeof j->error, "run: %s", n4d_last_error(sim));
    if (j->compress) {
        n4d_compress_stats cs = {.struct_size = sizeof cs};
        n4d_sim_compression_stats(sim, &cs);
        j->compressions = cs.compressions;
    }
    j->checksum = n4d_sim_checksum(sim);
    j->spikes = n4d_sim_total_spikes(sim);
    n4d_sim_destroy(sim);
    return NULL;
}

/* The model, built: shared from here on, never written again. */
static n4d_model *shared_model(n4d_context **ctx)
{
    ASSERT_OK(n4d_context_create(NULL, ctx), NULL);
    n4d_model *m = NULL;
    ASSERT_OK(n4d_model_from_json_string(*ctx, MODEL_JSON, sizeof MODEL_JSON - 1, "concurrent", &m),
              *ctx);
    ASSERT_OK(n4d_model_build(m), m);
    return m;
}

static void test_sims_share_a_model(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    n4d_model *m = shared_model(&ctx);

    job jobs[THREADS * 2];
    const char *backends[] = {"cpu-ref", "cpu-omp"};
    for (int k = 0; k < THREADS * 2; k++) {
        memset(&jobs[k], 0, sizeof jobs[k]);
        jobs[k].model = m;
        jobs[k].backend = backends[k % 2];
        jobs[k].seed = 1 + (uint64_t)(k / 2) % 3; /* equal seeds on both backends */
        jobs[k].compress = k % 4 == 1;           /* some cpu-omp sims compress */
    }
    /* alone, one after the other */
    job alone[THREADS * 2];
    memcpy(alone, jobs, sizeof jobs);
    for (int k = 0; k < THREADS * 2; k++) {
        run_job(&alone[k]);
        if (alone[k].status)
            fail_msg("alone %d (%s): %s", k, alone[k].backend, alone[k].error);
        assert_true(alone[k].spikes > 100);
        if (alone[k].compress)
            assert_true(alone[k].compressions > 0);
    }
    /* together: THREADS threads at a time, all on the one model */
    for (int wave = 0; wave < 2; wave++) {
        pthread_t t[THREADS];
        for (int k = 0; k < THREADS; k++)
            assert_int_equal(pthread_create(&t[k], NULL, run_job, &jobs[wave * THREADS + k]), 0);
        for (int k = 0; k < THREADS; k++)
            assert_int_equal(pthread_join(t[k], NULL), 0);
    }
    for (int k = 0; k < THREADS * 2; k++) {
        if (jobs[k].status)
            fail_msg("thread %d (%s): %s", k, jobs[k].backend, jobs[k].error);
        if (jobs[k].checksum != alone[k].checksum || jobs[k].spikes != alone[k].spikes)
            fail_msg("sim %d (%s, seed %llu%s): concurrent run differs from the run alone", k,
                     jobs[k].backend, (unsigned long long)jobs[k].seed,
                     jobs[k].compress ? ", compressed" : "");
    }
    /* the same seed gives the same train on both backends */
    for (int k = 0; k + 1 < THREADS * 2; k += 2)
        assert_true(jobs[k].checksum == jobs[k + 1].checksum);
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
}

/* Errors of calls on a shared model from several threads: each thread
 * reads the detail of its own last call (per-thread slots), empty after a
 * call that succeeded. */
static void *bad_create(void *arg)
{
    n4d_model *m = arg;
    for (int k = 0; k < 50; k++) {
        n4d_sim_options o;
        n4d_sim_options_init(&o);
        o.backend = k % 2 ? "no-such-backend" : "cpu-ref";
        n4d_sim *sim = NULL;
        const n4d_status st = n4d_sim_create(m, &o, &sim);
        if (k % 2) {
            if (st != N4D_E_INVALID_ARG || sim || !strstr(n4d_last_error(m), "no-such-backend"))
                return (void *)1;
        } else {
            if (st != N4D_OK || n4d_last_error(m)[0])
                return (void *)2;
            n4d_sim_destroy(sim);
        }
    }
    return NULL;
}

static void test_errors_from_threads(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    n4d_model *m = shared_model(&ctx);
    pthread_t t[THREADS];
    for (int k = 0; k < THREADS; k++)
        assert_int_equal(pthread_create(&t[k], NULL, bad_create, m), 0);
    for (int k = 0; k < THREADS; k++) {
        void *ret = NULL;
        assert_int_equal(pthread_join(t[k], &ret), 0);
        assert_null(ret);
    }
    assert_string_equal(n4d_last_error(m), ""); /* this thread's slot: no call failed here */
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sims_share_a_model),
        cmocka_unit_test(test_errors_from_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
