/* cpu-omp's neuron update over an id range (vectorised kernels, Poisson
 * input, compressed blocks skipped) and spike delivery. cpu-ref has its own
 * plain loops (cpu_ref.c): the two are compared bit for bit. */
#ifndef N4D_CPU_COMMON_H
#define N4D_CPU_COMMON_H

#include "backend.h"
#include "cpu_kernels.h"
#include "modulators.h"
#include "lifecycle.h"
#include "plastic.h"
#include "homeo.h"
#include "poisson.h"
#include "inputs.h"
#include "ring.h"

#include <string.h>

/* The registry entries of the CPU backends (registry_builtin.c). */
extern const n4d__backend n4d__backend_cpu_ref;
extern const n4d__backend n4d__backend_cpu_omp;
/* The distributed backend (cpu_omp.c, docs/distributed.md). */
extern const n4d__backend n4d__backend_mpi;

/* Whether neurons [lo, hi) have no input this step (ring slot, spilled
 * values, and the external input when use_iext, all zero bits). */
static inline bool n4d__cpu_quiet(const n4d_sim *sim, uint64_t step, uint64_t lo, uint64_t hi,
                                  bool use_iext)
{
    if (lo < hi && n4d__ring_spilled(sim, step, lo, hi))
        return false;
    const uint32_t slot = (uint32_t)(step % sim->ring_slots);
    const int32_t *re = n4d__ring_row(sim, slot, 0), *ri = n4d__ring_row(sim, slot, 1);
    int32_t acc = 0;
    for (uint64_t i = lo; i < hi; i++)
        acc |= re[i] | ri[i];
    if (use_iext) {
        uint32_t bits = 0;
        for (uint64_t i = lo; i < hi; i++) {
            uint32_t w;
            memcpy(&w, &sim->iext[i], sizeof w);
            bits |= w;
        }
        acc |= (int32_t)bits;
    }
    return acc == 0;
}

/* The Poisson counts of neurons [i0, i0 + n) (n <= 256, user id = internal
 * index) for draws (purpose, ctr) and table t: the draws and the table's
 * first 8 entries in vectorised blocks, the rare larger counts searched on
 * (the same numbers as n4d__poisson_inv). */
static inline void n4d__cpu_poisson_counts(const n4d_sim *sim, uint32_t purpose, uint64_t ctr,
                                           const n4d__poisson_cdf *t, uint64_t i0, uint64_t n,
                                           int32_t *cnt)
{
    uint64_t u53[256];
    n4d__kernel_poisson_count8(sim->seed, purpose, ctr, (uint32_t)i0, n, t->thr, cnt, u53);
    for (uint64_t j = 0; j < n; j++)
        if (cnt[j] == 8)
            cnt[j] = (int32_t)n4d__poisson_count_from(t, 8,
                                                      (double)u53[j] * (1.0 / 9007199254740992.0));
}

/* n4d__poisson_block_ring for neurons [a, b) with the counts from the
 * block table in vectorised blocks where user id = internal index (the same
 * numbers as n4d__poisson_block_count). */
static inline void n4d__cpu_poisson_block(n4d_sim *sim, size_t k, uint64_t step, uint64_t a,
                                          uint64_t b)
{
    const n4d__poisson_rt *in = &sim->poisson[k];
    if (sim->model->perm || in->block_parts != 1) {
        n4d__poisson_block_ring(sim, k, step, a, b);
        return;
    }
    const n4d__poisson_cdf *t = &sim->pcdf[k];
    const uint64_t blk = step >> in->block_log2;
    int32_t cnt[256];
    for (uint64_t i0 = a; i0 < b; i0 += 256) {
        const uint64_t n = b - i0 < 256 ? b - i0 : 256;
        n4d__cpu_poisson_counts(sim, in->purpose_count, blk, t, i0, n, cnt);
        for (uint64_t j = 0; j < n; j++)
            if (cnt[j])
                n4d__poisson_ring_events(sim, in, (uint32_t)(i0 + j), (uint32_t)(i0 + j), blk,
                                         (uint32_t)cnt[j]);
    }
}

/* Adds the Poisson events of population p's inputs active at `step` to
 * neurons [a, b) in the step's ring slot, and at the first step of a sparse
 * input's block (block_ring) the whole block's events to the slots of their
 * steps (exact integer sums: the same totals as adding them inside the
 * update). */
