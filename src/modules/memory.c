/* Memory profiler (include/n4d/profile.h): snapshots of the context's
 * tagged accounting, differences, a text report, and the optimisations that
 * really change allocated bytes. */
#include "backend.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define IS_SIM(s) n4d__is_handle((s), N4D__MAGIC_SIM)
#define IS_MODEL(m) n4d__is_handle((m), N4D__MAGIC_MODEL)

n4d_status n4d_memory_snapshot(const n4d_context *ctx, const char *label, n4d_mem_snapshot *out)
{
    if (!n4d__is_handle(ctx, N4D__MAGIC_CONTEXT) || !out || out->struct_size < sizeof(uint32_t))
        return N4D_E_INVALID_ARG;
    n4d_memory_stats ms;
    ms.struct_size = sizeof ms;
    n4d_status st = n4d_context_memory(ctx, &ms);
    if (st)
        return st;
    n4d_mem_snapshot full;
    memset(&full, 0, sizeof full);
    if (label) {
        size_t n = strlen(label);
        if (n >= sizeof full.label)
            n = sizeof full.label - 1;
        memcpy(full.label, label, n);
    }
    for (int t = 0; t < N4D_MEM_TAG_COUNT; t++) {
        full.bytes[t] = ms.current[t];
        full.total += ms.current[t];
    }
    full.peak_total = ms.total_peak;
    N4D__COPY_OUT(out, full);
    return N4D_OK;
}

n4d_status n4d_memory_diff(const n4d_mem_snapshot *before, const n4d_mem_snapshot *after,
                           n4d_mem_diff *out)
{
    if (!before || !after || !out || out->struct_size < sizeof(uint32_t))
        return N4D_E_INVALID_ARG;
    n4d_mem_diff full;
    memset(&full, 0, sizeof full);
    for (int t = 0; t < N4D_MEM_TAG_COUNT; t++)
        full.bytes[t] = (int64_t)(after->bytes[t] - before->bytes[t]);
    full.total = (int64_t)(after->total - before->total);
    N4D__COPY_OUT(out, full);
    return N4D_OK;
}

/* ---- text -------------------------------------------------------------------- */


#define MIB (1024.0 * 1024.0)

n4d_status n4d_memory_report(const n4d_mem_snapshot *snapshots, size_t n, char *buf, size_t cap,
                             size_t *len)
{
    if (!snapshots || n == 0 || (!buf && cap))
        return N4D_E_INVALID_ARG;
    if (cap)
        buf[0] = '\0';
    n4d__textbuf t = {buf, cap, 0};
    n4d__tb_printf(&t, "%-12s", "MiB");
    for (size_t i = 0; i < n; i++) {
        char lab[24];
        if (snapshots[i].label[0])
            snprintf(lab, sizeof lab, "%.12s", snapshots[i].label);
        else
            snprintf(lab, sizeof lab, "#%zu", i);
        n4d__tb_printf(&t, " %12s", lab);
    }
    if (n >= 2)
        n4d__tb_printf(&t, " %12s", "change");
    n4d__tb_printf(&t, "\n");
    for (int row = 0; row <= N4D_MEM_TAG_COUNT; row++) {
        const bool total = row == N4D_MEM_TAG_COUNT;
        n4d__tb_printf(&t, "%-12s", total ? "total" : n4d_mem_tag_name(row));
        for (size_t i = 0; i < n; i++)
            n4d__tb_printf(&t, " %12.3f",
                      (double)(total ? snapshots[i].total : snapshots[i].bytes[row]) / MIB);
        if (n >= 2) {
            uint64_t a = total ? snapshots[0].total : snapshots[0].bytes[row];
            uint64_t b = total ? snapshots[n - 1].total : snapshots[n - 1].bytes[row];
            n4d__tb_printf(&t, " %+12.3f", ((double)b - (double)a) / MIB);
        }
        n4d__tb_printf(&t, "\n");
    }
    n4d__tb_printf(&t, "%-12s", "peak total");
    for (size_t i = 0; i < n; i++)
        n4d__tb_printf(&t, " %12.3f", (double)snapshots[i].peak_total / MIB);
    n4d__tb_printf(&t, "\n");
    if (len)
        *len = t.len;
    return N4D_OK;
}

/* ---- optimisation ------------------------------------------------------------- */

static uint64_t ctx_total(const n4d_context *ctx)
{
    return atomic_load(&((n4d_context *)ctx)->total_current);
}

static void report_begin(n4d_memory_optimization *r, const n4d_context *ctx)
{
    memset(r, 0, sizeof *r);
    r->struct_size = sizeof *r;
    r->initial_bytes = ctx_total(ctx);
}

