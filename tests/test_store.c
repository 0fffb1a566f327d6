/* HDF5 storage (include/n4d/store.h, docs/storage.md): save/load round trips
 * that simulate bitwise identically on cpu-ref and cpu-omp (plain, gzip,
 * contiguous, without SONATA edges, with a partitioned Morton layout),
 * partial loads (id list, id range, lattice region) checked synapse by
 * synapse, memory-mapped synapses, checkpoint/resume equal to one
 * uninterrupted run, a save killed with SIGKILL leaving the old file
 * loadable, spike and state recording read back with the HDF5 API, and the
 * import of the 4D Neural Cognition sample files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "n4d.h"
#include "test_util.h"

#if N4D_TEST_HDF5 /* set by tests/store_h5py.cmake when the library has HDF5 */
#include <hdf5.h>

static char g_dir[1024];

static const char *tmp_path(const char *name)
{
    static char buf[4][1400];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", g_dir, name);
    return buf[k];
}

static int setup_dir(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "%s/test_store_XXXXXX", N4D_BINARY_DIR);
    if (!mkdtemp(g_dir))
        return -1;
    return 0;
}

static int teardown_dir(void **state)
{
    (void)state;
    DIR *d = opendir(g_dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
                unlink(tmp_path(e->d_name));
        closedir(d);
    }
    rmdir(g_dir);
    return 0;
}

static n4d_context *new_ctx(void)
{
    n4d_context *ctx = NULL;
    assert_int_equal(n4d_context_create(NULL, &ctx), N4D_OK);
    return ctx;
}

/* A model with three neuron models (one of them AdEx with parameters of its
 * own), four rules, Poisson and DC input, random delays, inhibition and a
 * sense. layout: 0 lattice order, 1 Morton order in
 * 4 balanced partitions. About 1,000 neurons. */
static n4d_model *make_model(n4d_context *ctx, int layout)
{
    n4d_model *m = NULL;
    ASSERT_OK(n4d_model_create(ctx, &m), ctx);
    const uint32_t shape[4] = {12, 10, 3, 2};
    ASSERT_OK(n4d_model_set_lattice(m, shape), m);
    ASSERT_OK(n4d_model_set_seed(m, 4242), m);
    const int32_t lo[4] = {0, 0, 0, 0}, hi[4] = {11, 9, 2, 0};
    const int32_t lo2[4] = {0, 0, 0, 1}, hi2[4] = {11, 9, 1, 1};
    ASSERT_OK(n4d_model_add_area(m, "cortex", lo, hi), m);
    ASSERT_OK(n4d_model_add_area(m, "layer/2", lo2, hi2), m);
    n4d_population_desc p;
    n4d_population_desc_init(&p);
    p.name = "E";
    p.area = "cortex";
    p.model = N4D_NEURON_LIF_EXP;
    p.placement = N4D_PLACE_DENSITY;
    p.density = 0.8;
    p.v_init = n4d_dist_uniform(-60.0, -50.0);
    ASSERT_OK(n4d_model_add_population(m, &p, NULL), m);
    p.name = "I";
    p.placement = N4D_PLACE_COUNT;
    p.count = 100;
    ASSERT_OK(n4d_model_add_population(m, &p, NULL), m);
    n4d_population_desc_init(&p);
    p.name = "Z/izh";
    p.area = "layer/2";
    p.model = N4D_NEURON_IZHIKEVICH;
    p.preset = "regular_spiking";
    p.v_init = n4d_dist_normal(-65.0, 3.0, -80.0, -50.0);
    ASSERT_OK(n4d_model_add_population(m, &p, NULL), m);
    /* AdEx (four state variables) with parameters of its own, by name */
    const int32_t lo_a[4] = {0, 0, 2, 1}, hi_a[4] = {11, 9, 2, 1};
    ASSERT_OK(n4d_model_add_area(m, "adex area", lo_a, hi_a), m);
    static const n4d_param_value adex_params[] = {{"a", 2.0}, {"b", 60.0}, {"I_e", 800.0},
                                                  {"tau_w", 100.0}};
    n4d_population_desc_init(&p);
    p.name = "A";
    p.area = "adex area";
    p.model_name = "adex";
    p.params = adex_params;
    p.n_params = 4;
    ASSERT_OK(n4d_model_add_population(m, &p, NULL), m);
    n4d_projection_desc j;
    n4d_projection_desc_init(&j);
    j.source = "E";
    j.target = "E";
    j.p = 0.05;
    j.weight = n4d_dist_normal(0.5, 0.2, 0.0, 2.0);
    j.delay = n4d_dist_uniform(0.1, 3.0);
    ASSERT_OK(n4d_model_add_projection(m, &j, NULL), m);
    j.target = "I";
    j.weight = n4d_dist_constant(0.8);
    j.delay = n4d_dist_constant(1.0);
    ASSERT_OK(n4d_model_add_projection(m, &j, NULL), m);
    n4d_projection_desc_init(&j);
    j.source = "I";
    j.target = "E";
    j.rule = N4D_RULE_FIXED_INDEGREE;
    j.n = 10;
    j.weight = n4d_dist_constant(3.0);
    j.syn_type = N4D_SYN_INHIBITORY;
    j.delay = n4d_dist_constant(0.5);
    ASSERT_OK(n4d_model_add_projection(m, &j, NULL), m);
    n4d_projection_desc_init(&j);
    j.source = "E";
    j.target = "Z/izh";
    j.rule = N4D_RULE_DISTANCE;
    j.p = 0.5;
    j.sigma = 2.0;
    j.cutoff = 4.0;
    j.weight = n4d_dist_constant(4.0);
    j.delay = n4d_dist_constant(2.0);
    ASSERT_OK(n4d_model_add_projection(m, &j, NULL), m);
    n4d_input_desc in;
    n4d_input_desc_init(&in);
    in.kind = N4D_INPUT_POISSON;
    in.target = "E";
    in.rate = 900.0;
    in.weight = 1.2;
    ASSERT_OK(n4d_model_add_input(m, &in), m);
    in.target = "I";
    ASSERT_OK(n4d_model_add_input(m, &in), m);
    n4d_input_desc_init(&in);
    in.target = "Z/izh";
    in.amplitude = 4.0;
    in.start = 5.0;
    ASSERT_OK(n4d_model_add_input(m, &in), m);
    ASSERT_OK(n4d_model_add_sense(m, "vision", "cortex", 12, 10), m);
    if (layout) {
        n4d_layout_options lo3;
        n4d_layout_options_init(&lo3);
        lo3.order = N4D_ORDER_ZORDER;
        lo3.partitions = 4;
        lo3.balance_synapses = 1;
        ASSERT_OK(n4d_model_set_layout(m, &lo3), m);
    }
    ASSERT_OK(n4d_model_build(m), m);
    return m;
}

