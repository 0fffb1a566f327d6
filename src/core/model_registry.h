/* The model registries (host side): neuron models (neuron_models.def,
 * equations in models/) and synapse models. Everything that knows a model
 * -- the config loader, the store, state access and recording, the CLI
 * listing, the docs table -- reads it from here; an unknown model or
 * parameter is an error. Tables are static and read-only: thread-safe. */
#ifndef N4D_MODEL_REGISTRY_H
#define N4D_MODEL_REGISTRY_H

#include "n4d.h"

#include <math.h>
#include <stdbool.h>

#define N4D__COUNT(a) ((int32_t)(sizeof(a) / sizeof((a)[0])))
/* Most parameters of a neuron model (n4d__population stores this many). */
#define N4D__MAX_PARAMS 24
/* Most parameters of a synapse model. */
#define N4D__MAX_SYN_PARAMS 12

/* Range flags of a parameter: the bound itself is excluded. */
#define N4D__LO_OPEN 1
#define N4D__HI_OPEN 2

typedef struct n4d__param_def {
    const char *name;
    const char *alias; /* another accepted name (configs), or NULL */
    const char *unit;
    double def, lo, hi; /* default; valid range lo..hi (finite values only) */
    int32_t flags;      /* N4D__LO_OPEN, N4D__HI_OPEN */
    const char *doc;
} n4d__param_def;

/* A state variable; a model's first one is "v", kept in sim->v; the next
 * ones live in sim->x[0], x[1], ... in order. */
typedef struct n4d__state_def {
    const char *name, *unit;
    const char *init; /* the initial value, in words (docs) */
    const char *doc;
} n4d__state_def;

typedef struct n4d__preset_def {
    const char *name;
    const n4d_param_value *values;
    int32_t n_values;
} n4d__preset_def;

/* The host side of a neuron model (its header's N4D__MODEL_HOST part). */
typedef struct n4d__model_host {
    const char *doc;
    const n4d__param_def *params;
    int32_t n_params;
    const n4d__state_def *states;
    int32_t n_states;
    const n4d__preset_def *presets;
    int32_t n_presets;
    int32_t v_init_param; /* the parameter whose value is the default initial v */
    int32_t refractory;   /* 1 when the model uses the refractory counter */
    /* The kernel constants (the model's n4d__NAME_k) from the parameters
     * (registry order) and the step in ms. */
    void (*constants)(const double *q, double dt, void *k);
    /* The initial auxiliary state x[0..] given the initial v; NULL: zeros. */
    void (*init)(const double *q, float v, float *x);
    /* Checks across parameters (each one is already in its range): NULL
     * when valid, else what is wrong (a static string). May be NULL. */
    const char *(*check)(const double *q);
} n4d__model_host;

/* The parameter and state tables of model NAME, in an n4d__model_host
 * initializer. */
#define N4D__MODEL_TABLES(NAME)                                                                  \
    .params = n4d__##NAME##_params, .n_params = N4D__COUNT(n4d__##NAME##_params),                \
    .states = n4d__##NAME##_states, .n_states = N4D__COUNT(n4d__##NAME##_states)

typedef struct n4d__neuron_model {
    int32_t id; /* stored in files: never renumbered */
    const char *name;
    const n4d__model_host *h;
} n4d__neuron_model;

/* Refractory periods of at most this many steps: the population setters,
 * n4d_model_set_dt and n4d_sim_create refuse longer ones with a message
 * (t_ref / dt is counted in int32); n4d__ref_steps saturates there (a
 * lifecycle's mutated t_ref). */
#define N4D__MAX_REF_STEPS 1000000000.0

/* The smallest time step (ms) a model takes: below it step counts of
 * ordinary durations overflow their integer types (docs/config.md). */
#define N4D__MIN_DT 1e-6

/* Refractory period in steps: t_ref / dt rounded to nearest. */
static inline int32_t n4d__ref_steps(double t_ref, double dt)
{
    const double steps = floor(t_ref / dt + 0.5);
    return steps < N4D__MAX_REF_STEPS ? (int32_t)steps : (int32_t)N4D__MAX_REF_STEPS;
}

