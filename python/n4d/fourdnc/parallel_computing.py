"""Parallel computing: the reference's multiprocessing simulator as n4d's
cpu-omp backend, whose work units are the boxes of recursive coordinate
bisection (include/n4d/partition.h)."""

import os
import time

import numpy as np

from ..core import Model, Sim
from ..errors import InvalidArgError, StateError
from .brain_model import NeuronDict


class SpatialPartition:
    """One box: partition_id, x_range, y_range, z_range, w_range (inclusive
    (lo, hi) pairs), neuron_ids (user ids, ascending) and num_synapses."""

    def __init__(self, box):
        self.partition_id = box.index
        self._set(box)

    def _set(self, box):
        self.x_range, self.y_range, self.z_range, self.w_range = (
            (int(box.lo[a]), int(box.hi[a])) for a in range(4))
        self.neuron_ids = [int(i) for i in box.neurons] if box.neurons is not None else []
        self.num_synapses = int(box.num_synapses)

    @property
    def num_neurons(self):
        return len(self.neuron_ids)

    def __repr__(self):
        return ("SpatialPartition(%d, x=%r, y=%r, z=%r, w=%r, %d neurons)"
                % (self.partition_id, self.x_range, self.y_range, self.z_range, self.w_range,
                   self.num_neurons))


def _stats_dict(p):
    counts = [int(b.num_neurons) for b in p.boxes]
    s = p.neuron_stats
    return {"neurons_per_partition": counts, "mean": s["mean"], "std": s["std"],
            "min": s["min"], "max": s["max"], "imbalance": s["imbalance"],
            "synapses_per_partition": [int(b.num_synapses) for b in p.boxes],
            "synapse_imbalance": p.synapse_stats["imbalance"],
            "balance_synapses": p.balance_synapses}


class ParallelSimulationEngine:
    """``ParallelSimulationEngine(n_processes=4)``: partitions for n4d's
    threads. ``n_processes`` None: os.cpu_count()."""

    def __init__(self, n_processes=None, balance_synapses=False):
        self.n_processes = int(n_processes or os.cpu_count() or 1)
        self.balance_synapses = bool(balance_synapses)
        self.partitions = []
        self._partitioning = None

    def create_spatial_partitions(self, lattice_shape):
        """n4d_partition_compute on a model with one neuron on every site of the
        lattice: n_processes boxes of equal site counts. Returns SpatialPartitions
        (their neuron_ids are empty until assign_neurons_to_partitions)."""
        shape = [int(s) for s in lattice_shape]
        if len(shape) != 4 or min(shape) < 1:
            raise InvalidArgError("create_spatial_partitions: lattice_shape must be four "
                                  "positive integers, got %r" % (lattice_shape,), -1,
                                  "invalid argument")
        with Model(lattice_shape=shape, dt=1.0, seed=1) as sites:
            sites.add_area("lattice", (0, 0, 0, 0), tuple(s - 1 for s in shape))
            sites.add_population("sites", "lattice", "parrot", density=1.0)
            sites.build()
            p = sites.partition(min(self.n_processes, sites.num_neurons))
        out = []
        for b in p.boxes:
            sp = SpatialPartition(b._replace(neurons=None))
            out.append(sp)
        self.partitions = out
        return out

    def assign_neurons_to_partitions(self, neurons, partitions=None):
        """n4d_partition_compute on the model the neurons belong to (a
        BrainModel's ``neurons``), into as many boxes as ``partitions`` has: the
        boxes are cut again on the neurons (balanced counts), and each
        partition's ranges and neuron_ids are updated in place."""
        if not isinstance(neurons, NeuronDict):
            raise InvalidArgError("assign_neurons_to_partitions: the neurons of a BrainModel "
                                  "expected (model.neurons)", -1, "invalid argument")
        if partitions is None:
            partitions = self.partitions
        n = len(partitions) if partitions else self.n_processes
        p = neurons.n4d_model.partition(n, self.balance_synapses)
        if not partitions:
            partitions = [SpatialPartition(b) for b in p.boxes]
        ids = neurons.ids
        for sp, b in zip(partitions, p.boxes):
            sp._set(b._replace(neurons=ids[b.neurons]))
        self.partitions = list(partitions)
        self._partitioning = p
        return self.partitions

    def get_load_balance_stats(self):
        """Neurons per partition and n4d_balance_stats (mean, std, min, max,
        imbalance = (max - min) / mean), also for synapses."""
        if self._partitioning is None:
            raise StateError("get_load_balance_stats: assign neurons to partitions first", -8,
                             "state")
        return _stats_dict(self._partitioning)


