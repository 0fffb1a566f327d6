/* The CUDA backend and the GPU API (docs/gpu.md).
 *
 * Modes (first argument; registrations in tests/cuda.cmake):
 *   host (default)  host-side logic, no GPU needed: loading libn4d_cuda.so
 *                   (from N4D_CUDA_LIBRARY, set by ctest to the build's
 *                   library), n4d_has_feature, `cuda` -> N4D_E_NO_DEVICE
 *                   with the reason (or a working sim where a GPU is),
 *                   the `auto` fallback, the n4d_gpu handle, and the array
 *                   API's CPU path against straightforward references (and
 *                   the GPU path against the CPU where a GPU is);
 *   absent          the library cannot be loaded (N4D_CUDA_LIBRARY points
 *                   nowhere): N4D_E_NOT_BUILT, CPU fallbacks;
 *   search          no N4D_CUDA_LIBRARY: the library is found next to the
 *                   program (the core's directory, via dladdr);
 *   conformance     the backend conformance suite on `cuda`: spike trains,
 *                   checksums and final states bitwise equal to cpu-ref on
 *                   CUBA, Brunel (Poisson, fixed_indegree, delays), the 4D
 *                   demo-like model (distance projections, DC, a sense),
 *                   Izhikevich, several Poisson inputs, storage layouts,
 *                   chunked runs, inputs between runs, the protocol for
 *                   steps whose report failed, and a device record buffer
 *                   of 50 ids (chunks halt on the device). Without a device it prints
 *                   "SKIPPED: no CUDA device (...)" and returns 77;
 *   harness         the same suite with cpu-omp standing in for cuda, so
 *                   the suite itself is exercised on machines without GPU.
 * Built with N4D_TEST_CUDA_LIB (the path of the built library) when the
 * CUDA library is part of the build. */
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
#include "n4d/gpu.h"
#include "backend.h" /* the observer hook, for the report protocol */
#include "internal.h" /* the built synapse arrays, compared array by array */

#include "test_models.h"

static const char *g_mode = "host";
static const char *g_backend = "cuda"; /* the backend under test (harness: cpu-omp) */
static const char *g_builder = "cuda"; /* the build backend under test (harness: auto) */

#ifdef N4D_TEST_CUDA_LIB
static const int g_lib_built = 1;
#else
static const int g_lib_built = 0;
#endif

/* ---- failing allocator (report protocol) --------------------------------------------- */

static int g_fail_alloc; /* while set, every allocation of the test context fails */

static void *fail_alloc_fn(void *ud, size_t size, size_t align)
{
    (void)ud;
    if (g_fail_alloc)
        return NULL;
    return aligned_alloc(align, (size + align - 1) / align * align);
}

static void fail_free_fn(void *ud, void *p, size_t size)
{
    (void)ud;
    (void)size;
    free(p);
}

/* ---- models: tests/test_models.h, plus a large one for the device ---------- */

/* A large model without synapses (the `auto` threshold). */
static n4d_model *model_big(n4d_context *ctx, uint64_t seed)
{
    const uint32_t shape[4] = {100, 100, 10, 1}; /* 100,000 sites */
    n4d_model *m = new_model(ctx, shape, seed);
    area(m, "all", 0, 99, 0, 99, 0, 9, 0, 0);
    n4d_population_desc d;
    n4d_population_desc_init(&d);
    d.model = N4D_NEURON_LIF;
    d.name = "P";
    d.area = "all";
    pop(m, &d);
    build(m);
    return m;
}

/* ---- running and comparing ------------------------------------------------------------ */

typedef void (*prepare_fn)(n4d_sim *sim);

/* How a candidate run is driven. */
enum {
    DRIVE_ONCE,
    DRIVE_CHUNKS,
    DRIVE_STEPS,
    DRIVE_INPUTS,
    DRIVE_NOMEM,
    DRIVE_OBSERVER,
    DRIVE_SMALL_RECORD /* cuda: a record buffer of 50 ids, chunks halt often */
};

static uint64_t g_obs_fail_step;
static n4d_status failing_observer(void *ud, n4d_sim *sim, uint64_t step, const uint32_t *ids,
                                   uint64_t count)
{
    (void)ud;
    (void)sim;
    (void)ids;
    (void)count;
    return step == g_obs_fail_step ? N4D_E_IO : N4D_OK;
}
static const n4d__hook_ops failing_hooks = {.name = "failing observer", .on_step = failing_observer};

/* Inputs between runs, applied identically on every backend. */
static void poke(n4d_sim *sim, uint64_t k)
{
    OK(n4d_sim_add_input(sim, (k * 7919) % 64, 25.0f));
    OK(n4d_sim_add_input(sim, (k * 104729) % 97, -5.0f));
}

static void perturb_state(n4d_sim *sim, uint64_t n)
{
    float *v = malloc(n * sizeof(float));
    assert_non_null(v);
    OK(n4d_sim_get_state(sim, "v", v, n));
    for (uint64_t i = 0; i < n; i += 3)
        v[i] += 0.5f;
    OK(n4d_sim_set_state(sim, "v", v, n));
    free(v);
}

