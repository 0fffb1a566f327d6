#!/usr/bin/env bash
# Builds n4d with the CUDA backend on a machine without the system -dev
# packages, against the kit that scripts/gpu-kit.sh downloaded into .gpukit/,
# then runs the GPU tests and the GPU benchmarks (bench/README-gpu.md).
# Run from the repository root, with OUT set to a writable results folder:
#
#   OUT=/some/dir scripts/gpu-check.sh
#
# Results (flat, 4 files): $OUT/summary.txt (pass/fail per step, the `| ... |`
# rows and key lines of every benchmark), $OUT/setup.log (kit, configure,
# build), $OUT/tests.log, $OUT/bench.log. summary.txt is written step by
# step, so it is useful even when the run is cut off.
#
# Environment (all optional):
#   GPUKIT_PREFIX=/tmp/gpukit  where the .deb files are unpacked (dpkg -x; never /)
#   GPUKIT_LIBS=fill           run-time libraries: fill = only the kit's libraries
#                              the system lacks go on LD_LIBRARY_PATH (default);
#                              all = every kit library (the kit first)
#   GPUCHECK_BUILD=build       build directory (reused when it was configured here)
#   GPUCHECK_JOBS=$(nproc)     parallel jobs (build, ctest)
#   GPUCHECK_CUDA_ARCH=90      CMAKE_CUDA_ARCHITECTURES (H100/H200: 90)
#   GPUCHECK_BUDGET_S=480      wall-time budget of the whole script; a step gets at
#                              most what is left, steps after it are skipped
#   GPUCHECK_PARTS="tests bench sanitizer"  what to run after the build
#                              (sanitizer: compute-sanitizer memcheck, last)
#   GPUCHECK_NO_DEVICE=1       a machine without GPU (checks this script): no
#                              nvidia-smi, the benchmarks shrink to smoke runs on
#                              cpu-omp; the conformance tests report SKIPPED
# Exit status: 0 when no step failed or timed out, 1 otherwise.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
ROOT=$PWD

if [[ -z "${OUT:-}" ]]; then
    echo "gpu-check: set OUT to a writable results folder" >&2
    exit 2
fi
mkdir -p "$OUT" || exit 2
OUT=$(cd "$OUT" && pwd)

P=${GPUKIT_PREFIX:-/tmp/gpukit}
LIBMODE=${GPUKIT_LIBS:-fill}
B=${GPUCHECK_BUILD:-build}
JOBS=${GPUCHECK_JOBS:-$(nproc 2>/dev/null || echo 4)}
ARCH=${GPUCHECK_CUDA_ARCH:-90}
BUDGET=${GPUCHECK_BUDGET_S:-480}
PARTS=${GPUCHECK_PARTS:-tests bench sanitizer}
NO_DEVICE=${GPUCHECK_NO_DEVICE:-0}
START=$(date +%s)
ORIG_LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}
SUMMARY=$OUT/summary.txt
STEP_OUT=$(mktemp)
trap 'rm -f "$STEP_OUT"' EXIT
N_PASS=0 N_FAIL=0 N_SKIP=0 N_TIMEOUT=0
LAST_RC=0

: >"$SUMMARY"
: >"$OUT/setup.log"
: >"$OUT/tests.log"
: >"$OUT/bench.log"

say() { echo "gpu-check: $*"; }
sum() { printf '%s\n' "$*" >>"$SUMMARY"; }
elapsed() { echo $(($(date +%s) - START)); }

# record STATUS LABEL RC SECONDS [NOTE]
record() {
    case $1 in
    PASS) N_PASS=$((N_PASS + 1)) ;;
    SKIP | XFAIL) N_SKIP=$((N_SKIP + 1)) ;;
    TIMEOUT) N_TIMEOUT=$((N_TIMEOUT + 1)) ;;
    *) N_FAIL=$((N_FAIL + 1)) ;;
    esac
    local line
    line=$(printf '%-7s %-46s rc=%-4s %6ss %s' "$1" "$2" "$3" "$4" "${5:-}")
    sum "$line"
    say "$line"
}

