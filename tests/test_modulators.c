/* Neuromodulation and reward-modulated STDP (docs/plasticity.md): modulator
 * levels (decay, API, the 4D Neural Cognition helpers, driven by spikes)
 * against an eager recurrence; thresholds and input gains bound to levels
 * against the same models with the parameters changed by hand;
 * hebb_4dnc's dopamine scaling; stdp_dopamine against NEST's closed forms
 * (spike-driven and API-set dopamine, also across the periodic updates of
 * silent presynaptic neurons); the same bits on cpu-ref and cpu-omp with
 * any thread count and batch; configuration and API errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "n4d.h"
#include "test_util.h"

static n4d_context *new_ctx(void)
{
    n4d_context *ctx = NULL;
    OK(n4d_context_create(NULL, &ctx));
    return ctx;
}

/* ---- a model of single "clock" neurons ----------------------------------------------
 * lif with tau_m = dt = 1 ms, v_rest = v_reset = 0, threshold 10, no
 * refractory period: V = the step's input, so a neuron spikes exactly at the
 * steps its DC input (20) is on and never from weights below 10. */

#define MAXPOP 6

typedef struct clock_pop {
    const char *name;
    int n;            /* neurons */
    const int *spikes; /* steps with DC input 20, ended by -1 (NULL: none) */
} clock_pop;

static n4d_model *clock_model(n4d_context *ctx, const clock_pop *pops, int npop)
{
    n4d_model *m = NULL;
    OK(n4d_model_create(ctx, &m));
    ASSERT_OK(n4d_model_set_dt(m, 1.0), m);
    int total = 0;
    for (int k = 0; k < npop; k++)
        total += pops[k].n;
    const uint32_t shape[4] = {(uint32_t)total, 1, 1, 1};
    ASSERT_OK(n4d_model_set_lattice(m, shape), m);
    const n4d_param_value np[] = {{"tau_m", 1.0}, {"v_rest", 0.0}, {"v_reset", 0.0},
                                  {"v_threshold", 10.0}, {"t_ref", 0.0}};
    int x = 0;
    for (int k = 0; k < npop; k++) {
        char an[32];
        snprintf(an, sizeof an, "a_%s", pops[k].name);
        const int32_t lo[4] = {x, 0, 0, 0}, hi[4] = {x + pops[k].n - 1, 0, 0, 0};
        ASSERT_OK(n4d_model_add_area(m, an, lo, hi), m);
        x += pops[k].n;
        n4d_population_desc d;
        n4d_population_desc_init(&d);
        d.name = pops[k].name;
        d.area = an;
        d.model = N4D_NEURON_LIF;
        d.params = np;
        d.n_params = 5;
        ASSERT_OK(n4d_model_add_population(m, &d, NULL), m);
        for (const int *t = pops[k].spikes; t && *t >= 0; t++) {
            n4d_input_desc in;
            n4d_input_desc_init(&in);
            in.kind = N4D_INPUT_DC;
            in.target = pops[k].name;
            in.amplitude = 20.0;
            in.start = *t;
            in.stop = *t + 1;
            ASSERT_OK(n4d_model_add_input(m, &in), m);
        }
    }
    return m;
}

static void add_mod(n4d_model *m, const char *name, double baseline, double decay, double level,
                    const char *driven_by, double per_spike, double delay)
{
    n4d_modulator_desc d;
    n4d_modulator_desc_init(&d);
    d.name = name;
    d.baseline = baseline;
    d.decay_rate = decay;
    d.level = level;
    d.driven_by = driven_by;
    d.per_spike = per_spike;
    d.delay = delay;
    ASSERT_OK(n4d_model_add_modulator(m, &d), m);
}

static void add_proj(n4d_model *m, const char *name, const char *src, const char *tgt, int rule,
                     double p, double w0, double delay, const char *syn, const n4d_param_value *sp,
                     uint32_t nsp)
{
    n4d_projection_desc d;
    n4d_projection_desc_init(&d);
    d.name = name;
    d.source = src;
    d.target = tgt;
    d.rule = rule;
    d.p = p;
    d.weight = n4d_dist_constant(w0);
    d.delay = n4d_dist_constant(delay);
    d.synapse_model = syn;
    d.synapse_params = sp;
    d.n_synapse_params = nsp;
    ASSERT_OK(n4d_model_add_projection(m, &d, NULL), m);
}

static double weight_of(n4d_sim *s, const char *proj)
{
    float w = 0;
    uint64_t n = 0;
    ASSERT_OK(n4d_sim_get_weights(s, proj, 1, NULL, NULL, &w, &n), s);
    assert_int_equal(n, 1);
    return w;
}

/* ---- levels ------------------------------------------------------------------------ */

static double toward(double l, double base, double decay)
{
    if (l > base)
        return l - decay > base ? l - decay : base;
    return l + decay < base ? l + decay : base;
}

static double clip01(double l)
{
    return l < 0 ? 0 : (l > 1 ? 1 : l);
}