/* Outgoing synapses of every neuron are the same (targets, weights, delays). */
static void assert_same_synapses(const n4d_model *a, const n4d_model *b)
{
    uint64_t N = n4d_model_num_neurons(a);
    assert_int_equal(N, n4d_model_num_neurons(b));
    assert_int_equal(n4d_model_num_synapses(a), n4d_model_num_synapses(b));
    for (uint64_t i = 0; i < N; i++) {
        int32_t pa[4], pb[4];
        ASSERT_OK(n4d_model_neuron_position(a, i, pa), a);
        ASSERT_OK(n4d_model_neuron_position(b, i, pb), b);
        assert_memory_equal(pa, pb, sizeof pa);
        assert_int_equal(n4d_model_neuron_population(a, i), n4d_model_neuron_population(b, i));
        uint64_t ca = 0, cb = 0;
        ASSERT_OK(n4d_model_out_degree(a, i, &ca), a);
        ASSERT_OK(n4d_model_out_degree(b, i, &cb), b);
        assert_int_equal(ca, cb);
        if (ca == 0)
            continue;
        uint32_t *ta = malloc(ca * 4), *tb = malloc(ca * 4);
        float *wa = malloc(ca * 4), *wb = malloc(ca * 4), *da = malloc(ca * 4), *db = malloc(ca * 4);
        ASSERT_OK(n4d_model_get_synapses(a, i, ca, ta, wa, da, &ca), a);
        ASSERT_OK(n4d_model_get_synapses(b, i, cb, tb, wb, db, &cb), b);
        assert_memory_equal(ta, tb, ca * 4);
        assert_memory_equal(wa, wb, ca * 4);
        assert_memory_equal(da, db, ca * 4);
        free(ta), free(tb), free(wa), free(wb), free(da), free(db);
    }
}

typedef struct run_result {
    uint64_t checksum, total, count;
    uint64_t *steps;
    uint32_t *ids;
    float *v;
} run_result;

static void run_result_free(run_result *r)
{
    free(r->steps);
    free(r->ids);
    free(r->v);
}

static run_result run(n4d_model *m, const char *backend, int threads, uint64_t steps)
{
    n4d_sim *s = sim_on(m, backend, threads);
    ASSERT_OK(n4d_sim_run(s, steps), s);
    run_result r;
    memset(&r, 0, sizeof r);
    r.checksum = n4d_sim_checksum(s);
    r.total = n4d_sim_total_spikes(s);
    const uint64_t *st;
    const uint32_t *id;
    ASSERT_OK(n4d_sim_spikes(s, &st, &id, &r.count), s);
    r.steps = malloc((r.count + 1) * sizeof *r.steps);
    r.ids = malloc((r.count + 1) * sizeof *r.ids);
    memcpy(r.steps, st, r.count * sizeof *st);
    memcpy(r.ids, id, r.count * sizeof *id);
    uint64_t N = n4d_model_num_neurons(m);
    r.v = malloc((N + 1) * sizeof(float));
    ASSERT_OK(n4d_sim_get_state(s, "v", r.v, N), s);
    n4d_sim_destroy(s);
    return r;
}

static void assert_same_run(const run_result *a, const run_result *b, uint64_t N)
{
    assert_int_equal(a->checksum, b->checksum);
    assert_int_equal(a->total, b->total);
    assert_int_equal(a->count, b->count);
    assert_memory_equal(a->steps, b->steps, a->count * sizeof *a->steps);
    assert_memory_equal(a->ids, b->ids, a->count * sizeof *a->ids);
    assert_memory_equal(a->v, b->v, N * sizeof(float));
}

static n4d_model *load(n4d_context *ctx, const char *path, const n4d_load_options *o)
{
    n4d_model *m = NULL;
    ASSERT_OK(n4d_model_load(ctx, path, o, &m), ctx);
    assert_true(n4d_model_is_built(m));
    return m;
}

/* ---- round trips ------------------------------------------------------------- */

static void roundtrip(int layout)
{
    n4d_context *ctx = new_ctx();
    n4d_model *m = make_model(ctx, layout);
    const uint64_t N = n4d_model_num_neurons(m);
    run_result ref = run(m, "cpu-ref", 1, 250);
    assert_true(ref.total > 50);
    for (int variant = 0; variant < 4; variant++) {
        n4d_save_options so;
        n4d_save_options_init(&so);
        if (variant == 1) {
            so.compression = N4D_COMPRESSION_GZIP;
            so.gzip_level = 6;
            so.chunk_size = 1000;
        } else if (variant == 2) {
            so.contiguous = 1;
        } else if (variant == 3) {
            so.sonata_edges = 0;
            so.shuffle = 0;
            so.compression = N4D_COMPRESSION_GZIP;
        }
        const char *path = tmp_path("round.h5");
        ASSERT_OK(n4d_model_save(m, path, &so), m);
        n4d_model *l = load(ctx, path, NULL);
        assert_same_synapses(m, l);
        uint32_t a0, a1, b0, b1;
        ASSERT_OK(n4d_model_delay_range(m, &a0, &a1), m);
        ASSERT_OK(n4d_model_delay_range(l, &b0, &b1), l);
        assert_int_equal(a0, b0);
        assert_int_equal(a1, b1);
        assert_int_equal(n4d_model_seed(m), n4d_model_seed(l));
        assert_true(n4d_model_dt(m) == n4d_model_dt(l));
        assert_int_equal(n4d_model_num_projections(m), n4d_model_num_projections(l));
        run_result r1 = run(l, "cpu-ref", 1, 250), r2 = run(l, "cpu-omp", 2, 250);
        assert_same_run(&ref, &r1, N);
        assert_same_run(&ref, &r2, N);
        run_result_free(&r1);
        run_result_free(&r2);
        /* saving the loaded model again gives the same model */
        ASSERT_OK(n4d_model_save(l, tmp_path("round2.h5"), &so), l);
        n4d_model *l2 = load(ctx, tmp_path("round2.h5"), NULL);
        assert_same_synapses(m, l2);
        n4d_model_destroy(l2);
        n4d_model_destroy(l);
    }
    run_result_free(&ref);
    n4d_model_destroy(m);
    assert_int_equal(mem_current(ctx), 0);
    n4d_context_destroy(ctx);
}

static void test_roundtrip(void **state)
{
    (void)state;
    roundtrip(0);
}

static void test_roundtrip_layout(void **state)
{
    (void)state;
    roundtrip(1);
}

