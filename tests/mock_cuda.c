/* A stand-in for libn4d_cuda.so that runs on the CPU, for the tests of
 * construction on the GPU (tests/test_build_device.c): it reports one device
 * and implements the build entries of the library's table with the same
 * algorithm as cuda/build.cu, step for step, on the host: counts per
 * (projection, source) item, per fixed_indegree target (sources kept) or
 * distinct pair; a staging area in projection order; two stable sorts, by
 * (internal target, ordered weight bits) and then by (internal row, key);
 * segments numbered by an exclusive prefix sum; fixed point by round to
 * nearest even. So the core's device path (choice, layout, fallbacks, error
 * handling, accounting) and the device algorithm are tested without a GPU.
 * Keep it in step with cuda/build.cu.
 *
 * Simulations (sim_*) follow cuda/backend.cu the same way: chunks, the
 * device record buffer and its halts, pending reports, sync rules, and the
 * plastic synapses: the kernels' per-thread functions (plastic_dev.h) run
 * in loops over the threads, in the kernels' order (select, append, flush,
 * deliver), on the "device" copies of the classes' state and histories.
 *
 * N4D_MOCK_FAIL=count|fill|fetch makes that entry fail with N4D_E_NOMEM;
 * N4D_MOCK_BAD_COUNTS=1 reports one synapse too many for neuron 0;
 * N4D_MOCK_CORRUPT=1 makes the simulations deliver wrong weights (a device
 * that computes wrong results: "auto" must not use it).
 * The array API computes on the host what the device computes. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <math.h>
#include <time.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_api.h"

#define KEY_BITS 17

static n4d_status fail(char *err, n4d_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, N4D_CUDA_ERR_CAP, fmt, ap);
    va_end(ap);
    return st;
}

static int injected(const char *entry)
{
    const char *f = getenv("N4D_MOCK_FAIL");
    return f && strcmp(f, entry) == 0;
}

/* ---- devices: one mock device ------------------------------------------------------ */

static n4d_status device_count(int32_t *count, char *err)
{
    (void)err;
    *count = 1;
    return N4D_OK;
}

static n4d_status device_info(int32_t device, n4d__cuda_device_info *out, char *err)
{
    if (device != 0)
        return fail(err, N4D_E_NO_DEVICE, "mock: no device %d", (int)device);
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "mock device (host emulation of the device build)");
    out->total_bytes = (uint64_t)1 << 34;
    out->multiprocessors = 1;
    return N4D_OK;
}

static n4d_status mem_info(int32_t device, uint64_t *free_bytes, uint64_t *total_bytes, char *err)
{
    (void)device;
    (void)err;
    *free_bytes = *total_bytes = (uint64_t)1 << 34;
    return N4D_OK;
}

static void *dup_array(const void *p, size_t bytes)
{
    if (!p)
        return NULL;
    void *q = malloc(bytes > 0 ? bytes : 1);
    if (q)
        memcpy(q, p, bytes);
    return q;
}

/* ---- the simulation: cuda/backend.cu on the host --------------------------------------
 * The same chunks of up to CHUNK_MAX steps, the device record buffer and its
 * halt when a step does not fit, the spikes of a step in ascending order, the
 * delivery into the ring, the report of pending steps and the rules of
 * sim_sync. Only the parallelism is missing. */

#define CHUNK_MAX 1024u
#define NO_HALT 0xffffffffu
#define MAX_POISSON 16

enum { F_V = 1u, F_X = 2u, F_IEXT = 8u, F_REF = 16u, F_RING = 32u, /* F_X: every x[j] */
       F_PLASTIC = 64u, F_STATE = F_V | F_X | F_IEXT | F_REF, F_ALL = F_STATE | F_RING | F_PLASTIC };

typedef struct mock_ctl {
    uint64_t t0;
    uint32_t k, halt_k;
    uint64_t nsel, rec_off;
    uint64_t cur_base, cur_count, cur_copy;
    uint32_t cur_tmod, cur_deliver;
} mock_ctl;

typedef struct mock_sim {
    n4d__cuda_sim_desc d;    /* host state pointers and sizes; the other
                              * arrays point to the copies below */
    n4d__pop_rt *runs;
    n4d__cuda_dc *dc;
    n4d__poisson_rt *poisson;
    uint64_t *seg_ptr, *seg_off;
    uint32_t *seg_key, *target;
    int32_t *wq;
    uint64_t n;
    uint32_t R;
    /* "device" copies */
    float *v, *x[N4D__NX], *iext; /* x[nx..] alias v, as on the device */
    uint32_t nx;
    int32_t *ref;
    int64_t *ring;
    uint8_t *flag;
    uint32_t *spk, *rec, *counts, *perm;
    uint64_t rec_cap;
    mock_ctl ctl;
    /* host side of the record */
    uint32_t *h_rec, h_counts[CHUNK_MAX + 1];
    uint64_t h_off[CHUNK_MAX + 1];
    uint64_t next_step, pend_step0;
    uint32_t pend_from, pend_to;
    unsigned host_fresh;
    int corrupt; /* N4D_MOCK_CORRUPT: every delivered weight 1.5 times too large */
    /* plastic synapses (cuda/backend.cu's Dev::pd and its arrays) */
    int plastic;
    n4d__cuda_plastic_desc hp; /* the host's arrays */
    n4d__pdev pd;              /* the "device" copies */
    n4d__pdev_cls *cls;
    uint32_t *flush_ids;
    uint64_t n_flush;
    int64_t lfc;               /* last_flush_check */
    uint32_t overflow;         /* neuron + 1 whose history was full */
} mock_sim;

static void plastic_free(mock_sim *s)
{
    if (!s->plastic)
        return;
    for (uint32_t k = 0; s->cls && k < s->hp.n_cls; k++) {
        free(s->cls[k].wd);
        free(s->cls[k].wf);
        free(s->cls[k].tu);
        free(s->cls[k].tx);
        free(s->cls[k].tlast);
    }
    free(s->cls);
    free((void *)s->pd.seg_base);
    free(s->pd.hist);
    free(s->pd.head);
    free(s->pd.len);
    free(s->pd.recent);
    free(s->pd.flushed);
    free((void *)s->pd.pop_of);
    free((void *)s->pd.pop_tracked);
    free((void *)s->pd.inv_tau_plus);
    free((void *)s->pd.inv_tau_minus);
    free((void *)s->pd.nearest_plus);
    free((void *)s->pd.nearest_minus);
    free(s->flush_ids);
}

