/* The adex model (adaptive exponential integrate-and-fire, NEST
 * aeif_psc_exp) against a double-precision reference integration written
 * here: RK4 with 1000 substeps per step, libm exp, the same event
 * semantics as n4d (docs/models.md: the input of a step joins the currents
 * at its start; a spike when V >= V_peak at the end of a step, then
 * V = V_reset, w += b, V held while refractory). n4d integrates in float
 * with 4 RK4 substeps per step; spike steps agree within one step (a
 * crossing close to the end of a step), and between spikes, each side
 * aligned on its own last spike, the subthreshold V, the adaptation current
 * w and the synaptic currents agree within the tolerances below (about
 * three times the largest differences measured). Also: reset and spike-triggered adaptation,
 * refractoriness (V held at V_reset exactly), Delta_T = 0, parameter
 * checks, the deterministic exponential, and cpu-ref vs cpu-omp bit for
 * bit. */
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
#include "neuron.h" /* n4d__adex_exp */
#include "test_util.h"

#define DT 0.1
/* tolerances against the reference (the largest differences measured with
 * 4 RK4 substeps per 0.1 ms step: V 1.4e-3 mV, w 2.5e-4, currents 1.5e-6) */
#define TOL_V 5e-3 /* mV, subthreshold (V < V_th - 2 mV), more than 2 ms after a spike */
#define TOL_W 1e-3 /* relative to |w| + 10 pA */
#define TOL_I 1e-5 /* relative to |I_ex| + |I_in| + 1 pA */

/* ---- the double reference --------------------------------------------------- */

typedef struct aprm {
    double C_m, g_L, E_L, V_th, Delta_T, tau_w, a, b, V_reset, t_ref, V_peak, tau_ex, tau_in,
        I_e;
} aprm;

static aprm nest_defaults(void)
{
    aprm p = {281.0, 30.0, -70.6, -50.4, 2.0, 144.0, 4.0, 80.5, -60.0, 0.0, 0.0, 0.2, 2.0, 0.0};
    return p;
}

typedef struct ref_state {
    double V, w, ie, ii;
    long ref_until; /* V held at V_reset through this step */
} ref_state;

static void ref_rhs(const aprm *p, double V, double w, double I, int refr, double *dV, double *dw)
{
    const double Vc = refr ? p->V_reset : fmin(V, p->V_peak);
    const double ex = p->Delta_T > 0.0 ? p->g_L * p->Delta_T * exp((Vc - p->V_th) / p->Delta_T)
                                       : 0.0;
    *dV = refr ? 0.0 : (-p->g_L * (Vc - p->E_L) + ex - w + I) / p->C_m;
    *dw = (p->a * (Vc - p->E_L) - w) / p->tau_w;
}

/* Step t of the reference with input in_e, in_i arriving at its start and
 * external current ext; returns 1 on a spike. */
static int ref_step(const aprm *p, ref_state *s, long t, double in_e, double in_i, double ext)
{
    const int M = 1000;
    const double h = DT / M;
    const double vspike = p->Delta_T > 0.0 ? p->V_peak : p->V_th;
    const long ref_steps = (long)floor(p->t_ref / DT + 0.5);
    s->ie += in_e;
    s->ii += in_i;
    for (int k = 0; k < M; k++) {
        const int refr = t <= s->ref_until;
        const double t0 = k * h;
        double I[3];
        for (int j = 0; j < 3; j++) { /* currents at t0, t0 + h/2, t0 + h (exact) */
            const double tt = t0 + 0.5 * h * j;
            I[j] = s->ie * exp(-tt / p->tau_ex) + s->ii * exp(-tt / p->tau_in) + p->I_e + ext;
        }
        double k1v, k1w, k2v, k2w, k3v, k3w, k4v, k4w;
        const double V = refr ? p->V_reset : s->V, w = s->w;
        ref_rhs(p, V, w, I[0], refr, &k1v, &k1w);
        ref_rhs(p, V + 0.5 * h * k1v, w + 0.5 * h * k1w, I[1], refr, &k2v, &k2w);
        ref_rhs(p, V + 0.5 * h * k2v, w + 0.5 * h * k2w, I[1], refr, &k3v, &k3w);
        ref_rhs(p, V + h * k3v, w + h * k3w, I[2], refr, &k4v, &k4w);
        s->V = refr ? p->V_reset : V + h / 6.0 * (k1v + 2.0 * k2v + 2.0 * k3v + k4v);
        s->w = w + h / 6.0 * (k1w + 2.0 * k2w + 2.0 * k3w + k4w);
    }
    /* the threshold is checked at the end of the step (as n4d, Brian2 and
     * GeNN do; NEST resets inside the step, docs/models.md) */
    const int spiked = t > s->ref_until && !(s->V < vspike);
    if (spiked) {
        s->V = p->V_reset;
        s->w += p->b;
        s->ref_until = ref_steps > 0 ? t + ref_steps : -1;
    }
    s->ie *= exp(-DT / p->tau_ex);
    s->ii *= exp(-DT / p->tau_in);
    return spiked;
}

