#!/usr/bin/env bash
# Builds the Debian packages of a configured and built tree (cpack -G DEB),
# installs them into the system (dpkg -i), checks them with the downstream
# programs (tests/downstream/run.sh /usr), and removes them again (dpkg -r).
#   ./scripts/deb-check.sh [BUILD_DIR]     (default build-test; as root)
# Refuses to run when a package named n4d or n4d-dev is already installed.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
build=${1:-build-test}
[[ -f "$build/CPackConfig.cmake" ]] || { echo "deb-check: $build is not a configured n4d build" >&2; exit 2; }
[[ $(id -u) -eq 0 ]] || { echo "deb-check: must run as root (dpkg -i)" >&2; exit 2; }
for p in n4d n4d-dev; do
    if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok"; then
        echo "deb-check: package $p is already installed; not touching it" >&2
        exit 2
    fi
done

work=$(cd "$build" && pwd)/_deb
rm -rf "$work"
mkdir -p "$work"
(cd "$build" && cpack -G DEB -B "$work" >/dev/null)
debs=("$work"/n4d_*.deb "$work"/n4d-dev_*.deb)
for d in "${debs[@]}"; do
    echo "deb-check: $(basename "$d"): Depends: $(dpkg-deb -f "$d" Depends)"
done

cleanup() { dpkg -r n4d-dev n4d >/dev/null 2>&1 || true; }
trap cleanup EXIT
dpkg -i "${debs[@]}" >/dev/null
tests/downstream/run.sh /usr "$work/downstream"
dpkg -r n4d-dev n4d >/dev/null
trap - EXIT
left=$(ls /usr/lib/libn4d* /usr/lib/*/libn4d* /usr/bin/n4d /usr/include/n4d.h 2>/dev/null || true)
[[ -z "$left" ]] || { echo "deb-check: FAIL: left after dpkg -r: $left" >&2; exit 1; }
echo "deb-check: installed, used and removed n4d and n4d-dev"
