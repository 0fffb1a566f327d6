/* Checkpoint and resume: the model (as n4d_model_save writes it) plus the
 * full simulation state under /n4d/state, stored by user id so that a
 * checkpoint does not depend on the internal neuron order. The per-sim state
 * groups beside the neurons' (plastic synapses: store_plastic.c;
 * modulators, homeostasis, lifecycle: store_learn.c) are each a write/read pair called from n4d_sim_checkpoint and n4d_sim_resume. */
#include "store_h5.h"
#include "ring.h"

#if N4D_HAVE_HDF5

#include <stdio.h>
#include <math.h>
#include <string.h>

/* Attribute of the state group (1) in checkpoints whose delay ring holds
 * the rest of the current block of sparse Poisson inputs (0.3 on). */
#define RING_HOLDS_BLOCKS "ring_holds_poisson_blocks"

#define STATE "/n4d/state"

/* The auxiliary state arrays in use, "x1" .. "xNX" (sim->x[0 ..]). */
static n4d_status write_x_arrays(n4d__h5 *h, hid_t g, const n4d_sim *sim, const n4d__h5_layout *L,
                                 void *scratch)
{
    n4d_status st = N4D_OK;
    for (uint32_t j = 0; j < sim->nx && !st; j++) {
        char name[16];
        snprintf(name, sizeof name, "x%u", j + 1);
        st = n4d__store_write_by_user(h, g, name, N4D__T_F32, sim->model, sim->x[j], sizeof(float), L,
                               scratch);
    }
    return st;
}

static n4d_status write_state(n4d__h5 *h, hid_t file, n4d_sim *sim, const n4d_save_options *opt)
{
    const n4d_model *m = sim->model;
    const uint64_t N = m->n_neurons;
    n4d__h5_layout L;
    n4d__h5_layout_from(opt, &L);
    n4d_status st = N4D_OK;
    hid_t g = n4d__h5_create_group(h, file, STATE, &st);
    if (g < 0)
        return st;
    const size_t scratch_bytes = (N ? N : 1) * sizeof(int64_t);
    void *scratch = n4d__alloc(sim->ctx, N4D_MEM_OTHER, scratch_bytes);
    if (!scratch) {
        H5Gclose(g);
        return n4d__h5_fail(h, N4D_E_NOMEM, STATE, false, "out of memory");
    }
    const uint64_t rec_count = sim->rec_count;
    const int32_t record = sim->record, threads = sim->threads;
    const uint32_t one = 1;
    if ((st = n4d__h5_attr_write(h, g, STATE, "step", N4D__T_U64, 1, &sim->step)) ||
        (st = n4d__h5_attr_write(h, g, STATE, "checksum", N4D__T_U64, 1, &sim->checksum)) ||
        (st = n4d__h5_attr_write(h, g, STATE, "total_spikes", N4D__T_U64, 1, &sim->total_spikes)) ||
        (st = n4d__h5_attr_write(h, g, STATE, "seed", N4D__T_U64, 1, &sim->seed)) ||
        (st = n4d__h5_attr_write(h, g, STATE, "dt", N4D__T_F64, 1, &sim->dt)) ||
        (st = n4d__h5_attr_write(h, g, STATE, "num_threads", N4D__T_I32, 1, &threads)) ||
        (st = n4d__h5_attr_write(h, g, STATE, "history_steps", N4D__T_U32, 1, &sim->hist_steps)) ||
        (st = n4d__h5_attr_write(h, g, STATE, "record_spikes", N4D__T_I32, 1, &record)) ||
        (st = n4d__h5_attr_write(h, g, STATE, "ring_slots", N4D__T_U32, 1, &sim->ring_slots)) ||
        (st = n4d__h5_attr_write(h, g, STATE, RING_HOLDS_BLOCKS, N4D__T_U32, 1, &one)) ||
        (st = n4d__h5_attr_write_str(h, g, STATE, "backend", n4d_sim_backend(sim))) ||
        (st = n4d__store_write_by_user(h, g, "v", N4D__T_F32, m, sim->v, sizeof(float), &L, scratch)) ||
        (st = write_x_arrays(h, g, sim, &L, scratch)) ||
        (st = n4d__store_write_by_user(h, g, "iext", N4D__T_F32, m, sim->iext, sizeof(float), &L,
                                scratch)) ||
        (st = n4d__store_write_by_user(h, g, "refractory", N4D__T_I32, m, sim->ref, sizeof(int32_t), &L,
                                scratch)) ||
        (st = n4d__h5_write_dset(h, g, "last_ids", N4D__T_U32, sim->last_count, 0, &L,
                                 sim->last_ids)) ||
        (st = n4d__h5_write_dset(h, g, "rec_steps", N4D__T_U64, rec_count, 0, &L,
                                 sim->rec_steps)) ||
        (st = n4d__h5_write_dset(h, g, "rec_ids", N4D__T_U32, rec_count, 0, &L, sim->rec_ids)) ||
        (st = n4d__h5_write_dset(h, g, "history", N4D__T_U64, sim->hist_steps, sim->hist_words,
                                 &L, sim->hist)))
        goto done;
    {
        /* the delay ring: rows slot * 2 + channel, columns by user id */
        const uint64_t rows = (uint64_t)sim->ring_slots * 2;
        n4d__h5_layout Lr = L;
        Lr.chunk = L.chunk / (N ? N : 1) ? L.chunk / (N ? N : 1) : 1;
        hid_t d = n4d__h5_create_dset(h, g, "ring", N4D__T_I64, rows, N ? N : 1, &Lr, &st);
        if (d < 0)
            goto done;
        int64_t *row = scratch; /* the exact sums (ring.h), as int64 in the file */
        for (uint64_t r = 0; r < rows && !st && N; r++) {
            n4d__ring_get_row(sim, (uint32_t)r, true, row);
            st = n4d__h5_write_rows(h, d, "ring", N4D__T_I64, r, 1, row);
        }
        H5Dclose(d);
    }
done:
    n4d__free(sim->ctx, N4D_MEM_OTHER, scratch, scratch_bytes);
    H5Gclose(g);
    return st;
}

