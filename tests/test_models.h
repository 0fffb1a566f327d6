/* Models and helpers shared by the determinism and CUDA conformance tests:
 * the same five networks (CUBA, a Brunel-like network with Poisson drive and
 * distributed delays, Izhikevich RS/FS, a 4D lif brain with distance
 * projections, DC input and a sense, and a population with several Poisson
 * inputs), built through the public API. Include after <cmocka.h> and
 * "n4d.h". */
#ifndef N4D_TEST_MODELS_H
#define N4D_TEST_MODELS_H

#include "test_util.h"

/* ---- model description helpers ------------------------------------------------ */

/* A model maker: describes and builds one of the models below. */
typedef n4d_model *(*model_fn)(n4d_context *ctx, uint64_t seed);

/* Storage layout and build backend applied by new_model (NULL: the
 * defaults). */
static const n4d_layout_options *g_layout;
static const char *g_build_backend;
/* The communicator new_model sets (the MPI tests, tests/mpi/); NULL: none. */
static const n4d_comm *g_comm;

static n4d_model *new_model(n4d_context *ctx, const uint32_t shape[4], uint64_t seed)
{
    n4d_model *m = NULL;
    OK(n4d_model_create(ctx, &m));
    if (g_layout)
        OK(n4d_model_set_layout(m, g_layout));
    if (g_build_backend)
        OK(n4d_model_set_build_backend(m, g_build_backend));
    if (g_comm)
        OK(n4d_model_set_comm(m, g_comm));
    OK(n4d_model_set_lattice(m, shape));
    OK(n4d_model_set_seed(m, seed));
    return m;
}

static void area(n4d_model *m, const char *name, int32_t x0, int32_t x1, int32_t y0, int32_t y1,
                 int32_t z0, int32_t z1, int32_t w0, int32_t w1)
{
    const int32_t lo[4] = {x0, y0, z0, w0}, hi[4] = {x1, y1, z1, w1};
    OK(n4d_model_add_area(m, name, lo, hi));
}

static void pop(n4d_model *m, const n4d_population_desc *d)
{
    n4d_status st = n4d_model_add_population(m, d, NULL);
    if (st)
        fail_msg("add_population %s -> %d: %s", d->name, (int)st, n4d_last_error(m));
}

static void projection(n4d_model *m, const n4d_projection_desc *d)
{
    n4d_status st = n4d_model_add_projection(m, d, NULL);
    if (st)
        fail_msg("add_projection %s->%s -> %d: %s", d->source, d->target, (int)st,
                 n4d_last_error(m));
}

static void input(n4d_model *m, const n4d_input_desc *d)
{
    n4d_status st = n4d_model_add_input(m, d);
    if (st)
        fail_msg("add_input -> %d: %s", (int)st, n4d_last_error(m));
}

static n4d_projection_desc proj(const char *s, const char *t, int32_t rule, double p, double w)
{
    n4d_projection_desc d;
    n4d_projection_desc_init(&d);
    d.source = s;
    d.target = t;
    d.rule = rule;
    d.p = p;
    d.weight = n4d_dist_constant(w);
    return d;
}

static n4d_input_desc poisson(const char *target, double rate, double weight, uint32_t n_sources)
{
    n4d_input_desc d;
    n4d_input_desc_init(&d);
    d.kind = N4D_INPUT_POISSON;
    d.target = target;
    d.rate = rate;
    d.weight = weight;
    d.n_sources = n_sources;
    return d;
}

static void build(n4d_model *m)
{
    n4d_status st = n4d_model_build(m);
    if (st)
        fail_msg("build -> %d: %s", (int)st, n4d_last_error(m));
}

/* ---- the models ---------------------------------------------------------------------- */

/* CUBA: 4000 lif_exp (3200 E, 800 I), p = 0.02, we 1.62 mV, wi -9 mV,
 * v_init uniform [-60, -50], delay one step. */
