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
 *   - a DC input's [start, stop) window against the expected steps;
 *   - a reference network of 50 lif_exp and lif neurons (excitation,
 *     inhibition, delays of 1..12 steps, DC and Poisson inputs) simulated
 *     here from the synapses read back through the API, spike for spike
 *     against cpu-ref and cpu-omp on 2 threads. */
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
#include "neuron.h" /* n4d__poisson_events: the Poisson draws of the reference network */
#include "philox.h"
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
    n4d_sim *sim = sim_on(m, backend, 2);
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

/* ---- an independent reference simulator ------------------------------------ */

/* 50 neurons: "E" (lif_exp, 32, different excitatory and inhibitory
 * synaptic time constants) and "I" (lif, 18); excitatory and inhibitory
 * projections with delays drawn over 1..12 steps; Poisson input to E
 * (excitatory) and to I (inhibitory weight), DC to I and to E, each in a
 * window. The reference below reads the synapses back through
 * n4d_model_get_synapses, keeps its own delay ring (double sums: the
 * weights are dyadic, so every sum is exact, as n4d's fixed point), and
 * steps each neuron with the equations of docs/models.md in float in the
 * documented order, with propagators it computes itself. The only library
 * code it calls is the Poisson draw for (seed, input, user id, step)
 * (n4d__poisson_events: docs/models.md "Randomness"); the rate -> events
 * per step, the window, the weight and the channel are its own. */
#define R_NE 32
#define R_NI 18
#define R_N (R_NE + R_NI)
#define R_STEPS 2000
#define R_SEED 20261207u
#define R_MAXD 16

/* E: lif_exp */
#define RE_TAU_M 10.0
#define RE_V_REST -65.0
#define RE_V_RESET -70.0
#define RE_V_TH -50.0
#define RE_T_REF 2.0
#define RE_TAU_E 2.0
#define RE_TAU_I 6.0
/* I: lif */
#define RI_TAU_M 10.0
#define RI_V_REST -65.0
#define RI_V_RESET -70.0
#define RI_V_TH -55.0
#define RI_T_REF 1.5

typedef struct r_input { /* a Poisson (rate > 0) or DC input of the network */
    int pop;             /* 0: E, 1: I */
    double rate, amp;    /* Hz per source (Poisson) or the DC amplitude */
    uint32_t n_sources;
    double weight, start, stop; /* ms */
} r_input;

/* In the order they are added to the model (a Poisson input's draws are
 * keyed by its index among all inputs). */
static const r_input R_INPUTS[] = {
    {0, 1100.0, 0, 30, 0.25, 5.0, 180.0},   /* E: 3.3 events per step of 0.25 mV */
    {1, 0, 15.0, 0, 0, 20.0, 150.0},        /* I: DC above threshold */
    {1, 200.0, 0, 10, -16.0, 0.0, 1.0e9},   /* I: inhibitory Poisson */
    {0, 0, 2.0, 0, 0, 50.0, 120.0},         /* E: DC */
};
#define R_N_INPUTS (sizeof R_INPUTS / sizeof R_INPUTS[0])

typedef struct r_net {
    uint64_t *ptr; /* per source: its synapses [ptr[i], ptr[i + 1]) */
    uint32_t *tgt, *dsteps;
    float *w;
} r_net;

