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
 * N4D_MOCK_FAIL=count|fill|fetch makes that entry fail with N4D_E_NOMEM.
 * Every other entry (simulations, the array API) answers N4D_E_NO_DEVICE. */
#include <math.h>
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

static n4d_status sim_create(const n4d__cuda_sim_desc *d, void **out, char *err)
{
    (void)d;
    *out = NULL;
    return fail(err, N4D_E_NO_DEVICE, "mock: no simulations on the mock device");
}
static void sim_destroy(void *s) { (void)s; }
static n4d_status sim_run(void *s, uint64_t n, n4d__cuda_emit_fn f, void *u, char *err)
{
    (void)s, (void)n, (void)f, (void)u;
    return fail(err, N4D_E_NO_DEVICE, "mock");
}
static n4d_status sim_sync(void *s, uint32_t f, uint64_t step, char *err)
{
    (void)s, (void)f, (void)step;
    return fail(err, N4D_E_NO_DEVICE, "mock");
}
static uint64_t sim_device_bytes(const void *s)
{
    (void)s;
    return 0;
}
static n4d_status arr_create(int32_t device, void **out, char *err)
{
    (void)device;
    *out = NULL;
    return fail(err, N4D_E_NO_DEVICE, "mock: no array API on the mock device");
}

static void arr_destroy(void *a) { (void)a; }
static n4d_status arr_clear(void *a, uint64_t *released, char *err)
{
    (void)a;
    (void)err;
    if (released)
        *released = 0;
    return N4D_OK;
}
static uint64_t arr_cached_bytes(const void *a)
{
    (void)a;
    return 0;
}
static n4d_status lif_update(void *a, const n4d__pop_rt *p, uint64_t n, const float *v,
                             const float *i_syn, const float *i_ext, const uint8_t *refractory,
                             float *v_out, uint8_t *spikes, char *err)
{
    (void)a, (void)p, (void)n, (void)v, (void)i_syn, (void)i_ext, (void)refractory, (void)v_out,
        (void)spikes;
    return fail(err, N4D_E_NO_DEVICE, "mock");
}
static n4d_status spmv(void *a, uint64_t rows, uint64_t cols, uint64_t nnz, const int32_t *row_ptr,
                       const int32_t *col_idx, const float *values, const float *x, float *y,
                       char *err)
{
    (void)a, (void)rows, (void)cols, (void)nnz, (void)row_ptr, (void)col_idx, (void)values,
        (void)x, (void)y;
    return fail(err, N4D_E_NO_DEVICE, "mock");
}
static n4d_status gemm_batched(void *a, const n4d__cuda_gemm *g, char *err)
{
    (void)a, (void)g;
    return fail(err, N4D_E_NO_DEVICE, "mock");
}
static n4d_status bench_lif(void *a, const n4d__pop_rt *p, uint64_t n, uint32_t iterations,
                            const float *v, const float *i_syn, const float *i_ext,
                            const uint8_t *refractory, float *v_out, uint8_t *spikes,
                            double *kernel_s, double *total_s, char *err)
{
    (void)a, (void)p, (void)n, (void)iterations, (void)v, (void)i_syn, (void)i_ext,
        (void)refractory, (void)v_out, (void)spikes, (void)kernel_s, (void)total_s;
    return fail(err, N4D_E_NO_DEVICE, "mock");
}

/* ---- the build ------------------------------------------------------------------------ */

typedef struct mock_build {
    uint64_t n, seed, S, nseg, n_projs;
    n4d__sg_proj *projs; /* copies (tables copied too, as the device does) */
    uint64_t **item_off; /* row-wise: per-source offsets in the projection */
    uint32_t **srcs;     /* fixed_indegree: sources per target */
    uint64_t *total;     /* synapses per projection */
    int32_t *pos;
    /* after fill */
    uint64_t *keys, *seg; /* sorted (row, key); exclusive sum of segment starts */
    uint32_t *target;
    float *weight;
    uint64_t *row_ptr;
} mock_build;

static void *dup_array(const void *p, size_t bytes)
{
    if (!p)
        return NULL;
    void *q = malloc(bytes ? bytes : 1);
    if (q)
        memcpy(q, p, bytes);
    return q;
}

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
        } else { /* k_count_rows, then the exclusive sum */
            if (!p->pre_n)
                continue;
            uint64_t *ic = malloc(p->pre_n * sizeof *ic);
            if (!(b->item_off[pj] = ic))
                goto nomem;
            uint64_t sum = 0;
            for (uint64_t s = 0; s < p->pre_n; s++) {
                const uint64_t c = n4d__sg_row(p, b->pos, b->seed, s, NULL);
                counts[p->pre_first + s] += c;
                ic[s] = sum;
                sum += c;
            }
            b->total[pj] = sum;
        }
    }
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
    /* generation into the staging area, projection by projection */
    uint64_t base = 0;
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
        } else { /* k_fill_rows */
            for (uint64_t s = 0; s < p->pre_n; s++) {
                const uint64_t off = base + b->item_off[pj][s];
                const uint64_t n = n4d__sg_row(p, b->pos, b->seed, s, gen + off);
                for (uint64_t i = 0; i < n; i++)
                    row[off + i] = ROW_OF(p->pre_first + s);
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
            const uint32_t dl = N4D__CU_SEG_DELAY(b->keys[i] & ((1u << KEY_BITS) - 1));
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
