/* Explicit projections (N4D_RULE_EXPLICIT: a list of (pre, post, weight,
 * delay)): the built synapses are the list (n4d_model_get_synapses, with
 * duplicates and both signs), spikes cross them with their own delays on
 * cpu-ref and cpu-omp alike, the model file keeps them (load, checksum),
 * and bad lists are refused naming the connection (NaN or infinite weight,
 * a delay below one step, an index past a population, NULL arrays, a
 * distribution instead of arrays), with nothing leaked. */
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

static const uint32_t PRE[] = {0, 0, 2, 0, 3, 1, 0};
static const uint32_t POST[] = {1, 1, 0, 2, 2, 1, 1};
static const double W[] = {1.0, 1.0, 2.5, -1.0, 1.0, 1.0, 0.75};
static const double D[] = {0.3, 0.5, 1.0, 2.0, 2.0, 0.1, 0.5};
enum { NC = 7 };

static n4d_model *model(n4d_context *ctx, const uint32_t *pre, const double *w, const double *d,
                        n4d_status *st)
{
    n4d_model *m = NULL;
    ASSERT_OK(n4d_model_create(ctx, &m), ctx);
    const uint32_t shape[4] = {4, 2, 1, 1};
    ASSERT_OK(n4d_model_set_lattice(m, shape), m);
    const int32_t lo0[4] = {0, 0, 0, 0}, hi0[4] = {3, 0, 0, 0}, lo1[4] = {0, 1, 0, 0},
                  hi1[4] = {2, 1, 0, 0};
    ASSERT_OK(n4d_model_add_area(m, "a0", lo0, hi0), m);
    ASSERT_OK(n4d_model_add_area(m, "a1", lo1, hi1), m);
    const char *names[] = {"a", "b"}, *areas[] = {"a0", "a1"};
    for (int k = 0; k < 2; k++) {
        n4d_population_desc pd;
        n4d_population_desc_init(&pd);
        pd.name = names[k];
        pd.area = areas[k];
        pd.model_name = "parrot";
        ASSERT_OK(n4d_model_add_population(m, &pd, NULL), m);
    }
    /* every neuron of a spikes at step 0 */
    const double t0[] = {0, 0, 0, 0};
    const uint32_t ix[] = {0, 1, 2, 3};
    n4d_input_desc in;
    n4d_input_desc_init(&in);
    in.kind = N4D_INPUT_SPIKES;
    in.target = "a";
    in.times = t0;
    in.indices = ix;
    in.n_times = 4;
    in.weight = 1.0;
    ASSERT_OK(n4d_model_add_input(m, &in), m);
    n4d_projection_desc p;
    n4d_projection_desc_init(&p);
    p.name = "list";
    p.source = "a";
    p.target = "b";
    p.rule = N4D_RULE_EXPLICIT;
    p.pre = pre;
    p.post = POST;
    p.weights = w;
    p.delays = d;
    p.n_connections = NC;
    *st = n4d_model_add_projection(m, &p, NULL);
    return m;
}

static void test_synapses_and_spikes(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    assert_int_equal(n4d_context_create(NULL, &ctx), N4D_OK);
    n4d_status st;
    n4d_model *m = model(ctx, PRE, W, D, &st);
    ASSERT_OK(st, m);
    ASSERT_OK(n4d_model_build(m), m);
    assert_int_equal(n4d_model_num_synapses(m), NC);
    /* source 0 (id 0): to b1 (id 5) at 0.3 and 0.5 (twice: 1 and 0.75), b2 (id 6) at 2 */
    uint32_t tg[8];
    float w[8], d[8];
    uint64_t n;
    ASSERT_OK(n4d_model_get_synapses(m, 0, 8, tg, w, d, &n), m);
    assert_int_equal(n, 4);
    const uint32_t wt[] = {5, 5, 5, 6};
    const float ww[] = {1.0f, 0.75f, 1.0f, -1.0f}, wd[] = {0.3f, 0.5f, 0.5f, 2.0f};
    for (int k = 0; k < 4; k++)
        CHECK(tg[k] == wt[k] && fabsf(w[k] - ww[k]) < 1e-6f && fabsf(d[k] - wd[k]) < 1e-6f,
              "synapse %d: %u %g %g", k, tg[k], w[k], d[k]);
    const char *backends[] = {"cpu-ref", "cpu-omp"};
    uint64_t sum[2];
    for (int b = 0; b < 2; b++) {
        n4d_sim *sim = sim_on(m, backends[b], 2);
        ASSERT_OK(n4d_sim_run(sim, 40), sim);
        const uint64_t *s;
        const uint32_t *id;
        ASSERT_OK(n4d_sim_spikes(sim, &s, &id, &n), sim);
        /* a0..a3 at 0; b1 at 1 (a1, 0.1 ms), 3 (a0), 5 (a0 twice); b0 at 10
         * (a2); b2 at 20 gets +1 and -1: no spike */
        const uint64_t ws[] = {0, 0, 0, 0, 1, 3, 5, 10};
        const uint32_t wi[] = {0, 1, 2, 3, 5, 5, 5, 4};
        CHECK(n == 8, "%s: %llu spikes", backends[b], (unsigned long long)n);
        for (uint64_t k = 0; k < n; k++)
            CHECK(s[k] == ws[k] && id[k] == wi[k], "%s spike %llu: step %llu id %u", backends[b],
                  (unsigned long long)k, (unsigned long long)s[k], id[k]);
        sum[b] = n4d_sim_checksum(sim);
        n4d_sim_destroy(sim);
    }
    assert_int_equal(sum[0], sum[1]);
    /* the model file keeps them */
    char path[] = "/tmp/n4d_explicit_XXXXXX";
    const int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    st = n4d_model_save(m, path, NULL);
    if (st != N4D_E_NOT_BUILT) {
        ASSERT_OK(st, m);
        n4d_model *l = NULL;
        ASSERT_OK(n4d_model_load(ctx, path, NULL, &l), ctx);
        assert_int_equal(n4d_model_num_synapses(l), NC);
        ASSERT_OK(n4d_model_get_synapses(l, 0, 8, tg, w, d, &n), l);
        assert_int_equal(n, 4);
        for (int k = 0; k < 4; k++)
            CHECK(tg[k] == wt[k] && w[k] == ww[k], "loaded synapse %d: %u %g", k, tg[k], w[k]);
        n4d_sim *sim = NULL;
        ASSERT_OK(n4d_sim_create(l, NULL, &sim), l);
        ASSERT_OK(n4d_sim_run(sim, 40), sim);
        assert_int_equal(n4d_sim_checksum(sim), sum[0]);
        n4d_sim_destroy(sim);
        /* save it again: the description still names the projection */
        ASSERT_OK(n4d_model_save(l, path, NULL), l);
        n4d_model_destroy(l);
        ASSERT_OK(n4d_model_load(ctx, path, NULL, &l), ctx);
        assert_int_equal(n4d_model_num_synapses(l), NC);
        n4d_model_destroy(l);
    }
    unlink(path);
    n4d_model_destroy(m);
    assert_int_equal(mem_current(ctx), 0);
    n4d_context_destroy(ctx);
}

