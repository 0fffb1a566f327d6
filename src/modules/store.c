/* Storage module: option defaults (always built) and, when the library is
 * built without HDF5, entry points that answer N4D_E_NOT_BUILT so that the
 * exported symbol set does not depend on build options. */
#include "internal.h"

#include "n4d/store.h"

#include <string.h>

#ifndef N4D_HAVE_HDF5
#define N4D_HAVE_HDF5 0
#endif

void n4d_save_options_init(n4d_save_options *opt)
{
    if (!opt)
        return;
    memset(opt, 0, sizeof *opt);
    opt->struct_size = sizeof *opt;
    opt->compression = N4D_COMPRESSION_NONE;
    opt->gzip_level = 4;
    opt->shuffle = 1;
    opt->chunk_size = 262144;
    opt->contiguous = 0;
    opt->sonata_edges = 1;
}

void n4d_load_options_init(n4d_load_options *opt)
{
    if (!opt)
        return;
    memset(opt, 0, sizeof *opt);
    opt->struct_size = sizeof *opt;
    opt->select = N4D_SELECT_ALL;
}

void n4d_resume_options_init(n4d_resume_options *opt)
{
    if (!opt)
        return;
    memset(opt, 0, sizeof *opt);
    opt->struct_size = sizeof *opt;
}

void n4d_record_options_init(n4d_record_options *opt)
{
    if (!opt)
        return;
    memset(opt, 0, sizeof *opt);
    opt->struct_size = sizeof *opt;
    opt->buffer_spikes = 65536;
    opt->compression = N4D_COMPRESSION_NONE;
    opt->gzip_level = 4;
    opt->shuffle = 1;
    opt->report_vars = "v";
    opt->report_every = 1;
}

void n4d_import_options_init(n4d_import_options *opt)
{
    if (!opt)
        return;
    memset(opt, 0, sizeof *opt);
    opt->struct_size = sizeof *opt;
    opt->format = N4D_IMPORT_AUTO;
}

#if !N4D_HAVE_HDF5

#define NOT_BUILT "this build of n4d has no HDF5 storage (n4d_has_feature(N4D_FEATURE_HDF5) is 0)"

static n4d_status not_built(const void *handle, uint32_t magic)
{
    if (n4d__is_handle(handle, magic))
        return n4d__error((n4d__handle *)handle, N4D_E_NOT_BUILT, "%s", NOT_BUILT);
    return N4D_E_NOT_BUILT;
}

n4d_status n4d_model_save(const n4d_model *model, const char *path, const n4d_save_options *opt)
{
    (void)path;
    (void)opt;
    return not_built(model, N4D__MAGIC_MODEL);
}

n4d_status n4d_model_load(n4d_context *ctx, const char *path, const n4d_load_options *opt,
                          n4d_model **out)
{
    (void)path;
    (void)opt;
    if (out)
        *out = NULL;
    return not_built(ctx, N4D__MAGIC_CONTEXT);
}

n4d_status n4d_sim_checkpoint(n4d_sim *sim, const char *path, const n4d_save_options *opt)
{
    (void)path;
    (void)opt;
    return not_built(sim, N4D__MAGIC_SIM);
}

n4d_status n4d_sim_save_model(n4d_sim *sim, const char *path, const n4d_save_options *opt)
{
    (void)path;
    (void)opt;
    return not_built(sim, N4D__MAGIC_SIM);
}

n4d_status n4d_sim_resume(n4d_context *ctx, const char *path, const n4d_resume_options *opt,
                          n4d_model **model, n4d_sim **sim)
{
    (void)path;
    (void)opt;
    if (model)
        *model = NULL;
    if (sim)
        *sim = NULL;
    return not_built(ctx, N4D__MAGIC_CONTEXT);
}

n4d_status n4d_sim_record_open(n4d_sim *sim, const char *path, const n4d_record_options *opt)
{
    (void)path;
    (void)opt;
    return not_built(sim, N4D__MAGIC_SIM);
}

n4d_status n4d_sim_record_close(n4d_sim *sim)
{
    return not_built(sim, N4D__MAGIC_SIM);
}

n4d_status n4d_model_import_4dnc(n4d_context *ctx, const char *path, const n4d_import_options *opt,
                                 n4d_model **out)
{
    (void)path;
    (void)opt;
    if (out)
        *out = NULL;
    return not_built(ctx, N4D__MAGIC_CONTEXT);
}

#endif
