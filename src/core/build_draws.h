/* CPU construction: the weights and delays of a row, vectorised. */
#ifndef N4D_BUILD_DRAWS_H
#define N4D_BUILD_DRAWS_H

#include "synapse_gen.h"

/* The weight and key (delay, sign) of out[0 .. n), synapses j = 0 .. n - 1
 * of entity `entity` of projection P whose targets are set: bitwise what
 * n4d__sg_make gives each, a block of synapses at a time. */
void n4d__build_make_row(const n4d__sg_proj *P, uint64_t seed, uint32_t entity, n4d__gen_syn *out,
                         uint64_t n);

#endif
