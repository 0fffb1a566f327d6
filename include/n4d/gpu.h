/** \file
 * n4d — the GPU API of the 4D Neural Cognition performance guide
 * (GPUAccelerator), with CPU equivalents so the same calls work without a
 * GPU: device count and selection, device memory use, releasing cached
 * device memory, an array-level vectorised LIF update, a sparse synapse
 * product (CSR matrix x vector, cuSPARSE SpMV on the GPU), batched dense
 * matrix products (cuBLAS gemmStridedBatched on the GPU) and a GPU-vs-CPU
 * benchmark.
 *
 * The GPU path runs in libn4d_cuda.so, which the library loads at run time
 * (docs/gpu.md); without it, without a driver or without a device, an
 * n4d_gpu handle runs every operation on the CPU and says why
 * (n4d_gpu_info.reason). The LIF update gives bitwise the same results on
 * both paths (the simulator's own n4d lif equation, no FMA contraction); the
 * sparse and dense products agree to float rounding (different summation
 * orders).
 *
 * Thread safety: an n4d_gpu handle is used by one thread at a time; distinct
 * handles are independent. The library prints nothing. */
#ifndef N4D_GPU_H
#define N4D_GPU_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A GPU accelerator handle: a device (or the CPU) and its cached device
 * buffers. */
typedef struct n4d_gpu n4d_gpu;

/** Options of n4d_gpu_create (n4d_gpu_options_init fills the defaults). */
typedef struct n4d_gpu_options {
    uint32_t struct_size;  /**< sizeof(n4d_gpu_options) */
    int32_t use_gpu;       /**< 1 (default): use a CUDA device when one is usable; 0: CPU */
    int32_t device_id;     /**< CUDA device ordinal (default 0) */
    int32_t require_gpu;   /**< 1: n4d_gpu_create fails (N4D_E_NOT_BUILT / N4D_E_NO_DEVICE)
                                instead of falling back to the CPU (default 0) */
} n4d_gpu_options;

/** Fills `opt` with the defaults (use_gpu 1, device 0, CPU fallback). */
N4D_API void n4d_gpu_options_init(n4d_gpu_options *opt);

/** Number of usable CUDA devices: 0 without libn4d_cuda.so, without a
 * driver or without a device. Thread-safe. */
N4D_API int32_t n4d_gpu_device_count(void);

/** Creates a handle. `ctx` provides the allocator for host memory (NULL
 * is an error); `opt` may be NULL for the defaults. With use_gpu and a
 * usable device the handle runs on the GPU, else on the CPU (reason in
 * n4d_gpu_info). An out-of-range device_id is N4D_E_RANGE when devices
 * exist. Errors of a handle that was not made are recorded on ctx. */
N4D_API n4d_status n4d_gpu_create(n4d_context *ctx, const n4d_gpu_options *opt, n4d_gpu **out);

/** Destroys the handle and releases its device memory. NULL is a no-op. */
N4D_API void n4d_gpu_destroy(n4d_gpu *gpu);

/** Detail of the handle's last error ("" if none); valid until the next
 * call on the handle. n4d_last_error(gpu) gives the same. */
N4D_API const char *n4d_gpu_last_error(const n4d_gpu *gpu);

/** 1 when the handle runs on a GPU, 0 on the CPU (is_gpu_available). */
N4D_API int n4d_gpu_is_available(const n4d_gpu *gpu);

/** What a handle runs on (n4d_gpu_get_info). */
typedef struct n4d_gpu_info {
    uint32_t struct_size;      /**< sizeof(n4d_gpu_info) */
    int32_t on_gpu;            /**< 1: GPU, 0: CPU */
    int32_t device_id;         /**< the device (-1 on the CPU) */
    int32_t device_count;      /**< usable devices */
    char name[256];            /**< device name, or "cpu" */
    uint64_t total_bytes;      /**< device memory */
    int32_t compute_major;     /**< compute capability, major */
    int32_t compute_minor;     /**< compute capability, minor */
    int32_t multiprocessors;   /**< streaming multiprocessors */
    int32_t runtime_version;   /**< CUDA runtime version (1000 * major + 10 * minor) */
    int32_t driver_version;    /**< CUDA driver version (1000 * major + 10 * minor) */
    char reason[512];          /**< why the handle runs on the CPU ("" on the GPU): no
                                    library, no driver, no device, use_gpu = 0 */
} n4d_gpu_info;

/** Fills `out` (set out->struct_size first). */
N4D_API n4d_status n4d_gpu_get_info(const n4d_gpu *gpu, n4d_gpu_info *out);

