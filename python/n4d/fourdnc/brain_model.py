"""BrainModel: the reference's model object over an n4d model.

The guide's examples read ``model.neurons`` (a dict of neuron id -> neuron)
and pass it to the other classes; here it is a read-only mapping over a
built n4d model (NeuronDict) that remembers its BrainModel, so those
classes reach the n4d model and its simulation. Neurons are not Python
objects the simulator updates: their state lives in n4d's sims.
"""

import json
import os
from collections.abc import Mapping

import numpy as np

from ..core import Model
from ..errors import FormatError, InvalidArgError, UnsupportedError


class Neuron:
    """One neuron of an n4d model: id, position (x, y, z, w), population, and
    v_membrane read from the model's current simulation (None without one)."""

    __slots__ = ("id", "x", "y", "z", "w", "population", "_brain", "_index")

    def __init__(self, brain, nid, index, pos, population):
        self.id = int(nid)
        self.x, self.y, self.z, self.w = (int(c) for c in pos)
        self.population = population
        self._brain = brain
        self._index = index

    @property
    def position(self):
        return (self.x, self.y, self.z, self.w)

    @property
    def v_membrane(self):
        sim = self._brain._current_sim()
        if sim is None or sim.model is not self._brain.n4d_model:
            return None
        return float(sim.state("v")[self._index])

    def __repr__(self):
        return "Neuron(id=%d, position=%r, population=%r)" % (self.id, self.position,
                                                               self.population)


class NeuronDict(Mapping):
    """``model.neurons``: neuron id -> Neuron over a built n4d model.

    ``ids`` are the keys (the reference's ids: for a partial load, the ids in
    the saved model), ``order`` the iteration order (default ascending;
    CacheOptimizer gives Z-order). ``n4d_model`` and ``brain`` lead back to
    the model."""

    def __init__(self, brain, n4d_model=None, ids=None, order=None, indices=None):
        self.brain = brain
        self.n4d_model = n4d_model if n4d_model is not None else brain.n4d_model
        n = self.n4d_model.num_neurons
        self.ids = np.arange(n, dtype=np.int64) if ids is None else np.asarray(ids, np.int64)
        if indices is None:  # every neuron of the model, ids[k] the id of neuron k
            if self.ids.size != n:
                raise InvalidArgError("NeuronDict: %d ids for %d neurons" % (self.ids.size, n),
                                      -1, "invalid argument")
            indices = range(n)
        self._index = {int(i): int(k) for i, k in zip(self.ids, indices)}
        self.order = self.ids if order is None else np.asarray(order, np.int64)
        self.layout = None  # the layout options of a rebuild these neurons come from
        self._pops = None

    def positions(self):
        """(n, 4) positions by index (n4d_model_neuron_position)."""
        return self.n4d_model.positions()

    def _population_of(self, k):
        if self._pops is None:
            pops = self.n4d_model.populations
            self._pops = [(p.first, p.first + p.count, p.name) for p in pops]
        for lo, hi, name in self._pops:
            if lo <= k < hi:
                return name
        return None

    def __getitem__(self, nid):
        try:
            k = self._index[int(nid)]
        except (KeyError, TypeError, ValueError):
            raise KeyError(nid) from None
        return Neuron(self.brain, nid, k, self.positions()[k], self._population_of(k))

    def __iter__(self):
        return (int(i) for i in self.order)

    def __len__(self):
        return int(self.ids.size)

    def __contains__(self, nid):
        try:
            return int(nid) in self._index
        except (TypeError, ValueError):
            return False

    def __repr__(self):
        return "<NeuronDict of %d neurons>" % len(self)


class Synapse:
    """One synapse: pre_id, post_id, weight, delay (ms)."""

    __slots__ = ("pre_id", "post_id", "weight", "delay")

    def __init__(self, pre_id, post_id, weight, delay):
        self.pre_id, self.post_id, self.weight, self.delay = pre_id, post_id, weight, delay

    def __repr__(self):
        return "Synapse(%d -> %d, weight=%g, delay=%g)" % (self.pre_id, self.post_id,
                                                             self.weight, self.delay)


