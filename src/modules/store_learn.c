/* Checkpoint part of the learning state beside the synapses' (store_plastic.c):
 * the neuromodulators' levels and driven spikes in flight
 * (/n4d/state/modulators), homeostatic scaling (/n4d/state/homeostasis)
 * and the cell lifecycle (/n4d/state/lifecycle), per neuron by user id
 * (docs/storage.md, "Checkpoints"). Each is a write/read pair called by
 * store_sim.c; the reads run after the neurons' state (they need the step)
 * and check what they read against the model. */
#include "store_h5.h"

#if N4D_HAVE_HDF5

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "homeo.h"
#include "lifecycle.h"
#include "model_registry.h"
#include "modulators.h"

#define MODS "/n4d/state/modulators"
#define HOMEO "/n4d/state/homeostasis"
#define LIFE "/n4d/state/lifecycle"

/* ---- neuromodulators ----------------------------------------------------------------------
 * One group per modulator, "<k>-<name>" (k from 1, the model's order):
 * attribute level (the level of the next step) and, for a modulator
 * driven by spikes, dataset "arrivals": the driving spikes arriving at
 * steps step .. step + delay - 1 (the first already in the level, but
 * stdp_dopamine reads it as the next step's event). */

static void mod_group(const n4d_model *m, uint32_t k, char *out, size_t cap)
{
    char esc[200];
    n4d__h5_escape(m->mods[k].name, esc, sizeof esc);
    snprintf(out, cap, MODS "/%u-%s", k + 1, esc);
}

n4d_status n4d__store_write_modulators(n4d__h5 *h, hid_t file, const n4d_sim *sim,
                                       const n4d__h5_layout *L)
{
    const n4d__mods *md = sim->mods;
    if (!md)
        return N4D_OK;
    const n4d_model *m = sim->model;
    n4d_status st = N4D_OK;
    hid_t g = n4d__h5_create_group(h, file, MODS, &st);
    if (g < 0)
        return st;
    st = n4d__h5_attr_write(h, g, MODS, "n_modulators", N4D__T_U32, 1, &md->n);
    H5Gclose(g);
    for (uint32_t k = 0; k < md->n && !st; k++) {
        const n4d__mod_def *def = &m->mods[k];
        const n4d__mod_rt *r = &md->m[k];
        char gname[300];
        mod_group(m, k, gname, sizeof gname);
        hid_t mg = n4d__h5_create_group(h, file, gname, &st);
        if (mg < 0)
            break;
        st = n4d__h5_attr_write(h, mg, gname, "level", N4D__T_F64, 1, &r->level);
        if (!st && def->driver >= 0) {
            uint32_t *a = n4d__alloc(sim->ctx, N4D_MEM_OTHER, def->delay * sizeof *a);
            if (!a) {
                st = n4d__h5_fail(h, N4D_E_NOMEM, gname, false, "out of memory");
            } else {
                a[0] = r->arrive[0];
                for (uint32_t j = 1; j < def->delay; j++)
                    a[j] = r->pending[(sim->step + j) & (r->cap - 1)];
                st = n4d__h5_write_dset(h, mg, "arrivals", N4D__T_U32, def->delay, 0, L, a);
                n4d__free(sim->ctx, N4D_MEM_OTHER, a, def->delay * sizeof *a);
            }
        }
        H5Gclose(mg);
    }
    return st;
}

