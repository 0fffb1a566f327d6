/* cpu-ref: the serial reference backend, the simplest correct code and the
 * ground truth every other backend is compared with bitwise. */
#include "cpu_common.h"

typedef struct cpu_ref_state {
    uint32_t *spk;     /* n entries */
    uint64_t pending;  /* spikes of step sim->step computed but not yet reported */
    bool has_pending;
} cpu_ref_state;

static n4d_status emit(n4d_sim *sim, cpu_ref_state *s, uint64_t step, uint64_t ns)
{
    n4d__sim_emit_begin(sim, step);
    n4d__sim_emit_ids(sim, s->spk, ns);
    n4d_status st = n4d__sim_emit_end(sim);
    s->has_pending = st == N4D_E_NOMEM && sim->step == step;
    s->pending = ns;
    return st;
}

static n4d_status ref_init(n4d_sim *sim)
{
    cpu_ref_state *s = n4d__calloc(sim->ctx, N4D_MEM_BACKEND, 1, sizeof *s);
    if (!s)
        return n4d__error(&sim->hdr, N4D_E_NOMEM, "cpu-ref: out of memory");
    s->spk = n4d__alloc(sim->ctx, N4D_MEM_BACKEND, (sim->n ? sim->n : 1) * sizeof(uint32_t));
    if (!s->spk) {
        n4d__free(sim->ctx, N4D_MEM_BACKEND, s, sizeof *s);
        return n4d__error(&sim->hdr, N4D_E_NOMEM, "cpu-ref: out of memory for the spike buffer");
    }
    sim->backend_state = s;
    return N4D_OK;
}

static void ref_fini(n4d_sim *sim)
{
    cpu_ref_state *s = sim->backend_state;
    if (!s)
        return;
    n4d__free(sim->ctx, N4D_MEM_BACKEND, s->spk, (sim->n ? sim->n : 1) * sizeof(uint32_t));
    n4d__free(sim->ctx, N4D_MEM_BACKEND, s, sizeof *s);
    sim->backend_state = NULL;
}

static n4d_status ref_run(n4d_sim *sim, uint64_t steps)
{
    cpu_ref_state *s = sim->backend_state;
    if (s->has_pending) { /* a step whose report failed: report it first */
        n4d_status st = emit(sim, s, sim->step, s->pending);
        if (st)
            return st;
        steps--;
    }
    n4d__timing *const prof = sim->timing;
    for (uint64_t k = 0; k < steps; k++) {
        uint64_t step = sim->step;
        uint64_t t = prof ? n4d__now_ns() : 0;
        uint64_t ns = n4d__cpu_update_range(sim, step, 0, sim->n, s->spk, sim->iext_dirty);
        sim->iext_dirty = false;
        if (prof)
            t = n4d__prof_lap(prof, N4D_PROFILE_UPDATE, t);
        for (uint64_t i = 0; i < ns; i++)
            n4d__cpu_deliver(sim, s->spk[i], step, 0, 0, 1);
        if (prof)
            t = n4d__prof_lap(prof, N4D_PROFILE_DELIVERY, t);
        n4d_status st = emit(sim, s, step, ns);
        if (prof)
            n4d__prof_lap(prof, N4D_PROFILE_RECORDING, t);
        if (st)
            return st;
    }
    return N4D_OK;
}

static const n4d__backend_ops ref_ops = {"cpu-ref", ref_init, ref_fini, ref_run, NULL};

/* Never chosen by "auto": it is the ground truth, not the fast path. */
const n4d__backend n4d__backend_cpu_ref = {
    .name = "cpu-ref",
    .abi = N4D__BACKEND_ABI,
    .caps = N4D__CAP_REFERENCE,
    .ops = &ref_ops,
};
