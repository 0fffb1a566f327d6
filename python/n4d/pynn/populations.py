"""Population, PopulationView and Assembly over n4d populations.

A PyNN Population is one n4d population (its own area of the lattice: one
row of sites along x, one w layer per population), created at the build;
cell i of the population is n4d neuron first + i, and its PyNN ID is that
n4d id. Parameters are kept on the PyNN side until the build; n4d gives every
neuron of a population the same parameter values, so a parameter that
differs between the cells of one population raises NotImplementedError.
Initial values (v, u, gsyn_*) may differ per cell: they are written into
each new n4d.Sim.
"""

import numpy as np
from lazyarray import larray as LazyArray

from pyNN import common
from pyNN.parameters import ParameterSpace, simplify
from pyNN.standardmodels import StandardCellType

from . import simulator
from .recording import Recorder
from .simulator import state


class Assembly(common.Assembly):
    _simulator = simulator


class PopulationView(common.PopulationView):
    _assembly_class = Assembly
    _simulator = simulator

    def _get_parameters(self, *names):
        parameter_dict = {}
        for name in names:
            value = self.parent._parameters[name]
            if isinstance(value, np.ndarray):
                value = value[self.mask]
            parameter_dict[name] = simplify(value)
        return ParameterSpace(parameter_dict, shape=(self.size,))

    def _set_parameters(self, parameter_space):
        gp = self.grandparent
        gp._check_can_set()
        parameter_space.evaluate(simplify=False)
        idx = self.index_in_grandparent(np.arange(self.size))
        per_cell = getattr(gp.celltype, "n4d_per_cell", ())
        for name, value in parameter_space.items():
            dtype = object if name in per_cell else float  # e.g. spike_times Sequences
            old = gp._parameters[name]
            if dtype is object and not (isinstance(old, np.ndarray) and old.shape == (gp.size,)):
                arr = np.empty(gp.size, dtype=object)
                arr[:] = [old] * gp.size
            else:
                arr = np.broadcast_to(np.array(old, dtype=dtype, copy=True), (gp.size,)).copy()
            vals = np.empty(self.size, dtype=object) if dtype is object else value
            if dtype is object:
                vals[:] = list(value) if isinstance(value, np.ndarray) else [value] * self.size
            arr[idx] = vals
            gp._parameters[name] = arr

    def initialize(self, **initial_values):
        """Sets initial values of the view's cells (PyNN's base class keeps them
        per population only)."""
        for variable, value in initial_values.items():
            self._set_initial_value_array(variable, LazyArray(value, shape=(self.size,),
                                                              dtype=float))

    def _set_initial_value_array(self, variable, initial_values):
        gp = self.grandparent
        idx = self.index_in_grandparent(np.arange(self.size))
        vals = initial_values.evaluate(simplify=False)
        gp._init_overrides.append((variable, idx, np.broadcast_to(vals, (self.size,)).copy()))

    def _get_view(self, selector, label=None):
        return PopulationView(self, selector, label)


