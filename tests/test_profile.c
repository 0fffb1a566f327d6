/* Memory and performance profilers (include/n4d/profile.h).
 * Memory: snapshots follow the tagged allocator (model description, build,
 * sim state by component), differences and the report; optimisations
 * release exactly the bytes they claim and leave the simulation unchanged
 * (checksums equal to an unoptimised twin), skip what cannot apply, reject
 * unknown flags. Performance: section counts per backend (cpu-ref per step,
 * cpu-omp per min-delay batch), min <= mean <= max, enable/disable/reset,
 * the caller's sections and their errors, the build section, the report,
 * and bitwise-identical spikes with profiling on. No wall-clock value is
 * asserted. */
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
#include "test_util.h"

/* A CUBA-like lif_exp network of 20 x 20 x 2 x 2 neurons with Poisson drive;
 * delay 0.5 ms = 5 steps (cpu-omp batches 5 steps). */
static n4d_model *net(n4d_context *ctx, int build)
{
    n4d_model *m = NULL;
    OK(n4d_model_create(ctx, &m));
    const uint32_t shape[4] = {20, 20, 2, 2};
    OK(n4d_model_set_lattice(m, shape));
    OK(n4d_model_set_seed(m, 7));
    OK(n4d_model_set_build_threads(m, 2));
    const int32_t lo[4] = {0, 0, 0, 0}, hi[4] = {19, 19, 1, 1};
    OK(n4d_model_add_area(m, "all", lo, hi));
    n4d_population_desc pd;
    n4d_population_desc_init(&pd);
    pd.name = "E";
    pd.area = "all";
    pd.model = N4D_NEURON_LIF_EXP;
    static const n4d_param_value params[] = {{"v_rest", -60}};
    pd.params = params;
    pd.n_params = 1;
    pd.v_init = n4d_dist_uniform(-60, -50);
    OK(n4d_model_add_population(m, &pd, NULL));
    n4d_projection_desc pj;
    n4d_projection_desc_init(&pj);
    pj.source = "E";
    pj.target = "E";
    pj.rule = N4D_RULE_FIXED_PROBABILITY;
    pj.p = 0.05;
    pj.weight = n4d_dist_normal(0.2, 0.5, -3, 3);
    pj.delay = n4d_dist_constant(0.5);
    OK(n4d_model_add_projection(m, &pj, NULL));
    n4d_input_desc in;
    n4d_input_desc_init(&in);
    in.kind = N4D_INPUT_POISSON;
    in.target = "E";
    in.rate = 3000;
    in.weight = 1.0;
    OK(n4d_model_add_input(m, &in));
    if (build)
        OK(n4d_model_build(m));
    return m;
}

static n4d_sim *sim_of(n4d_model *m, const char *backend, int threads)
{
    n4d_sim_options so;
    n4d_sim_options_init(&so);
    so.backend = backend;
    so.num_threads = threads;
    so.history_steps = 100;
    n4d_sim *sim = NULL;
    OK(n4d_sim_create(m, &so, &sim));
    return sim;
}

static n4d_mem_snapshot snap(const n4d_context *ctx, const char *label)
{
    n4d_mem_snapshot s;
    memset(&s, 0xab, sizeof s);
    s.struct_size = sizeof s;
    OK(n4d_memory_snapshot(ctx, label, &s));
    return s;
}

/* ---- memory -------------------------------------------------------------------- */

