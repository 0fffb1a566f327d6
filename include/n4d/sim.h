/** \file
 * n4d — simulations: a model bound to a backend, with its own state.
 *
 * One n4d_sim is used by one thread at a time; distinct sims are independent,
 * even over the same model. Same model + same seed give bitwise identical
 * spike trains on every backend and thread count. */
#ifndef N4D_SIM_H
#define N4D_SIM_H

#include "model.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A simulation: a built model bound to a backend, with its own state (opaque). */
typedef struct n4d_sim n4d_sim;

/** Options of n4d_sim_create (n4d_sim_options_init fills the defaults). */
typedef struct n4d_sim_options {
    uint32_t struct_size;     /**< sizeof(n4d_sim_options) */
    const char *backend;      /**< "auto" (default), "cpu-ref" (the scalar ground truth; no
                                   compression), "cpu-omp", "cuda", "cuda:N" */
    int32_t num_threads;      /**< cpu-omp threads; 0 = chosen by model size */
    uint64_t seed;            /**< run-time randomness (initial V, Poisson); 0 = the model's seed */
    double dt;                /**< ms; 0 = the model's dt (must match the model's if built) */
    uint32_t history_steps;   /**< window of n4d_sim_spiked_at in steps (default 100; 0 = off);
                                   costs history_steps * neurons / 8 bytes */
    int32_t record_spikes;    /**< keep every spike for n4d_sim_spikes (default 1) */
} n4d_sim_options;

/** Fills `opt` with the defaults above. */
N4D_API void n4d_sim_options_init(n4d_sim_options *opt);

/* ---- backends ---------------------------------------------------------- */

/** Capability flags of a backend (n4d_backend_caps). */
typedef enum n4d_backend_cap {
    N4D_BACKEND_DEVICE = 1 << 0,       /**< runs on a device (GPU); state copied on access */
    N4D_BACKEND_THREADS = 1 << 1,      /**< uses num_threads */
    N4D_BACKEND_COMPRESSION = 1 << 2,  /**< supports inactive-neuron compression */
    N4D_BACKEND_PARTITIONS = 1 << 3,   /**< runs the layout's partitions as work units */
    N4D_BACKEND_PLASTICITY = 1 << 4,   /**< runs plastic synapse models */
    N4D_BACKEND_DEVICE_INDEX = 1 << 5, /**< accepts "NAME:N" for device N */
    N4D_BACKEND_BUILD = 1 << 6,        /**< can generate synapses (n4d_model_set_build_backend) */
    N4D_BACKEND_REFERENCE = 1 << 7,    /**< the scalar ground truth the others are compared with */
    N4D_BACKEND_SPARSE_POISSON = 1 << 8 /**< samples sparse Poisson inputs (N4D_POISSON_SPARSE)
                                             whose blocks are longer than the longest delay
                                             too (every backend samples the others) */
} n4d_backend_cap;

/** Number of registered backends ("auto" is not one: it chooses among them). */
N4D_API uint32_t n4d_backend_count(void);
/** Name of backend `index` (static string), NULL past the end. */
N4D_API const char *n4d_backend_name(uint32_t index);
/** Capability flags (n4d_backend_cap) of a backend by name, 0 if unknown. */
N4D_API uint32_t n4d_backend_caps(const char *name);
/** Whether a backend ("NAME" or "NAME:N") can run here: N4D_OK, or
 * N4D_E_INVALID_ARG (unknown), N4D_E_NOT_BUILT, N4D_E_NO_DEVICE with the
 * reason written to `why` (cap bytes; may be NULL). Thread-safe. */
N4D_API n4d_status n4d_backend_probe(const char *name, char *why, size_t cap);

/** Creates a simulation of `model` (built first if it is not). The built
 * model is never written: any number of sims may be created from it, from
 * any threads (build it first with n4d_model_build when several threads
 * share it). Errors are recorded on the model (n4d_last_error(model)); for
 * a built model the text is kept per thread, so each thread reads the
 * detail of its own last call. The model must outlive the sim. An unavailable backend gives N4D_E_NOT_BUILT
 * or N4D_E_NO_DEVICE. */
N4D_API n4d_status n4d_sim_create(n4d_model *model, const n4d_sim_options *opt, n4d_sim **out);

/** Destroys a simulation. NULL is a no-op. */
N4D_API void n4d_sim_destroy(n4d_sim *sim);

/** Name of the backend actually running ("cpu-ref", "cpu-omp", "cuda").
 * Static string. */
N4D_API const char *n4d_sim_backend(const n4d_sim *sim);
/** Threads the backend uses. */
N4D_API int32_t n4d_sim_num_threads(const n4d_sim *sim);