/* The SONATA part holds the same synapses as the model (read with HDF5). */
static void test_sonata_layout(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    n4d_model *m = make_model(ctx, 1);
    const char *path = tmp_path("sonata.h5");
    ASSERT_OK(n4d_model_save(m, path, NULL), m);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    uint32_t magic = 0, version[2] = {0, 0};
    hid_t a = H5Aopen(f, "magic", H5P_DEFAULT);
    H5Aread(a, H5T_NATIVE_UINT32, &magic);
    H5Aclose(a);
    a = H5Aopen(f, "version", H5P_DEFAULT);
    H5Aread(a, H5T_NATIVE_UINT32, version);
    H5Aclose(a);
    assert_int_equal(magic, 0x0A7A);
    assert_int_equal(version[0], 0);
    assert_int_equal(version[1], 1);
    /* E -> I/izh edges: every (source, target, weight, delay) is a synapse of the model */
    n4d_population_info pe = {.struct_size = sizeof pe}, pz = {.struct_size = sizeof pz};
    ASSERT_OK(n4d_model_population_info(m, 0, &pe), m);
    ASSERT_OK(n4d_model_population_info(m, 2, &pz), m);
    hid_t ds = H5Dopen2(f, "/edges/E->Z%2Fizh/source_node_id", H5P_DEFAULT);
    hid_t dt = H5Dopen2(f, "/edges/E->Z%2Fizh/target_node_id", H5P_DEFAULT);
    hid_t dw = H5Dopen2(f, "/edges/E->Z%2Fizh/0/syn_weight", H5P_DEFAULT);
    hid_t dd = H5Dopen2(f, "/edges/E->Z%2Fizh/0/delay", H5P_DEFAULT);
    hid_t dr = H5Dopen2(f, "/edges/E->Z%2Fizh/indices/source_to_target/node_id_to_range",
                        H5P_DEFAULT);
    assert_true(ds >= 0 && dt >= 0 && dw >= 0 && dd >= 0 && dr >= 0);
    hid_t sp = H5Dget_space(ds);
    hsize_t n = 0;
    H5Sget_simple_extent_dims(sp, &n, NULL);
    H5Sclose(sp);
    assert_true(n > 0);
    uint64_t *src = malloc(n * 8), *tgt = malloc(n * 8);
    float *w = malloc(n * 4), *d = malloc(n * 4);
    uint64_t *ranges = malloc(pe.count * 16);
    assert_true(H5Dread(ds, H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, src) >= 0);
    assert_true(H5Dread(dt, H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, tgt) >= 0);
    assert_true(H5Dread(dw, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, w) >= 0);
    assert_true(H5Dread(dd, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, d) >= 0);
    assert_true(H5Dread(dr, H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, ranges) >= 0);
    uint64_t counted = 0;
    for (uint64_t s = 0; s < pe.count; s++) {
        uint64_t deg = 0;
        ASSERT_OK(n4d_model_out_degree(m, pe.first + s, &deg), m);
        uint32_t *t = malloc((deg + 1) * 4);
        float *ww = malloc((deg + 1) * 4), *dl = malloc((deg + 1) * 4);
        ASSERT_OK(n4d_model_get_synapses(m, pe.first + s, deg, t, ww, dl, &deg), m);
        for (uint64_t k = 0; k < deg; k++) {
            if (t[k] < pz.first || t[k] >= pz.first + pz.count)
                continue;
            bool found = false;
            for (uint64_t e = 0; e < n && !found; e++)
                found = src[e] == s && tgt[e] == t[k] - pz.first && w[e] == ww[k] && d[e] == dl[k];
            assert_true(found);
            counted++;
        }
        assert_true(ranges[2 * s] <= ranges[2 * s + 1]);
        free(t), free(ww), free(dl);
    }
    assert_int_equal(counted, n);
    free(src), free(tgt), free(w), free(d), free(ranges);
    H5Dclose(ds), H5Dclose(dt), H5Dclose(dw), H5Dclose(dd), H5Dclose(dr);
    H5Fclose(f);
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
}

/* ---- partial loads -------------------------------------------------------------- */

/* The partial model `p` holds exactly the kept neurons (ascending original
 * ids in keep[]) and the synapses among them. */
