/* The cuda backend on the core side: loads libn4d_cuda.so at run time and
 * adapts its plain-C interface (cuda_api.h) to the backend vtable. The core
 * stays pure C and links no CUDA library: a program built with n4d starts
 * on any machine, and `cuda` answers N4D_E_NOT_BUILT (no library) or
 * N4D_E_NO_DEVICE (no driver, no device) with the reason.
 *
 * The loaded library is the only process-wide state of the core: a handle
 * and a table pointer written once under pthread_once (thread-safe, never
 * unloaded), see docs/gpu.md. */
#define _GNU_SOURCE /* dladdr */
#include "cuda_loader.h"
#include "plastic.h"
#include "ring.h"

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOAD_MSG_CAP 2048

/* The installed library directory seen from the installed program's
 * directory (CMake's GNUInstallDirs: "../lib", "../lib64",
 * "../lib/x86_64-linux-gnu"), where `cmake --install` puts libn4d_cuda.so. */
#ifndef N4D_BINDIR_TO_LIBDIR
#define N4D_BINDIR_TO_LIBDIR "../lib"
#endif

typedef struct cuda_lib {
    void *handle;
    const n4d__cuda_api *api;
    char path[PATH_MAX];
    char why[LOAD_MSG_CAP]; /* when api is NULL */
} cuda_lib;

static cuda_lib g_cuda;                  /* written once, in load_once */
static pthread_once_t g_cuda_once = PTHREAD_ONCE_INIT;
static const char g_anchor = 0;          /* an address inside the core for dladdr */

/* Appends "; " (when not first) and a formatted reason (truncating). */
__attribute__((format(printf, 2, 3))) static void why_add(char *why, const char *fmt, ...)
{
    size_t len = strlen(why);
    if (len && len + 2 < LOAD_MSG_CAP) {
        memcpy(why + len, "; ", 3);
        len += 2;
    }
    if (len + 1 >= LOAD_MSG_CAP)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why + len, LOAD_MSG_CAP - len, fmt, ap);
    va_end(ap);
}

/* Opens `path` and checks its entry point and ABI version. */
static int try_open(cuda_lib *lib, const char *path)
{
    dlerror();
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        why_add(lib->why, "%s", e ? e : path);
        return 0;
    }
    void *sym = dlsym(h, N4D_CUDA_ENTRY);
    if (!sym) {
        why_add(lib->why, "%s: no entry point " N4D_CUDA_ENTRY, path);
        dlclose(h);
        return 0;
    }
    n4d__cuda_entry_fn entry;
    memcpy(&entry, &sym, sizeof entry); /* object -> function pointer, as POSIX allows */
    const n4d__cuda_api *api = NULL;
    if (entry(N4D_CUDA_ABI_VERSION, &api) != N4D_OK || !api ||
        api->abi_version != N4D_CUDA_ABI_VERSION || api->struct_size < sizeof *api) {
        why_add(lib->why, "%s: ABI version mismatch (the core needs version %u)", path,
                N4D_CUDA_ABI_VERSION);
        dlclose(h);
        return 0;
    }
    lib->handle = h;
    lib->api = api;
    snprintf(lib->path, sizeof lib->path, "%s", path);
    return 1;
}

/* Directory part of `file` into dir (without the trailing slash); 0 if none. */
static int dir_of(const char *file, char *dir, size_t cap)
{
    const char *slash = file ? strrchr(file, '/') : NULL;
    if (!slash)
        return 0;
    size_t len = (size_t)(slash - file);
    if (len == 0)
        len = 1; /* "/" */
    if (len >= cap)
        return 0;
    memcpy(dir, file, len);
    dir[len] = '\0';
    return 1;
}

static int try_dir(cuda_lib *lib, const char *dir, const char *sub)
{
    char path[PATH_MAX];
    int n = snprintf(path, sizeof path, "%s%s/" N4D_CUDA_LIBRARY_NAME, dir, sub);
    if (n < 0 || (size_t)n >= sizeof path)
        return 0;
    if (access(path, F_OK) != 0) {
        why_add(lib->why, "%s: not found", path);
        return 0;
    }
    return try_open(lib, path);
}