/** Advances one step. */
N4D_API n4d_status n4d_sim_step(n4d_sim *sim);
/** Advances `steps` steps (batched by the minimum delay internally). */
N4D_API n4d_status n4d_sim_run(n4d_sim *sim, uint64_t steps);

/** Number of steps simulated so far (the next step's index). */
N4D_API uint64_t n4d_sim_current_step(const n4d_sim *sim);
/** The time step in ms. */
N4D_API double n4d_sim_dt(const n4d_sim *sim);

/** Ids (ascending) of the neurons that spiked in the last step. The array
 * is owned by the sim and valid until the next step, run or destroy. */
N4D_API n4d_status n4d_sim_last_spikes(const n4d_sim *sim, const uint32_t **ids, uint64_t *count);

/** All spikes recorded since creation or the last n4d_sim_clear_spikes, in
 * canonical order (step ascending, then neuron id). Arrays owned by the sim,
 * valid until the next step, run, clear or destroy. N4D_E_STATE if recording
 * is off. */
N4D_API n4d_status n4d_sim_spikes(const n4d_sim *sim, const uint64_t **steps, const uint32_t **ids,
                                  uint64_t *count);
/** Forgets the recorded spikes (n4d_sim_spikes); totals and checksum stay. */
N4D_API n4d_status n4d_sim_clear_spikes(n4d_sim *sim);

/** 1 if `neuron` spiked at `step`, 0 if not; O(1). Negative status
 * (N4D_E_RANGE) if the step is outside the history window or not simulated
 * yet, or the neuron does not exist. */
N4D_API int n4d_sim_spiked_at(const n4d_sim *sim, uint64_t neuron, uint64_t step);

/** Totals since creation: spikes, and a 64-bit FNV-1a hash of the spike
 * train over (step, neuron id) in canonical order (docs/api.md). */
N4D_API uint64_t n4d_sim_total_spikes(const n4d_sim *sim);
/** The homeostatic scale of every neuron (n4d_model_set_homeostasis) by
 * id: `count` must be the number of neurons; 1 for neurons of populations
 * without homeostasis. */
N4D_API n4d_status n4d_sim_get_homeostatic_scale(n4d_sim *sim, float *out, uint64_t count);
/** 64-bit FNV-1a hash of the spike train since creation over (step, neuron
 * id) in canonical order: equal on every backend and thread count for the
 * same model and seed (docs/api.md). */
N4D_API uint64_t n4d_sim_checksum(const n4d_sim *sim);

/** Per-step statistics of the last step. */
typedef struct n4d_step_stats {
    uint32_t struct_size; /**< sizeof(n4d_step_stats) */
    uint64_t step;        /**< index of the last simulated step */
    uint64_t spikes;      /**< spikes in that step */
    uint64_t total_spikes; /**< spikes since creation */
} n4d_step_stats;

/** Fills `out` (set out->struct_size first). */
N4D_API n4d_status n4d_sim_step_stats(const n4d_sim *sim, n4d_step_stats *out);

/** State variables by name: those of the registered neuron models
 * (n4d_neuron_model_state_info; "v" for all, "ge"/"gi" for lif_exp's
 * synaptic currents and lif_cond_exp's conductances, "u" for izhikevich,
 * ...), "i_ext" (external input of the next step) and "refractory" (steps
 * left; models without a refractory counter read NaN). Copies
 * n4d_model_num_neurons() floats into `out`; neurons whose model lacks the
 * variable read NaN. An unknown name is N4D_E_INVALID_ARG, the message
 * listing the names. */
N4D_API n4d_status n4d_sim_get_state(n4d_sim *sim, const char *var, float *out, uint64_t count);
/** Sets a state variable for all neurons (values for neurons whose model
 * lacks it are ignored). */
N4D_API n4d_status n4d_sim_set_state(n4d_sim *sim, const char *var, const float *values,
                                     uint64_t count);

/** Adds `value` to the external input of neuron `id` for the next step
 * (as 4D Neural Cognition's external_input). */
N4D_API n4d_status n4d_sim_add_input(n4d_sim *sim, uint64_t id, float value);

/** Feeds a rows x cols matrix (row-major, first index along x) into a sense's
 * area at z layer `z_layer` for the next step. Matrices of another shape map
 * the overlapping part (a warning is logged). */
N4D_API n4d_status n4d_sim_feed_sense(n4d_sim *sim, const char *sense, const float *matrix,
                                      uint32_t rows, uint32_t cols, uint32_t z_layer);

/* ---- plastic synapses (docs/plasticity.md) --------------------------- */

/** Sets the level of modulator `name` (declared in the model) for the next
 * step on (it then decays toward its baseline). N4D_E_CONFIG for an unknown
 * name, N4D_E_RANGE for a level outside [0, 1] or NaN, N4D_E_STATE for a
 * modulator driven by a population's spikes. */
