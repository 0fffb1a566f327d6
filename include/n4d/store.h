/** \file
 * n4d — HDF5 storage: save and load built models (SONATA-compatible layout),
 * partial loading, memory-mapped synapses, checkpoint and resume of
 * simulations, spike and state recording while running, and import of
 * 4D Neural Cognition saved models. See docs/storage.md for the file layout.
 *
 * Every function here answers N4D_E_NOT_BUILT when the library was built
 * without HDF5 (n4d_has_feature(N4D_FEATURE_HDF5) == 0).
 *
 * Errors: a damaged or foreign file gives N4D_E_FORMAT (N4D_E_IO when it
 * cannot be opened, read or written); n4d_last_error() on the handle named
 * below names the file and the dataset or attribute at fault. A failed load
 * returns no model (nothing partial, nothing leaked).
 *
 * Files are written atomically: to a temporary file in the same folder
 * ("PATH.tmp.*"), flushed to disk (fsync) and renamed over PATH, so a process
 * killed during a save leaves the previous file intact.
 *
 * Threads: the HDF5 library of a serial build is not thread-safe; do not
 * call these functions from several threads at once (nor alongside other
 * HDF5 use in the process). HDF5's own error printing is switched off during
 * each call and restored before it returns. */
#ifndef N4D_STORE_H
#define N4D_STORE_H

#include "sim.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Compression of the datasets of a saved file. */
typedef enum n4d_compression {
    N4D_COMPRESSION_NONE = 0, /**< no filter */
    N4D_COMPRESSION_GZIP = 1  /**< deflate, level n4d_save_options.gzip_level */
} n4d_compression;

/** Options of n4d_model_save (n4d_save_options_init fills the defaults). */
typedef struct n4d_save_options {
    uint32_t struct_size;   /**< sizeof(n4d_save_options) */
    int32_t compression;    /**< n4d_compression (default N4D_COMPRESSION_NONE) */
    int32_t gzip_level;     /**< 1 to 9 (default 4) */
    int32_t shuffle;        /**< byte-shuffle filter before gzip (default 1) */
    uint64_t chunk_size;    /**< elements (rows) per chunk (default 262144) */
    int32_t contiguous;     /**< 1: the synapse arrays (/n4d/synapses/target and
                                 weight_q) are stored contiguous, uncompressed and
                                 page-aligned so that n4d_model_load can map them
                                 (default 0) */
    int32_t sonata_edges;   /**< 1: also write the SONATA /edges groups (default 1);
                                 0: only the exact arrays under /n4d (smaller) */
} n4d_save_options;

/** Fills `opt` with the defaults above. */
N4D_API void n4d_save_options_init(n4d_save_options *opt);

/** Saves a built model to `path` (HDF5, replaced atomically). `opt` may be
 * NULL for defaults. Errors are recorded on the model. The model is not
 * changed. A loaded model simulates bitwise identically to the saved one. */
N4D_API n4d_status n4d_model_save(const n4d_model *model, const char *path,
                                  const n4d_save_options *opt);

/** Which neurons n4d_model_load keeps. */
typedef enum n4d_select_kind {
    N4D_SELECT_ALL = 0,    /**< the whole model */
    N4D_SELECT_IDS = 1,    /**< the ids in n4d_load_options.ids */
    N4D_SELECT_RANGE = 2,  /**< ids first .. first + count - 1 */
    N4D_SELECT_REGION = 3  /**< neurons whose position lies in the inclusive box lo..hi */
} n4d_select_kind;

/** Options of n4d_model_load: what to load and how (n4d_load_options_init
 * fills the defaults). */
typedef struct n4d_load_options {
    uint32_t struct_size;   /**< sizeof(n4d_load_options) */
    int32_t mmap_synapses;  /**< 1: map the synapse targets and weights read-only
                                 from the file instead of reading them into memory
                                 (needs a file saved with contiguous = 1 and the
                                 whole model; default 0) */
    int32_t select;         /**< n4d_select_kind (default N4D_SELECT_ALL) */
    const uint64_t *ids;    /**< N4D_SELECT_IDS: ids in any order (duplicates are ignored) */
    uint64_t n_ids;         /**< entries of `ids` */
    uint64_t first;         /**< N4D_SELECT_RANGE: the first id */
    uint64_t count;         /**< N4D_SELECT_RANGE: number of ids */
    int32_t lo[4];          /**< N4D_SELECT_REGION: lower x, y, z, w bounds, inclusive */
    int32_t hi[4];          /**< N4D_SELECT_REGION: upper x, y, z, w bounds, inclusive */
} n4d_load_options;

