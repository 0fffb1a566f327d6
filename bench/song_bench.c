/* The Song, Miller & Abbott (2000) STDP benchmark (bench/plasticity.py):
 * runs examples/configs/stdp_song.json (1000 Poisson sources onto one
 * neuron through additive stdp) and prints one JSON line: simulation time,
 * the final weight split (fractions below 0.1 Wmax and above 0.9 Wmax),
 * the rate of the postsynaptic neuron, the synapse bytes.
 *
 *   build/bench/song_bench CONFIG [--threads T] [--duration MS] [--backend B] [--wmax W]
 *                          [--projection NAME]
 * (NAME: the plastic projection read at the end, default in->post; with
 * bench/configs/cuba_40k_stdp.json and E->E it gives the bytes per plastic
 * synapse of CUBA 40k)
 * (W: the bound of the fractions; default the largest weight reached) */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "n4d.h"
#include "bench_util.h"

static uint64_t synapse_bytes(const n4d_context *ctx)
{
    n4d_memory_stats ms;
    memset(&ms, 0, sizeof ms);
    ms.struct_size = sizeof ms;
    if (n4d_context_memory(ctx, &ms))
        return 0;
    return ms.current[N4D_MEM_SYNAPSES];
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s CONFIG [--threads T] [--duration MS] [--backend B] [--wmax W] "
                        "[--projection NAME]\n", argv[0]);
        return 2;
    }
    const char *config = argv[1], *backend = "cpu-omp", *proj = "in->post";
    int threads = 1;
    double duration = -1.0, wmax_opt = 0.0;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--threads") == 0)
            threads = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--duration") == 0)
            duration = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--wmax") == 0)
            wmax_opt = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--backend") == 0)
            backend = argv[i + 1];
        else if (strcmp(argv[i], "--projection") == 0) /* the plastic one (default in->post) */
            proj = argv[i + 1];
        else {
            fprintf(stderr, "unknown option %s\n", argv[i]);
            return 2;
        }
    }
    n4d_context *ctx = NULL;
    CHECK_OK(n4d_context_create(NULL, &ctx), NULL);
    n4d_model *m = NULL;
    CHECK_OK(n4d_model_from_json_file(ctx, config, &m), ctx);
    double t0 = now_s();
    CHECK_OK(n4d_model_build(m), m);
    const double build_s = now_s() - t0;
    const uint64_t model_bytes = synapse_bytes(ctx);
    n4d_sim_options o;
    n4d_sim_options_init(&o);
    o.backend = backend;
    o.num_threads = threads;
    o.record_spikes = 1;
    n4d_sim *s = NULL;
    CHECK_OK(n4d_sim_create(m, &o, &s), m);
    const uint64_t sim_bytes = synapse_bytes(ctx);
    if (duration < 0)
        duration = n4d_model_default_duration(m);
    const uint64_t steps = (uint64_t)(duration / n4d_sim_dt(s) + 0.5);
    t0 = now_s();
    CHECK_OK(n4d_sim_run(s, steps), s);
    const double sim_s = now_s() - t0;

    /* the weights, and the spikes of the postsynaptic neuron (the last id) */
    uint64_t n = 0;
    CHECK_OK(n4d_sim_get_weights(s, proj, 0, NULL, NULL, NULL, &n), s);
    float *w = malloc((n ? n : 1) * sizeof *w);
    CHECK_OK(n4d_sim_get_weights(s, proj, n, NULL, NULL, w, &n), s);
    double wmax = 0.0;
    for (uint64_t i = 0; i < n; i++)
        wmax = w[i] > wmax ? w[i] : wmax;
    /* the bound the fractions refer to: --wmax, else the largest weight
     * reached (Wmax itself once any weight saturates) */
    const double wbound = wmax_opt > 0 ? wmax_opt : wmax;
    uint64_t low = 0, high = 0;
    for (uint64_t i = 0; i < n; i++) {
        low += w[i] < 0.1 * wbound;
        high += w[i] > 0.9 * wbound;
    }
    const uint64_t *steps_rec;
    const uint32_t *ids;
    uint64_t cnt = 0, post = 0;
    CHECK_OK(n4d_sim_spikes(s, &steps_rec, &ids, &cnt), s);
    const uint32_t post_id = (uint32_t)(n4d_model_num_neurons(m) - 1);
    for (uint64_t i = 0; i < cnt; i++)
        post += ids[i] == post_id;
    /* bytes: the model's synapse storage per synapse (every synapse of the
     * model), what the sim adds per synapse of the projection (its plastic
     * weights and segment indices), and their sum: one plastic synapse */
    const uint64_t all = n4d_model_num_synapses(m);
    const double model_per = all ? (double)model_bytes / (double)all : 0.0;
    const double overlay_per = n ? (double)(sim_bytes - model_bytes) / (double)n : 0.0;
    printf("{\"sim_s\": %.6f, \"build_s\": %.6f, \"steps\": %" PRIu64 ", \"synapses\": %" PRIu64
           ", \"frac_low\": %.4f, \"frac_high\": %.4f, \"post_rate_hz\": %.3f, \"input_spikes\": %" PRIu64
           ", \"bytes_per_synapse_model\": %.2f, \"overlay_bytes_per_plastic_synapse\": %.2f"
           ", \"bytes_per_plastic_synapse\": %.2f, \"wmax_reached\": %.4f, \"wmax_used\": %.4f}\n",
           sim_s, build_s, steps, n, n ? (double)low / (double)n : 0.0,
           n ? (double)high / (double)n : 0.0, (double)post / (duration * 1e-3), cnt - post,
           model_per, overlay_per, model_per + overlay_per, wmax, wbound);
    free(w);
    n4d_sim_destroy(s);
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
    return 0;
}
