/* Checkpoint part of the plastic synapses (sim->plastic, src/core/plastic.h):
 * /n4d/state/plastic holds every piece of it that a continuation reads, by
 * user id and in the file order of the synapses, so that a checkpoint does
 * not depend on the internal neuron order (docs/storage.md, "Checkpoints").
 * One self-contained pair, n4d__store_write_plastic / n4d__store_read_plastic,
 * called by store_sim.c; other per-sim state groups follow the same shape. */
#include "store_model.h"

#if N4D_HAVE_HDF5

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plastic.h"

#define PLASTIC "/n4d/state/plastic"

/* ---- the synapses of a class in file order ---------------------------------------------
 * The file order of /n4d/synapses: sources by user id, the segments of a row
 * in key order, each segment by (target user id, weight_q). Ties are
 * synapses alike in everything, whose states stay equal. */

typedef struct ord_pair {
    uint64_t key; /* target user id << 32 | weight_q with its sign bit flipped */
    uint64_t j;   /* CSR index */
} ord_pair;

static int cmp_ord(const void *a, const void *b)
{
    const ord_pair *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return (x->j > y->j) - (x->j < y->j);
}

/* Walks the synapses of class `cl` (1-based) in file order, calling
 * fn(ud, class-local index, rank) for each; pairs holds the longest segment. */
typedef n4d_status (*ord_fn)(void *ud, uint64_t at, uint64_t rank);

static n4d_status walk_class(const n4d_sim *sim, uint32_t cl, ord_pair *pairs, ord_fn fn,
                             void *ud)
{
    const n4d_model *m = sim->model;
    const n4d__synapses *s = &m->syn;
    const n4d__plastic *pl = sim->plastic;
    uint64_t rank = 0;
    n4d_status st = N4D_OK;
    for (uint64_t u = 0; u < m->n_neurons && !st; u++) {
        const uint64_t row = n4d__to_internal(m, u);
        for (uint64_t g = s->seg_ptr[row]; g < s->seg_ptr[row + 1] && !st; g++) {
            if (N4D__SEG_CLASS(s->seg_key[g]) != cl)
                continue;
            const uint64_t j0 = s->seg_off[g], n = s->seg_off[g + 1] - j0;
            for (uint64_t q = 0; q < n; q++)
                pairs[q] = (ord_pair){((uint64_t)n4d__to_user(m, s->target[j0 + q]) << 32) |
                                          ((uint32_t)s->weight_q[j0 + q] ^ 0x80000000u),
                                      j0 + q};
            if (m->perm) /* as n4d__store_permute_syn orders the file */
                qsort(pairs, n, sizeof *pairs, cmp_ord);
            for (uint64_t q = 0; q < n && !st; q++)
                st = fn(ud, pl->seg_base[g] + (pairs[q].j - j0), rank++);
        }
    }
    return st;
}

/* Blocks of one dataset written or read as the walk goes. */
typedef struct blk_io {
    n4d__h5 *h;
    hid_t d;
    const char *name;
    n4d__h5_type t;
    size_t elem;
    uint64_t n, off, fill; /* rows [off, off + fill) are in buf */
    char *buf;
    const n4d__plastic_class *c;
    n4d__plastic_class *wc;
    bool reading;
} blk_io;

static n4d_status blk_flush(blk_io *b)
{
    n4d_status st = b->fill ? n4d__h5_write_rows(b->h, b->d, b->name, b->t, b->off, b->fill, b->buf)
                            : N4D_OK;
    b->off += b->fill;
    b->fill = 0;
    return st;
}

static n4d_status put_weight(void *ud, uint64_t at, uint64_t rank)
{
    blk_io *b = ud;
    (void)rank;
    if (b->c->wd)
        memcpy(b->buf + b->fill * b->elem, &b->c->wd[at], sizeof(double));
    else
        memcpy(b->buf + b->fill * b->elem, &b->c->wf[at], sizeof(float));
    return ++b->fill == N4D__STORE_BLOCK ? blk_flush(b) : N4D_OK;
}

/* Entry `rank` of the dataset being read, in order: reads the next block
 * when the current one is used up. */
static n4d_status blk_entry(blk_io *b, uint64_t rank, const char **p)
{
    if (rank == b->off + b->fill) { /* the next block */
        b->off = rank;
        b->fill = b->n - rank < N4D__STORE_BLOCK ? b->n - rank : N4D__STORE_BLOCK;
        n4d_status st = n4d__h5_read_rows(b->h, b->d, b->name, b->t, b->off, b->fill, b->buf);
        if (st)
            return st;
    }
    *p = b->buf + (rank - b->off) * b->elem;
    return N4D_OK;
}

