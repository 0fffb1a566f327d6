/* The bookkeeping of plastic synapses that the host (plastic.c) and the
 * CUDA library (cuda/backend.cu, and its host emulation tests/mock_cuda.c)
 * share: the spike history entries and their traces, the newest spikes of a
 * neuron, and the per-synapse steps of hebb_4dnc, stdp and tsodyks over a
 * history. N4D_HD (plain C11 and CUDA C++, no core structures), so every
 * backend does the same arithmetic in the same order and gives the same
 * bits. docs/plasticity.md, docs/gpu.md.
 *
 * A history is a ring of `mask + 1` (a power of two) entries from `head`,
 * `len` used, oldest first. The host keeps one growable ring per neuron
 * (plastic.h); the device keeps rings of one fixed capacity in one array
 * (n4d__pdev below). */
#ifndef N4D_PLASTIC_DEV_H
#define N4D_PLASTIC_DEV_H

#include <stdint.h>

#include "plastic_rules.h"

/* One spike in a neuron's history, with the traces just after it. */
typedef struct n4d__spk {
    int64_t step;
    float kplus, kminus; /* K+ (tau_plus of the neuron's population as a source), K- */
} n4d__spk;

/* The newest spikes kept beside each history (n4d__recent): a stdp
 * facilitation finds the postsynaptic spikes since the presynaptic one among
 * them without walking the history (4 more than the 3 of 0.2 made the walk
 * rare in CUBA 40k with STDP, 13 % less time); 7 steps and the two traces
 * fill one 64-byte line. */
#define N4D__RECENT 7
#define N4D__NO_SPIKE (INT64_MIN / 4) /* before any step, also after subtracting delays */
typedef struct n4d__recent {
    int64_t step[N4D__RECENT]; /* newest first; N4D__NO_SPIKE where none */
    float kplus, kminus;       /* after the newest */
} n4d__recent;

/* A view of one neuron's history. */
typedef struct n4d__hview {
    const n4d__spk *r;
    uint32_t head, len, mask;
} n4d__hview;

N4D_HD const n4d__spk *n4d__h_at(const n4d__hview *h, uint32_t k)
{
    return &h->r[(h->head + k) & h->mask];
}

/* Index (from the oldest) of the newest spike before step t, or -1. */
N4D_HD int64_t n4d__h_before(const n4d__hview *h, int64_t t)
{
    int64_t k = (int64_t)h->len - 1;
    while (k >= 0 && n4d__h_at(h, (uint32_t)k)->step >= t)
        k--;
    return k;
}

/* A trace just after a spike `h` steps after the previous one whose trace
 * was `prev` (1 for the first spike, beyond the window, for nearest-spike
 * pairing, or without a trace). */
N4D_HD float n4d__trace_next(float prev, int64_t h, int64_t window, double inv_tau, int nearest)
{
    if (h >= window || nearest || inv_tau == 0.0)
        return 1.0f;
    return (float)((double)prev * exp(-(double)h * inv_tau) + 1.0);
}

/* Records spike e as the newest of rc. */
N4D_HD void n4d__recent_push(n4d__recent *rc, const n4d__spk *e)
{
    for (int k = N4D__RECENT - 1; k > 0; k--)
        rc->step[k] = rc->step[k - 1];
    rc->step[0] = e->step;
    rc->kplus = e->kplus;
    rc->kminus = e->kminus;
}

/* stdp facilitation by the postsynaptic spikes of (t_prev - d, hi] when
 * they are all among the recent ones (rc): *done = 1 and the weight; else
 * *done = 0 and the caller walks the history (n4d__stdp_facil_hist). */
N4D_HD double n4d__stdp_facil_recent(const n4d__stdp_k *k, double w, const n4d__recent *rc,
                                     int64_t t_prev, double kplus_prev, int64_t d, int64_t hi,
                                     int *done)
{
    const int64_t lo = t_prev - d;
    *done = 1;
    if (rc->step[0] <= lo) /* no spike of post since */
        return w;
    if (rc->step[0] <= hi && rc->step[N4D__RECENT - 1] <= lo) {
        int n = 1; /* every spike in (lo, hi] is among the recent ones: oldest first */
        while (rc->step[n] > lo)
            n++;
        for (int e = n - 1; e >= 0; e--)
            w = n4d__stdp_facilitate(
                k, w, kplus_prev * exp(-(double)(rc->step[e] + d - t_prev) * k->inv_tau_plus));
        return w;
    }
    *done = 0;
    return w;
}

