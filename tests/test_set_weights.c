/* n4d_sim_set_weights: a sim's own static weights. Setting a projection's
 * weights gives the same run, bit for bit, as a model built with those
 * weights (an explicit projection), leaves other sims of the model alone,
 * is read back by n4d_sim_get_weights, kept by a checkpoint (the resumed
 * run equals the uninterrupted one) and by n4d_sim_save_model; wrong
 * counts, non-finite or too large weights, sign changes and plastic
 * synapses are refused naming the entry, with nothing changed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "n4d.h"
#include "test_util.h"

/* a (3 parrots, spikes at 0, 5 and 8 ms) -> b (3 lif_exp): "exc" one to one
 * (2.0, or the explicit `w` when given), "inh" all to all (-0.25); c (1
 * parrot) -> b stdp ("plastic") */
static n4d_model *model(n4d_context *ctx, const double *w)
{
    n4d_model *m = NULL;
    ASSERT_OK(n4d_model_create(ctx, &m), ctx);
    const uint32_t shape[4] = {3, 3, 1, 1};
    ASSERT_OK(n4d_model_set_lattice(m, shape), m);
    const char *names[] = {"a", "b", "c"}, *models[] = {"parrot", "lif_exp", "parrot"};
    for (int k = 0; k < 3; k++) {
        const int32_t lo[4] = {0, k, 0, 0}, hi[4] = {k == 2 ? 0 : 2, k, 0, 0};
        ASSERT_OK(n4d_model_add_area(m, names[k], lo, hi), m);
        n4d_population_desc d;
        n4d_population_desc_init(&d);
        d.name = names[k];
        d.area = names[k];
        d.model_name = models[k];
        ASSERT_OK(n4d_model_add_population(m, &d, NULL), m);
    }
    const double t[] = {0, 0, 0, 5, 5, 5, 8, 8, 8, 1};
    const uint32_t ix[] = {0, 1, 2, 0, 1, 2, 0, 1, 2, 0};
    n4d_input_desc in;
    n4d_input_desc_init(&in);
    in.kind = N4D_INPUT_SPIKES;
    in.target = "a";
    in.times = t;
    in.indices = ix;
    in.n_times = 9;
    in.weight = 1.0;
    ASSERT_OK(n4d_model_add_input(m, &in), m);
    in.target = "c";
    in.times = t + 9;
    in.indices = ix + 9;
    in.n_times = 1;
    ASSERT_OK(n4d_model_add_input(m, &in), m);
    n4d_projection_desc p;
    n4d_projection_desc_init(&p);
    p.name = "exc";
    p.source = "a";
    p.target = "b";
    p.syn_type = N4D_SYN_EXCITATORY;
    p.delay = n4d_dist_constant(0.5);
    const uint32_t idx[] = {0, 1, 2};
    if (w) {
        p.rule = N4D_RULE_EXPLICIT;
        p.pre = idx;
        p.post = idx;
        p.weights = w;
        p.n_connections = 3;
    } else {
        p.rule = N4D_RULE_ONE_TO_ONE;
        p.weight = n4d_dist_constant(2.0);
    }
    ASSERT_OK(n4d_model_add_projection(m, &p, NULL), m);
    n4d_projection_desc_init(&p);
    p.name = "inh";
    p.source = "a";
    p.target = "b";
    p.rule = N4D_RULE_ALL_TO_ALL;
    p.syn_type = N4D_SYN_INHIBITORY;
    p.weight = n4d_dist_constant(0.25);
    p.delay = n4d_dist_constant(0.5);
    ASSERT_OK(n4d_model_add_projection(m, &p, NULL), m);
    n4d_projection_desc_init(&p);
    p.name = "plastic";
    p.source = "c";
    p.target = "b";
    p.rule = N4D_RULE_ALL_TO_ALL;
    p.weight = n4d_dist_constant(0.5);
    p.synapse_model = "stdp";
    ASSERT_OK(n4d_model_add_projection(m, &p, NULL), m);
    ASSERT_OK(n4d_model_build(m), m);
    return m;
}

static const float W[3] = {4.0f, 0.5f, 0.25f};

typedef struct res {
    uint64_t sum;
    float v[7], ge[7];
} res;

