/* Model build: neuron placement on the lattice and synapse generation into
 * CSR by source, grouped by segment key (class, delay, sign). Every random
 * draw comes from the counter RNG keyed by entity, so the result is the
 * same for any number of build threads. Construction is two passes (count,
 * then fill) with no O(N^2) pair loop; the fill builds each source's whole
 * row in a thread's buffer in canonical order (key, target, weight), and
 * the rows that per-target rules append to are ordered again afterwards
 * (docs/performance.md, "Construction"). */
#include "inputs.h"
#include "build_device.h"
#include "build_draws.h"
#include "internal.h"
#include "philox.h"

#include <math.h>
#include <stdalign.h>
#include <stdio.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

static inline uint32_t purpose_of(uint32_t base, size_t index)
{
    return n4d__sg_purpose(base, (uint32_t)index);
}

/* ---- placement ------------------------------------------------------------ */

static uint64_t area_sites(const n4d__area *a)
{
    uint64_t s = 1;
    for (int i = 0; i < 4; i++)
        s *= (uint64_t)(a->hi[i] - a->lo[i] + 1);
    return s;
}

static void site_coords(const n4d__area *a, uint64_t k, int32_t out[4])
{
    for (int i = 0; i < 4; i++) {
        uint64_t ext = (uint64_t)(a->hi[i] - a->lo[i] + 1);
        out[i] = a->lo[i] + (int32_t)(k % ext);
        k /= ext;
    }
}

/* Visits the sites of population p's area in w, z, y, x order and returns
 * whether site k holds a neuron. `state` carries the selection-sampling
 * counter of count placement (Knuth's algorithm S). */
static bool site_selected(const n4d_model *m, size_t pi, uint64_t k, uint64_t sites,
                          uint64_t *chosen)
{
    const n4d__population *p = &m->pops[pi];
    switch (p->placement) {
    case N4D_PLACE_ALL:
        return true;
    case N4D_PLACE_DENSITY: {
        if (p->density >= 1.0)
            return true;
        n4d__r4 r = n4d__philox(m->seed, purpose_of(N4D_RNG_PLACE, pi), (uint32_t)k,
                                k >> 32);
        return n4d__u01(r.v[0], r.v[1]) < p->density;
    }
    default: { /* count */
        uint64_t need = p->count - *chosen;
        if (need == 0)
            return false;
        n4d__r4 r = n4d__philox(m->seed, purpose_of(N4D_RNG_PLACE, pi), (uint32_t)k, k >> 32);
        double u = n4d__u01(r.v[0], r.v[1]);
        if ((double)(sites - k) * u < (double)need) {
            (*chosen)++;
            return true;
        }
        return false;
    }
    }
}

static n4d_status place_neurons(n4d_model *m)
{
    uint64_t total = 0;
    for (size_t pi = 0; pi < m->n_pops; pi++) {
        n4d__population *p = &m->pops[pi];
        const n4d__area *a = &m->areas[p->area];
        uint64_t sites = area_sites(a), n = 0, chosen = 0;
        if (p->placement == N4D_PLACE_ALL || (p->placement == N4D_PLACE_DENSITY && p->density >= 1.0))
            n = sites;
        else if (p->placement == N4D_PLACE_COUNT)
            n = p->count;
        else
            for (uint64_t k = 0; k < sites; k++)
                n += site_selected(m, pi, k, sites, &chosen);
        p->first = total;
        p->n = n;
        total += n;
        if (total > 0xfffffff0ull)
            return n4d__error(&m->hdr, N4D_E_LIMIT,
                              "the model has more than 2^32 - 16 neurons (population \"%s\")",
                              p->name);
    }
    m->n_neurons = total;
    m->pos = n4d__alloc(m->ctx, N4D_MEM_NEURONS, (total ? total : 1) * 4 * sizeof(int32_t));
    if (!m->pos)
        return n4d__error(&m->hdr, N4D_E_NOMEM, "out of memory placing %llu neurons",
                          (unsigned long long)total);
    for (size_t pi = 0; pi < m->n_pops; pi++) {
        const n4d__population *p = &m->pops[pi];
        const n4d__area *a = &m->areas[p->area];
        uint64_t sites = area_sites(a), chosen = 0, id = p->first;
        for (uint64_t k = 0; k < sites && id < p->first + p->n; k++)
            if (site_selected(m, pi, k, sites, &chosen))
                site_coords(a, k, m->pos + 4 * id++);
    }
    return N4D_OK;
}

/* ---- expected size, checked before any work -------------------------------- */

/* The model's limit on synapses (the segment offsets and the device build
 * count them in 40 bits). */
#define N4D__MAX_SYNAPSES ((uint64_t)1 << 40)

/* Neurons population p will have: exact for all sites and counts, the
 * expectation for a density (placement has not run yet). */
static double expected_pop_size(const n4d_model *m, const n4d__population *p)
{
    const double sites = (double)area_sites(&m->areas[p->area]);
    if (p->placement == N4D_PLACE_COUNT)
        return (double)p->count;
    if (p->placement == N4D_PLACE_DENSITY && p->density < 1.0)
        return sites * p->density;
    return sites;
}

/* An upper bound of the expected synapses of a distance rule from one
 * source: p times the kernel summed over the lattice (separable bounds:
 * the Gaussian's sum is (sum_k exp(-k^2 / 2 sigma^2))^4 <= (1 + sqrt(2 pi)
 * sigma)^4; exp(-|x| / sigma) <= exp(-|x|_1 / (2 sigma)) in 4D), at most
 * the sites of the cutoff's cube and the target population. */
static double distance_row_bound(const n4d_projection_desc *d, double npost)
{
    double k1;
    if (d->kernel == N4D_KERNEL_GAUSSIAN) {
        k1 = 1.0 + 2.5066282746310002 * d->sigma; /* sqrt(2 pi) */
    } else {
        const double q = exp(-1.0 / (2.0 * d->sigma));
        k1 = (1.0 + q) / (1.0 - q);
    }
    const double side = 2.0 * floor(d->cutoff) + 1.0, cube = side * side * side * side;
    double b = k1 * k1 * k1 * k1;
    b = b < cube ? b : cube;
    b = b < npost ? b : npost;
    return d->p * b;
}

static const char *rule_name_of(int32_t rule)
{
    static const char *const names[] = {"fixed_probability", "fixed_indegree",
                                        "fixed_total_number", "one_to_one", "all_to_all",
                                        "distance", "explicit"};
    return rule >= 0 && rule < 7 ? names[rule] : "?";
}

/* "12.3 GB" */
static void human_bytes(double b, char *out, size_t cap)
{
    static const char *unit[] = {"bytes", "kB", "MB", "GB", "TB", "PB", "EB", "ZB"};
    int u = 0;
    while (b >= 1000.0 && u < 7) {
        b /= 1000.0;
        u++;
    }
    snprintf(out, cap, u ? "%.1f %s" : "%.0f %s", b, unit[u]);
}

/* Refuses, before placement and generation, a model whose rules are
 * expected to draw more synapses than the limit, or than fit in what the
 * context's memory limit leaves (all_to_all Npre Npost,
 * fixed_probability p Npre Npost, fixed_indegree n Npost, fixed_total_number
 * n, one_to_one Npre, distance rules bounded by their kernel and cutoff):
 * counting them would take minutes and gigabytes first. */
static n4d_status check_expected_synapses(n4d_model *m)
{
    double total = 0.0, worst = -1.0;
    size_t wj = 0;
    for (size_t pj = 0; pj < m->n_projs; pj++) {
        const n4d__projection *pr = &m->projs[pj];
        const double npre = expected_pop_size(m, &m->pops[pr->source]),
                     npost = expected_pop_size(m, &m->pops[pr->target]);
        double e = 0.0;
        switch (pr->d.rule) {
        case N4D_RULE_ALL_TO_ALL: e = npre * npost; break;
        case N4D_RULE_FIXED_PROBABILITY: e = pr->d.p * npre * npost; break;
        case N4D_RULE_FIXED_INDEGREE: e = (double)pr->d.n * npost; break;
        case N4D_RULE_FIXED_TOTAL_NUMBER: e = (double)pr->d.n; break;
        case N4D_RULE_ONE_TO_ONE: e = npre; break;
        case N4D_RULE_DISTANCE: e = npre * distance_row_bound(&pr->d, npost); break;
        case N4D_RULE_EXPLICIT: e = (double)pr->d.n_connections; break;
        default: break;
        }
        total += e;
        if (e > worst) {
            worst = e;
            wj = pj;
        }
    }
    /* a distributed build stores about its share (docs/distributed.md) */
    if (n4d__distributed(m))
        total /= (double)m->comm.size;
    const uint64_t left = n4d__memory_left(m->ctx);
    const bool over_limit = total > (double)N4D__MAX_SYNAPSES;
    if (!over_limit && !(left != UINT64_MAX && total * 8.0 > (double)left))
        return N4D_OK;
    char bytes[32], why[128];
    human_bytes(total * 8.0, bytes, sizeof bytes);
    if (over_limit) {
        snprintf(why, sizeof why, "the limit is 2^40 (%.3g) synapses", (double)N4D__MAX_SYNAPSES);
    } else {
        char limit[32], free_b[32];
        human_bytes((double)m->ctx->memory_limit, limit, sizeof limit);
        human_bytes((double)left, free_b, sizeof free_b);
        snprintf(why, sizeof why, "the context's memory limit of %s leaves %s", limit, free_b);
    }
    const n4d__projection *pr = &m->projs[wj];
    return n4d__error(&m->hdr, N4D_E_LIMIT,
                      "the model needs about %.3g synapses (%s of synapses at 8 bytes each; "
                      "projection \"%s\", %s from %.3g to %.3g neurons, alone needs about "
                      "%.3g): %s",
                      total, bytes, pr->name, rule_name_of(pr->d.rule),
                      expected_pop_size(m, &m->pops[pr->source]),
                      expected_pop_size(m, &m->pops[pr->target]), worst, why);
}

