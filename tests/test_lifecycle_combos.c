/* The cell lifecycle together with the other learning features, as a user
 * combines them in one config (4D Neural Cognition style):
 *   - stdp_dopamine on a population whose neurons die without children,
 *     with delays of several steps (a spike in flight when its sender
 *     dies is lost; the rule still sees it): runs to the end, identical
 *     on cpu-ref and cpu-omp with 1 and 2 threads, and neurons do die;
 *   - a threshold bound to a modulator on a lifecycle population: refused
 *     with N4D_E_UNSUPPORTED naming the population (lifecycle populations
 *     keep per-neuron constants that the binding would not reach);
 *   - a gain binding on a lifecycle population: runs, the same on cpu-ref
 *     and cpu-omp. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "n4d.h"
#include "test_util.h"

#define HEAD                                                                                       \
    "{\"model_version\": 1, \"lattice_shape\": [10, 10, 2, 1], \"dt\": 1.0, \"seed\": 5,\n"       \
    " \"neuron_model\": {\"type\": \"LIF\", \"params_default\": {\"tau_m\": 20.0, \"v_rest\": "    \
    "-65.0, \"v_reset\": -70.0, \"v_threshold\": -50.0, \"refractory_period\": 2.0}},\n"            \
    " \"areas\": [{\"name\": \"A\", \"coord_ranges\": {\"x\": [0, 9], \"y\": [0, 9], \"z\": [0, "  \
    "1], \"w\": [0, 0]}}],\n"                                                                      \
    " \"inputs\": [{\"type\": \"poisson\", \"target\": \"A\", \"rate\": 50.0, \"n_sources\": 20, " \
    "\"weight\": 16.0}],\n"

static const char DA_REMOVAL[] =
    HEAD " \"cell_lifecycle\": {\"enable_death\": true, \"enable_reproduction\": false,\n"
         "   \"max_age\": 30, \"health_decay_per_step\": 0.001},\n"
         " \"neuromodulation\": {\"dopamine\": {\"baseline\": 0.5, \"decay_rate\": 0.1}},\n"
         " \"projections\": [{\"name\": \"A->A\", \"source\": \"A\", \"target\": \"A\", \"rule\": "
         "\"fixed_probability\", \"p\": 0.1, \"weight\": 5.0,\n"
         "   \"delay\": {\"uniform\": [2.0, 5.0]}, \"synapse\": {\"model\": \"stdp_dopamine\"}}]}\n";

#define BOUND(WHAT)                                                                                \
    HEAD " \"cell_lifecycle\": {\"enable_death\": true, \"enable_reproduction\": true,\n"          \
         "   \"max_age\": 40, \"health_decay_per_step\": 0.001, \"mutation_std_params\": 0.05,\n" \
         "   \"mutation_std_weights\": 0.02},\n"                                                 \
         " \"plasticity\": {\"rule\": \"hebb_like\", \"learning_rate\": 0.01, \"weight_min\": "   \
         "-1.0, \"weight_max\": 20.0, \"weight_decay\": 1e-05},\n"                               \
         " \"neuromodulation\": {\"norepinephrine\": {\"baseline\": 1.0, \"level\": 1.0, "        \
         "\"decay_rate\": 0.0, " WHAT "}},\n"                                                    \
         " \"projections\": [{\"name\": \"A->A\", \"source\": \"A\", \"target\": \"A\", \"rule\": " \
         "\"fixed_probability\", \"p\": 0.1, \"weight\": 5.0,\n"                                 \
         "   \"delay\": {\"uniform\": [1.0, 3.0]}}]}\n"

static n4d_status run(n4d_context *ctx, const char *json, const char *backend, int32_t threads,
                      uint64_t steps, uint64_t *checksum, uint64_t *deaths)
{
    n4d_model *m = NULL;
    ASSERT_OK(n4d_model_from_json_string(ctx, json, strlen(json), "combo", &m), ctx);
    ASSERT_OK(n4d_model_build(m), m);
    n4d_sim_options o;
    n4d_sim_options_init(&o);
    o.backend = backend;
    o.num_threads = threads;
    n4d_sim *sim = NULL;
    n4d_status st = n4d_sim_create(m, &o, &sim);
    if (st) {
        CHECK(strstr(n4d_last_error(m), "population \"A\"") != NULL, "message: %s",
              n4d_last_error(m));
        n4d_model_destroy(m);
        return st;
    }
    ASSERT_OK(n4d_sim_run(sim, steps), sim);
    *checksum = n4d_sim_checksum(sim);
    uint64_t births = 0;
    ASSERT_OK(n4d_sim_lifecycle_counts(sim, deaths, &births), sim);
    n4d_sim_destroy(sim);
    n4d_model_destroy(m);
    return N4D_OK;
}

static void test_stdp_dopamine_removal(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    assert_int_equal(n4d_context_create(NULL, &ctx), N4D_OK);
    uint64_t ref = 0, deaths = 0;
    assert_int_equal(run(ctx, DA_REMOVAL, "cpu-ref", 1, 300, &ref, &deaths), N4D_OK);
    assert_true(deaths > 100); /* max_age 30: every neuron dies */
    for (int32_t t = 1; t <= 2; t++) {
        uint64_t c = 0, d = 0;
        assert_int_equal(run(ctx, DA_REMOVAL, "cpu-omp", t, 300, &c, &d), N4D_OK);
        CHECK(c == ref && d == deaths, "cpu-omp %d threads: checksum %llx deaths %llu, cpu-ref %llx %llu",
              t, (unsigned long long)c, (unsigned long long)d, (unsigned long long)ref,
              (unsigned long long)deaths);
    }
    n4d_context_destroy(ctx);
}

static void test_bindings(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    assert_int_equal(n4d_context_create(NULL, &ctx), N4D_OK);
    uint64_t c = 0, d = 0;
    static const char th[] = BOUND("\"threshold_of\": [\"A\"], \"inhibition_strength\": -0.5");
    assert_int_equal(run(ctx, th, "cpu-omp", 2, 100, &c, &d), N4D_E_UNSUPPORTED);
    static const char gain[] = BOUND("\"gain_of\": [\"A\"], \"gain_modulation\": 2.0");
    uint64_t cg = 0;
    assert_int_equal(run(ctx, gain, "cpu-omp", 2, 300, &cg, &d), N4D_OK);
    uint64_t cr = 0;
    assert_int_equal(run(ctx, gain, "cpu-ref", 1, 300, &cr, &d), N4D_OK);
    assert_int_equal(cg, cr);
    n4d_context_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stdp_dopamine_removal),
        cmocka_unit_test(test_bindings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
