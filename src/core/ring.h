/* The delay ring: the synaptic input of every neuron for the next
 * max_delay steps, as int32 fixed-point sums with an exact overflow path.
 *
 * sim->ring[(slot * 2 + ch) * n + i] (ch 0 excitatory, 1 inhibitory, slot =
 * step % ring_slots) holds neuron i's sum for that step and channel. Integer
 * sums make delivery order-free (the basis of n4d's determinism); 32 bits
 * instead of 64 halve the bytes the update reads and clears per neuron-step
 * and let the kernels convert with one vector instruction. A sum that leaves
 * the int32 range is exact all the same: the add that would overflow goes to
 * the spill store instead (n4d__ring_add), lists of int64 values per slot
 * and block of neurons that the update of that step adds back
 * (n4d__ring_take). Spills need 32 to 64 largest-weight events on one
 * neuron, channel and step (the largest |weight| maps into [2^25, 2^26),
 * n4d__fixed_point_scale in build_device.h), or a Poisson input of many
 * events per step at the largest weight; in the benchmark networks the
 * lists stay empty and cost one predicted branch per event.
 *
 * Threads: the owner of a neuron (the thread that updates it and receives
 * its deliveries) is the only writer of its ring entries, including the
 * later slots a sparse Poisson block fills during the update; the spill
 * lists are shared, behind one spin lock (rare), with per-list counts the
 * update reads without the lock. A count can thus include another thread's
 * neuron of the same 4096-neuron block, added while this thread reads it:
 * that only sends this thread's range down the exact path (the same bits)
 * or wakes a quiet block for nothing. */
#ifndef N4D_RING_H
#define N4D_RING_H

#include "sim_state.h"

/* One spilled value: the int64 part of (row, target) beyond the int32 entry. */
typedef struct n4d__spill_entry {
    uint32_t row; /* slot * 2 + ch */
    uint32_t target;
    int64_t value;
} n4d__spill_entry;

/* The spilled values of one slot and block of neurons. */
typedef struct n4d__spill_list {
    n4d__spill_entry *e;
    size_t n, cap;
} n4d__spill_list;

/* Neurons per block of the spill lists: an update or a quiet check looks
 * at the lists of its own blocks only, so spills in one place cost nothing
 * elsewhere. */
#define N4D__SPILL_BLOCK_LOG2 12

typedef struct n4d__ring_spill {
    atomic_flag lock;
    uint32_t blocks;           /* blocks per slot */
    n4d__spill_list *list;     /* [slot * blocks + block] */
    _Atomic uint32_t *pending; /* [slot * blocks + block]: entries in that list */
    _Atomic int failed;        /* an entry could not be stored (out of memory) */
} n4d__ring_spill;

/* Allocates the ring (zero) and its spill store for sim->ring_slots slots
 * of sim->n neurons; false when out of memory. */
bool n4d__ring_create(n4d_sim *sim);
void n4d__ring_destroy(n4d_sim *sim);

/* The int32 row of (slot, ch). */
static inline int32_t *n4d__ring_row(const n4d_sim *sim, uint32_t slot, uint32_t ch)
{
    return sim->ring + ((size_t)slot * 2 + ch) * sim->n;
}

/* The slow path of n4d__ring_add: stores w for (row of acc, t) in the list. */
void n4d__ring_spill_add(n4d_sim *sim, const int32_t *acc, uint32_t t, int64_t w);

/* acc[t] += w, exact: acc is a row of the ring (n4d__ring_row). */
static inline void n4d__ring_add(n4d_sim *sim, int32_t *acc, uint32_t t, int64_t w)
{
    int32_t s;
    if (__builtin_expect(w < INT32_MIN || w > INT32_MAX ||
                             __builtin_add_overflow(acc[t], (int32_t)w, &s),
                         0))
        n4d__ring_spill_add(sim, acc, t, w);
    else
        acc[t] = s;
}

/* Whether neurons [a, b) (a < b) may have spilled values in `slot` (read
 * without the lock: the deliveries into a slot end at a barrier before its
 * update starts, and during the update a thread adds inputs only to its
 * own neurons, before it asks; another thread's neuron in the same block
 * may make it true, which costs the exact path, not a wrong sum). */
static inline bool n4d__ring_slot_spilled(const n4d_sim *sim, uint32_t slot, uint64_t a, uint64_t b)
{
    const n4d__ring_spill *s = sim->spill;
    const uint64_t k1 = (b - 1) >> N4D__SPILL_BLOCK_LOG2;
    for (uint64_t k = a >> N4D__SPILL_BLOCK_LOG2; k <= k1; k++)
        if (atomic_load_explicit(&s->pending[(size_t)slot * s->blocks + k], memory_order_relaxed))
            return true;
    return false;
}

/* n4d__ring_slot_spilled for the slot of `step`. */
static inline bool n4d__ring_spilled(const n4d_sim *sim, uint64_t step, uint64_t a, uint64_t b)
{
    return n4d__ring_slot_spilled(sim, (uint32_t)(step % sim->ring_slots), a, b);
}

/* The exact sums of neurons [a, b) at `step` into we[i - a] (excitatory)
 * and wi[i - a] (inhibitory), taken out of the ring: the int32 entries are
 * zeroed and the spilled values of the range removed. */
void n4d__ring_take(n4d_sim *sim, uint64_t step, uint64_t a, uint64_t b, int64_t *we, int64_t *wi);

/* Row `row` (slot * 2 + ch) of the ring as exact int64 values (out: n
 * entries, by user id when by_user, else by internal index), without
 * changing it (checkpoints, the CUDA backend's copy). */
void n4d__ring_get_row(const n4d_sim *sim, uint32_t row, bool by_user, int64_t *out);

/* Sets row `row` from exact int64 values (in: n entries, ordered as for
 * n4d__ring_get_row), spilling what does not fit in int32; the row's old
 * spilled values are dropped. Serial (outside a run). False when out of
 * memory. */
bool n4d__ring_set_row(n4d_sim *sim, uint32_t row, bool by_user, const int64_t *in);

/* N4D_E_NOMEM (detail on the sim) when a spilled value could not be stored
 * during the run: its results are wrong from that step on. */
n4d_status n4d__ring_check(n4d_sim *sim);

#endif
