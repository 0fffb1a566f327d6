/* Internal definitions shared by the core, modules and backends. Never
 * installed; symbols prefixed n4d__ are hidden. */
#ifndef N4D_INTERNAL_H
#define N4D_INTERNAL_H

#include "n4d.h"
#include "synapse_gen.h" /* n4d__delay_steps, n4d__radix_sort_u32, N4D__MAX_DELAY_STEPS */
#include "model_registry.h"
#include "plastic_rules.h" /* the synapse model ids */

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#define N4D__ERR_CAP 1024

/* The most steps a backend runs between two hook points (cpu-omp runs
 * batches of min(min_delay, this)); the plastic and modulator state size
 * their per-batch buffers and history windows by it. */
#define N4D__MAX_BATCH_STEPS 64u

/* Where the synapses are generated (n4d_model_set_build_backend). */
#define N4D__BUILD_CPU (-1)
#define N4D__BUILD_AUTO (-2)

/* Every handle starts with this header so n4d_last_error(void *) works.
 * The one list of handle magics: every handle check is n4d__is_handle(p,
 * N4D__MAGIC_x) or n4d__is_any_handle(p); destroy stores N4D__MAGIC_NONE
 * so a stale pointer is refused. */
enum {
    N4D__MAGIC_NONE = 0,
    N4D__MAGIC_CONTEXT = 0x6e346443, /* "n4dC" */
    N4D__MAGIC_MODEL = 0x6e34644d,   /* "n4dM" */
    N4D__MAGIC_SIM = 0x6e346453,     /* "n4dS" */
    N4D__MAGIC_GPU = 0x6e344447      /* "n4dG" (modules/gpu.c) */
};

typedef struct n4d__handle {
    uint32_t magic;
    char error[N4D__ERR_CAP];
} n4d__handle;

struct n4d_context {
    n4d__handle hdr;
    n4d_allocator alloc;
    n4d_log_fn log;
    void *log_user_data;
    int32_t log_level;
    uint64_t memory_limit; /* 0: none (n4d_context_options.memory_limit) */
    _Atomic uint64_t current[N4D_MEM_TAG_COUNT];
    _Atomic uint64_t peak[N4D_MEM_TAG_COUNT];
    _Atomic uint64_t total_current;
    _Atomic uint64_t total_peak;
};

/* ---- allocation (tagged, accounted) --------------------------------- */
void *n4d__alloc(n4d_context *ctx, n4d_mem_tag tag, size_t size);          /* 64-byte aligned */
void *n4d__calloc(n4d_context *ctx, n4d_mem_tag tag, size_t count, size_t size);
/* As n4d__alloc / n4d__calloc with the given alignment (a power of two). */
void *n4d__alloc_aligned(n4d_context *ctx, n4d_mem_tag tag, size_t size, size_t align);
void *n4d__calloc_aligned(n4d_context *ctx, n4d_mem_tag tag, size_t count, size_t size,
                          size_t align);
void n4d__free(n4d_context *ctx, n4d_mem_tag tag, void *ptr, size_t size);
/* Grows *ptr (holding *cap elements of elem bytes) to at least `need`
 * elements; returns false (buffer untouched) on failure. */
bool n4d__grow(n4d_context *ctx, n4d_mem_tag tag, void **ptr, size_t *cap, size_t need, size_t elem);
char *n4d__strdup(n4d_context *ctx, const char *s);
/* Bytes the context may still allocate under its memory limit (UINT64_MAX
 * without a limit). */
uint64_t n4d__memory_left(const n4d_context *ctx);
/* Whether ctx allocates with the library's default (libc) allocator. */
bool n4d__default_allocator(const n4d_context *ctx);
/* Adds delta bytes to a tag's (and the total's) current count without an
 * allocation (pages handed back to the system and taken again: the
 * compression module); a positive delta raises the peaks as an allocation
 * would. */
void n4d__account(n4d_context *ctx, n4d_mem_tag tag, int64_t delta);
void n4d__strfree(n4d_context *ctx, char *s);

