/* HDF5 helpers of the storage module: silenced error handling with messages
 * naming the file and the object, checked reads, dataset creation with the
 * save options, atomic file replacement. */
#include "store_h5.h"

#if N4D_HAVE_HDF5

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- errors ----------------------------------------------------------------- */

void n4d__h5_begin(n4d__h5 *h, n4d_context *ctx, n4d__handle *err, const char *path)
{
    memset(h, 0, sizeof *h);
    h->ctx = ctx;
    h->err = err;
    h->path = path ? path : "(null)";
    if (H5Eget_auto2(H5E_DEFAULT, &h->old_fn, &h->old_data) >= 0 &&
        H5Eset_auto2(H5E_DEFAULT, NULL, NULL) >= 0)
        h->silenced = true;
}

void n4d__h5_end(n4d__h5 *h)
{
    if (h->silenced) {
        H5Eclear2(H5E_DEFAULT);
        H5Eset_auto2(H5E_DEFAULT, h->old_fn, h->old_data);
        h->silenced = false;
    }
}

typedef struct walk_buf {
    char *buf;
    size_t cap;
} walk_buf;

static herr_t walk_cb(unsigned n, const H5E_error2_t *e, void *data)
{
    walk_buf *w = data;
    if (n == 0 && e && e->desc)
        snprintf(w->buf, w->cap, "%s", e->desc);
    return 0;
}

n4d_status n4d__h5_fail(n4d__h5 *h, n4d_status st, const char *obj, bool with_lib, const char *fmt,
                        ...)
{
    char detail[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    char lib[256] = "";
    if (with_lib) {
        walk_buf w = {lib, sizeof lib};
        H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_cb, &w);
        H5Eclear2(H5E_DEFAULT);
    }
    if (obj)
        n4d__error(h->err, st, "%s: %s: %s%s%s%s", h->path, obj, detail, lib[0] ? " (HDF5: " : "",
                   lib, lib[0] ? ")" : "");
    else
        n4d__error(h->err, st, "%s: %s%s%s%s", h->path, detail, lib[0] ? " (HDF5: " : "", lib,
                   lib[0] ? ")" : "");
    return st;
}

void n4d__h5_close(hid_t id)
{
    if (id < 0)
        return;
    switch (H5Iget_type(id)) {
    case H5I_FILE: H5Fclose(id); break;
    case H5I_GROUP: H5Gclose(id); break;
    case H5I_DATASET: H5Dclose(id); break;
    case H5I_DATASPACE: H5Sclose(id); break;
    case H5I_DATATYPE: H5Tclose(id); break;
    case H5I_ATTR: H5Aclose(id); break;
    case H5I_GENPROP_LST: H5Pclose(id); break;
    default: break;
    }
}

/* Full path of `name` under loc, for messages. */
static void obj_name(hid_t loc, const char *name, char *buf, size_t cap)
{
    char base[512] = "";
    if (loc >= 0 && H5Iget_name(loc, base, sizeof base) < 0)
        base[0] = '\0';
    if (!name || !name[0])
        snprintf(buf, cap, "%s", base[0] ? base : "/");
    else if (name[0] == '/' || !base[0])
        snprintf(buf, cap, "%s", name);
    else if (strcmp(base, "/") == 0)
        snprintf(buf, cap, "/%s", name);
    else
        snprintf(buf, cap, "%s/%s", base, name);
}

bool n4d__h5_exists(hid_t loc, const char *name)
{
    char part[1024];
    size_t n = strlen(name);
    if (n == 0 || n >= sizeof part)
        return false;
    for (size_t i = 0; i <= n; i++) {
        if (name[i] == '/' || name[i] == '\0') {
            if (i == 0)
                continue;
            memcpy(part, name, i);
            part[i] = '\0';
            if (H5Lexists(loc, part, H5P_DEFAULT) <= 0)
                return false;
        }
    }
    return H5Oexists_by_name(loc, name, H5P_DEFAULT) > 0;
}

/* ---- types ------------------------------------------------------------------ */

hid_t n4d__h5_mem_type(n4d__h5_type t)
{
    switch (t) {
    case N4D__T_U8: return H5T_NATIVE_UINT8;
    case N4D__T_U32: return H5T_NATIVE_UINT32;
    case N4D__T_I32: return H5T_NATIVE_INT32;
    case N4D__T_U64: return H5T_NATIVE_UINT64;
    case N4D__T_I64: return H5T_NATIVE_INT64;
    case N4D__T_F32: return H5T_NATIVE_FLOAT;
    default: return H5T_NATIVE_DOUBLE;
    }
}

static hid_t file_type(n4d__h5_type t)
{
    switch (t) {
    case N4D__T_U8: return H5T_STD_U8LE;
    case N4D__T_U32: return H5T_STD_U32LE;
    case N4D__T_I32: return H5T_STD_I32LE;
    case N4D__T_U64: return H5T_STD_U64LE;
    case N4D__T_I64: return H5T_STD_I64LE;
    case N4D__T_F32: return H5T_IEEE_F32LE;
    default: return H5T_IEEE_F64LE;
    }
}

static const char *type_desc(n4d__h5_type t)
{
    switch (t) {
    case N4D__T_U8: return "8-bit unsigned integers";
    case N4D__T_U32: return "32-bit unsigned integers";
    case N4D__T_I32: return "32-bit signed integers";
    case N4D__T_U64: return "64-bit unsigned integers";
    case N4D__T_I64: return "64-bit signed integers";
    case N4D__T_F32:
    case N4D__T_F64: return "floating-point numbers";
    case N4D__T_NUMBER: return "numbers";
    default: return "a string";
    }
}

/* Whether the file type ft is acceptable for t. */
static bool type_ok(hid_t ft, n4d__h5_type t)
{
    H5T_class_t c = H5Tget_class(ft);
    size_t size = H5Tget_size(ft);
    switch (t) {
    case N4D__T_U8:
    case N4D__T_U32:
    case N4D__T_I32:
    case N4D__T_U64:
    case N4D__T_I64: {
        static const size_t sizes[] = {1, 4, 4, 8, 8};
        bool sign = t == N4D__T_I32 || t == N4D__T_I64;
        return c == H5T_INTEGER && size == sizes[t] &&
               (H5Tget_sign(ft) == H5T_SGN_2) == sign;
    }
    case N4D__T_F32:
    case N4D__T_F64: return c == H5T_FLOAT;
    case N4D__T_NUMBER: return c == H5T_FLOAT || c == H5T_INTEGER;
    default: return c == H5T_STRING;
    }
}

/* ---- datasets ------------------------------------------------------------------ */

/* The most a filter pipeline expands: deflate's limit is 1032:1 (shuffle
 * and Fletcher32 change nothing), with a margin. */
