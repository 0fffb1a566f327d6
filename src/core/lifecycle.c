/* The cell lifecycle of a simulation: see lifecycle.h and docs/lifecycle.md. */
#include "lifecycle.h"
#include "modulators.h"

#include "model_registry.h"
#include "plastic.h"

#include <math.h>
#include <string.h>

#define LIFE_ERR(s, st, ...) n4d__error(&(s)->hdr, (st), __VA_ARGS__)

/* ---- health, age and the death step ---------------------------------------------- */

/* Health after k lifecycle steps from h0 (closed form, floor 0). */
static inline double health_after(const n4d_lifecycle *L, double h0, int64_t k)
{
    const double h = h0 - (double)k * L->health_decay_per_step;
    return h > 0.0 ? h : 0.0;
}

static inline bool dies_after(const n4d_lifecycle *L, double h0, double a0, int64_t k)
{
    return a0 + (double)k > L->max_age || health_after(L, h0, k) < 0.1;
}

/* The step whose lifecycle kills a neuron born at the lifecycle of step
 * `born` (-1: the first) with health h0 and age a0: the first k >= 1 with
 * age a0 + k > max_age or health < 0.1, at step born + k. */
int64_t n4d__life_death_step(const n4d_lifecycle *L, int64_t born, double h0, double a0)
{
    double k = INFINITY;
    if (L->max_age < INFINITY)
        k = a0 > L->max_age ? 1.0 : floor(L->max_age - a0) + 1.0;
    const double d = L->health_decay_per_step;
    if (!(h0 >= 0.1))
        k = 1.0;
    else if (d > 0.0)
        k = fmin(k, floor((h0 - 0.1) / d) + 1.0);
    if (!(k < 4e18 - (double)born))
        return INT64_MAX;
    int64_t kk = (int64_t)(k < 1.0 ? 1.0 : k);
    /* the estimate is within a step or two of the exact crossing */
    while (kk > 1 && dies_after(L, h0, a0, kk - 1))
        kk--;
    while (!dies_after(L, h0, a0, kk))
        kk++;
    return born + kk;
}

