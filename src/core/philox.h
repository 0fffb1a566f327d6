/* Philox4x32-10 counter-based generator (Salmon et al., SC'11) and the
 * derived draws used by every backend. Randomness is keyed by
 * (seed, purpose, entity, index): no stream is shared between parallel work,
 * so results do not depend on thread count or backend (docs/architecture.md, "Determinism").
 * Header-only; usable from CUDA (N4D_HD). */
#ifndef N4D_PHILOX_H
#define N4D_PHILOX_H

#include <stdint.h>

#ifdef __CUDACC__
#define N4D_HD __host__ __device__ __forceinline__
#else
#define N4D_HD static inline
#endif

/* Purposes (low 8 bits of the fourth counter word; the other 24 bits carry a
 * projection or input index). Never renumber: they define the streams. */
enum {
    N4D_RNG_PLACE = 1,
    N4D_RNG_CONNECT = 2,
    N4D_RNG_WEIGHT = 3,
    N4D_RNG_DELAY = 4,
    N4D_RNG_VINIT = 5,
    N4D_RNG_POISSON = 6,
    N4D_RNG_TARGETS = 7,
    N4D_RNG_POISSON_BLOCK = 8, /* sparse Poisson: the count of a block of steps */
    N4D_RNG_POISSON_PLACE = 9, /* sparse Poisson: the steps of its events */
    /* 10: the cell lifecycle's (lifecycle.h, with 8 and 9 under its own key) */
    N4D_RNG_NOISE = 11         /* noise inputs (inputs.h) */
};

typedef struct n4d__r4 {
    uint32_t v[4];
} n4d__r4;

N4D_HD n4d__r4 n4d__philox(uint64_t seed, uint32_t purpose, uint32_t entity, uint64_t index)
{
    uint32_t c0 = (uint32_t)index, c1 = (uint32_t)(index >> 32), c2 = entity, c3 = purpose;
    uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
    for (int r = 0; r < 10; r++) {
        uint64_t p0 = (uint64_t)0xD2511F53u * c0;
        uint64_t p1 = (uint64_t)0xCD9E8D57u * c2;
        uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0;
        uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
        c1 = (uint32_t)p1;
        c3 = (uint32_t)p0;
        c0 = n0;
        c2 = n2;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    n4d__r4 r = {{c0, c1, c2, c3}};
    return r;
}

/* Uniform double in [0, 1) with 53 random bits from two words. */
N4D_HD double n4d__u01(uint32_t a, uint32_t b)
{
    return (double)(((uint64_t)(a >> 5) << 26) | (b >> 6)) * (1.0 / 9007199254740992.0);
}

/* Uniform double in (0, 1]. */
N4D_HD double n4d__u01_open0(uint32_t a, uint32_t b)
{
    return (double)((((uint64_t)(a >> 5) << 26) | (b >> 6)) + 1) * (1.0 / 9007199254740992.0);
}

/* Uniform integer in [0, n) for n <= 2^32 (Lemire's multiply-shift; the bias
 * is below n / 2^64). */
N4D_HD uint32_t n4d__uint_below(uint32_t a, uint32_t b, uint64_t n)
{
    uint64_t x = ((uint64_t)a << 32) | b;
    /* the high 64 bits of x * n (exact on every path) */
#if defined(__CUDA_ARCH__)
    return (uint32_t)__umul64hi(x, n);
#elif defined(__SIZEOF_INT128__)
    __extension__ typedef unsigned __int128 u128;
    return (uint32_t)(((u128)x * n) >> 64);
#else
    uint64_t xl = (uint32_t)x, xh = x >> 32, nl = (uint32_t)n, nh = n >> 32;
    uint64_t lo = xl * nl, m1 = xh * nl, m2 = xl * nh, hi = xh * nh;
    uint64_t mid = (lo >> 32) + (uint32_t)m1 + (uint32_t)m2;
    return (uint32_t)(hi + (m1 >> 32) + (m2 >> 32) + (mid >> 32));
#endif
}

/* Poisson(lambda) by inversion from one uniform, given exp(-lambda)
 * precomputed on the host; only + * / and compares, so every IEEE backend
 * gives the same count. lambda must be <= 100 (callers split larger ones). */
N4D_HD uint32_t n4d__poisson_inv(double u, double lambda, double exp_neg_lambda)
{
    double p = exp_neg_lambda, cdf = p;
    uint32_t k = 0;
    while (u > cdf && k < 10000) {
        k++;
        p = p * lambda / (double)k;
        cdf = cdf + p;
        if (p == 0.0)
            break;
    }
    return k;
}

#endif
