/* gpu_array.c — the GPU array API (the guide's GPUAccelerator), with its
 * CPU fallback.
 *
 * include/n4d/gpu.h offers array-level operations that run on a CUDA
 * device when libn4d_cuda.so, a driver and a GPU are there, and on the CPU
 * otherwise, with the same calls and (for the LIF update) bitwise the same
 * results. This program:
 *
 *   1. creates a handle and says where it runs (and why, on the CPU);
 *   2. runs the vectorised LIF update on 10,000 neurons with random V,
 *      synaptic and external input and 10 % refractory, and checks every
 *      value against a plain C loop of the same equation;
 *   3. computes synaptic currents = W s for a random 2,000 x 2,000 CSR
 *      weight matrix (1 % connectivity) and a 5 % spike vector, checked
 *      against a double-precision sum;
 *   4. benchmarks the LIF update against the CPU over a few sizes;
 *   5. prints the device memory in use, then releases the cached buffers.
 *
 * Exit status 0 when both checks pass, 1 otherwise (ctest `example_gpu_array`).
 * Pass --sizes N,N,... to benchmark other sizes.
 *
 * Build: part of the n4d build (target `gpu_array`), or
 *   cc examples/gpu_array.c -I include -L build/src -Wl,-rpath,build/src -ln4d -lm -o gpu_array */
#include <n4d.h>

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(call, handle)                                                              \
    do {                                                                                 \
        n4d_status st_ = (call);                                                         \
        if (st_ != N4D_OK) {                                                             \
            fprintf(stderr, "gpu_array: %s failed: %s (%s)\n", #call,                   \
                    n4d_status_string(st_), n4d_last_error(handle));                     \
            goto fail;                                                                   \
        }                                                                                \
    } while (0)

/* A small deterministic generator (xorshift64*) in [0, 1). */
static uint64_t rng = 0x2545f4914f6cdd1dull;
static double uniform(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (double)((rng * 2685821657736338717ull) >> 11) * (1.0 / 9007199254740992.0);
}

enum { N_LIF = 10000, N_SYN = 2000, MAX_SIZES = 16 };

