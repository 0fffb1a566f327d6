"""Reading the spike files the `n4d` program and Sim.record write.

CSV (``n4d run --spikes FILE.csv``): a header ``step,time_ms,neuron_id``,
then one spike per line. HDF5 (``--spikes FILE.h5``, Sim.record): SONATA
``/spikes/<population>/{timestamps (ms), node_ids (local)}`` with the
population's first n4d id in the attribute ``n4d_first_id``
(docs/storage.md). Neither needs libn4d.
"""

import os
from collections import namedtuple

import numpy as np

#: times in ms (float64), n4d neuron ids (int64), both sorted by (time, id);
#: groups: [(population name, first id, neuron count or None)]
SpikeData = namedtuple("SpikeData", "times ids groups")


def read_csv(path):
    with open(path, "r", encoding="utf-8") as f:
        header = f.readline().strip()
        if header != "step,time_ms,neuron_id":
            raise ValueError("%s: not an n4d spike CSV (header %r, expected "
                             "'step,time_ms,neuron_id')" % (path, header))
        data = np.loadtxt(f, delimiter=",", ndmin=2, dtype=np.float64)
    if data.size == 0:
        data = np.empty((0, 3))
    if data.shape[1] != 3:
        raise ValueError("%s: expected 3 columns, got %d" % (path, data.shape[1]))
    return SpikeData(data[:, 1].copy(), data[:, 2].astype(np.int64), [("all", 0, None)])


def read_h5(path):
    try:
        import h5py
    except ImportError as e:  # pragma: no cover - h5py is a test dependency
        raise ImportError("reading HDF5 spike files needs h5py (Debian: python3-h5py)") from e
    times, ids, groups = [], [], []
    with h5py.File(path, "r") as f:
        if "spikes" not in f:
            raise ValueError("%s: no /spikes group (not an n4d spike file)" % path)
        pops = sorted(f["spikes"].items(),
                      key=lambda kv: int(kv[1].attrs.get("n4d_first_id", 0)))
        for name, g in pops:
            first = int(g.attrs.get("n4d_first_id", 0))
            times.append(np.asarray(g["timestamps"][()], np.float64))
            ids.append(np.asarray(g["node_ids"][()], np.int64) + first)
            groups.append((name, first, None))
    t = np.concatenate(times) if times else np.empty(0)
    i = np.concatenate(ids) if ids else np.empty(0, np.int64)
    order = np.lexsort((i, t))
    return SpikeData(t[order], i[order], groups)


def read_spikes(path):
    """A spike file (.csv or HDF5, told apart by its first bytes) as SpikeData."""
    path = os.fspath(path)
    with open(path, "rb") as f:
        magic = f.read(8)
    if magic == b"\x89HDF\r\n\x1a\n":
        return read_h5(path)
    return read_csv(path)
