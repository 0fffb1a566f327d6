/* Simulation: state allocation and initialisation, backend selection, the
 * run entry points, spike reporting (recording, O(1) history, checksum) and
 * state access. */
#include "inputs.h"
#include "backend.h" /* the registry: backends are found by name or capability */
#include "homeo.h"
#include "modulators.h"
#include "lifecycle.h"
#include "plastic.h"
#include "poisson.h"
#include "ring.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define SIM_ERR(s, st, ...) n4d__error(&(s)->hdr, (st), __VA_ARGS__)
#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull
/* `auto` gives each thread at least this many neuron updates per
 * synchronisation (neurons x steps per batch): below it the barrier would
 * cost more than the work it splits. */
#define AUTO_UPDATES_PER_THREAD 4000u

void n4d_sim_options_init(n4d_sim_options *opt)
{
    if (!opt)
        return;
    memset(opt, 0, sizeof *opt);
    opt->struct_size = sizeof *opt;
    opt->backend = "auto";
    opt->history_steps = 100;
    opt->record_spikes = 1;
}

/* ---- timing ------------------------------------------------------------------- */

n4d_status n4d__sim_timing_enable(n4d_sim *sim, bool on)
{
    if (!sim->timing_store) {
        n4d__timing *t = n4d__calloc(sim->ctx, N4D_MEM_OTHER, 1, sizeof *t);
        const int32_t T = sim->threads > 0 ? sim->threads : 1;
        uint64_t *stamps = t ? n4d__calloc(sim->ctx, N4D_MEM_OTHER, (size_t)T * 8, sizeof(uint64_t)) : NULL;
        if (!stamps) {
            n4d__free(sim->ctx, N4D_MEM_OTHER, t, sizeof *t);
            return SIM_ERR(sim, N4D_E_NOMEM, "out of memory for the profile table");
        }
        t->stamps = stamps;
        t->stamp_threads = T;
        sim->timing_store = t;
    }
    sim->timing = on ? sim->timing_store : NULL;
    return N4D_OK;
}

static void free_timing(n4d_sim *sim)
{
    n4d__timing *t = sim->timing_store;
    sim->timing = sim->timing_store = NULL;
    if (!t)
        return;
    n4d__free(sim->ctx, N4D_MEM_OTHER, t->stamps, (size_t)t->stamp_threads * 8 * sizeof(uint64_t));
    n4d__free(sim->ctx, N4D_MEM_OTHER, t, sizeof *t);
}

/* ---- spike reporting ------------------------------------------------------ */

static inline uint64_t fnv_bytes(uint64_t h, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++) {
        h ^= (v >> (8 * i)) & 0xff;
        h *= FNV_PRIME;
    }
    return h;
}

static uint64_t *hist_row(const n4d_sim *sim, uint64_t step)
{
    return sim->hist + (size_t)(step % sim->hist_steps) * sim->hist_words;
}

void n4d__sim_emit_begin(n4d_sim *sim, uint64_t step)
{
    sim->step = step;
    sim->last_count = 0;
}

