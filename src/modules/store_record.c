/* Recording to HDF5 while running: spikes through the sim's observer hook
 * (SONATA /spikes/<population>/{timestamps, node_ids}, sorting by_time) and
 * optional state samples through the sampler hook (/report/<population>/
 * {data, mapping}). Buffers are bounded; datasets are chunked and extended
 * as the run goes. The file is written beside its final path and renamed
 * into place when the recording is closed. */
#include "store_h5.h"

#if N4D_HAVE_HDF5

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* State variables: the registry's one table of state names
 * (n4d__state_name), by index. */
#define MAX_VARS N4D__STATE_NAMES_MAX
#define var_names(k) n4d__state_name(k)
/* The unit of state k as population model nm keeps it (a variable the
 * model lacks is recorded as NaN: the registry's unit of the name). */
static const char *unit_of(const n4d__neuron_model *nm, int32_t k)
{
    const char *u = n4d__state_unit_of(nm, k);
    return u ? u : n4d__state_unit(k);
}

typedef struct rec_pop {
    uint64_t first, n;   /* user ids */
    hid_t ts, ids;       /* created on first spike */
    uint64_t written, nbuf;
    double *buf_t;
    uint64_t *buf_id;
    /* report */
    uint64_t rep_lo, rep_n; /* range of the recorder's sorted report ids */
    hid_t data[MAX_VARS];
} rec_pop;

typedef struct recorder {
    n4d_context *ctx;
    n4d_sim *sim;
    /* n4d_sim_record_close: where the detach hook reports the finish */
    n4d__handle *close_err;
    n4d_status *close_out;
    char *path;
    size_t path_len;
    n4d__h5_out out;
    n4d__h5_layout L;
    uint64_t cap;       /* spikes buffered per population */
    size_t n_pops;
    rec_pop *pops;
    /* report */
    uint64_t n_rep;
    uint64_t *rep_ids;  /* sorted unique user ids (rep_alloc allocated) */
    uint64_t rep_alloc;
    int n_vars, vars[MAX_VARS];
    uint32_t every;
    uint64_t first_sample_step;
    uint64_t rows_cap, rows_buf, rows_written;
    float *rows;        /* rows_cap x n_rep x n_vars: [row][var][id] */
    /* weight report: n_w synapses of projection wproj, wrows_cap rows buffered */
    char *wproj;
    size_t wproj_len;
    uint64_t n_w, wrows_cap, wrows_buf, wrows_written;
    float *wrows;
    hid_t wdata;
    bool failed;
} recorder;

static void rec_free(recorder *r)
{
    n4d_context *ctx = r->ctx;
    for (size_t i = 0; i < r->n_pops && r->pops; i++) {
        rec_pop *p = &r->pops[i];
        n4d__h5_close(p->ts);
        n4d__h5_close(p->ids);
        for (int v = 0; v < MAX_VARS; v++)
            n4d__h5_close(p->data[v]);
        n4d__free(ctx, N4D_MEM_RECORDING, p->buf_t, r->cap * sizeof(double));
        n4d__free(ctx, N4D_MEM_RECORDING, p->buf_id, r->cap * sizeof(uint64_t));
    }
    n4d__free(ctx, N4D_MEM_RECORDING, r->pops, (r->n_pops ? r->n_pops : 1) * sizeof *r->pops);
    n4d__free(ctx, N4D_MEM_RECORDING, r->rep_ids, r->rep_alloc * sizeof(uint64_t));
    n4d__free(ctx, N4D_MEM_RECORDING, r->rows,
              (r->rows_cap ? r->rows_cap : 1) * (r->n_rep ? r->n_rep : 1) *
                  (size_t)(r->n_vars ? r->n_vars : 1) * sizeof(float));
    n4d__h5_close(r->wdata);
    n4d__free(ctx, N4D_MEM_RECORDING, r->wrows,
              (r->wrows_cap ? r->wrows_cap : 1) * (r->n_w ? r->n_w : 1) * sizeof(float));
    n4d__free(ctx, N4D_MEM_OTHER, r->wproj, r->wproj ? r->wproj_len + 1 : 0);
    n4d__free(ctx, N4D_MEM_OTHER, r->path, r->path_len + 1);
    n4d__free(ctx, N4D_MEM_OTHER, r, sizeof *r);
}

