/* Spike-time and current inputs (n4d_input_kind spikes, step_current, ac,
 * noise; src/core/inputs.h):
 *
 *   spike steps   given times become spikes of parrot neurons in step
 *                 floor(t / dt + 0.001) (Brian2's rounding), two in one
 *                 step add up, and reach a one-to-one target exactly a
 *                 delay later; a time window drops the others;
 *   currents      a parrot's v is the input of its last step: a step
 *                 current, an ac current and their sum on a subset of the
 *                 cells equal a double-precision evaluation of PyNN's
 *                 formulas step by step; a lif_exp neuron follows the exact
 *                 solution of its equation under them;
 *   noise         mean, standard deviation, constant within an interval,
 *                 uncorrelated between neurons and intervals;
 *   bitwise       a network with all four kinds gives the same spikes and
 *                 states on cpu-ref and cpu-omp with 1, 2 and 3 threads and
 *                 a Z-order layout with partitions;
 *   files         a saved and loaded model, and a checkpoint resumed half
 *                 way, give the same run as one without interruption;
 *   config        the JSON keys, and errors naming the path;
 *   errors        bad arrays through the API (the field and entry named,
 *                 nothing leaked); cuda refuses the model (or is absent). */
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

static const double PI = 3.14159265358979323846;

static void area(n4d_model *m, const char *name, int32_t x1, int32_t y)
{
    const int32_t lo[4] = {0, y, 0, 0}, hi[4] = {x1, y, 0, 0};
    ASSERT_OK(n4d_model_add_area(m, name, lo, hi), m);
}

static void pop(n4d_model *m, const char *name, const char *ar, const char *model)
{
    n4d_population_desc d;
    n4d_population_desc_init(&d);
    d.name = name;
    d.area = ar;
    d.model_name = model;
    ASSERT_OK(n4d_model_add_population(m, &d, NULL), m);
}

static void one_to_one(n4d_model *m, const char *src, const char *tgt, double w, double delay)
{
    n4d_projection_desc p;
    n4d_projection_desc_init(&p);
    p.source = src;
    p.target = tgt;
    p.rule = N4D_RULE_ONE_TO_ONE;
    p.weight = n4d_dist_constant(w);
    p.delay = n4d_dist_constant(delay);
    ASSERT_OK(n4d_model_add_projection(m, &p, NULL), m);
}

/* ---- spike steps ------------------------------------------------------ */

