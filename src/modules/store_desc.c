/* The model description: /n4d/description, the JSON text of everything
 * the model was described with (lattice, areas, populations with their
 * parameters, projections, inputs, senses), written on save and read back
 * into a new model on load (docs/storage.md). */
#include "store_model.h"
#include "json_check.h"
#include "modulators.h"

#if N4D_HAVE_HDF5

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static json_t *jnum(double v)
{
    if (isfinite(v))
        return json_real(v);
    return json_string(isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf"));
}

static json_t *jdist(const n4d_dist *d)
{
    return json_pack("{s:i,s:o,s:o,s:o,s:o}", "kind", (int)d->kind, "value", jnum(d->value),
                     "std", jnum(d->std), "lo", jnum(d->lo), "hi", jnum(d->hi));
}

/* The description below lists every field of these structs: a new field
 * must be added there (and read back) to keep loads bitwise identical. */
/* (n4d_projection_desc's explicit connections are not described: they are
 * the file's synapses; "n" holds their count) */
_Static_assert(sizeof(n4d_projection_desc) == 240 && sizeof(n4d_population_desc) == 120 &&
                   sizeof(n4d_input_desc) == 160 && sizeof(n4d_layout_options) == 16,
               "a model descriptor changed: update n4d__store_describe() and "
               "n4d__store_read_description()");

/* Description versions: 1 stored every field of the former fixed parameter
 * struct (15 values, whatever the model); 2 stores the model by name and
 * exactly its parameters, and the synapse model of each projection;
 * 3 adds each projection's synapse parameters and the plastic synapse
 * classes (an imported 4DNC model has a class but no projection). */
#define DESC_VERSION 3

/* An array of n doubles (dbl) or uint32 (u32) as JSON, NULL on failure. */
static json_t *jarray(const double *dbl, const uint32_t *u32, uint64_t n)
{
    json_t *a = json_array();
    for (uint64_t k = 0; a && k < n; k++)
        if (json_array_append_new(a, dbl ? jnum(dbl[k]) : json_integer((json_int_t)u32[k]))) {
            json_decref(a);
            return NULL;
        }
    return a;
}

/* The fields of spike and current inputs (kinds from spikes on): written
 * only for them, so the files of models without them read as before. */
static bool describe_input_arrays(json_t *o, const n4d__input *in)
{
    if (in->kind < N4D_INPUT_SPIKES)
        return true;
    bool ok = json_object_set_new(o, "offset", jnum(in->offset)) == 0 &&
              json_object_set_new(o, "frequency", jnum(in->frequency)) == 0 &&
              json_object_set_new(o, "phase", jnum(in->phase)) == 0 &&
              json_object_set_new(o, "std", jnum(in->std)) == 0 &&
              json_object_set_new(o, "interval", jnum(in->interval)) == 0;
    if (ok && in->neurons)
        ok = json_object_set_new(o, "neurons", jarray(NULL, in->neurons, in->n_neurons)) == 0;
    if (ok && in->times)
        ok = json_object_set_new(o, "times", jarray(in->times, NULL, in->n_times)) == 0;
    if (ok && in->indices)
        ok = json_object_set_new(o, "indices", jarray(NULL, in->indices, in->n_times)) == 0;
    if (ok && in->values)
        ok = json_object_set_new(o, "values", jarray(in->values, NULL, in->n_times)) == 0;
    return ok;
}

/* Parameters by name (a neuron or synapse model's table), in its order. */
static json_t *jparams(const n4d__param_def *defs, int32_t n, const double *q)
{
    json_t *o = json_object();
    for (int32_t k = 0; o && k < n; k++)
        if (json_object_set_new(o, defs[k].name, jnum(q[k]))) {
            json_decref(o);
            return NULL;
        }
    return o;
}

/* The model description as JSON text (malloc'ed by jansson), or NULL. */
char *n4d__store_describe(const n4d_model *m)
{
    json_t *root = json_object(), *areas = json_array(), *pops = json_array(),
           *projs = json_array(), *inputs = json_array(), *senses = json_array();
    bool ok = root && areas && pops && projs && inputs && senses;
    if (ok) {
        json_object_set_new(root, "format", json_string("n4d-model-description"));
        json_object_set_new(root, "version", json_integer(DESC_VERSION));
    }
    for (size_t i = 0; ok && i < m->n_areas; i++) {
        const n4d__area *a = &m->areas[i];
        ok = json_array_append_new(areas, json_pack("{s:s,s:[iiii],s:[iiii]}", "name", a->name,
                                                    "lo", a->lo[0], a->lo[1], a->lo[2], a->lo[3],
                                                    "hi", a->hi[0], a->hi[1], a->hi[2],
                                                    a->hi[3])) == 0;
    }
    for (size_t i = 0; ok && i < m->n_pops; i++) {
        const n4d__population *p = &m->pops[i];
        json_t *o = json_pack("{s:s,s:s,s:i,s:s,s:o,s:i,s:o,s:I,s:o,s:I,s:I}", "name", p->name,
                              "area", m->areas[p->area].name, "model", (int)p->model,
                              "model_name", p->nm->name, "params",
                              jparams(p->nm->h->params, p->nm->h->n_params, p->params),
                              "placement", (int)p->placement, "density", jnum(p->density),
                              "count", (json_int_t)p->count, "v_init", jdist(&p->v_init), "first",
                              (json_int_t)p->first, "n", (json_int_t)p->n);
        /* only when set, so older readers keep reading models without it */
        if (o && p->has_homeo &&
            json_object_set_new(o, "homeostasis",
                                json_pack("{s:o,s:o,s:o,s:o,s:o}", "target_rate",
                                          jnum(p->homeo.target_rate), "window",
                                          jnum(p->homeo.window), "eta", jnum(p->homeo.eta),
                                          "scale_min", jnum(p->homeo.scale_min), "scale_max",
                                          jnum(p->homeo.scale_max))) != 0) {
            json_decref(o);
            o = NULL;
        }
        if (o && p->life.enable_death && /* the cell lifecycle (absent: none) */
            json_object_set_new(
                o, "lifecycle",
                json_pack("{s:b,s:b,s:o,s:o,s:o,s:o}", "enable_death", 1, "enable_reproduction",
                          p->life.enable_reproduction != 0, "max_age", jnum(p->life.max_age),
                          "health_decay_per_step", jnum(p->life.health_decay_per_step),
                          "mutation_std_params", jnum(p->life.mutation_std_params),
                          "mutation_std_weights", jnum(p->life.mutation_std_weights))) != 0) {
            json_decref(o);
            o = NULL;
        }
        ok = o && json_array_append_new(pops, o) == 0;
    }
    for (size_t i = 0; ok && i < m->n_projs; i++) {
        const n4d__projection *p = &m->projs[i];
        const n4d_projection_desc *d = &p->d;
        ok = json_array_append_new(
                 projs,
                 json_pack("{s:s,s:s,s:s,s:i,s:o,s:I,s:i,s:o,s:o,s:o,s:o,s:i,s:i,s:i,s:s}", "name",
                           p->name, "source", m->pops[p->source].name, "target",
                           m->pops[p->target].name, "rule", (int)d->rule, "p", jnum(d->p), "n",
                           (json_int_t)d->n, "kernel", (int)d->kernel, "sigma", jnum(d->sigma),
                           "cutoff", jnum(d->cutoff), "weight", jdist(&d->weight), "delay",
                           jdist(&d->delay), "syn_type", (int)d->syn_type, "allow_autapses",
                           (int)d->allow_autapses, "allow_multapses",
                           (int)d->allow_multapses, "synapse_model", p->sm->name)) == 0;
        ok = ok && json_object_set_new(json_array_get(projs, i), "synapse_params",
                                       jparams(p->sm->params, p->sm->n_params, p->syn_params)) == 0;
    }
    json_t *cls = json_array();
    ok = ok && cls && json_object_set_new(root, "synapse_classes", cls) == 0;
    for (uint32_t k = 0; ok && k < m->n_cls; k++) {
        const n4d__syn_class *c = &m->cls[k];
        ok = json_array_append_new(
                 cls, json_pack("{s:s,s:s,s:o,s:i,s:i}", "name", c->name, "model", c->sm->name,
                                "params", jparams(c->sm->params, c->sm->n_params, c->params), "source", (int)c->source,
                                "target", (int)c->target)) == 0;
    }
    for (size_t i = 0; ok && i < m->n_inputs; i++) {
        const n4d__input *in = &m->inputs[i];
        json_t *o = json_pack("{s:i,s:s,s:o,s:o,s:o,s:I,s:o,s:o}", "kind", (int)in->kind, "target",
                              m->pops[in->target].name, "amplitude", jnum(in->amplitude), "rate",
                              jnum(in->rate), "weight", jnum(in->weight), "n_sources",
                              (json_int_t)in->n_sources, "start", jnum(in->start), "stop",
                              jnum(in->stop));
        /* written only when not the default, so older readers keep reading
         * the files of models without it */
        if (o && ((in->sampling != N4D_POISSON_PER_STEP &&
                   json_object_set_new(o, "sampling", json_integer(in->sampling)) != 0) ||
                  !describe_input_arrays(o, in))) {
            json_decref(o);
            o = NULL;
        }
        ok = o && json_array_append_new(inputs, o) == 0;
    }
    for (size_t i = 0; ok && i < m->n_senses; i++) {
        const n4d__sense *s = &m->senses[i];
        ok = json_array_append_new(senses, json_pack("{s:s,s:s,s:I,s:I}", "name", s->name, "area",
                                                     m->areas[s->area].name, "rows",
                                                     (json_int_t)s->rows, "cols",
                                                     (json_int_t)s->cols)) == 0;
    }
    /* the modulators and their bindings (optional keys of version 3) */
    json_t *mods = json_array(), *binds = json_array();
    ok = ok && mods && binds && json_object_set_new(root, "modulators", mods) == 0;
    ok = ok && json_object_set_new(root, "modulator_bindings", binds) == 0;
    for (size_t k = 0; ok && k < m->n_mods; k++) {
        const n4d__mod_def *d = &m->mods[k];
        ok = json_array_append_new(
                 mods, json_pack("{s:s,s:o,s:o,s:o,s:s,s:o,s:o}", "name", d->name, "baseline",
                                 jnum(d->baseline), "decay_rate", jnum(d->decay), "level",
                                 jnum(d->level0), "driven_by",
                                 d->driver >= 0 ? m->pops[d->driver].name : "", "per_spike",
                                 jnum(d->per_spike), "delay", jnum(d->delay * m->dt))) == 0;
    }
    for (size_t k = 0; ok && k < m->n_mod_binds; k++) {
        const n4d__mod_bind *b = &m->mod_binds[k];
        ok = json_array_append_new(binds, json_pack("{s:s,s:i,s:s,s:o}", "population",
                                                    m->pops[b->pop].name, "target", (int)b->what,
                                                    "modulator", m->mods[b->mod].name, "strength",
                                                    jnum(b->strength))) == 0;
    }
    char *text = NULL;
    if (ok) {
        json_object_set(root, "areas", areas);
        json_object_set(root, "populations", pops);
        json_object_set(root, "projections", projs);
        json_object_set(root, "inputs", inputs);
        json_object_set(root, "senses", senses);
        text = json_dumps(root, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER);
    }
    json_decref(areas);
    json_decref(pops);
    json_decref(projs);
    json_decref(inputs);
    json_decref(senses);
    json_decref(root);
    return text;
}

/* Reader of the description: the shared JSON checks (json_check.h) with
 * errors "/n4d/description: PATH: message" (N4D_E_FORMAT); the first error
 * is kept in st. The jr_ forms return false on an error so that the reads
 * below chain with &&. */
typedef struct jr {
    n4d__h5 *h;
    n4d__jcheck jc;
    n4d_status st;
} jr;

static n4d_status jr_report(void *user, const char *path, int line, int col, const char *msg)
{
    jr *r = user;
    (void)line;
    (void)col;
    if (r->st == N4D_OK)
        r->st = n4d__h5_fail(r->h, N4D_E_FORMAT, N4D__STORE_DESC, false, "%s: %s", path, msg);
    return r->st;
}

static bool jr_num(jr *r, json_t *o, const char *key, double *out)
{
    return n4d__jc_req_real(&r->jc, o, key, out) == N4D_OK;
}

/* Parameters added to a table after description version 3: a file
 * without them takes their default. */
static const char *const LATER_PARAMS[] = {"dopamine_modulation", NULL};

/* The n parameters of a table (defs) by name from object o into pv. */
static bool jr_params(jr *r, json_t *o, const n4d__param_def *defs, int32_t n,
                      n4d_param_value *pv)
{
    for (int32_t k = 0; k < n; k++) {
        pv[k].name = defs[k].name;
        if (json_is_object(o) && !json_object_get(o, pv[k].name) &&
            n4d__json_in_list(LATER_PARAMS, pv[k].name)) {
            pv[k].value = defs[k].def;
            continue;
        }
        if (!jr_num(r, o, pv[k].name, &pv[k].value))
            return false;
    }
    return true;
}

static bool jr_int(jr *r, json_t *o, const char *key, int64_t lo, int64_t hi, int64_t *out)
{
    char expect[64];
    snprintf(expect, sizeof expect, "an integer in %lld..%lld", (long long)lo, (long long)hi);
    return n4d__jc_req_int(&r->jc, o, key, lo, hi, expect, out) == N4D_OK;
}

static bool jr_i32(jr *r, json_t *o, const char *key, int32_t *out)
{
    int64_t v;
    if (!jr_int(r, o, key, INT32_MIN, INT32_MAX, &v))
        return false;
    *out = (int32_t)v;
    return true;
}

static bool jr_str(jr *r, json_t *o, const char *key, const char **out)
{
    return n4d__jc_req_str(&r->jc, o, key, out) == N4D_OK;
}

/* A member that must be an object or an array (type): pushed on the path
 * when it is; the caller pops it. */
static bool jr_enter(jr *r, json_t *o, const char *key, json_type type, const char *expect,
                     json_t **out)
{
    *out = json_object_get(o, key);
    if (!*out)
        return n4d__jc_missing(&r->jc, key, expect) == N4D_OK;
    n4d__jc_push_key(&r->jc, key);
    return n4d__jc_want(&r->jc, *out, type, expect) == N4D_OK;
}

static bool jr_dist(jr *r, json_t *o, const char *key, n4d_dist *d)
{
    json_t *v;
    if (!jr_enter(r, o, key, JSON_OBJECT, "a distribution object", &v))
        return false;
    bool ok = jr_i32(r, v, "kind", &d->kind) && jr_num(r, v, "value", &d->value) &&
              jr_num(r, v, "std", &d->std) && jr_num(r, v, "lo", &d->lo) &&
              jr_num(r, v, "hi", &d->hi);
    n4d__jc_pop(&r->jc);
    return ok;
}

/* Sets the path to array[i] (an element of a top-level array). */
/* Optional array `key` of o: *n entries into a new array (doubles into
 * *dbl when dbl, else uint32 into *u32) of ctx; false on a bad entry (the
 * error named) or no memory. */
static bool jr_array(jr *r, n4d_context *ctx, json_t *o, const char *key, double **dbl,
                     uint32_t **u32, uint64_t *n)
{
    json_t *a = json_object_get(o, key);
    if (!a)
        return true;
    if (!json_is_array(a)) {
        r->st = n4d__h5_fail(r->h, N4D_E_FORMAT, N4D__STORE_DESC, false,
                             "inputs: \"%s\" is not an array", key);
        return false;
    }
    const size_t len = json_array_size(a);
    void *buf = n4d__alloc(ctx, N4D_MEM_OTHER, (len ? len : 1) * (dbl ? sizeof(double) : 4));
    if (!buf) {
        r->st = n4d__h5_fail(r->h, N4D_E_NOMEM, N4D__STORE_DESC, false, "out of memory");
        return false;
    }
    for (size_t k = 0; k < len; k++) {
        json_t *e = json_array_get(a, k);
        const bool good = dbl ? json_is_number(e)
                              : json_is_integer(e) && json_integer_value(e) >= 0 &&
                                    json_integer_value(e) <= (json_int_t)UINT32_MAX;
        if (!good) {
            n4d__free(ctx, N4D_MEM_OTHER, buf, (len ? len : 1) * (dbl ? sizeof(double) : 4));
            r->st = n4d__h5_fail(r->h, N4D_E_FORMAT, N4D__STORE_DESC, false,
                                 "inputs: %s[%zu] is not %s", key, k,
                                 dbl ? "a number" : "an index in 0..2^32-1");
            return false;
        }
        if (dbl)
            ((double *)buf)[k] = json_number_value(e);
        else
            ((uint32_t *)buf)[k] = (uint32_t)json_integer_value(e);
    }
    if (dbl)
        *dbl = buf;
    else
        *u32 = buf;
    *n = len;
    return true;
}

static void jr_at(jr *r, const char *array, size_t i)
{
    r->jc.depth = 0;
    n4d__jc_push_key(&r->jc, array);
    n4d__jc_push_idx(&r->jc, i);
}

/* Reports the model's error for the element at the current path. */
static void jr_model_error(jr *r, n4d_model *m)
{
    n4d__jc_fail(&r->jc, N4D__JC_AT_VALUE, "%s", n4d_last_error(m));
}

/* Describes a new model from the description; pop_n receives the saved
 * neuron count of each population (n_pops entries, allocated). */
n4d_status n4d__store_read_description(n4d__h5 *h, const char *text, size_t len, n4d_model *m,
                                       uint64_t **pop_n_out)
{
    json_error_t jerr;
    jr r = {h, {0}, N4D_OK};
    n4d__jc_init(&r.jc, NULL, 0, jr_report, &r);
    *pop_n_out = NULL;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return n4d__h5_fail(h, N4D_E_FORMAT, N4D__STORE_DESC, false, "invalid JSON at line %d: %s",
                            jerr.line, jerr.text);
    if (!json_is_object(root)) {
        json_decref(root);
        return n4d__h5_fail(h, N4D_E_FORMAT, N4D__STORE_DESC, false, "is not a JSON object");
    }
    json_t *areas, *pops, *projs, *inputs, *senses;
    const char *fmt = NULL;
    int64_t ver = 0;
    uint64_t *pop_n = NULL;
    size_t np = 0;
    if (!jr_str(&r, root, "format", &fmt) || !jr_int(&r, root, "version", 0, INT32_MAX, &ver))
        goto done;
    if (strcmp(fmt, "n4d-model-description") != 0 || ver < 1 || ver > DESC_VERSION) {
        n4d__jc_push_key(&r.jc, "format");
        n4d__jc_fail(&r.jc, N4D__JC_AT_VALUE,
                     "\"%.64s\" version %lld (expected \"n4d-model-description\" version 1 or "
                     "2)",
                     fmt, (long long)ver);
        goto done;
    }
    /* each array is entered (pushed) and checked, then left again */
#define ARRAY(key, out)                                                                            \
    (jr_enter(&r, root, key, JSON_ARRAY, "an array", out) && (n4d__jc_pop(&r.jc), true))
    if (!ARRAY("areas", &areas) || !ARRAY("populations", &pops) ||
        !ARRAY("projections", &projs) || !ARRAY("inputs", &inputs) || !ARRAY("senses", &senses))
        goto done;
#undef ARRAY
    size_t i;
    json_t *v;
    json_array_foreach(areas, i, v) {
        jr_at(&r, "areas", i);
        const char *name;
        int32_t lo[4], hi[4];
        json_t *jl = json_object_get(v, "lo"), *jh = json_object_get(v, "hi");
        if (!jr_str(&r, v, "name", &name))
            goto done;
        if (json_array_size(jl) != 4 || json_array_size(jh) != 4) {
            n4d__jc_fail(&r.jc, N4D__JC_AT_VALUE, "lo and hi must hold 4 integers");
            goto done;
        }
        for (int k = 0; k < 4; k++) {
            json_t *a = json_array_get(jl, (size_t)k), *b = json_array_get(jh, (size_t)k);
            if (!json_is_integer(a) || !json_is_integer(b) || json_integer_value(a) < INT32_MIN ||
                json_integer_value(a) > INT32_MAX || json_integer_value(b) < INT32_MIN ||
                json_integer_value(b) > INT32_MAX) {
                n4d__jc_fail(&r.jc, N4D__JC_AT_VALUE, "lo and hi must hold 4 integers");
                goto done;
            }
            lo[k] = (int32_t)json_integer_value(a);
            hi[k] = (int32_t)json_integer_value(b);
        }
        if (n4d_model_add_area(m, name, lo, hi)) {
            jr_model_error(&r, m);
            goto done;
        }
    }
    np = json_array_size(pops);
    pop_n = n4d__calloc(m->ctx, N4D_MEM_OTHER, np ? np : 1, sizeof *pop_n);
    if (!pop_n) {
        r.st = n4d__h5_fail(h, N4D_E_NOMEM, N4D__STORE_DESC, false, "out of memory");
        goto done;
    }
    json_array_foreach(pops, i, v) {
        jr_at(&r, "populations", i);
        n4d_population_desc d;
        n4d_population_desc_init(&d);
        int64_t count, first, n;
        if (!jr_str(&r, v, "name", &d.name) || !jr_str(&r, v, "area", &d.area) ||
            !jr_i32(&r, v, "model", &d.model) || !jr_i32(&r, v, "placement", &d.placement) ||
            !jr_num(&r, v, "density", &d.density) ||
            !jr_int(&r, v, "count", 0, INT64_MAX, &count) || !jr_dist(&r, v, "v_init", &d.v_init) ||
            !jr_int(&r, v, "first", 0, INT64_MAX, &first) || !jr_int(&r, v, "n", 0, INT64_MAX, &n))
            goto done;
        /* the model: by name (version 2), by id (version 1) */
        const n4d__neuron_model *nm = NULL;
        if (ver >= 2) {
            const char *mname = NULL;
            if (!jr_str(&r, v, "model_name", &mname))
                goto done;
            if (!(nm = n4d__neuron_model_by_name(mname))) {
                n4d__jc_push_key(&r.jc, "model_name");
                n4d__jc_fail(&r.jc, N4D__JC_AT_VALUE,
                             "\"%.64s\" is not a neuron model of this library", mname);
                goto done;
            }
        } else if (!(nm = n4d__neuron_model_by_id(d.model))) {
            n4d__jc_push_key(&r.jc, "model");
            n4d__jc_fail(&r.jc, N4D__JC_AT_VALUE, "%d is not a neuron model of this library",
                         (int)d.model);
            goto done;
        }
        d.model_name = nm->name;
        json_t *pj;
        if (!jr_enter(&r, v, "params", JSON_OBJECT, "an object", &pj))
            goto done;
        /* the model's parameters by name (version 1 also holds those of other
         * models: ignored); version 2 holds exactly them */
        n4d_param_value pv[N4D__MAX_PARAMS];
        if (!jr_params(&r, pj, nm->h->params, nm->h->n_params, pv))
            goto done;
        if (ver >= 2 && json_object_size(pj) != (size_t)nm->h->n_params) {
            n4d__jc_fail(&r.jc, N4D__JC_AT_VALUE, "holds parameters that model \"%s\" does not have",
                         nm->name);
            goto done;
        }
        d.params = pv;
        d.n_params = (uint32_t)nm->h->n_params;
        jr_at(&r, "populations", i);
        d.count = (uint64_t)count;
        if (n4d_model_add_population(m, &d, NULL)) {
            jr_model_error(&r, m);
            goto done;
        }
        json_t *lj = json_object_get(v, "lifecycle");
        if (lj) {
            n4d_lifecycle lc;
            n4d_lifecycle_init(&lc);
            lc.enable_death = 1;
            n4d__jc_push_key(&r.jc, "lifecycle");
            if (n4d__jc_opt_bool(&r.jc, lj, "enable_reproduction", &lc.enable_reproduction) ||
                !jr_num(&r, lj, "max_age", &lc.max_age) ||
                !jr_num(&r, lj, "health_decay_per_step", &lc.health_decay_per_step) ||
                !jr_num(&r, lj, "mutation_std_params", &lc.mutation_std_params) ||
                !jr_num(&r, lj, "mutation_std_weights", &lc.mutation_std_weights))
                goto done;
            jr_at(&r, "populations", i);
            if (n4d_model_set_population_lifecycle(m, d.name, &lc)) {
                jr_model_error(&r, m);
                goto done;
            }
        }
        pop_n[i] = (uint64_t)n;
        m->pops[i].first = (uint64_t)first;
        json_t *hj = json_object_get(v, "homeostasis");
        if (hj) {
            n4d_homeostasis hs;
            n4d_homeostasis_init(&hs);
            json_t *ho;
            if (!jr_enter(&r, v, "homeostasis", JSON_OBJECT, "an object", &ho))
                goto done;
            if (!jr_num(&r, ho, "target_rate", &hs.target_rate) ||
                !jr_num(&r, ho, "window", &hs.window) || !jr_num(&r, ho, "eta", &hs.eta) ||
                !jr_num(&r, ho, "scale_min", &hs.scale_min) ||
                !jr_num(&r, ho, "scale_max", &hs.scale_max))
                goto done;
            jr_at(&r, "populations", i);
            if (n4d_model_set_homeostasis(m, d.name, &hs)) {
                jr_model_error(&r, m);
                goto done;
            }
        }
    }
    json_array_foreach(projs, i, v) {
        jr_at(&r, "projections", i);
        n4d_projection_desc d;
        n4d_projection_desc_init(&d);
        int64_t n;
        if (!jr_str(&r, v, "name", &d.name) || !jr_str(&r, v, "source", &d.source) ||
            !jr_str(&r, v, "target", &d.target) || !jr_i32(&r, v, "rule", &d.rule) ||
            !jr_num(&r, v, "p", &d.p) || !jr_int(&r, v, "n", 0, INT64_MAX, &n) ||
            !jr_i32(&r, v, "kernel", &d.kernel) || !jr_num(&r, v, "sigma", &d.sigma) ||
            !jr_num(&r, v, "cutoff", &d.cutoff) || !jr_dist(&r, v, "weight", &d.weight) ||
            !jr_dist(&r, v, "delay", &d.delay) || !jr_i32(&r, v, "syn_type", &d.syn_type) ||
            !jr_i32(&r, v, "allow_autapses", &d.allow_autapses) ||
            !jr_i32(&r, v, "allow_multapses", &d.allow_multapses) ||
            (ver >= 2 && !jr_str(&r, v, "synapse_model", &d.synapse_model)))
            goto done;
        d.n = (uint64_t)n;
        n4d_param_value spv[N4D__MAX_SYN_PARAMS];
        json_t *sp = ver >= 3 ? json_object_get(v, "synapse_params") : NULL;
        if (sp) {
            const n4d__synapse_model *sm = n4d__synapse_model_by_name(d.synapse_model);
            if (sm && !jr_params(&r, sp, sm->params, sm->n_params, spv))
                goto done;
            d.synapse_params = spv;
            d.n_synapse_params = sm ? (uint32_t)sm->n_params : 0;
        }
        if (n4d__model_add_projection_described(m, &d)) {
            jr_model_error(&r, m);
            goto done;
        }
    }
    /* the plastic classes, as the build or the import made them */
    json_t *cls = ver >= 3 ? json_object_get(root, "synapse_classes") : NULL;
    json_array_foreach(cls, i, v) {
        jr_at(&r, "synapse_classes", i);
        const char *cname, *mname;
        int32_t src, tgt;
        if (!jr_str(&r, v, "name", &cname) || !jr_str(&r, v, "model", &mname) ||
            !jr_i32(&r, v, "source", &src) || !jr_i32(&r, v, "target", &tgt))
            goto done;
        const n4d__synapse_model *sm = n4d__synapse_model_by_name(mname);
        /* static: a pair whose weights a cell lifecycle mutates (the
         * populations, read above, say so) */
        if (!sm || src < -1 || tgt < -1 || src >= (int32_t)m->n_pops ||
            tgt >= (int32_t)m->n_pops || (src < 0) != (tgt < 0) ||
            (sm->id == N4D__SYN_STATIC &&
             (src < 0 || !(n4d__pop_mutates_weights(m, src) || n4d__pop_mutates_weights(m, tgt))))) {
            n4d__jc_fail(&r.jc, N4D__JC_AT_VALUE,
                         "is not a plastic synapse class of this model (model \"%.64s\", "
                         "populations %d -> %d)",
                         mname, (int)src, (int)tgt);
            goto done;
        }
        json_t *pj;
        if (!jr_enter(&r, v, "params", JSON_OBJECT, "an object", &pj))
            goto done;
        n4d_param_value spv[N4D__MAX_SYN_PARAMS];
        if (!jr_params(&r, pj, sm->params, sm->n_params, spv))
            goto done;
        if (n4d__model_add_class(m, cname, sm, spv, (uint32_t)sm->n_params, src, tgt)) {
            jr_model_error(&r, m);
            goto done;
        }
    }
    json_array_foreach(inputs, i, v) {
        jr_at(&r, "inputs", i);
        n4d_input_desc d;
        n4d_input_desc_init(&d);
        int64_t ns;
        if (!jr_i32(&r, v, "kind", &d.kind) || !jr_str(&r, v, "target", &d.target) ||
            !jr_num(&r, v, "amplitude", &d.amplitude) || !jr_num(&r, v, "rate", &d.rate) ||
            !jr_num(&r, v, "weight", &d.weight) ||
            !jr_int(&r, v, "n_sources", 0, UINT32_MAX, &ns) || !jr_num(&r, v, "start", &d.start) ||
            !jr_num(&r, v, "stop", &d.stop))
            goto done;
        d.n_sources = (uint32_t)ns;
        if (json_object_get(v, "sampling") && !jr_i32(&r, v, "sampling", &d.sampling))
            goto done;
        /* spike and current inputs: their fields and arrays */
        double *times = NULL, *values = NULL;
        uint32_t *neurons = NULL, *indices = NULL;
        uint64_t nn = 0, nt = 0, ni = 0, nv = 0;
        bool ok = true;
        if (d.kind >= N4D_INPUT_SPIKES)
            ok = jr_num(&r, v, "offset", &d.offset) && jr_num(&r, v, "frequency", &d.frequency) &&
                 jr_num(&r, v, "phase", &d.phase) && jr_num(&r, v, "std", &d.std) &&
                 jr_num(&r, v, "interval", &d.interval) &&
                 jr_array(&r, m->ctx, v, "neurons", NULL, &neurons, &nn) &&
                 jr_array(&r, m->ctx, v, "times", &times, NULL, &nt) &&
                 jr_array(&r, m->ctx, v, "indices", NULL, &indices, &ni) &&
                 jr_array(&r, m->ctx, v, "values", &values, NULL, &nv);
        if (ok && ((indices && ni != nt) || (values && nv != nt))) {
            r.st = n4d__h5_fail(r.h, N4D_E_FORMAT, N4D__STORE_DESC, false,
                                "inputs[%zu]: times, indices and values differ in length", i);
            ok = false;
        }
        d.neurons = neurons;
        d.n_neurons = nn;
        d.times = times;
        d.indices = indices;
        d.values = values;
        d.n_times = nt;
        if (ok && n4d_model_add_input(m, &d)) {
            jr_model_error(&r, m);
            ok = false;
        }
        n4d__free(m->ctx, N4D_MEM_OTHER, neurons, (nn ? nn : 1) * 4);
        n4d__free(m->ctx, N4D_MEM_OTHER, times, (nt ? nt : 1) * sizeof(double));
        n4d__free(m->ctx, N4D_MEM_OTHER, indices, (ni ? ni : 1) * 4);
        n4d__free(m->ctx, N4D_MEM_OTHER, values, (nv ? nv : 1) * sizeof(double));
        if (!ok)
            goto done;
    }
    json_array_foreach(senses, i, v) {
        jr_at(&r, "senses", i);
        const char *name, *area;
        int64_t rows, cols;
        if (!jr_str(&r, v, "name", &name) || !jr_str(&r, v, "area", &area) ||
            !jr_int(&r, v, "rows", 0, UINT32_MAX, &rows) ||
            !jr_int(&r, v, "cols", 0, UINT32_MAX, &cols))
            goto done;
        if (n4d_model_add_sense(m, name, area, (uint32_t)rows, (uint32_t)cols)) {
            jr_model_error(&r, m);
            goto done;
        }
    }
    json_array_foreach(json_object_get(root, "modulators"), i, v) {
        jr_at(&r, "modulators", i);
        n4d_modulator_desc d;
        n4d_modulator_desc_init(&d);
        if (!jr_str(&r, v, "name", &d.name) || !jr_num(&r, v, "baseline", &d.baseline) ||
            !jr_num(&r, v, "decay_rate", &d.decay_rate) || !jr_num(&r, v, "level", &d.level) ||
            !jr_str(&r, v, "driven_by", &d.driven_by) || !jr_num(&r, v, "per_spike", &d.per_spike) ||
            !jr_num(&r, v, "delay", &d.delay))
            goto done;
        if (!d.driven_by[0])
            d.driven_by = NULL;
        if (n4d_model_add_modulator(m, &d)) {
            jr_model_error(&r, m);
            goto done;
        }
    }
    json_array_foreach(json_object_get(root, "modulator_bindings"), i, v) {
        jr_at(&r, "modulator_bindings", i);
        const char *pop, *mod;
        int32_t what;
        double strength;
        if (!jr_str(&r, v, "population", &pop) || !jr_i32(&r, v, "target", &what) ||
            !jr_str(&r, v, "modulator", &mod) || !jr_num(&r, v, "strength", &strength))
            goto done;
        if (n4d_model_bind_modulator(m, pop, what, mod, strength)) {
            jr_model_error(&r, m);
            goto done;
        }
    }
done:
    json_decref(root);
    if (r.st) {
        n4d__free(m->ctx, N4D_MEM_OTHER, pop_n, (np ? np : 1) * sizeof *pop_n);
        return r.st;
    }
    *pop_n_out = pop_n;
    return N4D_OK;
}

#else
typedef int n4d__store_desc_unused;
#endif
