/* The public API contract (include/n4d/ headers, docs/api.md): status strings,
 * version, destroy(NULL), NULL arguments, error details on every handle
 * kind, state errors, spike reporting (history window, last spikes, step
 * statistics, recording, checksum), state access, external and sense input,
 * logging, memory accounting (also under injected allocation failures),
 * model memory and neuron placement. Models are built programmatically. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "n4d.h"
#include "test_util.h"

/* ---- helpers -------------------------------------------------------------- */

static n4d_context *new_ctx(void)
{
    n4d_context *ctx = NULL;
    assert_int_equal(n4d_context_create(NULL, &ctx), N4D_OK);
    assert_non_null(ctx);
    return ctx;
}

static n4d_memory_stats mem_stats(const n4d_context *ctx)
{
    n4d_memory_stats ms;
    memset(&ms, 0, sizeof ms);
    ms.struct_size = sizeof ms;
    assert_int_equal(n4d_context_memory(ctx, &ms), N4D_OK);
    return ms;
}

static void assert_ctx_empty(const n4d_context *ctx)
{
    n4d_memory_stats ms = mem_stats(ctx);
    for (int t = 0; t < N4D_MEM_TAG_COUNT; t++)
        if (ms.current[t] != 0) {
            print_error("tag %s still holds %llu bytes\n", n4d_mem_tag_name(t),
                        (unsigned long long)ms.current[t]);
            fail();
        }
    assert_int_equal(ms.total_current, 0);
}

static void finish(n4d_context *ctx, n4d_model *m, n4d_sim *sim)
{
    n4d_sim_destroy(sim);
    n4d_model_destroy(m);
    assert_ctx_empty(ctx);
    n4d_context_destroy(ctx);
}

static n4d_model *new_model(n4d_context *ctx, uint32_t X, uint32_t Y, uint32_t Z, uint32_t W,
                            double dt)
{
    n4d_model *m = NULL;
    assert_int_equal(n4d_model_create(ctx, &m), N4D_OK);
    assert_non_null(m);
    const uint32_t shape[4] = {X, Y, Z, W};
    ASSERT_OK(n4d_model_set_lattice(m, shape), m);
    ASSERT_OK(n4d_model_set_dt(m, dt), m);
    return m;
}

static void add_area(n4d_model *m, const char *name, int32_t x0, int32_t y0, int32_t z0,
                     int32_t w0, int32_t x1, int32_t y1, int32_t z1, int32_t w1)
{
    const int32_t lo[4] = {x0, y0, z0, w0}, hi[4] = {x1, y1, z1, w1};
    ASSERT_OK(n4d_model_add_area(m, name, lo, hi), m);
}

static n4d_population_desc pop_desc(const char *name, const char *area, int32_t model)
{
    n4d_population_desc d;
    n4d_population_desc_init(&d);
    d.name = name;
    d.area = area;
    d.model = model;
    return d;
}

static void add_pop(n4d_model *m, const char *name, const char *area, int32_t model)
{
    n4d_population_desc d = pop_desc(name, area, model);
    ASSERT_OK(n4d_model_add_population(m, &d, NULL), m);
}

static void add_dc(n4d_model *m, const char *target, double amplitude)
{
    n4d_input_desc in;
    n4d_input_desc_init(&in);
    in.target = target;
    in.amplitude = amplitude;
    ASSERT_OK(n4d_model_add_input(m, &in), m);
}

static n4d_sim *new_sim(n4d_model *m, const char *backend, int threads, uint32_t history,
                        int record)
{
    n4d_sim_options o;
    n4d_sim_options_init(&o);
    o.backend = backend;
    o.num_threads = threads;
    o.history_steps = history;
    o.record_spikes = record;
    n4d_sim *sim = NULL;
    ASSERT_OK(n4d_sim_create(m, &o, &sim), m);
    assert_non_null(sim);
    return sim;
}

/* 100 tonically firing lif neurons with staggered phases (dt 1 ms, DC 30 mV,
 * initial V uniform in [-70, -50)): about 5 spikes per neuron per 120 steps. */
static n4d_model *firing_model(n4d_context *ctx)
{
    n4d_model *m = new_model(ctx, 10, 10, 1, 1, 1.0);
    add_area(m, "A", 0, 0, 0, 0, 9, 9, 0, 0);
    n4d_population_desc d = pop_desc("P", "A", N4D_NEURON_LIF);
    d.v_init = n4d_dist_uniform(-70.0, -50.0);
    ASSERT_OK(n4d_model_add_population(m, &d, NULL), m);
    add_dc(m, "P", 30.0);
    ASSERT_OK(n4d_model_build(m), m);
    assert_int_equal(n4d_model_num_neurons(m), 100);
    return m;
}

/* ---- static strings ------------------------------------------------------- */

static void test_status_strings(void **state)
{
    (void)state;
    const char *s[13];
    for (int c = 0; c <= 12; c++) {
        s[c] = n4d_status_string(-c);
        assert_non_null(s[c]);
        assert_true(strlen(s[c]) > 0);
        for (int d = 0; d < c; d++)
            if (strcmp(s[c], s[d]) == 0) {
                print_error("codes %d and %d share \"%s\"\n", -c, -d, s[c]);
                fail();
            }
    }
    assert_int_equal(N4D_E_LIMIT, -12);
    const char *u1 = n4d_status_string(-13), *u2 = n4d_status_string(1),
               *u3 = n4d_status_string(INT32_MIN);
    assert_non_null(u1);
    assert_non_null(u2);
    assert_non_null(u3);
    assert_true(strlen(u1) > 0);
    for (int c = 0; c <= 12; c++)
        assert_string_not_equal(u1, s[c]);
    assert_string_equal(n4d_mem_tag_name(N4D_MEM_SYNAPSES), "synapses");
    assert_string_equal(n4d_mem_tag_name(-1), "unknown");
    assert_string_equal(n4d_mem_tag_name(N4D_MEM_TAG_COUNT), "unknown");
}

static void test_version(void **state)
{
    (void)state;
    char want[64];
    snprintf(want, sizeof want, "%d.%d.%d", N4D_VERSION_MAJOR, N4D_VERSION_MINOR,
             N4D_VERSION_PATCH);
    assert_string_equal(n4d_version_string(), want);
    assert_true(n4d_has_feature(N4D_FEATURE_JSON) == 1);
    assert_true(n4d_has_feature(12345) == 0);
}

/* ---- NULL handles and arguments --------------------------------------------- */

static void test_destroy_null_and_non_handles(void **state)
{
    (void)state;
    n4d_sim_destroy(NULL);
    n4d_model_destroy(NULL);
    n4d_context_destroy(NULL);
    assert_string_equal(n4d_last_error(NULL), "");
    /* not an n4d handle (zeroed memory of a handle's size): "" */
    static char junk[4096];
    assert_string_equal(n4d_last_error(junk), "");
    /* queries on NULL handles answer neutral values */
    assert_string_equal(n4d_sim_backend(NULL), "");
    assert_int_equal(n4d_sim_num_threads(NULL), 0);
    assert_int_equal(n4d_sim_current_step(NULL), 0);
    assert_int_equal(n4d_sim_total_spikes(NULL), 0);
    assert_int_equal(n4d_model_num_neurons(NULL), 0);
    assert_int_equal(n4d_model_is_built(NULL), 0);
    assert_string_equal(n4d_model_warnings(NULL), "");
}

