# n4d bench (src/cli/cli_bench.c): argument errors are usage errors (exit 2)
# with a message naming the problem; a tiny scaling run prints the table with
# equal checksums; the GPU benchmark runs (CPU times only without a GPU).
if(TARGET n4d_cli)
  add_test(NAME bench_cli
           COMMAND ${CMAKE_COMMAND}
                   -DN4D=$<TARGET_FILE:n4d_cli>
                   -DCONFIG=${PROJECT_SOURCE_DIR}/examples/configs/cuba.json
                   -DWORK=${CMAKE_CURRENT_BINARY_DIR}/bench_cli
                   -P ${CMAKE_CURRENT_LIST_DIR}/cmake/bench_cli_check.cmake)
  set_tests_properties(bench_cli PROPERTIES TIMEOUT 120)
endif()
