/* libFuzzer harness: a JSON config (n4d_model_from_json_string), then, when
 * it loads, the build (one thread, memory capped) and a few steps of a
 * cpu-ref simulation. Seeds: corpus/config/. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    n4d_context *ctx = fuzz_ctx();
    n4d_model *m = NULL;
    n4d_status st = n4d_model_from_json_string(ctx, (const char *)data, size, "fuzz.json", &m);
    fuzz_check_status(st, ctx, "n4d_model_from_json_string");
    if (st == N4D_OK) {
        if (!m)
            fuzz_fail("n4d_model_from_json_string", "OK without a model");
        (void)n4d_model_set_build_threads(m, 1);
        if (!n4d_model_is_built(m)) {
            st = n4d_model_build(m);
            fuzz_check_status(st, m, "n4d_model_build");
        }
        if (st == N4D_OK)
            fuzz_run_sim(m, 20);
        n4d_model_destroy(m);
    } else if (m) {
        fuzz_fail("n4d_model_from_json_string", "failed but returned a model");
    }
    fuzz_ctx_done(ctx);
    return 0;
}
