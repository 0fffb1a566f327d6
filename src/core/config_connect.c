/* The JSON config loader's "projections" and "inputs" sections
 * (docs/config.md): connection rules, weights and delays, synapse models,
 * DC and Poisson inputs, checked key by key and described through the
 * model API. */
#include "config.h"
#include "model_registry.h"
#include "modulators.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const PROJ_KEYS[] = {
    "name", "source", "target", "rule", "p", "indegree", "n", "kernel", "sigma", "cutoff",
    "weight", "delay", "type", "allow_autapses", "allow_multapses", "synapse", "connections",
    NULL};
static const char *const INPUT_KEYS[] = {"type", "target", "amplitude", "rate", "weight",
                                         "n_sources", "sampling", "start", "stop",
                                         "spike_times", "times", "amplitudes", "neurons",
                                         "offset", "frequency", "phase", "mean", "std",
                                         "interval", NULL};
static const char *const RULE_NAMES[] = {"fixed_probability", "fixed_indegree",
                                         "fixed_total_number", "one_to_one", "all_to_all",
                                         "distance", "explicit", NULL};
static const int32_t RULE_VALS[] = {N4D_RULE_FIXED_PROBABILITY, N4D_RULE_FIXED_INDEGREE,
                                    N4D_RULE_FIXED_TOTAL_NUMBER, N4D_RULE_ONE_TO_ONE,
                                    N4D_RULE_ALL_TO_ALL, N4D_RULE_DISTANCE, N4D_RULE_EXPLICIT};
/* Keys that only some rules take: allowed and required ones, by rule. */
static const char *const RULE_SPECIFIC[] = {"p", "indegree", "n", "kernel", "sigma", "cutoff",
                                            "allow_multapses", "connections", NULL};
static const char *const RULE_ALLOWED[7][5] = {
    {"p", NULL},
    {"indegree", "allow_multapses", NULL},
    {"n", "allow_multapses", NULL},
    {NULL},
    {NULL},
    {"p", "kernel", "sigma", "cutoff", NULL},
    {"connections", NULL}};
static const char *const KERNEL_NAMES[] = {"gaussian", "exponential", NULL};
static const int32_t KERNEL_VALS[] = {N4D_KERNEL_GAUSSIAN, N4D_KERNEL_EXPONENTIAL};
static const char *const SYN_NAMES[] = {"excitatory", "inhibitory", NULL};
static const int32_t SYN_VALS[] = {N4D_SYN_EXCITATORY, N4D_SYN_INHIBITORY};
static const char *const INPUT_NAMES[] = {"dc", "poisson", "spikes", "step_current", "ac",
                                          "noise", NULL};
static const int32_t INPUT_VALS[] = {N4D_INPUT_DC,           N4D_INPUT_POISSON, N4D_INPUT_SPIKES,
                                     N4D_INPUT_STEP_CURRENT, N4D_INPUT_AC,      N4D_INPUT_NOISE};
static const char *const INPUT_ALLOWED[6][6] = {
    {"amplitude", NULL},
    {"rate", "weight", "n_sources", "sampling", NULL},
    {"spike_times", "weight", NULL},
    {"times", "amplitudes", "neurons", NULL},
    {"amplitude", "offset", "frequency", "phase", "neurons", NULL},
    {"mean", "std", "interval", "neurons", NULL}};
static const char *const INPUT_SPECIFIC[] = {
    "amplitude", "rate",   "weight",    "n_sources", "sampling", "spike_times", "times",
    "amplitudes", "neurons", "offset",  "frequency", "phase",    "mean",        "std",
    "interval",  NULL};
static const char *const SAMPLING_NAMES[] = {"per_step", "sparse", NULL};
static const int32_t SAMPLING_VALS[] = {N4D_POISSON_PER_STEP, N4D_POISSON_SPARSE};