static void assert_subset(const n4d_model *m, const n4d_model *p, const uint64_t *keep, uint64_t k)
{
    assert_int_equal(n4d_model_num_neurons(p), k);
    uint64_t N = n4d_model_num_neurons(m);
    int64_t *map = malloc(N * sizeof *map);
    for (uint64_t i = 0; i < N; i++)
        map[i] = -1;
    for (uint64_t i = 0; i < k; i++)
        map[keep[i]] = (int64_t)i;
    uint64_t total = 0;
    for (uint64_t i = 0; i < k; i++) {
        int32_t a[4], b[4];
        ASSERT_OK(n4d_model_neuron_position(m, keep[i], a), m);
        ASSERT_OK(n4d_model_neuron_position(p, i, b), p);
        assert_memory_equal(a, b, sizeof a);
        n4d_population_info pa = {.struct_size = sizeof pa}, pb = {.struct_size = sizeof pb};
        ASSERT_OK(n4d_model_population_info(m, n4d_model_neuron_population(m, keep[i]), &pa), m);
        ASSERT_OK(n4d_model_population_info(p, n4d_model_neuron_population(p, i), &pb), p);
        assert_string_equal(pa.name, pb.name);
        uint64_t ca = 0, cb = 0;
        ASSERT_OK(n4d_model_out_degree(m, keep[i], &ca), m);
        ASSERT_OK(n4d_model_out_degree(p, i, &cb), p);
        uint32_t *ta = malloc((ca + 1) * 4), *tb = malloc((cb + 1) * 4);
        float *wa = malloc((ca + 1) * 4), *wb = malloc((cb + 1) * 4);
        float *da = malloc((ca + 1) * 4), *db = malloc((cb + 1) * 4);
        ASSERT_OK(n4d_model_get_synapses(m, keep[i], ca, ta, wa, da, &ca), m);
        ASSERT_OK(n4d_model_get_synapses(p, i, cb, tb, wb, db, &cb), p);
        uint64_t j = 0;
        for (uint64_t q = 0; q < ca; q++) {
            if (map[ta[q]] < 0)
                continue;
            assert_true(j < cb);
            if (tb[j] != (uint32_t)map[ta[q]])
                print_error("kept neuron %llu (id %llu): synapse %llu targets %u, expected %u\n",
                            (unsigned long long)i, (unsigned long long)keep[i],
                            (unsigned long long)j, tb[j], (uint32_t)map[ta[q]]);
            assert_int_equal(tb[j], (uint32_t)map[ta[q]]);
            assert_true(wb[j] == wa[q] && db[j] == da[q]);
            j++;
        }
        assert_int_equal(j, cb);
        total += cb;
        free(ta), free(tb), free(wa), free(wb), free(da), free(db);
    }
    assert_int_equal(total, n4d_model_num_synapses(p));
    free(map);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static void test_partial(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    n4d_model *m = make_model(ctx, 1);
    const uint64_t N = n4d_model_num_neurons(m);
    n4d_save_options so;
    n4d_save_options_init(&so);
    so.compression = N4D_COMPRESSION_GZIP;
    so.chunk_size = 512; /* many chunks: the reads touch only some */
    ASSERT_OK(n4d_model_save(m, tmp_path("part.h5"), &so), m);
    ASSERT_OK(n4d_model_save(m, tmp_path("part_plain.h5"), NULL), m);
    uint64_t *keep = malloc(N * sizeof *keep);
    for (int file = 0; file < 2; file++) {
        const char *path = tmp_path(file ? "part_plain.h5" : "part.h5");
        /* id range */
        n4d_load_options lo;
        n4d_load_options_init(&lo);
        lo.select = N4D_SELECT_RANGE;
        lo.first = 100;
        lo.count = 300;
        n4d_model *p = load(ctx, path, &lo);
        for (uint64_t i = 0; i < 300; i++)
            keep[i] = 100 + i;
        assert_subset(m, p, keep, 300);
        run_result r = run(p, "cpu-omp", 2, 100);
        run_result_free(&r);
        n4d_model_destroy(p);
        /* id list: unsorted, duplicates, across populations */
        uint64_t ids[] = {N - 1, 5, 17, 5, 600, 601, 602, 3, N - 50, 250, 251};
        n4d_load_options_init(&lo);
        lo.select = N4D_SELECT_IDS;
        lo.ids = ids;
        lo.n_ids = sizeof ids / sizeof ids[0];
        p = load(ctx, path, &lo);
        uint64_t sorted[] = {3, 5, 17, 250, 251, 600, 601, 602, N - 50, N - 1};
        qsort(sorted, 10, sizeof sorted[0], cmp_u64);
        assert_subset(m, p, sorted, 10);
        n4d_model_destroy(p);
        /* region: a 4D box */
        n4d_load_options_init(&lo);
        lo.select = N4D_SELECT_REGION;
        const int32_t blo[4] = {2, 1, 0, 0}, bhi[4] = {7, 6, 1, 1};
        memcpy(lo.lo, blo, sizeof blo);
        memcpy(lo.hi, bhi, sizeof bhi);
        p = load(ctx, path, &lo);
        uint64_t k = 0;
        for (uint64_t i = 0; i < N; i++) {
            int32_t xyzw[4];
            ASSERT_OK(n4d_model_neuron_position(m, i, xyzw), m);
            bool in = true;
            for (int a = 0; a < 4; a++)
                in = in && xyzw[a] >= blo[a] && xyzw[a] <= bhi[a];
            if (in)
                keep[k++] = i;
        }
        assert_true(k > 50 && k < N);
        assert_subset(m, p, keep, k);
        /* a partial model saves and loads like any other */
        ASSERT_OK(n4d_model_save(p, tmp_path("part_saved.h5"), NULL), p);
        n4d_model *p2 = load(ctx, tmp_path("part_saved.h5"), NULL);
        assert_same_synapses(p, p2);
        run_result r1 = run(p, "cpu-ref", 1, 200), r2 = run(p2, "cpu-omp", 2, 200);
        assert_same_run(&r1, &r2, k);
        run_result_free(&r1);
        run_result_free(&r2);
        n4d_model_destroy(p2);
        n4d_model_destroy(p);
        /* empty selection */
        n4d_load_options_init(&lo);
        lo.select = N4D_SELECT_IDS;
        lo.n_ids = 0;
        lo.ids = ids;
        p = load(ctx, path, &lo);
        assert_int_equal(n4d_model_num_neurons(p), 0);
        n4d_model_destroy(p);
    }
    /* ids that do not exist */
    n4d_load_options lo;
    n4d_load_options_init(&lo);
    lo.select = N4D_SELECT_RANGE;
    lo.first = N - 10;
    lo.count = 11;
    n4d_model *p = NULL;
    assert_int_equal(n4d_model_load(ctx, tmp_path("part.h5"), &lo, &p), N4D_E_RANGE);
    assert_null(p);
    uint64_t bad = N;
    n4d_load_options_init(&lo);
    lo.select = N4D_SELECT_IDS;
    lo.ids = &bad;
    lo.n_ids = 1;
    assert_int_equal(n4d_model_load(ctx, tmp_path("part.h5"), &lo, &p), N4D_E_RANGE);
    assert_non_null(strstr(n4d_last_error(ctx), "does not exist"));
    free(keep);
    n4d_model_destroy(m);
    assert_int_equal(mem_current(ctx), 0);
    n4d_context_destroy(ctx);
}

/* ---- memory-mapped synapses -------------------------------------------------------- */

static void test_mmap(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    for (int layout = 0; layout < 2; layout++) {
        n4d_model *m = make_model(ctx, layout);
        const uint64_t N = n4d_model_num_neurons(m);
        n4d_save_options so;
        n4d_save_options_init(&so);
        so.contiguous = 1;
        so.compression = N4D_COMPRESSION_GZIP; /* the synapse arrays stay uncompressed */
        ASSERT_OK(n4d_model_save(m, tmp_path("map.h5"), &so), m);
        n4d_load_options lo;
        n4d_load_options_init(&lo);
        lo.mmap_synapses = 1;
        n4d_model *l = load(ctx, tmp_path("map.h5"), &lo);
        assert_same_synapses(m, l);
        uint64_t mem_mapped = mem_current(ctx);
        run_result ref = run(m, "cpu-ref", 1, 200), a = run(l, "cpu-ref", 1, 200),
                   b = run(l, "cpu-omp", 2, 200);
        assert_same_run(&ref, &a, N);
        assert_same_run(&ref, &b, N);
        run_result_free(&ref), run_result_free(&a), run_result_free(&b);
        /* the mapped arrays are not allocated: an in-memory load takes more */
        n4d_model *l2 = load(ctx, tmp_path("map.h5"), NULL);
        uint64_t mem_both = mem_current(ctx);
        assert_true(mem_both - mem_mapped >= n4d_model_num_synapses(m) * 8);
        n4d_model_destroy(l2);
        /* the file may be replaced while mapped (atomic saves rename over it) */
        ASSERT_OK(n4d_model_save(m, tmp_path("map.h5"), NULL), m);
        run_result c = run(l, "cpu-ref", 1, 50);
        run_result_free(&c);
        n4d_model_destroy(l);
        /* a chunked file cannot be mapped; a partial load neither */
        n4d_model *x = NULL;
        assert_int_equal(n4d_model_load(ctx, tmp_path("map.h5"), &lo, &x), N4D_E_UNSUPPORTED);
        assert_non_null(strstr(n4d_last_error(ctx), "/n4d/synapses/target"));
        assert_null(x);
        lo.select = N4D_SELECT_RANGE;
        lo.count = 10;
        assert_int_equal(n4d_model_load(ctx, tmp_path("map.h5"), &lo, &x), N4D_E_UNSUPPORTED);
        n4d_model_destroy(m);
    }
    assert_int_equal(mem_current(ctx), 0);
    n4d_context_destroy(ctx);
}

/* ---- checkpoint and resume --------------------------------------------------------- */

static void checkpoint_case(int layout, const char *backend, const char *resume_backend)
{
    n4d_context *ctx = new_ctx();
    n4d_model *m = make_model(ctx, layout);
    const uint64_t N = n4d_model_num_neurons(m);
    n4d_sim_options o;
    n4d_sim_options_init(&o);
    o.backend = backend;
    o.num_threads = 2;
    o.history_steps = 50;
    n4d_sim *whole = NULL, *part = NULL;
    ASSERT_OK(n4d_sim_create(m, &o, &whole), m);
    ASSERT_OK(n4d_sim_create(m, &o, &part), m);
    /* the same external input before step 137 in both */
    ASSERT_OK(n4d_sim_run(whole, 137), whole);
    ASSERT_OK(n4d_sim_run(part, 137), part);
    ASSERT_OK(n4d_sim_add_input(whole, 7, 25.0f), whole);
    ASSERT_OK(n4d_sim_add_input(part, 7, 25.0f), part);
    ASSERT_OK(n4d_sim_run(whole, 300 - 137), whole);
    ASSERT_OK(n4d_sim_checkpoint(part, tmp_path("ck.h5"), NULL), part);
    n4d_sim_destroy(part);
    n4d_model *m2 = NULL;
    n4d_sim *res = NULL;
    n4d_resume_options ro;
    n4d_resume_options_init(&ro);
    ro.backend = resume_backend;
    ASSERT_OK(n4d_sim_resume(ctx, tmp_path("ck.h5"), &ro, &m2, &res), ctx);
    assert_int_equal(n4d_sim_current_step(res), 137);
    assert_string_equal(n4d_sim_backend(res), resume_backend ? resume_backend : backend);
    ASSERT_OK(n4d_sim_run(res, 300 - 137), res);
    assert_int_equal(n4d_sim_checksum(res), n4d_sim_checksum(whole));
    assert_int_equal(n4d_sim_total_spikes(res), n4d_sim_total_spikes(whole));
    const uint64_t *s1, *s2;
    const uint32_t *i1, *i2;
    uint64_t c1, c2;
    ASSERT_OK(n4d_sim_spikes(whole, &s1, &i1, &c1), whole);
    ASSERT_OK(n4d_sim_spikes(res, &s2, &i2, &c2), res);
    assert_int_equal(c1, c2);
    assert_memory_equal(s1, s2, c1 * 8);
    assert_memory_equal(i1, i2, c1 * 4);
    static const char *const vars[] = {"v", "ge", "gi", "u", "i_ext", "refractory"};
    float *va = malloc(N * 4), *vb = malloc(N * 4);
    for (int k = 0; k < 6; k++) {
        ASSERT_OK(n4d_sim_get_state(whole, vars[k], va, N), whole);
        ASSERT_OK(n4d_sim_get_state(res, vars[k], vb, N), res);
        assert_memory_equal(va, vb, N * 4);
    }
    for (uint64_t i = 0; i < N; i += 7)
        for (uint64_t t = 260; t < 300; t += 3)
            assert_int_equal(n4d_sim_spiked_at(whole, i, t), n4d_sim_spiked_at(res, i, t));
    free(va), free(vb);
    n4d_sim_destroy(res);
    n4d_model_destroy(m2);
    n4d_sim_destroy(whole);
    n4d_model_destroy(m);
    assert_int_equal(mem_current(ctx), 0);
    n4d_context_destroy(ctx);
}

static void test_checkpoint(void **state)
{
    (void)state;
    checkpoint_case(0, "cpu-ref", NULL);
    checkpoint_case(0, "cpu-omp", NULL);
    checkpoint_case(1, "cpu-omp", NULL);
    checkpoint_case(1, "cpu-ref", "cpu-omp");
}

/* A checkpoint is also a model file, and a model file is not a checkpoint. */
static void test_checkpoint_kinds(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    n4d_model *m = make_model(ctx, 0);
    n4d_sim *s = NULL;
    ASSERT_OK(n4d_sim_create(m, NULL, &s), m);
    ASSERT_OK(n4d_sim_run(s, 20), s);
    ASSERT_OK(n4d_sim_checkpoint(s, tmp_path("ck2.h5"), NULL), s);
    n4d_model *l = load(ctx, tmp_path("ck2.h5"), NULL);
    assert_same_synapses(m, l);
    n4d_model_destroy(l);
    ASSERT_OK(n4d_model_save(m, tmp_path("model2.h5"), NULL), m);
    n4d_model *m2 = NULL;
    n4d_sim *s2 = NULL;
    assert_int_equal(n4d_sim_resume(ctx, tmp_path("model2.h5"), NULL, &m2, &s2), N4D_E_FORMAT);
    assert_non_null(strstr(n4d_last_error(ctx), "kind"));
    assert_null(m2);
    assert_null(s2);
    n4d_sim_destroy(s);
    n4d_model_destroy(m);
    assert_int_equal(mem_current(ctx), 0);
    n4d_context_destroy(ctx);
}

/* ---- a save killed mid-write leaves the previous file ------------------------------ */

static bool tmp_file_exists(const char *base)
{
    DIR *d = opendir(g_dir);
    bool found = false;
    struct dirent *e;
    size_t n = strlen(base);
    while (d && (e = readdir(d)))
        if (strncmp(e->d_name, base, n) == 0 && strstr(e->d_name, ".tmp."))
            found = true;
    if (d)
        closedir(d);
    return found;
}

static n4d_model *big_model(n4d_context *ctx)
{
    n4d_model *m = NULL;
    ASSERT_OK(n4d_model_create(ctx, &m), ctx);
    const uint32_t shape[4] = {30, 30, 8, 1};
    ASSERT_OK(n4d_model_set_lattice(m, shape), m);
    const int32_t lo[4] = {0, 0, 0, 0}, hi[4] = {29, 29, 7, 0};
    ASSERT_OK(n4d_model_add_area(m, "all", lo, hi), m);
    n4d_population_desc p;
    n4d_population_desc_init(&p);
    p.name = "big";
    p.area = "all";
    ASSERT_OK(n4d_model_add_population(m, &p, NULL), m);
    n4d_projection_desc j;
    n4d_projection_desc_init(&j);
    j.source = j.target = "big";
    j.p = 0.02;
    j.weight = n4d_dist_uniform(0.1, 1.0);
    ASSERT_OK(n4d_model_add_projection(m, &j, NULL), m);
    ASSERT_OK(n4d_model_build(m), m);
    return m;
}

static void test_killed_save(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    n4d_model *small = make_model(ctx, 0), *big = big_model(ctx);
    const char *path = tmp_path("killed.h5");
    n4d_save_options so;
    n4d_save_options_init(&so);
    so.compression = N4D_COMPRESSION_GZIP;
    so.gzip_level = 1;
    int killed_mid_write = 0;
    for (int round = 0; round < 4; round++) {
        ASSERT_OK(n4d_model_save(small, path, NULL), small);
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) { /* child: save the big model again and again */
            for (;;)
                if (n4d_model_save(big, path, &so) != N4D_OK)
                    _exit(3);
        }
        /* wait until a temporary file exists (a save is under way), then a
         * little more, then kill */
        struct timespec ts = {0, 200000};
        for (int k = 0; k < 20000 && !tmp_file_exists("killed.h5"); k++)
            nanosleep(&ts, NULL);
        killed_mid_write += tmp_file_exists("killed.h5");
        struct timespec extra = {0, 1000000L * (round * 7 % 13)};
        nanosleep(&extra, NULL);
        kill(pid, SIGKILL);
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        /* the file is a complete model: the small one, or a big one that had
         * been renamed into place before the kill */
        n4d_model *l = load(ctx, path, NULL);
        uint64_t n = n4d_model_num_neurons(l);
        assert_true(n == n4d_model_num_neurons(small) || n == n4d_model_num_neurons(big));
        assert_same_synapses(n == n4d_model_num_neurons(small) ? small : big, l);
        n4d_model_destroy(l);
        /* remove the killed save's temporary files */
        DIR *d = opendir(g_dir);
        struct dirent *e;
        while (d && (e = readdir(d)))
            if (strstr(e->d_name, "killed.h5.tmp."))
                unlink(tmp_path(e->d_name));
        if (d)
            closedir(d);
    }
    assert_true(killed_mid_write > 0);
    n4d_model_destroy(small);
    n4d_model_destroy(big);
    n4d_context_destroy(ctx);
}

