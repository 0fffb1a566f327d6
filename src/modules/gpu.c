/* The GPU API (include/n4d/gpu.h): the 4D Neural Cognition guide's
 * GPUAccelerator. Every operation has a CPU path here; the GPU path calls
 * libn4d_cuda.so through the table the loader returns (cuda_loader.c). The
 * LIF update on both paths is neuron.h's n4d__lif_step, so they agree
 * bitwise. */
#include "backend.h"
#include "n4d/gpu.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define GPU_ERR(g, st, ...) n4d__error(&(g)->hdr, (st), __VA_ARGS__)

struct n4d_gpu {
    n4d__handle hdr;
    n4d_context *ctx;
    const n4d__cuda_api *api; /* NULL: CPU */
    void *arr;                /* the library's array context */
    int32_t device;           /* -1 on the CPU */
    int32_t count;            /* usable devices */
    n4d__cuda_device_info dev;
    char reason[512];
};

static int is_gpu(const n4d_gpu *g)
{
    return n4d__is_handle(g, N4D__MAGIC_GPU);
}

/* ---- options and defaults ------------------------------------------------------ */

void n4d_gpu_options_init(n4d_gpu_options *opt)
{
    if (!opt)
        return;
    memset(opt, 0, sizeof *opt);
    opt->struct_size = sizeof *opt;
    opt->use_gpu = 1;
}

void n4d_gpu_lif_params_init(n4d_gpu_lif_params *p)
{
    if (!p)
        return;
    memset(p, 0, sizeof *p);
    p->struct_size = sizeof *p;
    p->tau_m = 20.0;
    p->v_rest = -65.0;
    p->v_threshold = -50.0;
    p->v_reset = -70.0;
    p->dt = 1.0;
}

void n4d_gpu_gemm_init(n4d_gpu_gemm *g)
{
    if (!g)
        return;
    memset(g, 0, sizeof *g);
    g->struct_size = sizeof *g;
    g->alpha = 1.0f;
}

void n4d_gpu_benchmark_options_init(n4d_gpu_benchmark_options *opt)
{
    if (!opt)
        return;
    memset(opt, 0, sizeof *opt);
    opt->struct_size = sizeof *opt;
    opt->operation = N4D_GPU_BENCH_LIF_UPDATE;
    opt->iterations = 100;
    opt->cpu_threads = 1;
    opt->seed = 1;
}

/* ---- devices ----------------------------------------------------------------------- */

/* The device library of the registered device backend (backend.h), or NULL
 * with the reason in *why. */
static const n4d__cuda_api *device_library(const char **why)
{
    const n4d__backend *b = n4d__backend_with(N4D__CAP_DEVICE);
    if (!b || !b->device_api) {
        if (why)
            *why = "no device backend is registered";
        return NULL;
    }
    return b->device_api(why);
}

int32_t n4d_gpu_device_count(void)
{
    const n4d__cuda_api *api = device_library(NULL);
    if (!api)
        return 0;
    char err[N4D_CUDA_ERR_CAP];
    int32_t c = 0;
    return api->device_count(&c, err) == N4D_OK ? c : 0;
}

/* Binds the handle to `device` on the GPU; on failure the handle is
 * unchanged and msg says why. */
static n4d_status gpu_bind(n4d_gpu *g, int32_t device, char *msg, size_t cap)
{
    const char *why = "";
    const n4d__cuda_api *api = device_library(&why);
    if (!api) {
        snprintf(msg, cap, "no library: %s could not be loaded (%s)", N4D_CUDA_LIBRARY_NAME, why);
        return N4D_E_NOT_BUILT;
    }
    char err[N4D_CUDA_ERR_CAP] = "";
    int32_t count = 0;
    n4d_status st = api->device_count(&count, err);
    if (st != N4D_OK || count <= 0) {
        snprintf(msg, cap, "%s", err[0] ? err : "no device");
        return st ? st : N4D_E_NO_DEVICE;
    }
    if (device < 0 || device >= count) {
        snprintf(msg, cap, "CUDA device %d does not exist (%d device%s)", (int)device, (int)count,
                 count == 1 ? "" : "s");
        return N4D_E_RANGE;
    }
    n4d__cuda_device_info info;
    void *arr = NULL;
    if ((st = api->device_info(device, &info, err)) || (st = api->arr_create(device, &arr, err))) {
        snprintf(msg, cap, "CUDA device %d: %s", (int)device, err);
        return st;
    }
    if (g->arr)
        g->api->arr_destroy(g->arr);
    g->api = api;
    g->arr = arr;
    g->device = device;
    g->count = count;
    g->dev = info;
    g->reason[0] = '\0';
    return N4D_OK;
}

