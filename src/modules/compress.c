/* Inactive-neuron compression (include/n4d/compress.h, docs/modules.md).
 * Blocks of at most N4D__CBLOCK consecutive internal neurons of one run;
 * a quiet block (no spike for threshold steps, every neuron at a fixed point
 * of its update with zero input, no pending input) has its outgoing synapse
 * range compressed with zlib and, with the default allocator, the pages of
 * that range handed back (madvise MADV_DONTNEED); the backends skip it while
 * no input reaches it (cpu_common.h) and restore it when input does. */
#define _DEFAULT_SOURCE /* madvise, MADV_DONTNEED */
#include "backend.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

typedef struct n4d__cblock {
    uint64_t first;       /* internal index */
    uint32_t n;
    uint32_t run;
    uint64_t syn_lo, syn_hi; /* outgoing synapse range */
    uint64_t last_active;    /* step of the last spike (or enable / restore) */
    unsigned char *buf;      /* compressed targets then weights (N4D_MEM_COMPRESSED) */
    size_t buf_len, len_t;   /* total, targets part */
    uint64_t released;       /* bytes of synapse pages handed back */
} n4d__cblock;

#define IS_SIM(s) n4d__is_handle((s), N4D__MAGIC_SIM)

void n4d_compress_options_init(n4d_compress_options *opt)
{
    if (!opt)
        return;
    memset(opt, 0, sizeof *opt);
    opt->struct_size = sizeof *opt;
    opt->threshold_steps = 1000;
    opt->check_every = 100;
    opt->level = 1;
}

/* ---- page release --------------------------------------------------------------- */

/* Hands back the whole pages inside [p, p + bytes); returns their bytes. */
static uint64_t release_pages(void *p, size_t bytes)
{
    const long ps = sysconf(_SC_PAGESIZE);
    if (ps <= 0 || bytes == 0)
        return 0;
    const uintptr_t page = (uintptr_t)ps;
    uintptr_t a = ((uintptr_t)p + page - 1) / page * page;
    uintptr_t b = ((uintptr_t)p + bytes) / page * page;
    if (b <= a)
        return 0;
    if (madvise((void *)a, b - a, MADV_DONTNEED) != 0)
        return 0;
    return (uint64_t)(b - a);
}

/* ---- restore / compress one block ----------------------------------------------- */

static n4d_status restore_block(n4d_sim *sim, size_t k)
{
    n4d__compress *c = sim->cmp;
    n4d__cblock *b = &c->blk[k];
    if (atomic_load_explicit(&c->mode[k], memory_order_relaxed) == N4D__CB_LIVE)
        return N4D_OK;
    n4d__synapses *s = &sim->model->syn;
    const uint64_t ns = b->syn_hi - b->syn_lo;
    if (b->released) { /* the range was handed back: decompress into it */
        uLongf lt = (uLongf)(ns * sizeof(uint32_t)), lw = (uLongf)(ns * sizeof(int32_t));
        n4d__account(sim->ctx, N4D_MEM_SYNAPSES, (int64_t)b->released);
        if (uncompress((Bytef *)(s->target + b->syn_lo), &lt, b->buf, (uLong)b->len_t) != Z_OK ||
            uncompress((Bytef *)(s->weight_q + b->syn_lo), &lw, b->buf + b->len_t,
                       (uLong)(b->buf_len - b->len_t)) != Z_OK ||
            lt != ns * sizeof(uint32_t) || lw != ns * sizeof(int32_t))
            return n4d__error(&sim->hdr, N4D_E_INTERNAL,
                              "compression: the store of block %zu does not decompress", k);
        c->released -= b->released;
        b->released = 0;
    }
    if (b->buf)
        n4d__free(sim->ctx, N4D_MEM_COMPRESSED, b->buf, b->buf_len);
    c->bytes_before -= ns * (sizeof(uint32_t) + sizeof(int32_t));
    c->bytes_after -= b->buf_len;
    c->compressed--;
    c->neurons -= b->n;
    c->restores++;
    sim->model->compressed_blocks--;
    b->buf = NULL;
    b->buf_len = b->len_t = 0;
    b->last_active = sim->step;
    atomic_store_explicit(&c->mode[k], N4D__CB_LIVE, memory_order_relaxed);
    return N4D_OK;
}

/* Whether every neuron of the block is quiet: refractory counter 0, its
 * zero-input update changes no bit and does not spike, no pending input. */