/* Keys in `specific` present in obj must be in `allowed`. */
static n4d_status check_specific(cfg *c, json_t *obj, const char *const *specific,
                                 const char *const *allowed, const char *what, const char *kind)
{
    for (size_t i = 0; specific[i]; i++) {
        if (!json_object_get(obj, specific[i]) || in_list(allowed, specific[i]))
            continue;
        char list[256];
        push_key(c, specific[i]);
        if (!allowed[0])
            return fail(c, AT_KEY, "\"%s\" does not apply to %s \"%s\" (expected no %s parameters)",
                        specific[i], what, kind, what);
        return fail(c, AT_KEY, "\"%s\" does not apply to %s \"%s\" (expected for it: %s)",
                    specific[i], what, kind, join_list(allowed, list, sizeof list));
    }
    return N4D_OK;
}

/* "synapse": {"model": NAME, PARAM: VALUE...} into d (parameters into pv);
 * stdp also takes "pairing": "all_to_all" | "nearest". */
static n4d_status parse_synapse(cfg *c, json_t *sv, n4d_projection_desc *d, n4d_param_value *pv)
{
    push_key(c, "synapse");
    N4D__TRY(want(c, sv, JSON_OBJECT, "an object {\"model\": NAME, PARAMETER: VALUE...}"));
    char slist[256];
    size_t len = 0;
    slist[0] = '\0';
    for (int32_t j = 0; j < n4d__synapse_model_count() && len < sizeof slist; j++)
        len += (size_t)snprintf(slist + len, sizeof slist - len, "%s%s", j ? ", " : "",
                                n4d__synapse_model_at(j)->name);
    json_t *smv = json_object_get(sv, "model");
    if (!smv)
        return missing(c, "model", slist);
    push_key(c, "model");
    if (!json_is_string(smv))
        return fail(c, AT_VALUE, "got %s (expected one of: %s)", type_name(smv), slist);
    d->synapse_model = json_string_value(smv);
    const n4d__synapse_model *sm = n4d__synapse_model_by_name(d->synapse_model);
    if (!sm)
        return fail(c, AT_VALUE, "unknown synapse model \"%.64s\" (expected one of: %s)",
                    d->synapse_model, slist);
    /* the "neuromodulation" section is read before the projections */
    if (sm->id == N4D__SYN_STDP_DOPAMINE && n4d__mod_find(c->m, "dopamine") < 0)
        return fail(c, AT_VALUE,
                    "stdp_dopamine reads the modulator \"dopamine\", which the config does "
                    "not declare (add \"neuromodulation\": {\"dopamine\": {...}})");
    pop(c);
    const char *key;
    json_t *v;
    uint32_t n = 0;
    json_object_foreach(sv, key, v) {
        if (strcmp(key, "model") == 0)
            continue;
        push_key(c, key);
        if (sm->id == N4D__SYN_STDP && strcmp(key, "pairing") == 0) {
            static const char *const names[] = {"all_to_all", "nearest", NULL};
            static const int32_t vals[] = {0, 1};
            int32_t nearest = 0;
            N4D__TRY(get_enum(c, v, "pairing", names, vals, &nearest));
            pv[n++] = (n4d_param_value){"nearest", (double)nearest};
            pop(c);
            continue;
        }
        const int32_t k = n4d__pdef_index(sm->params, sm->n_params, key);
        if (k < 0) {
            char names[400];
            return fail(c, AT_KEY, "unknown parameter of synapse model \"%s\" (expected %s)",
                        sm->name,
                        sm->n_params ? n4d__pdef_names(sm->params, sm->n_params, names, sizeof names)
                                     : "only \"model\": it has no parameters");
        }
        double x;
        N4D__TRY(n4d__cfg_syn_param(c, v, &sm->params[k], &x));
        pv[n++] = (n4d_param_value){sm->params[k].name, x};
        pop(c);
        if (n == N4D__MAX_SYN_PARAMS)
            break;
    }
    d->synapse_params = pv;
    d->n_synapse_params = n;
    pop(c);
    return N4D_OK;
}

static n4d_status pop_ref(cfg *c, json_t *obj, const char *key, const char **out)
{
    N4D__TRY(req_name(c, obj, key, "the name of a population", out));
    push_key(c, key);
    N4D__TRY(check_ref(c, c->pop_idx, "population", *out, "no populations are defined"));
    pop(c);
    return N4D_OK;
}

/* The connection list of an explicit projection (d->pre ...: arrays of
 * ctx that the caller frees with free_conn): "connections" is an array of
 * rows [pre, post] or [pre, post, weight] or [pre, post, weight, delay],
 * every row of the same length; the missing columns take the projection's
 * constant weight / delay. */
