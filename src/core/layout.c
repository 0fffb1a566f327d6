/* Internal neuron order. Neurons are stored partition by partition (4D
 * recursive coordinate bisection, balanced by weight), then population by
 * population, then in lattice or Morton order. Users keep their ids: the
 * permutation is applied at the API boundary (sim.c, model.c). */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

void n4d_layout_options_init(n4d_layout_options *opt)
{
    if (!opt)
        return;
    memset(opt, 0, sizeof *opt);
    opt->struct_size = sizeof *opt;
    opt->order = N4D_ORDER_LATTICE;
}

n4d_status n4d_model_set_layout(n4d_model *m, const n4d_layout_options *opt)
{
    if (!n4d__is_handle(m, N4D__MAGIC_MODEL))
        return N4D_E_INVALID_ARG;
    n4d__model_clear_error(m);
    if (m->built)
        return n4d__error(&m->hdr, N4D_E_STATE,
                          "n4d_model_set_layout: the model is already built and read-only");
    if (!opt || opt->struct_size < sizeof(uint32_t))
        return n4d__error(&m->hdr, N4D_E_INVALID_ARG, "layout options are NULL or have no struct_size");
    n4d_layout_options o;
    n4d_layout_options_init(&o);
    N4D__COPY_IN(o, opt);
    if (o.order != N4D_ORDER_LATTICE && o.order != N4D_ORDER_ZORDER)
        return n4d__error(&m->hdr, N4D_E_INVALID_ARG,
                          "unknown neuron order %d (expected lattice or zorder)", o.order);
    m->layout = o;
    return N4D_OK;
}

uint64_t n4d__morton4(const int32_t xyzw[4])
{
    uint64_t code = 0;
    for (int b = 0; b < 16; b++)
        for (int a = 0; a < 4; a++)
            code |= (uint64_t)(((uint32_t)xyzw[a] >> b) & 1u) << (4 * b + a);
    return code;
}

void n4d__morton4_decode(uint64_t code, int32_t xyzw[4])
{
    for (int a = 0; a < 4; a++) {
        uint32_t c = 0;
        for (int b = 0; b < 16; b++)
            c |= (uint32_t)((code >> (4 * b + a)) & 1u) << b;
        xyzw[a] = (int32_t)c;
    }
}

/* ---- recursive coordinate bisection ------------------------------------ */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Splits ids[0..n) (user ids; keys is scratch of n) into `parts` boxes:
 * along the widest axis at the weighted position that gives the left half
 * its share, ties broken by id, never leaving a box empty. */
static void rcb(const n4d_model *m, uint32_t *ids, uint64_t *keys, uint64_t n, uint32_t parts,
                uint32_t base, const uint64_t *weight, uint32_t *part_of)
{
    if (parts <= 1 || n <= 1) {
        for (uint64_t i = 0; i < n; i++)
            part_of[ids[i]] = base;
        return;
    }
    int32_t lo[4] = {INT32_MAX, INT32_MAX, INT32_MAX, INT32_MAX}, hi[4] = {0, 0, 0, 0};
    for (uint64_t i = 0; i < n; i++)
        for (int a = 0; a < 4; a++) {
            int32_t c = m->pos[4 * (uint64_t)ids[i] + a];
            lo[a] = c < lo[a] ? c : lo[a];
            hi[a] = c > hi[a] ? c : hi[a];
        }
    int axis = 0;
    for (int a = 1; a < 4; a++)
        if (hi[a] - lo[a] > hi[axis] - lo[axis])
            axis = a;
    for (uint64_t i = 0; i < n; i++)
        keys[i] = ((uint64_t)(uint32_t)m->pos[4 * (uint64_t)ids[i] + axis] << 32) | ids[i];
    qsort(keys, n, sizeof *keys, cmp_u64);
    double total = 0;
    for (uint64_t i = 0; i < n; i++) {
        ids[i] = (uint32_t)keys[i];
        total += weight ? (double)weight[ids[i]] : 1.0;
    }
    const uint32_t left_parts = parts / 2;
    const double goal = total * left_parts / parts;
    double acc = 0;
    uint64_t k = 0;
    while (k < n) { /* first k whose middle lies at or beyond the goal */
        const double w = weight ? (double)weight[ids[k]] : 1.0;
        if (acc + w * 0.5 >= goal)
            break;
        acc += w;
        k++;
    }
    if (k < left_parts)
        k = left_parts;
    if (n - k < parts - left_parts)
        k = n - (parts - left_parts);
    rcb(m, ids, keys, k, left_parts, base, weight, part_of);
    rcb(m, ids + k, keys + k, n - k, parts - left_parts, base + left_parts, weight, part_of);
}

