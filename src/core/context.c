/* Context: allocator hook with per-tag accounting, errors, logging, version. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef N4D_HAVE_HDF5
#define N4D_HAVE_HDF5 0
#endif
#ifdef _OPENMP
#define N4D_HAVE_OPENMP 1
#else
#define N4D_HAVE_OPENMP 0
#endif

#define STR2(x) #x
#define STR(x) STR2(x)

const char *n4d_version_string(void)
{
    return STR(N4D_VERSION_MAJOR) "." STR(N4D_VERSION_MINOR) "." STR(N4D_VERSION_PATCH);
}

const char *n4d_status_string(n4d_status status)
{
    switch (status) {
    case N4D_OK: return "ok";
    case N4D_E_INVALID_ARG: return "invalid argument";
    case N4D_E_NOMEM: return "out of memory";
    case N4D_E_CONFIG: return "invalid configuration";
    case N4D_E_IO: return "input/output error";
    case N4D_E_NOT_BUILT: return "feature not built in";
    case N4D_E_NO_DEVICE: return "no usable device";
    case N4D_E_RANGE: return "out of range";
    case N4D_E_STATE: return "invalid state for this call";
    case N4D_E_UNSUPPORTED: return "unsupported";
    case N4D_E_FORMAT: return "bad file format";
    case N4D_E_INTERNAL: return "internal error";
    case N4D_E_LIMIT: return "implementation limit exceeded";
    default: return "unknown status";
    }
}

/* Whether a registered device backend's library loads (backend.h). */
static int device_library_loads(void)
{
    for (uint32_t i = 0; i < n4d_backend_count(); i++) {
        const uint32_t caps = n4d_backend_caps(n4d_backend_name(i));
        if ((caps & N4D_BACKEND_DEVICE) &&
            n4d_backend_probe(n4d_backend_name(i), NULL, 0) != N4D_E_NOT_BUILT)
            return 1;
    }
    return 0;
}

int n4d_has_feature(int32_t feature)
{
    switch (feature) {
    case N4D_FEATURE_OPENMP: return N4D_HAVE_OPENMP;
    case N4D_FEATURE_HDF5: return N4D_HAVE_HDF5;
    case N4D_FEATURE_CUDA: return device_library_loads(); /* libn4d_cuda.so loads */
    case N4D_FEATURE_JSON: return 1;
    default: return 0;
    }
}

const char *n4d_mem_tag_name(int32_t tag)
{
    static const char *const names[N4D_MEM_TAG_COUNT] = {
        "other", "neurons", "synapses", "buffers", "recording", "compressed", "backend", "build"};
    return (tag >= 0 && tag < N4D_MEM_TAG_COUNT) ? names[tag] : "unknown";
}

/* ---- default allocator ------------------------------------------------ */

static void *libc_alloc(void *ud, size_t size, size_t align)
{
    (void)ud;
    void *p = NULL;
    if (align < sizeof(void *))
        align = sizeof(void *);
    if (posix_memalign(&p, align, size ? size : 1) != 0)
        return NULL;
    return p;
}

static void libc_free(void *ud, void *ptr, size_t size)
{
    (void)ud;
    (void)size;
    free(ptr);
}

bool n4d__default_allocator(const n4d_context *ctx)
{
    return ctx->alloc.alloc == libc_alloc && ctx->alloc.free == libc_free;
}

void n4d_context_options_init(n4d_context_options *opt)
{
    if (!opt)
        return;
    memset(opt, 0, sizeof *opt);
    opt->struct_size = sizeof *opt;
    opt->log_level = N4D_LOG_WARN;
}

n4d_status n4d_context_create(const n4d_context_options *opt, n4d_context **out)
{
    if (!out)
        return N4D_E_INVALID_ARG;
    *out = NULL;
    n4d_context_options o;
    n4d_context_options_init(&o);
    if (opt) {
        if (opt->struct_size < sizeof(uint32_t))
            return N4D_E_INVALID_ARG;
        N4D__COPY_IN(o, opt);
    }
    if ((o.allocator.alloc == NULL) != (o.allocator.free == NULL))
        return N4D_E_INVALID_ARG;
    if (!o.allocator.alloc) {
        o.allocator.alloc = libc_alloc;
        o.allocator.free = libc_free;
        o.allocator.user_data = NULL;
    }
    n4d_context *ctx = o.allocator.alloc(o.allocator.user_data, sizeof *ctx, 64);
    if (!ctx)
        return N4D_E_NOMEM;
    memset(ctx, 0, sizeof *ctx);
    ctx->hdr.magic = N4D__MAGIC_CONTEXT;
    ctx->alloc = o.allocator;
    ctx->log = o.log;
    ctx->log_user_data = o.log_user_data;
    ctx->log_level = o.log_level;
    ctx->memory_limit = o.memory_limit;
    *out = ctx;
    return N4D_OK;
}

