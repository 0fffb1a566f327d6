/* Import of models saved by 4D Neural Cognition: save_to_json (one JSON
 * document) and save_to_hdf5 (meta_json, neurons N x 10, synapses S x 5).
 * The result is a built n4d model: dt 1 ms, lif populations per area (and
 * parameter set), the neurons at their positions, the synapses as saved. */
#include "store_h5.h"
#include "json_check.h"

#if N4D_HAVE_HDF5

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NPAR 5 /* tau_m, v_rest, v_reset, v_threshold, refractory_period */
static const char *const par_names[NPAR] = {"tau_m", "v_rest", "v_reset", "v_threshold",
                                            "refractory_period"};

/* Everything read from the file, before the model is made. */
typedef struct imp {
    n4d__h5 *h;
    n4d_context *ctx;
    uint64_t n, s;         /* neurons, synapses */
    uint64_t *id;          /* original ids */
    int32_t *pos;          /* 4 per neuron */
    double *v;             /* v_membrane */
    double *par;           /* NPAR per neuron */
    uint64_t *pre, *post;  /* original ids */
    float *w;
    uint32_t *delay;
    /* lineage (the cell lifecycle's initial state) */
    uint32_t *gen;
    int64_t *parent;
    double *health, *age;
    uint64_t next_id;
} imp;

static void imp_free(imp *d)
{
    n4d_context *ctx = d->ctx;
    const uint64_t n = d->n ? d->n : 1, s = d->s ? d->s : 1;
    n4d__free(ctx, N4D_MEM_BUILD, d->id, n * sizeof(uint64_t));
    n4d__free(ctx, N4D_MEM_BUILD, d->pos, n * 4 * sizeof(int32_t));
    n4d__free(ctx, N4D_MEM_BUILD, d->v, n * sizeof(double));
    n4d__free(ctx, N4D_MEM_BUILD, d->par, n * NPAR * sizeof(double));
    n4d__free(ctx, N4D_MEM_BUILD, d->pre, s * sizeof(uint64_t));
    n4d__free(ctx, N4D_MEM_BUILD, d->post, s * sizeof(uint64_t));
    n4d__free(ctx, N4D_MEM_BUILD, d->w, s * sizeof(float));
    n4d__free(ctx, N4D_MEM_BUILD, d->delay, s * sizeof(uint32_t));
    n4d__free(ctx, N4D_MEM_BUILD, d->gen, n * sizeof(uint32_t));
    n4d__free(ctx, N4D_MEM_BUILD, d->parent, n * sizeof(int64_t));
    n4d__free(ctx, N4D_MEM_BUILD, d->health, n * sizeof(double));
    n4d__free(ctx, N4D_MEM_BUILD, d->age, n * sizeof(double));
}

static n4d_status imp_alloc(imp *d, uint64_t n, uint64_t s, const char *obj)
{
    d->n = n;
    d->s = s;
    const uint64_t nn = n ? n : 1, ss = s ? s : 1;
    n4d_context *ctx = d->ctx;
    d->id = n4d__alloc(ctx, N4D_MEM_BUILD, nn * sizeof(uint64_t));
    d->pos = n4d__alloc(ctx, N4D_MEM_BUILD, nn * 4 * sizeof(int32_t));
    d->v = n4d__alloc(ctx, N4D_MEM_BUILD, nn * sizeof(double));
    d->par = n4d__alloc(ctx, N4D_MEM_BUILD, nn * NPAR * sizeof(double));
    d->pre = n4d__alloc(ctx, N4D_MEM_BUILD, ss * sizeof(uint64_t));
    d->post = n4d__alloc(ctx, N4D_MEM_BUILD, ss * sizeof(uint64_t));
    d->w = n4d__alloc(ctx, N4D_MEM_BUILD, ss * sizeof(float));
    d->delay = n4d__alloc(ctx, N4D_MEM_BUILD, ss * sizeof(uint32_t));
    d->gen = n4d__calloc(ctx, N4D_MEM_BUILD, nn, sizeof(uint32_t));
    d->parent = n4d__alloc(ctx, N4D_MEM_BUILD, nn * sizeof(int64_t));
    d->health = n4d__alloc(ctx, N4D_MEM_BUILD, nn * sizeof(double));
    d->age = n4d__calloc(ctx, N4D_MEM_BUILD, nn, sizeof(double));
    if (d->parent && d->health)
        for (uint64_t i = 0; i < n; i++) {
            d->parent[i] = -1;
            d->health[i] = 1.0;
        }
    if (!d->id || !d->pos || !d->v || !d->par || !d->pre || !d->post || !d->w || !d->delay ||
        !d->gen || !d->parent || !d->health || !d->age)
        return n4d__h5_fail(d->h, N4D_E_NOMEM, obj, false,
                            "out of memory for %llu neurons and %llu synapses",
                            (unsigned long long)n, (unsigned long long)s);
    return N4D_OK;
}

/* ---- JSON (the shared checks of json_check.h) ------------------------------------ */

/* A checker whose errors read "PATH: OBJ: PATH: message" (N4D_E_FORMAT):
 * OBJ is "JSON" for a JSON save, "/meta_json" for the HDF5 one. */
typedef struct ij {
    n4d__h5 *h;
    const char *obj;
    n4d__jcheck jc;
} ij;

static n4d_status ij_report(void *user, const char *path, int line, int col, const char *msg)
{
    ij *r = user;
    (void)line;
    (void)col;
    return n4d__h5_fail(r->h, N4D_E_FORMAT, r->obj, false, "%s: %s", path, msg);
}

static void ij_init(ij *r, n4d__h5 *h, const char *obj)
{
    r->h = h;
    r->obj = obj;
    n4d__jc_init(&r->jc, NULL, 0, ij_report, r);
}

/* A member that is an id (an integer in 0..2^32 - 1). */
static n4d_status ij_id(ij *r, json_t *o, const char *key, uint64_t *out)
{
    int64_t x;
    N4D__TRY(n4d__jc_req_int(&r->jc, o, key, 0, UINT32_MAX, "an id (integer >= 0)", &x));
    *out = (uint64_t)x;
    return N4D_OK;
}

