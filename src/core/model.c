/* Model description API (areas, populations, projections, inputs, senses)
 * and queries on a built model. The build itself is in build.c. */
#include "internal.h"
#include "modulators.h"
#include "backend.h" /* the registry: build backends by name */

#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#define MODEL_ERR(m, st, ...) n4d__model_error((m), (st), __VA_ARGS__)

/* ---- descriptor defaults ---------------------------------------------- */

n4d_dist n4d_dist_constant(double value)
{
    n4d_dist d = {N4D_DIST_CONSTANT, value, 0.0, -INFINITY, INFINITY};
    return d;
}

n4d_dist n4d_dist_uniform(double lo, double hi)
{
    n4d_dist d = {N4D_DIST_UNIFORM, 0.5 * (lo + hi), 0.0, lo, hi};
    return d;
}

n4d_dist n4d_dist_normal(double mean, double std, double lo, double hi)
{
    n4d_dist d = {N4D_DIST_NORMAL, mean, std, lo, hi};
    return d;
}

void n4d_population_desc_init(n4d_population_desc *d)
{
    if (!d)
        return;
    memset(d, 0, sizeof *d);
    d->struct_size = sizeof *d;
    d->model = N4D_NEURON_LIF;
    d->placement = N4D_PLACE_ALL;
    d->density = 1.0;
    d->v_init.kind = -1; /* unset: resting value of the model */
}

void n4d_projection_desc_init(n4d_projection_desc *d)
{
    if (!d)
        return;
    memset(d, 0, sizeof *d);
    d->struct_size = sizeof *d;
    d->rule = N4D_RULE_FIXED_PROBABILITY;
    d->kernel = N4D_KERNEL_GAUSSIAN;
    d->sigma = 1.0;
    d->cutoff = INFINITY;
    d->weight = n4d_dist_constant(1.0);
    d->delay = n4d_dist_constant(0.0); /* 0 = one step */
    d->syn_type = N4D_SYN_AUTO;
    d->allow_autapses = 1;
    d->allow_multapses = 1;
}

void n4d_input_desc_init(n4d_input_desc *d)
{
    if (!d)
        return;
    memset(d, 0, sizeof *d);
    d->struct_size = sizeof *d;
    d->kind = N4D_INPUT_DC;
    d->n_sources = 1;
    d->start = 0.0;
    d->stop = INFINITY;
}

/* ---- create / destroy --------------------------------------------------- */

n4d_status n4d_model_create(n4d_context *ctx, n4d_model **out)
{
    if (!out)
        return ctx ? n4d__error(&ctx->hdr, N4D_E_INVALID_ARG, "n4d_model_create: out is NULL")
                   : N4D_E_INVALID_ARG;
    *out = NULL;
    if (!n4d__is_handle(ctx, N4D__MAGIC_CONTEXT))
        return N4D_E_INVALID_ARG;
    n4d_model *m = n4d__calloc(ctx, N4D_MEM_OTHER, 1, sizeof *m);
    if (!m)
        return n4d__error(&ctx->hdr, N4D_E_NOMEM, "n4d_model_create: out of memory");
    m->hdr.magic = N4D__MAGIC_MODEL;
    m->ctx = ctx;
    for (int i = 0; i < 4; i++)
        m->shape[i] = 1;
    m->dt = 0.1;
    m->seed = 1;
    m->build_device = N4D__BUILD_CPU;
    snprintf(m->build_request, sizeof m->build_request, "cpu");
    *out = m;
    return N4D_OK;
}

/* Frees the modulator declarations and bindings (modulators.c makes them;
 * freed here so that the two files do not call each other). */
void n4d__model_free_modulators(n4d_model *m)
{
    for (size_t k = 0; k < m->n_mods; k++)
        n4d__strfree(m->ctx, m->mods[k].name);
    n4d__free(m->ctx, N4D_MEM_OTHER, m->mods, m->cap_mods * sizeof *m->mods);
    n4d__free(m->ctx, N4D_MEM_OTHER, m->mod_binds, m->cap_mod_binds * sizeof *m->mod_binds);
    m->mods = NULL;
    m->mod_binds = NULL;
    m->n_mods = m->cap_mods = m->n_mod_binds = m->cap_mod_binds = 0;
}

void n4d_model_destroy(n4d_model *m)
{
    if (!m)
        return;
    n4d_context *ctx = m->ctx;
    n4d__life_init_free(m); /* sized by n_neurons, which the next call clears */
    n4d__model_free_built(m);
    for (size_t i = 0; i < m->n_areas; i++)
        n4d__strfree(ctx, m->areas[i].name);
    for (size_t i = 0; i < m->n_pops; i++)
        n4d__strfree(ctx, m->pops[i].name);
    for (size_t i = 0; i < m->n_projs; i++) {
        n4d__strfree(ctx, m->projs[i].name);
        n4d__projection_free_explicit(ctx, &m->projs[i]);
    }
    n4d__model_free_classes(m);
    n4d__model_free_modulators(m);
    for (size_t i = 0; i < m->n_senses; i++)
        n4d__strfree(ctx, m->senses[i].name);
    n4d__names_free(ctx, &m->area_names);
    n4d__names_free(ctx, &m->pop_names);
    n4d__names_free(ctx, &m->proj_names);
    n4d__free(ctx, N4D_MEM_OTHER, m->areas, m->cap_areas * sizeof *m->areas);
    n4d__free(ctx, N4D_MEM_OTHER, m->pops, m->cap_pops * sizeof *m->pops);
    n4d__free(ctx, N4D_MEM_OTHER, m->projs, m->cap_projs * sizeof *m->projs);
    for (size_t i = 0; i < m->n_inputs; i++)
        n4d__input_free_arrays(ctx, &m->inputs[i]);
    n4d__free(ctx, N4D_MEM_OTHER, m->inputs, m->cap_inputs * sizeof *m->inputs);
    n4d__free(ctx, N4D_MEM_OTHER, m->senses, m->cap_senses * sizeof *m->senses);
    if (m->warnings)
        n4d__free(ctx, N4D_MEM_OTHER, m->warnings, m->warnings_len + 1);
    m->hdr.magic = N4D__MAGIC_NONE;
    n4d__free(ctx, N4D_MEM_OTHER, m, sizeof *m);
}

void n4d__model_warn(n4d_model *m, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    n4d__log(m->ctx, N4D_LOG_WARN, "%s", line);
    size_t add = strlen(line);
    size_t sep = m->warnings_len ? 1 : 0;
    size_t nlen = m->warnings_len + sep + add;
    char *nw = n4d__alloc(m->ctx, N4D_MEM_OTHER, nlen + 1);
    if (!nw)
        return; /* the warning was logged; keeping it is best effort */
    if (m->warnings_len)
        memcpy(nw, m->warnings, m->warnings_len);
    if (sep)
        nw[m->warnings_len] = '\n';
    memcpy(nw + m->warnings_len + sep, line, add + 1);
    if (m->warnings)
        n4d__free(m->ctx, N4D_MEM_OTHER, m->warnings, m->warnings_len + 1);
    m->warnings = nw;
    m->warnings_len = nlen;
}

const char *n4d_model_warnings(const n4d_model *m)
{
    return (m && m->warnings) ? m->warnings : "";
}

/* ---- setters ------------------------------------------------------------ */

/* A refractory period (parameter t_ref of any model that has one) of at
 * most N4D__MAX_REF_STEPS steps of dt: the kernels count it in int32. */
static n4d_status check_ref_steps(n4d_model *m, const char *pop, const n4d__neuron_model *nm,
                                  const double *q, double dt)
{
    const int32_t k = n4d__param_index(nm, "t_ref");
    if (k >= 0 && !(q[k] / dt < N4D__MAX_REF_STEPS))
        return MODEL_ERR(m, N4D_E_RANGE,
                         "population \"%s\" (model %s): t_ref %g ms is %.3g steps of dt %g ms "
                         "(at most 1e9 steps)",
                         pop, nm->name, q[k], q[k] / dt, dt);
    return N4D_OK;
}

static n4d_status check_mutable(n4d_model *m, const char *fn)
{
    if (!n4d__is_handle(m, N4D__MAGIC_MODEL))
        return N4D_E_INVALID_ARG;
    n4d__model_clear_error(m);
    if (m->built)
        return MODEL_ERR(m, N4D_E_STATE, "%s: the model is already built and read-only", fn);
    return N4D_OK;
}