static n4d_status get_weight(void *ud, uint64_t at, uint64_t rank)
{
    blk_io *b = ud;
    const char *p;
    n4d_status st = blk_entry(b, rank, &p);
    if (st)
        return st;
    double w;
    if (b->wc->wd) {
        memcpy(&w, p, sizeof w);
        b->wc->wd[at] = w;
    } else {
        float f;
        memcpy(&f, p, sizeof f);
        b->wc->wf[at] = f;
        w = f;
    }
    if (!isfinite(w))
        return n4d__h5_fail(b->h, N4D_E_FORMAT, b->name, false, "entry %llu is not finite",
                            (unsigned long long)rank);
    /* the rules keep these within their bounds (hebb_4dnc clips only at
     * the next event, and static weights have none) */
    double lo = -INFINITY, hi = INFINITY;
    if (b->wc->rule == N4D__SYN_STDP) {
        const double wmax = b->wc->k.stdp.wmax; /* weights lie between 0 and Wmax */
        lo = wmax < 0 ? (double)(float)wmax : 0.0; /* stored as float */
        hi = wmax < 0 ? 0.0 : (double)(float)wmax;
    } else if (b->wc->rule == N4D__SYN_STDP_DOPAMINE) {
        lo = b->wc->k.da.wmin;
        hi = b->wc->k.da.wmax;
    }
    if (!(w >= lo && w <= hi))
        return n4d__h5_fail(b->h, N4D_E_FORMAT, b->name, false,
                            "entry %llu (%g) lies outside the rule's weight bounds [%g, %g]",
                            (unsigned long long)rank, w, lo, hi);
    return N4D_OK;
}

/* stdp_dopamine's eligibility traces c, as the weights */
static n4d_status put_elig(void *ud, uint64_t at, uint64_t rank)
{
    blk_io *b = ud;
    (void)rank;
    memcpy(b->buf + b->fill * b->elem, &b->c->dc[at], sizeof(double));
    return ++b->fill == N4D__STORE_BLOCK ? blk_flush(b) : N4D_OK;
}

static n4d_status get_elig(void *ud, uint64_t at, uint64_t rank)
{
    blk_io *b = ud;
    const char *p;
    n4d_status st = blk_entry(b, rank, &p);
    if (st)
        return st;
    double c;
    memcpy(&c, p, sizeof c);
    if (!isfinite(c))
        return n4d__h5_fail(b->h, N4D_E_FORMAT, b->name, false, "entry %llu is not finite",
                            (unsigned long long)rank);
    b->wc->dc[at] = c;
    return N4D_OK;
}

static uint64_t longest_segment(const n4d__synapses *s)
{
    uint64_t mx = 1;
    for (uint64_t g = 0; g < s->n_seg; g++)
        if (s->seg_off[g + 1] - s->seg_off[g] > mx)
            mx = s->seg_off[g + 1] - s->seg_off[g];
    return mx;
}

static void class_group(const n4d__plastic_class *c, uint32_t k, char *out, size_t cap)
{
    char esc[600];
    n4d__h5_escape(c->def->name, esc, sizeof esc);
    snprintf(out, cap, PLASTIC "/classes/%u-%s", k + 1, esc);
}

/* ---- write ------------------------------------------------------------------------------ */

static n4d_status write_class(n4d__h5 *h, hid_t file, const n4d_sim *sim, uint32_t k,
                              const n4d__h5_layout *L, void *scratch, ord_pair *pairs)
{
    const n4d__plastic_class *c = &sim->plastic->cls[k];
    char gname[800], dname[900];
    class_group(c, k, gname, sizeof gname);
    n4d_status st = N4D_OK;
    hid_t g = n4d__h5_create_group(h, file, gname, &st);
    if (g < 0)
        return st;
    const uint64_t n = c->n;
    if ((st = n4d__h5_attr_write_str(h, g, gname, "name", c->def->name)) ||
        (st = n4d__h5_attr_write_str(h, g, gname, "synapse_model", c->def->sm->name)) ||
        (st = n4d__h5_attr_write(h, g, gname, "n_synapses", N4D__T_U64, 1, &n)))
        goto done;
    if (c->wd || c->wf) {
        snprintf(dname, sizeof dname, "%s/weight", gname);
        blk_io b = {h, H5I_INVALID_HID, dname, c->wd ? N4D__T_F64 : N4D__T_F32,
                    c->wd ? sizeof(double) : sizeof(float), n, 0, 0, scratch, c, NULL, false};
        b.d = n4d__h5_create_dset(h, g, "weight", b.t, n, 0, L, &st);
        if (b.d < 0)
            goto done;
        st = walk_class(sim, k + 1, pairs, put_weight, &b);
        if (!st)
            st = blk_flush(&b);
        H5Dclose(b.d);
    }
    if (!st && c->dc) {
        snprintf(dname, sizeof dname, "%s/eligibility", gname);
        blk_io b = {h, H5I_INVALID_HID, dname, N4D__T_F64, sizeof(double), n, 0, 0, scratch, c,
                    NULL, false};
        b.d = n4d__h5_create_dset(h, g, "eligibility", b.t, n, 0, L, &st);
        if (b.d < 0)
            goto done;
        st = walk_class(sim, k + 1, pairs, put_elig, &b);
        if (!st)
            st = blk_flush(&b);
        H5Dclose(b.d);
        /* n just after each dopamine event, oldest first */
        const n4d__plastic *pl = sim->plastic;
        double *dn = scratch;
        hid_t d = st ? H5I_INVALID_HID
                     : n4d__h5_create_dset(h, g, "dopamine_n", N4D__T_F64, pl->da_len, 0, L, &st);
        for (uint32_t q = 0; q < pl->da_len && !st; q += (uint32_t)N4D__STORE_BLOCK) {
            const uint32_t nb = (uint32_t)(pl->da_len - q < N4D__STORE_BLOCK ? pl->da_len - q
                                                                              : N4D__STORE_BLOCK);
            for (uint32_t e = 0; e < nb; e++)
                dn[e] = c->dn[(pl->da_head + q + e) & (pl->da_cap - 1)];
            st = n4d__h5_write_rows(h, d, "dopamine_n", N4D__T_F64, q, nb, dn);
        }
        n4d__h5_close(d);
        if (st)
            goto done;
    }
    if (!st && c->tu &&
        ((st = n4d__store_write_by_user(h, g, "u", N4D__T_F64, sim->model, c->tu, sizeof(double),
                                        L, scratch)) ||
         (st = n4d__store_write_by_user(h, g, "x", N4D__T_F64, sim->model, c->tx, sizeof(double),
                                        L, scratch)) ||
         (st = n4d__store_write_by_user(h, g, "last_spike", N4D__T_I64, sim->model, c->tlast,
                                        sizeof(int64_t), L, scratch))))
        goto done;
done:
    H5Gclose(g);
    return st;
}