/* Reports the model's error for the element at the current path. */
static n4d_status ij_model_error(ij *r, n4d_model *m)
{
    return n4d__jc_fail(&r->jc, N4D__JC_AT_VALUE, "%s", n4d_last_error(m));
}

/* An optional member "params" of finite numbers over defaults. */
static n4d_status ij_params(ij *r, json_t *o, const char *key, double *par)
{
    json_t *p = json_object_get(o, key);
    if (!p)
        return N4D_OK;
    n4d__jc_push_key(&r->jc, key);
    N4D__TRY(n4d__jc_want(&r->jc, p, JSON_OBJECT, "an object"));
    for (int k = 0; k < NPAR; k++)
        N4D__TRY(n4d__jc_opt_num(&r->jc, p, par_names[k], &N4D__JR_FINITE, &par[k], NULL));
    n4d__jc_pop(&r->jc);
    return N4D_OK;
}

/* ---- config ------------------------------------------------------------------------- */

typedef struct cfg {
    uint32_t shape[4];
    double par[NPAR];
    /* hebb_4dnc's parameters (learning_rate, weight_min, weight_max,
     * weight_decay: the keys of the file's "plasticity" section) */
    double hebb[N4D__MAX_SYN_PARAMS];
    n4d_lifecycle life; /* "cell_lifecycle" (enable_death 0 when absent) */
} cfg;

/* Reads lattice, default parameters, areas and senses into the model. */
static n4d_status read_config(ij *r, json_t *c, n4d_model *m, cfg *out)
{
    n4d__jcheck *jc = &r->jc;
    if (!c)
        return n4d__jc_missing(jc, "config", "an object");
    n4d__jc_push_key(jc, "config");
    N4D__TRY(n4d__jc_want(jc, c, JSON_OBJECT, "an object"));
    json_t *ls = json_object_get(c, "lattice_shape");
    n4d__jc_push_key(jc, "lattice_shape");
    if (json_array_size(ls) != 4)
        return n4d__jc_fail(jc, N4D__JC_AT_VALUE, "must be an array of 4 sizes");
    for (size_t i = 0; i < 4; i++) {
        int64_t x;
        n4d__jc_push_idx(jc, i);
        N4D__TRY(n4d__jc_int(jc, json_array_get(ls, i), 1, 1 << 30, "a size in 1..2^30", &x));
        n4d__jc_pop(jc);
        out->shape[i] = (uint32_t)x;
    }
    if (n4d_model_set_lattice(m, out->shape))
        return ij_model_error(r, m);
    n4d__jc_pop(jc);
    /* neuron model */
    static const double defaults[NPAR] = {20.0, -65.0, -70.0, -50.0, 5.0};
    memcpy(out->par, defaults, sizeof defaults);
    json_t *nm = json_object_get(c, "neuron_model");
    if (nm) {
        n4d__jc_push_key(jc, "neuron_model");
        json_t *type = json_object_get(nm, "type");
        if (type) {
            n4d__jc_push_key(jc, "type");
            N4D__TRY(n4d__jc_want(jc, type, JSON_STRING, "a string"));
            if (strcmp(json_string_value(type), "LIF") != 0)
                return n4d__h5_fail(r->h, N4D_E_UNSUPPORTED, r->obj, false,
                                    "config.neuron_model.type: only \"LIF\" can be imported");
            n4d__jc_pop(jc);
        }
        N4D__TRY(ij_params(r, nm, "params_default", out->par));
        n4d__jc_pop(jc);
    }
    /* areas */
    json_t *areas = json_object_get(c, "areas"), *a;
    size_t i;
    if (areas) {
        n4d__jc_push_key(jc, "areas");
        N4D__TRY(n4d__jc_want(jc, areas, JSON_ARRAY, "an array"));
        json_array_foreach(areas, i, a) {
            n4d__jc_push_idx(jc, i);
            const char *name;
            N4D__TRY(n4d__jc_want(jc, a, JSON_OBJECT, "an object with name and coord_ranges"));
            N4D__TRY(n4d__jc_req_str(jc, a, "name", &name));
            json_t *cr = json_object_get(a, "coord_ranges");
            if (!cr)
                return n4d__jc_missing(jc, "coord_ranges", "an object");
            n4d__jc_push_key(jc, "coord_ranges");
            N4D__TRY(n4d__jc_want(jc, cr, JSON_OBJECT, "an object"));
            int32_t lo[4], hi[4];
            static const char *const axes[4] = {"x", "y", "z", "w"};
            for (int k = 0; k < 4; k++) {
                json_t *rg = json_object_get(cr, axes[k]);
                int64_t l, u;
                n4d__jc_push_key(jc, axes[k]);
                if (json_array_size(rg) != 2)
                    return n4d__jc_fail(jc, N4D__JC_AT_VALUE,
                                        "must be [lo, hi] with integers >= 0");
                N4D__TRY(n4d__jc_int(jc, json_array_get(rg, 0), 0, INT32_MAX, "an integer >= 0", &l));
                N4D__TRY(n4d__jc_int(jc, json_array_get(rg, 1), 0, INT32_MAX, "an integer >= 0", &u));
                n4d__jc_pop(jc);
                lo[k] = (int32_t)l;
                hi[k] = (int32_t)u;
            }
            n4d__jc_pop(jc);
            if (n4d_model_add_area(m, name, lo, hi))
                return ij_model_error(r, m);
            n4d__jc_pop(jc);
        }
        n4d__jc_pop(jc);
    }
    /* senses: {name: {areal, w_index, input_size: [rows, cols]}} */
    json_t *senses = json_object_get(c, "senses"), *sv;
    const char *sname;
    if (senses) {
        n4d__jc_push_key(jc, "senses");
        N4D__TRY(n4d__jc_want(jc, senses, JSON_OBJECT, "an object"));
        json_object_foreach(senses, sname, sv) {
            n4d__jc_push_key(jc, sname);
            const char *areal;
            int64_t rows, cols;
            N4D__TRY(n4d__jc_want(jc, sv, JSON_OBJECT, "an object with areal and input_size"));
            N4D__TRY(n4d__jc_req_str(jc, sv, "areal", &areal));
            json_t *size = json_object_get(sv, "input_size");
            n4d__jc_push_key(jc, "input_size");
            if (json_array_size(size) != 2)
                return n4d__jc_fail(jc, N4D__JC_AT_VALUE, "must be [rows, cols]");
            N4D__TRY(n4d__jc_int(jc, json_array_get(size, 0), 1, UINT32_MAX, "rows >= 1", &rows));
            N4D__TRY(n4d__jc_int(jc, json_array_get(size, 1), 1, UINT32_MAX, "cols >= 1", &cols));
            n4d__jc_pop(jc);
            if (n4d_model_add_sense(m, sname, areal, (uint32_t)rows, (uint32_t)cols))
                return ij_model_error(r, m);
            n4d__jc_pop(jc);
        }
        n4d__jc_pop(jc);
    }
    n4d__jc_pop(jc); /* config */
    /* plasticity: the rule's settings (its defaults, the reference's, without) */
    const n4d__synapse_model *sm = n4d__synapse_model_by_name("hebb_4dnc");
    for (int32_t k = 0; k < sm->n_params; k++)
        out->hebb[k] = sm->params[k].def;
    json_t *pl = json_object_get(c, "plasticity");
    if (pl) {
        n4d__jc_push_key(jc, "config");
        n4d__jc_push_key(jc, "plasticity");
        N4D__TRY(n4d__jc_want(jc, pl, JSON_OBJECT, "an object"));
        for (int32_t k = 0; k < sm->n_params; k++) {
            const n4d__param_def *pd = &sm->params[k];
            bool present = false;
            N4D__TRY(n4d__jc_opt_num(jc, pl, pd->name, &N4D__JR_FINITE, &out->hebb[k], &present));
            if (present && !n4d__pdef_valid(pd, out->hebb[k])) {
                char rtext[96];
                n4d__jc_push_key(jc, pd->name);
                return n4d__jc_fail(jc, N4D__JC_AT_VALUE, "%g is out of range (expected %s)",
                                    out->hebb[k], n4d__pdef_range_text(pd, rtext, sizeof rtext));
            }
        }
        if (!(out->hebb[1] <= out->hebb[2]))
            return n4d__jc_fail(jc, N4D__JC_AT_VALUE, "weight_min %g is above weight_max %g",
                                out->hebb[1], out->hebb[2]);
        n4d__jc_pop(jc);
        n4d__jc_pop(jc);
    }
    /* the cell lifecycle, over the reference's defaults */
    n4d_lifecycle_init(&out->life);
    json_t *lc = json_object_get(c, "cell_lifecycle");
    if (lc) {
        n4d__jc_push_key(jc, "cell_lifecycle");
        N4D__TRY(n4d__jc_want(jc, lc, JSON_OBJECT, "an object"));
        N4D__TRY(n4d__jc_opt_bool(jc, lc, "enable_death", &out->life.enable_death));
        N4D__TRY(n4d__jc_opt_bool(jc, lc, "enable_reproduction", &out->life.enable_reproduction));
        static const char *const keys[] = {"max_age", "health_decay_per_step",
                                           "mutation_std_params", "mutation_std_weights"};
        double *dst[] = {&out->life.max_age, &out->life.health_decay_per_step,
                         &out->life.mutation_std_params, &out->life.mutation_std_weights};
        for (size_t k = 0; k < 4; k++)
            N4D__TRY(n4d__jc_opt_num(jc, lc, keys[k], &N4D__JR_NONNEG, dst[k], NULL));
        n4d__jc_pop(jc);
    }
    static const char *const ignored[] = {"neuromodulation"};
    char list[200] = "";
    for (size_t k = 0; k < sizeof ignored / sizeof ignored[0]; k++)
        if (json_object_get(c, ignored[k])) {
            size_t len = strlen(list);
            snprintf(list + len, sizeof list - len, "%s%s", len ? ", " : "", ignored[k]);
        }
    if (list[0])
        n4d__model_warn(m, "%s: imported without %s (not simulated by n4d)", r->h->path, list);
    return N4D_OK;
}

