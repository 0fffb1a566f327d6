/* Plastic synapses (docs/plasticity.md): hebb_4dnc against an independent,
 * eager re-implementation of the 4D Neural Cognition rule on the sample
 * models; stdp against NEST's stdp_synapse formulas; tsodyks against NEST's
 * tsodyks2_synapse; the same spikes and weights on every backend and
 * thread count; configuration errors. */
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
#include "plastic_rules.h" /* n4d__hebb_shrink, n4d__hebb_idle (white-box checks) */
#include "test_util.h"

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
    snprintf(buf[k], sizeof buf[k], "%s/plasticity_%s", N4D_BINARY_DIR, name);
    return buf[k];
}

/* ---- an independent 4D Neural Cognition re-implementation ----------------------
 * Written from ../shared/reference/4DNC.md, eager: every synapse, every step.
 * The neuron update is n4d's lif in single precision (the comparison is of
 * the plasticity, not of float against double); the rule is in double. */

typedef struct ref_syn {
    uint32_t pre, post; /* indices into the neuron list (sorted by original id) */
    double w;
    int delay;
} ref_syn;

typedef struct ref_net {
    size_t n, s;
    int32_t *pos;   /* 4 per neuron */
    float *v;
    float tau_m, v_rest, v_reset, v_th;
    int ref_steps;
    int64_t *last_spike;
    float *ext;
    uint8_t *spiked;      /* this step */
    uint8_t (*past)[8];   /* spikes of the last 8 steps (delays <= 8) */
    ref_syn *syn;
    double eta, lo, hi, decay;
    int32_t area_lo[2][4]; /* vision (V1_like), audition (A1_like) */
} ref_net;

static int cmp_id(const void *a, const void *b)
{
    const double x = json_number_value(json_object_get(*(json_t *const *)a, "id"));
    const double y = json_number_value(json_object_get(*(json_t *const *)b, "id"));
    return (x > y) - (x < y);
}

static void ref_load(ref_net *r, const char *path, double eta)
{
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    assert_non_null(root);
    json_t *cfg = json_object_get(root, "config");
    json_t *pd = json_object_get(json_object_get(cfg, "neuron_model"), "params_default");
    r->tau_m = (float)json_number_value(json_object_get(pd, "tau_m"));
    r->v_rest = (float)json_number_value(json_object_get(pd, "v_rest"));
    r->v_reset = (float)json_number_value(json_object_get(pd, "v_reset"));
    r->v_th = (float)json_number_value(json_object_get(pd, "v_threshold"));
    r->ref_steps = (int)json_number_value(json_object_get(pd, "refractory_period"));
    json_t *pl = json_object_get(cfg, "plasticity");
    r->eta = eta;
    r->lo = json_number_value(json_object_get(pl, "weight_min"));
    r->hi = json_number_value(json_object_get(pl, "weight_max"));
    r->decay = json_number_value(json_object_get(pl, "weight_decay"));
    json_t *areas = json_object_get(cfg, "areas");
    static const char *const axes[4] = {"x", "y", "z", "w"};
    for (size_t a = 0; a < 2; a++) {
        json_t *cr = json_object_get(json_array_get(areas, a), "coord_ranges");
        for (int k = 0; k < 4; k++)
            r->area_lo[a][k] = (int32_t)json_integer_value(
                json_array_get(json_object_get(cr, axes[k]), 0));
    }
    json_t *neurons = json_object_get(root, "neurons"), *syns = json_object_get(root, "synapses");
    r->n = json_array_size(neurons);
    r->s = json_array_size(syns);
    json_t **ord = malloc(r->n * sizeof *ord);
    for (size_t i = 0; i < r->n; i++)
        ord[i] = json_array_get(neurons, i);
    qsort(ord, r->n, sizeof *ord, cmp_id); /* the reference updates in id order */
    r->pos = calloc(r->n * 4, sizeof(int32_t));
    r->v = calloc(r->n, sizeof(float));
    r->last_spike = calloc(r->n, sizeof(int64_t));
    r->ext = calloc(r->n, sizeof(float));
    r->spiked = calloc(r->n, 1);
    r->past = calloc(r->n, sizeof *r->past);
    double *ids = malloc(r->n * sizeof(double));
    for (size_t i = 0; i < r->n; i++) {
        for (int k = 0; k < 4; k++)
            r->pos[4 * i + (size_t)k] = (int32_t)json_integer_value(json_object_get(ord[i], axes[k]));
        r->v[i] = (float)json_number_value(json_object_get(ord[i], "v_membrane"));
        r->last_spike[i] = -1000;
        ids[i] = json_number_value(json_object_get(ord[i], "id"));
    }
    r->syn = calloc(r->s, sizeof *r->syn);
    for (size_t j = 0; j < r->s; j++) {
        json_t *sj = json_array_get(syns, j);
        const double pre = json_number_value(json_object_get(sj, "pre_id"));
        const double post = json_number_value(json_object_get(sj, "post_id"));
        for (size_t i = 0; i < r->n; i++) {
            if (ids[i] == pre)
                r->syn[j].pre = (uint32_t)i;
            if (ids[i] == post)
                r->syn[j].post = (uint32_t)i;
        }
        r->syn[j].w = json_number_value(json_object_get(sj, "weight"));
        json_t *d = json_object_get(sj, "delay");
        r->syn[j].delay = d ? (int)json_integer_value(d) : 1;
        assert_true(r->syn[j].delay >= 1 && r->syn[j].delay <= 8);
    }
    free(ids);
    free(ord);
    json_decref(root);
}

