/* The cell lifecycle (docs/lifecycle.md): an imported 4D Neural Cognition
 * sample with a lifecycle against an eager re-implementation of the
 * reference's lifecycle (every neuron, every step, with n4d's draws), on
 * every CPU backend and thread count; death steps in closed form; removal
 * silences a neuron and its synapses; zero mutation leaves parameters and
 * weights alone; children's weights through n4d_sim_get_weights; errors. */
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

#include "lifecycle.h"      /* n4d__life_normal, the overlay (white-box checks) */
#include "model_registry.h" /* n4d__ref_steps */

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
    snprintf(buf[k], sizeof buf[k], "%s/lifecycle_%s", N4D_BINARY_DIR, name);
    return buf[k];
}

#define SEED 1234u
#define DECAY (1.0 / 128.0) /* exact in binary: repeated subtraction = closed form */
#define MAX_AGE 150.0

/* ---- an eager re-implementation ----------------------------------------------------
 * The reference's step (4DNC.md) with its lifecycle after the plasticity:
 * every neuron, every step. n4d's lif in single precision per neuron, the
 * hebb rule in double, the lifecycle's draws from n4d__life_normal with the
 * keys of docs/lifecycle.md. One documented difference from the reference
 * is followed: a spike already sent arrives with the weight it was sent
 * with (the reference reads the weight at arrival, mutated or not). */

typedef struct e_syn {
    uint32_t pre, post; /* neuron indices (sorted by original id) */
    double w, sent;     /* current weight; the weight of the last spike sent */
    int inh;            /* channel of the segment: the weight's sign at import */
} e_syn;

typedef struct e_net {
    size_t n, s;
    int32_t *pos;
    float *v, *ext;
    double (*par)[6]; /* tau_m, v_rest, v_reset, v_threshold, t_ref, i_e */
    int64_t *last_spike;
    uint8_t *spiked, *alive, *past; /* past: spike of the previous step (delay 1) */
    uint64_t *id, *uid;             /* current id; n4d user id of the slot */
    uint32_t *gen;
    int64_t *parent;
    double *health, *age;
    uint64_t next_id, deaths, births;
    e_syn *syn;
    double eta, lo, hi, decay;
    int repro;
    double sp, sw;
    int32_t area_lo[2][4];
} e_net;

static int cmp_id(const void *a, const void *b)
{
    const double x = json_number_value(json_object_get(*(json_t *const *)a, "id"));
    const double y = json_number_value(json_object_get(*(json_t *const *)b, "id"));
    return (x > y) - (x < y);
}

/* The sample with a lifecycle: varied health and age, v -65, new ids. */
static const char *sample_with_lifecycle(int repro, double sp, double sw)
{
    json_error_t err;
    json_t *root = json_load_file(N4D_SOURCE_DIR "/tests/data/4dnc_small_model.json", 0, &err);
    assert_non_null(root);
    json_t *cfg = json_object_get(root, "config");
    json_t *lc = json_object_get(cfg, "cell_lifecycle");
    json_object_set_new(lc, "enable_death", json_true());
    json_object_set_new(lc, "enable_reproduction", repro ? json_true() : json_false());
    json_object_set_new(lc, "max_age", json_real(MAX_AGE));
    json_object_set_new(lc, "health_decay_per_step", json_real(DECAY));
    json_object_set_new(lc, "mutation_std_params", json_real(sp));
    json_object_set_new(lc, "mutation_std_weights", json_real(sw));
    json_t *neurons = json_object_get(root, "neurons");
    for (size_t i = 0; i < json_array_size(neurons); i++) {
        json_t *ne = json_array_get(neurons, i);
        json_object_set_new(ne, "health", json_real(0.25 + (double)((i * 37) % 97) / 128.0));
        json_object_set_new(ne, "age", json_integer((json_int_t)((i * 53) % 140)));
        json_object_set_new(ne, "generation", json_integer((json_int_t)(i % 3)));
        json_object_set_new(ne, "parent_id", json_integer(i % 3 ? 1000 + (json_int_t)i : -1));
        json_object_set_new(ne, "v_membrane", json_real(-65.0));
    }
    json_object_set_new(root, "next_neuron_id", json_integer(5000));
    const char *path = tmp_path(repro ? "repro.json" : "death.json");
    assert_int_equal(json_dump_file(root, path, JSON_COMPACT), 0);
    json_decref(root);
    return path;
}

