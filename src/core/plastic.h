/* Plastic synapses of a simulation (docs/plasticity.md; docs/architecture.md,
 * "Model and overlays"): the sim's own copy of the weights of its plastic
 * classes, the short spike histories the rules read, and the event
 * processing the backends call around their delivery. The rules' arithmetic
 * is in plastic_rules.h.
 *
 * A backend with N4D__CAP_PLASTICITY runs each batch of steps as
 *   update the neurons of every step of the batch
 *   n4d__plastic_batch_begin (serial), then n4d__plastic_append for each
 *     step's spikes in order (serial)
 *   n4d__plastic_flush for its target range, then its deliveries, calling
 *     n4d__plastic_deliver for the segments with a class (N4D__SEG_CLASS),
 *     with the spike's n4d__plastic_pre_find (once per spike)
 *   n4d__plastic_after for each step's spikes in order (serial).
 * Each synapse is touched by the one thread that owns its target, in step
 * order, so results do not depend on the thread count or the batch size. */
#ifndef N4D_PLASTIC_H
#define N4D_PLASTIC_H

#include "plastic_dev.h" /* n4d__spk, n4d__recent; plastic_rules.h */
#include "sim_state.h"

typedef struct n4d__plastic_class {
    int32_t rule; /* N4D__SYN_* */
    union {
        n4d__hebb_k hebb;
        n4d__stdp_k stdp;
        n4d__tsodyks_k tso;
        n4d__stdpda_k da;
    } k;
    const n4d__syn_class *def;
    uint64_t n;  /* synapses */
    double *wd;  /* hebb_4dnc, stdp_dopamine: n weights */
    double *dc;  /* stdp_dopamine: n eligibility traces c */
    double *dn;  /* stdp_dopamine: n just after each dopamine event (the ring of da_step) */
    float *wf;   /* stdp: n weights */
    /* stdp: exp(-h / tau_plus) and exp(-h / tau_minus) for h in [0, window)
     * steps, each computed as the rule would (the same bits, no exp() per
     * synapse event) */
    double *decay_plus, *decay_minus;
    /* tsodyks: per neuron (internal index; only the source population's are
     * used), the state after its last spike before the current batch */
    double *tu, *tx;
    int64_t *tlast;
} n4d__plastic_class;

typedef struct n4d__plastic {
    n4d__plastic_class *cls; /* class k is cls[k - 1] */
    uint32_t n_cls;
    uint64_t *seg_base; /* per segment: the class-local index of its first synapse */
    /* spike histories (every neuron of a population that a class joins):
     * ring of cap (a power of two) entries from head, len used */
    n4d__spk **ring;
    uint32_t *head, *len, *cap;
    /* per neuron: the steps of its newest N4D__RECENT spikes and the traces
     * after the newest, in one array, so that the common questions about a
     * target (its spikes since t, its K- before t) cost one cache line
     * instead of a walk through its history */
    struct n4d__recent *recent;
    int32_t *pop_of;      /* per neuron (internal index) */
    uint8_t *pop_tracked; /* per population */
    double *inv_tau_plus, *inv_tau_minus; /* per population (0: no trace) */
    /* per population, [2p] K+ and [2p + 1] K-: an stdp class's table of
     * exp(-h / tau) for h < window with the population's tau (NULL: none;
     * the traces then call exp) */
    const double **trace_tab;
    uint8_t *nearest_plus, *nearest_minus;
    int64_t *flushed; /* per neuron: the spike whose facilitation window is done (-1) */
    int64_t window;   /* stdp: pairs further apart than this many steps are ignored */
    int64_t keep;     /* history entries older than this many steps may go */
    uint32_t *flush_ids;
    uint64_t n_flush, cap_flush;
    int64_t batch0;   /* first step of the current batch */
    int64_t last_flush_check;
    /* dopamine (modulators.h): the modulator stdp_dopamine and hebb_4dnc
     * read (-1: none), and whether its spikes drive it */
    int32_t da_mod;
    bool da_spikes, has_da; /* has_da: a stdp_dopamine class */
    /* stdp_dopamine: the dopamine events (a spike count arriving, or a new
     * level) by step, a ring of da_cap from da_head; per class dn */
    int64_t *da_step;
    double *da_val;
    uint32_t da_head, da_len, da_cap;
    int64_t da_keep;
    /* stdp_dopamine: presynaptic neurons silent for da_period steps are
     * brought up to date at the multiples of da_period (as NEST's volume
     * transmitter does), so that the events can be dropped */
    int64_t *da_upd;  /* per neuron: the last such update (-1) */
    int64_t da_period, da_next, da_trig;
    struct n4d__da_flush {
        uint32_t id;
        int64_t from; /* its last update before this one */
    } *da_list;
    uint64_t n_da;
    size_t cap_da;
} n4d__plastic;

