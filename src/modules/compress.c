/* Inactive-neuron compression (include/n4d/compress.h, docs/modules.md), a
 * module over the sim's own overlay: it never touches the model. Blocks of
 * at most N4D__SKIP_BLOCK consecutive internal neurons of one run; a quiet
 * block (no spike for threshold steps, every neuron at a fixed point of its
 * update with zero input, no pending input) has its state (V and the two
 * model variables) compressed with zlib and, with the default allocator,
 * the pages of its state, refractory counters, external input and delay
 * ring slices handed back (madvise MADV_DONTNEED: they read as zero again,
 * which is what those arrays hold for a quiet block). It publishes the
 * blocks in the sim's skip map: a backend with N4D__CAP_COMPRESSION leaves
 * out a SKIP block while no input reaches it and wakes it (wake(), in the
 * worker thread) when input does. Attached through the core's hooks
 * (sim_state.h): on_step_internal marks active blocks and compresses
 * candidates, before_delivery settles woken blocks, on_host restores every
 * block before the host state is read or written, on_detach frees it. */
#define _DEFAULT_SOURCE /* madvise, MADV_DONTNEED */
#include "inputs.h"
#include "sim_state.h"
#include "ring.h"
#include "backend.h" /* capability flags */

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

typedef struct cblock {
    uint64_t first;       /* internal index */
    uint32_t n;
    uint32_t run;
    uint64_t last_active; /* step of the last spike (or enable / restore) */
    unsigned char *buf;   /* compressed v, x[0 .. nx-1] (N4D_MEM_COMPRESSED) */
    size_t buf_len;
    uint64_t released_state; /* bytes of state pages handed back (N4D_MEM_NEURONS) */
    uint64_t released_ring;  /* bytes of delay-ring pages handed back (N4D_MEM_BUFFERS) */
    bool unpacked;        /* SKIP with its state written back for a reader (pages resident) */
} cblock;

typedef struct compressor {
    n4d__skip_map map; /* published as sim->skip */
    cblock *blk;       /* per block */
    uint32_t *block_of; /* internal index -> block */
    uint32_t threshold, check_every;
    int32_t level;
    bool release;      /* hand pages back (default allocator) */
    uint64_t compressed, neurons, bytes_before, bytes_after, restores, compressions;
    uint64_t released_state, released_ring; /* bytes handed back now, by memory tag */
} compressor;

static const n4d__hook_ops compress_hooks;

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

/* Bytes of the overlay a block covers: v, the nx auxiliary state arrays,
 * iext (float), ref, and its slices of the 2 * ring_slots ring rows. */
static uint64_t block_bytes(const n4d_sim *sim, const cblock *b)
{
    return (uint64_t)b->n * ((2 + sim->nx) * sizeof(float) + sizeof(int32_t) +
                             (uint64_t)sim->ring_slots * 2 * sizeof(int32_t));
}

/* Hands back the pages of the block's state slices (v and the auxiliary
 * state are in the compressed store; iext and ref are zero) and accounts
 * them under N4D_MEM_NEURONS. */
static void release_state(compressor *c, n4d_sim *sim, cblock *b)
{
    const size_t n = b->n, f = (size_t)b->first;
    uint64_t r = release_pages(sim->v + f, n * sizeof(float)) +
                 release_pages(sim->iext + f, n * sizeof(float)) +
                 release_pages(sim->ref + f, n * sizeof(int32_t));
    for (uint32_t j = 0; j < sim->nx; j++) /* x[nx..] alias v: not again */
        r += release_pages(sim->x[j] + f, n * sizeof(float));
    b->released_state = r;
    c->released_state += r;
    n4d__account(sim->ctx, N4D_MEM_NEURONS, -(int64_t)r);
}

/* Hands back the pages of the block's delay-ring slices (all zero) and
 * accounts them under N4D_MEM_BUFFERS. */
static void release_ring(compressor *c, n4d_sim *sim, cblock *b)
{
    const size_t n = b->n, f = (size_t)b->first;
    uint64_t r = 0;
    for (uint64_t row = 0; row < (uint64_t)sim->ring_slots * 2; row++)
        r += release_pages(sim->ring + row * sim->n + f, n * sizeof(int32_t));
    b->released_ring = r;
    c->released_ring += r;
    n4d__account(sim->ctx, N4D_MEM_BUFFERS, -(int64_t)r);
}

