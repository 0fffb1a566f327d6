/* Checkpoint and resume of the learning state beside the synapses'
 * (docs/storage.md, "Checkpoints"): neuromodulator levels and driven
 * spikes in flight with stdp_dopamine, threshold and gain bindings;
 * homeostatic scales mid-window; the cell lifecycle with reproduction and
 * mutation. Each: a checkpoint on cpu-omp with 3 threads, resumed on
 * cpu-ref and on cpu-omp with 2 threads, continued, must equal one
 * uninterrupted run bit for bit (spikes, checksum, weights, levels,
 * scales, lineage). A checkpoint of 0.2 of a model whose sparse Poisson
 * blocks go into the delay ring is refused. */
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

#include "n4d.h"
#include "test_util.h"

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
    snprintf(buf[k], sizeof buf[k], "%s/learn_store_%s", N4D_BINARY_DIR, name);
    return buf[k];
}

/* ---- what a run leaves --------------------------------------------------------------------- */

typedef struct outcome {
    uint64_t n_spk, checksum, n_w, n, deaths, births;
    uint64_t *steps, *id, *age;
    uint32_t *ids, *gen;
    int64_t *parent;
    uint8_t *alive;
    float *w, *scale;
    double *health, level[8];
    int32_t n_mods;
} outcome;

static void outcome_take(n4d_sim *s, const n4d_model *m, outcome *o)
{
    memset(o, 0, sizeof *o);
    const uint64_t *st;
    const uint32_t *id;
    ASSERT_OK(n4d_sim_spikes(s, &st, &id, &o->n_spk), s);
    o->steps = malloc((o->n_spk + 1) * sizeof *o->steps);
    o->ids = malloc((o->n_spk + 1) * sizeof *o->ids);
    if (o->n_spk) {
        memcpy(o->steps, st, o->n_spk * sizeof *st);
        memcpy(o->ids, id, o->n_spk * sizeof *id);
    }
    o->checksum = n4d_sim_checksum(s);
    ASSERT_OK(n4d_sim_get_weights(s, NULL, 0, NULL, NULL, NULL, &o->n_w), s);
    o->w = malloc((o->n_w + 1) * 4);
    ASSERT_OK(n4d_sim_get_weights(s, NULL, o->n_w, NULL, NULL, o->w, &o->n_w), s);
    o->n_mods = n4d_model_num_modulators(m);
    assert_true(o->n_mods <= 8);
    for (int32_t k = 0; k < o->n_mods; k++)
        ASSERT_OK(n4d_sim_get_modulator(s, n4d_model_modulator_name(m, k), &o->level[k]), s);
    const uint64_t n = o->n = n4d_model_num_neurons(m);
    o->scale = malloc((n + 1) * sizeof *o->scale);
    ASSERT_OK(n4d_sim_get_homeostatic_scale(s, o->scale, n), s);
    o->id = malloc((n + 1) * 8), o->age = malloc((n + 1) * 8), o->gen = malloc((n + 1) * 4);
    o->parent = malloc((n + 1) * 8), o->alive = malloc(n + 1), o->health = malloc((n + 1) * 8);
    ASSERT_OK(n4d_sim_get_lineage(s, 0, n, o->id, o->gen, o->parent, o->alive, o->age, o->health),
              s);
    ASSERT_OK(n4d_sim_lifecycle_counts(s, &o->deaths, &o->births), s);
}