static n4d_model *model_cuba(n4d_context *ctx, uint64_t seed)
{
    const uint32_t shape[4] = {20, 20, 10, 1};
    n4d_model *m = new_model(ctx, shape, seed);
    area(m, "exc", 0, 19, 0, 19, 0, 7, 0, 0);
    area(m, "inh", 0, 19, 0, 19, 8, 9, 0, 0);
    n4d_population_desc d;
    n4d_population_desc_init(&d);
    d.model = N4D_NEURON_LIF_EXP;
    d.v_init = n4d_dist_uniform(-60.0, -50.0);
    d.name = "E";
    d.area = "exc";
    pop(m, &d);
    d.name = "I";
    d.area = "inh";
    pop(m, &d);
    const char *pops[2] = {"E", "I"};
    for (int s = 0; s < 2; s++)
        for (int t = 0; t < 2; t++) {
            n4d_projection_desc p = proj(pops[s], pops[t], N4D_RULE_FIXED_PROBABILITY, 0.02,
                                         s == 0 ? 1.62 : -9.0);
            projection(m, &p);
        }
    build(m);
    return m;
}

/* Brunel-like: 1600 E + 400 I lif_exp, fixed_indegree (CE 160, CI 40),
 * g = 5, delays uniform in [1.5, 3] ms (15..30 steps), Poisson drive. */
static n4d_model *model_brunel(n4d_context *ctx, uint64_t seed)
{
    const uint32_t shape[4] = {40, 50, 1, 1};
    n4d_model *m = new_model(ctx, shape, seed);
    area(m, "exc", 0, 39, 0, 39, 0, 0, 0, 0);
    area(m, "inh", 0, 39, 40, 49, 0, 0, 0, 0);
    n4d_population_desc d;
    n4d_population_desc_init(&d);
    d.model = N4D_NEURON_LIF_EXP;
    static const n4d_param_value params[] = {{"v_rest", 0.0}, {"v_reset", 10.0},
                                             {"v_threshold", 20.0}, {"t_ref", 2.0},
                                             {"tau_syn_ex", 2.0}, {"tau_syn_in", 2.0}};
    d.params = params;
    d.n_params = 6;
    d.v_init = n4d_dist_normal(5.0, 5.0, -INFINITY, 19.0);
    d.name = "E";
    d.area = "exc";
    pop(m, &d);
    d.name = "I";
    d.area = "inh";
    pop(m, &d);
    const char *pops[2] = {"E", "I"};
    for (int s = 0; s < 2; s++)
        for (int t = 0; t < 2; t++) {
            n4d_projection_desc p = proj(pops[s], pops[t], N4D_RULE_FIXED_INDEGREE, 0, 0);
            p.n = s == 0 ? 160 : 40;
            p.weight = n4d_dist_constant(s == 0 ? 0.8 : -4.0);
            p.delay = n4d_dist_uniform(1.5, 3.0);
            p.allow_autapses = 0;
            p.allow_multapses = 0;
            projection(m, &p);
        }
    for (int t = 0; t < 2; t++) {
        n4d_input_desc in = poisson(pops[t], 10.0, 1.6, 800);
        input(m, &in);
    }
    build(m);
    return m;
}

/* Izhikevich: 800 regular spiking + 200 fast spiking, p = 0.1, random
 * weights, Poisson "thalamic" input and a little DC. */
static n4d_model *model_izhikevich(n4d_context *ctx, uint64_t seed)
{
    const uint32_t shape[4] = {10, 10, 10, 1};
    n4d_model *m = new_model(ctx, shape, seed);
    area(m, "exc", 0, 9, 0, 9, 0, 7, 0, 0);
    area(m, "inh", 0, 9, 0, 9, 8, 9, 0, 0);
    n4d_population_desc d;
    n4d_population_desc_init(&d);
    d.model = N4D_NEURON_IZHIKEVICH;
    d.preset = "regular_spiking";
    d.v_init = n4d_dist_uniform(-70.0, -60.0);
    d.name = "RS";
    d.area = "exc";
    pop(m, &d);
    d.preset = "fast_spiking";
    d.name = "FS";
    d.area = "inh";
    pop(m, &d);
    const char *pops[2] = {"RS", "FS"};
    for (int s = 0; s < 2; s++)
        for (int t = 0; t < 2; t++) {
            n4d_projection_desc p = proj(pops[s], pops[t], N4D_RULE_FIXED_PROBABILITY, 0.1, 0);
            p.weight = s == 0 ? n4d_dist_uniform(0.0, 40.0) : n4d_dist_uniform(-80.0, 0.0);
            p.delay = n4d_dist_constant(s == 0 ? 1.0 : 0.5);
            projection(m, &p);
        }
    n4d_input_desc in = poisson("RS", 100.0, 60.0, 10);
    input(m, &in);
    in = poisson("FS", 100.0, 40.0, 10);
    input(m, &in);
    n4d_input_desc dc;
    n4d_input_desc_init(&dc);
    dc.kind = N4D_INPUT_DC;
    dc.target = "RS";
    dc.amplitude = 2.0;
    input(m, &dc);
    build(m);
    return m;
}

