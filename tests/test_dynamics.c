/* Single-neuron dynamics of every neuron model against a float reference
 * written with the exact operation order of src/core/neuron.h (bitwise
 * equality) and against the analytic / double-precision solution (with a
 * tolerance appropriate to the integration scheme).
 *
 * Step convention (docs/models.md): the state read after the call that
 * simulated step k is the state at the end of step k; a synaptic event sent
 * at step t arrives in the update of step t + delay; n4d_sim_add_input acts
 * on the next simulated step only. */
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

/* ---- helpers ------------------------------------------------------------ */

/* Float bitwise equality with a readable message. */
static n4d_context *new_ctx(void)
{
    n4d_context *ctx = NULL;
    assert_int_equal(n4d_context_create(NULL, &ctx), N4D_OK);
    return ctx;
}

static void free_all(n4d_context *ctx, n4d_model *m, n4d_sim *sim)
{
    n4d_sim_destroy(sim);
    n4d_model_destroy(m);
    n4d_memory_stats ms;
    memset(&ms, 0, sizeof ms);
    ms.struct_size = sizeof ms;
    assert_int_equal(n4d_context_memory(ctx, &ms), N4D_OK);
    assert_int_equal(ms.total_current, 0);
    n4d_context_destroy(ctx);
}

/* A model with `npops` one-neuron populations "p0", "p1", ... all on the
 * single site of a 1x1x1x1 lattice (area "a"). */
static n4d_model *new_model(n4d_context *ctx, double dt)
{
    n4d_model *m = NULL;
    assert_int_equal(n4d_model_create(ctx, &m), N4D_OK);
    ASSERT_OK(n4d_model_set_dt(m, dt), m);
    const int32_t lo[4] = {0, 0, 0, 0}, hi[4] = {0, 0, 0, 0};
    ASSERT_OK(n4d_model_add_area(m, "a", lo, hi), m);
    return m;
}

/* The test's parameter record (fields named as the models' parameters):
 * the reference integrations below read it; add_pop passes the model's
 * parameters by name. */
typedef struct tparams {
    double tau_m, v_rest, v_reset, v_threshold, t_ref, tau_syn_ex, tau_syn_in, i_e;
    double a, b, c, d, v_peak, e_ex, e_in;
} tparams;

static const char *const TNAMES[] = {"tau_m", "v_rest", "v_reset", "v_threshold", "t_ref",
                                     "tau_syn_ex", "tau_syn_in", "i_e", "a", "b", "c", "d",
                                     "v_peak", "e_ex", "e_in"};
#define NTNAMES (sizeof TNAMES / sizeof TNAMES[0])

/* Registry index of model id `model`. */
static int32_t model_index(int32_t model)
{
    for (int32_t i = 0; i < n4d_neuron_model_count(); i++) {
        n4d_neuron_model_info info;
        memset(&info, 0, sizeof info);
        info.struct_size = sizeof info;
        assert_int_equal(n4d_neuron_model_info_get(i, &info), N4D_OK);
        if (info.id == model)
            return i;
    }
    fail_msg("model %d is not registered", (int)model);
    return -1;
}

/* Parameter k of model `model` (registry order): its tparams field index
 * (-1 when k is past the last) and its default. */
static int param_field(int32_t model, int32_t k, double *def)
{
    n4d_param_info pi;
    memset(&pi, 0, sizeof pi);
    pi.struct_size = sizeof pi;
    if (n4d_neuron_model_param_info(model_index(model), k, &pi) != N4D_OK)
        return -1;
    for (size_t j = 0; j < NTNAMES; j++)
        if (strcmp(TNAMES[j], pi.name) == 0) {
            *def = pi.default_value;
            return (int)j;
        }
    fail_msg("parameter %s is not a field of tparams", pi.name);
    return -1;
}

/* The registry's defaults of `model` (fields the model lacks keep 0). */
static void tparams_init(tparams *p, int32_t model)
{
    memset(p, 0, sizeof *p);
    double def = 0.0, *f = &p->tau_m;
    for (int32_t k = 0, j; (j = param_field(model, k, &def)) >= 0; k++)
        f[j] = def;
}

/* Izhikevich parameters of preset i (regular spiking, fast spiking,
 * chattering, intrinsically bursting). */
static void tparams_izh(tparams *p, int i)
{
    static const double table[4][4] = {
        {0.02, 0.2, -65.0, 8.0}, {0.1, 0.2, -65.0, 2.0}, {0.02, 0.2, -50.0, 2.0},
        {0.02, 0.2, -55.0, 4.0}};
    tparams_init(p, N4D_NEURON_IZHIKEVICH);
    p->a = table[i][0];
    p->b = table[i][1];
    p->c = table[i][2];
    p->d = table[i][3];
}

/* The parameters of `model` from p as name/value pairs (pv: 16 entries). */
static uint32_t tparams_pairs(const tparams *p, int32_t model, n4d_param_value *pv)
{
    double def = 0.0;
    const double *f = &p->tau_m;
    uint32_t n = 0;
    for (int32_t k = 0, j; (j = param_field(model, k, &def)) >= 0; k++) {
        pv[n].name = TNAMES[j];
        pv[n++].value = f[j];
    }
    return n;
}

static void add_pop(n4d_model *m, const char *name, int32_t model, const tparams *p)
{
    n4d_population_desc d;
    n4d_population_desc_init(&d);
    d.name = name;
    d.area = "a";
    d.model = model;
    n4d_param_value pv[16];
    d.params = pv;
    d.n_params = tparams_pairs(p, model, pv);
    ASSERT_OK(n4d_model_add_population(m, &d, NULL), m);
}

static void add_dc(n4d_model *m, const char *target, double amplitude)
{
    n4d_input_desc in;
    n4d_input_desc_init(&in);
    in.kind = N4D_INPUT_DC;
    in.target = target;
    in.amplitude = amplitude;
    ASSERT_OK(n4d_model_add_input(m, &in), m);
}