n4d_status n4d_sim_checkpoint(n4d_sim *sim, const char *path, const n4d_save_options *opt)
{
    if (!n4d__is_handle(sim, N4D__MAGIC_SIM))
        return N4D_E_INVALID_ARG;
    n4d__clear_error(&sim->hdr);
    if (!path)
        return n4d__error(&sim->hdr, N4D_E_INVALID_ARG, "n4d_sim_checkpoint: path is NULL");
    if (n4d__distributed(sim->model)) /* each rank holds its own neurons' part */
        return n4d__error(&sim->hdr, N4D_E_UNSUPPORTED,
                          "n4d_sim_checkpoint: a distributed sim (rank %d of %d) is not saved yet; "
                          "docs/distributed.md",
                          sim->model->comm.rank, sim->model->comm.size);
    n4d_status hst = n4d__sim_to_host(sim, N4D__HOST_READ, 0); /* everything, the ring too */
    if (hst)
        return hst;
    n4d__h5 h;
    n4d__h5_begin(&h, sim->ctx, &sim->hdr, path);
    n4d_save_options o;
    n4d__h5_out out;
    n4d_status st = n4d__h5_save_options(&h, opt, &o);
    if (!st && !(st = n4d__h5_out_create(&h, &out, o.contiguous != 0))) {
        /* the sim's own weights (n4d_sim_set_weights) become the resumed model's */
        st = n4d__store_write_model_w(&h, out.file, sim->model, sim->wq_own, &o, "checkpoint");
        if (!st)
            st = write_state(&h, out.file, sim, &o);
        if (!st) { /* the per-sim state groups beside the neurons' */
            n4d__h5_layout L;
            n4d__h5_layout_from(&o, &L);
            const size_t bytes = (sim->model->n_neurons ? sim->model->n_neurons : 1) * 8;
            void *scratch = n4d__alloc(sim->ctx, N4D_MEM_OTHER, bytes);
            if (!scratch)
                st = n4d__h5_fail(&h, N4D_E_NOMEM, STATE, false, "out of memory");
            if (!st && !(st = n4d__store_write_plastic(&h, out.file, sim, &L)) &&
                !(st = n4d__store_write_modulators(&h, out.file, sim, &L)) &&
                !(st = n4d__store_write_homeostasis(&h, out.file, sim, &L, scratch)))
                st = n4d__store_write_lifecycle(&h, out.file, sim, &L, scratch);
            n4d__free(sim->ctx, N4D_MEM_OTHER, scratch, bytes);
        }
        if (st)
            n4d__h5_out_abort(&h, &out);
        else
            st = n4d__h5_out_commit(&h, &out);
    }
    n4d__h5_end(&h);
    return st;
}

