/* Connection rules and placement: statistics of every rule within ~5 sigma
 * bounds computed from the parameters, exact counts where the rule is exact,
 * weight and delay distributions, sign types, canonical row order, and
 * bitwise identical builds for 1 and 4 build threads.
 *
 * Every model is built programmatically with a fixed seed, so each test is
 * deterministic; the bounds are wide enough that a correct implementation
 * passes for (almost) any seed, and narrow enough that a wrong rule fails. */
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

#define NSIG 5.0

/* ---- helpers ------------------------------------------------------------ */

#define BUILD(m)                                                                                  \
    do {                                                                                          \
        n4d_status st_ = n4d_model_build(m);                                                      \
        if (st_ != N4D_OK)                                                                        \
            fail_msg("build -> %d: %s", (int)st_, n4d_last_error(m));                            \
    } while (0)

/* |x - mean| <= NSIG * sd (+ slack for discreteness). */
static void within(const char *what, double x, double mean, double sd, double slack)
{
    double tol = NSIG * sd + slack;
    if (!(fabs(x - mean) <= tol))
        fail_msg("%s = %.6g, expected %.6g +- %.6g (%.1f sigma, sd %.4g)", what, x, mean, tol, NSIG,
                 sd);
}

static n4d_context *new_ctx(void)
{
    n4d_context *ctx = NULL;
    OK(n4d_context_create(NULL, &ctx));
    return ctx;
}

/* Storage layout applied by new_model (NULL: the default). */
static const n4d_layout_options *g_layout;

static n4d_model *new_model(n4d_context *ctx, uint32_t X, uint32_t Y, uint32_t Z, uint32_t W,
                            uint64_t seed, int32_t threads)
{
    n4d_model *m = NULL;
    OK(n4d_model_create(ctx, &m));
    if (g_layout)
        OK(n4d_model_set_layout(m, g_layout));
    const uint32_t shape[4] = {X, Y, Z, W};
    OK(n4d_model_set_lattice(m, shape));
    OK(n4d_model_set_seed(m, seed));
    OK(n4d_model_set_build_threads(m, threads));
    return m;
}

static void add_area(n4d_model *m, const char *name, int32_t x0, int32_t x1, int32_t y0,
                     int32_t y1, int32_t z0, int32_t z1, int32_t w0, int32_t w1)
{
    const int32_t lo[4] = {x0, y0, z0, w0}, hi[4] = {x1, y1, z1, w1};
    OK(n4d_model_add_area(m, name, lo, hi));
}

static void add_pop(n4d_model *m, const char *name, const char *area, int32_t placement,
                    double density, uint64_t count)
{
    n4d_population_desc d;
    n4d_population_desc_init(&d);
    d.name = name;
    d.area = area;
    d.placement = placement;
    d.density = density;
    d.count = count;
    OK(n4d_model_add_population(m, &d, NULL));
}

/* A population of n neurons on the line x = 0..n-1 of w slice `w` (its own
 * area "area_<name>"). The lattice must be at least n x 1 x 1 x (w + 1). */
static void line_pop(n4d_model *m, const char *name, int32_t w, uint32_t n)
{
    char area[64];
    snprintf(area, sizeof area, "area_%s", name);
    add_area(m, area, 0, (int32_t)n - 1, 0, 0, 0, 0, w, w);
    add_pop(m, name, area, N4D_PLACE_ALL, 1.0, 0);
}

static n4d_projection_desc proj(const char *src, const char *tgt, int32_t rule)
{
    n4d_projection_desc d;
    n4d_projection_desc_init(&d);
    d.source = src;
    d.target = tgt;
    d.rule = rule;
    return d;
}

static void add_proj(n4d_model *m, const n4d_projection_desc *d)
{
    n4d_status st = n4d_model_add_projection(m, d, NULL);
    if (st != N4D_OK)
        fail_msg("add_projection -> %d: %s", (int)st, n4d_last_error(m));
}

static n4d_population_info pop_info(const n4d_model *m, const char *name)
{
    n4d_population_info pi;
    memset(&pi, 0, sizeof pi);
    pi.struct_size = sizeof pi;
    int32_t idx = n4d_model_find_population(m, name);
    assert_true(idx >= 0);
    OK(n4d_model_population_info(m, idx, &pi));
    return pi;
}

/* Every synapse of a built model, row by row (source ascending), with the
 * canonical row order (delay, sign, target) checked on the way. */
typedef struct synset {
    uint64_t n;
    uint32_t *src, *tgt;
    float *w, *d;
} synset;

static void synset_free(synset *s)
{
    free(s->src);
    free(s->tgt);
    free(s->w);
    free(s->d);
    memset(s, 0, sizeof *s);
}

static synset collect_rows(const n4d_model *m, int check_order);

static synset collect(const n4d_model *m)
{
    return collect_rows(m, 1);
}

static synset collect_rows(const n4d_model *m, int check_order)
{
    synset s;
    memset(&s, 0, sizeof s);
    const uint64_t N = n4d_model_num_neurons(m), S = n4d_model_num_synapses(m);
    s.src = malloc((S ? S : 1) * sizeof *s.src);
    s.tgt = malloc((S ? S : 1) * sizeof *s.tgt);
    s.w = malloc((S ? S : 1) * sizeof *s.w);
    s.d = malloc((S ? S : 1) * sizeof *s.d);
    assert_true(s.src && s.tgt && s.w && s.d);
    for (uint64_t i = 0; i < N; i++) {
        uint64_t deg = 0, got = 0;
        OK(n4d_model_out_degree(m, i, &deg));
        CHECK(s.n + deg <= S, "row %llu overflows the synapse count %llu", (unsigned long long)i,
              (unsigned long long)S);
        OK(n4d_model_get_synapses(m, i, deg, s.tgt + s.n, s.w + s.n, s.d + s.n, &got));
        CHECK(got == deg, "get_synapses count %llu != out_degree %llu", (unsigned long long)got,
              (unsigned long long)deg);
        for (uint64_t k = 0; k < deg; k++) {
            uint64_t j = s.n + k;
            s.src[j] = (uint32_t)i;
            CHECK(s.tgt[j] < N, "row %llu: target %u out of range", (unsigned long long)i,
                  s.tgt[j]);
            CHECK(isfinite(s.w[j]) && s.d[j] > 0.0f, "row %llu: bad weight/delay",
                  (unsigned long long)i);
            if (k == 0 || !check_order)
                continue;
            /* (delay, sign, target) non-decreasing */
            float d0 = s.d[j - 1], d1 = s.d[j];
            int g0 = s.w[j - 1] < 0.0f, g1 = s.w[j] < 0.0f;
            int ordered = d0 < d1 || (d0 == d1 && (g0 < g1 || (g0 == g1 && s.tgt[j - 1] <= s.tgt[j])));
            CHECK(ordered,
                  "row %llu is not ordered by (delay, sign, target) at %llu: (%g, %d, %u) before "
                  "(%g, %d, %u)",
                  (unsigned long long)i, (unsigned long long)k, d0, g0, s.tgt[j - 1], d1, g1,
                  s.tgt[j]);
        }
        s.n += deg;
    }
    CHECK(s.n == S, "rows hold %llu synapses, n4d_model_num_synapses says %llu",
          (unsigned long long)s.n, (unsigned long long)S);
    return s;
}

