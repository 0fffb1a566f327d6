/* Vectorised CPU update kernels for a range of neurons of one population
 * without Poisson input (the common case). They call the same per-model
 * step functions as every backend (neuron.h), so results are bitwise those
 * of the scalar path. */
#ifndef N4D_CPU_KERNELS_H
#define N4D_CPU_KERNELS_H

#include "neuron.h"

/* Arrays of one simulation, offset so that index i is neuron i. */
typedef struct n4d__kernel_args {
    float *v, *x[N4D__NX];
    float *iext; /* NULL: no external input this step (read as 0) */
    int32_t *ref;
    int64_t *in_e, *in_i; /* the ring slot of this step; consumed (zeroed) */
    double inv_scale;
    float dc;
    float gain; /* external input x gain (1 unless bound to a modulator: modulators.h) */
} n4d__kernel_args;

/* Updates neurons [lo, hi) of population p and writes the ids that spiked,
 * ascending, to spk; returns their count. */
uint64_t n4d__kernel_update(const n4d__pop_rt *p, const n4d__kernel_args *a, uint64_t lo,
                            uint64_t hi, uint32_t *spk);

/* u[j] = the uniform draw of neuron id0 + j for counter `ctr` of a Poisson
 * input (the draws of n4d__poisson_events, vectorised). */
void n4d__kernel_poisson_u01(uint64_t seed, uint32_t purpose, uint64_t ctr, uint32_t id0,
                             uint64_t n, double *u);

#endif