n4d_status n4d_model_set_lattice(n4d_model *m, const uint32_t shape[4])
{
    n4d_status st = check_mutable(m, "n4d_model_set_lattice");
    if (st)
        return st;
    if (!shape)
        return MODEL_ERR(m, N4D_E_INVALID_ARG, "lattice shape is NULL");
    uint64_t sites = 1;
    for (int i = 0; i < 4; i++) {
        if (shape[i] == 0 || shape[i] > (1u << 30))
            return MODEL_ERR(m, N4D_E_RANGE, "lattice dimension %d is %u (expected 1 to 2^30)", i,
                             shape[i]);
        sites *= shape[i];
        if (sites > ((uint64_t)1 << 40))
            return MODEL_ERR(m, N4D_E_LIMIT, "lattice has more than 2^40 sites");
    }
    for (size_t a = 0; a < m->n_areas; a++)
        for (int i = 0; i < 4; i++)
            if ((uint32_t)m->areas[a].hi[i] >= shape[i])
                return MODEL_ERR(m, N4D_E_RANGE, "area \"%s\" lies outside the new lattice",
                                 m->areas[a].name);
    memcpy(m->shape, shape, sizeof m->shape);
    return N4D_OK;
}

n4d_status n4d_model_set_dt(n4d_model *m, double dt)
{
    n4d_status st = check_mutable(m, "n4d_model_set_dt");
    if (st)
        return st;
    if (!(dt >= N4D__MIN_DT) || !isfinite(dt) || dt > 1000.0)
        return MODEL_ERR(m, N4D_E_RANGE, "dt %g ms is invalid (expected %g <= dt <= 1000)", dt,
                         N4D__MIN_DT);
    /* the populations' refractory periods must stay countable in steps */
    for (size_t i = 0; i < m->n_pops; i++)
        if ((st = check_ref_steps(m, m->pops[i].name, m->pops[i].nm, m->pops[i].params, dt)))
            return st;
    m->dt = dt;
    return N4D_OK;
}

n4d_status n4d_model_set_seed(n4d_model *m, uint64_t seed)
{
    n4d_status st = check_mutable(m, "n4d_model_set_seed");
    if (st)
        return st;
    m->seed = seed;
    return N4D_OK;
}

n4d_status n4d_model_set_build_threads(n4d_model *m, int32_t threads)
{
    n4d_status st = check_mutable(m, "n4d_model_set_build_threads");
    if (st)
        return st;
    if (threads < 0)
        return MODEL_ERR(m, N4D_E_RANGE, "build threads %d is negative", threads);
    m->build_threads = threads;
    return N4D_OK;
}

n4d_status n4d_model_set_build_backend(n4d_model *m, const char *name)
{
    n4d_status st = check_mutable(m, "n4d_model_set_build_backend");
    if (st)
        return st;
    int32_t device = 0;
    int bad = 0;
    if (!name)
        return MODEL_ERR(m, N4D_E_INVALID_ARG, "build backend: NULL name");
    if (strcmp(name, "cpu") == 0)
        m->build_device = N4D__BUILD_CPU;
    else if (strcmp(name, "auto") == 0)
        m->build_device = N4D__BUILD_AUTO;
    else {
        const n4d__backend *b = n4d__backend_lookup(name, &device, &bad);
        if (!b || bad || !(b->caps & N4D__CAP_BUILD)) {
            char names[256] = "cpu, auto";
            n4d__textbuf t = {names, sizeof names, strlen(names)};
            for (uint32_t i = 0; i < n4d__backend_count(); i++)
                if (n4d__backend_at(i)->caps & N4D__CAP_BUILD)
                    n4d__tb_printf(&t, ", %s, %s:N", n4d__backend_at(i)->name, n4d__backend_at(i)->name);
            return MODEL_ERR(m, N4D_E_INVALID_ARG, "unknown build backend \"%s\" (expected %s)", name,
                             names);
        }
        m->build_device = device;
        m->build_entry = b;
    }
    if (m->build_device >= 0)
        snprintf(m->build_request, sizeof m->build_request, "%s:%d", m->build_entry->name,
                 (int)m->build_device);
    else
        snprintf(m->build_request, sizeof m->build_request, "%s", name);
    return N4D_OK;
}

static int32_t find_named(const void *base, size_t count, size_t stride, const char *name)
{
    for (size_t i = 0; i < count; i++) {
        const char *n = *(char *const *)((const char *)base + i * stride);
        if (strcmp(n, name) == 0)
            return (int32_t)i;
    }
    return -1;
}

static int32_t find_area(const n4d_model *m, const char *name)
{
    return n4d__names_find(&m->area_names, m->areas, sizeof *m->areas, name);
}

int32_t n4d_model_find_population(const n4d_model *m, const char *name)
{
    if (!n4d__is_handle(m, N4D__MAGIC_MODEL) || !name)
        return N4D_E_INVALID_ARG;
    int32_t i = n4d__names_find(&m->pop_names, m->pops, sizeof *m->pops, name);
    return i < 0 ? N4D_E_RANGE : i;
}

static n4d_status check_name(n4d_model *m, const char *what, const char *name)
{
    if (!name || !name[0])
        return MODEL_ERR(m, N4D_E_INVALID_ARG, "%s name is empty", what);
    if (strlen(name) > 255)
        return MODEL_ERR(m, N4D_E_LIMIT, "%s name is longer than 255 bytes", what);
    return N4D_OK;
}

#define GROW(m, arr, n, cap)                                                                   \
    n4d__grow((m)->ctx, N4D_MEM_OTHER, (void **)&(m)->arr, &(m)->cap, (m)->n + 1,              \
              sizeof *(m)->arr)

n4d_status n4d_model_add_area(n4d_model *m, const char *name, const int32_t lo[4],
                              const int32_t hi[4])
{
    n4d_status st = check_mutable(m, "n4d_model_add_area");
    if (st)
        return st;
    if ((st = check_name(m, "area", name)))
        return st;
    if (!lo || !hi)
        return MODEL_ERR(m, N4D_E_INVALID_ARG, "area \"%s\": bounds are NULL", name);
    if (find_area(m, name) >= 0)
        return MODEL_ERR(m, N4D_E_CONFIG, "duplicate area name \"%s\"", name);
    static const char axis[4] = {'x', 'y', 'z', 'w'};
    for (int i = 0; i < 4; i++) {
        if (lo[i] < 0 || hi[i] < lo[i] || (uint32_t)hi[i] >= m->shape[i])
            return MODEL_ERR(m, N4D_E_RANGE,
                             "area \"%s\": %c range [%d, %d] is not inside the lattice [0, %u]",
                             name, axis[i], lo[i], hi[i], m->shape[i] - 1);
    }
    if (!n4d__names_reserve(m->ctx, &m->area_names, m->areas, sizeof *m->areas, m->n_areas + 1) ||
        !GROW(m, areas, n_areas, cap_areas))
        return MODEL_ERR(m, N4D_E_NOMEM, "out of memory adding area \"%s\"", name);
    n4d__area *a = &m->areas[m->n_areas];
    if (!(a->name = n4d__strdup(m->ctx, name)))
        return MODEL_ERR(m, N4D_E_NOMEM, "out of memory adding area \"%s\"", name);
    memcpy(a->lo, lo, sizeof a->lo);
    memcpy(a->hi, hi, sizeof a->hi);
    n4d__names_add(&m->area_names, m->areas, sizeof *m->areas, m->n_areas++);
    return N4D_OK;
}

static n4d_status check_dist(n4d_model *m, const char *what, const n4d_dist *d)
{
    switch (d->kind) {
    case N4D_DIST_CONSTANT:
        if (!isfinite(d->value))
            return MODEL_ERR(m, N4D_E_RANGE, "%s is not finite", what);
        return N4D_OK;
    case N4D_DIST_UNIFORM:
        if (!isfinite(d->lo) || !isfinite(d->hi) || d->lo > d->hi)
            return MODEL_ERR(m, N4D_E_RANGE, "%s: uniform range [%g, %g] is invalid", what, d->lo,
                             d->hi);
        return N4D_OK;
    case N4D_DIST_NORMAL:
        if (!isfinite(d->value) || !isfinite(d->std) || d->std < 0 || isnan(d->lo) ||
            isnan(d->hi) || d->lo > d->hi)
            return MODEL_ERR(m, N4D_E_RANGE, "%s: normal(mean %g, std %g, clip [%g, %g]) is invalid",
                             what, d->value, d->std, d->lo, d->hi);
        return N4D_OK;
    default:
        return MODEL_ERR(m, N4D_E_INVALID_ARG, "%s: unknown distribution kind %d", what, d->kind);
    }
}