static n4d_sim *new_sim(n4d_model *m, const char *backend)
{
    n4d_sim_options o;
    n4d_sim_options_init(&o);
    o.backend = backend;
    n4d_sim *sim = NULL;
    ASSERT_OK(n4d_sim_create(m, &o, &sim), m);
    return sim;
}

static void get(n4d_sim *sim, const char *var, float *out, uint64_t n)
{
    ASSERT_OK(n4d_sim_get_state(sim, var, out, n), sim);
}

static int spiked_last(n4d_sim *sim, uint32_t id)
{
    const uint32_t *ids = NULL;
    uint64_t c = 0;
    assert_int_equal(n4d_sim_last_spikes(sim, &ids, &c), N4D_OK);
    for (uint64_t i = 0; i < c; i++)
        if (ids[i] == id)
            return 1;
    return 0;
}

/* ---- lif: reference of neuron.h (4D Neural Cognition, Euler) ------------ */

typedef struct lif_ref {
    float v, v_rest, v_reset, v_th, tau_m, dt, i_e;
    int32_t ref, ref_steps;
} lif_ref;

static lif_ref lif_ref_init(const tparams *p, double dt)
{
    lif_ref r;
    r.v = (float)p->v_rest;
    r.v_rest = (float)p->v_rest;
    r.v_reset = (float)p->v_reset;
    r.v_th = (float)p->v_threshold;
    r.tau_m = (float)p->tau_m;
    r.dt = (float)dt;
    r.i_e = (float)p->i_e;
    r.ref = 0;
    r.ref_steps = (int32_t)floor(p->t_ref / dt + 0.5);
    return r;
}

/* One step with synaptic input 0 and external input `ext`. */
static int lif_ref_step(lif_ref *r, float ext)
{
    if (r->ref > 0) {
        r->ref--;
        return 0;
    }
    float vv = r->v;
    float drive = (0.0f + 0.0f) + (ext + r->i_e);
    vv = vv + (-(vv - r->v_rest) + drive) / r->tau_m * r->dt;
    if (vv >= r->v_th) {
        r->v = r->v_reset;
        r->ref = r->ref_steps > 0 ? r->ref_steps - 1 : 0;
        return 1;
    }
    r->v = vv;
    return 0;
}

/* With DC input (one population through a DC input, one through i_e), V
 * follows the float Euler recurrence bitwise and the continuous solution
 * v_rest + I (1 - exp(-t/tau_m)) within the Euler error. */
static void lif_dc_case(double dt, double I, long steps)
{
    n4d_context *ctx = new_ctx();
    n4d_model *m = new_model(ctx, dt);
    tparams p;
    tparams_init(&p, N4D_NEURON_LIF);
    add_pop(m, "dc", N4D_NEURON_LIF, &p);
    tparams pie = p;
    pie.i_e = I;
    add_pop(m, "ie", N4D_NEURON_LIF, &pie);
    add_dc(m, "dc", I);
    n4d_sim *sim = new_sim(m, "cpu-ref");
    assert_int_equal(n4d_model_num_neurons(m), 2);

    lif_ref r = lif_ref_init(&p, dt);
    const float If = (float)I;
    const double h = dt / p.tau_m;
    /* Euler's global error for this linear ODE is at most about
     * |I| h / (2e); float rounding adds ulp(65 mV) / h at worst. */
    const double tol = fabs(I) * h * 0.25 + 2e-3;
    double max_err = 0.0;
    float v[2];
    for (long k = 0; k < steps; k++) {
        ASSERT_OK(n4d_sim_step(sim), sim);
        int spk = lif_ref_step(&r, If);
        assert_int_equal(spk, 0); /* subthreshold */
        get(sim, "v", v, 2);
        ASSERT_FLOAT_BITS(v[0], r.v, "lif V (DC input)", k);
        ASSERT_FLOAT_BITS(v[1], r.v, "lif V (i_e)", k);
        double t = (double)(k + 1) * dt;
        double exact = p.v_rest + I * (1.0 - exp(-t / p.tau_m));
        double err = fabs((double)v[0] - exact);
        if (err > max_err)
            max_err = err;
        if (err > tol) {
            print_error("dt %g step %ld: V %.7f vs analytic %.7f (tol %g)\n", dt, k, (double)v[0],
                        exact, tol);
            fail();
        }
    }
    /* the Euler error is really there (and of the expected order) */
    assert_true(max_err > fabs(I) * h * 0.05);
    assert_int_equal(n4d_sim_total_spikes(sim), 0);
    free_all(ctx, m, sim);
}

static void test_lif_dc_recurrence(void **state)
{
    (void)state;
    lif_dc_case(1.0, 10.0, 300);   /* the 4D Neural Cognition step */
    lif_dc_case(0.1, 10.0, 1000);
    lif_dc_case(0.1, -7.5, 1000);  /* hyperpolarising */
}

/* First spike at the step the float recurrence predicts, within one step of
 * the analytic crossing t* = tau_m ln(I / (I - (v_th - v_rest))); reset to
 * v_reset; refractory for exactly round(t_ref/dt) - 1 steps after the spike
 * step with V frozen; periodic firing afterwards. */
