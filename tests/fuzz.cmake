# Fuzz harnesses (tests/fuzz/, tests/fuzz/README.md). Every build compiles
# each harness with the replay driver (tests/fuzz/driver.c) and ctest replays
# the seed corpus and the regression inputs through it (fuzz_replay_*); a
# build with -DN4D_FUZZ=ON (clang) also links each harness with libFuzzer
# (fuzz_*), for tests/fuzz/run.sh.
set(N4D_FUZZ_DIR ${CMAKE_CURRENT_SOURCE_DIR}/fuzz)
# harness: the folders it replays (corpus and regressions)
set(N4D_FUZZ_HARNESSES config)
set(N4D_FUZZ_DIRS_config corpus/config regressions/config)
if(N4D_WITH_HDF5)
  list(APPEND N4D_FUZZ_HARNESSES 4dnc 4dnc_h5 load resume bitflip)
  set(N4D_FUZZ_DIRS_4dnc corpus/4dnc regressions/4dnc)
  set(N4D_FUZZ_DIRS_4dnc_h5 corpus/4dnc_h5 regressions/4dnc_h5)
  set(N4D_FUZZ_DIRS_load corpus/load regressions/load)
  set(N4D_FUZZ_DIRS_resume corpus/resume regressions/resume)
  set(N4D_FUZZ_DIRS_bitflip corpus/load corpus/resume regressions/bitflip)
endif()

function(n4d_fuzz_target target src)
  target_compile_definitions(${target} PRIVATE _POSIX_C_SOURCE=200809L)
  if(N4D_WITH_HDF5)
    target_compile_definitions(${target} PRIVATE N4D_FUZZ_HDF5=1)
  endif()
  target_link_libraries(${target} PRIVATE n4d_static)
endfunction()

foreach(h ${N4D_FUZZ_HARNESSES})
  set(dirs)
  foreach(d ${N4D_FUZZ_DIRS_${h}})
    list(APPEND dirs ${N4D_FUZZ_DIR}/${d})
  endforeach()
  add_executable(fuzz_${h}_replay ${N4D_FUZZ_DIR}/fuzz_${h}.c ${N4D_FUZZ_DIR}/driver.c)
  n4d_fuzz_target(fuzz_${h}_replay ${N4D_FUZZ_DIR}/fuzz_${h}.c)
  add_test(NAME fuzz_replay_${h} COMMAND fuzz_${h}_replay ${dirs})
  set_tests_properties(fuzz_replay_${h} PROPERTIES TIMEOUT 600)
  if(N4D_FUZZ)
    add_executable(fuzz_${h} ${N4D_FUZZ_DIR}/fuzz_${h}.c)
    n4d_fuzz_target(fuzz_${h} ${N4D_FUZZ_DIR}/fuzz_${h}.c)
    target_link_options(fuzz_${h} PRIVATE -fsanitize=fuzzer)
  endif()
endforeach()

# Bit flips of n4d's own (checksummed) files: each mutant must fail cleanly
# or load exactly what the file holds (fuzz_bitflip.c). 50 mutants of each
# seed; the suppressions cover leaks inside HDF5 on damaged metadata, which
# need full malloc stacks to match (the normal build ignores both).
if(N4D_WITH_HDF5)
  add_test(NAME fuzz_bitflip_mutants
           COMMAND fuzz_bitflip_replay -flips=50 ${N4D_FUZZ_DIR}/corpus/load
                   ${N4D_FUZZ_DIR}/corpus/resume)
  set_tests_properties(fuzz_bitflip_mutants PROPERTIES TIMEOUT 600 ENVIRONMENT
    "LSAN_OPTIONS=suppressions=${N4D_FUZZ_DIR}/lsan.supp;ASAN_OPTIONS=halt_on_error=1:abort_on_error=1:detect_leaks=1:fast_unwind_on_malloc=0")
endif()

# Writes the HDF5 and 4DNC seeds of tests/fuzz/corpus/ (never run by ctest:
# the corpus is committed; rerun it when the file format changes).
if(N4D_WITH_HDF5)
  add_executable(fuzz_make_corpus ${N4D_FUZZ_DIR}/make_corpus.c)
  target_compile_definitions(fuzz_make_corpus PRIVATE _POSIX_C_SOURCE=200809L)
  target_link_libraries(fuzz_make_corpus PRIVATE n4d_static)
endif()
