/* The backend vtable and the simulation state shared by all backends.
 * A backend advances the state of an n4d_sim and reports each step's spikes
 * (ids ascending) through n4d__sim_emit_*; everything else (recording,
 * history, checksum, state access) is common code in sim.c. */
#ifndef N4D_BACKEND_H
#define N4D_BACKEND_H

#include "internal.h"
#include "neuron.h"
#include "cuda_api.h"

typedef struct n4d__backend_ops {
    const char *name;
    /* Allocates backend state (sim->backend_state); may fail with a message
     * on the sim. */
    n4d_status (*init)(n4d_sim *sim);
    void (*fini)(n4d_sim *sim);
    /* Advances `steps` steps, emitting every step's spikes in order. */
    n4d_status (*run)(n4d_sim *sim, uint64_t steps);
    /* Device backends copy state to (to_host = 1) or from the host arrays.
     * NULL for host backends. `to_host` may carry the N4D__SYNC_* flags of
     * cuda_api.h: bit 0 the direction (1 = to the host), N4D__SYNC_STATE
     * the neuron state arrays only (not the delay ring), N4D__SYNC_IEXT the
     * external input only; without them (0 / 1) everything is copied. */
    n4d_status (*sync)(n4d_sim *sim, int to_host);
} n4d__backend_ops;

extern const n4d__backend_ops n4d__backend_cpu_ref;
extern const n4d__backend_ops n4d__backend_cpu_omp;
/* cuda: a shim over libn4d_cuda.so, loaded at run time (cuda_loader.c). */
extern const n4d__backend_ops n4d__backend_cuda;

/* ---- CUDA backend library (cuda_loader.c) ------------------------------- */

/* The function table of libn4d_cuda.so, loaded once per process
 * (pthread_once; thread-safe): from $N4D_CUDA_LIBRARY when set (only
 * there), else next to the library or program holding the core, in ../lib
 * from there, then through the default loader path. NULL when it cannot be
 * loaded, with the reason (static string) in *why when why is not NULL. */
const n4d__cuda_api *n4d__cuda_api_get(const char **why);
/* 1 when libn4d_cuda.so can be loaded (n4d_has_feature(N4D_FEATURE_CUDA)). */
int n4d__cuda_available(void);
/* "cuda" (device 0) or "cuda:N": returns 1 with the device (*bad: a
 * malformed number), else 0. */
int n4d__parse_cuda_name(const char *name, int32_t *device, int *bad);
/* Whether CUDA device `device` can run the cuda backend: N4D_OK,
 * N4D_E_NOT_BUILT (no library) or N4D_E_NO_DEVICE (no driver, no device, no
 * such device), with the reason written to msg (cap bytes). */
n4d_status n4d__cuda_check(int32_t device, char *msg, size_t cap);
/* Whether device 0 computes what the CPU computes (cuda_selftest.c: a small
 * network built and simulated on both, compared bit for bit; the verdict is
 * kept for the process, a lack of device memory is retried at the next
 * call). "auto" gives work to the GPU only after it passed. N4D_OK, or a
 * failure with the reason in msg. Thread-safe. Call only after
 * n4d__cuda_check(0) succeeded. */
n4d_status n4d__cuda_self_test(char *msg, size_t cap);

struct n4d_sim {
    n4d__handle hdr;
    n4d_model *model;
    n4d_context *ctx;
    const n4d__backend_ops *ops;
    void *backend_state;
    int32_t threads;
    int32_t device; /* cuda: CUDA device ordinal ("cuda:N"), else 0 */
    uint64_t seed;
    double dt;
    uint64_t step; /* next step to simulate */
    uint64_t n;    /* neurons */

    /* neuron state, structure of arrays */
    float *v, *x1, *x2, *iext;
    int32_t *ref;
    bool iext_dirty; /* iext may be non-zero: the next step must read it */

    /* delay ring buffer: ring[(slot * 2 + ch) * n + i], ch 0 = excitatory;
     * ring_slots = max_delay, slot = step % ring_slots */
    int64_t *ring;
    uint32_t ring_slots;

    /* per run (model->runs) constants, DC inputs and Poisson inputs */
    n4d__pop_rt *runs;
    size_t n_runs;
    n4d__input *dc;
    size_t n_dc;
    n4d__poisson_rt *poisson;
    size_t n_poisson;

    /* sense lookup: per sense, CSR site -> neuron ids over the area's w_lo slice */
    uint64_t **sense_ptr;
    uint32_t **sense_ids;

    /* output (user ids) */
    uint32_t *last_ids;
    uint32_t *sort_tmp; /* n entries when the model has a layout permutation */
    uint64_t last_count;
    bool record;
    uint64_t *rec_steps;
    uint32_t *rec_ids;
    size_t rec_count, rec_cap;
    uint64_t *hist;
    uint32_t hist_steps;
    uint64_t hist_words; /* per step */
    uint64_t total_spikes;
    uint64_t checksum;

