/* Spike and current inputs at run time: see inputs.h. */
#include "inputs.h"
#include "philox.h"
#include "ring.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SIM_ERR(s, st, ...) n4d__error(&(s)->hdr, (st), __VA_ARGS__)

static const char *kind_name(int32_t k)
{
    static const char *const names[] = {"dc", "poisson", "spikes", "step_current", "ac", "noise"};
    return k >= 0 && k <= N4D_INPUT_NOISE ? names[k] : "?";
}

n4d_status n4d__inputs_validate(n4d_model *m)
{
    for (size_t i = 0; i < m->n_inputs; i++) {
        const n4d__input *in = &m->inputs[i];
        const n4d__population *p = &m->pops[in->target];
        const uint32_t *arr = in->kind == N4D_INPUT_SPIKES ? in->indices : in->neurons;
        const uint64_t n = in->kind == N4D_INPUT_SPIKES ? in->n_times : in->n_neurons;
        const char *field = in->kind == N4D_INPUT_SPIKES ? "indices" : "neurons";
        for (uint64_t k = 0; arr && k < n; k++)
            if (arr[k] >= p->n)
                return n4d__error(&m->hdr, N4D_E_RANGE,
                                  "input %zu (%s on \"%s\"): %s[%llu] = %u is past the "
                                  "population's %llu neurons",
                                  i, kind_name(in->kind), p->name, field, (unsigned long long)k,
                                  arr[k], (unsigned long long)p->n);
    }
    return N4D_OK;
}

static uint64_t to_step(double t_ms, double dt)
{
    if (!isfinite(t_ms) || t_ms / dt > 1.8e19)
        return UINT64_MAX;
    return (uint64_t)ceil(t_ms / dt - 1e-9); /* as the DC and Poisson windows */
}

static void xin_free(n4d_context *ctx, n4d__xin *x)
{
    const uint64_t ne = x->n_ev ? x->n_ev : 1; /* as allocated */
    n4d__free(ctx, N4D_MEM_OTHER, x->ev_step, ne * sizeof(uint64_t));
    n4d__free(ctx, N4D_MEM_OTHER, x->ev_idx, ne * sizeof(uint32_t));
    n4d__free(ctx, N4D_MEM_OTHER, x->sel, x->n_sel * sizeof(uint32_t));
    n4d__free(ctx, N4D_MEM_OTHER, x->chg_step, x->n_chg * sizeof(uint64_t));
    n4d__free(ctx, N4D_MEM_OTHER, x->chg_val, x->n_chg * sizeof(double));
}

void n4d__xin_destroy(n4d_sim *sim)
{
    for (size_t k = 0; k < sim->n_xin; k++)
        xin_free(sim->ctx, &sim->xin[k]);
    n4d__free(sim->ctx, N4D_MEM_OTHER, sim->xin, sim->cap_xin * sizeof *sim->xin);
    sim->xin = NULL;
    sim->n_xin = sim->cap_xin = 0;
}

/* Events by (step, internal index); sorted once per sim. */
typedef struct ev {
    uint64_t step;
    uint32_t idx;
} ev;