static void ref_free(ref_net *r)
{
    free(r->pos), free(r->v), free(r->last_spike), free(r->ext), free(r->spiked);
    free(r->past), free(r->syn);
}

/* M[ix * cols + iy] onto (x_lo + ix, y_lo + iy, z_lo, w_lo) of area a. */
static void ref_feed(ref_net *r, int a, const float *m, int rows, int cols)
{
    for (size_t i = 0; i < r->n; i++) {
        const int32_t *p = r->pos + 4 * i;
        const int ix = p[0] - r->area_lo[a][0], iy = p[1] - r->area_lo[a][1];
        if (p[2] == r->area_lo[a][2] && p[3] == r->area_lo[a][3] && ix >= 0 && ix < rows &&
            iy >= 0 && iy < cols)
            r->ext[i] += m[ix * cols + iy];
    }
}

static double ref_clip(const ref_net *r, double w)
{
    if (!isfinite(w))
        return 0.5 * (r->lo + r->hi);
    return w < r->lo ? r->lo : (w > r->hi ? r->hi : w);
}

static void ref_step(ref_net *r, int64_t t)
{
    /* synaptic input from the spikes of step t - delay, per channel by sign */
    double *in_e = calloc(r->n, sizeof(double)), *in_i = calloc(r->n, sizeof(double));
    for (size_t j = 0; j < r->s; j++) {
        const ref_syn *y = &r->syn[j];
        if (t - y->delay >= 0 && r->past[y->pre][(t - y->delay) % 8])
            *(y->w < 0 ? &in_i[y->post] : &in_e[y->post]) += y->w;
    }
    for (size_t i = 0; i < r->n; i++) {
        r->spiked[i] = 0;
        if (t - r->last_spike[i] < r->ref_steps) {
            r->ext[i] = 0.0f;
            continue;
        }
        const float vv = r->v[i];
        const float drive = ((float)in_e[i] + (float)in_i[i]) + (r->ext[i] + 0.0f);
        float vn = vv + (-(vv - r->v_rest) + drive) / r->tau_m * 1.0f;
        if (!isfinite(vn))
            vn = r->v_rest;
        r->ext[i] = 0.0f;
        r->v[i] = vn;
        if (vn >= r->v_th) {
            r->v[i] = r->v_reset;
            r->last_spike[i] = t;
            r->spiked[i] = 1;
        }
    }
    for (size_t i = 0; i < r->n; i++)
        r->past[i][t % 8] = r->spiked[i];
    /* plasticity: every synapse, every step */
    for (size_t j = 0; j < r->s; j++) {
        ref_syn *y = &r->syn[j];
        if (r->spiked[y->pre] && r->spiked[y->post])
            y->w += r->eta;
        else if (r->spiked[y->pre])
            y->w -= 0.5 * r->eta;
        y->w = ref_clip(r, y->w);
        if (y->w > 0)
            y->w = y->w > r->decay ? y->w - r->decay : 0.0;
        else if (y->w < 0)
            y->w = y->w < -r->decay ? y->w + r->decay : 0.0;
    }
    free(in_e);
    free(in_i);
}

/* The input of step t: a moving bar on vision, a pulse train on audition. */
static void input_at(int t, float *vis, float *aud)
{
    for (int ix = 0; ix < 6; ix++)
        for (int iy = 0; iy < 6; iy++) {
            vis[ix * 6 + iy] = (ix == (t / 3) % 6 || (t * 7 + iy * 5) % 13 == 0) ? 200.0f : 0.0f;
            aud[ix * 6 + iy] = (t % 9 == 0 && (ix + iy) % 2 == 0) ? 400.0f : 0.0f;
        }
}

/* A copy of the sample JSON with the learning rate set. */
static const char *sample_with_rate(double eta)
{
    json_error_t err;
    json_t *root = json_load_file(N4D_SOURCE_DIR "/tests/data/4dnc_small_model.json", 0, &err);
    assert_non_null(root);
    json_t *pl = json_object_get(json_object_get(root, "config"), "plasticity");
    json_object_set_new(pl, "learning_rate", json_real(eta));
    const char *path = tmp_path(eta == 0.0 ? "rate0.json" : "rate.json");
    assert_int_equal(json_dump_file(root, path, JSON_COMPACT), 0);
    json_decref(root);
    return path;
}

/* The n4d id of each reference neuron (by position). */
static uint64_t *id_map(const ref_net *r, n4d_model *m)
{
    uint64_t *map = malloc(r->n * sizeof *map);
    const uint64_t N = n4d_model_num_neurons(m);
    assert_int_equal(N, r->n);
    for (uint64_t u = 0; u < N; u++) {
        int32_t p[4];
        ASSERT_OK(n4d_model_neuron_position(m, u, p), m);
        for (size_t i = 0; i < r->n; i++)
            if (memcmp(p, r->pos + 4 * i, sizeof p) == 0)
                map[i] = u;
    }
    return map;
}

/* Runs the imported model and the re-implementation side by side for
 * `steps` steps; every step's spikes must agree, and the weights at the end. */