static sim_result run_model(n4d_model *m, const char *backend, int drive, uint64_t steps,
                        prepare_fn prep)
{
    n4d_sim_options o;
    n4d_sim_options_init(&o);
    o.backend = backend;
    o.history_steps = 200;
    n4d_sim *sim = NULL;
    if (drive == DRIVE_SMALL_RECORD)
        setenv("N4D_CUDA_RECORD_CAP", "50", 1);
    n4d_status st = n4d_sim_create(m, &o, &sim);
    unsetenv("N4D_CUDA_RECORD_CAP");
    if (st)
        fail_msg("sim_create(%s) -> %d: %s", backend, (int)st, n4d_last_error(m));
    assert_string_equal(n4d_sim_backend(sim), backend);
    const uint64_t N = n4d_model_num_neurons(m);
    if (prep)
        prep(sim);
    switch (drive) {
    case DRIVE_ONCE:
    case DRIVE_SMALL_RECORD: OK(n4d_sim_run(sim, steps)); break;
    case DRIVE_CHUNKS:
        for (uint64_t done = 0; done < steps; done += 37)
            OK(n4d_sim_run(sim, steps - done < 37 ? steps - done : 37));
        break;
    case DRIVE_STEPS:
        for (uint64_t k = 0; k < steps; k++)
            OK(n4d_sim_step(sim));
        break;
    case DRIVE_INPUTS:
        for (uint64_t done = 0, k = 0; done < steps; done += 50, k++) {
            poke(sim, k);
            if (k == 3)
                perturb_state(sim, N);
            if (prep && k == 5)
                prep(sim);
            OK(n4d_sim_run(sim, steps - done < 50 ? steps - done : 50));
        }
        break;
    case DRIVE_NOMEM: {
        /* the recording cannot grow during the first run: it stops with
         * N4D_E_NOMEM at a step that is not reported; later runs report
         * it (and any other step computed ahead) first */
        uint64_t first = steps / 2;
        g_fail_alloc = 1;
        st = n4d_sim_run(sim, first);
        g_fail_alloc = 0;
        assert_int_equal(st, N4D_E_NOMEM);
        uint64_t at = n4d_sim_current_step(sim);
        CHECK(at < first, "NOMEM run ended at step %llu of %llu", (unsigned long long)at,
              (unsigned long long)first);
        OK(n4d_sim_run(sim, 1)); /* reports the failed step only */
        assert_int_equal(n4d_sim_current_step(sim), at + 1);
        OK(n4d_sim_run(sim, steps - at - 1));
        break;
    }
    case DRIVE_OBSERVER: {
        /* an observer error stops the run after its step (reported) */
        g_obs_fail_step = steps / 3;
        /* attached by hand: the shared library does not export the hook API */
        sim->hooks[sim->n_hooks++] = (n4d__hook){&failing_hooks, NULL, 0};
        st = n4d_sim_run(sim, steps);
        assert_int_equal(st, N4D_E_IO);
        assert_int_equal(n4d_sim_current_step(sim), g_obs_fail_step + 1);
        if (strcmp(backend, "cuda") == 0) {
            /* the device computed steps beyond the failed one: its state is
             * not the state at the current step, so reading it is refused */
            float *v = malloc((N ? N : 1) * sizeof *v);
            assert_non_null(v);
            st = n4d_sim_get_state(sim, "v", v, N);
            CHECK(st == N4D_E_STATE && strstr(n4d_last_error(sim), "not reported"),
                  "get_state with steps pending report -> %d \"%s\"", (int)st,
                  n4d_last_error(sim));
            free(v);
        }
        sim->n_hooks--;
        OK(n4d_sim_run(sim, steps - g_obs_fail_step - 1));
        break;
    }
    default: fail();
    }
    assert_int_equal(n4d_sim_current_step(sim), steps);
    sim_result r = capture_result(sim, N);
    /* the history window agrees with the record */
    for (uint64_t j = 0; j < r.n; j++)
        if (r.steps[j] + 100 >= steps)
            CHECK(n4d_sim_spiked_at(sim, r.ids[j], r.steps[j]) == 1, "history misses (%u, %llu)",
                  r.ids[j], (unsigned long long)r.steps[j]);
    n4d_sim_destroy(sim);
    return r;
}

static void same_result(const char *name, const char *what, const sim_result *a,
                        const sim_result *b,
                        uint64_t N)
{
    CHECK(a->n == b->n, "%s, %s: %llu spikes vs %llu", name, what, (unsigned long long)a->n,
          (unsigned long long)b->n);
    for (uint64_t j = 0; j < a->n; j++)
        CHECK(a->steps[j] == b->steps[j] && a->ids[j] == b->ids[j],
              "%s, %s: spike %llu differs: (%llu, %u) vs (%llu, %u)", name, what,
              (unsigned long long)j, (unsigned long long)a->steps[j], a->ids[j],
              (unsigned long long)b->steps[j], b->ids[j]);
    CHECK(a->checksum == b->checksum, "%s, %s: checksums differ", name, what);
    CHECK(a->total == b->total, "%s, %s: totals differ", name, what);
    for (int i = 0; i < NVARS; i++)
        CHECK(memcmp(a->state[i], b->state[i], N * sizeof(float)) == 0,
              "%s, %s: final state \"%s\" differs", name, what, VARS[i]);
}

static void conform(const char *name, model_fn make, uint64_t steps, uint64_t min_spikes,
                    prepare_fn prep, const int *drives, size_t n_drives)
{
    n4d_context_options co;
    n4d_context_options_init(&co);
    co.allocator.alloc = fail_alloc_fn;
    co.allocator.free = fail_free_fn;
    n4d_context *ctx = NULL;
    OK(n4d_context_create(&co, &ctx));
    n4d_model *m = make(ctx, 4242);
    const uint64_t N = n4d_model_num_neurons(m);
    static const char *const DRIVE_NAMES[] = {"one run", "runs of 37", "n4d_sim_step",
                                              "inputs between runs", "recording out of memory",
                                              "observer error", "small record buffer"};
    sim_result ref[2]; /* cpu-ref: one run; with the inputs between runs */
    memset(ref, 0, sizeof ref);
    for (size_t k = 0; k < n_drives; k++) {
        const int drive = drives[k];
        const int ri = drive == DRIVE_INPUTS;
        if (!ref[ri].steps) {
            ref[ri] = run_model(m, "cpu-ref", ri ? DRIVE_INPUTS : DRIVE_ONCE, steps, prep);
            CHECK(ref[ri].n >= min_spikes, "%s: only %llu spikes: the comparison would be vacuous",
                  name, (unsigned long long)ref[ri].n);
        }
        sim_result r = run_model(m, g_backend, drive, steps, prep);
        char what[96];
        snprintf(what, sizeof what, "%s vs cpu-ref, %s", g_backend, DRIVE_NAMES[drive]);
        same_result(name, what, &ref[ri], &r, N);
        if (getenv("N4D_TEST_VERBOSE"))
            print_message("%s: %s: %llu spikes, identical\n", name, what,
                          (unsigned long long)r.n);
        result_free(&r);
    }
    result_free(&ref[0]);
    result_free(&ref[1]);
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
}

static void feed_retina(n4d_sim *sim)
{
    float img[8 * 8];
    for (int i = 0; i < 64; i++)
        img[i] = (float)(i % 7) * 5.0f;
    OK(n4d_sim_feed_sense(sim, "retina", img, 8, 8, 0));
    OK(n4d_sim_feed_sense(sim, "retina", img, 8, 8, 2));
}

static const int ALL_DRIVES[] = {DRIVE_ONCE,  DRIVE_CHUNKS,   DRIVE_STEPS,       DRIVE_INPUTS,
                                 DRIVE_NOMEM, DRIVE_OBSERVER, DRIVE_SMALL_RECORD};
