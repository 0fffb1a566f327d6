/* JSON config loader (docs/config.md): parses with jansson, validates the
 * document strictly and describes the model through the public API. Errors
 * read "FILE:LINE:COL: KEY.PATH: message (expected ...)"; positions come from
 * json_pos.c since jansson keeps none for values. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* strerror_r */
#endif

#include "config.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- key lists ----------------------------------------------------------- */

static const char *const TOP_KEYS[] = {
    "name", "dt", "seed", "duration", "lattice_shape", "model_version", "dimensions",
    "neuron_model", "neuron_density", "areas", "senses", "populations", "projections", "inputs",
    "plasticity", "cell_lifecycle", "neuromodulation", NULL};
/* 4D Neural Cognition sections that n4d does not implement yet. */
static const char *const NC_SECTIONS[] = {NULL};
static const char *const LIFECYCLE_KEYS[] = {"enable_death", "enable_reproduction", "max_age",
                                             "health_decay_per_step", "mutation_std_params",
                                             "mutation_std_weights", NULL};
static const char *const PLASTICITY_KEYS[] = {"rule", "learning_rate", "weight_min", "weight_max",
                                              "weight_decay", "homeostatic", "metaplasticity",
                                              "short_term", NULL};
static const char *const NEURON_MODEL_KEYS[] = {"type", "model_type", "params_default", NULL};
static const char *const AREA_KEYS[] = {"name", "coord_ranges", "sense", "density", NULL};
static const char *const AXES[] = {"x", "y", "z", "w", NULL};
static const char *const SENSE_KEYS[] = {"areal", "w_index", "input_size", "input_description",
                                         "enabled", NULL};
static const char *const POP_KEYS[] = {"name", "area", "model", "preset", "params",
                                       "count", "density", "v_init", "homeostasis", "lifecycle",
                                       NULL};
static const char *const HOMEO_KEYS[] = {"target_rate", "window", "eta", "scale_min", "scale_max",
                                         NULL};

/* ---- checked JSON (json_check.h) -------------------------------------------- */

/* The config's errors: "SRC:LINE:COL: PATH: message", N4D_E_CONFIG. */
static n4d_status report(void *user, const char *path, int line, int col, const char *msg)
{
    cfg *c = user;
    return n4d__error(&c->ctx->hdr, N4D_E_CONFIG, "%s:%d:%d: %s: %s", c->src, line, col, path,
                      msg);
}

/* ---- neuron models and parameters (the registry) ------------------------- */

/* A neuron model by name; "LIF" is 4D Neural Cognition's name of "lif". */
static n4d_status get_model(cfg *c, json_t *v, const n4d__neuron_model **out)
{
    char list[512];
    size_t len = 0;
    list[0] = '\0';
    for (int32_t i = 0; i < n4d__neuron_model_count() && len < sizeof list; i++)
        len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "",
                                n4d__neuron_model_at(i)->name);
    if (!json_is_string(v))
        return fail(c, AT_VALUE, "got %s (expected one of: %s)", type_name(v), list);
    const char *s = json_string_value(v);
    const n4d__neuron_model *nm = n4d__neuron_model_by_name(strcmp(s, "LIF") == 0 ? "lif" : s);
    if (!nm)
        return fail(c, AT_VALUE, "unknown neuron model \"%.64s\" (expected one of: %s)", s, list);
    *out = nm;
    return N4D_OK;
}

/* Applies a params object (at the current path) of model nm over q. */
static n4d_status apply_params(cfg *c, json_t *obj, const n4d__neuron_model *nm, double *q)
{
    N4D__TRY(want(c, obj, JSON_OBJECT, "an object of neuron parameters"));
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        const int32_t k = n4d__param_index(nm, key);
        push_key(c, key);
        if (k < 0) {
            char names[512], hint[96] = "";
            const char *best = NULL;
            size_t bestd = SIZE_MAX;
            for (int32_t j = 0; j < nm->h->n_params; j++) {
                size_t dd = n4d__json_edit_distance(key, nm->h->params[j].name);
                if (dd < bestd) {
                    bestd = dd;
                    best = nm->h->params[j].name;
                }
            }
            if (best && bestd <= 2 && bestd < strlen(key))
                snprintf(hint, sizeof hint, ", did you mean \"%s\"?", best);
            return fail(c, AT_KEY,
                        "unknown parameter \"%.64s\" of model \"%s\"%s (expected one of: %s)", key,
                        nm->name, hint, n4d__param_names(nm, names, sizeof names));
        }
        const n4d__param_def *d = &nm->h->params[k];
        if (d->alias && strcmp(key, d->alias) == 0 && json_object_get(obj, d->name))
            return fail(c, AT_KEY, "\"%s\" is an alias of \"%s\", both are given (expected one of them)",
                        key, d->name);
        char expect[160], rtext[80];
        n4d__param_range_text(nm, k, rtext, sizeof rtext);
        if (strcmp(rtext, "any finite number") == 0)
            snprintf(expect, sizeof expect, "a number, parameter of model \"%s\"", nm->name);
        else
            snprintf(expect, sizeof expect, "a number %s, parameter of model \"%s\"", rtext,
                     nm->name);
        const range r = {d->lo, d->hi, (d->flags & N4D__LO_OPEN) != 0, expect};
        N4D__TRY(get_num(c, v, &r, &q[k]));
        pop(c);
    }
    return N4D_OK;
}

