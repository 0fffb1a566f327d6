/* n4d — the command-line program.
 *
 *   n4d run CONFIG [options]          build and simulate a model, print a summary
 *   n4d resume CHECKPOINT [options]   continue a checkpointed simulation
 *   n4d import FILE -o MODEL.h5       convert a 4D Neural Cognition save
 *   n4d info CONFIG [options]         build a model and describe it
 *   n4d models [--markdown]           list the neuron and synapse models
 *   n4d bench scaling CONFIG | gpu    the guide's benchmarks (cli_bench.c)
 *   n4d --version | --help
 *
 * CONFIG is a JSON config or a model saved in HDF5 (n4d_model_save, or a
 * checkpoint: its model runs from step 0).
 *
 * This file: main, and the option table from which both the parser and the
 * --help text are made (an option is added in one place). */
#include "cli.h"

#include <stdio.h>
#include <string.h>

/* ---- the option setters: check the value, store it ------------------------ */

static int set_seed(run_opts *o, const char *val)
{
    if (!parse_u64(val, &o->seed))
        return usage_error("--seed: expected an integer >= 0, got '%s'", val);
    o->have_seed = true;
    return EXIT_OK;
}

static int set_threads(run_opts *o, const char *val)
{
    uint64_t t = 0;
    if (!parse_u64(val, &t) || t > INT32_MAX)
        return usage_error("--threads: expected an integer >= 0, got '%s'", val);
    o->threads = (int32_t)t;
    o->have_threads = true;
    return EXIT_OK;
}

static int set_memory_limit(run_opts *o, const char *val)
{
    if (!parse_size(val, &o->memory_limit) || o->memory_limit == 0)
        return usage_error("--memory-limit: expected a size in bytes > 0 such as 512M, 8G or "
                           "2Gi, got '%s'",
                           val);
    return EXIT_OK;
}

static int set_build_backend(run_opts *o, const char *val)
{
    o->build_backend = val; /* checked by the library */
    return EXIT_OK;
}

static int set_layout(run_opts *o, const char *val)
{
    if (strcmp(val, "lattice") != 0 && strcmp(val, "zorder") != 0)
        return usage_error("--layout: expected lattice or zorder, got '%s'", val);
    o->layout = val;
    return EXIT_OK;
}

static int set_partitions(run_opts *o, const char *val)
{
    uint64_t n = 0;
    if (!parse_u64(val, &n) || n == 0 || n > UINT32_MAX)
        return usage_error("--partitions: expected an integer >= 1, got '%s'", val);
    o->partitions = (uint32_t)n;
    o->have_partitions = true;
    return EXIT_OK;
}

static int set_steps(run_opts *o, const char *val)
{
    if (!parse_u64(val, &o->steps) || o->steps == 0)
        return usage_error("--steps: expected an integer >= 1, got '%s'", val);
    o->have_steps = true;
    return EXIT_OK;
}

static int set_duration(run_opts *o, const char *val)
{
    if (!parse_double(val, &o->duration) || !(o->duration > 0))
        return usage_error("--duration: expected a number of ms > 0, got '%s'", val);
    o->have_duration = true;
    return EXIT_OK;
}

static int set_backend(run_opts *o, const char *val)
{
    if (!val[0])
        return usage_error("--backend: expected a backend name");
    o->backend = val;
    return EXIT_OK;
}

static int set_spikes(run_opts *o, const char *val)
{
    if (!val[0])
        return usage_error("--spikes: expected a file name");
    o->spikes = val;
    return EXIT_OK;
}

static int set_record_v(run_opts *o, const char *val)
{
    o->record_v = val;
    return EXIT_OK;
}

static int set_every(run_opts *o, const char *val)
{
    if (!parse_u64(val, &o->every) || o->every == 0 || o->every > UINT32_MAX)
        return usage_error("--every: expected an integer >= 1, got '%s'", val);
    o->have_every = true;
    return EXIT_OK;
}

static int set_checkpoint(run_opts *o, const char *val)
{
    o->checkpoint = val;
    return EXIT_OK;
}