static void test_levels_api(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    const clock_pop pops[] = {{"E", 2, NULL}};
    n4d_model *m = clock_model(ctx, pops, 1);
    add_mod(m, "dopamine", 0.5, 0.1, NAN, NULL, 0, NAN);
    add_mod(m, "serotonin", 0.4, 0.25, 0.9, NULL, 0, NAN);
    add_mod(m, "norepinephrine", 0.5, 0.0, NAN, NULL, 0, NAN);
    add_mod(m, "acetylcholine", 0.2, 0.05, NAN, NULL, 0, NAN);
    ASSERT_OK(n4d_model_build(m), m);
    assert_int_equal(n4d_model_num_modulators(m), 4);
    assert_string_equal(n4d_model_modulator_name(m, 3), "acetylcholine");
    assert_null(n4d_model_modulator_name(m, 4));
    const char *backends[] = {"cpu-ref", "cpu-omp"};
    for (int b = 0; b < 2; b++) {
        n4d_sim *s = sim_on(m, backends[b], 2);
        double l;
        ASSERT_OK(n4d_sim_get_modulator(s, "dopamine", &l), s);
        assert_true(l == 0.5);
        ASSERT_OK(n4d_sim_get_modulator(s, "serotonin", &l), s);
        assert_true(l == 0.9);
        /* decay toward the baseline without crossing it, step by step */
        ASSERT_OK(n4d_sim_set_modulator(s, "dopamine", 0.93), s);
        double want = 0.93;
        for (int k = 0; k < 8; k++) {
            ASSERT_OK(n4d_sim_run(s, 1), s);
            want = toward(want, 0.5, 0.1);
            ASSERT_OK(n4d_sim_get_modulator(s, "dopamine", &l), s);
            CHECK(l == want, "%s step %d: dopamine %.17g, expected %.17g", backends[b], k, l, want);
        }
        assert_true(l == 0.5);
        /* from below, over a run of many steps at once */
        ASSERT_OK(n4d_sim_set_modulator(s, "acetylcholine", 0.0), s);
        ASSERT_OK(n4d_sim_run(s, 3), s);
        ASSERT_OK(n4d_sim_get_modulator(s, "acetylcholine", &l), s);
        want = toward(toward(toward(0.0, 0.2, 0.05), 0.2, 0.05), 0.2, 0.05);
        assert_true(l == want);
        /* the reference's helpers */
        ASSERT_OK(n4d_sim_reward(s, 0.3, 0.1), s);
        ASSERT_OK(n4d_sim_get_modulator(s, "dopamine", &l), s);
        assert_true(l == clip01(0.5 + (0.3 - 0.1)));
        ASSERT_OK(n4d_sim_reward(s, 5.0, 0.0), s);
        ASSERT_OK(n4d_sim_get_modulator(s, "dopamine", &l), s);
        assert_true(l == 1.0);
        ASSERT_OK(n4d_sim_reward(s, 0.0, 2.0), s);
        ASSERT_OK(n4d_sim_get_modulator(s, "dopamine", &l), s);
        assert_true(l == 0.0);
        ASSERT_OK(n4d_sim_punishment(s, 0.4, 0.2), s);
        ASSERT_OK(n4d_sim_get_modulator(s, "serotonin", &l), s);
        assert_true(l == clip01(0.4 - (0.4 + 0.2) / 2.0));
        ASSERT_OK(n4d_sim_novelty(s, 0.2, 0.3), s);
        ASSERT_OK(n4d_sim_get_modulator(s, "norepinephrine", &l), s);
        assert_true(l == clip01(0.5 + (0.2 + 0.3) / 2.0));
        ASSERT_OK(n4d_sim_run(s, 5), s); /* decay 0: stays */
        ASSERT_OK(n4d_sim_get_modulator(s, "norepinephrine", &l), s);
        assert_true(l == 0.75);
        /* errors */
        ASSERT_ERR_MSG(n4d_sim_set_modulator(s, "gaba", 0.5), N4D_E_CONFIG, s,
                       "unknown modulator \"gaba\" (the model declares dopamine, serotonin, "
                       "norepinephrine, acetylcholine)");
        ASSERT_ERR_MSG(n4d_sim_set_modulator(s, "dopamine", 1.5), N4D_E_RANGE, s,
                       "level 1.5 of modulator \"dopamine\" is not in [0, 1]");
        ASSERT_ERR_MSG(n4d_sim_set_modulator(s, "dopamine", -0.1), N4D_E_RANGE, s, "not in [0, 1]");
        ASSERT_ERR_MSG(n4d_sim_set_modulator(s, "dopamine", NAN), N4D_E_RANGE, s, "not in [0, 1]");
        ASSERT_ERR_MSG(n4d_sim_set_modulator(s, NULL, 0.5), N4D_E_INVALID_ARG, s, "name is NULL");
        ASSERT_ERR_MSG(n4d_sim_get_modulator(s, "dopamine", NULL), N4D_E_INVALID_ARG, s,
                       "level is NULL");
        if (n4d_has_feature(N4D_FEATURE_HDF5)) {
            char path[512];
            snprintf(path, sizeof path, "%s/modulators_ckpt.h5", N4D_BINARY_DIR);
            ASSERT_OK(n4d_sim_checkpoint(s, path, NULL), s); /* test_learn_store resumes them */
        }
        ASSERT_ERR_MSG(n4d_sim_reward(s, INFINITY, 0), N4D_E_RANGE, s, "must be finite");
        ASSERT_ERR_MSG(n4d_sim_novelty(s, 0, NAN), N4D_E_RANGE, s, "must be finite");
        assert_int_equal(n4d_sim_set_modulator(NULL, "dopamine", 0.5), N4D_E_INVALID_ARG);
        /* unchanged by the failed calls: 0 decayed over 5 steps */
        ASSERT_OK(n4d_sim_get_modulator(s, "dopamine", &l), s);
        want = 0.0;
        for (int k = 0; k < 5; k++)
            want = toward(want, 0.5, 0.1);
        assert_true(l == want);
        n4d_sim_destroy(s);
    }
    n4d_model_destroy(m);

    /* a model without modulators */
    n4d_model *m2 = clock_model(ctx, pops, 1);
    ASSERT_OK(n4d_model_build(m2), m2);
    n4d_sim *s = sim_on(m2, "cpu-ref", 1);
    ASSERT_ERR_MSG(n4d_sim_reward(s, 1, 0), N4D_E_CONFIG, s,
                   "unknown modulator \"dopamine\" (the model declares none)");
    n4d_sim_destroy(s);
    n4d_model_destroy(m2);
    assert_int_equal(mem_current(ctx), 0);
    n4d_context_destroy(ctx);
}