static void test_spike_steps(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    assert_int_equal(n4d_context_create(NULL, &ctx), N4D_OK);
    n4d_model *m = NULL;
    ASSERT_OK(n4d_model_create(ctx, &m), m);
    const uint32_t shape[4] = {3, 2, 1, 1};
    ASSERT_OK(n4d_model_set_lattice(m, shape), m);
    ASSERT_OK(n4d_model_set_dt(m, 0.1), m);
    area(m, "a0", 2, 0);
    area(m, "a1", 2, 1);
    pop(m, "src", "a0", "parrot");
    pop(m, "dst", "a1", "parrot");
    one_to_one(m, "src", "dst", 1.0, 1.5);
    /* times / 0.1 + 0.001, floored: 0 10 10 20 | 1 3 | 50 (0.3 / 0.1 is
     * 2.9999999999999996: the shift keeps it in step 3); 30.0 lies past
     * the window's stop 20 ms and is dropped */
    const double times[] = {0.0, 1.04, 0.99999, 2.05, 0.1, 0.3, 5.0, 30.0};
    const uint32_t idx[] = {0, 0, 0, 0, 1, 1, 2, 2};
    n4d_input_desc in;
    n4d_input_desc_init(&in);
    in.kind = N4D_INPUT_SPIKES;
    in.target = "src";
    in.times = times;
    in.indices = idx;
    in.n_times = 8;
    in.weight = 1.0;
    in.stop = 20.0;
    ASSERT_OK(n4d_model_add_input(m, &in), m);
    ASSERT_OK(n4d_model_build(m), m);
    const char *backends[] = {"cpu-ref", "cpu-omp"};
    for (int b = 0; b < 2; b++) {
        n4d_sim *sim = sim_on(m, backends[b], 2);
        float v[6];
        for (int k = 0; k < 11; k++)
            ASSERT_OK(n4d_sim_step(sim), sim);
        /* step 10: neuron 0 had two events (v = their sum) */
        ASSERT_OK(n4d_sim_get_state(sim, "v", v, 6), sim);
        CHECK(v[0] == 2.0f && v[1] == 0.0f, "%s: v %g %g after step 10", backends[b], v[0], v[1]);
        ASSERT_OK(n4d_sim_run(sim, 400 - 11), sim);
        const uint64_t *st;
        const uint32_t *id;
        uint64_t n;
        ASSERT_OK(n4d_sim_spikes(sim, &st, &id, &n), sim);
        const uint64_t want_s[] = {0, 1, 3, 10, 15, 16, 18, 20, 25, 35, 50, 65};
        const uint32_t want_i[] = {0, 1, 1, 0, 3, 4, 4, 0, 3, 3, 2, 5};
        CHECK(n == 12, "%s: %llu spikes (expected 12)", backends[b], (unsigned long long)n);
        for (uint64_t k = 0; k < n; k++)
            CHECK(st[k] == want_s[k] && id[k] == want_i[k], "%s: spike %llu at step %llu of %u",
                  backends[b], (unsigned long long)k, (unsigned long long)st[k], id[k]);
        n4d_sim_destroy(sim);
    }
    n4d_model_destroy(m);
    assert_int_equal(mem_current(ctx), 0);
    n4d_context_destroy(ctx);
}

/* ---- currents against double precision ---------------------------------- */

/* PyNN's formulas, in double: the step current on cells 1 and 3 (its
 * times rounded to the nearest step) and the ac current on every cell. */
static const double ST_T[] = {1.0, 3.04, 6.0}, ST_V[] = {5.0, -2.0, 10.0};
static const uint32_t ST_CELLS[] = {3, 1};
static double current(int cell, int k)
{
    const double dt = 0.1;
    double i = 0.0;
    if (cell == 1 || cell == 3)
        for (int j = 0; j < 3; j++)
            if (k >= (int)nearbyint(ST_T[j] / dt))
                i = ST_V[j];
    if (k >= 20 && k < 80) /* ac: start 2 ms, stop 8 ms */
        i += 1.0 + 3.0 * sin(2 * PI * 100.0 * (k * dt - 2.0) * 1e-3 + 30.0 * PI / 180.0);
    return i;
}

static void add_currents(n4d_model *m, const char *target)
{
    n4d_input_desc in;
    n4d_input_desc_init(&in);
    in.kind = N4D_INPUT_STEP_CURRENT;
    in.target = target;
    in.times = ST_T;
    in.values = ST_V;
    in.n_times = 3;
    in.neurons = ST_CELLS;
    in.n_neurons = 2;
    ASSERT_OK(n4d_model_add_input(m, &in), m);
    n4d_input_desc_init(&in);
    in.kind = N4D_INPUT_AC;
    in.target = target;
    in.amplitude = 3.0;
    in.offset = 1.0;
    in.frequency = 100.0;
    in.phase = 30.0;
    in.start = 2.0;
    in.stop = 8.0;
    ASSERT_OK(n4d_model_add_input(m, &in), m);
}