/* ---- resume -------------------------------------------------------------------- */

static hid_t open_state_dset(n4d__h5 *h, hid_t g, const char *name, n4d__h5_type t, uint64_t rows,
                             uint64_t cols, n4d_status *st)
{
    uint64_t dims[2] = {rows, cols};
    return n4d__h5_open_dset(h, g, name, t, cols ? 2 : 1, dims, st);
}

static n4d_status check_ids(n4d__h5 *h, const char *name, const uint32_t *ids, uint64_t n,
                            uint64_t N)
{
    for (uint64_t i = 0; i < n; i++)
        if (ids[i] >= N)
            return n4d__h5_fail(h, N4D_E_FORMAT, name, false,
                                "entry %llu is %u (out of range: the model has %llu neurons)",
                                (unsigned long long)i, ids[i], (unsigned long long)N);
    return N4D_OK;
}

/* The auxiliary state arrays the sim uses (every checkpoint has them:
 * older ones always wrote x1 and x2, and no model then had more); arrays the
 * sim does not use are not read. */
static n4d_status read_x_arrays(n4d__h5 *h, hid_t g, n4d_sim *sim, void *scratch)
{
    n4d_status st = N4D_OK;
    for (uint32_t j = 0; j < sim->nx && !st; j++) {
        char name[16];
        snprintf(name, sizeof name, "x%u", j + 1);
        st = n4d__store_read_by_user(h, g, name, N4D__T_F32, sim->model, sim->x[j], sizeof(float),
                              scratch);
    }
    return st;
}

/* Ring entries are fixed-point sums below 2^51 in magnitude (neuron.h). */
#define N4D__RING_MAX ((int64_t)1 << 51)

/* The restored neuron state within what a run can produce: finite V,
 * further state variables and external input; refractory counts in [0,
 * N4D__MAX_REF_STEPS] (the API may set any count there). Errors name the
 * user id. */
static n4d_status check_neuron_state(n4d__h5 *h, const n4d_sim *sim)
{
    const n4d_model *m = sim->model;
    for (size_t ri = 0; ri < sim->n_runs; ri++) {
        const n4d__pop_rt *p = &sim->runs[ri];
        const n4d__population *pp = &m->pops[p->pop];
        const int32_t ref_max = (int32_t)N4D__MAX_REF_STEPS; /* n4d_sim_set_state's clamp */
        const uint32_t nx = (uint32_t)(pp->nm->h->n_states - 1);
        for (uint64_t i = p->first; i < p->first + p->n; i++) {
            const unsigned long long id = (unsigned long long)n4d__to_user(m, i);
            if (sim->ref[i] < 0 || sim->ref[i] > ref_max)
                return n4d__h5_fail(h, N4D_E_FORMAT, STATE "/refractory", false,
                                    "neuron %llu (population \"%s\"): refractory count %d is "
                                    "outside [0, %d]",
                                    id, pp->name, sim->ref[i], ref_max);
            if (!isfinite(sim->v[i]))
                return n4d__h5_fail(h, N4D_E_FORMAT, STATE "/v", false,
                                    "neuron %llu (population \"%s\"): V is %g", id, pp->name,
                                    (double)sim->v[i]);
            if (!isfinite(sim->iext[i]))
                return n4d__h5_fail(h, N4D_E_FORMAT, STATE "/iext", false,
                                    "neuron %llu (population \"%s\"): %g is not finite", id,
                                    pp->name, (double)sim->iext[i]);
            for (uint32_t j = 0; j < nx; j++)
                if (!isfinite(sim->x[j][i]))
                    return n4d__h5_fail(h, N4D_E_FORMAT, STATE, false,
                                        "neuron %llu (population \"%s\"): state variable x%u "
                                        "is %g",
                                        id, pp->name, j + 1, (double)sim->x[j][i]);
        }
    }
    return N4D_OK;
}