/* Creates the sim's plastic state (sim->plastic) for a model with classes;
 * a no-op without. Errors (N4D_E_NOMEM, N4D_E_CONFIG for conflicting
 * trace parameters) are set on the sim. */
n4d_status n4d__plastic_create(n4d_sim *sim);
void n4d__plastic_destroy(n4d_sim *sim);

/* Serial, before the deliveries of the batch of `steps` steps from step0
 * (after n4d__mods_batch_begin). N4D_E_NOMEM (detail on the sim). */
n4d_status n4d__plastic_batch_begin(n4d_sim *sim, uint64_t step0, uint32_t steps);
/* Serial: the spikes (internal indices, ascending) of `step` of the batch;
 * call for every step in order, at least once per step even without
 * spikes (any number of chunks per step, in order).
 * N4D_E_NOMEM (detail on the sim) when a history cannot grow. */
n4d_status n4d__plastic_append(n4d_sim *sim, uint64_t step, const uint32_t *ids, uint64_t count);
/* The facilitation windows closed since the last batch, for the synapses
 * with targets in [tlo, thi) (every target when full). */
void n4d__plastic_flush(n4d_sim *sim, uint32_t tlo, uint32_t thi, int full);
/* A presynaptic spike as the rules see it, looked up once for all the
 * segments of its row (a row has a few synapses per segment). */
typedef struct n4d__plastic_pre {
    const n4d__spk *prev; /* the spike before it in the source's history, or NULL */
    int64_t hebb_ref;     /* hebb_4dnc: the step the row's weights were last set
                             (the previous spike, or the source's birth; -1) */
} n4d__plastic_pre;

/* The spike of src at `step` (in the history: after n4d__plastic_append). */
void n4d__plastic_pre_find(const n4d_sim *sim, uint32_t src, uint64_t step,
                           n4d__plastic_pre *pre);
/* Delivers synapses [j0, j1) of segment g (row src, a class) for the spike
 * of `step` (pre: from n4d__plastic_pre_find) into acc (the ring slice of
 * the segment's delay and channel: ring.h), applying the class's rule. */
void n4d__plastic_deliver(n4d_sim *sim, const n4d__plastic_pre *pre, uint32_t src, uint64_t step,
                          uint64_t g, uint64_t j0, uint64_t j1, int32_t *acc);
/* Serial, after the deliveries: the spikes of `step` again (for the
 * per-neuron states of tsodyks), every step in order. */
void n4d__plastic_after(n4d_sim *sim, uint64_t step, const uint32_t *ids, uint64_t count);

/* The current weight of synapse j (CSR index, segment g of row src) as a
 * double; the model's weight when the sim has no plastic synapses. */
double n4d__plastic_weight(const n4d_sim *sim, uint64_t src, uint64_t g, uint64_t j);

/* Sets the weight of synapse j (segment g) as of the end of step
 * sim->step - 1 (the cell lifecycle's mutation, which also moves the
 * synapse's reference step: lifecycle.h `born`). False when the synapse's
 * weights are the model's (no class, or tsodyks / stdp). */
bool n4d__plastic_set_weight(n4d_sim *sim, uint64_t g, uint64_t j, double w);

/* The device's copy of the spike histories (cuda_loader.c, cuda_api.h):
 * rings of one capacity per neuron, hist[i * cap ..] from head[i], len[i]
 * used. n4d__plastic_dev_cap: the capacity for at most max_rate_hz on
 * average over the steps a rule reads (and for the histories held now).
 * to_flat: N4D_E_LIMIT when a history does not fit; from_flat: N4D_E_NOMEM
 * (errors on the sim). */
uint32_t n4d__plastic_dev_cap(const n4d_sim *sim, double max_rate_hz);
n4d_status n4d__plastic_hist_to_flat(n4d_sim *sim, n4d__spk *hist, uint32_t *head, uint32_t *len,
                                     uint32_t cap);
n4d_status n4d__plastic_hist_from_flat(n4d_sim *sim, const n4d__spk *hist, const uint32_t *head,
                                       const uint32_t *len, uint32_t cap);

/* stdp_dopamine: makes room for `len` dopamine events (a resume, which
 * then fills the ring from da_head = 0). False when out of memory. */
bool n4d__plastic_da_reserve(n4d_sim *sim, uint32_t len);

#endif