static void load_once(void)
{
    cuda_lib *lib = &g_cuda;
    const char *env = getenv("N4D_CUDA_LIBRARY");
    if (env && *env) { /* explicit: only there */
        if (!try_open(lib, env)) {
            char tmp[LOAD_MSG_CAP];
            snprintf(tmp, sizeof tmp, "%s", lib->why);
            snprintf(lib->why, sizeof lib->why, "N4D_CUDA_LIBRARY=%.500s: %.1500s", env, tmp);
        }
        return;
    }
    char dir[PATH_MAX], exe_dir[PATH_MAX] = "", core[PATH_MAX];
    Dl_info info;
    int have_core = dladdr(&g_anchor, &info) && info.dli_fname &&
                    realpath(info.dli_fname, core) && dir_of(core, dir, sizeof dir);
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = '\0';
        if (!dir_of(exe, exe_dir, sizeof exe_dir))
            exe_dir[0] = '\0';
    }
    if (have_core && (try_dir(lib, dir, "") || try_dir(lib, dir, "/../lib")))
        return;
    if (exe_dir[0] && (!have_core || strcmp(exe_dir, dir) != 0) &&
        (try_dir(lib, exe_dir, "") || try_dir(lib, exe_dir, "/../lib") ||
         (strcmp(N4D_BINDIR_TO_LIBDIR, "../lib") != 0 &&
          try_dir(lib, exe_dir, "/" N4D_BINDIR_TO_LIBDIR))))
        return;
    try_open(lib, N4D_CUDA_LIBRARY_NAME); /* LD_LIBRARY_PATH, runpath, ld.so.cache */
}

const n4d__cuda_api *n4d__cuda_api_get(const char **why)
{
    pthread_once(&g_cuda_once, load_once);
    if (!g_cuda.api && why)
        *why = g_cuda.why;
    return g_cuda.api;
}

n4d_status n4d__cuda_check(int32_t device, char *msg, size_t cap)
{
    const char *why = "";
    const n4d__cuda_api *api = n4d__cuda_api_get(&why);
    if (!api) {
        snprintf(msg, cap, "no library: %s could not be loaded (%s)", N4D_CUDA_LIBRARY_NAME, why);
        return N4D_E_NOT_BUILT;
    }
    char err[N4D_CUDA_ERR_CAP] = "";
    int32_t count = 0;
    n4d_status st = api->device_count(&count, err);
    if (st != N4D_OK || count <= 0) {
        snprintf(msg, cap, "%s", err[0] ? err : "no CUDA device");
        return st != N4D_OK ? st : N4D_E_NO_DEVICE;
    }
    if (device < 0 || device >= count) {
        snprintf(msg, cap, "no device: CUDA device %d does not exist (%d device%s)", (int)device,
                 (int)count, count == 1 ? "" : "s");
        return N4D_E_NO_DEVICE;
    }
    return N4D_OK;
}

/* ---- the backend shim ------------------------------------------------------ */

typedef struct cuda_shim {
    const n4d__cuda_api *api;
    void *dev; /* the library's simulation */
    uint64_t emit_ns; /* profiler: time spent reporting spikes during a run */
    /* plastic synapses: the descriptor, and the host copy of the device's
     * spike histories (plastic.c converts it to and from the sim's rings) */
    n4d__cuda_plastic_desc pd;
    n4d__pdev_cls *cls;
    uint64_t *cls_n;
    n4d__spk *hist;
    uint32_t *hist_head, *hist_len;
    /* the delay ring as the device keeps it (int64 sums, internal order):
     * the host's int32 ring and its spilled values (ring.h) are converted
     * to and from it around the copies that include the ring */
    int64_t *ring64;
} cuda_shim;

static size_t ring64_bytes(const n4d_sim *sim)
{
    return (size_t)sim->ring_slots * 2 * (sim->n ? sim->n : 1) * sizeof(int64_t);
}

/* The host ring into s->ring64 (to_device), or back. */
static bool ring64_convert(n4d_sim *sim, cuda_shim *s, bool to_device)
{
    for (uint32_t r = 0; r < sim->ring_slots * 2; r++) {
        int64_t *row = s->ring64 + (size_t)r * sim->n;
        if (to_device)
            n4d__ring_get_row(sim, r, false, row);
        else if (!n4d__ring_set_row(sim, r, false, row))
            return false;
    }
    return true;
}

/* Average rate (Hz) the device's spike histories are sized for by default. */
#define DEFAULT_MAX_RATE_HZ 500.0

