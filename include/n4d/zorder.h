/** \file
 * n4d — Z-order (4D Morton) codes and locality analysis.
 *
 * The reordering itself is a storage layout chosen before the build:
 * n4d_layout_options.order = N4D_ORDER_ZORDER (include/n4d/model.h) stores
 * neuron state, parameters and synapse targets along a 4D Morton curve of
 * (x, y, z, w) within each partition and population. Users keep their ids:
 * spike output and checksums are bitwise unchanged. This header gives the
 * curve and the measures that show what the reordering does: the locality
 * score of an access sequence and the mean jump between consecutive synapse
 * targets of a built model.
 *
 * Thread safety: the Morton and sequence functions are pure; the model
 * functions only read the model (errors are recorded on it). See
 * docs/modules.md. */
#ifndef N4D_ZORDER_H
#define N4D_ZORDER_H

#include "model.h"

#ifdef __cplusplus
extern "C" {
#endif

/** 4D Morton code of (x, y, z, w): bit b of coordinate a becomes bit
 * 4 * b + a of the code (x in the lowest bit). Coordinates must be below
 * 65536; higher bits are ignored. */
N4D_API uint64_t n4d_morton_encode4(const uint32_t xyzw[4]);

/** Inverse of n4d_morton_encode4: coordinates (each below 65536) of `code`. */
N4D_API void n4d_morton_decode4(uint64_t code, uint32_t xyzw[4]);

/** Statistics of an access sequence (jumps between consecutive entries). */
typedef struct n4d_access_stats {
    uint32_t struct_size;       /**< sizeof(n4d_access_stats) */
    uint64_t jumps;             /**< consecutive pairs counted */
    double mean_jump;           /**< mean |a[k+1] - a[k]| (0 when no pair) */
    uint64_t max_jump;          /**< largest |a[k+1] - a[k]| */
    double sequential_fraction; /**< fraction of pairs with |jump| <= 1 (1 when no pair) */
    double locality_score;      /**< 1 / (1 + mean_jump): 1 = sequential, -> 0 = scattered */
    uint64_t accesses;          /**< entries counted */
    double lines_per_access;    /**< entries that move to another block of 8 indices (a
                                     64-byte cache line of 8-byte entries, like the delay
                                     buffer's accumulators), the first entry counting, per
                                     entry; for ascending runs: distinct lines per entry */
    double pages_per_access;    /**< the same for blocks of 512 indices (4 KiB pages) */
} n4d_access_stats;

/** Analyses the access sequence seq[0..n): jumps between consecutive
 * entries and line/page changes. n < 2 gives no jump and a score of 1. Set
 * `out->struct_size` first (an older, smaller struct receives the fields it
 * has). N4D_E_INVALID_ARG if seq is NULL with n > 0, or out is NULL. */
N4D_API n4d_status n4d_access_pattern(const uint64_t *seq, size_t n, n4d_access_stats *out);

/** Locality score of seq[0..n): 1 / (1 + mean |seq[k+1] - seq[k]|); 1 for
 * n < 2 (also when seq is NULL). */
N4D_API double n4d_locality_score(const uint64_t *seq, size_t n);

/** Index space of n4d_model_target_jumps. */
typedef enum n4d_index_space {
    N4D_INDEX_INTERNAL = 0, /**< the storage order the model was built with */
    N4D_INDEX_USER = 1      /**< user ids (lattice order: what a default build stores) */
} n4d_index_space;

/** Jumps between consecutive targets of the synapse rows of a built model:
 * within each group of a row that is delivered together (one delay and one
 * sign, targets ascending), mean |t[j+1] - t[j]| and the cache lines and
 * pages the group touches, with targets numbered in `space`. In
 * N4D_INDEX_INTERNAL the numbers are the memory positions the delivery loop
 * touches (the delay buffers hold 8 bytes per neuron), so comparing a
 * Z-order build with a lattice-order build of the same model shows what the
 * reordering does; N4D_INDEX_USER gives, from the same model, the figures
 * of a default (lattice-order, unpartitioned) build. Since targets ascend,
 * the mean jump of a group is its span / (size - 1): Z-order shortens few
 * spans (a neighbourhood crossing a high-level Morton boundary spans far)
 * but packs neighbours into fewer lines and pages (docs/modules.md).
 * Cost: one pass over the synapses (plus a sort of each group for
 * N4D_INDEX_USER when the model is reordered); uses the model's build
 * threads. N4D_E_STATE if the model is not built. */
N4D_API n4d_status n4d_model_target_jumps(const n4d_model *model, int32_t space,
                                          n4d_access_stats *out);

#ifdef __cplusplus
}
#endif
#endif
