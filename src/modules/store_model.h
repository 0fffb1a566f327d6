/* Internal interface between the parts of the model store. store_model.c
 * saves and loads a model (n4d_model_save, n4d_model_load, and the model
 * part of checkpoints) from these parts, one concern each:
 *   store_desc.c     the JSON model description (/n4d/description)
 *   store_sonata.c   the SONATA view for other tools (/nodes, /edges)
 *   store_csr.c      the CSR synapse arrays: file order, checks, whole
 *                    read, install into a new model
 *   store_partial.c  partial loads: neuron selection, positions, synapses
 *                    among the kept neurons
 *   store_mmap.c     memory-mapped synapse arrays
 * File layout: docs/storage.md. */
#ifndef N4D_STORE_MODEL_H
#define N4D_STORE_MODEL_H

#include "store_h5.h"

#if N4D_HAVE_HDF5

#define N4D__STORE_BLOCK ((uint64_t)1 << 18) /* rows per generated write or read */
#define N4D__STORE_DESC "/n4d/description"
#define N4D__STORE_SYN(name) "/n4d/synapses/" name

/* File encoding of a segment key: synapse class << 17 | delay in steps << 1
 * | channel (1 = the weights are negative); files before plastic classes
 * have class 0 everywhere. Written and read through these macros. */
#define N4D__FILE_KEY(key) \
    ((N4D__SEG_CLASS(key) << 17) | (N4D__SEG_DELAY(key) << 1) | N4D__SEG_CH(key))
#define N4D__FILE_KEY_OK(fk) (((fk) >> 31) == 0 && (((fk) >> 1) & 0xffffu) != 0)
#define N4D__KEY_FROM_FILE(fk) N4D__SEG_KEY3(((fk) >> 1) & 0xffffu, (fk) & 1u, ((fk) >> 17) & 0x3fffu)

/* Open datasets of /n4d/synapses. */
typedef struct n4d__syn_files {
    hid_t g, seg_ptr, seg_off, seg_key, target, weight_q;
} n4d__syn_files;
void n4d__syn_files_close(n4d__syn_files *f);

/* Kept neurons: sorted unique ids (all when keep == NULL). */
typedef struct n4d__selection {
    uint64_t *keep;
    uint64_t k;
    uint32_t *map; /* old id -> new id (UINT32_MAX: dropped); NULL when all */
} n4d__selection;

/* ---- store_desc.c ---- */
/* The model description as JSON text (malloc'ed by jansson), or NULL. */
char *n4d__store_describe(const n4d_model *m);
/* Describes the new model m from the description; *pop_n_out receives the
 * saved neuron count of each population (n_pops entries, allocated). */
n4d_status n4d__store_read_description(n4d__h5 *h, const char *text, size_t len, n4d_model *m,
                                       uint64_t **pop_n_out);

/* ---- store_sonata.c ---- */
/* /nodes/<pop>: SONATA node populations with positions and parameters;
 * scratch holds N4D__STORE_BLOCK * 24 bytes. */
n4d_status n4d__store_write_nodes(n4d__h5 *h, hid_t file, const n4d_model *m,
                                  const n4d__h5_layout *L, void *scratch);
/* /edges/<source>-><target> for every pair of populations with synapses
 * (s: the CSR by user id). */
n4d_status n4d__store_write_edges(n4d__h5 *h, hid_t file, const n4d_model *m,
                                  const n4d__synapses *s, const n4d__h5_layout *L, void *scratch);

/* ---- store_csr.c (and store_h5.h: free, check, install, scale) ---- */
/* dst = src with row r of dst taken from row row_of[r] of src and every
 * target t replaced by tmap[t]; each segment sorted again by (target,
 * weight). dst arrays are allocated as the model frees them. */
n4d_status n4d__store_permute_syn(n4d__h5 *h, n4d_context *ctx, const n4d__synapses *src,
                                  uint64_t N, const uint32_t *row_of, const uint32_t *tmap,
                                  n4d__synapses *dst);
/* Whole synapse arrays of a model of N neurons, read, or mapped when `mapped`;
 * s holds n_syn, n_seg and scale. */
n4d_status n4d__store_read_all_syn(n4d__h5 *h, const n4d__syn_files *f, n4d_context *ctx,
                                   uint64_t N, bool mapped, n4d__synapses *s);

/* ---- store_partial.c ---- */
/* Positions of the neurons [a, b) (global ids) into out (4 per neuron);
 * col is scratch of N4D__STORE_BLOCK entries. */
n4d_status n4d__store_read_positions_range(n4d__h5 *h, hid_t file, const n4d_model *m,
                                           const uint64_t *pop_first, const uint64_t *pop_n,
                                           uint64_t a, uint64_t b, int32_t *out, int32_t *col);
/* The neurons the load options o keep, out of N. */
n4d_status n4d__store_select_neurons(n4d__h5 *h, hid_t file, const n4d_model *m,
                                     const n4d_load_options *o, uint64_t N,
                                     const uint64_t *pop_first, const uint64_t *pop_n,
                                     n4d__selection *sel);
void n4d__store_selection_free(n4d_context *ctx, n4d__selection *sel, const n4d_load_options *o,
                               uint64_t N);
/* Synapses among the kept neurons, read span by span and renumbered. */
n4d_status n4d__store_read_partial_syn(n4d__h5 *h, const n4d__syn_files *f, n4d_context *ctx,
                                       uint64_t N, const n4d__selection *sel, n4d__synapses *s);

/* ---- store_mmap.c ---- */
/* Maps target and weight_q (s->n_syn entries each) read-only and sets
 * s->release to unmap them; fails (N4D_E_UNSUPPORTED) when a dataset is not
 * stored contiguous, uncompressed and in native byte order. */
n4d_status n4d__store_map_syn(n4d__h5 *h, const n4d__syn_files *f, n4d__synapses *s);
/* Lets the kernel drop the mapped pages (after a check paged them in). */
void n4d__store_mapped_dontneed(n4d__synapses *s);

#endif /* N4D_HAVE_HDF5 */
#endif
