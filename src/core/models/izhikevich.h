/* izhikevich: Izhikevich (2003), Euler; synaptic events act as a current
 * for one step; no refractory period.
 * Registered in ../neuron_models.def; docs/models.md. */
#ifndef N4D_MODEL_IZHIKEVICH_H
#define N4D_MODEL_IZHIKEVICH_H

typedef struct n4d__izhikevich_k {
    float a, b, c, d, v_peak, i_e, dt;
} n4d__izhikevich_k;

enum { n4d__izhikevich_nstate = 2 };

/* x0 = u, the recovery variable */
N4D_HD int n4d__izhikevich_step(const n4d__izhikevich_k *p, float *v, float *u, float *x1,
                                float *x2, int32_t *ref, float in_e, float in_i, float ext)
{
    (void)x1;
    (void)x2;
    (void)ref;
    const float vv = *v, uu = *u;
    const float I = (in_e + in_i) + (ext + p->i_e);
    float nv = vv + p->dt * (0.04f * vv * vv + 5.0f * vv + 140.0f - uu + I);
    float nu = uu + p->dt * (p->a * (p->b * vv - uu));
    const int spike = nv >= p->v_peak;
    nv = spike ? p->c : nv;
    nu = spike ? nu + p->d : nu;
    const int finite = isfinite(nv);
    *v = finite ? nv : p->c;
    *u = finite ? nu : p->b * p->c;
    return spike;
}

#ifdef N4D__MODEL_HOST
enum { N4D__IZH_A, N4D__IZH_B, N4D__IZH_C, N4D__IZH_D, N4D__IZH_V_PEAK, N4D__IZH_I_E };
static const n4d__param_def n4d__izhikevich_params[] = {
    {"a", NULL, "1/ms", 0.02, -INFINITY, INFINITY, 0, "recovery time scale"},
    {"b", NULL, "1", 0.2, -INFINITY, INFINITY, 0, "recovery sensitivity to v"},
    {"c", NULL, "mV", -65.0, -INFINITY, INFINITY, 0, "reset potential"},
    {"d", NULL, "mV/ms", 8.0, -INFINITY, INFINITY, 0, "recovery increment at a spike"},
    {"v_peak", NULL, "mV", 30.0, -INFINITY, INFINITY, 0, "spike cut-off (V >= v_peak)"},
    {"i_e", NULL, "mV/ms", 0.0, -INFINITY, INFINITY, 0, "constant input current"},
};
static const n4d__state_def n4d__izhikevich_states[] = {
    {"v", "mV", "v_init (default c)", "membrane potential"},
    {"u", "mV/ms", "b * v", "recovery variable"},
};
static const n4d_param_value n4d__izh_rs[] = {{"a", 0.02}, {"b", 0.2}, {"c", -65.0}, {"d", 8.0}};
static const n4d_param_value n4d__izh_fs[] = {{"a", 0.1}, {"b", 0.2}, {"c", -65.0}, {"d", 2.0}};
static const n4d_param_value n4d__izh_ch[] = {{"a", 0.02}, {"b", 0.2}, {"c", -50.0}, {"d", 2.0}};
static const n4d_param_value n4d__izh_ib[] = {{"a", 0.02}, {"b", 0.2}, {"c", -55.0}, {"d", 4.0}};
static const n4d__preset_def n4d__izhikevich_presets[] = {
    {"regular_spiking", n4d__izh_rs, 4},
    {"fast_spiking", n4d__izh_fs, 4},
    {"bursting", n4d__izh_ch, 4}, /* chattering */
    {"intrinsic_bursting", n4d__izh_ib, 4},
};
static void n4d__izhikevich_constants(const double *q, double dt, void *out)
{
    n4d__izhikevich_k *k = (n4d__izhikevich_k *)out;
    k->a = (float)q[N4D__IZH_A];
    k->b = (float)q[N4D__IZH_B];
    k->c = (float)q[N4D__IZH_C];
    k->d = (float)q[N4D__IZH_D];
    k->v_peak = (float)q[N4D__IZH_V_PEAK];
    k->i_e = (float)q[N4D__IZH_I_E];
    k->dt = (float)dt;
}
static void n4d__izhikevich_init(const double *q, float v, float *x)
{
    x[0] = (float)(q[N4D__IZH_B] * (double)v); /* u = b v */
}
static const n4d__model_host n4d__izhikevich_host = {
    .doc = "Izhikevich (2003), Euler; synaptic events act as a current for one step",
    N4D__MODEL_TABLES(izhikevich),
    .presets = n4d__izhikevich_presets,
    .n_presets = N4D__COUNT(n4d__izhikevich_presets),
    .v_init_param = N4D__IZH_C,
    .refractory = 0,
    .constants = n4d__izhikevich_constants,
    .init = n4d__izhikevich_init};
#endif

#endif

#ifdef N4D_NEURON_MODEL
N4D_NEURON_MODEL(2, izhikevich)
#endif