static void e_load(e_net *r, const char *path, int repro, double sp, double sw)
{
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    assert_non_null(root);
    json_t *cfg = json_object_get(root, "config");
    json_t *pd = json_object_get(json_object_get(cfg, "neuron_model"), "params_default");
    const double p0[6] = {json_number_value(json_object_get(pd, "tau_m")),
                          json_number_value(json_object_get(pd, "v_rest")),
                          json_number_value(json_object_get(pd, "v_reset")),
                          json_number_value(json_object_get(pd, "v_threshold")),
                          json_number_value(json_object_get(pd, "refractory_period")),
                          0.0};
    json_t *pl = json_object_get(cfg, "plasticity");
    r->eta = json_number_value(json_object_get(pl, "learning_rate"));
    r->lo = json_number_value(json_object_get(pl, "weight_min"));
    r->hi = json_number_value(json_object_get(pl, "weight_max"));
    r->decay = json_number_value(json_object_get(pl, "weight_decay"));
    r->repro = repro;
    r->sp = sp;
    r->sw = sw;
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
    qsort(ord, r->n, sizeof *ord, cmp_id);
    r->pos = calloc(r->n * 4, sizeof(int32_t));
    r->v = calloc(r->n, sizeof(float));
    r->ext = calloc(r->n, sizeof(float));
    r->par = calloc(r->n, sizeof *r->par);
    r->last_spike = calloc(r->n, sizeof(int64_t));
    r->spiked = calloc(r->n, 1);
    r->alive = calloc(r->n, 1);
    r->past = calloc(r->n, 1);
    r->id = calloc(r->n, sizeof(uint64_t));
    r->uid = calloc(r->n, sizeof(uint64_t));
    r->gen = calloc(r->n, sizeof(uint32_t));
    r->parent = calloc(r->n, sizeof(int64_t));
    r->health = calloc(r->n, sizeof(double));
    r->age = calloc(r->n, sizeof(double));
    for (size_t i = 0; i < r->n; i++) {
        for (int k = 0; k < 4; k++)
            r->pos[4 * i + (size_t)k] =
                (int32_t)json_integer_value(json_object_get(ord[i], axes[k]));
        r->v[i] = (float)json_number_value(json_object_get(ord[i], "v_membrane"));
        memcpy(r->par[i], p0, sizeof p0);
        r->last_spike[i] = -1000;
        r->alive[i] = 1;
        r->id[i] = (uint64_t)json_integer_value(json_object_get(ord[i], "id"));
        r->gen[i] = (uint32_t)json_integer_value(json_object_get(ord[i], "generation"));
        r->parent[i] = json_integer_value(json_object_get(ord[i], "parent_id"));
        r->health[i] = json_number_value(json_object_get(ord[i], "health"));
        r->age[i] = json_number_value(json_object_get(ord[i], "age"));
    }
    r->next_id = (uint64_t)json_integer_value(json_object_get(root, "next_neuron_id"));
    r->syn = calloc(r->s, sizeof *r->syn);
    for (size_t j = 0; j < r->s; j++) {
        json_t *sj = json_array_get(syns, j);
        const uint64_t pre = (uint64_t)json_number_value(json_object_get(sj, "pre_id"));
        const uint64_t post = (uint64_t)json_number_value(json_object_get(sj, "post_id"));
        for (size_t i = 0; i < r->n; i++) {
            if (r->id[i] == pre)
                r->syn[j].pre = (uint32_t)i;
            if (r->id[i] == post)
                r->syn[j].post = (uint32_t)i;
        }
        r->syn[j].w = r->syn[j].sent = json_number_value(json_object_get(sj, "weight"));
        r->syn[j].inh = (float)r->syn[j].w < 0.0f;
        assert_int_equal(json_integer_value(json_object_get(sj, "delay")), 1);
    }
    free(ord);
    json_decref(root);
}

static void e_free(e_net *r)
{
    free(r->pos), free(r->v), free(r->ext), free(r->par), free(r->last_spike), free(r->spiked);
    free(r->alive), free(r->past), free(r->id), free(r->uid), free(r->gen), free(r->parent);
    free(r->health), free(r->age), free(r->syn);
}

static void e_feed(e_net *r, int a, const float *m, int rows, int cols)
{
    for (size_t i = 0; i < r->n; i++) {
        const int32_t *p = r->pos + 4 * i;
        const int ix = p[0] - r->area_lo[a][0], iy = p[1] - r->area_lo[a][1];
        if (p[2] == r->area_lo[a][2] && p[3] == r->area_lo[a][3] && ix >= 0 && ix < rows &&
            iy >= 0 && iy < cols)
            r->ext[i] += m[ix * cols + iy];
    }
}

static double e_clip(const e_net *r, double w)
{
    if (!isfinite(w))
        return 0.5 * (r->lo + r->hi);
    return w < r->lo ? r->lo : (w > r->hi ? r->hi : w);
}

/* The mutation of synapse j at the death of slot i (docs/lifecycle.md keys). */
static double e_weight_draw(const e_net *r, size_t j, size_t i)
{
    const e_syn *y = &r->syn[j];
    const uint32_t out = y->pre == i;
    const size_t other = out ? y->post : y->pre;
    const uint32_t purpose = N4D_RNG_LIFE_WEIGHT | out << 8 | (uint32_t)y->inh << 9 | 1u << 10;
    return n4d__life_normal(SEED, purpose, (uint32_t)r->uid[i],
                            (uint64_t)r->gen[i] << 32 | r->uid[other]);
}

