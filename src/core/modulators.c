/* Neuromodulators: the model's declarations and bindings, a sim's levels,
 * and the public calls. See modulators.h and docs/plasticity.md. */
#include "modulators.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define MODEL_ERR(m, st, ...) n4d__model_error((m), (st), __VA_ARGS__)
#define MAX_DELAY_STEPS (1u << 24)

/* ---- the model's declarations ------------------------------------------------ */

void n4d_modulator_desc_init(n4d_modulator_desc *d)
{
    if (!d)
        return;
    memset(d, 0, sizeof *d);
    d->struct_size = sizeof *d;
    d->baseline = 0.5;
    d->decay_rate = 0.1;
    d->level = NAN;
    d->per_spike = 0.1;
    d->delay = NAN;
}

int32_t n4d__mod_find(const n4d_model *m, const char *name)
{
    for (size_t k = 0; name && k < m->n_mods; k++)
        if (strcmp(m->mods[k].name, name) == 0)
            return (int32_t)k;
    return -1;
}

static bool unit_level(double x)
{
    return x >= 0.0 && x <= 1.0; /* false for NaN */
}

n4d_status n4d_model_add_modulator(n4d_model *m, const n4d_modulator_desc *d)
{
    if (!n4d__is_handle(m, N4D__MAGIC_MODEL))
        return N4D_E_INVALID_ARG;
    n4d__clear_error(&m->hdr);
    if (m->built)
        return MODEL_ERR(m, N4D_E_STATE, "n4d_model_add_modulator: the model is already built");
    if (!d || d->struct_size < sizeof(uint32_t))
        return MODEL_ERR(m, N4D_E_INVALID_ARG, "modulator descriptor is NULL or has no struct_size");
    n4d_modulator_desc md;
    n4d_modulator_desc_init(&md);
    N4D__COPY_IN(md, d);
    if (!md.name || !md.name[0] || strlen(md.name) > 63)
        return MODEL_ERR(m, N4D_E_INVALID_ARG, "modulator: name is NULL, empty or longer than 63");
    if (n4d__mod_find(m, md.name) >= 0)
        return MODEL_ERR(m, N4D_E_CONFIG, "duplicate modulator \"%s\"", md.name);
    if (!unit_level(md.baseline))
        return MODEL_ERR(m, N4D_E_RANGE, "modulator \"%s\": baseline %g is not in [0, 1]",
                         md.name, md.baseline);
    if (!isnan(md.level) && !unit_level(md.level))
        return MODEL_ERR(m, N4D_E_RANGE, "modulator \"%s\": level %g is not in [0, 1]", md.name,
                         md.level);
    if (!(md.decay_rate >= 0.0 && md.decay_rate <= 1.0))
        return MODEL_ERR(m, N4D_E_RANGE, "modulator \"%s\": decay_rate %g is not in [0, 1]",
                         md.name, md.decay_rate);
    int32_t driver = -1;
    uint32_t delay = 1;
    if (md.driven_by) {
        driver = n4d_model_find_population(m, md.driven_by);
        if (driver < 0)
            return MODEL_ERR(m, N4D_E_CONFIG,
                             "modulator \"%s\": driven_by: unknown population \"%s\"", md.name,
                             md.driven_by);
        if (!(md.per_spike >= -1.0 && md.per_spike <= 1.0))
            return MODEL_ERR(m, N4D_E_RANGE, "modulator \"%s\": per_spike %g is not in [-1, 1]",
                             md.name, md.per_spike);
        if (!isnan(md.delay)) {
            const double steps = md.delay / m->dt;
            if (!(steps >= 1.0 - 1e-9) || !(steps <= MAX_DELAY_STEPS))
                return MODEL_ERR(m, N4D_E_RANGE,
                                 "modulator \"%s\": delay %g ms is not in [dt, %u dt] (dt %g ms)",
                                 md.name, md.delay, MAX_DELAY_STEPS, m->dt);
            delay = (uint32_t)llround(steps);
        }
    }
    if (!n4d__grow(m->ctx, N4D_MEM_OTHER, (void **)&m->mods, &m->cap_mods, m->n_mods + 1,
                   sizeof *m->mods))
        return MODEL_ERR(m, N4D_E_NOMEM, "out of memory adding a modulator");
    n4d__mod_def *def = &m->mods[m->n_mods];
    if (!(def->name = n4d__strdup(m->ctx, md.name)))
        return MODEL_ERR(m, N4D_E_NOMEM, "out of memory adding a modulator");
    def->baseline = md.baseline;
    def->decay = md.decay_rate;
    def->level0 = isnan(md.level) ? md.baseline : md.level;
    def->driver = driver;
    def->per_spike = driver >= 0 ? md.per_spike : 0.0;
    def->delay = delay;
    m->n_mods++;
    return N4D_OK;
}

