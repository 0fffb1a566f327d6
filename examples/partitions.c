/* partitions.c — spatial partitions of a 4D model and their load balance.
 *
 * The guide's ParallelSimulationEngine cuts the lattice into boxes, assigns
 * neurons to them and reports the load balance. n4d does the same on a
 * built model (include/n4d/partition.h): recursive coordinate bisection into
 * N boxes, balanced by neurons or by neurons + synapses, with statistics.
 * The same boxes, chosen before the build as the storage layout, are the
 * work units the cpu-omp backend hands to its threads.
 *
 * This program loads a config (default examples/configs/demo.json), asks
 * for 4 partitions in its layout (balanced by synapses), builds it, and:
 *   1. prints 4 boxes balanced by neurons and their statistics;
 *   2. prints the layout's boxes (balanced by synapses): cpu-omp's work;
 *   3. checks that every neuron lies in exactly one box, inside its ranges;
 *   4. runs the model with 1 and 2 threads and checks that the spike
 *      trains are identical (the checksum), as they are for any partitioning.
 *
 * Exit status 0 when the checks pass (ctest `example_partitions`).
 *
 * Build: part of the n4d build (target `partitions`), or
 *   cc examples/partitions.c -I include -L build/src -Wl,-rpath,build/src -ln4d -o partitions */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <n4d.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define CHECK(call, handle)                                                              \
    do {                                                                                 \
        n4d_status st_ = (call);                                                         \
        if (st_ != N4D_OK) {                                                             \
            fprintf(stderr, "partitions: %s failed: %s (%s)\n", #call,                  \
                    n4d_status_string(st_), n4d_last_error(handle));                     \
            goto fail;                                                                   \
        }                                                                                \
    } while (0)

enum { PARTS = 4, STEPS = 300 };

static void print_boxes(const n4d_partition_result *r)
{
    printf("  %4s %9s %9s %9s %9s %9s %10s\n", "box", "x", "y", "z", "w", "neurons", "synapses");
    for (uint32_t k = 0; k < r->num_partitions; k++) {
        const n4d_partition *p = &r->partitions[k];
        char ax[4][16];
        for (int a = 0; a < 4; a++)
            snprintf(ax[a], sizeof ax[a], "%d-%d", (int)p->lo[a], (int)p->hi[a]);
        printf("  %4u %9s %9s %9s %9s %9" PRIu64 " %10" PRIu64 "\n", k, ax[0], ax[1], ax[2],
               ax[3], p->num_neurons, p->num_synapses);
    }
    /* get_load_balance_stats(): mean, std and imbalance = (max - min) / mean */
    printf("  neurons per box:  mean %.1f, std %.1f, imbalance %.2f %%\n", r->neurons.mean,
           r->neurons.std, 100 * r->neurons.imbalance);
    printf("  synapses per box: mean %.1f, std %.1f, imbalance %.2f %%\n", r->synapses.mean,
           r->synapses.std, 100 * r->synapses.imbalance);
}

/* Every neuron in exactly one box and inside its inclusive ranges. */
static int check_cover(const n4d_model *model, const n4d_partition_result *r)
{
    const uint64_t n = n4d_model_num_neurons(model);
    uint64_t seen = 0;
    for (uint32_t k = 0; k < r->num_partitions; k++) {
        const n4d_partition *p = &r->partitions[k];
        for (uint64_t j = 0; j < p->num_neurons; j++) {
            const uint32_t id = p->neurons[j];
            int32_t xyzw[4];
            if (id >= n || r->partition_of[id] != k ||
                n4d_model_neuron_position(model, id, xyzw) != N4D_OK)
                return 0;
            for (int a = 0; a < 4; a++)
                if (xyzw[a] < p->lo[a] || xyzw[a] > p->hi[a])
                    return 0;
            seen++;
        }
    }
    return seen == n; /* each id listed once (partition_of points at one box) */
}

/* Runs STEPS steps on cpu-omp with `threads` threads; the checksum and the
 * wall time. */
