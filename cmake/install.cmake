# Installation (cmake --install), the pkg-config file, the CMake package and
# the Debian packages (cpack -G DEB). Included by the top-level
# CMakeLists.txt after the targets exist. Layout (GNUInstallDirs):
#
#   bin/n4d                              the program (libn4d linked statically)
#   LIBDIR/libn4d.so.X.Y.Z, .so.SOVER, .so   the shared library
#   LIBDIR/libn4d.a                      the static library
#   LIBDIR/libn4d_cuda.so                the CUDA backend, when built
#   LIBDIR/libn4d_mpi.so, bin/n4d-mpi    MPI (component "mpi"), when built
#   include/n4d.h, include/n4d/*.h       the public headers
#   LIBDIR/pkgconfig/n4d.pc              pkg-config
#   LIBDIR/cmake/n4d/                    find_package(n4d): n4d::n4d, n4d::n4d_static
#
# Components: "runtime" (the shared library, the program, the CUDA library)
# and "dev" (headers, static library, .so link, pkg-config, CMake package):
# the Debian packages n4d and n4d-dev.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(N4D_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/n4d)

install(TARGETS n4d EXPORT n4d-shared-targets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT dev)
install(TARGETS n4d_static EXPORT n4d-static-targets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev)
if(TARGET n4d_cli)
  install(TARGETS n4d_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)
endif()
# libn4d_mpi and n4d-mpi (N4D_MPI): their own component "mpi", installed by
# cmake --install and not in the Debian packages (which would then depend
# on Open MPI)
if(TARGET n4d_mpi)
  install(TARGETS n4d_mpi LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT mpi)
  install(TARGETS n4d_mpi_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT mpi)
endif()
install(FILES ${PROJECT_SOURCE_DIR}/include/n4d.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/n4d
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev FILES_MATCHING PATTERN "*.h")

# The two targets are exported separately: n4d::n4d needs nothing else,
# n4d::n4d_static needs its dependencies found again (n4dConfig.cmake).
install(EXPORT n4d-shared-targets NAMESPACE n4d:: DESTINATION ${N4D_CMAKE_DIR} COMPONENT dev)
install(EXPORT n4d-static-targets NAMESPACE n4d:: DESTINATION ${N4D_CMAKE_DIR} COMPONENT dev)

# Within 0.x a minor version may break the API and ABI (CHANGELOG.md), so
# find_package(n4d 0.2) accepts 0.2.x only; from 1.0 on, any 1.x.
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(N4D_COMPATIBILITY SameMinorVersion)
else()
  set(N4D_COMPATIBILITY SameMajorVersion)
endif()
set(N4D_CONFIG_OPENMP OFF)
if(OpenMP_C_FOUND)
  set(N4D_CONFIG_OPENMP ON)
endif()
set(N4D_CONFIG_HDF5 OFF)
if(N4D_WITH_HDF5)
  set(N4D_CONFIG_HDF5 ON)
endif()
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/n4dConfig.cmake.in
  ${PROJECT_BINARY_DIR}/cmake/n4dConfig.cmake INSTALL_DESTINATION ${N4D_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/cmake/n4dConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY ${N4D_COMPATIBILITY})
install(FILES ${PROJECT_BINARY_DIR}/cmake/n4dConfig.cmake
              ${PROJECT_BINARY_DIR}/cmake/n4dConfigVersion.cmake
  DESTINATION ${N4D_CMAKE_DIR} COMPONENT dev)

# pkg-config: relocatable (prefix from the file's own place). The static
# library's dependencies: Requires.private (their own .pc files give the
# right flags on the user's system) and Libs.private.
file(RELATIVE_PATH N4D_PC_TO_PREFIX ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
string(REGEX REPLACE "/$" "" N4D_PC_TO_PREFIX "${N4D_PC_TO_PREFIX}")
set(N4D_PC_REQUIRES_PRIVATE "jansson zlib")
set(N4D_PC_LIBS_PRIVATE "")
if(N4D_WITH_HDF5)
  pkg_check_modules(N4D_PC_HDF5 QUIET hdf5)
  if(N4D_PC_HDF5_FOUND)
    string(APPEND N4D_PC_REQUIRES_PRIVATE " hdf5")
  else()
    foreach(l ${HDF5_C_LIBRARIES})
      string(APPEND N4D_PC_LIBS_PRIVATE " ${l}")
    endforeach()
  endif()
endif()
if(OpenMP_C_FOUND)
  string(APPEND N4D_PC_LIBS_PRIVATE " ${OpenMP_C_FLAGS}")
endif()
string(APPEND N4D_PC_LIBS_PRIVATE " -lm -lpthread")
foreach(l ${CMAKE_DL_LIBS})
  string(APPEND N4D_PC_LIBS_PRIVATE " -l${l}")
endforeach()
string(STRIP "${N4D_PC_LIBS_PRIVATE}" N4D_PC_LIBS_PRIVATE)
configure_file(${CMAKE_CURRENT_LIST_DIR}/n4d.pc.in ${PROJECT_BINARY_DIR}/cmake/n4d.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/cmake/n4d.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)

# Debian packages: cpack -G DEB in the build directory makes n4d (runtime)
# and n4d-dev. The dependencies are Debian 12's package names.
set(CPACK_PACKAGE_NAME n4d)
set(CPACK_PACKAGE_VENDOR "the n4d authors")
set(CPACK_PACKAGE_CONTACT "the n4d authors")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "spiking neural networks on a 4D lattice")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_COMPONENTS_ALL runtime dev)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME n4d)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION science)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_DEPENDS "libc6, libjansson4, zlib1g")
if(N4D_WITH_HDF5)
  string(APPEND CPACK_DEBIAN_RUNTIME_PACKAGE_DEPENDS ", libhdf5-103-1")
endif()
if(OpenMP_C_FOUND)
  string(APPEND CPACK_DEBIAN_RUNTIME_PACKAGE_DEPENDS ", libgomp1")
endif()
# ldconfig after (un)installing the shared library
file(WRITE ${PROJECT_BINARY_DIR}/cmake/deb/triggers "activate-noawait ldconfig\n")
set(CPACK_DEBIAN_RUNTIME_PACKAGE_CONTROL_EXTRA ${PROJECT_BINARY_DIR}/cmake/deb/triggers)
set(CPACK_DEBIAN_DEV_PACKAGE_NAME n4d-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
# the static library and n4d.pc's Requires.private need the dependencies' -dev packages
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "n4d (= ${PROJECT_VERSION}), libjansson-dev, zlib1g-dev")
if(N4D_WITH_HDF5)
  string(APPEND CPACK_DEBIAN_DEV_PACKAGE_DEPENDS ", libhdf5-dev")
endif()
set(CPACK_DEBIAN_DEV_PACKAGE_RECOMMENDS "pkg-config")
set(CPACK_COMPONENT_RUNTIME_DESCRIPTION "n4d library and program")
set(CPACK_COMPONENT_DEV_DESCRIPTION "n4d headers, static library, pkg-config and CMake files")
include(CPack)

# The API reference: cmake --build BUILD --target docs (doxygen; BUILD/docs/html)
add_custom_target(docs
  COMMAND ${PROJECT_SOURCE_DIR}/scripts/docs.sh --no-install ${PROJECT_BINARY_DIR}/docs
  WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
  COMMENT "API reference (doxygen) in ${PROJECT_BINARY_DIR}/docs/html"
  VERBATIM)
