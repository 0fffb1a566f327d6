# Storage tests (docs/storage.md). test_store and test_store_corrupt exit 77
# when the library has no HDF5. store_h5py: h5py reads the spike file, the
# state report, a saved model and a checkpoint written by store_h5py_gen;
# skipped (77) when no Python 3 with h5py is found. Set N4D_H5PY_PYTHON to
# choose the interpreter.
set_tests_properties(test_store test_store_corrupt test_learn_store PROPERTIES SKIP_RETURN_CODE 77)
if(N4D_WITH_HDF5)
  # they also read and damage files with the HDF5 C API
  foreach(t test_store test_store_corrupt test_plastic_store test_learn_store test_hostile)
    target_compile_definitions(${t} PRIVATE N4D_TEST_HDF5=1)
    target_link_libraries(${t} PRIVATE hdf5::hdf5)
  endforeach()
endif()

add_executable(store_h5py_gen ${CMAKE_CURRENT_LIST_DIR}/store_h5py_gen.c)
target_link_libraries(store_h5py_gen PRIVATE n4d_static)

set(N4D_H5PY_PYTHON "" CACHE FILEPATH "Python 3 with h5py for the store_h5py test (empty: search)")
set(n4d_h5py_python "${N4D_H5PY_PYTHON}")
if(NOT n4d_h5py_python)
  # the first python3 on the PATH, then the system's (distributions package h5py for it)
  find_program(N4D_PYTHON3_ON_PATH NAMES python3)
  set(n4d_py_candidates ${N4D_PYTHON3_ON_PATH})
  foreach(dir /usr/bin /usr/local/bin)
    if(EXISTS ${dir}/python3)
      list(APPEND n4d_py_candidates ${dir}/python3)
    endif()
  endforeach()
  foreach(py ${n4d_py_candidates})
    execute_process(COMMAND ${py} -c "import h5py, numpy" RESULT_VARIABLE n4d_py_rc
                    OUTPUT_QUIET ERROR_QUIET)
    if(n4d_py_rc EQUAL 0)
      set(n4d_h5py_python ${py})
      break()
    endif()
  endforeach()
endif()
if(n4d_h5py_python AND N4D_WITH_HDF5)
  add_test(NAME store_h5py
           COMMAND ${n4d_h5py_python} ${CMAKE_CURRENT_LIST_DIR}/store_h5py.py
                   $<TARGET_FILE:store_h5py_gen> ${CMAKE_CURRENT_BINARY_DIR}/store_h5py)
else()
  add_test(NAME store_h5py COMMAND store_h5py_gen --skip)
endif()
set_tests_properties(store_h5py PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 120)