n4d_status n4d_gpu_create(n4d_context *ctx, const n4d_gpu_options *opt, n4d_gpu **out)
{
    if (out)
        *out = NULL;
    if (!n4d__is_handle(ctx, N4D__MAGIC_CONTEXT))
        return N4D_E_INVALID_ARG;
    n4d__clear_error(&ctx->hdr);
    if (!out)
        return n4d__error(&ctx->hdr, N4D_E_INVALID_ARG, "n4d_gpu_create: out is NULL");
    n4d_gpu_options o;
    n4d_gpu_options_init(&o);
    if (opt) {
        if (opt->struct_size < sizeof(uint32_t))
            return n4d__error(&ctx->hdr, N4D_E_INVALID_ARG,
                              "n4d_gpu_create: options.struct_size is not set");
        N4D__COPY_IN(o, opt);
    }
    n4d_gpu *g = n4d__calloc(ctx, N4D_MEM_OTHER, 1, sizeof *g);
    if (!g)
        return n4d__error(&ctx->hdr, N4D_E_NOMEM, "out of memory creating a GPU handle");
    g->hdr.magic = N4D__MAGIC_GPU;
    g->ctx = ctx;
    g->device = -1;
    if (!o.use_gpu) {
        snprintf(g->reason, sizeof g->reason, "use_gpu = 0: CPU requested");
        g->count = n4d_gpu_device_count();
    } else {
        char msg[sizeof g->reason + N4D_CUDA_ERR_CAP];
        n4d_status st = gpu_bind(g, o.device_id, msg, sizeof msg);
        if (st == N4D_E_RANGE || (st && o.require_gpu)) {
            n4d__error(&ctx->hdr, st, "n4d_gpu_create: %s", msg);
            g->hdr.magic = N4D__MAGIC_NONE;
            n4d__free(ctx, N4D_MEM_OTHER, g, sizeof *g);
            return st;
        }
        if (st)
            snprintf(g->reason, sizeof g->reason, "%.511s", msg);
    }
    *out = g;
    return N4D_OK;
}

void n4d_gpu_destroy(n4d_gpu *gpu)
{
    if (!is_gpu(gpu))
        return;
    if (gpu->arr)
        gpu->api->arr_destroy(gpu->arr);
    gpu->hdr.magic = N4D__MAGIC_NONE;
    n4d__free(gpu->ctx, N4D_MEM_OTHER, gpu, sizeof *gpu);
}

const char *n4d_gpu_last_error(const n4d_gpu *gpu)
{
    return is_gpu(gpu) ? gpu->hdr.error : "";
}

int n4d_gpu_is_available(const n4d_gpu *gpu)
{
    return is_gpu(gpu) && gpu->api != NULL;
}

n4d_status n4d_gpu_get_info(const n4d_gpu *gpu, n4d_gpu_info *out)
{
    if (!is_gpu(gpu) || !out || out->struct_size < sizeof(uint32_t))
        return N4D_E_INVALID_ARG;
    n4d_gpu_info r;
    memset(&r, 0, sizeof r);
    r.struct_size = sizeof r;
    r.on_gpu = gpu->api != NULL;
    r.device_id = gpu->device;
    r.device_count = gpu->count;
    if (gpu->api) {
        snprintf(r.name, sizeof r.name, "%s", gpu->dev.name);
        r.total_bytes = gpu->dev.total_bytes;
        r.compute_major = gpu->dev.major;
        r.compute_minor = gpu->dev.minor;
        r.multiprocessors = gpu->dev.multiprocessors;
        r.runtime_version = gpu->dev.runtime_version;
        r.driver_version = gpu->dev.driver_version;
    } else {
        snprintf(r.name, sizeof r.name, "cpu");
        snprintf(r.reason, sizeof r.reason, "%s", gpu->reason);
    }
    N4D__COPY_OUT(out, r);
    return N4D_OK;
}