typedef struct conn_arrays {
    uint32_t *pre, *post;
    double *w, *d;
    size_t n;
} conn_arrays;

static void free_conn(n4d_context *ctx, conn_arrays *a)
{
    const size_t n = a->n ? a->n : 1;
    n4d__free(ctx, N4D_MEM_OTHER, a->pre, n * sizeof(uint32_t));
    n4d__free(ctx, N4D_MEM_OTHER, a->post, n * sizeof(uint32_t));
    n4d__free(ctx, N4D_MEM_OTHER, a->w, n * sizeof(double));
    n4d__free(ctx, N4D_MEM_OTHER, a->d, n * sizeof(double));
    memset(a, 0, sizeof *a);
}

static n4d_status load_connections(cfg *c, json_t *obj, n4d_projection_desc *d, conn_arrays *a)
{
    json_t *cv = json_object_get(obj, "connections");
    if (!cv)
        return missing(c, "connections",
                       "an array of [pre, post] or [pre, post, weight] or [pre, post, weight, "
                       "delay] rows (indices within the source and target)");
    push_key(c, "connections");
    N4D__TRY(want(c, cv, JSON_ARRAY, "an array of connection rows"));
    const size_t n = json_array_size(cv);
    a->n = n;
    a->pre = n4d__alloc(c->ctx, N4D_MEM_OTHER, (n ? n : 1) * sizeof(uint32_t));
    a->post = n4d__alloc(c->ctx, N4D_MEM_OTHER, (n ? n : 1) * sizeof(uint32_t));
    a->w = n4d__alloc(c->ctx, N4D_MEM_OTHER, (n ? n : 1) * sizeof(double));
    a->d = n4d__alloc(c->ctx, N4D_MEM_OTHER, (n ? n : 1) * sizeof(double));
    if (!a->pre || !a->post || !a->w || !a->d)
        return nomem(c);
    size_t cols = 0;
    for (size_t k = 0; k < n; k++) {
        json_t *row = json_array_get(cv, k);
        push_idx(c, k);
        N4D__TRY(want(c, row, JSON_ARRAY, "a row [pre, post, weight, delay] (2 to 4 numbers)"));
        const size_t len = json_array_size(row);
        if (len < 2 || len > 4)
            return fail(c, AT_VALUE, "%zu entries (expected [pre, post], [pre, post, weight] or "
                        "[pre, post, weight, delay])", len);
        if (k && len != cols)
            return fail(c, AT_VALUE, "%zu entries where connections[0] has %zu (expected rows "
                        "of one length)", len, cols);
        cols = len;
        int64_t x;
        push_idx(c, 0);
        N4D__TRY(get_int(c, json_array_get(row, 0), 0, UINT32_MAX,
                         "a neuron index >= 0 within the source", &x));
        a->pre[k] = (uint32_t)x;
        pop(c);
        push_idx(c, 1);
        N4D__TRY(get_int(c, json_array_get(row, 1), 0, UINT32_MAX,
                         "a neuron index >= 0 within the target", &x));
        a->post[k] = (uint32_t)x;
        pop(c);
        if (len > 2) {
            push_idx(c, 2);
            N4D__TRY(get_num(c, json_array_get(row, 2), &R_ANY, &a->w[k]));
            pop(c);
        }
        if (len > 3) {
            push_idx(c, 3);
            N4D__TRY(get_num(c, json_array_get(row, 3), &R_POS, &a->d[k]));
            pop(c);
        }
        pop(c);
    }
    pop(c);
    d->pre = a->pre;
    d->post = a->post;
    d->weights = cols > 2 ? a->w : NULL;
    d->delays = cols > 3 ? a->d : NULL;
    d->n_connections = n;
    return N4D_OK;
}

