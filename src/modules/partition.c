/* Spatial partitioning (include/n4d/partition.h): the recursive coordinate
 * bisection of layout.c (n4d__rcb_assign) applied to a built model, with
 * each box's ranges, neurons and synapses and the load-balance statistics. */
#include "internal.h"

#include <math.h>
#include <string.h>

/* The public result followed by what destroy needs. */
typedef struct part_result {
    n4d_partition_result pub; /* first: the public pointer is this one */
    n4d_context *ctx;
    n4d_partition *parts;
    uint32_t *ids;     /* all neurons grouped by partition */
    uint32_t *part_of; /* by user id */
    uint64_t n_alloc;  /* neuron entries allocated (>= 1) */
    uint32_t parts_alloc;
} part_result;

#define MODEL_ERR(m, st, ...) n4d__model_error((m), (st), __VA_ARGS__)

void n4d_partition_options_init(n4d_partition_options *opt)
{
    if (!opt)
        return;
    memset(opt, 0, sizeof *opt);
    opt->struct_size = sizeof *opt;
}

void n4d_partition_result_destroy(n4d_partition_result *result)
{
    if (!result)
        return;
    part_result *r = (part_result *)result;
    n4d_context *ctx = r->ctx;
    n4d__free(ctx, N4D_MEM_OTHER, r->parts, (size_t)r->parts_alloc * sizeof *r->parts);
    n4d__free(ctx, N4D_MEM_OTHER, r->ids, r->n_alloc * sizeof *r->ids);
    n4d__free(ctx, N4D_MEM_OTHER, r->part_of, r->n_alloc * sizeof *r->part_of);
    n4d__free(ctx, N4D_MEM_OTHER, r, sizeof *r);
}

static uint64_t out_degree(const n4d_model *m, uint64_t id)
{
    const n4d__synapses *s = &m->syn;
    const uint64_t row = n4d__to_internal(m, id);
    return s->seg_off[s->seg_ptr[row + 1]] - s->seg_off[s->seg_ptr[row]];
}

static void balance(const n4d_partition *p, uint32_t n, int synapses, n4d_balance_stats *st)
{
    memset(st, 0, sizeof *st);
    if (n == 0)
        return;
    double sum = 0, lo = INFINITY, hi = -INFINITY;
    for (uint32_t i = 0; i < n; i++) {
        double x = (double)(synapses ? p[i].num_synapses : p[i].num_neurons);
        sum += x;
        lo = x < lo ? x : lo;
        hi = x > hi ? x : hi;
    }
    const double mean = sum / n;
    double var = 0;
    for (uint32_t i = 0; i < n; i++) {
        double d = (double)(synapses ? p[i].num_synapses : p[i].num_neurons) - mean;
        var += d * d;
    }
    st->mean = mean;
    st->std = sqrt(var / n);
    st->min = lo;
    st->max = hi;
    st->imbalance = mean > 0 ? (hi - lo) / mean : 0.0;
}

/* Allocates the result for `parts` partitions (part_of left to the caller). */
static n4d_status result_alloc(const n4d_model *m, uint32_t parts, part_result **out)
{
    n4d_context *ctx = m->ctx;
    part_result *r = n4d__calloc(ctx, N4D_MEM_OTHER, 1, sizeof *r);
    if (!r)
        return MODEL_ERR(m, N4D_E_NOMEM, "out of memory for a partition result");
    r->ctx = ctx;
    r->n_alloc = m->n_neurons ? m->n_neurons : 1;
    r->parts_alloc = parts;
    r->parts = n4d__calloc(ctx, N4D_MEM_OTHER, parts, sizeof *r->parts);
    r->ids = n4d__alloc(ctx, N4D_MEM_OTHER, r->n_alloc * sizeof *r->ids);
    r->part_of = n4d__alloc(ctx, N4D_MEM_OTHER, r->n_alloc * sizeof *r->part_of);
    if (!r->parts || !r->ids || !r->part_of) {
        n4d_partition_result_destroy(&r->pub);
        return MODEL_ERR(m, N4D_E_NOMEM, "out of memory for %u partitions of %llu neurons", parts,
                         (unsigned long long)m->n_neurons);
    }
    *out = r;
    return N4D_OK;
}

/* Fills everything from r->part_of: neuron lists (ascending ids, by a
 * counting sort), boxes, synapse counts and statistics. */