#define N4D__H5_MAX_RATIO 1100.0
/* Declared sizes up to this many bytes need no stored data (fill values
 * of small datasets cost nothing to read). */
#define N4D__H5_FREE_BYTES 65536.0

/* A dataset's declared size against the bytes it stores and the file's
 * size, before anyone allocates for it: a small file that declares a huge
 * never-written (chunked) dataset would otherwise make a loader allocate and
 * read gigabytes of fill values before its consistency checks. */
static n4d_status check_storage(n4d__h5 *h, hid_t d, hid_t ft, int rank, const hsize_t *cur,
                                const char *full)
{
    double declared = (double)H5Tget_size(ft);
    for (int i = 0; i < rank; i++)
        declared *= (double)cur[i];
    const double stored = (double)H5Dget_storage_size(d);
    hsize_t fsize = 0;
    hid_t f = H5Iget_file_id(d);
    if (f < 0 || H5Fget_filesize(f, &fsize) < 0) {
        n4d__h5_close(f);
        return n4d__h5_fail(h, N4D_E_FORMAT, full, true, "cannot read the file size");
    }
    H5Fclose(f);
    if (stored > (double)fsize)
        return n4d__h5_fail(h, N4D_E_FORMAT, full, false,
                            "claims %.0f bytes of storage in a file of %llu bytes", stored,
                            (unsigned long long)fsize);
    hid_t dcpl = H5Dget_create_plist(d);
    const int nf = dcpl >= 0 ? H5Pget_nfilters(dcpl) : -1;
    /* only a compressing filter lets the data outgrow their storage */
    bool expands = false;
    for (int i = 0; i < nf; i++) {
        unsigned flags = 0, cfg = 0;
        size_t nv = 0;
        H5Z_filter_t id = H5Pget_filter2(dcpl, (unsigned)i, &flags, &nv, NULL, 0, NULL, &cfg);
        if (id != H5Z_FILTER_FLETCHER32 && id != H5Z_FILTER_SHUFFLE)
            expands = true;
    }
    n4d__h5_close(dcpl);
    if (nf < 0)
        return n4d__h5_fail(h, N4D_E_FORMAT, full, true, "cannot read the filters");
    const double most = (expands ? stored * N4D__H5_MAX_RATIO : stored) + N4D__H5_FREE_BYTES;
    if (declared > most)
        return n4d__h5_fail(h, N4D_E_FORMAT, full, false,
                            "declares %.0f bytes of data but stores only %.0f bytes%s (never "
                            "written or damaged)",
                            declared, stored, expands ? " (compressed)" : "");
    return N4D_OK;
}

/* ---- checksums of contiguous datasets ------------------------------------------ */

/* HDF5's Fletcher32 filter needs chunked storage, which memory mapping
 * cannot use: a contiguous dataset carries n4d's own sum of its bytes in
 * the file's (little-endian) order, attribute N4D__H5_SUM_ATTR = {a, b,
 * bytes covered}, extended by each in-order write and verified when the
 * dataset is opened. a and b are Fletcher's sums over bytes modulo 2^64 (a
 * flipped bit always changes a); the attribute itself sits in the
 * checksummed object header. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "n4d's file checksums (and memory-mapped files) assume a little-endian host"
#endif

typedef struct h5_sum {
    uint64_t a, b, n;
} h5_sum;

static void sum_add(h5_sum *s, const void *p, size_t len)
{
    const unsigned char *c = p;
    uint64_t a = s->a, b = s->b;
    /* per block of n bytes: b += n a + sum (n - i) c[i], a += sum c[i]
     * (the same sums as the byte loop, but independent terms: vectorised;
     * for n <= 4096 both block sums fit 32 bits: 255 n (n + 1) / 2 < 2^32) */
    for (size_t off = 0; off < len; off += 4096) {
        const size_t n = len - off < 4096 ? len - off : 4096;
        uint32_t s1 = 0, s2 = 0;
        for (size_t i = 0; i < n; i++) {
            s1 += c[off + i];
            s2 += (uint32_t)(n - i) * c[off + i];
        }
        b += (uint64_t)n * a + s2;
        a += s1;
    }
    s->a = a;
    s->b = b;
    s->n += len;
}

static bool is_contiguous(hid_t d)
{
    hid_t dcpl = H5Dget_create_plist(d);
    bool c = dcpl >= 0 && H5Pget_layout(dcpl) == H5D_CONTIGUOUS;
    n4d__h5_close(dcpl);
    return c;
}

/* Extends the checksum of contiguous dataset d by len bytes written at
 * byte `at`. */
static n4d_status sum_extend(n4d__h5 *h, hid_t d, uint64_t at, const void *buf, uint64_t len)
{
    h5_sum s = {0, 0, 0};
    hsize_t three = 3;
    hid_t a = H5I_INVALID_HID, sp = H5I_INVALID_HID;
    htri_t ex = H5Aexists(d, N4D__H5_SUM_ATTR);
    if (ex > 0) {
        a = H5Aopen(d, N4D__H5_SUM_ATTR, H5P_DEFAULT);
        if (a < 0 || H5Aread(a, H5T_NATIVE_UINT64, &s) < 0)
            goto fail;
    } else if (ex == 0) {
        sp = H5Screate_simple(1, &three, NULL);
        a = sp >= 0 ? H5Acreate2(d, N4D__H5_SUM_ATTR, H5T_STD_U64LE, sp, H5P_DEFAULT, H5P_DEFAULT)
                    : H5I_INVALID_HID;
        if (a < 0)
            goto fail;
    } else {
        goto fail;
    }
    if (s.n != at) {
        char full[600];
        obj_name(d, NULL, full, sizeof full);
        n4d__h5_close(a);
        n4d__h5_close(sp);
        return n4d__h5_fail(h, N4D_E_INTERNAL, full, false,
                            "written out of order (byte %llu after %llu): no checksum",
                            (unsigned long long)at, (unsigned long long)s.n);
    }
    sum_add(&s, buf, len);
    if (H5Awrite(a, H5T_NATIVE_UINT64, &s) < 0)
        goto fail;
    H5Aclose(a);
    n4d__h5_close(sp);
    return N4D_OK;
fail:
    n4d__h5_close(a);
    n4d__h5_close(sp);
    char full[600];
    obj_name(d, NULL, full, sizeof full);
    return n4d__h5_fail(h, N4D_E_IO, full, true, "cannot write its checksum");
}

/* Reads the whole of contiguous dataset d (file type ft, `total` bytes) in
 * blocks and compares the sum with its attribute. */