n4d_status n4d_gpu_select_device(n4d_gpu *gpu, int32_t device_id)
{
    if (!is_gpu(gpu))
        return N4D_E_INVALID_ARG;
    n4d__clear_error(&gpu->hdr);
    char msg[sizeof gpu->reason + N4D_CUDA_ERR_CAP];
    n4d_status st = gpu_bind(gpu, device_id, msg, sizeof msg);
    return st ? GPU_ERR(gpu, st, "select device %d: %s", (int)device_id, msg) : N4D_OK;
}

n4d_status n4d_gpu_memory_usage(n4d_gpu *gpu, n4d_gpu_memory *out)
{
    if (!is_gpu(gpu) || !out || out->struct_size < sizeof(uint32_t))
        return N4D_E_INVALID_ARG;
    n4d__clear_error(&gpu->hdr);
    n4d_gpu_memory r;
    memset(&r, 0, sizeof r);
    r.struct_size = sizeof r;
    if (gpu->api) {
        char err[N4D_CUDA_ERR_CAP] = "";
        uint64_t fb = 0, tb = 0;
        n4d_status st = gpu->api->mem_info(gpu->device, &fb, &tb, err);
        if (st)
            return GPU_ERR(gpu, st, "cuda: %s", err);
        r.on_gpu = 1;
        r.total_mb = (double)tb / 1048576.0;
        r.free_mb = (double)fb / 1048576.0;
        r.used_mb = (double)(tb - fb) / 1048576.0;
        r.percent = tb ? 100.0 * (double)(tb - fb) / (double)tb : 0.0;
        r.cached_bytes = gpu->api->arr_cached_bytes(gpu->arr);
    }
    N4D__COPY_OUT(out, r);
    return N4D_OK;
}

n4d_status n4d_gpu_clear_memory(n4d_gpu *gpu, uint64_t *released_bytes)
{
    if (!is_gpu(gpu))
        return N4D_E_INVALID_ARG;
    n4d__clear_error(&gpu->hdr);
    if (released_bytes)
        *released_bytes = 0;
    if (!gpu->api)
        return N4D_OK;
    char err[N4D_CUDA_ERR_CAP] = "";
    n4d_status st = gpu->api->arr_clear(gpu->arr, released_bytes, err);
    return st ? GPU_ERR(gpu, st, "cuda: %s", err) : N4D_OK;
}

/* ---- LIF update ------------------------------------------------------------------------ */

static n4d_status lif_constants(n4d_gpu *gpu, const n4d_gpu_lif_params *params, n4d__pop_rt *p)
{
    n4d_gpu_lif_params q;
    n4d_gpu_lif_params_init(&q);
    if (params) {
        if (params->struct_size < sizeof(uint32_t))
            return GPU_ERR(gpu, N4D_E_INVALID_ARG, "LIF parameters: struct_size is not set");
        N4D__COPY_IN(q, params);
    }
    if (!(q.tau_m > 0.0) || !isfinite(q.tau_m) || !(q.dt > 0.0) || !isfinite(q.dt) ||
        !isfinite(q.v_rest) || !isfinite(q.v_reset) || !isfinite(q.v_threshold))
        return GPU_ERR(gpu, N4D_E_INVALID_ARG,
                       "LIF parameters: tau_m (%g) and dt (%g) must be positive and finite, "
                       "potentials finite",
                       q.tau_m, q.dt);
    memset(p, 0, sizeof *p);
    p->model = N4D_NEURON_LIF; /* n4d__lif_step */
    p->k.lif.v_rest = (float)q.v_rest;
    p->k.lif.v_reset = (float)q.v_reset;
    p->k.lif.v_th = (float)q.v_threshold;
    p->k.lif.tau_m = (float)q.tau_m;
    p->k.lif.dt = (float)q.dt;
    return N4D_OK;
}

