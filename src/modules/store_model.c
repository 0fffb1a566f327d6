/* Model save and load (whole, partial, memory-mapped). Layout: SONATA
 * /nodes and /edges for other tools, and /n4d with the description and the
 * exact CSR arrays that a load reads back (docs/storage.md). */
#define _DEFAULT_SOURCE /* madvise */
#include "store_h5.h"

#if N4D_HAVE_HDF5

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define BLOCK ((uint64_t)1 << 18) /* rows per generated write */
#define DESC "/n4d/description"

double n4d__store_scale_for(double maxw)
{
    if (!(maxw > 0) || !isfinite(maxw))
        return 1.0;
    int e;
    frexp(maxw, &e);
    return ldexp(1.0, 26 - e);
}

/* ---- description (JSON) -------------------------------------------------------- */

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
_Static_assert(sizeof(n4d_neuron_params) == 15 * sizeof(double),
               "n4d_neuron_params changed: update jparams() and read_description()");
_Static_assert(sizeof(n4d_projection_desc) == 176 && sizeof(n4d_population_desc) == 216 &&
                   sizeof(n4d_input_desc) == 64 && sizeof(n4d_layout_options) == 16,
               "a model descriptor changed: update describe() and read_description()");

static json_t *jparams(const n4d_neuron_params *p)
{
    return json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "tau_m",
                     jnum(p->tau_m), "v_rest", jnum(p->v_rest), "v_reset", jnum(p->v_reset),
                     "v_threshold", jnum(p->v_threshold), "t_ref", jnum(p->t_ref), "tau_syn_ex",
                     jnum(p->tau_syn_ex), "tau_syn_in", jnum(p->tau_syn_in), "i_e", jnum(p->i_e),
                     "a", jnum(p->a), "b", jnum(p->b), "c", jnum(p->c), "d", jnum(p->d), "v_peak",
                     jnum(p->v_peak), "e_ex", jnum(p->e_ex), "e_in", jnum(p->e_in));
}

/* The model description as JSON text (malloc'ed by jansson), or NULL. */
static char *describe(const n4d_model *m)
{
    json_t *root = json_object(), *areas = json_array(), *pops = json_array(),
           *projs = json_array(), *inputs = json_array(), *senses = json_array();
    bool ok = root && areas && pops && projs && inputs && senses;
    if (ok) {
        json_object_set_new(root, "format", json_string("n4d-model-description"));
        json_object_set_new(root, "version", json_integer(1));
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
        ok = json_array_append_new(
                 pops, json_pack("{s:s,s:s,s:i,s:o,s:i,s:o,s:I,s:o,s:I,s:I}", "name", p->name,
                                 "area", m->areas[p->area].name, "model", (int)p->model, "params",
                                 jparams(&p->params), "placement", (int)p->placement, "density",
                                 jnum(p->density), "count", (json_int_t)p->count, "v_init",
                                 jdist(&p->v_init), "first", (json_int_t)p->first, "n",
                                 (json_int_t)p->n)) == 0;
    }
    for (size_t i = 0; ok && i < m->n_projs; i++) {
        const n4d__projection *p = &m->projs[i];
        const n4d_projection_desc *d = &p->d;
        ok = json_array_append_new(
                 projs,
                 json_pack("{s:s,s:s,s:s,s:i,s:o,s:I,s:i,s:o,s:o,s:o,s:o,s:i,s:i,s:i}", "name",
                           p->name, "source", m->pops[p->source].name, "target",
                           m->pops[p->target].name, "rule", (int)d->rule, "p", jnum(d->p), "n",
                           (json_int_t)d->n, "kernel", (int)d->kernel, "sigma", jnum(d->sigma),
                           "cutoff", jnum(d->cutoff), "weight", jdist(&d->weight), "delay",
                           jdist(&d->delay), "syn_type", (int)d->syn_type, "allow_autapses",
                           (int)d->allow_autapses, "allow_multapses",
                           (int)d->allow_multapses)) == 0;
    }
    for (size_t i = 0; ok && i < m->n_inputs; i++) {
        const n4d__input *in = &m->inputs[i];
        ok = json_array_append_new(
                 inputs, json_pack("{s:i,s:s,s:o,s:o,s:o,s:I,s:o,s:o}", "kind", (int)in->kind,
                                   "target", m->pops[in->target].name, "amplitude",
                                   jnum(in->amplitude), "rate", jnum(in->rate), "weight",
                                   jnum(in->weight), "n_sources", (json_int_t)in->n_sources,
                                   "start", jnum(in->start), "stop", jnum(in->stop))) == 0;
    }
    for (size_t i = 0; ok && i < m->n_senses; i++) {
        const n4d__sense *s = &m->senses[i];
        ok = json_array_append_new(senses, json_pack("{s:s,s:s,s:I,s:I}", "name", s->name, "area",
                                                     m->areas[s->area].name, "rows",
                                                     (json_int_t)s->rows, "cols",
                                                     (json_int_t)s->cols)) == 0;
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

/* Reader of the description with messages naming the key path. */
typedef struct jr {
    n4d__h5 *h;
    char where[200];
    n4d_status st;
} jr;

static bool jr_fail(jr *r, const char *key, const char *what)
{
    if (r->st == N4D_OK)
        r->st = n4d__h5_fail(r->h, N4D_E_FORMAT, DESC, false, "%s%s%s: %s", r->where,
                             key && r->where[0] ? "." : "", key ? key : "", what);
    return false;
}

static bool jr_numv(jr *r, json_t *v, const char *key, double *out)
{
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return true;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (strcmp(s, "inf") == 0) {
            *out = INFINITY;
            return true;
        }
        if (strcmp(s, "-inf") == 0) {
            *out = -INFINITY;
            return true;
        }
        if (strcmp(s, "nan") == 0) {
            *out = NAN;
            return true;
        }
    }
    return jr_fail(r, key, v ? "is not a number" : "is missing");
}

static bool jr_num(jr *r, json_t *o, const char *key, double *out)
{
    return jr_numv(r, json_object_get(o, key), key, out);
}

static bool jr_int(jr *r, json_t *o, const char *key, int64_t lo, int64_t hi, int64_t *out)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v))
        return jr_fail(r, key, v ? "is not an integer" : "is missing");
    *out = json_integer_value(v);
    if (*out < lo || *out > hi)
        return jr_fail(r, key, "is out of range");
    return true;
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
    json_t *v = json_object_get(o, key);
    if (!json_is_string(v))
        return jr_fail(r, key, v ? "is not a string" : "is missing");
    *out = json_string_value(v);
    return true;
}

static bool jr_dist(jr *r, json_t *o, const char *key, n4d_dist *d)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_object(v))
        return jr_fail(r, key, "is not an object");
    size_t len = strlen(r->where);
    snprintf(r->where + len, sizeof r->where - len, "%s%s", len ? "." : "", key);
    bool ok = jr_i32(r, v, "kind", &d->kind) && jr_num(r, v, "value", &d->value) &&
              jr_num(r, v, "std", &d->std) && jr_num(r, v, "lo", &d->lo) &&
              jr_num(r, v, "hi", &d->hi);
    r->where[len] = '\0';
    return ok;
}

static bool jr_array(jr *r, json_t *root, const char *key, json_t **out)
{
    *out = json_object_get(root, key);
    if (!json_is_array(*out))
        return jr_fail(r, key, "is not an array");
    return true;
}

/* Describes a new model from the description; pop_n receives the saved
 * neuron count of each population (n_pops entries, allocated). */