/* The parameter a threshold binding scales (-1: the model has none). */
static int32_t threshold_param(const n4d__neuron_model *nm)
{
    int32_t k = n4d__param_index(nm, "v_threshold");
    return k >= 0 ? k : n4d__param_index(nm, "V_th");
}

n4d_status n4d_model_bind_modulator(n4d_model *m, const char *population, int32_t what,
                                    const char *modulator, double strength)
{
    if (!n4d__is_handle(m, N4D__MAGIC_MODEL))
        return N4D_E_INVALID_ARG;
    n4d__clear_error(&m->hdr);
    if (m->built)
        return MODEL_ERR(m, N4D_E_STATE, "n4d_model_bind_modulator: the model is already built");
    if (!population || !modulator)
        return MODEL_ERR(m, N4D_E_INVALID_ARG, "n4d_model_bind_modulator: a name is NULL");
    const int32_t pop = n4d_model_find_population(m, population);
    if (pop < 0)
        return MODEL_ERR(m, N4D_E_CONFIG, "modulator \"%s\": unknown population \"%s\"",
                         modulator, population);
    const int32_t mod = n4d__mod_find(m, modulator);
    if (mod < 0)
        return MODEL_ERR(m, N4D_E_CONFIG, "population \"%s\": unknown modulator \"%s\"",
                         population, modulator);
    if (what != N4D_MOD_THRESHOLD && what != N4D_MOD_GAIN)
        return MODEL_ERR(m, N4D_E_INVALID_ARG, "modulator \"%s\": unknown target %d", modulator,
                         (int)what);
    const char *wn = what == N4D_MOD_THRESHOLD ? "threshold" : "gain";
    if (!isfinite(strength))
        return MODEL_ERR(m, N4D_E_RANGE, "modulator \"%s\": %s strength of \"%s\" is not finite",
                         modulator, wn, population);
    if (what == N4D_MOD_THRESHOLD && threshold_param(m->pops[pop].nm) < 0)
        return MODEL_ERR(m, N4D_E_CONFIG,
                         "modulator \"%s\": population \"%s\" (model %s) has no threshold "
                         "parameter (v_threshold or V_th) to bind",
                         modulator, population, m->pops[pop].nm->name);
    for (size_t i = 0; i < m->n_mod_binds; i++)
        if (m->mod_binds[i].pop == pop && m->mod_binds[i].what == what)
            return MODEL_ERR(m, N4D_E_CONFIG,
                             "population \"%s\": its %s is already bound to modulator \"%s\"",
                             population, wn, m->mods[m->mod_binds[i].mod].name);
    if (!n4d__grow(m->ctx, N4D_MEM_OTHER, (void **)&m->mod_binds, &m->cap_mod_binds,
                   m->n_mod_binds + 1, sizeof *m->mod_binds))
        return MODEL_ERR(m, N4D_E_NOMEM, "out of memory binding a modulator");
    m->mod_binds[m->n_mod_binds++] = (n4d__mod_bind){pop, what, mod, strength};
    return N4D_OK;
}

int32_t n4d_model_num_modulators(const n4d_model *m)
{
    return n4d__is_handle(m, N4D__MAGIC_MODEL) ? (int32_t)m->n_mods : 0;
}

const char *n4d_model_modulator_name(const n4d_model *m, int32_t index)
{
    if (!n4d__is_handle(m, N4D__MAGIC_MODEL) || index < 0 || (size_t)index >= m->n_mods)
        return NULL;
    return m->mods[index].name;
}

/* ---- a sim's levels ------------------------------------------------------------ */

