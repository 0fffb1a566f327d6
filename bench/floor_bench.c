/* floor_bench: the floors that bound a time-driven spiking simulation on
 * this machine, measured (docs/performance.md, "The floor"):
 *
 *   floor_bench --neurons N --fanout K [--threads T] [--steps S] [--events E]
 *
 * 1. update: the least memory traffic and arithmetic of a current-based LIF
 *    neuron-step with exponential synapses (the CUBA benchmark's model), on
 *    N neurons: the state read and written once in its most compact exact
 *    form (v, ge, gi as float, a 16-bit refractory counter: 14 bytes each
 *    way) and the two input accumulators (int32) read and cleared once (8
 *    bytes each way): 44 bytes per neuron-step, vectorised, T threads on
 *    contiguous blocks. Timed over S steps at the model's N, so it runs at
 *    the bandwidth of whatever cache level N's 44 bytes fit in.
 * 2. compute: the same kernel on 2,048 neurons per thread (L1-resident): the
 *    instruction floor of the update.
 * 3. scatter: acc[target] += w for the rows of random sources, K sorted
 *    random targets per row over N accumulators, each thread owning the
 *    targets of its block (as n4d's threads do): seconds per event.
 *
 * 4. first touch (floor_bench --first-touch BYTES [--threads T], alone):
 *    writing BYTES of freshly allocated memory once, T threads on
 *    contiguous blocks: the page faults and page clearing that building a
 *    model of that size cannot avoid (median of 3; JSON first_touch_s).
 *
 * Times are CPU seconds of the process divided by T (the time the work
 * takes when its T threads have the cores: on a shared machine wall time
 * also counts the waits; compare with n4d's CPU time per thread).
 * Prints one JSON line: ns per neuron-step of the update and compute
 * floors, ns per event of the scatter floor (per neuron-step and per event
 * of the whole model, T threads working together), and with --steps
 * and --events the floor of such a run, steps x N x update + events x
 * scatter. bench/bench.py runs it beside each config (the roofline column). */
#define _POSIX_C_SOURCE 200809L
#include "n4d.h"
#include "bench_util.h"

#include <math.h>
#include <stdint.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

typedef struct lif_soa {
    float *v, *ge, *gi;
    uint16_t *ref;
    int32_t *ae, *ai;
} lif_soa;

/* CUBA's constants (Vogels & Abbott 2005 as in Brian2's example), dt 0.1 ms. */
static const float DM = 0.1f / 20.0f, DE = 0.98019867f, DI = 0.99004983f;
static const float V_REST = -49.0f, V_TH = -50.0f, V_RESET = -60.0f, W_SCALE = 1.0f / 65536.0f;
static const uint16_t T_REF = 50;

/* compiled for the widest vectors the CPU has, as n4d's kernels are
 * (src/backend/cpu_kernels.c) */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define FLOOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define FLOOR_CLONES
#endif

/* One step of neurons [lo, hi): the spike count (kept so nothing is dead code). */
FLOOR_CLONES static uint32_t lif_step(const lif_soa *s, size_t lo, size_t hi)
{
    uint32_t spikes = 0;
    float *restrict V = s->v, *restrict GE = s->ge, *restrict GI = s->gi;
    uint16_t *restrict R = s->ref;
    int32_t *restrict AE = s->ae, *restrict AI = s->ai;
    /* selects, no branches: vectorised */
#pragma omp simd reduction(+ : spikes)
    for (size_t i = lo; i < hi; i++) {
        const float ge = GE[i] * DE + (float)AE[i] * W_SCALE;
        const float gi = GI[i] * DI + (float)AI[i] * W_SCALE;
        const float v0 = V[i];
        const int32_t r = R[i];
        const float vi = v0 + (V_REST - v0 + ge + gi) * DM;
        const int32_t busy = r > 0;
        const int32_t fire = (r == 0) & (vi > V_TH);
        V[i] = (busy | fire) ? V_RESET : vi;
        R[i] = (uint16_t)(fire ? (int32_t)T_REF : r - busy);
        GE[i] = ge;
        GI[i] = gi;
        AE[i] = 0;
        AI[i] = 0;
        spikes += (uint32_t)fire;
    }
    return spikes;
}

