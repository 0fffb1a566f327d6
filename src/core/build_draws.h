/* CPU construction kernels (build_draws.c): the weights and delays of a
 * row, the conversion to fixed point, and the host versions of the bulk
 * draws and sorts that synapse_gen.h declares (n4d__build_uniform_below,
 * n4d__build_sort_below, n4d__build_sort_chunk), vectorised; each gives
 * the bits of the reference it replaces. */
#ifndef N4D_BUILD_DRAWS_H
#define N4D_BUILD_DRAWS_H

#include "synapse_gen.h"

/* The weight and key (delay, sign) of out[0 .. n), synapses j = 0 .. n - 1
 * of entity `entity` of projection P whose targets are set: bitwise what
 * n4d__sg_make gives each, a block of synapses at a time. */
void n4d__build_make_row(const n4d__sg_proj *P, uint64_t seed, uint32_t entity, n4d__gen_syn *out,
                         uint64_t n);

/* The weights w[0, n), float bits, in fixed point: lrint(w * scale), in
 * place (|w * scale| < 2^31). */
void n4d__build_to_fixed(int32_t *w, uint64_t n, double scale);

#endif
