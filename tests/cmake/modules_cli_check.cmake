# Driver of the modules_cli test (tests/modules_cli.cmake): cmake -P with N4D
# and CONFIG set.
function(n4d_call expect_rc out_var)
  execute_process(COMMAND ${N4D} ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL expect_rc)
    message(FATAL_ERROR "n4d ${ARGN}: exit ${rc} (expected ${expect_rc})\n${out}\n${err}")
  endif()
  set(${out_var} "${out}${err}" PARENT_SCOPE)
endfunction()

function(line_of text key out_var)
  string(REGEX MATCH "${key}: +[^\n]*" line "${text}")
  if(NOT line)
    message(FATAL_ERROR "no '${key}' line in:\n${text}")
  endif()
  set(${out_var} "${line}" PARENT_SCOPE)
endfunction()

function(expect text pattern)
  if(NOT text MATCHES "${pattern}")
    message(FATAL_ERROR "no '${pattern}' in:\n${text}")
  endif()
endfunction()

# the storage layout never changes the result
n4d_call(0 plain run ${CONFIG} --steps 300 --quiet)
n4d_call(0 zord run ${CONFIG} --steps 300 --quiet --layout zorder --partitions 3 --threads 2
         --profile)
line_of("${plain}" "checksum" c_plain)
line_of("${zord}" "checksum" c_zord)
if(NOT c_plain STREQUAL c_zord)
  message(FATAL_ERROR "--layout/--partitions changed the result:\n${plain}\n---\n${zord}")
endif()
# --profile: the section table and the memory report
foreach(p "section +calls +total" "neuron update +300 " "delivery" "recording" "build +1 "
          "memory:" "synapses +[0-9.]+" "peak total")
  expect("${zord}" "${p}")
endforeach()
# without --profile: no table
if(plain MATCHES "neuron update")
  message(FATAL_ERROR "a profile without --profile:\n${plain}")
endif()
# info --partitions
n4d_call(0 info info ${CONFIG} --partitions 7)
foreach(p "partitions: +7 " "neurons +per partition: mean [0-9.]+, std" "imbalance"
          "\n +6 +[0-9]+ +[0-9]+ +[0-9]+-[0-9]+ ")
  expect("${info}" "${p}")
endforeach()
n4d_call(0 info2 info ${CONFIG} --layout zorder)
# usage errors
n4d_call(2 e1 info ${CONFIG} --partitions 99999999)
expect("${e1}" "partitions")
n4d_call(2 e2 run ${CONFIG} --steps 10 --layout diagonal)
expect("${e2}" "lattice or zorder")
n4d_call(2 e3 run ${CONFIG} --steps 10 --partitions 0)
n4d_call(2 e4 info ${CONFIG} --profile)

# --build-backend: auto builds the same model (here on the CPU: small model);
# a bad name is a usage error; cuda without a usable GPU a runtime error
n4d_call(0 auto run ${CONFIG} --steps 300 --quiet --build-backend auto)
line_of("${auto}" "checksum" c_auto)
if(NOT c_plain STREQUAL c_auto)
  message(FATAL_ERROR "--build-backend auto changed the result:\n${plain}\n---\n${auto}")
endif()
expect("${plain}" "build time: +[0-9.]+ s \\(cpu\\)")
n4d_call(2 e6 run ${CONFIG} --steps 10 --build-backend gpu)
expect("${e6}" "unknown build backend \"gpu\"")
execute_process(COMMAND ${N4D} info ${CONFIG} --build-backend cuda RESULT_VARIABLE rc_cuda
                OUTPUT_VARIABLE out_cuda ERROR_VARIABLE err_cuda)
if(NOT rc_cuda EQUAL 0 AND NOT (rc_cuda EQUAL 1 AND err_cuda MATCHES "not available"))
  message(FATAL_ERROR "info --build-backend cuda: exit ${rc_cuda}\n${out_cuda}\n${err_cuda}")
endif()

# --memory-limit: a bad size is a usage error; a model whose synapses do not
# fit is refused (exit 1) with the figures; with room the result is the same
n4d_call(2 m1 info ${CONFIG} --memory-limit 4x)
expect("${m1}" "--memory-limit: expected a size in bytes > 0")
n4d_call(2 m2 info ${CONFIG} --memory-limit 0)
expect("${m2}" "--memory-limit: expected a size")
n4d_call(1 m3 info ${CONFIG} --memory-limit 1M)
expect("${m3}" "the context's memory limit of 1.0 MB leaves")
n4d_call(0 m4 run ${CONFIG} --steps 300 --quiet --memory-limit 2Gi)
line_of("${m4}" "checksum" c_m4)
if(NOT c_m4 STREQUAL c_plain)
  message(FATAL_ERROR "--memory-limit changed the result:\n${m4}")
endif()