static void test_null_arguments(void **state)
{
    (void)state;
    /* context */
    assert_int_equal(n4d_context_create(NULL, NULL), N4D_E_INVALID_ARG);
    n4d_context_options co;
    n4d_context_options_init(&co);
    co.allocator.alloc = NULL;
    co.allocator.free = (void (*)(void *, void *, size_t))1; /* only one hook: invalid */
    n4d_context *bad = (n4d_context *)&co;
    assert_int_equal(n4d_context_create(&co, &bad), N4D_E_INVALID_ARG);
    assert_null(bad);
    n4d_memory_stats ms;
    memset(&ms, 0, sizeof ms);
    ms.struct_size = sizeof ms;
    assert_int_equal(n4d_context_memory(NULL, &ms), N4D_E_INVALID_ARG);
    n4d_context *ctx = new_ctx();
    assert_int_equal(n4d_context_memory(ctx, NULL), N4D_E_INVALID_ARG);

    /* model: creation and description */
    n4d_model *m = (n4d_model *)ctx;
    assert_int_equal(n4d_model_create(NULL, &m), N4D_E_INVALID_ARG);
    assert_null(m);
    assert_int_equal(n4d_model_create(ctx, NULL), N4D_E_INVALID_ARG);
    m = new_model(ctx, 4, 4, 1, 1, 0.1);
    const int32_t lo[4] = {0, 0, 0, 0}, hi[4] = {3, 3, 0, 0};
    const uint32_t shape[4] = {4, 4, 1, 1};
    assert_int_equal(n4d_model_set_lattice(NULL, shape), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_model_set_lattice(m, NULL), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_model_set_dt(NULL, 0.1), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_model_set_seed(NULL, 1), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_model_set_build_threads(NULL, 1), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_model_add_area(NULL, "A", lo, hi), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_model_add_area(m, NULL, lo, hi), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_model_add_area(m, "A", NULL, hi), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_model_add_area(m, "A", lo, NULL), N4D_E_INVALID_ARG);
    ASSERT_OK(n4d_model_add_area(m, "A", lo, hi), m);
    n4d_population_desc pd = pop_desc("P", "A", N4D_NEURON_LIF);
    assert_int_equal(n4d_model_add_population(NULL, &pd, NULL), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_model_add_population(m, NULL, NULL), N4D_E_INVALID_ARG);
    pd.name = NULL;
    assert_int_equal(n4d_model_add_population(m, &pd, NULL), N4D_E_INVALID_ARG);
    pd.name = "P";
    pd.area = NULL;
    assert_int_equal(n4d_model_add_population(m, &pd, NULL), N4D_E_INVALID_ARG);
    pd.area = "A";
    pd.struct_size = 0;
    assert_int_equal(n4d_model_add_population(m, &pd, NULL), N4D_E_INVALID_ARG);
    pd.struct_size = sizeof pd;
    ASSERT_OK(n4d_model_add_population(m, &pd, NULL), m);
    n4d_projection_desc pr;
    n4d_projection_desc_init(&pr);
    pr.source = "P";
    pr.target = "P";
    assert_int_equal(n4d_model_add_projection(NULL, &pr, NULL), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_model_add_projection(m, NULL, NULL), N4D_E_INVALID_ARG);
    pr.source = NULL;
    assert_int_equal(n4d_model_add_projection(m, &pr, NULL), N4D_E_INVALID_ARG);
    pr.source = "P";
    pr.target = NULL;
    assert_int_equal(n4d_model_add_projection(m, &pr, NULL), N4D_E_INVALID_ARG);
    n4d_input_desc in;
    n4d_input_desc_init(&in);
    assert_int_equal(n4d_model_add_input(NULL, &in), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_model_add_input(m, NULL), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_model_add_input(m, &in), N4D_E_INVALID_ARG); /* target NULL */
    assert_int_equal(n4d_model_add_sense(NULL, "s", "A", 2, 2), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_model_add_sense(m, NULL, "A", 2, 2), N4D_E_INVALID_ARG);
    assert_true(n4d_model_add_sense(m, "s", NULL, 2, 2) < 0);
    assert_int_equal(n4d_model_build(NULL), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_neuron_model_info_get(0, NULL), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_neuron_model_param_info(0, 0, NULL), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_neuron_model_state_info(0, 0, NULL), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_synapse_model_info_get(0, NULL), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_neuron_model_find(NULL), N4D_E_RANGE);
    assert_int_equal(n4d_synapse_model_find(NULL), N4D_E_RANGE);
    assert_null(n4d_neuron_model_preset(-1, 0));
    double x = 0.0;
    assert_int_equal(n4d_model_set_population_param(NULL, "P", "tau_m", 1.0), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_model_get_population_param(NULL, "P", "tau_m", &x), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_model_set_population_param(m, NULL, "tau_m", 1.0), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_model_get_population_param(m, "P", NULL, &x), N4D_E_INVALID_ARG);
    n4d_population_desc_init(NULL);
    n4d_projection_desc_init(NULL);
    n4d_input_desc_init(NULL);
    n4d_sim_options_init(NULL);
    n4d_context_options_init(NULL);

    /* model queries */
    uint32_t sh[4];
    assert_int_equal(n4d_model_lattice(NULL, sh), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_model_lattice(m, NULL), N4D_E_INVALID_ARG);
    assert_true(n4d_model_find_population(NULL, "P") < 0);
    assert_true(n4d_model_find_population(m, NULL) < 0);
    assert_int_equal(n4d_model_find_population(m, "P"), 0);
    assert_true(n4d_model_find_population(m, "nope") < 0);
    ASSERT_OK(n4d_model_build(m), m);
    n4d_population_info info;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    assert_int_equal(n4d_model_population_info(NULL, 0, &info), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_model_population_info(m, 0, NULL), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_model_population_info(m, 1, &info), N4D_E_RANGE);
    int32_t xyzw[4];
    assert_int_equal(n4d_model_neuron_position(NULL, 0, xyzw), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_model_neuron_position(m, 0, NULL), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_model_neuron_position(m, 16, xyzw), N4D_E_RANGE);
    assert_true(n4d_model_neuron_population(NULL, 0) < 0);
    assert_int_equal(n4d_model_neuron_population(m, 16), N4D_E_RANGE);
    uint64_t cnt;
    assert_int_equal(n4d_model_out_degree(NULL, 0, &cnt), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_model_out_degree(m, 0, NULL), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_model_out_degree(m, 16, &cnt), N4D_E_RANGE);
    assert_int_equal(n4d_model_get_synapses(NULL, 0, 0, NULL, NULL, NULL, &cnt),
                     N4D_E_INVALID_ARG);
    assert_int_equal(n4d_model_get_synapses(m, 16, 0, NULL, NULL, NULL, &cnt), N4D_E_RANGE);
    uint32_t a, b;
    assert_int_equal(n4d_model_delay_range(NULL, &a, &b), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_model_delay_range(m, &a, NULL), N4D_E_INVALID_ARG);
    uint64_t bytes[N4D_MEM_TAG_COUNT];
    assert_int_equal(n4d_model_memory(NULL, bytes), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_model_memory(m, NULL), N4D_E_INVALID_ARG);

    /* sims */
    n4d_sim *sim = (n4d_sim *)m;
    assert_int_equal(n4d_sim_create(NULL, NULL, &sim), N4D_E_INVALID_ARG);
    /* docs/api.md: create functions write NULL to the out-parameter on failure */
    assert_null(sim);
    assert_int_equal(n4d_sim_create(m, NULL, NULL), N4D_E_INVALID_ARG);
    n4d_sim_options so;
    n4d_sim_options_init(&so);
    so.struct_size = 0;
    sim = NULL;
    assert_int_equal(n4d_sim_create(m, &so, &sim), N4D_E_INVALID_ARG);
    assert_null(sim);
    sim = new_sim(m, "cpu-ref", 0, 10, 1);
    assert_int_equal(n4d_sim_step(NULL), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_sim_run(NULL, 3), N4D_E_INVALID_ARG);
    ASSERT_OK(n4d_sim_run(sim, 0), sim);
    assert_int_equal(n4d_sim_current_step(sim), 0);
    ASSERT_OK(n4d_sim_step(sim), sim);
    const uint32_t *ids;
    const uint64_t *steps;
    assert_int_equal(n4d_sim_last_spikes(NULL, &ids, &cnt), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_sim_last_spikes(sim, NULL, &cnt), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_sim_last_spikes(sim, &ids, NULL), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_sim_spikes(NULL, &steps, &ids, &cnt), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_sim_spikes(sim, NULL, &ids, &cnt), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_sim_spikes(sim, &steps, NULL, &cnt), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_sim_spikes(sim, &steps, &ids, NULL), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_sim_clear_spikes(NULL), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_sim_spiked_at(NULL, 0, 0), N4D_E_INVALID_ARG);
    n4d_step_stats ss;
    memset(&ss, 0, sizeof ss);
    ss.struct_size = sizeof ss;
    assert_int_equal(n4d_sim_step_stats(NULL, &ss), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_sim_step_stats(sim, NULL), N4D_E_INVALID_ARG);
    float v[16];
    assert_int_equal(n4d_sim_get_state(NULL, "v", v, 16), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_sim_get_state(sim, NULL, v, 16), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_sim_get_state(sim, "v", NULL, 16), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_sim_set_state(NULL, "v", v, 16), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_sim_set_state(sim, NULL, v, 16), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_sim_set_state(sim, "v", NULL, 16), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_sim_add_input(NULL, 0, 1.0f), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_sim_feed_sense(NULL, "s", v, 2, 2, 0), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_sim_feed_sense(sim, NULL, v, 2, 2, 0), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_sim_feed_sense(sim, "s", NULL, 2, 2, 0), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_sim_feed_sense(sim, "nope", v, 2, 2, 0), N4D_E_INVALID_ARG);
    assert_non_null(strstr(n4d_last_error(sim), "nope"));
    /* the sim still works */
    ASSERT_OK(n4d_sim_step(sim), sim);
    assert_int_equal(n4d_sim_current_step(sim), 2);
    finish(ctx, m, sim);
}

/* ---- error details ------------------------------------------------------------- */

/* The model registry and parameters by name: queries, defaults, presets,
 * set/get before the build, errors naming the population, the parameter
 * and the model; synapse models. */
static void test_params_by_name(void **state)
{
    (void)state;
    /* registry queries: the built-in models keep their ids and names */
    static const char *const builtin[4] = {"lif", "lif_exp", "izhikevich", "lif_cond_exp"};
    assert_true(n4d_neuron_model_count() >= 4);
    for (int32_t id = 0; id < 4; id++) {
        const int32_t i = n4d_neuron_model_find(builtin[id]);
        assert_true(i >= 0);
        n4d_neuron_model_info mi;
        memset(&mi, 0, sizeof mi);
        mi.struct_size = sizeof mi;
        ASSERT_OK(n4d_neuron_model_info_get(i, &mi), NULL);
        assert_int_equal(mi.id, id);
        assert_string_equal(mi.name, builtin[id]);
        assert_true(mi.num_params > 0 && mi.num_states >= 1);
        n4d_state_info si;
        memset(&si, 0, sizeof si);
        si.struct_size = sizeof si;
        ASSERT_OK(n4d_neuron_model_state_info(i, 0, &si), NULL);
        assert_string_equal(si.name, "v");
        assert_int_equal(n4d_neuron_model_state_info(i, mi.num_states, &si), N4D_E_RANGE);
        n4d_param_info pi;
        memset(&pi, 0, sizeof pi);
        pi.struct_size = sizeof pi;
        assert_int_equal(n4d_neuron_model_param_info(i, mi.num_params, &pi), N4D_E_RANGE);
        for (int32_t k = 0; k < mi.num_params; k++) {
            ASSERT_OK(n4d_neuron_model_param_info(i, k, &pi), NULL);
            assert_non_null(pi.name);
            assert_non_null(pi.unit);
            assert_true(isfinite(pi.default_value));
        }
    }
    assert_int_equal(n4d_neuron_model_find("hodgkin_huxley"), N4D_E_RANGE);
    n4d_neuron_model_info mi;
    memset(&mi, 0, sizeof mi);
    mi.struct_size = sizeof mi;
    assert_int_equal(n4d_neuron_model_info_get(n4d_neuron_model_count(), &mi), N4D_E_RANGE);
    /* an older caller's smaller struct gets what it knows */
    n4d_param_info small;
    memset(&small, 0xff, sizeof small);
    small.struct_size = (uint32_t)offsetof(n4d_param_info, unit);
    ASSERT_OK(n4d_neuron_model_param_info(n4d_neuron_model_find("lif"), 0, &small), NULL);
    assert_string_equal(small.name, "tau_m");
    assert_true(small.unit == (const char *)(uintptr_t)UINTPTR_MAX);
    const int32_t izh = n4d_neuron_model_find("izhikevich");
    assert_string_equal(n4d_neuron_model_preset(izh, 1), "fast_spiking");
    assert_null(n4d_neuron_model_preset(izh, 4));
    assert_int_equal(n4d_synapse_model_find("static"), 0);
    n4d_synapse_model_info sm;
    memset(&sm, 0, sizeof sm);
    sm.struct_size = sizeof sm;
    ASSERT_OK(n4d_synapse_model_info_get(0, &sm), NULL);
    assert_string_equal(sm.name, "static");
    assert_int_equal(sm.bytes_per_synapse, 8);
    assert_int_equal(sm.num_vars, 0);

    n4d_context *ctx = new_ctx();
    n4d_model *m = new_model(ctx, 4, 1, 1, 1, 0.1);
    add_area(m, "A", 0, 0, 0, 0, 3, 0, 0, 0);
    /* by name, with parameters over the defaults */
    n4d_population_desc d;
    n4d_population_desc_init(&d);
    d.name = "E";
    d.area = "A";
    d.model_name = "lif_exp";
    const n4d_param_value pv[] = {{"tau_m", 10.0}, {"refractory_period", 1.5}};
    d.params = pv;
    d.n_params = 2;
    ASSERT_OK(n4d_model_add_population(m, &d, NULL), m);
    double x = 0.0;
    ASSERT_OK(n4d_model_get_population_param(m, "E", "tau_m", &x), m);
    assert_true(x == 10.0);
    ASSERT_OK(n4d_model_get_population_param(m, "E", "t_ref", &x), m);
    assert_true(x == 1.5);
    ASSERT_OK(n4d_model_get_population_param(m, "E", "v_rest", &x), m);
    assert_true(x == -49.0); /* lif_exp default */
    n4d_population_info info;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    ASSERT_OK(n4d_model_population_info(m, 0, &info), m);
    assert_int_equal(info.model, N4D_NEURON_LIF_EXP);
    assert_string_equal(info.model_name, "lif_exp");
    /* set before the build; the default v_init follows v_rest */
    ASSERT_OK(n4d_model_set_population_param(m, "E", "v_rest", -55.0), m);
    ASSERT_OK(n4d_model_get_population_param(m, "E", "v_rest", &x), m);
    assert_true(x == -55.0);
    /* errors name the population, the parameter and the model */
    ASSERT_ERR_MSG(n4d_model_set_population_param(m, "E", "a", 0.1), N4D_E_CONFIG, m,
                   "population \"E\": unknown parameter \"a\" of model \"lif_exp\"");
    ASSERT_ERR_MSG(n4d_model_set_population_param(m, "E", "tau_syn_ex", 0.0), N4D_E_RANGE, m,
                   "population \"E\": parameter \"tau_syn_ex\" of model \"lif_exp\" is 0 "
                   "(expected > 0)");
    ASSERT_ERR_MSG(n4d_model_set_population_param(m, "E", "i_e", NAN), N4D_E_RANGE, m, "i_e");
    ASSERT_ERR_MSG(n4d_model_set_population_param(m, "X", "i_e", 1.0), N4D_E_CONFIG, m,
                   "unknown population \"X\"");
    ASSERT_ERR_MSG(n4d_model_get_population_param(m, "E", "u", &x), N4D_E_CONFIG, m,
                   "unknown parameter \"u\" of model \"lif_exp\"");
    d.name = "Z";
    d.n_params = 0;
    d.model_name = "izhikevich";
    d.preset = "bursting";
    ASSERT_OK(n4d_model_add_population(m, &d, NULL), m);
    ASSERT_OK(n4d_model_get_population_param(m, "Z", "c", &x), m);
    assert_true(x == -50.0);
    d.name = "Y";
    d.preset = "tonic";
    ASSERT_ERR_MSG(n4d_model_add_population(m, &d, NULL), N4D_E_CONFIG, m,
                   "model \"izhikevich\" has no preset \"tonic\"");
    d.preset = NULL;
    d.params = pv;
    d.n_params = 1;
    ASSERT_ERR_MSG(n4d_model_add_population(m, &d, NULL), N4D_E_CONFIG, m,
                   "population \"Y\": unknown parameter \"tau_m\" of model \"izhikevich\"");
    d.model_name = "hh";
    ASSERT_ERR_MSG(n4d_model_add_population(m, &d, NULL), N4D_E_CONFIG, m,
                   "unknown neuron model \"hh\"");
    d.model_name = NULL;
    d.model = 99;
    d.n_params = 0;
    ASSERT_ERR_MSG(n4d_model_add_population(m, &d, NULL), N4D_E_INVALID_ARG, m,
                   "unknown neuron model id 99");
    d.model = N4D_NEURON_LIF;
    d.params = NULL;
    d.n_params = 1;
    ASSERT_ERR_MSG(n4d_model_add_population(m, &d, NULL), N4D_E_INVALID_ARG, m, "params is NULL");
    assert_int_equal(n4d_model_num_populations(m), 2);
    /* synapse models by name */
    n4d_projection_desc p;
    n4d_projection_desc_init(&p);
    p.source = "E";
    p.target = "Z";
    p.rule = N4D_RULE_ONE_TO_ONE;
    p.synapse_model = "stdp_triplet";
    ASSERT_ERR_MSG(n4d_model_add_projection(m, &p, NULL), N4D_E_CONFIG, m,
                   "unknown synapse model \"stdp_triplet\"");
    p.synapse_model = "static";
    ASSERT_OK(n4d_model_add_projection(m, &p, NULL), m);
    ASSERT_OK(n4d_model_build(m), m);
    assert_int_equal(n4d_model_set_population_param(m, "E", "tau_m", 12.0), N4D_E_STATE);
    ASSERT_OK(n4d_model_get_population_param(m, "E", "tau_m", &x), m);
    assert_true(x == 10.0);
    /* the default v_init followed v_rest */
    n4d_sim *sim = NULL;
    n4d_sim_options so;
    n4d_sim_options_init(&so);
    so.backend = "cpu-ref";
    ASSERT_OK(n4d_sim_create(m, &so, &sim), m);
    float v[8];
    ASSERT_OK(n4d_sim_get_state(sim, "v", v, n4d_model_num_neurons(m)), sim);
    assert_true(v[0] == -55.0f);
    assert_true(v[4] == -50.0f); /* izhikevich: c of the preset */
    float u[8];
    ASSERT_OK(n4d_sim_get_state(sim, "u", u, n4d_model_num_neurons(m)), sim);
    assert_true(isnan(u[0]) && u[4] == (float)(0.2 * -50.0));
    ASSERT_ERR_MSG(n4d_sim_get_state(sim, "w_adapt", u, n4d_model_num_neurons(m)),
                   N4D_E_INVALID_ARG, sim, "expected one of: v, ge, gi, u, ");
    finish(ctx, m, sim);
}