static void test_currents_exact(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    assert_int_equal(n4d_context_create(NULL, &ctx), N4D_OK);
    n4d_model *m = NULL;
    ASSERT_OK(n4d_model_create(ctx, &m), m);
    const uint32_t shape[4] = {4, 2, 1, 1};
    ASSERT_OK(n4d_model_set_lattice(m, shape), m);
    area(m, "a0", 3, 0);
    area(m, "a1", 3, 1);
    pop(m, "probe", "a0", "parrot");
    pop(m, "lif", "a1", "lif_exp");
    ASSERT_OK(n4d_model_set_population_param(m, "lif", "v_threshold", 1000.0), m);
    ASSERT_OK(n4d_model_set_population_param(m, "lif", "tau_m", 10.0), m);
    ASSERT_OK(n4d_model_set_population_param(m, "lif", "v_rest", -65.0), m);
    add_currents(m, "probe");
    add_currents(m, "lif");
    ASSERT_OK(n4d_model_build(m), m);
    const char *backends[] = {"cpu-ref", "cpu-omp"};
    for (int b = 0; b < 2; b++) {
        n4d_sim *sim = sim_on(m, backends[b], 2);
        double vx[4] = {-65.0, -65.0, -65.0, -65.0};
        const double pm = exp(-0.1 / 10.0);
        double maxerr = 0.0;
        for (int k = 0; k < 100; k++) {
            ASSERT_OK(n4d_sim_step(sim), sim);
            float v[8];
            ASSERT_OK(n4d_sim_get_state(sim, "v", v, 8), sim);
            for (int c = 0; c < 4; c++) {
                const double i = current(c, k);
                /* the parrot: the step's input, one float rounding */
                CHECK(fabs(v[c] - i) <= 1e-6 * (1.0 + fabs(i)), "%s probe %d step %d: %.9g vs %.9g",
                      backends[b], c, k, v[c], i);
                vx[c] = -65.0 + (vx[c] + 65.0) * pm + i * (1.0 - pm);
                const double e = fabs(v[4 + c] - vx[c]);
                maxerr = e > maxerr ? e : maxerr;
            }
        }
        CHECK(maxerr < 1e-4, "%s: lif_exp %.3g mV from the exact solution", backends[b], maxerr);
        n4d_sim_destroy(sim);
    }
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
}

static void test_noise_statistics(void **state)
{
    (void)state;
    enum { N = 4000 };
    n4d_context *ctx = NULL;
    assert_int_equal(n4d_context_create(NULL, &ctx), N4D_OK);
    n4d_model *m = NULL;
    ASSERT_OK(n4d_model_create(ctx, &m), m);
    const uint32_t shape[4] = {N, 1, 1, 1};
    ASSERT_OK(n4d_model_set_lattice(m, shape), m);
    area(m, "a0", N - 1, 0);
    pop(m, "probe", "a0", "parrot");
    n4d_input_desc in;
    n4d_input_desc_init(&in);
    in.kind = N4D_INPUT_NOISE;
    in.target = "probe";
    in.amplitude = 0.5; /* the mean */
    in.std = 2.0;
    in.interval = 0.3; /* 3 steps */
    in.start = 1.0;
    ASSERT_OK(n4d_model_add_input(m, &in), m);
    ASSERT_OK(n4d_model_build(m), m);
    n4d_sim *sim = NULL;
    ASSERT_OK(n4d_sim_create(m, NULL, &sim), m);
    float *v = malloc(N * sizeof *v), *prev = malloc(N * sizeof *prev);
    assert_true(v && prev);
    double s = 0, s2 = 0, cross_n = 0, cross_t = 0;
    uint64_t cnt = 0;
    for (int k = 0; k < 40; k++) {
        ASSERT_OK(n4d_sim_step(sim), sim);
        ASSERT_OK(n4d_sim_get_state(sim, "v", v, N), sim);
        if (k < 10) { /* before the start: no input */
            for (int i = 0; i < N; i++)
                CHECK(v[i] == 0.0f, "step %d: v[%d] = %g before the start", k, i, v[i]);
        } else if ((k - 10) % 3 != 0) { /* within an interval: the same draw */
            CHECK(memcmp(v, prev, N * sizeof *v) == 0, "step %d: the draw changed", k);
        } else {
            for (int i = 0; i < N; i++) {
                s += v[i];
                s2 += (double)v[i] * v[i];
                cross_n += (v[i] - 0.5) * (v[(i + 1) % N] - 0.5);
                if (k > 10)
                    cross_t += (v[i] - 0.5) * (prev[i] - 0.5);
            }
            cnt += N;
        }
        memcpy(prev, v, N * sizeof *v);
    }
    const double mean = s / cnt, sd = sqrt(s2 / cnt - mean * mean);
    /* 10 intervals x 4000 draws: the mean within 5 standard errors, etc. */
    CHECK(fabs(mean - 0.5) < 5 * 2.0 / sqrt((double)cnt), "mean %g", mean);
    CHECK(fabs(sd - 2.0) < 0.05, "sd %g", sd);
    CHECK(fabs(cross_n / cnt) < 5 * 4.0 / sqrt((double)cnt), "neighbour correlation %g",
          cross_n / cnt);
    CHECK(fabs(cross_t / (cnt - N)) < 5 * 4.0 / sqrt((double)(cnt - N)),
          "interval correlation %g", cross_t / (cnt - N));
    free(v);
    free(prev);
    n4d_sim_destroy(sim);
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
}

