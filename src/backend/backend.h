/* The backend vtable and the simulation state shared by all backends.
 * A backend advances the state of an n4d_sim and reports each step's spikes
 * (ids ascending) through n4d__sim_emit_*; everything else (recording,
 * history, checksum, state access) is common code in sim.c. */
#ifndef N4D_BACKEND_H
#define N4D_BACKEND_H

#include "internal.h"
#include "neuron.h"

typedef struct n4d__backend_ops {
    const char *name;
    /* Allocates backend state (sim->backend_state); may fail with a message
     * on the sim. */
    n4d_status (*init)(n4d_sim *sim);
    void (*fini)(n4d_sim *sim);
    /* Advances `steps` steps, emitting every step's spikes in order. */
    n4d_status (*run)(n4d_sim *sim, uint64_t steps);
    /* Device backends copy state to (to_host = 1) or from the host arrays.
     * NULL for host backends. */
    n4d_status (*sync)(n4d_sim *sim, int to_host);
} n4d__backend_ops;

extern const n4d__backend_ops n4d__backend_cpu_ref;
extern const n4d__backend_ops n4d__backend_cpu_omp;

struct n4d_sim {
    n4d__handle hdr;
    n4d_model *model;
    n4d_context *ctx;
    const n4d__backend_ops *ops;
    void *backend_state;
    int32_t threads;
    uint64_t seed;
    double dt;
    uint64_t step; /* next step to simulate */
    uint64_t n;    /* neurons */

    /* neuron state, structure of arrays */
    float *v, *x1, *x2, *iext;
    int32_t *ref;

    /* delay ring buffer: ring[(slot * 2 + ch) * n + i], ch 0 = excitatory */
    int64_t *ring;
    uint32_t ring_slots;

    /* per run (model->runs) constants, DC inputs and Poisson inputs */
    n4d__pop_rt *runs;
    size_t n_runs;
    n4d__input *dc;
    size_t n_dc;
    n4d__poisson_rt *poisson;
    size_t n_poisson;

    /* sense lookup: per sense, CSR site -> neuron ids over the area's w_lo slice */
    uint64_t **sense_ptr;
    uint32_t **sense_ids;

    /* output (user ids) */
    uint32_t *last_ids;
    uint64_t last_count;
    bool record;
    uint64_t *rec_steps;
    uint32_t *rec_ids;
    size_t rec_count, rec_cap;
    uint64_t *hist;
    uint32_t hist_steps;
    uint64_t hist_words; /* per step */
    uint64_t total_spikes;
    uint64_t checksum;

    /* Optional observer of every step's spikes (recorders in modules):
     * called at the end of each step with the ids (ascending); a non-OK
     * status stops the run and is returned by it. */
    n4d_status (*observer)(void *user_data, n4d_sim *sim, uint64_t step, const uint32_t *ids,
                           uint64_t count);
    void *observer_data;
    /* Storage module hooks (recorders): observer_fini, when set, is called
     * with observer_data when the sim is destroyed; sampler, when set, is
     * called by n4d_sim_run after each step that completes a multiple of
     * sample_every steps (runs are split there, so the state arrays hold
     * the state at the end of that step). */
    void (*observer_fini)(void *user_data, n4d_sim *sim);
    n4d_status (*sampler)(void *user_data, n4d_sim *sim);
    uint64_t sample_every;
};

/* Spike reporting, once per step in order: begin, any number of chunks of
 * internal indices (together ascending), end. End maps them to user ids,
 * records them and returns an error that stops the run: N4D_E_NOMEM when
 * the recording cannot grow, in which case the step is NOT reported (the
 * step counter stays) and the backend must emit it again, from its own
 * buffers, at the start of the next run; or an observer's error, in which
 * case the step is reported. */
void n4d__sim_emit_begin(n4d_sim *sim, uint64_t step);
void n4d__sim_emit_ids(n4d_sim *sim, const uint32_t *ids, uint64_t count);
n4d_status n4d__sim_emit_end(n4d_sim *sim);

/* Sum of the DC inputs of population `pop` active at `step`. */
float n4d__sim_dc(const n4d_sim *sim, int32_t pop, uint64_t step);

#endif
