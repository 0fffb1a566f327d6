/* Neuromodulators (docs/plasticity.md, "Neuromodulation"): named levels in
 * [0, 1] per sim with a baseline and a per-step decay toward it, set
 * through the API or driven by the spikes of a population, and what they
 * act on: a population's threshold or external-input gain (the neuron
 * kernels), hebb_4dnc's changes and stdp_dopamine (plastic.c).
 *
 * Levels are per step and do not depend on the batch size or the backend.
 * L(t) is the level in effect during step t; after step t
 *   L(t+1) = clip(toward(L(t), baseline, decay_rate) + per_spike * A(t+1), 0, 1)
 * where A(u) counts the spikes of the driving population in step u - delay
 * (delay >= 1 step). A level set through the API between runs is L of the
 * next step. A backend runs each batch of steps as
 *   n4d__mods_batch_begin (serial; the batch's levels, known in advance
 *     because no batch is longer than the shortest delay: n4d__mods_max_batch)
 *   the neuron updates (n4d__mods_run gives each run's constants and gain)
 *   n4d__mods_spikes for each step's spikes in order (serial)
 *   n4d__mods_batch_end (serial, after the last step's spikes). */
#ifndef N4D_MODULATORS_H
#define N4D_MODULATORS_H

#include "sim_state.h"


/* A declared modulator (the model's). */
typedef struct n4d__mod_def {
    char *name;
    double baseline, decay, level0;
    int32_t driver;   /* the driving population, -1: set through the API */
    double per_spike;
    uint32_t delay;   /* steps from a driving spike to its effect (>= 1) */
} n4d__mod_def;

/* A population's threshold or gain bound to a modulator (the model's). */
typedef struct n4d__mod_bind {
    int32_t pop, what, mod; /* what: n4d_modulator_target */
    double strength;
} n4d__mod_bind;

/* A modulator of a sim. */
typedef struct n4d__mod_rt {
    double level;                       /* L(sim->step) between batches */
    double lv[N4D__MAX_BATCH_STEPS];      /* L of the current batch's steps */
    uint32_t arrive[N4D__MAX_BATCH_STEPS]; /* driven: A of the current batch's steps */
    uint32_t *pending;                  /* driven: A by step & (cap - 1), for later steps */
    uint32_t cap;
} n4d__mod_rt;

/* The bindings of a population at run time. */
typedef struct n4d__mod_pop {
    int32_t th_mod, gain_mod; /* -1: none */
    double th_strength, gain_strength;
    n4d__pop_rt *k;           /* th_mod: the constants of each step of the batch */
    float gain[N4D__MAX_BATCH_STEPS];
} n4d__mod_pop;

typedef struct n4d__mods {
    n4d__mod_rt *m;
    uint32_t n;
    n4d__mod_pop *pop; /* per population; NULL when nothing is bound */
    int64_t batch0;    /* first step of the current batch */
    uint32_t batch;
    int32_t *pop_of;   /* per neuron (internal): population (only with a driven modulator) */
} n4d__mods;

/* The index of modulator `name` of the model, or -1. */
int32_t n4d__mod_find(const n4d_model *m, const char *name);

/* Creates sim->mods for a model with modulators (a no-op without). Errors
 * on the sim. */
n4d_status n4d__mods_create(n4d_sim *sim);
void n4d__mods_destroy(n4d_sim *sim);
/* The longest batch the model's driven modulators allow (UINT32_MAX: any). */
uint32_t n4d__mods_max_batch(const n4d_model *m);
void n4d__mods_batch_begin(n4d_sim *sim, uint64_t step0, uint32_t steps);
void n4d__mods_spikes(n4d_sim *sim, uint64_t step, const uint32_t *ids, uint64_t count);
void n4d__mods_batch_end(n4d_sim *sim);

/* The level of modulator k at `step` of the current batch. */
static inline double n4d__mods_level(const n4d_sim *sim, int32_t k, uint64_t step)
{
    const n4d__mods *md = sim->mods;
    return md->m[k].lv[(int64_t)step - md->batch0];
}

/* The constants of run p at `step` of the current batch (p itself, or tmp
 * with the modulated threshold) and its external-input gain. */
static inline const n4d__pop_rt *n4d__mods_run(const n4d_sim *sim, const n4d__pop_rt *p,
                                               uint64_t step, n4d__pop_rt *tmp, float *gain)
{
    *gain = 1.0f;
    const n4d__mods *md = sim->mods;
    if (!md || !md->pop)
        return p;
    const n4d__mod_pop *b = &md->pop[p->pop];
    const int64_t j = (int64_t)step - md->batch0;
    if (b->gain_mod >= 0)
        *gain = b->gain[j];
    if (b->th_mod < 0)
        return p;
    *tmp = *p;
    tmp->k = b->k[j].k;
    return tmp;
}

#endif