static void test_snapshots(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    OK(n4d_context_create(NULL, &ctx));
    n4d_mem_snapshot s0 = snap(ctx, "empty");
    assert_int_equal(s0.total, 0);
    assert_string_equal(s0.label, "empty");
    n4d_model *m = net(ctx, 0);
    n4d_mem_snapshot s1 = snap(ctx, "described");
    assert_true(s1.bytes[N4D_MEM_OTHER] > 0);
    assert_int_equal(s1.bytes[N4D_MEM_SYNAPSES], 0);
    OK(n4d_model_build(m));
    n4d_mem_snapshot s2 = snap(ctx, "built");
    assert_true(s2.bytes[N4D_MEM_NEURONS] > 0 && s2.bytes[N4D_MEM_SYNAPSES] > 0);
    assert_int_equal(s2.bytes[N4D_MEM_BUILD], 0);     /* build scratch released */
    assert_true(s2.peak_total > s2.total);           /* ... but it was there */
    /* synapse bytes: at least 8 per synapse (target + weight) */
    assert_true(s2.bytes[N4D_MEM_SYNAPSES] >= 8 * n4d_model_num_synapses(m));
    uint64_t sum = 0;
    for (int t = 0; t < N4D_MEM_TAG_COUNT; t++)
        sum += s2.bytes[t];
    assert_int_equal(sum, s2.total);
    n4d_sim *sim = sim_of(m, "cpu-omp", 2);
    n4d_mem_snapshot s3 = snap(ctx, "sim");
    n4d_mem_diff d;
    d.struct_size = sizeof d;
    OK(n4d_memory_diff(&s2, &s3, &d));
    const uint64_t N = n4d_model_num_neurons(m);
    uint32_t dmin, dmax;
    OK(n4d_model_delay_range(m, &dmin, &dmax));
    /* the delay ring: max delay slots x 2 channels x 4 bytes per neuron,
     * and the bookkeeping of its overflow list (a few words per slot) */
    const int64_t ring = (int64_t)(dmax * 2 * 4 * N);
    assert_true(d.bytes[N4D_MEM_BUFFERS] >= ring && d.bytes[N4D_MEM_BUFFERS] <= ring + 256 + 4 * dmax);
    assert_true(d.bytes[N4D_MEM_NEURONS] >= (int64_t)(N * 5 * 4)); /* v, x1, x2, iext, ref */
    assert_true(d.bytes[N4D_MEM_RECORDING] > 0 && d.bytes[N4D_MEM_BACKEND] > 0);
    assert_int_equal(d.bytes[N4D_MEM_SYNAPSES], 0);
    assert_int_equal(d.total, (int64_t)(s3.total - s2.total));
    n4d_sim_destroy(sim);
    n4d_mem_snapshot s4 = snap(ctx, NULL);
    assert_string_equal(s4.label, "");
    OK(n4d_memory_diff(&s2, &s4, &d));
    for (int t = 0; t < N4D_MEM_TAG_COUNT; t++)
        assert_int_equal(d.bytes[t], 0);
    n4d_model_destroy(m);
    n4d_mem_snapshot s5 = snap(ctx, "a label longer than the forty-seven bytes kept in a snapshot");
    assert_int_equal(s5.total, 0);
    assert_int_equal(strlen(s5.label), sizeof s5.label - 1);

    /* the report */
    const n4d_mem_snapshot all[] = {s0, s1, s2, s3};
    size_t len = 0;
    OK(n4d_memory_report(all, 4, NULL, 0, &len));
    char *buf = malloc(len + 1);
    size_t len2 = 0;
    OK(n4d_memory_report(all, 4, buf, len + 1, &len2));
    assert_int_equal(len, len2);
    assert_int_equal(strlen(buf), len);
    assert_non_null(strstr(buf, "described"));
    assert_non_null(strstr(buf, "synapses"));
    assert_non_null(strstr(buf, "buffers"));
    assert_non_null(strstr(buf, "change"));
    assert_non_null(strstr(buf, "peak total"));
    char small[10];
    OK(n4d_memory_report(all, 4, small, sizeof small, &len2));
    assert_int_equal(len2, len);
    assert_int_equal(strlen(small), sizeof small - 1);
    assert_memory_equal(small, buf, sizeof small - 1);
    OK(n4d_memory_report(all, 1, buf, len + 1, NULL));
    assert_null(strstr(buf, "change"));
    free(buf);

    assert_int_equal(n4d_memory_report(NULL, 1, small, sizeof small, NULL), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_memory_report(all, 0, small, sizeof small, NULL), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_memory_report(all, 1, NULL, 5, NULL), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_memory_snapshot(NULL, NULL, &s0), N4D_E_INVALID_ARG);
    s0.struct_size = 0;
    assert_int_equal(n4d_memory_snapshot(ctx, NULL, &s0), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_memory_diff(&s1, NULL, &d), N4D_E_INVALID_ARG);
    n4d_context_destroy(ctx);
}