/* ---- recording ---------------------------------------------------------------------- */

static uint64_t read_u64s(hid_t f, const char *name, uint64_t **out)
{
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    assert_true(d >= 0);
    hid_t sp = H5Dget_space(d);
    hsize_t n = 0;
    H5Sget_simple_extent_dims(sp, &n, NULL);
    *out = malloc((n + 1) * 8);
    if (n)
        assert_true(H5Dread(d, H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, *out) >= 0);
    H5Sclose(sp);
    H5Dclose(d);
    return n;
}

static void test_record(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    n4d_model *m = make_model(ctx, 1);
    const uint64_t N = n4d_model_num_neurons(m);
    n4d_sim_options o;
    n4d_sim_options_init(&o);
    o.backend = "cpu-omp";
    o.num_threads = 2;
    n4d_sim *s = NULL, *plain = NULL;
    ASSERT_OK(n4d_sim_create(m, &o, &s), m);
    ASSERT_OK(n4d_sim_create(m, &o, &plain), m);
    ASSERT_OK(n4d_sim_run(s, 13), s);
    n4d_record_options ro;
    n4d_record_options_init(&ro);
    ro.buffer_spikes = 64; /* many flushes */
    n4d_population_info pzi = {.struct_size = sizeof pzi};
    ASSERT_OK(n4d_model_population_info(m, 2, &pzi), m);
    const uint64_t z_last = pzi.first + pzi.count - 1; /* the last neuron of Z/izh */
    const uint64_t rep[] = {z_last, 0, 3, 200, 3};      /* 0, 3, 200 in E; z_last in Z/izh */
    ro.report_ids = rep;
    ro.n_report_ids = 5;
    ro.report_vars = "v,ge,u";
    ro.report_every = 4;
    ro.compression = N4D_COMPRESSION_GZIP;
    const char *path = tmp_path("spikes.h5");
    ASSERT_OK(n4d_sim_record_open(s, path, &ro), s);
    assert_int_equal(n4d_sim_record_open(s, path, &ro), N4D_E_STATE);
    ASSERT_OK(n4d_sim_run(s, 287), s);
    ASSERT_OK(n4d_sim_run(plain, 300), plain);
    /* recording does not change the simulation */
    assert_int_equal(n4d_sim_checksum(s), n4d_sim_checksum(plain));
    float *v = malloc(N * 4);
    ASSERT_OK(n4d_sim_get_state(s, "v", v, N), s);
    ASSERT_OK(n4d_sim_record_close(s), s);
    assert_int_equal(n4d_sim_record_close(s), N4D_E_STATE);
    /* the spikes of steps 13..299, population by population, local ids */
    const uint64_t *st;
    const uint32_t *id;
    uint64_t cnt;
    ASSERT_OK(n4d_sim_spikes(s, &st, &id, &cnt), s);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    static const char *const pops[4] = {"E", "I", "Z%2Fizh", "A"};
    uint64_t in_file = 0;
    for (int p = 0; p < 4; p++) {
        n4d_population_info pi = {.struct_size = sizeof pi};
        ASSERT_OK(n4d_model_population_info(m, p, &pi), m);
        char name[100];
        snprintf(name, sizeof name, "/spikes/%s/node_ids", pops[p]);
        uint64_t *ids = NULL;
        uint64_t n = read_u64s(f, name, &ids);
        snprintf(name, sizeof name, "/spikes/%s/timestamps", pops[p]);
        hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
        double *ts = malloc((n + 1) * 8);
        if (n)
            assert_true(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, ts) >= 0);
        H5Dclose(d);
        uint64_t k = 0;
        for (uint64_t q = 0; q < cnt; q++) {
            if (st[q] < 13 || id[q] < pi.first || id[q] >= pi.first + pi.count)
                continue;
            assert_true(k < n);
            assert_int_equal(ids[k], id[q] - pi.first);
            assert_true(ts[k] == (double)st[q] * n4d_model_dt(m));
            k++;
        }
        assert_int_equal(k, n);
        in_file += n;
        free(ids);
        free(ts);
        snprintf(name, sizeof name, "/spikes/%s", pops[p]);
        assert_true(H5Aexists_by_name(f, name, "sorting", H5P_DEFAULT) > 0);
    }
    /* gzip was asked for: the spike datasets carry the deflate filter */
    hid_t dz = H5Dopen2(f, "/spikes/E/node_ids", H5P_DEFAULT);
    hid_t dcpl = H5Dget_create_plist(dz);
    bool deflate = false;
    for (int k = 0; k < H5Pget_nfilters(dcpl); k++) {
        unsigned flags, cd[8];
        size_t ncd = 8;
        char fname[64];
        unsigned fc;
        deflate |= H5Pget_filter2(dcpl, (unsigned)k, &flags, &ncd, cd, sizeof fname, fname,
                                  &fc) == H5Z_FILTER_DEFLATE;
    }
    assert_true(deflate);
    H5Pclose(dcpl);
    H5Dclose(dz);
    uint64_t before = 0;
    for (uint64_t q = 0; q < cnt; q++)
        before += st[q] < 13;
    assert_int_equal(in_file, cnt - before);
    /* the report: rows at steps 16, 20, ..., 300; the last one is the final state */
    hid_t d = H5Dopen2(f, "/report/E/data", H5P_DEFAULT);
    assert_true(d >= 0);
    hid_t sp = H5Dget_space(d);
    hsize_t dims[2];
    assert_int_equal(H5Sget_simple_extent_ndims(sp), 2);
    H5Sget_simple_extent_dims(sp, dims, NULL);
    assert_int_equal(dims[0], (300 - 16) / 4 + 1);
    assert_int_equal(dims[1], 3); /* ids 0, 3, 200 are in E */
    float *data = malloc(dims[0] * dims[1] * 4);
    assert_true(H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0);
    const float *last = data + (dims[0] - 1) * dims[1];
    assert_true(last[0] == v[0] && last[1] == v[3] && last[2] == v[200]);
    H5Sclose(sp);
    H5Dclose(d);
    free(data);
    uint64_t *map = NULL;
    assert_int_equal(read_u64s(f, "/report/Z%2Fizh/mapping/node_ids", &map), 1);
    n4d_population_info pz = {.struct_size = sizeof pz};
    ASSERT_OK(n4d_model_population_info(m, 2, &pz), m);
    assert_int_equal(map[0], z_last - pz.first);
    free(map);
    assert_true(H5Lexists(f, "/report/Z%2Fizh/u", H5P_DEFAULT) > 0);
    H5Fclose(f);
    free(v);
    /* a recording open when the sim is destroyed is closed and kept */
    ASSERT_OK(n4d_sim_record_open(plain, tmp_path("spikes2.h5"), NULL), plain);
    ASSERT_OK(n4d_sim_run(plain, 50), plain);
    n4d_sim_destroy(plain);
    f = H5Fopen(tmp_path("spikes2.h5"), H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    H5Fclose(f);
    n4d_sim_destroy(s);
    n4d_model_destroy(m);
    assert_int_equal(mem_current(ctx), 0);
    n4d_context_destroy(ctx);
}