static void plastic_free(n4d_sim *sim, cuda_shim *s)
{
    const uint64_t N = sim->n ? sim->n : 1;
    const uint32_t k = s->pd.n_cls;
    n4d__free(sim->ctx, N4D_MEM_BACKEND, s->cls, k * sizeof *s->cls);
    n4d__free(sim->ctx, N4D_MEM_BACKEND, s->cls_n, k * sizeof *s->cls_n);
    n4d__free(sim->ctx, N4D_MEM_BACKEND, s->hist, (size_t)N * s->pd.hist_cap * sizeof *s->hist);
    n4d__free(sim->ctx, N4D_MEM_BACKEND, s->hist_head, N * sizeof(uint32_t));
    n4d__free(sim->ctx, N4D_MEM_BACKEND, s->hist_len, N * sizeof(uint32_t));
    s->cls = NULL;
    s->cls_n = NULL;
    s->hist = NULL;
    s->hist_head = s->hist_len = NULL;
}

/* Frees the shim and what it holds (not the device's simulation). */
static void shim_free(n4d_sim *sim, cuda_shim *s)
{
    plastic_free(sim, s);
    n4d__free(sim->ctx, N4D_MEM_BACKEND, s->ring64, ring64_bytes(sim));
    n4d__free(sim->ctx, N4D_MEM_BACKEND, s, sizeof *s);
}

/* The plastic descriptor of sim_create (docs/gpu.md, "Plastic synapses"). */
static n4d_status plastic_desc(n4d_sim *sim, cuda_shim *s)
{
    n4d__plastic *pl = sim->plastic;
    const n4d_model *m = sim->model;
    const uint64_t N = sim->n ? sim->n : 1;
    double rate = DEFAULT_MAX_RATE_HZ;
    const char *env = getenv("N4D_CUDA_MAX_RATE");
    if (env && *env) {
        char *end = NULL;
        rate = strtod(env, &end);
        if (!end || *end || !(rate > 0.0) || !(rate <= 1e6))
            return n4d__error(&sim->hdr, N4D_E_CONFIG,
                              "cuda: N4D_CUDA_MAX_RATE=\"%.64s\" is not a rate in Hz in (0, 1e6]",
                              env);
    }
    n4d__cuda_plastic_desc *d = &s->pd;
    d->n_cls = pl->n_cls;
    d->hist_cap = n4d__plastic_dev_cap(sim, rate);
    s->cls = n4d__calloc(sim->ctx, N4D_MEM_BACKEND, pl->n_cls, sizeof *s->cls);
    s->cls_n = n4d__calloc(sim->ctx, N4D_MEM_BACKEND, pl->n_cls, sizeof *s->cls_n);
    s->hist = n4d__alloc(sim->ctx, N4D_MEM_BACKEND, (size_t)N * d->hist_cap * sizeof *s->hist);
    s->hist_head = n4d__calloc(sim->ctx, N4D_MEM_BACKEND, N, sizeof(uint32_t));
    s->hist_len = n4d__calloc(sim->ctx, N4D_MEM_BACKEND, N, sizeof(uint32_t));
    if (!s->cls || !s->cls_n || !s->hist || !s->hist_head || !s->hist_len)
        return n4d__error(&sim->hdr, N4D_E_NOMEM,
                          "cuda: out of memory for the spike histories (%llu neurons x %u spikes)",
                          (unsigned long long)sim->n, d->hist_cap);
    for (uint32_t k = 0; k < pl->n_cls; k++) {
        const n4d__plastic_class *c = &pl->cls[k];
        n4d__pdev_cls *q = &s->cls[k];
        q->rule = c->rule;
        q->src_pop = c->def->source;
        if (c->rule == N4D__SYN_HEBB_4DNC)
            q->k.hebb = c->k.hebb;
        else if (c->rule == N4D__SYN_STDP)
            q->k.stdp = c->k.stdp;
        else if (c->rule == N4D__SYN_TSODYKS)
            q->k.tso = c->k.tso;
        q->wd = c->wd;
        q->wf = c->wf;
        q->tu = c->tu;
        q->tx = c->tx;
        q->tlast = c->tlast;
        s->cls_n[k] = c->n;
    }
    d->cls = s->cls;
    d->cls_n = s->cls_n;
    d->seg_base = pl->seg_base;
    d->pop_of = pl->pop_of;
    d->n_pops = (uint32_t)m->n_pops;
    d->pop_tracked = pl->pop_tracked;
    d->nearest_plus = pl->nearest_plus;
    d->nearest_minus = pl->nearest_minus;
    d->inv_tau_plus = pl->inv_tau_plus;
    d->inv_tau_minus = pl->inv_tau_minus;
    d->window = pl->window;
    d->keep = pl->keep;
    d->scale = m->syn.scale;
    d->hist = s->hist;
    d->hist_head = s->hist_head;
    d->hist_len = s->hist_len;
    d->recent = pl->recent;
    d->flushed = pl->flushed;
    d->last_flush_check = &pl->last_flush_check;
    return n4d__plastic_hist_to_flat(sim, s->hist, s->hist_head, s->hist_len, d->hist_cap);
}

