// The public headers compile as C++ (C++11 or later) without warnings
// (-Wall -Wextra -Wpedantic -Werror, see headers.cmake) and give C linkage:
// include the umbrella header and every part, use the types, print the
// version.
#include <n4d.h>
#include <n4d.h>
#include <n4d/common.h>
#include <n4d/model.h>
#include <n4d/sim.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <type_traits>

static_assert(std::is_same<n4d_status, std::int32_t>::value, "n4d_status is int32_t");
static_assert(std::is_standard_layout<n4d_sim_options>::value, "option structs are plain C");

int main()
{
    n4d_context_options co;
    n4d_population_desc pd;
    n4d_projection_desc pj;
    n4d_sim_options so;
    n4d_context_options_init(&co);
    n4d_population_desc_init(&pd);
    n4d_projection_desc_init(&pj);
    n4d_sim_options_init(&so);
    const n4d_dist d = n4d_dist_normal(1.0, 0.5, 0.0, 2.0);
    n4d_context *ctx = nullptr;
    n4d_context_destroy(ctx); // NULL is a no-op
    const char *v = n4d_version_string();
    const std::string expect = std::to_string(N4D_VERSION_MAJOR) + "." +
                               std::to_string(N4D_VERSION_MINOR) + "." +
                               std::to_string(N4D_VERSION_PATCH);
    std::printf("n4d %s (C++)\n", v);
    if (expect != v || co.struct_size != sizeof co || pd.struct_size != sizeof pd ||
        pj.struct_size != sizeof pj || so.struct_size != sizeof so || d.kind != N4D_DIST_NORMAL ||
        std::strlen(n4d_status_string(N4D_OK)) == 0) {
        std::fprintf(stderr, "unexpected values (version \"%s\", expected \"%s\")\n", v,
                     expect.c_str());
        return 1;
    }
    return 0;
}
