/* Z-order (include/n4d/zorder.h): Morton codes (unit axes, bijective on a
 * box and on random points, aligned blocks are contiguous code ranges,
 * order within a block), access-pattern statistics, and the Z-order storage
 * layout: the mean target jump of a 4D distance model shrinks in internal
 * order while the user-id view is unchanged, and spike trains and checksums
 * are bitwise those of the lattice-order build (cpu-ref, cpu-omp 1 and 2
 * threads, with and without partitions). */
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

static uint64_t enc(uint32_t x, uint32_t y, uint32_t z, uint32_t w)
{
    const uint32_t p[4] = {x, y, z, w};
    return n4d_morton_encode4(p);
}

static void test_morton_units(void **state)
{
    (void)state;
    assert_int_equal(enc(0, 0, 0, 0), 0);
    assert_int_equal(enc(1, 0, 0, 0), 1);
    assert_int_equal(enc(0, 1, 0, 0), 2);
    assert_int_equal(enc(0, 0, 1, 0), 4);
    assert_int_equal(enc(0, 0, 0, 1), 8);
    assert_int_equal(enc(2, 0, 0, 0), 16);
    assert_int_equal(enc(3, 3, 3, 3), 255);
    assert_true(enc(65535, 65535, 65535, 65535) == UINT64_MAX);
    assert_int_equal(enc(0x10000, 0, 0, 0), 0); /* only 16 bits per axis */
    uint32_t p[4];
    n4d_morton_decode4(UINT64_MAX, p);
    for (int a = 0; a < 4; a++)
        assert_int_equal(p[a], 65535);
    n4d_morton_decode4(8 | 16, p);
    assert_true(p[0] == 2 && p[1] == 0 && p[2] == 0 && p[3] == 1);
    assert_int_equal(n4d_morton_encode4(NULL), 0);
    n4d_morton_decode4(1, NULL);
}

/* Bijective on the box [0, 6)^4: distinct codes that decode back. */
static void test_morton_bijective_box(void **state)
{
    (void)state;
    enum { E = 6 };
    uint64_t codes[E * E * E * E];
    size_t n = 0;
    for (uint32_t w = 0; w < E; w++)
        for (uint32_t z = 0; z < E; z++)
            for (uint32_t y = 0; y < E; y++)
                for (uint32_t x = 0; x < E; x++) {
                    uint64_t c = enc(x, y, z, w);
                    uint32_t p[4];
                    n4d_morton_decode4(c, p);
                    assert_true(p[0] == x && p[1] == y && p[2] == z && p[3] == w);
                    codes[n++] = c;
                }
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            assert_true(codes[i] != codes[j]);
    /* random points over the full range, and random codes */
    uint64_t s = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 100000; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        uint32_t q[4] = {(uint32_t)(s >> 16) & 0xffff, (uint32_t)(s >> 32) & 0xffff,
                         (uint32_t)(s >> 48) & 0xffff, (uint32_t)s & 0xffff};
        uint32_t r[4];
        n4d_morton_decode4(n4d_morton_encode4(q), r);
        assert_memory_equal(q, r, sizeof q);
        n4d_morton_decode4(s, r);
        assert_true(n4d_morton_encode4(r) == s);
    }
}

/* Locality: every aligned block of side 2^k is one contiguous code range of
 * length 2^(4k), and Morton order equals lexicographic order of the
 * interleaved bits (a larger w high bit means a larger code). */
