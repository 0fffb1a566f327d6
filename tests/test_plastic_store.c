#define _POSIX_C_SOURCE 200809L /* setenv */
/* Storage of learning runs (docs/storage.md, docs/plasticity.md): checkpoint
 * and resume of plastic sims, bitwise against one uninterrupted run, across
 * backends, thread counts and layouts (hebb_4dnc on an imported 4DNC
 * sample, stdp all-to-all and nearest, tsodyks); the learned weights saved
 * as a model (n4d_sim_save_model); weights recorded over time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h" /* the model's fixed-point scale */
#include "n4d.h"
#include "test_util.h"
#pragma GCC diagnostic push /* the helpers of test_models.h; not all of its models */
#pragma GCC diagnostic ignored "-Wunused-function"
#include "test_models.h"
#pragma GCC diagnostic pop

#if N4D_TEST_HDF5 /* set by tests/store_h5py.cmake when the library has HDF5 */
#include <hdf5.h>

static n4d_context *new_ctx(void)
{
    n4d_context *ctx = NULL;
    OK(n4d_context_create(NULL, &ctx));
    return ctx;
}

static const char *tmp_path(const char *name)
{
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/plastic_store_%s", N4D_BINARY_DIR, name);
    return buf[k];
}

/* ---- a learning network ------------------------------------------------------------------
 * 300 E + 100 I lif_exp under Poisson drive; E->E stdp (random weights and
 * delays of 1..8 steps: dendritic delays), E->I tsodyks, I->E and I->I
 * static. */
static int g_nearest;

static n4d_model *learn_model(n4d_context *ctx, uint64_t seed)
{
    const uint32_t shape[4] = {10, 10, 4, 1};
    n4d_model *m = new_model(ctx, shape, seed);
    area(m, "exc", 0, 9, 0, 9, 0, 2, 0, 0);
    area(m, "inh", 0, 9, 0, 9, 3, 3, 0, 0);
    n4d_population_desc d;
    n4d_population_desc_init(&d);
    d.model = N4D_NEURON_LIF_EXP;
    d.v_init = n4d_dist_uniform(-65.0, -55.0);
    static const n4d_param_value np[] = {{"v_rest", -65.0}, {"t_ref", 2.0}};
    d.params = np;
    d.n_params = 2;
    d.name = "E";
    d.area = "exc";
    pop(m, &d);
    d.name = "I";
    d.area = "inh";
    pop(m, &d);
    const n4d_param_value sp[] = {{"lambda", 0.02}, {"alpha", 1.1},  {"mu_plus", 0.0},
                                  {"mu_minus", 0.0}, {"Wmax", 4.0},  {"tau_plus", 15.0},
                                  {"nearest", (double)g_nearest}};
    n4d_projection_desc p = proj("E", "E", N4D_RULE_FIXED_PROBABILITY, 0.1, 0);
    p.name = "ee";
    p.weight = n4d_dist_uniform(0.5, 2.5);
    p.delay = n4d_dist_uniform(0.1, 0.8);
    p.synapse_model = "stdp";
    p.synapse_params = sp;
    p.n_synapse_params = 7;
    projection(m, &p);
    const n4d_param_value tp[] = {{"U", 0.4}, {"u", 0.4}, {"tau_rec", 80.0}, {"tau_fac", 30.0}};
    p = proj("E", "I", N4D_RULE_FIXED_PROBABILITY, 0.1, 2.0);
    p.name = "ei";
    p.synapse_model = "tsodyks";
    p.synapse_params = tp;
    p.n_synapse_params = 4;
    projection(m, &p);
    p = proj("I", "E", N4D_RULE_FIXED_PROBABILITY, 0.1, -3.0);
    p.name = "ie";
    projection(m, &p);
    p = proj("I", "I", N4D_RULE_FIXED_PROBABILITY, 0.1, -2.0);
    p.name = "ii";
    projection(m, &p);
    n4d_input_desc in = poisson("E", 25.0, 1.2, 400);
    input(m, &in);
    in = poisson("I", 25.0, 1.0, 300);
    input(m, &in);
    build(m);
    return m;
}

/* ---- what a run leaves: spikes, checksum, every weight --------------------------------- */