static void test_model_errors(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    const clock_pop pops[] = {{"E", 2, NULL}};
    n4d_model *m = clock_model(ctx, pops, 1);
    n4d_population_desc pd;
    n4d_population_desc_init(&pd);
    pd.name = "P";
    pd.area = "a_E";
    pd.model_name = "parrot";
    ASSERT_OK(n4d_model_add_population(m, &pd, NULL), m);
    n4d_modulator_desc d;
    n4d_modulator_desc_init(&d);
    ASSERT_ERR_MSG(n4d_model_add_modulator(m, &d), N4D_E_INVALID_ARG, m, "name is NULL");
    d.name = "dopamine";
    d.baseline = 1.2;
    ASSERT_ERR_MSG(n4d_model_add_modulator(m, &d), N4D_E_RANGE, m,
                   "modulator \"dopamine\": baseline 1.2 is not in [0, 1]");
    d.baseline = 0.5;
    d.level = NAN;
    d.decay_rate = -0.1;
    ASSERT_ERR_MSG(n4d_model_add_modulator(m, &d), N4D_E_RANGE, m, "decay_rate -0.1 is not in [0, 1]");
    d.decay_rate = 0.1;
    d.level = 2;
    ASSERT_ERR_MSG(n4d_model_add_modulator(m, &d), N4D_E_RANGE, m, "level 2 is not in [0, 1]");
    d.level = NAN;
    d.driven_by = "nobody";
    ASSERT_ERR_MSG(n4d_model_add_modulator(m, &d), N4D_E_CONFIG, m,
                   "modulator \"dopamine\": driven_by: unknown population \"nobody\"");
    d.driven_by = "E";
    d.delay = 0.5;
    ASSERT_ERR_MSG(n4d_model_add_modulator(m, &d), N4D_E_RANGE, m, "delay 0.5 ms is not in [dt,");
    d.delay = NAN;
    d.per_spike = 3;
    ASSERT_ERR_MSG(n4d_model_add_modulator(m, &d), N4D_E_RANGE, m, "per_spike 3 is not in [-1, 1]");
    d.per_spike = 0.1;
    ASSERT_OK(n4d_model_add_modulator(m, &d), m);
    ASSERT_ERR_MSG(n4d_model_add_modulator(m, &d), N4D_E_CONFIG, m, "duplicate modulator \"dopamine\"");
    ASSERT_ERR_MSG(n4d_model_bind_modulator(m, "E", N4D_MOD_THRESHOLD, "gaba", 0.5), N4D_E_CONFIG,
                   m, "population \"E\": unknown modulator \"gaba\"");
    ASSERT_ERR_MSG(n4d_model_bind_modulator(m, "X", N4D_MOD_THRESHOLD, "dopamine", 0.5),
                   N4D_E_CONFIG, m, "unknown population \"X\"");
    ASSERT_ERR_MSG(n4d_model_bind_modulator(m, "E", 7, "dopamine", 0.5), N4D_E_INVALID_ARG, m,
                   "unknown target 7");
    ASSERT_ERR_MSG(n4d_model_bind_modulator(m, "E", N4D_MOD_GAIN, "dopamine", NAN), N4D_E_RANGE, m,
                   "gain strength of \"E\" is not finite");
    ASSERT_ERR_MSG(n4d_model_bind_modulator(m, "P", N4D_MOD_THRESHOLD, "dopamine", 0.5),
                   N4D_E_CONFIG, m, "population \"P\" (model parrot) has no threshold parameter");
    ASSERT_OK(n4d_model_bind_modulator(m, "E", N4D_MOD_GAIN, "dopamine", 1.0), m);
    ASSERT_ERR_MSG(n4d_model_bind_modulator(m, "E", N4D_MOD_GAIN, "dopamine", 2.0), N4D_E_CONFIG,
                   m, "population \"E\": its gain is already bound to modulator \"dopamine\"");
    ASSERT_OK(n4d_model_build(m), m);
    ASSERT_ERR_MSG(n4d_model_add_modulator(m, &d), N4D_E_STATE, m, "already built");
    /* a driven level cannot be set */
    n4d_sim *s = sim_on(m, "cpu-ref", 1);
    ASSERT_ERR_MSG(n4d_sim_reward(s, 1, 0), N4D_E_STATE, s,
                   "modulator \"dopamine\" is driven by the spikes of population \"E\"");
    n4d_sim_destroy(s);
    n4d_model_destroy(m);
    assert_int_equal(mem_current(ctx), 0);
    n4d_context_destroy(ctx);
}

/* Spike-driven levels against the recurrence, for batches of 1 (cpu-ref)
 * and of the modulator's delay (cpu-omp). */
static void test_driven_levels(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    static const int da_spikes[] = {3, 4, 5, 20, 21, 40, 41, 42, 43, 44, 45, 46, 47, 48, 100, -1};
    const clock_pop pops[] = {{"DA", 3, da_spikes}, {"E", 2, NULL}};
    n4d_model *m = clock_model(ctx, pops, 2);
    add_mod(m, "dopamine", 0.3, 0.02, 0.1, "DA", 0.05, 4.0);
    add_mod(m, "negative", 0.9, 0.01, NAN, "DA", -0.1, 7.0);
    /* min_delay 8 steps: cpu-omp's batch is limited by the modulators (4) */
    add_proj(m, "p", "E", "E", N4D_RULE_ALL_TO_ALL, 0, 1.0, 8.0, NULL, NULL, 0);
    ASSERT_OK(n4d_model_build(m), m);
    const int T[] = {1, 5, 9, 23, 47, 60, 120, 200};
    for (size_t q = 0; q < sizeof T / sizeof T[0]; q++) {
        /* the recurrence: 3 spikes at each listed step, delay 4 (resp. 7) */
        double l1 = 0.1, l2 = 0.9;
        for (int t = 1; t <= T[q]; t++) {
            int a1 = 0, a2 = 0;
            for (const int *d = da_spikes; *d >= 0; d++) {
                a1 += 3 * (*d == t - 4);
                a2 += 3 * (*d == t - 7);
            }
            l1 = clip01(toward(l1, 0.3, 0.02) + 0.05 * (double)a1);
            l2 = clip01(toward(l2, 0.9, 0.01) + -0.1 * (double)a2);
        }
        const char *backends[] = {"cpu-ref", "cpu-omp", "cpu-omp"};
        for (int b = 0; b < 3; b++) {
            n4d_sim *s = sim_on(m, backends[b], b);
            ASSERT_OK(n4d_sim_run(s, (uint64_t)T[q]), s);
            double g1, g2;
            ASSERT_OK(n4d_sim_get_modulator(s, "dopamine", &g1), s);
            ASSERT_OK(n4d_sim_get_modulator(s, "negative", &g2), s);
            CHECK(g1 == l1 && g2 == l2, "%s, %d threads, step %d: %.17g %.17g, expected %.17g %.17g",
                  backends[b], b, T[q], g1, g2, l1, l2);
            n4d_sim_destroy(s);
        }
    }
    n4d_model_destroy(m);
    assert_int_equal(mem_current(ctx), 0);
    n4d_context_destroy(ctx);
}