class ParallelSimulator:
    """``ParallelSimulator(model, n_processes=4, use_spatial_partitioning=True)``:
    an n4d cpu-omp sim with n_processes threads. With spatial partitioning
    the model is rebuilt (BrainModel.rebuild, a model from a config) with
    ``n_processes`` layout partitions, the threads' work units; results are
    bitwise the same for any thread count and layout."""

    def __init__(self, model, n_processes=None, use_spatial_partitioning=True):
        self.model = model
        self.n_processes = int(n_processes or os.cpu_count() or 1)
        self.use_spatial_partitioning = bool(use_spatial_partitioning)
        if (self.use_spatial_partitioning and model.config is not None
                and model.layout.get("partitions", 0) != self.n_processes
                and model.n4d_model.num_neurons >= self.n_processes):
            model.rebuild(partitions=self.n_processes)
        self.sim = Sim(model.n4d_model, backend="cpu-omp", threads=self.n_processes)
        model._attach(self.sim)
        self.engine = ParallelSimulationEngine(self.n_processes)

    @property
    def current_step(self):
        return self.sim.current_step

    def parallel_neuron_update(self, synaptic_inputs, current_step=None):
        """One step of every neuron with ``synaptic_inputs`` (neuron id -> input,
        added as external input, n4d_sim_add_input) on the n_processes threads.
        ``current_step`` must be the sim's step (None: any). Returns {neuron id:
        (v_membrane, spiked)} for the ids of synaptic_inputs."""
        if current_step is not None and int(current_step) != self.sim.current_step:
            raise StateError("parallel_neuron_update: current_step %d, but the simulation is "
                             "at step %d" % (current_step, self.sim.current_step), -8, "state")
        if isinstance(synaptic_inputs, dict):
            ids = np.fromiter(synaptic_inputs.keys(), np.int64, len(synaptic_inputs))
            vals = np.fromiter(synaptic_inputs.values(), np.float64, len(synaptic_inputs))
        else:
            vals = np.asarray(synaptic_inputs, np.float64)
            ids = np.arange(vals.size)
        nz = vals != 0
        if nz.any():
            self.sim.add_input(ids[nz], vals[nz])
        self.sim.step()
        v = self.sim.state("v")
        fired = np.zeros(v.size, bool)
        fired[self.sim.last_spikes()] = True
        return {int(i): (float(v[i]), bool(fired[i])) for i in ids}

    def step(self):
        self.sim.step()
        ids = self.sim.last_spikes()
        return {"step": self.sim.current_step, "spikes": ids.tolist(), "n_spikes": int(ids.size)}

    def run(self, n_steps):
        self.sim.run(int(n_steps))
        return {"steps": self.sim.current_step, "total_spikes": self.sim.total_spikes,
                "checksum": self.sim.checksum}

    def get_load_balance_stats(self):
        """The load balance of the layout's partitions (n4d_partition_layout)."""
        return _stats_dict(self.sim.model.partition_layout())

    def close(self):
        self.sim.close()


def benchmark_parallel_scaling(model, n_steps=100, process_counts=(1, 2, 4, 8)):
    """Runs ``n_steps`` on fresh cpu-omp sims with each thread count: times
    (seconds), speedups (vs the first count), efficiencies (speedup / count)
    and checksums, which must all be equal (n4d's determinism), else
    n4d.InternalError. (``n4d bench scaling`` is the same from the shell.)"""
    m = model.n4d_model if hasattr(model, "n4d_model") else model
    counts = [int(c) for c in process_counts]
    times, sums = [], []
    for c in counts:
        with Sim(m, backend="cpu-omp", threads=c, record_spikes=False) as s:
            t0 = time.perf_counter()
            s.run(int(n_steps))
            times.append(time.perf_counter() - t0)
            sums.append(s.checksum)
    if len(set(sums)) > 1:
        from ..errors import InternalError
        raise InternalError("benchmark_parallel_scaling: checksums differ between thread "
                            "counts: %r" % (["%016x" % c for c in sums],), -11, "internal")
    speedups = [times[0] / t if t > 0 else float("nan") for t in times]
    return {"process_counts": counts, "times": times, "speedups": speedups,
            "efficiencies": [s * counts[0] / c for s, c in zip(speedups, counts)],
            "checksums": sums, "n_steps": int(n_steps)}