static void test_morton_blocks(void **state)
{
    (void)state;
    for (int k = 1; k <= 2; k++) {
        const uint32_t side = 1u << k;
        const uint32_t origins[][4] = {{0, 0, 0, 0}, {4, 8, 12, 0}, {side * 3, 0, side, side * 5},
                                       {1000 & ~(side - 1), 64, 0, 4096}};
        for (size_t o = 0; o < sizeof origins / sizeof origins[0]; o++) {
            uint64_t lo = UINT64_MAX, hi = 0;
            for (uint32_t i = 0; i < side * side * side * side; i++) {
                uint32_t d[4] = {i % side, i / side % side, i / side / side % side,
                                 i / side / side / side};
                uint64_t c = enc(origins[o][0] + d[0], origins[o][1] + d[1], origins[o][2] + d[2],
                                 origins[o][3] + d[3]);
                lo = c < lo ? c : lo;
                hi = c > hi ? c : hi;
            }
            assert_true(hi - lo + 1 == (uint64_t)1 << (4 * k)); /* contiguous */
            assert_true(lo % ((uint64_t)1 << (4 * k)) == 0);
        }
    }
    assert_true(enc(65535, 65535, 65535, 0) < enc(0, 0, 0, 32768));
    assert_true(enc(1, 1, 1, 0) < enc(0, 0, 0, 2));
}

static void test_access_pattern(void **state)
{
    (void)state;
    const uint64_t seq[] = {0, 1, 2, 3, 50, 51, 52};
    n4d_access_stats s;
    memset(&s, 0, sizeof s);
    s.struct_size = sizeof s;
    OK(n4d_access_pattern(seq, 7, &s));
    assert_int_equal(s.jumps, 6);
    assert_true(fabs(s.mean_jump - 52.0 / 6.0) < 1e-12);
    assert_int_equal(s.max_jump, 47);
    assert_true(fabs(s.sequential_fraction - 5.0 / 6.0) < 1e-12);
    assert_true(fabs(s.locality_score - 1.0 / (1.0 + 52.0 / 6.0)) < 1e-12);
    assert_true(fabs(n4d_locality_score(seq, 7) - s.locality_score) < 1e-15);
    /* lines (blocks of 8): 0-3 one line, 50 a new one, 51-52 the same; pages (512): one */
    assert_int_equal(s.accesses, 7);
    assert_true(fabs(s.lines_per_access - 2.0 / 7.0) < 1e-12);
    assert_true(fabs(s.pages_per_access - 1.0 / 7.0) < 1e-12);
    /* backwards jumps count by magnitude */
    const uint64_t back[] = {10, 4, 10};
    assert_true(fabs(n4d_locality_score(back, 3) - 1.0 / 7.0) < 1e-15);
    const uint64_t big[] = {0, UINT64_MAX};
    OK(n4d_access_pattern(big, 2, &s));
    assert_true(s.max_jump == UINT64_MAX);
    /* no jump */
    OK(n4d_access_pattern(seq, 1, &s));
    assert_true(s.jumps == 0 && s.mean_jump == 0 && s.locality_score == 1.0);
    OK(n4d_access_pattern(NULL, 0, &s));
    assert_true(s.locality_score == 1.0 && s.struct_size == sizeof s);
    assert_true(n4d_locality_score(NULL, 5) == 1.0);
    assert_int_equal(n4d_access_pattern(NULL, 3, &s), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_access_pattern(seq, 3, NULL), N4D_E_INVALID_ARG);
    s.struct_size = 0;
    assert_int_equal(n4d_access_pattern(seq, 3, &s), N4D_E_INVALID_ARG);
    /* an older caller's smaller struct gets the fields it has, nothing beyond */
    n4d_access_stats old;
    memset(&old, 0x5a, sizeof old);
    old.struct_size = (uint32_t)offsetof(n4d_access_stats, accesses);
    OK(n4d_access_pattern(seq, 7, &old));
    assert_int_equal(old.struct_size, offsetof(n4d_access_stats, accesses));
    assert_int_equal(old.jumps, 6);
    assert_true(fabs(old.locality_score - 1.0 / (1.0 + 52.0 / 6.0)) < 1e-12);
    unsigned char tail[sizeof old - offsetof(n4d_access_stats, accesses)];
    memset(tail, 0x5a, sizeof tail);
    assert_memory_equal((unsigned char *)&old + offsetof(n4d_access_stats, accesses), tail,
                        sizeof tail);
}