static n4d_status run(n4d_model *model, int32_t threads, uint64_t *checksum, double *seconds)
{
    n4d_sim_options opt;
    n4d_sim_options_init(&opt);
    opt.backend = "cpu-omp";
    opt.num_threads = threads;
    opt.record_spikes = 0;
    n4d_sim *sim = NULL;
    n4d_status st = n4d_sim_create(model, &opt, &sim);
    if (st != N4D_OK)
        return st;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    st = n4d_sim_run(sim, STEPS);
    clock_gettime(CLOCK_MONOTONIC, &b);
    *seconds = (double)(b.tv_sec - a.tv_sec) + 1e-9 * (double)(b.tv_nsec - a.tv_nsec);
    *checksum = n4d_sim_checksum(sim);
    printf("  %d thread%s: %" PRIu64 " spikes in %.3f s, checksum %016" PRIx64 "\n",
           (int)n4d_sim_num_threads(sim), n4d_sim_num_threads(sim) > 1 ? "s" : "",
           n4d_sim_total_spikes(sim), *seconds, *checksum);
    n4d_sim_destroy(sim);
    return st;
}

int main(int argc, char **argv)
{
    const char *config = argc > 1 ? argv[1] : "examples/configs/demo.json";
    n4d_context *ctx = NULL;
    n4d_model *model = NULL;
    n4d_partition_result *by_neurons = NULL, *layout = NULL;
    int rc = 1;

    CHECK(n4d_context_create(NULL, &ctx), NULL);
    CHECK(n4d_model_from_json_file(ctx, config, &model), ctx);

    /* The storage layout, before the build: PARTS boxes balanced by
     * neurons + outgoing synapses (delivery work follows the synapses). */
    n4d_layout_options lo;
    n4d_layout_options_init(&lo);
    lo.partitions = PARTS;
    lo.balance_synapses = 1;
    CHECK(n4d_model_set_layout(model, &lo), model);
    CHECK(n4d_model_build(model), model);
    uint32_t shape[4];
    CHECK(n4d_model_lattice(model, shape), model);
    printf("%s: lattice %u x %u x %u x %u, %" PRIu64 " neurons, %" PRIu64 " synapses\n", config,
           shape[0], shape[1], shape[2], shape[3], n4d_model_num_neurons(model),
           n4d_model_num_synapses(model));

    /* 1. create_spatial_partitions + assign_neurons_to_partitions, by neurons. */
    CHECK(n4d_partition_compute(model, PARTS, NULL, &by_neurons), model);
    printf("\n%d boxes balanced by neurons:\n", PARTS);
    print_boxes(by_neurons);

    /* 2. The layout's boxes: what cpu-omp's threads work on. */
    CHECK(n4d_partition_layout(model, &layout), model);
    printf("\nthe layout's %u boxes (balanced by neurons + synapses: cpu-omp's work units):\n",
           layout->num_partitions);
    print_boxes(layout);

    /* 3. The partitions cover the model. */
    const int covered = check_cover(model, by_neurons) && check_cover(model, layout);
    printf("\nevery neuron in exactly one box, inside its ranges: %s\n", covered ? "yes" : "NO");

    /* 4. parallel_neuron_update: the threads run whole boxes; the result does
     * not depend on how many there are. */
    printf("\n%d steps on cpu-omp:\n", STEPS);
    uint64_t c1 = 0, c2 = 0;
    double t1 = 0, t2 = 0;
    CHECK(run(model, 1, &c1, &t1), model);
    CHECK(run(model, 2, &c2, &t2), model);
    printf("  speed-up %.2fx with 2 threads (the machine's load shows here); "
           "checksums %s\n",
           t1 / t2, c1 == c2 ? "equal" : "DIFFER");
    if (!covered || c1 != c2 || layout->num_partitions != PARTS)
        goto fail;
    rc = 0;

fail:
    n4d_partition_result_destroy(by_neurons);
    n4d_partition_result_destroy(layout);
    n4d_model_destroy(model);
    n4d_context_destroy(ctx);
    return rc;
}