static void result_fill(const n4d_model *m, part_result *r, int32_t balance_synapses)
{
    const uint64_t N = m->n_neurons;
    const uint32_t P = r->parts_alloc;
    n4d_partition *p = r->parts;
    for (uint32_t k = 0; k < P; k++)
        for (int a = 0; a < 4; a++) {
            p[k].lo[a] = INT32_MAX;
            p[k].hi[a] = INT32_MIN;
        }
    for (uint64_t id = 0; id < N; id++) {
        n4d_partition *q = &p[r->part_of[id]];
        const int32_t *pos = m->pos + 4 * id;
        q->num_neurons++;
        q->num_synapses += out_degree(m, id);
        for (int a = 0; a < 4; a++) {
            q->lo[a] = pos[a] < q->lo[a] ? pos[a] : q->lo[a];
            q->hi[a] = pos[a] > q->hi[a] ? pos[a] : q->hi[a];
        }
    }
    uint64_t at = 0;
    for (uint32_t k = 0; k < P; k++) {
        p[k].neurons = r->ids + at;
        at += p[k].num_neurons;
        if (p[k].num_neurons == 0) { /* empty: hi < lo */
            memset(p[k].lo, 0, sizeof p[k].lo);
            for (int a = 0; a < 4; a++)
                p[k].hi[a] = -1;
        }
    }
    /* ids ascending within each partition: fill in id order, using
     * num_neurons as the cursor and restoring it afterwards */
    for (uint32_t k = 0; k < P; k++)
        p[k].num_neurons = 0;
    for (uint64_t id = 0; id < N; id++) {
        n4d_partition *q = &p[r->part_of[id]];
        r->ids[(size_t)(q->neurons - r->ids) + q->num_neurons++] = (uint32_t)id;
    }
    r->pub.num_partitions = P;
    r->pub.balance_synapses = balance_synapses;
    r->pub.num_neurons = N;
    r->pub.partitions = p;
    r->pub.partition_of = r->part_of;
    balance(p, P, 0, &r->pub.neurons);
    balance(p, P, 1, &r->pub.synapses);
}

n4d_status n4d_partition_compute(const n4d_model *model, uint32_t n, const n4d_partition_options *opt,
                                 n4d_partition_result **out)
{
    if (out)
        *out = NULL;
    if (!n4d__is_handle(model, N4D__MAGIC_MODEL))
        return N4D_E_INVALID_ARG;
    const n4d_model *m = model;
    n4d__model_clear_error(m);
    if (!out)
        return MODEL_ERR(m, N4D_E_INVALID_ARG, "n4d_partition_compute: out is NULL");
    n4d_partition_options o;
    n4d_partition_options_init(&o);
    if (opt) {
        if (opt->struct_size < sizeof(uint32_t))
            return MODEL_ERR(m, N4D_E_INVALID_ARG,
                             "n4d_partition_compute: options.struct_size is not set");
        N4D__COPY_IN(o, opt);
    }
    if (!m->built)
        return MODEL_ERR(m, N4D_E_STATE, "n4d_partition_compute: the model is not built");
    if (n == 0)
        return MODEL_ERR(m, N4D_E_INVALID_ARG, "n4d_partition_compute: 0 partitions (expected >= 1)");
    if (n > m->n_neurons)
        return MODEL_ERR(m, N4D_E_RANGE,
                         "%u partitions for %llu neurons: at most one partition per neuron", n,
                         (unsigned long long)m->n_neurons);
    part_result *r = NULL;
    n4d_status st = result_alloc(m, n, &r);
    if (st)
        return st;
    uint64_t *weight = NULL;
    const size_t wbytes = (size_t)m->n_neurons * sizeof *weight;
    if (o.balance_synapses) {
        weight = n4d__alloc(m->ctx, N4D_MEM_BUILD, wbytes);
        if (!weight) {
            n4d_partition_result_destroy(&r->pub);
            return MODEL_ERR(m, N4D_E_NOMEM, "out of memory for the weights of %llu neurons",
                             (unsigned long long)m->n_neurons);
        }
        for (uint64_t id = 0; id < m->n_neurons; id++)
            weight[id] = 1 + out_degree(m, id);
    }
    st = n4d__rcb_assign(m, n, weight, r->part_of);
    n4d__free(m->ctx, N4D_MEM_BUILD, weight, wbytes);
    if (st) {
        n4d_partition_result_destroy(&r->pub);
        return st;
    }
    result_fill(m, r, o.balance_synapses != 0);
    *out = &r->pub;
    return N4D_OK;
}

n4d_status n4d_partition_layout(const n4d_model *model, n4d_partition_result **out)
{
    if (out)
        *out = NULL;
    if (!n4d__is_handle(model, N4D__MAGIC_MODEL))
        return N4D_E_INVALID_ARG;
    const n4d_model *m = model;
    n4d__model_clear_error(m);
    if (!out)
        return MODEL_ERR(m, N4D_E_INVALID_ARG, "n4d_partition_layout: out is NULL");
    if (!m->built)
        return MODEL_ERR(m, N4D_E_STATE, "n4d_partition_layout: the model is not built");
    const uint32_t P = m->n_parts ? m->n_parts : 1;
    part_result *r = NULL;
    n4d_status st = result_alloc(m, P, &r);
    if (st)
        return st;
    for (uint32_t k = 0; k < P; k++) {
        uint64_t lo = m->part_bounds ? m->part_bounds[k] : 0;
        uint64_t hi = m->part_bounds ? m->part_bounds[k + 1] : m->n_neurons;
        for (uint64_t i = lo; i < hi; i++)
            r->part_of[n4d__to_user(m, i)] = k;
    }
    result_fill(m, r, P > 1 ? m->layout.balance_synapses != 0 : 0);
    *out = &r->pub;
    return N4D_OK;
}
