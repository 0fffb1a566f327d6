/* Writes the file seeds of tests/fuzz/corpus/ (the configs there are
 * written by hand): saved models (load/), checkpoints (resume/) and small
 * 4D Neural Cognition saves (4dnc/, JSON and HDF5), all of a few dozen
 * neurons. Run after a change of the file format:
 *   fuzz_make_corpus tests/fuzz/corpus */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "n4d.h"

static char g_dir[2048];

static void die(const char *what, const void *h)
{
    fprintf(stderr, "fuzz_make_corpus: %s: %s\n", what, h ? n4d_last_error(h) : "");
    exit(1);
}

static const char *path(const char *name)
{
    static char p[4096];
    snprintf(p, sizeof p, "%s/%s", g_dir, name);
    return p;
}

static n4d_model *config(n4d_context *ctx, const char *name)
{
    n4d_model *m = NULL;
    if (n4d_model_from_json_file(ctx, path(name), &m) || n4d_model_build(m))
        die(name, m ? (const void *)m : ctx);
    return m;
}

static void checkpoint(n4d_model *m, uint64_t steps, const char *name)
{
    n4d_sim_options o;
    n4d_sim_options_init(&o);
    o.backend = "cpu-ref";
    o.history_steps = 8;
    n4d_sim *s = NULL;
    n4d_save_options so;
    n4d_save_options_init(&so);
    so.sonata_edges = 0;
    so.compression = N4D_COMPRESSION_GZIP;
    so.chunk_size = 64;
    if (n4d_sim_create(m, &o, &s) || n4d_sim_run(s, steps) || n4d_sim_checkpoint(s, path(name), &so))
        die(name, s ? (const void *)s : m);
    n4d_sim_destroy(s);
}

/* 4DNC: a V1_like (w=0) and an A1_like (w=1) area of a 3x3x1x2 lattice. */
static const char *const k4_config =
    "{\"model_version\": 1, \"dimensions\": 4, \"lattice_shape\": [3, 3, 1, 2],"
    " \"neuron_model\": {\"type\": \"LIF\", \"params_default\": {\"tau_m\": 20.0, \"v_rest\": -65.0,"
    " \"v_reset\": -70.0, \"v_threshold\": -50.0, \"refractory_period\": 5.0}},"
    " \"plasticity\": {\"rule\": \"hebb_like\", \"learning_rate\": 0.001, \"weight_min\": -1.0,"
    " \"weight_max\": 1.0, \"weight_decay\": 1e-05},"
    " \"senses\": {\"vision\": {\"areal\": \"V1_like\", \"w_index\": 0, \"input_size\": [3, 3]}},"
    " \"areas\": [{\"name\": \"V1_like\", \"sense\": \"vision\", \"coord_ranges\": {\"x\": [0, 2],"
    " \"y\": [0, 2], \"z\": [0, 0], \"w\": [0, 0]}}, {\"name\": \"A1_like\", \"coord_ranges\":"
    " {\"x\": [0, 2], \"y\": [0, 2], \"z\": [0, 0], \"w\": [1, 1]}}]}";

enum { K4_N = 10, K4_S = 14 };

static void k4_neuron(int i, float row[10])
{
    /* ids 0..4 in V1_like, 5..9 in A1_like */
    float r[10] = {(float)i, (float)(i % 3), (float)((i / 3) % 3), 0, (float)(i >= 5), 0, -1,
                   1.0f, 0, -65.0f + (float)i};
    memcpy(row, r, sizeof r);
}

static void k4_synapse(int k, float row[5])
{
    float r[5] = {(float)(k % K4_N), (float)((k * 7 + 3) % K4_N), 0.1f * (float)(k - 4),
                  (float)(1 + k % 3), 0};
    memcpy(row, r, sizeof r);
}