static int synset_equal(const synset *a, const synset *b)
{
    return a->n == b->n && memcmp(a->src, b->src, a->n * sizeof *a->src) == 0 &&
           memcmp(a->tgt, b->tgt, a->n * sizeof *a->tgt) == 0 &&
           memcmp(a->w, b->w, a->n * sizeof *a->w) == 0 &&
           memcmp(a->d, b->d, a->n * sizeof *a->d) == 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Number of repeated (source, target) pairs. */
static uint64_t duplicate_pairs(const synset *s)
{
    if (s->n < 2)
        return 0;
    uint64_t *k = malloc(s->n * sizeof *k), dup = 0;
    assert_non_null(k);
    for (uint64_t i = 0; i < s->n; i++)
        k[i] = (uint64_t)s->src[i] << 32 | s->tgt[i];
    qsort(k, s->n, sizeof *k, cmp_u64);
    for (uint64_t i = 1; i < s->n; i++)
        dup += k[i] == k[i - 1];
    free(k);
    return dup;
}

/* Pearson chi-square of counts against a uniform expectation. */
static double chi_square(const uint64_t *count, uint64_t bins, double expected)
{
    double x2 = 0;
    for (uint64_t i = 0; i < bins; i++) {
        double d = (double)count[i] - expected;
        x2 += d * d / expected;
    }
    return x2;
}

/* Chi-square with df degrees of freedom: upper bound mean + NSIG sd; a
 * lower bound scaled by `shrink` (sampling without replacement lowers it). */
static void chi_square_ok(const char *what, double x2, double df, double shrink)
{
    double sd = sqrt(2.0 * df);
    if (!(x2 <= df + NSIG * sd + 1.0) || !(x2 >= shrink * df - NSIG * sd))
        fail_msg("%s: chi-square %.2f outside [%.2f, %.2f] (df %.0f)", what, x2,
                 shrink * df - NSIG * sd, df + NSIG * sd + 1.0, df);
}

/* ---- fixed_probability ---------------------------------------------------- */

static void test_fixed_probability_between(void **state)
{
    (void)state;
    const uint32_t NPRE = 400, NPOST = 500;
    const double p = 0.05;
    n4d_context *ctx = new_ctx();
    n4d_model *m = new_model(ctx, 500, 1, 1, 2, 42, 0);
    line_pop(m, "A", 0, NPRE);
    line_pop(m, "B", 1, NPOST);
    n4d_projection_desc d = proj("A", "B", N4D_RULE_FIXED_PROBABILITY);
    d.p = p;
    add_proj(m, &d);
    BUILD(m);
    synset s = collect(m);
    n4d_population_info b = pop_info(m, "B"), a = pop_info(m, "A");
    assert_int_equal(a.count, NPRE);
    assert_int_equal(b.count, NPOST);

    const double pairs = (double)NPRE * NPOST;
    within("fixed_probability total", (double)s.n, pairs * p, sqrt(pairs * p * (1 - p)), 0.5);

    /* per-source out-degree: mean and variance of Binomial(NPOST, p) */
    double sum = 0, sum2 = 0;
    for (uint32_t i = 0; i < NPRE; i++) {
        uint64_t deg;
        OK(n4d_model_out_degree(m, a.first + i, &deg));
        sum += (double)deg;
        sum2 += (double)deg * (double)deg;
    }
    const double mu = NPOST * p, var = NPOST * p * (1 - p);
    double mean = sum / NPRE, svar = (sum2 - NPRE * mean * mean) / (NPRE - 1);
    within("out-degree mean", mean, mu, sqrt(var / NPRE), 0.0);
    double kurt = (1.0 - 6.0 * p * (1 - p)) / var; /* excess kurtosis */
    within("out-degree variance", svar, var, var * sqrt((2.0 + kurt) / (NPRE - 1)), 0.0);

    /* targets only in B, no repeated pairs (one Bernoulli trial per pair) */
    for (uint64_t j = 0; j < s.n; j++)
        CHECK(s.tgt[j] >= b.first && s.tgt[j] < b.first + b.count && s.src[j] < a.first + a.count,
              "synapse %u -> %u outside the projection", s.src[j], s.tgt[j]);
    assert_int_equal(duplicate_pairs(&s), 0);

    /* targets uniform: in-degree chi-square over B */
    uint64_t *cnt = calloc(NPOST, sizeof *cnt);
    assert_non_null(cnt);
    for (uint64_t j = 0; j < s.n; j++)
        cnt[s.tgt[j] - b.first]++;
    chi_square_ok("fixed_probability in-degrees", chi_square(cnt, NPOST, (double)s.n / NPOST),
                  NPOST - 1, 0.9);
    free(cnt);
    synset_free(&s);
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
}

static void test_fixed_probability_autapses(void **state)
{
    (void)state;
    const uint32_t N = 300;
    const double p = 0.1;
    n4d_context *ctx = new_ctx();
    for (int allow = 0; allow <= 1; allow++) {
        n4d_model *m = new_model(ctx, N, 1, 1, 1, 7 + (uint64_t)allow, 0);
        line_pop(m, "E", 0, N);
        n4d_projection_desc d = proj("E", "E", N4D_RULE_FIXED_PROBABILITY);
        d.p = p;
        d.allow_autapses = allow;
        add_proj(m, &d);
        BUILD(m);
        synset s = collect(m);
        uint64_t self = 0;
        for (uint64_t j = 0; j < s.n; j++)
            self += s.src[j] == s.tgt[j];
        const double pairs = allow ? (double)N * N : (double)N * (N - 1);
        within("fixed_probability (same population) total", (double)s.n, pairs * p,
               sqrt(pairs * p * (1 - p)), 0.5);
        if (!allow)
            CHECK(self == 0, "%llu autapses with allow_autapses = 0", (unsigned long long)self);
        else
            within("autapses", (double)self, N * p, sqrt(N * p * (1 - p)), 0.5);
        synset_free(&s);
        n4d_model_destroy(m);
    }
    /* p = 1: every pair exactly once (without autapses n (n - 1)); p = 0: none */
    for (int allow = 0; allow <= 1; allow++) {
        n4d_model *m = new_model(ctx, 60, 1, 1, 1, 3, 0);
        line_pop(m, "E", 0, 60);
        n4d_projection_desc d = proj("E", "E", N4D_RULE_FIXED_PROBABILITY);
        d.p = 1.0;
        d.allow_autapses = allow;
        add_proj(m, &d);
        BUILD(m);
        synset s = collect(m);
        assert_int_equal(s.n, allow ? 60 * 60 : 60 * 59);
        assert_int_equal(duplicate_pairs(&s), 0);
        for (uint64_t j = 0; j < s.n; j++)
            CHECK(allow || s.src[j] != s.tgt[j], "autapse with p = 1");
        synset_free(&s);
        n4d_model_destroy(m);
    }
    {
        n4d_model *m = new_model(ctx, 60, 1, 1, 1, 3, 0);
        line_pop(m, "E", 0, 60);
        n4d_projection_desc d = proj("E", "E", N4D_RULE_FIXED_PROBABILITY);
        d.p = 0.0;
        add_proj(m, &d);
        BUILD(m);
        assert_int_equal(n4d_model_num_synapses(m), 0);
        n4d_model_destroy(m);
    }
    n4d_context_destroy(ctx);
}

/* ---- fixed_indegree -------------------------------------------------------- */

static void check_indegree(uint32_t npre, uint32_t npost, uint64_t K, int same, int autapses,
                           int multapses, uint64_t seed)
{
    n4d_context *ctx = new_ctx();
    n4d_model *m = new_model(ctx, npre > npost ? npre : npost, 1, 1, 2, seed, 0);
    line_pop(m, "A", 0, npre);
    if (!same)
        line_pop(m, "B", 1, npost);
    n4d_projection_desc d = proj("A", same ? "A" : "B", N4D_RULE_FIXED_INDEGREE);
    d.n = K;
    d.allow_autapses = autapses;
    d.allow_multapses = multapses;
    add_proj(m, &d);
    BUILD(m);
    synset s = collect(m);
    n4d_population_info a = pop_info(m, "A"), b = pop_info(m, same ? "A" : "B");
    assert_int_equal(s.n, K * b.count);

    /* exactly K incoming synapses for every target, counted over all rows */
    uint64_t *in = calloc(b.count, sizeof *in), *out = calloc(a.count, sizeof *out);
    assert_true(in && out);
    uint64_t self = 0;
    for (uint64_t j = 0; j < s.n; j++) {
        CHECK(s.tgt[j] >= b.first && s.tgt[j] < b.first + b.count, "target %u outside", s.tgt[j]);
        CHECK(s.src[j] >= a.first && s.src[j] < a.first + a.count, "source %u outside", s.src[j]);
        in[s.tgt[j] - b.first]++;
        out[s.src[j] - a.first]++;
        self += s.src[j] == s.tgt[j];
    }
    for (uint64_t t = 0; t < b.count; t++)
        CHECK(in[t] == K, "target %llu has %llu incoming synapses, expected %llu",
              (unsigned long long)t, (unsigned long long)in[t], (unsigned long long)K);
    if (same && !autapses)
        CHECK(self == 0, "%llu autapses with allow_autapses = 0", (unsigned long long)self);
    if (!multapses)
        CHECK(duplicate_pairs(&s) == 0, "%llu repeated pairs with allow_multapses = 0",
              (unsigned long long)duplicate_pairs(&s));
    /* sources uniform: chi-square of the out-degrees (skip when every
     * source must be taken, the counts are then exact) */
    const uint64_t avail = a.count - (same && !autapses ? 1 : 0);
    if (multapses || K < avail) {
        double shrink = multapses ? 1.0 : 1.0 - (double)K / (double)avail;
        chi_square_ok("fixed_indegree sources", chi_square(out, a.count, (double)s.n / a.count),
                      (double)a.count - 1, shrink * 0.9);
    } else {
        for (uint64_t i = 0; i < a.count; i++)
            CHECK(out[i] == (same ? b.count - 1 : b.count), "source %llu used %llu times",
                  (unsigned long long)i, (unsigned long long)out[i]);
    }
    free(in);
    free(out);
    synset_free(&s);
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
}

static void test_fixed_indegree(void **state)
{
    (void)state;
    check_indegree(300, 200, 20, 0, 1, 0, 11); /* no multapses */
    check_indegree(300, 200, 20, 0, 1, 1, 12); /* multapses allowed */
    check_indegree(250, 250, 25, 1, 0, 0, 13); /* same population, no autapses */
    check_indegree(50, 50, 49, 1, 0, 0, 14);   /* every other neuron exactly once */
    check_indegree(40, 30, 40, 0, 1, 0, 15);   /* every source exactly once */
    check_indegree(20, 100, 60, 0, 1, 1, 16);  /* K > sources: multapses needed */
}

static void test_fixed_indegree_impossible(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    n4d_model *m = new_model(ctx, 50, 1, 1, 1, 1, 0);
    line_pop(m, "E", 0, 50);
    n4d_projection_desc d = proj("E", "E", N4D_RULE_FIXED_INDEGREE);
    d.n = 50; /* only 49 other neurons */
    d.allow_autapses = 0;
    d.allow_multapses = 0;
    add_proj(m, &d);
    n4d_status st = n4d_model_build(m);
    assert_int_equal(st, N4D_E_CONFIG);
    CHECK(strlen(n4d_last_error(m)) > 0, "no message for an impossible in-degree");
    assert_false(n4d_model_is_built(m));
    n4d_model_destroy(m);
    /* one neuron, no autapses: no source at all, even with multapses (the
     * draws would repeat forever) */
    m = new_model(ctx, 50, 1, 1, 1, 1, 0);
    line_pop(m, "S", 0, 1);
    d = proj("S", "S", N4D_RULE_FIXED_INDEGREE);
    d.n = 3;
    d.allow_autapses = 0;
    d.allow_multapses = 1;
    add_proj(m, &d);
    assert_int_equal(n4d_model_build(m), N4D_E_CONFIG);
    CHECK(strstr(n4d_last_error(m), "0 available sources") != NULL, "%s", n4d_last_error(m));
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
}

/* ---- fixed_total_number ------------------------------------------------------- */

static void test_fixed_total_number(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    const uint32_t NPRE = 100, NPOST = 150;
    const uint64_t NS = 6000;
    {
        n4d_model *m = new_model(ctx, 150, 1, 1, 2, 21, 0);
        line_pop(m, "A", 0, NPRE);
        line_pop(m, "B", 1, NPOST);
        n4d_projection_desc d = proj("A", "B", N4D_RULE_FIXED_TOTAL_NUMBER);
        d.n = NS;
        add_proj(m, &d);
        BUILD(m);
        synset s = collect(m);
        assert_int_equal(s.n, NS);
        n4d_population_info a = pop_info(m, "A"), b = pop_info(m, "B");
        uint64_t *out = calloc(NPRE, sizeof *out), *in = calloc(NPOST, sizeof *in);
        assert_true(in && out);
        for (uint64_t j = 0; j < s.n; j++) {
            CHECK(s.src[j] >= a.first && s.src[j] < a.first + NPRE && s.tgt[j] >= b.first &&
                      s.tgt[j] < b.first + NPOST,
                  "synapse %u -> %u outside the projection", s.src[j], s.tgt[j]);
            out[s.src[j] - a.first]++;
            in[s.tgt[j] - b.first]++;
        }
        chi_square_ok("fixed_total_number sources", chi_square(out, NPRE, (double)NS / NPRE),
                      NPRE - 1, 0.9);
        chi_square_ok("fixed_total_number targets", chi_square(in, NPOST, (double)NS / NPOST),
                      NPOST - 1, 0.9);
        /* multapses allowed: repeated pairs ~ n^2 / (2 pairs) on average */
        const double pairs = (double)NPRE * NPOST, edup = (double)NS * (NS - 1) / (2.0 * pairs);
        within("fixed_total_number repeated pairs", (double)duplicate_pairs(&s), edup, sqrt(edup),
               1.0);
        free(out);
        free(in);
        synset_free(&s);
        n4d_model_destroy(m);
    }
    { /* same population without autapses */
        n4d_model *m = new_model(ctx, 80, 1, 1, 1, 22, 0);
        line_pop(m, "E", 0, 80);
        n4d_projection_desc d = proj("E", "E", N4D_RULE_FIXED_TOTAL_NUMBER);
        d.n = 3000;
        d.allow_autapses = 0;
        add_proj(m, &d);
        BUILD(m);
        synset s = collect(m);
        assert_int_equal(s.n, 3000);
        for (uint64_t j = 0; j < s.n; j++)
            CHECK(s.src[j] != s.tgt[j], "autapse %u -> %u", s.src[j], s.tgt[j]);
        synset_free(&s);
        n4d_model_destroy(m);
    }
    { /* without multapses: exactly n distinct pairs, or a documented refusal */
        n4d_model *m = new_model(ctx, 80, 1, 1, 1, 23, 0);
        line_pop(m, "E", 0, 80);
        n4d_projection_desc d = proj("E", "E", N4D_RULE_FIXED_TOTAL_NUMBER);
        d.n = 2000;
        d.allow_multapses = 0;
        add_proj(m, &d);
        n4d_status st = n4d_model_build(m);
        if (st == N4D_OK) {
            synset s = collect(m);
            assert_int_equal(s.n, 2000);
            assert_int_equal(duplicate_pairs(&s), 0);
            synset_free(&s);
        } else {
            assert_int_equal(st, N4D_E_UNSUPPORTED);
            CHECK(strlen(n4d_last_error(m)) > 0, "refusal without a message");
        }
        n4d_model_destroy(m);
    }
    n4d_context_destroy(ctx);
}

/* ---- one_to_one and all_to_all ------------------------------------------------- */

static void test_one_to_one(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    {
        n4d_model *m = new_model(ctx, 100, 1, 1, 2, 1, 0);
        line_pop(m, "A", 0, 100);
        line_pop(m, "B", 1, 100);
        n4d_projection_desc d = proj("A", "B", N4D_RULE_ONE_TO_ONE);
        add_proj(m, &d);
        BUILD(m);
        synset s = collect(m);
        n4d_population_info a = pop_info(m, "A"), b = pop_info(m, "B");
        assert_int_equal(s.n, 100);
        for (uint64_t j = 0; j < s.n; j++)
            CHECK(s.src[j] - a.first == j && s.tgt[j] - b.first == j,
                  "synapse %llu is %u -> %u, expected %llu -> %llu", (unsigned long long)j,
                  s.src[j], s.tgt[j], (unsigned long long)(a.first + j),
                  (unsigned long long)(b.first + j));
        synset_free(&s);
        n4d_model_destroy(m);
    }
    { /* same population with autapses allowed: i -> i */
        n4d_model *m = new_model(ctx, 30, 1, 1, 1, 1, 0);
        line_pop(m, "E", 0, 30);
        n4d_projection_desc d = proj("E", "E", N4D_RULE_ONE_TO_ONE);
        add_proj(m, &d);
        BUILD(m);
        synset s = collect(m);
        assert_int_equal(s.n, 30);
        for (uint64_t j = 0; j < s.n; j++)
            assert_int_equal(s.src[j], s.tgt[j]);
        synset_free(&s);
        n4d_model_destroy(m);
    }
    { /* unequal sizes are rejected with a message naming the rule */
        n4d_model *m = new_model(ctx, 100, 1, 1, 2, 1, 0);
        line_pop(m, "A", 0, 100);
        line_pop(m, "B", 1, 99);
        n4d_projection_desc d = proj("A", "B", N4D_RULE_ONE_TO_ONE);
        add_proj(m, &d);
        n4d_status st = n4d_model_build(m);
        assert_int_equal(st, N4D_E_CONFIG);
        CHECK(strstr(n4d_last_error(m), "one_to_one") != NULL, "message: \"%s\"",
              n4d_last_error(m));
        assert_false(n4d_model_is_built(m));
        n4d_model_destroy(m);
    }
    n4d_context_destroy(ctx);
}

static void test_all_to_all(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    {
        n4d_model *m = new_model(ctx, 40, 1, 1, 2, 1, 0);
        line_pop(m, "A", 0, 30);
        line_pop(m, "B", 1, 40);
        n4d_projection_desc d = proj("A", "B", N4D_RULE_ALL_TO_ALL);
        add_proj(m, &d);
        BUILD(m);
        synset s = collect(m);
        n4d_population_info a = pop_info(m, "A"), b = pop_info(m, "B");
        assert_int_equal(s.n, 30 * 40);
        assert_int_equal(duplicate_pairs(&s), 0);
        /* rows of equal delay and sign are ordered by target, so pair k is
         * (k / 40, k % 40) */
        for (uint64_t j = 0; j < s.n; j++)
            CHECK(s.src[j] == a.first + j / 40 && s.tgt[j] == b.first + j % 40,
                  "pair %llu is %u -> %u", (unsigned long long)j, s.src[j], s.tgt[j]);
        synset_free(&s);
        n4d_model_destroy(m);
    }
    for (int allow = 0; allow <= 1; allow++) {
        n4d_model *m = new_model(ctx, 50, 1, 1, 1, 1, 0);
        line_pop(m, "E", 0, 50);
        n4d_projection_desc d = proj("E", "E", N4D_RULE_ALL_TO_ALL);
        d.allow_autapses = allow;
        add_proj(m, &d);
        BUILD(m);
        synset s = collect(m);
        assert_int_equal(s.n, allow ? 50 * 50 : 50 * 49);
        assert_int_equal(duplicate_pairs(&s), 0);
        uint64_t self = 0;
        for (uint64_t j = 0; j < s.n; j++)
            self += s.src[j] == s.tgt[j];
        assert_int_equal(self, allow ? 50 : 0);
        synset_free(&s);
        n4d_model_destroy(m);
    }
    n4d_context_destroy(ctx);
}

/* ---- distance-dependent ---------------------------------------------------------- */

static double kernel(int32_t k, double d, double sigma)
{
    return k == N4D_KERNEL_GAUSSIAN ? exp(-d * d / (2.0 * sigma * sigma)) : exp(-d / sigma);
}

static double dist4(const int32_t a[4], const int32_t b[4])
{
    double s = 0;
    for (int i = 0; i < 4; i++)
        s += (double)(a[i] - b[i]) * (double)(a[i] - b[i]);
    return sqrt(s);
}

/* Source population S on area SA, target T on area TA (same population if
 * same), one distance projection. Checks the cutoff and the count. */
static void check_distance(int32_t kern, double p, double sigma, double cutoff, int same,
                           double tdensity, uint64_t seed)
{
    n4d_context *ctx = new_ctx();
    n4d_model *m = new_model(ctx, 6, 6, 5, 4, seed, 0);
    add_area(m, "SA", 0, 5, 0, 5, 0, 4, 0, 1);
    add_area(m, "TA", 1, 5, 0, 4, 0, 4, 1, 3); /* overlaps SA in w = 1 */
    add_pop(m, "S", "SA", N4D_PLACE_ALL, 1.0, 0);
    if (!same)
        add_pop(m, "T", "TA", tdensity < 1.0 ? N4D_PLACE_DENSITY : N4D_PLACE_ALL, tdensity, 0);
    n4d_projection_desc d = proj("S", same ? "S" : "T", N4D_RULE_DISTANCE);
    d.kernel = kern;
    d.p = p;
    d.sigma = sigma;
    d.cutoff = cutoff;
    d.allow_autapses = 0;
    add_proj(m, &d);
    BUILD(m);
    synset s = collect(m);
    n4d_population_info a = pop_info(m, "S"), b = pop_info(m, same ? "S" : "T");
    int32_t *pa = malloc(a.count * 4 * sizeof *pa), *pb = malloc(b.count * 4 * sizeof *pb);
    assert_true(pa && pb);
    for (uint64_t i = 0; i < a.count; i++)
        OK(n4d_model_neuron_position(m, a.first + i, pa + 4 * i));
    for (uint64_t i = 0; i < b.count; i++)
        OK(n4d_model_neuron_position(m, b.first + i, pb + 4 * i));

    double longest = 0;
    for (uint64_t j = 0; j < s.n; j++) {
        CHECK(s.src[j] >= a.first && s.src[j] < a.first + a.count && s.tgt[j] >= b.first &&
                  s.tgt[j] < b.first + b.count,
              "synapse %u -> %u outside the projection", s.src[j], s.tgt[j]);
        CHECK(s.src[j] != s.tgt[j], "autapse with allow_autapses = 0");
        double dd = dist4(pa + 4 * (s.src[j] - a.first), pb + 4 * (s.tgt[j] - b.first));
        if (dd > longest)
            longest = dd;
    }
    CHECK(longest <= cutoff + 1e-9, "a synapse spans %.4f > cutoff %.4f", longest, cutoff);
    assert_int_equal(duplicate_pairs(&s), 0);

    /* expected count: sum over pairs within the cutoff of p * kernel(d) */
    double mean = 0, var = 0;
    uint64_t within_cut = 0;
    for (uint64_t i = 0; i < a.count; i++)
        for (uint64_t t = 0; t < b.count; t++) {
            if (a.first + i == b.first + t)
                continue;
            double dd = dist4(pa + 4 * i, pb + 4 * t);
            if (dd > cutoff)
                continue;
            double q = p * kernel(kern, dd, sigma);
            mean += q;
            var += q * (1 - q);
            within_cut++;
        }
    CHECK(mean > 50, "test setup: too few expected synapses (%.1f)", mean);
    CHECK(within_cut > s.n, "test setup: cutoff not binding");
    within(kern == N4D_KERNEL_GAUSSIAN ? "gaussian distance total" : "exponential distance total",
           (double)s.n, mean, sqrt(var), 0.5);

    /* the kernel's shape: synapses at distance <= sigma vs beyond */
    double mnear = 0, vnear = 0;
    uint64_t near = 0;
    for (uint64_t i = 0; i < a.count; i++)
        for (uint64_t t = 0; t < b.count; t++) {
            if (a.first + i == b.first + t)
                continue;
            double dd = dist4(pa + 4 * i, pb + 4 * t);
            if (dd <= sigma) {
                double q = p * kernel(kern, dd, sigma);
                mnear += q;
                vnear += q * (1 - q);
            }
        }
    for (uint64_t j = 0; j < s.n; j++)
        near += dist4(pa + 4 * (s.src[j] - a.first), pb + 4 * (s.tgt[j] - b.first)) <= sigma;
    within("synapses within one sigma", (double)near, mnear, sqrt(vnear), 0.5);
    free(pa);
    free(pb);
    synset_free(&s);
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
}

static void test_distance_gaussian(void **state)
{
    (void)state;
    check_distance(N4D_KERNEL_GAUSSIAN, 0.8, 1.5, 2.6, 0, 1.0, 31);
    check_distance(N4D_KERNEL_GAUSSIAN, 0.5, 1.0, 2.0, 1, 1.0, 32);
    check_distance(N4D_KERNEL_GAUSSIAN, 0.9, 2.0, 3.0, 0, 0.5, 33); /* sparse target */
}

static void test_distance_exponential(void **state)
{
    (void)state;
    check_distance(N4D_KERNEL_EXPONENTIAL, 0.7, 1.2, 2.5, 0, 1.0, 41);
    check_distance(N4D_KERNEL_EXPONENTIAL, 1.0, 0.8, 1.8, 1, 1.0, 42);
}

/* ---- weights, delays and signs ---------------------------------------------------- */

/* A 200 x 300 fixed_probability projection with the given weight/delay. */
static n4d_model *weight_model(n4d_context *ctx, n4d_dist w, n4d_dist delay, int32_t syn_type,
                               uint64_t seed)
{
    n4d_model *m = new_model(ctx, 300, 1, 1, 2, seed, 0);
    line_pop(m, "A", 0, 200);
    line_pop(m, "B", 1, 300);
    n4d_projection_desc d = proj("A", "B", N4D_RULE_FIXED_PROBABILITY);
    d.p = 0.3;
    d.weight = w;
    d.delay = delay;
    d.syn_type = syn_type;
    add_proj(m, &d);
    BUILD(m);
    return m;
}

static void mean_std(const float *x, uint64_t n, double *mean, double *sd)
{
    double s = 0, s2 = 0;
    for (uint64_t i = 0; i < n; i++)
        s += x[i];
    *mean = s / (double)n;
    for (uint64_t i = 0; i < n; i++)
        s2 += (x[i] - *mean) * (x[i] - *mean);
    *sd = sqrt(s2 / (double)(n - 1));
}

static void test_weight_constant(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    const double vals[] = {0.37, -2.5, 1.62, 1e-3, 123.456};
    for (size_t v = 0; v < sizeof vals / sizeof vals[0]; v++) {
        const double w0 = vals[v];
        n4d_model *m = weight_model(ctx, n4d_dist_constant(w0), n4d_dist_constant(1.5),
                                    N4D_SYN_AUTO, 5);
        synset s = collect(m);
        assert_true(s.n > 1000);
        for (uint64_t j = 0; j < s.n; j++) {
            CHECK(fabs(s.w[j] - w0) <= fabs(w0) * ldexp(1.0, -20), "weight %.9g != %.9g", s.w[j],
                  w0);
            CHECK(fabsf(s.d[j] - 1.5f) <= 1e-5f, "delay %.9g != 1.5 ms", s.d[j]);
        }
        uint32_t dmin, dmax;
        OK(n4d_model_delay_range(m, &dmin, &dmax));
        assert_int_equal(dmin, 15);
        assert_int_equal(dmax, 15);
        synset_free(&s);
        n4d_model_destroy(m);
    }
    n4d_context_destroy(ctx);
}

static void test_weight_uniform(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    const double lo = 0.2, hi = 0.9;
    n4d_model *m = weight_model(ctx, n4d_dist_uniform(lo, hi), n4d_dist_uniform(0.5, 2.0),
                                N4D_SYN_AUTO, 6);
    synset s = collect(m);
    assert_true(s.n > 10000);
    float wmin = INFINITY, wmax = -INFINITY;
    for (uint64_t j = 0; j < s.n; j++) {
        /* stored as float: rounding may reach hi only with probability ~2^-24 */
        CHECK(s.w[j] >= (float)lo && s.w[j] < (float)hi, "weight %.9g outside [%g, %g)", s.w[j],
              lo, hi);
        wmin = fminf(wmin, s.w[j]);
        wmax = fmaxf(wmax, s.w[j]);
    }
    double mean, sd;
    mean_std(s.w, s.n, &mean, &sd);
    const double w = hi - lo, n = (double)s.n;
    within("uniform weight mean", mean, 0.5 * (lo + hi), w / sqrt(12.0 * n), 0.0);
    /* sd of the sample variance of a uniform: var * sqrt(0.8 / n) */
    within("uniform weight variance", sd * sd, w * w / 12.0, w * w / 12.0 * sqrt(0.8 / n), 0.0);
    CHECK(wmin < lo + 0.01 && wmax > hi - 0.01, "range [%g, %g] not covered", wmin, wmax);

    /* delays uniform in [0.5, 2) ms, rounded to steps of 0.1 ms: 5..20 steps */
    uint32_t dmin, dmax;
    OK(n4d_model_delay_range(m, &dmin, &dmax));
    assert_int_equal(dmin, 5);
    assert_int_equal(dmax, 20);
    uint64_t hist[21] = {0};
    for (uint64_t j = 0; j < s.n; j++) {
        long k = lrint(s.d[j] / 0.1);
        CHECK(k >= 5 && k <= 20 && fabs(s.d[j] - 0.1 * k) < 1e-5, "delay %.9g ms", s.d[j]);
        hist[k]++;
    }
    /* steps 6..19 each take 0.1 ms of the 1.5 ms range; 5 and 20 take 0.05 */
    for (int k = 5; k <= 20; k++) {
        double q = (k == 5 || k == 20) ? 0.05 / 1.5 : 0.1 / 1.5;
        within("delay histogram", (double)hist[k], n * q, sqrt(n * q * (1 - q)), 0.5);
    }
    synset_free(&s);
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
}

/* Moments of clamp(mu + sd Z, lo, hi) by Simpson's rule over z. */
static void clipped_normal_moments(double mu, double sd, double lo, double hi, double mom[5])
{
    const int K = 200000;
    const double a = -12.0, b = 12.0, h = (b - a) / K;
    for (int r = 0; r < 5; r++)
        mom[r] = 0;
    for (int i = 0; i <= K; i++) {
        double z = a + h * i, x = mu + sd * z;
        x = x < lo ? lo : (x > hi ? hi : x);
        double wgt = (i == 0 || i == K) ? 1 : (i % 2 ? 4 : 2);
        double phi = exp(-0.5 * z * z) / sqrt(2.0 * 3.14159265358979323846) * wgt * h / 3.0;
        double xp = 1;
        for (int r = 0; r < 5; r++, xp *= x)
            mom[r] += xp * phi;
    }
}

static void test_weight_normal_clipped(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    const double mu = 1.0, sdv = 0.5, lo = 0.4, hi = 1.8;
    n4d_model *m = weight_model(ctx, n4d_dist_normal(mu, sdv, lo, hi), n4d_dist_constant(0.0),
                                N4D_SYN_AUTO, 8);
    synset s = collect(m);
    const double n = (double)s.n;
    assert_true(s.n > 10000);
    uint64_t at_lo = 0, at_hi = 0;
    const double tol = ldexp(1.0, -20) * hi;
    for (uint64_t j = 0; j < s.n; j++) {
        CHECK(s.w[j] >= lo - tol && s.w[j] <= hi + tol, "weight %.9g outside [%g, %g]", s.w[j], lo,
              hi);
        at_lo += fabs(s.w[j] - lo) <= tol;
        at_hi += fabs(s.w[j] - hi) <= tol;
        /* delay 0 means one step */
        CHECK(fabsf(s.d[j] - 0.1f) < 1e-6f, "default delay %.9g ms is not one step", s.d[j]);
    }
    double mom[5];
    clipped_normal_moments(mu, sdv, lo, hi, mom);
    const double cm = mom[1], cvar = mom[2] - cm * cm;
    const double m4 = mom[4] - 4 * cm * mom[3] + 6 * cm * cm * mom[2] - 3 * cm * cm * cm * cm;
    double mean, sd;
    mean_std(s.w, s.n, &mean, &sd);
    within("clipped normal mean", mean, cm, sqrt(cvar / n), 0.0);
    within("clipped normal variance", sd * sd, cvar, sqrt((m4 - cvar * cvar) / n), 0.0);
    /* clipping puts P(Z < (lo - mu) / sd) of the mass exactly at lo */
    const double plo = 0.5 * erfc(-(lo - mu) / sdv / sqrt(2.0)),
                 phi = 0.5 * erfc((hi - mu) / sdv / sqrt(2.0));
    within("weights clipped to lo", (double)at_lo, n * plo, sqrt(n * plo * (1 - plo)), 0.5);
    within("weights clipped to hi", (double)at_hi, n * phi, sqrt(n * phi * (1 - phi)), 0.5);
    synset_free(&s);
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
}

static void test_weight_sign_types(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    { /* inhibitory: -|w| even for positive draws */
        n4d_model *m = weight_model(ctx, n4d_dist_uniform(0.5, 1.5), n4d_dist_constant(0.0),
                                    N4D_SYN_INHIBITORY, 9);
        synset s = collect(m);
        for (uint64_t j = 0; j < s.n; j++)
            CHECK(s.w[j] < 0.0f && s.w[j] > -1.5f - 1e-6f && s.w[j] <= -0.5f + 1e-6f,
                  "inhibitory weight %.9g", s.w[j]);
        synset_free(&s);
        n4d_model_destroy(m);
    }
    { /* excitatory: |w| even for negative draws */
        n4d_model *m = weight_model(ctx, n4d_dist_uniform(-1.5, -0.5), n4d_dist_constant(0.0),
                                    N4D_SYN_EXCITATORY, 10);
        synset s = collect(m);
        for (uint64_t j = 0; j < s.n; j++)
            CHECK(s.w[j] > 0.0f && s.w[j] >= 0.5f - 1e-6f && s.w[j] <= 1.5f + 1e-6f,
                  "excitatory weight %.9g", s.w[j]);
        synset_free(&s);
        n4d_model_destroy(m);
    }
    { /* constant negative weight with the excitatory type */
        n4d_model *m = weight_model(ctx, n4d_dist_constant(-2.0), n4d_dist_constant(0.0),
                                    N4D_SYN_EXCITATORY, 10);
        synset s = collect(m);
        for (uint64_t j = 0; j < s.n; j++)
            CHECK(s.w[j] == 2.0f, "excitatory weight %.9g from constant -2", s.w[j]);
        synset_free(&s);
        n4d_model_destroy(m);
    }
    { /* auto: the drawn sign decides, both occur, rows ordered with sign */
        n4d_model *m = weight_model(ctx, n4d_dist_normal(0.0, 1.0, -INFINITY, INFINITY),
                                    n4d_dist_uniform(0.1, 0.4), N4D_SYN_AUTO, 11);
        synset s = collect(m); /* checks (delay, sign, target) order */
        uint64_t neg = 0;
        for (uint64_t j = 0; j < s.n; j++)
            neg += s.w[j] < 0.0f;
        within("negative weights from normal(0, 1)", (double)neg, 0.5 * s.n, 0.5 * sqrt(s.n), 0.5);
        synset_free(&s);
        n4d_model_destroy(m);
    }
    n4d_context_destroy(ctx);
}

/* Several projections from one source population with different delays and
 * signs land in one row: the row must be ordered by (delay, sign, target). */
static void test_row_order_mixed(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    n4d_model *m = new_model(ctx, 200, 1, 1, 3, 77, 0);
    line_pop(m, "A", 0, 200);
    line_pop(m, "B", 1, 150);
    line_pop(m, "C", 2, 100);
    n4d_projection_desc d = proj("A", "B", N4D_RULE_FIXED_PROBABILITY);
    d.p = 0.2;
    d.weight = n4d_dist_normal(0.0, 1.0, -3.0, 3.0);
    d.delay = n4d_dist_uniform(0.1, 0.6);
    add_proj(m, &d);
    d = proj("A", "C", N4D_RULE_FIXED_INDEGREE);
    d.n = 30;
    d.weight = n4d_dist_uniform(-1.0, 2.0);
    d.delay = n4d_dist_uniform(0.2, 0.5);
    add_proj(m, &d);
    d = proj("A", "A", N4D_RULE_FIXED_TOTAL_NUMBER);
    d.n = 3000;
    d.weight = n4d_dist_constant(-0.5);
    d.delay = n4d_dist_constant(0.3);
    add_proj(m, &d);
    d = proj("A", "B", N4D_RULE_ALL_TO_ALL);
    d.name = "A->B dense";
    d.weight = n4d_dist_constant(0.25);
    d.delay = n4d_dist_constant(0.3);
    d.syn_type = N4D_SYN_INHIBITORY;
    add_proj(m, &d);
    BUILD(m);
    synset s = collect(m); /* asserts the order of every row */
    uint64_t neg = 0;
    for (uint64_t j = 0; j < s.n; j++)
        neg += s.w[j] < 0;
    assert_true(neg > 0 && neg < s.n);
    uint32_t dmin, dmax;
    OK(n4d_model_delay_range(m, &dmin, &dmax));
    assert_int_equal(dmin, 1);
    assert_int_equal(dmax, 6);
    synset_free(&s);
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
}

/* ---- threads and seeds --------------------------------------------------------------- */

/* A model exercising one rule (or all of them with rule < 0). */
static n4d_model *rule_model(n4d_context *ctx, int32_t rule, uint64_t seed, int32_t threads)
{
    n4d_model *m = new_model(ctx, 8, 8, 4, 3, seed, threads);
    add_area(m, "V1", 0, 7, 0, 7, 0, 3, 0, 0);
    add_area(m, "V2", 0, 7, 0, 7, 0, 3, 1, 1);
    add_area(m, "V3", 0, 5, 0, 5, 0, 3, 2, 2);
    add_pop(m, "E", "V1", N4D_PLACE_ALL, 1.0, 0);               /* 256 */
    add_pop(m, "I", "V2", N4D_PLACE_DENSITY, 0.6, 0);           /* ~154 */
    add_pop(m, "P", "V3", N4D_PLACE_COUNT, 0.0, 100);           /* 100 */
    add_pop(m, "Q", "V2", N4D_PLACE_COUNT, 0.0, 256);           /* = |E| */
    const n4d_dist wn = n4d_dist_normal(0.5, 0.4, -0.2, 1.5), du = n4d_dist_uniform(0.1, 1.2);
    int any = rule < 0;
    n4d_projection_desc d;
    if (any || rule == N4D_RULE_FIXED_PROBABILITY) {
        d = proj("E", "E", N4D_RULE_FIXED_PROBABILITY);
        d.p = 0.1;
        d.allow_autapses = 0;
        d.weight = wn;
        d.delay = du;
        add_proj(m, &d);
        d = proj("I", "E", N4D_RULE_FIXED_PROBABILITY);
        d.p = 0.3;
        d.weight = n4d_dist_uniform(1.0, 3.0);
        d.syn_type = N4D_SYN_INHIBITORY;
        add_proj(m, &d);
    }
    if (any || rule == N4D_RULE_FIXED_INDEGREE) {
        d = proj("E", "I", N4D_RULE_FIXED_INDEGREE);
        d.n = 40;
        d.allow_multapses = 0;
        d.weight = wn;
        d.delay = du;
        add_proj(m, &d);
        d = proj("P", "P", N4D_RULE_FIXED_INDEGREE);
        d.n = 15;
        d.allow_autapses = 0;
        d.weight = n4d_dist_normal(-1.0, 0.3, -INFINITY, INFINITY);
        add_proj(m, &d);
    }
    if (any || rule == N4D_RULE_FIXED_TOTAL_NUMBER) {
        d = proj("E", "P", N4D_RULE_FIXED_TOTAL_NUMBER);
        d.n = 5000;
        d.weight = wn;
        d.delay = du;
        add_proj(m, &d);
    }
    if (any || rule == N4D_RULE_ONE_TO_ONE) {
        d = proj("E", "Q", N4D_RULE_ONE_TO_ONE);
        d.weight = n4d_dist_uniform(-1.0, 1.0);
        d.delay = du;
        add_proj(m, &d);
    }
    if (any || rule == N4D_RULE_ALL_TO_ALL) {
        d = proj("P", "I", N4D_RULE_ALL_TO_ALL);
        d.weight = wn;
        d.delay = du;
        add_proj(m, &d);
    }
    if (any || rule == N4D_RULE_DISTANCE) {
        d = proj("E", "I", N4D_RULE_DISTANCE);
        d.name = "E->I distance";
        d.p = 0.7;
        d.sigma = 1.5;
        d.cutoff = 3.0;
        d.weight = wn;
        d.delay = du;
        add_proj(m, &d);
        d = proj("I", "P", N4D_RULE_DISTANCE);
        d.kernel = N4D_KERNEL_EXPONENTIAL;
        d.p = 0.9;
        d.sigma = 1.0;
        d.cutoff = 2.5;
        d.weight = n4d_dist_uniform(-2.0, -1.0);
        add_proj(m, &d);
    }
    BUILD(m);
    return m;
}

static void test_build_threads_identical(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    const int32_t rules[] = {N4D_RULE_FIXED_PROBABILITY, N4D_RULE_FIXED_INDEGREE,
                             N4D_RULE_FIXED_TOTAL_NUMBER, N4D_RULE_ONE_TO_ONE,
                             N4D_RULE_ALL_TO_ALL, N4D_RULE_DISTANCE, -1};
    for (size_t r = 0; r < sizeof rules / sizeof rules[0]; r++) {
        n4d_model *m1 = rule_model(ctx, rules[r], 99, 1);
        n4d_model *m4 = rule_model(ctx, rules[r], 99, 4);
        synset a = collect(m1), b = collect(m4);
        CHECK(a.n > 0, "rule %d: no synapses", (int)rules[r]);
        CHECK(synset_equal(&a, &b), "rule %d: 1 and 4 build threads give different synapses",
              (int)rules[r]);
        assert_int_equal(n4d_model_num_neurons(m1), n4d_model_num_neurons(m4));
        for (uint64_t i = 0; i < n4d_model_num_neurons(m1); i++) {
            int32_t p1[4], p4[4];
            OK(n4d_model_neuron_position(m1, i, p1));
            OK(n4d_model_neuron_position(m4, i, p4));
            assert_memory_equal(p1, p4, sizeof p1);
        }
        uint32_t d1[2], d4[2];
        OK(n4d_model_delay_range(m1, &d1[0], &d1[1]));
        OK(n4d_model_delay_range(m4, &d4[0], &d4[1]));
        assert_memory_equal(d1, d4, sizeof d1);
        synset_free(&a);
        synset_free(&b);
        n4d_model_destroy(m1);
        n4d_model_destroy(m4);
    }
    n4d_context_destroy(ctx);
}

static void test_seeds(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    const int32_t rules[] = {N4D_RULE_FIXED_PROBABILITY, N4D_RULE_FIXED_INDEGREE,
                             N4D_RULE_FIXED_TOTAL_NUMBER, N4D_RULE_DISTANCE, -1};
    for (size_t r = 0; r < sizeof rules / sizeof rules[0]; r++) {
        n4d_model *ma = rule_model(ctx, rules[r], 1234, 2);
        n4d_model *mb = rule_model(ctx, rules[r], 1234, 3); /* same seed: identical */
        n4d_model *mc = rule_model(ctx, rules[r], 1235, 2); /* other seed: different */
        synset a = collect(ma), b = collect(mb), c = collect(mc);
        CHECK(synset_equal(&a, &b), "rule %d: same seed gives different synapses", (int)rules[r]);
        CHECK(!synset_equal(&a, &c), "rule %d: seeds 1234 and 1235 give the same synapses",
              (int)rules[r]);
        /* the targets themselves differ, not only the weights */
        int differ = a.n != c.n || memcmp(a.tgt, c.tgt, a.n * sizeof *a.tgt) != 0 ||
                     memcmp(a.src, c.src, a.n * sizeof *a.src) != 0;
        CHECK(differ, "rule %d: seeds 1234 and 1235 give the same connectivity", (int)rules[r]);
        synset_free(&a);
        synset_free(&b);
        synset_free(&c);
        n4d_model_destroy(ma);
        n4d_model_destroy(mb);
        n4d_model_destroy(mc);
    }
    n4d_context_destroy(ctx);
}

/* Sorts each row of s by (delay, sign, target, weight). */
typedef struct syn_entry {
    uint32_t src, tgt;
    float w, d;
} syn_entry;

static int cmp_entry(const void *pa, const void *pb)
{
    const syn_entry *a = pa, *b = pb;
    if (a->src != b->src)
        return a->src < b->src ? -1 : 1;
    if (a->d != b->d)
        return a->d < b->d ? -1 : 1;
    if ((a->w < 0) != (b->w < 0))
        return a->w < 0 ? 1 : -1;
    if (a->tgt != b->tgt)
        return a->tgt < b->tgt ? -1 : 1;
    return a->w < b->w ? -1 : a->w > b->w;
}

static void sort_rows(synset *s)
{
    syn_entry *e = malloc((s->n ? s->n : 1) * sizeof *e);
    assert_non_null(e);
    for (uint64_t j = 0; j < s->n; j++) {
        e[j].src = s->src[j];
        e[j].tgt = s->tgt[j];
        e[j].w = s->w[j];
        e[j].d = s->d[j];
    }
    qsort(e, s->n, sizeof *e, cmp_entry);
    for (uint64_t j = 0; j < s->n; j++) {
        s->src[j] = e[j].src;
        s->tgt[j] = e[j].tgt;
        s->w[j] = e[j].w;
        s->d[j] = e[j].d;
    }
    free(e);
}

/* The storage layout (Morton order, RCB partitions) is internal: positions,
 * populations and every row, in its documented order, are the same. */
static void test_layout_invariance(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    n4d_model *ref = rule_model(ctx, -1, 4321, 2);
    synset a = collect(ref);
    n4d_layout_options lay[3];
    for (int i = 0; i < 3; i++)
        n4d_layout_options_init(&lay[i]);
    lay[0].order = N4D_ORDER_ZORDER;
    lay[1].partitions = 5;
    lay[2].order = N4D_ORDER_ZORDER;
    lay[2].partitions = 3;
    lay[2].balance_synapses = 1;
    for (int i = 0; i < 3; i++) {
        g_layout = &lay[i];
        n4d_model *m = rule_model(ctx, -1, 4321, i + 1);
        g_layout = NULL;
        /* the same synapses per row ... */
        synset b = collect_rows(m, 0);
        sort_rows(&b);
        CHECK(synset_equal(&a, &b), "layout %d (order %d, %u partitions): other synapses", i,
              (int)lay[i].order, lay[i].partitions);
        synset_free(&b);
        /* ... in the documented (delay, sign, target) order */
        b = collect(m);
        assert_int_equal(n4d_model_num_neurons(m), n4d_model_num_neurons(ref));
        for (uint64_t k = 0; k < n4d_model_num_neurons(m); k++) {
            int32_t p1[4], p2[4];
            OK(n4d_model_neuron_position(ref, k, p1));
            OK(n4d_model_neuron_position(m, k, p2));
            assert_memory_equal(p1, p2, sizeof p1);
            assert_int_equal(n4d_model_neuron_population(ref, k),
                             n4d_model_neuron_population(m, k));
        }
        synset_free(&b);
        n4d_model_destroy(m);
    }
    synset_free(&a);
    n4d_model_destroy(ref);
    n4d_context_destroy(ctx);
}

/* Any output pointer of n4d_model_get_synapses may be NULL, and cap limits
 * the copy while *count still gets the out-degree. */
static void test_get_synapses_outputs(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    n4d_model *m = rule_model(ctx, N4D_RULE_ALL_TO_ALL, 5, 1);
    n4d_population_info p = pop_info(m, "P");
    uint64_t deg = 0, cnt = 0;
    OK(n4d_model_out_degree(m, p.first, &deg));
    assert_true(deg > 4);
    OK(n4d_model_get_synapses(m, p.first, deg, NULL, NULL, NULL, NULL));
    uint32_t t[4] = {0, 0, 0, 0xdeadbeef};
    float w[4], dl[4];
    OK(n4d_model_get_synapses(m, p.first, 3, t, w, dl, &cnt));
    assert_int_equal(cnt, deg);
    assert_int_equal(t[3], 0xdeadbeef); /* cap respected */
    uint32_t *all = malloc(deg * sizeof *all);
    assert_non_null(all);
    OK(n4d_model_get_synapses(m, p.first, deg, all, NULL, NULL, &cnt));
    assert_memory_equal(all, t, 3 * sizeof *t);
    free(all);
    assert_int_equal(n4d_model_get_synapses(m, n4d_model_num_neurons(m), 1, t, w, dl, &cnt),
                     N4D_E_RANGE);
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
}

/* ---- placement --------------------------------------------------------------------------- */

/* Local site index in w, z, y, x order (x fastest). */
static uint64_t site_key(const int32_t lo[4], const int32_t hi[4], const int32_t p[4])
{
    uint64_t k = 0;
    for (int i = 3; i >= 0; i--)
        k = k * (uint64_t)(hi[i] - lo[i] + 1) + (uint64_t)(p[i] - lo[i]);
    return k;
}

static void check_placement(const n4d_model *m, const char *pop, const int32_t lo[4],
                            const int32_t hi[4], uint64_t *count_out)
{
    n4d_population_info pi = pop_info(m, pop);
    uint64_t prev = 0;
    for (uint64_t i = 0; i < pi.count; i++) {
        int32_t p[4];
        OK(n4d_model_neuron_position(m, pi.first + i, p));
        for (int a = 0; a < 4; a++)
            CHECK(p[a] >= lo[a] && p[a] <= hi[a], "%s neuron %llu at axis %d = %d outside [%d, %d]",
                  pop, (unsigned long long)i, a, p[a], lo[a], hi[a]);
        uint64_t k = site_key(lo, hi, p);
        CHECK(i == 0 || k > prev, "%s: neuron %llu not after the previous in w,z,y,x order", pop,
              (unsigned long long)i);
        prev = k;
        CHECK(n4d_model_neuron_population(m, pi.first + i) == n4d_model_find_population(m, pop),
              "neuron %llu: wrong population", (unsigned long long)(pi.first + i));
    }
    *count_out = pi.count;
}

static void test_placement(void **state)
{
    (void)state;
    n4d_context *ctx = new_ctx();
    n4d_model *m = new_model(ctx, 10, 9, 6, 5, 314, 0);
    const int32_t alo[4] = {1, 2, 0, 1}, ahi[4] = {9, 8, 5, 4}; /* 9 * 7 * 6 * 4 = 1512 */
    const int32_t blo[4] = {0, 0, 0, 0}, bhi[4] = {9, 8, 5, 0}; /* 540 */
    OK(n4d_model_add_area(m, "A", alo, ahi));
    OK(n4d_model_add_area(m, "B", blo, bhi));
    add_pop(m, "all", "A", N4D_PLACE_ALL, 1.0, 0);
    add_pop(m, "dens", "A", N4D_PLACE_DENSITY, 0.3, 0);
    add_pop(m, "cnt", "A", N4D_PLACE_COUNT, 0.0, 400);
    add_pop(m, "full", "B", N4D_PLACE_COUNT, 0.0, 540); /* every site */
    add_pop(m, "one", "B", N4D_PLACE_COUNT, 0.0, 1);
    add_pop(m, "none", "B", N4D_PLACE_DENSITY, 0.0, 0);
    add_pop(m, "dens1", "B", N4D_PLACE_DENSITY, 1.0, 0);
    BUILD(m);
    uint64_t n;
    check_placement(m, "all", alo, ahi, &n);
    assert_int_equal(n, 1512);
    for (uint64_t i = 0; i < n; i++) { /* every site in order */
        int32_t p[4];
        OK(n4d_model_neuron_position(m, pop_info(m, "all").first + i, p));
        assert_int_equal(site_key(alo, ahi, p), i);
    }
    check_placement(m, "dens", alo, ahi, &n);
    within("density placement", (double)n, 1512 * 0.3, sqrt(1512 * 0.3 * 0.7), 0.5);
    check_placement(m, "cnt", alo, ahi, &n);
    assert_int_equal(n, 400);
    check_placement(m, "full", blo, bhi, &n);
    assert_int_equal(n, 540);
    check_placement(m, "one", blo, bhi, &n);
    assert_int_equal(n, 1);
    check_placement(m, "none", blo, bhi, &n);
    assert_int_equal(n, 0);
    check_placement(m, "dens1", blo, bhi, &n);
    assert_int_equal(n, 540);
    /* ids are contiguous per population, in declaration order */
    uint64_t next = 0;
    for (int32_t i = 0; i < n4d_model_num_populations(m); i++) {
        n4d_population_info pi;
        memset(&pi, 0, sizeof pi);
        pi.struct_size = sizeof pi;
        OK(n4d_model_population_info(m, i, &pi));
        assert_int_equal(pi.first, next);
        next += pi.count;
    }
    assert_int_equal(next, n4d_model_num_neurons(m));

    /* count placement is uniform over the sites: chi-square over 9 bins of
     * the x coordinate, pooled over seeds */
    uint64_t bins[9] = {0}, total = 0;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        n4d_model *m2 = new_model(ctx, 10, 9, 6, 5, seed, 0);
        OK(n4d_model_add_area(m2, "A", alo, ahi));
        add_pop(m2, "cnt", "A", N4D_PLACE_COUNT, 0.0, 300);
        BUILD(m2);
        for (uint64_t i = 0; i < 300; i++) {
            int32_t p[4];
            OK(n4d_model_neuron_position(m2, i, p));
            bins[p[0] - alo[0]]++;
            total++;
        }
        n4d_model_destroy(m2);
    }
    /* 300 of 1512 without replacement: the variance shrinks by (1 - 300/1512) */
    chi_square_ok("count placement x", chi_square(bins, 9, total / 9.0), 8, 0.5);
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
}

