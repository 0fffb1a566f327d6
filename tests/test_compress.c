/* Inactive-neuron compression (include/n4d/compress.h): on a 4D brain with a
 * Poisson-driven area and silent sense areas (lif_exp at rest: a fixed point
 * from the start), spike trains, checksums and final states are bitwise
 * identical with compression on and off on cpu-ref and cpu-omp; blocks are
 * compressed, pages handed back (default allocator), restored when input
 * reaches them, on request and by disable; the model's synapses read back
 * identical; errors; no leaks (also with a custom allocator, which saves no
 * real bytes); silent neurons whose only input is inhibition. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "n4d.h"
#include "test_util.h"

#define STEPS 3000u

/* ---- counting allocator ------------------------------------------------------- */

typedef struct counting {
    _Atomic long live;
} counting;

static void *count_alloc(void *ud, size_t size, size_t align)
{
    counting *c = ud;
    void *p = NULL;
    if (posix_memalign(&p, align < sizeof(void *) ? sizeof(void *) : align, size ? size : 1))
        return NULL;
    atomic_fetch_add(&c->live, 1);
    return p;
}

static void count_free(void *ud, void *ptr, size_t size)
{
    counting *c = ud;
    (void)size;
    atomic_fetch_sub(&c->live, 1);
    free(ptr);
}

/* ---- the brain ---------------------------------------------------------------- */

static n4d_context *new_ctx(counting *cnt)
{
    n4d_context_options co;
    n4d_context_options_init(&co);
    if (cnt) {
        co.allocator.alloc = count_alloc;
        co.allocator.free = count_free;
        co.allocator.user_data = cnt;
    }
    n4d_context *ctx = NULL;
    assert_int_equal(n4d_context_create(&co, &ctx), N4D_OK);
    return ctx;
}

static void add_pop(n4d_model *m, const char *name, const char *area)
{
    n4d_population_desc d;
    n4d_population_desc_init(&d);
    d.name = name;
    d.area = area;
    d.model = N4D_NEURON_LIF_EXP;
    /* below threshold: at rest a fixed point (v_init = v_rest) */
    static const n4d_param_value params[] = {{"v_rest", -65.0}, {"v_reset", -65.0},
                                             {"v_threshold", -50.0}};
    d.params = params;
    d.n_params = 3;
    ASSERT_OK(n4d_model_add_population(m, &d, NULL), m);
}

static void add_proj(n4d_model *m, const char *src, const char *tgt, double p, double w)
{
    n4d_projection_desc pr;
    n4d_projection_desc_init(&pr);
    pr.source = src;
    pr.target = tgt;
    pr.rule = N4D_RULE_FIXED_PROBABILITY;
    pr.p = p;
    pr.weight.kind = N4D_DIST_CONSTANT;
    pr.weight.value = w;
    pr.delay.kind = N4D_DIST_CONSTANT;
    pr.delay.value = 1.0;
    ASSERT_OK(n4d_model_add_projection(m, &pr, NULL), m);
}

/* Lattice 16 x 8 x 4 x 4: "cortex" x 0..5 (Poisson-driven from 100 ms to
 * 160 ms), sense areas "eye" x 6..10 (input from the cortex) and "ear" x
 * 11..15 (none), all lif_exp at rest. */
static n4d_model *new_brain(n4d_context *ctx)
{
    n4d_model *m = NULL;
    assert_int_equal(n4d_model_create(ctx, &m), N4D_OK);
    const uint32_t shape[4] = {16, 8, 4, 4};
    ASSERT_OK(n4d_model_set_lattice(m, shape), m);
    const int32_t c0[4] = {0, 0, 0, 0}, c1[4] = {5, 7, 3, 3};
    const int32_t e0[4] = {6, 0, 0, 0}, e1[4] = {10, 7, 3, 3};
    const int32_t a0[4] = {11, 0, 0, 0}, a1[4] = {15, 7, 3, 3};
    ASSERT_OK(n4d_model_add_area(m, "cortex", c0, c1), m);
    ASSERT_OK(n4d_model_add_area(m, "eye", e0, e1), m);
    ASSERT_OK(n4d_model_add_area(m, "ear", a0, a1), m);
    add_pop(m, "ctx", "cortex");
    add_pop(m, "eye", "eye");
    add_pop(m, "ear", "ear");
    add_proj(m, "ctx", "ctx", 0.02, 0.5);
    add_proj(m, "ctx", "eye", 0.02, 3.0);
    add_proj(m, "eye", "ear", 0.05, 1.0);
    add_proj(m, "ear", "eye", 0.05, 1.0);
    n4d_input_desc in;
    n4d_input_desc_init(&in);
    in.kind = N4D_INPUT_POISSON;
    in.target = "ctx";
    in.rate = 2000.0;
    in.weight = 4.0;
    in.n_sources = 4;
    in.start = 100.0;
    in.stop = 160.0;
    ASSERT_OK(n4d_model_add_input(m, &in), m);
    ASSERT_OK(n4d_model_build(m), m);
    return m;
}

