/* Hostile input: the minimal inputs that broke n4d's own checks (issue
 * "Hostile input and wrong answers", item 1), each refused with a clear
 * message and no leak:
 *   1. a refractory period far beyond dt (API, config, 4DNC config), a dt
 *      below 1e-6 ms (API, a saved model's /n4d dt attribute);
 *   2. a checkpoint whose ring entries break the fixed-point invariant,
 *      whose refractory counts are out of range, whose V is not finite;
 *   3. a small model file declaring 1.5e9 synapses in never-written chunked
 *      datasets;
 *   4. a small 4DNC HDF5 save declaring a 5e7 x 10 neurons dataset with no
 *      data;
 *   5. a 300-byte config of 1e8 neurons all_to_all (refused before any
 *      placement or counting, with the figure), and a model whose synapses
 *      do not fit in the context's memory limit;
 *   6. many populations and projections: names found by hash (behaviour
 *      only; the load time is in bench/RESULTS.md, config_bench). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "n4d.h"
#include "test_util.h"

#if N4D_TEST_HDF5
#include <hdf5.h>
#endif

#define AREA_2x2                                                                                   \
    "\"lattice_shape\": [2, 2, 1, 1], \"areas\": [{\"name\": \"a\", \"coord_ranges\": "         \
    "{\"x\": [0, 1], \"y\": [0, 1], \"z\": [0, 0], \"w\": [0, 0]}}]"

static n4d_context *new_ctx(void)
{
    n4d_context *ctx = NULL;
    OK(n4d_context_create(NULL, &ctx));
    return ctx;
}

static void load_fails(n4d_context *ctx, const char *json, n4d_status want, const char *needle)
{
    n4d_model *m = NULL;
    ASSERT_ERR_MSG(n4d_model_from_json_string(ctx, json, strlen(json), "hostile.json", &m), want,
                   ctx, needle);
    assert_null(m);
    assert_int_equal(mem_current(ctx), 0);
}

/* ---- 1. refractory period and dt ------------------------------------------ */

static n4d_model *one_pop_model(n4d_context *ctx, const char *model, double t_ref)
{
    n4d_model *m = NULL;
    OK(n4d_model_create(ctx, &m));
    const uint32_t shape[4] = {2, 2, 1, 1};
    const int32_t lo[4] = {0, 0, 0, 0}, hi[4] = {1, 1, 0, 0};
    ASSERT_OK(n4d_model_set_lattice(m, shape), m);
    ASSERT_OK(n4d_model_add_area(m, "a", lo, hi), m);
    n4d_population_desc d;
    n4d_population_desc_init(&d);
    d.name = "P";
    d.area = "a";
    d.model_name = model;
    n4d_param_value pv[2] = {{"t_ref", t_ref}, {strcmp(model, "adex") ? "i_e" : "I_e", strcmp(model, "adex") ? 100.0 : 5000.0}};
    d.params = pv;
    d.n_params = t_ref >= 0 ? 2 : 0;
    ASSERT_OK(n4d_model_add_population(m, &d, NULL), m);
    return m;
}