static void lif_spike_case(double dt)
{
    const double I = 20.0;
    n4d_context *ctx = new_ctx();
    n4d_model *m = new_model(ctx, dt);
    tparams p;
    tparams_init(&p, N4D_NEURON_LIF); /* t_ref 5 ms */
    add_pop(m, "p", N4D_NEURON_LIF, &p);
    add_dc(m, "p", I);
    n4d_sim *sim = new_sim(m, "cpu-ref");

    lif_ref r = lif_ref_init(&p, dt);
    const int32_t ref_steps = (int32_t)floor(p.t_ref / dt + 0.5);
    const long steps = (long)(200.0 / dt);
    long spikes[64];
    int ns = 0;
    float v, refr;
    for (long k = 0; k < steps; k++) {
        ASSERT_OK(n4d_sim_step(sim), sim);
        int want = lif_ref_step(&r, (float)I);
        int got = spiked_last(sim, 0);
        if (got != want) {
            print_error("dt %g step %ld: spike %d, reference %d\n", dt, k, got, want);
            fail();
        }
        get(sim, "v", &v, 1);
        get(sim, "refractory", &refr, 1);
        ASSERT_FLOAT_BITS(v, r.v, "lif V", k);
        assert_true(refr == (float)r.ref);
        if (got) {
            assert_true(ns < 64);
            spikes[ns++] = k;
        }
    }
    assert_true(ns >= 3);

    /* first spike vs. the analytic threshold crossing */
    const double t_star = p.tau_m * log(I / (I - (p.v_threshold - p.v_rest)));
    const double t_first = (double)(spikes[0] + 1) * dt; /* end of the spike step */
    if (fabs(t_first - t_star) > dt + 1e-9) {
        print_error("dt %g: first spike at %g ms, analytic %g ms\n", dt, t_first, t_star);
        fail();
    }

    /* replay around each spike: reset, frozen V for ref_steps - 1 steps,
     * then integration resumes from v_reset */
    n4d_sim_destroy(sim);
    sim = new_sim(m, "cpu-ref");
    long next = 0;
    for (long k = 0; k <= spikes[1] + ref_steps + 1; k++) {
        ASSERT_OK(n4d_sim_step(sim), sim);
        get(sim, "v", &v, 1);
        get(sim, "refractory", &refr, 1);
        if (next < ns && k == spikes[next]) {
            assert_true(v == (float)p.v_reset);
            assert_true(refr == (float)(ref_steps - 1));
        } else if (next > 0 && k - spikes[next - 1] < ref_steps) {
            /* refractory: step - last_spike < t_ref / dt */
            assert_false(spiked_last(sim, 0));
            assert_true(v == (float)p.v_reset);
            assert_true(refr == (float)(ref_steps - 1 - (k - spikes[next - 1])));
        } else if (next > 0 && k - spikes[next - 1] == ref_steps) {
            /* first update after the refractory period */
            float vr = (float)p.v_reset;
            float want = vr + (-(vr - (float)p.v_rest) + ((0.0f + 0.0f) + ((float)I + 0.0f))) /
                                  (float)p.tau_m * (float)dt;
            ASSERT_FLOAT_BITS(v, want, "lif V after refractory", k);
            assert_true(v > (float)p.v_reset);
            assert_true(refr == 0.0f);
        }
        if (next < ns && k == spikes[next])
            next++;
    }
    /* the period is constant (the neuron restarts from v_reset each time) */
    for (int i = 2; i < ns; i++)
        assert_int_equal(spikes[i] - spikes[i - 1], spikes[1] - spikes[0]);
    free_all(ctx, m, sim);
}

static void test_lif_first_spike_reset_refractory(void **state)
{
    (void)state;
    lif_spike_case(1.0);
    lif_spike_case(0.1);
}

/* External input given during the refractory period is discarded: a neuron
 * that receives large (positive and negative) inputs only while refractory
 * keeps exactly the trajectory of an identical neuron without them; the
 * same input outside the refractory period does act. */
static void test_lif_refractory_discards_input(void **state)
{
    (void)state;
    const double dt = 1.0;
    n4d_context *ctx = new_ctx();
    n4d_model *m = NULL;
    assert_int_equal(n4d_model_create(ctx, &m), N4D_OK);
    ASSERT_OK(n4d_model_set_dt(m, dt), m);
    const uint32_t shape[4] = {2, 1, 1, 1};
    ASSERT_OK(n4d_model_set_lattice(m, shape), m);
    const int32_t lo[4] = {0, 0, 0, 0}, hi[4] = {1, 0, 0, 0};
    ASSERT_OK(n4d_model_add_area(m, "a", lo, hi), m);
    tparams p;
    tparams_init(&p, N4D_NEURON_LIF); /* t_ref = 5 ms = 5 steps */
    add_pop(m, "p", N4D_NEURON_LIF, &p);
    add_dc(m, "p", 20.0);
    n4d_sim *sim = new_sim(m, "cpu-ref");
    assert_int_equal(n4d_model_num_neurons(m), 2);

    float v[2], refr[2];
    long last_spike = -1000, nspikes = 0, refractory_inputs = 0;
    for (long k = 0; k < 150; k++) {
        ASSERT_OK(n4d_sim_step(sim), sim);
        get(sim, "v", v, 2);
        get(sim, "refractory", refr, 2);
        ASSERT_FLOAT_BITS(v[1], v[0], "V of the neuron fed during refractory", k);
        const uint32_t *ids;
        uint64_t c;
        assert_int_equal(n4d_sim_last_spikes(sim, &ids, &c), N4D_OK);
        if (c) {
            assert_int_equal(c, 2); /* both, in lockstep */
            last_spike = k;
            nspikes++;
        }
        /* the next step k+1 is refractory iff (k+1) - last_spike < 5 */
        if (k + 1 - last_spike < 5) {
            assert_true(refr[1] > 0.0f);
            float big = (k % 2) ? 1.0e4f : -1.0e4f;
            ASSERT_OK(n4d_sim_add_input(sim, 1, big), sim);
            refractory_inputs++;
        } else {
            assert_true(refr[1] == 0.0f);
        }
    }
    assert_true(nspikes >= 3);
    assert_true(refractory_inputs >= 4 * (nspikes - 1) && refractory_inputs <= 4 * nspikes);

    /* control: the same kind of input outside the refractory period acts */
    for (;;) {
        ASSERT_OK(n4d_sim_step(sim), sim);
        get(sim, "refractory", refr, 2);
        if (refr[1] == 0.0f && !spiked_last(sim, 1))
            break;
    }
    ASSERT_OK(n4d_sim_add_input(sim, 1, -1.0e3f), sim);
    ASSERT_OK(n4d_sim_step(sim), sim);
    get(sim, "v", v, 2);
    assert_true(v[1] < v[0] - 1.0f);
    free_all(ctx, m, sim);
}

