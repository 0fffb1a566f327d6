/* Model build: neuron placement on the lattice and synapse generation into
 * CSR by source, grouped by (delay, sign). Every random draw comes from the
 * counter RNG keyed by entity, so the result is the same for any number of
 * build threads. Construction is two passes over each rule (count, then
 * fill) with no O(N^2) pair loop; rows are then put in canonical order
 * (delay, sign, target, weight) so atomically filled rows are deterministic. */
#include "internal.h"
#include "philox.h"

#include <math.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* ---- random draws ------------------------------------------------------- */

static double draw_dist(const n4d_dist *d, uint64_t seed, uint32_t purpose, uint32_t entity,
                        uint64_t index)
{
    if (d->kind == N4D_DIST_CONSTANT)
        return d->value;
    n4d__r4 r = n4d__philox(seed, purpose, entity, index);
    if (d->kind == N4D_DIST_UNIFORM)
        return d->lo + (d->hi - d->lo) * n4d__u01(r.v[0], r.v[1]);
    /* normal, Box-Muller, clipped */
    double u1 = n4d__u01_open0(r.v[0], r.v[1]);
    double u2 = n4d__u01(r.v[2], r.v[3]);
    double z = sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
    double x = d->value + d->std * z;
    if (x < d->lo)
        x = d->lo;
    if (x > d->hi)
        x = d->hi;
    return x;
}