static void test_last_error_details(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    assert_string_equal(n4d_last_error(ctx), "");
    /* a create function's failure is recorded on the parent */
    assert_int_equal(n4d_model_create(ctx, NULL), N4D_E_INVALID_ARG);
    assert_true(strlen(n4d_last_error(ctx)) > 0);

    n4d_model *m = new_model(ctx, 4, 4, 2, 1, 0.1);
    assert_string_equal(n4d_last_error(m), "");
    const int32_t lo[4] = {0, 0, 0, 0}, hi[4] = {3, 3, 1, 0}, out[4] = {0, 0, 0, 1};
    ASSERT_ERR_MSG(n4d_model_add_area(m, "far", lo, out), N4D_E_RANGE, m, "far");
    ASSERT_OK(n4d_model_add_area(m, "A", lo, hi), m);
    assert_string_equal(n4d_last_error(m), ""); /* cleared by the successful call */
    ASSERT_ERR_MSG(n4d_model_add_area(m, "A", lo, hi), N4D_E_CONFIG, m, "duplicate area");

    n4d_population_desc d = pop_desc("E", "A", N4D_NEURON_LIF);
    ASSERT_OK(n4d_model_add_population(m, &d, NULL), m);
    ASSERT_ERR_MSG(n4d_model_add_population(m, &d, NULL), N4D_E_CONFIG, m, "\"E\"");
    assert_non_null(strstr(n4d_last_error(m), "duplicate"));
    d = pop_desc("X", "nowhere", N4D_NEURON_LIF);
    ASSERT_ERR_MSG(n4d_model_add_population(m, &d, NULL), N4D_E_CONFIG, m, "nowhere");
    d = pop_desc("C", "A", N4D_NEURON_LIF);
    d.placement = N4D_PLACE_COUNT;
    d.count = 33; /* the area has 32 sites */
    ASSERT_ERR_MSG(n4d_model_add_population(m, &d, NULL), N4D_E_RANGE, m, "33");
    assert_non_null(strstr(n4d_last_error(m), "32"));
    d.count = 32;
    ASSERT_OK(n4d_model_add_population(m, &d, NULL), m);
    d = pop_desc("D", "A", N4D_NEURON_LIF);
    d.placement = N4D_PLACE_DENSITY;
    d.density = 1.5;
    ASSERT_ERR_MSG(n4d_model_add_population(m, &d, NULL), N4D_E_RANGE, m, "density");
    d = pop_desc("T", "A", N4D_NEURON_LIF);
    static const n4d_param_value params[] = {{"tau_m", 0.0}};
    d.params = params;
    d.n_params = 1;
    ASSERT_ERR_MSG(n4d_model_add_population(m, &d, NULL), N4D_E_RANGE, m, "tau_m");

    n4d_projection_desc p;
    n4d_projection_desc_init(&p);
    p.source = "E";
    p.target = "C";
    p.p = 1.5;
    ASSERT_ERR_MSG(n4d_model_add_projection(m, &p, NULL), N4D_E_RANGE, m, "E->C");
    assert_non_null(strstr(n4d_last_error(m), "1.5"));
    p.p = 0.5;
    /* weights that would not be finite floats */
    p.weight = n4d_dist_constant(1e31);
    ASSERT_ERR_MSG(n4d_model_add_projection(m, &p, NULL), N4D_E_RANGE, m, "|w|");
    p.weight = n4d_dist_normal(0.0, 1e30, -INFINITY, INFINITY);
    ASSERT_ERR_MSG(n4d_model_add_projection(m, &p, NULL), N4D_E_RANGE, m, "|w|");
    p.weight = n4d_dist_normal(0.0, 1e30, -1.0, 1.0); /* clipped: fine */
    p.name = "clipped";
    ASSERT_OK(n4d_model_add_projection(m, &p, NULL), m);
    p.name = NULL;
    p.weight = n4d_dist_constant(1.0);
    p.target = "ghost";
    ASSERT_ERR_MSG(n4d_model_add_projection(m, &p, NULL), N4D_E_CONFIG, m, "ghost");
    n4d_input_desc in;
    n4d_input_desc_init(&in);
    in.target = "ghost";
    ASSERT_ERR_MSG(n4d_model_add_input(m, &in), N4D_E_CONFIG, m, "ghost");
    ASSERT_ERR_MSG(n4d_model_add_sense(m, "s", "nowhere", 2, 2), N4D_E_CONFIG, m, "nowhere");
    assert_int_equal(n4d_model_num_populations(m), 2);
    assert_int_equal(n4d_model_num_projections(m), 1);

    /* backends: unknown -> the message lists them; cuda -> not built */
    n4d_sim_options o;
    n4d_sim_options_init(&o);
    n4d_sim *sim = NULL;
    o.backend = "gpu";
    ASSERT_ERR_MSG(n4d_sim_create(m, &o, &sim), N4D_E_INVALID_ARG, m, "gpu");
    assert_null(sim);
    const char *list[] = {"auto", "cpu-ref", "cpu-omp", "cuda"};
    for (int i = 0; i < 4; i++)
        assert_non_null(strstr(n4d_last_error(m), list[i]));
    if (!n4d_has_feature(N4D_FEATURE_CUDA)) {
        o.backend = "cuda";
        ASSERT_ERR_MSG(n4d_sim_create(m, &o, &sim), N4D_E_NOT_BUILT, m, "cuda");
        assert_null(sim);
    }
    o.backend = "cpu-omp";
    o.num_threads = -1;
    assert_int_equal(n4d_sim_create(m, &o, &sim), N4D_E_INVALID_ARG);
    assert_true(strlen(n4d_last_error(m)) > 0);
    assert_null(sim);
    o.num_threads = 2;
    ASSERT_OK(n4d_sim_create(m, &o, &sim), m);
    assert_string_equal(n4d_sim_backend(sim), "cpu-omp");
    assert_true(n4d_sim_num_threads(sim) >= 1 && n4d_sim_num_threads(sim) <= 2);
    n4d_sim *sim2 = NULL;
    o.dt = 0.2; /* differs from the built model's */
    ASSERT_ERR_MSG(n4d_sim_create(m, &o, &sim2), N4D_E_STATE, m, "dt");
    assert_null(sim2);

    /* on the sim */
    assert_string_equal(n4d_last_error(sim), "");
    float v[64];
    ASSERT_ERR_MSG(n4d_sim_get_state(sim, "voltage", v, 64), N4D_E_INVALID_ARG, sim, "voltage");
    ASSERT_ERR_MSG(n4d_sim_get_state(sim, "v", v, 3), N4D_E_RANGE, sim, "3");
    ASSERT_ERR_MSG(n4d_sim_add_input(sim, 64, 1.0f), N4D_E_RANGE, sim, "64");
    assert_int_equal(n4d_sim_spiked_at(sim, 0, 0), N4D_E_RANGE);
    assert_non_null(strstr(n4d_last_error(sim), "not simulated"));
    ASSERT_OK(n4d_sim_get_state(sim, "v", v, 64), sim);
    assert_string_equal(n4d_last_error(sim), "");
    n4d_sim_destroy(sim);
    finish(ctx, m, NULL);
}

