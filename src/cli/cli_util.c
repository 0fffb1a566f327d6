/* The n4d program: what its commands share: messages, strict number
 * parsing, loading and building a model, formatting, the progress bar. */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- messages ----------------------------------------------------------- */

void clear_bar(cli_log *lg)
{
    if (lg && lg->bar_visible) {
        fputs("\r\033[K", stderr);
        lg->bar_visible = false;
    }
}

void log_cb(void *user_data, int32_t level, const char *message)
{
    cli_log *lg = user_data;
    clear_bar(lg);
    const char *kind = level <= N4D_LOG_ERROR ? "error" : level == N4D_LOG_WARN ? "warning" : "info";
    fprintf(stderr, "n4d: %s: %s\n", kind, message);
}

static void verrorf(const char *fmt, va_list ap)
{
    fputs("n4d: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void errorf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verrorf(fmt, ap);
    va_end(ap);
}

int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verrorf(fmt, ap);
    va_end(ap);
    fputs("Try 'n4d --help' for more information.\n", stderr);
    return EXIT_USAGE;
}

/* Prints the detail of a failed library call on `handle` (or the status
 * string when there is none). */
void library_error(const void *handle, n4d_status st, const char *what)
{
    const char *detail = n4d_last_error(handle);
    if (detail && detail[0])
        errorf("%s", detail);
    else
        errorf("%s: %s", what, n4d_status_string(st));
}

/* ---- strict number parsing ---------------------------------------------- */

/* Decimal unsigned integer: digits only (no sign, no spaces), no overflow. */
bool parse_u64(const char *s, uint64_t *out)
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

/* A size in bytes: digits with an optional suffix k, M, G, T (powers of
 * 1000) or Ki, Mi, Gi, Ti (powers of 1024), and an optional "B". */
bool parse_size(const char *s, uint64_t *out)
{
    if (!s || *s < '0' || *s > '9')
        return false;
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno == ERANGE || !end)
        return false;
    static const char units[] = "kMGT";
    uint64_t mul = 1;
    const char *u = *end ? strchr(units, *end) : NULL;
    if (u) {
        const bool binary = end[1] == 'i';
        for (const char *k = units; k <= u; k++)
            mul *= binary ? 1024u : 1000u;
        end += binary ? 2 : 1;
    }
    if (*end == 'B')
        end++;
    if (*end != '\0' || (mul > 1 && v > UINT64_MAX / mul))
        return false;
    *out = (uint64_t)v * mul;
    return true;
}

/* Finite decimal number, no leading spaces, nothing after it. */
bool parse_double(const char *s, double *out)
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

bool has_suffix(const char *s, const char *suffix)
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
/* ---- helpers -------------------------------------------------------------- */

double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* "12.3 MiB" style, into buf. */
const char *human_bytes(uint64_t bytes, char *buf, size_t cap)
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
const char *human_seconds(double s, char *buf, size_t cap)
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
int load_exit_code(n4d_status st)
{
    return (st == N4D_E_NOMEM || st == N4D_E_INTERNAL || st == N4D_E_LIMIT) ? EXIT_RUNTIME
                                                                             : EXIT_USAGE;
}

/* Whether `path` starts with the HDF5 signature (a saved model). */
bool is_hdf5(const char *path)
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

/* Creates the context with the log callback and the memory limit. */
int make_context(cli_log *lg, uint64_t memory_limit, n4d_context **ctx_out)
{
    n4d_context_options copt;
    n4d_context_options_init(&copt);
    copt.log = log_cb;
    copt.log_user_data = lg;
    copt.log_level = N4D_LOG_WARN;
    copt.memory_limit = memory_limit;
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
int load_model(const run_opts *o, cli_log *lg, n4d_context **ctx_out, n4d_model **model_out)
{
    n4d_context *ctx = NULL;
    n4d_status st;
    int rc = make_context(lg, o->memory_limit, &ctx);
    if (rc != EXIT_OK)
        return rc;
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

const n4d_comm *cli_comm = NULL;

/* Builds the model (distributed under n4d-mpi); returns the exit status
 * (error printed). */
int build_model(n4d_model *m)
{
    n4d_status st = cli_comm ? n4d_model_set_comm(m, cli_comm) : N4D_OK;
    if (st == N4D_OK)
        st = n4d_model_build(m);
    if (st == N4D_OK)
        return EXIT_OK;
    library_error(m, st, "build");
    return st == N4D_E_CONFIG ? EXIT_USAGE : EXIT_RUNTIME;
}

/* ---- progress bar ------------------------------------------------------- */

void draw_bar(cli_log *lg, uint64_t done, uint64_t total, double dt, double elapsed)
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