# run_step LOG LABEL TIMEOUT KEYLINES CMD...: runs CMD with a timeout (cut to
# the budget left), its output appended to $OUT/LOG; the lines of the output
# matching the extended regex KEYLINES go to the summary under the step.
run_step() {
    local log=$OUT/$1 label=$2 t=$3 pat=$4
    shift 4
    local left=$((BUDGET - $(elapsed)))
    if ((left < 20)); then
        record SKIP "$label" - 0 "(time budget of ${BUDGET}s spent)"
        LAST_RC=skip
        : >"$STEP_OUT"
        return 0
    fi
    ((t > left)) && t=$left
    printf '\n===== %s  [%s, +%ss]  timeout %ss\n$ %s\n' "$label" "$(date +%T)" "$(elapsed)" \
        "$t" "$*" >>"$log"
    local t0 t1 rc
    t0=$(date +%s.%N)
    timeout -k 15 "$t" "$@" 2>&1 | tee "$STEP_OUT" >>"$log"
    rc=${PIPESTATUS[0]}
    t1=$(date +%s.%N)
    local secs status note=""
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
    case $rc in
    0) status=PASS ;;
    77) status=SKIP ;;
    124 | 137) status=TIMEOUT note="(killed after ${t}s)" ;;
    126 | 127) status=FAIL note="(could not run: not built?)" ;;
    *) status=FAIL ;;
    esac
    if [[ "$status" != PASS && "$status" != SKIP && -n "${EXPECT_FAIL:-}" ]]; then
        status=XFAIL note="(expected: $EXPECT_FAIL)"
    fi
    printf '===== %s: %s rc=%s %ss\n' "$label" "$status" "$rc" "$secs" >>"$log"
    record "$status" "$label" "$rc" "$secs" "$note"
    if [[ -n "$pat" ]]; then
        grep -aE "$pat" "$STEP_OUT" | head -n 60 | sed 's/^/    /' >>"$SUMMARY"
    fi
    LAST_RC=$rc
    return 0
}

