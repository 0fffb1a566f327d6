/* The state of a simulation, owned by the core (docs/architecture.md,
 * "Model and overlays"). A sim reads the shared, immutable model and keeps
 * everything it changes here: neuron state, the delay ring, the synapse view
 * (today the model's static synapses; plastic projections will add their
 * weights and variables as overlays), recording, and what modules attach
 * through hooks. Backends advance this state through the ops table of
 * backend.h; modules attach through the hooks declared below and never see
 * each other or a backend. */
#ifndef N4D_SIM_STATE_H
#define N4D_SIM_STATE_H

#include "internal.h"
#include "neuron.h"

struct n4d__backend;
struct n4d__backend_ops;

/* ---- timing (the profiler's built-in sections) ----------------------------- */

typedef struct n4d__prof_stat {
    uint64_t calls, total_ns, min_ns, max_ns;
} n4d__prof_stat;

/* Built-in section times, filled by the core and the backends while a sim's
 * timing is on (a module turns it on: the profiler). NULL when off, so the
 * hot loops test one pointer per batch. */
typedef struct n4d__timing {
    n4d__prof_stat stat[N4D_PROFILE_BUILTIN_COUNT]; /* n4d_profile_section_id */
    uint64_t *stamps;   /* cpu-omp: 8 per thread (one cache line each) */
    int32_t stamp_threads;
} n4d__timing;

static inline void n4d__prof_add(n4d__prof_stat *s, uint64_t ns)
{
    if (s->calls == 0 || ns < s->min_ns)
        s->min_ns = ns;
    if (ns > s->max_ns)
        s->max_ns = ns;
    s->calls++;
    s->total_ns += ns;
}

/* Adds the interval since t0 to a built-in section; returns the time now. */
static inline uint64_t n4d__prof_lap(n4d__timing *t, int section, uint64_t t0)
{
    const uint64_t now = n4d__now_ns();
    n4d__prof_add(&t->stat[section], now - t0);
    return now;
}

/* cpu-omp: adds a parallel batch that started at t0 from the threads' stamps
 * (stamps[8k + 0..3]: start, updated, delivery start, delivered): update
 * and delivery get the threads' mean busy time, exchange the rest of the
 * wall time. Returns the time now. */
static inline uint64_t n4d__prof_threads(n4d__timing *t, int threads, uint64_t t0)
{
    const uint64_t now = n4d__now_ns();
    uint64_t upd = 0, del = 0;
    for (int k = 0; k < threads; k++) {
        upd += t->stamps[8 * k + 1] - t->stamps[8 * k];
        del += t->stamps[8 * k + 3] - t->stamps[8 * k + 2];
    }
    upd /= (uint64_t)threads;
    del /= (uint64_t)threads;
    const uint64_t wall = now - t0;
    n4d__prof_add(&t->stat[N4D_PROFILE_UPDATE], upd);
    n4d__prof_add(&t->stat[N4D_PROFILE_DELIVERY], del);
    n4d__prof_add(&t->stat[N4D_PROFILE_EXCHANGE], wall > upd + del ? wall - upd - del : 0);
    return now;
}

/* ---- skip map (quiet blocks that a backend may leave out) ------------------- */

#define N4D__SKIP_BLOCK 1024u /* neurons per block (blocks start at their run's first neuron) */
/* Block modes: LIVE updated normally; SKIP left out while no input reaches
 * it; WAKING being brought back by one thread; WOKEN back in this batch
 * (updated). A backend that finds input for a SKIP block moves it to WAKING
 * (compare-and-swap), calls wake(), then stores WOKEN; a thread that finds
 * WAKING waits for WOKEN. The module that owns the map turns WOKEN into LIVE
 * in its before-delivery hook (serial code). */
enum { N4D__SKIP_LIVE = 0, N4D__SKIP_SKIP = 1, N4D__SKIP_WAKING = 2, N4D__SKIP_WOKEN = 3 };

typedef struct n4d__skip_map {
    size_t *run_block;     /* n_runs + 1: blocks of run r: run_block[r] .. run_block[r+1]-1 */
    uint8_t *run_ok;       /* per run: its blocks may be skipped (no DC/Poisson input) */
    _Atomic uint8_t *mode; /* per block */
    size_t n_blocks;
    /* Restores block k's state (thread-safe for distinct blocks, no
     * allocation): called by the one thread that moved it to WAKING. */
    void (*wake)(void *data, n4d_sim *sim, size_t k);
    void *data;
} n4d__skip_map;

