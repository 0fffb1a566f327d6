/* The MPI backend (docs/distributed.md), run by ctest under mpirun with 1,
 * 2, 3 and 4 ranks (tests/mpi.cmake). On every rank: the one-process run
 * of a model (cpu-omp, no communicator) and the distributed run (backend
 * "mpi", 1 and 2 threads per rank, in chunks that do not line up with the
 * batches) must give the same spike checksum and count. Models: the
 * example configs cuba, brunel, demo (distance-dependent) and stdp_song
 * (plastic), cuba with spike, step-current, ac and noise inputs
 * (tests/mpi/cuba_inputs.json), and the 4D model of test_models.h (distance projections, DC
 * input) with sense input fed on one rank only, to neurons that other ranks
 * own. Also: each rank stores only the synapses of its own neurons, which
 * add up to the model; and the errors (a communicator after the build, a
 * bad rank, the backend without a communicator, what is not distributed). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "n4d.h"
#include "n4d/mpi.h"
/* (the shared models and helpers: this test uses a few of them) */
#pragma GCC diagnostic ignored "-Wunused-function"
#include "test_models.h"

static n4d_comm g_world;

typedef void (*feed_fn)(n4d_sim *sim, uint64_t step);

typedef struct run_result {
    uint64_t checksum, spikes;
} run_result;

static n4d_model *config_model(n4d_context *ctx, const char *name, const n4d_comm *comm)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s%s", N4D_SOURCE_DIR,
             strchr(name, '/') ? "" : "examples/configs/", name);
    n4d_model *m = NULL;
    ASSERT_OK(n4d_model_from_json_file(ctx, path, &m), ctx);
    if (comm)
        ASSERT_OK(n4d_model_set_comm(m, comm), m);
    ASSERT_OK(n4d_model_build(m), m);
    return m;
}

/* Runs `steps` steps in chunks of 37; before each chunk, feed (when given
 * and this rank is feed_rank, or feed_rank < 0) adds the input. */
static run_result run(n4d_model *m, const char *backend, int threads, uint64_t steps, feed_fn feed,
                      int feed_rank)
{
    n4d_sim_options o;
    n4d_sim_options_init(&o);
    o.backend = backend;
    o.num_threads = threads;
    n4d_sim *sim = NULL;
    ASSERT_OK(n4d_sim_create(m, &o, &sim), m);
    for (uint64_t done = 0; done < steps;) {
        const uint64_t n = steps - done < 37 ? steps - done : 37;
        if (feed && (feed_rank < 0 || feed_rank == g_world.rank))
            feed(sim, done);
        ASSERT_OK(n4d_sim_run(sim, n), sim);
        done += n;
    }
    run_result r = {n4d_sim_checksum(sim), n4d_sim_total_spikes(sim)};
    n4d_sim_destroy(sim);
    return r;
}

/* Every rank's value of x, in rank order (n entries). */
static void gather_u64(uint64_t x, uint64_t *all)
{
    if (g_world.size == 1)
        all[0] = x;
    else
        OK(g_world.allgather(g_world.user, &x, sizeof x, all));
}

/* The distributed model's synapses: this rank's only (fewer than the model's
 * with several ranks), and together the model's. */
static void check_split(const n4d_model *dm, const n4d_model *ref)
{
    n4d_dist_info di = {.struct_size = sizeof di};
    ASSERT_OK(n4d_model_dist_info(dm, &di), dm);
    assert_int_equal(di.rank, g_world.rank);
    assert_int_equal(di.size, g_world.size);
    assert_int_equal(di.total_synapses, n4d_model_num_synapses(ref));
    assert_int_equal(n4d_model_num_synapses(dm), n4d_model_num_synapses(ref));
    uint64_t all[4], neurons[4];
    gather_u64(di.local_synapses, all);
    gather_u64(di.num_neurons, neurons);
    uint64_t sum = 0, nsum = 0;
    for (int r = 0; r < g_world.size; r++) {
        sum += all[r];
        nsum += neurons[r];
        CHECK(neurons[r] > 0, "rank %d owns no neuron", r);
    }
    assert_int_equal(sum, n4d_model_num_synapses(ref));
    assert_int_equal(nsum, n4d_model_num_neurons(ref));
    /* (stdp_song's synapses all end on one neuron: one rank holds them) */
    uint64_t most = 0;
    for (int r = 0; r < g_world.size; r++)
        most = all[r] > most ? all[r] : most;
    if (g_world.size > 1 && n4d_model_num_neurons(ref) > 100 && n4d_model_num_synapses(ref) > 10000)
        CHECK(most < di.total_synapses, "one rank holds all %llu synapses",
              (unsigned long long)di.total_synapses);
}