uint32_t n4d__mods_max_batch(const n4d_model *m)
{
    uint32_t b = UINT32_MAX;
    for (size_t k = 0; k < m->n_mods; k++)
        if (m->mods[k].driver >= 0 && m->mods[k].delay < b)
            b = m->mods[k].delay;
    return b;
}

n4d_status n4d__mods_create(n4d_sim *sim)
{
    const n4d_model *m = sim->model;
    if (!m->n_mods)
        return N4D_OK;
    n4d_context *ctx = sim->ctx;
    n4d__mods *md = n4d__calloc(ctx, N4D_MEM_OTHER, 1, sizeof *md);
    if (!md)
        return n4d__error(&sim->hdr, N4D_E_NOMEM, "modulators: out of memory");
    sim->mods = md;
    md->n = (uint32_t)m->n_mods;
    if (!(md->m = n4d__calloc(ctx, N4D_MEM_OTHER, md->n, sizeof *md->m)))
        return n4d__error(&sim->hdr, N4D_E_NOMEM, "modulators: out of memory");
    bool driven = false;
    for (uint32_t k = 0; k < md->n; k++) {
        const n4d__mod_def *def = &m->mods[k];
        n4d__mod_rt *r = &md->m[k];
        r->level = def->level0;
        if (def->driver < 0)
            continue;
        driven = true;
        uint32_t cap = 1;
        while (cap < def->delay + N4D__MAX_BATCH_STEPS + 1)
            cap *= 2;
        if (!(r->pending = n4d__calloc(ctx, N4D_MEM_BUFFERS, cap, sizeof(uint32_t))))
            return n4d__error(&sim->hdr, N4D_E_NOMEM, "modulators: out of memory");
        r->cap = cap;
    }
    if (driven) {
        if (!(md->pop_of = n4d__alloc(ctx, N4D_MEM_BUFFERS, (sim->n ? sim->n : 1) * sizeof(int32_t))))
            return n4d__error(&sim->hdr, N4D_E_NOMEM, "modulators: out of memory");
        for (size_t r = 0; r < m->n_runs; r++)
            for (uint64_t i = m->runs[r].first; i < m->runs[r].first + m->runs[r].n; i++)
                md->pop_of[i] = m->runs[r].pop;
    }
    if (m->n_mod_binds) {
        const size_t P = m->n_pops;
        if (!(md->pop = n4d__calloc(ctx, N4D_MEM_OTHER, P, sizeof *md->pop)))
            return n4d__error(&sim->hdr, N4D_E_NOMEM, "modulators: out of memory");
        for (size_t p = 0; p < P; p++)
            md->pop[p].th_mod = md->pop[p].gain_mod = -1;
        for (size_t i = 0; i < m->n_mod_binds; i++) {
            const n4d__mod_bind *b = &m->mod_binds[i];
            n4d__mod_pop *mp = &md->pop[b->pop];
            if (b->what == N4D_MOD_GAIN) {
                mp->gain_mod = b->mod;
                mp->gain_strength = b->strength;
                continue;
            }
            mp->th_mod = b->mod;
            mp->th_strength = b->strength;
            if (!(mp->k = n4d__calloc(ctx, N4D_MEM_OTHER, N4D__MAX_BATCH_STEPS, sizeof *mp->k)))
                return n4d__error(&sim->hdr, N4D_E_NOMEM, "modulators: out of memory");
        }
    }
    return N4D_OK;
}

void n4d__mods_destroy(n4d_sim *sim)
{
    n4d__mods *md = sim->mods;
    if (!md)
        return;
    n4d_context *ctx = sim->ctx;
    if (md->m)
        for (uint32_t k = 0; k < md->n; k++)
            n4d__free(ctx, N4D_MEM_BUFFERS, md->m[k].pending, md->m[k].cap * sizeof(uint32_t));
    if (md->pop)
        for (size_t p = 0; p < sim->model->n_pops; p++)
            n4d__free(ctx, N4D_MEM_OTHER, md->pop[p].k, N4D__MAX_BATCH_STEPS * sizeof *md->pop[p].k);
    n4d__free(ctx, N4D_MEM_OTHER, md->pop, sim->model->n_pops * sizeof *md->pop);
    n4d__free(ctx, N4D_MEM_BUFFERS, md->pop_of, (sim->n ? sim->n : 1) * sizeof(int32_t));
    n4d__free(ctx, N4D_MEM_OTHER, md->m, md->n * sizeof *md->m);
    n4d__free(ctx, N4D_MEM_OTHER, md, sizeof *md);
    sim->mods = NULL;
}

