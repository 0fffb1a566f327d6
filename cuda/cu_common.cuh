// Helpers shared by the CUDA library's translation units (never installed).
#ifndef N4D_CU_COMMON_CUH
#define N4D_CU_COMMON_CUH

#include <cuda_runtime.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "cuda_api.h"

namespace n4dcu {

// Writes a message to err (N4D_CUDA_ERR_CAP bytes) and returns status.
__attribute__((format(printf, 3, 4))) inline n4d_status fail(char *err, n4d_status status,
                                                             const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, N4D_CUDA_ERR_CAP, fmt, ap);
    va_end(ap);
    return status;
}

// Status of a CUDA error: memory -> N4D_E_NOMEM, driver / device problems
// -> N4D_E_NO_DEVICE, anything else -> N4D_E_INTERNAL.
inline n4d_status status_of(cudaError_t e)
{
    switch (e) {
    case cudaSuccess: return N4D_OK;
    case cudaErrorMemoryAllocation: return N4D_E_NOMEM;
    case cudaErrorInsufficientDriver:
    case cudaErrorNoDevice:
    case cudaErrorInvalidDevice:
    case cudaErrorDevicesUnavailable:
    case cudaErrorNoKernelImageForDevice:
    case cudaErrorUnsupportedPtxVersion:
    case cudaErrorSystemDriverMismatch:
    case cudaErrorCompatNotSupportedOnDevice:
    case cudaErrorInitializationError: return N4D_E_NO_DEVICE;
    default: return N4D_E_INTERNAL;
    }
}

// Reports a CUDA error ("what: string (CUDA error N)") and clears the
// runtime's last error when it is not sticky.
inline n4d_status cuda_fail(char *err, cudaError_t e, const char *what)
{
    n4d_status st = status_of(e);
    fail(err, st, "%s: %s (CUDA error %d)", what, cudaGetErrorString(e), (int)e);
    (void)cudaGetLastError();
    return st;
}

// Makes `device` current for the calling thread.
inline n4d_status use_device(int device, char *err)
{
    cudaError_t e = cudaSetDevice(device);
    if (e != cudaSuccess) {
        char what[64];
        snprintf(what, sizeof what, "cudaSetDevice(%d)", device);
        return cuda_fail(err, e, what);
    }
    return N4D_OK;
}

} // namespace n4dcu

#define N4D_CU_TRY(call, what)                                                                     \
    do {                                                                                           \
        cudaError_t e_ = (call);                                                                   \
        if (e_ != cudaSuccess)                                                                     \
            return n4dcu::cuda_fail(err, e_, (what));                                              \
    } while (0)

#endif
