/* Shared by the fuzz harnesses (tests/fuzz/README.md): a context whose
 * allocator refuses to go beyond a memory cap (so that an input cannot ask
 * for a huge model: N4D_E_NOMEM is a normal outcome), a temporary file for
 * the loaders that take a path, and the checks every outcome must pass:
 *   - a failure is one of n4d's status codes, never N4D_E_INTERNAL, with a
 *     message in n4d_last_error();
 *   - once every handle is destroyed the context holds no byte (no leak) and,
 *     where HDF5 was used, no HDF5 object is left open.
 * A failed check aborts, which libFuzzer and the replay driver report as a
 * crash. */
#ifndef N4D_FUZZ_H
#define N4D_FUZZ_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "n4d.h"

#ifdef N4D_FUZZ_HDF5
#include <hdf5.h>
#endif

/* 256 MB: far beyond any seed, small enough to run many inputs a second. */
#define FUZZ_MEM_CAP ((size_t)256 << 20)

static atomic_size_t fuzz_mem_used;

static inline void *fuzz_alloc(void *user, size_t size, size_t align)
{
    (void)user;
    size_t prev = atomic_fetch_add(&fuzz_mem_used, size);
    if (size > FUZZ_MEM_CAP || prev + size > FUZZ_MEM_CAP) {
        atomic_fetch_sub(&fuzz_mem_used, size);
        return NULL;
    }
    void *p = NULL;
    if (posix_memalign(&p, align < sizeof(void *) ? sizeof(void *) : align, size ? size : 1)) {
        atomic_fetch_sub(&fuzz_mem_used, size);
        return NULL;
    }
    return p;
}

static inline void fuzz_free(void *user, void *ptr, size_t size)
{
    (void)user;
    if (!ptr)
        return;
    atomic_fetch_sub(&fuzz_mem_used, size);
    free(ptr);
}

static inline void fuzz_fail(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz check failed: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    abort();
}

#ifdef N4D_FUZZ_HDF5
/* HDF5 identifiers of each kind open before the input: none may remain
 * after it (a leaked datatype, dataspace or property list id included). */
static const H5I_type_t fuzz_h5_types[] = {H5I_FILE,    H5I_GROUP,     H5I_DATATYPE,
                                           H5I_DATASPACE, H5I_DATASET, H5I_ATTR,
                                           H5I_GENPROP_LST};
#define FUZZ_H5_NTYPES (sizeof fuzz_h5_types / sizeof fuzz_h5_types[0])
static hsize_t fuzz_h5_before[FUZZ_H5_NTYPES];

static inline void fuzz_h5_count(hsize_t *out)
{
    for (size_t i = 0; i < FUZZ_H5_NTYPES; i++) {
        out[i] = 0;
        (void)H5Inmembers(fuzz_h5_types[i], &out[i]);
    }
}
#endif

static inline n4d_context *fuzz_ctx(void)
{
#ifdef N4D_FUZZ_HDF5
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* the checks below print nothing */
    fuzz_h5_count(fuzz_h5_before);
#endif
    n4d_context_options o;
    n4d_context_options_init(&o);
    o.allocator.alloc = fuzz_alloc;
    o.allocator.free = fuzz_free;
    n4d_context *ctx = NULL;
    if (n4d_context_create(&o, &ctx) != N4D_OK)
        fuzz_fail("n4d_context_create", NULL);
    return ctx;
}

/* A status returned by a call on hostile input: OK, or an error with a
 * message recorded on `handle`. */
static inline void fuzz_check_status(n4d_status st, const void *handle, const char *call)
{
    if (st == N4D_OK)
        return;
    if (st < N4D_E_LIMIT || st > N4D_E_INVALID_ARG)
        fuzz_fail(call, "returned an unknown status");
    if (st == N4D_E_INTERNAL)
        fuzz_fail(call, n4d_last_error(handle));
    if (st != N4D_E_NOMEM && !n4d_last_error(handle)[0])
        fuzz_fail(call, "failed without a message");
}

/* Destroys the context after checking that everything was freed. */
static inline void fuzz_ctx_done(n4d_context *ctx)
{
    n4d_memory_stats ms;
    memset(&ms, 0, sizeof ms);
    ms.struct_size = sizeof ms;
    if (n4d_context_memory(ctx, &ms) != N4D_OK)
        fuzz_fail("n4d_context_memory", NULL);
    if (ms.total_current != 0) {
        char b[64];
        snprintf(b, sizeof b, "%llu bytes", (unsigned long long)ms.total_current);
        fuzz_fail("memory left allocated after every handle was destroyed", b);
    }
    n4d_context_destroy(ctx);
#ifdef N4D_FUZZ_HDF5
    hsize_t after[FUZZ_H5_NTYPES];
    fuzz_h5_count(after);
    for (size_t i = 0; i < FUZZ_H5_NTYPES; i++)
        if (after[i] > fuzz_h5_before[i]) {
            char b[96];
            snprintf(b, sizeof b, "%llu more of HDF5 id type %d",
                     (unsigned long long)(after[i] - fuzz_h5_before[i]), (int)fuzz_h5_types[i]);
            fuzz_fail("HDF5 identifiers left open", b);
        }
#endif
}

/* A few steps of a sim of `m` on cpu-ref (one thread, the ground truth);
 * returns the sim's checksum (0 when it could not run). */
static inline uint64_t fuzz_run_sim(n4d_model *m, uint64_t steps)
{
    n4d_sim_options so;
    n4d_sim_options_init(&so);
    so.backend = "cpu-ref";
    so.history_steps = 8;
    n4d_sim *sim = NULL;
    n4d_status st = n4d_sim_create(m, &so, &sim);
    fuzz_check_status(st, m, "n4d_sim_create");
    if (st != N4D_OK)
        return 0;
    st = n4d_sim_run(sim, steps);
    fuzz_check_status(st, sim, "n4d_sim_run");
    uint64_t sum = st == N4D_OK ? n4d_sim_checksum(sim) : 0;
    n4d_sim_destroy(sim);
    return sum;
}

/* ---- the input as a file, for the loaders that take a path ---------------- */

static char fuzz_path[4096];

static inline void fuzz_path_remove(void)
{
    if (fuzz_path[0])
        unlink(fuzz_path);
}

/* Writes the input to this process's temporary file ($TMPDIR or /tmp,
 * removed at exit) and returns its path. */
static inline const char *fuzz_write_input(const uint8_t *data, size_t size, const char *suffix)
{
    if (!fuzz_path[0]) {
        const char *dir = getenv("TMPDIR");
        snprintf(fuzz_path, sizeof fuzz_path, "%s/n4d_fuzz_%ld%s", dir && dir[0] ? dir : "/tmp",
                 (long)getpid(), suffix);
        atexit(fuzz_path_remove);
    }
    /* a new file (a new inode) for each input: HDF5 recognises an open file
     * by device and inode, so rewriting in place could meet state that a
     * failed open of the previous input left inside HDF5 */
    unlink(fuzz_path);
    FILE *f = fopen(fuzz_path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f))
        fuzz_fail("cannot write the input file", fuzz_path);
    return fuzz_path;
}

#endif
