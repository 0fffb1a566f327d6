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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log_accuracy),   cmocka_unit_test(test_cos_accuracy),
        cmocka_unit_test(test_exp_accuracy),   cmocka_unit_test(test_normal_moments),
        cmocka_unit_test(test_digest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