/* Every description call after the build answers N4D_E_STATE. */
static void test_setters_after_build(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    n4d_model *m = new_model(ctx, 4, 1, 1, 1, 0.1);
    add_area(m, "A", 0, 0, 0, 0, 3, 0, 0, 0);
    add_pop(m, "P", "A", N4D_NEURON_LIF);
    assert_false(n4d_model_is_built(m));
    ASSERT_OK(n4d_model_build(m), m);
    assert_true(n4d_model_is_built(m));
    ASSERT_OK(n4d_model_build(m), m); /* idempotent */
    const uint32_t shape[4] = {8, 1, 1, 1};
    const int32_t lo[4] = {0, 0, 0, 0}, hi[4] = {1, 0, 0, 0};
    ASSERT_ERR_MSG(n4d_model_set_lattice(m, shape), N4D_E_STATE, m, "built");
    assert_int_equal(n4d_model_set_dt(m, 0.2), N4D_E_STATE);
    assert_int_equal(n4d_model_set_seed(m, 3), N4D_E_STATE);
    assert_int_equal(n4d_model_set_build_threads(m, 1), N4D_E_STATE);
    assert_int_equal(n4d_model_set_build_backend(m, "cpu"), N4D_E_STATE);
    assert_string_equal(n4d_model_build_backend(m), "cpu");
    assert_int_equal(n4d_model_add_area(m, "B", lo, hi), N4D_E_STATE);
    n4d_population_desc d = pop_desc("Q", "A", N4D_NEURON_LIF);
    assert_int_equal(n4d_model_add_population(m, &d, NULL), N4D_E_STATE);
    n4d_projection_desc p;
    n4d_projection_desc_init(&p);
    p.source = p.target = "P";
    assert_int_equal(n4d_model_add_projection(m, &p, NULL), N4D_E_STATE);
    n4d_input_desc in;
    n4d_input_desc_init(&in);
    in.target = "P";
    assert_int_equal(n4d_model_add_input(m, &in), N4D_E_STATE);
    assert_int_equal(n4d_model_add_sense(m, "s", "A", 1, 1), N4D_E_STATE);
    /* nothing changed */
    uint32_t sh[4];
    ASSERT_OK(n4d_model_lattice(m, sh), m);
    assert_int_equal(sh[0], 4);
    assert_true(n4d_model_dt(m) == 0.1);
    assert_int_equal(n4d_model_num_populations(m), 1);
    assert_int_equal(n4d_model_num_projections(m), 0);
    finish(ctx, m, NULL);
}

/* ---- spike reporting ----------------------------------------------------------- */

typedef struct spike_set {
    uint8_t *bits; /* [step][neuron] */
    uint64_t steps, n;
} spike_set;

static spike_set recorded(n4d_sim *sim, uint64_t steps, uint64_t n)
{
    spike_set s = {calloc(steps * n, 1), steps, n};
    assert_non_null(s.bits);
    const uint64_t *st;
    const uint32_t *id;
    uint64_t c;
    ASSERT_OK(n4d_sim_spikes(sim, &st, &id, &c), sim);
    for (uint64_t i = 0; i < c; i++) {
        assert_true(st[i] < steps && id[i] < n);
        if (i)
            assert_true(st[i] > st[i - 1] || (st[i] == st[i - 1] && id[i] > id[i - 1]));
        s.bits[st[i] * n + id[i]] = 1;
    }
    return s;
}

/* n4d_sim_spiked_at agrees with the recorded spikes for every (neuron, step)
 * of the history window and answers N4D_E_RANGE outside it. */
static void test_spiked_at_window(void **state)
{
    (void)state;
    const uint32_t H = 50;
    const uint64_t T = 120, N = 100;
    n4d_context *ctx = new_ctx();
    n4d_model *m = firing_model(ctx);
    n4d_sim *sim = new_sim(m, "cpu-omp", 2, H, 1);
    assert_int_equal(n4d_sim_spiked_at(sim, 0, 0), N4D_E_RANGE); /* nothing simulated */
    ASSERT_OK(n4d_sim_run(sim, T), sim);
    spike_set s = recorded(sim, T, N);
    uint64_t ones = 0, in_window = 0;
    for (uint64_t step = 0; step < T; step++)
        for (uint64_t n = 0; n < N; n++) {
            int r = n4d_sim_spiked_at(sim, n, step);
            if (step >= T - H) {
                if (r != s.bits[step * N + n]) {
                    print_error("spiked_at(%llu, %llu) = %d, recorded %d\n",
                                (unsigned long long)n, (unsigned long long)step, r,
                                s.bits[step * N + n]);
                    fail();
                }
                ones += (uint64_t)r;
                in_window += s.bits[step * N + n];
            } else {
                assert_int_equal(r, N4D_E_RANGE);
            }
        }
    assert_true(ones > 100);
    assert_int_equal(ones, in_window);
    assert_int_equal(n4d_sim_spiked_at(sim, 0, T - H - 1), N4D_E_RANGE);
    assert_non_null(strstr(n4d_last_error(sim), "history"));
    assert_int_equal(n4d_sim_spiked_at(sim, 0, T), N4D_E_RANGE);
    assert_int_equal(n4d_sim_spiked_at(sim, 0, T + 1000), N4D_E_RANGE);
    assert_int_equal(n4d_sim_spiked_at(sim, N, T - 1), N4D_E_RANGE);
    assert_int_equal(n4d_sim_spiked_at(sim, UINT64_MAX, T - 1), N4D_E_RANGE);
    free(s.bits);

    /* step by step: the newest step of the window is the last step */
    for (int k = 0; k < 60; k++) {
        ASSERT_OK(n4d_sim_step(sim), sim);
        const uint32_t *ids;
        uint64_t c, j = 0;
        ASSERT_OK(n4d_sim_last_spikes(sim, &ids, &c), sim);
        uint64_t last = n4d_sim_current_step(sim) - 1;
        for (uint64_t n = 0; n < N; n++) {
            int want = j < c && ids[j] == n;
            j += (uint64_t)want;
            assert_int_equal(n4d_sim_spiked_at(sim, n, last), want);
        }
        assert_int_equal(j, c);
    }
    n4d_sim_destroy(sim);

    /* history_steps = 0 disables the lookup */
    sim = new_sim(m, "cpu-ref", 0, 0, 1);
    ASSERT_OK(n4d_sim_run(sim, 30), sim);
    assert_true(n4d_sim_total_spikes(sim) > 0);
    for (uint64_t step = 0; step < 30; step++)
        assert_int_equal(n4d_sim_spiked_at(sim, 0, step), N4D_E_RANGE);
    finish(ctx, m, sim);
}

static uint64_t fnv_bytes(uint64_t h, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++) {
        h ^= (v >> (8 * i)) & 0xff;
        h *= 0x100000001b3ull;
    }
    return h;
}

/* n4d_sim_last_spikes is the last step's part of the recording, also after a
 * multi-step run; n4d_sim_step_stats; totals; the documented checksum. */
static void test_last_spikes_stats_checksum(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    n4d_model *m = firing_model(ctx);
    n4d_sim *sim = new_sim(m, "cpu-ref", 0, 1000, 1);
    n4d_step_stats ss;
    memset(&ss, 0, sizeof ss);
    ss.struct_size = sizeof ss;
    const uint32_t *ids;
    const uint64_t *st;
    uint64_t c, rc;
    ASSERT_OK(n4d_sim_last_spikes(sim, &ids, &c), sim);
    assert_int_equal(c, 0);
    uint64_t nonempty = 0;
    for (int k = 0; k < 150; k++) {
        uint64_t chunk = (k % 3 == 0) ? 3 : 1;
        ASSERT_OK(n4d_sim_run(sim, chunk), sim);
        uint64_t last = n4d_sim_current_step(sim) - 1;
        ASSERT_OK(n4d_sim_last_spikes(sim, &ids, &c), sim);
        const uint32_t *rid;
        ASSERT_OK(n4d_sim_spikes(sim, &st, &rid, &rc), sim);
        uint64_t first = rc;
        while (first > 0 && st[first - 1] == last)
            first--;
        assert_int_equal(c, rc - first);
        for (uint64_t i = 0; i < c; i++) {
            assert_int_equal(ids[i], rid[first + i]);
            if (i)
                assert_true(ids[i] > ids[i - 1]);
        }
        nonempty += c > 0;
        ASSERT_OK(n4d_sim_step_stats(sim, &ss), sim);
        assert_int_equal(ss.step, last);
        assert_int_equal(ss.spikes, c);
        assert_int_equal(ss.total_spikes, rc);
        assert_int_equal(n4d_sim_total_spikes(sim), rc);
    }
    assert_true(nonempty > 20);
    /* FNV-1a over (step: 8 bytes LE, id: 4 bytes LE) in canonical order */
    const uint32_t *rid;
    ASSERT_OK(n4d_sim_spikes(sim, &st, &rid, &rc), sim);
    uint64_t h = 0xcbf29ce484222325ull;
    for (uint64_t i = 0; i < rc; i++)
        h = fnv_bytes(fnv_bytes(h, st[i], 8), rid[i], 4);
    assert_true(h == n4d_sim_checksum(sim));
    uint64_t checksum = h, total = rc, steps = n4d_sim_current_step(sim);
    n4d_sim_destroy(sim);

    /* same model and seed: same train on cpu-omp, one big run */
    sim = new_sim(m, "cpu-omp", 2, 1000, 1);
    ASSERT_OK(n4d_sim_run(sim, steps), sim);
    assert_true(n4d_sim_checksum(sim) == checksum);
    assert_int_equal(n4d_sim_total_spikes(sim), total);
    finish(ctx, m, sim);
}

/* record_spikes = 0: n4d_sim_spikes -> N4D_E_STATE (totals, checksum, last
 * spikes and spiked_at still work); n4d_sim_clear_spikes empties the
 * recording and frees it, totals are unaffected, later spikes are recorded. */
static void test_recording_off_and_clear(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    n4d_model *m = firing_model(ctx);
    n4d_sim *rec = new_sim(m, "cpu-ref", 0, 100, 1);
    n4d_sim *off = new_sim(m, "cpu-ref", 0, 100, 0);
    ASSERT_OK(n4d_sim_run(rec, 80), rec);
    ASSERT_OK(n4d_sim_run(off, 80), off);
    const uint64_t *st;
    const uint32_t *id;
    uint64_t c = 7;
    ASSERT_ERR_MSG(n4d_sim_spikes(off, &st, &id, &c), N4D_E_STATE, off, "record_spikes");
    assert_true(n4d_sim_total_spikes(off) > 0);
    assert_int_equal(n4d_sim_total_spikes(off), n4d_sim_total_spikes(rec));
    assert_true(n4d_sim_checksum(off) == n4d_sim_checksum(rec));
    for (uint64_t s = 0; s < 80; s++)
        for (uint64_t n = 0; n < 100; n += 7)
            assert_int_equal(n4d_sim_spiked_at(off, n, s), n4d_sim_spiked_at(rec, n, s));
    n4d_memory_stats ms = mem_stats(ctx);
    assert_true(ms.current[N4D_MEM_RECORDING] > 0);

    ASSERT_OK(n4d_sim_spikes(rec, &st, &id, &c), rec);
    uint64_t total = c;
    assert_int_equal(total, n4d_sim_total_spikes(rec));
    uint64_t before = mem_stats(ctx).current[N4D_MEM_RECORDING];
    ASSERT_OK(n4d_sim_clear_spikes(rec), rec);
    assert_true(mem_stats(ctx).current[N4D_MEM_RECORDING] < before);
    ASSERT_OK(n4d_sim_spikes(rec, &st, &id, &c), rec);
    assert_int_equal(c, 0);
    assert_int_equal(n4d_sim_total_spikes(rec), total);
    ASSERT_OK(n4d_sim_clear_spikes(rec), rec); /* twice is fine */
    ASSERT_OK(n4d_sim_run(rec, 40), rec);
    ASSERT_OK(n4d_sim_spikes(rec, &st, &id, &c), rec);
    assert_true(c > 0);
    assert_int_equal(total + c, n4d_sim_total_spikes(rec));
    for (uint64_t i = 0; i < c; i++)
        assert_true(st[i] >= 80 && st[i] < 120);
    n4d_sim_destroy(off);
    finish(ctx, m, rec);
}

