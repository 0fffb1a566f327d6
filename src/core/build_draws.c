/* The weights and delays of a generated row, a block of synapses at a time
 * (see build_draws.h). The Philox words are drawn first; the conversion to
 * doubles and the normal's Box-Muller transform then run in loops without
 * branches or calls that the compiler vectorises. Each function below does
 * the operations of its counterpart in synapse_gen.h in the same order, so
 * the doubles are the same bits (exact integer conversions, IEEE + - * /
 * and sqrt lane by lane, no FMA contraction); tests/test_synapse_gen.c checks it. */
#include "build_draws.h"

#include "clones.h"
#include "philox_avx2.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#define BLOCK 64

/* The double of an integer below 2^53 given as hi * 2^26 + lo (hi < 2^27,
 * lo < 2^26): both parts convert exactly from 32-bit integers (a vector
 * conversion every x86-64 level has) and so does their sum. */
static inline double exact_u53(uint32_t hi, uint32_t lo)
{
    return (double)(int32_t)hi * 67108864.0 + (double)(int32_t)lo;
}

/* n4d__u01 and n4d__u01_open0 */
static inline double u01(uint32_t a, uint32_t b)
{
    return exact_u53(a >> 5, b >> 6) * (1.0 / 9007199254740992.0);
}

static inline double u01_open0(uint32_t a, uint32_t b)
{
    return (exact_u53(a >> 5, b >> 6) + 1.0) * (1.0 / 9007199254740992.0);
}

static inline uint64_t bits_of(double x)
{
    uint64_t b;
    memcpy(&b, &x, sizeof b);
    return b;
}

static inline double from_bits(uint64_t b)
{
    double x;
    memcpy(&x, &b, sizeof x);
    return x;
}

/* n4d__det_log; the exponent's double from its bits (0x1p52 + e - 2^52,
 * exact) instead of an int conversion. */
static inline double det_log(double x)
{
    const uint64_t b = bits_of(x);
    double e = from_bits(0x4330000000000000ull | ((b >> 52) & 0x7ff)) - 4503599627370496.0 - 1023.0;
    double m = from_bits((b & 0x000fffffffffffffull) | 0x3ff0000000000000ull);
    const int big = m > 1.4142135623730951;
    m = big ? m * 0.5 : m;
    e = big ? e + 1.0 : e;
    return n4d__det_log_reduced(m, e);
}

/* n4d__det_cos_turn; the quadrant as a double (floor of 4u >= 0 is the
 * int truncation) and its parity tests as comparisons. */
static inline double det_cos_turn(double u)
{
    const double q = u * 4.0;
    const double k = floor(q);
    const double f = q - k;
    const int hi = f > 0.5;
    const double x = (hi ? 1.0 - f : f) * 1.5707963267948966;
    const double cx = n4d__det_cos_small(x), sx = n4d__det_sin_small(x);
    const double c = hi ? sx : cx, s = hi ? cx : sx;
    const double r = ((k == 1.0) | (k == 3.0)) ? s : c;
    return ((k == 1.0) | (k == 2.0)) ? -r : r;
}

N4D_CLONES
static void uniform_block(double lo, double hi, const uint32_t *restrict w0, const uint32_t *restrict w1,
                          uint64_t m, double *restrict x)
{
    for (uint64_t k = 0; k < m; k++)
        x[k] = lo + (hi - lo) * u01(w0[k], w1[k]);
}

N4D_CLONES
static void normal_block(double mean, double std, double lo, double hi, const uint32_t *restrict w0,
                         const uint32_t *restrict w1, const uint32_t *restrict w2,
                         const uint32_t *restrict w3, uint64_t m, double *restrict x)
{
    for (uint64_t k = 0; k < m; k++) {
        const double u1 = u01_open0(w0[k], w1[k]), u2 = u01(w2[k], w3[k]);
        const double z = sqrt(-2.0 * det_log(u1)) * det_cos_turn(u2);
        const double v = mean + std * z;
        const double vl = v < lo ? lo : v;
        x[k] = vl > hi ? hi : vl;
    }
}

#ifdef N4D_PHILOX_AVX2
__attribute__((target("avx2"))) static void philox_block_avx2(uint64_t seed, uint32_t purpose,
                                                              uint32_t entity, uint64_t ctr0,
                                                              uint64_t m, uint32_t w[4][BLOCK])
{
    for (uint64_t g = 0; g < m; g += 8) {
        __m256i c[4] = {_mm256_add_epi32(_mm256_set1_epi32((int)(uint32_t)(ctr0 + g)),
                                         _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)),
                        _mm256_set1_epi32((int)(uint32_t)(ctr0 >> 32)), _mm256_set1_epi32((int)entity),
                        _mm256_set1_epi32((int)purpose)};
        n4d__philox8_avx2(c, (uint32_t)seed, (uint32_t)(seed >> 32));
        for (int i = 0; i < 4; i++)
            _mm256_storeu_si256((__m256i *)(w[i] + g), c[i]);
    }
}
#endif

