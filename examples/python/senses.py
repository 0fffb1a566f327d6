#!/usr/bin/env python3
"""Senses: a bright bar (3 columns wide) moving across the visual field, fed into V1 every
step (n4d_sim_feed_sense), and the firing rate of each area per phase.

    PYTHONPATH=python python3 examples/python/senses.py [--steps 200]
"""

import argparse

import numpy as np

import n4d
from _small import config

ap = argparse.ArgumentParser()
ap.add_argument("--steps", type=int, default=200)
a = ap.parse_args()

with n4d.Model.from_json(config()) as model:
    sim = model.simulate(backend="cpu-omp", threads=2)
    pops = model.populations
    phases = 4
    per_phase = max(1, a.steps // phases)
    for phase in range(phases):
        sim.clear_spikes()
        start = sim.current_step
        for t in range(per_phase):
            frame = np.zeros((16, 16), np.float32)
            x = (start + t) // 8 % 14          # the bar moves one column every 8 steps
            frame[x:x + 3, :] = 80.0 if phase % 2 == 0 else 0.0  # bar on in phases 0 and 2
            sim.feed_sense("vision", frame, z_layer=0)
            sim.step()
        sp = sim.spikes()
        seconds = per_phase * model.dt / 1000.0
        rates = {p.name: np.count_nonzero((sp.ids >= p.first) & (sp.ids < p.first + p.count))
                 / p.count / seconds for p in pops}
        print("phase %d (bar %s): " % (phase, "on " if phase % 2 == 0 else "off")
              + ", ".join("%s %.1f Hz" % kv for kv in rates.items()))
    print("checksum %016x after %d steps" % (sim.checksum, sim.current_step))
    assert sim.total_spikes > 0