void n4d__sim_emit_ids(n4d_sim *sim, const uint32_t *ids, uint64_t count)
{
    memcpy(sim->last_ids + sim->last_count, ids, count * sizeof(uint32_t));
    sim->last_count += count;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Sorts a step's spike ids (user ids after a layout permutation): qsort for
 * a few, the radix sort through tmp (n entries) for more. */
static void sort_ids(uint32_t *ids, uint64_t n, uint32_t *tmp)
{
    if (n < 256)
        qsort(ids, n, sizeof *ids, cmp_u32);
    else
        n4d__radix_sort_u32(ids, tmp, n);
}

/* Appends the step's spikes to the recording; false when out of memory. */
static bool record_step(n4d_sim *sim, const uint32_t *ids, uint64_t count)
{
    size_t need = sim->rec_count + count;
    if (need > sim->rec_cap) {
        size_t cap = sim->rec_cap ? sim->rec_cap : 1024;
        while (cap < need)
            cap *= 2;
        uint64_t *ns = n4d__alloc(sim->ctx, N4D_MEM_RECORDING, cap * sizeof(uint64_t));
        uint32_t *ni = n4d__alloc(sim->ctx, N4D_MEM_RECORDING, cap * sizeof(uint32_t));
        if (!ns || !ni) {
            n4d__free(sim->ctx, N4D_MEM_RECORDING, ns, cap * sizeof(uint64_t));
            n4d__free(sim->ctx, N4D_MEM_RECORDING, ni, cap * sizeof(uint32_t));
            return false;
        }
        if (sim->rec_count) {
            memcpy(ns, sim->rec_steps, sim->rec_count * sizeof(uint64_t));
            memcpy(ni, sim->rec_ids, sim->rec_count * sizeof(uint32_t));
        }
        n4d__free(sim->ctx, N4D_MEM_RECORDING, sim->rec_steps, sim->rec_cap * sizeof(uint64_t));
        n4d__free(sim->ctx, N4D_MEM_RECORDING, sim->rec_ids, sim->rec_cap * sizeof(uint32_t));
        sim->rec_steps = ns;
        sim->rec_ids = ni;
        sim->rec_cap = cap;
    }
    for (uint64_t i = 0; i < count; i++) {
        sim->rec_steps[sim->rec_count + i] = sim->step;
        sim->rec_ids[sim->rec_count + i] = ids[i];
    }
    sim->rec_count = need;
    return true;
}

/* Reports the step: user ids in canonical (ascending) order, checksum,
 * O(1) history, recording and the on_step hooks. */
n4d_status n4d__sim_emit_end(n4d_sim *sim)
{
    uint32_t *ids = sim->last_ids;
    const uint64_t count = sim->last_count;
    for (uint32_t k = 0; k < sim->n_hooks; k++) /* internal ids, before the mapping */
        if (sim->hooks[k].ops->on_step_internal)
            sim->hooks[k].ops->on_step_internal(sim->hooks[k].data, sim, sim->step, ids, count);
    if (sim->model->perm) {
        for (uint64_t i = 0; i < count; i++)
            ids[i] = sim->model->perm[ids[i]];
        sort_ids(ids, count, sim->sort_tmp);
    }
    /* Recording first: if it cannot grow, nothing of the step is reported
     * and the backend emits the step again on the next run (no spike is
     * lost or counted twice). */
    if (sim->record && count && !record_step(sim, ids, count))
        return SIM_ERR(sim, N4D_E_NOMEM,
                       "out of memory recording %zu spikes at step %llu; free memory and run "
                       "again (the step is reported then), or disable recording "
                       "(record_spikes = 0) or clear it",
                       sim->rec_count + (size_t)count, (unsigned long long)sim->step);
    uint64_t *row = NULL;
    if (sim->hist_steps) {
        row = hist_row(sim, sim->step);
        memset(row, 0, sim->hist_words * sizeof(uint64_t));
    }
    uint64_t h = sim->checksum;
    for (uint64_t i = 0; i < count; i++) {
        h = fnv_bytes(h, sim->step, 8);
        h = fnv_bytes(h, ids[i], 4);
        if (row)
            row[ids[i] >> 6] |= 1ull << (ids[i] & 63);
    }
    sim->checksum = h;
    sim->total_spikes += count;
    /* a hook's error (a recorder's I/O) ends the run, the step counts */
    n4d_status st = N4D_OK;
    for (uint32_t k = 0; k < sim->n_hooks && !st; k++)
        if (sim->hooks[k].ops->on_step)
            st = sim->hooks[k].ops->on_step(sim->hooks[k].data, sim, sim->step, ids, count);
    sim->step++;
    return st;
}

float n4d__sim_dc(const n4d_sim *sim, int32_t pop, uint64_t step)
{
    float dc = 0.0f;
    double t = (double)step * sim->dt;
    for (size_t k = 0; k < sim->n_dc; k++) {
        const n4d__input *in = &sim->dc[k];
        if (in->target == pop && t >= in->start - 1e-9 && t < in->stop - 1e-9)
            dc = dc + (float)in->amplitude;
    }
    return dc;
}

/* ---- creation ------------------------------------------------------------------ */

static void pop_constants(const n4d__population *p, double dt, n4d__pop_rt *r)
{
    memset(r, 0, sizeof *r);
    r->first = p->first;
    r->n = p->n;
    r->model = p->model;
    p->nm->h->constants(p->params, dt, &r->k);
}

static uint64_t time_to_step(double t_ms, double dt)
{
    if (!isfinite(t_ms) || t_ms / dt > 1.8e19)
        return UINT64_MAX;
    return (uint64_t)ceil(t_ms / dt - 1e-9);
}

static void free_senses(n4d_sim *sim)
{
    const n4d_model *m = sim->model;
    for (size_t k = 0; k < m->n_senses && sim->sense_ptr; k++) {
        const n4d__area *a = &m->areas[m->senses[k].area];
        uint64_t slice = (uint64_t)(a->hi[0] - a->lo[0] + 1) * (uint64_t)(a->hi[1] - a->lo[1] + 1) *
                         (uint64_t)(a->hi[2] - a->lo[2] + 1);
        if (sim->sense_ptr[k]) {
            n4d__free(sim->ctx, N4D_MEM_OTHER, sim->sense_ids[k],
                      (sim->sense_ptr[k][slice] ? sim->sense_ptr[k][slice] : 1) * sizeof(uint32_t));
            n4d__free(sim->ctx, N4D_MEM_OTHER, sim->sense_ptr[k], (slice + 1) * sizeof(uint64_t));
        }
    }
    size_t ns = m->n_senses ? m->n_senses : 1;
    n4d__free(sim->ctx, N4D_MEM_OTHER, sim->sense_ptr, ns * sizeof(uint64_t *));
    n4d__free(sim->ctx, N4D_MEM_OTHER, sim->sense_ids, ns * sizeof(uint32_t *));
}

/* For each sense, a CSR from (x, y, z) of its area's w_lo slice to the ids
 * of the neurons placed there (of any population). */
static n4d_status build_senses(n4d_sim *sim)
{
    const n4d_model *m = sim->model;
    size_t ns = m->n_senses ? m->n_senses : 1;
    sim->sense_ptr = n4d__calloc(sim->ctx, N4D_MEM_OTHER, ns, sizeof(uint64_t *));
    sim->sense_ids = n4d__calloc(sim->ctx, N4D_MEM_OTHER, ns, sizeof(uint32_t *));
    if (!sim->sense_ptr || !sim->sense_ids)
        return SIM_ERR(sim, N4D_E_NOMEM, "out of memory for sense maps");
    for (size_t k = 0; k < m->n_senses; k++) {
        const n4d__area *a = &m->areas[m->senses[k].area];
        uint64_t ex = (uint64_t)(a->hi[0] - a->lo[0] + 1), ey = (uint64_t)(a->hi[1] - a->lo[1] + 1);
        uint64_t slice = ex * ey * (uint64_t)(a->hi[2] - a->lo[2] + 1);
        uint64_t *ptr = n4d__calloc(sim->ctx, N4D_MEM_OTHER, slice + 1, sizeof(uint64_t));
        if (!ptr)
            return SIM_ERR(sim, N4D_E_NOMEM, "out of memory for the map of sense \"%s\"",
                           m->senses[k].name);
        sim->sense_ptr[k] = ptr;
        for (int pass = 0; pass < 2; pass++) {
            for (uint64_t id = 0; id < m->n_neurons; id++) {
                const int32_t *p = m->pos + 4 * id;
                if (p[3] != a->lo[3] || p[0] < a->lo[0] || p[0] > a->hi[0] || p[1] < a->lo[1] ||
                    p[1] > a->hi[1] || p[2] < a->lo[2] || p[2] > a->hi[2])
                    continue;
                uint64_t site = (uint64_t)(p[0] - a->lo[0]) +
                                ex * ((uint64_t)(p[1] - a->lo[1]) + ey * (uint64_t)(p[2] - a->lo[2]));
                if (pass == 0)
                    ptr[site + 1]++;
                else
                    sim->sense_ids[k][ptr[site]++] = (uint32_t)n4d__to_internal(m, id);
            }
            if (pass == 0) {
                for (uint64_t i = 0; i < slice; i++)
                    ptr[i + 1] += ptr[i];
                sim->sense_ids[k] = n4d__alloc(sim->ctx, N4D_MEM_OTHER,
                                               (ptr[slice] ? ptr[slice] : 1) * sizeof(uint32_t));
                if (!sim->sense_ids[k]) {
                    n4d__free(sim->ctx, N4D_MEM_OTHER, ptr, (slice + 1) * sizeof(uint64_t));
                    sim->sense_ptr[k] = NULL;
                    return SIM_ERR(sim, N4D_E_NOMEM, "out of memory for the map of sense \"%s\"",
                                   m->senses[k].name);
                }
            }
        }
        /* pass 1 advanced ptr[site] to the end of each site: shift back */
        for (uint64_t i = slice; i > 0; i--)
            ptr[i] = ptr[i - 1];
        ptr[0] = 0;
    }
    return N4D_OK;
}

static size_t count_inputs(const n4d_model *m, int32_t kind)
{
    size_t n = 0;
    for (size_t i = 0; i < m->n_inputs; i++)
        n += m->inputs[i].kind == kind;
    return n;
}

static n4d_status init_inputs(n4d_sim *sim)
{
    const n4d_model *m = sim->model;
    size_t ndc = count_inputs(m, N4D_INPUT_DC), npo = count_inputs(m, N4D_INPUT_POISSON);
    sim->dc = n4d__calloc(sim->ctx, N4D_MEM_OTHER, ndc ? ndc : 1, sizeof *sim->dc);
    sim->poisson = n4d__calloc(sim->ctx, N4D_MEM_OTHER, npo ? npo : 1, sizeof *sim->poisson);
    if (!sim->dc || !sim->poisson)
        return SIM_ERR(sim, N4D_E_NOMEM, "out of memory for inputs");
    for (size_t i = 0; i < m->n_inputs; i++) {
        const n4d__input *in = &m->inputs[i];
        if (in->kind == N4D_INPUT_DC) {
            sim->dc[sim->n_dc++] = *in;
            continue;
        }
        if (in->kind != N4D_INPUT_POISSON) /* spikes and currents: inputs.h */
            continue;
        size_t same_pop = 0;
        for (size_t k = 0; k < sim->n_poisson; k++)
            same_pop += sim->poisson[k].pop == in->target;
        if (same_pop >= 16)
            return SIM_ERR(sim, N4D_E_LIMIT, "population \"%s\" has more than 16 Poisson inputs",
                           m->pops[in->target].name);
        n4d__poisson_rt *p = &sim->poisson[sim->n_poisson++];
        double lambda = in->rate * 1e-3 * sim->dt * in->n_sources;
        p->pop = in->target;
        p->purpose = (uint32_t)N4D_RNG_POISSON | ((uint32_t)i << 8);
        p->parts = (uint32_t)ceil(lambda / 100.0);
        if (p->parts < 1)
            p->parts = 1;
        p->lambda_part = lambda / p->parts;
        p->exp_neg_part = exp(-p->lambda_part);
        p->weight_q = (int64_t)llrint(in->weight * m->syn.scale);
        p->step_start = time_to_step(in->start, sim->dt);
        p->step_stop = time_to_step(in->stop, sim->dt);
        if (in->sampling == N4D_POISSON_SPARSE) {
            n4d__poisson_sparse_init(p, lambda, sim->ring_slots);
            sim->n_sparse_cached += !p->block_ring;
        }
    }
    if (sim->n_sparse_cached &&
        !(sim->pcache = n4d__calloc(sim->ctx, N4D_MEM_OTHER, sim->n_poisson, sizeof *sim->pcache)))
        return SIM_ERR(sim, N4D_E_NOMEM, "out of memory for inputs");
    return n4d__poisson_tables(sim);
}

static void init_state(n4d_sim *sim)
{
    const n4d_model *m = sim->model;
    for (size_t pi = 0; pi < m->n_pops; pi++) {
        const n4d__population *p = &m->pops[pi];
        const n4d_dist *d = &p->v_init;
        for (uint64_t i = p->first; i < p->first + p->n; i++) {
            double v = d->value;
            if (d->kind != N4D_DIST_CONSTANT) {
                n4d__r4 r = n4d__philox(sim->seed, N4D_RNG_VINIT, (uint32_t)i, 0);
                if (d->kind == N4D_DIST_UNIFORM) {
                    v = d->lo + (d->hi - d->lo) * n4d__u01(r.v[0], r.v[1]);
                } else {
                    double u1 = n4d__u01_open0(r.v[0], r.v[1]), u2 = n4d__u01(r.v[2], r.v[3]);
                    v = d->value + d->std * sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
                    v = v < d->lo ? d->lo : (v > d->hi ? d->hi : v);
                }
            }
            const uint64_t k = n4d__to_internal(m, i);
            sim->v[k] = (float)v;
            if (p->nm->h->init) {
                float x[N4D__NX] = {0};
                p->nm->h->init(p->params, sim->v[k], x);
                for (int32_t j = 0; j < p->nm->h->n_states - 1; j++)
                    sim->x[j][k] = x[j];
            }
        }
    }
}

/* The first synapse class a device backend does not run (-1: none):
 * stdp_dopamine, and hebb_4dnc with dopamine_modulation (docs/gpu.md). */
static int32_t device_plastic_refused(const n4d_model *m)
{
    for (uint32_t k = 0; k < m->n_cls; k++) {
        const int32_t id = m->cls[k].sm->id;
        if (id == N4D__SYN_STDP_DOPAMINE || (id == N4D__SYN_HEBB_4DNC && m->cls[k].params[4] > 0))
            return (int32_t)k;
    }
    return -1;
}

static int auto_threads(const n4d_model *m)
{
#ifdef _OPENMP
    /* threads synchronise once per batch of min_delay steps, at most
     * N4D__MAX_BATCH_STEPS */
    const uint64_t batch =
        m->syn.min_delay < N4D__MAX_BATCH_STEPS ? m->syn.min_delay : N4D__MAX_BATCH_STEPS;
    const uint64_t work = m->n_neurons * batch / AUTO_UPDATES_PER_THREAD;
    const int max = omp_get_max_threads();
    return work < 1 ? 1 : (work < (uint64_t)max ? (int)work : max);
#else
    (void)m;
    return 1;
#endif
}

static void sim_free(n4d_sim *sim)
{
    n4d_context *ctx = sim->ctx;
    const uint64_t N = sim->n ? sim->n : 1;
    while (sim->n_hooks) /* modules free what they attached, last first */
        n4d__sim_detach(sim, sim->hooks[sim->n_hooks - 1].ops);
    free_timing(sim);
    if (sim->ops && sim->backend_state)
        sim->ops->fini(sim);
    n4d__plastic_destroy(sim);
    n4d__homeo_destroy(sim);
    n4d__mods_destroy(sim);
    n4d__life_destroy(sim);
    n4d__free(ctx, N4D_MEM_NEURONS, sim->v, N * sizeof(float));
    for (uint32_t j = 0; j < sim->nx; j++)
        n4d__free(ctx, N4D_MEM_NEURONS, sim->x[j], N * sizeof(float));
    n4d__free(ctx, N4D_MEM_NEURONS, sim->iext, N * sizeof(float));
    n4d__free(ctx, N4D_MEM_NEURONS, sim->ref, N * sizeof(int32_t));
    n4d__ring_destroy(sim);
    n4d__free(ctx, N4D_MEM_OTHER, sim->runs, (sim->n_runs ? sim->n_runs : 1) * sizeof *sim->runs);
    size_t ndc = count_inputs(sim->model, N4D_INPUT_DC), npo = count_inputs(sim->model, N4D_INPUT_POISSON);
    n4d__free(ctx, N4D_MEM_OTHER, sim->dc, (ndc ? ndc : 1) * sizeof *sim->dc);
    n4d__poisson_free(sim);
    n4d__xin_destroy(sim);
    n4d__free(ctx, N4D_MEM_SYNAPSES, sim->wq_own,
              (sim->model->syn.n_syn ? sim->model->syn.n_syn : 1) * sizeof(int32_t));
    n4d__free(ctx, N4D_MEM_OTHER, sim->poisson, (npo ? npo : 1) * sizeof *sim->poisson);
    free_senses(sim);
    n4d__free(ctx, N4D_MEM_RECORDING, sim->last_ids, N * sizeof(uint32_t));
    n4d__free(ctx, N4D_MEM_RECORDING, sim->sort_tmp, N * sizeof(uint32_t));
    n4d__free(ctx, N4D_MEM_RECORDING, sim->rec_steps, sim->rec_cap * sizeof(uint64_t));
    n4d__free(ctx, N4D_MEM_RECORDING, sim->rec_ids, sim->rec_cap * sizeof(uint32_t));
    n4d__free(ctx, N4D_MEM_RECORDING, sim->hist, (size_t)sim->hist_steps * sim->hist_words * sizeof(uint64_t));
    atomic_fetch_sub(&((n4d_model *)sim->model)->n_sims, 1); /* the model's use count, an atomic */
    sim->hdr.magic = N4D__MAGIC_NONE;
    n4d__free(ctx, N4D_MEM_OTHER, sim, sizeof *sim);
}

/* The backends "auto" tries for a model of n neurons, best first: the
 * entries with an auto priority whose size threshold n reaches. */
static size_t auto_candidates(uint64_t n, const n4d__backend **out, size_t cap)
{
    size_t k = 0;
    for (uint32_t i = 0; i < n4d__backend_count() && k < cap; i++) {
        const n4d__backend *b = n4d__backend_at(i);
        if (b->auto_priority > 0 && n >= b->auto_min_neurons)
            out[k++] = b;
    }
    for (size_t a = 1; a < k; a++) /* insertion sort by priority, stable */
        for (size_t c = a; c > 0 && out[c]->auto_priority > out[c - 1]->auto_priority; c--) {
            const n4d__backend *t = out[c];
            out[c] = out[c - 1];
            out[c - 1] = t;
        }
    return k;
}

#define MODEL_ERR(m, st, ...) n4d__model_error((m), (st), __VA_ARGS__)

/* "auto": from candidate *next on, the first whose probe passes (NULL when
 * none). A backend that is not built or has no device here is passed over
 * quietly (an INFO line); one that is there but fails its checks (the
 * device self-test) is worth a warning. */
static const n4d__backend *next_auto(const n4d_context *ctx, const n4d__backend *const *cand,
                                     size_t n_cand, size_t *next)
{
    char why[N4D_CUDA_ERR_CAP + 2200];
    for (; *next < n_cand; ++*next) {
        const n4d__backend *b = cand[*next];
        const n4d_status st = b->probe ? b->probe(0, 1, why, sizeof why) : N4D_OK;
        if (st == N4D_OK)
            return b;
        n4d__log(ctx, st == N4D_E_NOT_BUILT || st == N4D_E_NO_DEVICE ? N4D_LOG_INFO : N4D_LOG_WARN,
                 "auto backend: %s: %s", b->name, why);
    }
    return NULL;
}

n4d_status n4d_sim_create(n4d_model *model, const n4d_sim_options *opt, n4d_sim **out)
{
    if (out)
        *out = NULL;
    if (!n4d__is_handle(model, N4D__MAGIC_MODEL))
        return N4D_E_INVALID_ARG;
    n4d__model_clear_error(model);
    if (!out)
        return MODEL_ERR(model, N4D_E_INVALID_ARG, "n4d_sim_create: out is NULL");
    n4d_sim_options o;
    n4d_sim_options_init(&o);
    if (opt) {
        if (opt->struct_size < sizeof(uint32_t))
            return MODEL_ERR(model, N4D_E_INVALID_ARG, "n4d_sim_create: options.struct_size is not set");
        N4D__COPY_IN(o, opt);
    }
    const char *bname = o.backend ? o.backend : "auto";
    if (o.num_threads < 0)
        return MODEL_ERR(model, N4D_E_INVALID_ARG, "num_threads %d is negative", o.num_threads);
    const n4d__backend *backend = NULL;
    const int is_auto = strcmp(bname, "auto") == 0; /* decided by size after the build */
    int32_t device = 0;
    if (!is_auto) {
        char why[N4D_CUDA_ERR_CAP + 2200];
        int bad_index = 0;
        backend = n4d__backend_lookup(bname, &device, &bad_index);
        if (!backend) {
            char names[512];
            n4d__backend_names(names, sizeof names);
            return MODEL_ERR(model, N4D_E_INVALID_ARG, "unknown backend \"%s\" (expected one of: %s)",
                             bname, names);
        }
        if (bad_index)
            return MODEL_ERR(model, N4D_E_INVALID_ARG,
                             "backend \"%s\": expected \"%s\" or \"%s:N\" with a device number N",
                             bname, backend->name, backend->name);
        n4d_status pst = backend->probe ? backend->probe(device, 0, why, sizeof why) : N4D_OK;
        if (pst)
            return MODEL_ERR(model, pst, "backend \"%s\" is not available: %s", backend->name, why);
    }
    if (o.dt != 0.0 && o.dt != model->dt) {
        if (model->built)
            return MODEL_ERR(model, N4D_E_STATE, "dt %g ms differs from the built model's dt %g ms",
                             o.dt, model->dt);
        n4d_status st = n4d_model_set_dt(model, o.dt);
        if (st)
            return st;
    }
    n4d_status st = n4d_model_build(model);
    if (st)
        return st;
    /* "auto": the best backend whose probe passes and that takes the model */
    const n4d__backend *cand[16];
    size_t n_cand = 0, next = 0;
    if (is_auto) {
        n_cand = auto_candidates(model->n_neurons, cand, 16);
        if (!(backend = next_auto(model->ctx, cand, n_cand, &next)))
            return MODEL_ERR(model, N4D_E_NO_DEVICE, "auto backend: no registered backend can run");
    }

    n4d_context *ctx = model->ctx;
    n4d_sim *sim = n4d__calloc(ctx, N4D_MEM_OTHER, 1, sizeof *sim);
    if (!sim)
        return MODEL_ERR(model, N4D_E_NOMEM, "out of memory creating a simulation");
    sim->hdr.magic = N4D__MAGIC_SIM;
    sim->model = model;
    sim->ctx = ctx;
    atomic_fetch_add(&model->n_sims, 1);
    sim->syn = (n4d__syn_view){model->syn.seg_ptr, model->syn.seg_off, model->syn.seg_key,
                               model->syn.target,  model->syn.weight_q, model->syn.inv_scale};
    sim->seed = o.seed ? o.seed : model->seed;
    sim->dt = model->dt;
    sim->n = model->n_neurons;
    sim->record = o.record_spikes != 0;
    sim->checksum = FNV_OFFSET;
    sim->threads = o.num_threads ? o.num_threads : auto_threads(model);
    if (!(backend->caps & N4D__CAP_THREADS))
        sim->threads = 1;
    sim->device = device;
    const uint64_t N = sim->n ? sim->n : 1;
    /* max_delay slots suffice: a step consumes (and clears) its slot before
     * any spike of that step or of its batch is delivered, and deliveries
     * land at most max_delay steps ahead */
    sim->ring_slots = model->syn.max_delay;
    sim->n_runs = model->n_runs;
    sim->hist_steps = o.history_steps;
    sim->hist_words = (N + 63) / 64;
    if (sim->hist_steps && (double)sim->hist_steps * (double)sim->hist_words * 8.0 > 1e12) {
        st = MODEL_ERR(model, N4D_E_LIMIT, "history of %u steps would need more than 1 TB",
                       sim->hist_steps);
        goto fail;
    }
    sim->v = n4d__calloc(ctx, N4D_MEM_NEURONS, N, sizeof(float));
    bool x_ok = true;
    for (size_t pi = 0; pi < model->n_pops; pi++)
        if ((uint32_t)(model->pops[pi].nm->h->n_states - 1) > sim->nx)
            sim->nx = (uint32_t)(model->pops[pi].nm->h->n_states - 1);
    for (uint32_t j = 0; j < sim->nx; j++)
        x_ok = x_ok && (sim->x[j] = n4d__calloc(ctx, N4D_MEM_NEURONS, N, sizeof(float)));
    sim->iext = n4d__calloc(ctx, N4D_MEM_NEURONS, N, sizeof(float));
    sim->ref = n4d__calloc(ctx, N4D_MEM_NEURONS, N, sizeof(int32_t));
    const bool ring_ok = n4d__ring_create(sim);
    sim->runs = n4d__calloc(ctx, N4D_MEM_OTHER, sim->n_runs ? sim->n_runs : 1, sizeof *sim->runs);
    sim->last_ids = n4d__alloc(ctx, N4D_MEM_RECORDING, N * sizeof(uint32_t));
    if (model->perm) /* spike ids are mapped to user ids and sorted every step */
        sim->sort_tmp = n4d__alloc(ctx, N4D_MEM_RECORDING, N * sizeof(uint32_t));
    if (sim->hist_steps)
        sim->hist = n4d__calloc(ctx, N4D_MEM_RECORDING, (size_t)sim->hist_steps * sim->hist_words,
                                sizeof(uint64_t));
    for (uint32_t j = sim->nx; j < N4D__NX; j++)
        sim->x[j] = sim->v; /* no model of this sim has state j + 1 */
    if (!sim->v || !x_ok || !sim->iext || !sim->ref || !ring_ok || !sim->runs ||
        !sim->last_ids || (model->perm && !sim->sort_tmp) || (sim->hist_steps && !sim->hist)) {
        st = MODEL_ERR(model, N4D_E_NOMEM, "out of memory for the state of %llu neurons",
                       (unsigned long long)sim->n);
        goto fail;
    }
    for (size_t p = 0; p < model->n_pops; p++) { /* refractory periods in int32 steps */
        const n4d__population *pp = &model->pops[p];
        const int32_t k = n4d__param_index(pp->nm, "t_ref");
        if (k >= 0 && !(pp->params[k] / sim->dt < N4D__MAX_REF_STEPS)) {
            st = MODEL_ERR(model, N4D_E_RANGE,
                           "population \"%s\" (model %s): t_ref %g ms is %.3g steps of dt %g ms "
                           "(at most 1e9 steps)",
                           pp->name, pp->nm->name, pp->params[k], pp->params[k] / sim->dt, sim->dt);
            goto fail;
        }
    }
    for (size_t i = 0; i < sim->n_runs; i++) {
        const n4d__run *run = &model->runs[i];
        pop_constants(&model->pops[run->pop], sim->dt, &sim->runs[i]);
        sim->runs[i].first = run->first;
        sim->runs[i].n = run->n;
        sim->runs[i].pop = run->pop;
    }
    if ((st = init_inputs(sim)) || (st = n4d__xin_create(sim)) || (st = build_senses(sim)) || (st = n4d__mods_create(sim)) ||
        (st = n4d__plastic_create(sim)) || (st = n4d__homeo_create(sim)) ||
        (st = n4d__life_create(sim)))
        goto fail_msg;
    init_state(sim);
    int32_t da;
    for (;;) {
        if (sim->life && (!(backend->caps & N4D__CAP_PLASTICITY) ||
                          (backend->caps & N4D__CAP_DEVICE))) {
            st = n4d__error(&sim->hdr, N4D_E_UNSUPPORTED,
                            "backend \"%s\" does not run the cell lifecycle; cpu-ref and "
                            "cpu-omp do",
                            backend->name);
            sim->ops = NULL;
        } else if (sim->plastic && !(backend->caps & N4D__CAP_PLASTICITY)) {
            st = n4d__error(&sim->hdr, N4D_E_UNSUPPORTED,
                            "backend \"%s\" does not run plastic synapses (projection \"%s\", "
                            "synapse model %s); cpu-ref and cpu-omp do",
                            backend->name, model->cls[0].name, model->cls[0].sm->name);
            sim->ops = NULL;
        } else if (sim->plastic && (backend->caps & N4D__CAP_DEVICE) &&
                   (da = device_plastic_refused(model)) >= 0) {
            st = n4d__error(&sim->hdr, N4D_E_UNSUPPORTED,
                            "backend \"%s\" does not run the synapse model %s (projection "
                            "\"%s\"); it runs static, hebb_4dnc, stdp and tsodyks synapses, "
                            "cpu-ref and cpu-omp run every model",
                            backend->name, model->cls[da].sm->name, model->cls[da].name);
            sim->ops = NULL;
        } else if (sim->homeo && (!(backend->caps & N4D__CAP_PLASTICITY) ||
                                  (backend->caps & N4D__CAP_DEVICE))) {
            st = n4d__error(&sim->hdr, N4D_E_UNSUPPORTED,
                            "backend \"%s\" does not run homeostatic scaling; cpu-ref and "
                            "cpu-omp do",
                            backend->name);
            sim->ops = NULL;
        } else if (sim->mods && (!(backend->caps & N4D__CAP_PLASTICITY) ||
                                 (backend->caps & N4D__CAP_DEVICE))) {
            st = n4d__error(&sim->hdr, N4D_E_UNSUPPORTED,
                            "backend \"%s\" does not run neuromodulators (modulator \"%s\"); "
                            "cpu-ref and cpu-omp do",
                            backend->name, model->mods[0].name);
            sim->ops = NULL;
        } else if (sim->n_xin && (backend->caps & N4D__CAP_DEVICE)) {
            st = n4d__error(&sim->hdr, N4D_E_UNSUPPORTED,
                            "backend \"%s\" does not run %s inputs (population \"%s\"); "
                            "cpu-ref and cpu-omp do",
                            backend->name,
                            sim->xin[0].kind == N4D_INPUT_SPIKES
                                ? "spike-time"
                                : (sim->xin[0].kind == N4D_INPUT_STEP_CURRENT
                                       ? "step-current"
                                       : (sim->xin[0].kind == N4D_INPUT_AC ? "ac" : "noise")),
                            model->pops[sim->xin[0].pop].name);
            sim->ops = NULL;
        } else if (sim->n_sparse_cached && !(backend->caps & N4D__CAP_SPARSE_POISSON)) {
            const n4d__poisson_rt *in = sim->poisson;
            while (!in->sparse || in->block_ring)
                in++;
            st = n4d__error(&sim->hdr, N4D_E_UNSUPPORTED,
                            "backend \"%s\" samples a sparse Poisson input only in blocks that "
                            "fit the delay ring; input %u (population \"%s\") has blocks of %u "
                            "steps and the longest delay is %u steps; cpu-ref and cpu-omp "
                            "sample it",
                            backend->name, in->purpose >> 8, model->pops[in->pop].name,
                            1u << in->block_log2, sim->ring_slots);
            sim->ops = NULL;
        } else {
            sim->backend = backend;
            sim->ops = backend->ops;
            if (!(backend->caps & N4D__CAP_THREADS))
                sim->threads = 1;
            st = sim->ops->init(sim);
        }
        if (!st)
            break;
        /* auto: a backend that cannot take the model (device memory) -> the next */
        const n4d__backend *failed = backend;
        ++next;
        if (!is_auto || !(backend = next_auto(ctx, cand, n_cand, &next)))
            goto fail_msg;
        n4d__log(ctx, N4D_LOG_WARN, "auto backend: %s: %s; running on %s", failed->name,
                 sim->hdr.error, backend->name);
        n4d__clear_error(&sim->hdr);
        sim->threads = o.num_threads ? o.num_threads : auto_threads(model);
    }
    *out = sim;
    return N4D_OK;
fail_msg:
    MODEL_ERR(model, st, "%s", sim->hdr.error);
fail:
    sim->ops = NULL; /* not initialised */
    sim_free(sim);
    return st;
}

void n4d_sim_destroy(n4d_sim *sim)
{
    if (!n4d__is_handle(sim, N4D__MAGIC_SIM))
        return;
    sim_free(sim);
}

#define IS_SIM(s) n4d__is_handle((s), N4D__MAGIC_SIM)

const char *n4d_sim_backend(const n4d_sim *sim) { return IS_SIM(sim) ? sim->backend->name : ""; }
int32_t n4d_sim_num_threads(const n4d_sim *sim) { return IS_SIM(sim) ? sim->threads : 0; }
uint64_t n4d_sim_current_step(const n4d_sim *sim) { return IS_SIM(sim) ? sim->step : 0; }
double n4d_sim_dt(const n4d_sim *sim) { return IS_SIM(sim) ? sim->dt : 0.0; }
uint64_t n4d_sim_total_spikes(const n4d_sim *sim) { return IS_SIM(sim) ? sim->total_spikes : 0; }
uint64_t n4d_sim_checksum(const n4d_sim *sim) { return IS_SIM(sim) ? sim->checksum : 0; }

/* The next step count (after sim->step) at which a hook wants a sync, or
 * UINT64_MAX when none does. */
static uint64_t next_sync(const n4d_sim *sim)
{
    uint64_t next = UINT64_MAX;
    for (uint32_t k = 0; k < sim->n_hooks; k++) {
        const uint64_t e = sim->hooks[k].sync_every;
        if (e && sim->hooks[k].ops->at_sync) {
            const uint64_t at = sim->step + (e - sim->step % e);
            next = at < next ? at : next;
        }
    }
    return next;
}

/* Runs in pieces that end where a hook's sync_every divides the step count
 * (the state arrays then hold the state at the end of that step) and calls
 * those hooks' at_sync there. */
static n4d_status run_pieces(n4d_sim *sim, uint64_t steps)
{
    while (steps > 0) {
        const uint64_t at = next_sync(sim);
        const uint64_t n = at - sim->step < steps ? at - sim->step : steps;
        n4d_status st = sim->ops->run(sim, n);
        if (st)
            return st;
        steps -= n;
        for (uint32_t k = 0; k < sim->n_hooks; k++) {
            const n4d__hook *h = &sim->hooks[k];
            if (h->ops->at_sync && h->sync_every && sim->step % h->sync_every == 0 &&
                (st = h->ops->at_sync(h->data, sim)))
                return st;
        }
    }
    return N4D_OK;
}

n4d_status n4d_sim_run(n4d_sim *sim, uint64_t steps)
{
    if (!IS_SIM(sim))
        return N4D_E_INVALID_ARG;
    n4d__clear_error(&sim->hdr);
    if (steps > UINT64_MAX - sim->step)
        return SIM_ERR(sim, N4D_E_RANGE, "step counter would overflow");
    if (steps == 0)
        return N4D_OK;
    n4d__timing *const prof = sim->timing;
    const uint64_t t0 = prof ? n4d__now_ns() : 0;
    n4d_status st = N4D_OK;
    /* a cell lifecycle: pieces that end at each death step, then its
     * lifecycle (lifecycle.h); without deaths one piece */
    while (steps > 0 && !st) {
        const int64_t die = n4d__life_next(sim);
        uint64_t n = steps;
        if (die != INT64_MAX && (uint64_t)die - sim->step < steps)
            n = (uint64_t)die - sim->step + 1;
        st = sim->n_hooks ? run_pieces(sim, n) : sim->ops->run(sim, n);
        if (!st)
            st = n4d__ring_check(sim);
        if (st)
            break;
        steps -= n;
        if (die != INT64_MAX && sim->step == (uint64_t)die + 1 &&
            !(st = n4d__sim_to_host(sim, N4D__HOST_WRITE, 0)))
            st = n4d__life_apply(sim, die);
    }
    if (prof)
        n4d__prof_lap(prof, N4D_PROFILE_RUN, t0);
    return st;
}

/* ---- hooks, host state, timing ------------------------------------------------ */

n4d_status n4d__sim_attach(n4d_sim *sim, const n4d__hook_ops *ops, void *data, uint64_t sync_every)
{
    if (n4d__sim_hook_data(sim, ops))
        return SIM_ERR(sim, N4D_E_STATE, "%s is already attached to this simulation", ops->name);
    if (sim->n_hooks == N4D__MAX_HOOKS)
        return SIM_ERR(sim, N4D_E_LIMIT, "%s: at most %d modules attach to one simulation",
                       ops->name, N4D__MAX_HOOKS);
    sim->hooks[sim->n_hooks++] = (n4d__hook){ops, data, sync_every};
    return N4D_OK;
}

void *n4d__sim_hook_data(const n4d_sim *sim, const n4d__hook_ops *ops)
{
    for (uint32_t k = 0; k < sim->n_hooks; k++)
        if (sim->hooks[k].ops == ops)
            return sim->hooks[k].data;
    return NULL;
}

void n4d__sim_detach(n4d_sim *sim, const n4d__hook_ops *ops)
{
    for (uint32_t k = 0; k < sim->n_hooks; k++) {
        if (sim->hooks[k].ops != ops)
            continue;
        n4d__hook h = sim->hooks[k];
        memmove(&sim->hooks[k], &sim->hooks[k + 1], (sim->n_hooks - k - 1) * sizeof h);
        sim->n_hooks--;
        if (h.ops->on_detach)
            h.ops->on_detach(h.data, sim);
        return;
    }
}

void n4d__sim_before_delivery(n4d_sim *sim)
{
    for (uint32_t k = 0; k < sim->n_hooks; k++)
        if (sim->hooks[k].ops->before_delivery)
            sim->hooks[k].ops->before_delivery(sim->hooks[k].data, sim);
}

n4d_status n4d__sim_to_host(n4d_sim *sim, int why, uint32_t flags)
{
    if (sim->ops->sync) {
        n4d_status st = sim->ops->sync(sim, (int)(N4D__SYNC_TO_HOST | flags));
        if (st)
            return st;
    }
    for (uint32_t k = 0; k < sim->n_hooks; k++)
        if (sim->hooks[k].ops->on_host) {
            n4d_status st = sim->hooks[k].ops->on_host(sim->hooks[k].data, sim, why);
            if (st)
                return st;
        }
    return N4D_OK;
}

n4d_status n4d__sim_to_device(n4d_sim *sim, uint32_t flags)
{
    return sim->ops->sync ? sim->ops->sync(sim, (int)flags) : N4D_OK;
}

const n4d__backend *n4d__sim_backend_entry(const n4d_sim *sim) { return sim->backend; }


n4d_status n4d_sim_step(n4d_sim *sim) { return n4d_sim_run(sim, 1); }

n4d_status n4d_sim_last_spikes(const n4d_sim *sim, const uint32_t **ids, uint64_t *count)
{
    if (!IS_SIM(sim) || !ids || !count)
        return N4D_E_INVALID_ARG;
    *ids = sim->last_ids;
    *count = sim->last_count;
    return N4D_OK;
}

n4d_status n4d_sim_spikes(const n4d_sim *sim, const uint64_t **steps, const uint32_t **ids,
                          uint64_t *count)
{
    if (!IS_SIM(sim) || !steps || !ids || !count)
        return N4D_E_INVALID_ARG;
    if (!sim->record)
        return n4d__error((n4d__handle *)&sim->hdr, N4D_E_STATE,
                          "spike recording is off (n4d_sim_options.record_spikes)");
    *steps = sim->rec_steps;
    *ids = sim->rec_ids;
    *count = sim->rec_count;
    return N4D_OK;
}

n4d_status n4d_sim_clear_spikes(n4d_sim *sim)
{
    if (!IS_SIM(sim))
        return N4D_E_INVALID_ARG;
    n4d__free(sim->ctx, N4D_MEM_RECORDING, sim->rec_steps, sim->rec_cap * sizeof(uint64_t));
    n4d__free(sim->ctx, N4D_MEM_RECORDING, sim->rec_ids, sim->rec_cap * sizeof(uint32_t));
    sim->rec_steps = NULL;
    sim->rec_ids = NULL;
    sim->rec_cap = sim->rec_count = 0;
    return N4D_OK;
}

int n4d_sim_spiked_at(const n4d_sim *sim, uint64_t neuron, uint64_t step)
{
    if (!IS_SIM(sim))
        return N4D_E_INVALID_ARG;
    n4d__handle *h = (n4d__handle *)&sim->hdr;
    if (neuron >= sim->n)
        return n4d__error(h, N4D_E_RANGE, "neuron %llu does not exist (%llu neurons)",
                          (unsigned long long)neuron, (unsigned long long)sim->n);
    if (step >= sim->step)
        return n4d__error(h, N4D_E_RANGE, "step %llu is not simulated yet (current step %llu)",
                          (unsigned long long)step, (unsigned long long)sim->step);
    if (sim->hist_steps == 0 || sim->step - step > sim->hist_steps)
        return n4d__error(h, N4D_E_RANGE,
                          "step %llu is outside the spike history window of %u steps",
                          (unsigned long long)step, sim->hist_steps);
    return (int)(hist_row(sim, step)[neuron >> 6] >> (neuron & 63) & 1);
}

n4d_status n4d_sim_step_stats(const n4d_sim *sim, n4d_step_stats *out)
{
    if (!IS_SIM(sim) || !out || out->struct_size < sizeof *out)
        return N4D_E_INVALID_ARG;
    out->step = sim->step ? sim->step - 1 : 0;
    out->spikes = sim->last_count;
    out->total_spikes = sim->total_spikes;
    return N4D_OK;
}

/* ---- state access ------------------------------------------------------------ */

static n4d_status state_access(n4d_sim *sim, const char *var, float *out, const float *in,
                               uint64_t count)
{
    if (!IS_SIM(sim))
        return N4D_E_INVALID_ARG;
    n4d__clear_error(&sim->hdr);
    if (!var || (!out && !in))
        return SIM_ERR(sim, N4D_E_INVALID_ARG, "state access: NULL argument");
    const int32_t vi = n4d__state_find(var);
    if (vi < 0) {
        char names[512];
        return SIM_ERR(sim, N4D_E_INVALID_ARG, "unknown state variable \"%s\" (expected one of: %s)",
                       var, n4d__state_names(names, sizeof names));
    }
    if (count != sim->n)
        return SIM_ERR(sim, N4D_E_RANGE, "state array has %llu entries (expected %llu neurons)",
                       (unsigned long long)count, (unsigned long long)sim->n);
    n4d_status hst = n4d__sim_to_host(sim, in ? N4D__HOST_WRITE : N4D__HOST_READ, N4D__SYNC_STATE);
    if (hst)
        return hst;
    for (size_t ri = 0; ri < sim->n_runs; ri++) {
        const n4d__pop_rt *p = &sim->runs[ri];
        const int32_t slot = n4d__state_slot(sim->model->pops[p->pop].nm, vi);
        float *arr = slot == N4D__SLOT_V      ? sim->v
                     : slot == N4D__SLOT_IEXT ? sim->iext
                     : slot >= N4D__SLOT_X && slot < N4D__SLOT_X + N4D__NX ? sim->x[slot - N4D__SLOT_X]
                                                                         : NULL;
        /* counts beyond the limit of refractory periods would overflow
         * int32 (a resume refuses them) */
        const int32_t ref_max = (int32_t)N4D__MAX_REF_STEPS;
        for (uint64_t i = p->first; i < p->first + p->n; i++) {
            const uint64_t id = n4d__to_user(sim->model, i);
            if (slot == N4D__SLOT_REF) {
                if (out)
                    out[id] = (float)sim->ref[i];
                else
                    sim->ref[i] = in[id] > 0 ? (in[id] < (float)ref_max ? (int32_t)in[id]
                                                                        : ref_max)
                                             : 0;
            } else if (out) {
                out[id] = arr ? arr[i] : NAN;
            } else if (arr) {
                arr[i] = in[id];
            }
        }
    }
    if (in && strcmp(var, "i_ext") == 0)
        sim->iext_dirty = true;
    if (in)
        return n4d__sim_to_device(sim, N4D__SYNC_STATE);
    return N4D_OK;
}

n4d_status n4d_sim_get_state(n4d_sim *sim, const char *var, float *out, uint64_t count)
{
    return state_access(sim, var, out, NULL, count);
}

n4d_status n4d_sim_set_state(n4d_sim *sim, const char *var, const float *values, uint64_t count)
{
    n4d__timing *const prof = IS_SIM(sim) ? sim->timing : NULL;
    const uint64_t t0 = prof ? n4d__now_ns() : 0;
    n4d_status st = state_access(sim, var, NULL, values, count);
    if (prof)
        n4d__prof_lap(prof, N4D_PROFILE_INPUT, t0);
    return st;
}

n4d_status n4d_sim_add_input(n4d_sim *sim, uint64_t id, float value)
{
    if (!IS_SIM(sim))
        return N4D_E_INVALID_ARG;
    if (id >= sim->n)
        return SIM_ERR(sim, N4D_E_RANGE, "neuron %llu does not exist (%llu neurons)",
                       (unsigned long long)id, (unsigned long long)sim->n);
    if (!isfinite(value))
        return SIM_ERR(sim, N4D_E_INVALID_ARG, "input value is not finite");
    n4d__timing *const prof = sim->timing;
    const uint64_t t0 = prof ? n4d__now_ns() : 0;
    n4d_status hst = n4d__sim_to_host(sim, N4D__HOST_INPUT, N4D__SYNC_IEXT);
    if (hst)
        return hst;
    sim->iext[n4d__to_internal(sim->model, id)] += value;
    sim->iext_dirty = true;
    n4d_status st = n4d__sim_to_device(sim, N4D__SYNC_IEXT);
    if (prof)
        n4d__prof_lap(prof, N4D_PROFILE_INPUT, t0);
    return st;
}

n4d_status n4d_sim_feed_sense(n4d_sim *sim, const char *sense, const float *matrix, uint32_t rows,
                              uint32_t cols, uint32_t z_layer)
{
    if (!IS_SIM(sim))
        return N4D_E_INVALID_ARG;
    n4d__clear_error(&sim->hdr);
    const n4d_model *m = sim->model;
    if (!sense || !matrix)
        return SIM_ERR(sim, N4D_E_INVALID_ARG, "feed_sense: NULL argument");
    size_t k = 0;
    while (k < m->n_senses && strcmp(m->senses[k].name, sense) != 0)
        k++;
    if (k == m->n_senses)
        return SIM_ERR(sim, N4D_E_INVALID_ARG, "unknown sense \"%s\"", sense);
    const n4d__sense *se = &m->senses[k];
    const n4d__area *a = &m->areas[se->area];
    uint32_t ex = (uint32_t)(a->hi[0] - a->lo[0] + 1), ey = (uint32_t)(a->hi[1] - a->lo[1] + 1);
    uint32_t ez = (uint32_t)(a->hi[2] - a->lo[2] + 1);
    if (z_layer >= ez)
        return SIM_ERR(sim, N4D_E_RANGE, "sense \"%s\": z layer %u is outside area \"%s\" (%u layers)",
                       sense, z_layer, a->name, ez);
    if (rows != se->rows || cols != se->cols)
        n4d__log(sim->ctx, N4D_LOG_WARN,
                 "sense \"%s\": matrix %ux%u differs from the declared %ux%u; mapping the overlap",
                 sense, rows, cols, se->rows, se->cols);
    n4d__timing *const prof = sim->timing;
    const uint64_t t0 = prof ? n4d__now_ns() : 0;
    n4d_status hst = n4d__sim_to_host(sim, N4D__HOST_INPUT, N4D__SYNC_IEXT);
    if (hst)
        return hst;
    uint32_t nx = rows < ex ? rows : ex, ny = cols < ey ? cols : ey;
    const uint64_t *ptr = sim->sense_ptr[k];
    for (uint32_t ix = 0; ix < nx; ix++)
        for (uint32_t iy = 0; iy < ny; iy++) {
            float val = matrix[(size_t)ix * cols + iy];
            uint64_t site = ix + (uint64_t)ex * (iy + (uint64_t)ey * z_layer);
            for (uint64_t j = ptr[site]; j < ptr[site + 1]; j++)
                sim->iext[sim->sense_ids[k][j]] += val;
        }
    sim->iext_dirty = true;
    n4d_status st = n4d__sim_to_device(sim, N4D__SYNC_IEXT);
    if (prof)
        n4d__prof_lap(prof, N4D_PROFILE_INPUT, t0);
    return st;
}