n4d_status n4d__store_read_modulators(n4d__h5 *h, hid_t file, n4d_sim *sim)
{
    n4d__mods *md = sim->mods;
    const bool have = n4d__h5_exists(file, MODS);
    if (!md && !have)
        return N4D_OK;
    const n4d_model *m = sim->model;
    if (!md)
        return n4d__h5_fail(h, N4D_E_FORMAT, MODS, false,
                            "holds modulator levels, but the model declares no modulators");
    if (!have)
        return n4d__h5_fail(h, N4D_E_FORMAT, MODS, false,
                            "is missing: the model declares modulators (\"%s\")", m->mods[0].name);
    n4d_status st = N4D_OK;
    hid_t g = n4d__h5_open_group(h, file, MODS, &st);
    if (g < 0)
        return st;
    uint32_t n;
    st = n4d__h5_attr_read(h, g, MODS, "n_modulators", N4D__T_U32, 1, &n);
    H5Gclose(g);
    if (st)
        return st;
    if (n != md->n)
        return n4d__h5_fail(h, N4D_E_FORMAT, MODS " attribute \"n_modulators\"", false,
                            "%u differs from the model's %u modulators", n, md->n);
    for (uint32_t k = 0; k < md->n && !st; k++) {
        const n4d__mod_def *def = &m->mods[k];
        n4d__mod_rt *r = &md->m[k];
        char gname[300], dname[320];
        mod_group(m, k, gname, sizeof gname);
        if (!n4d__h5_exists(file, gname))
            return n4d__h5_fail(h, N4D_E_FORMAT, gname, false,
                                "is missing (the model's modulator %u, \"%s\", has no level)",
                                k + 1, def->name);
        hid_t mg = n4d__h5_open_group(h, file, gname, &st);
        if (mg < 0)
            return st;
        double level;
        st = n4d__h5_attr_read(h, mg, gname, "level", N4D__T_F64, 1, &level);
        if (!st && !(level >= 0.0 && level <= 1.0))
            st = n4d__h5_fail(h, N4D_E_FORMAT, gname, false,
                              "attribute \"level\" %g is not in [0, 1]", level);
        if (!st)
            r->level = level;
        const bool has_arr = n4d__h5_exists(mg, "arrivals");
        snprintf(dname, sizeof dname, "%s/arrivals", gname);
        if (!st && def->driver < 0 && has_arr)
            st = n4d__h5_fail(h, N4D_E_FORMAT, dname, false,
                              "holds driving spikes, but modulator \"%s\" is set through the API",
                              def->name);
        if (!st && def->driver >= 0) {
            uint64_t dims[2] = {def->delay, 0};
            hid_t d = n4d__h5_open_dset(h, mg, "arrivals", N4D__T_U32, 1, dims, &st);
            uint32_t *a = d < 0 ? NULL : n4d__alloc(sim->ctx, N4D_MEM_OTHER, def->delay * sizeof *a);
            if (d >= 0 && !a)
                st = n4d__h5_fail(h, N4D_E_NOMEM, dname, false, "out of memory");
            if (a && !(st = n4d__h5_read_rows(h, d, dname, N4D__T_U32, 0, def->delay, a))) {
                /* at most one spike per neuron of the driving population per step */
                const uint64_t np = m->pops[def->driver].n;
                for (uint32_t j = 0; j < def->delay && !st; j++)
                    if (a[j] > np)
                        st = n4d__h5_fail(h, N4D_E_FORMAT, dname, false,
                                          "entry %u (%u spikes) exceeds the %llu neurons of "
                                          "population \"%s\"",
                                          j, a[j], (unsigned long long)np,
                                          m->pops[def->driver].name);
                if (!st) {
                    r->arrive[0] = a[0];
                    for (uint32_t j = 1; j < def->delay; j++)
                        r->pending[(sim->step + j) & (r->cap - 1)] = a[j];
                }
            }
            if (a)
                n4d__free(sim->ctx, N4D_MEM_OTHER, a, def->delay * sizeof *a);
            n4d__h5_close(d);
        }
        H5Gclose(mg);
    }
    return st;
}

/* ---- homeostatic scaling --------------------------------------------------------------------
 * Per neuron (user id) its scale and the spikes of its current window. */

n4d_status n4d__store_write_homeostasis(n4d__h5 *h, hid_t file, const n4d_sim *sim,
                                        const n4d__h5_layout *L, void *scratch)
{
    const n4d__homeo *ho = sim->homeo;
    if (!ho)
        return N4D_OK;
    n4d_status st = N4D_OK;
    hid_t g = n4d__h5_create_group(h, file, HOMEO, &st);
    if (g < 0)
        return st;
    if (!(st = n4d__store_write_by_user(h, g, "scale", N4D__T_F64, sim->model, ho->scale,
                                        sizeof(double), L, scratch)))
        st = n4d__store_write_by_user(h, g, "window_count", N4D__T_U32, sim->model, ho->count,
                                      sizeof(uint32_t), L, scratch);
    H5Gclose(g);
    return st;
}