/* The copies, as sim_create makes them on the device. */
static int plastic_create(mock_sim *s, const n4d__cuda_plastic_desc *p)
{
    const uint64_t N = s->n, n1 = N ? N : 1, P = p->n_pops ? p->n_pops : 1;
    s->plastic = 1;
    s->hp = *p;
    s->cls = calloc(p->n_cls ? p->n_cls : 1, sizeof *s->cls);
    if (!s->cls)
        return 0;
    int ok = 1;
    for (uint32_t k = 0; k < p->n_cls; k++) {
        const n4d__pdev_cls *h = &p->cls[k];
        n4d__pdev_cls *c = &s->cls[k];
        *c = *h;
        c->wd = dup_array(h->wd, p->cls_n[k] * sizeof(double));
        c->wf = dup_array(h->wf, p->cls_n[k] * sizeof(float));
        c->tu = dup_array(h->tu, N * sizeof(double));
        c->tx = dup_array(h->tx, N * sizeof(double));
        c->tlast = dup_array(h->tlast, N * sizeof(int64_t));
        ok = ok && (!h->wd || c->wd) && (!h->wf || c->wf) && (!h->tu || c->tu) &&
             (!h->tx || c->tx) && (!h->tlast || c->tlast);
    }
    n4d__pdev *d = &s->pd;
    d->cls = s->cls;
    d->n_cls = p->n_cls;
    d->seg_base = dup_array(p->seg_base, s->d.n_seg * sizeof(uint64_t));
    d->mask = p->hist_cap - 1;
    d->hist = dup_array(p->hist, n1 * p->hist_cap * sizeof(n4d__spk));
    d->head = dup_array(p->hist_head, n1 * sizeof(uint32_t));
    d->len = dup_array(p->hist_len, n1 * sizeof(uint32_t));
    d->recent = dup_array(p->recent, n1 * sizeof(n4d__recent));
    d->flushed = dup_array(p->flushed, n1 * sizeof(int64_t));
    d->pop_of = dup_array(p->pop_of, n1 * sizeof(int32_t));
    d->pop_tracked = dup_array(p->pop_tracked, P);
    d->inv_tau_plus = dup_array(p->inv_tau_plus, P * sizeof(double));
    d->inv_tau_minus = dup_array(p->inv_tau_minus, P * sizeof(double));
    d->nearest_plus = dup_array(p->nearest_plus, P);
    d->nearest_minus = dup_array(p->nearest_minus, P);
    d->window = p->window;
    d->keep = p->keep;
    d->scale = p->scale;
    s->flush_ids = malloc(n1 * sizeof(uint32_t));
    s->lfc = *p->last_flush_check;
    return ok && (!s->d.n_seg || d->seg_base) && d->hist && d->head && d->len && d->recent &&
           d->flushed && d->pop_of && d->pop_tracked && d->inv_tau_plus && d->inv_tau_minus &&
           d->nearest_plus && d->nearest_minus && s->flush_ids;
}

/* sim_sync's copies of the plastic state */
static void plastic_sync(mock_sim *s, int to_host)
{
    const n4d__cuda_plastic_desc *h = &s->hp;
    const uint64_t N = s->n;
#define CP(host, dev, bytes)                                                                       \
    do {                                                                                           \
        if ((bytes) != 0)                                                                          \
            memcpy(to_host ? (void *)(host) : (void *)(dev),                                       \
                   to_host ? (const void *)(dev) : (const void *)(host), (bytes));                 \
    } while (0)
    for (uint32_t k = 0; k < h->n_cls; k++) {
        const n4d__pdev_cls *hc = &h->cls[k];
        n4d__pdev_cls *c = &s->cls[k];
        if (hc->wd)
            CP(hc->wd, c->wd, h->cls_n[k] * sizeof(double));
        if (hc->wf)
            CP(hc->wf, c->wf, h->cls_n[k] * sizeof(float));
        if (hc->tu) {
            CP(hc->tu, c->tu, N * sizeof(double));
            CP(hc->tx, c->tx, N * sizeof(double));
            CP(hc->tlast, c->tlast, N * sizeof(int64_t));
        }
    }
    CP(h->hist, s->pd.hist, N * h->hist_cap * sizeof(n4d__spk));
    CP(h->hist_head, s->pd.head, N * sizeof(uint32_t));
    CP(h->hist_len, s->pd.len, N * sizeof(uint32_t));
    CP(h->recent, s->pd.recent, N * sizeof(n4d__recent));
    CP(h->flushed, s->pd.flushed, N * sizeof(int64_t));
    CP(h->last_flush_check, &s->lfc, sizeof(int64_t));
#undef CP
}

static void sim_destroy(void *h)
{
    mock_sim *s = h;
    if (!s)
        return;
    free(s->v);
    for (uint32_t j = 0; j < s->nx; j++)
        free(s->x[j]);
    free(s->iext);
    free(s->ref);
    free(s->ring);
    free(s->flag);
    free(s->spk);
    free(s->rec);
    free(s->counts);
    free(s->perm);
    free(s->h_rec);
    free(s->runs);
    free(s->dc);
    free(s->poisson);
    free(s->seg_ptr);
    free(s->seg_off);
    free(s->seg_key);
    free(s->target);
    free(s->wq);
    plastic_free(s);
    free(s);
}

