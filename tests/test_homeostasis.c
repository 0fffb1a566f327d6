/* Homeostatic synaptic scaling (n4d_model_set_homeostasis, src/core/homeo.h):
 *
 *   rule        200 lif_exp neurons driven through synapses from Poisson
 *               parrots, target 10 Hz, windows of 500 ms: after every
 *               window each neuron's scale equals the rule applied by this
 *               test to the neuron's recorded spikes (bit for bit), and the
 *               population's rate moves toward the target;
 *   effect      a population with its scale pinned at 2 (scale_min =
 *               scale_max = 2, window of one step) follows exactly the
 *               membrane trace of a twin without homeostasis whose weights
 *               are doubled;
 *   bitwise     the same spikes and scales on cpu-ref and cpu-omp with 1,
 *               2 and 4 threads, runs cut into odd lengths, and Z-order;
 *   file        a saved model keeps the homeostasis; errors: config keys
 *               and values, API arguments, the cuda backend; a checkpoint. */
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

enum { NIN = 500, NPOST = 200, WINDOW = 5000, WINDOWS = 16 };

static const char CONFIG[] =
    "{\"dt\": 0.1, \"seed\": 11, \"lattice_shape\": [500, 2, 1, 1],\n"
    " \"areas\": [\n"
    "  {\"name\": \"a0\", \"coord_ranges\": {\"x\": [0, 499], \"y\": [0, 0], \"z\": [0, 0], \"w\": [0, 0]}},\n"
    "  {\"name\": \"a1\", \"coord_ranges\": {\"x\": [0, 199], \"y\": [1, 1], \"z\": [0, 0], \"w\": [0, 0]}}],\n"
    " \"populations\": [\n"
    "  {\"name\": \"in\", \"area\": \"a0\", \"model\": \"parrot\"},\n"
    "  {\"name\": \"post\", \"area\": \"a1\", \"model\": \"lif_exp\", \"params\": {\"v_rest\": -65},\n"
    "   \"homeostasis\": {\"target_rate\": 10, \"window\": 500, \"eta\": 0.1, \"scale_min\": 0.02,\n"
    "                   \"scale_max\": 5}}],\n"
    " \"projections\": [\n"
    "  {\"source\": \"in\", \"target\": \"post\", \"rule\": \"fixed_probability\", \"p\": 0.1,\n"
    "   \"weight\": 1.0, \"delay\": 0.1}],\n"
    " \"inputs\": [{\"type\": \"poisson\", \"target\": \"in\", \"rate\": 20, \"sampling\": \"sparse\"}]}\n";

static n4d_model *load(n4d_context *ctx, const char *json, int zorder)
{
    n4d_model *m = NULL;
    ASSERT_OK(n4d_model_from_json_string(ctx, json, strlen(json), "homeo", &m), ctx);
    if (zorder) {
        n4d_layout_options lo;
        n4d_layout_options_init(&lo);
        lo.order = N4D_ORDER_ZORDER;
        ASSERT_OK(n4d_model_set_layout(m, &lo), m);
    }
    ASSERT_OK(n4d_model_build(m), m);
    return m;
}

