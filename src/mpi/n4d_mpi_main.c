/* n4d-mpi: the n4d program under MPI (docs/distributed.md). The CLI
 * (src/cli) with MPI_Init before anything else: the build is distributed
 * (each rank builds the synapses of its own neurons), so the communicator
 * must exist before the model is built, which the n4d program's backend
 * choice comes too late for. Rank 0 prints the summary; a rank that fails
 * prints its error and ends every rank (MPI_Abort), so none is left
 * waiting in a collective. */
#include "cli.h"
#include "n4d/mpi.h"

#include <stdio.h>

int main(int argc, char **argv)
{
    int provided = 0;
    if (MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        fprintf(stderr, "n4d-mpi: error: MPI_Init_thread failed\n");
        return EXIT_RUNTIME;
    }
    n4d_comm comm;
    n4d_status st = n4d_mpi_comm_init(&comm, MPI_COMM_WORLD);
    if (st != N4D_OK) {
        fprintf(stderr, "n4d-mpi: error: cannot set up the communicator (%s)\n",
                n4d_status_string(st));
        MPI_Abort(MPI_COMM_WORLD, EXIT_RUNTIME);
    }
    if (comm.rank != 0 && !freopen("/dev/null", "w", stdout)) /* rank 0 prints */
        fprintf(stderr, "n4d-mpi: rank %d: cannot silence its output\n", (int)comm.rank);
    cli_comm = &comm;
    int rc = cli_main(argc, argv);
    if (rc != EXIT_OK && comm.size > 1) {
        fprintf(stderr, "n4d-mpi: rank %d of %d failed (exit status %d): stopping every rank\n",
                (int)comm.rank, (int)comm.size, rc);
        fflush(stderr);
        MPI_Abort(MPI_COMM_WORLD, rc);
    }
    n4d_mpi_comm_free(&comm);
    MPI_Finalize();
    return rc;
}
