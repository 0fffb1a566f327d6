/* The backends present from the start, in the order "auto" and the tests
 * list them (backend.h). A new built-in backend adds one line here; a
 * loadable one calls n4d__backend_register instead. */
#include "cpu_common.h"
#include "cuda_loader.h"

const n4d__backend *const n4d__builtin_backends[] = {
    &n4d__backend_cpu_ref,
    &n4d__backend_cpu_omp,
    &n4d__backend_cuda,
    &n4d__backend_mpi,
    NULL,
};
