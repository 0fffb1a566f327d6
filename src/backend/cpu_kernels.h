/* Vectorised CPU update kernels for a range of neurons of one population
 * without Poisson input (the common case). They call the same per-model
 * step functions as every backend (neuron.h), so results are bitwise those
 * of the scalar path. */
#ifndef N4D_CPU_KERNELS_H
#define N4D_CPU_KERNELS_H

#include "neuron.h"

#include <stdbool.h>

/* Arrays of one simulation, offset so that index i is neuron i. */
typedef struct n4d__kernel_args {
    float *v, *x[N4D__NX];
    float *iext; /* NULL: no external input this step (read as 0) */
    int32_t *ref;
    /* the synaptic sums of the step: either the int32 ring slot (by
     * internal index; consumed, i.e. zeroed), used when wide_e is NULL and
     * only where n4d__kernel_narrow_ok holds, or exact int64 sums of the
     * range [lo, hi) by i - lo (read only) */
    int32_t *in_e, *in_i;
    const int64_t *wide_e, *wide_i;
    double inv_scale;
    float dc;
    float gain; /* external input x gain (1 unless bound to a modulator: modulators.h) */
} n4d__kernel_args;

/* Whether the int32 ring can be read by the narrow kernels: (float)acc *
 * (float)inv_scale is then bitwise (float)((double)acc * inv_scale) (the
 * inverse scale is a power of two; the products of |acc| in [1, 2^31)
 * stay normal floats, so scaling commutes with rounding). */
static inline bool n4d__kernel_narrow_ok(double inv_scale)
{
    return inv_scale >= 0x1p-126 && inv_scale <= 0x1p96;
}

/* Updates neurons [lo, hi) of population p and writes the ids that spiked,
 * ascending, to spk; returns their count. */
uint64_t n4d__kernel_update(const n4d__pop_rt *p, const n4d__kernel_args *a, uint64_t lo,
                            uint64_t hi, uint32_t *spk);

/* For neurons id0 + j, j < n, of a per-step Poisson input (counter `ctr`,
 * the draws of n4d__poisson_events): u53[j] = the draw's 53 bits (the
 * uniform is u53 * 2^-53) and cnt[j] = the thresholds thr[0..7] below it,
 * i.e. the event count when it is below 8 (n4d__poisson_cdf.thr). */
void n4d__kernel_poisson_count8(uint64_t seed, uint32_t purpose, uint64_t ctr, uint32_t id0,
                                uint64_t n, const int64_t *thr, int32_t *cnt, uint64_t *u53);

/* acc[j] += cnt[j] * w for j < n <= 256 when every sum fits int32 (then
 * true); else false and acc is unchanged (the caller adds exactly, ring.h). */
bool n4d__kernel_add_counts(int32_t *acc, const int32_t *cnt, uint64_t n, int64_t w);

#endif
