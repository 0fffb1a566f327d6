# Driver of the bench_cli test (tests/bench_cli.cmake): cmake -P with N4D,
# CONFIG and WORK set.
function(n4d_call expect_rc out_var)
  execute_process(COMMAND ${N4D} ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL expect_rc)
    message(FATAL_ERROR "n4d ${ARGN}: exit ${rc} (expected ${expect_rc})\n${out}\n${err}")
  endif()
  set(${out_var} "${out}${err}" PARENT_SCOPE)
endfunction()

function(expect text pattern)
  if(NOT text MATCHES "${pattern}")
    message(FATAL_ERROR "no '${pattern}' in:\n${text}")
  endif()
endfunction()

# usage errors: exit 2 and a message that names the problem
function(bad msg)
  n4d_call(2 out ${ARGN})
  string(FIND "${out}" "${msg}" at)
  if(at LESS 0)
    message(FATAL_ERROR "n4d ${ARGN}: no '${msg}' in:\n${out}")
  endif()
endfunction()
bad("missing benchmark" bench)
bad("unknown benchmark 'fast'" bench fast)
bad("missing CONFIG" bench scaling)
bad("--threads: expected a comma-separated list" bench scaling ${CONFIG} --threads 0)
bad("--threads: expected" bench scaling ${CONFIG} --threads 1,,2)
bad("--threads: expected" bench scaling ${CONFIG} --threads=two)
bad("--threads: expected" bench scaling ${CONFIG} --threads 1,2,)
bad("option '--threads' needs a value" bench scaling ${CONFIG} --threads)
bad("--steps: expected an integer >= 1" bench scaling ${CONFIG} --steps 0)
bad("--steps and --duration cannot be combined" bench scaling ${CONFIG} --steps 5 --duration 1)
bad("--reps: expected" bench scaling ${CONFIG} --reps -1)
bad("unknown option '--thread'" bench scaling ${CONFIG} --thread 2)
bad("one CONFIG only" bench scaling ${CONFIG} ${CONFIG})
bad("--sizes: expected" bench gpu --sizes 0)
bad("--sizes: expected" bench gpu --sizes 1.5)
bad("--sizes: expected" bench gpu --sizes 1e9)
bad("--iters: expected" bench gpu --iters 0)
bad("--cpu-threads: expected" bench gpu --cpu-threads x)
bad("unexpected argument 'now'" bench gpu now)

# a missing config and a config error: exit 2, the file named (with line and
# column for the config error)
n4d_call(2 e_missing bench scaling ${WORK}/no_such.json)
expect("${e_missing}" "no_such.json")
file(MAKE_DIRECTORY ${WORK})
file(WRITE ${WORK}/bad.json "{\n  \"lattice_shape\": [2, 2, 1, 1],\n  \"dt\": -1\n}\n")
n4d_call(2 e_bad bench scaling ${WORK}/bad.json)
expect("${e_bad}" "bad.json:3:[0-9]+: dt: ")

# a tiny scaling run: one row per thread count, equal checksums
n4d_call(0 sc bench scaling ${CONFIG} --threads 1,2 --steps 200 --reps 2)
foreach(p "200 steps" "threads +time \\(s\\) +CPU \\(s\\) +speed-up +efficiency"
          "\n +1 +[0-9.]+ +[0-9.]+ +1\\.00x +100\\.0% +[0-9a-f]+\n"
          "\n +2\\*? +[0-9.]+ +[0-9.]+ +[0-9.]+x +[0-9.]+% +[0-9a-f]+\n"
          "checksums: +equal for every thread count")
  expect("${sc}" "${p}")
endforeach()
string(REGEX MATCHALL "  [0-9a-f]+\n" sums "${sc}")
list(LENGTH sums nsums)
list(REMOVE_DUPLICATES sums)
list(LENGTH sums ndistinct)
if(NOT nsums EQUAL 2 OR NOT ndistinct EQUAL 1)
  message(FATAL_ERROR "expected two equal checksums:\n${sc}")
endif()

# the GPU benchmark: a row per size; CPU times only without a GPU, and then
# it says so
n4d_call(0 gpu bench gpu --sizes 1000,2e3 --iters 3)
expect("${gpu}" "\n +1000 +[0-9.]+")
expect("${gpu}" "\n +2000 +[0-9.]+")
if(NOT gpu MATCHES "device: +none, CPU times only\nreason: +[^\n]+")
  expect("${gpu}" "bitwise equal to the CPU's: yes")
endif()