/* ---- lif_exp: reference of neuron.h (exact integration, CUBA) ----------- */

typedef struct lifx_ref {
    float v, ge, gi;
    int32_t ref, ref_steps;
    float v_rest, v_reset, v_th, i_e, pm, pe, pi, pem, pim, pdc;
} lifx_ref;

static lifx_ref lifx_ref_init(const tparams *q, double dt)
{
    lifx_ref r;
    memset(&r, 0, sizeof r);
    r.v = (float)q->v_rest;
    r.ref_steps = (int32_t)floor(q->t_ref / dt + 0.5);
    r.v_rest = (float)q->v_rest;
    r.v_reset = (float)q->v_reset;
    r.v_th = (float)q->v_threshold;
    r.i_e = (float)q->i_e;
    double pm = exp(-dt / q->tau_m);
    r.pm = (float)pm;
    r.pe = (float)exp(-dt / q->tau_syn_ex);
    r.pi = (float)exp(-dt / q->tau_syn_in);
    r.pdc = (float)-expm1(-dt / q->tau_m);
    r.pem = (float)(q->tau_syn_ex / (q->tau_syn_ex - q->tau_m) * (exp(-dt / q->tau_syn_ex) - pm));
    r.pim = (float)(q->tau_syn_in / (q->tau_syn_in - q->tau_m) * (exp(-dt / q->tau_syn_in) - pm));
    return r;
}

static int lifx_ref_step(lifx_ref *r, float in_e, float in_i, float ext)
{
    float ge = r->ge + in_e, gi = r->gi + in_i;
    int spike = 0;
    if (r->ref > 0) {
        r->ref--;
    } else {
        float vv = r->v;
        vv = r->v_rest + (vv - r->v_rest) * r->pm + ge * r->pem + gi * r->pim +
             (ext + r->i_e) * r->pdc;
        if (vv >= r->v_th) {
            vv = r->v_reset;
            r->ref = r->ref_steps > 0 ? r->ref_steps - 1 : 0;
            spike = 1;
        }
        r->v = vv;
    }
    r->ge = ge * r->pe;
    r->gi = gi * r->pi;
    return spike;
}

/* V(t) = v_rest + I (1 - exp(-t/tau_m)) over 1000 steps: bitwise equal to the
 * float propagator recurrence and within float rounding of the analytic
 * solution (exact integration has no truncation error). */
static void test_lif_exp_dc_exact(void **state)
{
    (void)state;
    const double dt = 0.1, I = 10.0;
    n4d_context *ctx = new_ctx();
    n4d_model *m = new_model(ctx, dt);
    tparams p;
    tparams_init(&p, N4D_NEURON_LIF_EXP);
    p.v_rest = -65.0;
    p.v_reset = -70.0;
    p.v_threshold = 1000.0; /* never */
    add_pop(m, "dc", N4D_NEURON_LIF_EXP, &p);
    tparams pie = p;
    pie.i_e = I;
    add_pop(m, "ie", N4D_NEURON_LIF_EXP, &pie);
    add_dc(m, "dc", I);
    n4d_sim *sim = new_sim(m, "cpu-ref");

    lifx_ref r = lifx_ref_init(&p, dt);
    float v[2], ge[2], gi[2];
    get(sim, "v", v, 2);
    assert_true(v[0] == -65.0f && v[1] == -65.0f);
    double max_err = 0.0;
    for (long k = 0; k < 1000; k++) {
        ASSERT_OK(n4d_sim_step(sim), sim);
        lifx_ref_step(&r, 0.0f, 0.0f, (float)I);
        get(sim, "v", v, 2);
        ASSERT_FLOAT_BITS(v[0], r.v, "lif_exp V (DC input)", k);
        ASSERT_FLOAT_BITS(v[1], r.v, "lif_exp V (i_e)", k);
        double t = (double)(k + 1) * dt;
        double exact = p.v_rest + I * (1.0 - exp(-t / p.tau_m));
        double err = fabs((double)v[0] - exact);
        max_err = err > max_err ? err : max_err;
    }
    /* float rounding only: a few ulp of 65 mV per step, damped by e^{-h/tau} */
    if (max_err > 1e-3) {
        print_error("lif_exp DC: max |V - analytic| = %g mV\n", max_err);
        fail();
    }
    get(sim, "ge", ge, 2);
    get(sim, "gi", gi, 2);
    assert_true(ge[0] == 0.0f && gi[0] == 0.0f);
    free_all(ctx, m, sim);
}

/* One synaptic event of weight w from a driver neuron (forced to spike at
 * step 0 by n4d_sim_add_input), one_to_one with a delay of one step, into
 * targets whose threshold is out of reach: the excitatory target's V - v_rest
 * is w tau_s/(tau_s - tau_m) (exp(-t/tau_s) - exp(-t/tau_m)) with t measured
 * from the start of the arrival step, and ge = w exp(-t/tau_s); the
 * inhibitory one likewise with tau_syn_in and a negative weight. */
