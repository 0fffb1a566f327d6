/* Sparse sampling of Poisson inputs: see poisson.h. */
#include "poisson.h"

#include <math.h>
#include <string.h>

#define MAX_BLOCK_LOG2 12 /* blocks of at most 4096 steps */
#define BLOCK_EVENTS 16.0 /* the most events a block holds on average */

void n4d__poisson_sparse_init(n4d__poisson_rt *in, double lambda, uint32_t ring_slots)
{
    /* the longest block (a power of two) with at most BLOCK_EVENTS events
     * on average: per neuron and block one count draw and one placing draw
     * per 8 or 16 events, so the cost follows the events down to a draw
     * per 4096 steps */
    uint32_t k = 0;
    while (k < MAX_BLOCK_LOG2 && lambda * (double)(2u << k) <= BLOCK_EVENTS)
        k++;
    /* a block that fits the delay ring goes straight into it (every
     * backend, in parallel): take the longest that fits when it still
     * holds an event on average; rarer inputs keep their long blocks,
     * cached (a draw per neuron and step of the ring would cost more) */
    uint32_t kr = 0;
    while (kr < MAX_BLOCK_LOG2 && (2u << kr) <= ring_slots)
        kr++;
    if (kr < k && lambda * (double)(1u << kr) >= 1.0)
        k = kr;
    const double lb = lambda * (double)(1u << k);
    const uint32_t input = in->purpose >> 8;
    in->sparse = 1;
    in->block_log2 = k;
    in->block_ring = (1u << k) <= ring_slots;
    in->purpose_count = (uint32_t)N4D_RNG_POISSON_BLOCK | (input << 8);
    in->purpose_place = (uint32_t)N4D_RNG_POISSON_PLACE | (input << 8);
    in->block_parts = (uint32_t)ceil(lb / 100.0);
    if (in->block_parts < 1)
        in->block_parts = 1;
    in->lambda_block_part = lb / in->block_parts;
    in->exp_neg_block_part = exp(-in->lambda_block_part);
}

static n4d_status grow(n4d_sim *sim, uint32_t **a, size_t *cap, size_t need)
{
    if (need <= *cap)
        return N4D_OK;
    if (!n4d__grow(sim->ctx, N4D_MEM_BUFFERS, (void **)a, cap, need, sizeof(uint32_t)))
        return n4d__error(&sim->hdr, N4D_E_NOMEM, "out of memory for sparse Poisson events");
    return N4D_OK;
}

/* Generates the events of input k for the blocks covering [s0, s1). */
static n4d_status fill(n4d_sim *sim, size_t k, uint64_t s0, uint64_t s1)
{
    const n4d__poisson_rt *in = &sim->poisson[k];
    n4d__poisson_cache *pc = &sim->pcache[k];
    const n4d_model *m = sim->model;
    const uint32_t L = in->block_log2;
    const uint64_t b0 = s0 >> L, b1 = ((s1 - 1) >> L) + 1; /* blocks [b0, b1) */
    const uint64_t c0 = b0 << L, span = (b1 - b0) << L;
    n4d_status st;
    if ((st = grow(sim, &pc->ptr, &pc->cap_ptr, span + 1)))
        return st;
    memset(pc->ptr, 0, (span + 1) * sizeof *pc->ptr);
    /* two passes: count the events of each step, then place them (neurons
     * in ascending internal order, so each step's ids come out sorted) */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t r = 0; r < sim->n_runs; r++) {
            const n4d__pop_rt *run = &sim->runs[r];
            if (run->pop != in->pop)
                continue;
            for (uint64_t i = run->first; i < run->first + run->n; i++) {
                const uint32_t uid = (uint32_t)n4d__to_user(m, i);
                for (uint64_t blk = b0; blk < b1; blk++) {
                    const uint32_t n = n4d__poisson_block_count(in, sim->seed, uid, blk);
                    n4d__r4 rp;
                    for (uint32_t e = 0; e < n; e++) {
                        uint64_t t;
                        if (!n4d__poisson_event_at(in, sim->seed, uid, blk, e, &rp, &t))
                            continue;
                        if (pass == 0)
                            pc->ptr[t - c0 + 1]++;
                        else
                            pc->ids[pc->ptr[t - c0]++] = (uint32_t)i;
                    }
                }
            }
        }
        if (pass == 0) {
            for (uint64_t o = 0; o < span; o++)
                pc->ptr[o + 1] += pc->ptr[o];
            if ((st = grow(sim, &pc->ids, &pc->cap_ids, pc->ptr[span] ? pc->ptr[span] : 1)))
                return st;
        }
    }
    /* the second pass moved each start to the next step's: shift back */
    memmove(pc->ptr + 1, pc->ptr, span * sizeof *pc->ptr);
    pc->ptr[0] = 0;
    pc->c0 = c0;
    pc->c1 = c0 + span;
    return N4D_OK;
}