static n4d_model *ref_net_model(n4d_context *ctx)
{
    n4d_model *m = new_model(ctx, R_N);
    const n4d_param_value pe[] = {{"tau_m", RE_TAU_M},     {"v_rest", RE_V_REST},
                                  {"v_reset", RE_V_RESET}, {"v_threshold", RE_V_TH},
                                  {"t_ref", RE_T_REF},     {"tau_syn_ex", RE_TAU_E},
                                  {"tau_syn_in", RE_TAU_I}};
    const n4d_param_value pi[] = {{"tau_m", RI_TAU_M},     {"v_rest", RI_V_REST},
                                  {"v_reset", RI_V_RESET}, {"v_threshold", RI_V_TH},
                                  {"t_ref", RI_T_REF}};
    add_pop(m, "E", 0, R_NE - 1, "lif_exp", pe, sizeof pe / sizeof pe[0]);
    add_pop(m, "I", R_NE, R_N - 1, "lif", pi, sizeof pi / sizeof pi[0]);
    static const struct {
        const char *s, *t;
        double p, w;
    } proj[] = {{"E", "E", 0.15, 0.5}, {"E", "I", 0.3, 64.0}, {"I", "E", 0.3, -1.0},
                {"I", "I", 0.2, -32.0}};
    for (size_t k = 0; k < sizeof proj / sizeof proj[0]; k++) {
        n4d_projection_desc p;
        n4d_projection_desc_init(&p);
        p.source = proj[k].s;
        p.target = proj[k].t;
        p.rule = N4D_RULE_FIXED_PROBABILITY;
        p.p = proj[k].p;
        p.weight = n4d_dist_constant(proj[k].w);
        p.delay = n4d_dist_uniform(0.1, 1.2); /* 1..12 steps */
        p.syn_type = proj[k].w < 0 ? N4D_SYN_INHIBITORY : N4D_SYN_EXCITATORY;
        ASSERT_OK(n4d_model_add_projection(m, &p, NULL), m);
    }
    for (size_t k = 0; k < R_N_INPUTS; k++) {
        const r_input *r = &R_INPUTS[k];
        n4d_input_desc in;
        n4d_input_desc_init(&in);
        in.target = r->pop ? "I" : "E";
        in.start = r->start;
        in.stop = r->stop;
        if (r->rate > 0) {
            in.kind = N4D_INPUT_POISSON;
            in.rate = r->rate;
            in.n_sources = r->n_sources;
            in.weight = r->weight;
        } else {
            in.kind = N4D_INPUT_DC;
            in.amplitude = r->amp;
        }
        ASSERT_OK(n4d_model_add_input(m, &in), m);
    }
    ASSERT_OK(n4d_model_build(m), m);
    return m;
}

/* The synapses of every neuron, read through the public API. */
static void ref_net_read(const n4d_model *m, r_net *net, int *n_delays)
{
    uint64_t total = n4d_model_num_synapses(m);
    net->ptr = calloc(R_N + 1, sizeof *net->ptr);
    net->tgt = malloc((total + 1) * sizeof *net->tgt);
    net->dsteps = malloc((total + 1) * sizeof *net->dsteps);
    net->w = malloc((total + 1) * sizeof *net->w);
    float *dms = malloc((total + 1) * sizeof *dms);
    int seen[R_MAXD + 1] = {0};
    uint64_t at = 0;
    for (uint64_t i = 0; i < R_N; i++) {
        uint64_t c = 0;
        ASSERT_OK(n4d_model_get_synapses(m, i, total - at, net->tgt + at, net->w + at, dms + at, &c),
                  m);
        for (uint64_t j = at; j < at + c; j++) {
            const long d = lround(dms[j] / DT);
            CHECK(d >= 1 && d <= 12, "synapse %llu: delay %.6f ms", (unsigned long long)j,
                  (double)dms[j]);
            net->dsteps[j] = (uint32_t)d;
            seen[d] = 1;
        }
        at += c;
        net->ptr[i + 1] = at;
    }
    CHECK(at == total, "%llu synapses read, the model has %llu", (unsigned long long)at,
          (unsigned long long)total);
    *n_delays = 0;
    for (int d = 0; d <= R_MAXD; d++)
        *n_delays += seen[d];
    free(dms);
}

typedef struct r_state {
    float v[R_N], ge[R_N], gi[R_N];
    int32_t ref[R_N];
    double re[R_MAXD + 1][R_N], ri[R_MAXD + 1][R_N]; /* the delay ring */
    /* lif_exp propagators (docs/models.md), computed here */
    float pm, pe, pi, pem, pim, pdc;
    int32_t ref_e, ref_i; /* refractory steps after a spike: round(t_ref / dt) - 1 */
    n4d__poisson_rt prt[R_N_INPUTS];
} r_state;

static double psc(double tau_s, double tau_m)
{
    return tau_s / (tau_s - tau_m) * (exp(-DT / tau_s) - exp(-DT / tau_m));
}

