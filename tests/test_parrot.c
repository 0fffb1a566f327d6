/* The parrot neuron model (src/core/models/parrot.h): a spike in every step
 * whose input is > 0. Three parrot populations of 1000 neurons, loaded from
 * a config as a user would write it:
 *   "in"   driven by a Poisson input of 15 Hz (n_sources 1, weight 1): a
 *          Poisson spike source (the scalar path of cpu-omp);
 *   "echo" fed by "in" one to one (weight 1, delay 2 steps): spikes exactly
 *          2 steps after its source (synaptic input, the vectorised path);
 *   "ext"  fed by n4d_sim_add_input with a pattern of positive, zero,
 *          negative and cancelling values.
 * Each spike is exactly a step with positive input, "in" fires at ~15 Hz,
 * and cpu-ref, cpu-omp with 1 and with 2 threads give the same spikes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "n4d.h"
#include "test_util.h"

enum { N = 1000, STEPS_BY_ONE = 2500, STEPS = 20000, ECHO_DELAY = 2 };

static const char CONFIG[] =
    "{\"dt\": 0.1, \"seed\": 3, \"lattice_shape\": [1000, 3, 1, 1],\n"
    " \"areas\": [\n"
    "  {\"name\": \"a0\", \"coord_ranges\": {\"x\": [0, 999], \"y\": [0, 0], \"z\": [0, 0], \"w\": [0, 0]}},\n"
    "  {\"name\": \"a1\", \"coord_ranges\": {\"x\": [0, 999], \"y\": [1, 1], \"z\": [0, 0], \"w\": [0, 0]}},\n"
    "  {\"name\": \"a2\", \"coord_ranges\": {\"x\": [0, 999], \"y\": [2, 2], \"z\": [0, 0], \"w\": [0, 0]}}],\n"
    " \"populations\": [\n"
    "  {\"name\": \"in\", \"area\": \"a0\", \"model\": \"parrot\"},\n"
    "  {\"name\": \"echo\", \"area\": \"a1\", \"model\": \"parrot\"},\n"
    "  {\"name\": \"ext\", \"area\": \"a2\", \"model\": \"parrot\"}],\n"
    " \"projections\": [\n"
    "  {\"source\": \"in\", \"target\": \"echo\", \"rule\": \"one_to_one\", \"weight\": 1, \"delay\": 0.2}],\n"
    " \"inputs\": [\n"
    "  {\"type\": \"poisson\", \"target\": \"in\", \"rate\": 15, \"n_sources\": 1, \"weight\": 1}]}\n";

/* The external input pattern of neuron i of "ext" before step k: a few
 * values n4d_sim_add_input adds (count returned; their sum decides). */
static int ext_pattern(uint64_t k, uint32_t i, float v[2])
{
    uint64_t h = (k * 1000003u + i) * 0x9E3779B97F4A7C15ull;
    h ^= h >> 29;
    switch (h % 8) {
    case 0: v[0] = 1.0f; return 1;
    case 1: v[0] = 0.25f; return 1;
    case 2: v[0] = -1.0f; return 1;
    case 3: v[0] = 1.0f; v[1] = -1.0f; return 2;   /* cancels: no spike */
    case 4: v[0] = 0.0f; return 1;                 /* zero: no spike */
    case 5: v[0] = -0.5f; v[1] = 0.75f; return 2;  /* positive sum */
    default: return 0;
    }
}

typedef struct train {
    uint64_t n, checksum;
    uint64_t *steps;
    uint32_t *ids;
} train;

/* Runs the model on one backend, checking every step of the first part;
 * returns the whole spike train. */
