/* JSON config loader: malformed configs give exact "FILE:LINE:COL: PATH:
 * message" errors, valid configs describe the expected model, 4D Neural
 * Cognition configs load with one warning, nothing leaks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h" /* to check parameter mapping on the described model */
#include "n4d.h"
#include "test_util.h"

/* ---- helpers ----------------------------------------------------------- */

/* Parameter `name` of population `i`, through the public getter. */
static double pparam(const n4d_model *m, int32_t i, const char *name)
{
    double x = NAN;
    assert_int_equal(n4d_model_get_population_param(m, m->pops[i].name, name, &x), N4D_OK);
    return x;
}

static uint64_t bytes_in_use(n4d_context *ctx)
{
    n4d_memory_stats ms;
    memset(&ms, 0, sizeof ms);
    ms.struct_size = sizeof ms;
    OK(n4d_context_memory(ctx, &ms));
    return ms.total_current;
}

static n4d_model *load_ok(n4d_context *ctx, const char *json)
{
    n4d_model *m = NULL;
    n4d_status st = n4d_model_from_json_string(ctx, json, strlen(json), "good.json", &m);
    if (st != N4D_OK)
        print_error("unexpected error: %s\n", n4d_last_error(ctx));
    OK(st);
    assert_non_null(m);
    return m;
}

static size_t count_lines(const char *s)
{
    if (!*s)
        return 0;
    size_t n = 1;
    for (; *s; s++)
        if (*s == '\n' && s[1])
            n++;
    return n;
}

/* ---- malformed configs -------------------------------------------------- */

/* Lines 1-4 of most cases: a lattice, one area A, populations E and I. */
#define HEAD                                                                                       \
    "{\n"                                                                                          \
    "  \"lattice_shape\": [6, 6, 3, 2],\n"                                                         \
    "  \"areas\": [{\"name\": \"A\", \"coord_ranges\": {\"x\": [0, 5], \"y\": [0, 5], \"z\": [0, " \
    "2], \"w\": [0, 1]}}],\n"                                                                      \
    "  \"populations\": [{\"name\": \"E\", \"area\": \"A\"}, {\"name\": \"I\", \"area\": \"A\", "  \
    "\"count\": 10}]"

#define AREA_A "{\"name\": \"A\", \"coord_ranges\": {\"x\": [0, 5], \"y\": [0, 5], \"z\": [0, 2], \"w\": [0, 1]}}"

typedef struct bad_case {
    const char *name;
    const char *json;
    const char *expect; /* substring of n4d_last_error, with line:column */
} bad_case;

