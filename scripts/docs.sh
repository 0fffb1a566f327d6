#!/usr/bin/env bash
# Generates the API reference (HTML) from the public headers' comments with
# doxygen (docs/Doxyfile); any doxygen warning fails the run.
#   ./scripts/docs.sh [--no-install] [OUT_DIR]
# OUT_DIR defaults to build-docs/; the pages are OUT_DIR/html/index.html.
# Without --no-install, doxygen is installed first (scripts/install-deps.sh
# --docs). `cmake --build BUILD --target docs` runs this with --no-install
# into BUILD/docs.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

install=1
out=build-docs
for arg in "$@"; do
    case "$arg" in
    --no-install) install=0 ;;
    -h | --help) sed -n '2,8p' "${BASH_SOURCE[0]}"; exit 0 ;;
    -*) echo "docs: unknown option $arg" >&2; exit 2 ;;
    *) out=$arg ;;
    esac
done

if [[ $install -eq 1 ]]; then
    ./scripts/install-deps.sh --docs
fi
if ! command -v doxygen >/dev/null 2>&1; then
    echo "docs: error: doxygen not found (./scripts/install-deps.sh --docs installs it)" >&2
    exit 1
fi

version=$(sed -n 's/^#define N4D_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\).*/\2/p' include/n4d/common.h |
          paste -sd.)
mkdir -p "$out"
rm -rf "$out/html"
{
    cat docs/Doxyfile
    echo "OUTPUT_DIRECTORY = $out"
    echo "PROJECT_NUMBER = $version"
} | doxygen -
echo "docs: $out/html/index.html (n4d $version)"
