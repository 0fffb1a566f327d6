#!/usr/bin/env python3
"""The CUBA benchmark network from Python, and its plots.

    PYTHONPATH=python N4D_LIBRARY=build/src/libn4d.so \
        python3 examples/python/plots.py [OUTDIR] [--steps N]

Writes raster.png, rates.png, traces.png and lattice.png into OUTDIR
(default: the current folder) and prints the run's checksum, which equals
`n4d run examples/configs/cuba.json --steps N` on any backend and thread count.
"""

import argparse
import os

import n4d

here = os.path.dirname(os.path.abspath(__file__))
ap = argparse.ArgumentParser()
ap.add_argument("outdir", nargs="?", default=".")
ap.add_argument("--steps", type=int, default=2000)
a = ap.parse_args()
os.makedirs(a.outdir, exist_ok=True)

with n4d.Model.from_json(os.path.join(here, "..", "configs", "cuba.json")) as model:
    sim = model.simulate(backend="cpu-omp", threads=2)
    # the membrane potential of six neurons every step for the first 50 ms...
    trace = sim.trace("v", 500, ids=[0, 1, 2, 3200, 3201, 3202])
    # ...then the rest of the run at full speed
    sim.run(a.steps - 500)
    print("%d neurons, %d synapses, %d spikes in %.0f ms, checksum %016x"
          % (model.num_neurons, model.num_synapses, sim.total_spikes, sim.time_ms,
             sim.checksum))
    out = lambda name: os.path.join(a.outdir, name)  # noqa: E731
    n4d.plot.raster(sim, path=out("raster.png"))
    n4d.plot.rates(sim, bin_ms=2.0, path=out("rates.png"))
    n4d.plot.traces(trace, path=out("traces.png"), title="membrane potential")
    n4d.plot.lattice_slice(sim, path=out("lattice.png"), title="spikes per site")
    print("wrote raster.png, rates.png, traces.png, lattice.png in", a.outdir)