static n4d_status sim_create(const n4d__cuda_sim_desc *d, void **out, char *err)
{
    *out = NULL;
    if (!d || d->struct_size < sizeof *d)
        return fail(err, N4D_E_INVALID_ARG, "mock: simulation descriptor of an older ABI");
    mock_sim *s = calloc(1, sizeof *s);
    if (!s)
        return fail(err, N4D_E_NOMEM, "mock: out of host memory");
    const uint64_t N = d->n, ring_len = (uint64_t)d->ring_slots * 2 * N;
    s->d = *d;
    s->n = N;
    s->R = d->ring_slots;
    s->next_step = d->step;
    uint64_t cap = N * 4;
    cap = cap < (1u << 20) ? (1u << 20) : cap;
    cap = cap > (1u << 24) ? (1u << 24) : cap;
    cap = cap < N ? N : cap;
    const char *env = getenv("N4D_CUDA_RECORD_CAP");
    if (env && *env && strtoull(env, NULL, 10) >= 1)
        cap = strtoull(env, NULL, 10);
    s->rec_cap = cap;
    const size_t n1 = N ? N : 1;
    s->v = dup_array(d->v, N * sizeof(float));
    s->nx = d->nx <= N4D__NX ? d->nx : N4D__NX;
    int x_ok = 1;
    for (uint32_t j = 0; j < s->nx; j++)
        x_ok = x_ok && (s->x[j] = dup_array(d->x[j], N * sizeof(float))) != NULL;
    for (uint32_t j = s->nx; j < N4D__NX; j++)
        s->x[j] = s->v;
    s->iext = dup_array(d->iext, N * sizeof(float));
    s->ref = dup_array(d->ref, N * sizeof(int32_t));
    s->ring = dup_array(d->ring, ring_len * sizeof(int64_t));
    s->flag = calloc(n1, 1);
    s->spk = malloc(n1 * sizeof(uint32_t));
    s->rec = malloc(cap * sizeof(uint32_t));
    s->counts = malloc(CHUNK_MAX * sizeof(uint32_t));
    s->h_rec = malloc((cap + N) * sizeof(uint32_t));
    if (d->perm)
        s->perm = dup_array(d->perm, N * sizeof(uint32_t));
    /* the descriptor's other arrays may be freed after sim_create: copies */
    s->runs = dup_array(d->runs, d->n_runs * sizeof *d->runs);
    s->dc = dup_array(d->dc, d->n_dc * sizeof *d->dc);
    s->poisson = dup_array(d->poisson, d->n_poisson * sizeof *d->poisson);
    s->seg_ptr = dup_array(d->seg_ptr, (N + 1) * sizeof *d->seg_ptr);
    s->seg_off = dup_array(d->seg_off, (d->n_seg + 1) * sizeof *d->seg_off);
    s->seg_key = dup_array(d->seg_key, d->n_seg * sizeof *d->seg_key);
    s->target = dup_array(d->target, d->n_syn * sizeof *d->target);
    s->wq = dup_array(d->weight_q, d->n_syn * sizeof *d->weight_q);
    if ((N && (!s->v || !x_ok || !s->iext || !s->ref || !s->ring)) || !s->flag ||
        !s->spk || !s->rec || !s->counts || !s->h_rec || (d->perm && !s->perm) ||
        (d->runs && !s->runs) || (d->dc && !s->dc) || (d->poisson && !s->poisson) ||
        (d->seg_ptr && !s->seg_ptr) || (d->seg_off && !s->seg_off) ||
        (d->seg_key && !s->seg_key) || (d->target && !s->target) || (d->weight_q && !s->wq)) {
        sim_destroy(s);
        return fail(err, N4D_E_NOMEM, "mock: out of host memory");
    }
    s->d.runs = s->runs;
    s->d.dc = s->dc;
    s->d.poisson = s->poisson;
    s->d.seg_ptr = s->seg_ptr;
    s->d.seg_off = s->seg_off;
    s->d.seg_key = s->seg_key;
    s->d.target = s->target;
    s->d.weight_q = s->wq;
    if (d->plastic && !plastic_create(s, d->plastic)) {
        sim_destroy(s);
        return fail(err, N4D_E_NOMEM, "mock: out of host memory");
    }
    s->d.plastic = NULL; /* the host's descriptor may go: s->hp keeps its arrays */
    s->host_fresh = F_ALL;
    s->corrupt = getenv("N4D_MOCK_CORRUPT") ? 1 : 0;
    *out = s;
    return N4D_OK;
}

/* k_update for every neuron */
static void mock_update(mock_sim *s)
{
    const mock_ctl *c = &s->ctl;
    if (c->halt_k != NO_HALT)
        return;
    const uint64_t t = c->t0 + c->k, N = s->n;
    int64_t *re = s->ring + (size_t)(t % s->R) * 2 * N, *ri = re + N;
    for (uint64_t r = 0; r < s->d.n_runs; r++) {
        const n4d__pop_rt *p = &s->d.runs[r];
        float dc = 0.0f;
        const double tt = (double)t * s->d.dt;
        for (uint64_t k = 0; k < s->d.n_dc; k++) {
            const n4d__cuda_dc *in = &s->d.dc[k];
            if (in->pop == p->pop && tt >= in->start - 1e-9 && tt < in->stop - 1e-9)
                dc = dc + (float)in->amplitude;
        }
        const n4d__poisson_rt *pin[MAX_POISSON];
        int np = 0;
        for (uint64_t k = 0; k < s->d.n_poisson && np < MAX_POISSON; k++) {
            const n4d__poisson_rt *in = &s->d.poisson[k];
            if (in->pop == p->pop && (in->sparse ? n4d__poisson_block_starts(in, t)
                                                 : t >= in->step_start && t < in->step_stop))
                pin[np++] = in;
        }
        for (uint64_t i = p->first; i < p->first + p->n; i++) {
            int64_t ae = re[i], ai = ri[i];
            re[i] = ri[i] = 0;
            const uint32_t uid = s->perm ? s->perm[i] : (uint32_t)i;
            for (int k = 0; k < np; k++) {
                const n4d__poisson_rt *in = pin[k];
                const int64_t w = in->weight_q;
                if (in->sparse) { /* the block's events: this step's now, the others' into the ring */
                    const uint64_t blk = t >> in->block_log2;
                    const uint32_t n = n4d__poisson_block_count(in, s->d.seed, uid, blk);
                    n4d__r4 rp;
                    for (uint32_t e = 0; e < n; e++) {
                        uint64_t te;
                        if (!n4d__poisson_event_at(in, s->d.seed, uid, blk, e, &rp, &te))
                            continue;
                        if (te == t)
                            *(w >= 0 ? &ae : &ai) += w;
                        else
                            s->ring[((size_t)(te % s->R) * 2 + (w < 0)) * N + i] += w;
                    }
                    continue;
                }
                const int64_t ev = (int64_t)n4d__poisson_events(in, s->d.seed, uid, t);
                if (w >= 0)
                    ae += ev * w;
                else
                    ai += ev * w;
            }
            const float ext = s->iext[i] + dc;
            s->iext[i] = 0.0f;
            s->flag[i] = (uint8_t)n4d__update_neuron(p, &s->v[i], &s->x[0][i], &s->x[1][i], &s->x[2][i], &s->ref[i],
                                                     n4d__fixed_to_float(ae, s->d.inv_scale),
                                                     n4d__fixed_to_float(ai, s->d.inv_scale), ext);
        }
    }
}

