# The layering rules of docs/architecture.md, checked on the library's
# object files: no call cycle between source files, no include cycle
# between headers, the core names no module or backend
# (scripts/check-deps.py).
find_package(Python3 COMPONENTS Interpreter)
find_program(N4D_OBJDUMP objdump)
find_program(N4D_NM nm)
if(Python3_Interpreter_FOUND AND N4D_OBJDUMP AND N4D_NM)
  add_test(NAME check_layering
    COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/scripts/check-deps.py
            ${PROJECT_SOURCE_DIR}/src $<TARGET_OBJECTS:n4d_objects>)
  set_tests_properties(check_layering PROPERTIES PASS_REGULAR_EXPRESSION " 0 violation")
else()
  message(STATUS "check_layering: python3, objdump or nm missing; the layering test is not run")
endif()