typedef struct outcome {
    uint64_t n_spk, checksum, n_w;
    uint64_t *steps;
    uint32_t *ids, *src, *tgt;
    float *w;
} outcome;

static void outcome_take(n4d_sim *s, outcome *o)
{
    const uint64_t *st;
    const uint32_t *id;
    ASSERT_OK(n4d_sim_spikes(s, &st, &id, &o->n_spk), s);
    o->steps = malloc((o->n_spk + 1) * sizeof *o->steps);
    o->ids = malloc((o->n_spk + 1) * sizeof *o->ids);
    if (o->n_spk) { /* a sim that has not run yet has no arrays */
        memcpy(o->steps, st, o->n_spk * sizeof *st);
        memcpy(o->ids, id, o->n_spk * sizeof *id);
    }
    o->checksum = n4d_sim_checksum(s);
    ASSERT_OK(n4d_sim_get_weights(s, NULL, 0, NULL, NULL, NULL, &o->n_w), s);
    o->src = malloc((o->n_w + 1) * 4);
    o->tgt = malloc((o->n_w + 1) * 4);
    o->w = malloc((o->n_w + 1) * 4);
    ASSERT_OK(n4d_sim_get_weights(s, NULL, o->n_w, o->src, o->tgt, o->w, &o->n_w), s);
}

static void outcome_free(outcome *o)
{
    free(o->steps), free(o->ids), free(o->src), free(o->tgt), free(o->w);
}

static void outcome_same(const outcome *a, const outcome *b, const char *what)
{
    CHECK(a->n_spk == b->n_spk, "%s: %llu spikes, uninterrupted %llu", what,
          (unsigned long long)b->n_spk, (unsigned long long)a->n_spk);
    for (uint64_t k = 0; k < a->n_spk; k++)
        CHECK(a->steps[k] == b->steps[k] && a->ids[k] == b->ids[k],
              "%s: spike %llu differs (step %llu id %u, uninterrupted step %llu id %u)", what,
              (unsigned long long)k, (unsigned long long)b->steps[k], b->ids[k],
              (unsigned long long)a->steps[k], a->ids[k]);
    CHECK(a->checksum == b->checksum, "%s: checksum differs", what);
    CHECK(a->n_w == b->n_w, "%s: weight count", what);
    for (uint64_t k = 0; k < a->n_w; k++)
        CHECK(a->src[k] == b->src[k] && a->tgt[k] == b->tgt[k] &&
                  memcmp(&a->w[k], &b->w[k], sizeof(float)) == 0,
              "%s: synapse %llu (%u -> %u): weight %.9g, uninterrupted %.9g", what,
              (unsigned long long)k, b->src[k], b->tgt[k], (double)b->w[k], (double)a->w[k]);
}

/* ---- checkpoint / resume ------------------------------------------------------------------ */

static void *read_all(hid_t f, const char *path, hid_t type, size_t elem, hsize_t dims[2]);

/* Keeps the first `cols` (< 7) columns of recent_steps in checkpoint
 * `path` (chunked, so that it needs no n4d checksum): 3 is what versions
 * before 0.3.0 wrote. */
