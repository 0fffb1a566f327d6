/* Philox4x32-10 (philox.h) for 8 counters at once in AVX2, for the CPU's
 * bulk draws: the same words as n4d__philox, lane by lane. GCC on x86-64
 * only (N4D_PHILOX_AVX2 says whether it is there); callers check
 * n4d__cpu_has_avx2() before calling it. */
#ifndef N4D_PHILOX_AVX2_H
#define N4D_PHILOX_AVX2_H

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#include <immintrin.h>
#include <stdatomic.h>
#include <stdint.h>

#define N4D_PHILOX_AVX2 1

/* Whether this CPU has AVX2 (asked once; every thread gets the same answer). */
static inline int n4d__cpu_has_avx2(void)
{
    static _Atomic int has = -1;
    int h = atomic_load_explicit(&has, memory_order_relaxed);
    if (h < 0) {
        h = __builtin_cpu_supports("avx2") ? 1 : 0;
        atomic_store_explicit(&has, h, memory_order_relaxed);
    }
    return h;
}

/* The ten rounds on counters c[0..3] (8 lanes each) with key (k0, k1); the
 * words replace the counters. The 32x32 -> 64 products of the even lanes
 * and of the odd lanes are blended back (same integers, same bits). */
__attribute__((target("avx2"))) static inline void n4d__philox8_avx2(__m256i c[4], uint32_t k0,
                                                                    uint32_t k1)
{
    const __m256i m0 = _mm256_set1_epi32((int)0xD2511F53u), m1 = _mm256_set1_epi32((int)0xCD9E8D57u);
    __m256i c0 = c[0], c1 = c[1], c2 = c[2], c3 = c[3];
    for (int r = 0; r < 10; r++) {
        const __m256i e0 = _mm256_mul_epu32(c0, m0), o0 = _mm256_mul_epu32(_mm256_srli_epi64(c0, 32), m0);
        const __m256i e1 = _mm256_mul_epu32(c2, m1), o1 = _mm256_mul_epu32(_mm256_srli_epi64(c2, 32), m1);
        const __m256i hi0 = _mm256_blend_epi32(_mm256_srli_epi64(e0, 32), o0, 0xAA);
        const __m256i lo0 = _mm256_blend_epi32(e0, _mm256_slli_epi64(o0, 32), 0xAA);
        const __m256i hi1 = _mm256_blend_epi32(_mm256_srli_epi64(e1, 32), o1, 0xAA);
        const __m256i lo1 = _mm256_blend_epi32(e1, _mm256_slli_epi64(o1, 32), 0xAA);
        const __m256i n0 = _mm256_xor_si256(_mm256_xor_si256(hi1, c1), _mm256_set1_epi32((int)k0));
        const __m256i n2 = _mm256_xor_si256(_mm256_xor_si256(hi0, c3), _mm256_set1_epi32((int)k1));
        c1 = lo1;
        c3 = lo0;
        c0 = n0;
        c2 = n2;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    c[0] = c0;
    c[1] = c1;
    c[2] = c2;
    c[3] = c3;
}
#endif

#endif