static void lif_exp_psp_case(const char *backend, long steps)
{
    const double dt = 0.1, w = 2.0;
    n4d_context *ctx = new_ctx();
    n4d_model *m = new_model(ctx, dt);
    tparams pd;
    tparams_init(&pd, N4D_NEURON_LIF);
    add_pop(m, "drv", N4D_NEURON_LIF, &pd);
    tparams p;
    tparams_init(&p, N4D_NEURON_LIF_EXP); /* tau_m 20, tau_ex 5, tau_in 10 */
    p.v_rest = -65.0;
    p.v_threshold = 1000.0;
    add_pop(m, "exc", N4D_NEURON_LIF_EXP, &p);
    add_pop(m, "inh", N4D_NEURON_LIF_EXP, &p);
    n4d_projection_desc pr;
    n4d_projection_desc_init(&pr);
    pr.rule = N4D_RULE_ONE_TO_ONE;
    pr.source = "drv";
    pr.weight = n4d_dist_constant(w);
    pr.target = "exc";
    pr.syn_type = N4D_SYN_EXCITATORY;
    ASSERT_OK(n4d_model_add_projection(m, &pr, NULL), m);
    pr.target = "inh";
    pr.syn_type = N4D_SYN_INHIBITORY;
    ASSERT_OK(n4d_model_add_projection(m, &pr, NULL), m);
    n4d_sim_options o;
    n4d_sim_options_init(&o);
    o.backend = backend;
    o.num_threads = 2; /* cpu-omp: the driver and the targets in different blocks */
    n4d_sim *sim = NULL;
    ASSERT_OK(n4d_sim_create(m, &o, &sim), m);
    assert_int_equal(n4d_model_num_neurons(m), 3);
    assert_int_equal(n4d_model_num_synapses(m), 2);

    lifx_ref re = lifx_ref_init(&p, dt), ri = re;
    float v[3], ge[3], gi[3];
    /* step 0: the driver spikes; nothing has arrived yet */
    ASSERT_OK(n4d_sim_add_input(sim, 0, 1.0e5f), sim);
    ASSERT_OK(n4d_sim_step(sim), sim);
    const uint32_t *ids;
    uint64_t c;
    assert_int_equal(n4d_sim_last_spikes(sim, &ids, &c), N4D_OK);
    assert_int_equal(c, 1);
    assert_int_equal(ids[0], 0);
    lifx_ref_step(&re, 0.0f, 0.0f, 0.0f);
    lifx_ref_step(&ri, 0.0f, 0.0f, 0.0f);
    get(sim, "v", v, 3);
    assert_true(v[1] == -65.0f && v[2] == -65.0f);

    double peak_e = 0.0, peak_i = 0.0, max_err = 0.0, max_gerr = 0.0;
    for (long k = 1; k <= steps; k++) {
        ASSERT_OK(n4d_sim_step(sim), sim);
        float in = k == 1 ? (float)w : 0.0f;
        lifx_ref_step(&re, in, 0.0f, 0.0f);
        lifx_ref_step(&ri, 0.0f, -in, 0.0f);
        get(sim, "v", v, 3);
        get(sim, "ge", ge, 3);
        get(sim, "gi", gi, 3);
        ASSERT_FLOAT_BITS(v[1], re.v, "excitatory PSP V", k);
        ASSERT_FLOAT_BITS(ge[1], re.ge, "ge", k);
        ASSERT_FLOAT_BITS(v[2], ri.v, "inhibitory PSP V", k);
        ASSERT_FLOAT_BITS(gi[2], ri.gi, "gi", k);
        assert_true(gi[1] == 0.0f && ge[2] == 0.0f);
        assert_true(isnan(ge[0]) && isnan(gi[0])); /* the lif driver has no ge/gi */

        const double t = (double)k * dt; /* time since the start of step 1 */
        const double pe = w * p.tau_syn_ex / (p.tau_syn_ex - p.tau_m) *
                          (exp(-t / p.tau_syn_ex) - exp(-t / p.tau_m));
        const double pi = -w * p.tau_syn_in / (p.tau_syn_in - p.tau_m) *
                          (exp(-t / p.tau_syn_in) - exp(-t / p.tau_m));
        const double de = (double)v[1] - p.v_rest, di = (double)v[2] - p.v_rest;
        double err = fmax(fabs(de - pe), fabs(di - pi));
        max_err = fmax(max_err, err);
        max_gerr = fmax(max_gerr, fabs(ge[1] - w * exp(-t / p.tau_syn_ex)));
        max_gerr = fmax(max_gerr, fabs(gi[2] + w * exp(-t / p.tau_syn_in)));
        peak_e = fmax(peak_e, de);
        peak_i = fmin(peak_i, di);
    }
    if (max_err > 3e-4 || max_gerr > 1e-5) {
        print_error("PSP: max |V - analytic| = %g mV, max |g - analytic| = %g\n", max_err,
                    max_gerr);
        fail();
    }
    /* sanity: a depolarising and a hyperpolarising PSP of the expected size */
    assert_true(peak_e > 0.3 && peak_e < 0.33);
    assert_true(peak_i < -0.45 && peak_i > -0.55);
    free_all(ctx, m, sim);
}

static void test_lif_exp_psp(void **state)
{
    (void)state;
    lif_exp_psp_case("cpu-ref", 600);
    lif_exp_psp_case("cpu-omp", 200);
}

/* Suprathreshold DC: first spike and every interspike interval within one
 * step of the analytic values, t_first = tau_m ln(I / (I - (v_th - v_rest)))
 * and period = t_ref + tau_m ln((I - (v_reset - v_rest)) / (I - (v_th -
 * v_rest))); bitwise equal to the reference. */
static void test_lif_exp_period(void **state)
{
    (void)state;
    const double dt = 0.1;
    const double Is[3] = {20.0, 16.0, 40.0};
    for (int c = 0; c < 3; c++) {
        const double I = Is[c];
        n4d_context *ctx = new_ctx();
        n4d_model *m = new_model(ctx, dt);
        tparams p;
        tparams_init(&p, N4D_NEURON_LIF_EXP);
        p.v_rest = -65.0;
        p.v_reset = -70.0;
        p.v_threshold = -50.0;
        p.t_ref = 5.0;
        add_pop(m, "p", N4D_NEURON_LIF_EXP, &p);
        add_dc(m, "p", I);
        n4d_sim *sim = new_sim(m, "cpu-ref");
        lifx_ref r = lifx_ref_init(&p, dt);
        long spikes[64];
        int ns = 0;
        float v;
        for (long k = 0; k < 3000; k++) {
            ASSERT_OK(n4d_sim_step(sim), sim);
            int want = lifx_ref_step(&r, 0.0f, 0.0f, (float)I);
            assert_int_equal(spiked_last(sim, 0), want);
            get(sim, "v", &v, 1);
            ASSERT_FLOAT_BITS(v, r.v, "lif_exp V", k);
            if (want && ns < 64)
                spikes[ns++] = k;
        }
        const double th = p.v_threshold - p.v_rest, rs = p.v_reset - p.v_rest;
        const double t_first = p.tau_m * log(I / (I - th)) / dt;               /* steps */
        const double period = (p.t_ref + p.tau_m * log((I - rs) / (I - th))) / dt; /* steps */
        assert_true(ns >= 3);
        if (fabs((double)(spikes[0] + 1) - t_first) > 1.0) {
            print_error("I %g: first spike at step %ld, analytic %.3f steps\n", I, spikes[0],
                        t_first);
            fail();
        }
        for (int i = 1; i < ns; i++) {
            double isi = (double)(spikes[i] - spikes[i - 1]);
            if (fabs(isi - period) > 1.0) {
                print_error("I %g: ISI %g steps, analytic period %.3f steps\n", I, isi, period);
                fail();
            }
        }
        free_all(ctx, m, sim);
    }
}

