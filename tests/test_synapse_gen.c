/* The elementary functions of the shared synapse generator
 * (src/core/synapse_gen.h): accuracy against the C library, exactness of the
 * reductions, and their bit patterns. The GPU build is bitwise the CPU build
 * only while both sides evaluate these functions identically; a compiler
 * option that changes their rounding (FMA contraction, fast-math, x87) shows
 * here first, as a changed digest. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "build_draws.h"
#include "synapse_gen.h"

/* test_digest: the expected bits (see there) */
#define N4D_TEST_DET_DIGEST "fa4cfa08b0bff441"

/* 64-bit FNV-1a over the bytes of a double. */
static uint64_t fnv_double(uint64_t h, double x)
{
    const uint64_t b = n4d__dbits(x);
    for (int i = 0; i < 8; i++) {
        h ^= (b >> (8 * i)) & 0xffu;
        h *= 0x100000001b3ull;
    }
    return h;
}

/* Uniform doubles in (0, 1] from the generator's own draws. */
static double u_open0(uint64_t i)
{
    n4d__r4 r = n4d__philox(12345, 99, 7, i);
    return n4d__u01_open0(r.v[0], r.v[1]);
}

static void test_log_accuracy(void **state)
{
    (void)state;
    double worst = 0.0;
    for (uint64_t i = 0; i < 200000; i++) {
        /* (0, 1] as the normal draws use it, and a wide range beyond */
        const double x = i % 2 ? u_open0(i) : ldexp(1.0 + u_open0(i), (int)(i % 400) - 200);
        const double got = n4d__det_log(x), want = log(x);
        const double err = fabs(got - want) / fmax(fabs(want), 1e-300);
        if (want != 0.0 && err > worst)
            worst = err;
    }
    if (!(worst < 5e-16))
        fail_msg("n4d__det_log: relative error %.3g (expected < 5e-16)", worst);
    assert_true(n4d__det_log(1.0) == 0.0);
    assert_true(fabs(n4d__det_log(2.0) - 0.6931471805599453) < 2e-16);
}

static void test_cos_accuracy(void **state)
{
    (void)state;
    double worst = 0.0;
    for (uint64_t i = 0; i < 200000; i++) {
        const double u = u_open0(i) - ldexp(1.0, -53); /* [0, 1) */
        const double err = fabs(n4d__det_cos_turn(u) - cos(6.283185307179586 * u));
        if (err > worst)
            worst = err;
    }
    /* the reference's own argument 2 pi u is rounded: about 1e-15 near u = 1 */
    if (!(worst < 2e-15))
        fail_msg("n4d__det_cos_turn: absolute error %.3g (expected < 2e-15)", worst);
    /* the quadrants are exact */
    assert_true(n4d__det_cos_turn(0.0) == 1.0);
    assert_true(n4d__det_cos_turn(0.5) == -1.0);
    assert_true(fabs(n4d__det_cos_turn(0.25)) < 1e-16);
    assert_true(fabs(n4d__det_cos_turn(0.75)) < 1e-16);
}

static void test_exp_accuracy(void **state)
{
    (void)state;
    double worst = 0.0;
    for (uint64_t i = 0; i < 200000; i++) {
        const double x = -740.0 * u_open0(i);
        const double want = exp(x), got = n4d__det_exp_neg(x);
        const double err = want > 1e-300 ? fabs(got - want) / want : 0.0;
        if (err > worst)
            worst = err;
    }
    if (!(worst < 5e-16))
        fail_msg("n4d__det_exp_neg: relative error %.3g (expected < 5e-16)", worst);
    assert_true(n4d__det_exp_neg(0.0) == 1.0);
    assert_true(n4d__det_exp_neg(-800.0) == 0.0);
    assert_true(n4d__det_exp_neg(-INFINITY) == 0.0);
    assert_true(n4d__det_exp_neg(NAN) == 0.0);
}