class BrainModel:
    """A model of 4D Neural Cognition's shape over an n4d model.

    ``BrainModel(config=...)``: a config dict or a JSON file (4D Neural
    Cognition's or n4d's; n4d.Model.from_json) built at once;
    ``BrainModel(path=...)``: a model saved by n4d (Model.load) or by 4D
    Neural Cognition (JSON or HDF5, Model.import_4dnc);
    ``BrainModel(model=n4d_model)`` wraps a built n4d.Model.
    ``use_sparse_connectivity`` is accepted: n4d always stores synapses in
    compressed sparse rows. ``layout`` (order, partitions,
    balance_synapses) is n4d_model_set_layout before the build.
    """

    def __init__(self, config=None, use_sparse_connectivity=True, *, path=None, model=None,
                 layout=None):
        self.use_sparse_connectivity = bool(use_sparse_connectivity)
        given = [x is not None for x in (config, path, model)]
        if sum(given) != 1:
            raise InvalidArgError("BrainModel: give exactly one of config, path, model", -1,
                                  "invalid argument")
        self.config = None
        self.layout = dict(layout or {})
        self._sim = None
        self._neurons = None
        if config is not None:
            if isinstance(config, (str, os.PathLike)):
                with open(config) as f:
                    config = json.load(f)
            self.config = config
            self._model = self._build(self.layout)
        elif path is not None:
            self._model = self._open(path)
        else:
            if not model.is_built:
                model.build()
            self._model = model

    @staticmethod
    def _open(path):
        try:
            return Model.load(path)
        except FormatError:
            return Model.import_4dnc(path)

    def _build(self, layout, optimize=None):
        m = Model.from_json(self.config)
        try:
            if layout:
                m.set_layout(**layout)
            report = m.optimize_memory(optimize) if optimize else None
            m.build()
        except BaseException:
            m.close()
            raise
        self.last_optimization = report
        return m

    # -- the n4d model ----------------------------------------------------------------

    @property
    def n4d_model(self):
        """The n4d.Model (built)."""
        return self._model

    def rebuild(self, optimize=None, **layout):
        """Builds the model again from its config with other layout options
        (order="zorder", partitions=N, balance_synapses) and/or
        n4d_optimize_memory flags before the build; ids, synapses and spike
        trains are unchanged. Sims of the previous build keep it alive."""
        if self.config is None:
            raise UnsupportedError("BrainModel.rebuild: a model loaded from a file cannot be "
                                   "built again (its layout is the file's)", -9, "unsupported")
        new_layout = dict(self.layout, **layout)
        m = self._build(new_layout, optimize)
        if self.last_optimization and "zorder" in self.last_optimization["applied"]:
            new_layout["order"] = "zorder"  # what n4d_optimize_memory set
        self._replace(m)
        self.layout = new_layout
        return m

    def _replace(self, m):
        old, self._model = self._model, m
        self._neurons = None
        self._sim = None
        if old is not m and not old._sims:
            old.close()

    # -- what the guide reads -----------------------------------------------------------

    @property
    def neurons(self):
        """neuron id -> Neuron (a NeuronDict over the n4d model)."""
        if self._neurons is None or self._neurons.n4d_model is not self._model:
            self._neurons = NeuronDict(self, self._model)
        return self._neurons

    @neurons.setter
    def neurons(self, value):
        # CacheOptimizer.reorder_neurons_spatial_locality returns the neurons of a
        # Z-order rebuild of this model: adopt that model
        if not isinstance(value, NeuronDict) or value.brain is not self:
            raise InvalidArgError("BrainModel.neurons: only the neurons of this model (e.g. "
                                  "reordered by CacheOptimizer) can be assigned", -1,
                                  "invalid argument")
        if value.n4d_model is not self._model:
            self._replace(value.n4d_model)
            if value.layout is not None:
                self.layout = dict(value.layout)
        self._neurons = value

    @property
    def synapses(self):
        """All synapses as a list of Synapse (read from the n4d model)."""
        out = []
        m = self._model
        for i in range(m.num_neurons):
            s = m.synapses(i)
            out.extend(Synapse(i, int(t), float(w), float(d))
                       for t, w, d in zip(s.targets, s.weights, s.delays))
        return out

    @property
    def lattice_shape(self):
        return list(self._model.lattice_shape)

    def num_neurons(self):
        return self._model.num_neurons

    def num_synapses(self):
        return self._model.num_synapses

    def memory_bytes(self):
        """Bytes of the model's context now (the model and its sims)."""
        return self._model.memory_snapshot().total

    # -- its simulation -------------------------------------------------------------------

    def _attach(self, sim):
        self._sim = sim

    def _current_sim(self):
        if self._sim is not None and self._sim.closed:
            self._sim = None
        return self._sim

    def simulation(self):
        """The n4d.Sim that model-level tools (compression, v_membrane) use: the last
        Simulation or ParallelSimulator made on this model, else a new cpu-omp one."""
        sim = self._current_sim()
        if sim is None or sim.model is not self._model:
            sim = self._model.simulate(backend="cpu-omp")
            self._sim = sim
        return sim

    def close(self):
        if self._sim is not None:
            self._sim.close()
        self._model.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return "<BrainModel %s>" % (self._model,)