/* AdEx (NEST aeif_psc_exp defaults): 800 adapting excitatory neurons and
 * 200 inhibitory ones without adaptation and with a refractory period,
 * p = 0.1, random weights in pA, Poisson input and a little DC. */
static n4d_model *model_adex(n4d_context *ctx, uint64_t seed)
{
    const uint32_t shape[4] = {10, 10, 10, 1};
    n4d_model *m = new_model(ctx, shape, seed);
    area(m, "exc", 0, 9, 0, 9, 0, 7, 0, 0);
    area(m, "inh", 0, 9, 0, 9, 8, 9, 0, 0);
    n4d_population_desc d;
    n4d_population_desc_init(&d);
    d.model_name = "adex";
    d.v_init = n4d_dist_uniform(-70.0, -55.0);
    d.name = "E";
    d.area = "exc";
    pop(m, &d);
    static const n4d_param_value fast[] = {{"a", 0.0}, {"b", 0.0}, {"t_ref", 1.0},
                                           {"tau_syn_ex", 0.5}};
    d.params = fast;
    d.n_params = 4;
    d.name = "I";
    d.area = "inh";
    pop(m, &d);
    const char *pops[2] = {"E", "I"};
    for (int s = 0; s < 2; s++)
        for (int t = 0; t < 2; t++) {
            n4d_projection_desc p = proj(pops[s], pops[t], N4D_RULE_FIXED_PROBABILITY, 0.1, 0);
            p.weight = s == 0 ? n4d_dist_uniform(0.0, 600.0) : n4d_dist_uniform(-900.0, 0.0);
            p.delay = n4d_dist_uniform(0.5, 2.0);
            projection(m, &p);
        }
    n4d_input_desc in = poisson("E", 400.0, 700.0, 4);
    input(m, &in);
    in = poisson("I", 400.0, 600.0, 4);
    input(m, &in);
    n4d_input_desc dc;
    n4d_input_desc_init(&dc);
    dc.kind = N4D_INPUT_DC;
    dc.target = "E";
    dc.amplitude = 700.0;
    input(m, &dc);
    dc.target = "I";
    dc.amplitude = 650.0;
    input(m, &dc);
    build(m);
    return m;
}

/* 4D lif (4D Neural Cognition): three areas in three w slices, distance
 * projections within and across areas, DC input into V1, a sense on V1. */
static n4d_model *model_4d(n4d_context *ctx, uint64_t seed)
{
    const uint32_t shape[4] = {8, 8, 4, 3};
    n4d_model *m = new_model(ctx, shape, seed);
    area(m, "V1", 0, 7, 0, 7, 0, 3, 0, 0);
    area(m, "V2", 0, 7, 0, 7, 0, 3, 1, 1);
    area(m, "PFC", 1, 6, 1, 6, 0, 3, 2, 2);
    n4d_population_desc d;
    n4d_population_desc_init(&d);
    d.model = N4D_NEURON_LIF;
    d.v_init = n4d_dist_normal(-60.0, 4.0, -70.0, -51.0);
    d.name = "v1";
    d.area = "V1";
    pop(m, &d); /* all 256 sites */
    d.name = "v2";
    d.area = "V2";
    d.placement = N4D_PLACE_DENSITY;
    d.density = 0.7;
    pop(m, &d);
    d.name = "pfc";
    d.area = "PFC";
    d.placement = N4D_PLACE_COUNT;
    d.count = 100;
    pop(m, &d);
    n4d_projection_desc p = proj("v1", "v1", N4D_RULE_DISTANCE, 0.5, 0);
    p.sigma = 1.5;
    p.cutoff = 3.0;
    p.weight = n4d_dist_normal(60.0, 20.0, 0.0, 150.0);
    p.delay = n4d_dist_uniform(0.2, 1.0);
    p.allow_autapses = 0;
    projection(m, &p);
    p = proj("v1", "v2", N4D_RULE_DISTANCE, 0.8, 500.0);
    p.kernel = N4D_KERNEL_EXPONENTIAL;
    p.sigma = 1.0;
    p.cutoff = 3.0;
    p.delay = n4d_dist_constant(0.5);
    projection(m, &p);
    p = proj("v2", "pfc", N4D_RULE_DISTANCE, 0.9, 400.0);
    p.sigma = 2.0;
    p.cutoff = 3.5;
    p.delay = n4d_dist_uniform(0.3, 2.0);
    projection(m, &p);
    p = proj("pfc", "v1", N4D_RULE_DISTANCE, 0.6, 300.0);
    p.kernel = N4D_KERNEL_EXPONENTIAL;
    p.sigma = 2.0;
    p.cutoff = 4.0;
    p.syn_type = N4D_SYN_INHIBITORY;
    projection(m, &p);
    n4d_input_desc dc;
    n4d_input_desc_init(&dc);
    dc.kind = N4D_INPUT_DC;
    dc.target = "v1";
    dc.amplitude = 18.0;
    dc.start = 5.0;
    dc.stop = 150.0;
    input(m, &dc);
    dc.target = "v2";
    dc.amplitude = 12.0;
    dc.start = 0.0;
    dc.stop = INFINITY;
    input(m, &dc);
    dc.target = "pfc";
    dc.amplitude = 12.0;
    dc.start = 0.0;
    dc.stop = INFINITY;
    input(m, &dc);
    OK(n4d_model_add_sense(m, "retina", "V1", 8, 8));
    build(m);
    return m;
}

