/** \file
 * n4d — common definitions: version, status codes, context, allocator,
 * logging and memory accounting.
 *
 * Conventions (see docs/api.md): every fallible call returns n4d_status;
 * handles are opaque; create functions write the handle to an out-parameter;
 * destroy(NULL) is a no-op; option structs start with struct_size and are
 * filled by their _init function. */
#ifndef N4D_COMMON_H
#define N4D_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Marks a function exported by libn4d (default visibility; the library
 * is built with -fvisibility=hidden). */
#if defined(_WIN32)
#  if defined(N4D_BUILDING)
#    define N4D_API __declspec(dllexport)
#  else
#    define N4D_API
#  endif
#elif defined(__GNUC__)
#  define N4D_API __attribute__((visibility("default")))
#else
#  define N4D_API
#endif

#define N4D_VERSION_MAJOR 0 /**< major version of these headers */
#define N4D_VERSION_MINOR 2 /**< minor version (within 0.x it may change the API) */
#define N4D_VERSION_PATCH 0 /**< patch version */

/** Status code: N4D_OK (0) or a negative error. Values never change. */
typedef int32_t n4d_status;

enum {
    N4D_OK = 0,
    N4D_E_INVALID_ARG = -1, /**< a NULL or out-of-range argument */
    N4D_E_NOMEM = -2,       /**< an allocation failed */
    N4D_E_CONFIG = -3,      /**< a config is malformed or inconsistent */
    N4D_E_IO = -4,          /**< a file could not be read or written */
    N4D_E_NOT_BUILT = -5,   /**< the feature or backend was not built in */
    N4D_E_NO_DEVICE = -6,   /**< the backend has no usable device */
    N4D_E_RANGE = -7,       /**< an index, step or size is out of range */
    N4D_E_STATE = -8,       /**< the call is not valid in the current state */
    N4D_E_UNSUPPORTED = -9, /**< valid request that this version cannot do */
    N4D_E_FORMAT = -10,     /**< a file has the wrong format or content */
    N4D_E_INTERNAL = -11,   /**< a bug: please report it */
    N4D_E_LIMIT = -12       /**< a size exceeds an implementation limit */
};

/** Static, never-NULL description of a status code. Thread-safe. */
N4D_API const char *n4d_status_string(n4d_status status);

/** "MAJOR.MINOR.PATCH" of the library actually loaded. Static string. */
N4D_API const char *n4d_version_string(void);

/** Features that may or may not be built in, for n4d_has_feature(). */
enum {
    N4D_FEATURE_OPENMP = 1, /**< cpu-omp runs with more than one thread */
    N4D_FEATURE_HDF5 = 2,   /**< HDF5 storage module */
    N4D_FEATURE_CUDA = 3,   /**< the CUDA backend library can be loaded */
    N4D_FEATURE_JSON = 4    /**< JSON configs */
};

/** 1 if the feature is built in, 0 otherwise. Thread-safe. */
N4D_API int n4d_has_feature(int32_t feature);

/* ------------------------------------------------------------------ */
/* Context: allocator, log callback and error state of a group of handles. */

/** A context: allocator, log callback and error state shared by the models
 * and sims created from it (opaque). */
typedef struct n4d_context n4d_context;

/** Allocation tags: every byte the library allocates carries one, so the
 * memory profiler reports real bytes per component. */
typedef enum n4d_mem_tag {
    N4D_MEM_OTHER = 0,      /**< descriptions, names, small bookkeeping */
    N4D_MEM_NEURONS = 1,    /**< neuron state, positions, parameters */
    N4D_MEM_SYNAPSES = 2,   /**< synapse targets, weights, row offsets */
    N4D_MEM_BUFFERS = 3,    /**< delay ring buffers, spike queues */
    N4D_MEM_RECORDING = 4,  /**< recorded spikes, spike history */
    N4D_MEM_COMPRESSED = 5, /**< compressed side store */
    N4D_MEM_BACKEND = 6,    /**< backend-private host memory */
    N4D_MEM_BUILD = 7,      /**< temporary memory during model build */
    N4D_MEM_TAG_COUNT = 8
} n4d_mem_tag;