/* The block's state pages are in use again (written back). */
static void reclaim_state(compressor *c, n4d_sim *sim, cblock *b)
{
    n4d__account(sim->ctx, N4D_MEM_NEURONS, (int64_t)b->released_state);
    c->released_state -= b->released_state;
    b->released_state = 0;
}

/* The block's ring pages are in use again (delivery touches them). */
static void reclaim_ring(compressor *c, n4d_sim *sim, cblock *b)
{
    n4d__account(sim->ctx, N4D_MEM_BUFFERS, (int64_t)b->released_ring);
    c->released_ring -= b->released_ring;
    b->released_ring = 0;
}

/* ---- restore / compress one block ----------------------------------------------- */

/* Writes the block's stored state back (any thread, no allocation): the
 * skip map's wake(), and the serial restores below. */
static void unpack_block(compressor *c, n4d_sim *sim, size_t k)
{
    cblock *b = &c->blk[k];
    if (!b->buf)
        return;
    const size_t n = b->n, f = (size_t)b->first, arrays = 1 + sim->nx;
    uLongf len = (uLongf)(arrays * n * sizeof(float));
    float tmp[(1 + N4D__NX) * N4D__SKIP_BLOCK];
    /* the store was written by compress2 from this very buffer shape */
    if (uncompress((Bytef *)tmp, &len, b->buf, (uLong)b->buf_len) == Z_OK &&
        len == arrays * n * sizeof(float)) {
        memcpy(sim->v + f, tmp, n * sizeof(float));
        for (uint32_t j = 0; j < sim->nx; j++)
            memcpy(sim->x[j] + f, tmp + (j + 1) * n, n * sizeof(float));
    }
}

static void wake_block(void *data, n4d_sim *sim, size_t k)
{
    unpack_block(data, sim, k);
}

/* Frees the store of a block whose state is back and marks it LIVE (serial). */
static void settle_block(compressor *c, n4d_sim *sim, size_t k)
{
    cblock *b = &c->blk[k];
    reclaim_state(c, sim, b);
    reclaim_ring(c, sim, b);
    b->unpacked = false;
    n4d__free(sim->ctx, N4D_MEM_COMPRESSED, b->buf, b->buf_len);
    c->bytes_before -= block_bytes(sim, b);
    c->bytes_after -= b->buf_len;
    c->compressed--;
    c->neurons -= b->n;
    c->restores++;
    b->buf = NULL;
    b->buf_len = 0;
    b->last_active = sim->step;
    atomic_store_explicit(&c->map.mode[k], N4D__SKIP_LIVE, memory_order_relaxed);
}

/* Restores block k if it is compressed (serial code). */
static void restore_block(compressor *c, n4d_sim *sim, size_t k)
{
    const uint8_t mode = atomic_load_explicit(&c->map.mode[k], memory_order_relaxed);
    if (mode == N4D__SKIP_LIVE)
        return;
    if (mode == N4D__SKIP_SKIP && !c->blk[k].unpacked)
        unpack_block(c, sim, k);
    settle_block(c, sim, k);
}

static void restore_all(compressor *c, n4d_sim *sim)
{
    for (size_t k = 0; k < c->map.n_blocks; k++)
        restore_block(c, sim, k);
}

/* Whether every neuron of the block is quiet: refractory counter 0, its
 * zero-input update changes no bit and does not spike, no pending input. */
static bool block_quiet(const n4d_sim *sim, const cblock *b)
{
    const n4d__pop_rt *p = &sim->runs[b->run];
    const uint64_t N = sim->n;
    for (uint64_t i = b->first; i < b->first + b->n; i++) {
        if (sim->ref[i] != 0)
            return false;
        float v = sim->v[i], x[N4D__NX];
        for (int j = 0; j < N4D__NX; j++)
            x[j] = sim->x[j][i];
        int32_t r = sim->ref[i];
        if (n4d__update_neuron(p, &v, &x[0], &x[1], &x[2], &r, 0.0f, 0.0f, 0.0f))
            return false;
        if (memcmp(&v, &sim->v[i], sizeof v) || r != sim->ref[i])
            return false;
        for (int j = 0; j < N4D__NX; j++)
            if (memcmp(&x[j], &sim->x[j][i], sizeof x[j]))
                return false;
        uint32_t bits;
        memcpy(&bits, &sim->iext[i], sizeof bits);
        if (bits)
            return false;
    }
    for (uint32_t slot = 0; slot < sim->ring_slots; slot++) /* sums beyond int32 */
        if (b->n && n4d__ring_slot_spilled(sim, slot, b->first, b->first + b->n))
            return false;
    for (uint64_t row = 0; row < (uint64_t)sim->ring_slots * 2; row++) {
        const int32_t *r = sim->ring + row * N;
        int32_t acc = 0;
        for (uint64_t i = b->first; i < b->first + b->n; i++)
            acc |= r[i];
        if (acc)
            return false;
    }
    return true;
}