/* ---- the n4d side ------------------------------------------------------------- */

/* A model with the adex neuron "N" (id 0) and two lif drivers "E" (id 1)
 * and "I" (id 2) with DC inputs (0: none) projecting one to one to N with
 * weights we and wi (pA) and a delay of `delay` steps. */
static n4d_model *adex_model(n4d_context *ctx, const aprm *p, double dc_e, double we, double dc_i,
                             double wi, int delay)
{
    n4d_model *m = NULL;
    ASSERT_OK(n4d_model_create(ctx, &m), ctx);
    ASSERT_OK(n4d_model_set_dt(m, DT), m);
    const uint32_t shape[4] = {3, 1, 1, 1};
    ASSERT_OK(n4d_model_set_lattice(m, shape), m);
    static const char *const names[3] = {"N", "E", "I"};
    for (int32_t k = 0; k < 3; k++) {
        const int32_t lo[4] = {k, 0, 0, 0};
        ASSERT_OK(n4d_model_add_area(m, names[k], lo, lo), m);
    }
    const n4d_param_value pv[] = {
        {"C_m", p->C_m},         {"g_L", p->g_L},       {"E_L", p->E_L},
        {"V_th", p->V_th},       {"Delta_T", p->Delta_T}, {"tau_w", p->tau_w},
        {"a", p->a},             {"b", p->b},           {"V_reset", p->V_reset},
        {"t_ref", p->t_ref},     {"V_peak", p->V_peak}, {"tau_syn_ex", p->tau_ex},
        {"tau_syn_in", p->tau_in}, {"I_e", p->I_e}};
    n4d_population_desc d;
    n4d_population_desc_init(&d);
    d.name = "N";
    d.area = "N";
    d.model_name = "adex";
    d.params = pv;
    d.n_params = 14;
    ASSERT_OK(n4d_model_add_population(m, &d, NULL), m);
    for (int k = 1; k < 3; k++) {
        n4d_population_desc_init(&d);
        d.name = names[k];
        d.area = names[k];
        d.model_name = "lif";
        ASSERT_OK(n4d_model_add_population(m, &d, NULL), m);
        const double dc = k == 1 ? dc_e : dc_i, w = k == 1 ? we : wi;
        if (dc == 0.0)
            continue;
        n4d_input_desc in;
        n4d_input_desc_init(&in);
        in.kind = N4D_INPUT_DC;
        in.target = names[k];
        in.amplitude = dc;
        ASSERT_OK(n4d_model_add_input(m, &in), m);
        n4d_projection_desc pr;
        n4d_projection_desc_init(&pr);
        pr.source = names[k];
        pr.target = "N";
        pr.rule = N4D_RULE_ONE_TO_ONE;
        pr.weight = n4d_dist_constant(w);
        pr.delay = n4d_dist_constant(delay * DT);
        ASSERT_OK(n4d_model_add_projection(m, &pr, NULL), m);
    }
    return m;
}

static n4d_sim *new_sim(n4d_model *m, const char *backend)
{
    n4d_sim *sim = sim_on(m, backend, 2);
    return sim;
}

static void free_all(n4d_context *ctx, n4d_model *m, n4d_sim *sim)
{
    n4d_sim_destroy(sim);
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
}

typedef struct trace {
    long n_spikes;
    long spikes[4096];
    double max_dv, max_dw, max_di; /* largest differences seen */
} trace;

/* Runs `steps` steps of the model of adex_model and of the reference side
 * by side, comparing V, w and the currents (see the tolerances); the spike
 * steps of both go to got and ref. */
