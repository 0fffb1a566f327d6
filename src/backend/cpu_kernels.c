/* Vectorised neuron update kernels (see cpu_kernels.h). Each block of
 * neurons is updated in a loop free of branches and stores (the compiler
 * vectorises it), writing spike flags; the flags are then compacted into ids.
 * On x86-64 the kernels are cloned for AVX-512 and AVX2 and the best one is
 * picked at load time; results do not depend on the clone (no FMA
 * contraction, IEEE operations lane by lane). */
#include "cpu_kernels.h"

#include "clones.h"
#include "philox_avx2.h"

#include <string.h>

#define BLOCK 512

static inline uint64_t compact(const uint8_t *flag, uint64_t n, uint64_t base, uint32_t *spk)
{
    uint64_t ns = 0;
    for (uint64_t j = 0; j < n; j += 8) {
        uint64_t word = 0;
        memcpy(&word, flag + j, n - j >= 8 ? 8 : n - j);
        if (!word)
            continue;
        for (uint64_t k = j; k < j + 8 && k < n; k++) {
            spk[ns] = (uint32_t)(base + k);
            ns += flag[k];
        }
    }
    return ns;
}

/* The block loop of every kernel: STEP(j, i) updates neuron i into flag[j]
 * with the step's synaptic sums fe, fi (floats) from IN (which reads and
 * consumes them) and external input EXT. */
#define KERNEL_BLOCKS(STEP, IN, EXT, CLEAR_EXT)                                                   \
    for (uint64_t b = lo; b < hi; b += BLOCK) {                                                  \
        const uint64_t n = hi - b < BLOCK ? hi - b : BLOCK;                                      \
        for (uint64_t j = 0; j < n; j++) {                                                       \
            const uint64_t i = b + j;                                                            \
            IN;                                                                                  \
            const float ext = (EXT);                                                             \
            CLEAR_EXT;                                                                           \
            flag[j] = (uint8_t)(STEP);                                                           \
        }                                                                                        \
        ns += compact(flag, n, b, spk + ns);                                                     \
    }
/* int32 ring entries: one conversion to float and an exact multiply by
 * the power-of-two inverse scale (the bits of n4d__fixed_to_float: see
 * n4d__kernel_args.narrow_ok), then the entries are cleared. */
#define IN_NARROW                                                                                \
    const float fe = (float)re[i] * invf, fi = (float)ri[i] * invf;                              \
    re[i] = 0;                                                                                   \
    ri[i] = 0
/* exact int64 sums of the range, by i - lo */
#define IN_WIDE                                                                                  \
    const float fe = n4d__fixed_to_float(we[i - lo], inv), fi = n4d__fixed_to_float(wi[i - lo], inv)
/* Without external input the kernel neither reads nor clears iext (4 bytes
 * less per neuron and step); ext = 0 + dc = dc bitwise, as dc is never -0.
 * The gain (modulators.h) is 1 unless bound: x * 1 = x. */
#define KERNEL_LOOP(STEP)                                                                        \
    const n4d__pop_rt pc = *p;                                                                   \
    const float invf = (float)inv;                                                               \
    uint8_t flag[BLOCK];                                                                         \
    uint64_t ns = 0;                                                                             \
    if (we) {                                                                                    \
        if (iext) {                                                                              \
            KERNEL_BLOCKS(STEP, IN_WIDE, (iext[i] + dc) * gain, iext[i] = 0.0f)                  \
        } else {                                                                                 \
            KERNEL_BLOCKS(STEP, IN_WIDE, dc * gain, (void)0)                                     \
        }                                                                                        \
    } else if (iext) {                                                                           \
        KERNEL_BLOCKS(STEP, IN_NARROW, (iext[i] + dc) * gain, iext[i] = 0.0f)                    \
    } else {                                                                                     \
        KERNEL_BLOCKS(STEP, IN_NARROW, dc * gain, (void)0)                                       \
    }                                                                                            \
    return ns

/* The parameters of every kernel: the arrays as restrict parameters (GCC
 * honours restrict there, not on locals: without it the loops stay
 * scalar). */
