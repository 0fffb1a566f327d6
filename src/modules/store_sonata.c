/* The SONATA view of a saved model, for other tools: /nodes/<pop> with
 * positions and parameters, /edges/<source>-><target> with the synapses
 * (docs/storage.md). A load never reads them back: it reads /n4d. */
#include "store_model.h"

#if N4D_HAVE_HDF5

#include <stdio.h>
#include <string.h>

/* /nodes/<pop>: SONATA node population with positions and parameters. */
n4d_status n4d__store_write_nodes(n4d__h5 *h, hid_t file, const n4d_model *m,
                                  const n4d__h5_layout *L, void *scratch)
{
    n4d_status st = N4D_OK;
    for (size_t pi = 0; pi < m->n_pops && !st; pi++) {
        const n4d__population *p = &m->pops[pi];
        char esc[800], gname[900];
        n4d__h5_escape(p->name, esc, sizeof esc);
        snprintf(gname, sizeof gname, "/nodes/%s", esc);
        hid_t g = n4d__h5_create_group(h, file, gname, &st);
        if (g < 0)
            break;
        const uint64_t first = p->first, index = pi;
        st = n4d__h5_attr_write(h, g, gname, "n4d_first_id", N4D__T_U64, 1, &first);
        if (!st)
            st = n4d__h5_attr_write(h, g, gname, "n4d_population_index", N4D__T_U64, 1, &index);
        if (!st)
            st = n4d__h5_attr_write_text(h, g, gname, "model", p->nm->name);
        /* the model's parameters, by name */
        for (int32_t k = 0; k < p->nm->h->n_params && !st; k++)
            st = n4d__h5_attr_write(h, g, gname, p->nm->h->params[k].name, N4D__T_F64, 1,
                                    &p->params[k]);
        /* columns written block by block from scratch */
        static const char *const cols[] = {"node_id", "node_type_id", "node_group_id",
                                           "node_group_index", "0/x", "0/y", "0/z", "0/w"};
        for (int c = 0; c < 8 && !st; c++) {
            n4d__h5_type t = c < 4 ? (c == 1 || c == 2 ? N4D__T_I64 : N4D__T_U64) : N4D__T_I32;
            hid_t d = n4d__h5_create_dset(h, g, cols[c], t, p->n, 0, L, &st);
            if (d < 0)
                break;
            for (uint64_t off = 0; off < p->n && !st; off += N4D__STORE_BLOCK) {
                uint64_t cnt = p->n - off < N4D__STORE_BLOCK ? p->n - off : N4D__STORE_BLOCK;
                uint64_t *u = scratch;
                int64_t *s = scratch;
                int32_t *xs = scratch;
                for (uint64_t i = 0; i < cnt; i++) {
                    uint64_t loc = off + i;
                    switch (c) {
                    case 0:
                    case 3: u[i] = loc; break;
                    case 1: s[i] = (int64_t)pi; break;
                    case 2: s[i] = 0; break;
                    default: xs[i] = m->pos[4 * (first + loc) + (uint64_t)(c - 4)]; break;
                    }
                }
                st = n4d__h5_write_rows(h, d, cols[c], t, off, cnt, scratch);
            }
            H5Dclose(d);
        }
        H5Gclose(g);
    }
    return st;
}

/* Synapses of source `src` in segment g whose targets lie in [lo, hi). */
static void seg_range(const n4d__synapses *s, uint64_t g, uint32_t lo, uint64_t hi, uint64_t *a,
                      uint64_t *b)
{
    uint64_t j0 = s->seg_off[g], j1 = s->seg_off[g + 1], x = j0, y = j1;
    while (x < y) {
        uint64_t mid = x + (y - x) / 2;
        if (s->target[mid] < lo)
            x = mid + 1;
        else
            y = mid;
    }
    *a = x;
    y = j1;
    while (x < y) {
        uint64_t mid = x + (y - x) / 2;
        if ((uint64_t)s->target[mid] < hi)
            x = mid + 1;
        else
            y = mid;
    }
    *b = x;
}