static void e_step(e_net *r, int64_t t)
{
    double *in_e = calloc(r->n, sizeof(double)), *in_i = calloc(r->n, sizeof(double));
    for (size_t j = 0; j < r->s; j++) {
        const e_syn *y = &r->syn[j];
        if (r->past[y->pre] && r->alive[y->pre] && r->alive[y->post])
            *(y->inh ? &in_i[y->post] : &in_e[y->post]) += y->sent;
    }
    for (size_t i = 0; i < r->n; i++) {
        r->spiked[i] = 0;
        if (!r->alive[i])
            continue;
        const double *q = r->par[i];
        if (t - r->last_spike[i] < n4d__ref_steps(q[4], 1.0)) {
            r->ext[i] = 0.0f;
            continue;
        }
        const float vv = r->v[i], v_rest = (float)q[1];
        const float drive = ((float)in_e[i] + (float)in_i[i]) + (r->ext[i] + (float)q[5]);
        float vn = vv + (-(vv - v_rest) + drive) / (float)q[0] * 1.0f;
        if (!isfinite(vn))
            vn = v_rest;
        r->ext[i] = 0.0f;
        r->v[i] = vn;
        if (vn >= (float)q[3]) {
            r->v[i] = (float)q[2];
            r->last_spike[i] = t;
            r->spiked[i] = 1;
        }
    }
    for (size_t i = 0; i < r->n; i++)
        r->past[i] = r->spiked[i];
    /* plasticity, every synapse of living neurons */
    for (size_t j = 0; j < r->s; j++) {
        e_syn *y = &r->syn[j];
        if (!r->alive[y->pre] || !r->alive[y->post])
            continue;
        if (r->spiked[y->pre] && r->spiked[y->post])
            y->w += r->eta;
        else if (r->spiked[y->pre])
            y->w -= 0.5 * r->eta;
        y->w = e_clip(r, y->w);
        if (y->w > 0)
            y->w = y->w > r->decay ? y->w - r->decay : 0.0;
        else if (y->w < 0)
            y->w = y->w < -r->decay ? y->w + r->decay : 0.0;
        if (r->spiked[y->pre])
            y->sent = y->w;
    }
    /* the lifecycle, in id order */
    size_t *ord = malloc(r->n * sizeof *ord), n_ord = 0;
    for (size_t i = 0; i < r->n; i++)
        if (r->alive[i])
            ord[n_ord++] = i;
    for (size_t a = 1; a < n_ord; a++) /* insertion sort by current id */
        for (size_t b = a; b > 0 && r->id[ord[b]] < r->id[ord[b - 1]]; b--) {
            size_t x = ord[b];
            ord[b] = ord[b - 1];
            ord[b - 1] = x;
        }
    for (size_t k = 0; k < n_ord; k++) {
        const size_t i = ord[k];
        r->age[i] += 1.0;
        r->health[i] -= DECAY;
        if (r->health[i] < 0.0)
            r->health[i] = 0.0;
        if (!(r->health[i] < 0.1 || r->age[i] > MAX_AGE))
            continue;
        r->deaths++;
        if (!r->repro) {
            r->alive[i] = 0;
            continue;
        }
        for (size_t j = 0; j < r->s; j++)
            if (r->syn[j].pre == i || r->syn[j].post == i)
                r->syn[j].w += r->sw * e_weight_draw(r, j, i);
        for (int q = 0; q < 6; q++)
            r->par[i][q] *= 1.0 + r->sp * n4d__life_normal(SEED, N4D_RNG_LIFE_PARAM,
                                                           (uint32_t)r->uid[i],
                                                           (uint64_t)r->gen[i] * 24 + (uint64_t)q);
        r->v[i] = -65.0f;
        r->last_spike[i] = -1000;
        r->past[i] = 0; /* the child sent nothing */
        r->parent[i] = (int64_t)r->id[i];
        r->id[i] = r->next_id++;
        r->gen[i]++;
        r->health[i] = 1.0;
        r->age[i] = 0.0;
        r->births++;
    }
    free(ord);
    free(in_e);
    free(in_i);
}

static void input_at(int t, float *vis, float *aud)
{
    for (int ix = 0; ix < 6; ix++)
        for (int iy = 0; iy < 6; iy++) {
            vis[ix * 6 + iy] = (ix == (t / 3) % 6 || (t * 7 + iy * 5) % 13 == 0) ? 200.0f : 0.0f;
            aud[ix * 6 + iy] = (t % 9 == 0 && (ix + iy) % 2 == 0) ? 400.0f : 0.0f;
        }
}

/* Runs the imported sample with a lifecycle beside the eager version:
 * every step's spikes, then the lineage, the counts and the weights. */
