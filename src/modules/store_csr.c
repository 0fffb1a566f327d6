/* The CSR synapse arrays of a stored model: the file order (by user id),
 * the checks every array passes before a model uses it, the whole read, and
 * the install into a new model. */
#include "store_model.h"

#if N4D_HAVE_HDF5

#include <math.h>
#include <stdlib.h>
#include <string.h>

double n4d__store_scale_for(double maxw)
{
    if (!(maxw > 0) || !isfinite(maxw))
        return 1.0;
    int e;
    frexp(maxw, &e);
    return ldexp(1.0, 26 - e);
}

static int cmp_u64_pair(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* dst = src with row r of dst taken from row row_of[r] of src and every
 * target t replaced by tmap[t]; each segment sorted again by (target,
 * weight). dst arrays are allocated as the model frees them. */
n4d_status n4d__store_permute_syn(n4d__h5 *h, n4d_context *ctx, const n4d__synapses *src,
                                  uint64_t N, const uint32_t *row_of, const uint32_t *tmap,
                                  n4d__synapses *dst)
{
    memset(dst, 0, sizeof *dst);
    const uint64_t G = src->n_seg, S = src->n_syn;
    dst->n_seg = G;
    dst->n_syn = S;
    dst->scale = src->scale;
    dst->inv_scale = src->inv_scale;
    dst->min_delay = src->min_delay;
    dst->max_delay = src->max_delay;
    dst->seg_ptr = n4d__alloc(ctx, N4D_MEM_SYNAPSES, (N + 1) * sizeof(uint64_t));
    dst->seg_off = n4d__alloc(ctx, N4D_MEM_SYNAPSES, (G + 1) * sizeof(uint64_t));
    dst->seg_key = n4d__alloc(ctx, N4D_MEM_SYNAPSES, (G ? G : 1) * sizeof(uint32_t));
    dst->target = n4d__alloc(ctx, N4D_MEM_SYNAPSES, (S ? S : 1) * sizeof(uint32_t));
    dst->weight_q = n4d__alloc(ctx, N4D_MEM_SYNAPSES, (S ? S : 1) * sizeof(int32_t));
    uint64_t maxseg = 1;
    for (uint64_t g = 0; g < G; g++)
        if (src->seg_off[g + 1] - src->seg_off[g] > maxseg)
            maxseg = src->seg_off[g + 1] - src->seg_off[g];
    uint64_t *pairs = n4d__alloc(ctx, N4D_MEM_BUILD, maxseg * sizeof(uint64_t));
    if (!dst->seg_ptr || !dst->seg_off || !dst->seg_key || !dst->target || !dst->weight_q ||
        !pairs) {
        n4d__free(ctx, N4D_MEM_BUILD, pairs, maxseg * sizeof(uint64_t));
        n4d__store_free_syn(ctx, dst, N);
        return n4d__h5_fail(h, N4D_E_NOMEM, NULL, false,
                            "out of memory reordering %llu synapses", (unsigned long long)S);
    }
    uint64_t g2 = 0, j2 = 0;
    dst->seg_ptr[0] = 0;
    for (uint64_t r = 0; r < N; r++) {
        uint64_t old = row_of[r];
        for (uint64_t g = src->seg_ptr[old]; g < src->seg_ptr[old + 1]; g++, g2++) {
            uint64_t j0 = src->seg_off[g], n = src->seg_off[g + 1] - j0;
            dst->seg_off[g2] = j2;
            dst->seg_key[g2] = src->seg_key[g];
            for (uint64_t j = 0; j < n; j++)
                pairs[j] = ((uint64_t)tmap[src->target[j0 + j]] << 32) |
                           (uint32_t)((uint32_t)src->weight_q[j0 + j] ^ 0x80000000u);
            qsort(pairs, n, sizeof *pairs, cmp_u64_pair);
            for (uint64_t j = 0; j < n; j++, j2++) {
                dst->target[j2] = (uint32_t)(pairs[j] >> 32);
                dst->weight_q[j2] = (int32_t)((uint32_t)pairs[j] ^ 0x80000000u);
            }
        }
        dst->seg_ptr[r + 1] = g2;
    }
    dst->seg_off[G] = S;
    n4d__free(ctx, N4D_MEM_BUILD, pairs, maxseg * sizeof(uint64_t));
    return N4D_OK;
}

void n4d__store_free_syn(n4d_context *ctx, n4d__synapses *s, uint64_t N)
{
    if (s->release)
        s->release(s);
    n4d__free(ctx, N4D_MEM_SYNAPSES, s->seg_ptr, (N + 1) * sizeof(uint64_t));
    n4d__free(ctx, N4D_MEM_SYNAPSES, s->seg_off, (s->n_seg + 1) * sizeof(uint64_t));
    n4d__free(ctx, N4D_MEM_SYNAPSES, s->seg_key, (s->n_seg ? s->n_seg : 1) * sizeof(uint32_t));
    n4d__free(ctx, N4D_MEM_SYNAPSES, s->target, (s->n_syn ? s->n_syn : 1) * sizeof(uint32_t));
    n4d__free(ctx, N4D_MEM_SYNAPSES, s->weight_q, (s->n_syn ? s->n_syn : 1) * sizeof(int32_t));
    memset(s, 0, sizeof *s);
}

n4d_status n4d__store_check_offsets(n4d__h5 *h, const n4d__synapses *s, uint64_t N)
{
    if (s->seg_ptr[0] != 0 || s->seg_ptr[N] != s->n_seg)
        return n4d__h5_fail(h, N4D_E_FORMAT, N4D__STORE_SYN("seg_ptr"), false,
                            "must start at 0 and end at the %llu segments",
                            (unsigned long long)s->n_seg);
    if (s->seg_off[0] != 0 || s->seg_off[s->n_seg] != s->n_syn)
        return n4d__h5_fail(h, N4D_E_FORMAT, N4D__STORE_SYN("seg_off"), false,
                            "must start at 0 and end at the %llu synapses",
                            (unsigned long long)s->n_syn);
    for (uint64_t i = 0; i < N; i++)
        if (s->seg_ptr[i + 1] < s->seg_ptr[i] || s->seg_ptr[i + 1] > s->n_seg)
            return n4d__h5_fail(h, N4D_E_FORMAT, N4D__STORE_SYN("seg_ptr"), false,
                                "entry %llu is out of order or range", (unsigned long long)i + 1);
    for (uint64_t g = 0; g < s->n_seg; g++)
        if (s->seg_off[g + 1] < s->seg_off[g] || s->seg_off[g + 1] > s->n_syn)
            return n4d__h5_fail(h, N4D_E_FORMAT, N4D__STORE_SYN("seg_off"), false,
                                "entry %llu is out of order or range", (unsigned long long)g + 1);
    return N4D_OK;
}

n4d_status n4d__store_check_syn(n4d__h5 *h, n4d__synapses *s, uint64_t N)
{
    if (!(s->scale > 0) || !isfinite(s->scale) || frexp(s->scale, &(int){0}) != 0.5)
        return n4d__h5_fail(h, N4D_E_FORMAT, "/n4d/synapses attribute \"scale\"", false,
                            "%g is not a positive power of two", s->scale);
    s->inv_scale = 1.0 / s->scale;
    n4d_status st = n4d__store_check_offsets(h, s, N);
    if (st)
        return st;
    uint32_t dmin = UINT32_MAX, dmax = 0;
    for (uint64_t i = 0; i < N; i++) {
        uint64_t g0 = s->seg_ptr[i], g1 = s->seg_ptr[i + 1];
        for (uint64_t g = g0; g < g1; g++) {
            uint32_t key = s->seg_key[g], d = N4D__SEG_DELAY(key);
            if (d == 0)
                return n4d__h5_fail(h, N4D_E_FORMAT, N4D__STORE_SYN("seg_key"), false,
                                    "entry %llu (0x%x) is not a valid delay/sign key",
                                    (unsigned long long)g, key);
            if (g > g0 && key <= s->seg_key[g - 1])
                return n4d__h5_fail(h, N4D_E_FORMAT, N4D__STORE_SYN("seg_key"), false,
                                    "entry %llu is not above the previous key of its row",
                                    (unsigned long long)g);
            dmin = d < dmin ? d : dmin;
            dmax = d > dmax ? d : dmax;
            uint64_t j0 = s->seg_off[g], j1 = s->seg_off[g + 1];
            /* a plastic synapse keeps the channel of its initial sign; a
             * learned weight (n4d_sim_save_model) may have crossed 0 */
            const bool neg = N4D__SEG_CH(key) != 0, any_sign = N4D__SEG_CLASS(key) != 0;
            for (uint64_t j = j0; j < j1; j++) {
                if (s->target[j] >= N)
                    return n4d__h5_fail(h, N4D_E_FORMAT, N4D__STORE_SYN("target"), false,
                                        "entry %llu is %u (out of range: the model has %llu "
                                        "neurons)",
                                        (unsigned long long)j, s->target[j],
                                        (unsigned long long)N);
                if (j > j0 && s->target[j] < s->target[j - 1])
                    return n4d__h5_fail(h, N4D_E_FORMAT, N4D__STORE_SYN("target"), false,
                                        "entry %llu breaks the target order of its segment",
                                        (unsigned long long)j);
                if (!any_sign && (neg ? s->weight_q[j] > 0 : s->weight_q[j] < 0))
                    return n4d__h5_fail(h, N4D_E_FORMAT, N4D__STORE_SYN("weight_q"), false,
                                        "entry %llu has the wrong sign for its segment",
                                        (unsigned long long)j);
            }
        }
    }
    s->min_delay = dmax ? dmin : 1;
    s->max_delay = dmax ? dmax : 1;
    return N4D_OK;
}

n4d_status n4d__store_install(n4d__h5 *h, n4d_model *m, uint64_t N, int32_t *pos,
                              const uint64_t *pop_n, n4d__synapses *syn, const int32_t layout[3])
{
    n4d_context *ctx = m->ctx;
    uint64_t first = 0;
    for (size_t i = 0; i < m->n_pops; i++) {
        m->pops[i].first = first;
        m->pops[i].n = pop_n[i];
        first += pop_n[i];
    }
    m->n_neurons = N;
    m->pos = pos;
    m->syn = *syn;
    memset(syn, 0, sizeof *syn);
    /* the saved layout; mapped synapses cannot be reordered: lattice order */
    n4d_layout_options lo;
    n4d_layout_options_init(&lo);
    if (layout && !m->syn.release) {
        if (layout[1] < 0 || layout[2] < 0 || layout[2] > 1)
            return n4d__h5_fail(h, N4D_E_FORMAT, "/n4d attribute \"layout\"", false,
                                "partitions %d / balance %d are out of range", layout[1],
                                layout[2]);
        lo.order = layout[0];
        lo.partitions = (uint32_t)layout[1] > N ? (uint32_t)N : (uint32_t)layout[1];
        lo.balance_synapses = layout[2];
    }
    if (n4d_model_set_layout(m, &lo))
        return n4d__h5_fail(h, N4D_E_FORMAT, "/n4d attribute \"layout\"", false, "%s",
                            n4d_last_error(m));
    uint64_t *w = NULL;
    const n4d__synapses *s = &m->syn;
    for (uint64_t g = 0; g < s->n_seg; g++)
        if (N4D__SEG_CLASS(s->seg_key[g]) > m->n_cls)
            return n4d__h5_fail(h, N4D_E_FORMAT, N4D__STORE_SYN("seg_key"), false,
                                "entry %llu names synapse class %u; the description has %u",
                                (unsigned long long)g, N4D__SEG_CLASS(s->seg_key[g]), m->n_cls);
    if (lo.partitions > 1 && lo.balance_synapses) {
        w = n4d__alloc(ctx, N4D_MEM_BUILD, (N ? N : 1) * sizeof(uint64_t));
        if (!w)
            return n4d__h5_fail(h, N4D_E_NOMEM, NULL, false, "out of memory for the layout");
        for (uint64_t u = 0; u < N; u++)
            w[u] = s->seg_off[s->seg_ptr[u + 1]] - s->seg_off[s->seg_ptr[u]] + 1;
    }
    n4d_status st = n4d__layout_compute(m, w);
    n4d__free(ctx, N4D_MEM_BUILD, w, (N ? N : 1) * sizeof(uint64_t));
    if (st)
        return n4d__h5_fail(h, st, NULL, false, "%s", n4d_last_error(m));
    if (m->perm) { /* file rows and targets are user ids: to internal order */
        n4d__synapses d;
        if ((st = n4d__store_permute_syn(h, ctx, &m->syn, N, m->perm, m->inv, &d)))
            return st;
        n4d__store_free_syn(ctx, &m->syn, N);
        m->syn = d;
    }
    m->built = true;
    return N4D_OK;
}

void n4d__syn_files_close(n4d__syn_files *f)
{
    n4d__h5_close(f->seg_ptr);
    n4d__h5_close(f->seg_off);
    n4d__h5_close(f->seg_key);
    n4d__h5_close(f->target);
    n4d__h5_close(f->weight_q);
    n4d__h5_close(f->g);
}

/* Whole synapse arrays, read or mapped. */
n4d_status n4d__store_read_all_syn(n4d__h5 *h, const n4d__syn_files *f, n4d_context *ctx,
                                   uint64_t N, bool mapped, n4d__synapses *s)
{
    uint64_t S = s->n_syn, G = s->n_seg;
    s->seg_ptr = n4d__alloc(ctx, N4D_MEM_SYNAPSES, (N + 1) * sizeof(uint64_t));
    s->seg_off = n4d__alloc(ctx, N4D_MEM_SYNAPSES, (G + 1) * sizeof(uint64_t));
    s->seg_key = n4d__alloc(ctx, N4D_MEM_SYNAPSES, (G ? G : 1) * sizeof(uint32_t));
    if (!s->seg_ptr || !s->seg_off || !s->seg_key)
        return n4d__h5_fail(h, N4D_E_NOMEM, "/n4d/synapses", false,
                            "out of memory for %llu segments", (unsigned long long)G);
    n4d_status st;
    /* the offsets first: the synapse rows are allocated and read only for
     * a consistent CSR */
    if ((st = n4d__h5_read_rows(h, f->seg_ptr, NULL, N4D__T_U64, 0, N + 1, s->seg_ptr)) ||
        (st = n4d__h5_read_rows(h, f->seg_off, NULL, N4D__T_U64, 0, G + 1, s->seg_off)) ||
        (st = n4d__store_check_offsets(h, s, N)))
        return st;
    if (mapped && S > 0) {
        if ((st = n4d__store_map_syn(h, f, s)))
            return st;
    } else {
        s->target = n4d__alloc(ctx, N4D_MEM_SYNAPSES, (S ? S : 1) * sizeof(uint32_t));
        s->weight_q = n4d__alloc(ctx, N4D_MEM_SYNAPSES, (S ? S : 1) * sizeof(int32_t));
        if (!s->target || !s->weight_q)
            return n4d__h5_fail(h, N4D_E_NOMEM, "/n4d/synapses", false,
                                "out of memory for %llu synapses", (unsigned long long)S);
    }
    if ((st = n4d__h5_read_rows(h, f->seg_key, NULL, N4D__T_U32, 0, G, s->seg_key)))
        return st;
    for (uint64_t g = 0; g < G; g++) {
        uint32_t fk = s->seg_key[g];
        if (!N4D__FILE_KEY_OK(fk))
            return n4d__h5_fail(h, N4D_E_FORMAT, N4D__STORE_SYN("seg_key"), false,
                                "entry %llu (0x%x) is not a valid delay/sign key",
                                (unsigned long long)g, fk);
        s->seg_key[g] = N4D__KEY_FROM_FILE(fk);
    }
    if (!s->release &&
        ((st = n4d__h5_read_rows(h, f->target, NULL, N4D__T_U32, 0, S, s->target)) ||
         (st = n4d__h5_read_rows(h, f->weight_q, NULL, N4D__T_I32, 0, S, s->weight_q))))
        return st;
    if ((st = n4d__store_check_syn(h, s, N)))
        return st;
    if (s->release) /* the check paged everything in: let the kernel drop it again */
        n4d__store_mapped_dontneed(s);
    return N4D_OK;
}

#else
typedef int n4d__store_csr_unused;
#endif