static int set_save_model(run_opts *o, const char *val)
{
    if (!val[0])
        return usage_error("--save-model: expected a file name");
    o->save_model = val;
    return EXIT_OK;
}

static int set_record_weights(run_opts *o, const char *val)
{
    if (!val[0])
        return usage_error("--record-weights: expected a projection name");
    o->record_weights = val;
    return EXIT_OK;
}

static int set_output(run_opts *o, const char *val)
{
    o->output = val;
    return EXIT_OK;
}

/* Flags (val is NULL). */
static int set_quiet(run_opts *o, const char *val)
{
    (void)val;
    o->quiet = true;
    return EXIT_OK;
}

static int set_profile(run_opts *o, const char *val)
{
    (void)val;
    o->profile = true;
    return EXIT_OK;
}

static int set_compress(run_opts *o, const char *val)
{
    (void)val;
    o->compress = true;
    return EXIT_OK;
}

static int set_gzip(run_opts *o, const char *val)
{
    (void)val;
    o->gzip = true;
    return EXIT_OK;
}

static int set_reference_inhibition(run_opts *o, const char *val)
{
    (void)val;
    o->reference_inhibition = 1;
    return EXIT_OK;
}

static int set_static_weights(run_opts *o, const char *val)
{
    (void)val;
    o->static_weights = 1;
    return EXIT_OK;
}

/* ---- the option table -------------------------------------------------------- */

typedef struct cli_option {
    const char *name;  /* "--steps"; a value comes as "--steps N" or "--steps=N" */
    const char *alias; /* another spelling ("-q"), or NULL */
    const char *arg;   /* the value's name in the help ("N"); NULL: a flag */
    const char *needs; /* what a missing value is in the message ("a value") */
    bool nonempty;     /* an empty value counts as missing */
    unsigned cmds;     /* CLI_ bits of the commands that accept it */
    int (*set)(run_opts *o, const char *val);
    const char *help;  /* lines separated by '\n' */
} cli_option;

#define RUN_CMDS (CLI_RUN | CLI_RESUME)
#define MODEL_CMDS (CLI_RUN | CLI_RESUME | CLI_INFO)