# ---- 1. the kit --------------------------------------------------------------
setup_kit() {
    local debs=("$ROOT"/.gpukit/*.deb)
    if [[ ! -e "${debs[0]}" ]]; then
        echo "no .gpukit/*.deb: run scripts/gpu-kit.sh on a machine with apt, and copy .gpukit here"
        return 1
    fi
    case "$P" in
    /?*) ;;
    *)
        echo "GPUKIT_PREFIX must be an absolute path other than / (got '$P')"
        return 1
        ;;
    esac
    [[ "$P" == / || "$P" == /usr* || "$P" == /lib* ]] && {
        echo "refusing GPUKIT_PREFIX=$P"
        return 1
    }
    local stamp
    stamp=$(cd "$ROOT/.gpukit" && ls -l -- *.deb | awk '{ print $5, $NF }' | cksum | cut -d' ' -f1)
    if [[ -f "$P/.gpukit-stamp" && "$(cat "$P/.gpukit-stamp")" == "$stamp" ]]; then
        echo "kit already unpacked in $P"
        return 0
    fi
    if [[ -e "$P" && ! -f "$P/.gpukit-stamp" ]] && [[ -n "$(ls -A "$P" 2>/dev/null)" ]]; then
        echo "$P exists and is not a kit folder: choose another GPUKIT_PREFIX"
        return 1
    fi
    rm -rf "$P" && mkdir -p "$P" || return 1
    local f
    for f in "${debs[@]}"; do
        if command -v dpkg-deb >/dev/null; then
            dpkg-deb -x "$f" "$P" || return 1
        else # ar + tar: data.tar.{xz,zst,gz}
            local m
            m=$(ar t "$f" | grep '^data\.tar') || return 1
            case $m in
            *.xz) ar p "$f" "$m" | tar -xJ -C "$P" ;;
            *.zst) ar p "$f" "$m" | zstd -dc | tar -x -C "$P" ;;
            *.gz) ar p "$f" "$m" | tar -xz -C "$P" ;;
            *) ar p "$f" "$m" | tar -x -C "$P" ;;
            esac || return 1
        fi
    done
    echo "unpacked ${#debs[@]} packages into $P"
    # Debian 12 packages put some libraries in /lib: merge into /usr/lib
    local d
    for d in lib lib64 bin sbin; do
        if [[ -d "$P/$d" && ! -L "$P/$d" ]]; then
            mkdir -p "$P/usr/$d" && cp -a "$P/$d/." "$P/usr/$d/" && rm -rf "${P:?}/$d" &&
                ln -s "usr/$d" "$P/$d" || return 1
        fi
    done
    # absolute symbolic links (libz.so -> /lib/...) point into the kit
    local l t
    while IFS= read -r -d '' l; do
        t=$(readlink "$l")
        if [[ "$t" == /* && "$t" != "$P"/* ]]; then
            ln -sfn "$P$t" "$l" || return 1
        fi
    done < <(find "$P" -type l -print0)
    # .pc files name /usr: make them name the kit
    local pc
    for pc in "$P"/usr/lib/x86_64-linux-gnu/pkgconfig/*.pc "$P"/usr/share/pkgconfig/*.pc; do
        [[ -f "$pc" ]] || continue
        sed -i -E "s#(^|[=[:space:]]|-I|-L)/usr(/|\$|[[:space:]])#\1$P/usr\2#g" "$pc" || return 1
    done
    echo "$stamp" >"$P/.gpukit-stamp"
}

# lib present on the system (ld.so.cache or the usual folders)?
system_has() {
    local p
    p=$(ldconfig -p 2>/dev/null | awk -v n="$1" '$1 == n && /x86-64/ { print $NF; exit }')
    [[ -n "$p" && -e "$p" ]] && return 0
    local d
    for d in /lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu /lib64 /usr/lib64 /usr/local/lib; do
        [[ -e "$d/$1" ]] && return 0
    done
    return 1
}

setup_libs() {
    LIBDIR=$P/usr/lib/x86_64-linux-gnu
    rm -rf "$P/fill" && mkdir -p "$P/fill"
    FILLED=()
    local f n
    for f in "$LIBDIR"/lib*.so.*; do
        n=$(basename "$f")
        [[ "$n" =~ ^lib.+\.so\.[0-9]+$ ]] || continue
        if [[ "$LIBMODE" == all ]] || ! system_has "$n"; then
            ln -s "$f" "$P/fill/$n"
            FILLED+=("$n")
        fi
    done
    if [[ "$LIBMODE" == all ]]; then
        LD_LIBRARY_PATH=$LIBDIR
    else
        LD_LIBRARY_PATH=$P/fill
    fi
    export LD_LIBRARY_PATH=$LD_LIBRARY_PATH${ORIG_LD_LIBRARY_PATH:+:$ORIG_LD_LIBRARY_PATH}
    # every library the project uses must load, with the system's libraries or the kit's
    local bad=0 lib
    for lib in libhdf5_serial.so.103 libjansson.so.4 libcmocka.so.0 libz.so.1 libpkgconf.so.3; do
        local out
        if ! out=$(ldd "$LIBDIR/$lib" 2>&1) || grep -q 'not found' <<<"$out"; then
            echo "with GPUKIT_LIBS=$LIBMODE, $lib does not load: $(grep -E 'not found|error' <<<"$out" | head -3)"
            bad=1
        fi
    done
    if ((bad)) && [[ "$LIBMODE" != all ]]; then
        echo "some libraries do not load with the system's versions: using every kit library"
        LIBMODE=all
        setup_libs
        return
    fi
    echo "run-time libraries (GPUKIT_LIBS=$LIBMODE): LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
    echo "kit libraries used: ${FILLED[*]:-none (the system has them all)}"
}

{
    echo "== gpu-check $(date -u '+%Y-%m-%d %H:%M:%S UTC') on $(hostname 2>/dev/null)"
    echo "os: $(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME"), $(ldd --version 2>&1 | head -1)"
    echo "cpus: $(nproc), build jobs: $JOBS, budget: ${BUDGET}s, no-device mode: $NO_DEVICE"
} | tee -a "$SUMMARY" "$OUT/setup.log"

say "unpacking the kit"
kit_t0=$(date +%s)
{ setup_kit && setup_libs; } >>"$OUT/setup.log" 2>&1
kit_rc=$?
if ((kit_rc != 0)); then
    record FAIL "unpack kit (.gpukit -> $P)" "$kit_rc" $(($(date +%s) - kit_t0))
    tail -5 "$OUT/setup.log" | sed 's/^/    /' >>"$SUMMARY"
    sum "gpu-check: cannot go on without the kit"
    cat "$SUMMARY"
    exit 1
fi
record PASS "unpack kit (.gpukit -> $P)" 0 $(($(date +%s) - kit_t0))
grep -E '^(run-time libraries|kit libraries used|some libraries)' "$OUT/setup.log" | sed 's/^/    /' >>"$SUMMARY"

export PATH=$P/usr/bin:$PATH
export PKG_CONFIG=$P/usr/bin/pkgconf
export PKG_CONFIG_LIBDIR=$LIBDIR/pkgconfig:$P/usr/share/pkgconfig
export PKG_CONFIG_PATH=$PKG_CONFIG_LIBDIR
export CMAKE_PREFIX_PATH=$P/usr

NVCC=$(command -v nvcc || true)
[[ -z "$NVCC" && -x /usr/local/cuda/bin/nvcc ]] && NVCC=/usr/local/cuda/bin/nvcc
if [[ -n "$NVCC" ]]; then
    PATH=$(dirname "$NVCC"):$PATH
    export PATH
fi
if ! command -v nvidia-smi >/dev/null && [[ -x /usr/local/nvidia/bin/nvidia-smi ]]; then
    export PATH=$PATH:/usr/local/nvidia/bin
fi
{
    echo "gcc: $(gcc --version 2>&1 | head -1)"
    echo "cmake: $(cmake --version 2>&1 | head -1)"
    echo "nvcc: ${NVCC:-none} $("${NVCC:-false}" --version 2>/dev/null | grep -o 'release [0-9.]*' | head -1)"
    if [[ "$NO_DEVICE" != 1 ]]; then
        echo "gpu: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | head -2)"
    fi
    if command -v git >/dev/null && git rev-parse --git-dir >/dev/null 2>&1; then
        echo "commit: $(git rev-parse --short HEAD)$(git diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')"
    fi
} | tee -a "$SUMMARY" >>"$OUT/setup.log"

# ---- 2. configure and build ----------------------------------------------------
GEN=()
if [[ -f "$B/CMakeCache.txt" ]]; then
    home=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$B/CMakeCache.txt")
    if [[ "$home" != "$ROOT" ]]; then
        say "$B was configured for $home: starting it afresh"
        rm -rf "$B"
    fi
fi
if [[ ! -f "$B/CMakeCache.txt" ]] && command -v ninja >/dev/null; then
    GEN=(-G Ninja)
fi
CMAKE_ARGS=(-S . -B "$B" "${GEN[@]}"
    -DCMAKE_BUILD_TYPE=Release -DN4D_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES="$ARCH"
    -DCMAKE_PREFIX_PATH="$P/usr" -DHDF5_ROOT="$LIBDIR/hdf5/serial" -DZLIB_ROOT="$P/usr"
    -DPKG_CONFIG_EXECUTABLE="$P/usr/bin/pkgconf"
    "-DCMAKE_EXE_LINKER_FLAGS=-Wl,-rpath-link,$LIBDIR"
    "-DCMAKE_SHARED_LINKER_FLAGS=-Wl,-rpath-link,$LIBDIR")
[[ -n "$NVCC" ]] && CMAKE_ARGS+=(-DCMAKE_CUDA_COMPILER="$NVCC")
run_step setup.log "configure (CUDA arch $ARCH)" 240 'n4d: |Found HDF5|Checking for module|Found ZLIB|Error|error:' \
    cmake "${CMAKE_ARGS[@]}"
configure_rc=$LAST_RC
if [[ "$configure_rc" == 0 ]]; then
    {
        echo "--- where the dependencies came from (CMakeCache.txt):"
        grep -E '^(HDF5_C_INCLUDE_DIR|HDF5_C_LIBRARY_hdf5|HDF5_hdf5_LIBRARY_RELEASE|ZLIB_INCLUDE_DIR|ZLIB_LIBRARY_RELEASE|pkgcfg_lib_JANSSON_jansson|pkgcfg_lib_CMOCKA_cmocka|PKG_CONFIG_EXECUTABLE|CMAKE_CUDA_COMPILER|N4D_H5PY_PYTHON|N4D_PYTHON3_ON_PATH)[:]' "$B/CMakeCache.txt"
        grep -E '^(JANSSON|CMOCKA)_INCLUDE_DIRS:' "$B/CMakeCache.txt"
    } >>"$OUT/setup.log" 2>&1
    grep -E '^(HDF5_C_INCLUDE_DIR|HDF5_hdf5_LIBRARY_RELEASE|HDF5_C_LIBRARY_hdf5|ZLIB_LIBRARY_RELEASE|pkgcfg_lib_JANSSON_jansson|pkgcfg_lib_CMOCKA_cmocka)[:]' \
        "$B/CMakeCache.txt" | sed 's/^/    /' >>"$SUMMARY"
    run_step setup.log "build (-j$JOBS)" 480 'error|FAILED|warning' cmake --build "$B" -j "$JOBS"
else
    record SKIP "build" - 0 "(configure failed)"
fi

# ---- 3. tests --------------------------------------------------------------------
CUDA_LIB=$ROOT/$B/libn4d_cuda.so
[[ "$B" == /* ]] && CUDA_LIB=$B/libn4d_cuda.so
TEST_KEYS='identical|Skipped|Not Run|^\[  (PASSED|FAILED) |^\[  ERROR   \]|^\[  FAILED  \]|SKIPPED|tests passed|tests failed|^[[:space:]]+[0-9]+ - |Total Test time|not found|Assertion|mismatch|differ'
if [[ " $PARTS " == *" tests "* ]]; then
    if [[ "$NO_DEVICE" == 1 ]]; then
        record SKIP "nvidia-smi" - 0 "(GPUCHECK_NO_DEVICE=1)"
    else
        run_step tests.log "nvidia-smi" 30 'NVIDIA-SMI|H100|H200|MiB' nvidia-smi
    fi
    run_step tests.log "ldd (libn4d_cuda, libn4d, test_store, gpu_bench)" 30 'not found|error' \
        ldd "$B/libn4d_cuda.so" "$B/src/libn4d.so" "$B/tests/test_store" "$B/gpu_bench"
    sum "    from the kit: $(grep -oE "^[[:space:]]*[^ ]+ => $P/[^ ]+" "$STEP_OUT" |
        awk '{ print $1 }' | sort -u | tr '\n' ' ')"
    run_step tests.log "test_cuda host" 120 "$TEST_KEYS" \
        env N4D_CUDA_LIBRARY="$CUDA_LIB" "$B/tests/test_cuda" host
    run_step tests.log "test_cuda conformance (verbose)" 150 "$TEST_KEYS" \
        env N4D_CUDA_LIBRARY="$CUDA_LIB" N4D_TEST_VERBOSE=1 "$B/tests/test_cuda" conformance
    run_step tests.log "conformance test_conf_cuba, N4D_CUDA_GRAPHS=0" 60 "$TEST_KEYS" \
        env N4D_CUDA_LIBRARY="$CUDA_LIB" N4D_CUDA_GRAPHS=0 "$B/tests/test_cuda" conformance test_conf_cuba
    run_step tests.log "ctest (all but test_cuda, conformance)" 240 "$TEST_KEYS" \
        ctest --test-dir "$B" -E '^(test_cuda|test_cuda_conformance)$' -j "$JOBS" \
        --output-on-failure --timeout 200
fi

# ---- 4. benchmarks (bench/README-gpu.md) ---------------------------------------
# one line each: LABEL|TIMEOUT|ENV (or -)|gpu_bench ARGUMENTS. The microcircuit
# and the 1e9-synapse Brunel network come first after a short LIF check.
# A run with --build-backend cuda that fails before its table row (not a
# timeout) is retried with the construction on the CPU.
if [[ "$NO_DEVICE" == 1 ]]; then
    BENCH=(
        "lif (smoke)|60|-|lif --sizes 1e3,1e4 --iters 2"
        "microcircuit x0.02 (smoke, cuda build)|180|-|microcircuit --scale 0.02 --ms 20 --warmup-ms 5 --backend cpu-omp --compare cpu-ref --compare-ms 10 --build-backend cuda --compare-build 1"
        "brunel 2e3 x 200 (smoke)|120|-|brunel --n 2000 --k 200 --ms 50 --backend cpu-omp --compare cpu-ref --compare-ms 10 --build-backend auto"
        "cuba (smoke)|60|-|cuba --ms 50 --backend cpu-omp --compare cpu-ref --compare-ms 20"
        "microcircuit x0.02, N4D_CUDA_GRAPHS=0 (smoke)|60|N4D_CUDA_GRAPHS=0|microcircuit --scale 0.02 --ms 20 --backend cpu-omp"
    )
else
    BENCH=(
        "lif 1e3..1e7, 100 iters|60|-|lif --sizes 1e3,1e4,1e5,1e6,1e7 --iters 100"
        "microcircuit 10 s, cuda build|150|-|microcircuit --ms 10000 --warmup-ms 100 --compare cpu-omp --compare-ms 50 --build-backend cuda --compare-build 1"
        "brunel 1e5 x 1e4 (1e9 syn) 1 s, cuda build|200|-|brunel --n 100000 --k 10000 --ms 1000 --compare cpu-omp --compare-ms 20 --build-backend cuda --compare-build 1"
        "cuba 1 s|60|-|cuba --ms 1000 --compare cpu-omp"
        "cuba x100 1 s|90|-|cuba --scale 100 --ms 1000"
        "lif 1e3..1e7, $JOBS CPU threads|60|-|lif --sizes 1e3,1e4,1e5,1e6,1e7 --iters 100 --cpu-threads $JOBS"
        "microcircuit 1 s, N4D_CUDA_GRAPHS=0|60|N4D_CUDA_GRAPHS=0|microcircuit --ms 1000 --warmup-ms 100 --build-backend cuda"
    )
fi
BENCH_KEYS='^\| |^device:|^device memory|^results bitwise|^compare |^gpu_bench:|^build \(|^real-time factor|^note:'
if [[ " $PARTS " == *" bench "* ]]; then
    for b in "${BENCH[@]}"; do
        IFS='|' read -r label t envs args <<<"$b"
        envv=()
        [[ "$envs" != - ]] && read -r -a envv <<<"$envs"
        read -r -a argv <<<"$args"
        EXPECT_FAIL=
        [[ "$NO_DEVICE" == 1 && "$args" == *"--build-backend cuda"* ]] && EXPECT_FAIL="no device to build on"
        run_step bench.log "gpu_bench $label" "$t" "$BENCH_KEYS" env "${envv[@]}" "$B/gpu_bench" "${argv[@]}"
        EXPECT_FAIL=
        # no table row: the run broke before timing (e.g. the device build failed)
        if [[ "$LAST_RC" != 0 && "$LAST_RC" != skip && "$LAST_RC" != 124 && "$LAST_RC" != 137 && "$LAST_RC" != 77 &&
            "$args" == *"--build-backend cuda"* ]] && ! grep -q '^| ' "$STEP_OUT"; then
            args=${args/--build-backend cuda/--build-backend cpu}
            args=${args/ --compare-build 1/}
            read -r -a argv <<<"$args"
            run_step bench.log "gpu_bench $label [retry: cpu build]" "$t" "$BENCH_KEYS" \
                env "${envv[@]}" "$B/gpu_bench" "${argv[@]}"
        fi
    done
fi

# ---- 5. compute-sanitizer (last: it slows the kernels down 10-100x) ------------
# memcheck of the smallest conformance test and of the device builds; takes
# what is left of the budget (at most 150 s)
if [[ " $PARTS " == *" sanitizer "* && "$NO_DEVICE" != 1 ]]; then
    SAN=$(command -v compute-sanitizer || true)
    [[ -z "$SAN" && -x /usr/local/cuda/bin/compute-sanitizer ]] && SAN=/usr/local/cuda/bin/compute-sanitizer
    if [[ -n "$SAN" ]]; then
        run_step tests.log "compute-sanitizer memcheck: test_conf_cuba" 90 \
            "$TEST_KEYS|ERROR SUMMARY|Invalid|out of bounds" \
            env N4D_CUDA_LIBRARY="$CUDA_LIB" "$SAN" --tool memcheck --error-exitcode 3 \
            "$B/tests/test_cuda" conformance test_conf_cuba
        run_step tests.log "compute-sanitizer memcheck: test_build_models" 60 \
            "$TEST_KEYS|ERROR SUMMARY|Invalid|out of bounds" \
            env N4D_CUDA_LIBRARY="$CUDA_LIB" "$SAN" --tool memcheck --error-exitcode 3 \
            "$B/tests/test_cuda" conformance test_build_models
    else
        record SKIP "compute-sanitizer" - 0 "(not found)"
    fi
fi

sum ""
sum "== steps: $N_PASS passed, $N_FAIL failed, $N_TIMEOUT timed out, $N_SKIP skipped; $(elapsed)s in all"
sum "logs: setup.log (kit, configure, build), tests.log, bench.log"
echo "----- $SUMMARY"
cat "$SUMMARY"
((N_FAIL == 0 && N_TIMEOUT == 0))