static const bad_case BAD[] = {
    {"unknown rule",
     HEAD ",\n"
          "  \"projections\": [\n"
          "    {\"source\": \"E\", \"target\": \"I\", \"rule\": \"all_to_all\"},\n"
          "    {\"source\": \"E\", \"target\": \"E\",\n"
          "     \"rule\": \"fixed_prob\", \"p\": 0.1}]\n"
          "}\n",
     "bad.json:8:14: projections[1].rule: unknown rule \"fixed_prob\" (expected one of: "
     "fixed_probability, fixed_indegree, fixed_total_number, one_to_one, all_to_all, distance, explicit)"},
    {"unknown top-level key",
     HEAD ",\n"
          "  \"projetions\": []\n"
          "}\n",
     "bad.json:5:3: projetions: unknown key \"projetions\", did you mean \"projections\"? "
     "(expected one of: name, dt, seed, duration, lattice_shape,"},
    {"missing lattice_shape",
     "{\n"
     "  \"dt\": 0.1\n"
     "}\n",
     "bad.json:1:1: lattice_shape: missing key \"lattice_shape\" (expected [X, Y, Z, W], four "
     "positive integers)"},
    {"negative dt",
     "{\"lattice_shape\": [2, 2, 2, 2],\n"
     " \"dt\": -0.1}\n",
     "bad.json:2:8: dt: -0.1 is out of range (expected a number > 0)"},
    {"dt of the wrong type",
     "{\"lattice_shape\": [2, 2, 2, 2], \"dt\": \"0.1\"}",
     "bad.json:1:39: dt: got a string (expected a number > 0)"},
    {"probability above 1",
     HEAD ",\n"
          "  \"projections\": [{\"source\": \"E\", \"target\": \"I\", \"rule\": \"fixed_probability\", \"p\": 1.5}]\n"
          "}\n",
     "bad.json:5:84: projections[0].p: 1.5 is out of range (expected a number in [0, 1])"},
    {"coordinate range outside the lattice",
     "{\n"
     "  \"lattice_shape\": [6, 6, 3, 2],\n"
     "  \"areas\": [{\"name\": \"A\", \"coord_ranges\": {\"x\": [0, 6], \"y\": [0, 5], \"z\": [0, 2], \"w\": [0, 0]}}]\n"
     "}\n",
     "bad.json:3:53: areas[0].coord_ranges.x[1]: 6 is outside the lattice (expected an integer in "
     "[0, 5]: lattice_shape[0] is 6)"},
    {"lo > hi",
     "{\n"
     "  \"lattice_shape\": [6, 6, 3, 2],\n"
     "  \"areas\": [{\"name\": \"A\", \"coord_ranges\": {\"x\": [0, 5], \"y\": [0, 5], \"z\": [2, 1], \"w\": [0, 0]}}]\n"
     "}\n",
     "bad.json:3:75: areas[0].coord_ranges.z: lo 2 > hi 1 (expected lo <= hi)"},
    {"count that is not an integer",
     "{\n"
     "  \"lattice_shape\": [6, 6, 3, 2],\n"
     "  \"areas\": [" AREA_A "],\n"
     "  \"populations\": [{\"name\": \"E\", \"area\": \"A\", \"count\": 2.5}]\n"
     "}\n",
     "bad.json:4:55: populations[0].count: 2.5 is not an integer (expected an integer in [0, 216], "
     "the sites of area \"A\")"},
    {"count above the sites of the area",
     "{\n"
     "  \"lattice_shape\": [6, 6, 3, 2],\n"
     "  \"areas\": [" AREA_A "],\n"
     "  \"populations\": [{\"name\": \"E\", \"area\": \"A\", \"count\": 217}]\n"
     "}\n",
     "bad.json:4:55: populations[0].count: 217 is more than the area has sites"},
    {"unknown source population",
     HEAD ",\n"
          "  \"projections\": [{\"source\": \"X\", \"target\": \"I\", \"rule\": \"all_to_all\"}]\n"
          "}\n",
     "bad.json:5:30: projections[0].source: unknown population \"X\" (expected one of: E, I)"},
    {"unknown area of a population",
     "{\n"
     "  \"lattice_shape\": [6, 6, 3, 2],\n"
     "  \"areas\": [" AREA_A "],\n"
     "  \"populations\": [{\"name\": \"E\", \"area\": \"V1\"}]\n"
     "}\n",
     "bad.json:4:41: populations[0].area: unknown area \"V1\" (expected one of: A)"},
    {"duplicate population name",
     "{\n"
     "  \"lattice_shape\": [6, 6, 3, 2],\n"
     "  \"areas\": [" AREA_A "],\n"
     "  \"populations\": [{\"name\": \"E\", \"area\": \"A\"},\n"
     "                  {\"name\": \"E\", \"area\": \"A\"}]\n"
     "}\n",
     "bad.json:5:28: populations[1].name: duplicate population name \"E\" (expected a unique name; "
     "first used at populations[0])"},
    {"duplicate area name",
     "{\n"
     "  \"lattice_shape\": [6, 6, 3, 2],\n"
     "  \"areas\": [" AREA_A ",\n"
     "            " AREA_A "]\n"
     "}\n",
     "bad.json:4:22: areas[1].name: duplicate area name \"A\""},
    {"dimensions other than 4",
     "{\"dimensions\": 3, \"lattice_shape\": [2, 2, 2]}",
     "bad.json:1:16: dimensions: 3 dimensions are not supported (expected 4)"},
    {"empty lattice",
     "{\"lattice_shape\": [4, 0, 4, 4]}",
     "bad.json:1:23: lattice_shape[1]: 0 is out of range (expected a positive integer)"},
    {"lattice_shape of 3 elements",
     "{\n  \"lattice_shape\": [4, 4, 4]\n}",
     "bad.json:2:20: lattice_shape: 3 elements (expected [X, Y, Z, W], four positive integers)"},
    {"duplicate key",
     "{\n"
     "  \"lattice_shape\": [6, 6, 3, 2],\n"
     "  \"areas\": [{\"name\": \"A\", \"name\": \"B\"}]\n"
     "}\n",
     "bad.json:3:27: areas[0].name: duplicate key \"name\" (expected each key once per object)"},
    {"duplicate key in an array element",
     HEAD ",\n"
          "  \"projections\": [{\"source\": \"E\", \"target\": \"I\", \"rule\": \"all_to_all\"},\n"
          "    {\"source\": \"E\", \"target\": \"E\", \"rule\": \"all_to_all\", \"weight\": [1], \"weight\": 2}]\n"
          "}\n",
     "bad.json:6:73: projections[1].weight: duplicate key \"weight\""},
    {"duplicate key in a 4DNC section",
     "{\"lattice_shape\": [1, 1, 1, 1],\n"
     " \"plasticity\": {\"short_term\": {\"enabled\": true}, \"homeostatic\": {\"a\": [[1], {}],\n"
     "     \"enabled\": true, \"enabled\": false}}}",
     "bad.json:3:23: plasticity.homeostatic.enabled: duplicate key \"enabled\""},
    {"duplicate top-level key",
     "{\"dt\": 1, \"dt\": 2}",
     "bad.json:1:11: dt: duplicate key \"dt\""},
    {"JSON syntax error",
     "{\n"
     "  \"lattice_shape\": [6, 6, 3, 2],\n"
     "  \"dt\": ,\n"
     "}\n",
     "bad.json:3:9: invalid JSON: unexpected token near ','"},
    {"unknown neuron parameter",
     "{\n"
     "  \"lattice_shape\": [6, 6, 3, 2],\n"
     "  \"neuron_model\": {\"type\": \"LIF\", \"params_default\": {\"tau_m\": 20.0, \"tau_mem\": 10}}\n"
     "}\n",
     "bad.json:3:69: neuron_model.params_default.tau_mem: unknown parameter \"tau_mem\" of model "
     "\"lif\", did you mean \"tau_m\"? (expected one of: tau_m, v_rest, v_reset, v_threshold, "
     "t_ref, i_e)"},
    {"parameter of another model",
     "{\n"
     "  \"lattice_shape\": [6, 6, 3, 2],\n"
     "  \"neuron_model\": {\"type\": \"izhikevich\", \"params_default\": {\"tau_m\": 20.0}}\n"
     "}\n",
     "bad.json:3:61: neuron_model.params_default.tau_m: unknown parameter \"tau_m\" of model "
     "\"izhikevich\" (expected one of: a, b, c, d, v_peak, i_e)"},
    {"unknown synapse model",
     "{\n"
     "  \"lattice_shape\": [6, 6, 3, 2],\n"
     "  \"areas\": [" AREA_A "],\n"
     "  \"populations\": [{\"name\": \"E\", \"area\": \"A\"}],\n"
     "  \"projections\": [{\"source\": \"E\", \"target\": \"E\", \"rule\": \"fixed_probability\",\n"
     "                   \"p\": 0.1,\n"
     "                   \"synapse\": {\"model\": \"stdp_triplet\"}}]\n"
     "}\n",
     "bad.json:7:41: projections[0].synapse.model: unknown synapse model \"stdp_triplet\" (expected one "
     "of: static, hebb_4dnc, stdp, tsodyks, stdp_dopamine)"},
    {"stdp_dopamine without dopamine",
     "{\n"
     "  \"lattice_shape\": [6, 6, 3, 2],\n"
     "  \"areas\": [" AREA_A "],\n"
     "  \"populations\": [{\"name\": \"E\", \"area\": \"A\"}],\n"
     "  \"projections\": [{\"source\": \"E\", \"target\": \"E\", \"rule\": \"fixed_probability\",\n"
     "                   \"p\": 0.1,\n"
     "                   \"synapse\": {\"model\": \"stdp_dopamine\"}}]\n"
     "}\n",
     "bad.json:7:41: projections[0].synapse.model: stdp_dopamine reads the modulator \"dopamine\", "
     "which the config does not declare (add \"neuromodulation\": {\"dopamine\": {...}})"},
    {"refractory_period and t_ref",
     "{\n"
     "  \"lattice_shape\": [6, 6, 3, 2],\n"
     "  \"neuron_model\": {\"params_default\": {\"refractory_period\": 2, \"t_ref\": 3}}\n"
     "}\n",
     "bad.json:3:39: neuron_model.params_default.refractory_period: \"refractory_period\" is an "
     "alias of \"t_ref\", both are given (expected one of them)"},
    {"negative tau_m",
     "{\n"
     "  \"lattice_shape\": [6, 6, 3, 2],\n"
     "  \"areas\": [" AREA_A "],\n"
     "  \"populations\": [{\"name\": \"E\", \"area\": \"A\", \"params\": {\"tau_m\": -1}}]\n"
     "}\n",
     "bad.json:4:66: populations[0].params.tau_m: -1 is out of range (expected a number > 0, parameter of model \"lif\")"},
    {"unknown neuron model",
     "{\n"
     "  \"lattice_shape\": [6, 6, 3, 2],\n"
     "  \"neuron_model\": {\"type\": \"HH\"}\n"
     "}\n",
     "bad.json:3:28: neuron_model.type: unknown neuron model \"HH\" (expected one of: lif, "
     "lif_exp, izhikevich, lif_cond_exp"}, /* then any model added later */
    {"normal with a negative std",
     HEAD ",\n"
          "  \"projections\": [{\"source\": \"E\", \"target\": \"I\", \"rule\": \"all_to_all\",\n"
          "                   \"weight\": {\"normal\": {\"mean\": 1, \"std\": -0.5}}}]\n"
          "}\n",
     "bad.json:6:60: projections[0].weight.normal.std: -0.5 is out of range (expected a number >= "
     "0)"},
    {"uniform with lo > hi",
     HEAD ",\n"
          "  \"projections\": [{\"source\": \"E\", \"target\": \"I\", \"rule\": \"all_to_all\",\n"
          "                   \"delay\": {\"uniform\": [3, 1]}}]\n"
          "}\n",
     "bad.json:6:41: projections[0].delay.uniform: lo 3 > hi 1 (expected lo <= hi)"},
    {"negative delay",
     HEAD ",\n"
          "  \"projections\": [{\"source\": \"E\", \"target\": \"I\", \"rule\": \"all_to_all\", \"delay\": -1}]\n"
          "}\n",
     "bad.json:5:81: projections[0].delay: -1 is out of range (expected a number >= 0)"},
    {"distribution with an unknown form",
     HEAD ",\n"
          "  \"projections\": [{\"source\": \"E\", \"target\": \"I\", \"rule\": \"all_to_all\",\n"
          "                   \"weight\": {\"gauss\": 1}}]\n"
          "}\n",
     "bad.json:6:31: projections[0].weight.gauss: unknown key \"gauss\" (expected one of: uniform, "
     "normal)"},
    {"rule parameter of another rule",
     HEAD ",\n"
          "  \"projections\": [{\"source\": \"E\", \"target\": \"I\", \"rule\": \"fixed_probability\",\n"
          "                   \"p\": 0.1, \"indegree\": 10}]\n"
          "}\n",
     "bad.json:6:30: projections[0].indegree: \"indegree\" does not apply to rule "
     "\"fixed_probability\" (expected for it: p)"},
    {"missing p",
     HEAD ",\n"
          "  \"projections\": [{\"source\": \"E\", \"target\": \"I\", \"rule\": \"fixed_probability\"}]\n"
          "}\n",
     "bad.json:5:19: projections[0].p: missing key \"p\" (expected a probability in [0, 1])"},
    {"distance rule without sigma",
     HEAD ",\n"
          "  \"projections\": [{\"source\": \"E\", \"target\": \"I\", \"rule\": \"distance\", \"p\": 0.5}]\n"
          "}\n",
     "bad.json:5:19: projections[0].sigma: missing key \"sigma\""},
    {"two unnamed projections between the same populations",
     HEAD ",\n"
          "  \"projections\": [{\"source\": \"E\", \"target\": \"I\", \"rule\": \"all_to_all\"},\n"
          "                  {\"source\": \"E\", \"target\": \"I\", \"rule\": \"one_to_one\"}]\n"
          "}\n",
     "bad.json:6:19: projections[1]: duplicate projection name \"E->I\", the default name of an "
     "unnamed projection (expected a unique \"name\"; first used at projections[0])"},
    {"preset on a LIF population",
     "{\n"
     "  \"lattice_shape\": [6, 6, 3, 2],\n"
     "  \"areas\": [" AREA_A "],\n"
     "  \"populations\": [{\"name\": \"E\", \"area\": \"A\", \"preset\": \"fast_spiking\"}]\n"
     "}\n",
     "bad.json:4:46: populations[0].preset: model \"lif\" has no presets (expected no \"preset\" "
     "for this model)"},
    {"unknown Izhikevich preset",
     "{\n"
     "  \"lattice_shape\": [6, 6, 3, 2],\n"
     "  \"areas\": [" AREA_A "],\n"
     "  \"populations\": [{\"name\": \"E\", \"area\": \"A\", \"model\": \"izhikevich\", \"preset\": \"chattering\"}]\n"
     "}\n",
     "bad.json:4:79: populations[0].preset: unknown preset \"chattering\" (expected one of: "
     "regular_spiking, fast_spiking, bursting, intrinsic_bursting)"},
    {"count and density",
     "{\n"
     "  \"lattice_shape\": [6, 6, 3, 2],\n"
     "  \"areas\": [" AREA_A "],\n"
     "  \"populations\": [{\"name\": \"E\", \"area\": \"A\", \"count\": 5, \"density\": 0.5}]\n"
     "}\n",
     "bad.json:4:58: populations[0].density: \"count\" and \"density\" are exclusive (expected one "
     "of them)"},
    {"density above 1",
     "{\n"
     "  \"lattice_shape\": [6, 6, 3, 2],\n"
     "  \"neuron_density\": 1.2\n"
     "}\n",
     "bad.json:3:21: neuron_density: 1.2 is out of range (expected a number in [0, 1])"},
    {"sense on an unknown area",
     "{\n"
     "  \"lattice_shape\": [6, 6, 3, 2],\n"
     "  \"areas\": [" AREA_A "],\n"
     "  \"senses\": {\"vision\": {\"areal\": \"V1_like\", \"input_size\": [6, 6]}}\n"
     "}\n",
     "bad.json:4:34: senses.vision.areal: unknown area \"V1_like\" (expected one of: A)"},
    {"area naming an unknown sense",
     "{\n"
     "  \"lattice_shape\": [6, 6, 3, 2],\n"
     "  \"areas\": [{\"name\": \"A\", \"sense\": \"vison\", \"coord_ranges\": {\"x\": [0, 5], \"y\": [0, 5], \"z\": [0, 2], \"w\": [0, 0]}}],\n"
     "  \"senses\": {\"vision\": {\"areal\": \"A\", \"input_size\": [6, 6]}}\n"
     "}\n",
     "bad.json:3:36: areas[0].sense: unknown sense \"vison\" (expected one of: vision)"},
    {"sense w_index outside its area",
     "{\n"
     "  \"lattice_shape\": [6, 6, 3, 2],\n"
     "  \"areas\": [{\"name\": \"A\", \"coord_ranges\": {\"x\": [0, 5], \"y\": [0, 5], \"z\": [0, 2], \"w\": [0, 0]}}],\n"
     "  \"senses\": {\"vision\": {\"areal\": \"A\", \"w_index\": 1}}\n"
     "}\n",
     "bad.json:4:50: senses.vision.w_index: 1 is outside area \"A\" (expected its w range 0..0)"},
    {"input window ending before it starts",
     HEAD ",\n"
          "  \"inputs\": [{\"type\": \"dc\", \"target\": \"E\", \"amplitude\": 2, \"start\": 10, \"stop\": 5}]\n"
          "}\n",
     "bad.json:5:81: inputs[0].stop: 5 is before start 10 (expected stop >= start)"},
    {"Poisson input without a rate",
     HEAD ",\n"
          "  \"inputs\": [{\"type\": \"poisson\", \"target\": \"E\"}]\n"
          "}\n",
     "bad.json:5:14: inputs[0].rate: missing key \"rate\" (expected a rate >= 0 in Hz)"},
    {"amplitude on a Poisson input",
     HEAD ",\n"
          "  \"inputs\": [{\"type\": \"poisson\", \"target\": \"E\", \"rate\": 5, \"amplitude\": 1}]\n"
          "}\n",
     "bad.json:5:60: inputs[0].amplitude: \"amplitude\" does not apply to input type \"poisson\" "
     "(expected for it: rate, weight, n_sources, sampling)"},
    {"allow_autapses not a boolean",
     HEAD ",\n"
          "  \"projections\": [{\"source\": \"E\", \"target\": \"I\", \"rule\": \"all_to_all\", \"allow_autapses\": 0}]\n"
          "}\n",
     "bad.json:5:90: projections[0].allow_autapses: got an integer (expected true or false)"},
    {"missing coordinate axis",
     "{\n"
     "  \"lattice_shape\": [6, 6, 3, 2],\n"
     "  \"areas\": [{\"name\": \"A\", \"coord_ranges\": {\"x\": [0, 5], \"y\": [0, 5], \"z\": [0, 2]}}]\n"
     "}\n",
     "bad.json:3:43: areas[0].coord_ranges.w: missing key \"w\""},
    {"root that is not an object",
     "[1, 2]",
     "bad.json:1:1: (root): got an array (expected an object)"},
    {"saved 4D Neural Cognition model",
     "{\"config\": {\"lattice_shape\": [2, 2, 2, 2]},\n \"neurons\": [], \"synapses\": []}",
     "bad.json:1:2: config: this is a saved 4D Neural Cognition model, not a config"},
    {"error from the model API, mapped to the key",
     "{\"lattice_shape\": [2, 2, 2, 2],\n  \"dt\": 2000}",
     "bad.json:2:9: dt: dt 2000"},
    {"column counted in characters (UTF-8)",
     "{\"name\": \"\xc3\xa9t\xc3\xa9\", \"lattice_shape\": [2, 2, 2, 2], \"dt\": -1}",
     "bad.json:1:54: dt: -1 is out of range"},
};