#define KERNEL_PARAMS                                                                            \
    const n4d__pop_rt *p, uint64_t lo, uint64_t hi, float *restrict v, float *restrict x0,       \
        float *restrict x1, float *restrict x2, int32_t *restrict ref, float *restrict iext,      \
        int32_t *restrict re, int32_t *restrict ri, const int64_t *restrict we,                  \
        const int64_t *restrict wi, double inv, float dc, float gain, uint32_t *restrict spk
#define KERNEL_ARGS(p, a, lo, hi, spk)                                                           \
    p, lo, hi, a->v, a->x[0], a->x[1], a->x[2], a->ref, a->iext, a->in_e, a->in_i, a->wide_e,    \
        a->wide_i, a->inv_scale, a->dc, a->gain, spk

/* One kernel per registered model (neuron_models.def), each cloned. */
#define N4D_NEURON_MODEL(id, name)                                                               \
    N4D_CLONES                                                                                   \
    static uint64_t kernel_##name(KERNEL_PARAMS)                                                 \
    {                                                                                            \
        KERNEL_LOOP(n4d__##name##_step(&pc.k.name, &v[i], &x0[i], &x1[i], &x2[i], &ref[i], fe, fi, \
                                       ext));                                                    \
    }
#include "neuron_models.def"
#undef N4D_NEURON_MODEL

/* The kernels of populations with a cell lifecycle (lifecycle.h): each
 * neuron's own constants, gathered from word-major storage (contiguous
 * loads: the loop still vectorises), and no spike from a removed neuron. A
 * separate family, so that the other populations keep their run constants.
 * The constants and alive flags come as restrict parameters too: the int32
 * ring entries and refractory counters could otherwise alias the uint32
 * words, and the loop would stay scalar. */
#define N4D_NEURON_MODEL(id, name)                                                               \
    static inline int life_step_##name(const uint32_t *kn, uint64_t stride, uint64_t i, float *v, \
                                       float *x0, float *x1, float *x2, int32_t *ref, float fe,   \
                                       float fi, float ext)                                      \
    {                                                                                            \
        uint32_t w[(sizeof(n4d__##name##_k) + 3) / 4];                                           \
        for (unsigned f = 0; f < sizeof w / sizeof w[0]; f++)                                    \
            w[f] = kn[f * stride + i];                                                           \
        n4d__##name##_k k;                                                                       \
        memcpy(&k, w, sizeof k);                                                                 \
        return n4d__##name##_step(&k, v, x0, x1, x2, ref, fe, fi, ext);                          \
    }                                                                                            \
    N4D_CLONES                                                                                   \
    static uint64_t kernel_life_##name(KERNEL_PARAMS, const uint32_t *restrict kn,               \
                                       uint64_t stride, const uint8_t *restrict alive)           \
    {                                                                                            \
        KERNEL_LOOP(((void)pc, life_step_##name(kn, stride, i, &v[i], &x0[i], &x1[i], &x2[i],    \
                                                &ref[i], fe, fi, ext) &                          \
                               alive[i]));                                                       \
    }
#include "neuron_models.def"
#undef N4D_NEURON_MODEL

uint64_t n4d__kernel_update(const n4d__pop_rt *p, const n4d__kernel_args *a, uint64_t lo,
                            uint64_t hi, uint32_t *spk)
{
    if (p->kn)
        switch (p->model) {
#define N4D_NEURON_MODEL(id, name)                                                               \
        case id:                                                                                 \
            return kernel_life_##name(KERNEL_ARGS(p, a, lo, hi, spk), p->kn, p->kn_stride,      \
                                      p->alive);
#include "neuron_models.def"
#undef N4D_NEURON_MODEL
        }
    switch (p->model) {
#define N4D_NEURON_MODEL(id, name)                                                               \
    case id:                                                                                     \
        return kernel_##name(KERNEL_ARGS(p, a, lo, hi, spk));
#include "neuron_models.def"
#undef N4D_NEURON_MODEL
    }
    return 0; /* unknown models are refused when a population is added */
}

