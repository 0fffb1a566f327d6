# Included by the top-level CMakeLists.txt before add_subdirectory(src):
# decides whether the CUDA backend library (cuda/, libn4d_cuda.so) is built
# and enables the CUDA language in the top directory, as CMake requires.
#
#   N4D_CUDA=AUTO (default)  build it when nvcc is found
#   N4D_CUDA=ON              build it, fail when nvcc is missing
#   N4D_CUDA=OFF             do not build it
#
# Architectures: CMAKE_CUDA_ARCHITECTURES, default "75;80;90" (Turing to
# Hopper, with PTX of the last for newer GPUs); an explicit list is required,
# "native" is refused (it fails on machines without a GPU and makes builds
# depend on the build machine).
n4d_auto_option(N4D_CUDA "Build the CUDA backend library libn4d_cuda (AUTO, ON, OFF)")
set(N4D_BUILD_CUDA OFF)
if(NOT N4D_CUDA_MODE STREQUAL "OFF")
  if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES OR "${CMAKE_CUDA_ARCHITECTURES}" STREQUAL "")
    set(CMAKE_CUDA_ARCHITECTURES "75;80;90" CACHE STRING "CUDA architectures of libn4d_cuda")
  endif()
  if(CMAKE_CUDA_ARCHITECTURES MATCHES "native|all")
    message(FATAL_ERROR "CMAKE_CUDA_ARCHITECTURES=${CMAKE_CUDA_ARCHITECTURES}: give an explicit "
                        "list such as 75;80;90 (native and all are not supported)")
  endif()
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    enable_language(CUDA)
    find_package(CUDAToolkit)
    if(CUDAToolkit_FOUND AND TARGET CUDA::cusparse AND TARGET CUDA::cublas)
      set(N4D_BUILD_CUDA ON)
    elseif(N4D_CUDA_MODE STREQUAL "ON")
      message(FATAL_ERROR "N4D_CUDA=ON: the CUDA toolkit lacks cuSPARSE or cuBLAS")
    endif()
  elseif(N4D_CUDA_MODE STREQUAL "ON")
    message(FATAL_ERROR "N4D_CUDA=ON but no CUDA compiler (nvcc) was found")
  endif()
endif()
if(N4D_BUILD_CUDA)
  message(STATUS "n4d: building the CUDA backend (architectures ${CMAKE_CUDA_ARCHITECTURES})")
else()
  message(STATUS "n4d: not building the CUDA backend (N4D_CUDA=${N4D_CUDA})")
endif()