/* Writes the buffered spikes of population p. */
static n4d_status flush_pop(n4d__h5 *h, recorder *r, size_t pi)
{
    rec_pop *p = &r->pops[pi];
    if (p->nbuf == 0)
        return N4D_OK;
    const uint64_t rows = p->written + p->nbuf;
    hsize_t dim = rows;
    if (H5Dset_extent(p->ts, &dim) < 0 || H5Dset_extent(p->ids, &dim) < 0)
        return n4d__h5_fail(h, N4D_E_IO, "/spikes", true, "cannot extend the spike datasets of "
                            "population \"%s\"", r->sim->model->pops[pi].name);
    n4d_status st = n4d__h5_write_rows(h, p->ts, "timestamps", N4D__T_F64, p->written, p->nbuf,
                                       p->buf_t);
    if (!st)
        st = n4d__h5_write_rows(h, p->ids, "node_ids", N4D__T_U64, p->written, p->nbuf, p->buf_id);
    if (st)
        return st;
    p->written = rows;
    p->nbuf = 0;
    return N4D_OK;
}

static n4d_status open_pop_spikes(n4d__h5 *h, recorder *r, size_t pi)
{
    rec_pop *p = &r->pops[pi];
    const char *name = r->sim->model->pops[pi].name;
    char esc[800], gname[900];
    n4d__h5_escape(name, esc, sizeof esc);
    snprintf(gname, sizeof gname, "/spikes/%s", esc);
    n4d_status st;
    hid_t g = n4d__h5_create_group(h, r->out.file, gname, &st);
    if (g < 0)
        return st;
    /* SONATA: sorting is an enum attribute (none, by_id, by_time) */
    hid_t et = H5Tenum_create(H5T_NATIVE_UINT8);
    uint8_t vals[3] = {0, 1, 2}, sorting = 2;
    herr_t e = et < 0 ? -1 : 0;
    if (e >= 0)
        e = H5Tenum_insert(et, "none", &vals[0]);
    if (e >= 0)
        e = H5Tenum_insert(et, "by_id", &vals[1]);
    if (e >= 0)
        e = H5Tenum_insert(et, "by_time", &vals[2]);
    hid_t sp = H5Screate(H5S_SCALAR), a = -1;
    if (e >= 0 && sp >= 0)
        a = H5Acreate2(g, "sorting", et, sp, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0 || H5Awrite(a, et, &sorting) < 0)
        st = n4d__h5_fail(h, N4D_E_IO, gname, true, "cannot write the sorting attribute");
    n4d__h5_close(a);
    n4d__h5_close(sp);
    n4d__h5_close(et);
    const uint64_t first = p->first;
    if (!st)
        st = n4d__h5_attr_write(h, g, gname, "n4d_first_id", N4D__T_U64, 1, &first);
    n4d__h5_layout L = r->L;
    L.extendible = true;
    L.chunk = r->cap;
    if (!st)
        p->ts = n4d__h5_create_dset(h, g, "timestamps", N4D__T_F64, 0, 0, &L, &st);
    if (!st)
        p->ids = n4d__h5_create_dset(h, g, "node_ids", N4D__T_U64, 0, 0, &L, &st);
    if (!st)
        st = n4d__h5_attr_write_text(h, p->ts, gname, "units", "ms");
    H5Gclose(g);
    return st;
}

/* Observer: appends the step's spikes (user ids, ascending). */
static n4d_status on_spikes(void *ud, n4d_sim *sim, uint64_t step, const uint32_t *ids,
                            uint64_t count)
{
    recorder *r = ud;
    if (r->failed)
        return n4d__error(&sim->hdr, N4D_E_IO, "%s: the recording failed earlier", r->path);
    n4d_status st = N4D_OK;
    const double t = (double)step * sim->dt;
    size_t pi = 0;
    for (uint64_t k = 0; k < count && !st; k++) {
        uint64_t id = ids[k];
        while (pi < r->n_pops && id >= r->pops[pi].first + r->pops[pi].n)
            pi++;
        if (pi == r->n_pops)
            break;
        rec_pop *p = &r->pops[pi];
        if (!p->buf_t) {
            p->buf_t = n4d__alloc(r->ctx, N4D_MEM_RECORDING, r->cap * sizeof(double));
            p->buf_id = n4d__alloc(r->ctx, N4D_MEM_RECORDING, r->cap * sizeof(uint64_t));
            if (!p->buf_t || !p->buf_id) {
                n4d__free(r->ctx, N4D_MEM_RECORDING, p->buf_t, r->cap * sizeof(double));
                n4d__free(r->ctx, N4D_MEM_RECORDING, p->buf_id, r->cap * sizeof(uint64_t));
                p->buf_t = NULL;
                p->buf_id = NULL;
                st = n4d__error(&sim->hdr, N4D_E_NOMEM, "%s: /spikes: out of memory", r->path);
                break;
            }
        }
        p->buf_t[p->nbuf] = t;
        p->buf_id[p->nbuf] = id - p->first;
        if (++p->nbuf == r->cap) {
            n4d__h5 h;
            n4d__h5_begin(&h, r->ctx, &sim->hdr, r->path);
            st = flush_pop(&h, r, pi);
            n4d__h5_end(&h);
        }
    }
    if (st)
        r->failed = true;
    return st;
}

