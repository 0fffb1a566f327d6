/* Wrong answers, not only inconsistency (issue "Hostile input and wrong
 * answers", item 5): results compared with values computed here,
 * independently of the library's kernels, so that a bug shared by every
 * backend fails. The planted bugs these tests must catch are listed in
 * tests/README.md.
 *   - lif_cond_exp against a double-precision reference: excitatory and
 *     inhibitory conductance PSPs through both reversal potentials, spikes,
 *     the refractory clamp; the synaptic events come through projections
 *     (delivery, delays, fixed point);
 *   - Poisson input statistics: the events per neuron and step (recovered
 *     from the conductance of a lif_cond_exp neuron whose threshold is out
 *     of reach) have mean and variance rate x dt x n_sources, and none
 *     outside the input's [start, stop) window;
 *   - a DC input's [start, stop) window against the expected steps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "n4d.h"
#include "test_util.h"

#define DT 0.1
#define KICK 1.0e5f /* external input that makes a resting lif neuron spike */

static const char *const BACKENDS[] = {"cpu-ref", "cpu-omp"};

static n4d_model *new_model(n4d_context *ctx, uint32_t x)
{
    n4d_model *m = NULL;
    OK(n4d_model_create(ctx, &m));
    const uint32_t shape[4] = {x, 1, 1, 1};
    ASSERT_OK(n4d_model_set_lattice(m, shape), m);
    ASSERT_OK(n4d_model_set_dt(m, DT), m);
    return m;
}

static void add_pop(n4d_model *m, const char *name, int32_t x0, int32_t x1, const char *model,
                    const n4d_param_value *pv, uint32_t npv)
{
    const int32_t lo[4] = {x0, 0, 0, 0}, hi[4] = {x1, 0, 0, 0};
    ASSERT_OK(n4d_model_add_area(m, name, lo, hi), m);
    n4d_population_desc d;
    n4d_population_desc_init(&d);
    d.name = name;
    d.area = name;
    d.model_name = model;
    d.params = pv;
    d.n_params = npv;
    ASSERT_OK(n4d_model_add_population(m, &d, NULL), m);
}

static void connect(n4d_model *m, const char *src, const char *tgt, double w, double delay)
{
    n4d_projection_desc p;
    n4d_projection_desc_init(&p);
    p.source = src;
    p.target = tgt;
    p.rule = N4D_RULE_ALL_TO_ALL;
    p.weight = n4d_dist_constant(w);
    p.delay = n4d_dist_constant(delay);
    p.syn_type = w < 0 ? N4D_SYN_INHIBITORY : N4D_SYN_EXCITATORY;
    ASSERT_OK(n4d_model_add_projection(m, &p, NULL), m);
}

static n4d_sim *new_sim(n4d_model *m, const char *backend)
{
    n4d_sim_options o;
    n4d_sim_options_init(&o);
    o.backend = backend;
    o.num_threads = 2;
    n4d_sim *sim = NULL;
    ASSERT_OK(n4d_sim_create(m, &o, &sim), m);
    return sim;
}

/* ---- lif_cond_exp against a reference ------------------------------------ */

/* Parameters of the target (and of the reference below). */
#define T_TAU_M 20.0
#define T_V_REST -60.0
#define T_V_RESET -65.0
#define T_V_TH -50.0
#define T_T_REF 2.0
#define T_TAU_E 5.0
#define T_TAU_I 10.0
#define T_E_EX 0.0
#define T_E_IN -80.0
#define T_I_E 35.0
#define W_E 0.05
#define W_I -0.08
#define D_E 10 /* steps */
#define D_I 3

typedef struct ref_neuron {
    double v, ge, gi;
    int ref;
} ref_neuron;

/* One step of lif_cond_exp as docs/models.md states it, in double. */
static int ref_step(ref_neuron *n, double in_e, double in_i_abs)
{
    const double e = n->ge + in_e, i = n->gi + in_i_abs;
    const double drive = e * (T_E_EX - n->v) + i * (T_E_IN - n->v) - (n->v - T_V_REST) + T_I_E;
    const double vn = n->v + drive / T_TAU_M * DT;
    int spike = 0;
    if (n->ref > 0) {
        n->ref--;
    } else if (vn >= T_V_TH) {
        spike = 1;
        n->v = T_V_RESET;
        n->ref = (int)lround(T_T_REF / DT) - 1;
    } else {
        n->v = vn;
    }
    n->ge = e * exp(-DT / T_TAU_E);
    n->gi = i * exp(-DT / T_TAU_I);
    return spike;
}

