// Device queries, the array API of include/n4d/gpu.h on the GPU (LIF update
// kernel, cuSPARSE SpMV, cuBLAS batched GEMM, the LIF benchmark), and the
// library's entry point with its function table.
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cusparse.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

#include "cu_common.cuh"

#define N4D_CUDA_EXPORT extern "C" __attribute__((visibility("default")))

#define STR2(x) #x
#define STR(x) STR2(x)
#ifndef N4D_CUDA_ARCHS
#define N4D_CUDA_ARCHS "unknown"
#endif

namespace n4dcu {
// backend.cu
n4d_status backend_sim_create(const n4d__cuda_sim_desc *d, void **out, char *err);
void backend_sim_destroy(void *h);
n4d_status backend_sim_run(void *h, uint64_t steps, n4d__cuda_emit_fn emit, void *user, char *err);
n4d_status backend_sim_sync(void *h, uint32_t flags, uint64_t step, char *err);
uint64_t backend_sim_device_bytes(const void *h);
// build.cu
n4d_status build_count_entry(const n4d__cuda_build_desc *d, void **out, uint64_t *counts, char *err);
n4d_status build_fill_entry(void *b, const uint32_t *to_internal, const uint64_t *row_ptr,
                            n4d__cuda_build_info *info, char *err);
n4d_status build_fetch_entry(void *b, double scale, uint64_t *seg_ptr, uint64_t *seg_off,
                             uint32_t *seg_key, uint32_t *target, int32_t *weight_q, char *err);
void build_destroy_entry(void *b);
} // namespace n4dcu