/* Parameters of a population of model nm into q: defaults, the preset
 * (pv, may be NULL, at the current path's "preset" key), then
 * neuron_model.params_default when its type is nm, then `own` (at the
 * current path's "params" key; may be NULL). */
static n4d_status population_params(cfg *c, const n4d__neuron_model *nm, json_t *pv, json_t *own,
                                    double *q)
{
    n4d__param_defaults(nm, q);
    if (pv) {
        push_key(c, "preset");
        if (nm->h->n_presets == 0)
            return fail(c, AT_KEY,
                        "model \"%s\" has no presets (expected no \"preset\" for this model)",
                        nm->name);
        const char *names[16];
        int32_t np = nm->h->n_presets < 15 ? nm->h->n_presets : 15, k = 0;
        for (int32_t i = 0; i < np; i++)
            names[i] = nm->h->presets[i].name;
        names[np] = NULL;
        static const int32_t idx[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
        N4D__TRY(get_enum(c, pv, "preset", names, idx, &k));
        const n4d__preset_def *ps = &nm->h->presets[k];
        for (int32_t j = 0; j < ps->n_values; j++)
            q[n4d__param_index(nm, ps->values[j].name)] = ps->values[j].value;
        pop(c);
    }
    if (c->params_default && nm == c->default_model)
        N4D__TRY(apply_params(c, c->params_default, nm, q)); /* validated with neuron_model: cannot fail */
    if (own) {
        push_key(c, "params");
        N4D__TRY(apply_params(c, own, nm, q));
        pop(c);
    }
    return N4D_OK;
}

/* The parameters q of nm as name/value pairs for a population desc. */
static void param_pairs(const n4d__neuron_model *nm, const double *q, n4d_param_value *pairs,
                        n4d_population_desc *d)
{
    for (int32_t k = 0; k < nm->h->n_params; k++) {
        pairs[k].name = nm->h->params[k].name;
        pairs[k].value = q[k];
    }
    d->model_name = nm->name;
    d->params = pairs;
    d->n_params = (uint32_t)nm->h->n_params;
}

/* ---- sections ------------------------------------------------------------ */

static n4d_status load_lattice(cfg *c, json_t *root)
{
    json_t *v = json_object_get(root, "dimensions");
    if (v) {
        int64_t dims = 0;
        push_key(c, "dimensions");
        N4D__TRY(get_int(c, v, INT64_MIN, INT64_MAX, "4", &dims));
        if (dims != 4)
            return fail(c, AT_VALUE, "%lld dimensions are not supported (expected 4)",
                        (long long)dims);
        pop(c);
    }
    v = json_object_get(root, "model_version");
    if (v) {
        push_key(c, "model_version");
        N4D__TRY(want(c, v, json_is_integer(v) ? JSON_INTEGER : JSON_REAL, "a number"));
        pop(c);
    }
    N4D__TRY(opt_string(c, root, "name"));

    v = json_object_get(root, "lattice_shape");
    if (!v)
        return missing(c, "lattice_shape", "[X, Y, Z, W], four positive integers");
    push_key(c, "lattice_shape");
    N4D__TRY(want(c, v, JSON_ARRAY, "[X, Y, Z, W], four positive integers"));
    if (json_array_size(v) != 4)
        return fail(c, AT_VALUE, "%zu elements (expected [X, Y, Z, W], four positive integers)",
                    json_array_size(v));
    for (size_t d = 0; d < 4; d++) {
        int64_t x = 0;
        push_idx(c, d);
        N4D__TRY(get_int(c, json_array_get(v, d), 1, INT32_MAX, "a positive integer", &x));
        c->shape[d] = (uint32_t)x;
        pop(c);
    }
    N4D__TRY(api(c, n4d_model_set_lattice(c->m, c->shape)));
    pop(c);

    double dt = 0.0;
    bool present = false;
    N4D__TRY(opt_num(c, root, "dt", &R_POS, &dt, &present));
    if (present) {
        push_key(c, "dt");
        N4D__TRY(api(c, n4d_model_set_dt(c->m, dt)));
        pop(c);
    } else if (json_object_get(root, "model_version")) {
        /* a 4D Neural Cognition config: its step is 1 ms */
        N4D__TRY(api(c, n4d_model_set_dt(c->m, 1.0)));
    }
    int64_t seed = 0;
    N4D__TRY(opt_int(c, root, "seed", 0, INT64_MAX, "an integer >= 0", &seed, &present));
    if (present) {
        push_key(c, "seed");
        N4D__TRY(api(c, n4d_model_set_seed(c->m, (uint64_t)seed)));
        pop(c);
    }
    double duration = 0.0;
    N4D__TRY(opt_num(c, root, "duration", &R_POS, &duration, &present));
    if (present)
        c->m->default_duration = duration;
    return N4D_OK;
}

static n4d_status load_neuron_model(cfg *c, json_t *root)
{
    c->default_model = n4d__neuron_model_by_id(N4D_NEURON_LIF);
    json_t *nm = json_object_get(root, "neuron_model");
    if (!nm)
        return N4D_OK;
    push_key(c, "neuron_model");
    N4D__TRY(want(c, nm, JSON_OBJECT, "an object with \"type\" and \"params_default\""));
    N4D__TRY(check_keys(c, nm, NEURON_MODEL_KEYS));
    const char *type_key = json_object_get(nm, "type") ? "type" : "model_type";
    json_t *t = json_object_get(nm, type_key);
    if (t && json_object_get(nm, "type") && json_object_get(nm, "model_type")) {
        push_key(c, "model_type");
        return fail(c, AT_KEY, "both \"type\" and its alias \"model_type\" are given (expected one)");
    }
    if (t) {
        push_key(c, type_key);
        N4D__TRY(get_model(c, t, &c->default_model));
        pop(c);
    }
    json_t *pd = json_object_get(nm, "params_default");
    if (pd) {
        double scratch[N4D__MAX_PARAMS];
        n4d__param_defaults(c->default_model, scratch);
        push_key(c, "params_default");
        N4D__TRY(apply_params(c, pd, c->default_model, scratch));
        pop(c);
        c->params_default = pd;
    }
    pop(c);
    return N4D_OK;
}

static uint64_t area_sites(const area_info *a)
{
    uint64_t n = 1;
    for (int d = 0; d < 4; d++) {
        uint64_t e = (uint64_t)((int64_t)a->hi[d] - a->lo[d] + 1);
        if (n > UINT64_MAX / e)
            return UINT64_MAX;
        n *= e;
    }
    return n;
}

static n4d_status load_areas(cfg *c, json_t *root)
{
    json_t *areas = json_object_get(root, "areas");
    if (!areas)
        return N4D_OK;
    push_key(c, "areas");
    N4D__TRY(want(c, areas, JSON_ARRAY, "an array of areas"));
    size_t n = json_array_size(areas);
    if (n == 0) {
        pop(c);
        return N4D_OK;
    }
    c->areas = n4d__calloc(c->ctx, N4D_MEM_OTHER, n, sizeof *c->areas);
    if (!c->areas)
        return nomem(c);
    c->n_areas = n;
    for (size_t i = 0; i < n; i++) {
        area_info *a = &c->areas[i];
        json_t *obj = json_array_get(areas, i);
        push_idx(c, i);
        N4D__TRY(want(c, obj, JSON_OBJECT, "an area object"));
        N4D__TRY(check_keys(c, obj, AREA_KEYS));
        a->obj = obj;
        N4D__TRY(req_name(c, obj, "name", "a non-empty string", &a->name));
        json_t *prev = json_object_get(c->area_idx, a->name);
        if (prev) {
            push_key(c, "name");
            return fail(c, AT_VALUE,
                        "duplicate area name \"%.64s\" (expected a unique name; first used at "
                        "areas[%lld])",
                        a->name, (long long)json_integer_value(prev));
        }
        json_t *cr = json_object_get(obj, "coord_ranges");
        if (!cr)
            return missing(c, "coord_ranges",
                           "{\"x\": [lo, hi], \"y\": [lo, hi], \"z\": [lo, hi], \"w\": [lo, hi]}");
        push_key(c, "coord_ranges");
        N4D__TRY(want(c, cr, JSON_OBJECT,
                 "{\"x\": [lo, hi], \"y\": [lo, hi], \"z\": [lo, hi], \"w\": [lo, hi]}"));
        N4D__TRY(check_keys(c, cr, AXES));
        for (int d = 0; d < 4; d++) {
            json_t *rv = json_object_get(cr, AXES[d]);
            if (!rv)
                return missing(c, AXES[d], "[lo, hi], inclusive lattice coordinates");
            push_key(c, AXES[d]);
            if (!json_is_array(rv) || json_array_size(rv) != 2)
                return fail(c, AT_VALUE,
                            "got %s%s (expected [lo, hi], two integers, inclusive lattice "
                            "coordinates)",
                            type_name(rv), json_is_array(rv) ? " of another size" : "");
            int64_t b[2] = {0, 0};
            for (size_t k = 0; k < 2; k++) {
                char expect[96];
                snprintf(expect, sizeof expect,
                         "an integer in [0, %u]: lattice_shape[%d] is %u", c->shape[d] - 1, d,
                         c->shape[d]);
                push_idx(c, k);
                json_t *bv = json_array_get(rv, k);
                N4D__TRY(get_int(c, bv, INT64_MIN, INT64_MAX, expect, &b[k]));
                if (b[k] < 0 || b[k] >= (int64_t)c->shape[d])
                    return fail(c, AT_VALUE, "%lld is outside the lattice (expected %s)",
                                (long long)b[k], expect);
                pop(c);
            }
            if (b[0] > b[1])
                return fail(c, AT_VALUE, "lo %lld > hi %lld (expected lo <= hi)",
                            (long long)b[0], (long long)b[1]);
            a->lo[d] = (int32_t)b[0];
            a->hi[d] = (int32_t)b[1];
            pop(c);
        }
        pop(c);
        N4D__TRY(opt_num(c, obj, "density", &R_UNIT, &(double){0}, NULL));
        N4D__TRY(opt_string(c, obj, "sense"));
        N4D__TRY(api(c, n4d_model_add_area(c->m, a->name, a->lo, a->hi)));
        N4D__TRY(index_add(c, c->area_idx, a->name, json_integer((json_int_t)i)));
        pop(c);
    }
    pop(c);
    return N4D_OK;
}

static n4d_status load_senses(cfg *c, json_t *root)
{
    json_t *senses = json_object_get(root, "senses");
    if (senses) {
        const char *name;
        json_t *s;
        push_key(c, "senses");
        N4D__TRY(want(c, senses, JSON_OBJECT, "an object of senses by name"));
        json_object_foreach(senses, name, s) {
            push_key(c, name);
            if (name[0] == '\0')
                return fail(c, AT_KEY, "empty sense name (expected a non-empty name)");
            N4D__TRY(want(c, s, JSON_OBJECT, "a sense object"));
            N4D__TRY(check_keys(c, s, SENSE_KEYS));
            const char *areal;
            N4D__TRY(req_name(c, s, "areal", "the name of an area", &areal));
            push_key(c, "areal");
            N4D__TRY(check_ref(c, c->area_idx, "area", areal, "no areas are defined"));
            pop(c);
            const area_info *a =
                &c->areas[json_integer_value(json_object_get(c->area_idx, areal))];
            int64_t w = 0;
            bool has_w = false;
            N4D__TRY(opt_int(c, s, "w_index", 0, (int64_t)c->shape[3] - 1,
                        "an integer in the lattice's w range", &w, &has_w));
            if (has_w && (w < a->lo[3] || w > a->hi[3])) {
                push_key(c, "w_index");
                return fail(c, AT_VALUE,
                            "%lld is outside area \"%.64s\" (expected its w range %d..%d)",
                            (long long)w, areal, a->lo[3], a->hi[3]);
            }
            uint32_t rc[2] = {(uint32_t)(a->hi[0] - a->lo[0] + 1),
                              (uint32_t)(a->hi[1] - a->lo[1] + 1)};
            json_t *sz = json_object_get(s, "input_size");
            if (sz) {
                push_key(c, "input_size");
                if (!json_is_array(sz) || json_array_size(sz) != 2)
                    return fail(c, AT_VALUE, "got %s%s (expected [rows, cols], two positive integers)",
                                type_name(sz), json_is_array(sz) ? " of another size" : "");
                for (size_t k = 0; k < 2; k++) {
                    int64_t x = 0;
                    push_idx(c, k);
                    N4D__TRY(get_int(c, json_array_get(sz, k), 1, UINT32_MAX, "a positive integer",
                                &x));
                    rc[k] = (uint32_t)x;
                    pop(c);
                }
                pop(c);
            }
            N4D__TRY(opt_string(c, s, "input_description"));
            json_t *en = json_object_get(s, "enabled");
            if (en) {
                push_key(c, "enabled");
                N4D__TRY(want(c, en, json_is_true(en) ? JSON_TRUE : JSON_FALSE, "true or false"));
                pop(c);
            }
            N4D__TRY(api(c, n4d_model_add_sense(c->m, name, areal, rc[0], rc[1])));
            N4D__TRY(index_add(c, c->sense_idx, name, json_string(areal)));
            pop(c);
        }
        pop(c);
    }
    /* areas[].sense must name a sense that feeds that area */
    for (size_t i = 0; i < c->n_areas; i++) {
        json_t *sv = json_object_get(c->areas[i].obj, "sense");
        if (!sv)
            continue;
        const char *sname = json_string_value(sv);
        push_key(c, "areas");
        push_idx(c, i);
        push_key(c, "sense");
        N4D__TRY(check_ref(c, c->sense_idx, "sense", sname, "there is no \"senses\" section"));
        const char *fed = json_string_value(json_object_get(c->sense_idx, sname));
        if (strcmp(fed, c->areas[i].name) != 0)
            return fail(c, AT_VALUE,
                        "sense \"%.64s\" feeds area \"%.64s\" (expected a sense whose "
                        "\"areal\" is \"%.64s\")",
                        sname, fed, c->areas[i].name);
        c->jc.depth -= 3;
    }
    return N4D_OK;
}

static n4d_status add_pop_index(cfg *c, const char *name, size_t i)
{
    return index_add(c, c->pop_idx, name, json_integer((json_int_t)i));
}

/* A lifecycle object (a population's "lifecycle" or the 4DNC
 * "cell_lifecycle" section) over *l, at the current path. */
static n4d_status parse_lifecycle(cfg *c, json_t *obj, n4d_lifecycle *l)
{
    N4D__TRY(want(c, obj, JSON_OBJECT, "an object"));
    N4D__TRY(check_keys(c, obj, LIFECYCLE_KEYS));
    N4D__TRY(opt_bool(c, obj, "enable_death", &l->enable_death));
    N4D__TRY(opt_bool(c, obj, "enable_reproduction", &l->enable_reproduction));
    for (const char *const *k = LIFECYCLE_KEYS + 2; *k; k++) {
        double *dst = k == LIFECYCLE_KEYS + 2   ? &l->max_age
                      : k == LIFECYCLE_KEYS + 3 ? &l->health_decay_per_step
                      : k == LIFECYCLE_KEYS + 4 ? &l->mutation_std_params
                                                : &l->mutation_std_weights;
        N4D__TRY(opt_num(c, obj, *k, &R_NONNEG, dst, NULL));
    }
    return N4D_OK;
}

/* The lifecycle of population `name` (its own object `own`, else the
 * cell_lifecycle section), at the population's path. */
static n4d_status pop_lifecycle(cfg *c, const char *name, json_t *own)
{
    if (!own && !c->has_life)
        return N4D_OK;
    n4d_lifecycle l = c->life;
    if (own) {
        if (!c->has_life)
            l.enable_death = 0;
        push_key(c, "lifecycle");
        N4D__TRY(parse_lifecycle(c, own, &l));
        pop(c);
    }
    return api(c, n4d_model_set_population_lifecycle(c->m, name, &l));
}

/* One population per area when "populations" is absent. */
static n4d_status implicit_populations(cfg *c, json_t *root)
{
    double density = 1.0;
    N4D__TRY(opt_num(c, root, "neuron_density", &R_UNIT, &density, NULL));
    for (size_t i = 0; i < c->n_areas; i++) {
        const area_info *a = &c->areas[i];
        n4d_population_desc d;
        n4d_population_desc_init(&d);
        d.name = a->name;
        d.area = a->name;
        double q[N4D__MAX_PARAMS];
        n4d_param_value pairs[N4D__MAX_PARAMS];
        push_key(c, "areas");
        push_idx(c, i);
        N4D__TRY(population_params(c, c->default_model, NULL, NULL, q));
        param_pairs(c->default_model, q, pairs, &d);
        double dens = density;
        N4D__TRY(opt_num(c, a->obj, "density", &R_UNIT, &dens, NULL));
        d.placement = dens == 1.0 ? N4D_PLACE_ALL : N4D_PLACE_DENSITY;
        d.density = dens;
        N4D__TRY(api(c, n4d_model_add_population(c->m, &d, NULL)));
        N4D__TRY(add_pop_index(c, a->name, i));
        N4D__TRY(pop_lifecycle(c, a->name, NULL));
        c->jc.depth -= 2;
    }
    return N4D_OK;
}

/* A population's "homeostasis" object (n4d_model_set_homeostasis). */
static n4d_status parse_homeostasis(cfg *c, json_t *v, const char *pop_name)
{
    N4D__TRY(want(c, v, JSON_OBJECT, "an object with target_rate, window, eta, scale_min, "
                                     "scale_max"));
    N4D__TRY(check_keys(c, v, HOMEO_KEYS));
    n4d_homeostasis h;
    n4d_homeostasis_init(&h);
    bool has_rate = false;
    N4D__TRY(opt_num(c, v, "target_rate", &R_POS, &h.target_rate, &has_rate));
    if (!has_rate)
        return missing(c, "target_rate", "a rate > 0 in Hz");
    N4D__TRY(opt_num(c, v, "window", &R_POS, &h.window, NULL));
    N4D__TRY(opt_num(c, v, "eta", &R_POS, &h.eta, NULL));
    N4D__TRY(opt_num(c, v, "scale_min", &R_NONNEG, &h.scale_min, NULL));
    N4D__TRY(opt_num(c, v, "scale_max", &R_POS, &h.scale_max, NULL));
    return api(c, n4d_model_set_homeostasis(c->m, pop_name, &h));
}

static n4d_status load_populations(cfg *c, json_t *root)
{
    json_t *pops = json_object_get(root, "populations");
    if (!pops)
        return implicit_populations(c, root);
    push_key(c, "populations");
    N4D__TRY(want(c, pops, JSON_ARRAY, "an array of populations"));
    for (size_t i = 0; i < json_array_size(pops); i++) {
        json_t *obj = json_array_get(pops, i);
        n4d_population_desc d;
        n4d_population_desc_init(&d);
        push_idx(c, i);
        N4D__TRY(want(c, obj, JSON_OBJECT, "a population object"));
        N4D__TRY(check_keys(c, obj, POP_KEYS));
        N4D__TRY(req_name(c, obj, "name", "a non-empty string", &d.name));
        json_t *prev = json_object_get(c->pop_idx, d.name);
        if (prev) {
            push_key(c, "name");
            return fail(c, AT_VALUE,
                        "duplicate population name \"%.64s\" (expected a unique name; first "
                        "used at populations[%lld])",
                        d.name, (long long)json_integer_value(prev));
        }
        N4D__TRY(req_name(c, obj, "area", "the name of an area", &d.area));
        push_key(c, "area");
        N4D__TRY(check_ref(c, c->area_idx, "area", d.area, "no areas are defined"));
        pop(c);
        const area_info *a =
            &c->areas[json_integer_value(json_object_get(c->area_idx, d.area))];

        const n4d__neuron_model *nm = c->default_model;
        json_t *mv = json_object_get(obj, "model");
        if (mv) {
            push_key(c, "model");
            N4D__TRY(get_model(c, mv, &nm));
            pop(c);
        }
        double q[N4D__MAX_PARAMS];
        n4d_param_value pairs[N4D__MAX_PARAMS];
        N4D__TRY(population_params(c, nm, json_object_get(obj, "preset"), json_object_get(obj, "params"),
                              q));
        param_pairs(nm, q, pairs, &d);

        int64_t count = 0;
        double density = 1.0;
        bool has_count = false, has_density = false;
        uint64_t sites = area_sites(a);
        char expect[96];
        snprintf(expect, sizeof expect, "an integer in [0, %llu], the sites of area \"%.32s\"",
                 (unsigned long long)sites, a->name);
        N4D__TRY(opt_int(c, obj, "count", 0, INT64_MAX, expect, &count, &has_count));
        if (has_count && (uint64_t)count > sites) {
            push_key(c, "count");
            return fail(c, AT_VALUE, "%lld is more than the area has sites (expected %s)",
                        (long long)count, expect);
        }
        N4D__TRY(opt_num(c, obj, "density", &R_UNIT, &density, &has_density));
        if (has_count && has_density) {
            push_key(c, "density");
            return fail(c, AT_KEY,
                        "\"count\" and \"density\" are exclusive (expected one of them)");
        }
        if (has_count) {
            d.placement = N4D_PLACE_COUNT;
            d.count = (uint64_t)count;
        } else if (has_density && density != 1.0) {
            d.placement = N4D_PLACE_DENSITY;
            d.density = density;
        } else {
            d.placement = N4D_PLACE_ALL;
        }
        json_t *vi = json_object_get(obj, "v_init");
        if (vi) {
            push_key(c, "v_init");
            N4D__TRY(parse_dist(c, vi, false, &d.v_init));
            pop(c);
        }
        N4D__TRY(api(c, n4d_model_add_population(c->m, &d, NULL)));
        N4D__TRY(add_pop_index(c, d.name, i));
        json_t *hv = json_object_get(obj, "homeostasis");
        if (hv) {
            push_key(c, "homeostasis");
            N4D__TRY(parse_homeostasis(c, hv, d.name));
            pop(c);
        }
        N4D__TRY(pop_lifecycle(c, d.name, json_object_get(obj, "lifecycle")));
        pop(c);
    }
    pop(c);
    return N4D_OK;
}

/* Warnings: keys ignored because "populations" is given, and the 4D Neural
 * Cognition sections that are not implemented (all in one warning). */
static void warn_ignored(cfg *c, json_t *root)
{
    char list[512];
    size_t n = 0;
    list[0] = '\0';
    if (json_object_get(root, "populations")) {
        if (json_object_get(root, "neuron_density"))
            append(list, sizeof list, &n, "neuron_density");
        for (size_t i = 0; i < c->n_areas; i++) {
            if (!json_object_get(c->areas[i].obj, "density"))
                continue;
            char item[48];
            snprintf(item, sizeof item, "%sareas[%zu].density", n ? ", " : "", i);
            append(list, sizeof list, &n, item);
        }
        if (n)
            n4d__model_warn(c->m, "%s: used only when \"populations\" is absent, ignored: %s",
                            c->src, list);
    }
    n = 0;
    list[0] = '\0';
    for (size_t i = 0; NC_SECTIONS[i]; i++) {
        if (!json_object_get(root, NC_SECTIONS[i]))
            continue;
        if (n)
            append(list, sizeof list, &n, ", ");
        append(list, sizeof list, &n, NC_SECTIONS[i]);
    }
    if (n)
        n4d__model_warn(c->m, "%s: sections not implemented yet, ignored: %s", c->src, list);
}

/* A 4DNC "plasticity" section: every projection without a "synapse" of its
 * own gets hebb_4dnc with the section's rate, bounds and decay. */
static n4d_status load_plasticity(cfg *c, json_t *root)
{
    json_t *pv = json_object_get(root, "plasticity");
    if (!pv)
        return N4D_OK;
    push_key(c, "plasticity");
    N4D__TRY(want(c, pv, JSON_OBJECT, "an object"));
    N4D__TRY(check_keys(c, pv, PLASTICITY_KEYS));
    json_t *rule = json_object_get(pv, "rule");
    if (rule) {
        push_key(c, "rule");
        if (!json_is_string(rule) || strcmp(json_string_value(rule), "hebb_like") != 0)
            return fail(c, AT_VALUE, "got %s (expected \"hebb_like\", the rule of 4D Neural "
                        "Cognition; other rules are chosen per projection with \"synapse\")",
                        json_is_string(rule) ? json_string_value(rule) : type_name(rule));
        pop(c);
    }
    /* the section's keys are hebb_4dnc's parameters */
    const n4d__synapse_model *sm = n4d__synapse_model_by_name("hebb_4dnc");
    uint32_t n = 0;
    for (int32_t k = 0; k < sm->n_params; k++) {
        json_t *v = json_object_get(pv, sm->params[k].name);
        if (!v)
            continue;
        double x;
        push_key(c, sm->params[k].name);
        N4D__TRY(n4d__cfg_syn_param(c, v, &sm->params[k], &x));
        pop(c);
        c->default_synapse_params[n++] = (n4d_param_value){sm->params[k].name, x};
    }
    c->default_synapse = sm->name;
    c->n_default_synapse_params = n;
    for (const char *const *k = PLASTICITY_KEYS + 5; *k; k++) {
        json_t *f = json_object_get(pv, *k);
        if (f && !json_is_false(f) && !(json_is_object(f) && json_object_size(f) == 0))
            n4d__model_warn(c->m,
                            "%s: plasticity.%s is ignored, as the reference's simulation step "
                            "ignores it%s",
                            c->src, *k,
                            strcmp(*k, "homeostatic") == 0
                                ? " (a population's \"homeostasis\" turns on n4d's homeostatic "
                                  "scaling)"
                                : "");
    }
    pop(c);
    return N4D_OK;
}

static n4d_status load_root(cfg *c, json_t *root)
{
    if (!json_is_object(root))
        return fail(c, AT_VALUE, "got %s (expected an object)", type_name(root));
    if (json_object_get(root, "config") &&
        (json_object_get(root, "neurons") || json_object_get(root, "synapses"))) {
        push_key(c, "config");
        return fail(c, AT_KEY,
                    "this is a saved 4D Neural Cognition model, not a config (expected a "
                    "config: the value of its \"config\" key)");
    }
    N4D__TRY(check_keys(c, root, TOP_KEYS));
    for (size_t i = 0; NC_SECTIONS[i]; i++) {
        json_t *v = json_object_get(root, NC_SECTIONS[i]);
        if (!v)
            continue;
        push_key(c, NC_SECTIONS[i]);
        N4D__TRY(want(c, v, JSON_OBJECT, "an object"));
        pop(c);
    }
    N4D__TRY(load_lattice(c, root));
    N4D__TRY(load_neuron_model(c, root));
    N4D__TRY(load_areas(c, root));
    N4D__TRY(load_senses(c, root));
    n4d_lifecycle_init(&c->life);
    json_t *lv = json_object_get(root, "cell_lifecycle");
    if (lv) {
        push_key(c, "cell_lifecycle");
        N4D__TRY(parse_lifecycle(c, lv, &c->life));
        pop(c);
        c->has_life = true;
    }
    N4D__TRY(load_populations(c, root));
    N4D__TRY(load_plasticity(c, root));
    N4D__TRY(n4d__cfg_load_neuromodulation(c, root));
    N4D__TRY(n4d__cfg_load_projections(c, root));
    N4D__TRY(n4d__cfg_load_inputs(c, root));
    warn_ignored(c, root);
    return N4D_OK;
}

static n4d_status load_text(n4d_context *ctx, const char *text, size_t len, const char *src,
                            n4d_model **out)
{
    json_error_t err;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
    if (!root) {
        enum json_error_code code = json_error_code(&err);
        if (code == json_error_out_of_memory)
            return n4d__error(&ctx->hdr, N4D_E_NOMEM, "%s: out of memory while parsing", src);
        char path[256];
        int line, col;
        if (code == json_error_duplicate_key && err.position > 0 &&
            n4d__json_key_ending_at(text, len, (size_t)err.position, path, sizeof path, &line,
                                    &col)) {
            const char *key = strrchr(path, '.');
            return n4d__error(&ctx->hdr, N4D_E_CONFIG,
                              "%s:%d:%d: %s: duplicate key \"%s\" (expected each key once per "
                              "object)",
                              src, line, col, path, key ? key + 1 : path);
        }
        return n4d__error(&ctx->hdr, N4D_E_CONFIG, "%s:%d:%d: invalid JSON: %s", src, err.line,
                          err.column, err.text);
    }

    cfg c;
    memset(&c, 0, sizeof c);
    c.ctx = ctx;
    c.src = src;
    n4d__jc_init(&c.jc, text, len, report, &c);
    n4d_status st = N4D_OK;
    c.area_idx = json_object();
    c.sense_idx = json_object();
    c.pop_idx = json_object();
    c.proj_idx = json_object();
    if (!c.area_idx || !c.sense_idx || !c.pop_idx || !c.proj_idx)
        st = nomem(&c);
    if (st == N4D_OK) {
        st = n4d_model_create(ctx, &c.m);
        if (st == N4D_E_NOMEM)
            st = nomem(&c);
    }
    if (st == N4D_OK)
        st = load_root(&c, root);

    if (st != N4D_OK) {
        n4d_model_destroy(c.m);
        c.m = NULL;
    }
    if (c.areas)
        n4d__free(ctx, N4D_MEM_OTHER, c.areas, c.n_areas * sizeof *c.areas);
    json_decref(c.area_idx);
    json_decref(c.sense_idx);
    json_decref(c.pop_idx);
    json_decref(c.proj_idx);
    json_decref(root);
    *out = c.m;
    return st;
}

/* ---- public entry points ------------------------------------------------- */

n4d_status n4d_model_from_json_string(n4d_context *ctx, const char *json, size_t len,
                                      const char *source_name, n4d_model **out)
{
    if (out)
        *out = NULL;
    if (!n4d__is_handle(ctx, N4D__MAGIC_CONTEXT))
        return N4D_E_INVALID_ARG;
    if (!out || (!json && len))
        return n4d__error(&ctx->hdr, N4D_E_INVALID_ARG, "n4d_model_from_json_string: %s is NULL",
                          out ? "json" : "out");
    n4d__clear_error(&ctx->hdr);
    return load_text(ctx, json ? json : "", len, source_name ? source_name : "<string>", out);
}

n4d_status n4d_model_from_json_file(n4d_context *ctx, const char *path, n4d_model **out)
{
    if (out)
        *out = NULL;
    if (!n4d__is_handle(ctx, N4D__MAGIC_CONTEXT))
        return N4D_E_INVALID_ARG;
    if (!out || !path)
        return n4d__error(&ctx->hdr, N4D_E_INVALID_ARG, "n4d_model_from_json_file: %s is NULL",
                          out ? "path" : "out");
    n4d__clear_error(&ctx->hdr);
    char ebuf[128];
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        if (strerror_r(e, ebuf, sizeof ebuf) != 0)
            snprintf(ebuf, sizeof ebuf, "error %d", e);
        return n4d__error(&ctx->hdr, N4D_E_IO, "%s: cannot open: %s", path, ebuf);
    }
    void *buf = NULL;
    size_t cap = 0, n = 0;
    n4d_status st = N4D_OK;
    for (;;) {
        if (!n4d__grow(ctx, N4D_MEM_OTHER, &buf, &cap, n + 65536, 1)) {
            st = n4d__error(&ctx->hdr, N4D_E_NOMEM, "%s: out of memory while reading", path);
            break;
        }
        size_t got = fread((char *)buf + n, 1, cap - n, f);
        n += got;
        if (got == 0 || n < cap) {
            if (ferror(f)) {
                int e = errno;
                if (strerror_r(e, ebuf, sizeof ebuf) != 0)
                    snprintf(ebuf, sizeof ebuf, "error %d", e);
                st = n4d__error(&ctx->hdr, N4D_E_IO, "%s: cannot read: %s", path, ebuf);
            }
            if (feof(f) || ferror(f))
                break;
        }
    }
    fclose(f);
    if (st == N4D_OK)
        st = load_text(ctx, buf, n, path, out);
    n4d__free(ctx, N4D_MEM_OTHER, buf, cap);
    return st;
}