static void test_lif_cond_exp_reference(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    OK(n4d_context_create(NULL, &ctx));
    n4d_model *m = new_model(ctx, 3);
    const n4d_param_value src[] = {{"t_ref", 0.0}};
    const n4d_param_value tgt[] = {
        {"tau_m", T_TAU_M},   {"v_rest", T_V_REST},     {"v_reset", T_V_RESET},
        {"v_threshold", T_V_TH}, {"t_ref", T_T_REF},    {"tau_syn_ex", T_TAU_E},
        {"tau_syn_in", T_TAU_I}, {"e_ex", T_E_EX},      {"e_in", T_E_IN},
        {"i_e", T_I_E}};
    add_pop(m, "SE", 0, 0, "lif", src, 1);
    add_pop(m, "SI", 1, 1, "lif", src, 1);
    add_pop(m, "T", 2, 2, "lif_cond_exp", tgt, sizeof tgt / sizeof tgt[0]);
    connect(m, "SE", "T", W_E, D_E * DT);
    connect(m, "SI", "T", W_I, D_I * DT);
    ASSERT_OK(n4d_model_build(m), m);
    enum { STEPS = 1500 };
    for (int b = 0; b < 2; b++) {
        n4d_sim *sim = new_sim(m, BACKENDS[b]);
        ref_neuron r = {T_V_REST, 0, 0, 0};
        double arr_e[STEPS + 64] = {0}, arr_i[STEPS + 64] = {0};
        int spikes = 0, kicked_e = 0, kicked_i = 0;
        double max_dv = 0;
        for (int k = 0; k < STEPS; k++) {
            /* bursts of excitation, then of inhibition, then both */
            const int phase = (k / 100) % 3;
            const int ke = (phase == 0 || phase == 2) && k % 7 == 0;
            const int ki = (phase == 1 || phase == 2) && k % 5 == 0;
            if (ke) {
                ASSERT_OK(n4d_sim_add_input(sim, 0, KICK), sim);
                arr_e[k + D_E] += W_E;
                kicked_e++;
            }
            if (ki) {
                ASSERT_OK(n4d_sim_add_input(sim, 1, KICK), sim);
                arr_i[k + D_I] += -W_I;
                kicked_i++;
            }
            ASSERT_OK(n4d_sim_step(sim), sim);
            CHECK(n4d_sim_spiked_at(sim, 0, (uint64_t)k) == ke &&
                      n4d_sim_spiked_at(sim, 1, (uint64_t)k) == ki,
                  "%s: a source did not spike as kicked at step %d", BACKENDS[b], k);
            const int want = ref_step(&r, arr_e[k], arr_i[k]);
            spikes += want;
            float v[3];
            ASSERT_OK(n4d_sim_get_state(sim, "v", v, 3), sim);
            const int got = n4d_sim_spiked_at(sim, 2, (uint64_t)k);
            CHECK(got == want, "%s: step %d: target spike %d, reference %d (V %.6f, ref %.6f)",
                  BACKENDS[b], k, got, want, (double)v[2], r.v);
            const double dv = fabs((double)v[2] - r.v);
            max_dv = dv > max_dv ? dv : max_dv;
            CHECK(dv < 2e-3, "%s: step %d: V %.6f mV, reference %.6f mV", BACKENDS[b], k,
                  (double)v[2], r.v);
            if (k % 50 == 49) { /* the conductances too */
                float ge[3], gi[3];
                ASSERT_OK(n4d_sim_get_state(sim, "ge", ge, 3), sim);
                ASSERT_OK(n4d_sim_get_state(sim, "gi", gi, 3), sim);
                CHECK(fabs(ge[2] - r.ge) < 1e-5 * (1 + r.ge) && fabs(gi[2] - r.gi) < 1e-5 * (1 + r.gi),
                      "%s: step %d: ge %.7f gi %.7f, reference %.7f %.7f", BACKENDS[b], k,
                      (double)ge[2], (double)gi[2], r.ge, r.gi);
            }
        }
        /* the run exercised what it claims: spikes with refractory steps,
         * both conductances, V on both sides of rest */
        CHECK(spikes >= 5 && kicked_e > 50 && kicked_i > 50, "%s: %d spikes", BACKENDS[b],
              spikes);
        print_message("%s: %d target spikes, max |V - reference| %.2g mV\n", BACKENDS[b], spikes,
                      max_dv);
        n4d_sim_destroy(sim);
    }
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
}

/* ---- Poisson statistics and windows --------------------------------------- */

#define P_TAU_E 0.5
#define P_N 400
#define P_RATE 500.0 /* Hz per source */
#define P_SOURCES 20 /* lambda = 500 * 1e-4 * 20 = 1 event per step */
#define P_START 20.0 /* ms */
#define P_STOP 120.0

/* Events of each neuron in each step, recovered from ge: ge' = (ge + in) *
 * pe in float (the model's step), so in = ge' / pe - ge, rounded. */
