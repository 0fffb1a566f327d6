/* Writes the files the h5py test reads (tests/store_h5py.py): a model, a
 * checkpoint and a spike/state recording of a small two-population network,
 * plus expected.json with the numbers h5py must find and synapses.txt with
 * the model's synapses read through n4d_model_get_synapses. With --skip it only
 * explains why the test is skipped and exits 77. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "n4d.h"
#include "test_util.h"

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--skip") == 0) {
        printf("SKIP: no Python 3 with h5py was found at configure time "
               "(set N4D_H5PY_PYTHON)\n");
        return 77;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
        return 2;
    }
    if (!n4d_has_feature(N4D_FEATURE_HDF5)) {
        printf("SKIP: built without HDF5\n");
        return 77;
    }
    char path[4096];
    n4d_context *ctx = NULL;
    n4d_model *m = NULL;
    TRY_OK(n4d_context_create(NULL, &ctx), NULL);
    TRY_OK(n4d_model_create(ctx, &m), ctx);
    const uint32_t shape[4] = {10, 10, 4, 1};
    TRY_OK(n4d_model_set_lattice(m, shape), m);
    const int32_t lo[4] = {0, 0, 0, 0}, hi[4] = {9, 9, 3, 0};
    TRY_OK(n4d_model_add_area(m, "col", lo, hi), m);
    n4d_population_desc p;
    n4d_population_desc_init(&p);
    p.name = "exc";
    p.area = "col";
    p.model = N4D_NEURON_LIF_EXP;
    p.placement = N4D_PLACE_DENSITY;
    p.density = 0.8;
    p.v_init = n4d_dist_uniform(-60.0, -50.0);
    TRY_OK(n4d_model_add_population(m, &p, NULL), m);
    p.name = "inh";
    p.placement = N4D_PLACE_COUNT;
    p.count = 80;
    TRY_OK(n4d_model_add_population(m, &p, NULL), m);
    n4d_projection_desc j;
    n4d_projection_desc_init(&j);
    j.source = "exc";
    j.target = "exc";
    j.p = 0.05;
    j.weight = n4d_dist_constant(0.6);
    j.delay = n4d_dist_uniform(0.1, 2.0);
    TRY_OK(n4d_model_add_projection(m, &j, NULL), m);
    j.target = "inh";
    TRY_OK(n4d_model_add_projection(m, &j, NULL), m);
    j.source = "inh";
    j.target = "exc";
    j.weight = n4d_dist_constant(3.0);
    j.syn_type = N4D_SYN_INHIBITORY;
    TRY_OK(n4d_model_add_projection(m, &j, NULL), m);
    n4d_input_desc in;
    n4d_input_desc_init(&in);
    in.kind = N4D_INPUT_POISSON;
    in.target = "exc";
    in.rate = 800.0;
    in.weight = 1.0;
    TRY_OK(n4d_model_add_input(m, &in), m);
    in.target = "inh";
    TRY_OK(n4d_model_add_input(m, &in), m);
    TRY_OK(n4d_model_build(m), m);
    n4d_save_options so;
    n4d_save_options_init(&so);
    so.compression = N4D_COMPRESSION_GZIP;
    snprintf(path, sizeof path, "%s/model.h5", argv[1]);
    TRY_OK(n4d_model_save(m, path, &so), m);
    n4d_sim *s = NULL;
    TRY_OK(n4d_sim_create(m, NULL, &s), m);
    n4d_record_options ro;
    n4d_record_options_init(&ro);
    const uint64_t last = n4d_model_num_neurons(m) - 1; /* in inh */
    const uint64_t rep[3] = {0, 1, last};
    ro.report_ids = rep;
    ro.n_report_ids = 3;
    ro.report_every = 5;
    ro.buffer_spikes = 100;
    snprintf(path, sizeof path, "%s/spikes.h5", argv[1]);
    TRY_OK(n4d_sim_record_open(s, path, &ro), s);
    TRY_OK(n4d_sim_run(s, 500), s);
    TRY_OK(n4d_sim_record_close(s), s);
    snprintf(path, sizeof path, "%s/checkpoint.h5", argv[1]);
    TRY_OK(n4d_sim_checkpoint(s, path, NULL), s);
    /* expected numbers */
    n4d_population_info pi[2] = {{.struct_size = sizeof pi[0]}, {.struct_size = sizeof pi[1]}};
    TRY_OK(n4d_model_population_info(m, 0, &pi[0]), m);
    TRY_OK(n4d_model_population_info(m, 1, &pi[1]), m);
    const uint64_t *steps;
    const uint32_t *ids;
    uint64_t count, per[2] = {0, 0};
    TRY_OK(n4d_sim_spikes(s, &steps, &ids, &count), s);
    for (uint64_t k = 0; k < count; k++)
        per[ids[k] >= pi[1].first]++;
    /* the model's synapses through the API, one line per synapse: source
     * population and local id, target population and local id, weight,
     * delay (ms); store_h5py.py compares the saved /edges with them */
    snprintf(path, sizeof path, "%s/synapses.txt", argv[1]);
    FILE *f = fopen(path, "w");
    if (!f)
        return 1;
    const uint64_t nsyn = n4d_model_num_synapses(m);
    uint32_t *tg = malloc((nsyn + 1) * sizeof *tg);
    float *w = malloc((nsyn + 1) * sizeof *w), *d = malloc((nsyn + 1) * sizeof *d);
    if (!tg || !w || !d)
        return 1;
    for (uint64_t i = 0; i < n4d_model_num_neurons(m); i++) {
        uint64_t c = 0;
        TRY_OK(n4d_model_get_synapses(m, i, nsyn, tg, w, d, &c), m);
        const int a = i >= pi[1].first;
        for (uint64_t y = 0; y < c; y++) {
            const int b = tg[y] >= pi[1].first;
            fprintf(f, "%d %llu %d %llu %.9g %.9g\n", a, (unsigned long long)(i - pi[a].first), b,
                    (unsigned long long)(tg[y] - pi[b].first), (double)w[y], (double)d[y]);
        }
    }
    free(tg);
    free(w);
    free(d);
    fclose(f);
    snprintf(path, sizeof path, "%s/expected.json", argv[1]);
    f = fopen(path, "w");
    if (!f)
        return 1;
    fprintf(f,
            "{\"dt\": %.17g, \"steps\": 500, \"total_spikes\": %llu, \"synapses\": %llu,"
            " \"checksum\": \"%016llx\", \"populations\": {\"exc\": {\"n\": %llu, \"spikes\": %llu},"
            " \"inh\": {\"n\": %llu, \"spikes\": %llu}}, \"report_every\": 5, \"report_ids\": [0, 1, %llu]}\n",
            n4d_model_dt(m), (unsigned long long)n4d_sim_total_spikes(s),
            (unsigned long long)n4d_model_num_synapses(m), (unsigned long long)n4d_sim_checksum(s),
            (unsigned long long)pi[0].count, (unsigned long long)per[0],
            (unsigned long long)pi[1].count, (unsigned long long)per[1],
            (unsigned long long)(last - pi[1].first));
    fclose(f);
    n4d_sim_destroy(s);
    n4d_model_destroy(m);
    n4d_context_destroy(ctx);
    return 0;
}
