/* Simulation: state allocation and initialisation, backend selection, the
 * run entry points, spike reporting (recording, O(1) history, checksum) and
 * state access. */
#include "backend.h"

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
/* From this many neurons `auto` runs on the cuda backend when it is usable
 * (library, driver and device 0); below, per-step kernel launches cost more
 * than the parallel work saves, and cpu-omp runs (docs/gpu.md). */
#define AUTO_CUDA_NEURONS 100000u

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
 * O(1) history, recording and the observer. */
n4d_status n4d__sim_emit_end(n4d_sim *sim)
{
    uint32_t *ids = sim->last_ids;
    const uint64_t count = sim->last_count;
    if (sim->cmp) /* compression: marks active blocks, compresses quiet ones (internal ids) */
        n4d__compress_observe(sim, sim->step, ids, count);
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
    /* an observer error (a recorder's I/O) ends the run, the step counts */
    n4d_status st = sim->observer ? sim->observer(sim->observer_data, sim, sim->step, ids, count)
                                  : N4D_OK;
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
    const n4d_neuron_params *q = &p->params;
    memset(r, 0, sizeof *r);
    r->first = p->first;
    r->n = p->n;
    r->model = p->model;
    r->ref_steps = (int32_t)floor(q->t_ref / dt + 0.5);
    r->ref_after_spike = r->ref_steps > 0 ? r->ref_steps - 1 : 0;
    r->v_rest = (float)q->v_rest;
    r->v_reset = (float)q->v_reset;
    r->v_th = (float)q->v_threshold;
    r->i_e = (float)q->i_e;
    r->tau_m = (float)q->tau_m;
    r->dt = (float)dt;
    r->e_ex = (float)q->e_ex;
    r->e_in = (float)q->e_in;
    if (p->model == N4D_NEURON_LIF_COND_EXP) {
        r->pe = (float)exp(-dt / q->tau_syn_ex);
        r->pi = (float)exp(-dt / q->tau_syn_in);
    }
    if (p->model == N4D_NEURON_LIF_EXP) {
        double pm = exp(-dt / q->tau_m);
        r->pm = (float)pm;
        r->pe = (float)exp(-dt / q->tau_syn_ex);
        r->pi = (float)exp(-dt / q->tau_syn_in);
        r->pdc = (float)-expm1(-dt / q->tau_m);
        /* response of V to a unit exponential current: tau_s / (tau_s - tau_m) *
         * (e^{-h/tau_s} - e^{-h/tau_m}), with the limit h/tau e^{-h/tau} */
        const double ts[2] = {q->tau_syn_ex, q->tau_syn_in};
        for (int c = 0; c < 2; c++) {
            double v;
            if (fabs(ts[c] - q->tau_m) < 1e-9 * q->tau_m)
                v = dt / q->tau_m * pm;
            else
                v = ts[c] / (ts[c] - q->tau_m) * (exp(-dt / ts[c]) - pm);
            if (c == 0)
                r->pem = (float)v;
            else
                r->pim = (float)v;
        }
    }
    r->a = (float)q->a;
    r->b = (float)q->b;
    r->c = (float)q->c;
    r->d = (float)q->d;
    r->v_peak = (float)q->v_peak;
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
    }
    return N4D_OK;
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
            sim->x1[k] = p->model == N4D_NEURON_IZHIKEVICH ? (float)(p->params.b * (double)sim->v[k])
                                                           : 0.0f;
        }
    }
}

