/* Sparse sampling of Poisson inputs ("sampling": "sparse", src/core/poisson.h):
 * the events of a block of steps drawn as a Poisson count placed uniformly.
 *
 *   statistics  parrot neurons (a spike per step with input) driven at
 *               30 Hz (0.003 events per step, blocks of 4096 steps): the
 *               event counts per neuron are Poisson (mean and variance),
 *               the events are spread evenly over the steps of a block and
 *               independent between steps (no block artefacts); an input
 *               with a time window gives events only inside it;
 *   bitwise     the same spike trains on cpu-ref, cpu-omp with 1, 2 and 4
 *               threads, runs cut into odd lengths, and a Z-order layout;
 *   high rate   a rate of several events per step (block of one step):
 *               the mean count per step still matches;
 *   tables      per-step ("blocks" is the default) inputs of 0.01, 2, 20
 *               and 150 events per step (two parts of 75), counted by the
 *               CPU backends' inversion tables (poisson.h) on cpu-omp:
 *               the synaptic currents they leave are bitwise those of
 *               cpu-ref's plain inversion, with and without Z-order;
 *   file        a saved and reloaded model keeps the sampling;
 *   errors      an unknown sampling in a config and through the API, a
 *               sampling on a DC input, and the cuda backend, which does
 *               not sample blocks longer than the delay ring
 *               (N4D_E_UNSUPPORTED, or not built);
 *   ring        blocks that fit the delay ring, added at their first step:
 *               bitwise across cpu-ref, cpu-omp threads, run lengths,
 *               Z-order and cuda (the mock as ctest test_poisson_cuda_mock),
 *               the same events as the same blocks cached (a model with a
 *               shorter delay), a windowed input silent outside its window,
 *               and a checkpoint in the middle of a block resumed on other
 *               thread counts and cpu-ref. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "n4d.h"
#include "test_util.h"

enum { N = 2000, STEPS = 40000, BLOCK = 4096 };
static const double LAMBDA = 30.0 * 1e-3 * 0.1; /* events per step */

/* "in": N parrots at 30 Hz; "win": N parrots at 30 Hz between 1 and 2 s;
 * "out": 100 lif_exp neurons fed by "in". */
static const char CONFIG[] =
    "{\"dt\": 0.1, \"seed\": 7, \"lattice_shape\": [2000, 3, 1, 1],\n"
    " \"areas\": [\n"
    "  {\"name\": \"a0\", \"coord_ranges\": {\"x\": [0, 1999], \"y\": [0, 0], \"z\": [0, 0], \"w\": [0, 0]}},\n"
    "  {\"name\": \"a1\", \"coord_ranges\": {\"x\": [0, 1999], \"y\": [1, 1], \"z\": [0, 0], \"w\": [0, 0]}},\n"
    "  {\"name\": \"a2\", \"coord_ranges\": {\"x\": [0, 99], \"y\": [2, 2], \"z\": [0, 0], \"w\": [0, 0]}}],\n"
    " \"populations\": [\n"
    "  {\"name\": \"in\", \"area\": \"a0\", \"model\": \"parrot\"},\n"
    "  {\"name\": \"win\", \"area\": \"a1\", \"model\": \"parrot\"},\n"
    "  {\"name\": \"out\", \"area\": \"a2\", \"model\": \"lif_exp\"}],\n"
    " \"projections\": [\n"
    "  {\"source\": \"in\", \"target\": \"out\", \"rule\": \"fixed_probability\", \"p\": 0.1,\n"
    "   \"weight\": 1.5, \"delay\": 0.1}],\n"
    " \"inputs\": [\n"
    "  {\"type\": \"poisson\", \"target\": \"in\", \"rate\": 30, \"sampling\": \"sparse\"},\n"
    "  {\"type\": \"poisson\", \"target\": \"win\", \"rate\": 30, \"sampling\": \"sparse\",\n"
    "   \"start\": 1000, \"stop\": 2000}]}\n";

typedef struct train {
    uint64_t n, checksum;
    uint64_t *steps;
    uint32_t *ids;
} train;