static n4d_sim *new_sim(n4d_model *m, const char *backend, int threads)
{
    n4d_sim_options o;
    n4d_sim_options_init(&o);
    o.backend = backend;
    o.num_threads = threads;
    o.record_spikes = 1;
    n4d_sim *sim = NULL;
    ASSERT_OK(n4d_sim_create(m, &o, &sim), m);
    return sim;
}

typedef struct result {
    uint64_t checksum, count;
    uint64_t *steps;
    uint32_t *ids;
    float *state[3]; /* v, ge, gi */
} result;

static void collect(n4d_sim *sim, uint64_t n, result *r)
{
    const uint64_t *st;
    const uint32_t *ids;
    ASSERT_OK(n4d_sim_spikes(sim, &st, &ids, &r->count), sim);
    r->checksum = n4d_sim_checksum(sim);
    r->steps = malloc((r->count + 1) * sizeof *r->steps);
    r->ids = malloc((r->count + 1) * sizeof *r->ids);
    memcpy(r->steps, st, r->count * sizeof *st);
    memcpy(r->ids, ids, r->count * sizeof *ids);
    static const char *const vars[3] = {"v", "ge", "gi"};
    for (int k = 0; k < 3; k++) {
        r->state[k] = malloc(n * sizeof(float));
        ASSERT_OK(n4d_sim_get_state(sim, vars[k], r->state[k], n), sim);
    }
}

static void result_free(result *r)
{
    free(r->steps);
    free(r->ids);
    for (int k = 0; k < 3; k++)
        free(r->state[k]);
}

static void assert_same(const result *a, const result *b, uint64_t n)
{
    assert_int_equal(a->count, b->count);
    assert_true(a->checksum == b->checksum);
    assert_memory_equal(a->steps, b->steps, a->count * sizeof *a->steps);
    assert_memory_equal(a->ids, b->ids, a->count * sizeof *a->ids);
    for (int k = 0; k < 3; k++)
        assert_memory_equal(a->state[k], b->state[k], n * sizeof(float));
}

static n4d_compress_stats stats(const n4d_sim *sim)
{
    n4d_compress_stats s;
    memset(&s, 0, sizeof s);
    s.struct_size = sizeof s;
    assert_int_equal(n4d_sim_compression_stats(sim, &s), N4D_OK);
    return s;
}

static n4d_memory_stats mem(const n4d_context *ctx)
{
    n4d_memory_stats ms;
    memset(&ms, 0, sizeof ms);
    ms.struct_size = sizeof ms;
    assert_int_equal(n4d_context_memory(ctx, &ms), N4D_OK);
    return ms;
}

static void assert_ctx_empty(const n4d_context *ctx)
{
    n4d_memory_stats ms = mem(ctx);
    for (int t = 0; t < N4D_MEM_TAG_COUNT; t++)
        assert_int_equal(ms.current[t], 0);
    assert_int_equal(ms.total_current, 0);
}

/* Synapses of every source, by user id (targets and weights). */
static void read_synapses(const n4d_model *m, uint32_t **targets, float **weights, uint64_t *total)
{
    const uint64_t n = n4d_model_num_neurons(m);
    uint64_t sum = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t d = 0;
        ASSERT_OK(n4d_model_out_degree(m, i, &d), m);
        sum += d;
    }
    *targets = malloc((sum + 1) * sizeof **targets);
    *weights = malloc((sum + 1) * sizeof **weights);
    uint64_t at = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t c = 0;
        ASSERT_OK(n4d_model_get_synapses(m, i, sum - at, *targets + at, *weights + at, NULL, &c), m);
        at += c;
    }
    assert_int_equal(at, sum);
    *total = sum;
}