/* ---- JSON file ------------------------------------------------------------------- */

static n4d_status read_json_model(n4d__h5 *h, json_t *root, n4d_model *m, imp *d, cfg *c)
{
    ij r;
    ij_init(&r, h, "JSON");
    n4d__jcheck *jc = &r.jc;
    N4D__TRY(n4d__jc_want(jc, root, JSON_OBJECT, "an object"));
    N4D__TRY(read_config(&r, json_object_get(root, "config"), m, c));
    json_t *neurons = json_object_get(root, "neurons"), *syns = json_object_get(root, "synapses");
    if (!neurons)
        return n4d__jc_missing(jc, "neurons", "an array");
    if (!syns)
        return n4d__jc_missing(jc, "synapses", "an array");
    n4d__jc_push_key(jc, "neurons");
    N4D__TRY(n4d__jc_want(jc, neurons, JSON_ARRAY, "an array"));
    n4d__jc_pop(jc);
    n4d__jc_push_key(jc, "synapses");
    N4D__TRY(n4d__jc_want(jc, syns, JSON_ARRAY, "an array"));
    n4d__jc_pop(jc);
    N4D__TRY(imp_alloc(d, json_array_size(neurons), json_array_size(syns), r.obj));
    int64_t next_id = 0;
    N4D__TRY(n4d__jc_opt_int(jc, root, "next_neuron_id", 0, INT64_MAX, "an id >= 0", &next_id,
                             NULL));
    d->next_id = (uint64_t)next_id;
    size_t i;
    json_t *v;
    static const char *const axes[4] = {"x", "y", "z", "w"};
    n4d__jc_push_key(jc, "neurons");
    json_array_foreach(neurons, i, v) {
        n4d__jc_push_idx(jc, i);
        N4D__TRY(n4d__jc_want(jc, v, JSON_OBJECT, "an object"));
        N4D__TRY(ij_id(&r, v, "id", &d->id[i]));
        for (int k = 0; k < 4; k++) {
            char expect[64];
            int64_t x;
            snprintf(expect, sizeof expect, "a coordinate on the lattice (0..%u)",
                     c->shape[k] - 1);
            N4D__TRY(n4d__jc_req_int(jc, v, axes[k], 0, (int64_t)c->shape[k] - 1, expect, &x));
            d->pos[4 * i + (size_t)k] = (int32_t)x;
        }
        d->v[i] = c->par[1];
        N4D__TRY(n4d__jc_opt_num(jc, v, "v_membrane", &N4D__JR_FINITE, &d->v[i], NULL));
        double *par = d->par + NPAR * i;
        memcpy(par, c->par, sizeof c->par);
        N4D__TRY(ij_params(&r, v, "params", par));
        int64_t gen = 0, parent = -1;
        N4D__TRY(n4d__jc_opt_int(jc, v, "generation", 0, UINT32_MAX, "a generation >= 0", &gen,
                                 NULL));
        d->gen[i] = (uint32_t)gen;
        json_t *pv = json_object_get(v, "parent_id");
        if (pv && !json_is_null(pv))
            N4D__TRY(n4d__jc_opt_int(jc, v, "parent_id", -1, INT64_MAX, "a neuron id or null",
                                     &parent, NULL));
        d->parent[i] = parent;
        N4D__TRY(n4d__jc_opt_num(jc, v, "health", &N4D__JR_NONNEG, &d->health[i], NULL));
        N4D__TRY(n4d__jc_opt_num(jc, v, "age", &N4D__JR_NONNEG, &d->age[i], NULL));
        n4d__jc_pop(jc);
    }
    n4d__jc_pop(jc);
    n4d__jc_push_key(jc, "synapses");
    json_array_foreach(syns, i, v) {
        n4d__jc_push_idx(jc, i);
        N4D__TRY(n4d__jc_want(jc, v, JSON_OBJECT, "an object"));
        double w;
        N4D__TRY(ij_id(&r, v, "pre_id", &d->pre[i]));
        N4D__TRY(ij_id(&r, v, "post_id", &d->post[i]));
        N4D__TRY(n4d__jc_req_num(jc, v, "weight", &N4D__JR_FINITE, &w));
        d->w[i] = (float)w;
        int64_t dl = 1;
        N4D__TRY(n4d__jc_opt_int(jc, v, "delay", 1, N4D__MAX_DELAY_STEPS,
                            "a delay in steps (1..65535)", &dl, NULL));
        d->delay[i] = (uint32_t)dl;
        json_t *ty = json_object_get(v, "synapse_type");
        if (ty) {
            const char *t = json_is_string(ty) ? json_string_value(ty) : "";
            if (strcmp(t, "inhibitory") == 0) {
                d->delay[i] |= 0x80000000u; /* marked: the sign is decided in make_model */
            } else if (strcmp(t, "excitatory") != 0) {
                n4d__jc_push_key(jc, "synapse_type");
                return n4d__jc_fail(jc, N4D__JC_AT_VALUE,
                                    "is neither \"excitatory\" nor \"inhibitory\"");
            }
        }
        n4d__jc_pop(jc);
    }
    n4d__jc_pop(jc);
    return N4D_OK;
}

