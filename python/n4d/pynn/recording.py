"""Recording into Neo: spikes from the n4d.Sim's spike record, state
variables (v, u, gsyn_exc, gsyn_inh) sampled every sampling_interval by
running the sim in chunks of that length."""

import numpy as np

from pyNN import recording

from . import simulator


class Recorder(recording.Recorder):
    _simulator = simulator

    def __init__(self, population, file=None):
        recording.Recorder.__init__(self, population, file)
        self._sim_reset()

    def _sim_reset(self):
        self._samples = {}       # var -> list of arrays (all cells of the population)
        self._last_sample = None
        self._spike_from = 0     # spikes from this step on are reported

    def _record(self, variable, new_ids, sampling_interval=None):
        if sampling_interval is not None:
            st = self._simulator.state
            k = sampling_interval / st.dt
            if abs(k - round(k)) > 1e-9 or round(k) < 1:
                raise ValueError("pyNN.n4d: sampling_interval %g must be a multiple of the "
                                 "time step %g" % (sampling_interval, st.dt))
            self.sampling_interval = sampling_interval
        if variable != "spikes":
            ct = self.population.celltype
            if variable not in ct.n4d_state_names:
                raise NotImplementedError("pyNN.n4d: recording %r of %s" % (variable,
                                                                           type(ct).__name__))

    def _signal_vars(self):
        return [v for v, ids in self.recorded.items() if v != "spikes" and ids]

    def _interval_steps(self):
        return max(1, int(round(self.sampling_interval / self._simulator.state.dt)))

    def _next_sample_step(self, current):
        if self._last_sample is None:
            return current
        return self._last_sample + self._interval_steps()

    def _sample(self, sim):
        step = sim.current_step
        if self._last_sample is not None and step != self._last_sample + self._interval_steps():
            return
        pop = self.population
        ct = pop.celltype
        for var in self._signal_vars():
            vals = sim.state(ct.n4d_state_names[var])[pop.first_id:pop.first_id + pop.size]
            self._samples.setdefault(var, []).append(
                ct.state_to_pynn(var, vals.astype(float), getattr(pop, "_n4d_p", None)))
        self._last_sample = step

    def _spike_data(self, ids):
        sim = self._simulator.state.sim
        ids = np.asarray(sorted(int(i) for i in ids), dtype=np.int64)
        if sim is None or ids.size == 0:
            return np.empty(0, np.int64), np.empty(0)
        sp = sim.spikes()
        keep = (sp.steps >= self._spike_from) & np.isin(sp.ids, ids)
        return sp.ids[keep].astype(np.int64), sp.times[keep]

    def _get_spiketimes(self, ids, clear=False):
        id_array, times = self._spike_data(ids)
        return id_array, times.copy()

    def _get_all_signals(self, variable, ids, clear=False):
        pop = self.population
        rows = self._samples.get(variable, [])
        idx = np.array([pop.id_to_index(int(i)) for i in ids], dtype=int)
        if not rows or idx.size == 0:
            return np.empty((0, idx.size)), None
        return np.vstack(rows)[:, idx], None

    def _local_count(self, variable, filter_ids=None):
        ids = self.filter_recorded(variable, filter_ids)
        id_array, _ = self._spike_data(ids)
        counts = {int(i): 0 for i in ids}
        u, c = np.unique(id_array, return_counts=True)
        for i, n in zip(u.tolist(), c.tolist()):
            counts[i] = n
        return counts

    def _clear_simulator(self):
        sim = self._simulator.state.sim
        self._samples = {}
        self._last_sample = None
        self._spike_from = sim.current_step if sim is not None else 0

    def _reset(self):
        self._clear_simulator()
