/* Determinism (docs/architecture.md, "Determinism"): same model + same seed give bitwise
 * identical spike trains, checksums and final states on cpu-ref and cpu-omp
 * with 1 to 4 threads, whether run at once or in chunks; separate builds of
 * the same description reproduce; another sim seed changes the train; the
 * checksum is the documented FNV-1a over the recorded spikes.
 *
 * Models: CUBA (Vogels-Abbott / Brian2), a Brunel-like network with Poisson
 * drive, fixed_indegree and distributed delays (min delay > 1 step, so
 * cpu-omp batches steps), an Izhikevich RS/FS network, a 4D lif model with
 * distance projections across areas, DC input and a sense, and a network
 * with several Poisson inputs on one population. Every model must spike. */
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

#include "test_models.h"

/* ---- running and comparing -------------------------------------------------------------- */

typedef struct run_cfg {
    const char *backend;
    int32_t threads;
    uint64_t chunk; /* 0: one run(steps); k: run(k) repeated; 1: n4d_sim_step */
} run_cfg;

/* Called after creation, before the first step (the same for every config). */
typedef void (*prepare_fn)(n4d_sim *sim);

static sim_result run_model(n4d_model *m, const run_cfg *c, uint64_t steps, uint64_t seed,
                            prepare_fn prep)
{
    n4d_sim_options o;
    n4d_sim_options_init(&o);
    o.backend = c->backend;
    o.num_threads = c->threads;
    o.seed = seed;
    o.history_steps = 1000;
    n4d_sim *sim = NULL;
    n4d_status st = n4d_sim_create(m, &o, &sim);
    if (st)
        fail_msg("sim_create(%s, %d) -> %d: %s", c->backend, (int)c->threads, (int)st,
                 n4d_last_error(m));
    assert_string_equal(n4d_sim_backend(sim), c->backend);
    if ((n4d_backend_caps(c->backend) & N4D_BACKEND_THREADS) && n4d_has_feature(N4D_FEATURE_OPENMP))
        assert_int_equal(n4d_sim_num_threads(sim), c->threads);
    if (prep)
        prep(sim);
    if (c->chunk == 0) {
        OK(n4d_sim_run(sim, steps));
    } else if (c->chunk == 1) {
        for (uint64_t k = 0; k < steps; k++)
            OK(n4d_sim_step(sim));
    } else {
        for (uint64_t done = 0; done < steps; done += c->chunk)
            OK(n4d_sim_run(sim, steps - done < c->chunk ? steps - done : c->chunk));
    }
    assert_int_equal(n4d_sim_current_step(sim), steps);
    const uint64_t N = n4d_model_num_neurons(m);
    sim_result r = capture_result(sim, N);
    /* the last step's spikes are the tail of the record */
    const uint32_t *last;
    uint64_t nlast, tail = 0;
    OK(n4d_sim_last_spikes(sim, &last, &nlast));
    while (tail < r.n && r.steps[r.n - 1 - tail] == steps - 1)
        tail++;
    assert_int_equal(nlast, tail);
    if (tail)
        assert_memory_equal(last, r.ids + r.n - tail, tail * sizeof *last);
    /* the O(1) history agrees with the record over its window (1000 steps) */
    uint64_t from = steps > 1000 ? steps - 1000 : 0, k = 0, ones = 0;
    while (k < r.n && r.steps[k] < from)
        k++;
    for (uint64_t j = k; j < r.n; j++)
        CHECK(n4d_sim_spiked_at(sim, r.ids[j], r.steps[j]) == 1,
              "n4d_sim_spiked_at(%u, %llu) is not 1", r.ids[j], (unsigned long long)r.steps[j]);
    for (uint64_t s = steps - 20; s < steps; s++)
        for (uint64_t i = 0; i < N; i++)
            ones += n4d_sim_spiked_at(sim, i, s) == 1;
    uint64_t rec = 0;
    for (uint64_t j = 0; j < r.n; j++)
        rec += r.steps[j] >= steps - 20;
    assert_int_equal(ones, rec);
    if (steps > 1000)
        assert_int_equal(n4d_sim_spiked_at(sim, 0, steps - 1001), N4D_E_RANGE);
    assert_int_equal(n4d_sim_spiked_at(sim, 0, steps), N4D_E_RANGE);
    n4d_sim_destroy(sim);
    return r;
}

