/* Z-order codes and locality analysis (include/n4d/zorder.h). The curve is
 * the one the layout uses (n4d__morton4 in layout.c). */
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define MODEL_ERR(m, st, ...) n4d__model_error((m), (st), __VA_ARGS__)

uint64_t n4d_morton_encode4(const uint32_t xyzw[4])
{
    if (!xyzw)
        return 0;
    const int32_t p[4] = {(int32_t)(xyzw[0] & 0xffffu), (int32_t)(xyzw[1] & 0xffffu),
                          (int32_t)(xyzw[2] & 0xffffu), (int32_t)(xyzw[3] & 0xffffu)};
    return n4d__morton4(p);
}

void n4d_morton_decode4(uint64_t code, uint32_t xyzw[4])
{
    if (!xyzw)
        return;
    int32_t p[4];
    n4d__morton4_decode(code, p);
    for (int a = 0; a < 4; a++)
        xyzw[a] = (uint32_t)p[a];
}

/* Sums over an access sequence (or several). */
typedef struct acc_sums {
    uint64_t jumps, sum, max, seq, accesses, lines, pages;
} acc_sums;

/* Writes the statistics; a caller's smaller (older) struct gets the fields
 * it knows. */
static void stats_finish(n4d_access_stats *out, const acc_sums *a)
{
    n4d_access_stats full;
    memset(&full, 0, sizeof full);
    full.jumps = a->jumps;
    full.mean_jump = a->jumps ? (double)a->sum / (double)a->jumps : 0.0;
    full.max_jump = a->max;
    full.sequential_fraction = a->jumps ? (double)a->seq / (double)a->jumps : 1.0;
    full.locality_score = 1.0 / (1.0 + full.mean_jump);
    full.accesses = a->accesses;
    full.lines_per_access = a->accesses ? (double)a->lines / (double)a->accesses : 0.0;
    full.pages_per_access = a->accesses ? (double)a->pages / (double)a->accesses : 0.0;
    N4D__COPY_OUT(out, full);
}

static inline uint64_t absdiff(uint64_t a, uint64_t b)
{
    return a > b ? a - b : b - a;
}

#define LINE_SHIFT 3 /* 8 entries of 8 bytes: 64 bytes */
#define PAGE_SHIFT 9 /* 512 entries of 8 bytes: 4 KiB */

n4d_status n4d_access_pattern(const uint64_t *seq, size_t n, n4d_access_stats *out)
{
    if (!out || out->struct_size < sizeof(uint32_t) || (!seq && n > 0))
        return N4D_E_INVALID_ARG;
    acc_sums a = {n > 1 ? n - 1 : 0, 0, 0, 0, n, n > 0, n > 0};
    for (size_t k = 1; k < n; k++) {
        uint64_t d = absdiff(seq[k], seq[k - 1]);
        a.sum += d;
        a.max = d > a.max ? d : a.max;
        a.seq += d <= 1;
        a.lines += (seq[k] >> LINE_SHIFT) != (seq[k - 1] >> LINE_SHIFT);
        a.pages += (seq[k] >> PAGE_SHIFT) != (seq[k - 1] >> PAGE_SHIFT);
    }
    stats_finish(out, &a);
    return N4D_OK;
}

double n4d_locality_score(const uint64_t *seq, size_t n)
{
    n4d_access_stats s;
    s.struct_size = sizeof s;
    if (!seq || n4d_access_pattern(seq, n, &s) != N4D_OK)
        return 1.0;
    return s.locality_score;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static int model_threads(const n4d_model *m)
{
#ifdef _OPENMP
    int t = m->build_threads > 0 ? m->build_threads : omp_get_max_threads();
    return t > 256 ? 256 : t;
#else
    (void)m;
    return 1;
#endif
}

n4d_status n4d_model_target_jumps(const n4d_model *model, int32_t space, n4d_access_stats *out)
{
    if (!n4d__is_handle(model, N4D__MAGIC_MODEL))
        return N4D_E_INVALID_ARG;
    const n4d_model *m = model;
    n4d__model_clear_error(m);
    if (!out || out->struct_size < sizeof(uint32_t))
        return MODEL_ERR(m, N4D_E_INVALID_ARG,
                         "n4d_model_target_jumps: out is NULL or its struct_size is not set");
    if (space != N4D_INDEX_INTERNAL && space != N4D_INDEX_USER)
        return MODEL_ERR(m, N4D_E_INVALID_ARG,
                         "n4d_model_target_jumps: unknown index space %d (expected internal or user)",
                         space);
    if (!m->built)
        return MODEL_ERR(m, N4D_E_STATE, "n4d_model_target_jumps: the model is not built");
    const n4d__synapses *s = &m->syn;
    const uint64_t G = s->n_seg;
    /* user ids of a reordered model: each group is sorted again */
    const uint32_t *map = space == N4D_INDEX_USER ? m->perm : NULL;
    uint64_t longest = 1;
    if (map)
        for (uint64_t g = 0; g < G; g++)
            if (s->seg_off[g + 1] - s->seg_off[g] > longest)
                longest = s->seg_off[g + 1] - s->seg_off[g];
    const int T = model_threads(m);
    uint64_t sum = 0, jumps = 0, max = 0, sq = 0, acc = 0, lines = 0, pages = 0;
    int failed = 0;
#pragma omp parallel num_threads(T) reduction(+ : sum, jumps, sq, acc, lines, pages, failed) \
    reduction(max : max)
    {
        uint32_t *scratch = NULL;
        if (map && !(scratch = n4d__alloc(m->ctx, N4D_MEM_BUILD, longest * sizeof *scratch)))
            failed = 1;
#pragma omp for schedule(dynamic, 1024)
        for (uint64_t g = 0; g < G; g++) {
            const uint64_t lo = s->seg_off[g], hi = s->seg_off[g + 1];
            if (hi == lo || (map && !scratch))
                continue;
            const uint32_t *t = s->target + lo;
            if (map) {
                for (uint64_t j = 0; j < hi - lo; j++)
                    scratch[j] = map[t[j]];
                qsort(scratch, hi - lo, sizeof *scratch, cmp_u32);
                t = scratch;
            }
            for (uint64_t j = 1; j < hi - lo; j++) {
                uint64_t d = absdiff(t[j], t[j - 1]);
                sum += d;
                max = d > max ? d : max;
                sq += d <= 1;
                lines += (t[j] >> LINE_SHIFT) != (t[j - 1] >> LINE_SHIFT);
                pages += (t[j] >> PAGE_SHIFT) != (t[j - 1] >> PAGE_SHIFT);
            }
            jumps += hi - lo - 1;
            acc += hi - lo;
            lines++;
            pages++;
        }
        if (scratch)
            n4d__free(m->ctx, N4D_MEM_BUILD, scratch, longest * sizeof *scratch);
    }
    if (failed)
        return MODEL_ERR(m, N4D_E_NOMEM,
                         "out of memory for sorting synapse groups of up to %llu targets",
                         (unsigned long long)longest);
    const acc_sums a = {jumps, sum, max, sq, acc, lines, pages};
    stats_finish(out, &a);
    return N4D_OK;
}