n4d_status n4d__cfg_load_projections(cfg *c, json_t *root)
{
    json_t *projs = json_object_get(root, "projections");
    if (!projs)
        return N4D_OK;
    push_key(c, "projections");
    N4D__TRY(want(c, projs, JSON_ARRAY, "an array of projections"));
    for (size_t i = 0; i < json_array_size(projs); i++) {
        json_t *obj = json_array_get(projs, i);
        n4d_projection_desc d;
        n4d_projection_desc_init(&d);
        push_idx(c, i);
        N4D__TRY(want(c, obj, JSON_OBJECT, "a projection object"));
        N4D__TRY(check_keys(c, obj, PROJ_KEYS));
        if (json_object_get(obj, "name"))
            N4D__TRY(req_name(c, obj, "name", "a non-empty string", &d.name));
        N4D__TRY(pop_ref(c, obj, "source", &d.source));
        N4D__TRY(pop_ref(c, obj, "target", &d.target));
        /* names (default "SOURCE->TARGET") are unique */
        char defname[600];
        const char *eff = d.name;
        if (!eff) {
            snprintf(defname, sizeof defname, "%s->%s", d.source, d.target);
            eff = defname;
        }
        json_t *prev = json_object_get(c->proj_idx, eff);
        if (prev && d.name) {
            push_key(c, "name");
            return fail(c, AT_VALUE,
                        "duplicate projection name \"%.64s\" (expected a unique name; first "
                        "used at projections[%lld])",
                        d.name, (long long)json_integer_value(prev));
        }
        if (prev)
            return fail(c, AT_VALUE,
                        "duplicate projection name \"%.64s\", the default name of an unnamed "
                        "projection (expected a unique \"name\"; first used at "
                        "projections[%lld])",
                        eff, (long long)json_integer_value(prev));
        N4D__TRY(index_add(c, c->proj_idx, eff, json_integer((json_int_t)i)));

        json_t *rv = json_object_get(obj, "rule");
        char list[256];
        if (!rv)
            return missing(c, "rule", join_list(RULE_NAMES, list, sizeof list));
        push_key(c, "rule");
        N4D__TRY(get_enum(c, rv, "rule", RULE_NAMES, RULE_VALS, &d.rule));
        pop(c);
        const char *rule_name = json_string_value(rv);
        N4D__TRY(check_specific(c, obj, RULE_SPECIFIC, RULE_ALLOWED[d.rule], "rule", rule_name));

        bool present = false;
        int64_t k = 0;
        switch (d.rule) {
        case N4D_RULE_FIXED_PROBABILITY:
            N4D__TRY(opt_num(c, obj, "p", &R_UNIT, &d.p, &present));
            if (!present)
                return missing(c, "p", "a probability in [0, 1]");
            break;
        case N4D_RULE_FIXED_INDEGREE:
            N4D__TRY(opt_int(c, obj, "indegree", 0, INT64_MAX, "an integer >= 0", &k, &present));
            if (!present)
                return missing(c, "indegree", "an integer >= 0, the sources per target");
            d.n = (uint64_t)k;
            break;
        case N4D_RULE_FIXED_TOTAL_NUMBER:
            N4D__TRY(opt_int(c, obj, "n", 0, INT64_MAX, "an integer >= 0", &k, &present));
            if (!present)
                return missing(c, "n", "an integer >= 0, the number of connections");
            d.n = (uint64_t)k;
            break;
        case N4D_RULE_DISTANCE: {
            d.p = 1.0;
            N4D__TRY(opt_num(c, obj, "p", &R_UNIT, &d.p, NULL));
            d.kernel = N4D_KERNEL_GAUSSIAN;
            json_t *kv = json_object_get(obj, "kernel");
            if (kv) {
                push_key(c, "kernel");
                N4D__TRY(get_enum(c, kv, "kernel", KERNEL_NAMES, KERNEL_VALS, &d.kernel));
                pop(c);
            }
            N4D__TRY(opt_num(c, obj, "sigma", &R_POS, &d.sigma, &present));
            if (!present)
                return missing(c, "sigma", "a kernel width > 0 in lattice units");
            d.cutoff = INFINITY;
            N4D__TRY(opt_num(c, obj, "cutoff", &R_POS, &d.cutoff, NULL));
            break;
        }
        default:
            break;
        }
        json_t *wv = json_object_get(obj, "weight");
        if (wv) {
            push_key(c, "weight");
            N4D__TRY(parse_dist(c, wv, false, &d.weight));
            pop(c);
        }
        json_t *dv = json_object_get(obj, "delay");
        if (dv) {
            push_key(c, "delay");
            N4D__TRY(parse_dist(c, dv, true, &d.delay));
            pop(c);
        }
        d.syn_type = N4D_SYN_AUTO;
        json_t *tv = json_object_get(obj, "type");
        if (tv) {
            push_key(c, "type");
            N4D__TRY(get_enum(c, tv, "synapse type", SYN_NAMES, SYN_VALS, &d.syn_type));
            pop(c);
        }
        N4D__TRY(opt_bool(c, obj, "allow_autapses", &d.allow_autapses));
        N4D__TRY(opt_bool(c, obj, "allow_multapses", &d.allow_multapses));
        json_t *sv = json_object_get(obj, "synapse");
        n4d_param_value spv[N4D__MAX_SYN_PARAMS];
        if (sv) /* {"model": NAME, PARAM: VALUE...}: a registered synapse model */
            N4D__TRY(parse_synapse(c, sv, &d, spv));
        else if (c->default_synapse) { /* a 4DNC config's plasticity section */
            d.synapse_model = c->default_synapse;
            d.synapse_params = c->default_synapse_params;
            d.n_synapse_params = c->n_default_synapse_params;
        }
        conn_arrays ca = {0};
        n4d_status st = N4D_OK;
        if (d.rule == N4D_RULE_EXPLICIT)
            st = load_connections(c, obj, &d, &ca);
        if (!st)
            st = api(c, n4d_model_add_projection(c->m, &d, NULL));
        free_conn(c->ctx, &ca);
        N4D__TRY(st);
        pop(c);
    }
    pop(c);
    return N4D_OK;
}

