/* The n4d program (not part of the library): what its files share.
 *   cli.c         main, the option table, the option parser and --help
 *   cli_util.c    messages, number parsing, loading and building a model
 *   cli_run.c     n4d run, n4d resume
 *   cli_info.c    n4d info
 *   cli_import.c  n4d import
 *   cli_bench.c   n4d bench scaling, n4d bench gpu
 * Exit status: 0 ok, 1 runtime error (build, simulation, I/O), 2 usage or
 * configuration error. Errors go to stderr as "n4d: error: DETAIL". */
#ifndef N4D_CLI_H
#define N4D_CLI_H

#include "n4d.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

#define DEFAULT_DURATION_MS 1000.0

/* The commands, as bits: the option table says which accept an option. */
enum { CLI_RUN = 1, CLI_RESUME = 2, CLI_INFO = 4, CLI_IMPORT = 8 };

/* Options of every command (each fills the fields of the options it
 * accepts; the rest stay zero). */
typedef struct run_opts {
    const char *config; /* the positional argument: CONFIG, CHECKPOINT or FILE */
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
    const char *save_model;     /* the learned weights as a model (HDF5) */
    const char *record_weights; /* a projection whose weights go into the .h5 spike file */
    bool gzip;
    /* modules (docs/modules.md) */
    const char *layout;        /* "lattice" or "zorder", NULL: the default */
    const char *build_backend; /* NULL: the library's default (cpu) */
    uint32_t partitions;
    bool have_partitions, profile, compress, is_run;
    /* import */
    const char *output;
    int32_t reference_inhibition;
    int32_t static_weights;
    uint64_t memory_limit; /* bytes; 0: none (n4d_context_options.memory_limit) */
} run_opts;

/* Parses the arguments after the command `cmd` (one CLI_ bit) with the
 * option table (cli.c) and checks their combinations. Returns EXIT_OK or
 * EXIT_USAGE (message printed). */
int parse_opts(int argc, char **argv, unsigned cmd, run_opts *o);

/* The commands (cli.c): main of n4d, and of n4d-mpi after MPI_Init. */
int cli_main(int argc, char **argv);

/* ---- cli_util.c ---- */

/* n4d-mpi (src/mpi/n4d_mpi_main.c): the communicator every model is built
 * with (build_model) and the default backend "mpi"; NULL in n4d. */
extern const n4d_comm *cli_comm;

/* State shared with the log callback: whether a progress bar line is on the
 * terminal (it is cleared before a message is printed). */
typedef struct cli_log {
    bool bar_visible;
} cli_log;

void clear_bar(cli_log *lg);
/* The context's log callback (user_data: a cli_log). */
void log_cb(void *user_data, int32_t level, const char *message);
/* "n4d: error: ..." on stderr. */
void errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* errorf plus the --help hint; returns EXIT_USAGE. */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints the detail of a failed library call on `handle` (or the status
 * string when there is none). */
void library_error(const void *handle, n4d_status st, const char *what);
/* Decimal unsigned integer: digits only (no sign, no spaces), no overflow. */
bool parse_u64(const char *s, uint64_t *out);
/* A size in bytes: "512M", "8G", "2Gi", "1000000" (k, M, G, T: powers of
 * 1000; Ki, Mi, Gi, Ti: of 1024; an optional B). */
bool parse_size(const char *s, uint64_t *out);
/* Finite decimal number, no leading spaces, nothing after it. */
bool parse_double(const char *s, double *out);
/* Whether s ends with suffix (lower case), ignoring ASCII case. */
bool has_suffix(const char *s, const char *suffix);
double now_s(void);
/* "12.3 MiB" style, into buf. */
const char *human_bytes(uint64_t bytes, char *buf, size_t cap);
/* "1.2 s", "3 min 04 s" style, into buf. */
const char *human_seconds(double s, char *buf, size_t cap);
/* Exit status for a failed load: configuration problems (and a missing or
 * unreadable file) are usage errors, resource problems are runtime ones. */
int load_exit_code(n4d_status st);
/* Whether `path` starts with the HDF5 signature (a saved model). */
bool is_hdf5(const char *path);
/* Creates the context with the log callback and the memory limit (bytes,
 * 0: none). */
int make_context(cli_log *lg, uint64_t memory_limit, n4d_context **ctx_out);
/* Creates the context, loads the config (JSON, or a saved HDF5 model),
 * applies the seed, the build threads, backend and layout. On failure
 * prints the error and returns the exit status. */
int load_model(const run_opts *o, cli_log *lg, n4d_context **ctx_out, n4d_model **model_out);
/* Builds the model; returns the exit status (error printed). */
int build_model(n4d_model *m);
void draw_bar(cli_log *lg, uint64_t done, uint64_t total, double dt, double elapsed);

/* ---- the commands: arguments after the command name; exit status ---- */
int cmd_run(int argc, char **argv);
int cmd_resume(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_import(int argc, char **argv);
/* n4d models [--markdown] (cli_models.c). */
int cmd_models(int argc, char **argv);
/* n4d bench scaling CONFIG [...] | n4d bench gpu [...] (cli_bench.c). */
int cmd_bench(int argc, char **argv);

#endif