/* The pages handed back show in the accounting: state pages under
 * N4D_MEM_NEURONS, delay-ring pages under N4D_MEM_BUFFERS, each no more
 * than it was (no counter wraps) and together exactly bytes_saved_real. */
static void assert_saved(const n4d_memory_stats *m0, const n4d_memory_stats *m1, uint64_t saved)
{
    const uint64_t n0 = m0->current[N4D_MEM_NEURONS], n1 = m1->current[N4D_MEM_NEURONS];
    const uint64_t b0 = m0->current[N4D_MEM_BUFFERS], b1 = m1->current[N4D_MEM_BUFFERS];
    assert_true(n1 <= n0);
    assert_true(b1 <= b0);
    assert_int_equal((n0 - n1) + (b0 - b1), saved);
}

/* One backend: off vs on, bitwise; stats; restore; disable. */
static void check_backend(const char *backend, int threads, counting *cnt)
{
    n4d_context *ctx = new_ctx(cnt);
    n4d_model *m = new_brain(ctx);
    const uint64_t n = n4d_model_num_neurons(m);
    assert_true(n == 16 * 8 * 4 * 4);

    result off, on;
    n4d_sim *sim = new_sim(m, backend, threads);
    ASSERT_OK(n4d_sim_run(sim, STEPS), sim);
    collect(sim, n, &off);
    n4d_sim_destroy(sim);
    assert_true(off.count > 1000); /* the cortex fires, and so does the eye */

    uint32_t *t0, *t1;
    float *w0, *w1;
    uint64_t s0, s1;
    read_synapses(m, &t0, &w0, &s0);

    sim = new_sim(m, backend, threads);
    n4d_compress_options o;
    n4d_compress_options_init(&o);
    o.threshold_steps = 200;
    o.check_every = 50;
    ASSERT_OK(n4d_sim_compression_enable(sim, &o), sim);
    const n4d_memory_stats m0 = mem(ctx);
    ASSERT_OK(n4d_sim_run(sim, 600), sim);
    n4d_compress_stats cs = stats(sim);
    assert_true(cs.blocks > 0);
    assert_true(cs.blocks_compressed > 0);
    assert_true(cs.neurons_compressed > 0);
    assert_true(cs.bytes_before > cs.bytes_after);
    /* the model is never touched: its synapses stay readable */
    ASSERT_OK(n4d_model_get_synapses(m, 0, 0, NULL, NULL, NULL, NULL), m);
    const n4d_memory_stats m1 = mem(ctx);
    assert_int_equal(m1.current[N4D_MEM_SYNAPSES], m0.current[N4D_MEM_SYNAPSES]);
    if (cnt) /* a custom allocator: nothing is handed back */
        assert_int_equal(cs.bytes_saved_real, 0);
    /* else the whole pages of quiet blocks' state and ring slices are handed
     * back (small blocks may cover none: test_pages_released) */
    assert_saved(&m0, &m1, cs.bytes_saved_real);
    assert_true(m1.current[N4D_MEM_COMPRESSED] >= cs.bytes_after);
    /* restore on request (a neuron of the silent ear, the last id):
     * the run goes on bitwise the same */
    const uint64_t before = stats(sim).blocks_compressed;
    assert_true(before > 0);
    /* the compressed mask counts the compressed neurons, and reads restore nothing */
    uint8_t *mask = calloc(n, 1);
    assert_non_null(mask);
    ASSERT_OK(n4d_sim_compressed_neurons(sim, mask, n), sim);
    uint64_t masked = 0;
    for (uint64_t i = 0; i < n; i++)
        masked += mask[i];
    assert_int_equal(masked, stats(sim).neurons_compressed);
    assert_int_equal(mask[n - 1], 1);
    assert_int_equal(stats(sim).blocks_compressed, before);
    assert_int_equal(n4d_sim_compressed_neurons(sim, mask, n + 1), N4D_E_RANGE);
    assert_int_equal(n4d_sim_compressed_neurons(sim, NULL, n), N4D_E_INVALID_ARG);
    ASSERT_OK(n4d_sim_restore_neuron(sim, n - 1), sim);
    assert_int_equal(stats(sim).blocks_compressed, before - 1);
    ASSERT_OK(n4d_sim_compressed_neurons(sim, mask, n), sim);
    assert_int_equal(mask[n - 1], 0);
    free(mask);
    ASSERT_OK(n4d_sim_restore_neuron(sim, n - 1), sim); /* already live: no-op */
    assert_int_equal(n4d_sim_restore_neuron(sim, n), N4D_E_RANGE);

    /* a second sim of the model, with compression too, while the first
     * has compressed blocks: compression works on each sim's overlay */
    n4d_sim *other = new_sim(m, backend, threads);
    ASSERT_OK(n4d_sim_compression_enable(other, &o), other);
    ASSERT_OK(n4d_sim_run(other, STEPS), other);
    assert_true(stats(other).compressions > 0);
    result second;
    collect(other, n, &second);
    assert_same(&off, &second, n);
    result_free(&second);
    n4d_sim_destroy(other);

    ASSERT_OK(n4d_sim_run(sim, STEPS - 600), sim);
    cs = stats(sim);
    assert_true(cs.restores > 0); /* the eye woke up */
    assert_true(cs.compressions >= cs.restores);
    collect(sim, n, &on);
    assert_same(&off, &on, n);

    ASSERT_OK(n4d_sim_compression_disable(sim), sim);
    cs = stats(sim);
    assert_int_equal(cs.blocks, 0);
    const n4d_memory_stats m2 = mem(ctx);
    assert_int_equal(m2.current[N4D_MEM_SYNAPSES], m0.current[N4D_MEM_SYNAPSES]);
    assert_int_equal(m2.current[N4D_MEM_NEURONS], m0.current[N4D_MEM_NEURONS]);
    assert_int_equal(m2.current[N4D_MEM_BUFFERS], m0.current[N4D_MEM_BUFFERS]);
    assert_int_equal(m2.current[N4D_MEM_COMPRESSED], 0);
    read_synapses(m, &t1, &w1, &s1);
    assert_int_equal(s0, s1);
    assert_memory_equal(t0, t1, s0 * sizeof *t0);
    assert_memory_equal(w0, w1, s0 * sizeof *w0);
    free(t0), free(t1), free(w0), free(w1);
    ASSERT_OK(n4d_sim_compression_disable(sim), sim); /* off: no-op */

    /* destroy with compressed blocks: synapses intact, nothing leaks */
    n4d_sim_destroy(sim);
    sim = new_sim(m, backend, threads);
    ASSERT_OK(n4d_sim_compression_enable(sim, &o), sim);
    ASSERT_OK(n4d_sim_run(sim, 300), sim);
    assert_true(stats(sim).blocks_compressed > 0);
    n4d_sim_destroy(sim);
    const n4d_memory_stats m3 = mem(ctx);
    assert_int_equal(m3.current[N4D_MEM_SYNAPSES], m0.current[N4D_MEM_SYNAPSES]);
    assert_int_equal(m3.current[N4D_MEM_COMPRESSED], 0);

    result_free(&off);
    result_free(&on);
    n4d_model_destroy(m);
    assert_ctx_empty(ctx);
    n4d_context_destroy(ctx);
    if (cnt)
        assert_int_equal(atomic_load(&cnt->live), 0);
}