static void test_refractory_api(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    n4d_model *m = NULL;
    OK(n4d_model_create(ctx, &m));
    const uint32_t shape[4] = {2, 2, 1, 1};
    const int32_t lo[4] = {0, 0, 0, 0}, hi[4] = {1, 1, 0, 0};
    ASSERT_OK(n4d_model_set_lattice(m, shape), m);
    ASSERT_OK(n4d_model_add_area(m, "a", lo, hi), m);
    n4d_population_desc d;
    n4d_population_desc_init(&d);
    d.name = "P";
    d.area = "a";
    const char *models[] = {"lif", "lif_exp", "lif_cond_exp", "adex"};
    for (int k = 0; k < 4; k++) {
        d.model_name = models[k];
        n4d_param_value pv = {"t_ref", 1e10};
        d.params = &pv;
        d.n_params = 1;
        ASSERT_ERR_MSG(n4d_model_add_population(m, &d, NULL), N4D_E_RANGE, m,
                       "t_ref 1e+10 ms is 1e+11 steps of dt 0.1 ms (at most 1e9 steps)");
    }
    n4d_model_destroy(m);
    /* the setter, and dt changed under an existing period */
    m = one_pop_model(ctx, "lif", 5.0);
    ASSERT_ERR_MSG(n4d_model_set_population_param(m, "P", "t_ref", 1e10), N4D_E_RANGE, m,
                   "population \"P\" (model lif): t_ref 1e+10 ms");
    ASSERT_OK(n4d_model_set_population_param(m, "P", "t_ref", 2000.0), m);
    ASSERT_ERR_MSG(n4d_model_set_dt(m, 1e-6), N4D_E_RANGE, m,
                   "t_ref 2000 ms is 2e+09 steps of dt 1e-06 ms");
    ASSERT_ERR_MSG(n4d_model_set_dt(m, 1e-300), N4D_E_RANGE, m,
                   "dt 1e-300 ms is invalid (expected 1e-06 <= dt <= 1000)");
    ASSERT_ERR_MSG(n4d_model_set_dt(m, 5e-7), N4D_E_RANGE, m, "expected 1e-06 <= dt");
    ASSERT_OK(n4d_model_set_dt(m, 0.1), m);
    assert_true(n4d_model_dt(m) == 0.1);
    n4d_model_destroy(m);
    assert_int_equal(mem_current(ctx), 0);
    n4d_context_destroy(ctx);
}

/* A long but allowed period keeps the neuron refractory: driven hard, it
 * fires once in 1000 steps (refractoriness used to vanish past int32). */
static void test_refractory_long_holds(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    const char *models[] = {"lif_exp", "adex"};
    for (int k = 0; k < 2; k++) {
        n4d_model *m = one_pop_model(ctx, models[k], 1e7); /* 1e8 steps */
        ASSERT_OK(n4d_model_build(m), m);
        n4d_sim_options o;
        n4d_sim_options_init(&o);
        o.backend = "cpu-ref";
        n4d_sim *sim = NULL;
        ASSERT_OK(n4d_sim_create(m, &o, &sim), m);
        ASSERT_OK(n4d_sim_run(sim, 1000), sim);
        const uint64_t spikes = n4d_sim_total_spikes(sim);
        CHECK(spikes == 4, "%s: %llu spikes of 4 neurons (expected one each)", models[k],
              (unsigned long long)spikes);
        n4d_sim_destroy(sim);
        n4d_model_destroy(m);
    }
    n4d_context_destroy(ctx);
}

static void test_refractory_config(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    load_fails(ctx,
               "{\"dt\": 0.1, " AREA_2x2 ", \"neuron_model\": {\"type\": \"lif\", "
               "\"params_default\": {\"refractory_period\": 1e10}}, \"populations\": "
               "[{\"name\": \"P\", \"area\": \"a\"}]}",
               N4D_E_CONFIG, "population \"P\" (model lif): t_ref 1e+10 ms is 1e+11 steps");
    load_fails(ctx, "{\"dt\": 1e-300, " AREA_2x2 "}", N4D_E_CONFIG,
               "dt 1e-300 ms is invalid (expected 1e-06 <= dt <= 1000)");
    n4d_context_destroy(ctx);
}

/* The 4D Neural Cognition JSON save with refractory_period 1e10. */
static void test_refractory_4dnc(void **state)
{
    (void)state;
    char src[1024], dst[1024];
    snprintf(src, sizeof src, "%s/tests/data/4dnc_small_model.json", N4D_SOURCE_DIR);
    snprintf(dst, sizeof dst, "%s/test_hostile_4dnc_%d.json", N4D_BINARY_DIR, (int)getpid());
    FILE *f = fopen(src, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 16);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    fclose(f);
    /* every "refractory_period": 5.0 (the config's and each neuron's) */
    char *out = malloc(2 * (size_t)n + 16), *o = out;
    const char *key = "\"refractory_period\": 5.0", *p = s;
    int hits = 0;
    for (const char *at; (at = strstr(p, key)); p = at + strlen(key), hits++) {
        memcpy(o, p, (size_t)(at - p));
        o += at - p;
        o += sprintf(o, "\"refractory_period\": 1e10");
    }
    strcpy(o, p);
    assert_true(hits > 1);
    free(s);
    s = out;
    f = fopen(dst, "wb");
    assert_non_null(f);
    fputs(s, f);
    fclose(f);
    free(s);
    n4d_context *ctx = new_ctx();
    n4d_model *m = NULL;
    n4d_status st = n4d_model_import_4dnc(ctx, dst, NULL, &m);
    CHECK(st != N4D_OK && strstr(n4d_last_error(ctx), "t_ref 1e+10 ms"), "import -> %d: %s",
          (int)st, n4d_last_error(ctx));
    assert_null(m);
    assert_int_equal(mem_current(ctx), 0);
    n4d_context_destroy(ctx);
    unlink(dst);
}