static void *xalloc(size_t n)
{
    void *p = NULL;
    if (posix_memalign(&p, 64, n ? n : 64)) {
        fprintf(stderr, "floor_bench: out of memory (%zu bytes)\n", n);
        exit(1);
    }
    memset(p, 0, n);
    return p;
}

static void soa_init(lif_soa *s, size_t n)
{
    s->v = xalloc(n * sizeof *s->v);
    s->ge = xalloc(n * sizeof *s->ge);
    s->gi = xalloc(n * sizeof *s->gi);
    s->ref = xalloc(n * sizeof *s->ref);
    s->ae = xalloc(n * sizeof *s->ae);
    s->ai = xalloc(n * sizeof *s->ai);
    for (size_t i = 0; i < n; i++)
        s->v[i] = V_RESET + 10.0f * (float)(i % 97) / 97.0f;
}

static void soa_free(lif_soa *s)
{
    free(s->v), free(s->ge), free(s->gi), free(s->ref), free(s->ae), free(s->ai);
}

static int num_threads(void)
{
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

static int thread_id(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

/* ns per neuron-step of the update of n neurons, T threads on contiguous
 * blocks, at least `min_s` seconds of steps. */
static double time_update(size_t n, double min_s, uint64_t *sink)
{
    lif_soa s;
    soa_init(&s, n);
    const int T = num_threads();
    uint64_t steps = 0, spikes = 0;
    double t0 = cpu_s(), t = 0.0;
    /* a step drives the inputs so that the work is not trivially predictable */
    while ((t = (cpu_s() - t0) / T) < min_s || steps < 20) {
        const uint64_t batch = steps < 20 ? 1 : (uint64_t)(steps / 4 + 1);
#pragma omp parallel reduction(+ : spikes)
        {
            const int k = thread_id();
            const size_t lo = n * (size_t)k / (size_t)T, hi = n * (size_t)(k + 1) / (size_t)T;
            for (uint64_t b = 0; b < batch; b++) {
                s.ae[lo + (steps + b) % (hi - lo ? hi - lo : 1)] = 200000;
                spikes += lif_step(&s, lo, hi);
#pragma omp barrier
            }
        }
        steps += batch;
    }
    *sink += spikes;
    soa_free(&s);
    return t * 1e9 / ((double)steps * (double)n);
}

static uint64_t rng_next(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static int cmp_u32(const void *a, const void *b)
{
    const uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* ns per event of acc[target] += w over n accumulators: each thread owns a
 * block of targets and adds the rows (k sorted random targets in its block)
 * of random sources; at least `events` events in all. */
static double time_scatter(size_t n, uint32_t k, uint64_t events, uint64_t *sink)
{
    const int T = num_threads();
    int32_t *acc = xalloc(n * sizeof *acc);
    const size_t rows = 4096; /* distinct rows per thread: cycled in random order */
    const uint32_t kt = k / (uint32_t)T ? k / (uint32_t)T : 1; /* a row's targets per block */
    uint32_t *tg = xalloc((size_t)T * rows * kt * sizeof *tg);
    int32_t *w = xalloc((size_t)T * rows * kt * sizeof *w);
    for (int th = 0; th < T; th++) {
        const size_t lo = n * (size_t)th / (size_t)T, hi = n * (size_t)(th + 1) / (size_t)T;
        uint64_t x = 0x9E3779B97F4A7C15ull ^ (uint64_t)(th + 1);
        for (size_t r = 0; r < rows; r++) {
            uint32_t *row = tg + ((size_t)th * rows + r) * kt;
            for (uint32_t j = 0; j < kt; j++) {
                row[j] = (uint32_t)(lo + rng_next(&x) % (hi - lo));
                w[((size_t)th * rows + r) * kt + j] = (int32_t)(rng_next(&x) % 1000);
            }
            qsort(row, kt, sizeof *row, cmp_u32);
        }
    }
    const uint64_t rows_per_thread = events / ((uint64_t)kt * (uint64_t)T) + 1;
    const double t0 = cpu_s();
#pragma omp parallel
    {
        const int th = thread_id();
        uint64_t x = 0xD1B54A32D192ED03ull ^ (uint64_t)(th + 7);
        const uint32_t *tgt = tg + (size_t)th * rows * kt;
        const int32_t *wt = w + (size_t)th * rows * kt;
        for (uint64_t e = 0; e < rows_per_thread; e++) {
            const size_t r = (size_t)(rng_next(&x) % rows) * kt;
            for (uint32_t j = 0; j < kt; j++)
                acc[tgt[r + j]] += wt[r + j];
        }
    }
    const double t = (cpu_s() - t0) / T;
    for (size_t i = 0; i < n; i += 4096)
        *sink += (uint64_t)acc[i];
    free(acc), free(tg), free(w);
    return t * 1e9 / ((double)rows_per_thread * (double)kt * (double)T);
}

/* Seconds to write `bytes` of fresh memory once (every page faulted in and
 * cleared by the kernel, then written), median of 3. */
static double time_first_touch(size_t bytes, uint64_t *sink)
{
    const int T = num_threads();
    double t[3];
    for (int r = 0; r < 3; r++) {
        unsigned char *p = NULL; /* not xalloc: its pages are touched already */
        if (posix_memalign((void **)&p, 4096, bytes)) {
            fprintf(stderr, "floor_bench: out of memory (%zu bytes)\n", bytes);
            exit(1);
        }
        const double t0 = cpu_s();
#pragma omp parallel for schedule(static)
        for (size_t i = 0; i < bytes; i += 4096)
            memset(p + i, 1, bytes - i < 4096 ? bytes - i : 4096);
        t[r] = (cpu_s() - t0) / T;
        *sink += p[bytes / 2];
        free(p);
    }
    const double lo = fmin(t[0], fmin(t[1], t[2])), hi = fmax(t[0], fmax(t[1], t[2]));
    return t[0] + t[1] + t[2] - lo - hi;
}

static void usage(void)
{
    fprintf(stderr, "usage: floor_bench --neurons N --fanout K [--threads T] [--steps S] "
                    "[--events E] [--min-seconds X]\n"
                    "       floor_bench --first-touch BYTES [--threads T]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    double n = 0, k = 0, steps = 0, events = 0, min_s = 0.5, touch = 0;
    int threads = 1;
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc)
            usage();
        char *end = NULL;
        const double x = strtod(argv[i + 1], &end);
        if (!end || *end || !(x >= 0) || x > 1e15) {
            fprintf(stderr, "floor_bench: %s: not a number >= 0: \"%s\"\n", argv[i], argv[i + 1]);
            return 2;
        }
        if (!strcmp(argv[i], "--neurons"))
            n = x;
        else if (!strcmp(argv[i], "--fanout"))
            k = x;
        else if (!strcmp(argv[i], "--threads"))
            threads = (int)x;
        else if (!strcmp(argv[i], "--steps"))
            steps = x;
        else if (!strcmp(argv[i], "--events"))
            events = x;
        else if (!strcmp(argv[i], "--min-seconds"))
            min_s = x;
        else if (!strcmp(argv[i], "--first-touch"))
            touch = x;
        else
            usage();
        i++;
    }
    if (threads < 1 || (touch < 1 && (n < 1 || k < 1 || n > 4e9)))
        usage();
#ifdef _OPENMP
    omp_set_num_threads(threads);
#else
    threads = 1;
#endif
    uint64_t sink = 0;
    if (touch >= 1) {
        const double t = time_first_touch((size_t)touch, &sink);
        printf("{\"first_touch_bytes\": %.0f, \"threads\": %d, \"first_touch_s\": %.6f, "
               "\"sink\": %llu}\n",
               touch, threads, t, (unsigned long long)(sink & 1));
        return 0;
    }
    const double upd = time_update((size_t)n, min_s, &sink);
    const double cmp = time_update((size_t)2048 * (size_t)threads, min_s, &sink);
    const double sc = time_scatter((size_t)n, (uint32_t)k, (uint64_t)(4e7 * min_s), &sink);
    const double floor_s = (steps * n * upd + events * sc) * 1e-9;
    printf("{\"neurons\": %.0f, \"fanout\": %.0f, \"threads\": %d, \"update_ns\": %.4f, "
           "\"compute_ns\": %.4f, \"scatter_ns\": %.4f, \"bytes_per_neuron_step\": 44, "
           "\"steps\": %.0f, \"events\": %.0f, \"floor_s\": %.6f, \"sink\": %llu}\n",
           n, k, threads, upd, cmp, sc, steps, events, floor_s,
           (unsigned long long)(sink & 1));
    return 0;
}