/* One step of decay toward the baseline, without crossing it. */
static inline double toward(double l, double base, double decay)
{
    if (l > base)
        return l - decay > base ? l - decay : base;
    return l + decay < base ? l + decay : base;
}

static inline double clip01(double l)
{
    return l < 0.0 ? 0.0 : (l > 1.0 ? 1.0 : l);
}

/* The arrivals of a driven modulator at `step`, taken off its ring. */
static inline uint32_t take(n4d__mod_rt *r, uint64_t step)
{
    uint32_t *slot = &r->pending[step & (r->cap - 1)];
    const uint32_t a = *slot;
    *slot = 0;
    return a;
}

static inline double next_level(const n4d__mod_def *def, n4d__mod_rt *r, double l, uint64_t step,
                                uint32_t *arrived)
{
    l = toward(l, def->baseline, def->decay);
    if (def->driver < 0) {
        *arrived = 0;
        return l;
    }
    *arrived = take(r, step);
    return clip01(l + def->per_spike * (double)*arrived);
}

void n4d__mods_batch_begin(n4d_sim *sim, uint64_t step0, uint32_t steps)
{
    n4d__mods *md = sim->mods;
    const n4d_model *m = sim->model;
    md->batch0 = (int64_t)step0;
    md->batch = steps;
    for (uint32_t k = 0; k < md->n; k++) {
        const n4d__mod_def *def = &m->mods[k];
        n4d__mod_rt *r = &md->m[k];
        /* arrive[0] was taken by the previous batch's end */
        r->lv[0] = r->level;
        for (uint32_t j = 1; j < steps; j++)
            r->lv[j] = next_level(def, r, r->lv[j - 1], step0 + j, &r->arrive[j]);
    }
    if (!md->pop)
        return;
    for (size_t p = 0; p < m->n_pops; p++) {
        n4d__mod_pop *mp = &md->pop[p];
        if (mp->gain_mod >= 0)
            for (uint32_t j = 0; j < steps; j++)
                mp->gain[j] = (float)(1.0 + md->m[mp->gain_mod].lv[j] * mp->gain_strength);
        if (mp->th_mod < 0)
            continue;
        /* the model's constants with the threshold scaled, computed again
         * only when the level changes */
        const n4d__population *pp = &m->pops[p];
        const int32_t ti = threshold_param(pp->nm);
        double q[N4D__MAX_PARAMS];
        memcpy(q, pp->params, sizeof q);
        for (uint32_t j = 0; j < steps; j++) {
            const double l = md->m[mp->th_mod].lv[j];
            if (j > 0 && l == md->m[mp->th_mod].lv[j - 1]) {
                mp->k[j].k = mp->k[j - 1].k;
                continue;
            }
            q[ti] = pp->params[ti] * (1.0 + l * mp->th_strength);
            pp->nm->h->constants(q, sim->dt, &mp->k[j].k);
        }
    }
}

void n4d__mods_spikes(n4d_sim *sim, uint64_t step, const uint32_t *ids, uint64_t count)
{
    n4d__mods *md = sim->mods;
    if (!md->pop_of)
        return;
    const n4d_model *m = sim->model;
    for (uint32_t k = 0; k < md->n; k++) {
        const n4d__mod_def *def = &m->mods[k];
        if (def->driver < 0)
            continue;
        uint32_t c = 0;
        for (uint64_t q = 0; q < count; q++)
            c += md->pop_of[ids[q]] == def->driver;
        md->m[k].pending[(step + def->delay) & (md->m[k].cap - 1)] += c;
    }
}

void n4d__mods_batch_end(n4d_sim *sim)
{
    n4d__mods *md = sim->mods;
    const n4d_model *m = sim->model;
    const uint64_t next = (uint64_t)md->batch0 + md->batch;
    for (uint32_t k = 0; k < md->n; k++) {
        n4d__mod_rt *r = &md->m[k];
        r->level = next_level(&m->mods[k], r, r->lv[md->batch - 1], next, &r->arrive[0]);
    }
}

