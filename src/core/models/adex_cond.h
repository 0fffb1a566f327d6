/* adex_cond: adaptive exponential integrate-and-fire with exponential
 * conductance synapses, as NEST's aeif_cond_exp (PyNN's
 * EIF_cond_exp_isfa_ista; Brette & Gerstner 2005):
 *
 *   C_m dV/dt    = -g_L (V - E_L) + g_L Delta_T exp((V - V_th) / Delta_T)
 *                  - g_ex (V - E_ex) - g_in (V - E_in) - w + I_e + I_ext
 *   tau_w dw/dt  = a (V - E_L) - w
 *   dg_ex/dt     = -g_ex / tau_syn_ex,   dg_in/dt = -g_in / tau_syn_in
 *
 * in pF, nS, mV, ms and pA. An excitatory event adds its weight (nS) to
 * g_ex, an inhibitory one (negative weight) its magnitude to g_in. Spikes,
 * reset, refractoriness and the integration (four RK4 substeps of dt / 4,
 * the conductances taken exactly at the stages, the threshold checked at
 * the end of the step, the exponential of adex.h) are those of adex.
 * Registered in ../neuron_models.def; docs/models.md. */
#ifndef N4D_MODEL_ADEX_COND_H
#define N4D_MODEL_ADEX_COND_H

typedef struct n4d__adex_cond_k {
    float g_l, e_l, v_th, inv_dt;  /* inv_dt = 1 / Delta_T (0 when Delta_T is 0) */
    float gl_dt;                   /* g_L Delta_T */
    float inv_c;                   /* 1 / C_m */
    float a, inv_tau_w, b;
    float v_reset, v_peak, v_spike; /* v_spike: V_peak, or V_th when Delta_T is 0 */
    float e_ex, e_in, i_e;
    float h, h2, h6;               /* substep h = dt / N4D__ADEX_SUBSTEPS, h / 2, h / 6 */
    float pe, pe2, pi, pi2;        /* conductance decay over h and h / 2 */
    int32_t ref_steps;
} n4d__adex_cond_k;

enum { n4d__adex_cond_nstate = 4 };

/* dV/dt and dw/dt at (v, w) with conductances ge, gi and current c (refr: V held). */
N4D_HD void n4d__adex_cond_rhs(const n4d__adex_cond_k *p, float v, float w, float ge, float gi,
                               float c, int refr, float *dv, float *dw)
{
    const float vc = refr ? p->v_reset : (v < p->v_peak ? v : p->v_peak);
    const float ex = n4d__adex_exp((vc - p->v_th) * p->inv_dt);
    const float syn = -(ge * (vc - p->e_ex)) - gi * (vc - p->e_in);
    const float f = ((-(p->g_l * (vc - p->e_l)) + p->gl_dt * ex) + syn - w + c) * p->inv_c;
    *dv = refr ? 0.0f : f;
    *dw = (p->a * (vc - p->e_l) - w) * p->inv_tau_w;
}

/* x0 = g_ex, x1 = g_in (both >= 0, nS), x2 = w (pA) */
N4D_HD int n4d__adex_cond_step(const n4d__adex_cond_k *p, float *v, float *ge, float *gi,
                               float *w, int32_t *ref, float in_e, float in_i, float ext)
{
    const int32_t r = *ref;
    const int refr = r > 0;
    const float c = ext + p->i_e;
    float e = *ge + in_e, i = *gi - in_i; /* in_i: the negative inhibitory sum */
    float vn = refr ? p->v_reset : *v, wn = *w;
    for (int s = 0; s < N4D__ADEX_SUBSTEPS; s++) {
        const float e1 = e * p->pe2, i1 = i * p->pi2, e2 = e * p->pe, i2 = i * p->pi;
        const float v0 = vn, w0 = wn;
        float k1v, k1w, k2v, k2w, k3v, k3w, k4v, k4w;
        n4d__adex_cond_rhs(p, v0, w0, e, i, c, refr, &k1v, &k1w);
        n4d__adex_cond_rhs(p, v0 + p->h2 * k1v, w0 + p->h2 * k1w, e1, i1, c, refr, &k2v, &k2w);
        n4d__adex_cond_rhs(p, v0 + p->h2 * k2v, w0 + p->h2 * k2w, e1, i1, c, refr, &k3v, &k3w);
        n4d__adex_cond_rhs(p, v0 + p->h * k3v, w0 + p->h * k3w, e2, i2, c, refr, &k4v, &k4w);
        vn = v0 + p->h6 * (((k1v + 2.0f * k2v) + 2.0f * k3v) + k4v);
        wn = w0 + p->h6 * (((k1w + 2.0f * k2w) + 2.0f * k3w) + k4w);
        e = e2;
        i = i2;
    }
    const int spike = !refr & !(vn < p->v_spike);
    *v = (spike | refr) ? p->v_reset : vn;
    *w = spike ? wn + p->b : wn;
    *ref = spike ? p->ref_steps : r - refr;
    *ge = e;
    *gi = i;
    return spike;
}

