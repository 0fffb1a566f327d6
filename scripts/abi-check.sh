#!/usr/bin/env bash
# Checks libn4d's ABI against the committed baseline abi/libn4d.abi.
#   ./scripts/abi-check.sh            build libn4d with debug info in build-abi/
#                                     (the library only), abidw it, abidiff it
#                                     against abi/libn4d.abi
#   ./scripts/abi-check.sh --update   regenerate abi/libn4d.abi from this tree
#                                     (at a release, or after an accepted change)
#
# Passes when nothing changed or only functions, variables or enumerators were
# added. Any other change (a removed or changed function, a struct whose
# layout or size changed, ...) fails unless CHANGELOG.md's "## Unreleased"
# section has a line starting with "- ABI:" that names each changed type or
# function the report lists, e.g.
#   - ABI: n4d_sim_options grows by 8 bytes (appended `foo`; struct_size ...)
# (docs/packaging.md, "ABI check"). Needs abidw and abidiff (abigail-tools,
# installed by scripts/install-deps.sh).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

update=0
for arg in "$@"; do
    case "$arg" in
    --update) update=1 ;;
    -h | --help) sed -n '2,17p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "abi-check: unknown argument $arg" >&2; exit 2 ;;
    esac
done

./scripts/install-deps.sh >/dev/null

builddir=build-abi
baseline=abi/libn4d.abi
# Debug: -g and the fastest build; the ABI is the headers' types and the
# exported symbols, the same in every build type.
cmake -S . -B "$builddir" -DCMAKE_BUILD_TYPE=Debug -DN4D_CUDA=OFF -DN4D_BUILD_TESTS=OFF \
    -DN4D_BUILD_EXAMPLES=OFF -DN4D_BUILD_BENCH=OFF >/dev/null
cmake --build "$builddir" -j "$(nproc 2>/dev/null || echo 2)" --target n4d >/dev/null
lib=$(readlink -f "$builddir/src/libn4d.so")

# The exported functions and the public types they reach (those of
# include/), no paths of this machine. (--exported-interfaces-only: without
# it, abidiff of two such files misses changes of a struct's layout.)
current="$builddir/libn4d.abi"
abidw --exported-interfaces-only --headers-dir include/n4d --header-file include/n4d.h --drop-private-types \
    --no-corpus-path --no-comp-dir-path --short-locs "$lib" >"$current"

if [[ $update -eq 1 ]]; then
    mkdir -p abi
    cp "$current" "$baseline"
    echo "abi-check: wrote $baseline ($(grep -c '<elf-symbol ' "$baseline") symbols)"
    exit 0
fi
[[ -f "$baseline" ]] || { echo "abi-check: no $baseline (scripts/abi-check.sh --update)" >&2; exit 1; }

set +e
report=$(abidiff --no-added-syms "$baseline" "$current")
rc=$?
set -e
if (( rc & 3 )); then
    echo "$report" >&2
    echo "abi-check: abidiff failed (exit status $rc)" >&2
    exit 1
fi
if (( rc == 0 )); then
    echo "abi-check: libn4d's ABI is compatible with $baseline"
    exit 0
fi

# A change: the root causes (leaf types, removed or changed functions and
# variables) must each be named by an "- ABI:" line of the Unreleased section.
leaf=$(abidiff --no-added-syms --leaf-changes-only "$baseline" "$current" || true)
echo "$leaf"
names=$( {
    sed -n "s/^'\(struct\|union\|enum\|typedef\|class\) \([A-Za-z_][A-Za-z0-9_]*\).*' changed.*/\2/p" <<<"$leaf"
    sed -n "s/^ *\[[DC]\] '\(function\|variable\) .*' *{\([A-Za-z_][A-Za-z0-9_]*\)[}@].*/\2/p" <<<"$leaf"
    # removed symbols without debug info ("[D] name" or "[D] name.resolver, aliases name")
    sed -n "s/^ *\[D\] \([A-Za-z_][A-Za-z0-9_]*\)\(\.[A-Za-z0-9_]*\)\{0,1\}\(,.*\)\{0,1\}$/\1/p" <<<"$leaf"
} | sort -u)
# an "- ABI:" entry with its continuation lines (indented, up to the next entry)
abi_lines=$(awk '/^## /{ if (u) exit; if ($0 ~ /^## Unreleased/) u = 1; next }
                 !u { next }
                 /^[-*] ABI:/ { inabi = 1; print; next }
                 /^[-*] / || /^[^ ]/ || /^$/ { inabi = 0 }
                 inabi' CHANGELOG.md)
if [[ -z "$names" ]]; then
    echo "abi-check: FAIL: an ABI change (abidiff exit status $rc) that this script cannot name" >&2
    exit 1
fi
missing=()
for n in $names; do
    grep -qw -- "$n" <<<"$abi_lines" || missing+=("$n")
done
if [[ ${#missing[@]} -gt 0 ]]; then
    echo "abi-check: FAIL: incompatible ABI change of ${missing[*]} (abidiff exit status $rc)," \
         "not listed in an \"- ABI:\" line of CHANGELOG.md's Unreleased section" >&2
    exit 1
fi
echo "abi-check: ABI changes of $(echo $names) are listed in CHANGELOG.md (Unreleased): accepted"