namespace {

using n4dcu::cuda_fail;
using n4dcu::fail;

// ---- devices -----------------------------------------------------------------

n4d_status device_count(int32_t *count, char *err)
{
    int c = 0; // cudaGetDeviceCount leaves it untouched on error
    cudaError_t e = cudaGetDeviceCount(&c);
    *count = 0;
    if (e == cudaErrorInsufficientDriver) {
        int drv = 0;
        cudaDriverGetVersion(&drv);
        (void)cudaGetLastError();
        if (drv == 0)
            return fail(err, N4D_E_NO_DEVICE,
                        "no driver: no CUDA driver is installed (cudaGetDeviceCount: %s, CUDA "
                        "error %d)",
                        cudaGetErrorString(e), (int)e);
        return fail(err, N4D_E_NO_DEVICE,
                    "no driver: the CUDA driver (version %d) is older than the runtime "
                    "(cudaGetDeviceCount: %s, CUDA error %d)",
                    drv, cudaGetErrorString(e), (int)e);
    }
    if (e == cudaErrorNoDevice || (e == cudaSuccess && c == 0)) {
        (void)cudaGetLastError();
        return fail(err, N4D_E_NO_DEVICE,
                    "no device: the CUDA driver reports no device (%s, CUDA error %d)",
                    e == cudaSuccess ? "0 devices" : cudaGetErrorString(e),
                    (int)(e == cudaSuccess ? cudaErrorNoDevice : e));
    }
    if (e != cudaSuccess) {
        n4d_status st = cuda_fail(err, e, "no device: cudaGetDeviceCount");
        return st == N4D_E_INTERNAL ? N4D_E_NO_DEVICE : st;
    }
    *count = c;
    return N4D_OK;
}

n4d_status device_info(int32_t device, n4d__cuda_device_info *out, char *err)
{
    std::memset(out, 0, sizeof *out);
    cudaDeviceProp prop;
    N4D_CU_TRY(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
    snprintf(out->name, sizeof out->name, "%s", prop.name);
    out->total_bytes = prop.totalGlobalMem;
    out->major = prop.major;
    out->minor = prop.minor;
    out->multiprocessors = prop.multiProcessorCount;
    cudaRuntimeGetVersion(&out->runtime_version);
    cudaDriverGetVersion(&out->driver_version);
    return N4D_OK;
}

n4d_status mem_info(int32_t device, uint64_t *free_bytes, uint64_t *total_bytes, char *err)
{
    n4d_status st = n4dcu::use_device(device, err);
    if (st)
        return st;
    size_t f = 0, t = 0;
    N4D_CU_TRY(cudaMemGetInfo(&f, &t), "cudaMemGetInfo");
    *free_bytes = f;
    *total_bytes = t;
    return N4D_OK;
}

// ---- the array context -----------------------------------------------------------

enum { BUF_V, BUF_SYN, BUF_EXT, BUF_REF, BUF_VOUT, BUF_SPK, BUF_A, BUF_B, BUF_C, BUF_D, BUF_COUNT };

struct Arr {
    int device;
    cudaStream_t stream;
    cublasHandle_t cublas;
    cusparseHandle_t cusparse;
    void *buf[BUF_COUNT];
    size_t cap[BUF_COUNT];
};

// A cached device buffer of at least `bytes` (grown, contents not kept).
n4d_status buffer(Arr *a, int slot, size_t bytes, void **out, char *err)
{
    if (bytes == 0)
        bytes = 1;
    if (a->cap[slot] < bytes) {
        if (a->buf[slot]) {
            cudaStreamSynchronize(a->stream);
            cudaFree(a->buf[slot]);
        }
        a->buf[slot] = nullptr;
        a->cap[slot] = 0;
        cudaError_t e = cudaMalloc(&a->buf[slot], bytes);
        if (e != cudaSuccess) {
            a->buf[slot] = nullptr;
            char what[96];
            snprintf(what, sizeof what, "cudaMalloc of %.1f MB", (double)bytes / 1048576.0);
            return cuda_fail(err, e, what);
        }
        a->cap[slot] = bytes;
    }
    *out = a->buf[slot];
    return N4D_OK;
}

n4d_status arr_create(int32_t device, void **out, char *err)
{
    *out = nullptr;
    n4d_status st = n4dcu::use_device(device, err);
    if (st)
        return st;
    Arr *a = new (std::nothrow) Arr();
    if (!a)
        return fail(err, N4D_E_NOMEM, "out of host memory");
    a->device = device;
    cudaError_t e = cudaStreamCreateWithFlags(&a->stream, cudaStreamNonBlocking);
    if (e != cudaSuccess) {
        delete a;
        return cuda_fail(err, e, "cudaStreamCreate");
    }
    *out = a;
    return N4D_OK;
}

uint64_t arr_cached_bytes(const void *p)
{
    const Arr *a = static_cast<const Arr *>(p);
    uint64_t b = 0;
    for (int k = 0; a && k < BUF_COUNT; k++)
        b += a->cap[k];
    return b;
}

n4d_status arr_clear(void *p, uint64_t *released, char *err)
{
    Arr *a = static_cast<Arr *>(p);
    n4d_status st = n4dcu::use_device(a->device, err);
    if (st)
        return st;
    cudaStreamSynchronize(a->stream);
    uint64_t b = 0;
    for (int k = 0; k < BUF_COUNT; k++) {
        if (a->buf[k])
            cudaFree(a->buf[k]);
        b += a->cap[k];
        a->buf[k] = nullptr;
        a->cap[k] = 0;
    }
    // memory the runtime keeps in the default stream-ordered pool
    cudaMemPool_t pool;
    if (cudaDeviceGetDefaultMemPool(&pool, a->device) == cudaSuccess)
        cudaMemPoolTrimTo(pool, 0);
    (void)cudaGetLastError();
    if (released)
        *released = b;
    return N4D_OK;
}

void arr_destroy(void *p)
{
    Arr *a = static_cast<Arr *>(p);
    if (!a)
        return;
    char err[N4D_CUDA_ERR_CAP];
    arr_clear(a, nullptr, err);
    if (cudaSetDevice(a->device) == cudaSuccess) {
        if (a->cublas)
            cublasDestroy(a->cublas);
        if (a->cusparse)
            cusparseDestroy(a->cusparse);
        cudaStreamDestroy(a->stream);
    }
    (void)cudaGetLastError();
    delete a;
}

// ---- LIF update -----------------------------------------------------------------------

// neuron.h's n4d__lif_step on arrays: the synaptic input as the excitatory
// channel, nothing inhibitory, i_e = 0 in p; refractory neurons are frozen.
__global__ void k_lif(n4d__pop_rt p, uint64_t n, const float *v, const float *isyn,
                      const float *iext, const uint8_t *refr, float *v_out, uint8_t *spk)
{
    const uint64_t stride = (uint64_t)gridDim.x * blockDim.x;
    for (uint64_t i = (uint64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        float vv = v[i];
        int32_t r = refr && refr[i] ? 1 : 0;
        const int s = n4d__lif_step(&p.k.lif, &vv, nullptr, nullptr, nullptr, &r,
                                    isyn ? isyn[i] : 0.0f, 0.0f, iext ? iext[i] : 0.0f);
        v_out[i] = vv;
        spk[i] = (uint8_t)s;
    }
}

struct LifDev {
    float *v, *isyn, *iext, *vout;
    uint8_t *refr, *spk;
};

n4d_status lif_buffers(Arr *a, uint64_t n, bool syn, bool ext, bool refr, LifDev *d, char *err)
{
    void *p = nullptr;
    n4d_status st;
    *d = LifDev();
    if ((st = buffer(a, BUF_V, n * sizeof(float), &p, err)))
        return st;
    d->v = static_cast<float *>(p);
    if ((st = buffer(a, BUF_VOUT, n * sizeof(float), &p, err)))
        return st;
    d->vout = static_cast<float *>(p);
    if ((st = buffer(a, BUF_SPK, n, &p, err)))
        return st;
    d->spk = static_cast<uint8_t *>(p);
    if (syn) {
        if ((st = buffer(a, BUF_SYN, n * sizeof(float), &p, err)))
            return st;
        d->isyn = static_cast<float *>(p);
    }
    if (ext) {
        if ((st = buffer(a, BUF_EXT, n * sizeof(float), &p, err)))
            return st;
        d->iext = static_cast<float *>(p);
    }
    if (refr) {
        if ((st = buffer(a, BUF_REF, n, &p, err)))
            return st;
        d->refr = static_cast<uint8_t *>(p);
    }
    return N4D_OK;
}

cudaError_t lif_upload(Arr *a, const LifDev &d, uint64_t n, const float *v, const float *isyn,
                       const float *iext, const uint8_t *refr)
{
    cudaError_t e = cudaMemcpyAsync(d.v, v, n * sizeof(float), cudaMemcpyHostToDevice, a->stream);
    if (e == cudaSuccess && isyn)
        e = cudaMemcpyAsync(d.isyn, isyn, n * sizeof(float), cudaMemcpyHostToDevice, a->stream);
    if (e == cudaSuccess && iext)
        e = cudaMemcpyAsync(d.iext, iext, n * sizeof(float), cudaMemcpyHostToDevice, a->stream);
    if (e == cudaSuccess && refr)
        e = cudaMemcpyAsync(d.refr, refr, n, cudaMemcpyHostToDevice, a->stream);
    return e;
}

cudaError_t lif_launch(Arr *a, const n4d__pop_rt *p, const LifDev &d, uint64_t n)
{
    uint64_t blocks = (n + 255) / 256;
    if (blocks > 65535u * 16u)
        blocks = 65535u * 16u;
    k_lif<<<(unsigned)(blocks ? blocks : 1), 256, 0, a->stream>>>(*p, n, d.v, d.isyn, d.iext,
                                                                   d.refr, d.vout, d.spk);
    return cudaGetLastError();
}

cudaError_t lif_download(Arr *a, const LifDev &d, uint64_t n, float *v_out, uint8_t *spikes)
{
    cudaError_t e =
        cudaMemcpyAsync(v_out, d.vout, n * sizeof(float), cudaMemcpyDeviceToHost, a->stream);
    if (e == cudaSuccess)
        e = cudaMemcpyAsync(spikes, d.spk, n, cudaMemcpyDeviceToHost, a->stream);
    return e;
}

n4d_status lif_update(void *arr, const n4d__pop_rt *p, uint64_t n, const float *v,
                      const float *isyn, const float *iext, const uint8_t *refr, float *v_out,
                      uint8_t *spikes, char *err)
{
    Arr *a = static_cast<Arr *>(arr);
    n4d_status st = n4dcu::use_device(a->device, err);
    if (st || n == 0)
        return st;
    LifDev d;
    if ((st = lif_buffers(a, n, isyn, iext, refr, &d, err)))
        return st;
    N4D_CU_TRY(lif_upload(a, d, n, v, isyn, iext, refr), "copying the LIF inputs");
    N4D_CU_TRY(lif_launch(a, p, d, n), "launching the LIF kernel");
    N4D_CU_TRY(lif_download(a, d, n, v_out, spikes), "copying the LIF results");
    N4D_CU_TRY(cudaStreamSynchronize(a->stream), "running the LIF kernel");
    return N4D_OK;
}

n4d_status bench_lif(void *arr, const n4d__pop_rt *p, uint64_t n, uint32_t iters, const float *v,
                     const float *isyn, const float *iext, const uint8_t *refr, float *v_out,
                     uint8_t *spikes, double *kernel_s, double *total_s, char *err)
{
    Arr *a = static_cast<Arr *>(arr);
    n4d_status st = n4dcu::use_device(a->device, err);
    if (st)
        return st;
    if (iters == 0)
        iters = 1;
    LifDev d;
    if ((st = lif_buffers(a, n ? n : 1, isyn, iext, refr, &d, err)))
        return st;
    // with the host transfers of every iteration (wall clock)
    N4D_CU_TRY(lif_upload(a, d, n, v, isyn, iext, refr), "copying the LIF inputs"); // warm-up
    N4D_CU_TRY(lif_launch(a, p, d, n), "launching the LIF kernel");
    N4D_CU_TRY(lif_download(a, d, n, v_out, spikes), "copying the LIF results");
    N4D_CU_TRY(cudaStreamSynchronize(a->stream), "running the LIF kernel");
    auto t0 = std::chrono::steady_clock::now();
    for (uint32_t k = 0; k < iters; k++) {
        N4D_CU_TRY(lif_upload(a, d, n, v, isyn, iext, refr), "copying the LIF inputs");
        N4D_CU_TRY(lif_launch(a, p, d, n), "launching the LIF kernel");
        N4D_CU_TRY(lif_download(a, d, n, v_out, spikes), "copying the LIF results");
        N4D_CU_TRY(cudaStreamSynchronize(a->stream), "running the LIF kernel");
    }
    auto t1 = std::chrono::steady_clock::now();
    *total_s = std::chrono::duration<double>(t1 - t0).count() / iters;
    // data resident on the device: kernels only, timed with events
    cudaEvent_t e0, e1;
    N4D_CU_TRY(cudaEventCreate(&e0), "cudaEventCreate");
    cudaError_t e = cudaEventCreate(&e1);
    if (e != cudaSuccess) {
        cudaEventDestroy(e0);
        return cuda_fail(err, e, "cudaEventCreate");
    }
    e = cudaEventRecord(e0, a->stream);
    for (uint32_t k = 0; k < iters && e == cudaSuccess; k++)
        e = lif_launch(a, p, d, n);
    if (e == cudaSuccess)
        e = cudaEventRecord(e1, a->stream);
    if (e == cudaSuccess)
        e = cudaEventSynchronize(e1);
    float ms = 0.0f;
    if (e == cudaSuccess)
        e = cudaEventElapsedTime(&ms, e0, e1);
    cudaEventDestroy(e0);
    cudaEventDestroy(e1);
    if (e != cudaSuccess)
        return cuda_fail(err, e, "timing the LIF kernel");
    *kernel_s = (double)ms * 1e-3 / iters;
    return N4D_OK;
}

// ---- cuSPARSE SpMV -------------------------------------------------------------------

const char *sparse_msg(cusparseStatus_t s)
{
    return cusparseGetErrorString(s);
}

n4d_status spmv(void *arr, uint64_t rows, uint64_t cols, uint64_t nnz, const int32_t *row_ptr,
                const int32_t *col_idx, const float *values, const float *x, float *y, char *err)
{
    Arr *a = static_cast<Arr *>(arr);
    n4d_status st = n4dcu::use_device(a->device, err);
    if (st || rows == 0)
        return st;
    if (!a->cusparse) {
        cusparseStatus_t cs = cusparseCreate(&a->cusparse);
        if (cs != CUSPARSE_STATUS_SUCCESS) {
            a->cusparse = nullptr;
            return fail(err, cs == CUSPARSE_STATUS_ALLOC_FAILED ? N4D_E_NOMEM : N4D_E_NO_DEVICE,
                        "cusparseCreate: %s", sparse_msg(cs));
        }
        cusparseSetStream(a->cusparse, a->stream);
    }
    void *drp, *dci, *dval, *dx, *dy;
    if ((st = buffer(a, BUF_A, (rows + 1) * sizeof(int32_t), &drp, err)) ||
        (st = buffer(a, BUF_B, nnz * sizeof(int32_t), &dci, err)) ||
        (st = buffer(a, BUF_C, nnz * sizeof(float), &dval, err)) ||
        (st = buffer(a, BUF_V, cols * sizeof(float), &dx, err)) ||
        (st = buffer(a, BUF_VOUT, rows * sizeof(float), &dy, err)))
        return st;
    N4D_CU_TRY(cudaMemcpyAsync(drp, row_ptr, (rows + 1) * sizeof(int32_t), cudaMemcpyHostToDevice,
                               a->stream),
               "copying the matrix");
    if (nnz) {
        N4D_CU_TRY(cudaMemcpyAsync(dci, col_idx, nnz * sizeof(int32_t), cudaMemcpyHostToDevice,
                                   a->stream),
                   "copying the matrix");
        N4D_CU_TRY(cudaMemcpyAsync(dval, values, nnz * sizeof(float), cudaMemcpyHostToDevice,
                                   a->stream),
                   "copying the matrix");
    }
    if (cols)
        N4D_CU_TRY(cudaMemcpyAsync(dx, x, cols * sizeof(float), cudaMemcpyHostToDevice, a->stream),
                   "copying the vector");
    cusparseSpMatDescr_t A = nullptr;
    cusparseDnVecDescr_t X = nullptr, Y = nullptr;
    cusparseStatus_t cs =
        cusparseCreateCsr(&A, (int64_t)rows, (int64_t)cols, (int64_t)nnz, drp, dci, dval,
                          CUSPARSE_INDEX_32I, CUSPARSE_INDEX_32I, CUSPARSE_INDEX_BASE_ZERO,
                          CUDA_R_32F);
    if (cs == CUSPARSE_STATUS_SUCCESS)
        cs = cusparseCreateDnVec(&X, (int64_t)cols, dx, CUDA_R_32F);
    if (cs == CUSPARSE_STATUS_SUCCESS)
        cs = cusparseCreateDnVec(&Y, (int64_t)rows, dy, CUDA_R_32F);
    const float alpha = 1.0f, beta = 0.0f;
    size_t bytes = 0;
    // ALG2: the same bits on every run
    if (cs == CUSPARSE_STATUS_SUCCESS)
        cs = cusparseSpMV_bufferSize(a->cusparse, CUSPARSE_OPERATION_NON_TRANSPOSE, &alpha, A, X,
                                     &beta, Y, CUDA_R_32F, CUSPARSE_SPMV_CSR_ALG2, &bytes);
    void *work = nullptr;
    if (cs == CUSPARSE_STATUS_SUCCESS)
        st = buffer(a, BUF_D, bytes, &work, err);
    if (cs == CUSPARSE_STATUS_SUCCESS && st == N4D_OK)
        cs = cusparseSpMV(a->cusparse, CUSPARSE_OPERATION_NON_TRANSPOSE, &alpha, A, X, &beta, Y,
                          CUDA_R_32F, CUSPARSE_SPMV_CSR_ALG2, work);
    if (A)
        cusparseDestroySpMat(A);
    if (X)
        cusparseDestroyDnVec(X);
    if (Y)
        cusparseDestroyDnVec(Y);
    if (st)
        return st;
    if (cs != CUSPARSE_STATUS_SUCCESS)
        return fail(err, cs == CUSPARSE_STATUS_ALLOC_FAILED ? N4D_E_NOMEM : N4D_E_INTERNAL,
                    "cuSPARSE SpMV: %s", sparse_msg(cs));
    N4D_CU_TRY(cudaMemcpyAsync(y, dy, rows * sizeof(float), cudaMemcpyDeviceToHost, a->stream),
               "copying the result");
    N4D_CU_TRY(cudaStreamSynchronize(a->stream), "cuSPARSE SpMV");
    return N4D_OK;
}

// ---- cuBLAS batched GEMM ----------------------------------------------------------------

n4d_status gemm_batched(void *arr, const n4d__cuda_gemm *g, char *err)
{
    Arr *a = static_cast<Arr *>(arr);
    n4d_status st = n4dcu::use_device(a->device, err);
    if (st || g->batch == 0 || g->m == 0 || g->n == 0)
        return st;
    if (!a->cublas) {
        cublasStatus_t bs = cublasCreate(&a->cublas);
        if (bs != CUBLAS_STATUS_SUCCESS) {
            a->cublas = nullptr;
            return fail(err, bs == CUBLAS_STATUS_ALLOC_FAILED ? N4D_E_NOMEM : N4D_E_NO_DEVICE,
                        "cublasCreate: %s", cublasGetStatusString(bs));
        }
        cublasSetStream(a->cublas, a->stream);
        // plain FP32: no TF32 or other reduced precision
        cublasSetMathMode(a->cublas, CUBLAS_PEDANTIC_MATH);
    }
    const uint64_t sa = g->m * g->k, sb = g->k * g->n, sc = g->m * g->n;
    void *da, *db, *dc;
    if ((st = buffer(a, BUF_A, sa * g->batch * sizeof(float), &da, err)) ||
        (st = buffer(a, BUF_B, sb * g->batch * sizeof(float), &db, err)) ||
        (st = buffer(a, BUF_C, sc * g->batch * sizeof(float), &dc, err)))
        return st;
    if (sa)
        N4D_CU_TRY(cudaMemcpyAsync(da, g->a, sa * g->batch * sizeof(float), cudaMemcpyHostToDevice,
                                   a->stream),
                   "copying A");
    if (sb)
        N4D_CU_TRY(cudaMemcpyAsync(db, g->b, sb * g->batch * sizeof(float), cudaMemcpyHostToDevice,
                                   a->stream),
                   "copying B");
    if (g->beta != 0.0f)
        N4D_CU_TRY(cudaMemcpyAsync(dc, g->c, sc * g->batch * sizeof(float), cudaMemcpyHostToDevice,
                                   a->stream),
                   "copying C");
    // row-major C = A B is column-major C^T = B^T A^T
    const float alpha = g->alpha, beta = g->beta;
    cublasStatus_t bs = cublasSgemmStridedBatched(
        a->cublas, CUBLAS_OP_N, CUBLAS_OP_N, (int)g->n, (int)g->m, (int)g->k, &alpha,
        static_cast<const float *>(db), (int)g->n, (long long)sb, static_cast<const float *>(da),
        (int)(g->k ? g->k : 1), (long long)sa, &beta, static_cast<float *>(dc), (int)g->n,
        (long long)sc, (int)g->batch);
    if (bs != CUBLAS_STATUS_SUCCESS)
        return fail(err, N4D_E_INTERNAL, "cublasSgemmStridedBatched: %s",
                    cublasGetStatusString(bs));
    N4D_CU_TRY(cudaMemcpyAsync(g->c, dc, sc * g->batch * sizeof(float), cudaMemcpyDeviceToHost,
                               a->stream),
               "copying C");
    N4D_CU_TRY(cudaStreamSynchronize(a->stream), "cuBLAS GEMM");
    return N4D_OK;
}

// ---- the table --------------------------------------------------------------------------

const n4d__cuda_api g_api = {
    N4D_CUDA_ABI_VERSION,
    (uint32_t)sizeof(n4d__cuda_api),
    "libn4d_cuda: CUDA runtime " STR(CUDART_VERSION) ", architectures " N4D_CUDA_ARCHS,
    device_count,
    device_info,
    mem_info,
    n4dcu::backend_sim_create,
    n4dcu::backend_sim_destroy,
    n4dcu::backend_sim_run,
    n4dcu::backend_sim_sync,
    n4dcu::backend_sim_device_bytes,
    arr_create,
    arr_destroy,
    arr_clear,
    arr_cached_bytes,
    lif_update,
    spmv,
    gemm_batched,
    bench_lif,
    n4dcu::build_count_entry,
    n4dcu::build_fill_entry,
    n4dcu::build_fetch_entry,
    n4dcu::build_destroy_entry,
};

} // namespace

N4D_CUDA_EXPORT n4d_status n4d_cuda_get_api(uint32_t abi_version, const n4d__cuda_api **out)
{
    if (!out)
        return N4D_E_INVALID_ARG;
    *out = nullptr;
    if (abi_version != N4D_CUDA_ABI_VERSION)
        return N4D_E_UNSUPPORTED;
    *out = &g_api;
    return N4D_OK;
}
