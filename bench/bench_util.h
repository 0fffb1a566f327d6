/* Helpers shared by the benchmark programs of bench/: a monotonic clock and
 * the exit-on-error check of an n4d call. Include after "n4d.h". */
#ifndef N4D_BENCH_UTIL_H
#define N4D_BENCH_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Seconds on the monotonic clock. */
static inline double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Seconds of CPU time of the process (all threads): on a shared machine
 * the time a run actually got, where the wall time also counts the waits. */
static inline double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Runs an n4d call; on failure prints it with h's last error and exits 1. */
#define CHECK_OK(call, h)                                                                           \
    do {                                                                                           \
        n4d_status st_ = (call);                                                                   \
        if (st_) {                                                                                 \
            fprintf(stderr, "%s: %s: %s\n", #call, n4d_status_string(st_), n4d_last_error(h));     \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

#endif