static void cut_recent(const char *path, hsize_t cols)
{
    static const char name[] = "/n4d/state/plastic/recent_steps";
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f >= 0);
    hsize_t dims[2];
    int64_t *r = read_all(f, name, H5T_NATIVE_INT64, sizeof(int64_t), dims);
    assert_true(dims[1] == 7);
    for (hsize_t u = 0; u < dims[0]; u++)
        memmove(r + u * cols, r + u * 7, cols * sizeof *r);
    assert_true(H5Ldelete(f, name, H5P_DEFAULT) >= 0);
    const hsize_t dc[2] = {dims[0], cols}, chunk[2] = {dims[0] ? dims[0] : 1, cols};
    hid_t sp = H5Screate_simple(2, dc, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    assert_true(H5Pset_chunk(dcpl, 2, chunk) >= 0);
    hid_t d = H5Dcreate2(f, name, H5T_STD_I64LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    assert_true(d >= 0);
    assert_true(H5Dwrite(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, r) >= 0);
    H5Dclose(d);
    H5Pclose(dcpl);
    H5Sclose(sp);
    H5Fclose(f);
    free(r);
}

/* S1 steps, a checkpoint, S2 more steps on each resume backend: the same
 * as S1 + S2 steps at once. `legacy`: the checkpoint made to look as
 * versions before 0.3.0 wrote it (cut_recent to 3 columns). */
static void resume_cases(n4d_context *ctx, n4d_model *m, uint64_t S1, uint64_t S2,
                         const char *label, bool legacy)
{
    n4d_sim *a = sim_on(m, "cpu-omp", 3);
    ASSERT_OK(n4d_sim_run(a, S1 + S2), a);
    outcome ref;
    outcome_take(a, &ref);
    assert_true(ref.n_spk > (S1 + S2) / 4); /* it is driven */
    n4d_sim_destroy(a);

    n4d_sim *b = sim_on(m, "cpu-omp", 3);
    ASSERT_OK(n4d_sim_run(b, S1), b);
    const char *ck = tmp_path("ckpt.h5");
    ASSERT_OK(n4d_sim_checkpoint(b, ck, NULL), b);
    n4d_sim_destroy(b);
    if (legacy)
        cut_recent(ck, 3);
    static const struct {
        const char *backend;
        int threads;
    } on[] = {{"cpu-ref", 1}, {"cpu-omp", 2}, {NULL, 0}};
    for (size_t k = 0; k < sizeof on / sizeof on[0]; k++) {
        n4d_resume_options ro;
        n4d_resume_options_init(&ro);
        ro.backend = on[k].backend;
        ro.num_threads = on[k].threads;
        n4d_model *m2 = NULL;
        n4d_sim *s2 = NULL;
        ASSERT_OK(n4d_sim_resume(ctx, ck, &ro, &m2, &s2), ctx);
        assert_int_equal(n4d_sim_current_step(s2), S1);
        ASSERT_OK(n4d_sim_run(s2, S2), s2);
        outcome got;
        outcome_take(s2, &got);
        char what[200];
        snprintf(what, sizeof what, "%s, resumed on %s", label,
                 on[k].backend ? on[k].backend : "the saved backend");
        outcome_same(&ref, &got, what);
        outcome_free(&got);
        n4d_sim_destroy(s2);
        n4d_model_destroy(m2);
    }
    outcome_free(&ref);
}

static void test_resume_stdp_tsodyks(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    n4d_layout_options zo;
    n4d_layout_options_init(&zo);
    zo.order = N4D_ORDER_ZORDER;
    for (int nearest = 0; nearest < 2; nearest++)
        for (int z = 0; z < 2; z++) {
            g_nearest = nearest;
            g_layout = z ? &zo : NULL;
            n4d_model *m = learn_model(ctx, 7);
            char label[100];
            snprintf(label, sizeof label, "stdp %s, %s order", nearest ? "nearest" : "all-to-all",
                     z ? "z" : "lattice");
            /* a checkpoint off the batch and flush grid, and one on it */
            resume_cases(ctx, m, 777, 800, label, false);
            resume_cases(ctx, m, 1024, 300, label, false);
            if (!nearest && !z) { /* a file of 0.2: 3 recent steps, the rest from the history */
                resume_cases(ctx, m, 777, 800, "stdp, a checkpoint of 0.2", true);
                /* neither 7 nor 3 columns: refused, naming the dataset */
                n4d_sim *b = sim_on(m, "cpu-omp", 2);
                ASSERT_OK(n4d_sim_run(b, 300), b);
                const char *ck = tmp_path("ckpt5.h5");
                ASSERT_OK(n4d_sim_checkpoint(b, ck, NULL), b);
                n4d_sim_destroy(b);
                cut_recent(ck, 5);
                n4d_model *m2 = NULL;
                n4d_sim *s2 = NULL;
                assert_int_equal(n4d_sim_resume(ctx, ck, NULL, &m2, &s2), N4D_E_FORMAT);
                assert_null(s2);
                CHECK(strstr(n4d_last_error(ctx), "recent_steps: has 5 columns, not 7 (or 3)"),
                      "message: %s", n4d_last_error(ctx));
            }
            n4d_model_destroy(m);
        }
    g_layout = NULL;
    g_nearest = 0;
    assert_int_equal(mem_current(ctx), 0);
    n4d_context_destroy(ctx);
}

/* hebb_4dnc: the 4DNC sample with its sense input fed every step. */
static void input_at(int t, float *vis, float *aud)
{
    for (int ix = 0; ix < 6; ix++)
        for (int iy = 0; iy < 6; iy++) {
            vis[ix * 6 + iy] = (ix == (t / 3) % 6 || (t * 7 + iy * 5) % 13 == 0) ? 200.0f : 0.0f;
            aud[ix * 6 + iy] = (t % 9 == 0 && (ix + iy) % 2 == 0) ? 400.0f : 0.0f;
        }
}

static void feed_run(n4d_sim *s, int from, int to)
{
    for (int t = from; t < to; t++) {
        float vis[36], aud[36];
        input_at(t, vis, aud);
        ASSERT_OK(n4d_sim_feed_sense(s, "vision", vis, 6, 6, 0), s);
        ASSERT_OK(n4d_sim_feed_sense(s, "audition", aud, 6, 6, 0), s);
        ASSERT_OK(n4d_sim_run(s, 1), s);
    }
}

static void test_resume_hebb_4dnc(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    n4d_model *m = NULL;
    ASSERT_OK(n4d_model_import_4dnc(ctx, N4D_SOURCE_DIR "/tests/data/4dnc_small_model.h5", NULL,
                                    &m),
              ctx);
    const int S1 = 137, S2 = 200;
    n4d_sim *a = sim_on(m, "cpu-omp", 2);
    feed_run(a, 0, S1 + S2);
    outcome ref;
    outcome_take(a, &ref);
    n4d_sim_destroy(a);
    assert_true(ref.n_spk > 100);
    n4d_sim *b = sim_on(m, "cpu-omp", 2);
    feed_run(b, 0, S1);
    const char *ck = tmp_path("hebb.h5");
    ASSERT_OK(n4d_sim_checkpoint(b, ck, NULL), b);
    n4d_sim_destroy(b);
    for (int k = 0; k < 2; k++) {
        n4d_resume_options ro;
        n4d_resume_options_init(&ro);
        ro.backend = k ? "cpu-omp" : "cpu-ref";
        ro.num_threads = k ? 3 : 1;
        n4d_model *m2 = NULL;
        n4d_sim *s2 = NULL;
        ASSERT_OK(n4d_sim_resume(ctx, ck, &ro, &m2, &s2), ctx);
        feed_run(s2, S1, S1 + S2);
        outcome got;
        outcome_take(s2, &got);
        outcome_same(&ref, &got, k ? "hebb_4dnc on cpu-omp 3" : "hebb_4dnc on cpu-ref");
        outcome_free(&got);
        n4d_sim_destroy(s2);
        n4d_model_destroy(m2);
    }
    outcome_free(&ref);
    n4d_model_destroy(m);
    assert_int_equal(mem_current(ctx), 0);
    n4d_context_destroy(ctx);
}


/* ---- the learned weights as a model ---------------------------------------------------- */

static void test_save_model(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    g_nearest = 0;
    n4d_model *m = learn_model(ctx, 11);
    n4d_sim *s = sim_on(m, "cpu-omp", 2);
    ASSERT_OK(n4d_sim_run(s, 1500), s);
    outcome learned;
    outcome_take(s, &learned);
    const char *path = tmp_path("learned.h5");
    ASSERT_OK(n4d_sim_save_model(s, path, NULL), s);

    n4d_model *m2 = NULL;
    ASSERT_OK(n4d_model_load(ctx, path, NULL, &m2), ctx);
    n4d_sim *s2 = sim_on(m2, "cpu-ref", 1);
    outcome loaded;
    outcome_take(s2, &loaded);
    /* every weight within half a quantum of the learned one; the plastic
     * ones moved away from the model's, the static ones kept */
    const double half = 0.5 * m->syn.inv_scale;
    assert_int_equal(loaded.n_w, learned.n_w);
    outcome initial;
    n4d_sim *s0 = sim_on(m, "cpu-ref", 1);
    outcome_take(s0, &initial);
    n4d_sim_destroy(s0);
    uint64_t moved = 0;
    for (uint64_t k = 0; k < learned.n_w; k++) {
        assert_int_equal(loaded.src[k], learned.src[k]);
        assert_int_equal(loaded.tgt[k], learned.tgt[k]);
        const double d = fabs((double)loaded.w[k] - (double)learned.w[k]);
        CHECK(d <= half + fabs((double)learned.w[k]) * 0x1p-24,
              "synapse %llu: loaded %.9g, learned %.9g (half quantum %g)", (unsigned long long)k,
              (double)loaded.w[k], (double)learned.w[k], half);
        moved += learned.w[k] != initial.w[k];
    }
    assert_true(moved > learned.n_w / 10);
    /* the classes and rules are kept: the loaded model goes on learning */
    assert_int_equal(m2->n_cls, m->n_cls);
    for (uint32_t k = 0; k < m->n_cls; k++) {
        assert_string_equal(m2->cls[k].name, m->cls[k].name);
        assert_ptr_equal(m2->cls[k].sm, m->cls[k].sm);
    }
    uint64_t n_ee = 0, n_ie = 0;
    ASSERT_OK(n4d_sim_get_weights(s2, "ee", 0, NULL, NULL, NULL, &n_ee), s2);
    ASSERT_OK(n4d_sim_get_weights(s2, "ie", 0, NULL, NULL, NULL, &n_ie), s2);
    float *w0 = malloc(n_ee * 4), *w1 = malloc(n_ee * 4), *i0 = malloc(n_ie * 4),
          *i1 = malloc(n_ie * 4);
    ASSERT_OK(n4d_sim_get_weights(s2, "ee", n_ee, NULL, NULL, w0, &n_ee), s2);
    ASSERT_OK(n4d_sim_get_weights(s2, "ie", n_ie, NULL, NULL, i0, &n_ie), s2);
    ASSERT_OK(n4d_sim_run(s2, 500), s2);
    ASSERT_OK(n4d_sim_get_weights(s2, "ee", n_ee, NULL, NULL, w1, &n_ee), s2);
    ASSERT_OK(n4d_sim_get_weights(s2, "ie", n_ie, NULL, NULL, i1, &n_ie), s2);
    assert_true(memcmp(w0, w1, n_ee * 4) != 0);
    assert_memory_equal(i0, i1, n_ie * 4);
    free(w0), free(w1), free(i0), free(i1);
    outcome_free(&loaded);
    outcome_free(&initial);
    outcome_free(&learned);
    n4d_sim_destroy(s2);
    n4d_model_destroy(m2);

    /* errors: no path, a directory that does not exist, a file in the way */
    ASSERT_ERR_MSG(n4d_sim_save_model(s, NULL, NULL), N4D_E_INVALID_ARG, s, "path is NULL");
    ASSERT_ERR_MSG(n4d_sim_save_model(s, tmp_path("no/such/dir/x.h5"), NULL), N4D_E_IO, s,
                   "no/such/dir/x.h5");
    char under_file[600];
    snprintf(under_file, sizeof under_file, "%s/x.h5", path);
    ASSERT_ERR_MSG(n4d_sim_save_model(s, under_file, NULL), N4D_E_IO, s, under_file);
    n4d_save_options so;
    n4d_save_options_init(&so);
    so.gzip_level = 42;
    so.compression = N4D_COMPRESSION_GZIP;
    assert_int_not_equal(n4d_sim_save_model(s, tmp_path("gz.h5"), &so), N4D_OK);
    assert_int_equal(n4d_sim_save_model(NULL, path, NULL), N4D_E_INVALID_ARG);
    n4d_sim_destroy(s);
    n4d_model_destroy(m);
    assert_int_equal(mem_current(ctx), 0);
    n4d_context_destroy(ctx);
}

/* ---- weights recorded over time ------------------------------------------------------------ */

static void *read_all(hid_t f, const char *path, hid_t type, size_t elem, hsize_t dims[2])
{
    hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
    assert_true(d >= 0);
    hid_t sp = H5Dget_space(d);
    dims[0] = dims[1] = 1;
    const int rank = H5Sget_simple_extent_ndims(sp);
    H5Sget_simple_extent_dims(sp, dims, NULL);
    const size_t n = (size_t)(dims[0] * (rank == 2 ? dims[1] : 1));
    void *buf = malloc((n + 1) * elem);
    if (n)
        assert_true(H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
    if (rank == 1)
        dims[1] = 0;
    H5Sclose(sp);
    H5Dclose(d);
    return buf;
}

/* Records proj every K steps from step `from` for `steps` steps; the rows
 * must be the weights n4d_sim_get_weights gives at those steps in a twin
 * sim. Returns whether any weight changed over the recording. */
static bool check_weight_report(n4d_model *m, const char *proj, uint32_t K, uint64_t from,
                                uint64_t steps, bool buffer_small)
{
    const char *path = tmp_path("weights.h5");
    n4d_sim *a = sim_on(m, "cpu-omp", 2), *b = sim_on(m, "cpu-ref", 1);
    ASSERT_OK(n4d_sim_run(a, from), a);
    ASSERT_OK(n4d_sim_run(b, from), b);
    n4d_record_options ro;
    n4d_record_options_init(&ro);
    ro.report_weights = proj;
    ro.report_every = K;
    if (buffer_small)
        ro.buffer_spikes = 100; /* rows written a few at a time */
    ASSERT_OK(n4d_sim_record_open(a, path, &ro), a);
    ASSERT_OK(n4d_sim_run(a, steps), a);
    ASSERT_OK(n4d_sim_record_close(a), a);

    uint64_t n = 0;
    ASSERT_OK(n4d_sim_get_weights(b, proj, 0, NULL, NULL, NULL, &n), b);
    uint32_t *src = malloc(n * 4), *tgt = malloc(n * 4);
    float *w = malloc(n * 4);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    char g[300];
    snprintf(g, sizeof g, "/report/weights/%s/", proj);
    char p[400];
    hsize_t dd[2], ds[2], dt[2], dtime[2];
    snprintf(p, sizeof p, "%sdata", g);
    float *data = read_all(f, p, H5T_NATIVE_FLOAT, 4, dd);
    snprintf(p, sizeof p, "%smapping/source_ids", g);
    uint32_t *fs = read_all(f, p, H5T_NATIVE_UINT32, 4, ds);
    snprintf(p, sizeof p, "%smapping/target_ids", g);
    uint32_t *ft = read_all(f, p, H5T_NATIVE_UINT32, 4, dt);
    snprintf(p, sizeof p, "%smapping/time", g);
    double *tm = read_all(f, p, H5T_NATIVE_DOUBLE, 8, dtime);
    H5Fclose(f);
    const uint64_t first = (from + K - 1) / K * K, rows = (from + steps - first) / K + 1;
    assert_int_equal(dd[0], rows);
    assert_int_equal(dd[1], n);
    assert_int_equal(ds[0], n);
    assert_int_equal(dt[0], n);
    assert_int_equal(dtime[0], 3);
    const double dtms = n4d_sim_dt(b);
    assert_true(tm[0] == (double)first * dtms && tm[1] == (double)(first + rows * K) * dtms &&
                tm[2] == (double)K * dtms);
    bool changed = false;
    for (uint64_t r = 0; r < rows; r++) {
        ASSERT_OK(n4d_sim_run(b, first + r * K - n4d_sim_current_step(b)), b);
        ASSERT_OK(n4d_sim_get_weights(b, proj, n, src, tgt, w, &n), b);
        if (r == 0) {
            assert_memory_equal(src, fs, n * 4);
            assert_memory_equal(tgt, ft, n * 4);
        }
        for (uint64_t k = 0; k < n; k++)
            CHECK(memcmp(&w[k], &data[r * n + k], 4) == 0,
                  "%s row %llu (step %llu) synapse %llu: recorded %.9g, get_weights %.9g", proj,
                  (unsigned long long)r, (unsigned long long)(first + r * K),
                  (unsigned long long)k, (double)data[r * n + k], (double)w[k]);
        changed |= r > 0 && memcmp(&data[r * n], &data[(r - 1) * n], n * 4) != 0;
    }
    free(src), free(tgt), free(w), free(data), free(fs), free(ft), free(tm);
    n4d_sim_destroy(a);
    n4d_sim_destroy(b);
    return changed;
}

static void test_record_weights(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    g_nearest = 1;
    n4d_model *m = learn_model(ctx, 5);
    assert_true(check_weight_report(m, "ee", 50, 0, 600, false));  /* stdp learns */
    assert_true(check_weight_report(m, "ee", 7, 33, 200, true));   /* off the grid, small buffer */
    assert_false(check_weight_report(m, "ie", 25, 10, 300, true)); /* static: constant */
    assert_false(check_weight_report(m, "ei", 25, 0, 300, false)); /* tsodyks: its weights */
    n4d_model_destroy(m);
    g_nearest = 0;

    /* hebb_4dnc: the weights decay lazily; the rows still match */
    ASSERT_OK(n4d_model_import_4dnc(ctx, N4D_SOURCE_DIR "/tests/data/4dnc_small_model.h5", NULL,
                                    &m),
              ctx);
    assert_true(check_weight_report(m, "4dnc", 10, 0, 100, false));
    n4d_model_destroy(m);

    /* errors: unknown projection, K = 0 */
    g_nearest = 0;
    m = learn_model(ctx, 5);
    n4d_sim *s = sim_on(m, "cpu-ref", 1);
    n4d_record_options ro;
    n4d_record_options_init(&ro);
    ro.report_weights = "nope";
    ASSERT_ERR_MSG(n4d_sim_record_open(s, tmp_path("w_err.h5"), &ro), N4D_E_INVALID_ARG, s,
                   "no projection or synapse class \"nope\"");
    ro.report_weights = "ee";
    ro.report_every = 0;
    ASSERT_ERR_MSG(n4d_sim_record_open(s, tmp_path("w_err.h5"), &ro), N4D_E_INVALID_ARG, s,
                   "report_every is 0");
    n4d_sim_destroy(s);
    n4d_model_destroy(m);
    assert_int_equal(mem_current(ctx), 0);
    n4d_context_destroy(ctx);
}

/* ---- plastic synapses on the cuda backend ---------------------------------------------------
 * The same spikes, checksum and weights as cpu-ref, bit for bit, with the
 * weights read (a device -> host copy) in the middle of the run, and a
 * checkpoint of the cuda sim resumed on cpu-ref and on cuda. Skipped where
 * the cuda backend cannot run (no library, no device); tests/build_device.cmake
 * runs them against tests/mock_cuda.c, a GPU machine against the kernels. */

static bool cuda_usable(n4d_model *m)
{
    n4d_sim_options o;
    n4d_sim_options_init(&o);
    o.backend = "cuda";
    n4d_sim *s = NULL;
    const n4d_status st = n4d_sim_create(m, &o, &s);
    if (st == N4D_E_NOT_BUILT || st == N4D_E_NO_DEVICE) {
        printf("cuda cases skipped: %s\n", n4d_last_error(m));
        return false;
    }
    ASSERT_OK(st, m);
    n4d_sim_destroy(s);
    return true;
}

/* `steps` steps (fed: the 4DNC senses) in two runs with a weight read in
 * between. */
static void run_split(n4d_sim *s, int fed, int from, int to)
{
    const int mid = from + (to - from) / 3;
    if (fed)
        feed_run(s, from, mid);
    else
        ASSERT_OK(n4d_sim_run(s, (uint64_t)(mid - from)), s);
    uint64_t n = 0;
    ASSERT_OK(n4d_sim_get_weights(s, NULL, 0, NULL, NULL, NULL, &n), s);
    if (fed)
        feed_run(s, mid, to);
    else
        ASSERT_OK(n4d_sim_run(s, (uint64_t)(to - mid)), s);
}

static void cuda_case(n4d_context *ctx, n4d_model *m, int fed, int S1, int S2, const char *label)
{
    n4d_sim *a = sim_on(m, "cpu-ref", 1);
    run_split(a, fed, 0, S1 + S2);
    outcome ref;
    outcome_take(a, &ref);
    n4d_sim_destroy(a);
    assert_true(ref.n_spk > 100);
    char what[200];
    n4d_sim *c = sim_on(m, "cuda", 0);
    run_split(c, fed, 0, S1 + S2);
    outcome got;
    outcome_take(c, &got);
    snprintf(what, sizeof what, "%s on cuda", label);
    outcome_same(&ref, &got, what);
    outcome_free(&got);
    n4d_sim_destroy(c);
    /* a checkpoint of the cuda sim: its host copy is current */
    c = sim_on(m, "cuda", 0);
    run_split(c, fed, 0, S1);
    const char *ck = tmp_path("cuda.h5");
    ASSERT_OK(n4d_sim_checkpoint(c, ck, NULL), c);
    n4d_sim_destroy(c);
    for (int k = 0; k < 2; k++) {
        n4d_resume_options ro;
        n4d_resume_options_init(&ro);
        ro.backend = k ? "cuda" : "cpu-ref";
        n4d_model *m2 = NULL;
        n4d_sim *s2 = NULL;
        ASSERT_OK(n4d_sim_resume(ctx, ck, &ro, &m2, &s2), ctx);
        run_split(s2, fed, S1, S1 + S2);
        outcome_take(s2, &got);
        snprintf(what, sizeof what, "%s, checkpoint on cuda resumed on %s", label, ro.backend);
        outcome_same(&ref, &got, what);
        outcome_free(&got);
        n4d_sim_destroy(s2);
        n4d_model_destroy(m2);
    }
    outcome_free(&ref);
}

static void test_cuda_plastic(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    n4d_model *m = NULL;
    ASSERT_OK(n4d_model_import_4dnc(ctx, N4D_SOURCE_DIR "/tests/data/4dnc_small_model.h5", NULL,
                                    &m),
              ctx);
    if (!cuda_usable(m)) {
        n4d_model_destroy(m);
        n4d_context_destroy(ctx);
        skip();
    }
    cuda_case(ctx, m, 1, 137, 200, "hebb_4dnc (4DNC import)");
    n4d_model_destroy(m);
    for (int nearest = 0; nearest < 2; nearest++) {
        g_nearest = nearest;
        m = learn_model(ctx, 7);
        cuda_case(ctx, m, 0, 777, 800,
                  nearest ? "stdp nearest + tsodyks" : "stdp all-to-all + tsodyks");
        n4d_model_destroy(m);
    }
    g_nearest = 0;
    assert_int_equal(mem_current(ctx), 0);
    n4d_context_destroy(ctx);
}

/* The device's spike histories have a fixed capacity: a rate bound too
 * low is a clear error, a bad one a config error. */
static void test_cuda_plastic_errors(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    n4d_model *m = learn_model(ctx, 7);
    if (!cuda_usable(m)) {
        n4d_model_destroy(m);
        n4d_context_destroy(ctx);
        skip();
    }
    n4d_sim_options o;
    n4d_sim_options_init(&o);
    o.backend = "cuda";
    n4d_sim *s = NULL;
    setenv("N4D_CUDA_MAX_RATE", "fast", 1);
    ASSERT_ERR_MSG(n4d_sim_create(m, &o, &s), N4D_E_CONFIG, m, "N4D_CUDA_MAX_RATE=\"fast\"");
    setenv("N4D_CUDA_MAX_RATE", "0.001", 1);
    ASSERT_OK(n4d_sim_create(m, &o, &s), m);
    unsetenv("N4D_CUDA_MAX_RATE");
    ASSERT_ERR_MSG(n4d_sim_run(s, 3000), N4D_E_LIMIT, s, "N4D_CUDA_MAX_RATE");
    n4d_sim_destroy(s);
    n4d_model_destroy(m);
    assert_int_equal(mem_current(ctx), 0);
    n4d_context_destroy(ctx);
}

int main(int argc, char **argv)
{
    if (!n4d_has_feature(N4D_FEATURE_HDF5)) {
        printf("SKIP: built without HDF5\n");
        return 77;
    }
    if (argc > 1 && strcmp(argv[1], "cuda") == 0) {
        const struct CMUnitTest cuda[] = {
            cmocka_unit_test(test_cuda_plastic),
            cmocka_unit_test(test_cuda_plastic_errors),
        };
        return cmocka_run_group_tests(cuda, NULL, NULL);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cuda_plastic),
        cmocka_unit_test(test_cuda_plastic_errors),
        cmocka_unit_test(test_resume_stdp_tsodyks),
        cmocka_unit_test(test_resume_hebb_4dnc),
        cmocka_unit_test(test_save_model),
        cmocka_unit_test(test_record_weights),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

#else

int main(void)
{
    printf("SKIP: built without HDF5\n");
    return 77;
}

#endif