/* The spike histories: per neuron (user id) its length, and the entries of
 * every neuron one after the other (oldest first). */
static n4d_status write_histories(n4d__h5 *h, hid_t g, const n4d_sim *sim,
                                  const n4d__h5_layout *L, void *scratch)
{
    const n4d_model *m = sim->model;
    const n4d__plastic *pl = sim->plastic;
    const uint64_t N = m->n_neurons;
    uint32_t *len = scratch;
    uint64_t total = 0;
    for (uint64_t u = 0; u < N; u++) {
        len[u] = pl->len[n4d__to_internal(m, u)];
        total += len[u];
    }
    n4d_status st = n4d__h5_write_dset(h, g, "history_len", N4D__T_U32, N, 0, L, len);
    if (st)
        return st;
    /* the newest spikes of each neuron (plastic.h, n4d__recent): they may
     * reach further back than its history */
    int64_t *rs = n4d__alloc(sim->ctx, N4D_MEM_OTHER, (N ? N : 1) * N4D__RECENT * sizeof(int64_t));
    if (!rs)
        return n4d__h5_fail(h, N4D_E_NOMEM, PLASTIC "/recent_steps", false, "out of memory");
    for (uint64_t u = 0; u < N; u++)
        memcpy(rs + u * N4D__RECENT, pl->recent[n4d__to_internal(m, u)].step,
               N4D__RECENT * sizeof(int64_t));
    st = n4d__h5_write_dset(h, g, "recent_steps", N4D__T_I64, N, N4D__RECENT, L, rs);
    n4d__free(sim->ctx, N4D_MEM_OTHER, rs, (N ? N : 1) * N4D__RECENT * sizeof(int64_t));
    if (st)
        return st;
    static const char *const names[3] = {"history_step", "history_kplus", "history_kminus"};
    const n4d__h5_type types[3] = {N4D__T_I64, N4D__T_F32, N4D__T_F32};
    for (int f = 0; f < 3 && !st; f++) {
        hid_t d = n4d__h5_create_dset(h, g, names[f], types[f], total, 0, L, &st);
        if (d < 0)
            break;
        uint64_t off = 0, fill = 0;
        int64_t *bs = scratch;
        float *bf = scratch;
        for (uint64_t u = 0; u < N && !st; u++) {
            const uint64_t i = n4d__to_internal(m, u);
            for (uint32_t q = 0; q < pl->len[i] && !st; q++) {
                const n4d__spk *e = &pl->ring[i][(pl->head[i] + q) & (pl->cap[i] - 1)];
                if (f == 0)
                    bs[fill] = e->step;
                else
                    bf[fill] = f == 1 ? e->kplus : e->kminus;
                if (++fill == N4D__STORE_BLOCK) {
                    st = n4d__h5_write_rows(h, d, names[f], types[f], off, fill, scratch);
                    off += fill;
                    fill = 0;
                }
            }
        }
        if (!st && fill)
            st = n4d__h5_write_rows(h, d, names[f], types[f], off, fill, scratch);
        H5Dclose(d);
    }
    return st;
}

/* stdp_dopamine: the dopamine events a synapse may still read (oldest
 * first), each presynaptic neuron's last periodic update and the next one. */
#define DOPAMINE PLASTIC "/dopamine"

static n4d_status write_dopamine(n4d__h5 *h, hid_t file, const n4d_sim *sim,
                                 const n4d__h5_layout *L, void *scratch)
{
    const n4d__plastic *pl = sim->plastic;
    if (!pl->has_da)
        return N4D_OK;
    n4d_status st = N4D_OK;
    hid_t g = n4d__h5_create_group(h, file, DOPAMINE, &st);
    if (g < 0)
        return st;
    if ((st = n4d__h5_attr_write(h, g, DOPAMINE, "next_update", N4D__T_I64, 1, &pl->da_next)) ||
        (st = n4d__store_write_by_user(h, g, "last_update", N4D__T_I64, sim->model, pl->da_upd,
                                       sizeof(int64_t), L, scratch)))
        goto done;
    static const char *const names[2] = {"event_step", "event_value"};
    const n4d__h5_type types[2] = {N4D__T_I64, N4D__T_F64};
    for (int f = 0; f < 2 && !st; f++) {
        hid_t d = n4d__h5_create_dset(h, g, names[f], types[f], pl->da_len, 0, L, &st);
        for (uint32_t q = 0; q < pl->da_len && !st && d >= 0; q += (uint32_t)N4D__STORE_BLOCK) {
            const uint32_t nb = (uint32_t)(pl->da_len - q < N4D__STORE_BLOCK ? pl->da_len - q
                                                                              : N4D__STORE_BLOCK);
            for (uint32_t e = 0; e < nb; e++) {
                const uint32_t at = (pl->da_head + q + e) & (pl->da_cap - 1);
                if (f == 0)
                    ((int64_t *)scratch)[e] = pl->da_step[at];
                else
                    ((double *)scratch)[e] = pl->da_val[at];
            }
            st = n4d__h5_write_rows(h, d, names[f], types[f], q, nb, scratch);
        }
        n4d__h5_close(d);
    }
done:
    H5Gclose(g);
    return st;
}

