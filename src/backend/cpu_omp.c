/* cpu-omp: OpenMP backend. Each block is a contiguous range of the internal
 * neuron order (a spatial slab of the lattice, or whole spatial partitions
 * with a partitioned layout, layout.c); its thread updates the neurons and
 * delivers every spike
 * only to the targets in its block (rows are sorted by target, so a binary
 * search finds the sub-range). No atomics, no races, and the integer sums
 * make the result independent of the thread count. Threads synchronise once
 * per batch of min_delay steps: no spike can affect another neuron sooner.
 * With one OS thread a batch runs without a parallel region (run_batch). */
#include "cpu_common.h"

#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif


typedef struct omp_state {
    int threads;
    int os_threads;    /* OS threads that run the blocks: min(threads, processors) */
    uint32_t batch;    /* steps per synchronisation */
    uint64_t *bounds;  /* threads + 1 block bounds */
    uint32_t *spk;     /* batch * n: step j, block k at spk[j * n + bounds[k]] */
    uint64_t *cnt;     /* threads * batch */
    /* steps of the last batch computed but not yet reported (the report
     * failed for lack of memory): steps pending_step0 + [pending_from, pending_to) */
    uint64_t pending_step0;
    uint32_t pending_from, pending_to;
} omp_state;

/* Reports steps [from, to) of the batch that started at step0; on failure
 * the rest stays pending. */
static n4d_status emit_batch(n4d_sim *sim, omp_state *s, uint64_t step0, uint32_t from, uint32_t to)
{
    for (uint32_t j = from; j < to; j++) {
        n4d__sim_emit_begin(sim, step0 + j);
        for (int kk = 0; kk < s->threads; kk++)
            n4d__sim_emit_ids(sim, s->spk + (size_t)j * sim->n + s->bounds[kk],
                              s->cnt[(size_t)kk * s->batch + j]);
        n4d_status st = n4d__sim_emit_end(sim);
        if (st) {
            bool again = st == N4D_E_NOMEM && sim->step == step0 + j;
            s->pending_step0 = step0;
            s->pending_from = again ? j : j + 1;
            s->pending_to = to;
            return st;
        }
    }
    s->pending_from = s->pending_to = 0;
    return N4D_OK;
}

static uint64_t dist(uint64_t a, uint64_t b)
{
    return a > b ? a - b : b - a;
}

static void omp_fini(n4d_sim *sim)
{
    omp_state *s = sim->backend_state;
    if (!s)
        return;
    n4d__free(sim->ctx, N4D_MEM_BACKEND, s->bounds, ((size_t)s->threads + 1) * sizeof(uint64_t));
    n4d__free(sim->ctx, N4D_MEM_BACKEND, s->spk, ((size_t)s->batch * sim->n + 1) * sizeof(uint32_t));
    n4d__free(sim->ctx, N4D_MEM_BACKEND, s->cnt, (size_t)s->threads * s->batch * sizeof(uint64_t));
    n4d__free(sim->ctx, N4D_MEM_BACKEND, s, sizeof *s);
    sim->backend_state = NULL;
}

