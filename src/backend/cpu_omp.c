/* cpu-omp: OpenMP backend. Each block is a contiguous range of the internal
 * neuron order (a spatial slab of the lattice, or whole spatial partitions
 * with a partitioned layout, layout.c); its thread updates the neurons and
 * delivers every spike only to the targets in its block (rows are sorted by
 * target; where each block's part of a segment starts is found once, when
 * the sim is made: n4d__cpu_cuts). No atomics, no races, and the integer sums
 * make the result independent of the thread count. Threads synchronise once
 * per batch of min_delay steps: no spike can affect another neuron sooner.
 * With one OS thread a batch runs without a parallel region (run_batch). */
#include "cpu_common.h"

#include <stdio.h>
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
    /* The "mpi" backend (docs/distributed.md): the blocks cover this
     * rank's neurons only; after the update the batch's spikes of every
     * rank are gathered into gspk (step j: gspk[goff[j] .. goff[j+1]),
     * ascending: the ranks own ascending internal ranges), and they are
     * what is delivered, reported and fed to the plastic rules. */
    bool dist;
    uint32_t *gspk, *sendbuf, *recvbuf;
    size_t gcap, scap, rcap; /* entries */
    uint64_t *goff, *gpos;     /* batch + 1 */
    uint64_t *counts;          /* per rank: bytes */
    /* with several blocks and where small enough: T - 1 cuts per segment
     * (n4d__cpu_cuts), 16- or 32-bit; NULL: searched */
    void *cut;
    size_t cut_bytes;
    bool cut16;
} omp_state;

/* The spike lists of step j of the batch: one per block, or with dist the
 * one gathered list (list 0). */
static inline int n_lists(const omp_state *s) { return s->dist ? 1 : s->threads; }
static inline const uint32_t *list_ids(const n4d_sim *sim, const omp_state *s, uint32_t j, int kk,
                                       uint64_t *c)
{
    if (s->dist) {
        *c = s->goff[j + 1] - s->goff[j];
        return s->gspk + s->goff[j];
    }
    *c = s->cnt[(size_t)kk * s->batch + j];
    return s->spk + (size_t)j * sim->n + s->bounds[kk];
}

/* Reports steps [from, to) of the batch that started at step0; on failure
 * the rest stays pending. */