/* ---- the public calls --------------------------------------------------------- */

static n4d_status find_rt(const n4d_sim *sim, const char *fn, const char *name, int32_t *k)
{
    if (!name)
        return n4d__error((n4d__handle *)&sim->hdr, N4D_E_INVALID_ARG, "%s: name is NULL", fn);
    *k = n4d__mod_find(sim->model, name);
    if (*k < 0) {
        char list[256] = "";
        size_t len = 0;
        for (size_t i = 0; i < sim->model->n_mods && len < sizeof list; i++)
            len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "",
                                    sim->model->mods[i].name);
        return n4d__error((n4d__handle *)&sim->hdr, N4D_E_CONFIG,
                          "%s: unknown modulator \"%s\" (the model declares %s)", fn, name,
                          sim->model->n_mods ? list : "none");
    }
    return N4D_OK;
}

static n4d_status set_level(n4d_sim *sim, const char *fn, const char *name, double level)
{
    int32_t k = -1;
    N4D__TRY(find_rt(sim, fn, name, &k));
    if (!unit_level(level))
        return n4d__error(&sim->hdr, N4D_E_RANGE, "%s: level %g of modulator \"%s\" is not in [0, 1]",
                          fn, level, name);
    const n4d__mod_def *def = &sim->model->mods[k];
    if (def->driver >= 0)
        return n4d__error(&sim->hdr, N4D_E_STATE,
                          "%s: modulator \"%s\" is driven by the spikes of population \"%s\"; "
                          "its level cannot be set",
                          fn, name, sim->model->pops[def->driver].name);
    sim->mods->m[k].level = level;
    return N4D_OK;
}

n4d_status n4d_sim_set_modulator(n4d_sim *sim, const char *name, double level)
{
    if (!n4d__is_handle(sim, N4D__MAGIC_SIM))
        return N4D_E_INVALID_ARG;
    n4d__clear_error(&sim->hdr);
    return set_level(sim, "n4d_sim_set_modulator", name, level);
}

n4d_status n4d_sim_get_modulator(const n4d_sim *sim, const char *name, double *level)
{
    if (!n4d__is_handle(sim, N4D__MAGIC_SIM))
        return N4D_E_INVALID_ARG;
    n4d__clear_error((n4d__handle *)&sim->hdr);
    if (!level)
        return n4d__error((n4d__handle *)&sim->hdr, N4D_E_INVALID_ARG,
                          "n4d_sim_get_modulator: level is NULL");
    int32_t k = -1;
    N4D__TRY(find_rt(sim, "n4d_sim_get_modulator", name, &k));
    *level = sim->mods->m[k].level;
    return N4D_OK;
}

/* 4D Neural Cognition's helpers: level = clip(baseline + sign * x, 0, 1). */
static n4d_status helper(n4d_sim *sim, const char *fn, const char *name, double x, double a,
                         double b)
{
    if (!n4d__is_handle(sim, N4D__MAGIC_SIM))
        return N4D_E_INVALID_ARG;
    n4d__clear_error(&sim->hdr);
    if (!isfinite(a) || !isfinite(b))
        return n4d__error(&sim->hdr, N4D_E_RANGE, "%s: arguments %g, %g must be finite", fn, a, b);
    int32_t k = -1;
    N4D__TRY(find_rt(sim, fn, name, &k));
    return set_level(sim, fn, name, clip01(sim->model->mods[k].baseline + x));
}

n4d_status n4d_sim_reward(n4d_sim *sim, double reward, double expected)
{
    return helper(sim, "n4d_sim_reward", "dopamine", reward - expected, reward, expected);
}

n4d_status n4d_sim_punishment(n4d_sim *sim, double punishment, double stress)
{
    return helper(sim, "n4d_sim_punishment", "serotonin", -(punishment + stress) / 2.0,
                  punishment, stress);
}

n4d_status n4d_sim_novelty(n4d_sim *sim, double uncertainty, double novelty)
{
    return helper(sim, "n4d_sim_novelty", "norepinephrine", (uncertainty + novelty) / 2.0,
                  uncertainty, novelty);
}
