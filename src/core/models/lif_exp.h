/* lif_exp: leaky integrate-and-fire with exponential synaptic currents,
 * exact integration (the Vogels-Abbott CUBA / NEST iaf_psc_exp family);
 * while refractory V is clamped, the synaptic currents go on.
 * Registered in ../neuron_models.def; docs/models.md. */
#ifndef N4D_MODEL_LIF_EXP_H
#define N4D_MODEL_LIF_EXP_H

typedef struct n4d__lif_exp_k {
    float v_rest, v_reset, v_th, i_e;
    float pm, pe, pi, pem, pim, pdc; /* exact propagators */
    int32_t ref_after_spike;
} n4d__lif_exp_k;

enum { n4d__lif_exp_nstate = 3 };

/* x0 = ge, x1 = gi: the synaptic currents (mV) */
N4D_HD int n4d__lif_exp_step(const n4d__lif_exp_k *p, float *v, float *ge, float *gi, float *x2,
                             int32_t *ref, float in_e, float in_i, float ext)
{
    (void)x2;
    const float e = *ge + in_e, i = *gi + in_i;
    const int32_t r = *ref;
    const float vv = *v;
    const float vn = p->v_rest + (vv - p->v_rest) * p->pm + e * p->pem + i * p->pim +
                     (ext + p->i_e) * p->pdc;
    const int refr = r > 0;
    const int spike = !refr & (vn >= p->v_th);
    *v = n4d__selectf(spike, p->v_reset, n4d__selectf(refr, vv, vn));
    *ref = spike ? p->ref_after_spike : r - refr;
    *ge = e * p->pe;
    *gi = i * p->pi;
    return spike;
}

#ifdef N4D__MODEL_HOST
enum { N4D__LIF_EXP_TAU_M, N4D__LIF_EXP_V_REST, N4D__LIF_EXP_V_RESET, N4D__LIF_EXP_V_TH,
       N4D__LIF_EXP_T_REF, N4D__LIF_EXP_TAU_SYN_EX, N4D__LIF_EXP_TAU_SYN_IN, N4D__LIF_EXP_I_E };
static const n4d__param_def n4d__lif_exp_params[] = {
    {"tau_m", NULL, "ms", 20.0, 0.0, INFINITY, N4D__LO_OPEN, "membrane time constant"},
    {"v_rest", NULL, "mV", -49.0, -INFINITY, INFINITY, 0, "resting potential"},
    {"v_reset", NULL, "mV", -60.0, -INFINITY, INFINITY, 0, "reset potential"},
    {"v_threshold", NULL, "mV", -50.0, -INFINITY, INFINITY, 0, "spike threshold (V >= threshold)"},
    {"t_ref", "refractory_period", "ms", 5.0, 0.0, INFINITY, 0, "refractory period"},
    {"tau_syn_ex", NULL, "ms", 5.0, 0.0, INFINITY, N4D__LO_OPEN, "excitatory current time constant"},
    {"tau_syn_in", NULL, "ms", 10.0, 0.0, INFINITY, N4D__LO_OPEN, "inhibitory current time constant"},
    {"i_e", NULL, "mV", 0.0, -INFINITY, INFINITY, 0, "constant input (V settles at v_rest + i_e)"},
};
static const n4d__state_def n4d__lif_exp_states[] = {
    {"v", "mV", "v_init (default v_rest)", "membrane potential"},
    {"ge", "mV", "0", "excitatory synaptic current"},
    {"gi", "mV", "0", "inhibitory synaptic current"},
};
static void n4d__lif_exp_constants(const double *q, double dt, void *out)
{
    n4d__lif_exp_k *k = (n4d__lif_exp_k *)out;
    const double tau_m = q[N4D__LIF_EXP_TAU_M];
    const int32_t ref_steps = n4d__ref_steps(q[N4D__LIF_EXP_T_REF], dt);
    k->ref_after_spike = ref_steps > 0 ? ref_steps - 1 : 0;
    k->v_rest = (float)q[N4D__LIF_EXP_V_REST];
    k->v_reset = (float)q[N4D__LIF_EXP_V_RESET];
    k->v_th = (float)q[N4D__LIF_EXP_V_TH];
    k->i_e = (float)q[N4D__LIF_EXP_I_E];
    const double pm = exp(-dt / tau_m);
    k->pm = (float)pm;
    k->pe = (float)exp(-dt / q[N4D__LIF_EXP_TAU_SYN_EX]);
    k->pi = (float)exp(-dt / q[N4D__LIF_EXP_TAU_SYN_IN]);
    k->pdc = (float)-expm1(-dt / tau_m);
    /* response of V to a unit exponential current: tau_s / (tau_s - tau_m) *
     * (e^{-h/tau_s} - e^{-h/tau_m}), with the limit h/tau e^{-h/tau} */
    const double ts[2] = {q[N4D__LIF_EXP_TAU_SYN_EX], q[N4D__LIF_EXP_TAU_SYN_IN]};
    for (int c = 0; c < 2; c++) {
        double v;
        if (fabs(ts[c] - tau_m) < 1e-9 * tau_m)
            v = dt / tau_m * pm;
        else
            v = ts[c] / (ts[c] - tau_m) * (exp(-dt / ts[c]) - pm);
        if (c == 0)
            k->pem = (float)v;
        else
            k->pim = (float)v;
    }
}
static const n4d__model_host n4d__lif_exp_host = {
    .doc = "leaky integrate-and-fire, exponential currents, exact integration (CUBA, NEST "
           "iaf_psc_exp); V clamped while refractory",
    N4D__MODEL_TABLES(lif_exp),
    .v_init_param = N4D__LIF_EXP_V_REST,
    .refractory = 1,
    .constants = n4d__lif_exp_constants};
#endif

#endif

#ifdef N4D_NEURON_MODEL
N4D_NEURON_MODEL(1, lif_exp)
#endif
