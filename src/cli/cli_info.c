/* n4d info: builds a model and describes it (lattice, populations,
 * projections, memory, and with --partitions the spatial partitions). */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* --partitions N: the boxes of the recursive coordinate bisection (the
 * layout's partitions, the cpu-omp work units) and their load balance. */
static int print_partitions(const n4d_model *m, uint32_t n)
{
    n4d_partition_result *r = NULL;
    n4d_status st = n4d_partition_compute(m, n, NULL, &r);
    if (st != N4D_OK) {
        library_error(m, st, "--partitions");
        return st == N4D_E_RANGE ? EXIT_USAGE : EXIT_RUNTIME;
    }
    printf("partitions:   %" PRIu32 " (recursive coordinate bisection, balanced by neurons)\n",
           r->num_partitions);
    printf("  %6s  %10s  %12s  %-13s %-13s %-13s %-13s\n", "#", "neurons", "synapses", "x", "y",
           "z", "w");
    for (uint32_t k = 0; k < r->num_partitions; k++) {
        const n4d_partition *p = &r->partitions[k];
        char rng[4][32];
        for (int a = 0; a < 4; a++)
            snprintf(rng[a], sizeof rng[a], "%" PRId32 "-%" PRId32, p->lo[a], p->hi[a]);
        printf("  %6" PRIu32 "  %10" PRIu64 "  %12" PRIu64 "  %-13s %-13s %-13s %-13s\n", k,
               p->num_neurons, p->num_synapses, rng[0], rng[1], rng[2], rng[3]);
    }
    const n4d_balance_stats *b[2] = {&r->neurons, &r->synapses};
    const char *what[2] = {"neurons", "synapses"};
    for (int i = 0; i < 2; i++)
        printf("  %-9s per partition: mean %.1f, std %.2f, min %.0f, max %.0f, imbalance %.4f\n",
               what[i], b[i]->mean, b[i]->std, b[i]->min, b[i]->max, b[i]->imbalance);
    n4d_partition_result_destroy(r);
    return EXIT_OK;
}

int cmd_info(int argc, char **argv)
{
    run_opts o;
    int rc = parse_opts(argc, argv, CLI_INFO, &o);
    if (rc != EXIT_OK)
        return rc;
    cli_log lg = {false};
    n4d_context *ctx = NULL;
    n4d_model *m = NULL;
    rc = load_model(&o, &lg, &ctx, &m);
    if (rc != EXIT_OK)
        return rc;
    rc = build_model(m);
    if (rc != EXIT_OK)
        goto done;

    uint32_t shape[4] = {0, 0, 0, 0};
    uint32_t dmin = 0, dmax = 0;
    uint64_t mem[N4D_MEM_TAG_COUNT] = {0};
    n4d_status st;
    if ((st = n4d_model_lattice(m, shape)) != N4D_OK ||
        (st = n4d_model_delay_range(m, &dmin, &dmax)) != N4D_OK ||
        (st = n4d_model_memory(m, mem)) != N4D_OK) {
        library_error(m, st, "info");
        rc = EXIT_RUNTIME;
        goto done;
    }
    double dt = n4d_model_dt(m);
    uint64_t neurons = n4d_model_num_neurons(m);
    uint64_t synapses = n4d_model_num_synapses(m);
    uint64_t sites = (uint64_t)shape[0] * shape[1] * shape[2] * shape[3];

    printf("config:       %s\n", o.config);
    printf("lattice:      %" PRIu32 " x %" PRIu32 " x %" PRIu32 " x %" PRIu32 " (%" PRIu64
           " sites)\n",
           shape[0], shape[1], shape[2], shape[3], sites);
    printf("dt:           %g ms\n", dt);
    printf("seed:         %" PRIu64 "\n", n4d_model_seed(m));

    int32_t npop = n4d_model_num_populations(m);
    printf("populations:  %" PRId32 "\n", npop);
    int wname = 4, warea = 4, wmodel = 5;
    for (int32_t i = 0; i < npop; i++) {
        n4d_population_info pi;
        memset(&pi, 0, sizeof pi);
        pi.struct_size = sizeof pi;
        if (n4d_model_population_info(m, i, &pi) != N4D_OK)
            continue;
        int ln = pi.name ? (int)strlen(pi.name) : 0, la = pi.area ? (int)strlen(pi.area) : 0;
        int lm = (int)strlen(pi.model_name);
        wname = ln > wname ? ln : wname;
        warea = la > warea ? la : warea;
        wmodel = lm > wmodel ? lm : wmodel;
    }
    if (npop > 0)
        printf("  %-*s  %-*s  %-*s  %10s  %10s\n", wname, "name", wmodel, "model", warea, "area",
               "neurons", "first id");
    for (int32_t i = 0; i < npop; i++) {
        n4d_population_info pi;
        memset(&pi, 0, sizeof pi);
        pi.struct_size = sizeof pi;
        if ((st = n4d_model_population_info(m, i, &pi)) != N4D_OK) {
            library_error(m, st, "population info");
            rc = EXIT_RUNTIME;
            goto done;
        }
        printf("  %-*s  %-*s  %-*s  %10" PRIu64 "  %10" PRIu64 "\n", wname,
               pi.name ? pi.name : "", wmodel, pi.model_name, warea,
               pi.area ? pi.area : "", pi.count, pi.first);
    }
    printf("projections:  %" PRId32 "\n", n4d_model_num_projections(m));
    printf("neurons:      %" PRIu64 "\n", neurons);
    printf("synapses:     %" PRIu64, synapses);
    if (neurons)
        printf(" (%.1f per neuron)", (double)synapses / (double)neurons);
    printf("\n");
    printf("delays:       %" PRIu32 "..%" PRIu32 " steps (%g..%g ms)\n", dmin, dmax,
           (double)dmin * dt, (double)dmax * dt);

    uint64_t total = 0;
    for (int t = 0; t < N4D_MEM_TAG_COUNT; t++)
        total += mem[t];
    char buf[32];
    printf("memory:\n");
    for (int t = 0; t < N4D_MEM_TAG_COUNT; t++) {
        if (mem[t] == 0)
            continue;
        printf("  %-12s %12s", n4d_mem_tag_name(t), human_bytes(mem[t], buf, sizeof buf));
        if (t == N4D_MEM_SYNAPSES && synapses)
            printf("  (%.2f bytes/synapse)", (double)mem[t] / (double)synapses);
        printf("\n");
    }
    printf("  %-12s %12s", "total", human_bytes(total, buf, sizeof buf));
    if (synapses)
        printf("  (%.2f bytes/synapse)", (double)total / (double)synapses);
    printf("\n");
    if (o.have_partitions && (rc = print_partitions(m, o.partitions)) != EXIT_OK)
        goto done;
    if (fflush(stdout) != 0) {
        errorf("cannot write the description: %s", strerror(errno));
        rc = EXIT_RUNTIME;
    }

done:
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
    return rc;
}
