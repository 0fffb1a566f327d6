# Files written by n4d 0.1 (tests/data/v1_checkpoint.h5: `n4d run
# v1_checkpoint.json --steps 200 --gzip --checkpoint v1_checkpoint.h5` with
# the 0.1.0 program; lif with its own parameters, lif_exp, lif_cond_exp and
# an izhikevich preset, synapses, Poisson and DC input). With 0.1.0,
# resuming it for 300 steps and running its model for 500 steps from the
# start both gave checksum 62a31f9fefe992a9 (192 spikes); this version must
# read its version-1 description and its state arrays and give the same.
if(TARGET n4d_cli AND N4D_WITH_HDF5)
  add_test(NAME compat_v1_resume
           COMMAND n4d_cli resume ${CMAKE_CURRENT_LIST_DIR}/data/v1_checkpoint.h5 --steps 300)
  add_test(NAME compat_v1_model
           COMMAND n4d_cli run ${CMAKE_CURRENT_LIST_DIR}/data/v1_checkpoint.h5 --steps 500)
  add_test(NAME compat_v1_config
           COMMAND n4d_cli run ${CMAKE_CURRENT_LIST_DIR}/data/v1_checkpoint.json --steps 500)
  set_tests_properties(compat_v1_resume compat_v1_model compat_v1_config PROPERTIES
                       PASS_REGULAR_EXPRESSION "checksum: +62a31f9fefe992a9")
endif()
