/* Memory-mapped synapse arrays (load option mmap_synapses): target and
 * weight_q are mapped read-only from the file when they are stored
 * contiguous, uncompressed and in native byte order. */
#define _DEFAULT_SOURCE /* madvise */
#include "store_model.h"

#if N4D_HAVE_HDF5

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Unmaps both arrays (the synapses' release hook). */
static void release_mapped(n4d__synapses *s)
{
    for (int k = 0; k < 2; k++)
        if (s->map[k])
            munmap(s->map[k], s->map_len[k]);
    s->map[0] = s->map[1] = NULL;
    s->target = NULL;
    s->weight_q = NULL;
    s->release = NULL;
}

/* Maps a contiguous, unfiltered dataset of count elements of `elem` bytes. */
static n4d_status map_dset(n4d__h5 *h, hid_t d, const char *name, hid_t native, uint64_t count,
                           size_t elem, void **ptr, void **base, size_t *len)
{
    hid_t dcpl = H5Dget_create_plist(d), ft = H5Dget_type(d);
    bool ok = dcpl >= 0 && ft >= 0 && H5Pget_layout(dcpl) == H5D_CONTIGUOUS &&
              H5Pget_nfilters(dcpl) == 0 && H5Tequal(ft, native) > 0;
    n4d__h5_close(dcpl);
    n4d__h5_close(ft);
    if (!ok)
        return n4d__h5_fail(h, N4D_E_UNSUPPORTED, name, false,
                            "cannot be memory-mapped: it is not stored contiguous, uncompressed "
                            "and in native byte order (save with contiguous = 1)");
    haddr_t off = H5Dget_offset(d);
    uint64_t bytes = count * elem;
    if (off == HADDR_UNDEF || off % elem != 0 || H5Dget_storage_size(d) != bytes)
        return n4d__h5_fail(h, N4D_E_UNSUPPORTED, name, false,
                            "cannot be memory-mapped: its data are not allocated or not aligned "
                            "(save with contiguous = 1)");
    int fd = open(h->path, O_RDONLY);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        int err = errno;
        if (fd >= 0)
            close(fd);
        return n4d__h5_fail(h, N4D_E_IO, name, false, "cannot open the file for mapping: %s",
                            strerror(err));
    }
    if ((uint64_t)sb.st_size < off + bytes) {
        close(fd);
        return n4d__h5_fail(h, N4D_E_FORMAT, name, false, "the file is truncated (data end at "
                            "byte %llu of %llu)",
                            (unsigned long long)(off + bytes), (unsigned long long)sb.st_size);
    }
    long page = sysconf(_SC_PAGESIZE);
    uint64_t pg = page > 0 ? (uint64_t)page : 4096;
    uint64_t start = off / pg * pg;
    *len = (size_t)(off + bytes - start);
    *base = mmap(NULL, *len, PROT_READ, MAP_SHARED, fd, (off_t)start);
    int err = errno;
    close(fd);
    if (*base == MAP_FAILED) {
        *base = NULL;
        return n4d__h5_fail(h, N4D_E_IO, name, false, "cannot map the data: %s", strerror(err));
    }
    *ptr = (char *)*base + (off - start);
    return N4D_OK;
}

n4d_status n4d__store_map_syn(n4d__h5 *h, const n4d__syn_files *f, n4d__synapses *s)
{
    const uint64_t S = s->n_syn;
    n4d_status st = map_dset(h, f->target, N4D__STORE_SYN("target"), H5T_NATIVE_UINT32, S, 4,
                             (void **)&s->target, &s->map[0], &s->map_len[0]);
    if (!st) {
        s->release = release_mapped;
        st = map_dset(h, f->weight_q, N4D__STORE_SYN("weight_q"), H5T_NATIVE_INT32, S, 4,
                      (void **)&s->weight_q, &s->map[1], &s->map_len[1]);
    }
    return st;
}

void n4d__store_mapped_dontneed(n4d__synapses *s)
{
    for (int k = 0; k < 2; k++)
        madvise(s->map[k], s->map_len[k], MADV_DONTNEED);
}

#else
typedef int n4d__store_mmap_unused;
#endif