/** Moves the handle to device `device_id` (its cached buffers are
 * released). N4D_E_RANGE for an ordinal that does not exist; on a handle
 * without GPU, N4D_E_NO_DEVICE / N4D_E_NOT_BUILT with the reason. */
N4D_API n4d_status n4d_gpu_select_device(n4d_gpu *gpu, int32_t device_id);

/** Device memory of the handle's device (get_memory_usage). On the CPU all
 * fields are 0 and on_gpu is 0. */
typedef struct n4d_gpu_memory {
    uint32_t struct_size;      /**< sizeof(n4d_gpu_memory) */
    int32_t on_gpu;            /**< 1: the handle runs on a GPU */
    double used_mb;            /**< MiB (2^20 bytes) in use on the whole device */
    double total_mb;           /**< MiB of the device */
    double free_mb;            /**< MiB free on the device */
    double percent;            /**< used / total * 100 */
    uint64_t cached_bytes;     /**< device buffers this handle keeps between calls */
} n4d_gpu_memory;

/** Fills `out` (set out->struct_size first) with the device's memory use. */
N4D_API n4d_status n4d_gpu_memory_usage(n4d_gpu *gpu, n4d_gpu_memory *out);

/** Releases the device buffers the handle caches between calls, and the
 * runtime's pooled memory (clear_memory). *released_bytes (may be NULL)
 * receives the bytes of the buffers. A no-op on the CPU. */
N4D_API n4d_status n4d_gpu_clear_memory(n4d_gpu *gpu, uint64_t *released_bytes);

/** Parameters of the vectorised LIF update (4D Neural Cognition's LIF). */
typedef struct n4d_gpu_lif_params {
    uint32_t struct_size;      /**< sizeof(n4d_gpu_lif_params) */
    double tau_m;              /**< ms (default 20) */
    double v_rest;             /**< mV (default -65) */
    double v_threshold;        /**< mV (default -50) */
    double v_reset;            /**< mV (default -70) */
    double dt;                 /**< ms (default 1, 4D Neural Cognition's step) */
} n4d_gpu_lif_params;

/** Fills `p` with the defaults above. */
N4D_API void n4d_gpu_lif_params_init(n4d_gpu_lif_params *p);

/** vectorized_lif_update: for each of the n neurons, in float,
 *   V' = V + (-(V - v_rest) + (i_syn + i_ext)) / tau_m * dt
 * (non-finite -> v_rest); a neuron with refractory[i] != 0 keeps V and
 * ignores its input; a neuron with V' >= v_threshold spikes
 * (spikes[i] = 1) and is set to v_reset. i_syn, i_ext and refractory may be
 * NULL (zero input, nobody refractory). v_out may equal v. *n_spikes (may
 * be NULL) receives the number of spikes. Bitwise the same on GPU and CPU,
 * and the same equation as the simulator's `lif` model. */
N4D_API n4d_status n4d_gpu_lif_update(n4d_gpu *gpu, const n4d_gpu_lif_params *params, uint64_t n,
                                      const float *v, const float *i_syn, const float *i_ext,
                                      const uint8_t *refractory, float *v_out, uint8_t *spikes,
                                      uint64_t *n_spikes);

/** A CSR sparse matrix (rows x cols, zero-based, 32-bit indices as
 * scipy.sparse uses for nnz < 2^31): row r holds columns
 * col_idx[row_ptr[r] .. row_ptr[r+1]-1] with values[...]. */
typedef struct n4d_gpu_csr {
    uint32_t struct_size;      /**< sizeof(n4d_gpu_csr) */
    uint64_t rows;             /**< number of rows */
    uint64_t cols;             /**< number of columns */
    uint64_t nnz;              /**< number of stored entries */
    const int32_t *row_ptr;    /**< rows + 1 entries, row_ptr[0] = 0, row_ptr[rows] = nnz */
    const int32_t *col_idx;    /**< nnz entries in [0, cols) */
    const float *values;       /**< nnz entries */
} n4d_gpu_csr;

/** y = A x (x: cols entries, y: rows entries): cuSPARSE SpMV
 * (CUSPARSE_SPMV_CSR_ALG2, the same bits on every run) on the GPU; on the
 * CPU each row is summed in double in column order and rounded once. The
 * matrix is checked (row_ptr monotone, columns in range). */
N4D_API n4d_status n4d_gpu_spmv(n4d_gpu *gpu, const n4d_gpu_csr *a, const float *x, float *y);