/* ---- 5. the synapse limit before any work ---------------------------------- */

static void test_synapse_limit_first(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    static const char area[] =
        "\"lattice_shape\": [10000, 10000, 1, 1], \"areas\": [{\"name\": \"a\", "
        "\"coord_ranges\": {\"x\": [0, 9999], \"y\": [0, 9999], \"z\": [0, 0], \"w\": [0, 0]}}], "
        "\"neuron_model\": {\"type\": \"lif\"}, \"populations\": [{\"name\": \"E\", \"area\": "
        "\"a\"}], ";
    static const char *rules[] = {
        "\"rule\": \"all_to_all\"",
        "\"rule\": \"fixed_probability\", \"p\": 0.5",
        "\"rule\": \"fixed_indegree\", \"indegree\": 100000",
        "\"rule\": \"distance\", \"p\": 1.0, \"kernel\": \"gaussian\", \"sigma\": 1000, "
        "\"cutoff\": 5000",
    };
    static const char *want[] = {
        "needs about 1e+16 synapses (80.0 PB of synapses",
        "needs about 5e+15 synapses (40.0 PB of synapses",
        "needs about 1e+13 synapses (80.0 TB of synapses",
        "the limit is 2^40",
    };
    for (int k = 0; k < 4; k++) {
        char json[1024];
        snprintf(json, sizeof json,
                 "{%s\"projections\": [{\"source\": \"E\", \"target\": \"E\", %s, \"weight\": "
                 "1.0}]}",
                 area, rules[k]);
        n4d_model *m = NULL;
        ASSERT_OK(n4d_model_from_json_string(ctx, json, strlen(json), "big.json", &m), ctx);
        /* refused at once: nothing placed (1e8 neurons would take 1.6 GB) */
        ASSERT_ERR_MSG(n4d_model_build(m), N4D_E_LIMIT, m, want[k]);
        n4d_memory_stats ms;
        memset(&ms, 0, sizeof ms);
        ms.struct_size = sizeof ms;
        OK(n4d_context_memory(ctx, &ms));
        CHECK(ms.peak[N4D_MEM_NEURONS] == 0 && ms.peak[N4D_MEM_BUILD] == 0,
              "%s: %llu bytes of neurons, %llu of build memory before the refusal", rules[k],
              (unsigned long long)ms.peak[N4D_MEM_NEURONS],
              (unsigned long long)ms.peak[N4D_MEM_BUILD]);
        n4d_model_destroy(m);
    }
    assert_int_equal(mem_current(ctx), 0);
    n4d_context_destroy(ctx);
}

/* The context's memory limit: a model whose expected synapses do not fit in
 * what is left is refused before the build places anything; the same model
 * builds with room; a limit hit during the build fails cleanly. */