static void test_malformed(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    OK(n4d_context_create(NULL, &ctx));
    int failures = 0;
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        n4d_model *m = (n4d_model *)(uintptr_t)1;
        n4d_status st =
            n4d_model_from_json_string(ctx, BAD[i].json, strlen(BAD[i].json), "bad.json", &m);
        const char *err = n4d_last_error(ctx);
        if (st != N4D_E_CONFIG || m != NULL || !strstr(err, BAD[i].expect)) {
            print_error("case \"%s\": status %d\n  got:      %s\n  expected: %s\n", BAD[i].name,
                        (int)st, err, BAD[i].expect);
            failures++;
        }
        if (bytes_in_use(ctx) != 0) {
            print_error("case \"%s\": %llu bytes leaked\n", BAD[i].name,
                        (unsigned long long)bytes_in_use(ctx));
            failures++;
        }
    }
    n4d_context_destroy(ctx);
    assert_int_equal(failures, 0);
    assert_true(sizeof BAD / sizeof BAD[0] >= 20);
}

/* ---- valid configs ------------------------------------------------------ */

static const char *FULL =
    "{\n"
    "  \"name\": \"two populations\",\n"
    "  \"dt\": 0.5,\n"
    "  \"seed\": 42,\n"
    "  \"duration\": 250,\n"
    "  \"lattice_shape\": [10, 8, 4, 2],\n"
    "  \"dimensions\": 4,\n"
    "  \"neuron_model\": {\"type\": \"lif_exp\", \"params_default\": {\"tau_m\": 10, \"t_ref\": 2}},\n"
    "  \"areas\": [\n"
    "    {\"name\": \"L1\", \"coord_ranges\": {\"x\": [0, 9], \"y\": [0, 7], \"z\": [0, 3], \"w\": [0, 0]}},\n"
    "    {\"name\": \"L2\", \"coord_ranges\": {\"x\": [0, 4], \"y\": [0, 3], \"z\": [0, 1], \"w\": [1, 1]}}\n"
    "  ],\n"
    "  \"senses\": {\"touch\": {\"areal\": \"L2\", \"w_index\": 1}},\n"
    "  \"populations\": [\n"
    "    {\"name\": \"exc\", \"area\": \"L1\", \"density\": 0.5, \"params\": {\"v_rest\": -60},\n"
    "     \"v_init\": {\"uniform\": [-70, -55]}},\n"
    "    {\"name\": \"inh\", \"area\": \"L1\", \"count\": 20, \"model\": \"lif\",\n"
    "     \"params\": {\"refractory_period\": 1.5}},\n"
    "    {\"name\": \"burst\", \"area\": \"L2\", \"model\": \"izhikevich\", \"preset\": \"bursting\",\n"
    "     \"density\": 1},\n"
    "    {\"name\": \"coba\", \"area\": \"L2\", \"model\": \"lif_cond_exp\", \"params\": {\"e_in\": -75}}\n"
    "  ],\n"
    "  \"projections\": [\n"
    "    {\"name\": \"ee\", \"source\": \"exc\", \"target\": \"exc\", \"rule\": \"fixed_probability\",\n"
    "     \"p\": 0.1, \"weight\": {\"normal\": {\"mean\": 0.5, \"std\": 0.1, \"min\": 0}},\n"
    "     \"delay\": {\"uniform\": [1, 3]}, \"allow_autapses\": false},\n"
    "    {\"source\": \"inh\", \"target\": \"exc\", \"rule\": \"fixed_indegree\", \"indegree\": 5,\n"
    "     \"weight\": 2, \"type\": \"inhibitory\", \"allow_multapses\": false},\n"
    "    {\"source\": \"exc\", \"target\": \"inh\", \"rule\": \"fixed_total_number\", \"n\": 100},\n"
    "    {\"source\": \"burst\", \"target\": \"burst\", \"rule\": \"one_to_one\", \"delay\": 2},\n"
    "    {\"source\": \"exc\", \"target\": \"burst\", \"rule\": \"all_to_all\", \"weight\": 0.1},\n"
    "    {\"name\": \"near\", \"source\": \"exc\", \"target\": \"exc\", \"rule\": \"distance\",\n"
    "     \"p\": 0.8, \"kernel\": \"exponential\", \"sigma\": 1.5, \"cutoff\": 4}\n"
    "  ],\n"
    "  \"inputs\": [\n"
    "    {\"type\": \"dc\", \"target\": \"exc\", \"amplitude\": 3.5, \"start\": 10, \"stop\": 50},\n"
    "    {\"type\": \"poisson\", \"target\": \"inh\", \"rate\": 20, \"weight\": 0.4, \"n_sources\": 8}\n"
    "  ]\n"
    "}\n";

