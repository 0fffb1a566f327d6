/* The delay ring's int32 sums and their exact overflow path (src/core/ring.h):
 * 64 sources spike in the same step onto targets with the largest weight of
 * the model, so each target's sum is 64 times a weight that maps near 2^26
 * in fixed point, far beyond int32. The targets' synaptic currents must be
 * bitwise those of a model with 32 sources of twice the weight (the same
 * total, whose sum fits int32), on cpu-ref and on cpu-omp with 1 and 2
 * threads, for both channels, and across a checkpoint taken while the
 * spilled sums wait in the ring. A Poisson input of 100 events per step at
 * the model's largest weight overflows int32 on its own: cpu-omp (which
 * adds the counts into the ring) must match cpu-ref (which sums them in
 * int64) bit for bit. The plastic delivery spills the same way (stdp).
 * When the spill list cannot grow, the run fails with
 * N4D_E_NOMEM and says so, and every later run does too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "n4d.h"
#include "test_util.h"

#define DT 0.1
#define DELAY_MS 0.5     /* 5 steps in flight: the checkpoint falls in between */
#define KICK 1.0e5f      /* external input that makes a resting lif neuron spike */
#define TARGETS 8
#define STEPS 12

/* When set, both projections are plastic (stdp with Wmax 1e4: the
 * sources spike once and the targets never, so no weight changes), and the
 * spikes go through the plastic delivery. */
static int g_plastic;

/* sources lif (no refractoriness) on sites 0 .. n_src - 1, TARGETS lif_exp
 * targets with an unreachable threshold on the next sites; every source
 * connects to every target with weight +w (excitatory targets) or -w (the
 * same targets again through the inhibitory channel when inhibit). */
static n4d_model *build(n4d_context *ctx, uint32_t n_src, double w)
{
    n4d_model *m = NULL;
    assert_int_equal(n4d_model_create(ctx, &m), N4D_OK);
    ASSERT_OK(n4d_model_set_dt(m, DT), m);
    const uint32_t shape[4] = {n_src + TARGETS, 1, 1, 1};
    ASSERT_OK(n4d_model_set_lattice(m, shape), m);
    const int32_t lo[4] = {0, 0, 0, 0}, src_hi[4] = {(int32_t)n_src - 1, 0, 0, 0};
    const int32_t tlo[4] = {(int32_t)n_src, 0, 0, 0},
                  thi[4] = {(int32_t)(n_src + TARGETS - 1), 0, 0, 0};
    ASSERT_OK(n4d_model_add_area(m, "src", lo, src_hi), m);
    ASSERT_OK(n4d_model_add_area(m, "tgt", tlo, thi), m);
    n4d_population_desc d;
    n4d_population_desc_init(&d);
    d.name = "src";
    d.area = "src";
    d.model = N4D_NEURON_LIF;
    d.placement = N4D_PLACE_ALL;
    static const n4d_param_value no_ref[] = {{"t_ref", 0.0}};
    d.params = no_ref;
    d.n_params = 1;
    ASSERT_OK(n4d_model_add_population(m, &d, NULL), m);
    n4d_population_desc_init(&d);
    d.name = "tgt";
    d.area = "tgt";
    d.model = N4D_NEURON_LIF_EXP;
    d.placement = N4D_PLACE_ALL;
    static const n4d_param_value silent[] = {{"v_threshold", 1e30}};
    d.params = silent;
    d.n_params = 1;
    ASSERT_OK(n4d_model_add_population(m, &d, NULL), m);
    for (int ch = 0; ch < 2; ch++) {
        n4d_projection_desc p;
        n4d_projection_desc_init(&p);
        p.source = "src";
        p.target = "tgt";
        p.name = ch ? "inh" : "exc";
        p.rule = N4D_RULE_ALL_TO_ALL;
        p.weight = n4d_dist_constant(w);
        p.delay = n4d_dist_constant(DELAY_MS);
        p.syn_type = ch ? N4D_SYN_INHIBITORY : N4D_SYN_EXCITATORY;
        static const n4d_param_value stdp[] = {{"Wmax", 1.0e4}};
        if (g_plastic) {
            p.synapse_model = "stdp";
            p.synapse_params = stdp;
            p.n_synapse_params = 1;
        }
        ASSERT_OK(n4d_model_add_projection(m, &p, NULL), m);
    }
    ASSERT_OK(n4d_model_build(m), m);
    return m;
}

/* Every source spikes in step 0. */
static void kick_sources(n4d_sim *sim, uint32_t n_src)
{
    for (uint32_t i = 0; i < n_src; i++)
        ASSERT_OK(n4d_sim_add_input(sim, i, KICK), sim);
}