static void run_compare(const aprm *p, double dc_e, double we, double dc_i, double wi, long steps,
                        trace *got, trace *ref, int check_refractory)
{
    const int delay = 5;
    n4d_context *ctx = NULL;
    assert_int_equal(n4d_context_create(NULL, &ctx), N4D_OK);
    n4d_model *m = adex_model(ctx, p, dc_e, we, dc_i, wi, delay);
    n4d_sim *sim = new_sim(m, "cpu-ref");
    ref_state rs = {p->E_L, 0.0, 0.0, 0.0, -1};
    memset(got, 0, sizeof *got);
    memset(ref, 0, sizeof *ref);
    double *arr_e = calloc((size_t)steps + delay + 1, sizeof(double));
    double *arr_i = calloc((size_t)steps + delay + 1, sizeof(double));
    assert_non_null(arr_e);
    assert_non_null(arr_i);
    const long ref_steps = (long)floor(p->t_ref / DT + 0.5);
    long last_got_spike = -100000;
    double *gv = malloc((size_t)steps * sizeof(double)), *gw = malloc((size_t)steps * sizeof(double));
    double *rv = malloc((size_t)steps * sizeof(double)), *rw = malloc((size_t)steps * sizeof(double));
    assert_true(gv && gw && rv && rw);
    float v[3], w[3], ie[3], ii[3];
    for (long t = 0; t < steps; t++) {
        ASSERT_OK(n4d_sim_step(sim), sim);
        const uint32_t *ids;
        uint64_t ns;
        ASSERT_OK(n4d_sim_last_spikes(sim, &ids, &ns), sim);
        for (uint64_t k = 0; k < ns; k++) {
            if (ids[k] == 0) {
                assert_true(got->n_spikes < 4096);
                got->spikes[got->n_spikes++] = t;
                last_got_spike = t;
            } else { /* a driver: arrives at N at t + delay */
                (ids[k] == 1 ? arr_e : arr_i)[t + delay] += ids[k] == 1 ? we : wi;
            }
        }
        if (ref_step(p, &rs, t, arr_e[t], arr_i[t], 0.0)) {
            assert_true(ref->n_spikes < 4096);
            ref->spikes[ref->n_spikes++] = t;
        }
        ASSERT_OK(n4d_sim_get_state(sim, "v", v, 3), sim);
        ASSERT_OK(n4d_sim_get_state(sim, "w", w, 3), sim);
        ASSERT_OK(n4d_sim_get_state(sim, "i_ex", ie, 3), sim);
        ASSERT_OK(n4d_sim_get_state(sim, "i_in", ii, 3), sim);
        assert_true(isnan(w[1]) && isnan(ie[2])); /* the drivers lack them */
        if (last_got_spike == t) { /* reset and spike-triggered adaptation */
            assert_true(v[0] == (float)p->V_reset);
        }
        if (check_refractory && last_got_spike >= 0 && t > last_got_spike &&
            t <= last_got_spike + ref_steps)
            assert_true(v[0] == (float)p->V_reset); /* held exactly */
        const double di = fmax(fabs(ie[0] - rs.ie), fabs(ii[0] - rs.ii)) /
                          (fabs(rs.ie) + fabs(rs.ii) + 1.0);
        got->max_di = fmax(got->max_di, di);
        if (di > TOL_I) {
            print_error("step %ld: currents %g %g, reference %g %g\n", t, ie[0], ii[0], rs.ie,
                        rs.ii);
            fail();
        }
        gv[t] = v[0];
        gw[t] = w[0];
        rv[t] = rs.V;
        rw[t] = rs.w;
    }
    /* V and w between spikes, each side's trajectory aligned on its own
     * last spike (spike steps may differ by one), away from the upswing
     * (V < V_th - 2) and from the reset (more than 2 ms after it) */
    long k = -1; /* got's last spike at or before t */
    for (long t = 0; t < steps; t++) {
        while (k + 1 < got->n_spikes && got->spikes[k + 1] <= t)
            k++;
        if (k >= ref->n_spikes)
            break; /* compare_spikes reports it */
        const long shift = k < 0 ? 0 : got->spikes[k] - ref->spikes[k];
        const long tr = t - shift;
        if (tr < 0 || tr >= steps || (k >= 0 && t - got->spikes[k] <= 20))
            continue;
        if ((k + 1 < ref->n_spikes && ref->spikes[k + 1] <= tr) || (k < 0 && ref->n_spikes &&
                                                                    ref->spikes[0] <= tr))
            continue; /* the reference spiked again first */
        if (!(gv[t] < p->V_th - 2.0 && rv[tr] < p->V_th - 2.0))
            continue;
        const double dv = fabs(gv[t] - rv[tr]), dw = fabs(gw[t] - rw[tr]) / (fabs(rw[tr]) + 10.0);
        got->max_dv = fmax(got->max_dv, dv);
        got->max_dw = fmax(got->max_dw, dw);
        if (dv > TOL_V || dw > TOL_W) {
            print_error("step %ld: V %.6f w %.6f, reference (step %ld) V %.6f w %.6f\n", t, gv[t],
                        gw[t], tr, rv[tr], rw[tr]);
            fail();
        }
    }
    free(gv);
    free(gw);
    free(rv);
    free(rw);
    free(arr_e);
    free(arr_i);
    free_all(ctx, m, sim);
}

