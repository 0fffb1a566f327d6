/* compression.c — inactive-neuron compression and the bytes it saves.
 *
 * The guide's InactiveNeuronCompressor compresses neurons that have not
 * spiked for a while. n4d does it per simulation (include/n4d/compress.h):
 * blocks of up to 1024 neurons that have been silent for `threshold_steps`
 * and sit at a fixed point of their update have their state compressed
 * with zlib, the pages of their state and delay buffers handed back to the
 * system, and are skipped by the update until input reaches them. Skipping
 * a neuron at a fixed point is exactly what its update does, so the spike
 * trains are bitwise those of an uncompressed run.
 *
 * The model: a "cortex" of 1,024 LIF neurons driven by Poisson input and an
 * "ear" of 4,096 neurons with recurrent synapses but no input: silent until
 * the program plays it a "sound" (a strong input to 64 of its neurons) at
 * step 1,500. The program runs it once without compression (the reference)
 * and once with it, printing the statistics before and after the sound.
 *
 * Exit status 0 when blocks were compressed, bytes were handed back, the
 * sound restored blocks, and the checksum and final state equal the
 * reference's (ctest `example_compression`).
 *
 * Build: part of the n4d build (target `compression`), or
 *   cc examples/compression.c -I include -L build/src -Wl,-rpath,build/src -ln4d -o compression */
#include <n4d.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(call, handle)                                                              \
    do {                                                                                 \
        n4d_status st_ = (call);                                                         \
        if (st_ != N4D_OK) {                                                             \
            fprintf(stderr, "compression: %s failed: %s (%s)\n", #call,                 \
                    n4d_status_string(st_), n4d_last_error(handle));                     \
            goto fail;                                                                   \
        }                                                                                \
    } while (0)

enum { QUIET = 1500, AFTER = 500, SOUND_NEURONS = 64 };

/* The ear's first neuron id (population 1). */
static uint64_t ear_first(const n4d_model *model)
{
    n4d_population_info pi;
    memset(&pi, 0, sizeof pi);
    pi.struct_size = sizeof pi;
    return n4d_model_population_info(model, 1, &pi) == N4D_OK ? pi.first : 0;
}

/* Runs QUIET steps, plays the sound, runs AFTER steps. With `compress`,
 * compression is on and the statistics are printed at both points. */
static n4d_status simulate(n4d_model *model, int compress, uint64_t *checksum, float *v,
                           n4d_compress_stats *quiet, n4d_compress_stats *end)
{
    n4d_sim_options so;
    n4d_sim_options_init(&so);
    so.backend = "cpu-omp"; /* the backend with the compression capability */
    so.record_spikes = 0;
    n4d_sim *sim = NULL;
    n4d_status st = n4d_sim_create(model, &so, &sim);
    if (st != N4D_OK) {
        fprintf(stderr, "compression: %s\n", n4d_last_error(model));
        return st;
    }
    if (compress) {
        n4d_compress_options co;
        n4d_compress_options_init(&co);
        co.threshold_steps = 200; /* silent this long: a candidate (default 1000) */
        co.check_every = 50;      /* look for candidates this often (default 100) */
        if ((st = n4d_sim_compression_enable(sim, &co)) != N4D_OK)
            goto out;
    }
    if ((st = n4d_sim_run(sim, QUIET)) != N4D_OK)
        goto out;
    quiet->struct_size = sizeof *quiet;
    if ((st = n4d_sim_compression_stats(sim, quiet)) != N4D_OK)
        goto out;
    /* The sound: external input to the first SOUND_NEURONS ear neurons for
     * the next step; the blocks it reaches are restored before they update. */
    const uint64_t first = ear_first(model);
    for (uint64_t k = 0; k < SOUND_NEURONS; k++)
        if ((st = n4d_sim_add_input(sim, first + k, 500.0f)) != N4D_OK)
            goto out;
    if ((st = n4d_sim_run(sim, AFTER)) != N4D_OK)
        goto out;
    end->struct_size = sizeof *end;
    if ((st = n4d_sim_compression_stats(sim, end)) != N4D_OK)
        goto out;
    *checksum = n4d_sim_checksum(sim);
    printf("%-16s %8" PRIu64 " spikes, checksum %016" PRIx64 "\n",
           compress ? "compressed:" : "reference:", n4d_sim_total_spikes(sim), *checksum);
    /* A read of the state writes compressed blocks back (they stay compressed). */
    st = n4d_sim_get_state(sim, "v", v, n4d_model_num_neurons(model));
out:
    if (st != N4D_OK)
        fprintf(stderr, "compression: %s\n", n4d_last_error(sim));
    n4d_sim_destroy(sim);
    return st;
}