/** sparse_synapse_matmul: the synaptic current of each target from a spike
 * vector: currents = W s with W (targets x sources, W[post][pre] the
 * weight) in CSR and s[j] = spikes[j] ? 1 : 0. */
N4D_API n4d_status n4d_gpu_sparse_synapse_matmul(n4d_gpu *gpu, const n4d_gpu_csr *weights,
                                                 const uint8_t *spikes, float *currents);

/** A batch of row-major products C_b = alpha A_b B_b + beta C_b, b < batch,
 * A_b m x k, B_b k x n, C_b m x n, each operand's matrices contiguous
 * (a + b*m*k, ...). */
typedef struct n4d_gpu_gemm {
    uint32_t struct_size;      /**< sizeof(n4d_gpu_gemm) */
    uint64_t m;                /**< rows of A and C (< 2^31) */
    uint64_t n;                /**< columns of B and C (< 2^31) */
    uint64_t k;                /**< columns of A, rows of B (< 2^31) */
    uint64_t batch;            /**< number of products (< 2^31) */
    float alpha;               /**< C = alpha A B + beta C (default 1) */
    float beta;                /**< (default 0) */
    const float *a;            /**< the A matrices, batch * m * k floats */
    const float *b;            /**< the B matrices, batch * k * n floats */
    float *c;                  /**< read only when beta != 0 */
} n4d_gpu_gemm;

/** Fills `g` with the defaults (alpha 1, beta 0, no matrices). */
N4D_API void n4d_gpu_gemm_init(n4d_gpu_gemm *g);

/** Batched GEMM: cuBLAS gemmStridedBatched (FP32, no TF32) on the GPU, a
 * float loop on the CPU. */
N4D_API n4d_status n4d_gpu_gemm_batched(n4d_gpu *gpu, const n4d_gpu_gemm *g);

enum {
    N4D_GPU_BENCH_LIF_UPDATE = 0 /**< n4d_gpu_lif_update on random neurons */
};

/** Options of n4d_gpu_benchmark (n4d_gpu_benchmark_options_init fills
 * the defaults). */
typedef struct n4d_gpu_benchmark_options {
    uint32_t struct_size;      /**< sizeof(n4d_gpu_benchmark_options) */
    int32_t operation;         /**< N4D_GPU_BENCH_* (default LIF update) */
    const uint64_t *sizes;     /**< array sizes (neurons) */
    size_t n_sizes;            /**< entries of `sizes` */
    uint32_t iterations;       /**< per size (default 100) */
    int32_t cpu_threads;       /**< CPU path threads (default 1; OpenMP builds) */
    uint64_t seed;             /**< data (default 1) */
} n4d_gpu_benchmark_options;

/** Fills `opt` with the defaults above. */
N4D_API void n4d_gpu_benchmark_options_init(n4d_gpu_benchmark_options *opt);

/** Results of benchmark_vs_cpu: the caller provides arrays of n_sizes
 * entries (any may be NULL). Times are mean seconds per iteration. */
typedef struct n4d_gpu_benchmark_result {
    uint32_t struct_size;      /**< sizeof(n4d_gpu_benchmark_result) */
    uint64_t *sizes;           /**< the sizes, echoed */
    double *cpu_seconds;       /**< the CPU path */
    double *gpu_seconds;       /**< GPU kernel only, data resident on the device; NaN without GPU */
    double *gpu_seconds_with_transfers; /**< with the host<->device copies of every call */
    double *speedups;          /**< cpu / gpu (kernel only); NaN without GPU */
    double *speedups_with_transfers; /**< cpu / gpu with the copies; NaN without GPU */
    int32_t gpu_available;     /**< 0: only CPU times were measured (see note) */
    int32_t results_match;     /**< 1: GPU and CPU results bitwise equal for every size
                                    (-1 without GPU) */
    char device[256];          /**< device name or "cpu" */
    char note[512];            /**< e.g. why the GPU is unavailable */
} n4d_gpu_benchmark_result;

/** benchmark_vs_cpu: runs the operation on the CPU and, when the handle has
 * a GPU, on the GPU, for every size. Without a GPU it reports the CPU times,
 * NaN GPU times, gpu_available = 0 and the reason in note (status N4D_OK). */
N4D_API n4d_status n4d_gpu_benchmark(n4d_gpu *gpu, const n4d_gpu_benchmark_options *opt,
                                     n4d_gpu_benchmark_result *res);

#ifdef __cplusplus
}
#endif
#endif