/* ---- errors and logging --------------------------------------------- */
/* Formats the detail into the handle and returns `status`. */
n4d_status n4d__error(n4d__handle *h, n4d_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
n4d_status n4d__verror(n4d__handle *h, n4d_status status, const char *fmt, va_list ap);
void n4d__clear_error(n4d__handle *h);
/* Records an error of a call on model m: on the model while it is being
 * described or built (one owner); once it is built (shared, never written)
 * in the calling thread's slot for built models, which n4d_last_error(m)
 * reads in that thread. Returns status. */
n4d_status n4d__model_error(const n4d_model *m, n4d_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Clears the model's error text: its own slot before the build, the
 * calling thread's slot once built. */
void n4d__model_clear_error(const n4d_model *m);
void n4d__log(const n4d_context *ctx, int32_t level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
bool n4d__is_handle(const void *p, uint32_t magic);
/* Whether p is a live handle of any kind (n4d_last_error). */
bool n4d__is_any_handle(const void *p);

/* ---- option and result structs ------------------------------------- */
/* Public option and result structs carry uint32_t struct_size first
 * (docs/architecture.md, "API conventions"): an older caller's struct is
 * smaller, and the library reads and writes only the bytes it knows. */

/* Copies the caller's struct src (src_size bytes, checked >= 4 by the
 * caller) over dst, which holds the defaults, up to dst_size bytes, and
 * sets dst's struct_size to dst_size. */
static inline void n4d__copy_in(void *dst, size_t dst_size, const void *src, uint32_t src_size)
{
    memcpy(dst, src, src_size < dst_size ? src_size : dst_size);
    const uint32_t size = (uint32_t)dst_size;
    memcpy(dst, &size, sizeof size);
}
/* Copies a full result struct into the caller's out, as many bytes as out's
 * struct_size says (at most full_size), and sets out's struct_size to the
 * count written. */
static inline void n4d__copy_out(void *out, const void *full, size_t full_size)
{
    uint32_t size;
    memcpy(&size, out, sizeof size);
    if (size > full_size)
        size = (uint32_t)full_size;
    memcpy(out, full, size);
    memcpy(out, &size, sizeof size);
}
/* The usual forms: dst and full are structs, src and out pointers. */
#define N4D__COPY_IN(dst, src) n4d__copy_in(&(dst), sizeof(dst), (src), (src)->struct_size)
#define N4D__COPY_OUT(out, full) n4d__copy_out((out), &(full), sizeof(full))

/* Returns from the calling function when expr is not N4D_OK. */
#define N4D__TRY(expr)                                                                             \
    do {                                                                                           \
        n4d_status try_st_ = (expr);                                                               \
        if (try_st_ != N4D_OK)                                                                     \
            return try_st_;                                                                        \
    } while (0)

/* snprintf-style text into a caller's buffer: len counts every byte the
 * text needs, even past cap (reports). */
typedef struct n4d__textbuf {
    char *buf;
    size_t cap, len;
} n4d__textbuf;
void n4d__tb_printf(n4d__textbuf *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- model ----------------------------------------------------------- */

typedef struct n4d__area {
    char *name;
    int32_t lo[4], hi[4];
} n4d__area;

typedef struct n4d__population {
    char *name;
    int32_t area;
    int32_t model;                 /* the model's registry id */
    const n4d__neuron_model *nm;   /* its registry entry */
    double params[N4D__MAX_PARAMS]; /* nm's parameters, in its order */
    bool v_init_default;           /* v_init follows the model's resting parameter */
    int32_t placement;
    double density;
    uint64_t count;
    n4d_dist v_init;
    bool has_homeo;        /* homeostatic scaling (n4d_model_set_homeostasis) */
    n4d_homeostasis homeo;
    n4d_lifecycle life;            /* cell lifecycle (lifecycle.h); enable_death 0: none */
    /* after build */
    uint64_t first, n;
} n4d__population;

typedef struct n4d__projection {
    char *name;
    int32_t source, target; /* population indices */
    const n4d__synapse_model *sm; /* its synapse model */
    double syn_params[N4D__MAX_SYN_PARAMS]; /* sm's parameters, in its order */
    n4d_projection_desc d;  /* name/source/target/synapse_model/synapse_params pointers not
                               owned: do not use; pre/post/weights/delays: the owned copies below */
    /* N4D_RULE_EXPLICIT: the connections (owned; d.n_connections entries).
     * A projection read from a model file has none (its synapses are in the
     * file): ex_missing, and a build of it is an error. */
    uint32_t *ex_pre, *ex_post;
    float *ex_w;
    double *ex_delay;
    bool ex_missing;
} n4d__projection;

/* A plastic synapse class (docs/plasticity.md): the synapses of one
 * (source, target) population pair with one non-static synapse model and
 * its parameters. Class k (1-based) is cls[k - 1]; it is in the segment keys
 * (N4D__SEG_CLASS), so the synapses of a class form their own segments.
 * Made at the build from the projections (n4d__model_make_classes), by an
 * import, or read from a file. */
typedef struct n4d__syn_class {
    const n4d__synapse_model *sm;
    double params[N4D__MAX_SYN_PARAMS];
    int32_t source, target; /* populations; -1, -1: every pair (an imported 4DNC model) */
    char *name;             /* the first projection's name, or "4dnc" */
} n4d__syn_class;

typedef struct n4d__input {
    int32_t kind;
    int32_t target;
    double amplitude, rate, weight;
    uint32_t n_sources;
    double start, stop;
    int32_t sampling; /* n4d_poisson_sampling */
    /* spikes, step_current, ac, noise (inputs.h); the arrays owned, NULL when empty */
    uint32_t *neurons; /* the cells of the target (indices within it); NULL: all */
    uint64_t n_neurons;
    double *times;     /* spike times or step-current change times, ms */
    uint32_t *indices; /* spikes: the neuron of each time */
    double *values;    /* step_current: the amplitude from times[k] on */
    uint64_t n_times;
    double offset, frequency, phase, std, interval;
} n4d__input;

typedef struct n4d__sense {
    char *name;
    int32_t area;
    uint32_t rows, cols;
} n4d__sense;

/* Segment keys: N4D__SEG_KEY / N4D__SEG_DELAY / N4D__SEG_CH (synapse_gen.h,
 * shared with the CUDA library). */

/* Synapses: CSR by source. Row s has segments seg_ptr[s] .. seg_ptr[s+1]-1;
 * segment k covers synapses seg_off[k] .. seg_off[k+1]-1, all with key
 * seg_key[k]; segments of a row are ordered by key, synapses in a segment by
 * target. Weights are fixed point: w_real = weight_q * inv_scale. */
typedef struct n4d__synapses {
    uint64_t n_syn;
    uint64_t n_seg;
    uint64_t *seg_ptr;  /* n_neurons + 1 */
    uint64_t *seg_off;  /* n_seg + 1 */
    uint32_t *seg_key;  /* n_seg */
    uint32_t *target;   /* n_syn */
    int32_t *weight_q;  /* n_syn */
    double scale;       /* power of two */
    double inv_scale;
    uint32_t min_delay, max_delay;
    /* Storage module (memory-mapped synapses): when set, target and
     * weight_q lie in read-only file mappings (map, map_len) that this
     * releases; n4d__model_free_built then does not free them. */
    void (*release)(struct n4d__synapses *s);
    void *map[2];
    size_t map_len[2];
} n4d__synapses;

/* A contiguous range of internal neuron indices of one population (and one
 * partition). Backends iterate runs, never populations. */
typedef struct n4d__run {
    uint64_t first, n; /* internal indices */
    int32_t pop;
    uint32_t part;
} n4d__run;

/* Names of the model's areas, populations or projections looked up in
 * O(1) (an open-addressing hash table of indices + 1 into the named array,
 * whose elements start with their `char *name`): a config of many
 * populations loads in linear time. */
typedef struct n4d__name_index {
    uint32_t *slot;
    size_t cap; /* a power of two, or 0 */
} n4d__name_index;
/* Index of `name` among the count elements of base (stride bytes each), or -1. */
int32_t n4d__names_find(const n4d__name_index *x, const void *base, size_t stride,
                        const char *name);
/* Makes room for `count` names (false: out of memory; x unchanged). */
bool n4d__names_reserve(n4d_context *ctx, n4d__name_index *x, const void *base, size_t stride,
                        size_t count);
/* Adds element `index` of base (room reserved for index + 1 names). */
void n4d__names_add(n4d__name_index *x, const void *base, size_t stride, size_t index);
void n4d__names_free(n4d_context *ctx, n4d__name_index *x);

struct n4d_model {
    n4d__handle hdr;
    n4d_context *ctx;
    uint32_t shape[4];
    double dt;
    uint64_t seed;
    int32_t build_threads;
    int32_t build_device;  /* N4D__BUILD_CPU, N4D__BUILD_AUTO or a device of build_entry */
    const struct n4d__backend *build_entry; /* the backend that builds on a device */
    char build_request[24]; /* as set: "cpu", "auto" or "cuda:N" */
    char built_on[24];     /* after the build: "cpu" or "cuda:N" */
    double default_duration;

    n4d__area *areas; size_t n_areas, cap_areas;
    n4d__population *pops; size_t n_pops, cap_pops;
    n4d__projection *projs; size_t n_projs, cap_projs;
    n4d__input *inputs; size_t n_inputs, cap_inputs;
    n4d__sense *senses; size_t n_senses, cap_senses;
    n4d__name_index area_names, pop_names, proj_names;
    char *warnings; size_t warnings_len;

    n4d_layout_options layout;

    bool built;
    uint64_t n_neurons;
    int32_t *pos;       /* 4 * n_neurons: x, y, z, w, by user id */
    /* Internal order: everything a backend touches (state, synapse rows and
     * targets) is indexed internally; NULL perm = identity. */
    uint32_t *perm;     /* internal index -> user id */
    uint32_t *inv;      /* user id -> internal index */
    n4d__run *runs;
    size_t n_runs;
    uint32_t n_parts;      /* partitions (1 if none) */
    uint64_t *part_bounds; /* n_parts + 1 internal bounds */
    /* Distributed build (n4d_model_set_comm, docs/distributed.md): this
     * rank owns internal neurons [own_lo, own_hi) = partitions
     * [own_part_lo, own_part_hi) and stores only the synapses whose target
     * it owns; syn_total counts those of every rank. Without a
     * communicator (or with size 1) it owns everything. */
    bool has_comm;
    n4d_comm comm;
    uint64_t own_lo, own_hi;
    uint32_t own_part_lo, own_part_hi;
    uint64_t syn_total;
    n4d__synapses syn;
    n4d__syn_class *cls; /* plastic synapse classes (1-based in the keys) */
    uint32_t n_cls;
    size_t cap_cls;
    /* neuromodulators and what they act on (modulators.h) */
    struct n4d__mod_def *mods;
    size_t n_mods, cap_mods;
    struct n4d__mod_bind *mod_binds;
    size_t n_mod_binds, cap_mod_binds;
    /* the initial lineage of an imported 4DNC model (by user id), NULL
     * otherwise: ids, generations, parents, health and age; the next id */
    struct n4d__life_init *life0;
    /* live simulations: the one counter sims change (atomically), so that
     * n4d_model_destroy can refuse a model still in use */
    _Atomic int32_t n_sims;
    uint64_t build_ns;      /* duration of n4d_model_build (0 for a loaded model) */
};

/* Adds a projection read from a model description: an explicit one may
 * come without its connections (they are in the file's synapses). */
n4d_status n4d__model_add_projection_described(n4d_model *m, const n4d_projection_desc *d);
/* Frees the connections of an explicit projection. */
void n4d__projection_free_explicit(n4d_context *ctx, n4d__projection *p);
/* Frees the arrays of an input (spikes, currents) and sets them NULL. */
void n4d__input_free_arrays(n4d_context *ctx, n4d__input *in);
/* Appends a line to the model's warnings and logs it. */
void n4d__model_warn(n4d_model *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The plastic classes from the projections (before the synapses are
 * generated): one per population pair with a non-static synapse model;
 * N4D_E_CONFIG when two projections of a pair disagree. */
n4d_status n4d__model_make_classes(n4d_model *m);
/* The class of the synapses from population src to tgt (0: static). */
uint32_t n4d__model_pair_class(const n4d_model *m, int32_t src, int32_t tgt);
/* A projection's synapse parameters: sm's defaults, then `n` named values
 * (checked; errors name projection `who`). */
n4d_status n4d__syn_params_resolve(n4d_model *m, const char *who, const n4d__synapse_model *sm,
                                   const n4d_param_value *pv, uint32_t n, double *q);
/* Appends a class (loads, imports): parameters by name over sm's
 * defaults; source = target = -1 for every pair. */
n4d_status n4d__model_add_class(n4d_model *m, const char *name, const n4d__synapse_model *sm,
                                const n4d_param_value *pv, uint32_t n, int32_t source,
                                int32_t target);
/* Whether population p has a running cell lifecycle (enable_death), and
 * whether its synapses need the sim's own weights (reproduction with
 * mutation_std_weights > 0). */
static inline bool n4d__pop_lifecycle(const n4d_model *m, int32_t p)
{
    return p >= 0 && m->pops[p].life.enable_death != 0;
}
static inline bool n4d__pop_mutates_weights(const n4d_model *m, int32_t p)
{
    if (p < 0)
        return false;
    const n4d_lifecycle *l = &m->pops[p].life;
    return l->enable_death && l->enable_reproduction && l->mutation_std_weights > 0.0;
}
/* The initial lineage of an imported model (lifecycle.c). */
typedef struct n4d__life_init {
    uint64_t *id;
    uint32_t *generation;
    int64_t *parent;
    double *health, *age;
    uint64_t next_id;
} n4d__life_init;
void n4d__life_init_free(n4d_model *m);
/* Frees the classes. */
void n4d__model_free_classes(n4d_model *m);
/* Frees the modulator declarations and bindings (model.c). */
void n4d__model_free_modulators(n4d_model *m);
/* Population index of neuron id (binary search). */
int32_t n4d__pop_of(const n4d_model *m, uint64_t id);
/* Builds positions and synapses (build.c). */
n4d_status n4d__model_build_impl(n4d_model *m);
void n4d__model_free_built(n4d_model *m);
/* Layout (layout.c): computes perm/inv/runs/partitions from positions and
 * optional per-neuron weights (by user id); frees them. */
n4d_status n4d__layout_compute(n4d_model *m, const uint64_t *weight);
void n4d__layout_free(n4d_model *m);
/* 4D Morton code of a lattice point (16 bits per axis; bit 4b + a is bit b
 * of axis a) and its inverse. */
uint64_t n4d__morton4(const int32_t xyzw[4]);
void n4d__morton4_decode(uint64_t code, int32_t xyzw[4]);
/* Recursive coordinate bisection of all neurons (by user id) into `parts`
 * boxes (1 <= parts <= neurons): part_of[id] receives the box of neuron id.
 * Each cut is along the widest axis of the box's neurons, at the position
 * that gives each side its share of the weight (weight[id], by user id; NULL:
 * one per neuron), ties broken by id, and never leaves a box empty. The same
 * function places the layout's partitions (layout.c) and the partition
 * module's boxes, so equal arguments give equal boxes. */
n4d_status n4d__rcb_assign(const n4d_model *m, uint32_t parts, const uint64_t *weight, uint32_t *part_of);
/* Internal index of user id / user id of internal index. */
static inline uint64_t n4d__to_internal(const n4d_model *m, uint64_t id)
{
    return m->inv ? m->inv[id] : id;
}
static inline uint64_t n4d__to_user(const n4d_model *m, uint64_t i)
{
    return m->perm ? m->perm[i] : i;
}
/* Monotonic clock in nanoseconds (profilers). */
/* The owned internal range of a model (everything without a communicator). */
static inline uint64_t n4d__own_lo(const n4d_model *m) { return m->has_comm ? m->own_lo : 0; }
static inline uint64_t n4d__own_hi(const n4d_model *m)
{
    return m->has_comm ? m->own_hi : m->n_neurons;
}
/* Whether the model is split over more than one rank. */
static inline bool n4d__distributed(const n4d_model *m) { return m->has_comm && m->comm.size > 1; }
/* Collective over the model's communicator (dist.c): every rank's `bytes`
 * bytes into recv (size * bytes), with a message on the model on failure. */
n4d_status n4d__dist_allgather(n4d_model *m, const void *send, uint64_t bytes, void *recv);
/* Whether any model of the process was given a communicator (the "mpi"
 * backend's probe). */
bool n4d__dist_comm_seen(void);

static inline uint64_t n4d__now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif
