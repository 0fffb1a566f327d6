#!/usr/bin/env bash
# Builds n4d with warnings as errors and runs the test suite.
#   ./scripts/test.sh              Release-type build in build-test/
#   ./scripts/test.sh --sanitize   Debug build with ASan + UBSan in build-asan/,
#                                  any sanitizer report fails the run
#   ./scripts/test.sh --tsan       ThreadSanitizer build in build-tsan/ of the
#                                  tests that share a model between threads
# Extra arguments after the options are passed to ctest (e.g. -R sim).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

sanitize=0
tsan=0
ctest_args=()
for arg in "$@"; do
    case "$arg" in
    --sanitize) sanitize=1 ;;
    --tsan) tsan=1 ;;
    -h | --help)
        echo "usage: scripts/test.sh [--sanitize | --tsan] [CTEST ARGS...]"
        exit 0
        ;;
    *) ctest_args+=("$arg") ;;
    esac
done

./scripts/install-deps.sh

jobs=$(nproc 2>/dev/null || echo 2)

if [[ $tsan -eq 1 ]]; then
    # Several sims on one model from several threads, under ThreadSanitizer
    # (without OpenMP, whose runtime is not instrumented); any report fails.
    builddir=build-tsan
    cmake -S . -B "$builddir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DN4D_WERROR=ON -DN4D_TSAN=ON
    cmake --build "$builddir" -j "$jobs" --target test_concurrent
    export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"
    cd "$builddir"
    exec ctest --output-on-failure -R '^test_concurrent$' "${ctest_args[@]}"
elif [[ $sanitize -eq 1 ]]; then
    builddir=build-asan
    cmake -S . -B "$builddir" -DCMAKE_BUILD_TYPE=Debug -DN4D_WERROR=ON -DN4D_SANITIZE=ON
    # Every sanitizer report is fatal and fails the test that triggered it.
    export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1:check_initialization_order=1"
    export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1"
else
    builddir=build-test
    cmake -S . -B "$builddir" -DN4D_WERROR=ON
fi

cmake --build "$builddir" -j "$jobs"

cd "$builddir"
ctest --output-on-failure -j "$jobs" "${ctest_args[@]}"