static inline void n4d__cpu_poisson_add(n4d_sim *sim, const n4d__pop_rt *p, uint64_t step,
                                        uint64_t a, uint64_t b)
{
    const uint32_t slot = (uint32_t)(step % sim->ring_slots);
    for (size_t k = 0; k < sim->n_poisson; k++) {
        const n4d__poisson_rt *in = &sim->poisson[k];
        if (in->pop != p->pop)
            continue;
        if (in->sparse && in->block_ring) { /* a block's events at its first step */
            if (n4d__poisson_block_starts(in, step))
                n4d__cpu_poisson_block(sim, k, step, a, b);
            continue;
        }
        if (step < in->step_start || step >= in->step_stop)
            continue;
        int32_t *acc = n4d__ring_row(sim, slot, in->weight_q < 0);
        if (in->sparse) { /* the step's events, generated before the batch */
            n4d__poisson_sparse_add(sim, k, step, a, b, acc);
            continue;
        }
        const n4d__poisson_cdf *t = &sim->pcdf[k];
        if (!sim->model->perm && in->parts == 1) {
            /* user id = internal index: vectorised counts (the same
             * numbers as n4d__poisson_events) */
            int32_t cnt[256];
            for (uint64_t i0 = a; i0 < b; i0 += 256) {
                const uint64_t n = b - i0 < 256 ? b - i0 : 256;
                n4d__cpu_poisson_counts(sim, in->purpose, step, t, i0, n, cnt);
                if (!n4d__kernel_add_counts(acc + i0, cnt, n, in->weight_q))
                    for (uint64_t j = 0; j < n; j++) /* a sum leaves int32: exactly */
                        if (cnt[j])
                            n4d__ring_add(sim, acc, (uint32_t)(i0 + j),
                                          (int64_t)cnt[j] * in->weight_q);
            }
            continue;
        }
        for (uint64_t i = a; i < b; i++) {
            /* keyed by user id: the same draws in any layout */
            const uint64_t ev = n4d__poisson_events_cdf(in, t, sim->seed,
                                                        (uint32_t)n4d__to_user(sim->model, i), step);
            if (ev)
                n4d__ring_add(sim, acc, (uint32_t)i, (int64_t)ev * in->weight_q);
        }
    }
}

/* Neurons per chunk of the exact (int64) path of n4d__cpu_update_part. */
#define N4D__WIDE_CHUNK 512

/* Updates neurons [a, b) of run r, whose constants for this step are p
 * (see n4d__cpu_update_range). Poisson events and spike inputs are added
 * to the ring slot first (exact: ring.h), then the common case reads the
 * int32 slot in the vectorised kernel. Homeostatic scaling (which scales
 * the whole sum) and a slot with spilled values take the exact path
 * instead: chunk by chunk, the sums as int64 (n4d__ring_take), then the
 * kernel. */
static inline uint64_t n4d__cpu_update_part(n4d_sim *sim, size_t r, const n4d__pop_rt *p,
                                            uint64_t step, uint64_t a, uint64_t b, uint32_t *spk,
                                            bool use_iext, float dc, float gain)
{
    const uint32_t slot = (uint32_t)(step % sim->ring_slots);
    n4d__kernel_args args = {sim->v,
                             {0},
                             use_iext ? sim->iext : NULL,
                             sim->ref,
                             n4d__ring_row(sim, slot, 0),
                             n4d__ring_row(sim, slot, 1),
                             NULL,
                             NULL,
                             sim->syn.inv_scale,
                             dc,
                             gain};
    for (int j = 0; j < N4D__NX; j++)
        args.x[j] = sim->x[j];
    if (sim->n_poisson)
        n4d__cpu_poisson_add(sim, p, step, a, b);
    if (sim->n_xin && n4d__xin_add(sim, p->pop, step, a, b, sim->iext))
        args.iext = sim->iext; /* a current input wrote it: the kernel reads and clears it */
    const bool homeo = n4d__homeo_on(sim, r);
    if (!homeo && !n4d__ring_spilled(sim, step, a, b) && n4d__kernel_narrow_ok(sim->syn.inv_scale))
        return n4d__kernel_update(p, &args, a, b, spk);
    int64_t we[N4D__WIDE_CHUNK], wi[N4D__WIDE_CHUNK];
    args.wide_e = we;
    args.wide_i = wi;
    uint64_t ns = 0;
    for (uint64_t c0 = a; c0 < b; c0 += N4D__WIDE_CHUNK) {
        const uint64_t c1 = b - c0 < N4D__WIDE_CHUNK ? b : c0 + N4D__WIDE_CHUNK;
        n4d__ring_take(sim, step, c0, c1, we, wi);
        if (homeo) /* every excitatory input of the step is in we now */
            for (uint64_t i = c0; i < c1; i++)
                we[i - c0] = n4d__homeo_scaled(sim, i, we[i - c0]);
        const uint64_t nc = n4d__kernel_update(p, &args, c0, c1, spk + ns);
        if (homeo)
            n4d__homeo_after(sim, r, step, c0, c1, spk + ns, nc);
        ns += nc;
    }
    return ns;
}

