/* The "neuromodulation" section of a config (docs/config.md,
 * "Neuromodulation"): the modulators of the model and what they act on.
 * A 4D Neural Cognition section ({"enabled", "dopamine": {"baseline",
 * "decay_rate", "learning_rate_modulation"}, "serotonin": {...,
 * "inhibition_strength"}, "norepinephrine": {..., "gain_modulation"}})
 * loads as it is and binds nothing, as the reference's step applies none. */
#include "config.h"

#include <math.h>
#include <string.h>

static const char *const MOD_KEYS[] = {"baseline",
                                       "decay_rate",
                                       "level",
                                       "driven_by",
                                       "threshold_of",
                                       "inhibition_strength",
                                       "gain_of",
                                       "gain_modulation",
                                       "learning_rate_modulation",
                                       NULL};
static const char *const DRIVEN_KEYS[] = {"population", "per_spike", "delay", NULL};
static const n4d__jrange R_PER_SPIKE = {-1.0, 1.0, false, "a number in [-1, 1]"};

/* "threshold_of" / "gain_of": an array of population names. */
static n4d_status bind_list(cfg *c, json_t *obj, const char *key, const char *mod, int32_t what,
                            double strength)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return N4D_OK;
    push_key(c, key);
    N4D__TRY(want(c, v, JSON_ARRAY, "an array of population names"));
    for (size_t i = 0; i < json_array_size(v); i++) {
        const char *pop;
        push_idx(c, i);
        N4D__TRY(get_name(c, json_array_get(v, i), &pop));
        N4D__TRY(check_ref(c, c->pop_idx, "population", pop, "no populations are defined"));
        N4D__TRY(api(c, n4d_model_bind_modulator(c->m, pop, what, mod, strength)));
        pop(c);
    }
    pop(c);
    return N4D_OK;
}

static n4d_status load_modulator(cfg *c, const char *name, json_t *obj)
{
    push_key(c, name);
    N4D__TRY(want(c, obj, JSON_OBJECT, "an object of modulator settings"));
    N4D__TRY(check_keys(c, obj, MOD_KEYS));
    n4d_modulator_desc d;
    n4d_modulator_desc_init(&d);
    d.name = name;
    N4D__TRY(opt_num(c, obj, "baseline", &R_UNIT, &d.baseline, NULL));
    N4D__TRY(opt_num(c, obj, "decay_rate", &R_UNIT, &d.decay_rate, NULL));
    N4D__TRY(opt_num(c, obj, "level", &R_UNIT, &d.level, NULL));
    double unused, inhibition = 0.5, gain = 2.0;
    N4D__TRY(opt_num(c, obj, "learning_rate_modulation", &R_NONNEG, &unused, NULL));
    N4D__TRY(opt_num(c, obj, "inhibition_strength", &N4D__JR_FINITE, &inhibition, NULL));
    N4D__TRY(opt_num(c, obj, "gain_modulation", &N4D__JR_FINITE, &gain, NULL));
    json_t *drv = json_object_get(obj, "driven_by");
    if (drv) {
        push_key(c, "driven_by");
        N4D__TRY(want(c, drv, JSON_OBJECT, "an object {\"population\", \"per_spike\", \"delay\"}"));
        N4D__TRY(check_keys(c, drv, DRIVEN_KEYS));
        N4D__TRY(req_name(c, drv, "population", "the name of a population", &d.driven_by));
        push_key(c, "population");
        N4D__TRY(check_ref(c, c->pop_idx, "population", d.driven_by, "no populations are defined"));
        pop(c);
        N4D__TRY(opt_num(c, drv, "per_spike", &R_PER_SPIKE, &d.per_spike, NULL));
        bool has_delay = false;
        N4D__TRY(opt_num(c, drv, "delay", &R_POS, &d.delay, &has_delay));
        if (has_delay && d.delay < n4d_model_dt(c->m) * (1.0 - 1e-9)) {
            push_key(c, "delay");
            return fail(c, AT_VALUE, "%g ms is shorter than one step (expected >= dt = %g ms)",
                        d.delay, n4d_model_dt(c->m));
        }
        pop(c);
    }
    N4D__TRY(api(c, n4d_model_add_modulator(c->m, &d)));
    N4D__TRY(bind_list(c, obj, "threshold_of", name, N4D_MOD_THRESHOLD, inhibition));
    N4D__TRY(bind_list(c, obj, "gain_of", name, N4D_MOD_GAIN, gain));
    pop(c);
    return N4D_OK;
}

n4d_status n4d__cfg_load_neuromodulation(cfg *c, json_t *root)
{
    json_t *sec = json_object_get(root, "neuromodulation");
    if (!sec)
        return N4D_OK;
    push_key(c, "neuromodulation");
    N4D__TRY(want(c, sec, JSON_OBJECT, "an object of modulators by name"));
    int32_t enabled = 1;
    N4D__TRY(opt_bool(c, sec, "enabled", &enabled));
    if (enabled) {
        const char *key;
        json_t *v;
        json_object_foreach(sec, key, v)
        {
            if (strcmp(key, "enabled") == 0)
                continue;
            N4D__TRY(load_modulator(c, key, v));
        }
    }
    pop(c);
    return N4D_OK;
}