/* The words of n4d__philox(seed, purpose, entity, ctr0 + k) for k < m
 * (m <= BLOCK) into w[0..3][k] (AVX2 may fill w up to the next multiple
 * of 8). */
static void philox_block(uint64_t seed, uint32_t purpose, uint32_t entity, uint64_t ctr0, uint64_t m,
                         uint32_t w[4][BLOCK])
{
#ifdef N4D_PHILOX_AVX2
    /* the lanes count in the low word only: no carry into the high one */
    if (n4d__cpu_has_avx2() && (ctr0 & 0xffffffffu) + BLOCK <= 0x100000000ull) {
        philox_block_avx2(seed, purpose, entity, ctr0, m, w);
        return;
    }
#endif
    for (uint64_t k = 0; k < m; k++) {
        const n4d__r4 r = n4d__philox(seed, purpose, entity, ctr0 + k);
        for (int i = 0; i < 4; i++)
            w[i][k] = r.v[i];
    }
}

/* n4d__uint_below of the word pairs (a[k], b[k]), k < m: the high word of
 * ((a << 32) | b) * range, as (a * range + (b * range >> 32)) >> 32 (no
 * carry is lost: the dropped low part is below 2^32). */
N4D_CLONES
static void below_block(const uint32_t *restrict a, const uint32_t *restrict b, uint64_t m,
                        uint64_t range, uint32_t *restrict out)
{
    for (uint64_t k = 0; k < m; k++)
        out[k] = (uint32_t)(((uint64_t)a[k] * range + (((uint64_t)b[k] * range) >> 32)) >> 32);
}

void n4d__build_uniform_below(uint64_t seed, uint32_t purpose, uint32_t entity, uint64_t ctr0,
                              uint64_t n, uint64_t range, uint32_t *out)
{
    uint32_t w[4][BLOCK], even[BLOCK], odd[BLOCK];
    for (uint64_t j0 = 0; j0 < n; j0 += 2 * BLOCK) {
        const uint64_t m = n - j0 < 2 * BLOCK ? n - j0 : 2 * BLOCK, draws = (m + 1) / 2;
        philox_block(seed, purpose, entity, ctr0 + j0 / 2, draws, w);
        below_block(w[0], w[1], draws, range, even); /* values j0, j0 + 2, ... */
        below_block(w[2], w[3], draws, range, odd);  /* values j0 + 1, j0 + 3, ... */
        for (uint64_t k = 0; k < m / 2; k++) {
            out[j0 + 2 * k] = even[k];
            out[j0 + 2 * k + 1] = odd[k];
        }
        if (m & 1)
            out[j0 + m - 1] = even[m / 2];
    }
}

/* The rank sort's compares grow as K^2: beyond this the bucket and radix
 * sorts are faster. */
#define RANK_SORT_MAX 64

/* Sorts v[0, K) by ranks: value i goes to the number of values whose key
 * (v << 8 | i: distinct, and in the order of a stable sort) is smaller,
 * counted 8 values at a time against every other one in vector compares.
 * K <= RANK_SORT_MAX and len <= 2^23 (the keys are positive 32-bit
 * integers). */
static void rank_keys(const uint32_t *v, uint64_t K, int32_t *key)
{
    for (uint64_t i = 0; i < K; i++)
        key[i] = (int32_t)(v[i] << 8 | (uint32_t)i);
    for (uint64_t i = K; i < K + 8; i++)
        key[i] = INT32_MAX; /* the last group's missing lanes */
}

#ifdef N4D_PHILOX_AVX2
/* sort_by_rank in AVX2: 8 keys against one broadcast key per compare, two
 * running counts (the compiler's version transposes the loop and spills) */
__attribute__((target("avx2"))) static void sort_by_rank_avx2(uint32_t *v, uint64_t K)
{
    int32_t key[RANK_SORT_MAX + 8];
    uint32_t out[RANK_SORT_MAX], rank[8];
    rank_keys(v, K, key);
    for (uint64_t i0 = 0; i0 < K; i0 += 8) {
        const __m256i x = _mm256_loadu_si256((const __m256i *)(key + i0));
        __m256i r0 = _mm256_setzero_si256(), r1 = _mm256_setzero_si256();
        uint64_t j = 0;
        for (; j + 1 < K; j += 2) { /* x > key[j]: -1, subtracted */
            r0 = _mm256_sub_epi32(r0, _mm256_cmpgt_epi32(x, _mm256_set1_epi32(key[j])));
            r1 = _mm256_sub_epi32(r1, _mm256_cmpgt_epi32(x, _mm256_set1_epi32(key[j + 1])));
        }
        if (j < K)
            r0 = _mm256_sub_epi32(r0, _mm256_cmpgt_epi32(x, _mm256_set1_epi32(key[j])));
        _mm256_storeu_si256((__m256i *)rank, _mm256_add_epi32(r0, r1));
        for (int l = 0; l < 8 && i0 + l < K; l++)
            out[rank[l]] = v[i0 + l];
    }
    memcpy(v, out, K * sizeof *v);
}
#endif