static int auto_threads(const n4d_model *m)
{
#ifdef _OPENMP
    /* threads synchronise once per batch of min_delay steps (cpu_omp.c caps
     * the batch at 64) */
    const uint64_t batch = m->syn.min_delay < 64 ? m->syn.min_delay : 64;
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
    if (sim->observer_fini) /* storage module: close a recorder */
        sim->observer_fini(sim->observer_data, sim);
    n4d__profile_free(sim);
    n4d__compress_free(sim); /* the model's synapses intact again */
    if (sim->ops && sim->backend_state)
        sim->ops->fini(sim);
    n4d__free(ctx, N4D_MEM_NEURONS, sim->v, N * sizeof(float));
    n4d__free(ctx, N4D_MEM_NEURONS, sim->x1, N * sizeof(float));
    n4d__free(ctx, N4D_MEM_NEURONS, sim->x2, N * sizeof(float));
    n4d__free(ctx, N4D_MEM_NEURONS, sim->iext, N * sizeof(float));
    n4d__free(ctx, N4D_MEM_NEURONS, sim->ref, N * sizeof(int32_t));
    n4d__free(ctx, N4D_MEM_BUFFERS, sim->ring, (size_t)sim->ring_slots * 2 * N * sizeof(int64_t));
    n4d__free(ctx, N4D_MEM_OTHER, sim->runs, (sim->n_runs ? sim->n_runs : 1) * sizeof *sim->runs);
    size_t ndc = count_inputs(sim->model, N4D_INPUT_DC), npo = count_inputs(sim->model, N4D_INPUT_POISSON);
    n4d__free(ctx, N4D_MEM_OTHER, sim->dc, (ndc ? ndc : 1) * sizeof *sim->dc);
    n4d__free(ctx, N4D_MEM_OTHER, sim->poisson, (npo ? npo : 1) * sizeof *sim->poisson);
    free_senses(sim);
    n4d__free(ctx, N4D_MEM_RECORDING, sim->last_ids, N * sizeof(uint32_t));
    n4d__free(ctx, N4D_MEM_RECORDING, sim->sort_tmp, N * sizeof(uint32_t));
    n4d__free(ctx, N4D_MEM_RECORDING, sim->rec_steps, sim->rec_cap * sizeof(uint64_t));
    n4d__free(ctx, N4D_MEM_RECORDING, sim->rec_ids, sim->rec_cap * sizeof(uint32_t));
    n4d__free(ctx, N4D_MEM_RECORDING, sim->hist, (size_t)sim->hist_steps * sim->hist_words * sizeof(uint64_t));
    atomic_fetch_sub(&sim->model->n_sims, 1);
    sim->hdr.magic = N4D__MAGIC_NONE;
    n4d__free(ctx, N4D_MEM_OTHER, sim, sizeof *sim);
}

static const n4d__backend_ops *find_backend(const char *name)
{
    if (strcmp(name, "cpu-ref") == 0)
        return &n4d__backend_cpu_ref;
    if (strcmp(name, "cpu-omp") == 0)
        return &n4d__backend_cpu_omp;
    return NULL;
}

