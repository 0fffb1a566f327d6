/* Construction on the GPU without a GPU: the core's device path (choice of
 * the build backend, upload of the projections, layout from the device's
 * counts, fetch of the CSR, fallbacks and errors) runs against
 * tests/mock_cuda.c, a stand-in for libn4d_cuda.so that performs the device
 * algorithm of cuda/build.cu on the host (N4D_CUDA_LIBRARY points to it; see
 * tests/build_device.cmake). The models it builds must be the CPU builds,
 * bit for bit; a failure at any step must fail the build cleanly ("cuda") or
 * fall back to the CPU ("auto"). The same comparisons on a real GPU are in
 * test_cuda conformance (test_build_models). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "n4d.h"
#include "cuda_loader.h" /* n4d__cuda_self_test */
#include "internal.h" /* the built synapse arrays */

#include "test_models.h"

/* Warnings of the library, kept for inspection. */
static char g_log[4096];

static void keep_log(void *ud, int32_t level, const char *msg)
{
    (void)ud;
    (void)level;
    size_t n = strlen(g_log);
    snprintf(g_log + n, sizeof g_log - n, "%s\n", msg);
}

static n4d_context *new_ctx(void)
{
    n4d_context_options o;
    n4d_context_options_init(&o);
    o.log = keep_log;
    n4d_context *ctx = NULL;
    OK(n4d_context_create(&o, &ctx));
    g_log[0] = '\0';
    return ctx;
}

/* Builds make() with backend `builder` and on the CPU and compares them. */
static void compare(const char *name, model_fn make, const char *builder,
                    const n4d_layout_options *lay, const char *expect_built_on)
{
    n4d_context *ctx = new_ctx();
    compare_builds(ctx, name, make, builder, lay, 31, expect_built_on);
    n4d_context_destroy(ctx);
}

/* 12,000 lif_exp neurons with fixed_probability and fixed_indegree
 * projections: large enough for "auto" to build on the device. */
static n4d_model *model_12k(n4d_context *ctx, uint64_t seed)
{
    const uint32_t shape[4] = {40, 30, 10, 1};
    n4d_model *m = new_model(ctx, shape, seed);
    area(m, "exc", 0, 39, 0, 29, 0, 7, 0, 0);
    area(m, "inh", 0, 39, 0, 29, 8, 9, 0, 0);
    n4d_population_desc d;
    n4d_population_desc_init(&d);
    d.model = N4D_NEURON_LIF_EXP;
    d.name = "E";
    d.area = "exc";
    pop(m, &d); /* 9600 */
    d.name = "I";
    d.area = "inh";
    pop(m, &d); /* 2400 */
    n4d_projection_desc p = proj("E", "E", N4D_RULE_FIXED_PROBABILITY, 0.01, 0);
    p.weight = n4d_dist_normal(0.5, 0.2, 0.0, 2.0);
    p.delay = n4d_dist_uniform(0.5, 3.0);
    p.allow_autapses = 0;
    projection(m, &p);
    p = proj("I", "E", N4D_RULE_FIXED_INDEGREE, 0, -2.0);
    p.n = 25;
    p.delay = n4d_dist_constant(0.8);
    projection(m, &p);
    p = proj("E", "I", N4D_RULE_FIXED_TOTAL_NUMBER, 0, 0);
    p.n = 50000;
    p.weight = n4d_dist_normal(0.4, 0.1, 0.0, INFINITY);
    p.delay = n4d_dist_normal(1.5, 0.5, 0.1, INFINITY);
    projection(m, &p);
    build(m);
    return m;
}

static void test_identical_builds(void **state)
{
    (void)state;
    compare("cuba", model_cuba, "cuda", NULL, "cuda:0");
    compare("brunel", model_brunel, "cuda", NULL, "cuda:0");
    compare("izhikevich", model_izhikevich, "cuda", NULL, "cuda:0");
    compare("adex", model_adex, "cuda", NULL, "cuda:0");
    compare("4d", model_4d, "cuda", NULL, "cuda:0");
    compare("multi-poisson", model_multi_poisson, "cuda:0", NULL, "cuda:0");
    compare("rules", model_rules, "cuda", NULL, "cuda:0");
    compare("12k", model_12k, "cuda", NULL, "cuda:0");
    n4d_layout_options lay;
    n4d_layout_options_init(&lay);
    lay.order = N4D_ORDER_ZORDER;
    lay.partitions = 5;
    compare("rules/zorder+5", model_rules, "cuda", &lay, "cuda:0");
    compare("4d/zorder+5", model_4d, "cuda", &lay, "cuda:0");
    lay.order = N4D_ORDER_LATTICE;
    lay.partitions = 3;
    lay.balance_synapses = 1; /* partitions from the device's counts */
    compare("12k/3 partitions by synapses", model_12k, "cuda", &lay, "cuda:0");
}

static void test_auto(void **state)
{
    (void)state;
    compare("12k auto", model_12k, "auto", NULL, "cuda:0");   /* >= 10,000 neurons */
    compare("rules auto", model_rules, "auto", NULL, "cpu"); /* 1,653 neurons */
}