static const int SOME_DRIVES[] = {DRIVE_ONCE, DRIVE_CHUNKS, DRIVE_INPUTS};

static void test_conf_cuba(void **state)
{
    (void)state;
    conform("cuba", model_cuba, 1000, 500, NULL, ALL_DRIVES, 7);
}

static void test_conf_brunel(void **state)
{
    (void)state;
    conform("brunel", model_brunel, 2000, 2000, NULL, ALL_DRIVES, 7);
}

static void test_conf_4d(void **state)
{
    (void)state;
    conform("4d", model_4d, 2000, 1000, feed_retina, ALL_DRIVES, 7);
}

static void test_conf_adex(void **state)
{
    (void)state;
    conform("adex", model_adex, 1500, 1000, NULL, SOME_DRIVES, 3);
}

static void test_conf_izhikevich(void **state)
{
    (void)state;
    conform("izhikevich", model_izhikevich, 1500, 1000, NULL, SOME_DRIVES, 3);
}

static void test_conf_multi_poisson(void **state)
{
    (void)state;
    conform("multi-poisson", model_multi_poisson, 1000, 1000, NULL, SOME_DRIVES, 3);
}

/* Storage layouts (Morton order, partitions): Poisson input keyed by user id,
 * ids mapped back to user order. */
static void test_conf_layouts(void **state)
{
    (void)state;
    n4d_layout_options lay;
    n4d_layout_options_init(&lay);
    lay.order = N4D_ORDER_ZORDER;
    lay.partitions = 5;
    g_layout = &lay;
    const int once[] = {DRIVE_ONCE};
    conform("brunel/zorder+5", model_brunel, 600, 300, NULL, once, 1);
    conform("4d/zorder+5", model_4d, 600, 200, feed_retina, once, 1);
    conform("multi-poisson/zorder+5", model_multi_poisson, 600, 300, NULL, once, 1);
    g_layout = NULL;
}

/* Checkpoint and resume on the backend under test (the state and the delay
 * ring copied off and onto the device), and a state recording that samples
 * V every 7 steps (the run split at each sample): the same spikes, states and
 * checksum as one uninterrupted cpu-ref run. */
static void test_conf_checkpoint(void **state)
{
    (void)state;
    if (!n4d_has_feature(N4D_FEATURE_HDF5))
        skip(); /* checkpoints and recordings are HDF5 files */
    n4d_context *ctx = NULL;
    OK(n4d_context_create(NULL, &ctx));
    n4d_model *m = model_brunel(ctx, 4242); /* delays of 15-30 steps: a busy ring */
    const uint64_t N = n4d_model_num_neurons(m), total = 600, first = 250;
    sim_result ref = run_model(m, "cpu-ref", DRIVE_ONCE, total, NULL);
    char path[512], rec[512];
    /* per process: the GPU and the mock conformance runs share a directory */
    snprintf(path, sizeof path, "%s/test_cuda_checkpoint_%s_%ld.h5", N4D_BINARY_DIR, g_backend,
             (long)getpid());
    snprintf(rec, sizeof rec, "%s/test_cuda_record_%s_%ld.h5", N4D_BINARY_DIR, g_backend,
             (long)getpid());
    n4d_sim_options o;
    n4d_sim_options_init(&o);
    o.backend = g_backend;
    o.history_steps = 200;
    n4d_sim *sim = NULL;
    OK(n4d_sim_create(m, &o, &sim));
    n4d_record_options ro;
    n4d_record_options_init(&ro);
    const uint64_t ids[3] = {0, N / 2, N - 1};
    ro.report_ids = ids;
    ro.n_report_ids = 3;
    ro.report_every = 7;
    OK(n4d_sim_record_open(sim, rec, &ro));
    OK(n4d_sim_run(sim, first));
    OK(n4d_sim_checkpoint(sim, path, NULL));
    OK(n4d_sim_run(sim, total - first));
    OK(n4d_sim_record_close(sim));
    sim_result a = capture_result(sim, N);
    n4d_sim_destroy(sim);
    same_result("brunel", "checkpointed and recorded run vs cpu-ref", &ref, &a, N);
    /* resume on the same backend */
    n4d_resume_options rso;
    n4d_resume_options_init(&rso);
    rso.backend = g_backend;
    n4d_model *m2 = NULL;
    n4d_sim *sim2 = NULL;
    n4d_status st = n4d_sim_resume(ctx, path, &rso, &m2, &sim2);
    if (st)
        fail_msg("resume -> %d: %s", (int)st, n4d_last_error(ctx));
    assert_string_equal(n4d_sim_backend(sim2), g_backend);
    assert_int_equal(n4d_sim_current_step(sim2), first);
    OK(n4d_sim_run(sim2, total - first));
    sim_result b = capture_result(sim2, N);
    same_result("brunel", "resumed run vs cpu-ref", &ref, &b, N);
    n4d_sim_destroy(sim2);
    n4d_model_destroy(m2);
    remove(path);
    remove(rec);
    result_free(&ref);
    result_free(&a);
    result_free(&b);
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
}

/* ---- construction on the device ---------------------------------------------------- */

/* A model built by g_builder is the cpu build, bit for bit. */
static void build_conform(const char *name, model_fn make, const n4d_layout_options *lay)
{
    n4d_context *ctx = NULL;
    OK(n4d_context_create(NULL, &ctx));
    compare_builds(ctx, name, make, g_builder, lay, 99, NULL);
    n4d_context_destroy(ctx);
}

static void test_build_models(void **state)
{
    (void)state;
    build_conform("cuba", model_cuba, NULL);
    build_conform("brunel", model_brunel, NULL);
    build_conform("izhikevich", model_izhikevich, NULL);
    build_conform("4d", model_4d, NULL);
    build_conform("multi-poisson", model_multi_poisson, NULL);
    build_conform("rules", model_rules, NULL);
    n4d_layout_options lay;
    n4d_layout_options_init(&lay);
    lay.order = N4D_ORDER_ZORDER;
    lay.partitions = 5;
    build_conform("rules/zorder+5", model_rules, &lay);
    build_conform("4d/zorder+5", model_4d, &lay);
}

/* A device-built model simulates like the cpu build (cuda vs cpu-ref). */
static n4d_model *model_rules_built_here(n4d_context *ctx, uint64_t seed)
{
    g_build_backend = g_builder;
    n4d_model *m = model_rules(ctx, seed);
    g_build_backend = NULL;
    return m;
}

