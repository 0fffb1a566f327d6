/* The JSON config loader's shared parts (config.c: the document and its
 * lattice, areas, senses and populations; config_connect.c: projections and
 * inputs; config_util.c: errors, references and distributions). Private to
 * those files. */
#ifndef N4D_CONFIG_H
#define N4D_CONFIG_H

#include "internal.h"
#include "json_check.h"

#include <jansson.h>

typedef struct area_info {
    const char *name;
    json_t *obj;
    int32_t lo[4], hi[4];
} area_info;

typedef struct cfg {
    n4d_context *ctx;
    const char *src; /* source name in messages */
    n4d__jcheck jc;  /* the raw text and the current key path */
    n4d_model *m;

    uint32_t shape[4];
    const n4d__neuron_model *default_model; /* neuron_model.type (lif if absent) */
    json_t *params_default;  /* neuron_model.params_default or NULL */
    area_info *areas;
    size_t n_areas;
    json_t *area_idx;  /* area name -> index */
    json_t *sense_idx; /* sense name -> its object */
    json_t *pop_idx;   /* population name -> index */
    json_t *proj_idx;  /* explicit projection name -> index */
    /* the synapse of projections without "synapse" (a 4DNC "plasticity"
     * section: hebb_4dnc), or NULL */
    const char *default_synapse;
    n4d_param_value default_synapse_params[N4D__MAX_SYN_PARAMS];
    uint32_t n_default_synapse_params;
    /* a 4DNC "cell_lifecycle" section: every population's lifecycle unless
     * it has its own "lifecycle" */
    n4d_lifecycle life;
    bool has_life;
} cfg;

enum { AT_VALUE = N4D__JC_AT_VALUE, AT_KEY = N4D__JC_AT_KEY };

/* The short names used throughout this file, on the config's checker. */
#define push_key(c, key) n4d__jc_push_key(&(c)->jc, (key))
#define push_idx(c, index) n4d__jc_push_idx(&(c)->jc, (index))
#define pop(c) n4d__jc_pop(&(c)->jc)
#define fail(c, at, ...) n4d__jc_fail(&(c)->jc, (at), __VA_ARGS__)
#define missing(c, key, expect) n4d__jc_missing(&(c)->jc, (key), (expect))
#define want(c, v, type, expect) n4d__jc_want(&(c)->jc, (v), (type), (expect))
#define get_num(c, v, r, out) n4d__jc_num(&(c)->jc, (v), (r), (out))
#define get_int(c, v, lo, hi, expect, out) n4d__jc_int(&(c)->jc, (v), (lo), (hi), (expect), (out))
#define get_name(c, v, out) n4d__jc_name(&(c)->jc, (v), (out))
#define get_enum(c, v, what, names, vals, out)                                                     \
    n4d__jc_enum(&(c)->jc, (v), (what), (names), (vals), (out))
#define check_keys(c, obj, allowed) n4d__jc_keys(&(c)->jc, (obj), (allowed))
#define opt_num(c, obj, key, r, out, present)                                                      \
    n4d__jc_opt_num(&(c)->jc, (obj), (key), (r), (out), (present))
#define opt_int(c, obj, key, lo, hi, expect, out, present)                                         \
    n4d__jc_opt_int(&(c)->jc, (obj), (key), (lo), (hi), (expect), (out), (present))
#define opt_bool(c, obj, key, out) n4d__jc_opt_bool(&(c)->jc, (obj), (key), (out))
#define opt_string(c, obj, key) n4d__jc_opt_string(&(c)->jc, (obj), (key))
#define req_name(c, obj, key, expect, out) n4d__jc_req_name(&(c)->jc, (obj), (key), (expect), (out))
#define type_name n4d__json_type_name
#define in_list n4d__json_in_list
#define join_list n4d__json_join_list
#define join_keys n4d__json_join_keys
#define append n4d__json_append
#define R_ANY N4D__JR_ANY
#define R_POS N4D__JR_POS
#define R_NONNEG N4D__JR_NONNEG
#define R_UNIT N4D__JR_UNIT
typedef n4d__jrange range;

/* Out of memory while loading: N4D_E_NOMEM with the source's name. */
n4d_status n4d__cfg_nomem(cfg *c);
/* Turns a failed model-API call into an error at the current path. */
n4d_status n4d__cfg_api(cfg *c, n4d_status st);
/* The name (a string at the current path) must be a key of `idx`. */
n4d_status n4d__cfg_check_ref(cfg *c, json_t *idx, const char *what, const char *name,
                              const char *none);
/* Adds name -> value (taken) to an index. */
n4d_status n4d__cfg_index_add(cfg *c, json_t *idx, const char *name, json_t *value);
/* A distribution at the current path; `nonneg`: no negative values (delays). */
n4d_status n4d__cfg_parse_dist(cfg *c, json_t *v, bool nonneg, n4d_dist *out);
/* A synapse model's parameter d at the current path: a number in d's range. */
n4d_status n4d__cfg_syn_param(cfg *c, json_t *v, const n4d__param_def *d, double *out);
/* The "projections" and "inputs" sections (config_connect.c). */
n4d_status n4d__cfg_load_projections(cfg *c, json_t *root);
n4d_status n4d__cfg_load_inputs(cfg *c, json_t *root);
/* The "neuromodulation" section (config_mod.c). */
n4d_status n4d__cfg_load_neuromodulation(cfg *c, json_t *root);

#define nomem n4d__cfg_nomem
#define api n4d__cfg_api
#define check_ref n4d__cfg_check_ref
#define index_add n4d__cfg_index_add
#define parse_dist n4d__cfg_parse_dist

#endif