/* ---- state report ------------------------------------------------------------------ */

static n4d_status flush_rows(n4d__h5 *h, recorder *r)
{
    if (r->rows_buf == 0)
        return N4D_OK;
    const uint64_t R = r->rows_buf, rows = r->rows_written + R;
    n4d_status st = N4D_OK;
    float *tmp = NULL;
    uint64_t maxn = 0;
    for (size_t pi = 0; pi < r->n_pops; pi++)
        maxn = r->pops[pi].rep_n > maxn ? r->pops[pi].rep_n : maxn;
    const uint64_t tmp_n = R * maxn > 0 ? R * maxn : 1;
    tmp = n4d__alloc(r->ctx, N4D_MEM_RECORDING, tmp_n * sizeof(float));
    if (!tmp)
        return n4d__h5_fail(h, N4D_E_NOMEM, "/report", false, "out of memory");
    for (size_t pi = 0; pi < r->n_pops && !st; pi++) {
        rec_pop *p = &r->pops[pi];
        if (!p->rep_n)
            continue;
        for (int v = 0; v < r->n_vars && !st; v++) {
            for (uint64_t row = 0; row < R; row++)
                memcpy(tmp + row * p->rep_n,
                       r->rows + (row * (uint64_t)r->n_vars + (uint64_t)v) * r->n_rep + p->rep_lo,
                       p->rep_n * sizeof(float));
            hsize_t dims[2] = {rows, p->rep_n};
            if (H5Dset_extent(p->data[v], dims) < 0)
                st = n4d__h5_fail(h, N4D_E_IO, "/report", true, "cannot extend the report of "
                                  "population \"%s\"", r->sim->model->pops[pi].name);
            else
                st = n4d__h5_write_rows(h, p->data[v], "data", N4D__T_F32, r->rows_written, R, tmp);
        }
    }
    n4d__free(r->ctx, N4D_MEM_RECORDING, tmp, tmp_n * sizeof(float));
    if (!st) {
        r->rows_written = rows;
        r->rows_buf = 0;
    }
    return st;
}

/* ---- weight report ----------------------------------------------------------------- */

#define WREP "/report/weights/"

static void wrep_group(const recorder *r, char *out, size_t cap)
{
    char esc[800];
    n4d__h5_escape(r->wproj, esc, sizeof esc);
    snprintf(out, cap, WREP "%s", esc);
}

static n4d_status flush_wrows(n4d__h5 *h, recorder *r)
{
    if (r->wrows_buf == 0)
        return N4D_OK;
    const uint64_t rows = r->wrows_written + r->wrows_buf;
    hsize_t dims[2] = {rows, r->n_w};
    if (H5Dset_extent(r->wdata, dims) < 0)
        return n4d__h5_fail(h, N4D_E_IO, "/report/weights", true,
                            "cannot extend the weight report of \"%s\"", r->wproj);
    n4d_status st =
        n4d__h5_write_rows(h, r->wdata, "data", N4D__T_F32, r->wrows_written, r->wrows_buf, r->wrows);
    if (!st) {
        r->wrows_written = rows;
        r->wrows_buf = 0;
    }
    return st;
}

/* One row of the projection's weights, as n4d_sim_get_weights gives them. */
static n4d_status sample_weights(recorder *r, n4d_sim *sim)
{
    uint64_t n = 0;
    n4d_status st = n4d_sim_get_weights(sim, r->wproj, r->n_w, NULL, NULL,
                                        r->wrows + r->wrows_buf * r->n_w, &n);
    if (st)
        return st;
    if (n != r->n_w)
        return n4d__error(&sim->hdr, N4D_E_INTERNAL, "%s: weight report: %llu synapses of %llu",
                          r->path, (unsigned long long)n, (unsigned long long)r->n_w);
    if (++r->wrows_buf < r->wrows_cap)
        return N4D_OK;
    n4d__h5 h;
    n4d__h5_begin(&h, r->ctx, &sim->hdr, r->path);
    st = flush_wrows(&h, r);
    n4d__h5_end(&h);
    return st;
}

