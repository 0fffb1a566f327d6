/* Internal helpers of the HDF5 storage module (store_*.c): error context
 * with HDF5's error printing silenced, checked dataset and attribute access,
 * dataset creation with the save options, and atomic file replacement.
 * Only compiled with HDF5 (N4D_HAVE_HDF5). */
#ifndef N4D_STORE_H5_H
#define N4D_STORE_H5_H

#include "backend.h"

#ifndef N4D_HAVE_HDF5
#define N4D_HAVE_HDF5 0
#endif
#if N4D_HAVE_HDF5

#include <hdf5.h>

/* Format of the files written here (attribute /n4d/format_version): 2 adds
 * the checksums (HDF5's metadata checksums of the 1.10 file format, the
 * Fletcher32 filter on chunked datasets, n4d's own sum on contiguous ones,
 * fixed-length strings for what n4d reads back). Version 1 files are read
 * too, without the checksums. */
#define N4D__STORE_FORMAT 2u
#define N4D__STORE_FORMAT_MIN 1u
/* Attribute of a contiguous dataset: its running checksum (store_h5.c). */
#define N4D__H5_SUM_ATTR "n4d_checksum"
/* SONATA root attributes. */
#define N4D__SONATA_MAGIC 0x0A7Au

/* One storage call: where errors go, the file named in them, and the HDF5
 * error handler to restore. */
typedef struct n4d__h5 {
    n4d_context *ctx;
    n4d__handle *err;
    const char *path;
    H5E_auto2_t old_fn;
    void *old_data;
    bool silenced;
    /* Set by n4d__h5_check_header for files of format 2 and later: every
     * non-empty contiguous dataset opened with n4d__h5_open_dset must carry
     * its checksum, which the open verifies (one pass over its data). */
    bool sums_required;
} n4d__h5;

/* Saves and silences HDF5's automatic error printing. */
void n4d__h5_begin(n4d__h5 *h, n4d_context *ctx, n4d__handle *err, const char *path);
/* Restores it. */
void n4d__h5_end(n4d__h5 *h);

/* Records "PATH: OBJ: detail" (and HDF5's own innermost message when
 * `with_lib` is set) on the handle and returns st. obj may be NULL. */
n4d_status n4d__h5_fail(n4d__h5 *h, n4d_status st, const char *obj, bool with_lib, const char *fmt,
                        ...) __attribute__((format(printf, 5, 6)));

/* Element types checked on open and used in memory. */
typedef enum n4d__h5_type {
    N4D__T_U8, N4D__T_U32, N4D__T_I32, N4D__T_U64, N4D__T_I64, N4D__T_F32, N4D__T_F64,
    N4D__T_NUMBER, /* any integer or float class (read converting) */
    N4D__T_STRING
} n4d__h5_type;

hid_t n4d__h5_mem_type(n4d__h5_type t);

/* Opens dataset `name` under loc and checks its element type and shape,
 * and for a contiguous dataset of a checksummed file its checksum (see
 * n4d__h5.sums_required). rank is 1 or 2; dims[i] == UINT64_MAX accepts any
 * extent and receives it. On failure returns H5I_INVALID_HID with the error recorded
 * (N4D_E_FORMAT), in *st. */
hid_t n4d__h5_open_dset(n4d__h5 *h, hid_t loc, const char *name, n4d__h5_type type, int rank,
                        uint64_t dims[2], n4d_status *st);
/* 1 if the link exists (and resolves), 0 if not. */
bool n4d__h5_exists(hid_t loc, const char *name);

/* Reads rows [off, off + count) of a 1-D or 2-D dataset (all columns) into
 * buf, converting to the memory type t. */
n4d_status n4d__h5_read_rows(n4d__h5 *h, hid_t dset, const char *name, n4d__h5_type t,
                             uint64_t off, uint64_t count, void *buf);
/* Reads the scalar or 1-element string dataset/attribute into a buffer
 * allocated from the context (N4D_MEM_OTHER, size *len + 1). */
n4d_status n4d__h5_read_str_dset(n4d__h5 *h, hid_t loc, const char *name, char **out, size_t *len);

/* Attributes: checked reads of `n` elements (scalar when n == 1) and writes. */
n4d_status n4d__h5_attr_read(n4d__h5 *h, hid_t loc, const char *obj, const char *name,
                             n4d__h5_type t, size_t n, void *out);
n4d_status n4d__h5_attr_read_str(n4d__h5 *h, hid_t loc, const char *obj, const char *name,
                                 char *out, size_t cap);
n4d_status n4d__h5_attr_write(n4d__h5 *h, hid_t loc, const char *obj, const char *name,
                              n4d__h5_type t, size_t n, const void *data);
