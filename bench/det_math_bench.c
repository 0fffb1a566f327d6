/* The price of determinism in the build: one Box-Muller normal draw with the
 * C library's log and cos against n4d's own (src/core/synapse_gen.h), which
 * the CPU and GPU builds share so that both give the same model. One core,
 * random uniforms, nanoseconds per draw (median of 5 rounds).
 *
 *   build/bench/det_math_bench [draws]     (default 10,000,000) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "synapse_gen.h"
#include "bench_util.h"

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    const long n = argc > 1 ? atol(argv[1]) : 10000000;
    if (n <= 0) {
        fprintf(stderr, "usage: det_math_bench [draws > 0]\n");
        return 2;
    }
    double *u1 = malloc((size_t)n * sizeof *u1), *u2 = malloc((size_t)n * sizeof *u2);
    if (!u1 || !u2)
        return 1;
    for (long i = 0; i < n; i++) {
        n4d__r4 r = n4d__philox(1, 2, 3, (uint64_t)i);
        u1[i] = n4d__u01_open0(r.v[0], r.v[1]);
        u2[i] = n4d__u01(r.v[2], r.v[3]);
    }
    double t[2][5], sink = 0;
    for (int round = 0; round < 5; round++) {
        double t0 = now_s();
        for (long i = 0; i < n; i++)
            sink += sqrt(-2.0 * log(u1[i])) * cos(6.283185307179586 * u2[i]);
        t[0][round] = (now_s() - t0) / (double)n * 1e9;
        t0 = now_s();
        for (long i = 0; i < n; i++)
            sink += sqrt(-2.0 * n4d__det_log(u1[i])) * n4d__det_cos_turn(u2[i]);
        t[1][round] = (now_s() - t0) / (double)n * 1e9;
    }
    qsort(t[0], 5, sizeof(double), cmp_double);
    qsort(t[1], 5, sizeof(double), cmp_double);
    printf("command: det_math_bench %ld\n", n);
    printf("Box-Muller draw, C library log/cos: %.1f ns\n", t[0][2]);
    printf("Box-Muller draw, n4d det_log/cos:   %.1f ns\n", t[1][2]);
    printf("(checksum %g)\n", sink);
    free(u1);
    free(u2);
    return 0;
}