static n4d_model *load(n4d_context *ctx, const char *json, int zorder)
{
    n4d_model *m = NULL;
    ASSERT_OK(n4d_model_from_json_string(ctx, json, strlen(json), "sparse", &m), ctx);
    if (zorder) {
        n4d_layout_options lo;
        n4d_layout_options_init(&lo);
        lo.order = N4D_ORDER_ZORDER;
        ASSERT_OK(n4d_model_set_layout(m, &lo), m);
    }
    ASSERT_OK(n4d_model_build(m), m);
    return m;
}

/* Runs `steps` steps in the chunks of `chunks` (0-terminated, the last one
 * repeated) and returns the spike train. */
static train run_cfg(const char *json, const char *backend, int32_t threads, int zorder,
                     const uint64_t *chunks, uint64_t steps)
{
    n4d_context *ctx = NULL;
    assert_int_equal(n4d_context_create(NULL, &ctx), N4D_OK);
    n4d_model *m = load(ctx, json, zorder);
    n4d_sim *sim = sim_on(m, backend, threads);
    uint64_t done = 0;
    for (size_t k = 0; done < steps; k += chunks[k + 1] != 0) {
        const uint64_t c = chunks[k] < steps - done ? chunks[k] : steps - done;
        ASSERT_OK(n4d_sim_run(sim, c), sim);
        done += c;
    }
    train t;
    const uint64_t *sp;
    const uint32_t *id;
    ASSERT_OK(n4d_sim_spikes(sim, &sp, &id, &t.n), sim);
    t.steps = malloc((t.n ? t.n : 1) * sizeof *t.steps);
    t.ids = malloc((t.n ? t.n : 1) * sizeof *t.ids);
    assert_true(t.steps && t.ids);
    memcpy(t.steps, sp, t.n * sizeof *sp);
    memcpy(t.ids, id, t.n * sizeof *id);
    t.checksum = n4d_sim_checksum(sim);
    n4d_sim_destroy(sim);
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
    return t;
}

static train run(const char *backend, int32_t threads, int zorder, const uint64_t *chunks,
                 uint64_t steps)
{
    return run_cfg(CONFIG, backend, threads, zorder, chunks, steps);
}

static void train_free(train *t)
{
    free(t->steps);
    free(t->ids);
}

static void test_statistics(void **state)
{
    (void)state;
    const uint64_t whole[] = {STEPS, 0};
    train t = run("cpu-omp", 2, 0, whole, STEPS);
    uint64_t *count = calloc(2 * N, sizeof *count);
    uint64_t half[2] = {0, 0}, pairs = 0, in_total = 0;
    uint8_t *prev = calloc(N, 1), *cur = calloc(N, 1);
    assert_true(count && prev && cur);
    uint64_t step = UINT64_MAX;
    for (uint64_t k = 0; k < t.n; k++) {
        const uint32_t i = t.ids[k];
        if (t.steps[k] != step) { /* a new step: the previous one becomes prev */
            const int next = t.steps[k] == step + 1;
            uint8_t *x = prev;
            prev = cur;
            cur = x;
            memset(cur, 0, N);
            if (!next)
                memset(prev, 0, N);
            step = t.steps[k];
        }
        if (i >= 2 * N)
            continue;
        count[i]++;
        if (i < N) {
            in_total++;
            if (t.steps[k] < (STEPS / BLOCK) * BLOCK) /* whole blocks */
                half[(t.steps[k] % BLOCK) >= BLOCK / 2]++;
            pairs += prev[i]; /* spiked in the step before too */
            cur[i] = 1;
        } else {
            CHECK(t.steps[k] >= 10000 && t.steps[k] < 20000,
                  "win neuron %u has an event at step %llu, outside [10000, 20000)", i - N,
                  (unsigned long long)t.steps[k]);
        }
    }
    /* spiking steps of "in": N * STEPS * (1 - e^-lambda), sd about its root */
    const double want = (double)N * STEPS * (1.0 - exp(-LAMBDA));
    CHECK(fabs((double)in_total - want) < 5.0 * sqrt(want), "in: %llu spiking steps, expected %.0f",
          (unsigned long long)in_total, want);
    /* per neuron: Poisson counts (variance / mean near 1) */
    double mean = 0.0, var = 0.0;
    for (uint32_t i = 0; i < N; i++)
        mean += (double)count[i] / N;
    for (uint32_t i = 0; i < N; i++)
        var += ((double)count[i] - mean) * ((double)count[i] - mean) / (N - 1);
    CHECK(fabs(var / mean - 1.0) < 0.15, "in: count variance / mean = %.3f (mean %.1f)", var / mean,
          mean);
    /* the two halves of each block get the same share */
    const double nh = (double)(half[0] + half[1]), h = (double)half[0] / nh;
    CHECK(fabs(h - 0.5) < 5.0 * sqrt(0.25 / nh), "first half of blocks: %.4f", h);
    /* a spike in the step before is no more likely than lambda */
    const double pw = (double)in_total * LAMBDA;
    CHECK(fabs((double)pairs - pw) < 5.0 * sqrt(pw) + 5.0, "spikes in consecutive steps: %llu, "
          "expected %.0f", (unsigned long long)pairs, pw);
    /* the windowed input: 1 s of the 4 at the same rate */
    uint64_t win_total = 0;
    for (uint32_t i = N; i < 2 * N; i++)
        win_total += count[i];
    const double wwant = want / 4.0;
    CHECK(fabs((double)win_total - wwant) < 5.0 * sqrt(wwant), "win: %llu spikes, expected %.0f",
          (unsigned long long)win_total, wwant);
    free(count);
    free(prev);
    free(cur);
    train_free(&t);
}