static void test_build_then_run(void **state)
{
    (void)state;
    const int once[] = {DRIVE_ONCE};
    conform("rules built by the device", model_rules_built_here, 1000, 1000, NULL, once, 1);
}

/* ---- host-side logic ------------------------------------------------------------------ */

static n4d_model *tiny_model(n4d_context *ctx)
{
    const uint32_t shape[4] = {4, 4, 4, 1};
    n4d_model *m = new_model(ctx, shape, 7);
    area(m, "a", 0, 3, 0, 3, 0, 3, 0, 0);
    n4d_population_desc d;
    n4d_population_desc_init(&d);
    d.name = "p";
    d.area = "a";
    pop(m, &d);
    build(m);
    return m;
}

static int contains(const char *s, const char *needle)
{
    return s && strstr(s, needle) != NULL;
}

/* The library is expected to load in this mode ("mock-host": the mock of
 * tests/mock_cuda.c, one device). */
static int expect_library(void)
{
    return strcmp(g_mode, "mock-host") == 0 || (strcmp(g_mode, "absent") != 0 && g_lib_built);
}

static void test_feature(void **state)
{
    (void)state;
    assert_int_equal(n4d_has_feature(N4D_FEATURE_CUDA), expect_library());
    assert_int_equal(n4d_has_feature(N4D_FEATURE_CUDA), expect_library()); /* cached */
    if (!expect_library())
        assert_int_equal(n4d_gpu_device_count(), 0);
}

static void test_cuda_backend_errors(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    OK(n4d_context_create(NULL, &ctx));
    n4d_model *m = tiny_model(ctx);
    n4d_sim_options o;
    n4d_sim_options_init(&o);
    n4d_sim *sim = NULL;
    o.backend = "cuda";
    n4d_status st = n4d_sim_create(m, &o, &sim);
    const char *msg = n4d_last_error(m);
    if (!expect_library()) {
        CHECK(st == N4D_E_NOT_BUILT && contains(msg, "cuda") && contains(msg, "no library") &&
                  contains(msg, "libn4d_cuda.so"),
              "cuda without library -> %d \"%s\"", (int)st, msg);
        assert_null(sim);
    } else if (n4d_gpu_device_count() == 0) {
        CHECK(st == N4D_E_NO_DEVICE && contains(msg, "cuda") &&
                  (contains(msg, "no driver") || contains(msg, "no device")) &&
                  contains(msg, "CUDA error"),
              "cuda without device -> %d \"%s\"", (int)st, msg);
        assert_null(sim);
        print_message("cuda backend here: %s\n", msg);
    } else {
        CHECK(st == N4D_OK, "cuda with %d device(s) -> %d \"%s\"", (int)n4d_gpu_device_count(),
              (int)st, msg);
        assert_string_equal(n4d_sim_backend(sim), "cuda");
        OK(n4d_sim_run(sim, 10));
        n4d_sim_destroy(sim);
        sim = NULL;
    }
    /* device numbers */
    o.backend = "cuda:x";
    assert_int_equal(n4d_sim_create(m, &o, &sim), N4D_E_INVALID_ARG);
    assert_true(contains(n4d_last_error(m), "cuda:N"));
    o.backend = "cuda:";
    assert_int_equal(n4d_sim_create(m, &o, &sim), N4D_E_INVALID_ARG);
    o.backend = "cuda:1000";
    st = n4d_sim_create(m, &o, &sim);
    CHECK(st == (expect_library() ? N4D_E_NO_DEVICE : N4D_E_NOT_BUILT), "cuda:1000 -> %d \"%s\"",
          (int)st, n4d_last_error(m));
    if (n4d_gpu_device_count() > 0)
        assert_true(contains(n4d_last_error(m), "does not exist"));
    o.backend = "cudax";
    assert_int_equal(n4d_sim_create(m, &o, &sim), N4D_E_INVALID_ARG);
    assert_null(sim);
    /* small models: auto is cpu-omp */
    o.backend = "auto";
    OK(n4d_sim_create(m, &o, &sim));
    assert_string_equal(n4d_sim_backend(sim), "cpu-omp");
    n4d_sim_destroy(sim);
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
}

/* Build backend names and what "cuda" does without a usable device. */
static void test_build_backend(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    OK(n4d_context_create(NULL, &ctx));
    const uint32_t shape[4] = {4, 4, 4, 1};
    n4d_model *m = new_model(ctx, shape, 7);
    const char *bad[] = {"gpu", "cuda:x", "cuda:", "cudax", ""};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        assert_int_equal(n4d_model_set_build_backend(m, bad[k]), N4D_E_INVALID_ARG);
        CHECK(contains(n4d_last_error(m), "build backend"), "\"%s\": %s", bad[k], n4d_last_error(m));
    }
    assert_int_equal(n4d_model_set_build_backend(m, NULL), N4D_E_INVALID_ARG);
    OK(n4d_model_set_build_backend(m, "cpu"));
    OK(n4d_model_set_build_backend(m, "auto"));
    assert_string_equal(n4d_model_build_backend(m), "auto");
    OK(n4d_model_set_build_backend(m, "cuda:1"));
    assert_string_equal(n4d_model_build_backend(m), "cuda:1");
    OK(n4d_model_set_build_backend(m, "cuda"));
    assert_string_equal(n4d_model_build_backend(m), "cuda:0");
    area(m, "a", 0, 3, 0, 3, 0, 3, 0, 0);
    n4d_population_desc d;
    n4d_population_desc_init(&d);
    d.name = "p";
    d.area = "a";
    pop(m, &d);
    n4d_projection_desc p = proj("p", "p", N4D_RULE_FIXED_PROBABILITY, 0.3, 1.0);
    projection(m, &p);
    n4d_status st = n4d_model_build(m);
    const char *msg = n4d_last_error(m);
    if (!expect_library()) {
        CHECK(st == N4D_E_NOT_BUILT && contains(msg, "no library") && contains(msg, "cuda"),
              "cuda build without library -> %d \"%s\"", (int)st, msg);
    } else if (n4d_gpu_device_count() == 0) {
        CHECK(st == N4D_E_NO_DEVICE && contains(msg, "not available"),
              "cuda build without device -> %d \"%s\"", (int)st, msg);
    } else {
        CHECK(st == N4D_OK, "cuda build -> %d \"%s\"", (int)st, msg);
    }
    if (st != N4D_OK) {
        assert_false(n4d_model_is_built(m));
        /* the same model builds on the CPU after a failed device build */
        OK(n4d_model_set_build_backend(m, "auto"));
        build(m);
    }
    assert_true(n4d_model_num_synapses(m) > 0);
    assert_int_equal(n4d_model_set_build_backend(m, "cpu"), N4D_E_STATE);
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
}

