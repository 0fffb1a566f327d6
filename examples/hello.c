/* hello.c — build a small 4D network with the C API, run it, print spikes.
 *
 * 1000 lif_exp neurons on a 10 x 10 x 5 x 2 lattice: 800 excitatory (z 0..3)
 * and 200 inhibitory (z 4) neurons, random recurrent connections, one
 * distance-dependent projection and Poisson drive. Runs 1000 steps (100 ms).
 *
 * Build: part of the n4d build (target `hello`), or
 *   cc examples/hello.c -I include -L build/src -Wl,-rpath,build/src -ln4d -o hello */
#include <n4d.h>

#include <inttypes.h>
#include <stdio.h>

/* Every call returns a status: on failure print the detail kept on the
 * handle (model, sim or context) and leave. */
#define CHECK(call, handle)                                                              \
    do {                                                                                 \
        n4d_status st_ = (call);                                                         \
        if (st_ != N4D_OK) {                                                             \
            fprintf(stderr, "hello: %s failed: %s (%s)\n", #call, n4d_status_string(st_), \
                    n4d_last_error(handle));                                             \
            goto fail;                                                                   \
        }                                                                                \
    } while (0)

int main(void)
{
    n4d_context *ctx = NULL;
    n4d_model *model = NULL;
    n4d_sim *sim = NULL;
    int rc = 1;

    CHECK(n4d_context_create(NULL, &ctx), NULL);
    CHECK(n4d_model_create(ctx, &model), ctx);

    const uint32_t lattice[4] = {10, 10, 5, 2};
    CHECK(n4d_model_set_lattice(model, lattice), model);
    CHECK(n4d_model_set_dt(model, 0.1), model);
    CHECK(n4d_model_set_seed(model, 42), model);

    /* Areas are inclusive boxes (x, y, z, w). */
    const int32_t exc_lo[4] = {0, 0, 0, 0}, exc_hi[4] = {9, 9, 3, 1};
    const int32_t inh_lo[4] = {0, 0, 4, 0}, inh_hi[4] = {9, 9, 4, 1};
    CHECK(n4d_model_add_area(model, "exc", exc_lo, exc_hi), model);
    CHECK(n4d_model_add_area(model, "inh", inh_lo, inh_hi), model);

    /* Two lif_exp populations, one neuron on every site of their area. */
    n4d_population_desc pop;
    n4d_population_desc_init(&pop);
    pop.model = N4D_NEURON_LIF_EXP;
    static const n4d_param_value params[] = {{"v_rest", -65.0}, {"v_reset", -65.0},
                                             {"v_threshold", -50.0}, {"t_ref", 2.0}};
    pop.params = params;
    pop.n_params = 4;
    pop.v_init = n4d_dist_uniform(-65.0, -55.0);
    pop.placement = N4D_PLACE_ALL;
    pop.name = "E";
    pop.area = "exc";
    CHECK(n4d_model_add_population(model, &pop, NULL), model);
    pop.name = "I";
    pop.area = "inh";
    CHECK(n4d_model_add_population(model, &pop, NULL), model);

    /* Recurrent connections: E local (distance-dependent), E and I random. */
    n4d_projection_desc proj;
    n4d_projection_desc_init(&proj);
    proj.source = "E";
    proj.target = "E";
    proj.rule = N4D_RULE_DISTANCE;
    proj.p = 0.3;
    proj.kernel = N4D_KERNEL_GAUSSIAN;
    proj.sigma = 2.0;
    proj.cutoff = 6.0;
    proj.weight = n4d_dist_constant(0.5);
    proj.delay = n4d_dist_uniform(0.5, 2.0);
    proj.allow_autapses = 0;
    CHECK(n4d_model_add_projection(model, &proj, NULL), model);

    n4d_projection_desc_init(&proj);
    proj.source = "E";
    proj.target = "I";
    proj.rule = N4D_RULE_FIXED_PROBABILITY;
    proj.p = 0.1;
    proj.weight = n4d_dist_constant(0.5);
    proj.delay = n4d_dist_constant(1.0);
    CHECK(n4d_model_add_projection(model, &proj, NULL), model);

    proj.source = "I";
    proj.target = "E";
    proj.weight = n4d_dist_constant(-2.0);
    proj.syn_type = N4D_SYN_INHIBITORY;
    CHECK(n4d_model_add_projection(model, &proj, NULL), model);
    proj.target = "I";
    CHECK(n4d_model_add_projection(model, &proj, NULL), model);

    /* Poisson drive: 120 sources of 25 Hz per neuron, 1 mV each. */
    n4d_input_desc in;
    n4d_input_desc_init(&in);
    in.kind = N4D_INPUT_POISSON;
    in.rate = 25.0;
    in.n_sources = 120;
    in.weight = 1.0;
    in.target = "E";
    CHECK(n4d_model_add_input(model, &in), model);
    in.target = "I";
    CHECK(n4d_model_add_input(model, &in), model);

    CHECK(n4d_model_build(model), model);
    printf("neurons:  %" PRIu64 "\n", n4d_model_num_neurons(model));
    printf("synapses: %" PRIu64 "\n", n4d_model_num_synapses(model));

    /* A simulation with the default options: best backend, all spikes kept. */
    CHECK(n4d_sim_create(model, NULL, &sim), model);
    CHECK(n4d_sim_run(sim, 1000), sim);

    const uint64_t *steps = NULL;
    const uint32_t *ids = NULL;
    uint64_t count = 0;
    CHECK(n4d_sim_spikes(sim, &steps, &ids, &count), sim);
    printf("backend:  %s\n", n4d_sim_backend(sim));
    printf("spikes:   %" PRIu64 " in %.1f ms\n", count, 1000 * n4d_sim_dt(sim));
    for (uint64_t k = 0; k < count && k < 5; k++) {
        int32_t xyzw[4];
        CHECK(n4d_model_neuron_position(model, ids[k], xyzw), model);
        printf("  t = %5.1f ms  neuron %4" PRIu32 " at (%d, %d, %d, %d)\n",
               (double)steps[k] * n4d_sim_dt(sim), ids[k], (int)xyzw[0], (int)xyzw[1],
               (int)xyzw[2], (int)xyzw[3]);
    }
    if (count > 5)
        printf("  ...\n");
    printf("checksum: %016" PRIx64 "\n", n4d_sim_checksum(sim));
    rc = 0;

fail:
    n4d_sim_destroy(sim);
    n4d_model_destroy(model);
    n4d_context_destroy(ctx);
    return rc;
}
