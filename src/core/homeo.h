/* Homeostatic synaptic scaling of populations (n4d_model_set_homeostasis,
 * docs/plasticity.md "Homeostatic scaling"): the sim's per-neuron scales of
 * the excitatory input and spike counts of the current window. Both CPU
 * backends call the same three functions at the same points of a neuron's
 * update, so the results do not depend on the backend, the thread count or
 * the batch: a neuron's scale reads only its own spikes. */
#ifndef N4D_HOMEO_H
#define N4D_HOMEO_H

#include <math.h>

#include "sim_state.h"

typedef struct n4d__homeo_run {
    int32_t on;
    uint64_t window;     /* steps */
    double target_count; /* target rate x window */
    double eta, lo, hi;
} n4d__homeo_run;

typedef struct n4d__homeo {
    n4d__homeo_run *run; /* per run of the model */
    double *scale;       /* per neuron (internal index); 1 outside homeostatic runs */
    uint32_t *count;     /* spikes of the current window */
} n4d__homeo;

/* Creates sim->homeo when a population has homeostasis (N4D_E_NOMEM). */
n4d_status n4d__homeo_create(n4d_sim *sim);
void n4d__homeo_destroy(n4d_sim *sim);

/* Whether run r has homeostasis. */
static inline bool n4d__homeo_on(const n4d_sim *sim, size_t r)
{
    return sim->homeo && sim->homeo->run[r].on;
}

/* Neuron i's excitatory input of the step (fixed point, everything that
 * reached it) scaled by its factor. */
static inline int64_t n4d__homeo_scaled(const n4d_sim *sim, uint64_t i, int64_t in_e)
{
    return (int64_t)llrint((double)in_e * sim->homeo->scale[i]);
}

/* After the update of neurons [a, b) of run r at `step`, with the spikes
 * of the range (ascending): counts them and, at the end of a window, moves
 * every scale of the range toward the target and starts a new window. */
static inline void n4d__homeo_after(n4d_sim *sim, size_t r, uint64_t step, uint64_t a, uint64_t b,
                                    const uint32_t *spk, uint64_t ns)
{
    n4d__homeo *h = sim->homeo;
    const n4d__homeo_run *hr = &h->run[r];
    for (uint64_t k = 0; k < ns; k++)
        h->count[spk[k]]++;
    if ((step + 1) % hr->window != 0)
        return;
    for (uint64_t i = a; i < b; i++) {
        const double s =
            h->scale[i] * (1.0 + hr->eta * (hr->target_count - (double)h->count[i]) / hr->target_count);
        h->scale[i] = s < hr->lo ? hr->lo : (s > hr->hi ? hr->hi : s);
        h->count[i] = 0;
    }
}

#endif