/* ---- HDF5 file -------------------------------------------------------------------- */

static n4d_status read_h5_model(n4d__h5 *h, hid_t file, n4d_model *m, imp *d, cfg *c)
{
    char *meta = NULL;
    size_t meta_len = 0;
    n4d_status st = n4d__h5_read_str_dset(h, file, "meta_json", &meta, &meta_len);
    if (st)
        return st;
    json_error_t jerr;
    json_t *root = json_loadb(meta, meta_len, 0, &jerr);
    n4d__free(h->ctx, N4D_MEM_OTHER, meta, meta_len + 1);
    if (!root)
        return n4d__h5_fail(h, N4D_E_FORMAT, "/meta_json", false, "invalid JSON at line %d: %s",
                            jerr.line, jerr.text);
    if (!json_is_object(root)) {
        json_decref(root);
        return n4d__h5_fail(h, N4D_E_FORMAT, "/meta_json", false, "is not a JSON object");
    }
    ij ir;
    ij_init(&ir, h, "/meta_json");
    st = read_config(&ir, json_object_get(root, "config"), m, c);
    uint64_t dn[2] = {UINT64_MAX, 10}, ds[2] = {UINT64_MAX, 5};
    hid_t dsn = H5I_INVALID_HID, dss = H5I_INVALID_HID;
    double *buf = NULL;
    size_t buf_n = 0;
    if (st)
        goto done;
    if ((dsn = n4d__h5_open_dset(h, file, "neurons", N4D__T_NUMBER, 2, dn, &st)) < 0 ||
        (dss = n4d__h5_open_dset(h, file, "synapses", N4D__T_NUMBER, 2, ds, &st)) < 0)
        goto done;
    if (dn[0] > 0xfffffff0ull || ds[0] > ((uint64_t)1 << 36)) {
        st = n4d__h5_fail(h, N4D_E_LIMIT, "/neurons", false, "%llu neurons / %llu synapses are "
                          "beyond the import limits", (unsigned long long)dn[0],
                          (unsigned long long)ds[0]);
        goto done;
    }
    if ((st = imp_alloc(d, dn[0], ds[0], NULL)))
        goto done;
    buf_n = (dn[0] * 10 > ds[0] * 5 ? dn[0] * 10 : ds[0] * 5) + 1;
    buf = n4d__alloc(h->ctx, N4D_MEM_BUILD, buf_n * sizeof(double));
    if (!buf) {
        st = n4d__h5_fail(h, N4D_E_NOMEM, NULL, false, "out of memory");
        goto done;
    }
    json_t *nx = json_object_get(root, "next_neuron_id");
    if (json_is_integer(nx) && json_integer_value(nx) > 0)
        d->next_id = (uint64_t)json_integer_value(nx);
    /* per-neuron parameters from meta_json's neuron list when it has them */
    json_t *jn = json_object_get(root, "neurons");
    if ((st = n4d__h5_read_rows(h, dsn, "neurons", N4D__T_NUMBER, 0, dn[0], buf)))
        goto done;
    for (uint64_t i = 0; i < dn[0]; i++) {
        const double *r = buf + 10 * i;
        if (!(r[0] >= 0 && r[0] < 16777216.0) || r[0] != floor(r[0])) {
            st = n4d__h5_fail(h, N4D_E_FORMAT, "/neurons", false,
                              "row %llu: id %g is not an integer id below 2^24",
                              (unsigned long long)i, r[0]);
            goto done;
        }
        d->id[i] = (uint64_t)r[0];
        for (int k = 0; k < 4; k++) {
            if (!(r[1 + k] >= 0 && r[1 + k] < c->shape[k]) || r[1 + k] != floor(r[1 + k])) {
                st = n4d__h5_fail(h, N4D_E_FORMAT, "/neurons", false,
                                  "row %llu: coordinate %d (%g) is outside the lattice",
                                  (unsigned long long)i, k, r[1 + k]);
                goto done;
            }
            d->pos[4 * i + (uint64_t)k] = (int32_t)r[1 + k];
        }
        if (!isfinite(r[9])) {
            st = n4d__h5_fail(h, N4D_E_FORMAT, "/neurons", false,
                              "row %llu: v_membrane is not finite", (unsigned long long)i);
            goto done;
        }
        d->v[i] = r[9];
        if (!(r[5] >= 0 && r[5] < 4294967296.0) || r[5] != floor(r[5]) || !(r[7] >= 0) ||
            !(r[8] >= 0) || !isfinite(r[6]) || !isfinite(r[7]) || !isfinite(r[8])) {
            st = n4d__h5_fail(h, N4D_E_FORMAT, "/neurons", false,
                              "row %llu: generation, parent_id, health or age is not valid "
                              "(expected an integer generation >= 0, finite health and age >= 0)",
                              (unsigned long long)i);
            goto done;
        }
        d->gen[i] = (uint32_t)r[5];
        d->parent[i] = r[6] >= 0 ? (int64_t)r[6] : -1;
        d->health[i] = r[7];
        d->age[i] = r[8];
        double *par = d->par + NPAR * i;
        memcpy(par, c->par, sizeof c->par);
        if (json_array_size(jn) == dn[0]) {
            json_t *ne = json_array_get(jn, (size_t)i), *jid = json_object_get(ne, "id");
            if (json_is_number(jid) && json_number_value(jid) == (double)d->id[i]) {
                ir.jc.depth = 0;
                n4d__jc_push_key(&ir.jc, "neurons");
                n4d__jc_push_idx(&ir.jc, (size_t)i);
                if ((st = ij_params(&ir, ne, "params", par)))
                    goto done;
            }
        }
    }
    if ((st = n4d__h5_read_rows(h, dss, "synapses", N4D__T_NUMBER, 0, ds[0], buf)))
        goto done;
    for (uint64_t i = 0; i < ds[0]; i++) {
        const double *r = buf + 5 * i;
        const char *bad = NULL;
        if (!(r[0] >= 0 && r[0] < 16777216.0) || r[0] != floor(r[0]) || !(r[1] >= 0 &&
            r[1] < 16777216.0) || r[1] != floor(r[1]))
            bad = "pre or post is not an integer id below 2^24";
        else if (!isfinite(r[2]))
            bad = "weight is not finite";
        else if (!(r[3] >= 1 && r[3] <= N4D__MAX_DELAY_STEPS) || r[3] != floor(r[3]))
            bad = "delay is not a number of steps in 1..65535";
        if (bad) {
            st = n4d__h5_fail(h, N4D_E_FORMAT, "/synapses", false, "row %llu: %s",
                              (unsigned long long)i, bad);
            goto done;
        }
        d->pre[i] = (uint64_t)r[0];
        d->post[i] = (uint64_t)r[1];
        d->w[i] = (float)r[2];
        d->delay[i] = (uint32_t)r[3];
    }
done:
    n4d__free(h->ctx, N4D_MEM_BUILD, buf, buf_n * sizeof(double));
    n4d__h5_close(dsn);
    n4d__h5_close(dss);
    json_decref(root);
    return st;
}