static void compare_eager(int repro, double sp, double sw, const char *backend, int threads,
                          int steps)
{
    const char *path = sample_with_lifecycle(repro, sp, sw);
    n4d_context *ctx = new_ctx();
    n4d_model *m = NULL;
    ASSERT_OK(n4d_model_import_4dnc(ctx, path, NULL, &m), ctx);
    e_net r;
    memset(&r, 0, sizeof r);
    e_load(&r, path, repro, sp, sw);
    assert_int_equal(n4d_model_num_neurons(m), r.n);
    for (uint64_t u = 0; u < r.n; u++) {
        int32_t p[4];
        ASSERT_OK(n4d_model_neuron_position(m, u, p), m);
        for (size_t i = 0; i < r.n; i++)
            if (memcmp(p, r.pos + 4 * i, sizeof p) == 0)
                r.uid[i] = u;
    }
    n4d_sim_options o;
    n4d_sim_options_init(&o);
    o.backend = backend;
    o.num_threads = threads;
    o.seed = SEED;
    n4d_sim *s = NULL;
    ASSERT_OK(n4d_sim_create(m, &o, &s), m);
    uint8_t *mine = calloc(r.n, 1);
    for (int t = 0; t < steps; t++) {
        float vis[36], aud[36];
        input_at(t, vis, aud);
        ASSERT_OK(n4d_sim_feed_sense(s, "vision", vis, 6, 6, 0), s);
        ASSERT_OK(n4d_sim_feed_sense(s, "audition", aud, 6, 6, 0), s);
        e_feed(&r, 0, vis, 6, 6);
        e_feed(&r, 1, aud, 6, 6);
        ASSERT_OK(n4d_sim_run(s, 1), s);
        e_step(&r, t);
        const uint32_t *ids;
        uint64_t cnt;
        ASSERT_OK(n4d_sim_last_spikes(s, &ids, &cnt), s);
        memset(mine, 0, r.n);
        for (uint64_t k = 0; k < cnt; k++)
            mine[ids[k]] = 1;
        for (size_t i = 0; i < r.n; i++)
            CHECK(mine[r.uid[i]] == r.spiked[i],
                  "%s x%d repro %d: step %d neuron %zu: n4d %d, eager %d", backend, threads,
                  repro, t, i, mine[r.uid[i]], r.spiked[i]);
    }
    /* lineage */
    const uint64_t N = r.n;
    uint64_t *id = malloc(N * 8), *age = malloc(N * 8);
    uint32_t *gen = malloc(N * 4);
    int64_t *par = malloc(N * 8);
    uint8_t *alive = malloc(N);
    double *health = malloc(N * 8);
    ASSERT_OK(n4d_sim_get_lineage(s, 0, N, id, gen, par, alive, age, health), s);
    for (size_t i = 0; i < r.n; i++) {
        const uint64_t u = r.uid[i];
        CHECK(id[u] == r.id[i] && gen[u] == r.gen[i] && par[u] == r.parent[i] &&
                  alive[u] == r.alive[i] && (double)age[u] == r.age[i] && health[u] == r.health[i],
              "neuron %zu: n4d id %llu gen %u parent %lld alive %d age %llu health %.17g; eager "
              "%llu %u %lld %d %g %.17g",
              i, (unsigned long long)id[u], gen[u], (long long)par[u], alive[u],
              (unsigned long long)age[u], health[u], (unsigned long long)r.id[i], r.gen[i],
              (long long)r.parent[i], r.alive[i], r.age[i], r.health[i]);
    }
    uint64_t deaths = 0, births = 0;
    ASSERT_OK(n4d_sim_lifecycle_counts(s, &deaths, &births), s);
    assert_int_equal(deaths, r.deaths);
    assert_int_equal(births, r.births);
    /* every neuron died about once or more */
    CHECK(repro ? r.deaths > r.n : r.deaths > r.n / 2, "%llu deaths", (unsigned long long)r.deaths);
    /* weights of the living synapses */
    uint64_t ns = 0, live = 0;
    for (size_t j = 0; j < r.s; j++)
        live += r.alive[r.syn[j].pre] && r.alive[r.syn[j].post];
    ASSERT_OK(n4d_sim_get_weights(s, "4dnc", 0, NULL, NULL, NULL, &ns), s);
    assert_int_equal(ns, live);
    uint32_t *src = malloc(ns * 4 + 4), *tgt = malloc(ns * 4 + 4);
    float *w = malloc(ns * 4 + 4);
    ASSERT_OK(n4d_sim_get_weights(s, "4dnc", ns, src, tgt, w, &ns), s);
    double maxerr = 0.0;
    for (size_t j = 0; j < r.s; j++) {
        if (!r.alive[r.syn[j].pre] || !r.alive[r.syn[j].post])
            continue;
        double best = INFINITY;
        for (uint64_t q = 0; q < ns; q++)
            if (src[q] == r.uid[r.syn[j].pre] && tgt[q] == r.uid[r.syn[j].post])
                best = fmin(best, fabs((double)w[q] - r.syn[j].w));
        maxerr = fmax(maxerr, best);
    }
    CHECK(maxerr < 1e-5, "largest weight difference %g", maxerr);
    free(src), free(tgt), free(w);
    free(id), free(age), free(gen), free(par), free(alive), free(health), free(mine);
    n4d_sim_destroy(s);
    n4d_model_destroy(m);
    e_free(&r);
    assert_int_equal(mem_current(ctx), 0);
    n4d_context_destroy(ctx);
}

static void test_eager_reproduction(void **state)
{
    (void)state;
    compare_eager(1, 0.05, 0.5, "cpu-ref", 1, 400);
    compare_eager(1, 0.05, 0.5, "cpu-omp", 1, 400);
    compare_eager(1, 0.05, 0.5, "cpu-omp", 2, 400);
    compare_eager(1, 0.05, 0.5, "cpu-omp", 4, 400);
}

static void test_eager_removal(void **state)
{
    (void)state;
    compare_eager(0, 0.05, 0.5, "cpu-ref", 1, 300);
    compare_eager(0, 0.05, 0.5, "cpu-omp", 3, 300);
}

/* ---- an API model: death steps, removal, mutation ------------------------------------ */

/* Population "a" (n neurons, DC-driven, lifecycle `lc`) projecting one to
 * one onto population "b" (no lifecycle) with weight w and delay d. */
static n4d_model *ab_model(n4d_context *ctx, uint32_t n, const n4d_lifecycle *lc, double w,
                           double d)
{
    n4d_model *m = NULL;
    OK(n4d_model_create(ctx, &m));
    const uint32_t shape[4] = {n, 2, 1, 1};
    ASSERT_OK(n4d_model_set_lattice(m, shape), m);
    ASSERT_OK(n4d_model_set_dt(m, 1.0), m);
    const int32_t lo0[4] = {0, 0, 0, 0}, hi0[4] = {(int32_t)n - 1, 0, 0, 0};
    const int32_t lo1[4] = {0, 1, 0, 0}, hi1[4] = {(int32_t)n - 1, 1, 0, 0};
    ASSERT_OK(n4d_model_add_area(m, "A", lo0, hi0), m);
    ASSERT_OK(n4d_model_add_area(m, "B", lo1, hi1), m);
    n4d_population_desc pd;
    n4d_population_desc_init(&pd);
    pd.name = "a";
    pd.area = "A";
    ASSERT_OK(n4d_model_add_population(m, &pd, NULL), m);
    pd.name = "b";
    pd.area = "B";
    ASSERT_OK(n4d_model_add_population(m, &pd, NULL), m);
    ASSERT_OK(n4d_model_set_population_lifecycle(m, "a", lc), m);
    n4d_projection_desc pr;
    n4d_projection_desc_init(&pr);
    pr.name = "ab";
    pr.source = "a";
    pr.target = "b";
    pr.rule = N4D_RULE_ONE_TO_ONE;
    pr.weight = n4d_dist_constant(w);
    pr.delay = n4d_dist_constant(d);
    ASSERT_OK(n4d_model_add_projection(m, &pr, NULL), m);
    n4d_input_desc in;
    n4d_input_desc_init(&in);
    in.kind = N4D_INPUT_DC;
    in.target = "a";
    in.amplitude = 40.0;
    ASSERT_OK(n4d_model_add_input(m, &in), m);
    ASSERT_OK(n4d_model_build(m), m);
    return m;
}

