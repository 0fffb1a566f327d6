/* Partial loads: which neurons a load keeps (an id range, a list of ids,
 * a region of the lattice), their positions, and the synapses among them
 * read span by span and renumbered. */
#include "store_model.h"

#if N4D_HAVE_HDF5

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Reads columns x, y, z, w of population pi rows [off, off + cnt) into
 * out (4 per neuron), checking they lie on the lattice. */
static n4d_status read_positions(n4d__h5 *h, hid_t file, const n4d_model *m, size_t pi,
                                 uint64_t rows, uint64_t off, uint64_t cnt, int32_t *out,
                                 int32_t *col)
{
    const n4d__population *p = &m->pops[pi];
    char esc[800], gname[900];
    n4d__h5_escape(p->name, esc, sizeof esc);
    snprintf(gname, sizeof gname, "/nodes/%s/0", esc);
    static const char *const axes[4] = {"x", "y", "z", "w"};
    n4d_status st = N4D_OK;
    hid_t g = n4d__h5_open_group(h, file, gname, &st);
    if (g < 0)
        return st;
    for (int c = 0; c < 4 && !st; c++) {
        uint64_t dims[2] = {rows, 0};
        hid_t d = n4d__h5_open_dset(h, g, axes[c], N4D__T_I32, 1, dims, &st);
        if (d < 0)
            break;
        st = n4d__h5_read_rows(h, d, axes[c], N4D__T_I32, off, cnt, col);
        H5Dclose(d);
        for (uint64_t i = 0; i < cnt && !st; i++) {
            if (col[i] < 0 || (uint32_t)col[i] >= m->shape[c]) {
                char full[1000];
                snprintf(full, sizeof full, "%s/%s", gname, axes[c]);
                st = n4d__h5_fail(h, N4D_E_FORMAT, full, false,
                                  "entry %llu is %d, outside the lattice (0..%u)",
                                  (unsigned long long)(off + i), col[i], m->shape[c] - 1);
            }
            out[4 * i + (uint64_t)c] = col[i];
        }
    }
    H5Gclose(g);
    return st;
}

/* Positions of the neurons [a, b) (global ids) into out. */
n4d_status n4d__store_read_positions_range(n4d__h5 *h, hid_t file, const n4d_model *m,
                                           const uint64_t *pop_first, const uint64_t *pop_n,
                                           uint64_t a, uint64_t b, int32_t *out, int32_t *col)
{
    for (size_t pi = 0; pi < m->n_pops; pi++) {
        uint64_t lo = pop_first[pi] > a ? pop_first[pi] : a;
        uint64_t hi = pop_first[pi] + pop_n[pi] < b ? pop_first[pi] + pop_n[pi] : b;
        for (uint64_t s = lo; s < hi; s += N4D__STORE_BLOCK) {
            uint64_t cnt = hi - s < N4D__STORE_BLOCK ? hi - s : N4D__STORE_BLOCK;
            n4d_status st = read_positions(h, file, m, pi, pop_n[pi], s - pop_first[pi], cnt,
                                           out + 4 * (s - a), col);
            if (st)
                return st;
        }
    }
    return N4D_OK;
}