static void poisson_run(const char *backend, int32_t sampling, double *mean, double *var,
                        uint64_t *outside)
{
    n4d_context *ctx = NULL;
    OK(n4d_context_create(NULL, &ctx));
    n4d_model *m = new_model(ctx, P_N);
    const n4d_param_value tp[] = {{"v_threshold", 1e30}, {"tau_syn_ex", P_TAU_E}};
    add_pop(m, "T", 0, P_N - 1, "lif_cond_exp", tp, 2);
    n4d_input_desc in;
    n4d_input_desc_init(&in);
    in.kind = N4D_INPUT_POISSON;
    in.target = "T";
    in.rate = P_RATE;
    in.weight = 1.0;
    in.n_sources = P_SOURCES;
    in.start = P_START;
    in.stop = P_STOP;
    in.sampling = sampling;
    ASSERT_OK(n4d_model_add_input(m, &in), m);
    ASSERT_OK(n4d_model_build(m), m);
    n4d_sim *sim = new_sim(m, backend);
    const float pe = (float)exp(-DT / P_TAU_E);
    float prev[P_N] = {0}, ge[P_N];
    double s1 = 0, s2 = 0;
    uint64_t n = 0;
    *outside = 0;
    const int k0 = (int)lround(P_START / DT), k1 = (int)lround(P_STOP / DT);
    for (int k = 0; k < k1 + 100; k++) {
        ASSERT_OK(n4d_sim_step(sim), sim);
        ASSERT_OK(n4d_sim_get_state(sim, "ge", ge, P_N), sim);
        for (int i = 0; i < P_N; i++) {
            const double ev = (double)ge[i] / (double)pe - (double)prev[i];
            const double c = nearbyint(ev);
            CHECK(fabs(ev - c) < 1e-3, "%s: step %d neuron %d: %.6f events", backend, k, i, ev);
            if (k >= k0 && k < k1) {
                s1 += c;
                s2 += c * c;
                n++;
            } else {
                *outside += (uint64_t)c;
            }
            prev[i] = ge[i];
        }
    }
    *mean = s1 / (double)n;
    *var = s2 / (double)n - *mean * *mean;
    n4d_sim_destroy(sim);
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
}

static void test_poisson_statistics(void **state)
{
    (void)state;
    const double lambda = P_RATE * 1e-3 * DT * P_SOURCES;
    const double n = P_N * (P_STOP - P_START) / DT;
    /* 6 standard errors: a Poisson count's mean has variance lambda / n,
     * its sample variance (lambda + 2 lambda^2) / n */
    const double tol_m = 6 * sqrt(lambda / n), tol_v = 6 * sqrt((lambda + 2 * lambda * lambda) / n);
    for (int b = 0; b < 2; b++)
        for (int32_t smp = 0; smp < 2; smp++) {
            double mean, var;
            uint64_t outside;
            poisson_run(BACKENDS[b], smp, &mean, &var, &outside);
            print_message("%s sampling %d: mean %.4f var %.4f (expected %.4f +- %.4f / %.4f)\n",
                          BACKENDS[b], smp, mean, var, lambda, tol_m, tol_v);
            CHECK(fabs(mean - lambda) < tol_m, "%s sampling %d: mean %.5f events per step, "
                  "expected rate x dt x n_sources = %.5f", BACKENDS[b], smp, mean, lambda);
            CHECK(fabs(var - lambda) < tol_v, "%s sampling %d: variance %.5f, expected %.5f",
                  BACKENDS[b], smp, var, lambda);
            CHECK(outside == 0, "%s sampling %d: %llu events outside [%g, %g) ms", BACKENDS[b],
                  smp, (unsigned long long)outside, P_START, P_STOP);
        }
}

/* A DC input acts in the steps k with start <= k dt < stop. */
static void test_dc_window(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    OK(n4d_context_create(NULL, &ctx));
    n4d_model *m = new_model(ctx, 1);
    const n4d_param_value tp[] = {{"v_threshold", 1e30}, {"v_rest", -60.0}};
    add_pop(m, "T", 0, 0, "lif_cond_exp", tp, 2);
    n4d_input_desc in;
    n4d_input_desc_init(&in);
    in.kind = N4D_INPUT_DC;
    in.target = "T";
    in.amplitude = 5.0;
    in.start = 3.0;
    in.stop = 7.5;
    ASSERT_OK(n4d_model_add_input(m, &in), m);
    ASSERT_OK(n4d_model_build(m), m);
    for (int b = 0; b < 2; b++) {
        n4d_sim *sim = new_sim(m, BACKENDS[b]);
        float prev = -60.0f, v;
        for (int k = 0; k < 120; k++) {
            ASSERT_OK(n4d_sim_step(sim), sim);
            ASSERT_OK(n4d_sim_get_state(sim, "v", &v, 1), sim);
            const int on = k >= 30 && k < 75;
            /* V rises exactly while the input is on and relaxes after */
            if (k < 30)
                CHECK(v == -60.0f, "%s: step %d: V %.6f before the DC starts", BACKENDS[b], k,
                      (double)v);
            else
                CHECK(on ? v > prev : v < prev, "%s: step %d: V %.6f after %.6f (input %s)",
                      BACKENDS[b], k, (double)v, (double)prev, on ? "on" : "off");
            if (k == 30) {
                const double want = -60.0 + 5.0 / 20.0 * DT;
                CHECK(fabs(v - want) < 1e-5, "%s: first DC step V %.6f, expected %.6f",
                      BACKENDS[b], (double)v, want);
            }
            prev = v;
        }
        n4d_sim_destroy(sim);
    }
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lif_cond_exp_reference),
        cmocka_unit_test(test_poisson_statistics),
        cmocka_unit_test(test_dc_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
