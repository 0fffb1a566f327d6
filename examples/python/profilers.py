#!/usr/bin/env python3
"""The profilers: memory snapshots per component before and after the
build and the run, with their difference and report; n4d_optimize_memory;
the section profiler with n4d's sections and one of the caller's.

    PYTHONPATH=python python3 examples/python/profilers.py
"""

import numpy as np

import n4d
from _small import config

with n4d.Model.from_json(config()) as model:
    snaps = [model.memory_snapshot("described")]
    print("before the build:", model.optimize_memory(("zorder", "shrink"))["description"])
    model.build()
    snaps.append(model.memory_snapshot("built"))
    sim = model.simulate(backend="cpu-omp", threads=2)
    sim.profile(True)
    for t in range(100):
        sim.profile_start("my feed")
        sim.feed_sense("vision", np.full((16, 16), 20.0 if t < 30 else 0.0, np.float32))
        sim.profile_stop("my feed")
        sim.step()
    snaps.append(model.memory_snapshot("ran 100 steps"))
    print(n4d.perf.memory_report(snaps))
    d = n4d.perf.memory_diff(snaps[1], snaps[2])
    print("the sim added %.1f KiB (%s)" % (d["total"] / 1024, ", ".join(
        "%s %+d" % kv for kv in d["bytes"].items() if kv[1])))
    print(sim.profile_report())
    assert any(e["name"] == "my feed" and e["calls"] == 100 for e in sim.profile_entries())
    sim.close()