static int compare_with_reference(const char *model_path, double eta, const char *backend,
                                  int threads, int steps, int static_weights)
{
    n4d_context *ctx = new_ctx();
    n4d_model *m = NULL;
    n4d_import_options io;
    n4d_import_options_init(&io);
    io.static_weights = static_weights;
    ASSERT_OK(n4d_model_import_4dnc(ctx, model_path, &io, &m), ctx);
    int first_diff = -1;
    ref_net r;
    memset(&r, 0, sizeof r);
    ref_load(&r, N4D_SOURCE_DIR "/tests/data/4dnc_small_model.json", eta);
    uint64_t *map = id_map(&r, m);
    n4d_sim *s = sim_on(m, backend, threads);
    uint8_t *mine = calloc(r.n, 1);
    uint64_t total = 0;
    for (int t = 0; t < steps; t++) {
        float vis[36], aud[36];
        input_at(t, vis, aud);
        ASSERT_OK(n4d_sim_feed_sense(s, "vision", vis, 6, 6, 0), s);
        ASSERT_OK(n4d_sim_feed_sense(s, "audition", aud, 6, 6, 0), s);
        ref_feed(&r, 0, vis, 6, 6);
        ref_feed(&r, 1, aud, 6, 6);
        ASSERT_OK(n4d_sim_run(s, 1), s);
        ref_step(&r, t);
        const uint32_t *ids;
        uint64_t cnt;
        ASSERT_OK(n4d_sim_last_spikes(s, &ids, &cnt), s);
        memset(mine, 0, r.n);
        for (uint64_t k = 0; k < cnt; k++)
            mine[ids[k]] = 1;
        for (size_t i = 0; i < r.n; i++) {
            if (mine[map[i]] != r.spiked[i] && first_diff < 0)
                first_diff = t;
            CHECK(static_weights || mine[map[i]] == r.spiked[i],
                  "%s eta %g %s: step %d neuron %zu: n4d %d, reference %d", model_path, eta,
                  backend, t, i, mine[map[i]], r.spiked[i]);
        }
        total += cnt;
    }
    if (static_weights)
        goto done;
    assert_true(total > (uint64_t)steps); /* the input drives it */
    /* the weights, decayed to the current step */
    uint64_t ns = 0;
    ASSERT_OK(n4d_sim_get_weights(s, "4dnc", 0, NULL, NULL, NULL, &ns), s);
    assert_int_equal(ns, r.s);
    uint32_t *src = malloc(ns * 4), *tgt = malloc(ns * 4);
    float *w = malloc(ns * 4);
    ASSERT_OK(n4d_sim_get_weights(s, "4dnc", ns, src, tgt, w, &ns), s);
    double maxerr = 0.0;
    for (size_t j = 0; j < r.s; j++) { /* multapses: the nearest weight of the pair */
        double best = INFINITY;
        for (uint64_t q = 0; q < ns; q++)
            if (src[q] == map[r.syn[j].pre] && tgt[q] == map[r.syn[j].post])
                best = fmin(best, fabs((double)w[q] - r.syn[j].w));
        maxerr = fmax(maxerr, best);
    }
    CHECK(maxerr < 1e-6, "largest weight difference %g", maxerr);
    free(src), free(tgt), free(w);
done:
    free(mine), free(map);
    n4d_sim_destroy(s);
    n4d_model_destroy(m);
    ref_free(&r);
    assert_int_equal(mem_current(ctx), 0);
    n4d_context_destroy(ctx);
    return first_diff;
}

/* ---- the select-based decay against the branches it replaced ----------------------- */

static double shrink_branchy(double w, double a)
{
    if (w > 0.0)
        return w > a ? w - a : 0.0;
    if (w < 0.0)
        return w < -a ? w + a : 0.0;
    return w;
}

static void assert_same_bits(double x, double y)
{
    uint64_t a, b;
    memcpy(&a, &x, sizeof a);
    memcpy(&b, &y, sizeof b);
    if (a != b)
        fail_msg("%a (%016llx) != %a (%016llx)", x, (unsigned long long)a, y,
                 (unsigned long long)b);
}

static void test_hebb_shrink_bits(void **state)
{
    (void)state;
    const double special[] = {0.0, -0.0, 1e-5, -1e-5, 2e-5, -2e-5, 1.0, -1.0, 20.0, -20.0,
                              0x1p-1074, -0x1p-1074, 0x1p-1022, 1e300, -1e300, INFINITY,
                              -INFINITY, NAN, 1.0 + 0x1p-52, -(1.0 - 0x1p-53)};
    const double amounts[] = {0.0, 1e-5, 2e-5, 0x1p-1074, 1.0, 1.0 + 0x1p-52, 20.0, 1e300,
                              INFINITY};
    const size_t ns = sizeof special / sizeof special[0], na = sizeof amounts / sizeof amounts[0];
    for (size_t i = 0; i < ns; i++)
        for (size_t k = 0; k < na; k++)
            assert_same_bits(n4d__hebb_shrink(special[i], amounts[k]),
                             shrink_branchy(special[i], amounts[k]));
    /* random weights of both signs, near and far from the amount */
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        const double u = (double)(x >> 11) * 0x1p-53;
        const double w = (u - 0.5) * 40.0 * ((x & 1) ? 1.0 : 1e-4);
        const double a = (double)(x >> 40 & 0xff) * 1e-5;
        assert_same_bits(n4d__hebb_shrink(w, a), shrink_branchy(w, a));
        assert_same_bits(n4d__hebb_shrink(w, fabs(w)), shrink_branchy(w, fabs(w)));
    }
    /* the idle steps, bounds around 0: clip and decay, then decay in closed form */
    const n4d__hebb_k k = {0.001, -20.0, 20.0, 1e-5, 0.0};
    for (int i = 0; i < 1000; i++) {
        const double w = -25.0 + 0.05 * i;
        const uint64_t steps = (uint64_t)(i % 7) * 300;
        double e = w;
        if (steps) {
            e = isfinite(e) ? (e < k.lo ? k.lo : (e > k.hi ? k.hi : e)) : 0.0;
            e = shrink_branchy(e, k.decay);
            if (steps > 1)
                e = shrink_branchy(e, (double)(steps - 1) * k.decay);
        }
        assert_same_bits(n4d__hebb_idle(&k, w, steps), e);
    }
}