static n4d_status read_description(n4d__h5 *h, const char *text, size_t len, n4d_model *m,
                                   uint64_t **pop_n_out)
{
    json_error_t jerr;
    jr r = {h, "", N4D_OK};
    *pop_n_out = NULL;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return n4d__h5_fail(h, N4D_E_FORMAT, DESC, false, "invalid JSON at line %d: %s",
                            jerr.line, jerr.text);
    if (!json_is_object(root)) {
        json_decref(root);
        return n4d__h5_fail(h, N4D_E_FORMAT, DESC, false, "is not a JSON object");
    }
    json_t *areas, *pops, *projs, *inputs, *senses;
    const char *fmt = NULL;
    int64_t ver = 0;
    uint64_t *pop_n = NULL;
    size_t np = 0;
    if (!jr_str(&r, root, "format", &fmt) || !jr_int(&r, root, "version", 0, INT32_MAX, &ver))
        goto done;
    if (strcmp(fmt, "n4d-model-description") != 0 || ver != 1) {
        jr_fail(&r, "format", "is not an n4d model description of version 1");
        goto done;
    }
    if (!jr_array(&r, root, "areas", &areas) || !jr_array(&r, root, "populations", &pops) ||
        !jr_array(&r, root, "projections", &projs) || !jr_array(&r, root, "inputs", &inputs) ||
        !jr_array(&r, root, "senses", &senses))
        goto done;
    size_t i;
    json_t *v;
    json_array_foreach(areas, i, v) {
        snprintf(r.where, sizeof r.where, "areas[%zu]", i);
        const char *name;
        int32_t lo[4], hi[4];
        json_t *jl = json_object_get(v, "lo"), *jh = json_object_get(v, "hi");
        if (!jr_str(&r, v, "name", &name))
            goto done;
        if (json_array_size(jl) != 4 || json_array_size(jh) != 4) {
            jr_fail(&r, "lo", "lo and hi must hold 4 integers");
            goto done;
        }
        for (int k = 0; k < 4; k++) {
            json_t *a = json_array_get(jl, (size_t)k), *b = json_array_get(jh, (size_t)k);
            if (!json_is_integer(a) || !json_is_integer(b) || json_integer_value(a) < INT32_MIN ||
                json_integer_value(a) > INT32_MAX || json_integer_value(b) < INT32_MIN ||
                json_integer_value(b) > INT32_MAX) {
                jr_fail(&r, "lo", "lo and hi must hold 4 integers");
                goto done;
            }
            lo[k] = (int32_t)json_integer_value(a);
            hi[k] = (int32_t)json_integer_value(b);
        }
        if (n4d_model_add_area(m, name, lo, hi)) {
            jr_fail(&r, NULL, n4d_last_error(m));
            goto done;
        }
    }
    np = json_array_size(pops);
    pop_n = n4d__calloc(m->ctx, N4D_MEM_OTHER, np ? np : 1, sizeof *pop_n);
    if (!pop_n) {
        r.st = n4d__h5_fail(h, N4D_E_NOMEM, DESC, false, "out of memory");
        goto done;
    }
    json_array_foreach(pops, i, v) {
        snprintf(r.where, sizeof r.where, "populations[%zu]", i);
        n4d_population_desc d;
        n4d_population_desc_init(&d);
        int64_t count, first, n;
        json_t *pj = json_object_get(v, "params");
        if (!jr_str(&r, v, "name", &d.name) || !jr_str(&r, v, "area", &d.area) ||
            !jr_i32(&r, v, "model", &d.model) || !jr_i32(&r, v, "placement", &d.placement) ||
            !jr_num(&r, v, "density", &d.density) ||
            !jr_int(&r, v, "count", 0, INT64_MAX, &count) || !jr_dist(&r, v, "v_init", &d.v_init) ||
            !jr_int(&r, v, "first", 0, INT64_MAX, &first) || !jr_int(&r, v, "n", 0, INT64_MAX, &n))
            goto done;
        if (!json_is_object(pj)) {
            jr_fail(&r, "params", "is not an object");
            goto done;
        }
        snprintf(r.where, sizeof r.where, "populations[%zu].params", i);
        n4d_neuron_params *p = &d.params;
        if (!jr_num(&r, pj, "tau_m", &p->tau_m) || !jr_num(&r, pj, "v_rest", &p->v_rest) ||
            !jr_num(&r, pj, "v_reset", &p->v_reset) ||
            !jr_num(&r, pj, "v_threshold", &p->v_threshold) ||
            !jr_num(&r, pj, "t_ref", &p->t_ref) || !jr_num(&r, pj, "tau_syn_ex", &p->tau_syn_ex) ||
            !jr_num(&r, pj, "tau_syn_in", &p->tau_syn_in) || !jr_num(&r, pj, "i_e", &p->i_e) ||
            !jr_num(&r, pj, "a", &p->a) || !jr_num(&r, pj, "b", &p->b) ||
            !jr_num(&r, pj, "c", &p->c) || !jr_num(&r, pj, "d", &p->d) ||
            !jr_num(&r, pj, "v_peak", &p->v_peak) || !jr_num(&r, pj, "e_ex", &p->e_ex) ||
            !jr_num(&r, pj, "e_in", &p->e_in))
            goto done;
        snprintf(r.where, sizeof r.where, "populations[%zu]", i);
        d.count = (uint64_t)count;
        if (n4d_model_add_population(m, &d, NULL)) {
            jr_fail(&r, NULL, n4d_last_error(m));
            goto done;
        }
        pop_n[i] = (uint64_t)n;
        m->pops[i].first = (uint64_t)first;
    }
    json_array_foreach(projs, i, v) {
        snprintf(r.where, sizeof r.where, "projections[%zu]", i);
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
            !jr_i32(&r, v, "allow_multapses", &d.allow_multapses))
            goto done;
        d.n = (uint64_t)n;
        if (n4d_model_add_projection(m, &d, NULL)) {
            jr_fail(&r, NULL, n4d_last_error(m));
            goto done;
        }
    }
    json_array_foreach(inputs, i, v) {
        snprintf(r.where, sizeof r.where, "inputs[%zu]", i);
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
        if (n4d_model_add_input(m, &d)) {
            jr_fail(&r, NULL, n4d_last_error(m));
            goto done;
        }
    }
    json_array_foreach(senses, i, v) {
        snprintf(r.where, sizeof r.where, "senses[%zu]", i);
        const char *name, *area;
        int64_t rows, cols;
        if (!jr_str(&r, v, "name", &name) || !jr_str(&r, v, "area", &area) ||
            !jr_int(&r, v, "rows", 0, UINT32_MAX, &rows) ||
            !jr_int(&r, v, "cols", 0, UINT32_MAX, &cols))
            goto done;
        if (n4d_model_add_sense(m, name, area, (uint32_t)rows, (uint32_t)cols)) {
            jr_fail(&r, NULL, n4d_last_error(m));
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

/* ---- CSR order ------------------------------------------------------------------ */

/* File encoding of a segment key: delay in steps << 1 | channel (1 = the
 * weights are negative), independent of the internal encoding. */
#define FILE_KEY(key) ((N4D__SEG_DELAY(key) << 1) | N4D__SEG_CH(key))

static int cmp_u64_pair(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* dst = src with row r of dst taken from row row_of[r] of src and every
 * target t replaced by tmap[t]; each segment sorted again by (target,
 * weight). dst arrays are allocated as the model frees them. */
static n4d_status permute_syn(n4d__h5 *h, n4d_context *ctx, const n4d__synapses *src, uint64_t N,
                              const uint32_t *row_of, const uint32_t *tmap, n4d__synapses *dst)
{
    memset(dst, 0, sizeof *dst);
    const uint64_t G = src->n_seg, S = src->n_syn;
    dst->n_seg = G;
    dst->n_syn = S;
    dst->scale = src->scale;
    dst->inv_scale = src->inv_scale;
    dst->min_delay = src->min_delay;
    dst->max_delay = src->max_delay;
    dst->seg_ptr = n4d__alloc(ctx, N4D_MEM_SYNAPSES, (N + 1) * sizeof(uint64_t));
    dst->seg_off = n4d__alloc(ctx, N4D_MEM_SYNAPSES, (G + 1) * sizeof(uint64_t));
    dst->seg_key = n4d__alloc(ctx, N4D_MEM_SYNAPSES, (G ? G : 1) * sizeof(uint32_t));
    dst->target = n4d__alloc(ctx, N4D_MEM_SYNAPSES, (S ? S : 1) * sizeof(uint32_t));
    dst->weight_q = n4d__alloc(ctx, N4D_MEM_SYNAPSES, (S ? S : 1) * sizeof(int32_t));
    uint64_t maxseg = 1;
    for (uint64_t g = 0; g < G; g++)
        if (src->seg_off[g + 1] - src->seg_off[g] > maxseg)
            maxseg = src->seg_off[g + 1] - src->seg_off[g];
    uint64_t *pairs = n4d__alloc(ctx, N4D_MEM_BUILD, maxseg * sizeof(uint64_t));
    if (!dst->seg_ptr || !dst->seg_off || !dst->seg_key || !dst->target || !dst->weight_q ||
        !pairs) {
        n4d__free(ctx, N4D_MEM_BUILD, pairs, maxseg * sizeof(uint64_t));
        n4d__store_free_syn(ctx, dst, N);
        return n4d__h5_fail(h, N4D_E_NOMEM, NULL, false,
                            "out of memory reordering %llu synapses", (unsigned long long)S);
    }
    uint64_t g2 = 0, j2 = 0;
    dst->seg_ptr[0] = 0;
    for (uint64_t r = 0; r < N; r++) {
        uint64_t old = row_of[r];
        for (uint64_t g = src->seg_ptr[old]; g < src->seg_ptr[old + 1]; g++, g2++) {
            uint64_t j0 = src->seg_off[g], n = src->seg_off[g + 1] - j0;
            dst->seg_off[g2] = j2;
            dst->seg_key[g2] = src->seg_key[g];
            for (uint64_t j = 0; j < n; j++)
                pairs[j] = ((uint64_t)tmap[src->target[j0 + j]] << 32) |
                           (uint32_t)((uint32_t)src->weight_q[j0 + j] ^ 0x80000000u);
            qsort(pairs, n, sizeof *pairs, cmp_u64_pair);
            for (uint64_t j = 0; j < n; j++, j2++) {
                dst->target[j2] = (uint32_t)(pairs[j] >> 32);
                dst->weight_q[j2] = (int32_t)((uint32_t)pairs[j] ^ 0x80000000u);
            }
        }
        dst->seg_ptr[r + 1] = g2;
    }
    dst->seg_off[G] = S;
    n4d__free(ctx, N4D_MEM_BUILD, pairs, maxseg * sizeof(uint64_t));
    return N4D_OK;
}

/* ---- writing --------------------------------------------------------------------- */

static const char *model_name(int32_t model)
{
    static const char *const names[] = {"lif", "lif_exp", "izhikevich", "lif_cond_exp"};
    return model >= 0 && model <= 3 ? names[model] : "?";
}

/* /nodes/<pop>: SONATA node population with positions and parameters. */
static n4d_status write_nodes(n4d__h5 *h, hid_t file, const n4d_model *m, const n4d__h5_layout *L,
                              void *scratch)
{
    n4d_status st = N4D_OK;
    for (size_t pi = 0; pi < m->n_pops && !st; pi++) {
        const n4d__population *p = &m->pops[pi];
        char esc[800], gname[900];
        n4d__h5_escape(p->name, esc, sizeof esc);
        snprintf(gname, sizeof gname, "/nodes/%s", esc);
        hid_t g = n4d__h5_create_group(h, file, gname, &st);
        if (g < 0)
            break;
        const uint64_t first = p->first, index = pi;
        const n4d_neuron_params *q = &p->params;
        const char *pn[] = {"tau_m", "v_rest", "v_reset", "v_threshold", "t_ref", "tau_syn_ex",
                            "tau_syn_in", "i_e", "a", "b", "c", "d", "v_peak", "e_ex", "e_in"};
        const double pv[] = {q->tau_m, q->v_rest, q->v_reset, q->v_threshold, q->t_ref,
                             q->tau_syn_ex, q->tau_syn_in, q->i_e, q->a, q->b, q->c, q->d,
                             q->v_peak, q->e_ex, q->e_in};
        st = n4d__h5_attr_write(h, g, gname, "n4d_first_id", N4D__T_U64, 1, &first);
        if (!st)
            st = n4d__h5_attr_write(h, g, gname, "n4d_population_index", N4D__T_U64, 1, &index);
        if (!st)
            st = n4d__h5_attr_write_str(h, g, gname, "model", model_name(p->model));
        for (size_t k = 0; k < sizeof pv / sizeof pv[0] && !st; k++)
            st = n4d__h5_attr_write(h, g, gname, pn[k], N4D__T_F64, 1, &pv[k]);
        /* columns written block by block from scratch */
        static const char *const cols[] = {"node_id", "node_type_id", "node_group_id",
                                           "node_group_index", "0/x", "0/y", "0/z", "0/w"};
        for (int c = 0; c < 8 && !st; c++) {
            n4d__h5_type t = c < 4 ? (c == 1 || c == 2 ? N4D__T_I64 : N4D__T_U64) : N4D__T_I32;
            hid_t d = n4d__h5_create_dset(h, g, cols[c], t, p->n, 0, L, &st);
            if (d < 0)
                break;
            for (uint64_t off = 0; off < p->n && !st; off += BLOCK) {
                uint64_t cnt = p->n - off < BLOCK ? p->n - off : BLOCK;
                uint64_t *u = scratch;
                int64_t *s = scratch;
                int32_t *xs = scratch;
                for (uint64_t i = 0; i < cnt; i++) {
                    uint64_t loc = off + i;
                    switch (c) {
                    case 0:
                    case 3: u[i] = loc; break;
                    case 1: s[i] = (int64_t)pi; break;
                    case 2: s[i] = 0; break;
                    default: xs[i] = m->pos[4 * (first + loc) + (uint64_t)(c - 4)]; break;
                    }
                }
                st = n4d__h5_write_rows(h, d, cols[c], t, off, cnt, scratch);
            }
            H5Dclose(d);
        }
        H5Gclose(g);
    }
    return st;
}

/* Synapses of source `src` in segment g whose targets lie in [lo, hi). */
static void seg_range(const n4d__synapses *s, uint64_t g, uint32_t lo, uint64_t hi, uint64_t *a,
                      uint64_t *b)
{
    uint64_t j0 = s->seg_off[g], j1 = s->seg_off[g + 1], x = j0, y = j1;
    while (x < y) {
        uint64_t mid = x + (y - x) / 2;
        if (s->target[mid] < lo)
            x = mid + 1;
        else
            y = mid;
    }
    *a = x;
    y = j1;
    while (x < y) {
        uint64_t mid = x + (y - x) / 2;
        if ((uint64_t)s->target[mid] < hi)
            x = mid + 1;
        else
            y = mid;
    }
    *b = x;
}

/* /edges/<source>-><target> for every pair of populations with synapses. */
static n4d_status write_edges(n4d__h5 *h, hid_t file, const n4d_model *m, const n4d__synapses *s,
                              const n4d__h5_layout *L, void *scratch)
{
    n4d_context *ctx = m->ctx;
    n4d_status st = N4D_OK;
    uint64_t *src_buf = scratch, *tgt_buf = src_buf + BLOCK;
    float *w_buf = (float *)(tgt_buf + BLOCK), *d_buf = w_buf + BLOCK;
    for (size_t pa = 0; pa < m->n_pops && !st; pa++) {
        const n4d__population *P = &m->pops[pa];
        if (P->n == 0)
            continue;
        uint64_t *ranges = n4d__alloc(ctx, N4D_MEM_OTHER, P->n * 2 * sizeof(uint64_t));
        uint64_t *r2e = n4d__alloc(ctx, N4D_MEM_OTHER, P->n * 2 * sizeof(uint64_t));
        if (!ranges || !r2e) {
            n4d__free(ctx, N4D_MEM_OTHER, ranges, P->n * 2 * sizeof(uint64_t));
            n4d__free(ctx, N4D_MEM_OTHER, r2e, P->n * 2 * sizeof(uint64_t));
            return n4d__h5_fail(h, N4D_E_NOMEM, "/edges", false, "out of memory");
        }
        for (size_t pb = 0; pb < m->n_pops && !st; pb++) {
            const n4d__population *Q = &m->pops[pb];
            if (Q->n == 0)
                continue;
            uint32_t qlo = (uint32_t)Q->first;
            uint64_t qhi = Q->first + Q->n, total = 0, nr = 0;
            for (uint64_t ls = 0; ls < P->n; ls++) {
                uint64_t src = P->first + ls, c = 0, a, b;
                for (uint64_t g = s->seg_ptr[src]; g < s->seg_ptr[src + 1]; g++) {
                    seg_range(s, g, qlo, qhi, &a, &b);
                    c += b - a;
                }
                ranges[2 * ls] = nr;
                if (c) {
                    r2e[2 * nr] = total;
                    r2e[2 * nr + 1] = total + c;
                    nr++;
                }
                ranges[2 * ls + 1] = nr;
                total += c;
            }
            if (total == 0)
                continue;
            char ea[800], eb[800], gname[1800];
            n4d__h5_escape(P->name, ea, sizeof ea);
            n4d__h5_escape(Q->name, eb, sizeof eb);
            snprintf(gname, sizeof gname, "/edges/%s->%s", ea, eb);
            hid_t g = n4d__h5_create_group(h, file, gname, &st), ds[4] = {-1, -1, -1, -1};
            if (g < 0)
                break;
            static const char *const names[4] = {"source_node_id", "target_node_id",
                                                 "0/syn_weight", "0/delay"};
            static const n4d__h5_type types[4] = {N4D__T_U64, N4D__T_U64, N4D__T_F32, N4D__T_F32};
            for (int c = 0; c < 4 && !st; c++)
                ds[c] = n4d__h5_create_dset(h, g, names[c], types[c], total, 0, L, &st);
            if (!st)
                st = n4d__h5_attr_write_str(h, ds[0], gname, "node_population", P->name);
            if (!st)
                st = n4d__h5_attr_write_str(h, ds[1], gname, "node_population", Q->name);
            if (!st)
                st = n4d__h5_write_dset(h, g, "indices/source_to_target/node_id_to_range",
                                        N4D__T_U64, P->n, 2, L, ranges);
            if (!st)
                st = n4d__h5_write_dset(h, g, "indices/source_to_target/range_to_edge_id",
                                        N4D__T_U64, nr, 2, L, r2e);
            uint64_t fill = 0, written = 0;
            for (uint64_t ls = 0; ls < P->n && !st; ls++) {
                uint64_t src = P->first + ls, a, b;
                for (uint64_t gi = s->seg_ptr[src]; gi < s->seg_ptr[src + 1] && !st; gi++) {
                    seg_range(s, gi, qlo, qhi, &a, &b);
                    float dms = (float)(N4D__SEG_DELAY(s->seg_key[gi]) * m->dt);
                    for (uint64_t j = a; j < b && !st; j++) {
                        src_buf[fill] = ls;
                        tgt_buf[fill] = s->target[j] - Q->first;
                        w_buf[fill] = (float)((double)s->weight_q[j] * s->inv_scale);
                        d_buf[fill] = dms;
                        if (++fill == BLOCK || written + fill == total) {
                            const void *bufs[4] = {src_buf, tgt_buf, w_buf, d_buf};
                            for (int c = 0; c < 4 && !st; c++)
                                st = n4d__h5_write_rows(h, ds[c], names[c], types[c], written,
                                                        fill, bufs[c]);
                            written += fill;
                            fill = 0;
                        }
                    }
                }
            }
            for (int c = 0; c < 4; c++)
                n4d__h5_close(ds[c]);
            H5Gclose(g);
        }
        n4d__free(ctx, N4D_MEM_OTHER, ranges, P->n * 2 * sizeof(uint64_t));
        n4d__free(ctx, N4D_MEM_OTHER, r2e, P->n * 2 * sizeof(uint64_t));
    }
    return st;
}

n4d_status n4d__store_write_model(n4d__h5 *h, hid_t file, const n4d_model *m,
                                  const n4d_save_options *opt, const char *kind)
{
    n4d__h5_layout L, Ls;
    n4d__h5_layout_from(opt, &L);
    Ls = L;
    if (opt->contiguous) {
        Ls.contiguous = true;
        Ls.gzip = 0;
    }
    n4d_status st = N4D_OK;
    hid_t g = n4d__h5_create_group(h, file, "/n4d", &st), sg = H5I_INVALID_HID;
    char *desc = NULL;
    void *scratch = NULL;
    const size_t scratch_bytes = BLOCK * 24;
    if (g < 0)
        return st;
    const uint64_t N = m->n_neurons;
    /* the file holds the CSR by user id (independent of the layout) */
    n4d__synapses us;
    memset(&us, 0, sizeof us);
    const n4d__synapses *s = &m->syn;
    if (m->perm) {
        if ((st = permute_syn(h, m->ctx, &m->syn, N, m->inv, m->perm, &us)))
            goto done;
        s = &us;
    }
    const int32_t layout[3] = {m->layout.order, (int32_t)m->layout.partitions,
                               m->layout.balance_synapses};
    if ((st = n4d__h5_write_header(h, file, g, kind)) ||
        (st = n4d__h5_attr_write(h, g, "/n4d", "layout", N4D__T_I32, 3, layout)) ||
        (st = n4d__h5_attr_write(h, g, "/n4d", "lattice", N4D__T_U32, 4, m->shape)) ||
        (st = n4d__h5_attr_write(h, g, "/n4d", "dt", N4D__T_F64, 1, &m->dt)) ||
        (st = n4d__h5_attr_write(h, g, "/n4d", "seed", N4D__T_U64, 1, &m->seed)) ||
        (st = n4d__h5_attr_write(h, g, "/n4d", "default_duration", N4D__T_F64, 1,
                                 &m->default_duration)) ||
        (st = n4d__h5_attr_write(h, g, "/n4d", "n_neurons", N4D__T_U64, 1, &N)))
        goto done;
    if (!(desc = describe(m))) {
        st = n4d__h5_fail(h, N4D_E_NOMEM, DESC, false, "cannot encode the model description");
        goto done;
    }
    if ((st = n4d__h5_write_str_dset(h, g, "description", desc)))
        goto done;
    sg = n4d__h5_create_group(h, g, "synapses", &st);
    if (sg < 0)
        goto done;
    const uint32_t dr[2] = {s->min_delay, s->max_delay};
    if ((st = n4d__h5_attr_write(h, sg, "/n4d/synapses", "scale", N4D__T_F64, 1, &s->scale)) ||
        (st = n4d__h5_attr_write(h, sg, "/n4d/synapses", "n_syn", N4D__T_U64, 1, &s->n_syn)) ||
        (st = n4d__h5_attr_write(h, sg, "/n4d/synapses", "n_seg", N4D__T_U64, 1, &s->n_seg)) ||
        (st = n4d__h5_attr_write(h, sg, "/n4d/synapses", "delay_range", N4D__T_U32, 2, dr)) ||
        (st = n4d__h5_write_dset(h, sg, "seg_ptr", N4D__T_U64, N + 1, 0, &L, s->seg_ptr)) ||
        (st = n4d__h5_write_dset(h, sg, "seg_off", N4D__T_U64, s->n_seg + 1, 0, &L, s->seg_off)) ||
        (st = n4d__h5_write_dset(h, sg, "target", N4D__T_U32, s->n_syn, 0, &Ls, s->target)) ||
        (st = n4d__h5_write_dset(h, sg, "weight_q", N4D__T_I32, s->n_syn, 0, &Ls, s->weight_q)))
        goto done;
    scratch = n4d__alloc(m->ctx, N4D_MEM_OTHER, scratch_bytes);
    if (!scratch) {
        st = n4d__h5_fail(h, N4D_E_NOMEM, NULL, false, "out of memory");
        goto done;
    }
    {
        hid_t kd = n4d__h5_create_dset(h, sg, "seg_key", N4D__T_U32, s->n_seg, 0, &L, &st);
        if (kd < 0)
            goto done;
        uint32_t *kb = scratch;
        for (uint64_t off = 0; off < s->n_seg && !st; off += BLOCK) {
            uint64_t cnt = s->n_seg - off < BLOCK ? s->n_seg - off : BLOCK;
            for (uint64_t i = 0; i < cnt; i++)
                kb[i] = FILE_KEY(s->seg_key[off + i]);
            st = n4d__h5_write_rows(h, kd, "seg_key", N4D__T_U32, off, cnt, kb);
        }
        H5Dclose(kd);
        if (st)
            goto done;
    }
    if ((st = write_nodes(h, file, m, &L, scratch)))
        goto done;
    if (opt->sonata_edges) {
        hid_t eg = n4d__h5_create_group(h, file, "/edges", &st);
        if (eg < 0)
            goto done;
        H5Gclose(eg);
        st = write_edges(h, file, m, s, &L, scratch);
    }
done:
    if (m->perm)
        n4d__store_free_syn(m->ctx, &us, N);
    n4d__free(m->ctx, N4D_MEM_OTHER, scratch, scratch_bytes);
    free(desc);
    n4d__h5_close(sg);
    n4d__h5_close(g);
    return st;
}

n4d_status n4d_model_save(const n4d_model *model, const char *path, const n4d_save_options *opt)
{
    if (!n4d__is_handle(model, N4D__MAGIC_MODEL))
        return N4D_E_INVALID_ARG;
    n4d_model *m = (n4d_model *)model;
    n4d__clear_error(&m->hdr);
    if (!path)
        return n4d__error(&m->hdr, N4D_E_INVALID_ARG, "n4d_model_save: path is NULL");
    if (!m->built)
        return n4d__error(&m->hdr, N4D_E_STATE, "n4d_model_save: the model is not built");
    if (m->compressed_blocks)
        return n4d__error(&m->hdr, N4D_E_STATE,
                          "n4d_model_save: %llu blocks of synapses are compressed by a simulation "
                          "(n4d_sim_compression_disable first)",
                          (unsigned long long)m->compressed_blocks);
    n4d__h5 h;
    n4d__h5_begin(&h, m->ctx, &m->hdr, path);
    n4d_save_options o;
    n4d__h5_out out;
    n4d_status st = n4d__h5_save_options(&h, opt, &o);
    if (!st && !(st = n4d__h5_out_create(&h, &out, o.contiguous != 0))) {
        st = n4d__store_write_model(&h, out.file, m, &o, "model");
        if (st)
            n4d__h5_out_abort(&h, &out);
        else
            st = n4d__h5_out_commit(&h, &out);
    }
    n4d__h5_end(&h);
    return st;
}

/* ---- checking ------------------------------------------------------------------ */

void n4d__store_free_syn(n4d_context *ctx, n4d__synapses *s, uint64_t N)
{
    if (s->release)
        s->release(s);
    n4d__free(ctx, N4D_MEM_SYNAPSES, s->seg_ptr, (N + 1) * sizeof(uint64_t));
    n4d__free(ctx, N4D_MEM_SYNAPSES, s->seg_off, (s->n_seg + 1) * sizeof(uint64_t));
    n4d__free(ctx, N4D_MEM_SYNAPSES, s->seg_key, (s->n_seg ? s->n_seg : 1) * sizeof(uint32_t));
    n4d__free(ctx, N4D_MEM_SYNAPSES, s->target, (s->n_syn ? s->n_syn : 1) * sizeof(uint32_t));
    n4d__free(ctx, N4D_MEM_SYNAPSES, s->weight_q, (s->n_syn ? s->n_syn : 1) * sizeof(int32_t));
    memset(s, 0, sizeof *s);
}

#define SYN(name) "/n4d/synapses/" name

n4d_status n4d__store_check_syn(n4d__h5 *h, n4d__synapses *s, uint64_t N)
{
    if (!(s->scale > 0) || !isfinite(s->scale) || frexp(s->scale, &(int){0}) != 0.5)
        return n4d__h5_fail(h, N4D_E_FORMAT, "/n4d/synapses attribute \"scale\"", false,
                            "%g is not a positive power of two", s->scale);
    s->inv_scale = 1.0 / s->scale;
    if (s->seg_ptr[0] != 0 || s->seg_ptr[N] != s->n_seg)
        return n4d__h5_fail(h, N4D_E_FORMAT, SYN("seg_ptr"), false,
                            "must start at 0 and end at the %llu segments",
                            (unsigned long long)s->n_seg);
    if (s->seg_off[0] != 0 || s->seg_off[s->n_seg] != s->n_syn)
        return n4d__h5_fail(h, N4D_E_FORMAT, SYN("seg_off"), false,
                            "must start at 0 and end at the %llu synapses",
                            (unsigned long long)s->n_syn);
    for (uint64_t i = 0; i < N; i++)
        if (s->seg_ptr[i + 1] < s->seg_ptr[i] || s->seg_ptr[i + 1] > s->n_seg)
            return n4d__h5_fail(h, N4D_E_FORMAT, SYN("seg_ptr"), false,
                                "entry %llu is out of order or range", (unsigned long long)i + 1);
    for (uint64_t g = 0; g < s->n_seg; g++)
        if (s->seg_off[g + 1] < s->seg_off[g] || s->seg_off[g + 1] > s->n_syn)
            return n4d__h5_fail(h, N4D_E_FORMAT, SYN("seg_off"), false,
                                "entry %llu is out of order or range", (unsigned long long)g + 1);
    uint32_t dmin = UINT32_MAX, dmax = 0;
    for (uint64_t i = 0; i < N; i++) {
        uint64_t g0 = s->seg_ptr[i], g1 = s->seg_ptr[i + 1];
        for (uint64_t g = g0; g < g1; g++) {
            uint32_t key = s->seg_key[g], d = N4D__SEG_DELAY(key);
            if (d == 0)
                return n4d__h5_fail(h, N4D_E_FORMAT, SYN("seg_key"), false,
                                    "entry %llu (0x%x) is not a valid delay/sign key",
                                    (unsigned long long)g, key);
            if (g > g0 && key <= s->seg_key[g - 1])
                return n4d__h5_fail(h, N4D_E_FORMAT, SYN("seg_key"), false,
                                    "entry %llu is not above the previous key of its row",
                                    (unsigned long long)g);
            dmin = d < dmin ? d : dmin;
            dmax = d > dmax ? d : dmax;
            uint64_t j0 = s->seg_off[g], j1 = s->seg_off[g + 1];
            bool neg = N4D__SEG_CH(key) != 0;
            for (uint64_t j = j0; j < j1; j++) {
                if (s->target[j] >= N)
                    return n4d__h5_fail(h, N4D_E_FORMAT, SYN("target"), false,
                                        "entry %llu is %u (out of range: the model has %llu "
                                        "neurons)",
                                        (unsigned long long)j, s->target[j],
                                        (unsigned long long)N);
                if (j > j0 && s->target[j] < s->target[j - 1])
                    return n4d__h5_fail(h, N4D_E_FORMAT, SYN("target"), false,
                                        "entry %llu breaks the target order of its segment",
                                        (unsigned long long)j);
                if (neg ? s->weight_q[j] > 0 : s->weight_q[j] < 0)
                    return n4d__h5_fail(h, N4D_E_FORMAT, SYN("weight_q"), false,
                                        "entry %llu has the wrong sign for its segment",
                                        (unsigned long long)j);
            }
        }
    }
    s->min_delay = dmax ? dmin : 1;
    s->max_delay = dmax ? dmax : 1;
    return N4D_OK;
}

n4d_status n4d__store_install(n4d__h5 *h, n4d_model *m, uint64_t N, int32_t *pos,
                              const uint64_t *pop_n, n4d__synapses *syn, const int32_t layout[3])
{
    n4d_context *ctx = m->ctx;
    uint64_t first = 0;
    for (size_t i = 0; i < m->n_pops; i++) {
        m->pops[i].first = first;
        m->pops[i].n = pop_n[i];
        first += pop_n[i];
    }
    m->n_neurons = N;
    m->pos = pos;
    m->syn = *syn;
    memset(syn, 0, sizeof *syn);
    /* the saved layout; mapped synapses cannot be reordered: lattice order */
    n4d_layout_options lo;
    n4d_layout_options_init(&lo);
    if (layout && !m->syn.release) {
        if (layout[1] < 0 || layout[2] < 0 || layout[2] > 1)
            return n4d__h5_fail(h, N4D_E_FORMAT, "/n4d attribute \"layout\"", false,
                                "partitions %d / balance %d are out of range", layout[1],
                                layout[2]);
        lo.order = layout[0];
        lo.partitions = (uint32_t)layout[1] > N ? (uint32_t)N : (uint32_t)layout[1];
        lo.balance_synapses = layout[2];
    }
    if (n4d_model_set_layout(m, &lo))
        return n4d__h5_fail(h, N4D_E_FORMAT, "/n4d attribute \"layout\"", false, "%s",
                            n4d_last_error(m));
    uint64_t *w = NULL;
    const n4d__synapses *s = &m->syn;
    if (lo.partitions > 1 && lo.balance_synapses) {
        w = n4d__alloc(ctx, N4D_MEM_BUILD, (N ? N : 1) * sizeof(uint64_t));
        if (!w)
            return n4d__h5_fail(h, N4D_E_NOMEM, NULL, false, "out of memory for the layout");
        for (uint64_t u = 0; u < N; u++)
            w[u] = s->seg_off[s->seg_ptr[u + 1]] - s->seg_off[s->seg_ptr[u]] + 1;
    }
    n4d_status st = n4d__layout_compute(m, w);
    n4d__free(ctx, N4D_MEM_BUILD, w, (N ? N : 1) * sizeof(uint64_t));
    if (st)
        return n4d__h5_fail(h, st, NULL, false, "%s", n4d_last_error(m));
    if (m->perm) { /* file rows and targets are user ids: to internal order */
        n4d__synapses d;
        if ((st = permute_syn(h, ctx, &m->syn, N, m->perm, m->inv, &d)))
            return st;
        n4d__store_free_syn(ctx, &m->syn, N);
        m->syn = d;
    }
    m->built = true;
    return N4D_OK;
}

/* ---- reading -------------------------------------------------------------------- */

/* Open datasets of /n4d/synapses. */
typedef struct syn_files {
    hid_t g, seg_ptr, seg_off, seg_key, target, weight_q;
} syn_files;

static void syn_files_close(syn_files *f)
{
    n4d__h5_close(f->seg_ptr);
    n4d__h5_close(f->seg_off);
    n4d__h5_close(f->seg_key);
    n4d__h5_close(f->target);
    n4d__h5_close(f->weight_q);
    n4d__h5_close(f->g);
}

/* Kept neurons: sorted unique ids (all when keep == NULL). */
typedef struct selection {
    uint64_t *keep;
    uint64_t k;
    uint32_t *map; /* old id -> new id (UINT32_MAX: dropped); NULL when all */
} selection;

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Reads columns x, y, z, w of population pi rows [off, off + cnt) into
 * out (4 per neuron), checking they lie on the lattice. */
static n4d_status read_positions(n4d__h5 *h, hid_t file, const n4d_model *m, size_t pi,
                                 uint64_t rows, uint64_t off, uint64_t cnt, int32_t *out,
                                 int32_t *col)
{
    const n4d__population *p = &m->pops[pi];
    char esc[800], gname[900];
    n4d__h5_escape(p->name, esc, sizeof esc);
    snprintf(gname, sizeof gname, "/nodes/%s/0", esc);
    static const char *const axes[4] = {"x", "y", "z", "w"};
    n4d_status st = N4D_OK;
    hid_t g = n4d__h5_open_group(h, file, gname, &st);
    if (g < 0)
        return st;
    for (int c = 0; c < 4 && !st; c++) {
        uint64_t dims[2] = {rows, 0};
        hid_t d = n4d__h5_open_dset(h, g, axes[c], N4D__T_I32, 1, dims, &st);
        if (d < 0)
            break;
        st = n4d__h5_read_rows(h, d, axes[c], N4D__T_I32, off, cnt, col);
        H5Dclose(d);
        for (uint64_t i = 0; i < cnt && !st; i++) {
            if (col[i] < 0 || (uint32_t)col[i] >= m->shape[c]) {
                char full[1000];
                snprintf(full, sizeof full, "%s/%s", gname, axes[c]);
                st = n4d__h5_fail(h, N4D_E_FORMAT, full, false,
                                  "entry %llu is %d, outside the lattice (0..%u)",
                                  (unsigned long long)(off + i), col[i], m->shape[c] - 1);
            }
            out[4 * i + (uint64_t)c] = col[i];
        }
    }
    H5Gclose(g);
    return st;
}

/* Positions of the neurons [a, b) (global ids) into out. */
static n4d_status read_positions_range(n4d__h5 *h, hid_t file, const n4d_model *m,
                                       const uint64_t *pop_first, const uint64_t *pop_n,
                                       uint64_t a, uint64_t b, int32_t *out, int32_t *col)
{
    for (size_t pi = 0; pi < m->n_pops; pi++) {
        uint64_t lo = pop_first[pi] > a ? pop_first[pi] : a;
        uint64_t hi = pop_first[pi] + pop_n[pi] < b ? pop_first[pi] + pop_n[pi] : b;
        for (uint64_t s = lo; s < hi; s += BLOCK) {
            uint64_t cnt = hi - s < BLOCK ? hi - s : BLOCK;
            n4d_status st = read_positions(h, file, m, pi, pop_n[pi], s - pop_first[pi], cnt,
                                           out + 4 * (s - a), col);
            if (st)
                return st;
        }
    }
    return N4D_OK;
}

static n4d_status select_neurons(n4d__h5 *h, hid_t file, const n4d_model *m,
                                 const n4d_load_options *o, uint64_t N, const uint64_t *pop_first,
                                 const uint64_t *pop_n, selection *sel)
{
    n4d_context *ctx = m->ctx;
    memset(sel, 0, sizeof *sel);
    if (o->select == N4D_SELECT_ALL)
        return N4D_OK;
    uint64_t cap = 0;
    if (o->select == N4D_SELECT_RANGE) {
        if (o->first > N || o->count > N - o->first)
            return n4d__h5_fail(h, N4D_E_RANGE, NULL, false,
                                "selected ids %llu..%llu do not exist (the model has %llu neurons)",
                                (unsigned long long)o->first,
                                (unsigned long long)(o->first + o->count - 1),
                                (unsigned long long)N);
        cap = o->count;
    } else if (o->select == N4D_SELECT_IDS) {
        if (!o->ids && o->n_ids)
            return n4d__h5_fail(h, N4D_E_INVALID_ARG, NULL, false, "load options: ids is NULL");
        cap = o->n_ids;
    } else if (o->select == N4D_SELECT_REGION) {
        cap = N;
    } else {
        return n4d__h5_fail(h, N4D_E_INVALID_ARG, NULL, false, "load options: unknown select %d",
                            o->select);
    }
    sel->keep = n4d__alloc(ctx, N4D_MEM_OTHER, (cap ? cap : 1) * sizeof(uint64_t));
    sel->map = n4d__alloc(ctx, N4D_MEM_OTHER, (N ? N : 1) * sizeof(uint32_t));
    if (!sel->keep || !sel->map)
        return n4d__h5_fail(h, N4D_E_NOMEM, NULL, false, "out of memory for the selection");
    uint64_t k = 0;
    if (o->select == N4D_SELECT_RANGE) {
        for (uint64_t i = 0; i < o->count; i++)
            sel->keep[k++] = o->first + i;
    } else if (o->select == N4D_SELECT_IDS) {
        for (uint64_t i = 0; i < o->n_ids; i++) {
            if (o->ids[i] >= N)
                return n4d__h5_fail(h, N4D_E_RANGE, NULL, false,
                                    "selected id %llu does not exist (the model has %llu neurons)",
                                    (unsigned long long)o->ids[i], (unsigned long long)N);
            sel->keep[i] = o->ids[i];
        }
        qsort(sel->keep, o->n_ids, sizeof(uint64_t), cmp_u64);
        for (uint64_t i = 0; i < o->n_ids; i++)
            if (k == 0 || sel->keep[i] != sel->keep[k - 1])
                sel->keep[k++] = sel->keep[i];
    } else {
        int32_t *col = n4d__alloc(ctx, N4D_MEM_OTHER, BLOCK * sizeof(int32_t));
        int32_t *pos = n4d__alloc(ctx, N4D_MEM_OTHER, BLOCK * 4 * sizeof(int32_t));
        n4d_status st = (!col || !pos) ? n4d__h5_fail(h, N4D_E_NOMEM, NULL, false, "out of memory")
                                       : N4D_OK;
        for (size_t pi = 0; pi < m->n_pops && !st; pi++) {
            const n4d__area *a = &m->areas[m->pops[pi].area];
            bool meets = true;
            for (int c = 0; c < 4; c++)
                meets = meets && a->lo[c] <= o->hi[c] && o->lo[c] <= a->hi[c];
            if (!meets)
                continue;
            for (uint64_t off = 0; off < pop_n[pi] && !st; off += BLOCK) {
                uint64_t cnt = pop_n[pi] - off < BLOCK ? pop_n[pi] - off : BLOCK;
                st = read_positions(h, file, m, pi, pop_n[pi], off, cnt, pos, col);
                for (uint64_t i = 0; i < cnt && !st; i++) {
                    bool in = true;
                    for (int c = 0; c < 4; c++)
                        in = in && pos[4 * i + (uint64_t)c] >= o->lo[c] &&
                             pos[4 * i + (uint64_t)c] <= o->hi[c];
                    if (in)
                        sel->keep[k++] = pop_first[pi] + off + i;
                }
            }
        }
        n4d__free(ctx, N4D_MEM_OTHER, col, BLOCK * sizeof(int32_t));
        n4d__free(ctx, N4D_MEM_OTHER, pos, BLOCK * 4 * sizeof(int32_t));
        if (st)
            return st;
    }
    sel->k = k;
    for (uint64_t i = 0; i < N; i++)
        sel->map[i] = UINT32_MAX;
    for (uint64_t i = 0; i < k; i++)
        sel->map[sel->keep[i]] = (uint32_t)i;
    /* shrink bookkeeping is not needed: sizes are recomputed on free */
    (void)cap;
    return N4D_OK;
}

static void selection_free(n4d_context *ctx, selection *sel, const n4d_load_options *o, uint64_t N)
{
    uint64_t cap = o->select == N4D_SELECT_RANGE ? o->count
                   : o->select == N4D_SELECT_IDS ? o->n_ids
                                                 : N;
    n4d__free(ctx, N4D_MEM_OTHER, sel->keep, (cap ? cap : 1) * sizeof(uint64_t));
    n4d__free(ctx, N4D_MEM_OTHER, sel->map, (N ? N : 1) * sizeof(uint32_t));
}

/* Maps a contiguous, unfiltered dataset of count elements of `elem` bytes. */
static void release_mapped(n4d__synapses *s)
{
    for (int k = 0; k < 2; k++)
        if (s->map[k])
            munmap(s->map[k], s->map_len[k]);
    s->map[0] = s->map[1] = NULL;
    s->target = NULL;
    s->weight_q = NULL;
    s->release = NULL;
}

static n4d_status map_dset(n4d__h5 *h, hid_t d, const char *name, hid_t native, uint64_t count,
                           size_t elem, void **ptr, void **base, size_t *len)
{
    hid_t dcpl = H5Dget_create_plist(d), ft = H5Dget_type(d);
    bool ok = dcpl >= 0 && ft >= 0 && H5Pget_layout(dcpl) == H5D_CONTIGUOUS &&
              H5Pget_nfilters(dcpl) == 0 && H5Tequal(ft, native) > 0;
    n4d__h5_close(dcpl);
    n4d__h5_close(ft);
    if (!ok)
        return n4d__h5_fail(h, N4D_E_UNSUPPORTED, name, false,
                            "cannot be memory-mapped: it is not stored contiguous, uncompressed "
                            "and in native byte order (save with contiguous = 1)");
    haddr_t off = H5Dget_offset(d);
    uint64_t bytes = count * elem;
    if (off == HADDR_UNDEF || off % elem != 0 || H5Dget_storage_size(d) != bytes)
        return n4d__h5_fail(h, N4D_E_UNSUPPORTED, name, false,
                            "cannot be memory-mapped: its data are not allocated or not aligned "
                            "(save with contiguous = 1)");
    int fd = open(h->path, O_RDONLY);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        int err = errno;
        if (fd >= 0)
            close(fd);
        return n4d__h5_fail(h, N4D_E_IO, name, false, "cannot open the file for mapping: %s",
                            strerror(err));
    }
    if ((uint64_t)sb.st_size < off + bytes) {
        close(fd);
        return n4d__h5_fail(h, N4D_E_FORMAT, name, false, "the file is truncated (data end at "
                            "byte %llu of %llu)",
                            (unsigned long long)(off + bytes), (unsigned long long)sb.st_size);
    }
    long page = sysconf(_SC_PAGESIZE);
    uint64_t pg = page > 0 ? (uint64_t)page : 4096;
    uint64_t start = off / pg * pg;
    *len = (size_t)(off + bytes - start);
    *base = mmap(NULL, *len, PROT_READ, MAP_SHARED, fd, (off_t)start);
    int err = errno;
    close(fd);
    if (*base == MAP_FAILED) {
        *base = NULL;
        return n4d__h5_fail(h, N4D_E_IO, name, false, "cannot map the data: %s", strerror(err));
    }
    *ptr = (char *)*base + (off - start);
    return N4D_OK;
}

/* Whole synapse arrays, read or mapped. */
static n4d_status read_all_syn(n4d__h5 *h, const syn_files *f, n4d_context *ctx, uint64_t N,
                               bool mapped, n4d__synapses *s)
{
    uint64_t S = s->n_syn, G = s->n_seg;
    s->seg_ptr = n4d__alloc(ctx, N4D_MEM_SYNAPSES, (N + 1) * sizeof(uint64_t));
    s->seg_off = n4d__alloc(ctx, N4D_MEM_SYNAPSES, (G + 1) * sizeof(uint64_t));
    s->seg_key = n4d__alloc(ctx, N4D_MEM_SYNAPSES, (G ? G : 1) * sizeof(uint32_t));
    if (!s->seg_ptr || !s->seg_off || !s->seg_key)
        return n4d__h5_fail(h, N4D_E_NOMEM, "/n4d/synapses", false,
                            "out of memory for %llu segments", (unsigned long long)G);
    if (mapped && S > 0) {
        n4d_status st = map_dset(h, f->target, SYN("target"), H5T_NATIVE_UINT32, S, 4,
                                 (void **)&s->target, &s->map[0], &s->map_len[0]);
        if (!st) {
            s->release = release_mapped;
            st = map_dset(h, f->weight_q, SYN("weight_q"), H5T_NATIVE_INT32, S, 4,
                          (void **)&s->weight_q, &s->map[1], &s->map_len[1]);
        }
        if (st)
            return st;
    } else {
        s->target = n4d__alloc(ctx, N4D_MEM_SYNAPSES, (S ? S : 1) * sizeof(uint32_t));
        s->weight_q = n4d__alloc(ctx, N4D_MEM_SYNAPSES, (S ? S : 1) * sizeof(int32_t));
        if (!s->target || !s->weight_q)
            return n4d__h5_fail(h, N4D_E_NOMEM, "/n4d/synapses", false,
                                "out of memory for %llu synapses", (unsigned long long)S);
    }
    n4d_status st;
    if ((st = n4d__h5_read_rows(h, f->seg_ptr, NULL, N4D__T_U64, 0, N + 1, s->seg_ptr)) ||
        (st = n4d__h5_read_rows(h, f->seg_off, NULL, N4D__T_U64, 0, G + 1, s->seg_off)) ||
        (st = n4d__h5_read_rows(h, f->seg_key, NULL, N4D__T_U32, 0, G, s->seg_key)))
        return st;
    for (uint64_t g = 0; g < G; g++) {
        uint32_t fk = s->seg_key[g];
        if ((fk >> 17) != 0 || (fk >> 1) == 0)
            return n4d__h5_fail(h, N4D_E_FORMAT, SYN("seg_key"), false,
                                "entry %llu (0x%x) is not a valid delay/sign key",
                                (unsigned long long)g, fk);
        s->seg_key[g] = N4D__SEG_KEY(fk >> 1, fk & 1u);
    }
    if (!s->release &&
        ((st = n4d__h5_read_rows(h, f->target, NULL, N4D__T_U32, 0, S, s->target)) ||
         (st = n4d__h5_read_rows(h, f->weight_q, NULL, N4D__T_I32, 0, S, s->weight_q))))
        return st;
    if ((st = n4d__store_check_syn(h, s, N)))
        return st;
    if (s->release) /* the check paged everything in: let the kernel drop it again */
        for (int k = 0; k < 2; k++)
            madvise(s->map[k], s->map_len[k], MADV_DONTNEED);
    return N4D_OK;
}

/* Synapses among the kept neurons, read span by span (runs of kept ids with
 * small gaps merged) and renumbered. */
static n4d_status read_partial_syn(n4d__h5 *h, const syn_files *f, n4d_context *ctx, uint64_t N,
                                   const selection *sel, n4d__synapses *s)
{
    const uint64_t K = sel->k, G0 = s->n_seg, S0 = s->n_syn;
    n4d_status st = N4D_OK;
    uint64_t *ptr_buf = NULL, *off_buf = NULL;
    uint32_t *key_buf = NULL;
    size_t ptr_cap = 0, off_cap = 0, key_cap = 0;
    uint64_t nspan = 0, *span = NULL; /* pairs [a, b) of old ids */
    size_t span_cap = 0;
    /* spans */
    for (uint64_t i = 0; i < K; i++) {
        uint64_t id = sel->keep[i];
        if (nspan && id <= span[2 * nspan - 1] + 16) {
            span[2 * nspan - 1] = id + 1;
            continue;
        }
        if (!n4d__grow(ctx, N4D_MEM_OTHER, (void **)&span, &span_cap, 2 * nspan + 2,
                       sizeof(uint64_t)))
            return n4d__h5_fail(h, N4D_E_NOMEM, NULL, false, "out of memory");
        span[2 * nspan] = id;
        span[2 * nspan + 1] = id + 1;
        nspan++;
    }
    /* pass 1: row structure of every span; upper bounds of segments and synapses */
    uint64_t seg_ub = 0, syn_ub = 0;
    for (uint64_t r = 0; r < nspan && !st; r++) {
        uint64_t a = span[2 * r], b = span[2 * r + 1], e[2];
        if ((st = n4d__h5_read_rows(h, f->seg_ptr, NULL, N4D__T_U64, a, 1, &e[0])) ||
            (st = n4d__h5_read_rows(h, f->seg_ptr, NULL, N4D__T_U64, b, 1, &e[1])))
            break;
        if (e[1] < e[0] || e[1] > G0) {
            st = n4d__h5_fail(h, N4D_E_FORMAT, SYN("seg_ptr"), false,
                              "entries %llu..%llu are out of order or range",
                              (unsigned long long)a, (unsigned long long)b);
            break;
        }
        uint64_t o[2];
        if ((st = n4d__h5_read_rows(h, f->seg_off, NULL, N4D__T_U64, e[0], 1, &o[0])) ||
            (st = n4d__h5_read_rows(h, f->seg_off, NULL, N4D__T_U64, e[1], 1, &o[1])))
            break;
        if (o[1] < o[0] || o[1] > S0) {
            st = n4d__h5_fail(h, N4D_E_FORMAT, SYN("seg_off"), false,
                              "entries %llu..%llu are out of order or range",
                              (unsigned long long)e[0], (unsigned long long)e[1]);
            break;
        }
        seg_ub += e[1] - e[0];
        syn_ub += o[1] - o[0];
    }
    if (st)
        goto done;
    s->seg_ptr = n4d__calloc(ctx, N4D_MEM_SYNAPSES, K + 1, sizeof(uint64_t));
    uint64_t *seg_off = n4d__alloc(ctx, N4D_MEM_OTHER, (seg_ub + 1) * sizeof(uint64_t));
    uint32_t *seg_key = n4d__alloc(ctx, N4D_MEM_OTHER, (seg_ub ? seg_ub : 1) * sizeof(uint32_t));
    uint32_t *tg = n4d__alloc(ctx, N4D_MEM_OTHER, (syn_ub ? syn_ub : 1) * sizeof(uint32_t));
    int32_t *wq = n4d__alloc(ctx, N4D_MEM_OTHER, (syn_ub ? syn_ub : 1) * sizeof(int32_t));
    uint64_t G = 0, S = 0, newid = 0;
    if (!s->seg_ptr || !seg_off || !seg_key || !tg || !wq) {
        st = n4d__h5_fail(h, N4D_E_NOMEM, NULL, false, "out of memory for %llu synapses",
                          (unsigned long long)syn_ub);
        goto partial_done;
    }
    /* pass 2: read each span and keep the synapses among kept neurons */
    for (uint64_t r = 0; r < nspan && !st; r++) {
        uint64_t a = span[2 * r], b = span[2 * r + 1], n = b - a;
        if (!n4d__grow(ctx, N4D_MEM_OTHER, (void **)&ptr_buf, &ptr_cap, n + 1, sizeof(uint64_t))) {
            st = n4d__h5_fail(h, N4D_E_NOMEM, NULL, false, "out of memory");
            break;
        }
        if ((st = n4d__h5_read_rows(h, f->seg_ptr, NULL, N4D__T_U64, a, n + 1, ptr_buf)))
            break;
        uint64_t g0 = ptr_buf[0], ng = ptr_buf[n] - g0;
        for (uint64_t i = 0; i < n; i++)
            if (ptr_buf[i + 1] < ptr_buf[i] || ptr_buf[i + 1] > G0) {
                st = n4d__h5_fail(h, N4D_E_FORMAT, SYN("seg_ptr"), false,
                                  "entry %llu is out of order or range",
                                  (unsigned long long)(a + i + 1));
                break;
            }
        if (st)
            break;
        if (!n4d__grow(ctx, N4D_MEM_OTHER, (void **)&off_buf, &off_cap, ng + 1, sizeof(uint64_t)) ||
            !n4d__grow(ctx, N4D_MEM_OTHER, (void **)&key_buf, &key_cap, ng + 1, sizeof(uint32_t))) {
            st = n4d__h5_fail(h, N4D_E_NOMEM, NULL, false, "out of memory");
            break;
        }
        if ((st = n4d__h5_read_rows(h, f->seg_off, NULL, N4D__T_U64, g0, ng + 1, off_buf)) ||
            (st = n4d__h5_read_rows(h, f->seg_key, NULL, N4D__T_U32, g0, ng, key_buf)))
            break;
        uint64_t j0 = off_buf[0], nj = off_buf[ng] - j0;
        for (uint64_t g = 0; g < ng; g++)
            if (off_buf[g + 1] < off_buf[g] || off_buf[g + 1] > S0 ||
                (key_buf[g] >> 17) != 0 || (key_buf[g] >> 1) == 0) {
                st = n4d__h5_fail(h, N4D_E_FORMAT,
                                  off_buf[g + 1] < off_buf[g] || off_buf[g + 1] > S0
                                      ? SYN("seg_off")
                                      : SYN("seg_key"),
                                  false, "entry %llu is out of order or range",
                                  (unsigned long long)(g0 + g));
                break;
            }
        if (st)
            break;
        if (S + nj > syn_ub) {
            st = n4d__h5_fail(h, N4D_E_FORMAT, SYN("seg_off"), false, "inconsistent offsets");
            break;
        }
        /* read into the tail of the output and compact forward */
        if ((st = n4d__h5_read_rows(h, f->target, NULL, N4D__T_U32, j0, nj, tg + S)) ||
            (st = n4d__h5_read_rows(h, f->weight_q, NULL, N4D__T_I32, j0, nj, wq + S)))
            break;
        uint64_t rd = S;
        for (uint64_t i = 0; i < n && !st; i++) {
            uint64_t old = a + i;
            bool keep_row = sel->map[old] != UINT32_MAX;
            for (uint64_t g = ptr_buf[i] - g0; g < ptr_buf[i + 1] - g0; g++) {
                uint64_t cnt = off_buf[g + 1] - off_buf[g], kept = 0;
                uint32_t key = key_buf[g];
                for (uint64_t j = 0; j < cnt; j++, rd++) {
                    uint32_t t = tg[rd];
                    if (t >= N) {
                        st = n4d__h5_fail(h, N4D_E_FORMAT, SYN("target"), false,
                                          "entry %llu is %u (out of range: the model has %llu "
                                          "neurons)",
                                          (unsigned long long)(off_buf[g] + j), t,
                                          (unsigned long long)N);
                        break;
                    }
                    if (!keep_row || sel->map[t] == UINT32_MAX)
                        continue;
                    tg[S + kept] = sel->map[t];
                    wq[S + kept] = wq[rd];
                    kept++;
                }
                if (st)
                    break;
                if (kept) {
                    seg_off[G] = S;
                    seg_key[G] = N4D__SEG_KEY(key >> 1, key & 1u);
                    G++;
                    S += kept;
                }
            }
            if (keep_row)
                s->seg_ptr[++newid] = G;
        }
    }
    if (!st) {
        seg_off[G] = S;
        s->n_seg = G;
        s->n_syn = S;
        s->seg_off = n4d__alloc(ctx, N4D_MEM_SYNAPSES, (G + 1) * sizeof(uint64_t));
        s->seg_key = n4d__alloc(ctx, N4D_MEM_SYNAPSES, (G ? G : 1) * sizeof(uint32_t));
        s->target = n4d__alloc(ctx, N4D_MEM_SYNAPSES, (S ? S : 1) * sizeof(uint32_t));
        s->weight_q = n4d__alloc(ctx, N4D_MEM_SYNAPSES, (S ? S : 1) * sizeof(int32_t));
        if (!s->seg_off || !s->seg_key || !s->target || !s->weight_q) {
            st = n4d__h5_fail(h, N4D_E_NOMEM, NULL, false, "out of memory for %llu synapses",
                              (unsigned long long)S);
        } else {
            memcpy(s->seg_off, seg_off, (G + 1) * sizeof(uint64_t));
            memcpy(s->seg_key, seg_key, G * sizeof(uint32_t));
            memcpy(s->target, tg, S * sizeof(uint32_t));
            memcpy(s->weight_q, wq, S * sizeof(int32_t));
        }
    }
partial_done:
    n4d__free(ctx, N4D_MEM_OTHER, seg_off, (seg_ub + 1) * sizeof(uint64_t));
    n4d__free(ctx, N4D_MEM_OTHER, seg_key, (seg_ub ? seg_ub : 1) * sizeof(uint32_t));
    n4d__free(ctx, N4D_MEM_OTHER, tg, (syn_ub ? syn_ub : 1) * sizeof(uint32_t));
    n4d__free(ctx, N4D_MEM_OTHER, wq, (syn_ub ? syn_ub : 1) * sizeof(int32_t));
    if (st) {
        /* leave s in a state n4d__store_free_syn(K) frees exactly */
        if (!s->seg_off || !s->seg_key || !s->target || !s->weight_q) {
            n4d__free(ctx, N4D_MEM_SYNAPSES, s->seg_off, (s->n_seg + 1) * sizeof(uint64_t));
            n4d__free(ctx, N4D_MEM_SYNAPSES, s->seg_key, (s->n_seg ? s->n_seg : 1) * sizeof(uint32_t));
            n4d__free(ctx, N4D_MEM_SYNAPSES, s->target, (s->n_syn ? s->n_syn : 1) * sizeof(uint32_t));
            n4d__free(ctx, N4D_MEM_SYNAPSES, s->weight_q, (s->n_syn ? s->n_syn : 1) * sizeof(int32_t));
            s->seg_off = NULL;
            s->seg_key = NULL;
            s->target = NULL;
            s->weight_q = NULL;
        }
    }
done:
    n4d__free(ctx, N4D_MEM_OTHER, span, span_cap * sizeof(uint64_t));
    n4d__free(ctx, N4D_MEM_OTHER, ptr_buf, ptr_cap * sizeof(uint64_t));
    n4d__free(ctx, N4D_MEM_OTHER, off_buf, off_cap * sizeof(uint64_t));
    n4d__free(ctx, N4D_MEM_OTHER, key_buf, key_cap * sizeof(uint32_t));
    return st;
}

n4d_status n4d__store_read_model(n4d__h5 *h, hid_t file, const n4d_load_options *o,
                                 const char *kind, n4d_model **out)
{
    n4d_context *ctx = h->ctx;
    n4d_status st = N4D_OK;
    n4d_model *m = NULL;
    char *desc = NULL;
    size_t desc_len = 0;
    uint64_t *pop_n = NULL, *pop_first = NULL, *new_n = NULL, N = 0, K = 0;
    int32_t *pos = NULL, *col = NULL;
    selection sel;
    memset(&sel, 0, sizeof sel);
    n4d__synapses s;
    memset(&s, 0, sizeof s);
    syn_files f = {-1, -1, -1, -1, -1, -1};
    size_t np = 0;
    *out = NULL;
    if (o->mmap_synapses && o->select != N4D_SELECT_ALL)
        return n4d__h5_fail(h, N4D_E_UNSUPPORTED, NULL, false,
                            "memory-mapped synapses need the whole model (select = all)");
    if (!n4d__h5_exists(file, "n4d") && n4d__h5_exists(file, "meta_json") &&
        n4d__h5_exists(file, "neurons"))
        return n4d__h5_fail(h, N4D_E_FORMAT, "/n4d", false,
                            "group is missing: this is a 4D Neural Cognition save, not an n4d "
                            "model (import it: n4d_model_import_4dnc, n4d import)");
    hid_t g = n4d__h5_open_group(h, file, "/n4d", &st);
    if (g < 0)
        return st;
    if ((st = n4d__h5_check_header(h, file, g, kind)))
        goto done;
    uint32_t shape[4];
    int32_t layout[3];
    double dt, dur;
    uint64_t seed;
    if ((st = n4d__h5_attr_read(h, g, "/n4d", "lattice", N4D__T_U32, 4, shape)) ||
        (st = n4d__h5_attr_read(h, g, "/n4d", "dt", N4D__T_F64, 1, &dt)) ||
        (st = n4d__h5_attr_read(h, g, "/n4d", "seed", N4D__T_U64, 1, &seed)) ||
        (st = n4d__h5_attr_read(h, g, "/n4d", "default_duration", N4D__T_F64, 1, &dur)) ||
        (st = n4d__h5_attr_read(h, g, "/n4d", "n_neurons", N4D__T_U64, 1, &N)) ||
        (st = n4d__h5_attr_read(h, g, "/n4d", "layout", N4D__T_I32, 3, layout)))
        goto done;
    if (N > 0xfffffff0ull) {
        st = n4d__h5_fail(h, N4D_E_FORMAT, "/n4d attribute \"n_neurons\"", false,
                          "%llu is above the limit 2^32 - 16", (unsigned long long)N);
        goto done;
    }
    if (!(dur >= 0) || !isfinite(dur)) {
        st = n4d__h5_fail(h, N4D_E_FORMAT, "/n4d attribute \"default_duration\"", false,
                          "%g is not a duration", dur);
        goto done;
    }
    if ((st = n4d_model_create(ctx, &m))) {
        st = n4d__h5_fail(h, st, NULL, false, "%s", n4d_last_error(ctx));
        goto done;
    }
    if (n4d_model_set_lattice(m, shape)) {
        st = n4d__h5_fail(h, N4D_E_FORMAT, "/n4d attribute \"lattice\"", false, "%s",
                          n4d_last_error(m));
        goto done;
    }
    if (n4d_model_set_dt(m, dt)) {
        st = n4d__h5_fail(h, N4D_E_FORMAT, "/n4d attribute \"dt\"", false, "%s", n4d_last_error(m));
        goto done;
    }
    n4d_model_set_seed(m, seed);
    m->default_duration = dur;
    if ((st = n4d__h5_read_str_dset(h, g, "description", &desc, &desc_len)) ||
        (st = read_description(h, desc, desc_len, m, &pop_n)))
        goto done;
    np = m->n_pops;
    pop_first = n4d__alloc(ctx, N4D_MEM_OTHER, (np ? np : 1) * sizeof(uint64_t));
    new_n = n4d__calloc(ctx, N4D_MEM_OTHER, np ? np : 1, sizeof(uint64_t));
    if (!pop_first || !new_n) {
        st = n4d__h5_fail(h, N4D_E_NOMEM, NULL, false, "out of memory");
        goto done;
    }
    uint64_t acc = 0;
    for (size_t i = 0; i < np; i++) {
        if (m->pops[i].first != acc || pop_n[i] > N - acc) {
            st = n4d__h5_fail(h, N4D_E_FORMAT, DESC, false,
                              "populations[%zu]: first %llu / n %llu do not continue the ids of the "
                              "%llu neurons",
                              i, (unsigned long long)m->pops[i].first,
                              (unsigned long long)pop_n[i], (unsigned long long)N);
            goto done;
        }
        pop_first[i] = acc;
        acc += pop_n[i];
        m->pops[i].first = 0;
    }
    if (acc != N) {
        st = n4d__h5_fail(h, N4D_E_FORMAT, DESC, false,
                          "the populations hold %llu neurons, /n4d says %llu",
                          (unsigned long long)acc, (unsigned long long)N);
        goto done;
    }
    /* synapse datasets */
    f.g = n4d__h5_open_group(h, g, "synapses", &st);
    if (f.g < 0)
        goto done;
    uint64_t S0, G0;
    if ((st = n4d__h5_attr_read(h, f.g, "/n4d/synapses", "scale", N4D__T_F64, 1, &s.scale)) ||
        (st = n4d__h5_attr_read(h, f.g, "/n4d/synapses", "n_syn", N4D__T_U64, 1, &S0)) ||
        (st = n4d__h5_attr_read(h, f.g, "/n4d/synapses", "n_seg", N4D__T_U64, 1, &G0)))
        goto done;
    if (S0 > ((uint64_t)1 << 40) || G0 > S0) {
        st = n4d__h5_fail(h, N4D_E_FORMAT, "/n4d/synapses attribute \"n_syn\"", false,
                          "%llu synapses in %llu segments is out of range",
                          (unsigned long long)S0, (unsigned long long)G0);
        goto done;
    }
    {
        uint64_t d1[2] = {N + 1, 0}, d2[2] = {G0 + 1, 0}, d3[2] = {G0, 0}, d4[2] = {S0, 0},
                 d5[2] = {S0, 0};
        if ((f.seg_ptr = n4d__h5_open_dset(h, f.g, "seg_ptr", N4D__T_U64, 1, d1, &st)) < 0 ||
            (f.seg_off = n4d__h5_open_dset(h, f.g, "seg_off", N4D__T_U64, 1, d2, &st)) < 0 ||
            (f.seg_key = n4d__h5_open_dset(h, f.g, "seg_key", N4D__T_U32, 1, d3, &st)) < 0 ||
            (f.target = n4d__h5_open_dset(h, f.g, "target", N4D__T_U32, 1, d4, &st)) < 0 ||
            (f.weight_q = n4d__h5_open_dset(h, f.g, "weight_q", N4D__T_I32, 1, d5, &st)) < 0)
            goto done;
    }
    s.n_syn = S0;
    s.n_seg = G0;
    if (!(s.scale > 0) || !isfinite(s.scale) || frexp(s.scale, &(int){0}) != 0.5) {
        st = n4d__h5_fail(h, N4D_E_FORMAT, "/n4d/synapses attribute \"scale\"", false,
                          "%g is not a positive power of two", s.scale);
        goto done;
    }
    /* which neurons */
    if ((st = select_neurons(h, file, m, o, N, pop_first, pop_n, &sel)))
        goto done;
    K = o->select == N4D_SELECT_ALL ? N : sel.k;
    pos = n4d__alloc(ctx, N4D_MEM_NEURONS, (K ? K : 1) * 4 * sizeof(int32_t));
    col = n4d__alloc(ctx, N4D_MEM_OTHER, BLOCK * sizeof(int32_t));
    if (!pos || !col) {
        st = n4d__h5_fail(h, N4D_E_NOMEM, NULL, false, "out of memory for %llu neurons",
                          (unsigned long long)K);
        goto done;
    }
    if (o->select == N4D_SELECT_ALL) {
        if ((st = read_positions_range(h, file, m, pop_first, pop_n, 0, N, pos, col)))
            goto done;
        for (size_t i = 0; i < np; i++)
            new_n[i] = pop_n[i];
        st = read_all_syn(h, &f, ctx, N, o->mmap_synapses != 0, &s);
        if (st) {
            n4d__store_free_syn(ctx, &s, N);
            goto done;
        }
    } else {
        /* positions of runs of consecutive kept ids */
        for (uint64_t i = 0; i < K && !st;) {
            uint64_t j = i + 1;
            while (j < K && sel.keep[j] == sel.keep[j - 1] + 1 && j - i < BLOCK)
                j++;
            st = read_positions_range(h, file, m, pop_first, pop_n, sel.keep[i], sel.keep[j - 1] + 1,
                                      pos + 4 * i, col);
            i = j;
        }
        if (st)
            goto done;
        for (uint64_t i = 0; i < K; i++) {
            size_t lo = 0, hi = np; /* population of keep[i] */
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (pop_first[mid] + pop_n[mid] <= sel.keep[i])
                    lo = mid + 1;
                else
                    hi = mid;
            }
            if (lo < np)
                new_n[lo]++;
        }
        st = read_partial_syn(h, &f, ctx, N, &sel, &s);
        if (!st)
            st = n4d__store_check_syn(h, &s, K);
        if (st) {
            if (s.seg_ptr && s.seg_off)
                n4d__store_free_syn(ctx, &s, K);
            else
                n4d__free(ctx, N4D_MEM_SYNAPSES, s.seg_ptr, (K + 1) * sizeof(uint64_t));
            goto done;
        }
    }
    st = n4d__store_install(h, m, K, pos, new_n, &s, layout);
    pos = NULL;
done:
    syn_files_close(&f);
    n4d__h5_close(g);
    if (desc)
        n4d__free(ctx, N4D_MEM_OTHER, desc, desc_len + 1);
    n4d__free(ctx, N4D_MEM_NEURONS, pos, (K ? K : 1) * 4 * sizeof(int32_t));
    n4d__free(ctx, N4D_MEM_OTHER, col, BLOCK * sizeof(int32_t));
    if (m && pop_n)
        n4d__free(ctx, N4D_MEM_OTHER, pop_n, (np ? np : 1) * sizeof(uint64_t));
    n4d__free(ctx, N4D_MEM_OTHER, pop_first, (np ? np : 1) * sizeof(uint64_t));
    n4d__free(ctx, N4D_MEM_OTHER, new_n, (np ? np : 1) * sizeof(uint64_t));
    if (sel.keep || sel.map)
        selection_free(ctx, &sel, o, N);
    if (st) {
        n4d_model_destroy(m);
        return st;
    }
    *out = m;
    return N4D_OK;
}

n4d_status n4d_model_load(n4d_context *ctx, const char *path, const n4d_load_options *opt,
                          n4d_model **out)
{
    if (out)
        *out = NULL;
    if (!n4d__is_handle(ctx, N4D__MAGIC_CONTEXT))
        return N4D_E_INVALID_ARG;
    n4d__clear_error(&ctx->hdr);
    if (!path || !out)
        return n4d__error(&ctx->hdr, N4D_E_INVALID_ARG, "n4d_model_load: %s is NULL",
                          path ? "out" : "path");
    n4d_load_options o;
    n4d_load_options_init(&o);
    if (opt) {
        if (opt->struct_size < sizeof(uint32_t))
            return n4d__error(&ctx->hdr, N4D_E_INVALID_ARG,
                              "n4d_model_load: options.struct_size is not set");
        N4D__COPY_IN(o, opt);
    }
    n4d__h5 h;
    n4d__h5_begin(&h, ctx, &ctx->hdr, path);
    n4d_status st;
    hid_t f = n4d__h5_open_read(&h, &st);
    if (f >= 0) {
        st = n4d__store_read_model(&h, f, &o, "model", out);
        H5Fclose(f);
    }
    n4d__h5_end(&h);
    return st;
}

#else
typedef int n4d__store_model_unused;
#endif