/* The arrays of a spike or current input, freed by free_arrays. */
typedef struct input_arrays {
    double *times, *values;
    uint32_t *indices, *neurons;
    size_t n_times, n_values, n_neurons;
} input_arrays;

static void free_arrays(n4d_context *ctx, input_arrays *a)
{
    n4d__free(ctx, N4D_MEM_OTHER, a->times, (a->n_times ? a->n_times : 1) * sizeof(double));
    n4d__free(ctx, N4D_MEM_OTHER, a->values, (a->n_values ? a->n_values : 1) * sizeof(double));
    n4d__free(ctx, N4D_MEM_OTHER, a->indices, (a->n_times ? a->n_times : 1) * sizeof(uint32_t));
    n4d__free(ctx, N4D_MEM_OTHER, a->neurons, (a->n_neurons ? a->n_neurons : 1) * sizeof(uint32_t));
    memset(a, 0, sizeof *a);
}

/* Array `key` of obj (required when `need`): n numbers in range r into a
 * new array *out, checked at their paths; *n its length. */
static n4d_status num_array(cfg *c, json_t *obj, const char *key, const range *r, bool need,
                            double **out, size_t *n)
{
    json_t *a = json_object_get(obj, key);
    if (!a)
        return need ? missing(c, key, "an array of numbers") : N4D_OK;
    push_key(c, key);
    N4D__TRY(want(c, a, JSON_ARRAY, "an array of numbers"));
    const size_t len = json_array_size(a);
    if (!(*out = n4d__alloc(c->ctx, N4D_MEM_OTHER, (len ? len : 1) * sizeof(double))))
        return nomem(c);
    *n = len; /* the size the caller frees */
    for (size_t k = 0; k < len; k++) {
        push_idx(c, k);
        N4D__TRY(get_num(c, json_array_get(a, k), r, &(*out)[k]));
        pop(c);
    }
    pop(c);
    return N4D_OK;
}

/* The fields of a spike, step_current, ac or noise input into d (arrays
 * in *a, which the caller frees). */
