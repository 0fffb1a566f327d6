#!/usr/bin/env bash
# The n4d benchmark suite in one command (see bench/README.md):
#
#   bench/run.sh [--reps N] [--configs a,b,...] [--threads 1,2] [--no-brian2]
#                [--no-microcircuit] [--microcircuit-ms MS] [--out FILE]
#   bench/run.sh scaling CONFIG [--threads 1,2,4] [--reps N]
#
# 1. installs what is missing (build packages via scripts/install-deps.sh,
#    plus python3-brian and GNU time),
# 2. builds n4d in Release mode into build-bench/ (N4D_BENCH_BUILD to change),
# 3. runs bench/bench.py: n4d and Brian2 alternately, several repetitions,
#    and writes bench/RESULTS.md.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${N4D_BENCH_BUILD:-$ROOT/build-bench}
cd "$ROOT"

# ---- dependencies -----------------------------------------------------------
if [[ -x scripts/install-deps.sh ]]; then
    scripts/install-deps.sh
fi
missing=()
for pkg in python3-brian time g++; do
    if [[ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)" != "install ok installed" ]]; then
        missing+=("$pkg")
    fi
done
if [[ ${#missing[@]} -gt 0 ]]; then
    if [[ $(id -u) -eq 0 ]]; then SUDO=(); elif command -v sudo >/dev/null; then SUDO=(sudo); else
        echo "bench: missing packages (${missing[*]}) and not root; install them first" >&2; exit 1; fi
    echo "bench: installing ${missing[*]}" >&2
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi
if ! /usr/bin/python3 -c 'import brian2' 2>/dev/null; then
    echo "bench: /usr/bin/python3 cannot import brian2 (python3-brian)" >&2
    exit 1
fi

# ---- build ------------------------------------------------------------------
echo "bench: building n4d (Release) in ${BUILD#$ROOT/}" >&2
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release \
      -DN4D_BUILD_TESTS=OFF -DN4D_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target n4d_cli floor_bench >/dev/null
"$BUILD/n4d" --version >&2

# ---- run --------------------------------------------------------------------
export N4D_BENCH_COMMAND="bench/run.sh${*:+ $*}"
exec /usr/bin/python3 "$ROOT/bench/bench.py" "$@" --n4d "$BUILD/n4d"
