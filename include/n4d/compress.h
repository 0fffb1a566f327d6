/** \file
 * n4d — inactive-neuron compression.
 *
 * Works on the sim's own memory (its overlay over the shared model, which
 * it never touches): any number of sims of one model may use it at once.
 * Neurons are grouped into blocks (consecutive internal neurons of one
 * population run, at most 1024 per block). A block that has not spiked for
 * `threshold_steps` steps, whose every neuron sits at a fixed point of its
 * update with zero input (the update would change no bit of its state) and
 * has no pending input in the delay buffer, has its state (V and the model
 * variables) compressed with zlib into a side store (memory tag
 * N4D_MEM_COMPRESSED) and is skipped by the neuron update while no input
 * reaches it. With the default (libc) allocator the whole pages of the
 * block's state, refractory, input and delay-buffer slices are handed back
 * to the system; the allocator accounting (n4d_context_memory, tags
 * N4D_MEM_NEURONS for the state and N4D_MEM_BUFFERS for the delay buffer)
 * shows the saving (blocks of a few hundred neurons may cover no whole
 * page). A block is restored automatically when input
 * reaches one of its neurons, on request (n4d_sim_restore_neuron), before
 * a write of the state (n4d_sim_set_state), by
 * n4d_sim_compression_disable and n4d_sim_destroy. A read of the state
 * (n4d_sim_get_state, a checkpoint, a recording's state sample) writes the
 * compressed state back and leaves the blocks compressed (their pages are
 * handed back again at the next check). Skipping a neuron at a
 * fixed point with zero input is exactly what its update does, so spike
 * trains, checksums and states are bitwise identical with compression on
 * and off.
 *
 * Blocks of populations with DC or Poisson input are never compressed.
 * Only backends with the N4D_BACKEND_COMPRESSION capability support it
 * (cpu-omp); cpu-ref (the plain ground truth) and cuda answer
 * N4D_E_UNSUPPORTED.
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
    uint64_t bytes_before;        /**< bytes of the sim's state, input and delay buffer that the
                                       compressed blocks cover */
    uint64_t bytes_after;         /**< bytes of their compressed store */
    uint64_t bytes_saved_real;    /**< bytes handed back to the system now (allocator
                                       accounting of N4D_MEM_NEURONS and
                                       N4D_MEM_BUFFERS); 0 with a custom allocator */
    uint64_t restores;            /**< blocks restored since enabling */
    uint64_t compressions;        /**< blocks compressed since enabling */
} n4d_compress_stats;

/** Enables compression on `sim` with `opt` (NULL: defaults); enabling again
 * restores every block and applies the new options. Allocates the block
 * tables (tag N4D_MEM_COMPRESSED), freed by disable or n4d_sim_destroy.
 * Errors: N4D_E_INVALID_ARG (bad options: level outside 1..9, check_every
 * 0), N4D_E_UNSUPPORTED (a backend without N4D_BACKEND_COMPRESSION),
 * N4D_E_NOMEM. */
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

/** Which neurons sit in compressed blocks now: out[id] = 1 (user ids) or 0,
 * for the first `count` ids (count <= the sim's neurons). All 0 when compression is off. Reads only (restores
 * nothing). N4D_E_INVALID_ARG if out is NULL with count > 0, N4D_E_RANGE
 * if count exceeds the sim's neurons. */
N4D_API n4d_status n4d_sim_compressed_neurons(const n4d_sim *sim, uint8_t *out, uint64_t count);

#ifdef __cplusplus
}
#endif

#endif
