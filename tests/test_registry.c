/* The backend registry through the public API (include/n4d/sim.h): the
 * entries, their capability flags, probing by name, and what n4d_sim_create
 * answers for names the registry does not know or a model it cannot run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "n4d.h"
#include "test_util.h"

static const char *find(const char *name)
{
    for (uint32_t i = 0; i < n4d_backend_count(); i++)
        if (strcmp(n4d_backend_name(i), name) == 0)
            return n4d_backend_name(i);
    return NULL;
}

static void test_entries(void **state)
{
    (void)state;
    assert_true(n4d_backend_count() >= 3);
    assert_null(n4d_backend_name(n4d_backend_count()));
    assert_non_null(find("cpu-ref"));
    assert_non_null(find("cpu-omp"));
    assert_non_null(find("cuda"));
    /* exactly one reference; the CPU backends always run */
    int refs = 0;
    for (uint32_t i = 0; i < n4d_backend_count(); i++)
        refs += (n4d_backend_caps(n4d_backend_name(i)) & N4D_BACKEND_REFERENCE) != 0;
    assert_int_equal(refs, 1);
    assert_true(n4d_backend_caps("cpu-ref") & N4D_BACKEND_REFERENCE);
    assert_true(n4d_backend_caps("cpu-omp") & N4D_BACKEND_THREADS);
    assert_true(n4d_backend_caps("cpu-omp") & N4D_BACKEND_COMPRESSION);
    assert_false(n4d_backend_caps("cpu-ref") & N4D_BACKEND_COMPRESSION);
    assert_true(n4d_backend_caps("cuda") & N4D_BACKEND_DEVICE);
    assert_true(n4d_backend_caps("cuda") & N4D_BACKEND_DEVICE_INDEX);
    assert_int_equal(n4d_backend_probe("cpu-ref", NULL, 0), N4D_OK);
    assert_int_equal(n4d_backend_probe("cpu-omp", NULL, 0), N4D_OK);
    /* cuda: available, or a reason that names what is missing */
    char why[512];
    n4d_status st = n4d_backend_probe("cuda", why, sizeof why);
    if (st != N4D_OK) {
        assert_true(st == N4D_E_NOT_BUILT || st == N4D_E_NO_DEVICE);
        assert_true(why[0] != '\0');
        print_message("[ SKIPPED  ] backend cuda: %s\n", why);
    }
}

static void test_bad_names(void **state)
{
    (void)state;
    char why[256];
    const char *bad[] = {"nosuch", "", "cuda:", "cuda:x", "cuda:-1", "cuda:+1", "cuda:2000",
                         "cpu-omp:0", "CPU-OMP"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        assert_int_equal(n4d_backend_caps(bad[k]), 0);
        assert_int_equal(n4d_backend_probe(bad[k], why, sizeof why), N4D_E_INVALID_ARG);
        assert_non_null(strstr(why, "unknown backend"));
    }
    assert_int_equal(n4d_backend_caps(NULL), 0);
    assert_int_equal(n4d_backend_probe(NULL, NULL, 0), N4D_E_INVALID_ARG);
    /* a small buffer: truncated, terminated */
    char tiny[8];
    assert_int_equal(n4d_backend_probe("nosuch", tiny, sizeof tiny), N4D_E_INVALID_ARG);
    assert_int_equal(strlen(tiny), sizeof tiny - 1);
}

static void test_sim_create_names(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    OK(n4d_context_create(NULL, &ctx));
    static const char json[] =
        "{\"lattice_shape\": [4, 4, 1, 1], \"areas\": [{\"name\": \"a\", \"coord_ranges\":"
        " {\"x\": [0, 3], \"y\": [0, 3], \"z\": [0, 0], \"w\": [0, 0]}}],"
        " \"populations\": [{\"name\": \"P\", \"area\": \"a\"}]}";
    n4d_model *m = NULL;
    ASSERT_OK(n4d_model_from_json_string(ctx, json, sizeof json - 1, "tiny", &m), ctx);
    ASSERT_OK(n4d_model_build(m), m);
    n4d_sim_options o;
    n4d_sim_options_init(&o);
    n4d_sim *sim = NULL;
    o.backend = "nosuch";
    assert_int_equal(n4d_sim_create(m, &o, &sim), N4D_E_INVALID_ARG);
    assert_null(sim);
    /* the message lists the registered backends */
    assert_non_null(strstr(n4d_last_error(m), "cpu-ref"));
    assert_non_null(strstr(n4d_last_error(m), "cuda:N"));
    o.backend = "cpu-omp:1";
    assert_int_equal(n4d_sim_create(m, &o, &sim), N4D_E_INVALID_ARG);
    o.backend = "cuda:x";
    assert_int_equal(n4d_sim_create(m, &o, &sim), N4D_E_INVALID_ARG);
    assert_non_null(strstr(n4d_last_error(m), "device number"));
    /* auto on a small model: the CPU, whatever devices exist */
    o.backend = "auto";
    ASSERT_OK(n4d_sim_create(m, &o, &sim), m);
    assert_string_equal(n4d_last_error(m), ""); /* a success clears this thread's text */
    assert_string_equal(n4d_sim_backend(sim), "cpu-omp");
    n4d_sim_destroy(sim);
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
}

/* A refractory period beyond int32 steps is refused by name where it is
 * set, not turned into undefined behaviour (it used to silently disable
 * refractoriness; more paths in test_hostile.c). */
static void test_long_refractory(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    OK(n4d_context_create(NULL, &ctx));
    static const char json[] =
        "{\"dt\": 0.1, \"lattice_shape\": [2, 2, 1, 1], \"areas\": [{\"name\": \"a\","
        " \"coord_ranges\": {\"x\": [0, 1], \"y\": [0, 1], \"z\": [0, 0], \"w\": [0, 0]}}],"
        " \"populations\": [{\"name\": \"P\", \"area\": \"a\", \"model\": \"adex\","
        " \"params\": {\"t_ref\": 1e12}}]}";
    n4d_model *m = NULL;
    ASSERT_ERR_MSG(n4d_model_from_json_string(ctx, json, sizeof json - 1, "long", &m),
                   N4D_E_CONFIG, ctx, "population \"P\" (model adex): t_ref 1e+12 ms");
    assert_null(m);
    n4d_context_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_entries),
        cmocka_unit_test(test_bad_names),
        cmocka_unit_test(test_sim_create_names),
        cmocka_unit_test(test_long_refractory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