/* ---- the model ------------------------------------------------------------------------ */

typedef struct idpair {
    uint64_t orig;
    uint64_t idx; /* index in the file's neuron list */
} idpair;

static int cmp_idpair(const void *a, const void *b)
{
    const idpair *x = a, *y = b;
    return (x->orig > y->orig) - (x->orig < y->orig);
}

typedef struct rsyn {
    uint32_t key, target;
    float w;
} rsyn;

static int cmp_rsyn(const void *a, const void *b)
{
    const rsyn *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    if (x->target != y->target)
        return x->target < y->target ? -1 : 1;
    return (x->w > y->w) - (x->w < y->w);
}

static bool in_area(const n4d__area *a, const int32_t *p)
{
    for (int k = 0; k < 4; k++)
        if (p[k] < a->lo[k] || p[k] > a->hi[k])
            return false;
    return true;
}

/* Populations, ids, positions and CSR synapses from the imported lists. */
static n4d_status make_model(n4d__h5 *h, const char *obj, const char *obj_s, imp *d, n4d_model *m,
                             const cfg *c, bool reference_inhibition, bool plastic)
{
    /* hebb_4dnc on every synapse: class 1, for every population pair */
    /* a cell lifecycle that mutates weights needs the sim's own weights:
     * a static class for every pair when the import is static */
    const n4d_lifecycle *lc = &c->life;
    const bool owned = !plastic && lc->enable_death && lc->enable_reproduction &&
                       lc->mutation_std_weights > 0.0;
    const uint32_t cls = plastic || owned ? 1u : 0u;
    if (owned && n4d__model_add_class(m, "4dnc", n4d__synapse_model_by_name("static"), NULL, 0,
                                      -1, -1))
        return n4d__h5_fail(h, N4D_E_CONFIG, obj, false, "%s", n4d_last_error(m));
    if (plastic) {
        const n4d__synapse_model *sm = n4d__synapse_model_by_name("hebb_4dnc");
        n4d_param_value pv[N4D__MAX_SYN_PARAMS];
        for (int32_t k = 0; k < sm->n_params; k++)
            pv[k] = (n4d_param_value){sm->params[k].name, c->hebb[k]};
        if (n4d__model_add_class(m, "4dnc", sm, pv, (uint32_t)sm->n_params, -1, -1))
            return n4d__h5_fail(h, N4D_E_CONFIG, obj, false, "%s", n4d_last_error(m));
    }
    n4d_context *ctx = m->ctx;
    const uint64_t N = d->n, S = d->s, NN = N ? N : 1;
    n4d_status st = N4D_OK;
    idpair *ord = n4d__alloc(ctx, N4D_MEM_BUILD, NN * sizeof *ord);
    int32_t *area_of = n4d__alloc(ctx, N4D_MEM_BUILD, NN * sizeof(int32_t));
    int32_t *group_of = n4d__alloc(ctx, N4D_MEM_BUILD, NN * sizeof(int32_t));
    uint64_t *newid = n4d__alloc(ctx, N4D_MEM_BUILD, NN * sizeof(uint64_t)); /* by file index */
    uint64_t *group_first = n4d__alloc(ctx, N4D_MEM_BUILD, NN * sizeof(uint64_t)); /* file idx */
    uint64_t *pop_n = n4d__calloc(ctx, N4D_MEM_BUILD, NN, sizeof(uint64_t));
    int32_t *pos = n4d__alloc(ctx, N4D_MEM_NEURONS, NN * 4 * sizeof(int32_t));
    n4d__synapses syn;
    memset(&syn, 0, sizeof syn);
    uint64_t *cnt = n4d__calloc(ctx, N4D_MEM_BUILD, N + 1, sizeof(uint64_t));
    rsyn *rows = n4d__alloc(ctx, N4D_MEM_BUILD, (S ? S : 1) * sizeof(rsyn));
    size_t n_groups = 0;
    if (!ord || !area_of || !group_of || !newid || !group_first || !pop_n || !pos || !cnt ||
        !rows) {
        st = n4d__h5_fail(h, N4D_E_NOMEM, obj, false, "out of memory");
        goto done;
    }
    for (uint64_t i = 0; i < N; i++)
        ord[i] = (idpair){d->id[i], i};
    qsort(ord, N, sizeof *ord, cmp_idpair);
    for (uint64_t i = 1; i < N; i++)
        if (ord[i].orig == ord[i - 1].orig) {
            st = n4d__h5_fail(h, N4D_E_FORMAT, obj, false, "neuron id %llu appears twice",
                              (unsigned long long)ord[i].orig);
            goto done;
        }
    /* area of every neuron: the first area holding it; else the whole lattice */
    int32_t lattice_area = -1;
    for (uint64_t i = 0; i < N; i++) {
        area_of[i] = -1;
        for (size_t a = 0; a < m->n_areas && area_of[i] < 0; a++)
            if (in_area(&m->areas[a], d->pos + 4 * i))
                area_of[i] = (int32_t)a;
        if (area_of[i] < 0) {
            if (lattice_area < 0) {
                int32_t lo[4] = {0, 0, 0, 0}, hi[4];
                for (int k = 0; k < 4; k++)
                    hi[k] = (int32_t)c->shape[k] - 1;
                if (n4d_model_add_area(m, "_lattice", lo, hi)) {
                    st = n4d__h5_fail(h, N4D_E_FORMAT, obj, false, "%s", n4d_last_error(m));
                    goto done;
                }
                lattice_area = (int32_t)m->n_areas - 1;
            }
            area_of[i] = lattice_area;
        }
    }
    /* groups: (area, parameters), ordered by area then first appearance in id order */
    for (size_t a = 0; a < m->n_areas; a++) {
        size_t area_groups = 0;
        for (uint64_t k = 0; k < N; k++) {
            uint64_t i = ord[k].idx;
            if (area_of[i] != (int32_t)a)
                continue;
            size_t g = n_groups - area_groups;
            for (; g < n_groups; g++)
                if (memcmp(d->par + NPAR * group_first[g], d->par + NPAR * i,
                           NPAR * sizeof(double)) == 0)
                    break;
            if (g == n_groups) {
                group_first[n_groups++] = i;
                area_groups++;
            }
            group_of[i] = (int32_t)g;
            pop_n[g]++;
        }
    }
    /* one lif population per group */
    for (size_t g = 0; g < n_groups; g++) {
        uint64_t i0 = group_first[g];
        const n4d__area *ar = &m->areas[area_of[i0]];
        char name[300];
        size_t k = 0;
        for (size_t e = 0; e < g; e++)
            k += area_of[group_first[e]] == area_of[i0];
        if (k == 0)
            snprintf(name, sizeof name, "%s", ar->name);
        else
            snprintf(name, sizeof name, "%s_%zu", ar->name, k);
        n4d_population_desc pd;
        n4d_population_desc_init(&pd);
        pd.name = name;
        pd.area = ar->name;
        pd.model_name = "lif";
        const double *p = d->par + NPAR * i0;
        const n4d_param_value pv[] = {{"tau_m", p[0]},       {"v_rest", p[1]}, {"v_reset", p[2]},
                                      {"v_threshold", p[3]}, {"t_ref", p[4]}};
        pd.params = pv;
        pd.n_params = 5;
        uint64_t sites = 1;
        for (int a = 0; a < 4; a++)
            sites *= (uint64_t)(ar->hi[a] - ar->lo[a] + 1);
        pd.placement = pop_n[g] <= sites ? N4D_PLACE_COUNT : N4D_PLACE_ALL;
        pd.count = pop_n[g] <= sites ? pop_n[g] : 0;
        /* initial V: the saved v_membrane when it is the same for the group */
        double vsum = 0, v0 = d->v[i0];
        bool same = true;
        for (uint64_t i = 0; i < N; i++)
            if (group_of[i] == (int32_t)g) {
                vsum += d->v[i];
                same = same && d->v[i] == v0;
            }
        pd.v_init = n4d_dist_constant(same ? v0 : vsum / (double)pop_n[g]);
        if (!same)
            n4d__model_warn(m, "%s: population \"%s\": the saved membrane potentials differ; "
                            "the simulation starts from their mean %g mV",
                            h->path, name, vsum / (double)pop_n[g]);
        if (n4d_model_add_population(m, &pd, NULL) ||
            (lc->enable_death && n4d_model_set_population_lifecycle(m, name, lc))) {
            st = n4d__h5_fail(h, N4D_E_FORMAT, obj, false, "neuron %llu: %s",
                              (unsigned long long)d->id[i0], n4d_last_error(m));
            goto done;
        }
    }
    /* new ids: group by group, in original id order */
    {
        uint64_t *next = group_first; /* reuse: first new id of each group */
        uint64_t acc = 0;
        for (size_t g = 0; g < n_groups; g++) {
            next[g] = acc;
            acc += pop_n[g];
        }
        for (uint64_t k = 0; k < N; k++) {
            uint64_t i = ord[k].idx;
            newid[i] = next[group_of[i]]++;
            memcpy(pos + 4 * newid[i], d->pos + 4 * i, 4 * sizeof(int32_t));
        }
    }
    /* synapses: rows by new source id, canonical order (key, target, weight) */
    float maxw = 0;
    for (uint64_t j = 0; j < S; j++) {
        uint64_t ends[2] = {d->pre[j], d->post[j]}, mapped[2];
        for (int e = 0; e < 2; e++) {
            idpair key = {ends[e], 0};
            idpair *f = bsearch(&key, ord, N, sizeof *ord, cmp_idpair);
            if (!f) {
                st = n4d__h5_fail(h, N4D_E_FORMAT, obj_s, false,
                                  "synapse %llu: %s neuron %llu does not exist",
                                  (unsigned long long)j, e ? "post" : "pre",
                                  (unsigned long long)ends[e]);
                goto done;
            }
            mapped[e] = newid[f->idx];
        }
        d->pre[j] = mapped[0];
        d->post[j] = mapped[1];
        bool inh = (d->delay[j] & 0x80000000u) != 0;
        d->delay[j] &= 0x7fffffffu;
        if (inh && !reference_inhibition)
            d->w[j] = -fabsf(d->w[j]); /* else: the stored weight, as the reference adds it */
        if (fabsf(d->w[j]) > maxw)
            maxw = fabsf(d->w[j]);
        cnt[mapped[0] + 1]++;
    }
    for (uint64_t i = 0; i < N; i++)
        cnt[i + 1] += cnt[i];
    for (uint64_t j = 0; j < S; j++) {
        uint64_t at = cnt[d->pre[j]]++;
        rows[at] = (rsyn){N4D__SEG_KEY3(d->delay[j], d->w[j] < 0.0f, cls), (uint32_t)d->post[j],
                          d->w[j]};
    }
    for (uint64_t i = N; i > 0; i--) /* cnt[i] is now the end of row i: shift back */
        cnt[i] = cnt[i - 1];
    cnt[0] = 0;
    uint64_t G = 0;
    for (uint64_t i = 0; i < N; i++) {
        qsort(rows + cnt[i], cnt[i + 1] - cnt[i], sizeof *rows, cmp_rsyn);
        for (uint64_t j = cnt[i]; j < cnt[i + 1]; j++)
            G += j == cnt[i] || rows[j].key != rows[j - 1].key;
    }
    syn.n_syn = S;
    syn.n_seg = G;
    if (plastic) /* the weights may grow to the clip bounds */
        maxw = fmaxf(maxw, (float)fmax(fabs(c->hebb[1]), fabs(c->hebb[2])));
    syn.scale = n4d__store_scale_for(maxw);
    syn.inv_scale = 1.0 / syn.scale;
    syn.seg_ptr = n4d__alloc(ctx, N4D_MEM_SYNAPSES, (N + 1) * sizeof(uint64_t));
    syn.seg_off = n4d__alloc(ctx, N4D_MEM_SYNAPSES, (G + 1) * sizeof(uint64_t));
    syn.seg_key = n4d__alloc(ctx, N4D_MEM_SYNAPSES, (G ? G : 1) * sizeof(uint32_t));
    syn.target = n4d__alloc(ctx, N4D_MEM_SYNAPSES, (S ? S : 1) * sizeof(uint32_t));
    syn.weight_q = n4d__alloc(ctx, N4D_MEM_SYNAPSES, (S ? S : 1) * sizeof(int32_t));
    if (!syn.seg_ptr || !syn.seg_off || !syn.seg_key || !syn.target || !syn.weight_q) {
        n4d__store_free_syn(ctx, &syn, N);
        st = n4d__h5_fail(h, N4D_E_NOMEM, obj, false, "out of memory for %llu synapses",
                          (unsigned long long)S);
        goto done;
    }
    uint64_t g = 0;
    for (uint64_t i = 0; i < N; i++) {
        syn.seg_ptr[i] = g;
        for (uint64_t j = cnt[i]; j < cnt[i + 1]; j++) {
            if (j == cnt[i] || rows[j].key != rows[j - 1].key) {
                syn.seg_off[g] = j;
                syn.seg_key[g++] = rows[j].key;
            }
            syn.target[j] = rows[j].target;
            syn.weight_q[j] = (int32_t)lrint((double)rows[j].w * syn.scale);
        }
    }
    syn.seg_ptr[N] = G;
    syn.seg_off[G] = S;
    if ((st = n4d__store_check_syn(h, &syn, N))) {
        n4d__store_free_syn(ctx, &syn, N);
        goto done;
    }
    st = n4d__store_install(h, m, N, pos, pop_n, &syn, NULL);
    pos = NULL;
    if (!st && lc->enable_death) { /* the saved lineage: the lifecycle's initial state */
        n4d__life_init *I = n4d__calloc(ctx, N4D_MEM_OTHER, 1, sizeof *I);
        if (I) {
            m->life0 = I;
            I->id = n4d__alloc(ctx, N4D_MEM_NEURONS, NN * sizeof(uint64_t));
            I->generation = n4d__alloc(ctx, N4D_MEM_NEURONS, NN * sizeof(uint32_t));
            I->parent = n4d__alloc(ctx, N4D_MEM_NEURONS, NN * sizeof(int64_t));
            I->health = n4d__alloc(ctx, N4D_MEM_NEURONS, NN * sizeof(double));
            I->age = n4d__alloc(ctx, N4D_MEM_NEURONS, NN * sizeof(double));
        }
        if (!I || !I->id || !I->generation || !I->parent || !I->health || !I->age) {
            st = n4d__h5_fail(h, N4D_E_NOMEM, obj, false, "out of memory for the lineage");
            goto done;
        }
        for (uint64_t i = 0; i < N; i++) {
            const uint64_t u = newid[i];
            I->id[u] = d->id[i];
            I->generation[u] = d->gen[i];
            I->parent[u] = d->parent[i];
            I->health[u] = d->health[i];
            I->age[u] = d->age[i];
        }
        I->next_id = d->next_id;
    }
done:
    n4d__free(ctx, N4D_MEM_BUILD, ord, NN * sizeof *ord);
    n4d__free(ctx, N4D_MEM_BUILD, area_of, NN * sizeof(int32_t));
    n4d__free(ctx, N4D_MEM_BUILD, group_of, NN * sizeof(int32_t));
    n4d__free(ctx, N4D_MEM_BUILD, newid, NN * sizeof(uint64_t));
    n4d__free(ctx, N4D_MEM_BUILD, group_first, NN * sizeof(uint64_t));
    n4d__free(ctx, N4D_MEM_BUILD, pop_n, NN * sizeof(uint64_t));
    n4d__free(ctx, N4D_MEM_NEURONS, pos, NN * 4 * sizeof(int32_t));
    n4d__free(ctx, N4D_MEM_BUILD, cnt, (N + 1) * sizeof(uint64_t));
    n4d__free(ctx, N4D_MEM_BUILD, rows, (S ? S : 1) * sizeof(rsyn));
    return st;
}