/* The plastic kernels of step t before k_post's delivery: k_reserve's
 * flush decision, k_pselect, k_pappend, k_pflush. */
static void mock_plastic_step(mock_sim *s, int64_t t)
{
    const n4d__pdev *p = &s->pd;
    const n4d__cuda_sim_desc *d = &s->d;
    const int64_t check = t / N4D__FLUSH_EVERY;
    s->n_flush = 0;
    if (p->window > (int64_t)d->max_delay && check != s->lfc) {
        s->lfc = check;
        for (uint32_t i = 0; i < s->n; i++)
            if (n4d__pdev_select(p, i, t)) {
                s->pd.flushed[i] = p->recent[i].step[0];
                s->flush_ids[s->n_flush++] = i;
            }
    }
    for (uint64_t j = 0; j < s->ctl.cur_count; j++)
        if (n4d__pdev_append(p, s->spk[j], t) && !s->overflow)
            s->overflow = s->spk[j] + 1;
    for (uint64_t f = 0; f < s->n_flush; f++) {
        const uint32_t src = s->flush_ids[f];
        const n4d__hview h = n4d__pdev_view(p, src);
        const n4d__spk *last = n4d__h_at(&h, h.len - 1);
        for (uint64_t g = d->seg_ptr[src]; g < d->seg_ptr[src + 1]; g++) {
            const uint32_t cl = N4D__SEG_CLASS(d->seg_key[g]);
            if (!cl || s->cls[cl - 1].rule != N4D__SYN_STDP)
                continue;
            for (uint64_t j = d->seg_off[g]; j < d->seg_off[g + 1]; j++)
                n4d__pdev_flush_syn(p, &s->cls[cl - 1], p->seg_base[g] + (j - d->seg_off[g]),
                                    d->target[j], last, N4D__SEG_DELAY(d->seg_key[g]));
        }
    }
}

/* CUB DeviceSelect::Flagged, k_reserve, k_post */
static void mock_select_reserve_post(mock_sim *s)
{
    mock_ctl *c = &s->ctl;
    uint64_t ns = 0;
    for (uint64_t i = 0; i < s->n; i++)
        if (s->flag[i])
            s->spk[ns++] = (uint32_t)i;
    c->nsel = ns;
    if (c->halt_k != NO_HALT) {
        c->cur_deliver = 0;
        c->cur_copy = 0;
    } else {
        const uint32_t k = c->k;
        const uint64_t t = c->t0 + k;
        c->cur_tmod = (uint32_t)(t % s->R);
        c->cur_deliver = 1;
        c->cur_count = ns;
        if (c->rec_off + ns > s->rec_cap) {
            c->halt_k = k;
            c->cur_copy = 0;
        } else {
            c->cur_base = c->rec_off;
            c->cur_copy = ns;
            s->counts[k] = (uint32_t)ns;
            c->rec_off += ns;
        }
        c->k = k + 1;
    }
    memcpy(s->rec + c->cur_base, s->spk, c->cur_copy * sizeof(uint32_t));
    if (!c->cur_deliver)
        return;
    const n4d__cuda_sim_desc *d = &s->d;
    const int64_t t = (int64_t)(c->t0 + c->k - 1);
    if (s->plastic)
        mock_plastic_step(s, t);
    for (uint64_t j = 0; j < c->cur_count; j++) {
        const uint32_t src = s->spk[j];
        const n4d__spk *prev = NULL;
        if (s->plastic) { /* deliver_row: the source's spike before this one */
            const n4d__hview h = n4d__pdev_view(&s->pd, src);
            const int64_t kp = n4d__h_before(&h, t);
            prev = kp >= 0 ? n4d__h_at(&h, (uint32_t)kp) : NULL;
        }
        for (uint64_t g = d->seg_ptr[src]; g < d->seg_ptr[src + 1]; g++) {
            const uint32_t key = d->seg_key[g];
            uint32_t slot = c->cur_tmod + N4D__SEG_DELAY(key);
            if (slot >= s->R)
                slot -= s->R;
            int64_t *acc = s->ring + ((size_t)slot * 2 + N4D__SEG_CH(key)) * s->n;
            const uint32_t cl = s->plastic ? N4D__SEG_CLASS(key) : 0;
            for (uint64_t i = d->seg_off[g]; i < d->seg_off[g + 1]; i++) {
                int64_t w = d->weight_q[i];
                if (cl)
                    w = n4d__pdev_deliver_syn(&s->pd, &s->cls[cl - 1],
                                              s->pd.seg_base[g] + (i - d->seg_off[g]), src,
                                              d->target[i], d->weight_q[i], t, prev,
                                              N4D__SEG_DELAY(key));
                acc[d->target[i]] += w + (s->corrupt ? w / 2 : 0);
            }
        }
    }
}