n4d_status n4d__store_read_homeostasis(n4d__h5 *h, hid_t file, n4d_sim *sim, void *scratch)
{
    n4d__homeo *ho = sim->homeo;
    const bool have = n4d__h5_exists(file, HOMEO);
    if (!ho && !have)
        return N4D_OK;
    if (!ho)
        return n4d__h5_fail(h, N4D_E_FORMAT, HOMEO, false,
                            "holds homeostatic scales, but no population of the model has "
                            "homeostasis");
    if (!have)
        return n4d__h5_fail(h, N4D_E_FORMAT, HOMEO, false,
                            "is missing: the model has homeostatic scaling");
    const n4d_model *m = sim->model;
    n4d_status st = N4D_OK;
    hid_t g = n4d__h5_open_group(h, file, HOMEO, &st);
    if (g < 0)
        return st;
    if ((st = n4d__store_read_by_user(h, g, "scale", N4D__T_F64, m, ho->scale, sizeof(double),
                                      scratch)) ||
        (st = n4d__store_read_by_user(h, g, "window_count", N4D__T_U32, m, ho->count,
                                      sizeof(uint32_t), scratch)))
        goto done;
    for (size_t r = 0; r < sim->n_runs && !st; r++) {
        const n4d__homeo_run *hr = &ho->run[r];
        /* the steps of the current window so far: at most one spike each */
        const uint64_t in_window = hr->on ? sim->step % hr->window : 0;
        for (uint64_t i = sim->runs[r].first; i < sim->runs[r].first + sim->runs[r].n; i++) {
            const double s = ho->scale[i];
            const bool ok = hr->on ? s == 1.0 || (s >= hr->lo && s <= hr->hi) : s == 1.0;
            if (!ok) {
                st = n4d__h5_fail(h, N4D_E_FORMAT, HOMEO "/scale", false,
                                  "entry %llu (%g) is out of range (population \"%s\": %s)",
                                  (unsigned long long)n4d__to_user(m, i), s,
                                  m->pops[sim->runs[r].pop].name,
                                  hr->on ? "scale_min .. scale_max, or 1" : "no homeostasis, 1");
                break;
            }
            if (ho->count[i] > in_window) {
                st = n4d__h5_fail(h, N4D_E_FORMAT, HOMEO "/window_count", false,
                                  "entry %llu (%u spikes) exceeds the %llu steps of the current "
                                  "window",
                                  (unsigned long long)n4d__to_user(m, i), ho->count[i],
                                  (unsigned long long)in_window);
                break;
            }
        }
    }
done:
    H5Gclose(g);
    return st;
}

/* ---- the cell lifecycle ----------------------------------------------------------------------
 * Per neuron (user id) its lineage, health and age at birth, birth and
 * death steps, and the parameters of the lifecycle populations (columns:
 * the most any of their neuron models has); the counters as attributes.
 * The kernel constants, the heap of deaths and the incoming-synapse index
 * are rebuilt (n4d__life_rebuild, n4d__life_create). */

static uint32_t life_param_cols(const n4d_model *m)
{
    uint32_t P = 1;
    for (size_t p = 0; p < m->n_pops; p++)
        if (n4d__pop_lifecycle(m, (int32_t)p) && (uint32_t)m->pops[p].nm->h->n_params > P)
            P = (uint32_t)m->pops[p].nm->h->n_params;
    return P;
}

typedef struct life_field {
    const char *name;
    n4d__h5_type t;
    size_t elem;
    size_t off; /* of the array in n4d__life */
} life_field;

#define LF(NAME, T, FIELD) {NAME, T, sizeof *((n4d__life *)0)->FIELD, offsetof(n4d__life, FIELD)}
static const life_field life_fields[] = {
    LF("alive", N4D__T_U8, alive),         LF("id", N4D__T_U64, id),
    LF("generation", N4D__T_U32, gen),     LF("parent", N4D__T_I64, parent),
    LF("born", N4D__T_I64, born),          LF("die", N4D__T_I64, die),
    LF("health0", N4D__T_F64, h0),         LF("age0", N4D__T_F64, a0),
};
#undef LF

static void *life_arr(const n4d__life *L, const life_field *f)
{
    void *p;
    memcpy(&p, (const char *)L + f->off, sizeof p);
    return p;
}

