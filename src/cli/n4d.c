/* n4d — the command-line program.
 *
 *   n4d run CONFIG [options]    build and simulate a model, print a summary
 *   n4d resume CHECKPOINT [options]  continue a checkpointed simulation
 *   n4d import FILE -o MODEL.h5      convert a 4D Neural Cognition save
 *   n4d info CONFIG [--seed S] [--threads T]  build a model and describe it
 *   n4d --version | --help
 *
 * CONFIG is a JSON config or a model saved in HDF5 (n4d_model_save, or a
 * checkpoint: its model runs from step 0).
 *
 * Exit status: 0 ok, 1 runtime error (build, simulation, I/O), 2 usage or
 * configuration error. Errors go to stderr as "n4d: error: DETAIL". */
#include "n4d.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

#define DEFAULT_DURATION_MS 1000.0

static const char usage_text[] =
    "usage: n4d run CONFIG [options]                 build and simulate a model\n"
    "       n4d resume CHECKPOINT [options]          continue a checkpointed run\n"
    "       n4d import FILE -o MODEL.h5 [--gzip] [--reference-inhibition]\n"
    "                                                convert a 4D Neural Cognition save\n"
    "       n4d info CONFIG [--seed S] [--threads T] [--layout L] [--partitions N]\n"
    "                [--build-backend B]\n"
    "                                                build a model and describe it\n"
    "       n4d --version                            print the library version\n"
    "       n4d --help                               print this help\n"
    "\n"
    "run options:\n"
    "  --steps N          simulate N steps (N >= 1)\n"
    "  --duration MS      simulate MS milliseconds (default: the config's\n"
    "                     \"duration\", else 1000 ms)\n"
    "  --backend NAME     auto (default), cpu-ref, cpu-omp, cuda or cuda:N\n"
    "  --threads T        threads for the build and the cpu-omp backend (0 = auto)\n"
    "  --seed S           override the config's seed (integer >= 0)\n"
    "  --spikes FILE.csv  write every spike as step,time_ms,neuron_id\n"
    "  --spikes FILE.h5   write the spikes to HDF5 (SONATA /spikes, docs/storage.md)\n"
    "  --record-v IDS     also sample V of these neurons into the .h5 spike file\n"
    "                     (IDS: comma-separated ids and ranges, e.g. 0-9,42)\n"
    "  --every K          sample every K steps (default 1)\n"
    "  --checkpoint FILE  save the full simulation state at the end (HDF5)\n"
    "  --gzip             compress the HDF5 files written\n"
    "  --quiet            no progress bar\n"
    "  --profile          print the time per section (update, delivery, ...) and\n"
    "                     the memory per component after the summary\n"
    "  --compress         compress inactive neurons (defaults of n4d_compress_options)\n"
    "                     and print the compression statistics after the summary\n"
    "\n"
    "run and info options (docs/modules.md, docs/gpu.md):\n"
    "  --build-backend B  where the synapses are generated: cpu (default), auto,\n"
    "                     cuda or cuda:N (the same model, bit for bit)\n"
    "  --layout ORDER     storage order of the neurons: lattice (default) or zorder\n"
    "  --partitions N     store the neurons in N spatial partitions (the cpu-omp work\n"
    "                     units); info prints them with their load balance\n"
    "(resume takes the same options; --steps/--duration count from the\n"
    " checkpoint, --backend/--threads default to the saved ones)\n"
    "\n"
    "CONFIG is a JSON model description (docs/config.md) or a model saved in\n"
    "HDF5 (docs/storage.md); with a saved model --seed sets the run-time seed.\n"
    "Exit status: 0 ok, 1 runtime error, 2 usage or configuration error.\n";

/* ---- messages ----------------------------------------------------------- */

/* State shared with the log callback: whether a progress bar line is on the
 * terminal (it is cleared before a message is printed). */
typedef struct cli_log {
    bool bar_visible;
} cli_log;

static void clear_bar(cli_log *lg)
{
    if (lg && lg->bar_visible) {
        fputs("\r\033[K", stderr);
        lg->bar_visible = false;
    }
}