n4d_status n4d__rcb_assign(const n4d_model *m, uint32_t parts, const uint64_t *weight, uint32_t *part_of)
{
    const uint64_t N = m->n_neurons;
    if (parts == 0 || (N > 0 && parts > N))
        return n4d__model_error(m, N4D_E_INTERNAL, "n4d__rcb_assign: %u parts for %llu neurons",
                          parts, (unsigned long long)N);
    const uint64_t NN = N ? N : 1;
    uint32_t *ids = n4d__alloc(m->ctx, N4D_MEM_BUILD, NN * sizeof *ids);
    uint64_t *keys = n4d__alloc(m->ctx, N4D_MEM_BUILD, NN * sizeof *keys);
    n4d_status st = N4D_OK;
    if (!ids || !keys) {
        st = n4d__model_error(m, N4D_E_NOMEM,
                        "out of memory for the bisection of %llu neurons into %u boxes",
                        (unsigned long long)N, parts);
    } else {
        for (uint64_t i = 0; i < N; i++)
            ids[i] = (uint32_t)i;
        rcb(m, ids, keys, N, parts, 0, weight, part_of);
    }
    n4d__free(m->ctx, N4D_MEM_BUILD, ids, NN * sizeof *ids);
    n4d__free(m->ctx, N4D_MEM_BUILD, keys, NN * sizeof *keys);
    return st;
}

/* ---- the permutation ------------------------------------------------------- */

typedef struct order_key {
    uint32_t part, pop;
    uint64_t code;
    uint32_t id;
} order_key;

