/* n4d import: converts a 4D Neural Cognition save (JSON or HDF5) into an
 * n4d model file. */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

int cmd_import(int argc, char **argv)
{
    run_opts o;
    int rc = parse_opts(argc, argv, CLI_IMPORT, &o);
    if (rc != EXIT_OK)
        return rc;
    const char *in = o.config, *out = o.output;
    n4d_import_options io;
    n4d_import_options_init(&io);
    io.reference_inhibition = o.reference_inhibition;
    io.static_weights = o.static_weights;
    cli_log lg = {false};
    n4d_context *ctx = NULL;
    n4d_model *m = NULL;
    rc = make_context(&lg, o.memory_limit, &ctx);
    if (rc != EXIT_OK)
        return rc;
    n4d_status st = n4d_model_import_4dnc(ctx, in, &io, &m);
    if (st != N4D_OK) {
        library_error(ctx, st, in);
        rc = load_exit_code(st);
        goto done;
    }
    n4d_save_options so;
    n4d_save_options_init(&so);
    so.compression = o.gzip ? N4D_COMPRESSION_GZIP : N4D_COMPRESSION_NONE;
    if ((st = n4d_model_save(m, out, &so)) != N4D_OK) {
        library_error(m, st, out);
        rc = EXIT_RUNTIME;
        goto done;
    }
    printf("imported:     %s\n", in);
    printf("saved:        %s\n", out);
    printf("populations:  %" PRId32 "\n", n4d_model_num_populations(m));
    printf("neurons:      %" PRIu64 "\n", n4d_model_num_neurons(m));
    printf("synapses:     %" PRIu64 "\n", n4d_model_num_synapses(m));
    printf("dt:           %g ms\n", n4d_model_dt(m));
    if (fflush(stdout) != 0) {
        errorf("cannot write the summary: %s", strerror(errno));
        rc = EXIT_RUNTIME;
    }
done:
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
    return rc;
}