/* ---- entry point ----------------------------------------------------------------- */

n4d_status n4d_model_import_4dnc(n4d_context *ctx, const char *path, const n4d_import_options *opt,
                                 n4d_model **out)
{
    if (out)
        *out = NULL;
    if (!n4d__is_handle(ctx, N4D__MAGIC_CONTEXT))
        return N4D_E_INVALID_ARG;
    n4d__clear_error(&ctx->hdr);
    if (!path || !out)
        return n4d__error(&ctx->hdr, N4D_E_INVALID_ARG, "n4d_model_import_4dnc: %s is NULL",
                          path ? "out" : "path");
    n4d_import_options o;
    n4d_import_options_init(&o);
    if (opt) {
        if (opt->struct_size < sizeof(uint32_t))
            return n4d__error(&ctx->hdr, N4D_E_INVALID_ARG,
                              "import options: struct_size is not set");
        N4D__COPY_IN(o, opt);
    }
    if (o.format < N4D_IMPORT_AUTO || o.format > N4D_IMPORT_HDF5)
        return n4d__error(&ctx->hdr, N4D_E_INVALID_ARG, "import options: unknown format %d",
                          o.format);
    n4d__h5 h;
    n4d__h5_begin(&h, ctx, &ctx->hdr, path);
    n4d_status st = N4D_OK;
    n4d_model *m = NULL;
    imp d;
    memset(&d, 0, sizeof d);
    d.h = &h;
    d.ctx = ctx;
    cfg c;
    memset(&c, 0, sizeof c);
    int32_t fmt = o.format;
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        st = n4d__h5_fail(&h, N4D_E_IO, NULL, false, "cannot open: %s", strerror(errno));
        goto done;
    }
    unsigned char sig[8] = {0};
    size_t got = fread(sig, 1, sizeof sig, fp);
    if (fmt == N4D_IMPORT_AUTO) {
        static const unsigned char h5sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
        size_t k = 0;
        while (k < got && (sig[k] == ' ' || sig[k] == '\t' || sig[k] == '\n' || sig[k] == '\r'))
            k++;
        if (got == 8 && memcmp(sig, h5sig, 8) == 0)
            fmt = N4D_IMPORT_HDF5;
        else if (k < got && sig[k] == '{')
            fmt = N4D_IMPORT_JSON;
        else {
            fclose(fp);
            st = n4d__h5_fail(&h, N4D_E_FORMAT, NULL, false,
                              "neither a JSON nor an HDF5 4D Neural Cognition model");
            goto done;
        }
    }
    if ((st = n4d_model_create(ctx, &m))) {
        fclose(fp);
        goto done;
    }
    n4d_model_set_dt(m, 1.0); /* one 4D Neural Cognition step */
    if (fmt == N4D_IMPORT_JSON) {
        rewind(fp);
        json_error_t jerr;
        json_t *root = json_loadf(fp, JSON_REJECT_DUPLICATES, &jerr);
        fclose(fp);
        if (!root) {
            st = n4d__h5_fail(&h, N4D_E_FORMAT, NULL, false, "%d:%d: invalid JSON: %s", jerr.line,
                              jerr.column, jerr.text);
            goto done;
        }
        st = read_json_model(&h, root, m, &d, &c);
        json_decref(root);
    } else {
        fclose(fp);
        hid_t f = n4d__h5_open_read(&h, &st);
        if (f < 0)
            goto done;
        st = read_h5_model(&h, f, m, &d, &c);
        H5Fclose(f);
    }
    if (!st)
        st = make_model(&h, fmt == N4D_IMPORT_JSON ? "JSON" : "/neurons",
                        fmt == N4D_IMPORT_JSON ? "JSON" : "/synapses", &d, m, &c,
                        o.reference_inhibition != 0, o.static_weights == 0);
done:
    imp_free(&d);
    n4d__h5_end(&h);
    if (st) {
        n4d_model_destroy(m);
        return st;
    }
    *out = m;
    return N4D_OK;
}

#else
typedef int n4d__store_import_unused;
#endif