static void test_full_config(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    OK(n4d_context_create(NULL, &ctx));
    n4d_model *m = load_ok(ctx, FULL);

    uint32_t shape[4];
    OK(n4d_model_lattice(m, shape));
    assert_int_equal(shape[0], 10);
    assert_int_equal(shape[1], 8);
    assert_int_equal(shape[2], 4);
    assert_int_equal(shape[3], 2);
    assert_true(n4d_model_dt(m) == 0.5);
    assert_true(n4d_model_seed(m) == 42);
    assert_true(n4d_model_default_duration(m) == 250.0);
    assert_int_equal(n4d_model_num_populations(m), 4);
    assert_int_equal(n4d_model_num_projections(m), 6);
    assert_string_equal(n4d_model_warnings(m), "");

    n4d_population_info info;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    OK(n4d_model_population_info(m, 1, &info));
    assert_string_equal(info.name, "inh");
    assert_string_equal(info.area, "L1");
    assert_int_equal(info.model, N4D_NEURON_LIF);
    assert_int_equal(n4d_model_find_population(m, "burst"), 2);

    /* parameter mapping, on the described model */
    const n4d__population *p = m->pops;
    assert_int_equal(p[0].model, N4D_NEURON_LIF_EXP);
    assert_true(pparam(m, 0, "tau_m") == 10.0);  /* params_default (same model) */
    assert_true(pparam(m, 0, "t_ref") == 2.0);   /* "t_ref" alias */
    assert_true(pparam(m, 0, "v_rest") == -60.0); /* own params */
    assert_true(pparam(m, 0, "tau_syn_ex") == 5.0);
    assert_int_equal(p[0].placement, N4D_PLACE_DENSITY);
    assert_true(p[0].density == 0.5);
    assert_int_equal(p[0].v_init.kind, N4D_DIST_UNIFORM);
    assert_true(p[0].v_init.lo == -70.0 && p[0].v_init.hi == -55.0);

    assert_true(pparam(m, 1, "tau_m") == 20.0); /* lif defaults: params_default is lif_exp */
    assert_true(pparam(m, 1, "t_ref") == 1.5);  /* "refractory_period" */
    assert_int_equal(p[1].placement, N4D_PLACE_COUNT);
    assert_true(p[1].count == 20);
    assert_int_equal(p[1].v_init.kind, N4D_DIST_CONSTANT);
    assert_true(p[1].v_init.value == -65.0);

    assert_int_equal(p[2].model, N4D_NEURON_IZHIKEVICH);
    assert_true(pparam(m, 2, "c") == -50.0 && pparam(m, 2, "d") == 2.0); /* bursting preset */
    assert_int_equal(p[2].placement, N4D_PLACE_ALL);
    assert_true(p[2].v_init.value == -50.0); /* izhikevich: c */

    assert_int_equal(p[3].model, N4D_NEURON_LIF_COND_EXP);
    assert_true(pparam(m, 3, "e_in") == -75.0 && pparam(m, 3, "e_ex") == 0.0);
    assert_true(pparam(m, 3, "v_rest") == -60.0);

    const n4d__projection *pr = m->projs;
    assert_string_equal(pr[0].name, "ee");
    assert_int_equal(pr[0].d.rule, N4D_RULE_FIXED_PROBABILITY);
    assert_true(pr[0].d.p == 0.1);
    assert_int_equal(pr[0].d.weight.kind, N4D_DIST_NORMAL);
    assert_true(pr[0].d.weight.value == 0.5 && pr[0].d.weight.std == 0.1);
    assert_true(pr[0].d.weight.lo == 0.0 && isinf(pr[0].d.weight.hi) && pr[0].d.weight.hi > 0);
    assert_int_equal(pr[0].d.delay.kind, N4D_DIST_UNIFORM);
    assert_int_equal(pr[0].d.allow_autapses, 0);
    assert_int_equal(pr[0].d.syn_type, N4D_SYN_AUTO);
    assert_string_equal(pr[1].name, "inh->exc");
    assert_int_equal(pr[1].d.rule, N4D_RULE_FIXED_INDEGREE);
    assert_true(pr[1].d.n == 5);
    assert_int_equal(pr[1].d.syn_type, N4D_SYN_INHIBITORY);
    assert_int_equal(pr[1].d.allow_multapses, 0);
    assert_true(pr[2].d.n == 100);
    assert_int_equal(pr[3].d.rule, N4D_RULE_ONE_TO_ONE);
    assert_true(pr[3].d.delay.value == 2.0);
    assert_int_equal(pr[5].d.rule, N4D_RULE_DISTANCE);
    assert_int_equal(pr[5].d.kernel, N4D_KERNEL_EXPONENTIAL);
    assert_true(pr[5].d.sigma == 1.5 && pr[5].d.cutoff == 4.0 && pr[5].d.p == 0.8);

    assert_int_equal((int)m->n_inputs, 2);
    assert_int_equal(m->inputs[0].kind, N4D_INPUT_DC);
    assert_true(m->inputs[0].amplitude == 3.5);
    assert_true(m->inputs[0].start == 10.0 && m->inputs[0].stop == 50.0);
    assert_int_equal(m->inputs[1].kind, N4D_INPUT_POISSON);
    assert_true(m->inputs[1].rate == 20.0 && m->inputs[1].weight == 0.4);
    assert_int_equal(m->inputs[1].n_sources, 8);
    assert_true(isinf(m->inputs[1].stop));

    assert_int_equal((int)m->n_senses, 1);
    assert_int_equal(m->senses[0].rows, 5); /* default input_size: the area's x, y extents */
    assert_int_equal(m->senses[0].cols, 4);

    n4d_model_destroy(m);
    assert_true(bytes_in_use(ctx) == 0);
    n4d_context_destroy(ctx);
}