/* ---- site lookup for distance rules --------------------------------------- */

/* Dense map of a population's area: local site index -> neuron id + 1 (0 =
 * empty). Placement puts at most one neuron of a population on a site. */
typedef struct site_map {
    uint32_t *slot;
    uint64_t sites;
} site_map;

static uint64_t site_index(const n4d__area *a, const int32_t xyzw[4])
{
    uint64_t k = 0;
    for (int i = 3; i >= 0; i--)
        k = k * (uint64_t)(a->hi[i] - a->lo[i] + 1) + (uint64_t)(xyzw[i] - a->lo[i]);
    return k;
}

/* ---- rule generators ------------------------------------------------------ */

/* fixed_probability rows are drawn chunk by chunk (synapse_gen.h): the
 * candidate targets are split in chunks of about FP_CHUNK_MEAN / p; the
 * number of synapses of a chunk is Binomial(len, p), drawn by inversion, and
 * their targets a uniform subset of that size. That is exactly the
 * distribution of one Bernoulli(p) draw per pair, but counting a row costs
 * one draw per chunk instead of one per synapse. Dense rows (p >=
 * FP_DENSE_P) draw one Bernoulli per pair. */
#define FP_MAX_K N4D__FP_MAX_K

/* The count of a chunk is Binomial(len, p) by inversion of one uniform:
 * the first k with u <= CDF(k) (at most min(len, FP_MAX_K)). The CDF is
 * tabulated once per projection by the recursion pk+1 = pk (len - k) p /
 * ((1 - p) (k + 1)) from (1 - p)^len, until it reaches 1. Returns the entry
 * count. */
static uint32_t binomial_table(uint64_t len, double p0, double ratio, const double *inv_k1,
                               double *cdf)
{
    const uint64_t limit = len < FP_MAX_K ? len : FP_MAX_K;
    double pk = p0, c = p0;
    uint64_t k = 0;
    cdf[0] = c;
    while (k < limit && c < 1.0) {
        pk = pk * ratio * (double)(len - k) * inv_k1[k];
        c = c + pk;
        cdf[++k] = c;
    }
    return (uint32_t)(k + 1);
}

/* The fixed_probability plan of a projection with npost candidates; the
 * CDF tables of sparse plans are filled by the caller. */
static void fp_make_plan(double p, uint64_t npost, n4d__sg_proj *f)
{
    if (p <= 0.0 || npost == 0) {
        f->fp_none = 1;
    } else if (p >= N4D__FP_DENSE_P) {
        f->fp_dense = 1;
        f->fp_all = p >= 1.0;
        f->fp_threshold = f->fp_all ? UINT32_MAX : (uint32_t)(p * 4294967296.0);
    } else {
        double len = floor(N4D__FP_CHUNK_MEAN / p);
        f->fp_len = len >= (double)npost ? npost : (uint64_t)len;
        f->fp_nchunks = (npost + f->fp_len - 1) / f->fp_len;
    }
}

typedef n4d__gen_syn gen_syn;

/* The segments a thread found in the rows it filled, row after row: each
 * its key and its first synapse relative to the row's start (rows are
 * shorter than 2^32 synapses). Kept in blocks of SEG_BLOCK records that are
 * chained, never copied: growing a list costs no more than its records. */
typedef struct seg_rec {
    uint32_t key, rel;
} seg_rec;

#define SEG_BLOCK 65536

typedef struct seg_list {
    alignas(64) seg_rec **block; /* aligned: each thread's counters on their own line */
    size_t n, n_blocks, cap_blocks;
} seg_list;

static inline const seg_rec *seg_at(const seg_list *l, uint64_t i)
{
    return &l->block[i / SEG_BLOCK][i % SEG_BLOCK];
}

/* row_seg of a row the column-wise projections appended to: ordered and
 * segmented from its synapses' keys after the fill */
#define ROW_MIXED UINT64_MAX

typedef struct build_ctx {
    n4d_model *m;
    n4d__sg_proj *sp;        /* per projection: the generation parameters */
    site_map *maps;          /* per population, for distance rules (or NULL) */
    uint64_t *count;         /* per source: synapses */
    uint64_t *cursor;        /* per source: fill cursor (absolute index) */
    /* The delay of a synapse during the build: from the (source population,
     * target population) pair when every projection between two
     * populations has one constant delay (no per-synapse memory), else from
     * delay_tmp. The sign comes from the weight. */
    uint16_t *delay_tmp;     /* per synapse, or NULL */
    uint32_t *pair_delay;    /* n_pops * n_pops */
    uint32_t *pair_class;    /* n_pops * n_pops: the plastic class of the pair (0: static) */
    uint64_t *item_start;    /* n_projs + 1: first (projection, source) item of each projection */
    double inv_k1[FP_MAX_K]; /* 1 / (k + 1) */
    int32_t *pop_of;         /* internal index -> population */
    uint32_t *rw_ptr;        /* n_pops + 1: the row-wise projections of population p ... */
    uint32_t *rw_proj;       /* ... are rw_proj[rw_ptr[p] .. rw_ptr[p + 1]), in projection order */
    uint64_t *row_seg;       /* per internal row: where the fill listed its segments
                              * (thread << 48 | index), or ROW_MIXED */
    int overflow;            /* fill: a row got more synapses than counted */
    int nomem;               /* fill: a segment list could not grow */
    /* distributed build: only targets in [own_lo, own_hi) (internal) are
     * counted and stored; rows are still drawn whole, then filtered */
    bool filter;
    uint64_t own_lo, own_hi;
} build_ctx;

/* Whether this rank stores synapses onto user id t. */
static inline bool owned(const build_ctx *b, uint64_t t)
{
    if (!b->filter)
        return true;
    const uint64_t i = n4d__to_internal(b->m, t);
    return i >= b->own_lo && i < b->own_hi;
}

static inline uint32_t synapse_key(const build_ctx *b, int32_t src_pop, uint64_t j)
{
    const n4d__synapses *syn = &b->m->syn;
    float w;
    memcpy(&w, &syn->weight_q[j], sizeof w);
    const size_t pair = (size_t)src_pop * b->m->n_pops + (size_t)b->pop_of[syn->target[j]];
    uint32_t d = b->delay_tmp ? b->delay_tmp[j] : b->pair_delay[pair];
    return N4D__SEG_KEY3(d, w < 0.0f, b->pair_class[pair]);
}

static double kernel_cutoff(const n4d_projection_desc *d)
{
    /* beyond this radius p * kernel < 1e-12: treated as zero */
    double r = d->kernel == N4D_KERNEL_GAUSSIAN ? d->sigma * sqrt(2.0 * log(1e12 * (d->p + 1e-300)))
                                                : d->sigma * log(1e12 * (d->p + 1e-300));
    if (!(r > 0))
        r = 0;
    return d->cutoff < r ? d->cutoff : r;
}

/* fixed_total_number without multapses: the n distinct pairs, drawn in
 * order k = 0, 1, ... with duplicates redrawn (a serial pass with a hash set:
 * 8 bytes per pair, plus the set, during the build only). */
static n4d_status distinct_pairs(n4d_model *m, size_t pj, uint64_t **out)
{
    const n4d__projection *pr = &m->projs[pj];
    const uint64_t n = pr->d.n, npre = m->pops[pr->source].n, npost = m->pops[pr->target].n;
    const bool no_self = pr->source == pr->target && !pr->d.allow_autapses;
    uint64_t cap = 16;
    while (cap < 2 * n)
        cap *= 2;
    uint64_t *pairs = n4d__alloc(m->ctx, N4D_MEM_BUILD, (n ? n : 1) * sizeof *pairs);
    uint64_t *set = n4d__calloc(m->ctx, N4D_MEM_BUILD, cap, sizeof *set);
    if (!pairs || !set) {
        n4d__free(m->ctx, N4D_MEM_BUILD, pairs, (n ? n : 1) * sizeof *pairs);
        n4d__free(m->ctx, N4D_MEM_BUILD, set, cap * sizeof *set);
        return n4d__error(&m->hdr, N4D_E_NOMEM, "projection \"%s\": out of memory drawing %llu "
                          "distinct pairs", pr->name, (unsigned long long)n);
    }
    for (uint64_t k = 0; k < n; k++) {
        for (uint64_t attempt = 0;; attempt++) {
            n4d__r4 r = n4d__philox(m->seed, purpose_of(N4D_RNG_CONNECT, pj), (uint32_t)k,
                                    ((k >> 32) << 24) + attempt);
            uint64_t s = n4d__uint_below(r.v[0], r.v[1], npre);
            uint64_t t = n4d__uint_below(r.v[2], r.v[3], npost);
            if (no_self && s == t)
                continue;
            uint64_t key = (s << 32 | t) + 1, h = (key * 0x9E3779B97F4A7C15ull) & (cap - 1);
            while (set[h] && set[h] != key)
                h = (h + 1) & (cap - 1);
            if (set[h])
                continue; /* a duplicate: draw again */
            set[h] = key;
            pairs[k] = s << 32 | t;
            break;
        }
    }
    n4d__free(m->ctx, N4D_MEM_BUILD, set, cap * sizeof *set);
    *out = pairs;
    return N4D_OK;
}

/* fixed_total_number with multapses, row by row: the number of synapses of
 * each source is a multinomial split of n over the sources, drawn as a tree of
 * binomial splits (node draws keyed by node id: the same counts on any thread
 * count); each source then draws its targets uniformly with replacement. A
 * binomial with variance below 50 is drawn exactly by inversion, a larger one
 * by the normal approximation (its relative error is below 1e-3 there). */