static train run_backend(const char *backend, int32_t threads)
{
    n4d_context *ctx = NULL;
    assert_int_equal(n4d_context_create(NULL, &ctx), N4D_OK);
    n4d_model *m = NULL;
    ASSERT_OK(n4d_model_from_json_string(ctx, CONFIG, sizeof CONFIG - 1, "parrot", &m), ctx);
    ASSERT_OK(n4d_model_build(m), m);
    assert_int_equal(n4d_model_num_neurons(m), 3 * N);
    assert_int_equal(n4d_model_num_synapses(m), N);
    const char *names[3] = {"in", "echo", "ext"};
    for (int32_t p = 0; p < 3; p++) {
        n4d_population_info pi;
        memset(&pi, 0, sizeof pi);
        pi.struct_size = sizeof pi;
        ASSERT_OK(n4d_model_population_info(m, p, &pi), m);
        assert_string_equal(pi.name, names[p]);
        assert_string_equal(pi.model_name, "parrot");
        assert_int_equal(pi.first, (uint64_t)p * N);
        assert_int_equal(pi.count, N);
    }
    n4d_sim *sim = sim_on(m, backend, threads);

    float *v = malloc(3 * N * sizeof *v);
    uint8_t *spk = malloc(3 * N), *hist = calloc((size_t)(ECHO_DELAY + 1) * N, 1);
    float *want_ext = malloc(N * sizeof *want_ext);
    assert_non_null(v);
    assert_non_null(spk);
    assert_non_null(hist);
    assert_non_null(want_ext);
    uint64_t in_spikes = 0, events = 0, ext_spikes = 0;
    for (uint64_t k = 0; k < STEPS_BY_ONE; k++) {
        for (uint32_t i = 0; i < N; i++) {
            float x[2];
            const int c = ext_pattern(k, i, x);
            want_ext[i] = 0.0f;
            for (int j = 0; j < c; j++) {
                ASSERT_OK(n4d_sim_add_input(sim, 2 * N + i, x[j]), sim);
                want_ext[i] += x[j];
            }
        }
        ASSERT_OK(n4d_sim_step(sim), sim);
        const uint32_t *ids = NULL;
        uint64_t c = 0;
        assert_int_equal(n4d_sim_last_spikes(sim, &ids, &c), N4D_OK);
        memset(spk, 0, 3 * N);
        for (uint64_t j = 0; j < c; j++) {
            assert_true(ids[j] < 3 * N);
            CHECK(!spk[ids[j]], "%s: neuron %u spiked twice in step %llu", backend, ids[j],
                  (unsigned long long)k);
            spk[ids[j]] = 1;
        }
        ASSERT_OK(n4d_sim_get_state(sim, "v", v, 3 * N), sim);
        uint8_t *now = hist + (k % (ECHO_DELAY + 1)) * N;
        const uint8_t *then = hist + ((k + 1) % (ECHO_DELAY + 1)) * N; /* step k - ECHO_DELAY */
        for (uint32_t i = 0; i < N; i++) {
            /* in: v is the number of Poisson events of the step (weight 1) */
            const float e = v[i];
            CHECK(e >= 0.0f && e == floorf(e) && e < 10.0f, "%s: in %u step %llu: input %g",
                  backend, i, (unsigned long long)k, (double)e);
            CHECK(spk[i] == (e > 0.0f), "%s: in %u step %llu: spike %d with %g events", backend, i,
                  (unsigned long long)k, spk[i], (double)e);
            in_spikes += spk[i];
            events += (uint64_t)e;
            /* echo: a spike exactly ECHO_DELAY steps after its source's */
            const int src = k >= ECHO_DELAY && then[i];
            CHECK(spk[N + i] == src, "%s: echo %u step %llu: spike %d, source spiked %d steps "
                  "before: %d", backend, i, (unsigned long long)k, spk[N + i], ECHO_DELAY, src);
            CHECK(v[N + i] == (float)src, "%s: echo %u step %llu: input %g", backend, i,
                  (unsigned long long)k, (double)v[N + i]);
            /* ext: a spike iff the external input of the step is > 0 */
            CHECK(spk[2 * N + i] == (want_ext[i] > 0.0f),
                  "%s: ext %u step %llu: spike %d with input %g", backend, i,
                  (unsigned long long)k, spk[2 * N + i], (double)want_ext[i]);
            CHECK(v[2 * N + i] == want_ext[i], "%s: ext %u step %llu: v %g, input %g", backend, i,
                  (unsigned long long)k, (double)v[2 * N + i], (double)want_ext[i]);
            ext_spikes += spk[2 * N + i];
        }
        memcpy(now, spk, N);
    }
    /* about 15 Hz * 0.25 s * 1000 = 3750 spikes; the pattern fires 3/8 */
    CHECK(in_spikes > 3300 && in_spikes < 4200, "%s: %llu spikes of in in %d steps", backend,
          (unsigned long long)in_spikes, STEPS_BY_ONE);
    assert_true(events >= in_spikes);
    CHECK(ext_spikes > STEPS_BY_ONE * N / 4 && ext_spikes < STEPS_BY_ONE * N / 2,
          "%s: %llu ext spikes", backend, (unsigned long long)ext_spikes);

    ASSERT_OK(n4d_sim_run(sim, STEPS - STEPS_BY_ONE), sim);
    const uint64_t *steps = NULL;
    const uint32_t *ids = NULL;
    train t = {0, 0, NULL, NULL};
    ASSERT_OK(n4d_sim_spikes(sim, &steps, &ids, &t.n), sim);
    t.checksum = n4d_sim_checksum(sim);
    assert_int_equal(t.n, n4d_sim_total_spikes(sim));
    t.steps = malloc(t.n * sizeof *t.steps);
    t.ids = malloc(t.n * sizeof *t.ids);
    assert_non_null(t.steps);
    assert_non_null(t.ids);
    memcpy(t.steps, steps, t.n * sizeof *steps);
    memcpy(t.ids, ids, t.n * sizeof *ids);

    free(v);
    free(spk);
    free(hist);
    free(want_ext);
    n4d_sim_destroy(sim);
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
    return t;
}