/* ---- a network with every kind: bitwise, files --------------------------- */

enum { NN = 64, STEPS = 2000 };

static n4d_model *network(n4d_context *ctx, int layout)
{
    n4d_model *m = NULL;
    ASSERT_OK(n4d_model_create(ctx, &m), m);
    const uint32_t shape[4] = {NN, 4, 1, 1};
    ASSERT_OK(n4d_model_set_lattice(m, shape), m);
    ASSERT_OK(n4d_model_set_seed(m, 99), m);
    area(m, "a0", NN - 1, 0);
    area(m, "a1", NN - 1, 1);
    area(m, "a2", NN - 1, 2);
    area(m, "a3", NN - 1, 3);
    pop(m, "src", "a0", "parrot");
    pop(m, "dst", "a1", "parrot");
    pop(m, "cur", "a2", "lif_exp");
    pop(m, "probe", "a3", "parrot");
    one_to_one(m, "src", "dst", 1.0, 1.5);
    n4d_projection_desc p;
    n4d_projection_desc_init(&p);
    p.source = "src";
    p.target = "cur";
    p.p = 0.2;
    p.weight = n4d_dist_uniform(1.0, 4.0);
    p.delay = n4d_dist_uniform(0.1, 2.0);
    ASSERT_OK(n4d_model_add_projection(m, &p, NULL), m);
    /* 20 spikes per source neuron in [0, 200) ms, from a fixed LCG */
    double times[NN * 20];
    uint32_t idx[NN * 20];
    uint64_t x = 12345;
    for (int k = 0; k < NN * 20; k++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        times[k] = (double)(x >> 11) * (200.0 / 9007199254740992.0);
        idx[k] = (uint32_t)(k % NN);
    }
    n4d_input_desc in;
    n4d_input_desc_init(&in);
    in.kind = N4D_INPUT_SPIKES;
    in.target = "src";
    in.times = times;
    in.indices = idx;
    in.n_times = NN * 20;
    in.weight = 1.0;
    ASSERT_OK(n4d_model_add_input(m, &in), m);
    uint32_t even[NN / 2], odd[NN / 2];
    for (int k = 0; k < NN / 2; k++) {
        even[k] = (uint32_t)(NN - 2 - 2 * k); /* any order */
        odd[k] = (uint32_t)(2 * k + 1);
    }
    const char *tg[] = {"cur", "probe"};
    for (int t = 0; t < 2; t++) {
        const double st[] = {10.0, 50.0, 120.0}, sv[] = {8.0, -3.0, 12.0};
        n4d_input_desc_init(&in);
        in.kind = N4D_INPUT_STEP_CURRENT;
        in.target = tg[t];
        in.times = st;
        in.values = sv;
        in.n_times = 3;
        in.neurons = even;
        in.n_neurons = NN / 2;
        ASSERT_OK(n4d_model_add_input(m, &in), m);
        n4d_input_desc_init(&in);
        in.kind = N4D_INPUT_AC;
        in.target = tg[t];
        in.amplitude = 6.0;
        in.offset = 4.0;
        in.frequency = 10.0;
        in.phase = 90.0;
        ASSERT_OK(n4d_model_add_input(m, &in), m);
        n4d_input_desc_init(&in);
        in.kind = N4D_INPUT_NOISE;
        in.target = tg[t];
        in.amplitude = 1.0;
        in.std = 5.0;
        in.interval = 0.2;
        in.neurons = odd;
        in.n_neurons = NN / 2;
        ASSERT_OK(n4d_model_add_input(m, &in), m);
    }
    if (layout) {
        n4d_layout_options lo;
        n4d_layout_options_init(&lo);
        lo.order = N4D_ORDER_ZORDER;
        lo.partitions = 4;
        ASSERT_OK(n4d_model_set_layout(m, &lo), m);
    }
    ASSERT_OK(n4d_model_build(m), m);
    return m;
}

