/* reward_learning.c — reward-modulated STDP (stdp_dopamine) with the C API.
 *
 * Three cue groups (A, B, C: 20 input neurons each) project onto 10 output
 * neurons through stdp_dopamine synapses (NEST's stdp_dopamine_synapse),
 * all with the same initial weight. Each trial shows one cue for 20 ms (its
 * neurons fire at random, about 100 Hz), then 380 ms of silence. When the
 * cue was A and the output fired during it, the program rewards the network
 * (n4d_sim_reward: the dopamine level rises above its baseline, then decays
 * back). Every pairing of an input spike with a later output spike leaves
 * an eligibility trace c on its synapse, but only the traces that meet
 * dopamine above baseline change weights (dw/dt = c (dopamine - baseline)),
 * so A's weights grow and B's and C's do not, though the output fires after
 * every cue alike at first.
 *
 * Exit status 0 when A's mean weight grew by more than 1 and B's and C's
 * moved by less than a tenth of that (the ctest smoke test checks it).
 *
 * Build: part of the n4d build (target `reward_learning`), or
 *   cc examples/reward_learning.c -I include -L build/src -Wl,-rpath,build/src -ln4d \
 *      -o reward_learning */
#include <n4d.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>

#define CHECK(call, handle)                                                              \
    do {                                                                                 \
        n4d_status st_ = (call);                                                         \
        if (st_ != N4D_OK) {                                                             \
            fprintf(stderr, "reward_learning: %s failed: %s (%s)\n", #call,             \
                    n4d_status_string(st_), n4d_last_error(handle));                     \
            goto fail;                                                                   \
        }                                                                                \
    } while (0)

enum { GROUP = 20, OUT = 10, TRIALS = 90, CUE_MS = 20, TRIAL_MS = 400 };
static const char *const CUES[3] = {"A", "B", "C"};

/* A small deterministic generator (xorshift64*) for the cue order and the
 * input spikes. */
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static double uniform(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (double)((rng * 2685821657736338717ull) >> 11) * (1.0 / 9007199254740992.0);
}

/* The mean weight of the projection from cue group `cue` to the output. */
static n4d_status mean_weight(n4d_sim *sim, const char *cue, double *mean)
{
    char name[16];
    snprintf(name, sizeof name, "%s_out", cue);
    float w[GROUP * OUT];
    uint64_t n = 0;
    n4d_status st = n4d_sim_get_weights(sim, name, GROUP * OUT, NULL, NULL, w, &n);
    double sum = 0;
    for (uint64_t k = 0; k < n; k++)
        sum += w[k];
    *mean = n ? sum / (double)n : 0;
    return st;
}

