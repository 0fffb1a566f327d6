/** \file
 * n4d — the network model: a 4D lattice with areas, populations of neurons
 * placed on lattice sites, projections (connection rules) and inputs.
 *
 * A model is described (programmatically or from JSON), then built once:
 * building places the neurons and generates the synapses (CSR by source,
 * grouped by delay). After the build the model is read-only and may be shared
 * by any number of simulations, from any threads; it must outlive them. */
#ifndef N4D_MODEL_H
#define N4D_MODEL_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A network model: described, then built once, then read-only and
 * shareable by any number of sims (opaque). */
typedef struct n4d_model n4d_model;

/** Ids of the first built-in neuron models (stored in files: never
 * renumbered). Models added later (adex, id 4, and on) have no constant
 * here: every model, these included, is known by its name
 * (n4d_population_desc.model_name, "model" in configs); the registry below
 * lists them with their parameters. See docs/models.md. */
typedef enum n4d_neuron_model {
    N4D_NEURON_LIF = 0,        /**< "lif": 4D Neural Cognition LIF (Euler) */
    N4D_NEURON_LIF_EXP = 1,    /**< "lif_exp": LIF, exponential currents, exact integration (CUBA) */
    N4D_NEURON_IZHIKEVICH = 2, /**< "izhikevich": Izhikevich 2003 */
    N4D_NEURON_LIF_COND_EXP = 3 /**< "lif_cond_exp": LIF, exponential conductances (COBA) */
} n4d_neuron_model;

/** A model parameter by name (n4d_population_desc.params). */
typedef struct n4d_param_value {
    const char *name; /**< a parameter of the population's model (or its alias) */
    double value;     /**< its value, in the parameter's unit */
} n4d_param_value;

/* ---- the model registry (static tables; thread-safe) ------------------ */

/** A registered neuron model. */
typedef struct n4d_neuron_model_info {
    uint32_t struct_size;    /**< sizeof(n4d_neuron_model_info) */
    int32_t id;              /**< stable id (n4d_neuron_model for the built-in ones) */
    const char *name;        /**< static string */
    const char *description; /**< one line, static */
    int32_t num_params;      /**< parameters (n4d_neuron_model_param_info) */
    int32_t num_states;      /**< state variables, "v" first */
    int32_t num_presets;     /**< named parameter sets (n4d_neuron_model_preset) */
    int32_t has_refractory;  /**< 1 when the model has the "refractory" counter */
} n4d_neuron_model_info;

/** A parameter of a neuron model. Valid values are finite and within
 * [min, max] (bounds excluded where min_exclusive / max_exclusive). */
typedef struct n4d_param_info {
    uint32_t struct_size;    /**< sizeof(n4d_param_info) */
    const char *name;        /**< static string */
    const char *alias;       /**< another accepted name, or NULL */
    const char *unit;        /**< e.g. "mV", "ms"; "" when dimensionless */
    const char *description; /**< one line, static */
    double default_value;    /**< the value when none is given */
    double min;              /**< lower bound (-INFINITY: unbounded) */
    double max;              /**< upper bound (INFINITY: unbounded) */
    int32_t min_exclusive;   /**< 1: min itself is not valid */
    int32_t max_exclusive;   /**< 1: max itself is not valid */
} n4d_param_info;

/** A state variable of a neuron model (n4d_sim_get_state names). */
typedef struct n4d_state_info {
    uint32_t struct_size;    /**< sizeof(n4d_state_info) */
    const char *name;        /**< static string, "v" for the membrane potential */
    const char *unit;        /**< e.g. "mV" */
    const char *initial;     /**< the initial value, in words */
    const char *description; /**< one line, static */
} n4d_state_info;

/** Number of registered neuron models; indices 0 .. count-1. */
N4D_API int32_t n4d_neuron_model_count(void);
/** Index of the neuron model called `name`, or N4D_E_RANGE. */
N4D_API int32_t n4d_neuron_model_find(const char *name);
/** Model `index` (set out->struct_size first; strings are static). */
N4D_API n4d_status n4d_neuron_model_info_get(int32_t index, n4d_neuron_model_info *out);
/** Parameter `param` of model `index`, in the model's order. */
N4D_API n4d_status n4d_neuron_model_param_info(int32_t index, int32_t param, n4d_param_info *out);
/** State variable `state` of model `index` (0 is "v"). */
N4D_API n4d_status n4d_neuron_model_state_info(int32_t index, int32_t state, n4d_state_info *out);
/** Name of preset `preset` of model `index` (static), or NULL. */
N4D_API const char *n4d_neuron_model_preset(int32_t index, int32_t preset);

