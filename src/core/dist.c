/* Distributed runs (include/n4d/distributed.h, docs/distributed.md): the
 * communicator a model is built with, and what a rank holds. The transport
 * is the caller's (libn4d_mpi over MPI); libn4d only calls its two
 * collectives, so it never links MPI. */
#include "sim_state.h"

#include <stdatomic.h>
#include <string.h>

static atomic_int comm_seen;

bool n4d__dist_comm_seen(void) { return atomic_load(&comm_seen) != 0; }

void n4d_comm_init(n4d_comm *c)
{
    if (!c)
        return;
    memset(c, 0, sizeof *c);
    c->struct_size = sizeof *c;
    c->rank = 0;
    c->size = 1;
}

n4d_status n4d_model_set_comm(n4d_model *m, const n4d_comm *comm)
{
    if (!n4d__is_handle(m, N4D__MAGIC_MODEL))
        return N4D_E_INVALID_ARG;
    n4d__model_clear_error(m);
    if (m->built)
        return n4d__model_error(m, N4D_E_STATE,
                          "n4d_model_set_comm: the model is already built (set the communicator "
                          "before n4d_model_build)");
    if (!comm || comm->struct_size < sizeof(uint32_t))
        return n4d__model_error(m, N4D_E_INVALID_ARG,
                          "n4d_model_set_comm: the communicator is NULL or has no struct_size");
    n4d_comm c;
    n4d_comm_init(&c);
    N4D__COPY_IN(c, comm);
    if (c.size < 1 || c.rank < 0 || c.rank >= c.size)
        return n4d__model_error(m, N4D_E_INVALID_ARG,
                          "n4d_model_set_comm: rank %d of %d (expected 0 <= rank < size)", c.rank,
                          c.size);
    if (c.size > 1 && (!c.allgather || !c.allgatherv))
        return n4d__model_error(m, N4D_E_INVALID_ARG,
                          "n4d_model_set_comm: %d ranks but no allgather/allgatherv function",
                          c.size);
    m->comm = c;
    m->has_comm = true;
    atomic_store(&comm_seen, 1);
    return N4D_OK;
}

n4d_status n4d__dist_allgather(n4d_model *m, const void *send, uint64_t bytes, void *recv)
{
    if (!n4d__distributed(m)) {
        memcpy(recv, send, bytes);
        return N4D_OK;
    }
    n4d_status st = m->comm.allgather(m->comm.user, send, bytes, recv);
    if (st)
        return n4d__error(&m->hdr, st, "rank %d: the allgather of %llu bytes failed (%s)",
                          m->comm.rank, (unsigned long long)bytes, n4d_status_string(st));
    return N4D_OK;
}

n4d_status n4d_model_dist_info(const n4d_model *m, n4d_dist_info *out)
{
    if (!n4d__is_handle(m, N4D__MAGIC_MODEL))
        return N4D_E_INVALID_ARG;
    n4d__model_clear_error(m);
    if (!out || out->struct_size < sizeof(uint32_t))
        return n4d__model_error(m, N4D_E_INVALID_ARG,
                                "n4d_model_dist_info: out is NULL or has no struct_size");
    if (!m->built)
        return n4d__model_error(m, N4D_E_STATE, "n4d_model_dist_info: the model is not built");
    n4d_dist_info d;
    memset(&d, 0, sizeof d);
    d.struct_size = sizeof d;
    d.rank = m->has_comm ? m->comm.rank : 0;
    d.size = m->has_comm ? m->comm.size : 1;
    d.first_neuron = n4d__own_lo(m);
    d.num_neurons = n4d__own_hi(m) - n4d__own_lo(m);
    d.local_synapses = m->syn.n_syn;
    d.total_synapses = m->has_comm ? m->syn_total : m->syn.n_syn;
    d.first_partition = m->has_comm ? m->own_part_lo : 0;
    d.num_partitions = m->has_comm ? m->own_part_hi - m->own_part_lo : (m->n_parts ? m->n_parts : 1);
    d.build_s = (double)m->build_ns * 1e-9;
    const uint32_t size = out->struct_size < sizeof d ? out->struct_size : (uint32_t)sizeof d;
    memcpy(out, &d, size);
    out->struct_size = size;
    return N4D_OK;
}

n4d_status n4d_sim_dist_stats(const n4d_sim *sim, n4d_dist_stats *out)
{
    if (!n4d__is_handle(sim, N4D__MAGIC_SIM))
        return N4D_E_INVALID_ARG;
    if (!out || out->struct_size < sizeof(uint32_t))
        return N4D_E_INVALID_ARG;
    n4d_dist_stats d = sim->dist;
    d.struct_size = sizeof d;
    const uint32_t size = out->struct_size < sizeof d ? out->struct_size : (uint32_t)sizeof d;
    memcpy(out, &d, size);
    out->struct_size = size;
    return N4D_OK;
}
