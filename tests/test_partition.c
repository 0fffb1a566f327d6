/* Spatial partitioning (include/n4d/partition.h): recursive coordinate
 * bisection of built models into n boxes for awkward n (1, 2, 3, 7, primes,
 * n = neurons) on odd lattice shapes, sparse (density) placements and
 * several populations. Checks: every neuron in exactly one box, inside its
 * ranges, boxes tight and never empty; counts and statistics consistent;
 * neuron balance within 3 neurons; neuron+synapse balance within a few
 * neuron weights; the layout's partitions equal the module's boxes for the
 * same n and balance (with lattice and Z-order storage); errors (n = 0,
 * n > neurons, model not built, NULLs); allocation failures leak nothing. */
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

/* ---- models ------------------------------------------------------------------ */

typedef enum { M_FULL, M_SPARSE, M_TWO_POPS } model_kind;

/* A built (or not) model on `shape`: M_FULL one population on every site
 * with distance-dependent connections; M_SPARSE a density-0.37 placement
 * with fixed-probability connections; M_TWO_POPS two populations on
 * overlapping areas. Layout from `layout` (may be NULL). */
static n4d_model *make_model(n4d_context *ctx, model_kind kind, const uint32_t shape[4],
                             const n4d_layout_options *layout, int build)
{
    n4d_model *m = NULL;
    OK(n4d_model_create(ctx, &m));
    OK(n4d_model_set_lattice(m, shape));
    OK(n4d_model_set_seed(m, 12345));
    OK(n4d_model_set_build_threads(m, 2));
    if (layout)
        OK(n4d_model_set_layout(m, layout));
    const int32_t lo[4] = {0, 0, 0, 0};
    const int32_t hi[4] = {(int32_t)shape[0] - 1, (int32_t)shape[1] - 1, (int32_t)shape[2] - 1,
                           (int32_t)shape[3] - 1};
    OK(n4d_model_add_area(m, "all", lo, hi));
    n4d_population_desc pd;
    n4d_population_desc_init(&pd);
    pd.name = "a";
    pd.area = "all";
    pd.model = N4D_NEURON_LIF_EXP;
    if (kind == M_SPARSE) {
        pd.placement = N4D_PLACE_DENSITY;
        pd.density = 0.37;
    }
    OK(n4d_model_add_population(m, &pd, NULL));
    n4d_projection_desc pj;
    n4d_projection_desc_init(&pj);
    pj.source = "a";
    pj.target = "a";
    pj.weight = n4d_dist_uniform(0.1, 0.5);
    pj.delay = n4d_dist_constant(1.0);
    if (kind == M_SPARSE) {
        pj.rule = N4D_RULE_FIXED_PROBABILITY;
        pj.p = 0.05;
    } else {
        pj.rule = N4D_RULE_DISTANCE;
        pj.p = 0.6;
        pj.kernel = N4D_KERNEL_GAUSSIAN;
        pj.sigma = 1.2;
        pj.cutoff = 2.5;
    }
    OK(n4d_model_add_projection(m, &pj, NULL));
    if (kind == M_TWO_POPS) {
        const int32_t x0 = shape[0] > 1 ? 1 : 0;
        const int32_t lo2[4] = {x0, 0, 0, 0};
        const int32_t hi2[4] = {(int32_t)shape[0] - 1, (int32_t)shape[1] - 1, 0,
                                (int32_t)shape[3] - 1};
        OK(n4d_model_add_area(m, "slab", lo2, hi2));
        pd.name = "b";
        pd.area = "slab";
        pd.placement = N4D_PLACE_COUNT;
        pd.count = ((uint64_t)(shape[0] - (uint32_t)x0) * shape[1] * shape[3] + 1) / 2;
        OK(n4d_model_add_population(m, &pd, NULL));
        pj.source = "b";
        pj.target = "a";
        pj.rule = N4D_RULE_FIXED_INDEGREE;
        pj.n = 3;
        OK(n4d_model_add_projection(m, &pj, NULL));
    }
    if (build)
        OK(n4d_model_build(m));
    return m;
}

/* ---- checks ------------------------------------------------------------------- */

static uint64_t out_degree(const n4d_model *m, uint64_t id)
{
    uint64_t d = 0;
    OK(n4d_model_out_degree(m, id, &d));
    return d;
}

