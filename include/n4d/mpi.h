/** \file
 * n4d over MPI (libn4d_mpi, built with N4D_MPI): an n4d_comm whose
 * collectives are MPI_Allgather / MPI_Allgatherv on a duplicate of an MPI
 * communicator. libn4d itself never links MPI; a program that embeds n4d
 * in its MPI code links libn4d and libn4d_mpi, calls MPI_Init_thread (at
 * least MPI_THREAD_FUNNELED: the collectives are called by the thread that
 * runs the sim), then:
 *
 *     n4d_comm c;
 *     n4d_mpi_comm_init(&c, MPI_COMM_WORLD);
 *     n4d_model_set_comm(model, &c);   // before n4d_model_build
 *     ... build, n4d_sim_create with backend "mpi", runs ...
 *     n4d_mpi_comm_free(&c);           // after the model is destroyed
 *
 * See docs/distributed.md. */
#ifndef N4D_MPI_H
#define N4D_MPI_H

#include <mpi.h>

#include "distributed.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Fills *out for `comm` (duplicated, with errors returned instead of
 * aborting, so that n4d reports them). N4D_E_INVALID_ARG for a NULL out,
 * N4D_E_STATE when MPI is not initialised. */
N4D_API n4d_status n4d_mpi_comm_init(n4d_comm *out, MPI_Comm comm);

/** Frees the duplicate made by n4d_mpi_comm_init (collective). */
N4D_API void n4d_mpi_comm_free(n4d_comm *c);

#ifdef __cplusplus
}
#endif

#endif