static void test_death_steps(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    n4d_lifecycle lc;
    n4d_lifecycle_init(&lc);
    lc.enable_death = 1;
    lc.enable_reproduction = 1;
    lc.health_decay_per_step = 1.0 / 64.0; /* health 1 - k/64 < 0.1 first at k = 58 */
    lc.max_age = 1e9;
    lc.mutation_std_params = 0.0;
    lc.mutation_std_weights = 0.0;
    n4d_model *m = ab_model(ctx, 4, &lc, 5.0, 1.0);
    n4d_sim *s = NULL;
    ASSERT_OK(n4d_sim_create(m, NULL, &s), m);
    uint64_t deaths, births, id[8], age[8];
    uint32_t gen[8];
    int64_t par[8];
    ASSERT_OK(n4d_sim_run(s, 57), s); /* steps 0..56: nobody died */
    ASSERT_OK(n4d_sim_lifecycle_counts(s, &deaths, &births), s);
    assert_int_equal(deaths, 0);
    ASSERT_OK(n4d_sim_run(s, 1), s); /* step 57: the 4 neurons of "a" */
    ASSERT_OK(n4d_sim_lifecycle_counts(s, &deaths, &births), s);
    assert_int_equal(deaths, 4);
    assert_int_equal(births, 4);
    ASSERT_OK(n4d_sim_get_lineage(s, 0, 8, id, gen, par, NULL, age, NULL), s);
    for (uint64_t u = 0; u < 4; u++) { /* children get the next ids in id order */
        assert_int_equal(id[u], 8 + u);
        assert_int_equal(gen[u], 1);
        assert_int_equal(par[u], (int64_t)u);
        assert_int_equal(age[u], 0);
    }
    for (uint64_t u = 4; u < 8; u++) { /* "b" has no lifecycle */
        assert_int_equal(id[u], u);
        assert_int_equal(gen[u], 0);
        assert_int_equal(par[u], -1);
    }
    ASSERT_OK(n4d_sim_run(s, 58), s); /* the children die at 57 + 58 = 115 */
    ASSERT_OK(n4d_sim_lifecycle_counts(s, &deaths, &births), s);
    assert_int_equal(deaths, 8);
    ASSERT_OK(n4d_sim_get_lineage(s, 0, 1, id, gen, par, NULL, NULL, NULL), s);
    assert_int_equal(id[0], 12);
    assert_int_equal(gen[0], 2);
    assert_int_equal(par[0], 8);
    n4d_sim_destroy(s);
    n4d_model_destroy(m);
    /* age: max_age 30 kills at k = 31, step 30 */
    lc.health_decay_per_step = 0.0;
    lc.max_age = 30.0;
    m = ab_model(ctx, 2, &lc, 5.0, 1.0);
    ASSERT_OK(n4d_sim_create(m, NULL, &s), m);
    ASSERT_OK(n4d_sim_run(s, 30), s);
    ASSERT_OK(n4d_sim_lifecycle_counts(s, &deaths, NULL), s);
    assert_int_equal(deaths, 0);
    double h[1];
    ASSERT_OK(n4d_sim_get_lineage(s, 0, 1, NULL, NULL, NULL, NULL, age, h), s);
    assert_int_equal(age[0], 30);
    assert_true(h[0] == 1.0);
    ASSERT_OK(n4d_sim_run(s, 1), s);
    ASSERT_OK(n4d_sim_lifecycle_counts(s, &deaths, NULL), s);
    assert_int_equal(deaths, 2);
    n4d_sim_destroy(s);
    n4d_model_destroy(m);
    assert_int_equal(mem_current(ctx), 0);
    n4d_context_destroy(ctx);
}

/* The spike steps of neuron u over `steps` steps (flags). */
static void spike_steps(n4d_sim *s, uint32_t u, int steps, uint8_t *out)
{
    for (int t = 0; t < steps; t++) {
        ASSERT_OK(n4d_sim_run(s, 1), s);
        const uint32_t *ids;
        uint64_t cnt;
        ASSERT_OK(n4d_sim_last_spikes(s, &ids, &cnt), s);
        out[t] = 0;
        for (uint64_t k = 0; k < cnt; k++)
            out[t] |= ids[k] == u;
    }
}

/* Removal: neuron 0 of "a" drives neuron 0 of "b" (one to one, delay 3,
 * each spike makes one). Without a lifecycle b follows a 3 steps later;
 * with a removal right after a's spike at t*, a is silent from then on, the
 * spike in flight is lost (b does not fire at t* + 3), b never fires
 * again, and the synapse is gone from n4d_sim_get_weights. */