/* ---- bindings ------------------------------------------------------------------------ */

/* A Poisson-driven lif population with DC input, its threshold and gain
 * bound (bind) or set by hand (v_threshold, dc). */
static n4d_model *bound_model(n4d_context *ctx, bool bind, double v_th, double dc)
{
    n4d_model *m = NULL;
    OK(n4d_model_create(ctx, &m));
    const uint32_t shape[4] = {40, 1, 1, 1};
    ASSERT_OK(n4d_model_set_lattice(m, shape), m);
    ASSERT_OK(n4d_model_set_seed(m, 7), m);
    const int32_t lo[4] = {0, 0, 0, 0}, hi[4] = {39, 0, 0, 0};
    ASSERT_OK(n4d_model_add_area(m, "a", lo, hi), m);
    const n4d_param_value np[] = {{"v_threshold", v_th}};
    n4d_population_desc d;
    n4d_population_desc_init(&d);
    d.name = "E";
    d.area = "a";
    d.model = N4D_NEURON_LIF_EXP;
    d.params = np;
    d.n_params = 1;
    ASSERT_OK(n4d_model_add_population(m, &d, NULL), m);
    n4d_input_desc in;
    n4d_input_desc_init(&in);
    in.kind = N4D_INPUT_POISSON;
    in.target = "E";
    in.rate = 800;
    in.weight = 3.0;
    ASSERT_OK(n4d_model_add_input(m, &in), m);
    in.kind = N4D_INPUT_DC;
    in.amplitude = dc;
    ASSERT_OK(n4d_model_add_input(m, &in), m);
    add_proj(m, "ee", "E", "E", N4D_RULE_FIXED_PROBABILITY, 0.2, 0.5, 1.5, NULL, NULL, 0);
    if (bind) {
        add_mod(m, "serotonin", 0.2, 0.0, NAN, NULL, 0, NAN);
        add_mod(m, "norepinephrine", 0.5, 0.0, NAN, NULL, 0, NAN);
        ASSERT_OK(n4d_model_bind_modulator(m, "E", N4D_MOD_THRESHOLD, "serotonin", 0.5), m);
        ASSERT_OK(n4d_model_bind_modulator(m, "E", N4D_MOD_GAIN, "norepinephrine", 2.0), m);
    }
    ASSERT_OK(n4d_model_build(m), m);
    return m;
}

static uint64_t run_checksum(n4d_model *m, const char *backend, int threads, uint64_t steps,
                             uint64_t *spikes)
{
    n4d_sim *s = sim_on(m, backend, threads);
    ASSERT_OK(n4d_sim_run(s, steps), s);
    const uint64_t c = n4d_sim_checksum(s);
    *spikes = n4d_sim_total_spikes(s);
    n4d_sim_destroy(s);
    return c;
}

static void test_bindings(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    /* serotonin 0.2 x 0.5: the threshold x 1.1; norepinephrine 0.5 x 2: the
     * DC input x 2 (exact in float) */
    n4d_model *bound = bound_model(ctx, true, -50.0, 2.0);
    n4d_model *hand = bound_model(ctx, false, -50.0 * (1.0 + 0.2 * 0.5), 4.0);
    n4d_model *plain = bound_model(ctx, false, -50.0, 2.0);
    uint64_t nb, nh, np;
    const uint64_t ch = run_checksum(hand, "cpu-ref", 1, 2000, &nh);
    const uint64_t cp = run_checksum(plain, "cpu-ref", 1, 2000, &np);
    CHECK(nh > 100 && ch != cp, "the bound parameters change the run (%llu, %llu spikes)",
          (unsigned long long)nh, (unsigned long long)np);
    const char *backends[] = {"cpu-ref", "cpu-omp", "cpu-omp", "cpu-omp"};
    for (int b = 0; b < 4; b++) {
        const uint64_t cb = run_checksum(bound, backends[b], b, 2000, &nb);
        CHECK(cb == ch && nb == nh, "%s %d threads: bound %llu spikes, by hand %llu", backends[b],
              b, (unsigned long long)nb, (unsigned long long)nh);
    }
    /* levels changed between runs act from the next step, on every backend alike */
    uint64_t sums[4];
    for (int b = 0; b < 4; b++) {
        n4d_sim *s = sim_on(bound, backends[b], b);
        for (int k = 0; k < 10; k++) {
            ASSERT_OK(n4d_sim_punishment(s, 0.1 * k, 0.0), s);
            ASSERT_OK(n4d_sim_novelty(s, 0.05 * k, 0.0), s);
            ASSERT_OK(n4d_sim_run(s, 97), s);
        }
        sums[b] = n4d_sim_checksum(s);
        n4d_sim_destroy(s);
        assert_true(sums[b] == sums[0]);
    }
    n4d_model_destroy(bound);
    n4d_model_destroy(hand);
    n4d_model_destroy(plain);
    assert_int_equal(mem_current(ctx), 0);
    n4d_context_destroy(ctx);
}

/* ---- hebb_4dnc scaled by dopamine -------------------------------------------------------- */

static void test_hebb_dopamine(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    static const int pre[] = {10, 20, -1}, post[] = {20, -1};
    const clock_pop pops[] = {{"pre", 1, pre}, {"post", 1, post}};
    for (int mod = 0; mod < 2; mod++) {
        n4d_model *m = clock_model(ctx, pops, 2);
        add_mod(m, "dopamine", 0.25, 0.0, NAN, NULL, 0, NAN);
        const n4d_param_value sp[] = {{"learning_rate", 0.1}, {"weight_decay", 0.0},
                                      {"dopamine_modulation", mod ? 2.0 : 0.0}};
        add_proj(m, "h", "pre", "post", N4D_RULE_ONE_TO_ONE, 0, 0.5, 1.0, "hebb_4dnc", sp, 3);
        ASSERT_OK(n4d_model_build(m), m);
        n4d_sim *s = sim_on(m, "cpu-omp", 1);
        const double scale = mod ? 0.25 * 2.0 : 1.0;
        ASSERT_OK(n4d_sim_run(s, 15), s);
        assert_float_equal(weight_of(s, "h"), 0.5 - 0.05 * scale, 1e-7);
        ASSERT_OK(n4d_sim_run(s, 10), s);
        assert_float_equal(weight_of(s, "h"), 0.5 - 0.05 * scale + 0.1 * scale, 1e-7);
        n4d_sim_destroy(s);
        n4d_model_destroy(m);
    }
    /* without a dopamine modulator */
    n4d_model *m = clock_model(ctx, pops, 2);
    const n4d_param_value sp[] = {{"dopamine_modulation", 2.0}};
    add_proj(m, "h", "pre", "post", N4D_RULE_ONE_TO_ONE, 0, 0.5, 1.0, "hebb_4dnc", sp, 1);
    ASSERT_OK(n4d_model_build(m), m);
    n4d_sim *s = NULL;
    ASSERT_ERR_MSG(n4d_sim_create(m, NULL, &s), N4D_E_CONFIG, m,
                   "(hebb_4dnc with dopamine_modulation) reads the modulator \"dopamine\", which "
                   "the model does not declare");
    n4d_model_destroy(m);
    assert_int_equal(mem_current(ctx), 0);
    n4d_context_destroy(ctx);
}