static int cmp_ev(const void *a, const void *b)
{
    const ev *x = a, *y = b;
    if (x->step != y->step)
        return (x->step > y->step) - (x->step < y->step);
    return (x->idx > y->idx) - (x->idx < y->idx);
}
static int cmp_u32(const void *a, const void *b)
{
    const uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static n4d_status make_spikes(n4d_sim *sim, const n4d__input *in, n4d__xin *x)
{
    const n4d_model *m = sim->model;
    const uint64_t first = m->pops[in->target].first;
    const size_t kb = (size_t)(in->n_times ? in->n_times : 1) * sizeof(ev);
    ev *key = n4d__alloc(sim->ctx, N4D_MEM_OTHER, kb);
    if (!key)
        return N4D_E_NOMEM;
    uint64_t n = 0;
    for (uint64_t k = 0; k < in->n_times; k++) {
        const uint64_t s = n4d__spike_step(in->times[k], sim->dt);
        if (s < x->step_start || s >= x->step_stop)
            continue; /* outside the window */
        key[n].step = s;
        key[n++].idx = (uint32_t)n4d__to_internal(m, first + in->indices[k]);
    }
    qsort(key, (size_t)n, sizeof *key, cmp_ev);
    x->n_ev = n;
    x->ev_step = n4d__alloc(sim->ctx, N4D_MEM_OTHER, (n ? n : 1) * sizeof(uint64_t));
    x->ev_idx = n4d__alloc(sim->ctx, N4D_MEM_OTHER, (n ? n : 1) * sizeof(uint32_t));
    if (x->ev_step && x->ev_idx)
        for (uint64_t k = 0; k < n; k++) {
            x->ev_step[k] = key[k].step;
            x->ev_idx[k] = key[k].idx;
        }
    n4d__free(sim->ctx, N4D_MEM_OTHER, key, kb);
    return x->ev_step && x->ev_idx ? N4D_OK : N4D_E_NOMEM;
}

n4d_status n4d__xin_create(n4d_sim *sim)
{
    const n4d_model *m = sim->model;
    size_t n = 0;
    for (size_t i = 0; i < m->n_inputs; i++)
        n += m->inputs[i].kind >= N4D_INPUT_SPIKES;
    if (!n)
        return N4D_OK;
    sim->xin = n4d__calloc(sim->ctx, N4D_MEM_OTHER, n, sizeof *sim->xin);
    if (!sim->xin)
        return SIM_ERR(sim, N4D_E_NOMEM, "out of memory for inputs");
    sim->cap_xin = n;
    for (size_t i = 0; i < m->n_inputs; i++) {
        const n4d__input *in = &m->inputs[i];
        if (in->kind < N4D_INPUT_SPIKES)
            continue;
        n4d__xin *x = &sim->xin[sim->n_xin++];
        x->kind = in->kind;
        x->pop = in->target;
        x->step_start = to_step(in->start, sim->dt);
        x->step_stop = to_step(in->stop, sim->dt);
        bool ok = true;
        if (in->kind == N4D_INPUT_SPIKES) {
            x->weight_q = (int64_t)llrint(in->weight * m->syn.scale);
            ok = make_spikes(sim, in, x) == N4D_OK;
        }
        if (ok && in->n_neurons) {
            const uint64_t first = m->pops[in->target].first;
            x->sel = n4d__alloc(sim->ctx, N4D_MEM_OTHER, in->n_neurons * sizeof(uint32_t));
            if ((ok = x->sel != NULL)) {
                x->n_sel = in->n_neurons;
                for (uint64_t k = 0; k < in->n_neurons; k++)
                    x->sel[k] = (uint32_t)n4d__to_internal(m, first + in->neurons[k]);
                qsort(x->sel, (size_t)x->n_sel, sizeof *x->sel, cmp_u32);
            }
        }
        if (ok && in->kind == N4D_INPUT_STEP_CURRENT && in->n_times) {
            /* change times to the nearest step (PyNN's rounding); two times
             * in one step: the later one's value */
            x->chg_step = n4d__alloc(sim->ctx, N4D_MEM_OTHER, in->n_times * sizeof(uint64_t));
            x->chg_val = n4d__alloc(sim->ctx, N4D_MEM_OTHER, in->n_times * sizeof(double));
            if ((ok = x->chg_step && x->chg_val)) {
                x->n_chg = in->n_times;
                uint64_t c = 0;
                for (uint64_t k = 0; k < in->n_times; k++) {
                    const double s = nearbyint(in->times[k] / sim->dt);
                    const uint64_t st = s >= 1.8e19 ? UINT64_MAX : (uint64_t)s;
                    if (c && x->chg_step[c - 1] == st)
                        c--;
                    x->chg_step[c] = st;
                    x->chg_val[c++] = in->values[k];
                }
                /* the arrays stay at their allocated size; n_chg frees them */
                for (uint64_t k = c; k < in->n_times; k++) {
                    x->chg_step[k] = UINT64_MAX;
                    x->chg_val[k] = 0.0;
                }
            }
        }
        x->amplitude = in->amplitude;
        x->offset = in->offset;
        x->omega_ms = 2.0 * 3.14159265358979323846 * in->frequency * 1e-3;
        x->phase_rad = in->phase * (3.14159265358979323846 / 180.0);
        x->start_ms = in->start;
        x->mean = in->amplitude;
        x->std = in->std;
        const double iv = nearbyint(in->interval / sim->dt);
        x->interval_steps = iv < 1 ? 1 : (uint64_t)iv;
        x->purpose = (uint32_t)N4D_RNG_NOISE | ((uint32_t)i << 8);
        if (!ok)
            return SIM_ERR(sim, N4D_E_NOMEM, "out of memory for input %zu (%s on \"%s\")", i,
                           kind_name(in->kind), m->pops[in->target].name);
    }
    return N4D_OK;
}

bool n4d__xin_targets(const n4d_sim *sim, int32_t pop)
{
    for (size_t k = 0; k < sim->n_xin; k++)
        if (sim->xin[k].pop == pop)
            return true;
    return false;
}

/* n4d__lower_bound (sim_state.h) over 64-bit values */
static uint64_t lb_u64(const uint64_t *a, uint64_t lo, uint64_t hi, uint64_t v)
{
    while (lo < hi) {
        const uint64_t mid = lo + (hi - lo) / 2;
        if (a[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The current of an input common to all its cells at `step` (NaN: none). */
static double common_current(const n4d__xin *x, uint64_t step, double dt)
{
    if (x->kind == N4D_INPUT_STEP_CURRENT) {
        const uint64_t k = lb_u64(x->chg_step, 0, x->n_chg, step + 1); /* first change after step */
        return k ? x->chg_val[k - 1] : NAN;
    }
    /* ac: PyNN's phase is at the start of the window */
    const double t = (double)step * dt - x->start_ms;
    return x->offset + x->amplitude * sin(x->omega_ms * t + x->phase_rad);
}

/* Neuron u's noise in interval j: mean + std N(0, 1) (Box-Muller). */
static double noise(const n4d_sim *sim, const n4d__xin *x, uint32_t u, uint64_t j)
{
    const n4d__r4 r = n4d__philox(sim->seed, x->purpose, u, j);
    const double u1 = n4d__u01_open0(r.v[0], r.v[1]), u2 = n4d__u01(r.v[2], r.v[3]);
    return x->mean + x->std * (sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

bool n4d__xin_add(n4d_sim *sim, int32_t pop, uint64_t step, uint64_t a, uint64_t b, float *iext)
{
    bool wrote = false;
    for (size_t k = 0; k < sim->n_xin; k++) {
        const n4d__xin *x = &sim->xin[k];
        if (x->pop != pop || step < x->step_start || step >= x->step_stop)
            continue;
        if (x->kind == N4D_INPUT_SPIKES) {
            uint64_t e = lb_u64(x->ev_step, 0, x->n_ev, step);
            const uint64_t e1 = lb_u64(x->ev_step, e, x->n_ev, step + 1);
            e = n4d__lower_bound(x->ev_idx, e, e1, (uint32_t)a);
            int32_t *acc = n4d__ring_row(sim, (uint32_t)(step % sim->ring_slots), x->weight_q < 0);
            for (; e < e1 && x->ev_idx[e] < b; e++)
                n4d__ring_add(sim, acc, x->ev_idx[e], x->weight_q);
            continue;
        }
        /* the cells of [a, b) that get it */
        uint64_t s0 = 0, s1 = 0;
        if (x->sel) {
            s0 = n4d__lower_bound(x->sel, 0, x->n_sel, (uint32_t)a);
            s1 = n4d__lower_bound(x->sel, s0, x->n_sel, b > UINT32_MAX ? UINT32_MAX : (uint32_t)b);
            if (s0 == s1)
                continue;
        }
        if (x->kind == N4D_INPUT_NOISE) {
            const uint64_t j = (step - x->step_start) / x->interval_steps;
            if (x->sel)
                for (uint64_t q = s0; q < s1; q++)
                    iext[x->sel[q]] += (float)noise(sim, x, (uint32_t)n4d__to_user(sim->model, x->sel[q]), j);
            else
                for (uint64_t i = a; i < b; i++)
                    iext[i] += (float)noise(sim, x, (uint32_t)n4d__to_user(sim->model, i), j);
            wrote = true;
            continue;
        }
        const double c = common_current(x, step, sim->dt);
        if (isnan(c))
            continue;
        const float cf = (float)c;
        if (x->sel)
            for (uint64_t q = s0; q < s1; q++)
                iext[x->sel[q]] += cf;
        else
            for (uint64_t i = a; i < b; i++)
                iext[i] += cf;
        wrote = true;
    }
    return wrote;
}
