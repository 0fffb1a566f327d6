/** \file
 * n4d — spatial partitioning: recursive coordinate bisection (RCB) of a
 * built model's neurons into 4D boxes, with load-balance statistics.
 *
 * The same bisection places the storage layout's partitions
 * (n4d_model_set_layout, n4d_layout_options.partitions), which are the work
 * units of the cpu-omp backend: n4d_partition_compute with the layout's
 * partition count and balance gives exactly the layout's boxes, and
 * n4d_partition_layout reports the boxes a model was built with.
 *
 * Thread safety: the functions only read the model (errors are recorded on
 * it, as for every model query); a result is immutable and may be read from
 * any threads until it is destroyed. See docs/modules.md. */
#ifndef N4D_PARTITION_H
#define N4D_PARTITION_H

#include "model.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Options of the partitioning (n4d_partition_options_init fills the
 * defaults). */
typedef struct n4d_partition_options {
    uint32_t struct_size;     /**< sizeof(n4d_partition_options) */
    int32_t balance_synapses; /**< 0 (default): equal neuron counts; 1: equal
                                   neurons + outgoing synapses (weight 1 + out-degree
                                   per neuron, as the layout uses) */
} n4d_partition_options;

/** Fills `opt` with defaults (balance by neuron count). */
N4D_API void n4d_partition_options_init(n4d_partition_options *opt);

/** One box. An empty box (only in n4d_partition_layout of a model without
 * neurons) has hi < lo. */
typedef struct n4d_partition {
    int32_t lo[4];            /**< inclusive lower corner (x, y, z, w) of the box */
    int32_t hi[4];            /**< inclusive upper corner */
    uint64_t num_neurons;     /**< neurons in the box (>= 1 for computed boxes) */
    uint64_t num_synapses;    /**< outgoing synapses of those neurons */
    const uint32_t *neurons;  /**< their user ids, ascending (num_neurons entries) */
} n4d_partition;

/** Statistics of one quantity over the partitions. */
typedef struct n4d_balance_stats {
    double mean;       /**< mean */
    double std;        /**< population standard deviation */
    double min;        /**< smallest value */
    double max;        /**< largest value */
    double imbalance;  /**< (max - min) / mean; 0 when the mean is 0 */
} n4d_balance_stats;

/** A partitioning, allocated by the library (from the model's context) and
 * freed by n4d_partition_result_destroy; it does not refer to the model, so
 * it may outlive it. Fields may be appended in later versions. */
typedef struct n4d_partition_result {
    uint32_t num_partitions;         /**< entries of `partitions` */
    int32_t balance_synapses;        /**< what the bisection balanced */
    uint64_t num_neurons;            /**< neurons of the model */
    const n4d_partition *partitions; /**< num_partitions entries */
    const uint32_t *partition_of;    /**< by user id: the neuron's partition (num_neurons entries) */
    n4d_balance_stats neurons;       /**< neurons per partition */
    n4d_balance_stats synapses;      /**< outgoing synapses per partition */
} n4d_partition_result;

/** Splits the neurons of a built model into `n` boxes by recursive
 * coordinate bisection: each cut is along the widest axis of its box, at the
 * position that gives each side its share (neurons, or neurons + synapses),
 * so box sizes differ by at most a few neurons when balancing neurons. Every
 * neuron lies in exactly one box and inside its ranges; no box is empty.
 * Where a cut must fall inside a lattice plane to balance, neurons of that
 * plane are split by id and the two neighbouring boxes share the plane (but
 * no neuron). `opt` may be NULL (defaults). Errors: N4D_E_STATE if the model
 * is not built, N4D_E_INVALID_ARG if n is 0, N4D_E_RANGE if n exceeds the
 * number of neurons, N4D_E_NOMEM. On success *out owns the result. */
N4D_API n4d_status n4d_partition_compute(const n4d_model *model, uint32_t n,
                                         const n4d_partition_options *opt,
                                         n4d_partition_result **out);

/** The partitions of the storage layout the model was built with (one box
 * holding every neuron when the layout has no partitions): cpu-omp assigns
 * whole partitions to its threads, so these are its work units and their
 * statistics its load balance. N4D_E_STATE if the model is not built. */
N4D_API n4d_status n4d_partition_layout(const n4d_model *model, n4d_partition_result **out);

/** Frees a result. NULL is a no-op. */
N4D_API void n4d_partition_result_destroy(n4d_partition_result *result);

#ifdef __cplusplus
}
#endif
#endif
