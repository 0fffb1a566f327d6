#!/usr/bin/env bash
# Quick start: installs the build dependencies, builds n4d (Release) into
# build/ and runs the demo brain, examples/configs/demo.json.
# Extra arguments are passed to `n4d run` (e.g. --steps 2000, --threads 2).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

./scripts/install-deps.sh

jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j "$jobs"

echo
echo "+ build/n4d run examples/configs/demo.json $*"
exec build/n4d run examples/configs/demo.json "$@"