/* ---- state access -------------------------------------------------------------- */

static void test_state_roundtrip(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    n4d_model *m = new_model(ctx, 4, 1, 1, 1, 0.1);
    add_area(m, "A", 0, 0, 0, 0, 3, 0, 0, 0);
    add_pop(m, "L", "A", N4D_NEURON_LIF);         /* 0..3 */
    add_pop(m, "X", "A", N4D_NEURON_LIF_EXP);     /* 4..7 */
    add_pop(m, "Z", "A", N4D_NEURON_IZHIKEVICH);  /* 8..11 */
    n4d_sim *sim = new_sim(m, "cpu-omp", 2, 10, 1);
    float in[12], out[12];
    /* initial state: v_rest / c, u = b c, ge = gi = 0 */
    ASSERT_OK(n4d_sim_get_state(sim, "v", out, 12), sim);
    for (int i = 0; i < 12; i++)
        assert_true(out[i] == (i < 4 ? -65.0f : i < 8 ? -49.0f : -65.0f));
    ASSERT_OK(n4d_sim_get_state(sim, "u", out, 12), sim);
    for (int i = 0; i < 12; i++)
        assert_true(i < 8 ? isnan(out[i]) : out[i] == (float)(0.2 * -65.0));
    static const char *const vars[] = {"v", "ge", "gi", "u", "i_ext", "refractory"};
    for (int vi = 0; vi < 6; vi++) {
        for (int i = 0; i < 12; i++)
            in[i] = (float)(vi * 100 + i) + 0.25f * (vi != 5);
        ASSERT_OK(n4d_sim_set_state(sim, vars[vi], in, 12), sim);
        ASSERT_OK(n4d_sim_get_state(sim, vars[vi], out, 12), sim);
        for (int i = 0; i < 12; i++) {
            /* izhikevich neurons (8..11) have no refractory state: NaN */
            int has = vi == 0 || vi == 4 || (vi == 5 && i < 8) ||
                      ((vi == 1 || vi == 2) && i >= 4 && i < 8) || (vi == 3 && i >= 8);
            if (has) {
                if (out[i] != in[i]) {
                    print_error("%s[%d]: %g after setting %g\n", vars[vi], i, (double)out[i],
                                (double)in[i]);
                    fail();
                }
            } else if (!isnan(out[i])) {
                print_error("%s[%d] = %g: the model lacks it, expected NaN\n", vars[vi], i,
                            (double)out[i]);
                fail();
            }
        }
    }
    /* v of one model does not leak into another's variables */
    ASSERT_OK(n4d_sim_get_state(sim, "ge", out, 12), sim);
    assert_true(out[4] == 104.25f);
    ASSERT_ERR_MSG(n4d_sim_get_state(sim, "no_such_state", out, 12), N4D_E_INVALID_ARG, sim,
                   "\"no_such_state\"");
    ASSERT_ERR_MSG(n4d_sim_set_state(sim, "V", in, 12), N4D_E_INVALID_ARG, sim, "\"V\"");
    assert_int_equal(n4d_sim_get_state(sim, "v", out, 11), N4D_E_RANGE);
    assert_int_equal(n4d_sim_set_state(sim, "v", in, 13), N4D_E_RANGE);
    ASSERT_OK(n4d_sim_step(sim), sim);
    finish(ctx, m, sim);
}

/* n4d_sim_add_input accumulates into i_ext for the next step only and acts
 * on V like 4D Neural Cognition's external input (lif: V += I / tau_m * dt). */
static void test_add_input(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    n4d_model *m = new_model(ctx, 3, 1, 1, 1, 1.0);
    add_area(m, "A", 0, 0, 0, 0, 2, 0, 0, 0);
    add_pop(m, "L", "A", N4D_NEURON_LIF);
    n4d_sim *sim = new_sim(m, "cpu-ref", 0, 10, 1);
    ASSERT_OK(n4d_sim_add_input(sim, 1, 2.5f), sim);
    ASSERT_OK(n4d_sim_add_input(sim, 1, 4.0f), sim);
    ASSERT_OK(n4d_sim_add_input(sim, 2, -3.0f), sim);
    ASSERT_ERR_MSG(n4d_sim_add_input(sim, 3, 1.0f), N4D_E_RANGE, sim, "3");
    assert_int_equal(n4d_sim_add_input(sim, 0, NAN), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_sim_add_input(sim, 0, INFINITY), N4D_E_INVALID_ARG);
    float x[3], v[3];
    ASSERT_OK(n4d_sim_get_state(sim, "i_ext", x, 3), sim);
    assert_true(x[0] == 0.0f && x[1] == 6.5f && x[2] == -3.0f);
    ASSERT_OK(n4d_sim_step(sim), sim);
    ASSERT_OK(n4d_sim_get_state(sim, "i_ext", x, 3), sim);
    assert_true(x[0] == 0.0f && x[1] == 0.0f && x[2] == 0.0f);
    ASSERT_OK(n4d_sim_get_state(sim, "v", v, 3), sim);
    const float vr = -65.0f;
    assert_true(v[0] == vr);
    assert_true(v[1] == vr + (-(vr - vr) + ((0.0f + 0.0f) + (6.5f + 0.0f))) / 20.0f * 1.0f);
    assert_true(v[2] == vr + (-(vr - vr) + ((0.0f + 0.0f) + (-3.0f + 0.0f))) / 20.0f * 1.0f);
    /* the input was for one step only: V relaxes towards rest afterwards */
    float v1 = v[1];
    ASSERT_OK(n4d_sim_step(sim), sim);
    ASSERT_OK(n4d_sim_get_state(sim, "v", v, 3), sim);
    assert_true(v[1] < v1 && v[1] > vr);
    finish(ctx, m, sim);
}

/* ---- senses and logging ------------------------------------------------------ */

typedef struct log_rec {
    int count;
    int32_t level;
    char last[512];
} log_rec;

static void log_fn(void *ud, int32_t level, const char *msg)
{
    log_rec *r = ud;
    r->count++;
    r->level = level;
    snprintf(r->last, sizeof r->last, "%s", msg);
}

static n4d_context *logging_ctx(log_rec *r, int32_t level)
{
    n4d_context_options o;
    n4d_context_options_init(&o);
    assert_int_equal(o.log_level, N4D_LOG_WARN);
    o.log = log_fn;
    o.log_user_data = r;
    o.log_level = level;
    n4d_context *ctx = NULL;
    assert_int_equal(n4d_context_create(&o, &ctx), N4D_OK);
    return ctx;
}

/* matrix[ix][iy] goes to the neuron at (x_lo + ix, y_lo + iy, z_lo + z_layer,
 * w_lo) of the sense's area, for the next step; nothing else receives it. */
static void test_feed_sense(void **state)
{
    (void)state;
    log_rec lr = {0};
    n4d_context *ctx = logging_ctx(&lr, N4D_LOG_WARN);
    n4d_model *m = new_model(ctx, 6, 6, 5, 3, 0.1);
    add_area(m, "V1", 1, 2, 1, 1, 4, 4, 3, 2); /* 4 x 3 x 3 x 2 */
    add_pop(m, "P", "V1", N4D_NEURON_LIF);
    ASSERT_OK(n4d_model_add_sense(m, "vision", "V1", 4, 3), m);
    ASSERT_ERR_MSG(n4d_model_add_sense(m, "vision", "V1", 4, 3), N4D_E_CONFIG, m, "vision");
    assert_int_equal(n4d_model_add_sense(m, "empty", "V1", 0, 3), N4D_E_RANGE);
    n4d_sim *sim = new_sim(m, "cpu-ref", 0, 10, 1);
    const uint64_t N = n4d_model_num_neurons(m);
    assert_int_equal(N, 72);
    float mat[4 * 3], x[72];
    for (uint32_t z = 0; z < 3; z++) {
        for (int ix = 0; ix < 4; ix++)
            for (int iy = 0; iy < 3; iy++)
                mat[ix * 3 + iy] = 1.0f + (float)(ix * 10 + iy) + 100.0f * (float)z;
        ASSERT_OK(n4d_sim_feed_sense(sim, "vision", mat, 4, 3, z), sim);
        ASSERT_OK(n4d_sim_get_state(sim, "i_ext", x, N), sim);
        int hits = 0;
        for (uint64_t id = 0; id < N; id++) {
            int32_t p[4];
            ASSERT_OK(n4d_model_neuron_position(m, id, p), m);
            float want = 0.0f;
            if (p[3] == 1 && p[2] == 1 + (int32_t)z) {
                int ix = p[0] - 1, iy = p[1] - 2;
                want = mat[ix * 3 + iy];
                hits++;
            }
            if (x[id] != want) {
                print_error("z layer %u: neuron %llu at (%d,%d,%d,%d) has i_ext %g, expected %g\n",
                            z, (unsigned long long)id, p[0], p[1], p[2], p[3], (double)x[id],
                            (double)want);
                fail();
            }
        }
        assert_int_equal(hits, 12);
        ASSERT_OK(n4d_sim_step(sim), sim); /* consumed */
        ASSERT_OK(n4d_sim_get_state(sim, "i_ext", x, N), sim);
        for (uint64_t id = 0; id < N; id++)
            assert_true(x[id] == 0.0f);
    }
    assert_int_equal(lr.count, 0);
    ASSERT_ERR_MSG(n4d_sim_feed_sense(sim, "vision", mat, 4, 3, 3), N4D_E_RANGE, sim, "layer");
    assert_int_equal(n4d_sim_feed_sense(sim, "vision", mat, 4, 3, UINT32_MAX), N4D_E_RANGE);

    /* another shape: the overlap is mapped and a warning logged */
    float small[2 * 2] = {1.0f, 2.0f, 3.0f, 4.0f};
    ASSERT_OK(n4d_sim_feed_sense(sim, "vision", small, 2, 2, 0), sim);
    assert_int_equal(lr.count, 1);
    assert_int_equal(lr.level, N4D_LOG_WARN);
    assert_non_null(strstr(lr.last, "vision"));
    assert_null(strchr(lr.last, '\n'));
    ASSERT_OK(n4d_sim_get_state(sim, "i_ext", x, N), sim);
    float sum = 0.0f;
    for (uint64_t id = 0; id < N; id++)
        sum += x[id];
    assert_true(sum == 10.0f);
    assert_true(x[0] == 1.0f && x[1] == 3.0f && x[4] == 2.0f && x[5] == 4.0f);
    finish(ctx, m, sim);
}

/* The log callback receives warnings; messages above log_level are dropped. */
static void test_log_callback(void **state)
{
    (void)state;
    for (int pass = 0; pass < 2; pass++) {
        log_rec lr = {0};
        n4d_context *ctx = logging_ctx(&lr, pass == 0 ? N4D_LOG_DEBUG : N4D_LOG_ERROR);
        n4d_model *m = new_model(ctx, 2, 2, 1, 1, 0.1);
        add_area(m, "A", 0, 0, 0, 0, 1, 1, 0, 0);
        add_pop(m, "P", "A", N4D_NEURON_LIF);
        ASSERT_OK(n4d_model_add_sense(m, "touch", "A", 2, 2), m);
        n4d_sim *sim = new_sim(m, "cpu-ref", 0, 10, 1);
        int before = lr.count;
        const float mat[3 * 3] = {0};
        ASSERT_OK(n4d_sim_feed_sense(sim, "touch", mat, 3, 3, 0), sim);
        if (pass == 0) {
            assert_int_equal(lr.count, before + 1);
            assert_int_equal(lr.level, N4D_LOG_WARN);
            assert_non_null(strstr(lr.last, "touch"));
            assert_non_null(strstr(lr.last, "3x3"));
        } else {
            assert_int_equal(lr.count, 0);
        }
        finish(ctx, m, sim);
    }
}