static void test_memory_limit(void **state)
{
    (void)state;
    static const char json[] =
        "{\"lattice_shape\": [100, 100, 1, 1], \"areas\": [{\"name\": \"a\", "
        "\"coord_ranges\": {\"x\": [0, 99], \"y\": [0, 99], \"z\": [0, 0], \"w\": [0, 0]}}], "
        "\"neuron_model\": {\"type\": \"lif\"}, \"populations\": [{\"name\": \"E\", \"area\": "
        "\"a\"}], \"projections\": [{\"name\": \"EE\", \"source\": \"E\", \"target\": \"E\", "
        "\"rule\": \"fixed_probability\", \"p\": 0.5, \"weight\": 1.0}]}";
    /* 1e4 neurons, about 5e7 synapses: 400 MB. Limits: 64 MiB (refused by
     * the estimate), 2 GiB (builds; its peak is measured), then between
     * the estimate and that peak (passes the estimate, runs out during the
     * build: N4D_E_NOMEM, nothing left allocated) */
    uint64_t limits[3] = {64u << 20, 2048u << 20, 0}, peak = 0;
    for (int k = 0; k < 3; k++) {
        n4d_context_options co;
        n4d_context_options_init(&co);
        co.memory_limit = limits[k];
        n4d_context *ctx = NULL;
        OK(n4d_context_create(&co, &ctx));
        n4d_model *m = NULL;
        ASSERT_OK(n4d_model_from_json_string(ctx, json, strlen(json), "limit.json", &m), ctx);
        n4d_status st = n4d_model_build(m);
        n4d_memory_stats ms;
        memset(&ms, 0, sizeof ms);
        ms.struct_size = sizeof ms;
        OK(n4d_context_memory(ctx, &ms));
        if (k == 0) {
            ASSERT_ERR_MSG(st, N4D_E_LIMIT, m,
                           "needs about 5e+07 synapses (400.0 MB of synapses at 8 bytes each; "
                           "projection \"EE\", fixed_probability from 1e+04 to 1e+04 neurons");
            CHECK(strstr(n4d_last_error(m), "memory limit of 67.1 MB leaves"), "%s",
                  n4d_last_error(m));
            CHECK(ms.peak[N4D_MEM_NEURONS] == 0, "%llu bytes of neurons before the refusal",
                  (unsigned long long)ms.peak[N4D_MEM_NEURONS]);
        } else if (k == 1) {
            ASSERT_OK(st, m);
            peak = ms.total_peak;
            CHECK(peak <= limits[k] && peak > 400000000u, "peak %llu",
                  (unsigned long long)peak);
            limits[2] = 400000000u + (peak - 400000000u) / 2;
        } else {
            ASSERT_ERR_MSG(st, N4D_E_NOMEM, m, "");
            CHECK(ms.total_peak <= limits[k], "peak %llu above the limit %llu",
                  (unsigned long long)ms.total_peak, (unsigned long long)limits[k]);
        }
        n4d_model_destroy(m);
        assert_int_equal(mem_current(ctx), 0);
        n4d_context_destroy(ctx);
    }
}

/* ---- 6. many names --------------------------------------------------------- */

static void test_many_names(void **state)
{
    (void)state;
    enum { P = 20000 };
    size_t cap = 400 + (size_t)P * 200, n = 0;
    char *s = malloc(cap);
    assert_non_null(s);
    n += (size_t)snprintf(s + n, cap - n,
                          "{\"lattice_shape\": [%d, 1, 1, 1], \"areas\": [{\"name\": \"a\", "
                          "\"coord_ranges\": {\"x\": [0, %d], \"y\": [0, 0], \"z\": [0, 0], "
                          "\"w\": [0, 0]}}], \"populations\": [",
                          P, P - 1);
    for (int i = 0; i < P; i++)
        n += (size_t)snprintf(s + n, cap - n, "%s{\"name\": \"p%d\", \"area\": \"a\", \"count\": 1}",
                              i ? ", " : "", i);
    n += (size_t)snprintf(s + n, cap - n, "], \"projections\": [");
    for (int i = 0; i < P; i++)
        n += (size_t)snprintf(s + n, cap - n,
                              "%s{\"name\": \"j%d\", \"source\": \"p%d\", \"target\": \"p%d\", "
                              "\"rule\": \"all_to_all\", \"weight\": 1.0}",
                              i ? ", " : "", i, i, (i + 7) % P);
    size_t head = n;
    snprintf(s + n, cap - n, "]}");
    n4d_context *ctx = new_ctx();
    n4d_model *m = NULL;
    ASSERT_OK(n4d_model_from_json_string(ctx, s, strlen(s), "many.json", &m), ctx);
    for (int i = 0; i < P; i += 997) {
        char name[32];
        snprintf(name, sizeof name, "p%d", i);
        assert_int_equal(n4d_model_find_population(m, name), i);
    }
    assert_int_equal(n4d_model_find_population(m, "p20000"), N4D_E_RANGE);
    assert_int_equal(n4d_model_find_population(m, "p"), N4D_E_RANGE);
    /* (no build: its pair tables are n_pops^2) */
    n4d_model_destroy(m);
    /* a duplicate projection name at the end is found */
    snprintf(s + head, cap - head,
             ", {\"name\": \"j123\", \"source\": \"p1\", \"target\": \"p2\", \"rule\": "
             "\"all_to_all\"}]}");
    load_fails(ctx, s, N4D_E_CONFIG, "duplicate projection name \"j123\"");
    n4d_context_destroy(ctx);
    free(s);
}

