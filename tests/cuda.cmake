# The CUDA backend and GPU API tests (tests/test_cuda.c, docs/gpu.md).
# test_cuda itself is registered by the test_*.c glob (host-side logic);
# here: its environment, and the other modes of the same program.
#
#   test_cuda              host logic; loads the build's libn4d_cuda.so
#                          through N4D_CUDA_LIBRARY; no GPU needed
#   test_cuda_absent       N4D_CUDA_LIBRARY points nowhere: N4D_E_NOT_BUILT
#   test_cuda_search       linked to the shared libn4d, no N4D_CUDA_LIBRARY:
#                          the library is found next to libn4d.so (dladdr)
#   test_cuda_harness      the conformance suite with cpu-omp in place of cuda
#   test_cuda_conformance  the conformance suite on the cuda backend, bitwise
#                          against cpu-ref; SKIPPED (77) without a device
if(TARGET n4d_cuda)
  target_compile_definitions(test_cuda PRIVATE N4D_TEST_CUDA_LIB="$<TARGET_FILE:n4d_cuda>")
  add_dependencies(test_cuda n4d_cuda)
  set_tests_properties(test_cuda PROPERTIES
    ENVIRONMENT "N4D_CUDA_LIBRARY=$<TARGET_FILE:n4d_cuda>")

  add_executable(test_cuda_shared ${CMAKE_CURRENT_LIST_DIR}/test_cuda.c)
  target_compile_definitions(test_cuda_shared PRIVATE _POSIX_C_SOURCE=200809L
    N4D_TEST_CUDA_LIB="$<TARGET_FILE:n4d_cuda>" N4D_BINARY_DIR="${PROJECT_BINARY_DIR}")
  target_link_libraries(test_cuda_shared PRIVATE n4d n4d_internal PkgConfig::CMOCKA)
  add_dependencies(test_cuda_shared n4d_cuda)
  add_test(NAME test_cuda_search COMMAND test_cuda_shared search)
  set_tests_properties(test_cuda_search PROPERTIES SKIP_RETURN_CODE 77)
endif()

add_test(NAME test_cuda_absent COMMAND test_cuda absent)
set_tests_properties(test_cuda_absent PROPERTIES
  ENVIRONMENT "N4D_CUDA_LIBRARY=${CMAKE_CURRENT_BINARY_DIR}/no-such-dir/libn4d_cuda.so")

add_test(NAME test_cuda_harness COMMAND test_cuda harness)
set_tests_properties(test_cuda_harness PROPERTIES TIMEOUT 900)

add_test(NAME test_cuda_conformance COMMAND test_cuda conformance)
set_tests_properties(test_cuda_conformance PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 900)
if(TARGET n4d_cuda)
  set_tests_properties(test_cuda_conformance PROPERTIES
    ENVIRONMENT "N4D_CUDA_LIBRARY=$<TARGET_FILE:n4d_cuda>")
endif()