n4d_status n4d__store_write_plastic(n4d__h5 *h, hid_t file, const n4d_sim *sim,
                                    const n4d__h5_layout *L)
{
    const n4d__plastic *pl = sim->plastic;
    if (!pl)
        return N4D_OK;
    const n4d_model *m = sim->model;
    n4d_status st = N4D_OK;
    const uint64_t N = m->n_neurons ? m->n_neurons : 1;
    const uint64_t maxseg = longest_segment(&m->syn);
    const size_t scratch_bytes =
        (N > N4D__STORE_BLOCK ? N : N4D__STORE_BLOCK) * sizeof(int64_t);
    void *scratch = n4d__alloc(sim->ctx, N4D_MEM_OTHER, scratch_bytes);
    ord_pair *pairs = n4d__alloc(sim->ctx, N4D_MEM_OTHER, maxseg * sizeof *pairs);
    hid_t g = H5I_INVALID_HID;
    if (!scratch || !pairs) {
        st = n4d__h5_fail(h, N4D_E_NOMEM, PLASTIC, false, "out of memory");
        goto done;
    }
    g = n4d__h5_create_group(h, file, PLASTIC, &st);
    if (g < 0)
        goto done;
    const uint32_t n_cls = pl->n_cls;
    if ((st = n4d__h5_attr_write(h, g, PLASTIC, "n_classes", N4D__T_U32, 1, &n_cls)) ||
        (st = n4d__h5_attr_write(h, g, PLASTIC, "last_flush_check", N4D__T_I64, 1,
                                 &pl->last_flush_check)) ||
        (st = n4d__store_write_by_user(h, g, "flushed", N4D__T_I64, m, pl->flushed,
                                       sizeof(int64_t), L, scratch)) ||
        (st = write_histories(h, g, sim, L, scratch)) ||
        (st = write_dopamine(h, file, sim, L, scratch)))
        goto done;
    for (uint32_t k = 0; k < n_cls && !st; k++)
        st = write_class(h, file, sim, k, L, scratch, pairs);
done:
    n4d__h5_close(g);
    n4d__free(sim->ctx, N4D_MEM_OTHER, pairs, maxseg * sizeof *pairs);
    n4d__free(sim->ctx, N4D_MEM_OTHER, scratch, scratch_bytes);
    return st;
}

/* ---- read -------------------------------------------------------------------------------- */

static n4d_status read_class(n4d__h5 *h, hid_t file, n4d_sim *sim, uint32_t k, void *scratch,
                             ord_pair *pairs)
{
    n4d__plastic_class *c = &sim->plastic->cls[k];
    char gname[800], dname[900], text[512];
    class_group(c, k, gname, sizeof gname);
    if (!n4d__h5_exists(file, gname))
        return n4d__h5_fail(h, N4D_E_FORMAT, gname, false,
                            "is missing (the model's synapse class %u, \"%s\", has no state)",
                            k + 1, c->def->name);
    n4d_status st = N4D_OK;
    hid_t g = n4d__h5_open_group(h, file, gname, &st);
    if (g < 0)
        return st;
    uint64_t n;
    if ((st = n4d__h5_attr_read_str(h, g, gname, "synapse_model", text, sizeof text)))
        goto done;
    if (strcmp(text, c->def->sm->name) != 0) {
        st = n4d__h5_fail(h, N4D_E_FORMAT, gname, false,
                          "holds the state of a \"%s\" class; the model's class is \"%s\"", text,
                          c->def->sm->name);
        goto done;
    }
    if ((st = n4d__h5_attr_read(h, g, gname, "n_synapses", N4D__T_U64, 1, &n)))
        goto done;
    if (n != c->n) {
        st = n4d__h5_fail(h, N4D_E_FORMAT, gname, false,
                          "holds %llu synapses; the model's class \"%s\" has %llu",
                          (unsigned long long)n, c->def->name, (unsigned long long)c->n);
        goto done;
    }
    if (c->wd || c->wf) {
        snprintf(dname, sizeof dname, "%s/weight", gname);
        uint64_t dims[2] = {n, 0};
        blk_io b = {h, H5I_INVALID_HID, dname, c->wd ? N4D__T_F64 : N4D__T_F32,
                    c->wd ? sizeof(double) : sizeof(float), n, 0, 0, scratch, NULL, c, true};
        b.d = n4d__h5_open_dset(h, g, "weight", b.t, 1, dims, &st);
        if (b.d < 0)
            goto done;
        st = walk_class(sim, k + 1, pairs, get_weight, &b);
        H5Dclose(b.d);
        if (st)
            goto done;
    }
    if (c->dc) {
        snprintf(dname, sizeof dname, "%s/eligibility", gname);
        uint64_t dims[2] = {n, 0};
        blk_io b = {h, H5I_INVALID_HID, dname, N4D__T_F64, sizeof(double), n, 0, 0, scratch, NULL,
                    c, true};
        b.d = n4d__h5_open_dset(h, g, "eligibility", b.t, 1, dims, &st);
        if (b.d < 0)
            goto done;
        st = walk_class(sim, k + 1, pairs, get_elig, &b);
        H5Dclose(b.d);
        if (st)
            goto done;
        /* the event ring was read before the classes (read_dopamine): head 0 */
        const n4d__plastic *pl = sim->plastic;
        snprintf(dname, sizeof dname, "%s/dopamine_n", gname);
        dims[0] = pl->da_len;
        hid_t d = n4d__h5_open_dset(h, g, "dopamine_n", N4D__T_F64, 1, dims, &st);
        if (d < 0)
            goto done;
        if (pl->da_len)
            st = n4d__h5_read_rows(h, d, dname, N4D__T_F64, 0, pl->da_len, c->dn);
        H5Dclose(d);
        for (uint32_t q = 0; q < pl->da_len && !st; q++)
            if (!isfinite(c->dn[q]))
                st = n4d__h5_fail(h, N4D_E_FORMAT, dname, false, "entry %u is not finite", q);
        if (st)
            goto done;
    }
    if (c->tu) {
        const uint64_t N = sim->model->n_neurons;
        if ((st = n4d__store_read_by_user(h, g, "u", N4D__T_F64, sim->model, c->tu,
                                          sizeof(double), scratch)) ||
            (st = n4d__store_read_by_user(h, g, "x", N4D__T_F64, sim->model, c->tx,
                                          sizeof(double), scratch)) ||
            (st = n4d__store_read_by_user(h, g, "last_spike", N4D__T_I64, sim->model, c->tlast,
                                          sizeof(int64_t), scratch)))
            goto done;
        for (uint64_t i = 0; i < N && !st; i++)
            if (!isfinite(c->tu[i]) || !isfinite(c->tx[i]) || c->tlast[i] < -1 ||
                c->tlast[i] >= (int64_t)sim->step)
                st = n4d__h5_fail(h, N4D_E_FORMAT, gname, false,
                                  "the state u/x/last_spike of neuron %llu is out of range "
                                  "(%g, %g, step %lld at step %llu)",
                                  (unsigned long long)n4d__to_user(sim->model, i), c->tu[i],
                                  c->tx[i], (long long)c->tlast[i],
                                  (unsigned long long)sim->step);
    }
done:
    H5Gclose(g);
    return st;
}