static void log_cb(void *user_data, int32_t level, const char *message)
{
    cli_log *lg = user_data;
    clear_bar(lg);
    const char *kind = level <= N4D_LOG_ERROR ? "error" : level == N4D_LOG_WARN ? "warning" : "info";
    fprintf(stderr, "n4d: %s: %s\n", kind, message);
}

static void errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void errorf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("n4d: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("n4d: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    fputs("Try 'n4d --help' for more information.\n", stderr);
    return EXIT_USAGE;
}

/* Prints the detail of a failed library call on `handle` (or the status
 * string when there is none). */
static void library_error(const void *handle, n4d_status st, const char *what)
{
    const char *detail = n4d_last_error(handle);
    if (detail && detail[0])
        errorf("%s", detail);
    else
        errorf("%s: %s", what, n4d_status_string(st));
}

/* ---- strict number parsing ---------------------------------------------- */

/* Decimal unsigned integer: digits only (no sign, no spaces), no overflow. */
static bool parse_u64(const char *s, uint64_t *out)
{
    if (!s || *s < '0' || *s > '9')
        return false;
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno == ERANGE || !end || *end != '\0')
        return false;
    *out = (uint64_t)v;
    return true;
}

/* Finite decimal number, no leading spaces, nothing after it. */
static bool parse_double(const char *s, double *out)
{
    if (!s || !*s || *s == ' ' || *s == '\t' || *s == '\n')
        return false;
    errno = 0;
    char *end = NULL;
    double v = strtod(s, &end);
    if (errno == ERANGE || !end || end == s || *end != '\0' || !isfinite(v))
        return false;
    *out = v;
    return true;
}

/* ---- option parsing ------------------------------------------------------ */

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    if (k > n)
        return false;
    for (size_t i = 0; i < k; i++) {
        char c = s[n - k + i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != suffix[i])
            return false;
    }
    return true;
}


typedef struct run_opts {
    const char *config;
    bool have_steps, have_duration, have_seed, have_threads, quiet;
    uint64_t steps;
    double duration;
    const char *backend;
    int32_t threads;
    uint64_t seed;
    const char *spikes;
    const char *record_v; /* neuron ids (h5 spike files) */
    uint64_t every;
    bool have_every;
    const char *checkpoint;
    bool gzip;
    /* modules (docs/modules.md) */
    const char *layout; /* "lattice" or "zorder", NULL: the default */
    const char *build_backend; /* NULL: the library's default (cpu) */
    uint32_t partitions;
    bool have_partitions, profile, compress, is_run;
} run_opts;

/* Matches "--name VALUE" or "--name=VALUE"; advances *i past the value.
 * Returns 1 on a match with *value set, 0 if `arg` is another option, -1 if
 * the value is missing. */
