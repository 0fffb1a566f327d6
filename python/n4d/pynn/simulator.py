"""The state of a pyNN.n4d session: everything PyNN describes, and the n4d
Model and Sim built from it at the first run.

PyNN builds a network object by object and runs it; an n4d model is described
completely and then built once (placement, synapse generation) and is
immutable afterwards. So the backend collects populations, projections and
current sources here and builds the n4d model when it is first needed (the
first run(), or a query of the connections); from then on the structure is
frozen and changing it raises NotImplementedError. reset() starts a new
n4d.Sim of the same built model (time 0, initial state, initial weights).
"""

import math

import numpy as np

from pyNN import common

import n4d

name = "n4d"


class FrozenError(NotImplementedError):
    """The network was changed after n4d built it."""


class ID(int, common.IDMixin):
    """A cell: its value is the n4d neuron id (populations are numbered in
    creation order, as n4d numbers them)."""

    def __init__(self, n):
        int.__init__(n)
        common.IDMixin.__init__(self)


class State(common.control.BaseState):

    def __init__(self):
        common.control.BaseState.__init__(self)
        self.mpi_rank = 0
        self.num_processes = 1
        self.dt = 0.1
        self.min_delay = "auto"
        self.max_delay = "auto"
        self.model = None
        self.sim = None
        self.backend = "auto"
        self.threads = 0
        self.rng_seed = 1
        self.clear()

    # -- life cycle ----------------------------------------------------------------

    def clear(self):
        self._close()
        self.recorders = set()
        self.populations = []
        self.projections = []
        self.current_sources = []
        self.id_counter = 0
        self.segment_counter = -1
        self.write_on_end = []
        self.reset()

    def _close(self):
        if self.sim is not None:
            self.sim.close()
        if self.model is not None:
            self.model.close()
        self.sim = None
        self.model = None

    def reset(self):
        """Time 0 with a fresh n4d.Sim of the built model (created at the next run)."""
        if self.sim is not None:
            self.sim.close()
            self.sim = None
        self.running = False
        self.t = 0.0
        self.t_start = 0.0
        self.segment_counter += 1
        for rec in self.recorders:
            rec._sim_reset()

    @property
    def built(self):
        return self.model is not None

    def check_not_built(self, what):
        if self.model is not None:
            raise FrozenError(
                "pyNN.n4d: %s after the network was built (at the first run() or "
                "connection query): an n4d model is immutable once built; describe the "
                "whole network first, or call setup() again" % what)

    # -- building ------------------------------------------------------------------------

    def build(self):
        """Builds the n4d model from what PyNN described (once)."""
        if self.model is not None:
            return self.model
        from . import standardmodels as sm  # avoid an import cycle
        pops = self.populations
        if not pops:
            raise ValueError("pyNN.n4d: there is no population to simulate")
        # each population a box of the lattice, stacked along w: a Lattice4D
        # structure's shape, else a row of its cells along x
        boxes = [p._n4d_box() for p in pops]
        shape = tuple(max(b[k] for b in boxes) for k in range(3)) + (sum(b[3] for b in boxes),)
        m = n4d.Model(lattice_shape=shape, dt=self.dt, seed=self.rng_seed)
        try:
            if self.threads:
                m.set_build_threads(self.threads)
            w0 = 0
            for k, (p, b) in enumerate(zip(pops, boxes)):
                area = "a%d" % k
                m.add_area(area, (0, 0, 0, w0), (b[0] - 1, b[1] - 1, b[2] - 1, w0 + b[3] - 1))
                p._n4d_w0 = w0
                w0 += b[3]
                p._n4d_add(m, area)
            for prj in self.projections:
                prj._n4d_add(m)
            for src in self.current_sources:
                src._n4d_add(m)
            m.build()
            for p in pops:
                info = m.population(p._n4d_name)
                assert info.first == p.first_id and info.count == p.size, (info, p)
        except BaseException:
            m.close()
            raise
        self.model = m
        return m

    def ensure_sim(self):
        """The running n4d.Sim (building the model and creating the sim if needed)."""
        self.build()
        if self.sim is None:
            sim = self.model.simulate(backend=self.backend, threads=self.threads,
                                      seed=self.rng_seed)
            try:
                for p in self.populations:
                    p._n4d_init_state(sim)
                for prj in self.projections:  # Projection.set(weight=...)
                    prj._n4d_apply_sets(sim)
            except BaseException:
                sim.close()
                raise
            self.sim = sim
        return self.sim

    # -- running -----------------------------------------------------------------------------

    def steps_at(self, t_ms):
        return int(math.floor(t_ms / self.dt + 0.5))

    def run(self, simtime):
        self.run_until(self.t + simtime)

    def run_until(self, tstop):
        sim = self.ensure_sim()
        target = self.steps_at(tstop)
        samplers = [r for r in self.recorders if r._signal_vars()]
        if not samplers:
            if target > sim.current_step:
                sim.run(target - sim.current_step)
        else:
            for r in samplers:
                r._sample(sim)
            while sim.current_step < target:
                nxt = min([r._next_sample_step(sim.current_step) for r in samplers] + [target])
                sim.run(nxt - sim.current_step)
                for r in samplers:
                    r._sample(sim)
        self.t = sim.current_step * self.dt
        self.running = True


state = State()