/* ---- memory --------------------------------------------------------------------- */

/* An allocator hook that checks the contract: every free gets the pointer
 * and the size of a live allocation; alignment as requested. Optionally
 * fails the allocation number `fail_at`. Thread-safe (spin lock). */
#define TRACK_CAP 8192
typedef struct tracker {
    atomic_flag lock;
    void *ptr[TRACK_CAP];
    size_t size[TRACK_CAP];
    int hw; /* slots [0, hw) may be in use */
    long live, allocs, fail_at, failed, mismatches, unknown, bad_align;
    long fail_from; /* when >= 0: every allocation from this number on fails */
    size_t first_bad_size, first_bad_expected;
} tracker;

static void tr_lock(tracker *t)
{
    while (atomic_flag_test_and_set(&t->lock)) {
    }
}

static void tr_unlock(tracker *t) { atomic_flag_clear(&t->lock); }

static void *tr_alloc(void *ud, size_t size, size_t align)
{
    tracker *t = ud;
    tr_lock(t);
    long k = t->allocs++;
    if (k == t->fail_at || (t->fail_from >= 0 && k >= t->fail_from)) {
        t->failed++;
        tr_unlock(t);
        return NULL;
    }
    if (align == 0 || (align & (align - 1)) || align > 4096)
        t->bad_align++;
    void *p = NULL;
    if (posix_memalign(&p, align < sizeof(void *) ? sizeof(void *) : align, size ? size : 1)) {
        tr_unlock(t);
        return NULL;
    }
    int i = 0;
    while (i < t->hw && t->ptr[i])
        i++;
    if (i == TRACK_CAP) { /* table full: treat as an allocation failure */
        free(p);
        tr_unlock(t);
        return NULL;
    }
    if (i == t->hw)
        t->hw++;
    t->ptr[i] = p;
    t->size[i] = size;
    t->live++;
    tr_unlock(t);
    return p;
}

static void tr_free(void *ud, void *ptr, size_t size)
{
    tracker *t = ud;
    tr_lock(t);
    int i = 0;
    while (i < t->hw && t->ptr[i] != ptr)
        i++;
    if (i == t->hw) {
        t->unknown++;
        tr_unlock(t);
        return;
    }
    if (t->size[i] != size) {
        if (!t->mismatches) {
            t->first_bad_size = size;
            t->first_bad_expected = t->size[i];
        }
        t->mismatches++;
    }
    t->ptr[i] = NULL;
    t->live--;
    tr_unlock(t);
    free(ptr);
}

static tracker *tracker_new(long fail_at)
{
    tracker *t = calloc(1, sizeof *t);
    assert_non_null(t);
    atomic_flag_clear(&t->lock);
    t->fail_at = fail_at;
    t->fail_from = -1;
    return t;
}

static n4d_context *tracked_ctx(tracker *t)
{
    n4d_context_options o;
    n4d_context_options_init(&o);
    o.allocator.alloc = tr_alloc;
    o.allocator.free = tr_free;
    o.allocator.user_data = t;
    n4d_context *ctx = NULL;
    n4d_status st = n4d_context_create(&o, &ctx);
    if (st != N4D_OK) {
        assert_int_equal(st, N4D_E_NOMEM);
        assert_null(ctx);
    }
    return ctx;
}

/* A model that touches most allocations: three neuron models, three
 * placements, every connection rule, drawn delays, DC and Poisson input, a
 * sense; two sims (cpu-omp 2 threads with recording, cpu-ref without).
 * Delays of at least 5 steps keep the number of cpu-omp synchronisations
 * (and so the run time under load) small.
 * Every call either succeeds or fails with N4D_E_NOMEM (when `t` fails
 * allocations); whatever happens, everything is destroyed. Returns the
 * first non-OK status. */
#define STEP(call)                                                                                 \
    do {                                                                                           \
        n4d_status s_ = (call);                                                                    \
        if (s_ != N4D_OK) {                                                                        \
            if (first == N4D_OK)                                                                   \
                first = s_;                                                                        \
            goto done;                                                                             \
        }                                                                                          \
    } while (0)

static n4d_status scenario(n4d_context *ctx, int *spiked)
{
    n4d_status first = N4D_OK;
    n4d_model *m = NULL;
    n4d_sim *s1 = NULL, *s2 = NULL;
    STEP(n4d_model_create(ctx, &m));
    const uint32_t shape[4] = {4, 4, 3, 2};
    STEP(n4d_model_set_lattice(m, shape));
    STEP(n4d_model_set_dt(m, 0.1));
    STEP(n4d_model_set_seed(m, 7));
    STEP(n4d_model_set_build_threads(m, 2));
    const int32_t alo[4] = {0, 0, 0, 0}, ahi[4] = {3, 3, 2, 1};
    const int32_t blo[4] = {0, 0, 0, 0}, bhi[4] = {2, 2, 0, 0};
    STEP(n4d_model_add_area(m, "A", alo, ahi));
    STEP(n4d_model_add_area(m, "B", blo, bhi));
    n4d_population_desc d = pop_desc("E", "A", N4D_NEURON_LIF_EXP);
    d.v_init = n4d_dist_uniform(-60.0, -50.0);
    STEP(n4d_model_add_population(m, &d, NULL));
    d = pop_desc("I", "A", N4D_NEURON_LIF);
    d.placement = N4D_PLACE_DENSITY;
    d.density = 0.5;
    d.v_init = n4d_dist_normal(-60.0, 3.0, -70.0, -50.0);
    STEP(n4d_model_add_population(m, &d, NULL));
    d = pop_desc("Z", "B", N4D_NEURON_IZHIKEVICH);
    d.placement = N4D_PLACE_COUNT;
    d.count = 5;
    STEP(n4d_model_add_population(m, &d, NULL));
    n4d_projection_desc p;
    n4d_projection_desc_init(&p);
    p.source = "E";
    p.target = "E";
    p.p = 0.2;
    p.weight = n4d_dist_normal(0.5, 0.1, 0.0, 1.0);
    p.delay = n4d_dist_uniform(0.5, 2.0);
    STEP(n4d_model_add_projection(m, &p, NULL));
    n4d_projection_desc_init(&p);
    p.source = "E";
    p.target = "I";
    p.rule = N4D_RULE_DISTANCE;
    p.p = 0.5;
    p.sigma = 1.5;
    p.cutoff = 3.0;
    p.delay = n4d_dist_constant(0.5);
    STEP(n4d_model_add_projection(m, &p, NULL));
    n4d_projection_desc_init(&p);
    p.source = "I";
    p.target = "E";
    p.rule = N4D_RULE_FIXED_INDEGREE;
    p.n = 5;
    p.allow_multapses = 0;
    p.syn_type = N4D_SYN_INHIBITORY;
    p.delay = n4d_dist_constant(0.5);
    STEP(n4d_model_add_projection(m, &p, NULL));
    n4d_projection_desc_init(&p);
    p.source = "Z";
    p.target = "E";
    p.rule = N4D_RULE_FIXED_TOTAL_NUMBER;
    p.n = 20;
    p.delay = n4d_dist_constant(0.6);
    STEP(n4d_model_add_projection(m, &p, NULL));
    n4d_projection_desc_init(&p);
    p.source = "Z";
    p.target = "Z";
    p.rule = N4D_RULE_ONE_TO_ONE;
    p.delay = n4d_dist_constant(0.7);
    STEP(n4d_model_add_projection(m, &p, NULL));
    n4d_projection_desc_init(&p);
    p.source = "I";
    p.target = "I";
    p.rule = N4D_RULE_ALL_TO_ALL;
    p.weight = n4d_dist_constant(-0.1);
    p.allow_autapses = 0;
    p.delay = n4d_dist_normal(1.0, 0.5, 0.5, 3.0);
    STEP(n4d_model_add_projection(m, &p, NULL));
    n4d_input_desc in;
    n4d_input_desc_init(&in);
    in.kind = N4D_INPUT_POISSON;
    in.target = "E";
    in.rate = 3000.0;
    in.weight = 2.0;
    STEP(n4d_model_add_input(m, &in));
    n4d_input_desc_init(&in);
    in.target = "I";
    in.amplitude = 18.0;
    STEP(n4d_model_add_input(m, &in));
    n4d_input_desc_init(&in);
    in.target = "Z";
    in.amplitude = 10.0;
    STEP(n4d_model_add_input(m, &in));
    STEP(n4d_model_add_sense(m, "s", "A", 4, 4));
    STEP(n4d_model_build(m));
    n4d_sim_options o;
    n4d_sim_options_init(&o);
    o.backend = "cpu-omp";
    o.num_threads = 2;
    o.history_steps = 100;
    STEP(n4d_sim_create(m, &o, &s1));
    float mat[16];
    for (int i = 0; i < 16; i++)
        mat[i] = (float)i;
    STEP(n4d_sim_feed_sense(s1, "s", mat, 4, 4, 1));
    STEP(n4d_sim_add_input(s1, 3, 100.0f));
    STEP(n4d_sim_run(s1, 60));
    const uint64_t first_part = n4d_sim_total_spikes(s1);
    STEP(n4d_sim_clear_spikes(s1));
    STEP(n4d_sim_run(s1, 40));
    /* the recording grew from empty in both parts */
    *spiked = first_part > 0 && n4d_sim_total_spikes(s1) > first_part;
    o.backend = "cpu-ref";
    o.record_spikes = 0;
    STEP(n4d_sim_create(m, &o, &s2));
    STEP(n4d_sim_run(s2, 30));
done:
    n4d_sim_destroy(s2);
    n4d_sim_destroy(s1);
    n4d_model_destroy(m);
    return first;
}

/* After everything is destroyed the context's accounting is zero for every
 * tag; each tag is used while its objects live; the allocator hook sees
 * every free with the size of its allocation. */
static void test_memory_accounting(void **state)
{
    (void)state;
    tracker *t = tracker_new(-1);
    n4d_context *ctx = tracked_ctx(t);
    assert_non_null(ctx);
    assert_ctx_empty(ctx);
    n4d_model *m = firing_model(ctx);
    n4d_memory_stats ms = mem_stats(ctx);
    assert_true(ms.current[N4D_MEM_NEURONS] > 0);
    assert_true(ms.current[N4D_MEM_SYNAPSES] > 0);
    assert_int_equal(ms.current[N4D_MEM_BUILD], 0);
    assert_true(ms.peak[N4D_MEM_BUILD] > 0);
    n4d_sim *sim = new_sim(m, "cpu-omp", 2, 100, 1);
    ASSERT_OK(n4d_sim_run(sim, 100), sim);
    ms = mem_stats(ctx);
    assert_true(ms.current[N4D_MEM_BUFFERS] > 0);
    assert_true(ms.current[N4D_MEM_RECORDING] > 0);
    assert_true(ms.current[N4D_MEM_BACKEND] > 0);
    uint64_t sum = 0;
    for (int k = 0; k < N4D_MEM_TAG_COUNT; k++) {
        sum += ms.current[k];
        assert_true(ms.peak[k] >= ms.current[k]);
    }
    assert_int_equal(sum, ms.total_current);
    assert_true(ms.total_peak >= ms.total_current);
    n4d_sim_destroy(sim);
    ms = mem_stats(ctx);
    assert_int_equal(ms.current[N4D_MEM_BUFFERS], 0);
    assert_int_equal(ms.current[N4D_MEM_RECORDING], 0);
    assert_int_equal(ms.current[N4D_MEM_BACKEND], 0);
    n4d_model_destroy(m);
    assert_ctx_empty(ctx);

    int spiked = 0;
    ASSERT_OK(scenario(ctx, &spiked), ctx);
    assert_true(spiked);
    assert_ctx_empty(ctx);
    assert_int_equal(t->live, 1); /* the context itself */
    assert_int_equal(t->unknown, 0);
    assert_int_equal(t->bad_align, 0);
    if (t->mismatches)
        print_error("%ld frees with a wrong size (first: %zu, allocated %zu)\n", t->mismatches,
                    t->first_bad_size, t->first_bad_expected);
    assert_int_equal(t->mismatches, 0);
    n4d_context_destroy(ctx);
    assert_int_equal(t->live, 0);
    free(t);
}

