# The MPI backend (tests/mpi/test_mpi.c, docs/distributed.md), registered
# only when MPI is built (N4D_MPI); otherwise test_mpi reports SKIPPED with
# the reason. Under Open MPI the environment allows running as root (CI)
# and more ranks than cores (3 and 4 ranks on a 2-core machine).
#
#   test_mpi_np1 .. np4   the checksums of 1..4 ranks x 1 and 2 threads equal
#                         the one-process run (cuba, brunel, demo, stdp_song,
#                         a 4D model with sense input fed on one rank)
#   mpi_cli_checksum      n4d-mpi on 3 ranks prints the golden CUBA checksum
#   mpi_cli_spikes        n4d-mpi's spike file (rank 0) equals n4d's, byte for byte
#   mpi_cli_rank_fails    a rank that cannot open its file stops every rank
#                         with a message (no hang: the test has a timeout)
# (more ranks than cores: ranks and OpenMP threads yield while they wait
# instead of spinning, else an oversubscribed run crawls)
set(N4D_MPI_TEST_ENV "OMPI_ALLOW_RUN_AS_ROOT=1;OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1;OMPI_MCA_rmaps_base_oversubscribe=1;OMPI_MCA_mpi_yield_when_idle=1;OMP_WAIT_POLICY=PASSIVE")
if(N4D_SANITIZE) # Open MPI's own allocations kept until exit (tests/mpi/lsan.supp)
  list(APPEND N4D_MPI_TEST_ENV
    "LSAN_OPTIONS=suppressions=${CMAKE_CURRENT_LIST_DIR}/mpi/lsan.supp:fast_unwind_on_malloc=0")
endif()
if(N4D_BUILD_MPI)
  add_executable(test_mpi ${CMAKE_CURRENT_LIST_DIR}/mpi/test_mpi.c)
  target_compile_definitions(test_mpi PRIVATE _POSIX_C_SOURCE=200809L
    N4D_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  target_include_directories(test_mpi PRIVATE ${CMAKE_CURRENT_LIST_DIR})
  target_link_libraries(test_mpi PRIVATE n4d_static n4d_mpi PkgConfig::CMOCKA)
  foreach(np 1 2 3 4)
    add_test(NAME test_mpi_np${np}
      COMMAND ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} ${np} ${MPIEXEC_PREFLAGS}
              $<TARGET_FILE:test_mpi> ${MPIEXEC_POSTFLAGS})
    set_tests_properties(test_mpi_np${np} PROPERTIES ENVIRONMENT "${N4D_MPI_TEST_ENV}"
      TIMEOUT 600 PROCESSORS 2)
  endforeach()
  # the golden checksum of cuba.json, 500 steps (tests/test_golden.c)
  add_test(NAME mpi_cli_checksum
    COMMAND ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} 3 $<TARGET_FILE:n4d_mpi_cli> run
            ${PROJECT_SOURCE_DIR}/examples/configs/cuba.json --steps 500 --quiet)
  set_tests_properties(mpi_cli_checksum PROPERTIES ENVIRONMENT "${N4D_MPI_TEST_ENV}" TIMEOUT 120
    PASS_REGULAR_EXPRESSION "ranks: +3.*checksum: +59370dc6e18dad6a")
  # the spike file, written by rank 0, is the one-process file byte for byte
  add_test(NAME mpi_cli_spikes COMMAND sh -c
    "\"$1\" run \"$3\" --steps 600 --quiet --spikes one.csv && \
     \"$4\" ${MPIEXEC_NUMPROC_FLAG} 3 \"$2\" run \"$3\" --steps 600 --quiet --spikes three.csv && \
     test -s one.csv && cmp one.csv three.csv" sh
    $<TARGET_FILE:n4d_cli> $<TARGET_FILE:n4d_mpi_cli>
    ${PROJECT_SOURCE_DIR}/examples/configs/demo.json ${MPIEXEC_EXECUTABLE})
  set_tests_properties(mpi_cli_spikes PROPERTIES ENVIRONMENT "${N4D_MPI_TEST_ENV}" TIMEOUT 120
    WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
  add_test(NAME mpi_cli_rank_fails
    COMMAND ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} 2 $<TARGET_FILE:n4d_mpi_cli> run
            ${PROJECT_SOURCE_DIR}/examples/configs/cuba.json --steps 50 --quiet
            --spikes ${CMAKE_CURRENT_BINARY_DIR}/no-such-dir/spikes.csv)
  set_tests_properties(mpi_cli_rank_fails PROPERTIES ENVIRONMENT "${N4D_MPI_TEST_ENV}" TIMEOUT 60
    PASS_REGULAR_EXPRESSION "cannot open .*no-such-dir.*rank 0 of 2 failed.*stopping every rank")
else()
  add_test(NAME test_mpi COMMAND sh -c
    "echo 'SKIPPED: MPI is not built (N4D_MPI=${N4D_MPI}; install libopenmpi-dev)'; exit 77")
  set_tests_properties(test_mpi PROPERTIES SKIP_RETURN_CODE 77)
endif()