static n4d_status emit_batch(n4d_sim *sim, omp_state *s, uint64_t step0, uint32_t from, uint32_t to)
{
    for (uint32_t j = from; j < to; j++) {
        n4d__sim_emit_begin(sim, step0 + j);
        for (int kk = 0; kk < n_lists(s); kk++) {
            uint64_t c;
            const uint32_t *ids = list_ids(sim, s, j, kk, &c);
            n4d__sim_emit_ids(sim, ids, c);
        }
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
    if (s->dist) {
        const int32_t R = sim->model->comm.size;
        n4d__free(sim->ctx, N4D_MEM_BACKEND, s->gspk, s->gcap * sizeof(uint32_t));
        n4d__free(sim->ctx, N4D_MEM_BACKEND, s->sendbuf, s->scap * sizeof(uint32_t));
        n4d__free(sim->ctx, N4D_MEM_BACKEND, s->recvbuf, s->rcap * sizeof(uint32_t));
        n4d__free(sim->ctx, N4D_MEM_BACKEND, s->goff, ((size_t)s->batch + 1) * sizeof(uint64_t));
        n4d__free(sim->ctx, N4D_MEM_BACKEND, s->gpos, ((size_t)s->batch + 1) * sizeof(uint64_t));
        n4d__free(sim->ctx, N4D_MEM_BACKEND, s->counts, (size_t)R * sizeof(uint64_t));
    }
    n4d__free(sim->ctx, N4D_MEM_BACKEND, s->cut, s->cut_bytes);
    n4d__free(sim->ctx, N4D_MEM_BACKEND, s, sizeof *s);
    sim->backend_state = NULL;
}

/* The cut table of every segment by the inner block bounds (n4d__cpu_cuts),
 * where it takes at most half a byte per synapse (a sixteenth of the
 * synapses' own storage): models with many short segments (per-synapse
 * delays) or many threads search instead. */
static n4d_status make_cuts(n4d_sim *sim, omp_state *s, const char *name)
{
    const n4d__syn_view *syn = &sim->syn;
    const uint64_t G = syn->seg_ptr[sim->model->n_neurons], S = syn->seg_off[G];
    const uint32_t K = (uint32_t)s->threads - 1;
    uint64_t longest = 0;
    for (uint64_t g = 0; g < G; g++)
        if (syn->seg_off[g + 1] - syn->seg_off[g] > longest)
            longest = syn->seg_off[g + 1] - syn->seg_off[g];
    s->cut16 = longest < 65536;
    const size_t bytes = (G ? G : 1) * K * (s->cut16 ? sizeof(uint16_t) : sizeof(uint32_t));
    if (bytes > S / 2)
        return N4D_OK;
    if (!(s->cut = n4d__alloc(sim->ctx, N4D_MEM_BACKEND, bytes)))
        return n4d__error(&sim->hdr, N4D_E_NOMEM,
                          "%s: out of memory for the thread cuts of %llu synapse segments", name,
                          (unsigned long long)G);
    s->cut_bytes = bytes;
    uint16_t *c16 = s->cut16 ? s->cut : NULL;
    uint32_t *c32 = s->cut16 ? NULL : s->cut;
#pragma omp parallel for schedule(static) num_threads(s->os_threads)
    for (int64_t g = 0; g < (int64_t)G; g++) {
        const uint64_t j0 = syn->seg_off[g], j1 = syn->seg_off[g + 1];
        uint64_t j = j0;
        for (uint32_t k = 0; k < K; k++) {
            j = n4d__lower_bound(syn->target, j, j1, (uint32_t)s->bounds[k + 1]);
            if (c16)
                c16[(uint64_t)g * K + k] = (uint16_t)(j - j0);
            else
                c32[(uint64_t)g * K + k] = (uint32_t)(j - j0);
        }
    }
    return N4D_OK;
}

/* cpu-omp over neurons [lo, hi) = partitions [plo, phi); dist: the "mpi"
 * backend's rank. */
static n4d_status init_range(n4d_sim *sim, bool dist_mode)
{
    const char *name = dist_mode ? "mpi" : "cpu-omp";
    omp_state *s = n4d__calloc(sim->ctx, N4D_MEM_BACKEND, 1, sizeof *s);
    if (!s)
        return n4d__error(&sim->hdr, N4D_E_NOMEM, "%s: out of memory", name);
    sim->backend_state = s;
    s->dist = dist_mode;
    int T = sim->threads > 0 ? sim->threads : 1;
#ifndef _OPENMP
    T = 1;
#endif
    const n4d_model *m = sim->model;
    const uint64_t lo = n4d__own_lo(m), hi = n4d__own_hi(m), nr = hi - lo;
    const uint32_t plo = m->has_comm ? m->own_part_lo : 0,
                   phi = m->has_comm ? m->own_part_hi : (m->n_parts ? m->n_parts : 1);
    if ((uint64_t)T > nr && nr > 0)
        T = (int)nr;
    /* partitions are the work units; a rank with fewer partitions than
     * threads splits its range evenly instead (the results are the same) */
    const bool by_parts = m->n_parts > 1 && (!dist_mode || phi - plo >= (uint32_t)T);
    if (by_parts && (uint32_t)T > phi - plo)
        T = (int)(phi - plo);
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
    /* (calloc: with dist only this rank's part is ever touched, so the
     * rest of the pages are never made resident) */
    s->spk = n4d__calloc(sim->ctx, N4D_MEM_BACKEND, (size_t)s->batch * sim->n + 1, sizeof(uint32_t));
    s->cnt = n4d__calloc(sim->ctx, N4D_MEM_BACKEND, (size_t)T * s->batch, sizeof(uint64_t));
    if (dist_mode) {
        s->goff = n4d__calloc(sim->ctx, N4D_MEM_BACKEND, (size_t)s->batch + 1, sizeof(uint64_t));
        s->gpos = n4d__calloc(sim->ctx, N4D_MEM_BACKEND, (size_t)s->batch + 1, sizeof(uint64_t));
        s->counts = n4d__calloc(sim->ctx, N4D_MEM_BACKEND, (size_t)m->comm.size, sizeof(uint64_t));
    }
    if (!s->bounds || !s->spk || !s->cnt || (dist_mode && (!s->goff || !s->gpos || !s->counts))) {
        omp_fini(sim);
        return n4d__error(&sim->hdr, N4D_E_NOMEM, "%s: out of memory for %d threads", name, T);
    }
    /* Blocks of about nr / T neurons; with partitions, each block is a run
     * of whole partitions (the boundary nearest to the even split). */
    s->bounds[0] = lo;
    s->bounds[T] = hi;
    uint32_t prev = plo; /* index of the partition starting the current block */
    for (int k = 1; k < T; k++) {
        const uint64_t goal = lo + nr * (uint64_t)k / (uint64_t)T;
        if (!by_parts) {
            s->bounds[k] = goal;
            continue;
        }
        uint32_t pb = prev + 1, last = phi - (uint32_t)(T - k);
        while (pb < last && dist(m->part_bounds[pb + 1], goal) <= dist(m->part_bounds[pb], goal))
            pb++;
        s->bounds[k] = m->part_bounds[pb];
        prev = pb;
    }
    const n4d_status st = T > 1 ? make_cuts(sim, s, name) : N4D_OK;
    if (st)
        omp_fini(sim);
    return st;
}

static n4d_status omp_init(n4d_sim *sim) { return init_range(sim, false); }

/* The "mpi" backend: the model must have been built with a communicator
 * (the build is collective, so a backend cannot make it distributed
 * afterwards). */
static n4d_status mpi_init(n4d_sim *sim)
{
    const n4d_model *m = sim->model;
    if (!m->has_comm)
        return n4d__error(&sim->hdr, N4D_E_UNSUPPORTED,
                          "backend \"mpi\": the model was built without a communicator (call "
                          "n4d_model_set_comm before n4d_model_build, or run the n4d-mpi program "
                          "under mpirun)");
    if (sim->life)
        return n4d__error(&sim->hdr, N4D_E_UNSUPPORTED,
                          "backend \"mpi\": the cell lifecycle is not distributed yet (it "
                          "mutates the model's neurons and weights on one process); use cpu-omp");
    if (sim->homeo)
        return n4d__error(&sim->hdr, N4D_E_UNSUPPORTED,
                          "backend \"mpi\": homeostatic scaling is not distributed yet; use "
                          "cpu-omp");
    return init_range(sim, true);
}

/* Grows *buf (entries *cap) to hold `need` entries. */
static bool reserve(n4d_sim *sim, uint32_t **buf, size_t *cap, uint64_t need)
{
    return n4d__grow(sim->ctx, N4D_MEM_BACKEND, (void **)buf, cap, need, sizeof **buf);
}

/* The "mpi" backend's exchange after the update of a batch of b steps
 * (one thread, the one that called the run: MPI_THREAD_FUNNELED): this
 * rank's spikes per step (b counts, then the ids of step 0, 1, ...) to
 * every rank, then the gathered lists in gspk. Two collectives: the sizes,
 * then the spikes. */
static n4d_status exchange(n4d_sim *sim, omp_state *s, uint32_t b)
{
    const n4d_model *m = sim->model;
    const n4d_comm *c = &m->comm;
    const int32_t R = c->size;
    uint64_t local = 0;
    for (int k = 0; k < s->threads; k++)
        for (uint32_t j = 0; j < b; j++)
            local += s->cnt[(size_t)k * s->batch + j];
    if (!reserve(sim, &s->sendbuf, &s->scap, b + local))
        return n4d__error(&sim->hdr, N4D_E_NOMEM, "mpi: out of memory for %llu spikes to send",
                          (unsigned long long)local);
    uint64_t at = b;
    for (uint32_t j = 0; j < b; j++) {
        uint64_t n = 0;
        for (int k = 0; k < s->threads; k++) {
            const uint64_t ck = s->cnt[(size_t)k * s->batch + j];
            memcpy(s->sendbuf + at, s->spk + (size_t)j * sim->n + s->bounds[k], ck * sizeof(uint32_t));
            at += ck;
            n += ck;
        }
        s->sendbuf[j] = (uint32_t)n; /* at most the rank's neurons: fits */
    }
    const uint64_t bytes = at * sizeof(uint32_t);
    const uint64_t t0 = n4d__now_ns();
    n4d_status st = N4D_OK;
    uint64_t total = bytes;
    if (R > 1) {
        st = c->allgather(c->user, &bytes, sizeof bytes, s->counts);
        total = 0;
        for (int32_t r = 0; r < R && !st; r++)
            total += s->counts[r];
        if (!st && !reserve(sim, &s->recvbuf, &s->rcap, total / sizeof(uint32_t)))
            return n4d__error(&sim->hdr, N4D_E_NOMEM, "mpi: out of memory for %llu bytes of spikes",
                              (unsigned long long)total);
        if (!st)
            st = c->allgatherv(c->user, s->sendbuf, s->counts, s->recvbuf);
    } else {
        s->counts[0] = bytes;
    }
    sim->dist.exchange_s += (double)(n4d__now_ns() - t0) * 1e-9;
    if (st)
        return n4d__error(&sim->hdr, st, "mpi: rank %d: the spike exchange at step %llu failed (%s)",
                          c->rank, (unsigned long long)sim->step, n4d_status_string(st));
    sim->dist.exchanges++;
    sim->dist.bytes_sent += bytes;
    sim->dist.bytes_received += total;
    const uint32_t *recv = R > 1 ? s->recvbuf : s->sendbuf;
    /* step j's list: rank 0's ids of step j, rank 1's, ... */
    const uint64_t words = total / sizeof(uint32_t);
    if (!reserve(sim, &s->gspk, &s->gcap, words + 1))
        return n4d__error(&sim->hdr, N4D_E_NOMEM, "mpi: out of memory for %llu gathered spikes",
                          (unsigned long long)words);
    memset(s->goff, 0, ((size_t)b + 1) * sizeof(uint64_t));
    uint64_t off = 0;
    for (int32_t r = 0; r < R; r++) {
        for (uint32_t j = 0; j < b; j++)
            s->goff[j + 1] += recv[off + j];
        off += s->counts[r] / sizeof(uint32_t);
    }
    for (uint32_t j = 0; j < b; j++) {
        s->goff[j + 1] += s->goff[j];
        s->gpos[j] = s->goff[j];
    }
    off = 0;
    for (int32_t r = 0; r < R; r++) {
        const uint32_t *blk = recv + off;
        uint64_t p = b;
        for (uint32_t j = 0; j < b; j++) {
            memcpy(s->gspk + s->gpos[j], blk + p, (size_t)blk[j] * sizeof(uint32_t));
            s->gpos[j] += blk[j];
            p += blk[j];
        }
        off += s->counts[r] / sizeof(uint32_t);
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
    if (s->dist) { /* every rank's spikes of the batch (the calling thread: funneled MPI) */
#pragma omp master
        *pst = exchange(sim, s, b);
#pragma omp barrier
    }
    if (hooks) { /* modules' before-delivery hooks (compression) */
#pragma omp single
        n4d__sim_before_delivery(sim);
    }
    if (sim->mods) { /* the batch's spikes into the driven modulators, in step order */
#pragma omp single
        for (uint32_t j = 0; j < b && !*pst; j++)
            for (int kk = 0; kk < n_lists(s); kk++) {
                uint64_t c;
                const uint32_t *ids = list_ids(sim, s, j, kk, &c);
                n4d__mods_spikes(sim, step0 + j, ids, c);
            }
    }
    if (sim->plastic) { /* the batch's spikes into the histories, in step order */
#pragma omp single
        if (!*pst) {
            *pst = n4d__plastic_batch_begin(sim, step0, b);
            for (uint32_t j = 0; j < b && !*pst; j++)
                for (int kk = 0; kk < n_lists(s) && !*pst; kk++) {
                    uint64_t c;
                    const uint32_t *ids = list_ids(sim, s, j, kk, &c);
                    *pst = n4d__plastic_append(sim, step0 + j, ids, c);
                }
        }
    }
    for (int k = tid; k < T && !*pst; k += nth) {
        const uint64_t lo = s->bounds[k], hi = s->bounds[k + 1];
        if (ts)
            ts[8 * k + 2] = n4d__now_ns();
        if (sim->plastic)
            n4d__plastic_flush(sim, (uint32_t)lo, (uint32_t)hi, T == 1);
        const n4d__cpu_cuts cuts = {s->cut16 ? s->cut : NULL, s->cut16 ? NULL : s->cut,
                                    (uint32_t)T - 1, (uint32_t)k, (uint32_t)lo, (uint32_t)hi};
        for (uint32_t j = 0; j < b; j++)
            for (int kk = 0; kk < n_lists(s); kk++) {
                uint64_t c;
                const uint32_t *ids = list_ids(sim, s, j, kk, &c);
                n4d__cpu_deliver_list(sim, ids, c, step0 + j, T > 1 ? &cuts : NULL);
            }
        if (ts)
            ts[8 * k + 3] = n4d__now_ns();
    }
}

/* The "mpi" backend at the start of a run: external input added on one
 * rank (n4d_sim_add_input, n4d_sim_feed_sense) to neurons that another rank
 * owns goes to the owner, as (internal index, float bits) pairs; the
 * sender's copy is cleared (it never updates those neurons). One small
 * collective per run, none per batch: input changes only between runs. */
static n4d_status exchange_input(n4d_sim *sim, omp_state *s)
{
    const n4d_model *m = sim->model;
    const n4d_comm *c = &m->comm;
    const int32_t R = c->size;
    const uint64_t lo = n4d__own_lo(m), hi = n4d__own_hi(m);
    uint64_t pairs = 0;
    if (sim->iext_dirty)
        for (uint64_t i = 0; i < sim->n; i++)
            pairs += (i < lo || i >= hi) && sim->iext[i] != 0.0f;
    if (!reserve(sim, &s->sendbuf, &s->scap, 2 * pairs + 1))
        return n4d__error(&sim->hdr, N4D_E_NOMEM, "mpi: out of memory for %llu inputs to send",
                          (unsigned long long)pairs);
    uint64_t k = 0;
    if (pairs)
        for (uint64_t i = 0; i < sim->n; i++)
            if ((i < lo || i >= hi) && sim->iext[i] != 0.0f) {
                s->sendbuf[k++] = (uint32_t)i;
                memcpy(&s->sendbuf[k++], &sim->iext[i], sizeof(float));
                sim->iext[i] = 0.0f;
            }
    const uint64_t bytes = k * sizeof(uint32_t);
    const uint64_t t0 = n4d__now_ns();
    n4d_status st = c->allgather(c->user, &bytes, sizeof bytes, s->counts);
    uint64_t total = 0;
    for (int32_t r = 0; r < R && !st; r++)
        total += s->counts[r];
    if (!st && total) {
        if (!reserve(sim, &s->recvbuf, &s->rcap, total / sizeof(uint32_t) + 1))
            return n4d__error(&sim->hdr, N4D_E_NOMEM, "mpi: out of memory for %llu bytes of input",
                              (unsigned long long)total);
        st = c->allgatherv(c->user, s->sendbuf, s->counts, s->recvbuf);
    }
    sim->dist.exchange_s += (double)(n4d__now_ns() - t0) * 1e-9;
    if (st)
        return n4d__error(&sim->hdr, st, "mpi: rank %d: the input exchange at step %llu failed (%s)",
                          c->rank, (unsigned long long)sim->step, n4d_status_string(st));
    sim->dist.bytes_sent += bytes;
    sim->dist.bytes_received += total;
    for (uint64_t w = 0; w + 2 <= total / sizeof(uint32_t); w += 2) {
        const uint32_t i = s->recvbuf[w];
        if (i < lo || i >= hi)
            continue;
        float v;
        memcpy(&v, &s->recvbuf[w + 1], sizeof v);
        sim->iext[i] += v; /* in rank order */
        sim->iext_dirty = true;
    }
    return N4D_OK;
}

static n4d_status omp_run(n4d_sim *sim, uint64_t steps)
{
    omp_state *s = sim->backend_state;
    const int T = s->threads;
    if (s->dist && sim->model->comm.size > 1) {
        n4d_status st = exchange_input(sim, s);
        if (st)
            return st;
    }
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
        const uint64_t tb = s->dist ? n4d__now_ns() : 0;
        const double ex0 = sim->dist.exchange_s;
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
        if (s->dist) /* update + delivery: the batch's wall time less the collectives' */
            sim->dist.compute_s +=
                (double)(n4d__now_ns() - tb) * 1e-9 - (sim->dist.exchange_s - ex0);
        sim->iext_dirty = false;
        if (pst)
            return pst; /* the histories could not grow: the batch is not reported */
        if (sim->plastic)
            for (uint32_t j = 0; j < b; j++)
                for (int kk = 0; kk < n_lists(s); kk++) {
                    uint64_t c;
                    const uint32_t *ids = list_ids(sim, s, j, kk, &c);
                    n4d__plastic_after(sim, step0 + j, ids, c);
                }
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
static const n4d__backend_ops mpi_ops = {"mpi", mpi_init, omp_fini, omp_run, NULL};

static n4d_status mpi_probe(int32_t device, int for_auto, char *msg, size_t cap)
{
    (void)device;
    (void)for_auto;
    if (n4d__dist_comm_seen())
        return N4D_OK;
    if (msg && cap)
        snprintf(msg, cap, "no communicator: the \"mpi\" backend runs models built with "
                           "n4d_model_set_comm (the n4d-mpi program under mpirun)");
    return N4D_E_NOT_BUILT;
}

/* The distributed backend: cpu-omp on this rank's partitions, the spikes of
 * every batch exchanged over the model's communicator (docs/distributed.md).
 * Never chosen by "auto": the model must be built for it. */
const n4d__backend n4d__backend_mpi = {
    .name = "mpi",
    .abi = N4D__BACKEND_ABI,
    .caps = N4D__CAP_THREADS | N4D__CAP_PARTITIONS | N4D__CAP_PLASTICITY | N4D__CAP_SPARSE_POISSON,
    .auto_priority = 0,
    .probe = mpi_probe,
    .ops = &mpi_ops,
};

/* "auto" runs on it when no device backend takes the model. */
const n4d__backend n4d__backend_cpu_omp = {
    .name = "cpu-omp",
    .abi = N4D__BACKEND_ABI,
    .caps = N4D__CAP_THREADS | N4D__CAP_COMPRESSION | N4D__CAP_PARTITIONS | N4D__CAP_PLASTICITY |
            N4D__CAP_SPARSE_POISSON,
    .auto_priority = 10,
    .ops = &omp_ops,
};