/* ---- 4D Neural Cognition import -------------------------------------------------------- */

static run_result run_driven(n4d_model *m)
{
    n4d_sim *s = NULL;
    ASSERT_OK(n4d_sim_create(m, NULL, &s), m);
    float mat[36];
    for (int t = 0; t < 200; t++) {
        for (int i = 0; i < 36; i++)
            mat[i] = t % 10 == 0 ? 400.0f : 0.0f;
        ASSERT_OK(n4d_sim_feed_sense(s, "vision", mat, 6, 6, 0), s);
        ASSERT_OK(n4d_sim_run(s, 1), s);
    }
    run_result r;
    memset(&r, 0, sizeof r);
    r.checksum = n4d_sim_checksum(s);
    r.total = n4d_sim_total_spikes(s);
    n4d_sim_destroy(s);
    return r;
}

static void test_import_4dnc(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    const char *files[2] = {N4D_SOURCE_DIR "/tests/data/4dnc_small_model.json",
                            N4D_SOURCE_DIR "/tests/data/4dnc_small_model.h5"};
    n4d_model *m[2] = {NULL, NULL};
    for (int k = 0; k < 2; k++) {
        ASSERT_OK(n4d_model_import_4dnc(ctx, files[k], NULL, &m[k]), ctx);
        assert_int_equal(n4d_model_num_neurons(m[k]), 179);
        assert_int_equal(n4d_model_num_synapses(m[k]), 3149);
        assert_int_equal(n4d_model_num_populations(m[k]), 2);
        assert_true(n4d_model_dt(m[k]) == 1.0);
        uint32_t shape[4];
        ASSERT_OK(n4d_model_lattice(m[k], shape), m[k]);
        assert_int_equal(shape[0], 6);
        assert_int_equal(shape[3], 2);
        n4d_population_info pi = {.struct_size = sizeof pi};
        ASSERT_OK(n4d_model_population_info(m[k], 0, &pi), m[k]);
        assert_string_equal(pi.name, "V1_like");
        assert_int_equal(pi.count, 92);
        assert_int_equal(pi.model, N4D_NEURON_LIF);
        ASSERT_OK(n4d_model_population_info(m[k], 1, &pi), m[k]);
        assert_string_equal(pi.name, "A1_like");
        assert_int_equal(pi.count, 87);
        /* neuron 2 sits at (3, 0, 0, 0); synapse 0 -> 11 weighs 6.7274904 (delay 1) */
        int32_t xyzw[4];
        ASSERT_OK(n4d_model_neuron_position(m[k], 2, xyzw), m[k]);
        assert_int_equal(xyzw[0], 3);
        uint64_t deg = 0;
        ASSERT_OK(n4d_model_out_degree(m[k], 0, &deg), m[k]);
        uint32_t *t = malloc(deg * 4);
        float *w = malloc(deg * 4), *d = malloc(deg * 4);
        ASSERT_OK(n4d_model_get_synapses(m[k], 0, deg, t, w, d, &deg), m[k]);
        bool found = false;
        for (uint64_t q = 0; q < deg; q++)
            if (t[q] == 11 && fabsf(w[q] - 6.7274904f) < 1e-5f && d[q] == 1.0f)
                found = true;
        assert_true(found);
        free(t), free(w), free(d);
        /* the plasticity section is simulated (hebb_4dnc), the others are not */
        assert_null(strstr(n4d_model_warnings(m[k]), "plasticity"));
    }
    /* the two forms hold the same model (float32 weights in both) */
    assert_same_synapses(m[0], m[1]);
    run_result a = run_driven(m[0]), b = run_driven(m[1]);
    assert_true(a.total > 0);
    assert_int_equal(a.checksum, b.checksum);
    /* and it saves and loads as an n4d model */
    ASSERT_OK(n4d_model_save(m[1], tmp_path("imported.h5"), NULL), m[1]);
    n4d_model *l = load(ctx, tmp_path("imported.h5"), NULL);
    assert_same_synapses(m[1], l);
    run_result c = run_driven(l);
    assert_int_equal(c.checksum, a.checksum);
    n4d_model_destroy(l);
    n4d_model_destroy(m[0]);
    n4d_model_destroy(m[1]);
    assert_int_equal(mem_current(ctx), 0);
    n4d_context_destroy(ctx);
}