static void same_train(const char *what, const train *a, const train *b)
{
    CHECK(a->n == b->n, "%s: %llu spikes, reference %llu", what, (unsigned long long)b->n,
          (unsigned long long)a->n);
    for (uint64_t k = 0; k < a->n; k++)
        CHECK(a->steps[k] == b->steps[k] && a->ids[k] == b->ids[k],
              "%s: spike %llu is (%llu, %u), reference (%llu, %u)", what, (unsigned long long)k,
              (unsigned long long)b->steps[k], b->ids[k], (unsigned long long)a->steps[k],
              a->ids[k]);
    CHECK(a->checksum == b->checksum, "%s: checksum differs", what);
}

typedef struct run_case {
    const char *name, *backend;
    int32_t threads;
    int zorder;
    const uint64_t *chunks;
} run_case;

/* Each case's run of `json` for `steps` steps has the train ref. */
static void same_in_cases(const char *json, const train *ref, const run_case *cases, size_t n,
                          uint64_t steps)
{
    for (size_t c = 0; c < n; c++) {
        train t = run_cfg(json, cases[c].backend, cases[c].threads, cases[c].zorder,
                          cases[c].chunks, steps);
        same_train(cases[c].name, ref, &t);
        train_free(&t);
    }
}

static void test_bitwise(void **state)
{
    (void)state;
    const uint64_t whole[] = {5000, 0}, odd[] = {1, 7, 300, 1, 999, 0};
    train ref = run("cpu-ref", 1, 0, whole, 5000);
    assert_true(ref.n > 1000);
    const run_case cases[] = {
        {"cpu-omp 1 thread", "cpu-omp", 1, 0, whole},
        {"cpu-omp 2 threads", "cpu-omp", 2, 0, whole},
        {"cpu-omp 4 threads, odd run lengths", "cpu-omp", 4, 0, odd},
        {"cpu-ref, odd run lengths", "cpu-ref", 1, 0, odd},
        {"cpu-omp 3 threads, Z-order", "cpu-omp", 3, 1, odd},
        {"cpu-ref, Z-order", "cpu-ref", 1, 1, whole},
    };
    same_in_cases(CONFIG, &ref, cases, sizeof cases / sizeof *cases, 5000);
    train_free(&ref);
}