/** A registered synapse model: "static" (8 bytes per synapse) and the
 * plastic ones, "hebb_4dnc", "stdp", "tsodyks" (docs/plasticity.md). */
typedef struct n4d_synapse_model_info {
    uint32_t struct_size;    /**< sizeof(n4d_synapse_model_info) */
    int32_t id;              /**< stable id */
    const char *name;        /**< static string */
    const char *description; /**< one line, static */
    int32_t num_vars;        /**< per-synapse variables beyond target and weight */
    int32_t num_params;      /**< parameters (n4d_synapse_model_param_info) */
    uint32_t bytes_per_synapse; /**< memory per synapse (8 for static synapses) */
} n4d_synapse_model_info;

/** Number of registered synapse models. */
N4D_API int32_t n4d_synapse_model_count(void);
/** Index of the synapse model called `name`, or N4D_E_RANGE. */
N4D_API int32_t n4d_synapse_model_find(const char *name);
/** Synapse model `index` (set out->struct_size first). */
N4D_API n4d_status n4d_synapse_model_info_get(int32_t index, n4d_synapse_model_info *out);
/** Parameter `param` (0 .. num_params-1) of synapse model `index`. */
N4D_API n4d_status n4d_synapse_model_param_info(int32_t index, int32_t param, n4d_param_info *out);

/** A random or constant value: constant, uniform [lo, hi), or normal(mean,
 * std) clipped to [lo, hi] (use -INFINITY / INFINITY for no bound). */
typedef enum n4d_dist_kind {
    N4D_DIST_CONSTANT = 0, /**< always `value` */
    N4D_DIST_UNIFORM = 1,  /**< uniform in [lo, hi) */
    N4D_DIST_NORMAL = 2    /**< normal(value, std), clipped to [lo, hi] */
} n4d_dist_kind;

/** A constant or a distribution (n4d_dist_kind) of values. */
typedef struct n4d_dist {
    int32_t kind;   /**< n4d_dist_kind */
    double value;   /**< constant value, or the normal's mean */
    double std;     /**< normal standard deviation */
    double lo;      /**< uniform lower bound, or normal lower clip bound */
    double hi;      /**< uniform upper bound, or normal upper clip bound */
} n4d_dist;

/** An n4d_dist of the constant `value`. */
N4D_API n4d_dist n4d_dist_constant(double value);
/** An n4d_dist uniform in [lo, hi). */
N4D_API n4d_dist n4d_dist_uniform(double lo, double hi);
/** An n4d_dist normal(mean, std) clipped to [lo, hi]. */
N4D_API n4d_dist n4d_dist_normal(double mean, double std, double lo, double hi);

/** How a population places neurons on the sites of its area. Sites are
 * visited in w, z, y, x order (x fastest); neuron ids follow that order. */
typedef enum n4d_placement {
    N4D_PLACE_ALL = 0,     /**< one neuron on every site */
    N4D_PLACE_DENSITY = 1, /**< a neuron where a uniform draw < density */
    N4D_PLACE_COUNT = 2    /**< exactly `count` distinct sites, uniformly */
} n4d_placement;

/** A population to add (n4d_model_add_population; n4d_population_desc_init
 * fills the defaults). */
typedef struct n4d_population_desc {
    uint32_t struct_size;    /**< sizeof(n4d_population_desc) */
    const char *name;        /**< unique name (copied) */
    const char *area;        /**< name of an existing area (copied) */
    int32_t model;           /**< a model id (n4d_neuron_model); used when model_name is NULL */
    int32_t placement;       /**< n4d_placement */
    double density;          /**< for N4D_PLACE_DENSITY, in [0, 1] */
    uint64_t count;          /**< for N4D_PLACE_COUNT */
    n4d_dist v_init;         /**< initial membrane potential; n4d_population_desc_init sets
                                  kind = -1, meaning the model's resting value (lif models:
                                  v_rest; izhikevich: c; see n4d_state_info of "v") */
    const char *model_name;  /**< the neuron model by name (n4d_neuron_model_find); NULL: `model` */
    const char *preset;      /**< a named parameter set of the model applied first, or NULL */
    const n4d_param_value *params; /**< n_params parameters over the model's defaults (and the
                                        preset), read during n4d_model_add_population */
    uint32_t n_params;       /**< entries of `params` */
} n4d_population_desc;