static n4d_status shim_error(n4d_sim *sim, n4d_status st, const char *err)
{
    return n4d__error(&sim->hdr, st, "cuda: %s", err[0] ? err : n4d_status_string(st));
}

static n4d_status cuda_init(n4d_sim *sim)
{
    char msg[N4D_CUDA_ERR_CAP + 256];
    n4d_status st = n4d__cuda_check(sim->device, msg, sizeof msg);
    if (st)
        return n4d__error(&sim->hdr, st, "backend \"cuda\" is not available: %s", msg);
    const n4d__cuda_api *api = n4d__cuda_api_get(NULL);
    const n4d_model *m = sim->model;
    if (sim->n >= UINT32_MAX)
        return n4d__error(&sim->hdr, N4D_E_LIMIT, "cuda: %llu neurons exceed 2^32 - 1",
                          (unsigned long long)sim->n);
    cuda_shim *s = n4d__calloc(sim->ctx, N4D_MEM_BACKEND, 1, sizeof *s);
    size_t ndc = sim->n_dc ? sim->n_dc : 1;
    n4d__cuda_dc *dc = n4d__calloc(sim->ctx, N4D_MEM_BACKEND, ndc, sizeof *dc);
    if (s)
        s->ring64 = n4d__alloc(sim->ctx, N4D_MEM_BACKEND, ring64_bytes(sim));
    if (!s || !dc || !s->ring64) {
        if (s)
            shim_free(sim, s);
        n4d__free(sim->ctx, N4D_MEM_BACKEND, dc, ndc * sizeof *dc);
        return n4d__error(&sim->hdr, N4D_E_NOMEM, "cuda: out of memory");
    }
    ring64_convert(sim, s, true);
    for (size_t k = 0; k < sim->n_dc; k++) {
        dc[k].pop = sim->dc[k].target;
        dc[k].amplitude = sim->dc[k].amplitude;
        dc[k].start = sim->dc[k].start;
        dc[k].stop = sim->dc[k].stop;
    }
    n4d__cuda_sim_desc d;
    memset(&d, 0, sizeof d);
    d.struct_size = sizeof d;
    d.device = sim->device;
    d.n = sim->n;
    d.seed = sim->seed;
    d.step = sim->step;
    d.dt = sim->dt;
    d.inv_scale = sim->syn.inv_scale;
    d.v = sim->v;
    for (int j = 0; j < N4D__NX; j++)
        d.x[j] = sim->x[j];
    d.nx = sim->nx;
    d.iext = sim->iext;
    d.ref = sim->ref;
    d.ring = s->ring64;
    d.ring_slots = sim->ring_slots;
    d.min_delay = m->syn.min_delay;
    d.max_delay = m->syn.max_delay;
    d.runs = sim->runs;
    d.n_runs = sim->n_runs;
    d.dc = dc;
    d.n_dc = sim->n_dc;
    d.poisson = sim->poisson;
    d.n_poisson = sim->n_poisson;
    d.perm = m->perm;
    d.n_syn = m->syn.n_syn;
    d.n_seg = m->syn.n_seg; /* the CSR shape is the model's; the arrays are the sim's view */
    d.seg_ptr = sim->syn.seg_ptr;
    d.seg_off = sim->syn.seg_off;
    d.seg_key = sim->syn.seg_key;
    d.target = sim->syn.target;
    d.weight_q = sim->syn.weight_q;
    char err[N4D_CUDA_ERR_CAP] = "";
    s->api = api;
    if (sim->plastic && (st = plastic_desc(sim, s))) {
        shim_free(sim, s);
        n4d__free(sim->ctx, N4D_MEM_BACKEND, dc, ndc * sizeof *dc);
        return st;
    }
    d.plastic = sim->plastic ? &s->pd : NULL;
    st = api->sim_create(&d, &s->dev, err);
    n4d__free(sim->ctx, N4D_MEM_BACKEND, dc, ndc * sizeof *dc);
    if (st) {
        shim_free(sim, s);
        return shim_error(sim, st, err);
    }
    sim->backend_state = s;
    return N4D_OK;
}