double n4d__life_normal(uint64_t seed, uint32_t purpose, uint32_t slot, uint64_t ctr)
{
    const n4d__r4 r = n4d__philox(seed, purpose, slot, ctr);
    const double u1 = n4d__u01_open0(r.v[0], r.v[1]), u2 = n4d__u01(r.v[2], r.v[3]);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* ---- the heap of deaths ------------------------------------------------------------- */

static inline bool ev_less(const n4d__life_ev *a, const n4d__life_ev *b)
{
    return a->step < b->step || (a->step == b->step && a->id < b->id);
}

static n4d_status heap_push(n4d_sim *sim, n4d__life *L, n4d__life_ev e)
{
    if (e.step == INT64_MAX)
        return N4D_OK;
    if (L->n_heap == L->cap_heap) {
        size_t cap = L->cap_heap;
        if (!n4d__grow(sim->ctx, N4D_MEM_OTHER, (void **)&L->heap, &cap, L->n_heap + 1,
                       sizeof *L->heap))
            return LIFE_ERR(sim, N4D_E_NOMEM, "cell lifecycle: out of memory for the deaths");
        L->cap_heap = cap;
    }
    uint64_t i = L->n_heap++;
    while (i > 0 && ev_less(&e, &L->heap[(i - 1) / 2])) {
        L->heap[i] = L->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    L->heap[i] = e;
    return N4D_OK;
}

static n4d__life_ev heap_pop(n4d__life *L)
{
    const n4d__life_ev top = L->heap[0], last = L->heap[--L->n_heap];
    uint64_t i = 0;
    for (;;) {
        uint64_t c = 2 * i + 1;
        if (c >= L->n_heap)
            break;
        if (c + 1 < L->n_heap && ev_less(&L->heap[c + 1], &L->heap[c]))
            c++;
        if (!ev_less(&L->heap[c], &last))
            break;
        L->heap[i] = L->heap[c];
        i = c;
    }
    if (L->n_heap)
        L->heap[i] = last;
    return top;
}

int64_t n4d__life_next(const n4d_sim *sim)
{
    const n4d__life *L = sim->life;
    return L && L->n_heap ? L->heap[0].step : INT64_MAX;
}

/* ---- creation ------------------------------------------------------------------------ */

n4d_status n4d__life_create(n4d_sim *sim)
{
    const n4d_model *m = sim->model;
    bool any = false, mutate = false;
    for (size_t p = 0; p < m->n_pops; p++) {
        any = any || n4d__pop_lifecycle(m, (int32_t)p);
        mutate = mutate || n4d__pop_mutates_weights(m, (int32_t)p);
    }
    if (!any)
        return N4D_OK;
    /* a threshold that follows a modulator scales the run's constants
     * (modulators.h), which lifecycle populations replace by their own */
    for (size_t b = 0; b < m->n_mod_binds; b++)
        if (m->mod_binds[b].what == N4D_MOD_THRESHOLD &&
            n4d__pop_lifecycle(m, m->mod_binds[b].pop))
            return LIFE_ERR(sim, N4D_E_UNSUPPORTED,
                            "population \"%s\": a cell lifecycle and a threshold bound to a "
                            "modulator are not supported together (the gain binding is)",
                            m->pops[m->mod_binds[b].pop].name);
    /* the rules whose weights a child's mutation can set */
    for (uint32_t c = 0; c < m->n_cls; c++) {
        const n4d__syn_class *cl = &m->cls[c];
        if (cl->sm->id == N4D__SYN_STATIC || cl->sm->id == N4D__SYN_HEBB_4DNC)
            continue;
        for (size_t p = 0; p < m->n_pops; p++)
            if (n4d__pop_lifecycle(m, (int32_t)p) && m->pops[p].life.enable_reproduction &&
                (cl->source < 0 || cl->source == (int32_t)p || cl->target < 0 ||
                 cl->target == (int32_t)p))
                return LIFE_ERR(sim, N4D_E_UNSUPPORTED,
                                "population \"%s\": cell lifecycle with reproduction and %s "
                                "synapses (\"%s\") is not supported (static and hebb_4dnc are)",
                                m->pops[p].name, cl->sm->name, cl->name);
    }
    n4d_context *ctx = sim->ctx;
    const uint64_t N = sim->n ? sim->n : 1;
    n4d__life *L = n4d__calloc(ctx, N4D_MEM_OTHER, 1, sizeof *L);
    if (!L)
        return LIFE_ERR(sim, N4D_E_NOMEM, "cell lifecycle: out of memory");
    sim->life = L;
    L->k = n4d__calloc(ctx, N4D_MEM_NEURONS, N * N4D__KWORDS, sizeof(uint32_t));
    L->params = n4d__calloc(ctx, N4D_MEM_NEURONS, N * N4D__MAX_PARAMS, sizeof(double));
    L->alive = n4d__alloc(ctx, N4D_MEM_NEURONS, N);
    L->born = n4d__alloc(ctx, N4D_MEM_NEURONS, N * sizeof(int64_t));
    L->die = n4d__alloc(ctx, N4D_MEM_NEURONS, N * sizeof(int64_t));
    L->h0 = n4d__alloc(ctx, N4D_MEM_NEURONS, N * sizeof(double));
    L->a0 = n4d__alloc(ctx, N4D_MEM_NEURONS, N * sizeof(double));
    L->id = n4d__alloc(ctx, N4D_MEM_NEURONS, N * sizeof(uint64_t));
    L->gen = n4d__alloc(ctx, N4D_MEM_NEURONS, N * sizeof(uint32_t));
    L->parent = n4d__alloc(ctx, N4D_MEM_NEURONS, N * sizeof(int64_t));
    L->in_ptr = n4d__calloc(ctx, N4D_MEM_SYNAPSES, N + 1, sizeof(uint64_t));
    int32_t *pop_int = n4d__alloc(ctx, N4D_MEM_OTHER, N * sizeof(int32_t));
    if (!L->k || !L->params || !L->alive || !L->born || !L->die || !L->h0 || !L->a0 || !L->id ||
        !L->gen || !L->parent || !L->in_ptr || !pop_int) {
        n4d__free(ctx, N4D_MEM_OTHER, pop_int, N * sizeof(int32_t));
        return LIFE_ERR(sim, N4D_E_NOMEM, "cell lifecycle: out of memory for %llu neurons",
                        (unsigned long long)sim->n);
    }
    for (size_t r = 0; r < m->n_runs; r++)
        for (uint64_t i = m->runs[r].first; i < m->runs[r].first + m->runs[r].n; i++)
            pop_int[i] = m->runs[r].pop;
    const n4d__life_init *I = m->life0;
    uint64_t next = sim->n;
    n4d_status st = N4D_OK;
    for (uint64_t i = 0; i < sim->n && !st; i++) {
        const uint64_t u = n4d__to_user(m, i);
        const int32_t p = pop_int[i];
        const n4d__population *pp = &m->pops[p];
        L->alive[i] = 1;
        L->born[i] = -1;
        L->id[i] = I ? I->id[u] : u;
        L->gen[i] = I ? I->generation[u] : 0;
        L->parent[i] = I ? I->parent[u] : -1;
        L->h0[i] = I ? I->health[u] : 1.0;
        L->a0[i] = I ? I->age[u] : 0.0;
        next = L->id[i] + 1 > next ? L->id[i] + 1 : next;
        L->die[i] = INT64_MAX;
        if (!n4d__pop_lifecycle(m, p))
            continue;
        memcpy(&L->params[i * N4D__MAX_PARAMS], pp->params, sizeof pp->params);
        n4d__neuron_k k;
        memset(&k, 0, sizeof k);
        pp->nm->h->constants(pp->params, sim->dt, &k);
        n4d__kn_put(L->k, N, i, &k);
        L->die[i] = n4d__life_death_step(&pp->life, -1, L->h0[i], L->a0[i]);
        st = heap_push(sim, L, (n4d__life_ev){L->die[i], L->id[i], (uint32_t)i});
    }
    L->next_id = I && I->next_id > next ? I->next_id : next;
    /* the incoming synapses of the neurons whose weights mutate */
    const n4d__synapses *s = &m->syn;
    if (mutate && !st) {
        for (uint64_t j = 0; j < s->n_syn; j++)
            if (n4d__pop_mutates_weights(m, pop_int[s->target[j]]))
                L->in_ptr[s->target[j] + 1]++;
        for (uint64_t i = 0; i < sim->n; i++)
            L->in_ptr[i + 1] += L->in_ptr[i];
        L->n_in = L->in_ptr[sim->n];
        const uint64_t n_in = L->n_in ? L->n_in : 1;
        L->in_j = n4d__alloc(ctx, N4D_MEM_SYNAPSES, n_in * sizeof(uint64_t));
        L->in_g = n4d__alloc(ctx, N4D_MEM_SYNAPSES, n_in * sizeof(uint64_t));
        L->in_src = n4d__alloc(ctx, N4D_MEM_SYNAPSES, n_in * sizeof(uint32_t));
        uint64_t *fill = n4d__alloc(ctx, N4D_MEM_OTHER, N * sizeof(uint64_t));
        if (!L->in_j || !L->in_g || !L->in_src || !fill) {
            st = LIFE_ERR(sim, N4D_E_NOMEM, "cell lifecycle: out of memory for %llu synapses",
                          (unsigned long long)L->n_in);
        } else {
            memcpy(fill, L->in_ptr, sim->n * sizeof(uint64_t));
            for (uint64_t src = 0; src < sim->n; src++)
                for (uint64_t g = s->seg_ptr[src]; g < s->seg_ptr[src + 1]; g++)
                    for (uint64_t j = s->seg_off[g]; j < s->seg_off[g + 1]; j++) {
                        const uint32_t t = s->target[j];
                        if (!n4d__pop_mutates_weights(m, pop_int[t]))
                            continue;
                        const uint64_t q = fill[t]++;
                        L->in_j[q] = j;
                        L->in_g[q] = g;
                        L->in_src[q] = (uint32_t)src;
                    }
        }
        n4d__free(ctx, N4D_MEM_OTHER, fill, N * sizeof(uint64_t));
    }
    n4d__free(ctx, N4D_MEM_OTHER, pop_int, N * sizeof(int32_t));
    if (st)
        return st;
    for (size_t r = 0; r < sim->n_runs; r++)
        if (n4d__pop_lifecycle(m, sim->runs[r].pop)) {
            sim->runs[r].kn = L->k;
            sim->runs[r].kn_stride = N;
            sim->runs[r].alive = L->alive;
        }
    return N4D_OK;
}

n4d_status n4d__life_rebuild(n4d_sim *sim)
{
    n4d__life *L = sim->life;
    const n4d_model *m = sim->model;
    const uint64_t N = sim->n ? sim->n : 1;
    L->n_heap = 0;
    n4d_status st = N4D_OK;
    for (uint64_t i = 0; i < sim->n && !st; i++) {
        const n4d__population *pp = &m->pops[n4d__pop_of(m, n4d__to_user(m, i))];
        if (!n4d__pop_lifecycle(m, (int32_t)(pp - m->pops)))
            continue;
        n4d__neuron_k k;
        memset(&k, 0, sizeof k);
        pp->nm->h->constants(&L->params[i * N4D__MAX_PARAMS], sim->dt, &k);
        n4d__kn_put(L->k, N, i, &k);
        if (L->alive[i])
            st = heap_push(sim, L, (n4d__life_ev){L->die[i], L->id[i], (uint32_t)i});
    }
    return st;
}

void n4d__life_destroy(n4d_sim *sim)
{
    n4d__life *L = sim->life;
    if (!L)
        return;
    n4d_context *ctx = sim->ctx;
    const uint64_t N = sim->n ? sim->n : 1, n_in = L->n_in ? L->n_in : 1;
    n4d__free(ctx, N4D_MEM_NEURONS, L->k, N * N4D__KWORDS * sizeof(uint32_t));
    n4d__free(ctx, N4D_MEM_NEURONS, L->params, N * N4D__MAX_PARAMS * sizeof(double));
    n4d__free(ctx, N4D_MEM_NEURONS, L->alive, N);
    n4d__free(ctx, N4D_MEM_NEURONS, L->born, N * sizeof(int64_t));
    n4d__free(ctx, N4D_MEM_NEURONS, L->die, N * sizeof(int64_t));
    n4d__free(ctx, N4D_MEM_NEURONS, L->h0, N * sizeof(double));
    n4d__free(ctx, N4D_MEM_NEURONS, L->a0, N * sizeof(double));
    n4d__free(ctx, N4D_MEM_NEURONS, L->id, N * sizeof(uint64_t));
    n4d__free(ctx, N4D_MEM_NEURONS, L->gen, N * sizeof(uint32_t));
    n4d__free(ctx, N4D_MEM_NEURONS, L->parent, N * sizeof(int64_t));
    n4d__free(ctx, N4D_MEM_SYNAPSES, L->in_ptr, (N + 1) * sizeof(uint64_t));
    n4d__free(ctx, N4D_MEM_SYNAPSES, L->in_j, n_in * sizeof(uint64_t));
    n4d__free(ctx, N4D_MEM_SYNAPSES, L->in_g, n_in * sizeof(uint64_t));
    n4d__free(ctx, N4D_MEM_SYNAPSES, L->in_src, n_in * sizeof(uint32_t));
    n4d__free(ctx, N4D_MEM_OTHER, L->heap, L->cap_heap * sizeof *L->heap);
    n4d__free(ctx, N4D_MEM_OTHER, L, sizeof *L);
    sim->life = NULL;
}

/* ---- deaths and births ------------------------------------------------------------------ */

/* Adds sigma * N(0, 1) to synapse j of segment g (row src), a synapse of
 * the dying neuron in slot u (user id) of generation gen; `other` is the
 * user id of the synapse's other end, out = 1 for an outgoing synapse. The
 * draw is keyed by the slot, the generation, the other end, the direction,
 * the segment's delay and channel and the synapse's rank among those of
 * the segment with the same target (multapses). */
static void mutate_weight(n4d_sim *sim, uint64_t src, uint64_t g, uint64_t j, uint32_t u,
                          uint32_t gen, uint64_t other, uint32_t out, double sigma)
{
    const n4d__synapses *s = &sim->model->syn;
    const uint32_t key = s->seg_key[g];
    uint32_t rank = 0;
    for (uint64_t q = j; q > s->seg_off[g] && s->target[q - 1] == s->target[j]; q--)
        rank++;
    const uint32_t purpose = N4D_RNG_LIFE_WEIGHT | out << 8 | (uint32_t)N4D__SEG_CH(key) << 9 |
                             ((uint32_t)N4D__SEG_DELAY(key) & 0xfffu) << 10 | (rank & 0x3ffu) << 22;
    const double z = n4d__life_normal(sim->seed, purpose, u, (uint64_t)gen << 32 | other);
    const double w = n4d__plastic_weight(sim, src, g, j);
    n4d__plastic_set_weight(sim, g, j, w + sigma * z);
}

/* The child that takes slot i (user id u) at the lifecycle of `step`. */
static void give_birth(n4d_sim *sim, n4d__life *L, uint64_t i, const n4d__population *pp,
                       int64_t step)
{
    const n4d_model *m = sim->model;
    const n4d_lifecycle *lc = &pp->life;
    const uint32_t u = (uint32_t)n4d__to_user(m, i), gen = L->gen[i];
    const n4d__synapses *s = &m->syn;
    /* every synapse of the slot, outgoing then incoming (a synapse onto
     * itself once), from the weights as they are after this step */
    if (lc->mutation_std_weights > 0.0) {
        const double sg = lc->mutation_std_weights;
        for (uint64_t g = s->seg_ptr[i]; g < s->seg_ptr[i + 1]; g++)
            for (uint64_t j = s->seg_off[g]; j < s->seg_off[g + 1]; j++)
                mutate_weight(sim, i, g, j, u, gen, n4d__to_user(m, s->target[j]), 1, sg);
        for (uint64_t q = L->in_ptr[i]; q < L->in_ptr[i + 1]; q++)
            if (L->in_src[q] != i)
                mutate_weight(sim, L->in_src[q], L->in_g[q], L->in_j[q], u, gen,
                              n4d__to_user(m, L->in_src[q]), 0, sg);
    }
    /* parameters and their constants */
    double *q = &L->params[i * N4D__MAX_PARAMS];
    const n4d__model_host *h = pp->nm->h;
    for (int32_t k = 0; k < h->n_params; k++)
        q[k] *= 1.0 + lc->mutation_std_params *
                          n4d__life_normal(sim->seed, N4D_RNG_LIFE_PARAM, u,
                                           (uint64_t)gen * N4D__MAX_PARAMS + (uint64_t)k);
    n4d__neuron_k k;
    memset(&k, 0, sizeof k);
    h->constants(q, sim->dt, &k);
    n4d__kn_put(L->k, sim->n ? sim->n : 1, i, &k);
    /* the model's initial state */
    const n4d_dist *d = &pp->v_init;
    double v = d->value;
    if (d->kind != N4D_DIST_CONSTANT) {
        n4d__r4 r = n4d__philox(sim->seed, N4D_RNG_LIFE_VINIT, u, gen);
        if (d->kind == N4D_DIST_UNIFORM) {
            v = d->lo + (d->hi - d->lo) * n4d__u01(r.v[0], r.v[1]);
        } else {
            double u1 = n4d__u01_open0(r.v[0], r.v[1]), u2 = n4d__u01(r.v[2], r.v[3]);
            v = d->value + d->std * sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
            v = v < d->lo ? d->lo : (v > d->hi ? d->hi : v);
        }
    }
    sim->v[i] = (float)v;
    sim->ref[i] = 0;
    float x[N4D__NX] = {0};
    if (h->init)
        h->init(q, sim->v[i], x);
    for (int32_t j = 0; j < h->n_states - 1; j++)
        sim->x[j][i] = x[j];
    /* the lineage */
    L->parent[i] = (int64_t)L->id[i];
    L->id[i] = L->next_id++;
    L->gen[i] = gen + 1;
    L->born[i] = step;
    L->h0[i] = 1.0;
    L->a0[i] = 0.0;
    L->die[i] = n4d__life_death_step(lc, step, 1.0, 0.0);
}

n4d_status n4d__life_apply(n4d_sim *sim, int64_t step)
{
    n4d__life *L = sim->life;
    const n4d_model *m = sim->model;
    /* each child's death replaces its parent's in the heap (a pop, then at
     * most one push): the heap never outgrows its capacity here, and no
     * scan of it is needed (this runs at nearly every step of a model
     * whose neurons live a few hundred steps) */
    while (L->n_heap && L->heap[0].step == step) {
        const n4d__life_ev e = heap_pop(L);
        const uint64_t i = e.slot;
        const n4d__population *pp = &m->pops[n4d__pop_of(m, n4d__to_user(m, i))];
        L->deaths++;
        if (!pp->life.enable_reproduction) {
            L->alive[i] = 0; /* removed: silent, its synapses carry nothing */
            continue;
        }
        give_birth(sim, L, i, pp, step);
        L->births++;
        heap_push(sim, L, (n4d__life_ev){L->die[i], L->id[i], (uint32_t)i}); /* the slot popped */
    }
    return N4D_OK;
}

/* ---- the public API ---------------------------------------------------------------------- */

n4d_status n4d_sim_get_lineage(n4d_sim *sim, uint64_t first, uint64_t count, uint64_t *id,
                               uint32_t *generation, int64_t *parent, uint8_t *alive,
                               uint64_t *age, double *health)
{
    if (!n4d__is_handle(sim, N4D__MAGIC_SIM))
        return N4D_E_INVALID_ARG;
    n4d__clear_error(&sim->hdr);
    if (first > sim->n || count > sim->n - first)
        return LIFE_ERR(sim, N4D_E_RANGE,
                        "n4d_sim_get_lineage: neurons %llu..%llu are not all in the model's %llu",
                        (unsigned long long)first, (unsigned long long)(first + count),
                        (unsigned long long)sim->n);
    const n4d_model *m = sim->model;
    const n4d__life *L = sim->life;
    const n4d__life_init *I = m->life0;
    const int64_t now = (int64_t)sim->step - 1;
    for (uint64_t q = 0; q < count; q++) {
        const uint64_t u = first + q, i = n4d__to_internal(m, u);
        const int32_t p = n4d__pop_of(m, u);
        uint64_t nid = I ? I->id[u] : u, a = I ? (uint64_t)I->age[u] : 0;
        uint32_t gen = I ? I->generation[u] : 0;
        int64_t par = I ? I->parent[u] : -1;
        uint8_t al = 1;
        double h = I ? I->health[u] : 1.0;
        if (L && n4d__pop_lifecycle(m, p)) {
            const n4d_lifecycle *lc = &m->pops[p].life;
            int64_t end = now;
            if (!L->alive[i] && L->die[i] < end)
                end = L->die[i]; /* frozen at its death */
            const int64_t k = end - L->born[i];
            nid = L->id[i];
            gen = L->gen[i];
            par = L->parent[i];
            al = L->alive[i];
            a = (uint64_t)(L->a0[i] + (double)k);
            h = health_after(lc, L->h0[i], k);
        }
        if (id)
            id[q] = nid;
        if (generation)
            generation[q] = gen;
        if (parent)
            parent[q] = par;
        if (alive)
            alive[q] = al;
        if (age)
            age[q] = a;
        if (health)
            health[q] = h;
    }
    return N4D_OK;
}

n4d_status n4d_sim_lifecycle_counts(const n4d_sim *sim, uint64_t *deaths, uint64_t *births)
{
    if (!n4d__is_handle(sim, N4D__MAGIC_SIM))
        return N4D_E_INVALID_ARG;
    if (deaths)
        *deaths = sim->life ? sim->life->deaths : 0;
    if (births)
        *births = sim->life ? sim->life->births : 0;
    return N4D_OK;
}
