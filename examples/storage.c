/* storage.c — save a model, load it whole, in part, and memory-mapped.
 *
 * The guide's MemoryMappedModel stores neurons in HDF5 and loads all of
 * them or a subset. n4d saves a whole built model (include/n4d/store.h:
 * neurons, synapses with their exact fixed-point weights, the description;
 * SONATA-compatible groups), and loads it back
 *   - whole: the loaded model simulates bitwise like the saved one;
 *   - in part: the neurons of an id list, an id range or a 4D box, with the
 *     synapses among them, read with hyperslabs (only what they need);
 *   - memory-mapped: the synapse arrays stay in the file and are mapped
 *     read-only, so they cost page cache instead of allocated memory.
 *
 * This program builds a config (default examples/configs/demo.json), runs
 * it, saves it (with the synapse arrays stored contiguous so that they can
 * be mapped) and loads it the three ways, each into its own context so the
 * allocated bytes per context show what each way costs.
 *
 * Exit status 0 when the whole and the mapped loads give the original
 * checksum, and the partial load holds exactly the neurons of the box
 * (ctest `example_storage`, built when the HDF5 module is).
 *
 * Usage: storage [CONFIG [FILE.h5]] (default FILE: n4d_example_model.h5 in
 * the current directory; removed at the end).
 *
 * Build: part of the n4d build (target `storage`), or
 *   cc examples/storage.c -I include -L build/src -Wl,-rpath,build/src -ln4d -o storage */
#include <n4d.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define CHECK(call, handle)                                                              \
    do {                                                                                 \
        n4d_status st_ = (call);                                                         \
        if (st_ != N4D_OK) {                                                             \
            fprintf(stderr, "storage: %s failed: %s (%s)\n", #call, n4d_status_string(st_), \
                    n4d_last_error(handle));                                             \
            goto fail;                                                                   \
        }                                                                                \
    } while (0)

enum { STEPS = 200 };

/* Runs STEPS steps of `model`; returns the checksum (0 on error). */
static uint64_t run(n4d_model *model)
{
    n4d_sim *sim = NULL;
    uint64_t c = 0;
    if (n4d_sim_create(model, NULL, &sim) == N4D_OK && n4d_sim_run(sim, STEPS) == N4D_OK)
        c = n4d_sim_checksum(sim);
    else
        fprintf(stderr, "storage: %s%s\n", n4d_last_error(model), n4d_last_error(sim));
    n4d_sim_destroy(sim);
    return c;
}

/* The bytes a context has allocated for synapses, and in all. */
static void print_memory(const char *what, const n4d_context *ctx, const n4d_model *m)
{
    n4d_memory_stats ms;
    memset(&ms, 0, sizeof ms);
    ms.struct_size = sizeof ms;
    n4d_context_memory(ctx, &ms);
    printf("%-10s %8" PRIu64 " neurons %9" PRIu64 " synapses   allocated: synapses %8.2f MiB, "
           "total %8.2f MiB\n",
           what, n4d_model_num_neurons(m), n4d_model_num_synapses(m),
           (double)ms.current[N4D_MEM_SYNAPSES] / (1 << 20), (double)ms.total_current / (1 << 20));
}

int main(int argc, char **argv)
{
    const char *config = argc > 1 ? argv[1] : "examples/configs/demo.json";
    const char *path = argc > 2 ? argv[2] : "n4d_example_model.h5";
    n4d_context *ctx = NULL, *c_whole = NULL, *c_map = NULL, *c_part = NULL;
    n4d_model *model = NULL, *whole = NULL, *mapped = NULL, *part = NULL;
    int rc = 1;

    if (!n4d_has_feature(N4D_FEATURE_HDF5)) {
        printf("storage: this n4d was built without HDF5\n");
        return 77; /* ctest's skip code */
    }
    CHECK(n4d_context_create(NULL, &ctx), NULL);
    CHECK(n4d_context_create(NULL, &c_whole), NULL);
    CHECK(n4d_context_create(NULL, &c_map), NULL);
    CHECK(n4d_context_create(NULL, &c_part), NULL);
    CHECK(n4d_model_from_json_file(ctx, config, &model), ctx);
    CHECK(n4d_model_build(model), model);
    const uint64_t c_orig = run(model);

    /* store_neurons: save the built model. contiguous = 1 lays the synapse
     * arrays out unfiltered and page-aligned so that they can be mapped;
     * gzip (N4D_COMPRESSION_GZIP) would make the file smaller instead. */
    n4d_save_options so;
    n4d_save_options_init(&so);
    so.contiguous = 1;
    so.sonata_edges = 0; /* only n4d's exact arrays: the SONATA /edges copy
                            (default 1, for other tools) would triple the file */
    CHECK(n4d_model_save(model, path, &so), model);
    struct stat fs;
    printf("saved %s: %.2f MiB\n\n", path, stat(path, &fs) == 0 ? (double)fs.st_size / (1 << 20) : -1.0);

    /* load_neurons(): the whole model. */
    CHECK(n4d_model_load(c_whole, path, NULL, &whole), c_whole);
    print_memory("whole", c_whole, whole);

    /* The same, with the synapse arrays mapped from the file. */
    n4d_load_options lo;
    n4d_load_options_init(&lo);
    lo.mmap_synapses = 1;
    CHECK(n4d_model_load(c_map, path, &lo, &mapped), c_map);
    print_memory("mapped", c_map, mapped);

    /* load_neurons(indices=...): here the neurons of the box w = 0 (the
     * first w slice of the lattice), renumbered 0, 1, ... in id order. */
    n4d_load_options_init(&lo);
    lo.select = N4D_SELECT_REGION;
    uint32_t shape[4];
    CHECK(n4d_model_lattice(model, shape), model);
    for (int a = 0; a < 4; a++) {
        lo.lo[a] = 0;
        lo.hi[a] = (int32_t)shape[a] - 1;
    }
    lo.hi[3] = 0;
    CHECK(n4d_model_load(c_part, path, &lo, &part), c_part);
    print_memory("w = 0", c_part, part);
    uint64_t in_box = 0;
    for (uint64_t id = 0; id < n4d_model_num_neurons(model); id++) {
        int32_t xyzw[4];
        CHECK(n4d_model_neuron_position(model, id, xyzw), model);
        in_box += xyzw[3] == 0;
    }
    int32_t pos[4] = {-1, -1, -1, -1};
    if (n4d_model_num_neurons(part) > 0)
        CHECK(n4d_model_neuron_position(part, n4d_model_num_neurons(part) - 1, pos), part);

    const uint64_t c_whole_run = run(whole), c_map_run = run(mapped), c_part_run = run(part);
    printf("\n%d steps: original %016" PRIx64 ", whole %016" PRIx64 ", mapped %016" PRIx64
           " (w = 0 alone: %016" PRIx64 ", its own network)\n",
           STEPS, c_orig, c_whole_run, c_map_run, c_part_run);
    printf("the box holds %" PRIu64 " neurons of the original, the partial load %" PRIu64 "\n",
           in_box, n4d_model_num_neurons(part));
    if (!c_orig || c_whole_run != c_orig || c_map_run != c_orig ||
        n4d_model_num_neurons(part) != in_box || pos[3] != 0)
        goto fail;
    rc = 0;

fail:
    n4d_model_destroy(part);
    n4d_model_destroy(mapped);
    n4d_model_destroy(whole);
    n4d_model_destroy(model);
    n4d_context_destroy(c_part);
    n4d_context_destroy(c_map);
    n4d_context_destroy(c_whole);
    n4d_context_destroy(ctx);
    remove(path);
    return rc;
}