void n4d_context_destroy(n4d_context *ctx)
{
    if (!ctx)
        return;
    ctx->hdr.magic = N4D__MAGIC_NONE;
    ctx->alloc.free(ctx->alloc.user_data, ctx, sizeof *ctx);
}

n4d_status n4d_context_memory(const n4d_context *ctx, n4d_memory_stats *out)
{
    if (!ctx || !out || out->struct_size < sizeof(uint32_t))
        return N4D_E_INVALID_ARG;
    n4d_context *c = (n4d_context *)ctx;
    n4d_memory_stats full;
    memset(&full, 0, sizeof full);
    for (int t = 0; t < N4D_MEM_TAG_COUNT; t++) {
        full.current[t] = atomic_load(&c->current[t]);
        full.peak[t] = atomic_load(&c->peak[t]);
    }
    full.total_current = atomic_load(&c->total_current);
    full.total_peak = atomic_load(&c->total_peak);
    N4D__COPY_OUT(out, full);
    return N4D_OK;
}

/* ---- tagged allocation ------------------------------------------------ */

static void raise_peak(_Atomic uint64_t *peak, uint64_t value)
{
    uint64_t old = atomic_load(peak);
    while (value > old && !atomic_compare_exchange_weak(peak, &old, value)) {
    }
}

void *n4d__alloc(n4d_context *ctx, n4d_mem_tag tag, size_t size)
{
    return n4d__alloc_aligned(ctx, tag, size, 64);
}

void *n4d__alloc_aligned(n4d_context *ctx, n4d_mem_tag tag, size_t size, size_t align)
{
    if (size == 0)
        size = 1;
    /* reserve first, so that concurrent allocations cannot pass the limit */
    uint64_t tot = atomic_fetch_add(&ctx->total_current, size) + size;
    void *p = ctx->memory_limit && (tot > ctx->memory_limit || tot < size)
                  ? NULL
                  : ctx->alloc.alloc(ctx->alloc.user_data, size, align);
    if (!p) {
        atomic_fetch_sub(&ctx->total_current, size);
        return NULL;
    }
    raise_peak(&ctx->total_peak, tot);
    uint64_t cur = atomic_fetch_add(&ctx->current[tag], size) + size;
    raise_peak(&ctx->peak[tag], cur);
    return p;
}

uint64_t n4d__memory_left(const n4d_context *ctx)
{
    if (!ctx->memory_limit)
        return UINT64_MAX;
    const uint64_t used = atomic_load(&ctx->total_current);
    return used < ctx->memory_limit ? ctx->memory_limit - used : 0;
}

void n4d__account(n4d_context *ctx, n4d_mem_tag tag, int64_t delta)
{
    if (delta >= 0) {
        const uint64_t d = (uint64_t)delta;
        raise_peak(&ctx->peak[tag], atomic_fetch_add(&ctx->current[tag], d) + d);
        raise_peak(&ctx->total_peak, atomic_fetch_add(&ctx->total_current, d) + d);
    } else {
        const uint64_t d = (uint64_t)(-(delta + 1)) + 1u;
        atomic_fetch_sub(&ctx->current[tag], d);
        atomic_fetch_sub(&ctx->total_current, d);
    }
}

void *n4d__calloc(n4d_context *ctx, n4d_mem_tag tag, size_t count, size_t size)
{
    return n4d__calloc_aligned(ctx, tag, count, size, 64);
}

void *n4d__calloc_aligned(n4d_context *ctx, n4d_mem_tag tag, size_t count, size_t size,
                          size_t align)
{
    if (size && count > SIZE_MAX / size)
        return NULL;
    size_t bytes = count * size;
    void *p = n4d__alloc_aligned(ctx, tag, bytes, align);
    if (p && bytes)
        memset(p, 0, bytes);
    return p;
}