/* Columns of recent_steps in the files of versions before 0.3.0. */
#define RECENT_BEFORE_0_3 3

/* The newest spikes of each neuron, checked against its history; the
 * traces after the newest are those of its history's newest entry. */
static n4d_status read_recent(n4d__h5 *h, hid_t g, n4d_sim *sim)
{
    const n4d_model *m = sim->model;
    n4d__plastic *pl = sim->plastic;
    const uint64_t N = m->n_neurons;
    const char *name = PLASTIC "/recent_steps";
    uint64_t dims[2] = {N, UINT64_MAX};
    n4d_status st;
    hid_t d = n4d__h5_open_dset(h, g, "recent_steps", N4D__T_I64, 2, dims, &st);
    if (d < 0)
        return st;
    /* files before 0.3.0 hold the newest 3 spikes: the older ones of
     * N4D__RECENT come from the history (none where it has no more) */
    const uint64_t cols = dims[1];
    if (cols != N4D__RECENT && cols != RECENT_BEFORE_0_3) {
        H5Dclose(d);
        return n4d__h5_fail(h, N4D_E_FORMAT, name, false, "has %llu columns, not %d (or %d)",
                            (unsigned long long)cols, N4D__RECENT, RECENT_BEFORE_0_3);
    }
    const size_t bytes = (N ? N : 1) * cols * sizeof(int64_t);
    int64_t *rs = n4d__alloc(sim->ctx, N4D_MEM_OTHER, bytes);
    if (!rs) {
        H5Dclose(d);
        return n4d__h5_fail(h, N4D_E_NOMEM, name, false, "out of memory");
    }
    st = N ? n4d__h5_read_rows(h, d, name, N4D__T_I64, 0, N, rs) : N4D_OK;
    H5Dclose(d);
    for (uint64_t u = 0; u < N && !st; u++) {
        const uint64_t i = n4d__to_internal(m, u);
        const uint32_t len = pl->len[i];
        int64_t r[N4D__RECENT];
        for (uint64_t k = 0; k < N4D__RECENT; k++)
            r[k] = k < cols ? rs[u * cols + k]
                            : (k < len ? pl->ring[i][len - 1 - k].step : N4D__NO_SPIKE);
        bool ok = true;
        for (int k = 0; k < N4D__RECENT && ok; k++) {
            if (k < (int)len) /* held by the history too */
                ok = r[k] == pl->ring[i][len - 1 - (uint32_t)k].step;
            else if (r[k] != N4D__NO_SPIKE) /* older than the history, or none */
                ok = len && k && r[k] >= 0 && r[k] < r[k - 1] && r[k] < pl->ring[i][0].step;
            else
                ok = k + 1 == N4D__RECENT || r[k + 1] == N4D__NO_SPIKE;
        }
        if (!ok) {
            st = n4d__h5_fail(h, N4D_E_FORMAT, name, false,
                              "row %llu (newest steps %lld, %lld, %lld, ...) does not agree "
                              "with the neuron's spike history",
                              (unsigned long long)u, (long long)r[0], (long long)r[1],
                              (long long)r[2]);
            break;
        }
        n4d__recent *rc = &pl->recent[i];
        memcpy(rc->step, r, N4D__RECENT * sizeof(int64_t));
        if (len) {
            rc->kplus = pl->ring[i][len - 1].kplus;
            rc->kminus = pl->ring[i][len - 1].kminus;
        }
    }
    n4d__free(sim->ctx, N4D_MEM_OTHER, rs, bytes);
    return st;
}