class Population(common.Population):
    __doc__ = common.Population.__doc__
    _simulator = simulator
    _recorder_class = Recorder
    _assembly_class = Assembly

    def _create_cells(self):
        state.check_not_built("creating a Population")
        if not isinstance(self.celltype, StandardCellType) or \
                not hasattr(self.celltype, "n4d_model"):
            raise NotImplementedError("pyNN.n4d supports the standard cell types IF_curr_exp, "
                                      "SpikeSourceArray, "
                                      "IF_cond_exp, Izhikevich and SpikeSourcePoisson, not %s"
                                      % type(self.celltype).__name__)
        if self.size < 1:
            raise ValueError("pyNN.n4d: a population needs at least one cell")
        first = state.id_counter
        self.all_cells = np.array([simulator.ID(i) for i in range(first, first + self.size)],
                                  dtype=simulator.ID)
        self._mask_local = np.ones((self.size,), bool)
        parameter_space = self.celltype.native_parameters
        parameter_space.shape = (self.size,)
        parameter_space.evaluate(simplify=False)
        self._parameters = parameter_space.as_dict()
        for id in self.all_cells:
            id.parent = self
        self._initial = {}
        self._init_overrides = []
        self._n4d_index = len(state.populations)
        self._n4d_name = "p%d" % self._n4d_index
        state.id_counter += self.size
        state.populations.append(self)

    # -- parameters -------------------------------------------------------------------

    def _get_parameters(self, *names):
        return ParameterSpace({n: simplify(self._parameters[n]) for n in names},
                              shape=(self.local_size,))

    def _check_can_set(self):
        state.check_not_built("setting a neuron parameter")

    def _set_parameters(self, parameter_space):
        self._check_can_set()
        parameter_space.evaluate(simplify=False)
        for name, value in parameter_space.items():
            self._parameters[name] = value

    def _homogeneous_parameters(self):
        """The population's parameters as floats; NotImplementedError naming the
        first one that differs between cells."""
        out = {}
        per_cell = getattr(self.celltype, "n4d_per_cell", ())
        for name, value in self._parameters.items():
            if name in per_cell:  # handled by the cell type (n4d_cell_inputs)
                continue
            v = np.asarray(value, dtype=float)
            if v.ndim and v.size and not np.all(v == v.flat[0]):
                raise NotImplementedError(
                    "pyNN.n4d: parameter %r of population %r differs between cells; n4d "
                    "gives every neuron of a population the same parameters (use one "
                    "population per value)" % (name, self.label))
            out[name] = float(v.flat[0]) if v.ndim else float(v)
        return out

    # -- initial values --------------------------------------------------------------

    def _set_initial_value_array(self, variable, initial_values):
        self._initial[variable] = initial_values
        self._init_overrides = [o for o in self._init_overrides if o[0] != variable]

    def _get_view(self, selector, label=None):
        return PopulationView(self, selector, label)

    # -- n4d -----------------------------------------------------------------------------

    def _n4d_box(self):
        """The (nx, ny, nz, nw) box of n4d's lattice the cells fill."""
        from .structure import Lattice4D
        if isinstance(self.structure, Lattice4D):
            self.structure.sites(self.size)  # checks the size
            return self.structure.shape
        return (self.size, 1, 1, 1)

    @property
    def positions4d(self):
        """4 x N coordinates: a Lattice4D's sites (times its spacing, plus its
        origin), else PyNN's positions with w = 0."""
        from .structure import Lattice4D
        if isinstance(self.structure, Lattice4D):
            return self.structure.generate_positions4d(self.size)
        return np.vstack([self.positions, np.zeros((1, self.size))])

    def _n4d_add(self, model, area):
        ct = self.celltype
        p = self._homogeneous_parameters()
        self._n4d_p = p
        model.add_population(self._n4d_name, area, ct.n4d_model, params=ct.n4d_params(p))
        inputs = list(getattr(ct, "n4d_inputs", lambda p: [])(p))
        inputs += getattr(ct, "n4d_cell_inputs", lambda pop: [])(self)
        for inp in inputs:
            kw = dict(inp)
            model.add_input(self._n4d_name, kw.pop("kind"), **kw)

    def _n4d_init_state(self, sim):
        """Writes the initial values into a new n4d.Sim."""
        ct = self.celltype
        names = ct.n4d_state_names
        for var in set(self._initial) | {o[0] for o in self._init_overrides}:
            if var not in names:
                if var in ("isyn_exc", "isyn_inh", "gsyn_exc", "gsyn_inh"):
                    base = self._initial.get(var)
                    vals = None if base is None else np.asarray(base.evaluate(simplify=False),
                                                                dtype=float)
                    if vals is None or not np.any(vals):
                        continue  # zero: n4d's own initial value
                raise NotImplementedError("pyNN.n4d: initial value of %r (%s has no such n4d "
                                          "state)" % (var, type(ct).__name__))
            if var in self._initial:
                vals = np.broadcast_to(np.asarray(self._initial[var].evaluate(simplify=False),
                                                  dtype=float), (self.size,)).copy()
            else:
                vals = sim.state(names[var])[self.first_id:self.first_id + self.size]
                vals = ct.state_to_pynn(var, vals.astype(float), self._n4d_p)
            for v, idx, ov in self._init_overrides:
                if v == var:
                    vals[idx] = ov
            full = sim.state(names[var]).astype(np.float32)
            full[self.first_id:self.first_id + self.size] = ct.state_from_pynn(var, vals,
                                                                               self._n4d_p)
            sim.set_state(names[var], full)
