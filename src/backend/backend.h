/* The backend interface: the ops table a backend fills, its capability
 * flags, and the registry through which the core finds backends by name or
 * by capability (docs/architecture.md, "Backends"). The core never names a
 * backend: the built-in ones (cpu-ref, cpu-omp) and the loadable CUDA
 * library's shim are listed in registry_builtin.c, and a backend added
 * later registers with n4d__backend_register. A backend advances the state
 * of an n4d_sim (sim_state.h) and reports each step's spikes through
 * n4d__sim_emit_*. */
#ifndef N4D_BACKEND_H
#define N4D_BACKEND_H

#include "sim_state.h"
#include "cuda_api.h"

/* The version of this interface; a backend built against another is refused. */
#define N4D__BACKEND_ABI 2u

/* Capability flags of a backend: the public n4d_backend_cap values. */
enum {
    N4D__CAP_DEVICE = N4D_BACKEND_DEVICE,           /* the state lives on a device: ops.sync copies it */
    N4D__CAP_THREADS = N4D_BACKEND_THREADS,         /* uses n4d_sim_options.num_threads */
    N4D__CAP_COMPRESSION = N4D_BACKEND_COMPRESSION, /* honours the sim's skip map */
    N4D__CAP_PARTITIONS = N4D_BACKEND_PARTITIONS,   /* runs the layout's partitions as work units */
    N4D__CAP_PLASTICITY = N4D_BACKEND_PLASTICITY,   /* runs plastic synapse models */
    N4D__CAP_DEVICE_INDEX = N4D_BACKEND_DEVICE_INDEX, /* accepts "NAME:N" for device N */
    N4D__CAP_BUILD = N4D_BACKEND_BUILD,             /* generates synapses on its device */
    N4D__CAP_REFERENCE = N4D_BACKEND_REFERENCE,     /* the scalar ground truth */
    N4D__CAP_SPARSE_POISSON = N4D_BACKEND_SPARSE_POISSON, /* n4d__poisson_prepare before each batch */
};

/* The operations of a backend on a sim. */
typedef struct n4d__backend_ops {
    const char *name;
    /* Allocates backend state (sim->backend_state); may fail with a message
     * on the sim. */
    n4d_status (*init)(n4d_sim *sim);
    void (*fini)(n4d_sim *sim);
    /* Advances `steps` steps, emitting every step's spikes in order. */
    n4d_status (*run)(n4d_sim *sim, uint64_t steps);
    /* Device backends copy state to (to_host = 1) or from the host arrays.
     * NULL for host backends. `to_host` may carry the N4D__SYNC_* flags of
     * cuda_api.h: bit 0 the direction (1 = to the host), N4D__SYNC_STATE
     * the neuron state arrays only (not the delay ring), N4D__SYNC_IEXT the
     * external input only; without them (0 / 1) everything is copied. */
    n4d_status (*sync)(n4d_sim *sim, int to_host);
} n4d__backend_ops;

/* A registry entry. */
typedef struct n4d__backend {
    const char *name;  /* "cpu-omp"; with N4D__CAP_DEVICE_INDEX also "NAME:N" */
    uint32_t abi;      /* N4D__BACKEND_ABI */
    uint32_t caps;     /* N4D__CAP_* */
    /* "auto" tries the entries with a non-zero priority, highest first, for
     * models of at least auto_min_neurons neurons (its probe with for_auto
     * set must pass); the first that initialises runs the sim. */
    int32_t auto_priority;
    uint64_t auto_min_neurons;
    /* Whether device `device` (0 without an index) can run here: N4D_OK, or
     * N4D_E_NOT_BUILT / N4D_E_NO_DEVICE / a self-test failure with the
     * reason in msg. for_auto adds the checks "auto" needs before trusting
     * it (the device self-test). NULL: always available. Thread-safe. */
    n4d_status (*probe)(int32_t device, int for_auto, char *msg, size_t cap);
    const n4d__backend_ops *ops;
    /* Device backends: the device library (cuda_api.h: synapse generation
     * for N4D__CAP_BUILD, the GPU array API), loaded on demand; NULL when
     * it cannot be loaded, with the reason in *why (static string). */
    const n4d__cuda_api *(*device_api)(const char **why);
} n4d__backend;

/* Adds an entry (built-in entries are present from the start). N4D_E_STATE
 * for a second entry of the same name, N4D_E_UNSUPPORTED for another ABI,
 * N4D_E_LIMIT when the registry is full. Thread-safe. */
n4d_status n4d__backend_register(const n4d__backend *b);
/* Number of entries and entry i (registration order; NULL past the end). */
uint32_t n4d__backend_count(void);
const n4d__backend *n4d__backend_at(uint32_t i);
/* The entry a name selects: "NAME" (device 0) or "NAME:N" for a backend
 * with N4D__CAP_DEVICE_INDEX. NULL when unknown; *bad_index when the name
 * has a malformed or unsupported ":N" part. */
const n4d__backend *n4d__backend_lookup(const char *name, int32_t *device, int *bad_index);
/* The names of the entries, for messages: "auto, cpu-ref, cpu-omp, cuda,
 * cuda:N" (cap bytes, truncated). */
void n4d__backend_names(char *buf, size_t cap);
/* The first entry with every flag of `caps`, or NULL. */
const n4d__backend *n4d__backend_with(uint32_t caps);

/* The entries present from the start (registry_builtin.c), NULL-terminated. */
extern const n4d__backend *const n4d__builtin_backends[];

#endif