static n4d_status omp_init(n4d_sim *sim)
{
    omp_state *s = n4d__calloc(sim->ctx, N4D_MEM_BACKEND, 1, sizeof *s);
    if (!s)
        return n4d__error(&sim->hdr, N4D_E_NOMEM, "cpu-omp: out of memory");
    sim->backend_state = s;
    int T = sim->threads > 0 ? sim->threads : 1;
#ifndef _OPENMP
    T = 1;
#endif
    const n4d_model *m = sim->model;
    if ((uint64_t)T > sim->n && sim->n > 0)
        T = (int)sim->n;
    if (m->n_parts > 1 && (uint32_t)T > m->n_parts)
        T = (int)m->n_parts; /* partitions are the work units */
    sim->threads = T;
    s->threads = T;
    /* The T blocks run on at most as many OS threads as there are
     * processors: more would only spin in the barriers (the blocks, and so
     * the results, are the same). Asked once: omp_get_num_procs is a system
     * call, and a cell lifecycle runs the backend nearly every step. */
    s->os_threads = T;
#ifdef _OPENMP
    const int procs = omp_get_num_procs();
    if (s->os_threads > procs)
        s->os_threads = procs > 0 ? procs : 1;
#endif
    uint32_t b = sim->model->syn.min_delay;
    s->batch = b < N4D__MAX_BATCH_STEPS ? b : N4D__MAX_BATCH_STEPS;
    const uint32_t mb = n4d__mods_max_batch(m); /* a driven modulator's levels are known ahead */
    if (mb < s->batch)
        s->batch = mb;
    s->bounds = n4d__alloc(sim->ctx, N4D_MEM_BACKEND, ((size_t)T + 1) * sizeof(uint64_t));
    s->spk = n4d__alloc(sim->ctx, N4D_MEM_BACKEND, ((size_t)s->batch * sim->n + 1) * sizeof(uint32_t));
    s->cnt = n4d__calloc(sim->ctx, N4D_MEM_BACKEND, (size_t)T * s->batch, sizeof(uint64_t));
    if (!s->bounds || !s->spk || !s->cnt) {
        omp_fini(sim);
        return n4d__error(&sim->hdr, N4D_E_NOMEM, "cpu-omp: out of memory for %d threads", T);
    }
    /* Blocks of about n / T neurons; with partitions, each block is a run of
     * whole partitions (the boundary nearest to the even split). */
    s->bounds[0] = 0;
    s->bounds[T] = sim->n;
    uint32_t prev = 0; /* index of the partition starting the current block */
    for (int k = 1; k < T; k++) {
        const uint64_t goal = sim->n * (uint64_t)k / (uint64_t)T;
        if (m->n_parts <= 1) {
            s->bounds[k] = goal;
            continue;
        }
        uint32_t pb = prev + 1, hi = m->n_parts - (uint32_t)(T - k);
        while (pb < hi && dist(m->part_bounds[pb + 1], goal) <= dist(m->part_bounds[pb], goal))
            pb++;
        s->bounds[k] = m->part_bounds[pb];
        prev = pb;
    }
    return N4D_OK;
}

/* One batch of b steps from step0: the part of thread tid of nth. Called
 * by every thread of the team, or alone outside a parallel region (one OS
 * thread: no region to enter per batch, which with min_delay 1 is every
 * step; the barrier and single constructs then bind to that one thread).
 * *pst: the status of the plastic appends (shared). */
static void run_batch(n4d_sim *sim, omp_state *s, uint64_t step0, uint32_t b, bool ext, bool hooks,
                      uint64_t *ts, n4d_status *pst, int tid, int nth)
{
    const int T = s->threads;
    const uint64_t N = sim->n;
    for (int k = tid; k < T; k += nth) {
        const uint64_t lo = s->bounds[k], hi = s->bounds[k + 1];
        if (ts)
            ts[8 * k] = n4d__now_ns();
        for (uint32_t j = 0; j < b; j++) /* external input is consumed by the first step */
            s->cnt[(size_t)k * s->batch + j] = n4d__cpu_update_range(
                sim, step0 + j, lo, hi, s->spk + (size_t)j * N + lo, ext && j == 0);
        if (ts)
            ts[8 * k + 1] = n4d__now_ns();
    }
#pragma omp barrier
    if (hooks) { /* modules' before-delivery hooks (compression) */
#pragma omp single
        n4d__sim_before_delivery(sim);
    }
    if (sim->mods) { /* the batch's spikes into the driven modulators, in step order */
#pragma omp single
        for (uint32_t j = 0; j < b; j++)
            for (int kk = 0; kk < T; kk++)
                n4d__mods_spikes(sim, step0 + j, s->spk + (size_t)j * N + s->bounds[kk],
                                 s->cnt[(size_t)kk * s->batch + j]);
    }
    if (sim->plastic) { /* the batch's spikes into the histories, in step order */
#pragma omp single
        {
            *pst = n4d__plastic_batch_begin(sim, step0, b);
            for (uint32_t j = 0; j < b && !*pst; j++)
                for (int kk = 0; kk < T && !*pst; kk++)
                    *pst = n4d__plastic_append(sim, step0 + j,
                                               s->spk + (size_t)j * N + s->bounds[kk],
                                               s->cnt[(size_t)kk * s->batch + j]);
        }
    }
    for (int k = tid; k < T && !*pst; k += nth) {
        const uint64_t lo = s->bounds[k], hi = s->bounds[k + 1];
        if (ts)
            ts[8 * k + 2] = n4d__now_ns();
        if (sim->plastic)
            n4d__plastic_flush(sim, (uint32_t)lo, (uint32_t)hi, T == 1);
        for (uint32_t j = 0; j < b; j++)
            for (int kk = 0; kk < T; kk++) {
                const uint32_t *ids = s->spk + (size_t)j * N + s->bounds[kk];
                uint64_t c = s->cnt[(size_t)kk * s->batch + j];
                for (uint64_t i = 0; i < c; i++)
                    n4d__cpu_deliver(sim, ids[i], step0 + j, (uint32_t)lo, (uint32_t)hi, T == 1);
            }
        if (ts)
            ts[8 * k + 3] = n4d__now_ns();
    }
}