/* ge and gi of the targets after the run (out: 2 * TARGETS floats). */
static void currents(n4d_sim *sim, uint32_t n_src, float *out)
{
    const uint64_t n = n_src + TARGETS;
    float *s = calloc(n, sizeof *s);
    assert_non_null(s);
    ASSERT_OK(n4d_sim_get_state(sim, "ge", s, n), sim);
    memcpy(out, s + n_src, TARGETS * sizeof *out);
    ASSERT_OK(n4d_sim_get_state(sim, "gi", s, n), sim);
    memcpy(out + TARGETS, s + n_src, TARGETS * sizeof *out);
    free(s);
}

/* The targets' currents after STEPS steps of n_src sources of weight w. */
static void run_model(const char *backend, int threads, uint32_t n_src, double w, float *out)
{
    n4d_context *ctx = NULL;
    assert_int_equal(n4d_context_create(NULL, &ctx), N4D_OK);
    n4d_model *m = build(ctx, n_src, w);
    n4d_sim *sim = sim_on(m, backend, threads);
    kick_sources(sim, n_src);
    ASSERT_OK(n4d_sim_run(sim, STEPS), sim);
    currents(sim, n_src, out);
    n4d_sim_destroy(sim);
    n4d_model_destroy(m);
    assert_int_equal(mem_current(ctx), 0);
    n4d_context_destroy(ctx);
}

static void assert_same(const float *got, const float *want, const char *what)
{
    for (int k = 0; k < 2 * TARGETS; k++)
        ASSERT_FLOAT_BITS(got[k], want[k], what, k);
}

/* 64 sources of weight w must leave `want` on cpu-ref and on cpu-omp with 1
 * and 2 threads. */
static void assert_64_sources(double w, const float *want, const char *label)
{
    static const struct {
        const char *backend;
        int threads;
    } on[] = {{"cpu-ref", 1}, {"cpu-omp", 1}, {"cpu-omp", 2}};
    for (size_t k = 0; k < sizeof on / sizeof on[0]; k++) {
        float got[2 * TARGETS];
        char what[96];
        run_model(on[k].backend, on[k].threads, 64, w, got);
        snprintf(what, sizeof what, "%s%s %d thread(s), 64 sources", label, on[k].backend,
                 on[k].threads);
        assert_same(got, want, what);
    }
}

/* The reference: 32 sources of 2000 mV (sum 64000 fits int32 at the
 * model's scale); then 64 of 1000 (the same sum, beyond int32). */
static void test_spill_exact(void **state)
{
    (void)state;
    float want[2 * TARGETS];
    run_model("cpu-ref", 1, 32, 2000.0, want);
    /* the sums arrived: +/-64000 decayed for a few steps, not zero */
    assert_true(want[0] > 1000.0f);
    assert_true(want[TARGETS] < -1000.0f);
    assert_64_sources(1000.0, want, "");
}

/* The same through the plastic delivery (stdp, Wmax = the weight, so that
 * the fixed-point scale is the static model's): 64 sources of the largest
 * weight must leave what the static model leaves. */
static void test_spill_plastic(void **state)
{
    (void)state;
    float want[2 * TARGETS];
    run_model("cpu-ref", 1, 64, 1.0e4, want);
    assert_true(want[0] > 1000.0f);
    g_plastic = 1;
    assert_64_sources(1.0e4, want, "plastic, ");
}

/* (also after a failure: the other tests build static models) */
static int static_again(void **state)
{
    (void)state;
    g_plastic = 0;
    return 0;
}

/* A checkpoint taken while the spilled sums are in flight resumes them. */
static void test_spill_checkpoint(void **state)
{
    (void)state;
    float want[2 * TARGETS], got[2 * TARGETS];
    run_model("cpu-ref", 1, 32, 2000.0, want); /* the sums without spills */
    char path[] = "/tmp/n4d_test_ring_XXXXXX";
    const int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    n4d_context *ctx = NULL;
    assert_int_equal(n4d_context_create(NULL, &ctx), N4D_OK);
    n4d_model *m = build(ctx, 64, 1000.0);
    n4d_sim *sim = sim_on(m, "cpu-omp", 2);
    kick_sources(sim, 64);
    ASSERT_OK(n4d_sim_run(sim, 3), sim); /* delivered at step 0, arriving at step 5 */
    ASSERT_OK(n4d_sim_checkpoint(sim, path, NULL), sim);
    n4d_sim_destroy(sim);
    n4d_model_destroy(m);
    for (int threads = 1; threads <= 2; threads++) {
        n4d_resume_options ro;
        n4d_resume_options_init(&ro);
        ro.num_threads = threads;
        n4d_model *rm = NULL;
        n4d_sim *rs = NULL;
        ASSERT_OK(n4d_sim_resume(ctx, path, &ro, &rm, &rs), ctx);
        ASSERT_OK(n4d_sim_run(rs, STEPS - 3), rs);
        currents(rs, 64, got);
        assert_same(got, want, "resumed");
        n4d_sim_destroy(rs);
        n4d_model_destroy(rm);
    }
    /* and on the reference backend */
    n4d_resume_options ro;
    n4d_resume_options_init(&ro);
    ro.backend = "cpu-ref";
    n4d_model *rm = NULL;
    n4d_sim *rs = NULL;
    ASSERT_OK(n4d_sim_resume(ctx, path, &ro, &rm, &rs), ctx);
    ASSERT_OK(n4d_sim_run(rs, STEPS - 3), rs);
    currents(rs, 64, got);
    assert_same(got, want, "resumed on cpu-ref");
    n4d_sim_destroy(rs);
    n4d_model_destroy(rm);
    assert_int_equal(mem_current(ctx), 0);
    n4d_context_destroy(ctx);
    unlink(path);
}

