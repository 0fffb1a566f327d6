/* Model save and load (whole, partial, memory-mapped): the /n4d header
 * and synapse datasets, and the order of the steps; the parts, one concern
 * each, are listed in store_model.h. Layout: SONATA /nodes and /edges for
 * other tools, and /n4d with the description and the exact CSR arrays that a
 * load reads back (docs/storage.md). */
#include "store_model.h"

#if N4D_HAVE_HDF5

#include <math.h>
#include <stdlib.h>
#include <string.h>

n4d_status n4d__store_write_model(n4d__h5 *h, hid_t file, const n4d_model *m,
                                  const n4d_save_options *opt, const char *kind)
{
    return n4d__store_write_model_w(h, file, m, NULL, opt, kind);
}

n4d_status n4d__store_write_model_w(n4d__h5 *h, hid_t file, const n4d_model *m,
                                    const int32_t *weight_q, const n4d_save_options *opt,
                                    const char *kind)
{
    n4d__h5_layout L, Ls;
    n4d__h5_layout_from(opt, &L);
    Ls = L;
    if (opt->contiguous) {
        Ls.contiguous = true;
        Ls.gzip = 0;
    }
    n4d_status st = N4D_OK;
    hid_t g = n4d__h5_create_group(h, file, "/n4d", &st), sg = H5I_INVALID_HID;
    char *desc = NULL;
    void *scratch = NULL;
    const size_t scratch_bytes = N4D__STORE_BLOCK * 24;
    if (g < 0)
        return st;
    const uint64_t N = m->n_neurons;
    /* the file holds the CSR by user id (independent of the layout) */
    n4d__synapses us, ws = m->syn;
    memset(&us, 0, sizeof us);
    if (weight_q)
        ws.weight_q = (int32_t *)weight_q; /* read only */
    const n4d__synapses *s = &ws;
    if (m->perm) {
        if ((st = n4d__store_permute_syn(h, m->ctx, &ws, N, m->inv, m->perm, &us)))
            goto done;
        s = &us;
    }
    const int32_t layout[3] = {m->layout.order, (int32_t)m->layout.partitions,
                               m->layout.balance_synapses};
    if ((st = n4d__h5_write_header(h, file, g, kind)) ||
        (st = n4d__h5_attr_write(h, g, "/n4d", "layout", N4D__T_I32, 3, layout)) ||
        (st = n4d__h5_attr_write(h, g, "/n4d", "lattice", N4D__T_U32, 4, m->shape)) ||
        (st = n4d__h5_attr_write(h, g, "/n4d", "dt", N4D__T_F64, 1, &m->dt)) ||
        (st = n4d__h5_attr_write(h, g, "/n4d", "seed", N4D__T_U64, 1, &m->seed)) ||
        (st = n4d__h5_attr_write(h, g, "/n4d", "default_duration", N4D__T_F64, 1,
                                 &m->default_duration)) ||
        (st = n4d__h5_attr_write(h, g, "/n4d", "n_neurons", N4D__T_U64, 1, &N)))
        goto done;
    if (!(desc = n4d__store_describe(m))) {
        st = n4d__h5_fail(h, N4D_E_NOMEM, N4D__STORE_DESC, false,
                          "cannot encode the model description");
        goto done;
    }
    if ((st = n4d__h5_write_str_dset(h, g, "description", desc)))
        goto done;
    sg = n4d__h5_create_group(h, g, "synapses", &st);
    if (sg < 0)
        goto done;
    const uint32_t dr[2] = {s->min_delay, s->max_delay};
    if ((st = n4d__h5_attr_write(h, sg, "/n4d/synapses", "scale", N4D__T_F64, 1, &s->scale)) ||
        (st = n4d__h5_attr_write(h, sg, "/n4d/synapses", "n_syn", N4D__T_U64, 1, &s->n_syn)) ||
        (st = n4d__h5_attr_write(h, sg, "/n4d/synapses", "n_seg", N4D__T_U64, 1, &s->n_seg)) ||
        (st = n4d__h5_attr_write(h, sg, "/n4d/synapses", "delay_range", N4D__T_U32, 2, dr)) ||
        (st = n4d__h5_write_dset(h, sg, "seg_ptr", N4D__T_U64, N + 1, 0, &L, s->seg_ptr)) ||
        (st = n4d__h5_write_dset(h, sg, "seg_off", N4D__T_U64, s->n_seg + 1, 0, &L, s->seg_off)) ||
        (st = n4d__h5_write_dset(h, sg, "target", N4D__T_U32, s->n_syn, 0, &Ls, s->target)) ||
        (st = n4d__h5_write_dset(h, sg, "weight_q", N4D__T_I32, s->n_syn, 0, &Ls, s->weight_q)))
        goto done;
    scratch = n4d__alloc(m->ctx, N4D_MEM_OTHER, scratch_bytes);
    if (!scratch) {
        st = n4d__h5_fail(h, N4D_E_NOMEM, NULL, false, "out of memory");
        goto done;
    }
    {
        hid_t kd = n4d__h5_create_dset(h, sg, "seg_key", N4D__T_U32, s->n_seg, 0, &L, &st);
        if (kd < 0)
            goto done;
        uint32_t *kb = scratch;
        for (uint64_t off = 0; off < s->n_seg && !st; off += N4D__STORE_BLOCK) {
            uint64_t cnt = s->n_seg - off < N4D__STORE_BLOCK ? s->n_seg - off : N4D__STORE_BLOCK;
            for (uint64_t i = 0; i < cnt; i++)
                kb[i] = N4D__FILE_KEY(s->seg_key[off + i]);
            st = n4d__h5_write_rows(h, kd, "seg_key", N4D__T_U32, off, cnt, kb);
        }
        H5Dclose(kd);
        if (st)
            goto done;
    }
    if ((st = n4d__store_write_nodes(h, file, m, &L, scratch)))
        goto done;
    if (opt->sonata_edges) {
        hid_t eg = n4d__h5_create_group(h, file, "/edges", &st);
        if (eg < 0)
            goto done;
        H5Gclose(eg);
        st = n4d__store_write_edges(h, file, m, s, &L, scratch);
    }
done:
    if (m->perm)
        n4d__store_free_syn(m->ctx, &us, N);
    n4d__free(m->ctx, N4D_MEM_OTHER, scratch, scratch_bytes);
    free(desc);
    n4d__h5_close(sg);
    n4d__h5_close(g);
    return st;
}

