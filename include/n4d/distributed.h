/** \file
 * n4d — distributed runs: a model built by several processes (MPI ranks),
 * each owning a contiguous range of 4D partitions, exchanging spikes once
 * per min_delay, with spike trains bitwise identical to one process.
 *
 * libn4d never links MPI. The transport is a table of two collectives
 * (n4d_comm) that the caller fills: libn4d_mpi does it over an MPI
 * communicator (include/n4d/mpi.h, n4d_mpi_comm_init), and the n4d-mpi
 * program drives the whole CLI that way. Set the communicator on the model
 * before n4d_model_build; every rank must then make the same calls in the
 * same order (build, sim create with backend "mpi", runs) because the
 * build and the runs are collective. See docs/distributed.md.
 *
 * Thread safety: the collectives are called from one thread of each rank
 * (the one that calls n4d_model_build or n4d_sim_run). */
#ifndef N4D_DISTRIBUTED_H
#define N4D_DISTRIBUTED_H

#include "sim.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A communicator: this process's rank among `size`, and the collectives
 * n4d needs. Every call is collective: all ranks make it with the same
 * sizes where stated. A non-OK status ends the build or run with an error;
 * the caller should then abort every rank (abort), since the others may be
 * waiting in the collective. */
typedef struct n4d_comm {
    uint32_t struct_size; /**< sizeof(n4d_comm) */
    int32_t rank;         /**< this process, 0 .. size-1 */
    int32_t size;         /**< number of processes (>= 1) */
    void *user;           /**< passed to the functions */
    /** Every rank sends `bytes` bytes; recv gets size * bytes, rank order. */
    n4d_status (*allgather)(void *user, const void *send, uint64_t bytes, void *recv);
    /** Rank r sends counts[r] bytes (counts known on every rank); recv gets
     * them concatenated in rank order. */
    n4d_status (*allgatherv)(void *user, const void *send, const uint64_t *counts, void *recv);
    /** Ends every rank with exit status `code` (after an error that leaves
     * the others waiting); may be NULL. */
    void (*abort)(void *user, int code);
} n4d_comm;

/** Fills `c` for one process (rank 0 of 1, no functions). */
N4D_API void n4d_comm_init(n4d_comm *c);

/** Makes the model's build distributed over `comm` (copied; its `user`
 * must outlive the model). Before n4d_model_build; N4D_E_STATE after.
 * The layout gets at least comm->size partitions (rounded up to a multiple
 * of it); rank r owns the r-th contiguous group of them and builds only
 * the synapses whose target it owns. A size-1 communicator builds the
 * whole model. */
N4D_API n4d_status n4d_model_set_comm(n4d_model *model, const n4d_comm *comm);

/** What a rank holds of a built model. */
typedef struct n4d_dist_info {
    uint32_t struct_size;       /**< sizeof(n4d_dist_info) */
    int32_t rank;               /**< this rank (0 for a model without communicator) */
    int32_t size;               /**< ranks (1 for a model without communicator) */
    uint64_t first_neuron;      /**< owned internal range [first, first + num_neurons) */
    uint64_t num_neurons;       /**< neurons this rank updates */
    uint64_t local_synapses;    /**< synapses stored here (targets owned) */
    uint64_t total_synapses;    /**< over all ranks (n4d_model_num_synapses) */
    uint32_t first_partition;   /**< first owned layout partition */
    uint32_t num_partitions;    /**< owned partitions [first_partition, + num_partitions) */
    double build_s;             /**< this rank's build time */
} n4d_dist_info;

/** Fills *out for a built model (struct_size set by the caller). */
N4D_API n4d_status n4d_model_dist_info(const n4d_model *model, n4d_dist_info *out);

/** The exchange of a sim on the "mpi" backend since its creation. */
typedef struct n4d_dist_stats {
    uint32_t struct_size;   /**< sizeof(n4d_dist_stats) */
    uint64_t exchanges;     /**< collective rounds (one per batch of min_delay steps) */
    uint64_t bytes_sent;    /**< bytes this rank contributed */
    uint64_t bytes_received;/**< bytes it received (its own included) */
    double exchange_s;      /**< wall time in the collectives (waiting included) */
    double compute_s;       /**< wall time of update + delivery */
} n4d_dist_stats;

/** Fills *out (zeros for a sim on another backend). */
N4D_API n4d_status n4d_sim_dist_stats(const n4d_sim *sim, n4d_dist_stats *out);

#ifdef __cplusplus
}
#endif

#endif