N4D_CLONES
static void sort_by_rank_generic(uint32_t *restrict v, uint64_t K)
{
    int32_t key[RANK_SORT_MAX + 8];
    uint32_t out[RANK_SORT_MAX];
    rank_keys(v, K, key);
    for (uint64_t i0 = 0; i0 < K; i0 += 8) {
        uint32_t rank[8] = {0};
        for (uint64_t j = 0; j < K; j++)
            for (int l = 0; l < 8; l++)
                rank[l] += key[j] < key[i0 + l];
        for (int l = 0; l < 8 && i0 + l < K; l++)
            out[rank[l]] = v[i0 + l];
    }
    memcpy(v, out, K * sizeof *v);
}

static void sort_by_rank(uint32_t *v, uint64_t K)
{
#ifdef N4D_PHILOX_AVX2
    if (n4d__cpu_has_avx2()) {
        sort_by_rank_avx2(v, K);
        return;
    }
#endif
    sort_by_rank_generic(v, K);
}

void n4d__build_sort_below(uint32_t *v, uint32_t *tmp, uint64_t n, uint64_t range)
{
    if (n <= RANK_SORT_MAX && range <= (1u << 23)) { /* below the radix passes' fixed cost */
        sort_by_rank(v, n);
        return;
    }
    uint32_t *src = v, *dst = tmp;
    for (int shift = 0; shift < 32 && (range - 1) >> shift; shift += 8) {
        uint64_t count[257] = {0};
        for (uint64_t i = 0; i < n; i++)
            count[((src[i] >> shift) & 255) + 1]++;
        for (int b = 0; b < 256; b++)
            count[b + 1] += count[b];
        for (uint64_t i = 0; i < n; i++)
            dst[count[(src[i] >> shift) & 255]++] = src[i];
        uint32_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != v)
        memcpy(v, src, n * sizeof *v);
}

void n4d__build_sort_chunk(uint32_t *v, uint64_t K, uint64_t len)
{
    if (K <= RANK_SORT_MAX && len <= (1u << 23))
        sort_by_rank(v, K);
    else
        n4d__sg_sort_uniform(v, K, len);
}

/* n4d__sg_draw of synapses j0 .. j0 + m - 1 (m <= BLOCK) into x. */
static void draw_block(const n4d_dist *d, uint64_t seed, uint32_t purpose, uint32_t entity,
                       uint64_t j0, uint64_t m, double *x)
{
    if (d->kind == N4D_DIST_CONSTANT) {
        for (uint64_t k = 0; k < m; k++)
            x[k] = d->value;
        return;
    }
    uint32_t w[4][BLOCK];
    philox_block(seed, purpose, entity, j0, m, w);
    if (d->kind == N4D_DIST_UNIFORM)
        uniform_block(d->lo, d->hi, w[0], w[1], m, x);
    else
        normal_block(d->value, d->std, d->lo, d->hi, w[0], w[1], w[2], w[3], m, x);
}

void n4d__build_make_row(const n4d__sg_proj *P, uint64_t seed, uint32_t entity, n4d__gen_syn *out,
                         uint64_t n)
{
    if (P->const_weight && P->const_delay) {
        const uint32_t key = n4d__seg_key(P->delay_c, P->weight_c < 0.0f);
        for (uint64_t i = 0; i < n; i++) {
            out[i].weight = P->weight_c;
            out[i].key = key;
        }
        return;
    }
    const uint32_t wpurpose = n4d__sg_purpose(N4D_RNG_WEIGHT, P->index);
    const uint32_t dpurpose = n4d__sg_purpose(N4D_RNG_DELAY, P->index);
    double w[BLOCK], d[BLOCK];
    for (uint64_t j0 = 0; j0 < n; j0 += BLOCK) {
        const uint64_t m = n - j0 < BLOCK ? n - j0 : BLOCK;
        if (!P->const_weight)
            draw_block(&P->weight, seed, wpurpose, entity, j0, m, w);
        if (!P->const_delay)
            draw_block(&P->delay, seed, dpurpose, entity, j0, m, d);
        for (uint64_t k = 0; k < m; k++) {
            float wf = P->weight_c;
            if (!P->const_weight) {
                double x = w[k];
                if (P->syn_type == N4D_SYN_EXCITATORY)
                    x = fabs(x);
                else if (P->syn_type == N4D_SYN_INHIBITORY)
                    x = -fabs(x);
                wf = (float)x;
            }
            const uint32_t dl = P->const_delay ? P->delay_c : n4d__delay_steps(d[k], P->dt);
            out[j0 + k].weight = wf;
            out[j0 + k].key = n4d__seg_key(dl, wf < 0.0f);
        }
    }
}

N4D_CLONES
void n4d__build_to_fixed(int32_t *w, uint64_t n, double scale)
{
    for (uint64_t i = 0; i < n; i++) {
        float x;
        memcpy(&x, &w[i], sizeof x);
        w[i] = (int32_t)lrint((double)x * scale);
    }
}