static uint64_t split_binomial(uint64_t seed, uint32_t purpose, uint64_t node, uint64_t c,
                               double q)
{
    if (c == 0 || q <= 0.0)
        return 0;
    if (q >= 1.0)
        return c;
    n4d__r4 r = n4d__philox(seed, purpose, 0xffffffffu, node);
    const bool flip = q > 0.5;
    const double qq = flip ? 1.0 - q : q, mean = (double)c * qq, var = mean * (1.0 - qq);
    uint64_t k = 0;
    if (var < 50.0) {
        const double u = n4d__u01(r.v[0], r.v[1]), ratio = qq / (1.0 - qq);
        double pk = exp((double)c * log1p(-qq)), cdf = pk;
        while (u > cdf && k < c) {
            pk = pk * ratio * (double)(c - k) / (double)(k + 1);
            cdf = cdf + pk;
            k++;
        }
    } else {
        const double z = sqrt(-2.0 * log(n4d__u01_open0(r.v[0], r.v[1]))) *
                         cos(6.283185307179586 * n4d__u01(r.v[2], r.v[3]));
        const double x = floor(mean + sqrt(var) * z + 0.5);
        k = x <= 0.0 ? 0 : (x >= (double)c ? c : (uint64_t)x);
    }
    return flip ? c - k : k;
}

static void split_counts(uint64_t seed, uint32_t purpose, uint64_t lo, uint64_t hi, uint64_t c,
                         uint64_t node, uint64_t *counts)
{
    if (hi - lo == 1 || c == 0) {
        for (uint64_t s = lo; s < hi; s++)
            counts[s] = s == lo ? c : 0;
        return;
    }
    const uint64_t mid = lo + (hi - lo) / 2;
    const uint64_t left = split_binomial(seed, purpose, node, c, (double)(mid - lo) / (double)(hi - lo));
    split_counts(seed, purpose, lo, mid, left, 2 * node, counts);
    split_counts(seed, purpose, mid, hi, c - left, 2 * node + 1, counts);
}

/* ---- canonical row order ------------------------------------------------------ */

static inline bool syn_less(const gen_syn *a, const gen_syn *b)
{
    if (a->key != b->key)
        return a->key < b->key;
    if (a->target != b->target)
        return a->target < b->target;
    return a->weight < b->weight;
}

/* Stable merge sort of n entries using tmp (n entries); its callers
 * (order_row) have found them out of order already. */
static void sort_row(gen_syn *a, gen_syn *tmp, uint64_t n)
{
    for (uint64_t i = 1; i < n; i++) { /* insertion sort runs of 16 */
        if (i % 16 == 0)
            continue;
        gen_syn x = a[i];
        uint64_t j = i;
        while (j % 16 && syn_less(&x, &a[j - 1])) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = x;
    }
    gen_syn *src = a, *dst = tmp;
    for (uint64_t w = 16; w < n; w *= 2) {
        for (uint64_t lo = 0; lo < n; lo += 2 * w) {
            uint64_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            uint64_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                dst[k++] = syn_less(&src[j], &src[i]) ? src[j++] : src[i++];
            while (i < mid)
                dst[k++] = src[i++];
            while (j < hi)
                dst[k++] = src[j++];
        }
        gen_syn *x = src;
        src = dst;
        dst = x;
    }
    if (src != a)
        memcpy(a, src, n * sizeof *a);
}

/* Whether a[0, n) is in canonical order: (key, target) as one number, the
 * weights only where both are equal. */
static bool in_order(const gen_syn *a, uint64_t n)
{
    uint64_t prev = 0;
    for (uint64_t i = 0; i < n; i++) {
        const uint64_t kt = (uint64_t)a[i].key << 32 | a[i].target;
        if (i && (kt < prev || (kt == prev && a[i].weight < a[i - 1].weight)))
            return false;
        prev = kt;
    }
    return true;
}

/* Puts a[0, n) in canonical order (syn_less, stable), tmp holding n
 * entries. A row holds few classes and its delays span a few hundred steps
 * at most: a stable counting sort on (class, delay and sign) over the
 * row's ranges of both, then each key's run by (target, weight), which the
 * generators usually left in order already. Rows whose ranges make more
 * than ROW_BUCKETS buckets (or many more than their synapses) are merge
 * sorted whole. */
#define ROW_BUCKETS 1024
static void order_row(gen_syn *a, gen_syn *tmp, uint64_t n)
{
    if (in_order(a, n))
        return;
    /* a key is class << 17 | (delay << 1 | sign): bucket (class - cmin) *
     * lspan + (low - lmin), in key order */
    uint32_t cmin = UINT32_MAX, cmax = 0, lmin = UINT32_MAX, lmax = 0;
    for (uint64_t i = 0; i < n; i++) {
        const uint32_t c = a[i].key >> 17, l = a[i].key & 0x1ffffu;
        cmin = c < cmin ? c : cmin;
        cmax = c > cmax ? c : cmax;
        lmin = l < lmin ? l : lmin;
        lmax = l > lmax ? l : lmax;
    }
    const uint64_t lspan = (uint64_t)lmax - lmin + 1, buckets = ((uint64_t)cmax - cmin + 1) * lspan;
    if (buckets > ROW_BUCKETS || buckets > 8 * n + 64) {
        sort_row(a, tmp, n);
        return;
    }
    uint64_t start[ROW_BUCKETS + 1];
    memset(start, 0, (buckets + 1) * sizeof *start);
#define ROW_BUCKET(key) (((key) >> 17) - cmin) * lspan + (((key) & 0x1ffffu) - lmin)
    for (uint64_t i = 0; i < n; i++)
        start[ROW_BUCKET(a[i].key) + 1]++;
    for (uint64_t k = 0; k < buckets; k++)
        start[k + 1] += start[k];
    for (uint64_t i = 0; i < n; i++) /* stable; start[k] ends at the end of bucket k */
        tmp[start[ROW_BUCKET(a[i].key)]++] = a[i];
#undef ROW_BUCKET
    for (uint64_t k = 0; k < buckets; k++) {
        const uint64_t lo = k ? start[k - 1] : 0, len = start[k] - lo;
        if (len > 1 && !in_order(tmp + lo, len))
            sort_row(tmp + lo, a + lo, len);
    }
    memcpy(a, tmp, n * sizeof *a);
}

/* ---- the build ------------------------------------------------------------------ */