static void test_removal_silences(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    n4d_lifecycle lc;
    n4d_lifecycle_init(&lc);
    lc.enable_death = 1;
    lc.enable_reproduction = 0;
    lc.health_decay_per_step = 0.0;
    lc.max_age = 1e9;
    enum { T = 200 };
    uint8_t a0[T], b0[T], a1[T], b1[T];
    n4d_model *m = ab_model(ctx, 3, &lc, 400.0, 3.0);
    n4d_sim *s = NULL;
    ASSERT_OK(n4d_sim_create(m, NULL, &s), m);
    spike_steps(s, 0, T, a0);
    n4d_sim_destroy(s);
    ASSERT_OK(n4d_sim_create(m, NULL, &s), m);
    spike_steps(s, 3, T, b0);
    n4d_sim_destroy(s);
    n4d_model_destroy(m);
    int ts = -1, na = 0;
    for (int t = 30; t < T - 10 && ts < 0; t++)
        if (a0[t])
            ts = t;
    for (int t = 0; t < T; t++)
        na += a0[t];
    assert_true(ts > 0 && na > 5);
    for (int t = 0; t + 3 < T; t++) /* b follows a */
        CHECK(a0[t] == b0[t + 3], "step %d: a %d, b at +3 %d", t, a0[t], b0[t + 3]);
    /* age t* + 1 > max_age = t*: dies at the lifecycle of step t* */
    lc.max_age = ts;
    for (int be = 0; be < 2; be++) {
        m = ab_model(ctx, 3, &lc, 400.0, 3.0);
        n4d_sim_options o;
        n4d_sim_options_init(&o);
        o.backend = be ? "cpu-omp" : "cpu-ref";
        ASSERT_OK(n4d_sim_create(m, &o, &s), m);
        spike_steps(s, 0, T, a1);
        n4d_sim_destroy(s);
        ASSERT_OK(n4d_sim_create(m, &o, &s), m);
        spike_steps(s, 3, T, b1);
        for (int t = 0; t < T; t++) {
            CHECK(a1[t] == (t <= ts ? a0[t] : 0), "%s: a at %d: %d", o.backend, t, a1[t]);
            CHECK(b1[t] == (t < ts + 3 ? b0[t] : 0), "%s: b at %d: %d", o.backend, t, b1[t]);
        }
        uint64_t ns = 9, deaths = 0;
        uint32_t src[3];
        ASSERT_OK(n4d_sim_get_weights(s, "ab", 3, src, NULL, NULL, &ns), s);
        assert_int_equal(ns, 0); /* all three of "a" died */
        ASSERT_OK(n4d_sim_lifecycle_counts(s, &deaths, NULL), s);
        assert_int_equal(deaths, 3);
        uint8_t alive[6];
        ASSERT_OK(n4d_sim_get_lineage(s, 0, 6, NULL, NULL, NULL, alive, NULL, NULL), s);
        for (int u = 0; u < 6; u++)
            assert_int_equal(alive[u], u >= 3);
        n4d_sim_destroy(s);
        n4d_model_destroy(m);
    }
    assert_int_equal(mem_current(ctx), 0);
    n4d_context_destroy(ctx);
}

/* Zero mutation leaves parameters and weights as they were; a positive one
 * changes both, and the children's weights are readable. */
static void test_mutation(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    for (int on = 0; on < 2; on++) {
        n4d_lifecycle lc;
        n4d_lifecycle_init(&lc);
        lc.enable_death = 1;
        lc.enable_reproduction = 1;
        lc.health_decay_per_step = 1.0 / 64.0;
        lc.mutation_std_params = on ? 0.1 : 0.0;
        lc.mutation_std_weights = on ? 0.5 : 0.0;
        n4d_model *m = ab_model(ctx, 4, &lc, 5.0, 1.0);
        n4d_sim *s = NULL;
        ASSERT_OK(n4d_sim_create(m, NULL, &s), m);
        ASSERT_OK(n4d_sim_run(s, 60), s); /* past the first deaths at 57 */
        uint64_t ns = 0;
        uint32_t src[4], tgt[4];
        float w[4];
        ASSERT_OK(n4d_sim_get_weights(s, "ab", 4, src, tgt, w, &ns), s);
        assert_int_equal(ns, 4);
        for (int k = 0; k < 4; k++) {
            assert_int_equal(src[k], (uint32_t)k);
            assert_int_equal(tgt[k], 4u + (uint32_t)k);
            /* the mutation of the weight is the draw of slot k, generation 0 */
            const double z = n4d__life_normal(n4d_model_seed(m),
                                              N4D_RNG_LIFE_WEIGHT | 1u << 8 | 1u << 10, (uint32_t)k,
                                              (uint64_t)(4 + k));
            const float want = on ? (float)(5.0 + 0.5 * z) : 5.0f;
            CHECK(w[k] == want, "weight %d: %.9g, expected %.9g", k, (double)w[k], (double)want);
        }
        /* the parameters: v_threshold of the children */
        const n4d__life *L = s->life;
        double th0;
        ASSERT_OK(n4d_model_get_population_param(m, "a", "v_threshold", &th0), m);
        for (uint64_t i = 0; i < 4; i++) {
            const double th = L->params[i * N4D__MAX_PARAMS + 3];
            CHECK(on ? th != th0 : th == th0, "neuron %llu: v_threshold %.17g (population %.17g)",
                  (unsigned long long)i, th, th0);
        }
        n4d_sim_destroy(s);
        n4d_model_destroy(m);
    }
    assert_int_equal(mem_current(ctx), 0);
    n4d_context_destroy(ctx);
}

/* The same spikes and lineage on every CPU backend and thread count for a
 * config with a cell_lifecycle section and hebb plasticity. */
