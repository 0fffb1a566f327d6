/* n4d — inactive-neuron compression.
 *
 * Neurons are grouped into blocks (consecutive internal neurons of one
 * population run, at most 1024 per block). A block that has not spiked for
 * `threshold_steps` steps, whose every neuron sits at a fixed point of its
 * update with zero input (the update would change no bit of its state) and
 * has no pending input in the delay buffer, has its outgoing synapses
 * compressed with zlib into a side store (memory tag N4D_MEM_COMPRESSED) and
 * is skipped by the neuron update while no input reaches it. With the
 * default (libc) allocator and synapses in memory (not mapped from a file)
 * the pages of those synapses are handed back to the system; the allocator
 * accounting (n4d_context_memory, tag N4D_MEM_SYNAPSES) shows the saving.
 * A block is restored (synapses decompressed) automatically when input
 * reaches one of its neurons, on request (n4d_sim_restore_neuron), by a
 * state write (n4d_sim_set_state), a checkpoint, n4d_sim_compression_disable
 * and n4d_sim_destroy. Skipping a neuron at a fixed point with zero input is
 * exactly what its update does, so spike trains, checksums and states are
 * bitwise identical with compression on and off.
 *
 * Blocks of populations with DC or Poisson input are never compressed. The
 * cuda backend does not support compression (N4D_E_UNSUPPORTED).
 *
 * While any block of a model is compressed, n4d_model_get_synapses and
 * n4d_model_save answer N4D_E_STATE (disable compression first);
 * n4d_model_out_degree keeps working. Compression changes the model's
 * synapse memory, so it needs a model used by exactly one simulation.
 *
 * Thread safety: these functions follow the sim's rule (one thread at a
 * time per sim). See docs/modules.md. */
#ifndef N4D_COMPRESS_H
#define N4D_COMPRESS_H

#include "sim.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Compression options; fill with n4d_compress_options_init. */
typedef struct n4d_compress_options {
    uint32_t struct_size;     /**< sizeof(n4d_compress_options) */
    uint32_t threshold_steps; /**< steps without a spike before a block is a candidate (1000) */
    uint32_t check_every;     /**< candidates are examined every this many steps (100) */
    int32_t level;            /**< zlib level 1..9 (1) */
} n4d_compress_options;

/** Fills `opt` with the defaults (struct_size set). NULL is ignored. */
N4D_API void n4d_compress_options_init(n4d_compress_options *opt);

/** Compression statistics (n4d_sim_compression_stats). */
typedef struct n4d_compress_stats {
    uint32_t struct_size;         /**< sizeof(n4d_compress_stats) */
    uint64_t blocks;              /**< blocks of the sim (0 when compression is off) */
    uint64_t blocks_compressed;   /**< blocks compressed now */
    uint64_t neurons_compressed;  /**< neurons in compressed blocks now */
    uint64_t bytes_before;        /**< synapse bytes (targets + weights) of the compressed blocks */
    uint64_t bytes_after;         /**< bytes of their compressed store */
    uint64_t bytes_saved_real;    /**< bytes handed back to the system now (allocator
                                       accounting of N4D_MEM_SYNAPSES); 0 with a custom
                                       allocator or memory-mapped synapses */
    uint64_t restores;            /**< blocks restored since enabling */
    uint64_t compressions;        /**< blocks compressed since enabling */
} n4d_compress_stats;

/** Enables compression on `sim` with `opt` (NULL: defaults); enabling again
 * restores every block and applies the new options. Allocates the block
 * tables (tag N4D_MEM_COMPRESSED), freed by disable or n4d_sim_destroy.
 * Errors: N4D_E_INVALID_ARG (bad options: level outside 1..9, check_every
 * 0), N4D_E_UNSUPPORTED (cuda backend), N4D_E_STATE (the model is used by
 * more than one sim), N4D_E_NOMEM. */
N4D_API n4d_status n4d_sim_compression_enable(n4d_sim *sim, const n4d_compress_options *opt);

/** Restores every block and disables compression (frees its tables). A
 * no-op (N4D_OK) when it is off. */
N4D_API n4d_status n4d_sim_compression_disable(n4d_sim *sim);

/** Writes the statistics to `out`; set out->struct_size first (an older,
 * smaller struct receives the fields it has). All zero when compression is
 * off. */
N4D_API n4d_status n4d_sim_compression_stats(const n4d_sim *sim, n4d_compress_stats *out);

/** Restores the block holding neuron `id` (user id) if it is compressed.
 * N4D_E_STATE when compression is off, N4D_E_RANGE for an unknown id. */
N4D_API n4d_status n4d_sim_restore_neuron(n4d_sim *sim, uint64_t id);

#ifdef __cplusplus
}
#endif

#endif