static char *k4_json(int with_lists)
{
    size_t cap = 65536, n = 0;
    char *b = malloc(cap);
    n += (size_t)snprintf(b + n, cap - n, "{\"config\": %s, \"current_step\": 7, \"next_neuron_id\": %d,"
                          " \"use_sparse_connectivity\": false", k4_config, K4_N);
    if (with_lists) {
        n += (size_t)snprintf(b + n, cap - n, ", \"neurons\": [");
        for (int i = 0; i < K4_N; i++) {
            float r[10];
            k4_neuron(i, r);
            n += (size_t)snprintf(b + n, cap - n,
                                  "%s{\"id\": %d, \"x\": %d, \"y\": %d, \"z\": 0, \"w\": %d, \"generation\": 0,"
                                  " \"parent_id\": -1, \"health\": 1.0, \"age\": 0, \"v_membrane\": %g,"
                                  " \"params\": {\"tau_m\": 20.0, \"v_rest\": -65.0, \"v_reset\": -70.0,"
                                  " \"v_threshold\": -50.0, \"refractory_period\": %d}}",
                                  i ? ", " : "", i, (int)r[1], (int)r[2], (int)r[4], r[9], 2 + i % 4);
        }
        n += (size_t)snprintf(b + n, cap - n, "], \"synapses\": [");
        for (int k = 0; k < K4_S; k++) {
            float r[5];
            k4_synapse(k, r);
            n += (size_t)snprintf(b + n, cap - n,
                                  "%s{\"pre_id\": %d, \"post_id\": %d, \"weight\": %g, \"delay\": %d,"
                                  " \"plasticity_tag\": 0.0, \"synapse_type\": \"%s\"}",
                                  k ? ", " : "", (int)r[0], (int)r[1], r[2], (int)r[3],
                                  k % 4 == 3 ? "inhibitory" : "excitatory");
        }
        n += (size_t)snprintf(b + n, cap - n, "]");
    }
    snprintf(b + n, cap - n, "}");
    return b;
}

static void k4_write(void)
{
    char *j = k4_json(1);
    FILE *f = fopen(path("4dnc/small.json"), "wb");
    if (!f || fputs(j, f) < 0 || fclose(f))
        die("4dnc/small.json", NULL);
    free(j);
    /* save_to_hdf5: meta_json (a variable-length string), neurons N x 10,
     * synapses S x 5 (float32) */
    hid_t h = H5Fcreate(path("4dnc_h5/small.h5"), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (h < 0)
        die("4dnc_h5/small.h5", NULL);
    j = k4_json(0);
    hid_t st = H5Tcopy(H5T_C_S1);
    H5Tset_size(st, H5T_VARIABLE);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t d = H5Dcreate2(h, "meta_json", st, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(d, st, H5S_ALL, H5S_ALL, H5P_DEFAULT, &j);
    H5Dclose(d);
    H5Sclose(sp);
    H5Tclose(st);
    free(j);
    float nrows[K4_N][10], srows[K4_S][5];
    for (int i = 0; i < K4_N; i++)
        k4_neuron(i, nrows[i]);
    for (int k = 0; k < K4_S; k++)
        k4_synapse(k, srows[k]);
    hsize_t dn[2] = {K4_N, 10}, ds[2] = {K4_S, 5};
    sp = H5Screate_simple(2, dn, NULL);
    d = H5Dcreate2(h, "neurons", H5T_NATIVE_FLOAT, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, nrows);
    H5Dclose(d);
    H5Sclose(sp);
    sp = H5Screate_simple(2, ds, NULL);
    d = H5Dcreate2(h, "synapses", H5T_NATIVE_FLOAT, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, srows);
    H5Dclose(d);
    H5Sclose(sp);
    H5Fclose(h);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: fuzz_make_corpus CORPUS_DIR (tests/fuzz/corpus)\n");
        return 2;
    }
    snprintf(g_dir, sizeof g_dir, "%s", argv[1]);
    n4d_context *ctx = NULL;
    if (n4d_context_create(NULL, &ctx))
        die("context", NULL);
    n4d_model *m = config(ctx, "config/models.json");
    n4d_save_options so;
    n4d_save_options_init(&so);
    so.chunk_size = 64; /* several chunks per dataset, SONATA edges */
    if (n4d_model_save(m, path("load/model.h5"), &so))
        die("load/model.h5", m);
    n4d_save_options_init(&so);
    so.contiguous = 1;
    so.sonata_edges = 0;
    if (n4d_model_save(m, path("load/model_contig.h5"), &so))
        die("load/model_contig.h5", m);
    checkpoint(m, 40, "resume/models.h5");
    n4d_model_destroy(m);
    m = config(ctx, "config/plastic.json");
    checkpoint(m, 200, "resume/plastic.h5");
    n4d_model_destroy(m);
    k4_write();
    n4d_context_destroy(ctx);
    return 0;
}