static void test_config_backends(void **state)
{
    (void)state;
    const char *text =
        "{\"lattice_shape\": [8, 8, 2, 2], \"dt\": 1.0, \"seed\": 7,"
        " \"areas\": [{\"name\": \"ctx\", \"coord_ranges\": {\"x\": [0, 7], \"y\": [0, 7],"
        " \"z\": [0, 1], \"w\": [0, 1]}}],"
        " \"plasticity\": {\"learning_rate\": 0.01, \"weight_min\": -10, \"weight_max\": 10},"
        " \"cell_lifecycle\": {\"enable_death\": true, \"enable_reproduction\": true,"
        "   \"max_age\": 90, \"health_decay_per_step\": 0.004, \"mutation_std_params\": 0.05,"
        "   \"mutation_std_weights\": 0.3},"
        " \"populations\": [{\"name\": \"ctx\", \"area\": \"ctx\","
        "   \"v_init\": {\"uniform\": [-70, -50]}}],"
        " \"projections\": [{\"name\": \"rec\", \"source\": \"ctx\", \"target\": \"ctx\","
        "   \"rule\": \"fixed_probability\", \"p\": 0.05, \"weight\": {\"uniform\": [-5, 8]},"
        "   \"delay\": {\"uniform\": [1, 3]}}],"
        " \"inputs\": [{\"type\": \"dc\", \"target\": \"ctx\", \"amplitude\": 16.0}]}";
    n4d_context *ctx = new_ctx();
    uint64_t ref_sum = 0, ref_deaths = 0;
    static const struct {
        const char *b;
        int t;
    } runs[] = {{"cpu-ref", 1}, {"cpu-omp", 1}, {"cpu-omp", 2}, {"cpu-omp", 4}};
    for (size_t k = 0; k < 4; k++) {
        n4d_model *m = NULL;
        ASSERT_OK(n4d_model_from_json_string(ctx, text, strlen(text), "life.json", &m), ctx);
        n4d_sim_options o;
        n4d_sim_options_init(&o);
        o.backend = runs[k].b;
        o.num_threads = runs[k].t;
        n4d_sim *s = NULL;
        ASSERT_OK(n4d_sim_create(m, &o, &s), m);
        ASSERT_OK(n4d_sim_run(s, 1000), s);
        uint64_t deaths = 0, ids[256];
        ASSERT_OK(n4d_sim_lifecycle_counts(s, &deaths, NULL), s);
        ASSERT_OK(n4d_sim_get_lineage(s, 0, 256, ids, NULL, NULL, NULL, NULL, NULL), s);
        uint64_t sum = n4d_sim_checksum(s);
        for (int i = 0; i < 256; i++)
            sum = sum * 31 + ids[i];
        if (k == 0) {
            ref_sum = sum;
            ref_deaths = deaths;
            assert_true(deaths > 256);
            assert_true(n4d_sim_total_spikes(s) > 1000);
        }
        CHECK(sum == ref_sum && deaths == ref_deaths, "%s x%d differs from cpu-ref", runs[k].b,
              runs[k].t);
        n4d_sim_destroy(s);
        if (k == 0 && n4d_has_feature(N4D_FEATURE_HDF5)) {
            /* a saved model keeps its lifecycle (and its owned static pairs) */
            const char *path = tmp_path("saved.h5");
            ASSERT_OK(n4d_model_save(m, path, NULL), m);
            n4d_model *m2 = NULL;
            ASSERT_OK(n4d_model_load(ctx, path, NULL, &m2), ctx);
            n4d_lifecycle lc;
            ASSERT_OK(n4d_model_get_population_lifecycle(m2, "ctx", &lc), m2);
            assert_true(lc.enable_death && lc.enable_reproduction && lc.max_age == 90 &&
                        lc.health_decay_per_step == 0.004 && lc.mutation_std_weights == 0.3);
            n4d_sim_options_init(&o);
            o.backend = "cpu-ref";
            ASSERT_OK(n4d_sim_create(m2, &o, &s), m2);
            ASSERT_OK(n4d_sim_run(s, 1000), s);
            uint64_t d2 = 0;
            ASSERT_OK(n4d_sim_lifecycle_counts(s, &d2, NULL), s);
            assert_int_equal(d2, deaths);
            ASSERT_OK(n4d_sim_get_lineage(s, 0, 256, ids, NULL, NULL, NULL, NULL, NULL), s);
            uint64_t sum2 = n4d_sim_checksum(s);
            for (int i = 0; i < 256; i++)
                sum2 = sum2 * 31 + ids[i];
            assert_true(sum2 == ref_sum);
            n4d_sim_destroy(s);
            n4d_model_destroy(m2);
            remove(path);
        }
        n4d_model_destroy(m);
    }
    assert_int_equal(mem_current(ctx), 0);
    n4d_context_destroy(ctx);
}