/* Refractory: V is clamped at v_reset for the spike step and the following
 * round(t_ref/dt) - 1 steps (5 ms after the spike step integration resumes);
 * ge keeps decaying meanwhile and acts once the clamp ends. */
static void test_lif_exp_refractory_clamp(void **state)
{
    (void)state;
    const double dt = 0.1, I = 20.0;
    n4d_context *ctx = new_ctx();
    n4d_model *m = new_model(ctx, dt);
    tparams p;
    tparams_init(&p, N4D_NEURON_LIF_EXP);
    p.v_rest = -65.0;
    p.v_reset = -70.0;
    p.v_threshold = -50.0;
    p.t_ref = 5.0;
    add_pop(m, "p", N4D_NEURON_LIF_EXP, &p);
    add_dc(m, "p", I);
    n4d_sim *sim = new_sim(m, "cpu-ref");
    lifx_ref r = lifx_ref_init(&p, dt);
    const long ref_steps = 50;
    long spike = -1;
    float v, ge, refr;
    for (long k = 0; k < 1500; k++) {
        ASSERT_OK(n4d_sim_step(sim), sim);
        int want = lifx_ref_step(&r, 0.0f, 0.0f, (float)I);
        int got = spiked_last(sim, 0);
        assert_int_equal(got, want);
        get(sim, "v", &v, 1);
        get(sim, "ge", &ge, 1);
        get(sim, "refractory", &refr, 1);
        ASSERT_FLOAT_BITS(v, r.v, "lif_exp V", k);
        ASSERT_FLOAT_BITS(ge, r.ge, "lif_exp ge", k);
        if (got)
            spike = k;
        if (spike >= 0 && k - spike < ref_steps) {
            assert_true(v == (float)p.v_reset);
            assert_true(refr == (float)(ref_steps - 1 - (k - spike)));
        } else if (spike >= 0 && k - spike == ref_steps) {
            assert_true(v != (float)p.v_reset);
            assert_true(refr == 0.0f);
        }
        /* 1 ms into the refractory period of the first spike, inject an
         * excitatory current through the state */
        if (spike >= 0 && k - spike == 10 && r.ge == 0.0f) {
            float g = 30.0f;
            ASSERT_OK(n4d_sim_set_state(sim, "ge", &g, 1), sim);
            r.ge = g;
        }
    }
    assert_true(spike > 0);
    free_all(ctx, m, sim);
}

/* ---- izhikevich ------------------------------------------------------------ */

typedef struct izh_run {
    long spikes[4096];
    int n;
} izh_run;

/* Float reference with the operation order of neuron.h. */
static int izh_ref_step(const tparams *q, float dt, float *v, float *u, float I_ext)
{
    const float a = (float)q->a, b = (float)q->b, c = (float)q->c, d = (float)q->d;
    float vv = *v, uu = *u;
    float I = (0.0f + 0.0f) + (I_ext + (float)q->i_e);
    float nv = vv + dt * (0.04f * vv * vv + 5.0f * vv + 140.0f - uu + I);
    float nu = uu + dt * (a * (b * vv - uu));
    int spike = 0;
    if (nv >= (float)q->v_peak) {
        nv = c;
        nu = nu + d;
        spike = 1;
    }
    *v = nv;
    *u = nu;
    return spike;
}

/* Double-precision Euler of the same equations. */
static void izh_double(const tparams *q, double dt, double I, long steps, izh_run *out)
{
    double v = q->c, u = q->b * q->c;
    out->n = 0;
    for (long k = 0; k < steps; k++) {
        double nv = v + dt * (0.04 * v * v + 5.0 * v + 140.0 - u + I);
        double nu = u + dt * (q->a * (q->b * v - u));
        if (nv >= q->v_peak) {
            nv = q->c;
            nu += q->d;
            if (out->n < 4096)
                out->spikes[out->n++] = k;
        }
        v = nv;
        u = nu;
    }
}

/* Simulates the four presets side by side (one neuron each) with DC I. */
static void izh_simulate(double dt, double I, long steps, izh_run out[4], const char *backend)
{
    static const char *const names[4] = {"rs", "fs", "ch", "ib"};
    n4d_context *ctx = new_ctx();
    n4d_model *m = new_model(ctx, dt);
    tparams q[4];
    for (int i = 0; i < 4; i++) {
        tparams_izh(&q[i], i);
        add_pop(m, names[i], N4D_NEURON_IZHIKEVICH, &q[i]);
        add_dc(m, names[i], I);
    }
    n4d_sim *sim = new_sim(m, backend);
    float v[4], u[4], rv[4], ru[4];
    get(sim, "v", v, 4);
    get(sim, "u", u, 4);
    for (int i = 0; i < 4; i++) {
        rv[i] = (float)q[i].c;
        ru[i] = (float)(q[i].b * q[i].c);
        assert_true(v[i] == rv[i]);
        assert_true(u[i] == ru[i]);
        out[i].n = 0;
    }
    for (long k = 0; k < steps; k++) {
        ASSERT_OK(n4d_sim_step(sim), sim);
        get(sim, "v", v, 4);
        get(sim, "u", u, 4);
        for (int i = 0; i < 4; i++) {
            int want = izh_ref_step(&q[i], (float)dt, &rv[i], &ru[i], (float)I);
            if (spiked_last(sim, (uint32_t)i) != want) {
                print_error("%s step %ld: spike differs from the float reference\n", names[i], k);
                fail();
            }
            ASSERT_FLOAT_BITS(v[i], rv[i], names[i], k);
            ASSERT_FLOAT_BITS(u[i], ru[i], names[i], k);
            if (want && out[i].n < 4096)
                out[i].spikes[out[i].n++] = k;
        }
    }
    free_all(ctx, m, sim);
}