/* cpu-ref is the plain ground truth: it skips nothing, so it refuses. */
static void test_cpu_ref(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx(NULL);
    n4d_model *m = new_brain(ctx);
    n4d_sim *sim = new_sim(m, "cpu-ref", 1);
    assert_int_equal(n4d_sim_compression_enable(sim, NULL), N4D_E_UNSUPPORTED);
    assert_non_null(strstr(n4d_last_error(sim), "cpu-ref"));
    n4d_sim_destroy(sim);
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
}

static void test_cpu_omp(void **state)
{
    (void)state;
    check_backend("cpu-omp", 2, NULL);
}

static void test_custom_allocator(void **state)
{
    (void)state;
    counting cnt;
    atomic_init(&cnt.live, 0);
    check_backend("cpu-omp", 2, &cnt);
}

/* A quiet population of full blocks: their pages are handed back, the
 * accounting shows it, a state read leaves them compressed, and input
 * wakes them with the same result. 64 x 63 x 2 neurons on 2 threads put
 * the thread boundary (4032) inside a block, which both threads then
 * share. */
static void test_pages_released(void **state)
{
    (void)state;
    static const char json[] =
        "{\"dt\": 0.1, \"seed\": 3, \"lattice_shape\": [64, 63, 2, 1],"
        " \"areas\": [{\"name\": \"a\", \"coord_ranges\": {\"x\": [0, 63], \"y\": [0, 62],"
        " \"z\": [0, 1], \"w\": [0, 0]}}],"
        " \"neuron_model\": {\"type\": \"lif\"},"
        " \"populations\": [{\"name\": \"P\", \"area\": \"a\"}],"
        " \"projections\": [{\"source\": \"P\", \"target\": \"P\", \"rule\": \"fixed_indegree\","
        " \"indegree\": 5, \"weight\": 30.0, \"delay\": 1.5}]}";
    n4d_context *ctx = new_ctx(NULL);
    n4d_model *m = NULL;
    ASSERT_OK(n4d_model_from_json_string(ctx, json, sizeof json - 1, "pages", &m), ctx);
    ASSERT_OK(n4d_model_build(m), m);
    const uint64_t n = n4d_model_num_neurons(m);
    result r[2];
    for (int on = 0; on < 2; on++) {
        n4d_sim *sim = new_sim(m, "cpu-omp", 2);
        n4d_compress_options o;
        n4d_compress_options_init(&o);
        o.threshold_steps = 20;
        o.check_every = 10;
        if (on)
            ASSERT_OK(n4d_sim_compression_enable(sim, &o), sim);
        const n4d_memory_stats m0 = mem(ctx);
        ASSERT_OK(n4d_sim_run(sim, 100), sim);
        if (on) {
            const n4d_compress_stats cs = stats(sim);
            assert_int_equal(cs.blocks_compressed, cs.blocks);
            assert_true(cs.bytes_saved_real >= cs.blocks * 4096);
            const n4d_memory_stats m1 = mem(ctx);
            assert_saved(&m0, &m1, cs.bytes_saved_real);
            /* a state read: the values are written back, the blocks stay
             * compressed (no restore), and what was handed back is handed back
             * again at the next check */
            float *v = malloc(n * sizeof *v);
            ASSERT_OK(n4d_sim_get_state(sim, "v", v, n), sim);
            for (uint64_t i = 0; i < n; i++)
                assert_true(v[i] == -65.0f); /* lif at rest */
            free(v);
            assert_int_equal(stats(sim).blocks_compressed, cs.blocks);
            assert_true(stats(sim).bytes_saved_real <= cs.bytes_saved_real);
            ASSERT_OK(n4d_sim_run(sim, 10), sim);
            assert_int_equal(stats(sim).bytes_saved_real, cs.bytes_saved_real);
            assert_int_equal(stats(sim).restores, 0);
        } else {
            ASSERT_OK(n4d_sim_run(sim, 10), sim); /* the same steps as the compressed run */
        }
        for (uint64_t k = 0; k < 10; k++) { /* wake neurons here and there */
            ASSERT_OK(n4d_sim_add_input(sim, (k * 997) % n, 6000.0f), sim);
            ASSERT_OK(n4d_sim_run(sim, 50), sim);
        }
        collect(sim, n, &r[on]);
        n4d_sim_destroy(sim);
    }
    assert_true(r[0].count > 0);
    assert_same(&r[0], &r[1], n);
    result_free(&r[0]);
    result_free(&r[1]);
    n4d_model_destroy(m);
    assert_ctx_empty(ctx);
    n4d_context_destroy(ctx);
}

