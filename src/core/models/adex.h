/* adex: adaptive exponential integrate-and-fire with exponential current
 * synapses, as NEST's aeif_psc_exp (Brette & Gerstner 2005):
 *
 *   C_m dV/dt    = -g_L (V - E_L) + g_L Delta_T exp((V - V_th) / Delta_T)
 *                  - w + I_ex + I_in + I_e + I_ext
 *   tau_w dw/dt  = a (V - E_L) - w
 *   dI_ex/dt     = -I_ex / tau_syn_ex,   dI_in/dt = -I_in / tau_syn_in
 *
 * in pF, nS, mV, ms and pA. A spike when V >= V_peak (V_th when Delta_T is
 * 0): V = V_reset, w += b, then V is held at V_reset for round(t_ref / dt)
 * steps (w and the currents go on). As in NEST the right-hand side sees V
 * clamped at V_peak (which bounds the exponential) and, while refractory,
 * V = V_reset with dV/dt = 0.
 *
 * Integration: four classical Runge-Kutta (RK4) substeps of dt / 4 for V
 * and w per simulation step, the synaptic currents taken exactly
 * (exponential decay over h/2 and h) at the stages; the input of the step
 * joins the currents at its start; the threshold is checked at the end of
 * the step (as Brian2 and GeNN; NEST resets inside the step). The exponential is computed with + - * / only
 * (n4d__adex_exp), so that CPU and CUDA give the same bits (libm and CUDA
 * differ in the last bit). Registered in ../neuron_models.def;
 * docs/models.md. */
#ifndef N4D_MODEL_ADEX_H
#define N4D_MODEL_ADEX_H

typedef struct n4d__adex_k {
    float g_l, e_l, v_th, inv_dt;  /* inv_dt = 1 / Delta_T (0 when Delta_T is 0) */
    float gl_dt;                   /* g_L Delta_T */
    float inv_c;                   /* 1 / C_m */
    float a, inv_tau_w, b;
    float v_reset, v_peak, v_spike; /* v_spike: V_peak, or V_th when Delta_T is 0 */
    float i_e;
    float h, h2, h6;               /* substep h = dt / N4D__ADEX_SUBSTEPS, h / 2, h / 6 */
    float pe, pe2, pi, pi2;        /* current decay over h and h / 2 */
    int32_t ref_steps;
} n4d__adex_k;

enum { n4d__adex_nstate = 4 };

#define N4D__ADEX_SUBSTEPS 4 /* RK4 substeps per simulation step */

/* exp(x) in float from + - * / and exact conversions: x clamped to
 * [-87, 88] (NaN to -87), x = k ln2 + r with k = rint(x / ln 2) (by the 1.5 2^23 trick)
 * and |r| <= ln2 / 2 (Cody-Waite), exp(r) by its series to r^7 (within 2
 * ulp), times 2^k through the exponent bits. */
N4D_HD float n4d__adex_exp(float x)
{
    x = x > -87.0f ? x : -87.0f; /* also NaN */
    x = x < 88.0f ? x : 88.0f;
    const float kf = (x * 1.44269504f + 12582912.0f) - 12582912.0f;
    const float r = (x - kf * 0.693359375f) - kf * -2.12194440e-4f;
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    const float er = 1.0f + r * p;
    const int32_t bits = ((int32_t)kf + 127) << 23;
#ifdef __CUDA_ARCH__
    const float scale = __int_as_float(bits);
#else
    float scale;
    memcpy(&scale, &bits, sizeof scale);
#endif
    return er * scale;
}

/* dV/dt and dw/dt at (v, w) with the synaptic current i (refr: V held). */
N4D_HD void n4d__adex_rhs(const n4d__adex_k *p, float v, float w, float i, int refr, float *dv,
                          float *dw)
{
    const float vc = refr ? p->v_reset : (v < p->v_peak ? v : p->v_peak);
    const float ex = n4d__adex_exp((vc - p->v_th) * p->inv_dt);
    const float f = (-(p->g_l * (vc - p->e_l)) + p->gl_dt * ex - w + i) * p->inv_c;
    *dv = refr ? 0.0f : f;
    *dw = (p->a * (vc - p->e_l) - w) * p->inv_tau_w;
}