/* The calling thread's number in its OpenMP team (0 without OpenMP). */
static inline int thread_num(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

static int build_threads(const n4d_model *m)
{
#ifdef _OPENMP
    return m->build_threads > 0 ? m->build_threads : omp_get_max_threads();
#else
    (void)m;
    return 1;
#endif
}

void n4d__model_free_built(n4d_model *m)
{
    n4d_context *ctx = m->ctx;
    n4d__synapses *s = &m->syn;
    n4d__layout_free(m);
    n4d__free(ctx, N4D_MEM_NEURONS, m->pos, (m->n_neurons ? m->n_neurons : 1) * 4 * sizeof(int32_t));
    n4d__free(ctx, N4D_MEM_SYNAPSES, s->seg_ptr, (m->n_neurons + 1) * sizeof(uint64_t));
    n4d__free(ctx, N4D_MEM_SYNAPSES, s->seg_off, (s->n_seg + 1) * sizeof(uint64_t));
    n4d__free(ctx, N4D_MEM_SYNAPSES, s->seg_key, (s->n_seg ? s->n_seg : 1) * sizeof(uint32_t));
    if (s->release) /* memory-mapped by the storage module */
        s->release(s);
    n4d__free(ctx, N4D_MEM_SYNAPSES, s->target, (s->n_syn ? s->n_syn : 1) * sizeof(uint32_t));
    n4d__free(ctx, N4D_MEM_SYNAPSES, s->weight_q, (s->n_syn ? s->n_syn : 1) * sizeof(int32_t));
    memset(s, 0, sizeof *s);
    m->pos = NULL;
    m->n_neurons = 0;
    m->built_on[0] = '\0';
    for (size_t i = 0; i < m->n_pops; i++)
        m->pops[i].first = m->pops[i].n = 0;
    m->built = false;
}

/* The connections of an explicit projection against the placed populations
 * and the model's dt. */
static n4d_status validate_explicit(n4d_model *m, const n4d__projection *pr)
{
    const n4d__population *pre = &m->pops[pr->source], *post = &m->pops[pr->target];
    if (pr->ex_missing)
        return n4d__error(&m->hdr, N4D_E_STATE,
                          "projection \"%s\": an explicit projection read from a model file "
                          "has no connections to build from (its synapses are in the file)",
                          pr->name);
    for (uint64_t k = 0; k < pr->d.n_connections; k++) {
        if (pr->ex_pre[k] >= pre->n || pr->ex_post[k] >= post->n)
            return n4d__error(&m->hdr, N4D_E_RANGE,
                              "projection \"%s\": connection %llu (pre %u, post %u) is out of "
                              "range: \"%s\" has %llu neurons, \"%s\" %llu",
                              pr->name, (unsigned long long)k, pr->ex_pre[k], pr->ex_post[k],
                              pre->name, (unsigned long long)pre->n, post->name,
                              (unsigned long long)post->n);
        const double dl = pr->ex_delay[k] == 0.0 ? m->dt : pr->ex_delay[k];
        if (!(dl >= 0.5 * m->dt) || !(dl / m->dt <= N4D__MAX_DELAY_STEPS))
            return n4d__error(&m->hdr, N4D_E_RANGE,
                              "projection \"%s\": connection %llu: delay %g ms is not in [1, %u] "
                              "steps of dt %g ms",
                              pr->name, (unsigned long long)k, dl, N4D__MAX_DELAY_STEPS, m->dt);
    }
    return N4D_OK;
}

static n4d_status validate(n4d_model *m)
{
    N4D__TRY(n4d__inputs_validate(m));
    for (size_t pj = 0; pj < m->n_projs; pj++) {
        const n4d__projection *pr = &m->projs[pj];
        const n4d__population *pre = &m->pops[pr->source], *post = &m->pops[pr->target];
        if (pr->d.rule == N4D_RULE_EXPLICIT) {
            N4D__TRY(validate_explicit(m, pr));
            continue;
        }
        if (pr->d.delay.kind == N4D_DIST_CONSTANT) {
            if (pr->d.delay.value != 0.0 && pr->d.delay.value < 0.5 * m->dt)
                return n4d__error(&m->hdr, N4D_E_RANGE,
                                  "projection \"%s\": delay %g ms rounds to zero steps (dt %g ms; a "
                                  "delay is at least one step)",
                                  pr->name, pr->d.delay.value, m->dt);
            if (pr->d.delay.value / m->dt > N4D__MAX_DELAY_STEPS)
                return n4d__error(&m->hdr, N4D_E_LIMIT,
                                  "projection \"%s\": delay %g ms exceeds %u steps", pr->name,
                                  pr->d.delay.value, N4D__MAX_DELAY_STEPS);
        }
        if (pr->d.rule == N4D_RULE_ONE_TO_ONE && pre->n != post->n)
            return n4d__error(&m->hdr, N4D_E_CONFIG,
                              "projection \"%s\": one_to_one needs equal sizes (%llu vs %llu neurons)",
                              pr->name, (unsigned long long)pre->n, (unsigned long long)post->n);
        if (pr->d.rule == N4D_RULE_FIXED_INDEGREE && pr->d.n > 0) {
            uint64_t avail = pre->n - (pr->source == pr->target && !pr->d.allow_autapses ? 1 : 0);
            if (pre->n == 0 || avail == 0 || (!pr->d.allow_multapses && pr->d.n > avail))
                return n4d__error(&m->hdr, N4D_E_CONFIG,
                                  "projection \"%s\": in-degree %llu needs more than the %llu "
                                  "available sources",
                                  pr->name, (unsigned long long)pr->d.n, (unsigned long long)avail);
            if (pr->d.n >= (1u << 20))
                return n4d__error(&m->hdr, N4D_E_LIMIT, "projection \"%s\": in-degree above 2^20",
                                  pr->name);
        }
        if (pr->d.rule == N4D_RULE_FIXED_TOTAL_NUMBER && pr->d.n > 0) {
            if (pre->n == 0 || post->n == 0 ||
                (pr->source == pr->target && !pr->d.allow_autapses && pre->n < 2))
                return n4d__error(&m->hdr, N4D_E_CONFIG,
                                  "projection \"%s\": no pairs to draw %llu synapses from", pr->name,
                                  (unsigned long long)pr->d.n);
            const double avail = (double)pre->n * (double)post->n -
                                 (pr->source == pr->target && !pr->d.allow_autapses ? (double)pre->n : 0);
            if (!pr->d.allow_multapses && (double)pr->d.n > avail)
                return n4d__error(&m->hdr, N4D_E_CONFIG,
                                  "projection \"%s\": %llu distinct pairs requested, only %.0f exist",
                                  pr->name, (unsigned long long)pr->d.n, avail);
        }
    }
    return N4D_OK;
}

static n4d_status build_site_maps(build_ctx *b)
{
    n4d_model *m = b->m;
    for (size_t pj = 0; pj < m->n_projs; pj++) {
        if (m->projs[pj].d.rule != N4D_RULE_DISTANCE)
            continue;
        int32_t tp = m->projs[pj].target;
        site_map *map = &b->maps[tp];
        if (map->slot)
            continue;
        const n4d__population *p = &m->pops[tp];
        const n4d__area *a = &m->areas[p->area];
        map->sites = area_sites(a);
        map->slot = n4d__calloc(m->ctx, N4D_MEM_BUILD, map->sites, sizeof(uint32_t));
        if (!map->slot)
            return n4d__error(&m->hdr, N4D_E_NOMEM, "out of memory for the site map of \"%s\"",
                              p->name);
        for (uint64_t i = 0; i < p->n; i++)
            map->slot[site_index(a, m->pos + 4 * (p->first + i))] = (uint32_t)(p->first + i + 1);
    }
    return N4D_OK;
}

/* Fill: whether n synapses at `at` stay within internal row r (b->count
 * holds the row starts). They always do when both passes agree; a guard, so
 * that a disagreement (the counts came from the GPU) fails the build instead
 * of writing past the row. */
static inline bool row_fits(build_ctx *b, uint64_t r, uint64_t at, uint64_t n)
{
    if (at + n <= b->count[r + 1])
        return true;
    __atomic_store_n(&b->overflow, 1, __ATOMIC_RELAXED);
    return false;
}

/* The (projection, source) item `it` of the row-wise projections: its
 * projection (item_start: the first item of each). */
static size_t item_projection(const build_ctx *b, uint64_t it)
{
    size_t lo = 0, hi = b->m->n_projs;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (b->item_start[mid] <= it)
            lo = mid;
        else
            hi = mid;
    }
    while (n4d__sg_columnwise(&b->sp[lo]) || b->item_start[lo + 1] <= it)
        lo++; /* skip projections with no items */
    return lo;
}

/* Keeps the owned targets of row[0, n), in row order (distributed build);
 * returns their count. */
static uint64_t keep_owned(const build_ctx *b, gen_syn *row, uint64_t n)
{
    if (!b->filter)
        return n;
    uint64_t k = 0;
    for (uint64_t i = 0; i < n; i++)
        if (owned(b, row[i].target))
            row[k++] = row[i];
    return k;
}

/* The counts of the row-wise projections (count_all): (projection,
 * source) items in one parallel loop (one synchronisation for all). */
static void count_rowwise(build_ctx *b, int threads, gen_syn *const *scratch)
{
    n4d_model *m = b->m;
    uint64_t items = 0;
    for (size_t pj = 0; pj < m->n_projs; pj++) {
        b->item_start[pj] = items;
        if (!n4d__sg_columnwise(&b->sp[pj]))
            items += m->pops[m->projs[pj].source].n;
    }
    b->item_start[m->n_projs] = items;
#pragma omp parallel for schedule(dynamic, 64) num_threads(threads)
    for (uint64_t it = 0; it < items; it++) {
        const int tid = thread_num();
        const size_t pj = item_projection(b, it);
        const uint64_t s = it - b->item_start[pj];
        const uint64_t src = m->pops[m->projs[pj].source].first + s;
        uint64_t n;
        if (!b->filter) {
            n = n4d__sg_row_targets(&b->sp[pj], m->pos, m->seed, s, NULL);
        } else { /* only the owned targets count: the whole row is drawn */
            n = n4d__sg_row_targets(&b->sp[pj], m->pos, m->seed, s, scratch[tid]);
            n = keep_owned(b, scratch[tid], n);
        }
        __atomic_fetch_add(&b->count[src], n, __ATOMIC_RELAXED);
    }
}

/* Appends a segment to a thread's list (blocks allocated under a lock:
 * the context's allocator need not be thread-safe). */
static bool seg_push(n4d_context *ctx, seg_list *l, uint32_t rel, uint32_t key)
{
    if (l->n == l->n_blocks * SEG_BLOCK) {
        bool ok = true;
#pragma omp critical(n4d_build_alloc)
        {
            if (l->n_blocks == l->cap_blocks) { /* the table of blocks (small) */
                const size_t cap = l->cap_blocks ? 2 * l->cap_blocks : 16;
                seg_rec **t = n4d__alloc(ctx, N4D_MEM_BUILD, cap * sizeof *t);
                if (t) {
                    if (l->n_blocks)
                        memcpy(t, l->block, l->n_blocks * sizeof *t);
                    n4d__free(ctx, N4D_MEM_BUILD, l->block, l->cap_blocks * sizeof *t);
                    l->block = t;
                    l->cap_blocks = cap;
                }
            }
            seg_rec *r = l->n_blocks < l->cap_blocks
                             ? n4d__alloc(ctx, N4D_MEM_BUILD, SEG_BLOCK * sizeof *r)
                             : NULL;
            if (r)
                l->block[l->n_blocks++] = r;
            ok = r != NULL;
        }
        if (!ok)
            return false;
    }
    seg_rec *r = &l->block[l->n / SEG_BLOCK][l->n % SEG_BLOCK];
    r->key = key;
    r->rel = rel;
    l->n++;
    return true;
}

static void seg_lists_free(n4d_context *ctx, seg_list *lists, size_t T)
{
    if (!lists)
        return;
    for (size_t t = 0; t < T; t++) {
        for (size_t k = 0; k < lists[t].n_blocks; k++)
            n4d__free(ctx, N4D_MEM_BUILD, lists[t].block[k], SEG_BLOCK * sizeof(seg_rec));
        n4d__free(ctx, N4D_MEM_BUILD, lists[t].block, lists[t].cap_blocks * sizeof(seg_rec *));
    }
    n4d__free(ctx, N4D_MEM_BUILD, lists, T * sizeof *lists);
}

/* Writes row[0, n), in canonical order, at internal row r's start
 * (targets, weights as float bits, delays where kept), lists its segments
 * in thread tid's list and counts them in seg_ptr[r + 1]; returns the
 * row's largest |weight|. The callers' rows are fixed blocks per thread
 * (schedule(static)): the lists grow, and so allocate, the same way in
 * every run. */
