/* Per-neuron update equations, shared by every backend (CPU and CUDA) so
 * that all give bitwise identical results: float arithmetic in a fixed
 * order, constants precomputed on the host, no FMA contraction (compiled
 * with -ffp-contract=off / nvcc -fmad=false). See docs/models.md. */
#ifndef N4D_NEURON_H
#define N4D_NEURON_H

#include <math.h>
#include <stdint.h>

#include "philox.h"

/* Run-time constants of one population. */
typedef struct n4d__pop_rt {
    uint64_t first, n;
    int32_t model;     /* n4d_neuron_model */
    int32_t ref_steps; /* refractory period in steps */
    float v_rest, v_reset, v_th, i_e;
    float tau_m, dt;           /* lif: dV = (-(V - v_rest) + I) / tau_m * dt */
    float pm, pe, pi, pem, pim, pdc; /* lif_exp exact propagators */
    float a, b, c, d, v_peak;  /* izhikevich */
} n4d__pop_rt;

/* Converts a fixed-point synaptic sum to float (power-of-two scale: exact
 * in double, one rounding to float). */
N4D_HD float n4d__fixed_to_float(int64_t acc, double inv_scale)
{
    return (float)((double)acc * inv_scale);
}

/* Advances one neuron by one step. in_e / in_i: synaptic input arriving this
 * step (excitatory, inhibitory); ext: external input (sense/user input and
 * DC). Returns 1 if the neuron spikes. */
N4D_HD int n4d__update_neuron(const n4d__pop_rt *p, float *v, float *x1, float *x2, int32_t *ref,
                              float in_e, float in_i, float ext)
{
    switch (p->model) {
    case 0: { /* lif, 4D Neural Cognition: Euler, inputs discarded while refractory */
        if (*ref > 0) {
            (*ref)--;
            return 0;
        }
        float vv = *v;
        float drive = (in_e + in_i) + (ext + p->i_e);
        vv = vv + (-(vv - p->v_rest) + drive) / p->tau_m * p->dt;
        if (!isfinite(vv))
            vv = p->v_rest;
        if (vv >= p->v_th) {
            *v = p->v_reset;
            *ref = p->ref_steps > 0 ? p->ref_steps - 1 : 0;
            return 1;
        }
        *v = vv;
        return 0;
    }
    case 1: { /* lif_exp: exact integration; V clamped while refractory */
        float ge = *x1 + in_e, gi = *x2 + in_i;
        int spike = 0;
        if (*ref > 0) {
            (*ref)--;
        } else {
            float vv = *v;
            vv = p->v_rest + (vv - p->v_rest) * p->pm + ge * p->pem + gi * p->pim +
                 (ext + p->i_e) * p->pdc;
            if (vv >= p->v_th) {
                vv = p->v_reset;
                *ref = p->ref_steps > 0 ? p->ref_steps - 1 : 0;
                spike = 1;
            }
            *v = vv;
        }
        *x1 = ge * p->pe;
        *x2 = gi * p->pi;
        return spike;
    }
    default: { /* izhikevich, Euler; synaptic events act as current for one step */
        float vv = *v, u = *x1;
        float I = (in_e + in_i) + (ext + p->i_e);
        float nv = vv + p->dt * (0.04f * vv * vv + 5.0f * vv + 140.0f - u + I);
        float nu = u + p->dt * (p->a * (p->b * vv - u));
        int spike = 0;
        if (nv >= p->v_peak) {
            nv = p->c;
            nu = nu + p->d;
            spike = 1;
        }
        if (!isfinite(nv)) {
            nv = p->c;
            nu = p->b * p->c;
        }
        *v = nv;
        *x1 = nu;
        return spike;
    }
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