/* Compresses block k (quiet); a failed allocation leaves it live. */
static void compress_block(compressor *c, n4d_sim *sim, size_t k)
{
    cblock *b = &c->blk[k];
    const size_t n = b->n, f = (size_t)b->first;
    float tmp[(1 + N4D__NX) * N4D__SKIP_BLOCK];
    memcpy(tmp, sim->v + f, n * sizeof(float));
    for (uint32_t j = 0; j < sim->nx; j++)
        memcpy(tmp + (j + 1) * n, sim->x[j] + f, n * sizeof(float));
    const uLong raw = (uLong)((1 + sim->nx) * n * sizeof(float));
    unsigned char scratch[(1 + N4D__NX) * N4D__SKIP_BLOCK * sizeof(float) + 1024];
    uLongf len = (uLongf)sizeof scratch;
    if (compressBound(raw) > len || compress2(scratch, &len, (const Bytef *)tmp, raw, c->level) != Z_OK)
        return;
    unsigned char *buf = n4d__alloc(sim->ctx, N4D_MEM_COMPRESSED, (size_t)len);
    if (!buf)
        return;
    memcpy(buf, scratch, (size_t)len);
    b->buf = buf;
    b->buf_len = (size_t)len;
    b->unpacked = false;
    if (c->release) {
        release_state(c, sim, b);
        release_ring(c, sim, b);
    }
    c->bytes_before += block_bytes(sim, b);
    c->bytes_after += b->buf_len;
    c->compressed++;
    c->neurons += b->n;
    c->compressions++;
    atomic_store_explicit(&c->map.mode[k], N4D__SKIP_SKIP, memory_order_relaxed);
}

/* ---- hooks ------------------------------------------------------------------------ */

static void on_step_internal(void *data, n4d_sim *sim, uint64_t step, const uint32_t *ids,
                             uint64_t count)
{
    compressor *c = data;
    for (uint64_t i = 0; i < count; i++)
        c->blk[c->block_of[ids[i]]].last_active = step;
    if (step % c->check_every != 0)
        return;
    for (size_t k = 0; k < c->map.n_blocks; k++) {
        cblock *b = &c->blk[k];
        if (b->unpacked) { /* written back for a reader: hand the pages back again */
            b->unpacked = false;
            if (c->release)
                release_state(c, sim, b);
            continue;
        }
        if (!c->map.run_ok[b->run] ||
            atomic_load_explicit(&c->map.mode[k], memory_order_relaxed) != N4D__SKIP_LIVE ||
            step < b->last_active || step - b->last_active < c->threshold || !block_quiet(sim, b))
            continue;
        compress_block(c, sim, k);
    }
}

/* The blocks woken during the update: their state is back, free the stores. */
static void before_delivery(void *data, n4d_sim *sim)
{
    compressor *c = data;
    for (size_t k = 0; k < c->map.n_blocks; k++)
        if (atomic_load_explicit(&c->map.mode[k], memory_order_relaxed) == N4D__SKIP_WOKEN)
            settle_block(c, sim, k);
}

/* Before the host state is read or written (not for external input only,
 * which a SKIP block wakes from by itself). A write may move a neuron off
 * its fixed point: every block is restored. A read only needs the values:
 * the compressed blocks' state is written back and they stay compressed
 * (their pages are handed back again at the next check), so a recording
 * that samples the state does not undo the compression. */
