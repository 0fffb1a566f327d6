// The cuda simulation backend: device copies of the neuron state, the CSR
// synapses and the delay ring; one step = update kernel (neuron.h's
// per-neuron functions, Poisson input from the counter RNG keyed by user
// id), ordered compaction of the spike flags (CUB DeviceSelect: ids come
// out ascending), a one-thread bookkeeping kernel, and a kernel that
// appends the spikes to a device record buffer and delivers them with
// 64-bit integer atomics into the ring (order-independent integer sums:
// bitwise the CPU result).
//
// The host synchronises once per chunk of up to CHUNK_MAX steps, not per
// step: the steps of a chunk run back to back on one stream (replays of a
// CUDA graph of GRAPH_STEPS steps, then single launches), all step-dependent
// values live in a device control block. When the record buffer would
// overflow, the chunk halts on the device after the step that did not fit
// (later kernels of the chunk return at once) and the host reports what was
// done. Steps computed but not reported (an emit error) are kept on the host
// and reported first on the next run (backend.h's protocol).
#include <cuda_runtime.h>
#include <cub/device/device_select.cuh>
#include <thrust/iterator/counting_iterator.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

#include "cu_common.cuh"

namespace {

constexpr int UPDATE_BS = 256;           // neurons per update block
constexpr int POST_BS = 256;             // threads per delivery block
constexpr uint32_t CHUNK_MAX = 1024;     // steps between host synchronisations
constexpr uint32_t GRAPH_STEPS = 32;     // steps per captured graph
constexpr uint32_t NO_HALT = 0xffffffffu;
constexpr int MAX_POISSON = 16;          // per population (sim.c enforces it)

// Device control block of a chunk.
struct Ctl {
    unsigned long long t0;       // first step of the chunk
    unsigned int k;              // steps of the chunk started so far
    unsigned int halt_k;         // NO_HALT, or the step whose spikes did not fit
    long long nsel;              // spikes of the current step (CUB output)
    unsigned long long rec_off;  // entries used in the record buffer
    // the current step, for the delivery kernel (written by k_reserve)
    unsigned long long cur_t, cur_base, cur_count, cur_copy;
    unsigned int cur_tmod, cur_deliver;
    // plastic synapses: the step's facilitation flush, a full history
    unsigned int flush_now, n_flush, overflow; // overflow: neuron + 1
};

// Device pointers and sizes, passed by value to the kernels.
struct Dev {
    uint64_t n;
    uint32_t R;
    uint32_t n_dc, n_poisson;
    uint64_t seed;
    double dt, inv_scale;
    float *v, *x[N4D__NX], *iext; // x[nx..] alias v
    int32_t *ref;
    unsigned long long *ring;
    uint8_t *flag;
    uint32_t *spk;
    const n4d__pop_rt *runs;
    const uint32_t *blk_run, *blk_first;
    const n4d__cuda_dc *dc;
    const n4d__poisson_rt *poisson;
    const uint32_t *perm;
    const uint64_t *seg_ptr, *seg_off;
    const uint32_t *seg_key, *target;
    const int32_t *wq;
    uint32_t *rec;
    uint64_t rec_cap;
    uint32_t *counts;
    Ctl *ctl;
    // plastic synapses (plastic_dev.h): the device's state, the neurons
    // whose facilitation window closed, the last flush check
    int plastic;
    uint32_t max_delay;
    n4d__pdev pd;
    uint32_t *flush_ids;
    long long *lfc;
};

// ---- kernels -------------------------------------------------------------

__global__ void k_init(Ctl *c, unsigned long long t0)
{
    c->t0 = t0;
    c->k = 0;
    c->halt_k = NO_HALT;
    c->nsel = 0;
    c->rec_off = 0;
    c->cur_t = t0;
    c->cur_base = c->cur_count = c->cur_copy = 0;
    c->cur_tmod = 0;
    c->cur_deliver = 0;
    c->flush_now = 0;
    c->n_flush = 0;
    c->overflow = 0;
}

// One block covers up to UPDATE_BS neurons of one run (population range).
// The arithmetic is cpu_common.h's n4d__cpu_update_range, neuron by neuron.
__global__ void __launch_bounds__(UPDATE_BS) k_update(Dev d)
{
    __shared__ n4d__pop_rt p;
    __shared__ n4d__poisson_rt pin[MAX_POISSON];
    __shared__ int npin, halted;
    __shared__ float dc;
    __shared__ unsigned long long t, tmod;
    const uint32_t b = blockIdx.x;
    const uint32_t r = d.blk_run[b];
    if (threadIdx.x == 0) {
        const Ctl *c = d.ctl;
        halted = c->halt_k != NO_HALT;
        t = c->t0 + c->k;
        p = d.runs[r];
        // n4d__sim_dc: the DC inputs of the population active at t * dt
        float s = 0.0f;
        const double tt = (double)t * d.dt;
        for (uint32_t k = 0; k < d.n_dc; k++) {
            const n4d__cuda_dc in = d.dc[k];
            if (in.pop == p.pop && tt >= in.start - 1e-9 && tt < in.stop - 1e-9)
                s = s + (float)in.amplitude;
        }
        dc = s;
        int np = 0;
        for (uint32_t k = 0; k < d.n_poisson && np < MAX_POISSON; k++) {
            const n4d__poisson_rt &in = d.poisson[k];
            // a sparse input (block_ring: sim.c refuses the others) at its blocks' first steps
            if (in.pop == p.pop && (in.sparse ? n4d__poisson_block_starts(&in, t)
                                              : t >= in.step_start && t < in.step_stop))
                pin[np++] = in;
        }
        npin = np;
        tmod = t % d.R;
    }
    __syncthreads();
    if (halted)
        return;
    const uint64_t i = p.first + (uint64_t)(b - d.blk_first[r]) * UPDATE_BS + threadIdx.x;
    if (i >= p.first + p.n)
        return;
    unsigned long long *re = d.ring + (size_t)tmod * 2 * d.n;
    unsigned long long *ri = re + d.n;
    long long ae = (long long)re[i], ai = (long long)ri[i];
    re[i] = 0;
    ri[i] = 0;
    if (npin) {
        // keyed by user id: the same draws in any layout and on any backend
        const uint32_t uid = d.perm ? d.perm[i] : (uint32_t)i;
        for (int k = 0; k < npin; k++) {
            const long long w = pin[k].weight_q;
            if (pin[k].sparse) {
                // the block's events: this step's now, the later ones into the
                // ring (only this thread writes neuron i's entries in k_update)
                const uint64_t blk = t >> pin[k].block_log2;
                const uint32_t n = n4d__poisson_block_count(&pin[k], d.seed, uid, blk);
                n4d__r4 rp;
                for (uint32_t e = 0; e < n; e++) {
                    uint64_t te;
                    if (!n4d__poisson_event_at(&pin[k], d.seed, uid, blk, e, &rp, &te))
                        continue;
                    if (te == t)
                        *(w >= 0 ? &ae : &ai) += w;
                    else
                        d.ring[((size_t)(te % d.R) * 2 + (w < 0)) * d.n + i] +=
                            (unsigned long long)w;
                }
                continue;
            }
            const long long ev = (long long)n4d__poisson_events(&pin[k], d.seed, uid, t);
            if (w >= 0)
                ae += ev * w;
            else
                ai += ev * w;
        }
    }
    const float ext = d.iext[i] + dc;
    d.iext[i] = 0.0f;
    const int spike = n4d__update_neuron(&p, &d.v[i], &d.x[0][i], &d.x[1][i], &d.x[2][i], &d.ref[i],
                                         n4d__fixed_to_float(ae, d.inv_scale),
                                         n4d__fixed_to_float(ai, d.inv_scale), ext);
    d.flag[i] = (uint8_t)spike;
}

// Bookkeeping of the step (one thread): reserve room in the record buffer
// or halt the chunk, and publish the step for k_post.
__global__ void k_reserve(Dev d)
{
    Ctl *c = d.ctl;
    if (c->halt_k != NO_HALT) {
        c->cur_deliver = 0;
        c->cur_copy = 0;
        return;
    }
    const unsigned int k = c->k;
    const unsigned long long t = c->t0 + k;
    const unsigned long long cnt = (unsigned long long)c->nsel;
    c->cur_t = t;
    c->cur_tmod = (unsigned int)(t % d.R);
    c->cur_deliver = 1;
    c->cur_count = cnt;
    if (c->rec_off + cnt > d.rec_cap) {
        // the spikes stay in d.spk (the later selections of the chunk see
        // the same flags); the host reports them from there
        c->halt_k = k;
        c->cur_copy = 0;
    } else {
        c->cur_base = c->rec_off;
        c->cur_copy = cnt;
        d.counts[k] = (uint32_t)cnt;
        c->rec_off += cnt;
    }
    c->k = k + 1;
    // plastic.c's n4d__plastic_batch_begin for a batch of one step: the
    // closed facilitation windows are looked for at multiples of
    // N4D__FLUSH_EVERY steps
    c->flush_now = 0;
    c->n_flush = 0;
    if (d.plastic) {
        const long long check = (long long)(t / N4D__FLUSH_EVERY);
        if (d.pd.window > (int64_t)d.max_delay && check != *d.lfc) {
            *d.lfc = check;
            c->flush_now = 1;
        }
    }
}

// The neurons whose facilitation window closed (any order: each flushes
// its own synapses).
__global__ void k_pselect(Dev d)
{
    const Ctl *c = d.ctl;
    if (!c->cur_deliver || !c->flush_now)
        return;
    const uint64_t i = (uint64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= d.n || !n4d__pdev_select(&d.pd, (uint32_t)i, (int64_t)c->cur_t))
        return;
    d.pd.flushed[i] = d.pd.recent[i].step[0];
    d.flush_ids[atomicAdd(&d.ctl->n_flush, 1u)] = (uint32_t)i;
}

// The step's spikes into the histories (one thread per spike: one neuron).
__global__ void k_pappend(Dev d)
{
    Ctl *c = d.ctl;
    if (!c->cur_deliver)
        return;
    const unsigned long long cnt = c->cur_count;
    const uint64_t nth = (uint64_t)gridDim.x * blockDim.x;
    for (uint64_t j = (uint64_t)blockIdx.x * blockDim.x + threadIdx.x; j < cnt; j += nth) {
        const uint32_t i = d.spk[j];
        if (n4d__pdev_append(&d.pd, i, (int64_t)c->cur_t))
            atomicCAS(&c->overflow, 0u, i + 1);
    }
}

// The facilitation of the closed windows: a block per listed neuron, its
// threads over the synapses of its stdp segments.
__global__ void k_pflush(Dev d)
{
    const Ctl *c = d.ctl;
    if (!c->cur_deliver || !c->flush_now)
        return;
    const uint32_t nf = c->n_flush;
    for (uint32_t f = blockIdx.x; f < nf; f += gridDim.x) {
        const uint32_t src = d.flush_ids[f];
        const n4d__hview h = n4d__pdev_view(&d.pd, src);
        const n4d__spk last = *n4d__h_at(&h, h.len - 1);
        for (uint64_t g = d.seg_ptr[src]; g < d.seg_ptr[src + 1]; g++) {
            const uint32_t key = d.seg_key[g];
            const uint32_t cl = N4D__SEG_CLASS(key);
            if (!cl || d.pd.cls[cl - 1].rule != N4D__SYN_STDP)
                continue;
            const uint64_t j0 = d.seg_off[g], j1 = d.seg_off[g + 1];
            for (uint64_t j = j0 + threadIdx.x; j < j1; j += blockDim.x)
                n4d__pdev_flush_syn(&d.pd, &d.pd.cls[cl - 1], d.pd.seg_base[g] + (j - j0),
                                    d.target[j], &last, N4D__SEG_DELAY(key));
        }
    }
}

__device__ __forceinline__ unsigned long long *slot_of(const Dev &d, uint32_t key, uint32_t tmod)
{
    uint32_t slot = tmod + N4D__SEG_DELAY(key); // delay <= R - 1
    if (slot >= d.R)
        slot -= d.R;
    return d.ring + ((size_t)slot * 2 + N4D__SEG_CH(key)) * d.n;
}

// Delivers synapses first, first + stride, ... of row `src` (a plastic
// segment through its class's rule, plastic_dev.h).
__device__ void deliver_row(const Dev &d, uint32_t src, uint32_t tmod, uint64_t first,
                            uint64_t stride)
{
    const int64_t t = (int64_t)d.ctl->cur_t;
    const uint64_t g0 = d.seg_ptr[src], g1 = d.seg_ptr[src + 1];
    if (g0 == g1)
        return;
    const uint64_t j1 = d.seg_off[g1];
    uint64_t j = d.seg_off[g0] + first;
    if (j >= j1)
        return;
    // the segment holding j: the last g in [g0, g1) with seg_off[g] <= j
    uint64_t lo = g0, hi = g1 - 1;
    while (lo < hi) {
        const uint64_t mid = lo + (hi - lo + 1) / 2;
        if (d.seg_off[mid] <= j)
            lo = mid;
        else
            hi = mid - 1;
    }
    uint64_t g = lo, gend = d.seg_off[g + 1];
    unsigned long long *acc = slot_of(d, d.seg_key[g], tmod);
    // the source's spike before this one (plastic rules)
    n4d__spk prev = {N4D__NO_SPIKE, 0.0f, 0.0f};
    bool has_prev = false;
    if (d.plastic) {
        const n4d__hview h = n4d__pdev_view(&d.pd, src);
        const int64_t kp = n4d__h_before(&h, t);
        if (kp >= 0) {
            prev = *n4d__h_at(&h, (uint32_t)kp);
            has_prev = true;
        }
    }
    for (; j < j1; j += stride) {
        if (j >= gend) {
            do {
                g++;
                gend = d.seg_off[g + 1];
            } while (j >= gend);
            acc = slot_of(d, d.seg_key[g], tmod);
        }
        const uint32_t key = d.seg_key[g];
        const uint32_t cl = d.plastic ? N4D__SEG_CLASS(key) : 0;
        long long w = d.wq[j];
        if (cl)
            w = n4d__pdev_deliver_syn(&d.pd, &d.pd.cls[cl - 1], d.pd.seg_base[g] + (j - d.seg_off[g]),
                                      src, d.target[j], d.wq[j], t, has_prev ? &prev : nullptr,
                                      N4D__SEG_DELAY(key));
        // two's complement: adding the int64 as unsigned is the int64 sum
        atomicAdd(acc + d.target[j], (unsigned long long)w);
    }
}

// Appends the step's spikes to the record buffer and delivers them. With
// fewer spikes than blocks, each spike gets gridDim / count blocks.
__global__ void __launch_bounds__(POST_BS) k_post(Dev d)
{
    const Ctl *c = d.ctl;
    const unsigned long long ncopy = c->cur_copy;
    const uint64_t nth = (uint64_t)gridDim.x * blockDim.x;
    for (uint64_t j = (uint64_t)blockIdx.x * blockDim.x + threadIdx.x; j < ncopy; j += nth)
        d.rec[c->cur_base + j] = d.spk[j];
    if (!c->cur_deliver)
        return;
    const unsigned long long cnt = c->cur_count;
    if (cnt == 0)
        return;
    const uint32_t tmod = c->cur_tmod;
    const uint32_t G = gridDim.x;
    if (cnt >= G) {
        for (unsigned long long s = blockIdx.x; s < cnt; s += G)
            deliver_row(d, d.spk[s], tmod, threadIdx.x, blockDim.x);
    } else {
        const uint32_t per = G / (uint32_t)cnt;
        const uint32_t s = blockIdx.x / per;
        if (s >= cnt)
            return;
        const uint32_t sub = blockIdx.x % per;
        deliver_row(d, d.spk[s], tmod, (uint64_t)sub * blockDim.x + threadIdx.x,
                    (uint64_t)per * blockDim.x);
    }
}

// ---- the simulation object --------------------------------------------------

enum : unsigned {
    F_V = 1u, F_X = 2u, F_IEXT = 8u, F_REF = 16u, F_RING = 32u, // F_X: every x[j]
    F_PLASTIC = 64u, F_STATE = F_V | F_X | F_IEXT | F_REF, F_ALL = F_STATE | F_RING | F_PLASTIC
};

struct DSim {
    int device;
    cudaStream_t stream;
    Dev d;
    uint64_t n;
    uint32_t n_blocks, post_grid;
    // host state (the core's arrays)
    float *hv, *hx[N4D__NX], *hiext; // the copies below list x[0..2]
    static_assert(N4D__NX == 3, "list every x[j] in the copies of sim_create and sim_sync");
    uint32_t nx; // auxiliary state arrays in use
    int32_t *href;
    int64_t *hring;
    unsigned host_fresh;  // F_* bits: host copy equals the device
    // device allocations (owned)
    void *cub_tmp;
    size_t cub_bytes;
    uint64_t dev_bytes;
    void *allocs[64];
    // plastic synapses: the host's descriptor (its arrays: sim_sync) and
    // the classes as the device sees them
    n4d__cuda_plastic_desc hp;
    n4d__pdev_cls *dcls_host; // host copy of the device's class table
    int n_allocs;
    // host side of the record buffer (pinned)
    uint32_t *h_rec;
    uint32_t *h_counts;
    Ctl *h_ctl;
    uint64_t *h_off; // CHUNK_MAX + 1 offsets into h_rec
    // steps computed on the device but not reported: pend_step0 + [from, to)
    uint64_t next_step;
    uint64_t pend_step0;
    uint32_t pend_from, pend_to;
    // CUDA graph of GRAPH_STEPS steps
    int use_graph;  // 1 try, 0 off (disabled or failed), 2 built
    cudaGraphExec_t graph;
    // a chunk failed after its kernels were enqueued: the device state is
    // undefined (how many steps it holds is unknown)
    int broken;
};

template <class T> cudaError_t dalloc(DSim *s, T **p, uint64_t count)
{
    const size_t bytes = (size_t)(count ? count : 1) * sizeof(T);
    void *q = nullptr;
    cudaError_t e = cudaMalloc(&q, bytes);
    if (e != cudaSuccess)
        return e;
    s->allocs[s->n_allocs++] = q;
    s->dev_bytes += bytes;
    *p = static_cast<T *>(q);
    return cudaSuccess;
}

void destroy(DSim *s)
{
    if (!s)
        return;
    if (cudaSetDevice(s->device) == cudaSuccess) {
        if (s->stream)
            cudaStreamSynchronize(s->stream);
        if (s->graph)
            cudaGraphExecDestroy(s->graph);
        for (int k = 0; k < s->n_allocs; k++)
            cudaFree(s->allocs[k]);
        if (s->h_rec)
            cudaFreeHost(s->h_rec);
        if (s->h_counts)
            cudaFreeHost(s->h_counts);
        if (s->h_ctl)
            cudaFreeHost(s->h_ctl);
        if (s->stream)
            cudaStreamDestroy(s->stream);
    }
    (void)cudaGetLastError();
    std::free(s->h_off);
    std::free(s->dcls_host);
    delete s;
}

// Allocates and fills the device's plastic state (Dev::pd) from the host's.
cudaError_t plastic_create(DSim *s, const n4d__cuda_plastic_desc *p, uint64_t n_seg)
{
    Dev &d = s->d;
    const uint64_t N = s->n, P = p->n_pops;
    s->hp = *p;
    s->dcls_host = (n4d__pdev_cls *)std::calloc(p->n_cls ? p->n_cls : 1, sizeof(n4d__pdev_cls));
    if (!s->dcls_host)
        return cudaErrorMemoryAllocation;
    cudaError_t e = cudaSuccess;
    auto up = [&](auto **dst, const auto *src, uint64_t count) {
        if (e == cudaSuccess)
            e = dalloc(s, dst, count);
        if (e == cudaSuccess && src && count)
            e = cudaMemcpyAsync(*dst, src, count * sizeof **dst, cudaMemcpyHostToDevice, s->stream);
    };
    for (uint32_t k = 0; k < p->n_cls; k++) {
        const n4d__pdev_cls &h = p->cls[k];
        n4d__pdev_cls &c = s->dcls_host[k];
        c = h;
        c.wd = nullptr;
        c.wf = nullptr;
        c.tu = c.tx = nullptr;
        c.tlast = nullptr;
        if (h.wd)
            up(&c.wd, h.wd, p->cls_n[k]);
        if (h.wf)
            up(&c.wf, h.wf, p->cls_n[k]);
        if (h.tu) {
            up(&c.tu, h.tu, N);
            up(&c.tx, h.tx, N);
            up(&c.tlast, h.tlast, N);
        }
    }
    n4d__pdev &q = d.pd;
    n4d__pdev_cls *cls = nullptr;
    uint64_t *seg_base = nullptr;
    int32_t *pop_of = nullptr;
    uint8_t *tracked = nullptr, *np = nullptr, *nm = nullptr;
    double *itp = nullptr, *itm = nullptr;
    up(&cls, s->dcls_host, p->n_cls);
    up(&seg_base, p->seg_base, n_seg);
    up(&q.hist, p->hist, N * p->hist_cap);
    up(&q.head, p->hist_head, N);
    up(&q.len, p->hist_len, N);
    up(&q.recent, p->recent, N);
    up(&q.flushed, p->flushed, N);
    up(&pop_of, p->pop_of, N);
    up(&tracked, p->pop_tracked, P);
    up(&np, p->nearest_plus, P);
    up(&nm, p->nearest_minus, P);
    up(&itp, p->inv_tau_plus, P);
    up(&itm, p->inv_tau_minus, P);
    up(&d.flush_ids, (const uint32_t *)nullptr, N);
    up(&d.lfc, (const long long *)p->last_flush_check, 1);
    q.cls = cls;
    q.n_cls = p->n_cls;
    q.seg_base = seg_base;
    q.mask = p->hist_cap - 1;
    q.pop_of = pop_of;
    q.pop_tracked = tracked;
    q.nearest_plus = np;
    q.nearest_minus = nm;
    q.inv_tau_plus = itp;
    q.inv_tau_minus = itm;
    q.window = p->window;
    q.keep = p->keep;
    q.scale = p->scale;
    d.plastic = 1;
    return e;
}

// sim_sync's copies of the plastic state (enqueued on the stream).
cudaError_t plastic_copy(DSim *s, int to_host)
{
    const n4d__cuda_plastic_desc &h = s->hp;
    const uint64_t N = s->n;
    cudaError_t e = cudaSuccess;
    auto cp = [&](void *host, void *dev, size_t bytes) {
        if (e == cudaSuccess && bytes)
            e = cudaMemcpyAsync(to_host ? host : dev, to_host ? dev : host, bytes,
                                to_host ? cudaMemcpyDeviceToHost : cudaMemcpyHostToDevice,
                                s->stream);
    };
    for (uint32_t k = 0; k < h.n_cls; k++) {
        const n4d__pdev_cls &hc = h.cls[k], &dc = s->dcls_host[k];
        if (hc.wd)
            cp(hc.wd, dc.wd, h.cls_n[k] * sizeof(double));
        if (hc.wf)
            cp(hc.wf, dc.wf, h.cls_n[k] * sizeof(float));
        if (hc.tu) {
            cp(hc.tu, dc.tu, N * sizeof(double));
            cp(hc.tx, dc.tx, N * sizeof(double));
            cp(hc.tlast, dc.tlast, N * sizeof(int64_t));
        }
    }
    const n4d__pdev &q = s->d.pd;
    cp(h.hist, q.hist, N * h.hist_cap * sizeof(n4d__spk));
    cp(h.hist_head, q.head, N * sizeof(uint32_t));
    cp(h.hist_len, q.len, N * sizeof(uint32_t));
    cp(h.recent, q.recent, N * sizeof(n4d__recent));
    cp(h.flushed, q.flushed, N * sizeof(int64_t));
    cp(h.last_flush_check, s->d.lfc, sizeof(int64_t));
    return e;
}

// Enqueues one step.
cudaError_t launch_step(DSim *s)
{
    k_update<<<s->n_blocks, UPDATE_BS, 0, s->stream>>>(s->d);
    cudaError_t e = cub::DeviceSelect::Flagged(s->cub_tmp, s->cub_bytes,
                                               thrust::counting_iterator<uint32_t>(0), s->d.flag,
                                               s->d.spk, &s->d.ctl->nsel, (int64_t)s->n, s->stream);
    if (e != cudaSuccess)
        return e;
    k_reserve<<<1, 1, 0, s->stream>>>(s->d);
    if (s->d.plastic) {
        k_pselect<<<(unsigned)((s->n + POST_BS - 1) / POST_BS), POST_BS, 0, s->stream>>>(s->d);
        k_pappend<<<s->post_grid, POST_BS, 0, s->stream>>>(s->d);
        k_pflush<<<s->post_grid, POST_BS, 0, s->stream>>>(s->d);
    }
    k_post<<<s->post_grid, POST_BS, 0, s->stream>>>(s->d);
    return cudaGetLastError();
}

// Captures GRAPH_STEPS steps into a graph; on any failure graphs are off
// and steps are launched one by one (same results).
void build_graph(DSim *s)
{
    s->use_graph = 0;
    if (cudaStreamBeginCapture(s->stream, cudaStreamCaptureModeRelaxed) != cudaSuccess) {
        (void)cudaGetLastError();
        return;
    }
    cudaError_t e = cudaSuccess;
    for (uint32_t k = 0; k < GRAPH_STEPS && e == cudaSuccess; k++)
        e = launch_step(s);
    cudaGraph_t g = nullptr;
    cudaError_t e2 = cudaStreamEndCapture(s->stream, &g);
    if (e == cudaSuccess && e2 == cudaSuccess && g &&
        cudaGraphInstantiate(&s->graph, g, 0) == cudaSuccess)
        s->use_graph = 2;
    else
        s->graph = nullptr;
    if (g)
        cudaGraphDestroy(g);
    (void)cudaGetLastError();
}

// Runs K steps from next_step on the device and fetches their spikes; on
// return the steps done are pending report.
n4d_status run_chunk_steps(DSim *s, uint32_t K, char *err)
{
    uint32_t done = K;
    if (s->n == 0) {
        std::memset(s->h_counts, 0, (size_t)K * sizeof(uint32_t));
    } else {
        k_init<<<1, 1, 0, s->stream>>>(s->d.ctl, s->next_step);
        N4D_CU_TRY(cudaGetLastError(), "launching the step kernels");
        uint32_t k = 0;
        if (s->use_graph == 1 && K >= GRAPH_STEPS)
            build_graph(s);
        if (s->use_graph == 2)
            for (; k + GRAPH_STEPS <= K; k += GRAPH_STEPS)
                N4D_CU_TRY(cudaGraphLaunch(s->graph, s->stream), "cudaGraphLaunch");
        for (; k < K; k++)
            N4D_CU_TRY(launch_step(s), "launching the step kernels");
        N4D_CU_TRY(cudaMemcpyAsync(s->h_ctl, s->d.ctl, sizeof(Ctl), cudaMemcpyDeviceToHost,
                                   s->stream),
                   "copying the step counters");
        N4D_CU_TRY(cudaStreamSynchronize(s->stream), "running the step kernels");
        const Ctl c = *s->h_ctl;
        if (c.overflow)
            return n4dcu::fail(err, N4D_E_LIMIT,
                               "the spike history of neuron %u (internal index) outgrew the %u "
                               "spikes the device keeps per neuron; set N4D_CUDA_MAX_RATE (Hz, "
                               "default 500) above the neurons' average rate",
                               c.overflow - 1, s->hp.hist_cap);
        const uint32_t recorded = c.halt_k == NO_HALT ? K : c.halt_k;
        done = c.halt_k == NO_HALT ? K : c.halt_k + 1;
        if (recorded)
            N4D_CU_TRY(cudaMemcpyAsync(s->h_counts, s->d.counts, (size_t)recorded * sizeof(uint32_t),
                                       cudaMemcpyDeviceToHost, s->stream),
                       "copying spike counts");
        if (c.rec_off)
            N4D_CU_TRY(cudaMemcpyAsync(s->h_rec, s->d.rec, (size_t)c.rec_off * sizeof(uint32_t),
                                       cudaMemcpyDeviceToHost, s->stream),
                       "copying spikes");
        if (c.halt_k != NO_HALT) {
            s->h_counts[c.halt_k] = (uint32_t)c.nsel;
            if (c.nsel > 0)
                N4D_CU_TRY(cudaMemcpyAsync(s->h_rec + c.rec_off, s->d.spk,
                                           (size_t)c.nsel * sizeof(uint32_t),
                                           cudaMemcpyDeviceToHost, s->stream),
                           "copying spikes");
        }
        N4D_CU_TRY(cudaStreamSynchronize(s->stream), "copying spikes");
    }
    s->h_off[0] = 0;
    for (uint32_t j = 0; j < done; j++)
        s->h_off[j + 1] = s->h_off[j] + s->h_counts[j];
    s->pend_step0 = s->next_step;
    s->pend_from = 0;
    s->pend_to = done;
    s->next_step += done;
    s->host_fresh = 0;
    return N4D_OK;
}

n4d_status run_chunk(DSim *s, uint32_t K, char *err)
{
    const n4d_status st = run_chunk_steps(s, K, err);
    if (st)
        s->broken = 1;
    return st;
}

// Refuses to go on from an undefined device state.
n4d_status check_usable(const DSim *s, char *err)
{
    if (s->broken)
        return n4dcu::fail(err, N4D_E_STATE, "the device state is undefined after an earlier CUDA "
                           "error; destroy this simulation and create a new one");
    return N4D_OK;
}

// Reports pending steps while *steps > 0.
n4d_status emit_pending(DSim *s, uint64_t *steps, n4d__cuda_emit_fn emit, void *user, char *err)
{
    while (*steps > 0 && s->pend_from < s->pend_to) {
        const uint32_t j = s->pend_from;
        int reported = 0;
        n4d_status st = emit(user, s->pend_step0 + j, s->h_rec + s->h_off[j], s->h_counts[j],
                             &reported);
        if (reported)
            s->pend_from++;
        if (st != N4D_OK)
            return st;
        if (!reported) // cannot happen without an error; do not loop
            return n4dcu::fail(err, N4D_E_INTERNAL, "step %llu was not reported",
                               (unsigned long long)(s->pend_step0 + j));
        (*steps)--;
    }
    return N4D_OK;
}

// ---- entry points -----------------------------------------------------------

n4d_status sim_create(const n4d__cuda_sim_desc *desc, void **out, char *err)
{
    using namespace n4dcu;
    *out = nullptr;
    if (!desc || desc->struct_size < sizeof *desc)
        return fail(err, N4D_E_INVALID_ARG, "simulation descriptor of an older ABI");
    if (desc->n >= 0xffffffffull)
        return fail(err, N4D_E_LIMIT, "%llu neurons exceed 2^32 - 1",
                    (unsigned long long)desc->n);
    n4d_status st = use_device(desc->device, err);
    if (st)
        return st;
    DSim *s = new (std::nothrow) DSim();
    if (!s)
        return fail(err, N4D_E_NOMEM, "out of host memory");
    s->device = desc->device;
    s->n = desc->n;
    s->hv = desc->v;
    s->nx = desc->nx <= N4D__NX ? desc->nx : N4D__NX;
    for (int j = 0; j < N4D__NX; j++)
        s->hx[j] = desc->x[j];
    s->hiext = desc->iext;
    s->href = desc->ref;
    s->hring = desc->ring;
    s->next_step = desc->step;
    const char *graphs = std::getenv("N4D_CUDA_GRAPHS");
    s->use_graph = graphs && graphs[0] == '0' ? 0 : 1;
    Dev &d = s->d;
    d.n = desc->n;
    d.R = desc->ring_slots;
    d.seed = desc->seed;
    d.dt = desc->dt;
    d.inv_scale = desc->inv_scale;
    d.n_dc = (uint32_t)desc->n_dc;
    d.n_poisson = (uint32_t)desc->n_poisson;
    d.max_delay = desc->max_delay;
    const uint64_t N = desc->n;
    const uint64_t ring_len = (uint64_t)desc->ring_slots * 2 * N;
    // record buffer: at least one step of all neurons, up to 2^24 entries
    uint64_t rec_cap = N * 4;
    if (rec_cap < (1u << 20))
        rec_cap = 1u << 20;
    if (rec_cap > (1u << 24))
        rec_cap = 1u << 24;
    if (rec_cap < N)
        rec_cap = N;
    // testing knob: a small buffer makes chunks halt often (any size >= 1
    // works: a halted step's spikes are reported from the spike list)
    const char *cap_env = std::getenv("N4D_CUDA_RECORD_CAP");
    if (cap_env && *cap_env) {
        const unsigned long long v = std::strtoull(cap_env, nullptr, 10);
        if (v >= 1)
            rec_cap = v;
    }
    d.rec_cap = rec_cap;

    // the block table of the update kernel: blocks of each run
    uint64_t nb = 0;
    for (uint64_t r = 0; r < desc->n_runs; r++)
        nb += (desc->runs[r].n + UPDATE_BS - 1) / UPDATE_BS;
    if (nb >= 0x7fffffffull) {
        destroy(s);
        return fail(err, N4D_E_LIMIT, "too many update blocks (%llu)", (unsigned long long)nb);
    }
    s->n_blocks = (uint32_t)nb;
    uint32_t *blk_run = (uint32_t *)std::malloc((size_t)(nb ? nb : 1) * sizeof(uint32_t));
    uint32_t *blk_first =
        (uint32_t *)std::malloc((size_t)(desc->n_runs ? desc->n_runs : 1) * sizeof(uint32_t));
    s->h_off = (uint64_t *)std::malloc((CHUNK_MAX + 1) * sizeof(uint64_t));
    if (!blk_run || !blk_first || !s->h_off) {
        std::free(blk_run);
        std::free(blk_first);
        destroy(s);
        return fail(err, N4D_E_NOMEM, "out of host memory");
    }
    nb = 0;
    for (uint64_t r = 0; r < desc->n_runs; r++) {
        blk_first[r] = (uint32_t)nb;
        for (uint64_t b = 0; b < (desc->runs[r].n + UPDATE_BS - 1) / UPDATE_BS; b++)
            blk_run[nb++] = (uint32_t)r;
    }

    cudaError_t e = cudaSuccess;
    const char *what = "";
#define ALLOC(ptr, count, name)                                                                    \
    if (e == cudaSuccess) {                                                                        \
        e = dalloc(s, &(ptr), (count));                                                           \
        what = (name);                                                                             \
    }
    // (null until allocated: the loop over x[] hides from the compiler that
    // every pointer is set when e is still cudaSuccess)
    float *v = nullptr, *x[N4D__NX] = {}, *iext = nullptr;
    int32_t *ref = nullptr;
    unsigned long long *ring = nullptr;
    uint8_t *flag = nullptr;
    uint32_t *spk = nullptr, *rec = nullptr, *counts = nullptr, *dblk_run = nullptr,
             *dblk_first = nullptr, *perm = nullptr, *seg_key = nullptr, *target = nullptr;
    n4d__pop_rt *runs = nullptr;
    n4d__cuda_dc *dc = nullptr;
    n4d__poisson_rt *poisson = nullptr;
    uint64_t *seg_ptr = nullptr, *seg_off = nullptr;
    int32_t *wq = nullptr;
    Ctl *ctl = nullptr;
    ALLOC(v, N, "the membrane potentials");
    for (uint32_t j = 0; j < s->nx; j++)
        ALLOC(x[j], N, "the state arrays");
    ALLOC(iext, N, "the external input");
    ALLOC(ref, N, "the refractory counters");
    ALLOC(ring, ring_len, "the delay ring buffer");
    ALLOC(flag, N, "the spike flags");
    ALLOC(spk, N, "the spike list");
    ALLOC(rec, rec_cap, "the spike record buffer");
    ALLOC(counts, CHUNK_MAX, "the spike counts");
    ALLOC(runs, desc->n_runs, "the population constants");
    ALLOC(dblk_run, s->n_blocks, "the block table");
    ALLOC(dblk_first, desc->n_runs, "the block table");
    ALLOC(dc, desc->n_dc, "the DC inputs");
    ALLOC(poisson, desc->n_poisson, "the Poisson inputs");
    if (desc->perm)
        ALLOC(perm, N, "the id map");
    ALLOC(seg_ptr, N + 1, "the synapse rows");
    ALLOC(seg_off, desc->n_seg + 1, "the synapse segments");
    ALLOC(seg_key, desc->n_seg, "the synapse segments");
    ALLOC(target, desc->n_syn, "the synapse targets");
    ALLOC(wq, desc->n_syn, "the synapse weights");
    ALLOC(ctl, 1, "the control block");
#undef ALLOC
    if (e != cudaSuccess) {
        std::free(blk_run);
        std::free(blk_first);
        char msg[256];
        snprintf(msg, sizeof msg, "cudaMalloc for %s (%.1f MB already on the device)", what,
                 (double)s->dev_bytes / 1048576.0);
        destroy(s);
        return cuda_fail(err, e, msg);
    }
    d.v = v;
    for (int j = 0; j < N4D__NX; j++)
        d.x[j] = (uint32_t)j < s->nx ? x[j] : v; // unused arrays alias v (never read)
    d.iext = iext;
    d.ref = ref;
    d.ring = ring;
    d.flag = flag;
    d.spk = spk;
    d.rec = rec;
    d.counts = counts;
    d.runs = runs;
    d.blk_run = dblk_run;
    d.blk_first = dblk_first;
    d.dc = dc;
    d.poisson = poisson;
    d.perm = perm;
    d.seg_ptr = seg_ptr;
    d.seg_off = seg_off;
    d.seg_key = seg_key;
    d.target = target;
    d.wq = wq;
    d.ctl = ctl;

    e = cudaStreamCreateWithFlags(&s->stream, cudaStreamNonBlocking);
    // copies (a NULL source: zeros, e.g. the rows of a model without synapses)
    struct Up {
        void *dst;
        const void *src;
        size_t bytes;
    } up[] = {
        {v, desc->v, N * sizeof(float)},
        {x[0], desc->x[0], s->nx > 0 ? N * sizeof(float) : 0},
        {x[1], desc->x[1], s->nx > 1 ? N * sizeof(float) : 0},
        {x[2], desc->x[2], s->nx > 2 ? N * sizeof(float) : 0},
        {iext, desc->iext, N * sizeof(float)},
        {ref, desc->ref, N * sizeof(int32_t)},
        {flag, nullptr, N * sizeof(uint8_t)}, // zeros
        {ring, desc->ring, ring_len * sizeof(int64_t)},
        {runs, desc->runs, desc->n_runs * sizeof(n4d__pop_rt)},
        {dblk_run, blk_run, (size_t)s->n_blocks * sizeof(uint32_t)},
        {dblk_first, blk_first, desc->n_runs * sizeof(uint32_t)},
        {dc, desc->dc, desc->n_dc * sizeof(n4d__cuda_dc)},
        {poisson, desc->poisson, desc->n_poisson * sizeof(n4d__poisson_rt)},
        {perm, desc->perm, desc->perm ? N * sizeof(uint32_t) : 0},
        {seg_ptr, desc->seg_ptr, (N + 1) * sizeof(uint64_t)},
        {seg_off, desc->seg_off, (desc->n_seg + 1) * sizeof(uint64_t)},
        {seg_key, desc->seg_key, desc->n_seg * sizeof(uint32_t)},
        {target, desc->target, desc->n_syn * sizeof(uint32_t)},
        {wq, desc->weight_q, desc->n_syn * sizeof(int32_t)},
    };
    for (size_t k = 0; k < sizeof up / sizeof up[0] && e == cudaSuccess; k++) {
        if (!up[k].bytes)
            continue;
        e = up[k].src ? cudaMemcpyAsync(up[k].dst, up[k].src, up[k].bytes, cudaMemcpyHostToDevice,
                                        s->stream)
                      : cudaMemsetAsync(up[k].dst, 0, up[k].bytes, s->stream);
    }
    if (e == cudaSuccess && desc->plastic)
        e = plastic_create(s, desc->plastic, desc->n_seg);
    if (e == cudaSuccess)
        e = cudaStreamSynchronize(s->stream);
    std::free(blk_run);
    std::free(blk_first);
    if (e != cudaSuccess) {
        destroy(s);
        return cuda_fail(err, e, "copying the model to the device");
    }
    // CUB scratch space, pinned host buffers, launch geometry
    e = cub::DeviceSelect::Flagged(nullptr, s->cub_bytes, thrust::counting_iterator<uint32_t>(0),
                                   d.flag, d.spk, &d.ctl->nsel, (int64_t)(N ? N : 1), s->stream);
    if (e == cudaSuccess)
        e = dalloc(s, (uint8_t **)&s->cub_tmp, s->cub_bytes);
    if (e == cudaSuccess)
        e = cudaMallocHost((void **)&s->h_rec, (size_t)(rec_cap + N) * sizeof(uint32_t));
    if (e == cudaSuccess)
        e = cudaMallocHost((void **)&s->h_counts, (CHUNK_MAX + 1) * sizeof(uint32_t));
    if (e == cudaSuccess)
        e = cudaMallocHost((void **)&s->h_ctl, sizeof(Ctl));
    int sms = 0;
    if (e == cudaSuccess)
        e = cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, s->device);
    if (e != cudaSuccess) {
        destroy(s);
        return cuda_fail(err, e, "allocating the spike buffers");
    }
    s->post_grid = (uint32_t)(sms > 0 ? sms : 1) * (2048 / POST_BS);
    s->host_fresh = F_ALL;
    *out = s;
    return N4D_OK;
}