/* Largest |weight| a distribution can draw (a Box-Muller normal stays within
 * 8.6 standard deviations: the smallest uniform is 2^-53). */
static double dist_max_abs(const n4d_dist *d)
{
    switch (d->kind) {
    case N4D_DIST_CONSTANT: return fabs(d->value);
    case N4D_DIST_UNIFORM: return fmax(fabs(d->lo), fabs(d->hi));
    default: {
        double lo = fmax(d->lo, d->value - 8.6 * d->std), hi = fmin(d->hi, d->value + 8.6 * d->std);
        return fmax(fabs(lo), fabs(hi));
    }
    }
}

/* Weights are stored as float, then in 32-bit fixed point relative to the
 * largest: beyond 1e30 they would not be finite floats. */
#define MAX_ABS_WEIGHT 1e30

/* Sets parameter `name` of population `pop` (model nm) in q, checked. */
static n4d_status set_param(n4d_model *m, const char *pop, const n4d__neuron_model *nm, double *q,
                            const char *name, double value)
{
    if (!name)
        return MODEL_ERR(m, N4D_E_INVALID_ARG, "population \"%s\": a parameter name is NULL", pop);
    const int32_t k = n4d__param_index(nm, name);
    if (k < 0) {
        char names[512];
        return MODEL_ERR(m, N4D_E_CONFIG,
                         "population \"%s\": unknown parameter \"%s\" of model \"%s\" "
                         "(expected one of: %s)",
                         pop, name, nm->name, n4d__param_names(nm, names, sizeof names));
    }
    if (!n4d__param_valid(nm, k, value)) {
        char range[96];
        return MODEL_ERR(m, N4D_E_RANGE,
                         "population \"%s\": parameter \"%s\" of model \"%s\" is %g (expected "
                         "%s)",
                         pop, nm->h->params[k].name, nm->name, value,
                         n4d__param_range_text(nm, k, range, sizeof range));
    }
    q[k] = value;
    return N4D_OK;
}

/* The model's checks across parameters. */
static n4d_status check_model_params(n4d_model *m, const char *pop, const n4d__neuron_model *nm,
                                     const double *q)
{
    const char *why = nm->h->check ? nm->h->check(q) : NULL;
    if (why)
        return MODEL_ERR(m, N4D_E_RANGE, "population \"%s\" (model \"%s\"): %s", pop, nm->name,
                         why);
    return N4D_OK;
}

n4d_status n4d_model_add_population(n4d_model *m, const n4d_population_desc *d, int32_t *index)
{
    n4d_status st = check_mutable(m, "n4d_model_add_population");
    if (st)
        return st;
    if (!d || d->struct_size < sizeof(uint32_t))
        return MODEL_ERR(m, N4D_E_INVALID_ARG, "population descriptor is NULL or has no struct_size");
    n4d_population_desc pd;
    n4d_population_desc_init(&pd);
    N4D__COPY_IN(pd, d);
    if ((st = check_name(m, "population", pd.name)))
        return st;
    if (n4d_model_find_population(m, pd.name) >= 0)
        return MODEL_ERR(m, N4D_E_CONFIG, "duplicate population name \"%s\"", pd.name);
    if (!pd.area)
        return MODEL_ERR(m, N4D_E_INVALID_ARG, "population \"%s\": area is NULL", pd.name);
    int32_t area = find_area(m, pd.area);
    if (area < 0)
        return MODEL_ERR(m, N4D_E_CONFIG, "population \"%s\": unknown area \"%s\"", pd.name, pd.area);
    const n4d__neuron_model *nm = pd.model_name ? n4d__neuron_model_by_name(pd.model_name)
                                                : n4d__neuron_model_by_id(pd.model);
    if (!nm) {
        char known[256];
        size_t len = 0;
        known[0] = '\0';
        for (int32_t i = 0; i < n4d__neuron_model_count() && len < sizeof known; i++)
            len += (size_t)snprintf(known + len, sizeof known - len, "%s%s", i ? ", " : "",
                                    n4d__neuron_model_at(i)->name);
        if (pd.model_name)
            return MODEL_ERR(m, N4D_E_CONFIG,
                             "population \"%s\": unknown neuron model \"%s\" (expected one of: %s)",
                             pd.name, pd.model_name, known);
        return MODEL_ERR(m, N4D_E_INVALID_ARG,
                         "population \"%s\": unknown neuron model id %d (expected the id of one of: "
                         "%s)",
                         pd.name, pd.model, known);
    }
    double q[N4D__MAX_PARAMS];
    n4d__param_defaults(nm, q);
    if (pd.preset) {
        int32_t k = 0;
        while (k < nm->h->n_presets && strcmp(nm->h->presets[k].name, pd.preset) != 0)
            k++;
        if (k == nm->h->n_presets)
            return MODEL_ERR(m, N4D_E_CONFIG,
                             "population \"%s\": model \"%s\" has no preset \"%s\"%s", pd.name,
                             nm->name, pd.preset,
                             nm->h->n_presets ? "" : " (it has no presets)");
        for (int32_t j = 0; j < nm->h->presets[k].n_values; j++)
            if ((st = set_param(m, pd.name, nm, q, nm->h->presets[k].values[j].name,
                                nm->h->presets[k].values[j].value)))
                return st;
    }
    if (pd.n_params && !pd.params)
        return MODEL_ERR(m, N4D_E_INVALID_ARG, "population \"%s\": params is NULL, n_params %u",
                         pd.name, pd.n_params);
    for (uint32_t j = 0; j < pd.n_params; j++)
        if ((st = set_param(m, pd.name, nm, q, pd.params[j].name, pd.params[j].value)))
            return st;
    if ((st = check_model_params(m, pd.name, nm, q)) ||
        (st = check_ref_steps(m, pd.name, nm, q, m->dt)))
        return st;
    const n4d__area *ar = &m->areas[area];
    uint64_t sites = 1;
    for (int i = 0; i < 4; i++)
        sites *= (uint64_t)(ar->hi[i] - ar->lo[i] + 1);
    switch (pd.placement) {
    case N4D_PLACE_ALL:
        break;
    case N4D_PLACE_DENSITY:
        if (!(pd.density >= 0.0 && pd.density <= 1.0))
            return MODEL_ERR(m, N4D_E_RANGE, "population \"%s\": density %g is not in [0, 1]",
                             pd.name, pd.density);
        break;
    case N4D_PLACE_COUNT:
        if (pd.count > sites)
            return MODEL_ERR(m, N4D_E_RANGE,
                             "population \"%s\": count %llu exceeds the %llu sites of area \"%s\"",
                             pd.name, (unsigned long long)pd.count, (unsigned long long)sites,
                             ar->name);
        break;
    default:
        return MODEL_ERR(m, N4D_E_INVALID_ARG, "population \"%s\": unknown placement %d", pd.name,
                         pd.placement);
    }
    const bool v_init_default = pd.v_init.kind < 0;
    if (v_init_default)
        pd.v_init = n4d_dist_constant(q[nm->h->v_init_param]);
    char what[300];
    snprintf(what, sizeof what, "population \"%s\": v_init", pd.name);
    if ((st = check_dist(m, what, &pd.v_init)))
        return st;
    if (!n4d__names_reserve(m->ctx, &m->pop_names, m->pops, sizeof *m->pops, m->n_pops + 1) ||
        !GROW(m, pops, n_pops, cap_pops))
        return MODEL_ERR(m, N4D_E_NOMEM, "out of memory adding population \"%s\"", pd.name);
    n4d__population *p = &m->pops[m->n_pops];
    memset(p, 0, sizeof *p);
    if (!(p->name = n4d__strdup(m->ctx, pd.name)))
        return MODEL_ERR(m, N4D_E_NOMEM, "out of memory adding population \"%s\"", pd.name);
    p->area = area;
    p->model = nm->id;
    p->nm = nm;
    memcpy(p->params, q, sizeof q);
    p->v_init_default = v_init_default;
    p->placement = pd.placement;
    p->density = pd.density;
    p->count = pd.count;
    p->v_init = pd.v_init;
    if (index)
        *index = (int32_t)m->n_pops;
    n4d__names_add(&m->pop_names, m->pops, sizeof *m->pops, m->n_pops++);
    return N4D_OK;
}

static const char *rule_name(int32_t rule)
{
    static const char *const names[] = {"fixed_probability", "fixed_indegree", "fixed_total_number",
                                        "one_to_one", "all_to_all", "distance", "explicit"};
    return (rule >= 0 && rule <= N4D_RULE_EXPLICIT) ? names[rule] : "?";
}

