/* downstream.c — a user's C program: loads a config, runs it, prints the
 * spike train's checksum as the n4d program does.
 *
 *   downstream_c CONFIG STEPS */
#include <n4d.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: downstream_c CONFIG STEPS\n");
        return 2;
    }
    n4d_context *ctx = NULL;
    n4d_model *model = NULL;
    n4d_sim *sim = NULL;
    int rc = 1;
    if (n4d_context_create(NULL, &ctx) != N4D_OK)
        return 1;
    if (n4d_model_from_json_file(ctx, argv[1], &model) != N4D_OK) {
        fprintf(stderr, "downstream_c: %s\n", n4d_last_error(ctx));
        goto out;
    }
    if (n4d_model_build(model) != N4D_OK || n4d_sim_create(model, NULL, &sim) != N4D_OK) {
        fprintf(stderr, "downstream_c: %s\n", n4d_last_error(model));
        goto out;
    }
    if (n4d_sim_run(sim, strtoull(argv[2], NULL, 10)) != N4D_OK) {
        fprintf(stderr, "downstream_c: %s\n", n4d_last_error(sim));
        goto out;
    }
    printf("n4d %s\nchecksum: %016" PRIx64 "\n", n4d_version_string(), n4d_sim_checksum(sim));
    rc = 0;
out:
    n4d_sim_destroy(sim);
    n4d_model_destroy(model);
    n4d_context_destroy(ctx);
    return rc;
}