/* Spike steps equal within one step, same count. */
static void compare_spikes(const trace *got, const trace *ref, const char *what)
{
    if (got->n_spikes != ref->n_spikes) {
        print_error("%s: %ld spikes, reference %ld\n", what, got->n_spikes, ref->n_spikes);
        fail();
    }
    for (long k = 0; k < got->n_spikes; k++)
        if (labs(got->spikes[k] - ref->spikes[k]) > 1) {
            print_error("%s: spike %ld at step %ld, reference %ld\n", what, k, got->spikes[k],
                        ref->spikes[k]);
            fail();
        }
}

/* ---- tests ------------------------------------------------------------------------- */

/* Tonic spiking with adaptation (NEST defaults, I_e 1 nA): spike times,
 * subthreshold V and w against the reference; the ISIs grow (adaptation). */
static void test_adex_dc_adaptation(void **state)
{
    (void)state;
    aprm p = nest_defaults();
    p.I_e = 1000.0;
    static trace got, ref;
    run_compare(&p, 0.0, 0.0, 0.0, 0.0, 5000, &got, &ref, 0);
    print_message("tonic: %ld spikes, max |dV| %.2e mV, max rel dw %.2e\n", got.n_spikes,
                  got.max_dv, got.max_dw);
    compare_spikes(&got, &ref, "tonic");
    assert_true(got.n_spikes >= 10);
    const long isi0 = got.spikes[1] - got.spikes[0];
    const long isi1 = got.spikes[got.n_spikes - 1] - got.spikes[got.n_spikes - 2];
    assert_true(isi1 > isi0 + 10); /* adaptation lengthens the intervals */
    print_message("tonic: %ld spikes, max |dV| %.2e mV, max rel dw %.2e\n", got.n_spikes,
                  got.max_dv, got.max_dw);
}

/* Refractoriness (t_ref 2 ms: V held at V_reset for 20 steps) and a
 * stronger adaptation. */
static void test_adex_refractory(void **state)
{
    (void)state;
    aprm p = nest_defaults();
    p.I_e = 1500.0;
    p.t_ref = 2.0;
    p.a = 8.0;
    p.b = 40.0;
    static trace got, ref;
    run_compare(&p, 0.0, 0.0, 0.0, 0.0, 4000, &got, &ref, 1);
    print_message("refractory: %ld spikes, max |dV| %.2e mV, max rel dw %.2e\n", got.n_spikes,
                  got.max_dv, got.max_dw);
    compare_spikes(&got, &ref, "refractory");
    assert_true(got.n_spikes >= 10);
    for (long k = 1; k < got.n_spikes; k++)
        assert_true(got.spikes[k] - got.spikes[k - 1] > 20);
}

/* Exponential currents from driver spikes (excitatory and inhibitory, pA),
 * subthreshold and spiking; currents within TOL_I of the reference. */
static void test_adex_synaptic_currents(void **state)
{
    (void)state;
    aprm p = nest_defaults();
    static trace got, ref;
    /* subthreshold: PSPs only */
    run_compare(&p, 30.0, 400.0, 20.0, -300.0, 3000, &got, &ref, 0);
    print_message("psp: max |dV| %.2e mV, max rel dw %.2e, max rel dI %.2e\n", got.max_dv,
                  got.max_dw, got.max_di);
    compare_spikes(&got, &ref, "psp");
    assert_int_equal(got.n_spikes, 0);
    assert_true(got.max_dv > 0.0); /* something was compared */
    /* strong excitation: spikes */
    p.tau_ex = 1.0;
    run_compare(&p, 30.0, 14000.0, 20.0, -100.0, 3000, &got, &ref, 0);
    print_message("driven: %ld spikes, max |dV| %.2e mV, max rel dw %.2e, max rel dI %.2e\n",
                  got.n_spikes, got.max_dv, got.max_dw, got.max_di);
    compare_spikes(&got, &ref, "driven");
    assert_true(got.n_spikes > 3);
}

/* Delta_T = 0: integrate-and-fire with threshold V_th. */
static void test_adex_delta_t_zero(void **state)
{
    (void)state;
    aprm p = nest_defaults();
    p.Delta_T = 0.0;
    p.I_e = 1200.0;
    static trace got, ref;
    run_compare(&p, 0.0, 0.0, 0.0, 0.0, 3000, &got, &ref, 0);
    print_message("Delta_T = 0: %ld spikes, max |dV| %.2e mV, max rel dw %.2e\n", got.n_spikes,
                  got.max_dv, got.max_dw);
    compare_spikes(&got, &ref, "Delta_T = 0");
    assert_true(got.n_spikes >= 5);
}