static void report_note(n4d_memory_optimization *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void report_note(n4d_memory_optimization *r, const char *fmt, ...)
{
    size_t at = strlen(r->description);
    if (at + 3 >= sizeof r->description)
        return;
    if (at)
        r->description[at++] = ';', r->description[at++] = ' ', r->description[at] = '\0';
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->description + at, sizeof r->description - at, fmt, ap);
    va_end(ap);
}

/* Completes the report and copies it to the caller's (possibly older,
 * smaller) struct. */
static void report_end(n4d_memory_optimization *r, const n4d_context *ctx,
                       n4d_memory_optimization *out)
{
    r->final_bytes = ctx_total(ctx);
    r->bytes_saved = (int64_t)(r->initial_bytes - r->final_bytes);
    if (!r->description[0])
        report_note(r, "nothing requested");
    if (out) {
        n4d__copy_out(out, r, sizeof *r);
    }
}

/* Reallocates an array of `count` elements (capacity *cap) to exactly
 * `count`; returns the bytes released (0 if nothing to do or no memory). */
static uint64_t shrink_array(n4d_context *ctx, void **ptr, size_t *cap, size_t count, size_t elem)
{
    if (*cap <= count)
        return 0;
    void *np = NULL;
    if (count) {
        np = n4d__alloc(ctx, N4D_MEM_OTHER, count * elem);
        if (!np)
            return 0;
        memcpy(np, *ptr, count * elem);
    }
    n4d__free(ctx, N4D_MEM_OTHER, *ptr, *cap * elem);
    uint64_t saved = (uint64_t)(*cap - count) * elem;
    *ptr = np;
    *cap = count;
    return saved;
}

static bool check_flags(uint32_t flags, n4d__handle *h)
{
    if (flags & ~(uint32_t)N4D_OPTIMIZE_ALL) {
        n4d__error(h, N4D_E_INVALID_ARG, "unknown memory optimisation flags 0x%x",
                   flags & ~(uint32_t)N4D_OPTIMIZE_ALL);
        return false;
    }
    return true;
}

n4d_status n4d_optimize_memory(n4d_model *m, uint32_t flags, n4d_memory_optimization *report)
{
    if (!IS_MODEL(m))
        return N4D_E_INVALID_ARG;
    n4d__model_clear_error(m);
    if (report && report->struct_size < sizeof(uint32_t))
        return n4d__model_error(m, N4D_E_INVALID_ARG,
                                "n4d_optimize_memory: report.struct_size is not set");
    if (flags & ~(uint32_t)N4D_OPTIMIZE_ALL)
        return n4d__model_error(m, N4D_E_INVALID_ARG, "unknown memory optimisation flags 0x%x",
                                flags & ~(uint32_t)N4D_OPTIMIZE_ALL);
    n4d_memory_optimization full, *r = &full;
    report_begin(r, m->ctx);
    if (flags & N4D_OPTIMIZE_ZORDER) {
        if (m->built) {
            r->skipped |= N4D_OPTIMIZE_ZORDER;
            report_note(r, "zorder skipped: the model is built (set the layout before the build)");
        } else {
            m->layout.order = N4D_ORDER_ZORDER;
            r->applied |= N4D_OPTIMIZE_ZORDER;
            report_note(r, "zorder layout set: the build stores neurons along a 4D Morton curve "
                           "(no bytes saved: the id maps cost 8 bytes per neuron)");
        }
    }
    if (flags & N4D_OPTIMIZE_SHRINK) {
        if (m->built) { /* shared by sims from any thread: never written */
            r->skipped |= N4D_OPTIMIZE_SHRINK;
            report_note(r, "shrink skipped: the model is built and immutable (shrink it before "
                           "the build)");
        } else {
            n4d_context *ctx = m->ctx;
            uint64_t saved = 0;
            saved += shrink_array(ctx, (void **)&m->areas, &m->cap_areas, m->n_areas, sizeof *m->areas);
            saved += shrink_array(ctx, (void **)&m->pops, &m->cap_pops, m->n_pops, sizeof *m->pops);
            saved += shrink_array(ctx, (void **)&m->projs, &m->cap_projs, m->n_projs, sizeof *m->projs);
            saved += shrink_array(ctx, (void **)&m->inputs, &m->cap_inputs, m->n_inputs,
                                  sizeof *m->inputs);
            saved += shrink_array(ctx, (void **)&m->senses, &m->cap_senses, m->n_senses,
                                  sizeof *m->senses);
            r->applied |= N4D_OPTIMIZE_SHRINK;
            report_note(r, "shrink: released %llu bytes of unused description capacity",
                        (unsigned long long)saved);
        }
    }
    if (flags & N4D_OPTIMIZE_HISTORY) {
        r->skipped |= N4D_OPTIMIZE_HISTORY;
        report_note(r, "history skipped: a simulation option (use n4d_sim_optimize_memory)");
    }
    if (flags & N4D_OPTIMIZE_COMPRESS) {
        r->skipped |= N4D_OPTIMIZE_COMPRESS;
        report_note(r, "compress skipped: a simulation option (use n4d_sim_optimize_memory)");
    }
    report_end(r, m->ctx, report);
    return N4D_OK;
}