/** Defaults: lif, placement all, v_init = the model's resting value, the
 * model's default parameters. */
N4D_API void n4d_population_desc_init(n4d_population_desc *d);

/** Connection rules of projections (n4d_projection_desc.rule). */
typedef enum n4d_rule {
    N4D_RULE_FIXED_PROBABILITY = 0, /**< each pair independently with p */
    N4D_RULE_FIXED_INDEGREE = 1,    /**< each target gets `n` sources */
    N4D_RULE_FIXED_TOTAL_NUMBER = 2,/**< `n` pairs drawn uniformly */
    N4D_RULE_ONE_TO_ONE = 3,        /**< i -> i (equal sizes) */
    N4D_RULE_ALL_TO_ALL = 4,        /**< every pair */
    N4D_RULE_DISTANCE = 5,          /**< p = p * kernel(4D distance), within cutoff */
    N4D_RULE_EXPLICIT = 6           /**< the given list of connections (n4d_projection_desc.pre ...) */
} n4d_rule;

/** Distance kernels of N4D_RULE_DISTANCE. */
typedef enum n4d_kernel {
    N4D_KERNEL_GAUSSIAN = 0,    /**< exp(-d^2 / (2 sigma^2)) */
    N4D_KERNEL_EXPONENTIAL = 1  /**< exp(-d / sigma) */
} n4d_kernel;

/** Sign of a projection's weights. */
typedef enum n4d_syn_type {
    N4D_SYN_AUTO = 0,        /**< the sign of each drawn weight decides */
    N4D_SYN_EXCITATORY = 1,  /**< weights are |w| */
    N4D_SYN_INHIBITORY = 2   /**< weights are -|w| */
} n4d_syn_type;

/** A projection to add (n4d_model_add_projection; n4d_projection_desc_init
 * fills the defaults). */
typedef struct n4d_projection_desc {
    uint32_t struct_size;      /**< sizeof(n4d_projection_desc) */
    const char *name;          /**< optional (copied); default "SOURCE->TARGET" */
    const char *source;        /**< population name */
    const char *target;        /**< population name */
    int32_t rule;              /**< n4d_rule */
    double p;                  /**< probability (fixed_probability, distance: peak p) */
    uint64_t n;                /**< in-degree (fixed_indegree) or total (fixed_total_number) */
    int32_t kernel;            /**< n4d_kernel for N4D_RULE_DISTANCE */
    double sigma;              /**< kernel width in lattice units */
    double cutoff;             /**< no connection beyond this distance (lattice units) */
    n4d_dist weight;           /**< in the unit of the target model's input (docs/models.md) */
    n4d_dist delay;            /**< ms; rounded to steps, at least one step */
    int32_t syn_type;          /**< n4d_syn_type */
    int32_t allow_autapses;    /**< default 1 */
    int32_t allow_multapses;   /**< default 1 (fixed_indegree, fixed_total_number) */
    const char *synapse_model; /**< a registered synapse model by name; NULL: "static" */
    /** The synapse model's parameters by name over its defaults
     * (n4d_synapse_model_param_info); read during n4d_model_add_projection
     * and copied (the caller keeps ownership). Every projection between one
     * pair of populations must use the same synapse model and parameters
     * (else n4d_model_build fails with N4D_E_CONFIG). */
    const n4d_param_value *synapse_params;
    uint32_t n_synapse_params; /**< entries of `synapse_params` */
    /* since 0.3: */
    /** N4D_RULE_EXPLICIT: connection k joins neuron pre[k] of the source to
     * neuron post[k] of the target (indices within the populations; checked
     * against their sizes at the build), with weight weights[k] (unit of the
     * target's input; its sign, or `syn_type`, picks the channel) and delay
     * delays[k] ms (rounded to steps, at least one step). weights NULL: the
     * constant `weight`; delays NULL: the constant `delay`. Copied during
     * n4d_model_add_projection; a NaN, infinite or too large weight, or a
     * delay that is NaN or rounds to zero steps, is N4D_E_RANGE naming k. */
    const uint32_t *pre;
    const uint32_t *post;          /**< see `pre` */
    const double *weights;         /**< see `pre` */
    const double *delays;          /**< see `pre` */
    uint64_t n_connections;        /**< entries of pre, post (and weights, delays) */
} n4d_projection_desc;