/* 8 events per step on average (n_sources 40 at 200 Hz, dt 1): blocks of
 * one step; the parrot's v is the event count of the step. */
static void test_high_rate(void **state)
{
    (void)state;
    static const char cfg[] =
        "{\"dt\": 1.0, \"seed\": 2, \"lattice_shape\": [500, 1, 1, 1],\n"
        " \"areas\": [{\"name\": \"a\", \"coord_ranges\": {\"x\": [0, 499], \"y\": [0, 0], "
        "\"z\": [0, 0], \"w\": [0, 0]}}],\n"
        " \"populations\": [{\"name\": \"p\", \"area\": \"a\", \"model\": \"parrot\"}],\n"
        " \"inputs\": [{\"type\": \"poisson\", \"target\": \"p\", \"rate\": 200, \"n_sources\": 40,\n"
        "   \"sampling\": \"sparse\"}]}\n";
    n4d_context *ctx = NULL;
    assert_int_equal(n4d_context_create(NULL, &ctx), N4D_OK);
    n4d_model *m = load(ctx, cfg, 0);
    n4d_sim *sim = NULL;
    ASSERT_OK(n4d_sim_create(m, NULL, &sim), m);
    float v[500];
    double sum = 0.0, sq = 0.0;
    const int steps = 200;
    for (int k = 0; k < steps; k++) {
        ASSERT_OK(n4d_sim_step(sim), sim);
        ASSERT_OK(n4d_sim_get_state(sim, "v", v, 500), sim);
        for (int i = 0; i < 500; i++) {
            sum += v[i];
            sq += (double)v[i] * v[i];
        }
    }
    const double n = 500.0 * steps, mean = sum / n, var = sq / n - mean * mean;
    CHECK(fabs(mean - 8.0) < 5.0 * sqrt(8.0 / n), "mean events per step %.4f, expected 8", mean);
    CHECK(fabs(var / mean - 1.0) < 0.05, "variance / mean %.4f, expected 1", var / mean);
    n4d_sim_destroy(sim);
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
}

static void test_file_round_trip(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    assert_int_equal(n4d_context_create(NULL, &ctx), N4D_OK);
    n4d_model *m = load(ctx, CONFIG, 0);
    char path[] = "/tmp/n4d_sparse_XXXXXX";
    const int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    n4d_status st = n4d_model_save(m, path, NULL);
    if (st == N4D_E_NOT_BUILT) { /* no HDF5 in this build */
        unlink(path);
        n4d_model_destroy(m);
        n4d_context_destroy(ctx);
        skip();
    }
    ASSERT_OK(st, m);
    n4d_model *l = NULL;
    ASSERT_OK(n4d_model_load(ctx, path, NULL, &l), ctx);
    unlink(path);
    n4d_sim *a = NULL, *b = NULL;
    ASSERT_OK(n4d_sim_create(m, NULL, &a), m);
    ASSERT_OK(n4d_sim_create(l, NULL, &b), l);
    ASSERT_OK(n4d_sim_run(a, 3000), a);
    ASSERT_OK(n4d_sim_run(b, 3000), b);
    assert_true(n4d_sim_total_spikes(a) > 0);
    assert_int_equal(n4d_sim_checksum(a), n4d_sim_checksum(b));
    n4d_sim_destroy(a);
    n4d_sim_destroy(b);
    n4d_model_destroy(l);
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
}