static n4d_status on_host(void *data, n4d_sim *sim, int why)
{
    compressor *c = data;
    if (why & N4D__HOST_WRITE) {
        restore_all(c, sim);
    } else if (why & N4D__HOST_READ) {
        for (size_t k = 0; k < c->map.n_blocks; k++) {
            cblock *b = &c->blk[k];
            if (atomic_load_explicit(&c->map.mode[k], memory_order_relaxed) != N4D__SKIP_SKIP ||
                b->unpacked)
                continue;
            unpack_block(c, sim, k);
            reclaim_state(c, sim, b);
            b->unpacked = true;
        }
    }
    return N4D_OK;
}

static void free_compressor(compressor *c, n4d_context *ctx, const n4d_sim *sim)
{
    const size_t nb = c->map.n_blocks ? c->map.n_blocks : 1;
    n4d__free(ctx, N4D_MEM_COMPRESSED, c->map.run_block, (sim->n_runs + 1) * sizeof *c->map.run_block);
    n4d__free(ctx, N4D_MEM_COMPRESSED, c->map.run_ok, (sim->n_runs ? sim->n_runs : 1) * sizeof *c->map.run_ok);
    n4d__free(ctx, N4D_MEM_COMPRESSED, (void *)c->map.mode, nb * sizeof *c->map.mode);
    n4d__free(ctx, N4D_MEM_COMPRESSED, c->blk, nb * sizeof *c->blk);
    n4d__free(ctx, N4D_MEM_COMPRESSED, c->block_of, (sim->n ? sim->n : 1) * sizeof *c->block_of);
    n4d__free(ctx, N4D_MEM_COMPRESSED, c, sizeof *c);
}

static void on_detach(void *data, n4d_sim *sim)
{
    compressor *c = data;
    restore_all(c, sim);
    sim->skip = NULL;
    free_compressor(c, sim->ctx, sim);
}

static const n4d__hook_ops compress_hooks = {
    .name = "compression",
    .on_step_internal = on_step_internal,
    .before_delivery = before_delivery,
    .on_host = on_host,
    .on_detach = on_detach,
};

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
    const n4d__backend *be = n4d__sim_backend_entry(sim);
    if (!(be->caps & N4D__CAP_COMPRESSION))
        return n4d__error(&sim->hdr, N4D_E_UNSUPPORTED,
                          "compression: the %s backend does not support it (use cpu-omp)", be->name);
    compressor *c = n4d__sim_hook_data(sim, &compress_hooks);
    if (c) {
        restore_all(c, sim);
        c->threshold = o.threshold_steps;
        c->check_every = o.check_every;
        c->level = o.level;
        return N4D_OK;
    }
    n4d_context *ctx = sim->ctx;
    c = n4d__calloc(ctx, N4D_MEM_COMPRESSED, 1, sizeof *c);
    if (!c)
        return n4d__error(&sim->hdr, N4D_E_NOMEM, "compression: out of memory");
    size_t nb = 0;
    for (size_t r = 0; r < sim->n_runs; r++)
        nb += (size_t)((sim->runs[r].n + N4D__SKIP_BLOCK - 1) / N4D__SKIP_BLOCK);
    c->map.n_blocks = nb;
    c->map.wake = wake_block;
    c->map.data = c;
    c->threshold = o.threshold_steps;
    c->check_every = o.check_every;
    c->level = o.level;
    c->release = n4d__default_allocator(ctx);
    c->map.run_block = n4d__calloc(ctx, N4D_MEM_COMPRESSED, sim->n_runs + 1, sizeof *c->map.run_block);
    c->map.run_ok = n4d__calloc(ctx, N4D_MEM_COMPRESSED, sim->n_runs ? sim->n_runs : 1, sizeof *c->map.run_ok);
    c->map.mode = n4d__calloc(ctx, N4D_MEM_COMPRESSED, nb ? nb : 1, sizeof *c->map.mode);
    c->blk = n4d__calloc(ctx, N4D_MEM_COMPRESSED, nb ? nb : 1, sizeof *c->blk);
    c->block_of = n4d__alloc(ctx, N4D_MEM_COMPRESSED, (sim->n ? sim->n : 1) * sizeof *c->block_of);
    if (!c->map.run_block || !c->map.run_ok || !c->map.mode || !c->blk || !c->block_of) {
        free_compressor(c, ctx, sim);
        return n4d__error(&sim->hdr, N4D_E_NOMEM, "compression: out of memory for %zu blocks", nb);
    }
    size_t k = 0;
    for (size_t r = 0; r < sim->n_runs; r++) {
        const n4d__pop_rt *p = &sim->runs[r];
        c->map.run_block[r] = k;
        bool ok = true;
        for (size_t d = 0; d < sim->n_dc; d++)
            ok = ok && sim->dc[d].target != p->pop;
        for (size_t q = 0; q < sim->n_poisson; q++)
            ok = ok && sim->poisson[q].pop != p->pop;
        ok = ok && !n4d__xin_targets(sim, p->pop);
        /* homeostatic scaling counts and rescales every neuron each window */
        ok = ok && !sim->model->pops[p->pop].has_homeo;
        c->map.run_ok[r] = ok;
        for (uint64_t f = p->first; f < p->first + p->n; f += N4D__SKIP_BLOCK, k++) {
            cblock *b = &c->blk[k];
            b->first = f;
            b->n = (uint32_t)(p->first + p->n - f < N4D__SKIP_BLOCK ? p->first + p->n - f : N4D__SKIP_BLOCK);
            b->run = (uint32_t)r;
            b->last_active = sim->step;
            for (uint64_t i = f; i < f + b->n; i++)
                c->block_of[i] = (uint32_t)k;
        }
    }
    c->map.run_block[sim->n_runs] = k;
    n4d_status st = n4d__sim_attach(sim, &compress_hooks, c, 0);
    if (st) {
        free_compressor(c, ctx, sim);
        return st;
    }
    sim->skip = &c->map;
    return N4D_OK;
}

