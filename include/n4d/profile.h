/** \file
 * n4d — memory and performance profilers.
 *
 * Memory: snapshots of the bytes per component taken from the context's
 * tagged allocator (every byte the library allocates carries a tag, see
 * n4d_mem_tag), differences of two snapshots, a text report, and
 * n4d_optimize_memory / n4d_sim_optimize_memory, which apply what really
 * changes the allocated bytes and say what they did.
 *
 * Performance: a per-simulation table of named sections (build, run, neuron
 * update, delivery, exchange, recording, input, and the caller's own) with
 * calls, total, mean, min and max time. Off by default; when off the
 * backends test one flag per batch of steps and read no clock.
 *
 * Thread safety: snapshots, diffs and reports are plain data (the snapshot
 * reads the context's atomic counters and may be taken from any thread). The
 * profile functions of a sim follow the sim's rule: one thread at a time. The
 * library prints nothing: reports are written into the caller's buffer.
 * See docs/modules.md. */
#ifndef N4D_PROFILE_H
#define N4D_PROFILE_H

#include "sim.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- memory ----------------------------------------------------------- */

/** Bytes per allocation tag at one moment. */
typedef struct n4d_mem_snapshot {
    uint32_t struct_size;               /**< sizeof(n4d_mem_snapshot) */
    char label[48];                     /**< caller's label (truncated), "" if none */
    uint64_t bytes[N4D_MEM_TAG_COUNT];  /**< current bytes per tag (n4d_mem_tag) */
    uint64_t total;                     /**< sum of bytes[] */
    uint64_t peak_total;                /**< the context's peak total so far */
} n4d_mem_snapshot;

/** Takes a snapshot of the context's current bytes per tag (all its models
 * and sims). `label` may be NULL. Set `out->struct_size` first (an older,
 * smaller struct receives the fields it has, as for every output struct). */
N4D_API n4d_status n4d_memory_snapshot(const n4d_context *ctx, const char *label,
                                       n4d_mem_snapshot *out);

/** Change from one snapshot to another (after - before), per tag. */
typedef struct n4d_mem_diff {
    uint32_t struct_size;             /**< sizeof(n4d_mem_diff) */
    int64_t bytes[N4D_MEM_TAG_COUNT]; /**< change of the bytes allocated, per n4d_mem_tag */
    int64_t total;                    /**< change of the bytes allocated, all tags */
} n4d_mem_diff;

/** Fills `out` (set out->struct_size first) with after - before. */
N4D_API n4d_status n4d_memory_diff(const n4d_mem_snapshot *before, const n4d_mem_snapshot *after,
                                   n4d_mem_diff *out);

/** Writes a table of `n` >= 1 snapshots (full structs of this version)
 * into buf (one row per tag, one
 * column per snapshot in MiB, plus a "change" column, last - first, when
 * n >= 2), NUL-terminated and truncated to `cap` bytes (buf may be NULL when
 * cap is 0). *len (may be NULL) receives the length of the whole report, so
 * a call with cap 0 sizes the buffer, as snprintf does. */
N4D_API n4d_status n4d_memory_report(const n4d_mem_snapshot *snapshots, size_t n, char *buf,
                                     size_t cap, size_t *len);

/** Flags of n4d_optimize_memory and n4d_sim_optimize_memory. */
enum {
    /** Model, before the build: store neurons along a 4D Morton curve
     * (n4d_layout_options.order = N4D_ORDER_ZORDER, other layout fields
     * kept). It saves no bytes (the id maps cost 8 bytes per neuron unless
     * the layout already has partitions); it makes synapse delivery touch
     * nearby memory. Skipped on a built model. */
    N4D_OPTIMIZE_ZORDER = 1u << 0,
    /** Release unused capacity: model: the description arrays (areas,
     * populations, projections, inputs, senses; only while no simulation of
     * the model exists); sim: the spike recording buffers, cut to the
     * recorded spikes (they grow again when needed). */
    N4D_OPTIMIZE_SHRINK = 1u << 1,
    /** Sim only: release the spike-history window (history_steps x neurons
     * / 8 bytes); n4d_sim_spiked_at answers N4D_E_RANGE afterwards. */
    N4D_OPTIMIZE_HISTORY = 1u << 2,
    /** Sim only: enable inactive-neuron compression with default options
     * (include/n4d/compress.h) if it is off; silent blocks are compressed at
     * the following checks while the sim runs, so the bytes show later in
     * n4d_sim_compression_stats, not in this call's report. Skipped where
     * compression is not available (a backend without it: cpu-ref, cuda). */
    N4D_OPTIMIZE_COMPRESS = 1u << 3,
    N4D_OPTIMIZE_ALL = 0xfu
};

/** What an optimisation did. Bytes are the context's totals (n4d_mem_tag
 * accounting) before and after, so allocations by other threads on the same
 * context during the call would show in them. */
typedef struct n4d_memory_optimization {
    uint32_t struct_size;   /**< sizeof(n4d_memory_optimization) */
    uint64_t initial_bytes; /**< context total before the call */
    uint64_t final_bytes;   /**< context total after the call */
    int64_t bytes_saved;    /**< initial - final (negative if it grew) */
    uint32_t applied;       /**< flags applied */
    uint32_t skipped;       /**< flags requested but not applicable now */
    char description[512];  /**< what was applied and why anything was skipped */
} n4d_memory_optimization;