/* run_chunk */
static void mock_chunk(mock_sim *s, uint32_t K)
{
    uint32_t done = K;
    if (s->n == 0) {
        memset(s->h_counts, 0, K * sizeof(uint32_t));
    } else {
        mock_ctl *c = &s->ctl;
        memset(c, 0, sizeof *c);
        c->t0 = s->next_step;
        c->halt_k = NO_HALT;
        for (uint32_t k = 0; k < K; k++) {
            mock_update(s);
            mock_select_reserve_post(s);
        }
        const uint32_t recorded = c->halt_k == NO_HALT ? K : c->halt_k;
        done = c->halt_k == NO_HALT ? K : c->halt_k + 1;
        memcpy(s->h_counts, s->counts, recorded * sizeof(uint32_t));
        memcpy(s->h_rec, s->rec, c->rec_off * sizeof(uint32_t));
        if (c->halt_k != NO_HALT) {
            s->h_counts[c->halt_k] = (uint32_t)c->nsel;
            memcpy(s->h_rec + c->rec_off, s->spk, c->nsel * sizeof(uint32_t));
        }
    }
    s->h_off[0] = 0;
    for (uint32_t j = 0; j < done; j++)
        s->h_off[j + 1] = s->h_off[j] + s->h_counts[j];
    s->pend_step0 = s->next_step;
    s->pend_from = 0;
    s->pend_to = done;
    s->next_step += done;
    s->host_fresh = 0;
}

/* emit_pending */
static n4d_status mock_emit_pending(mock_sim *s, uint64_t *steps, n4d__cuda_emit_fn emit, void *user,
                                    char *err)
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
        if (!reported)
            return fail(err, N4D_E_INTERNAL, "mock: step %llu was not reported",
                        (unsigned long long)(s->pend_step0 + j));
        (*steps)--;
    }
    return N4D_OK;
}

static n4d_status sim_run(void *h, uint64_t steps, n4d__cuda_emit_fn emit, void *user, char *err)
{
    mock_sim *s = h;
    if (s->overflow)
        return fail(err, N4D_E_STATE, "the device state is undefined after an earlier CUDA "
                    "error; destroy this simulation and create a new one");
    n4d_status st = mock_emit_pending(s, &steps, emit, user, err);
    if (st)
        return st;
    while (steps > 0) {
        mock_chunk(s, steps < CHUNK_MAX ? (uint32_t)steps : CHUNK_MAX);
        if (s->overflow)
            return fail(err, N4D_E_LIMIT,
                        "the spike history of neuron %u (internal index) outgrew the %u spikes "
                        "the device keeps per neuron; set N4D_CUDA_MAX_RATE (Hz, default 500) "
                        "above the neurons' average rate",
                        s->overflow - 1, s->hp.hist_cap);
        if ((st = mock_emit_pending(s, &steps, emit, user, err)))
            return st;
    }
    return N4D_OK;
}

static n4d_status sim_sync(void *h, uint32_t flags, uint64_t step, char *err)
{
    mock_sim *s = h;
    const uint64_t N = s->n;
    const unsigned sel = (flags & N4D__SYNC_IEXT)      ? F_IEXT
                         : (flags & N4D__SYNC_STATE)   ? F_STATE
                         : (flags & N4D__SYNC_PLASTIC) ? F_PLASTIC
                                                       : F_ALL;
    const int to_host = (flags & N4D__SYNC_TO_HOST) != 0;
    if (to_host && s->pend_from < s->pend_to)
        return fail(err, N4D_E_STATE,
                    "%u steps were computed but not reported (an earlier report failed); "
                    "run the simulation to report them before reading its state",
                    s->pend_to - s->pend_from);
    if (!to_host && step != s->next_step - (s->pend_to - s->pend_from)) {
        s->pend_from = s->pend_to = 0;
        s->next_step = step;
    }
    struct {
        unsigned bit;
        void *host, *dev;
        size_t bytes;
    } arr[] = {
        {F_V, s->d.v, s->v, N * sizeof(float)},
        {F_X, s->d.x[0], s->x[0], s->nx > 0 ? N * sizeof(float) : 0},
        {F_X, s->d.x[1], s->x[1], s->nx > 1 ? N * sizeof(float) : 0},
        {F_X, s->d.x[2], s->x[2], s->nx > 2 ? N * sizeof(float) : 0},
        {F_IEXT, s->d.iext, s->iext, N * sizeof(float)},
        {F_REF, s->d.ref, s->ref, N * sizeof(int32_t)},
        {F_RING, s->d.ring, s->ring, (size_t)s->R * 2 * N * sizeof(int64_t)},
    };
    for (size_t k = 0; k < sizeof arr / sizeof arr[0]; k++) {
        if (!(sel & arr[k].bit) || arr[k].bytes == 0)
            continue;
        if (to_host && (s->host_fresh & arr[k].bit))
            continue;
        memcpy(to_host ? arr[k].host : arr[k].dev, to_host ? arr[k].dev : arr[k].host, arr[k].bytes);
    }
    if (s->plastic && (sel & F_PLASTIC) && !(to_host && (s->host_fresh & F_PLASTIC)))
        plastic_sync(s, to_host);
    s->host_fresh |= sel;
    return N4D_OK;
}

static uint64_t sim_device_bytes(const void *h)
{
    const mock_sim *s = h;
    return s ? (uint64_t)s->n * 21 + (uint64_t)s->R * 16 * s->n : 0;
}

/* ---- the array API (include/n4d/gpu.h's device path) on the host ------------------- */

typedef struct mock_arr {
    uint64_t cached; /* bytes the "device" keeps between calls */
} mock_arr;

static n4d_status arr_create(int32_t device, void **out, char *err)
{
    *out = NULL;
    if (device != 0)
        return fail(err, N4D_E_NO_DEVICE, "mock: no device %d", (int)device);
    if (!(*out = calloc(1, sizeof(mock_arr))))
        return fail(err, N4D_E_NOMEM, "mock: out of host memory");
    return N4D_OK;
}

static void arr_destroy(void *a) { free(a); }

static n4d_status arr_clear(void *a, uint64_t *released, char *err)
{
    (void)err;
    mock_arr *x = a;
    if (released)
        *released = x->cached;
    x->cached = 0;
    return N4D_OK;
}