/* The normal draws keep the distribution: mean 0, variance 1, tails. */
static void test_normal_moments(void **state)
{
    (void)state;
    const n4d_dist d = {N4D_DIST_NORMAL, 0.0, 1.0, -INFINITY, INFINITY};
    const uint64_t n = 400000;
    double s1 = 0, s2 = 0, s4 = 0;
    uint64_t beyond3 = 0;
    for (uint64_t i = 0; i < n; i++) {
        const double z = n4d__sg_draw(&d, 77, 3, (uint32_t)(i % 1000), i / 1000);
        s1 += z;
        s2 += z * z;
        s4 += z * z * z * z;
        beyond3 += fabs(z) > 3.0;
    }
    const double mean = s1 / (double)n, var = s2 / (double)n - mean * mean, kurt = s4 / (double)n;
    if (!(fabs(mean) < 5.0 / sqrt((double)n) && fabs(var - 1.0) < 5.0 * sqrt(2.0 / (double)n) &&
          fabs(kurt - 3.0) < 5.0 * sqrt(96.0 / (double)n)))
        fail_msg("normal draws: mean %.4g, variance %.4g, fourth moment %.4g", mean, var, kurt);
    /* P(|z| > 3) = 0.0026998 */
    const double p3 = (double)beyond3 / (double)n;
    if (!(fabs(p3 - 0.0026998) < 5.0 * sqrt(0.0027 / (double)n)))
        fail_msg("normal draws: P(|z| > 3) = %.5f (expected 0.00270)", p3);
}

/* The bits of 30,000 values of each function. A different digest means the
 * host compiler evaluates them differently than when this test was written,
 * and so (probably) differently than the device. */
static void test_digest(void **state)
{
    (void)state;
    uint64_t h = 0xcbf29ce484222325ull;
    for (uint64_t i = 0; i < 30000; i++) {
        const double u = u_open0(i);
        h = fnv_double(h, n4d__det_log(u));
        h = fnv_double(h, n4d__det_cos_turn(u - ldexp(1.0, -53)));
        h = fnv_double(h, n4d__det_exp_neg(-50.0 * u));
    }
    char got[32];
    snprintf(got, sizeof got, "%016llx", (unsigned long long)h);
    print_message("digest of the deterministic functions: %s\n", got);
    assert_string_equal(got, N4D_TEST_DET_DIGEST);
}

/* The CPU build draws a row's weights and delays a block at a time in
 * vector loops (build_draws.c): every synapse must get the bits that
 * n4d__sg_make gives it, for every distribution, synapse type and row
 * length (blocks and their remainders). */
