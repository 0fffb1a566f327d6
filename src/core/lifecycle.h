/* The cell lifecycle of a simulation (docs/lifecycle.md; 4D Neural
 * Cognition's cell_lifecycle): the sim's overlay of per-neuron lineage,
 * parameters and kernel constants of the populations with a lifecycle, and
 * the deaths scheduled in advance.
 *
 * Health and age are deterministic, so a neuron's death step is known at
 * its birth: n4d keeps the deaths in a heap ordered by (step, current id)
 * and pays nothing per step for them. The core ends each run's piece at
 * the next death step (n4d_sim_run), then n4d__life_apply kills the
 * neurons of that step in id order and, with reproduction, puts a child in
 * each slot: new id, generation + 1, fresh state, mutated parameters (new
 * kernel constants in `k`) and mutated weights of every synapse of the slot
 * (classes whose weights the sim owns: plastic.c).
 *
 * What the backends read: the per-neuron constants and alive flags through
 * the run's n4d__pop_rt (kn, alive), and n4d__life_drops (a spike of a
 * neuron that dies before the spike arrives is not delivered: the slot's
 * next occupant did not send it). Plastic rules read `born` (the synapses
 * of a slot were last set at its birth). */
#ifndef N4D_LIFECYCLE_H
#define N4D_LIFECYCLE_H

#include "sim_state.h"

/* Purposes of the lifecycle's draws (philox.h; keyed by slot, generation). */
enum { N4D_RNG_LIFE_PARAM = 8, N4D_RNG_LIFE_WEIGHT = 9, N4D_RNG_LIFE_VINIT = 10 };

typedef struct n4d__life_ev {
    int64_t step; /* death step */
    uint64_t id;  /* the occupant's id (order within a step) */
    uint32_t slot; /* internal index */
} n4d__life_ev;

typedef struct n4d__life {
    /* per internal index */
    uint32_t *k;        /* kernel constants, N4D__KWORDS words per neuron, word-major
                           (n4d__kn_get; lifecycle populations only) */
    double *params;     /* N4D__MAX_PARAMS per neuron (lifecycle populations only) */
    uint8_t *alive;
    int64_t *born;      /* step whose lifecycle made the occupant (-1: the first) */
    int64_t *die;       /* its death step (INT64_MAX: none) */
    double *h0, *a0;    /* health and age at birth */
    uint64_t *id;
    uint32_t *gen;
    int64_t *parent;
    /* incoming synapses of neurons whose weights mutate (CSR by target,
     * internal index): the row, segment and synapse index of each */
    uint64_t *in_ptr, *in_j, *in_g;
    uint32_t *in_src;
    uint64_t n_in;
    /* scheduled deaths: a binary heap */
    n4d__life_ev *heap;
    uint64_t n_heap, cap_heap;
    uint64_t next_id, deaths, births;
} n4d__life;

/* Creates sim->life when a population has a lifecycle (after the runs'
 * constants and the plastic state); sets the runs' kn/alive. Errors on
 * the sim (N4D_E_NOMEM; N4D_E_UNSUPPORTED for stdp/tsodyks synapses of a
 * reproducing population). */
n4d_status n4d__life_create(n4d_sim *sim);
void n4d__life_destroy(n4d_sim *sim);
/* The step whose lifecycle kills a neuron born at the lifecycle of step
 * `born` (-1: the first) with health h0 and age a0 (INT64_MAX: never). */
int64_t n4d__life_death_step(const n4d_lifecycle *L, int64_t born, double h0, double a0);
/* After a resume has set the lineage, parameters and death steps: the
 * kernel constants from the parameters and the heap of deaths (of the
 * living; the order of a step's deaths is by id, so the heap's layout does
 * not matter). Errors on the sim (N4D_E_NOMEM). */
n4d_status n4d__life_rebuild(n4d_sim *sim);
/* The next death step at or after sim->step, or INT64_MAX. */
int64_t n4d__life_next(const n4d_sim *sim);
/* The lifecycle of `step` (sim->step == step + 1): deaths and births
 * (N4D_OK: a child's death takes its parent's place in the heap). */
n4d_status n4d__life_apply(n4d_sim *sim, int64_t step);
/* The standard normal draw number `ctr` of (purpose, slot user id): Box-Muller
 * from one Philox block (the lifecycle's mutations; exposed for tests). */
double n4d__life_normal(uint64_t seed, uint32_t purpose, uint32_t slot, uint64_t ctr);

/* Whether a spike of internal neuron src at `step` through a segment of
 * delay `delay` is lost: its sender dies before it arrives. */
static inline bool n4d__life_drops(const n4d_sim *sim, uint32_t src, uint64_t step,
                                   uint32_t delay)
{
    return sim->life && sim->life->die[src] < (int64_t)(step + delay);
}

#endif