/* A 4D Neural Cognition brain_base_model-style config (as in its saved
 * models' "config" object). */
static const char *NC_CONFIG =
    "{\n"
    "  \"model_version\": 1,\n"
    "  \"dimensions\": 4,\n"
    "  \"lattice_shape\": [6, 6, 3, 2],\n"
    "  \"neuron_model\": {\n"
    "    \"type\": \"LIF\",\n"
    "    \"params_default\": {\"tau_m\": 20.0, \"v_rest\": -65.0, \"v_reset\": -70.0,\n"
    "                       \"v_threshold\": -50.0, \"refractory_period\": 5.0}\n"
    "  },\n"
    "  \"cell_lifecycle\": {\"enable_death\": false, \"enable_reproduction\": false,\n"
    "                     \"max_age\": 100000, \"health_decay_per_step\": 0.0001,\n"
    "                     \"mutation_std_params\": 0.05, \"mutation_std_weights\": 0.02},\n"
    "  \"plasticity\": {\"rule\": \"hebb_like\", \"learning_rate\": 0.001, \"weight_min\": -1.0,\n"
    "                 \"weight_max\": 1.0, \"weight_decay\": 1e-05,\n"
    "                 \"homeostatic\": {\"enabled\": true, \"target_rate\": 5.0}},\n"
    "  \"neuromodulation\": {\"enabled\": true, \"dopamine\": {\"baseline\": 0.5}},\n"
    "  \"senses\": {\n"
    "    \"vision\": {\"areal\": \"V1_like\", \"w_index\": 0, \"input_size\": [6, 6]},\n"
    "    \"digital\": {\"areal\": \"A1_like\", \"w_index\": 1,\n"
    "                \"input_description\": \"Beliebige digitale Datenstr\xc3\xb6me\", \"input_size\": [6, 6]}\n"
    "  },\n"
    "  \"areas\": [\n"
    "    {\"name\": \"V1_like\", \"sense\": \"vision\",\n"
    "     \"coord_ranges\": {\"x\": [0, 5], \"y\": [0, 5], \"z\": [0, 2], \"w\": [0, 0]}},\n"
    "    {\"name\": \"A1_like\", \"sense\": \"digital\",\n"
    "     \"coord_ranges\": {\"x\": [0, 5], \"y\": [0, 5], \"z\": [0, 2], \"w\": [1, 1]}}\n"
    "  ]\n"
    "}\n";