typedef n4d_model *(*maker_fn)(n4d_context *ctx, const n4d_comm *comm);

/* The one-process run against the distributed ones (1 and 2 threads). */
static void check_same(const char *name, maker_fn make, uint64_t steps, feed_fn feed, int feed_rank,
                       uint64_t min_spikes)
{
    n4d_context *ctx = NULL;
    OK(n4d_context_create(NULL, &ctx));
    n4d_model *ref = make(ctx, NULL);
    const run_result want = run(ref, "cpu-omp", 1, steps, feed, -1);
    CHECK(want.spikes >= min_spikes, "%s: only %llu spikes", name, (unsigned long long)want.spikes);
    n4d_model *dm = make(ctx, &g_world);
    check_split(dm, ref);
    for (int threads = 1; threads <= 2; threads++) {
        const run_result got = run(dm, "mpi", threads, steps, feed, feed_rank);
        CHECK(got.checksum == want.checksum && got.spikes == want.spikes,
              "%s, %d ranks x %d threads (input on rank %d): checksum %016llx, %llu spikes; one "
              "process %016llx, %llu spikes",
              name, g_world.size, threads, feed_rank, (unsigned long long)got.checksum,
              (unsigned long long)got.spikes, (unsigned long long)want.checksum,
              (unsigned long long)want.spikes);
    }
    n4d_model_destroy(dm);
    n4d_model_destroy(ref);
    n4d_context_destroy(ctx);
}

static n4d_model *make_cuba(n4d_context *c, const n4d_comm *k) { return config_model(c, "cuba.json", k); }
static n4d_model *make_brunel(n4d_context *c, const n4d_comm *k) { return config_model(c, "brunel.json", k); }
static n4d_model *make_demo(n4d_context *c, const n4d_comm *k) { return config_model(c, "demo.json", k); }
static n4d_model *make_stdp(n4d_context *c, const n4d_comm *k) { return config_model(c, "stdp_song.json", k); }
/* cuba with spike, step-current, ac and noise inputs (config inputs) */
static n4d_model *make_inputs(n4d_context *c, const n4d_comm *k)
{
    return config_model(c, "tests/mpi/cuba_inputs.json", k);
}
static n4d_model *make_4d(n4d_context *c, const n4d_comm *k)
{
    g_comm = k;
    n4d_model *m = model_4d(c, 777);
    g_comm = NULL;
    return m;
}
static n4d_model *make_poisson(n4d_context *c, const n4d_comm *k)
{
    g_comm = k;
    n4d_model *m = model_multi_poisson(c, 31);
    g_comm = NULL;
    return m;
}

/* The retina (over area V1, whose neurons every rank owns part of: the
 * bisection cuts along x) every 74 steps, and one neuron's input. */
static void feed_retina(n4d_sim *sim, uint64_t step)
{
    if (step % 74)
        return;
    float img[8 * 8];
    for (int i = 0; i < 64; i++)
        img[i] = (float)((i + (int)step) % 7) * 6.0f;
    OK(n4d_sim_feed_sense(sim, "retina", img, 8, 8, 0));
    OK(n4d_sim_feed_sense(sim, "retina", img, 8, 8, 2));
    OK(n4d_sim_add_input(sim, 250, 40.0f));
}

static void test_cuba(void **state)
{
    (void)state;
    check_same("cuba", make_cuba, 500, NULL, -1, 500);
}

static void test_brunel(void **state)
{
    (void)state;
    check_same("brunel", make_brunel, 300, NULL, -1, 100);
}

static void test_demo(void **state)
{
    (void)state;
    check_same("demo", make_demo, 300, NULL, -1, 100);
}

static void test_stdp(void **state)
{
    (void)state;
    check_same("stdp_song", make_stdp, 300, NULL, -1, 50);
}