static n4d_status read_state(n4d__h5 *h, hid_t g, n4d_sim *sim, void *scratch)
{
    const n4d_model *m = sim->model;
    const uint64_t N = m->n_neurons;
    n4d_status st;
    uint64_t step, checksum, total, last_count = 0, rec_count = 0, dims[2];
    if ((st = n4d__h5_attr_read(h, g, STATE, "step", N4D__T_U64, 1, &step)) ||
        (st = n4d__h5_attr_read(h, g, STATE, "checksum", N4D__T_U64, 1, &checksum)) ||
        (st = n4d__h5_attr_read(h, g, STATE, "total_spikes", N4D__T_U64, 1, &total)) ||
        (st = n4d__store_read_by_user(h, g, "v", N4D__T_F32, m, sim->v, sizeof(float), scratch)) ||
        (st = read_x_arrays(h, g, sim, scratch)) ||
        (st = n4d__store_read_by_user(h, g, "iext", N4D__T_F32, m, sim->iext, sizeof(float), scratch)) ||
        (st = n4d__store_read_by_user(h, g, "refractory", N4D__T_I32, m, sim->ref, sizeof(int32_t),
                               scratch)))
        return st;
    sim->iext_dirty = true; /* the restored external input is read by the next step */
    if ((st = check_neuron_state(h, sim)))
        return st;
    /* ring: since 0.3 it holds the rest of the current block of the sparse
     * Poisson inputs whose blocks fit it; an older file lacks those events */
    for (size_t k = 0; k < sim->n_poisson; k++)
        if (sim->poisson[k].sparse && sim->poisson[k].block_ring &&
            H5Aexists(g, RING_HOLDS_BLOCKS) <= 0)
            return n4d__h5_fail(h, N4D_E_FORMAT, STATE, false,
                                "written before n4d 0.3, whose delay ring does not hold the "
                                "current block of sparse Poisson input %u (population \"%s\"); "
                                "resume it with the version that wrote it, or start the run "
                                "again",
                                sim->poisson[k].purpose >> 8, m->pops[sim->poisson[k].pop].name);
    {
        const uint64_t rows = (uint64_t)sim->ring_slots * 2;
        hid_t d = open_state_dset(h, g, "ring", N4D__T_I64, rows, N ? N : 1, &st);
        if (d < 0)
            return st;
        int64_t *row = scratch;
        for (uint64_t r = 0; r < rows && !st && N; r++) {
            st = n4d__h5_read_rows(h, d, "ring", N4D__T_I64, r, 1, row);
            for (uint64_t u = 0; u < N && !st; u++)
                /* the fixed-point sums' invariant (neuron.h): a larger
                 * entry would overflow int64 in delivery and conversion */
                if (row[u] >= N4D__RING_MAX || row[u] <= -N4D__RING_MAX)
                    st = n4d__h5_fail(h, N4D_E_FORMAT, STATE "/ring", false,
                                      "entry (%llu, %llu) is %lld, beyond the fixed-point "
                                      "range |x| < 2^51",
                                      (unsigned long long)r, (unsigned long long)u,
                                      (long long)row[u]);
            if (!st && !n4d__ring_set_row(sim, (uint32_t)r, true, row))
                st = n4d__h5_fail(h, N4D_E_NOMEM, STATE "/ring", false,
                                  "out of memory for the delay ring's sums beyond int32");
        }
        H5Dclose(d);
        if (st)
            return st;
    }
    /* last step's spikes */
    dims[0] = UINT64_MAX;
    hid_t d = n4d__h5_open_dset(h, g, "last_ids", N4D__T_U32, 1, dims, &st);
    if (d < 0)
        return st;
    last_count = dims[0];
    if (last_count > N)
        st = n4d__h5_fail(h, N4D_E_FORMAT, STATE "/last_ids", false, "has more ids than neurons");
    if (!st)
        st = n4d__h5_read_rows(h, d, "last_ids", N4D__T_U32, 0, last_count, sim->last_ids);
    H5Dclose(d);
    if (st || (st = check_ids(h, STATE "/last_ids", sim->last_ids, last_count, N)))
        return st;
    /* history window */
    if (sim->hist_steps) {
        d = open_state_dset(h, g, "history", N4D__T_U64, sim->hist_steps, sim->hist_words, &st);
        if (d < 0)
            return st;
        st = n4d__h5_read_rows(h, d, "history", N4D__T_U64, 0, sim->hist_steps, sim->hist);
        H5Dclose(d);
        if (st)
            return st;
    }
    /* recorded spikes */
    dims[0] = UINT64_MAX;
    hid_t ds = n4d__h5_open_dset(h, g, "rec_steps", N4D__T_U64, 1, dims, &st);
    if (ds < 0)
        return st;
    rec_count = dims[0];
    hid_t di = open_state_dset(h, g, "rec_ids", N4D__T_U32, rec_count, 0, &st);
    if (di < 0) {
        H5Dclose(ds);
        return st;
    }
    if (rec_count && !sim->record)
        st = n4d__h5_fail(h, N4D_E_FORMAT, STATE "/rec_ids", false,
                          "holds spikes but recording is off");
    if (!st && rec_count) {
        sim->rec_steps = n4d__alloc(sim->ctx, N4D_MEM_RECORDING, rec_count * sizeof(uint64_t));
        sim->rec_ids = n4d__alloc(sim->ctx, N4D_MEM_RECORDING, rec_count * sizeof(uint32_t));
        if (!sim->rec_steps || !sim->rec_ids) {
            n4d__free(sim->ctx, N4D_MEM_RECORDING, sim->rec_steps, rec_count * sizeof(uint64_t));
            n4d__free(sim->ctx, N4D_MEM_RECORDING, sim->rec_ids, rec_count * sizeof(uint32_t));
            sim->rec_steps = NULL;
            sim->rec_ids = NULL;
            st = n4d__h5_fail(h, N4D_E_NOMEM, STATE, false, "out of memory for %llu spikes",
                              (unsigned long long)rec_count);
        } else {
            sim->rec_cap = rec_count;
            st = n4d__h5_read_rows(h, ds, "rec_steps", N4D__T_U64, 0, rec_count, sim->rec_steps);
            if (!st)
                st = n4d__h5_read_rows(h, di, "rec_ids", N4D__T_U32, 0, rec_count, sim->rec_ids);
            if (!st)
                st = check_ids(h, STATE "/rec_ids", sim->rec_ids, rec_count, N);
            for (uint64_t i = 0; i < rec_count && !st; i++)
                if (sim->rec_steps[i] >= step || (i && sim->rec_steps[i] < sim->rec_steps[i - 1]))
                    st = n4d__h5_fail(h, N4D_E_FORMAT, STATE "/rec_steps", false,
                                      "entry %llu is out of order or beyond the step %llu",
                                      (unsigned long long)i, (unsigned long long)step);
            if (!st)
                sim->rec_count = rec_count;
        }
    }
    H5Dclose(ds);
    H5Dclose(di);
    if (st)
        return st;
    sim->last_count = last_count;
    sim->step = step;
    sim->checksum = checksum;
    sim->total_spikes = total;
    return N4D_OK;
}