static void test_4dnc_config(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    OK(n4d_context_create(NULL, &ctx));
    n4d_model *m = NULL;
    assert_int_equal(n4d_model_from_json_string(ctx, NC_CONFIG, strlen(NC_CONFIG), "config.json", &m),
                     N4D_OK);
    assert_non_null(m);
    const char *w = n4d_model_warnings(m);
    assert_int_equal(count_lines(w), 1);
    /* every 4DNC section is read now */
    assert_null(strstr(w, "sections not implemented yet"));
    /* the neuromodulation section declares its modulators (binding nothing) */
    assert_int_equal(n4d_model_num_modulators(m), 1);
    assert_string_equal(n4d_model_modulator_name(m, 0), "dopamine");
    /* cell_lifecycle is read (docs/lifecycle.md): off here */
    n4d_lifecycle lc;
    assert_int_equal(n4d_model_get_population_lifecycle(m, "V1_like", &lc), N4D_OK);
    assert_true(lc.enable_death == 0 && lc.max_age == 100000 && lc.mutation_std_weights == 0.02);
    /* the plasticity section is hebb_4dnc (its homeostatic part is not simulated) */
    assert_non_null(strstr(w, "config.json: plasticity.homeostatic is ignored, as the reference"));

    /* one population per area, named as the area, every site */
    assert_int_equal(n4d_model_num_populations(m), 2);
    n4d_population_info info;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    OK(n4d_model_population_info(m, 0, &info));
    assert_string_equal(info.name, "V1_like");
    assert_string_equal(info.area, "V1_like");
    assert_int_equal(info.model, N4D_NEURON_LIF);
    assert_int_equal(n4d_model_find_population(m, "A1_like"), 1);
    assert_int_equal(n4d_model_num_projections(m), 0);
    assert_int_equal(m->pops[0].placement, N4D_PLACE_ALL);
    assert_true(pparam(m, 0, "t_ref") == 5.0);
    assert_true(pparam(m, 0, "v_reset") == -70.0);
    assert_int_equal((int)m->n_senses, 2);
    assert_true(n4d_model_default_duration(m) == 0.0);
    assert_true(n4d_model_dt(m) == 1.0); /* 4DNC steps are 1 ms */

    OK(n4d_model_build(m));
    assert_true(n4d_model_num_neurons(m) == 216);
    n4d_model_destroy(m);
    assert_true(bytes_in_use(ctx) == 0);
    n4d_context_destroy(ctx);
}

/* hebb_4dnc clips weights outside its bounds at the first spike, as the
 * reference does: the config says so, once per projection, naming it. */