static void finish(n4d_sim *sim, res *r)
{
    r->sum = n4d_sim_checksum(sim);
    ASSERT_OK(n4d_sim_get_state(sim, "v", r->v, 7), sim);
    ASSERT_OK(n4d_sim_get_state(sim, "ge", r->ge, 7), sim);
}

static void test_set_and_files(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    assert_int_equal(n4d_context_create(NULL, &ctx), N4D_OK);
    n4d_model *m = model(ctx, NULL);
    const double wd[3] = {4.0, 0.5, 0.25};
    n4d_model *e = model(ctx, wd);
    /* the reference: the explicit model, from the start */
    res ref, r, other;
    n4d_sim *sim = NULL;
    ASSERT_OK(n4d_sim_create(e, NULL, &sim), e);
    ASSERT_OK(n4d_sim_run(sim, 150), sim);
    finish(sim, &ref);
    n4d_sim_destroy(sim);
    const char *backends[] = {"cpu-ref", "cpu-omp"};
    for (int b = 0; b < 2; b++) {
        n4d_sim_options o;
        n4d_sim_options_init(&o);
        o.backend = backends[b];
        o.num_threads = 2;
        n4d_sim *s2 = NULL;
        ASSERT_OK(n4d_sim_create(m, &o, &sim), m);
        ASSERT_OK(n4d_sim_create(m, &o, &s2), m);
        ASSERT_OK(n4d_sim_set_weights(sim, "exc", W, 3), sim);
        float got[3];
        uint64_t n;
        ASSERT_OK(n4d_sim_get_weights(sim, "exc", 3, NULL, NULL, got, &n), sim);
        assert_int_equal(n, 3);
        assert_memory_equal(got, W, sizeof got);
        ASSERT_OK(n4d_sim_get_weights(s2, "exc", 3, NULL, NULL, got, &n), s2);
        assert_true(got[0] == 2.0f && got[1] == 2.0f); /* the other sim keeps the model's */
        ASSERT_OK(n4d_sim_run(sim, 150), sim);
        finish(sim, &r);
        CHECK(r.sum == ref.sum && memcmp(r.v, ref.v, sizeof r.v) == 0 &&
                  memcmp(r.ge, ref.ge, sizeof r.ge) == 0,
              "%s: the run differs from the explicit model's", backends[b]);
        ASSERT_OK(n4d_sim_run(s2, 150), s2);
        finish(s2, &other);
        assert_true(memcmp(other.ge, ref.ge, sizeof r.ge) != 0 || other.sum != ref.sum);
        n4d_sim_destroy(sim);
        n4d_sim_destroy(s2);
    }
    /* set at step 40 (after the first spikes), checkpoint at 41, resume */
    n4d_sim *u = NULL;
    ASSERT_OK(n4d_sim_create(m, NULL, &u), m);
    ASSERT_OK(n4d_sim_run(u, 40), u);
    ASSERT_OK(n4d_sim_set_weights(u, "exc", W, 3), u);
    ASSERT_OK(n4d_sim_run(u, 110), u);
    finish(u, &ref);
    n4d_sim_destroy(u);
    char path[] = "/tmp/n4d_setw_XXXXXX";
    const int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    ASSERT_OK(n4d_sim_create(m, NULL, &sim), m);
    ASSERT_OK(n4d_sim_run(sim, 40), sim);
    ASSERT_OK(n4d_sim_set_weights(sim, "exc", W, 3), sim);
    ASSERT_OK(n4d_sim_run(sim, 1), sim);
    n4d_status st = n4d_sim_checkpoint(sim, path, NULL);
    if (st != N4D_E_NOT_BUILT) {
        ASSERT_OK(st, sim);
        n4d_model *rm = NULL;
        n4d_sim *rs = NULL;
        ASSERT_OK(n4d_sim_resume(ctx, path, NULL, &rm, &rs), ctx);
        ASSERT_OK(n4d_sim_run(rs, 109), rs);
        finish(rs, &r);
        CHECK(r.sum == ref.sum && memcmp(r.v, ref.v, sizeof r.v) == 0, "resumed run differs");
        n4d_sim_destroy(rs);
        n4d_model_destroy(rm);
        /* n4d_sim_save_model keeps them too */
        ASSERT_OK(n4d_sim_save_model(sim, path, NULL), sim);
        n4d_model *l = NULL;
        ASSERT_OK(n4d_model_load(ctx, path, NULL, &l), ctx);
        float w3[3];
        ASSERT_OK(n4d_model_get_synapses(l, 0, 3, NULL, w3, NULL, NULL), l);
        CHECK(w3[0] == 4.0f || w3[1] == 4.0f, "saved weights %g %g", w3[0], w3[1]);
        n4d_model_destroy(l);
    }
    unlink(path);
    n4d_sim_destroy(sim);
    n4d_model_destroy(m);
    n4d_model_destroy(e);
    assert_int_equal(mem_current(ctx), 0);
    n4d_context_destroy(ctx);
}

