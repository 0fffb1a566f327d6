/* senses.c — feed a moving 2D pattern into a sense area, step by step.
 *
 * 4D Neural Cognition models receive the world through senses: a 2D matrix
 * (rows along x, columns along y) added to the external input of the
 * neurons of one z layer of an area. Here a 16 x 16 "retina" shows a
 * vertical bar, two columns wide, that sweeps across x; the program feeds it
 * into V1 before every step with n4d_sim_feed_sense. V1 (w = 0) projects
 * onto V2 (w = 1) through local, distance-dependent synapses, so the bar's
 * trace travels on into V2.
 *
 * Every 40 steps the program prints the bar's mean position, the rate of
 * each area in Hz and the mean x of V1's spikes. The model uses 4D Neural
 * Cognition's LIF (dt 1 ms, refractory 5 ms) as its configs do.
 *
 * Exit status 0 when V1 followed the bar (at least 90 % of its spikes fall
 * within one column of the bar, and both areas fired), 1 otherwise: the
 * ctest `example_senses` checks it.
 *
 * Build: part of the n4d build (target `senses`), or
 *   cc examples/senses.c -I include -L build/src -Wl,-rpath,build/src -ln4d -o senses */
#include <n4d.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#define CHECK(call, handle)                                                              \
    do {                                                                                 \
        n4d_status st_ = (call);                                                         \
        if (st_ != N4D_OK) {                                                             \
            fprintf(stderr, "senses: %s failed: %s (%s)\n", #call, n4d_status_string(st_), \
                    n4d_last_error(handle));                                             \
            goto fail;                                                                   \
        }                                                                                \
    } while (0)

enum { SIDE = 16, DEPTH = 2, STEPS = 320, WINDOW = 40, HOLD = 10 };

/* The bar's left column at `step`: it moves one column every HOLD steps
 * and wraps around. */
static int bar_at(uint64_t step)
{
    return (int)((step / HOLD) % (SIDE - 1));
}