/** Defaults: fixed_probability p = 0, weight 1, delay = one step (0 = dt),
 * auto sign, autapses and multapses allowed. */
N4D_API void n4d_projection_desc_init(n4d_projection_desc *d);

/** Kinds of inputs (n4d_input_desc.kind). */
typedef enum n4d_input_kind {
    N4D_INPUT_DC = 0,      /**< constant current added every step in [start, stop) */
    N4D_INPUT_POISSON = 1, /**< n_sources independent Poisson trains of `rate` Hz, each event adds `weight` */
    /** given spike times: event k (times[k] ms, neuron indices[k] of the
     * target) adds `weight` to that neuron's synaptic input in step
     * floor(times[k] / dt + 0.001) (Brian2's SpikeGeneratorGroup rounding);
     * a parrot target spikes in that step (NEST's spike_generator + parrot) */
    N4D_INPUT_SPIKES = 2,
    /** a piecewise constant current: values[k] from the step nearest to
     * times[k] (ascending) on, 0 before times[0] (PyNN's StepCurrentSource) */
    N4D_INPUT_STEP_CURRENT = 3,
    /** offset + amplitude sin(2 pi frequency (t - start) + phase) in
     * [start, stop), t the step's time (PyNN's ACSource) */
    N4D_INPUT_AC = 4,
    /** amplitude + std N(0, 1), drawn anew every `interval` ms for each
     * neuron in [start, stop) from the counter generator keyed by (seed,
     * input, neuron, interval): the same currents for any thread count
     * (PyNN's NoisyCurrentSource) */
    N4D_INPUT_NOISE = 5
} n4d_input_kind;

/** How the events of a Poisson input are drawn. Both give independent
 * Poisson processes of the same rate (different streams of numbers). */
typedef enum n4d_poisson_sampling {
    N4D_POISSON_PER_STEP = 0, /**< one draw per neuron and step (the default) */
    N4D_POISSON_SPARSE = 1    /**< one draw per neuron and block of steps, then one per
                                   16 events for their steps: the cost follows the
                                   events, not the steps (docs/config.md; blocks longer
                                   than the longest delay: CPU backends only) */
} n4d_poisson_sampling;

/** An input to add (n4d_model_add_input; n4d_input_desc_init fills the
 * defaults). */
typedef struct n4d_input_desc {
    uint32_t struct_size;  /**< sizeof(n4d_input_desc) */
    int32_t kind;          /**< n4d_input_kind */
    const char *target;    /**< population name */
    double amplitude;      /**< DC amplitude (same unit as i_e) */
    double rate;           /**< Poisson rate per source (Hz) */
    double weight;         /**< Poisson event weight (like a synapse weight) */
    uint32_t n_sources;    /**< Poisson sources per neuron (default 1) */
    double start;          /**< start of the active window, ms (default 0) */
    double stop;           /**< end of the active window, ms, excluded (default +inf) */
    int32_t sampling;      /**< Poisson: n4d_poisson_sampling (default per step) */
    /* since 0.3: */
    /** step_current, ac, noise: the n_neurons cells of the target that get
     * the current (indices 0 .. count-1 within the population, distinct,
     * any order); NULL: every cell. dc, Poisson and spike inputs take
     * NULL only. Copied. */
    const uint32_t *neurons;
    uint64_t n_neurons;    /**< entries of `neurons` */
    /** spikes: the n_times spike times (ms, >= 0, any order; two in one
     * step of one neuron add up); step_current: the n_times times (ms,
     * ascending) at which the amplitude changes. Copied. */
    const double *times;
    /** spikes: the target neuron of each time (index within the population) */
    const uint32_t *indices;
    /** step_current: the amplitude from times[k] on (same unit as i_e).
     * (spikes: `weight` must not be 0, its default) */
    const double *values;
    uint64_t n_times;      /**< entries of `times` (and `indices` or `values`) */
    double offset;         /**< ac: constant part (same unit as i_e) */
    double frequency;      /**< ac: Hz, >= 0 */
    double phase;          /**< ac: degrees */
    double std;            /**< noise: standard deviation (same unit as i_e), >= 0; the mean is `amplitude` */
    double interval;       /**< noise: ms between draws, rounded to whole steps (0: every step) */
} n4d_input_desc;