/* State writes and input restore; errors and options. */
static void test_api(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx(NULL);
    n4d_model *m = new_brain(ctx);
    const uint64_t n = n4d_model_num_neurons(m);
    n4d_sim *sim = new_sim(m, "cpu-omp", 1);

    n4d_compress_options o;
    n4d_compress_options_init(&o);
    assert_int_equal(o.threshold_steps, 1000);
    assert_int_equal(o.check_every, 100);
    assert_int_equal(o.level, 1);
    o.level = 0;
    assert_int_equal(n4d_sim_compression_enable(sim, &o), N4D_E_INVALID_ARG);
    o.level = 1;
    o.check_every = 0;
    assert_int_equal(n4d_sim_compression_enable(sim, &o), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_sim_restore_neuron(sim, 0), N4D_E_STATE);
    uint8_t none = 7; /* compression off: every neuron reads 0 */
    ASSERT_OK(n4d_sim_compressed_neurons(sim, &none, 1), sim);
    assert_int_equal(none, 0);
    assert_int_equal(n4d_sim_compression_enable(NULL, NULL), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_sim_compression_stats(sim, NULL), N4D_E_INVALID_ARG);

    /* two sims of one model: each compresses its own overlay */
    n4d_sim *two = new_sim(m, "cpu-omp", 1);
    ASSERT_OK(n4d_sim_compression_enable(two, NULL), two);
    n4d_sim_destroy(two);

    o.check_every = 10;
    o.threshold_steps = 20;
    ASSERT_OK(n4d_sim_compression_enable(sim, &o), sim);
    ASSERT_OK(n4d_sim_compression_enable(sim, &o), sim); /* again: new options */
    ASSERT_OK(n4d_sim_run(sim, 100), sim);
    /* an older caller's smaller struct */
    n4d_compress_stats small;
    memset(&small, 0xff, sizeof small);
    small.struct_size = offsetof(n4d_compress_stats, neurons_compressed);
    ASSERT_OK(n4d_sim_compression_stats(sim, &small), sim);
    assert_true(small.blocks_compressed > 0);
    assert_true(small.neurons_compressed == UINT64_MAX);

    /* input reaches a compressed neuron: restored, result as without */
    const uint64_t c0 = stats(sim).blocks_compressed;
    ASSERT_OK(n4d_sim_add_input(sim, n - 1, 30.0f), sim);
    ASSERT_OK(n4d_sim_run(sim, 1), sim);
    assert_int_equal(stats(sim).blocks_compressed, c0 - 1);
    /* a state write restores everything */
    float *v = malloc(n * sizeof *v);
    ASSERT_OK(n4d_sim_get_state(sim, "v", v, n), sim);
    ASSERT_OK(n4d_sim_set_state(sim, "v", v, n), sim);
    assert_int_equal(stats(sim).blocks_compressed, 0);
    free(v);
    n4d_sim_destroy(sim);
    n4d_model_destroy(m);
    assert_ctx_empty(ctx);
    n4d_context_destroy(ctx);
}