n4d_status n4d_model_save(const n4d_model *model, const char *path, const n4d_save_options *opt)
{
    if (!n4d__is_handle(model, N4D__MAGIC_MODEL))
        return N4D_E_INVALID_ARG;
    const n4d_model *m = model;
    n4d__model_clear_error(m);
    if (!path)
        return n4d__model_error(m, N4D_E_INVALID_ARG, "n4d_model_save: path is NULL");
    if (!m->built)
        return n4d__model_error(m, N4D_E_STATE, "n4d_model_save: the model is not built");
    if (n4d__distributed(m))
        return n4d__model_error(m, N4D_E_UNSUPPORTED,
                                "n4d_model_save: a distributed model (rank %d of %d holds the "
                                "synapses of its own neurons only) is not saved yet",
                                m->comm.rank, m->comm.size);
    /* the messages go to a local slot, then to the model's error channel */
    n4d__handle err = {0, ""};
    n4d__h5 h;
    n4d__h5_begin(&h, m->ctx, &err, path);
    n4d_save_options o;
    n4d__h5_out out;
    n4d_status st = n4d__h5_save_options(&h, opt, &o);
    if (!st && !(st = n4d__h5_out_create(&h, &out, o.contiguous != 0))) {
        st = n4d__store_write_model(&h, out.file, m, &o, "model");
        if (st)
            n4d__h5_out_abort(&h, &out);
        else
            st = n4d__h5_out_commit(&h, &out);
    }
    n4d__h5_end(&h);
    if (st)
        n4d__model_error(m, st, "%s", err.error);
    return st;
}

