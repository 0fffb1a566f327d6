/* n4d models: the neuron and synapse models of the library's registry, with
 * their parameters (defaults, units, valid ranges) and state variables;
 * --markdown prints the tables of docs/models.md (a test compares them). */
#include "cli.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* The valid range of a parameter in words. */
static const char *range_text(const n4d_param_info *p, char *buf, size_t cap)
{
    const bool lo = isfinite(p->min), hi = isfinite(p->max);
    const char *lo_op = p->min_exclusive ? ">" : ">=", *hi_op = p->max_exclusive ? "<" : "<=";
    if (lo && hi)
        snprintf(buf, cap, "%s %g, %s %g", lo_op, p->min, hi_op, p->max);
    else if (lo)
        snprintf(buf, cap, "%s %g", lo_op, p->min);
    else if (hi)
        snprintf(buf, cap, "%s %g", hi_op, p->max);
    else
        snprintf(buf, cap, "any");
    return buf;
}

/* n4d models [--markdown]: every registered model from the library's
 * registry; --markdown prints the parameter tables of docs/models.md. */
int cmd_models(int argc, char **argv)
{
    bool md = false;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--markdown") == 0)
            md = true;
        else
            return usage_error("unknown option '%s' for 'n4d models' (expected --markdown)", argv[i]);
    }
    const int32_t nmod = n4d_neuron_model_count();
    for (int32_t m = 0; m < nmod; m++) {
        n4d_neuron_model_info mi;
        memset(&mi, 0, sizeof mi);
        mi.struct_size = sizeof mi;
        if (n4d_neuron_model_info_get(m, &mi))
            return EXIT_RUNTIME;
        if (md)
            printf("### `%s` (id %d)\n\n%s.\n\n| parameter | default | unit | valid | meaning |\n"
                   "|---|---|---|---|---|\n",
                   mi.name, (int)mi.id, mi.description);
        else
            printf("%s%s (id %d): %s\n  parameters:\n", m ? "\n" : "", mi.name, (int)mi.id,
                   mi.description);
        for (int32_t k = 0; k < mi.num_params; k++) {
            n4d_param_info pi;
        memset(&pi, 0, sizeof pi);
        pi.struct_size = sizeof pi;
            char range[64], name[96];
            if (n4d_neuron_model_param_info(m, k, &pi))
                return EXIT_RUNTIME;
            range_text(&pi, range, sizeof range);
            if (pi.alias)
                snprintf(name, sizeof name, md ? "`%s` (or `%s`)" : "%s (or %s)", pi.name, pi.alias);
            else
                snprintf(name, sizeof name, md ? "`%s`" : "%s", pi.name);
            if (md)
                printf("| %s | %g | %s | %s | %s |\n", name, pi.default_value, pi.unit, range,
                       pi.description);
            else
                printf("    %-28s %10g  %-6s %-16s %s\n", name, pi.default_value, pi.unit, range,
                       pi.description);
        }
        if (md)
            printf("\n| state variable | unit | initial value | meaning |\n|---|---|---|---|\n");
        else
            printf("  state variables:\n");
        for (int32_t k = 0; k < mi.num_states; k++) {
            n4d_state_info si;
        memset(&si, 0, sizeof si);
        si.struct_size = sizeof si;
            if (n4d_neuron_model_state_info(m, k, &si))
                return EXIT_RUNTIME;
            if (md)
                printf("| `%s` | %s | %s | %s |\n", si.name, si.unit, si.initial, si.description);
            else
                printf("    %-28s %-6s initial %s; %s\n", si.name, si.unit, si.initial,
                       si.description);
        }
        if (mi.has_refractory)
            printf(md ? "| `refractory` | steps | 0 | refractory steps left |\n"
                      : "    %-28s %-6s initial 0; refractory steps left\n",
                   "refractory", "steps");
        if (mi.num_presets) {
            printf(md ? "\nPresets:" : "  presets:");
            for (int32_t k = 0; k < mi.num_presets; k++)
                printf(md ? "%s `%s`" : "%s %s", k ? "," : "", n4d_neuron_model_preset(m, k));
            printf("\n");
        }
        if (md)
            printf("\n");
    }
    const int32_t nsyn = n4d_synapse_model_count();
    if (md)
        printf("### Synapse models\n\n| model | id | bytes per synapse | variables | meaning |\n"
               "|---|---|---|---|---|\n");
    else
        printf("\nsynapse models:\n");
    for (int32_t k = 0; k < nsyn; k++) {
        n4d_synapse_model_info si;
        memset(&si, 0, sizeof si);
        si.struct_size = sizeof si;
        if (n4d_synapse_model_info_get(k, &si))
            return EXIT_RUNTIME;
        if (md)
            printf("| `%s` | %d | %u | %d | %s |\n", si.name, (int)si.id, si.bytes_per_synapse,
                   (int)si.num_vars, si.description);
        else
            printf("  %s (id %d): %u bytes per synapse; %s\n", si.name, (int)si.id,
                   si.bytes_per_synapse, si.description);
    }
    return EXIT_OK;
}