n4d_status n4d__store_select_neurons(n4d__h5 *h, hid_t file, const n4d_model *m,
                                     const n4d_load_options *o, uint64_t N,
                                     const uint64_t *pop_first, const uint64_t *pop_n,
                                     n4d__selection *sel)
{
    n4d_context *ctx = m->ctx;
    memset(sel, 0, sizeof *sel);
    if (o->select == N4D_SELECT_ALL)
        return N4D_OK;
    uint64_t cap = 0;
    if (o->select == N4D_SELECT_RANGE) {
        if (o->first > N || o->count > N - o->first)
            return n4d__h5_fail(h, N4D_E_RANGE, NULL, false,
                                "selected ids %llu..%llu do not exist (the model has %llu neurons)",
                                (unsigned long long)o->first,
                                (unsigned long long)(o->first + o->count - 1),
                                (unsigned long long)N);
        cap = o->count;
    } else if (o->select == N4D_SELECT_IDS) {
        if (!o->ids && o->n_ids)
            return n4d__h5_fail(h, N4D_E_INVALID_ARG, NULL, false, "load options: ids is NULL");
        cap = o->n_ids;
    } else if (o->select == N4D_SELECT_REGION) {
        cap = N;
    } else {
        return n4d__h5_fail(h, N4D_E_INVALID_ARG, NULL, false, "load options: unknown select %d",
                            o->select);
    }
    sel->keep = n4d__alloc(ctx, N4D_MEM_OTHER, (cap ? cap : 1) * sizeof(uint64_t));
    sel->map = n4d__alloc(ctx, N4D_MEM_OTHER, (N ? N : 1) * sizeof(uint32_t));
    if (!sel->keep || !sel->map)
        return n4d__h5_fail(h, N4D_E_NOMEM, NULL, false, "out of memory for the selection");
    uint64_t k = 0;
    if (o->select == N4D_SELECT_RANGE) {
        for (uint64_t i = 0; i < o->count; i++)
            sel->keep[k++] = o->first + i;
    } else if (o->select == N4D_SELECT_IDS) {
        for (uint64_t i = 0; i < o->n_ids; i++) {
            if (o->ids[i] >= N)
                return n4d__h5_fail(h, N4D_E_RANGE, NULL, false,
                                    "selected id %llu does not exist (the model has %llu neurons)",
                                    (unsigned long long)o->ids[i], (unsigned long long)N);
            sel->keep[i] = o->ids[i];
        }
        qsort(sel->keep, o->n_ids, sizeof(uint64_t), cmp_u64);
        for (uint64_t i = 0; i < o->n_ids; i++)
            if (k == 0 || sel->keep[i] != sel->keep[k - 1])
                sel->keep[k++] = sel->keep[i];
    } else {
        int32_t *col = n4d__alloc(ctx, N4D_MEM_OTHER, N4D__STORE_BLOCK * sizeof(int32_t));
        int32_t *pos = n4d__alloc(ctx, N4D_MEM_OTHER, N4D__STORE_BLOCK * 4 * sizeof(int32_t));
        n4d_status st = (!col || !pos) ? n4d__h5_fail(h, N4D_E_NOMEM, NULL, false, "out of memory")
                                       : N4D_OK;
        for (size_t pi = 0; pi < m->n_pops && !st; pi++) {
            const n4d__area *a = &m->areas[m->pops[pi].area];
            bool meets = true;
            for (int c = 0; c < 4; c++)
                meets = meets && a->lo[c] <= o->hi[c] && o->lo[c] <= a->hi[c];
            if (!meets)
                continue;
            for (uint64_t off = 0; off < pop_n[pi] && !st; off += N4D__STORE_BLOCK) {
                uint64_t cnt =
                    pop_n[pi] - off < N4D__STORE_BLOCK ? pop_n[pi] - off : N4D__STORE_BLOCK;
                st = read_positions(h, file, m, pi, pop_n[pi], off, cnt, pos, col);
                for (uint64_t i = 0; i < cnt && !st; i++) {
                    bool in = true;
                    for (int c = 0; c < 4; c++)
                        in = in && pos[4 * i + (uint64_t)c] >= o->lo[c] &&
                             pos[4 * i + (uint64_t)c] <= o->hi[c];
                    if (in)
                        sel->keep[k++] = pop_first[pi] + off + i;
                }
            }
        }
        n4d__free(ctx, N4D_MEM_OTHER, col, N4D__STORE_BLOCK * sizeof(int32_t));
        n4d__free(ctx, N4D_MEM_OTHER, pos, N4D__STORE_BLOCK * 4 * sizeof(int32_t));
        if (st)
            return st;
    }
    sel->k = k;
    for (uint64_t i = 0; i < N; i++)
        sel->map[i] = UINT32_MAX;
    for (uint64_t i = 0; i < k; i++)
        sel->map[sel->keep[i]] = (uint32_t)i;
    /* shrink bookkeeping is not needed: sizes are recomputed on free */
    (void)cap;
    return N4D_OK;
}

