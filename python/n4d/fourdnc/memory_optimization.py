"""Memory optimisation: HDF5 storage with partial and memory-mapped loads
(include/n4d/store.h), inactive-neuron compression (compress.h), Z-order
layouts and locality statistics (zorder.h), memory snapshots and
n4d_optimize_memory (profile.h)."""

import os

import numpy as np

from .. import perf
from ..core import Model
from ..errors import InvalidArgError, StateError
from .brain_model import BrainModel, NeuronDict

MB = float(1 << 20)


def _neuron_dict(neurons, what):
    if not isinstance(neurons, NeuronDict):
        raise InvalidArgError("%s: the neurons of a BrainModel expected (model.neurons)" % what,
                              -1, "invalid argument")
    return neurons


class MemoryMappedModel:
    """``MemoryMappedModel(filepath, mode='w')``: an n4d HDF5 model file.

    store_neurons saves the whole n4d model the neurons belong to (neurons
    and synapses; n4d_model_save), with its synapse arrays contiguous and
    page-aligned so that a whole-model load maps them read-only from the
    file (n4d_model_load with mmap_synapses); load_neurons(indices=...)
    reads only those neurons and the synapses among them (a partial load)."""

    def __init__(self, filepath, mode="r"):
        if mode not in ("r", "w", "a"):
            raise InvalidArgError("MemoryMappedModel: mode must be 'r', 'w' or 'a', got %r"
                                  % (mode,), -1, "invalid argument")
        self.filepath = os.fspath(filepath)
        self.mode = mode
        self._loaded = []
        self._closed = False

    def _open(self):
        if self._closed:
            raise StateError("MemoryMappedModel: closed", -8, "state")

    def store_neurons(self, neurons, chunk_size=1000, compression="gzip", compression_opts=4):
        """n4d_model_save of the neurons' model: chunk_size rows per chunk,
        compression "gzip" (level compression_opts) or None for the neuron
        datasets; the synapse arrays stay uncompressed so they can be mapped."""
        self._open()
        if self.mode == "r":
            raise StateError("MemoryMappedModel: opened read-only (mode 'r')", -8, "state")
        nd = _neuron_dict(neurons, "store_neurons")
        if compression not in (None, "gzip"):
            raise InvalidArgError("store_neurons: compression %r (n4d writes 'gzip' or None)"
                                  % (compression,), -1, "invalid argument")
        opts = {"chunk_size": int(chunk_size), "contiguous": 1}
        if compression == "gzip":
            opts.update(compression=1, gzip_level=int(compression_opts))
        nd.n4d_model.save(self.filepath, **opts)
        self.ids = nd.ids

    def load_model(self, indices=None, mmap=None):
        """A BrainModel of the file: all neurons (synapses mapped from the file
        unless mmap=False) or those of ``indices`` (a partial load)."""
        self._open()
        if indices is None:
            m = Model.load(self.filepath, mmap=True if mmap is None else bool(mmap))
            ids = None
        else:
            ids = np.unique(np.asarray(list(indices), dtype=np.int64))
            if ids.size and ids[0] < 0:
                raise InvalidArgError("load_neurons: negative neuron id %d" % ids[0], -1,
                                      "invalid argument")
            m = Model.load(self.filepath, ids=ids)
        brain = BrainModel(model=m)
        self._loaded.append(brain)
        return brain, ids

    def load_neurons(self, indices=None):
        """neuron id -> Neuron of the loaded model (keys: the ids in the file)."""
        brain, ids = self.load_model(indices)
        return NeuronDict(brain, brain.n4d_model, ids=ids)

    def close(self):
        """Closes the models loaded from the file (their mappings end)."""
        for b in self._loaded:
            b.close()
        self._loaded = []
        self._closed = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class InactiveNeuronCompressor:
    """``InactiveNeuronCompressor(inactivity_threshold=1000)``: n4d's
    inactive-neuron compression on the BrainModel's simulation (cpu-omp).

    n4d decides from the sim's own spikes and state: a block of neurons
    silent for ``inactivity_threshold`` steps, at rest and without pending
    input is zlib-compressed and skipped (spike trains are bitwise the same);
    blocks are examined every ``check_every`` steps while the sim runs."""

    def __init__(self, inactivity_threshold=1000, check_every=None, level=1):
        self.inactivity_threshold = int(inactivity_threshold)
        self.check_every = int(check_every or min(100, max(1, self.inactivity_threshold)))
        self.level = int(level)
        self._sim = None
        self._neurons = None

    def _enable(self, sim):
        if self._sim is not sim:
            sim.enable_compression(threshold_steps=self.inactivity_threshold,
                                   check_every=self.check_every, level=self.level)
            self._sim = sim

    def compress_inactive_neurons(self, neurons, spike_history=None, current_step=None):
        """Enables compression on the model's simulation and, if
        ``current_step`` is ahead of it, runs it to that step (checks happen as
        it runs). ``spike_history`` is not read: n4d knows its spikes. Returns
        (active neurons: a NeuronDict of those outside compressed blocks, bytes
        saved = bytes covered - bytes of their compressed store)."""
        nd = _neuron_dict(neurons, "compress_inactive_neurons")
        sim = nd.brain.simulation()
        self._enable(sim)
        if current_step is not None and int(current_step) > sim.current_step:
            sim.run(int(current_step) - sim.current_step)
        self._neurons = nd
        mask = sim.compressed_neurons()
        keep = ~mask
        active = nd
        if mask.any():
            kept = np.flatnonzero(keep)
            active = NeuronDict(nd.brain, nd.n4d_model, ids=nd.ids[kept], indices=kept)
        st = sim.compression_stats()
        return active, int(st["bytes_before"]) - int(st["bytes_after"])

    def decompress_neuron(self, neuron_id):
        """n4d_sim_restore_neuron (restores the neuron's block); returns the Neuron."""
        if self._sim is None:
            raise StateError("decompress_neuron: nothing compressed yet", -8, "state")
        k = self._neurons._index.get(int(neuron_id)) if self._neurons is not None else None
        if k is None:
            raise KeyError(neuron_id)
        self._sim.restore_neuron(k)
        return self._neurons[neuron_id]

    def get_stats(self):
        """n4d_sim_compression_stats (with bytes_saved)."""
        if self._sim is None:
            return {}
        st = self._sim.compression_stats()
        st["bytes_saved"] = int(st["bytes_before"]) - int(st["bytes_after"])
        return st


