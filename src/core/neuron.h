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

/* The equations of every neuron model (the registry: neuron_models.def). */
#include "neuron_models.def"

/* Auxiliary state arrays besides v: sim->x[0 .. N4D__NX - 1]. A model keeps
 * its state variables after v in x[0], x[1], ... (its state table's order);
 * neuron_models.c checks that every model fits. */
#define N4D__NX 3

/* A bound on the number of distinct state names (n4d__state_name_count:
 * the models' state variables, i_ext and refractory). */
enum {
    N4D__STATE_NAMES_MAX = 2
#define N4D_NEURON_MODEL(id, name) +n4d__##name##_nstate
#include "neuron_models.def"
#undef N4D_NEURON_MODEL
};

/* Run-time constants of one population. */
typedef struct n4d__pop_rt {
    uint64_t first, n; /* internal index range (one run of the population) */
    int32_t pop;       /* population index */
    int32_t model;     /* the model's registry id */
    union {            /* the model's constants, k.NAME */
#define N4D_NEURON_MODEL(id, name) n4d__##name##_k name;
#include "neuron_models.def"
#undef N4D_NEURON_MODEL
    } k;
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

/* Advances one neuron of any model by one step (each model's step is in
 * models/; see the signature in models/lif.h). A model id that is not
 * registered updates nothing: the core refuses such populations. */
N4D_HD int n4d__update_neuron(const n4d__pop_rt *p, float *v, float *x0, float *x1, float *x2,
                              int32_t *ref, float in_e, float in_i, float ext)
{
    switch (p->model) {
#define N4D_NEURON_MODEL(id, name)                                                               \
    case id: return n4d__##name##_step(&p->k.name, v, x0, x1, x2, ref, in_e, in_i, ext);
#include "neuron_models.def"
#undef N4D_NEURON_MODEL
    }
    return 0;
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
    /* sparse sampling (N4D_POISSON_SPARSE; CPU backends, poisson.h): the
     * count of a block of 2^block_log2 steps in block_parts draws of
     * lambda_block_part, then each event's step in the block */
    uint32_t sparse, block_log2, block_parts;
    double lambda_block_part, exp_neg_block_part;
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
