/* The interface between the pure C core and the CUDA backend library
 * libn4d_cuda.so, which the core loads at run time with dlopen()
 * (cuda_loader.c). The library exports one symbol, N4D_CUDA_ENTRY, which
 * returns a table of functions for the requested ABI version. Everything
 * crossing the boundary is plain C data: the library never sees the core's
 * structures (struct n4d_sim, n4d_model), only the descriptor below, and it
 * reports spikes through a callback. The shared per-neuron equations
 * (neuron.h), the counter RNG (philox.h) and the synapse generator
 * (synapse_gen.h) are compiled into both sides.
 *
 * Compiles as C11 (core) and as CUDA C++ (cuda/). Never installed.
 *
 * Conventions: every function returns an n4d_status; `err` (at least
 * N4D_CUDA_ERR_CAP bytes, may not be NULL) receives a NUL-terminated reason
 * on failure and is left untouched on success. The library keeps no global
 * mutable state besides what the CUDA runtime keeps itself; each object
 * (simulation, array context) is used by one thread at a time. */
#ifndef N4D_CUDA_API_H
#define N4D_CUDA_API_H

#include <stddef.h>
#include <stdint.h>

#include "n4d/common.h"
#include "neuron.h"
#include "plastic_dev.h"
#include "synapse_gen.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever a structure or function below changes. */
#define N4D_CUDA_ABI_VERSION 5u
/* Name of the exported entry point. */
#define N4D_CUDA_ENTRY "n4d_cuda_get_api"
/* File name of the library. */
#define N4D_CUDA_LIBRARY_NAME "libn4d_cuda.so"
/* Capacity of the error buffers passed to the library. */
#define N4D_CUDA_ERR_CAP 512

/* Flags of sim_sync (and of n4d__backend_ops.sync). */
#define N4D__SYNC_TO_HOST 1u  /* device -> host (else host -> device) */
#define N4D__SYNC_STATE 2u    /* neuron state arrays only, not the delay ring */
#define N4D__SYNC_IEXT 4u     /* the external input array only */
#define N4D__SYNC_PLASTIC 8u  /* the plastic state only (weights, histories) */

/* A DC input (n4d__input reduced to what the update needs). */
typedef struct n4d__cuda_dc {
    int32_t pop;
    int32_t pad_;
    double amplitude, start, stop; /* as in the model: ms */
} n4d__cuda_dc;

/* The plastic synapses of a simulation (ABI 4; plastic_dev.h): the
 * classes with the host copies of their state (the core's arrays, which
 * sim_sync copies to and from: they must stay valid until sim_destroy),
 * the per-population trace constants, and the spike histories as rings of
 * one capacity hist_cap (a power of two) per neuron: hist[i * hist_cap ..]
 * from hist_head[i], hist_len[i] used. In the classes, wd / wf / tu / tx /
 * tlast are host addresses of n synapses (wd, wf) or n neurons. */
typedef struct n4d__cuda_plastic_desc {
    uint32_t n_cls;
    uint32_t hist_cap;
    const n4d__pdev_cls *cls;   /* host pointers in wd .. tlast */
    const uint64_t *cls_n;      /* per class: synapses */
    const uint64_t *seg_base;   /* n_seg */
    const int32_t *pop_of;      /* n */
    uint32_t n_pops;
    const uint8_t *pop_tracked, *nearest_plus, *nearest_minus; /* n_pops */
    const double *inv_tau_plus, *inv_tau_minus;               /* n_pops */
    int64_t window, keep;
    double scale;
    /* host state (sim_sync) */
    n4d__spk *hist;
    uint32_t *hist_head, *hist_len;
    n4d__recent *recent;
    int64_t *flushed;
    int64_t *last_flush_check;
} n4d__cuda_plastic_desc;

/* Everything the device simulation needs, filled by the core. Arrays other
 * than the host state are copied during sim_create and may be freed after
 * it; the host state arrays (v .. ring) must stay valid until sim_destroy:
 * sim_sync copies between them and the device. */