static uint64_t fnv1a(const uint64_t *steps, const uint32_t *ids, uint64_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (uint64_t j = 0; j < n; j++) {
        for (int b = 0; b < 8; b++) {
            h ^= (steps[j] >> (8 * b)) & 0xff;
            h *= 0x100000001b3ull;
        }
        for (int b = 0; b < 4; b++) {
            h ^= (ids[j] >> (8 * b)) & 0xff;
            h *= 0x100000001b3ull;
        }
    }
    return h;
}

/* Sanity of one spike train: canonical order, ids in range, enough spikes,
 * total and checksum consistent with the record. */
static void check_train(const char *name, const sim_result *r, uint64_t N, uint64_t steps,
                        uint64_t min_spikes)
{
    CHECK(r->n >= min_spikes, "%s: only %llu spikes (need %llu): the test would be vacuous", name,
          (unsigned long long)r->n, (unsigned long long)min_spikes);
    CHECK(r->n < N * steps / 2, "%s: %llu spikes: the network is saturated", name,
          (unsigned long long)r->n);
    assert_int_equal(r->total, r->n);
    for (uint64_t j = 0; j < r->n; j++) {
        CHECK(r->steps[j] < steps && r->ids[j] < N, "%s: spike %llu (%llu, %u) out of range", name,
              (unsigned long long)j, (unsigned long long)r->steps[j], r->ids[j]);
        if (j)
            CHECK(r->steps[j] > r->steps[j - 1] ||
                      (r->steps[j] == r->steps[j - 1] && r->ids[j] > r->ids[j - 1]),
                  "%s: spike %llu not in canonical order", name, (unsigned long long)j);
    }
    uint64_t h = fnv1a(r->steps, r->ids, r->n);
    CHECK(h == r->checksum, "%s: checksum %016llx, FNV-1a of the record %016llx", name,
          (unsigned long long)r->checksum, (unsigned long long)h);
}

static void same_result(const char *name, const char *what, const sim_result *a,
                        const sim_result *b, uint64_t N)
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

/* The runs compared with the reference: every registered backend (the
 * registry, not a list of names), each in chunks of 7 steps, and those that
 * use threads with 1 to 4 of them and single steps; a backend that cannot
 * run here is reported as skipped, by name. */
#define MAX_CONFIGS 64
static size_t configs_of_registry(run_cfg *out, const char **reference)
{
    static const run_cfg threaded[] = {{NULL, 1, 0}, {NULL, 2, 0}, {NULL, 3, 0}, {NULL, 4, 0},
                                       {NULL, 4, 7}, {NULL, 3, 7}, {NULL, 2, 1}};
    size_t k = 0;
    *reference = NULL;
    for (uint32_t i = 0; i < n4d_backend_count(); i++) {
        const char *name = n4d_backend_name(i);
        const uint32_t caps = n4d_backend_caps(name);
        char why[512];
        if (n4d_backend_probe(name, why, sizeof why) != N4D_OK) {
            print_message("[ SKIPPED  ] backend %s: %s\n", name, why);
            continue;
        }
        if (caps & N4D_BACKEND_REFERENCE) {
            *reference = name;
            out[k++] = (run_cfg){name, 1, 7};
        } else if (caps & N4D_BACKEND_THREADS) {
            for (size_t t = 0; t < sizeof threaded / sizeof threaded[0] && k < MAX_CONFIGS; t++) {
                out[k] = threaded[t];
                out[k++].backend = name;
            }
        } else {
            out[k++] = (run_cfg){name, 1, 0};
            out[k++] = (run_cfg){name, 1, 7};
        }
    }
    assert_non_null(*reference); /* the ground truth is always there */
    return k;
}

