/* libFuzzer harness: the import of 4D Neural Cognition JSON saves
 * (n4d_model_import_4dnc, format JSON), then a few steps of a cpu-ref
 * simulation of what imports. The input is written to a temporary file.
 * Seeds: corpus/4dnc/. fuzz_4dnc_h5 is the HDF5 form. */
#include "fuzz.h"

#ifndef FUZZ_4DNC_FORMAT
#define FUZZ_4DNC_FORMAT N4D_IMPORT_JSON
#define FUZZ_4DNC_SUFFIX ".json"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_input(data, size, FUZZ_4DNC_SUFFIX);
    n4d_context *ctx = fuzz_ctx();
    n4d_import_options io;
    n4d_import_options_init(&io);
    io.format = FUZZ_4DNC_FORMAT;
    n4d_model *m = NULL;
    n4d_status st = n4d_model_import_4dnc(ctx, path, &io, &m);
    fuzz_check_status(st, ctx, "n4d_model_import_4dnc");
    if (st == N4D_OK) {
        fuzz_run_sim(m, 5);
        n4d_model_destroy(m);
    } else if (m) {
        fuzz_fail("n4d_model_import_4dnc", "failed but returned a model");
    }
    fuzz_ctx_done(ctx);
    return 0;
}