/* The CPU path: the same per-neuron function as the GPU kernel. */
static uint64_t lif_cpu(const n4d__pop_rt *p, uint64_t n, const float *v, const float *isyn,
                        const float *iext, const uint8_t *refr, float *v_out, uint8_t *spk,
                        int threads)
{
    uint64_t ns = 0;
    const n4d__pop_rt pc = *p;
    (void)threads;
#ifdef _OPENMP
#pragma omp parallel for num_threads(threads > 1 ? threads : 1) if (threads > 1) \
    reduction(+ : ns) schedule(static)
#endif
    for (int64_t i = 0; i < (int64_t)n; i++) {
        float vv = v[i];
        int32_t r = refr && refr[i] ? 1 : 0;
        const int s = n4d__lif_step(&pc.k.lif, &vv, NULL, NULL, NULL, &r,
                                    isyn ? isyn[i] : 0.0f, 0.0f, iext ? iext[i] : 0.0f);
        v_out[i] = vv;
        spk[i] = (uint8_t)s;
        ns += (uint64_t)s;
    }
    return ns;
}

n4d_status n4d_gpu_lif_update(n4d_gpu *gpu, const n4d_gpu_lif_params *params, uint64_t n,
                              const float *v, const float *i_syn, const float *i_ext,
                              const uint8_t *refractory, float *v_out, uint8_t *spikes,
                              uint64_t *n_spikes)
{
    if (!is_gpu(gpu))
        return N4D_E_INVALID_ARG;
    n4d__clear_error(&gpu->hdr);
    if (n_spikes)
        *n_spikes = 0;
    if (n && (!v || !v_out || !spikes))
        return GPU_ERR(gpu, N4D_E_INVALID_ARG, "lif_update: v, v_out and spikes must not be NULL");
    n4d__pop_rt p;
    n4d_status st = lif_constants(gpu, params, &p);
    if (st || n == 0)
        return st;
    if (!gpu->api) {
        uint64_t ns = lif_cpu(&p, n, v, i_syn, i_ext, refractory, v_out, spikes, 1);
        if (n_spikes)
            *n_spikes = ns;
        return N4D_OK;
    }
    char err[N4D_CUDA_ERR_CAP] = "";
    st = gpu->api->lif_update(gpu->arr, &p, n, v, i_syn, i_ext, refractory, v_out, spikes, err);
    if (st)
        return GPU_ERR(gpu, st, "cuda: %s", err);
    if (n_spikes) {
        uint64_t ns = 0;
        for (uint64_t i = 0; i < n; i++)
            ns += spikes[i] != 0;
        *n_spikes = ns;
    }
    return N4D_OK;
}

/* ---- sparse product ----------------------------------------------------------------------- */

static n4d_status check_csr(n4d_gpu *gpu, const n4d_gpu_csr *a)
{
    if (!a || a->struct_size < sizeof *a)
        return GPU_ERR(gpu, N4D_E_INVALID_ARG, "CSR matrix: NULL or struct_size not set");
    if (a->rows >= INT32_MAX || a->cols >= INT32_MAX || a->nnz >= INT32_MAX)
        return GPU_ERR(gpu, N4D_E_LIMIT,
                       "CSR matrix %llu x %llu with %llu entries: 32-bit indices need each below "
                       "2^31 - 1",
                       (unsigned long long)a->rows, (unsigned long long)a->cols,
                       (unsigned long long)a->nnz);
    if (!a->row_ptr || (a->nnz && (!a->col_idx || !a->values)))
        return GPU_ERR(gpu, N4D_E_INVALID_ARG, "CSR matrix: NULL row_ptr, col_idx or values");
    if (a->row_ptr[0] != 0 || (uint64_t)a->row_ptr[a->rows] != a->nnz)
        return GPU_ERR(gpu, N4D_E_INVALID_ARG,
                       "CSR matrix: row_ptr[0] = %d and row_ptr[rows] = %d (expected 0 and nnz "
                       "= %llu)",
                       (int)a->row_ptr[0], (int)a->row_ptr[a->rows], (unsigned long long)a->nnz);
    for (uint64_t r = 0; r < a->rows; r++) {
        if (a->row_ptr[r + 1] < a->row_ptr[r])
            return GPU_ERR(gpu, N4D_E_INVALID_ARG, "CSR matrix: row_ptr decreases at row %llu",
                           (unsigned long long)r);
        for (int32_t j = a->row_ptr[r]; j < a->row_ptr[r + 1]; j++)
            if (a->col_idx[j] < 0 || (uint64_t)a->col_idx[j] >= a->cols)
                return GPU_ERR(gpu, N4D_E_RANGE,
                               "CSR matrix: column %d of row %llu is outside [0, %llu)",
                               (int)a->col_idx[j], (unsigned long long)r,
                               (unsigned long long)a->cols);
    }
    return N4D_OK;
}