class CacheOptimizer:
    """Z-order (4D Morton) storage and locality statistics (zorder.h)."""

    def reorder_neurons_spatial_locality(self, neurons):
        """Rebuilds the neurons' model with the Z-order layout (neuron state,
        parameters and synapse targets stored along a 4D Morton curve; ids and
        results unchanged) and returns its neurons in Morton order
        (n4d_morton_encode4). Assign them to ``model.neurons`` to adopt that
        build. A model loaded from a file keeps its storage; only the order
        of iteration changes."""
        nd = _neuron_dict(neurons, "reorder_neurons_spatial_locality")
        brain = nd.brain
        m = nd.n4d_model
        if brain.config is not None and nd.n4d_model is brain.n4d_model:
            # a new build with the Z-order layout; adopted by `model.neurons = ...`
            layout = dict(brain.layout, order="zorder")
            m = brain._build(layout)
        else:
            layout = None
        codes = perf.morton_encode(m.positions())
        order = nd.ids[np.argsort(codes, kind="stable")]
        out = NeuronDict(brain, m, ids=nd.ids, order=order)
        out.layout = layout
        return out

    def analyze_access_pattern(self, access_sequence):
        """n4d_access_pattern: locality_score = 1 / (1 + mean jump), mean_jump,
        max_jump, sequential_fraction, lines_per_access, pages_per_access."""
        return perf.access_pattern(access_sequence)

    def locality_report(self, model):
        """n4d_model_target_jumps of a BrainModel's synapse targets in its storage
        order ("internal") and in user ids ("user": a lattice-order build)."""
        m = model.n4d_model
        return {"internal": m.target_jumps("internal"), "user": m.target_jumps("user")}


class MemoryProfiler:
    """Snapshots of the bytes per component (n4d's tagged allocator,
    n4d_memory_snapshot), their differences and a report."""

    def __init__(self):
        self.snapshots = {}

    def take_snapshot(self, label, model=None):
        """n4d_memory_snapshot of the model's context (the model and its sims)."""
        if model is None:
            raise InvalidArgError("take_snapshot: n4d needs the model to measure", -1,
                                  "invalid argument")
        target = model.n4d_model if hasattr(model, "n4d_model") else model
        snap = perf.memory_snapshot(target, label)
        self.snapshots[label] = snap
        return {"label": label, "total_mb": snap.total / MB,
                "components_mb": {k: v / MB for k, v in snap.bytes.items()}}

    def compare_snapshots(self, label1, label2):
        """n4d_memory_diff: total_diff_mb, total_diff_bytes, component_diffs_mb."""
        d = perf.memory_diff(self.snapshots[label1], self.snapshots[label2])
        return {"total_diff_mb": d["total"] / MB, "total_diff_bytes": d["total"],
                "component_diffs_mb": {k: v / MB for k, v in d["bytes"].items()}}

    def get_report(self):
        """n4d_memory_report of the snapshots in the order they were taken."""
        if not self.snapshots:
            return "no snapshots"
        return perf.memory_report(self.snapshots.values())

    def print_report(self):
        print(self.get_report())


def optimize_model_memory(model, enable_compression=True, enable_cache_optimization=True):
    """n4d_optimize_memory before a rebuild of the BrainModel (Z-order layout,
    shrunk description arrays) and n4d_sim_optimize_memory on its simulation
    (compression of inactive neurons, shrunk spike buffers). Returns
    initial_memory_mb, final_memory_mb, bytes_saved (context totals before and
    after), optimizations_applied, optimizations_skipped, descriptions."""
    initial = model.memory_bytes()
    applied, skipped, notes = [], [], []
    if enable_cache_optimization:
        if model.config is not None:
            model.rebuild(optimize=("zorder", "shrink"))
            r = model.last_optimization
        else:
            r = model.n4d_model.optimize_memory(("zorder", "shrink"))  # built: both skipped
        applied += r["applied"]
        skipped += r["skipped"]
        notes.append(r["description"])
    if enable_compression:
        r = model.simulation().optimize_memory(("shrink", "compress"))
        applied += [a for a in r["applied"] if a not in applied]
        skipped += r["skipped"]
        notes.append(r["description"])
    final = model.memory_bytes()
    return {"initial_memory_mb": initial / MB, "final_memory_mb": final / MB,
            "bytes_saved": initial - final, "optimizations_applied": applied,
            "optimizations_skipped": skipped, "descriptions": notes}