static void cuda_fini(n4d_sim *sim)
{
    cuda_shim *s = sim->backend_state;
    if (!s)
        return;
    s->api->sim_destroy(s->dev);
    shim_free(sim, s);
    sim->backend_state = NULL;
}

static n4d_status cuda_emit(void *user, uint64_t step, const uint32_t *ids, uint64_t count,
                            int *reported)
{
    n4d_sim *sim = user;
    const uint64_t t0 = sim->timing ? n4d__now_ns() : 0;
    n4d__sim_emit_begin(sim, step);
    n4d__sim_emit_ids(sim, ids, count);
    n4d_status st = n4d__sim_emit_end(sim);
    *reported = sim->step == step + 1;
    if (sim->timing) {
        cuda_shim *s = sim->backend_state;
        s->emit_ns += n4d__now_ns() - t0;
    }
    return st;
}

static n4d_status cuda_run(n4d_sim *sim, uint64_t steps)
{
    cuda_shim *s = sim->backend_state;
    char err[N4D_CUDA_ERR_CAP] = "";
    n4d__timing *const prof = sim->timing;
    const uint64_t t0 = prof ? n4d__now_ns() : 0;
    s->emit_ns = 0;
    n4d_status st = s->api->sim_run(s->dev, steps, cuda_emit, sim, err);
    if (prof) {
        /* device work (update and delivery, with the waits for it) and the
         * reporting of spikes */
        const uint64_t total = n4d__now_ns() - t0;
        n4d__prof_add(&prof->stat[N4D_PROFILE_UPDATE], total > s->emit_ns ? total - s->emit_ns : 0);
        n4d__prof_add(&prof->stat[N4D_PROFILE_RECORDING], s->emit_ns);
    }
    if (st && err[0]) /* else the error came from reporting and is on the sim */
        return shim_error(sim, st, err);
    return st;
}

static n4d_status cuda_sync(n4d_sim *sim, int flags)
{
    cuda_shim *s = sim->backend_state;
    char err[N4D_CUDA_ERR_CAP] = "";
    const uint32_t f = (uint32_t)flags;
    /* the plastic state goes with a full copy, or alone */
    const bool plastic = s->hist && (f & N4D__SYNC_PLASTIC ||
                                     !(f & (N4D__SYNC_STATE | N4D__SYNC_IEXT)));
    const bool to_host = (f & N4D__SYNC_TO_HOST) != 0;
    /* the ring goes with a full copy only */
    const bool ring = !(f & (N4D__SYNC_STATE | N4D__SYNC_IEXT | N4D__SYNC_PLASTIC));
    n4d_status st;
    if (plastic && !to_host &&
        (st = n4d__plastic_hist_to_flat(sim, s->hist, s->hist_head, s->hist_len, s->pd.hist_cap)))
        return st;
    if (ring && !to_host)
        ring64_convert(sim, s, true);
    if ((st = s->api->sim_sync(s->dev, f, sim->step, err)))
        return shim_error(sim, st, err);
    if (ring && to_host && !ring64_convert(sim, s, false))
        return n4d__error(&sim->hdr, N4D_E_NOMEM,
                          "cuda: out of memory for the delay ring's sums beyond int32");
    if (plastic && to_host)
        return n4d__plastic_hist_from_flat(sim, s->hist, s->hist_head, s->hist_len,
                                           s->pd.hist_cap);
    return N4D_OK;
}

static const n4d__backend_ops cuda_ops = {"cuda", cuda_init, cuda_fini, cuda_run, cuda_sync};

/* "auto" uses the device only after the self-test passed (cuda_selftest.c). */
static n4d_status cuda_probe(int32_t device, int for_auto, char *msg, size_t cap)
{
    n4d_status st = n4d__cuda_check(device, msg, cap);
    if (st == N4D_OK && for_auto)
        st = n4d__cuda_self_test(msg, cap);
    return st;
}

/* From this many neurons "auto" runs on the GPU when it is usable; below,
 * per-step kernel launches cost more than the parallel work saves
 * (docs/gpu.md). */
#define AUTO_CUDA_NEURONS 100000u

const n4d__backend n4d__backend_cuda = {
    .name = "cuda",
    .abi = N4D__BACKEND_ABI,
    .caps = N4D__CAP_DEVICE | N4D__CAP_DEVICE_INDEX | N4D__CAP_BUILD | N4D__CAP_PLASTICITY,
    .auto_priority = 20,
    .auto_min_neurons = AUTO_CUDA_NEURONS,
    .probe = cuda_probe,
    .ops = &cuda_ops,
    .device_api = n4d__cuda_api_get,
};