/* The same run with and without compression when input and state writes
 * reach compressed neurons. */
static void run_inputs(n4d_model *m, bool compress, result *r)
{
    const uint64_t n = n4d_model_num_neurons(m);
    n4d_sim *sim = new_sim(m, "cpu-omp", 2);
    if (compress) {
        n4d_compress_options o;
        n4d_compress_options_init(&o);
        o.threshold_steps = 30;
        o.check_every = 10;
        ASSERT_OK(n4d_sim_compression_enable(sim, &o), sim);
    }
    for (uint64_t k = 0; k < 20; k++) {
        ASSERT_OK(n4d_sim_run(sim, 97), sim);
        ASSERT_OK(n4d_sim_add_input(sim, (k * 131) % n, 40.0f), sim);
        ASSERT_OK(n4d_sim_add_input(sim, n - 1 - (k * 37) % 200, 25.0f), sim);
    }
    ASSERT_OK(n4d_sim_run(sim, 100), sim);
    collect(sim, n, r);
    if (compress)
        assert_true(stats(sim).restores > 0);
    n4d_sim_destroy(sim);
}

static void test_inputs(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx(NULL);
    n4d_model *m = new_brain(ctx);
    result a, b;
    run_inputs(m, false, &a);
    run_inputs(m, true, &b);
    assert_same(&a, &b, n4d_model_num_neurons(m));
    result_free(&a);
    result_free(&b);
    n4d_model_destroy(m);
    assert_ctx_empty(ctx);
    n4d_context_destroy(ctx);
}