n4d_status n4d_gpu_spmv(n4d_gpu *gpu, const n4d_gpu_csr *a, const float *x, float *y)
{
    if (!is_gpu(gpu))
        return N4D_E_INVALID_ARG;
    n4d__clear_error(&gpu->hdr);
    n4d_status st = check_csr(gpu, a);
    if (st)
        return st;
    if ((a->cols && !x) || (a->rows && !y))
        return GPU_ERR(gpu, N4D_E_INVALID_ARG, "spmv: x or y is NULL");
    if (a->rows == 0)
        return N4D_OK;
    if (a->nnz == 0) { /* nothing to multiply (and no empty operands for cuSPARSE) */
        memset(y, 0, (size_t)a->rows * sizeof(float));
        return N4D_OK;
    }
    if (gpu->api) {
        char err[N4D_CUDA_ERR_CAP] = "";
        st = gpu->api->spmv(gpu->arr, a->rows, a->cols, a->nnz, a->row_ptr, a->col_idx, a->values,
                            x, y, err);
        return st ? GPU_ERR(gpu, st, "cuda: %s", err) : N4D_OK;
    }
    for (uint64_t r = 0; r < a->rows; r++) {
        double s = 0.0;
        for (int32_t j = a->row_ptr[r]; j < a->row_ptr[r + 1]; j++)
            s += (double)a->values[j] * (double)x[a->col_idx[j]];
        y[r] = (float)s;
    }
    return N4D_OK;
}

n4d_status n4d_gpu_sparse_synapse_matmul(n4d_gpu *gpu, const n4d_gpu_csr *weights,
                                         const uint8_t *spikes, float *currents)
{
    if (!is_gpu(gpu))
        return N4D_E_INVALID_ARG;
    n4d__clear_error(&gpu->hdr);
    n4d_status st = check_csr(gpu, weights);
    if (st)
        return st;
    if ((weights->cols && !spikes) || (weights->rows && !currents))
        return GPU_ERR(gpu, N4D_E_INVALID_ARG, "sparse_synapse_matmul: spikes or currents is NULL");
    const size_t nc = weights->cols ? (size_t)weights->cols : 1;
    float *x = n4d__alloc(gpu->ctx, N4D_MEM_OTHER, nc * sizeof(float));
    if (!x)
        return GPU_ERR(gpu, N4D_E_NOMEM, "out of memory for the spike vector (%llu entries)",
                       (unsigned long long)weights->cols);
    for (uint64_t j = 0; j < weights->cols; j++)
        x[j] = spikes[j] ? 1.0f : 0.0f;
    st = n4d_gpu_spmv(gpu, weights, x, currents);
    n4d__free(gpu->ctx, N4D_MEM_OTHER, x, nc * sizeof(float));
    return st;
}

/* ---- batched GEMM ------------------------------------------------------------------------ */