/* /report/weights/<projection>: data, and the mapping of its columns. */
static n4d_status open_weight_report(n4d__h5 *h, recorder *r)
{
    char gname[900];
    wrep_group(r, gname, sizeof gname);
    n4d_status st = N4D_OK;
    hid_t g = n4d__h5_create_group(h, r->out.file, gname, &st);
    if (g < 0)
        return st;
    n4d__h5_layout L = r->L;
    L.extendible = true;
    L.chunk = r->wrows_cap;
    r->wdata = n4d__h5_create_dset(h, g, "data", N4D__T_F32, 0, r->n_w, &L, &st);
    if (!st)
        st = n4d__h5_attr_write_text(h, r->wdata, gname, "variable_name", "weight");
    if (!st)
        st = n4d__h5_attr_write_text(h, r->wdata, gname, "units", "input unit of the target");
    const uint64_t n = r->n_w ? r->n_w : 1;
    uint32_t *ids = n4d__alloc(r->ctx, N4D_MEM_RECORDING, 2 * n * sizeof(uint32_t));
    if (!ids && !st)
        st = n4d__h5_fail(h, N4D_E_NOMEM, gname, false, "out of memory");
    uint64_t cnt = 0;
    if (!st && (st = n4d_sim_get_weights(r->sim, r->wproj, r->n_w, ids, ids + n, NULL, &cnt)))
        st = n4d__h5_fail(h, st, gname, false, "%s", n4d_last_error(r->sim));
    n4d__h5_layout Lf = r->L;
    if (!st)
        st = n4d__h5_write_dset(h, g, "mapping/source_ids", N4D__T_U32, r->n_w, 0, &Lf, ids);
    if (!st)
        st = n4d__h5_write_dset(h, g, "mapping/target_ids", N4D__T_U32, r->n_w, 0, &Lf, ids + n);
    n4d__free(r->ctx, N4D_MEM_RECORDING, ids, ids ? 2 * n * sizeof(uint32_t) : 0);
    H5Gclose(g);
    return st;
}

/* Sampler: one row of every chosen variable of every chosen neuron, and
 * one of the weights. */
static n4d_status on_sample(void *ud, n4d_sim *sim)
{
    recorder *r = ud;
    if (r->failed)
        return n4d__error(&sim->hdr, N4D_E_IO, "%s: the recording failed earlier", r->path);
    if (r->n_w) {
        n4d_status st = sample_weights(r, sim);
        if (st) {
            r->failed = true;
            return st;
        }
    }
    if (!r->n_rep)
        return N4D_OK;
    /* the state arrays only: the sampler never reads the delay ring */
    n4d_status hst = n4d__sim_to_host(sim, N4D__HOST_READ, N4D__SYNC_STATE);
    if (hst)
        return hst;
    const n4d_model *m = sim->model;
    float *row = r->rows + r->rows_buf * (uint64_t)r->n_vars * r->n_rep;
    size_t pi = 0;
    for (uint64_t k = 0; k < r->n_rep; k++) {
        uint64_t id = r->rep_ids[k];
        while (m->pops[pi].first + m->pops[pi].n <= id)
            pi++;
        const n4d__neuron_model *nm = m->pops[pi].nm;
        uint64_t i = n4d__to_internal(m, id);
        for (int v = 0; v < r->n_vars; v++) {
            const int32_t slot = n4d__state_slot(nm, r->vars[v]);
            float x = NAN; /* the model lacks the variable */
            if (slot == N4D__SLOT_V)
                x = sim->v[i];
            else if (slot >= N4D__SLOT_X && slot < N4D__SLOT_X + N4D__NX)
                x = sim->x[slot - N4D__SLOT_X][i];
            else if (slot == N4D__SLOT_IEXT)
                x = sim->iext[i];
            else if (slot == N4D__SLOT_REF)
                x = (float)sim->ref[i];
            row[(uint64_t)v * r->n_rep + k] = x;
        }
    }
    if (++r->rows_buf < r->rows_cap)
        return N4D_OK;
    n4d__h5 h;
    n4d__h5_begin(&h, r->ctx, &sim->hdr, r->path);
    n4d_status st = flush_rows(&h, r);
    n4d__h5_end(&h);
    if (st)
        r->failed = true;
    return st;
}

