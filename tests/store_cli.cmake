# The n4d program with HDF5 files (docs/storage.md): run --checkpoint, then
# resume gives the checksum of one uninterrupted run; a checkpoint runs as a
# saved model; --spikes FILE.h5 with --record-v; import of a 4D Neural
# Cognition save and running the result; clear errors for a 4D Neural
# Cognition file given as a model and for --record-v without an .h5 file;
# learning runs: plastic resume, --save-model, --record-weights.
if(TARGET n4d_cli AND N4D_WITH_HDF5)
  add_test(NAME store_cli
           COMMAND ${CMAKE_COMMAND}
                   -DN4D=$<TARGET_FILE:n4d_cli>
                   -DCONFIG=${PROJECT_SOURCE_DIR}/examples/configs/cuba.json
                   -DDATA=${CMAKE_CURRENT_LIST_DIR}/data
                   -DDIR=${CMAKE_CURRENT_BINARY_DIR}/store_cli
                   -P ${CMAKE_CURRENT_LIST_DIR}/cmake/store_cli_check.cmake)
  set_tests_properties(store_cli PROPERTIES TIMEOUT 300)
endif()