/* A fixed-length string (NUL-padded UTF-8, held in the checksummed object
 * header): for strings n4d reads back. */
n4d_status n4d__h5_attr_write_str(n4d__h5 *h, hid_t loc, const char *obj, const char *name,
                                  const char *s);
/* A variable-length string, the type SONATA readers expect as text (h5py
 * gives a fixed-length one as bytes). Its value lives in HDF5's global
 * heap, which has no checksum: only for attributes n4d never reads. */
n4d_status n4d__h5_attr_write_text(n4d__h5 *h, hid_t loc, const char *obj, const char *name,
                                   const char *s);

/* Layout of created datasets. */
typedef struct n4d__h5_layout {
    uint64_t chunk;     /* rows per chunk */
    int gzip;           /* 0: none, else level */
    bool shuffle;
    bool contiguous;    /* contiguous, no filter (n4d's checksum attribute instead) */
    bool extendible;    /* unlimited first dimension (chunked) */
} n4d__h5_layout;

/* Creates a dataset of `rows` x cols (cols == 0: 1-D); chunked datasets
 * get the Fletcher32 filter. */
hid_t n4d__h5_create_dset(n4d__h5 *h, hid_t loc, const char *name, n4d__h5_type t, uint64_t rows,
                          uint64_t cols, const n4d__h5_layout *L, n4d_status *st);
/* Writes rows [off, off + count) from buf (memory type t). Rows of a
 * contiguous dataset must be written in order from row 0: each write
 * extends its checksum. */
n4d_status n4d__h5_write_rows(n4d__h5 *h, hid_t dset, const char *name, n4d__h5_type t,
                              uint64_t off, uint64_t count, const void *buf);
/* Creates, writes and closes a whole dataset. */
n4d_status n4d__h5_write_dset(n4d__h5 *h, hid_t loc, const char *name, n4d__h5_type t,
                              uint64_t rows, uint64_t cols, const n4d__h5_layout *L,
                              const void *buf);
/* Writes a scalar fixed-length string dataset with its checksum. */
n4d_status n4d__h5_write_str_dset(n4d__h5 *h, hid_t loc, const char *name, const char *s);
/* Creates a group (intermediate groups too). */
hid_t n4d__h5_create_group(n4d__h5 *h, hid_t loc, const char *name, n4d_status *st);
hid_t n4d__h5_open_group(n4d__h5 *h, hid_t loc, const char *name, n4d_status *st);

/* Closes any HDF5 id (ignores invalid ones). */
void n4d__h5_close(hid_t id);

/* ---- files ----------------------------------------------------------------- */

/* Output file being written: a temporary file beside `path`. */
typedef struct n4d__h5_out {
    hid_t file;
    char *tmp;      /* allocated from the context */
    size_t tmp_len;
} n4d__h5_out;

/* Creates the temporary file in the 1.10 file format, whose superblock,
 * object headers, chunk indexes and heaps carry checksums (aligned when
 * align is set, for mapping). */
n4d_status n4d__h5_out_create(n4d__h5 *h, n4d__h5_out *o, bool align);
/* Closes, syncs and renames the file over h->path. Frees o->tmp. */
n4d_status n4d__h5_out_commit(n4d__h5 *h, n4d__h5_out *o);
/* Closes and removes the temporary file. Frees o->tmp. */
void n4d__h5_out_abort(n4d__h5 *h, n4d__h5_out *o);

/* Opens an existing file read-only, telling a missing or unreadable file
 * (N4D_E_IO) from a file that is not HDF5 or is damaged (N4D_E_FORMAT). */
hid_t n4d__h5_open_read(n4d__h5 *h, n4d_status *st);

/* Writes the SONATA root attributes (magic, version) and /n4d attributes
 * format_version and kind. */
n4d_status n4d__h5_write_header(n4d__h5 *h, hid_t file, hid_t n4d, const char *kind);
/* Checks them. */
n4d_status n4d__h5_check_header(n4d__h5 *h, hid_t file, hid_t n4d, const char *kind);

/* Escapes a population or edge name for use as an HDF5 link name ('/' and
 * '%' as %2F and %25; "." as %2E). */
void n4d__h5_escape(const char *name, char *out, size_t cap);

/* Converts save options into a layout. */
void n4d__h5_layout_from(const n4d_save_options *o, n4d__h5_layout *L);
/* Reads caller's save options (NULL: defaults) and checks them. */
n4d_status n4d__h5_save_options(n4d__h5 *h, const n4d_save_options *in, n4d_save_options *out);

/* ---- model save / load shared with checkpoints (store_model.c; its parts: store_model.h) */