void n4d__store_selection_free(n4d_context *ctx, n4d__selection *sel, const n4d_load_options *o,
                               uint64_t N)
{
    uint64_t cap = o->select == N4D_SELECT_RANGE ? o->count
                   : o->select == N4D_SELECT_IDS ? o->n_ids
                                                 : N;
    n4d__free(ctx, N4D_MEM_OTHER, sel->keep, (cap ? cap : 1) * sizeof(uint64_t));
    n4d__free(ctx, N4D_MEM_OTHER, sel->map, (N ? N : 1) * sizeof(uint32_t));
}

/* Synapses among the kept neurons, read span by span (runs of kept ids with
 * small gaps merged) and renumbered. */
n4d_status n4d__store_read_partial_syn(n4d__h5 *h, const n4d__syn_files *f, n4d_context *ctx,
                                       uint64_t N, const n4d__selection *sel, n4d__synapses *s)
{
    const uint64_t K = sel->k, G0 = s->n_seg, S0 = s->n_syn;
    n4d_status st = N4D_OK;
    uint64_t *ptr_buf = NULL, *off_buf = NULL;
    uint32_t *key_buf = NULL;
    size_t ptr_cap = 0, off_cap = 0, key_cap = 0;
    uint64_t nspan = 0, *span = NULL; /* pairs [a, b) of old ids */
    size_t span_cap = 0;
    /* spans */
    for (uint64_t i = 0; i < K; i++) {
        uint64_t id = sel->keep[i];
        if (nspan && id <= span[2 * nspan - 1] + 16) {
            span[2 * nspan - 1] = id + 1;
            continue;
        }
        if (!n4d__grow(ctx, N4D_MEM_OTHER, (void **)&span, &span_cap, 2 * nspan + 2,
                       sizeof(uint64_t)))
            return n4d__h5_fail(h, N4D_E_NOMEM, NULL, false, "out of memory");
        span[2 * nspan] = id;
        span[2 * nspan + 1] = id + 1;
        nspan++;
    }
    /* pass 1: row structure of every span; upper bounds of segments and synapses */
    uint64_t seg_ub = 0, syn_ub = 0;
    for (uint64_t r = 0; r < nspan && !st; r++) {
        uint64_t a = span[2 * r], b = span[2 * r + 1], e[2];
        if ((st = n4d__h5_read_rows(h, f->seg_ptr, NULL, N4D__T_U64, a, 1, &e[0])) ||
            (st = n4d__h5_read_rows(h, f->seg_ptr, NULL, N4D__T_U64, b, 1, &e[1])))
            break;
        if (e[1] < e[0] || e[1] > G0) {
            st = n4d__h5_fail(h, N4D_E_FORMAT, N4D__STORE_SYN("seg_ptr"), false,
                              "entries %llu..%llu are out of order or range",
                              (unsigned long long)a, (unsigned long long)b);
            break;
        }
        uint64_t o[2];
        if ((st = n4d__h5_read_rows(h, f->seg_off, NULL, N4D__T_U64, e[0], 1, &o[0])) ||
            (st = n4d__h5_read_rows(h, f->seg_off, NULL, N4D__T_U64, e[1], 1, &o[1])))
            break;
        if (o[1] < o[0] || o[1] > S0) {
            st = n4d__h5_fail(h, N4D_E_FORMAT, N4D__STORE_SYN("seg_off"), false,
                              "entries %llu..%llu are out of order or range",
                              (unsigned long long)e[0], (unsigned long long)e[1]);
            break;
        }
        seg_ub += e[1] - e[0];
        syn_ub += o[1] - o[0];
    }
    if (st)
        goto done;
    s->seg_ptr = n4d__calloc(ctx, N4D_MEM_SYNAPSES, K + 1, sizeof(uint64_t));
    uint64_t *seg_off = n4d__alloc(ctx, N4D_MEM_OTHER, (seg_ub + 1) * sizeof(uint64_t));
    uint32_t *seg_key = n4d__alloc(ctx, N4D_MEM_OTHER, (seg_ub ? seg_ub : 1) * sizeof(uint32_t));
    uint32_t *tg = n4d__alloc(ctx, N4D_MEM_OTHER, (syn_ub ? syn_ub : 1) * sizeof(uint32_t));
    int32_t *wq = n4d__alloc(ctx, N4D_MEM_OTHER, (syn_ub ? syn_ub : 1) * sizeof(int32_t));
    uint64_t G = 0, S = 0, newid = 0;
    if (!s->seg_ptr || !seg_off || !seg_key || !tg || !wq) {
        st = n4d__h5_fail(h, N4D_E_NOMEM, NULL, false, "out of memory for %llu synapses",
                          (unsigned long long)syn_ub);
        goto partial_done;
    }
    /* pass 2: read each span and keep the synapses among kept neurons */
    for (uint64_t r = 0; r < nspan && !st; r++) {
        uint64_t a = span[2 * r], b = span[2 * r + 1], n = b - a;
        if (!n4d__grow(ctx, N4D_MEM_OTHER, (void **)&ptr_buf, &ptr_cap, n + 1, sizeof(uint64_t))) {
            st = n4d__h5_fail(h, N4D_E_NOMEM, NULL, false, "out of memory");
            break;
        }
        if ((st = n4d__h5_read_rows(h, f->seg_ptr, NULL, N4D__T_U64, a, n + 1, ptr_buf)))
            break;
        uint64_t g0 = ptr_buf[0], ng = ptr_buf[n] - g0;
        for (uint64_t i = 0; i < n; i++)
            if (ptr_buf[i + 1] < ptr_buf[i] || ptr_buf[i + 1] > G0) {
                st = n4d__h5_fail(h, N4D_E_FORMAT, N4D__STORE_SYN("seg_ptr"), false,
                                  "entry %llu is out of order or range",
                                  (unsigned long long)(a + i + 1));
                break;
            }
        if (st)
            break;
        if (!n4d__grow(ctx, N4D_MEM_OTHER, (void **)&off_buf, &off_cap, ng + 1, sizeof(uint64_t)) ||
            !n4d__grow(ctx, N4D_MEM_OTHER, (void **)&key_buf, &key_cap, ng + 1, sizeof(uint32_t))) {
            st = n4d__h5_fail(h, N4D_E_NOMEM, NULL, false, "out of memory");
            break;
        }
        if ((st = n4d__h5_read_rows(h, f->seg_off, NULL, N4D__T_U64, g0, ng + 1, off_buf)) ||
            (st = n4d__h5_read_rows(h, f->seg_key, NULL, N4D__T_U32, g0, ng, key_buf)))
            break;
        uint64_t j0 = off_buf[0], nj = off_buf[ng] - j0;
        for (uint64_t g = 0; g < ng; g++)
            if (off_buf[g + 1] < off_buf[g] || off_buf[g + 1] > S0 ||
                !N4D__FILE_KEY_OK(key_buf[g])) {
                st = n4d__h5_fail(h, N4D_E_FORMAT,
                                  off_buf[g + 1] < off_buf[g] || off_buf[g + 1] > S0
                                      ? N4D__STORE_SYN("seg_off")
                                      : N4D__STORE_SYN("seg_key"),
                                  false, "entry %llu is out of order or range",
                                  (unsigned long long)(g0 + g));
                break;
            }
        if (st)
            break;
        if (S + nj > syn_ub) {
            st = n4d__h5_fail(h, N4D_E_FORMAT, N4D__STORE_SYN("seg_off"), false,
                              "inconsistent offsets");
            break;
        }
        /* read into the tail of the output and compact forward */
        if ((st = n4d__h5_read_rows(h, f->target, NULL, N4D__T_U32, j0, nj, tg + S)) ||
            (st = n4d__h5_read_rows(h, f->weight_q, NULL, N4D__T_I32, j0, nj, wq + S)))
            break;
        uint64_t rd = S;
        for (uint64_t i = 0; i < n && !st; i++) {
            uint64_t old = a + i;
            bool keep_row = sel->map[old] != UINT32_MAX;
            for (uint64_t g = ptr_buf[i] - g0; g < ptr_buf[i + 1] - g0; g++) {
                uint64_t cnt = off_buf[g + 1] - off_buf[g], kept = 0;
                uint32_t key = key_buf[g];
                for (uint64_t j = 0; j < cnt; j++, rd++) {
                    uint32_t t = tg[rd];
                    if (t >= N) {
                        st = n4d__h5_fail(h, N4D_E_FORMAT, N4D__STORE_SYN("target"), false,
                                          "entry %llu is %u (out of range: the model has %llu "
                                          "neurons)",
                                          (unsigned long long)(off_buf[g] + j), t,
                                          (unsigned long long)N);
                        break;
                    }
                    if (!keep_row || sel->map[t] == UINT32_MAX)
                        continue;
                    tg[S + kept] = sel->map[t];
                    wq[S + kept] = wq[rd];
                    kept++;
                }
                if (st)
                    break;
                if (kept) {
                    seg_off[G] = S;
                    seg_key[G] = N4D__KEY_FROM_FILE(key);
                    G++;
                    S += kept;
                }
            }
            if (keep_row)
                s->seg_ptr[++newid] = G;
        }
    }
    if (!st) {
        seg_off[G] = S;
        s->n_seg = G;
        s->n_syn = S;
        s->seg_off = n4d__alloc(ctx, N4D_MEM_SYNAPSES, (G + 1) * sizeof(uint64_t));
        s->seg_key = n4d__alloc(ctx, N4D_MEM_SYNAPSES, (G ? G : 1) * sizeof(uint32_t));
        s->target = n4d__alloc(ctx, N4D_MEM_SYNAPSES, (S ? S : 1) * sizeof(uint32_t));
        s->weight_q = n4d__alloc(ctx, N4D_MEM_SYNAPSES, (S ? S : 1) * sizeof(int32_t));
        if (!s->seg_off || !s->seg_key || !s->target || !s->weight_q) {
            st = n4d__h5_fail(h, N4D_E_NOMEM, NULL, false, "out of memory for %llu synapses",
                              (unsigned long long)S);
        } else {
            memcpy(s->seg_off, seg_off, (G + 1) * sizeof(uint64_t));
            memcpy(s->seg_key, seg_key, G * sizeof(uint32_t));
            memcpy(s->target, tg, S * sizeof(uint32_t));
            memcpy(s->weight_q, wq, S * sizeof(int32_t));
        }
    }
partial_done:
    n4d__free(ctx, N4D_MEM_OTHER, seg_off, (seg_ub + 1) * sizeof(uint64_t));
    n4d__free(ctx, N4D_MEM_OTHER, seg_key, (seg_ub ? seg_ub : 1) * sizeof(uint32_t));
    n4d__free(ctx, N4D_MEM_OTHER, tg, (syn_ub ? syn_ub : 1) * sizeof(uint32_t));
    n4d__free(ctx, N4D_MEM_OTHER, wq, (syn_ub ? syn_ub : 1) * sizeof(int32_t));
    if (st) {
        /* leave s in a state n4d__store_free_syn(K) frees exactly */
        if (!s->seg_off || !s->seg_key || !s->target || !s->weight_q) {
            n4d__free(ctx, N4D_MEM_SYNAPSES, s->seg_off, (s->n_seg + 1) * sizeof(uint64_t));
            n4d__free(ctx, N4D_MEM_SYNAPSES, s->seg_key, (s->n_seg ? s->n_seg : 1) * sizeof(uint32_t));
            n4d__free(ctx, N4D_MEM_SYNAPSES, s->target, (s->n_syn ? s->n_syn : 1) * sizeof(uint32_t));
            n4d__free(ctx, N4D_MEM_SYNAPSES, s->weight_q, (s->n_syn ? s->n_syn : 1) * sizeof(int32_t));
            s->seg_off = NULL;
            s->seg_key = NULL;
            s->target = NULL;
            s->weight_q = NULL;
        }
    }
done:
    n4d__free(ctx, N4D_MEM_OTHER, span, span_cap * sizeof(uint64_t));
    n4d__free(ctx, N4D_MEM_OTHER, ptr_buf, ptr_cap * sizeof(uint64_t));
    n4d__free(ctx, N4D_MEM_OTHER, off_buf, off_cap * sizeof(uint64_t));
    n4d__free(ctx, N4D_MEM_OTHER, key_buf, key_cap * sizeof(uint32_t));
    return st;
}

#else
typedef int n4d__store_partial_unused;
#endif