n4d_status n4d_gpu_gemm_batched(n4d_gpu *gpu, const n4d_gpu_gemm *g)
{
    if (!is_gpu(gpu))
        return N4D_E_INVALID_ARG;
    n4d__clear_error(&gpu->hdr);
    if (!g || g->struct_size < sizeof *g)
        return GPU_ERR(gpu, N4D_E_INVALID_ARG, "gemm: NULL or struct_size not set");
    if (g->m >= INT32_MAX || g->n >= INT32_MAX || g->k >= INT32_MAX || g->batch >= INT32_MAX ||
        (double)g->batch * (double)(g->m * g->n + g->m * g->k + g->k * g->n) > 1e18)
        return GPU_ERR(gpu, N4D_E_LIMIT, "gemm: dimensions %llu x %llu x %llu, batch %llu too large",
                       (unsigned long long)g->m, (unsigned long long)g->n,
                       (unsigned long long)g->k, (unsigned long long)g->batch);
    if (g->batch == 0 || g->m == 0 || g->n == 0)
        return N4D_OK;
    if (!g->c || (g->k && (!g->a || !g->b)))
        return GPU_ERR(gpu, N4D_E_INVALID_ARG, "gemm: NULL matrix");
    if (gpu->api) {
        n4d__cuda_gemm cg = {g->m, g->n, g->k, g->batch, g->alpha, g->beta, g->a, g->b, g->c};
        char err[N4D_CUDA_ERR_CAP] = "";
        n4d_status st = gpu->api->gemm_batched(gpu->arr, &cg, err);
        return st ? GPU_ERR(gpu, st, "cuda: %s", err) : N4D_OK;
    }
    const size_t n = (size_t)g->n;
    float *acc = n4d__alloc(gpu->ctx, N4D_MEM_OTHER, n * sizeof(float));
    if (!acc)
        return GPU_ERR(gpu, N4D_E_NOMEM, "gemm: out of memory");
    for (uint64_t b = 0; b < g->batch; b++) {
        const float *A = g->a ? g->a + b * g->m * g->k : NULL;
        const float *B = g->b ? g->b + b * g->k * g->n : NULL;
        float *C = g->c + b * g->m * g->n;
        for (uint64_t i = 0; i < g->m; i++) {
            memset(acc, 0, n * sizeof(float));
            for (uint64_t p = 0; p < g->k; p++) {
                const float aip = A[i * g->k + p];
                const float *brow = B + p * g->n;
                for (size_t j = 0; j < n; j++)
                    acc[j] += aip * brow[j];
            }
            float *crow = C + i * g->n;
            for (size_t j = 0; j < n; j++)
                crow[j] = g->beta != 0.0f ? g->alpha * acc[j] + g->beta * crow[j] : g->alpha * acc[j];
        }
    }
    n4d__free(gpu->ctx, N4D_MEM_OTHER, acc, n * sizeof(float));
    return N4D_OK;
}

/* ---- benchmark --------------------------------------------------------------------------- */

/* Random neurons like the guide's example: V ~ N(-65, 10), inputs ~ N(0, 1)
 * (scaled so that some neurons fire), 10 % refractory. */
static void bench_data(uint64_t seed, uint64_t n, float *v, float *isyn, float *iext, uint8_t *refr)
{
    for (uint64_t i = 0; i < n; i++) {
        n4d__r4 r = n4d__philox(seed, 0xb5, (uint32_t)i, i >> 32);
        double u1 = n4d__u01_open0(r.v[0], r.v[1]), u2 = n4d__u01(r.v[2], r.v[3]);
        double rad = sqrt(-2.0 * log(u1));
        v[i] = (float)(-65.0 + 10.0 * rad * cos(6.283185307179586 * u2));
        isyn[i] = (float)(20.0 * rad * sin(6.283185307179586 * u2));
        iext[i] = (float)(10.0 * (u2 - 0.5));
        refr[i] = (uint8_t)((r.v[0] & 1023u) < 102u);
    }
}

