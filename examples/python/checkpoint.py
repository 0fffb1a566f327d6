#!/usr/bin/env python3
"""Checkpoint and resume: a run interrupted half-way, saved
(n4d_sim_checkpoint), resumed in a new sim (n4d_sim_resume, here on
another thread count) and finished has the checksum of an uninterrupted run.

    PYTHONPATH=python python3 examples/python/checkpoint.py [OUTDIR] [--steps 200]
"""

import argparse
import os
import tempfile

import n4d
from _small import config

ap = argparse.ArgumentParser()
ap.add_argument("outdir", nargs="?", default=None)
ap.add_argument("--steps", type=int, default=200)
a = ap.parse_args()
out = a.outdir or tempfile.mkdtemp(prefix="n4d-checkpoint-")
os.makedirs(out, exist_ok=True)
ckpt = os.path.join(out, "half.h5")

with n4d.Model.from_json(config()) as model:
    with model.simulate(backend="cpu-omp", threads=2) as sim:
        sim.run(a.steps)
        whole = sim.checksum
    with model.simulate(backend="cpu-omp", threads=2) as sim:
        sim.run(a.steps // 2)
        sim.checkpoint(ckpt)
        print("checkpoint at step %d: %s" % (sim.current_step, ckpt))

sim = n4d.Sim.resume(ckpt, backend="cpu-omp", threads=1)
sim.run(a.steps - sim.current_step)
print("uninterrupted %016x, resumed %016x (step %d)" % (whole, sim.checksum, sim.current_step))
assert sim.checksum == whole
sim.model.close()