static n4d_status sum_verify(n4d__h5 *h, hid_t d, hid_t ft, uint64_t total, const char *full)
{
    h5_sum want = {0, 0, 0}, got = {0, 0, 0};
    if (H5Aexists(d, N4D__H5_SUM_ATTR) <= 0)
        return n4d__h5_fail(h, N4D_E_FORMAT, full, false,
                            "has no checksum (attribute \"" N4D__H5_SUM_ATTR "\"), which every "
                            "contiguous dataset of this file format carries");
    hid_t a = H5Aopen(d, N4D__H5_SUM_ATTR, H5P_DEFAULT);
    hid_t asp = a >= 0 ? H5Aget_space(a) : H5I_INVALID_HID;
    bool ok = asp >= 0 && H5Sget_simple_extent_npoints(asp) == 3 &&
              H5Aread(a, H5T_NATIVE_UINT64, &want) >= 0;
    n4d__h5_close(asp);
    n4d__h5_close(a);
    if (!ok)
        return n4d__h5_fail(h, N4D_E_FORMAT, full, true, "cannot read its checksum");
    if (want.n != total)
        return n4d__h5_fail(h, N4D_E_FORMAT, full, false,
                            "its checksum covers %llu of its %llu bytes (an interrupted or "
                            "damaged write)",
                            (unsigned long long)want.n, (unsigned long long)total);
    if (H5Tis_variable_str(ft) > 0)
        return n4d__h5_fail(h, N4D_E_FORMAT, full, false,
                            "is a variable-length string (not checksummed)");
    hid_t fs = H5Dget_space(d);
    const int nd = fs >= 0 ? H5Sget_simple_extent_ndims(fs) : -1;
    hsize_t dims[2] = {1, 1};
    if (nd < 0 || nd > 2 || (nd > 0 && H5Sget_simple_extent_dims(fs, dims, NULL) < 0)) {
        n4d__h5_close(fs);
        return n4d__h5_fail(h, N4D_E_FORMAT, full, true, "cannot read the shape");
    }
    const uint64_t rows = nd == 0 ? 1 : dims[0], row_bytes = total / (rows ? rows : 1);
    uint64_t block = ((uint64_t)1 << 20) / (row_bytes ? row_bytes : 1);
    if (block < 1)
        block = 1;
    if (nd == 0 || block > rows)
        block = rows;
    const size_t cap = (size_t)(block * row_bytes);
    void *buf = n4d__alloc(h->ctx, N4D_MEM_OTHER, cap ? cap : 1);
    n4d_status st = N4D_OK;
    if (!buf) {
        n4d__h5_close(fs);
        return n4d__h5_fail(h, N4D_E_NOMEM, full, false, "out of memory to verify the checksum");
    }
    for (uint64_t r = 0; r < rows && !st; r += block) {
        const uint64_t n = rows - r < block ? rows - r : block;
        herr_t e = -1;
        if (nd == 0) {
            e = H5Dread(d, ft, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
        } else {
            hsize_t start[2] = {r, 0}, cnt[2] = {n, nd == 2 ? dims[1] : 1};
            hid_t ms = H5Screate_simple(nd, cnt, NULL);
            if (ms >= 0 && H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, cnt, NULL) >= 0)
                e = H5Dread(d, ft, ms, fs, H5P_DEFAULT, buf);
            n4d__h5_close(ms);
        }
        if (e < 0)
            st = n4d__h5_fail(h, N4D_E_FORMAT, full, true, "cannot read rows %llu..%llu",
                              (unsigned long long)r, (unsigned long long)(r + n - 1));
        else
            sum_add(&got, buf, (size_t)(n * row_bytes));
    }
    n4d__free(h->ctx, N4D_MEM_OTHER, buf, cap ? cap : 1);
    n4d__h5_close(fs);
    if (!st && (got.a != want.a || got.b != want.b || got.n != want.n))
        st = n4d__h5_fail(h, N4D_E_FORMAT, full, false,
                          "checksum mismatch: its data are damaged");
    return st;
}

/* The open's checksum step: contiguous datasets of checksummed files. */
static n4d_status sum_check(n4d__h5 *h, hid_t d, hid_t ft, hid_t sp, const char *full)
{
    if (!h->sums_required || !is_contiguous(d))
        return N4D_OK;
    const hssize_t np = H5Sget_simple_extent_npoints(sp);
    const size_t size = H5Tget_size(ft);
    if (np < 0 || size == 0)
        return n4d__h5_fail(h, N4D_E_FORMAT, full, true, "cannot read the shape");
    const uint64_t total = (uint64_t)np * size;
    if (total == 0)
        return N4D_OK;
    return sum_verify(h, d, ft, total, full);
}

hid_t n4d__h5_open_dset(n4d__h5 *h, hid_t loc, const char *name, n4d__h5_type type, int rank,
                        uint64_t dims[2], n4d_status *st)
{
    char full[600];
    obj_name(loc, name, full, sizeof full);
    *st = N4D_OK;
    if (!n4d__h5_exists(loc, name)) {
        *st = n4d__h5_fail(h, N4D_E_FORMAT, full, false, "dataset is missing");
        return H5I_INVALID_HID;
    }
    H5O_info_t info;
#if H5_VERSION_GE(1, 12, 0)
    herr_t ir = H5Oget_info_by_name3(loc, name, &info, H5O_INFO_BASIC, H5P_DEFAULT);
#else
    herr_t ir = H5Oget_info_by_name2(loc, name, &info, H5O_INFO_BASIC, H5P_DEFAULT);
#endif
    if (ir < 0 || info.type != H5O_TYPE_DATASET) {
        *st = n4d__h5_fail(h, N4D_E_FORMAT, full, ir < 0, "is not a dataset");
        return H5I_INVALID_HID;
    }
    hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
    if (d < 0) {
        *st = n4d__h5_fail(h, N4D_E_FORMAT, full, true, "cannot open the dataset");
        return H5I_INVALID_HID;
    }
    hid_t ft = H5Dget_type(d), sp = H5Dget_space(d);
    if (ft < 0 || sp < 0) {
        *st = n4d__h5_fail(h, N4D_E_FORMAT, full, true, "cannot read the type or shape");
        goto fail;
    }
    if (!type_ok(ft, type)) {
        *st = n4d__h5_fail(h, N4D_E_FORMAT, full, false, "wrong element type (expected %s)",
                           type_desc(type));
        goto fail;
    }
    H5S_class_t sc = H5Sget_simple_extent_type(sp);
    int nd = H5Sget_simple_extent_ndims(sp);
    hsize_t cur[H5S_MAX_RANK];
    if (type == N4D__T_STRING) {
        hssize_t np = H5Sget_simple_extent_npoints(sp);
        if (!(sc == H5S_SCALAR || (sc == H5S_SIMPLE && np == 1))) {
            *st = n4d__h5_fail(h, N4D_E_FORMAT, full, false, "wrong shape (expected one string)");
            goto fail;
        }
        if (H5Tget_size(ft) > ((size_t)1 << 31)) {
            *st = n4d__h5_fail(h, N4D_E_FORMAT, full, false, "bad string size %zu", H5Tget_size(ft));
            goto fail;
        }
        if ((*st = sum_check(h, d, ft, sp, full)))
            goto fail;
        H5Tclose(ft);
        H5Sclose(sp);
        return d;
    }
    if (sc != H5S_SIMPLE || nd != rank || H5Sget_simple_extent_dims(sp, cur, NULL) < 0) {
        *st = n4d__h5_fail(h, N4D_E_FORMAT, full, false, "wrong shape (expected %d dimension%s, found %d)",
                           rank, rank == 1 ? "" : "s", sc == H5S_SIMPLE ? nd : 0);
        goto fail;
    }
    for (int i = 0; i < rank; i++) {
        if (dims[i] == UINT64_MAX) {
            dims[i] = cur[i];
        } else if (cur[i] != dims[i]) {
            *st = n4d__h5_fail(h, N4D_E_FORMAT, full, false,
                               "wrong shape: dimension %d has %llu entries (expected %llu)", i,
                               (unsigned long long)cur[i], (unsigned long long)dims[i]);
            goto fail;
        }
    }
    if ((*st = check_storage(h, d, ft, rank, cur, full)) || (*st = sum_check(h, d, ft, sp, full)))
        goto fail;
    H5Tclose(ft);
    H5Sclose(sp);
    return d;
fail:
    n4d__h5_close(ft);
    n4d__h5_close(sp);
    H5Dclose(d);
    return H5I_INVALID_HID;
}

