#!/usr/bin/env bash
# Installs the packages n4d needs to build and test on Debian 12.
# Idempotent: does nothing (quickly) when everything is already installed.
#   ./scripts/install-deps.sh [--docs] [--fuzz]
#     (--docs: and doxygen; --fuzz: and clang with libFuzzer, tests/fuzz/run.sh)
# Run as root, or as a user with sudo.
set -euo pipefail

# python3-h5py: the test that reads n4d's HDF5 files with h5py (it is skipped without)
# abigail-tools: scripts/abi-check.sh (abidw, abidiff)
# python3-numpy, python3-matplotlib, python3-pytest: the Python package's tests (the
# "python" ctest test); python3-pip: its offline `pip install ./python` test;
# python3-scipy: the guide examples of n4d.fourdnc (scipy CSR matrices);
# python3-pynn, python3-neo, python3-brian: the PyNN backend pyNN.n4d and its tests,
# which compare it with pyNN.brian2 (docs/pynn.md)
# libopenmpi-dev, openmpi-bin: libn4d_mpi, n4d-mpi and their tests under mpirun
# (N4D_MPI, docs/distributed.md)
PACKAGES=(cmake make gcc g++ pkg-config libhdf5-dev libcmocka-dev libjansson-dev zlib1g-dev
          python3-h5py abigail-tools python3-numpy python3-matplotlib python3-pytest python3-pip
          python3-scipy python3-pynn python3-neo python3-brian libopenmpi-dev openmpi-bin)
# --docs: also doxygen, for the API reference (scripts/docs.sh); it pulls in
# LLVM's libraries, so only the command that needs it asks for it.
for arg in "$@"; do
    case "$arg" in
    --docs) PACKAGES+=(doxygen) ;;
    --fuzz) PACKAGES+=(clang libclang-rt-14-dev) ;;
    *) echo "install-deps: unknown argument $arg (usage: install-deps.sh [--docs] [--fuzz])" >&2; exit 2 ;;
    esac
done

missing=()
for pkg in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    if [[ "$status" != "install ok installed" ]]; then
        missing+=("$pkg")
    fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "install-deps: all build dependencies are installed"
    exit 0
fi

if [[ $(id -u) -eq 0 ]]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
else
    echo "install-deps: error: missing packages (${missing[*]}) and not root; no sudo found" >&2
    exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-deps: error: apt-get not found; install these packages by hand: ${missing[*]}" >&2
    exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