/* The Poisson counts of neurons id0 .. id0 + n - 1 for one part of a
 * per-step input, as far as the table's first 8 thresholds tell (see
 * cpu_kernels.h): the Philox words and the comparisons in integers, in a
 * loop the compiler vectorises (AVX2 has no vector conversion of 64-bit
 * integers to double, so the draw is never made a double here). */
/* Words 0 and 1 of n4d__philox(seed, purpose, id0 + j, ctr) for j < 64. */
static void philox64_words01(uint64_t seed, uint32_t purpose, uint64_t ctr, uint32_t id0,
                             uint32_t *restrict w0, uint32_t *restrict w1)
{
    for (uint32_t j = 0; j < 64; j++) {
        const n4d__r4 r = n4d__philox(seed, purpose, id0 + j, ctr);
        w0[j] = r.v[0];
        w1[j] = r.v[1];
    }
}

#ifdef N4D_PHILOX_AVX2
/* philox64_words01 in AVX2, 8 neurons at a time */
__attribute__((target("avx2"))) static void philox64_words01_avx2(uint64_t seed, uint32_t purpose,
                                                                  uint64_t ctr, uint32_t id0,
                                                                  uint32_t *w0, uint32_t *w1)
{
    for (int g = 0; g < 64; g += 8) {
        __m256i c[4] = {_mm256_set1_epi32((int)(uint32_t)ctr), _mm256_set1_epi32((int)(uint32_t)(ctr >> 32)),
                        _mm256_add_epi32(_mm256_set1_epi32((int)(id0 + (uint32_t)g)),
                                         _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)),
                        _mm256_set1_epi32((int)purpose)};
        n4d__philox8_avx2(c, (uint32_t)seed, (uint32_t)(seed >> 32));
        _mm256_storeu_si256((__m256i *)(w0 + g), c[0]);
        _mm256_storeu_si256((__m256i *)(w1 + g), c[1]);
    }
}
#endif

N4D_CLONES
static void poisson_counts(const uint32_t *restrict w0, const uint32_t *restrict w1, uint64_t m,
                           const int64_t *thr, int32_t *restrict cnt, uint64_t *restrict u53)
{
    int64_t t[8];
    memcpy(t, thr, sizeof t);
    for (uint64_t j = 0; j < m; j++) {
        /* the 53 bits of n4d__u01 from words 0 and 1 */
        const uint64_t u = ((uint64_t)(w0[j] >> 5) << 26) | (w1[j] >> 6);
        int32_t c = 0;
        for (int q = 0; q < 8; q++)
            c += (int64_t)u > t[q];
        cnt[j] = c;
        u53[j] = u;
    }
}

void n4d__kernel_poisson_count8(uint64_t seed, uint32_t purpose, uint64_t ctr, uint32_t id0,
                                uint64_t n, const int64_t *thr, int32_t *cnt, uint64_t *u53)
{
#ifdef N4D_PHILOX_AVX2
    const int avx2 = n4d__cpu_has_avx2();
#endif
    uint32_t w0[64], w1[64];
    for (uint64_t j0 = 0; j0 < n; j0 += 64) {
        const uint64_t m = n - j0 < 64 ? n - j0 : 64;
#ifdef N4D_PHILOX_AVX2
        if (avx2)
            philox64_words01_avx2(seed, purpose, ctr, id0 + (uint32_t)j0, w0, w1);
        else
#endif
            philox64_words01(seed, purpose, ctr, id0 + (uint32_t)j0, w0, w1);
        poisson_counts(w0, w1, m, thr, cnt + j0, u53 + j0);
    }
}

N4D_CLONES
bool n4d__kernel_add_counts(int32_t *restrict acc, const int32_t *restrict cnt, uint64_t n,
                            int64_t w)
{
    int64_t sum[256];
    bool fits = true;
    for (uint64_t j = 0; j < n; j++) {
        sum[j] = (int64_t)acc[j] + (int64_t)cnt[j] * w;
        fits &= sum[j] == (int32_t)sum[j];
    }
    if (!fits)
        return false;
    for (uint64_t j = 0; j < n; j++)
        acc[j] = (int32_t)sum[j];
    return true;
}
