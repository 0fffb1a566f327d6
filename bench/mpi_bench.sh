#!/usr/bin/env bash
# The MPI backend's figures (bench/RESULTS.md, docs/distributed.md): per
# rank neurons, synapses, build time, memory (allocated by n4d; peak RSS),
# compute and exchange time and bytes, for 1-4 ranks on cuba_400k and on
# the distance-dependent dist_1m; then 2 ranks x 1 thread against 1 rank x
# 2 threads on cuba_400k. Every run prints its checksum: they must agree.
#   bench/mpi_bench.sh [BUILD_DIR] [CUBA_MS] [DIST_MS] [RANKS]
# (defaults: build 200 20 "1 2 3 4"). Under Open MPI more ranks than cores
# need --oversubscribe; ranks and OpenMP threads yield while they wait.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build=${1:-build}
cuba_ms=${2:-200}
dist_ms=${3:-20}
ranks=${4:-1 2 3 4}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_mpi_yield_when_idle=1 OMP_WAIT_POLICY=PASSIVE
mpi=(mpirun --oversubscribe --bind-to none)

run_ranks() { # config, ms
    for np in $ranks; do
        echo "### $1, $np rank(s) x 1 thread, $2 ms"
        "${mpi[@]}" -np "$np" "$build/n4d-mpi" run "bench/configs/$1.json" --duration "$2" \
            --threads 1 --quiet | grep -vE '^(neurons|steps|mean rate|real-time):'
        echo
    done
}

echo "## $(date -u +%F) on $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
run_ranks cuba_400k "$cuba_ms"
run_ranks dist_1m "$dist_ms"
echo "### cuba_400k: 1 rank x 2 threads (n4d, cpu-omp) vs 2 ranks x 1 thread (n4d-mpi)"
for rep in 1 2; do
    "$build/n4d" run bench/configs/cuba_400k.json --duration "$cuba_ms" --threads 2 --quiet |
        grep -E 'simulation time|checksum' | sed "s/^/1x2 rep $rep: /"
    "${mpi[@]}" -np 2 "$build/n4d-mpi" run bench/configs/cuba_400k.json --duration "$cuba_ms" \
        --threads 1 --quiet | grep -E 'simulation time|checksum' | sed "s/^/2x1 rep $rep: /"
done
