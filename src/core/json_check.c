/* Checked reading of JSON values with key paths and positions (json_check.h). */
#include "json_check.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

const n4d__jrange N4D__JR_ANY = {-INFINITY, INFINITY, false, "a number"};
const n4d__jrange N4D__JR_POS = {0.0, INFINITY, true, "a number > 0"};
const n4d__jrange N4D__JR_NONNEG = {0.0, INFINITY, false, "a number >= 0"};
const n4d__jrange N4D__JR_UNIT = {0.0, 1.0, false, "a number in [0, 1]"};
const n4d__jrange N4D__JR_FINITE = {-DBL_MAX, DBL_MAX, false, "a finite number"};

/* ---- text helpers ------------------------------------------------------- */

bool n4d__json_in_list(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (strcmp(*list, s) == 0)
            return true;
    return false;
}

void n4d__json_append(char *buf, size_t cap, size_t *n, const char *s)
{
    while (*s && *n + 1 < cap)
        buf[(*n)++] = *s++;
    buf[*n] = '\0';
}

const char *n4d__json_join_list(const char *const *list, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; list[i]; i++) {
        if (i)
            n4d__json_append(buf, cap, &n, ", ");
        n4d__json_append(buf, cap, &n, list[i]);
    }
    return buf;
}

const char *n4d__json_join_keys(json_t *obj, char *buf, size_t cap)
{
    const char *key;
    json_t *v;
    size_t n = 0, i = 0;
    buf[0] = '\0';
    json_object_foreach(obj, key, v) {
        (void)v;
        if (n > 400 || n + strlen(key) + 2 >= cap) {
            n4d__json_append(buf, cap, &n, ", ...");
            break;
        }
        if (i++)
            n4d__json_append(buf, cap, &n, ", ");
        n4d__json_append(buf, cap, &n, key);
    }
    return buf;
}

const char *n4d__json_type_name(const json_t *v)
{
    if (!v)
        return "nothing";
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

size_t n4d__json_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), row[64];
    if (la >= 64 || lb >= 64)
        return SIZE_MAX;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t prev = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cur = row[j];
            size_t best = prev + (a[i - 1] != b[j - 1]);
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            prev = cur;
        }
    }
    return row[lb];
}

/* ---- path and errors ---------------------------------------------------- */

void n4d__jc_init(n4d__jcheck *jc, const char *text, size_t len, n4d__json_report_fn report,
                  void *user)
{
    memset(jc, 0, sizeof *jc);
    jc->text = text;
    jc->len = len;
    jc->report = report;
    jc->user = user;
}

void n4d__jc_push_key(n4d__jcheck *jc, const char *key)
{
    if (jc->depth < N4D__JSON_MAX_DEPTH) {
        jc->path[jc->depth].key = key;
        jc->path[jc->depth].index = 0;
    }
    jc->depth++;
}

void n4d__jc_push_idx(n4d__jcheck *jc, size_t index)
{
    if (jc->depth < N4D__JSON_MAX_DEPTH) {
        jc->path[jc->depth].key = NULL;
        jc->path[jc->depth].index = index;
    }
    jc->depth++;
}

void n4d__jc_pop(n4d__jcheck *jc)
{
    jc->depth--;
}

void n4d__jc_format_path(const n4d__jcheck *jc, char *buf, size_t cap)
{
    size_t n = 0, d = jc->depth < N4D__JSON_MAX_DEPTH ? jc->depth : N4D__JSON_MAX_DEPTH;
    buf[0] = '\0';
    if (d == 0) {
        n4d__json_append(buf, cap, &n, "(root)");
        return;
    }
    for (size_t i = 0; i < d; i++) {
        if (jc->path[i].key) {
            if (i)
                n4d__json_append(buf, cap, &n, ".");
            n4d__json_append(buf, cap, &n, jc->path[i].key);
        } else {
            char idx[32];
            snprintf(idx, sizeof idx, "[%zu]", jc->path[i].index);
            n4d__json_append(buf, cap, &n, idx);
        }
    }
}

n4d_status n4d__jc_fail(n4d__jcheck *jc, int at, const char *fmt, ...)
{
    char path[256], msg[768];
    int line = 0, col = 0;
    size_t d = jc->depth < N4D__JSON_MAX_DEPTH ? jc->depth : N4D__JSON_MAX_DEPTH;
    if (jc->text)
        n4d__json_pos(jc->text, jc->len, jc->path, d, at == N4D__JC_AT_KEY, &line, &col);
    n4d__jc_format_path(jc, path, sizeof path);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return jc->report(jc->user, path, line, col, msg);
}