static n4d_status read_histories(n4d__h5 *h, hid_t g, n4d_sim *sim, void *scratch)
{
    const n4d_model *m = sim->model;
    n4d__plastic *pl = sim->plastic;
    const uint64_t N = m->n_neurons;
    n4d_status st = n4d__store_read_by_user(h, g, "history_len", N4D__T_U32, m, pl->len,
                                            sizeof(uint32_t), scratch);
    if (st)
        return st;
    uint64_t total = 0;
    for (uint64_t i = 0; i < N; i++) {
        if (pl->len[i] > (1u << 30))
            return n4d__h5_fail(h, N4D_E_FORMAT, PLASTIC "/history_len", false,
                                "entry %llu (%u) is out of range",
                                (unsigned long long)n4d__to_user(m, i), pl->len[i]);
        total += pl->len[i];
    }
    /* the rings: a power of two, at least 4 (as they grow) */
    for (uint64_t i = 0; i < N; i++) {
        if (!pl->len[i])
            continue;
        uint32_t cap = 4;
        while (cap < pl->len[i])
            cap *= 2;
        pl->ring[i] = n4d__alloc(sim->ctx, N4D_MEM_BUFFERS, cap * sizeof(n4d__spk));
        if (!pl->ring[i]) {
            for (uint64_t q = i; q < N; q++)
                pl->len[q] = 0; /* the state stays consistent for the destroy */
            return n4d__h5_fail(h, N4D_E_NOMEM, PLASTIC, false,
                                "out of memory for the spike histories");
        }
        pl->cap[i] = cap;
        pl->head[i] = 0;
    }
    static const char *const names[3] = {PLASTIC "/history_step", PLASTIC "/history_kplus",
                                         PLASTIC "/history_kminus"};
    const n4d__h5_type types[3] = {N4D__T_I64, N4D__T_F32, N4D__T_F32};
    for (int f = 0; f < 3 && !st; f++) {
        uint64_t dims[2] = {total, 0};
        hid_t d = n4d__h5_open_dset(h, g, names[f] + sizeof PLASTIC, types[f], 1, dims, &st);
        if (d < 0)
            return st;
        uint64_t off = 0, fill = 0, at = 0;
        const int64_t *bs = scratch;
        const float *bf = scratch;
        for (uint64_t u = 0; u < N && !st; u++) {
            const uint64_t i = n4d__to_internal(m, u);
            for (uint32_t q = 0; q < pl->len[i] && !st; q++, at++) {
                if (at == off + fill) {
                    off = at;
                    fill = total - at < N4D__STORE_BLOCK ? total - at : N4D__STORE_BLOCK;
                    if ((st = n4d__h5_read_rows(h, d, names[f], types[f], off, fill, scratch)))
                        break;
                }
                n4d__spk *e = &pl->ring[i][q];
                if (f == 0) {
                    e->step = bs[at - off];
                    if (e->step < 0 || e->step >= (int64_t)sim->step ||
                        (q && e->step <= pl->ring[i][q - 1].step))
                        st = n4d__h5_fail(h, N4D_E_FORMAT, names[f], false,
                                          "entry %llu (neuron %llu: step %lld) is out of order "
                                          "or not before the step %llu",
                                          (unsigned long long)at, (unsigned long long)u,
                                          (long long)e->step, (unsigned long long)sim->step);
                } else {
                    const float k = bf[at - off];
                    if (!(k >= 1.0f) || !isfinite(k))
                        st = n4d__h5_fail(h, N4D_E_FORMAT, names[f], false,
                                          "entry %llu (%g) is not a trace (finite, >= 1)",
                                          (unsigned long long)at, (double)k);
                    if (f == 1)
                        e->kplus = k;
                    else
                        e->kminus = k;
                }
            }
        }
        H5Dclose(d);
    }
    return st ? st : read_recent(h, g, sim);
}