/* One population with four Poisson inputs (excitatory, inhibitory, a timed
 * burst, and one of > 100 events per step that is split into parts), plus
 * a second population driven only through synapses. */
static n4d_model *model_multi_poisson(n4d_context *ctx, uint64_t seed)
{
    const uint32_t shape[4] = {30, 30, 2, 1};
    n4d_model *m = new_model(ctx, shape, seed);
    area(m, "A", 0, 29, 0, 29, 0, 0, 0, 0);
    area(m, "B", 0, 19, 0, 19, 1, 1, 0, 0);
    area(m, "C", 0, 9, 0, 9, 1, 1, 0, 0);
    n4d_population_desc d;
    n4d_population_desc_init(&d);
    d.model = N4D_NEURON_LIF_EXP;
    static const n4d_param_value params[] = {{"v_rest", -65.0}, {"t_ref", 2.0}};
    d.params = params;
    d.n_params = 2;
    d.name = "in";
    d.area = "A";
    pop(m, &d); /* 900 */
    d.name = "out";
    d.area = "B";
    d.v_init = n4d_dist_uniform(-65.0, -55.0);
    pop(m, &d); /* 400 */
    d.name = "big";
    d.area = "C";
    pop(m, &d); /* 100 */
    n4d_projection_desc p = proj("in", "out", N4D_RULE_FIXED_PROBABILITY, 0.05, 0);
    p.weight = n4d_dist_normal(3.0, 1.0, 0.0, 6.0);
    p.delay = n4d_dist_uniform(0.2, 0.8);
    projection(m, &p);
    p = proj("out", "in", N4D_RULE_FIXED_TOTAL_NUMBER, 0, -2.0);
    p.n = 8000;
    p.delay = n4d_dist_constant(0.3);
    projection(m, &p);
    n4d_input_desc in = poisson("in", 20.0, 0.9, 500);
    input(m, &in);
    in = poisson("in", 10.0, -1.2, 300);
    input(m, &in);
    in = poisson("in", 200.0, 1.5, 50);
    in.start = 30.0;
    in.stop = 60.0;
    input(m, &in);
    in = poisson("in", 5.0, 0.0001, 10);
    input(m, &in);
    in = poisson("big", 15.0, 0.0025, 150000); /* 225 events per step: 3 parts */
    in.start = 10.0;
    in.stop = 40.0;
    input(m, &in);
    build(m);
    return m;
}

/* Every connection rule and distribution the synapse generator has: the
 * microcircuit's fixed_total_number with multapses and clipped normal
 * weights and delays, distinct pairs, fixed_indegree with multapses,
 * one_to_one, all_to_all, dense and sparse fixed_probability, a distance
 * kernel across areas; Poisson drive. */