n4d_status n4d__h5_read_rows(n4d__h5 *h, hid_t dset, const char *name, n4d__h5_type t,
                             uint64_t off, uint64_t count, void *buf)
{
    if (count == 0)
        return N4D_OK;
    char full[600];
    obj_name(dset, NULL, full, sizeof full);
    (void)name;
    hid_t fs = H5Dget_space(dset);
    int nd = fs >= 0 ? H5Sget_simple_extent_ndims(fs) : -1;
    hsize_t dims[2] = {0, 1};
    if (nd < 1 || nd > 2 || H5Sget_simple_extent_dims(fs, dims, NULL) < 0) {
        n4d__h5_close(fs);
        return n4d__h5_fail(h, N4D_E_FORMAT, full, true, "cannot read the shape");
    }
    hsize_t start[2] = {off, 0}, cnt[2] = {count, nd == 2 ? dims[1] : 1};
    if (off + count > dims[0]) {
        H5Sclose(fs);
        return n4d__h5_fail(h, N4D_E_FORMAT, full, false, "rows %llu..%llu are beyond its %llu rows",
                            (unsigned long long)off, (unsigned long long)(off + count - 1),
                            (unsigned long long)dims[0]);
    }
    hid_t ms = H5Screate_simple(nd, cnt, NULL);
    herr_t r = -1;
    if (ms >= 0 && H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, cnt, NULL) >= 0)
        r = H5Dread(dset, n4d__h5_mem_type(t), ms, fs, H5P_DEFAULT, buf);
    n4d__h5_close(ms);
    H5Sclose(fs);
    if (r < 0)
        return n4d__h5_fail(h, N4D_E_FORMAT, full, true,
                            "cannot read rows %llu..%llu (damaged or truncated data)",
                            (unsigned long long)off, (unsigned long long)(off + count - 1));
    return N4D_OK;
}

/* Reads one string of type ft from a dataset (is_attr false) or attribute. */
static n4d_status read_string(n4d__h5 *h, hid_t obj, bool is_attr, const char *full, char **out,
                              size_t *len)
{
    hid_t ft = is_attr ? H5Aget_type(obj) : H5Dget_type(obj);
    hid_t sp = is_attr ? H5Aget_space(obj) : H5Dget_space(obj);
    hid_t mt = H5I_INVALID_HID;
    n4d_status st = N4D_OK;
    *out = NULL;
    if (ft < 0 || sp < 0 || H5Tget_class(ft) != H5T_STRING ||
        H5Sget_simple_extent_npoints(sp) != 1) {
        st = n4d__h5_fail(h, N4D_E_FORMAT, full, false, "expected one string");
        goto done;
    }
    mt = H5Tcopy(H5T_C_S1);
    if (H5Tis_variable_str(ft) > 0) {
        char *p = NULL;
        if (mt < 0 || H5Tset_size(mt, H5T_VARIABLE) < 0 || H5Tset_cset(mt, H5Tget_cset(ft)) < 0 ||
            (is_attr ? H5Aread(obj, mt, &p) : H5Dread(obj, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, &p)) < 0) {
            st = n4d__h5_fail(h, N4D_E_FORMAT, full, true, "cannot read the string");
            goto done;
        }
        size_t n = p ? strlen(p) : 0;
        *out = n4d__alloc(h->ctx, N4D_MEM_OTHER, n + 1);
        if (*out) {
            if (n)
                memcpy(*out, p, n);
            (*out)[n] = '\0';
            *len = n;
        }
#if H5_VERSION_GE(1, 12, 0)
        H5Treclaim(mt, sp, H5P_DEFAULT, &p);
#else
        H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, &p);
#endif
        if (!*out)
            st = n4d__h5_fail(h, N4D_E_NOMEM, full, false, "out of memory for a %zu-byte string", n);
    } else {
        size_t size = H5Tget_size(ft);
        if (size == 0 || size > ((size_t)1 << 31)) {
            st = n4d__h5_fail(h, N4D_E_FORMAT, full, false, "bad string size %zu", size);
            goto done;
        }
        char *buf = n4d__alloc(h->ctx, N4D_MEM_OTHER, size + 1);
        if (!buf) {
            st = n4d__h5_fail(h, N4D_E_NOMEM, full, false, "out of memory for a %zu-byte string", size);
            goto done;
        }
        if (mt < 0 || H5Tset_size(mt, size + 1) < 0 || H5Tset_strpad(mt, H5T_STR_NULLTERM) < 0 ||
            H5Tset_cset(mt, H5Tget_cset(ft)) < 0 ||
            (is_attr ? H5Aread(obj, mt, buf) : H5Dread(obj, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf)) < 0) {
            n4d__free(h->ctx, N4D_MEM_OTHER, buf, size + 1);
            st = n4d__h5_fail(h, N4D_E_FORMAT, full, true, "cannot read the string");
            goto done;
        }
        buf[size] = '\0';
        size_t n = strlen(buf);
        /* keep the allocation size recoverable: shrink into an exact copy */
        char *exact = n4d__alloc(h->ctx, N4D_MEM_OTHER, n + 1);
        if (exact)
            memcpy(exact, buf, n + 1);
        n4d__free(h->ctx, N4D_MEM_OTHER, buf, size + 1);
        if (!exact) {
            st = n4d__h5_fail(h, N4D_E_NOMEM, full, false, "out of memory for a %zu-byte string", n);
            goto done;
        }
        *out = exact;
        *len = n;
    }