/* cpu-omp (vectorised kernels, 2 threads) equals cpu-ref bit for bit. */
static void test_adex_backends_bitwise(void **state)
{
    (void)state;
    aprm p = nest_defaults();
    p.I_e = 500.0;
    p.t_ref = 1.0;
    n4d_context *ctx = NULL;
    assert_int_equal(n4d_context_create(NULL, &ctx), N4D_OK);
    n4d_model *m = adex_model(ctx, &p, 30.0, 900.0, 20.0, -400.0, 3);
    n4d_sim *a = new_sim(m, "cpu-ref"), *b = new_sim(m, "cpu-omp");
    ASSERT_OK(n4d_sim_run(a, 3000), a);
    ASSERT_OK(n4d_sim_run(b, 3000), b);
    assert_true(n4d_sim_total_spikes(a) > 20);
    assert_true(n4d_sim_checksum(a) == n4d_sim_checksum(b));
    static const char *const vars[5] = {"v", "i_ex", "i_in", "w", "refractory"};
    for (int k = 0; k < 5; k++) {
        float x[3], y[3];
        ASSERT_OK(n4d_sim_get_state(a, vars[k], x, 3), a);
        ASSERT_OK(n4d_sim_get_state(b, vars[k], y, 3), b);
        assert_memory_equal(x, y, sizeof x);
    }
    n4d_sim_destroy(b);
    free_all(ctx, m, a);
}

/* Parameter checks name the population, the parameter and the model. */
static void test_adex_params(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    assert_int_equal(n4d_context_create(NULL, &ctx), N4D_OK);
    n4d_model *m = NULL;
    ASSERT_OK(n4d_model_create(ctx, &m), ctx);
    const int32_t lo[4] = {0, 0, 0, 0};
    ASSERT_OK(n4d_model_add_area(m, "A", lo, lo), m);
    n4d_population_desc d;
    n4d_population_desc_init(&d);
    d.name = "N";
    d.area = "A";
    d.model_name = "adex";
    const n4d_param_value bad_peak[] = {{"V_peak", -55.0}};
    d.params = bad_peak;
    d.n_params = 1;
    ASSERT_ERR_MSG(n4d_model_add_population(m, &d, NULL), N4D_E_RANGE, m,
                   "population \"N\" (model \"adex\"): V_peak");
    const n4d_param_value bad_c[] = {{"C_m", 0.0}};
    d.params = bad_c;
    ASSERT_ERR_MSG(n4d_model_add_population(m, &d, NULL), N4D_E_RANGE, m,
                   "parameter \"C_m\" of model \"adex\"");
    const n4d_param_value alias[] = {{"V_T", -52.0}};
    d.params = alias;
    ASSERT_OK(n4d_model_add_population(m, &d, NULL), m);
    double x = 0.0;
    ASSERT_OK(n4d_model_get_population_param(m, "N", "V_th", &x), m);
    assert_true(x == -52.0);
    ASSERT_OK(n4d_model_get_population_param(m, "N", "E_L", &x), m);
    assert_true(x == -70.6);
    ASSERT_ERR_MSG(n4d_model_set_population_param(m, "N", "tau_m", 10.0), N4D_E_CONFIG, m,
                   "unknown parameter \"tau_m\" of model \"adex\"");
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
}

/* The deterministic exponential: within 2 ulp of exp over its range. */
static void test_adex_exp(void **state)
{
    (void)state;
    double worst = 0.0;
    for (double x = -87.0; x <= 88.0; x += 0.001) {
        const float xf = (float)x;
        const double want = exp((double)xf), got = n4d__adex_exp(xf);
        const double ulp = ldexp(1.0, ilogb(want) - 23);
        worst = fmax(worst, fabs(got - want) / ulp);
    }
    print_message("n4d__adex_exp: worst error %.2f ulp\n", worst);
    assert_true(worst <= 2.0);
    assert_true(n4d__adex_exp(-1000.0f) == n4d__adex_exp(-87.0f));
    assert_true(n4d__adex_exp(NAN) == n4d__adex_exp(-87.0f));
    assert_true(isfinite(n4d__adex_exp(1000.0f)));
    assert_true(n4d__adex_exp(0.0f) == 1.0f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_adex_exp),
        cmocka_unit_test(test_adex_params),
        cmocka_unit_test(test_adex_dc_adaptation),
        cmocka_unit_test(test_adex_refractory),
        cmocka_unit_test(test_adex_synaptic_currents),
        cmocka_unit_test(test_adex_delta_t_zero),
        cmocka_unit_test(test_adex_backends_bitwise),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
