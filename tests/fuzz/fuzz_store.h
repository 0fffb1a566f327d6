/* The saved-file targets shared by fuzz_load, fuzz_resume and fuzz_bitflip:
 * n4d_model_load of the whole model, of an id range, of a region and with
 * mapped synapses; n4d_sim_resume and a few steps of the resumed sim. */
#ifndef N4D_FUZZ_STORE_H
#define N4D_FUZZ_STORE_H

#include "fuzz.h"

/* What the last fuzz_load_all and fuzz_resume gave, one slot per target
 * (whole, range, region, mapped, resume): the sim's checksum, 0 for an
 * error. fuzz_bitflip compares a mutant's with the unflipped file's. */
#define FUZZ_STORE_TARGETS 5
static uint64_t fuzz_store_result[FUZZ_STORE_TARGETS];

static inline void fuzz_load_one(n4d_context *ctx, const char *path, int32_t select, int32_t mmap_syn,
                                 int slot)
{
    n4d_load_options lo;
    n4d_load_options_init(&lo);
    lo.select = select;
    lo.mmap_synapses = mmap_syn;
    lo.first = 1;
    lo.count = 6;
    for (int k = 0; k < 4; k++) {
        lo.lo[k] = 0;
        lo.hi[k] = 1;
    }
    n4d_model *m = NULL;
    n4d_status st = n4d_model_load(ctx, path, &lo, &m);
    fuzz_check_status(st, ctx, "n4d_model_load");
    fuzz_store_result[slot] = 0;
    if (st == N4D_OK) {
        if (!m)
            fuzz_fail("n4d_model_load", "OK without a model");
        fuzz_store_result[slot] = fuzz_run_sim(m, 3);
        n4d_model_destroy(m);
    } else if (m) {
        fuzz_fail("n4d_model_load", "failed but returned a model");
    }
}

static inline void fuzz_load_all(n4d_context *ctx, const char *path)
{
    fuzz_load_one(ctx, path, N4D_SELECT_ALL, 0, 0);
    fuzz_load_one(ctx, path, N4D_SELECT_RANGE, 0, 1);
    fuzz_load_one(ctx, path, N4D_SELECT_REGION, 0, 2);
    fuzz_load_one(ctx, path, N4D_SELECT_ALL, 1, 3);
}

static inline void fuzz_resume(n4d_context *ctx, const char *path)
{
    n4d_resume_options ro;
    n4d_resume_options_init(&ro);
    ro.backend = "cpu-ref";
    n4d_model *m = NULL;
    n4d_sim *sim = NULL;
    n4d_status st = n4d_sim_resume(ctx, path, &ro, &m, &sim);
    fuzz_check_status(st, ctx, "n4d_sim_resume");
    fuzz_store_result[4] = 0;
    if (st == N4D_OK) {
        if (!m || !sim)
            fuzz_fail("n4d_sim_resume", "OK without a model and a sim");
        st = n4d_sim_run(sim, 5);
        fuzz_check_status(st, sim, "n4d_sim_run");
        fuzz_store_result[4] = st == N4D_OK ? n4d_sim_checksum(sim) : 0;
        n4d_sim_destroy(sim);
        n4d_model_destroy(m);
    } else if (m || sim) {
        fuzz_fail("n4d_sim_resume", "failed but returned a model or a sim");
    }
}

#endif
