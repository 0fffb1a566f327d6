/* Config load time against the number of populations and projections: a
 * generated config of P one-neuron populations in one area, each projecting
 * to the next (P projections), loaded with n4d_model_from_json_string
 * (parse, checks, description; no build). Population and projection names
 * are looked up by hash (src/core/names.c): the time grows linearly in P.
 *
 *   config_bench [P ...]     (default 1000 10000 100000 200000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "n4d.h"
#include "bench_util.h"

static char *make_config(long P, size_t *len)
{
    size_t cap = 256 + (size_t)P * 160, n = 0;
    char *s = malloc(cap);
    if (!s)
        exit(1);
    n += (size_t)snprintf(s + n, cap - n,
                          "{\"name\": \"many\", \"dt\": 0.1, \"seed\": 1, \"lattice_shape\": "
                          "[%ld, 1, 1, 1], \"areas\": [{\"name\": \"a\", \"coord_ranges\": "
                          "{\"x\": [0, %ld], \"y\": [0, 0], \"z\": [0, 0], \"w\": [0, 0]}}], "
                          "\"neuron_model\": {\"type\": \"lif\"}, \"populations\": [",
                          P, P - 1);
    for (long i = 0; i < P; i++)
        n += (size_t)snprintf(s + n, cap - n, "%s{\"name\": \"p%ld\", \"area\": \"a\", \"count\": 1}",
                              i ? ", " : "", i);
    n += (size_t)snprintf(s + n, cap - n, "], \"projections\": [");
    for (long i = 0; i < P; i++)
        n += (size_t)snprintf(s + n, cap - n,
                              "%s{\"name\": \"j%ld\", \"source\": \"p%ld\", \"target\": \"p%ld\", "
                              "\"rule\": \"all_to_all\", \"weight\": 1.0}",
                              i ? ", " : "", i, i, (i + 1) % P);
    n += (size_t)snprintf(s + n, cap - n, "]}");
    *len = n;
    return s;
}

int main(int argc, char **argv)
{
    long def[] = {1000, 10000, 100000, 200000};
    int count = argc > 1 ? argc - 1 : 4;
    n4d_context *ctx = NULL;
    CHECK_OK(n4d_context_create(NULL, &ctx), ctx);
    printf("populations  projections  bytes       load_s\n");
    for (int k = 0; k < count; k++) {
        long P = argc > 1 ? atol(argv[k + 1]) : def[k];
        if (P < 1)
            return 1;
        size_t len;
        char *json = make_config(P, &len);
        n4d_model *m = NULL;
        double t0 = now_s();
        CHECK_OK(n4d_model_from_json_string(ctx, json, len, "many.json", &m), ctx);
        double t1 = now_s();
        printf("%-12ld %-12ld %-11zu %.3f\n", P, P, len, t1 - t0);
        n4d_model_destroy(m);
        free(json);
    }
    n4d_context_destroy(ctx);
    return 0;
}