static uint64_t run_checksum(n4d_sim *sim, uint64_t steps)
{
    OK(n4d_sim_run(sim, steps));
    return n4d_sim_checksum(sim);
}

static void test_optimize(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    OK(n4d_context_create(NULL, &ctx));
    n4d_memory_optimization r;
    memset(&r, 0, sizeof r);
    r.struct_size = sizeof r;

    /* before the build: zorder is applied, shrink releases description capacity */
    n4d_model *m = net(ctx, 0);
    OK(n4d_optimize_memory(m, N4D_OPTIMIZE_ZORDER | N4D_OPTIMIZE_SHRINK | N4D_OPTIMIZE_HISTORY, &r));
    assert_int_equal(r.applied, N4D_OPTIMIZE_ZORDER | N4D_OPTIMIZE_SHRINK);
    assert_int_equal(r.skipped, N4D_OPTIMIZE_HISTORY);
    assert_true(r.bytes_saved > 0); /* capacity of 8 areas, populations, ... cut to 1 */
    assert_int_equal(r.bytes_saved, (int64_t)(r.initial_bytes - r.final_bytes));
    assert_non_null(strstr(r.description, "zorder"));
    OK(n4d_model_build(m));
    n4d_access_stats zs;
    zs.struct_size = sizeof zs;
    OK(n4d_model_target_jumps(m, N4D_INDEX_INTERNAL, &zs));
    n4d_access_stats us;
    us.struct_size = sizeof us;
    OK(n4d_model_target_jumps(m, N4D_INDEX_USER, &us));
    assert_true(zs.mean_jump != us.mean_jump); /* reordered */
    n4d_model *ref = net(ctx, 1);              /* the unoptimised twin */

    /* after the build the model is immutable: zorder and shrink skipped */
    OK(n4d_optimize_memory(m, N4D_OPTIMIZE_ZORDER | N4D_OPTIMIZE_SHRINK, &r));
    assert_int_equal(r.applied, 0);
    assert_int_equal(r.skipped, N4D_OPTIMIZE_ZORDER | N4D_OPTIMIZE_SHRINK);
    assert_int_equal(r.bytes_saved, 0);
    assert_non_null(strstr(r.description, "immutable"));

    n4d_sim *a = sim_of(m, "cpu-omp", 2), *b = sim_of(ref, "cpu-ref", 1);
    OK(n4d_optimize_memory(m, N4D_OPTIMIZE_SHRINK, NULL));
    OK(n4d_optimize_memory(m, N4D_OPTIMIZE_SHRINK, &r));
    assert_int_equal(r.skipped, N4D_OPTIMIZE_SHRINK);

    assert_true(run_checksum(a, 200) == run_checksum(b, 200));
    const uint64_t *st1, *st2;
    const uint32_t *id1, *id2;
    uint64_t n1, n2;
    OK(n4d_sim_spikes(a, &st1, &id1, &n1));
    assert_true(n1 > 100);
    /* shrink the recording: exactly (capacity - count) x 12 bytes released */
    n4d_mem_snapshot before = snap(ctx, "before");
    OK(n4d_sim_optimize_memory(a, N4D_OPTIMIZE_SHRINK | N4D_OPTIMIZE_ZORDER, &r));
    n4d_mem_snapshot after = snap(ctx, "after");
    assert_int_equal(r.applied, N4D_OPTIMIZE_SHRINK);
    assert_int_equal(r.skipped, N4D_OPTIMIZE_ZORDER);
    assert_true(r.bytes_saved > 0 && r.bytes_saved % 12 == 0);
    assert_int_equal((int64_t)(before.bytes[N4D_MEM_RECORDING] - after.bytes[N4D_MEM_RECORDING]),
                     r.bytes_saved);
    OK(n4d_sim_spikes(a, &st1, &id1, &n1));
    OK(n4d_sim_spikes(b, &st2, &id2, &n2));
    assert_int_equal(n1, n2);
    assert_memory_equal(st1, st2, n1 * sizeof *st1);
    assert_memory_equal(id1, id2, n1 * sizeof *id1);
    /* release the history window */
    assert_true(n4d_sim_spiked_at(a, id1[n1 - 1], st1[n1 - 1]) == 1);
    OK(n4d_sim_optimize_memory(a, N4D_OPTIMIZE_HISTORY, &r));
    assert_int_equal(r.applied, N4D_OPTIMIZE_HISTORY);
    assert_int_equal(r.bytes_saved, (int64_t)(100 * ((n4d_model_num_neurons(m) + 63) / 64) * 8));
    assert_int_equal(n4d_sim_spiked_at(a, id1[n1 - 1], st1[n1 - 1]), N4D_E_RANGE);
    /* compression: a sim option (skipped on the model); on the sim it is
     * enabled, and the run below must stay identical to b's */
    OK(n4d_optimize_memory(m, N4D_OPTIMIZE_COMPRESS, &r));
    assert_int_equal(r.skipped, N4D_OPTIMIZE_COMPRESS);
    assert_non_null(strstr(r.description, "compress skipped"));
    OK(n4d_sim_optimize_memory(a, N4D_OPTIMIZE_COMPRESS, &r));
    assert_int_equal(r.applied, N4D_OPTIMIZE_COMPRESS);
    assert_non_null(strstr(r.description, "compression enabled"));
    /* the simulation goes on unchanged (recording grows again) */
    assert_true(run_checksum(a, 300) == run_checksum(b, 300));
    OK(n4d_sim_spikes(a, &st1, &id1, &n1));
    OK(n4d_sim_spikes(b, &st2, &id2, &n2));
    assert_int_equal(n1, n2);
    assert_memory_equal(id1, id2, n1 * sizeof *id1);
    OK(n4d_sim_optimize_memory(a, 0, &r));
    assert_true(r.applied == 0 && r.skipped == 0 && r.bytes_saved == 0);

    assert_int_equal(n4d_sim_optimize_memory(a, 1u << 20, &r), N4D_E_INVALID_ARG);
    assert_non_null(strstr(n4d_last_error(a), "unknown"));
    assert_int_equal(n4d_optimize_memory(m, 1u << 9, &r), N4D_E_INVALID_ARG);
    r.struct_size = 0;
    assert_int_equal(n4d_optimize_memory(m, 0, &r), N4D_E_INVALID_ARG);
    /* an older caller's smaller report gets what it has */
    memset(&r, 0x5a, sizeof r);
    r.struct_size = (uint32_t)offsetof(n4d_memory_optimization, applied);
    OK(n4d_sim_optimize_memory(a, N4D_OPTIMIZE_SHRINK, &r));
    assert_int_equal(r.struct_size, offsetof(n4d_memory_optimization, applied));
    assert_int_equal(r.bytes_saved, (int64_t)(r.initial_bytes - r.final_bytes));
    assert_int_equal(r.applied, 0x5a5a5a5a);
    assert_int_equal(n4d_optimize_memory(NULL, 0, NULL), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_sim_optimize_memory(NULL, 0, NULL), N4D_E_INVALID_ARG);
    n4d_sim_destroy(a);
    n4d_sim_destroy(b);
    n4d_model_destroy(m);
    n4d_model_destroy(ref);
    n4d_mem_snapshot end = snap(ctx, "end");
    assert_int_equal(end.total, 0);
    n4d_context_destroy(ctx);
}

