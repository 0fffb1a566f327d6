/* parrot: repeats its input as spikes (NEST's parrot_neuron): a spike in
 * every step whose input is positive, at most one per step, no refractory
 * period. A parrot population driven by a Poisson input is a Poisson spike
 * source whose spikes go through synapses (plastic ones included).
 * Registered in ../neuron_models.def; docs/models.md. */
#ifndef N4D_MODEL_PARROT_H
#define N4D_MODEL_PARROT_H

typedef struct n4d__parrot_k {
    float i_e;
} n4d__parrot_k;

enum { n4d__parrot_nstate = 1 };

/* v = the input of the step (synaptic + external + i_e; 0 when not
 * finite); a spike when it is > 0. */
N4D_HD int n4d__parrot_step(const n4d__parrot_k *p, float *v, float *x0, float *x1, float *x2,
                            int32_t *ref, float in_e, float in_i, float ext)
{
    (void)x0;
    (void)x1;
    (void)x2;
    (void)ref;
    const float drive = (in_e + in_i) + (ext + p->i_e);
    const int spike = drive > 0.0f;
    *v = isfinite(drive) ? drive : 0.0f;
    return spike;
}

#ifdef N4D__MODEL_HOST
/* The registry needs one parameter (the default initial v); i_e, 0 by
 * default, is the constant input every model has. */
enum { N4D__PARROT_I_E };
static const n4d__param_def n4d__parrot_params[] = {
    {"i_e", NULL, "1", 0.0, -INFINITY, INFINITY, 0,
     "constant input, added to the input of every step (> 0: a spike every step)"},
};
static const n4d__state_def n4d__parrot_states[] = {
    {"v", "1", "v_init (default i_e)", "the input of the last step (a spike when > 0)"},
};
static void n4d__parrot_constants(const double *q, double dt, void *out)
{
    (void)dt;
    n4d__parrot_k *k = (n4d__parrot_k *)out;
    k->i_e = (float)q[N4D__PARROT_I_E];
}
static const n4d__model_host n4d__parrot_host = {
    .doc = "repeats its input as spikes (NEST parrot_neuron): a spike in every step whose input "
           "is > 0, at most one per step, no refractory period",
    N4D__MODEL_TABLES(parrot),
    .v_init_param = N4D__PARROT_I_E,
    .refractory = 0,
    .constants = n4d__parrot_constants};
#endif

#endif

#ifdef N4D_NEURON_MODEL
N4D_NEURON_MODEL(5, parrot)
#endif