/** Defaults: DC, one Poisson source, active from 0 on, per-step sampling,
 * every neuron of the target, no times, zero offset, frequency, phase, std
 * and interval. */
N4D_API void n4d_input_desc_init(n4d_input_desc *d);

/* ---- creation and description -------------------------------------- */

/** Creates an empty model (lattice 1x1x1x1, dt 0.1 ms, seed 1). */
N4D_API n4d_status n4d_model_create(n4d_context *ctx, n4d_model **out);

/** Loads a model description from a JSON file (docs/config.md). Errors name
 * the file, line:column and key path (n4d_last_error(ctx)). Unimplemented
 * sections of a 4D Neural Cognition config are named in one warning (log). */
N4D_API n4d_status n4d_model_from_json_file(n4d_context *ctx, const char *path, n4d_model **out);

/** As n4d_model_from_json_file from a string of `len` bytes; `source_name`
 * (may be NULL: "<string>") names it in messages. */
N4D_API n4d_status n4d_model_from_json_string(n4d_context *ctx, const char *json, size_t len,
                                              const char *source_name, n4d_model **out);

/** Destroys a model. NULL is a no-op. No simulation of it may remain. */
N4D_API void n4d_model_destroy(n4d_model *model);

/** Setters: valid only before the build (else N4D_E_STATE). */
N4D_API n4d_status n4d_model_set_lattice(n4d_model *m, const uint32_t shape[4]);
/** Sets the time step in ms (before the build). */
N4D_API n4d_status n4d_model_set_dt(n4d_model *m, double dt_ms);
/** Sets the seed of the model's random draws (before the build). */
N4D_API n4d_status n4d_model_set_seed(n4d_model *m, uint64_t seed);
/** Threads used by n4d_model_build (0 = all available). */
N4D_API n4d_status n4d_model_set_build_threads(n4d_model *m, int32_t threads);
/** Where n4d_model_build generates the synapses: "cpu" (the default),
 * "cuda" or "cuda:N" (that GPU; the build fails with N4D_E_NOT_BUILT or
 * N4D_E_NO_DEVICE naming the reason when it cannot be used, N4D_E_NOMEM when
 * the device memory is short, N4D_E_LIMIT from 2^32 synapses on), or "auto"
 * (the first GPU for models of at least 10,000 neurons when one is usable
 * and has passed n4d's self-test, else the CPU; a failed device build falls
 * back to the CPU with a warning). Every choice gives the same model, bit
 * for bit. */
N4D_API n4d_status n4d_model_set_build_backend(n4d_model *m, const char *name);

/** Internal order of the neurons (users always keep their ids). */
typedef enum n4d_order {
    N4D_ORDER_LATTICE = 0, /**< population by population, lattice order (the ids' order) */
    N4D_ORDER_ZORDER = 1   /**< within each partition and population, along a 4D Morton curve */
} n4d_order;

/** Storage layout, chosen before the build: the neurons may be stored
 * partition by partition (4D recursive coordinate bisection into
 * `partitions` boxes, the work units of cpu-omp) and/or along a Morton curve.
 * Spike output, checksums and every id-based call are unchanged by it. */
typedef struct n4d_layout_options {
    uint32_t struct_size;      /**< sizeof(n4d_layout_options) */
    int32_t order;             /**< n4d_order (default N4D_ORDER_LATTICE) */
    uint32_t partitions;       /**< 0 or 1: none; n: n boxes (n <= neurons) */
    int32_t balance_synapses;  /**< 1: balance boxes by neurons + synapses, 0: by neurons */
} n4d_layout_options;

/** Fills `opt` with the defaults (lattice order, no partitions). */
N4D_API void n4d_layout_options_init(n4d_layout_options *opt);
/** Sets the layout used by the build (before the build). */
N4D_API n4d_status n4d_model_set_layout(n4d_model *m, const n4d_layout_options *opt);

/** Adds an area: an inclusive box lo..hi in lattice coordinates. */
N4D_API n4d_status n4d_model_add_area(n4d_model *m, const char *name, const int32_t lo[4],
                                      const int32_t hi[4]);
/** Adds a population; *index (may be NULL) receives its index. An unknown
 * model, preset or parameter, or a value out of its range, is an error
 * naming the population, the parameter and the model. */
