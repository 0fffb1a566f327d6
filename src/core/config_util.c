/* The JSON config loader's helpers (config.h): errors at the current key
 * path, references by name, and distributions. */
#include "config.h"

#include <math.h>
#include <stdio.h>

static const char *const DIST_KEYS[] = {"uniform", "normal", NULL};
static const char *const NORMAL_KEYS[] = {"mean", "std", "min", "max", NULL};

n4d_status n4d__cfg_nomem(cfg *c)
{
    return n4d__error(&c->ctx->hdr, N4D_E_NOMEM, "%s: out of memory while loading the config",
                      c->src);
}

n4d_status n4d__cfg_api(cfg *c, n4d_status st)
{
    if (st == N4D_OK)
        return N4D_OK;
    if (st == N4D_E_NOMEM)
        return nomem(c);
    const char *e = n4d_last_error(c->m);
    return fail(c, AT_VALUE, "%s", *e ? e : n4d_status_string(st));
}

n4d_status n4d__cfg_syn_param(cfg *c, json_t *v, const n4d__param_def *d, double *out)
{
    N4D__TRY(get_num(c, v, &R_ANY, out));
    if (!n4d__pdef_valid(d, *out)) {
        char rtext[96];
        return fail(c, AT_VALUE, "%g is out of range (expected %s)", *out,
                    n4d__pdef_range_text(d, rtext, sizeof rtext));
    }
    return N4D_OK;
}

n4d_status n4d__cfg_check_ref(cfg *c, json_t *idx, const char *what, const char *name,
                              const char *none)
{
    if (json_object_get(idx, name))
        return N4D_OK;
    char list[512];
    if (json_object_size(idx) == 0)
        return fail(c, AT_VALUE, "unknown %s \"%.64s\" (%s)", what, name, none);
    return fail(c, AT_VALUE, "unknown %s \"%.64s\" (expected one of: %s)", what, name,
                join_keys(idx, list, sizeof list));
}

n4d_status n4d__cfg_index_add(cfg *c, json_t *idx, const char *name, json_t *value)
{
    if (!value || json_object_set_new(idx, name, value) != 0)
        return nomem(c);
    return N4D_OK;
}

/* ---- DIST ---------------------------------------------------------------- */

#define DIST_EXPECT                                                                                \
    "a number, {\"uniform\": [lo, hi]} or {\"normal\": {\"mean\": m, \"std\": s, \"min\": lo, "   \
    "\"max\": hi}}"

n4d_status n4d__cfg_parse_dist(cfg *c, json_t *v, bool nonneg, n4d_dist *out)
{
    const range *r = nonneg ? &R_NONNEG : &R_ANY;
    if (json_is_number(v)) {
        double x = 0.0;
        N4D__TRY(get_num(c, v, r, &x));
        *out = n4d_dist_constant(x);
        return N4D_OK;
    }
    if (!json_is_object(v))
        return fail(c, AT_VALUE, "got %s (expected %s)", type_name(v), DIST_EXPECT);
    N4D__TRY(check_keys(c, v, DIST_KEYS));
    if (json_object_size(v) == 0)
        return fail(c, AT_VALUE, "empty distribution (expected %s)", DIST_EXPECT);
    if (json_object_size(v) > 1) {
        push_key(c, "normal");
        return fail(c, AT_KEY, "\"uniform\" and \"normal\" are exclusive (expected one of them)");
    }
    json_t *u = json_object_get(v, "uniform");
    if (u) {
        double b[2] = {0.0, 0.0};
        push_key(c, "uniform");
        if (!json_is_array(u) || json_array_size(u) != 2)
            return fail(c, AT_VALUE, "got %s%s (expected [lo, hi], two numbers)", type_name(u),
                        json_is_array(u) ? " of another size" : "");
        for (size_t i = 0; i < 2; i++) {
            push_idx(c, i);
            N4D__TRY(get_num(c, json_array_get(u, i), r, &b[i]));
            pop(c);
        }
        if (b[0] > b[1])
            return fail(c, AT_VALUE, "lo %g > hi %g (expected lo <= hi)", b[0], b[1]);
        pop(c);
        *out = n4d_dist_uniform(b[0], b[1]);
        return N4D_OK;
    }
    json_t *nv = json_object_get(v, "normal");
    push_key(c, "normal");
    N4D__TRY(want(c, nv, JSON_OBJECT, "{\"mean\": m, \"std\": s, \"min\": lo, \"max\": hi}"));
    N4D__TRY(check_keys(c, nv, NORMAL_KEYS));
    double mean = 0, sd = 0, lo = -INFINITY, hi = INFINITY;
    bool has_mean = false, has_sd = false;
    N4D__TRY(opt_num(c, nv, "mean", &R_ANY, &mean, &has_mean));
    if (!has_mean)
        return missing(c, "mean", "a number");
    N4D__TRY(opt_num(c, nv, "std", &R_NONNEG, &sd, &has_sd));
    if (!has_sd)
        return missing(c, "std", "a number >= 0");
    N4D__TRY(opt_num(c, nv, "min", r, &lo, NULL));
    N4D__TRY(opt_num(c, nv, "max", &R_ANY, &hi, NULL));
    if (lo > hi)
        return fail(c, AT_VALUE, "min %g > max %g (expected min <= max)", lo, hi);
    pop(c);
    *out = n4d_dist_normal(mean, sd, lo, hi);
    return N4D_OK;
}