static bool block_quiet(const n4d_sim *sim, const n4d__cblock *b)
{
    const n4d__pop_rt *p = &sim->runs[b->run];
    const uint64_t N = sim->n;
    for (uint64_t i = b->first; i < b->first + b->n; i++) {
        if (sim->ref[i] != 0)
            return false;
        float v = sim->v[i], x1 = sim->x1[i], x2 = sim->x2[i];
        int32_t r = sim->ref[i];
        if (n4d__update_neuron(p, &v, &x1, &x2, &r, 0.0f, 0.0f, 0.0f))
            return false;
        if (memcmp(&v, &sim->v[i], sizeof v) || memcmp(&x1, &sim->x1[i], sizeof x1) ||
            memcmp(&x2, &sim->x2[i], sizeof x2) || r != sim->ref[i])
            return false;
        uint32_t bits;
        memcpy(&bits, &sim->iext[i], sizeof bits);
        if (bits)
            return false;
    }
    for (uint64_t row = 0; row < (uint64_t)sim->ring_slots * 2; row++) {
        const int64_t *r = sim->ring + row * N;
        int64_t acc = 0;
        for (uint64_t i = b->first; i < b->first + b->n; i++)
            acc |= r[i];
        if (acc)
            return false;
    }
    return true;
}

/* Compresses block k (quiet); a failed allocation leaves it live. */
static void compress_block(n4d_sim *sim, size_t k, unsigned char **scratch, size_t *scratch_cap)
{
    n4d__compress *c = sim->cmp;
    n4d__cblock *b = &c->blk[k];
    n4d__synapses *s = &sim->model->syn;
    const uint64_t ns = b->syn_hi - b->syn_lo;
    const uLong bt = (uLong)(ns * sizeof(uint32_t)), bw = (uLong)(ns * sizeof(int32_t));
    size_t len_t = 0, len = 0;
    unsigned char *buf = NULL;
    if (ns) {
        const size_t need = (size_t)compressBound(bt) + (size_t)compressBound(bw);
        if (!n4d__grow(sim->ctx, N4D_MEM_COMPRESSED, (void **)scratch, scratch_cap, need, 1))
            return;
        uLongf lt = compressBound(bt), lw = compressBound(bw);
        if (compress2(*scratch, &lt, (const Bytef *)(s->target + b->syn_lo), bt, c->level) != Z_OK ||
            compress2(*scratch + lt, &lw, (const Bytef *)(s->weight_q + b->syn_lo), bw, c->level) !=
                Z_OK)
            return;
        len_t = (size_t)lt;
        len = (size_t)lt + (size_t)lw;
        if (!(buf = n4d__alloc(sim->ctx, N4D_MEM_COMPRESSED, len)))
            return;
        memcpy(buf, *scratch, len);
    }
    b->buf = buf;
    b->buf_len = len;
    b->len_t = len_t;
    b->released = 0;
    if (ns && c->release) {
        b->released = release_pages(s->target + b->syn_lo, (size_t)bt) +
                      release_pages(s->weight_q + b->syn_lo, (size_t)bw);
        n4d__account(sim->ctx, N4D_MEM_SYNAPSES, -(int64_t)b->released);
        c->released += b->released;
    }
    c->bytes_before += (uint64_t)bt + (uint64_t)bw;
    c->bytes_after += len;
    c->compressed++;
    c->neurons += b->n;
    c->compressions++;
    sim->model->compressed_blocks++;
    atomic_store_explicit(&c->mode[k], N4D__CB_SKIP, memory_order_relaxed);
}

/* ---- hooks (backend.h) ---------------------------------------------------------- */

void n4d__compress_observe(n4d_sim *sim, uint64_t step, const uint32_t *ids, uint64_t count)
{
    n4d__compress *c = sim->cmp;
    for (uint64_t i = 0; i < count; i++)
        c->blk[c->block_of[ids[i]]].last_active = step;
    if (step % c->check_every != 0 || atomic_load(&sim->model->n_sims) != 1)
        return;
    unsigned char *scratch = NULL;
    size_t cap = 0;
    for (size_t k = 0; k < c->n_blocks; k++) {
        n4d__cblock *b = &c->blk[k];
        if (!c->run_ok[b->run] ||
            atomic_load_explicit(&c->mode[k], memory_order_relaxed) != N4D__CB_LIVE ||
            step < b->last_active || step - b->last_active < c->threshold || !block_quiet(sim, b))
            continue;
        compress_block(sim, k, &scratch, &cap);
    }
    if (scratch)
        n4d__free(sim->ctx, N4D_MEM_COMPRESSED, scratch, cap);
}

