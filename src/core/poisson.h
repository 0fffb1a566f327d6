/* Sparse sampling of Poisson inputs (N4D_POISSON_SPARSE, docs/config.md
 * "inputs"): instead of one draw per neuron and step, one draw per neuron
 * and block of 2^k steps gives the block's event count (Poisson with the
 * block's mean), and one draw per 16 (or 8) events their steps in the
 * block. A Poisson count placed uniformly is a Poisson process, so the
 * input is the same process as per-step sampling, at a cost that follows
 * the events. The block grid starts at step 0 and every draw is keyed by
 * (input, user id, block) (neuron.h), so the events do not depend on the
 * backend, the thread count, the batch or the run lengths.
 *
 * A block that fits the delay ring (block_ring) is added to the ring slots
 * of its events' steps by the update of its first step
 * (n4d__poisson_block_ring, and cpu-omp's table version in cpu_common.h;
 * the checkpointed ring holds the rest of a block). A longer block's
 * events are generated serially before the batch (n4d__poisson_prepare)
 * into a per-input cache sorted by step and internal index; the neuron
 * update adds those of its step and index range (n4d__poisson_sparse_add).
 * The cache is recomputed on demand, so it is not part of the checkpointed
 * state. */
#ifndef N4D_POISSON_H
#define N4D_POISSON_H

#include "ring.h"

/* The inversion table of a per-step input (CPU backends): cdf[k] is the
 * running sum n4d__poisson_inv compares its uniform with at count k, so
 * the count of a draw u is the number of entries below u (the sums never
 * decrease), the same integer as n4d__poisson_inv without its division
 * per step of the search. Padded with +inf to a whole block of 8 beyond
 * the last entry (the search stops there). */
typedef struct n4d__poisson_cdf {
    double *cdf;
    uint32_t n; /* entries (the largest count n4d__poisson_inv returns) */
    size_t cap; /* allocated, a multiple of 8 and > n */
    /* the first 8 entries for 53-bit draws U (u = U * 2^-53): cdf[q] < u
     * exactly when U > thr[q] = floor(cdf[q] * 2^53) (a power-of-two
     * scaling is exact; INT64_MAX for the padding) */
    int64_t thr[8];
} n4d__poisson_cdf;

/* Builds sim->pcdf for the sim's Poisson inputs: a per-step input's table
 * is its steps', a sparse input's its blocks' (N4D_E_NOMEM). */
n4d_status n4d__poisson_tables(n4d_sim *sim);

/* n4d__poisson_inv(u, ...) of the table's input: the entries below u,
 * counted from entry k0 (a multiple of 8 whose entries before are below u). */
static inline uint32_t n4d__poisson_count_from(const n4d__poisson_cdf *t, uint32_t k0, double u)
{
    uint32_t k = k0;
    for (;;) {
        uint32_t c = 0;
        for (uint32_t q = 0; q < 8; q++)
            c += t->cdf[k + q] < u;
        k += c;
        if (c < 8)
            return k;
    }
}

/* The events of per-step input `in` (table t) for neuron `id` at `step`:
 * n4d__poisson_events with the table's search. */
static inline uint64_t n4d__poisson_events_cdf(const n4d__poisson_rt *in,
                                               const n4d__poisson_cdf *t, uint64_t seed,
                                               uint32_t id, uint64_t step)
{
    uint64_t k = 0;
    for (uint32_t j = 0; j < in->parts; j++) {
        n4d__r4 r = n4d__philox(seed, in->purpose, id, step * in->parts + j);
        k += n4d__poisson_count_from(t, 0, n4d__u01(r.v[0], r.v[1]));
    }
    return k;
}

typedef struct n4d__poisson_cache {
    uint64_t c0, c1; /* steps [c0, c1) are cached (c1 == c0: none) */
    uint32_t *ptr;   /* per cached step + 1: start of its events in ids */
    uint32_t *ids;   /* internal indices, by step then index (repeated per event) */
    size_t cap_ptr, cap_ids;
} n4d__poisson_cache;

/* Sets the block constants of a sparse input of lambda events per step
 * (in->purpose set) in a sim of ring_slots delay slots. */
void n4d__poisson_sparse_init(n4d__poisson_rt *in, double lambda, uint32_t ring_slots);

/* Adds the n events of neuron i (user id uid) in block blk of a sparse
 * input with block_ring to the ring slots of their steps (the block's
 * first step being the current one, not yet taken). */
static inline void n4d__poisson_ring_events(n4d_sim *sim, const n4d__poisson_rt *in, uint32_t uid,
                                            uint32_t i, uint64_t blk, uint32_t n)
{
    const uint32_t R = sim->ring_slots;
    const uint64_t t0 = blk << in->block_log2;
    const uint32_t s0 = (uint32_t)(t0 % R);
    const int neg = in->weight_q < 0;
    n4d__r4 r;
    for (uint32_t e = 0; e < n; e++) {
        uint64_t t;
        if (!n4d__poisson_event_at(in, sim->seed, uid, blk, e, &r, &t))
            continue;
        uint32_t slot = s0 + (uint32_t)(t - t0); /* t - t0 < 2^block_log2 <= R */
        slot -= slot >= R ? R : 0;
        n4d__ring_add(sim, n4d__ring_row(sim, slot, neg), i, in->weight_q);
    }
}

/* The events of the block starting at `step` of sparse input k (with
 * block_ring) for internal indices [a, b) into the ring: the plain draws
 * (cpu-ref; cpu-omp counts with the table). */
void n4d__poisson_block_ring(n4d_sim *sim, size_t k, uint64_t step, uint64_t a, uint64_t b);

/* Serial: makes the caches of the sparse inputs cover steps [step0, step0 +
 * steps). N4D_E_NOMEM (detail on the sim) when they cannot grow. */
n4d_status n4d__poisson_prepare(n4d_sim *sim, uint64_t step0, uint64_t steps);

/* Frees the caches (sim->pcache). */
void n4d__poisson_free(n4d_sim *sim);

/* Adds the events of sparse input k at `step` for internal indices [a, b)
 * to acc, the step's ring row of the input's channel (a prepared step;
 * exact sums, ring.h). */
static inline void n4d__poisson_sparse_add(n4d_sim *sim, size_t k, uint64_t step, uint64_t a,
                                           uint64_t b, int32_t *acc)
{
    const n4d__poisson_cache *pc = &sim->pcache[k];
    const int64_t w = sim->poisson[k].weight_q;
    const uint64_t o = step - pc->c0;
    uint64_t lo = n4d__lower_bound(pc->ids, pc->ptr[o], pc->ptr[o + 1], (uint32_t)a);
    const uint64_t hi = pc->ptr[o + 1];
    for (; lo < hi && pc->ids[lo] < b; lo++)
        n4d__ring_add(sim, acc, pc->ids[lo], w);
}

#endif