static void test_hebb_4dnc_rate0(void **state)
{
    (void)state;
    /* learning rate 0: only the clip and the decay act, and they change the
     * sample's spike trains (weights up to 15.5 against bounds [-1, 1]) */
    compare_with_reference(sample_with_rate(0.0), 0.0, "cpu-ref", 1, 300, 0);
    /* frozen weights leave the reference's trains within a few steps */
    const int diff = compare_with_reference(sample_with_rate(0.0), 0.0, "cpu-ref", 1, 300, 1);
    assert_true(diff >= 0 && diff < 50);
}

static void test_hebb_4dnc_sample(void **state)
{
    (void)state;
    /* the sample's own settings, both forms of the file, both backends */
    compare_with_reference(N4D_SOURCE_DIR "/tests/data/4dnc_small_model.json", 0.001, "cpu-ref",
                           1, 300, 0);
    compare_with_reference(N4D_SOURCE_DIR "/tests/data/4dnc_small_model.h5", 0.001, "cpu-omp", 2,
                           300, 0);
    compare_with_reference(sample_with_rate(0.05), 0.05, "cpu-omp", 1, 300, 0);
}


/* ---- stdp: NEST stdp_synapse ------------------------------------------------------ */

enum { NPAIR = 13 };
static const int PAIR_OFFSET[NPAIR] = {-300, -100, -50, -10, -3, -2, -1, 0, 1, 10, 50, 100, 300};

/* NPAIR pre -> post pairs (one_to_one, delay one step, initial weight w0):
 * pre k spikes at step 1000, post k at 1000 + PAIR_OFFSET[k]; a second
 * presynaptic spike at step 30000 (beyond every window) settles the
 * facilitation. Spikes are forced by large inputs (lif, no refractory
 * period); the synapses are too weak to cause any. */
static n4d_model *pair_model(n4d_context *ctx, const n4d_param_value *sp, uint32_t nsp, double w0)
{
    n4d_model *m = NULL;
    OK(n4d_model_create(ctx, &m));
    ASSERT_OK(n4d_model_set_dt(m, 0.1), m);
    const uint32_t shape[4] = {NPAIR, 2, 1, 1};
    ASSERT_OK(n4d_model_set_lattice(m, shape), m);
    const int32_t lo0[4] = {0, 0, 0, 0}, hi0[4] = {NPAIR - 1, 0, 0, 0};
    const int32_t lo1[4] = {0, 1, 0, 0}, hi1[4] = {NPAIR - 1, 1, 0, 0};
    ASSERT_OK(n4d_model_add_area(m, "apre", lo0, hi0), m);
    ASSERT_OK(n4d_model_add_area(m, "apost", lo1, hi1), m);
    const n4d_param_value np[] = {{"t_ref", 0.0}, {"tau_m", 20.0}};
    for (int k = 0; k < 2; k++) {
        n4d_population_desc d;
        n4d_population_desc_init(&d);
        d.name = k ? "post" : "pre";
        d.area = k ? "apost" : "apre";
        d.model = N4D_NEURON_LIF;
        d.params = np;
        d.n_params = 2;
        ASSERT_OK(n4d_model_add_population(m, &d, NULL), m);
    }
    n4d_projection_desc p;
    n4d_projection_desc_init(&p);
    p.name = "pair";
    p.source = "pre";
    p.target = "post";
    p.rule = N4D_RULE_ONE_TO_ONE;
    p.weight = n4d_dist_constant(w0);
    p.delay = n4d_dist_constant(0.1);
    p.synapse_model = "stdp";
    p.synapse_params = sp;
    p.n_synapse_params = nsp;
    ASSERT_OK(n4d_model_add_projection(m, &p, NULL), m);
    ASSERT_OK(n4d_model_build(m), m);
    return m;
}

/* Runs the pair protocol; returns the final weights (by pair). */
static void run_pairs(n4d_model *m, const char *backend, int threads, float *w)
{
    n4d_sim *s = sim_on(m, backend, threads);
    /* the steps at which something is forced, in order */
    int64_t at[2 * NPAIR + 1];
    int n_at = 0;
    for (int k = 0; k < NPAIR; k++)
        at[n_at++] = 1000 + PAIR_OFFSET[k];
    at[n_at++] = 1000;
    at[n_at++] = 30000;
    for (int i = 0; i < n_at; i++) /* sort */
        for (int j = i + 1; j < n_at; j++)
            if (at[j] < at[i]) {
                const int64_t t = at[i];
                at[i] = at[j];
                at[j] = t;
            }
    for (int i = 0; i < n_at; i++) {
        if (i && at[i] == at[i - 1])
            continue;
        const uint64_t now = n4d_sim_current_step(s);
        ASSERT_OK(n4d_sim_run(s, (uint64_t)at[i] - now), s);
        for (int k = 0; k < NPAIR; k++) {
            if (at[i] == 1000 || at[i] == 30000)
                ASSERT_OK(n4d_sim_add_input(s, (uint64_t)k, 5000.0f), s);
            if (at[i] == 1000 + PAIR_OFFSET[k])
                ASSERT_OK(n4d_sim_add_input(s, (uint64_t)(NPAIR + k), 5000.0f), s);
        }
        ASSERT_OK(n4d_sim_run(s, 1), s);
        /* exactly the forced neurons spiked */
        const uint32_t *ids;
        uint64_t cnt;
        ASSERT_OK(n4d_sim_last_spikes(s, &ids, &cnt), s);
        for (uint64_t q = 0; q < cnt; q++) {
            const uint32_t id = ids[q];
            const bool pre_ok = id < NPAIR && (at[i] == 1000 || at[i] == 30000);
            const bool post_ok = id >= NPAIR && at[i] == 1000 + PAIR_OFFSET[id - NPAIR];
            CHECK(pre_ok || post_ok, "neuron %u spiked at step %lld", id, (long long)at[i]);
        }
    }
    ASSERT_OK(n4d_sim_run(s, 10), s);
    uint64_t n = 0;
    uint32_t src[NPAIR];
    ASSERT_OK(n4d_sim_get_weights(s, "pair", NPAIR, src, NULL, w, &n), s);
    assert_int_equal(n, NPAIR);
    for (int k = 0; k < NPAIR; k++)
        assert_int_equal(src[k], k);
    n4d_sim_destroy(s);
}