/* Every allocation of the scenario made to fail in turn: each call fails
 * cleanly with N4D_E_NOMEM (never crashes), and after destroying everything
 * the accounting is zero and every free matched its allocation. */
static void test_memory_allocation_failures(void **state)
{
    (void)state;
    tracker *t = tracker_new(-1);
    n4d_context *ctx = tracked_ctx(t);
    int spiked = 0;
    ASSERT_OK(scenario(ctx, &spiked), ctx);
    n4d_context_destroy(ctx);
    const long total = t->allocs;
    free(t);
    assert_true(total > 50);
    long failures_seen = 0;
    for (long k = 0; k < total; k++) {
        t = tracker_new(k);
        ctx = tracked_ctx(t);
        if (!ctx) { /* the context's own allocation */
            assert_int_equal(k, 0);
            free(t);
            continue;
        }
        n4d_status st = scenario(ctx, &spiked);
        if (t->failed && st != N4D_OK) {
            failures_seen++;
            if (st != N4D_E_NOMEM) {
                print_error("allocation %ld failed: status %d (%s), expected N4D_E_NOMEM\n", k,
                            (int)st, n4d_status_string(st));
                fail();
            }
        }
        n4d_memory_stats ms = mem_stats(ctx);
        if (ms.total_current != 0 || t->live != 1 || t->mismatches || t->unknown) {
            print_error("allocation %ld failed (status %d): %llu bytes still accounted, %ld live "
                        "allocations, %ld frees with a wrong size (first %zu for %zu), %ld "
                        "unknown frees\n",
                        k, (int)st, (unsigned long long)ms.total_current, t->live - 1,
                        t->mismatches, t->first_bad_size, t->first_bad_expected, t->unknown);
            for (int tag = 0; tag < N4D_MEM_TAG_COUNT; tag++)
                if (ms.current[tag])
                    print_error("  tag %s: %llu bytes\n", n4d_mem_tag_name(tag),
                                (unsigned long long)ms.current[tag]);
            fail();
        }
        n4d_context_destroy(ctx);
        free(t);
    }
    assert_true(failures_seen > total / 2);
}

/* A run that fails part-way (here: recording runs out of memory at the first
 * spiking step) stops at a consistent point: the state, the spike history
 * and n4d_sim_current_step agree, so resuming the run up to the same step
 * count gives exactly the spike train (checksum, count) and final state of
 * an undisturbed run. With
 * a minimum delay of 5 steps cpu-omp simulates in batches of 5; a failure at
 * the first step of a batch must not leave the other 4 steps simulated but
 * unreported. */
static void test_run_error_then_resume(void **state)
{
    (void)state;
    for (int b = 0; b < 2; b++) {
        const char *backend = b ? "cpu-omp" : "cpu-ref";
        tracker *t = tracker_new(-1);
        n4d_context *ctx = tracked_ctx(t);
        assert_non_null(ctx);
        n4d_model *m = new_model(ctx, 10, 2, 1, 1, 0.1);
        add_area(m, "A", 0, 0, 0, 0, 9, 1, 0, 0);
        n4d_population_desc d = pop_desc("P", "A", N4D_NEURON_LIF);
        d.v_init = n4d_dist_uniform(-70.0, -50.0);
        static const n4d_param_value params[] = {{"t_ref", 1.0}};
        d.params = params;
        d.n_params = 1;
        ASSERT_OK(n4d_model_add_population(m, &d, NULL), m);
        add_dc(m, "P", 30.0);
        n4d_projection_desc p;
        n4d_projection_desc_init(&p);
        p.source = p.target = "P";
        p.p = 0.3;
        p.weight = n4d_dist_uniform(-3.0, 6.0);
        p.delay = n4d_dist_uniform(0.5, 1.5); /* 5..15 steps */
        ASSERT_OK(n4d_model_add_projection(m, &p, NULL), m);
        ASSERT_OK(n4d_model_build(m), m);
        uint32_t dmin, dmax;
        ASSERT_OK(n4d_model_delay_range(m, &dmin, &dmax), m);
        assert_int_equal(dmin, 5);

        /* undisturbed */
        n4d_sim *ref = new_sim(m, backend, 2, 200, 1);
        ASSERT_OK(n4d_sim_add_input(ref, 0, 1.0e5f), ref);
        ASSERT_OK(n4d_sim_run(ref, 400), ref);
        float v_ref[20], v[20];
        ASSERT_OK(n4d_sim_get_state(ref, "v", v_ref, 20), ref);
        assert_true(n4d_sim_total_spikes(ref) > 30);

        /* the first recording allocation (at step 0, where neuron 0 is
         * kicked) fails */
        n4d_sim *sim = new_sim(m, backend, 2, 200, 1);
        ASSERT_OK(n4d_sim_add_input(sim, 0, 1.0e5f), sim);
        tr_lock(t);
        t->fail_from = t->allocs;
        tr_unlock(t);
        n4d_status st = n4d_sim_run(sim, 400);
        tr_lock(t);
        t->fail_from = -1;
        tr_unlock(t);
        assert_int_equal(st, N4D_E_NOMEM);
        assert_true(strlen(n4d_last_error(sim)) > 0);
        /* where it stopped is the backend's choice (the failed step may be
         * reported by the next run); state and step count must agree */
        const uint64_t stopped = n4d_sim_current_step(sim);
        assert_true(stopped < 400);
        ASSERT_OK(n4d_sim_run(sim, 400 - stopped), sim);
        assert_int_equal(n4d_sim_current_step(sim), 400);
        ASSERT_OK(n4d_sim_get_state(sim, "v", v, 20), sim);
        if (n4d_sim_checksum(sim) != n4d_sim_checksum(ref) ||
            n4d_sim_total_spikes(sim) != n4d_sim_total_spikes(ref) ||
            memcmp(v, v_ref, sizeof v) != 0) {
            print_error("%s: after a failure at step %llu and resuming: %llu spikes, checksum "
                        "%016llx; undisturbed: %llu spikes, checksum %016llx\n",
                        backend, (unsigned long long)(stopped - 1),
                        (unsigned long long)n4d_sim_total_spikes(sim),
                        (unsigned long long)n4d_sim_checksum(sim),
                        (unsigned long long)n4d_sim_total_spikes(ref),
                        (unsigned long long)n4d_sim_checksum(ref));
            fail();
        }
        n4d_sim_destroy(ref);
        finish(ctx, m, sim);
        free(t);
    }
}

/* n4d_model_memory: synapses take 8 bytes each plus an index per source and
 * per (source, delay, sign) segment, and agree with the context's
 * accounting of the synapses and neuron tags. */
static void test_model_memory(void **state)
{
    (void)state;
    for (int drawn = 0; drawn < 2; drawn++) {
        n4d_context *ctx = new_ctx();
        n4d_model *m = new_model(ctx, 10, 10, 10, 1, 0.1);
        add_area(m, "A", 0, 0, 0, 0, 9, 9, 9, 0);
        add_pop(m, "P", "A", N4D_NEURON_LIF);
        n4d_projection_desc p;
        n4d_projection_desc_init(&p);
        p.source = p.target = "P";
        p.p = 0.05;
        if (drawn) {
            p.delay = n4d_dist_uniform(0.1, 1.0);
            p.weight = n4d_dist_normal(0.0, 1.0, -INFINITY, INFINITY);
        }
        ASSERT_OK(n4d_model_add_projection(m, &p, NULL), m);
        uint64_t bytes[N4D_MEM_TAG_COUNT];
        ASSERT_OK(n4d_model_memory(m, bytes), m);
        assert_int_equal(bytes[N4D_MEM_SYNAPSES], 0);
        assert_true(bytes[N4D_MEM_OTHER] > 0);
        ASSERT_OK(n4d_model_build(m), m);
        ASSERT_OK(n4d_model_memory(m, bytes), m);
        const uint64_t N = n4d_model_num_neurons(m), S = n4d_model_num_synapses(m);
        uint32_t dmin, dmax;
        ASSERT_OK(n4d_model_delay_range(m, &dmin, &dmax), m);
        assert_int_equal(N, 1000);
        assert_true(S > 40000 && S < 60000);
        const uint64_t syn = bytes[N4D_MEM_SYNAPSES];
        /* row index (N + 1) x 8; segments: at most one per (source, delay,
         * sign), 12 bytes each plus one 8-byte end marker */
        const uint64_t groups = drawn ? N * 2 * (dmax - dmin + 1) : N;
        if (syn < 8 * S || syn > 8 * S + 8 * (N + 1) + 12 * groups + 8) {
            print_error("synapse bytes %llu for %llu synapses and %llu neurons\n",
                        (unsigned long long)syn, (unsigned long long)S, (unsigned long long)N);
            fail();
        }
        n4d_memory_stats ms = mem_stats(ctx);
        assert_int_equal(syn, ms.current[N4D_MEM_SYNAPSES]);
        assert_int_equal(bytes[N4D_MEM_NEURONS], ms.current[N4D_MEM_NEURONS]);
        assert_int_equal(bytes[N4D_MEM_NEURONS], N * 16);
        finish(ctx, m, NULL);
    }
}

/* ---- placement ----------------------------------------------------------------- */

/* Site index of a position inside an area, in w, z, y, x order (x fastest). */
static uint64_t site_of(const int32_t p[4], const int32_t lo[4], const int32_t hi[4])
{
    uint64_t k = 0;
    for (int i = 3; i >= 0; i--) {
        assert_true(p[i] >= lo[i] && p[i] <= hi[i]);
        k = k * (uint64_t)(hi[i] - lo[i] + 1) + (uint64_t)(p[i] - lo[i]);
    }
    return k;
}

/* Placement "all": neuron k of a population sits on site k of its area in
 * w, z, y, x order; ids continue population by population. */