static void test_errors(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    assert_int_equal(n4d_context_create(NULL, &ctx), N4D_OK);
    /* config: an unknown sampling, and one on a DC input */
#define AREA                                                                                       \
    "\"areas\": [{\"name\": \"a\", \"coord_ranges\": {\"x\": [0, 1], \"y\": [0, 0], \"z\": [0, 0], "  \
    "\"w\": [0, 0]}}]"
    static const char *const bad[][2] = {
        {"{\"lattice_shape\": [2, 1, 1, 1], " AREA ", \"populations\": [{\"name\": \"p\", "
         "\"area\": \"a\"}], \"inputs\": "
         "[{\"type\": \"poisson\", \"target\": \"p\", \"rate\": 5, \"sampling\": \"blocks\"}]}",
         "inputs[0].sampling"},
        {"{\"lattice_shape\": [2, 1, 1, 1], " AREA ", \"populations\": [{\"name\": \"p\", "
         "\"area\": \"a\"}], \"inputs\": "
         "[{\"type\": \"dc\", \"target\": \"p\", \"amplitude\": 5, \"sampling\": \"sparse\"}]}",
         "\"sampling\" does not apply to input type \"dc\""},
    };
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        n4d_model *m = NULL;
        const n4d_status st = n4d_model_from_json_string(ctx, bad[k][0], strlen(bad[k][0]), "bad", &m);
        CHECK(st != N4D_OK && m == NULL, "bad config %zu was accepted", k);
        CHECK(strstr(n4d_last_error(ctx), bad[k][1]) != NULL, "bad config %zu: \"%s\" lacks \"%s\"",
              k, n4d_last_error(ctx), bad[k][1]);
    }
    /* API: an unknown value */
    n4d_model *m = NULL;
    ASSERT_OK(n4d_model_create(ctx, &m), ctx);
    const int32_t lo[4] = {0, 0, 0, 0}, hi[4] = {0, 0, 0, 0};
    ASSERT_OK(n4d_model_add_area(m, "a", lo, hi), m);
    n4d_population_desc pd;
    n4d_population_desc_init(&pd);
    pd.name = "p";
    pd.area = "a";
    ASSERT_OK(n4d_model_add_population(m, &pd, NULL), m);
    n4d_input_desc in;
    n4d_input_desc_init(&in);
    in.kind = N4D_INPUT_POISSON;
    in.target = "p";
    in.rate = 10.0;
    in.sampling = 7;
    assert_int_equal(n4d_model_add_input(m, &in), N4D_E_INVALID_ARG);
    assert_non_null(strstr(n4d_last_error(m), "sampling"));
    /* cuda: refused, so that "auto" runs such a model on the CPU */
    in.sampling = N4D_POISSON_SPARSE;
    ASSERT_OK(n4d_model_add_input(m, &in), m);
    ASSERT_OK(n4d_model_build(m), m);
    n4d_sim_options o;
    n4d_sim_options_init(&o);
    o.backend = "cuda";
    n4d_sim *sim = NULL;
    const n4d_status st = n4d_sim_create(m, &o, &sim);
    CHECK(st == N4D_E_UNSUPPORTED || st == N4D_E_NOT_BUILT, "cuda with a sparse input: %d", (int)st);
    if (st == N4D_E_UNSUPPORTED)
        assert_non_null(strstr(n4d_last_error(m), "sparse"));
    assert_null(sim);
    o.backend = "auto";
    ASSERT_OK(n4d_sim_create(m, &o, &sim), m);
    assert_true(strncmp(n4d_sim_backend(sim), "cpu", 3) == 0);
    n4d_sim_destroy(sim);
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
}

/* Four lif_exp populations with an unreachable threshold, each under one
 * per-step input: the ge they end with records every count drawn. */