n4d_status n4d__store_read_model(n4d__h5 *h, hid_t file, const n4d_load_options *o,
                                 const char *kind, n4d_model **out)
{
    n4d_context *ctx = h->ctx;
    n4d_status st = N4D_OK;
    n4d_model *m = NULL;
    char *desc = NULL;
    size_t desc_len = 0;
    uint64_t *pop_n = NULL, *pop_first = NULL, *new_n = NULL, N = 0, K = 0;
    int32_t *pos = NULL, *col = NULL;
    n4d__selection sel;
    memset(&sel, 0, sizeof sel);
    n4d__synapses s;
    memset(&s, 0, sizeof s);
    n4d__syn_files f = {-1, -1, -1, -1, -1, -1};
    size_t np = 0;
    *out = NULL;
    if (o->mmap_synapses && o->select != N4D_SELECT_ALL)
        return n4d__h5_fail(h, N4D_E_UNSUPPORTED, NULL, false,
                            "memory-mapped synapses need the whole model (select = all)");
    if (!n4d__h5_exists(file, "n4d") && n4d__h5_exists(file, "meta_json") &&
        n4d__h5_exists(file, "neurons"))
        return n4d__h5_fail(h, N4D_E_FORMAT, "/n4d", false,
                            "group is missing: this is a 4D Neural Cognition save, not an n4d "
                            "model (import it: n4d_model_import_4dnc, n4d import)");
    hid_t g = n4d__h5_open_group(h, file, "/n4d", &st);
    if (g < 0)
        return st;
    if ((st = n4d__h5_check_header(h, file, g, kind)))
        goto done;
    uint32_t shape[4];
    int32_t layout[3];
    double dt, dur;
    uint64_t seed;
    if ((st = n4d__h5_attr_read(h, g, "/n4d", "lattice", N4D__T_U32, 4, shape)) ||
        (st = n4d__h5_attr_read(h, g, "/n4d", "dt", N4D__T_F64, 1, &dt)) ||
        (st = n4d__h5_attr_read(h, g, "/n4d", "seed", N4D__T_U64, 1, &seed)) ||
        (st = n4d__h5_attr_read(h, g, "/n4d", "default_duration", N4D__T_F64, 1, &dur)) ||
        (st = n4d__h5_attr_read(h, g, "/n4d", "n_neurons", N4D__T_U64, 1, &N)) ||
        (st = n4d__h5_attr_read(h, g, "/n4d", "layout", N4D__T_I32, 3, layout)))
        goto done;
    if (N > 0xfffffff0ull) {
        st = n4d__h5_fail(h, N4D_E_FORMAT, "/n4d attribute \"n_neurons\"", false,
                          "%llu is above the limit 2^32 - 16", (unsigned long long)N);
        goto done;
    }
    if (!(dur >= 0) || !isfinite(dur)) {
        st = n4d__h5_fail(h, N4D_E_FORMAT, "/n4d attribute \"default_duration\"", false,
                          "%g is not a duration", dur);
        goto done;
    }
    if ((st = n4d_model_create(ctx, &m))) {
        st = n4d__h5_fail(h, st, NULL, false, "%s", n4d_last_error(ctx));
        goto done;
    }
    if (n4d_model_set_lattice(m, shape)) {
        st = n4d__h5_fail(h, N4D_E_FORMAT, "/n4d attribute \"lattice\"", false, "%s",
                          n4d_last_error(m));
        goto done;
    }
    if (n4d_model_set_dt(m, dt)) {
        st = n4d__h5_fail(h, N4D_E_FORMAT, "/n4d attribute \"dt\"", false, "%s", n4d_last_error(m));
        goto done;
    }
    n4d_model_set_seed(m, seed);
    m->default_duration = dur;
    if ((st = n4d__h5_read_str_dset(h, g, "description", &desc, &desc_len)) ||
        (st = n4d__store_read_description(h, desc, desc_len, m, &pop_n)))
        goto done;
    np = m->n_pops;
    pop_first = n4d__alloc(ctx, N4D_MEM_OTHER, (np ? np : 1) * sizeof(uint64_t));
    new_n = n4d__calloc(ctx, N4D_MEM_OTHER, np ? np : 1, sizeof(uint64_t));
    if (!pop_first || !new_n) {
        st = n4d__h5_fail(h, N4D_E_NOMEM, NULL, false, "out of memory");
        goto done;
    }
    uint64_t acc = 0;
    for (size_t i = 0; i < np; i++) {
        if (m->pops[i].first != acc || pop_n[i] > N - acc) {
            st = n4d__h5_fail(h, N4D_E_FORMAT, N4D__STORE_DESC, false,
                              "populations[%zu]: first %llu / n %llu do not continue the ids of the "
                              "%llu neurons",
                              i, (unsigned long long)m->pops[i].first,
                              (unsigned long long)pop_n[i], (unsigned long long)N);
            goto done;
        }
        pop_first[i] = acc;
        acc += pop_n[i];
        m->pops[i].first = 0;
    }
    if (acc != N) {
        st = n4d__h5_fail(h, N4D_E_FORMAT, N4D__STORE_DESC, false,
                          "the populations hold %llu neurons, /n4d says %llu",
                          (unsigned long long)acc, (unsigned long long)N);
        goto done;
    }
    /* synapse datasets */
    f.g = n4d__h5_open_group(h, g, "synapses", &st);
    if (f.g < 0)
        goto done;
    uint64_t S0, G0;
    if ((st = n4d__h5_attr_read(h, f.g, "/n4d/synapses", "scale", N4D__T_F64, 1, &s.scale)) ||
        (st = n4d__h5_attr_read(h, f.g, "/n4d/synapses", "n_syn", N4D__T_U64, 1, &S0)) ||
        (st = n4d__h5_attr_read(h, f.g, "/n4d/synapses", "n_seg", N4D__T_U64, 1, &G0)))
        goto done;
    if (S0 > ((uint64_t)1 << 40) || G0 > S0) {
        st = n4d__h5_fail(h, N4D_E_FORMAT, "/n4d/synapses attribute \"n_syn\"", false,
                          "%llu synapses in %llu segments is out of range",
                          (unsigned long long)S0, (unsigned long long)G0);
        goto done;
    }
    {
        uint64_t d1[2] = {N + 1, 0}, d2[2] = {G0 + 1, 0}, d3[2] = {G0, 0}, d4[2] = {S0, 0},
                 d5[2] = {S0, 0};
        if ((f.seg_ptr = n4d__h5_open_dset(h, f.g, "seg_ptr", N4D__T_U64, 1, d1, &st)) < 0 ||
            (f.seg_off = n4d__h5_open_dset(h, f.g, "seg_off", N4D__T_U64, 1, d2, &st)) < 0 ||
            (f.seg_key = n4d__h5_open_dset(h, f.g, "seg_key", N4D__T_U32, 1, d3, &st)) < 0 ||
            (f.target = n4d__h5_open_dset(h, f.g, "target", N4D__T_U32, 1, d4, &st)) < 0 ||
            (f.weight_q = n4d__h5_open_dset(h, f.g, "weight_q", N4D__T_I32, 1, d5, &st)) < 0)
            goto done;
    }
    s.n_syn = S0;
    s.n_seg = G0;
    if (!(s.scale > 0) || !isfinite(s.scale) || frexp(s.scale, &(int){0}) != 0.5) {
        st = n4d__h5_fail(h, N4D_E_FORMAT, "/n4d/synapses attribute \"scale\"", false,
                          "%g is not a positive power of two", s.scale);
        goto done;
    }
    /* which neurons */
    if ((st = n4d__store_select_neurons(h, file, m, o, N, pop_first, pop_n, &sel)))
        goto done;
    K = o->select == N4D_SELECT_ALL ? N : sel.k;
    pos = n4d__alloc(ctx, N4D_MEM_NEURONS, (K ? K : 1) * 4 * sizeof(int32_t));
    col = n4d__alloc(ctx, N4D_MEM_OTHER, N4D__STORE_BLOCK * sizeof(int32_t));
    if (!pos || !col) {
        st = n4d__h5_fail(h, N4D_E_NOMEM, NULL, false, "out of memory for %llu neurons",
                          (unsigned long long)K);
        goto done;
    }
    if (o->select == N4D_SELECT_ALL) {
        if ((st = n4d__store_read_positions_range(h, file, m, pop_first, pop_n, 0, N, pos, col)))
            goto done;
        for (size_t i = 0; i < np; i++)
            new_n[i] = pop_n[i];
        st = n4d__store_read_all_syn(h, &f, ctx, N, o->mmap_synapses != 0, &s);
        if (st) {
            n4d__store_free_syn(ctx, &s, N);
            goto done;
        }
    } else {
        /* positions of runs of consecutive kept ids */
        for (uint64_t i = 0; i < K && !st;) {
            uint64_t j = i + 1;
            while (j < K && sel.keep[j] == sel.keep[j - 1] + 1 && j - i < N4D__STORE_BLOCK)
                j++;
            st = n4d__store_read_positions_range(h, file, m, pop_first, pop_n, sel.keep[i],
                                                 sel.keep[j - 1] + 1, pos + 4 * i, col);
            i = j;
        }
        if (st)
            goto done;
        for (uint64_t i = 0; i < K; i++) {
            size_t lo = 0, hi = np; /* population of keep[i] */
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (pop_first[mid] + pop_n[mid] <= sel.keep[i])
                    lo = mid + 1;
                else
                    hi = mid;
            }
            if (lo < np)
                new_n[lo]++;
        }
        st = n4d__store_read_partial_syn(h, &f, ctx, N, &sel, &s);
        if (!st)
            st = n4d__store_check_syn(h, &s, K);
        if (st) {
            if (s.seg_ptr && s.seg_off)
                n4d__store_free_syn(ctx, &s, K);
            else
                n4d__free(ctx, N4D_MEM_SYNAPSES, s.seg_ptr, (K + 1) * sizeof(uint64_t));
            goto done;
        }
    }
    st = n4d__store_install(h, m, K, pos, new_n, &s, layout);
    pos = NULL;