/* Whether block k ([lo, hi) of it is this thread's part) is updated this
 * step: a SKIP block that input reaches is woken first (one thread moves it
 * to WAKING and restores it; a thread sharing the block waits for WOKEN). */
static inline bool n4d__cpu_block_live(n4d_sim *sim, const n4d__skip_map *sk, size_t k,
                                       uint64_t step, uint64_t lo, uint64_t hi, bool use_iext)
{
    uint8_t mode = atomic_load_explicit(&sk->mode[k], memory_order_acquire);
    if (mode == N4D__SKIP_LIVE || mode == N4D__SKIP_WOKEN)
        return true;
    if (mode == N4D__SKIP_SKIP) {
        if (n4d__cpu_quiet(sim, step, lo, hi, use_iext))
            return false;
        uint8_t expect = N4D__SKIP_SKIP;
        if (atomic_compare_exchange_strong_explicit(&sk->mode[k], &expect, N4D__SKIP_WAKING,
                                                    memory_order_acq_rel, memory_order_acquire)) {
            sk->wake(sk->data, sim, k);
            atomic_store_explicit(&sk->mode[k], N4D__SKIP_WOKEN, memory_order_release);
            return true;
        }
    }
    /* another thread wakes it */
    while (atomic_load_explicit(&sk->mode[k], memory_order_acquire) == N4D__SKIP_WAKING) {
    }
    return true;
}

/* Updates neurons [lo, hi) for `step`, consuming the ring slot of the step
 * and, when use_iext, the external input (else it is known to be zero);
 * writes the ids that spiked (ascending) to spk and returns their count. */
static inline uint64_t n4d__cpu_update_range(n4d_sim *sim, uint64_t step, uint64_t lo, uint64_t hi,
                                             uint32_t *spk, bool use_iext)
{
    uint64_t ns = 0;
    for (size_t ri_ = 0; ri_ < sim->n_runs; ri_++) {
        n4d__pop_rt pm;
        float gain;
        const n4d__pop_rt *p = n4d__mods_run(sim, &sim->runs[ri_], step, &pm, &gain);
        uint64_t a = p->first > lo ? p->first : lo;
        uint64_t b = p->first + p->n < hi ? p->first + p->n : hi;
        if (a >= b)
            continue;
        const float dc = n4d__sim_dc(sim, p->pop, step);
        const n4d__skip_map *sk = sim->skip;
        if (!sk || !sk->run_ok[ri_]) {
            ns += n4d__cpu_update_part(sim, ri_, p, step, a, b, spk + ns, use_iext, dc, gain);
            continue;
        }
        /* skip map: leave out the quiet blocks no input reaches */
        for (size_t k = sk->run_block[ri_] + (size_t)((a - p->first) / N4D__SKIP_BLOCK);; k++) {
            const uint64_t x = p->first + (uint64_t)(k - sk->run_block[ri_]) * N4D__SKIP_BLOCK;
            if (x >= b)
                break;
            const uint64_t lo_ = x > a ? x : a, hi_ = x + N4D__SKIP_BLOCK < b ? x + N4D__SKIP_BLOCK : b;
            if (!n4d__cpu_block_live(sim, sk, k, step, lo_, hi_, use_iext))
                continue;
            ns += n4d__cpu_update_part(sim, ri_, p, step, lo_, hi_, spk + ns, use_iext, dc, gain);
        }
    }
    return ns;
}

/* The part of every synapse segment that a thread's block [tlo, thi) of
 * targets takes (cpu-omp with several threads; rows are sorted by target).
 * Where the table is small enough (cpu_omp.c make_cuts), the T - 1 inner
 * block bounds cut every segment at offsets found once when the sim is
 * made: 16-bit where every segment is shorter than 2^16, else 32-bit; block
 * k takes [cut k - 1, cut k). Without a table, a binary search where the
 * block's bounds cut the segment. */
typedef struct n4d__cpu_cuts {
    const uint16_t *c16;
    const uint32_t *c32;
    uint32_t inner;    /* T - 1 per segment */
    uint32_t block;    /* the thread's block k */
    uint32_t tlo, thi; /* its targets */
} n4d__cpu_cuts;

/* Synapses [*j0, *j1) of segment g: the part of block cuts->block. */
static inline void n4d__cpu_cut(const n4d__cpu_cuts *cuts, const uint32_t *target, uint64_t g,
                                uint64_t *j0, uint64_t *j1)
{
    const uint64_t base = *j0, at = g * cuts->inner, k = cuts->block;
    if (cuts->c16) {
        *j0 = base + (k ? cuts->c16[at + k - 1] : 0);
        *j1 = k < cuts->inner ? base + cuts->c16[at + k] : *j1;
    } else if (cuts->c32) {
        *j0 = base + (k ? cuts->c32[at + k - 1] : 0);
        *j1 = k < cuts->inner ? base + cuts->c32[at + k] : *j1;
    } else {
        if (*j0 < *j1 && target[*j0] < cuts->tlo)
            *j0 = n4d__lower_bound(target, *j0, *j1, cuts->tlo);
        if (*j0 < *j1 && target[*j1 - 1] >= cuts->thi)
            *j1 = n4d__lower_bound(target, *j0, *j1, cuts->thi);
    }
}