static int match_value(int argc, char **argv, int *i, const char *name, const char **value)
{
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

/* Parses the arguments after the command. `is_run` enables the run-only
 * options. Returns EXIT_OK or EXIT_USAGE (message printed). */
static int parse_opts(int argc, char **argv, bool is_run, run_opts *o)
{
    memset(o, 0, sizeof *o);
    o->is_run = is_run;
    o->backend = NULL; /* auto; resume: the saved backend */
    o->every = 1;
    bool only_positional = false;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        const char *val = NULL;
        int r;
        if (only_positional || arg[0] != '-' || strcmp(arg, "-") == 0) {
            if (o->config)
                return usage_error("unexpected argument '%s' (one CONFIG only)", arg);
            o->config = arg;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            only_positional = true;
            continue;
        }
        if ((r = match_value(argc, argv, &i, "--seed", &val)) != 0) {
            if (r < 0)
                return usage_error("option '--seed' needs a value");
            if (!parse_u64(val, &o->seed))
                return usage_error("--seed: expected an integer >= 0, got '%s'", val);
            o->have_seed = true;
            continue;
        }
        if ((r = match_value(argc, argv, &i, "--threads", &val)) != 0) {
            uint64_t t = 0;
            if (r < 0)
                return usage_error("option '--threads' needs a value");
            if (!parse_u64(val, &t) || t > INT32_MAX)
                return usage_error("--threads: expected an integer >= 0, got '%s'", val);
            o->threads = (int32_t)t;
            o->have_threads = true;
            continue;
        }
        if ((r = match_value(argc, argv, &i, "--build-backend", &val)) != 0) {
            if (r < 0)
                return usage_error("option '--build-backend' needs a value");
            o->build_backend = val; /* checked by the library */
            continue;
        }
        if ((r = match_value(argc, argv, &i, "--layout", &val)) != 0) {
            if (r < 0)
                return usage_error("option '--layout' needs a value");
            if (strcmp(val, "lattice") != 0 && strcmp(val, "zorder") != 0)
                return usage_error("--layout: expected lattice or zorder, got '%s'", val);
            o->layout = val;
            continue;
        }
        if ((r = match_value(argc, argv, &i, "--partitions", &val)) != 0) {
            uint64_t n = 0;
            if (r < 0)
                return usage_error("option '--partitions' needs a value");
            if (!parse_u64(val, &n) || n == 0 || n > UINT32_MAX)
                return usage_error("--partitions: expected an integer >= 1, got '%s'", val);
            o->partitions = (uint32_t)n;
            o->have_partitions = true;
            continue;
        }
        if (is_run) {
            if (strcmp(arg, "--profile") == 0) {
                o->profile = true;
                continue;
            }
            if (strcmp(arg, "--compress") == 0) {
                o->compress = true;
                continue;
            }
            if ((r = match_value(argc, argv, &i, "--steps", &val)) != 0) {
                if (r < 0)
                    return usage_error("option '--steps' needs a value");
                if (!parse_u64(val, &o->steps) || o->steps == 0)
                    return usage_error("--steps: expected an integer >= 1, got '%s'", val);
                o->have_steps = true;
                continue;
            }
            if ((r = match_value(argc, argv, &i, "--duration", &val)) != 0) {
                if (r < 0)
                    return usage_error("option '--duration' needs a value");
                if (!parse_double(val, &o->duration) || !(o->duration > 0))
                    return usage_error("--duration: expected a number of ms > 0, got '%s'", val);
                o->have_duration = true;
                continue;
            }
            if ((r = match_value(argc, argv, &i, "--backend", &val)) != 0) {
                if (r < 0)
                    return usage_error("option '--backend' needs a value");
                if (!val[0])
                    return usage_error("--backend: expected a backend name");
                o->backend = val;
                continue;
            }
            if ((r = match_value(argc, argv, &i, "--spikes", &val)) != 0) {
                if (r < 0)
                    return usage_error("option '--spikes' needs a value");
                if (!val[0])
                    return usage_error("--spikes: expected a file name");
                o->spikes = val;
                continue;
            }
            if (strcmp(arg, "--quiet") == 0 || strcmp(arg, "-q") == 0) {
                o->quiet = true;
                continue;
            }
            if ((r = match_value(argc, argv, &i, "--record-v", &val)) != 0) {
                if (r < 0 || !val[0])
                    return usage_error("option '--record-v' needs neuron ids");
                o->record_v = val;
                continue;
            }
            if ((r = match_value(argc, argv, &i, "--every", &val)) != 0) {
                if (r < 0)
                    return usage_error("option '--every' needs a value");
                if (!parse_u64(val, &o->every) || o->every == 0 || o->every > UINT32_MAX)
                    return usage_error("--every: expected an integer >= 1, got '%s'", val);
                o->have_every = true;
                continue;
            }
            if ((r = match_value(argc, argv, &i, "--checkpoint", &val)) != 0) {
                if (r < 0 || !val[0])
                    return usage_error("option '--checkpoint' needs a file name");
                o->checkpoint = val;
                continue;
            }
            if (strcmp(arg, "--gzip") == 0) {
                o->gzip = true;
                continue;
            }
        }
        return usage_error("unknown option '%s' for 'n4d %s'", arg, is_run ? "run/resume" : "info");
    }
    if (!o->config)
        return usage_error("missing CONFIG (a JSON config or a saved model)");
    if (o->have_steps && o->have_duration)
        return usage_error("--steps and --duration cannot be combined");
    bool h5_spikes = o->spikes && (has_suffix(o->spikes, ".h5") || has_suffix(o->spikes, ".hdf5"));
    if ((o->record_v || o->have_every) && !h5_spikes)
        return usage_error("--record-v and --every need --spikes FILE.h5");
    if (o->have_every && !o->record_v)
        return usage_error("--every needs --record-v");
    return EXIT_OK;
}