/* x0 = I_ex, x1 = I_in (inhibitory input is negative), x2 = w; all pA */
N4D_HD int n4d__adex_step(const n4d__adex_k *p, float *v, float *ie, float *ii, float *w,
                          int32_t *ref, float in_e, float in_i, float ext)
{
    const int32_t r = *ref;
    const int refr = r > 0;
    const float dc = ext + p->i_e;
    float e = *ie + in_e, i = *ii + in_i;
    float vn = refr ? p->v_reset : *v, wn = *w;
    for (int s = 0; s < N4D__ADEX_SUBSTEPS; s++) {
        const float e1 = e * p->pe2, i1 = i * p->pi2, e2 = e * p->pe, i2 = i * p->pi;
        const float c0 = (e + i) + dc, c1 = (e1 + i1) + dc, c2 = (e2 + i2) + dc;
        const float v0 = vn, w0 = wn;
        float k1v, k1w, k2v, k2w, k3v, k3w, k4v, k4w;
        n4d__adex_rhs(p, v0, w0, c0, refr, &k1v, &k1w);
        n4d__adex_rhs(p, v0 + p->h2 * k1v, w0 + p->h2 * k1w, c1, refr, &k2v, &k2w);
        n4d__adex_rhs(p, v0 + p->h2 * k2v, w0 + p->h2 * k2w, c1, refr, &k3v, &k3w);
        n4d__adex_rhs(p, v0 + p->h * k3v, w0 + p->h * k3w, c2, refr, &k4v, &k4w);
        vn = v0 + p->h6 * (((k1v + 2.0f * k2v) + 2.0f * k3v) + k4v);
        wn = w0 + p->h6 * (((k1w + 2.0f * k2w) + 2.0f * k3w) + k4w);
        e = e2;
        i = i2;
    }
    /* a spike also when V left the float range (not < threshold) */
    const int spike = !refr & !(vn < p->v_spike);
    *v = (spike | refr) ? p->v_reset : vn;
    *w = spike ? wn + p->b : wn;
    *ref = spike ? p->ref_steps : r - refr;
    *ie = e;
    *ii = i;
    return spike;
}

#ifdef N4D__MODEL_HOST
enum { N4D__ADEX_C_M, N4D__ADEX_G_L, N4D__ADEX_E_L, N4D__ADEX_V_TH, N4D__ADEX_DELTA_T,
       N4D__ADEX_TAU_W, N4D__ADEX_A, N4D__ADEX_B, N4D__ADEX_V_RESET, N4D__ADEX_T_REF,
       N4D__ADEX_V_PEAK, N4D__ADEX_TAU_SYN_EX, N4D__ADEX_TAU_SYN_IN, N4D__ADEX_I_E };