static void test_hebb_bounds_warning(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    OK(n4d_context_create(NULL, &ctx));
    const char *head =
        "{\"lattice_shape\": [4, 4, 1, 1],\n"
        " \"plasticity\": {\"learning_rate\": 0.01, \"weight_min\": -1, \"weight_max\": 1},\n"
        " \"areas\": [{\"name\": \"a\",\n"
        "   \"coord_ranges\": {\"x\": [0, 3], \"y\": [0, 3], \"z\": [0, 0], \"w\": [0, 0]}}],\n"
        " \"projections\": [";
    char json[1024];
    snprintf(json, sizeof json, "%s%s", head,
             "{\"name\": \"in\", \"source\": \"a\", \"target\": \"a\", \"rule\": \"all_to_all\",\n"
             "  \"weight\": 0.5},\n"
             " {\"name\": \"big\", \"source\": \"a\", \"target\": \"a\", \"rule\": \"all_to_all\",\n"
             "  \"weight\": {\"uniform\": [0.0, 3.0]}}]}");
    n4d_model *m = load_ok(ctx, json);
    assert_string_equal(n4d_model_warnings(m),
                        "good.json: projection \"big\": weights in [0, 3] outside hebb_4dnc's "
                        "[weight_min, weight_max] = [-1, 1]; the first spike of each source clips "
                        "it, as 4D Neural Cognition does");
    n4d_model_destroy(m);
    assert_true(bytes_in_use(ctx) == 0);
    n4d_context_destroy(ctx);
}

/* No "populations": density from the area, else "neuron_density"; only the
 * present 4DNC sections are named; keys ignored because of "populations"
 * are reported. */
static void test_implicit_populations(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    OK(n4d_context_create(NULL, &ctx));
    n4d_model *m = load_ok(
        ctx, "{\"lattice_shape\": [4, 4, 1, 2], \"neuron_density\": 0.25,\n"
             " \"neuron_model\": {\"type\": \"izhikevich\", \"params_default\": {\"a\": 0.05}},\n"
             " \"plasticity\": {},\n"
             " \"areas\": [{\"name\": \"a\", \"density\": 0.5,\n"
             "             \"coord_ranges\": {\"x\": [0, 3], \"y\": [0, 3], \"z\": [0, 0], \"w\": [0, 0]}},\n"
             "           {\"name\": \"b\",\n"
             "             \"coord_ranges\": {\"x\": [0, 3], \"y\": [0, 3], \"z\": [0, 0], \"w\": [1, 1]}}]}");
    assert_int_equal(n4d_model_num_populations(m), 2);
    assert_int_equal(m->pops[0].model, N4D_NEURON_IZHIKEVICH);
    assert_true(pparam(m, 0, "a") == 0.05);
    assert_int_equal(m->pops[0].placement, N4D_PLACE_DENSITY);
    assert_true(m->pops[0].density == 0.5);
    assert_true(m->pops[1].density == 0.25);
    assert_string_equal(n4d_model_warnings(m), ""); /* an empty plasticity section: hebb_4dnc */
    n4d_model_destroy(m);

    m = load_ok(ctx, "{\"lattice_shape\": [4, 4, 1, 1], \"neuron_density\": 0.25,\n"
                     " \"areas\": [{\"name\": \"a\", \"density\": 0.5,\n"
                     "   \"coord_ranges\": {\"x\": [0, 3], \"y\": [0, 3], \"z\": [0, 0], \"w\": [0, 0]}}],\n"
                     " \"populations\": [{\"name\": \"p\", \"area\": \"a\", \"count\": 3.0}]}");
    assert_int_equal(n4d_model_num_populations(m), 1);
    assert_true(m->pops[0].count == 3);
    assert_string_equal(n4d_model_warnings(m),
                        "good.json: used only when \"populations\" is absent, ignored: "
                        "neuron_density, areas[0].density");
    n4d_model_destroy(m);

    /* the smallest config */
    m = load_ok(ctx, "{\"lattice_shape\": [1, 1, 1, 1]}");
    assert_int_equal(n4d_model_num_populations(m), 0);
    assert_true(n4d_model_dt(m) == 0.1);
    assert_string_equal(n4d_model_warnings(m), "");
    n4d_model_destroy(m);
    assert_true(bytes_in_use(ctx) == 0);
    n4d_context_destroy(ctx);
}

/* Keys with escapes are found by the position finder. */
static void test_escaped_keys(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    OK(n4d_context_create(NULL, &ctx));
    const char *json = "{\"lattice_shape\": [2, 2, 2, 2],\n"
                       " \"senses\": {\"s\\u00e9nse\\\"1\": {\"areal\": \"nowhere\"}}}";
    n4d_model *m = NULL;
    assert_int_equal(n4d_model_from_json_string(ctx, json, strlen(json), NULL, &m), N4D_E_CONFIG);
    assert_null(m);
    assert_non_null(strstr(n4d_last_error(ctx), "<string>:2:40: senses.s\xc3\xa9nse\"1.areal: unknown "
                                                "area \"nowhere\" (no areas are defined)"));
    n4d_context_destroy(ctx);
}

static void test_files(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    OK(n4d_context_create(NULL, &ctx));
    n4d_model *m = (n4d_model *)(uintptr_t)1;

    const char *nofile = "/nonexistent-dir/n4d/missing.json";
    assert_int_equal(n4d_model_from_json_file(ctx, nofile, &m), N4D_E_IO);
    assert_null(m);
    assert_non_null(strstr(n4d_last_error(ctx), nofile));
    assert_non_null(strstr(n4d_last_error(ctx), "No such file or directory"));

#ifdef N4D_BINARY_DIR
    char path[] = N4D_BINARY_DIR "/n4d_test_config_XXXXXX";
#else
    char path[] = "/tmp/n4d_test_config_XXXXXX";
#endif
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    fputs(NC_CONFIG, f);
    fclose(f);
    OK(n4d_model_from_json_file(ctx, path, &m));
    assert_non_null(m);
    char expect[1024];
    snprintf(expect, sizeof expect, "%s: plasticity.", path); /* warnings name the file */
    assert_non_null(strstr(n4d_model_warnings(m), expect));
    n4d_model_destroy(m);

    f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\n  \"lattice_shape\": [2, 2, 2, 2],\n  \"seed\": -3\n}\n", f);
    fclose(f);
    assert_int_equal(n4d_model_from_json_file(ctx, path, &m), N4D_E_CONFIG);
    assert_null(m);
    snprintf(expect, sizeof expect, "%s:3:11: seed: -3 is out of range (expected an integer >= 0)",
             path);
    assert_non_null(strstr(n4d_last_error(ctx), expect));
    unlink(path);

    assert_true(bytes_in_use(ctx) == 0);
    assert_int_equal(n4d_model_from_json_string(ctx, NULL, 0, NULL, NULL), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_model_from_json_string(NULL, "{}", 2, NULL, &m), N4D_E_INVALID_ARG);
    assert_int_equal(n4d_model_from_json_file(ctx, NULL, &m), N4D_E_INVALID_ARG);
    n4d_context_destroy(ctx);
}