static const char DENSE[] =
    "{\"dt\": 0.1, \"seed\": 3, \"lattice_shape\": [300, 4, 1, 1],\n"
    " \"areas\": [\n"
    "  {\"name\": \"a0\", \"coord_ranges\": {\"x\": [0, 299], \"y\": [0, 0], \"z\": [0, 0], \"w\": [0, 0]}},\n"
    "  {\"name\": \"a1\", \"coord_ranges\": {\"x\": [0, 299], \"y\": [1, 1], \"z\": [0, 0], \"w\": [0, 0]}},\n"
    "  {\"name\": \"a2\", \"coord_ranges\": {\"x\": [0, 299], \"y\": [2, 2], \"z\": [0, 0], \"w\": [0, 0]}},\n"
    "  {\"name\": \"a3\", \"coord_ranges\": {\"x\": [0, 299], \"y\": [3, 3], \"z\": [0, 0], \"w\": [0, 0]}}],\n"
    " \"populations\": [\n"
    "  {\"name\": \"p0\", \"area\": \"a0\", \"model\": \"lif_exp\", \"params\": {\"v_threshold\": 1e30}},\n"
    "  {\"name\": \"p1\", \"area\": \"a1\", \"model\": \"lif_exp\", \"params\": {\"v_threshold\": 1e30}},\n"
    "  {\"name\": \"p2\", \"area\": \"a2\", \"model\": \"lif_exp\", \"params\": {\"v_threshold\": 1e30}},\n"
    "  {\"name\": \"p3\", \"area\": \"a3\", \"model\": \"lif_exp\", \"params\": {\"v_threshold\": 1e30}}],\n"
    " \"projections\": [],\n"
    " \"inputs\": [\n"
    "  {\"type\": \"poisson\", \"target\": \"p0\", \"rate\": 100, \"weight\": 1.0},\n"
    "  {\"type\": \"poisson\", \"target\": \"p1\", \"rate\": 20, \"n_sources\": 1000, \"weight\": 0.5},\n"
    "  {\"type\": \"poisson\", \"target\": \"p2\", \"rate\": 200, \"n_sources\": 1000, \"weight\": 0.25},\n"
    "  {\"type\": \"poisson\", \"target\": \"p3\", \"rate\": 1500, \"n_sources\": 1000, \"weight\": -0.01}]}\n";

/* ge and gi of every neuron after 400 steps (out: 2 * 1200 floats). */
static void dense_currents(const char *backend, int32_t threads, int zorder, float *out)
{
    n4d_context *ctx = NULL;
    assert_int_equal(n4d_context_create(NULL, &ctx), N4D_OK);
    n4d_model *m = load(ctx, DENSE, zorder);
    n4d_sim *sim = sim_on(m, backend, threads);
    ASSERT_OK(n4d_sim_run(sim, 400), sim);
    ASSERT_OK(n4d_sim_get_state(sim, "ge", out, 1200), sim);
    ASSERT_OK(n4d_sim_get_state(sim, "gi", out + 1200, 1200), sim);
    n4d_sim_destroy(sim);
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
}

static void test_dense_tables(void **state)
{
    (void)state;
    static float ref[2400], got[2400];
    dense_currents("cpu-ref", 1, 0, ref);
    /* every population got input: ge (p0..p2) and gi (p3) are not zero */
    for (int p = 0; p < 3; p++)
        CHECK(ref[p * 300] > 0.0f, "population p%d got no input", p);
    CHECK(ref[1200 + 900] < 0.0f, "population p3 got no input");
    const struct {
        const char *backend;
        int32_t threads;
        int zorder;
    } cases[] = {{"cpu-omp", 1, 0}, {"cpu-omp", 2, 0}, {"cpu-omp", 2, 1}, {"cpu-ref", 1, 1}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        dense_currents(cases[c].backend, cases[c].threads, cases[c].zorder, got);
        for (int k = 0; k < 2400; k++)
            ASSERT_FLOAT_BITS(got[k], ref[k], cases[c].backend, k);
    }
}

/* Blocks that go straight into the delay ring (block_ring, poisson.h):
 * "in" and "win" (its window from step 123 to 477, inside blocks) are 600
 * parrots each at 0.05 events per step, blocks of 256 steps; "out" gets
 * "in" with a delay of %s ms. With 30 ms (300 ring slots) the blocks fit
 * the ring; with 1 ms (10 slots, 0.4 events per 8 steps) they are cached,
 * with the same blocks. */
