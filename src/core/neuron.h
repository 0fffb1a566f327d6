/* Per-neuron update equations, shared by every backend (CPU and CUDA) so
 * that all give bitwise identical results: float arithmetic in a fixed
 * order, constants precomputed on the host, no FMA contraction (compiled
 * with -ffp-contract=off / nvcc -fmad=false). See docs/models.md. */
#ifndef N4D_NEURON_H
#define N4D_NEURON_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "philox.h"

/* Run-time constants of one population. */
typedef struct n4d__pop_rt {
    uint64_t first, n; /* internal index range (one run of the population) */
    int32_t pop;       /* population index */
    int32_t model;     /* n4d_neuron_model */
    int32_t ref_steps; /* refractory period in steps */
    int32_t ref_after_spike; /* refractory steps left after a spike: max(ref_steps - 1, 0) */
    float v_rest, v_reset, v_th, i_e;
    float tau_m, dt;           /* lif: dV = (-(V - v_rest) + I) / tau_m * dt */
    float pm, pe, pi, pem, pim, pdc; /* lif_exp exact propagators */
    float a, b, c, d, v_peak;  /* izhikevich */
    float e_ex, e_in;          /* lif_cond_exp reversal potentials */
} n4d__pop_rt;

/* Converts a fixed-point synaptic sum to float. The int64 -> double step
 * uses the 2^52 + 2^51 bias trick (exact for |acc| < 2^51, which the
 * fixed-point scale guarantees with a wide margin; see build.c) because it
 * vectorises on every SIMD level; the multiply by the power-of-two inverse
 * scale is exact, then one rounding to float. */
N4D_HD float n4d__fixed_to_float(int64_t acc, double inv_scale)
{
#ifdef __CUDA_ARCH__ /* device code; the host pass of nvcc takes memcpy */
    double d = __longlong_as_double(acc + 0x4338000000000000LL);
#else
    const int64_t biased = acc + 0x4338000000000000LL;
    double d;
    memcpy(&d, &biased, sizeof d);
#endif
    return (float)((d - 6755399441055744.0) * inv_scale);
}

/* The step of each model, branch-free (selects instead of branches) so the
 * CPU kernels vectorise; the same functions run on every backend. in_e /
 * in_i: synaptic input arriving this step (excitatory, inhibitory); ext:
 * external input (sense/user input and DC). Each returns 1 on a spike. */

/* lif, 4D Neural Cognition: Euler; while refractory V is frozen and the
 * inputs are discarded. */
N4D_HD int n4d__lif_step(const n4d__pop_rt *p, float *v, int32_t *ref, float in_e, float in_i,
                         float ext)
{
    const int32_t r = *ref;
    const float vv = *v;
    const float drive = (in_e + in_i) + (ext + p->i_e);
    float vn = vv + (-(vv - p->v_rest) + drive) / p->tau_m * p->dt;
    vn = isfinite(vn) ? vn : p->v_rest;
    const int refr = r > 0;
    const int spike = !refr & (vn >= p->v_th);
    *v = spike ? p->v_reset : (refr ? vv : vn);
    *ref = spike ? p->ref_after_spike : (refr ? r - 1 : r);
    return spike;
}

/* lif_exp: exact integration; while refractory V is clamped, the synaptic
 * currents go on. */
N4D_HD int n4d__lif_exp_step(const n4d__pop_rt *p, float *v, float *ge, float *gi, int32_t *ref,
                             float in_e, float in_i, float ext)
{
    const float e = *ge + in_e, i = *gi + in_i;
    const int32_t r = *ref;
    const float vv = *v;
    const float vn = p->v_rest + (vv - p->v_rest) * p->pm + e * p->pem + i * p->pim +
                     (ext + p->i_e) * p->pdc;
    const int refr = r > 0;
    const int spike = !refr & (vn >= p->v_th);
    *v = spike ? p->v_reset : (refr ? vv : vn);
    *ref = spike ? p->ref_after_spike : (refr ? r - 1 : r);
    *ge = e * p->pe;
    *gi = i * p->pi;
    return spike;
}

/* lif_cond_exp: Euler for V with the conductances of this step (as Brian2's
 * COBA example), exact exponential decay of the conductances; inhibitory
 * input arrives negative and adds its magnitude to gi. V clamped while
 * refractory. */
N4D_HD int n4d__lif_cond_step(const n4d__pop_rt *p, float *v, float *ge, float *gi, int32_t *ref,
                              float in_e, float in_i, float ext)
{
    const float e = *ge + in_e, i = *gi - in_i;
    const int32_t r = *ref;
    const float vv = *v;
    const float drive = e * (p->e_ex - vv) + i * (p->e_in - vv) - (vv - p->v_rest) + (ext + p->i_e);
    const float vn = vv + drive / p->tau_m * p->dt;
    const int refr = r > 0;
    const int spike = !refr & (vn >= p->v_th);
    *v = spike ? p->v_reset : (refr ? vv : vn);
    *ref = spike ? p->ref_after_spike : (refr ? r - 1 : r);
    *ge = e * p->pe;
    *gi = i * p->pi;
    return spike;
}

/* izhikevich: Euler; synaptic events act as a current for one step. */
N4D_HD int n4d__izh_step(const n4d__pop_rt *p, float *v, float *u, float in_e, float in_i,
                         float ext)
{
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

/* Advances one neuron of any model by one step. */
N4D_HD int n4d__update_neuron(const n4d__pop_rt *p, float *v, float *x1, float *x2, int32_t *ref,
                              float in_e, float in_i, float ext)
{
    switch (p->model) {
    case 0: return n4d__lif_step(p, v, ref, in_e, in_i, ext);
    case 1: return n4d__lif_exp_step(p, v, x1, x2, ref, in_e, in_i, ext);
    case 3: return n4d__lif_cond_step(p, v, x1, x2, ref, in_e, in_i, ext);
    default: return n4d__izh_step(p, v, x1, in_e, in_i, ext);
    }
}

/* A Poisson input of a population at run time. */
typedef struct n4d__poisson_rt {
    int32_t pop;
    uint32_t purpose;      /* N4D_RNG_POISSON | input index << 8 */
    uint32_t parts;        /* lambda split into parts of <= 100 */
    double lambda_part;
    double exp_neg_part;   /* exp(-lambda_part), computed on the host */
    int64_t weight_q;      /* fixed point */
    uint64_t step_start, step_stop;
} n4d__poisson_rt;

/* Events of a Poisson input for neuron `id` at `step`. */
N4D_HD uint64_t n4d__poisson_events(const n4d__poisson_rt *in, uint64_t seed, uint32_t id,
                                    uint64_t step)
{
    uint64_t k = 0;
    for (uint32_t j = 0; j < in->parts; j++) {
        n4d__r4 r = n4d__philox(seed, in->purpose, id, step * in->parts + j);
        k += n4d__poisson_inv(n4d__u01(r.v[0], r.v[1]), in->lambda_part, in->exp_neg_part);
    }
    return k;
}

#endif