n4d_status n4d_gpu_benchmark(n4d_gpu *gpu, const n4d_gpu_benchmark_options *opt,
                             n4d_gpu_benchmark_result *res)
{
    if (!is_gpu(gpu))
        return N4D_E_INVALID_ARG;
    n4d__clear_error(&gpu->hdr);
    if (!opt || opt->struct_size < sizeof(uint32_t) || !res ||
        res->struct_size < sizeof *res)
        return GPU_ERR(gpu, N4D_E_INVALID_ARG,
                       "benchmark: options or result NULL, or struct_size not set");
    n4d_gpu_benchmark_options o;
    n4d_gpu_benchmark_options_init(&o);
    N4D__COPY_IN(o, opt);
    if (o.operation != N4D_GPU_BENCH_LIF_UPDATE)
        return GPU_ERR(gpu, N4D_E_UNSUPPORTED, "benchmark: unknown operation %d (expected %d, "
                       "N4D_GPU_BENCH_LIF_UPDATE)", (int)o.operation, N4D_GPU_BENCH_LIF_UPDATE);
    if (o.n_sizes && !o.sizes)
        return GPU_ERR(gpu, N4D_E_INVALID_ARG, "benchmark: sizes is NULL");
    if (o.iterations == 0)
        o.iterations = 1;
    n4d__pop_rt p;
    n4d_gpu_lif_params lp;
    n4d_gpu_lif_params_init(&lp);
    n4d_status st = lif_constants(gpu, &lp, &p);
    if (st)
        return st;
    res->gpu_available = gpu->api != NULL;
    res->results_match = gpu->api ? 1 : -1;
    snprintf(res->device, sizeof res->device, "%s", gpu->api ? gpu->dev.name : "cpu");
    if (gpu->api)
        snprintf(res->note, sizeof res->note, "GPU: %s (device %d); CPU: %d thread%s",
                 gpu->dev.name, (int)gpu->device, (int)o.cpu_threads,
                 o.cpu_threads == 1 ? "" : "s");
    else
        snprintf(res->note, sizeof res->note, "GPU unavailable (%.460s): CPU times only",
                 gpu->reason);
    for (size_t s = 0; s < o.n_sizes; s++) {
        const uint64_t n = o.sizes[s];
        const size_t nn = n ? (size_t)n : 1;
        float *f[5] = {NULL, NULL, NULL, NULL, NULL}; /* v, isyn, iext, vout cpu, vout gpu */
        uint8_t *b[3] = {NULL, NULL, NULL};            /* refr, spikes cpu, spikes gpu */
        int ok = 1;
        for (int k = 0; k < 5; k++)
            ok &= (f[k] = n4d__alloc(gpu->ctx, N4D_MEM_OTHER, nn * sizeof(float))) != NULL;
        for (int k = 0; k < 3; k++)
            ok &= (b[k] = n4d__alloc(gpu->ctx, N4D_MEM_OTHER, nn)) != NULL;
        double cpu_s = NAN, gpu_s = NAN, gpu_t = NAN;
        if (ok) {
            bench_data(o.seed, n, f[0], f[1], f[2], b[0]);
            lif_cpu(&p, n, f[0], f[1], f[2], b[0], f[3], b[1], o.cpu_threads); /* warm-up */
            const uint64_t t0 = n4d__now_ns();
            for (uint32_t it = 0; it < o.iterations; it++)
                lif_cpu(&p, n, f[0], f[1], f[2], b[0], f[3], b[1], o.cpu_threads);
            cpu_s = (double)(n4d__now_ns() - t0) * 1e-9 / o.iterations;
            if (gpu->api) {
                char err[N4D_CUDA_ERR_CAP] = "";
                st = gpu->api->bench_lif(gpu->arr, &p, n, o.iterations, f[0], f[1], f[2], b[0],
                                         f[4], b[2], &gpu_s, &gpu_t, err);
                if (st)
                    GPU_ERR(gpu, st, "cuda: benchmark at %llu neurons: %s",
                            (unsigned long long)n, err);
                else if (memcmp(f[3], f[4], n * sizeof(float)) != 0 || memcmp(b[1], b[2], n) != 0)
                    res->results_match = 0;
            }
        } else {
            st = GPU_ERR(gpu, N4D_E_NOMEM, "benchmark: out of memory for %llu neurons",
                         (unsigned long long)n);
        }
        for (int k = 0; k < 5; k++)
            n4d__free(gpu->ctx, N4D_MEM_OTHER, f[k], nn * sizeof(float));
        for (int k = 0; k < 3; k++)
            n4d__free(gpu->ctx, N4D_MEM_OTHER, b[k], nn);
        if (st)
            return st;
        if (res->sizes)
            res->sizes[s] = n;
        if (res->cpu_seconds)
            res->cpu_seconds[s] = cpu_s;
        if (res->gpu_seconds)
            res->gpu_seconds[s] = gpu_s;
        if (res->gpu_seconds_with_transfers)
            res->gpu_seconds_with_transfers[s] = gpu_t;
        if (res->speedups)
            res->speedups[s] = gpu_s > 0.0 ? cpu_s / gpu_s : NAN;
        if (res->speedups_with_transfers)
            res->speedups_with_transfers[s] = gpu_t > 0.0 ? cpu_s / gpu_t : NAN;
    }
    return N4D_OK;
}
