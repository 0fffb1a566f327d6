# The Python package's tests (python/tests, pytest) against this build's
# libn4d and n4d program: one ctest test, "python". Skipped (77) when no
# Python 3 with numpy, matplotlib and pytest is found (N4D_PYTHON chooses
# one). Not registered in sanitizer builds: an instrumented libn4d cannot be
# loaded into an uninstrumented interpreter without preloading the runtime.
if(NOT N4D_SANITIZE AND NOT N4D_TSAN)
  set(N4D_PYTHON "" CACHE FILEPATH "Python 3 for the python test (empty: search)")
  set(n4d_pytest_python "${N4D_PYTHON}")
  if(NOT n4d_pytest_python)
    # the first python3 on the PATH, then the system's (where Debian's packages are)
    find_program(N4D_PYTHON3_FOR_PYTEST NAMES python3)
    set(n4d_py_candidates ${N4D_PYTHON3_FOR_PYTEST})
    foreach(dir /usr/bin /usr/local/bin)
      if(EXISTS ${dir}/python3)
        list(APPEND n4d_py_candidates ${dir}/python3)
      endif()
    endforeach()
    foreach(py ${n4d_py_candidates})
      execute_process(COMMAND ${py} -c "import numpy, matplotlib, pytest"
                      RESULT_VARIABLE n4d_py_rc OUTPUT_QUIET ERROR_QUIET)
      if(n4d_py_rc EQUAL 0)
        set(n4d_pytest_python ${py})
        break()
      endif()
    endforeach()
    if(NOT n4d_pytest_python)
      list(GET n4d_py_candidates 0 n4d_pytest_python) # run_pytest.py says what is missing
    endif()
  endif()
  if(n4d_pytest_python)
    # OMP_WAIT_POLICY=PASSIVE: the tests run cpu-omp with 2 threads beside the
    # other tests; spinning OpenMP threads on a busy 2-core machine made the test
    # 4x slower (47 s -> 10 s measured). Results do not depend on it.
    add_test(NAME python COMMAND ${n4d_pytest_python} ${PROJECT_SOURCE_DIR}/python/tests/run_pytest.py)
    set_tests_properties(python PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600
      ENVIRONMENT "N4D_LIBRARY=$<TARGET_FILE:n4d>;N4D_CLI=$<TARGET_FILE:n4d_cli>;PYTHONDONTWRITEBYTECODE=1;MPLBACKEND=Agg;OMP_WAIT_POLICY=PASSIVE")
  endif()
endif()
