#!/usr/bin/env python3
"""Inactive-neuron compression: the association area falls silent when the
drive into V1 stops; its blocks are compressed (zlib) and skipped, and
the checksum equals a run without compression.

    PYTHONPATH=python python3 examples/python/compression.py [--steps 600]
"""

import argparse

import numpy as np

import n4d
from _small import config

ap = argparse.ArgumentParser()
ap.add_argument("--steps", type=int, default=600)
a = ap.parse_args()


def run(compress):
    with n4d.Model.from_json(config()) as model:
        sim = model.simulate(backend="cpu-omp", threads=2)
        if compress:
            sim.enable_compression(threshold_steps=100, check_every=50)
        frame = np.full((16, 16), 40.0, np.float32)
        for t in range(a.steps):
            if t < 50:  # a flash, then darkness
                sim.feed_sense("vision", frame)
            sim.step()
        stats = sim.compression_stats()
        mask = sim.compressed_neurons() if compress else None
        return sim.checksum, stats, mask, model.populations


plain, _, _, _ = run(False)
packed, st, mask, pops = run(True)
print("compressed %d of %d blocks (%d neurons); bytes %d -> %d, saved %d (%d handed back)"
      % (st["blocks_compressed"], st["blocks"], st["neurons_compressed"], st["bytes_before"],
         st["bytes_after"], st["bytes_before"] - st["bytes_after"], st["bytes_saved_real"]))
for p in pops:
    print("  %s: %d of %d neurons compressed" % (p.name, mask[p.first:p.first + p.count].sum(),
                                                 p.count))
print("checksum %016x with compression, %016x without" % (packed, plain))
assert packed == plain