/* ---- performance ------------------------------------------------------------ */

static void get_entries(n4d_sim *sim, n4d_profile_entry *e, size_t cap, size_t *n)
{
    OK(n4d_sim_profile_get(sim, e, cap, n));
    for (size_t i = 0; i < *n && i < cap; i++) {
        assert_non_null(e[i].name);
        if (e[i].calls) {
            assert_true(e[i].min_s <= e[i].mean_s && e[i].mean_s <= e[i].max_s);
            assert_true(fabs(e[i].mean_s * (double)e[i].calls - e[i].total_s) <=
                        1e-9 * (double)e[i].calls + 1e-9 * e[i].total_s);
        } else {
            assert_true(e[i].total_s == 0 && e[i].mean_s == 0);
        }
    }
}

static void test_sections_cpu_ref(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    OK(n4d_context_create(NULL, &ctx));
    n4d_model *m = net(ctx, 0);
    n4d_sim *sim = sim_of(m, "cpu-ref", 1); /* builds the model: timed */
    n4d_profile_entry e[80];
    size_t n = 0;
    get_entries(sim, e, 80, &n);
    assert_int_equal(n, N4D_PROFILE_BUILTIN_COUNT);
    const char *names[] = {"build", "run", "neuron update", "delivery", "exchange", "recording",
                           "input"};
    for (int i = 0; i < N4D_PROFILE_BUILTIN_COUNT; i++)
        assert_string_equal(e[i].name, names[i]);
    assert_int_equal(e[N4D_PROFILE_BUILD].calls, 1); /* n4d_model_build timed itself */
    assert_int_equal(e[N4D_PROFILE_UPDATE].calls, 0);
    assert_int_equal(n4d_sim_profile_enabled(sim), 0);
    OK(n4d_sim_run(sim, 10)); /* off: nothing collected */
    OK(n4d_sim_profile_enable(sim, 1));
    assert_int_equal(n4d_sim_profile_enabled(sim), 1);
    OK(n4d_sim_run(sim, 60));
    OK(n4d_sim_run(sim, 40));
    OK(n4d_sim_step(sim));
    OK(n4d_sim_add_input(sim, 3, 1.0f));
    get_entries(sim, e, 80, &n);
    assert_int_equal(e[N4D_PROFILE_RUN].calls, 3);
    assert_int_equal(e[N4D_PROFILE_UPDATE].calls, 101);
    assert_int_equal(e[N4D_PROFILE_DELIVERY].calls, 101);
    assert_int_equal(e[N4D_PROFILE_RECORDING].calls, 101);
    assert_int_equal(e[N4D_PROFILE_EXCHANGE].calls, 0);
    assert_int_equal(e[N4D_PROFILE_INPUT].calls, 1);
    /* the parts fit in the runs */
    assert_true(e[N4D_PROFILE_UPDATE].total_s + e[N4D_PROFILE_DELIVERY].total_s +
                    e[N4D_PROFILE_RECORDING].total_s <=
                e[N4D_PROFILE_RUN].total_s * 1.0001 + 1e-6);
    OK(n4d_sim_profile_enable(sim, 0));
    OK(n4d_sim_run(sim, 10));
    get_entries(sim, e, 80, &n);
    assert_int_equal(e[N4D_PROFILE_UPDATE].calls, 101);
    size_t len = 0;
    OK(n4d_sim_profile_report(sim, NULL, 0, &len));
    char *buf = malloc(len + 1);
    OK(n4d_sim_profile_report(sim, buf, len + 1, NULL));
    assert_int_equal(strlen(buf), len);
    assert_non_null(strstr(buf, "neuron update"));
    assert_non_null(strstr(buf, "delivery"));
    assert_non_null(strstr(buf, "% run"));
    assert_null(strstr(buf, "exchange")); /* no calls: not listed */
    free(buf);
    OK(n4d_sim_profile_reset(sim));
    get_entries(sim, e, 80, &n);
    assert_int_equal(e[N4D_PROFILE_UPDATE].calls, 0);
    assert_int_equal(e[N4D_PROFILE_RUN].calls, 0);
    n4d_sim_destroy(sim);
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
}