/* One population on an nx x ny area with fixed_probability p onto itself. */
static n4d_model *one_population(n4d_context *ctx, uint64_t seed, int32_t nx, int32_t ny, double p)
{
    const uint32_t shape[4] = {(uint32_t)nx, (uint32_t)ny, 1, 1};
    n4d_model *m = new_model(ctx, shape, seed);
    area(m, "a", 0, nx - 1, 0, ny - 1, 0, 0, 0, 0);
    n4d_population_desc d;
    n4d_population_desc_init(&d);
    d.name = "p";
    d.area = "a";
    pop(m, &d);
    n4d_projection_desc pr = proj("p", "p", N4D_RULE_FIXED_PROBABILITY, p, 1.0);
    projection(m, &pr);
    build(m);
    return m;
}

/* Rows with and without synapses, the last rows empty. */
static n4d_model *model_sparse_rows(n4d_context *ctx, uint64_t seed)
{
    return one_population(ctx, seed, 10, 10, 0.02);
}

static n4d_model *model_no_synapses(n4d_context *ctx, uint64_t seed)
{
    return one_population(ctx, seed, 4, 1, 0.0);
}

static void test_edge_models(void **state)
{
    (void)state;
    compare("sparse rows", model_sparse_rows, "cuda", NULL, "cuda:0");
    compare("no synapses", model_no_synapses, "cuda", NULL, "cuda:0");
}

/* A device failure: "cuda" fails the build with the device's message and
 * leaves nothing allocated; "auto" builds the same model on the CPU with a
 * warning. */
static void test_failures(void **state)
{
    (void)state;
    /* the self-test ("auto") runs before any failure is injected */
    char why[1024] = "";
    CHECK(n4d__cuda_self_test(why, sizeof why) == N4D_OK, "self-test: %s", why);
    const char *steps[] = {"count", "fill", "fetch"};
    for (int k = 0; k < 3; k++) {
        setenv("N4D_MOCK_FAIL", steps[k], 1);
        n4d_context *ctx = new_ctx();
        const uint32_t shape[4] = {40, 30, 10, 1};
        n4d_model *m = new_model(ctx, shape, 5);
        OK(n4d_model_set_build_backend(m, "cuda"));
        area(m, "a", 0, 39, 0, 29, 0, 9, 0, 0);
        n4d_population_desc d;
        n4d_population_desc_init(&d);
        d.name = "p";
        d.area = "a";
        pop(m, &d);
        n4d_projection_desc p = proj("p", "p", N4D_RULE_FIXED_PROBABILITY, 0.01, 1.0);
        p.weight = n4d_dist_normal(1.0, 0.3, 0.0, 3.0);
        projection(m, &p);
        n4d_status st = n4d_model_build(m);
        const char *msg = n4d_last_error(m);
        CHECK(st == N4D_E_NOMEM && strstr(msg, "building on the GPU") && strstr(msg, steps[k]),
              "injected failure in %s -> %d \"%s\"", steps[k], (int)st, msg);
        assert_false(n4d_model_is_built(m));
        n4d_memory_stats ms;
        ms.struct_size = sizeof ms;
        OK(n4d_context_memory(ctx, &ms));
        CHECK(ms.current[N4D_MEM_SYNAPSES] == 0 && ms.current[N4D_MEM_BUILD] == 0 &&
                  ms.current[N4D_MEM_NEURONS] == 0,
              "after a failed device build (%s): %llu bytes of synapses, %llu of build memory, "
              "%llu of neurons still allocated",
              steps[k], (unsigned long long)ms.current[N4D_MEM_SYNAPSES],
              (unsigned long long)ms.current[N4D_MEM_BUILD],
              (unsigned long long)ms.current[N4D_MEM_NEURONS]);
        /* the same model, auto: on the CPU after the device failed */
        OK(n4d_model_set_build_backend(m, "auto"));
        build(m);
        assert_string_equal(n4d_model_build_backend(m), "cpu");
        CHECK(strstr(g_log, "GPU build failed") && strstr(g_log, steps[k]),
              "no fallback warning for a failure in %s: \"%s\"", steps[k], g_log);
        n4d_model_destroy(m);
        n4d_context_destroy(ctx);
        unsetenv("N4D_MOCK_FAIL");
        /* and that CPU build is the normal one */
        setenv("N4D_MOCK_FAIL", steps[k], 1);
        compare("12k auto after a device failure", model_12k, "auto", NULL, "cpu");
        unsetenv("N4D_MOCK_FAIL");
    }
}

/* A device that miscounts and then fails: "auto" goes on on the CPU with the
 * device's counts, and the CPU fill finds that a row does not get its count
 * (instead of leaving unwritten synapses in the model). */