/* Float simulation == float reference bitwise; against a double-precision
 * Euler integration over 1000 ms: the same spike count (+-1) and every spike
 * time within one step for regular spiking, chattering and intrinsically
 * bursting. Fast spiking sits long near the v nullcline where float rounding
 * shifts each interval by a fraction of a step (about 0.16 step per spike, 2
 * ms after 1 s), so there every interspike interval must match within 2
 * steps instead. */
static void test_izhikevich_reference(void **state)
{
    (void)state;
    const double dt = 0.1, I = 10.0;
    const long steps = 10000; /* 1000 ms */
    static izh_run got[4], dbl;
    izh_simulate(dt, I, steps, got, "cpu-ref");
    for (int i = 0; i < 4; i++) {
        tparams q;
        tparams_izh(&q, i);
        izh_double(&q, dt, I, steps, &dbl);
        assert_true(got[i].n > 5);
        if (abs(got[i].n - dbl.n) > 1) {
            print_error("preset %d: %d spikes, double reference %d\n", i, got[i].n, dbl.n);
            fail();
        }
        int n = got[i].n < dbl.n ? got[i].n : dbl.n;
        for (int k = 0; k < n; k++) {
            long d = labs(got[i].spikes[k] - dbl.spikes[k]);
            if (i == 1 /* fast spiking */)
                d = k == 0 ? d
                           : labs((got[i].spikes[k] - got[i].spikes[k - 1]) -
                                  (dbl.spikes[k] - dbl.spikes[k - 1]));
            if (d > (i == 1 /* fast spiking */ ? 2 : 1)) {
                print_error("preset %d spike %d: step %ld, double reference %ld\n", i, k,
                            got[i].spikes[k], dbl.spikes[k]);
                fail();
            }
        }
    }
}

/* Qualitative behaviour: regular spiking fires tonic spikes with a settled
 * period, fast spiking fires faster than regular spiking for the same input,
 * chattering (bursting) has interspike intervals of two distinct scales.
 * Also the same on cpu-omp. */
static void test_izhikevich_behaviour(void **state)
{
    (void)state;
    const double dt = 0.1, I = 10.0;
    const long steps = 10000;
    static izh_run r[4], o[4];
    izh_simulate(dt, I, steps, r, "cpu-ref");
    izh_simulate(dt, I, steps, o, "cpu-omp");
    for (int i = 0; i < 4; i++) {
        assert_int_equal(r[i].n, o[i].n);
        assert_memory_equal(r[i].spikes, o[i].spikes, (size_t)r[i].n * sizeof(long));
    }
    const izh_run *rs = &r[0], *fs = &r[1], *ch = &r[2];
    /* RS: tonic, adapting to a constant period */
    assert_true(rs->n >= 10);
    long last = rs->spikes[rs->n - 1] - rs->spikes[rs->n - 2];
    for (int k = rs->n / 2; k < rs->n - 1; k++) {
        long isi = rs->spikes[k + 1] - rs->spikes[k];
        assert_true(labs(isi - last) <= 2);
        assert_true(isi > 100); /* > 10 ms: no bursts */
    }
    /* adaptation: the first interval is shorter than the settled one */
    assert_true(rs->spikes[1] - rs->spikes[0] < last);
    /* FS faster than RS */
    assert_true(fs->n > rs->n + rs->n / 2);
    /* CH: short intra-burst and long inter-burst intervals */
    long mn = 1L << 40, mx = 0;
    int n_short = 0, n_long = 0;
    for (int k = ch->n / 4; k < ch->n - 1; k++) {
        long isi = ch->spikes[k + 1] - ch->spikes[k];
        mn = isi < mn ? isi : mn;
        mx = isi > mx ? isi : mx;
    }
    for (int k = ch->n / 4; k < ch->n - 1; k++) {
        long isi = ch->spikes[k + 1] - ch->spikes[k];
        n_short += isi * 3 < mx;
        n_long += isi > mn * 3;
    }
    if (!(mx > 3 * mn && n_short >= 3 && n_long >= 3)) {
        print_error("chattering: ISI min %ld max %ld steps, %d short, %d long\n", mn, mx, n_short,
                    n_long);
        fail();
    }
}

/* ---- whole populations -------------------------------------------------- */

/* 1037 neurons per population (two 512-neuron blocks of the vectorised
 * kernels plus a remainder) with initial V drawn uniformly, for each model:
 * one population on the kernel path, one forced onto the scalar path by a
 * Poisson input of rate 0. Every neuron follows the scalar float reference
 * bitwise, spikes included, on cpu-ref and on cpu-omp with 2 threads. */