n4d_status n4d_sim_compression_disable(n4d_sim *sim)
{
    if (!IS_SIM(sim))
        return N4D_E_INVALID_ARG;
    n4d__clear_error(&sim->hdr);
    n4d__sim_detach(sim, &compress_hooks); /* restores every block */
    return N4D_OK;
}

n4d_status n4d_sim_compression_stats(const n4d_sim *sim, n4d_compress_stats *out)
{
    if (!IS_SIM(sim) || !out || out->struct_size < sizeof(uint32_t))
        return N4D_E_INVALID_ARG;
    n4d_compress_stats full;
    memset(&full, 0, sizeof full);
    const compressor *c = n4d__sim_hook_data(sim, &compress_hooks);
    if (c) {
        full.blocks = c->map.n_blocks;
        full.blocks_compressed = c->compressed;
        full.neurons_compressed = c->neurons;
        full.bytes_before = c->bytes_before;
        full.bytes_after = c->bytes_after;
        full.bytes_saved_real = c->released_state + c->released_ring;
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
    compressor *c = n4d__sim_hook_data(sim, &compress_hooks);
    if (!c)
        return n4d__error(&sim->hdr, N4D_E_STATE, "n4d_sim_restore_neuron: compression is off");
    if (id >= sim->n)
        return n4d__error(&sim->hdr, N4D_E_RANGE, "neuron %llu does not exist (%llu neurons)",
                          (unsigned long long)id, (unsigned long long)sim->n);
    restore_block(c, sim, c->block_of[n4d__to_internal(sim->model, id)]);
    return N4D_OK;
}

n4d_status n4d_sim_compressed_neurons(const n4d_sim *sim, uint8_t *out, uint64_t count)
{
    if (!IS_SIM(sim))
        return N4D_E_INVALID_ARG;
    n4d_sim *s = (n4d_sim *)sim; /* errors are recorded on the handle, as for every query */
    n4d__clear_error(&s->hdr);
    if (count && !out)
        return n4d__error(&s->hdr, N4D_E_INVALID_ARG, "n4d_sim_compressed_neurons: out is NULL");
    if (count > s->n)
        return n4d__error(&s->hdr, N4D_E_RANGE,
                          "n4d_sim_compressed_neurons: count %llu exceeds the %llu neurons",
                          (unsigned long long)count, (unsigned long long)s->n);
    const compressor *c = n4d__sim_hook_data(s, &compress_hooks);
    for (uint64_t id = 0; id < count; id++)
        out[id] = c && c->blk[c->block_of[n4d__to_internal(s->model, id)]].buf ? 1 : 0;
    return N4D_OK;
}