static void check_stats(const n4d_balance_stats *s, const double *x, uint32_t n)
{
    double sum = 0, lo = INFINITY, hi = -INFINITY;
    for (uint32_t i = 0; i < n; i++) {
        sum += x[i];
        lo = x[i] < lo ? x[i] : lo;
        hi = x[i] > hi ? x[i] : hi;
    }
    double mean = sum / n, var = 0;
    for (uint32_t i = 0; i < n; i++)
        var += (x[i] - mean) * (x[i] - mean);
    assert_true(fabs(s->mean - mean) <= 1e-9 * (1 + mean));
    assert_true(fabs(s->std - sqrt(var / n)) <= 1e-9 * (1 + mean));
    assert_true(s->min == lo && s->max == hi);
    assert_true(fabs(s->imbalance - (mean > 0 ? (hi - lo) / mean : 0)) <= 1e-12);
}

/* Coverage, tightness, counts, statistics and balance of a result of n
 * boxes. Returns nothing; fails the test on any violation. */
static void check_result(const n4d_model *m, const n4d_partition_result *r, uint32_t n)
{
    const uint64_t N = n4d_model_num_neurons(m);
    assert_int_equal(r->num_partitions, n);
    assert_int_equal(r->num_neurons, N);
    assert_non_null(r->partitions);
    assert_non_null(r->partition_of);
    unsigned char *seen = calloc(N ? N : 1, 1);
    double *neu = calloc(n, sizeof *neu), *syn = calloc(n, sizeof *syn), *wt = calloc(n, sizeof *wt);
    assert_true(seen && neu && syn && wt);
    uint64_t total_neurons = 0, total_syn = 0, maxw = 1;
    for (uint32_t k = 0; k < n; k++) {
        const n4d_partition *p = &r->partitions[k];
        assert_true(p->num_neurons >= 1); /* never empty */
        int32_t blo[4] = {INT32_MAX, INT32_MAX, INT32_MAX, INT32_MAX};
        int32_t bhi[4] = {INT32_MIN, INT32_MIN, INT32_MIN, INT32_MIN};
        uint64_t syn_k = 0, w_k = 0;
        for (uint64_t i = 0; i < p->num_neurons; i++) {
            uint32_t id = p->neurons[i];
            assert_true(id < N);
            if (i > 0)
                assert_true(p->neurons[i - 1] < id); /* ascending */
            assert_int_equal(seen[id], 0);           /* in exactly one box */
            seen[id] = 1;
            assert_int_equal(r->partition_of[id], k);
            int32_t pos[4];
            OK(n4d_model_neuron_position(m, id, pos));
            for (int a = 0; a < 4; a++) {
                assert_true(pos[a] >= p->lo[a] && pos[a] <= p->hi[a]); /* inside its ranges */
                blo[a] = pos[a] < blo[a] ? pos[a] : blo[a];
                bhi[a] = pos[a] > bhi[a] ? pos[a] : bhi[a];
            }
            uint64_t d = out_degree(m, id);
            syn_k += d;
            w_k += 1 + d;
            maxw = 1 + d > maxw ? 1 + d : maxw;
        }
        for (int a = 0; a < 4; a++) /* the ranges are the box of its neurons */
            assert_true(blo[a] == p->lo[a] && bhi[a] == p->hi[a]);
        assert_int_equal(p->num_synapses, syn_k);
        total_neurons += p->num_neurons;
        total_syn += syn_k;
        neu[k] = (double)p->num_neurons;
        syn[k] = (double)syn_k;
        wt[k] = (double)w_k;
    }
    assert_int_equal(total_neurons, N);
    assert_int_equal(total_syn, n4d_model_num_synapses(m));
    for (uint64_t id = 0; id < N; id++)
        assert_int_equal(seen[id], 1);
    check_stats(&r->neurons, neu, n);
    check_stats(&r->synapses, syn, n);
    if (!r->balance_synapses) {
        /* rounding at each cut moves a box by less than 2 neurons from N/n */
        if (r->neurons.max - r->neurons.min > 3)
            fail_msg("n = %u: %g to %g neurons per box", n, r->neurons.min, r->neurons.max);
    } else {
        double lo = INFINITY, hi = 0;
        for (uint32_t k = 0; k < n; k++) {
            lo = wt[k] < lo ? wt[k] : lo;
            hi = wt[k] > hi ? wt[k] : hi;
        }
        if (hi - lo > 4.0 * (double)maxw)
            fail_msg("n = %u: weights %g to %g (largest neuron weight %llu)", n, lo, hi,
                     (unsigned long long)maxw);
    }
    free(seen);
    free(neu);
    free(syn);
    free(wt);
}