/* ---- Z-order storage --------------------------------------------------------- */

/* A 4D lif_exp network: excitatory and inhibitory populations on every site
 * of a [7, 6, 5, 6] lattice... (E on all sites, I on a sub-box), distance
 * connections, Poisson drive, delay 0.5 ms (cpu-omp batches 5 steps). */
static n4d_model *net(n4d_context *ctx, int order, uint32_t partitions)
{
    n4d_model *m = NULL;
    OK(n4d_model_create(ctx, &m));
    const uint32_t shape[4] = {9, 8, 7, 8};
    OK(n4d_model_set_lattice(m, shape));
    OK(n4d_model_set_seed(m, 99));
    OK(n4d_model_set_build_threads(m, 2));
    n4d_layout_options lo;
    n4d_layout_options_init(&lo);
    lo.order = order;
    lo.partitions = partitions;
    OK(n4d_model_set_layout(m, &lo));
    const int32_t a0[4] = {0, 0, 0, 0}, a1[4] = {8, 7, 6, 7};
    const int32_t b0[4] = {1, 1, 0, 1}, b1[4] = {7, 6, 6, 6};
    OK(n4d_model_add_area(m, "all", a0, a1));
    OK(n4d_model_add_area(m, "core", b0, b1));
    n4d_population_desc pd;
    n4d_population_desc_init(&pd);
    pd.model = N4D_NEURON_LIF_EXP;
    static const n4d_param_value params[] = {{"v_rest", -60}};
    pd.params = params;
    pd.n_params = 1;
    pd.v_init = n4d_dist_uniform(-60, -50);
    pd.name = "E";
    pd.area = "all";
    OK(n4d_model_add_population(m, &pd, NULL));
    pd.name = "I";
    pd.area = "core";
    pd.placement = N4D_PLACE_DENSITY;
    pd.density = 0.5;
    OK(n4d_model_add_population(m, &pd, NULL));
    const char *pops[2] = {"E", "I"};
    for (int s = 0; s < 2; s++)
        for (int t = 0; t < 2; t++) {
            n4d_projection_desc pj;
            n4d_projection_desc_init(&pj);
            pj.source = pops[s];
            pj.target = pops[t];
            pj.rule = N4D_RULE_DISTANCE;
            pj.p = 0.5;
            pj.kernel = N4D_KERNEL_GAUSSIAN;
            pj.sigma = 1.5;
            pj.cutoff = 3.0;
            pj.weight = n4d_dist_normal(s == 0 ? 0.6 : -2.5, 0.1, -10, 10);
            pj.delay = n4d_dist_constant(0.5);
            OK(n4d_model_add_projection(m, &pj, NULL));
        }
    n4d_input_desc in;
    n4d_input_desc_init(&in);
    in.kind = N4D_INPUT_POISSON;
    in.target = "E";
    in.rate = 3000;
    in.weight = 1.0;
    OK(n4d_model_add_input(m, &in));
    OK(n4d_model_build(m));
    return m;
}

static void jumps(const n4d_model *m, int32_t space, n4d_access_stats *s)
{
    memset(s, 0, sizeof *s);
    s->struct_size = sizeof *s;
    OK(n4d_model_target_jumps(m, space, s));
}

typedef struct run_result {
    uint64_t checksum, spikes;
} run_result;

static run_result run(n4d_model *m, const char *backend, int threads)
{
    n4d_sim_options so;
    n4d_sim_options_init(&so);
    so.backend = backend;
    so.num_threads = threads;
    n4d_sim *sim = NULL;
    OK(n4d_sim_create(m, &so, &sim));
    OK(n4d_sim_run(sim, 300));
    run_result r = {n4d_sim_checksum(sim), n4d_sim_total_spikes(sim)};
    n4d_sim_destroy(sim);
    return r;
}