/* NEST's update of one pair (times in steps of 0.1 ms, delay d = 1 step):
 * the presynaptic spike at 1000 depresses with K- at 1000 - d (postsynaptic
 * spikes strictly before); a postsynaptic spike t > 1000 - d facilitates
 * with K+ = exp(-(t + d - 1000) / tau_plus) at the next presynaptic spike. */
static double nest_pair(int off, double w0, double lambda, double alpha, double mu_p, double mu_m,
                        double wmax, double tau_p, double tau_m)
{
    const double dt = 0.1, d = 1.0, t_pre = 1000.0, t_post = 1000.0 + off;
    double w = w0;
    if (t_post < t_pre - d) { /* depression at the presynaptic spike */
        const double km = exp(-(t_pre - d - t_post) * dt / tau_m), nw = w / wmax;
        const double r = nw - alpha * lambda * pow(nw, mu_m) * km;
        w = (r > 0 ? r : 0) * wmax;
    } else if (t_post > t_pre - d) { /* facilitation, applied at the next one */
        const double kp = exp(-(t_post + d - t_pre) * dt / tau_p), nw = w / wmax;
        const double r = nw + lambda * pow(1.0 - nw, mu_p) * kp;
        w = (r < 1 ? r : 1) * wmax;
    }
    return w;
}

static void check_pairs(double mu, const char *label)
{
    n4d_context *ctx = new_ctx();
    const double lambda = 0.05, alpha = 1.2, wmax = 2.0, w0 = 1.0, tau_p = 16.8, tau_m = 33.7;
    const n4d_param_value sp[] = {{"lambda", lambda}, {"alpha", alpha}, {"mu_plus", mu},
                                  {"mu_minus", mu},   {"Wmax", wmax},   {"tau_plus", tau_p},
                                  {"tau_minus", tau_m}};
    n4d_model *m = pair_model(ctx, sp, 7, w0);
    float w_ref[NPAIR], w_omp1[NPAIR], w_omp2[NPAIR];
    run_pairs(m, "cpu-ref", 1, w_ref);
    run_pairs(m, "cpu-omp", 1, w_omp1);
    run_pairs(m, "cpu-omp", 2, w_omp2);
    for (int k = 0; k < NPAIR; k++) {
        const double expect = nest_pair(PAIR_OFFSET[k], w0, lambda, alpha, mu, mu, wmax, tau_p, tau_m);
        CHECK(fabs(w_ref[k] - expect) < 1e-6, "%s: offset %d steps: weight %.9g, NEST %.9g", label,
              PAIR_OFFSET[k], (double)w_ref[k], expect);
        /* the same bits on every backend and thread count */
        assert_memory_equal(&w_ref[k], &w_omp1[k], sizeof(float));
        assert_memory_equal(&w_ref[k], &w_omp2[k], sizeof(float));
    }
    /* the window: potentiation for post after pre, depression before */
    assert_true(w_ref[NPAIR - 1] > w0 && w_ref[9] > w_ref[NPAIR - 2] && w_ref[0] < w0 &&
                w_ref[3] < w_ref[1]);
    n4d_model_destroy(m);
    assert_int_equal(mem_current(ctx), 0);
    n4d_context_destroy(ctx);
}

static void test_stdp_pairs(void **state)
{
    (void)state;
    check_pairs(0.0, "additive");
    check_pairs(1.0, "multiplicative");
    check_pairs(0.4, "mu 0.4");
}

/* Several pairings on one synapse: NEST's all-to-all sums, in order. */
static void test_stdp_sequence(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    const double lambda = 0.1, alpha = 1.0, wmax = 1.0, tau = 20.0;
    const n4d_param_value sp[] = {{"lambda", lambda}, {"alpha", alpha}, {"mu_plus", 0.0},
                                  {"mu_minus", 0.0},  {"Wmax", wmax}};
    n4d_model *m = pair_model(ctx, sp, 5, 0.5);
    n4d_sim *s = NULL;
    ASSERT_OK(n4d_sim_create(m, NULL, &s), m);
    /* pair 0: pre at 100, 300; post at 150, 200, 250 */
    const int64_t pre[] = {100, 300, 5000}, post[] = {150, 200, 250};
    for (int64_t t = 0; t <= 5000; t++) {
        for (int k = 0; k < 3; k++) {
            if (t == pre[k])
                ASSERT_OK(n4d_sim_add_input(s, 0, 5000.0f), s);
            if (t == post[k])
                ASSERT_OK(n4d_sim_add_input(s, NPAIR, 5000.0f), s);
        }
        ASSERT_OK(n4d_sim_run(s, 1), s);
    }
    float w;
    uint64_t n = 0;
    uint32_t src[NPAIR];
    float all[NPAIR];
    ASSERT_OK(n4d_sim_get_weights(s, "pair", NPAIR, src, NULL, all, &n), s);
    w = all[0];
    /* NEST: at pre 300, facilitation by 150, 200, 250 with K+ of the spike at
     * 100, then depression with K- (all three) at 299; at pre 5000, nothing
     * more (the facilitation window ended, K- has decayed to nothing) */
    double e = 0.5 / wmax, dt = 0.1;
    for (int k = 0; k < 3; k++)
        e = fmin(e + lambda * exp(-((double)post[k] + 1 - 100) * dt / tau), 1.0);
    double km = 0;
    for (int k = 0; k < 3; k++)
        km += exp(-(299.0 - (double)post[k]) * dt / tau);
    e = fmax(e - alpha * lambda * km, 0.0);
    const double km2 = km * exp(-(4999.0 - 299.0) * dt / tau); /* below e^-40: ignored */
    (void)km2;
    CHECK(fabs(w - e * wmax) < 1e-6, "weight %.9g, NEST %.9g", (double)w, e * wmax);
    n4d_sim_destroy(s);
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
}