/* ---- stdp_dopamine against NEST's closed forms ---------------------------------------------- */

typedef struct da_params {
    double tau_plus, tau_minus, tau_c, tau_n, b, a_plus, a_minus, wmin, wmax;
} da_params;

static const da_params DA_DEFAULT = {20, 20, 1000, 200, 0, 1, 1.5, 0, 200};

/* The weight at the second presynaptic spike t2 of NEST's
 * stdp_dopamine_synapse for pre spikes t1 < t2, one post spike tp
 * (t1 - d < tp <= t2 - d) and dopamine n(t) from ta on (spikes: a jump of
 * 1/tau_n at ta; level: a constant nl from ta; ta >= tp + d): the integral
 * of c (n - b) from tp + d to t2, c = A_plus exp(-(tp + d - t1)/tau_plus) at
 * tp + d, decaying with tau_c. */
static double nest_weight(const da_params *p, double w0, int d, int t1, int tp, int ta, int t2,
                          bool spikes, double nl)
{
    const double t0 = tp + d;
    const double c0 = p->a_plus * exp(-(t0 - t1) / p->tau_plus);
    double w = w0 - c0 * p->b * p->tau_c * (1 - exp(-(t2 - t0) / p->tau_c));
    if (spikes) {
        const double taus = 1 / p->tau_c + 1 / p->tau_n;
        w += c0 * exp(-(ta - t0) / p->tau_c) / p->tau_n * (1 - exp(-(t2 - ta) * taus)) / taus;
    } else {
        w += c0 * exp(-(ta - t0) / p->tau_c) * nl * p->tau_c * (1 - exp(-(t2 - ta) / p->tau_c));
    }
    return w < p->wmin ? p->wmin : (w > p->wmax ? p->wmax : w);
}

static n4d_model *da_pair_model(n4d_context *ctx, const int *pre, const int *post,
                                const int *da, const da_params *p, double w0, double d,
                                double da_delay)
{
    const clock_pop pops[] = {{"pre", 1, pre}, {"post", 1, post}, {"DA", 1, da}};
    n4d_model *m = clock_model(ctx, pops, da ? 3 : 2);
    if (da)
        add_mod(m, "dopamine", 0.0, 0.0, NAN, "DA", 0.0, da_delay);
    else
        add_mod(m, "dopamine", 0.5, 0.0, NAN, NULL, 0, NAN);
    const n4d_param_value sp[] = {{"tau_plus", p->tau_plus}, {"tau_minus", p->tau_minus},
                                  {"tau_c", p->tau_c},       {"tau_n", p->tau_n},
                                  {"b", p->b},               {"A_plus", p->a_plus},
                                  {"A_minus", p->a_minus},   {"Wmin", p->wmin},
                                  {"Wmax", p->wmax}};
    add_proj(m, "da", "pre", "post", N4D_RULE_ONE_TO_ONE, 0, w0, d, "stdp_dopamine", sp, 9);
    ASSERT_OK(n4d_model_build(m), m);
    return m;
}

static void check_spikes_pair(const char *what, int t1, int tp, int te, int t2, int d, int D,
                              const da_params *p, double w0)
{
    n4d_context *ctx = new_ctx();
    const int pre[] = {t1, t2, -1}, post[] = {tp, -1}, da[] = {te, -1};
    n4d_model *m = da_pair_model(ctx, pre, post, da, p, w0, d, D);
    const double want = nest_weight(p, w0, d, t1, tp, te + D, t2, true, 0);
    const char *backends[] = {"cpu-ref", "cpu-omp", "cpu-omp"};
    double got[3];
    for (int b = 0; b < 3; b++) {
        n4d_sim *s = sim_on(m, backends[b], b + 1);
        ASSERT_OK(n4d_sim_run(s, (uint64_t)t2 + 1), s);
        assert_int_equal(n4d_sim_total_spikes(s), 4);
        got[b] = weight_of(s, "da");
        n4d_sim_destroy(s);
        CHECK(fabs(got[b] - want) <= 2e-7 * fabs(want) + 1e-9, "%s on %s: weight %.9g, NEST %.9g",
              what, backends[b], got[b], want);
        assert_true(got[b] == got[0]);
    }
    CHECK(fabs(want - w0) > 1e-3, "%s: the weight changes (%g -> %g)", what, w0, want);
    n4d_model_destroy(m);
    assert_int_equal(mem_current(ctx), 0);
    n4d_context_destroy(ctx);
}

static void test_stdp_dopamine_spikes(void **state)
{
    (void)state;
    da_params p = DA_DEFAULT;
    check_spikes_pair("defaults", 10, 15, 30, 100, 1, 1, &p, 1.0);
    p.b = 0.002;
    p.a_plus = 3.0;
    p.tau_n = 50;
    check_spikes_pair("b, A_plus, tau_n", 10, 15, 30, 300, 1, 1, &p, 5.0);
    check_spikes_pair("delays", 10, 12, 20, 300, 3, 5, &p, 5.0);
    /* post before pre (t1 - d < tp): the pairing still counts with t0 = tp + d */
    check_spikes_pair("post at t1", 10, 10, 40, 200, 2, 1, &p, 5.0);
    /* a long silence: the presynaptic neuron is brought up to date at
     * 2048, 3072, 4096 (docs/plasticity.md); the dopamine spike comes in between */
    check_spikes_pair("silent pre", 10, 15, 3000, 5000, 1, 1, &p, 5.0);
    /* clipped at Wmax */
    p.wmax = 5.1;
    check_spikes_pair("Wmax", 10, 15, 30, 300, 1, 1, &p, 5.0);
}

