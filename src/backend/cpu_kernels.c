/* Vectorised neuron update kernels (see cpu_kernels.h). Each block of
 * neurons is updated in a loop free of branches and stores (the compiler
 * vectorises it), writing spike flags; the flags are then compacted into ids.
 * On x86-64 the kernels are cloned for AVX-512 and AVX2 and the best one is
 * picked at load time; results do not depend on the clone (no FMA
 * contraction, IEEE operations lane by lane). */
#include "cpu_kernels.h"

#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__) && !defined(N4D_NO_CLONES)
#define N4D_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define N4D_CLONES
#endif

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
 * separate family, so that the other populations keep their run constants. */
#define N4D_NEURON_MODEL(id, name)                                                               \
    static inline int life_step_##name(const uint32_t *const *kw, uint64_t i, float *v,          \
                                       float *x0, float *x1, float *x2, int32_t *ref, float fe,   \
                                       float fi, float ext)                                      \
    {                                                                                            \
        uint32_t w[(sizeof(n4d__##name##_k) + 3) / 4];                                           \
        for (unsigned f = 0; f < sizeof w / sizeof w[0]; f++)                                    \
            w[f] = kw[f][i];                                                                     \
        n4d__##name##_k k;                                                                       \
        memcpy(&k, w, sizeof k);                                                                 \
        return n4d__##name##_step(&k, v, x0, x1, x2, ref, fe, fi, ext);                          \
    }                                                                                            \
    N4D_CLONES                                                                                   \
    static uint64_t kernel_life_##name(KERNEL_PARAMS)                                            \
    {                                                                                            \
        const uint32_t *kw[(sizeof(n4d__##name##_k) + 3) / 4];                                   \
        for (unsigned f = 0; f < sizeof kw / sizeof kw[0]; f++)                                  \
            kw[f] = p->kn + f * p->kn_stride;                                                    \
        const uint8_t *restrict alive = p->alive;                                                \
        KERNEL_LOOP(((void)pc, life_step_##name(kw, i, &v[i], &x0[i], &x1[i], &x2[i], &ref[i],   \
                                                fe, fi, ext) &                                   \
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
            return kernel_life_##name(KERNEL_ARGS(p, a, lo, hi, spk));
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

/* The uniform draw of every neuron of ids [id0, id0 + n) for one part of a
 * Poisson input (the numbers of n4d__poisson_events): the Philox words in a
 * loop the compiler vectorises, then their conversion to double (which
 * AVX2 has no vector form for). */
N4D_CLONES
void n4d__kernel_poisson_u01(uint64_t seed, uint32_t purpose, uint64_t ctr, uint32_t id0,
                             uint64_t n, double *restrict u)
{
    uint32_t w0[256], w1[256];
    for (uint64_t b = 0; b < n; b += 256) {
        const uint64_t m = n - b < 256 ? n - b : 256;
        for (uint64_t j = 0; j < m; j++) {
            const n4d__r4 r = n4d__philox(seed, purpose, id0 + (uint32_t)(b + j), ctr);
            w0[j] = r.v[0];
            w1[j] = r.v[1];
        }
        for (uint64_t j = 0; j < m; j++)
            u[b + j] = n4d__u01(w0[j], w1[j]);
    }
}