n4d_status n4d_sim_create(n4d_model *model, const n4d_sim_options *opt, n4d_sim **out)
{
    if (out)
        *out = NULL;
    if (!n4d__is_handle(model, N4D__MAGIC_MODEL))
        return N4D_E_INVALID_ARG;
    n4d__clear_error(&model->hdr);
    if (!out)
        return n4d__error(&model->hdr, N4D_E_INVALID_ARG, "n4d_sim_create: out is NULL");
    *out = NULL;
    n4d_sim_options o;
    n4d_sim_options_init(&o);
    if (opt) {
        if (opt->struct_size < sizeof(uint32_t))
            return n4d__error(&model->hdr, N4D_E_INVALID_ARG,
                              "n4d_sim_create: options.struct_size is not set");
        N4D__COPY_IN(o, opt);
    }
    const char *bname = o.backend ? o.backend : "auto";
    if (o.num_threads < 0)
        return n4d__error(&model->hdr, N4D_E_INVALID_ARG, "num_threads %d is negative",
                          o.num_threads);
    const n4d__backend_ops *ops = NULL;
    const int is_auto = strcmp(bname, "auto") == 0; /* decided by size after the build */
    int32_t device = 0;
    int bad_device = 0;
    if (is_auto) {
        ops = NULL;
    } else if (n4d__parse_cuda_name(bname, &device, &bad_device)) {
        if (bad_device)
            return n4d__error(&model->hdr, N4D_E_INVALID_ARG,
                              "backend \"%s\": expected \"cuda\" or \"cuda:N\" with a device "
                              "number N",
                              bname);
        char why[N4D_CUDA_ERR_CAP + 2200];
        n4d_status cst = n4d__cuda_check(device, why, sizeof why);
        if (cst)
            return n4d__error(&model->hdr, cst, "backend \"cuda\" is not available: %s", why);
        ops = &n4d__backend_cuda;
    } else if (!(ops = find_backend(bname))) {
        return n4d__error(&model->hdr, N4D_E_INVALID_ARG,
                          "unknown backend \"%s\" (expected one of: auto, cpu-ref, cpu-omp, cuda, "
                          "cuda:N)",
                          bname);
    }
    if (o.dt != 0.0 && o.dt != model->dt) {
        if (model->built)
            return n4d__error(&model->hdr, N4D_E_STATE,
                              "dt %g ms differs from the built model's dt %g ms", o.dt, model->dt);
        n4d_status st = n4d_model_set_dt(model, o.dt);
        if (st)
            return st;
    }
    if (model->compressed_blocks)
        return n4d__error(&model->hdr, N4D_E_STATE,
                          "the model's synapses are compressed by another simulation "
                          "(n4d_sim_compression_disable it first)");
    const bool timed_build = !model->built;
    const uint64_t build_t0 = timed_build ? n4d__now_ns() : 0;
    n4d_status st = n4d_model_build(model);
    if (st)
        return st;
    if (timed_build && !model->build_ns) /* the profiler's build section */
        model->build_ns = n4d__now_ns() - build_t0;
    if (is_auto) {
        char why[N4D_CUDA_ERR_CAP + 2200];
        ops = &n4d__backend_cpu_omp;
        if (model->n_neurons >= AUTO_CUDA_NEURONS && n4d__cuda_check(0, why, sizeof why) == N4D_OK) {
            if (n4d__cuda_self_test(why, sizeof why) == N4D_OK)
                ops = &n4d__backend_cuda;
            else
                n4d__log(model->ctx, N4D_LOG_WARN, "auto backend: %s; running on cpu-omp", why);
        }
    }

    n4d_context *ctx = model->ctx;
    n4d_sim *sim = n4d__calloc(ctx, N4D_MEM_OTHER, 1, sizeof *sim);
    if (!sim)
        return n4d__error(&model->hdr, N4D_E_NOMEM, "out of memory creating a simulation");
    sim->hdr.magic = N4D__MAGIC_SIM;
    sim->model = model;
    sim->ctx = ctx;
    atomic_fetch_add(&model->n_sims, 1);
    sim->seed = o.seed ? o.seed : model->seed;
    sim->dt = model->dt;
    sim->n = model->n_neurons;
    sim->record = o.record_spikes != 0;
    sim->checksum = FNV_OFFSET;
    sim->threads = o.num_threads ? o.num_threads : auto_threads(model);
    if (ops == &n4d__backend_cpu_ref || ops == &n4d__backend_cuda)
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
        st = n4d__error(&model->hdr, N4D_E_LIMIT, "history of %u steps would need more than 1 TB",
                        sim->hist_steps);
        goto fail;
    }
    sim->v = n4d__calloc(ctx, N4D_MEM_NEURONS, N, sizeof(float));
    sim->x1 = n4d__calloc(ctx, N4D_MEM_NEURONS, N, sizeof(float));
    sim->x2 = n4d__calloc(ctx, N4D_MEM_NEURONS, N, sizeof(float));
    sim->iext = n4d__calloc(ctx, N4D_MEM_NEURONS, N, sizeof(float));
    sim->ref = n4d__calloc(ctx, N4D_MEM_NEURONS, N, sizeof(int32_t));
    sim->ring = n4d__calloc(ctx, N4D_MEM_BUFFERS, (size_t)sim->ring_slots * 2 * N, sizeof(int64_t));
    sim->runs = n4d__calloc(ctx, N4D_MEM_OTHER, sim->n_runs ? sim->n_runs : 1, sizeof *sim->runs);
    sim->last_ids = n4d__alloc(ctx, N4D_MEM_RECORDING, N * sizeof(uint32_t));
    if (model->perm) /* spike ids are mapped to user ids and sorted every step */
        sim->sort_tmp = n4d__alloc(ctx, N4D_MEM_RECORDING, N * sizeof(uint32_t));
    if (sim->hist_steps)
        sim->hist = n4d__calloc(ctx, N4D_MEM_RECORDING, (size_t)sim->hist_steps * sim->hist_words,
                                sizeof(uint64_t));
    if (!sim->v || !sim->x1 || !sim->x2 || !sim->iext || !sim->ref || !sim->ring || !sim->runs ||
        !sim->last_ids || (model->perm && !sim->sort_tmp) || (sim->hist_steps && !sim->hist)) {
        st = n4d__error(&model->hdr, N4D_E_NOMEM, "out of memory for the state of %llu neurons",
                        (unsigned long long)sim->n);
        goto fail;
    }
    for (size_t i = 0; i < sim->n_runs; i++) {
        const n4d__run *run = &model->runs[i];
        pop_constants(&model->pops[run->pop], sim->dt, &sim->runs[i]);
        sim->runs[i].first = run->first;
        sim->runs[i].n = run->n;
        sim->runs[i].pop = run->pop;
    }
    if ((st = init_inputs(sim)) || (st = build_senses(sim)))
        goto fail_msg;
    init_state(sim);
    sim->ops = ops;
    if ((st = ops->init(sim))) {
        if (!is_auto || ops != &n4d__backend_cuda)
            goto fail_msg;
        /* auto: a device that cannot take the model (memory) -> cpu-omp */
        n4d__log(ctx, N4D_LOG_WARN, "auto backend: %s; running on cpu-omp", sim->hdr.error);
        n4d__clear_error(&sim->hdr);
        sim->ops = ops = &n4d__backend_cpu_omp;
        sim->threads = o.num_threads ? o.num_threads : auto_threads(model);
        if ((st = ops->init(sim)))
            goto fail_msg;
    }
    *out = sim;
    return N4D_OK;