static char *ring_config(const char *delay_ms)
{
    static const char fmt[] =
        "{\"dt\": 0.1, \"seed\": 11, \"lattice_shape\": [600, 3, 1, 1],\n"
        " \"areas\": [\n"
        "  {\"name\": \"a0\", \"coord_ranges\": {\"x\": [0, 599], \"y\": [0, 0], \"z\": [0, 0], \"w\": [0, 0]}},\n"
        "  {\"name\": \"a1\", \"coord_ranges\": {\"x\": [0, 599], \"y\": [1, 1], \"z\": [0, 0], \"w\": [0, 0]}},\n"
        "  {\"name\": \"a2\", \"coord_ranges\": {\"x\": [0, 49], \"y\": [2, 2], \"z\": [0, 0], \"w\": [0, 0]}}],\n"
        " \"populations\": [\n"
        "  {\"name\": \"in\", \"area\": \"a0\", \"model\": \"parrot\"},\n"
        "  {\"name\": \"win\", \"area\": \"a1\", \"model\": \"parrot\"},\n"
        "  {\"name\": \"out\", \"area\": \"a2\", \"model\": \"lif_exp\"}],\n"
        " \"projections\": [\n"
        "  {\"source\": \"in\", \"target\": \"out\", \"rule\": \"fixed_probability\", \"p\": 0.2,\n"
        "   \"weight\": 4.0, \"delay\": %s}],\n"
        " \"inputs\": [\n"
        "  {\"type\": \"poisson\", \"target\": \"in\", \"rate\": 100, \"n_sources\": 5, \"sampling\": \"sparse\"},\n"
        "  {\"type\": \"poisson\", \"target\": \"win\", \"rate\": 100, \"n_sources\": 5,\n"
        "   \"sampling\": \"sparse\", \"start\": 12.3, \"stop\": 47.7}]}\n";
    static char buf[2048];
    snprintf(buf, sizeof buf, fmt, delay_ms);
    return buf;
}

/* The spikes of user ids below `below`, in order. */
static void same_spikes_below(const char *what, const train *a, const train *b, uint32_t below)
{
    uint64_t i = 0, j = 0, n = 0;
    for (;; n++) {
        while (i < a->n && a->ids[i] >= below)
            i++;
        while (j < b->n && b->ids[j] >= below)
            j++;
        if (i == a->n || j == b->n)
            break;
        CHECK(a->steps[i] == b->steps[j] && a->ids[i] == b->ids[j],
              "%s: spike %llu is (%llu, %u), reference (%llu, %u)", what, (unsigned long long)n,
              (unsigned long long)b->steps[j], b->ids[j], (unsigned long long)a->steps[i],
              a->ids[i]);
        i++;
        j++;
    }
    CHECK(i == a->n && j == b->n, "%s: spike counts differ after %llu", what, (unsigned long long)n);
}

static void test_ring_blocks(void **state)
{
    (void)state;
    enum { RSTEPS = 1300 };
    const uint64_t whole[] = {RSTEPS, 0}, odd[] = {1, 7, 300, 1, 99, 0};
    char *cfg = ring_config("30.0");
    train ref = run_cfg(cfg, "cpu-ref", 1, 0, whole, RSTEPS);
    /* 600 x 1300 x 0.05 events: about 37,000 parrot spikes, and "out" fires */
    CHECK(ref.n > 30000, "only %llu spikes", (unsigned long long)ref.n);
    uint64_t out = 0, win_early = 0;
    for (uint64_t k = 0; k < ref.n; k++) {
        out += ref.ids[k] >= 1200;
        win_early += ref.ids[k] >= 600 && ref.ids[k] < 1200 &&
                     (ref.steps[k] < 123 || ref.steps[k] >= 477);
    }
    CHECK(out > 0, "out never fired");
    CHECK(win_early == 0, "win has %llu spikes outside its window", (unsigned long long)win_early);
    const run_case cases[] = {
        {"ring: cpu-omp 1 thread", "cpu-omp", 1, 0, whole},
        {"ring: cpu-omp 2 threads, odd run lengths", "cpu-omp", 2, 0, odd},
        {"ring: cpu-omp 3 threads, Z-order", "cpu-omp", 3, 1, odd},
        {"ring: cpu-ref, Z-order", "cpu-ref", 1, 1, whole},
    };
    same_in_cases(cfg, &ref, cases, sizeof cases / sizeof *cases, RSTEPS);
    /* the cuda backend adds the same blocks on the device (or the mock) */
    {
        n4d_context *ctx = NULL;
        assert_int_equal(n4d_context_create(NULL, &ctx), N4D_OK);
        n4d_model *m = load(ctx, cfg, 0);
        n4d_sim_options o;
        n4d_sim_options_init(&o);
        o.backend = "cuda";
        n4d_sim *sim = NULL;
        const n4d_status st = n4d_sim_create(m, &o, &sim);
        if (st == N4D_OK) {
            ASSERT_OK(n4d_sim_run(sim, RSTEPS), sim);
            CHECK(n4d_sim_checksum(sim) == ref.checksum, "cuda: checksum differs");
            n4d_sim_destroy(sim);
        } else {
            printf("[  SKIPPED ] ring blocks on cuda: %s\n", n4d_last_error(m));
        }
        n4d_model_destroy(m);
        n4d_context_destroy(ctx);
    }
    /* cached blocks (a 1 ms delay: 10 ring slots) give the same parrot
     * spikes, and so do blocks exactly as long as the ring (25.6 ms: 256
     * slots, the block's last step in the slot just taken) */
    train cached = run_cfg(ring_config("1.0"), "cpu-omp", 2, 0, whole, RSTEPS);
    same_spikes_below("cached blocks", &ref, &cached, 1200);
    train_free(&cached);
    train full = run_cfg(ring_config("25.6"), "cpu-omp", 3, 0, odd, RSTEPS);
    same_spikes_below("blocks as long as the ring", &ref, &full, 1200);
    train_free(&full);
    train_free(&ref);
}

