# The n4d program with the module options (docs/modules.md): --layout and
# --partitions leave the checksum unchanged; --profile prints the section
# table and the memory per component; info --partitions prints the boxes and
# their load balance; bad values are usage errors (exit 2).
if(TARGET n4d_cli)
  add_test(NAME modules_cli
           COMMAND ${CMAKE_COMMAND}
                   -DN4D=$<TARGET_FILE:n4d_cli>
                   -DCONFIG=${PROJECT_SOURCE_DIR}/examples/configs/cuba.json
                   -P ${CMAKE_CURRENT_LIST_DIR}/cmake/modules_cli_check.cmake)
  set_tests_properties(modules_cli PROPERTIES TIMEOUT 300)
endif()