static void check_model(const char *name, model_fn make, uint64_t steps, uint64_t min_spikes,
                        prepare_fn prep)
{
    n4d_context *ctx = NULL;
    OK(n4d_context_create(NULL, &ctx));
    n4d_model *m = make(ctx, 12345);
    const uint64_t N = n4d_model_num_neurons(m);
    run_cfg configs[MAX_CONFIGS];
    const char *reference;
    const size_t n_configs = configs_of_registry(configs, &reference);
    const run_cfg ref_cfg = {reference, 1, 0};
    sim_result ref = run_model(m, &ref_cfg, steps, 0, prep);
    check_train(name, &ref, N, steps, min_spikes);
    if (getenv("N4D_TEST_VERBOSE"))
        print_message("%s: %llu neurons, %llu synapses, %llu spikes in %llu steps\n", name,
                      (unsigned long long)N, (unsigned long long)n4d_model_num_synapses(m),
                      (unsigned long long)ref.n, (unsigned long long)steps);
    /* every population takes part */
    for (int32_t p = 0; p < n4d_model_num_populations(m); p++) {
        n4d_population_info pi;
        memset(&pi, 0, sizeof pi);
        pi.struct_size = sizeof pi;
        OK(n4d_model_population_info(m, p, &pi));
        uint64_t k = 0;
        for (uint64_t j = 0; j < ref.n; j++)
            k += ref.ids[j] >= pi.first && ref.ids[j] < pi.first + pi.count;
        if (getenv("N4D_TEST_VERBOSE"))
            print_message("  %s: %llu neurons, %llu spikes\n", pi.name,
                          (unsigned long long)pi.count, (unsigned long long)k);
        CHECK(k >= 20, "%s: population %s spiked only %llu times", name, pi.name,
              (unsigned long long)k);
    }
    for (size_t c = 0; c < n_configs; c++) {
        char what[64];
        snprintf(what, sizeof what, "%s x%d chunk %llu", configs[c].backend,
                 (int)configs[c].threads, (unsigned long long)configs[c].chunk);
        sim_result r = run_model(m, &configs[c], steps, 0, prep);
        same_result(name, what, &ref, &r, N);
        result_free(&r);
    }
    result_free(&ref);
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

static void test_cuba(void **state)
{
    (void)state;
    check_model("cuba", model_cuba, 1000, 500, NULL);
}

static void test_brunel_delays(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    OK(n4d_context_create(NULL, &ctx));
    n4d_model *m = model_brunel(ctx, 1);
    uint32_t dmin, dmax;
    OK(n4d_model_delay_range(m, &dmin, &dmax));
    assert_int_equal(dmin, 15); /* cpu-omp batches 15 steps */
    assert_int_equal(dmax, 30);
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
    check_model("brunel", model_brunel, 2000, 2000, NULL);
}

static void test_izhikevich(void **state)
{
    (void)state;
    check_model("izhikevich", model_izhikevich, 1500, 1000, NULL);
}

static void test_adex(void **state)
{
    (void)state;
    check_model("adex", model_adex, 1500, 1000, NULL);
}

static void test_lattice_4d(void **state)
{
    (void)state;
    check_model("4d", model_4d, 2000, 1000, feed_retina);
}

static void test_multi_poisson(void **state)
{
    (void)state;
    check_model("multi-poisson", model_multi_poisson, 1000, 1000, NULL);
}

static void test_rules(void **state)
{
    (void)state;
    check_model("rules", model_rules, 1000, 1000, NULL);
}

/* Rows longer than 65,535 synapses in one segment: 20 Poisson-driven
 * sources onto all 70,000 targets (also Poisson-driven), so that cpu-omp
 * cuts the segments for its threads with 32-bit offsets (cpu_omp.c). */
static n4d_model *model_wide_rows(n4d_context *ctx, uint64_t seed)
{
    const uint32_t shape[4] = {70, 100, 11, 1};
    n4d_model *m = new_model(ctx, shape, seed);
    area(m, "tgt", 0, 69, 0, 99, 0, 9, 0, 0);
    area(m, "src", 0, 19, 0, 0, 10, 10, 0, 0);
    n4d_population_desc d;
    n4d_population_desc_init(&d);
    d.model = N4D_NEURON_LIF_EXP;
    d.v_init = n4d_dist_uniform(-60.0, -50.0);
    d.name = "T";
    d.area = "tgt";
    pop(m, &d);
    d.name = "S";
    d.area = "src";
    pop(m, &d);
    n4d_projection_desc p = proj("S", "T", N4D_RULE_FIXED_PROBABILITY, 1.0, 0.4);
    projection(m, &p);
    n4d_input_desc in = poisson("T", 10.0, 1.0, 100);
    input(m, &in);
    in = poisson("S", 10.0, 2.0, 200);
    input(m, &in);
    build(m);
    return m;
}

static void test_wide_rows(void **state)
{
    (void)state;
    check_model("wide rows", model_wide_rows, 200, 200, NULL);
}

/* Two separate contexts and builds of the same description give the same
 * synapses and spikes; another sim seed gives another spike train. */
static void test_rebuild_and_seed(void **state)
{
    (void)state;
    const model_fn makers[] = {model_cuba, model_brunel, model_multi_poisson};
    const char *names[] = {"cuba", "brunel", "multi-poisson"};
    for (size_t k = 0; k < 3; k++) {
        n4d_context *c1 = NULL, *c2 = NULL;
        OK(n4d_context_create(NULL, &c1));
        OK(n4d_context_create(NULL, &c2));
        n4d_model *m1 = makers[k](c1, 777), *m2 = makers[k](c2, 777);
        const uint64_t N = n4d_model_num_neurons(m1);
        assert_int_equal(N, n4d_model_num_neurons(m2));
        assert_int_equal(n4d_model_num_synapses(m1), n4d_model_num_synapses(m2));
        const run_cfg cfg = {"cpu-omp", 2, 0};
        sim_result a = run_model(m1, &cfg, 400, 0, NULL);
        sim_result b = run_model(m2, &cfg, 400, 0, NULL);
        check_train(names[k], &a, N, 400, 100);
        same_result(names[k], "second build", &a, &b, N);
        /* another sim seed: another initial state / Poisson drive */
        sim_result c = run_model(m1, &cfg, 400, 778, NULL);
        check_train(names[k], &c, N, 400, 100);
        CHECK(c.checksum != a.checksum, "%s: sim seeds 0 (model 777) and 778 give checksum %016llx",
              names[k], (unsigned long long)a.checksum);
        CHECK(c.n != a.n || memcmp(c.ids, a.ids, a.n * sizeof *a.ids) != 0 ||
                  memcmp(c.steps, a.steps, a.n * sizeof *a.steps) != 0,
              "%s: another sim seed gives the same spike train", names[k]);
        /* the explicit seed equal to the model's is the default */
        sim_result d = run_model(m1, &cfg, 400, 777, NULL);
        same_result(names[k], "explicit seed = model seed", &a, &d, N);
        result_free(&a);
        result_free(&b);
        result_free(&c);
        result_free(&d);
        n4d_model_destroy(m1);
        n4d_model_destroy(m2);
        n4d_context_destroy(c1);
        n4d_context_destroy(c2);
    }
}

/* "Any partitioning" (docs/architecture.md, "Determinism"): the storage layout (Morton
 * order, RCB partitions that become the cpu-omp blocks) changes nothing
 * that users see: spikes, checksums, final states by id. */
static void test_layouts(void **state)
{
    (void)state;
    const model_fn makers[] = {model_cuba, model_brunel, model_4d, model_multi_poisson};
    const char *names[] = {"cuba", "brunel", "4d", "multi-poisson"};
    const prepare_fn preps[] = {NULL, NULL, feed_retina, NULL};
    const uint64_t steps = 300;
    n4d_layout_options lay[3];
    for (int i = 0; i < 3; i++)
        n4d_layout_options_init(&lay[i]);
    lay[0].order = N4D_ORDER_ZORDER;
    lay[1].partitions = 4;
    lay[2].order = N4D_ORDER_ZORDER;
    lay[2].partitions = 7;
    lay[2].balance_synapses = 1;
    const run_cfg cfgs[] = {{"cpu-ref", 1, 0}, {"cpu-omp", 3, 0}, {"cpu-omp", 4, 7}};
    for (size_t k = 0; k < sizeof makers / sizeof makers[0]; k++) {
        n4d_context *ctx = NULL;
        OK(n4d_context_create(NULL, &ctx));
        n4d_model *m0 = makers[k](ctx, 99);
        const uint64_t N = n4d_model_num_neurons(m0);
        sim_result ref = run_model(m0, &cfgs[0], steps, 0, preps[k]);
        check_train(names[k], &ref, N, steps, 100);
        for (int i = 0; i < 3; i++) {
            g_layout = &lay[i];
            n4d_model *m = makers[k](ctx, 99);
            g_layout = NULL;
            assert_int_equal(n4d_model_num_neurons(m), N);
            for (size_t c = 0; c < sizeof cfgs / sizeof cfgs[0]; c++) {
                char what[96];
                snprintf(what, sizeof what, "layout %d (order %d, %u partitions), %s x%d chunk %llu",
                         i, (int)lay[i].order, lay[i].partitions, cfgs[c].backend,
                         (int)cfgs[c].threads, (unsigned long long)cfgs[c].chunk);
                sim_result r = run_model(m, &cfgs[c], steps, 0, preps[k]);
                same_result(names[k], what, &ref, &r, N);
                result_free(&r);
            }
            n4d_model_destroy(m);
        }
        result_free(&ref);
        n4d_model_destroy(m0);
        n4d_context_destroy(ctx);
    }
}

/* Two sims of one model advanced alternately are independent. */
static void test_interleaved_sims(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    OK(n4d_context_create(NULL, &ctx));
    n4d_model *m = model_brunel(ctx, 5);
    const run_cfg cfg = {"cpu-omp", 3, 0};
    sim_result ref = run_model(m, &cfg, 500, 0, NULL);
    n4d_sim_options o;
    n4d_sim_options_init(&o);
    o.backend = "cpu-omp";
    o.num_threads = 2;
    n4d_sim *a = NULL, *b = NULL;
    OK(n4d_sim_create(m, &o, &a));
    o.backend = "cpu-ref";
    OK(n4d_sim_create(m, &o, &b));
    for (int k = 0; k < 50; k++) {
        OK(n4d_sim_run(a, 10));
        OK(n4d_sim_run(b, 10));
    }
    assert_true(n4d_sim_checksum(a) == ref.checksum);
    assert_true(n4d_sim_checksum(b) == ref.checksum);
    assert_int_equal(n4d_sim_total_spikes(a), ref.n);
    n4d_sim_destroy(a);
    n4d_sim_destroy(b);
    result_free(&ref);
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
}

int main(int argc, char **argv)
{
    /* cpu-omp runs up to 4 threads here, more than a small CI machine has
     * cores: with libgomp's default spinning, every barrier of an
     * oversubscribed team burns its time slice (minutes instead of seconds).
     * Passive waiting keeps the test fast; it does not change any result.
     * libgomp reads the variable at load time, hence the re-exec. */
    if (!getenv("OMP_WAIT_POLICY") && setenv("OMP_WAIT_POLICY", "passive", 1) == 0)
        execv("/proc/self/exe", argv); /* on failure, go on as we are */
    if (argc > 1) /* run only the tests matching a pattern, e.g. "test_cuba" */
        cmocka_set_test_filter(argv[1]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cuba),
        cmocka_unit_test(test_brunel_delays),
        cmocka_unit_test(test_izhikevich),
        cmocka_unit_test(test_adex),
        cmocka_unit_test(test_lattice_4d),
        cmocka_unit_test(test_multi_poisson), cmocka_unit_test(test_rules),
        cmocka_unit_test(test_wide_rows),
        cmocka_unit_test(test_rebuild_and_seed),
        cmocka_unit_test(test_layouts),
        cmocka_unit_test(test_interleaved_sims),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
