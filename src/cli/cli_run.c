/* n4d run and n4d resume: simulate a model (a JSON config or a saved
 * model) or continue a checkpoint, with spike, voltage and weight recording,
 * checkpoints, learned models, profiling and compression. */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Appends the recorded spikes to the CSV file and clears them. */
static int flush_spikes(n4d_sim *sim, FILE *f, double dt)
{
    const uint64_t *steps = NULL;
    const uint32_t *ids = NULL;
    uint64_t count = 0;
    n4d_status st = n4d_sim_spikes(sim, &steps, &ids, &count);
    if (st != N4D_OK) {
        library_error(sim, st, "spikes");
        return EXIT_RUNTIME;
    }
    for (uint64_t k = 0; k < count; k++)
        fprintf(f, "%" PRIu64 ",%.10g,%" PRIu32 "\n", steps[k], (double)steps[k] * dt, ids[k]);
    st = n4d_sim_clear_spikes(sim);
    if (st != N4D_OK) {
        library_error(sim, st, "spikes");
        return EXIT_RUNTIME;
    }
    return EXIT_OK;
}

/* Parses "0-9,42" (ids and inclusive ranges) into a malloc'ed array. */
static int parse_ids(const char *text, uint64_t **out, uint64_t *count)
{
    uint64_t *ids = NULL, n = 0, cap = 0;
    const char *p = text;
    *out = NULL;
    *count = 0;
    while (*p) {
        char tok[64];
        size_t len = strcspn(p, ",");
        if (len == 0 || len >= sizeof tok) {
            free(ids);
            return usage_error("--record-v: bad id list '%s'", text);
        }
        memcpy(tok, p, len);
        tok[len] = '\0';
        p += len + (p[len] == ',');
        uint64_t a, b;
        char *dash = strchr(tok, '-');
        if (dash) {
            *dash = '\0';
            if (!parse_u64(tok, &a) || !parse_u64(dash + 1, &b) || b < a) {
                free(ids);
                return usage_error("--record-v: bad range in '%s'", text);
            }
        } else if (!parse_u64(tok, &a)) {
            free(ids);
            return usage_error("--record-v: bad id in '%s'", text);
        } else {
            b = a;
        }
        if (b - a >= 10000000u || n + (b - a + 1) > 10000000u) {
            free(ids);
            return usage_error("--record-v: more than 10,000,000 ids");
        }
        for (uint64_t id = a;; id++) {
            if (n == cap) {
                cap = cap ? 2 * cap : 64;
                uint64_t *grown = realloc(ids, cap * sizeof *ids);
                if (!grown) {
                    free(ids);
                    errorf("out of memory");
                    return EXIT_RUNTIME;
                }
                ids = grown;
            }
            ids[n++] = id;
            if (id == b)
                break;
        }
    }
    *out = ids;
    *count = n;
    return EXIT_OK;
}

/* Peak resident memory of this process (VmHWM), bytes; 0 if unknown. */
static uint64_t peak_rss(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return 0;
    char line[256];
    uint64_t kb = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %" SCNu64, &kb) == 1)
            break;
    fclose(f);
    return kb * 1024;
}

/* n4d-mpi: every rank's share, gathered (collective) and printed by rank 0. */
static int print_ranks(const n4d_context *ctx, const n4d_model *m, const n4d_sim *sim)
{
    enum { F = 9 };
    double mine[F];
    n4d_dist_info di = {.struct_size = sizeof di};
    n4d_dist_stats ds = {.struct_size = sizeof ds};
    n4d_memory_stats ms = {.struct_size = sizeof ms};
    if (n4d_model_dist_info(m, &di) != N4D_OK || n4d_sim_dist_stats(sim, &ds) != N4D_OK ||
        n4d_context_memory(ctx, &ms) != N4D_OK) {
        errorf("rank %d: cannot read its distribution figures", (int)cli_comm->rank);
        return EXIT_RUNTIME;
    }
    mine[0] = (double)di.num_neurons;
    mine[1] = (double)di.local_synapses;
    mine[2] = di.build_s;
    mine[3] = (double)ms.total_peak;
    mine[4] = (double)peak_rss();
    mine[5] = ds.compute_s;
    mine[6] = ds.exchange_s;
    mine[7] = (double)ds.bytes_sent;
    mine[8] = (double)ds.bytes_received;
    const int32_t R = cli_comm->size;
    double *all = malloc((size_t)R * sizeof mine);
    if (!all) {
        errorf("out of memory");
        return EXIT_RUNTIME;
    }
    n4d_status st = R > 1 ? cli_comm->allgather(cli_comm->user, mine, sizeof mine, all) : N4D_OK;
    if (R == 1)
        memcpy(all, mine, sizeof mine);
    if (st != N4D_OK) {
        free(all);
        errorf("rank %d: gathering the ranks' figures failed (%s)", (int)cli_comm->rank,
               n4d_status_string(st));
        return EXIT_RUNTIME;
    }
    printf("\nranks (exchanges: %" PRIu64 ", one per batch of min_delay steps):\n"
           "  rank    neurons     synapses  build s  alloc MiB  peak RSS MiB  compute s  "
           "exchange s  sent MiB  recv MiB\n",
           ds.exchanges);
    for (int32_t r = 0; r < R; r++) {
        const double *a = all + (size_t)r * F;
        printf("  %4d %10.0f %12.0f %8.3f %10.1f %13.1f %10.3f %11.3f %9.2f %9.2f\n", (int)r,
               a[0], a[1], a[2], a[3] / 1048576.0, a[4] / 1048576.0, a[5], a[6],
               a[7] / 1048576.0, a[8] / 1048576.0);
    }
    free(all);
    return EXIT_OK;
}