typedef struct result {
    uint64_t n, checksum;
    float v[4 * NN];
} result;

static void finish(n4d_sim *sim, result *r)
{
    r->n = n4d_sim_total_spikes(sim);
    r->checksum = n4d_sim_checksum(sim);
    ASSERT_OK(n4d_sim_get_state(sim, "v", r->v, 4 * NN), sim);
}

static void run_net(n4d_model *m, const char *backend, int threads, result *r)
{
    n4d_sim *sim = sim_on(m, backend, threads);
    ASSERT_OK(n4d_sim_run(sim, 777), sim);
    ASSERT_OK(n4d_sim_run(sim, STEPS - 777), sim);
    finish(sim, r);
    n4d_sim_destroy(sim);
}

static void same(const result *a, const result *b, const char *what)
{
    CHECK(a->n == b->n && a->checksum == b->checksum, "%s: %llu spikes %016llx vs %llu %016llx",
          what, (unsigned long long)b->n, (unsigned long long)b->checksum,
          (unsigned long long)a->n, (unsigned long long)a->checksum);
    CHECK(memcmp(a->v, b->v, sizeof a->v) == 0, "%s: v differs", what);
}

static void test_bitwise(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    assert_int_equal(n4d_context_create(NULL, &ctx), N4D_OK);
    n4d_model *m = network(ctx, 0), *z = network(ctx, 1);
    result ref, r;
    run_net(m, "cpu-ref", 1, &ref);
    /* every source spike and its relay: 1280 events, fewer where two fall in one step */
    CHECK(ref.n > 2 * 1200 + 100, "only %llu spikes", (unsigned long long)ref.n);
    const int th[] = {1, 2, 3};
    for (int k = 0; k < 3; k++) {
        run_net(m, "cpu-omp", th[k], &r);
        same(&ref, &r, "cpu-omp");
        run_net(z, "cpu-omp", th[k], &r);
        same(&ref, &r, "cpu-omp z-order, 4 partitions");
    }
    run_net(z, "cpu-ref", 1, &r);
    same(&ref, &r, "cpu-ref z-order");
    /* cuda runs none of these inputs */
    n4d_sim_options o;
    n4d_sim_options_init(&o);
    o.backend = "cuda";
    n4d_sim *sim = NULL;
    const n4d_status st = n4d_sim_create(m, &o, &sim);
    CHECK(st == N4D_E_UNSUPPORTED || st == N4D_E_NOT_BUILT || st == N4D_E_NO_DEVICE,
          "cuda: %d %s", (int)st, n4d_last_error(m));
    if (st == N4D_E_UNSUPPORTED)
        assert_non_null(strstr(n4d_last_error(m), "spike-time inputs"));
    assert_null(sim);
    n4d_model_destroy(m);
    n4d_model_destroy(z);
    n4d_context_destroy(ctx);
}