static void test_bad_counts(void **state)
{
    (void)state;
    char why[1024] = "";
    CHECK(n4d__cuda_self_test(why, sizeof why) == N4D_OK, "self-test: %s", why);
    setenv("N4D_MOCK_BAD_COUNTS", "1", 1);
    setenv("N4D_MOCK_FAIL", "fill", 1);
    n4d_context *ctx = new_ctx();
    const uint32_t shape[4] = {40, 30, 10, 1};
    n4d_model *m = new_model(ctx, shape, 5);
    OK(n4d_model_set_build_backend(m, "auto"));
    area(m, "a", 0, 39, 0, 29, 0, 9, 0, 0);
    n4d_population_desc d;
    n4d_population_desc_init(&d);
    d.name = "p";
    d.area = "a";
    pop(m, &d);
    n4d_projection_desc p = proj("p", "p", N4D_RULE_FIXED_PROBABILITY, 0.01, 1.0);
    projection(m, &p);
    const n4d_status st = n4d_model_build(m);
    CHECK(st == N4D_E_INTERNAL && strstr(n4d_last_error(m), "counts of the two build passes differ"),
          "miscounted device build -> %d \"%s\"", (int)st, n4d_last_error(m));
    assert_false(n4d_model_is_built(m));
    n4d_memory_stats ms;
    ms.struct_size = sizeof ms;
    OK(n4d_context_memory(ctx, &ms));
    assert_int_equal(ms.current[N4D_MEM_SYNAPSES] + ms.current[N4D_MEM_BUILD], 0);
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
    unsetenv("N4D_MOCK_FAIL");
    unsetenv("N4D_MOCK_BAD_COUNTS");
}

/* A model built "on the device" simulates like the CPU build: the same
 * spikes and final states. */
static void test_run_device_built(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    g_build_backend = "cpu";
    n4d_model *ref = model_rules(ctx, 8);
    g_build_backend = "cuda";
    n4d_model *m = model_rules(ctx, 8);
    g_build_backend = NULL;
    const uint64_t N = n4d_model_num_neurons(m);
    sim_result r[2];
    n4d_model *models[2] = {ref, m};
    for (int k = 0; k < 2; k++) {
        n4d_sim_options o;
        n4d_sim_options_init(&o);
        o.backend = "cpu-omp";
        n4d_sim *sim = NULL;
        OK(n4d_sim_create(models[k], &o, &sim));
        OK(n4d_sim_run(sim, 500));
        r[k] = capture_result(sim, N);
        n4d_sim_destroy(sim);
    }
    CHECK(r[0].n > 100 && r[0].n == r[1].n && r[0].checksum == r[1].checksum,
          "cpu build: %llu spikes, checksum %016llx; device build: %llu, %016llx",
          (unsigned long long)r[0].n, (unsigned long long)r[0].checksum,
          (unsigned long long)r[1].n, (unsigned long long)r[1].checksum);
    for (int i = 0; i < NVARS; i++)
        CHECK(memcmp(r[0].state[i], r[1].state[i], N * sizeof(float)) == 0,
              "state %s differs after 500 steps", VARS[i]);
    result_free(&r[0]);
    result_free(&r[1]);
    n4d_model_destroy(ref);
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
}

/* The device passes the self-test that "auto" runs first. */
static void test_self_test_passes(void **state)
{
    (void)state;
    char why[1024] = "";
    CHECK(n4d__cuda_self_test(why, sizeof why) == N4D_OK, "self-test: %s", why);
}

/* N4D_MOCK_CORRUPT: the device's simulations are wrong. The self-test says
 * so, "auto" builds and simulates on the CPU with a warning, an explicit
 * "cuda" still builds on the device (the builds are right). */
static void test_self_test_fails(void **state)
{
    (void)state;
    char why[1024] = "";
    assert_int_equal(n4d__cuda_self_test(why, sizeof why), N4D_E_INTERNAL);
    CHECK(strstr(why, "self-test") && strstr(why, "differ"), "self-test message: %s", why);
    compare("12k auto, failed self-test", model_12k, "auto", NULL, "cpu");
    compare("12k cuda, failed self-test", model_12k, "cuda", NULL, "cuda:0");
    n4d_context *ctx = new_ctx();
    g_build_backend = "auto";
    n4d_model *m = model_12k(ctx, 3);
    g_build_backend = NULL;
    CHECK(strstr(g_log, "self-test") && strstr(g_log, "building on the CPU"), "log: %s", g_log);
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
}

int main(int argc, char **argv)
{
    if (!getenv("N4D_CUDA_LIBRARY")) {
        printf("SKIPPED: N4D_CUDA_LIBRARY is not set (ctest points it to the mock library)\n");
        return 77;
    }
    if (argc > 1 && strcmp(argv[1], "selftest-fails") == 0) {
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_self_test_fails)};
        return cmocka_run_group_tests(tests, NULL, NULL);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_self_test_passes), cmocka_unit_test(test_identical_builds),
        cmocka_unit_test(test_auto),             cmocka_unit_test(test_edge_models),
        cmocka_unit_test(test_failures),         cmocka_unit_test(test_bad_counts),
        cmocka_unit_test(test_run_device_built),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