N4D_API n4d_status n4d_model_add_population(n4d_model *m, const n4d_population_desc *d,
                                            int32_t *index);
/** Sets parameter `param` of population `pop` (names) before the build
 * (else N4D_E_STATE). Unknown names (N4D_E_CONFIG) and values out of the
 * parameter's range (N4D_E_RANGE) are errors naming the population, the
 * parameter and the model. The default initial v follows a change of the
 * model's resting value unless v_init was given. */
N4D_API n4d_status n4d_model_set_population_param(n4d_model *m, const char *pop,
                                                  const char *param, double value);
/** The cell lifecycle of a population (docs/lifecycle.md; 4D Neural
 * Cognition's `cell_lifecycle`). With enable_death, after each step every
 * neuron of the population ages by one step and loses
 * health_decay_per_step of its health (floor 0); it dies when its health is
 * below 0.1 or its age above max_age. Without enable_reproduction it is
 * removed with its synapses; with it a child takes its slot (a new id,
 * generation + 1, health 1, age 0, the model's initial state, each
 * parameter times 1 + N(0, mutation_std_params), each synapse weight plus
 * N(0, mutation_std_weights)). */
typedef struct n4d_lifecycle {
    uint32_t struct_size;          /**< sizeof(n4d_lifecycle) */
    int32_t enable_death;          /**< non-zero: the lifecycle runs (else nothing changes) */
    int32_t enable_reproduction;   /**< non-zero: a dead neuron is replaced by a child */
    double max_age;                /**< steps, >= 0 (INFINITY: no age limit) */
    double health_decay_per_step;  /**< >= 0 */
    double mutation_std_params;    /**< >= 0 */
    double mutation_std_weights;   /**< >= 0 */
} n4d_lifecycle;

/** 4D Neural Cognition's defaults: death and reproduction off, max_age
 * 100000, decay 0.0001, mutation 0.05 (parameters) and 0.02 (weights). */
N4D_API void n4d_lifecycle_init(n4d_lifecycle *l);
/** Sets the cell lifecycle of population `pop` before the build (else
 * N4D_E_STATE); NULL turns it off. N4D_E_RANGE for a negative or NaN
 * value (named), N4D_E_CONFIG for an unknown population. */
N4D_API n4d_status n4d_model_set_population_lifecycle(n4d_model *m, const char *pop,
                                                      const n4d_lifecycle *l);
/** Reads the cell lifecycle of population `pop` (any time). */
N4D_API n4d_status n4d_model_get_population_lifecycle(const n4d_model *m, const char *pop,
                                                      n4d_lifecycle *l);
/** Reads parameter `param` of population `pop` into *value (any time). */
N4D_API n4d_status n4d_model_get_population_param(const n4d_model *m, const char *pop,
                                                  const char *param, double *value);

/** Homeostatic synaptic scaling of a population (docs/plasticity.md,
 * "Homeostatic scaling"). Each neuron's excitatory synaptic input (its
 * excitatory synapses and excitatory Poisson inputs) is multiplied by its
 * own scale s, 1 at the start. At the end of every window of `window` ms,
 * with r the neuron's spike count in the window divided by the window:
 *   s <- clamp(s * (1 + eta * (target_rate - r) / target_rate), scale_min, scale_max)
 * so a neuron firing below the target scales its input up, one above it
 * down: the rate is measured from real spikes, not from the membrane. */
typedef struct n4d_homeostasis {
    uint32_t struct_size; /**< sizeof(n4d_homeostasis) */
    double target_rate; /**< Hz, > 0 (required) */
    double window;      /**< ms, rounded to steps, at least one step (default 1000) */
    double eta;         /**< relative change per window at rate 0, in (0, 1] (default 0.1) */
    double scale_min;   /**< lower bound of s, >= 0 (default 0) */
    double scale_max;   /**< upper bound of s, >= max(scale_min, 1) (default 10) */
} n4d_homeostasis;

/** Defaults as above; target_rate 0 (to be set). */
N4D_API void n4d_homeostasis_init(n4d_homeostasis *h);
/** Gives population `pop` homeostatic scaling (before the build; h NULL
 * turns it off). Values out of range are N4D_E_RANGE naming the key. Sims
 * of such a model need a backend with N4D_BACKEND_PLASTICITY. */
N4D_API n4d_status n4d_model_set_homeostasis(n4d_model *m, const char *pop,
                                             const n4d_homeostasis *h);