/* n4d run (resume = false) and n4d resume (resume = true). */
static int run_or_resume(int argc, char **argv, bool resume)
{
    run_opts o;
    int rc = parse_opts(argc, argv, resume ? CLI_RESUME : CLI_RUN, &o);
    if (rc != EXIT_OK)
        return rc;
    if (cli_comm) { /* n4d-mpi: what is distributed (docs/distributed.md) */
        if (resume)
            return usage_error("n4d-mpi: resume is not distributed yet (run it with n4d)");
        if (o.record_v || o.checkpoint || o.save_model || o.compress || o.record_weights)
            return usage_error("n4d-mpi: %s is not distributed yet (each rank holds the state "
                               "and synapses of its own neurons only)",
                               o.record_v ? "--record-v" : o.checkpoint ? "--checkpoint"
                               : o.save_model ? "--save-model" : o.compress ? "--compress"
                                              : "--record-weights");
        if (!o.backend)
            o.backend = "mpi";
        if (cli_comm->rank != 0)
            o.spikes = NULL; /* every rank has every spike: rank 0 writes them */
    }
    const bool h5_spikes =
        o.spikes && (has_suffix(o.spikes, ".h5") || has_suffix(o.spikes, ".hdf5"));
    if (resume && o.have_seed)
        return usage_error("--seed cannot be changed when resuming (the checkpoint holds it)");
    if (resume && (o.layout || o.have_partitions))
        return usage_error("--layout and --partitions cannot be changed when resuming");
    uint64_t *rec_ids = NULL, n_rec = 0;
    if (o.record_v && (rc = parse_ids(o.record_v, &rec_ids, &n_rec)) != EXIT_OK)
        return rc;

    cli_log lg = {false};
    n4d_context *ctx = NULL;
    n4d_model *m = NULL;
    n4d_sim *sim = NULL;
    FILE *spk = NULL;
    bool spk_created = false, recording = false;
    n4d_status st;
    double t0 = now_s(), build_s = 0;
    uint64_t first_step = 0;
    if (resume) {
        if ((rc = make_context(&lg, o.memory_limit, &ctx)) != EXIT_OK)
            goto done;
        n4d_resume_options ro;
        n4d_resume_options_init(&ro);
        ro.backend = o.backend;
        ro.num_threads = o.have_threads ? o.threads : 0;
        st = n4d_sim_resume(ctx, o.config, &ro, &m, &sim);
        if (st != N4D_OK) {
            library_error(ctx, st, o.config);
            rc = load_exit_code(st);
            goto done;
        }
        first_step = n4d_sim_current_step(sim);
        build_s = now_s() - t0;
    } else {
        rc = load_model(&o, &lg, &ctx, &m);
        if (rc != EXIT_OK)
            goto done;
    }

    /* Open the output before the (possibly long) run so a bad path fails fast. */
    if (o.spikes && !h5_spikes) {
        spk = fopen(o.spikes, "w");
        if (!spk) {
            errorf("cannot open '%s' for writing: %s", o.spikes, strerror(errno));
            rc = EXIT_RUNTIME;
            goto done;
        }
        spk_created = true;
        fputs("step,time_ms,neuron_id\n", spk);
    }

    if (!resume) {
        rc = build_model(m);
        if (rc != EXIT_OK)
            goto done;
        n4d_sim_options sopt;
        n4d_sim_options_init(&sopt);
        sopt.backend = o.backend ? o.backend : "auto";
        sopt.num_threads = o.have_threads ? o.threads : 0;
        sopt.record_spikes = spk ? 1 : 0;
        sopt.history_steps = 0;
        if (o.have_seed && is_hdf5(o.config))
            sopt.seed = o.seed; /* a saved model: the run-time seed */
        st = n4d_sim_create(m, &sopt, &sim);
        if (st != N4D_OK) {
            library_error(m, st, "simulation");
            rc = (st == N4D_E_INVALID_ARG || st == N4D_E_CONFIG) ? EXIT_USAGE : EXIT_RUNTIME;
            goto done;
        }
        build_s = now_s() - t0;
    } else if (spk) {
        const uint64_t *s0;
        const uint32_t *i0;
        uint64_t c0;
        if (n4d_sim_spikes(sim, &s0, &i0, &c0) != N4D_OK) {
            errorf("%s: the checkpoint was saved without spike recording; use --spikes FILE.h5",
                   o.config);
            rc = EXIT_USAGE;
            goto done;
        }
        n4d_sim_clear_spikes(sim); /* the CSV holds the spikes of this run */
    }
    if (h5_spikes) {
        n4d_record_options ro;
        n4d_record_options_init(&ro);
        ro.compression = o.gzip ? N4D_COMPRESSION_GZIP : N4D_COMPRESSION_NONE;
        ro.report_ids = rec_ids;
        ro.n_report_ids = n_rec;
        ro.report_every = (uint32_t)o.every;
        ro.report_weights = o.record_weights;
        st = n4d_sim_record_open(sim, o.spikes, &ro);
        if (st != N4D_OK) {
            library_error(sim, st, "--spikes");
            rc = st == N4D_E_RANGE || st == N4D_E_INVALID_ARG ? EXIT_USAGE : EXIT_RUNTIME;
            goto done;
        }
        recording = true;
    }

    if (o.profile && ((st = n4d_sim_profile_enable(sim, 1)) != N4D_OK ||
                      (st = n4d_sim_profile_add(sim, resume ? "load" : "build", build_s)) != N4D_OK)) {
        library_error(sim, st, "--profile");
        rc = EXIT_RUNTIME;
        goto done;
    }

    if (o.compress && (st = n4d_sim_compression_enable(sim, NULL)) != N4D_OK) {
        library_error(sim, st, "--compress");
        rc = st == N4D_E_UNSUPPORTED ? EXIT_USAGE : EXIT_RUNTIME;
        goto done;
    }

    double dt = n4d_sim_dt(sim);
    uint64_t total = o.steps;
    if (!o.have_steps) {
        double dur = o.have_duration ? o.duration : n4d_model_default_duration(m);
        if (!(dur > 0))
            dur = DEFAULT_DURATION_MS;
        double s = floor(dur / dt + 0.5);
        if (s > 1e18) {
            errorf("duration %g ms is too long for dt %g ms", dur, dt);
            rc = EXIT_USAGE;
            goto done;
        }
        total = s < 1 ? 1 : (uint64_t)s;
    }

    bool bar = !o.quiet && isatty(STDERR_FILENO);
    uint64_t chunk = total / 100 ? total / 100 : 1;
    double sim_s = 0;
    double loop_t0 = now_s();
    if (bar)
        draw_bar(&lg, 0, total, dt, 0);
    for (uint64_t done_steps = 0; done_steps < total;) {
        uint64_t n = total - done_steps < chunk ? total - done_steps : chunk;
        double c0 = now_s();
        st = n4d_sim_run(sim, n);
        sim_s += now_s() - c0;
        if (st != N4D_OK) {
            clear_bar(&lg);
            library_error(sim, st, "simulation");
            rc = EXIT_RUNTIME;
            goto done;
        }
        done_steps += n;
        if (spk && (rc = flush_spikes(sim, spk, dt)) != EXIT_OK) {
            clear_bar(&lg);
            goto done;
        }
        if (bar)
            draw_bar(&lg, done_steps, total, dt, now_s() - loop_t0);
    }
    clear_bar(&lg);

    if (spk) {
        int bad = ferror(spk);
        int cerr = fclose(spk);
        spk = NULL;
        if (bad || cerr != 0) {
            errorf("error writing '%s'", o.spikes);
            rc = EXIT_RUNTIME;
            goto done;
        }
    }
    if (recording) {
        recording = false;
        if ((st = n4d_sim_record_close(sim)) != N4D_OK) {
            library_error(sim, st, "--spikes");
            rc = EXIT_RUNTIME;
            goto done;
        }
    }
    if (o.checkpoint) {
        n4d_save_options so;
        n4d_save_options_init(&so);
        so.compression = o.gzip ? N4D_COMPRESSION_GZIP : N4D_COMPRESSION_NONE;
        if ((st = n4d_sim_checkpoint(sim, o.checkpoint, &so)) != N4D_OK) {
            library_error(sim, st, "--checkpoint");
            rc = EXIT_RUNTIME;
            goto done;
        }
    }

    if (o.save_model) {
        n4d_save_options so;
        n4d_save_options_init(&so);
        so.compression = o.gzip ? N4D_COMPRESSION_GZIP : N4D_COMPRESSION_NONE;
        if ((st = n4d_sim_save_model(sim, o.save_model, &so)) != N4D_OK) {
            library_error(sim, st, "--save-model");
            rc = EXIT_RUNTIME;
            goto done;
        }
    }

    /* totals since step 0: a resumed run prints what one uninterrupted run would */
    uint64_t neurons = n4d_model_num_neurons(m);
    uint64_t synapses = n4d_model_num_synapses(m);
    uint64_t spikes = n4d_sim_total_spikes(sim);
    double sim_ms = (double)total * dt, all_ms = (double)n4d_sim_current_step(sim) * dt;
    double rate = neurons ? (double)spikes / (double)neurons / (all_ms / 1000.0) : 0.0;
    int32_t threads = n4d_sim_num_threads(sim);

    printf("backend:          %s (%" PRId32 " thread%s)\n", n4d_sim_backend(sim), threads,
           threads == 1 ? "" : "s");
    if (cli_comm)
        printf("ranks:            %" PRId32 "\n", cli_comm->size);
    printf("neurons:          %" PRIu64 "\n", neurons);
    printf("synapses:         %" PRIu64 "\n", synapses);
    if (resume)
        printf("resumed at:       step %" PRIu64 " (%.10g ms)\n", first_step,
               (double)first_step * dt);
    printf("steps:            %" PRIu64 " (%.10g ms simulated, dt %g ms)\n", total, sim_ms, dt);
    printf("spikes:           %" PRIu64 "\n", spikes);
    printf("mean rate:        %.3f Hz\n", rate);
    bool life = false; /* a cell lifecycle in some population */
    for (int32_t p = 0; p < n4d_model_num_populations(m) && !life; p++) {
        n4d_population_info pi = {.struct_size = sizeof pi};
        n4d_lifecycle lc;
        life = n4d_model_population_info(m, p, &pi) == N4D_OK &&
               n4d_model_get_population_lifecycle(m, pi.name, &lc) == N4D_OK && lc.enable_death;
    }
    if (life) {
        uint64_t deaths = 0, births = 0;
        n4d_sim_lifecycle_counts(sim, &deaths, &births);
        printf("lifecycle:        %" PRIu64 " deaths, %" PRIu64 " births\n", deaths, births);
    }
    if (resume)
        printf("load time:        %.3f s\n", build_s);
    else
        printf("build time:       %.3f s (%s)\n", build_s, n4d_model_build_backend(m));
    printf("simulation time:  %.3f s\n", sim_s);
    printf("real-time factor: %.3f\n", sim_s / (sim_ms / 1000.0));
    printf("checksum:         %016" PRIx64 "\n", n4d_sim_checksum(sim));
    if (o.compress) {
        n4d_compress_stats cs;
        cs.struct_size = sizeof cs;
        if (n4d_sim_compression_stats(sim, &cs) == N4D_OK)
            printf("\ncompression:      %" PRIu64 " of %" PRIu64 " blocks compressed (%" PRIu64
                   " neurons)\n"
                   "  state bytes:    %" PRIu64 " -> %" PRIu64 " compressed, %" PRIu64
                   " handed back\n"
                   "  compressions:   %" PRIu64 ", restores %" PRIu64 "\n",
                   cs.blocks_compressed, cs.blocks, cs.neurons_compressed, cs.bytes_before,
                   cs.bytes_after, cs.bytes_saved_real, cs.compressions, cs.restores);
    }
    if (o.profile) { /* the section table and the bytes per component */
        char text[8192];
        n4d_mem_snapshot ms;
        ms.struct_size = sizeof ms;
        if (n4d_sim_profile_report(sim, text, sizeof text, NULL) == N4D_OK)
            printf("\nprofile (%s):\n%s", resume ? "load, then the run" : "build, then the run",
                   text);
        if (n4d_memory_snapshot(ctx, "end of run", &ms) == N4D_OK &&
            n4d_memory_report(&ms, 1, text, sizeof text, NULL) == N4D_OK)
            printf("\nmemory:\n%s", text);
    }
    if (cli_comm && (rc = print_ranks(ctx, m, sim)) != EXIT_OK)
        goto done;
    if (fflush(stdout) != 0) {
        errorf("cannot write the summary: %s", strerror(errno));
        rc = EXIT_RUNTIME;
    }

done:
    if (spk)
        fclose(spk);
    if (rc != EXIT_OK && spk_created)
        remove(o.spikes); /* no partial spike file after a failure */
    if (recording && sim)
        n4d_sim_record_close(sim); /* the file of a failed run is still written */
    n4d_sim_destroy(sim);
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
    free(rec_ids);
    return rc;
}


int cmd_run(int argc, char **argv)
{
    return run_or_resume(argc, argv, false);
}

int cmd_resume(int argc, char **argv)
{
    return run_or_resume(argc, argv, true);
}