static void test_errors(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    n4d_lifecycle lc;
    n4d_lifecycle_init(&lc);
    lc.enable_death = 1;
    n4d_model *m = ab_model(ctx, 2, &lc, 1.0, 1.0);
    /* a built model is read-only */
    ASSERT_ERR_MSG(n4d_model_set_population_lifecycle(m, "a", &lc), N4D_E_STATE, m,
                   "n4d_model_set_population_lifecycle");
    n4d_sim *s = NULL;
    ASSERT_OK(n4d_sim_create(m, NULL, &s), m);
    ASSERT_ERR_MSG(n4d_sim_get_lineage(s, 3, 2, NULL, NULL, NULL, NULL, NULL, NULL), N4D_E_RANGE,
                   s, "n4d_sim_get_lineage");
    if (n4d_has_feature(N4D_FEATURE_HDF5))
        ASSERT_OK(n4d_sim_checkpoint(s, tmp_path("ckpt.h5"), NULL), s); /* test_learn_store */
    assert_int_equal(n4d_sim_lifecycle_counts(NULL, NULL, NULL), N4D_E_INVALID_ARG);
    n4d_sim_destroy(s);
    n4d_model_destroy(m);

    /* bad values */
    OK(n4d_model_create(ctx, &m));
    const uint32_t shape[4] = {2, 1, 1, 1};
    ASSERT_OK(n4d_model_set_lattice(m, shape), m);
    const int32_t lo[4] = {0, 0, 0, 0}, hi[4] = {1, 0, 0, 0};
    ASSERT_OK(n4d_model_add_area(m, "A", lo, hi), m);
    n4d_population_desc pd;
    n4d_population_desc_init(&pd);
    pd.name = "a";
    pd.area = "A";
    ASSERT_OK(n4d_model_add_population(m, &pd, NULL), m);
    lc.health_decay_per_step = -0.1;
    ASSERT_ERR_MSG(n4d_model_set_population_lifecycle(m, "a", &lc), N4D_E_RANGE, m,
                   "health_decay_per_step is -0.1");
    lc.health_decay_per_step = 0.01;
    lc.max_age = NAN;
    ASSERT_ERR_MSG(n4d_model_set_population_lifecycle(m, "a", &lc), N4D_E_RANGE, m, "max_age");
    lc.max_age = 10;
    lc.mutation_std_weights = INFINITY;
    ASSERT_ERR_MSG(n4d_model_set_population_lifecycle(m, "a", &lc), N4D_E_RANGE, m,
                   "mutation_std_weights");
    lc.mutation_std_weights = 0.1;
    ASSERT_ERR_MSG(n4d_model_set_population_lifecycle(m, "zz", &lc), N4D_E_CONFIG, m,
                   "unknown population \"zz\"");
    ASSERT_OK(n4d_model_set_population_lifecycle(m, "a", &lc), m);
    n4d_lifecycle got;
    ASSERT_OK(n4d_model_get_population_lifecycle(m, "a", &got), m);
    assert_true(got.enable_death == 1 && got.max_age == 10 && got.mutation_std_weights == 0.1);
    ASSERT_OK(n4d_model_set_population_lifecycle(m, "a", NULL), m); /* off */
    ASSERT_OK(n4d_model_get_population_lifecycle(m, "a", &got), m);
    assert_int_equal(got.enable_death, 0);
    /* stdp synapses of a reproducing population */
    lc.enable_reproduction = 1;
    ASSERT_OK(n4d_model_set_population_lifecycle(m, "a", &lc), m);
    n4d_projection_desc pr;
    n4d_projection_desc_init(&pr);
    pr.name = "aa";
    pr.source = "a";
    pr.target = "a";
    pr.rule = N4D_RULE_ALL_TO_ALL;
    pr.weight = n4d_dist_constant(1.0);
    pr.synapse_model = "stdp";
    ASSERT_OK(n4d_model_add_projection(m, &pr, NULL), m);
    ASSERT_ERR_MSG(n4d_sim_create(m, NULL, &s), N4D_E_UNSUPPORTED, m,
                   "cell lifecycle with reproduction and stdp");
    n4d_model_destroy(m);

    /* configs */
    static const struct {
        const char *text, *needle;
    } bad[] = {
        {"{\"lattice_shape\": [2,1,1,1], \"cell_lifecycle\": {\"enable_death\": 1}}",
         "cell_lifecycle.enable_death"},
        {"{\"lattice_shape\": [2,1,1,1], \"cell_lifecycle\": {\"max_agee\": 3}}",
         "cell_lifecycle.max_agee"},
        {"{\"lattice_shape\": [2,1,1,1], \"cell_lifecycle\": {\"health_decay_per_step\": -1}}",
         "cell_lifecycle.health_decay_per_step"},
        {"{\"lattice_shape\": [2,1,1,1], \"areas\": [{\"name\": \"A\", \"coord_ranges\": "
         "{\"x\": [0,1], \"y\": [0,0], \"z\": [0,0], \"w\": [0,0]}}], \"populations\": "
         "[{\"name\": \"a\", \"area\": \"A\", \"lifecycle\": {\"mutation_std_params\": \"x\"}}]}",
         "populations[0].lifecycle.mutation_std_params"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        m = NULL;
        ASSERT_ERR_MSG(n4d_model_from_json_string(ctx, bad[k].text, strlen(bad[k].text), "bad.json", &m), N4D_E_CONFIG, ctx,
                       bad[k].needle);
        assert_null(m);
    }
    /* a population's own lifecycle over the section */
    const char *good =
        "{\"lattice_shape\": [2,1,1,2], \"cell_lifecycle\": {\"enable_death\": true, "
        "\"max_age\": 7}, \"areas\": [{\"name\": \"A\", \"coord_ranges\": {\"x\": [0,1], "
        "\"y\": [0,0], \"z\": [0,0], \"w\": [0,0]}}, {\"name\": \"B\", \"coord_ranges\": "
        "{\"x\": [0,1], \"y\": [0,0], \"z\": [0,0], \"w\": [1,1]}}], \"populations\": "
        "[{\"name\": \"a\", \"area\": \"A\"}, {\"name\": \"b\", \"area\": \"B\", "
        "\"lifecycle\": {\"enable_death\": false}}]}";
    ASSERT_OK(n4d_model_from_json_string(ctx, good, strlen(good), "good.json", &m), ctx);
    ASSERT_OK(n4d_model_get_population_lifecycle(m, "a", &got), m);
    assert_true(got.enable_death == 1 && got.max_age == 7);
    ASSERT_OK(n4d_model_get_population_lifecycle(m, "b", &got), m);
    assert_true(got.enable_death == 0 && got.max_age == 7);
    n4d_model_destroy(m);
    assert_int_equal(mem_current(ctx), 0);
    n4d_context_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_death_steps),     cmocka_unit_test(test_removal_silences),
        cmocka_unit_test(test_mutation),        cmocka_unit_test(test_eager_reproduction),
        cmocka_unit_test(test_eager_removal),   cmocka_unit_test(test_config_backends),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