static n4d_status open_report(n4d__h5 *h, recorder *r)
{
    const n4d_model *m = r->sim->model;
    n4d_status st = N4D_OK;
    for (size_t pi = 0; pi < r->n_pops && !st; pi++) {
        rec_pop *p = &r->pops[pi];
        if (!p->rep_n)
            continue;
        char esc[800], gname[900], path[1000];
        n4d__h5_escape(m->pops[pi].name, esc, sizeof esc);
        snprintf(gname, sizeof gname, "/report/%s", esc);
        hid_t g = n4d__h5_create_group(h, r->out.file, gname, &st);
        if (g < 0)
            break;
        n4d__h5_layout L = r->L;
        L.extendible = true;
        L.chunk = r->rows_cap;
        for (int v = 0; v < r->n_vars && !st; v++) {
            if (v == 0)
                snprintf(path, sizeof path, "data");
            else
                snprintf(path, sizeof path, "%s/data", var_names(r->vars[v]));
            p->data[v] = n4d__h5_create_dset(h, g, path, N4D__T_F32, 0, p->rep_n, &L, &st);
            if (!st)
                st = n4d__h5_attr_write_text(h, p->data[v], path, "variable_name",
                                            var_names(r->vars[v]));
            if (!st)
                st = n4d__h5_attr_write_text(h, p->data[v], path, "units",
                                            unit_of(m->pops[pi].nm, r->vars[v]));
        }
        /* mapping: node ids local to the population, one element per node */
        uint64_t *buf = n4d__alloc(r->ctx, N4D_MEM_RECORDING, (p->rep_n + 1) * sizeof(uint64_t));
        n4d__h5_layout Lf = r->L;
        if (!buf && !st)
            st = n4d__h5_fail(h, N4D_E_NOMEM, gname, false, "out of memory");
        if (!st) {
            for (uint64_t k = 0; k < p->rep_n; k++)
                buf[k] = r->rep_ids[p->rep_lo + k] - p->first;
            st = n4d__h5_write_dset(h, g, "mapping/node_ids", N4D__T_U64, p->rep_n, 0, &Lf, buf);
        }
        if (!st) {
            for (uint64_t k = 0; k <= p->rep_n; k++)
                buf[k] = k;
            st = n4d__h5_write_dset(h, g, "mapping/index_pointers", N4D__T_U64, p->rep_n + 1, 0,
                                    &Lf, buf);
        }
        if (!st) {
            memset(buf, 0, p->rep_n * sizeof(uint64_t));
            st = n4d__h5_write_dset(h, g, "mapping/element_ids", N4D__T_U64, p->rep_n, 0, &Lf, buf);
        }
        n4d__free(r->ctx, N4D_MEM_RECORDING, buf, (p->rep_n + 1) * sizeof(uint64_t));
        H5Gclose(g);
    }
    return st;
}

/* Writes mapping/time of every report: (start, stop, step) in ms. */
static n4d_status write_report_times(n4d__h5 *h, recorder *r)
{
    const n4d_model *m = r->sim->model;
    const double dt = r->sim->dt;
    const double t[3] = {(double)r->first_sample_step * dt,
                         (double)(r->first_sample_step + r->rows_written * r->every) * dt,
                         (double)r->every * dt};
    n4d_status st = N4D_OK;
    if (r->n_w) {
        const double tw[3] = {t[0], (double)(r->first_sample_step + r->wrows_written * r->every) * dt,
                              t[2]};
        char gname[1000];
        wrep_group(r, gname, sizeof gname - 8);
        strcat(gname, "/mapping");
        hid_t g = n4d__h5_open_group(h, r->out.file, gname, &st);
        if (g < 0)
            return st;
        n4d__h5_layout L;
        memset(&L, 0, sizeof L);
        L.contiguous = true;
        st = n4d__h5_write_dset(h, g, "time", N4D__T_F64, 3, 0, &L, tw);
        if (!st)
            st = n4d__h5_attr_write_text(h, g, gname, "time_units", "ms");
        H5Gclose(g);
    }
    for (size_t pi = 0; pi < r->n_pops && !st; pi++) {
        if (!r->pops[pi].rep_n)
            continue;
        char esc[800], gname[900];
        n4d__h5_escape(m->pops[pi].name, esc, sizeof esc);
        snprintf(gname, sizeof gname, "/report/%s/mapping", esc);
        hid_t g = n4d__h5_open_group(h, r->out.file, gname, &st);
        if (g < 0)
            break;
        n4d__h5_layout L;
        memset(&L, 0, sizeof L);
        L.contiguous = true;
        st = n4d__h5_write_dset(h, g, "time", N4D__T_F64, 3, 0, &L, t);
        if (!st)
            st = n4d__h5_attr_write_text(h, g, gname, "time_units", "ms");
        H5Gclose(g);
    }
    return st;
}