static n4d_status add_projection(n4d_model *m, const n4d_projection_desc *d, int32_t *index,
                                 bool described);

n4d_status n4d_model_add_projection(n4d_model *m, const n4d_projection_desc *d, int32_t *index)
{
    return add_projection(m, d, index, false);
}

n4d_status n4d__model_add_projection_described(n4d_model *m, const n4d_projection_desc *d)
{
    return add_projection(m, d, NULL, true);
}

void n4d__projection_free_explicit(n4d_context *ctx, n4d__projection *p)
{
    const uint64_t n = p->d.n_connections;
    n4d__free(ctx, N4D_MEM_OTHER, p->ex_pre, n * sizeof(uint32_t));
    n4d__free(ctx, N4D_MEM_OTHER, p->ex_post, n * sizeof(uint32_t));
    n4d__free(ctx, N4D_MEM_OTHER, p->ex_w, n * sizeof(float));
    n4d__free(ctx, N4D_MEM_OTHER, p->ex_delay, n * sizeof(double));
    p->ex_pre = p->ex_post = NULL;
    p->ex_w = NULL;
    p->ex_delay = NULL;
}

/* Checks and copies the connections of an explicit projection into p. */
static n4d_status add_explicit(n4d_model *m, const char *name, const n4d_projection_desc *pd,
                               n4d__projection *p)
{
    const uint64_t n = pd->n_connections;
    if (n && (!pd->pre || !pd->post))
        return MODEL_ERR(m, N4D_E_INVALID_ARG,
                         "projection \"%s\": %llu explicit connections but pre or post is NULL",
                         name, (unsigned long long)n);
    if (n > 0xffffffffull)
        return MODEL_ERR(m, N4D_E_LIMIT, "projection \"%s\": %llu connections (at most 2^32 - 1)",
                         name, (unsigned long long)n);
    if (!pd->weights && pd->weight.kind != N4D_DIST_CONSTANT)
        return MODEL_ERR(m, N4D_E_INVALID_ARG,
                         "projection \"%s\": an explicit projection takes weights[] or a constant "
                         "weight, not a distribution",
                         name);
    if (!pd->delays && pd->delay.kind != N4D_DIST_CONSTANT)
        return MODEL_ERR(m, N4D_E_INVALID_ARG,
                         "projection \"%s\": an explicit projection takes delays[] or a constant "
                         "delay, not a distribution",
                         name);
    for (uint64_t k = 0; k < n; k++) {
        const double w = pd->weights ? pd->weights[k] : pd->weight.value;
        if (!(fabs(w) <= MAX_ABS_WEIGHT))
            return MODEL_ERR(m, N4D_E_RANGE,
                             "projection \"%s\": connection %llu (pre %u, post %u): weight %g is "
                             "not a finite number of magnitude at most %g",
                             name, (unsigned long long)k, pd->pre[k], pd->post[k], w,
                             MAX_ABS_WEIGHT);
        const double dl = pd->delays ? pd->delays[k] : (pd->delay.value == 0.0 ? m->dt : pd->delay.value);
        if (!(dl >= 0.5 * m->dt) || !(dl / m->dt <= N4D__MAX_DELAY_STEPS))
            return MODEL_ERR(m, N4D_E_RANGE,
                             "projection \"%s\": connection %llu (pre %u, post %u): delay %g ms "
                             "(expected at least one step of %g ms, at most %u steps)",
                             name, (unsigned long long)k, pd->pre[k], pd->post[k], dl, m->dt,
                             N4D__MAX_DELAY_STEPS);
    }
    const size_t c = (size_t)(n ? n : 1);
    p->ex_pre = n4d__alloc(m->ctx, N4D_MEM_OTHER, c * sizeof(uint32_t));
    p->ex_post = n4d__alloc(m->ctx, N4D_MEM_OTHER, c * sizeof(uint32_t));
    p->ex_w = n4d__alloc(m->ctx, N4D_MEM_OTHER, c * sizeof(float));
    p->ex_delay = n4d__alloc(m->ctx, N4D_MEM_OTHER, c * sizeof(double));
    p->d.n_connections = c; /* the size the frees use */
    if (!p->ex_pre || !p->ex_post || !p->ex_w || !p->ex_delay) {
        n4d__projection_free_explicit(m->ctx, p);
        return MODEL_ERR(m, N4D_E_NOMEM, "out of memory for the connections of \"%s\"", name);
    }
    for (uint64_t k = 0; k < n; k++) {
        double w = pd->weights ? pd->weights[k] : pd->weight.value;
        w = pd->syn_type == N4D_SYN_EXCITATORY ? fabs(w)
            : pd->syn_type == N4D_SYN_INHIBITORY ? -fabs(w) : w;
        p->ex_pre[k] = pd->pre[k];
        p->ex_post[k] = pd->post[k];
        p->ex_w[k] = (float)w;
        p->ex_delay[k] = pd->delays ? pd->delays[k] : pd->delay.value;
    }
    return N4D_OK;
}

static n4d_status add_projection(n4d_model *m, const n4d_projection_desc *d, int32_t *index,
                                 bool described)
{
    n4d_status st = check_mutable(m, "n4d_model_add_projection");
    if (st)
        return st;
    if (!d || d->struct_size < sizeof(uint32_t))
        return MODEL_ERR(m, N4D_E_INVALID_ARG, "projection descriptor is NULL or has no struct_size");
    n4d_projection_desc pd;
    n4d_projection_desc_init(&pd);
    N4D__COPY_IN(pd, d);
    if (!pd.source || !pd.target)
        return MODEL_ERR(m, N4D_E_INVALID_ARG, "projection: source or target is NULL");
    int32_t src = n4d_model_find_population(m, pd.source);
    if (src < 0)
        return MODEL_ERR(m, N4D_E_CONFIG, "projection: unknown source population \"%s\"", pd.source);
    int32_t tgt = n4d_model_find_population(m, pd.target);
    if (tgt < 0)
        return MODEL_ERR(m, N4D_E_CONFIG, "projection: unknown target population \"%s\"", pd.target);
    char name[600];
    if (pd.name && pd.name[0])
        snprintf(name, sizeof name, "%s", pd.name);
    else
        snprintf(name, sizeof name, "%s->%s", pd.source, pd.target);
    if (strlen(name) > 255)
        return MODEL_ERR(m, N4D_E_LIMIT, "projection name is longer than 255 bytes");
    if (n4d__names_find(&m->proj_names, m->projs, sizeof *m->projs, name) >= 0)
        return MODEL_ERR(m, N4D_E_CONFIG, "duplicate projection name \"%s\"", name);
    switch (pd.rule) {
    case N4D_RULE_FIXED_PROBABILITY:
    case N4D_RULE_DISTANCE:
        if (!(pd.p >= 0.0 && pd.p <= 1.0))
            return MODEL_ERR(m, N4D_E_RANGE, "projection \"%s\": p %g is not in [0, 1]", name, pd.p);
        if (pd.rule == N4D_RULE_DISTANCE &&
            (!(pd.sigma > 0) || !isfinite(pd.sigma) || !(pd.cutoff > 0) ||
             (pd.kernel != N4D_KERNEL_GAUSSIAN && pd.kernel != N4D_KERNEL_EXPONENTIAL)))
            return MODEL_ERR(m, N4D_E_RANGE,
                             "projection \"%s\": distance rule needs a known kernel, sigma > 0 and "
                             "cutoff > 0",
                             name);
        break;
    case N4D_RULE_FIXED_INDEGREE:
    case N4D_RULE_FIXED_TOTAL_NUMBER:
        if (pd.n > 0xffffffffull)
            return MODEL_ERR(m, N4D_E_LIMIT, "projection \"%s\": n %llu is too large", name,
                             (unsigned long long)pd.n);
        break;
    case N4D_RULE_ONE_TO_ONE:
    case N4D_RULE_ALL_TO_ALL:
    case N4D_RULE_EXPLICIT:
        break;
    default:
        return MODEL_ERR(m, N4D_E_INVALID_ARG, "projection \"%s\": unknown rule %d", name, pd.rule);
    }
    char what[700];
    snprintf(what, sizeof what, "projection \"%s\": weight", name);
    if ((st = check_dist(m, what, &pd.weight)))
        return st;
    if (!(dist_max_abs(&pd.weight) <= MAX_ABS_WEIGHT))
        return MODEL_ERR(m, N4D_E_RANGE, "%s can reach |w| = %g (at most %g)", what,
                         dist_max_abs(&pd.weight), MAX_ABS_WEIGHT);
    snprintf(what, sizeof what, "projection \"%s\": delay", name);
    if ((st = check_dist(m, what, &pd.delay)))
        return st;
    if (pd.delay.kind == N4D_DIST_CONSTANT && pd.delay.value != 0.0 &&
        pd.delay.value < 0.5 * m->dt)
        return MODEL_ERR(m, N4D_E_RANGE,
                         "projection \"%s\": delay %g ms rounds to zero steps (dt %g ms; a delay "
                         "is at least one step)",
                         name, pd.delay.value, m->dt);
    if (pd.syn_type < N4D_SYN_AUTO || pd.syn_type > N4D_SYN_INHIBITORY)
        return MODEL_ERR(m, N4D_E_INVALID_ARG, "projection \"%s\": unknown synapse type %d", name,
                         pd.syn_type);
    const n4d__synapse_model *sm =
        n4d__synapse_model_by_name(pd.synapse_model ? pd.synapse_model : "static");
    if (!sm) {
        char known[256];
        size_t len = 0;
        known[0] = '\0';
        for (int32_t i = 0; i < n4d__synapse_model_count() && len < sizeof known; i++)
            len += (size_t)snprintf(known + len, sizeof known - len, "%s%s", i ? ", " : "",
                                    n4d__synapse_model_at(i)->name);
        return MODEL_ERR(m, N4D_E_CONFIG,
                         "projection \"%s\": unknown synapse model \"%s\" (expected one of: %s)",
                         name, pd.synapse_model, known);
    }
    double sq[N4D__MAX_SYN_PARAMS] = {0};
    if ((st = n4d__syn_params_resolve(m, name, sm, pd.synapse_params, pd.n_synapse_params, sq)))
        return st;
    if (!n4d__names_reserve(m->ctx, &m->proj_names, m->projs, sizeof *m->projs, m->n_projs + 1) ||
        !GROW(m, projs, n_projs, cap_projs))
        return MODEL_ERR(m, N4D_E_NOMEM, "out of memory adding projection \"%s\"", name);
    n4d__projection *p = &m->projs[m->n_projs];
    memset(p, 0, sizeof *p);
    memcpy(p->syn_params, sq, sizeof sq);
    if (!(p->name = n4d__strdup(m->ctx, name)))
        return MODEL_ERR(m, N4D_E_NOMEM, "out of memory adding projection \"%s\"", name);
    p->source = src;
    p->target = tgt;
    p->sm = sm;
    p->d = pd;
    p->d.name = p->d.source = p->d.target = p->d.synapse_model = NULL;
    p->d.synapse_params = NULL;
    p->d.n_synapse_params = 0;
    p->d.pre = p->d.post = NULL;
    p->d.weights = p->d.delays = NULL;
    p->d.n_connections = 0;
    if (pd.rule == N4D_RULE_EXPLICIT) {
        if (described && !pd.pre && !pd.n_connections) {
            p->ex_missing = true; /* its synapses come from the model file */
        } else if ((st = add_explicit(m, name, &pd, p))) {
            n4d__strfree(m->ctx, p->name);
            return st;
        }
        p->d.n_connections = pd.n_connections;
        p->d.n = described && p->ex_missing ? pd.n : pd.n_connections; /* the count, as "n" */
    }
    (void)rule_name;
    if (index)
        *index = (int32_t)m->n_projs;
    n4d__names_add(&m->proj_names, m->projs, sizeof *m->projs, m->n_projs++);
    return N4D_OK;
}