done:
    n4d__h5_close(mt);
    n4d__h5_close(ft);
    n4d__h5_close(sp);
    return st;
}

n4d_status n4d__h5_read_str_dset(n4d__h5 *h, hid_t loc, const char *name, char **out, size_t *len)
{
    n4d_status st;
    uint64_t dims[2] = {UINT64_MAX, UINT64_MAX};
    hid_t d = n4d__h5_open_dset(h, loc, name, N4D__T_STRING, 0, dims, &st);
    if (d < 0)
        return st;
    char full[600];
    obj_name(loc, name, full, sizeof full);
    st = read_string(h, d, false, full, out, len);
    H5Dclose(d);
    return st;
}

/* ---- attributes ------------------------------------------------------------------ */

static hid_t open_attr(n4d__h5 *h, hid_t loc, const char *obj, const char *name, char *full,
                       size_t cap, n4d_status *st)
{
    snprintf(full, cap, "%s attribute \"%s\"", obj, name);
    *st = N4D_OK;
    if (H5Aexists(loc, name) <= 0) {
        *st = n4d__h5_fail(h, N4D_E_FORMAT, full, false, "attribute is missing");
        return H5I_INVALID_HID;
    }
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    if (a < 0)
        *st = n4d__h5_fail(h, N4D_E_FORMAT, full, true, "cannot open the attribute");
    return a;
}

n4d_status n4d__h5_attr_read(n4d__h5 *h, hid_t loc, const char *obj, const char *name,
                             n4d__h5_type t, size_t n, void *out)
{
    char full[700];
    n4d_status st;
    hid_t a = open_attr(h, loc, obj, name, full, sizeof full, &st);
    if (a < 0)
        return st;
    hid_t ft = H5Aget_type(a), sp = H5Aget_space(a);
    if (ft < 0 || sp < 0 || !type_ok(ft, t)) {
        st = n4d__h5_fail(h, N4D_E_FORMAT, full, false, "wrong type (expected %s)", type_desc(t));
    } else if (H5Sget_simple_extent_npoints(sp) != (hssize_t)n) {
        st = n4d__h5_fail(h, N4D_E_FORMAT, full, false, "has %lld values (expected %zu)",
                          (long long)H5Sget_simple_extent_npoints(sp), n);
    } else if (H5Aread(a, n4d__h5_mem_type(t), out) < 0) {
        st = n4d__h5_fail(h, N4D_E_FORMAT, full, true, "cannot read the attribute");
    }
    n4d__h5_close(ft);
    n4d__h5_close(sp);
    H5Aclose(a);
    return st;
}

n4d_status n4d__h5_attr_read_str(n4d__h5 *h, hid_t loc, const char *obj, const char *name,
                                 char *out, size_t cap)
{
    char full[700];
    n4d_status st;
    hid_t a = open_attr(h, loc, obj, name, full, sizeof full, &st);
    if (a < 0)
        return st;
    char *s = NULL;
    size_t len = 0;
    st = read_string(h, a, true, full, &s, &len);
    H5Aclose(a);
    if (st)
        return st;
    snprintf(out, cap, "%s", s);
    bool fits = len < cap;
    n4d__free(h->ctx, N4D_MEM_OTHER, s, len + 1);
    if (!fits)
        return n4d__h5_fail(h, N4D_E_FORMAT, full, false, "string is longer than %zu bytes", cap - 1);
    return N4D_OK;
}

n4d_status n4d__h5_attr_write(n4d__h5 *h, hid_t loc, const char *obj, const char *name,
                              n4d__h5_type t, size_t n, const void *data)
{
    hsize_t dim = n;
    hid_t sp = n == 1 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &dim, NULL);
    hid_t a = sp >= 0 ? H5Acreate2(loc, name, file_type(t), sp, H5P_DEFAULT, H5P_DEFAULT)
                      : H5I_INVALID_HID;
    herr_t r = a >= 0 ? H5Awrite(a, n4d__h5_mem_type(t), data) : -1;
    n4d__h5_close(a);
    n4d__h5_close(sp);
    if (r < 0) {
        char full[700];
        snprintf(full, sizeof full, "%s attribute \"%s\"", obj, name);
        return n4d__h5_fail(h, N4D_E_IO, full, true, "cannot write the attribute");
    }
    return N4D_OK;
}

/* A UTF-8 string type: variable-length (size 0) or of `size` bytes,
 * NUL-padded (no terminator needed). */
static hid_t str_type(size_t size)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t >= 0 && (H5Tset_size(t, size ? size : H5T_VARIABLE) < 0 ||
                   H5Tset_cset(t, H5T_CSET_UTF8) < 0 ||
                   (size && H5Tset_strpad(t, H5T_STR_NULLPAD) < 0))) {
        H5Tclose(t);
        return H5I_INVALID_HID;
    }
    return t;
}

static n4d_status attr_write_string(n4d__h5 *h, hid_t loc, const char *obj, const char *name,
                                    const char *s, bool fixed)
{
    const size_t len = strlen(s);
    hid_t t = str_type(fixed ? (len ? len : 1) : 0), sp = H5Screate(H5S_SCALAR);
    hid_t a = (t >= 0 && sp >= 0) ? H5Acreate2(loc, name, t, sp, H5P_DEFAULT, H5P_DEFAULT)
                                  : H5I_INVALID_HID;
    herr_t r = a < 0 ? -1 : fixed ? H5Awrite(a, t, len ? s : "") : H5Awrite(a, t, &s);
    n4d__h5_close(a);
    n4d__h5_close(sp);
    n4d__h5_close(t);
    if (r < 0) {
        char full[700];
        snprintf(full, sizeof full, "%s attribute \"%s\"", obj, name);
        return n4d__h5_fail(h, N4D_E_IO, full, true, "cannot write the attribute");
    }
    return N4D_OK;
}

n4d_status n4d__h5_attr_write_str(n4d__h5 *h, hid_t loc, const char *obj, const char *name,
                                  const char *s)
{
    return attr_write_string(h, loc, obj, name, s, true);
}

n4d_status n4d__h5_attr_write_text(n4d__h5 *h, hid_t loc, const char *obj, const char *name,
                                   const char *s)
{
    return attr_write_string(h, loc, obj, name, s, false);
}

/* ---- creation ---------------------------------------------------------------------- */

static hid_t make_lcpl(void)
{
    hid_t p = H5Pcreate(H5P_LINK_CREATE);
    if (p >= 0)
        H5Pset_create_intermediate_group(p, 1);
    return p;
}

