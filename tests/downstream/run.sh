#!/usr/bin/env bash
# Builds and runs programs against an installed n4d, as its users would,
# and checks that they print the installed n4d program's checksum.
#
#   tests/downstream/run.sh [--install BUILD_DIR] [--mock-cuda LIB] PREFIX [WORK_DIR]
#
#   --install BUILD_DIR  first `cmake --install BUILD_DIR --prefix PREFIX`
#   --mock-cuda LIB      when PREFIX has no libn4d_cuda.so: put LIB (a
#                        stand-in, tests/mock_cuda.c) there for the check that
#                        the installed program finds the CUDA library in its
#                        prefix, then remove it
#   PREFIX               the install prefix
#   WORK_DIR             where the programs are built (default PREFIX/_downstream)
#
# Builds tests/downstream/downstream.c (shared libn4d) and downstream.cpp
# (static libn4d) twice: with CMake's find_package(n4d) and with pkg-config
# and cc/c++ ($CC, $CXX); and downstream.cpp once more in a project without
# the C language (cxx_only/). Registered with ctest as downstream_install
# (tests/downstream.cmake).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/../.." && pwd)
build=""
mock=""
while [[ $# -gt 0 ]]; do
    case "$1" in
    --install) build=$2; shift 2 ;;
    --mock-cuda) mock=$2; shift 2 ;;
    -h | --help) sed -n '2,17p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) break ;;
    esac
done
if [[ $# -lt 1 || $# -gt 2 ]]; then
    echo "usage: run.sh [--install BUILD_DIR] [--mock-cuda LIB] PREFIX [WORK_DIR]" >&2
    exit 2
fi
prefix=$1
work=${2:-$prefix/_downstream}
config=$src/examples/configs/cuba.json
steps=2000

fail() { echo "downstream: FAIL: $*" >&2; exit 1; }

if [[ -n "$build" ]]; then
    rm -rf "$prefix"
    cmake --install "$build" --prefix "$prefix" >/dev/null
fi
prefix=$(cd "$prefix" && pwd)
pc=$(find "$prefix" -path '*/pkgconfig/n4d.pc' -print -quit)
[[ -n "$pc" ]] || fail "no pkgconfig/n4d.pc under $prefix"
libdir=$(cd "$(dirname "$pc")/.." && pwd)
[[ -x "$prefix/bin/n4d" ]] || fail "no bin/n4d under $prefix"

checksum() { sed -n 's/^checksum: *//p'; }
expected=$("$prefix/bin/n4d" run "$config" --steps "$steps" --quiet | checksum)
[[ -n "$expected" ]] || fail "the installed n4d printed no checksum"
echo "downstream: installed n4d: checksum $expected ($steps steps of cuba.json)"

check() { # NAME PROGRAM
    local got
    got=$("$2" "$config" "$steps" | checksum) || fail "$1 failed"
    [[ "$got" == "$expected" ]] || fail "$1: checksum $got, the n4d program says $expected"
    echo "downstream: $1: checksum $got: ok"
}
needs_shared() { # PROGRAM YES|NO: whether it loads libn4d.so from the prefix
    local line loaded
    line=$(ldd "$1" | grep 'libn4d\.so' || true)
    if [[ $2 == YES ]]; then
        loaded=$(awk '{print $3}' <<<"$line")
        [[ -n "$loaded" && "$(dirname "$(realpath "$loaded")")" == "$(realpath "$libdir")" ]] ||
            fail "$1 does not load libn4d.so from $libdir: $line"
    else
        [[ -z "$line" ]] || fail "$1 is linked to the static library but loads $line"
    fi
}

rm -rf "$work"
mkdir -p "$work"

# 1. CMake: find_package(n4d) (n4d::n4d, n4d::n4d_static)
cmake -S "$here" -B "$work/cmake" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release \
    >"$work/cmake.log" 2>&1 || { cat "$work/cmake.log"; fail "cmake configure"; }
cmake --build "$work/cmake" >>"$work/cmake.log" 2>&1 || { cat "$work/cmake.log"; fail "cmake build"; }
needs_shared "$work/cmake/downstream_c" YES
needs_shared "$work/cmake/downstream_cpp" NO
check "find_package, C, shared" "$work/cmake/downstream_c"
check "find_package, C++, static" "$work/cmake/downstream_cpp"
# a project without the C language
cmake -S "$here/cxx_only" -B "$work/cxx_only" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_BUILD_TYPE=Release >"$work/cxx_only.log" 2>&1 &&
    cmake --build "$work/cxx_only" >>"$work/cxx_only.log" 2>&1 ||
    { cat "$work/cxx_only.log"; fail "C++-only project"; }
needs_shared "$work/cxx_only/downstream_cxx_only" NO
check "find_package, C++-only project, static" "$work/cxx_only/downstream_cxx_only"

# 2. pkg-config: shared with --libs, static with the archive and --static --libs
export PKG_CONFIG_PATH="$libdir/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
pkg-config --atleast-version=0.2 n4d || fail "pkg-config: n4d >= 0.2 not found"
# shellcheck disable=SC2046 # word splitting of the flags is intended
${CC:-cc} -std=c11 -Wall -Wextra -Werror -o "$work/pc_c" "$here/downstream.c" \
    $(pkg-config --cflags --libs n4d) -Wl,-rpath,"$libdir"
static_libs=$(pkg-config --static --libs n4d)
static_libs=${static_libs//-ln4d/}
# shellcheck disable=SC2046,SC2086
${CXX:-c++} -std=c++11 -Wall -Wextra -Werror -o "$work/pc_cpp" "$here/downstream.cpp" \
    $(pkg-config --cflags n4d) "$libdir/libn4d.a" $static_libs
needs_shared "$work/pc_c" YES
needs_shared "$work/pc_cpp" NO
check "pkg-config, C, shared" "$work/pc_c"
check "pkg-config, C++, static" "$work/pc_cpp"

# 3. The installed program finds the CUDA library in its prefix (no
# N4D_CUDA_LIBRARY): the real one when built, else the stand-in.
cuda_lib="$libdir/libn4d_cuda.so"
placed=0
if [[ ! -e "$cuda_lib" && -n "$mock" ]]; then
    cp "$mock" "$cuda_lib"
    placed=1
fi
if [[ -e "$cuda_lib" ]]; then
    if got=$(env -u N4D_CUDA_LIBRARY "$prefix/bin/n4d" run "$config" --steps 200 --backend cuda \
             --quiet 2>&1); then
        ref=$("$prefix/bin/n4d" run "$config" --steps 200 --backend cpu-ref --quiet | checksum)
        [[ $placed == 1 ]] && rm -f "$cuda_lib"
        [[ "$(checksum <<<"$got")" == "$ref" ]] || fail "n4d --backend cuda: $got (cpu-ref: $ref)"
        echo "downstream: installed n4d --backend cuda finds $cuda_lib: checksum $ref: ok"
    else
        [[ $placed == 1 ]] && rm -f "$cuda_lib"
        # the real library without a usable GPU: found, then refused for
        # want of a driver or device ("no library:" when it was not found)
        [[ $placed == 0 && "$got" != *"no library:"* && "$got" == *"not available"* ]] ||
            fail "n4d --backend cuda: $got"
        echo "downstream: installed n4d --backend cuda finds $cuda_lib (no usable GPU here: ${got##*: })"
    fi
else
    echo "downstream: no libn4d_cuda.so in the prefix: CUDA library search not checked"
fi
echo "downstream: all checks passed"