/* ---- tsodyks: NEST tsodyks2_synapse -------------------------------------------------- */

static void test_tsodyks(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    n4d_model *m = NULL;
    OK(n4d_model_create(ctx, &m));
    const double dt = 0.1, U = 0.3, tau_rec = 100.0, tau_fac = 50.0, w0 = 2.0;
    ASSERT_OK(n4d_model_set_dt(m, dt), m);
    const uint32_t shape[4] = {2, 1, 1, 1};
    ASSERT_OK(n4d_model_set_lattice(m, shape), m);
    const int32_t lo0[4] = {0, 0, 0, 0}, lo1[4] = {1, 0, 0, 0};
    ASSERT_OK(n4d_model_add_area(m, "a0", lo0, lo0), m);
    ASSERT_OK(n4d_model_add_area(m, "a1", lo1, lo1), m);
    const n4d_param_value np[] = {{"t_ref", 0.0}};
    const n4d_param_value npost[] = {{"tau_syn_ex", 2.0}, {"v_threshold", 1000.0}};
    n4d_population_desc d;
    n4d_population_desc_init(&d);
    d.name = "pre";
    d.area = "a0";
    d.model = N4D_NEURON_LIF;
    d.params = np;
    d.n_params = 1;
    ASSERT_OK(n4d_model_add_population(m, &d, NULL), m);
    d.name = "post";
    d.area = "a1";
    d.model = N4D_NEURON_LIF_EXP;
    d.params = npost;
    d.n_params = 2;
    ASSERT_OK(n4d_model_add_population(m, &d, NULL), m);
    const n4d_param_value sp[] = {{"U", U}, {"u", U}, {"x", 1.0}, {"tau_rec", tau_rec},
                                  {"tau_fac", tau_fac}};
    n4d_projection_desc p;
    n4d_projection_desc_init(&p);
    p.source = "pre";
    p.target = "post";
    p.rule = N4D_RULE_ALL_TO_ALL;
    p.weight = n4d_dist_constant(w0);
    p.synapse_model = "tsodyks";
    p.synapse_params = sp;
    p.n_synapse_params = 5;
    ASSERT_OK(n4d_model_add_projection(m, &p, NULL), m);
    for (int b = 0; b < 2; b++) {
        n4d_sim_options o;
        n4d_sim_options_init(&o);
        o.backend = b ? "cpu-omp" : "cpu-ref";
        n4d_sim *s = NULL;
        ASSERT_OK(n4d_sim_create(m, &o, &s), m);
        const int64_t spikes[] = {100, 150, 160, 170, 2000};
        double u = U, x = 1.0, tl = -1.0;
        const float pe = (float)exp(-dt / 2.0);
        for (int k = 0; k < 5; k++) {
            ASSERT_OK(n4d_sim_run(s, (uint64_t)spikes[k] - n4d_sim_current_step(s)), s);
            ASSERT_OK(n4d_sim_add_input(s, 0, 5000.0f), s);
            ASSERT_OK(n4d_sim_run(s, 1), s); /* the spike */
            float ge0, ge1, g2[2];
            ASSERT_OK(n4d_sim_get_state(s, "ge", g2, 2), s);
            ge0 = g2[1];
            ASSERT_OK(n4d_sim_run(s, 1), s); /* its arrival (delay one step) */
            ASSERT_OK(n4d_sim_get_state(s, "ge", g2, 2), s);
            ge1 = g2[1];
            const double got = (double)(ge1 / pe) - (double)ge0;
            /* NEST: x = 1 + (x - x u - 1) e^{-h/tau_rec}; u = U + u (1 - U) e^{-h/tau_fac} */
            const double h = (double)spikes[k] - tl;
            x = 1.0 + (x - x * u - 1.0) * exp(-h * dt / tau_rec);
            u = U + u * (1.0 - U) * exp(-h * dt / tau_fac);
            tl = (double)spikes[k];
            CHECK(fabs(got - u * x * w0) < 2e-5, "spike %d: efficacy %.7g, NEST %.7g", k, got,
                  u * x * w0);
        }
        n4d_sim_destroy(s);
    }
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
}

/* ---- configuration errors ------------------------------------------------------------- */

