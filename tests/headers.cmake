# The public headers compile warning-free as C11 and as C++11 (docs/architecture.md,
# "API conventions"): header_check.c and header_check.cpp include <n4d.h>, call
# n4d_version_string() and exit 0. Registered as header_check_c and
# header_check_cpp; without a C++ compiler header_check_cpp reports SKIPPED
# (exit code 77, SKIP_RETURN_CODE).

set(N4D_HEADER_CHECK_FLAGS -Wall -Wextra -Wpedantic -Werror)

add_executable(header_check_c ${CMAKE_CURRENT_LIST_DIR}/header_check.c)
set_target_properties(header_check_c PROPERTIES
  C_STANDARD 11 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF)
target_compile_options(header_check_c PRIVATE ${N4D_HEADER_CHECK_FLAGS})
target_link_libraries(header_check_c PRIVATE n4d_static)
add_test(NAME header_check_c COMMAND header_check_c)

include(CheckLanguage)
check_language(CXX)
if(CMAKE_CXX_COMPILER)
  enable_language(CXX)
  add_executable(header_check_cpp ${CMAKE_CURRENT_LIST_DIR}/header_check.cpp)
  set_target_properties(header_check_cpp PROPERTIES
    CXX_STANDARD 11 CXX_STANDARD_REQUIRED ON CXX_EXTENSIONS OFF)
  # The project-wide options include the C-only -Wstrict-prototypes: keep
  # the rest, drop that one for this C++ target.
  get_target_property(n4d_hc_opts header_check_cpp COMPILE_OPTIONS)
  if(n4d_hc_opts)
    list(REMOVE_ITEM n4d_hc_opts -Wstrict-prototypes)
    set_target_properties(header_check_cpp PROPERTIES COMPILE_OPTIONS "${n4d_hc_opts}")
  endif()
  target_compile_options(header_check_cpp PRIVATE ${N4D_HEADER_CHECK_FLAGS})
  target_link_libraries(header_check_cpp PRIVATE n4d_static)
  add_test(NAME header_check_cpp COMMAND header_check_cpp)
else()
  # the C program built in "skip" mode prints the reason and exits 77
  add_executable(header_check_cpp_skip ${CMAKE_CURRENT_LIST_DIR}/header_check.c)
  target_compile_definitions(header_check_cpp_skip PRIVATE N4D_HEADER_CHECK_SKIP_CXX)
  target_link_libraries(header_check_cpp_skip PRIVATE n4d_static)
  add_test(NAME header_check_cpp COMMAND header_check_cpp_skip)
  set_tests_properties(header_check_cpp PROPERTIES SKIP_RETURN_CODE 77)
endif()

# Every public header is self-contained: a translation unit that includes
# only that header compiles warning-free as C11 (and as C++11 when a C++
# compiler exists). Built as object libraries, so a broken header fails the
# build of the tests.
file(GLOB N4D_PUBLIC_HEADERS CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/include/n4d/*.h)
# n4d/mpi.h needs <mpi.h>: checked when MPI is built (N4D_MPI)
if(NOT N4D_BUILD_MPI)
  list(REMOVE_ITEM N4D_PUBLIC_HEADERS ${PROJECT_SOURCE_DIR}/include/n4d/mpi.h)
endif()
set(n4d_hc_c_sources)
set(n4d_hc_cxx_sources)
foreach(h ${N4D_PUBLIC_HEADERS})
  get_filename_component(n ${h} NAME_WE)
  set(body "#include <n4d/${n}.h>\n#include <n4d/${n}.h>\nint n4d_header_check_${n}(void);\nint n4d_header_check_${n}(void) { return 0; }\n")
  set(c ${CMAKE_CURRENT_BINARY_DIR}/header_check/${n}.c)
  set(cxx ${CMAKE_CURRENT_BINARY_DIR}/header_check/${n}.cpp)
  # write only when changed, so reconfiguring does not rebuild
  foreach(f ${c} ${cxx})
    set(old "")
    if(EXISTS ${f})
      file(READ ${f} old)
    endif()
    if(NOT old STREQUAL body)
      file(WRITE ${f} "${body}")
    endif()
  endforeach()
  list(APPEND n4d_hc_c_sources ${c})
  list(APPEND n4d_hc_cxx_sources ${cxx})
endforeach()
add_library(header_check_each_c OBJECT ${n4d_hc_c_sources})
set_target_properties(header_check_each_c PROPERTIES
  C_STANDARD 11 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF)
target_compile_options(header_check_each_c PRIVATE ${N4D_HEADER_CHECK_FLAGS})
target_include_directories(header_check_each_c PRIVATE ${PROJECT_SOURCE_DIR}/include)
if(N4D_BUILD_MPI)
  target_link_libraries(header_check_each_c PRIVATE MPI::MPI_C)
endif()
if(TARGET header_check_cpp)
  add_library(header_check_each_cpp OBJECT ${n4d_hc_cxx_sources})
  set_target_properties(header_check_each_cpp PROPERTIES
    CXX_STANDARD 11 CXX_STANDARD_REQUIRED ON CXX_EXTENSIONS OFF)
  get_target_property(n4d_hc_opts header_check_each_cpp COMPILE_OPTIONS)
  if(n4d_hc_opts)
    list(REMOVE_ITEM n4d_hc_opts -Wstrict-prototypes)
    set_target_properties(header_check_each_cpp PROPERTIES COMPILE_OPTIONS "${n4d_hc_opts}")
  endif()
  target_compile_options(header_check_each_cpp PRIVATE ${N4D_HEADER_CHECK_FLAGS})
  target_include_directories(header_check_each_cpp PRIVATE ${PROJECT_SOURCE_DIR}/include)
  if(N4D_BUILD_MPI) # the C headers of MPI (no C++ bindings)
    target_include_directories(header_check_each_cpp PRIVATE ${MPI_C_INCLUDE_DIRS})
    target_compile_definitions(header_check_each_cpp PRIVATE OMPI_SKIP_MPICXX MPICH_SKIP_MPICXX)
  endif()
endif()
