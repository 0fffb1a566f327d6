/* The CUDA backend's side of the core (cuda_loader.c, cuda_selftest.c):
 * the loader of libn4d_cuda.so and the device checks. Other layers reach
 * them through the backend registry only. */
#ifndef N4D_CUDA_LOADER_H
#define N4D_CUDA_LOADER_H

#include "backend.h"


/* The function table of libn4d_cuda.so, loaded once per process
 * (pthread_once; thread-safe): from $N4D_CUDA_LIBRARY when set (only
 * there), else next to the library or program holding the core, in ../lib
 * from there, then through the default loader path. NULL when it cannot be
 * loaded, with the reason (static string) in *why when why is not NULL. */
const n4d__cuda_api *n4d__cuda_api_get(const char **why);
/* Whether CUDA device `device` can run the cuda backend: N4D_OK,
 * N4D_E_NOT_BUILT (no library) or N4D_E_NO_DEVICE (no driver, no device, no
 * such device), with the reason written to msg (cap bytes). */
n4d_status n4d__cuda_check(int32_t device, char *msg, size_t cap);
/* Whether device 0 computes what the CPU computes (cuda_selftest.c: a small
 * network built and simulated on both, compared bit for bit; the verdict is
 * kept for the process, a lack of device memory is retried at the next
 * call). "auto" gives work to the GPU only after it passed. N4D_OK, or a
 * failure with the reason in msg. Thread-safe. Call only after
 * n4d__cuda_check(0) succeeded. */
n4d_status n4d__cuda_self_test(char *msg, size_t cap);


/* The registry entry of the cuda backend (registry_builtin.c). */
extern const n4d__backend n4d__backend_cuda;

#endif