static void test_zorder_layout(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    OK(n4d_context_create(NULL, &ctx));
    n4d_model *lat = net(ctx, N4D_ORDER_LATTICE, 0);
    n4d_access_stats li, lu;
    jumps(lat, N4D_INDEX_INTERNAL, &li);
    jumps(lat, N4D_INDEX_USER, &lu);
    /* lattice order without partitions: internal indices are the user ids */
    assert_true(li.jumps == lu.jumps && li.mean_jump == lu.mean_jump && li.max_jump == lu.max_jump);
    assert_true(li.jumps > 1000);
    const run_result ref = run(lat, "cpu-ref", 1);
    print_message("reference: %llu spikes\n", (unsigned long long)ref.spikes);
    assert_true(ref.spikes > 100);
    const uint32_t parts[] = {0, 3};
    for (size_t pi = 0; pi < 2; pi++)
        for (int order = N4D_ORDER_LATTICE; order <= N4D_ORDER_ZORDER; order++) {
            n4d_model *m = net(ctx, order, parts[pi]);
            assert_int_equal(n4d_model_num_synapses(m), n4d_model_num_synapses(lat));
            n4d_access_stats zi, zu;
            jumps(m, N4D_INDEX_INTERNAL, &zi);
            jumps(m, N4D_INDEX_USER, &zu);
            /* the user-id view does not depend on the layout */
            assert_true(zu.jumps == lu.jumps && zu.mean_jump == lu.mean_jump);
            assert_true(zi.jumps == li.jumps);
            assert_true(zi.accesses == li.accesses && zu.accesses == li.accesses);
            if (order == N4D_ORDER_ZORDER) {
                print_message("%u partitions: mean target jump lattice %.1f zorder %.1f; lines "
                              "per synapse %.3f %.3f; pages %.3f %.3f\n",
                              parts[pi], li.mean_jump, zi.mean_jump, li.lines_per_access,
                              zi.lines_per_access, li.pages_per_access, zi.pages_per_access);
                /* neighbours share cache lines: fewer lines per delivered synapse */
                assert_true(zi.lines_per_access < 0.9 * li.lines_per_access);
                assert_true(zu.lines_per_access == lu.lines_per_access);
            }
            /* bitwise the same spike trains */
            const char *backends[] = {"cpu-ref", "cpu-omp", "cpu-omp"};
            const int threads[] = {1, 1, 2};
            for (int b = 0; b < 3; b++) {
                run_result r = run(m, backends[b], threads[b]);
                assert_true(r.checksum == ref.checksum && r.spikes == ref.spikes);
            }
            n4d_model_destroy(m);
        }
    n4d_model_destroy(lat);
    n4d_context_destroy(ctx);
}

static void test_target_jumps_errors(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    OK(n4d_context_create(NULL, &ctx));
    n4d_model *m = NULL;
    OK(n4d_model_create(ctx, &m));
    n4d_access_stats s;
    memset(&s, 0, sizeof s);
    s.struct_size = sizeof s;
    assert_int_equal(n4d_model_target_jumps(m, N4D_INDEX_INTERNAL, &s), N4D_E_STATE);
    assert_true(strstr(n4d_last_error(m), "not built") != NULL);
    OK(n4d_model_build(m)); /* no neurons, no synapses */
    OK(n4d_model_target_jumps(m, N4D_INDEX_USER, &s));
    assert_true(s.jumps == 0 && s.locality_score == 1.0);
    assert_int_equal(n4d_model_target_jumps(m, 7, &s), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_model_target_jumps(m, N4D_INDEX_USER, NULL), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_model_target_jumps(NULL, N4D_INDEX_USER, &s), N4D_E_INVALID_ARG);
    s.struct_size = 0;
    assert_int_equal(n4d_model_target_jumps(m, N4D_INDEX_USER, &s), N4D_E_INVALID_ARG);
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_morton_units),
        cmocka_unit_test(test_morton_bijective_box),
        cmocka_unit_test(test_morton_blocks),
        cmocka_unit_test(test_access_pattern),
        cmocka_unit_test(test_zorder_layout),
        cmocka_unit_test(test_target_jumps_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