/* /edges/<source>-><target> for every pair of populations with synapses. */
n4d_status n4d__store_write_edges(n4d__h5 *h, hid_t file, const n4d_model *m,
                                  const n4d__synapses *s, const n4d__h5_layout *L, void *scratch)
{
    n4d_context *ctx = m->ctx;
    n4d_status st = N4D_OK;
    uint64_t *src_buf = scratch, *tgt_buf = src_buf + N4D__STORE_BLOCK;
    float *w_buf = (float *)(tgt_buf + N4D__STORE_BLOCK), *d_buf = w_buf + N4D__STORE_BLOCK;
    for (size_t pa = 0; pa < m->n_pops && !st; pa++) {
        const n4d__population *P = &m->pops[pa];
        if (P->n == 0)
            continue;
        uint64_t *ranges = n4d__alloc(ctx, N4D_MEM_OTHER, P->n * 2 * sizeof(uint64_t));
        uint64_t *r2e = n4d__alloc(ctx, N4D_MEM_OTHER, P->n * 2 * sizeof(uint64_t));
        if (!ranges || !r2e) {
            n4d__free(ctx, N4D_MEM_OTHER, ranges, P->n * 2 * sizeof(uint64_t));
            n4d__free(ctx, N4D_MEM_OTHER, r2e, P->n * 2 * sizeof(uint64_t));
            return n4d__h5_fail(h, N4D_E_NOMEM, "/edges", false, "out of memory");
        }
        for (size_t pb = 0; pb < m->n_pops && !st; pb++) {
            const n4d__population *Q = &m->pops[pb];
            if (Q->n == 0)
                continue;
            uint32_t qlo = (uint32_t)Q->first;
            uint64_t qhi = Q->first + Q->n, total = 0, nr = 0;
            for (uint64_t ls = 0; ls < P->n; ls++) {
                uint64_t src = P->first + ls, c = 0, a, b;
                for (uint64_t g = s->seg_ptr[src]; g < s->seg_ptr[src + 1]; g++) {
                    seg_range(s, g, qlo, qhi, &a, &b);
                    c += b - a;
                }
                ranges[2 * ls] = nr;
                if (c) {
                    r2e[2 * nr] = total;
                    r2e[2 * nr + 1] = total + c;
                    nr++;
                }
                ranges[2 * ls + 1] = nr;
                total += c;
            }
            if (total == 0)
                continue;
            char ea[800], eb[800], gname[1800];
            n4d__h5_escape(P->name, ea, sizeof ea);
            n4d__h5_escape(Q->name, eb, sizeof eb);
            snprintf(gname, sizeof gname, "/edges/%s->%s", ea, eb);
            hid_t g = n4d__h5_create_group(h, file, gname, &st), ds[4] = {-1, -1, -1, -1};
            if (g < 0)
                break;
            static const char *const names[4] = {"source_node_id", "target_node_id",
                                                 "0/syn_weight", "0/delay"};
            static const n4d__h5_type types[4] = {N4D__T_U64, N4D__T_U64, N4D__T_F32, N4D__T_F32};
            for (int c = 0; c < 4 && !st; c++)
                ds[c] = n4d__h5_create_dset(h, g, names[c], types[c], total, 0, L, &st);
            if (!st)
                st = n4d__h5_attr_write_text(h, ds[0], gname, "node_population", P->name);
            if (!st)
                st = n4d__h5_attr_write_text(h, ds[1], gname, "node_population", Q->name);
            if (!st)
                st = n4d__h5_write_dset(h, g, "indices/source_to_target/node_id_to_range",
                                        N4D__T_U64, P->n, 2, L, ranges);
            if (!st)
                st = n4d__h5_write_dset(h, g, "indices/source_to_target/range_to_edge_id",
                                        N4D__T_U64, nr, 2, L, r2e);
            uint64_t fill = 0, written = 0;
            for (uint64_t ls = 0; ls < P->n && !st; ls++) {
                uint64_t src = P->first + ls, a, b;
                for (uint64_t gi = s->seg_ptr[src]; gi < s->seg_ptr[src + 1] && !st; gi++) {
                    seg_range(s, gi, qlo, qhi, &a, &b);
                    float dms = (float)(N4D__SEG_DELAY(s->seg_key[gi]) * m->dt);
                    for (uint64_t j = a; j < b && !st; j++) {
                        src_buf[fill] = ls;
                        tgt_buf[fill] = s->target[j] - Q->first;
                        w_buf[fill] = (float)((double)s->weight_q[j] * s->inv_scale);
                        d_buf[fill] = dms;
                        if (++fill == N4D__STORE_BLOCK || written + fill == total) {
                            const void *bufs[4] = {src_buf, tgt_buf, w_buf, d_buf};
                            for (int c = 0; c < 4 && !st; c++)
                                st = n4d__h5_write_rows(h, ds[c], names[c], types[c], written,
                                                        fill, bufs[c]);
                            written += fill;
                            fill = 0;
                        }
                    }
                }
            }
            for (int c = 0; c < 4; c++)
                n4d__h5_close(ds[c]);
            H5Gclose(g);
        }
        n4d__free(ctx, N4D_MEM_OTHER, ranges, P->n * 2 * sizeof(uint64_t));
        n4d__free(ctx, N4D_MEM_OTHER, r2e, P->n * 2 * sizeof(uint64_t));
    }
    return st;
}

#else
typedef int n4d__store_sonata_unused;
#endif