static int cmp_order(const void *a, const void *b)
{
    const order_key *x = a, *y = b;
    if (x->part != y->part)
        return x->part < y->part ? -1 : 1;
    if (x->pop != y->pop)
        return x->pop < y->pop ? -1 : 1;
    if (x->code != y->code)
        return x->code < y->code ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

void n4d__layout_free(n4d_model *m)
{
    n4d_context *ctx = m->ctx;
    const uint64_t N = m->n_neurons ? m->n_neurons : 1;
    n4d__free(ctx, N4D_MEM_NEURONS, m->perm, N * sizeof(uint32_t));
    n4d__free(ctx, N4D_MEM_NEURONS, m->inv, N * sizeof(uint32_t));
    n4d__free(ctx, N4D_MEM_OTHER, m->runs, (m->n_runs ? m->n_runs : 1) * sizeof *m->runs);
    n4d__free(ctx, N4D_MEM_OTHER, m->part_bounds, ((size_t)m->n_parts + 1) * sizeof(uint64_t));
    m->perm = m->inv = NULL;
    m->runs = NULL;
    m->part_bounds = NULL;
    m->n_runs = 0;
    m->n_parts = 0;
}

n4d_status n4d__layout_compute(n4d_model *m, const uint64_t *weight)
{
    n4d_context *ctx = m->ctx;
    const uint64_t N = m->n_neurons;
    uint32_t parts = m->layout.partitions > 1 ? m->layout.partitions : 1;
    if (n4d__distributed(m)) { /* ranks own whole groups of partitions */
        const uint32_t R = (uint32_t)m->comm.size;
        parts = parts < R ? R : (parts + R - 1) / R * R;
        if (parts > N)
            return n4d__error(&m->hdr, N4D_E_CONFIG,
                              "%u ranks for %llu neurons (expected at most one rank per neuron)",
                              R, (unsigned long long)N);
    }
    if (parts > 1 && parts > N)
        return n4d__error(&m->hdr, N4D_E_CONFIG, "%u partitions for %llu neurons (expected at most one per neuron)",
                          parts, (unsigned long long)N);
    const bool identity = parts == 1 && m->layout.order == N4D_ORDER_LATTICE;
    uint32_t *part_of = NULL;
    order_key *ord = NULL;
    n4d_status st = N4D_OK;
    m->n_parts = parts;
    m->part_bounds = n4d__calloc(ctx, N4D_MEM_OTHER, (size_t)parts + 1, sizeof(uint64_t));
    if (!m->part_bounds)
        goto nomem;
    if (identity) {
        size_t nonempty = 0;
        for (size_t p = 0; p < m->n_pops; p++)
            nonempty += m->pops[p].n > 0;
        m->runs = n4d__calloc(ctx, N4D_MEM_OTHER, nonempty ? nonempty : 1, sizeof *m->runs);
        if (!m->runs)
            goto nomem;
        for (size_t p = 0; p < m->n_pops; p++)
            if (m->pops[p].n)
                m->runs[m->n_runs++] = (n4d__run){m->pops[p].first, m->pops[p].n, (int32_t)p, 0};
        m->part_bounds[1] = N;
        return N4D_OK;
    }
    const uint64_t NN = N ? N : 1;
    part_of = n4d__calloc(ctx, N4D_MEM_BUILD, NN, sizeof *part_of);
    ord = n4d__alloc(ctx, N4D_MEM_BUILD, NN * sizeof *ord);
    m->perm = n4d__alloc(ctx, N4D_MEM_NEURONS, NN * sizeof(uint32_t));
    m->inv = n4d__alloc(ctx, N4D_MEM_NEURONS, NN * sizeof(uint32_t));
    if (!part_of || !ord || !m->perm || !m->inv)
        goto nomem;
    if ((st = n4d__rcb_assign(m, parts, m->layout.balance_synapses ? weight : NULL, part_of)))
        goto done;
    for (size_t p = 0; p < m->n_pops; p++)
        for (uint64_t id = m->pops[p].first; id < m->pops[p].first + m->pops[p].n; id++)
            ord[id] = (order_key){part_of[id], (uint32_t)p,
                                  m->layout.order == N4D_ORDER_ZORDER ? n4d__morton4(m->pos + 4 * id)
                                                                      : 0,
                                  (uint32_t)id};
    qsort(ord, N, sizeof *ord, cmp_order);
    size_t runs = 0;
    for (uint64_t i = 0; i < N; i++)
        runs += i == 0 || ord[i].part != ord[i - 1].part || ord[i].pop != ord[i - 1].pop;
    m->runs = n4d__calloc(ctx, N4D_MEM_OTHER, runs ? runs : 1, sizeof *m->runs);
    if (!m->runs)
        goto nomem;
    for (uint64_t i = 0; i < N; i++) {
        m->perm[i] = ord[i].id;
        m->inv[ord[i].id] = (uint32_t)i;
        if (i == 0 || ord[i].part != ord[i - 1].part || ord[i].pop != ord[i - 1].pop)
            m->runs[m->n_runs++] = (n4d__run){i, 0, (int32_t)ord[i].pop, ord[i].part};
        m->runs[m->n_runs - 1].n++;
        m->part_bounds[ord[i].part + 1] = i + 1;
    }
    for (uint32_t p = 1; p <= parts; p++) /* (no partition is empty, but stay monotone) */
        if (m->part_bounds[p] < m->part_bounds[p - 1])
            m->part_bounds[p] = m->part_bounds[p - 1];
    goto done;
nomem:
    st = n4d__error(&m->hdr, N4D_E_NOMEM, "out of memory for the neuron layout of %llu neurons",
                    (unsigned long long)N);
done:
    n4d__free(ctx, N4D_MEM_BUILD, part_of, (N ? N : 1) * sizeof *part_of);
    n4d__free(ctx, N4D_MEM_BUILD, ord, (N ? N : 1) * sizeof *ord);
    return st;
}