static void compute_and_check(n4d_model *m, uint32_t n, int balance_synapses)
{
    n4d_partition_options po;
    n4d_partition_options_init(&po);
    po.balance_synapses = balance_synapses;
    n4d_partition_result *r = NULL;
    n4d_status st = n4d_partition_compute(m, n, &po, &r);
    if (st)
        fail_msg("compute n = %u -> %d: %s", n, (int)st, n4d_last_error(m));
    assert_int_equal(r->balance_synapses, balance_synapses);
    check_result(m, r, n);
    n4d_partition_result_destroy(r);
}

/* ---- tests -------------------------------------------------------------------- */

static void test_awkward_n_odd_shapes(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    OK(n4d_context_create(NULL, &ctx));
    const uint32_t shapes[][4] = {{5, 3, 7, 2}, {1, 1, 1, 13}, {9, 4, 3, 5}, {2, 11, 1, 3}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (model_kind kind = M_FULL; kind <= M_TWO_POPS; kind++) {
            n4d_model *m = make_model(ctx, kind, shapes[s], NULL, 1);
            const uint32_t N = (uint32_t)n4d_model_num_neurons(m);
            assert_true(N >= 1);
            const uint32_t ns[] = {1, 2, 3, 5, 7, 11, 13, 17, 31, 97, N / 2 + 1, N - 1, N};
            for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
                if (ns[i] > N)
                    continue;
                compute_and_check(m, ns[i], 0);
                compute_and_check(m, ns[i], 1);
            }
            n4d_model_destroy(m);
        }
    n4d_context_destroy(ctx);
}

static void test_n_equals_neurons_is_one_each(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    OK(n4d_context_create(NULL, &ctx));
    const uint32_t shape[4] = {3, 5, 2, 3};
    n4d_model *m = make_model(ctx, M_FULL, shape, NULL, 1);
    const uint32_t N = (uint32_t)n4d_model_num_neurons(m);
    n4d_partition_result *r = NULL;
    OK(n4d_partition_compute(m, N, NULL, &r));
    for (uint32_t k = 0; k < N; k++) {
        const n4d_partition *p = &r->partitions[k];
        assert_int_equal(p->num_neurons, 1);
        for (int a = 0; a < 4; a++) /* a box of one site */
            assert_int_equal(p->lo[a], p->hi[a]);
    }
    assert_true(r->neurons.std == 0 && r->neurons.imbalance == 0 && r->neurons.mean == 1);
    n4d_partition_result_destroy(r);
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
}

/* Cuts along the widest axis: two boxes of an 8x2x2x2 lattice split x in half. */
static void test_cut_along_widest_axis(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    OK(n4d_context_create(NULL, &ctx));
    const uint32_t shape[4] = {2, 2, 8, 2};
    n4d_model *m = make_model(ctx, M_FULL, shape, NULL, 1);
    n4d_partition_result *r = NULL;
    OK(n4d_partition_compute(m, 2, NULL, &r));
    assert_int_equal(r->partitions[0].lo[2], 0);
    assert_int_equal(r->partitions[0].hi[2], 3);
    assert_int_equal(r->partitions[1].lo[2], 4);
    assert_int_equal(r->partitions[1].hi[2], 7);
    for (int a = 0; a < 4; a++)
        if (a != 2)
            assert_true(r->partitions[0].lo[a] == 0 && r->partitions[0].hi[a] == 1);
    assert_true(r->neurons.imbalance == 0);
    n4d_partition_result_destroy(r);
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
}