/* Synapse types, out-of-area neurons, differing parameters and initial
 * potentials, in a small hand-written JSON save. */
static void test_import_json_details(void **state)
{
    (void)state;
    const char *json =
        "{\"config\": {\"lattice_shape\": [4, 4, 1, 1],"
        " \"neuron_model\": {\"type\": \"LIF\", \"params_default\": {\"tau_m\": 10.0}},"
        " \"areas\": [{\"name\": \"A\", \"coord_ranges\": {\"x\": [0, 1], \"y\": [0, 3],"
        " \"z\": [0, 0], \"w\": [0, 0]}}], \"senses\": {}},"
        " \"current_step\": 0, \"neurons\": ["
        " {\"id\": 10, \"x\": 0, \"y\": 0, \"z\": 0, \"w\": 0, \"v_membrane\": -65.0},"
        " {\"id\": 4, \"x\": 1, \"y\": 0, \"z\": 0, \"w\": 0, \"v_membrane\": -60.0},"
        " {\"id\": 7, \"x\": 3, \"y\": 3, \"z\": 0, \"w\": 0, \"v_membrane\": -65.0,"
        "  \"params\": {\"tau_m\": 30.0}},"
        " {\"id\": 8, \"x\": 0, \"y\": 2, \"z\": 0, \"w\": 0, \"params\": {\"v_threshold\": -55.0}}],"
        " \"synapses\": ["
        " {\"pre_id\": 10, \"post_id\": 4, \"weight\": 2.5, \"delay\": 3},"
        " {\"pre_id\": 10, \"post_id\": 7, \"weight\": 1.5, \"delay\": 1, \"synapse_type\": \"inhibitory\"},"
        " {\"pre_id\": 4, \"post_id\": 10, \"weight\": -0.5, \"synapse_type\": \"excitatory\"}]}";
    const char *path = tmp_path("hand.json");
    FILE *fp = fopen(path, "w");
    fputs(json, fp);
    fclose(fp);
    n4d_context *ctx = new_ctx();
    for (int refinh = 0; refinh < 2; refinh++) {
        n4d_import_options io;
        n4d_import_options_init(&io);
        io.reference_inhibition = refinh;
        n4d_model *m = NULL;
        ASSERT_OK(n4d_model_import_4dnc(ctx, path, &io, &m), ctx);
        assert_int_equal(n4d_model_num_neurons(m), 4);
        /* populations: A (ids 4, 10: tau 10), A_1 (id 8: threshold -55), _lattice (id 7) */
        assert_int_equal(n4d_model_num_populations(m), 3);
        n4d_population_info pi = {.struct_size = sizeof pi};
        ASSERT_OK(n4d_model_population_info(m, 1, &pi), m);
        assert_string_equal(pi.name, "A_1");
        ASSERT_OK(n4d_model_population_info(m, 2, &pi), m);
        assert_string_equal(pi.area, "_lattice");
        assert_non_null(strstr(n4d_model_warnings(m), "membrane potentials differ"));
        /* new ids: 4 -> 0, 10 -> 1, 8 -> 2, 7 -> 3 */
        uint32_t t[4];
        float w[4], d[4];
        uint64_t deg = 0;
        ASSERT_OK(n4d_model_get_synapses(m, 1, 4, t, w, d, &deg), m);
        assert_int_equal(deg, 2);
        for (uint64_t q = 0; q < deg; q++) {
            if (t[q] == 0)
                assert_true(w[q] == 2.5f && d[q] == 3.0f);
            else
                assert_true(t[q] == 3 && w[q] == (refinh ? 1.5f : -1.5f));
        }
        ASSERT_OK(n4d_model_get_synapses(m, 0, 4, t, w, d, &deg), m);
        assert_int_equal(deg, 1);
        assert_true(t[0] == 1 && w[0] == -0.5f);
        n4d_model_destroy(m);
    }
    assert_int_equal(mem_current(ctx), 0);
    n4d_context_destroy(ctx);
}