static void outcome_free(outcome *o)
{
    free(o->steps), free(o->ids), free(o->w), free(o->scale), free(o->id), free(o->age);
    free(o->gen), free(o->parent), free(o->alive), free(o->health);
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
        CHECK(memcmp(&a->w[k], &b->w[k], 4) == 0, "%s: weight %llu: %.9g, uninterrupted %.9g",
              what, (unsigned long long)k, (double)b->w[k], (double)a->w[k]);
    for (int32_t k = 0; k < a->n_mods; k++)
        CHECK(memcmp(&a->level[k], &b->level[k], 8) == 0,
              "%s: modulator %d level %.17g, uninterrupted %.17g", what, k, b->level[k],
              a->level[k]);
    for (uint64_t u = 0; u < a->n; u++) {
        CHECK(memcmp(&a->scale[u], &b->scale[u], 4) == 0,
              "%s: neuron %llu homeostatic scale %.9g, uninterrupted %.9g", what,
              (unsigned long long)u, (double)b->scale[u], (double)a->scale[u]);
        CHECK(a->id[u] == b->id[u] && a->gen[u] == b->gen[u] && a->parent[u] == b->parent[u] &&
                  a->alive[u] == b->alive[u] && a->age[u] == b->age[u] &&
                  memcmp(&a->health[u], &b->health[u], 8) == 0,
              "%s: neuron %llu lineage (id %llu gen %u parent %lld alive %u age %llu health %g), "
              "uninterrupted (id %llu gen %u parent %lld alive %u age %llu health %g)",
              what, (unsigned long long)u, (unsigned long long)b->id[u], b->gen[u],
              (long long)b->parent[u], b->alive[u], (unsigned long long)b->age[u], b->health[u],
              (unsigned long long)a->id[u], a->gen[u], (long long)a->parent[u], a->alive[u],
              (unsigned long long)a->age[u], a->health[u]);
    }
    CHECK(a->deaths == b->deaths && a->births == b->births,
          "%s: %llu deaths, %llu births; uninterrupted %llu, %llu", what,
          (unsigned long long)b->deaths, (unsigned long long)b->births,
          (unsigned long long)a->deaths, (unsigned long long)a->births);
}

/* Runs steps [from, to) with whatever the driver does between them (API
 * calls at fixed steps, fed senses). */
typedef void (*drive_fn)(n4d_sim *s, uint64_t from, uint64_t to);

static const char *g_ck = NULL; /* the last checkpoint written */

/* The reference (uninterrupted, cpu-omp 3) against a checkpoint at S1 on
 * cpu-omp 3 resumed on cpu-ref and on cpu-omp 2. */
static void resume_cases(n4d_context *ctx, n4d_model *m, drive_fn drive, uint64_t S1,
                         uint64_t S2, const outcome *ref, const char *label)
{
    n4d_sim *b = sim_on(m, "cpu-omp", 3);
    drive(b, 0, S1);
    g_ck = tmp_path("ckpt.h5");
    ASSERT_OK(n4d_sim_checkpoint(b, g_ck, NULL), b);
    n4d_sim_destroy(b);
    static const struct {
        const char *backend;
        int threads;
    } on[] = {{"cpu-ref", 1}, {"cpu-omp", 2}};
    for (size_t k = 0; k < 2; k++) {
        n4d_resume_options ro;
        n4d_resume_options_init(&ro);
        ro.backend = on[k].backend;
        ro.num_threads = on[k].threads;
        n4d_model *m2 = NULL;
        n4d_sim *s2 = NULL;
        ASSERT_OK(n4d_sim_resume(ctx, g_ck, &ro, &m2, &s2), ctx);
        assert_int_equal(n4d_sim_current_step(s2), S1);
        drive(s2, S1, S1 + S2);
        outcome got;
        outcome_take(s2, m2, &got);
        char what[400];
        snprintf(what, sizeof what, "%.200s, checkpoint at %llu, resumed on %s x%d", label,
                 (unsigned long long)S1, on[k].backend, on[k].threads);
        outcome_same(ref, &got, what);
        outcome_free(&got);
        n4d_sim_destroy(s2);
        n4d_model_destroy(m2);
    }
}

static void reference(n4d_model *m, drive_fn drive, uint64_t steps, outcome *ref)
{
    n4d_sim *a = sim_on(m, "cpu-omp", 3);
    drive(a, 0, steps);
    outcome_take(a, m, ref);
    n4d_sim_destroy(a);
}