static const cli_option options[] = {
    {"--steps", NULL, "N", "a value", false, RUN_CMDS, set_steps, "simulate N steps (N >= 1)"},
    {"--duration", NULL, "MS", "a value", false, RUN_CMDS, set_duration,
     "simulate MS milliseconds (default: the config's\n\"duration\", else 1000 ms)"},
    {"--backend", NULL, "NAME", "a value", false, RUN_CMDS, set_backend,
     "auto (default), cpu-ref, cpu-omp, cuda or cuda:N"},
    {"--threads", NULL, "T", "a value", false, MODEL_CMDS, set_threads,
     "threads for the build and the cpu-omp backend (0 = auto)"},
    {"--seed", NULL, "S", "a value", false, MODEL_CMDS, set_seed,
     "override the config's seed (integer >= 0)"},
    {"--spikes", NULL, "FILE", "a value", false, RUN_CMDS, set_spikes,
     "FILE.csv: write every spike as step,time_ms,neuron_id;\n"
     "FILE.h5: write the spikes to HDF5 (SONATA /spikes,\n"
     "docs/storage.md)"},
    {"--record-v", NULL, "IDS", "neuron ids", true, RUN_CMDS, set_record_v,
     "also sample V of these neurons into the .h5 spike file\n"
     "(IDS: comma-separated ids and ranges, e.g. 0-9,42)"},
    {"--record-weights", NULL, "PROJ", "a projection name", true, RUN_CMDS, set_record_weights,
     "also sample the weights of projection (or synapse class)\n"
     "PROJ into the .h5 spike file (/report/weights/PROJ)"},
    {"--every", NULL, "K", "a value", false, RUN_CMDS, set_every,
     "sample V and weights every K steps (default 1)"},
    {"--checkpoint", NULL, "FILE", "a file name", true, RUN_CMDS, set_checkpoint,
     "save the full simulation state at the end (HDF5)"},
    {"--save-model", NULL, "FILE", "a file name", true, RUN_CMDS, set_save_model,
     "save the model with its learned weights at the end (HDF5;\n"
     "n4d run FILE goes on learning from them)"},
    {"--gzip", NULL, NULL, NULL, false, RUN_CMDS | CLI_IMPORT, set_gzip,
     "compress the HDF5 files written"},
    {"--quiet", "-q", NULL, NULL, false, RUN_CMDS, set_quiet, "no progress bar"},
    {"--profile", NULL, NULL, NULL, false, RUN_CMDS, set_profile,
     "print the time per section (update, delivery, ...) and\n"
     "the memory per component after the summary"},
    {"--compress", NULL, NULL, NULL, false, RUN_CMDS, set_compress,
     "compress inactive neurons (defaults of n4d_compress_options)\n"
     "and print the compression statistics after the summary"},
    {"--memory-limit", NULL, "SIZE", "a value", false, MODEL_CMDS | CLI_IMPORT, set_memory_limit,
     "most memory the library may hold (512M, 8G, 2Gi): an\n"
     "allocation beyond it fails, and a model whose synapses\n"
     "would not fit is refused before it is built"},
    {"--build-backend", NULL, "B", "a value", false, MODEL_CMDS, set_build_backend,
     "where the synapses are generated (docs/gpu.md): cpu\n(default), auto, "
     "cuda or cuda:N (the same model, bit for bit)"},
    {"--layout", NULL, "ORDER", "a value", false, MODEL_CMDS, set_layout,
     "storage order of the neurons: lattice (default) or zorder\n(docs/modules.md)"},
    {"--partitions", NULL, "N", "a value", false, MODEL_CMDS, set_partitions,
     "store the neurons in N spatial partitions (the cpu-omp work\n"
     "units); info prints them with their load balance"},
    {"-o", "--output", "MODEL.h5", "a file name", true, CLI_IMPORT, set_output,
     "the n4d model file to write (required)"},
    {"--reference-inhibition", NULL, NULL, NULL, false, CLI_IMPORT, set_reference_inhibition,
     "inhibitory synapses keep their stored weight, as 4D\n"
     "Neural Cognition adds it (default: weight -|w|)"},
    {"--static-weights", NULL, NULL, NULL, false, CLI_IMPORT, set_static_weights,
     "freeze the weights (default: hebb_4dnc on every\n"
     "synapse with the file's plasticity settings, as the\n"
     "reference simulates them)"},
};
#define N_OPTIONS (sizeof options / sizeof options[0])

/* The commands: name, positional argument, what it does; the help lists
 * their options in this order. */