n4d_status n4d_sim_resume(n4d_context *ctx, const char *path, const n4d_resume_options *opt,
                          n4d_model **model_out, n4d_sim **sim_out)
{
    if (model_out)
        *model_out = NULL;
    if (sim_out)
        *sim_out = NULL;
    if (!n4d__is_handle(ctx, N4D__MAGIC_CONTEXT))
        return N4D_E_INVALID_ARG;
    n4d__clear_error(&ctx->hdr);
    if (!path || !model_out || !sim_out)
        return n4d__error(&ctx->hdr, N4D_E_INVALID_ARG, "n4d_sim_resume: NULL argument");
    n4d_resume_options o;
    n4d_resume_options_init(&o);
    if (opt) {
        if (opt->struct_size < sizeof(uint32_t))
            return n4d__error(&ctx->hdr, N4D_E_INVALID_ARG,
                              "n4d_sim_resume: options.struct_size is not set");
        N4D__COPY_IN(o, opt);
    }
    if (o.num_threads < 0)
        return n4d__error(&ctx->hdr, N4D_E_INVALID_ARG, "n4d_sim_resume: num_threads %d is negative",
                          o.num_threads);
    n4d__h5 h;
    n4d__h5_begin(&h, ctx, &ctx->hdr, path);
    n4d_status st;
    n4d_model *m = NULL;
    n4d_sim *sim = NULL;
    void *scratch = NULL;
    size_t scratch_bytes = 0;
    hid_t g = H5I_INVALID_HID;
    hid_t f = n4d__h5_open_read(&h, &st);
    if (f < 0)
        goto done;
    n4d_load_options lo;
    n4d_load_options_init(&lo);
    lo.mmap_synapses = o.mmap_synapses;
    if ((st = n4d__store_read_model(&h, f, &lo, "checkpoint", &m)))
        goto done;
    g = n4d__h5_open_group(&h, f, STATE, &st);
    if (g < 0)
        goto done;
    char backend[64];
    uint64_t seed;
    double dt;
    int32_t threads, record;
    uint32_t hist_steps, ring_slots;
    if ((st = n4d__h5_attr_read_str(&h, g, STATE, "backend", backend, sizeof backend)) ||
        (st = n4d__h5_attr_read(&h, g, STATE, "seed", N4D__T_U64, 1, &seed)) ||
        (st = n4d__h5_attr_read(&h, g, STATE, "dt", N4D__T_F64, 1, &dt)) ||
        (st = n4d__h5_attr_read(&h, g, STATE, "num_threads", N4D__T_I32, 1, &threads)) ||
        (st = n4d__h5_attr_read(&h, g, STATE, "history_steps", N4D__T_U32, 1, &hist_steps)) ||
        (st = n4d__h5_attr_read(&h, g, STATE, "record_spikes", N4D__T_I32, 1, &record)) ||
        (st = n4d__h5_attr_read(&h, g, STATE, "ring_slots", N4D__T_U32, 1, &ring_slots)))
        goto done;
    if (dt != m->dt) {
        st = n4d__h5_fail(&h, N4D_E_FORMAT, STATE " attribute \"dt\"", false,
                          "%g ms differs from the model's dt %g ms", dt, m->dt);
        goto done;
    }
    if (ring_slots != m->syn.max_delay) {
        st = n4d__h5_fail(&h, N4D_E_FORMAT, STATE " attribute \"ring_slots\"", false,
                          "%u does not match the model's largest delay (%u steps)", ring_slots,
                          m->syn.max_delay);
        goto done;
    }
    if (threads < 1 || threads > 65536) {
        st = n4d__h5_fail(&h, N4D_E_FORMAT, STATE " attribute \"num_threads\"", false,
                          "%d is out of range", threads);
        goto done;
    }
    n4d_sim_options so;
    n4d_sim_options_init(&so);
    so.backend = o.backend ? o.backend : backend;
    so.num_threads = o.num_threads ? o.num_threads : threads;
    so.seed = seed ? seed : m->seed;
    so.history_steps = hist_steps;
    so.record_spikes = record != 0;
    st = n4d_sim_create(m, &so, &sim);
    if (!o.backend && (st == N4D_E_NOT_BUILT || st == N4D_E_NO_DEVICE)) {
        /* the saved backend is not available here: any backend gives the
         * same results */
        so.backend = "auto";
        st = n4d_sim_create(m, &so, &sim);
    }
    if (st == N4D_E_INVALID_ARG && !o.backend) {
        st = n4d__h5_fail(&h, N4D_E_FORMAT, STATE " attribute \"backend\"", false, "%s",
                          n4d_last_error(m));
        goto done;
    }
    if (st) {
        st = n4d__h5_fail(&h, st, NULL, false, "%s", n4d_last_error(m));
        goto done;
    }
    sim->seed = seed;
    scratch_bytes = (m->n_neurons ? m->n_neurons : 1) * sizeof(int64_t);
    scratch = n4d__alloc(ctx, N4D_MEM_OTHER, scratch_bytes);
    if (!scratch) {
        st = n4d__h5_fail(&h, N4D_E_NOMEM, NULL, false, "out of memory");
        goto done;
    }
    if ((st = read_state(&h, g, sim, scratch)) || (st = n4d__store_read_plastic(&h, f, sim)) ||
        (st = n4d__store_read_modulators(&h, f, sim)) ||
        (st = n4d__store_read_homeostasis(&h, f, sim, scratch)) ||
        (st = n4d__store_read_lifecycle(&h, f, sim, scratch)))
        goto done;
    if ((st = n4d__sim_to_device(sim, 0))) {
        st = n4d__h5_fail(&h, st, NULL, false, "%s", n4d_last_error(sim));
        goto done;
    }
done:
    n4d__free(ctx, N4D_MEM_OTHER, scratch, scratch_bytes);
    n4d__h5_close(g);
    n4d__h5_close(f);
    n4d__h5_end(&h);
    if (st) {
        n4d_sim_destroy(sim);
        n4d_model_destroy(m);
        return st;
    }
    *model_out = m;
    *sim_out = sim;
    return N4D_OK;
}

#else
typedef int n4d__store_sim_unused;
#endif
