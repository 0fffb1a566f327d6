/* Inactive-neuron compression benchmark (docs/modules.md): a 4D brain with
 * a Poisson-driven cortex and large silent sense areas (lif_exp at rest),
 * run with compression off and on: bytes per memory tag before/after, time
 * per 1000 steps, checksums (must be equal).
 *
 *   build/bench/compress_bench [X] [threads] [steps]
 *   (lattice X x 32 x 16 x 16; default X = 24: 196608 neurons) */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "n4d.h"
#include "bench_util.h"

static void add_pop(n4d_model *m, const char *name, const char *area)
{
    n4d_population_desc d;
    n4d_population_desc_init(&d);
    d.name = name;
    d.area = area;
    d.model = N4D_NEURON_LIF_EXP;
    static const n4d_param_value params[] = {{"v_rest", -65.0}, {"v_reset", -65.0},
                                             {"v_threshold", -50.0}};
    d.params = params;
    d.n_params = 3;
    CHECK_OK(n4d_model_add_population(m, &d, NULL), m);
}

static void add_proj(n4d_model *m, const char *src, const char *tgt, uint64_t indeg, double w)
{
    n4d_projection_desc pr;
    n4d_projection_desc_init(&pr);
    pr.source = src;
    pr.target = tgt;
    pr.rule = N4D_RULE_FIXED_INDEGREE;
    pr.n = indeg;
    pr.weight.value = w;
    pr.delay.value = 1.0;
    CHECK_OK(n4d_model_add_projection(m, &pr, NULL), m);
}

static void print_mem(const char *what, const n4d_context *ctx)
{
    n4d_memory_stats ms;
    ms.struct_size = sizeof ms;
    n4d_context_memory(ctx, &ms);
    printf("  %-22s", what);
    for (int t = 0; t < N4D_MEM_TAG_COUNT; t++)
        if (ms.current[t])
            printf(" %s %.1f MB", n4d_mem_tag_name(t), (double)ms.current[t] / 1e6);
    printf(" | total %.1f MB\n", (double)ms.total_current / 1e6);
}

int main(int argc, char **argv)
{
    const int X = argc > 1 ? atoi(argv[1]) : 24;
    const int threads = argc > 2 ? atoi(argv[2]) : 0;
    const uint64_t steps = argc > 3 ? strtoull(argv[3], NULL, 10) : 3000;
    /* drive of the cortex: "poisson" (default) or "dc" (vector kernels, so
     * the skipped silent areas are a larger share of the step) */
    const int dc = argc > 4 && strcmp(argv[4], "dc") == 0;
    printf("command: %s %d %d %" PRIu64 " %s\n", argv[0], X, threads, steps, dc ? "dc" : "poisson");
    uint64_t sums[2] = {0, 0};
    double per1000[2] = {0, 0};
    for (int on = 0; on < 2; on++) {
        n4d_context *ctx = NULL;
        CHECK_OK(n4d_context_create(NULL, &ctx), ctx);
        n4d_model *m = NULL;
        CHECK_OK(n4d_model_create(ctx, &m), ctx);
        const uint32_t shape[4] = {(uint32_t)X, 32, 16, 16};
        CHECK_OK(n4d_model_set_lattice(m, shape), m);
        const int32_t c0[4] = {0, 0, 0, 0}, c1[4] = {X / 6 - 1, 31, 15, 15};
        const int32_t e0[4] = {X / 6, 0, 0, 0}, e1[4] = {X / 3 - 1, 31, 15, 15};
        const int32_t a0[4] = {X / 3, 0, 0, 0}, a1[4] = {X - 1, 31, 15, 15};
        CHECK_OK(n4d_model_add_area(m, "cortex", c0, c1), m);
        CHECK_OK(n4d_model_add_area(m, "eye", e0, e1), m);
        CHECK_OK(n4d_model_add_area(m, "ear", a0, a1), m);
        add_pop(m, "ctx", "cortex");
        add_pop(m, "eye", "eye");
        add_pop(m, "ear", "ear");
        add_proj(m, "ctx", "ctx", 50, 0.5);
        add_proj(m, "ctx", "eye", 20, 2.0);
        add_proj(m, "eye", "eye", 50, 1.0);
        add_proj(m, "ear", "ear", 50, 1.0);
        n4d_input_desc in;
        n4d_input_desc_init(&in);
        in.kind = dc ? N4D_INPUT_DC : N4D_INPUT_POISSON;
        in.target = "ctx";
        in.amplitude = 18.0; /* dc: above threshold (v_rest -65, threshold -50) */
        in.rate = 2000.0;
        in.weight = 4.0;
        in.n_sources = 4;
        CHECK_OK(n4d_model_add_input(m, &in), m);
        CHECK_OK(n4d_model_build(m), m);
        n4d_sim_options o;
        n4d_sim_options_init(&o);
        o.backend = "cpu-omp";
        o.num_threads = threads;
        o.record_spikes = 0;
        n4d_sim *sim = NULL;
        CHECK_OK(n4d_sim_create(m, &o, &sim), m);
        printf("%s: %" PRIu64 " neurons, %d threads\n", on ? "compression on" : "compression off",
               n4d_model_num_neurons(m), n4d_sim_num_threads(sim));
        print_mem("before:", ctx);
        if (on) {
            n4d_compress_options co;
            n4d_compress_options_init(&co);
            co.threshold_steps = 200;
            co.check_every = 50;
            CHECK_OK(n4d_sim_compression_enable(sim, &co), sim);
        }
        CHECK_OK(n4d_sim_run(sim, 1000), sim); /* warm-up: blocks get compressed */
        double t0 = now_s();
        CHECK_OK(n4d_sim_run(sim, steps), sim);
        per1000[on] = (now_s() - t0) / (double)steps * 1000.0;
        print_mem("after:", ctx);
        if (on) {
            n4d_compress_stats cs;
            cs.struct_size = sizeof cs;
            n4d_sim_compression_stats(sim, &cs);
            printf("  blocks %" PRIu64 "/%" PRIu64 " compressed (%" PRIu64
                   " neurons), state %.1f MB -> %.1f MB, handed back %.1f MB, restores %" PRIu64
                   "\n",
                   cs.blocks_compressed, cs.blocks, cs.neurons_compressed, cs.bytes_before / 1e6,
                   cs.bytes_after / 1e6, cs.bytes_saved_real / 1e6, cs.restores);
        }
        sums[on] = n4d_sim_checksum(sim);
        printf("  %.3f s per 1000 steps, checksum %016" PRIx64 "\n", per1000[on], sums[on]);
        n4d_sim_destroy(sim);
        n4d_model_destroy(m);
        n4d_context_destroy(ctx);
    }
    printf("checksums %s; speed-up %.2fx\n", sums[0] == sums[1] ? "equal" : "DIFFER",
           per1000[0] / per1000[1]);
    return sums[0] == sums[1] ? 0 : 1;
}