/* Silent neurons that receive only inhibition (issue 15, item 5): a block
 * is woken by inhibitory input as by excitatory input. "drive" (Poisson
 * from 100 to 200 ms) inhibits the silent "quiet" population, whose blocks
 * are compressed before the drive starts; a wake-up that looked at the
 * excitatory input only would leave them at rest. Spikes, checksum and V,
 * ge, gi equal the run without compression. */
static void test_inhibitory_only(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx(NULL);
    n4d_model *m = NULL;
    assert_int_equal(n4d_model_create(ctx, &m), N4D_OK);
    const uint32_t shape[4] = {8, 8, 4, 1};
    ASSERT_OK(n4d_model_set_lattice(m, shape), m);
    const int32_t d0[4] = {0, 0, 0, 0}, d1[4] = {3, 7, 3, 0};
    const int32_t q0[4] = {4, 0, 0, 0}, q1[4] = {7, 7, 3, 0};
    ASSERT_OK(n4d_model_add_area(m, "drive", d0, d1), m);
    ASSERT_OK(n4d_model_add_area(m, "quiet", q0, q1), m);
    add_pop(m, "drive", "drive");
    add_pop(m, "quiet", "quiet");
    add_proj(m, "drive", "drive", 0.02, 0.5);
    add_proj(m, "drive", "quiet", 0.1, -2.0); /* the only input of "quiet" */
    n4d_input_desc in;
    n4d_input_desc_init(&in);
    in.kind = N4D_INPUT_POISSON;
    in.target = "drive";
    in.rate = 2000.0;
    in.weight = 4.0;
    in.n_sources = 4;
    in.start = 100.0;
    in.stop = 200.0;
    ASSERT_OK(n4d_model_add_input(m, &in), m);
    ASSERT_OK(n4d_model_build(m), m);
    const uint64_t n = n4d_model_num_neurons(m);
    n4d_population_info qi = {.struct_size = sizeof qi};
    ASSERT_OK(n4d_model_population_info(m, 1, &qi), m);

    result off, on;
    n4d_sim *sim = new_sim(m, "cpu-omp", 2);
    /* without compression the inhibition pulls every quiet neuron below
     * rest while the drive fires (1000 .. 2000 steps) */
    ASSERT_OK(n4d_sim_run(sim, 1500), sim);
    float *v = malloc(n * sizeof *v);
    ASSERT_OK(n4d_sim_get_state(sim, "v", v, n), sim);
    for (uint64_t i = qi.first; i < qi.first + qi.count; i++)
        assert_true(v[i] < -65.01f);
    free(v);
    ASSERT_OK(n4d_sim_run(sim, STEPS - 1500), sim);
    collect(sim, n, &off);
    n4d_sim_destroy(sim);
    assert_true(off.count > 100); /* the drive fires */

    sim = new_sim(m, "cpu-omp", 2);
    n4d_compress_options o;
    n4d_compress_options_init(&o);
    o.threshold_steps = 200;
    o.check_every = 50;
    ASSERT_OK(n4d_sim_compression_enable(sim, &o), sim);
    ASSERT_OK(n4d_sim_run(sim, 900), sim);
    n4d_compress_stats cs = stats(sim);
    /* every block of "quiet" (the drive has Poisson input: never compressed) */
    assert_true(cs.neurons_compressed >= qi.count);
    ASSERT_OK(n4d_sim_run(sim, STEPS - 900), sim);
    cs = stats(sim);
    assert_true(cs.restores > 0); /* inhibition woke them */
    collect(sim, n, &on);
    assert_same(&off, &on, n);
    n4d_sim_destroy(sim);
    result_free(&off);
    result_free(&on);
    n4d_model_destroy(m);
    assert_ctx_empty(ctx);
    n4d_context_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cpu_ref),
        cmocka_unit_test(test_cpu_omp),
        cmocka_unit_test(test_custom_allocator),
        cmocka_unit_test(test_api),
        cmocka_unit_test(test_pages_released),
        cmocka_unit_test(test_inputs),
        cmocka_unit_test(test_inhibitory_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