typedef struct n4d__cuda_sim_desc {
    uint32_t struct_size;
    int32_t device;             /* CUDA device ordinal */
    uint64_t n;                 /* neurons (internal indices 0 .. n-1) */
    uint64_t seed;              /* simulation seed (Poisson input) */
    uint64_t step;              /* next step to simulate */
    double dt;                  /* ms */
    double inv_scale;           /* fixed point -> float */
    /* host state, structure of arrays (internal order): v, the auxiliary
     * state arrays x[0 .. nx-1] (x[nx..] alias v: no model reads them) */
    float *v, *x[N4D__NX], *iext;
    int32_t *ref;
    int64_t *ring;              /* ring[(slot * 2 + ch) * n + i] */
    uint32_t ring_slots;        /* max_delay (slot = step % ring_slots) */
    uint32_t min_delay, max_delay;
    uint32_t nx;                /* auxiliary state arrays in use */
    /* per-run constants, inputs */
    const n4d__pop_rt *runs;
    uint64_t n_runs;
    const n4d__cuda_dc *dc;
    uint64_t n_dc;
    const n4d__poisson_rt *poisson;
    uint64_t n_poisson;
    const uint32_t *perm;       /* internal index -> user id; NULL = identity */
    /* synapses: CSR by source with (delay, sign) segments (internal.h) */
    uint64_t n_syn, n_seg;
    const uint64_t *seg_ptr;    /* n + 1 */
    const uint64_t *seg_off;    /* n_seg + 1 */
    const uint32_t *seg_key;    /* n_seg */
    const uint32_t *target;     /* n_syn */
    const int32_t *weight_q;    /* n_syn */
    /* plastic synapses (ABI 4); NULL without */
    const n4d__cuda_plastic_desc *plastic;
} n4d__cuda_sim_desc;

/* Reports the spikes of one step (internal indices, ascending). Sets
 * *reported to 1 when the step was counted (also on an observer error), 0
 * when it was not (N4D_E_NOMEM: the library reports it again first on the
 * next run). A non-OK status stops the run and is returned by sim_run. */
typedef n4d_status (*n4d__cuda_emit_fn)(void *user, uint64_t step, const uint32_t *ids,
                                        uint64_t count, int *reported);

/* Device properties (array API and diagnostics). */
typedef struct n4d__cuda_device_info {
    char name[256];
    uint64_t total_bytes;
    int32_t major, minor;       /* compute capability */
    int32_t multiprocessors;
    int32_t runtime_version, driver_version;
} n4d__cuda_device_info;

/* Row-major batched matrix product: C_b = alpha * A_b B_b + beta * C_b,
 * A_b m x k, B_b k x n, C_b m x n, matrices of one operand contiguous
 * (stride = rows * cols). Host pointers. */
typedef struct n4d__cuda_gemm {
    uint64_t m, n, k, batch;
    float alpha, beta;
    const float *a, *b;
    float *c;
} n4d__cuda_gemm;

/* Synapse generation on the device (build.c's device path). The pointers in
 * the projections (cdf tables, ftn_count, pairs, site_slot) are host
 * addresses; their sizes follow from the projection (cdf_n, pre_n, n, the
 * target area's extent). All arrays are copied during build_count. */
typedef struct n4d__cuda_build_desc {
    uint32_t struct_size;
    int32_t device;
    uint64_t seed;              /* model seed */
    uint64_t n;                 /* neurons */
    const int32_t *pos;         /* 4 per neuron by user id (read by distance rules) */
    const n4d__sg_proj *projs;
    uint64_t n_projs;
} n4d__cuda_build_desc;

/* What build_fill reports. */
typedef struct n4d__cuda_build_info {
    uint64_t n_seg;             /* (delay, sign) segments */
    float max_abs_weight;       /* largest |weight| of a synapse */
    uint32_t min_delay, max_delay; /* steps (1, 1 without synapses) */
    double seconds;             /* device time of the generation, sort and segments */
} n4d__cuda_build_info;

