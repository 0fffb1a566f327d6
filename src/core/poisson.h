/* Sparse sampling of Poisson inputs (N4D_POISSON_SPARSE, docs/config.md
 * "inputs"): instead of one draw per neuron and step, one draw per neuron
 * and block of 2^k steps gives the block's event count (Poisson with the
 * block's mean), and one draw per event its step in the block. A Poisson
 * count placed uniformly is a Poisson process, so the input is the same
 * process as per-step sampling, at a cost that follows the events. The
 * block grid starts at step 0 and every draw is keyed by (input, user id,
 * block), so the events do not depend on the backend, the thread count,
 * the batch or the run lengths.
 *
 * The events of the blocks a batch touches are generated serially before
 * the batch (n4d__poisson_prepare) into a per-input cache sorted by step
 * and internal index; the neuron update adds those of its step and index
 * range (n4d__poisson_sparse_add). The cache is recomputed on demand, so it
 * is not part of the checkpointed state. */
#ifndef N4D_POISSON_H
#define N4D_POISSON_H

#include "sim_state.h"

typedef struct n4d__poisson_cache {
    uint64_t c0, c1; /* steps [c0, c1) are cached (c1 == c0: none) */
    uint32_t *ptr;   /* per cached step + 1: start of its events in ids */
    uint32_t *ids;   /* internal indices, by step then index (repeated per event) */
    size_t cap_ptr, cap_ids;
} n4d__poisson_cache;

/* Sets the block constants of a sparse input of lambda events per step. */
void n4d__poisson_sparse_init(n4d__poisson_rt *in, double lambda);

/* Serial: makes the caches of the sparse inputs cover steps [step0, step0 +
 * steps). N4D_E_NOMEM (detail on the sim) when they cannot grow. */
n4d_status n4d__poisson_prepare(n4d_sim *sim, uint64_t step0, uint64_t steps);

/* Frees the caches (sim->pcache). */
void n4d__poisson_free(n4d_sim *sim);

/* Adds the events of sparse input k at `step` for internal indices [a, b)
 * to acc (a prepared step). */
static inline void n4d__poisson_sparse_add(const n4d_sim *sim, size_t k, uint64_t step, uint64_t a,
                                           uint64_t b, int64_t *acc)
{
    const n4d__poisson_cache *pc = &sim->pcache[k];
    const int64_t w = sim->poisson[k].weight_q;
    const uint64_t o = step - pc->c0;
    uint64_t lo = n4d__lower_bound(pc->ids, pc->ptr[o], pc->ptr[o + 1], (uint32_t)a);
    const uint64_t hi = pc->ptr[o + 1];
    for (; lo < hi && pc->ids[lo] < b; lo++)
        acc[pc->ids[lo]] += w;
}

#endif
