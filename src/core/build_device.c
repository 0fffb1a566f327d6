/* Model construction on a device (n4d_model_set_build_backend, docs/gpu.md):
 * the backend that builds (a registry entry with N4D__CAP_BUILD) counts,
 * generates, orders and segments the synapses with its device library and
 * the result is copied into the model. build.c drives it and goes on on the
 * CPU where "auto" falls back. */
#include "build_device.h"

#include <stdio.h>
#include <string.h>

/* "auto" builds on a GPU from this many neurons (smaller models build in
 * less time than a device start-up takes). */
#define AUTO_DEVICE_BUILD_NEURONS 10000

/* A device step failed: "auto" goes on on the CPU (counts cleared), an
 * explicit device fails the build. */
static n4d_status device_failed(n4d_model *m, n4d__device_build *d, n4d_status st, const char *err)
{
    if (d->h)
        d->api->build_destroy(d->h);
    d->h = NULL;
    if (!d->fallback_ok)
        return n4d__error(&m->hdr, st, "building on the GPU: %s", err[0] ? err : n4d_status_string(st));
    n4d__log(m->ctx, N4D_LOG_WARN, "auto build backend: the GPU build failed (%s); building on the CPU",
             err[0] ? err : n4d_status_string(st));
    return N4D_OK;
}

/* Chooses where to build; on a GPU, uploads the projections and counts the
 * synapses of every source into count (user ids). */
n4d_status n4d__device_build_count(n4d_model *m, const n4d__sg_proj *sp, uint64_t *count,
                                   n4d__device_build *d)
{
    int32_t device = m->build_device;
    if (device == N4D__BUILD_CPU)
        return N4D_OK;
    d->fallback_ok = device == N4D__BUILD_AUTO;
    for (size_t pj = 0; pj < m->n_projs; pj++)
        if (m->projs[pj].d.rule == N4D_RULE_EXPLICIT) { /* its lists are on the host */
            if (d->fallback_ok)
                return N4D_OK;
            return n4d__error(&m->hdr, N4D_E_UNSUPPORTED,
                              "build backend \"%s\": explicit projections (\"%s\") are built on "
                              "the CPU (set the build backend to \"cpu\" or \"auto\")",
                              m->build_request, m->projs[pj].name);
        }
    if (m->n_cls) { /* the device library knows no synapse classes yet */
        if (d->fallback_ok)
            return N4D_OK;
        return n4d__error(&m->hdr, N4D_E_UNSUPPORTED,
                          "build backend \"%s\": models with plastic synapses (projection \"%s\") "
                          "are built on the CPU (set the build backend to \"cpu\" or \"auto\")",
                          m->build_request, m->cls[0].name);
    }
    const n4d__backend *be = m->build_entry;
    if (d->fallback_ok) {
        be = n4d__backend_with(N4D__CAP_BUILD);
        if (m->n_neurons < AUTO_DEVICE_BUILD_NEURONS || !be)
            return N4D_OK;
        device = 0;
    }
    char why[N4D_CUDA_ERR_CAP + 2200];
    n4d_status st = be->probe ? be->probe(device, d->fallback_ok, why, sizeof why) : N4D_OK;
    if (st) {
        if (d->fallback_ok) {
            if (st != N4D_E_NOT_BUILT && st != N4D_E_NO_DEVICE)
                n4d__log(m->ctx, N4D_LOG_WARN, "auto build backend: %s; building on the CPU", why);
            return N4D_OK;
        }
        return n4d__error(&m->hdr, st, "build backend \"%s:%d\" is not available: %s", be->name,
                          (int)device, why);
    }
    d->api = be->device_api(NULL);
    if (!d->api)
        return d->fallback_ok ? N4D_OK
                              : n4d__error(&m->hdr, N4D_E_NOT_BUILT, "build backend \"%s\": no device library",
                                           be->name);
    d->device = device;
    d->name = be->name;
    n4d__cuda_build_desc desc = {sizeof desc, device, m->seed, m->n_neurons, m->pos,
                                 sp, m->n_projs};
    char err[N4D_CUDA_ERR_CAP] = "";
    st = d->api->build_count(&desc, &d->h, count, err);
    if (st) {
        memset(count, 0, (m->n_neurons + 1) * sizeof *count);
        return device_failed(m, d, st, err);
    }
    return N4D_OK;
}

/* Generates, orders and segments the synapses on the device and copies
 * them into the model (count: row starts in internal order; the target
 * and weight arrays are allocated). On success the model is complete and
 * d->h is released; on an "auto" failure d->h is NULL and the CPU goes on. */
n4d_status n4d__device_build_fill(n4d_model *m, uint64_t *count, n4d__device_build *d)
{
    n4d__synapses *syn = &m->syn;
    n4d__cuda_build_info info;
    char err[N4D_CUDA_ERR_CAP] = "";
    n4d_status st = d->api->build_fill(d->h, m->inv, count, &info, err);
    if (st)
        return device_failed(m, d, st, err);
    const uint64_t nseg = info.n_seg;
    syn->n_seg = nseg; /* the sizes n4d__model_free_built frees with */
    syn->seg_off = n4d__alloc(m->ctx, N4D_MEM_SYNAPSES, (nseg + 1) * sizeof(uint64_t));
    syn->seg_key = n4d__alloc(m->ctx, N4D_MEM_SYNAPSES, (nseg ? nseg : 1) * sizeof(uint32_t));
    if (!syn->seg_off || !syn->seg_key) {
        d->api->build_destroy(d->h);
        d->h = NULL;
        return n4d__error(&m->hdr, N4D_E_NOMEM, "out of memory for %llu synapse segments",
                          (unsigned long long)nseg);
    }
    syn->scale = n4d__fixed_point_scale(m, info.max_abs_weight);
    syn->inv_scale = 1.0 / syn->scale;
    const uint64_t fetch_t0 = n4d__now_ns();
    st = d->api->build_fetch(d->h, syn->scale, syn->seg_ptr, syn->seg_off, syn->seg_key,
                             syn->target, syn->weight_q, err);
    const double fetch_s = (double)(n4d__now_ns() - fetch_t0) * 1e-9;
    if (st) {
        n4d__free(m->ctx, N4D_MEM_SYNAPSES, syn->seg_off, (nseg + 1) * sizeof(uint64_t));
        n4d__free(m->ctx, N4D_MEM_SYNAPSES, syn->seg_key, (nseg ? nseg : 1) * sizeof(uint32_t));
        syn->seg_off = NULL;
        syn->seg_key = NULL;
        syn->n_seg = 0;
        return device_failed(m, d, st, err);
    }
    syn->min_delay = syn->n_syn ? info.min_delay : 1;
    syn->max_delay = syn->n_syn ? info.max_delay : 1;
    n4d__log(m->ctx, N4D_LOG_INFO,
             "built %llu synapses on the GPU: %.3f s counting, generating and sorting, %.3f s "
             "converting and copying them to the host (%.2f GB)",
             (unsigned long long)syn->n_syn, info.seconds, fetch_s,
             (double)(syn->n_syn * 8 + (syn->n_seg + 1) * 12 + (m->n_neurons + 1) * 8) / 1e9);
    d->api->build_destroy(d->h);
    d->h = NULL;
    snprintf(m->built_on, sizeof m->built_on, "%s:%d", d->name, (int)d->device);
    m->built = true;
    return N4D_OK;
}

void n4d__device_build_release(n4d__device_build *d)
{
    if (d->h)
        d->api->build_destroy(d->h);
    d->h = NULL;
}
