/* Damaged files (include/n4d/store.h): the suite generates 187
 * damaged model files, checkpoints and 4D Neural Cognition saves -
 * truncated files, foreign files, wrong magic or version, missing datasets
 * and attributes, wrong shapes and types, out-of-range indices, NaN values,
 * broken descriptions, damaged plastic and learning state (/n4d/state/plastic,
 * modulators, homeostasis, lifecycle),
 * corrupted compressed chunks - and checks that each load is rejected
 * with N4D_E_FORMAT or N4D_E_IO, returns no model, leaves no memory
 * allocated, and names the file and the dataset at fault. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "n4d.h"
#include "test_util.h"

#if N4D_TEST_HDF5 /* set by tests/store_h5py.cmake when the library has HDF5 */
#include <hdf5.h>

static char g_dir[1024];
static uint64_t g_n;      /* neurons of the base model */
static uint64_t g_e;      /* neurons of population E */

static const char *path_of(const char *name)
{
    static char buf[4][1400];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", g_dir, name);
    return buf[k];
}

/* ---- file helpers ------------------------------------------------------------------ */

static void copy_file(const char *from, const char *to)
{
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    assert_non_null(a);
    assert_non_null(b);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, a)) > 0)
        assert_int_equal(fwrite(buf, 1, n, b), n);
    fclose(a);
    fclose(b);
}

static long file_size(const char *p)
{
    struct stat sb;
    assert_int_equal(stat(p, &sb), 0);
    return (long)sb.st_size;
}

static void truncate_to(const char *p, long size)
{
    assert_int_equal(truncate(p, size), 0);
}

