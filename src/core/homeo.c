/* Homeostatic synaptic scaling: see homeo.h. */
#include "homeo.h"

n4d_status n4d__homeo_create(n4d_sim *sim)
{
    const n4d_model *m = sim->model;
    bool any = false;
    for (size_t p = 0; p < m->n_pops; p++)
        any = any || m->pops[p].has_homeo;
    if (!any)
        return N4D_OK;
    n4d_context *ctx = sim->ctx;
    const uint64_t N = sim->n ? sim->n : 1;
    n4d__homeo *h = n4d__calloc(ctx, N4D_MEM_OTHER, 1, sizeof *h);
    if (!h)
        return n4d__error(&sim->hdr, N4D_E_NOMEM, "homeostasis: out of memory");
    sim->homeo = h;
    h->run = n4d__calloc(ctx, N4D_MEM_OTHER, sim->n_runs ? sim->n_runs : 1, sizeof *h->run);
    h->scale = n4d__alloc(ctx, N4D_MEM_NEURONS, N * sizeof(double));
    h->count = n4d__calloc(ctx, N4D_MEM_NEURONS, N, sizeof(uint32_t));
    if (!h->run || !h->scale || !h->count)
        return n4d__error(&sim->hdr, N4D_E_NOMEM, "homeostasis: out of memory");
    for (uint64_t i = 0; i < sim->n; i++)
        h->scale[i] = 1.0;
    for (size_t r = 0; r < sim->n_runs; r++) {
        const n4d__population *P = &m->pops[sim->runs[r].pop];
        if (!P->has_homeo)
            continue;
        n4d__homeo_run *hr = &h->run[r];
        hr->on = 1;
        hr->window = (uint64_t)llround(P->homeo.window / sim->dt);
        if (hr->window < 1)
            hr->window = 1;
        hr->target_count = P->homeo.target_rate * 1e-3 * (double)hr->window * sim->dt;
        hr->eta = P->homeo.eta;
        hr->lo = P->homeo.scale_min;
        hr->hi = P->homeo.scale_max;
    }
    return N4D_OK;
}

void n4d__homeo_destroy(n4d_sim *sim)
{
    n4d__homeo *h = sim->homeo;
    if (!h)
        return;
    n4d_context *ctx = sim->ctx;
    const uint64_t N = sim->n ? sim->n : 1;
    n4d__free(ctx, N4D_MEM_OTHER, h->run, (sim->n_runs ? sim->n_runs : 1) * sizeof *h->run);
    n4d__free(ctx, N4D_MEM_NEURONS, h->scale, N * sizeof(double));
    n4d__free(ctx, N4D_MEM_NEURONS, h->count, N * sizeof(uint32_t));
    n4d__free(ctx, N4D_MEM_OTHER, h, sizeof *h);
    sim->homeo = NULL;
}

n4d_status n4d_sim_get_homeostatic_scale(n4d_sim *sim, float *out, uint64_t count)
{
    if (!n4d__is_handle(sim, N4D__MAGIC_SIM))
        return N4D_E_INVALID_ARG;
    n4d__clear_error(&sim->hdr);
    if (!out)
        return n4d__error(&sim->hdr, N4D_E_INVALID_ARG, "n4d_sim_get_homeostatic_scale: out is NULL");
    if (count != sim->n)
        return n4d__error(&sim->hdr, N4D_E_RANGE,
                          "n4d_sim_get_homeostatic_scale: %llu entries (expected %llu neurons)",
                          (unsigned long long)count, (unsigned long long)sim->n);
    for (uint64_t i = 0; i < sim->n; i++)
        out[n4d__to_user(sim->model, i)] = sim->homeo ? (float)sim->homeo->scale[i] : 1.0f;
    return N4D_OK;
}