void n4d__free(n4d_context *ctx, n4d_mem_tag tag, void *ptr, size_t size)
{
    if (!ptr)
        return;
    if (size == 0)
        size = 1;
    atomic_fetch_sub(&ctx->current[tag], size);
    atomic_fetch_sub(&ctx->total_current, size);
    ctx->alloc.free(ctx->alloc.user_data, ptr, size);
}

bool n4d__grow(n4d_context *ctx, n4d_mem_tag tag, void **ptr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t ncap = *cap ? *cap : 8;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2 / elem)
            return false;
        ncap *= 2;
    }
    void *np = n4d__alloc(ctx, tag, ncap * elem);
    if (!np)
        return false;
    if (*ptr) {
        memcpy(np, *ptr, *cap * elem);
        n4d__free(ctx, tag, *ptr, *cap * elem);
    }
    *ptr = np;
    *cap = ncap;
    return true;
}

char *n4d__strdup(n4d_context *ctx, const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = n4d__alloc(ctx, N4D_MEM_OTHER, n);
    if (d)
        memcpy(d, s, n);
    return d;
}

void n4d__strfree(n4d_context *ctx, char *s)
{
    if (s)
        n4d__free(ctx, N4D_MEM_OTHER, s, strlen(s) + 1);
}

/* ---- errors and logging ----------------------------------------------- */

n4d_status n4d__verror(n4d__handle *h, n4d_status status, const char *fmt, va_list ap)
{
    if (h)
        vsnprintf(h->error, sizeof h->error, fmt, ap);
    return status;
}

n4d_status n4d__error(n4d__handle *h, n4d_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    n4d__verror(h, status, fmt, ap);
    va_end(ap);
    return status;
}

void n4d__clear_error(n4d__handle *h)
{
    if (h)
        h->error[0] = '\0';
}

/* Errors of calls on a built model, one slot per thread: a built model is
 * shared by any number of threads and never written, so its error text
 * cannot live in it (docs/architecture.md, "Model and overlays"). The slot
 * names the model it belongs to. */
static _Thread_local struct {
    const n4d_model *model;
    char text[N4D__ERR_CAP];
} built_model_error;

n4d_status n4d__model_error(const n4d_model *m, n4d_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (!m->built) {
        n4d__verror((n4d__handle *)&m->hdr, status, fmt, ap); /* not shared before the build */
    } else {
        vsnprintf(built_model_error.text, sizeof built_model_error.text, fmt, ap);
        built_model_error.model = m;
    }
    va_end(ap);
    return status;
}

void n4d__model_clear_error(const n4d_model *m)
{
    if (!m->built)
        ((n4d_model *)m)->hdr.error[0] = '\0'; /* not shared before the build */
    else if (built_model_error.model == m)
        built_model_error.text[0] = '\0';
}

bool n4d__is_handle(const void *p, uint32_t magic)
{
    return p && ((const n4d__handle *)p)->magic == magic;
}

bool n4d__is_any_handle(const void *p)
{
    return n4d__is_handle(p, N4D__MAGIC_CONTEXT) || n4d__is_handle(p, N4D__MAGIC_MODEL) ||
           n4d__is_handle(p, N4D__MAGIC_SIM) || n4d__is_handle(p, N4D__MAGIC_GPU);
}

const char *n4d_last_error(const void *handle)
{
    if (!n4d__is_any_handle(handle))
        return "";
    const n4d__handle *h = handle;
    if (h->magic == N4D__MAGIC_MODEL && ((const n4d_model *)handle)->built)
        return built_model_error.model == handle ? built_model_error.text : "";
    return h->error;
}

void n4d__tb_printf(n4d__textbuf *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *at = t->len < t->cap ? t->buf + t->len : NULL;
    size_t room = t->len < t->cap ? t->cap - t->len : 0;
    int n = vsnprintf(at, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        t->len += (size_t)n;
}

void n4d__log(const n4d_context *ctx, int32_t level, const char *fmt, ...)
{
    if (!ctx || !ctx->log || level > ctx->log_level)
        return;
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    ctx->log(ctx->log_user_data, level, buf);
}