    /* Optional observer of every step's spikes (recorders in modules):
     * called at the end of each step with the ids (ascending); a non-OK
     * status stops the run and is returned by it. */
    n4d_status (*observer)(void *user_data, n4d_sim *sim, uint64_t step, const uint32_t *ids,
                           uint64_t count);
    void *observer_data;
    /* Storage module hooks (recorders): observer_fini, when set, is called
     * with observer_data when the sim is destroyed; sampler, when set, is
     * called by n4d_sim_run after each step that completes a multiple of
     * sample_every steps (runs are split there, so the state arrays hold
     * the state at the end of that step). */
    void (*observer_fini)(void *user_data, n4d_sim *sim);
    n4d_status (*sampler)(void *user_data, n4d_sim *sim);
    uint64_t sample_every;

    /* Performance profiler (modules/profile.c): prof is NULL until first
     * enabled; backends test prof_on once per batch and read clocks only
     * when it is set. */
    struct n4d__profile *prof;
    bool prof_on;

    /* Inactive-neuron compression (modules/compress.c): NULL when off, so
     * the backends' test is one pointer per run. */
    struct n4d__compress *cmp;
};

/* ---- inactive-neuron compression (modules/compress.c) -------------------- */

#define N4D__CBLOCK 1024u /* neurons per block (blocks start at their run's first neuron) */
/* Block modes: LIVE updated normally; SKIP compressed, skipped while no input
 * reaches it; WOKEN compressed but updated (input reached it during this
 * batch): restored by n4d__compress_restore_woken before delivery. The
 * update threads read modes and set SKIP -> WOKEN (relaxed atomics: a
 * thread that reads a stale SKIP checks its own neurons' input, and
 * skipping or updating a quiet fixed-point neuron gives the same bits). */
enum { N4D__CB_LIVE = 0, N4D__CB_SKIP = 1, N4D__CB_WOKEN = 2 };

typedef struct n4d__compress {
    size_t *run_block;       /* n_runs + 1: blocks of run r: run_block[r] .. run_block[r+1]-1 */
    uint8_t *run_ok;         /* per run: its blocks may be compressed (no DC/Poisson input) */
    _Atomic uint8_t *mode;   /* per block */
    struct n4d__cblock *blk; /* per block (compress.c) */
    size_t n_blocks;
    uint32_t *block_of;      /* internal index -> block */
    uint32_t threshold, check_every;
    int32_t level;
    bool release;            /* hand pages back (default allocator, synapses not mapped) */
    uint64_t compressed, neurons, bytes_before, bytes_after, released, restores, compressions;
} n4d__compress;

/* Spikes of `step` (internal indices): marks their blocks active and, on a
 * multiple of check_every, compresses the candidates (serial code). */
void n4d__compress_observe(n4d_sim *sim, uint64_t step, const uint32_t *ids, uint64_t count);
/* Restores the WOKEN blocks (serial code, between update and delivery). */
n4d_status n4d__compress_restore_woken(n4d_sim *sim);
/* Restores every block, compression stays on (checkpoints, state writes). */
n4d_status n4d__compress_restore_all(n4d_sim *sim);
/* Restores every block and frees the compression state (sim destruction). */
void n4d__compress_free(n4d_sim *sim);

/* ---- performance profiler (modules/profile.c) ---------------------------- */

typedef struct n4d__prof_stat {
    uint64_t calls, total_ns, min_ns, max_ns;
} n4d__prof_stat;

typedef struct n4d__profile {
    n4d__prof_stat stat[N4D_PROFILE_BUILTIN_COUNT]; /* n4d_profile_section_id */
    uint64_t *stamps;      /* cpu-omp: 8 per thread (one cache line each) */
    int32_t stamp_threads;
    struct n4d__prof_user *user; /* the caller's sections */
    size_t n_user;
} n4d__profile;

static inline void n4d__prof_add(n4d__prof_stat *s, uint64_t ns)
{
    if (s->calls == 0 || ns < s->min_ns)
        s->min_ns = ns;
    if (ns > s->max_ns)
        s->max_ns = ns;
    s->calls++;
    s->total_ns += ns;
}

/* Adds the interval since t0 to a built-in section and returns the time now. */
static inline uint64_t n4d__prof_lap(n4d_sim *sim, int section, uint64_t t0)
{
    const uint64_t t = n4d__now_ns();
    n4d__prof_add(&sim->prof->stat[section], t - t0);
    return t;
}

/* cpu-omp: adds a parallel batch that started at t0 from the threads' stamps
 * (prof->stamps[8k + 0..3]: start, updated, delivery start, delivered):
 * update and delivery get the threads' mean busy time, exchange the rest of
 * the wall time. Returns the time now. */
uint64_t n4d__prof_threads(n4d_sim *sim, int threads, uint64_t t0);
/* Frees the profile (sim destruction). */
void n4d__profile_free(n4d_sim *sim);

/* Spike reporting, once per step in order: begin, any number of chunks of
 * internal indices (together ascending), end. End maps them to user ids,
 * records them and returns an error that stops the run: N4D_E_NOMEM when
 * the recording cannot grow, in which case the step is NOT reported (the
 * step counter stays) and the backend must emit it again, from its own
 * buffers, at the start of the next run; or an observer's error, in which
 * case the step is reported. */
void n4d__sim_emit_begin(n4d_sim *sim, uint64_t step);
void n4d__sim_emit_ids(n4d_sim *sim, const uint32_t *ids, uint64_t count);
n4d_status n4d__sim_emit_end(n4d_sim *sim);

/* Sum of the DC inputs of population `pop` active at `step`. */
float n4d__sim_dc(const n4d_sim *sim, int32_t pop, uint64_t step);

#endif