/* The whole train: "in" at ~15 Hz, every echo spike 2 steps after its
 * source's, no ext spike after the external input stopped. */
static void check_train(const train *t)
{
    uint8_t *in = calloc((size_t)STEPS * N, 1);
    assert_non_null(in);
    uint64_t n_in = 0, n_echo = 0, late_in = 0;
    for (uint64_t j = 0; j < t->n; j++) {
        assert_true(t->steps[j] < STEPS);
        if (t->ids[j] < N) {
            in[t->steps[j] * N + t->ids[j]] = 1;
            n_in++;
            late_in += t->steps[j] >= STEPS - ECHO_DELAY;
        }
    }
    for (uint64_t j = 0; j < t->n; j++) {
        const uint64_t s = t->steps[j];
        const uint32_t id = t->ids[j];
        if (id >= N && id < 2 * N) {
            CHECK(s >= ECHO_DELAY && in[(s - ECHO_DELAY) * N + (id - N)],
                  "echo %u spiked at step %llu without its source", id - N, (unsigned long long)s);
            n_echo++;
        } else if (id >= 2 * N) {
            CHECK(s < STEPS_BY_ONE, "ext %u spiked at step %llu without input", id - 2 * N,
                  (unsigned long long)s);
        }
    }
    assert_int_equal(n_echo, n_in - late_in);
    /* 15 Hz, 1000 neurons, 2 s: 30,000 spikes (a count's sd is 173) */
    const double rate = (double)n_in / N / (STEPS * 1e-4);
    print_message("parrot: %llu spikes of 1000 parrots in 2 s: %.3f Hz\n",
                  (unsigned long long)n_in, rate);
    CHECK(fabs(rate - 15.0) < 0.5, "rate %.3f Hz, expected 15", rate);
    free(in);
}

static void free_train(train *t)
{
    free(t->steps);
    free(t->ids);
}

