/* Bit-flip harness over valid n4d files (saved models and checkpoints,
 * corpus/load/ and corpus/resume/): its mutator flips 1 to 8 bits of an
 * input (libFuzzer's other mutations, which insert and erase bytes, are
 * not used), and each mutant goes through every load (whole, range,
 * region, mapped) and n4d_sim_resume. The mutator is deterministic in
 * libFuzzer's seed; the replay driver runs it without clang too:
 * `fuzz_bitflip_replay -flips=N FILES` mutates each file N times, mutant i
 * drawn from seed i (tests/fuzz/README.md). */
#include "fuzz_store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Flips 1 to 8 bits of data[0, size), drawn from `seed`. */
static void fuzz_flip_bits(uint8_t *data, size_t size, uint64_t seed)
{
    if (!size)
        return;
    uint64_t s = seed;
    int n = 1 + (int)(splitmix64(&s) % 8);
    for (int i = 0; i < n; i++) {
        uint64_t r = splitmix64(&s);
        data[(r >> 3) % size] ^= (uint8_t)(1u << (r & 7));
    }
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
    (void)max_size;
    fuzz_flip_bits(data, size, seed);
    return size;
}

/* The unflipped file's results (replay driver only: libFuzzer's mutants
 * come without their original). */
static bool have_reference;
static uint64_t reference[FUZZ_STORE_TARGETS];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_input(data, size, ".h5");
    n4d_context *ctx = fuzz_ctx();
    fuzz_load_all(ctx, path);
    fuzz_resume(ctx, path);
    fuzz_ctx_done(ctx);
    /* n4d's files checksum everything a load reads: a mutant either fails
     * cleanly or loads what the original holds (a flip in bytes no load
     * reads); anything else is damage that went unnoticed */
    static const char *const target[FUZZ_STORE_TARGETS] = {
        "n4d_model_load (whole)", "n4d_model_load (range)", "n4d_model_load (region)",
        "n4d_model_load (mapped)", "n4d_sim_resume"};
    for (int k = 0; have_reference && k < FUZZ_STORE_TARGETS; k++)
        if (fuzz_store_result[k] && fuzz_store_result[k] != reference[k])
            fuzz_fail(target[k], "loaded a damaged file without an error (different results)");
    return 0;
}

/* For the replay driver: runs the unflipped file and keeps its results. */
void fuzz_bitflip_reference(const uint8_t *data, size_t size);
void fuzz_bitflip_reference(const uint8_t *data, size_t size)
{
    have_reference = false;
    LLVMFuzzerTestOneInput(data, size);
    memcpy(reference, fuzz_store_result, sizeof reference);
    have_reference = true;
}

/* For the replay driver: mutant `i` of an input. */
void fuzz_bitflip_mutant(uint8_t *data, size_t size, uint64_t i);
void fuzz_bitflip_mutant(uint8_t *data, size_t size, uint64_t i) { fuzz_flip_bits(data, size, i); }
