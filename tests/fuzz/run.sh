#!/usr/bin/env bash
# Builds the libFuzzer harnesses (clang, ASan + UBSan, build-fuzz/) and runs
# each for a fixed time over its seed corpus; any crash, leak, sanitizer
# report, timeout or harness check fails the run and leaves the input in
# build-fuzz/fuzz-artifacts/ (add it to tests/fuzz/regressions/<harness>/).
#   tests/fuzz/run.sh [SECONDS] [HARNESS...]
# default 30 s each for config, 4dnc and bitflip (bit flips of n4d's own,
# checksummed files); 4dnc_h5, load and resume reach crashes and hangs
# inside the HDF5 library on files in HDF5's older formats, which carry no
# checksums (tests/fuzz/README.md): name them to run them.
# .ci/run calls it after the test suites.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

seconds=${1:-30}
shift || true
harnesses=("$@")
if [[ ${#harnesses[@]} -eq 0 ]]; then
    harnesses=(config 4dnc bitflip)
fi

./scripts/install-deps.sh --fuzz
builddir=build-fuzz
jobs=$(nproc 2>/dev/null || echo 2)
CC=clang cmake -S . -B "$builddir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DN4D_FUZZ=ON \
    -DN4D_BUILD_EXAMPLES=OFF -DN4D_BUILD_BENCH=OFF >/dev/null
targets=()
for h in "${harnesses[@]}"; do targets+=("fuzz_$h"); done
cmake --build "$builddir" -j "$jobs" --target "${targets[@]}"

# full stacks on malloc: the suppressions of leaks inside HDF5 need them
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1:allocator_may_return_null=1:fast_unwind_on_malloc=0"
export LSAN_OPTIONS="suppressions=$PWD/tests/fuzz/lsan.supp"
export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1"
src=tests/fuzz
failed=0
for h in "${harnesses[@]}"; do
    case "$h" in
    bitflip) seeds=("$src/corpus/load" "$src/corpus/resume" "$src/regressions/bitflip") ;;
    *) seeds=("$src/corpus/$h" "$src/regressions/$h") ;;
    esac
    # new inputs go to the first folder, outside the source tree
    work="$builddir/fuzz-work/$h"
    art="$builddir/fuzz-artifacts"
    mkdir -p "$work" "$art"
    log="$builddir/fuzz-$h.log"
    echo "== fuzz_$h: ${seconds} s"
    if "$builddir/tests/fuzz_$h" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=25 \
        -malloc_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$art/$h-" \
        "$work" "${seeds[@]}" >"$log" 2>&1; then
        grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "$log" | tr '\n' ' '
        echo
    else
        failed=1
        tail -n 60 "$log"
        echo "fuzz_$h FAILED: the input is in $art/ (full log: $log)"
    fi
done
exit $failed