fail_msg:
    n4d__error(&model->hdr, st, "%s", sim->hdr.error);
fail:
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

const char *n4d_sim_backend(const n4d_sim *sim) { return IS_SIM(sim) ? sim->ops->name : ""; }
int32_t n4d_sim_num_threads(const n4d_sim *sim) { return IS_SIM(sim) ? sim->threads : 0; }
uint64_t n4d_sim_current_step(const n4d_sim *sim) { return IS_SIM(sim) ? sim->step : 0; }
double n4d_sim_dt(const n4d_sim *sim) { return IS_SIM(sim) ? sim->dt : 0.0; }
uint64_t n4d_sim_total_spikes(const n4d_sim *sim) { return IS_SIM(sim) ? sim->total_spikes : 0; }
uint64_t n4d_sim_checksum(const n4d_sim *sim) { return IS_SIM(sim) ? sim->checksum : 0; }

/* Storage module hook: runs in pieces that end where sample_every divides
 * the step count and calls the sampler there. */
static n4d_status run_sampled(n4d_sim *sim, uint64_t steps)
{
    while (steps > 0) {
        uint64_t k = sim->sample_every, left = k - sim->step % k;
        uint64_t n = steps < left ? steps : left;
        n4d_status st = sim->ops->run(sim, n);
        if (st)
            return st;
        steps -= n;
        if (sim->step % k == 0 && (st = sim->sampler(sim->observer_data, sim)))
            return st;
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
    const uint64_t t0 = sim->prof_on ? n4d__now_ns() : 0;
    n4d_status st = sim->sampler && sim->sample_every ? run_sampled(sim, steps)
                                                       : sim->ops->run(sim, steps);
    if (sim->prof_on)
        n4d__prof_lap(sim, N4D_PROFILE_RUN, t0);
    return st;
}

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

enum { VAR_V, VAR_GE, VAR_GI, VAR_U, VAR_IEXT, VAR_REF };

static int var_index(const char *var)
{
    static const char *const names[] = {"v", "ge", "gi", "u", "i_ext", "refractory"};
    for (int i = 0; i < 6; i++)
        if (strcmp(var, names[i]) == 0)
            return i;
    return -1;
}

/* Array holding `var` for population model `model`, or NULL if the model
 * lacks it. */
static float *var_array(n4d_sim *sim, int var, int32_t model)
{
    switch (var) {
    case VAR_V: return sim->v;
    case VAR_GE: return model == N4D_NEURON_LIF_EXP || model == N4D_NEURON_LIF_COND_EXP ? sim->x1 : NULL;
    case VAR_GI: return model == N4D_NEURON_LIF_EXP || model == N4D_NEURON_LIF_COND_EXP ? sim->x2 : NULL;
    case VAR_U: return model == N4D_NEURON_IZHIKEVICH ? sim->x1 : NULL;
    case VAR_IEXT: return sim->iext;
    default: return NULL;
    }
}

static n4d_status state_access(n4d_sim *sim, const char *var, float *out, const float *in,
                               uint64_t count)
{
    if (!IS_SIM(sim))
        return N4D_E_INVALID_ARG;
    n4d__clear_error(&sim->hdr);
    if (!var || (!out && !in))
        return SIM_ERR(sim, N4D_E_INVALID_ARG, "state access: NULL argument");
    int vi = var_index(var);
    if (vi < 0)
        return SIM_ERR(sim, N4D_E_INVALID_ARG,
                       "unknown state variable \"%s\" (expected one of: v, ge, gi, u, i_ext, "
                       "refractory)",
                       var);
    if (count != sim->n)
        return SIM_ERR(sim, N4D_E_RANGE, "state array has %llu entries (expected %llu neurons)",
                       (unsigned long long)count, (unsigned long long)sim->n);
    if (sim->ops->sync) {
        n4d_status st = sim->ops->sync(sim, N4D__SYNC_TO_HOST | N4D__SYNC_STATE);
        if (st)
            return st;
    }
    if (in && sim->cmp) { /* a written state may leave its fixed point: restore every block */
        n4d_status st = n4d__compress_restore_all(sim);
        if (st)
            return st;
    }
    for (size_t ri = 0; ri < sim->n_runs; ri++) {
        const n4d__pop_rt *p = &sim->runs[ri];
        float *arr = var_array(sim, vi, p->model);
        for (uint64_t i = p->first; i < p->first + p->n; i++) {
            const uint64_t id = n4d__to_user(sim->model, i);
            if (vi == VAR_REF) { /* izhikevich has no refractory state */
                const bool has = p->model != N4D_NEURON_IZHIKEVICH;
                if (out)
                    out[id] = has ? (float)sim->ref[i] : NAN;
                else if (has)
                    sim->ref[i] = in[id] > 0 ? (int32_t)in[id] : 0;
            } else if (out) {
                out[id] = arr ? arr[i] : NAN;
            } else if (arr) {
                arr[i] = in[id];
            }
        }
    }
    if (in && vi == VAR_IEXT)
        sim->iext_dirty = true;
    if (in && sim->ops->sync)
        return sim->ops->sync(sim, N4D__SYNC_STATE);
    return N4D_OK;
}

n4d_status n4d_sim_get_state(n4d_sim *sim, const char *var, float *out, uint64_t count)
{
    return state_access(sim, var, out, NULL, count);
}

n4d_status n4d_sim_set_state(n4d_sim *sim, const char *var, const float *values, uint64_t count)
{
    const uint64_t t0 = IS_SIM(sim) && sim->prof_on ? n4d__now_ns() : 0;
    n4d_status st = state_access(sim, var, NULL, values, count);
    if (t0)
        n4d__prof_lap(sim, N4D_PROFILE_INPUT, t0);
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
    const uint64_t t0 = sim->prof_on ? n4d__now_ns() : 0;
    if (sim->ops->sync) {
        n4d_status st = sim->ops->sync(sim, N4D__SYNC_TO_HOST | N4D__SYNC_IEXT);
        if (st)
            return st;
    }
    sim->iext[n4d__to_internal(sim->model, id)] += value;
    sim->iext_dirty = true;
    n4d_status st = sim->ops->sync ? sim->ops->sync(sim, N4D__SYNC_IEXT) : N4D_OK;
    if (t0)
        n4d__prof_lap(sim, N4D_PROFILE_INPUT, t0);
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
    const uint64_t t0 = sim->prof_on ? n4d__now_ns() : 0;
    if (sim->ops->sync) {
        n4d_status st = sim->ops->sync(sim, N4D__SYNC_TO_HOST | N4D__SYNC_IEXT);
        if (st)
            return st;
    }
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
    n4d_status st = sim->ops->sync ? sim->ops->sync(sim, N4D__SYNC_IEXT) : N4D_OK;
    if (t0)
        n4d__prof_lap(sim, N4D_PROFILE_INPUT, t0);
    return st;
}
