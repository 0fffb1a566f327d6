/* libn4d_mpi (include/n4d/mpi.h): the n4d_comm collectives over MPI. It
 * links MPI only; libn4d calls it through the function pointers of the
 * n4d_comm (docs/distributed.md), so libn4d never links MPI. */
#include "n4d/mpi.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

typedef struct mpi_user {
    MPI_Comm comm;
    int size;
    int *counts, *displs; /* per rank, for MPI_Allgatherv */
} mpi_user;

static n4d_status gather(void *user, const void *send, uint64_t bytes, void *recv)
{
    mpi_user *u = user;
    if (bytes > INT_MAX)
        return N4D_E_LIMIT;
    int rc = MPI_Allgather(send, (int)bytes, MPI_BYTE, recv, (int)bytes, MPI_BYTE, u->comm);
    return rc == MPI_SUCCESS ? N4D_OK : N4D_E_IO;
}

static n4d_status gatherv(void *user, const void *send, const uint64_t *counts, void *recv)
{
    mpi_user *u = user;
    int rank = 0;
    MPI_Comm_rank(u->comm, &rank);
    uint64_t at = 0;
    for (int r = 0; r < u->size; r++) {
        /* MPI counts are int: more than 2 GiB of one batch's spikes is refused */
        if (counts[r] > INT_MAX || at > INT_MAX)
            return N4D_E_LIMIT;
        u->counts[r] = (int)counts[r];
        u->displs[r] = (int)at;
        at += counts[r];
    }
    int rc = MPI_Allgatherv(send, u->counts[rank], MPI_BYTE, recv, u->counts, u->displs, MPI_BYTE,
                            u->comm);
    return rc == MPI_SUCCESS ? N4D_OK : N4D_E_IO;
}

static void abort_all(void *user, int code)
{
    mpi_user *u = user;
    MPI_Abort(u ? u->comm : MPI_COMM_WORLD, code);
}

n4d_status n4d_mpi_comm_init(n4d_comm *out, MPI_Comm comm)
{
    if (!out)
        return N4D_E_INVALID_ARG;
    int inited = 0;
    MPI_Initialized(&inited);
    if (!inited)
        return N4D_E_STATE;
    mpi_user *u = calloc(1, sizeof *u);
    if (!u)
        return N4D_E_NOMEM;
    int rank = 0;
    if (MPI_Comm_dup(comm, &u->comm) != MPI_SUCCESS) {
        free(u);
        return N4D_E_IO;
    }
    MPI_Comm_set_errhandler(u->comm, MPI_ERRORS_RETURN);
    MPI_Comm_rank(u->comm, &rank);
    MPI_Comm_size(u->comm, &u->size);
    u->counts = calloc((size_t)u->size, sizeof *u->counts);
    u->displs = calloc((size_t)u->size, sizeof *u->displs);
    if (!u->counts || !u->displs) {
        MPI_Comm_free(&u->comm);
        free(u->counts);
        free(u->displs);
        free(u);
        return N4D_E_NOMEM;
    }
    memset(out, 0, sizeof *out);
    out->struct_size = sizeof *out;
    out->rank = rank;
    out->size = u->size;
    out->user = u;
    out->allgather = gather;
    out->allgatherv = gatherv;
    out->abort = abort_all;
    return N4D_OK;
}

void n4d_mpi_comm_free(n4d_comm *c)
{
    if (!c || !c->user)
        return;
    mpi_user *u = c->user;
    MPI_Comm_free(&u->comm);
    free(u->counts);
    free(u->displs);
    free(u);
    c->user = NULL;
}