int main(int argc, char **argv)
{
    n4d_context *ctx = NULL;
    n4d_gpu *gpu = NULL;
    float *v = NULL, *i_syn = NULL, *i_ext = NULL, *v_out = NULL, *w = NULL, *cur = NULL;
    uint8_t *refr = NULL, *spk = NULL, *s = NULL;
    int32_t *row_ptr = NULL, *col = NULL;
    int rc = 1;

    uint64_t sizes[MAX_SIZES] = {1000, 10000, 100000};
    size_t n_sizes = 3;
    if (argc == 3 && strcmp(argv[1], "--sizes") == 0) {
        n_sizes = 0;
        for (char *p = argv[2]; *p && n_sizes < MAX_SIZES;) {
            char *end = NULL;
            double x = strtod(p, &end); /* accepts 1e5 */
            if (end == p || !(x >= 1) || x > 1e9) {
                fprintf(stderr, "gpu_array: --sizes: expected sizes >= 1, got '%s'\n", argv[2]);
                return 2;
            }
            sizes[n_sizes++] = (uint64_t)x;
            p = *end == ',' ? end + 1 : end;
        }
    } else if (argc != 1) {
        fprintf(stderr, "usage: gpu_array [--sizes 1000,10000,...]\n");
        return 2;
    }

    CHECK(n4d_context_create(NULL, &ctx), NULL);

    /* 1. GPUAccelerator(use_gpu=True, device_id=0): the defaults. Without a
     * GPU the handle is made anyway and runs on the CPU (require_gpu = 1
     * would make this an error instead). */
    CHECK(n4d_gpu_create(ctx, NULL, &gpu), ctx);
    n4d_gpu_info info;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    CHECK(n4d_gpu_get_info(gpu, &info), gpu);
    if (n4d_gpu_is_available(gpu))
        printf("running on GPU %d: %s (%.1f GiB, compute %d.%d)\n", (int)info.device_id,
               info.name, (double)info.total_bytes / (1 << 30), (int)info.compute_major,
               (int)info.compute_minor);
    else
        printf("running on the CPU (%s)\n", info.reason);

    /* 2. vectorized_lif_update: V' = V + (-(V - v_rest) + i_syn + i_ext) / tau_m * dt,
     * refractory neurons frozen, spike and reset at V' >= threshold. */
    v = malloc(N_LIF * sizeof *v);
    i_syn = malloc(N_LIF * sizeof *i_syn);
    i_ext = malloc(N_LIF * sizeof *i_ext);
    v_out = malloc(N_LIF * sizeof *v_out);
    refr = malloc(N_LIF);
    spk = malloc(N_LIF);
    if (!v || !i_syn || !i_ext || !v_out || !refr || !spk)
        goto fail;
    for (int i = 0; i < N_LIF; i++) {
        v[i] = (float)(-65.0 + 20.0 * (uniform() - 0.5)); /* around rest */
        i_syn[i] = (float)(400.0 * (uniform() - 0.3));     /* some neurons reach threshold */
        i_ext[i] = (float)(10.0 * uniform());
        refr[i] = uniform() < 0.1;
    }
    n4d_gpu_lif_params p;
    n4d_gpu_lif_params_init(&p); /* tau_m 20, v_rest -65, threshold -50, reset -70, dt 1 */
    uint64_t n_spikes = 0;
    CHECK(n4d_gpu_lif_update(gpu, &p, N_LIF, v, i_syn, i_ext, refr, v_out, spk, &n_spikes), gpu);
    /* The same equation as a plain loop, in float and without fused
     * multiply-add (n4d builds with -ffp-contract=off): every bit must match. */
    uint64_t mismatches = 0, ref_spikes = 0;
    for (int i = 0; i < N_LIF; i++) {
        float vn = v[i];
        uint8_t sp = 0;
        if (!refr[i]) {
            float drive = i_syn[i] + i_ext[i];
            float dv = (-(v[i] - (float)p.v_rest) + drive) / (float)p.tau_m;
            vn = v[i] + dv * (float)p.dt;
            if (!isfinite(vn))
                vn = (float)p.v_rest;
            if (vn >= (float)p.v_threshold) {
                vn = (float)p.v_reset;
                sp = 1;
            }
        }
        ref_spikes += sp;
        mismatches += memcmp(&vn, &v_out[i], sizeof vn) != 0 || sp != spk[i];
    }
    printf("LIF update: %d neurons, %" PRIu64 " spikes, %" PRIu64
           " values differ from the plain loop\n",
           N_LIF, n_spikes, mismatches);

    /* 3. sparse_synapse_matmul: currents[post] = sum over pre of W[post][pre] * s[pre],
     * W in CSR (row = target), as scipy.sparse.csr_matrix stores it. */
    row_ptr = malloc((N_SYN + 1) * sizeof *row_ptr);
    col = malloc((size_t)N_SYN * N_SYN / 50 * sizeof *col); /* room for 2 % */
    w = malloc((size_t)N_SYN * N_SYN / 50 * sizeof *w);
    s = malloc(N_SYN);
    cur = malloc(N_SYN * sizeof *cur);
    if (!row_ptr || !col || !w || !s || !cur)
        goto fail;
    int32_t nnz = 0;
    for (int r = 0; r < N_SYN; r++) {
        row_ptr[r] = nnz;
        for (int c = 0; c < N_SYN; c++)
            if (uniform() < 0.01 && nnz < N_SYN * N_SYN / 50) {
                col[nnz] = c;
                w[nnz++] = (float)(0.1 * (uniform() * 2 - 1));
            }
    }
    row_ptr[N_SYN] = nnz;
    for (int j = 0; j < N_SYN; j++)
        s[j] = uniform() < 0.05;
    n4d_gpu_csr W;
    memset(&W, 0, sizeof W);
    W.struct_size = sizeof W;
    W.rows = W.cols = N_SYN;
    W.nnz = (uint64_t)nnz;
    W.row_ptr = row_ptr;
    W.col_idx = col;
    W.values = w;
    CHECK(n4d_gpu_sparse_synapse_matmul(gpu, &W, s, cur), gpu);
    double max_err = 0, sum = 0;
    for (int r = 0; r < N_SYN; r++) {
        double ref = 0;
        for (int32_t k = row_ptr[r]; k < row_ptr[r + 1]; k++)
            ref += s[col[k]] ? w[k] : 0.0;
        max_err = fmax(max_err, fabs(ref - cur[r]));
        sum += cur[r];
    }
    printf("synapse product: %d x %d, %d synapses, sum of currents %.4f, "
           "largest difference from double %.2g\n",
           N_SYN, N_SYN, (int)nnz, sum, max_err);

    /* 4. benchmark_vs_cpu('lif_update', sizes, n_iterations). */
    n4d_gpu_benchmark_options bo;
    n4d_gpu_benchmark_options_init(&bo);
    bo.sizes = sizes;
    bo.n_sizes = n_sizes;
    bo.iterations = 20;
    double cpu_s[MAX_SIZES], gpu_s[MAX_SIZES], speedup[MAX_SIZES];
    n4d_gpu_benchmark_result br;
    memset(&br, 0, sizeof br);
    br.struct_size = sizeof br;
    br.cpu_seconds = cpu_s;
    br.gpu_seconds = gpu_s;
    br.speedups = speedup;
    CHECK(n4d_gpu_benchmark(gpu, &bo, &br), gpu);
    printf("LIF benchmark on %s%s%s:\n", br.device, br.note[0] ? ": " : "", br.note);
    printf("%12s %14s %14s %9s\n", "neurons", "CPU (ms)", "GPU (ms)", "speed-up");
    for (size_t k = 0; k < n_sizes; k++) {
        if (br.gpu_available)
            printf("%12" PRIu64 " %14.4f %14.4f %8.2fx\n", sizes[k], cpu_s[k] * 1e3,
                   gpu_s[k] * 1e3, speedup[k]);
        else
            printf("%12" PRIu64 " %14.4f %14s %9s\n", sizes[k], cpu_s[k] * 1e3, "-", "-");
    }
    if (br.gpu_available)
        printf("GPU and CPU results bitwise equal: %s\n", br.results_match == 1 ? "yes" : "NO");

    /* 5. get_memory_usage() and clear_memory(). */
    n4d_gpu_memory mem;
    memset(&mem, 0, sizeof mem);
    mem.struct_size = sizeof mem;
    CHECK(n4d_gpu_memory_usage(gpu, &mem), gpu);
    uint64_t released = 0;
    CHECK(n4d_gpu_clear_memory(gpu, &released), gpu);
    if (mem.on_gpu)
        printf("device memory: %.1f / %.1f MiB (%.1f %%), this handle cached %" PRIu64
               " bytes, released %" PRIu64 "\n",
               mem.used_mb, mem.total_mb, mem.percent, mem.cached_bytes, released);
    else
        printf("device memory: none (CPU)\n");

    if (mismatches || n_spikes != ref_spikes || max_err > 1e-5 ||
        (br.gpu_available && br.results_match != 1)) {
        fprintf(stderr, "gpu_array: results differ from the reference\n");
        goto fail;
    }
    rc = 0;

fail:
    free(v);
    free(i_syn);
    free(i_ext);
    free(v_out);
    free(refr);
    free(spk);
    free(row_ptr);
    free(col);
    free(w);
    free(s);
    free(cur);
    n4d_gpu_destroy(gpu);
    n4d_context_destroy(ctx);
    return rc;
}
