/* Spike and current inputs at run time (n4d_input_kind spikes,
 * step_current, ac, noise; docs/config.md "inputs"). The model keeps the
 * descriptions (times in ms, neuron indices within the target); a sim
 * turns them into steps and internal indices once, at creation. What an
 * input adds in a step depends only on the step (and, for noise, on the
 * counter generator keyed by (seed, input, neuron, interval)): there is no
 * state to carry, so a resumed checkpoint gives the same input, and both
 * CPU backends call n4d__xin_add for the same neuron ranges with the same
 * result whatever the thread count. */
#ifndef N4D_INPUTS_H
#define N4D_INPUTS_H

#include "sim_state.h"

typedef struct n4d__xin {
    int32_t kind; /* n4d_input_kind, N4D_INPUT_SPIKES and on */
    int32_t pop;
    uint64_t step_start, step_stop; /* [start, stop) in steps */
    /* spikes: events sorted by (step, internal index) */
    uint64_t n_ev;
    uint64_t *ev_step;
    uint32_t *ev_idx;
    int64_t weight_q; /* the weight in the synaptic fixed point */
    /* currents: the cells (internal indices, ascending); NULL: the population */
    uint32_t *sel;
    uint64_t n_sel;
    /* step_current: the steps where the amplitude changes (ascending) */
    uint64_t n_chg;
    uint64_t *chg_step;
    double *chg_val;
    /* ac */
    double amplitude, offset, omega_ms, phase_rad, start_ms;
    /* noise */
    double mean, std;
    uint64_t interval_steps;
    uint32_t purpose;
} n4d__xin;

/* Step of a spike at t ms: Brian2's SpikeGeneratorGroup bins,
 * floor(t / dt + 0.001) (a time a hair below a step's start still counts
 * as that step). */
static inline uint64_t n4d__spike_step(double t_ms, double dt)
{
    return (uint64_t)floor(t_ms / dt + 1e-3);
}

/* Checks the neuron indices of the inputs against the placed populations
 * (at the build): N4D_E_RANGE naming the input and the entry. */
n4d_status n4d__inputs_validate(n4d_model *m);
/* Creates sim->xin from the model's spike and current inputs (N4D_E_NOMEM). */
n4d_status n4d__xin_create(n4d_sim *sim);
void n4d__xin_destroy(n4d_sim *sim);
/* Whether population pop has a spike or current input (they keep it out
 * of compression, as DC and Poisson inputs do). */
bool n4d__xin_targets(const n4d_sim *sim, int32_t pop);

/* Adds the inputs of population `pop` at `step` to neurons [a, b)
 * (internal indices of one run of pop): spike events into the ring slot of
 * `step` (exact sums, ring.h: call it before the slot is taken), currents
 * into iext (in the model's order, so the float sums are the same for any
 * split of the range). Returns whether it wrote iext (the update must then
 * read it). */
bool n4d__xin_add(n4d_sim *sim, int32_t pop, uint64_t step, uint64_t a, uint64_t b, float *iext);

#endif