/* ---- large sparse build ------------------------------------------------------------------ */

/* 200,000 neurons with p = 80 / N: 16e6 synapses. A pair loop would take
 * 4e10 steps; geometric skipping takes ~1e7. No time is asserted. */
static void test_large_sparse_build(void **state)
{
    (void)state;
    const uint32_t N = 200000;
    const double p = 80.0 / N;
    n4d_context *ctx = new_ctx();
    n4d_model *m = new_model(ctx, N, 1, 1, 1, 2024, 0);
    line_pop(m, "E", 0, N);
    n4d_projection_desc d = proj("E", "E", N4D_RULE_FIXED_PROBABILITY);
    d.p = p;
    d.weight = n4d_dist_constant(0.1);
    add_proj(m, &d);
    BUILD(m);
    const double pairs = (double)N * N;
    within("200k-neuron fixed_probability total", (double)n4d_model_num_synapses(m), pairs * p,
           sqrt(pairs * p * (1 - p)), 0.5);
    /* a few rows: ascending distinct targets */
    uint32_t *t = malloc(1000 * sizeof *t);
    assert_non_null(t);
    for (uint64_t i = 0; i < N; i += 9973) {
        uint64_t deg = 0;
        OK(n4d_model_get_synapses(m, i, 1000, t, NULL, NULL, &deg));
        assert_true(deg < 1000);
        for (uint64_t k = 1; k < deg; k++)
            assert_true(t[k] > t[k - 1]);
    }
    free(t);
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
}

int main(int argc, char **argv)
{
    if (argc > 1) /* run only the tests matching a pattern, e.g. "test_distance*" */
        cmocka_set_test_filter(argv[1]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixed_probability_between),
        cmocka_unit_test(test_fixed_probability_autapses),
        cmocka_unit_test(test_fixed_indegree),
        cmocka_unit_test(test_fixed_indegree_impossible),
        cmocka_unit_test(test_fixed_total_number),
        cmocka_unit_test(test_one_to_one),
        cmocka_unit_test(test_all_to_all),
        cmocka_unit_test(test_distance_gaussian),
        cmocka_unit_test(test_distance_exponential),
        cmocka_unit_test(test_weight_constant),
        cmocka_unit_test(test_weight_uniform),
        cmocka_unit_test(test_weight_normal_clipped),
        cmocka_unit_test(test_weight_sign_types),
        cmocka_unit_test(test_row_order_mixed),
        cmocka_unit_test(test_build_threads_identical),
        cmocka_unit_test(test_seeds),
        cmocka_unit_test(test_layout_invariance),
        cmocka_unit_test(test_get_synapses_outputs),
        cmocka_unit_test(test_placement),
        cmocka_unit_test(test_large_sparse_build),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