static void test_stdp_dopamine_level(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    da_params p = DA_DEFAULT;
    p.b = 0.01;
    const int t1 = 10, tp = 15, ta = 30, t2 = 400;
    const int pre[] = {t1, t2, -1}, post[] = {tp, -1};
    n4d_model *m = da_pair_model(ctx, pre, post, NULL, &p, 1.0, 1, 0);
    /* n = level - baseline = 0.3 from step 30 (decay 0) */
    const double want = nest_weight(&p, 1.0, 1, t1, tp, ta, t2, false, 0.3);
    const char *backends[] = {"cpu-ref", "cpu-omp"};
    for (int b = 0; b < 2; b++) {
        n4d_sim *s = sim_on(m, backends[b], 2);
        ASSERT_OK(n4d_sim_run(s, ta), s);
        ASSERT_OK(n4d_sim_reward(s, 0.3, 0.0), s);
        ASSERT_OK(n4d_sim_run(s, t2 + 1 - ta), s);
        const double got = weight_of(s, "da");
        CHECK(fabs(got - want) <= 2e-7 * fabs(want), "%s: weight %.9g, NEST (tau_n infinite) %.9g",
              backends[b], got, want);
        CHECK(fabs(want - 1.0) > 0.1, "the weight changes: %g", want);
        n4d_sim_destroy(s);
    }
    n4d_model_destroy(m);

    /* a level decaying step by step: n constant within each step */
    const clock_pop pops[] = {{"pre", 1, pre}, {"post", 1, post}};
    m = clock_model(ctx, pops, 2);
    add_mod(m, "dopamine", 0.5, 0.04, NAN, NULL, 0, NAN);
    const n4d_param_value sp[] = {{"b", 0.0}, {"A_plus", 2.0}};
    add_proj(m, "da", "pre", "post", N4D_RULE_ONE_TO_ONE, 0, 1.0, 1.0, "stdp_dopamine", sp, 2);
    ASSERT_OK(n4d_model_build(m), m);
    double w = 1.0;
    const double c0 = 2.0 * exp(-(tp + 1.0 - t1) / 20.0), tau_c = 1000;
    double l = 0.5;
    for (int k = 0; k < t2; k++) {
        if (k == ta)
            l = 0.9;
        else if (k > ta)
            l = toward(l, 0.5, 0.04);
        if (k >= tp + 1) /* the step [k, k+1) */
            w += c0 * exp(-(k - (tp + 1.0)) / tau_c) * (l - 0.5) * tau_c * (1 - exp(-1 / tau_c));
    }
    for (int b = 0; b < 2; b++) {
        n4d_sim *s = sim_on(m, backends[b], 2);
        ASSERT_OK(n4d_sim_run(s, ta), s);
        ASSERT_OK(n4d_sim_set_modulator(s, "dopamine", 0.9), s);
        ASSERT_OK(n4d_sim_run(s, t2 + 1 - ta), s);
        const double got = weight_of(s, "da");
        CHECK(fabs(got - w) <= 2e-7 * w, "%s: weight %.9g, step by step %.9g", backends[b], got, w);
        CHECK(fabs(w - 1.0) > 0.1, "the weight changes: %g", w);
        n4d_sim_destroy(s);
    }
    n4d_model_destroy(m);

    /* without a dopamine modulator */
    m = clock_model(ctx, pops, 2);
    add_proj(m, "da", "pre", "post", N4D_RULE_ONE_TO_ONE, 0, 1.0, 1.0, "stdp_dopamine", NULL, 0);
    ASSERT_OK(n4d_model_build(m), m);
    n4d_sim *s = NULL;
    ASSERT_ERR_MSG(n4d_sim_create(m, NULL, &s), N4D_E_CONFIG, m,
                   "synapse class \"da\" (stdp_dopamine) reads the modulator \"dopamine\"");
    n4d_model_destroy(m);
    m = clock_model(ctx, pops, 2);
    add_mod(m, "dopamine", 0.5, 0.04, NAN, NULL, 0, NAN);
    const n4d_param_value bad[] = {{"Wmin", 3.0}, {"Wmax", 1.0}};
    add_proj(m, "da", "pre", "post", N4D_RULE_ONE_TO_ONE, 0, 1.0, 1.0, "stdp_dopamine", bad, 2);
    ASSERT_OK(n4d_model_build(m), m);
    ASSERT_ERR_MSG(n4d_sim_create(m, NULL, &s), N4D_E_CONFIG, m, "Wmin 3 is above Wmax 1");
    n4d_model_destroy(m);
    assert_int_equal(mem_current(ctx), 0);
    n4d_context_destroy(ctx);
}

/* ---- bitwise across backends, thread counts and batches ------------------------------------ */