static void test_errors(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    assert_int_equal(n4d_context_create(NULL, &ctx), N4D_OK);
    n4d_status st;
    double w[NC], d[NC];
    uint32_t pre[NC];
    memcpy(w, W, sizeof w);
    memcpy(d, D, sizeof d);
    memcpy(pre, PRE, sizeof pre);
    w[3] = NAN;
    n4d_model *m = model(ctx, PRE, w, D, &st);
    assert_int_equal(st, N4D_E_RANGE);
    assert_non_null(strstr(n4d_last_error(m), "projection \"list\": connection 3 (pre 0, post 2): "
                                               "weight nan"));
    n4d_model_destroy(m);
    w[3] = INFINITY;
    m = model(ctx, PRE, w, D, &st);
    assert_int_equal(st, N4D_E_RANGE);
    assert_non_null(strstr(n4d_last_error(m), "connection 3"));
    n4d_model_destroy(m);
    d[5] = 0.04; /* below half a step of 0.1 ms */
    m = model(ctx, PRE, W, d, &st);
    assert_int_equal(st, N4D_E_RANGE);
    assert_non_null(strstr(n4d_last_error(m), "connection 5 (pre 1, post 1): delay 0.04 ms"));
    n4d_model_destroy(m);
    d[5] = NAN;
    m = model(ctx, PRE, W, d, &st);
    assert_int_equal(st, N4D_E_RANGE);
    n4d_model_destroy(m);
    pre[2] = 9;
    m = model(ctx, pre, W, D, &st);
    ASSERT_OK(st, m);
    ASSERT_ERR_MSG(n4d_model_build(m), N4D_E_RANGE, m,
                   "projection \"list\": connection 2 (pre 9, post 0) is out of range");
    n4d_model_destroy(m);
    m = model(ctx, NULL, W, D, &st);
    assert_int_equal(st, N4D_E_INVALID_ARG);
    assert_non_null(strstr(n4d_last_error(m), "pre or post is NULL"));
    n4d_model_destroy(m);
    /* the device build refuses them (or there is no device); "auto" builds on the CPU */
    m = model(ctx, PRE, W, D, &st);
    ASSERT_OK(st, m);
    if (n4d_model_set_build_backend(m, "cuda") == N4D_OK) {
        st = n4d_model_build(m);
        CHECK(st == N4D_E_UNSUPPORTED || st == N4D_E_NOT_BUILT || st == N4D_E_NO_DEVICE,
              "cuda build: %d %s", (int)st, n4d_last_error(m));
        if (st == N4D_E_UNSUPPORTED)
            assert_non_null(strstr(n4d_last_error(m), "explicit projections (\"list\")"));
    }
    ASSERT_OK(n4d_model_set_build_backend(m, "auto"), m);
    ASSERT_OK(n4d_model_build(m), m);
    assert_int_equal(n4d_model_num_synapses(m), NC);
    n4d_model_destroy(m);
    m = model(ctx, NULL, W, D, &st); /* its "list" refused: the populations only */
    /* no weights: a distribution is refused, a constant used */
    n4d_projection_desc p;
    n4d_projection_desc_init(&p);
    p.source = "a";
    p.target = "b";
    p.rule = N4D_RULE_EXPLICIT;
    p.pre = PRE;
    p.post = POST;
    p.n_connections = NC;
    p.weight = n4d_dist_uniform(0, 1);
    ASSERT_ERR_MSG(n4d_model_add_projection(m, &p, NULL), N4D_E_INVALID_ARG, m,
                   "takes weights[] or a constant weight");
    p.weight = n4d_dist_constant(-2.0);
    p.syn_type = N4D_SYN_EXCITATORY;
    ASSERT_OK(n4d_model_add_projection(m, &p, NULL), m);
    ASSERT_OK(n4d_model_build(m), m);
    float wf[8];
    uint64_t n;
    ASSERT_OK(n4d_model_get_synapses(m, 0, 8, NULL, wf, NULL, &n), m);
    assert_int_equal(n, 4);
    for (int k = 0; k < 4; k++)
        CHECK(wf[k] == 2.0f, "weight %g (expected |-2|)", wf[k]);
    n4d_model_destroy(m);
    assert_int_equal(mem_current(ctx), 0);
    n4d_context_destroy(ctx);
}