/* ---- hooks (modules attach here; the core calls them at fixed points) ------ */

/* Why the state is wanted on the host (n4d__sim_to_host). */
enum {
    N4D__HOST_READ = 1,  /* the state is read (state access, checkpoint, sampling) */
    N4D__HOST_WRITE = 2, /* the state is written (it may leave a fixed point) */
    N4D__HOST_INPUT = 4, /* only the external input is added to */
};

/* A module's hooks; any may be NULL. A non-OK status stops the run (or the
 * state access) and is returned by it, with the detail on the sim. */
typedef struct n4d__hook_ops {
    const char *name;
    /* After each step's update, in step order (serial code), with the
     * step's spikes as internal indices (ascending), before they are
     * mapped to user ids; it cannot fail. */
    void (*on_step_internal)(void *data, n4d_sim *sim, uint64_t step, const uint32_t *ids,
                             uint64_t count);
    /* Then with the same spikes as user ids (ascending), once the step is
     * recorded. */
    n4d_status (*on_step)(void *data, n4d_sim *sim, uint64_t step, const uint32_t *ids,
                          uint64_t count);
    /* Between the update and the delivery of a batch (serial code; called
     * by the backends that honour the skip map, N4D__CAP_COMPRESSION). */
    void (*before_delivery)(void *data, n4d_sim *sim);
    /* The host state is complete and about to be used (N4D__HOST_*). */
    n4d_status (*on_host)(void *data, n4d_sim *sim, int why);
    /* When the step count reaches a multiple of the attachment's sync_every
     * (non-zero; runs are split there, so the host state is that of the
     * end of that step): state samples. */
    n4d_status (*at_sync)(void *data, n4d_sim *sim);
    /* When the hook is detached or the sim destroyed: frees `data`. */
    void (*on_detach)(void *data, n4d_sim *sim);
} n4d__hook_ops;

#define N4D__MAX_HOOKS 8

typedef struct n4d__hook {
    const n4d__hook_ops *ops;
    void *data;
    uint64_t sync_every;
} n4d__hook;

/* Attaches a module's hooks (one attachment per ops table). N4D_E_STATE
 * when already attached, N4D_E_LIMIT when the table is full. */
n4d_status n4d__sim_attach(n4d_sim *sim, const n4d__hook_ops *ops, void *data, uint64_t sync_every);
/* The data of an attachment, or NULL when it is not attached. */
void *n4d__sim_hook_data(const n4d_sim *sim, const n4d__hook_ops *ops);
/* Detaches (calling on_detach); a no-op when not attached. */
void n4d__sim_detach(n4d_sim *sim, const n4d__hook_ops *ops);
/* Calls every before_delivery hook (backends that honour the skip map, in
 * serial code between the update and the delivery of a batch; it cannot
 * fail, so a batch is never left half done). */
void n4d__sim_before_delivery(n4d_sim *sim);

/* The host state complete and current for `why` (N4D__HOST_*): the
 * backend's device state copied back (flags: N4D__SYNC_* of cuda_api.h
 * without the direction bit; 0 = everything) and the on_host hooks run. */
n4d_status n4d__sim_to_host(n4d_sim *sim, int why, uint32_t flags);
/* After the host state was written: a device backend takes it back
 * (flags as above). */
n4d_status n4d__sim_to_device(n4d_sim *sim, uint32_t flags);
/* The registry entry of the sim's backend. */
const struct n4d__backend *n4d__sim_backend_entry(const n4d_sim *sim);

/* ---- the synapse view --------------------------------------------------------- */

/* What a backend delivers: the model's CSR, with the weights a sim reads.
 * Static projections read the model's shared arrays; a sim with plastic
 * projections points `weight_q` at its own overlay. */
typedef struct n4d__syn_view {
    const uint64_t *seg_ptr, *seg_off;
    const uint32_t *seg_key, *target;
    const int32_t *weight_q;
    double inv_scale;
} n4d__syn_view;

/* First index in [lo, hi) of sorted `t` whose value is >= x (a row's
 * targets in a thread's range). */