/** Allocator hook. alloc returns memory aligned to `align` (a power of two,
 * at most 4096) or NULL; free receives the size given to alloc. Both may be
 * called from several threads at once (parallel model build). */
typedef struct n4d_allocator {
    /** Returns `size` bytes aligned to `align`, or NULL. */
    void *(*alloc)(void *user_data, size_t size, size_t align);
    /** Releases `ptr`, allocated with `size` bytes. */
    void (*free)(void *user_data, void *ptr, size_t size);
    void *user_data; /**< passed to alloc and free */
} n4d_allocator;

/** Levels of log messages (n4d_context_options.log_level). */
typedef enum n4d_log_level {
    N4D_LOG_ERROR = 0, /**< errors */
    N4D_LOG_WARN = 1,  /**< warnings (config sections ignored, values clipped, ...) */
    N4D_LOG_INFO = 2,  /**< progress */
    N4D_LOG_DEBUG = 3  /**< details */
} n4d_log_level;

/** Log callback: called synchronously from the thread making the call;
 * `message` is valid only during the call and has no trailing newline. */
typedef void (*n4d_log_fn)(void *user_data, int32_t level, const char *message);

/** Options of n4d_context_create (n4d_context_options_init fills the defaults). */
typedef struct n4d_context_options {
    uint32_t struct_size;    /**< sizeof(n4d_context_options) */
    n4d_allocator allocator; /**< all NULL: libc (aligned_alloc/free) */
    n4d_log_fn log;          /**< NULL: no logging */
    void *log_user_data;     /**< passed to `log` */
    int32_t log_level;       /**< messages above this level are dropped (default N4D_LOG_WARN) */
    /** Most bytes the context's models and sims may hold at once (all tags,
     * as n4d_context_memory counts them); 0 (default): no limit. An
     * allocation beyond it fails (N4D_E_NOMEM, nothing is left half made),
     * and a build whose rules are expected to draw more synapses than fit
     * in what is left is refused before it places or draws anything
     * (N4D_E_LIMIT, with the figures). Memory-mapped files do not count. */
    uint64_t memory_limit;
} n4d_context_options;

/** Fills `opt` with defaults (libc allocator, no logging). */
N4D_API void n4d_context_options_init(n4d_context_options *opt);

/** Creates a context. `opt` may be NULL for defaults. The context must
 * outlive every model and simulation created from it. */
N4D_API n4d_status n4d_context_create(const n4d_context_options *opt, n4d_context **out);

/** Destroys a context. NULL is a no-op. */
N4D_API void n4d_context_destroy(n4d_context *ctx);

/** Detail of the last error of a handle (an n4d_context *, n4d_model * or
 * n4d_sim *): which key, file, line and column, which limit. Never NULL ("" if
 * none, or if `handle` is not an n4d handle). Valid until the next call on
 * that handle. Errors of create functions whose handle was not made are
 * recorded on the parent (context or model). */
N4D_API const char *n4d_last_error(const void *handle);

/** Bytes currently allocated and peak bytes, per tag, since the context was
 * created (for all its models and sims). */
typedef struct n4d_memory_stats {
    uint32_t struct_size;                /**< sizeof(n4d_memory_stats) */
    uint64_t current[N4D_MEM_TAG_COUNT]; /**< bytes allocated now, per n4d_mem_tag */
    uint64_t peak[N4D_MEM_TAG_COUNT];    /**< highest bytes allocated, per n4d_mem_tag */
    uint64_t total_current;              /**< bytes allocated now, all tags */
    uint64_t total_peak;                 /**< highest bytes allocated, all tags */
} n4d_memory_stats;

/** Fills `out` (set out->struct_size first) with the context's accounting.
 * Thread-safe. */
N4D_API n4d_status n4d_context_memory(const n4d_context *ctx, n4d_memory_stats *out);

/** Static name of an allocation tag ("neurons", "synapses", ...). */
N4D_API const char *n4d_mem_tag_name(int32_t tag);

#ifdef __cplusplus
}
#endif
#endif