static void ref_net_init(r_state *s)
{
    memset(s, 0, sizeof *s);
    for (int i = 0; i < R_N; i++)
        s->v[i] = (float)(i < R_NE ? RE_V_REST : RI_V_REST);
    s->pm = (float)exp(-DT / RE_TAU_M);
    s->pe = (float)exp(-DT / RE_TAU_E);
    s->pi = (float)exp(-DT / RE_TAU_I);
    s->pem = (float)psc(RE_TAU_E, RE_TAU_M);
    s->pim = (float)psc(RE_TAU_I, RE_TAU_M);
    s->pdc = (float)(1.0 - exp(-DT / RE_TAU_M));
    s->ref_e = (int32_t)lround(RE_T_REF / DT) - 1;
    s->ref_i = (int32_t)lround(RI_T_REF / DT) - 1;
    /* the Poisson draw's parameters: lambda = rate x dt x n_sources events
     * per step, split in parts of at most 100 */
    for (size_t k = 0; k < R_N_INPUTS; k++) {
        const r_input *r = &R_INPUTS[k];
        if (r->rate <= 0)
            continue;
        const double lambda = r->rate * 1e-3 * DT * r->n_sources;
        n4d__poisson_rt *p = &s->prt[k];
        p->purpose = (uint32_t)N4D_RNG_POISSON | ((uint32_t)k << 8);
        p->parts = (uint32_t)ceil(lambda / 100.0);
        p->lambda_part = lambda / p->parts;
        p->exp_neg_part = exp(-p->lambda_part);
    }
}

/* Whether an input's [start, stop) window contains step k. */
static int r_active(const r_input *r, int k)
{
    return k >= lround(r->start / DT) && (double)k < r->stop / DT - 0.5;
}

/* One step of the reference network; spk[i] = 1 for the neurons that spike. */
static void ref_net_step(r_state *s, const r_net *net, int k, int *spk)
{
    const int slot = k % (R_MAXD + 1);
    for (int i = 0; i < R_N; i++) {
        const int pop = i >= R_NE;
        double e = s->re[slot][i], in = s->ri[slot][i];
        float ext = 0.0f;
        for (size_t q = 0; q < R_N_INPUTS; q++) {
            const r_input *r = &R_INPUTS[q];
            if (r->pop != pop || !r_active(r, k))
                continue;
            if (r->rate > 0) {
                const double ev =
                    (double)n4d__poisson_events(&s->prt[q], R_SEED, (uint32_t)i, (uint64_t)k);
                if (r->weight >= 0)
                    e += ev * r->weight;
                else
                    in += ev * r->weight;
            } else {
                ext = ext + (float)r->amp;
            }
        }
        s->re[slot][i] = s->ri[slot][i] = 0;
        const float fe = (float)e, fi = (float)in;
        const float v = s->v[i];
        float vn;
        int32_t ref_after;
        float v_th, v_reset;
        if (pop == 0) { /* lif_exp: exact propagation, then the currents decay */
            const float ge = s->ge[i] + fe, gi = s->gi[i] + fi;
            vn = (float)RE_V_REST + (v - (float)RE_V_REST) * s->pm + ge * s->pem + gi * s->pim +
                 ext * s->pdc;
            s->ge[i] = ge * s->pe;
            s->gi[i] = gi * s->pi;
            ref_after = s->ref_e;
            v_th = (float)RE_V_TH;
            v_reset = (float)RE_V_RESET;
        } else { /* lif: Euler, inputs discarded while refractory */
            const float drive = (fe + fi) + ext;
            vn = v + (-(v - (float)RI_V_REST) + drive) / (float)RI_TAU_M * (float)DT;
            ref_after = s->ref_i;
            v_th = (float)RI_V_TH;
            v_reset = (float)RI_V_RESET;
        }
        spk[i] = 0;
        if (s->ref[i] > 0) {
            s->ref[i]--;
        } else if (vn >= v_th) {
            spk[i] = 1;
            s->v[i] = v_reset;
            s->ref[i] = ref_after;
        } else {
            s->v[i] = vn;
        }
    }
    for (int i = 0; i < R_N; i++) /* delivery into the slots k + delay */
        if (spk[i])
            for (uint64_t j = net->ptr[i]; j < net->ptr[i + 1]; j++) {
                const int sl = (k + (int)net->dsteps[j]) % (R_MAXD + 1);
                if (net->w[j] >= 0)
                    s->re[sl][net->tgt[j]] += net->w[j];
                else
                    s->ri[sl][net->tgt[j]] += net->w[j];
            }
}