static void test_files(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    assert_int_equal(n4d_context_create(NULL, &ctx), N4D_OK);
    n4d_model *m = network(ctx, 0);
    result ref, r;
    run_net(m, "cpu-omp", 2, &ref);
    char path[] = "/tmp/n4d_inputs_XXXXXX";
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
    run_net(l, "cpu-ref", 1, &r);
    same(&ref, &r, "loaded model");
    n4d_model_destroy(l);
    /* a checkpoint half way (inside a noise interval, between spikes) */
    n4d_sim *sim = NULL;
    ASSERT_OK(n4d_sim_create(m, NULL, &sim), m);
    ASSERT_OK(n4d_sim_run(sim, 1001), sim);
    ASSERT_OK(n4d_sim_checkpoint(sim, path, NULL), sim);
    n4d_sim_destroy(sim);
    n4d_model *rm = NULL;
    ASSERT_OK(n4d_sim_resume(ctx, path, NULL, &rm, &sim), ctx);
    unlink(path);
    ASSERT_OK(n4d_sim_run(sim, STEPS - 1001), sim);
    finish(sim, &r);
    same(&ref, &r, "resumed checkpoint");
    n4d_sim_destroy(sim);
    n4d_model_destroy(rm);
    n4d_model_destroy(m);
    assert_int_equal(mem_current(ctx), 0);
    n4d_context_destroy(ctx);
}

/* ---- config ------------------------------------------------------------- */

static const char CONFIG[] =
    "{\"dt\": 0.1, \"lattice_shape\": [3, 2, 1, 1],\n"
    " \"areas\": [\n"
    "  {\"name\": \"a0\", \"coord_ranges\": {\"x\": [0, 2], \"y\": [0, 0], \"z\": [0, 0], \"w\": [0, 0]}},\n"
    "  {\"name\": \"a1\", \"coord_ranges\": {\"x\": [0, 2], \"y\": [1, 1], \"z\": [0, 0], \"w\": [0, 0]}}],\n"
    " \"populations\": [\n"
    "  {\"name\": \"src\", \"area\": \"a0\", \"model\": \"parrot\"},\n"
    "  {\"name\": \"probe\", \"area\": \"a1\", \"model\": \"parrot\"}],\n"
    " \"inputs\": [\n"
    "  {\"type\": \"spikes\", \"target\": \"src\", \"spike_times\": [[0.5, 1.0], [], [%s]]},\n"
    "  {\"type\": \"step_current\", \"target\": \"probe\", \"times\": [0.2, 0.4],\n"
    "   \"amplitudes\": [%s], \"neurons\": [%s]},\n"
    "  {\"type\": \"ac\", \"target\": \"probe\", \"amplitude\": 1, \"frequency\": 50,\n"
    "   \"phase\": 90, \"offset\": 0.25, \"start\": 0.6, \"stop\": 0.7},\n"
    "  {\"type\": \"noise\", \"target\": \"probe\", \"mean\": 7, \"std\": 0, \"start\": 0.8,\n"
    "   \"neurons\": [0]}]}\n";

static n4d_status from_config(n4d_context *ctx, const char *t2, const char *amps,
                              const char *cells, n4d_model **m)
{
    char buf[2048];
    snprintf(buf, sizeof buf, CONFIG, t2, amps, cells);
    return n4d_model_from_json_string(ctx, buf, strlen(buf), "inputs.json", m);
}