static void test_positions_order(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    n4d_model *m = new_model(ctx, 5, 4, 3, 3, 0.1);
    add_area(m, "A", 1, 1, 0, 1, 3, 2, 2, 2); /* 3 x 2 x 3 x 2 = 36 sites */
    add_area(m, "B", 4, 0, 2, 0, 4, 3, 2, 0); /* 1 x 4 x 1 x 1 */
    add_pop(m, "P", "A", N4D_NEURON_LIF);
    add_pop(m, "Q", "B", N4D_NEURON_IZHIKEVICH);
    ASSERT_OK(n4d_model_build(m), m);
    assert_int_equal(n4d_model_num_neurons(m), 40);
    for (uint64_t k = 0; k < 36; k++) {
        int32_t p[4];
        ASSERT_OK(n4d_model_neuron_position(m, k, p), m);
        const int32_t want[4] = {1 + (int32_t)(k % 3), 1 + (int32_t)(k / 3 % 2),
                                 (int32_t)(k / 6 % 3), 1 + (int32_t)(k / 18)};
        if (memcmp(p, want, sizeof want) != 0) {
            print_error("neuron %llu at (%d,%d,%d,%d), expected (%d,%d,%d,%d)\n",
                        (unsigned long long)k, p[0], p[1], p[2], p[3], want[0], want[1], want[2],
                        want[3]);
            fail();
        }
        assert_int_equal(n4d_model_neuron_population(m, k), 0);
    }
    for (uint64_t k = 36; k < 40; k++) {
        int32_t p[4];
        ASSERT_OK(n4d_model_neuron_position(m, k, p), m);
        assert_int_equal(p[0], 4);
        assert_int_equal(p[1], (int32_t)(k - 36));
        assert_int_equal(p[2], 2);
        assert_int_equal(p[3], 0);
        assert_int_equal(n4d_model_neuron_population(m, k), 1);
    }
    n4d_population_info info;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    ASSERT_OK(n4d_model_population_info(m, 1, &info), m);
    assert_string_equal(info.name, "Q");
    assert_string_equal(info.area, "B");
    assert_int_equal(info.model, N4D_NEURON_IZHIKEVICH);
    assert_int_equal(info.first, 36);
    assert_int_equal(info.count, 4);
    finish(ctx, m, NULL);
}

/* Checks that population `pi` occupies distinct sites of its area in
 * ascending site order; returns its count. */
static uint64_t check_distinct_sites(n4d_model *m, int32_t pi, const int32_t lo[4],
                                     const int32_t hi[4])
{
    n4d_population_info info;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    ASSERT_OK(n4d_model_population_info(m, pi, &info), m);
    uint64_t prev = 0;
    for (uint64_t i = 0; i < info.count; i++) {
        int32_t p[4];
        ASSERT_OK(n4d_model_neuron_position(m, info.first + i, p), m);
        uint64_t k = site_of(p, lo, hi);
        if (i)
            assert_true(k > prev); /* distinct, in lattice order */
        prev = k;
        assert_int_equal(n4d_model_neuron_population(m, info.first + i), pi);
    }
    return info.count;
}

/* Count placement: exactly `count` distinct sites, spread over the area. */
static void test_count_placement(void **state)
{
    (void)state;
    const int32_t lo[4] = {0, 0, 0, 0}, hi[4] = {9, 9, 1, 1}; /* 400 sites */
    const uint64_t counts[5] = {0, 1, 37, 200, 400};
    for (int c = 0; c < 5; c++) {
        n4d_context *ctx = new_ctx();
        n4d_model *m = new_model(ctx, 10, 10, 2, 2, 0.1);
        ASSERT_OK(n4d_model_set_seed(m, 100 + (uint64_t)c), m);
        ASSERT_OK(n4d_model_add_area(m, "A", lo, hi), m);
        n4d_population_desc d = pop_desc("P", "A", N4D_NEURON_LIF);
        d.placement = N4D_PLACE_COUNT;
        d.count = counts[c];
        ASSERT_OK(n4d_model_add_population(m, &d, NULL), m);
        ASSERT_OK(n4d_model_build(m), m);
        assert_int_equal(n4d_model_num_neurons(m), counts[c]);
        assert_int_equal(check_distinct_sites(m, 0, lo, hi), counts[c]);
        if (counts[c] == 200) {
            /* uniform: about half of the chosen sites in each half of the area */
            uint64_t low = 0;
            for (uint64_t i = 0; i < 200; i++) {
                int32_t p[4];
                ASSERT_OK(n4d_model_neuron_position(m, i, p), m);
                low += site_of(p, lo, hi) < 200;
            }
            assert_true(low > 70 && low < 130);
        }
        finish(ctx, m, NULL);
    }
}

/* Density placement: each site independently; the count is within binomial
 * bounds (5 sd); 0 and 1 are exact. */
static void test_density_placement(void **state)
{
    (void)state;
    const int32_t lo[4] = {0, 0, 0, 0}, hi[4] = {19, 19, 4, 4}; /* 10000 sites */
    const double dens[4] = {0.0, 0.05, 0.3, 1.0};
    for (int c = 0; c < 4; c++) {
        n4d_context *ctx = new_ctx();
        n4d_model *m = new_model(ctx, 20, 20, 5, 5, 0.1);
        ASSERT_OK(n4d_model_add_area(m, "A", lo, hi), m);
        n4d_population_desc d = pop_desc("P", "A", N4D_NEURON_LIF);
        d.placement = N4D_PLACE_DENSITY;
        d.density = dens[c];
        ASSERT_OK(n4d_model_add_population(m, &d, NULL), m);
        ASSERT_OK(n4d_model_build(m), m);
        const double mean = 10000.0 * dens[c], sd = sqrt(10000.0 * dens[c] * (1.0 - dens[c]));
        const double n = (double)n4d_model_num_neurons(m);
        if (fabs(n - mean) > 5.0 * sd) {
            print_error("density %g: %g neurons, expected %g +- %g\n", dens[c], n, mean, 5 * sd);
            fail();
        }
        assert_int_equal(check_distinct_sites(m, 0, lo, hi), (uint64_t)n);
        finish(ctx, m, NULL);
    }
}

/* Two populations on one area: each places independently (they may share
 * sites); ids continue; an empty population is allowed. */
static void test_two_populations_one_area(void **state)
{
    (void)state;
    const int32_t lo[4] = {1, 0, 0, 0}, hi[4] = {4, 2, 1, 0}; /* 24 sites */
    n4d_context *ctx = new_ctx();
    n4d_model *m = new_model(ctx, 5, 3, 2, 1, 0.1);
    ASSERT_OK(n4d_model_add_area(m, "A", lo, hi), m);
    n4d_population_desc d = pop_desc("E", "A", N4D_NEURON_LIF_EXP);
    int32_t idx = -1;
    ASSERT_OK(n4d_model_add_population(m, &d, &idx), m);
    assert_int_equal(idx, 0);
    d = pop_desc("none", "A", N4D_NEURON_LIF);
    d.placement = N4D_PLACE_DENSITY;
    d.density = 0.0;
    ASSERT_OK(n4d_model_add_population(m, &d, &idx), m);
    assert_int_equal(idx, 1);
    d = pop_desc("I", "A", N4D_NEURON_LIF);
    d.placement = N4D_PLACE_COUNT;
    d.count = 6;
    ASSERT_OK(n4d_model_add_population(m, &d, &idx), m);
    assert_int_equal(idx, 2);
    n4d_projection_desc p;
    n4d_projection_desc_init(&p);
    p.source = "I";
    p.target = "E";
    p.rule = N4D_RULE_ALL_TO_ALL;
    ASSERT_OK(n4d_model_add_projection(m, &p, NULL), m);
    ASSERT_OK(n4d_model_build(m), m);
    assert_int_equal(n4d_model_num_neurons(m), 30);
    assert_int_equal(check_distinct_sites(m, 0, lo, hi), 24);
    assert_int_equal(check_distinct_sites(m, 1, lo, hi), 0);
    assert_int_equal(check_distinct_sites(m, 2, lo, hi), 6);
    n4d_population_info info;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    ASSERT_OK(n4d_model_population_info(m, 2, &info), m);
    assert_int_equal(info.first, 24);
    assert_int_equal(info.count, 6);
    assert_int_equal(n4d_model_neuron_population(m, 23), 0);
    assert_int_equal(n4d_model_neuron_population(m, 24), 2);
    /* every I neuron shares its site with the E neuron there */
    for (uint64_t i = 24; i < 30; i++) {
        int32_t p1[4], p2[4];
        ASSERT_OK(n4d_model_neuron_position(m, i, p1), m);
        ASSERT_OK(n4d_model_neuron_position(m, site_of(p1, lo, hi), p2), m);
        assert_memory_equal(p1, p2, sizeof p1);
    }
    assert_int_equal(n4d_model_num_synapses(m), 6 * 24);
    n4d_sim *sim = new_sim(m, "cpu-omp", 2, 10, 1);
    ASSERT_OK(n4d_sim_run(sim, 20), sim);
    finish(ctx, m, sim);
}

/* A model without neurons builds and runs. */
static void test_empty_model(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    n4d_model *m = new_model(ctx, 2, 2, 1, 1, 0.1);
    add_area(m, "A", 0, 0, 0, 0, 1, 1, 0, 0);
    n4d_population_desc d = pop_desc("P", "A", N4D_NEURON_LIF);
    d.placement = N4D_PLACE_COUNT;
    d.count = 0;
    ASSERT_OK(n4d_model_add_population(m, &d, NULL), m);
    for (int b = 0; b < 2; b++) {
        n4d_sim *sim = new_sim(m, b ? "cpu-omp" : "cpu-ref", 2, 10, 1);
        assert_int_equal(n4d_model_num_neurons(m), 0);
        ASSERT_OK(n4d_sim_run(sim, 25), sim);
        assert_int_equal(n4d_sim_current_step(sim), 25);
        assert_int_equal(n4d_sim_total_spikes(sim), 0);
        assert_int_equal(n4d_sim_spiked_at(sim, 0, 3), N4D_E_RANGE);
        float x = 1.0f;
        ASSERT_OK(n4d_sim_get_state(sim, "v", &x, 0), sim);
        assert_int_equal(n4d_sim_add_input(sim, 0, 1.0f), N4D_E_RANGE);
        n4d_sim_destroy(sim);
    }
    finish(ctx, m, NULL);
}

/* n4d_model_get_synapses: "Any output pointer (also count) may be NULL".
 * Kept last: a crash here would end the program. */
static void test_get_synapses_null_count(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    n4d_model *m = new_model(ctx, 2, 1, 1, 1, 0.1);
    add_area(m, "A", 0, 0, 0, 0, 1, 0, 0, 0);
    add_pop(m, "P", "A", N4D_NEURON_LIF);
    n4d_projection_desc p;
    n4d_projection_desc_init(&p);
    p.source = p.target = "P";
    p.rule = N4D_RULE_ALL_TO_ALL;
    ASSERT_OK(n4d_model_add_projection(m, &p, NULL), m);
    ASSERT_OK(n4d_model_build(m), m);
    uint32_t t[2] = {7, 7};
    ASSERT_OK(n4d_model_get_synapses(m, 0, 2, t, NULL, NULL, NULL), m);
    assert_int_equal(t[0], 0);
    assert_int_equal(t[1], 1);
    ASSERT_OK(n4d_model_get_synapses(m, 1, 2, NULL, NULL, NULL, NULL), m);
    finish(ctx, m, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_strings),
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_destroy_null_and_non_handles),
        cmocka_unit_test(test_null_arguments),
        cmocka_unit_test(test_last_error_details),
        cmocka_unit_test(test_params_by_name),
        cmocka_unit_test(test_setters_after_build),
        cmocka_unit_test(test_spiked_at_window),
        cmocka_unit_test(test_last_spikes_stats_checksum),
        cmocka_unit_test(test_recording_off_and_clear),
        cmocka_unit_test(test_state_roundtrip),
        cmocka_unit_test(test_add_input),
        cmocka_unit_test(test_feed_sense),
        cmocka_unit_test(test_log_callback),
        cmocka_unit_test(test_memory_accounting),
        cmocka_unit_test(test_memory_allocation_failures),
        cmocka_unit_test(test_run_error_then_resume),
        cmocka_unit_test(test_model_memory),
        cmocka_unit_test(test_positions_order),
        cmocka_unit_test(test_count_placement),
        cmocka_unit_test(test_density_placement),
        cmocka_unit_test(test_two_populations_one_area),
        cmocka_unit_test(test_empty_model),
        cmocka_unit_test(test_get_synapses_null_count),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