/** Reads population `pop`'s homeostasis into *h; *enabled 0 when it has
 * none (h then holds the defaults). */
N4D_API n4d_status n4d_model_get_homeostasis(const n4d_model *m, const char *pop,
                                             n4d_homeostasis *h, int *enabled);

/** Adds a projection; *index (may be NULL) receives its index. Errors name
 * the projection and the field. */
N4D_API n4d_status n4d_model_add_projection(n4d_model *m, const n4d_projection_desc *d,
                                            int32_t *index);
/** Adds an input to a population (before the build). The arrays of the
 * descriptor are copied. Bad values are N4D_E_RANGE naming the input, the
 * field and the entry (a negative or NaN time, times of a step current not
 * ascending, a neuron index repeated); a neuron index past the population's
 * size is found by n4d_model_build (N4D_E_RANGE naming the input and the
 * entry). A model with spike, step-current, ac or noise inputs runs on the
 * CPU backends; a device backend refuses it (N4D_E_UNSUPPORTED). */
N4D_API n4d_status n4d_model_add_input(n4d_model *m, const n4d_input_desc *d);

/** A neuromodulator (docs/plasticity.md, "Neuromodulation"): a named level
 * in [0, 1] per sim, with a baseline it decays toward each step (by
 * decay_rate, without crossing it), set through the API (n4d_sim_set_modulator
 * and the reward / punishment / novelty helpers) or driven by the spikes of
 * a population. Filled by n4d_modulator_desc_init. */
typedef struct n4d_modulator_desc {
    uint32_t struct_size;   /**< sizeof(n4d_modulator_desc) */
    const char *name;       /**< e.g. "dopamine" (stdp_dopamine and hebb_4dnc read it) */
    double baseline;        /**< in [0, 1]; 0.5 */
    double decay_rate;      /**< per step, toward the baseline, >= 0; 0.1 */
    double level;           /**< the initial level, in [0, 1]; NaN (the default): baseline */
    const char *driven_by;  /**< a population whose spikes drive it, or NULL (the API sets it) */
    double per_spike;       /**< driven: level change per spike of driven_by (clipped to [0, 1]); 0.1 */
    double delay;           /**< driven: ms from a spike to its effect, >= dt; NaN (default): dt */
} n4d_modulator_desc;

/** Fills `d` with the defaults above (name NULL: to be set). */
N4D_API void n4d_modulator_desc_init(n4d_modulator_desc *d);
/** Declares a modulator (before the build). Errors (N4D_E_CONFIG,
 * N4D_E_RANGE) name the modulator and the field: a duplicate name, a level
 * or baseline outside [0, 1] or NaN, an unknown driving population. */
N4D_API n4d_status n4d_model_add_modulator(n4d_model *m, const n4d_modulator_desc *d);

/** What a modulator may act on in a population (n4d_model_bind_modulator). */
typedef enum n4d_modulator_target {
    /** threshold x (1 + level x strength) (4D Neural Cognition's serotonin,
     * inhibition_strength 0.5); the model's "v_threshold" or "V_th" */
    N4D_MOD_THRESHOLD = 0,
    /** external input (DC inputs, n4d_sim_add_input and senses; not Poisson
     * inputs nor the model's constant i_e) x (1 + level x strength)
     * (4D Neural Cognition's norepinephrine, gain_modulation 2.0) */
    N4D_MOD_GAIN = 1,
} n4d_modulator_target;

/** Binds `what` (n4d_modulator_target) of population `population` to the
 * level of modulator `modulator` (declared before) with factor `strength`
 * (finite). One binding per population and target; before the build. */
N4D_API n4d_status n4d_model_bind_modulator(n4d_model *m, const char *population, int32_t what,
                                            const char *modulator, double strength);
/** Number of modulators of the model, and the name of modulator `index`
 * (valid while the model lives; NULL when out of range). */
N4D_API int32_t n4d_model_num_modulators(const n4d_model *m);
/** Name of modulator `index` (see n4d_model_num_modulators). */
N4D_API const char *n4d_model_modulator_name(const n4d_model *m, int32_t index);

/** Declares a sense: a 2D input matrix of rows x cols whose entry [ix][iy]
 * is fed to the neuron at (x_lo + ix, y_lo + iy, z_lo + z_layer, w_lo) of the
 * area (n4d_sim_feed_sense). */