static n4d_status read_dopamine(n4d__h5 *h, hid_t file, n4d_sim *sim, void *scratch)
{
    n4d__plastic *pl = sim->plastic;
    const bool have = n4d__h5_exists(file, DOPAMINE);
    if (!pl->has_da && !have)
        return N4D_OK;
    if (!pl->has_da)
        return n4d__h5_fail(h, N4D_E_FORMAT, DOPAMINE, false,
                            "holds dopamine events, but the model has no stdp_dopamine synapses");
    if (!have)
        return n4d__h5_fail(h, N4D_E_FORMAT, DOPAMINE, false,
                            "is missing: the model has stdp_dopamine synapses");
    const n4d_model *m = sim->model;
    const int64_t step = (int64_t)sim->step;
    n4d_status st = N4D_OK;
    hid_t g = n4d__h5_open_group(h, file, DOPAMINE, &st), ds = H5I_INVALID_HID,
          dv = H5I_INVALID_HID;
    if (g < 0)
        return st;
    int64_t next;
    if ((st = n4d__h5_attr_read(h, g, DOPAMINE, "next_update", N4D__T_I64, 1, &next)))
        goto done;
    /* the first multiple of the period at or after the step (the updates
     * up to a step are made when its spikes are appended) */
    const int64_t P = pl->da_period, want = step <= P ? P : (step + P - 1) / P * P;
    if (next != want) {
        st = n4d__h5_fail(h, N4D_E_FORMAT, DOPAMINE " attribute \"next_update\"", false,
                          "%lld is not %lld (the first multiple of the update period %lld "
                          "from step %lld)",
                          (long long)next, (long long)want, (long long)P, (long long)step);
        goto done;
    }
    pl->da_next = next;
    if ((st = n4d__store_read_by_user(h, g, "last_update", N4D__T_I64, m, pl->da_upd,
                                      sizeof(int64_t), scratch)))
        goto done;
    for (uint64_t i = 0; i < m->n_neurons; i++)
        if (pl->da_upd[i] != -1 && (pl->da_upd[i] < P || pl->da_upd[i] >= step ||
                                    pl->da_upd[i] % P != 0)) {
            st = n4d__h5_fail(h, N4D_E_FORMAT, DOPAMINE "/last_update", false,
                              "entry %llu (%lld) is neither -1 nor a multiple of %lld before the "
                              "step %lld",
                              (unsigned long long)n4d__to_user(m, i), (long long)pl->da_upd[i],
                              (long long)P, (long long)step);
            goto done;
        }
    uint64_t dims[2] = {UINT64_MAX, 0};
    ds = n4d__h5_open_dset(h, g, "event_step", N4D__T_I64, 1, dims, &st);
    if (ds < 0)
        goto done;
    const uint64_t n = dims[0];
    dv = n4d__h5_open_dset(h, g, "event_value", N4D__T_F64, 1, dims, &st);
    if (dv < 0)
        goto done;
    if (n > (uint64_t)step || !n4d__plastic_da_reserve(sim, (uint32_t)n)) {
        st = n > (uint64_t)step ? n4d__h5_fail(h, N4D_E_FORMAT, DOPAMINE "/event_step", false,
                                               "holds %llu events in %lld steps",
                                               (unsigned long long)n, (long long)step)
                                : n4d__h5_fail(h, N4D_E_NOMEM, DOPAMINE, false, "out of memory");
        goto done;
    }
    pl->da_head = 0;
    if (n && ((st = n4d__h5_read_rows(h, ds, DOPAMINE "/event_step", N4D__T_I64, 0, n,
                                      pl->da_step)) ||
              (st = n4d__h5_read_rows(h, dv, DOPAMINE "/event_value", N4D__T_F64, 0, n,
                                      pl->da_val))))
        goto done;
    for (uint64_t q = 0; q < n; q++) {
        if (pl->da_step[q] < 0 || pl->da_step[q] >= step || (q && pl->da_step[q] <= pl->da_step[q - 1])) {
            st = n4d__h5_fail(h, N4D_E_FORMAT, DOPAMINE "/event_step", false,
                              "entry %llu (step %lld) is out of order or not before the step %lld",
                              (unsigned long long)q, (long long)pl->da_step[q], (long long)step);
            goto done;
        }
        if (!isfinite(pl->da_val[q]) || (pl->da_spikes && !(pl->da_val[q] >= 1.0))) {
            st = n4d__h5_fail(h, N4D_E_FORMAT, DOPAMINE "/event_value", false,
                              "entry %llu (%g) is not %s", (unsigned long long)q, pl->da_val[q],
                              pl->da_spikes ? "a spike count" : "finite");
            goto done;
        }
    }
    pl->da_len = (uint32_t)n;
done:
    n4d__h5_close(ds);
    n4d__h5_close(dv);
    H5Gclose(g);
    return st;
}

n4d_status n4d__store_read_plastic(n4d__h5 *h, hid_t file, n4d_sim *sim)
{
    n4d__plastic *pl = sim->plastic;
    const bool have = n4d__h5_exists(file, PLASTIC);
    if (!pl && !have)
        return N4D_OK;
    if (!pl)
        return n4d__h5_fail(h, N4D_E_FORMAT, PLASTIC, false,
                            "holds plastic state, but the model has no plastic synapses");
    if (!have)
        return n4d__h5_fail(h, N4D_E_FORMAT, PLASTIC, false,
                            "is missing: the model has plastic synapses (\"%s\")",
                            sim->model->cls[0].name);
    const n4d_model *m = sim->model;
    n4d_status st = N4D_OK;
    const uint64_t N = m->n_neurons ? m->n_neurons : 1;
    const uint64_t maxseg = longest_segment(&m->syn);
    const size_t scratch_bytes =
        (N > N4D__STORE_BLOCK ? N : N4D__STORE_BLOCK) * sizeof(int64_t);
    void *scratch = n4d__alloc(sim->ctx, N4D_MEM_OTHER, scratch_bytes);
    ord_pair *pairs = n4d__alloc(sim->ctx, N4D_MEM_OTHER, maxseg * sizeof *pairs);
    hid_t g = H5I_INVALID_HID;
    if (!scratch || !pairs) {
        st = n4d__h5_fail(h, N4D_E_NOMEM, PLASTIC, false, "out of memory");
        goto done;
    }
    g = n4d__h5_open_group(h, file, PLASTIC, &st);
    if (g < 0)
        goto done;
    uint32_t n_cls;
    int64_t lfc;
    if ((st = n4d__h5_attr_read(h, g, PLASTIC, "n_classes", N4D__T_U32, 1, &n_cls)) ||
        (st = n4d__h5_attr_read(h, g, PLASTIC, "last_flush_check", N4D__T_I64, 1, &lfc)))
        goto done;
    if (n_cls != pl->n_cls) {
        st = n4d__h5_fail(h, N4D_E_FORMAT, PLASTIC " attribute \"n_classes\"", false,
                          "%u differs from the model's %u synapse classes", n_cls, pl->n_cls);
        goto done;
    }
    if (lfc < -1 || lfc > (int64_t)sim->step) {
        st = n4d__h5_fail(h, N4D_E_FORMAT, PLASTIC " attribute \"last_flush_check\"", false,
                          "%lld is out of range", (long long)lfc);
        goto done;
    }
    pl->last_flush_check = lfc;
    if ((st = n4d__store_read_by_user(h, g, "flushed", N4D__T_I64, m, pl->flushed,
                                      sizeof(int64_t), scratch)))
        goto done;
    for (uint64_t i = 0; i < m->n_neurons; i++)
        if (pl->flushed[i] < -1 || pl->flushed[i] >= (int64_t)sim->step) {
            st = n4d__h5_fail(h, N4D_E_FORMAT, PLASTIC "/flushed", false,
                              "entry %llu (%lld) is out of range",
                              (unsigned long long)n4d__to_user(m, i), (long long)pl->flushed[i]);
            goto done;
        }
    if ((st = read_histories(h, g, sim, scratch)) || (st = read_dopamine(h, file, sim, scratch)))
        goto done;
    for (uint32_t k = 0; k < pl->n_cls && !st; k++)
        st = read_class(h, file, sim, k, scratch, pairs);
done:
    n4d__h5_close(g);
    n4d__free(sim->ctx, N4D_MEM_OTHER, pairs, maxseg * sizeof *pairs);
    n4d__free(sim->ctx, N4D_MEM_OTHER, scratch, scratch_bytes);
    return st;
}