/** Applies the model flags (N4D_OPTIMIZE_ZORDER, N4D_OPTIMIZE_SHRINK) to
 * `model`; sim-only flags are listed as skipped. `report` may be NULL; if
 * not, set its struct_size (a smaller, older struct gets what it has).
 * N4D_E_INVALID_ARG for unknown flags. A flag that cannot apply now (ZORDER
 * and SHRINK after the build: a built model is immutable) is skipped, not
 * an error. Before the build, not thread-safe with other calls on the
 * model. */
N4D_API n4d_status n4d_optimize_memory(n4d_model *model, uint32_t flags,
                                       n4d_memory_optimization *report);

/** Applies the sim flags (N4D_OPTIMIZE_SHRINK, N4D_OPTIMIZE_HISTORY,
 * N4D_OPTIMIZE_COMPRESS) to
 * `sim`; ZORDER is listed as skipped (the model is built). */
N4D_API n4d_status n4d_sim_optimize_memory(n4d_sim *sim, uint32_t flags,
                                           n4d_memory_optimization *report);

/* ---- performance ------------------------------------------------------ */

/** Built-in sections, in the order n4d_sim_profile_get lists them (the
 * caller's sections follow). */
typedef enum n4d_profile_section_id {
    N4D_PROFILE_BUILD = 0,     /**< the model build, when the library timed it */
    N4D_PROFILE_RUN = 1,       /**< n4d_sim_run / n4d_sim_step calls, wall time */
    N4D_PROFILE_UPDATE = 2,    /**< neuron update, with the DC and Poisson input drawn in it */
    N4D_PROFILE_DELIVERY = 3,  /**< spike delivery into the delay buffers */
    N4D_PROFILE_EXCHANGE = 4,  /**< cpu-omp: thread start and synchronisation (waiting) */
    N4D_PROFILE_RECORDING = 5, /**< spike reporting: id mapping, checksum, history,
                                    recording and recorder modules */
    N4D_PROFILE_INPUT = 6,     /**< caller input: add_input, feed_sense, set_state */
    N4D_PROFILE_BUILTIN_COUNT = 7
} n4d_profile_section_id;

/** One section's figures. */
typedef struct n4d_profile_entry {
    const char *name;  /**< valid until the sim is destroyed or its profile reset */
    uint64_t calls;    /**< timed intervals */
    double total_s;    /**< seconds, all intervals */
    double mean_s;     /**< 0 when calls is 0 */
    double min_s;      /**< shortest interval, seconds */
    double max_s;      /**< longest interval, seconds */
} n4d_profile_entry;

/** Turns collection on (1) or off (0). Turning it on the first time
 * allocates the table (N4D_E_NOMEM possible); turning it off keeps the
 * figures. Intervals: cpu-ref times each step; cpu-omp each batch of
 * min-delay steps (update and delivery are the mean busy time of the threads,
 * exchange the rest of the batch's wall time). */
N4D_API n4d_status n4d_sim_profile_enable(n4d_sim *sim, int on);

/** 1 if collection is on, 0 if off (or sim is not a sim). */
N4D_API int n4d_sim_profile_enabled(const n4d_sim *sim);

/** Zeroes every figure and forgets the caller's sections (their names
 * become invalid). */
N4D_API n4d_status n4d_sim_profile_reset(n4d_sim *sim);

/** Starts / stops the caller's section `name` (copied; at most 64 sections
 * per sim, names of 1 to 63 bytes). Sections may nest or overlap but one name
 * cannot be started twice. No-ops returning N4D_OK while collection is off.
 * N4D_E_INVALID_ARG for a built-in section's name (use n4d_sim_profile_add),
 * N4D_E_STATE for stop without start or start while running, N4D_E_LIMIT
 * past 64 sections. */
N4D_API n4d_status n4d_sim_profile_start(n4d_sim *sim, const char *name);
/** Stops the caller's section `name` (see n4d_sim_profile_start). */
N4D_API n4d_status n4d_sim_profile_stop(n4d_sim *sim, const char *name);

/** Adds an interval of `seconds` (>= 0) measured by the caller to section
 * `name`, built-in or the caller's (e.g. a load or a build done before the
 * sim existed: "build"). Recorded whether collection is on or off (the table
 * is created if needed). The build section shows the caller's figures if
 * any, else the library's timing of the build when it has one. */
N4D_API n4d_status n4d_sim_profile_add(n4d_sim *sim, const char *name, double seconds);

/** Copies up to `cap` entries (built-in sections first, then the caller's in
 * order of first use) into `out` (may be NULL when cap is 0); *count
 * receives the number of sections. Before the first enable: the built-in
 * sections with no calls. */
N4D_API n4d_status n4d_sim_profile_get(const n4d_sim *sim, n4d_profile_entry *out, size_t cap,
                                       size_t *count);

/** Writes the section table (sections with calls, share of the run time)
 * into buf, as n4d_memory_report does (cap, *len). */
N4D_API n4d_status n4d_sim_profile_report(const n4d_sim *sim, char *buf, size_t cap, size_t *len);

#ifdef __cplusplus
}
#endif
#endif