static float write_row(build_ctx *b, seg_list *lists, int tid, uint64_t r, const gen_syn *row,
                       uint64_t n)
{
    n4d__synapses *syn = &b->m->syn;
    const uint64_t at = b->count[r];
    float mx = 0.0f;
    for (uint64_t i = 0; i < n; i++) {
        syn->target[at + i] = row[i].target;
        memcpy(&syn->weight_q[at + i], &row[i].weight, sizeof(float));
        const float aw = fabsf(row[i].weight);
        mx = aw > mx ? aw : mx;
    }
    if (b->delay_tmp)
        for (uint64_t i = 0; i < n; i++)
            b->delay_tmp[at + i] = (uint16_t)N4D__SEG_DELAY(row[i].key);
    uint64_t segs = 0;
    for (uint64_t i = 0; i < n; i++)
        if (i == 0 || row[i].key != row[i - 1].key) {
            if (segs == 0)
                b->row_seg[r] = (uint64_t)tid << 48 | lists[tid].n;
            if (!seg_push(b->m->ctx, &lists[tid], (uint32_t)i, row[i].key))
                __atomic_store_n(&b->nomem, 1, __ATOMIC_RELAXED);
            segs++;
        }
    syn->seg_ptr[r + 1] = segs;
    return mx;
}

/* Pass 2 of the row-wise projections: the whole row of each source at once
 * (every row-wise projection of its population, in projection order) in
 * the thread's buffer: targets, weights and keys, the targets made
 * internal, put in canonical order there and written once at the row's
 * start, with its segments into the thread's list. Weights stay float bits
 * until the fixed-point scale is known. */
static void fill_rowwise(build_ctx *b, int threads, gen_syn *const *scratch, seg_list *lists,
                         float *maxw)
{
    n4d_model *m = b->m;
    const uint64_t N = m->n_neurons;
    float thread_max[256] = {0};
    /* static blocks: each thread's rows, and so its list's growth (the
     * allocations), do not depend on timing */
#pragma omp parallel for schedule(static, 64) num_threads(threads)
    for (uint64_t src = 0; src < N; src++) {
        const int tid = thread_num();
        const uint64_t r = n4d__to_internal(m, src);
        const int32_t sp = b->pop_of[r];
        const uint32_t q0 = b->rw_ptr[sp], q1 = b->rw_ptr[sp + 1];
        if (q0 == q1 || __atomic_load_n(&b->nomem, __ATOMIC_RELAXED))
            continue;
        gen_syn *row = scratch[tid];
        uint64_t n = 0;
        for (uint32_t q = q0; q < q1; q++) {
            const size_t pj = b->rw_proj[q];
            const n4d__sg_proj *P = &b->sp[pj];
            const uint64_t s = src - P->pre_first;
            gen_syn *part = row + n;
            uint64_t k = n4d__sg_row_targets(P, m->pos, m->seed, s, part);
            if (P->rule != N4D_RULE_EXPLICIT)
                n4d__build_make_row(P, m->seed, (uint32_t)s, part, k);
            k = keep_owned(b, part, k);
            const uint32_t cls = b->pair_class[(size_t)sp * m->n_pops + (size_t)m->projs[pj].target];
            for (uint64_t i = 0; i < k; i++) {
                part[i].target = (uint32_t)n4d__to_internal(m, part[i].target);
                part[i].key |= cls << 17;
            }
            n += k;
        }
        const uint64_t at = b->count[r];
        b->cursor[r] = at + n; /* the column-wise projections append there */
        if (!row_fits(b, r, at, n))
            continue;
        order_row(row, row + n, n);
        /* in a register: thread_max's slots share cache lines */
        const float mx = write_row(b, lists, tid, r, row, n);
        if (mx > thread_max[tid & 255])
            thread_max[tid & 255] = mx;
    }
    for (int i = 0; i < 256; i++)
        if (thread_max[i] > *maxw)
            *maxw = thread_max[i];
}

/* Writes column-wise synapse g of internal row r at the row's cursor (pass
 * 2) and marks the row for ordering. */
static void put_columnwise(build_ctx *b, uint64_t r, const gen_syn *g, float *mx)
{
    n4d__synapses *syn = &b->m->syn;
    uint64_t at = __atomic_fetch_add(&b->cursor[r], 1, __ATOMIC_RELAXED);
    __atomic_store_n(&b->row_seg[r], ROW_MIXED, __ATOMIC_RELAXED);
    if (!row_fits(b, r, at, 1))
        return;
    syn->target[at] = (uint32_t)n4d__to_internal(b->m, g->target);
    memcpy(&syn->weight_q[at], &g->weight, sizeof(float));
    if (b->delay_tmp)
        b->delay_tmp[at] = (uint16_t)N4D__SEG_DELAY(g->key);
    if (fabsf(g->weight) > *mx)
        *mx = fabsf(g->weight);
}

/* The column-wise projections (fixed_indegree, fixed_total_number without
 * multapses), drawn per target or per pair: with fill == false they count
 * the synapses of every source (user ids, atomically), with fill == true
 * they append them to the rows' cursors. */
static void columnwise(build_ctx *b, bool fill, int threads, gen_syn *const *scratch,
                       uint64_t *const *seen, float *maxw)
{
    n4d_model *m = b->m;
    float thread_max[256] = {0};
    for (size_t pj = 0; pj < m->n_projs; pj++) {
        const n4d__projection *pr = &m->projs[pj];
        const n4d__population *pre = &m->pops[pr->source], *post = &m->pops[pr->target];
        if (!n4d__sg_columnwise(&b->sp[pj]))
            continue;
        if (pr->d.rule == N4D_RULE_FIXED_INDEGREE) {
#pragma omp parallel for schedule(dynamic, 64) num_threads(threads)
            for (uint64_t t = 0; t < post->n; t++) {
                const int tid = thread_num();
                if (!owned(b, post->first + t))
                    continue; /* another rank draws this target's sources */
                uint64_t *src = (uint64_t *)scratch[tid];
                n4d__sg_indegree_row(&b->sp[pj], m->seed, t, src, seen[tid]);
                for (uint64_t k = 0; k < pr->d.n; k++) {
                    uint64_t gs = pre->first + src[k];
                    if (!fill) {
                        __atomic_fetch_add(&b->count[gs], 1, __ATOMIC_RELAXED);
                        continue;
                    }
                    gen_syn g;
                    n4d__sg_make(&b->sp[pj], m->seed, (uint32_t)t, k, (uint32_t)(post->first + t), &g);
                    put_columnwise(b, n4d__to_internal(m, gs), &g, &thread_max[tid & 255]);
                }
            }
        } else { /* fixed_total_number without multapses: the distinct pairs */
#pragma omp parallel for schedule(static) num_threads(threads)
            for (uint64_t k = 0; k < pr->d.n; k++) {
                const int tid = thread_num();
                const uint64_t s = b->sp[pj].pairs[k] >> 32, t = b->sp[pj].pairs[k] & 0xffffffffu;
                if (!owned(b, post->first + t))
                    continue;
                uint64_t gs = pre->first + s;
                if (!fill) {
                    __atomic_fetch_add(&b->count[gs], 1, __ATOMIC_RELAXED);
                    continue;
                }
                gen_syn g;
                n4d__sg_make(&b->sp[pj], m->seed, (uint32_t)k, k >> 32, (uint32_t)(post->first + t), &g);
                put_columnwise(b, n4d__to_internal(m, gs), &g, &thread_max[tid & 255]);
            }
        }
    }
    if (maxw)
        for (int i = 0; i < 256; i++)
            if (thread_max[i] > *maxw)
                *maxw = thread_max[i];
}

/* Pass 1: the synapses of every source (user ids) into b->count, by every
 * rule. */
static void count_all(build_ctx *b, int threads, gen_syn *const *scratch, uint64_t *const *seen)
{
    count_rowwise(b, threads, scratch);
    columnwise(b, false, threads, scratch, seen, NULL);
}

/* After a device counted the synapses and its fill failed over to the CPU:
 * counts every row on the CPU and compares with the device's (b->count:
 * the row starts in internal order). */
static n4d_status check_device_counts(build_ctx *b, int threads, gen_syn *const *scratch,
                                      uint64_t *const *seen)
{
    n4d_model *m = b->m;
    const uint64_t N = m->n_neurons;
    uint64_t *cpu = n4d__calloc(m->ctx, N4D_MEM_BUILD, N + 1, sizeof *cpu);
    if (!cpu)
        return n4d__error(&m->hdr, N4D_E_NOMEM, "out of memory for build bookkeeping (%llu neurons)",
                          (unsigned long long)N);
    uint64_t *device = b->count;
    b->count = cpu; /* the count passes add into b->count (user ids) */
    count_all(b, threads, scratch, seen);
    b->count = device;
    bool same = true;
    for (uint64_t r = 0; r < N && same; r++)
        same = cpu[n4d__to_user(m, r)] == device[r + 1] - device[r];
    n4d__free(m->ctx, N4D_MEM_BUILD, cpu, (N + 1) * sizeof *cpu);
    return same ? N4D_OK
                : n4d__error(&m->hdr, N4D_E_INTERNAL, "the synapse counts of the two build passes "
                                                      "differ (the counts came from the GPU)");
}

n4d_status n4d_model_build(n4d_model *m)
{
    if (!n4d__is_handle(m, N4D__MAGIC_MODEL))
        return N4D_E_INVALID_ARG;
    n4d__model_clear_error(m);
    if (m->built)
        return N4D_OK;
    const uint64_t t0 = n4d__now_ns();
    n4d_status st = n4d__model_build_impl(m);
    if (st != N4D_OK)
        n4d__model_free_built(m);
    else
        m->build_ns = n4d__now_ns() - t0; /* the profiler's build section */
    return st;
}