static void test_make_row_bitwise(void **state)
{
    (void)state;
    const n4d_dist dists[] = {
        {N4D_DIST_CONSTANT, 0.75, 0, 0, 0},
        {N4D_DIST_CONSTANT, -1.25, 0, 0, 0},
        {N4D_DIST_UNIFORM, 0, 0, -2.0, 3.0},
        {N4D_DIST_UNIFORM, 0, 0, 0.1, 6.0},
        {N4D_DIST_NORMAL, 1.5, 0.4, -INFINITY, INFINITY},
        {N4D_DIST_NORMAL, 0.3, 1.2, 0.05, 2.0},  /* clipped on both sides */
        {N4D_DIST_NORMAL, -0.5, 0.2, -1.0, 0.0},
    };
    const int nd = (int)(sizeof dists / sizeof dists[0]);
    const int types[] = {N4D_SYN_EXCITATORY, N4D_SYN_INHIBITORY, N4D_SYN_AUTO};
    const uint64_t lengths[] = {0, 1, 7, 64, 65, 1000};
    static n4d__gen_syn got[1000], want[1000];
    uint64_t checked = 0;
    for (int wi = 0; wi < nd; wi++)
        for (int di = 0; di < nd; di++)
            for (int ti = 0; ti < 3; ti++)
                for (int li = 0; li < 6; li++) {
                    n4d__sg_proj P;
                    memset(&P, 0, sizeof P);
                    P.index = (uint32_t)(wi * 7 + di);
                    P.syn_type = types[ti];
                    P.dt = 0.1;
                    P.weight = dists[wi];
                    P.delay = dists[di];
                    P.const_weight = dists[wi].kind == N4D_DIST_CONSTANT;
                    P.const_delay = dists[di].kind == N4D_DIST_CONSTANT;
                    P.weight_c = (float)dists[wi].value;
                    P.delay_c = n4d__delay_steps(fabs(dists[di].value), 0.1);
                    const uint64_t n = lengths[li];
                    const uint32_t entity = (uint32_t)(li * 1000 + ti);
                    for (uint64_t i = 0; i < n; i++) {
                        got[i].target = want[i].target = (uint32_t)(i * 3);
                        n4d__sg_make(&P, 42, entity, i, want[i].target, &want[i]);
                    }
                    n4d__build_make_row(&P, 42, entity, got, n);
                    for (uint64_t i = 0; i < n; i++) {
                        if (memcmp(&got[i], &want[i], sizeof got[i]) != 0)
                            fail_msg("weight %d, delay %d, type %d, synapse %llu of %llu: "
                                     "weight %.9g key %u, n4d__sg_make: %.9g key %u",
                                     wi, di, ti, (unsigned long long)i, (unsigned long long)n,
                                     (double)got[i].weight, got[i].key, (double)want[i].weight,
                                     want[i].key);
                        checked++;
                    }
                }
    assert_true(checked > 100000);
}

/* The host's bulk draws and sorts (build_draws.c) against the reference
 * versions the device runs (synapse_gen.h): the same values, for counters
 * near a 2^32 boundary, odd counts, ranges up to 2^32, duplicates. */
static void test_host_draws_and_sorts(void **state)
{
    (void)state;
    static uint32_t a[3000], b[3000], tmp[3000];
    const uint64_t ranges[] = {1, 2, 77, 20683, 160000, 1u << 23, (1u << 23) + 1, 4294967295u,
                               4294967296u};
    const uint64_t counters[] = {0, 5, (7ull << 20) + 3, 0xffffffffull - 40, 0x1ffffffffull};
    const uint64_t counts[] = {0, 1, 2, 31, 32, 33, 128, 129, 257, 2999};
    for (int ri = 0; ri < 9; ri++)
        for (int ci = 0; ci < 5; ci++)
            for (int ni = 0; ni < 10; ni++) {
                const uint64_t range = ranges[ri], n = counts[ni];
                n4d__sg_uniform_below_ref(9, 7, 123, counters[ci], n, range, a);
                n4d__build_uniform_below(9, 7, 123, counters[ci], n, range, b);
                assert_true(memcmp(a, b, n * sizeof *a) == 0);
                /* sorts of values below the range (duplicates where it is small) */
                memcpy(b, a, n * sizeof *a);
                n4d__radix_sort_u32(a, tmp, n);
                n4d__build_sort_below(b, tmp, n, range);
                assert_true(memcmp(a, b, n * sizeof *a) == 0);
                if (n <= N4D__FP_MAX_K) {
                    n4d__sg_uniform_below_ref(9, 7, 123, counters[ci], n, range, a);
                    memcpy(b, a, n * sizeof *a);
                    n4d__sg_sort_uniform(a, n, range);
                    n4d__build_sort_chunk(b, n, range);
                    assert_true(memcmp(a, b, n * sizeof *a) == 0);
                }
            }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log_accuracy),   cmocka_unit_test(test_cos_accuracy),
        cmocka_unit_test(test_exp_accuracy),   cmocka_unit_test(test_normal_moments),
        cmocka_unit_test(test_digest),         cmocka_unit_test(test_make_row_bitwise),
        cmocka_unit_test(test_host_draws_and_sorts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