static void test_rule(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    assert_int_equal(n4d_context_create(NULL, &ctx), N4D_OK);
    n4d_model *m = load(ctx, CONFIG, 0);
    n4d_sim *sim = sim_on(m, "cpu-omp", 2);
    const uint64_t N = NIN + NPOST;
    double want[NPOST];
    uint32_t count[NPOST];
    float got[NIN + NPOST];
    for (int i = 0; i < NPOST; i++)
        want[i] = 1.0;
    double first_rate = 0.0, last_rate = 0.0;
    for (int w = 0; w < WINDOWS; w++) {
        ASSERT_OK(n4d_sim_run(sim, WINDOW), sim);
        const uint64_t *steps;
        const uint32_t *ids;
        uint64_t n;
        ASSERT_OK(n4d_sim_spikes(sim, &steps, &ids, &n), sim);
        memset(count, 0, sizeof count);
        uint64_t total = 0;
        for (uint64_t k = 0; k < n; k++)
            if (ids[k] >= NIN) {
                count[ids[k] - NIN]++;
                total++;
            }
        ASSERT_OK(n4d_sim_clear_spikes(sim), sim);
        /* the rule, as documented: target count = 10 Hz x 500 ms = 5 */
        for (int i = 0; i < NPOST; i++) {
            const double s = want[i] * (1.0 + 0.1 * (5.0 - (double)count[i]) / 5.0);
            want[i] = s < 0.02 ? 0.02 : (s > 5.0 ? 5.0 : s);
        }
        ASSERT_OK(n4d_sim_get_homeostatic_scale(sim, got, N), sim);
        for (int i = 0; i < NIN; i++)
            CHECK(got[i] == 1.0f, "window %d: parrot %d has scale %g", w, i, (double)got[i]);
        for (int i = 0; i < NPOST; i++)
            CHECK(got[NIN + i] == (float)want[i], "window %d: neuron %d scale %.9g, rule %.9g", w,
                  i, (double)got[NIN + i], want[i]);
        const double rate = (double)total / NPOST / 0.5;
        if (w == 0)
            first_rate = rate;
        if (w >= WINDOWS - 5)
            last_rate += rate / 5.0;
    }
    /* the Poisson drive alone gives a rate far from the target; scaling
     * brings the population near it */
    CHECK(fabs(last_rate - 10.0) < 0.5 * fabs(first_rate - 10.0) && fabs(last_rate - 10.0) < 4.0,
          "rate %.2f Hz in the first window, %.2f Hz at the end (target 10)", first_rate,
          last_rate);
    n4d_sim_destroy(sim);
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
}

/* "a" has homeostasis pinned at 2 from the end of step 0 (before any input
 * arrives: the delay is one step), "b" none and weights 2 x those of "a". */
static void test_effect(void **state)
{
    (void)state;
    static const char cfg[] =
        "{\"dt\": 0.1, \"seed\": 5, \"lattice_shape\": [100, 3, 1, 1],\n"
        " \"areas\": [\n"
        "  {\"name\": \"a0\", \"coord_ranges\": {\"x\": [0, 49], \"y\": [0, 0], \"z\": [0, 0], \"w\": [0, 0]}},\n"
        "  {\"name\": \"a1\", \"coord_ranges\": {\"x\": [0, 49], \"y\": [1, 1], \"z\": [0, 0], \"w\": [0, 0]}},\n"
        "  {\"name\": \"a2\", \"coord_ranges\": {\"x\": [0, 49], \"y\": [2, 2], \"z\": [0, 0], \"w\": [0, 0]}}],\n"
        " \"populations\": [\n"
        "  {\"name\": \"in\", \"area\": \"a0\", \"model\": \"parrot\"},\n"
        "  {\"name\": \"a\", \"area\": \"a1\", \"model\": \"lif_exp\", \"v_init\": -65,\n"
        "   \"homeostasis\": {\"target_rate\": 10, \"window\": 0.1, \"eta\": 1, \"scale_min\": 2,\n"
        "                   \"scale_max\": 2}},\n"
        "  {\"name\": \"b\", \"area\": \"a2\", \"model\": \"lif_exp\", \"v_init\": -65}],\n"
        " \"projections\": [\n"
        "  {\"source\": \"in\", \"name\": \"a1\", \"target\": \"a\", \"rule\": \"one_to_one\", \"weight\": 0.5, \"delay\": 0.1},\n"
        "  {\"source\": \"in\", \"name\": \"a2\", \"target\": \"a\", \"rule\": \"one_to_one\", \"weight\": 0.25, \"delay\": 0.1},\n"
        "  {\"source\": \"in\", \"name\": \"b1\", \"target\": \"b\", \"rule\": \"one_to_one\", \"weight\": 1.0, \"delay\": 0.1},\n"
        "  {\"source\": \"in\", \"name\": \"b2\", \"target\": \"b\", \"rule\": \"one_to_one\", \"weight\": 0.5, \"delay\": 0.1}],\n"
        " \"inputs\": [{\"type\": \"poisson\", \"target\": \"in\", \"rate\": 400}]}\n";
    n4d_context *ctx = NULL;
    assert_int_equal(n4d_context_create(NULL, &ctx), N4D_OK);
    n4d_model *m = load(ctx, cfg, 0);
    for (int b = 0; b < 2; b++) {
        n4d_sim *sim = sim_on(m, b ? "cpu-omp" : "cpu-ref", 2);
        float v[150], ge[150];
        uint64_t spikes_a = 0;
        for (int k = 0; k < 3000; k++) {
            ASSERT_OK(n4d_sim_step(sim), sim);
            ASSERT_OK(n4d_sim_get_state(sim, "v", v, 150), sim);
            ASSERT_OK(n4d_sim_get_state(sim, "ge", ge, 150), sim);
            for (int i = 0; i < 50; i++) {
                CHECK(v[50 + i] == v[100 + i] && ge[50 + i] == ge[100 + i],
                      "step %d neuron %d: a (scale 2) v %.9g ge %.9g, b (weights x 2) v %.9g ge "
                      "%.9g",
                      k, i, (double)v[50 + i], (double)ge[50 + i], (double)v[100 + i],
                      (double)ge[100 + i]);
                spikes_a += n4d_sim_spiked_at(sim, 50 + (uint64_t)i, (uint64_t)k) == 1;
            }
        }
        assert_true(spikes_a > 10); /* the input matters */
        n4d_sim_destroy(sim);
    }
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
}