typedef struct n4d__cuda_api {
    uint32_t abi_version;       /* N4D_CUDA_ABI_VERSION */
    uint32_t struct_size;       /* sizeof(n4d__cuda_api) */
    const char *build_info;     /* static: CUDA version and architectures */

    /* ---- devices ---- */
    /* Number of devices; N4D_E_NO_DEVICE (count 0) with the reason ("no
     * CUDA driver", "no CUDA device", with the CUDA error string). */
    n4d_status (*device_count)(int32_t *count, char *err);
    n4d_status (*device_info)(int32_t device, n4d__cuda_device_info *out, char *err);
    n4d_status (*mem_info)(int32_t device, uint64_t *free_bytes, uint64_t *total_bytes,
                           char *err);

    /* ---- simulation backend ---- */
    n4d_status (*sim_create)(const n4d__cuda_sim_desc *desc, void **out, char *err);
    void (*sim_destroy)(void *sim);
    /* Advances `steps` steps (counting steps computed earlier whose report
     * failed, which are reported first), reporting each through emit. An
     * emit error is returned as is, with err left empty. A spike history
     * that outgrows hist_cap stops the run with N4D_E_LIMIT (the device
     * state is then undefined). */
    n4d_status (*sim_run)(void *sim, uint64_t steps, n4d__cuda_emit_fn emit, void *user,
                          char *err);
    /* Copies state between the host arrays and the device (N4D__SYNC_*;
     * without STATE, IEXT or PLASTIC: everything, the plastic state too).
     * `step` is the host's step counter: to the device, a different value
     * than the library's (a restored checkpoint) drops steps pending report
     * and restarts from it. */
    n4d_status (*sim_sync)(void *sim, uint32_t flags, uint64_t step, char *err);
    /* Device bytes held by a simulation. */
    uint64_t (*sim_device_bytes)(const void *sim);

    /* ---- array API (include/n4d/gpu.h) ---- */
    n4d_status (*arr_create)(int32_t device, void **out, char *err);
    void (*arr_destroy)(void *arr);
    /* Frees the cached device buffers; *released receives their bytes. */
    n4d_status (*arr_clear)(void *arr, uint64_t *released, char *err);
    uint64_t (*arr_cached_bytes)(const void *arr);
    /* LIF update of n neurons with n4d__lif_step (p: lif constants);
     * refractory may be NULL, i_syn / i_ext may be NULL (zero). */
    n4d_status (*lif_update)(void *arr, const n4d__pop_rt *p, uint64_t n, const float *v,
                             const float *i_syn, const float *i_ext, const uint8_t *refractory,
                             float *v_out, uint8_t *spikes, char *err);
    /* y = A x, A in CSR (32-bit indices) through cuSPARSE SpMV. */
    n4d_status (*spmv)(void *arr, uint64_t rows, uint64_t cols, uint64_t nnz,
                       const int32_t *row_ptr, const int32_t *col_idx, const float *values,
                       const float *x, float *y, char *err);
    /* cuBLAS gemmStridedBatched. */
    n4d_status (*gemm_batched)(void *arr, const n4d__cuda_gemm *g, char *err);
    /* Benchmark of the LIF update: mean seconds per iteration with the data
     * resident on the device (*kernel_s) and with the host transfers of
     * every iteration (*total_s); the last results go to v_out / spikes. */
    n4d_status (*bench_lif)(void *arr, const n4d__pop_rt *p, uint64_t n, uint32_t iterations,
                            const float *v, const float *i_syn, const float *i_ext,
                            const uint8_t *refractory, float *v_out, uint8_t *spikes,
                            double *kernel_s, double *total_s, char *err);

    /* ---- model construction (ABI 2) ---- */
    /* Uploads the projections and counts the synapses of every source:
     * counts[user id] (n entries, overwritten). *out receives the build. */
    n4d_status (*build_count)(const n4d__cuda_build_desc *desc, void **out, uint64_t *counts,
                              char *err);
    /* Generates every synapse into its row (internal order: to_internal maps
     * user ids, NULL = identity; row_ptr: n + 1 row starts), sorts each row
     * canonically (delay, sign, target, weight) and finds the segments. */
    n4d_status (*build_fill)(void *build, const uint32_t *to_internal, const uint64_t *row_ptr,
                             n4d__cuda_build_info *info, char *err);
    /* Converts the weights to fixed point (round(w * scale)) and copies the
     * CSR to the host arrays (sizes from the counts and info). */
    n4d_status (*build_fetch)(void *build, double scale, uint64_t *seg_ptr, uint64_t *seg_off,
                              uint32_t *seg_key, uint32_t *target, int32_t *weight_q, char *err);
    void (*build_destroy)(void *build);
} n4d__cuda_api;

/* The entry point: *out receives the table when abi_version is supported,
 * else N4D_E_UNSUPPORTED. */
typedef n4d_status (*n4d__cuda_entry_fn)(uint32_t abi_version, const n4d__cuda_api **out);

#ifdef __cplusplus
}
#endif
#endif
