/* Model construction: what build.c shares with build_device.c. */
#ifndef N4D_BUILD_DEVICE_H
#define N4D_BUILD_DEVICE_H

#include "backend.h" /* the registry: the backend that builds on a device */
#include "internal.h"
#include "plastic_rules.h"

#include <math.h>

/* A construction on a device in progress. */
typedef struct n4d__device_build {
    const n4d__cuda_api *api;
    void *h;          /* the library's build; NULL: the CPU builds */
    int32_t device;
    bool fallback_ok; /* "auto": a failure falls back to the CPU */
    const char *name; /* the backend's name */
} n4d__device_build;

/* The fixed-point scale of the model's synaptic sums: the largest |weight|
 * that must be representable (maxw of the synapses, and the Poisson
 * and spike inputs) maps below 2^26. */
static inline double n4d__fixed_point_scale(const n4d_model *m, double maxw)
{
    for (size_t i = 0; i < m->n_inputs; i++)
        if ((m->inputs[i].kind == N4D_INPUT_POISSON || m->inputs[i].kind == N4D_INPUT_SPIKES) &&
            fabs(m->inputs[i].weight) > maxw)
            maxw = fabs(m->inputs[i].weight);
    /* plastic weights may grow up to their class's bound */
    for (uint32_t k = 0; k < m->n_cls; k++) {
        const n4d__syn_class *c = &m->cls[k];
        double b = 0.0;
        if (c->sm->id == N4D__SYN_HEBB_4DNC)
            b = fmax(fabs(c->params[1]), fabs(c->params[2]));
        else if (c->sm->id == N4D__SYN_STDP)
            b = c->params[6];
        maxw = b > maxw ? b : maxw;
    }
    if (!(maxw > 0))
        return 1.0;
    int e;
    frexp(maxw, &e); /* maxw < 2^e */
    /* the largest |w| maps below 2^26: int32 weights keep 26 bits of
     * precision and per-step sums stay below 2^51 (exact conversion to float,
     * neuron.h) up to 2^25 largest-weight events per neuron per step */
    return ldexp(1.0, 26 - e);
}

/* Chooses where to build (m->build_device, m->build_entry); on a device,
 * uploads the projections (sp) and counts the synapses of every source into
 * count (user ids). d->h stays NULL when the CPU builds (also after an
 * "auto" failure, with the counts cleared). */
n4d_status n4d__device_build_count(n4d_model *m, const n4d__sg_proj *sp, uint64_t *count,
                                   n4d__device_build *d);
/* Generates, orders and segments the synapses on the device and copies
 * them into the model (count: row starts in internal order; the target and
 * weight arrays are allocated). On success the model is built and d->h
 * released; on an "auto" failure d->h is NULL and the CPU goes on. */
n4d_status n4d__device_build_fill(n4d_model *m, uint64_t *count, n4d__device_build *d);
/* Releases a construction still held (error paths). */
void n4d__device_build_release(n4d__device_build *d);

#endif