/* NEST aeif_psc_exp's defaults */
static const n4d__param_def n4d__adex_params[] = {
    {"C_m", NULL, "pF", 281.0, 0.0, INFINITY, N4D__LO_OPEN, "membrane capacitance"},
    {"g_L", NULL, "nS", 30.0, 0.0, INFINITY, N4D__LO_OPEN, "leak conductance"},
    {"E_L", NULL, "mV", -70.6, -INFINITY, INFINITY, 0, "leak reversal potential"},
    {"V_th", "V_T", "mV", -50.4, -INFINITY, INFINITY, 0, "spike initiation threshold"},
    {"Delta_T", NULL, "mV", 2.0, 0.0, INFINITY, 0, "slope factor (0: integrate-and-fire at V_th)"},
    {"tau_w", NULL, "ms", 144.0, 0.0, INFINITY, N4D__LO_OPEN, "adaptation time constant"},
    {"a", NULL, "nS", 4.0, -INFINITY, INFINITY, 0, "subthreshold adaptation"},
    {"b", NULL, "pA", 80.5, -INFINITY, INFINITY, 0, "spike-triggered adaptation"},
    {"V_reset", NULL, "mV", -60.0, -INFINITY, INFINITY, 0, "reset potential"},
    {"t_ref", NULL, "ms", 0.0, 0.0, INFINITY, 0, "refractory period"},
    {"V_peak", NULL, "mV", 0.0, -INFINITY, INFINITY, 0, "spike detection threshold"},
    {"tau_syn_ex", NULL, "ms", 0.2, 0.0, INFINITY, N4D__LO_OPEN, "excitatory current time constant"},
    {"tau_syn_in", NULL, "ms", 2.0, 0.0, INFINITY, N4D__LO_OPEN, "inhibitory current time constant"},
    {"I_e", NULL, "pA", 0.0, -INFINITY, INFINITY, 0, "constant input current"},
};
static const n4d__state_def n4d__adex_states[] = {
    {"v", "mV", "v_init (default E_L)", "membrane potential"},
    {"i_ex", "pA", "0", "excitatory synaptic current"},
    {"i_in", "pA", "0", "inhibitory synaptic current (negative)"},
    {"w", "pA", "0", "adaptation current"},
};
static void n4d__adex_constants(const double *q, double dt, void *out)
{
    n4d__adex_k *k = (n4d__adex_k *)out;
    const double delta_t = q[N4D__ADEX_DELTA_T];
    k->g_l = (float)q[N4D__ADEX_G_L];
    k->e_l = (float)q[N4D__ADEX_E_L];
    k->v_th = (float)q[N4D__ADEX_V_TH];
    k->inv_dt = delta_t > 0.0 ? (float)(1.0 / delta_t) : 0.0f;
    k->gl_dt = (float)(q[N4D__ADEX_G_L] * delta_t);
    k->inv_c = (float)(1.0 / q[N4D__ADEX_C_M]);
    k->a = (float)q[N4D__ADEX_A];
    k->inv_tau_w = (float)(1.0 / q[N4D__ADEX_TAU_W]);
    k->b = (float)q[N4D__ADEX_B];
    k->v_reset = (float)q[N4D__ADEX_V_RESET];
    k->v_peak = (float)q[N4D__ADEX_V_PEAK];
    k->v_spike = delta_t > 0.0 ? k->v_peak : k->v_th;
    k->i_e = (float)q[N4D__ADEX_I_E];
    const double h = dt / N4D__ADEX_SUBSTEPS;
    k->h = (float)h;
    k->h2 = (float)(h / 2.0);
    k->h6 = (float)(h / 6.0);
    k->pe = (float)exp(-h / q[N4D__ADEX_TAU_SYN_EX]);
    k->pe2 = (float)exp(-h / (2.0 * q[N4D__ADEX_TAU_SYN_EX]));
    k->pi = (float)exp(-h / q[N4D__ADEX_TAU_SYN_IN]);
    k->pi2 = (float)exp(-h / (2.0 * q[N4D__ADEX_TAU_SYN_IN]));
    k->ref_steps = n4d__ref_steps(q[N4D__ADEX_T_REF], dt);
}
/* NEST's checks across the spike parameters (shared with adex_cond.h) */
static const char *n4d__adex_spike_check(double delta_t, double v_th, double v_peak,
                                         double v_reset)
{
    if (delta_t > 0.0 && !(v_peak > v_th))
        return "V_peak must be larger than V_th when Delta_T > 0";
    if (!(v_reset < v_peak))
        return "V_reset must be smaller than V_peak";
    if (delta_t > 0.0 && (v_peak - v_th) / delta_t > 80.0)
        return "(V_peak - V_th) / Delta_T must be at most 80 (the exponential would overflow)";
    return NULL;
}
static const char *n4d__adex_check(const double *q)
{
    return n4d__adex_spike_check(q[N4D__ADEX_DELTA_T], q[N4D__ADEX_V_TH], q[N4D__ADEX_V_PEAK],
                                 q[N4D__ADEX_V_RESET]);
}
static const n4d__model_host n4d__adex_host = {
    .doc = "adaptive exponential integrate-and-fire, exponential currents (NEST aeif_psc_exp; "
           "RK4 at dt, currents exact)",
    N4D__MODEL_TABLES(adex),
    .v_init_param = N4D__ADEX_E_L,
    .refractory = 1,
    .constants = n4d__adex_constants,
    .check = n4d__adex_check};
#endif

#endif

#ifdef N4D_NEURON_MODEL
N4D_NEURON_MODEL(4, adex)
#endif