/* Flushes everything and moves the file into place; frees r. */
static n4d_status rec_finish(recorder *r, n4d__handle *err)
{
    n4d__h5 h;
    n4d__h5_begin(&h, r->ctx, err, r->path);
    n4d_status st = r->failed ? n4d__h5_fail(&h, N4D_E_IO, NULL, false,
                                             "the recording failed earlier; the file is not kept")
                              : N4D_OK;
    for (size_t pi = 0; pi < r->n_pops && !st; pi++)
        if (r->pops[pi].ts >= 0)
            st = flush_pop(&h, r, pi);
    if (!st && r->n_rep)
        st = flush_rows(&h, r);
    if (!st && r->n_w)
        st = flush_wrows(&h, r);
    if (!st && (r->n_rep || r->n_w))
        st = write_report_times(&h, r);
    if (!st) {
        uint64_t total = r->sim->total_spikes;
        hid_t g = n4d__h5_open_group(&h, r->out.file, "/spikes", &st);
        if (g >= 0) {
            st = n4d__h5_attr_write(&h, g, "/spikes", "n4d_total_spikes_of_sim", N4D__T_U64, 1,
                                    &total);
            H5Gclose(g);
        }
    }
    /* close datasets before the file */
    for (size_t pi = 0; pi < r->n_pops; pi++) {
        rec_pop *p = &r->pops[pi];
        n4d__h5_close(p->ts);
        n4d__h5_close(p->ids);
        p->ts = p->ids = H5I_INVALID_HID;
        for (int v = 0; v < MAX_VARS; v++) {
            n4d__h5_close(p->data[v]);
            p->data[v] = H5I_INVALID_HID;
        }
    }
    n4d__h5_close(r->wdata);
    r->wdata = H5I_INVALID_HID;
    if (st)
        n4d__h5_out_abort(&h, &r->out);
    else
        st = n4d__h5_out_commit(&h, &r->out);
    n4d__h5_end(&h);
    rec_free(r);
    return st;
}

static const n4d__hook_ops record_hooks;