/* Registered neuron models, in registry order. */
int32_t n4d__neuron_model_count(void);
const n4d__neuron_model *n4d__neuron_model_at(int32_t index);
/* The model of id `id` / of name `name`, or NULL. */
const n4d__neuron_model *n4d__neuron_model_by_id(int32_t id);
const n4d__neuron_model *n4d__neuron_model_by_name(const char *name);
/* Index of parameter `name` (or its alias) of model `nm`, or -1. */
/* Parameter tables (neuron and synapse models): index by name or alias
 * (-1 if none), range check, the range and the names in words. */
int32_t n4d__pdef_index(const n4d__param_def *defs, int32_t n, const char *name);
bool n4d__pdef_valid(const n4d__param_def *d, double x);
const char *n4d__pdef_range_text(const n4d__param_def *d, char *buf, size_t cap);
const char *n4d__pdef_names(const n4d__param_def *defs, int32_t n, char *buf, size_t cap);
int32_t n4d__param_index(const n4d__neuron_model *nm, const char *name);
/* Whether x is a valid value of parameter k of nm. */
bool n4d__param_valid(const n4d__neuron_model *nm, int32_t k, double x);
/* The valid range of parameter k in words ("> 0", "any finite number"). */
const char *n4d__param_range_text(const n4d__neuron_model *nm, int32_t k, char *buf, size_t cap);
/* The default parameters of nm into q (nm->h->n_params values). */
void n4d__param_defaults(const n4d__neuron_model *nm, double *q);
/* The parameter names of nm, comma-separated, into buf. */
const char *n4d__param_names(const n4d__neuron_model *nm, char *buf, size_t cap);

/* One table of state names: the state variables of every model (first
 * appearance in registry order), then "i_ext" and "refractory". */
int32_t n4d__state_name_count(void);
const char *n4d__state_name(int32_t k);
const char *n4d__state_unit(int32_t k);
int32_t n4d__state_find(const char *name);
/* The names, comma-separated, into buf. */
const char *n4d__state_names(char *buf, size_t cap);
/* Where model nm keeps state name k: N4D__SLOT_V, N4D__SLOT_X + j (sim->x[j]),
 * N4D__SLOT_IEXT, N4D__SLOT_REF, or N4D__SLOT_NONE when it lacks it. */
enum { N4D__SLOT_NONE = -1, N4D__SLOT_V = 0, N4D__SLOT_X = 1, N4D__SLOT_IEXT = 100,
       N4D__SLOT_REF = 101 };
int32_t n4d__state_slot(const n4d__neuron_model *nm, int32_t k);
/* The unit of state name k in model nm (its own state variables' units,
 * i_ext in the unit of the model's constant input), NULL when it lacks it. */
const char *n4d__state_unit_of(const n4d__neuron_model *nm, int32_t k);

/* ---- synapse models ------------------------------------------------------- */

/* Events a synapse model may react to (plasticity rules, later). */
enum {
    N4D__SYN_EV_PRE = 1,      /* a presynaptic spike arrives */
    N4D__SYN_EV_POST = 2,     /* the postsynaptic neuron spikes */
    N4D__SYN_EV_STEP = 4,     /* every step */
    N4D__SYN_EV_MODULATOR = 8 /* a neuromodulator level changes */
};

typedef struct n4d__synapse_model {
    int32_t id; /* stored in files: never renumbered */
    const char *name;
    const char *doc;
    /* per-synapse variables beyond the 8-byte (target, weight) pair */
    const n4d__state_def *vars;
    int32_t n_vars;
    const n4d__param_def *params;
    int32_t n_params;
    uint32_t events; /* N4D__SYN_EV_*: 0 for static synapses */
    uint32_t bytes;  /* bytes per synapse */
} n4d__synapse_model;

int32_t n4d__synapse_model_count(void);
const n4d__synapse_model *n4d__synapse_model_at(int32_t index);
const n4d__synapse_model *n4d__synapse_model_by_name(const char *name);
const n4d__synapse_model *n4d__synapse_model_by_id(int32_t id);

#endif