/* Sum of a U32 dataset of the last checkpoint (0 when absent). */
static uint64_t ck_sum_u32(const char *dset)
{
    hid_t f = H5Fopen(g_ck, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    uint64_t sum = 0;
    if (H5Lexists(f, dset, H5P_DEFAULT) > 0) {
        hid_t d = H5Dopen2(f, dset, H5P_DEFAULT);
        hid_t sp = H5Dget_space(d);
        hsize_t n = 0;
        H5Sget_simple_extent_dims(sp, &n, NULL);
        uint32_t *v = malloc((n + 1) * 4);
        if (n)
            assert_true(H5Dread(d, H5T_NATIVE_UINT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
        for (hsize_t k = 0; k < n; k++)
            sum += v[k];
        free(v);
        H5Sclose(sp);
        H5Dclose(d);
    }
    H5Fclose(f);
    return sum;
}

/* ---- neuromodulators and stdp_dopamine ------------------------------------------------------ */

static void add_mod(n4d_model *m, const char *name, double baseline, double decay,
                    const char *driven_by, double per_spike, double delay)
{
    n4d_modulator_desc d;
    n4d_modulator_desc_init(&d);
    d.name = name;
    d.baseline = baseline;
    d.decay_rate = decay;
    d.driven_by = driven_by;
    d.per_spike = per_spike;
    d.delay = delay;
    ASSERT_OK(n4d_model_add_modulator(m, &d), m);
}

static void add_proj(n4d_model *m, const char *name, const char *src, const char *tgt, double p,
                     double w0, double delay, const char *syn, const n4d_param_value *sp,
                     uint32_t nsp)
{
    n4d_projection_desc d;
    n4d_projection_desc_init(&d);
    d.name = name;
    d.source = src;
    d.target = tgt;
    d.rule = N4D_RULE_FIXED_PROBABILITY;
    d.p = p;
    d.weight = n4d_dist_constant(w0);
    d.delay = n4d_dist_constant(delay);
    d.synapse_model = syn;
    d.synapse_params = sp;
    d.n_synapse_params = nsp;
    ASSERT_OK(n4d_model_add_projection(m, &d, NULL), m);
}

/* IN and SIL (silent after 150 ms) -> OUT stdp_dopamine; dopamine driven
 * by DA's spikes (a 5 ms delay: spikes in flight at any step) or set
 * through the API; OUT's threshold bound to serotonin, IN's input gain to
 * norepinephrine. */
static bool g_driven;

static n4d_model *da_model(n4d_context *ctx, bool driven)
{
    n4d_model *m = NULL;
    OK(n4d_model_create(ctx, &m));
    const uint32_t shape[4] = {60, 1, 1, 1};
    ASSERT_OK(n4d_model_set_lattice(m, shape), m);
    ASSERT_OK(n4d_model_set_seed(m, 11), m);
    const char *names[] = {"IN", "SIL", "OUT", "DA"};
    const int32_t x0[] = {0, 30, 40, 55}, x1[] = {29, 39, 54, 59};
    for (int k = 0; k < 4; k++) {
        char an[16];
        snprintf(an, sizeof an, "a%d", k);
        const int32_t lo[4] = {x0[k], 0, 0, 0}, hi[4] = {x1[k], 0, 0, 0};
        ASSERT_OK(n4d_model_add_area(m, an, lo, hi), m);
        n4d_population_desc d;
        n4d_population_desc_init(&d);
        d.name = names[k];
        d.area = an;
        d.model = N4D_NEURON_LIF_EXP;
        ASSERT_OK(n4d_model_add_population(m, &d, NULL), m);
        n4d_input_desc in;
        n4d_input_desc_init(&in);
        in.kind = N4D_INPUT_POISSON;
        in.target = names[k];
        in.rate = k == 2 ? 300 : (k == 3 ? 400 : 900);
        in.weight = 3.0;
        if (k == 1)
            in.stop = 150;
        ASSERT_OK(n4d_model_add_input(m, &in), m);
    }
    const n4d_param_value sp[] = {{"A_plus", 0.5}, {"A_minus", 0.6}, {"tau_c", 200},
                                  {"tau_n", 100}, {"b", 0.001}, {"Wmax", 6}};
    add_proj(m, "in_out", "IN", "OUT", 0.5, 2.0, 1.0, "stdp_dopamine", sp, 6);
    add_proj(m, "sil_out", "SIL", "OUT", 0.5, 2.0, 2.0, "stdp_dopamine", sp, 6);
    if (driven)
        add_mod(m, "dopamine", 0.0, 0.01, "DA", 0.02, 5.0);
    else
        add_mod(m, "dopamine", 0.5, 0.02, NULL, 0, NAN);
    add_mod(m, "serotonin", 0.3, 0.05, NULL, 0, NAN);
    add_mod(m, "norepinephrine", 0.5, 0.002, NULL, 0, NAN);
    ASSERT_OK(n4d_model_bind_modulator(m, "OUT", N4D_MOD_THRESHOLD, "serotonin", -0.02), m);
    ASSERT_OK(n4d_model_bind_modulator(m, "IN", N4D_MOD_GAIN, "norepinephrine", 0.5), m);
    ASSERT_OK(n4d_model_build(m), m);
    return m;
}

/* API calls every 100 steps (absolute), runs in between. */
static void da_drive(n4d_sim *s, uint64_t from, uint64_t to)
{
    for (uint64_t t = from; t < to;) {
        if (t % 100 == 0) {
            const uint64_t k = t / 100;
            if (!g_driven)
                ASSERT_OK(n4d_sim_reward(s, k % 3 == 0 ? 0.4 : 0.0, 0.1), s);
            ASSERT_OK(n4d_sim_punishment(s, 0.02 * (double)(k % 30), 0.0), s);
            ASSERT_OK(n4d_sim_novelty(s, 0.1 * (double)(k % 5), 0.0), s);
        }
        const uint64_t next = (t / 100 + 1) * 100 < to ? (t / 100 + 1) * 100 : to;
        ASSERT_OK(n4d_sim_run(s, next - t), s);
        t = next;
    }
}

static void test_resume_modulators(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    for (int driven = 0; driven < 2; driven++) {
        g_driven = driven;
        n4d_model *m = da_model(ctx, driven);
        const uint64_t total = 3300;
        outcome ref;
        reference(m, da_drive, total, &ref);
        assert_true(ref.n_spk > 1000);
        /* off the grids, on the stdp_dopamine update period (1024 steps),
         * just after an API call */
        static const uint64_t at[] = {1537, 2048, 2101};
        for (size_t k = 0; k < 3; k++) {
            resume_cases(ctx, m, da_drive, at[k], total - at[k], &ref,
                         driven ? "driven dopamine" : "API dopamine");
            if (driven) /* DA's spikes in flight at the checkpoint */
                assert_true(ck_sum_u32("/n4d/state/modulators/1-dopamine/arrivals") > 0);
        }
        outcome_free(&ref);
        n4d_model_destroy(m);
    }
    g_driven = false;
    assert_int_equal(mem_current(ctx), 0);
    n4d_context_destroy(ctx);
}

/* ---- homeostatic scaling ------------------------------------------------------------------- */

static const char HOMEO_CONFIG[] =
    "{\"dt\": 0.1, \"seed\": 11, \"lattice_shape\": [300, 2, 1, 1],\n"
    " \"areas\": [\n"
    "  {\"name\": \"a0\", \"coord_ranges\": {\"x\": [0, 299], \"y\": [0, 0], \"z\": [0, 0], \"w\": [0, 0]}},\n"
    "  {\"name\": \"a1\", \"coord_ranges\": {\"x\": [0, 99], \"y\": [1, 1], \"z\": [0, 0], \"w\": [0, 0]}}],\n"
    " \"populations\": [\n"
    "  {\"name\": \"in\", \"area\": \"a0\", \"model\": \"parrot\"},\n"
    "  {\"name\": \"post\", \"area\": \"a1\", \"model\": \"lif_exp\", \"params\": {\"v_rest\": -65},\n"
    "   \"homeostasis\": {\"target_rate\": 10, \"window\": 100, \"eta\": 0.1, \"scale_min\": 0.02,\n"
    "                   \"scale_max\": 5}}],\n"
    " \"projections\": [\n"
    "  {\"source\": \"in\", \"target\": \"post\", \"rule\": \"fixed_probability\", \"p\": 0.1,\n"
    "   \"weight\": 3.0, \"delay\": 0.1}],\n"
    " \"inputs\": [{\"type\": \"poisson\", \"target\": \"in\", \"rate\": 20, \"sampling\": \"sparse\"}]}\n";

static void plain_drive(n4d_sim *s, uint64_t from, uint64_t to)
{
    ASSERT_OK(n4d_sim_run(s, to - from), s);
}

static void test_resume_homeostasis(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    for (int z = 0; z < 2; z++) {
        n4d_model *m = NULL;
        ASSERT_OK(n4d_model_from_json_string(ctx, HOMEO_CONFIG, strlen(HOMEO_CONFIG), "homeo", &m),
                  ctx);
        if (z) {
            n4d_layout_options lo;
            n4d_layout_options_init(&lo);
            lo.order = N4D_ORDER_ZORDER;
            ASSERT_OK(n4d_model_set_layout(m, &lo), m);
        }
        ASSERT_OK(n4d_model_build(m), m);
        const uint64_t S1 = 2350, S2 = 1700; /* windows of 1000 steps: mid-window */
        outcome ref;
        reference(m, plain_drive, S1 + S2, &ref);
        uint64_t moved = 0;
        for (uint64_t u = 0; u < ref.n; u++)
            moved += ref.scale[u] != 1.0f;
        assert_true(moved > 50);
        resume_cases(ctx, m, plain_drive, S1, S2, &ref, z ? "homeostasis, z order" : "homeostasis");
        assert_true(ck_sum_u32("/n4d/state/homeostasis/window_count") > 0);
        outcome_free(&ref);
        n4d_model_destroy(m);
    }
    assert_int_equal(mem_current(ctx), 0);
    n4d_context_destroy(ctx);
}

/* ---- the cell lifecycle -------------------------------------------------------------------- */

/* The 4DNC sample (hebb_4dnc) with a lifecycle: varied health and age,
 * reproduction, mutated parameters and weights. */
static const char *sample_with_lifecycle(void)
{
    json_error_t err;
    json_t *root = json_load_file(N4D_SOURCE_DIR "/tests/data/4dnc_small_model.json", 0, &err);
    assert_non_null(root);
    json_t *lc = json_object_get(json_object_get(root, "config"), "cell_lifecycle");
    json_object_set_new(lc, "enable_death", json_true());
    json_object_set_new(lc, "enable_reproduction", json_true());
    json_object_set_new(lc, "max_age", json_real(150.0));
    json_object_set_new(lc, "health_decay_per_step", json_real(1.0 / 128.0));
    json_object_set_new(lc, "mutation_std_params", json_real(0.05));
    json_object_set_new(lc, "mutation_std_weights", json_real(0.3));
    json_t *neurons = json_object_get(root, "neurons");
    for (size_t i = 0; i < json_array_size(neurons); i++) {
        json_t *ne = json_array_get(neurons, i);
        json_object_set_new(ne, "health", json_real(0.25 + (double)((i * 37) % 97) / 128.0));
        json_object_set_new(ne, "age", json_integer((json_int_t)((i * 53) % 140)));
        json_object_set_new(ne, "generation", json_integer((json_int_t)(i % 3)));
        json_object_set_new(ne, "parent_id", json_integer(i % 3 ? 1000 + (json_int_t)i : -1));
    }
    json_object_set_new(root, "next_neuron_id", json_integer(5000));
    const char *path = tmp_path("life.json");
    assert_int_equal(json_dump_file(root, path, JSON_COMPACT), 0);
    json_decref(root);
    return path;
}

static void input_at(uint64_t t, float *vis, float *aud)
{
    for (uint64_t ix = 0; ix < 6; ix++)
        for (uint64_t iy = 0; iy < 6; iy++) {
            vis[ix * 6 + iy] = (ix == (t / 3) % 6 || (t * 7 + iy * 5) % 13 == 0) ? 200.0f : 0.0f;
            aud[ix * 6 + iy] = (t % 9 == 0 && (ix + iy) % 2 == 0) ? 400.0f : 0.0f;
        }
}

static void feed_drive(n4d_sim *s, uint64_t from, uint64_t to)
{
    for (uint64_t t = from; t < to; t++) {
        float vis[36], aud[36];
        input_at(t, vis, aud);
        ASSERT_OK(n4d_sim_feed_sense(s, "vision", vis, 6, 6, 0), s);
        ASSERT_OK(n4d_sim_feed_sense(s, "audition", aud, 6, 6, 0), s);
        ASSERT_OK(n4d_sim_run(s, 1), s);
    }
}

/* A 4DNC-style config: hebb_4dnc ("plasticity") or static synapses whose
 * weights the sim owns, a lifecycle with reproduction and mutation. */
static const char LIFE_CONFIG[] =
    "{\"lattice_shape\": [8, 8, 2, 2], \"dt\": 1.0, \"seed\": 7,"
    " \"areas\": [{\"name\": \"ctx\", \"coord_ranges\": {\"x\": [0, 7], \"y\": [0, 7],"
    " \"z\": [0, 1], \"w\": [0, 1]}}],"
    " %s"
    " \"cell_lifecycle\": {\"enable_death\": true, \"enable_reproduction\": true,"
    "   \"max_age\": 90, \"health_decay_per_step\": 0.004, \"mutation_std_params\": 0.05,"
    "   \"mutation_std_weights\": 0.3},"
    " \"populations\": [{\"name\": \"ctx\", \"area\": \"ctx\","
    "   \"v_init\": {\"uniform\": [-70, -50]}}],"
    " \"projections\": [{\"name\": \"rec\", \"source\": \"ctx\", \"target\": \"ctx\","
    "   \"rule\": \"fixed_probability\", \"p\": 0.05, \"weight\": {\"uniform\": [-5, 8]},"
    "   \"delay\": {\"uniform\": [1, 3]}}],"
    " \"inputs\": [{\"type\": \"dc\", \"target\": \"ctx\", \"amplitude\": 16.0}]}";

/* The checkpoint steps: right after a lifecycle with deaths (the next
 * step has none) and just before one (the next step's lifecycle kills). */
static void life_cases(n4d_context *ctx, n4d_model *m, drive_fn drive, uint64_t total,
                       const char *label)
{
    n4d_sim *a = sim_on(m, "cpu-omp", 3);
    uint64_t *deaths = calloc(total + 1, 8);
    for (uint64_t t = 0; t < total; t++) { /* deaths[t]: after t steps */
        drive(a, t, t + 1);
        ASSERT_OK(n4d_sim_lifecycle_counts(a, &deaths[t + 1], NULL), a);
    }
    outcome ref;
    outcome_take(a, m, &ref);
    n4d_sim_destroy(a);
    assert_true(ref.births > 20 && ref.births == ref.deaths);
    uint64_t between = 0, imminent = 0;
    for (uint64_t t = 20; t + 20 < total && (!between || !imminent); t++) {
        if (!between && deaths[t] > deaths[t - 1] && deaths[t + 1] == deaths[t])
            between = t;
        if (!imminent && deaths[t] > 0 && deaths[t + 1] > deaths[t])
            imminent = t;
    }
    assert_true(between && imminent);
    char what[200];
    snprintf(what, sizeof what, "%s, between deaths", label);
    resume_cases(ctx, m, drive, between, total - between, &ref, what);
    snprintf(what, sizeof what, "%s, a death imminent", label);
    resume_cases(ctx, m, drive, imminent, total - imminent, &ref, what);
    outcome_free(&ref);
    free(deaths);
}

static void test_resume_lifecycle(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    n4d_model *m = NULL;
    ASSERT_OK(n4d_model_import_4dnc(ctx, sample_with_lifecycle(), NULL, &m), ctx);
    life_cases(ctx, m, feed_drive, 260, "4DNC sample, hebb_4dnc");
    n4d_model_destroy(m);
    for (int hebb = 0; hebb < 2; hebb++) {
        char text[4096];
        snprintf(text, sizeof text, LIFE_CONFIG,
                 hebb ? "\"plasticity\": {\"learning_rate\": 0.01, \"weight_min\": -10, "
                        "\"weight_max\": 10},"
                      : "");
        ASSERT_OK(n4d_model_from_json_string(ctx, text, strlen(text), "life.json", &m), ctx);
        life_cases(ctx, m, plain_drive, 400, hebb ? "config, hebb_4dnc" : "config, static");
        n4d_model_destroy(m);
    }
    assert_int_equal(mem_current(ctx), 0);
    n4d_context_destroy(ctx);
}

/* ---- sparse Poisson blocks held by the ring ----------------------------------------------- */

/* A checkpoint of 0.2 (no ring_holds_poisson_blocks attribute) lacks the
 * rest of the current block of sparse inputs whose blocks fit the ring:
 * refused, naming the input, for such a model ("ring": 0.05 events per
 * step, blocks of 256 steps, 300 ring slots); accepted for a model whose
 * sparse input is cached (HOMEO_CONFIG: one ring slot). */
static const char RING_BLOCKS_CONFIG[] =
    "{\"dt\": 0.1, \"seed\": 3, \"lattice_shape\": [200, 2, 1, 1],\n"
    " \"areas\": [\n"
    "  {\"name\": \"a0\", \"coord_ranges\": {\"x\": [0, 199], \"y\": [0, 0], \"z\": [0, 0], \"w\": [0, 0]}},\n"
    "  {\"name\": \"a1\", \"coord_ranges\": {\"x\": [0, 49], \"y\": [1, 1], \"z\": [0, 0], \"w\": [0, 0]}}],\n"
    " \"populations\": [\n"
    "  {\"name\": \"ring\", \"area\": \"a0\", \"model\": \"parrot\"},\n"
    "  {\"name\": \"post\", \"area\": \"a1\", \"model\": \"lif_exp\"}],\n"
    " \"projections\": [\n"
    "  {\"source\": \"ring\", \"target\": \"post\", \"rule\": \"fixed_probability\", \"p\": 0.1,\n"
    "   \"weight\": 3.0, \"delay\": 30.0}],\n"
    " \"inputs\": [{\"type\": \"poisson\", \"target\": \"ring\", \"rate\": 100, \"n_sources\": 5,\n"
    "   \"sampling\": \"sparse\"}]}\n";

/* Checkpoints `json` after 300 steps without the attribute and resumes it. */
static n4d_status resume_legacy(n4d_context *ctx, const char *json, n4d_sim **out,
                                n4d_model **out_m)
{
    n4d_model *m = NULL;
    ASSERT_OK(n4d_model_from_json_string(ctx, json, strlen(json), "legacy", &m), ctx);
    ASSERT_OK(n4d_model_build(m), m);
    n4d_sim *s = sim_on(m, "cpu-omp", 2);
    ASSERT_OK(n4d_sim_run(s, 300), s);
    const char *ck = tmp_path("legacy_ring.h5");
    ASSERT_OK(n4d_sim_checkpoint(s, ck, NULL), s);
    n4d_sim_destroy(s);
    n4d_model_destroy(m);
    hid_t f = H5Fopen(ck, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f >= 0);
    hid_t g = H5Gopen2(f, "/n4d/state", H5P_DEFAULT);
    assert_true(g >= 0);
    assert_true(H5Adelete(g, "ring_holds_poisson_blocks") >= 0);
    H5Gclose(g);
    H5Fclose(f);
    return n4d_sim_resume(ctx, ck, NULL, out_m, out);
}

static void test_resume_legacy_ring(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    n4d_sim *s = NULL;
    n4d_model *m = NULL;
    assert_int_equal(resume_legacy(ctx, RING_BLOCKS_CONFIG, &s, &m), N4D_E_FORMAT);
    assert_null(s);
    CHECK(strstr(n4d_last_error(ctx), "sparse Poisson input 0 (population \"ring\")") != NULL,
          "message: %s", n4d_last_error(ctx));
    ASSERT_OK(resume_legacy(ctx, HOMEO_CONFIG, &s, &m), ctx); /* cached blocks: not in the ring */
    ASSERT_OK(n4d_sim_run(s, 10), s);
    n4d_sim_destroy(s);
    n4d_model_destroy(m);
    assert_int_equal(mem_current(ctx), 0);
    n4d_context_destroy(ctx);
}

int main(void)
{
    if (!n4d_has_feature(N4D_FEATURE_HDF5)) {
        printf("SKIP: built without HDF5\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resume_modulators),
        cmocka_unit_test(test_resume_homeostasis),
        cmocka_unit_test(test_resume_lifecycle),
        cmocka_unit_test(test_resume_legacy_ring),
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