typedef struct outcome {
    uint64_t n, checksum;
    uint64_t *steps;
    uint32_t *ids;
    float scale[NIN + NPOST];
} outcome;

static outcome run(const char *backend, int32_t threads, int zorder, const uint64_t *chunks,
                   uint64_t steps)
{
    n4d_context *ctx = NULL;
    assert_int_equal(n4d_context_create(NULL, &ctx), N4D_OK);
    n4d_model *m = load(ctx, CONFIG, zorder);
    n4d_sim *sim = sim_on(m, backend, threads);
    uint64_t done = 0;
    for (size_t k = 0; done < steps; k += chunks[k + 1] != 0) {
        const uint64_t c = chunks[k] < steps - done ? chunks[k] : steps - done;
        ASSERT_OK(n4d_sim_run(sim, c), sim);
        done += c;
    }
    outcome o;
    const uint64_t *sp;
    const uint32_t *id;
    ASSERT_OK(n4d_sim_spikes(sim, &sp, &id, &o.n), sim);
    o.steps = malloc((o.n ? o.n : 1) * sizeof *o.steps);
    o.ids = malloc((o.n ? o.n : 1) * sizeof *o.ids);
    assert_true(o.steps && o.ids);
    memcpy(o.steps, sp, o.n * sizeof *sp);
    memcpy(o.ids, id, o.n * sizeof *id);
    o.checksum = n4d_sim_checksum(sim);
    ASSERT_OK(n4d_sim_get_homeostatic_scale(sim, o.scale, NIN + NPOST), sim);
    n4d_sim_destroy(sim);
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
    return o;
}