static n4d_status load_input_fields(cfg *c, json_t *obj, n4d_input_desc *d, input_arrays *a)
{
    bool present = false;
    json_t *nv = json_object_get(obj, "neurons");
    if (nv) { /* indices within the target; checked against its size at the build */
        push_key(c, "neurons");
        N4D__TRY(want(c, nv, JSON_ARRAY, "an array of neuron indices"));
        a->n_neurons = json_array_size(nv);
        if (!(a->neurons = n4d__alloc(c->ctx, N4D_MEM_OTHER,
                                      (a->n_neurons ? a->n_neurons : 1) * sizeof(uint32_t))))
            return nomem(c);
        for (size_t k = 0; k < a->n_neurons; k++) {
            int64_t x;
            push_idx(c, k);
            N4D__TRY(get_int(c, json_array_get(nv, k), 0, UINT32_MAX,
                             "a neuron index >= 0 (within the target population)", &x));
            a->neurons[k] = (uint32_t)x;
            pop(c);
        }
        pop(c);
        d->neurons = a->neurons;
        d->n_neurons = a->n_neurons;
    }
    switch (d->kind) {
    case N4D_INPUT_SPIKES: {
        json_t *st = json_object_get(obj, "spike_times");
        if (!st)
            return missing(c, "spike_times",
                           "an array with the spike times (ms) of each neuron of the target");
        push_key(c, "spike_times");
        N4D__TRY(want(c, st, JSON_ARRAY, "an array of arrays of spike times (ms), one per neuron"));
        size_t total = 0;
        for (size_t i = 0; i < json_array_size(st); i++) {
            push_idx(c, i);
            N4D__TRY(want(c, json_array_get(st, i), JSON_ARRAY,
                          "an array of spike times (ms) of neuron i of the target"));
            total += json_array_size(json_array_get(st, i));
            pop(c);
        }
        a->n_times = total;
        a->times = n4d__alloc(c->ctx, N4D_MEM_OTHER, (total ? total : 1) * sizeof(double));
        a->indices = n4d__alloc(c->ctx, N4D_MEM_OTHER, (total ? total : 1) * sizeof(uint32_t));
        if (!a->times || !a->indices)
            return nomem(c);
        if (json_array_size(st) > UINT32_MAX)
            return fail(c, AT_VALUE, "more than 2^32 neurons");
        size_t k = 0;
        for (size_t i = 0; i < json_array_size(st); i++) {
            json_t *ti = json_array_get(st, i);
            push_idx(c, i);
            for (size_t j = 0; j < json_array_size(ti); j++, k++) {
                push_idx(c, j);
                N4D__TRY(get_num(c, json_array_get(ti, j), &R_NONNEG, &a->times[k]));
                a->indices[k] = (uint32_t)i;
                pop(c);
            }
            pop(c);
        }
        pop(c);
        d->times = a->times;
        d->indices = a->indices;
        d->n_times = a->n_times;
        d->weight = 1.0;
        N4D__TRY(opt_num(c, obj, "weight", &R_ANY, &d->weight, NULL));
        break;
    }
    case N4D_INPUT_STEP_CURRENT: {
        N4D__TRY(num_array(c, obj, "times", &R_NONNEG, true, &a->times, &a->n_times));
        N4D__TRY(num_array(c, obj, "amplitudes", &R_ANY, true, &a->values, &a->n_values));
        const size_t nt = a->n_times, na = a->n_values;
        if (na != nt) {
            push_key(c, "amplitudes");
            return fail(c, AT_VALUE, "%zu amplitudes for %zu times (expected one per time)", na,
                        nt);
        }
        for (size_t k = 1; k < nt; k++)
            if (!(a->times[k] > a->times[k - 1])) {
                push_key(c, "times");
                push_idx(c, k);
                return fail(c, AT_VALUE, "%g is not after %g (expected ascending times)",
                            a->times[k], a->times[k - 1]);
            }
        d->times = a->times;
        d->values = a->values;
        d->n_times = nt;
        break;
    }
    case N4D_INPUT_AC:
        N4D__TRY(opt_num(c, obj, "amplitude", &R_ANY, &d->amplitude, &present));
        if (!present)
            return missing(c, "amplitude", "a number (same unit as i_e)");
        N4D__TRY(opt_num(c, obj, "offset", &R_ANY, &d->offset, NULL));
        N4D__TRY(opt_num(c, obj, "frequency", &R_NONNEG, &d->frequency, &present));
        if (!present)
            return missing(c, "frequency", "a frequency >= 0 in Hz");
        N4D__TRY(opt_num(c, obj, "phase", &R_ANY, &d->phase, NULL));
        break;
    default: /* noise */
        N4D__TRY(opt_num(c, obj, "mean", &R_ANY, &d->amplitude, NULL));
        N4D__TRY(opt_num(c, obj, "std", &R_NONNEG, &d->std, &present));
        if (!present)
            return missing(c, "std", "a standard deviation >= 0 (same unit as i_e)");
        N4D__TRY(opt_num(c, obj, "interval", &R_NONNEG, &d->interval, NULL));
        break;
    }
    return N4D_OK;
}