/* The inputs' arrays (inputs.h) are kept in the model: counted as N4D_MEM_OTHER. */
void n4d__input_free_arrays(n4d_context *ctx, n4d__input *in)
{
    n4d__free(ctx, N4D_MEM_OTHER, in->neurons, in->n_neurons * sizeof(uint32_t));
    n4d__free(ctx, N4D_MEM_OTHER, in->times, in->n_times * sizeof(double));
    n4d__free(ctx, N4D_MEM_OTHER, in->indices, in->n_times * sizeof(uint32_t));
    n4d__free(ctx, N4D_MEM_OTHER, in->values, in->n_times * sizeof(double));
    in->neurons = in->indices = NULL;
    in->times = in->values = NULL;
}

static int cmp_u32(const void *a, const void *b)
{
    const uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static const char *const INPUT_KIND_NAMES[] = {"dc", "poisson", "spikes", "step_current", "ac",
                                               "noise"};

/* Copies n values of `size` bytes (NULL for n = 0); false: out of memory. */
static bool copy_array(n4d_context *ctx, void **dst, const void *src, uint64_t n, size_t size)
{
    *dst = NULL;
    if (!n)
        return true;
    if (n > SIZE_MAX / size / 2 || !(*dst = n4d__alloc(ctx, N4D_MEM_OTHER, (size_t)n * size)))
        return false;
    memcpy(*dst, src, (size_t)n * size);
    return true;
}

/* The checks of the arrays of a spike / current input that need no
 * population size (those are in n4d__inputs_validate at the build). */
static n4d_status check_input_arrays(n4d_model *m, size_t idx, const n4d_input_desc *in)
{
    const char *kn = INPUT_KIND_NAMES[in->kind];
    const char *tg = in->target;
    const bool current = in->kind >= N4D_INPUT_STEP_CURRENT;
    if (in->n_neurons && !current)
        return MODEL_ERR(m, N4D_E_INVALID_ARG,
                         "input %zu (%s on \"%s\"): `neurons` is for step_current, ac and noise "
                         "inputs only",
                         idx, kn, tg);
    if (in->n_neurons && !in->neurons)
        return MODEL_ERR(m, N4D_E_INVALID_ARG, "input %zu (%s on \"%s\"): neurons is NULL with "
                         "n_neurons %llu", idx, kn, tg, (unsigned long long)in->n_neurons);
    if (in->n_times && in->kind != N4D_INPUT_SPIKES && in->kind != N4D_INPUT_STEP_CURRENT)
        return MODEL_ERR(m, N4D_E_INVALID_ARG,
                         "input %zu (%s on \"%s\"): `times` is for spikes and step_current inputs "
                         "only",
                         idx, kn, tg);
    if (in->n_times && (!in->times || (in->kind == N4D_INPUT_SPIKES && !in->indices) ||
                        (in->kind == N4D_INPUT_STEP_CURRENT && !in->values)))
        return MODEL_ERR(m, N4D_E_INVALID_ARG,
                         "input %zu (%s on \"%s\"): n_times %llu but times or %s is NULL", idx, kn,
                         tg, (unsigned long long)in->n_times,
                         in->kind == N4D_INPUT_SPIKES ? "indices" : "values");
    if (in->n_times > ((uint64_t)1 << 40) || in->n_neurons > UINT32_MAX)
        return MODEL_ERR(m, N4D_E_LIMIT, "input %zu (%s on \"%s\"): too many entries", idx, kn,
                         tg);
    for (uint64_t k = 0; k < in->n_times; k++) {
        const double t = in->times[k];
        if (!(t >= 0) || !isfinite(t) || t / m->dt > 1e18)
            return MODEL_ERR(m, N4D_E_RANGE,
                             "input %zu (%s on \"%s\"): times[%llu] = %g ms (expected a finite "
                             "time >= 0)",
                             idx, kn, tg, (unsigned long long)k, t);
        if (in->kind == N4D_INPUT_STEP_CURRENT) {
            if (k && !(t > in->times[k - 1]))
                return MODEL_ERR(m, N4D_E_RANGE,
                                 "input %zu (step_current on \"%s\"): times[%llu] = %g ms is not "
                                 "after times[%llu] = %g ms (expected ascending times)",
                                 idx, tg, (unsigned long long)k, t, (unsigned long long)(k - 1),
                                 in->times[k - 1]);
            if (!isfinite(in->values[k]))
                return MODEL_ERR(m, N4D_E_RANGE,
                                 "input %zu (step_current on \"%s\"): values[%llu] is not finite",
                                 idx, tg, (unsigned long long)k);
        }
    }
    if (in->kind == N4D_INPUT_SPIKES && !isfinite(in->weight))
        return MODEL_ERR(m, N4D_E_RANGE, "input %zu (spikes on \"%s\"): weight is not finite", idx,
                         tg);
    if (in->kind == N4D_INPUT_SPIKES && in->weight == 0.0)
        return MODEL_ERR(m, N4D_E_RANGE,
                         "input %zu (spikes on \"%s\"): weight is 0, so the spikes would do "
                         "nothing (n4d_input_desc_init sets 0: give what each spike adds, e.g. 1 "
                         "into parrot neurons)",
                         idx, tg);
    if (in->kind == N4D_INPUT_AC &&
        (!isfinite(in->amplitude) || !isfinite(in->offset) || !isfinite(in->phase) ||
         !(in->frequency >= 0) || !isfinite(in->frequency)))
        return MODEL_ERR(m, N4D_E_RANGE,
                         "input %zu (ac on \"%s\"): amplitude %g, offset %g, phase %g must be "
                         "finite and frequency %g Hz finite and >= 0",
                         idx, tg, in->amplitude, in->offset, in->phase, in->frequency);
    if (in->kind == N4D_INPUT_NOISE &&
        (!isfinite(in->amplitude) || !(in->std >= 0) || !isfinite(in->std) ||
         !(in->interval >= 0) || !isfinite(in->interval) || in->interval / m->dt > 1e15))
        return MODEL_ERR(m, N4D_E_RANGE,
                         "input %zu (noise on \"%s\"): amplitude (the mean) %g must be finite, "
                         "std %g and interval %g ms finite and >= 0",
                         idx, tg, in->amplitude, in->std, in->interval);
    return N4D_OK;
}

n4d_status n4d_model_add_input(n4d_model *m, const n4d_input_desc *d)
{
    n4d_status st = check_mutable(m, "n4d_model_add_input");
    if (st)
        return st;
    if (!d || d->struct_size < sizeof(uint32_t))
        return MODEL_ERR(m, N4D_E_INVALID_ARG, "input descriptor is NULL or has no struct_size");
    n4d_input_desc in;
    n4d_input_desc_init(&in);
    N4D__COPY_IN(in, d);
    if (!in.target)
        return MODEL_ERR(m, N4D_E_INVALID_ARG, "input: target is NULL");
    int32_t tgt = n4d_model_find_population(m, in.target);
    if (tgt < 0)
        return MODEL_ERR(m, N4D_E_CONFIG, "input: unknown target population \"%s\"", in.target);
    if (in.kind < N4D_INPUT_DC || in.kind > N4D_INPUT_NOISE)
        return MODEL_ERR(m, N4D_E_INVALID_ARG, "input: unknown kind %d", in.kind);
    if (isnan(in.start) || isnan(in.stop) || in.start < 0 || in.stop < in.start)
        return MODEL_ERR(m, N4D_E_RANGE, "input: time window [%g, %g) ms is invalid", in.start,
                         in.stop);
    if (in.kind == N4D_INPUT_DC && !isfinite(in.amplitude))
        return MODEL_ERR(m, N4D_E_RANGE, "input: DC amplitude is not finite");
    if (in.kind == N4D_INPUT_POISSON) {
        if (!(in.rate >= 0) || !isfinite(in.rate))
            return MODEL_ERR(m, N4D_E_RANGE, "input: Poisson rate %g Hz must be >= 0", in.rate);
        if (!isfinite(in.weight))
            return MODEL_ERR(m, N4D_E_RANGE, "input: Poisson weight is not finite");
        if (in.n_sources < 1)
            return MODEL_ERR(m, N4D_E_RANGE, "input: n_sources must be >= 1");
        if (in.sampling != N4D_POISSON_PER_STEP && in.sampling != N4D_POISSON_SPARSE)
            return MODEL_ERR(m, N4D_E_INVALID_ARG, "input: unknown Poisson sampling %d",
                             in.sampling);
        double lambda = in.rate * 1e-3 * m->dt * in.n_sources;
        if (lambda > 1e6)
            return MODEL_ERR(m, N4D_E_LIMIT,
                             "input: %g expected Poisson events per step exceeds the limit 1e6",
                             lambda);
    }
    if ((st = check_input_arrays(m, m->n_inputs, &in)))
        return st;
    /* a repeated neuron would get the current twice: a sorted copy shows it */
    if (in.n_neurons) {
        uint32_t *srt = n4d__alloc(m->ctx, N4D_MEM_OTHER, in.n_neurons * sizeof(uint32_t));
        if (!srt)
            return MODEL_ERR(m, N4D_E_NOMEM, "out of memory adding an input");
        memcpy(srt, in.neurons, in.n_neurons * sizeof(uint32_t));
        qsort(srt, (size_t)in.n_neurons, sizeof *srt, cmp_u32);
        bool twice = false;
        uint32_t v = 0;
        for (uint64_t k = 1; k < in.n_neurons && !twice; k++)
            if (srt[k] == srt[k - 1]) {
                twice = true;
                v = srt[k];
            }
        n4d__free(m->ctx, N4D_MEM_OTHER, srt, in.n_neurons * sizeof(uint32_t));
        uint64_t dup = UINT64_MAX, first = UINT64_MAX;
        for (uint64_t k = 0; twice && k < in.n_neurons && dup == UINT64_MAX; k++)
            if (in.neurons[k] == v) {
                if (first == UINT64_MAX)
                    first = k;
                else
                    dup = k; /* the second occurrence */
            }
        if (dup != UINT64_MAX)
            return MODEL_ERR(m, N4D_E_RANGE,
                             "input %zu (%s on \"%s\"): neurons[%llu] = %u is repeated", m->n_inputs,
                             INPUT_KIND_NAMES[in.kind], in.target, (unsigned long long)dup,
                             in.neurons[dup]);
    }
    if (!GROW(m, inputs, n_inputs, cap_inputs))
        return MODEL_ERR(m, N4D_E_NOMEM, "out of memory adding an input");
    n4d__input *p = &m->inputs[m->n_inputs];
    memset(p, 0, sizeof *p);
    void *nr = NULL, *tm = NULL, *ix = NULL, *vl = NULL;
    const bool copied =
        copy_array(m->ctx, &nr, in.neurons, in.n_neurons, sizeof(uint32_t)) &&
        copy_array(m->ctx, &tm, in.times, in.n_times, sizeof(double)) &&
        (in.kind != N4D_INPUT_SPIKES ||
         copy_array(m->ctx, &ix, in.indices, in.n_times, sizeof(uint32_t))) &&
        (in.kind != N4D_INPUT_STEP_CURRENT ||
         copy_array(m->ctx, &vl, in.values, in.n_times, sizeof(double)));
    p->neurons = nr;
    p->n_neurons = in.n_neurons;
    p->times = tm;
    p->indices = ix;
    p->values = vl;
    p->n_times = in.n_times;
    if (!copied) {
        n4d__input_free_arrays(m->ctx, p);
        return MODEL_ERR(m, N4D_E_NOMEM, "out of memory copying the arrays of an input");
    }
    m->n_inputs++;
    p->kind = in.kind;
    p->target = tgt;
    p->amplitude = in.amplitude;
    p->rate = in.rate;
    p->weight = in.weight;
    p->n_sources = in.n_sources;
    p->start = in.start;
    p->stop = in.stop;
    p->sampling = in.kind == N4D_INPUT_POISSON ? in.sampling : N4D_POISSON_PER_STEP;
    p->offset = in.offset;
    p->frequency = in.frequency;
    p->phase = in.phase;
    p->std = in.std;
    p->interval = in.interval;
    return N4D_OK;
}

void n4d_homeostasis_init(n4d_homeostasis *h)
{
    if (!h)
        return;
    memset(h, 0, sizeof *h);
    h->struct_size = sizeof *h;
    h->window = 1000.0;
    h->eta = 0.1;
    h->scale_min = 0.0;
    h->scale_max = 10.0;
}

n4d_status n4d_model_set_homeostasis(n4d_model *m, const char *pop, const n4d_homeostasis *h)
{
    n4d_status st = check_mutable(m, "n4d_model_set_homeostasis");
    if (st)
        return st;
    const int32_t p = pop ? n4d_model_find_population(m, pop) : -1;
    if (p < 0)
        return MODEL_ERR(m, N4D_E_CONFIG, "homeostasis: unknown population \"%s\"",
                         pop ? pop : "(null)");
    n4d__population *P = &m->pops[p];
    if (!h) {
        P->has_homeo = false;
        return N4D_OK;
    }
    if (h->struct_size < sizeof(uint32_t))
        return MODEL_ERR(m, N4D_E_INVALID_ARG, "homeostasis: struct_size is not set");
    n4d_homeostasis v;
    n4d_homeostasis_init(&v);
    N4D__COPY_IN(v, h);
    const char *bad = NULL;
    if (!(v.target_rate > 0.0) || !isfinite(v.target_rate))
        bad = "target_rate must be a finite rate > 0 Hz";
    else if (!(v.window >= m->dt) || !isfinite(v.window))
        bad = "window must be at least one step (dt) and finite";
    else if (!(v.eta > 0.0 && v.eta <= 1.0))
        bad = "eta must be in (0, 1]";
    else if (!(v.scale_min >= 0.0) || !isfinite(v.scale_min))
        bad = "scale_min must be >= 0";
    else if (!(v.scale_max >= v.scale_min && v.scale_max >= 1.0) || !isfinite(v.scale_max))
        bad = "scale_max must be finite, >= scale_min and >= 1";
    if (bad)
        return MODEL_ERR(m, N4D_E_RANGE, "population \"%s\": homeostasis: %s", P->name, bad);
    P->homeo = v;
    P->homeo.struct_size = sizeof P->homeo;
    P->has_homeo = true;
    return N4D_OK;
}

n4d_status n4d_model_get_homeostasis(const n4d_model *m, const char *pop, n4d_homeostasis *h,
                                     int *enabled)
{
    if (!n4d__is_handle(m, N4D__MAGIC_MODEL))
        return N4D_E_INVALID_ARG;
    if (!h || !enabled || h->struct_size < sizeof(uint32_t))
        return N4D_E_INVALID_ARG;
    const int32_t p = pop ? n4d_model_find_population(m, pop) : -1;
    if (p < 0)
        return N4D_E_CONFIG;
    n4d_homeostasis v;
    n4d_homeostasis_init(&v);
    if (m->pops[p].has_homeo)
        v = m->pops[p].homeo;
    N4D__COPY_OUT(h, v);
    *enabled = m->pops[p].has_homeo;
    return N4D_OK;
}

n4d_status n4d_model_add_sense(n4d_model *m, const char *name, const char *area, uint32_t rows,
                               uint32_t cols)
{
    n4d_status st = check_mutable(m, "n4d_model_add_sense");
    if (st)
        return st;
    if ((st = check_name(m, "sense", name)))
        return st;
    if (find_named(m->senses, m->n_senses, sizeof *m->senses, name) >= 0)
        return MODEL_ERR(m, N4D_E_CONFIG, "duplicate sense name \"%s\"", name);
    int32_t a = area ? find_area(m, area) : -1;
    if (a < 0)
        return MODEL_ERR(m, N4D_E_CONFIG, "sense \"%s\": unknown area \"%s\"", name,
                         area ? area : "(null)");
    if (rows == 0 || cols == 0)
        return MODEL_ERR(m, N4D_E_RANGE, "sense \"%s\": input size %ux%u is empty", name, rows, cols);
    if (!GROW(m, senses, n_senses, cap_senses))
        return MODEL_ERR(m, N4D_E_NOMEM, "out of memory adding sense \"%s\"", name);
    n4d__sense *s = &m->senses[m->n_senses];
    if (!(s->name = n4d__strdup(m->ctx, name)))
        return MODEL_ERR(m, N4D_E_NOMEM, "out of memory adding sense \"%s\"", name);
    s->area = a;
    s->rows = rows;
    s->cols = cols;
    m->n_senses++;
    return N4D_OK;
}

/* ---- queries ------------------------------------------------------------ */

#define IS_MODEL(m) n4d__is_handle((m), N4D__MAGIC_MODEL)

int n4d_model_is_built(const n4d_model *m) { return IS_MODEL(m) && m->built; }

const char *n4d_model_build_backend(const n4d_model *m)
{
    if (!IS_MODEL(m))
        return "";
    if (m->built)
        return m->built_on[0] ? m->built_on : "loaded"; /* read from a file */
    return m->build_request;
}
double n4d_model_dt(const n4d_model *m) { return IS_MODEL(m) ? m->dt : 0.0; }
uint64_t n4d_model_seed(const n4d_model *m) { return IS_MODEL(m) ? m->seed : 0; }
uint64_t n4d_model_num_neurons(const n4d_model *m) { return IS_MODEL(m) ? m->n_neurons : 0; }
uint64_t n4d_model_num_synapses(const n4d_model *m)
{
    return !IS_MODEL(m) ? 0 : m->has_comm && m->built ? m->syn_total : m->syn.n_syn;
}
int32_t n4d_model_num_populations(const n4d_model *m) { return IS_MODEL(m) ? (int32_t)m->n_pops : 0; }
int32_t n4d_model_num_projections(const n4d_model *m) { return IS_MODEL(m) ? (int32_t)m->n_projs : 0; }
double n4d_model_default_duration(const n4d_model *m) { return IS_MODEL(m) ? m->default_duration : 0.0; }

n4d_status n4d_model_lattice(const n4d_model *m, uint32_t shape[4])
{
    if (!IS_MODEL(m) || !shape)
        return N4D_E_INVALID_ARG;
    memcpy(shape, m->shape, sizeof m->shape);
    return N4D_OK;
}

n4d_status n4d_model_population_info(const n4d_model *m, int32_t index, n4d_population_info *out)
{
    if (!IS_MODEL(m) || !out || out->struct_size < sizeof(uint32_t))
        return N4D_E_INVALID_ARG;
    if (index < 0 || (size_t)index >= m->n_pops)
        return N4D_E_RANGE;
    const n4d__population *p = &m->pops[index];
    n4d_population_info full = {sizeof full, p->name, m->areas[p->area].name, p->model,
                                p->first,    p->n,    p->nm->name};
    N4D__COPY_OUT(out, full);
    return N4D_OK;
}

n4d_status n4d_model_set_population_param(n4d_model *m, const char *pop, const char *param,
                                          double value)
{
    n4d_status st = check_mutable(m, "n4d_model_set_population_param");
    if (st)
        return st;
    if (!pop || !param)
        return MODEL_ERR(m, N4D_E_INVALID_ARG, "n4d_model_set_population_param: NULL name");
    const int32_t pi = n4d_model_find_population(m, pop);
    if (pi < 0)
        return MODEL_ERR(m, N4D_E_CONFIG, "unknown population \"%s\"", pop);
    n4d__population *p = &m->pops[pi];
    double q[N4D__MAX_PARAMS];
    memcpy(q, p->params, sizeof q);
    if ((st = set_param(m, pop, p->nm, q, param, value)) ||
        (st = check_model_params(m, pop, p->nm, q)) ||
        (st = check_ref_steps(m, pop, p->nm, q, m->dt)))
        return st;
    memcpy(p->params, q, sizeof q);
    if (p->v_init_default)
        p->v_init = n4d_dist_constant(q[p->nm->h->v_init_param]);
    return N4D_OK;
}

n4d_status n4d_model_get_population_param(const n4d_model *m, const char *pop, const char *param,
                                          double *value)
{
    if (!IS_MODEL(m))
        return N4D_E_INVALID_ARG;
    if (!pop || !param || !value)
        return MODEL_ERR(m, N4D_E_INVALID_ARG, "n4d_model_get_population_param: NULL argument");
    const int32_t pi = n4d_model_find_population(m, pop);
    if (pi < 0)
        return MODEL_ERR(m, N4D_E_CONFIG, "unknown population \"%s\"", pop);
    const n4d__population *p = &m->pops[pi];
    const int32_t k = n4d__param_index(p->nm, param);
    if (k < 0) {
        char names[512];
        return MODEL_ERR(m, N4D_E_CONFIG,
                         "population \"%s\": unknown parameter \"%s\" of model \"%s\" "
                         "(expected one of: %s)",
                         pop, param, p->nm->name, n4d__param_names(p->nm, names, sizeof names));
    }
    *value = p->params[k];
    return N4D_OK;
}

void n4d_lifecycle_init(n4d_lifecycle *l)
{
    if (!l)
        return;
    memset(l, 0, sizeof *l);
    l->struct_size = sizeof *l;
    l->max_age = 100000.0;
    l->health_decay_per_step = 0.0001;
    l->mutation_std_params = 0.05;
    l->mutation_std_weights = 0.02;
}

n4d_status n4d_model_set_population_lifecycle(n4d_model *m, const char *pop,
                                              const n4d_lifecycle *l)
{
    n4d_status st = check_mutable(m, "n4d_model_set_population_lifecycle");
    if (st)
        return st;
    if (!pop)
        return MODEL_ERR(m, N4D_E_INVALID_ARG, "n4d_model_set_population_lifecycle: pop is NULL");
    const int32_t pi = n4d_model_find_population(m, pop);
    if (pi < 0)
        return MODEL_ERR(m, N4D_E_CONFIG, "unknown population \"%s\"", pop);
    n4d_lifecycle o;
    n4d_lifecycle_init(&o);
    o.enable_death = 0;
    if (l) {
        if (l->struct_size < sizeof(uint32_t))
            return MODEL_ERR(m, N4D_E_INVALID_ARG,
                             "n4d_model_set_population_lifecycle: struct_size is not set");
        N4D__COPY_IN(o, l);
    }
    const struct {
        const char *name;
        double v;
    } vals[] = {{"max_age", o.max_age},
                {"health_decay_per_step", o.health_decay_per_step},
                {"mutation_std_params", o.mutation_std_params},
                {"mutation_std_weights", o.mutation_std_weights}};
    for (size_t k = 0; k < sizeof vals / sizeof vals[0]; k++)
        if (!(vals[k].v >= 0.0) || (k > 0 && !isfinite(vals[k].v)))
            return MODEL_ERR(m, N4D_E_RANGE,
                             "population \"%s\": lifecycle %s is %g (expected a number >= 0%s)",
                             pop, vals[k].name, vals[k].v, k > 0 ? ", finite" : "");
    o.struct_size = sizeof o;
    o.enable_death = o.enable_death != 0;
    o.enable_reproduction = o.enable_reproduction != 0;
    m->pops[pi].life = o;
    return N4D_OK;
}

n4d_status n4d_model_get_population_lifecycle(const n4d_model *m, const char *pop,
                                              n4d_lifecycle *l)
{
    if (!IS_MODEL(m))
        return N4D_E_INVALID_ARG;
    if (!pop || !l)
        return MODEL_ERR(m, N4D_E_INVALID_ARG, "n4d_model_get_population_lifecycle: NULL argument");
    const int32_t pi = n4d_model_find_population(m, pop);
    if (pi < 0)
        return MODEL_ERR(m, N4D_E_CONFIG, "unknown population \"%s\"", pop);
    if (m->pops[pi].life.struct_size)
        *l = m->pops[pi].life;
    else
        n4d_lifecycle_init(l);
    return N4D_OK;
}

void n4d__life_init_free(n4d_model *m)
{
    n4d__life_init *I = m->life0;
    if (!I)
        return;
    const uint64_t N = m->n_neurons ? m->n_neurons : 1;
    n4d__free(m->ctx, N4D_MEM_NEURONS, I->id, N * sizeof(uint64_t));
    n4d__free(m->ctx, N4D_MEM_NEURONS, I->generation, N * sizeof(uint32_t));
    n4d__free(m->ctx, N4D_MEM_NEURONS, I->parent, N * sizeof(int64_t));
    n4d__free(m->ctx, N4D_MEM_NEURONS, I->health, N * sizeof(double));
    n4d__free(m->ctx, N4D_MEM_NEURONS, I->age, N * sizeof(double));
    n4d__free(m->ctx, N4D_MEM_OTHER, I, sizeof *I);
    m->life0 = NULL;
}


int32_t n4d__pop_of(const n4d_model *m, uint64_t id)
{
    size_t lo = 0, hi = m->n_pops;
    while (lo < hi) { /* first population whose end is beyond id */
        size_t mid = (lo + hi) / 2;
        if (m->pops[mid].first + m->pops[mid].n <= id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < m->n_pops ? (int32_t)lo : -1;
}

static n4d_status check_neuron(const n4d_model *m, uint64_t id)
{
    if (!IS_MODEL(m))
        return N4D_E_INVALID_ARG;
    if (!m->built)
        return n4d__model_error(m, N4D_E_STATE, "the model is not built");
    if (id >= m->n_neurons)
        return n4d__model_error(m, N4D_E_RANGE,
                          "neuron %llu does not exist (the model has %llu)",
                          (unsigned long long)id, (unsigned long long)m->n_neurons);
    return N4D_OK;
}

n4d_status n4d_model_neuron_position(const n4d_model *m, uint64_t id, int32_t xyzw[4])
{
    n4d_status st = check_neuron(m, id);
    if (st)
        return st;
    if (!xyzw)
        return N4D_E_INVALID_ARG;
    memcpy(xyzw, m->pos + 4 * id, 4 * sizeof(int32_t));
    return N4D_OK;
}

int32_t n4d_model_neuron_population(const n4d_model *m, uint64_t id)
{
    n4d_status st = check_neuron(m, id);
    return st ? st : n4d__pop_of(m, id);
}

n4d_status n4d_model_out_degree(const n4d_model *m, uint64_t source, uint64_t *count)
{
    n4d_status st = check_neuron(m, source);
    if (st)
        return st;
    if (!count)
        return N4D_E_INVALID_ARG;
    const n4d__synapses *s = &m->syn;
    const uint64_t row = n4d__to_internal(m, source);
    *count = s->seg_off[s->seg_ptr[row + 1]] - s->seg_off[s->seg_ptr[row]];
    return N4D_OK;
}

typedef struct user_syn {
    uint32_t target;
    int32_t weight_q;
} user_syn;

static int cmp_user_syn(const void *a, const void *b)
{
    const user_syn *x = a, *y = b;
    if (x->target != y->target)
        return x->target < y->target ? -1 : 1;
    return (x->weight_q > y->weight_q) - (x->weight_q < y->weight_q);
}

n4d_status n4d_model_get_synapses(const n4d_model *m, uint64_t source, uint64_t cap,
                                  uint32_t *targets, float *weights, float *delays_ms,
                                  uint64_t *count)
{
    uint64_t deg = 0;
    n4d_status st = n4d_model_out_degree(m, source, &deg);
    if (st)
        return st;
    if (count)
        *count = deg;
    const n4d__synapses *s = &m->syn;
    const uint64_t row = n4d__to_internal(m, source);
    uint64_t k = 0;
    for (uint64_t g = s->seg_ptr[row]; g < s->seg_ptr[row + 1] && k < cap; g++) {
        const float dms = (float)(N4D__SEG_DELAY(s->seg_key[g]) * m->dt);
        const uint64_t lo = s->seg_off[g], n = s->seg_off[g + 1] - lo;
        /* in user ids, a segment is ordered by (target, weight) */
        user_syn *tmp = n4d__alloc(m->ctx, N4D_MEM_OTHER, (n ? n : 1) * sizeof *tmp);
        if (!tmp)
            return n4d__model_error(m, N4D_E_NOMEM,
                              "out of memory reading %llu synapses", (unsigned long long)n);
        for (uint64_t j = 0; j < n; j++)
            tmp[j] = (user_syn){(uint32_t)n4d__to_user(m, s->target[lo + j]), s->weight_q[lo + j]};
        if (m->perm)
            qsort(tmp, n, sizeof *tmp, cmp_user_syn);
        for (uint64_t j = 0; j < n && k < cap; j++, k++) {
            if (targets)
                targets[k] = tmp[j].target;
            if (weights)
                weights[k] = (float)((double)tmp[j].weight_q * s->inv_scale);
            if (delays_ms)
                delays_ms[k] = dms;
        }
        n4d__free(m->ctx, N4D_MEM_OTHER, tmp, (n ? n : 1) * sizeof *tmp);
    }
    return N4D_OK;
}

n4d_status n4d_model_delay_range(const n4d_model *m, uint32_t *min_steps, uint32_t *max_steps)
{
    if (!IS_MODEL(m) || !min_steps || !max_steps)
        return N4D_E_INVALID_ARG;
    if (!m->built)
        return n4d__model_error(m, N4D_E_STATE, "the model is not built");
    *min_steps = m->syn.min_delay;
    *max_steps = m->syn.max_delay;
    return N4D_OK;
}

n4d_status n4d_model_memory(const n4d_model *m, uint64_t bytes[N4D_MEM_TAG_COUNT])
{
    if (!IS_MODEL(m) || !bytes)
        return N4D_E_INVALID_ARG;
    memset(bytes, 0, N4D_MEM_TAG_COUNT * sizeof bytes[0]);
    const n4d__synapses *s = &m->syn;
    bytes[N4D_MEM_OTHER] = sizeof *m + m->cap_areas * sizeof *m->areas +
                           m->cap_pops * sizeof *m->pops + m->cap_projs * sizeof *m->projs +
                           m->cap_inputs * sizeof *m->inputs + m->cap_senses * sizeof *m->senses;
    if (m->built) {
        bytes[N4D_MEM_NEURONS] = m->n_neurons * 4 * sizeof(int32_t) +
                                 (m->perm ? 2 * m->n_neurons * sizeof(uint32_t) : 0);
        bytes[N4D_MEM_SYNAPSES] = (m->n_neurons + 1) * sizeof(uint64_t) +
                                  (s->n_seg + 1) * sizeof(uint64_t) + s->n_seg * sizeof(uint32_t) +
                                  s->n_syn * (sizeof(uint32_t) + sizeof(int32_t));
    }
    return N4D_OK;
}