n4d_status n4d__compress_restore_woken(n4d_sim *sim)
{
    n4d__compress *c = sim->cmp;
    for (size_t k = 0; k < c->n_blocks; k++)
        if (atomic_load_explicit(&c->mode[k], memory_order_relaxed) == N4D__CB_WOKEN) {
            n4d_status st = restore_block(sim, k);
            if (st)
                return st;
        }
    return N4D_OK;
}

n4d_status n4d__compress_restore_all(n4d_sim *sim)
{
    n4d__compress *c = sim->cmp;
    if (!c)
        return N4D_OK;
    n4d_status first = N4D_OK;
    for (size_t k = 0; k < c->n_blocks; k++) {
        n4d_status st = restore_block(sim, k);
        if (st && !first)
            first = st;
    }
    return first;
}

void n4d__compress_free(n4d_sim *sim)
{
    n4d__compress *c = sim->cmp;
    if (!c)
        return;
    if (c->mode && c->blk) /* NULL after a failed enable */
        n4d__compress_restore_all(sim);
    /* a block that failed to decompress (never expected) still frees its store */
    for (size_t k = 0; c->mode && c->blk && k < c->n_blocks; k++) {
        n4d__cblock *b = &c->blk[k];
        if (atomic_load_explicit(&c->mode[k], memory_order_relaxed) != N4D__CB_LIVE) {
            n4d__account(sim->ctx, N4D_MEM_SYNAPSES, (int64_t)b->released);
            n4d__free(sim->ctx, N4D_MEM_COMPRESSED, b->buf, b->buf_len);
            sim->model->compressed_blocks--;
        }
    }
    n4d_context *ctx = sim->ctx;
    const size_t nb = c->n_blocks ? c->n_blocks : 1;
    n4d__free(ctx, N4D_MEM_COMPRESSED, c->run_block, (sim->n_runs + 1) * sizeof *c->run_block);
    n4d__free(ctx, N4D_MEM_COMPRESSED, c->run_ok, (sim->n_runs ? sim->n_runs : 1) * sizeof *c->run_ok);
    n4d__free(ctx, N4D_MEM_COMPRESSED, (void *)c->mode, nb * sizeof *c->mode);
    n4d__free(ctx, N4D_MEM_COMPRESSED, c->blk, nb * sizeof *c->blk);
    n4d__free(ctx, N4D_MEM_COMPRESSED, c->block_of, (sim->n ? sim->n : 1) * sizeof *c->block_of);
    n4d__free(ctx, N4D_MEM_COMPRESSED, c, sizeof *c);
    sim->cmp = NULL;
}

/* ---- public API ----------------------------------------------------------------- */