/* Delivers the spike of `src` at `step` to its targets (with cuts, those of
 * the thread's block; NULL: all) into the ring slots step + delay. */
static inline void n4d__cpu_deliver(n4d_sim *sim, uint32_t src, uint64_t step,
                                    const n4d__cpu_cuts *cuts)
{
    const n4d__syn_view *syn = &sim->syn;
    const uint32_t R = sim->ring_slots;
    /* the slot of step + delay (1 <= delay <= max_delay = R) without a
     * division per segment: a row has a few synapses per segment */
    const uint32_t slot0 = (uint32_t)(step % R);
    n4d__plastic_pre pre;
    bool have_pre = false;
    for (uint64_t g = syn->seg_ptr[src]; g < syn->seg_ptr[src + 1]; g++) {
        uint32_t key = syn->seg_key[g];
        uint32_t slot = slot0 + (uint32_t)N4D__SEG_DELAY(key);
        slot = slot >= R ? slot - R : slot;
        int32_t *acc = n4d__ring_row(sim, slot, N4D__SEG_CH(key));
        uint64_t j0 = syn->seg_off[g], j1 = syn->seg_off[g + 1];
        if (cuts) /* this thread's targets */
            n4d__cpu_cut(cuts, syn->target, g, &j0, &j1);
        /* the sender dies before the spike arrives (lifecycle.h) */
        const bool lost = n4d__life_drops(sim, src, step, N4D__SEG_DELAY(key));
        if (N4D__SEG_CLASS(key)) { /* a plastic class: its rule, its weights */
            if (!have_pre) {
                n4d__plastic_pre_find(sim, src, step, &pre);
                have_pre = true;
            }
            n4d__plastic_deliver(sim, &pre, src, step, g, j0, j1, lost ? NULL : acc);
            continue;
        }
        if (lost)
            continue;
        const uint32_t *tg = syn->target;
        const int32_t *wq = syn->weight_q;
        for (uint64_t j = j0; j < j1; j++)
            n4d__ring_add(sim, acc, tg[j], wq[j]); /* exact: ring.h */
    }
}

/* Delivers the spikes ids[0 .. c) of `step` (see n4d__cpu_deliver). The
 * rows of random sources are cache misses, and dependent ones (seg_ptr ->
 * seg_off -> the synapses), so each is fetched a few spikes ahead, one link
 * of the chain per stage: the misses of several rows overlap instead of
 * stalling one spike at a time. */
static inline void n4d__cpu_deliver_list(n4d_sim *sim, const uint32_t *ids, uint64_t c,
                                         uint64_t step, const n4d__cpu_cuts *cuts)
{
    enum { AHEAD_PTR = 20, AHEAD_SEG = 10, AHEAD_ROW = 5 };
    const n4d__syn_view *syn = &sim->syn;
    for (uint64_t i = 0; i < c; i++) {
        if (i + AHEAD_PTR < c)
            __builtin_prefetch(&syn->seg_ptr[ids[i + AHEAD_PTR]]);
        if (i + AHEAD_SEG < c) {
            const uint64_t g = syn->seg_ptr[ids[i + AHEAD_SEG]];
            __builtin_prefetch(&syn->seg_off[g]);
            __builtin_prefetch(&syn->seg_key[g]);
            if (cuts && cuts->c16)
                __builtin_prefetch(&cuts->c16[g * cuts->inner]);
            else if (cuts && cuts->c32)
                __builtin_prefetch(&cuts->c32[g * cuts->inner]);
        }
        if (i + AHEAD_ROW < c) {
            const uint32_t src = ids[i + AHEAD_ROW];
            const uint64_t g0 = syn->seg_ptr[src], g1 = syn->seg_ptr[src + 1];
            uint64_t j0 = syn->seg_off[g0], j1 = syn->seg_off[g1];
            if (cuts && (cuts->c16 || cuts->c32) && g1 == g0 + 1) /* only the block's part */
                n4d__cpu_cut(cuts, syn->target, g0, &j0, &j1);
            /* the row, up to 16 lines of each array (longer rows: the
             * hardware prefetcher follows on) */
            for (uint64_t j = j0; j < j1 && j < j0 + 256; j += 16) {
                __builtin_prefetch(&syn->target[j]);
                __builtin_prefetch(&syn->weight_q[j]);
            }
        }
        n4d__cpu_deliver(sim, ids[i], step, cuts);
    }
}

#endif
