/* The public headers compile as C11 without warnings (-Wall -Wextra
 * -Wpedantic -Werror, see headers.cmake): include the umbrella header and
 * every part, twice (include guards), use the types, print the version. */
#include <n4d.h>
#include <n4d.h>
#include <n4d/common.h>
#include <n4d/model.h>
#include <n4d/sim.h>

#include <stdio.h>
#include <string.h>

int main(void)
{
#ifdef N4D_HEADER_CHECK_SKIP_CXX
    /* built by headers.cmake in place of header_check.cpp when CMake finds
     * no C++ compiler: ctest reports the test as skipped */
    printf("SKIPPED: no C++ compiler\n");
    return 77;
#endif
    n4d_context_options co;
    n4d_population_desc pd;
    n4d_projection_desc pj;
    n4d_input_desc in;
    n4d_sim_options so;
    n4d_context_options_init(&co);
    n4d_population_desc_init(&pd);
    n4d_projection_desc_init(&pj);
    n4d_input_desc_init(&in);
    n4d_sim_options_init(&so);
    n4d_dist d = n4d_dist_uniform(0.0, 1.0);
    const char *v = n4d_version_string();
    char expect[32];
    snprintf(expect, sizeof expect, "%d.%d.%d", N4D_VERSION_MAJOR, N4D_VERSION_MINOR,
             N4D_VERSION_PATCH);
    printf("n4d %s (C)\n", v);
    if (strcmp(v, expect) != 0 || co.struct_size != sizeof co || pd.struct_size != sizeof pd ||
        pj.struct_size != sizeof pj || in.struct_size != sizeof in || so.struct_size != sizeof so ||
        d.kind != N4D_DIST_UNIFORM || n4d_status_string(N4D_E_NOMEM)[0] == '\0') {
        fprintf(stderr, "unexpected values (version \"%s\", expected \"%s\")\n", v, expect);
        return 1;
    }
    return 0;
}
