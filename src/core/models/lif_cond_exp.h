/* lif_cond_exp: leaky integrate-and-fire with exponential conductances
 * (the Vogels-Abbott COBA model): Euler for V with the conductances of this
 * step (as Brian2's COBA example), exact exponential decay of the
 * conductances; inhibitory input arrives negative and adds its magnitude to
 * gi. V clamped while refractory.
 * Registered in ../neuron_models.def; docs/models.md. */
#ifndef N4D_MODEL_LIF_COND_EXP_H
#define N4D_MODEL_LIF_COND_EXP_H

typedef struct n4d__lif_cond_exp_k {
    float v_rest, v_reset, v_th, i_e;
    float tau_m, dt;
    float pe, pi;     /* conductance decay per step */
    float e_ex, e_in; /* reversal potentials */
    int32_t ref_after_spike;
} n4d__lif_cond_exp_k;

enum { n4d__lif_cond_exp_nstate = 3 };

/* x0 = ge, x1 = gi: the conductances relative to the leak */
N4D_HD int n4d__lif_cond_exp_step(const n4d__lif_cond_exp_k *p, float *v, float *ge, float *gi,
                                  float *x2, int32_t *ref, float in_e, float in_i, float ext)
{
    (void)x2;
    const float e = *ge + in_e, i = *gi - in_i;
    const int32_t r = *ref;
    const float vv = *v;
    const float drive = e * (p->e_ex - vv) + i * (p->e_in - vv) - (vv - p->v_rest) + (ext + p->i_e);
    const float vn = vv + drive / p->tau_m * p->dt;
    const int refr = r > 0;
    const int spike = !refr & (vn >= p->v_th);
    *v = n4d__selectf(spike, p->v_reset, n4d__selectf(refr, vv, vn));
    *ref = spike ? p->ref_after_spike : r - refr;
    *ge = e * p->pe;
    *gi = i * p->pi;
    return spike;
}

#ifdef N4D__MODEL_HOST
enum { N4D__LCE_TAU_M, N4D__LCE_V_REST, N4D__LCE_V_RESET, N4D__LCE_V_TH, N4D__LCE_T_REF,
       N4D__LCE_TAU_SYN_EX, N4D__LCE_TAU_SYN_IN, N4D__LCE_E_EX, N4D__LCE_E_IN, N4D__LCE_I_E };
static const n4d__param_def n4d__lif_cond_exp_params[] = {
    {"tau_m", NULL, "ms", 20.0, 0.0, INFINITY, N4D__LO_OPEN, "membrane time constant"},
    {"v_rest", NULL, "mV", -60.0, -INFINITY, INFINITY, 0, "leak reversal potential"},
    {"v_reset", NULL, "mV", -60.0, -INFINITY, INFINITY, 0, "reset potential"},
    {"v_threshold", NULL, "mV", -50.0, -INFINITY, INFINITY, 0, "spike threshold (V >= threshold)"},
    {"t_ref", "refractory_period", "ms", 5.0, 0.0, INFINITY, 0, "refractory period"},
    {"tau_syn_ex", NULL, "ms", 5.0, 0.0, INFINITY, N4D__LO_OPEN, "excitatory conductance time constant"},
    {"tau_syn_in", NULL, "ms", 10.0, 0.0, INFINITY, N4D__LO_OPEN, "inhibitory conductance time constant"},
    {"e_ex", NULL, "mV", 0.0, -INFINITY, INFINITY, 0, "excitatory reversal potential"},
    {"e_in", NULL, "mV", -80.0, -INFINITY, INFINITY, 0, "inhibitory reversal potential"},
    {"i_e", NULL, "mV", 0.0, -INFINITY, INFINITY, 0, "constant input, added to the drive"},
};
static const n4d__state_def n4d__lif_cond_exp_states[] = {
    {"v", "mV", "v_init (default v_rest)", "membrane potential"},
    {"ge", "1", "0", "excitatory conductance, relative to the leak"},
    {"gi", "1", "0", "inhibitory conductance, relative to the leak"},
};
static void n4d__lif_cond_exp_constants(const double *q, double dt, void *out)
{
    n4d__lif_cond_exp_k *k = (n4d__lif_cond_exp_k *)out;
    const int32_t ref_steps = n4d__ref_steps(q[N4D__LCE_T_REF], dt);
    k->ref_after_spike = ref_steps > 0 ? ref_steps - 1 : 0;
    k->v_rest = (float)q[N4D__LCE_V_REST];
    k->v_reset = (float)q[N4D__LCE_V_RESET];
    k->v_th = (float)q[N4D__LCE_V_TH];
    k->i_e = (float)q[N4D__LCE_I_E];
    k->tau_m = (float)q[N4D__LCE_TAU_M];
    k->dt = (float)dt;
    k->e_ex = (float)q[N4D__LCE_E_EX];
    k->e_in = (float)q[N4D__LCE_E_IN];
    k->pe = (float)exp(-dt / q[N4D__LCE_TAU_SYN_EX]);
    k->pi = (float)exp(-dt / q[N4D__LCE_TAU_SYN_IN]);
}
static const n4d__model_host n4d__lif_cond_exp_host = {
    .doc = "leaky integrate-and-fire, exponential conductances (COBA; Euler for V, exact decay "
           "of the conductances); inhibitory weights are negative",
    N4D__MODEL_TABLES(lif_cond_exp),
    .v_init_param = N4D__LCE_V_REST,
    .refractory = 1,
    .constants = n4d__lif_cond_exp_constants};
#endif

#endif

#ifdef N4D_NEURON_MODEL
N4D_NEURON_MODEL(3, lif_cond_exp)
#endif
