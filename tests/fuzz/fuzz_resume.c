/* libFuzzer harness: n4d_sim_resume of the input as a file (cpu-ref) and a
 * few steps of the resumed sim. Seeds: corpus/resume/ (checkpoints). */
#include "fuzz_store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_input(data, size, ".h5");
    n4d_context *ctx = fuzz_ctx();
    fuzz_resume(ctx, path);
    fuzz_ctx_done(ctx);
    return 0;
}