hid_t n4d__h5_create_dset(n4d__h5 *h, hid_t loc, const char *name, n4d__h5_type t, uint64_t rows,
                          uint64_t cols, const n4d__h5_layout *L, n4d_status *st)
{
    char full[600];
    obj_name(loc, name, full, sizeof full);
    int rank = cols ? 2 : 1;
    hsize_t dims[2] = {rows, cols}, maxd[2] = {rows, cols}, chunk[2] = {1, cols};
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE), lcpl = make_lcpl(), sp = H5I_INVALID_HID;
    hid_t d = H5I_INVALID_HID;
    *st = N4D_OK;
    bool chunked = !L->contiguous && (rows > 0 || L->extendible);
    if (L->extendible)
        maxd[0] = H5S_UNLIMITED;
    if (dcpl < 0 || lcpl < 0)
        goto fail;
    if (chunked) {
        size_t elem = H5Tget_size(file_type(t));
        uint64_t rowb = (uint64_t)elem * (cols ? cols : 1);
        uint64_t c = L->chunk ? L->chunk : 1;
        if (!L->extendible && c > rows)
            c = rows;
        if (c * rowb > ((uint64_t)64 << 20)) /* HDF5 chunks must stay below 4 GiB */
            c = (((uint64_t)64 << 20) / rowb) ? ((uint64_t)64 << 20) / rowb : 1;
        chunk[0] = c;
        if (H5Pset_chunk(dcpl, rank, chunk) < 0)
            goto fail;
        if (L->gzip > 0) {
            if (L->shuffle && H5Pset_shuffle(dcpl) < 0)
                goto fail;
            if (H5Pset_deflate(dcpl, (unsigned)L->gzip) < 0)
                goto fail;
        }
        /* last: the checksum covers the stored (compressed) bytes */
        if (H5Pset_fletcher32(dcpl) < 0)
            goto fail;
    }
    sp = H5Screate_simple(rank, dims, maxd);
    if (sp < 0)
        goto fail;
    d = H5Dcreate2(loc, name, file_type(t), sp, lcpl, dcpl, H5P_DEFAULT);
    if (d < 0)
        goto fail;
    H5Sclose(sp);
    H5Pclose(dcpl);
    H5Pclose(lcpl);
    return d;
fail:
    *st = n4d__h5_fail(h, N4D_E_IO, full, true, "cannot create the dataset");
    n4d__h5_close(sp);
    n4d__h5_close(dcpl);
    n4d__h5_close(lcpl);
    return H5I_INVALID_HID;
}

n4d_status n4d__h5_write_rows(n4d__h5 *h, hid_t dset, const char *name, n4d__h5_type t,
                              uint64_t off, uint64_t count, const void *buf)
{
    (void)name;
    if (count == 0)
        return N4D_OK;
    hid_t fs = H5Dget_space(dset);
    int nd = fs >= 0 ? H5Sget_simple_extent_ndims(fs) : -1;
    hsize_t dims[2] = {0, 1};
    herr_t r = -1;
    hid_t ms = H5I_INVALID_HID;
    uint64_t row_bytes = 0;
    if (nd >= 1 && nd <= 2 && H5Sget_simple_extent_dims(fs, dims, NULL) >= 0) {
        hsize_t start[2] = {off, 0}, cnt[2] = {count, nd == 2 ? dims[1] : 1};
        row_bytes = (uint64_t)H5Tget_size(n4d__h5_mem_type(t)) * cnt[1];
        ms = H5Screate_simple(nd, cnt, NULL);
        if (ms >= 0 && H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, cnt, NULL) >= 0)
            r = H5Dwrite(dset, n4d__h5_mem_type(t), ms, fs, H5P_DEFAULT, buf);
    }
    n4d__h5_close(ms);
    n4d__h5_close(fs);
    if (r < 0) {
        char full[600];
        obj_name(dset, NULL, full, sizeof full);
        return n4d__h5_fail(h, N4D_E_IO, full, true, "cannot write rows %llu..%llu",
                            (unsigned long long)off, (unsigned long long)(off + count - 1));
    }
    if (is_contiguous(dset))
        return sum_extend(h, dset, off * row_bytes, buf, count * row_bytes);
    return N4D_OK;
}

n4d_status n4d__h5_write_dset(n4d__h5 *h, hid_t loc, const char *name, n4d__h5_type t,
                              uint64_t rows, uint64_t cols, const n4d__h5_layout *L,
                              const void *buf)
{
    n4d_status st;
    hid_t d = n4d__h5_create_dset(h, loc, name, t, rows, cols, L, &st);
    if (d < 0)
        return st;
    st = n4d__h5_write_rows(h, d, name, t, 0, rows, buf);
    H5Dclose(d);
    return st;
}

n4d_status n4d__h5_write_str_dset(n4d__h5 *h, hid_t loc, const char *name, const char *s)
{
    const size_t len = strlen(s), size = len ? len : 1;
    const char *bytes = len ? s : "";
    hid_t t = str_type(size), sp = H5Screate(H5S_SCALAR), lcpl = make_lcpl();
    hid_t d = (t >= 0 && sp >= 0 && lcpl >= 0)
                  ? H5Dcreate2(loc, name, t, sp, lcpl, H5P_DEFAULT, H5P_DEFAULT)
                  : H5I_INVALID_HID;
    herr_t r = d >= 0 ? H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes) : -1;
    n4d_status st = N4D_OK;
    if (r < 0) {
        char full[600];
        obj_name(loc, name, full, sizeof full);
        st = n4d__h5_fail(h, N4D_E_IO, full, true, "cannot write the string");
    } else {
        st = sum_extend(h, d, 0, bytes, size);
    }
    n4d__h5_close(d);
    n4d__h5_close(sp);
    n4d__h5_close(t);
    n4d__h5_close(lcpl);
    return st;
}

hid_t n4d__h5_create_group(n4d__h5 *h, hid_t loc, const char *name, n4d_status *st)
{
    hid_t lcpl = make_lcpl();
    hid_t g = lcpl >= 0 ? H5Gcreate2(loc, name, lcpl, H5P_DEFAULT, H5P_DEFAULT) : H5I_INVALID_HID;
    n4d__h5_close(lcpl);
    *st = N4D_OK;
    if (g < 0) {
        char full[600];
        obj_name(loc, name, full, sizeof full);
        *st = n4d__h5_fail(h, N4D_E_IO, full, true, "cannot create the group");
    }
    return g;
}