static n4d_model *net_model(n4d_context *ctx, bool driven, double delay)
{
    n4d_model *m = NULL;
    OK(n4d_model_create(ctx, &m));
    const uint32_t shape[4] = {60, 1, 1, 1};
    ASSERT_OK(n4d_model_set_lattice(m, shape), m);
    ASSERT_OK(n4d_model_set_seed(m, 11), m);
    const char *names[] = {"IN", "SIL", "OUT", "DA"};
    const int32_t x0[] = {0, 30, 40, 55}, x1[] = {29, 39, 54, 59};
    for (int k = 0; k < 4; k++) {
        char an[16];
        snprintf(an, sizeof an, "a%d", k);
        const int32_t lo[4] = {x0[k], 0, 0, 0}, hi[4] = {x1[k], 0, 0, 0};
        ASSERT_OK(n4d_model_add_area(m, an, lo, hi), m);
        n4d_population_desc d;
        n4d_population_desc_init(&d);
        d.name = names[k];
        d.area = an;
        d.model = N4D_NEURON_LIF_EXP;
        ASSERT_OK(n4d_model_add_population(m, &d, NULL), m);
        n4d_input_desc in;
        n4d_input_desc_init(&in);
        in.kind = N4D_INPUT_POISSON;
        in.target = names[k];
        in.rate = k == 2 ? 300 : 900;
        in.weight = 3.0;
        if (k == 1) /* SIL: active for 150 ms, then silent for good */
            in.stop = 150;
        ASSERT_OK(n4d_model_add_input(m, &in), m);
    }
    const n4d_param_value sp[] = {{"A_plus", 0.5}, {"A_minus", 0.6}, {"tau_c", 200},
                                  {"tau_n", 100}, {"b", 0.001}, {"Wmax", 6}};
    add_proj(m, "in_out", "IN", "OUT", N4D_RULE_FIXED_PROBABILITY, 0.5, 2.0, delay,
             "stdp_dopamine", sp, 6);
    add_proj(m, "sil_out", "SIL", "OUT", N4D_RULE_FIXED_PROBABILITY, 0.5, 2.0, delay + 1,
             "stdp_dopamine", sp, 6);
    if (driven)
        add_mod(m, "dopamine", 0.0, 0.01, NAN, "DA", 0.02, delay);
    else
        add_mod(m, "dopamine", 0.5, 0.02, NAN, NULL, 0, NAN);
    add_mod(m, "serotonin", 0.3, 0.05, NAN, NULL, 0, NAN);
    ASSERT_OK(n4d_model_bind_modulator(m, "OUT", N4D_MOD_THRESHOLD, "serotonin", -0.02), m);
    ASSERT_OK(n4d_model_build(m), m);
    return m;
}

typedef struct run_out {
    uint64_t checksum, spikes;
    float w[2000];
    uint64_t nw;
} run_out;

static void net_run(n4d_model *m, const char *backend, int threads, bool driven, run_out *o)
{
    n4d_sim *s = sim_on(m, backend, threads);
    for (int k = 0; k < 30; k++) { /* 3000 steps: the silent neurons' updates at 1024, 2048 */
        if (!driven)
            ASSERT_OK(n4d_sim_reward(s, k % 3 == 0 ? 0.4 : 0.0, 0.1), s);
        ASSERT_OK(n4d_sim_punishment(s, 0.02 * k, 0.0), s);
        ASSERT_OK(n4d_sim_run(s, 100), s);
    }
    o->checksum = n4d_sim_checksum(s);
    o->spikes = n4d_sim_total_spikes(s);
    ASSERT_OK(n4d_sim_get_weights(s, NULL, 2000, NULL, NULL, o->w, &o->nw), s);
    assert_true(o->nw <= 2000);
    n4d_sim_destroy(s);
}

static void test_stdp_dopamine_bitwise(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    static run_out ref, got;
    for (int driven = 0; driven < 2; driven++)
        for (int dl = 0; dl < 2; dl++) {
            n4d_model *m = net_model(ctx, driven, dl ? 3.0 : 1.0);
            net_run(m, "cpu-ref", 1, driven, &ref);
            /* learning happened: weights moved away from 2 in both directions */
            int up = 0, down = 0;
            for (uint64_t k = 0; k < ref.nw; k++) {
                up += ref.w[k] > 2.01f;
                down += ref.w[k] < 1.99f;
            }
            CHECK(up > 10 && down > 10 && ref.spikes > 1000,
                  "driven %d: %d weights up, %d down, %llu spikes", driven, up, down,
                  (unsigned long long)ref.spikes);
            for (int t = 1; t <= 3; t++) {
                net_run(m, "cpu-omp", t, driven, &got);
                CHECK(got.checksum == ref.checksum && got.spikes == ref.spikes && got.nw == ref.nw,
                      "driven %d delay %d, %d threads: spikes differ", driven, dl, t);
                CHECK(memcmp(got.w, ref.w, ref.nw * sizeof(float)) == 0,
                      "driven %d delay %d, %d threads: weights differ", driven, dl, t);
            }
            n4d_model_destroy(m);
        }
    assert_int_equal(mem_current(ctx), 0);
    n4d_context_destroy(ctx);
}

/* A saved model keeps its modulators and bindings: the loaded one runs the
 * same bits. */
static void test_save_load(void **state)
{
    (void)state;
    if (!n4d_has_feature(N4D_FEATURE_HDF5)) {
        print_message("HDF5 not built: skipped\n");
        return;
    }
    n4d_context *ctx = new_ctx();
    static run_out a, b;
    for (int driven = 0; driven < 2; driven++) {
        n4d_model *m = net_model(ctx, driven, 2.0);
        char path[512];
        snprintf(path, sizeof path, "%s/modulators_%d.h5", N4D_BINARY_DIR, driven);
        ASSERT_OK(n4d_model_save(m, path, NULL), m);
        n4d_model *l = NULL;
        ASSERT_OK(n4d_model_load(ctx, path, NULL, &l), ctx);
        assert_int_equal(n4d_model_num_modulators(l), 2);
        net_run(m, "cpu-omp", 2, driven, &a);
        net_run(l, "cpu-omp", 2, driven, &b);
        CHECK(a.checksum == b.checksum && a.nw == b.nw &&
                  memcmp(a.w, b.w, a.nw * sizeof(float)) == 0,
              "driven %d: the loaded model runs differently", driven);
        n4d_model_destroy(l);
        n4d_model_destroy(m);
        remove(path);
    }
    assert_int_equal(mem_current(ctx), 0);
    n4d_context_destroy(ctx);
}

/* ---- configuration -------------------------------------------------------------------------- */

static const char *CFG_HEAD =
    "{\"dt\": 1.0, \"lattice_shape\": [10, 1, 1, 1],\n"
    " \"areas\": [{\"name\": \"A\", \"coord_ranges\": {\"x\": [0, 4], \"y\": [0, 0], \"z\": [0, 0], "
    "\"w\": [0, 0]}},\n"
    "           {\"name\": \"B\", \"coord_ranges\": {\"x\": [5, 9], \"y\": [0, 0], \"z\": [0, 0], "
    "\"w\": [0, 0]}}],\n"
    " \"populations\": [{\"name\": \"E\", \"area\": \"A\", \"model\": \"lif_exp\"},\n"
    "                   {\"name\": \"P\", \"area\": \"B\", \"model\": \"parrot\"}],\n"
    " \"neuromodulation\": ";