N4D_HD double n4d__stdp_facil_hist(const n4d__stdp_k *k, double w, const n4d__hview *h,
                                   int64_t t_prev, double kplus_prev, int64_t d, int64_t hi)
{
    const int64_t k0 = n4d__h_before(h, hi + 1); /* newest with t <= hi */
    int64_t k1 = k0;
    while (k1 >= 0 && n4d__h_at(h, (uint32_t)k1)->step > t_prev - d)
        k1--;
    for (int64_t e = k1 + 1; e <= k0; e++) {
        const int64_t t = n4d__h_at(h, (uint32_t)e)->step;
        w = n4d__stdp_facilitate(k, w, kplus_prev * exp(-(double)(t + d - t_prev) * k->inv_tau_plus));
    }
    return w;
}

/* The upper end of the facilitation of a presynaptic spike t_prev by the
 * postsynaptic spikes up to t_end - d, within the window. */
N4D_HD int64_t n4d__stdp_facil_hi(int64_t t_prev, int64_t t_end, int64_t d, int64_t window)
{
    const int64_t hi = t_end - d, lim = t_prev + window - d - 1;
    return hi < lim ? hi : lim;
}

/* stdp depression at presynaptic spike s by the postsynaptic spike te
 * (N4D__NO_SPIKE: none) with K- km after it. */
N4D_HD double n4d__stdp_depress_at(const n4d__stdp_k *k, double w, int64_t s, int64_t d, int64_t te,
                                   float km, int64_t window)
{
    if (te != N4D__NO_SPIKE && s - d - te < window)
        w = n4d__stdp_depress(k, w, (double)km * exp(-(double)(s - d - te) * k->inv_tau_minus));
    return w;
}

/* ---- the device's plastic state (cuda/backend.cu, tests/mock_cuda.c) ------------------
 * Pointers into one memory (the device's, or the emulation's). The steps
 * of the simulation are batches of one step, as cpu-ref runs them:
 *   select the facilitation windows closed (n4d__pdev_select, every neuron,
 *     when the step crosses a multiple of N4D__FLUSH_EVERY)
 *   append the step's spikes (n4d__pdev_append, one thread per spike; the
 *     tsodyks state of the source moves to the spike)
 *   flush (n4d__pdev_flush_syn, per synapse of a selected source)
 *   deliver (n4d__pdev_deliver_syn, per synapse of a plastic segment). */

#define N4D__FLUSH_EVERY 64 /* plastic.c's FLUSH_EVERY */

typedef struct n4d__pdev_cls {
    int32_t rule;    /* N4D__SYN_* (static, hebb_4dnc, stdp, tsodyks) */
    int32_t src_pop; /* the class's source population (-1: any) */
    union {
        n4d__hebb_k hebb;
        n4d__stdp_k stdp;
        n4d__tsodyks_k tso;
    } k;
    double *wd;  /* hebb_4dnc, static: the class's weights */
    float *wf;   /* stdp */
    double *tu, *tx; /* tsodyks: per neuron */
    int64_t *tlast;
} n4d__pdev_cls;

typedef struct n4d__pdev {
    const n4d__pdev_cls *cls; /* class k is cls[k - 1] */
    const uint64_t *seg_base; /* per segment: the class-local index of its first synapse */
    n4d__spk *hist;           /* neuron i: hist[i * (mask + 1) ..] */
    uint32_t *head, *len;
    uint32_t mask;
    uint32_t n_cls;
    n4d__recent *recent;
    int64_t *flushed;
    const int32_t *pop_of;
    const uint8_t *pop_tracked;
    const double *inv_tau_plus, *inv_tau_minus; /* per population */
    const uint8_t *nearest_plus, *nearest_minus;
    int64_t window, keep;
    double scale; /* weight -> fixed point */
} n4d__pdev;

N4D_HD n4d__hview n4d__pdev_view(const n4d__pdev *p, uint32_t i)
{
    n4d__hview h = {p->hist + (uint64_t)i * (p->mask + 1), p->head[i], p->len[i], p->mask};
    return h;
}

/* Whether neuron i's facilitation window is closed at step s (plastic.c's
 * n4d__plastic_batch_begin): the caller lists it and sets flushed[i]. */
N4D_HD int n4d__pdev_select(const n4d__pdev *p, uint32_t i, int64_t s)
{
    const int64_t t = p->recent[i].step[0];
    return !(t == N4D__NO_SPIKE || p->flushed[i] == t || t + p->window > s ||
             p->inv_tau_plus[p->pop_of[i]] == 0.0);
}

/* Appends neuron i's spike of step s (plastic.c's n4d__plastic_append for a
 * batch of one step) and moves its tsodyks states to the spike (plastic.c
 * does it after the delivery, which reads the same state). Returns 0, or 1
 * when the history is full (nothing changed). */