/* Detached (record_close, or the sim destroyed): finishes the file. */
static void on_detach(void *ud, n4d_sim *sim)
{
    (void)sim;
    recorder *r = ud;
    n4d_status *out = r->close_out;
    n4d_status st = rec_finish(r, r->close_err); /* frees r */
    if (out)
        *out = st;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Parses "v,ge" into variable indices. */
static n4d_status parse_vars(n4d_sim *sim, const char *list, recorder *r)
{
    const char *p = list ? list : "v";
    r->n_vars = 0;
    while (*p) {
        size_t len = strcspn(p, ",");
        int found = -1;
        for (int v = 0; v < n4d__state_name_count(); v++)
            if (strlen(var_names(v)) == len && strncmp(p, var_names(v), len) == 0)
                found = v;
        if (found < 0) {
            char names[512];
            return n4d__error(&sim->hdr, N4D_E_INVALID_ARG,
                              "record options: unknown state variable \"%.*s\" in \"%s\" (expected "
                              "one of: %s)",
                              (int)len, p, list, n4d__state_names(names, sizeof names));
        }
        for (int v = 0; v < r->n_vars; v++)
            if (r->vars[v] == found)
                return n4d__error(&sim->hdr, N4D_E_INVALID_ARG,
                                  "record options: variable \"%s\" is listed twice",
                                  var_names(found));
        r->vars[r->n_vars++] = found;
        p += len;
        if (*p == ',')
            p++;
    }
    if (r->n_vars == 0)
        return n4d__error(&sim->hdr, N4D_E_INVALID_ARG, "record options: no state variable given");
    return N4D_OK;
}

static const n4d__hook_ops record_hooks = {
    .name = "recorder",
    .on_step = on_spikes,
    .at_sync = on_sample,
    .on_detach = on_detach,
};

n4d_status n4d_sim_record_open(n4d_sim *sim, const char *path, const n4d_record_options *opt)
{
    if (!n4d__is_handle(sim, N4D__MAGIC_SIM))
        return N4D_E_INVALID_ARG;
    n4d__clear_error(&sim->hdr);
    if (!path)
        return n4d__error(&sim->hdr, N4D_E_INVALID_ARG, "n4d_sim_record_open: path is NULL");
    if (n4d__sim_hook_data(sim, &record_hooks))
        return n4d__error(&sim->hdr, N4D_E_STATE,
                          "n4d_sim_record_open: the simulation already has a recorder");
    n4d_record_options o;
    n4d_record_options_init(&o);
    if (opt) {
        if (opt->struct_size < sizeof(uint32_t))
            return n4d__error(&sim->hdr, N4D_E_INVALID_ARG,
                              "record options: struct_size is not set");
        N4D__COPY_IN(o, opt);
    }
    if (o.buffer_spikes < 1 || o.buffer_spikes > ((uint64_t)1 << 24))
        return n4d__error(&sim->hdr, N4D_E_INVALID_ARG,
                          "record options: buffer_spikes %llu is not in 1..2^24",
                          (unsigned long long)o.buffer_spikes);
    if (o.n_report_ids && !o.report_ids)
        return n4d__error(&sim->hdr, N4D_E_INVALID_ARG, "record options: report_ids is NULL");
    if ((o.n_report_ids || o.report_weights) && o.report_every < 1)
        return n4d__error(&sim->hdr, N4D_E_INVALID_ARG, "record options: report_every is 0");
    uint64_t n_w = 0;
    if (o.report_weights) {
        n4d_status wst = n4d_sim_get_weights(sim, o.report_weights, 0, NULL, NULL, NULL, &n_w);
        if (wst == N4D_E_CONFIG)
            return n4d__error(&sim->hdr, N4D_E_INVALID_ARG,
                              "record options: report_weights: no projection or synapse class "
                              "\"%s\"",
                              o.report_weights);
        if (wst)
            return wst;
        if (!n_w)
            return n4d__error(&sim->hdr, N4D_E_INVALID_ARG,
                              "record options: report_weights: projection \"%s\" has no synapses",
                              o.report_weights);
        for (size_t pi = 0; pi < sim->model->n_pops && o.n_report_ids; pi++)
            if (strcmp(sim->model->pops[pi].name, "weights") == 0)
                return n4d__error(&sim->hdr, N4D_E_INVALID_ARG,
                                  "record options: a state report of population \"weights\" and a "
                                  "weight report would share /report/weights");
    }
    const n4d_model *m = sim->model;
    if (n4d__distributed(m) && (o.n_report_ids || o.report_weights))
        return n4d__error(&sim->hdr, N4D_E_UNSUPPORTED,
                          "record options: state and weight reports of a distributed sim (rank "
                          "%d of %d) are not supported yet; spikes are (every rank has them all)",
                          m->comm.rank, m->comm.size);
    for (uint64_t k = 0; k < o.n_report_ids; k++)
        if (o.report_ids[k] >= m->n_neurons)
            return n4d__error(&sim->hdr, N4D_E_RANGE,
                              "record options: neuron %llu does not exist (%llu neurons)",
                              (unsigned long long)o.report_ids[k],
                              (unsigned long long)m->n_neurons);
    n4d_context *ctx = sim->ctx;
    recorder *r = n4d__calloc(ctx, N4D_MEM_OTHER, 1, sizeof *r);
    if (!r)
        return n4d__error(&sim->hdr, N4D_E_NOMEM, "n4d_sim_record_open: out of memory");
    r->ctx = ctx;
    r->sim = sim;
    r->cap = o.buffer_spikes;
    r->out.file = H5I_INVALID_HID;
    r->wdata = H5I_INVALID_HID;
    r->path_len = strlen(path);
    r->path = n4d__alloc(ctx, N4D_MEM_OTHER, r->path_len + 1);
    r->n_pops = m->n_pops;
    r->pops = n4d__calloc(ctx, N4D_MEM_RECORDING, r->n_pops ? r->n_pops : 1, sizeof *r->pops);
    n4d_status st = N4D_OK;
    if (!r->path || !r->pops) {
        rec_free(r);
        return n4d__error(&sim->hdr, N4D_E_NOMEM, "n4d_sim_record_open: out of memory");
    }
    memcpy(r->path, path, r->path_len + 1);
    r->every = o.report_every ? o.report_every : 1; /* 0 is refused above when sampled */
    r->first_sample_step = (sim->step + r->every - 1) / r->every * r->every;
    if (n_w) {
        r->n_w = n_w;
        r->wproj_len = strlen(o.report_weights);
        r->wproj = n4d__alloc(ctx, N4D_MEM_OTHER, r->wproj_len + 1);
        r->wrows_cap = o.buffer_spikes / n_w ? o.buffer_spikes / n_w : 1;
        r->wrows = n4d__alloc(ctx, N4D_MEM_RECORDING, r->wrows_cap * n_w * sizeof(float));
        if (!r->wproj || !r->wrows) {
            rec_free(r);
            return n4d__error(&sim->hdr, N4D_E_NOMEM, "n4d_sim_record_open: out of memory");
        }
        memcpy(r->wproj, o.report_weights, r->wproj_len + 1);
    }
    for (size_t pi = 0; pi < r->n_pops; pi++) {
        rec_pop *p = &r->pops[pi];
        p->first = m->pops[pi].first;
        p->n = m->pops[pi].n;
        p->ts = p->ids = H5I_INVALID_HID;
        for (int v = 0; v < MAX_VARS; v++)
            p->data[v] = H5I_INVALID_HID;
    }
    if (o.n_report_ids) {
        if ((st = parse_vars(sim, o.report_vars, r))) {
            rec_free(r);
            return st;
        }
        r->rep_ids = n4d__alloc(ctx, N4D_MEM_RECORDING, o.n_report_ids * sizeof(uint64_t));
        if (!r->rep_ids) {
            rec_free(r);
            return n4d__error(&sim->hdr, N4D_E_NOMEM, "n4d_sim_record_open: out of memory");
        }
        r->rep_alloc = o.n_report_ids;
        memcpy(r->rep_ids, o.report_ids, o.n_report_ids * sizeof(uint64_t));
        qsort(r->rep_ids, o.n_report_ids, sizeof(uint64_t), cmp_u64);
        uint64_t k = 0;
        for (uint64_t i = 0; i < o.n_report_ids; i++)
            if (k == 0 || r->rep_ids[i] != r->rep_ids[k - 1])
                r->rep_ids[k++] = r->rep_ids[i];
        r->n_rep = k;
        size_t pi = 0;
        for (uint64_t i = 0; i < k; i++) {
            while (r->pops[pi].first + r->pops[pi].n <= r->rep_ids[i])
                pi++;
            if (r->pops[pi].rep_n == 0)
                r->pops[pi].rep_lo = i;
            r->pops[pi].rep_n++;
        }
        uint64_t per_row = r->n_rep * (uint64_t)r->n_vars;
        r->rows_cap = o.buffer_spikes / per_row ? o.buffer_spikes / per_row : 1;
        r->rows = n4d__alloc(ctx, N4D_MEM_RECORDING, r->rows_cap * per_row * sizeof(float));
        if (!r->rows) {
            rec_free(r);
            return n4d__error(&sim->hdr, N4D_E_NOMEM, "n4d_sim_record_open: out of memory");
        }
    }
    n4d__h5 h;
    n4d__h5_begin(&h, ctx, &sim->hdr, path);
    n4d_save_options want, so;
    n4d_save_options_init(&want);
    want.compression = o.compression;
    want.gzip_level = o.gzip_level;
    want.shuffle = o.shuffle;
    want.chunk_size = o.buffer_spikes;
    if (!(st = n4d__h5_save_options(&h, &want, &so)))
        st = n4d__h5_out_create(&h, &r->out, false);
    n4d__h5_layout_from(&so, &r->L);
    if (!st) {
        const uint32_t magic = N4D__SONATA_MAGIC, version[2] = {0, 1};
        hid_t g = n4d__h5_create_group(&h, r->out.file, "/spikes", &st);
        n4d__h5_close(g);
        if (!st)
            st = n4d__h5_attr_write(&h, r->out.file, "/", "magic", N4D__T_U32, 1, &magic);
        if (!st)
            st = n4d__h5_attr_write(&h, r->out.file, "/", "version", N4D__T_U32, 2, version);
        if (!st)
            st = n4d__h5_attr_write_text(&h, r->out.file, "/", "n4d_kind", "spikes");
        for (size_t pi = 0; pi < r->n_pops && !st; pi++)
            if (r->pops[pi].n)
                st = open_pop_spikes(&h, r, pi);
        if (!st && r->n_rep)
            st = open_report(&h, r);
        if (!st && r->n_w)
            st = open_weight_report(&h, r);
        if (st)
            n4d__h5_out_abort(&h, &r->out);
    }
    n4d__h5_end(&h);
    if (st) {
        rec_free(r);
        return st;
    }
    const bool sampled = r->n_rep || r->n_w;
    if ((st = n4d__sim_attach(sim, &record_hooks, r, sampled ? r->every : 0))) {
        rec_finish(r, NULL);
        return st;
    }
    if (sampled && sim->step % r->every == 0 && (st = on_sample(r, sim))) {
        n4d__sim_detach(sim, &record_hooks);
        return st;
    }
    return N4D_OK;
}

n4d_status n4d_sim_record_close(n4d_sim *sim)
{
    if (!n4d__is_handle(sim, N4D__MAGIC_SIM))
        return N4D_E_INVALID_ARG;
    n4d__clear_error(&sim->hdr);
    recorder *r = n4d__sim_hook_data(sim, &record_hooks);
    if (!r)
        return n4d__error(&sim->hdr, N4D_E_STATE, "n4d_sim_record_close: no recording is open");
    n4d_status st = N4D_OK;
    r->close_err = &sim->hdr; /* on_detach finishes the file and reports here */
    r->close_out = &st;
    n4d__sim_detach(sim, &record_hooks);
    return st;
}

#else
typedef int n4d__store_record_unused;
#endif
