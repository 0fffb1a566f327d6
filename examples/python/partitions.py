#!/usr/bin/env python3
"""Partitions and load balance: recursive coordinate bisection of a model's
neurons (n4d_partition_compute) by neuron count and by neurons + synapses,
the layout's partitions that cpu-omp's threads run (n4d_partition_layout),
and the same checksum for every thread count.

    PYTHONPATH=python python3 examples/python/partitions.py [--parts 4]
"""

import argparse

import n4d
from _small import config

ap = argparse.ArgumentParser()
ap.add_argument("--parts", type=int, default=4)
ap.add_argument("--steps", type=int, default=100)
a = ap.parse_args()

with n4d.Model.from_json(config()) as model:
    model.build()
    for balance in (False, True):
        p = model.partition(a.parts, balance_synapses=balance)
        print("balanced by %s:" % ("neurons + synapses" if balance else "neurons"))
        for b in p.boxes:
            print("  box %d: %s..%s, %d neurons, %d synapses"
                  % (b.index, b.lo, b.hi, b.num_neurons, b.num_synapses))
        print("  imbalance: neurons %.1f%%, synapses %.1f%%"
              % (100 * p.neuron_stats["imbalance"], 100 * p.synapse_stats["imbalance"]))

with n4d.Model.from_json(config()) as model:
    model.set_layout(partitions=a.parts)
    model.build()
    print("layout partitions (cpu-omp's work units): %d, neuron imbalance %.1f%%"
          % (len(model.partition_layout()),
             100 * model.partition_layout().neuron_stats["imbalance"]))
    sums = set()
    for threads in (1, 2, 3):
        with model.simulate(backend="cpu-omp", threads=threads) as sim:
            sim.run(a.steps)
            sums.add(sim.checksum)
            print("  %d threads: checksum %016x" % (threads, sim.checksum))
    assert len(sums) == 1, "checksums differ between thread counts"
