/* Plastic synapses of a simulation: see plastic.h and docs/plasticity.md. */
#include "plastic.h"
#include "backend.h" /* the sim's ops; cuda_api.h: N4D__SYNC_PLASTIC */
#include "modulators.h"

#include "lifecycle.h"
#include "ring.h"

#include <math.h>
#include <stdio.h>
#if defined(__x86_64__) && defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <stdlib.h>
#include <string.h>

/* Facilitation windows close this many steps (at most) late: the check for
 * closed windows runs when the step count crosses a multiple of it. */
#define FLUSH_EVERY N4D__FLUSH_EVERY
/* Pairs further apart than this many time constants are ignored
 * (e^-40 = 4e-18: below the precision of a double weight change). */
#define WINDOW_TAUS 40.0
/* stdp_dopamine: silent presynaptic neurons are brought up to date at the
 * multiples of this many steps (or of the stdp window when longer) */
#define DA_PERIOD 1024
#define DA_CAP0 64 /* first capacity of the dopamine event ring */
#define PREFETCH_AHEAD 8 /* synapses */

/* ---- spike histories ------------------------------------------------------------ */

static inline const n4d__spk *hist_at(const n4d__plastic *pl, uint64_t i, uint32_t k)
{
    return &pl->ring[i][(pl->head[i] + k) & (pl->cap[i] - 1)];
}

/* Index (from the oldest) of the newest spike of neuron i before step t, or
 * -1. */
static inline int64_t hist_before(const n4d__plastic *pl, uint64_t i, int64_t t)
{
    int64_t k = (int64_t)pl->len[i] - 1;
    while (k >= 0 && hist_at(pl, i, (uint32_t)k)->step >= t)
        k--;
    return k;
}

/* Whether neuron i spiked at step t. */
static inline int hist_spiked(const n4d__plastic *pl, uint64_t i, int64_t t)
{
    if (pl->recent[i].step[0] <= t)
        return pl->recent[i].step[0] == t;
    const int64_t k = hist_before(pl, i, t + 1);
    return k >= 0 && hist_at(pl, i, (uint32_t)k)->step == t;
}

static n4d_status hist_grow(n4d_sim *sim, n4d__plastic *pl, uint64_t i)
{
    const uint32_t cap = pl->cap[i] ? 2 * pl->cap[i] : 4;
    n4d__spk *r = n4d__alloc(sim->ctx, N4D_MEM_BUFFERS, cap * sizeof *r);
    if (!r)
        return n4d__error(&sim->hdr, N4D_E_NOMEM,
                          "plasticity: out of memory for the spike history of neuron %llu",
                          (unsigned long long)n4d__to_user(sim->model, i));
    for (uint32_t k = 0; k < pl->len[i]; k++)
        r[k] = *hist_at(pl, i, k);
    n4d__free(sim->ctx, N4D_MEM_BUFFERS, pl->ring[i], pl->cap[i] * sizeof *r);
    pl->ring[i] = r;
    pl->head[i] = 0;
    pl->cap[i] = cap;
    return N4D_OK;
}

/* ---- dopamine events (stdp_dopamine) --------------------------------------------- */

static inline uint32_t da_at(const n4d__plastic *pl, uint32_t k)
{
    return (pl->da_head + k) & (pl->da_cap - 1);
}