static void test_auto_large(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    OK(n4d_context_create(NULL, &ctx));
    n4d_model *m = model_big(ctx, 3);
    assert_int_equal(n4d_model_num_neurons(m), 100000);
    n4d_sim_options o;
    n4d_sim_options_init(&o);
    n4d_sim *sim = NULL;
    OK(n4d_sim_create(m, &o, &sim));
    const char *expect = expect_library() && n4d_gpu_device_count() > 0 ? "cuda" : "cpu-omp";
    assert_string_equal(n4d_sim_backend(sim), expect);
    OK(n4d_sim_run(sim, 5));
    assert_int_equal(n4d_sim_current_step(sim), 5);
    n4d_sim_destroy(sim);
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
}

static void test_gpu_handle(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    OK(n4d_context_create(NULL, &ctx));
    const int have = expect_library() && n4d_gpu_device_count() > 0;
    n4d_gpu *g = NULL;
    assert_int_equal(n4d_gpu_create(NULL, NULL, &g), N4D_E_INVALID_ARG);
    OK(n4d_gpu_create(ctx, NULL, &g));
    assert_int_equal(n4d_gpu_is_available(g), have);
    n4d_gpu_info info;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    OK(n4d_gpu_get_info(g, &info));
    assert_int_equal(info.on_gpu, have);
    if (!have) {
        assert_int_equal(info.device_id, -1);
        assert_string_equal(info.name, "cpu");
        const char *needle = expect_library() ? "no d" : "no library"; /* no driver / no device */
        CHECK(contains(info.reason, needle), "reason \"%s\" lacks \"%s\"", info.reason, needle);
        print_message("n4d_gpu here: CPU (%s)\n", info.reason);
    } else {
        assert_int_equal(info.device_id, 0);
        assert_true(info.total_bytes > 0 && info.multiprocessors > 0);
        print_message("n4d_gpu here: %s, %d SMs\n", info.name, (int)info.multiprocessors);
    }
    n4d_gpu_memory mem;
    memset(&mem, 0, sizeof mem);
    mem.struct_size = sizeof mem;
    OK(n4d_gpu_memory_usage(g, &mem));
    assert_int_equal(mem.on_gpu, have);
    if (have)
        assert_true(mem.total_mb > 0 && mem.percent >= 0 && mem.percent <= 100 &&
                    fabs(mem.used_mb + mem.free_mb - mem.total_mb) < 1e-6 * mem.total_mb);
    else
        assert_true(mem.total_mb == 0 && mem.percent == 0);
    uint64_t released = 99;
    OK(n4d_gpu_clear_memory(g, &released));
    if (!have)
        assert_int_equal(released, 0);
    /* selecting devices */
    n4d_status st = n4d_gpu_select_device(g, 1000);
    assert_int_equal(st, have ? N4D_E_RANGE : expect_library() ? N4D_E_NO_DEVICE : N4D_E_NOT_BUILT);
    assert_true(strlen(n4d_gpu_last_error(g)) > 0);
    if (have)
        OK(n4d_gpu_select_device(g, 0));
    n4d_gpu_destroy(g);
    n4d_gpu_destroy(NULL);
    /* require_gpu and use_gpu = 0 */
    n4d_gpu_options go;
    n4d_gpu_options_init(&go);
    go.require_gpu = 1;
    g = NULL;
    st = n4d_gpu_create(ctx, &go, &g);
    if (have) {
        OK(st);
        n4d_gpu_destroy(g);
    } else {
        assert_int_equal(st, expect_library() ? N4D_E_NO_DEVICE : N4D_E_NOT_BUILT);
        assert_null(g);
        assert_true(contains(n4d_last_error(ctx), "n4d_gpu_create"));
    }
    go.require_gpu = 0;
    go.use_gpu = 0;
    OK(n4d_gpu_create(ctx, &go, &g));
    assert_int_equal(n4d_gpu_is_available(g), 0);
    OK(n4d_gpu_get_info(g, &info));
    assert_true(contains(info.reason, "use_gpu"));
    n4d_gpu_destroy(g);
    n4d_context_destroy(ctx);
}

/* ---- the array API ------------------------------------------------------------------- */

static uint64_t g_rng = 88172645463325252ull;
static double urand(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (double)(g_rng >> 11) * (1.0 / 9007199254740992.0);
}

/* 4D Neural Cognition's LIF step, written out (float, its operation order). */
static void lif_reference(const n4d_gpu_lif_params *p, uint64_t n, const float *v,
                          const float *isyn, const float *iext, const uint8_t *refr, float *vout,
                          uint8_t *spk)
{
    const float tau = (float)p->tau_m, rest = (float)p->v_rest, th = (float)p->v_threshold,
                reset = (float)p->v_reset, dt = (float)p->dt;
    for (uint64_t i = 0; i < n; i++) {
        float vv = v[i];
        spk[i] = 0;
        if (refr && refr[i]) {
            vout[i] = vv;
            continue;
        }
        float in = (isyn ? isyn[i] : 0.0f) + (iext ? iext[i] : 0.0f);
        float dv = (-(vv - rest) + in) / tau * dt;
        vv = vv + dv;
        if (!isfinite(vv))
            vv = rest;
        if (vv >= th) {
            vv = reset;
            spk[i] = 1;
        }
        vout[i] = vv;
    }
}

