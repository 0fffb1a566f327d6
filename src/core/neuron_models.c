/* The model registries: the neuron models of neuron_models.def (their
 * host parts: parameters, state variables, presets, kernel constants) and
 * the synapse models, with the public queries of include/n4d/model.h. */
#define N4D__MODEL_HOST 1
#include "internal.h"
#include "neuron.h"
#include "plastic_rules.h"

#include <stdio.h>
#include <string.h>

/* Every model's state fits the step signature (v + x0..x2) and its
 * parameters fit the populations' table (N4D__MAX_PARAMS). */
#define N4D_NEURON_MODEL(id, name)                                                               \
    _Static_assert(n4d__##name##_nstate >= 1 && n4d__##name##_nstate <= 1 + N4D__NX,            \
                   #name ": too many state variables for the step signature (N4D__NX)");        \
    _Static_assert(N4D__COUNT(n4d__##name##_params) <= N4D__MAX_PARAMS,                         \
                   #name ": more parameters than N4D__MAX_PARAMS");
#include "neuron_models.def"
#undef N4D_NEURON_MODEL

/* Duplicate ids do not compile (duplicate case labels). */
static inline int id_check(int32_t id)
{
    switch (id) {
#define N4D_NEURON_MODEL(id, name) case id:
#include "neuron_models.def"
#undef N4D_NEURON_MODEL
        return 1;
    }
    return 0;
}

static const n4d__neuron_model MODELS[] = {
#define N4D_NEURON_MODEL(id, name) {id, #name, &n4d__##name##_host},
#include "neuron_models.def"
#undef N4D_NEURON_MODEL
};

int32_t n4d__neuron_model_count(void) { return N4D__COUNT(MODELS); }

const n4d__neuron_model *n4d__neuron_model_at(int32_t index)
{
    return index >= 0 && index < N4D__COUNT(MODELS) ? &MODELS[index] : NULL;
}

const n4d__neuron_model *n4d__neuron_model_by_id(int32_t id)
{
    if (!id_check(id))
        return NULL;
    for (int32_t i = 0; i < N4D__COUNT(MODELS); i++)
        if (MODELS[i].id == id)
            return &MODELS[i];
    return NULL;
}

const n4d__neuron_model *n4d__neuron_model_by_name(const char *name)
{
    if (!name)
        return NULL;
    for (int32_t i = 0; i < N4D__COUNT(MODELS); i++)
        if (strcmp(MODELS[i].name, name) == 0)
            return &MODELS[i];
    return NULL;
}

int32_t n4d__pdef_index(const n4d__param_def *defs, int32_t n, const char *name)
{
    if (!defs || !name)
        return -1;
    for (int32_t k = 0; k < n; k++) {
        const n4d__param_def *d = &defs[k];
        if (strcmp(d->name, name) == 0 || (d->alias && strcmp(d->alias, name) == 0))
            return k;
    }
    return -1;
}

bool n4d__pdef_valid(const n4d__param_def *d, double x)
{
    if (!isfinite(x))
        return false;
    if ((d->flags & N4D__LO_OPEN) ? !(x > d->lo) : !(x >= d->lo))
        return false;
    return (d->flags & N4D__HI_OPEN) ? x < d->hi : x <= d->hi;
}

const char *n4d__pdef_range_text(const n4d__param_def *d, char *buf, size_t cap)
{
    const bool lo = isfinite(d->lo), hi = isfinite(d->hi);
    const char *lo_op = (d->flags & N4D__LO_OPEN) ? ">" : ">=";
    const char *hi_op = (d->flags & N4D__HI_OPEN) ? "<" : "<=";
    if (lo && hi)
        snprintf(buf, cap, "%s %g and %s %g", lo_op, d->lo, hi_op, d->hi);
    else if (lo)
        snprintf(buf, cap, "%s %g", lo_op, d->lo);
    else if (hi)
        snprintf(buf, cap, "%s %g", hi_op, d->hi);
    else
        snprintf(buf, cap, "any finite number");
    return buf;
}

const char *n4d__pdef_names(const n4d__param_def *defs, int32_t n, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int32_t k = 0; k < n && len < cap; k++) {
        int w = snprintf(buf + len, cap - len, "%s%s", k ? ", " : "", defs[k].name);
        if (w < 0)
            break;
        len += (size_t)w;
    }
    return buf;
}

int32_t n4d__param_index(const n4d__neuron_model *nm, const char *name)
{
    return nm ? n4d__pdef_index(nm->h->params, nm->h->n_params, name) : -1;
}

bool n4d__param_valid(const n4d__neuron_model *nm, int32_t k, double x)
{
    return n4d__pdef_valid(&nm->h->params[k], x);
}

const char *n4d__param_range_text(const n4d__neuron_model *nm, int32_t k, char *buf, size_t cap)
{
    return n4d__pdef_range_text(&nm->h->params[k], buf, cap);
}

void n4d__param_defaults(const n4d__neuron_model *nm, double *q)
{
    for (int32_t k = 0; k < nm->h->n_params; k++)
        q[k] = nm->h->params[k].def;
}

const char *n4d__param_names(const n4d__neuron_model *nm, char *buf, size_t cap)
{
    return n4d__pdef_names(nm->h->params, nm->h->n_params, buf, cap);
}

/* ---- state names ---------------------------------------------------------- */

/* State name k: the models' state variables in registry order, each name
 * once, then "i_ext" and "refractory". Found by walking the (small) tables:
 * no table is built at run time. */
static const n4d__state_def *state_def_at(int32_t k, int32_t *extra)
{
    int32_t seen = 0;
    for (int32_t i = 0; i < N4D__COUNT(MODELS); i++) {
        const n4d__model_host *h = MODELS[i].h;
        for (int32_t s = 0; s < h->n_states; s++) {
            bool dup = false;
            for (int32_t j = 0; j <= i && !dup; j++)
                for (int32_t t = 0; t < (j < i ? MODELS[j].h->n_states : s) && !dup; t++)
                    dup = strcmp(MODELS[j].h->states[t].name, h->states[s].name) == 0;
            if (dup)
                continue;
            if (seen++ == k)
                return &h->states[s];
        }
    }
    *extra = k - seen; /* 0: i_ext, 1: refractory */
    return NULL;
}

int32_t n4d__state_name_count(void)
{
    int32_t extra = 0;
    for (int32_t k = 0;; k++)
        if (!state_def_at(k, &extra))
            return k + 2;
}

const char *n4d__state_name(int32_t k)
{
    int32_t extra = -1;
    if (k < 0)
        return NULL;
    const n4d__state_def *d = state_def_at(k, &extra);
    return d ? d->name : extra == 0 ? "i_ext" : extra == 1 ? "refractory" : NULL;
}

const char *n4d__state_unit(int32_t k)
{
    int32_t extra = -1;
    if (k < 0)
        return NULL;
    const n4d__state_def *d = state_def_at(k, &extra);
    return d ? d->unit : extra == 0 ? "mV" : extra == 1 ? "steps" : NULL;
}

int32_t n4d__state_find(const char *name)
{
    if (!name)
        return -1;
    const int32_t n = n4d__state_name_count();
    for (int32_t k = 0; k < n; k++)
        if (strcmp(n4d__state_name(k), name) == 0)
            return k;
    return -1;
}

const char *n4d__state_names(char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    const int32_t n = n4d__state_name_count();
    for (int32_t k = 0; k < n && len < cap; k++) {
        int w = snprintf(buf + len, cap - len, "%s%s", k ? ", " : "", n4d__state_name(k));
        if (w < 0)
            break;
        len += (size_t)w;
    }
    return buf;
}

int32_t n4d__state_slot(const n4d__neuron_model *nm, int32_t k)
{
    const char *name = n4d__state_name(k);
    if (!nm || !name)
        return N4D__SLOT_NONE;
    if (strcmp(name, "i_ext") == 0)
        return N4D__SLOT_IEXT;
    if (strcmp(name, "refractory") == 0)
        return nm->h->refractory ? N4D__SLOT_REF : N4D__SLOT_NONE;
    for (int32_t s = 0; s < nm->h->n_states; s++)
        if (strcmp(nm->h->states[s].name, name) == 0)
            return s == 0 ? N4D__SLOT_V : N4D__SLOT_X + (s - 1);
    return N4D__SLOT_NONE;
}

const char *n4d__state_unit_of(const n4d__neuron_model *nm, int32_t k)
{
    const int32_t slot = n4d__state_slot(nm, k);
    if (slot == N4D__SLOT_NONE)
        return NULL;
    if (slot == N4D__SLOT_REF)
        return "steps";
    if (slot == N4D__SLOT_IEXT) { /* external input: the unit of the model's constant input */
        int32_t p = n4d__param_index(nm, "i_e");
        if (p < 0)
            p = n4d__param_index(nm, "I_e");
        return p >= 0 ? nm->h->params[p].unit : n4d__state_unit(k);
    }
    return nm->h->states[slot == N4D__SLOT_V ? 0 : slot - N4D__SLOT_X + 1].unit;
}

/* ---- synapse models ------------------------------------------------------- */

static const n4d__param_def HEBB_PARAMS[] = {
    {"learning_rate", "eta", "1", 0.001, 0.0, INFINITY, 0,
     "+eta when pre and post spike in a step, -eta/2 when only pre does"},
    {"weight_min", NULL, "input unit", -1.0, -INFINITY, INFINITY, 0, "lower clip bound"},
    {"weight_max", NULL, "input unit", 1.0, -INFINITY, INFINITY, 0, "upper clip bound"},
    {"weight_decay", NULL, "input unit", 1e-5, 0.0, INFINITY, 0,
     "moves the weight toward 0 each step, without crossing it"},
    {"dopamine_modulation", NULL, "1", 0.0, 0.0, INFINITY, 0,
     "0: off; else each change x the dopamine level x this (4DNC learning_rate_modulation, 2)"},
};
static const n4d__param_def STDP_PARAMS[] = {
    {"tau_plus", NULL, "ms", 20.0, 0.0, INFINITY, N4D__LO_OPEN, "presynaptic trace time constant"},
    {"tau_minus", NULL, "ms", 20.0, 0.0, INFINITY, N4D__LO_OPEN,
     "postsynaptic trace time constant (NEST: of the post neuron; one per target population)"},
    {"lambda", NULL, "1", 0.01, 0.0, INFINITY, 0, "step size"},
    {"alpha", NULL, "1", 1.0, 0.0, INFINITY, 0, "depression / facilitation asymmetry"},
    {"mu_plus", NULL, "1", 1.0, 0.0, INFINITY, 0, "facilitation exponent (0 additive, 1 multiplicative)"},
    {"mu_minus", NULL, "1", 1.0, 0.0, INFINITY, 0, "depression exponent (0 additive, 1 multiplicative)"},
    {"Wmax", "w_max", "input unit", 100.0, 0.0, INFINITY, N4D__LO_OPEN, "largest weight"},
    {"nearest", NULL, "0/1", 0.0, 0.0, 1.0, 0,
     "1: nearest-spike pairing (NEST stdp_nn_symm_synapse); config: \"pairing\": \"nearest\""},
};
static const n4d__param_def TSODYKS_PARAMS[] = {
    {"U", NULL, "1", 0.5, 0.0, 1.0, 0, "increment of u at a spike"},
    {"u", NULL, "1", 0.5, 0.0, 1.0, 0, "initial release probability"},
    {"x", NULL, "1", 1.0, 0.0, 1.0, 0, "initial fraction of available resources"},
    {"tau_rec", NULL, "ms", 800.0, 0.0, INFINITY, N4D__LO_OPEN, "recovery time constant"},
    {"tau_fac", NULL, "ms", 0.0, 0.0, INFINITY, 0, "facilitation time constant (0: none)"},
};
static const n4d__param_def STDP_DOPAMINE_PARAMS[] = {
    {"tau_plus", NULL, "ms", 20.0, 0.0, INFINITY, N4D__LO_OPEN, "presynaptic trace time constant"},
    {"tau_minus", NULL, "ms", 20.0, 0.0, INFINITY, N4D__LO_OPEN,
     "postsynaptic trace time constant (NEST: of the post neuron; one per target population)"},
    {"tau_c", NULL, "ms", 1000.0, 0.0, INFINITY, N4D__LO_OPEN, "eligibility trace time constant"},
    {"tau_n", NULL, "ms", 200.0, 0.0, INFINITY, N4D__LO_OPEN,
     "dopamine trace time constant (dopamine driven by spikes)"},
    {"b", NULL, "1/ms", 0.0, -INFINITY, INFINITY, 0, "dopamine baseline subtracted from n"},
    {"A_plus", NULL, "1", 1.0, -INFINITY, INFINITY, 0, "eligibility increase per pairing (x K+)"},
    {"A_minus", NULL, "1", 1.5, -INFINITY, INFINITY, 0, "eligibility decrease per pairing (x K-)"},
    {"Wmin", "w_min", "input unit", 0.0, -INFINITY, INFINITY, 0, "smallest weight"},
    {"Wmax", "w_max", "input unit", 200.0, -INFINITY, INFINITY, 0, "largest weight"},
};
static const n4d__state_def STDP_DOPAMINE_VARS[] = {
    {"weight", "input unit", "the projection's weight", "the weight (double precision)"},
    {"c", "1", "0", "eligibility trace (double precision)"},
};
static const n4d__state_def HEBB_VARS[] = {
    {"weight", "input unit", "the projection's weight", "the weight (double precision)"},
};
static const n4d__state_def STDP_VARS[] = {
    {"weight", "input unit", "the projection's weight", "the weight (single precision)"},
};

static const n4d__synapse_model SYNAPSES[] = {
    {N4D__SYN_STATIC, "static",
     "a fixed weight (32-bit fixed point) and target, 8 bytes; the delay is per group", NULL, 0,
     NULL, 0, 0, 8},
    {N4D__SYN_HEBB_4DNC, "hebb_4dnc",
     "4D Neural Cognition's Hebbian rule with clipping and decay, exact and lazy", HEBB_VARS,
     N4D__COUNT(HEBB_VARS), HEBB_PARAMS, N4D__COUNT(HEBB_PARAMS),
     N4D__SYN_EV_PRE | N4D__SYN_EV_STEP, 16},
    {N4D__SYN_STDP, "stdp",
     "pair-based STDP with traces, NEST stdp_synapse (additive to multiplicative; all-to-all or "
     "nearest-spike)",
     STDP_VARS, N4D__COUNT(STDP_VARS), STDP_PARAMS, N4D__COUNT(STDP_PARAMS),
     N4D__SYN_EV_PRE | N4D__SYN_EV_POST, 12},
    {N4D__SYN_TSODYKS, "tsodyks",
     "short-term depression and facilitation, NEST tsodyks2_synapse (state per presynaptic "
     "neuron)",
     NULL, 0, TSODYKS_PARAMS, N4D__COUNT(TSODYKS_PARAMS), N4D__SYN_EV_PRE, 8},
    {N4D__SYN_STDP_DOPAMINE, "stdp_dopamine",
     "reward-modulated STDP with an eligibility trace, NEST stdp_dopamine_synapse, driven by the "
     "sim's dopamine modulator",
     STDP_DOPAMINE_VARS, N4D__COUNT(STDP_DOPAMINE_VARS), STDP_DOPAMINE_PARAMS,
     N4D__COUNT(STDP_DOPAMINE_PARAMS), N4D__SYN_EV_PRE | N4D__SYN_EV_POST | N4D__SYN_EV_MODULATOR, 24},
};

int32_t n4d__synapse_model_count(void) { return N4D__COUNT(SYNAPSES); }

const n4d__synapse_model *n4d__synapse_model_at(int32_t index)
{
    return index >= 0 && index < N4D__COUNT(SYNAPSES) ? &SYNAPSES[index] : NULL;
}

const n4d__synapse_model *n4d__synapse_model_by_name(const char *name)
{
    for (int32_t i = 0; name && i < N4D__COUNT(SYNAPSES); i++)
        if (strcmp(SYNAPSES[i].name, name) == 0)
            return &SYNAPSES[i];
    return NULL;
}

const n4d__synapse_model *n4d__synapse_model_by_id(int32_t id)
{
    for (int32_t i = 0; i < N4D__COUNT(SYNAPSES); i++)
        if (SYNAPSES[i].id == id)
            return &SYNAPSES[i];
    return NULL;
}

/* ---- public queries --------------------------------------------------------- */

/* Copies `full` into the caller's struct (as many bytes as it knows). */
static n4d_status copy_out(void *out, const void *full, size_t full_size)
{
    uint32_t size;
    memcpy(&size, out, sizeof size);
    if (size < sizeof(uint32_t))
        return N4D_E_INVALID_ARG;
    n4d__copy_out(out, full, full_size);
    return N4D_OK;
}

int32_t n4d_neuron_model_count(void) { return n4d__neuron_model_count(); }

int32_t n4d_neuron_model_find(const char *name)
{
    for (int32_t i = 0; name && i < N4D__COUNT(MODELS); i++)
        if (strcmp(MODELS[i].name, name) == 0)
            return i;
    return N4D_E_RANGE;
}

n4d_status n4d_neuron_model_info_get(int32_t index, n4d_neuron_model_info *out)
{
    const n4d__neuron_model *nm = n4d__neuron_model_at(index);
    if (!out)
        return N4D_E_INVALID_ARG;
    if (!nm)
        return N4D_E_RANGE;
    n4d_neuron_model_info full = {sizeof full,       nm->id,           nm->name,
                                  nm->h->doc,        nm->h->n_params,  nm->h->n_states,
                                  nm->h->n_presets,  nm->h->refractory};
    return copy_out(out, &full, sizeof full);
}

n4d_status n4d_neuron_model_param_info(int32_t index, int32_t param, n4d_param_info *out)
{
    const n4d__neuron_model *nm = n4d__neuron_model_at(index);
    if (!out)
        return N4D_E_INVALID_ARG;
    if (!nm || param < 0 || param >= nm->h->n_params)
        return N4D_E_RANGE;
    const n4d__param_def *d = &nm->h->params[param];
    n4d_param_info full = {sizeof full, d->name, d->alias, d->unit, d->doc, d->def, d->lo, d->hi,
                           (d->flags & N4D__LO_OPEN) != 0, (d->flags & N4D__HI_OPEN) != 0};
    return copy_out(out, &full, sizeof full);
}

n4d_status n4d_neuron_model_state_info(int32_t index, int32_t state, n4d_state_info *out)
{
    const n4d__neuron_model *nm = n4d__neuron_model_at(index);
    if (!out)
        return N4D_E_INVALID_ARG;
    if (!nm || state < 0 || state >= nm->h->n_states)
        return N4D_E_RANGE;
    const n4d__state_def *d = &nm->h->states[state];
    n4d_state_info full = {sizeof full, d->name, d->unit, d->init, d->doc};
    return copy_out(out, &full, sizeof full);
}

const char *n4d_neuron_model_preset(int32_t index, int32_t preset)
{
    const n4d__neuron_model *nm = n4d__neuron_model_at(index);
    if (!nm || preset < 0 || preset >= nm->h->n_presets)
        return NULL;
    return nm->h->presets[preset].name;
}

int32_t n4d_synapse_model_count(void) { return n4d__synapse_model_count(); }

int32_t n4d_synapse_model_find(const char *name)
{
    for (int32_t i = 0; name && i < N4D__COUNT(SYNAPSES); i++)
        if (strcmp(SYNAPSES[i].name, name) == 0)
            return i;
    return N4D_E_RANGE;
}

n4d_status n4d_synapse_model_param_info(int32_t index, int32_t param, n4d_param_info *out)
{
    const n4d__synapse_model *sm = n4d__synapse_model_at(index);
    if (!out)
        return N4D_E_INVALID_ARG;
    if (!sm || param < 0 || param >= sm->n_params)
        return N4D_E_RANGE;
    const n4d__param_def *d = &sm->params[param];
    n4d_param_info full = {sizeof full, d->name, d->alias, d->unit, d->doc, d->def, d->lo, d->hi,
                           (d->flags & N4D__LO_OPEN) != 0, (d->flags & N4D__HI_OPEN) != 0};
    return copy_out(out, &full, sizeof full);
}

n4d_status n4d_synapse_model_info_get(int32_t index, n4d_synapse_model_info *out)
{
    const n4d__synapse_model *sm = n4d__synapse_model_at(index);
    if (!out)
        return N4D_E_INVALID_ARG;
    if (!sm)
        return N4D_E_RANGE;
    n4d_synapse_model_info full = {sizeof full, sm->id, sm->name, sm->doc, sm->n_vars,
                                   sm->n_params, sm->bytes};
    return copy_out(out, &full, sizeof full);
}