static inline uint32_t purpose_of(uint32_t base, size_t index)
{
    return base | ((uint32_t)index << 8);
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

/* fixed_probability rows are drawn chunk by chunk: the candidate targets are
 * split in chunks of about FP_CHUNK_MEAN / p; the number of synapses of a
 * chunk is Binomial(len, p), drawn by inversion, and their targets a uniform
 * subset of that size. That is exactly the distribution of one Bernoulli(p)
 * draw per pair, but counting a row costs one draw per chunk instead of one
 * per synapse. Dense rows (p >= FP_DENSE_P) draw one Bernoulli per pair. */
#define FP_CHUNK_MEAN 32.0
#define FP_DENSE_P 0.1
#define FP_MAX_K 1024

typedef struct fp_plan {
    /* constant weight and delay of the projection (no draws per synapse) */
    bool const_weight, const_delay;
    float weight;
    uint32_t delay;
    /* fixed_probability */
    bool none, dense, all;
    uint32_t threshold;     /* dense: connect when a 32-bit draw < threshold */
    uint64_t len, nchunks;  /* sparse: chunk length and count */
    double p0_full, p0_last; /* (1 - p)^len of a full and of the last chunk */
    double ratio;           /* p / (1 - p) */
    /* the CDF of the chunk counts, tabulated (full and last chunk) */
    double *cdf[2];
    uint32_t cdf_n[2];
} fp_plan;

static void fp_make_plan(double p, uint64_t npost, fp_plan *f)
{
    if (p <= 0.0 || npost == 0) {
        f->none = true;
    } else if (p >= FP_DENSE_P) {
        f->dense = true;
        f->all = p >= 1.0;
        f->threshold = f->all ? UINT32_MAX : (uint32_t)(p * 4294967296.0);
    } else {
        double len = floor(FP_CHUNK_MEAN / p);
        f->len = len >= (double)npost ? npost : (uint64_t)len;
        f->nchunks = (npost + f->len - 1) / f->len;
        uint64_t last = npost - (f->nchunks - 1) * f->len;
        f->p0_full = exp((double)f->len * log1p(-p));
        f->p0_last = exp((double)last * log1p(-p));
        f->ratio = p / (1.0 - p);
    }
}

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

/* The first k with u <= cdf[k], else the last entry (binary search). */
static uint64_t binomial_lookup(double u, const double *cdf, uint32_t n)
{
    uint32_t lo = 0, hi = n - 1;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (u <= cdf[mid])
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* Sorts K values uniform in [0, len) in O(K): a bucket pass (K buckets,
 * about one value each), then insertion sort of the nearly sorted result. */
static void sort_uniform(uint32_t *v, uint64_t K, uint64_t len)
{
    uint32_t tmp[FP_MAX_K];
    if (K < 16) {
        memcpy(tmp, v, K * sizeof *v);
    } else {
        uint32_t start[FP_MAX_K + 1], bucket[FP_MAX_K];
        memset(start, 0, (K + 1) * sizeof start[0]);
        /* bucket = v * K / len by a multiply-shift (monotone in v, below K) */
        const uint64_t mult = (K << 32) / len;
        for (uint64_t i = 0; i < K; i++) {
            bucket[i] = (uint32_t)(((uint64_t)v[i] * mult) >> 32);
            start[bucket[i] + 1]++;
        }
        for (uint64_t b = 0; b < K; b++)
            start[b + 1] += start[b];
        for (uint64_t i = 0; i < K; i++)
            tmp[start[bucket[i]]++] = v[i];
    }
    for (uint64_t i = 0; i < K; i++) { /* insertion: short, or buckets already ordered */
        uint32_t x = tmp[i];
        uint64_t j = i;
        while (j > 0 && v[j - 1] > x) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
}

/* K distinct uniform values in [0, len), sorted, into out. Duplicates are
 * replaced by further draws of the same stream until all are distinct. */
static void fp_chunk_targets(uint64_t seed, uint32_t purpose, uint32_t source, uint64_t chunk,
                             uint64_t len, uint64_t K, uint32_t *out)
{
    uint64_t have = 0, draw = 0;
    while (have < K) {
        for (uint64_t j = have; j < K; j += 2, draw++) {
            n4d__r4 r = n4d__philox(seed, purpose, source, (chunk << 20) + draw);
            out[j] = n4d__uint_below(r.v[0], r.v[1], len);
            if (j + 1 < K)
                out[j + 1] = n4d__uint_below(r.v[2], r.v[3], len);
        }
        sort_uniform(out, K, len);
        have = K ? 1 : 0;
        for (uint64_t i = 1; i < K; i++)
            if (out[i] != out[have - 1])
                out[have++] = out[i];
    }
}

/* One generated synapse before canonical ordering. */
typedef struct gen_syn {
    uint32_t target;
    float weight;
    uint32_t key; /* N4D__SEG_KEY(delay, sign) */
} gen_syn;

typedef struct build_ctx {
    n4d_model *m;
    fp_plan *fp;             /* per projection */
    site_map *maps;          /* per population, for distance rules (or NULL) */
    uint64_t *count;         /* per source: synapses */
    uint64_t *cursor;        /* per source: fill cursor (absolute index) */
    /* The delay of a synapse during the build: from the (source population,
     * target population) pair when every projection between two
     * populations has one constant delay (no per-synapse memory), else from
     * delay_tmp. The sign comes from the weight. */
    uint16_t *delay_tmp;     /* per synapse, or NULL */
    uint32_t *pair_delay;    /* n_pops * n_pops */
    uint64_t **pairs;        /* per projection: distinct fixed_total_number pairs, or NULL */
    uint64_t **ftn_count;    /* per projection: fixed_total_number synapses per source, or NULL */
    uint64_t *item_start;    /* n_projs + 1: first (projection, source) item of each projection */
    double inv_k1[FP_MAX_K]; /* 1 / (k + 1) */
    int32_t *pop_of;         /* internal index -> population */
} build_ctx;

static inline uint32_t synapse_key(const build_ctx *b, int32_t src_pop, uint64_t j)
{
    const n4d__synapses *syn = &b->m->syn;
    float w;
    memcpy(&w, &syn->weight_q[j], sizeof w);
    uint32_t d = b->delay_tmp ? b->delay_tmp[j]
                              : b->pair_delay[(size_t)src_pop * b->m->n_pops +
                                              (size_t)b->pop_of[syn->target[j]]];
    return N4D__SEG_KEY(d, w < 0.0f);
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

static inline void make_syn(const build_ctx *b, size_t pj, uint32_t entity, uint64_t j,
                            uint32_t target, gen_syn *out)
{
    const n4d_model *m = b->m;
    const n4d__projection *pr = &m->projs[pj];
    const fp_plan *plan = &b->fp[pj];
    if (plan->const_weight && plan->const_delay) {
        out->target = target;
        out->weight = plan->weight;
        out->key = N4D__SEG_KEY(plan->delay, plan->weight < 0.0f);
        return;
    }
    double w = draw_dist(&pr->d.weight, m->seed, purpose_of(N4D_RNG_WEIGHT, pj), entity, j);
    if (pr->d.syn_type == N4D_SYN_EXCITATORY)
        w = fabs(w);
    else if (pr->d.syn_type == N4D_SYN_INHIBITORY)
        w = -fabs(w);
    double dms = pr->d.delay.kind == N4D_DIST_CONSTANT && pr->d.delay.value == 0.0
                     ? m->dt
                     : draw_dist(&pr->d.delay, m->seed, purpose_of(N4D_RNG_DELAY, pj), entity, j);
    out->target = target;
    out->weight = (float)w;
    out->key = N4D__SEG_KEY(n4d__delay_steps(dms, m->dt), out->weight < 0.0f);
}

/* Generates the row of local source `s` of row-wise projection pj. With
 * out == NULL only counts. Returns the number of synapses. */
static uint64_t gen_row(const build_ctx *b, size_t pj, uint64_t s, gen_syn *out)
{
    const n4d_model *m = b->m;
    const n4d__projection *pr = &m->projs[pj];
    const n4d__population *pre = &m->pops[pr->source], *post = &m->pops[pr->target];
    const bool same = pr->source == pr->target, no_self = same && !pr->d.allow_autapses;
    uint32_t purpose = purpose_of(N4D_RNG_CONNECT, pj);
    uint64_t n = 0, npost = post->n;
    switch (pr->d.rule) {
    case N4D_RULE_ONE_TO_ONE:
        if (s < npost && !no_self) {
            if (out)
                make_syn(b, pj, (uint32_t)s, 0, (uint32_t)(post->first + s), out);
            n = 1;
        }
        break;
    case N4D_RULE_FIXED_TOTAL_NUMBER: { /* with multapses: counts from split_counts */
        const uint64_t K = b->ftn_count[pj][s];
        n = K;
        if (!out || K == 0)
            break;
        /* targets uniform over the candidates (the source itself excluded by
         * a shift), sorted; the row's scratch beyond the K entries holds them */
        const uint64_t cand = no_self ? npost - 1 : npost;
        uint32_t *t = (uint32_t *)(out + K), *tmp = t + K;
        const uint32_t tpurpose = purpose_of(N4D_RNG_TARGETS, pj);
        for (uint64_t j = 0; j < K; j += 2) {
            n4d__r4 r = n4d__philox(m->seed, tpurpose, (uint32_t)s, j / 2);
            t[j] = n4d__uint_below(r.v[0], r.v[1], cand);
            if (j + 1 < K)
                t[j + 1] = n4d__uint_below(r.v[2], r.v[3], cand);
        }
        n4d__radix_sort_u32(t, tmp, K);
        for (uint64_t j = 0; j < K; j++) {
            const uint64_t tt = t[j] + (no_self && t[j] >= s);
            make_syn(b, pj, (uint32_t)s, j, (uint32_t)(post->first + tt), out + j);
        }
        break;
    }
    case N4D_RULE_ALL_TO_ALL:
        for (uint64_t t = 0; t < npost; t++) {
            if (no_self && t == s)
                continue;
            if (out)
                make_syn(b, pj, (uint32_t)s, n, (uint32_t)(post->first + t), out + n);
            n++;
        }
        break;
    case N4D_RULE_FIXED_PROBABILITY: {
        const fp_plan *fp = &b->fp[pj];
        const uint32_t tpurpose = purpose_of(N4D_RNG_TARGETS, pj);
        if (fp->none)
            break;
        if (fp->dense) {
            for (uint64_t t = 0; t < npost; t += 4) {
                n4d__r4 r = n4d__philox(m->seed, tpurpose, (uint32_t)s, t / 4);
                for (uint64_t k = t; k < t + 4 && k < npost; k++) {
                    if (!(fp->all || r.v[k - t] < fp->threshold) || (no_self && k == s))
                        continue;
                    if (out)
                        make_syn(b, pj, (uint32_t)s, n, (uint32_t)(post->first + k), out + n);
                    n++;
                }
            }
            break;
        }
        uint32_t chunk_targets[FP_MAX_K];
        for (uint64_t c = 0; c < fp->nchunks; c++) {
            const uint64_t c0 = c * fp->len;
            const uint64_t len = c + 1 < fp->nchunks ? fp->len : npost - c0;
            n4d__r4 r = n4d__philox(m->seed, purpose, (uint32_t)s, c);
            const int last = c + 1 == fp->nchunks;
            uint64_t K = binomial_lookup(n4d__u01(r.v[0], r.v[1]), fp->cdf[last], fp->cdf_n[last]);
            const bool self_here = no_self && s >= c0 && s < c0 + len;
            if (K == 0)
                continue;
            if (!out && !self_here) {
                n += K;
                continue;
            }
            fp_chunk_targets(m->seed, tpurpose, (uint32_t)s, c, len, K, chunk_targets);
            for (uint64_t j = 0; j < K; j++) {
                uint64_t t = c0 + chunk_targets[j];
                if (self_here && t == s)
                    continue;
                if (out)
                    make_syn(b, pj, (uint32_t)s, n, (uint32_t)(post->first + t), out + n);
                n++;
            }
        }
        break;
    }
    case N4D_RULE_DISTANCE: {
        const n4d__area *a = &m->areas[post->area];
        const site_map *map = &b->maps[pr->target];
        const int32_t *ps = m->pos + 4 * (pre->first + s);
        double rc = kernel_cutoff(&pr->d);
        int32_t lo[4], hi[4];
        for (int i = 0; i < 4; i++) {
            double l = ceil(ps[i] - rc), h = floor(ps[i] + rc);
            lo[i] = l < a->lo[i] ? a->lo[i] : (int32_t)l;
            hi[i] = h > a->hi[i] ? a->hi[i] : (int32_t)h;
            if (lo[i] > hi[i])
                return 0;
        }
        uint64_t draw = 0;
        int32_t c[4];
        for (c[3] = lo[3]; c[3] <= hi[3]; c[3]++)
            for (c[2] = lo[2]; c[2] <= hi[2]; c[2]++)
                for (c[1] = lo[1]; c[1] <= hi[1]; c[1]++)
                    for (c[0] = lo[0]; c[0] <= hi[0]; c[0]++) {
                        uint32_t slot = map->slot[site_index(a, c)];
                        if (!slot)
                            continue;
                        uint64_t t = slot - 1;
                        if (no_self && t == pre->first + s)
                            continue;
                        double d2 = 0;
                        for (int i = 0; i < 4; i++)
                            d2 += (double)(c[i] - ps[i]) * (double)(c[i] - ps[i]);
                        double d = sqrt(d2);
                        if (d > rc)
                            continue;
                        double k = pr->d.kernel == N4D_KERNEL_GAUSSIAN
                                       ? exp(-d2 / (2.0 * pr->d.sigma * pr->d.sigma))
                                       : exp(-d / pr->d.sigma);
                        n4d__r4 r = n4d__philox(m->seed, purpose, (uint32_t)s, draw++);
                        if (n4d__u01(r.v[0], r.v[1]) < pr->d.p * k) {
                            if (out)
                                make_syn(b, pj, (uint32_t)s, n, (uint32_t)t, out + n);
                            n++;
                        }
                    }
        break;
    }
    default:
        break;
    }
    return n;
}

/* Column-wise projections are generated per target or per pair and
 * scattered into rows; every other one row by row. fixed_total_number is
 * row-wise (per-source counts from a multinomial split) unless its pairs
 * must be distinct. */
static bool proj_is_columnwise(const n4d__projection *pr)
{
    return pr->d.rule == N4D_RULE_FIXED_INDEGREE ||
           (pr->d.rule == N4D_RULE_FIXED_TOTAL_NUMBER && !pr->d.allow_multapses);
}

/* fixed_indegree: source k of local target t. `seen` is a per-thread bitmap
 * of the source population (only without multapses). */
static uint64_t indegree_source(const n4d_model *m, size_t pj, uint64_t t, uint64_t k,
                                uint64_t *attempt)
{
    const n4d__projection *pr = &m->projs[pj];
    uint64_t npre = m->pops[pr->source].n;
    n4d__r4 r = n4d__philox(m->seed, purpose_of(N4D_RNG_CONNECT, pj), (uint32_t)t,
                            (k << 20) + (*attempt)++);
    return n4d__uint_below(r.v[0], r.v[1], npre);
}

/* Draws the sources of local target t of a fixed_indegree projection into
 * src[0..K). Returns false if the constraints cannot be met. */
static void indegree_row(const n4d_model *m, size_t pj, uint64_t t, uint64_t *src, uint64_t *seen)
{
    const n4d__projection *pr = &m->projs[pj];
    const bool same = pr->source == pr->target;
    for (uint64_t k = 0; k < pr->d.n; k++) {
        uint64_t attempt = 0, s;
        for (;;) {
            s = indegree_source(m, pj, t, k, &attempt);
            if (same && !pr->d.allow_autapses && s == t)
                continue;
            if (!pr->d.allow_multapses && (seen[s >> 6] >> (s & 63) & 1))
                continue;
            break;
        }
        if (!pr->d.allow_multapses)
            seen[s >> 6] |= 1ull << (s & 63);
        src[k] = s;
    }
    if (!pr->d.allow_multapses)
        for (uint64_t k = 0; k < pr->d.n; k++)
            seen[src[k] >> 6] = 0;
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

/* Stable merge sort of n entries using tmp (n entries). */
static void sort_row(gen_syn *a, gen_syn *tmp, uint64_t n)
{
    bool sorted = true;
    for (uint64_t i = 1; i < n && sorted; i++)
        sorted = !syn_less(&a[i], &a[i - 1]);
    if (sorted)
        return;
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

/* ---- the build ------------------------------------------------------------------ */

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
    for (size_t i = 0; i < m->n_pops; i++)
        m->pops[i].first = m->pops[i].n = 0;
    m->built = false;
}

static n4d_status validate(n4d_model *m)
{
    for (size_t pj = 0; pj < m->n_projs; pj++) {
        const n4d__projection *pr = &m->projs[pj];
        const n4d__population *pre = &m->pops[pr->source], *post = &m->pops[pr->target];
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
            if (pre->n == 0 || (!pr->d.allow_multapses && pr->d.n > avail))
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

/* Pass over every rule: with fill == false counts synapses per source
 * (atomically), with fill == true writes them at the sources' cursors. */
static void generate(build_ctx *b, bool fill, int threads, gen_syn *const *scratch,
                     uint64_t *const *seen, float *maxw)
{
    n4d_model *m = b->m;
    float thread_max[256] = {0};
    /* Every row-wise projection in one parallel loop over (projection,
     * source) items: one synchronisation per pass, not one per projection. */
    uint64_t items = 0;
    for (size_t pj = 0; pj < m->n_projs; pj++) {
        b->item_start[pj] = items;
        if (!proj_is_columnwise(&m->projs[pj]))
            items += m->pops[m->projs[pj].source].n;
    }
    b->item_start[m->n_projs] = items;
#pragma omp parallel for schedule(dynamic, 64) num_threads(threads)
    for (uint64_t it = 0; it < items; it++) {
        int tid = 0;
#ifdef _OPENMP
        tid = omp_get_thread_num();
#endif
        size_t lo = 0, hi = m->n_projs; /* the projection holding item it */
        while (hi - lo > 1) {
            size_t mid = (lo + hi) / 2;
            if (b->item_start[mid] <= it)
                lo = mid;
            else
                hi = mid;
        }
        while (proj_is_columnwise(&m->projs[lo]) || b->item_start[lo + 1] <= it)
            lo++; /* skip projections with no items */
        const size_t pj = lo;
        const uint64_t s = it - b->item_start[pj];
        const uint64_t src = m->pops[m->projs[pj].source].first + s;
        if (!fill) {
            uint64_t n = gen_row(b, pj, s, NULL);
            __atomic_fetch_add(&b->count[src], n, __ATOMIC_RELAXED);
            continue;
        }
        gen_syn *row = scratch[tid];
        uint64_t n = gen_row(b, pj, s, row);
        uint64_t at = __atomic_fetch_add(&b->cursor[n4d__to_internal(m, src)], n, __ATOMIC_RELAXED);
        for (uint64_t i = 0; i < n; i++) {
            m->syn.target[at + i] = (uint32_t)n4d__to_internal(m, row[i].target);
            memcpy(&m->syn.weight_q[at + i], &row[i].weight, sizeof(float));
            if (b->delay_tmp)
                b->delay_tmp[at + i] = (uint16_t)N4D__SEG_DELAY(row[i].key);
            float aw = fabsf(row[i].weight);
            if (aw > thread_max[tid & 255])
                thread_max[tid & 255] = aw;
        }
    }
    for (size_t pj = 0; pj < m->n_projs; pj++) {
        const n4d__projection *pr = &m->projs[pj];
        const n4d__population *pre = &m->pops[pr->source], *post = &m->pops[pr->target];
        if (!proj_is_columnwise(pr))
            continue;
        if (pr->d.rule == N4D_RULE_FIXED_INDEGREE) {
#pragma omp parallel for schedule(dynamic, 64) num_threads(threads)
            for (uint64_t t = 0; t < post->n; t++) {
                int tid = 0;
#ifdef _OPENMP
                tid = omp_get_thread_num();
#endif
                uint64_t *src = (uint64_t *)scratch[tid];
                indegree_row(m, pj, t, src, seen[tid]);
                for (uint64_t k = 0; k < pr->d.n; k++) {
                    uint64_t gs = pre->first + src[k];
                    if (!fill) {
                        __atomic_fetch_add(&b->count[gs], 1, __ATOMIC_RELAXED);
                        continue;
                    }
                    gen_syn g;
                    make_syn(b, pj, (uint32_t)t, k, (uint32_t)(post->first + t), &g);
                    uint64_t at = __atomic_fetch_add(&b->cursor[n4d__to_internal(m, gs)], 1,
                                                     __ATOMIC_RELAXED);
                    m->syn.target[at] = (uint32_t)n4d__to_internal(m, g.target);
                    memcpy(&m->syn.weight_q[at], &g.weight, sizeof(float));
                    if (b->delay_tmp)
                        b->delay_tmp[at] = (uint16_t)N4D__SEG_DELAY(g.key);
                    if (fabsf(g.weight) > thread_max[tid & 255])
                        thread_max[tid & 255] = fabsf(g.weight);
                }
            }
        } else { /* fixed_total_number without multapses: the distinct pairs */
#pragma omp parallel for schedule(static) num_threads(threads)
            for (uint64_t k = 0; k < pr->d.n; k++) {
                int tid = 0;
#ifdef _OPENMP
                tid = omp_get_thread_num();
#endif
                const uint64_t s = b->pairs[pj][k] >> 32, t = b->pairs[pj][k] & 0xffffffffu;
                uint64_t gs = pre->first + s;
                if (!fill) {
                    __atomic_fetch_add(&b->count[gs], 1, __ATOMIC_RELAXED);
                    continue;
                }
                gen_syn g;
                make_syn(b, pj, (uint32_t)k, k >> 32, (uint32_t)(post->first + t), &g);
                uint64_t at = __atomic_fetch_add(&b->cursor[n4d__to_internal(m, gs)], 1,
                                                 __ATOMIC_RELAXED);
                m->syn.target[at] = (uint32_t)n4d__to_internal(m, g.target);
                memcpy(&m->syn.weight_q[at], &g.weight, sizeof(float));
                if (b->delay_tmp)
                    b->delay_tmp[at] = (uint16_t)N4D__SEG_DELAY(g.key);
                if (fabsf(g.weight) > thread_max[tid & 255])
                    thread_max[tid & 255] = fabsf(g.weight);
            }
        }
    }
    if (maxw)
        for (int i = 0; i < 256; i++)
            if (thread_max[i] > *maxw)
                *maxw = thread_max[i];
}

/* Largest |weight| that must be representable: synapses and Poisson inputs. */
static double fixed_point_scale(const n4d_model *m, double maxw)
{
    for (size_t i = 0; i < m->n_inputs; i++)
        if (m->inputs[i].kind == N4D_INPUT_POISSON && fabs(m->inputs[i].weight) > maxw)
            maxw = fabs(m->inputs[i].weight);
    if (!(maxw > 0))
        return 1.0;
    int e;
    frexp(maxw, &e); /* maxw < 2^e */
    /* the largest |w| maps below 2^26: int32 weights keep 26 bits of
     * precision and per-step sums stay below 2^51 (exact conversion to float,
     * neuron.h) up to 2^25 largest-weight events per neuron per step */
    return ldexp(1.0, 26 - e);
}

n4d_status n4d_model_build(n4d_model *m)
{
    if (!n4d__is_handle(m, N4D__MAGIC_MODEL))
        return N4D_E_INVALID_ARG;
    n4d__clear_error(&m->hdr);
    if (m->built)
        return N4D_OK;
    n4d_status st = n4d__model_build_impl(m);
    if (st != N4D_OK)
        n4d__model_free_built(m);
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

n4d_status n4d__model_build_impl(n4d_model *m)
{
    n4d_context *ctx = m->ctx;
    /* the rules are validated against the population sizes: place first */
    n4d_status st = place_neurons(m);
    if (st || (st = validate(m)))
        return st;
    const uint64_t N = m->n_neurons;
    int threads = build_threads(m);
    if (threads > 256)
        threads = 256;
    const size_t T = (size_t)threads;
    n4d__synapses *syn = &m->syn;
    build_ctx b = {.m = m};
    for (int k = 0; k < FP_MAX_K; k++)
        b.inv_k1[k] = 1.0 / (double)(k + 1);
    gen_syn **scratch = NULL;
    uint64_t **seen = NULL;
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
    b.fp = n4d__calloc(ctx, N4D_MEM_BUILD, m->n_projs ? m->n_projs : 1, sizeof *b.fp);
    b.pair_delay = n4d__calloc(ctx, N4D_MEM_BUILD, m->n_pops * m->n_pops + 1, sizeof *b.pair_delay);
    b.pairs = n4d__calloc(ctx, N4D_MEM_BUILD, m->n_projs ? m->n_projs : 1, sizeof *b.pairs);
    b.ftn_count = n4d__calloc(ctx, N4D_MEM_BUILD, m->n_projs ? m->n_projs : 1, sizeof *b.ftn_count);
    b.item_start = n4d__calloc(ctx, N4D_MEM_BUILD, m->n_projs + 1, sizeof *b.item_start);
    b.pop_of = n4d__alloc(ctx, N4D_MEM_BUILD, (N ? N : 1) * sizeof *b.pop_of);
    b.count = n4d__calloc(ctx, N4D_MEM_BUILD, N + 1, sizeof(uint64_t));
    b.cursor = n4d__calloc(ctx, N4D_MEM_BUILD, N + 1, sizeof(uint64_t));
    syn->seg_ptr = n4d__calloc(ctx, N4D_MEM_SYNAPSES, N + 1, sizeof(uint64_t));
    scratch = n4d__calloc(ctx, N4D_MEM_BUILD, T, sizeof *scratch);
    seen = n4d__calloc(ctx, N4D_MEM_BUILD, T, sizeof *seen);
    seen_bytes = (seen_bits + 63) / 64 * sizeof(uint64_t);
    scratch_bytes = kmax * sizeof(uint64_t);
    if (!b.maps || !b.fp || !b.pair_delay || !b.pairs || !b.ftn_count || !b.item_start || !b.pop_of || !b.count || !b.cursor || !syn->seg_ptr || !scratch || !seen ||
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
    for (size_t pj = 0; pj < m->n_projs; pj++) {
        const n4d__projection *pr = &m->projs[pj];
        if (pr->d.rule != N4D_RULE_FIXED_TOTAL_NUMBER)
            continue;
        if (!pr->d.allow_multapses) {
            if ((st = distinct_pairs(m, pj, &b.pairs[pj])))
                goto done;
            continue;
        }
        const uint64_t npre = m->pops[pr->source].n;
        b.ftn_count[pj] = n4d__alloc(ctx, N4D_MEM_BUILD, (npre ? npre : 1) * sizeof(uint64_t));
        if (!b.ftn_count[pj]) {
            st = n4d__error(&m->hdr, N4D_E_NOMEM, "out of memory for the counts of \"%s\"",
                            pr->name);
            goto done;
        }
        if (npre)
            split_counts(m->seed, purpose_of(N4D_RNG_CONNECT, pj), 0, npre, pr->d.n, 1,
                         b.ftn_count[pj]);
    }
    bool need_delay_tmp = false;
    for (size_t i = 0; i < m->n_pops * m->n_pops; i++)
        b.pair_delay[i] = 0;
    for (size_t pj = 0; pj < m->n_projs; pj++) {
        const n4d__projection *pr = &m->projs[pj];
        fp_plan *f = &b.fp[pj];
        fp_make_plan(pr->d.p, m->pops[pr->target].n, f);
        if (!f->none && !f->dense) {
            const uint64_t last = m->pops[pr->target].n - (f->nchunks - 1) * f->len;
            for (int t = 0; t < 2; t++) {
                f->cdf[t] = n4d__alloc(ctx, N4D_MEM_BUILD, (FP_MAX_K + 1) * sizeof(double));
                if (!f->cdf[t]) {
                    st = n4d__error(&m->hdr, N4D_E_NOMEM, "out of memory for connection tables");
                    goto done;
                }
                f->cdf_n[t] = binomial_table(t ? last : f->len, t ? f->p0_last : f->p0_full,
                                             f->ratio, b.inv_k1, f->cdf[t]);
            }
        }
        f->const_delay = pr->d.delay.kind == N4D_DIST_CONSTANT;
        f->delay = f->const_delay ? (pr->d.delay.value == 0.0 ? 1u
                                                              : n4d__delay_steps(pr->d.delay.value, m->dt))
                                  : 0u;
        f->const_weight = pr->d.weight.kind == N4D_DIST_CONSTANT;
        double w = pr->d.weight.value;
        f->weight = (float)(pr->d.syn_type == N4D_SYN_EXCITATORY   ? fabs(w)
                            : pr->d.syn_type == N4D_SYN_INHIBITORY ? -fabs(w)
                                                                   : w);
        uint32_t *pd = &b.pair_delay[(size_t)pr->source * m->n_pops + (size_t)pr->target];
        if (!f->const_delay || (*pd && *pd != f->delay))
            need_delay_tmp = true;
        *pd = f->delay;
    }

    /* pass 1: count per source (user ids), then the layout (which may use
     * the counts as weights), then row offsets in internal order */
    generate(&b, false, threads, scratch, seen, NULL);
    for (uint64_t s = 0; s < N; s++)
        b.cursor[s] = b.count[s] + 1;
    if ((st = n4d__layout_compute(m, b.cursor)))
        goto done;
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
    if (S > ((uint64_t)1 << 40)) {
        st = n4d__error(&m->hdr, N4D_E_LIMIT, "the model has %llu synapses (limit 2^40)",
                        (unsigned long long)S);
        goto done;
    }

    /* scratch for a whole row and its sort buffer */
    free_scratch(ctx, (void **)scratch, T, scratch_bytes);
    memset(scratch, 0, T * sizeof *scratch);
    size_t need = 2 * (maxrow + 1) * sizeof(gen_syn);
    scratch_bytes = need > kmax * sizeof(uint64_t) ? need : kmax * sizeof(uint64_t);
    syn->n_syn = S;
    syn->target = n4d__alloc(ctx, N4D_MEM_SYNAPSES, (S ? S : 1) * sizeof(uint32_t));
    syn->weight_q = n4d__alloc(ctx, N4D_MEM_SYNAPSES, (S ? S : 1) * sizeof(int32_t));
    if (need_delay_tmp)
        b.delay_tmp = n4d__alloc(ctx, N4D_MEM_BUILD, (S ? S : 1) * sizeof(uint16_t));
    if (!syn->target || !syn->weight_q || (need_delay_tmp && !b.delay_tmp) ||
        !alloc_scratch(ctx, (void **)scratch, T, scratch_bytes)) {
        st = n4d__error(&m->hdr, N4D_E_NOMEM, "out of memory for %llu synapses",
                        (unsigned long long)S);
        goto done;
    }

    /* pass 2: fill (weights as float bits for now) */
    float maxw = 0.0f;
    generate(&b, true, threads, scratch, seen, &maxw);

    /* canonical order per row (rows built from one row-wise projection
     * already are), and segments per row */
#pragma omp parallel for schedule(dynamic, 256) num_threads(threads)
    for (uint64_t s = 0; s < N; s++) {
        int tid = 0;
#ifdef _OPENMP
        tid = omp_get_thread_num();
#endif
        const uint64_t lo = b.count[s], n = b.count[s + 1] - lo;
        const int32_t sp = b.pop_of[s];
        bool sorted = true;
        uint64_t segs = n ? 1 : 0;
        gen_syn prev = {0, 0.0f, 0}, cur;
        for (uint64_t i = 0; i < n; i++, prev = cur) {
            cur.target = syn->target[lo + i];
            memcpy(&cur.weight, &syn->weight_q[lo + i], sizeof(float));
            cur.key = synapse_key(&b, sp, lo + i);
            if (i && syn_less(&cur, &prev)) {
                sorted = false;
                break;
            }
            segs += i && cur.key != prev.key;
        }
        if (!sorted) {
            gen_syn *row = scratch[tid];
            for (uint64_t i = 0; i < n; i++) {
                row[i].target = syn->target[lo + i];
                memcpy(&row[i].weight, &syn->weight_q[lo + i], sizeof(float));
                row[i].key = synapse_key(&b, sp, lo + i);
            }
            sort_row(row, row + n, n);
            segs = 0;
            for (uint64_t i = 0; i < n; i++) {
                syn->target[lo + i] = row[i].target;
                memcpy(&syn->weight_q[lo + i], &row[i].weight, sizeof(float));
                if (b.delay_tmp)
                    b.delay_tmp[lo + i] = (uint16_t)N4D__SEG_DELAY(row[i].key);
                segs += (i == 0 || row[i].key != row[i - 1].key);
            }
        }
        syn->seg_ptr[s + 1] = segs;
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
    syn->scale = fixed_point_scale(m, maxw);
    syn->inv_scale = 1.0 / syn->scale;
    const double scale = syn->scale;
    uint32_t dmin = UINT32_MAX, dmax = 0;
#pragma omp parallel for schedule(dynamic, 256) num_threads(threads) reduction(min : dmin) reduction(max : dmax)
    for (uint64_t s = 0; s < N; s++) {
        uint64_t lo = b.count[s], hi = b.count[s + 1], g = syn->seg_ptr[s];
        uint32_t prev_key = 0;
        for (uint64_t i = lo; i < hi; i++) {
            const uint32_t key = synapse_key(&b, b.pop_of[s], i);
            if (i == lo || key != prev_key) {
                syn->seg_off[g] = i;
                syn->seg_key[g] = key;
                uint32_t d = N4D__SEG_DELAY(key);
                dmin = d < dmin ? d : dmin;
                dmax = d > dmax ? d : dmax;
                prev_key = key;
                g++;
            }
            float w;
            memcpy(&w, &syn->weight_q[i], sizeof w);
            syn->weight_q[i] = (int32_t)lrint((double)w * scale);
        }
    }
    syn->seg_off[nseg] = S;
    syn->min_delay = dmax ? dmin : 1;
    syn->max_delay = dmax ? dmax : 1;
    m->built = true;

done:
    if (b.maps) {
        for (size_t i = 0; i < m->n_pops; i++)
            n4d__free(ctx, N4D_MEM_BUILD, b.maps[i].slot, b.maps[i].sites * sizeof(uint32_t));
        n4d__free(ctx, N4D_MEM_BUILD, b.maps, (m->n_pops ? m->n_pops : 1) * sizeof *b.maps);
    }
    for (size_t pj = 0; b.fp && pj < m->n_projs; pj++)
        for (int t = 0; t < 2; t++)
            n4d__free(ctx, N4D_MEM_BUILD, b.fp[pj].cdf[t], (FP_MAX_K + 1) * sizeof(double));
    n4d__free(ctx, N4D_MEM_BUILD, b.fp, (m->n_projs ? m->n_projs : 1) * sizeof *b.fp);
    for (size_t pj = 0; b.pairs && pj < m->n_projs; pj++)
        n4d__free(ctx, N4D_MEM_BUILD, b.pairs[pj],
                  (m->projs[pj].d.n ? m->projs[pj].d.n : 1) * sizeof(uint64_t));
    n4d__free(ctx, N4D_MEM_BUILD, b.pairs, (m->n_projs ? m->n_projs : 1) * sizeof *b.pairs);
    for (size_t pj = 0; b.ftn_count && pj < m->n_projs; pj++)
        n4d__free(ctx, N4D_MEM_BUILD, b.ftn_count[pj],
                  (m->pops[m->projs[pj].source].n ? m->pops[m->projs[pj].source].n : 1) *
                      sizeof(uint64_t));
    n4d__free(ctx, N4D_MEM_BUILD, b.ftn_count, (m->n_projs ? m->n_projs : 1) * sizeof *b.ftn_count);
    n4d__free(ctx, N4D_MEM_BUILD, b.item_start, (m->n_projs + 1) * sizeof *b.item_start);
    n4d__free(ctx, N4D_MEM_BUILD, b.count, (N + 1) * sizeof(uint64_t));
    n4d__free(ctx, N4D_MEM_BUILD, b.cursor, (N + 1) * sizeof(uint64_t));
    n4d__free(ctx, N4D_MEM_BUILD, b.delay_tmp, (S ? S : 1) * sizeof(uint16_t));
    n4d__free(ctx, N4D_MEM_BUILD, b.pair_delay, (m->n_pops * m->n_pops + 1) * sizeof *b.pair_delay);
    n4d__free(ctx, N4D_MEM_BUILD, b.pop_of, (N ? N : 1) * sizeof *b.pop_of);
    if (scratch)
        free_scratch(ctx, (void **)scratch, T, scratch_bytes);
    if (seen)
        free_scratch(ctx, (void **)seen, T, seen_bytes);
    n4d__free(ctx, N4D_MEM_BUILD, scratch, T * sizeof *scratch);
    n4d__free(ctx, N4D_MEM_BUILD, seen, T * sizeof *seen);
    return st;
}
