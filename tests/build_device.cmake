# Construction on the GPU, tested without a GPU (tests/test_build_device.c):
# n4d_cuda_mock is a stand-in for libn4d_cuda.so (tests/mock_cuda.c) that runs
# the device build's algorithm on the host; the test loads it through
# N4D_CUDA_LIBRARY. Plain C: built and run everywhere, with or without nvcc.
add_library(n4d_cuda_mock MODULE ${CMAKE_CURRENT_LIST_DIR}/mock_cuda.c)
target_link_libraries(n4d_cuda_mock PRIVATE n4d_internal)
# the device's versions of the generator's bulk draws and sorts (the
# host's vectorised ones live in the library, synapse_gen.h)
target_compile_definitions(n4d_cuda_mock PRIVATE N4D_SG_DEVICE=1)
target_include_directories(n4d_cuda_mock PRIVATE ${PROJECT_SOURCE_DIR}/include)
target_link_libraries(n4d_cuda_mock PRIVATE m)
set_target_properties(n4d_cuda_mock PROPERTIES C_STANDARD 11 C_EXTENSIONS OFF
  C_VISIBILITY_PRESET hidden)
add_dependencies(test_build_device n4d_cuda_mock)
set_tests_properties(test_build_device PROPERTIES
  ENVIRONMENT "N4D_CUDA_LIBRARY=$<TARGET_FILE:n4d_cuda_mock>" SKIP_RETURN_CODE 77)

# The conformance suite of the cuda backend (tests/test_cuda.c) against the
# mock: the core's cuda shim, the report protocol (chunks, record buffer
# halts, pending steps, state syncs) and the device build, without a GPU.
add_test(NAME test_cuda_mock COMMAND test_cuda conformance)
set_tests_properties(test_cuda_mock PROPERTIES
  ENVIRONMENT "N4D_CUDA_LIBRARY=$<TARGET_FILE:n4d_cuda_mock>" TIMEOUT 900)

# A device whose simulations are wrong (N4D_MOCK_CORRUPT): the self-test
# keeps "auto" on the CPU.
add_test(NAME test_build_device_selftest COMMAND test_build_device selftest-fails)
set_tests_properties(test_build_device_selftest PROPERTIES
  ENVIRONMENT "N4D_CUDA_LIBRARY=$<TARGET_FILE:n4d_cuda_mock>;N4D_MOCK_CORRUPT=1"
  SKIP_RETURN_CODE 77)

# The spike and current inputs, explicit projections and per-sim weights
# with the mock as the device: cuda refuses them with N4D_E_UNSUPPORTED
# (tests/test_inputs.c, test_explicit.c, test_set_weights.c).
foreach(t test_inputs test_explicit test_set_weights test_poisson)
  if(TARGET ${t})
    add_test(NAME ${t}_cuda_mock COMMAND ${t})
    set_tests_properties(${t}_cuda_mock PROPERTIES
      ENVIRONMENT "N4D_CUDA_LIBRARY=$<TARGET_FILE:n4d_cuda_mock>")
  endif()
endforeach()

# The host-side tests of the cuda backend and of the GPU array API with the
# mock as "the device": the device paths of include/n4d/gpu.h, the backend
# choice with a device present, the device build.
add_test(NAME test_cuda_mock_host COMMAND test_cuda mock-host)
set_tests_properties(test_cuda_mock_host PROPERTIES
  ENVIRONMENT "N4D_CUDA_LIBRARY=$<TARGET_FILE:n4d_cuda_mock>")

# Plastic synapses on the cuda backend against the mock (the kernels'
# per-thread functions of src/core/plastic_dev.h on the host): bitwise
# cpu-ref, weight reads and checkpoints (tests/test_plastic_store.c).
if(TARGET test_plastic_store)
  add_test(NAME test_plastic_store_cuda_mock COMMAND test_plastic_store cuda)
  set_tests_properties(test_plastic_store_cuda_mock PROPERTIES
    ENVIRONMENT "N4D_CUDA_LIBRARY=$<TARGET_FILE:n4d_cuda_mock>" SKIP_RETURN_CODE 77 TIMEOUT 900)
  add_dependencies(test_plastic_store n4d_cuda_mock)
endif()
