/* lif: the leaky integrate-and-fire neuron of 4D Neural Cognition. Euler
 * integration; while refractory V is frozen and the inputs are discarded.
 * Registered in ../neuron_models.def; docs/models.md. */
#ifndef N4D_MODEL_LIF_H
#define N4D_MODEL_LIF_H

typedef struct n4d__lif_k {
    float v_rest, v_reset, v_th, i_e;
    float tau_m, dt;         /* dV = (-(V - v_rest) + I) / tau_m * dt */
    int32_t ref_after_spike; /* refractory steps left after a spike: max(ref_steps - 1, 0) */
} n4d__lif_k;

enum { n4d__lif_nstate = 1 };

/* The step of every model has this signature: constants, the state (v and
 * the auxiliary arrays x0..x2, the refractory counter), the synaptic input
 * arriving this step (excitatory, inhibitory), the external input (sense,
 * user and DC). Branch-free (selects, not branches) so that the CPU
 * kernels vectorise. Returns 1 on a spike. */
N4D_HD int n4d__lif_step(const n4d__lif_k *p, float *v, float *x0, float *x1, float *x2,
                         int32_t *ref, float in_e, float in_i, float ext)
{
    (void)x0;
    (void)x1;
    (void)x2;
    const int32_t r = *ref;
    const float vv = *v;
    const float drive = (in_e + in_i) + (ext + p->i_e);
    float vn = vv + (-(vv - p->v_rest) + drive) / p->tau_m * p->dt;
    vn = isfinite(vn) ? vn : p->v_rest;
    const int refr = r > 0;
    const int spike = !refr & (vn >= p->v_th);
    *v = n4d__selectf(spike, p->v_reset, n4d__selectf(refr, vv, vn));
    *ref = spike ? p->ref_after_spike : r - refr;
    return spike;
}

#ifdef N4D__MODEL_HOST
enum { N4D__LIF_TAU_M, N4D__LIF_V_REST, N4D__LIF_V_RESET, N4D__LIF_V_TH, N4D__LIF_T_REF,
       N4D__LIF_I_E };
static const n4d__param_def n4d__lif_params[] = {
    {"tau_m", NULL, "ms", 20.0, 0.0, INFINITY, N4D__LO_OPEN, "membrane time constant"},
    {"v_rest", NULL, "mV", -65.0, -INFINITY, INFINITY, 0, "resting potential"},
    {"v_reset", NULL, "mV", -70.0, -INFINITY, INFINITY, 0, "reset potential"},
    {"v_threshold", NULL, "mV", -50.0, -INFINITY, INFINITY, 0, "spike threshold (V >= threshold)"},
    {"t_ref", "refractory_period", "ms", 5.0, 0.0, INFINITY, 0, "refractory period"},
    {"i_e", NULL, "mV", 0.0, -INFINITY, INFINITY, 0, "constant input, added to the drive"},
};
static const n4d__state_def n4d__lif_states[] = {
    {"v", "mV", "v_init (default v_rest)", "membrane potential"},
};
static void n4d__lif_constants(const double *q, double dt, void *out)
{
    n4d__lif_k *k = (n4d__lif_k *)out;
    const int32_t ref_steps = n4d__ref_steps(q[N4D__LIF_T_REF], dt);
    k->ref_after_spike = ref_steps > 0 ? ref_steps - 1 : 0;
    k->v_rest = (float)q[N4D__LIF_V_REST];
    k->v_reset = (float)q[N4D__LIF_V_RESET];
    k->v_th = (float)q[N4D__LIF_V_TH];
    k->i_e = (float)q[N4D__LIF_I_E];
    k->tau_m = (float)q[N4D__LIF_TAU_M];
    k->dt = (float)dt;
}
static const n4d__model_host n4d__lif_host = {
    .doc = "leaky integrate-and-fire of 4D Neural Cognition (Euler; V frozen and the input "
           "discarded while refractory)",
    N4D__MODEL_TABLES(lif),
    .v_init_param = N4D__LIF_V_REST,
    .refractory = 1,
    .constants = n4d__lif_constants};
#endif

#endif

#ifdef N4D_NEURON_MODEL
N4D_NEURON_MODEL(0, lif)
#endif