n4d_status n4d__jc_missing(n4d__jcheck *jc, const char *key, const char *expect)
{
    n4d__jc_push_key(jc, key);
    return n4d__jc_fail(jc, N4D__JC_AT_VALUE, "missing key \"%s\" (expected %s)", key, expect);
}

/* ---- typed values --------------------------------------------------------- */

n4d_status n4d__jc_want(n4d__jcheck *jc, json_t *v, json_type type, const char *expect)
{
    if (json_typeof(v) == type)
        return N4D_OK;
    return n4d__jc_fail(jc, N4D__JC_AT_VALUE, "got %s (expected %s)", n4d__json_type_name(v),
                        expect);
}

n4d_status n4d__jc_num(n4d__jcheck *jc, json_t *v, const n4d__jrange *r, double *out)
{
    if (!json_is_number(v))
        return n4d__jc_fail(jc, N4D__JC_AT_VALUE, "got %s (expected %s)", n4d__json_type_name(v),
                            r->expect);
    double x = json_number_value(v);
    if (!(r->lo_open ? x > r->lo : x >= r->lo) || !(x <= r->hi))
        return n4d__jc_fail(jc, N4D__JC_AT_VALUE, "%g is out of range (expected %s)", x,
                            r->expect);
    *out = x;
    return N4D_OK;
}

n4d_status n4d__jc_real(n4d__jcheck *jc, json_t *v, double *out)
{
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return N4D_OK;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (strcmp(s, "inf") == 0 || strcmp(s, "-inf") == 0 || strcmp(s, "nan") == 0) {
            *out = s[0] == 'n' ? NAN : s[0] == '-' ? -INFINITY : INFINITY;
            return N4D_OK;
        }
    }
    return n4d__jc_fail(jc, N4D__JC_AT_VALUE, "got %s (expected a number, inf, -inf or nan)",
                        n4d__json_type_name(v));
}

n4d_status n4d__jc_int(n4d__jcheck *jc, json_t *v, int64_t lo, int64_t hi, const char *expect,
                       int64_t *out)
{
    int64_t x;
    if (json_is_integer(v)) {
        x = (int64_t)json_integer_value(v);
    } else if (json_is_real(v)) {
        double r = json_real_value(v);
        if (r != floor(r) || fabs(r) > 9007199254740992.0)
            return n4d__jc_fail(jc, N4D__JC_AT_VALUE, "%g is not an integer (expected %s)", r,
                                expect);
        x = (int64_t)r;
    } else {
        return n4d__jc_fail(jc, N4D__JC_AT_VALUE, "got %s (expected %s)", n4d__json_type_name(v),
                            expect);
    }
    if (x < lo || x > hi)
        return n4d__jc_fail(jc, N4D__JC_AT_VALUE, "%lld is out of range (expected %s)",
                            (long long)x, expect);
    *out = x;
    return N4D_OK;
}

n4d_status n4d__jc_str(n4d__jcheck *jc, json_t *v, const char *expect, const char **out)
{
    N4D__TRY(n4d__jc_want(jc, v, JSON_STRING, expect));
    *out = json_string_value(v);
    return N4D_OK;
}

n4d_status n4d__jc_name(n4d__jcheck *jc, json_t *v, const char **out)
{
    N4D__TRY(n4d__jc_want(jc, v, JSON_STRING, "a non-empty string"));
    if (json_string_length(v) == 0)
        return n4d__jc_fail(jc, N4D__JC_AT_VALUE, "empty name (expected a non-empty string)");
    *out = json_string_value(v);
    return N4D_OK;
}

n4d_status n4d__jc_enum(n4d__jcheck *jc, json_t *v, const char *what, const char *const *names,
                        const int32_t *vals, int32_t *out)
{
    char list[512];
    n4d__json_join_list(names, list, sizeof list);
    if (!json_is_string(v))
        return n4d__jc_fail(jc, N4D__JC_AT_VALUE, "got %s (expected one of: %s)",
                            n4d__json_type_name(v), list);
    const char *s = json_string_value(v);
    for (size_t i = 0; names[i]; i++) {
        if (strcmp(names[i], s) == 0) {
            *out = vals[i];
            return N4D_OK;
        }
    }
    return n4d__jc_fail(jc, N4D__JC_AT_VALUE, "unknown %s \"%.64s\" (expected one of: %s)", what,
                        s, list);
}