static void test_config(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    assert_int_equal(n4d_context_create(NULL, &ctx), N4D_OK);
    n4d_model *m = NULL;
    ASSERT_OK(from_config(ctx, "2.0", "3, 5", "2, 1", &m), ctx);
    n4d_sim *sim = NULL;
    ASSERT_OK(n4d_sim_create(m, NULL, &sim), m);
    float v[6], want[10][3] = {{0, 0, 0}, {0, 0, 0}, {0, 3, 3}, {0, 3, 3}, {0, 5, 5},
                               {0, 5, 5}, {1.25f, 6.25f, 6.25f}, {0, 5, 5}, {7, 5, 5}, {7, 5, 5}};
    for (int k = 0; k < 10; k++) {
        ASSERT_OK(n4d_sim_step(sim), sim);
        ASSERT_OK(n4d_sim_get_state(sim, "v", v, 6), sim);
        for (int c = 0; c < 3; c++)
            CHECK(fabsf(v[3 + c] - want[k][c]) < 1e-6f, "step %d cell %d: %g (expected %g)", k, c,
                  v[3 + c], want[k][c]);
    }
    ASSERT_OK(n4d_sim_run(sim, 20), sim);
    const uint64_t *st;
    const uint32_t *id;
    uint64_t n;
    ASSERT_OK(n4d_sim_spikes(sim, &st, &id, &n), sim);
    /* src spikes (ids 0..2) at 5, 10 (neuron 0) and 20 (neuron 2); the
     * probes (3..5) spike whenever their input is > 0 */
    uint64_t src = 0;
    for (uint64_t k = 0; k < n; k++)
        if (id[k] < 3) {
            const uint64_t ws[] = {5, 10, 20};
            const uint32_t wi[] = {0, 0, 2};
            CHECK(src < 3 && st[k] == ws[src] && id[k] == wi[src], "src spike at %llu of %u",
                  (unsigned long long)st[k], id[k]);
            src++;
        }
    assert_int_equal(src, 3);
    n4d_sim_destroy(sim);
    n4d_model_destroy(m);
    /* errors name the path */
    ASSERT_ERR_MSG(from_config(ctx, "-1", "3, 5", "2, 1", &m), N4D_E_CONFIG, ctx,
                   "inputs[0].spike_times[2][0]");
    ASSERT_ERR_MSG(from_config(ctx, "2", "3", "2, 1", &m), N4D_E_CONFIG, ctx,
                   "1 amplitudes for 2 times");
    ASSERT_ERR_MSG(from_config(ctx, "2", "3, 5", "1, 1", &m), N4D_E_CONFIG, ctx,
                   "neurons[1] = 1 is repeated");
    ASSERT_OK(from_config(ctx, "2", "3, 5", "2, 3", &m), ctx); /* sizes are known at the build */
    ASSERT_ERR_MSG(n4d_model_build(m), N4D_E_RANGE, m,
                   "input 1 (step_current on \"probe\"): neurons[1] = 3 is past the "
                   "population's 3 neurons");
    n4d_model_destroy(m);
    m = NULL;
    ASSERT_ERR_MSG(from_config(ctx, "2", "3, 5", "-1", &m), N4D_E_CONFIG, ctx,
                   "inputs[1].neurons[0]");
    ASSERT_ERR_MSG(from_config(ctx, "\"x\"", "3, 5", "1", &m), N4D_E_CONFIG, ctx,
                   "inputs[0].spike_times[2][0]");
    assert_null(m);
    assert_int_equal(mem_current(ctx), 0);
    n4d_context_destroy(ctx);
}

/* ---- API errors ------------------------------------------------------- */

