/* Assertion helpers shared by the tests. Include after "n4d.h"; the cmocka
 * forms (OK, ASSERT_OK, ASSERT_ERR_MSG, CHECK, ASSERT_FLOAT_BITS) are
 * defined when <cmocka.h> was included first. TRY_OK is for the plain
 * programs beside the tests (store_h5py_gen.c): it prints the error and
 * returns 1 from the calling function. */
#ifndef N4D_TEST_UTIL_H
#define N4D_TEST_UTIL_H

#include <stdio.h>
#include <string.h>

#define TRY_OK(call, handle)                                                                       \
    do {                                                                                           \
        n4d_status st_ = (call);                                                                   \
        if (st_ != N4D_OK) {                                                                       \
            fprintf(stderr, "%s: %s\n", #call, n4d_last_error(handle));                            \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

#ifdef CMOCKA_H_

/* call returns N4D_OK; the failure names the call and the status. */
#define OK(call)                                                                                   \
    do {                                                                                           \
        n4d_status st_ = (call);                                                                   \
        if (st_ != N4D_OK)                                                                         \
            fail_msg("%s -> %d (%s)", #call, (int)st_, n4d_status_string(st_));                   \
    } while (0)

/* call returns N4D_OK; the failure also prints handle's last error. */
#define ASSERT_OK(call, handle)                                                                    \
    do {                                                                                           \
        n4d_status st_ = (call);                                                                   \
        if (st_ != N4D_OK)                                                                         \
            print_error("%s -> %s: %s\n", #call, n4d_status_string(st_), n4d_last_error(handle)); \
        assert_int_equal(st_, N4D_OK);                                                             \
    } while (0)

/* call returns status and handle's last error contains needle. */
#define ASSERT_ERR_MSG(call, status, handle, needle)                                               \
    do {                                                                                           \
        n4d_status st_ = (call);                                                                   \
        const char *msg_ = n4d_last_error(handle);                                                 \
        if (st_ != (status) || !strstr(msg_, (needle)))                                            \
            print_error("%s -> %d \"%s\" (expected %d and \"%s\")\n", #call, (int)st_, msg_,      \
                        (int)(status), (needle));                                                  \
        assert_int_equal(st_, (status));                                                           \
        assert_non_null(strstr(msg_, (needle)));                                                   \
    } while (0)

/* cond holds; else prints the printf-style explanation and fails. */
#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            print_error(__VA_ARGS__);                                                              \
            print_error("\n");                                                                     \
            fail_msg("check failed: %s", #cond);                                                   \
        }                                                                                          \
    } while (0)

/* Two floats are bitwise equal (what: a label, k: the step). */
#define ASSERT_FLOAT_BITS(got, want, what, k)                                                      \
    do {                                                                                           \
        float g_ = (got), w_ = (want);                                                             \
        if (memcmp(&g_, &w_, sizeof g_) != 0) {                                                    \
            print_error("%s at step %ld: got %.9g, reference %.9g\n", (what), (long)(k),          \
                        (double)g_, (double)w_);                                                   \
            fail();                                                                                \
        }                                                                                          \
    } while (0)

/* The bytes a context has allocated now (0 once everything is freed). */
static inline uint64_t mem_current(const n4d_context *ctx)
{
    n4d_memory_stats ms;
    memset(&ms, 0, sizeof ms);
    ms.struct_size = sizeof ms;
    assert_int_equal(n4d_context_memory(ctx, &ms), N4D_OK);
    return ms.total_current;
}

/* A sim of built model m on `backend` with `threads` threads. */
static inline n4d_sim *sim_on(n4d_model *m, const char *backend, int32_t threads)
{
    n4d_sim_options o;
    n4d_sim_options_init(&o);
    o.backend = backend;
    o.num_threads = threads;
    n4d_sim *sim = NULL;
    ASSERT_OK(n4d_sim_create(m, &o, &sim), m);
    return sim;
}

#endif /* CMOCKA_H_ */
#endif