static uint64_t arr_cached_bytes(const void *a) { return ((const mock_arr *)a)->cached; }

/* k_lif */
static n4d_status lif_update(void *a, const n4d__pop_rt *p, uint64_t n, const float *v,
                             const float *i_syn, const float *i_ext, const uint8_t *refractory,
                             float *v_out, uint8_t *spikes, char *err)
{
    (void)err;
    mock_arr *x = a;
    for (uint64_t i = 0; i < n; i++) {
        float vv = v[i];
        int32_t r = refractory && refractory[i] ? 1 : 0;
        spikes[i] = (uint8_t)n4d__lif_step(&p->k.lif, &vv, NULL, NULL, NULL, &r,
                                           i_syn ? i_syn[i] : 0.0f, 0.0f, i_ext ? i_ext[i] : 0.0f);
        v_out[i] = vv;
    }
    if (n * 14 > x->cached) /* v, i_syn, i_ext, v_out (float), refractory, spikes */
        x->cached = n * 14;
    return N4D_OK;
}

/* cuSPARSE SpMV: rows summed in double, rounded once */
static n4d_status spmv(void *a, uint64_t rows, uint64_t cols, uint64_t nnz, const int32_t *row_ptr,
                       const int32_t *col_idx, const float *values, const float *x, float *y,
                       char *err)
{
    (void)a, (void)cols, (void)nnz, (void)err;
    for (uint64_t r = 0; r < rows; r++) {
        double sum = 0.0;
        for (int32_t j = row_ptr[r]; j < row_ptr[r + 1]; j++)
            sum += (double)values[j] * (double)x[col_idx[j]];
        y[r] = (float)sum;
    }
    return N4D_OK;
}