static void free_scratch(n4d_context *ctx, void **arr, size_t n, size_t bytes)
{
    if (!arr)
        return;
    for (size_t i = 0; i < n; i++)
        n4d__free(ctx, N4D_MEM_BUILD, arr[i], bytes);
}

/* Allocates one buffer of `bytes` per thread into arr (NULL entries on failure). */
static bool alloc_scratch(n4d_context *ctx, void **arr, size_t n, size_t bytes)
{
    for (size_t i = 0; i < n; i++)
        if (!(arr[i] = n4d__alloc(ctx, N4D_MEM_BUILD, bytes)))
            return false;
    return true;
}

/* Fills b->sp, the generation parameters of every projection: plans and
 * CDF tables of fixed_probability, per-source counts (with multapses) or
 * distinct pairs (without) of fixed_total_number, constants, and the delay
 * bookkeeping (*need_delay_tmp: some population pair has more than one
 * delay). */
static n4d_status prepare_projections(build_ctx *b, bool *need_delay_tmp)
{
    n4d_model *m = b->m;
    n4d_context *ctx = m->ctx;
    n4d_status st;
    for (size_t i = 0; i < m->n_pops * m->n_pops; i++)
        b->pair_delay[i] = 0;
    for (size_t pj = 0; pj < m->n_projs; pj++) {
        const n4d__projection *pr = &m->projs[pj];
        const n4d__population *pre = &m->pops[pr->source], *post = &m->pops[pr->target];
        n4d__sg_proj *f = &b->sp[pj];
        f->rule = pr->d.rule;
        f->kernel = pr->d.kernel;
        f->syn_type = pr->d.syn_type;
        f->no_self = pr->source == pr->target && !pr->d.allow_autapses;
        f->allow_multapses = pr->d.allow_multapses != 0;
        f->index = (uint32_t)pj;
        f->pre_first = pre->first;
        f->pre_n = pre->n;
        f->post_first = post->first;
        f->post_n = post->n;
        f->n = pr->d.n;
        f->p = pr->d.p;
        f->sigma = pr->d.sigma;
        f->dt = m->dt;
        f->weight = pr->d.weight;
        f->delay = pr->d.delay;
        if (pr->d.rule == N4D_RULE_DISTANCE) {
            const n4d__area *a = &m->areas[post->area];
            f->rc = kernel_cutoff(&pr->d);
            f->site_slot = b->maps[pr->target].slot;
            memcpy(f->area_lo, a->lo, sizeof f->area_lo);
            memcpy(f->area_hi, a->hi, sizeof f->area_hi);
        }
        if (pr->d.rule == N4D_RULE_FIXED_TOTAL_NUMBER) {
            if (!pr->d.allow_multapses) {
                if ((st = distinct_pairs(m, pj, &f->pairs)))
                    return st;
            } else {
                f->ftn_count = n4d__alloc(ctx, N4D_MEM_BUILD, (pre->n ? pre->n : 1) * sizeof(uint64_t));
                if (!f->ftn_count)
                    return n4d__error(&m->hdr, N4D_E_NOMEM, "out of memory for the counts of \"%s\"",
                                      pr->name);
                if (pre->n)
                    split_counts(m->seed, purpose_of(N4D_RNG_CONNECT, pj), 0, pre->n, pr->d.n, 1,
                                 f->ftn_count);
            }
        }
        if (pr->d.rule == N4D_RULE_FIXED_PROBABILITY) {
            fp_make_plan(pr->d.p, post->n, f);
            if (!f->fp_none && !f->fp_dense) {
                const double p = pr->d.p, ratio = p / (1.0 - p);
                const uint64_t last = post->n - (f->fp_nchunks - 1) * f->fp_len;
                for (int t = 0; t < 2; t++) {
                    const uint64_t len = t ? last : f->fp_len;
                    f->cdf[t] = n4d__alloc(ctx, N4D_MEM_BUILD, (FP_MAX_K + 1) * sizeof(double));
                    if (!f->cdf[t])
                        return n4d__error(&m->hdr, N4D_E_NOMEM, "out of memory for connection tables");
                    f->cdf_n[t] = binomial_table(len, exp((double)len * log1p(-p)), ratio, b->inv_k1,
                                                 f->cdf[t]);
                }
            }
        }
        if (pr->d.rule == N4D_RULE_EXPLICIT) {
            /* a CSR by local source over the list (counting sort, stable),
             * the delays in steps */
            const uint64_t nc = pr->d.n_connections;
            uint64_t *ptr = n4d__calloc(ctx, N4D_MEM_BUILD, pre->n + 1, sizeof(uint64_t));
            uint32_t *ord = n4d__alloc(ctx, N4D_MEM_BUILD, (nc ? nc : 1) * sizeof(uint32_t));
            uint32_t *dl = n4d__alloc(ctx, N4D_MEM_BUILD, (nc ? nc : 1) * sizeof(uint32_t));
            f->ex_ptr = ptr;
            f->ex_ord = ord;
            f->ex_delay = dl;
            if (!ptr || !ord || !dl)
                return n4d__error(&m->hdr, N4D_E_NOMEM, "out of memory for the connections of \"%s\"",
                                  pr->name);
            for (uint64_t k = 0; k < nc; k++) {
                ptr[pr->ex_pre[k] + 1]++;
                dl[k] = pr->ex_delay[k] == 0.0 ? 1u : n4d__delay_steps(pr->ex_delay[k], m->dt);
            }
            for (uint64_t s = 0; s < pre->n; s++)
                ptr[s + 1] += ptr[s];
            for (uint64_t k = 0; k < nc; k++) /* ptr[s] runs to the end of row s ... */
                ord[ptr[pr->ex_pre[k]]++] = (uint32_t)k;
            for (uint64_t s = pre->n; s > 0; s--) /* ... and is shifted back */
                ptr[s] = ptr[s - 1];
            ptr[0] = 0;
            f->ex_post = pr->ex_post;
            f->ex_w = pr->ex_w;
            f->no_self = 0; /* the list is what was asked for */
            f->const_delay = 0;
            f->const_weight = 0;
            *need_delay_tmp = true;
            continue;
        }
        f->const_delay = pr->d.delay.kind == N4D_DIST_CONSTANT;
        f->delay_c = f->const_delay ? (pr->d.delay.value == 0.0 ? 1u
                                                                : n4d__delay_steps(pr->d.delay.value, m->dt))
                                    : 0u;
        f->const_weight = pr->d.weight.kind == N4D_DIST_CONSTANT;
        const double w = pr->d.weight.value;
        f->weight_c = (float)(pr->d.syn_type == N4D_SYN_EXCITATORY   ? fabs(w)
                              : pr->d.syn_type == N4D_SYN_INHIBITORY ? -fabs(w)
                                                                     : w);
        uint32_t *pd = &b->pair_delay[(size_t)pr->source * m->n_pops + (size_t)pr->target];
        if (!f->const_delay || (*pd && *pd != f->delay_c))
            *need_delay_tmp = true;
        *pd = f->delay_c;
    }
    return N4D_OK;
}

static void free_projections(build_ctx *b)
{
    const n4d_model *m = b->m;
    if (!b->sp)
        return;
    for (size_t pj = 0; pj < m->n_projs; pj++) {
        n4d__sg_proj *f = &b->sp[pj];
        for (int t = 0; t < 2; t++)
            n4d__free(m->ctx, N4D_MEM_BUILD, f->cdf[t], (FP_MAX_K + 1) * sizeof(double));
        n4d__free(m->ctx, N4D_MEM_BUILD, f->pairs, (f->n ? f->n : 1) * sizeof(uint64_t));
        n4d__free(m->ctx, N4D_MEM_BUILD, f->ftn_count, (f->pre_n ? f->pre_n : 1) * sizeof(uint64_t));
        if (m->projs[pj].d.rule == N4D_RULE_EXPLICIT) {
            const uint64_t nc = m->projs[pj].d.n_connections ? m->projs[pj].d.n_connections : 1;
            n4d__free(m->ctx, N4D_MEM_BUILD, (void *)f->ex_ptr, (f->pre_n + 1) * sizeof(uint64_t));
            n4d__free(m->ctx, N4D_MEM_BUILD, (void *)f->ex_ord, nc * sizeof(uint32_t));
            n4d__free(m->ctx, N4D_MEM_BUILD, (void *)f->ex_delay, nc * sizeof(uint32_t));
        }
    }
    n4d__free(m->ctx, N4D_MEM_BUILD, b->sp, (m->n_projs ? m->n_projs : 1) * sizeof *b->sp);
}