static void test_bitwise(void **state)
{
    (void)state;
    const uint64_t whole[] = {8000, 0}, odd[] = {1, 999, 7, 1500, 0};
    outcome ref = run("cpu-ref", 1, 0, whole, 8000);
    const struct {
        const char *name, *backend;
        int32_t threads;
        int zorder;
        const uint64_t *chunks;
    } cases[] = {
        {"cpu-omp 1 thread", "cpu-omp", 1, 0, whole},
        {"cpu-omp 2 threads, odd run lengths", "cpu-omp", 2, 0, odd},
        {"cpu-omp 4 threads", "cpu-omp", 4, 0, whole},
        {"cpu-omp 3 threads, Z-order", "cpu-omp", 3, 1, odd},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        outcome o = run(cases[c].backend, cases[c].threads, cases[c].zorder, cases[c].chunks, 8000);
        CHECK(o.n == ref.n && o.checksum == ref.checksum, "%s: %llu spikes, reference %llu",
              cases[c].name, (unsigned long long)o.n, (unsigned long long)ref.n);
        for (uint64_t k = 0; k < ref.n; k++)
            CHECK(o.steps[k] == ref.steps[k] && o.ids[k] == ref.ids[k], "%s: spike %llu differs",
                  cases[c].name, (unsigned long long)k);
        CHECK(memcmp(o.scale, ref.scale, sizeof o.scale) == 0, "%s: scales differ", cases[c].name);
        free(o.steps);
        free(o.ids);
    }
    free(ref.steps);
    free(ref.ids);
}

static void test_file_and_errors(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    assert_int_equal(n4d_context_create(NULL, &ctx), N4D_OK);
    n4d_model *m = load(ctx, CONFIG, 0);
    n4d_homeostasis h;
    n4d_homeostasis_init(&h);
    int on = 0;
    ASSERT_OK(n4d_model_get_homeostasis(m, "post", &h, &on), m);
    assert_int_equal(on, 1);
    assert_true(h.target_rate == 10.0 && h.window == 500.0 && h.eta == 0.1 &&
                h.scale_min == 0.02 && h.scale_max == 5.0);
    n4d_homeostasis off;
    n4d_homeostasis_init(&off);
    ASSERT_OK(n4d_model_get_homeostasis(m, "in", &off, &on), m);
    assert_int_equal(on, 0);
    assert_true(off.target_rate == 0.0 && off.window == 1000.0);
    /* a saved model keeps it, and runs the same */
    char path[] = "/tmp/n4d_homeo_XXXXXX";
    const int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    n4d_status st = n4d_model_save(m, path, NULL);
    if (st != N4D_E_NOT_BUILT) {
        ASSERT_OK(st, m);
        n4d_model *l = NULL;
        ASSERT_OK(n4d_model_load(ctx, path, NULL, &l), ctx);
        n4d_homeostasis hl;
        n4d_homeostasis_init(&hl);
        ASSERT_OK(n4d_model_get_homeostasis(l, "post", &hl, &on), l);
        assert_int_equal(on, 1);
        assert_memory_equal(&hl, &h, sizeof h);
        n4d_sim *a = sim_on(m, "cpu-omp", 2), *b = sim_on(l, "cpu-omp", 2);
        ASSERT_OK(n4d_sim_run(a, 3000), a);
        ASSERT_OK(n4d_sim_run(b, 3000), b);
        assert_int_equal(n4d_sim_checksum(a), n4d_sim_checksum(b));
        /* checkpoints hold the scales (test_learn_store resumes them) */
        ASSERT_OK(n4d_sim_checkpoint(a, path, NULL), a);
        n4d_sim_destroy(a);
        n4d_sim_destroy(b);
        n4d_model_destroy(l);
    }
    unlink(path);
    /* cuda refuses it (or is not built); "auto" runs it on the CPU */
    n4d_sim_options o;
    n4d_sim_options_init(&o);
    o.backend = "cuda";
    n4d_sim *sim = NULL;
    st = n4d_sim_create(m, &o, &sim);
    CHECK(st == N4D_E_UNSUPPORTED || st == N4D_E_NOT_BUILT, "cuda with homeostasis: %d", (int)st);
    assert_null(sim);
    o.backend = "auto";
    ASSERT_OK(n4d_sim_create(m, &o, &sim), m);
    assert_true(strncmp(n4d_sim_backend(sim), "cpu", 3) == 0);
    float sc[3];
    assert_int_equal(n4d_sim_get_homeostatic_scale(sim, sc, 3), N4D_E_RANGE);
    assert_int_equal(n4d_sim_get_homeostatic_scale(sim, NULL, NIN + NPOST), N4D_E_INVALID_ARG);
    n4d_sim_destroy(sim);
    /* after the build: read-only */
    assert_int_equal(n4d_model_set_homeostasis(m, "post", NULL), N4D_E_STATE);
    n4d_model_destroy(m);

    /* API values */
    ASSERT_OK(n4d_model_create(ctx, &m), ctx);
    const int32_t lo[4] = {0, 0, 0, 0}, hi[4] = {0, 0, 0, 0};
    ASSERT_OK(n4d_model_add_area(m, "a", lo, hi), m);
    n4d_population_desc pd;
    n4d_population_desc_init(&pd);
    pd.name = "p";
    pd.area = "a";
    ASSERT_OK(n4d_model_add_population(m, &pd, NULL), m);
    n4d_homeostasis_init(&h);
    assert_int_equal(n4d_model_set_homeostasis(m, "p", &h), N4D_E_RANGE); /* no target */
    assert_non_null(strstr(n4d_last_error(m), "target_rate"));
    h.target_rate = 5.0;
    assert_int_equal(n4d_model_set_homeostasis(m, "q", &h), N4D_E_CONFIG);
    assert_non_null(strstr(n4d_last_error(m), "\"q\""));
    const struct {
        double window, eta, lo, hi;
        const char *key;
    } bad[] = {{0.01, 0.1, 0, 10, "window"},  {1000, 0, 0, 10, "eta"},
               {1000, 1.5, 0, 10, "eta"},     {1000, 0.1, -1, 10, "scale_min"},
               {1000, 0.1, 0, 0.5, "scale_max"}, {1000, 0.1, 3, 2, "scale_max"},
               {NAN, 0.1, 0, 10, "window"}};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        h.window = bad[k].window;
        h.eta = bad[k].eta;
        h.scale_min = bad[k].lo;
        h.scale_max = bad[k].hi;
        CHECK(n4d_model_set_homeostasis(m, "p", &h) == N4D_E_RANGE, "bad case %zu accepted", k);
        CHECK(strstr(n4d_last_error(m), bad[k].key) != NULL, "bad case %zu: \"%s\" lacks %s", k,
              n4d_last_error(m), bad[k].key);
    }
    n4d_model_destroy(m);

    /* config keys */
