/* Allocation-failure injection. A counting allocator (n4d_context_options)
 * fails exactly the k-th allocation. For a model with areas, several
 * populations of every neuron model, projections of every rule, DC and
 * Poisson inputs and a sense, the scenario "describe + build + create a sim
 * + run 100 steps" makes A allocations; for every k in 1..A:
 *  - stop mode: the call that hit the failure returns N4D_E_NOMEM with a
 *    non-empty n4d_last_error; everything is destroyed at once; no byte and
 *    no block is left (nothing leaks, nothing crashes, ASan sees no misuse);
 *  - retry mode: the failed call is repeated (the allocator fails only once)
 *    and the scenario carried on to the end; the result (checksum, spike
 *    count, final membrane potentials) must equal the undisturbed run's: a
 *    failure leaves every object usable and consistent.
 * The allocator also checks that every free gets the size given to alloc
 * and that alignments are honoured. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "n4d.h"
#include "test_util.h"

/* ---- the counting, failing allocator ------------------------------------- */

typedef struct alloc_state {
    atomic_ullong calls;      /* allocation calls so far */
    unsigned long long fail_at; /* 1-based call to fail; 0: never */
    atomic_int injected;      /* failures injected */
    atomic_llong live_bytes, live_blocks;
    atomic_int bad_free;      /* frees whose size differs from the alloc's */
    atomic_int bad_align;     /* alignment not a power of two or > 4096 */
} alloc_state;

#define HDR 16 /* size stored just below the returned block */

static void *t_alloc(void *ud, size_t size, size_t align)
{
    alloc_state *a = ud;
    unsigned long long k = atomic_fetch_add(&a->calls, 1) + 1;
    if (align == 0 || (align & (align - 1)) || align > 4096)
        atomic_fetch_add(&a->bad_align, 1);
    if (k == a->fail_at) {
        atomic_fetch_add(&a->injected, 1);
        return NULL;
    }
    size_t pad = align < HDR ? HDR : align;
    void *base = NULL;
    if (posix_memalign(&base, pad, pad + (size ? size : 1)) != 0)
        return NULL;
    unsigned char *p = (unsigned char *)base + pad;
    size_t meta[2] = {size, pad};
    memcpy(p - HDR, meta, sizeof meta);
    atomic_fetch_add(&a->live_bytes, (long long)size);
    atomic_fetch_add(&a->live_blocks, 1);
    return p;
}

static void t_free(void *ud, void *ptr, size_t size)
{
    alloc_state *a = ud;
    if (!ptr)
        return;
    unsigned char *p = ptr;
    size_t meta[2];
    memcpy(meta, p - HDR, sizeof meta);
    if (meta[0] != size)
        atomic_fetch_add(&a->bad_free, 1);
    atomic_fetch_sub(&a->live_bytes, (long long)meta[0]);
    atomic_fetch_sub(&a->live_blocks, 1);
    free(p - meta[1]);
}

static void reset(alloc_state *a, unsigned long long fail_at)
{
    atomic_store(&a->calls, 0);
    a->fail_at = fail_at;
    atomic_store(&a->injected, 0);
    atomic_store(&a->live_bytes, 0);
    atomic_store(&a->live_blocks, 0);
    atomic_store(&a->bad_free, 0);
    atomic_store(&a->bad_align, 0);
}

/* ---- the scenario ------------------------------------------------------------ */

typedef struct outcome {
    uint64_t checksum, spikes, neurons, synapses;
    float v[64]; /* final membrane potential of the first neurons */
    int failures; /* calls that reported the injected failure */
    int finished; /* the scenario ran to the end */
} outcome;

typedef struct scenario {
    int32_t build_threads;
    const char *backend;
    int32_t sim_threads;
    bool retry;
} scenario;

static const char *handle_error(const void *h)
{
    const char *e = n4d_last_error(h);
    return e ? e : "(null)";
}

/* Runs `expr`; if it fails it must be the injected failure, reported as
 * N4D_E_NOMEM with a message on `handle`. Then stops (goto out) or retries. */