static n4d_status omp_run(n4d_sim *sim, uint64_t steps)
{
    omp_state *s = sim->backend_state;
    const int T = s->threads;
    const uint64_t N = sim->n;
    if (s->pending_from < s->pending_to) {
        uint32_t n = s->pending_to - s->pending_from;
        uint32_t take = steps < n ? (uint32_t)steps : n;
        uint32_t to = s->pending_from + take, rest_to = s->pending_to;
        n4d_status st = emit_batch(sim, s, s->pending_step0, s->pending_from, to);
        if (st)
            return st;
        if (to < rest_to) { /* still pending after this (short) run */
            s->pending_from = to;
            s->pending_to = rest_to;
        }
        steps -= take;
    }
    /* profiler: per-thread time stamps (start, updated, delivery start, delivered) */
    n4d__timing *const prof = sim->timing;
    uint64_t *const ts = prof ? prof->stamps : NULL;
    const int os_threads = s->os_threads;
    while (steps > 0) {
        const uint32_t b = steps < s->batch ? (uint32_t)steps : s->batch;
        const uint64_t step0 = sim->step;
        const bool ext = sim->iext_dirty;
        const bool hooks = sim->n_hooks != 0;
        n4d_status pst = n4d__poisson_prepare(sim, step0, b);
        if (pst)
            return pst;
        uint64_t t0 = ts ? n4d__now_ns() : 0;
        if (sim->mods)
            n4d__mods_batch_begin(sim, step0, b);
if (os_threads == 1) {
            run_batch(sim, s, step0, b, ext, hooks, ts, &pst, 0, 1);
        } else {
#pragma omp parallel num_threads(os_threads)
            {
                int tid = 0, nth = 1;
#ifdef _OPENMP
                tid = omp_get_thread_num();
                nth = omp_get_num_threads();
#endif
                run_batch(sim, s, step0, b, ext, hooks, ts, &pst, tid, nth);
            }
        }
        sim->iext_dirty = false;
        if (pst)
            return pst; /* the histories could not grow: the batch is not reported */
        if (sim->plastic)
            for (uint32_t j = 0; j < b; j++)
                for (int kk = 0; kk < T; kk++)
                    n4d__plastic_after(sim, step0 + j, s->spk + (size_t)j * N + s->bounds[kk],
                                       s->cnt[(size_t)kk * s->batch + j]);
        if (sim->mods)
            n4d__mods_batch_end(sim);
        if (ts)
            t0 = n4d__prof_threads(prof, T, t0);
        n4d_status st = emit_batch(sim, s, step0, 0, b);
        if (ts)
            n4d__prof_lap(prof, N4D_PROFILE_RECORDING, t0);
        if (st)
            return st;
        steps -= b;
    }
    return N4D_OK;
}

static const n4d__backend_ops omp_ops = {"cpu-omp", omp_init, omp_fini, omp_run, NULL};

/* "auto" runs on it when no device backend takes the model. */
const n4d__backend n4d__backend_cpu_omp = {
    .name = "cpu-omp",
    .abi = N4D__BACKEND_ABI,
    .caps = N4D__CAP_THREADS | N4D__CAP_COMPRESSION | N4D__CAP_PARTITIONS | N4D__CAP_PLASTICITY |
            N4D__CAP_SPARSE_POISSON,
    .auto_priority = 10,
    .ops = &omp_ops,
};