/* ---- helpers -------------------------------------------------------------- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static const char *model_name(int32_t model)
{
    switch (model) {
    case N4D_NEURON_LIF: return "lif";
    case N4D_NEURON_LIF_EXP: return "lif_exp";
    case N4D_NEURON_IZHIKEVICH: return "izhikevich";
    case N4D_NEURON_LIF_COND_EXP: return "lif_cond_exp";
    default: return "?";
    }
}

/* "12.3 MiB" style, into buf. */
static const char *human_bytes(uint64_t bytes, char *buf, size_t cap)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)bytes;
    int u = 0;
    while (v >= 1024.0 && u < 4) {
        v /= 1024.0;
        u++;
    }
    if (u == 0)
        snprintf(buf, cap, "%" PRIu64 " B", bytes);
    else
        snprintf(buf, cap, "%.1f %s", v, units[u]);
    return buf;
}

/* "1.2 s", "3 min 04 s" style, into buf. */
static const char *human_seconds(double s, char *buf, size_t cap)
{
    if (!(s >= 0) || s > 1e9)
        snprintf(buf, cap, "?");
    else if (s < 60)
        snprintf(buf, cap, "%.1f s", s);
    else if (s < 3600)
        snprintf(buf, cap, "%d min %02d s", (int)(s / 60), (int)fmod(s, 60));
    else
        snprintf(buf, cap, "%d h %02d min", (int)(s / 3600), (int)fmod(s / 60, 60));
    return buf;
}

/* Exit status for a failed load: configuration problems (and a missing or
 * unreadable file) are usage errors, resource problems are runtime ones. */
static int load_exit_code(n4d_status st)
{
    return (st == N4D_E_NOMEM || st == N4D_E_INTERNAL || st == N4D_E_LIMIT) ? EXIT_RUNTIME
                                                                             : EXIT_USAGE;
}

/* Whether `path` starts with the HDF5 signature (a saved model). */
static bool is_hdf5(const char *path)
{
    static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    unsigned char head[8];
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    return n == sizeof head && memcmp(head, sig, sizeof sig) == 0;
}

/* Creates the context with the log callback. */
static int make_context(cli_log *lg, n4d_context **ctx_out)
{
    n4d_context_options copt;
    n4d_context_options_init(&copt);
    copt.log = log_cb;
    copt.log_user_data = lg;
    copt.log_level = N4D_LOG_WARN;
    n4d_status st = n4d_context_create(&copt, ctx_out);
    if (st != N4D_OK) {
        errorf("cannot create a context: %s", n4d_status_string(st));
        return EXIT_RUNTIME;
    }
    return EXIT_OK;
}

/* Creates the context, loads the config (JSON, or a saved HDF5 model),
 * applies the seed and the build threads. On failure prints the error and
 * returns the exit status. */