static void test_inputs(void **state)
{
    (void)state;
    check_same("cuba_inputs", make_inputs, 500, NULL, -1, 500);
}

static void test_poisson(void **state)
{
    (void)state;
    check_same("multi_poisson", make_poisson, 300, NULL, -1, 100);
}

/* Input fed on rank 0 only, then on the last rank only: it reaches the
 * neurons other ranks own, as in one process. */
static void test_sense_one_rank(void **state)
{
    (void)state;
    /* (the input changes the spike trains: the test can fail) */
    n4d_context *ctx = NULL;
    OK(n4d_context_create(NULL, &ctx));
    n4d_model *m = make_4d(ctx, NULL);
    const run_result fed = run(m, "cpu-omp", 1, 400, feed_retina, -1),
                     unfed = run(m, "cpu-omp", 1, 400, NULL, -1);
    assert_true(fed.checksum != unfed.checksum);
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
    check_same("4d + retina on rank 0", make_4d, 400, feed_retina, 0, 100);
    check_same("4d + retina on the last rank", make_4d, 400, feed_retina, g_world.size - 1, 100);
}

static void test_errors(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    OK(n4d_context_create(NULL, &ctx));
    /* a communicator after the build; bad ranks */
    n4d_model *m = make_cuba(ctx, NULL);
    ASSERT_ERR_MSG(n4d_model_set_comm(m, &g_world), N4D_E_STATE, m, "already built");
    /* the backend without a communicator */
    n4d_sim_options o;
    n4d_sim_options_init(&o);
    o.backend = "mpi";
    n4d_sim *sim = NULL;
    ASSERT_ERR_MSG(n4d_sim_create(m, &o, &sim), N4D_E_UNSUPPORTED, m, "without a communicator");
    assert_null(sim);
    n4d_model_destroy(m);
    OK(n4d_model_create(ctx, &m));
    n4d_comm bad = g_world;
    bad.rank = bad.size;
    ASSERT_ERR_MSG(n4d_model_set_comm(m, &bad), N4D_E_INVALID_ARG, m, "rank");
    bad = g_world;
    bad.size = 2;
    bad.rank = 0;
    bad.allgatherv = NULL;
    ASSERT_ERR_MSG(n4d_model_set_comm(m, &bad), N4D_E_INVALID_ARG, m, "allgatherv");
    ASSERT_ERR_MSG(n4d_model_set_comm(m, NULL), N4D_E_INVALID_ARG, m, "NULL");
    n4d_model_destroy(m);
    /* what is not distributed yet is refused by name */
    m = config_model(ctx, "4dnc_style.json", &g_world);
    ASSERT_ERR_MSG(n4d_sim_create(m, &o, &sim), N4D_E_UNSUPPORTED, m, "lifecycle");
    n4d_model_destroy(m);
    if (g_world.size > 1 && n4d_has_feature(N4D_FEATURE_HDF5)) {
        m = make_cuba(ctx, &g_world);
        ASSERT_OK(n4d_sim_create(m, &o, &sim), m);
        ASSERT_OK(n4d_sim_run(sim, 10), sim);
        ASSERT_ERR_MSG(n4d_sim_checkpoint(sim, "never-written.h5", NULL), N4D_E_UNSUPPORTED, sim,
                       "distributed");
        ASSERT_ERR_MSG(n4d_model_save(m, "never-written.h5", NULL), N4D_E_UNSUPPORTED, m,
                       "distributed");
        n4d_sim_destroy(sim);
        n4d_model_destroy(m);
    }
    n4d_context_destroy(ctx);
}

int main(int argc, char **argv)
{
    int provided = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    if (n4d_mpi_comm_init(&g_world, MPI_COMM_WORLD) != N4D_OK) {
        fprintf(stderr, "test_mpi: no communicator\n");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    if (g_world.size > 4) {
        fprintf(stderr, "test_mpi: at most 4 ranks\n");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cuba),   cmocka_unit_test(test_brunel),
        cmocka_unit_test(test_demo),   cmocka_unit_test(test_stdp),
        cmocka_unit_test(test_poisson), cmocka_unit_test(test_inputs),
        cmocka_unit_test(test_sense_one_rank),
        cmocka_unit_test(test_errors),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    n4d_mpi_comm_free(&g_world);
    MPI_Finalize();
    return failed ? 1 : 0;
}
