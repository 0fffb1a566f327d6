/* The check "auto" makes before it gives work to a GPU: a small network is
 * built on the device and on the CPU (the arrays must be identical), then
 * simulated on the cuda backend and on cpu-ref (the spikes and the checksum
 * must be identical). A verdict (pass, or results that differ, or a CUDA
 * error) is kept for the process; a lack of resources (device memory) is
 * not a verdict: the build comparison is left out when only the build lacks
 * memory, and the whole check is tried again at the next call when the
 * simulation does. Explicit "cuda" choices are not checked: they run
 * whatever the device computes, and the conformance tests
 * (tests/test_cuda.c) are the full check. */
#include "cuda_loader.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define SELFTEST_STEPS 300

static pthread_mutex_t g_selftest_lock = PTHREAD_MUTEX_INITIALIZER;
static bool g_selftest_done;       /* a verdict was reached */
static n4d_status g_selftest_status;
static char g_selftest_msg[N4D_CUDA_ERR_CAP + 256];

/* 1,200 neurons (800 E, 400 I, lif_exp): fixed_probability sparse and
 * dense, fixed_total_number and fixed_indegree, normal and uniform weights
 * and delays, Poisson input: every part of the build and of a step. */
static n4d_status selftest_model(n4d_context *ctx, const char *build_backend, n4d_model **out)
{
    n4d_model *m = NULL;
    n4d_status st = n4d_model_create(ctx, &m);
    const uint32_t shape[4] = {20, 20, 3, 1};
    const int32_t e_lo[4] = {0, 0, 0, 0}, e_hi[4] = {19, 19, 1, 0};
    const int32_t i_lo[4] = {0, 0, 2, 0}, i_hi[4] = {19, 19, 2, 0};
    if (!st)
        st = n4d_model_set_lattice(m, shape);
    if (!st)
        st = n4d_model_set_seed(m, 20261126);
    if (!st)
        st = n4d_model_set_build_backend(m, build_backend);
    if (!st)
        st = n4d_model_add_area(m, "e", e_lo, e_hi);
    if (!st)
        st = n4d_model_add_area(m, "i", i_lo, i_hi);
    n4d_population_desc d;
    n4d_population_desc_init(&d);
    d.model = N4D_NEURON_LIF_EXP;
    d.v_init = n4d_dist_uniform(-65.0, -55.0);
    d.name = "E";
    d.area = "e";
    if (!st)
        st = n4d_model_add_population(m, &d, NULL);
    d.name = "I";
    d.area = "i";
    if (!st)
        st = n4d_model_add_population(m, &d, NULL);
    struct {
        const char *s, *t;
        int32_t rule;
        double p;
        uint64_t n;
        n4d_dist w, delay;
    } pr[4] = {
        {"E", "E", N4D_RULE_FIXED_PROBABILITY, 0.05, 0, n4d_dist_normal(0.5, 0.1, 0.0, 2.0),
         n4d_dist_uniform(0.5, 2.0)},
        {"E", "I", N4D_RULE_FIXED_TOTAL_NUMBER, 0.0, 20000, n4d_dist_normal(0.4, 0.1, 0.0, 2.0),
         n4d_dist_normal(1.5, 0.5, 0.1, 4.0)},
        {"I", "E", N4D_RULE_FIXED_INDEGREE, 0.0, 20, n4d_dist_constant(-1.5),
         n4d_dist_constant(0.8)},
        {"I", "I", N4D_RULE_FIXED_PROBABILITY, 0.2, 0, n4d_dist_uniform(-2.0, -1.0),
         n4d_dist_constant(1.0)},
    };
    for (int k = 0; k < 4 && !st; k++) {
        n4d_projection_desc p;
        n4d_projection_desc_init(&p);
        p.source = pr[k].s;
        p.target = pr[k].t;
        p.rule = pr[k].rule;
        p.p = pr[k].p;
        p.n = pr[k].n;
        p.weight = pr[k].w;
        p.delay = pr[k].delay;
        st = n4d_model_add_projection(m, &p, NULL);
    }
    for (int k = 0; k < 2 && !st; k++) {
        n4d_input_desc in;
        n4d_input_desc_init(&in);
        in.kind = N4D_INPUT_POISSON;
        in.target = k ? "I" : "E";
        in.rate = 10.0;
        in.weight = 1.2;
        in.n_sources = 300;
        st = n4d_model_add_input(m, &in);
    }
    if (!st)
        st = n4d_model_build(m);
    if (st)
        snprintf(g_selftest_msg, sizeof g_selftest_msg, "building on %s: %s", build_backend,
                 m ? n4d_last_error(m) : n4d_status_string(st));
    *out = m;
    return st;
}