/* Every prefix of a valid config is rejected cleanly (no crash, no leak). */
/* Aliases used by some 4D Neural Cognition configs; an explicit dt wins. */
static void test_4dnc_aliases(void **state)
{
    (void)state;
    static const char cfg[] =
        "{\"model_version\": 1, \"dt\": 0.5, \"lattice_shape\": [4, 4, 1, 1],\n"
        " \"neuron_model\": {\"model_type\": \"LIF\"},\n"
        " \"areas\": [{\"name\": \"V1\", \"coord_ranges\": {\"x\": [0, 3], \"y\": [0, 3],"
        " \"z\": [0, 0], \"w\": [0, 0]}}],\n"
        " \"senses\": {\"vision\": {\"areal\": \"V1\", \"enabled\": true}}}";
    static const char both[] =
        "{\"lattice_shape\": [1, 1, 1, 1],\n"
        " \"neuron_model\": {\"type\": \"lif\", \"model_type\": \"lif\"}}";
    n4d_context *ctx = NULL;
    OK(n4d_context_create(NULL, &ctx));
    n4d_model *m = NULL;
    OK(n4d_model_from_json_string(ctx, cfg, strlen(cfg), "a.json", &m));
    assert_true(n4d_model_dt(m) == 0.5);
    assert_int_equal(m->pops[0].model, N4D_NEURON_LIF);
    n4d_model_destroy(m);
    m = NULL;
    assert_int_equal(n4d_model_from_json_string(ctx, both, strlen(both), "b.json", &m),
                     N4D_E_CONFIG);
    assert_null(m);
    assert_non_null(strstr(n4d_last_error(ctx), "b.json:2:34: neuron_model.model_type: both"));
    n4d_context_destroy(ctx);
}

static void test_truncated(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    OK(n4d_context_create(NULL, &ctx));
    size_t len = strlen(FULL);
    for (size_t n = 0; n < len - 2; n++) {
        n4d_model *m = NULL;
        assert_int_equal(n4d_model_from_json_string(ctx, FULL, n, "cut.json", &m), N4D_E_CONFIG);
        assert_null(m);
        assert_true(strncmp(n4d_last_error(ctx), "cut.json:", 9) == 0);
    }
    assert_true(bytes_in_use(ctx) == 0);
    n4d_context_destroy(ctx);
}

/* Deterministic mutations of a valid config: every outcome is a model or a
 * positioned config error, never a crash or a leak. */
static void test_mutations(void **state)
{
    (void)state;
    n4d_context *ctx = NULL;
    OK(n4d_context_create(NULL, &ctx));
    static const char alphabet[] = "{}[]\",:0123456789.-e \n\\axyzw";
    size_t len = strlen(FULL);
    char *buf = malloc(len + 1);
    assert_non_null(buf);
    uint64_t x = 0x9e3779b97f4a7c15ull;
    int ok = 0;
    for (int iter = 0; iter < 4000; iter++) {
        memcpy(buf, FULL, len + 1);
        for (int k = 0; k < 1 + iter % 3; k++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            buf[(x >> 8) % len] = alphabet[(x >> 40) % (sizeof alphabet - 1)];
        }
        n4d_model *m = NULL;
        n4d_status st = n4d_model_from_json_string(ctx, buf, len, "fuzz.json", &m);
        if (st == N4D_OK) {
            assert_non_null(m);
            n4d_model_destroy(m);
            ok++;
        } else {
            assert_int_equal(st, N4D_E_CONFIG);
            assert_null(m);
            assert_true(strncmp(n4d_last_error(ctx), "fuzz.json:", 10) == 0);
        }
        assert_true(bytes_in_use(ctx) == 0);
    }
    assert_true(ok > 0);
    free(buf);
    n4d_context_destroy(ctx);
}

/* An allocator that fails once its budget of allocations is spent. */
typedef struct budget {
    int left;
} budget;

static void *budget_alloc(void *ud, size_t size, size_t align)
{
    budget *b = ud;
    if (b->left <= 0)
        return NULL;
    b->left--;
    void *p = NULL;
    if (posix_memalign(&p, align < sizeof(void *) ? sizeof(void *) : align, size ? size : 1))
        return NULL;
    return p;
}

static void budget_free(void *ud, void *ptr, size_t size)
{
    (void)ud;
    (void)size;
    free(ptr);
}

/* Every allocation failure gives N4D_E_NOMEM, no model and no leak. */
static void test_out_of_memory(void **state)
{
    (void)state;
    int ok = 0, nomem = 0;
    for (int n = 0; n < 400 && ok == 0; n++) {
        budget b = {1};
        n4d_context_options opt;
        n4d_context_options_init(&opt);
        opt.allocator.alloc = budget_alloc;
        opt.allocator.free = budget_free;
        opt.allocator.user_data = &b;
        n4d_context *ctx = NULL;
        OK(n4d_context_create(&opt, &ctx));
        b.left = n;
        n4d_model *m = NULL;
        n4d_status st = n4d_model_from_json_string(ctx, FULL, strlen(FULL), "oom.json", &m);
        if (st == N4D_OK) {
            assert_non_null(m);
            n4d_model_destroy(m);
            ok++;
        } else {
            assert_int_equal(st, N4D_E_NOMEM);
            assert_null(m);
            assert_true(strncmp(n4d_last_error(ctx), "oom.json: out of memory", 23) == 0);
            nomem++;
        }
        assert_true(bytes_in_use(ctx) == 0);
        n4d_context_destroy(ctx);
    }
    assert_true(ok == 1 && nomem > 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_full_config),
        cmocka_unit_test(test_4dnc_config),
        cmocka_unit_test(test_hebb_bounds_warning),
        cmocka_unit_test(test_implicit_populations),
        cmocka_unit_test(test_escaped_keys),
        cmocka_unit_test(test_files),
        cmocka_unit_test(test_4dnc_aliases),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