static int load_model(const run_opts *o, cli_log *lg, n4d_context **ctx_out, n4d_model **model_out)
{
    n4d_context_options copt;
    n4d_context_options_init(&copt);
    copt.log = log_cb;
    copt.log_user_data = lg;
    copt.log_level = N4D_LOG_WARN;
    n4d_context *ctx = NULL;
    n4d_status st = n4d_context_create(&copt, &ctx);
    if (st != N4D_OK) {
        errorf("cannot create a context: %s", n4d_status_string(st));
        return EXIT_RUNTIME;
    }
    n4d_model *m = NULL;
    const bool saved = is_hdf5(o->config);
    st = saved ? n4d_model_load(ctx, o->config, NULL, &m)
               : n4d_model_from_json_file(ctx, o->config, &m);
    if (st != N4D_OK) {
        library_error(ctx, st, o->config);
        n4d_context_destroy(ctx);
        return load_exit_code(st);
    }
    if (saved) { /* built already: --seed is the run-time seed (cmd_run) */
        if (o->layout || (o->have_partitions && o->is_run)) {
            errorf("%s: --layout and --partitions apply to JSON configs (a saved model keeps "
                   "the layout it was saved with)",
                   o->config);
            n4d_model_destroy(m);
            n4d_context_destroy(ctx);
            return EXIT_USAGE;
        }
        *ctx_out = ctx;
        *model_out = m;
        return EXIT_OK;
    }
    if (o->have_seed && (st = n4d_model_set_seed(m, o->seed)) != N4D_OK) {
        library_error(m, st, "--seed");
        n4d_model_destroy(m);
        n4d_context_destroy(ctx);
        return EXIT_USAGE;
    }
    if (o->have_threads && (st = n4d_model_set_build_threads(m, o->threads)) != N4D_OK) {
        library_error(m, st, "--threads");
        n4d_model_destroy(m);
        n4d_context_destroy(ctx);
        return EXIT_USAGE;
    }
    if (o->build_backend && (st = n4d_model_set_build_backend(m, o->build_backend)) != N4D_OK) {
        library_error(m, st, "--build-backend");
        n4d_model_destroy(m);
        n4d_context_destroy(ctx);
        return EXIT_USAGE;
    }
    if (o->layout || o->have_partitions) {
        n4d_layout_options lo;
        n4d_layout_options_init(&lo);
        lo.order = o->layout && strcmp(o->layout, "zorder") == 0 ? N4D_ORDER_ZORDER
                                                                  : N4D_ORDER_LATTICE;
        lo.partitions = o->partitions;
        if ((st = n4d_model_set_layout(m, &lo)) != N4D_OK) {
            library_error(m, st, "--layout");
            n4d_model_destroy(m);
            n4d_context_destroy(ctx);
            return EXIT_USAGE;
        }
    }
    *ctx_out = ctx;
    *model_out = m;
    return EXIT_OK;
}

/* Builds the model; returns the exit status (error printed). */
static int build_model(n4d_model *m)
{
    n4d_status st = n4d_model_build(m);
    if (st == N4D_OK)
        return EXIT_OK;
    library_error(m, st, "build");
    return st == N4D_E_CONFIG ? EXIT_USAGE : EXIT_RUNTIME;
}

/* ---- progress bar ------------------------------------------------------- */