/* Index (from the oldest) of the newest dopamine event at a step < t, or -1. */
static inline int64_t da_before(const n4d__plastic *pl, int64_t t)
{
    int64_t lo = 0, hi = pl->da_len; /* first index with step >= t */
    while (lo < hi) {
        const int64_t mid = lo + (hi - lo) / 2;
        if (pl->da_step[da_at(pl, (uint32_t)mid)] < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo - 1;
}

static bool da_grow(n4d_sim *sim, n4d__plastic *pl)
{
    const uint32_t cap = 2 * pl->da_cap;
    /* every new buffer first, so that a failure changes nothing */
    int64_t *st = n4d__alloc(sim->ctx, N4D_MEM_BUFFERS, cap * sizeof *st);
    double *va = n4d__alloc(sim->ctx, N4D_MEM_BUFFERS, cap * sizeof *va);
    double **dn = n4d__calloc(sim->ctx, N4D_MEM_OTHER, pl->n_cls ? pl->n_cls : 1, sizeof *dn);
    bool ok = st && va && dn;
    for (uint32_t k = 0; ok && k < pl->n_cls; k++)
        if (pl->cls[k].dn && !(dn[k] = n4d__alloc(sim->ctx, N4D_MEM_BUFFERS, cap * sizeof(double))))
            ok = false;
    if (!ok) {
        for (uint32_t k = 0; dn && k < pl->n_cls; k++)
            n4d__free(sim->ctx, N4D_MEM_BUFFERS, dn[k], cap * sizeof(double));
        n4d__free(sim->ctx, N4D_MEM_OTHER, dn, (pl->n_cls ? pl->n_cls : 1) * sizeof *dn);
        n4d__free(sim->ctx, N4D_MEM_BUFFERS, st, cap * sizeof *st);
        n4d__free(sim->ctx, N4D_MEM_BUFFERS, va, cap * sizeof *va);
        return false;
    }
    for (uint32_t k = 0; k < pl->n_cls; k++) {
        n4d__plastic_class *c = &pl->cls[k];
        if (!c->dn)
            continue;
        for (uint32_t q = 0; q < pl->da_len; q++)
            dn[k][q] = c->dn[da_at(pl, q)];
        n4d__free(sim->ctx, N4D_MEM_BUFFERS, c->dn, pl->da_cap * sizeof(double));
        c->dn = dn[k];
    }
    n4d__free(sim->ctx, N4D_MEM_OTHER, dn, (pl->n_cls ? pl->n_cls : 1) * sizeof *dn);
    for (uint32_t q = 0; q < pl->da_len; q++) {
        st[q] = pl->da_step[da_at(pl, q)];
        va[q] = pl->da_val[da_at(pl, q)];
    }
    n4d__free(sim->ctx, N4D_MEM_BUFFERS, pl->da_step, pl->da_cap * sizeof *st);
    n4d__free(sim->ctx, N4D_MEM_BUFFERS, pl->da_val, pl->da_cap * sizeof *va);
    pl->da_step = st;
    pl->da_val = va;
    pl->da_head = 0;
    pl->da_cap = cap;
    return true;
}

bool n4d__plastic_da_reserve(n4d_sim *sim, uint32_t len)
{
    n4d__plastic *pl = sim->plastic;
    while (pl->da_cap < len)
        if (!da_grow(sim, pl))
            return false;
    return true;
}

/* Appends the dopamine event of `step` (a spike count, or a new level
 * minus the baseline) and each stdp_dopamine class's n just after it. */
static n4d_status da_append(n4d_sim *sim, n4d__plastic *pl, int64_t step, double val)
{
    if (pl->da_len == pl->da_cap && !da_grow(sim, pl))
        return n4d__error(&sim->hdr, N4D_E_NOMEM, "plasticity: out of memory for dopamine events");
    const uint32_t at = da_at(pl, pl->da_len);
    const int64_t prev = pl->da_len ? (int64_t)da_at(pl, pl->da_len - 1) : -1;
    for (uint32_t k = 0; k < pl->n_cls; k++) {
        n4d__plastic_class *c = &pl->cls[k];
        if (!c->dn)
            continue;
        const n4d__stdpda_k *dk = &c->k.da;
        if (!pl->da_spikes)
            c->dn[at] = val;
        else /* NEST: n <- n exp(-(t - t_last) / tau_n) + multiplicity / tau_n */
            c->dn[at] = (prev >= 0 ? c->dn[prev] * exp(-(double)(step - pl->da_step[prev]) * dk->dt /
                                                          dk->tau_n)
                                   : 0.0) +
                        val / dk->tau_n;
    }
    pl->da_step[at] = step;
    pl->da_val[at] = val;
    pl->da_len++;
    return N4D_OK;
}

/* ---- creation ------------------------------------------------------------------- */

static void compile_class(n4d__plastic_class *c, const n4d__syn_class *def, double dt)
{
    const double *q = def->params;
    c->rule = def->sm->id;
    c->def = def;
    switch (c->rule) {
    case N4D__SYN_HEBB_4DNC:
        c->k.hebb = (n4d__hebb_k){q[0], q[1], q[2], q[3], q[4]};
        break;
    case N4D__SYN_STDP_DOPAMINE: /* spikes and taus are set by n4d__plastic_create */
        c->k.da = (n4d__stdpda_k){q[5], q[6], q[2], q[3], q[4], q[7], q[8], 1.0 / q[2],
                                  dt / q[0], dt / q[1], dt, 0};
        break;
    case N4D__SYN_STDP:
        c->k.stdp = (n4d__stdp_k){q[2], q[3], q[4], q[5], q[6], dt / q[0], dt / q[1], q[7] != 0.0};
        break;
    case N4D__SYN_TSODYKS:
        c->k.tso = (n4d__tsodyks_k){q[0], q[1], q[2], dt / q[3], q[4] > 0 ? dt / q[4] : 0.0,
                                    !(q[4] > 0)};
        break;
    default:
        break;
    }
}

/* Sets the trace constant of population p (as a source when plus), or
 * reports the conflict. */
static n4d_status set_trace(n4d_sim *sim, n4d__plastic *pl, int32_t p, bool plus, double inv_tau,
                            uint8_t nearest, const char *proj)
{
    double *slot = plus ? &pl->inv_tau_plus[p] : &pl->inv_tau_minus[p];
    uint8_t *nslot = plus ? &pl->nearest_plus[p] : &pl->nearest_minus[p];
    if (*slot != 0.0 && (*slot != inv_tau || *nslot != nearest))
        return n4d__error(&sim->hdr, N4D_E_CONFIG,
                          "stdp projection \"%s\": population \"%s\" already has another %s "
                          "(traces are kept per neuron, as NEST does: every stdp projection %s "
                          "a population must use the same %s and pairing)",
                          proj, sim->model->pops[p].name, plus ? "tau_plus" : "tau_minus",
                          plus ? "from" : "into", plus ? "tau_plus" : "tau_minus");
    *slot = inv_tau;
    *nslot = nearest;
    return N4D_OK;
}

n4d_status n4d__plastic_create(n4d_sim *sim)
{
    const n4d_model *m = sim->model;
    if (!m->n_cls)
        return N4D_OK;
    n4d_context *ctx = sim->ctx;
    const uint64_t N = sim->n ? sim->n : 1, G = m->syn.n_seg;
    const size_t P = m->n_pops ? m->n_pops : 1;
    n4d__plastic *pl = n4d__calloc(ctx, N4D_MEM_OTHER, 1, sizeof *pl);
    if (!pl)
        return n4d__error(&sim->hdr, N4D_E_NOMEM, "plasticity: out of memory");
    sim->plastic = pl;
    pl->da_mod = -1;
    pl->n_cls = m->n_cls;
    pl->cls = n4d__calloc(ctx, N4D_MEM_OTHER, m->n_cls, sizeof *pl->cls);
    pl->seg_base = n4d__calloc(ctx, N4D_MEM_SYNAPSES, G ? G : 1, sizeof(uint64_t));
    pl->ring = n4d__calloc(ctx, N4D_MEM_BUFFERS, N, sizeof *pl->ring);
    pl->head = n4d__calloc(ctx, N4D_MEM_BUFFERS, N, sizeof(uint32_t));
    pl->len = n4d__calloc(ctx, N4D_MEM_BUFFERS, N, sizeof(uint32_t));
    pl->cap = n4d__calloc(ctx, N4D_MEM_BUFFERS, N, sizeof(uint32_t));
    pl->flushed = n4d__alloc(ctx, N4D_MEM_BUFFERS, N * sizeof(int64_t));
    pl->recent = n4d__alloc(ctx, N4D_MEM_BUFFERS, N * sizeof(n4d__recent));
    pl->pop_of = n4d__alloc(ctx, N4D_MEM_BUFFERS, N * sizeof(int32_t));
    pl->pop_tracked = n4d__calloc(ctx, N4D_MEM_OTHER, P, 1);
    pl->inv_tau_plus = n4d__calloc(ctx, N4D_MEM_OTHER, P, sizeof(double));
    pl->inv_tau_minus = n4d__calloc(ctx, N4D_MEM_OTHER, P, sizeof(double));
    pl->nearest_plus = n4d__calloc(ctx, N4D_MEM_OTHER, P, 1);
    pl->nearest_minus = n4d__calloc(ctx, N4D_MEM_OTHER, P, 1);
    pl->trace_tab = n4d__calloc(ctx, N4D_MEM_OTHER, 2 * P, sizeof *pl->trace_tab);
    if (!pl->cls || !pl->seg_base || !pl->ring || !pl->head || !pl->len || !pl->cap ||
        !pl->flushed || !pl->recent || !pl->pop_of || !pl->pop_tracked || !pl->inv_tau_plus ||
        !pl->inv_tau_minus || !pl->nearest_plus || !pl->nearest_minus || !pl->trace_tab)
        return n4d__error(&sim->hdr, N4D_E_NOMEM, "plasticity: out of memory");
    for (uint64_t i = 0; i < sim->n; i++) {
        pl->flushed[i] = -1;
        for (int q = 0; q < N4D__RECENT; q++)
            pl->recent[i].step[q] = N4D__NO_SPIKE;
        pl->recent[i].kplus = pl->recent[i].kminus = 0.0f;
    }
    for (size_t r = 0; r < m->n_runs; r++)
        for (uint64_t i = m->runs[r].first; i < m->runs[r].first + m->runs[r].n; i++)
            pl->pop_of[i] = m->runs[r].pop;

    /* the classes, their traces and the window */
    double tau_max = 0.0;
    for (uint32_t k = 0; k < m->n_cls; k++) {
        const n4d__syn_class *def = &m->cls[k];
        n4d__plastic_class *c = &pl->cls[k];
        compile_class(c, def, sim->dt);
        for (size_t p = 0; p < m->n_pops && c->rule != N4D__SYN_STATIC; p++) /* static: no rule */
            if ((def->source < 0 || def->source == (int32_t)p) ||
                (def->target < 0 || def->target == (int32_t)p))
                pl->pop_tracked[p] = 1;
        if (c->rule == N4D__SYN_STDP_DOPAMINE || (c->rule == N4D__SYN_HEBB_4DNC && c->k.hebb.dmod > 0)) {
            /* they read the dopamine modulator */
            pl->da_mod = n4d__mod_find(m, "dopamine");
            if (pl->da_mod < 0)
                return n4d__error(&sim->hdr, N4D_E_CONFIG,
                                  "synapse class \"%s\" (%s%s) reads the modulator \"dopamine\", "
                                  "which the model does not declare (a \"neuromodulation\" "
                                  "section of the config, or n4d_model_add_modulator)",
                                  def->name, def->sm->name,
                                  c->rule == N4D__SYN_HEBB_4DNC ? " with dopamine_modulation" : "");
            pl->da_spikes = m->mods[pl->da_mod].driver >= 0;
        }
        if (c->rule == N4D__SYN_STDP_DOPAMINE) {
            n4d__stdpda_k *dk = &c->k.da;
            if (!(dk->wmin <= dk->wmax))
                return n4d__error(&sim->hdr, N4D_E_CONFIG,
                                  "stdp_dopamine projection \"%s\": Wmin %g is above Wmax %g",
                                  def->name, dk->wmin, dk->wmax);
            dk->spikes = pl->da_spikes;
            /* NEST: taus = (tau_c + tau_n) / (tau_c tau_n) */
            dk->taus = dk->spikes ? (dk->tau_c + dk->tau_n) / (dk->tau_c * dk->tau_n) : 1.0 / dk->tau_c;
            pl->has_da = true;
            n4d_status st;
            if ((st = set_trace(sim, pl, def->source, true, dk->inv_tau_plus, 0, def->name)) ||
                (st = set_trace(sim, pl, def->target, false, dk->inv_tau_minus, 0, def->name)))
                return st;
            tau_max = fmax(tau_max, fmax(def->params[0], def->params[1]));
        }
        if (c->rule == N4D__SYN_STDP) {
            n4d_status st;
            if ((st = set_trace(sim, pl, def->source, true, c->k.stdp.inv_tau_plus,
                                (uint8_t)c->k.stdp.nearest, def->name)) ||
                (st = set_trace(sim, pl, def->target, false, c->k.stdp.inv_tau_minus,
                                (uint8_t)c->k.stdp.nearest, def->name)))
                return st;
            tau_max = fmax(tau_max, fmax(def->params[0], def->params[1]));
        }
    }
    pl->window = (int64_t)ceil(WINDOW_TAUS * tau_max / sim->dt) + (int64_t)m->syn.max_delay;
    pl->keep = pl->window + (int64_t)m->syn.max_delay + 2 * N4D__MAX_BATCH_STEPS + FLUSH_EVERY + 1;
    pl->last_flush_check = -1;
    for (uint32_t k = 0; k < m->n_cls; k++) {
        n4d__plastic_class *c = &pl->cls[k];
        if (c->rule != N4D__SYN_STDP)
            continue;
        c->decay_plus = n4d__alloc(ctx, N4D_MEM_OTHER, (size_t)pl->window * sizeof(double));
        c->decay_minus = n4d__alloc(ctx, N4D_MEM_OTHER, (size_t)pl->window * sizeof(double));
        if (!c->decay_plus || !c->decay_minus)
            return n4d__error(&sim->hdr, N4D_E_NOMEM, "plasticity: out of memory");
        for (int64_t h = 0; h < pl->window; h++) {
            c->decay_plus[h] = exp(-(double)h * c->k.stdp.inv_tau_plus);
            c->decay_minus[h] = exp(-(double)h * c->k.stdp.inv_tau_minus);
        }
        /* the same numbers serve the traces of its populations (set_trace:
         * one tau per population and sign) */
        if (c->def->source >= 0 && c->def->target >= 0) {
            pl->trace_tab[2 * (size_t)c->def->source] = c->decay_plus;
            pl->trace_tab[2 * (size_t)c->def->target + 1] = c->decay_minus;
        }
    }
    if (pl->has_da) {
        /* stdp_dopamine: a presynaptic neuron's last update is at most
         * 2 da_period old; what it reads is kept that long */
        pl->da_period = pl->window > DA_PERIOD ? pl->window : DA_PERIOD;
        pl->da_next = pl->da_period;
        pl->da_keep = 2 * pl->da_period + 2 * N4D__MAX_BATCH_STEPS + (int64_t)m->syn.max_delay + 2;
        const int64_t keep = pl->da_keep + pl->window + FLUSH_EVERY;
        if (keep > pl->keep)
            pl->keep = keep;
        pl->da_upd = n4d__alloc(ctx, N4D_MEM_BUFFERS, N * sizeof(int64_t));
        pl->da_step = n4d__alloc(ctx, N4D_MEM_BUFFERS, DA_CAP0 * sizeof(int64_t));
        pl->da_val = n4d__alloc(ctx, N4D_MEM_BUFFERS, DA_CAP0 * sizeof(double));
        pl->da_cap = DA_CAP0;
        if (!pl->da_upd || !pl->da_step || !pl->da_val)
            return n4d__error(&sim->hdr, N4D_E_NOMEM, "plasticity: out of memory");
        for (uint64_t i = 0; i < N; i++)
            pl->da_upd[i] = -1;
    }

    /* class-local indices of the segments, and the weights */
    for (uint64_t g = 0; g < G; g++) {
        const uint32_t cl = N4D__SEG_CLASS(m->syn.seg_key[g]);
        if (!cl)
            continue;
        if (cl > m->n_cls)
            return n4d__error(&sim->hdr, N4D_E_INTERNAL, "synapse segment %llu has class %u of %u",
                              (unsigned long long)g, cl, m->n_cls);
        n4d__plastic_class *c = &pl->cls[cl - 1];
        pl->seg_base[g] = c->n;
        c->n += m->syn.seg_off[g + 1] - m->syn.seg_off[g];
    }
    for (uint32_t k = 0; k < pl->n_cls; k++) {
        n4d__plastic_class *c = &pl->cls[k];
        const uint64_t n = c->n ? c->n : 1;
        if (c->rule == N4D__SYN_HEBB_4DNC || c->rule == N4D__SYN_STDP_DOPAMINE ||
            c->rule == N4D__SYN_STATIC) {
            /* static: a pair whose weights a cell lifecycle mutates */
            c->wd = n4d__alloc(ctx, N4D_MEM_SYNAPSES, n * sizeof(double));
            if (c->rule == N4D__SYN_STDP_DOPAMINE) {
                c->dc = n4d__calloc(ctx, N4D_MEM_SYNAPSES, n, sizeof(double));
                c->dn = n4d__alloc(ctx, N4D_MEM_BUFFERS, DA_CAP0 * sizeof(double));
                if (!c->dc || !c->dn)
                    return n4d__error(&sim->hdr, N4D_E_NOMEM,
                                      "plasticity: out of memory for %llu synapses of \"%s\"",
                                      (unsigned long long)c->n, c->def->name);
            }
            if (!c->wd)
                return n4d__error(&sim->hdr, N4D_E_NOMEM,
                                  "plasticity: out of memory for %llu weights of \"%s\"",
                                  (unsigned long long)c->n, c->def->name);
        } else if (c->rule == N4D__SYN_STDP) {
            c->wf = n4d__alloc(ctx, N4D_MEM_SYNAPSES, n * sizeof(float));
            if (!c->wf)
                return n4d__error(&sim->hdr, N4D_E_NOMEM,
                                  "plasticity: out of memory for %llu weights of \"%s\"",
                                  (unsigned long long)c->n, c->def->name);
        } else if (c->rule == N4D__SYN_TSODYKS) {
            c->tu = n4d__alloc(ctx, N4D_MEM_NEURONS, N * sizeof(double));
            c->tx = n4d__alloc(ctx, N4D_MEM_NEURONS, N * sizeof(double));
            c->tlast = n4d__alloc(ctx, N4D_MEM_NEURONS, N * sizeof(int64_t));
            if (!c->tu || !c->tx || !c->tlast)
                return n4d__error(&sim->hdr, N4D_E_NOMEM, "plasticity: out of memory");
            for (uint64_t i = 0; i < sim->n; i++) {
                c->tu[i] = c->k.tso.u0;
                c->tx[i] = c->k.tso.x0;
                c->tlast[i] = -1; /* NEST: the first spike is h = its time after 0 */
            }
        }
    }
    const double inv = m->syn.inv_scale;
    for (uint64_t g = 0; g < G; g++) {
        const uint32_t cl = N4D__SEG_CLASS(m->syn.seg_key[g]);
        if (!cl)
            continue;
        n4d__plastic_class *c = &pl->cls[cl - 1];
        const uint64_t j0 = m->syn.seg_off[g], j1 = m->syn.seg_off[g + 1];
        for (uint64_t j = j0; j < j1; j++) {
            const double w = (double)m->syn.weight_q[j] * inv;
            if (c->wd)
                c->wd[pl->seg_base[g] + (j - j0)] = w;
            else if (c->wf)
                c->wf[pl->seg_base[g] + (j - j0)] = (float)w;
        }
    }
    return N4D_OK;
}

void n4d__plastic_destroy(n4d_sim *sim)
{
    n4d__plastic *pl = sim->plastic;
    if (!pl)
        return;
    n4d_context *ctx = sim->ctx;
    const uint64_t N = sim->n ? sim->n : 1, G = sim->model->syn.n_seg;
    const size_t P = sim->model->n_pops ? sim->model->n_pops : 1;
    if (pl->cls)
        for (uint32_t k = 0; k < pl->n_cls; k++) {
            n4d__plastic_class *c = &pl->cls[k];
            const uint64_t n = c->n ? c->n : 1;
            n4d__free(ctx, N4D_MEM_SYNAPSES, c->wd, n * sizeof(double));
            n4d__free(ctx, N4D_MEM_SYNAPSES, c->wf, n * sizeof(float));
            n4d__free(ctx, N4D_MEM_OTHER, c->decay_plus, (size_t)pl->window * sizeof(double));
            n4d__free(ctx, N4D_MEM_OTHER, c->decay_minus, (size_t)pl->window * sizeof(double));
            n4d__free(ctx, N4D_MEM_SYNAPSES, c->dc, n * sizeof(double));
            n4d__free(ctx, N4D_MEM_BUFFERS, c->dn, (c->dn ? pl->da_cap : 0) * sizeof(double));
            n4d__free(ctx, N4D_MEM_NEURONS, c->tu, N * sizeof(double));
            n4d__free(ctx, N4D_MEM_NEURONS, c->tx, N * sizeof(double));
            n4d__free(ctx, N4D_MEM_NEURONS, c->tlast, N * sizeof(int64_t));
        }
    if (pl->ring && pl->cap)
        for (uint64_t i = 0; i < sim->n; i++)
            n4d__free(ctx, N4D_MEM_BUFFERS, pl->ring[i], pl->cap[i] * sizeof(n4d__spk));
    n4d__free(ctx, N4D_MEM_OTHER, pl->cls, pl->n_cls * sizeof *pl->cls);
    n4d__free(ctx, N4D_MEM_SYNAPSES, pl->seg_base, (G ? G : 1) * sizeof(uint64_t));
    n4d__free(ctx, N4D_MEM_BUFFERS, pl->ring, N * sizeof *pl->ring);
    n4d__free(ctx, N4D_MEM_BUFFERS, pl->head, N * sizeof(uint32_t));
    n4d__free(ctx, N4D_MEM_BUFFERS, pl->len, N * sizeof(uint32_t));
    n4d__free(ctx, N4D_MEM_BUFFERS, pl->cap, N * sizeof(uint32_t));
    n4d__free(ctx, N4D_MEM_BUFFERS, pl->flushed, N * sizeof(int64_t));
    n4d__free(ctx, N4D_MEM_BUFFERS, pl->recent, N * sizeof(n4d__recent));
    n4d__free(ctx, N4D_MEM_BUFFERS, pl->pop_of, N * sizeof(int32_t));
    n4d__free(ctx, N4D_MEM_OTHER, pl->pop_tracked, P);
    n4d__free(ctx, N4D_MEM_OTHER, pl->inv_tau_plus, P * sizeof(double));
    n4d__free(ctx, N4D_MEM_OTHER, pl->inv_tau_minus, P * sizeof(double));
    n4d__free(ctx, N4D_MEM_OTHER, pl->nearest_plus, P);
    n4d__free(ctx, N4D_MEM_OTHER, pl->nearest_minus, P);
    n4d__free(ctx, N4D_MEM_OTHER, pl->trace_tab, 2 * P * sizeof *pl->trace_tab);
    n4d__free(ctx, N4D_MEM_BUFFERS, pl->flush_ids, pl->cap_flush * sizeof(uint32_t));
    n4d__free(ctx, N4D_MEM_BUFFERS, pl->da_step, pl->da_cap * sizeof(int64_t));
    n4d__free(ctx, N4D_MEM_BUFFERS, pl->da_val, pl->da_cap * sizeof(double));
    n4d__free(ctx, N4D_MEM_BUFFERS, pl->da_upd, (pl->da_upd ? N : 0) * sizeof(int64_t));
    n4d__free(ctx, N4D_MEM_BUFFERS, pl->da_list, pl->cap_da * sizeof *pl->da_list);
    n4d__free(ctx, N4D_MEM_OTHER, pl, sizeof *pl);
    sim->plastic = NULL;
}

/* ---- a batch ---------------------------------------------------------------------- */

n4d_status n4d__plastic_batch_begin(n4d_sim *sim, uint64_t step0, uint32_t steps)
{
    n4d__plastic *pl = sim->plastic;
    pl->batch0 = (int64_t)step0;
    pl->n_flush = 0;
    pl->n_da = 0;
    if (pl->has_da) {
        /* the dopamine events of the batch's steps (modulators.h: known
         * before the batch), after dropping those no synapse reads */
        while (pl->da_len >= 2 &&
               pl->da_step[da_at(pl, 1)] < (int64_t)step0 - pl->da_keep) {
            pl->da_head = (pl->da_head + 1) & (pl->da_cap - 1);
            pl->da_len--;
        }
        const n4d__mod_rt *r = &sim->mods->m[pl->da_mod];
        const double base = sim->model->mods[pl->da_mod].baseline;
        for (uint32_t j = 0; j < steps; j++) {
            const int64_t t = (int64_t)step0 + j;
            n4d_status st = N4D_OK;
            if (pl->da_spikes) {
                if (r->arrive[j])
                    st = da_append(sim, pl, t, (double)r->arrive[j]);
            } else {
                const double n = r->lv[j] - base;
                if (!pl->da_len || pl->da_val[da_at(pl, pl->da_len - 1)] != n)
                    st = da_append(sim, pl, t, n);
            }
            if (st)
                return st;
        }
    }
    /* stdp: presynaptic neurons whose facilitation window closed */
    const int64_t check = (int64_t)(step0 / FLUSH_EVERY);
    if (pl->window <= (int64_t)sim->model->syn.max_delay || check == pl->last_flush_check)
        return N4D_OK;
    pl->last_flush_check = check;
    for (uint64_t i = 0; i < sim->n; i++) {
        const int64_t t = pl->recent[i].step[0];
        if (t == N4D__NO_SPIKE || pl->flushed[i] == t || t + pl->window > (int64_t)step0 ||
            pl->inv_tau_plus[pl->pop_of[i]] == 0.0)
            continue;
        if (pl->n_flush == pl->cap_flush) {
            size_t cap = pl->cap_flush;
            if (!n4d__grow(sim->ctx, N4D_MEM_BUFFERS, (void **)&pl->flush_ids, &cap,
                           pl->n_flush + 1, sizeof(uint32_t)))
                return N4D_OK; /* flushed later: the result is the same, the history longer */
            pl->cap_flush = cap;
        }
        pl->flush_ids[pl->n_flush++] = (uint32_t)i;
        pl->flushed[i] = t;
    }
    return N4D_OK;
}

/* stdp_dopamine: the presynaptic neurons whose last update is da_period or
 * more before step T (a multiple of da_period) are brought up to date at T
 * by n4d__plastic_flush. Decided from the spikes before T only, before any
 * delivery at T or later, so it does not depend on the batching. */
static n4d_status da_select(n4d_sim *sim, n4d__plastic *pl, int64_t T)
{
    pl->da_trig = T;
    for (uint64_t i = 0; i < sim->n; i++) {
        if (!pl->len[i] || pl->inv_tau_plus[pl->pop_of[i]] == 0.0)
            continue;
        const int64_t kp = hist_before(pl, i, T);
        if (kp < 0) /* never spiked before T: every c is 0, nothing to integrate */
            continue;
        const int64_t tp = hist_at(pl, i, (uint32_t)kp)->step;
        const int64_t from = tp > pl->da_upd[i] ? tp : pl->da_upd[i];
        if (T - from < pl->da_period)
            continue;
        if (!n4d__grow(sim->ctx, N4D_MEM_BUFFERS, (void **)&pl->da_list, &pl->cap_da, pl->n_da + 1,
                       sizeof *pl->da_list))
            return n4d__error(&sim->hdr, N4D_E_NOMEM,
                              "plasticity: out of memory for the stdp_dopamine updates");
        pl->da_list[pl->n_da].id = (uint32_t)i;
        pl->da_list[pl->n_da++].from = from;
        pl->da_upd[i] = T;
    }
    return N4D_OK;
}

/* n4d__trace_next of population p's K+ (minus = 0) or K- (1), its exp
 * read from the population's table where it has one (the same doubles) */
static inline float trace_next(const n4d__plastic *pl, float prev, int64_t h, int32_t p, int minus)
{
    const double inv_tau = minus ? pl->inv_tau_minus[p] : pl->inv_tau_plus[p];
    const int nearest = minus ? pl->nearest_minus[p] : pl->nearest_plus[p];
    const double *tab = pl->trace_tab[2 * (size_t)p + (size_t)minus];
    if (!tab || h >= pl->window || nearest || inv_tau == 0.0)
        return n4d__trace_next(prev, h, pl->window, inv_tau, nearest);
    return (float)((double)prev * tab[h] + 1.0);
}

n4d_status n4d__plastic_append(n4d_sim *sim, uint64_t step, const uint32_t *ids, uint64_t count)
{
    n4d__plastic *pl = sim->plastic;
    const int64_t s = (int64_t)step;
    while (pl->has_da && s >= pl->da_next) { /* the spikes before da_next are all in */
        n4d_status st = da_select(sim, pl, pl->da_next);
        if (st)
            return st;
        pl->da_next += pl->da_period;
    }
    enum { AHEAD = 8 }; /* the spikers' histories are scattered: fetched ahead */
    for (uint64_t q = 0; q < count; q++) {
        if (q + AHEAD < count) {
            const uint32_t a = ids[q + AHEAD];
            __builtin_prefetch(&pl->ring[a]);
            __builtin_prefetch(&pl->recent[a], 1);
        }
        if (q + AHEAD / 2 < count) {
            const uint32_t a = ids[q + AHEAD / 2];
            if (pl->len[a])
                __builtin_prefetch(hist_at(pl, a, pl->len[a] - 1), 1);
        }
        const uint32_t i = ids[q];
        const int32_t p = pl->pop_of[i];
        if (!pl->pop_tracked[p])
            continue;
        /* forget what no rule reads any more, but never the newest spike
         * before the batch (the previous spike of the batch's first) */
        while (pl->len[i] >= 2 && hist_at(pl, i, 0)->step < s - pl->keep &&
               hist_at(pl, i, 1)->step < pl->batch0) {
            pl->head[i] = (pl->head[i] + 1) & (pl->cap[i] - 1);
            pl->len[i]--;
        }
        if (pl->len[i] == pl->cap[i]) {
            n4d_status st = hist_grow(sim, pl, i);
            if (st)
                return st;
        }
        n4d__spk e = {s, 1.0f, 1.0f};
        if (pl->len[i]) { /* the traces: plastic_dev.h, as on the device */
            const n4d__spk *prev = hist_at(pl, i, pl->len[i] - 1);
            const int64_t h = s - prev->step;
            e.kplus = trace_next(pl, prev->kplus, h, p, 0);
            e.kminus = trace_next(pl, prev->kminus, h, p, 1);
        }
        pl->ring[i][(pl->head[i] + pl->len[i]) & (pl->cap[i] - 1)] = e;
        pl->len[i]++;
        n4d__recent_push(&pl->recent[i], &e);
    }
    return N4D_OK;
}

void n4d__plastic_after(n4d_sim *sim, uint64_t step, const uint32_t *ids, uint64_t count)
{
    n4d__plastic *pl = sim->plastic;
    for (uint32_t k = 0; k < pl->n_cls; k++) {
        n4d__plastic_class *c = &pl->cls[k];
        if (c->rule != N4D__SYN_TSODYKS)
            continue;
        const int32_t src = c->def->source;
        for (uint64_t q = 0; q < count; q++) {
            const uint32_t i = ids[q];
            if (src >= 0 && pl->pop_of[i] != src)
                continue;
            n4d__tsodyks_spike(&c->k.tso, (double)((int64_t)step - c->tlast[i]), &c->tu[i],
                               &c->tx[i]);
            c->tlast[i] = (int64_t)step;
        }
    }
}

/* ---- the rules at a synapse ---------------------------------------------------------- */

static inline int64_t fixed(double w, double scale)
{
#if defined(__x86_64__) && defined(__SSE2__)
    /* llrint is this one instruction on x86-64 (glibc, musl): the same
     * result in the current rounding mode, without the call */
    return (int64_t)_mm_cvtsd_si64(_mm_set_sd(w * scale));
#else
    return (int64_t)llrint(w * scale);
#endif
}

/* stdp facilitation of weight w by the postsynaptic spikes of neuron post in
 * (t_prev - d, min(t_end, t_prev + window) - d - ...]: see docs/plasticity.md. */
static inline double stdp_facilitate(const n4d__plastic *pl, const n4d__plastic_class *c,
                                     double w, uint32_t post, int64_t t_prev, double kplus_prev,
                                     int64_t d, int64_t t_end)
{
    const n4d__stdp_k *k = &c->k.stdp;
    /* post spikes t with t_prev - d < t <= t_end - d and t + d - t_prev < window */
    const n4d__recent *rc = &pl->recent[post];
    const int64_t lo = t_prev - d;
    if (rc->step[0] <= lo) /* no spike of post since */
        return w;
    int64_t hi = t_end - d, lim = t_prev + pl->window - d - 1;
    hi = hi < lim ? hi : lim;
    if (rc->step[0] <= hi && rc->step[N4D__RECENT - 1] <= lo) {
        /* every spike in (lo, hi] is among the recent ones: oldest first */
        int n = 1;
        while (rc->step[n] > lo)
            n++;
        for (int e = n - 1; e >= 0; e--)
            w = n4d__stdp_facilitate(k, w, kplus_prev * c->decay_plus[rc->step[e] + d - t_prev]);
        return w;
    }
    int64_t k0 = hist_before(pl, post, hi + 1); /* newest with t <= hi */
    int64_t k1 = k0;
    while (k1 >= 0 && hist_at(pl, post, (uint32_t)k1)->step > t_prev - d)
        k1--;
    for (int64_t e = k1 + 1; e <= k0; e++) {
        const int64_t t = hist_at(pl, post, (uint32_t)e)->step;
        w = n4d__stdp_facilitate(k, w, kplus_prev * c->decay_plus[t + d - t_prev]);
    }
    return w;
}

/* stdp_dopamine, NEST's process_dopa_spikes_: the weight w and the
 * eligibility c of a synapse from step t0 to t1 >= t0, through the
 * dopamine events in (t0, t1]. */
static inline void da_integrate(const n4d__plastic *pl, const n4d__plastic_class *cl, double *w,
                                double *c, int64_t t0, int64_t t1)
{
    const n4d__stdpda_k *k = &cl->k.da;
    const double c0 = *c;
    if (c0 == 0.0 || t1 == t0) { /* what the full form gives: w - 0, clipped; c unchanged */
        *w = *w < k->wmin ? k->wmin : (*w > k->wmax ? k->wmax : *w);
        return;
    }
    int64_t e = da_before(pl, t0 + 1); /* the newest event at or before t0 */
    double n = 0.0;
    if (e >= 0) {
        const uint32_t at = da_at(pl, (uint32_t)e);
        n = cl->dn[at];
        if (k->spikes)
            n *= exp((double)(pl->da_step[at] - t0) * k->dt / k->tau_n);
    }
    double ww = *w;
    int64_t tc = t0; /* w and n are at tc, c at t0 */
    for (e++; e < (int64_t)pl->da_len; e++) {
        const uint32_t at = da_at(pl, (uint32_t)e);
        const int64_t td = pl->da_step[at];
        if (td > t1)
            break;
        const double cd = c0 * exp((double)(t0 - tc) * k->dt / k->tau_c);
        ww = n4d__stdpda_weight(k, ww, cd, n, (double)(tc - td) * k->dt);
        n = cl->dn[at];
        tc = td;
    }
    const double cd = c0 * exp((double)(t0 - tc) * k->dt / k->tau_c);
    *w = n4d__stdpda_weight(k, ww, cd, n, (double)(tc - t1) * k->dt);
    *c = c0 * exp((double)(t0 - t1) * k->dt / k->tau_c);
}

/* stdp_dopamine, NEST's send() up to the depression (and its
 * trigger_update_weight): from the last update t_lu to t1, with the
 * facilitation of c by the postsynaptic spikes t in (t_lu - d, t1 - d]
 * (those within the window of the presynaptic spike t_prev, with K+ after
 * it: kplus). */
static inline void da_advance(const n4d__plastic *pl, const n4d__plastic_class *cl, double *w,
                              double *c, uint32_t post, int64_t t_lu, int64_t t_prev, double kplus,
                              int64_t d, int64_t t1)
{
    const n4d__stdpda_k *k = &cl->k.da;
    int64_t t0 = t_lu;
    if (t_prev >= 0) {
        int64_t hi = t1 - d, lim = t_prev + pl->window - d - 1;
        hi = hi < lim ? hi : lim;
        const int64_t k0 = hist_before(pl, post, hi + 1); /* newest with t <= hi */
        int64_t k1 = k0;
        while (k1 >= 0 && hist_at(pl, post, (uint32_t)k1)->step > t_lu - d)
            k1--;
        for (int64_t e = k1 + 1; e <= k0; e++) {
            const int64_t tp = hist_at(pl, post, (uint32_t)e)->step + d;
            da_integrate(pl, cl, w, c, t0, tp);
            t0 = tp;
            *c += k->a_plus * (kplus * exp(-(double)(tp - t_prev) * k->inv_tau_plus));
        }
    }
    da_integrate(pl, cl, w, c, t0, t1);
}

void n4d__plastic_flush(n4d_sim *sim, uint32_t tlo, uint32_t thi, int full)
{
    n4d__plastic *pl = sim->plastic;
    const n4d__syn_view *syn = &sim->syn;
    for (uint64_t f = 0; f < pl->n_da; f++) { /* stdp_dopamine: up to date at da_trig */
        const uint32_t src = pl->da_list[f].id;
        const int64_t kp = hist_before(pl, src, pl->da_trig);
        const n4d__spk *prev = hist_at(pl, src, (uint32_t)kp);
        for (uint64_t g = syn->seg_ptr[src]; g < syn->seg_ptr[src + 1]; g++) {
            const uint32_t key = syn->seg_key[g];
            const uint32_t cl = N4D__SEG_CLASS(key);
            if (!cl || pl->cls[cl - 1].rule != N4D__SYN_STDP_DOPAMINE)
                continue;
            const n4d__plastic_class *c = &pl->cls[cl - 1];
            uint64_t j0 = syn->seg_off[g], j1 = syn->seg_off[g + 1];
            const uint64_t base = pl->seg_base[g] - j0;
            if (!full) {
                j0 = n4d__lower_bound(syn->target, j0, j1, tlo);
                j1 = n4d__lower_bound(syn->target, j0, j1, thi);
            }
            for (uint64_t j = j0; j < j1; j++)
                da_advance(pl, c, &c->wd[base + j], &c->dc[base + j], syn->target[j],
                           pl->da_list[f].from, prev->step, (double)prev->kplus,
                           N4D__SEG_DELAY(key), pl->da_trig);
        }
    }
    for (uint64_t f = 0; f < pl->n_flush; f++) {
        const uint32_t src = pl->flush_ids[f];
        const n4d__spk *last = hist_at(pl, src, pl->len[src] - 1);
        for (uint64_t g = syn->seg_ptr[src]; g < syn->seg_ptr[src + 1]; g++) {
            const uint32_t key = syn->seg_key[g];
            const uint32_t cl = N4D__SEG_CLASS(key);
            if (!cl || pl->cls[cl - 1].rule != N4D__SYN_STDP)
                continue;
            const n4d__plastic_class *c = &pl->cls[cl - 1];
            uint64_t j0 = syn->seg_off[g], j1 = syn->seg_off[g + 1];
            const uint64_t base = pl->seg_base[g] - j0;
            if (!full) {
                j0 = n4d__lower_bound(syn->target, j0, j1, tlo);
                j1 = n4d__lower_bound(syn->target, j0, j1, thi);
            }
            const int64_t d = N4D__SEG_DELAY(key);
            for (uint64_t j = j0; j < j1; j++) {
                const double w =
                    stdp_facilitate(pl, c, (double)c->wf[base + j], syn->target[j],
                                    last->step, (double)last->kplus, d, INT64_MAX / 4);
                c->wf[base + j] = (float)w;
            }
        }
    }
}

void n4d__plastic_pre_find(const n4d_sim *sim, uint32_t src, uint64_t step,
                           n4d__plastic_pre *pre)
{
    const n4d__plastic *pl = sim->plastic;
    const int64_t kp = hist_before(pl, src, (int64_t)step);
    pre->prev = kp >= 0 ? hist_at(pl, src, (uint32_t)kp) : NULL;
    /* hebb_4dnc: the row's weights were last set at the previous spike, or
     * at the source's birth (a cell lifecycle mutates the weights then) */
    int64_t ref = pre->prev ? pre->prev->step : -1;
    if (sim->life && sim->life->born[src] > ref)
        ref = sim->life->born[src];
    pre->hebb_ref = ref;
}

/* hebb_4dnc at the synapses [j0, j1) of segment g for the spike of src at
 * `step` (n4d__plastic_deliver); synapse j's weight is wd[j - off]. */
static inline void deliver_hebb(n4d_sim *sim, const n4d__plastic_class *c,
                                const n4d__plastic_pre *pre, uint64_t step, const uint32_t *tg,
                                double *wd, uint64_t off, uint64_t j0, uint64_t j1, int32_t *acc)
{
    const n4d__plastic *pl = sim->plastic;
    const double scale = sim->model->syn.scale;
    const int64_t s = (int64_t)step;
    const n4d__hebb_k *k = &c->k.hebb;
    const double da = k->dmod > 0 ? n4d__mods_level(sim, pl->da_mod, step) * k->dmod : 1.0;
    /* the weight was last set at the previous spike, or at the birth of
     * either neuron (a cell lifecycle mutates the weights then) */
    const int64_t *born = sim->life ? sim->life->born : NULL;
    const int64_t ref = pre->hebb_ref;
    const n4d__recent *rc = pl->recent;
    for (uint64_t j = j0; j < j1; j++) {
        const uint32_t t = tg[j];
        const int64_t r = born && born[t] > ref ? born[t] : ref;
        double w = n4d__hebb_idle(k, wd[j - off], (uint64_t)(s - r - 1));
        /* did the target spike at s: its newest spike, unless a later
         * step of the batch has one */
        const int64_t tn = rc[t].step[0];
        w = n4d__hebb_event(k, w, tn <= s ? tn == s : hist_spiked(pl, t, s), da);
        wd[j - off] = w;
        if (acc) /* NULL: the spike is lost (lifecycle.h), the rule sees it */
            n4d__ring_add(sim, acc, t, fixed(w, scale));
    }
}

/* stdp, stdp_dopamine, tsodyks (n4d__plastic_deliver); kept out of line, so
 * that the frame of these rules is not set up for every hebb_4dnc and
 * static segment (a few synapses each) */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void deliver_rule(n4d_sim *sim, const n4d__plastic_pre *pre, uint32_t src, uint64_t step,
                         uint64_t g, uint64_t j0, uint64_t j1, int32_t *acc)
{
    n4d__plastic *pl = sim->plastic;
    const n4d__syn_view *syn = &sim->syn;
    const uint32_t key = syn->seg_key[g];
    n4d__plastic_class *c = &pl->cls[N4D__SEG_CLASS(key) - 1];
    const uint32_t *tg = syn->target;
    const uint64_t base = pl->seg_base[g] - syn->seg_off[g];
    const double scale = sim->model->syn.scale;
    const int64_t s = (int64_t)step;
    /* the spike before this one in the presynaptic history */
    const n4d__spk *prev = pre->prev;
    switch (c->rule) {
    case N4D__SYN_STDP: {
        const n4d__stdp_k *k = &c->k.stdp;
        const int64_t d = N4D__SEG_DELAY(key);
        const bool facil = prev && pl->flushed[src] != prev->step;
        for (uint64_t j = j0; j < j1; j++) {
            const uint32_t post = tg[j];
            /* the targets are scattered: ask for a later one's spikes now */
            if (j + PREFETCH_AHEAD < j1)
                __builtin_prefetch(&pl->recent[tg[j + PREFETCH_AHEAD]]);
            double w = (double)c->wf[base + j];
            if (facil)
                w = stdp_facilitate(pl, c, w, post, prev->step, (double)prev->kplus, d, s);
            /* depression by K- of the postsynaptic neuron at s - d (its spikes before) */
            const n4d__recent *rc = &pl->recent[post];
            int64_t te = rc->step[0];
            float km = rc->kminus;
            if (te >= s - d) { /* a later spike of the batch: look further back */
                const int64_t kq = hist_before(pl, post, s - d);
                te = kq >= 0 ? hist_at(pl, post, (uint32_t)kq)->step : N4D__NO_SPIKE;
                km = kq >= 0 ? hist_at(pl, post, (uint32_t)kq)->kminus : 0.0f;
            }
            if (te != N4D__NO_SPIKE && s - d - te < pl->window)
                w = n4d__stdp_depress(k, w, (double)km * c->decay_minus[s - d - te]);
            c->wf[base + j] = (float)w;
            if (acc)
                n4d__ring_add(sim, acc, post, fixed((double)c->wf[base + j], scale));
        }
        break;
    }
    case N4D__SYN_STDP_DOPAMINE: {
        const n4d__stdpda_k *k = &c->k.da;
        const int64_t d = N4D__SEG_DELAY(key);
        const int64_t t_prev = prev ? prev->step : -1;
        /* NEST: t_last_update starts at 0 */
        int64_t t_lu = t_prev > 0 ? t_prev : 0;
        t_lu = pl->da_upd[src] > t_lu ? pl->da_upd[src] : t_lu;
        const double kplus = prev ? (double)prev->kplus : 0.0;
        for (uint64_t j = j0; j < j1; j++) {
            const uint32_t post = tg[j];
            double w = c->wd[base + j], cc = c->dc[base + j];
            da_advance(pl, c, &w, &cc, post, t_lu, t_prev, kplus, d, s);
            /* depression of c by K- of the postsynaptic neuron at s - d */
            const int64_t kq = hist_before(pl, post, s - d);
            if (kq >= 0) {
                const n4d__spk *e = hist_at(pl, post, (uint32_t)kq);
                if (s - d - e->step < pl->window)
                    cc -= k->a_minus * ((double)e->kminus *
                                        exp(-(double)(s - d - e->step) * k->inv_tau_minus));
            }
            c->wd[base + j] = w;
            c->dc[base + j] = cc;
            if (acc) /* NULL: the spike is lost (lifecycle.h), the rule sees it */
                n4d__ring_add(sim, acc, post, fixed(w, scale));
        }
        break;
    }
    case N4D__SYN_TSODYKS: {
        /* the state at this spike: the state before the batch, then every
         * spike of the batch up to this one */
        double u = c->tu[src], x = c->tx[src];
        int64_t tl = c->tlast[src];
        for (int64_t e = hist_before(pl, src, pl->batch0) + 1; e < (int64_t)pl->len[src]; e++) {
            const int64_t t = hist_at(pl, src, (uint32_t)e)->step;
            if (t > s)
                break;
            n4d__tsodyks_spike(&c->k.tso, (double)(t - tl), &u, &x);
            tl = t;
        }
        const double ux = u * x;
        const int32_t *wq = syn->weight_q;
        for (uint64_t j = j0; j < j1 && acc; j++)
            n4d__ring_add(sim, acc, tg[j], (int64_t)llrint(ux * (double)wq[j]));
        break;
    }
    default:
        break;
    }
}

void n4d__plastic_deliver(n4d_sim *sim, const n4d__plastic_pre *pre, uint32_t src, uint64_t step,
                          uint64_t g, uint64_t j0, uint64_t j1, int32_t *acc)
{
    n4d__plastic *pl = sim->plastic;
    const n4d__syn_view *syn = &sim->syn;
    const n4d__plastic_class *c = &pl->cls[N4D__SEG_CLASS(syn->seg_key[g]) - 1];
    const uint32_t *tg = syn->target;
    const uint64_t base = pl->seg_base[g] - syn->seg_off[g];
    if (c->rule == N4D__SYN_HEBB_4DNC) {
        /* not c->wd + base: base wraps below 0 when the class's synapses
         * start before the segment's offset (pointer overflow) */
        deliver_hebb(sim, c, pre, step, tg, c->wd + pl->seg_base[g], syn->seg_off[g], j0, j1, acc);
    } else if (c->rule == N4D__SYN_STATIC) { /* the sim's own weights of a static pair */
        const double scale = sim->model->syn.scale;
        if (acc)
            for (uint64_t j = j0; j < j1; j++)
                n4d__ring_add(sim, acc, tg[j], fixed(c->wd[base + j], scale));
    } else {
        deliver_rule(sim, pre, src, step, g, j0, j1, acc);
    }
}

double n4d__plastic_weight(const n4d_sim *sim, uint64_t src, uint64_t g, uint64_t j)
{
    const n4d__plastic *pl = sim->plastic;
    const n4d__synapses *s = &sim->model->syn;
    const uint32_t cl = pl ? N4D__SEG_CLASS(s->seg_key[g]) : 0;
    if (!cl) /* the sim's copy when n4d_sim_set_weights made one */
        return (double)sim->syn.weight_q[j] * s->inv_scale;
    const n4d__plastic_class *c = &pl->cls[cl - 1];
    const uint64_t at = pl->seg_base[g] + (j - s->seg_off[g]);
    if (c->rule == N4D__SYN_STDP)
        return (double)c->wf[at];
    if (c->rule == N4D__SYN_STDP_DOPAMINE || /* as of its last update, as NEST reports it */
        c->rule == N4D__SYN_STATIC)
        return c->wd[at];
    if (c->rule == N4D__SYN_HEBB_4DNC) {
        /* the source's last spike before the current step is the synapse's
         * last update (or a birth at either end); the steps since only clip
         * and decay */
        int64_t last = pl->len[src] ? hist_at(pl, src, pl->len[src] - 1)->step : -1;
        const int64_t *born = sim->life ? sim->life->born : NULL;
        if (born) {
            const uint32_t t = s->target[j];
            last = born[src] > last ? born[src] : last;
            last = born[t] > last ? born[t] : last;
        }
        const int64_t now = (int64_t)sim->step - 1;
        return n4d__hebb_idle(&c->k.hebb, c->wd[at], (uint64_t)(now - last));
    }
    return (double)s->weight_q[j] * s->inv_scale; /* tsodyks: the weight before u * x */
}

bool n4d__plastic_set_weight(n4d_sim *sim, uint64_t g, uint64_t j, double w)
{
    n4d__plastic *pl = sim->plastic;
    const n4d__synapses *s = &sim->model->syn;
    const uint32_t cl = pl ? N4D__SEG_CLASS(s->seg_key[g]) : 0;
    if (!cl)
        return false;
    n4d__plastic_class *c = &pl->cls[cl - 1];
    if (!c->wd)
        return false;
    c->wd[pl->seg_base[g] + (j - s->seg_off[g])] = w;
    return true;
}

/* ---- the public reading and writing of weights ------------------------------------------ */

typedef struct wsel {
    uint32_t target;
    double w;
    uint64_t g, j; /* segment and synapse */
} wsel;

static int cmp_wsel(const void *a, const void *b)
{
    const wsel *x = a, *y = b;
    if (x->target != y->target)
        return x->target < y->target ? -1 : 1;
    return (x->w > y->w) - (x->w < y->w);
}

/* Visits the synapses of `projection` (see n4d_sim_get_weights) in its
 * order: fn(ud, k, source user id, wsel) for the k-th; a non-zero status
 * from fn stops the walk. *count: the synapses visited. */
typedef n4d_status (*weight_fn)(void *ud, uint64_t k, uint32_t source, const wsel *e);

static n4d_status weights_walk(n4d_sim *sim, const char *projection, const char *fname,
                               weight_fn fn, void *ud, uint64_t *count)
{
    const n4d_model *m = sim->model;
    int32_t src_pop = -1, tgt_pop = -1, channel = -1;
    if (projection) {
        bool found = false;
        for (size_t i = 0; i < m->n_projs && !found; i++)
            if (strcmp(m->projs[i].name, projection) == 0) {
                src_pop = m->projs[i].source;
                tgt_pop = m->projs[i].target;
                found = true;
                /* another projection between the same populations: its
                 * synapses are told apart only by their sign */
                const int32_t ty = m->projs[i].d.syn_type;
                for (size_t k = 0; k < m->n_projs; k++) {
                    const n4d__projection *o = &m->projs[k];
                    if (k == i || o->source != src_pop || o->target != tgt_pop)
                        continue;
                    if (ty == N4D_SYN_AUTO || o->d.syn_type == N4D_SYN_AUTO || o->d.syn_type == ty)
                        return n4d__error(
                            &sim->hdr, N4D_E_CONFIG,
                            "%s: projections \"%s\" and \"%s\" connect the same "
                            "populations with synapses of the same sign, which are stored "
                            "together: ask for \"%s\" only when the two differ in type "
                            "(excitatory, inhibitory)",
                            fname, projection, o->name, projection);
                    channel = ty == N4D_SYN_EXCITATORY ? 0 : 1;
                }
            }
        for (uint32_t k = 0; k < m->n_cls && !found; k++)
            if (strcmp(m->cls[k].name, projection) == 0) {
                src_pop = m->cls[k].source;
                tgt_pop = m->cls[k].target;
                found = true;
            }
        if (!found)
            return n4d__error(&sim->hdr, N4D_E_CONFIG, "%s: no projection or synapse class \"%s\"",
                              fname, projection);
    }
    const n4d__synapses *s = &m->syn;
    uint64_t k = 0, rowcap = 0;
    wsel *tmp = NULL;
    n4d_status st = N4D_OK;
    for (uint64_t u = 0; u < sim->n && !st; u++) { /* sources by user id */
        const uint64_t row = n4d__to_internal(m, u);
        if (src_pop >= 0 && n4d__pop_of(m, u) != src_pop)
            continue;
        for (uint64_t g = s->seg_ptr[row]; g < s->seg_ptr[row + 1] && !st; g++) {
            if (channel >= 0 && (int32_t)N4D__SEG_CH(s->seg_key[g]) != channel)
                continue;
            const uint64_t lo = s->seg_off[g], n = s->seg_off[g + 1] - lo;
            if (n > rowcap) {
                n4d__free(sim->ctx, N4D_MEM_OTHER, tmp, rowcap * sizeof *tmp);
                rowcap = n;
                if (!(tmp = n4d__alloc(sim->ctx, N4D_MEM_OTHER, rowcap * sizeof *tmp))) {
                    rowcap = 0;
                    st = n4d__error(&sim->hdr, N4D_E_NOMEM, "out of memory reading weights");
                    break;
                }
            }
            uint64_t kept = 0;
            if (sim->life && !sim->life->alive[row])
                break; /* removed with its synapses (lifecycle.h) */
            for (uint64_t j = lo; j < lo + n; j++) {
                const uint64_t t = n4d__to_user(m, s->target[j]);
                if (tgt_pop >= 0 && n4d__pop_of(m, t) != tgt_pop)
                    continue;
                if (sim->life && !sim->life->alive[s->target[j]])
                    continue;
                tmp[kept++] = (wsel){(uint32_t)t, n4d__plastic_weight(sim, row, g, j), g, j};
            }
            if (m->perm) /* in user ids, a segment is ordered by (target, weight) */
                qsort(tmp, kept, sizeof *tmp, cmp_wsel);
            for (uint64_t q = 0; q < kept && !st; q++, k++)
                st = fn(ud, k, (uint32_t)u, &tmp[q]);
        }
    }
    n4d__free(sim->ctx, N4D_MEM_OTHER, tmp, rowcap * sizeof *tmp);
    *count = k;
    return st;
}

typedef struct get_ud {
    uint64_t cap;
    uint32_t *sources, *targets;
    float *weights;
} get_ud;

static n4d_status get_one(void *ud, uint64_t k, uint32_t source, const wsel *e)
{
    get_ud *o = ud;
    if (k >= o->cap)
        return N4D_OK;
    if (o->sources)
        o->sources[k] = source;
    if (o->targets)
        o->targets[k] = e->target;
    if (o->weights)
        o->weights[k] = (float)e->w;
    return N4D_OK;
}

n4d_status n4d_sim_get_weights(n4d_sim *sim, const char *projection, uint64_t cap,
                               uint32_t *sources, uint32_t *targets, float *weights,
                               uint64_t *count)
{
    if (!n4d__is_handle(sim, N4D__MAGIC_SIM))
        return N4D_E_INVALID_ARG;
    n4d__clear_error(&sim->hdr);
    if (!count)
        return n4d__error(&sim->hdr, N4D_E_INVALID_ARG, "n4d_sim_get_weights: count is NULL");
    if (sim->plastic && sim->ops && sim->ops->sync) { /* a device: its weights are newer */
        n4d_status sst = sim->ops->sync(sim, (int)(N4D__SYNC_TO_HOST | N4D__SYNC_PLASTIC));
        if (sst)
            return sst;
    }
    get_ud o = {cap, sources, targets, weights};
    return weights_walk(sim, projection, "n4d_sim_get_weights", get_one, &o, count);
}

typedef struct set_ud {
    n4d_sim *sim;
    const float *w;
    uint64_t n;
    int32_t *dst; /* NULL: check only */
} set_ud;

static n4d_status set_one(void *ud, uint64_t k, uint32_t source, const wsel *e)
{
    set_ud *o = ud;
    n4d_sim *sim = o->sim;
    const n4d__synapses *s = &sim->model->syn;
    if (k >= o->n)
        return N4D_OK; /* counted, refused by the caller */
    const uint32_t key = s->seg_key[e->g];
    const double w = (double)o->w[k];
    if (!o->dst) {
        if (N4D__SEG_CLASS(key))
            return n4d__error(&sim->hdr, N4D_E_UNSUPPORTED,
                              "n4d_sim_set_weights: synapse %llu (%u -> %u) belongs to the plastic "
                              "class \"%s\" (synapse model %s): its weights are the rule's",
                              (unsigned long long)k, source, e->target,
                              sim->model->cls[N4D__SEG_CLASS(key) - 1].name,
                              sim->model->cls[N4D__SEG_CLASS(key) - 1].sm->name);
        const double q = nearbyint(w * s->scale);
        if (!isfinite(w) || !(fabs(q) <= (double)INT32_MAX))
            return n4d__error(&sim->hdr, N4D_E_RANGE,
                              "n4d_sim_set_weights: weights[%llu] = %g (synapse %u -> %u) is not "
                              "finite or does not fit the model's fixed point (|w| < %g)",
                              (unsigned long long)k, w, source, e->target,
                              (double)INT32_MAX / s->scale);
        if ((N4D__SEG_CH(key) && w > 0.0) || (!N4D__SEG_CH(key) && w < 0.0))
            return n4d__error(&sim->hdr, N4D_E_RANGE,
                              "n4d_sim_set_weights: weights[%llu] = %g (synapse %u -> %u) would "
                              "change the synapse's sign (it is %s; the sign picks the channel "
                              "at the build)",
                              (unsigned long long)k, w, source, e->target,
                              N4D__SEG_CH(key) ? "inhibitory" : "excitatory");
        return N4D_OK;
    }
    o->dst[e->j] = (int32_t)nearbyint(w * s->scale);
    return N4D_OK;
}

n4d_status n4d_sim_set_weights(n4d_sim *sim, const char *projection, const float *weights,
                               uint64_t count)
{
    if (!n4d__is_handle(sim, N4D__MAGIC_SIM))
        return N4D_E_INVALID_ARG;
    n4d__clear_error(&sim->hdr);
    if (count && !weights)
        return n4d__error(&sim->hdr, N4D_E_INVALID_ARG, "n4d_sim_set_weights: weights is NULL");
    if (sim->backend && (sim->backend->caps & N4D__CAP_DEVICE))
        return n4d__error(&sim->hdr, N4D_E_UNSUPPORTED,
                          "n4d_sim_set_weights: backend \"%s\" keeps the weights on the device; "
                          "cpu-ref and cpu-omp set them",
                          sim->backend->name);
    set_ud o = {sim, weights, count, NULL};
    uint64_t n = 0;
    N4D__TRY(weights_walk(sim, projection, "n4d_sim_set_weights", set_one, &o, &n));
    if (n != count)
        return n4d__error(&sim->hdr, N4D_E_INVALID_ARG,
                          "n4d_sim_set_weights: %llu weights for the %llu synapses of %s%s%s",
                          (unsigned long long)count, (unsigned long long)n,
                          projection ? "\"" : "", projection ? projection : "the model",
                          projection ? "\"" : "");
    const n4d__synapses *s = &sim->model->syn;
    if (!sim->wq_own) { /* the sim's own copy of the weights from now on */
        sim->wq_own = n4d__alloc(sim->ctx, N4D_MEM_SYNAPSES,
                                 (s->n_syn ? s->n_syn : 1) * sizeof(int32_t));
        if (!sim->wq_own)
            return n4d__error(&sim->hdr, N4D_E_NOMEM,
                              "n4d_sim_set_weights: out of memory for the sim's copy of %llu "
                              "weights",
                              (unsigned long long)s->n_syn);
        memcpy(sim->wq_own, s->weight_q, s->n_syn * sizeof(int32_t));
        sim->syn.weight_q = sim->wq_own;
    }
    o.dst = sim->wq_own;
    return weights_walk(sim, projection, "n4d_sim_set_weights", set_one, &o, &n);
}

/* ---- the device's copy of the histories (cuda_loader.c) ---------------------------------- */

uint32_t n4d__plastic_dev_cap(const n4d_sim *sim, double max_rate_hz)
{
    const n4d__plastic *pl = sim->plastic;
    /* what the rules read: the spikes of the last keep steps and the newest
     * before them, at most one per step, at most max_rate_hz on average */
    const double span = (double)(pl->keep + 2);
    double need = ceil(max_rate_hz * span * sim->dt / 1000.0) + N4D__RECENT + 2;
    if (need > span)
        need = span;
    uint64_t cap = 4;
    while (cap < (uint64_t)need && cap < (1u << 30))
        cap *= 2;
    for (uint64_t i = 0; i < sim->n; i++) /* a restored history must fit */
        while (cap < pl->len[i] && cap < (1u << 30))
            cap *= 2;
    return (uint32_t)cap;
}

n4d_status n4d__plastic_hist_to_flat(n4d_sim *sim, n4d__spk *hist, uint32_t *head, uint32_t *len,
                                     uint32_t cap)
{
    const n4d__plastic *pl = sim->plastic;
    for (uint64_t i = 0; i < sim->n; i++) {
        uint32_t k0 = 0, n = pl->len[i];
        /* entries no rule reads any more may stay behind */
        while (n - k0 > cap && n - k0 >= 2 &&
               hist_at(pl, i, k0)->step < (int64_t)sim->step - pl->keep &&
               hist_at(pl, i, k0 + 1)->step < (int64_t)sim->step)
            k0++;
        if (n - k0 > cap)
            return n4d__error(&sim->hdr, N4D_E_LIMIT,
                              "plasticity: the spike history of neuron %llu holds %u spikes, more "
                              "than the %u the device keeps per neuron (raise N4D_CUDA_MAX_RATE)",
                              (unsigned long long)n4d__to_user(sim->model, i), n - k0, cap);
        for (uint32_t k = k0; k < n; k++)
            hist[i * cap + (k - k0)] = *hist_at(pl, i, k);
        head[i] = 0;
        len[i] = n - k0;
    }
    return N4D_OK;
}

n4d_status n4d__plastic_hist_from_flat(n4d_sim *sim, const n4d__spk *hist, const uint32_t *head,
                                       const uint32_t *len, uint32_t cap)
{
    n4d__plastic *pl = sim->plastic;
    for (uint64_t i = 0; i < sim->n; i++) {
        while (pl->cap[i] < len[i]) {
            pl->len[i] = 0; /* nothing to keep: the device's is newer */
            n4d_status st = hist_grow(sim, pl, i);
            if (st)
                return st;
        }
        for (uint32_t k = 0; k < len[i]; k++)
            pl->ring[i][k] = hist[i * cap + ((head[i] + k) & (cap - 1))];
        pl->head[i] = 0;
        pl->len[i] = len[i];
    }
    return N4D_OK;
}