N4D_API n4d_status n4d_model_add_sense(n4d_model *m, const char *name, const char *area,
                                       uint32_t rows, uint32_t cols);

/** Places the neurons and generates the synapses, in parallel. Idempotent.
 * After it the model is read-only. */
N4D_API n4d_status n4d_model_build(n4d_model *m);

/* ---- queries --------------------------------------------------------
 * Counts of populations and projections, population names/areas/models,
 * n4d_model_find_population, dt, seed, lattice, default duration and
 * warnings work before the build; neuron and synapse queries need it. */

/** 1 once the model is built (or loaded), else 0. */
N4D_API int n4d_model_is_built(const n4d_model *m);
/** Before the build the build backend chosen ("cpu", "auto" or "cuda:N"),
 * after it where the synapses were generated ("cpu" or "cuda:N"; "loaded"
 * for a model read from a file). A model-owned string. */
N4D_API const char *n4d_model_build_backend(const n4d_model *m);
/** The time step in ms. */
N4D_API double n4d_model_dt(const n4d_model *m);
/** The model's seed. */
N4D_API uint64_t n4d_model_seed(const n4d_model *m);
/** Number of neurons (after the build). */
N4D_API uint64_t n4d_model_num_neurons(const n4d_model *m);
/** Number of synapses (after the build). */
N4D_API uint64_t n4d_model_num_synapses(const n4d_model *m);
/** Number of populations. */
N4D_API int32_t n4d_model_num_populations(const n4d_model *m);
/** Number of projections. */
N4D_API int32_t n4d_model_num_projections(const n4d_model *m);
/** Before or after the build. */
N4D_API n4d_status n4d_model_lattice(const n4d_model *m, uint32_t shape[4]);

/** Population info: name (valid while the model lives), first neuron id and
 * count (after the build), neuron model. */
typedef struct n4d_population_info {
    uint32_t struct_size;    /**< sizeof(n4d_population_info) */
    const char *name;        /**< the population's name */
    const char *area;        /**< its area's name */
    int32_t model;           /**< the model's id */
    uint64_t first;          /**< its first neuron id (ids first .. first + count - 1) */
    uint64_t count;          /**< its number of neurons */
    const char *model_name;  /**< the model's name (static) */
} n4d_population_info;

/** Fills `out` (set out->struct_size first) for population `index`. */
N4D_API n4d_status n4d_model_population_info(const n4d_model *m, int32_t index,
                                             n4d_population_info *out);
/** Index of a population by name, or a negative status. */
N4D_API int32_t n4d_model_find_population(const n4d_model *m, const char *name);

/** Position (x, y, z, w) of neuron `id`. */
N4D_API n4d_status n4d_model_neuron_position(const n4d_model *m, uint64_t id, int32_t xyzw[4]);
/** Population index of neuron `id`, or a negative status. */
N4D_API int32_t n4d_model_neuron_population(const n4d_model *m, uint64_t id);

/** Number of outgoing synapses of neuron `source`. */
N4D_API n4d_status n4d_model_out_degree(const n4d_model *m, uint64_t source, uint64_t *count);
/** Copies up to `cap` outgoing synapses of `source`, ordered by delay, sign
 * (excitatory first), target id and weight. Any output pointer (also `count`)
 * may be NULL; *count receives the out-degree. Allocates a temporary buffer
 * (N4D_E_NOMEM on failure). Thread-safe on a built model. */
N4D_API n4d_status n4d_model_get_synapses(const n4d_model *m, uint64_t source, uint64_t cap,
                                          uint32_t *targets, float *weights, float *delays_ms,
                                          uint64_t *count);

/** Smallest and largest delay in steps over all synapses (1, 1 if none). */
N4D_API n4d_status n4d_model_delay_range(const n4d_model *m, uint32_t *min_steps,
                                         uint32_t *max_steps);

/** Bytes of the built model by component (tags as in n4d_memory_stats). */
N4D_API n4d_status n4d_model_memory(const n4d_model *m, uint64_t bytes[N4D_MEM_TAG_COUNT]);

/** Warnings collected while loading (newline-separated), "" if none. Valid
 * while the model lives. */
N4D_API const char *n4d_model_warnings(const n4d_model *m);

/** Default simulated duration in ms from the config ("duration"), 0 if unset. */
N4D_API double n4d_model_default_duration(const n4d_model *m);

#ifdef __cplusplus
}
#endif
#endif