#define STEP(expr, handle)                                                                        \
    do {                                                                                          \
        int inj0_ = atomic_load(&as->injected);                                                   \
        n4d_status st_ = (expr);                                                                  \
        int hit_ = atomic_load(&as->injected) != inj0_;                                           \
        if (st_ != N4D_OK) {                                                                      \
            if (st_ != N4D_E_NOMEM || !hit_)                                                      \
                fail_msg("k = %llu: %s -> %d (%s) [injected: %d]: %s", as->fail_at, #expr,        \
                         (int)st_, n4d_status_string(st_), hit_, handle_error(handle));          \
            const char *msg_ = handle_error(handle);                                              \
            if (!msg_[0])                                                                         \
                fail_msg("k = %llu: %s -> N4D_E_NOMEM without a message", as->fail_at, #expr);    \
            o->failures++;                                                                        \
            if (!sc->retry)                                                                       \
                goto out;                                                                         \
            st_ = (expr);                                                                         \
            if (st_ != N4D_OK)                                                                    \
                fail_msg("k = %llu: retry of %s -> %d: %s", as->fail_at, #expr, (int)st_,         \
                         handle_error(handle));                                                   \
        } else if (hit_) {                                                                        \
            fail_msg("k = %llu: %s swallowed an allocation failure and returned N4D_OK",          \
                     as->fail_at, #expr);                                                         \
        }                                                                                         \
    } while (0)

static n4d_status add_area(n4d_model *m, const char *name, int32_t w)
{
    const int32_t lo[4] = {0, 0, 0, w}, hi[4] = {15, 15, 1, w};
    return n4d_model_add_area(m, name, lo, hi);
}

static n4d_population_desc pop_desc(const char *name, const char *area, int32_t model,
                                    int32_t placement, uint64_t count)
{
    n4d_population_desc d;
    n4d_population_desc_init(&d);
    d.name = name;
    d.area = area;
    d.model = model;
    if (model == N4D_NEURON_IZHIKEVICH)
        d.preset = "fast_spiking";
    d.placement = placement;
    d.count = count;
    d.density = 0.5;
    if (model == N4D_NEURON_LIF_EXP)
        d.v_init = n4d_dist_uniform(-60.0, -49.0);
    return d;
}

static n4d_projection_desc proj_desc(const char *s, const char *t, int32_t rule)
{
    n4d_projection_desc d;
    n4d_projection_desc_init(&d);
    d.source = s;
    d.target = t;
    d.rule = rule;
    d.p = 0.1;
    d.n = 10;
    d.weight = n4d_dist_normal(1.0, 0.3, 0.0, 2.0);
    d.delay = n4d_dist_uniform(1.0, 3.0); /* 2..6 steps: cpu-omp batches 2 */
    return d;
}

static void run_scenario(alloc_state *as, const scenario *sc, outcome *o)
{
    memset(o, 0, sizeof *o);
    n4d_context *ctx = NULL;
    n4d_model *m = NULL;
    n4d_sim *sim = NULL;
    n4d_context_options co;
    n4d_context_options_init(&co);
    co.allocator.alloc = t_alloc;
    co.allocator.free = t_free;
    co.allocator.user_data = as;

    /* the context has no handle yet: only the status can tell */
    {
        int inj0 = atomic_load(&as->injected);
        n4d_status st = n4d_context_create(&co, &ctx);
        if (st != N4D_OK) {
            if (st != N4D_E_NOMEM || atomic_load(&as->injected) == inj0)
                fail_msg("k = %llu: n4d_context_create -> %d", as->fail_at, (int)st);
            assert_null(ctx);
            o->failures++;
            if (!sc->retry)
                goto out;
            st = n4d_context_create(&co, &ctx);
            assert_int_equal(st, N4D_OK);
        }
    }
    STEP(n4d_model_create(ctx, &m), ctx);
    const uint32_t shape[4] = {16, 16, 2, 3};
    STEP(n4d_model_set_lattice(m, shape), m);
    STEP(n4d_model_set_seed(m, 4242), m);
    STEP(n4d_model_set_dt(m, 0.5), m);
    STEP(n4d_model_set_build_threads(m, sc->build_threads), m);
    STEP(add_area(m, "V1", 0), m);
    STEP(add_area(m, "V2", 1), m);
    STEP(add_area(m, "Assoc", 2), m);
    STEP(n4d_model_add_sense(m, "vision", "V1", 8, 8), m);

    n4d_population_desc pd;
    pd = pop_desc("E", "V1", N4D_NEURON_LIF_EXP, N4D_PLACE_ALL, 0); /* 512 */
    STEP(n4d_model_add_population(m, &pd, NULL), m);
    pd = pop_desc("I", "V1", N4D_NEURON_LIF_EXP, N4D_PLACE_COUNT, 64);
    STEP(n4d_model_add_population(m, &pd, NULL), m);
    pd = pop_desc("L", "V2", N4D_NEURON_LIF, N4D_PLACE_DENSITY, 0); /* ~256 */
    STEP(n4d_model_add_population(m, &pd, NULL), m);
    pd = pop_desc("Z", "Assoc", N4D_NEURON_IZHIKEVICH, N4D_PLACE_COUNT, 40);
    STEP(n4d_model_add_population(m, &pd, NULL), m);

    n4d_projection_desc pj;
    pj = proj_desc("E", "E", N4D_RULE_FIXED_PROBABILITY);
    pj.allow_autapses = 0;
    STEP(n4d_model_add_projection(m, &pj, NULL), m);
    pj = proj_desc("E", "I", N4D_RULE_FIXED_INDEGREE);
    pj.allow_multapses = 0;
    STEP(n4d_model_add_projection(m, &pj, NULL), m);
    pj = proj_desc("I", "E", N4D_RULE_FIXED_TOTAL_NUMBER);
    pj.n = 5000;
    pj.syn_type = N4D_SYN_INHIBITORY;
    STEP(n4d_model_add_projection(m, &pj, NULL), m);
    pj = proj_desc("E", "E", N4D_RULE_ONE_TO_ONE);
    pj.name = "E self";
    pj.weight = n4d_dist_constant(0.5);
    STEP(n4d_model_add_projection(m, &pj, NULL), m);
    pj = proj_desc("I", "I", N4D_RULE_ALL_TO_ALL);
    pj.allow_autapses = 0;
    pj.syn_type = N4D_SYN_INHIBITORY;
    STEP(n4d_model_add_projection(m, &pj, NULL), m);
    pj = proj_desc("E", "L", N4D_RULE_DISTANCE);
    pj.p = 0.8;
    pj.sigma = 1.5;
    pj.cutoff = 3.0;
    pj.weight = n4d_dist_constant(200.0);
    STEP(n4d_model_add_projection(m, &pj, NULL), m);
    pj = proj_desc("L", "Z", N4D_RULE_DISTANCE);
    pj.kernel = N4D_KERNEL_EXPONENTIAL;
    pj.p = 0.9;
    pj.sigma = 1.0;
    pj.cutoff = 2.5;
    pj.weight = n4d_dist_uniform(5.0, 20.0);
    STEP(n4d_model_add_projection(m, &pj, NULL), m);

    n4d_input_desc in;
    n4d_input_desc_init(&in);
    in.kind = N4D_INPUT_DC;
    in.target = "L";
    in.amplitude = 17.0;
    STEP(n4d_model_add_input(m, &in), m);
    in.target = "E";
    in.amplitude = 30.0;
    STEP(n4d_model_add_input(m, &in), m);
    in.kind = N4D_INPUT_POISSON;
    in.target = "E";
    in.rate = 50.0;
    in.weight = 2.0;
    in.n_sources = 20;
    STEP(n4d_model_add_input(m, &in), m);
    in.target = "Z";
    in.rate = 200.0;
    in.weight = 40.0;
    in.n_sources = 5;
    STEP(n4d_model_add_input(m, &in), m);
    in.target = "E";
    in.weight = -1.0;
    in.start = 10.0;
    in.stop = 30.0;
    STEP(n4d_model_add_input(m, &in), m);

    STEP(n4d_model_build(m), m);
    o->neurons = n4d_model_num_neurons(m);
    o->synapses = n4d_model_num_synapses(m);

    n4d_sim_options so;
    n4d_sim_options_init(&so);
    so.backend = sc->backend;
    so.num_threads = sc->sim_threads;
    so.history_steps = 50;
    STEP(n4d_sim_create(m, &so, &sim), m);

    float img[64];
    for (int i = 0; i < 64; i++)
        img[i] = (float)(i % 5) * 4.0f;
    for (uint64_t target = 10; target <= 100; target += 10) {
        STEP(n4d_sim_feed_sense(sim, "vision", img, 8, 8, 0), sim);
        /* a failed run has still advanced some steps: run the rest */
        while (n4d_sim_current_step(sim) < target)
            STEP(n4d_sim_run(sim, target - n4d_sim_current_step(sim)), sim);
    }
    o->checksum = n4d_sim_checksum(sim);
    o->spikes = n4d_sim_total_spikes(sim);
    {
        float *v = calloc(o->neurons, sizeof *v);
        assert_non_null(v);
        STEP(n4d_sim_get_state(sim, "v", v, o->neurons), sim);
        memcpy(o->v, v, sizeof o->v);
        free(v);
    }
    const uint64_t *rs;
    const uint32_t *ri;
    uint64_t rn;
    STEP(n4d_sim_spikes(sim, &rs, &ri, &rn), sim);
    if (o->failures == 0)
        assert_int_equal(rn, o->spikes);
    o->finished = 1;

out:
    n4d_sim_destroy(sim);
    if (ctx) {
        /* before the model goes: its memory minus the sim's */
        n4d_model_destroy(m);
        n4d_memory_stats ms;
        memset(&ms, 0, sizeof ms);
        ms.struct_size = sizeof ms;
        assert_int_equal(n4d_context_memory(ctx, &ms), N4D_OK);
        if (ms.total_current != 0)
            fail_msg("k = %llu: the context still accounts %llu bytes after destroying all",
                     as->fail_at, (unsigned long long)ms.total_current);
        for (int t = 0; t < N4D_MEM_TAG_COUNT; t++)
            if (ms.current[t] != 0)
                fail_msg("k = %llu: tag %s still accounts %llu bytes", as->fail_at,
                         n4d_mem_tag_name(t), (unsigned long long)ms.current[t]);
    }
    n4d_context_destroy(ctx);
    if (atomic_load(&as->live_blocks) != 0 || atomic_load(&as->live_bytes) != 0)
        fail_msg("k = %llu (%s%s): %lld blocks / %lld bytes leaked", as->fail_at, sc->backend,
                 sc->retry ? ", retry" : "", (long long)atomic_load(&as->live_blocks),
                 (long long)atomic_load(&as->live_bytes));
    if (atomic_load(&as->bad_free))
        fail_msg("k = %llu: %d frees with a size other than the allocation's", as->fail_at,
                 atomic_load(&as->bad_free));
    if (atomic_load(&as->bad_align))
        fail_msg("k = %llu: %d allocations with a bad alignment", as->fail_at,
                 atomic_load(&as->bad_align));
}

/* Baseline, then every k in 1..A in stop mode and in retry mode. */
static void sweep(const scenario *base)
{
    alloc_state *as = calloc(1, sizeof *as);
    assert_non_null(as);
    scenario sc = *base;
    outcome ref, o;

    reset(as, 0);
    sc.retry = false;
    run_scenario(as, &sc, &ref);
    assert_true(ref.finished);
    assert_int_equal(ref.failures, 0);
    const unsigned long long A = atomic_load(&as->calls);
    assert_true(A > 20);
    if (ref.spikes < 2100)
        fail_msg("the scenario spikes only %llu times: recording growth is not exercised",
                 (unsigned long long)ref.spikes);
    if (getenv("N4D_TEST_VERBOSE"))
        print_message("%s x%d, build threads %d: %llu allocations, %llu neurons, %llu synapses, "
                      "%llu spikes\n",
                      sc.backend, (int)sc.sim_threads, (int)sc.build_threads, A,
                      (unsigned long long)ref.neurons, (unsigned long long)ref.synapses,
                      (unsigned long long)ref.spikes);

    /* the same scenario again makes the same allocations */
    reset(as, 0);
    run_scenario(as, &sc, &o);
    assert_int_equal(atomic_load(&as->calls), A);
    assert_true(o.checksum == ref.checksum);

    for (unsigned long long k = 1; k <= A; k++) {
        reset(as, k);
        sc.retry = false;
        run_scenario(as, &sc, &o);
        if (atomic_load(&as->injected) != 1 || o.failures != 1)
            fail_msg("stop mode, k = %llu of %llu: %d failures injected, %d reported", k, A,
                     atomic_load(&as->injected), o.failures);
        assert_false(o.finished);

        reset(as, k);
        sc.retry = true;
        run_scenario(as, &sc, &o);
        if (atomic_load(&as->injected) != 1 || o.failures != 1)
            fail_msg("retry mode, k = %llu of %llu: %d failures injected, %d reported", k, A,
                     atomic_load(&as->injected), o.failures);
        assert_true(o.finished);
        if (o.checksum != ref.checksum || o.spikes != ref.spikes ||
            memcmp(o.v, ref.v, sizeof o.v) != 0 || o.synapses != ref.synapses)
            fail_msg("retry mode, k = %llu of %llu (%s x%d): after a recovered allocation "
                     "failure the simulation differs from the undisturbed one (spikes %llu vs "
                     "%llu, checksum %016llx vs %016llx)",
                     k, A, sc.backend, (int)sc.sim_threads, (unsigned long long)o.spikes,
                     (unsigned long long)ref.spikes, (unsigned long long)o.checksum,
                     (unsigned long long)ref.checksum);
    }
    /* one past the last allocation: no failure at all */
    reset(as, A + 1);
    sc.retry = false;
    run_scenario(as, &sc, &o);
    assert_true(o.finished);
    assert_int_equal(atomic_load(&as->injected), 0);
    free(as);
}

static void test_every_allocation_cpu_ref(void **state)
{
    (void)state;
    const scenario sc = {1, "cpu-ref", 1, false};
    sweep(&sc);
}

static void test_every_allocation_cpu_omp(void **state)
{
    (void)state;
    const scenario sc = {1, "cpu-omp", 2, false};
    sweep(&sc);
}

/* Two build threads: the allocator may be called from several threads; the
 * k-th allocation is then not necessarily the same one, but every failure
 * must still be reported, leak nothing and crash nothing. */
static void test_two_build_threads(void **state)
{
    (void)state;
    const scenario sc = {2, "cpu-omp", 2, false};
    sweep(&sc);
}

/* Errors of calls that do not allocate still leave a message. */
static void test_context_create_arguments(void **state)
{
    (void)state;
    alloc_state *as = calloc(1, sizeof *as);
    assert_non_null(as);
    reset(as, 0);
    n4d_context_options co;
    n4d_context_options_init(&co);
    co.allocator.alloc = t_alloc; /* free missing */
    co.allocator.user_data = as;
    n4d_context *ctx = (n4d_context *)(uintptr_t)1;
    assert_int_equal(n4d_context_create(&co, &ctx), N4D_E_INVALID_ARG);
    assert_null(ctx);
    assert_int_equal(atomic_load(&as->calls), 0);
    free(as);
}

int main(int argc, char **argv)
{
    /* cpu-omp runs 2 threads: with libgomp's default spinning an
     * oversubscribed CI machine wastes whole time slices per barrier.
     * Passive waiting changes no result; libgomp reads it at load time. */
    if (!getenv("OMP_WAIT_POLICY") && setenv("OMP_WAIT_POLICY", "passive", 1) == 0)
        execv("/proc/self/exe", argv);
    if (argc > 1) /* run only the tests matching a pattern, e.g. "test_cuba" */
        cmocka_set_test_filter(argv[1]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_context_create_arguments),
        cmocka_unit_test(test_every_allocation_cpu_ref),
        cmocka_unit_test(test_every_allocation_cpu_omp),
        cmocka_unit_test(test_two_build_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