static void test_config_errors(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    static const struct {
        const char *synapse, *expect;
    } cases[] = {
        {"{\"model\": \"stdp\", \"tau_plus\": -1}", "synapse.tau_plus: -1 is out of range (expected > 0)"},
        {"{\"model\": \"stdp\", \"taup\": 1}",
         "synapse.taup: unknown parameter of synapse model \"stdp\" (expected tau_plus, tau_minus"},
        {"{\"model\": \"stdp\", \"pairing\": \"triplet\"}", "synapse.pairing"},
        {"{\"model\": \"hebb_4dnc\", \"weight_min\": 2, \"weight_max\": 1}",
         "hebb_4dnc weight_min 2 is above weight_max 1"},
        {"{\"tau_plus\": 3}", "synapse.model: missing key \"model\""},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char json[1024];
        snprintf(json, sizeof json,
                 "{\"dt\": 0.1, \"lattice_shape\": [4, 1, 1, 1],"
                 " \"areas\": [{\"name\": \"a\", \"coord_ranges\": {\"x\": [0, 3], \"y\": [0, 0],"
                 " \"z\": [0, 0], \"w\": [0, 0]}}],"
                 " \"populations\": [{\"name\": \"E\", \"area\": \"a\"}],"
                 " \"projections\": [{\"source\": \"E\", \"target\": \"E\", \"rule\": \"all_to_all\","
                 " \"synapse\": %s}]}",
                 cases[k].synapse);
        n4d_model *m = NULL;
        n4d_status st = n4d_model_from_json_string(ctx, json, strlen(json), "bad.json", &m);
        CHECK(st != N4D_OK && strstr(n4d_last_error(ctx), cases[k].expect),
              "case %zu: status %d, error \"%s\" (expected \"%s\")", k, (int)st,
              n4d_last_error(ctx), cases[k].expect);
    }
    /* two projections of one pair with different synapse models */
    const char *two =
        "{\"dt\": 0.1, \"lattice_shape\": [4, 1, 1, 1],"
        " \"areas\": [{\"name\": \"a\", \"coord_ranges\": {\"x\": [0, 3], \"y\": [0, 0],"
        " \"z\": [0, 0], \"w\": [0, 0]}}],"
        " \"populations\": [{\"name\": \"E\", \"area\": \"a\"}],"
        " \"projections\": [{\"name\": \"p1\", \"source\": \"E\", \"target\": \"E\", \"rule\": \"all_to_all\","
        " \"synapse\": {\"model\": \"stdp\"}}, {\"name\": \"p2\", \"source\": \"E\", \"target\": \"E\","
        " \"rule\": \"all_to_all\"}]}";
    n4d_model *m = NULL;
    ASSERT_OK(n4d_model_from_json_string(ctx, two, strlen(two), "two.json", &m), ctx);
    ASSERT_ERR_MSG(n4d_model_build(m), N4D_E_CONFIG, m,
                   "projections \"p1\" and \"p2\" join the same populations");
    n4d_model_destroy(m);
    assert_int_equal(mem_current(ctx), 0);
    n4d_context_destroy(ctx);
}

/* ---- API, import, checkpoint and weight-reading errors ---------------------------------- */

/* An unbuilt model: populations A, B, C of one neuron each. */
static n4d_model *three_pops(n4d_context *ctx)
{
    n4d_model *m = NULL;
    OK(n4d_model_create(ctx, &m));
    const uint32_t shape[4] = {3, 1, 1, 1};
    ASSERT_OK(n4d_model_set_lattice(m, shape), m);
    const int32_t lo[4] = {0, 0, 0, 0}, hi[4] = {2, 0, 0, 0};
    ASSERT_OK(n4d_model_add_area(m, "a", lo, hi), m);
    static const char *const names[3] = {"A", "B", "C"};
    for (int i = 0; i < 3; i++) {
        n4d_population_desc d;
        n4d_population_desc_init(&d);
        d.name = names[i];
        d.area = "a";
        d.count = 1;
        ASSERT_OK(n4d_model_add_population(m, &d, NULL), m);
    }
    return m;
}