/* ---- the learned weights as a model ------------------------------------------------------- */

n4d_status n4d_sim_save_model(n4d_sim *sim, const char *path, const n4d_save_options *opt)
{
    if (!n4d__is_handle(sim, N4D__MAGIC_SIM))
        return N4D_E_INVALID_ARG;
    n4d__clear_error(&sim->hdr);
    if (!path)
        return n4d__error(&sim->hdr, N4D_E_INVALID_ARG, "n4d_sim_save_model: path is NULL");
    if (n4d__distributed(sim->model)) /* each rank holds its own neurons' part */
        return n4d__error(&sim->hdr, N4D_E_UNSUPPORTED,
                          "n4d_sim_save_model: a distributed sim (rank %d of %d) is not saved yet; "
                          "docs/distributed.md",
                          sim->model->comm.rank, sim->model->comm.size);
    const n4d_model *m = sim->model;
    const n4d__synapses *s = &m->syn;
    const uint64_t S = s->n_syn ? s->n_syn : 1;
    int32_t *wq = NULL;
    const int32_t *wq_write = sim->wq_own; /* static weights the sim set, or NULL */
    if (sim->plastic) {
        /* the current weights in the model's fixed point, rounded to nearest
         * (ties to even); tsodyks keeps its weights (u and x are per-sim state) */
        wq = n4d__alloc(sim->ctx, N4D_MEM_OTHER, S * sizeof *wq);
        if (!wq)
            return n4d__error(&sim->hdr, N4D_E_NOMEM,
                              "n4d_sim_save_model: out of memory for %llu weights",
                              (unsigned long long)s->n_syn);
        for (uint64_t row = 0; row < m->n_neurons; row++)
            for (uint64_t g = s->seg_ptr[row]; g < s->seg_ptr[row + 1]; g++) {
                const bool plastic = N4D__SEG_CLASS(s->seg_key[g]) != 0;
                for (uint64_t j = s->seg_off[g]; j < s->seg_off[g + 1]; j++) {
                    if (!plastic) {
                        wq[j] = sim->syn.weight_q[j]; /* the sim's own, if it has them */
                        continue;
                    }
                    const double w = n4d__plastic_weight(sim, row, g, j);
                    const double q = nearbyint(w * s->scale);
                    if (!(fabs(q) <= (double)INT32_MAX)) {
                        n4d__free(sim->ctx, N4D_MEM_OTHER, wq, S * sizeof *wq);
                        return n4d__error(
                            &sim->hdr, N4D_E_RANGE,
                            "n4d_sim_save_model: the learned weight %g of synapse %llu -> %llu "
                            "does not fit the model's fixed point (scale %g: |w| < %g)",
                            w, (unsigned long long)n4d__to_user(m, row),
                            (unsigned long long)n4d__to_user(m, s->target[j]), s->scale,
                            (double)INT32_MAX / s->scale);
                    }
                    wq[j] = (int32_t)q;
                }
            }
    }
    n4d__h5 h;
    n4d__h5_begin(&h, sim->ctx, &sim->hdr, path);
    n4d_save_options o;
    n4d__h5_out out;
    n4d_status st = n4d__h5_save_options(&h, opt, &o);
    if (!st && !(st = n4d__h5_out_create(&h, &out, o.contiguous != 0))) {
        st = n4d__store_write_model_w(&h, out.file, m, wq ? wq : wq_write, &o, "model");
        if (st)
            n4d__h5_out_abort(&h, &out);
        else
            st = n4d__h5_out_commit(&h, &out);
    }
    n4d__h5_end(&h);
    n4d__free(sim->ctx, N4D_MEM_OTHER, wq, S * sizeof *wq);
    return st;
}

#else
typedef int n4d__store_plastic_unused;
#endif
