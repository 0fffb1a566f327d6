#!/usr/bin/env python3
"""Z-order and locality: 4D Morton codes, the locality of access
sequences, and the synapse-target locality of a lattice-order and a
Z-order build of one model (n4d_model_target_jumps), whose spike trains
are the same.

    PYTHONPATH=python python3 examples/python/zorder.py
"""

import n4d
from _small import config

print("Morton code of (1, 2, 3, 1): %d -> %s" % (n4d.perf.morton_encode((1, 2, 3, 1)),
                                                 n4d.perf.morton_decode(
                                                     n4d.perf.morton_encode((1, 2, 3, 1)))))
for seq in ([0, 1, 2, 3, 4, 5], [0, 1, 2, 3, 50, 51, 52], [0, 900, 17, 4000, 3]):
    print("locality score of %s: %.3f" % (seq, n4d.perf.locality_score(seq)))

sums = {}
for order in ("lattice", "zorder"):
    with n4d.Model.from_json(config()) as model:
        model.set_layout(order=order)
        model.build()
        j = model.target_jumps("internal")
        print("%-7s build: mean jump %.1f, cache lines per target %.3f, pages per target %.4f"
              % (order, j["mean_jump"], j["lines_per_access"], j["pages_per_access"]))
        with model.simulate(backend="cpu-omp", threads=2) as sim:
            sim.run(100)
            sums[order] = sim.checksum
print("checksums: %s" % {k: "%016x" % v for k, v in sums.items()})
assert len(set(sums.values())) == 1, "the Z-order build changed the spikes"