/** Fills `opt` with the defaults (whole model, read into memory). */
N4D_API void n4d_load_options_init(n4d_load_options *opt);

/** Loads a model saved by n4d_model_save (or the model of a checkpoint). The
 * result is built (its synapses are those of the file, nothing is drawn
 * again) and read-only; destroy it with n4d_model_destroy. Errors are
 * recorded on the context.
 *
 * Partial loads (select != N4D_SELECT_ALL) read only the parts of the file
 * the kept neurons need (hyperslab reads of their rows). The result is a
 * valid model of the subset: the kept neurons, renumbered 0, 1, ... in the
 * order of their original ids; every population keeps its place (possibly
 * with 0 neurons); the synapses are those between kept neurons, with their
 * exact weights and delays. Ids that do not exist give N4D_E_RANGE.
 *
 * With mmap_synapses the mapping lives until the model is destroyed; the
 * file may be replaced (atomic saves rename a new file over it) but must not
 * be modified in place meanwhile. */
N4D_API n4d_status n4d_model_load(n4d_context *ctx, const char *path,
                                  const n4d_load_options *opt, n4d_model **out);

/* ---- checkpoint and resume ------------------------------------------ */

/** Saves the model and the full state of `sim` (neuron state, pending
 * synaptic input in the delay buffers, pending external input, step counter,
 * checksum, spike totals, recorded spikes, history window, seed and backend
 * options; with plastic synapses their weights, tsodyks states and spike
 * histories) to `path`, atomically. `opt` as for n4d_model_save (NULL:
 * defaults). Errors are recorded on the sim. Valid between runs at any step. */
N4D_API n4d_status n4d_sim_checkpoint(n4d_sim *sim, const char *path,
                                      const n4d_save_options *opt);

/** Saves the model of `sim` with its current learned weights to `path`, as
 * n4d_model_save writes a model (atomically; `opt` as there, NULL:
 * defaults): the classes and their rules are kept, so that n4d_model_load
 * and a new sim go on learning from these weights, from step 0. Only the
 * weights are kept (a lifecycle child's mutated weights included): spike
 * histories, tsodyks u and x, eligibility traces, modulator levels,
 * homeostatic scales and the lifecycle's state (dead neurons, ages,
 * health, lineage, mutated neuron parameters) start afresh;
 * n4d_sim_checkpoint keeps everything. The weights are stored in the model's fixed point
 * (int32 with the model's one scale, as built): each learned weight w
 * becomes nearbyint(w * scale) (rounded to nearest, ties to even), so a
 * loaded weight is within half a quantum (0.5 / scale) of the learned one;
 * static and tsodyks synapses keep their weights exactly. N4D_E_RANGE when a
 * learned weight does not fit the fixed point (|w| * scale > 2^31 - 1);
 * N4D_E_IO when the file cannot be written. Errors are recorded on the sim. */
N4D_API n4d_status n4d_sim_save_model(n4d_sim *sim, const char *path,
                                      const n4d_save_options *opt);

/** Options of n4d_sim_resume (n4d_resume_options_init fills the defaults). */
typedef struct n4d_resume_options {
    uint32_t struct_size;   /**< sizeof(n4d_resume_options) */
    const char *backend;    /**< NULL: the backend saved in the checkpoint */
    int32_t num_threads;    /**< 0: the saved thread count */
    int32_t mmap_synapses;  /**< as in n4d_load_options (default 0) */
} n4d_resume_options;

/** Fills `opt` with the defaults (everything as saved). */
N4D_API void n4d_resume_options_init(n4d_resume_options *opt);

/** Loads a checkpoint: writes a new model to *model and a simulation of it,
 * in the saved state, to *sim. Running the sim M more steps gives the same
 * spikes, states and checksum as one uninterrupted run. The caller destroys
 * the sim, then the model. `opt` may be NULL. Errors are recorded on the
 * context; on failure both outputs are NULL. */
N4D_API n4d_status n4d_sim_resume(n4d_context *ctx, const char *path,
                                  const n4d_resume_options *opt, n4d_model **model,
                                  n4d_sim **sim);

/* ---- recording while running ---------------------------------------- */

/** Options of n4d_sim_record_open (n4d_record_options_init fills the
 * defaults). */