/* cuBLAS gemmStridedBatched, row-major operands */
static n4d_status gemm_batched(void *a, const n4d__cuda_gemm *g, char *err)
{
    (void)a, (void)err;
    for (uint64_t b = 0; b < g->batch; b++) {
        const float *A = g->a + b * g->m * g->k, *B = g->b + b * g->k * g->n;
        float *C = g->c + b * g->m * g->n;
        for (uint64_t i = 0; i < g->m; i++)
            for (uint64_t j = 0; j < g->n; j++) {
                double sum = 0.0;
                for (uint64_t k = 0; k < g->k; k++)
                    sum += (double)A[i * g->k + k] * (double)B[k * g->n + j];
                const float prev = g->beta != 0.0f ? C[i * g->n + j] : 0.0f;
                C[i * g->n + j] = g->alpha * (float)sum + g->beta * prev;
            }
    }
    return N4D_OK;
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static n4d_status bench_lif(void *a, const n4d__pop_rt *p, uint64_t n, uint32_t iterations,
                            const float *v, const float *i_syn, const float *i_ext,
                            const uint8_t *refractory, float *v_out, uint8_t *spikes,
                            double *kernel_s, double *total_s, char *err)
{
    if (iterations == 0)
        iterations = 1;
    const double t0 = mono_s();
    for (uint32_t k = 0; k < iterations; k++)
        lif_update(a, p, n, v, i_syn, i_ext, refractory, v_out, spikes, err);
    *kernel_s = *total_s = (mono_s() - t0) / iterations;
    return N4D_OK;
}

/* ---- the build ------------------------------------------------------------------------ */

typedef struct mock_build {
    uint64_t n, seed, S, S_rows, nseg, n_projs;
    n4d__sg_proj *projs; /* copies (tables copied too, as the device does) */
    uint64_t **item_off; /* row-wise: per-source staging offsets (one sum over all) */
    uint32_t **srcs;     /* fixed_indegree: sources per target */
    uint64_t *total;     /* synapses per column-wise projection */
    int32_t *pos;
    /* after fill */
    uint64_t *keys, *seg; /* sorted (row, key); exclusive sum of segment starts */
    uint32_t *target;
    float *weight;
    uint64_t *row_ptr;
} mock_build;

static void build_destroy(void *h)
{
    mock_build *b = h;
    if (!b)
        return;
    for (uint64_t pj = 0; pj < b->n_projs; pj++) {
        n4d__sg_proj *p = &b->projs[pj];
        free(p->cdf[0]);
        free(p->cdf[1]);
        free(p->ftn_count);
        free(p->pairs);
        free(p->site_slot);
        free(b->item_off[pj]);
        free(b->srcs[pj]);
    }
    free(b->projs);
    free(b->item_off);
    free(b->srcs);
    free(b->total);
    free(b->pos);
    free(b->keys);
    free(b->seg);
    free(b->target);
    free(b->weight);
    free(b->row_ptr);
    free(b);
}

static n4d_status build_count(const n4d__cuda_build_desc *d, void **out, uint64_t *counts, char *err)
{
    *out = NULL;
    if (!d || d->struct_size < sizeof *d)
        return fail(err, N4D_E_INVALID_ARG, "mock: build descriptor of an older ABI");
    if (injected("count"))
        return fail(err, N4D_E_NOMEM, "mock: injected failure in build_count");
    mock_build *b = calloc(1, sizeof *b);
    const uint64_t P = d->n_projs ? d->n_projs : 1;
    if (!b || !(b->projs = calloc(P, sizeof *b->projs)) ||
        !(b->item_off = calloc(P, sizeof *b->item_off)) || !(b->srcs = calloc(P, sizeof *b->srcs)) ||
        !(b->total = calloc(P, sizeof *b->total)))
        goto nomem;
    b->n = d->n;
    b->seed = d->seed;
    b->n_projs = d->n_projs;
    if (d->pos && !(b->pos = dup_array(d->pos, 4 * d->n * sizeof *d->pos)))
        goto nomem;
    memset(counts, 0, d->n * sizeof *counts);
    for (uint64_t pj = 0; pj < d->n_projs; pj++) {
        const n4d__sg_proj *h = &d->projs[pj];
        n4d__sg_proj *p = &b->projs[pj];
        *p = *h;
        p->cdf[0] = p->cdf[1] = NULL;
        p->ftn_count = p->pairs = NULL;
        p->site_slot = NULL;
        for (int t = 0; t < 2; t++)
            if (h->cdf[t] && !(p->cdf[t] = dup_array(h->cdf[t], h->cdf_n[t] * sizeof(double))))
                goto nomem;
        if (h->ftn_count && !(p->ftn_count = dup_array(h->ftn_count, h->pre_n * sizeof(uint64_t))))
            goto nomem;
        if (h->pairs && !(p->pairs = dup_array(h->pairs, h->n * sizeof(uint64_t))))
            goto nomem;
        if (h->site_slot) {
            uint64_t sites = 1;
            for (int i = 0; i < 4; i++)
                sites *= (uint64_t)(h->area_hi[i] - h->area_lo[i] + 1);
            if (!(p->site_slot = dup_array(h->site_slot, sites * sizeof(uint32_t))))
                goto nomem;
        }
        if (p->rule == N4D_RULE_FIXED_INDEGREE) { /* k_count_indegree */
            const uint64_t K = p->n, pairs = p->post_n * K;
            if (!pairs)
                continue;
            uint64_t *seen = calloc((p->pre_n + 63) / 64 + 1, sizeof *seen);
            b->srcs[pj] = malloc(pairs * sizeof(uint32_t));
            if (!seen || !b->srcs[pj]) {
                free(seen);
                goto nomem;
            }
            for (uint64_t t = 0; t < p->post_n; t++) {
                uint32_t *row = b->srcs[pj] + t * K;
                for (uint64_t k = 0; k < K; k++) {
                    uint64_t attempt = 0, s;
                    for (;;) {
                        s = n4d__sg_indegree_draw(p, b->seed, t, k, attempt++);
                        if (p->no_self && s == t)
                            continue;
                        if (!p->allow_multapses && (seen[s >> 6] >> (s & 63) & 1))
                            continue;
                        break;
                    }
                    if (!p->allow_multapses)
                        seen[s >> 6] |= 1ull << (s & 63);
                    row[k] = (uint32_t)s;
                    counts[p->pre_first + s]++;
                }
                if (!p->allow_multapses)
                    for (uint64_t k = 0; k < K; k++)
                        seen[row[k] >> 6] = 0;
            }
            free(seen);
            b->total[pj] = pairs;
        } else if (n4d__sg_columnwise(p)) { /* k_count_pairs */
            for (uint64_t k = 0; k < p->n; k++)
                counts[p->pre_first + (p->pairs[k] >> 32)]++;
            b->total[pj] = p->n;
        } else { /* k_count_items, then the exclusive sum over all items */
            if (!p->pre_n)
                continue;
            uint64_t *ic = malloc(p->pre_n * sizeof *ic);
            if (!(b->item_off[pj] = ic))
                goto nomem;
            for (uint64_t s = 0; s < p->pre_n; s++) {
                const uint64_t c = n4d__sg_row(p, b->pos, b->seed, s, NULL);
                counts[p->pre_first + s] += c;
                ic[s] = b->S_rows;
                b->S_rows += c;
            }
        }
    }
    if (getenv("N4D_MOCK_BAD_COUNTS") && d->n > 0)
        counts[0]++; /* a device that miscounts */
    b->S = b->S_rows;
    for (uint64_t pj = 0; pj < d->n_projs; pj++)
        b->S += b->total[pj];
    if (b->S >= 0xffffffffull) {
        build_destroy(b);
        return fail(err, N4D_E_LIMIT, "mock: too many synapses");
    }
    *out = b;
    return N4D_OK;
nomem:
    build_destroy(b);
    return fail(err, N4D_E_NOMEM, "mock: out of host memory");
}

static uint32_t ordered_bits(float w)
{
    uint32_t x;
    memcpy(&x, &w, sizeof x);
    return (x & 0x80000000u) ? ~x : (x | 0x80000000u);
}

/* A stable sort by key: (key, index) pairs, by qsort with the index last. */
typedef struct keyed {
    uint64_t key;
    uint32_t val;
    uint32_t at;
} keyed;

static int keyed_cmp(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->at < y->at ? -1 : x->at > y->at;
}

static void stable_sort(keyed *k, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        k[i].at = (uint32_t)i;
    qsort(k, n, sizeof *k, keyed_cmp);
}

static n4d_status build_fill(void *h, const uint32_t *to_internal, const uint64_t *row_ptr,
                             n4d__cuda_build_info *info, char *err)
{
    mock_build *b = h;
    memset(info, 0, sizeof *info);
    info->min_delay = info->max_delay = 1;
    if (injected("fill"))
        return fail(err, N4D_E_NOMEM, "mock: injected failure in build_fill");
    const uint64_t S = b->S, N = b->n;
    if (!(b->row_ptr = dup_array(row_ptr, (N + 1) * sizeof *row_ptr)))
        return fail(err, N4D_E_NOMEM, "mock: out of host memory");
    if (S == 0)
        return N4D_OK;
#define ROW_OF(user) (to_internal ? to_internal[user] : (uint32_t)(user))
    n4d__gen_syn *gen = malloc(S * sizeof *gen);
    uint32_t *row = malloc(S * sizeof *row);
    keyed *k = malloc(S * sizeof *k);
    b->keys = malloc(S * sizeof *b->keys);
    b->seg = malloc(S * sizeof *b->seg);
    b->target = malloc(S * sizeof *b->target);
    b->weight = malloc(S * sizeof *b->weight);
    if (!gen || !row || !k || !b->keys || !b->seg || !b->target || !b->weight) {
        free(gen);
        free(row);
        free(k);
        return fail(err, N4D_E_NOMEM, "mock: out of host memory");
    }
    /* generation into the staging area: the row-wise items (k_fill_items),
     * then the column-wise projections in order */
    for (uint64_t pj = 0; pj < b->n_projs; pj++) {
        const n4d__sg_proj *p = &b->projs[pj];
        if (n4d__sg_columnwise(p))
            continue;
        for (uint64_t s = 0; s < p->pre_n; s++) {
            const uint64_t off = b->item_off[pj][s];
            const uint64_t n = n4d__sg_row(p, b->pos, b->seed, s, gen + off);
            for (uint64_t i = 0; i < n; i++)
                row[off + i] = ROW_OF(p->pre_first + s);
        }
    }
    uint64_t base = b->S_rows;
    for (uint64_t pj = 0; pj < b->n_projs; pj++) {
        const n4d__sg_proj *p = &b->projs[pj];
        if (!b->total[pj])
            continue;
        if (p->rule == N4D_RULE_FIXED_INDEGREE) { /* k_fill_indegree */
            for (uint64_t idx = 0; idx < b->total[pj]; idx++) {
                const uint64_t t = idx / p->n, kk = idx % p->n;
                n4d__sg_make(p, b->seed, (uint32_t)t, kk, (uint32_t)(p->post_first + t), gen + base + idx);
                row[base + idx] = ROW_OF(p->pre_first + b->srcs[pj][idx]);
            }
        } else if (n4d__sg_columnwise(p)) { /* k_fill_pairs */
            for (uint64_t kk = 0; kk < p->n; kk++) {
                const uint64_t s = p->pairs[kk] >> 32, t = p->pairs[kk] & 0xffffffffu;
                n4d__sg_make(p, b->seed, (uint32_t)kk, kk >> 32, (uint32_t)(p->post_first + t),
                             gen + base + kk);
                row[base + kk] = ROW_OF(p->pre_first + s);
            }
        }
        base += b->total[pj];
    }
    /* k_keys_target, sort 1 */
    for (uint64_t i = 0; i < S; i++) {
        gen[i].target = ROW_OF(gen[i].target);
        k[i].key = ((uint64_t)gen[i].target << 32) | ordered_bits(gen[i].weight);
        k[i].val = (uint32_t)i;
    }
    stable_sort(k, S);
    /* k_keys_row, sort 2 */
    for (uint64_t i = 0; i < S; i++) {
        const uint32_t j = k[i].val;
        k[i].key = ((uint64_t)row[j] << KEY_BITS) | gen[j].key;
    }
    stable_sort(k, S);
    /* k_gather, k_seg_flags, the exclusive sum, k_seg_total */
    uint32_t maxbits = 0, dmin = UINT32_MAX, dmax = 0;
    uint64_t nseg = 0;
    for (uint64_t i = 0; i < S; i++) {
        const n4d__gen_syn g = gen[k[i].val];
        b->keys[i] = k[i].key;
        b->target[i] = g.target;
        b->weight[i] = g.weight;
        uint32_t a;
        memcpy(&a, &g.weight, sizeof a);
        a &= 0x7fffffffu;
        maxbits = a > maxbits ? a : maxbits;
        b->seg[i] = nseg;
        if (i == 0 || b->keys[i] != b->keys[i - 1]) {
            const uint32_t dl = N4D__SEG_DELAY(b->keys[i] & ((1u << KEY_BITS) - 1));
            dmin = dl < dmin ? dl : dmin;
            dmax = dl > dmax ? dl : dmax;
            nseg++;
        }
    }
#undef ROW_OF
    free(gen);
    free(row);
    free(k);
    b->nseg = nseg;
    info->n_seg = nseg;
    memcpy(&info->max_abs_weight, &maxbits, sizeof maxbits);
    info->min_delay = dmin;
    info->max_delay = dmax;
    return N4D_OK;
}

static n4d_status build_fetch(void *h, double scale, uint64_t *seg_ptr, uint64_t *seg_off,
                              uint32_t *seg_key, uint32_t *target, int32_t *weight_q, char *err)
{
    mock_build *b = h;
    if (injected("fetch"))
        return fail(err, N4D_E_NOMEM, "mock: injected failure in build_fetch");
    const uint64_t S = b->S, N = b->n, G = b->nseg;
    if (S == 0) {
        memset(seg_ptr, 0, (N + 1) * sizeof *seg_ptr);
        seg_off[0] = 0;
        return N4D_OK;
    }
    for (uint64_t i = 0; i < S; i++) { /* k_segments, k_fixed_point */
        if (i == 0 || b->keys[i] != b->keys[i - 1]) {
            seg_off[b->seg[i]] = i;
            seg_key[b->seg[i]] = (uint32_t)(b->keys[i] & ((1u << KEY_BITS) - 1));
        }
        target[i] = b->target[i];
        weight_q[i] = (int32_t)llrint((double)b->weight[i] * scale);
    }
    seg_off[G] = S;
    for (uint64_t r = 0; r <= N; r++) /* k_seg_ptr */
        seg_ptr[r] = b->row_ptr[r] < S ? b->seg[b->row_ptr[r]] : G;
    return N4D_OK;
}

/* ---- the table ------------------------------------------------------------------------ */

static const n4d__cuda_api g_api = {
    .abi_version = N4D_CUDA_ABI_VERSION,
    .struct_size = sizeof(n4d__cuda_api),
    .build_info = "mock libn4d_cuda (tests/mock_cuda.c): the device build emulated on the host",
    .device_count = device_count,
    .device_info = device_info,
    .mem_info = mem_info,
    .sim_create = sim_create,
    .sim_destroy = sim_destroy,
    .sim_run = sim_run,
    .sim_sync = sim_sync,
    .sim_device_bytes = sim_device_bytes,
    .arr_create = arr_create,
    .arr_destroy = arr_destroy,
    .arr_clear = arr_clear,
    .arr_cached_bytes = arr_cached_bytes,
    .lif_update = lif_update,
    .spmv = spmv,
    .gemm_batched = gemm_batched,
    .bench_lif = bench_lif,
    .build_count = build_count,
    .build_fill = build_fill,
    .build_fetch = build_fetch,
    .build_destroy = build_destroy,
};

__attribute__((visibility("default"))) n4d_status n4d_cuda_get_api(uint32_t abi_version,
                                                                  const n4d__cuda_api **out)
{
    if (!out)
        return N4D_E_INVALID_ARG;
    *out = NULL;
    if (abi_version != N4D_CUDA_ABI_VERSION)
        return N4D_E_UNSUPPORTED;
    *out = &g_api;
    return N4D_OK;
}