void sim_destroy(void *h)
{
    destroy(static_cast<DSim *>(h));
}

n4d_status sim_run(void *h, uint64_t steps, n4d__cuda_emit_fn emit, void *user, char *err)
{
    DSim *s = static_cast<DSim *>(h);
    n4d_status st = check_usable(s, err);
    if (st || (st = n4dcu::use_device(s->device, err)))
        return st;
    if ((st = emit_pending(s, &steps, emit, user, err)))
        return st;
    while (steps > 0) {
        const uint32_t K = steps < CHUNK_MAX ? (uint32_t)steps : CHUNK_MAX;
        if ((st = run_chunk(s, K, err)))
            return st;
        if ((st = emit_pending(s, &steps, emit, user, err)))
            return st;
    }
    return N4D_OK;
}

n4d_status sim_sync(void *h, uint32_t flags, uint64_t step, char *err)
{
    DSim *s = static_cast<DSim *>(h);
    n4d_status st = check_usable(s, err);
    if (st || (st = n4dcu::use_device(s->device, err)))
        return st;
    const Dev &d = s->d;
    const uint64_t N = s->n;
    const unsigned sel = (flags & N4D__SYNC_IEXT)      ? F_IEXT
                         : (flags & N4D__SYNC_STATE)   ? F_STATE
                         : (flags & N4D__SYNC_PLASTIC) ? F_PLASTIC
                                                       : F_ALL;
    struct Arr {
        unsigned bit;
        void *host, *dev;
        size_t bytes;
    } arr[] = {
        {F_V, s->hv, d.v, N * sizeof(float)},
        {F_X, s->hx[0], d.x[0], s->nx > 0 ? N * sizeof(float) : 0},
        {F_X, s->hx[1], d.x[1], s->nx > 1 ? N * sizeof(float) : 0},
        {F_X, s->hx[2], d.x[2], s->nx > 2 ? N * sizeof(float) : 0},
        {F_IEXT, s->hiext, d.iext, N * sizeof(float)},
        {F_REF, s->href, d.ref, N * sizeof(int32_t)},
        {F_RING, s->hring, d.ring, (size_t)d.R * 2 * N * sizeof(int64_t)},
    };
    const int to_host = (flags & N4D__SYNC_TO_HOST) != 0;
    if (to_host && s->pend_from < s->pend_to)
        // the device is ahead of the host's step counter (a report failed):
        // its state belongs to a later step than the one the host shows
        return n4dcu::fail(err, N4D_E_STATE,
                           "%u steps were computed but not reported (an earlier report failed); "
                           "run the simulation to report them before reading its state",
                           s->pend_to - s->pend_from);
    if (!to_host && step != s->next_step - (s->pend_to - s->pend_from)) {
        // the host moved the step counter (a restored checkpoint): steps
        // computed but not reported belong to the old state
        s->pend_from = s->pend_to = 0;
        s->next_step = step;
    }
    for (const Arr &a : arr) {
        if (!(sel & a.bit) || a.bytes == 0)
            continue;
        if (to_host && (s->host_fresh & a.bit))
            continue;
        N4D_CU_TRY(cudaMemcpyAsync(to_host ? a.host : a.dev, to_host ? a.dev : a.host, a.bytes,
                                   to_host ? cudaMemcpyDeviceToHost : cudaMemcpyHostToDevice,
                                   s->stream),
                   to_host ? "copying the state to the host" : "copying the state to the device");
    }
    if (s->d.plastic && (sel & F_PLASTIC) && !(to_host && (s->host_fresh & F_PLASTIC)))
        N4D_CU_TRY(plastic_copy(s, to_host), to_host ? "copying the plastic state to the host"
                                                    : "copying the plastic state to the device");
    N4D_CU_TRY(cudaStreamSynchronize(s->stream), "copying the state");
    s->host_fresh |= sel;
    return N4D_OK;
}

uint64_t sim_device_bytes(const void *h)
{
    return h ? static_cast<const DSim *>(h)->dev_bytes : 0;
}

} // namespace

// Table entries of this translation unit (gpu_api.cu builds the table).
namespace n4dcu {
n4d_status backend_sim_create(const n4d__cuda_sim_desc *d, void **out, char *err)
{
    return sim_create(d, out, err);
}
void backend_sim_destroy(void *h) { sim_destroy(h); }
n4d_status backend_sim_run(void *h, uint64_t steps, n4d__cuda_emit_fn emit, void *user, char *err)
{
    return sim_run(h, steps, emit, user, err);
}
n4d_status backend_sim_sync(void *h, uint32_t flags, uint64_t step, char *err)
{
    return sim_sync(h, flags, step, err);
}
uint64_t backend_sim_device_bytes(const void *h) { return sim_device_bytes(h); }
} // namespace n4dcu
