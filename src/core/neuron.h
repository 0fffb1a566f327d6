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

/* The constants of a neuron of any model, k.NAME. */
typedef union n4d__neuron_k {
#define N4D_NEURON_MODEL(id, name) n4d__##name##_k name;
#include "neuron_models.def"
#undef N4D_NEURON_MODEL
} n4d__neuron_k;

/* Run-time constants of one population. */
typedef struct n4d__pop_rt {
    uint64_t first, n; /* internal index range (one run of the population) */
    int32_t pop;       /* population index */
    int32_t model;     /* the model's registry id */
    n4d__neuron_k k;   /* the model's constants */
    /* a population with a cell lifecycle (lifecycle.h): per-neuron
     * constants, used instead of k, and alive flags, by internal index;
     * NULL otherwise. The constants are stored by 32-bit words (word f of
     * neuron i at kn[f * kn_stride + i], n4d__kn_get), so that the kernels
     * load them as vectors. */
    const uint32_t *kn;
    uint64_t kn_stride;
    const uint8_t *alive;
} n4d__pop_rt;

/* 32-bit words of the constants of any model (per-neuron constants). */
#define N4D__KWORDS ((sizeof(n4d__neuron_k) + 3) / 4)

/* The constants of neuron i from word-major storage, and back. */
N4D_HD void n4d__kn_get(const uint32_t *kn, uint64_t stride, uint64_t i, n4d__neuron_k *k)
{
    uint32_t w[N4D__KWORDS];
    for (unsigned f = 0; f < N4D__KWORDS; f++)
        w[f] = kn[f * stride + i];
    memcpy(k, w, sizeof *k);
}
N4D_HD void n4d__kn_put(uint32_t *kn, uint64_t stride, uint64_t i, const n4d__neuron_k *k)
{
    uint32_t w[N4D__KWORDS] = {0};
    memcpy(w, k, sizeof *k);
    for (unsigned f = 0; f < N4D__KWORDS; f++)
        kn[f * stride + i] = w[f];
}

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
N4D_HD int n4d__update_neuron_k(int32_t model, const n4d__neuron_k *k, float *v, float *x0,
                                float *x1, float *x2, int32_t *ref, float in_e, float in_i,
                                float ext)
{
    switch (model) {
#define N4D_NEURON_MODEL(id, name)                                                               \
    case id: return n4d__##name##_step(&k->name, v, x0, x1, x2, ref, in_e, in_i, ext);
#include "neuron_models.def"
#undef N4D_NEURON_MODEL
    }
    return 0;
}

N4D_HD int n4d__update_neuron(const n4d__pop_rt *p, float *v, float *x0, float *x1, float *x2,
                              int32_t *ref, float in_e, float in_i, float ext)
{
    return n4d__update_neuron_k(p->model, &p->k, v, x0, x1, x2, ref, in_e, in_i, ext);
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
    /* sparse sampling (N4D_POISSON_SPARSE, poisson.h): the count of a
     * block of 2^block_log2 steps in block_parts draws of lambda_block_part
     * (purpose_count), then each event's step in the block (purpose_place).
     * block_ring: the block fits the delay ring (2^block_log2 <= ring
     * slots), so its events are added to the ring at its first step, by
     * every backend (the checkpointed ring holds the rest of the block);
     * otherwise the CPU backends cache them (n4d__poisson_prepare). */
    uint32_t sparse, block_log2, block_parts, block_ring;
    uint32_t purpose_count, purpose_place;
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

/* Sparse sampling: the event count of neuron `id` in block `blk`. */
N4D_HD uint32_t n4d__poisson_block_count(const n4d__poisson_rt *in, uint64_t seed, uint32_t id,
                                         uint64_t blk)
{
    uint32_t n = 0;
    for (uint32_t j = 0; j < in->block_parts; j++) {
        const n4d__r4 r = n4d__philox(seed, in->purpose_count, id, blk * in->block_parts + j);
        n += n4d__poisson_inv(n4d__u01(r.v[0], r.v[1]), in->lambda_block_part,
                              in->exp_neg_block_part);
    }
    return n;
}

/* Sparse sampling: one draw places 16 events of a block of up to 256 steps
 * (a byte each, its top block_log2 bits) or 8 of a longer block (16 bits
 * each); event e's draw is number e / n4d__poisson_per_draw(in). */
N4D_HD uint32_t n4d__poisson_per_draw(const n4d__poisson_rt *in)
{
    return in->block_log2 <= 8 ? 16u : 8u;
}

N4D_HD n4d__r4 n4d__poisson_place_draw(const n4d__poisson_rt *in, uint64_t seed, uint32_t id,
                                       uint64_t blk, uint32_t group)
{
    return n4d__philox(seed, in->purpose_place, id, (blk << 24) | group);
}

/* The offset in its block of event e, from its group's draw r. */
N4D_HD uint32_t n4d__poisson_place(const n4d__poisson_rt *in, const n4d__r4 *r, uint32_t e)
{
    const uint32_t L = in->block_log2;
    if (L <= 8) {
        const uint32_t byte = (r->v[(e >> 2) & 3] >> (8 * (e & 3))) & 0xFFu;
        return byte >> (8 - L);
    }
    const uint32_t half = (r->v[(e >> 1) & 3] >> (16 * (e & 1))) & 0xFFFFu;
    return half >> (16 - L);
}

/* Whether `step` starts a block of sparse input `in` (with block_ring)
 * that meets the input's window: its events are added then. */
N4D_HD int n4d__poisson_block_starts(const n4d__poisson_rt *in, uint64_t step)
{
    const uint64_t W = (uint64_t)1 << in->block_log2;
    return (step & (W - 1)) == 0 && step < in->step_stop && step + W > in->step_start;
}

/* The step *t of event e of neuron `id` in block blk, the events taken in
 * order from 0 (r holds the draw of e's group, drawn here at its first
 * event), and whether it lies in the input's window. */
N4D_HD int n4d__poisson_event_at(const n4d__poisson_rt *in, uint64_t seed, uint32_t id,
                                 uint64_t blk, uint32_t e, n4d__r4 *r, uint64_t *t)
{
    uint32_t off = 0;
    if (in->block_log2) {
        const uint32_t per = n4d__poisson_per_draw(in);
        if (e % per == 0)
            *r = n4d__poisson_place_draw(in, seed, id, blk, e / per);
        off = n4d__poisson_place(in, r, e);
    }
    *t = (blk << in->block_log2) + off;
    return *t >= in->step_start && *t < in->step_stop;
}

#endif
