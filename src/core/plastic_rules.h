/* The arithmetic of the plastic synapse models (docs/plasticity.md), shared
 * by every backend (N4D_HD: the same code on the CPU and in CUDA, so all
 * backends give the same bits). The bookkeeping around it -- which events
 * reach which synapse, spike histories, traces -- is in plastic.h.
 *
 * Synapse model ids (stored in files: never renumbered): 0 static,
 * 1 hebb_4dnc, 2 stdp, 3 tsodyks. */
#ifndef N4D_PLASTIC_RULES_H
#define N4D_PLASTIC_RULES_H

#include <math.h>
#include <stdint.h>

#include "philox.h" /* N4D_HD */

enum { N4D__SYN_STATIC = 0, N4D__SYN_HEBB_4DNC = 1, N4D__SYN_STDP = 2, N4D__SYN_TSODYKS = 3 };

/* ---- hebb_4dnc: the rule of 4D Neural Cognition -------------------------------
 * Every step, for every synapse: +eta when pre and post spiked in the step,
 * -eta/2 when only pre did; then clip to [lo, hi] (NaN/inf -> midpoint);
 * then decay toward 0 by `decay` without crossing it. Steps without a
 * presynaptic spike only clip and decay: n4d applies them in closed form at
 * the synapse's next event (n4d__hebb_idle). */
typedef struct n4d__hebb_k {
    double eta, lo, hi, decay;
} n4d__hebb_k;

N4D_HD double n4d__hebb_clip(const n4d__hebb_k *k, double w)
{
    if (!isfinite(w))
        return 0.5 * (k->lo + k->hi);
    return w < k->lo ? k->lo : (w > k->hi ? k->hi : w);
}

N4D_HD double n4d__hebb_decay(const n4d__hebb_k *k, double w)
{
    if (w > 0.0)
        return w > k->decay ? w - k->decay : 0.0;
    if (w < 0.0)
        return w < -k->decay ? w + k->decay : 0.0;
    return w;
}

/* `steps` steps without a presynaptic spike (clip, then decay, each step). */
N4D_HD double n4d__hebb_idle(const n4d__hebb_k *k, double w, uint64_t steps)
{
    if (steps == 0)
        return w;
    w = n4d__hebb_decay(k, n4d__hebb_clip(k, w));
    if (--steps == 0)
        return w;
    const double kd = (double)steps * k->decay;
    if (k->lo <= 0.0 && k->hi >= 0.0) /* w stays inside: only the decay acts */
        return w > 0.0 ? (w > kd ? w - kd : 0.0) : (w < 0.0 ? (w < -kd ? w + kd : 0.0) : w);
    /* bounds on one side of 0: the decay pulls w to the near bound, where
     * each step's clip and decay hold it at decay(bound) */
    if (k->lo > 0.0) {
        const double floor_w = n4d__hebb_decay(k, k->lo);
        return w - kd > floor_w ? w - kd : floor_w;
    }
    const double ceil_w = n4d__hebb_decay(k, k->hi);
    return w + kd < ceil_w ? w + kd : ceil_w;
}

/* The step of a presynaptic spike: the change, then clip and decay. */
N4D_HD double n4d__hebb_event(const n4d__hebb_k *k, double w, int post_spiked)
{
    w += post_spiked ? k->eta : -0.5 * k->eta;
    return n4d__hebb_decay(k, n4d__hebb_clip(k, w));
}

/* ---- stdp: NEST stdp_synapse ---------------------------------------------------
 * Weights are normalised by Wmax; facilitation (a postsynaptic spike after
 * the presynaptic one, seen through the dendritic delay) and depression (a
 * presynaptic spike) with the traces K+ (of the presynaptic neuron, tau_plus)
 * and K- (of the postsynaptic neuron, tau_minus). */
typedef struct n4d__stdp_k {
    double lambda, alpha, mu_plus, mu_minus, wmax;
    double inv_tau_plus, inv_tau_minus; /* 1 / tau in steps */
    int32_t nearest;                    /* nearest-spike pairing (symmetric) */
} n4d__stdp_k;

N4D_HD double n4d__stdp_facilitate(const n4d__stdp_k *k, double w, double kplus)
{
    const double nw = w / k->wmax;
    const double f = k->mu_plus == 0.0 ? 1.0 : pow(1.0 - nw, k->mu_plus);
    const double r = nw + k->lambda * f * kplus;
    return (r < 1.0 ? r : 1.0) * k->wmax;
}

N4D_HD double n4d__stdp_depress(const n4d__stdp_k *k, double w, double kminus)
{
    const double nw = w / k->wmax;
    const double f = k->mu_minus == 0.0 ? 1.0 : pow(nw, k->mu_minus);
    const double r = nw - k->alpha * k->lambda * f * kminus;
    return (r > 0.0 ? r : 0.0) * k->wmax;
}

/* ---- tsodyks: NEST tsodyks2_synapse ---------------------------------------------
 * Depression (x, the available resources) and facilitation (u, the release
 * probability) of a presynaptic neuron's spike train; every synapse of a
 * projection sees the same train, so the state is kept per presynaptic
 * neuron. The efficacy of a spike is u * x. */
typedef struct n4d__tsodyks_k {
    double U, u0, x0;
    double inv_tau_rec, inv_tau_fac; /* 1 / tau in steps; inv_tau_fac 0: no facilitation */
    int32_t no_fac;
} n4d__tsodyks_k;

/* The state after a spike `h` steps after the previous one (at step 0 for
 * the first: h = the spike's step). */
N4D_HD void n4d__tsodyks_spike(const n4d__tsodyks_k *k, double h, double *u, double *x)
{
    const double x_decay = exp(-h * k->inv_tau_rec);
    const double u_decay = k->no_fac ? 0.0 : exp(-h * k->inv_tau_fac);
    *x = 1.0 + (*x - *x * *u - 1.0) * x_decay;
    *u = k->U + *u * (1.0 - k->U) * u_decay;
}

#endif