static void draw_bar(cli_log *lg, uint64_t done, uint64_t total, double dt, double elapsed)
{
    enum { WIDTH = 30 };
    double frac = total ? (double)done / (double)total : 1.0;
    int fill = (int)(frac * WIDTH);
    char bar[WIDTH + 1];
    for (int i = 0; i < WIDTH; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[WIDTH] = '\0';
    char eta[32];
    if (done > 0)
        human_seconds(elapsed * (double)(total - done) / (double)done, eta, sizeof eta);
    else
        snprintf(eta, sizeof eta, "?");
    int percent = !total                      ? 100
                  : total < UINT64_MAX / 100 ? (int)(done * 100 / total)
                                             : (int)(done / (total / 100));
    fprintf(stderr, "\r\033[K[%s] %3d%%  %.1f / %.1f ms  ETA %s", bar, percent,
            (double)done * dt, (double)total * dt, eta);
    fflush(stderr);
    lg->bar_visible = true;
}

/* ---- n4d run --------------------------------------------------------------- */

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

/* n4d run (resume = false) and n4d resume (resume = true). */
static int run_or_resume(int argc, char **argv, bool resume)
{
    run_opts o;
    int rc = parse_opts(argc, argv, true, &o);
    if (rc != EXIT_OK)
        return rc;
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
        if ((rc = make_context(&lg, &ctx)) != EXIT_OK)
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

    /* totals since step 0: a resumed run prints what one uninterrupted run would */
    uint64_t neurons = n4d_model_num_neurons(m);
    uint64_t synapses = n4d_model_num_synapses(m);
    uint64_t spikes = n4d_sim_total_spikes(sim);
    double sim_ms = (double)total * dt, all_ms = (double)n4d_sim_current_step(sim) * dt;
    double rate = neurons ? (double)spikes / (double)neurons / (all_ms / 1000.0) : 0.0;
    int32_t threads = n4d_sim_num_threads(sim);

    printf("backend:          %s (%" PRId32 " thread%s)\n", n4d_sim_backend(sim), threads,
           threads == 1 ? "" : "s");
    printf("neurons:          %" PRIu64 "\n", neurons);
    printf("synapses:         %" PRIu64 "\n", synapses);
    if (resume)
        printf("resumed at:       step %" PRIu64 " (%.10g ms)\n", first_step,
               (double)first_step * dt);
    printf("steps:            %" PRIu64 " (%.10g ms simulated, dt %g ms)\n", total, sim_ms, dt);
    printf("spikes:           %" PRIu64 "\n", spikes);
    printf("mean rate:        %.3f Hz\n", rate);
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
                   "  synapse bytes:  %" PRIu64 " -> %" PRIu64 " compressed, %" PRIu64
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

static int cmd_run(int argc, char **argv)
{
    return run_or_resume(argc, argv, false);
}

static int cmd_resume(int argc, char **argv)
{
    return run_or_resume(argc, argv, true);
}

/* ---- n4d import ------------------------------------------------------------ */

static int cmd_import(int argc, char **argv)
{
    const char *in = NULL, *out = NULL;
    bool gzip = false;
    n4d_import_options io;
    n4d_import_options_init(&io);
    for (int i = 0; i < argc; i++) {
        const char *val = NULL;
        int r;
        if ((r = match_value(argc, argv, &i, "-o", &val)) != 0 ||
            (r = match_value(argc, argv, &i, "--output", &val)) != 0) {
            if (r < 0 || !val[0])
                return usage_error("option '-o' needs a file name");
            out = val;
        } else if (strcmp(argv[i], "--gzip") == 0) {
            gzip = true;
        } else if (strcmp(argv[i], "--reference-inhibition") == 0) {
            io.reference_inhibition = 1;
        } else if (argv[i][0] == '-' && strcmp(argv[i], "-") != 0) {
            return usage_error("unknown option '%s' for 'n4d import'", argv[i]);
        } else if (in) {
            return usage_error("unexpected argument '%s' (one FILE only)", argv[i]);
        } else {
            in = argv[i];
        }
    }
    if (!in)
        return usage_error("missing FILE (a 4D Neural Cognition save, JSON or HDF5)");
    if (!out)
        return usage_error("missing -o MODEL.h5");
    cli_log lg = {false};
    n4d_context *ctx = NULL;
    n4d_model *m = NULL;
    int rc = make_context(&lg, &ctx);
    if (rc != EXIT_OK)
        return rc;
    n4d_status st = n4d_model_import_4dnc(ctx, in, &io, &m);
    if (st != N4D_OK) {
        library_error(ctx, st, in);
        rc = load_exit_code(st);
        goto done;
    }
    n4d_save_options so;
    n4d_save_options_init(&so);
    so.compression = gzip ? N4D_COMPRESSION_GZIP : N4D_COMPRESSION_NONE;
    if ((st = n4d_model_save(m, out, &so)) != N4D_OK) {
        library_error(m, st, out);
        rc = EXIT_RUNTIME;
        goto done;
    }
    printf("imported:     %s\n", in);
    printf("saved:        %s\n", out);
    printf("populations:  %" PRId32 "\n", n4d_model_num_populations(m));
    printf("neurons:      %" PRIu64 "\n", n4d_model_num_neurons(m));
    printf("synapses:     %" PRIu64 "\n", n4d_model_num_synapses(m));
    printf("dt:           %g ms\n", n4d_model_dt(m));
    if (fflush(stdout) != 0) {
        errorf("cannot write the summary: %s", strerror(errno));
        rc = EXIT_RUNTIME;
    }
done:
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
    return rc;
}

/* ---- n4d info -------------------------------------------------------------- */

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

static int cmd_info(int argc, char **argv)
{
    run_opts o;
    int rc = parse_opts(argc, argv, false, &o);
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
        int lm = (int)strlen(model_name(pi.model));
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
               pi.name ? pi.name : "", wmodel, model_name(pi.model), warea,
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

/* ---- main ------------------------------------------------------------------ */

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage_text, stdout);
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
    return usage_error("unknown command '%s' (expected run, resume, import, info, --version or "
                       "--help)",
                       cmd);
}