done:
    n4d__syn_files_close(&f);
    n4d__h5_close(g);
    if (desc)
        n4d__free(ctx, N4D_MEM_OTHER, desc, desc_len + 1);
    n4d__free(ctx, N4D_MEM_NEURONS, pos, (K ? K : 1) * 4 * sizeof(int32_t));
    n4d__free(ctx, N4D_MEM_OTHER, col, N4D__STORE_BLOCK * sizeof(int32_t));
    if (m && pop_n)
        n4d__free(ctx, N4D_MEM_OTHER, pop_n, (np ? np : 1) * sizeof(uint64_t));
    n4d__free(ctx, N4D_MEM_OTHER, pop_first, (np ? np : 1) * sizeof(uint64_t));
    n4d__free(ctx, N4D_MEM_OTHER, new_n, (np ? np : 1) * sizeof(uint64_t));
    if (sel.keep || sel.map)
        n4d__store_selection_free(ctx, &sel, o, N);
    if (st) {
        n4d_model_destroy(m);
        return st;
    }
    *out = m;
    return N4D_OK;
}

n4d_status n4d_model_load(n4d_context *ctx, const char *path, const n4d_load_options *opt,
                          n4d_model **out)
{
    if (out)
        *out = NULL;
    if (!n4d__is_handle(ctx, N4D__MAGIC_CONTEXT))
        return N4D_E_INVALID_ARG;
    n4d__clear_error(&ctx->hdr);
    if (!path || !out)
        return n4d__error(&ctx->hdr, N4D_E_INVALID_ARG, "n4d_model_load: %s is NULL",
                          path ? "out" : "path");
    n4d_load_options o;
    n4d_load_options_init(&o);
    if (opt) {
        if (opt->struct_size < sizeof(uint32_t))
            return n4d__error(&ctx->hdr, N4D_E_INVALID_ARG,
                              "n4d_model_load: options.struct_size is not set");
        N4D__COPY_IN(o, opt);
    }
    n4d__h5 h;
    n4d__h5_begin(&h, ctx, &ctx->hdr, path);
    n4d_status st;
    hid_t f = n4d__h5_open_read(&h, &st);
    if (f >= 0) {
        st = n4d__store_read_model(&h, f, &o, "model", out);
        H5Fclose(f);
    }
    n4d__h5_end(&h);
    return st;
}

#else
typedef int n4d__store_model_unused;
#endif