n4d_status n4d__model_build_impl(n4d_model *m)
{
    n4d_context *ctx = m->ctx;
    /* the expected size first; the rules are validated against the
     * population sizes: place then */
    n4d_status st = check_expected_synapses(m);
    if (!st)
        st = place_neurons(m);
    if (st || (st = validate(m)) || (st = n4d__model_make_classes(m)))
        return st;
    const uint64_t N = m->n_neurons;
    int threads = build_threads(m);
    if (threads > 256)
        threads = 256;
    const size_t T = (size_t)threads;
    n4d__synapses *syn = &m->syn;
    build_ctx b = {.m = m};
    n4d__device_build dev = {0};
    for (int k = 0; k < FP_MAX_K; k++)
        b.inv_k1[k] = 1.0 / (double)(k + 1);
    gen_syn **scratch = NULL;
    uint64_t **seen = NULL;
    seg_list *lists = NULL; /* per thread: the segments of the rows it filled */
    size_t scratch_bytes = 0, seen_bytes = 0;
    uint64_t S = 0;

    /* per-thread buffers for column rules: K sources, and a bitmap of the
     * source population when multapses are not allowed */
    uint64_t kmax = 1, seen_bits = 64;
    for (size_t pj = 0; pj < m->n_projs; pj++) {
        const n4d__projection *pr = &m->projs[pj];
        if (pr->d.rule != N4D_RULE_FIXED_INDEGREE)
            continue;
        if (pr->d.n > kmax)
            kmax = pr->d.n;
        if (!pr->d.allow_multapses && m->pops[pr->source].n > seen_bits)
            seen_bits = m->pops[pr->source].n;
    }
    b.maps = n4d__calloc(ctx, N4D_MEM_BUILD, m->n_pops ? m->n_pops : 1, sizeof *b.maps);
    b.sp = n4d__calloc(ctx, N4D_MEM_BUILD, m->n_projs ? m->n_projs : 1, sizeof *b.sp);
    b.pair_delay = n4d__calloc(ctx, N4D_MEM_BUILD, m->n_pops * m->n_pops + 1, sizeof *b.pair_delay);
    b.pair_class = n4d__calloc(ctx, N4D_MEM_BUILD, m->n_pops * m->n_pops + 1, sizeof *b.pair_class);
    b.item_start = n4d__calloc(ctx, N4D_MEM_BUILD, m->n_projs + 1, sizeof *b.item_start);
    b.pop_of = n4d__alloc(ctx, N4D_MEM_BUILD, (N ? N : 1) * sizeof *b.pop_of);
    b.rw_ptr = n4d__calloc(ctx, N4D_MEM_BUILD, m->n_pops + 1, sizeof *b.rw_ptr);
    b.rw_proj = n4d__alloc(ctx, N4D_MEM_BUILD, (m->n_projs ? m->n_projs : 1) * sizeof *b.rw_proj);
    b.row_seg = n4d__calloc(ctx, N4D_MEM_BUILD, N ? N : 1, sizeof *b.row_seg);
    lists = n4d__calloc(ctx, N4D_MEM_BUILD, T, sizeof *lists);
    b.count = n4d__calloc(ctx, N4D_MEM_BUILD, N + 1, sizeof(uint64_t));
    b.cursor = n4d__calloc(ctx, N4D_MEM_BUILD, N + 1, sizeof(uint64_t));
    syn->seg_ptr = n4d__calloc(ctx, N4D_MEM_SYNAPSES, N + 1, sizeof(uint64_t));
    scratch = n4d__calloc(ctx, N4D_MEM_BUILD, T, sizeof *scratch);
    seen = n4d__calloc(ctx, N4D_MEM_BUILD, T, sizeof *seen);
    seen_bytes = (seen_bits + 63) / 64 * sizeof(uint64_t);
    scratch_bytes = kmax * sizeof(uint64_t);
    if (!b.maps || !b.sp || !b.pair_delay || !b.pair_class || !b.item_start || !b.pop_of || !b.rw_ptr || !b.rw_proj ||
        !b.row_seg || !lists || !b.count || !b.cursor || !syn->seg_ptr || !scratch || !seen ||
        !alloc_scratch(ctx, (void **)seen, T, seen_bytes) ||
        !alloc_scratch(ctx, (void **)scratch, T, scratch_bytes)) {
        st = n4d__error(&m->hdr, N4D_E_NOMEM, "out of memory for build bookkeeping (%llu neurons)",
                        (unsigned long long)N);
        goto done;
    }
    for (size_t i = 0; i < T; i++)
        memset(seen[i], 0, seen_bytes);
    if ((st = build_site_maps(&b)))
        goto done;
    for (size_t a = 0; a < m->n_pops; a++)
        for (size_t c = 0; c < m->n_pops; c++)
            b.pair_class[a * m->n_pops + c] = n4d__model_pair_class(m, (int32_t)a, (int32_t)c);
    bool need_delay_tmp = false;
    if ((st = prepare_projections(&b, &need_delay_tmp)))
        goto done;
    bool has_columnwise = false;
    for (size_t pj = 0; pj < m->n_projs; pj++) { /* rw_ptr, rw_proj: a counting sort */
        has_columnwise |= n4d__sg_columnwise(&b.sp[pj]) != 0;
        if (!n4d__sg_columnwise(&b.sp[pj]))
            b.rw_ptr[m->projs[pj].source + 1]++;
    }
    for (size_t p = 0; p < m->n_pops; p++)
        b.rw_ptr[p + 1] += b.rw_ptr[p];
    for (size_t pj = 0; pj < m->n_projs; pj++) /* rw_ptr[p] runs to the end of p's list ... */
        if (!n4d__sg_columnwise(&b.sp[pj]))
            b.rw_proj[b.rw_ptr[m->projs[pj].source]++] = (uint32_t)pj;
    for (size_t p = m->n_pops; p > 0; p--) /* ... and is shifted back */
        b.rw_ptr[p] = b.rw_ptr[p - 1];
    b.rw_ptr[0] = 0;

    /* pass 1: count per source (user ids), then the layout (which may use
     * the counts as weights), then row offsets in internal order */
    /* (a distributed build draws on the CPU: the device library builds whole models) */
    if (!n4d__distributed(m) && (st = n4d__device_build_count(m, b.sp, b.count, &dev)))
        goto done;
    if (!dev.h)
        count_all(&b, threads, scratch, seen);
    for (uint64_t s = 0; s < N; s++)
        b.cursor[s] = b.count[s] + 1;
    if ((st = n4d__layout_compute(m, b.cursor)))
        goto done;
    uint64_t maxrow_drawn = 0; /* distributed: rows are drawn whole, then filtered */
    if (m->has_comm) {
        const uint32_t R = (uint32_t)m->comm.size, r = (uint32_t)m->comm.rank;
        m->own_part_lo = (uint32_t)((uint64_t)m->n_parts * r / R);
        m->own_part_hi = (uint32_t)((uint64_t)m->n_parts * (r + 1) / R);
        m->own_lo = m->part_bounds[m->own_part_lo];
        m->own_hi = m->part_bounds[m->own_part_hi];
    }
    if (n4d__distributed(m)) {
        /* pass 1b: count the owned targets of every row (the first pass
         * counted whole rows: the layout's weights, the scratch size) */
        for (uint64_t s = 0; s < N; s++)
            maxrow_drawn = b.count[s] > maxrow_drawn ? b.count[s] : maxrow_drawn;
        free_scratch(ctx, (void **)scratch, T, scratch_bytes);
        memset(scratch, 0, T * sizeof *scratch);
        const size_t drawn = 2 * (maxrow_drawn + 1) * sizeof(gen_syn);
        scratch_bytes = drawn > kmax * sizeof(uint64_t) ? drawn : kmax * sizeof(uint64_t);
        if (!alloc_scratch(ctx, (void **)scratch, T, scratch_bytes)) {
            st = n4d__error(&m->hdr, N4D_E_NOMEM, "out of memory for rows of %llu synapses",
                            (unsigned long long)maxrow_drawn);
            goto done;
        }
        b.filter = true;
        b.own_lo = m->own_lo;
        b.own_hi = m->own_hi;
        memset(b.count, 0, N * sizeof *b.count);
        count_all(&b, threads, scratch, seen);
    }
    for (size_t r = 0; r < m->n_runs; r++)
        for (uint64_t i = m->runs[r].first; i < m->runs[r].first + m->runs[r].n; i++)
            b.pop_of[i] = m->runs[r].pop;
    if (m->perm)
        for (uint64_t r = 0; r < N; r++)
            b.cursor[r] = b.count[m->perm[r]];
    else
        memcpy(b.cursor, b.count, N * sizeof *b.count);
    memcpy(b.count, b.cursor, N * sizeof *b.count);
    uint64_t maxrow = 0;
    for (uint64_t s = 0; s < N; s++) {
        uint64_t c = b.count[s];
        b.count[s] = S;
        b.cursor[s] = S;
        S += c;
        if (c > maxrow)
            maxrow = c;
    }
    b.count[N] = S;
    if (maxrow > UINT32_MAX) {
        st = n4d__error(&m->hdr, N4D_E_LIMIT, "a neuron has %llu outgoing synapses (limit 2^32 - 1)",
                        (unsigned long long)maxrow);
        goto done;
    }
    if (S > N4D__MAX_SYNAPSES) {
        st = n4d__error(&m->hdr, N4D_E_LIMIT, "the model has %llu synapses (limit 2^40)",
                        (unsigned long long)S);
        goto done;
    }

    syn->n_syn = S;
    m->syn_total = S;
    if (n4d__distributed(m)) { /* the model's size over all ranks */
        uint64_t *all = n4d__alloc(ctx, N4D_MEM_BUILD, (size_t)m->comm.size * sizeof(uint64_t));
        if (!all) {
            st = n4d__error(&m->hdr, N4D_E_NOMEM, "out of memory for the ranks' synapse counts");
            goto done;
        }
        if (!(st = n4d__dist_allgather(m, &S, sizeof S, all))) {
            m->syn_total = 0;
            for (int32_t k = 0; k < m->comm.size; k++)
                m->syn_total += all[k];
        }
        n4d__free(ctx, N4D_MEM_BUILD, all, (size_t)m->comm.size * sizeof(uint64_t));
        if (st)
            goto done;
    }
    syn->target = n4d__alloc(ctx, N4D_MEM_SYNAPSES, (S ? S : 1) * sizeof(uint32_t));
    syn->weight_q = n4d__alloc(ctx, N4D_MEM_SYNAPSES, (S ? S : 1) * sizeof(int32_t));
    if (!syn->target || !syn->weight_q) {
        st = n4d__error(&m->hdr, N4D_E_NOMEM, "out of memory for %llu synapses",
                        (unsigned long long)S);
        goto done;
    }
    if (dev.h && ((st = n4d__device_build_fill(m, b.count, &dev)) || m->built))
        goto done;
    /* the device counted and the CPU fills: the rows' buffers are sized
     * from those counts, so the CPU counts again first */
    if (dev.api && (st = check_device_counts(&b, threads, scratch, seen)))
        goto done;

    /* the CPU fills: scratch for a whole row and its sort buffer */
    free_scratch(ctx, (void **)scratch, T, scratch_bytes);
    memset(scratch, 0, T * sizeof *scratch);
    if (maxrow_drawn > maxrow)
        maxrow = maxrow_drawn;
    size_t need = 2 * (maxrow + 1) * sizeof(gen_syn);
    scratch_bytes = need > kmax * sizeof(uint64_t) ? need : kmax * sizeof(uint64_t);
    /* the keys of the rows ordered after the fill need each synapse's
     * delay where the populations do not tell it */
    need_delay_tmp = need_delay_tmp && has_columnwise;
    if (need_delay_tmp)
        b.delay_tmp = n4d__alloc(ctx, N4D_MEM_BUILD, (S ? S : 1) * sizeof(uint16_t));
    if ((need_delay_tmp && !b.delay_tmp) || !alloc_scratch(ctx, (void **)scratch, T, scratch_bytes)) {
        st = n4d__error(&m->hdr, N4D_E_NOMEM, "out of memory for %llu synapses",
                        (unsigned long long)S);
        goto done;
    }

    /* pass 2: fill (weights as float bits for now) */
    float maxw = 0.0f;
    fill_rowwise(&b, threads, scratch, lists, &maxw);
    columnwise(&b, true, threads, scratch, seen, &maxw);
    if (b.nomem) { /* (the rows after the failure were left unfilled) */
        st = n4d__error(&m->hdr, N4D_E_NOMEM, "out of memory for the synapse segments");
        goto done;
    }
    for (uint64_t r = 0; r < N && !b.overflow; r++)
        b.overflow = b.cursor[r] != b.count[r + 1]; /* a row got fewer synapses */
    if (b.overflow) {
        st = n4d__error(&m->hdr, N4D_E_INTERNAL,
                        "the synapse counts of the two build passes differ (%s)",
                        dev.api ? "the counts came from the GPU" : "CPU");
        goto done;
    }

    /* the rows the column-wise projections appended to: ordered again
     * from their synapses' keys, rewritten, their segments listed */
    if (has_columnwise) {
#pragma omp parallel for schedule(static, 64) num_threads(threads)
        for (uint64_t s = 0; s < N; s++) {
            if (b.row_seg[s] != ROW_MIXED || __atomic_load_n(&b.nomem, __ATOMIC_RELAXED))
                continue;
            const int tid = thread_num();
            const uint64_t lo = b.count[s], n = b.count[s + 1] - lo;
            const int32_t sp = b.pop_of[s];
            gen_syn *row = scratch[tid];
            for (uint64_t i = 0; i < n; i++) {
                row[i].target = syn->target[lo + i];
                memcpy(&row[i].weight, &syn->weight_q[lo + i], sizeof(float));
                row[i].key = synapse_key(&b, sp, lo + i);
            }
            order_row(row, row + n, n);
            write_row(&b, lists, tid, s, row, n);
        }
        if (b.nomem) {
            st = n4d__error(&m->hdr, N4D_E_NOMEM, "out of memory for the synapse segments");
            goto done;
        }
    }
    uint64_t nseg = 0;
    for (uint64_t s = 0; s < N; s++) {
        uint64_t c = syn->seg_ptr[s + 1];
        syn->seg_ptr[s] = nseg;
        nseg += c;
    }
    syn->seg_ptr[N] = nseg;
    syn->n_seg = nseg;
    syn->seg_off = n4d__alloc(ctx, N4D_MEM_SYNAPSES, (nseg + 1) * sizeof(uint64_t));
    syn->seg_key = n4d__alloc(ctx, N4D_MEM_SYNAPSES, (nseg ? nseg : 1) * sizeof(uint32_t));
    if (!syn->seg_off || !syn->seg_key) {
        st = n4d__error(&m->hdr, N4D_E_NOMEM, "out of memory for %llu synapse segments",
                        (unsigned long long)nseg);
        goto done;
    }
    if (n4d__distributed(m)) {
        /* one fixed-point scale for all ranks: the one-process model's */
        float *all = n4d__alloc(ctx, N4D_MEM_BUILD, (size_t)m->comm.size * sizeof(float));
        if (!all) {
            st = n4d__error(&m->hdr, N4D_E_NOMEM, "out of memory for the ranks' weights");
            goto done;
        }
        if (!(st = n4d__dist_allgather(m, &maxw, sizeof maxw, all)))
            for (int32_t k = 0; k < m->comm.size; k++)
                maxw = all[k] > maxw ? all[k] : maxw;
        n4d__free(ctx, N4D_MEM_BUILD, all, (size_t)m->comm.size * sizeof(float));
        if (st)
            goto done;
    }
    syn->scale = n4d__fixed_point_scale(m, maxw);
    syn->inv_scale = 1.0 / syn->scale;
    const double scale = syn->scale;
    uint32_t dmin = UINT32_MAX, dmax = 0;
    /* the segments (from the lists) and the weights in fixed point */
#pragma omp parallel for schedule(dynamic, 256) num_threads(threads) reduction(min : dmin) reduction(max : dmax)
    for (uint64_t s = 0; s < N; s++) {
        const uint64_t lo = b.count[s], hi = b.count[s + 1];
        const uint64_t g0 = syn->seg_ptr[s], g1 = syn->seg_ptr[s + 1];
        const seg_list *l = &lists[b.row_seg[s] >> 48];
        const uint64_t first = b.row_seg[s] & 0xffffffffffffull;
        for (uint64_t g = g0; g < g1; g++) {
            const seg_rec *rec = seg_at(l, first + (g - g0));
            syn->seg_off[g] = lo + rec->rel;
            syn->seg_key[g] = rec->key;
            const uint32_t d = N4D__SEG_DELAY(rec->key);
            dmin = d < dmin ? d : dmin;
            dmax = d > dmax ? d : dmax;
        }
        n4d__build_to_fixed(syn->weight_q + lo, hi - lo, scale);
    }
    syn->seg_off[nseg] = S;
    if (n4d__distributed(m)) {
        /* the delays of every rank: one batch length and ring size for all */
        uint32_t mine[2] = {dmin, dmax};
        uint32_t *all = n4d__alloc(ctx, N4D_MEM_BUILD, (size_t)m->comm.size * sizeof mine);
        if (!all) {
            st = n4d__error(&m->hdr, N4D_E_NOMEM, "out of memory for the ranks' delays");
            goto done;
        }
        if (!(st = n4d__dist_allgather(m, mine, sizeof mine, all)))
            for (int32_t k = 0; k < m->comm.size; k++)
                if (all[2 * k + 1]) {
                    dmin = all[2 * k] < dmin ? all[2 * k] : dmin;
                    dmax = all[2 * k + 1] > dmax ? all[2 * k + 1] : dmax;
                }
        n4d__free(ctx, N4D_MEM_BUILD, all, (size_t)m->comm.size * sizeof mine);
        if (st)
            goto done;
    }
    syn->min_delay = dmax ? dmin : 1;
    syn->max_delay = dmax ? dmax : 1;
    snprintf(m->built_on, sizeof m->built_on, "cpu");
    m->built = true;

done:
    n4d__device_build_release(&dev);
    if (b.maps) {
        for (size_t i = 0; i < m->n_pops; i++)
            n4d__free(ctx, N4D_MEM_BUILD, b.maps[i].slot, b.maps[i].sites * sizeof(uint32_t));
        n4d__free(ctx, N4D_MEM_BUILD, b.maps, (m->n_pops ? m->n_pops : 1) * sizeof *b.maps);
    }
    free_projections(&b);
    n4d__free(ctx, N4D_MEM_BUILD, b.item_start, (m->n_projs + 1) * sizeof *b.item_start);
    n4d__free(ctx, N4D_MEM_BUILD, b.count, (N + 1) * sizeof(uint64_t));
    n4d__free(ctx, N4D_MEM_BUILD, b.cursor, (N + 1) * sizeof(uint64_t));
    n4d__free(ctx, N4D_MEM_BUILD, b.delay_tmp, (S ? S : 1) * sizeof(uint16_t));
    n4d__free(ctx, N4D_MEM_BUILD, b.pair_delay, (m->n_pops * m->n_pops + 1) * sizeof *b.pair_delay);
    n4d__free(ctx, N4D_MEM_BUILD, b.pair_class, (m->n_pops * m->n_pops + 1) * sizeof *b.pair_class);
    n4d__free(ctx, N4D_MEM_BUILD, b.pop_of, (N ? N : 1) * sizeof *b.pop_of);
    n4d__free(ctx, N4D_MEM_BUILD, b.rw_ptr, (m->n_pops + 1) * sizeof *b.rw_ptr);
    n4d__free(ctx, N4D_MEM_BUILD, b.rw_proj, (m->n_projs ? m->n_projs : 1) * sizeof *b.rw_proj);
    n4d__free(ctx, N4D_MEM_BUILD, b.row_seg, (N ? N : 1) * sizeof *b.row_seg);
    seg_lists_free(ctx, lists, T);
    if (scratch)
        free_scratch(ctx, (void **)scratch, T, scratch_bytes);
    if (seen)
        free_scratch(ctx, (void **)seen, T, seen_bytes);
    n4d__free(ctx, N4D_MEM_BUILD, scratch, T * sizeof *scratch);
    n4d__free(ctx, N4D_MEM_BUILD, seen, T * sizeof *seen);
    return st;
}