static void test_lif_update(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    OK(n4d_context_create(NULL, &ctx));
    const uint64_t n = 10007;
    float *v = malloc(n * 4), *isyn = malloc(n * 4), *iext = malloc(n * 4);
    float *vref = malloc(n * 4), *vcpu = malloc(n * 4), *vgpu = malloc(n * 4);
    uint8_t *refr = malloc(n), *sref = malloc(n), *scpu = malloc(n), *sgpu = malloc(n);
    assert_true(v && isyn && iext && vref && vcpu && vgpu && refr && sref && scpu && sgpu);
    for (uint64_t i = 0; i < n; i++) {
        v[i] = (float)(-70.0 + 22.0 * urand());
        isyn[i] = (float)(150.0 * (urand() - 0.3));
        iext[i] = (float)(10.0 * urand());
        refr[i] = urand() < 0.1;
    }
    v[5] = NAN;
    v[6] = INFINITY;
    refr[5] = refr[6] = 0;
    n4d_gpu_lif_params p;
    n4d_gpu_lif_params_init(&p);
    assert_true(p.tau_m == 20.0 && p.v_rest == -65.0 && p.v_threshold == -50.0 &&
                p.v_reset == -70.0 && p.dt == 1.0);
    n4d_gpu_options go;
    n4d_gpu_options_init(&go);
    go.use_gpu = 0;
    n4d_gpu *cpu = NULL;
    OK(n4d_gpu_create(ctx, &go, &cpu));
    for (int variant = 0; variant < 3; variant++) {
        const float *s_in = variant == 1 ? NULL : isyn, *e_in = variant == 2 ? NULL : iext;
        const uint8_t *r_in = variant == 2 ? NULL : refr;
        lif_reference(&p, n, v, s_in, e_in, r_in, vref, sref);
        uint64_t ns = 0, nref = 0;
        OK(n4d_gpu_lif_update(cpu, &p, n, v, s_in, e_in, r_in, vcpu, scpu, &ns));
        for (uint64_t i = 0; i < n; i++)
            nref += sref[i];
        assert_memory_equal(vref, vcpu, n * 4);
        assert_memory_equal(sref, scpu, n);
        assert_int_equal(ns, nref);
        CHECK(variant == 1 || nref > 100, "only %llu spikes", (unsigned long long)nref);
        assert_true(vcpu[5] == -65.0f && vcpu[6] == -65.0f);
    }
    /* in place */
    memcpy(vcpu, v, n * 4);
    OK(n4d_gpu_lif_update(cpu, &p, n, vcpu, isyn, iext, refr, vcpu, scpu, NULL));
    lif_reference(&p, n, v, isyn, iext, refr, vref, sref);
    assert_memory_equal(vref, vcpu, n * 4);
    /* errors */
    p.tau_m = 0.0;
    assert_int_equal(n4d_gpu_lif_update(cpu, &p, n, v, isyn, iext, refr, vcpu, scpu, NULL),
                     N4D_E_INVALID_ARG);
    assert_true(contains(n4d_gpu_last_error(cpu), "tau_m"));
    assert_string_equal(n4d_last_error(cpu), n4d_gpu_last_error(cpu));
    n4d_gpu_lif_params_init(&p);
    assert_int_equal(n4d_gpu_lif_update(cpu, &p, n, NULL, isyn, iext, refr, vcpu, scpu, NULL),
                     N4D_E_INVALID_ARG);
    OK(n4d_gpu_lif_update(cpu, NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL));
    /* GPU: bitwise the CPU's result */
    n4d_gpu *g = NULL;
    OK(n4d_gpu_create(ctx, NULL, &g));
    if (n4d_gpu_is_available(g)) {
        uint64_t ns = 0;
        OK(n4d_gpu_lif_update(g, &p, n, v, isyn, iext, refr, vgpu, sgpu, &ns));
        OK(n4d_gpu_lif_update(cpu, &p, n, v, isyn, iext, refr, vcpu, scpu, NULL));
        assert_memory_equal(vcpu, vgpu, n * 4);
        assert_memory_equal(scpu, sgpu, n);
        OK(n4d_gpu_lif_update(g, &p, n, v, NULL, iext, NULL, vgpu, sgpu, &ns));
        OK(n4d_gpu_lif_update(cpu, &p, n, v, NULL, iext, NULL, vcpu, scpu, NULL));
        assert_memory_equal(vcpu, vgpu, n * 4);
        n4d_gpu_memory mem;
        memset(&mem, 0, sizeof mem);
        mem.struct_size = sizeof mem;
        OK(n4d_gpu_memory_usage(g, &mem));
        assert_true(mem.cached_bytes > 0);
        uint64_t rel = 0;
        OK(n4d_gpu_clear_memory(g, &rel));
        assert_int_equal(rel, mem.cached_bytes);
        OK(n4d_gpu_memory_usage(g, &mem));
        assert_int_equal(mem.cached_bytes, 0);
    }
    n4d_gpu_destroy(g);
    n4d_gpu_destroy(cpu);
    free(v), free(isyn), free(iext), free(vref), free(vcpu), free(vgpu);
    free(refr), free(sref), free(scpu), free(sgpu);
    n4d_context_destroy(ctx);
}