static void test_api_errors(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    /* synapse parameters through n4d_model_add_projection */
    static const struct {
        const char *model;
        n4d_param_value pv;
        n4d_status st;
        const char *expect;
    } bad[] = {
        {"stdp", {"taup", 1.0}, N4D_E_CONFIG, "unknown parameter \"taup\" of synapse model \"stdp\""},
        {"stdp", {NULL, 1.0}, N4D_E_INVALID_ARG, "synapse parameter 0 has no name"},
        {"stdp", {"lambda", -1.0}, N4D_E_RANGE, "parameter \"lambda\" of synapse model \"stdp\" is -1"},
        {"stdp", {"nearest", 0.5}, N4D_E_RANGE, "stdp nearest must be 0 or 1"},
        {"hebb_4dnc", {"weight_min", 5.0}, N4D_E_RANGE, "weight_min 5 is above weight_max 1"},
        {"static", {"w", 1.0}, N4D_E_CONFIG, "none: it has no parameters"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        n4d_model *m = three_pops(ctx);
        n4d_projection_desc p;
        n4d_projection_desc_init(&p);
        p.source = "A";
        p.target = "B";
        p.synapse_model = bad[k].model;
        p.synapse_params = &bad[k].pv;
        p.n_synapse_params = 1;
        ASSERT_ERR_MSG(n4d_model_add_projection(m, &p, NULL), bad[k].st, m, bad[k].expect);
        n4d_model_destroy(m);
    }
    /* stdp traces are per neuron: two tau_minus into one population conflict */
    {
        n4d_model *m = three_pops(ctx);
        static const char *const names[2] = {"A", "B"};
        const n4d_param_value t1 = {"tau_minus", 10.0}, t2 = {"tau_minus", 30.0};
        for (int i = 0; i < 2; i++) {
            n4d_projection_desc p;
            n4d_projection_desc_init(&p);
            p.name = i ? "B->C" : "A->C";
            p.source = names[i];
            p.target = "C";
            p.rule = N4D_RULE_ALL_TO_ALL;
            p.synapse_model = "stdp";
            p.synapse_params = i ? &t2 : &t1;
            p.n_synapse_params = 1;
            ASSERT_OK(n4d_model_add_projection(m, &p, NULL), m);
        }
        n4d_sim *s = NULL;
        ASSERT_ERR_MSG(n4d_sim_create(m, NULL, &s), N4D_E_CONFIG, m,
                       "stdp projection \"B->C\": population \"C\" already has another tau_minus");
        assert_null(s);
        n4d_model_destroy(m);
    }
    /* plastic models are built on the CPU: "cuda" refuses, "auto" builds */
    for (int k = 0; k < 2; k++) {
        n4d_model *m = three_pops(ctx);
        n4d_projection_desc p;
        n4d_projection_desc_init(&p);
        p.name = "A->B";
        p.source = "A";
        p.target = "B";
        p.rule = N4D_RULE_ALL_TO_ALL;
        p.synapse_model = "stdp";
        ASSERT_OK(n4d_model_add_projection(m, &p, NULL), m);
        ASSERT_OK(n4d_model_set_build_backend(m, k ? "auto" : "cuda"), m);
        if (k)
            ASSERT_OK(n4d_model_build(m), m);
        else
            ASSERT_ERR_MSG(n4d_model_build(m), N4D_E_UNSUPPORTED, m,
                           "models with plastic synapses (projection \"A->B\") are built on the CPU");
        n4d_model_destroy(m);
    }
    /* reading weights */
    {
        const n4d_param_value sp[] = {{"Wmax", 1.0}};
        n4d_model *m = pair_model(ctx, sp, 1, 0.5);
        n4d_sim *s = NULL;
        ASSERT_OK(n4d_sim_create(m, NULL, &s), m);
        uint64_t n = 0;
        ASSERT_ERR_MSG(n4d_sim_get_weights(s, "nope", 0, NULL, NULL, NULL, &n), N4D_E_CONFIG, s,
                       "no projection or synapse class \"nope\"");
        ASSERT_ERR_MSG(n4d_sim_get_weights(s, NULL, 0, NULL, NULL, NULL, NULL), N4D_E_INVALID_ARG,
                       s, "count is NULL");
        ASSERT_OK(n4d_sim_get_weights(s, NULL, 0, NULL, NULL, NULL, &n), s);
        assert_int_equal(n, NPAIR);
        n4d_sim_destroy(s);
        n4d_model_destroy(m);
    }
    assert_int_equal(mem_current(ctx), 0);
    n4d_context_destroy(ctx);
}

/* A 4DNC config's plasticity section and an imported file's. */
static void test_4dnc_plasticity_errors(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    static const struct {
        const char *section, *expect;
    } cfgs[] = {
        {"{\"rule\": \"stdp\"}", "plasticity.rule: got stdp (expected \"hebb_like\""},
        {"{\"learning_rate\": -0.1}", "plasticity.learning_rate: -0.1 is out of range (expected >= 0)"},
        {"{\"weight_decay\": \"fast\"}", "plasticity.weight_decay"},
        {"{\"learnign_rate\": 0.1}", "plasticity"},
    };
    for (size_t k = 0; k < sizeof cfgs / sizeof cfgs[0]; k++) {
        char json[1024];
        snprintf(json, sizeof json,
                 "{\"lattice_shape\": [2, 2, 1, 1], \"areas\": [{\"name\": \"A\", \"coord_ranges\":"
                 " {\"x\": [0, 1], \"y\": [0, 1], \"z\": [0, 0], \"w\": [0, 0]}}],"
                 " \"plasticity\": %s}",
                 cfgs[k].section);
        n4d_model *m = NULL;
        n4d_status st = n4d_model_from_json_string(ctx, json, strlen(json), "nc.json", &m);
        CHECK(st != N4D_OK && strstr(n4d_last_error(ctx), cfgs[k].expect),
              "case %zu: status %d, error \"%s\" (expected \"%s\")", k, (int)st,
              n4d_last_error(ctx), cfgs[k].expect);
    }
    /* an imported save whose plasticity settings are wrong */
    static const struct {
        const char *key;
        double value;
        const char *expect;
    } imps[] = {
        {"weight_min", 3.0, "weight_min 3 is above weight_max 1"},
        {"learning_rate", -1.0, "config.plasticity.learning_rate: -1 is out of range (expected >= 0)"},
    };
    for (size_t k = 0; k < sizeof imps / sizeof imps[0]; k++) {
        json_error_t err;
        json_t *root = json_load_file(N4D_SOURCE_DIR "/tests/data/4dnc_small_model.json", 0, &err);
        assert_non_null(root);
        json_object_set_new(json_object_get(json_object_get(root, "config"), "plasticity"),
                            imps[k].key, json_real(imps[k].value));
        const char *path = tmp_path("bad_import.json");
        assert_int_equal(json_dump_file(root, path, JSON_COMPACT), 0);
        json_decref(root);
        n4d_model *m = NULL;
        ASSERT_ERR_MSG(n4d_model_import_4dnc(ctx, path, NULL, &m), N4D_E_FORMAT, ctx,
                       imps[k].expect);
        assert_null(m);
    }
    assert_int_equal(mem_current(ctx), 0);
    n4d_context_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hebb_shrink_bits),
        cmocka_unit_test(test_hebb_4dnc_rate0),
        cmocka_unit_test(test_hebb_4dnc_sample),
        cmocka_unit_test(test_stdp_pairs),
        cmocka_unit_test(test_stdp_sequence),
        cmocka_unit_test(test_tsodyks),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_api_errors),
        cmocka_unit_test(test_4dnc_plasticity_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