static n4d_model *model_rules(n4d_context *ctx, uint64_t seed)
{
    const uint32_t shape[4] = {30, 30, 2, 2};
    n4d_model *m = new_model(ctx, shape, seed);
    area(m, "A", 0, 29, 0, 29, 0, 0, 0, 0);
    area(m, "B", 0, 29, 0, 29, 1, 1, 0, 0);
    area(m, "C", 0, 9, 0, 9, 0, 1, 1, 1);
    area(m, "D", 10, 29, 0, 14, 0, 0, 1, 1);
    n4d_population_desc d;
    n4d_population_desc_init(&d);
    d.model = N4D_NEURON_LIF_EXP;
    d.v_init = n4d_dist_uniform(-65.0, -55.0);
    d.name = "E";
    d.area = "A";
    pop(m, &d); /* 900 */
    d.name = "I";
    d.area = "B";
    d.placement = N4D_PLACE_COUNT;
    d.count = 300;
    pop(m, &d);
    d.name = "Y";
    d.area = "D";
    pop(m, &d); /* 300: one_to_one with I */
    d.model = N4D_NEURON_LIF;
    d.name = "X";
    d.area = "C";
    d.placement = N4D_PLACE_DENSITY;
    d.density = 0.8;
    pop(m, &d);
    n4d_projection_desc p = proj("E", "E", N4D_RULE_FIXED_TOTAL_NUMBER, 0, 0);
    p.n = 20000;
    p.weight = n4d_dist_normal(0.5, 0.1, 0.0, INFINITY);
    p.delay = n4d_dist_normal(1.5, 0.75, 0.1, INFINITY);
    p.syn_type = N4D_SYN_EXCITATORY;
    projection(m, &p);
    p.target = "I";
    p.n = 8000;
    projection(m, &p);
    p = proj("I", "E", N4D_RULE_FIXED_TOTAL_NUMBER, 0, 0);
    p.n = 6000;
    p.allow_multapses = 0;
    p.weight = n4d_dist_normal(-2.0, 0.4, -INFINITY, 0.0);
    p.delay = n4d_dist_constant(0.8);
    projection(m, &p);
    p = proj("I", "I", N4D_RULE_FIXED_INDEGREE, 0, 0);
    p.n = 30;
    p.weight = n4d_dist_uniform(-3.0, -1.0);
    p.delay = n4d_dist_uniform(0.5, 2.0);
    projection(m, &p);
    p = proj("I", "Y", N4D_RULE_ONE_TO_ONE, 0, 5.0);
    p.delay = n4d_dist_constant(1.0);
    projection(m, &p);
    p = proj("Y", "I", N4D_RULE_ALL_TO_ALL, 0, 0);
    p.weight = n4d_dist_normal(0.2, 0.05, 0.0, 1.0);
    p.delay = n4d_dist_constant(1.0);
    projection(m, &p);
    p = proj("E", "E", N4D_RULE_FIXED_PROBABILITY, 0.15, 0);
    p.name = "E->E dense";
    p.weight = n4d_dist_uniform(0.05, 0.15);
    p.delay = n4d_dist_constant(2.0);
    p.allow_autapses = 0;
    projection(m, &p);
    p = proj("E", "I", N4D_RULE_FIXED_PROBABILITY, 0.05, 0);
    p.name = "E->I sparse";
    p.weight = n4d_dist_normal(0.8, 0.3, 0.0, 2.0);
    projection(m, &p);
    p = proj("X", "E", N4D_RULE_DISTANCE, 0.7, 0);
    p.sigma = 2.0;
    p.cutoff = 4.0;
    p.weight = n4d_dist_normal(1.0, 0.5, 0.0, 3.0);
    p.delay = n4d_dist_uniform(0.2, 1.2);
    projection(m, &p);
    const char *pops[4] = {"E", "I", "Y", "X"};
    for (int k = 0; k < 4; k++) {
        n4d_input_desc in = poisson(pops[k], 10.0, k == 3 ? 60.0 : 1.2, 300);
        input(m, &in);
    }
    build(m);
    return m;
}

#ifdef N4D_INTERNAL_H
/* Models a and b have the same synapses, bit for bit: every array of the
 * CSR, the scale, the delays and the neuron order. `what` names b's build. */
#define SAME_ARRAY(name, what, field, a, b, count)                                                \
    CHECK(((a) == NULL && (b) == NULL) ||                                                         \
              ((a) && (b) && memcmp((a), (b), (size_t)(count) * sizeof *(a)) == 0),             \
          "%s: %s differ between the %s build and the cpu build", name, field, what)