static void write_bytes(const char *p, long at, const void *data, size_t n)
{
    FILE *f = fopen(p, "r+b");
    assert_non_null(f);
    fseek(f, at, SEEK_SET);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

static char *read_text(const char *p, size_t *len)
{
    FILE *f = fopen(p, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return s;
}

static void write_text(const char *p, const char *s)
{
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    fputs(s, f);
    fclose(f);
}

/* Copy of s with the first occurrence of `from` replaced by `to`. */
static char *replace_first(const char *s, const char *from, const char *to)
{
    const char *at = strstr(s, from);
    assert_non_null(at);
    size_t a = (size_t)(at - s), lf = strlen(from), lt = strlen(to), n = strlen(s);
    char *r = malloc(n - lf + lt + 1);
    memcpy(r, s, a);
    memcpy(r + a, to, lt);
    memcpy(r + a + lt, at + lf, n - a - lf + 1);
    return r;
}

/* ---- HDF5 helpers ------------------------------------------------------------------ */

static void del(hid_t f, const char *path)
{
    assert_true(H5Ldelete(f, path, H5P_DEFAULT) >= 0);
}

/* Writes the checksum n4d keeps on a contiguous dataset (docs/storage.md:
 * Fletcher's sums over its bytes modulo 2^64, and their count), as a writer
 * of the format would: the mutations below rewrite values as a faulty or
 * hostile writer would, whose files carry valid checksums, so that the
 * loader's own checks are reached. */
static void reseal(hid_t f, const char *path)
{
    hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
    assert_true(d >= 0);
    hid_t dcpl = H5Dget_create_plist(d), ft = H5Dget_type(d), sp = H5Dget_space(d);
    if (H5Pget_layout(dcpl) == H5D_CONTIGUOUS && H5Tis_variable_str(ft) <= 0) {
        size_t total = (size_t)H5Sget_simple_extent_npoints(sp) * H5Tget_size(ft);
        unsigned char *buf = malloc(total + 1);
        if (total)
            assert_true(H5Dread(d, ft, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
        uint64_t sum[3] = {0, 0, total};
        for (size_t i = 0; i < total; i++) {
            sum[0] += buf[i];
            sum[1] += sum[0];
        }
        free(buf);
        if (H5Aexists(d, "n4d_checksum") > 0)
            assert_true(H5Adelete(d, "n4d_checksum") >= 0);
        hsize_t three = 3;
        hid_t asp = H5Screate_simple(1, &three, NULL);
        hid_t a = H5Acreate2(d, "n4d_checksum", H5T_STD_U64LE, asp, H5P_DEFAULT, H5P_DEFAULT);
        assert_true(a >= 0 && H5Awrite(a, H5T_NATIVE_UINT64, sum) >= 0);
        H5Aclose(a);
        H5Sclose(asp);
    }
    H5Pclose(dcpl);
    H5Tclose(ft);
    H5Sclose(sp);
    H5Dclose(d);
}

static void put_dset(hid_t f, const char *path, hid_t type, int rank, const hsize_t *dims,
                     const void *data)
{
    if (H5Lexists(f, path, H5P_DEFAULT) > 0)
        del(f, path);
    hid_t sp = H5Screate_simple(rank, dims, NULL);
    hid_t d = H5Dcreate2(f, path, type, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(d >= 0);
    if (data)
        assert_true(H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0);
    H5Dclose(d);
    H5Sclose(sp);
    reseal(f, path);
}

/* Reads a whole dataset as `type` (elem bytes each); dims receives its shape. */
static void *get_dset(hid_t f, const char *path, hid_t type, size_t elem, hsize_t dims[2],
                      int *rank)
{
    hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
    assert_true(d >= 0);
    hid_t sp = H5Dget_space(d);
    dims[0] = dims[1] = 1;
    *rank = H5Sget_simple_extent_ndims(sp);
    H5Sget_simple_extent_dims(sp, dims, NULL);
    size_t n = (size_t)(dims[0] * (*rank == 2 ? dims[1] : 1));
    void *buf = malloc((n + 1) * elem);
    if (n)
        assert_true(H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
    H5Sclose(sp);
    H5Dclose(d);
    return buf;
}

static void set_dset(hid_t f, const char *path, hid_t type, const void *buf)
{
    hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
    assert_true(d >= 0);
    assert_true(H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
    H5Dclose(d);
    reseal(f, path);
}

/* Sets element idx (negative: from the end) of a 1-D integer dataset. */
static void poke_u64(hid_t f, const char *path, long idx, uint64_t v)
{
    hsize_t dims[2];
    int rank;
    uint64_t *b = get_dset(f, path, H5T_NATIVE_UINT64, 8, dims, &rank);
    b[idx < 0 ? (long)dims[0] + idx : idx] = v;
    set_dset(f, path, H5T_NATIVE_UINT64, b);
    free(b);
}

static uint64_t peek_u64(hid_t f, const char *path, long idx)
{
    hsize_t dims[2];
    int rank;
    uint64_t *b = get_dset(f, path, H5T_NATIVE_UINT64, 8, dims, &rank);
    uint64_t v = b[idx < 0 ? (long)dims[0] + idx : idx];
    free(b);
    return v;
}

static void put_attr(hid_t f, const char *obj, const char *name, hid_t type, hsize_t n,
                     const void *data)
{
    if (H5Aexists_by_name(f, obj, name, H5P_DEFAULT) > 0)
        assert_true(H5Adelete_by_name(f, obj, name, H5P_DEFAULT) >= 0);
    hid_t sp = n == 1 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, NULL);
    hid_t a = H5Acreate_by_name(f, obj, name, type, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(a >= 0);
    assert_true(H5Awrite(a, type, data) >= 0);
    H5Aclose(a);
    H5Sclose(sp);
}

static void put_attr_str(hid_t f, const char *obj, const char *name, const char *s)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    put_attr(f, obj, name, t, 1, &s);
    H5Tclose(t);
}

static void del_attr(hid_t f, const char *obj, const char *name)
{
    assert_true(H5Adelete_by_name(f, obj, name, H5P_DEFAULT) >= 0);
}

/* A fixed-length string dataset (n4d writes its strings so). */
static char *get_str(hid_t f, const char *path)
{
    hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
    assert_true(d >= 0);
    hid_t ft = H5Dget_type(d);
    assert_true(H5Tis_variable_str(ft) == 0);
    size_t size = H5Tget_size(ft);
    hid_t t = H5Tcopy(ft);
    H5Tset_size(t, size + 1);
    H5Tset_strpad(t, H5T_STR_NULLTERM);
    char *s = calloc(1, size + 1);
    assert_true(H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, s) >= 0);
    H5Tclose(t);
    H5Tclose(ft);
    H5Dclose(d);
    return s;
}

static void put_str(hid_t f, const char *path, const char *s)
{
    if (H5Lexists(f, path, H5P_DEFAULT) > 0)
        del(f, path);
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, strlen(s));
    H5Tset_strpad(t, H5T_STR_NULLPAD);
    H5Tset_cset(t, H5T_CSET_UTF8);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t d = H5Dcreate2(f, path, t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(d >= 0);
    assert_true(H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, s) >= 0);
    H5Dclose(d);
    H5Sclose(sp);
    H5Tclose(t);
    reseal(f, path);
}

/* The same as a variable-length string, without a checksum. */
static void put_vlen_str(hid_t f, const char *path, const char *s)
{
    del(f, path);
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t d = H5Dcreate2(f, path, t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(d >= 0 && H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, &s) >= 0);
    H5Dclose(d);
    H5Sclose(sp);
    H5Tclose(t);
}

static void edit_str(hid_t f, const char *path, const char *from, const char *to)
{
    char *s = get_str(f, path), *r = replace_first(s, from, to);
    put_str(f, path, r);
    free(s);
    free(r);
}

/* ---- the damage ------------------------------------------------------------------------ */

#define SYN "/n4d/synapses/"
#define ST "/n4d/state/"

static void m_magic(hid_t f) { uint32_t v = 0x1234; put_attr(f, "/", "magic", H5T_NATIVE_UINT32, 1, &v); }
static void m_magic_missing(hid_t f) { del_attr(f, "/", "magic"); }
static void m_magic_float(hid_t f) { float v = 2682.0f; put_attr(f, "/", "magic", H5T_NATIVE_FLOAT, 1, &v); }
static void m_version(hid_t f) { uint32_t v[2] = {1, 0}; put_attr(f, "/", "version", H5T_NATIVE_UINT32, 2, v); }
static void m_version_missing(hid_t f) { del_attr(f, "/", "version"); }
static void m_format(hid_t f) { uint32_t v = 3; put_attr(f, "/n4d", "format_version", H5T_NATIVE_UINT32, 1, &v); }
static void m_format_missing(hid_t f) { del_attr(f, "/n4d", "format_version"); }
static void m_kind(hid_t f) { put_attr_str(f, "/n4d", "kind", "spikes"); }
static void m_no_n4d(hid_t f) { del(f, "/n4d"); }
static void m_lattice3(hid_t f) { uint32_t v[3] = {12, 10, 3}; put_attr(f, "/n4d", "lattice", H5T_NATIVE_UINT32, 3, v); }
static void m_lattice0(hid_t f) { uint32_t v[4] = {0, 10, 3, 2}; put_attr(f, "/n4d", "lattice", H5T_NATIVE_UINT32, 4, v); }
static void m_dt_nan(hid_t f) { double v = NAN; put_attr(f, "/n4d", "dt", H5T_NATIVE_DOUBLE, 1, &v); }
static void m_dt_neg(hid_t f) { double v = -0.1; put_attr(f, "/n4d", "dt", H5T_NATIVE_DOUBLE, 1, &v); }
static void m_n_plus(hid_t f) { uint64_t v = g_n + 1; put_attr(f, "/n4d", "n_neurons", H5T_NATIVE_UINT64, 1, &v); }
static void m_n_huge(hid_t f) { uint64_t v = (uint64_t)1 << 40; put_attr(f, "/n4d", "n_neurons", H5T_NATIVE_UINT64, 1, &v); }
static void m_layout_missing(hid_t f) { del_attr(f, "/n4d", "layout"); }
static void m_layout_order(hid_t f) { int32_t v[3] = {7, 0, 0}; put_attr(f, "/n4d", "layout", H5T_NATIVE_INT32, 3, v); }
static void m_duration(hid_t f) { double v = NAN; put_attr(f, "/n4d", "default_duration", H5T_NATIVE_DOUBLE, 1, &v); }
static void m_seed_missing(hid_t f) { del_attr(f, "/n4d", "seed"); }
static void m_desc_missing(hid_t f) { del(f, "/n4d/description"); }
static void m_desc_vlen(hid_t f)
{
    char *s = get_str(f, "/n4d/description");
    put_vlen_str(f, "/n4d/description", s);
    free(s);
}
static void m_sum_missing(hid_t f) { del_attr(f, "/n4d/synapses/target", "n4d_checksum"); }
static void m_sum_short(hid_t f)
{
    hid_t d = H5Dopen2(f, "/n4d/synapses/weight_q", H5P_DEFAULT);
    hid_t a = H5Aopen(d, "n4d_checksum", H5P_DEFAULT);
    uint64_t sum[3];
    assert_true(H5Aread(a, H5T_NATIVE_UINT64, sum) >= 0);
    sum[2] -= 4;
    assert_true(H5Awrite(a, H5T_NATIVE_UINT64, sum) >= 0);
    H5Aclose(a);
    H5Dclose(d);
}
static void m_desc_json(hid_t f) { put_str(f, "/n4d/description", "{\"format\": \"n4d-model-description\", "); }
static void m_desc_array(hid_t f) { put_str(f, "/n4d/description", "[1, 2, 3]"); }
static void m_desc_nopops(hid_t f) { edit_str(f, "/n4d/description", "\"populations\"", "\"populationz\""); }
static void m_desc_area(hid_t f) { edit_str(f, "/n4d/description", "\"area\":\"cortex\"", "\"area\":\"nowhere\""); }
static void m_desc_tau(hid_t f) { edit_str(f, "/n4d/description", "\"tau_m\":20.0", "\"tau_m\":\"nan\""); }
static void m_desc_tau_str(hid_t f) { edit_str(f, "/n4d/description", "\"tau_m\":20.0", "\"tau_m\":\"fast\""); }
static void m_desc_first(hid_t f) { edit_str(f, "/n4d/description", "\"first\":0", "\"first\":3"); }
static void m_desc_count(hid_t f)
{
    char from[64], to[64];
    snprintf(from, sizeof from, "\"n\":%llu", (unsigned long long)g_e);
    snprintf(to, sizeof to, "\"n\":%llu", (unsigned long long)g_e + 1);
    edit_str(f, "/n4d/description", from, to);
}
static void m_desc_proj(hid_t f) { edit_str(f, "/n4d/description", "\"source\":\"E\"", "\"source\":\"Q\""); }
static void m_desc_input(hid_t f) { edit_str(f, "/n4d/description", "\"target\":\"I\",\"amplitude\"", "\"target\":\"X\",\"amplitude\""); }
static void m_desc_format(hid_t f) { edit_str(f, "/n4d/description", "n4d-model-description", "other"); }
static void m_desc_lo(hid_t f) { edit_str(f, "/n4d/description", "\"hi\":[11,9,2,0]", "\"hi\":[99,9,2,0]"); }
static void m_desc_int(hid_t f)
{
    hsize_t d = 1;
    int32_t v = 5;
    put_dset(f, "/n4d/description", H5T_NATIVE_INT32, 1, &d, &v);
}
static void m_missing_seg_ptr(hid_t f) { del(f, SYN "seg_ptr"); }
static void m_missing_seg_off(hid_t f) { del(f, SYN "seg_off"); }
static void m_missing_seg_key(hid_t f) { del(f, SYN "seg_key"); }
static void m_missing_target(hid_t f) { del(f, SYN "target"); }
static void m_missing_weight(hid_t f) { del(f, SYN "weight_q"); }
static void m_missing_syn(hid_t f) { del(f, "/n4d/synapses"); }
static void m_short_seg_ptr(hid_t f)
{
    hsize_t dims[2];
    int rank;
    uint64_t *b = get_dset(f, SYN "seg_ptr", H5T_NATIVE_UINT64, 8, dims, &rank);
    dims[0]--;
    put_dset(f, SYN "seg_ptr", H5T_NATIVE_UINT64, 1, dims, b);
    free(b);
}
static void m_target_2d(hid_t f)
{
    hsize_t dims[2];
    int rank;
    uint32_t *b = get_dset(f, SYN "target", H5T_NATIVE_UINT32, 4, dims, &rank);
    hsize_t d2[2] = {dims[0] / 2, 2};
    put_dset(f, SYN "target", H5T_NATIVE_UINT32, 2, d2, b);
    free(b);
}
static void m_short_weight(hid_t f)
{
    hsize_t dims[2];
    int rank;
    int32_t *b = get_dset(f, SYN "weight_q", H5T_NATIVE_INT32, 4, dims, &rank);
    dims[0] -= 3;
    put_dset(f, SYN "weight_q", H5T_NATIVE_INT32, 1, dims, b);
    free(b);
}
static void m_target_float(hid_t f)
{
    hsize_t dims[2];
    int rank;
    float *b = get_dset(f, SYN "target", H5T_NATIVE_FLOAT, 4, dims, &rank);
    put_dset(f, SYN "target", H5T_NATIVE_FLOAT, 1, dims, b);
    free(b);
}
static void m_weight_i64(hid_t f)
{
    hsize_t dims[2];
    int rank;
    int64_t *b = get_dset(f, SYN "weight_q", H5T_NATIVE_INT64, 8, dims, &rank);
    put_dset(f, SYN "weight_q", H5T_NATIVE_INT64, 1, dims, b);
    free(b);
}
static void m_seg_ptr_i32(hid_t f)
{
    hsize_t dims[2];
    int rank;
    int32_t *b = get_dset(f, SYN "seg_ptr", H5T_NATIVE_INT32, 4, dims, &rank);
    put_dset(f, SYN "seg_ptr", H5T_NATIVE_INT32, 1, dims, b);
    free(b);
}
static void target_set(hid_t f, long idx, uint32_t v)
{
    hsize_t dims[2];
    int rank;
    uint32_t *b = get_dset(f, SYN "target", H5T_NATIVE_UINT32, 4, dims, &rank);
    b[idx < 0 ? (long)dims[0] + idx : idx] = v;
    set_dset(f, SYN "target", H5T_NATIVE_UINT32, b);
    free(b);
}
static void m_target_n(hid_t f) { target_set(f, 5, (uint32_t)g_n); }
static void m_target_max(hid_t f) { target_set(f, -1, 0xFFFFFFFFu); }
static void m_target_mid(hid_t f)
{
    hid_t d = H5Dopen2(f, SYN "target", H5P_DEFAULT), sp = H5Dget_space(d);
    hsize_t n = 0;
    H5Sget_simple_extent_dims(sp, &n, NULL);
    H5Sclose(sp);
    H5Dclose(d);
    target_set(f, (long)(n / 2), (uint32_t)g_n + 7);
}
static void m_target_order(hid_t f)
{
    /* the first segment with two synapses: swap them so the order breaks */
    hsize_t dims[2];
    int rank;
    uint64_t *off = get_dset(f, SYN "seg_off", H5T_NATIVE_UINT64, 8, dims, &rank);
    uint32_t *t = get_dset(f, SYN "target", H5T_NATIVE_UINT32, 4, dims, &rank);
    for (uint64_t g = 0;; g++)
        if (off[g + 1] - off[g] >= 2 && t[off[g]] != t[off[g] + 1]) {
            uint32_t x = t[off[g]];
            t[off[g]] = t[off[g] + 1];
            t[off[g] + 1] = x;
            break;
        }
    set_dset(f, SYN "target", H5T_NATIVE_UINT32, t);
    free(off);
    free(t);
}
static void m_seg_ptr_order(hid_t f) { poke_u64(f, SYN "seg_ptr", 5, peek_u64(f, SYN "seg_ptr", 7) + 1); }
static void m_seg_ptr_last(hid_t f) { poke_u64(f, SYN "seg_ptr", -1, peek_u64(f, SYN "seg_ptr", -1) - 1); }
static void m_seg_off_last(hid_t f) { poke_u64(f, SYN "seg_off", -1, peek_u64(f, SYN "seg_off", -1) + 5); }
static void m_seg_off_mid(hid_t f)
{
    hsize_t dims[2];
    int rank;
    uint64_t *b = get_dset(f, SYN "seg_off", H5T_NATIVE_UINT64, 8, dims, &rank);
    b[dims[0] / 2] = b[dims[0] / 2 + 1] + 1;
    set_dset(f, SYN "seg_off", H5T_NATIVE_UINT64, b);
    free(b);
}
static void key_set(hid_t f, long idx, uint32_t v)
{
    hsize_t dims[2];
    int rank;
    uint32_t *b = get_dset(f, SYN "seg_key", H5T_NATIVE_UINT32, 4, dims, &rank);
    b[idx] = v;
    set_dset(f, SYN "seg_key", H5T_NATIVE_UINT32, b);
    free(b);
}
static void m_key_delay0(hid_t f) { key_set(f, 3, 1); /* delay 0, channel 1 */ }
/* A class the description lacks, on the last segment of a row (keys stay ordered). */
static void m_key_bit17(hid_t f)
{
    hsize_t dims[2];
    int rank;
    uint64_t *ptr = get_dset(f, SYN "seg_ptr", H5T_NATIVE_UINT64, 8, dims, &rank);
    uint32_t *k = get_dset(f, SYN "seg_key", H5T_NATIVE_UINT32, 4, dims, &rank);
    for (uint64_t i = 0;; i++)
        if (ptr[i + 1] > ptr[i]) {
            k[ptr[i + 1] - 1] |= 1u << 17;
            break;
        }
    set_dset(f, SYN "seg_key", H5T_NATIVE_UINT32, k);
    free(ptr);
    free(k);
}
static void m_key_bit31(hid_t f) { key_set(f, 3, (1u << 31) | 2u); }
static void m_desc_class(hid_t f)
{
    edit_str(f, "/n4d/description", "\"synapse_classes\":[]",
             "\"synapse_classes\":[{\"name\":\"x\",\"model\":\"static\",\"params\":{},"
             "\"source\":0,\"target\":0}]");
}
static void m_desc_class_pops(hid_t f)
{
    edit_str(f, "/n4d/description", "\"synapse_classes\":[]",
             "\"synapse_classes\":[{\"name\":\"x\",\"model\":\"stdp\",\"params\":{},"
             "\"source\":7,\"target\":0}]");
}
static void m_key_order(hid_t f)
{
    hsize_t dims[2];
    int rank;
    uint64_t *ptr = get_dset(f, SYN "seg_ptr", H5T_NATIVE_UINT64, 8, dims, &rank);
    uint32_t *k = get_dset(f, SYN "seg_key", H5T_NATIVE_UINT32, 4, dims, &rank);
    for (uint64_t i = 0;; i++)
        if (ptr[i + 1] - ptr[i] >= 2) {
            uint32_t x = k[ptr[i]];
            k[ptr[i]] = k[ptr[i] + 1];
            k[ptr[i] + 1] = x;
            break;
        }
    set_dset(f, SYN "seg_key", H5T_NATIVE_UINT32, k);
    free(ptr);
    free(k);
}
static void m_weight_sign(hid_t f)
{
    hsize_t dims[2];
    int rank;
    uint64_t *off = get_dset(f, SYN "seg_off", H5T_NATIVE_UINT64, 8, dims, &rank);
    uint32_t *k = get_dset(f, SYN "seg_key", H5T_NATIVE_UINT32, 4, dims, &rank);
    int32_t *w = get_dset(f, SYN "weight_q", H5T_NATIVE_INT32, 4, dims, &rank);
    for (uint64_t g = 0;; g++)
        if ((k[g] & 1u) == 0 && w[off[g]] > 0) {
            w[off[g]] = -w[off[g]];
            break;
        }
    set_dset(f, SYN "weight_q", H5T_NATIVE_INT32, w);
    free(off);
    free(k);
    free(w);
}
static void m_scale_nan(hid_t f) { double v = NAN; put_attr(f, "/n4d/synapses", "scale", H5T_NATIVE_DOUBLE, 1, &v); }
static void m_scale_3(hid_t f) { double v = 3.0; put_attr(f, "/n4d/synapses", "scale", H5T_NATIVE_DOUBLE, 1, &v); }
static void m_scale_missing(hid_t f) { del_attr(f, "/n4d/synapses", "scale"); }
static void m_nsyn_more(hid_t f)
{
    uint64_t v;
    hid_t a = H5Aopen_by_name(f, "/n4d/synapses", "n_syn", H5P_DEFAULT, H5P_DEFAULT);
    H5Aread(a, H5T_NATIVE_UINT64, &v);
    H5Aclose(a);
    v += 10;
    put_attr(f, "/n4d/synapses", "n_syn", H5T_NATIVE_UINT64, 1, &v);
}
static void m_nseg_more(hid_t f) { uint64_t v = (uint64_t)1 << 41; put_attr(f, "/n4d/synapses", "n_seg", H5T_NATIVE_UINT64, 1, &v); }
static void m_x_missing(hid_t f) { del(f, "/nodes/E/0/x"); }
static void m_x_long(hid_t f)
{
    hsize_t dims[2];
    int rank;
    int32_t *b = get_dset(f, "/nodes/E/0/x", H5T_NATIVE_INT32, 4, dims, &rank);
    b = realloc(b, (dims[0] + 1) * 4);
    b[dims[0]] = 0;
    dims[0]++;
    put_dset(f, "/nodes/E/0/x", H5T_NATIVE_INT32, 1, dims, b);
    free(b);
}
static void m_x_range(hid_t f)
{
    hsize_t dims[2];
    int rank;
    int32_t *b = get_dset(f, "/nodes/E/0/x", H5T_NATIVE_INT32, 4, dims, &rank);
    b[2] = 12;
    set_dset(f, "/nodes/E/0/x", H5T_NATIVE_INT32, b);
    free(b);
}
static void m_y_float(hid_t f)
{
    hsize_t dims[2];
    int rank;
    float *b = get_dset(f, "/nodes/E/0/y", H5T_NATIVE_FLOAT, 4, dims, &rank);
    put_dset(f, "/nodes/E/0/y", H5T_NATIVE_FLOAT, 1, dims, b);
    free(b);
}
static void m_no_nodes(hid_t f) { del(f, "/nodes"); }
/* the n4d arrays are complete: a damaged SONATA part is not read */
/* checkpoint state */
static void m_no_state(hid_t f) { del(f, "/n4d/state"); }
static void m_state_v(hid_t f) { del(f, ST "v"); }
static void m_state_ring(hid_t f)
{
    hsize_t dims[2] = {3, 1};
    int64_t v[3] = {0, 0, 0};
    put_dset(f, ST "ring", H5T_NATIVE_INT64, 2, dims, v);
}
static void m_state_slots(hid_t f) { uint32_t v = 99; put_attr(f, "/n4d/state", "ring_slots", H5T_NATIVE_UINT32, 1, &v); }
static void m_state_rec_ids(hid_t f)
{
    hsize_t dims[2];
    int rank;
    uint32_t *b = get_dset(f, ST "rec_ids", H5T_NATIVE_UINT32, 4, dims, &rank);
    b[0] = (uint32_t)g_n + 3;
    set_dset(f, ST "rec_ids", H5T_NATIVE_UINT32, b);
    free(b);
}
static void m_state_last_ids(hid_t f)
{
    hsize_t d = g_n + 1;
    uint32_t *b = calloc(d, 4);
    put_dset(f, ST "last_ids", H5T_NATIVE_UINT32, 1, &d, b);
    free(b);
}
static void m_state_backend(hid_t f) { put_attr_str(f, "/n4d/state", "backend", "abacus"); }
static void m_state_step(hid_t f) { del_attr(f, "/n4d/state", "step"); }
static void m_state_ref(hid_t f)
{
    hsize_t dims[2];
    int rank;
    int32_t *b = get_dset(f, ST "refractory", H5T_NATIVE_INT32, 4, dims, &rank);
    b[1] = -4;
    set_dset(f, ST "refractory", H5T_NATIVE_INT32, b);
    free(b);
}
static void m_state_rec_steps(hid_t f) { poke_u64(f, ST "rec_steps", -1, 1000000); }
static void m_state_dt(hid_t f) { double v = 0.25; put_attr(f, "/n4d/state", "dt", H5T_NATIVE_DOUBLE, 1, &v); }
static void m_state_v_shape(hid_t f)
{
    hsize_t d = 5;
    float v[5] = {0};
    put_dset(f, ST "v", H5T_NATIVE_FLOAT, 1, &d, v);
}
/* 4D Neural Cognition HDF5 */
static void m4_meta_missing(hid_t f) { del(f, "/meta_json"); }
static void m4_meta_json(hid_t f) { put_str(f, "/meta_json", "{\"config\": "); }
static void m4_meta_noconfig(hid_t f) { put_str(f, "/meta_json", "{\"neurons\": []}"); }
static void m4_neurons_9(hid_t f)
{
    hsize_t dims[2];
    int rank;
    float *b = get_dset(f, "/neurons", H5T_NATIVE_FLOAT, 4, dims, &rank);
    dims[1] = 9;
    put_dset(f, "/neurons", H5T_NATIVE_FLOAT, 2, dims, b);
    free(b);
}
static void edit_f32(hid_t f, const char *path, size_t row, size_t col, float v)
{
    hsize_t dims[2];
    int rank;
    float *b = get_dset(f, path, H5T_NATIVE_FLOAT, 4, dims, &rank);
    b[row * dims[1] + col] = v;
    set_dset(f, path, H5T_NATIVE_FLOAT, b);
    free(b);
}
static void m4_nan_weight(hid_t f) { edit_f32(f, "/synapses", 100, 2, NAN); }
static void m4_inf_weight(hid_t f) { edit_f32(f, "/synapses", 3, 2, INFINITY); }
static void m4_bad_pre(hid_t f) { edit_f32(f, "/synapses", 7, 0, 999.0f); }
static void m4_frac_post(hid_t f) { edit_f32(f, "/synapses", 7, 1, 3.5f); }
static void m4_delay0(hid_t f) { edit_f32(f, "/synapses", 9, 3, 0.0f); }
static void m4_outside(hid_t f) { edit_f32(f, "/neurons", 4, 3, 7.0f); }
static void m4_dup_id(hid_t f) { edit_f32(f, "/neurons", 4, 0, 3.0f); }
static void m4_v_nan(hid_t f) { edit_f32(f, "/neurons", 4, 9, NAN); }
static void m4_syn_missing(hid_t f) { del(f, "/synapses"); }
static void m4_syn_str(hid_t f) { put_str(f, "/synapses", "pre, post, weight"); }

/* plastic checkpoints (/n4d/state/plastic; base: stdp "ee", tsodyks "ie") */
#define PK "/n4d/state/plastic/"
#define PK_EE PK "classes/1-ee/"
#define PK_IE PK "classes/2-ie/"
static const char *g_pk_other; /* the plastic checkpoint of another model */
static void copy_plastic_from(hid_t f, const char *from)
{
    if (H5Lexists(f, "/n4d/state/plastic", H5P_DEFAULT) > 0)
        del(f, "/n4d/state/plastic");
    hid_t src = H5Fopen(from, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(src >= 0);
    assert_true(H5Ocopy(src, "/n4d/state/plastic", f, "/n4d/state/plastic", H5P_DEFAULT,
                        H5P_DEFAULT) >= 0);
    H5Fclose(src);
}
static void m_pk_missing(hid_t f) { del(f, "/n4d/state/plastic"); }
static void m_pk_other_model(hid_t f) { copy_plastic_from(f, g_pk_other); }
static void m_pk_class_missing(hid_t f) { del(f, PK "classes/2-ie"); }
static void m_pk_n_classes(hid_t f) { uint32_t v = 3; put_attr(f, PK, "n_classes", H5T_NATIVE_UINT32, 1, &v); }
static void m_pk_rule(hid_t f) { put_attr_str(f, PK "classes/1-ee", "synapse_model", "hebb_4dnc"); }
static void m_pk_weight_missing(hid_t f) { del(f, PK_EE "weight"); }
static void m_pk_weight_short(hid_t f)
{
    hsize_t d = 7;
    float w[7] = {0};
    put_dset(f, PK_EE "weight", H5T_NATIVE_FLOAT, 1, &d, w);
}
static void m_pk_weight_nan(hid_t f) { edit_f32(f, PK_EE "weight", 5, 0, NAN); }
static void m_pk_weight_above(hid_t f) { edit_f32(f, PK_EE "weight", 5, 0, 2.5f); } /* Wmax 2 */
static void m_pk_weight_neg(hid_t f) { edit_f32(f, PK_EE "weight", 7, 0, -0.25f); }
static void m_pk_hist_order(hid_t f)
{
    /* the first neuron with two spikes in its history: swap them */
    hsize_t dims[2];
    int rank;
    uint32_t *len = get_dset(f, PK "history_len", H5T_NATIVE_UINT32, 4, dims, &rank);
    int64_t *st = get_dset(f, PK "history_step", H5T_NATIVE_INT64, 8, (hsize_t[2]){0, 0}, &rank);
    uint64_t at = 0, u = 0;
    while (u < dims[0] && len[u] < 2)
        at += len[u++];
    assert_true(u < dims[0]);
    int64_t t = st[at];
    st[at] = st[at + 1];
    st[at + 1] = t;
    set_dset(f, PK "history_step", H5T_NATIVE_INT64, st);
    free(len);
    free(st);
}
static void m_pk_hist_len(hid_t f) { poke_u64(f, PK "history_len", 3, peek_u64(f, PK "history_len", 3) + 1); }
static void m_pk_hist_future(hid_t f) { poke_u64(f, PK "history_step", -1, 1000000); }
static void m_pk_kplus(hid_t f) { edit_f32(f, PK "history_kplus", 0, 0, 0.25f); }
static void m_pk_tso_u(hid_t f)
{
    hsize_t dims[2];
    int rank;
    double *b = get_dset(f, PK_IE "u", H5T_NATIVE_DOUBLE, 8, dims, &rank);
    b[2] = NAN;
    set_dset(f, PK_IE "u", H5T_NATIVE_DOUBLE, b);
    free(b);
}
static void m_pk_tso_x_missing(hid_t f) { del(f, PK_IE "x"); }
static void m_pk_recent(hid_t f)
{
    hsize_t dims[2];
    int rank;
    int64_t *b = get_dset(f, PK "recent_steps", H5T_NATIVE_INT64, 8, dims, &rank);
    uint64_t u = 0;
    while (u < dims[0] && b[u * 3] < 0)
        u++;
    assert_true(u < dims[0]);
    b[u * 3] -= 1; /* not the newest spike of its history */
    set_dset(f, PK "recent_steps", H5T_NATIVE_INT64, b);
    free(b);
}
static void m_pk_recent_missing(hid_t f) { del(f, PK "recent_steps"); }
static void m_pk_flushed(hid_t f) { poke_u64(f, PK "flushed", 1, 1000000); }
static void m_pk_in_static(hid_t f) { (void)f; }


/* learning checkpoints (base: stdp_dopamine "ee" with dopamine driven by
 * D, homeostasis on E, a lifecycle with reproduction on L) */
#define MD "/n4d/state/modulators/"
#define HO "/n4d/state/homeostasis/"
#define LF "/n4d/state/lifecycle/"
#define DA "/n4d/state/plastic/dopamine/"
static void m_md_missing(hid_t f) { del(f, "/n4d/state/modulators"); }
static void m_md_n(hid_t f) { uint32_t v = 2; put_attr(f, MD, "n_modulators", H5T_NATIVE_UINT32, 1, &v); }
static void m_md_level(hid_t f) { double v = 1.5; put_attr(f, MD "1-dopamine", "level", H5T_NATIVE_DOUBLE, 1, &v); }
static void m_md_level_missing(hid_t f) { del_attr(f, MD "1-dopamine", "level"); }
static void m_md_group_missing(hid_t f) { del(f, MD "1-dopamine"); }
static void m_md_arr_short(hid_t f)
{
    hsize_t d = 3;
    uint32_t a[3] = {0};
    put_dset(f, MD "1-dopamine/arrivals", H5T_NATIVE_UINT32, 1, &d, a);
}
static void m_md_arr_big(hid_t f) { poke_u64(f, MD "1-dopamine/arrivals", 0, 1000); }
static void m_da_missing(hid_t f) { del(f, "/n4d/state/plastic/dopamine"); }
static void m_da_next(hid_t f) { int64_t v = 5; put_attr(f, DA, "next_update", H5T_NATIVE_INT64, 1, &v); }
static void m_da_future(hid_t f) { poke_u64(f, DA "event_step", -1, 1000000); }
static void m_da_value_missing(hid_t f) { del(f, DA "event_value"); }
static void m_da_last_update(hid_t f) { poke_u64(f, DA "last_update", 0, 7); }
static void m_da_elig_nan(hid_t f)
{
    hsize_t dims[2];
    int rank;
    double *b = get_dset(f, PK "classes/1-ee/eligibility", H5T_NATIVE_DOUBLE, 8, dims, &rank);
    b[dims[0] / 2] = NAN;
    set_dset(f, PK "classes/1-ee/eligibility", H5T_NATIVE_DOUBLE, b);
    free(b);
}
static void m_da_n_long(hid_t f)
{
    hsize_t dims[2];
    int rank;
    double *b = get_dset(f, PK "classes/1-ee/dopamine_n", H5T_NATIVE_DOUBLE, 8, dims, &rank);
    free(b);
    dims[0]++;
    double *z = calloc(dims[0], 8);
    put_dset(f, PK "classes/1-ee/dopamine_n", H5T_NATIVE_DOUBLE, 1, dims, z);
    free(z);
}
static void m_ho_missing(hid_t f) { del(f, "/n4d/state/homeostasis"); }
static void m_ho_scale_missing(hid_t f) { del(f, HO "scale"); }
static void m_ho_scale(hid_t f)
{
    hsize_t dims[2];
    int rank;
    double *b = get_dset(f, HO "scale", H5T_NATIVE_DOUBLE, 8, dims, &rank);
    b[0] = 100.0;
    set_dset(f, HO "scale", H5T_NATIVE_DOUBLE, b);
    free(b);
}
static void m_ho_count(hid_t f) { poke_u64(f, HO "window_count", 0, 1000000); }
static void m_lf_missing(hid_t f) { del(f, "/n4d/state/lifecycle"); }
static void m_lf_next_id(hid_t f) { uint64_t v = 3; put_attr(f, LF, "next_id", H5T_NATIVE_UINT64, 1, &v); }
static void m_lf_births(hid_t f) { uint64_t v = 1u << 30; put_attr(f, LF, "births", H5T_NATIVE_UINT64, 1, &v); }
static void m_lf_id(hid_t f) { poke_u64(f, LF "id", 0, (uint64_t)1 << 40); }
static void m_lf_alive(hid_t f) { poke_u64(f, LF "alive", 1, 2); }
static void m_lf_die(hid_t f) { poke_u64(f, LF "die", 2, 5); }
static void m_lf_born(hid_t f) { poke_u64(f, LF "born", 3, 1000000); }
static void m_lf_gen_missing(hid_t f) { del(f, LF "generation"); }
static void m_lf_params(hid_t f)
{
    hsize_t dims[2];
    int rank;
    double *b = get_dset(f, LF "params", H5T_NATIVE_DOUBLE, 8, dims, &rank);
    free(b);
    dims[1]++;
    double *z = calloc(dims[0] * dims[1], 8);
    put_dset(f, LF "params", H5T_NATIVE_DOUBLE, 2, dims, z);
    free(z);
}
static void m_lf_health(hid_t f)
{
    hsize_t dims[2];
    int rank;
    double *b = get_dset(f, LF "health0", H5T_NATIVE_DOUBLE, 8, dims, &rank);
    b[4] = INFINITY;
    set_dset(f, LF "health0", H5T_NATIVE_DOUBLE, b);
    free(b);
}

enum { LOAD, LOAD_RANGE, LOAD_REGION, LOAD_MMAP, RESUME, IMPORT };
enum { B_MODEL, B_GZ, B_CONTIG, B_CKPT, B_4H5, B_4JSON, B_PCK, B_PCK_STATIC, B_LEARN, B_NONE };

typedef struct damage {
    const char *name;
    int base, api;
    void (*mut)(hid_t f);
    const char *expect; /* a substring of the error besides the file name */
} damage;

static const damage cases[] = {
    /* header */
    {"magic", B_MODEL, LOAD, m_magic, "magic"},
    {"magic_missing", B_MODEL, LOAD, m_magic_missing, "magic"},
    {"magic_float", B_MODEL, LOAD, m_magic_float, "magic"},
    {"version", B_MODEL, LOAD, m_version, "version"},
    {"version_missing", B_MODEL, LOAD, m_version_missing, "version"},
    {"format_version", B_MODEL, LOAD, m_format, "format_version"},
    {"format_missing", B_MODEL, LOAD, m_format_missing, "format_version"},
    {"desc_vlen", B_MODEL, LOAD, m_desc_vlen, "/n4d/description: has no checksum"},
    {"sum_missing", B_CONTIG, LOAD, m_sum_missing, "target: has no checksum"},
    {"sum_missing_mmap", B_CONTIG, LOAD_MMAP, m_sum_missing, "target: has no checksum"},
    {"sum_short", B_CONTIG, LOAD, m_sum_short, "weight_q: its checksum covers"},
    {"kind", B_MODEL, LOAD, m_kind, "kind"},
    {"no_n4d", B_MODEL, LOAD, m_no_n4d, "/n4d"},
    {"lattice3", B_MODEL, LOAD, m_lattice3, "lattice"},
    {"lattice0", B_MODEL, LOAD, m_lattice0, "lattice"},
    {"dt_nan", B_MODEL, LOAD, m_dt_nan, "\"dt\""},
    {"dt_neg", B_MODEL, LOAD, m_dt_neg, "\"dt\""},
    {"n_plus", B_MODEL, LOAD, m_n_plus, "/n4d/description"},
    {"n_huge", B_MODEL, LOAD, m_n_huge, "n_neurons"},
    {"layout_missing", B_MODEL, LOAD, m_layout_missing, "layout"},
    {"layout_order", B_MODEL, LOAD, m_layout_order, "layout"},
    {"duration", B_MODEL, LOAD, m_duration, "default_duration"},
    {"seed_missing", B_MODEL, LOAD, m_seed_missing, "seed"},
    /* description */
    {"desc_missing", B_MODEL, LOAD, m_desc_missing, "/n4d/description"},
    {"desc_json", B_MODEL, LOAD, m_desc_json, "/n4d/description"},
    {"desc_array", B_MODEL, LOAD, m_desc_array, "/n4d/description"},
    {"desc_nopops", B_MODEL, LOAD, m_desc_nopops, "populations"},
    {"desc_area", B_MODEL, LOAD, m_desc_area, "populations[0]"},
    {"desc_tau_nan", B_MODEL, LOAD, m_desc_tau, "populations[0]"},
    {"desc_tau_str", B_MODEL, LOAD, m_desc_tau_str, "populations[0].params.tau_m"},
    {"desc_first", B_MODEL, LOAD, m_desc_first, "populations[0]"},
    {"desc_count", B_MODEL, LOAD, m_desc_count, "/n4d/description"},
    {"desc_proj", B_MODEL, LOAD, m_desc_proj, "projections[0]"},
    {"desc_input", B_MODEL, LOAD, m_desc_input, "inputs[1]"},
    {"desc_format", B_MODEL, LOAD, m_desc_format, "/n4d/description"},
    {"desc_area_box", B_MODEL, LOAD, m_desc_lo, "areas[0]"},
    {"desc_int", B_MODEL, LOAD, m_desc_int, "/n4d/description"},
    /* synapses: missing, shapes, types */
    {"no_seg_ptr", B_MODEL, LOAD, m_missing_seg_ptr, SYN "seg_ptr"},
    {"no_seg_off", B_MODEL, LOAD, m_missing_seg_off, SYN "seg_off"},
    {"no_seg_key", B_MODEL, LOAD, m_missing_seg_key, SYN "seg_key"},
    {"no_target", B_MODEL, LOAD, m_missing_target, SYN "target"},
    {"no_weight", B_MODEL, LOAD, m_missing_weight, SYN "weight_q"},
    {"no_synapses", B_MODEL, LOAD, m_missing_syn, "/n4d/synapses"},
    {"seg_ptr_short", B_MODEL, LOAD, m_short_seg_ptr, SYN "seg_ptr"},
    {"target_2d", B_MODEL, LOAD, m_target_2d, SYN "target"},
    {"weight_short", B_MODEL, LOAD, m_short_weight, SYN "weight_q"},
    {"target_float", B_MODEL, LOAD, m_target_float, SYN "target"},
    {"weight_i64", B_MODEL, LOAD, m_weight_i64, SYN "weight_q"},
    {"seg_ptr_i32", B_MODEL, LOAD, m_seg_ptr_i32, SYN "seg_ptr"},
    /* synapses: values */
    {"target_n", B_MODEL, LOAD, m_target_n, SYN "target"},
    {"target_max", B_MODEL, LOAD, m_target_max, SYN "target"},
    {"target_order", B_MODEL, LOAD, m_target_order, SYN "target"},
    {"seg_ptr_order", B_MODEL, LOAD, m_seg_ptr_order, SYN "seg_ptr"},
    {"seg_ptr_last", B_MODEL, LOAD, m_seg_ptr_last, SYN "seg_ptr"},
    {"seg_off_last", B_MODEL, LOAD, m_seg_off_last, SYN "seg_off"},
    {"key_delay0", B_MODEL, LOAD, m_key_delay0, SYN "seg_key"},
    {"key_bit17", B_MODEL, LOAD, m_key_bit17, "names synapse class 1; the description has 0"},
    {"key_bit31", B_MODEL, LOAD, m_key_bit31, "is not a valid delay/sign key"},
    {"desc_class_static", B_MODEL, LOAD, m_desc_class, "is not a plastic synapse class"},
    {"desc_class_pops", B_MODEL, LOAD, m_desc_class_pops, "populations 7 -> 0"},
    {"key_order", B_MODEL, LOAD, m_key_order, SYN "seg_key"},
    {"weight_sign", B_MODEL, LOAD, m_weight_sign, SYN "weight_q"},
    {"scale_nan", B_MODEL, LOAD, m_scale_nan, "scale"},
    {"scale_3", B_MODEL, LOAD, m_scale_3, "scale"},
    {"scale_missing", B_MODEL, LOAD, m_scale_missing, "scale"},
    {"n_syn_more", B_MODEL, LOAD, m_nsyn_more, SYN "target"},
    {"n_seg_huge", B_MODEL, LOAD, m_nseg_more, "n_syn"},
    /* nodes */
    {"x_missing", B_MODEL, LOAD, m_x_missing, "/nodes/E/0/x"},
    {"x_long", B_MODEL, LOAD, m_x_long, "/nodes/E/0/x"},
    {"x_range", B_MODEL, LOAD, m_x_range, "/nodes/E/0/x"},
    {"y_float", B_MODEL, LOAD, m_y_float, "/nodes/E/0/y"},
    {"no_nodes", B_MODEL, LOAD, m_no_nodes, "/nodes/E/0"},
    /* the same damage through the other read paths */
    {"gz_target_n", B_GZ, LOAD, m_target_n, SYN "target"},
    {"gz_desc_tau", B_GZ, LOAD, m_desc_tau_str, "tau_m"},
    {"range_target_n", B_MODEL, LOAD_RANGE, m_target_mid, SYN "target"},
    {"range_seg_ptr", B_GZ, LOAD_RANGE, m_seg_ptr_order, SYN "seg_ptr"},
    {"range_seg_off", B_MODEL, LOAD_RANGE, m_seg_off_mid, SYN "seg_off"},
    {"seg_off_mid", B_MODEL, LOAD, m_seg_off_mid, SYN "seg_off"},
    {"range_key", B_MODEL, LOAD_RANGE, m_key_bit17, SYN "seg_key"},
    {"range_x", B_GZ, LOAD_RANGE, m_x_range, "/nodes/E/0/x"},
    {"region_x", B_MODEL, LOAD_REGION, m_x_range, "/nodes/E/0/x"},
    {"region_no_x", B_MODEL, LOAD_REGION, m_x_missing, "/nodes/E/0/x"},
    {"mmap_target_n", B_CONTIG, LOAD_MMAP, m_target_n, SYN "target"},
    {"mmap_weight_sign", B_CONTIG, LOAD_MMAP, m_weight_sign, SYN "weight_q"},
    {"mmap_target_float", B_CONTIG, LOAD_MMAP, m_target_float, SYN "target"},
    /* checkpoints */
    {"ck_no_state", B_CKPT, RESUME, m_no_state, "/n4d/state"},
    {"ck_v", B_CKPT, RESUME, m_state_v, ST "v"},
    {"ck_v_shape", B_CKPT, RESUME, m_state_v_shape, ST "v"},
    {"ck_ring", B_CKPT, RESUME, m_state_ring, ST "ring"},
    {"ck_slots", B_CKPT, RESUME, m_state_slots, "ring_slots"},
    {"ck_rec_ids", B_CKPT, RESUME, m_state_rec_ids, ST "rec_ids"},
    {"ck_last_ids", B_CKPT, RESUME, m_state_last_ids, ST "last_ids"},
    {"ck_backend", B_CKPT, RESUME, m_state_backend, "backend"},
    {"ck_step", B_CKPT, RESUME, m_state_step, "step"},
    {"ck_ref", B_CKPT, RESUME, m_state_ref, ST "refractory"},
    {"ck_rec_steps", B_CKPT, RESUME, m_state_rec_steps, ST "rec_steps"},
    {"ck_dt", B_CKPT, RESUME, m_state_dt, "dt"},
    {"ck_kind", B_MODEL, RESUME, NULL, "kind"},
    {"ck_target_n", B_CKPT, RESUME, m_target_n, SYN "target"},
    /* plastic checkpoints */
    {"pk_missing", B_PCK, RESUME, m_pk_missing, "/n4d/state/plastic: is missing"},
    {"pk_other_model", B_PCK, RESUME, m_pk_other_model, "synapses; the model's class \"ee\" has"},
    {"pk_in_static", B_PCK_STATIC, RESUME, m_pk_in_static, "no plastic synapses"},
    {"pk_class_missing", B_PCK, RESUME, m_pk_class_missing, PK "classes/2-ie: is missing"},
    {"pk_n_classes", B_PCK, RESUME, m_pk_n_classes, "n_classes"},
    {"pk_rule", B_PCK, RESUME, m_pk_rule, "\"hebb_4dnc\" class"},
    {"pk_weight_missing", B_PCK, RESUME, m_pk_weight_missing, PK_EE "weight"},
    {"pk_weight_short", B_PCK, RESUME, m_pk_weight_short, PK_EE "weight"},
    {"pk_weight_nan", B_PCK, RESUME, m_pk_weight_nan, "not finite"},
    {"pk_weight_above", B_PCK, RESUME, m_pk_weight_above,
     "entry 5 (2.5) lies outside the rule's weight bounds [0, 2]"},
    {"pk_weight_negative", B_PCK, RESUME, m_pk_weight_neg, "entry 7 (-0.25) lies outside"},
    {"pk_hist_order", B_PCK, RESUME, m_pk_hist_order, PK "history_step"},
    {"pk_hist_len", B_PCK, RESUME, m_pk_hist_len, PK "history_step"},
    {"pk_hist_future", B_PCK, RESUME, m_pk_hist_future, "not before the step"},
    {"pk_kplus", B_PCK, RESUME, m_pk_kplus, PK "history_kplus"},
    {"pk_tso_u", B_PCK, RESUME, m_pk_tso_u, PK "classes/2-ie"},
    {"pk_tso_x_missing", B_PCK, RESUME, m_pk_tso_x_missing, PK_IE "x"},
    {"pk_flushed", B_PCK, RESUME, m_pk_flushed, PK "flushed"},
    {"pk_recent", B_PCK, RESUME, m_pk_recent, "does not agree with the neuron's spike history"},
    {"pk_recent_missing", B_PCK, RESUME, m_pk_recent_missing, PK "recent_steps"},
    /* learning checkpoints: modulators, dopamine events, homeostasis, lifecycle */
    {"md_missing", B_LEARN, RESUME, m_md_missing, "/n4d/state/modulators: is missing"},
    {"md_n", B_LEARN, RESUME, m_md_n, "n_modulators"},
    {"md_level", B_LEARN, RESUME, m_md_level, "attribute \"level\" 1.5 is not in [0, 1]"},
    {"md_level_missing", B_LEARN, RESUME, m_md_level_missing, "level"},
    {"md_group_missing", B_LEARN, RESUME, m_md_group_missing, MD "1-dopamine: is missing"},
    {"md_arr_short", B_LEARN, RESUME, m_md_arr_short, MD "1-dopamine/arrivals"},
    {"md_arr_big", B_LEARN, RESUME, m_md_arr_big, "exceeds the 20 neurons of population \"D\""},
    {"da_missing", B_LEARN, RESUME, m_da_missing, "/n4d/state/plastic/dopamine: is missing"},
    {"da_next", B_LEARN, RESUME, m_da_next, "next_update"},
    {"da_future", B_LEARN, RESUME, m_da_future, DA "event_step"},
    {"da_value_missing", B_LEARN, RESUME, m_da_value_missing, DA "event_value"},
    {"da_last_update", B_LEARN, RESUME, m_da_last_update, DA "last_update"},
    {"da_elig_nan", B_LEARN, RESUME, m_da_elig_nan, PK "classes/1-ee/eligibility"},
    {"da_n_long", B_LEARN, RESUME, m_da_n_long, PK "classes/1-ee/dopamine_n"},
    {"ho_missing", B_LEARN, RESUME, m_ho_missing, "/n4d/state/homeostasis: is missing"},
    {"ho_scale_missing", B_LEARN, RESUME, m_ho_scale_missing, HO "scale"},
    {"ho_scale", B_LEARN, RESUME, m_ho_scale, HO "scale: entry 0 (100) is out of range"},
    {"ho_count", B_LEARN, RESUME, m_ho_count, HO "window_count"},
    {"lf_missing", B_LEARN, RESUME, m_lf_missing, "/n4d/state/lifecycle: is missing"},
    {"lf_next_id", B_LEARN, RESUME, m_lf_next_id, "next_id 3"},
    {"lf_births", B_LEARN, RESUME, m_lf_births, "births"},
    {"lf_id", B_LEARN, RESUME, m_lf_id, LF "id: entry"},
    {"lf_alive", B_LEARN, RESUME, m_lf_alive, LF "alive: entry 1: 2 is not 0 or 1"},
    {"lf_die", B_LEARN, RESUME, m_lf_die, LF "die: entry 2"},
    {"lf_born", B_LEARN, RESUME, m_lf_born, LF "born: entry 3"},
    {"lf_gen_missing", B_LEARN, RESUME, m_lf_gen_missing, LF "generation"},
    {"lf_params", B_LEARN, RESUME, m_lf_params, LF "params"},
    {"lf_health", B_LEARN, RESUME, m_lf_health, LF "health0: entry 4"},
    /* 4D Neural Cognition HDF5 saves */
    {"4dnc_meta_missing", B_4H5, IMPORT, m4_meta_missing, "meta_json"},
    {"4dnc_meta_json", B_4H5, IMPORT, m4_meta_json, "meta_json"},
    {"4dnc_meta_noconfig", B_4H5, IMPORT, m4_meta_noconfig, "config"},
    {"4dnc_neurons_9", B_4H5, IMPORT, m4_neurons_9, "/neurons"},
    {"4dnc_nan_weight", B_4H5, IMPORT, m4_nan_weight, "/synapses"},
    {"4dnc_inf_weight", B_4H5, IMPORT, m4_inf_weight, "/synapses"},
    {"4dnc_bad_pre", B_4H5, IMPORT, m4_bad_pre, "/synapses"},
    {"4dnc_frac_post", B_4H5, IMPORT, m4_frac_post, "/synapses"},
    {"4dnc_delay0", B_4H5, IMPORT, m4_delay0, "/synapses"},
    {"4dnc_outside", B_4H5, IMPORT, m4_outside, "/neurons"},
    {"4dnc_dup_id", B_4H5, IMPORT, m4_dup_id, "/neurons"},
    {"4dnc_v_nan", B_4H5, IMPORT, m4_v_nan, "/neurons"},
    {"4dnc_syn_missing", B_4H5, IMPORT, m4_syn_missing, "/synapses"},
    {"4dnc_syn_str", B_4H5, IMPORT, m4_syn_str, "/synapses"},
};

/* Damage done to the bytes of a file (or a JSON text). */
typedef struct raw_damage {
    const char *name;
    int base, api;
    int kind;        /* 0 truncate to fraction, 1 truncate to bytes, 2 overwrite at fraction,
                        3 replace text, 4 write a file of text, 5 a folder, 6 nothing there,
                        7 corrupt the first chunk of target, 8 overwrite target data */
    double at;
    const char *from, *to;
    const char *expect;
} raw_damage;

static const raw_damage raws[] = {
    {"trunc_0", B_MODEL, LOAD, 1, 0, NULL, NULL, "not an HDF5 file"},
    {"trunc_7", B_MODEL, LOAD, 1, 7, NULL, NULL, "not an HDF5 file"},
    {"trunc_100", B_MODEL, LOAD, 1, 100, NULL, NULL, ""},
    {"trunc_700", B_MODEL, LOAD, 1, 700, NULL, NULL, ""},
    {"trunc_10", B_MODEL, LOAD, 0, 0.10, NULL, NULL, "truncated"},
    {"trunc_25", B_MODEL, LOAD, 0, 0.25, NULL, NULL, "truncated"},
    {"trunc_50", B_MODEL, LOAD, 0, 0.50, NULL, NULL, "truncated"},
    {"trunc_75", B_MODEL, LOAD, 0, 0.75, NULL, NULL, "truncated"},
    {"trunc_90", B_MODEL, LOAD, 0, 0.90, NULL, NULL, "truncated"},
    {"trunc_last", B_MODEL, LOAD, 1, -1, NULL, NULL, "truncated"},
    {"gz_trunc_50", B_GZ, LOAD, 0, 0.50, NULL, NULL, "truncated"},
    {"gz_trunc_range", B_GZ, LOAD_RANGE, 0, 0.60, NULL, NULL, "truncated"},
    {"ck_trunc_80", B_CKPT, RESUME, 0, 0.80, NULL, NULL, "truncated"},
    {"4dnc_trunc_50", B_4H5, IMPORT, 0, 0.50, NULL, NULL, "truncated"},
    {"signature", B_MODEL, LOAD, 2, 0.0, NULL, NULL, "not an HDF5 file"},
    {"text", B_NONE, LOAD, 4, 0, NULL, "just some notes\n", "not an HDF5 file"},
    {"json_as_model", B_4JSON, LOAD, 4, 0, NULL, NULL, "not an HDF5 file"},
    {"folder", B_NONE, LOAD, 5, 0, NULL, NULL, "not a regular file"},
    {"absent", B_NONE, LOAD, 6, 0, NULL, NULL, "cannot open"},
    {"ck_absent", B_NONE, RESUME, 6, 0, NULL, NULL, "cannot open"},
    {"4dnc_absent", B_NONE, IMPORT, 6, 0, NULL, NULL, "cannot open"},
    {"gz_chunk", B_GZ, LOAD, 7, 0, NULL, NULL, SYN "target"},
    {"contig_data", B_CONTIG, LOAD, 8, 0, NULL, NULL, SYN "target: checksum mismatch"},
    {"contig_mmap", B_CONTIG, LOAD_MMAP, 8, 0, NULL, NULL, SYN "target: checksum mismatch"},
    {"chunk_data", B_MODEL, LOAD, 7, 0, NULL, NULL, SYN "target: cannot read rows"},
    {"chunk_range", B_MODEL, LOAD_RANGE, 7, 0, NULL, NULL, SYN "target: cannot read rows"},
    /* 4D Neural Cognition JSON saves */
    {"4dnc_json_trunc", B_4JSON, IMPORT, 0, 0.5, NULL, NULL, "invalid JSON"},
    {"4dnc_json_weight", B_4JSON, IMPORT, 3, 0, "\"weight\": 6.727490373813665",
     "\"weight\": null", "synapses[0].weight"},
    {"4dnc_json_x", B_4JSON, IMPORT, 3, 0, "\"x\": 1,", "\"x\": 60,", "neurons[1].x"},
    {"4dnc_json_post", B_4JSON, IMPORT, 3, 0, "\"post_id\": 11,", "\"post_id\": 1100,",
     "does not exist"},
    {"4dnc_json_dup", B_4JSON, IMPORT, 3, 0, "\"id\": 1,", "\"id\": 0,", "appears twice"},
    {"4dnc_json_delay", B_4JSON, IMPORT, 3, 0, "\"delay\": 1,", "\"delay\": 0,", "delay"},
    {"4dnc_json_type", B_4JSON, IMPORT, 3, 0, "\"synapse_type\": \"excitatory\"",
     "\"synapse_type\": \"electric\"", "synapse_type"},
    {"4dnc_json_model", B_4JSON, IMPORT, 3, 0, "\"type\": \"LIF\"", "\"type\": 5",
     "neuron_model.type"},
    {"4dnc_json_lattice", B_4JSON, IMPORT, 3, 0, "\"lattice_shape\": [",
     "\"lattice_shape\": [7, ", "lattice_shape"},
    {"4dnc_json_area", B_4JSON, IMPORT, 3, 0, "\"name\": \"A1_like\"", "\"name\": \"V1_like\"",
     "areas[1]"},
    {"4dnc_json_neurons", B_4JSON, IMPORT, 3, 0, "\"neurons\": [",
     "\"neurons\": 5, \"neurons_\": [", "neurons"},
    {"4dnc_json_garbage", B_NONE, IMPORT, 4, 0, NULL, "%PDF-1.4 not a model", "neither"},
};

static char g_base[B_NONE][1400];

/* plastic: 0 static; 1 E->E stdp "ee" and I->E tsodyks "ie"; 2 the same at
 * another connection probability */
static n4d_model *base_model(n4d_context *ctx, int plastic)
{
    n4d_model *m = NULL;
    ASSERT_OK(n4d_model_create(ctx, &m), ctx);
    const uint32_t shape[4] = {12, 10, 3, 2};
    ASSERT_OK(n4d_model_set_lattice(m, shape), m);
    const int32_t lo[4] = {0, 0, 0, 0}, hi[4] = {11, 9, 2, 0};
    ASSERT_OK(n4d_model_add_area(m, "cortex", lo, hi), m);
    n4d_population_desc p;
    n4d_population_desc_init(&p);
    p.name = "E";
    p.area = "cortex";
    p.model = N4D_NEURON_LIF_EXP;
    static const n4d_param_value params[] = {{"tau_m", 20.0}};
    p.params = params;
    p.n_params = 1;
    p.placement = N4D_PLACE_DENSITY;
    p.density = 0.5;
    ASSERT_OK(n4d_model_add_population(m, &p, NULL), m);
    p.name = "I";
    p.placement = N4D_PLACE_COUNT;
    p.count = 60;
    ASSERT_OK(n4d_model_add_population(m, &p, NULL), m);
    n4d_projection_desc j;
    n4d_projection_desc_init(&j);
    j.source = "E";
    j.target = "E";
    j.p = plastic == 2 ? 0.05 : 0.1;
    j.weight = n4d_dist_uniform(0.2, 1.0);
    j.delay = n4d_dist_uniform(0.1, 2.0);
    const n4d_param_value sp[] = {{"Wmax", 2.0}, {"lambda", 0.05}};
    if (plastic) {
        j.name = "ee";
        j.synapse_model = "stdp";
        j.synapse_params = sp;
        j.n_synapse_params = 2;
    }
    ASSERT_OK(n4d_model_add_projection(m, &j, NULL), m);
    j.source = "I";
    j.syn_type = N4D_SYN_INHIBITORY;
    if (plastic) {
        j.name = "ie";
        j.synapse_model = "tsodyks";
        j.n_synapse_params = 0;
    }
    ASSERT_OK(n4d_model_add_projection(m, &j, NULL), m);
    n4d_input_desc in;
    n4d_input_desc_init(&in);
    in.kind = N4D_INPUT_POISSON;
    in.target = "E";
    in.rate = 800;
    in.weight = 1.0;
    ASSERT_OK(n4d_model_add_input(m, &in), m);
    n4d_input_desc_init(&in);
    in.target = "I";
    in.amplitude = 2.0;
    ASSERT_OK(n4d_model_add_input(m, &in), m);
    ASSERT_OK(n4d_model_build(m), m);
    n4d_population_info pi = {.struct_size = sizeof pi};
    ASSERT_OK(n4d_model_population_info(m, 0, &pi), m);
    g_e = pi.count;
    g_n = n4d_model_num_neurons(m);
    return m;
}

/* The learning base: E (homeostasis) -> E stdp_dopamine "ee", dopamine
 * driven by D, L (a lifecycle with reproduction) -> L static (owned). */
static n4d_model *learn_model(n4d_context *ctx)
{
    n4d_model *m = NULL;
    ASSERT_OK(n4d_model_create(ctx, &m), ctx);
    const uint32_t shape[4] = {12, 10, 3, 2};
    ASSERT_OK(n4d_model_set_lattice(m, shape), m);
    const int32_t lo[4] = {0, 0, 0, 0}, hi[4] = {11, 9, 2, 0};
    ASSERT_OK(n4d_model_add_area(m, "cortex", lo, hi), m);
    static const char *const names[3] = {"E", "D", "L"};
    static const uint64_t counts[3] = {150, 20, 40};
    for (int k = 0; k < 3; k++) {
        n4d_population_desc p;
        n4d_population_desc_init(&p);
        p.name = names[k];
        p.area = "cortex";
        p.model = N4D_NEURON_LIF_EXP;
        p.placement = N4D_PLACE_COUNT;
        p.count = counts[k];
        ASSERT_OK(n4d_model_add_population(m, &p, NULL), m);
        n4d_input_desc in;
        n4d_input_desc_init(&in);
        in.kind = N4D_INPUT_POISSON;
        in.target = names[k];
        in.rate = 900;
        in.weight = 3.0;
        ASSERT_OK(n4d_model_add_input(m, &in), m);
    }
    n4d_homeostasis h;
    n4d_homeostasis_init(&h);
    h.target_rate = 5;
    h.window = 10;
    h.scale_min = 0.5;
    ASSERT_OK(n4d_model_set_homeostasis(m, "E", &h), m);
    n4d_lifecycle lc;
    n4d_lifecycle_init(&lc);
    lc.enable_death = 1;
    lc.enable_reproduction = 1;
    lc.max_age = 100;
    lc.mutation_std_weights = 0.1;
    ASSERT_OK(n4d_model_set_population_lifecycle(m, "L", &lc), m);
    n4d_modulator_desc md;
    n4d_modulator_desc_init(&md);
    md.name = "dopamine";
    md.baseline = 0.0;
    md.driven_by = "D";
    md.per_spike = 0.05;
    md.delay = 1.0;
    ASSERT_OK(n4d_model_add_modulator(m, &md), m);
    n4d_projection_desc j;
    n4d_projection_desc_init(&j);
    j.name = "ee";
    j.source = j.target = "E";
    j.p = 0.1;
    j.weight = n4d_dist_uniform(0.2, 1.0);
    j.delay = n4d_dist_uniform(0.1, 2.0);
    j.synapse_model = "stdp_dopamine";
    ASSERT_OK(n4d_model_add_projection(m, &j, NULL), m);
    j.name = "ll";
    j.source = j.target = "L";
    j.synapse_model = NULL;
    ASSERT_OK(n4d_model_add_projection(m, &j, NULL), m);
    ASSERT_OK(n4d_model_build(m), m);
    return m;
}

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "%s/test_store_corrupt_XXXXXX", N4D_BINARY_DIR);
    if (!mkdtemp(g_dir))
        return -1;
    n4d_context *ctx = NULL;
    if (n4d_context_create(NULL, &ctx))
        return -1;
    n4d_model *m = base_model(ctx, 0);
    snprintf(g_base[B_MODEL], sizeof g_base[0], "%s", path_of("base.h5"));
    snprintf(g_base[B_GZ], sizeof g_base[0], "%s", path_of("base_gz.h5"));
    snprintf(g_base[B_CONTIG], sizeof g_base[0], "%s", path_of("base_contig.h5"));
    snprintf(g_base[B_CKPT], sizeof g_base[0], "%s", path_of("base_ck.h5"));
    snprintf(g_base[B_4H5], sizeof g_base[0], "%s",
             N4D_SOURCE_DIR "/tests/data/4dnc_small_model.h5");
    snprintf(g_base[B_4JSON], sizeof g_base[0], "%s",
             N4D_SOURCE_DIR "/tests/data/4dnc_small_model.json");
    n4d_save_options so;
    n4d_save_options_init(&so);
    int bad = n4d_model_save(m, g_base[B_MODEL], &so) != N4D_OK;
    so.compression = N4D_COMPRESSION_GZIP;
    so.chunk_size = 256;
    bad |= n4d_model_save(m, g_base[B_GZ], &so) != N4D_OK;
    n4d_save_options_init(&so);
    so.contiguous = 1;
    bad |= n4d_model_save(m, g_base[B_CONTIG], &so) != N4D_OK;
    n4d_sim *s = NULL;
    bad |= n4d_sim_create(m, NULL, &s) != N4D_OK;
    bad |= n4d_sim_run(s, 120) != N4D_OK;
    bad |= n4d_sim_total_spikes(s) == 0;
    bad |= n4d_sim_checkpoint(s, g_base[B_CKPT], NULL) != N4D_OK;
    n4d_sim_destroy(s);
    n4d_model_destroy(m);
    /* plastic checkpoints: the base, another model's, and a static one that
     * gets the base's plastic group */
    static char other[1400];
    snprintf(g_base[B_PCK], sizeof g_base[0], "%s", path_of("base_pck.h5"));
    snprintf(g_base[B_PCK_STATIC], sizeof g_base[0], "%s", path_of("base_pck_static.h5"));
    snprintf(other, sizeof other, "%s", path_of("base_pck_other.h5"));
    g_pk_other = other;
    for (int k = 0; k < 2; k++) {
        m = base_model(ctx, 1 + k);
        s = NULL;
        bad |= n4d_sim_create(m, NULL, &s) != N4D_OK;
        bad |= n4d_sim_run(s, 300) != N4D_OK;
        bad |= n4d_sim_checkpoint(s, k ? other : g_base[B_PCK], NULL) != N4D_OK;
        n4d_sim_destroy(s);
        n4d_model_destroy(m);
    }
    /* the learning checkpoint: after L's first deaths (step 101) */
    snprintf(g_base[B_LEARN], sizeof g_base[0], "%s", path_of("base_learn.h5"));
    m = learn_model(ctx);
    s = NULL;
    bad |= n4d_sim_create(m, NULL, &s) != N4D_OK;
    bad |= n4d_sim_run(s, 1234) != N4D_OK;
    uint64_t births = 0;
    bad |= n4d_sim_lifecycle_counts(s, NULL, &births) != N4D_OK || births == 0;
    bad |= n4d_sim_checkpoint(s, g_base[B_LEARN], NULL) != N4D_OK;
    n4d_sim_destroy(s);
    n4d_model_destroy(m);
    copy_file(g_base[B_CKPT], g_base[B_PCK_STATIC]);
    hid_t f = H5Fopen(g_base[B_PCK_STATIC], H5F_ACC_RDWR, H5P_DEFAULT);
    bad |= f < 0;
    if (f >= 0) {
        copy_plastic_from(f, g_base[B_PCK]);
        H5Fclose(f);
    }
    n4d_context_destroy(ctx);
    return bad ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    DIR *d = opendir(g_dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            const char *p = path_of(e->d_name);
            if (rmdir(p) != 0)
                unlink(p);
        }
        closedir(d);
    }
    rmdir(g_dir);
    return 0;
}

/* Runs the api on the damaged file and checks the rejection. */
static void expect_rejected(const char *name, const char *file, int api, const char *expect)
{
    n4d_context *ctx = NULL;
    assert_int_equal(n4d_context_create(NULL, &ctx), N4D_OK);
    n4d_model *m = NULL;
    n4d_sim *s = NULL;
    n4d_status st;
    n4d_load_options lo;
    n4d_load_options_init(&lo);
    switch (api) {
    case LOAD_RANGE:
        lo.select = N4D_SELECT_RANGE;
        lo.first = 0;
        lo.count = g_n - 1;
        st = n4d_model_load(ctx, file, &lo, &m);
        break;
    case LOAD_REGION:
        lo.select = N4D_SELECT_REGION;
        lo.hi[0] = 11, lo.hi[1] = 9, lo.hi[2] = 2, lo.hi[3] = 1;
        st = n4d_model_load(ctx, file, &lo, &m);
        break;
    case LOAD_MMAP:
        lo.mmap_synapses = 1;
        st = n4d_model_load(ctx, file, &lo, &m);
        break;
    case RESUME:
        st = n4d_sim_resume(ctx, file, NULL, &m, &s);
        break;
    case IMPORT:
        st = n4d_model_import_4dnc(ctx, file, NULL, &m);
        break;
    default:
        st = n4d_model_load(ctx, file, NULL, &m);
        break;
    }
    const char *msg = n4d_last_error(ctx);
    const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
    bool ok = (st == N4D_E_FORMAT || st == N4D_E_IO) && !m && !s && strstr(msg, base) &&
              strstr(msg, expect) && mem_current(ctx) == 0;
    if (!ok)
        print_error("damage \"%s\": status %d (%s), message \"%s\", expected \"%s\"\n", name,
                    (int)st, n4d_status_string(st), msg, expect);
    else
        print_message("%-20s %s\n", name, msg + strlen(file) + 2);
    assert_true(ok);
    n4d_sim_destroy(s);
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
}

static void test_damaged_hdf5(void **state)
{
    (void)state;
    size_t n = sizeof cases / sizeof cases[0];
    for (size_t i = 0; i < n; i++) {
        const damage *c = &cases[i];
        char fname[200];
        snprintf(fname, sizeof fname, "%s.h5", c->name);
        const char *file = path_of(fname);
        copy_file(g_base[c->base], file);
        if (c->mut) {
            hid_t f = H5Fopen(file, H5F_ACC_RDWR, H5P_DEFAULT);
            assert_true(f >= 0);
            c->mut(f);
            assert_true(H5Fclose(f) >= 0);
        }
        expect_rejected(c->name, file, c->api, c->expect);
    }
}

static void test_damaged_bytes(void **state)
{
    (void)state;
    size_t n = sizeof raws / sizeof raws[0];
    for (size_t i = 0; i < n; i++) {
        const raw_damage *c = &raws[i];
        char fname[200];
        snprintf(fname, sizeof fname, "%s.%s", c->name,
                 c->base == B_4JSON && c->api == IMPORT ? "json" : "h5");
        const char *file = path_of(fname);
        if (c->base != B_NONE)
            copy_file(g_base[c->base], file);
        long size = c->base != B_NONE ? file_size(file) : 0;
        switch (c->kind) {
        case 0: truncate_to(file, (long)(size * c->at)); break;
        case 1: truncate_to(file, c->at < 0 ? size + (long)c->at : (long)c->at); break;
        case 2: {
            const unsigned char x = 0x42;
            write_bytes(file, (long)(size * c->at), &x, 1);
            break;
        }
        case 3: {
            size_t len;
            char *text = read_text(file, &len), *r = replace_first(text, c->from, c->to);
            write_text(file, r);
            free(text);
            free(r);
            break;
        }
        case 4:
            if (c->to)
                write_text(file, c->to);
            break;
        case 5: assert_int_equal(mkdir(file, 0700), 0); break;
        case 6: break;
        case 7:
        case 8: {
            hid_t f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
            hid_t d = H5Dopen2(f, SYN "target", H5P_DEFAULT);
            haddr_t addr;
            hsize_t bytes;
            if (c->kind == 7) {
                hsize_t origin = 0;
                unsigned mask;
                assert_true(H5Dget_chunk_info_by_coord(d, &origin, &mask, &addr, &bytes) >= 0);
            } else {
                addr = H5Dget_offset(d);
                bytes = 64;
            }
            H5Dclose(d);
            H5Fclose(f);
            unsigned char junk[64];
            for (int k = 0; k < 64; k++)
                junk[k] = (unsigned char)(0xA5 ^ (k * 37));
            write_bytes(file, (long)(addr + bytes / 4), junk, bytes / 2 < 64 ? bytes / 2 : 64);
            break;
        }
        default: break;
        }
        expect_rejected(c->name, file, c->api, c->expect);
    }
}

/* The undamaged bases load (so the damage, not the base, is rejected). */
static void test_bases_load(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    assert_int_equal(n4d_context_create(NULL, &ctx), N4D_OK);
    for (int b = B_MODEL; b <= B_CONTIG; b++) {
        n4d_model *m = NULL;
        ASSERT_OK(n4d_model_load(ctx, g_base[b], NULL, &m), ctx);
        n4d_model_destroy(m);
    }
    n4d_model *m = NULL;
    n4d_sim *s = NULL;
    ASSERT_OK(n4d_sim_resume(ctx, g_base[B_CKPT], NULL, &m, &s), ctx);
    n4d_sim_destroy(s);
    n4d_model_destroy(m);
    ASSERT_OK(n4d_sim_resume(ctx, g_base[B_PCK], NULL, &m, &s), ctx);
    n4d_sim_destroy(s);
    n4d_model_destroy(m);
    ASSERT_OK(n4d_model_import_4dnc(ctx, g_base[B_4H5], NULL, &m), ctx);
    n4d_model_destroy(m);
    ASSERT_OK(n4d_model_import_4dnc(ctx, g_base[B_4JSON], NULL, &m), ctx);
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
    /* at least 50 damaged files */
    assert_true(sizeof cases / sizeof cases[0] + sizeof raws / sizeof raws[0] >= 50);
}

int main(void)
{
    if (!n4d_has_feature(N4D_FEATURE_HDF5)) {
        printf("SKIP: built without HDF5\n");
        return 77;
    }
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* the damaging code itself may probe */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bases_load),
        cmocka_unit_test(test_damaged_hdf5),
        cmocka_unit_test(test_damaged_bytes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

#else

int main(void)
{
    printf("SKIP: built without HDF5\n");
    return 77;
}

#endif