/* Writes the model (/nodes, /edges, /n4d) into an open file. */
n4d_status n4d__store_write_model(n4d__h5 *h, hid_t file, const n4d_model *m,
                                  const n4d_save_options *opt, const char *kind);
/* The same with the weights weight_q (internal CSR order) in place of the
 * model's (NULL: the model's). */
n4d_status n4d__store_write_model_w(n4d__h5 *h, hid_t file, const n4d_model *m,
                                    const int32_t *weight_q, const n4d_save_options *opt,
                                    const char *kind);
/* Reads the model from an open file into a new model. */
n4d_status n4d__store_read_model(n4d__h5 *h, hid_t file, const n4d_load_options *opt,
                                 const char *kind, n4d_model **out);

/* Installs the built arrays (by user id: positions, CSR rows and targets)
 * into a described model, computes the layout (layout = order, partitions,
 * balance_synapses; NULL: lattice order), reorders the synapses to it and
 * marks the model built. Takes ownership of pos and the synapse arrays even
 * on failure (then destroy the model). pop_n: neurons per population. */
n4d_status n4d__store_install(n4d__h5 *h, n4d_model *m, uint64_t n_neurons, int32_t *pos,
                              const uint64_t *pop_n, n4d__synapses *syn, const int32_t layout[3]);
/* Frees synapse arrays allocated for a model of n neurons (not installed). */
void n4d__store_free_syn(n4d_context *ctx, n4d__synapses *s, uint64_t n_neurons);
/* Checks the row and segment offsets (seg_ptr, seg_off) of CSR arrays of a
 * model of n neurons: before the synapse rows are allocated and read. */
n4d_status n4d__store_check_offsets(n4d__h5 *h, const n4d__synapses *s, uint64_t n_neurons);
/* Checks CSR arrays (in memory) for a model of n neurons; sets the delay
 * range. Errors name the dataset under /n4d/synapses. */
n4d_status n4d__store_check_syn(n4d__h5 *h, n4d__synapses *s, uint64_t n_neurons);

/* ---- checkpoint state (store_sim.c, store_plastic.c) ---- */

/* Writes the N values of an internal-order array (elements of elem bytes)
 * as dataset `name` by user id; scratch holds N elements. */
n4d_status n4d__store_write_by_user(n4d__h5 *h, hid_t g, const char *name, n4d__h5_type t,
                                    const n4d_model *m, const void *arr, size_t elem,
                                    const n4d__h5_layout *L, void *scratch);
/* Reads dataset `name` (N values by user id) into the internal-order array. */
n4d_status n4d__store_read_by_user(n4d__h5 *h, hid_t g, const char *name, n4d__h5_type t,
                                   const n4d_model *m, void *arr, size_t elem, void *scratch);
/* The plastic state of a sim (sim->plastic; none: nothing) under
 * /n4d/state/plastic; the read checks it against the sim's model, after the
 * rest of the state (it needs the step). */
n4d_status n4d__store_write_plastic(n4d__h5 *h, hid_t file, const n4d_sim *sim,
                                    const n4d__h5_layout *L);
n4d_status n4d__store_read_plastic(n4d__h5 *h, hid_t file, n4d_sim *sim);

/* The learning state beside it (store_learn.c): modulator levels and
 * driven spikes in flight (/n4d/state/modulators), homeostatic scales
 * (/n4d/state/homeostasis), the cell lifecycle (/n4d/state/lifecycle).
 * Each writes nothing when the sim has none; each read checks the group
 * against the model, after the rest of the state. scratch: N int64. */
n4d_status n4d__store_write_modulators(n4d__h5 *h, hid_t file, const n4d_sim *sim,
                                       const n4d__h5_layout *L);
n4d_status n4d__store_read_modulators(n4d__h5 *h, hid_t file, n4d_sim *sim);
n4d_status n4d__store_write_homeostasis(n4d__h5 *h, hid_t file, const n4d_sim *sim,
                                        const n4d__h5_layout *L, void *scratch);
n4d_status n4d__store_read_homeostasis(n4d__h5 *h, hid_t file, n4d_sim *sim, void *scratch);
n4d_status n4d__store_write_lifecycle(n4d__h5 *h, hid_t file, const n4d_sim *sim,
                                      const n4d__h5_layout *L, void *scratch);
n4d_status n4d__store_read_lifecycle(n4d__h5 *h, hid_t file, n4d_sim *sim, void *scratch);

/* Smallest power of two scale with max |w| below 2^26 (as the build does). */
double n4d__store_scale_for(double maxw);

#endif /* N4D_HAVE_HDF5 */
#endif