static void test_populations_match_reference(void **state)
{
    (void)state;
    const uint32_t N = 1037;
    const double dt = 0.1;
    const long steps = 250;
    static const int32_t models[3] = {N4D_NEURON_LIF, N4D_NEURON_LIF_EXP, N4D_NEURON_IZHIKEVICH};
    static const double dc[3] = {40.0, 40.0, 10.0};
    for (int b = 0; b < 2; b++) {
        n4d_context *ctx = new_ctx();
        n4d_model *m = NULL;
        assert_int_equal(n4d_model_create(ctx, &m), N4D_OK);
        ASSERT_OK(n4d_model_set_dt(m, dt), m);
        const uint32_t shape[4] = {N, 1, 1, 1};
        ASSERT_OK(n4d_model_set_lattice(m, shape), m);
        const int32_t lo[4] = {0, 0, 0, 0}, hi[4] = {(int32_t)N - 1, 0, 0, 0};
        ASSERT_OK(n4d_model_add_area(m, "a", lo, hi), m);
        tparams prm[6];
        for (int k = 0; k < 6; k++) {
            const int32_t model = models[k / 2];
            char name[8];
            snprintf(name, sizeof name, "p%d", k);
            n4d_population_desc d;
            n4d_population_desc_init(&d);
            d.name = name;
            d.area = "a";
            d.model = model;
            n4d_param_value pv[16];
            if (model == N4D_NEURON_IZHIKEVICH) {
                tparams_izh(&prm[k], k % 2 ? 2 : 0); /* chattering, regular spiking */
                d.v_init = n4d_dist_uniform(-70.0, -50.0);
            } else {
                tparams_init(&prm[k], model);
                prm[k].v_rest = -65.0;
                prm[k].v_reset = -70.0;
                prm[k].v_threshold = -50.0;
                prm[k].t_ref = 2.0;
                d.v_init = n4d_dist_uniform(-70.0, -50.0);
            }
            d.params = pv;
            d.n_params = tparams_pairs(&prm[k], model, pv);
            ASSERT_OK(n4d_model_add_population(m, &d, NULL), m);
            add_dc(m, name, dc[k / 2]);
            if (k % 2) {
                n4d_input_desc in;
                n4d_input_desc_init(&in);
                in.kind = N4D_INPUT_POISSON;
                in.target = name;
                in.rate = 0.0;
                in.weight = 1.0;
                ASSERT_OK(n4d_model_add_input(m, &in), m);
            }
        }
        n4d_sim_options o;
        n4d_sim_options_init(&o);
        o.backend = b ? "cpu-omp" : "cpu-ref";
        o.num_threads = 2;
        n4d_sim *sim = NULL;
        ASSERT_OK(n4d_sim_create(m, &o, &sim), m);
        const uint64_t T = 6 * (uint64_t)N;
        assert_int_equal(n4d_model_num_neurons(m), T);
        float *v = malloc(T * sizeof *v), *x = malloc(T * sizeof *x);
        float *rv = malloc(T * sizeof *rv), *rx = malloc(T * sizeof *rx), *ry = calloc(T, sizeof *ry);
        int32_t *rref = calloc(T, sizeof *rref);
        uint8_t *spk = calloc(T, 1);
        assert_non_null(v);
        assert_non_null(x);
        assert_non_null(rv);
        assert_non_null(rx);
        assert_non_null(ry);
        assert_non_null(rref);
        assert_non_null(spk);
        /* initial state: V drawn, ge = gi = 0, u = b V (computed from the
         * double draw, so within an ulp of b times the float V) */
        get(sim, "v", rv, T);
        get(sim, "u", x, T);
        for (uint64_t i = 0; i < T; i++) {
            const tparams *q = &prm[i / N];
            assert_true(rv[i] >= -70.0f && rv[i] <= -50.0f);
            if (i >= 4 * (uint64_t)N) {
                assert_true(fabsf(x[i] - (float)q->b * rv[i]) <= 1e-5f);
                rx[i] = x[i];
            } else {
                assert_true(isnan(x[i]));
                rx[i] = 0.0f;
            }
        }
        uint64_t total = 0;
        for (long k = 0; k < steps; k++) {
            ASSERT_OK(n4d_sim_step(sim), sim);
            const uint32_t *ids;
            uint64_t c;
            assert_int_equal(n4d_sim_last_spikes(sim, &ids, &c), N4D_OK);
            memset(spk, 0, T);
            for (uint64_t j = 0; j < c; j++)
                spk[ids[j]] = 1;
            get(sim, "v", v, T);
            for (uint64_t i = 0; i < T; i++) {
                const int pk = (int)(i / N);
                const tparams *q = &prm[pk];
                const float I = (float)dc[pk / 2];
                int want;
                if (pk < 2) {
                    lif_ref r = lif_ref_init(q, dt);
                    r.v = rv[i];
                    r.ref = rref[i];
                    want = lif_ref_step(&r, I);
                    rv[i] = r.v;
                    rref[i] = r.ref;
                } else if (pk < 4) {
                    lifx_ref r = lifx_ref_init(q, dt);
                    r.v = rv[i];
                    r.ge = rx[i];
                    r.gi = ry[i];
                    r.ref = rref[i];
                    want = lifx_ref_step(&r, 0.0f, 0.0f, I);
                    rv[i] = r.v;
                    rx[i] = r.ge;
                    ry[i] = r.gi;
                    rref[i] = r.ref;
                } else {
                    want = izh_ref_step(q, (float)dt, &rv[i], &rx[i], I);
                }
                if (spk[i] != want) {
                    print_error("%s: neuron %llu (population p%d) step %ld: spike %d, reference %d\n",
                                o.backend, (unsigned long long)i, pk, k, spk[i], want);
                    fail();
                }
                ASSERT_FLOAT_BITS(v[i], rv[i], "population V", k);
                total += (uint64_t)want;
            }
        }
        get(sim, "u", x, T);
        for (uint64_t i = 4 * (uint64_t)N; i < T; i++)
            ASSERT_FLOAT_BITS(x[i], rx[i], "izhikevich u", steps);
        assert_true(total > T); /* every population fires */
        free(v);
        free(x);
        free(rv);
        free(rx);
        free(ry);
        free(rref);
        free(spk);
        free_all(ctx, m, sim);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lif_dc_recurrence),
        cmocka_unit_test(test_lif_first_spike_reset_refractory),
        cmocka_unit_test(test_lif_refractory_discards_input),
        cmocka_unit_test(test_lif_exp_dc_exact),
        cmocka_unit_test(test_lif_exp_psp),
        cmocka_unit_test(test_lif_exp_period),
        cmocka_unit_test(test_lif_exp_refractory_clamp),
        cmocka_unit_test(test_izhikevich_reference),
        cmocka_unit_test(test_izhikevich_behaviour),
        cmocka_unit_test(test_populations_match_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
