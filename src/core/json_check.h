/* Checked reading of JSON values (jansson) with errors that name the key
 * path ("populations[2].params.tau_m") and, when the raw text is known, its
 * line and column (json_pos.h): one set of typed getters for the config
 * loader (config.c), the model description of saved models (store_desc.c)
 * and the 4D Neural Cognition import (store_import.c). Each user gives a
 * report function that turns "PATH: message" into its own error (status,
 * file name, handle). */
#ifndef N4D_JSON_CHECK_H
#define N4D_JSON_CHECK_H

#include "internal.h"
#include "json_pos.h"

#include <jansson.h>

#define N4D__JSON_MAX_DEPTH 16

/* Records an error at `path` (line and column 0 when the checker has no
 * text) and returns its status. */
typedef n4d_status (*n4d__json_report_fn)(void *user, const char *path, int line, int col,
                                          const char *msg);

typedef struct n4d__jcheck {
    const char *text; /* raw JSON text (for line:column), or NULL */
    size_t len;
    n4d__json_seg path[N4D__JSON_MAX_DEPTH]; /* the current key path */
    size_t depth;
    n4d__json_report_fn report;
    void *user;
} n4d__jcheck;

enum { N4D__JC_AT_VALUE = 0, N4D__JC_AT_KEY = 1 };

void n4d__jc_init(n4d__jcheck *jc, const char *text, size_t len, n4d__json_report_fn report,
                  void *user);

/* The key path: push a key or an array index, pop it again. */
void n4d__jc_push_key(n4d__jcheck *jc, const char *key);
void n4d__jc_push_idx(n4d__jcheck *jc, size_t index);
void n4d__jc_pop(n4d__jcheck *jc);
/* "a.b[2].c" ("(root)" at depth 0). */
void n4d__jc_format_path(const n4d__jcheck *jc, char *buf, size_t cap);

/* Reports "PATH: message" for the element at the current path (its key
 * when `at` is N4D__JC_AT_KEY); returns the report's status. */
n4d_status n4d__jc_fail(n4d__jcheck *jc, int at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Reports a missing required key of the object at the current path. */
n4d_status n4d__jc_missing(n4d__jcheck *jc, const char *key, const char *expect);

/* ---- typed values at the current path ----------------------------------- */

/* A number range: [lo, hi] or (lo, hi]; `expect` names it in messages. */
typedef struct n4d__jrange {
    double lo, hi;
    bool lo_open;
    const char *expect;
} n4d__jrange;

extern const n4d__jrange N4D__JR_ANY;    /* a number */
extern const n4d__jrange N4D__JR_POS;    /* a number > 0 */
extern const n4d__jrange N4D__JR_NONNEG; /* a number >= 0 */
extern const n4d__jrange N4D__JR_UNIT;   /* a number in [0, 1] */
extern const n4d__jrange N4D__JR_FINITE; /* a finite number */

/* v has the type (else "got TYPE (expected EXPECT)"). */
n4d_status n4d__jc_want(n4d__jcheck *jc, json_t *v, json_type type, const char *expect);
/* A number in range r. */
n4d_status n4d__jc_num(n4d__jcheck *jc, json_t *v, const n4d__jrange *r, double *out);
/* A number, or the strings "inf", "-inf" and "nan" (how the store writes
 * non-finite values). */
n4d_status n4d__jc_real(n4d__jcheck *jc, json_t *v, double *out);
/* An integer (an integral real like 3.0 or 1e3 counts) in [lo, hi]. */
n4d_status n4d__jc_int(n4d__jcheck *jc, json_t *v, int64_t lo, int64_t hi, const char *expect,
                       int64_t *out);
/* A string (`expect` names it in messages). */
n4d_status n4d__jc_str(n4d__jcheck *jc, json_t *v, const char *expect, const char **out);
/* A non-empty string. */
n4d_status n4d__jc_name(n4d__jcheck *jc, json_t *v, const char **out);
/* One of the NULL-terminated names; *out receives the matching value. */
n4d_status n4d__jc_enum(n4d__jcheck *jc, json_t *v, const char *what, const char *const *names,
                        const int32_t *vals, int32_t *out);
/* Every key of the object obj is in the NULL-terminated `allowed` (else
 * "unknown key", with a did-you-mean hint for a near miss). */
n4d_status n4d__jc_keys(n4d__jcheck *jc, json_t *obj, const char *const *allowed);

/* Members of the object obj: push the key, check, pop. The opt_ forms
 * leave *out untouched when the key is absent; *present (may be NULL) tells
 * whether it was there. The req_ forms report a missing key. */
n4d_status n4d__jc_opt_num(n4d__jcheck *jc, json_t *obj, const char *key, const n4d__jrange *r,
                           double *out, bool *present);
n4d_status n4d__jc_opt_int(n4d__jcheck *jc, json_t *obj, const char *key, int64_t lo,
                           int64_t hi, const char *expect, int64_t *out, bool *present);
n4d_status n4d__jc_opt_bool(n4d__jcheck *jc, json_t *obj, const char *key, int32_t *out);
n4d_status n4d__jc_opt_string(n4d__jcheck *jc, json_t *obj, const char *key);
n4d_status n4d__jc_req_name(n4d__jcheck *jc, json_t *obj, const char *key, const char *expect,
                            const char **out);
n4d_status n4d__jc_req_num(n4d__jcheck *jc, json_t *obj, const char *key, const n4d__jrange *r,
                           double *out);
n4d_status n4d__jc_req_real(n4d__jcheck *jc, json_t *obj, const char *key, double *out);
n4d_status n4d__jc_req_int(n4d__jcheck *jc, json_t *obj, const char *key, int64_t lo,
                           int64_t hi, const char *expect, int64_t *out);
n4d_status n4d__jc_req_str(n4d__jcheck *jc, json_t *obj, const char *key, const char **out);

/* ---- text helpers for messages ------------------------------------------- */

/* "an object", "a string", ... (for "got TYPE"). */
const char *n4d__json_type_name(const json_t *v);
/* Whether s is in the NULL-terminated list. */
bool n4d__json_in_list(const char *const *list, const char *s);
/* Appends s to buf (cap bytes, *n used), truncating, NUL-terminated. */
void n4d__json_append(char *buf, size_t cap, size_t *n, const char *s);
/* Levenshtein distance of two short strings (did-you-mean hints). */
size_t n4d__json_edit_distance(const char *a, const char *b);
/* "a, b, c" of a NULL-terminated list, into buf. */
const char *n4d__json_join_list(const char *const *list, char *buf, size_t cap);
/* "a, b, c" of the keys of an object, at most ~400 characters, into buf. */
const char *n4d__json_join_keys(json_t *obj, char *buf, size_t cap);

#endif
