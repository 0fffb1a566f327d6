#!/usr/bin/env python3
"""Save, partial load and memory-mapped load (include/n4d/store.h): the
whole model, a list of ids and a region read back from HDF5, and a
memory-mapped load that runs to the same checksum.

    PYTHONPATH=python python3 examples/python/storage.py [OUTDIR]
"""

import os
import sys
import tempfile

import numpy as np

import n4d
from _small import config

out = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="n4d-storage-")
os.makedirs(out, exist_ok=True)
path = os.path.join(out, "small.h5")

with n4d.Model.from_json(config()) as model:
    model.build()
    model.save(path, contiguous=1)  # contiguous synapse arrays: mappable
    with model.simulate(backend="cpu-omp", threads=2) as sim:
        sim.run(100)
        want = sim.checksum
    pos = model.positions()
    print("saved %d neurons, %d synapses: %d bytes" % (model.num_neurons, model.num_synapses,
                                                      os.path.getsize(path)))

with n4d.Model.load(path, ids=[0, 5, 9, 300]) as part:
    print("ids [0, 5, 9, 300]: %d neurons, %d synapses among them, positions %s"
          % (part.num_neurons, part.num_synapses, part.positions().tolist()))
    assert np.array_equal(part.positions(), pos[[0, 5, 9, 300]])
with n4d.Model.load(path, region=((0, 0, 0, 1), (7, 7, 3, 1))) as part:
    print("region x, y 0..7 of the association area: %d neurons" % part.num_neurons)
with n4d.Model.load(path, mmap=True) as mapped:
    with mapped.simulate(backend="cpu-omp", threads=2) as sim:
        sim.run(100)
        print("memory-mapped load: checksum %016x (built model: %016x)" % (sim.checksum, want))
        assert sim.checksum == want
