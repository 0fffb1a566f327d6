/* libFuzzer harness: n4d_model_load of the input as a file, four ways (the
 * whole model, an id range, a region, mapped synapses), and a few steps of
 * each loaded model. Seeds: corpus/load/ (saved models). */
#include "fuzz_store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_input(data, size, ".h5");
    n4d_context *ctx = fuzz_ctx();
    fuzz_load_all(ctx, path);
    fuzz_ctx_done(ctx);
    return 0;
}