static void test_sections_cpu_omp(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    OK(n4d_context_create(NULL, &ctx));
    n4d_model *m = net(ctx, 1);
    n4d_model *ref = net(ctx, 1);
    for (int threads = 1; threads <= 2; threads++) {
        n4d_sim *sim = sim_of(m, "cpu-omp", threads);
        n4d_sim *plain = sim_of(ref, "cpu-omp", threads);
        n4d_profile_entry e[8];
        size_t n = 0;
        get_entries(sim, e, 8, &n);
        assert_int_equal(e[N4D_PROFILE_BUILD].calls, 1); /* n4d_model_build times itself */
        OK(n4d_sim_profile_enable(sim, 1));
        OK(n4d_sim_profile_add(sim, "build", 0.25));
        OK(n4d_sim_run(sim, 100)); /* 20 batches of 5 steps */
        OK(n4d_sim_run(plain, 100));
        OK(n4d_sim_run(sim, 7)); /* 5 + 2 */
        OK(n4d_sim_run(plain, 7));
        assert_true(n4d_sim_checksum(sim) == n4d_sim_checksum(plain));
        assert_true(n4d_sim_total_spikes(sim) > 20);
        get_entries(sim, e, 8, &n);
        assert_int_equal(e[N4D_PROFILE_BUILD].calls, 1);
        assert_true(fabs(e[N4D_PROFILE_BUILD].total_s - 0.25) < 1e-9);
        assert_int_equal(e[N4D_PROFILE_RUN].calls, 2);
        assert_int_equal(e[N4D_PROFILE_UPDATE].calls, 22);
        assert_int_equal(e[N4D_PROFILE_DELIVERY].calls, 22);
        assert_int_equal(e[N4D_PROFILE_EXCHANGE].calls, 22);
        assert_int_equal(e[N4D_PROFILE_RECORDING].calls, 22);
        assert_true(e[N4D_PROFILE_UPDATE].total_s + e[N4D_PROFILE_DELIVERY].total_s +
                        e[N4D_PROFILE_EXCHANGE].total_s + e[N4D_PROFILE_RECORDING].total_s <=
                    e[N4D_PROFILE_RUN].total_s * 1.0001 + 1e-6);
        n4d_sim_destroy(sim);
        n4d_sim_destroy(plain);
    }
    n4d_model_destroy(m);
    n4d_model_destroy(ref);
    n4d_context_destroy(ctx);
}