static void test_reference_network(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    OK(n4d_context_create(NULL, &ctx));
    n4d_model *m = ref_net_model(ctx);
    r_net net;
    int n_delays = 0;
    ref_net_read(m, &net, &n_delays);
    uint64_t n_exc = 0, n_inh = 0;
    for (uint64_t j = 0; j < net.ptr[R_N]; j++)
        *(net.w[j] >= 0 ? &n_exc : &n_inh) += 1;
    CHECK(n_delays >= 10 && n_exc > 100 && n_inh > 100, "%d delays, %llu + %llu synapses",
          n_delays, (unsigned long long)n_exc, (unsigned long long)n_inh);
    r_state *ref = malloc(sizeof *ref);
    static const int threads[] = {1, 2};
    for (int b = 0; b < 2; b++) {
        ref_net_init(ref);
        n4d_sim_options o;
        n4d_sim_options_init(&o);
        o.backend = BACKENDS[b];
        o.num_threads = threads[b];
        o.seed = R_SEED;
        n4d_sim *sim = NULL;
        ASSERT_OK(n4d_sim_create(m, &o, &sim), m);
        uint64_t per_pop[2] = {0, 0}, n_spikes = 0;
        double max_dv = 0;
        int spk[R_N];
        float v[R_N];
        for (int k = 0; k < R_STEPS; k++) {
            ASSERT_OK(n4d_sim_step(sim), sim);
            ref_net_step(ref, &net, k, spk);
            ASSERT_OK(n4d_sim_get_state(sim, "v", v, R_N), sim);
            for (int i = 0; i < R_N; i++) {
                const int got = n4d_sim_spiked_at(sim, (uint64_t)i, (uint64_t)k);
                CHECK(got == spk[i], "%s: step %d neuron %d: spike %d, reference %d "
                      "(V %.6f, reference %.6f)", BACKENDS[b], k, i, got, spk[i], (double)v[i],
                      (double)ref->v[i]);
                const double dv = fabs((double)v[i] - (double)ref->v[i]);
                max_dv = dv > max_dv ? dv : max_dv;
                CHECK(dv < 1e-3, "%s: step %d neuron %d: V %.6f, reference %.6f", BACKENDS[b], k,
                      i, (double)v[i], (double)ref->v[i]);
                per_pop[i >= R_NE] += (uint64_t)spk[i];
                n_spikes += (uint64_t)spk[i];
            }
        }
        /* the recorded trains too (canonical order: step, then id) */
        const uint64_t *st;
        const uint32_t *ids;
        uint64_t count;
        ASSERT_OK(n4d_sim_spikes(sim, &st, &ids, &count), sim);
        CHECK(count == n_spikes, "%s: %llu spikes recorded, reference %llu", BACKENDS[b],
              (unsigned long long)count, (unsigned long long)n_spikes);
        print_message("%s (%d threads): %llu E and %llu I spikes, %d delays, %llu exc + %llu "
                      "inh synapses, max |V - reference| %.2g mV\n",
                      BACKENDS[b], threads[b], (unsigned long long)per_pop[0],
                      (unsigned long long)per_pop[1], n_delays, (unsigned long long)n_exc,
                      (unsigned long long)n_inh, max_dv);
        /* both populations fire, neither saturates (10 - 200 Hz) */
        for (int p = 0; p < 2; p++) {
            const double hz = (double)per_pop[p] / (p ? R_NI : R_NE) / (R_STEPS * DT * 1e-3);
            CHECK(hz > 10 && hz < 200, "%s: population %d at %.1f Hz", BACKENDS[b], p, hz);
        }
        n4d_sim_destroy(sim);
    }
    free(ref);
    free(net.ptr);
    free(net.tgt);
    free(net.dsteps);
    free(net.w);
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lif_cond_exp_reference),
        cmocka_unit_test(test_poisson_statistics),
        cmocka_unit_test(test_dc_window),
        cmocka_unit_test(test_reference_network),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