#ifdef N4D__MODEL_HOST
enum { N4D__ADEXC_C_M, N4D__ADEXC_G_L, N4D__ADEXC_E_L, N4D__ADEXC_V_TH, N4D__ADEXC_DELTA_T,
       N4D__ADEXC_TAU_W, N4D__ADEXC_A, N4D__ADEXC_B, N4D__ADEXC_V_RESET, N4D__ADEXC_T_REF,
       N4D__ADEXC_V_PEAK, N4D__ADEXC_TAU_SYN_EX, N4D__ADEXC_TAU_SYN_IN, N4D__ADEXC_E_EX,
       N4D__ADEXC_E_IN, N4D__ADEXC_I_E };
/* NEST aeif_cond_exp's defaults */
static const n4d__param_def n4d__adex_cond_params[] = {
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
    {"tau_syn_ex", NULL, "ms", 0.2, 0.0, INFINITY, N4D__LO_OPEN,
     "excitatory conductance time constant"},
    {"tau_syn_in", NULL, "ms", 2.0, 0.0, INFINITY, N4D__LO_OPEN,
     "inhibitory conductance time constant"},
    {"E_ex", NULL, "mV", 0.0, -INFINITY, INFINITY, 0, "excitatory reversal potential"},
    {"E_in", NULL, "mV", -85.0, -INFINITY, INFINITY, 0, "inhibitory reversal potential"},
    {"I_e", NULL, "pA", 0.0, -INFINITY, INFINITY, 0, "constant input current"},
};
static const n4d__state_def n4d__adex_cond_states[] = {
    {"v", "mV", "v_init (default E_L)", "membrane potential"},
    {"g_ex", "nS", "0", "excitatory synaptic conductance"},
    {"g_in", "nS", "0", "inhibitory synaptic conductance"},
    {"w", "pA", "0", "adaptation current"},
};
static void n4d__adex_cond_constants(const double *q, double dt, void *out)
{
    n4d__adex_cond_k *k = (n4d__adex_cond_k *)out;
    const double delta_t = q[N4D__ADEXC_DELTA_T];
    k->g_l = (float)q[N4D__ADEXC_G_L];
    k->e_l = (float)q[N4D__ADEXC_E_L];
    k->v_th = (float)q[N4D__ADEXC_V_TH];
    k->inv_dt = delta_t > 0.0 ? (float)(1.0 / delta_t) : 0.0f;
    k->gl_dt = (float)(q[N4D__ADEXC_G_L] * delta_t);
    k->inv_c = (float)(1.0 / q[N4D__ADEXC_C_M]);
    k->a = (float)q[N4D__ADEXC_A];
    k->inv_tau_w = (float)(1.0 / q[N4D__ADEXC_TAU_W]);
    k->b = (float)q[N4D__ADEXC_B];
    k->v_reset = (float)q[N4D__ADEXC_V_RESET];
    k->v_peak = (float)q[N4D__ADEXC_V_PEAK];
    k->v_spike = delta_t > 0.0 ? k->v_peak : k->v_th;
    k->e_ex = (float)q[N4D__ADEXC_E_EX];
    k->e_in = (float)q[N4D__ADEXC_E_IN];
    k->i_e = (float)q[N4D__ADEXC_I_E];
    const double h = dt / N4D__ADEX_SUBSTEPS;
    k->h = (float)h;
    k->h2 = (float)(h / 2.0);
    k->h6 = (float)(h / 6.0);
    k->pe = (float)exp(-h / q[N4D__ADEXC_TAU_SYN_EX]);
    k->pe2 = (float)exp(-h / (2.0 * q[N4D__ADEXC_TAU_SYN_EX]));
    k->pi = (float)exp(-h / q[N4D__ADEXC_TAU_SYN_IN]);
    k->pi2 = (float)exp(-h / (2.0 * q[N4D__ADEXC_TAU_SYN_IN]));
    k->ref_steps = n4d__ref_steps(q[N4D__ADEXC_T_REF], dt);
}
/* NEST's checks across parameters: adex's */
static const char *n4d__adex_cond_check(const double *q)
{
    return n4d__adex_spike_check(q[N4D__ADEXC_DELTA_T], q[N4D__ADEXC_V_TH],
                                 q[N4D__ADEXC_V_PEAK], q[N4D__ADEXC_V_RESET]);
}
static const n4d__model_host n4d__adex_cond_host = {
    .doc = "adaptive exponential integrate-and-fire, exponential conductances (NEST "
           "aeif_cond_exp, PyNN EIF_cond_exp_isfa_ista; RK4 at dt, conductances exact)",
    N4D__MODEL_TABLES(adex_cond),
    .v_init_param = N4D__ADEXC_E_L,
    .refractory = 1,
    .constants = n4d__adex_cond_constants,
    .check = n4d__adex_cond_check};
#endif

#endif

#ifdef N4D_NEURON_MODEL
N4D_NEURON_MODEL(6, adex_cond)
#endif