n4d_status n4d__store_write_lifecycle(n4d__h5 *h, hid_t file, const n4d_sim *sim,
                                      const n4d__h5_layout *L, void *scratch)
{
    const n4d__life *lf = sim->life;
    if (!lf)
        return N4D_OK;
    const n4d_model *m = sim->model;
    const uint64_t N = m->n_neurons;
    n4d_status st = N4D_OK;
    hid_t g = n4d__h5_create_group(h, file, LIFE, &st);
    if (g < 0)
        return st;
    if ((st = n4d__h5_attr_write(h, g, LIFE, "next_id", N4D__T_U64, 1, &lf->next_id)) ||
        (st = n4d__h5_attr_write(h, g, LIFE, "deaths", N4D__T_U64, 1, &lf->deaths)) ||
        (st = n4d__h5_attr_write(h, g, LIFE, "births", N4D__T_U64, 1, &lf->births)))
        goto done;
    for (size_t f = 0; f < sizeof life_fields / sizeof *life_fields && !st; f++)
        st = n4d__store_write_by_user(h, g, life_fields[f].name, life_fields[f].t, m,
                                      life_arr(lf, &life_fields[f]), life_fields[f].elem, L,
                                      scratch);
    if (st)
        goto done;
    {
        const uint32_t P = life_param_cols(m);
        const size_t bytes = (N ? N : 1) * P * sizeof(double);
        double *q = n4d__alloc(sim->ctx, N4D_MEM_OTHER, bytes);
        if (!q) {
            st = n4d__h5_fail(h, N4D_E_NOMEM, LIFE "/params", false, "out of memory");
            goto done;
        }
        for (uint64_t u = 0; u < N; u++)
            memcpy(q + u * P, &lf->params[n4d__to_internal(m, u) * N4D__MAX_PARAMS],
                   P * sizeof(double));
        st = n4d__h5_write_dset(h, g, "params", N4D__T_F64, N, P, L, q);
        n4d__free(sim->ctx, N4D_MEM_OTHER, q, bytes);
    }
done:
    H5Gclose(g);
    return st;
}

/* The per-neuron values of internal neuron i, checked against the model. */
static n4d_status check_life_neuron(n4d__h5 *h, const n4d_sim *sim, const n4d__life *lf,
                                    uint64_t i)
{
    const n4d_model *m = sim->model;
    const uint64_t u = n4d__to_user(m, i);
    const int32_t p = n4d__pop_of(m, u);
    const n4d__population *pp = &m->pops[p];
    const int64_t step = (int64_t)sim->step;
#define BAD(DSET, FMT, ...)                                                                      \
    n4d__h5_fail(h, N4D_E_FORMAT, LIFE "/" DSET, false, "entry %llu: " FMT,                      \
                 (unsigned long long)u, __VA_ARGS__)
    if (lf->alive[i] > 1)
        return BAD("alive", "%u is not 0 or 1", lf->alive[i]);
    if (lf->id[i] >= lf->next_id)
        return BAD("id", "id %llu is not below next_id %llu", (unsigned long long)lf->id[i],
                   (unsigned long long)lf->next_id);
    if (lf->parent[i] < -1 || (lf->parent[i] >= 0 && (uint64_t)lf->parent[i] >= lf->next_id))
        return BAD("parent", "%lld is neither -1 nor an id below next_id %llu",
                   (long long)lf->parent[i], (unsigned long long)lf->next_id);
    if (lf->born[i] < -1 || lf->born[i] >= step)
        return BAD("born", "step %lld is not in -1 .. %lld", (long long)lf->born[i],
                   (long long)step - 1);
    if (!isfinite(lf->h0[i]))
        return BAD("health0", "%g is not finite", lf->h0[i]);
    if (!isfinite(lf->a0[i]))
        return BAD("age0", "%g is not finite", lf->a0[i]);
    if (!n4d__pop_lifecycle(m, p)) {
        if (!lf->alive[i] || lf->die[i] != INT64_MAX)
            return BAD("die", "population \"%s\" has no lifecycle, but the neuron %s",
                       pp->name, lf->alive[i] ? "has a death step" : "is dead");
        return N4D_OK;
    }
    const int32_t np = pp->nm->h->n_params;
    for (int32_t k = 0; k < np; k++)
        if (!isfinite(lf->params[i * N4D__MAX_PARAMS + (uint32_t)k]))
            return n4d__h5_fail(h, N4D_E_FORMAT, LIFE "/params", false,
                                "row %llu: parameter %s is not finite", (unsigned long long)u,
                                pp->nm->h->params[k].name);
    const int64_t die = n4d__life_death_step(&pp->life, lf->born[i], lf->h0[i], lf->a0[i]);
    if (lf->die[i] != die)
        return BAD("die", "step %lld is not the death step %lld its birth (step %lld, health "
                          "%g, age %g) gives",
                   (long long)lf->die[i], (long long)die, (long long)lf->born[i], lf->h0[i],
                   lf->a0[i]);
    if (lf->alive[i] && die < step) /* its lifecycle ran: it is dead */
        return BAD("alive", "alive after its death step %lld", (long long)die);
    if (!lf->alive[i] && (die >= step || pp->life.enable_reproduction))
        return BAD("alive", "dead, but its death step is %lld%s%s%s", (long long)die,
                   pp->life.enable_reproduction ? " (and population \"" : "",
                   pp->life.enable_reproduction ? pp->name : "",
                   pp->life.enable_reproduction ? "\" reproduces)" : "");
#undef BAD
    return N4D_OK;
}

