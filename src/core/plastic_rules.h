/* The arithmetic of the plastic synapse models (docs/plasticity.md), shared
 * by every backend (N4D_HD: the same code on the CPU and in CUDA, so all
 * backends give the same bits). The bookkeeping around it -- which events
 * reach which synapse, spike histories, traces -- is in plastic.h.
 *
 * Synapse model ids (stored in files: never renumbered): 0 static,
 * 1 hebb_4dnc, 2 stdp, 3 tsodyks, 4 stdp_dopamine. */
#ifndef N4D_PLASTIC_RULES_H
#define N4D_PLASTIC_RULES_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "philox.h" /* N4D_HD */

enum {
    N4D__SYN_STATIC = 0,
    N4D__SYN_HEBB_4DNC = 1,
    N4D__SYN_STDP = 2,
    N4D__SYN_TSODYKS = 3,
    N4D__SYN_STDP_DOPAMINE = 4
};

/* c ? x : y by its bits: compilers keep a branch for a floating-point ?:
 * whose arms may raise exceptions, and an unpredictable one costs more
 * than computing both arms. */
N4D_HD double n4d__select(int c, double x, double y)
{
    uint64_t ux, uy;
    memcpy(&ux, &x, sizeof ux);
    memcpy(&uy, &y, sizeof uy);
    const uint64_t mask = (uint64_t)0 - (uint64_t)(c != 0);
    const uint64_t r = (ux & mask) | (uy & ~mask);
    double d;
    memcpy(&d, &r, sizeof d);
    return d;
}

/* ---- hebb_4dnc: the rule of 4D Neural Cognition -------------------------------
 * Every step, for every synapse: +eta when pre and post spiked in the step,
 * -eta/2 when only pre did; then clip to [lo, hi] (NaN/inf -> midpoint);
 * then decay toward 0 by `decay` without crossing it. Steps without a
 * presynaptic spike only clip and decay: n4d applies them in closed form at
 * the synapse's next event (n4d__hebb_idle). With dopamine_modulation
 * (dmod > 0) the change is multiplied by the dopamine level x dmod. */
typedef struct n4d__hebb_k {
    double eta, lo, hi, decay, dmod;
} n4d__hebb_k;

N4D_HD double n4d__hebb_clip(const n4d__hebb_k *k, double w)
{
    if (!isfinite(w))
        return 0.5 * (k->lo + k->hi);
    return w < k->lo ? k->lo : (w > k->hi ? k->hi : w);
}

/* w moved toward 0 by `amount` (>= 0) without crossing it: w - amount when
 * w > amount, w + amount when w < -amount, else 0 (w itself when w is +-0
 * or NaN). Written as selects, not as branches on the sign of w (the
 * weights of a 4DNC model have both signs in no order, and these branches
 * were mispredicted): |w| - amount with the sign of w is the same double
 * as w -+ amount (rounding to nearest is symmetric), and not 0 when
 * |w| > amount. */
N4D_HD double n4d__hebb_shrink(double w, double amount)
{
    const double m = fabs(w);
    const double moved = copysign(m - amount, w);
    const double rest = n4d__select(m > 0.0, 0.0, w);
    return n4d__select(m > amount, moved, rest);
}

N4D_HD double n4d__hebb_decay(const n4d__hebb_k *k, double w)
{
    return n4d__hebb_shrink(w, k->decay);
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
        return n4d__hebb_shrink(w, kd);
    /* bounds on one side of 0: the decay pulls w to the near bound, where
     * each step's clip and decay hold it at decay(bound) */
    if (k->lo > 0.0) {
        const double floor_w = n4d__hebb_decay(k, k->lo);
        return w - kd > floor_w ? w - kd : floor_w;
    }
    const double ceil_w = n4d__hebb_decay(k, k->hi);
    return w + kd < ceil_w ? w + kd : ceil_w;
}

/* The step of a presynaptic spike: the change (times `scale`: 1, or the
 * dopamine level x dmod), then clip and decay. */
N4D_HD double n4d__hebb_event(const n4d__hebb_k *k, double w, int post_spiked, double scale)
{
    w += scale * (post_spiked ? k->eta : -0.5 * k->eta);
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

/* ---- stdp_dopamine: NEST stdp_dopamine_synapse ------------------------------------
 * An eligibility trace c (facilitated by A_plus K+ at postsynaptic spikes,
 * depressed by A_minus K- at presynaptic ones, decaying with tau_c) and a
 * dopamine trace n; between events dw/dt = c (n - b), integrated exactly.
 * n is NEST's (a jump of 1/tau_n at each dopamine spike, decay tau_n) when
 * the dopamine modulator is driven by a population's spikes, else the
 * dopamine level minus its baseline, constant between level changes
 * (tau_n unused: taus = 1 / tau_c). docs/plasticity.md. */
typedef struct n4d__stdpda_k {
    double a_plus, a_minus, tau_c, tau_n, b, wmin, wmax;
    double taus;                        /* 1/tau_c + 1/tau_n (spikes), 1/tau_c (level) */
    double inv_tau_plus, inv_tau_minus; /* 1 / tau in steps */
    double dt;                          /* ms per step */
    int32_t spikes;                     /* n from dopamine spikes (else from the level) */
} n4d__stdpda_k;

/* NEST's update_weight_: the weight after minus_dt (<= 0, ms) from a time
 * where c is c0 and n is n0, clipped to [Wmin, Wmax]. */
N4D_HD double n4d__stdpda_weight(const n4d__stdpda_k *k, double w, double c0, double n0,
                                 double minus_dt)
{
    w = w - c0 * (n0 / k->taus * expm1(k->taus * minus_dt) -
                  k->b * k->tau_c * expm1(minus_dt / k->tau_c));
    return w < k->wmin ? k->wmin : (w > k->wmax ? k->wmax : w);
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