static void test_user_sections(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    OK(n4d_context_create(NULL, &ctx));
    n4d_model *m = net(ctx, 1);
    n4d_sim *sim = sim_of(m, "cpu-omp", 1);
    /* off: no-ops */
    OK(n4d_sim_profile_start(sim, "mine"));
    OK(n4d_sim_profile_stop(sim, "other"));
    size_t n = 0;
    OK(n4d_sim_profile_get(sim, NULL, 0, &n));
    assert_int_equal(n, N4D_PROFILE_BUILTIN_COUNT);
    OK(n4d_sim_profile_enable(sim, 1));
    for (int k = 0; k < 3; k++) {
        OK(n4d_sim_profile_start(sim, "outer"));
        OK(n4d_sim_profile_start(sim, "inner"));
        OK(n4d_sim_run(sim, 5));
        OK(n4d_sim_profile_stop(sim, "inner"));
        OK(n4d_sim_profile_stop(sim, "outer"));
    }
    OK(n4d_sim_profile_add(sim, "io", 1.5));
    OK(n4d_sim_profile_add(sim, "io", 0.5));
    n4d_profile_entry e[16];
    get_entries(sim, e, 16, &n);
    assert_int_equal(n, N4D_PROFILE_BUILTIN_COUNT + 3);
    const n4d_profile_entry *outer = &e[N4D_PROFILE_BUILTIN_COUNT];
    const n4d_profile_entry *inner = &e[N4D_PROFILE_BUILTIN_COUNT + 1];
    const n4d_profile_entry *io = &e[N4D_PROFILE_BUILTIN_COUNT + 2];
    assert_string_equal(outer->name, "outer");
    assert_string_equal(inner->name, "inner");
    assert_int_equal(outer->calls, 3);
    assert_int_equal(inner->calls, 3);
    assert_true(inner->total_s <= outer->total_s);
    assert_true(io->calls == 2 && fabs(io->total_s - 2.0) < 1e-9 && fabs(io->max_s - 1.5) < 1e-9 &&
                fabs(io->min_s - 0.5) < 1e-9);
    /* a short cap still reports the count */
    get_entries(sim, e, 2, &n);
    assert_int_equal(n, N4D_PROFILE_BUILTIN_COUNT + 3);
    /* errors */
    assert_int_equal(n4d_sim_profile_stop(sim, "never"), N4D_E_STATE);
    assert_non_null(strstr(n4d_last_error(sim), "never"));
    assert_int_equal(n4d_sim_profile_stop(sim, "outer"), N4D_E_STATE);
    OK(n4d_sim_profile_start(sim, "twice"));
    assert_int_equal(n4d_sim_profile_start(sim, "twice"), N4D_E_STATE);
    OK(n4d_sim_profile_stop(sim, "twice"));
    assert_int_equal(n4d_sim_profile_start(sim, "delivery"), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_sim_profile_start(sim, ""), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_sim_profile_start(sim, NULL), N4D_E_INVALID_ARG);
    char longname[100];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_int_equal(n4d_sim_profile_start(sim, longname), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_sim_profile_add(sim, "io", -1.0), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_sim_profile_add(sim, "io", NAN), N4D_E_INVALID_ARG);
    for (int k = 4; k < 64; k++) { /* 4 sections so far: fill to 64 */
        char name[16];
        snprintf(name, sizeof name, "s%d", k);
        OK(n4d_sim_profile_add(sim, name, 0.0));
    }
    assert_int_equal(n4d_sim_profile_add(sim, "one too many", 0.0), N4D_E_LIMIT);
    OK(n4d_sim_profile_add(sim, "s10", 0.0)); /* existing names still work */
    n4d_profile_entry big[80];
    get_entries(sim, big, 80, &n);
    assert_int_equal(n, N4D_PROFILE_BUILTIN_COUNT + 64);
    size_t len = 0;
    OK(n4d_sim_profile_report(sim, NULL, 0, &len));
    char *buf = malloc(len + 1);
    OK(n4d_sim_profile_report(sim, buf, len + 1, &len));
    assert_non_null(strstr(buf, "outer"));
    assert_non_null(strstr(buf, "s63"));
    free(buf);
    /* reset forgets the caller's sections */
    OK(n4d_sim_profile_reset(sim));
    OK(n4d_sim_profile_get(sim, NULL, 0, &n));
    assert_int_equal(n, N4D_PROFILE_BUILTIN_COUNT);
    assert_int_equal(n4d_sim_profile_get(sim, NULL, 3, &n), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_sim_profile_get(NULL, e, 3, &n), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_sim_profile_enable(NULL, 1), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_sim_profile_report(sim, NULL, 4, NULL), N4D_E_INVALID_ARG);
    n4d_sim_destroy(sim);
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_snapshots),
        cmocka_unit_test(test_optimize),
        cmocka_unit_test(test_sections_cpu_ref),
        cmocka_unit_test(test_sections_cpu_omp),
        cmocka_unit_test(test_user_sections),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