hid_t n4d__h5_open_group(n4d__h5 *h, hid_t loc, const char *name, n4d_status *st)
{
    char full[600];
    obj_name(loc, name, full, sizeof full);
    *st = N4D_OK;
    if (!n4d__h5_exists(loc, name)) {
        *st = n4d__h5_fail(h, N4D_E_FORMAT, full, false, "group is missing");
        return H5I_INVALID_HID;
    }
    H5O_info_t info;
#if H5_VERSION_GE(1, 12, 0)
    herr_t ir = H5Oget_info_by_name3(loc, name, &info, H5O_INFO_BASIC, H5P_DEFAULT);
#else
    herr_t ir = H5Oget_info_by_name2(loc, name, &info, H5O_INFO_BASIC, H5P_DEFAULT);
#endif
    if (ir < 0 || info.type != H5O_TYPE_GROUP) {
        *st = n4d__h5_fail(h, N4D_E_FORMAT, full, ir < 0, "is not a group");
        return H5I_INVALID_HID;
    }
    hid_t g = H5Gopen2(loc, name, H5P_DEFAULT);
    if (g < 0)
        *st = n4d__h5_fail(h, N4D_E_FORMAT, full, true, "cannot open the group");
    return g;
}

/* ---- files -------------------------------------------------------------------------- */

n4d_status n4d__h5_out_create(n4d__h5 *h, n4d__h5_out *o, bool align)
{
    memset(o, 0, sizeof *o);
    o->file = H5I_INVALID_HID;
    o->tmp_len = strlen(h->path) + 64;
    o->tmp = n4d__alloc(h->ctx, N4D_MEM_OTHER, o->tmp_len);
    if (!o->tmp)
        return n4d__h5_fail(h, N4D_E_NOMEM, NULL, false, "out of memory");
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t r = ((uint64_t)ts.tv_nsec << 16) ^ (uint64_t)ts.tv_sec ^ (uint64_t)(uintptr_t)o;
    int fd = -1, err = 0;
    for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
        r = r * 6364136223846793005ull + 1442695040888963407ull;
        snprintf(o->tmp, o->tmp_len, "%s.tmp.%ld.%08x", h->path, (long)getpid(),
                 (unsigned)(r >> 32));
        fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL, 0666);
        err = errno;
        if (fd < 0 && err != EEXIST)
            break;
    }
    if (fd < 0) {
        n4d__free(h->ctx, N4D_MEM_OTHER, o->tmp, o->tmp_len);
        o->tmp = NULL;
        return n4d__h5_fail(h, N4D_E_IO, NULL, false,
                            "cannot create a temporary file in its folder: %s", strerror(err));
    }
    close(fd);
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl >= 0) {
        H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
        if (align)
            H5Pset_alignment(fapl, 4096, 4096);
        /* the 1.10 format (superblock v3, object header v2, checksummed
         * chunk indexes and heaps): HDF5 then detects damaged metadata
         * before it parses it. Readable by HDF5 1.10 and later. */
        if (H5Pset_libver_bounds(fapl, H5F_LIBVER_V110, H5F_LIBVER_V110) >= 0)
            o->file = H5Fcreate(o->tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
        H5Pclose(fapl);
    }
    if (o->file < 0) {
        n4d_status st = n4d__h5_fail(h, N4D_E_IO, NULL, true, "cannot create the HDF5 file");
        unlink(o->tmp);
        n4d__free(h->ctx, N4D_MEM_OTHER, o->tmp, o->tmp_len);
        o->tmp = NULL;
        return st;
    }
    return N4D_OK;
}

void n4d__h5_out_abort(n4d__h5 *h, n4d__h5_out *o)
{
    if (o->file >= 0)
        H5Fclose(o->file);
    o->file = H5I_INVALID_HID;
    if (o->tmp) {
        unlink(o->tmp);
        n4d__free(h->ctx, N4D_MEM_OTHER, o->tmp, o->tmp_len);
        o->tmp = NULL;
    }
}

n4d_status n4d__h5_out_commit(n4d__h5 *h, n4d__h5_out *o)
{
    herr_t r = H5Fclose(o->file);
    o->file = H5I_INVALID_HID;
    if (r < 0) {
        n4d_status st = n4d__h5_fail(h, N4D_E_IO, NULL, true, "cannot finish writing the file");
        n4d__h5_out_abort(h, o);
        return st;
    }
    int fd = open(o->tmp, O_RDONLY);
    if (fd < 0 || fsync(fd) != 0) {
        int err = errno;
        if (fd >= 0)
            close(fd);
        n4d__h5_out_abort(h, o);
        return n4d__h5_fail(h, N4D_E_IO, NULL, false, "cannot flush the file to disk: %s",
                            strerror(err));
    }
    close(fd);
    if (rename(o->tmp, h->path) != 0) {
        int err = errno;
        n4d__h5_out_abort(h, o);
        return n4d__h5_fail(h, N4D_E_IO, NULL, false, "cannot move the new file into place: %s",
                            strerror(err));
    }
    n4d__free(h->ctx, N4D_MEM_OTHER, o->tmp, o->tmp_len);
    o->tmp = NULL;
    /* make the rename itself durable */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", h->path);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    int dfd = open(dir, O_RDONLY);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return N4D_OK;
}

hid_t n4d__h5_open_read(n4d__h5 *h, n4d_status *st)
{
    struct stat sb;
    *st = N4D_OK;
    if (stat(h->path, &sb) != 0) {
        *st = n4d__h5_fail(h, N4D_E_IO, NULL, false, "cannot open: %s", strerror(errno));
        return H5I_INVALID_HID;
    }
    if (!S_ISREG(sb.st_mode)) {
        *st = n4d__h5_fail(h, N4D_E_IO, NULL, false, "not a regular file");
        return H5I_INVALID_HID;
    }
    int fd = open(h->path, O_RDONLY);
    if (fd < 0) {
        *st = n4d__h5_fail(h, N4D_E_IO, NULL, false, "cannot open: %s", strerror(errno));
        return H5I_INVALID_HID;
    }
    close(fd);
#if H5_VERSION_GE(1, 12, 0)
    htri_t is = H5Fis_accessible(h->path, H5P_DEFAULT);
#else
    htri_t is = H5Fis_hdf5(h->path);
#endif
    if (is <= 0) {
        *st = n4d__h5_fail(h, N4D_E_FORMAT, NULL, false, "not an HDF5 file (no HDF5 signature)");
        H5Eclear2(H5E_DEFAULT);
        return H5I_INVALID_HID;
    }
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    hid_t f = H5I_INVALID_HID;
    if (fapl >= 0) {
        H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
        /* one read per metadata object: HDF5 retries a failed checksum
         * (for SWMR readers, which a damaged superblock can claim to be
         * read for) with growing sleeps, which made a damaged file take
         * minutes to refuse */
        H5Pset_metadata_read_attempts(fapl, 1);
        f = H5Fopen(h->path, H5F_ACC_RDONLY, fapl);
        H5Pclose(fapl);
    }
    if (f < 0)
        *st = n4d__h5_fail(h, N4D_E_FORMAT, NULL, true,
                           "cannot open as HDF5 (the file is damaged or truncated)");
    return f;
}