/* HDF5's error printing is off during a failed call and restored after. */
static void test_silent_errors(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    const char *bad = tmp_path("notes.h5");
    FILE *fp = fopen(bad, "w");
    fputs("\211HDF\r\n\032\n but not really", fp);
    fclose(fp);
    H5E_auto2_t fn0 = NULL, fn1 = NULL;
    void *d0 = NULL, *d1 = NULL;
    H5Eget_auto2(H5E_DEFAULT, &fn0, &d0);
    fflush(stderr);
    int saved = dup(2);
    FILE *cap = tmpfile();
    dup2(fileno(cap), 2);
    n4d_model *m = NULL;
    n4d_status st = n4d_model_load(ctx, bad, NULL, &m);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    assert_int_equal(st, N4D_E_FORMAT);
    assert_non_null(strstr(n4d_last_error(ctx), "notes.h5"));
    assert_int_equal(ftell(cap) == 0 ? 0 : (fseek(cap, 0, SEEK_END), ftell(cap)), 0);
    fclose(cap);
    H5Eget_auto2(H5E_DEFAULT, &fn1, &d1);
    assert_true(fn0 == fn1 && d0 == d1);
    assert_int_equal(n4d_model_load(ctx, tmp_path("missing.h5"), NULL, &m), N4D_E_IO);
    assert_non_null(strstr(n4d_last_error(ctx), "missing.h5"));
    n4d_context_destroy(ctx);
}

int main(void)
{
    if (!n4d_has_feature(N4D_FEATURE_HDF5)) {
        printf("SKIP: built without HDF5\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_roundtrip_layout),
        cmocka_unit_test(test_sonata_layout),
        cmocka_unit_test(test_partial),
        cmocka_unit_test(test_mmap),
        cmocka_unit_test(test_checkpoint),
        cmocka_unit_test(test_checkpoint_kinds),
        cmocka_unit_test(test_killed_save),
        cmocka_unit_test(test_record),
        cmocka_unit_test(test_import_4dnc),
        cmocka_unit_test(test_import_json_details),
        cmocka_unit_test(test_silent_errors),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}

#else

int main(void)
{
    printf("SKIP: built without HDF5\n");
    return 77;
}

#endif