static void test_errors(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    assert_int_equal(n4d_context_create(NULL, &ctx), N4D_OK);
    n4d_model *m = NULL;
    ASSERT_OK(n4d_model_create(ctx, &m), m);
    const uint32_t shape[4] = {3, 1, 1, 1};
    ASSERT_OK(n4d_model_set_lattice(m, shape), m);
    area(m, "a0", 2, 0);
    pop(m, "p", "a0", "parrot");
    const double good[] = {0.0, 1.0, 2.0}, neg[] = {0.0, -1.0, 2.0}, nan_[] = {0.0, 1.0, NAN},
                 down[] = {0.0, 2.0, 1.0};
    const uint32_t idx[] = {0, 1, 2}, far[] = {0, 1, 7}, twice[] = {1, 1};
    n4d_input_desc in;
    n4d_input_desc_init(&in);
    in.kind = N4D_INPUT_SPIKES;
    in.target = "p";
    in.times = neg;
    in.indices = idx;
    in.n_times = 3;
    ASSERT_ERR_MSG(n4d_model_add_input(m, &in), N4D_E_RANGE, m, "times[1] = -1 ms");
    in.times = nan_;
    ASSERT_ERR_MSG(n4d_model_add_input(m, &in), N4D_E_RANGE, m, "times[2] = nan ms");
    in.times = good;
    in.indices = NULL;
    ASSERT_ERR_MSG(n4d_model_add_input(m, &in), N4D_E_INVALID_ARG, m, "indices is NULL");
    in.indices = idx;
    in.weight = INFINITY;
    ASSERT_ERR_MSG(n4d_model_add_input(m, &in), N4D_E_RANGE, m, "weight is not finite");
    in.weight = 0.0;
    ASSERT_ERR_MSG(n4d_model_add_input(m, &in), N4D_E_RANGE, m, "weight is 0");
    in.weight = 1.0;
    in.neurons = idx;
    in.n_neurons = 1;
    ASSERT_ERR_MSG(n4d_model_add_input(m, &in), N4D_E_INVALID_ARG, m,
                   "`neurons` is for step_current, ac and noise inputs only");
    n4d_input_desc_init(&in);
    in.kind = N4D_INPUT_STEP_CURRENT;
    in.target = "p";
    in.times = down;
    in.values = good;
    in.n_times = 3;
    ASSERT_ERR_MSG(n4d_model_add_input(m, &in), N4D_E_RANGE, m,
                   "times[2] = 1 ms is not after times[1] = 2 ms");
    in.times = good;
    in.values = nan_;
    ASSERT_ERR_MSG(n4d_model_add_input(m, &in), N4D_E_RANGE, m, "values[2] is not finite");
    in.values = good;
    in.neurons = twice;
    in.n_neurons = 2;
    ASSERT_ERR_MSG(n4d_model_add_input(m, &in), N4D_E_RANGE, m, "neurons[1] = 1 is repeated");
    n4d_input_desc_init(&in);
    in.kind = N4D_INPUT_AC;
    in.target = "p";
    in.frequency = -1.0;
    ASSERT_ERR_MSG(n4d_model_add_input(m, &in), N4D_E_RANGE, m, "frequency -1 Hz");
    n4d_input_desc_init(&in);
    in.kind = N4D_INPUT_NOISE;
    in.target = "p";
    in.std = NAN;
    ASSERT_ERR_MSG(n4d_model_add_input(m, &in), N4D_E_RANGE, m, "std nan");
    n4d_input_desc_init(&in);
    in.kind = N4D_INPUT_DC;
    in.target = "p";
    in.neurons = idx;
    in.n_neurons = 1;
    ASSERT_ERR_MSG(n4d_model_add_input(m, &in), N4D_E_INVALID_ARG, m, "(dc on \"p\")");
    n4d_input_desc_init(&in);
    in.kind = 6;
    in.target = "p";
    ASSERT_ERR_MSG(n4d_model_add_input(m, &in), N4D_E_INVALID_ARG, m, "unknown kind 6");
    /* an index past the population: found by the build */
    n4d_input_desc_init(&in);
    in.kind = N4D_INPUT_SPIKES;
    in.target = "p";
    in.times = good;
    in.indices = far;
    in.n_times = 3;
    in.weight = 1.0;
    ASSERT_OK(n4d_model_add_input(m, &in), m);
    ASSERT_ERR_MSG(n4d_model_build(m), N4D_E_RANGE, m,
                   "input 0 (spikes on \"p\"): indices[2] = 7 is past the population's 3 neurons");
    n4d_model_destroy(m);
    assert_int_equal(mem_current(ctx), 0);
    n4d_context_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spike_steps),      cmocka_unit_test(test_currents_exact),
        cmocka_unit_test(test_noise_statistics), cmocka_unit_test(test_bitwise),
        cmocka_unit_test(test_files),            cmocka_unit_test(test_config),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