n4d_status n4d__h5_write_header(n4d__h5 *h, hid_t file, hid_t n4d, const char *kind)
{
    const uint32_t magic = N4D__SONATA_MAGIC, version[2] = {0, 1}, fmt = N4D__STORE_FORMAT;
    n4d_status st;
    if ((st = n4d__h5_attr_write(h, file, "/", "magic", N4D__T_U32, 1, &magic)) ||
        (st = n4d__h5_attr_write(h, file, "/", "version", N4D__T_U32, 2, version)) ||
        (st = n4d__h5_attr_write(h, n4d, "/n4d", "format_version", N4D__T_U32, 1, &fmt)) ||
        (st = n4d__h5_attr_write_str(h, n4d, "/n4d", "kind", kind)) ||
        (st = n4d__h5_attr_write_str(h, n4d, "/n4d", "library_version", n4d_version_string())))
        return st;
    return N4D_OK;
}

n4d_status n4d__h5_check_header(n4d__h5 *h, hid_t file, hid_t n4d, const char *kind)
{
    uint32_t magic = 0, version[2] = {0, 0}, fmt = 0;
    char k[64];
    n4d_status st;
    if ((st = n4d__h5_attr_read(h, file, "/", "magic", N4D__T_U32, 1, &magic)))
        return st;
    if (magic != N4D__SONATA_MAGIC)
        return n4d__h5_fail(h, N4D_E_FORMAT, "/ attribute \"magic\"", false,
                            "is 0x%X (expected 0x%X): not a SONATA/n4d file", magic,
                            N4D__SONATA_MAGIC);
    if ((st = n4d__h5_attr_read(h, file, "/", "version", N4D__T_U32, 2, version)))
        return st;
    if (version[0] != 0 || version[1] < 1)
        return n4d__h5_fail(h, N4D_E_FORMAT, "/ attribute \"version\"", false,
                            "SONATA version %u.%u is not supported (expected 0.1 or a later 0.x)",
                            version[0], version[1]);
    if ((st = n4d__h5_attr_read(h, n4d, "/n4d", "format_version", N4D__T_U32, 1, &fmt)))
        return st;
    if (fmt < N4D__STORE_FORMAT_MIN || fmt > N4D__STORE_FORMAT)
        return n4d__h5_fail(h, N4D_E_FORMAT, "/n4d attribute \"format_version\"", false,
                            "format version %u is not supported (this library reads versions "
                            "%u to %u)",
                            fmt, N4D__STORE_FORMAT_MIN, N4D__STORE_FORMAT);
    h->sums_required = fmt >= 2;
    if ((st = n4d__h5_attr_read_str(h, n4d, "/n4d", "kind", k, sizeof k)))
        return st;
    if (kind && strcmp(k, kind) != 0 &&
        !(strcmp(kind, "model") == 0 && strcmp(k, "checkpoint") == 0))
        return n4d__h5_fail(h, N4D_E_FORMAT, "/n4d attribute \"kind\"", false,
                            "the file holds a %s (expected a %s)", k, kind);
    return N4D_OK;
}

void n4d__h5_escape(const char *name, char *out, size_t cap)
{
    size_t k = 0;
    if (strcmp(name, ".") == 0) {
        snprintf(out, cap, "%%2E");
        return;
    }
    for (const char *p = name; *p && k + 4 < cap; p++) {
        if (*p == '/' || *p == '%') {
            snprintf(out + k, cap - k, "%%%02X", (unsigned)(unsigned char)*p);
            k += 3;
        } else {
            out[k++] = *p;
        }
    }
    out[k] = '\0';
}

void n4d__h5_layout_from(const n4d_save_options *o, n4d__h5_layout *L)
{
    memset(L, 0, sizeof *L);
    L->chunk = o->chunk_size;
    L->gzip = o->compression == N4D_COMPRESSION_GZIP ? o->gzip_level : 0;
    L->shuffle = o->shuffle != 0;
}

n4d_status n4d__h5_save_options(n4d__h5 *h, const n4d_save_options *in, n4d_save_options *out)
{
    n4d_save_options_init(out);
    if (in) {
        if (in->struct_size < sizeof(uint32_t))
            return n4d__h5_fail(h, N4D_E_INVALID_ARG, NULL, false,
                                "save options: struct_size is not set");
        n4d__copy_in(out, sizeof *out, in, in->struct_size);
    }
    if (out->compression != N4D_COMPRESSION_NONE && out->compression != N4D_COMPRESSION_GZIP)
        return n4d__h5_fail(h, N4D_E_INVALID_ARG, NULL, false,
                            "save options: unknown compression %d", out->compression);
    if (out->compression == N4D_COMPRESSION_GZIP) {
        if (out->gzip_level < 1 || out->gzip_level > 9)
            return n4d__h5_fail(h, N4D_E_INVALID_ARG, NULL, false,
                                "save options: gzip level %d is not in 1..9", out->gzip_level);
        if (H5Zfilter_avail(H5Z_FILTER_DEFLATE) <= 0)
            return n4d__h5_fail(h, N4D_E_UNSUPPORTED, NULL, false,
                                "the HDF5 library has no gzip (deflate) filter");
    }
    if (out->chunk_size < 1 || out->chunk_size > ((uint64_t)1 << 26))
        return n4d__h5_fail(h, N4D_E_INVALID_ARG, NULL, false,
                            "save options: chunk size %llu is not in 1..2^26",
                            (unsigned long long)out->chunk_size);
    return N4D_OK;
}

/* ---- checkpoint state arrays by user id ---- */

n4d_status n4d__store_write_by_user(n4d__h5 *h, hid_t g, const char *name, n4d__h5_type t,
                                    const n4d_model *m, const void *arr, size_t elem,
                                    const n4d__h5_layout *L, void *scratch)
{
    const uint64_t N = m->n_neurons;
    if (!m->perm)
        return n4d__h5_write_dset(h, g, name, t, N, 0, L, arr);
    for (uint64_t u = 0; u < N; u++)
        memcpy((char *)scratch + u * elem, (const char *)arr + m->inv[u] * elem, elem);
    return n4d__h5_write_dset(h, g, name, t, N, 0, L, scratch);
}

n4d_status n4d__store_read_by_user(n4d__h5 *h, hid_t g, const char *name, n4d__h5_type t,
                                   const n4d_model *m, void *arr, size_t elem, void *scratch)
{
    const uint64_t N = m->n_neurons;
    n4d_status st;
    uint64_t dims[2] = {N, 0};
    hid_t d = n4d__h5_open_dset(h, g, name, t, 1, dims, &st);
    if (d < 0)
        return st;
    st = n4d__h5_read_rows(h, d, name, t, 0, N, m->perm ? scratch : arr);
    H5Dclose(d);
    if (!st && m->perm)
        for (uint64_t u = 0; u < N; u++)
            memcpy((char *)arr + m->inv[u] * elem, (const char *)scratch + u * elem, elem);
    return st;
}

#else
typedef int n4d__store_h5_unused;
#endif