N4D_HD int n4d__pdev_append(const n4d__pdev *p, uint32_t i, int64_t s)
{
    for (uint32_t k = 0; k < p->n_cls; k++) {
        const n4d__pdev_cls *c = &p->cls[k];
        if (c->rule != N4D__SYN_TSODYKS || (c->src_pop >= 0 && p->pop_of[i] != c->src_pop))
            continue;
        n4d__tsodyks_spike(&c->k.tso, (double)(s - c->tlast[i]), &c->tu[i], &c->tx[i]);
        c->tlast[i] = s;
    }
    const int32_t pop = p->pop_of[i];
    if (!p->pop_tracked[pop])
        return 0;
    n4d__spk *r = p->hist + (uint64_t)i * (p->mask + 1);
    uint32_t head = p->head[i], len = p->len[i];
    /* forget what no rule reads any more, never the newest spike */
    while (len >= 2 && r[head].step < s - p->keep && r[(head + 1) & p->mask].step < s) {
        head = (head + 1) & p->mask;
        len--;
    }
    if (len == p->mask + 1)
        return 1;
    n4d__spk e = {s, 1.0f, 1.0f};
    if (len) {
        const n4d__spk *prev = &r[(head + len - 1) & p->mask];
        const int64_t h = s - prev->step;
        e.kplus = n4d__trace_next(prev->kplus, h, p->window, p->inv_tau_plus[pop],
                                  p->nearest_plus[pop]);
        e.kminus = n4d__trace_next(prev->kminus, h, p->window, p->inv_tau_minus[pop],
                                   p->nearest_minus[pop]);
    }
    r[(head + len) & p->mask] = e;
    p->head[i] = head;
    p->len[i] = len + 1;
    n4d__recent_push(&p->recent[i], &e);
    return 0;
}

/* The facilitation of synapse j (class-local index at, target post, delay
 * d) by the closed window of its source's newest spike `last`. */
N4D_HD void n4d__pdev_flush_syn(const n4d__pdev *p, const n4d__pdev_cls *c, uint64_t at,
                                uint32_t post, const n4d__spk *last, int64_t d)
{
    const n4d__stdp_k *k = &c->k.stdp;
    const int64_t hi = n4d__stdp_facil_hi(last->step, INT64_MAX / 4, d, p->window);
    int done;
    double w = n4d__stdp_facil_recent(k, (double)c->wf[at], &p->recent[post], last->step,
                                      (double)last->kplus, d, hi, &done);
    if (!done) {
        const n4d__hview h = n4d__pdev_view(p, post);
        w = n4d__stdp_facil_hist(k, w, &h, last->step, (double)last->kplus, d, hi);
    }
    c->wf[at] = (float)w;
}

/* Delivers synapse `at` of class c (target post, delay d, fixed-point
 * weight wq) for source src's spike of step s, whose previous spike is
 * prev (NULL: none). Returns the fixed-point value for the target. */
N4D_HD int64_t n4d__pdev_deliver_syn(const n4d__pdev *p, const n4d__pdev_cls *c, uint64_t at,
                                     uint32_t src, uint32_t post, int32_t wq, int64_t s,
                                     const n4d__spk *prev, int64_t d)
{
    switch (c->rule) {
    case N4D__SYN_STATIC:
        return (int64_t)llrint(c->wd[at] * p->scale);
    case N4D__SYN_HEBB_4DNC: {
        const int64_t r = prev ? prev->step : -1;
        double w = n4d__hebb_idle(&c->k.hebb, c->wd[at], (uint64_t)(s - r - 1));
        w = n4d__hebb_event(&c->k.hebb, w, p->recent[post].step[0] == s, 1.0);
        c->wd[at] = w;
        return (int64_t)llrint(w * p->scale);
    }
    case N4D__SYN_STDP: {
        const n4d__stdp_k *k = &c->k.stdp;
        double w = (double)c->wf[at];
        const n4d__hview h = n4d__pdev_view(p, post);
        if (prev && p->flushed[src] != prev->step) {
            const int64_t hi = n4d__stdp_facil_hi(prev->step, s, d, p->window);
            int done;
            w = n4d__stdp_facil_recent(k, w, &p->recent[post], prev->step, (double)prev->kplus, d,
                                       hi, &done);
            if (!done)
                w = n4d__stdp_facil_hist(k, w, &h, prev->step, (double)prev->kplus, d, hi);
        }
        const n4d__recent *rc = &p->recent[post];
        int64_t te = rc->step[0];
        float km = rc->kminus;
        if (te >= s - d) { /* a spike at s - d or later: look further back */
            const int64_t kq = n4d__h_before(&h, s - d);
            te = kq >= 0 ? n4d__h_at(&h, (uint32_t)kq)->step : N4D__NO_SPIKE;
            km = kq >= 0 ? n4d__h_at(&h, (uint32_t)kq)->kminus : 0.0f;
        }
        w = n4d__stdp_depress_at(k, w, s, d, te, km, p->window);
        c->wf[at] = (float)w;
        return (int64_t)llrint((double)c->wf[at] * p->scale);
    }
    case N4D__SYN_TSODYKS:
        return (int64_t)llrint(c->tu[src] * c->tx[src] * (double)wq);
    default:
        return 0;
    }
}

#endif