/* The layout's partitions are the module's boxes for the same n and balance. */
static void test_layout_partitions_match(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    OK(n4d_context_create(NULL, &ctx));
    const uint32_t shape[4] = {7, 5, 3, 4};
    for (int order = N4D_ORDER_LATTICE; order <= N4D_ORDER_ZORDER; order++)
        for (int bal = 0; bal <= 1; bal++)
            for (model_kind kind = M_FULL; kind <= M_TWO_POPS; kind++) {
                n4d_layout_options lo;
                n4d_layout_options_init(&lo);
                lo.order = order;
                lo.partitions = 7;
                lo.balance_synapses = bal;
                n4d_model *m = make_model(ctx, kind, shape, &lo, 1);
                n4d_partition_result *a = NULL, *b = NULL;
                OK(n4d_partition_layout(m, &a));
                n4d_partition_options po;
                n4d_partition_options_init(&po);
                po.balance_synapses = bal;
                OK(n4d_partition_compute(m, 7, &po, &b));
                check_result(m, a, 7);
                assert_int_equal(a->balance_synapses, bal);
                assert_memory_equal(a->partition_of, b->partition_of,
                                    n4d_model_num_neurons(m) * sizeof(uint32_t));
                n4d_partition_result_destroy(a);
                n4d_partition_result_destroy(b);
                /* cpu-omp with 7 threads runs one partition per thread */
                n4d_sim_options so;
                n4d_sim_options_init(&so);
                so.backend = "cpu-omp";
                so.num_threads = 16;
                n4d_sim *sim = NULL;
                OK(n4d_sim_create(m, &so, &sim));
#ifdef _OPENMP
                assert_int_equal(n4d_sim_num_threads(sim), 7);
#endif
                n4d_sim_destroy(sim);
                n4d_model_destroy(m);
            }
    n4d_context_destroy(ctx);
}

static void test_layout_without_partitions(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    OK(n4d_context_create(NULL, &ctx));
    const uint32_t shape[4] = {4, 3, 2, 5};
    n4d_model *m = make_model(ctx, M_SPARSE, shape, NULL, 1);
    n4d_partition_result *r = NULL;
    OK(n4d_partition_layout(m, &r));
    check_result(m, r, 1);
    assert_true(r->neurons.imbalance == 0 && r->neurons.std == 0);
    n4d_partition_result_destroy(r);
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
}

/* A result does not refer to the model. */
static void test_result_outlives_model(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    OK(n4d_context_create(NULL, &ctx));
    const uint32_t shape[4] = {6, 6, 1, 1};
    n4d_model *m = make_model(ctx, M_FULL, shape, NULL, 1);
    n4d_partition_result *r = NULL;
    OK(n4d_partition_compute(m, 4, NULL, &r));
    n4d_model_destroy(m);
    uint64_t sum = 0;
    for (uint32_t k = 0; k < r->num_partitions; k++)
        for (uint64_t i = 0; i < r->partitions[k].num_neurons; i++)
            sum += r->partitions[k].neurons[i];
    assert_int_equal(sum, 35 * 36 / 2);
    assert_true(r->neurons.min == 9 && r->neurons.max == 9);
    n4d_partition_result_destroy(r);
    n4d_memory_stats ms;
    ms.struct_size = sizeof ms;
    OK(n4d_context_memory(ctx, &ms));
    assert_int_equal(ms.total_current, 0);
    n4d_context_destroy(ctx);
}

static void test_errors(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    OK(n4d_context_create(NULL, &ctx));
    const uint32_t shape[4] = {3, 3, 1, 1};
    n4d_model *m = make_model(ctx, M_FULL, shape, NULL, 0);
    n4d_partition_result *r = (n4d_partition_result *)&r; /* must be reset to NULL */
    assert_int_equal(n4d_partition_compute(m, 2, NULL, &r), N4D_E_STATE);
    assert_null(r);
    assert_true(strstr(n4d_last_error(m), "not built") != NULL);
    assert_int_equal(n4d_partition_layout(m, &r), N4D_E_STATE);
    OK(n4d_model_build(m));
    assert_int_equal(n4d_partition_compute(m, 0, NULL, &r), N4D_E_INVALID_ARG);
    assert_true(n4d_last_error(m)[0] != '\0');
    assert_int_equal(n4d_partition_compute(m, 10, NULL, &r), N4D_E_RANGE);
    assert_true(strstr(n4d_last_error(m), "10 partitions for 9 neurons") != NULL);
    assert_null(r);
    assert_int_equal(n4d_partition_compute(m, 2, NULL, NULL), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_partition_compute(NULL, 2, NULL, &r), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_partition_layout(NULL, &r), N4D_E_INVALID_ARG);
    n4d_partition_options po = {0, 0};
    assert_int_equal(n4d_partition_compute(m, 2, &po, &r), N4D_E_INVALID_ARG);
    /* an older, shorter options struct is accepted */
    po.struct_size = sizeof(uint32_t);
    OK(n4d_partition_compute(m, 9, &po, &r));
    n4d_partition_result_destroy(r);
    n4d_partition_result_destroy(NULL);
    n4d_partition_options_init(NULL);
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
}