#define HCFG(H)                                                                                    \
    "{\"lattice_shape\": [2, 1, 1, 1], \"areas\": [{\"name\": \"a\", \"coord_ranges\": {\"x\": "   \
    "[0, 1], \"y\": [0, 0], \"z\": [0, 0], \"w\": [0, 0]}}], \"populations\": [{\"name\": \"p\", " \
    "\"area\": \"a\", \"homeostasis\": " H "}]}"
    static const char *const cfgs[][2] = {
        {HCFG("{\"window\": 100}"), "populations[0].homeostasis.target_rate: missing key"},
        {HCFG("{\"target_rate\": -1}"), "populations[0].homeostasis.target_rate"},
        {HCFG("{\"target_rate\": 5, \"tau\": 3}"), "populations[0].homeostasis.tau"},
        {HCFG("{\"target_rate\": 5, \"eta\": 2}"), "eta must be in (0, 1]"},
        {HCFG("5"), "populations[0].homeostasis"},
    };
    for (size_t k = 0; k < sizeof cfgs / sizeof *cfgs; k++) {
        m = NULL;
        st = n4d_model_from_json_string(ctx, cfgs[k][0], strlen(cfgs[k][0]), "bad", &m);
        CHECK(st != N4D_OK && !m, "config %zu accepted", k);
        CHECK(strstr(n4d_last_error(ctx), cfgs[k][1]) != NULL, "config %zu: \"%s\" lacks \"%s\"", k,
              n4d_last_error(ctx), cfgs[k][1]);
    }
    n4d_context_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rule),
        cmocka_unit_test(test_effect),
        cmocka_unit_test(test_bitwise),
        cmocka_unit_test(test_file_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