n4d_status n4d__jc_keys(n4d__jcheck *jc, json_t *obj, const char *const *allowed)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        (void)v;
        if (n4d__json_in_list(allowed, key))
            continue;
        const char *best = NULL;
        size_t bestd = SIZE_MAX;
        for (size_t i = 0; allowed[i]; i++) {
            size_t dd = n4d__json_edit_distance(key, allowed[i]);
            if (dd < bestd) {
                bestd = dd;
                best = allowed[i];
            }
        }
        char list[512], hint[96] = "";
        if (best && bestd <= 2 && bestd < strlen(key))
            snprintf(hint, sizeof hint, ", did you mean \"%s\"?", best);
        n4d__jc_push_key(jc, key);
        return n4d__jc_fail(jc, N4D__JC_AT_KEY, "unknown key \"%.64s\"%s (expected one of: %s)",
                            key, hint, n4d__json_join_list(allowed, list, sizeof list));
    }
    return N4D_OK;
}

/* ---- members ---------------------------------------------------------------- */

n4d_status n4d__jc_opt_num(n4d__jcheck *jc, json_t *obj, const char *key, const n4d__jrange *r,
                           double *out, bool *present)
{
    json_t *v = json_object_get(obj, key);
    if (present)
        *present = v != NULL;
    if (!v)
        return N4D_OK;
    n4d__jc_push_key(jc, key);
    N4D__TRY(n4d__jc_num(jc, v, r, out));
    n4d__jc_pop(jc);
    return N4D_OK;
}

n4d_status n4d__jc_opt_int(n4d__jcheck *jc, json_t *obj, const char *key, int64_t lo,
                           int64_t hi, const char *expect, int64_t *out, bool *present)
{
    json_t *v = json_object_get(obj, key);
    if (present)
        *present = v != NULL;
    if (!v)
        return N4D_OK;
    n4d__jc_push_key(jc, key);
    N4D__TRY(n4d__jc_int(jc, v, lo, hi, expect, out));
    n4d__jc_pop(jc);
    return N4D_OK;
}

n4d_status n4d__jc_opt_bool(n4d__jcheck *jc, json_t *obj, const char *key, int32_t *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return N4D_OK;
    n4d__jc_push_key(jc, key);
    N4D__TRY(n4d__jc_want(jc, v, json_is_true(v) ? JSON_TRUE : JSON_FALSE, "true or false"));
    n4d__jc_pop(jc);
    *out = json_is_true(v) ? 1 : 0;
    return N4D_OK;
}

n4d_status n4d__jc_opt_string(n4d__jcheck *jc, json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return N4D_OK;
    n4d__jc_push_key(jc, key);
    N4D__TRY(n4d__jc_want(jc, v, JSON_STRING, "a string"));
    n4d__jc_pop(jc);
    return N4D_OK;
}

n4d_status n4d__jc_req_name(n4d__jcheck *jc, json_t *obj, const char *key, const char *expect,
                            const char **out)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return n4d__jc_missing(jc, key, expect);
    n4d__jc_push_key(jc, key);
    N4D__TRY(n4d__jc_name(jc, v, out));
    n4d__jc_pop(jc);
    return N4D_OK;
}

n4d_status n4d__jc_req_num(n4d__jcheck *jc, json_t *obj, const char *key, const n4d__jrange *r,
                           double *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return n4d__jc_missing(jc, key, r->expect);
    n4d__jc_push_key(jc, key);
    N4D__TRY(n4d__jc_num(jc, v, r, out));
    n4d__jc_pop(jc);
    return N4D_OK;
}

n4d_status n4d__jc_req_real(n4d__jcheck *jc, json_t *obj, const char *key, double *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return n4d__jc_missing(jc, key, "a number");
    n4d__jc_push_key(jc, key);
    N4D__TRY(n4d__jc_real(jc, v, out));
    n4d__jc_pop(jc);
    return N4D_OK;
}

n4d_status n4d__jc_req_int(n4d__jcheck *jc, json_t *obj, const char *key, int64_t lo,
                           int64_t hi, const char *expect, int64_t *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return n4d__jc_missing(jc, key, expect);
    n4d__jc_push_key(jc, key);
    N4D__TRY(n4d__jc_int(jc, v, lo, hi, expect, out));
    n4d__jc_pop(jc);
    return N4D_OK;
}

n4d_status n4d__jc_req_str(n4d__jcheck *jc, json_t *obj, const char *key, const char **out)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return n4d__jc_missing(jc, key, "a string");
    n4d__jc_push_key(jc, key);
    N4D__TRY(n4d__jc_str(jc, v, "a string", out));
    n4d__jc_pop(jc);
    return N4D_OK;
}
