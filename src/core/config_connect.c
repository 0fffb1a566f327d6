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
    "weight", "delay", "type", "allow_autapses", "allow_multapses", "synapse", NULL};
static const char *const INPUT_KEYS[] = {"type", "target", "amplitude", "rate", "weight",
                                         "n_sources", "sampling", "start", "stop", NULL};
static const char *const RULE_NAMES[] = {"fixed_probability", "fixed_indegree",
                                         "fixed_total_number", "one_to_one", "all_to_all",
                                         "distance", NULL};
static const int32_t RULE_VALS[] = {N4D_RULE_FIXED_PROBABILITY, N4D_RULE_FIXED_INDEGREE,
                                    N4D_RULE_FIXED_TOTAL_NUMBER, N4D_RULE_ONE_TO_ONE,
                                    N4D_RULE_ALL_TO_ALL, N4D_RULE_DISTANCE};
/* Keys that only some rules take: allowed and required ones, by rule. */
static const char *const RULE_SPECIFIC[] = {"p", "indegree", "n", "kernel", "sigma", "cutoff",
                                            "allow_multapses", NULL};
static const char *const RULE_ALLOWED[6][5] = {
    {"p", NULL},
    {"indegree", "allow_multapses", NULL},
    {"n", "allow_multapses", NULL},
    {NULL},
    {NULL},
    {"p", "kernel", "sigma", "cutoff", NULL}};
static const char *const KERNEL_NAMES[] = {"gaussian", "exponential", NULL};
static const int32_t KERNEL_VALS[] = {N4D_KERNEL_GAUSSIAN, N4D_KERNEL_EXPONENTIAL};
static const char *const SYN_NAMES[] = {"excitatory", "inhibitory", NULL};
static const int32_t SYN_VALS[] = {N4D_SYN_EXCITATORY, N4D_SYN_INHIBITORY};
static const char *const INPUT_NAMES[] = {"dc", "poisson", NULL};
static const int32_t INPUT_VALS[] = {N4D_INPUT_DC, N4D_INPUT_POISSON};
static const char *const INPUT_ALLOWED[2][5] = {{"amplitude", NULL},
                                                {"rate", "weight", "n_sources", "sampling", NULL}};
static const char *const INPUT_SPECIFIC[] = {"amplitude", "rate", "weight", "n_sources",
                                             "sampling", NULL};
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
        N4D__TRY(api(c, n4d_model_add_projection(c->m, &d, NULL)));
        pop(c);
    }
    pop(c);
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
            return missing(c, "type", "\"dc\" or \"poisson\"");
        push_key(c, "type");
        N4D__TRY(get_enum(c, tv, "input type", INPUT_NAMES, INPUT_VALS, &d.kind));
        pop(c);
        N4D__TRY(check_specific(c, obj, INPUT_SPECIFIC, INPUT_ALLOWED[d.kind], "input type",
                           json_string_value(tv)));
        N4D__TRY(pop_ref(c, obj, "target", &d.target));
        bool present = false;
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