/* 2,000 lif_exp neurons (threshold out of reach), one Poisson input of 100
 * events per step (1000 Hz x 1000 sources x 0.1 ms) of weight 3 mV. */
static const char POISSON[] =
    "{\"dt\": 0.1, \"seed\": 5, \"lattice_shape\": [2000, 1, 1, 1],\n"
    " \"areas\": [{\"name\": \"a\", \"coord_ranges\": {\"x\": [0, 1999], \"y\": [0, 0], "
    "\"z\": [0, 0], \"w\": [0, 0]}}],\n"
    " \"populations\": [{\"name\": \"p\", \"area\": \"a\", \"model\": \"lif_exp\",\n"
    "   \"params\": {\"v_threshold\": 1e30}}],\n"
    " \"projections\": [],\n"
    " \"inputs\": [{\"type\": \"poisson\", \"target\": \"p\", \"rate\": 1000, \"n_sources\": 1000,\n"
    "   \"weight\": 3.0}]}\n";

static void poisson_ge(const char *backend, int32_t threads, float *out)
{
    n4d_context *ctx = NULL;
    assert_int_equal(n4d_context_create(NULL, &ctx), N4D_OK);
    n4d_model *m = NULL;
    ASSERT_OK(n4d_model_from_json_string(ctx, POISSON, strlen(POISSON), "poisson", &m), ctx);
    ASSERT_OK(n4d_model_build(m), m);
    n4d_sim *sim = sim_on(m, backend, threads);
    ASSERT_OK(n4d_sim_run(sim, 20), sim);
    ASSERT_OK(n4d_sim_get_state(sim, "ge", out, 2000), sim);
    n4d_sim_destroy(sim);
    n4d_model_destroy(m);
    assert_int_equal(mem_current(ctx), 0);
    n4d_context_destroy(ctx);
}

static void test_poisson_spill(void **state)
{
    (void)state;
    static float want[2000], got[2000];
    poisson_ge("cpu-ref", 1, want);
    /* about 100 events of 3 mV per step arrived */
    CHECK(want[0] > 150.0f, "ge %g: the input did not arrive", (double)want[0]);
    poisson_ge("cpu-omp", 1, got);
    for (int k = 0; k < 2000; k++)
        ASSERT_FLOAT_BITS(got[k], want[k], "cpu-omp 1 thread", k);
    poisson_ge("cpu-omp", 2, got);
    for (int k = 0; k < 2000; k++)
        ASSERT_FLOAT_BITS(got[k], want[k], "cpu-omp 2 threads", k);
}

/* An allocator that, once armed, refuses blocks of the size of a spill
 * list's first growth (8 entries of 16 bytes) and serves everything else. */
static _Atomic int refuse_spills;

static void *spill_refusing_alloc(void *ud, size_t size, size_t align)
{
    (void)ud;
    if (atomic_load(&refuse_spills) && size == 128)
        return NULL;
    void *p = NULL;
    return posix_memalign(&p, align < sizeof(void *) ? sizeof(void *) : align, size ? size : 1)
               ? NULL
               : p;
}

static void plain_free(void *ud, void *p, size_t size)
{
    (void)ud;
    (void)size;
    free(p);
}

static void test_spill_out_of_memory(void **state)
{
    (void)state;
    n4d_context_options co;
    n4d_context_options_init(&co);
    co.allocator.alloc = spill_refusing_alloc;
    co.allocator.free = plain_free;
    n4d_context *ctx = NULL;
    assert_int_equal(n4d_context_create(&co, &ctx), N4D_OK);
    n4d_model *m = build(ctx, 64, 1000.0);
    n4d_sim *sim = sim_on(m, "cpu-omp", 2);
    kick_sources(sim, 64);
    atomic_store(&refuse_spills, 1);
    ASSERT_ERR_MSG(n4d_sim_run(sim, STEPS), N4D_E_NOMEM, sim, "delay ring's overflow list");
    ASSERT_ERR_MSG(n4d_sim_run(sim, 1), N4D_E_NOMEM, sim, "no longer exact");
    atomic_store(&refuse_spills, 0);
    n4d_sim_destroy(sim);
    n4d_model_destroy(m);
    assert_int_equal(mem_current(ctx), 0);
    n4d_context_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spill_exact),
        cmocka_unit_test_teardown(test_spill_plastic, static_again),
        cmocka_unit_test(test_spill_checkpoint),
        cmocka_unit_test(test_poisson_spill),
        cmocka_unit_test(test_spill_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