static void test_parrot_poisson_source(void **state)
{
    (void)state;
    train ref = run_backend("cpu-ref", 1);
    check_train(&ref);
    static const int32_t threads[2] = {1, 2};
    for (int k = 0; k < 2; k++) {
        train t = run_backend("cpu-omp", threads[k]);
        CHECK(t.n == ref.n, "cpu-omp %d threads: %llu spikes, cpu-ref %llu", threads[k],
              (unsigned long long)t.n, (unsigned long long)ref.n);
        for (uint64_t j = 0; j < t.n; j++)
            CHECK(t.steps[j] == ref.steps[j] && t.ids[j] == ref.ids[j],
                  "cpu-omp %d threads: spike %llu is (%llu, %u), cpu-ref (%llu, %u)", threads[k],
                  (unsigned long long)j, (unsigned long long)t.steps[j], t.ids[j],
                  (unsigned long long)ref.steps[j], ref.ids[j]);
        assert_int_equal(t.checksum, ref.checksum);
        free_train(&t);
    }
    free_train(&ref);
}

/* i_e > 0 fires every step; no state but v; no parameter besides i_e. */
static void test_parrot_registry(void **state)
{
    (void)state;
    const int32_t idx = n4d_neuron_model_find("parrot");
    assert_true(idx >= 0);
    n4d_neuron_model_info mi;
    memset(&mi, 0, sizeof mi);
    mi.struct_size = sizeof mi;
    assert_int_equal(n4d_neuron_model_info_get(idx, &mi), N4D_OK);
    assert_int_equal(mi.id, 5);
    assert_int_equal(mi.num_params, 1);
    assert_int_equal(mi.num_states, 1);

    n4d_context *ctx = NULL;
    assert_int_equal(n4d_context_create(NULL, &ctx), N4D_OK);
    n4d_model *m = NULL;
    assert_int_equal(n4d_model_create(ctx, &m), N4D_OK);
    const int32_t lo[4] = {0, 0, 0, 0}, hi[4] = {0, 0, 0, 0};
    ASSERT_OK(n4d_model_add_area(m, "a", lo, hi), m);
    n4d_population_desc d;
    n4d_population_desc_init(&d);
    d.name = "p";
    d.area = "a";
    d.model_name = "parrot";
    const n4d_param_value pv[1] = {{"i_e", 0.5}};
    d.params = pv;
    d.n_params = 1;
    ASSERT_OK(n4d_model_add_population(m, &d, NULL), m);
    n4d_sim *sim = NULL;
    n4d_sim_options o;
    n4d_sim_options_init(&o);
    o.backend = "cpu-ref";
    ASSERT_OK(n4d_sim_create(m, &o, &sim), m);
    float v = 0.0f;
    ASSERT_OK(n4d_sim_get_state(sim, "v", &v, 1), sim);
    assert_true(v == 0.5f); /* v_init defaults to i_e */
    ASSERT_OK(n4d_sim_get_state(sim, "refractory", &v, 1), sim);
    assert_true(isnan(v)); /* no refractory counter */
    ASSERT_OK(n4d_sim_run(sim, 100), sim);
    assert_int_equal(n4d_sim_total_spikes(sim), 100);
    ASSERT_OK(n4d_sim_add_input(sim, 0, -0.5f), sim); /* cancels i_e: no spike */
    ASSERT_OK(n4d_sim_step(sim), sim);
    assert_int_equal(n4d_sim_total_spikes(sim), 100);
    ASSERT_OK(n4d_sim_get_state(sim, "v", &v, 1), sim);
    assert_true(v == 0.0f);
    n4d_sim_destroy(sim);
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
}

int main(int argc, char **argv)
{
    (void)argc;
    /* The 2-thread run steps one step at a time: with libgomp's default
     * spinning, the idle thread burns the time the test's own checks need
     * on a busy machine (a minute instead of two seconds). Passive waiting
     * changes no result; libgomp reads it at load time, hence the re-exec
     * (as test_determinism). */
    if (!getenv("OMP_WAIT_POLICY") && setenv("OMP_WAIT_POLICY", "passive", 1) == 0)
        execv("/proc/self/exe", argv); /* on failure, go on as we are */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parrot_registry),
        cmocka_unit_test(test_parrot_poisson_source),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