n4d_status n4d__poisson_prepare(n4d_sim *sim, uint64_t step0, uint64_t steps)
{
    if (!sim->pcache || steps == 0)
        return N4D_OK;
    for (size_t k = 0; k < sim->n_poisson; k++) {
        const n4d__poisson_cache *pc = &sim->pcache[k];
        const n4d__poisson_rt *in = &sim->poisson[k];
        if (!in->sparse || in->block_ring || (pc->c0 <= step0 && step0 + steps <= pc->c1))
            continue;
        n4d_status st = fill(sim, k, step0, step0 + steps);
        if (st)
            return st;
    }
    return N4D_OK;
}

void n4d__poisson_block_ring(n4d_sim *sim, size_t k, uint64_t step, uint64_t a, uint64_t b)
{
    const n4d__poisson_rt *in = &sim->poisson[k];
    const uint64_t blk = step >> in->block_log2;
    for (uint64_t i = a; i < b; i++) {
        const uint32_t uid = (uint32_t)n4d__to_user(sim->model, i);
        const uint32_t n = n4d__poisson_block_count(in, sim->seed, uid, blk);
        if (n)
            n4d__poisson_ring_events(sim, in, uid, (uint32_t)i, blk, n);
    }
}

n4d_status n4d__poisson_tables(n4d_sim *sim)
{
    if (!sim->n_poisson)
        return N4D_OK;
    sim->pcdf = n4d__calloc(sim->ctx, N4D_MEM_OTHER, sim->n_poisson, sizeof *sim->pcdf);
    if (!sim->pcdf)
        return n4d__error(&sim->hdr, N4D_E_NOMEM, "out of memory for the Poisson inputs' tables");
    for (size_t i = 0; i < sim->n_poisson; i++) {
        const n4d__poisson_rt *in = &sim->poisson[i];
        n4d__poisson_cdf *t = &sim->pcdf[i];
        if (in->sparse && (!in->block_ring || in->block_parts != 1))
            continue; /* read only by cpu-omp's ring blocks of one part */
        /* n4d__poisson_inv's loop, its sums kept: at count k it returns k
         * when u <= cdf_k; p == 0 or k == 10000 end it at k (no entry).
         * The capacity (a power of two, at least 8) keeps 8 entries of
         * padding beyond the last. A sparse input's table is its blocks'. */
        const double lambda = in->sparse ? in->lambda_block_part : in->lambda_part;
        double p = in->sparse ? in->exp_neg_block_part : in->exp_neg_part, sum = p;
        for (uint32_t k = 0;; k++) {
            if (!n4d__grow(sim->ctx, N4D_MEM_OTHER, (void **)&t->cdf, &t->cap, (size_t)k + 9,
                           sizeof *t->cdf))
                return n4d__error(&sim->hdr, N4D_E_NOMEM,
                                  "out of memory for the Poisson inputs' tables");
            t->cdf[k] = sum;
            t->n = k + 1;
            if (k + 1 == 10000)
                break;
            p = p * lambda / (double)(k + 1);
            sum = sum + p;
            if (p == 0.0)
                break;
        }
        for (size_t q = t->n; q < t->cap; q++)
            t->cdf[q] = INFINITY;
        for (uint32_t q = 0; q < 8; q++)
            t->thr[q] = q < t->n ? (int64_t)floor(t->cdf[q] * 9007199254740992.0) : INT64_MAX;
    }
    return N4D_OK;
}

void n4d__poisson_free(n4d_sim *sim)
{
    if (sim->pcdf)
        for (size_t k = 0; k < sim->n_poisson; k++)
            n4d__free(sim->ctx, N4D_MEM_OTHER, sim->pcdf[k].cdf, sim->pcdf[k].cap * sizeof(double));
    n4d__free(sim->ctx, N4D_MEM_OTHER, sim->pcdf, sim->n_poisson * sizeof *sim->pcdf);
    sim->pcdf = NULL;
    if (!sim->pcache)
        return;
    for (size_t k = 0; k < sim->n_poisson; k++) {
        n4d__poisson_cache *pc = &sim->pcache[k];
        n4d__free(sim->ctx, N4D_MEM_BUFFERS, pc->ptr, pc->cap_ptr * sizeof(uint32_t));
        n4d__free(sim->ctx, N4D_MEM_BUFFERS, pc->ids, pc->cap_ids * sizeof(uint32_t));
    }
    n4d__free(sim->ctx, N4D_MEM_OTHER, sim->pcache, sim->n_poisson * sizeof *sim->pcache);
    sim->pcache = NULL;
}