static void print_stats(const char *when, const n4d_compress_stats *s)
{
    printf("%s: %" PRIu64 " of %" PRIu64 " blocks compressed (%" PRIu64 " neurons); "
           "%.1f KiB of state and buffers -> %.1f KiB compressed, %.1f KiB handed back to "
           "the system; %" PRIu64 " compressions, %" PRIu64 " restores so far\n",
           when, s->blocks_compressed, s->blocks, s->neurons_compressed,
           (double)s->bytes_before / 1024, (double)s->bytes_after / 1024,
           (double)s->bytes_saved_real / 1024, s->compressions, s->restores);
}

int main(void)
{
    n4d_context *ctx = NULL;
    n4d_model *model = NULL;
    float *v_ref = NULL, *v_cmp = NULL;
    int rc = 1;

    CHECK(n4d_context_create(NULL, &ctx), NULL);
    CHECK(n4d_model_create(ctx, &model), ctx);
    const uint32_t lattice[4] = {16, 16, 16, 2};
    CHECK(n4d_model_set_lattice(model, lattice), model);
    CHECK(n4d_model_set_dt(model, 1.0), model);
    CHECK(n4d_model_set_seed(model, 3), model);
    const int32_t c_lo[4] = {0, 0, 0, 0}, c_hi[4] = {15, 15, 3, 0};
    const int32_t e_lo[4] = {0, 0, 0, 1}, e_hi[4] = {15, 15, 15, 1};
    CHECK(n4d_model_add_area(model, "cortex", c_lo, c_hi), model);
    CHECK(n4d_model_add_area(model, "ear", e_lo, e_hi), model);
    n4d_population_desc pop;
    n4d_population_desc_init(&pop); /* lif, a neuron on every site, V = v_rest */
    pop.name = pop.area = "cortex";
    CHECK(n4d_model_add_population(model, &pop, NULL), model);
    pop.name = pop.area = "ear";
    CHECK(n4d_model_add_population(model, &pop, NULL), model);

    n4d_projection_desc pr;
    n4d_projection_desc_init(&pr);
    pr.source = pr.target = "cortex";
    pr.rule = N4D_RULE_FIXED_PROBABILITY;
    pr.p = 0.02;
    pr.weight = n4d_dist_uniform(-3.0, 2.0);
    CHECK(n4d_model_add_projection(model, &pr, NULL), model);
    pr.source = pr.target = "ear";
    pr.p = 0.005;
    pr.weight = n4d_dist_constant(4.0);
    CHECK(n4d_model_add_projection(model, &pr, NULL), model);

    n4d_input_desc in;
    n4d_input_desc_init(&in);
    in.kind = N4D_INPUT_POISSON;
    in.target = "cortex";
    in.rate = 20.0;
    in.n_sources = 100;
    in.weight = 6.0;
    CHECK(n4d_model_add_input(model, &in), model);
    CHECK(n4d_model_build(model), model);
    const uint64_t n = n4d_model_num_neurons(model);
    printf("neurons %" PRIu64 " (cortex 1024, ear 4096), synapses %" PRIu64 "\n", n,
           n4d_model_num_synapses(model));

    v_ref = malloc(n * sizeof *v_ref);
    v_cmp = malloc(n * sizeof *v_cmp);
    if (!v_ref || !v_cmp)
        goto fail;
    uint64_t c_ref = 0, c_cmp = 0;
    n4d_compress_stats s_quiet, s_end, unused;
    CHECK(simulate(model, 0, &c_ref, v_ref, &unused, &unused), model);
    CHECK(simulate(model, 1, &c_cmp, v_cmp, &s_quiet, &s_end), model);
    print_stats("before the sound", &s_quiet);
    print_stats("after the sound ", &s_end);
    const int same_v = memcmp(v_ref, v_cmp, n * sizeof *v_ref) == 0;
    printf("checksums %s, final V %s\n", c_ref == c_cmp ? "equal" : "DIFFER",
           same_v ? "bitwise equal" : "DIFFERS");
    if (c_ref != c_cmp || !same_v || s_quiet.blocks_compressed == 0 ||
        s_quiet.bytes_saved_real == 0 || s_end.restores == 0)
        goto fail;
    rc = 0;

fail:
    free(v_ref);
    free(v_cmp);
    n4d_model_destroy(model);
    n4d_context_destroy(ctx);
    return rc;
}
