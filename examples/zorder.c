/* zorder.c — Z-order (4D Morton) storage and the locality report.
 *
 * The guide's CacheOptimizer reorders neurons along a Z-order curve and
 * scores access patterns. In n4d the reordering is a storage layout chosen
 * before the build (n4d_layout_options.order = N4D_ORDER_ZORDER): neuron
 * state and synapse targets are stored along a 4D Morton curve, users keep
 * their ids and the spike trains stay bitwise the same. include/n4d/zorder.h
 * gives the curve and the locality measures.
 *
 * This program:
 *   1. encodes and decodes a few 4D Morton codes;
 *   2. scores the guide's access sequence [0, 1, 2, 3, 50, 51, 52];
 *   3. builds a config (default examples/configs/demo.json) in lattice order
 *      and in Z-order and reports, for the synapse targets each spike
 *      delivers to, the mean jump and the 64-byte lines and 4 KiB pages of
 *      the delay buffer touched per synapse;
 *   4. runs both builds and checks that the checksums are equal.
 *
 * Exit status 0 when the Morton codes round-trip, Z-order touches fewer
 * pages per synapse than lattice order, and the checksums are equal
 * (ctest `example_zorder`).
 *
 * Build: part of the n4d build (target `zorder`), or
 *   cc examples/zorder.c -I include -L build/src -Wl,-rpath,build/src -ln4d -o zorder */
#include <n4d.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define CHECK(call, handle)                                                              \
    do {                                                                                 \
        n4d_status st_ = (call);                                                         \
        if (st_ != N4D_OK) {                                                             \
            fprintf(stderr, "zorder: %s failed: %s (%s)\n", #call, n4d_status_string(st_), \
                    n4d_last_error(handle));                                             \
            goto fail;                                                                   \
        }                                                                                \
    } while (0)

enum { STEPS = 200 };

/* Loads `config`, sets the storage order, builds; reports the locality of
 * the synapse targets in storage order and runs STEPS steps. */
static n4d_status build_and_run(n4d_context *ctx, const char *config, int32_t order,
                                n4d_access_stats *stats, uint64_t *checksum)
{
    n4d_model *model = NULL;
    n4d_sim *sim = NULL;
    n4d_status st = n4d_model_from_json_file(ctx, config, &model);
    if (st != N4D_OK) {
        fprintf(stderr, "zorder: %s\n", n4d_last_error(ctx));
        return st;
    }
    n4d_layout_options lo;
    n4d_layout_options_init(&lo);
    lo.order = order;
    memset(stats, 0, sizeof *stats);
    stats->struct_size = sizeof *stats;
    if ((st = n4d_model_set_layout(model, &lo)) != N4D_OK ||
        (st = n4d_model_build(model)) != N4D_OK ||
        (st = n4d_model_target_jumps(model, N4D_INDEX_INTERNAL, stats)) != N4D_OK ||
        (st = n4d_sim_create(model, NULL, &sim)) != N4D_OK) {
        fprintf(stderr, "zorder: %s\n", n4d_last_error(model));
        n4d_model_destroy(model);
        return st;
    }
    if ((st = n4d_sim_run(sim, STEPS)) != N4D_OK)
        fprintf(stderr, "zorder: %s\n", n4d_last_error(sim));
    *checksum = n4d_sim_checksum(sim);
    printf("%-8s %12.1f %18.3f %18.3f  %016" PRIx64 "\n",
           order == N4D_ORDER_ZORDER ? "zorder" : "lattice", stats->mean_jump,
           stats->lines_per_access, stats->pages_per_access, *checksum);
    n4d_sim_destroy(sim);
    n4d_model_destroy(model);
    return st;
}

int main(int argc, char **argv)
{
    const char *config = argc > 1 ? argv[1] : "examples/configs/demo.json";
    n4d_context *ctx = NULL;
    int rc = 1;

    /* 1. Morton codes: bit b of axis a becomes bit 4b + a, so every aligned
     * 2 x 2 x 2 x 2 block is 16 consecutive codes. */
    int roundtrip = 1;
    const uint32_t pts[][4] = {{0, 0, 0, 0}, {1, 0, 0, 0}, {0, 1, 0, 0}, {1, 1, 1, 1},
                               {2, 0, 0, 0}, {15, 15, 7, 3}, {65535, 1, 2, 3}};
    printf("Morton codes:\n");
    for (size_t k = 0; k < sizeof pts / sizeof pts[0]; k++) {
        uint32_t back[4];
        const uint64_t code = n4d_morton_encode4(pts[k]);
        n4d_morton_decode4(code, back);
        roundtrip &= memcmp(back, pts[k], sizeof back) == 0;
        printf("  (%u, %u, %u, %u) -> %" PRIu64 "\n", pts[k][0], pts[k][1], pts[k][2], pts[k][3],
               code);
    }

    /* 2. analyze_access_pattern on the guide's example. */
    const uint64_t seq[] = {0, 1, 2, 3, 50, 51, 52};
    n4d_access_stats a;
    memset(&a, 0, sizeof a);
    a.struct_size = sizeof a;
    CHECK(n4d_access_pattern(seq, 7, &a), NULL);
    printf("\naccess sequence 0 1 2 3 50 51 52: locality score %.3f, mean jump %.2f, "
           "sequential %.0f %%, lines per access %.2f\n",
           a.locality_score, a.mean_jump, 100 * a.sequential_fraction, a.lines_per_access);

    /* 3 and 4. The same model in both storage orders. */
    CHECK(n4d_context_create(NULL, &ctx), NULL);
    printf("\n%s, synapse targets in storage order, %d steps:\n", config, STEPS);
    printf("%-8s %12s %18s %18s  %s\n", "order", "mean jump", "lines per synapse",
           "pages per synapse", "checksum");
    n4d_access_stats lat, zo;
    uint64_t c_lat = 0, c_zo = 0;
    CHECK(build_and_run(ctx, config, N4D_ORDER_LATTICE, &lat, &c_lat), ctx);
    CHECK(build_and_run(ctx, config, N4D_ORDER_ZORDER, &zo, &c_zo), ctx);
    printf("Z-order: %.0f %% fewer pages, %.0f %% fewer lines per synapse; checksums %s\n",
           100 * (1 - zo.pages_per_access / lat.pages_per_access),
           100 * (1 - zo.lines_per_access / lat.lines_per_access),
           c_lat == c_zo ? "equal" : "DIFFER");
    if (!roundtrip || c_lat != c_zo || !(zo.pages_per_access < lat.pages_per_access))
        goto fail;
    rc = 0;

fail:
    n4d_context_destroy(ctx);
    return rc;
}
