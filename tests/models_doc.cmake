# docs/models.md's parameter tables are the registry's (`n4d models
# --markdown`): the test fails when the doc and the registry disagree. To
# update the doc, replace the text between its "models:begin" and
# "models:end" markers with the program's output.
if(TARGET n4d_cli)
  add_test(NAME models_doc
           COMMAND ${CMAKE_COMMAND}
                   -DN4D=$<TARGET_FILE:n4d_cli>
                   -DDOC=${PROJECT_SOURCE_DIR}/docs/models.md
                   -P ${CMAKE_CURRENT_LIST_DIR}/cmake/models_doc_check.cmake)
endif()