int main(void)
{
    n4d_context *ctx = NULL;
    n4d_model *model = NULL;
    n4d_sim *sim = NULL;
    int rc = 1;

    CHECK(n4d_context_create(NULL, &ctx), NULL);
    CHECK(n4d_model_create(ctx, &model), ctx);
    const uint32_t lattice[4] = {GROUP, 4, 1, 1}; /* rows y = 0..2: cues, y = 3: output */
    CHECK(n4d_model_set_lattice(model, lattice), model);
    CHECK(n4d_model_set_dt(model, 1.0), model);
    CHECK(n4d_model_set_seed(model, 1), model);

    /* the cue groups: parrot neurons, a spike in each step with input */
    for (int g = 0; g < 3; g++) {
        const int32_t lo[4] = {0, g, 0, 0}, hi[4] = {GROUP - 1, g, 0, 0};
        CHECK(n4d_model_add_area(model, CUES[g], lo, hi), model);
        n4d_population_desc d;
        n4d_population_desc_init(&d);
        d.name = CUES[g];
        d.area = CUES[g];
        d.model_name = "parrot";
        CHECK(n4d_model_add_population(model, &d, NULL), model);
    }
    /* the output: 4D Neural Cognition's lif (tau_m 20 ms, threshold -50 mV) */
    const int32_t lo[4] = {0, 3, 0, 0}, hi[4] = {OUT - 1, 3, 0, 0};
    CHECK(n4d_model_add_area(model, "out", lo, hi), model);
    n4d_population_desc d;
    n4d_population_desc_init(&d);
    d.name = "out";
    d.area = "out";
    d.model = N4D_NEURON_LIF;
    CHECK(n4d_model_add_population(model, &d, NULL), model);

    /* dopamine: baseline 0.5, back to it by 0.01 per step after a reward */
    n4d_modulator_desc md;
    n4d_modulator_desc_init(&md);
    md.name = "dopamine";
    md.baseline = 0.5;
    md.decay_rate = 0.01;
    CHECK(n4d_model_add_modulator(model, &md), model);

    /* every cue group onto every output neuron, stdp_dopamine (the
     * dopamine trace n is the level minus its baseline: docs/plasticity.md) */
    const n4d_param_value sp[] = {{"tau_c", 100.0}, {"A_plus", 0.005}, {"A_minus", 0.0025},
                                  {"Wmin", 0.0},    {"Wmax", 16.0}};
    for (int g = 0; g < 3; g++) {
        char name[16];
        snprintf(name, sizeof name, "%s_out", CUES[g]);
        n4d_projection_desc p;
        n4d_projection_desc_init(&p);
        p.name = name;
        p.source = CUES[g];
        p.target = "out";
        p.rule = N4D_RULE_ALL_TO_ALL;
        p.weight = n4d_dist_constant(8.5);
        p.delay = n4d_dist_constant(1.0);
        p.synapse_model = "stdp_dopamine";
        p.synapse_params = sp;
        p.n_synapse_params = sizeof sp / sizeof sp[0];
        CHECK(n4d_model_add_projection(model, &p, NULL), model);
    }
    CHECK(n4d_model_build(model), model);

    n4d_sim_options o;
    n4d_sim_options_init(&o);
    o.record_spikes = 0;
    CHECK(n4d_sim_create(model, &o, &sim), model);

    double w0[3];
    for (int g = 0; g < 3; g++)
        CHECK(mean_weight(sim, CUES[g], &w0[g]), sim);
    int fired[3] = {0, 0, 0}, shown[3] = {0, 0, 0}, rewards = 0;
    for (int trial = 0; trial < TRIALS; trial++) {
        const int g = (int)(uniform() * 3.0);
        int out_spikes = 0;
        for (int t = 0; t < CUE_MS; t++) {
            for (int k = 0; k < GROUP; k++)
                if (uniform() < 0.25)
                    CHECK(n4d_sim_add_input(sim, (uint64_t)(g * GROUP + k), 1.0f), sim);
            CHECK(n4d_sim_run(sim, 1), sim);
            const uint32_t *ids;
            uint64_t n;
            CHECK(n4d_sim_last_spikes(sim, &ids, &n), sim);
            for (uint64_t q = 0; q < n; q++)
                out_spikes += ids[q] >= 3 * GROUP;
        }
        shown[g]++;
        fired[g] += out_spikes > 0;
        if (g == 0 && out_spikes > 0) { /* the rewarded cue, answered */
            CHECK(n4d_sim_reward(sim, 0.5, 0.0), sim);
            rewards++;
        }
        CHECK(n4d_sim_run(sim, TRIAL_MS - CUE_MS), sim);
    }

    double w1[3];
    printf("reward_learning: %d trials, %d rewards (cue A answered)\n", TRIALS, rewards);
    for (int g = 0; g < 3; g++) {
        CHECK(mean_weight(sim, CUES[g], &w1[g]), sim);
        printf("  cue %s%s: shown %2d times, output fired %2d times, mean weight %.3f -> %.3f\n",
               CUES[g], g == 0 ? " (rewarded)" : "           ", shown[g], fired[g], w0[g], w1[g]);
    }
    const double da = w1[0] - w0[0], db = fabs(w1[1] - w0[1]), dc = fabs(w1[2] - w0[2]);
    if (da > 1.0 && db < 0.1 * da && dc < 0.1 * da) {
        printf("reward_learning: the rewarded cue's weights grew, the others did not\n");
        rc = 0;
    } else {
        printf("reward_learning: FAILED: changes %.3f (A), %.3f (B), %.3f (C)\n", da, db, dc);
    }

fail:
    n4d_sim_destroy(sim);
    n4d_model_destroy(model);
    n4d_context_destroy(ctx);
    return rc;
}