static n4d_status load(n4d_context *ctx, const char *section, n4d_model **m)
{
    static char text[4096];
    snprintf(text, sizeof text, "%s%s}\n", CFG_HEAD, section);
    *m = NULL;
    return n4d_model_from_json_string(ctx, text, strlen(text), "cfg.json", m);
}

static void test_config(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    n4d_model *m = NULL;
    /* the 4D Neural Cognition section as the reference writes it */
    ASSERT_OK(load(ctx,
                   "{\"enabled\": true,\n"
                   " \"dopamine\": {\"baseline\": 0.5, \"decay_rate\": 0.1, "
                   "\"learning_rate_modulation\": 2.0},\n"
                   " \"serotonin\": {\"baseline\": 0.5, \"decay_rate\": 0.1, "
                   "\"inhibition_strength\": 0.5},\n"
                   " \"norepinephrine\": {\"baseline\": 0.5, \"decay_rate\": 0.1, "
                   "\"gain_modulation\": 2.0}}",
                   &m),
              ctx);
    assert_int_equal(n4d_model_num_modulators(m), 3);
    assert_string_equal(n4d_model_modulator_name(m, 2), "norepinephrine");
    assert_string_equal(n4d_model_warnings(m), "");
    n4d_model_destroy(m);
    /* disabled */
    ASSERT_OK(load(ctx, "{\"enabled\": false, \"dopamine\": {\"baseline\": 0.5}}", &m), ctx);
    assert_int_equal(n4d_model_num_modulators(m), 0);
    n4d_model_destroy(m);
    /* n4d's keys: bindings and a driven modulator */
    ASSERT_OK(load(ctx,
                   "{\"serotonin\": {\"level\": 0.8, \"threshold_of\": [\"E\"], "
                   "\"inhibition_strength\": -0.1},\n"
                   " \"norepinephrine\": {\"gain_of\": [\"E\"]},\n"
                   " \"dopamine\": {\"baseline\": 0.1, \"driven_by\": {\"population\": \"P\", "
                   "\"per_spike\": 0.2, \"delay\": 2}}}",
                   &m),
              ctx);
    ASSERT_OK(n4d_model_build(m), m);
    n4d_sim *s = sim_on(m, "cpu-omp", 1);
    double l;
    ASSERT_OK(n4d_sim_get_modulator(s, "serotonin", &l), s);
    assert_true(l == 0.8);
    ASSERT_ERR_MSG(n4d_sim_set_modulator(s, "dopamine", 0.5), N4D_E_STATE, s, "driven by");
    n4d_sim_destroy(s);
    n4d_model_destroy(m);

    static const struct {
        const char *section, *expect;
    } BAD[] = {
        {"[1]", "neuromodulation: got an array (expected an object of modulators by name)"},
        {"{\"dopamine\": 3}", "neuromodulation.dopamine: got an integer (expected an object of modulator settings)"},
        {"{\"dopamine\": {\"gain\": 1}}", "neuromodulation.dopamine.gain: unknown key"},
        {"{\"dopamine\": {\"baseline\": 1.5}}", "neuromodulation.dopamine.baseline: 1.5"},
        {"{\"dopamine\": {\"level\": -1}}", "neuromodulation.dopamine.level: -1"},
        {"{\"dopamine\": {\"decay_rate\": \"x\"}}", "neuromodulation.dopamine.decay_rate: got a string (expected a number in [0, 1])"},
        {"{\"dopamine\": {\"driven_by\": {\"population\": \"Q\"}}}",
         "neuromodulation.dopamine.driven_by.population: unknown population \"Q\""},
        {"{\"dopamine\": {\"driven_by\": {}}}", "neuromodulation.dopamine.driven_by.population: missing key \"population\""},
        {"{\"dopamine\": {\"driven_by\": {\"population\": \"P\", \"delay\": 0.5}}}",
         "neuromodulation.dopamine.driven_by.delay: 0.5 ms is shorter than one step"},
        {"{\"dopamine\": {\"driven_by\": {\"population\": \"P\", \"per_spike\": 2}}}",
         "neuromodulation.dopamine.driven_by.per_spike: 2"},
        {"{\"dopamine\": {\"driven_by\": {\"population\": \"P\", \"rate\": 2}}}",
         "neuromodulation.dopamine.driven_by.rate: unknown key"},
        {"{\"serotonin\": {\"threshold_of\": [\"P\"]}}",
         "neuromodulation.serotonin.threshold_of[0]: modulator \"serotonin\": population \"P\" "
         "(model parrot) has no threshold parameter"},
        {"{\"serotonin\": {\"threshold_of\": \"E\"}}",
         "neuromodulation.serotonin.threshold_of: got a string (expected an array of population names)"},
        {"{\"serotonin\": {\"gain_of\": [\"X\"]}}", "neuromodulation.serotonin.gain_of[0]: unknown population \"X\""},
        {"{\"serotonin\": {\"gain_of\": [\"E\"]}, \"ne\": {\"gain_of\": [\"E\"]}}",
         "its gain is already bound to modulator \"serotonin\""},
        {"{\"enabled\": 1}", "neuromodulation.enabled"},
    };
    int failures = 0;
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        n4d_status st = load(ctx, BAD[i].section, &m);
        const char *err = n4d_last_error(ctx);
        if (st != N4D_E_CONFIG || !strstr(err, BAD[i].expect) || m) {
            print_error("case %zu: status %d, error \"%s\" (expected \"%s\")\n", i, (int)st, err,
                        BAD[i].expect);
            failures++;
        }
        assert_int_equal(mem_current(ctx), 0);
    }
    assert_int_equal(failures, 0);
    n4d_context_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_levels_api),
        cmocka_unit_test(test_model_errors),
        cmocka_unit_test(test_driven_levels),
        cmocka_unit_test(test_bindings),
        cmocka_unit_test(test_hebb_dopamine),
        cmocka_unit_test(test_stdp_dopamine_spikes),
        cmocka_unit_test(test_stdp_dopamine_level),
        cmocka_unit_test(test_stdp_dopamine_bitwise),
        cmocka_unit_test(test_save_load),
        cmocka_unit_test(test_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