n4d_status n4d__store_read_lifecycle(n4d__h5 *h, hid_t file, n4d_sim *sim, void *scratch)
{
    n4d__life *lf = sim->life;
    const bool have = n4d__h5_exists(file, LIFE);
    if (!lf && !have)
        return N4D_OK;
    if (!lf)
        return n4d__h5_fail(h, N4D_E_FORMAT, LIFE, false,
                            "holds a cell lifecycle, but no population of the model has one");
    if (!have)
        return n4d__h5_fail(h, N4D_E_FORMAT, LIFE, false,
                            "is missing: the model has a cell lifecycle");
    const n4d_model *m = sim->model;
    const uint64_t N = m->n_neurons;
    n4d_status st = N4D_OK;
    double *q = NULL;
    const uint32_t P = life_param_cols(m);
    const size_t bytes = (N ? N : 1) * P * sizeof(double);
    hid_t g = n4d__h5_open_group(h, file, LIFE, &st), d = H5I_INVALID_HID;
    if (g < 0)
        return st;
    uint64_t next_id, deaths, births;
    if ((st = n4d__h5_attr_read(h, g, LIFE, "next_id", N4D__T_U64, 1, &next_id)) ||
        (st = n4d__h5_attr_read(h, g, LIFE, "deaths", N4D__T_U64, 1, &deaths)) ||
        (st = n4d__h5_attr_read(h, g, LIFE, "births", N4D__T_U64, 1, &births)))
        goto done;
    if (births > deaths || next_id < N || next_id - N < births) {
        st = n4d__h5_fail(h, N4D_E_FORMAT, LIFE, false,
                          "attributes next_id %llu, deaths %llu, births %llu do not agree "
                          "(births <= deaths, next_id >= %llu neurons + births)",
                          (unsigned long long)next_id, (unsigned long long)deaths,
                          (unsigned long long)births, (unsigned long long)N);
        goto done;
    }
    for (size_t f = 0; f < sizeof life_fields / sizeof *life_fields && !st; f++)
        st = n4d__store_read_by_user(h, g, life_fields[f].name, life_fields[f].t, m,
                                     life_arr(lf, &life_fields[f]), life_fields[f].elem, scratch);
    if (st)
        goto done;
    uint64_t dims[2] = {N, P};
    d = n4d__h5_open_dset(h, g, "params", N4D__T_F64, 2, dims, &st);
    if (d < 0)
        goto done;
    if (!(q = n4d__alloc(sim->ctx, N4D_MEM_OTHER, bytes))) {
        st = n4d__h5_fail(h, N4D_E_NOMEM, LIFE "/params", false, "out of memory");
        goto done;
    }
    if (N && (st = n4d__h5_read_rows(h, d, LIFE "/params", N4D__T_F64, 0, N, q)))
        goto done;
    for (uint64_t u = 0; u < N; u++) {
        const int32_t p = n4d__pop_of(m, u);
        if (n4d__pop_lifecycle(m, p)) /* the other columns keep the model's values */
            memcpy(&lf->params[n4d__to_internal(m, u) * N4D__MAX_PARAMS], q + u * P,
                   (size_t)m->pops[p].nm->h->n_params * sizeof(double));
    }
    lf->next_id = next_id;
    lf->deaths = deaths;
    lf->births = births;
    for (uint64_t i = 0; i < N && !st; i++)
        st = check_life_neuron(h, sim, lf, i);
    if (!st && n4d__life_rebuild(sim))
        st = n4d__h5_fail(h, N4D_E_NOMEM, LIFE, false, "%s", n4d_last_error(sim));
done:
    if (q)
        n4d__free(sim->ctx, N4D_MEM_OTHER, q, bytes);
    n4d__h5_close(d);
    H5Gclose(g);
    return st;
}

#else
typedef int n4d__store_learn_unused;
#endif