/* ---- allocation failures ---------------------------------------------------- */

typedef struct fail_alloc {
    atomic_llong calls, fail_at, live;
    atomic_int bad_free;
} fail_alloc;

static void *f_alloc(void *ud, size_t size, size_t align)
{
    fail_alloc *a = ud;
    long long k = atomic_fetch_add(&a->calls, 1) + 1;
    if (k == atomic_load(&a->fail_at))
        return NULL;
    void *p = NULL;
    size_t pad = align < 16 ? 16 : align;
    if (posix_memalign(&p, pad, pad + size) != 0)
        return NULL;
    memcpy(p, &size, sizeof size);
    atomic_fetch_add(&a->live, 1);
    return (char *)p + pad;
}

static void f_free(void *ud, void *ptr, size_t size)
{
    fail_alloc *a = ud;
    if (!ptr)
        return;
    /* every block of this test is 64-byte aligned (n4d__alloc) */
    char *base = (char *)ptr - 64;
    size_t s;
    memcpy(&s, base, sizeof s);
    if (s != size)
        atomic_fetch_add(&a->bad_free, 1);
    atomic_fetch_sub(&a->live, 1);
    free(base);
}

static void test_alloc_failures(void **state)
{
    (void)state;
    fail_alloc fa;
    memset(&fa, 0, sizeof fa);
    n4d_context_options co;
    n4d_context_options_init(&co);
    co.allocator.alloc = f_alloc;
    co.allocator.free = f_free;
    co.allocator.user_data = &fa;
    n4d_context *ctx = NULL;
    OK(n4d_context_create(&co, &ctx));
    const uint32_t shape[4] = {5, 4, 3, 2};
    n4d_model *m = make_model(ctx, M_FULL, shape, NULL, 1);
    const long long live0 = atomic_load(&fa.live);
    int failures = 0;
    for (long long k = 1;; k++) {
        atomic_store(&fa.calls, 0);
        atomic_store(&fa.fail_at, k);
        n4d_partition_options po;
        n4d_partition_options_init(&po);
        po.balance_synapses = (int)(k & 1);
        n4d_partition_result *r = NULL, *l = NULL;
        n4d_status st = n4d_partition_compute(m, 5, &po, &r);
        if (st != N4D_OK)
            assert_true(n4d_last_error(m)[0] != '\0' && r == NULL);
        n4d_status st2 = n4d_partition_layout(m, &l);
        if (st2 != N4D_OK)
            assert_true(n4d_last_error(m)[0] != '\0' && l == NULL);
        atomic_store(&fa.fail_at, 0);
        n4d_partition_result_destroy(r);
        n4d_partition_result_destroy(l);
        assert_int_equal(atomic_load(&fa.live), live0);
        if (st == N4D_OK && st2 == N4D_OK && atomic_load(&fa.calls) < k)
            break;
        if (st != N4D_OK || st2 != N4D_OK) {
            assert_int_equal(st != N4D_OK ? st : st2, N4D_E_NOMEM);
            failures++;
        }
        assert_true(k < 100);
    }
    assert_true(failures >= 4);
    assert_int_equal(atomic_load(&fa.bad_free), 0);
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_awkward_n_odd_shapes),
        cmocka_unit_test(test_n_equals_neurons_is_one_each),
        cmocka_unit_test(test_cut_along_widest_axis),
        cmocka_unit_test(test_layout_partitions_match),
        cmocka_unit_test(test_layout_without_partitions),
        cmocka_unit_test(test_result_outlives_model),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