static inline uint64_t n4d__lower_bound(const uint32_t *t, uint64_t lo, uint64_t hi, uint32_t x)
{
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (t[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* ---- the sim ----------------------------------------------------------------- */

struct n4d_sim {
    n4d__handle hdr;
    const n4d_model *model;
    n4d_context *ctx;
    const struct n4d__backend *backend;
    const struct n4d__backend_ops *ops;
    void *backend_state;
    int32_t threads;
    int32_t device; /* the backend's device ordinal ("NAME:N"), else 0 */
    uint64_t seed;
    double dt;
    uint64_t step; /* next step to simulate */
    uint64_t n;    /* neurons */

    /* neuron state, structure of arrays: v, then the auxiliary state
     * variables of the models (x[j] holds state j + 1 of a population's
     * model, registry order); nx arrays are allocated (the most any of the
     * model's populations declares), x[nx..] alias v and are never read */
    float *v, *x[N4D__NX], *iext;
    uint32_t nx;
    int32_t *ref;
    bool iext_dirty; /* iext may be non-zero: the next step must read it */

    /* delay ring buffer (ring.h): ring[(slot * 2 + ch) * n + i], ch 0 =
     * excitatory; ring_slots = max_delay, slot = step % ring_slots; int32
     * sums, the parts beyond int32 in the spill list */
    int32_t *ring;
    uint32_t ring_slots;
    struct n4d__ring_spill *spill;

    n4d__syn_view syn;
    struct n4d__plastic *plastic; /* plastic synapses (plastic.h), NULL without */
    struct n4d__homeo *homeo;     /* homeostatic scaling (homeo.h), NULL without */
    struct n4d__mods *mods;       /* modulator levels (modulators.h), NULL without */
    struct n4d__life *life;       /* cell lifecycle (lifecycle.h), NULL without */

    /* per run (model->runs) constants, DC inputs and Poisson inputs */
    n4d__pop_rt *runs;
    size_t n_runs;
    n4d__input *dc;
    size_t n_dc;
    n4d__poisson_rt *poisson;
    size_t n_poisson;
    struct n4d__poisson_cache *pcache; /* per Poisson input (poisson.h), NULL without cached ones */
    struct n4d__poisson_cdf *pcdf;     /* per Poisson input: its inversion table (poisson.h) */
    size_t n_sparse_cached; /* sparse inputs without block_ring (neuron.h) */
    struct n4d__xin *xin; /* spike and current inputs (inputs.h), NULL without */
    int32_t *wq_own; /* the sim's own weights (n4d_sim_set_weights; syn.weight_q then
                        points here), NULL: the model's */
    size_t n_xin, cap_xin;

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

    /* modules */
    n4d__hook hooks[N4D__MAX_HOOKS];
    uint32_t n_hooks;
    n4d__timing *timing;       /* NULL when off */
    n4d__timing *timing_store; /* the figures, kept while timing is off */
    n4d__skip_map *skip; /* NULL when no block may be skipped */
    n4d_dist_stats dist; /* the "mpi" backend's exchange figures (n4d_sim_dist_stats) */
};

/* Turns the built-in section timing on or off, allocating timing_store
 * (the figures, kept while timing is off) at the first call. N4D_E_NOMEM with the detail on the
 * sim. */
n4d_status n4d__sim_timing_enable(n4d_sim *sim, bool on);

/* Spike reporting, once per step in order: begin, any number of chunks of
 * internal indices (together ascending), end. End maps them to user ids,
 * records them, calls the on_step hooks and returns an error that stops
 * the run: N4D_E_NOMEM when the recording cannot grow, in which case the
 * step is NOT reported (the step counter stays) and the backend must emit
 * it again, from its own buffers, at the start of the next run; or a hook's
 * error, in which case the step is reported. */
void n4d__sim_emit_begin(n4d_sim *sim, uint64_t step);
void n4d__sim_emit_ids(n4d_sim *sim, const uint32_t *ids, uint64_t count);
n4d_status n4d__sim_emit_end(n4d_sim *sim);

/* Sum of the DC inputs of population `pop` active at `step`. */
float n4d__sim_dc(const n4d_sim *sim, int32_t pop, uint64_t step);

#endif