static const struct {
    const char *name, *positional, *summary, *section;
    unsigned bit;
} commands[] = {
    {"run", "CONFIG", "build and simulate a model", "run options", CLI_RUN},
    {"resume", "CHECKPOINT", "continue a checkpointed run", NULL, CLI_RESUME},
    {"import", "FILE", "convert a 4D Neural Cognition save", "import options", CLI_IMPORT},
    {"info", "CONFIG", "build a model and describe it", "info options", CLI_INFO},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

/* ---- the parser ---------------------------------------------------------------- */

/* Matches "--name VALUE" or "--name=VALUE"; advances *i past the value.
 * Returns 1 on a match with *value set, 0 if `arg` is another option, -1 if
 * the value is missing. */
static int match_value(int argc, char **argv, int *i, const char *name, const char **value)
{
    if (!name)
        return 0;
    const char *arg = argv[*i];
    size_t n = strlen(name);
    if (strncmp(arg, name, n) != 0)
        return 0;
    if (arg[n] == '=') {
        *value = arg + n + 1;
        return 1;
    }
    if (arg[n] != '\0')
        return 0;
    if (*i + 1 >= argc)
        return -1;
    *i += 1;
    *value = argv[*i];
    return 1;
}

/* Applies argv[*i] when it is option `op`: 1 applied, 0 not this option,
 * or the usage error's exit status as -EXIT_USAGE. */
static int apply_option(const cli_option *op, int argc, char **argv, int *i, run_opts *o)
{
    const char *arg = argv[*i];
    if (!op->arg) {
        if (strcmp(arg, op->name) != 0 && !(op->alias && strcmp(arg, op->alias) == 0))
            return 0;
        return op->set(o, NULL) == EXIT_OK ? 1 : -EXIT_USAGE;
    }
    const char *val = NULL;
    int r = match_value(argc, argv, i, op->name, &val);
    if (r == 0)
        r = match_value(argc, argv, i, op->alias, &val);
    if (r == 0)
        return 0;
    if (r < 0 || (op->nonempty && !val[0])) {
        usage_error("option '%s' needs %s", op->name, op->needs);
        return -EXIT_USAGE;
    }
    return op->set(o, val) == EXIT_OK ? 1 : -EXIT_USAGE;
}

int parse_opts(int argc, char **argv, unsigned cmd, run_opts *o)
{
    memset(o, 0, sizeof *o);
    o->is_run = (cmd & RUN_CMDS) != 0;
    o->backend = NULL; /* auto; resume: the saved backend */
    o->every = 1;
    const char *positional = cmd == CLI_IMPORT ? "FILE" : "CONFIG";
    bool only_positional = false;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (only_positional || arg[0] != '-' || strcmp(arg, "-") == 0) {
            if (o->config)
                return usage_error("unexpected argument '%s' (one %s only)", arg, positional);
            o->config = arg;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            only_positional = true;
            continue;
        }
        int r = 0;
        for (size_t k = 0; k < N_OPTIONS && r == 0; k++)
            if (options[k].cmds & cmd)
                r = apply_option(&options[k], argc, argv, &i, o);
        if (r < 0)
            return -r;
        if (r == 0)
            return usage_error("unknown option '%s' for 'n4d %s'", arg,
                               cmd & RUN_CMDS ? "run/resume"
                               : cmd == CLI_INFO ? "info"
                                                 : "import");
    }
    if (cmd == CLI_IMPORT) {
        if (!o->config)
            return usage_error("missing FILE (a 4D Neural Cognition save, JSON or HDF5)");
        if (!o->output)
            return usage_error("missing -o MODEL.h5");
        return EXIT_OK;
    }
    if (!o->config)
        return usage_error("missing CONFIG (a JSON config or a saved model)");
    if (o->have_steps && o->have_duration)
        return usage_error("--steps and --duration cannot be combined");
    bool h5_spikes = o->spikes && (has_suffix(o->spikes, ".h5") || has_suffix(o->spikes, ".hdf5"));
    if ((o->record_v || o->record_weights || o->have_every) && !h5_spikes)
        return usage_error("--record-v, --record-weights and --every need --spikes FILE.h5");
    if (o->have_every && !o->record_v && !o->record_weights)
        return usage_error("--every needs --record-v or --record-weights");
    return EXIT_OK;
}

/* ---- --help --------------------------------------------------------------------- */

#define HELP_COL 21 /* where an option's help text starts */

static void print_option(FILE *f, const cli_option *op)
{
    char head[64];
    snprintf(head, sizeof head, "  %s%s%s%s%s", op->name, op->alias ? ", " : "",
             op->alias ? op->alias : "", op->arg ? " " : "", op->arg ? op->arg : "");
    fputs(head, f);
    size_t col = strlen(head);
    if (col + 2 > HELP_COL) {
        fputc('\n', f);
        col = 0;
    }
    for (const char *line = op->help; *line;) {
        const char *end = strchr(line, '\n');
        size_t n = end ? (size_t)(end - line) : strlen(line);
        fprintf(f, "%*s%.*s\n", (int)(HELP_COL - col), "", (int)n, line);
        col = 0;
        line += n + (end ? 1 : 0);
    }
}

