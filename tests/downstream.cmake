# The installed library as its users see it (tests/downstream/run.sh):
# `cmake --install` of this build into <build>/_inst, then programs built
# against that prefix with find_package(n4d) and with pkg-config, shared and
# static, must print the installed n4d program's checksum; the installed
# program must find the CUDA library in its prefix (the stand-in
# n4d_cuda_mock when the real one is not built). Not in sanitizer builds (a
# program linking an instrumented libn4d needs the sanitizer runtimes).
if(TARGET n4d_cli AND NOT N4D_SANITIZE AND NOT N4D_TSAN)
  find_program(N4D_BASH bash)
  set(n4d_ds_mock "")
  if(TARGET n4d_cuda_mock)
    set(n4d_ds_mock --mock-cuda $<TARGET_FILE:n4d_cuda_mock>)
  endif()
  add_test(NAME downstream_install
    COMMAND ${N4D_BASH} ${CMAKE_CURRENT_LIST_DIR}/downstream/run.sh
            --install ${PROJECT_BINARY_DIR} ${n4d_ds_mock} ${PROJECT_BINARY_DIR}/_inst)
  set_tests_properties(downstream_install PROPERTIES TIMEOUT 300)
endif()