static void same_built_model(const char *name, const char *what, const n4d_model *ref,
                             const n4d_model *m)
{
    const n4d__synapses *x = &ref->syn, *y = &m->syn;
    const uint64_t N = ref->n_neurons;
    CHECK(m->n_neurons == N && x->n_syn == y->n_syn && x->n_seg == y->n_seg,
          "%s: %llu neurons, %llu synapses, %llu segments (cpu: %llu, %llu, %llu)", name,
          (unsigned long long)m->n_neurons, (unsigned long long)y->n_syn,
          (unsigned long long)y->n_seg, (unsigned long long)N, (unsigned long long)x->n_syn,
          (unsigned long long)x->n_seg);
    CHECK(x->scale == y->scale && x->min_delay == y->min_delay && x->max_delay == y->max_delay,
          "%s: scale %g, delays %u..%u (cpu: %g, %u..%u)", name, y->scale, y->min_delay,
          y->max_delay, x->scale, x->min_delay, x->max_delay);
    SAME_ARRAY(name, what, "neuron orders", ref->perm, m->perm, N);
    SAME_ARRAY(name, what, "row segments", x->seg_ptr, y->seg_ptr, N + 1);
    SAME_ARRAY(name, what, "segment offsets", x->seg_off, y->seg_off, x->n_seg + 1);
    SAME_ARRAY(name, what, "segment keys", x->seg_key, y->seg_key, x->n_seg);
    SAME_ARRAY(name, what, "targets", x->target, y->target, x->n_syn);
    SAME_ARRAY(name, what, "weights", x->weight_q, y->weight_q, x->n_syn);
    if (getenv("N4D_TEST_VERBOSE"))
        print_message("%s: %llu synapses, %llu segments: %s build identical\n", name,
                      (unsigned long long)x->n_syn, (unsigned long long)x->n_seg, what);
}

/* Builds make(ctx, seed) on the CPU and with build backend `builder`
 * (optionally with a layout) and checks that both are the same model; with
 * expect_built_on, also where the second one was built. */
static void compare_builds(n4d_context *ctx, const char *name, model_fn make, const char *builder,
                           const n4d_layout_options *lay, uint64_t seed,
                           const char *expect_built_on)
{
    g_layout = lay;
    g_build_backend = "cpu";
    n4d_model *ref = make(ctx, seed);
    g_build_backend = builder;
    n4d_model *m = make(ctx, seed);
    g_build_backend = NULL;
    g_layout = NULL;
    if (expect_built_on)
        assert_string_equal(n4d_model_build_backend(m), expect_built_on);
    same_built_model(name, builder, ref, m);
    n4d_model_destroy(ref);
    n4d_model_destroy(m);
}
#endif

/* ---- capturing a run --------------------------------------------------------------------- */

/* The state variables compared bitwise after a run. */
#define NVARS 9
static const char *const VARS[NVARS] = {"v",    "ge", "gi",         "u",    "i_ex",
                                        "i_in", "w",  "refractory", "i_ext"};

/* Everything a run produced: recorded spikes, totals and final states. */
typedef struct sim_result {
    uint64_t n, total, checksum;
    uint64_t *steps;
    uint32_t *ids;
    float *state[NVARS];
} sim_result;

static void result_free(sim_result *r)
{
    free(r->steps);
    free(r->ids);
    for (int i = 0; i < NVARS; i++)
        free(r->state[i]);
    memset(r, 0, sizeof *r);
}

/* Copies the recorded spikes, totals and the VARS state arrays of sim. */
static sim_result capture_result(n4d_sim *sim, uint64_t neurons)
{
    sim_result r;
    memset(&r, 0, sizeof r);
    const uint64_t *sp;
    const uint32_t *id;
    OK(n4d_sim_spikes(sim, &sp, &id, &r.n));
    r.steps = malloc((r.n ? r.n : 1) * sizeof *r.steps);
    r.ids = malloc((r.n ? r.n : 1) * sizeof *r.ids);
    assert_true(r.steps && r.ids);
    if (r.n) {
        memcpy(r.steps, sp, r.n * sizeof *sp);
        memcpy(r.ids, id, r.n * sizeof *id);
    }
    r.total = n4d_sim_total_spikes(sim);
    r.checksum = n4d_sim_checksum(sim);
    for (int i = 0; i < NVARS; i++) {
        r.state[i] = malloc((neurons ? neurons : 1) * sizeof(float));
        assert_non_null(r.state[i]);
        OK(n4d_sim_get_state(sim, VARS[i], r.state[i], neurons));
    }
    return r;
}

#endif