static void print_help(FILE *f)
{
    for (size_t c = 0; c < N_COMMANDS; c++) {
        char syn[64];
        snprintf(syn, sizeof syn, "n4d %s %s%s [options]", commands[c].name,
                 commands[c].positional, commands[c].bit == CLI_IMPORT ? " -o MODEL.h5" : "");
        fprintf(f, "%s%-40s %s\n", c ? "       " : "usage: ", syn, commands[c].summary);
    }
    fprintf(f, "       %-40s %s\n", "n4d models [--markdown]",
            "list the neuron models (parameters, defaults, units,");
    fprintf(f, "       %-40s %s\n", "", "state variables) and the synapse models");
    fprintf(f, "       %-40s %s\n", "n4d bench scaling CONFIG [--threads L]",
            "speed-up and efficiency per thread count");
    fprintf(f, "       %-40s %s\n", "   [--steps N|--duration MS] [--reps R]",
            "(L: 1,2,4; cpu-omp; checksums must agree;");
    fprintf(f, "       %-40s %s\n", "   [--seed S]", "wall and CPU time)");
    fprintf(f, "       %-40s %s\n", "n4d bench gpu [--sizes 1e3,1e4,...]",
            "the GPU-vs-CPU LIF update benchmark (CPU");
    fprintf(f, "       %-40s %s\n", "   [--iters N] [--cpu-threads T]",
            "times only where no GPU is usable)");
    fprintf(f, "       %-40s %s\n", "n4d --version", "print the library version");
    fprintf(f, "       %-40s %s\n", "n4d --help", "print this help");
    /* each option once, under the first command that takes it; a section
     * names the options it shares with the ones above */
    unsigned shown = 0;
    for (size_t c = 0; c < N_COMMANDS; c++) {
        if (!commands[c].section)
            continue;
        fprintf(f, "\n%s:\n", commands[c].section);
        char also[256] = "";
        for (size_t k = 0; k < N_OPTIONS; k++) {
            const cli_option *op = &options[k];
            if (!(op->cmds & commands[c].bit))
                continue;
            if (op->cmds & shown) {
                size_t len = strlen(also);
                snprintf(also + len, sizeof also - len, "%s%s", len ? ", " : "", op->name);
            } else {
                print_option(f, op);
            }
        }
        if (also[0])
            fprintf(f, "  (and %s, as above)\n", also);
        shown |= commands[c].bit;
    }
    fputs("\n(resume takes the run options; --steps/--duration count from the\n"
          " checkpoint, --backend/--threads default to the saved ones)\n"
          "\n"
          "CONFIG is a JSON model description (docs/config.md) or a model saved in\n"
          "HDF5 (docs/storage.md); with a saved model --seed sets the run-time seed.\n"
          "Exit status: 0 ok, 1 runtime error, 2 usage or configuration error.\n",
          f);
}

/* ---- main ---------------------------------------------------------------------- */

int cli_main(int argc, char **argv)
{
    if (argc < 2) {
        print_help(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        print_help(stdout);
        return EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0 || strcmp(cmd, "version") == 0) {
        printf("n4d %s\n", n4d_version_string());
        return EXIT_OK;
    }
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc - 2, argv + 2);
    if (strcmp(cmd, "info") == 0)
        return cmd_info(argc - 2, argv + 2);
    if (strcmp(cmd, "resume") == 0)
        return cmd_resume(argc - 2, argv + 2);
    if (strcmp(cmd, "import") == 0)
        return cmd_import(argc - 2, argv + 2);
    if (strcmp(cmd, "models") == 0)
        return cmd_models(argc - 2, argv + 2);
    if (strcmp(cmd, "bench") == 0)
        return cmd_bench(argc - 2, argv + 2);
    return usage_error("unknown command '%s' (expected run, resume, import, info, models, "
                       "bench, --version or --help)",
                       cmd);
}

#ifndef N4D_CLI_NO_MAIN /* n4d-mpi has its own main (src/mpi/n4d_mpi_main.c) */
int main(int argc, char **argv) { return cli_main(argc, argv); }
#endif