n4d_status n4d__cfg_load_inputs(cfg *c, json_t *root)
{
    json_t *inputs = json_object_get(root, "inputs");
    if (!inputs)
        return N4D_OK;
    push_key(c, "inputs");
    N4D__TRY(want(c, inputs, JSON_ARRAY, "an array of inputs"));
    for (size_t i = 0; i < json_array_size(inputs); i++) {
        json_t *obj = json_array_get(inputs, i);
        n4d_input_desc d;
        n4d_input_desc_init(&d);
        push_idx(c, i);
        N4D__TRY(want(c, obj, JSON_OBJECT, "an input object"));
        N4D__TRY(check_keys(c, obj, INPUT_KEYS));
        json_t *tv = json_object_get(obj, "type");
        if (!tv)
            return missing(c, "type",
                           "\"dc\", \"poisson\", \"spikes\", \"step_current\", \"ac\" or \"noise\"");
        push_key(c, "type");
        N4D__TRY(get_enum(c, tv, "input type", INPUT_NAMES, INPUT_VALS, &d.kind));
        pop(c);
        N4D__TRY(check_specific(c, obj, INPUT_SPECIFIC, INPUT_ALLOWED[d.kind], "input type",
                           json_string_value(tv)));
        N4D__TRY(pop_ref(c, obj, "target", &d.target));
        bool present = false;
        input_arrays arr = {0};
        if (d.kind >= N4D_INPUT_SPIKES) {
            n4d_status st = load_input_fields(c, obj, &d, &arr);
            if (!st) {
                st = opt_num(c, obj, "start", &R_NONNEG, &d.start, NULL);
                if (!st)
                    st = opt_num(c, obj, "stop", &R_NONNEG, &d.stop, &present);
                if (!st && present && d.stop < d.start) {
                    push_key(c, "stop");
                    st = fail(c, AT_VALUE, "%g is before start %g (expected stop >= start)",
                              d.stop, d.start);
                }
                if (!st)
                    st = api(c, n4d_model_add_input(c->m, &d));
            }
            free_arrays(c->ctx, &arr);
            N4D__TRY(st);
            pop(c);
            continue;
        }
        if (d.kind == N4D_INPUT_DC) {
            N4D__TRY(opt_num(c, obj, "amplitude", &R_ANY, &d.amplitude, &present));
            if (!present)
                return missing(c, "amplitude", "a number (same unit as i_e)");
        } else {
            N4D__TRY(opt_num(c, obj, "rate", &R_NONNEG, &d.rate, &present));
            if (!present)
                return missing(c, "rate", "a rate >= 0 in Hz");
            d.weight = 1.0;
            N4D__TRY(opt_num(c, obj, "weight", &R_ANY, &d.weight, NULL));
            int64_t ns = 1;
            N4D__TRY(opt_int(c, obj, "n_sources", 1, UINT32_MAX, "an integer >= 1", &ns, NULL));
            d.n_sources = (uint32_t)ns;
            json_t *sv = json_object_get(obj, "sampling");
            if (sv) {
                push_key(c, "sampling");
                N4D__TRY(get_enum(c, sv, "Poisson sampling", SAMPLING_NAMES, SAMPLING_VALS,
                                  &d.sampling));
                pop(c);
            }
        }
        d.start = 0.0;
        d.stop = INFINITY;
        N4D__TRY(opt_num(c, obj, "start", &R_NONNEG, &d.start, NULL));
        N4D__TRY(opt_num(c, obj, "stop", &R_NONNEG, &d.stop, &present));
        if (present && d.stop < d.start) {
            push_key(c, "stop");
            return fail(c, AT_VALUE, "%g is before start %g (expected stop >= start)", d.stop,
                        d.start);
        }
        N4D__TRY(api(c, n4d_model_add_input(c->m, &d)));
        pop(c);
    }
    pop(c);
    return N4D_OK;
}