int main(void)
{
    n4d_context *ctx = NULL;
    n4d_model *model = NULL;
    n4d_sim *sim = NULL;
    int rc = 1;

    CHECK(n4d_context_create(NULL, &ctx), NULL);
    CHECK(n4d_model_create(ctx, &model), ctx);
    const uint32_t lattice[4] = {SIDE, SIDE, DEPTH, 2};
    CHECK(n4d_model_set_lattice(model, lattice), model);
    CHECK(n4d_model_set_dt(model, 1.0), model); /* 4D Neural Cognition's step */
    CHECK(n4d_model_set_seed(model, 7), model);

    /* Two areas, one per w slice, as a 4D Neural Cognition config lays out
     * its senses: V1 on w = 0, V2 on w = 1. */
    const int32_t v1_lo[4] = {0, 0, 0, 0}, v1_hi[4] = {SIDE - 1, SIDE - 1, DEPTH - 1, 0};
    const int32_t v2_lo[4] = {0, 0, 0, 1}, v2_hi[4] = {SIDE - 1, SIDE - 1, DEPTH - 1, 1};
    CHECK(n4d_model_add_area(model, "V1", v1_lo, v1_hi), model);
    CHECK(n4d_model_add_area(model, "V2", v2_lo, v2_hi), model);

    /* One lif population per area with the model's defaults (tau_m 20 ms,
     * v_rest -65, v_reset -70, threshold -50, refractory 5 ms). */
    n4d_population_desc pop;
    n4d_population_desc_init(&pop);
    pop.model_name = "lif";
    pop.name = "V1";
    pop.area = "V1";
    CHECK(n4d_model_add_population(model, &pop, NULL), model);
    pop.name = "V2";
    pop.area = "V2";
    CHECK(n4d_model_add_population(model, &pop, NULL), model);

    /* V1 -> V2: each V1 neuron reaches the V2 neurons near its own (x, y, z)
     * (the w distance is 1, so the cutoff of 2 keeps the receptive fields
     * small). */
    n4d_projection_desc proj;
    n4d_projection_desc_init(&proj);
    proj.source = "V1";
    proj.target = "V2";
    proj.rule = N4D_RULE_DISTANCE;
    proj.p = 1.0;
    proj.sigma = 1.0;
    proj.cutoff = 2.0;
    proj.weight = n4d_dist_constant(150.0); /* 7.5 mV per spike in V2 */
    proj.delay = n4d_dist_constant(2.0);
    CHECK(n4d_model_add_projection(model, &proj, NULL), model);

    /* The sense: a SIDE x SIDE matrix into V1 (entry [ix][iy] goes to the
     * neuron at x = ix, y = iy of the z layer chosen when feeding). */
    CHECK(n4d_model_add_sense(model, "vision", "V1", SIDE, SIDE), model);
    CHECK(n4d_model_build(model), model);
    printf("neurons %" PRIu64 ", synapses %" PRIu64 "\n", n4d_model_num_neurons(model),
           n4d_model_num_synapses(model));

    n4d_sim_options opt;
    n4d_sim_options_init(&opt);
    opt.record_spikes = 0; /* we read each step's spikes as they come */
    CHECK(n4d_sim_create(model, &opt, &sim), model);

    n4d_population_info v1, v2;
    v1.struct_size = v2.struct_size = sizeof v1;
    CHECK(n4d_model_population_info(model, 0, &v1), model);
    CHECK(n4d_model_population_info(model, 1, &v2), model);

    float frame[SIDE * SIDE];
    uint64_t in_bar = 0, v1_total = 0, v2_total = 0;
    uint64_t win_v1 = 0, win_v2 = 0, win_bar = 0;
    double win_x = 0;
    printf("%8s %8s %10s %10s %10s\n", "steps", "bar x", "V1 (Hz)", "V2 (Hz)", "V1 mean x");
    for (uint64_t t = 0; t < STEPS; t++) {
        /* Draw the frame: 400 (mV of drive) on the bar's two columns. A
         * LIF neuron adds input / tau_m per step, so it fires at once and
         * then every refractory period while the bar covers it. */
        const int bar = bar_at(t);
        for (int ix = 0; ix < SIDE; ix++)
            for (int iy = 0; iy < SIDE; iy++)
                frame[ix * SIDE + iy] = (ix == bar || ix == bar + 1) ? 400.0f : 0.0f;
        /* Feed both z layers of V1; the input is used by the next step. */
        for (uint32_t z = 0; z < DEPTH; z++)
            CHECK(n4d_sim_feed_sense(sim, "vision", frame, SIDE, SIDE, z), sim);
        CHECK(n4d_sim_step(sim), sim);

        /* The step's spikes (ids ascending; valid until the next step). */
        const uint32_t *ids = NULL;
        uint64_t count = 0;
        CHECK(n4d_sim_last_spikes(sim, &ids, &count), sim);
        for (uint64_t k = 0; k < count; k++) {
            if (ids[k] >= v1.first && ids[k] < v1.first + v1.count) {
                int32_t xyzw[4];
                CHECK(n4d_model_neuron_position(model, ids[k], xyzw), model);
                win_v1++;
                win_x += xyzw[0];
                in_bar += xyzw[0] >= bar - 1 && xyzw[0] <= bar + 2;
            } else if (ids[k] >= v2.first && ids[k] < v2.first + v2.count) {
                win_v2++;
            }
        }
        win_bar += (uint64_t)bar;
        if ((t + 1) % WINDOW == 0) {
            const double seconds = WINDOW * n4d_sim_dt(sim) / 1000.0;
            printf("%8" PRIu64 " %8.1f %10.2f %10.2f %10.2f\n", t + 1,
                   (double)win_bar / WINDOW + 0.5, (double)win_v1 / (double)v1.count / seconds,
                   (double)win_v2 / (double)v2.count / seconds,
                   win_v1 ? win_x / (double)win_v1 : -1.0);
            v1_total += win_v1;
            v2_total += win_v2;
            win_v1 = win_v2 = win_bar = 0;
            win_x = 0;
        }
    }
    const double frac = v1_total ? (double)in_bar / (double)v1_total : 0;
    printf("V1 spikes %" PRIu64 " (%.1f %% within a column of the bar), V2 spikes %" PRIu64 "\n",
           v1_total, 100 * frac, v2_total);
    printf("checksum %016" PRIx64 "\n", n4d_sim_checksum(sim));
    if (v1_total == 0 || v2_total == 0 || frac < 0.9) {
        fprintf(stderr, "senses: V1 did not follow the bar\n");
        goto fail;
    }
    rc = 0;

fail:
    n4d_sim_destroy(sim);
    n4d_model_destroy(model);
    n4d_context_destroy(ctx);
    return rc;
}
