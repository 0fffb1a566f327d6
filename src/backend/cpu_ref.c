/* cpu-ref: the serial reference backend, the ground truth every other
 * backend is compared with bit for bit. Plain scalar loops, one neuron at a
 * time, straight from the shared equations (the registry's step,
 * n4d__update_neuron); its own delivery loop over the CSR; no SIMD kernels,
 * no block skipping (it refuses compression). */
#include "cpu_common.h" /* the registry entry's declaration; none of its loops */
#include "homeo.h"
#include "modulators.h"
#include "lifecycle.h"
#include "plastic.h"
#include "ring.h"

typedef struct cpu_ref_state {
    uint32_t *spk;     /* n entries */
    int64_t *we, *wi;  /* the exact sums of a run's neurons in a step (n entries each) */
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

static void ref_fini(n4d_sim *sim)
{
    cpu_ref_state *s = sim->backend_state;
    if (!s)
        return;
    const size_t n = sim->n ? sim->n : 1;
    n4d__free(sim->ctx, N4D_MEM_BACKEND, s->spk, n * sizeof(uint32_t));
    n4d__free(sim->ctx, N4D_MEM_BACKEND, s->we, n * sizeof(int64_t));
    n4d__free(sim->ctx, N4D_MEM_BACKEND, s->wi, n * sizeof(int64_t));
    n4d__free(sim->ctx, N4D_MEM_BACKEND, s, sizeof *s);
    sim->backend_state = NULL;
}

static n4d_status ref_init(n4d_sim *sim)
{
    cpu_ref_state *s = n4d__calloc(sim->ctx, N4D_MEM_BACKEND, 1, sizeof *s);
    if (!s)
        return n4d__error(&sim->hdr, N4D_E_NOMEM, "cpu-ref: out of memory");
    sim->backend_state = s;
    const size_t n = sim->n ? sim->n : 1;
    s->spk = n4d__alloc(sim->ctx, N4D_MEM_BACKEND, n * sizeof(uint32_t));
    s->we = n4d__alloc(sim->ctx, N4D_MEM_BACKEND, n * sizeof(int64_t));
    s->wi = n4d__alloc(sim->ctx, N4D_MEM_BACKEND, n * sizeof(int64_t));
    if (!s->spk || !s->we || !s->wi) {
        ref_fini(sim);
        return n4d__error(&sim->hdr, N4D_E_NOMEM, "cpu-ref: out of memory for the spike buffer");
    }
    return N4D_OK;
}


/* Updates every neuron for `step`, consuming the step's ring slot and the
 * external input; writes the ids that spiked (ascending) to spk. */
static uint64_t update(n4d_sim *sim, cpu_ref_state *s, uint64_t step, uint32_t *spk)
{
    const double inv_scale = sim->syn.inv_scale;
    uint64_t ns = 0;
    for (size_t r = 0; r < sim->n_runs; r++) {
        n4d__pop_rt pm;
        float gain;
        const n4d__pop_rt *p = n4d__mods_run(sim, &sim->runs[r], step, &pm, &gain);
        const float dc = n4d__sim_dc(sim, p->pop, step);
        const uint64_t f = p->first;
        const uint32_t slot = (uint32_t)(step % sim->ring_slots);
        for (size_t k = 0; k < sim->n_poisson; k++) { /* sparse inputs: the step's events */
            const n4d__poisson_rt *in = &sim->poisson[k];
            if (!in->sparse || in->pop != p->pop)
                continue;
            if (!in->block_ring) /* from the cache */
                n4d__poisson_sparse_add(sim, k, step, f, f + p->n,
                                        n4d__ring_row(sim, slot, in->weight_q < 0));
            else if (n4d__poisson_block_starts(in, step)) /* the block's, into the ring */
                n4d__poisson_block_ring(sim, k, step, f, f + p->n);
        }
        if (sim->n_xin) /* spike events into the ring slot, currents into iext */
            n4d__xin_add(sim, p->pop, step, f, f + p->n, sim->iext);
        /* the exact sums of the run's neurons, by i - p->first */
        int64_t *re = s->we, *ri = s->wi;
        n4d__ring_take(sim, step, f, f + p->n, re, ri);
        const bool homeo = n4d__homeo_on(sim, r);
        const uint64_t ns0 = ns;
        for (uint64_t i = p->first; i < p->first + p->n; i++) {
            /* Poisson events join the synaptic sums (integers: any order) */
            for (size_t k = 0; k < sim->n_poisson; k++) {
                const n4d__poisson_rt *in = &sim->poisson[k];
                if (in->sparse || in->pop != p->pop || step < in->step_start ||
                    step >= in->step_stop)
                    continue;
                const uint64_t ev =
                    n4d__poisson_events(in, sim->seed, (uint32_t)n4d__to_user(sim->model, i), step);
                if (in->weight_q >= 0)
                    re[i - f] += (int64_t)ev * in->weight_q;
                else
                    ri[i - f] += (int64_t)ev * in->weight_q;
            }
            if (homeo)
                re[i - f] = n4d__homeo_scaled(sim, i, re[i - f]);
            const float in_e = n4d__fixed_to_float(re[i - f], inv_scale);
            const float in_i = n4d__fixed_to_float(ri[i - f], inv_scale);
            /* iext is 0 unless input was given; gain 1 unless bound to a modulator */
            const float ext = (sim->iext[i] + dc) * gain;
            sim->iext[i] = 0.0f;
            int spike;
            if (p->kn) { /* a cell lifecycle: the neuron's own constants; removed: silent */
                n4d__neuron_k k;
                n4d__kn_get(p->kn, p->kn_stride, i, &k);
                spike = n4d__update_neuron_k(p->model, &k, &sim->v[i], &sim->x[0][i],
                                             &sim->x[1][i], &sim->x[2][i], &sim->ref[i], in_e,
                                             in_i, ext) &
                        p->alive[i];
            } else
                spike = n4d__update_neuron(p, &sim->v[i], &sim->x[0][i], &sim->x[1][i],
                                           &sim->x[2][i], &sim->ref[i], in_e, in_i, ext);
            if (spike)
                spk[ns++] = (uint32_t)i;
        }
        if (homeo)
            n4d__homeo_after(sim, r, step, p->first, p->first + p->n, spk + ns0, ns - ns0);
    }
    return ns;
}

/* Adds the weights of the synapses of `src` into the ring slots of their
 * delays. */
static void deliver(n4d_sim *sim, uint32_t src, uint64_t step)
{
    const n4d__syn_view *syn = &sim->syn;
    n4d__plastic_pre pre;
    if (sim->plastic)
        n4d__plastic_pre_find(sim, src, step, &pre);
    for (uint64_t g = syn->seg_ptr[src]; g < syn->seg_ptr[src + 1]; g++) {
        const uint32_t key = syn->seg_key[g];
        const uint64_t slot = (step + N4D__SEG_DELAY(key)) % sim->ring_slots;
        int32_t *acc = n4d__ring_row(sim, (uint32_t)slot, N4D__SEG_CH(key));
        /* the sender dies before the spike arrives: its rule still sees the
         * spike (the reference's plasticity runs before the lifecycle) */
        const bool lost = n4d__life_drops(sim, src, step, N4D__SEG_DELAY(key));
        if (N4D__SEG_CLASS(key)) { /* a plastic class: its rule, its weights */
            n4d__plastic_deliver(sim, &pre, src, step, g, syn->seg_off[g], syn->seg_off[g + 1],
                                 lost ? NULL : acc);
            continue;
        }
        if (lost)
            continue;
        for (uint64_t j = syn->seg_off[g]; j < syn->seg_off[g + 1]; j++)
            n4d__ring_add(sim, acc, syn->target[j], syn->weight_q[j]);
    }
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
        if (sim->mods)
            n4d__mods_batch_begin(sim, step, 1);
        n4d_status pst = n4d__poisson_prepare(sim, step, 1);
        if (pst)
            return pst;
        uint64_t ns = update(sim, s, step, s->spk);
        sim->iext_dirty = false;
        if (sim->mods)
            n4d__mods_spikes(sim, step, s->spk, ns);
        if (prof)
            t = n4d__prof_lap(prof, N4D_PROFILE_UPDATE, t);
        if (sim->plastic) {
            pst = n4d__plastic_batch_begin(sim, step, 1);
            if (!pst)
                pst = n4d__plastic_append(sim, step, s->spk, ns);
            if (pst)
                return pst;
            n4d__plastic_flush(sim, 0, 0, 1);
        }
        for (uint64_t i = 0; i < ns; i++)
            deliver(sim, s->spk[i], step);
        if (sim->plastic)
            n4d__plastic_after(sim, step, s->spk, ns);
        if (sim->mods)
            n4d__mods_batch_end(sim);
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
    .caps = N4D__CAP_REFERENCE | N4D__CAP_PLASTICITY | N4D__CAP_SPARSE_POISSON,
    .ops = &ref_ops,
};