#if N4D_TEST_HDF5
/* ---- HDF5 files ------------------------------------------------------------ */

static char g_dir[1024];

static const char *path_of(const char *name)
{
    static char buf[4][1400];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", g_dir, name);
    return buf[k];
}

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "%s/test_hostile_XXXXXX", N4D_BINARY_DIR);
    return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    const char *names[] = {"m.h5", "ck.h5", "bad.h5", "4dnc.h5"};
    for (int i = 0; i < 4; i++)
        unlink(path_of(names[i]));
    rmdir(g_dir);
    return 0;
}

static void copy_file(const char *from, const char *to)
{
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    assert_non_null(a);
    assert_non_null(b);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, a)) > 0)
        assert_int_equal(fwrite(buf, 1, n, b), n);
    fclose(a);
    fclose(b);
}

/* Replaces dataset `path` by a chunked one of the same type and `rank`
 * dims that is never written. */
static void put_unwritten(hid_t f, const char *path, int rank, const hsize_t *dims)
{
    hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
    assert_true(d >= 0);
    hid_t t = H5Dget_type(d);
    H5Dclose(d);
    assert_true(H5Ldelete(f, path, H5P_DEFAULT) >= 0);
    hsize_t chunk[2] = {1 << 16, rank == 2 ? dims[1] : 1};
    hid_t sp = H5Screate_simple(rank, dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    assert_true(H5Pset_chunk(dcpl, rank, chunk) >= 0);
    d = H5Dcreate2(f, path, t, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    assert_true(d >= 0);
    H5Dclose(d);
    H5Pclose(dcpl);
    H5Sclose(sp);
    H5Tclose(t);
}

/* Scalar attribute obj:name replaced by v of `type`. */
static void set_attr(hid_t f, const char *obj, const char *name, hid_t type, const void *v)
{
    assert_true(H5Adelete_by_name(f, obj, name, H5P_DEFAULT) >= 0);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate_by_name(f, obj, name, type, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(a >= 0);
    assert_true(H5Awrite(a, type, v) >= 0);
    H5Aclose(a);
    H5Sclose(sp);
}

/* Element `index` of dataset `path` (any shape; read and written as
 * mem_type of `elem` bytes) set to *value. */
static void poke(const char *file, const char *path, hid_t mem_type, size_t elem, size_t index,
                 const void *value)
{
    hid_t f = H5Fopen(file, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f >= 0);
    hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
    CHECK(d >= 0, "%s: no dataset %s", file, path);
    hid_t sp = H5Dget_space(d);
    size_t n = (size_t)H5Sget_simple_extent_npoints(sp);
    assert_true(index < n);
    char *buf = malloc(n * elem);
    assert_true(H5Dread(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
    memcpy(buf + index * elem, value, elem);
    assert_true(H5Dwrite(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
    free(buf);
    H5Sclose(sp);
    H5Dclose(d);
    H5Fclose(f);
}

static uint64_t peak_bytes(n4d_context *ctx)
{
    n4d_memory_stats ms;
    memset(&ms, 0, sizeof ms);
    ms.struct_size = sizeof ms;
    OK(n4d_context_memory(ctx, &ms));
    return ms.total_peak;
}

static n4d_model *small_model(n4d_context *ctx)
{
    static const char json[] =
        "{\"dt\": 0.1, \"seed\": 3, \"lattice_shape\": [4, 4, 1, 1], \"areas\": [{\"name\": "
        "\"a\", \"coord_ranges\": {\"x\": [0, 3], \"y\": [0, 3], \"z\": [0, 0], \"w\": [0, "
        "0]}}], \"neuron_model\": {\"type\": \"lif_exp\"}, \"populations\": [{\"name\": \"E\", "
        "\"area\": \"a\", \"v_init\": {\"uniform\": [-70, -50]}}], \"projections\": "
        "[{\"source\": \"E\", \"target\": \"E\", \"rule\": \"fixed_probability\", \"p\": 0.3, "
        "\"weight\": 2.0, \"delay\": 1.5}], \"inputs\": [{\"type\": \"poisson\", \"target\": "
        "\"E\", \"rate\": 8000, \"weight\": 1.0}]}";
    n4d_model *m = NULL;
    ASSERT_OK(n4d_model_from_json_string(ctx, json, sizeof json - 1, "small.json", &m), ctx);
    ASSERT_OK(n4d_model_build(m), m);
    return m;
}

/* 1 (saved model) and 3: a model file's dt attribute of 1e-310; a file
 * declaring 1.5e9 synapses in never-written datasets. */
static void test_model_file_sizes(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    n4d_model *m = small_model(ctx);
    ASSERT_OK(n4d_model_save(m, path_of("m.h5"), NULL), m);
    n4d_model_destroy(m);

    copy_file(path_of("m.h5"), path_of("bad.h5"));
    hid_t f = H5Fopen(path_of("bad.h5"), H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f >= 0);
    const double tiny = 1e-310;
    set_attr(f, "/n4d", "dt", H5T_NATIVE_DOUBLE, &tiny);
    H5Fclose(f);
    ASSERT_ERR_MSG(n4d_model_load(ctx, path_of("bad.h5"), NULL, &m), N4D_E_FORMAT, ctx,
                   "/n4d attribute \"dt\": dt 1e-310 ms is invalid");
    assert_null(m);

    copy_file(path_of("m.h5"), path_of("bad.h5"));
    f = H5Fopen(path_of("bad.h5"), H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f >= 0);
    const hsize_t S = 1500000000ull;
    put_unwritten(f, "/n4d/synapses/target", 1, &S);
    put_unwritten(f, "/n4d/synapses/weight_q", 1, &S);
    const uint64_t S64 = S;
    set_attr(f, "/n4d/synapses", "n_syn", H5T_NATIVE_UINT64, &S64);
    H5Fclose(f);
    struct stat sb;
    assert_int_equal(stat(path_of("bad.h5"), &sb), 0);
    assert_true(sb.st_size < 200000);
    ASSERT_ERR_MSG(n4d_model_load(ctx, path_of("bad.h5"), NULL, &m), N4D_E_FORMAT, ctx,
                   "declares 6000000000 bytes of data but stores only 0 bytes");
    assert_null(m);
    assert_non_null(strstr(n4d_last_error(ctx), "/n4d/synapses/target"));
    n4d_load_options lo;
    n4d_load_options_init(&lo);
    lo.mmap_synapses = 1;
    ASSERT_ERR_MSG(n4d_model_load(ctx, path_of("bad.h5"), &lo, &m), N4D_E_FORMAT, ctx,
                   "stores only 0 bytes");
    CHECK(peak_bytes(ctx) < 16u << 20, "peak %llu bytes", (unsigned long long)peak_bytes(ctx));
    assert_int_equal(mem_current(ctx), 0);
    n4d_context_destroy(ctx);
}

/* 4: the 4DNC HDF5 save with a 5e7 x 10 neurons dataset of no data. */
static void test_4dnc_h5_sizes(void **state)
{
    (void)state;
    char src[1024];
    snprintf(src, sizeof src, "%s/tests/data/4dnc_small_model.h5", N4D_SOURCE_DIR);
    copy_file(src, path_of("4dnc.h5"));
    hid_t f = H5Fopen(path_of("4dnc.h5"), H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f >= 0);
    const hsize_t dims[2] = {50000000, 10};
    put_unwritten(f, "/neurons", 2, dims);
    H5Fclose(f);
    n4d_context *ctx = new_ctx();
    n4d_model *m = NULL;
    ASSERT_ERR_MSG(n4d_model_import_4dnc(ctx, path_of("4dnc.h5"), NULL, &m), N4D_E_FORMAT, ctx,
                   "but stores only 0 bytes");
    assert_non_null(strstr(n4d_last_error(ctx), "neurons"));
    assert_null(m);
    CHECK(peak_bytes(ctx) < 16u << 20, "peak %llu bytes", (unsigned long long)peak_bytes(ctx));
    assert_int_equal(mem_current(ctx), 0);
    n4d_context_destroy(ctx);
}

/* 2: a checkpoint's ring, refractory counts and V, restored checked. */
static void test_resume_state(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    n4d_model *m = small_model(ctx);
    n4d_sim_options o;
    n4d_sim_options_init(&o);
    o.backend = "cpu-ref";
    n4d_sim *sim = NULL;
    ASSERT_OK(n4d_sim_create(m, &o, &sim), m);
    ASSERT_OK(n4d_sim_run(sim, 30), sim);
    ASSERT_OK(n4d_sim_checkpoint(sim, path_of("ck.h5"), NULL), sim);
    n4d_sim_destroy(sim);
    n4d_model_destroy(m);

    n4d_model *m2 = NULL;
    n4d_sim *s2 = NULL;
    ASSERT_OK(n4d_sim_resume(ctx, path_of("ck.h5"), NULL, &m2, &s2), ctx); /* the base is good */
    n4d_sim_destroy(s2);
    n4d_model_destroy(m2);

    const int64_t huge = (int64_t)1 << 62, edge = (int64_t)1 << 51, below = edge - 1;
    const int32_t neg = -1, big = 2000000000;
    const float nan = NAN, inf = INFINITY;
    struct {
        const char *dset;
        hid_t type;
        size_t elem, index;
        const void *value;
        const char *want; /* NULL: resumes */
    } cases[] = {
        {"/n4d/state/ring", H5T_NATIVE_INT64, 8, 3, &huge, "beyond the fixed-point range"},
        {"/n4d/state/ring", H5T_NATIVE_INT64, 8, 17, &edge, "is 2251799813685248, beyond"},
        {"/n4d/state/ring", H5T_NATIVE_INT64, 8, 17, &below, NULL},
        {"/n4d/state/refractory", H5T_NATIVE_INT32, 4, 2, &neg, "refractory count -1 is outside"},
        {"/n4d/state/refractory", H5T_NATIVE_INT32, 4, 2, &big,
         "refractory count 2000000000 is outside [0, 1000000000]"},
        {"/n4d/state/v", H5T_NATIVE_FLOAT, 4, 5, &nan, "neuron 5 (population \"E\"): V is nan"},
        {"/n4d/state/x1", H5T_NATIVE_FLOAT, 4, 6, &inf, "state variable x1 is inf"},
        {"/n4d/state/iext", H5T_NATIVE_FLOAT, 4, 7, &nan, "/n4d/state/iext"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        copy_file(path_of("ck.h5"), path_of("bad.h5"));
        poke(path_of("bad.h5"), cases[k].dset, cases[k].type, cases[k].elem, cases[k].index,
             cases[k].value);
        m2 = NULL;
        s2 = NULL;
        if (!cases[k].want) {
            ASSERT_OK(n4d_sim_resume(ctx, path_of("bad.h5"), NULL, &m2, &s2), ctx);
            n4d_sim_destroy(s2);
            n4d_model_destroy(m2);
            continue;
        }
        ASSERT_ERR_MSG(n4d_sim_resume(ctx, path_of("bad.h5"), NULL, &m2, &s2), N4D_E_FORMAT,
                       ctx, cases[k].want);
        assert_null(m2);
        assert_null(s2);
    }
    assert_int_equal(mem_current(ctx), 0);
    n4d_context_destroy(ctx);
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refractory_api),
        cmocka_unit_test(test_refractory_long_holds),
        cmocka_unit_test(test_refractory_config),
        cmocka_unit_test(test_refractory_4dnc),
        cmocka_unit_test(test_synapse_limit_first),
        cmocka_unit_test(test_memory_limit),
        cmocka_unit_test(test_many_names),
#if N4D_TEST_HDF5
        cmocka_unit_test(test_model_file_sizes),
        cmocka_unit_test(test_4dnc_h5_sizes),
        cmocka_unit_test(test_resume_state),
#endif
    };
#if N4D_TEST_HDF5
    if (!getenv("N4D_TEST_H5_ERRORS"))
        H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    return cmocka_run_group_tests(tests, setup, teardown);
#else
    return cmocka_run_group_tests(tests, NULL, NULL);
#endif
}
