/* Golden values of the example configs (every JSON file of examples/configs): for a
 * fixed number of steps of each, the synapse count, the spike count, the
 * spike checksum (n4d_sim_checksum) and a hash of the final V.
 *
 * REGRESSION VALUES: they pin what n4d computes today, on cpu-omp with 2
 * threads (every backend and thread count gives the same bits). They are
 * not known to be right, only known not to change by accident: a change of
 * any of them must be explained in CHANGELOG.md (a model's arithmetic, a
 * draw, a default or an example config changed) and the new values pasted
 * here from this test's output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "n4d.h"
#include "test_util.h"

typedef struct golden {
    const char *config; /* under examples/configs */
    uint64_t steps;
    uint64_t synapses, spikes, checksum, v_hash;
} golden;

/* Regression values (see the top of this file before changing any). */
static const golden GOLDEN[] = {
    {"4dnc_style.json", 40, 244870, 792, 0xdbaa8647ccd4cdf0, 0x85a8ddd24476a1d6},
    {"brunel.json", 300, 2000000, 14836, 0x3dff2fc80a04943f, 0x814ef1826df65ef8},
    {"cuba.json", 500, 319862, 1136, 0x59370dc6e18dad6a, 0x24dfaedd8239151b},
    {"demo.json", 200, 466575, 103, 0x9c6df0928f5dc30d, 0xabc90d38fb02f358},
    {"stdp_song.json", 500, 1000, 745, 0xc484d4b8a67b3815, 0x11e90fee0c78ee88},
};

/* FNV-1a over the bits of V. */
static uint64_t v_hash(const float *v, uint64_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    const unsigned char *b = (const unsigned char *)v;
    for (uint64_t i = 0; i < n * sizeof *v; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

static void test_golden(void **state)
{
    (void)state;
    int bad = 0;
    for (size_t k = 0; k < sizeof GOLDEN / sizeof GOLDEN[0]; k++) {
        const golden *g = &GOLDEN[k];
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        char path[4096];
        snprintf(path, sizeof path, "%s/examples/configs/%s", N4D_SOURCE_DIR, g->config);
        n4d_context *ctx = NULL;
        OK(n4d_context_create(NULL, &ctx));
        n4d_model *m = NULL;
        ASSERT_OK(n4d_model_from_json_file(ctx, path, &m), ctx);
        ASSERT_OK(n4d_model_build(m), m);
        n4d_sim_options o;
        n4d_sim_options_init(&o);
        o.backend = "cpu-omp";
        o.num_threads = 2;
        o.record_spikes = 0;
        n4d_sim *sim = NULL;
        ASSERT_OK(n4d_sim_create(m, &o, &sim), m);
        ASSERT_OK(n4d_sim_run(sim, g->steps), sim);
        const uint64_t n = n4d_model_num_neurons(m);
        float *v = malloc(n * sizeof *v);
        ASSERT_OK(n4d_sim_get_state(sim, "v", v, n), sim);
        const golden got = {g->config, g->steps, n4d_model_num_synapses(m),
                            n4d_sim_total_spikes(sim), n4d_sim_checksum(sim), v_hash(v, n)};
        free(v);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        const int same = got.synapses == g->synapses && got.spikes == g->spikes &&
                         got.checksum == g->checksum && got.v_hash == g->v_hash;
        /* the line to paste, printed either way */
        print_message("%s    {\"%s\", %llu, %llu, %llu, 0x%016llx, 0x%016llx}, /* %.2f s */\n",
                      same ? "" : "CHANGED ", got.config, (unsigned long long)got.steps,
                      (unsigned long long)got.synapses, (unsigned long long)got.spikes,
                      (unsigned long long)got.checksum, (unsigned long long)got.v_hash,
                      (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec));
        if (!same)
            print_error("%s, %llu steps: expected %llu synapses, %llu spikes, checksum "
                        "%016llx, V hash %016llx (regression values: explain a change in "
                        "CHANGELOG.md)\n",
                        g->config, (unsigned long long)g->steps, (unsigned long long)g->synapses,
                        (unsigned long long)g->spikes, (unsigned long long)g->checksum,
                        (unsigned long long)g->v_hash);
        bad += !same;
        CHECK(got.spikes > 0, "%s: no spike in %llu steps: pick more steps", g->config,
              (unsigned long long)g->steps);
        n4d_sim_destroy(sim);
        n4d_model_destroy(m);
        n4d_context_destroy(ctx);
    }
    CHECK(bad == 0, "%d example configs changed their golden values", bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