n4d_status n4d_sim_compression_enable(n4d_sim *sim, const n4d_compress_options *opt)
{
    if (!IS_SIM(sim))
        return N4D_E_INVALID_ARG;
    n4d__clear_error(&sim->hdr);
    n4d_compress_options o;
    n4d_compress_options_init(&o);
    if (opt) {
        if (opt->struct_size < sizeof(uint32_t))
            return n4d__error(&sim->hdr, N4D_E_INVALID_ARG,
                              "compression: options.struct_size is not set");
        N4D__COPY_IN(o, opt);
    }
    if (o.level < 1 || o.level > 9)
        return n4d__error(&sim->hdr, N4D_E_INVALID_ARG, "compression: level %d is not in 1..9",
                          (int)o.level);
    if (o.check_every == 0)
        return n4d__error(&sim->hdr, N4D_E_INVALID_ARG, "compression: check_every is 0");
    if (sim->ops->sync) /* a device backend holds its own copy of the synapses */
        return n4d__error(&sim->hdr, N4D_E_UNSUPPORTED,
                          "compression: the %s backend does not support it (use cpu-ref or cpu-omp)",
                          sim->ops->name);
    n4d_model *m = sim->model;
    if (atomic_load(&m->n_sims) != 1)
        return n4d__error(&sim->hdr, N4D_E_STATE,
                          "compression: the model is used by %d simulations (it needs exactly one: "
                          "compression changes the model's synapse memory)",
                          (int)atomic_load(&m->n_sims));
    if (sim->cmp) {
        n4d_status st = n4d__compress_restore_all(sim);
        if (st)
            return st;
        sim->cmp->threshold = o.threshold_steps;
        sim->cmp->check_every = o.check_every;
        sim->cmp->level = o.level;
        return N4D_OK;
    }
    n4d_context *ctx = sim->ctx;
    n4d__compress *c = n4d__calloc(ctx, N4D_MEM_COMPRESSED, 1, sizeof *c);
    if (!c)
        return n4d__error(&sim->hdr, N4D_E_NOMEM, "compression: out of memory");
    size_t nb = 0;
    for (size_t r = 0; r < sim->n_runs; r++)
        nb += (size_t)((sim->runs[r].n + N4D__CBLOCK - 1) / N4D__CBLOCK);
    c->n_blocks = nb;
    c->threshold = o.threshold_steps;
    c->check_every = o.check_every;
    c->level = o.level;
    c->release = n4d__default_allocator(ctx) && !m->syn.release;
    c->run_block = n4d__calloc(ctx, N4D_MEM_COMPRESSED, sim->n_runs + 1, sizeof *c->run_block);
    c->run_ok = n4d__calloc(ctx, N4D_MEM_COMPRESSED, sim->n_runs ? sim->n_runs : 1, sizeof *c->run_ok);
    c->mode = n4d__calloc(ctx, N4D_MEM_COMPRESSED, nb ? nb : 1, sizeof *c->mode);
    c->blk = n4d__calloc(ctx, N4D_MEM_COMPRESSED, nb ? nb : 1, sizeof *c->blk);
    c->block_of = n4d__alloc(ctx, N4D_MEM_COMPRESSED, (sim->n ? sim->n : 1) * sizeof *c->block_of);
    sim->cmp = c;
    if (!c->run_block || !c->run_ok || !c->mode || !c->blk || !c->block_of) {
        n4d__compress_free(sim);
        return n4d__error(&sim->hdr, N4D_E_NOMEM, "compression: out of memory for %zu blocks", nb);
    }
    const n4d__synapses *s = &m->syn;
    size_t k = 0;
    for (size_t r = 0; r < sim->n_runs; r++) {
        const n4d__pop_rt *p = &sim->runs[r];
        c->run_block[r] = k;
        bool ok = true;
        for (size_t d = 0; d < sim->n_dc; d++)
            ok = ok && sim->dc[d].target != p->pop;
        for (size_t q = 0; q < sim->n_poisson; q++)
            ok = ok && sim->poisson[q].pop != p->pop;
        c->run_ok[r] = ok;
        for (uint64_t f = p->first; f < p->first + p->n; f += N4D__CBLOCK, k++) {
            n4d__cblock *b = &c->blk[k];
            b->first = f;
            b->n = (uint32_t)(p->first + p->n - f < N4D__CBLOCK ? p->first + p->n - f : N4D__CBLOCK);
            b->run = (uint32_t)r;
            b->syn_lo = s->seg_off[s->seg_ptr[f]];
            b->syn_hi = s->seg_off[s->seg_ptr[f + b->n]];
            b->last_active = sim->step;
            for (uint64_t i = f; i < f + b->n; i++)
                c->block_of[i] = (uint32_t)k;
        }
    }
    c->run_block[sim->n_runs] = k;
    return N4D_OK;
}

n4d_status n4d_sim_compression_disable(n4d_sim *sim)
{
    if (!IS_SIM(sim))
        return N4D_E_INVALID_ARG;
    n4d__clear_error(&sim->hdr);
    if (!sim->cmp)
        return N4D_OK;
    n4d_status st = n4d__compress_restore_all(sim);
    n4d__compress_free(sim);
    return st;
}

n4d_status n4d_sim_compression_stats(const n4d_sim *sim, n4d_compress_stats *out)
{
    if (!IS_SIM(sim) || !out || out->struct_size < sizeof(uint32_t))
        return N4D_E_INVALID_ARG;
    n4d_compress_stats full;
    memset(&full, 0, sizeof full);
    const n4d__compress *c = sim->cmp;
    if (c) {
        full.blocks = c->n_blocks;
        full.blocks_compressed = c->compressed;
        full.neurons_compressed = c->neurons;
        full.bytes_before = c->bytes_before;
        full.bytes_after = c->bytes_after;
        full.bytes_saved_real = c->released;
        full.restores = c->restores;
        full.compressions = c->compressions;
    }
    N4D__COPY_OUT(out, full);
    return N4D_OK;
}

n4d_status n4d_sim_restore_neuron(n4d_sim *sim, uint64_t id)
{
    if (!IS_SIM(sim))
        return N4D_E_INVALID_ARG;
    n4d__clear_error(&sim->hdr);
    if (!sim->cmp)
        return n4d__error(&sim->hdr, N4D_E_STATE, "n4d_sim_restore_neuron: compression is off");
    if (id >= sim->n)
        return n4d__error(&sim->hdr, N4D_E_RANGE, "neuron %llu does not exist (%llu neurons)",
                          (unsigned long long)id, (unsigned long long)sim->n);
    return restore_block(sim, sim->cmp->block_of[n4d__to_internal(sim->model, id)]);
}