static void test_errors(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    assert_int_equal(n4d_context_create(NULL, &ctx), N4D_OK);
    n4d_model *m = model(ctx, NULL);
    n4d_sim *sim = NULL;
    ASSERT_OK(n4d_sim_create(m, NULL, &sim), m);
    ASSERT_ERR_MSG(n4d_sim_set_weights(sim, "exc", W, 2), N4D_E_INVALID_ARG, sim,
                   "2 weights for the 3 synapses of \"exc\"");
    const float neg[3] = {1.0f, -1.0f, 1.0f}, big[3] = {1.0f, 1.0f, 1e30f},
                nan_[3] = {NAN, 1.0f, 1.0f}, inh[9] = {-1, -1, -1, -1, -1, -1, -1, -1, 0.5f};
    ASSERT_ERR_MSG(n4d_sim_set_weights(sim, "exc", neg, 3), N4D_E_RANGE, sim,
                   "weights[1] = -1 (synapse 1 -> 4) would change the synapse's sign (it is "
                   "excitatory");
    ASSERT_ERR_MSG(n4d_sim_set_weights(sim, "inh", inh, 9), N4D_E_RANGE, sim,
                   "weights[8] = 0.5");
    ASSERT_ERR_MSG(n4d_sim_set_weights(sim, "exc", big, 3), N4D_E_RANGE, sim, "weights[2] = 1e+30");
    ASSERT_ERR_MSG(n4d_sim_set_weights(sim, "exc", nan_, 3), N4D_E_RANGE, sim, "weights[0] = nan");
    const float p3[3] = {0.1f, 0.1f, 0.1f};
    ASSERT_ERR_MSG(n4d_sim_set_weights(sim, "plastic", p3, 3), N4D_E_UNSUPPORTED, sim,
                   "plastic class \"plastic\" (synapse model stdp)");
    ASSERT_ERR_MSG(n4d_sim_set_weights(sim, "nope", p3, 3), N4D_E_CONFIG, sim,
                   "no projection or synapse class \"nope\"");
    ASSERT_ERR_MSG(n4d_sim_set_weights(sim, "exc", NULL, 3), N4D_E_INVALID_ARG, sim,
                   "weights is NULL");
    /* nothing changed */
    float got[3];
    uint64_t n;
    ASSERT_OK(n4d_sim_get_weights(sim, "exc", 3, NULL, NULL, got, &n), sim);
    assert_true(got[0] == 2.0f && got[1] == 2.0f && got[2] == 2.0f);
    n4d_sim_destroy(sim);
    /* a device keeps the weights: refused (or there is none) */
    n4d_sim_options o;
    n4d_sim_options_init(&o);
    o.backend = "cuda";
    n4d_status st = n4d_sim_create(m, &o, &sim);
    if (st == N4D_OK) {
        ASSERT_ERR_MSG(n4d_sim_set_weights(sim, "exc", W, 3), N4D_E_UNSUPPORTED, sim,
                       "keeps the weights on the device");
        n4d_sim_destroy(sim);
    } else {
        CHECK(st == N4D_E_NOT_BUILT || st == N4D_E_NO_DEVICE || st == N4D_E_UNSUPPORTED,
              "cuda: %d %s", (int)st, n4d_last_error(m));
    }
    n4d_model_destroy(m);
    assert_int_equal(mem_current(ctx), 0);
    n4d_context_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_and_files),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