N4D_API n4d_status n4d_sim_set_modulator(n4d_sim *sim, const char *name, double level);
/** The level of modulator `name` for the next step. */
N4D_API n4d_status n4d_sim_get_modulator(const n4d_sim *sim, const char *name, double *level);
/** 4D Neural Cognition's helpers (its formulas; each sets one modulator as
 * n4d_sim_set_modulator, with its errors; arguments must be finite):
 * reward: dopamine = clip(baseline + reward - expected, 0, 1);
 * punishment: serotonin = clip(baseline - (punishment + stress) / 2, 0, 1);
 * novelty: norepinephrine = clip(baseline + (uncertainty + novelty) / 2, 0, 1). */
N4D_API n4d_status n4d_sim_reward(n4d_sim *sim, double reward, double expected);
/** Sets serotonin from punishment and stress (see n4d_sim_reward). */
N4D_API n4d_status n4d_sim_punishment(n4d_sim *sim, double punishment, double stress);
/** Sets norepinephrine from uncertainty and novelty (see n4d_sim_reward). */
N4D_API n4d_status n4d_sim_novelty(n4d_sim *sim, double uncertainty, double novelty);

/** The current weights of the synapses of `projection` (a projection's
 * name: every synapse between its source and target populations, or, when
 * other projections join the same two populations, those of its sign:
 * N4D_E_CONFIG if a projection there has the same or an automatic type; the name
 * of a plastic synapse class, such as "4dnc" for an imported 4D Neural
 * Cognition model; or NULL: every synapse of the model). Plastic weights
 * are the sim's own (hebb_4dnc with its decay up to the current step;
 * stdp without the facilitation of postsynaptic spikes since the last
 * presynaptic one, as NEST reports them); static and tsodyks weights are
 * the model's. Order: by source id, then as n4d_model_get_synapses within a
 * source. Up to `cap` entries are written to any non-NULL output; *count
 * (required) receives the number of synapses selected. Reads the sim: not
 * concurrently with calls that run or change it (as every sim call).
 * N4D_E_CONFIG for an unknown name, N4D_E_NOMEM. */
N4D_API n4d_status n4d_sim_get_weights(n4d_sim *sim, const char *projection, uint64_t cap,
                                       uint32_t *sources, uint32_t *targets, float *weights,
                                       uint64_t *count);

/** Sets the weights of the static synapses of `projection` (selected and
 * ordered as n4d_sim_get_weights selects them; NULL: every synapse) for
 * this sim from the next step on: `count` must be the number selected.
 * The sim then keeps its own copy of the model's weights (4 bytes per
 * synapse; the model is not changed, other sims keep theirs), which
 * n4d_sim_get_weights, n4d_sim_checkpoint (and so n4d_sim_resume) and
 * n4d_sim_save_model use. Weights are rounded to the model's fixed point.
 * Nothing is changed on an error: N4D_E_INVALID_ARG for another count,
 * N4D_E_RANGE naming the entry for a weight that is not finite, does not
 * fit the fixed point or would change the synapse's sign (its channel is
 * fixed at the build), N4D_E_UNSUPPORTED for a synapse of a plastic
 * model (its rule owns the weight) and on device backends, N4D_E_CONFIG
 * for an unknown or ambiguous name. */
N4D_API n4d_status n4d_sim_set_weights(n4d_sim *sim, const char *projection,
                                       const float *weights, uint64_t count);

/* ---- cell lifecycle (docs/lifecycle.md) ------------------------------ */

/** The lineage of neurons [first, first + count) (slots: the user ids of the
 * model, which a child keeps): into each non-NULL array, the occupant's
 * current id (a running counter: the slot's id at first, later the
 * model's next free id at each birth), generation (0 at first), parent's id
 * (-1 when none), alive flag (0 once removed), age in steps and health, as
 * of the end of the last simulated step. Neurons of populations without a
 * lifecycle keep id = slot, generation 0, parent -1, alive 1, age 0,
 * health 1 (an imported model's values when it has them). N4D_E_RANGE when
 * the range passes the last neuron. */
N4D_API n4d_status n4d_sim_get_lineage(n4d_sim *sim, uint64_t first, uint64_t count,
                                       uint64_t *id, uint32_t *generation, int64_t *parent,
                                       uint8_t *alive, uint64_t *age, double *health);

/** The deaths and births since the sim was created (either may be NULL). */
N4D_API n4d_status n4d_sim_lifecycle_counts(const n4d_sim *sim, uint64_t *deaths,
                                            uint64_t *births);

#ifdef __cplusplus
}
#endif
#endif