typedef struct n4d_record_options {
    uint32_t struct_size;      /**< sizeof(n4d_record_options) */
    uint64_t buffer_spikes;    /**< spikes kept in memory per population before a
                                    write; also the chunk size (default 65536) */
    int32_t compression;       /**< n4d_compression (default N4D_COMPRESSION_NONE) */
    int32_t gzip_level;        /**< 1 to 9 (default 4) */
    int32_t shuffle;           /**< default 1 */
    const uint64_t *report_ids;/**< neurons whose state is sampled (any order) */
    uint64_t n_report_ids;     /**< 0: no state report */
    const char *report_vars;   /**< comma-separated state variables (as in
                                    n4d_sim_get_state), default "v" */
    uint32_t report_every;     /**< sample every this many steps (default 1);
                                    the state and the weight reports alike */
    const char *report_weights;/**< a projection or synapse class (named as for
                                    n4d_sim_get_weights) whose weights are
                                    sampled; NULL: no weight report */
} n4d_record_options;

/** Fills `opt` with the defaults above. */
N4D_API void n4d_record_options_init(n4d_record_options *opt);

/** Starts recording the spikes of `sim` (and optionally the state of chosen
 * neurons) to the HDF5 file `path`, from the sim's current step on:
 * /spikes/\<population\>/{timestamps (ms), node_ids} (SONATA, sorting
 * "by_time", node ids local to the population) and /report/\<population\>/
 * {data, mapping}. Data are written in chunks as the run goes, so memory
 * stays bounded. The file appears at `path` when the recording is closed
 * (n4d_sim_record_close, or n4d_sim_destroy). One recording per sim
 * (N4D_E_STATE otherwise). A state report samples the state at the end of
 * every report_every-th step (and at the start), which splits runs at those
 * steps. A weight report (report_weights) samples, at the same steps, the
 * weights n4d_sim_get_weights gives for the projection, in its order:
 * /report/weights/\<projection\>/{data (steps x synapses, float32),
 * mapping/source_ids, mapping/target_ids (user ids), mapping/time} (an
 * unknown projection: N4D_E_INVALID_ARG). Errors are recorded on the sim; a
 * write error stops the run that hit it. */
N4D_API n4d_status n4d_sim_record_open(n4d_sim *sim, const char *path,
                                       const n4d_record_options *opt);

/** Flushes and closes the recording of `sim` and moves the file into place.
 * N4D_E_STATE if none is open. */
N4D_API n4d_status n4d_sim_record_close(n4d_sim *sim);

/* ---- import from 4D Neural Cognition --------------------------------- */

/** Formats of 4D Neural Cognition saved models. */
typedef enum n4d_import_format {
    N4D_IMPORT_AUTO = 0, /**< decided by the file's first bytes */
    N4D_IMPORT_JSON = 1, /**< save_to_json */
    N4D_IMPORT_HDF5 = 2  /**< save_to_hdf5 (meta_json, neurons N x 10, synapses S x 5) */
} n4d_import_format;

/** Options of n4d_model_import_4dnc (n4d_import_options_init fills the
 * defaults). */
typedef struct n4d_import_options {
    uint32_t struct_size;        /**< sizeof(n4d_import_options) */
    int32_t format;              /**< n4d_import_format (default auto) */
    int32_t reference_inhibition;/**< 1: add inhibitory weights as they are, as 4D
                                      Neural Cognition does; 0 (default): inhibitory
                                      synapses get weight -|w| */
    int32_t static_weights;      /**< 1: the weights as static synapses; 0 (default):
                                      hebb_4dnc on every synapse with the file's
                                      "plasticity" settings (or the reference's
                                      defaults), as the reference simulates them */
} n4d_import_options;

/** Fills `opt` with the defaults above. */
N4D_API void n4d_import_options_init(n4d_import_options *opt);

/** Imports a model saved by 4D Neural Cognition (save_to_json or
 * save_to_hdf5) as a built n4d model: dt 1 ms, its lattice, areas and
 * senses; one lif population per area (per area and parameter set when
 * neurons differ), neurons at their positions, numbered population by
 * population in the order of their original ids (the same ids when the
 * areas hold consecutive ids, as in files the reference writes); its
 * synapses with their weights and delays (steps). The HDF5 form has no
 * synapse types: all its synapses keep their stored weight. Unsupported
 * parts (plasticity, lifecycle, neuromodulation) are named in
 * n4d_model_warnings(). Errors are recorded on the context. */
N4D_API n4d_status n4d_model_import_4dnc(n4d_context *ctx, const char *path,
                                         const n4d_import_options *opt, n4d_model **out);

#ifdef __cplusplus
}
#endif
#endif