n4d_status n4d_sim_optimize_memory(n4d_sim *sim, uint32_t flags, n4d_memory_optimization *report)
{
    if (!IS_SIM(sim))
        return N4D_E_INVALID_ARG;
    n4d__clear_error(&sim->hdr);
    if (report && report->struct_size < sizeof(uint32_t))
        return n4d__error(&sim->hdr, N4D_E_INVALID_ARG,
                          "n4d_sim_optimize_memory: report.struct_size is not set");
    if (!check_flags(flags, &sim->hdr))
        return N4D_E_INVALID_ARG;
    n4d_memory_optimization full, *r = &full;
    report_begin(r, sim->ctx);
    n4d_context *ctx = sim->ctx;
    if (flags & N4D_OPTIMIZE_ZORDER) {
        r->skipped |= N4D_OPTIMIZE_ZORDER;
        report_note(r, "zorder skipped: the model is built (set the layout before the build)");
    }
    if (flags & N4D_OPTIMIZE_SHRINK) {
        uint64_t saved = 0;
        const size_t count = sim->rec_count, cap = sim->rec_cap;
        if (cap > count) {
            uint64_t *ns = NULL;
            uint32_t *ni = NULL;
            if (count) {
                ns = n4d__alloc(ctx, N4D_MEM_RECORDING, count * sizeof *ns);
                ni = n4d__alloc(ctx, N4D_MEM_RECORDING, count * sizeof *ni);
            }
            if (count && (!ns || !ni)) {
                n4d__free(ctx, N4D_MEM_RECORDING, ns, count * sizeof *ns);
                n4d__free(ctx, N4D_MEM_RECORDING, ni, count * sizeof *ni);
                r->skipped |= N4D_OPTIMIZE_SHRINK;
                report_note(r, "shrink skipped: no memory for the smaller copy of %zu recorded spikes",
                            count);
            } else {
                if (count) {
                    memcpy(ns, sim->rec_steps, count * sizeof *ns);
                    memcpy(ni, sim->rec_ids, count * sizeof *ni);
                }
                n4d__free(ctx, N4D_MEM_RECORDING, sim->rec_steps, cap * sizeof(uint64_t));
                n4d__free(ctx, N4D_MEM_RECORDING, sim->rec_ids, cap * sizeof(uint32_t));
                sim->rec_steps = ns;
                sim->rec_ids = ni;
                sim->rec_cap = count;
                saved = (uint64_t)(cap - count) * (sizeof(uint64_t) + sizeof(uint32_t));
            }
        }
        if (!(r->skipped & N4D_OPTIMIZE_SHRINK)) {
            r->applied |= N4D_OPTIMIZE_SHRINK;
            report_note(r, "shrink: released %llu bytes of spike recording capacity",
                        (unsigned long long)saved);
        }
    }
    if (flags & N4D_OPTIMIZE_COMPRESS) {
        n4d_compress_stats cs = {.struct_size = sizeof cs};
        if (n4d_sim_compression_stats(sim, &cs) == N4D_OK && cs.blocks) {
            r->applied |= N4D_OPTIMIZE_COMPRESS;
            report_note(r, "compress: inactive-neuron compression was already on");
        } else if (n4d_sim_compression_enable(sim, NULL) == N4D_OK) {
            r->applied |= N4D_OPTIMIZE_COMPRESS;
            report_note(r, "compress: inactive-neuron compression enabled (silent blocks are "
                           "compressed while the sim runs)");
        } else {
            r->skipped |= N4D_OPTIMIZE_COMPRESS;
            report_note(r, "compress skipped: %s", sim->hdr.error);
            n4d__clear_error(&sim->hdr);
        }
    }
    if (flags & N4D_OPTIMIZE_HISTORY) {
        const uint64_t bytes = (uint64_t)sim->hist_steps * sim->hist_words * sizeof(uint64_t);
        n4d__free(ctx, N4D_MEM_RECORDING, sim->hist, (size_t)bytes);
        sim->hist = NULL;
        sim->hist_steps = 0;
        r->applied |= N4D_OPTIMIZE_HISTORY;
        report_note(r, "history: released the spike-history window (%llu bytes)",
                    (unsigned long long)bytes);
    }
    report_end(r, ctx, report);
    return N4D_OK;
}