static void test_spmv(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    OK(n4d_context_create(NULL, &ctx));
    const uint64_t rows = 700, cols = 900;
    int32_t *rp = malloc((rows + 1) * sizeof(int32_t));
    int32_t *ci = malloc(rows * cols / 10 * sizeof(int32_t) + 64);
    float *val = malloc(rows * cols / 10 * sizeof(float) + 64);
    float *x = malloc(cols * 4), *y = malloc(rows * 4), *yg = malloc(rows * 4);
    uint8_t *spk = malloc(cols);
    assert_true(rp && ci && val && x && y && yg && spk);
    uint64_t nnz = 0;
    rp[0] = 0;
    for (uint64_t r = 0; r < rows; r++) {
        for (uint64_t c = 0; c < cols; c++)
            if (urand() < 0.05 && nnz < rows * cols / 10) {
                ci[nnz] = (int32_t)c;
                val[nnz++] = (float)(urand() - 0.3);
            }
        rp[r + 1] = (int32_t)nnz;
    }
    for (uint64_t c = 0; c < cols; c++) {
        x[c] = (float)(urand() * 2.0 - 1.0);
        spk[c] = urand() < 0.2;
    }
    n4d_gpu_csr a;
    memset(&a, 0, sizeof a);
    a.struct_size = sizeof a;
    a.rows = rows;
    a.cols = cols;
    a.nnz = nnz;
    a.row_ptr = rp;
    a.col_idx = ci;
    a.values = val;
    n4d_gpu_options go;
    n4d_gpu_options_init(&go);
    go.use_gpu = 0;
    n4d_gpu *cpu = NULL, *g = NULL;
    OK(n4d_gpu_create(ctx, &go, &cpu));
    OK(n4d_gpu_create(ctx, NULL, &g));
    /* y = A x against a loop in double */
    OK(n4d_gpu_spmv(cpu, &a, x, y));
    for (uint64_t r = 0; r < rows; r++) {
        double s = 0.0;
        for (int32_t j = rp[r]; j < rp[r + 1]; j++)
            s += (double)val[j] * (double)x[ci[j]];
        assert_true(y[r] == (float)s);
    }
    if (n4d_gpu_is_available(g)) {
        OK(n4d_gpu_spmv(g, &a, x, yg));
        for (uint64_t r = 0; r < rows; r++)
            CHECK(fabsf(yg[r] - y[r]) <= 1e-5f * (1.0f + fabsf(y[r])), "row %llu: %g vs %g",
                  (unsigned long long)r, (double)yg[r], (double)y[r]);
        float *y2 = malloc(rows * 4);
        assert_non_null(y2);
        OK(n4d_gpu_spmv(g, &a, x, y2)); /* ALG2: the same bits every run */
        assert_memory_equal(y2, yg, rows * 4);
        free(y2);
    }
    /* the synaptic currents of a spike vector: sum of the weights of spiking sources */
    OK(n4d_gpu_sparse_synapse_matmul(cpu, &a, spk, y));
    for (uint64_t r = 0; r < rows; r++) {
        double s = 0.0;
        for (int32_t j = rp[r]; j < rp[r + 1]; j++)
            s += spk[ci[j]] ? (double)val[j] : 0.0;
        assert_true(y[r] == (float)s);
    }
    if (n4d_gpu_is_available(g)) {
        OK(n4d_gpu_sparse_synapse_matmul(g, &a, spk, yg));
        for (uint64_t r = 0; r < rows; r++)
            assert_true(fabsf(yg[r] - y[r]) <= 1e-5f * (1.0f + fabsf(y[r])));
    }
    /* invalid matrices */
    const int32_t saved = ci[3];
    ci[3] = (int32_t)cols;
    assert_int_equal(n4d_gpu_spmv(cpu, &a, x, y), N4D_E_RANGE);
    assert_true(contains(n4d_gpu_last_error(cpu), "column"));
    assert_int_equal(n4d_gpu_spmv(g, &a, x, y), N4D_E_RANGE);
    ci[3] = saved;
    a.nnz = nnz + 1;
    assert_int_equal(n4d_gpu_spmv(cpu, &a, x, y), N4D_E_INVALID_ARG);
    assert_true(contains(n4d_gpu_last_error(cpu), "row_ptr"));
    a.nnz = nnz;
    a.struct_size = 4;
    assert_int_equal(n4d_gpu_spmv(cpu, &a, x, y), N4D_E_INVALID_ARG);
    n4d_gpu_destroy(g);
    n4d_gpu_destroy(cpu);
    free(rp), free(ci), free(val), free(x), free(y), free(yg), free(spk);
    n4d_context_destroy(ctx);
}

static void test_gemm(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    OK(n4d_context_create(NULL, &ctx));
    const uint64_t m = 17, n = 23, k = 31, batch = 5;
    float *A = malloc(batch * m * k * 4), *B = malloc(batch * k * n * 4);
    float *C0 = malloc(batch * m * n * 4), *C = malloc(batch * m * n * 4),
          *Cg = malloc(batch * m * n * 4);
    assert_true(A && B && C0 && C && Cg);
    for (uint64_t i = 0; i < batch * m * k; i++)
        A[i] = (float)(urand() - 0.5);
    for (uint64_t i = 0; i < batch * k * n; i++)
        B[i] = (float)(urand() - 0.5);
    for (uint64_t i = 0; i < batch * m * n; i++)
        C0[i] = (float)(urand() - 0.5);
    n4d_gpu_gemm g;
    n4d_gpu_gemm_init(&g);
    assert_true(g.alpha == 1.0f && g.beta == 0.0f);
    g.m = m;
    g.n = n;
    g.k = k;
    g.batch = batch;
    g.alpha = 1.5f;
    g.beta = 0.5f;
    g.a = A;
    g.b = B;
    n4d_gpu_options go;
    n4d_gpu_options_init(&go);
    go.use_gpu = 0;
    n4d_gpu *cpu = NULL, *gpu = NULL;
    OK(n4d_gpu_create(ctx, &go, &cpu));
    OK(n4d_gpu_create(ctx, NULL, &gpu));
    memcpy(C, C0, batch * m * n * 4);
    g.c = C;
    OK(n4d_gpu_gemm_batched(cpu, &g));
    for (uint64_t b = 0; b < batch; b++)
        for (uint64_t i = 0; i < m; i++)
            for (uint64_t j = 0; j < n; j++) {
                double s = 0.0;
                for (uint64_t p = 0; p < k; p++)
                    s += (double)A[b * m * k + i * k + p] * (double)B[b * k * n + p * n + j];
                const double want = 1.5 * s + 0.5 * (double)C0[b * m * n + i * n + j];
                const double got = C[b * m * n + i * n + j];
                CHECK(fabs(got - want) <= 1e-5 * (1.0 + fabs(want)), "C[%llu][%llu][%llu] %g vs %g",
                      (unsigned long long)b, (unsigned long long)i, (unsigned long long)j, got,
                      want);
            }
    if (n4d_gpu_is_available(gpu)) {
        memcpy(Cg, C0, batch * m * n * 4);
        g.c = Cg;
        OK(n4d_gpu_gemm_batched(gpu, &g));
        for (uint64_t i = 0; i < batch * m * n; i++)
            CHECK(fabsf(Cg[i] - C[i]) <= 1e-5f * (1.0f + fabsf(C[i])), "gpu C[%llu] %g vs %g",
                  (unsigned long long)i, (double)Cg[i], (double)C[i]);
    }
    /* beta = 0: C is not read (NaN stays out) */
    for (uint64_t i = 0; i < batch * m * n; i++)
        C[i] = NAN;
    g.c = C;
    g.beta = 0.0f;
    OK(n4d_gpu_gemm_batched(cpu, &g));
    for (uint64_t i = 0; i < batch * m * n; i++)
        assert_true(isfinite(C[i]));
    g.m = (uint64_t)1 << 32;
    assert_int_equal(n4d_gpu_gemm_batched(cpu, &g), N4D_E_LIMIT);
    n4d_gpu_destroy(gpu);
    n4d_gpu_destroy(cpu);
    free(A), free(B), free(C0), free(C), free(Cg);
    n4d_context_destroy(ctx);
}