static const char CONFIG[] =
    "{\"dt\": 0.1, \"lattice_shape\": [4, 2, 1, 1],\n"
    " \"areas\": [\n"
    "  {\"name\": \"a0\", \"coord_ranges\": {\"x\": [0, 3], \"y\": [0, 0], \"z\": [0, 0], \"w\": [0, 0]}},\n"
    "  {\"name\": \"a1\", \"coord_ranges\": {\"x\": [0, 2], \"y\": [1, 1], \"z\": [0, 0], \"w\": [0, 0]}}],\n"
    " \"populations\": [\n"
    "  {\"name\": \"a\", \"area\": \"a0\", \"model\": \"parrot\"},\n"
    "  {\"name\": \"b\", \"area\": \"a1\", \"model\": \"lif_exp\"}],\n"
    " \"projections\": [\n"
    "  {\"source\": \"a\", \"target\": \"b\", \"rule\": \"explicit\", \"weight\": 0.5,\n"
    "   \"delay\": 1.0, \"connections\": [%s]}]}\n";

static n4d_status from_config(n4d_context *ctx, const char *rows, n4d_model **m)
{
    char buf[2048];
    snprintf(buf, sizeof buf, CONFIG, rows);
    return n4d_model_from_json_string(ctx, buf, strlen(buf), "explicit.json", m);
}

static void test_config(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    assert_int_equal(n4d_context_create(NULL, &ctx), N4D_OK);
    n4d_model *m = NULL;
    ASSERT_OK(from_config(ctx, "[0, 1, 2.5, 0.3], [3, 2, -1, 0.2], [0, 1, 1, 1]", &m), ctx);
    ASSERT_OK(n4d_model_build(m), m);
    assert_int_equal(n4d_model_num_synapses(m), 3);
    uint32_t tg[4];
    float w[4], d[4];
    uint64_t n;
    ASSERT_OK(n4d_model_get_synapses(m, 3, 4, tg, w, d, &n), m);
    CHECK(n == 1 && tg[0] == 6 && w[0] == -1.0f && fabsf(d[0] - 0.2f) < 1e-6f, "%u %g %g", tg[0],
          w[0], d[0]);
    n4d_model_destroy(m);
    /* rows of two: the projection's weight and delay */
    ASSERT_OK(from_config(ctx, "[0, 0], [1, 0]", &m), ctx);
    ASSERT_OK(n4d_model_build(m), m);
    ASSERT_OK(n4d_model_get_synapses(m, 1, 4, tg, w, d, &n), m);
    CHECK(n == 1 && tg[0] == 4 && w[0] == 0.5f && fabsf(d[0] - 1.0f) < 1e-6f, "%u %g %g", tg[0],
          w[0], d[0]);
    n4d_model_destroy(m);
    m = NULL;
    ASSERT_ERR_MSG(from_config(ctx, "[0, 1], [0, 1, 2, 3, 4]", &m), N4D_E_CONFIG, ctx,
                   "projections[0].connections[1]");
    ASSERT_ERR_MSG(from_config(ctx, "[0, 1], [0, 1, 2]", &m), N4D_E_CONFIG, ctx,
                   "expected rows of one length");
    ASSERT_ERR_MSG(from_config(ctx, "[0, -1]", &m), N4D_E_CONFIG, ctx,
                   "projections[0].connections[0][1]");
    ASSERT_ERR_MSG(from_config(ctx, "[0, 1, 1, 0.01]", &m), N4D_E_CONFIG, ctx,
                   "connection 0 (pre 0, post 1): delay 0.01 ms");
    assert_null(m);
    ASSERT_OK(from_config(ctx, "[0, 1], [4, 0]", &m), ctx);
    ASSERT_ERR_MSG(n4d_model_build(m), N4D_E_RANGE, m, "connection 1 (pre 4, post 0) is out of range");
    n4d_model_destroy(m);
    assert_int_equal(mem_current(ctx), 0);
    n4d_context_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_synapses_and_spikes),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