static bool same_synapses(const n4d_model *a, const n4d_model *b)
{
    const n4d__synapses *x = &a->syn, *y = &b->syn;
    return x->n_syn == y->n_syn && x->n_seg == y->n_seg && x->scale == y->scale &&
           x->min_delay == y->min_delay && x->max_delay == y->max_delay &&
           !memcmp(x->seg_ptr, y->seg_ptr, (a->n_neurons + 1) * sizeof *x->seg_ptr) &&
           !memcmp(x->seg_off, y->seg_off, (x->n_seg + 1) * sizeof *x->seg_off) &&
           !memcmp(x->seg_key, y->seg_key, x->n_seg * sizeof *x->seg_key) &&
           !memcmp(x->target, y->target, x->n_syn * sizeof *x->target) &&
           !memcmp(x->weight_q, y->weight_q, x->n_syn * sizeof *x->weight_q);
}

/* Simulates m on `backend`: *checksum and *spikes after SELFTEST_STEPS. */
static n4d_status selftest_run(n4d_model *m, const char *backend, uint64_t *checksum,
                               uint64_t *spikes)
{
    n4d_sim_options o;
    n4d_sim_options_init(&o);
    o.backend = backend;
    o.history_steps = 0;
    n4d_sim *sim = NULL;
    n4d_status st = n4d_sim_create(m, &o, &sim);
    if (!st)
        st = n4d_sim_run(sim, SELFTEST_STEPS);
    if (st)
        snprintf(g_selftest_msg, sizeof g_selftest_msg, "running on %s: %s", backend,
                 sim ? n4d_last_error(sim) : n4d_last_error(m));
    else {
        *checksum = n4d_sim_checksum(sim);
        *spikes = n4d_sim_total_spikes(sim);
    }
    n4d_sim_destroy(sim);
    return st;
}

/* Not enough device resources to run the check: no verdict. */
static bool resource_error(n4d_status st)
{
    return st == N4D_E_NOMEM || st == N4D_E_LIMIT;
}

static void selftest_run_all(void)
{
    n4d_context *ctx = NULL;
    n4d_model *cpu = NULL, *dev = NULL;
    uint64_t sum[2] = {0, 0}, spikes[2] = {0, 0};
    n4d_status st = n4d_context_create(NULL, &ctx);
    if (st)
        snprintf(g_selftest_msg, sizeof g_selftest_msg, "no context");
    if (!st)
        st = selftest_model(ctx, "cpu", &cpu);
    if (!st) {
        const n4d_status bst = selftest_model(ctx, "cuda", &dev);
        if (!bst && !same_synapses(cpu, dev)) {
            st = N4D_E_INTERNAL;
            snprintf(g_selftest_msg, sizeof g_selftest_msg,
                     "the synapses built on the GPU differ from the CPU's");
        } else if (bst && !resource_error(bst)) {
            st = bst; /* a CUDA error: a verdict */
        }
    }
    if (!st)
        st = selftest_run(cpu, "cpu-ref", &sum[0], &spikes[0]);
    if (!st)
        st = selftest_run(cpu, "cuda", &sum[1], &spikes[1]);
    if (!st && (sum[0] != sum[1] || spikes[0] != spikes[1] || spikes[0] == 0)) {
        st = N4D_E_INTERNAL;
        snprintf(g_selftest_msg, sizeof g_selftest_msg,
                 "the cuda backend's spikes differ from cpu-ref's (%llu spikes, checksum %016llx, "
                 "vs %llu, %016llx)",
                 (unsigned long long)spikes[1], (unsigned long long)sum[1],
                 (unsigned long long)spikes[0], (unsigned long long)sum[0]);
    }
    n4d_model_destroy(dev);
    n4d_model_destroy(cpu);
    n4d_context_destroy(ctx);
    g_selftest_status = st;
    g_selftest_done = !resource_error(st);
}

n4d_status n4d__cuda_self_test(char *msg, size_t cap)
{
    pthread_mutex_lock(&g_selftest_lock);
    if (!g_selftest_done)
        selftest_run_all();
    const n4d_status st = g_selftest_status;
    if (st && msg && cap)
        snprintf(msg, cap, "%s n4d's self-test (%s)",
                 g_selftest_done ? "the GPU failed" : "the GPU could not run", g_selftest_msg);
    pthread_mutex_unlock(&g_selftest_lock);
    return st;
}