/* A checkpoint in the middle of a block (step 300; blocks start at 256 and
 * 512) holds the rest of the block in the ring: resumed on other thread
 * counts and on cpu-ref, the run ends as an unbroken one. */
static void test_ring_blocks_checkpoint(void **state)
{
    (void)state;
    const uint64_t whole[] = {1300, 0};
    const char *cfg = ring_config("30.0");
    train ref = run_cfg(cfg, "cpu-omp", 2, 0, whole, 1300);
    char path[] = "/tmp/n4d_test_poisson_XXXXXX";
    const int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    n4d_context *ctx = NULL;
    assert_int_equal(n4d_context_create(NULL, &ctx), N4D_OK);
    n4d_model *m = load(ctx, cfg, 0);
    n4d_sim *sim = sim_on(m, "cpu-omp", 2);
    ASSERT_OK(n4d_sim_run(sim, 300), sim);
    const n4d_status st = n4d_sim_checkpoint(sim, path, NULL);
    n4d_sim_destroy(sim);
    n4d_model_destroy(m);
    if (st == N4D_E_NOT_BUILT) { /* no HDF5 in this build */
        unlink(path);
        n4d_context_destroy(ctx);
        train_free(&ref);
        skip();
    }
    assert_int_equal(st, N4D_OK);
    const struct {
        const char *backend;
        int32_t threads;
    } cases[] = {{"cpu-omp", 1}, {"cpu-omp", 3}, {"cpu-ref", 1}};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        n4d_resume_options ro;
        n4d_resume_options_init(&ro);
        ro.backend = cases[c].backend;
        ro.num_threads = cases[c].threads;
        n4d_model *rm = NULL;
        n4d_sim *rs = NULL;
        ASSERT_OK(n4d_sim_resume(ctx, path, &ro, &rm, &rs), ctx);
        ASSERT_OK(n4d_sim_run(rs, 1000), rs);
        CHECK(n4d_sim_checksum(rs) == ref.checksum, "resumed on %s with %d threads: checksum differs",
              cases[c].backend, (int)cases[c].threads);
        n4d_sim_destroy(rs);
        n4d_model_destroy(rm);
    }
    n4d_context_destroy(ctx);
    unlink(path);
    train_free(&ref);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_statistics),    cmocka_unit_test(test_bitwise),
        cmocka_unit_test(test_high_rate),     cmocka_unit_test(test_dense_tables),     cmocka_unit_test(test_file_round_trip),
        cmocka_unit_test(test_errors),        cmocka_unit_test(test_ring_blocks),
        cmocka_unit_test(test_ring_blocks_checkpoint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