static void test_benchmark(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    OK(n4d_context_create(NULL, &ctx));
    n4d_gpu *g = NULL;
    OK(n4d_gpu_create(ctx, NULL, &g));
    const uint64_t sizes[3] = {1000, 5000, 0};
    uint64_t got[3];
    double cpu[3], gpu[3], gput[3], sp[3], spt[3];
    n4d_gpu_benchmark_options o;
    n4d_gpu_benchmark_options_init(&o);
    assert_int_equal(o.iterations, 100);
    o.sizes = sizes;
    o.n_sizes = 3;
    o.iterations = 5;
    n4d_gpu_benchmark_result r;
    memset(&r, 0, sizeof r);
    r.struct_size = sizeof r;
    r.sizes = got;
    r.cpu_seconds = cpu;
    r.gpu_seconds = gpu;
    r.gpu_seconds_with_transfers = gput;
    r.speedups = sp;
    r.speedups_with_transfers = spt;
    OK(n4d_gpu_benchmark(g, &o, &r));
    for (int i = 0; i < 3; i++) {
        assert_int_equal(got[i], sizes[i]);
        assert_true(cpu[i] >= 0.0 && isfinite(cpu[i]));
    }
    assert_true(cpu[1] > 0.0);
    if (n4d_gpu_is_available(g)) {
        assert_int_equal(r.gpu_available, 1);
        assert_int_equal(r.results_match, 1);
        for (int i = 0; i < 2; i++)
            assert_true(gpu[i] > 0.0 && gput[i] > 0.0 && sp[i] > 0.0);
    } else {
        assert_int_equal(r.gpu_available, 0);
        assert_int_equal(r.results_match, -1);
        assert_string_equal(r.device, "cpu");
        assert_true(contains(r.note, "GPU unavailable"));
        for (int i = 0; i < 3; i++)
            assert_true(isnan(gpu[i]) && isnan(gput[i]) && isnan(sp[i]) && isnan(spt[i]));
    }
    o.operation = 7;
    assert_int_equal(n4d_gpu_benchmark(g, &o, &r), N4D_E_UNSUPPORTED);
    n4d_gpu_destroy(g);
    n4d_context_destroy(ctx);
}

/* ---- main --------------------------------------------------------------------------- */

/* Why no cuda sim can be made here (for the skip message), or NULL. */
static const char *cuda_unavailable(char *buf, size_t cap)
{
    n4d_context *ctx = NULL;
    if (n4d_context_create(NULL, &ctx))
        return "no context";
    const uint32_t shape[4] = {2, 2, 1, 1};
    n4d_model *m = NULL;
    const char *why = NULL;
    if (n4d_model_create(ctx, &m) == N4D_OK && n4d_model_set_lattice(m, shape) == N4D_OK) {
        const int32_t lo[4] = {0, 0, 0, 0}, hi[4] = {1, 1, 0, 0};
        n4d_population_desc d;
        n4d_population_desc_init(&d);
        d.name = "p";
        d.area = "a";
        n4d_sim_options o;
        n4d_sim_options_init(&o);
        o.backend = "cuda";
        n4d_sim *sim = NULL;
        if (n4d_model_add_area(m, "a", lo, hi) == N4D_OK &&
            n4d_model_add_population(m, &d, NULL) == N4D_OK) {
            if (n4d_sim_create(m, &o, &sim) != N4D_OK) {
                snprintf(buf, cap, "%s", n4d_last_error(m));
                why = buf;
            }
            n4d_sim_destroy(sim);
        }
    }
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
    return why;
}

int main(int argc, char **argv)
{
    if (!getenv("OMP_WAIT_POLICY") && setenv("OMP_WAIT_POLICY", "passive", 1) == 0)
        execv("/proc/self/exe", argv);
    if (argc > 1)
        g_mode = argv[1];
    if (argc > 2)
        cmocka_set_test_filter(argv[2]);
    const struct CMUnitTest host[] = {
        cmocka_unit_test(test_feature),           cmocka_unit_test(test_cuda_backend_errors),
        cmocka_unit_test(test_auto_large),        cmocka_unit_test(test_gpu_handle),
        cmocka_unit_test(test_lif_update),        cmocka_unit_test(test_spmv),
        cmocka_unit_test(test_gemm),              cmocka_unit_test(test_benchmark),
        cmocka_unit_test(test_build_backend),
    };
    const struct CMUnitTest conformance[] = {
        cmocka_unit_test(test_conf_cuba),         cmocka_unit_test(test_conf_brunel),
        cmocka_unit_test(test_conf_4d),           cmocka_unit_test(test_conf_izhikevich),
        cmocka_unit_test(test_conf_adex),
        cmocka_unit_test(test_conf_multi_poisson), cmocka_unit_test(test_conf_layouts),
        cmocka_unit_test(test_build_models),      cmocka_unit_test(test_build_then_run),
        cmocka_unit_test(test_conf_checkpoint),
    };
    if (strcmp(g_mode, "host") == 0 || strcmp(g_mode, "absent") == 0 ||
        strcmp(g_mode, "mock-host") == 0)
        return cmocka_run_group_tests_name(g_mode, host, NULL, NULL);
    if (strcmp(g_mode, "search") == 0) {
        /* found without help: next to the program, the core's directory */
        unsetenv("N4D_CUDA_LIBRARY");
        if (!g_lib_built) {
            printf("SKIPPED: the CUDA library is not part of this build\n");
            return 77;
        }
        const struct CMUnitTest search[] = {cmocka_unit_test(test_feature),
                                            cmocka_unit_test(test_cuda_backend_errors)};
        return cmocka_run_group_tests_name("search", search, NULL, NULL);
    }
    if (strcmp(g_mode, "conformance") == 0) {
        char buf[2048];
        const char *why = cuda_unavailable(buf, sizeof buf);
        if (why) {
            printf("SKIPPED: no CUDA device (%s)\n", why);
            fflush(stdout);
            return 77;
        }
        g_backend = "cuda";
        return cmocka_run_group_tests_name("conformance", conformance, NULL, NULL);
    }
    if (strcmp(g_mode, "harness") == 0) {
        g_backend = "cpu-omp";
        g_builder = "auto"; /* the CPU here: models below 10,000 neurons */
        return cmocka_run_group_tests_name("harness", conformance, NULL, NULL);
    }
    fprintf(stderr,
            "test_cuda: unknown mode \"%s\" (host, absent, search, conformance, harness, "
            "mock-host)\n",
            g_mode);
    return 2;
}
