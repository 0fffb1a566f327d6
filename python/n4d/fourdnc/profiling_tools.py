"""PerformanceProfiler: the reference's section timer as n4d's per-sim
section profiler (include/n4d/profile.h: n4d_sim_profile_*)."""

from collections import namedtuple

from ..core import Model

_BUILTIN_SECTIONS = 7  # N4D_PROFILE_BUILTIN_COUNT

#: one section's figures (seconds)
ProfileResult = namedtuple("ProfileResult", "name n_calls total_time avg_time min_time max_time")


class PerformanceProfiler:
    """``PerformanceProfiler(simulation=None)``: named sections timed by n4d
    (calls, total, mean, min, max). With a simulation (a Simulation,
    ParallelSimulator or n4d.Sim) the sections live in that sim's table beside
    n4d's own (run, neuron update, delivery, exchange, recording, input),
    which get_results() then also lists; without one they live in the table
    of a one-neuron sim the profiler owns. Section names of n4d's own
    sections (build, run, update, ...) are refused there (n4d.InvalidArgError)."""

    def __init__(self, simulation=None):
        self._own = None
        if simulation is None:
            m = Model(lattice_shape=(1, 1, 1, 1), dt=1.0, seed=1)
            m.add_area("host", (0, 0, 0, 0), (0, 0, 0, 0))
            m.add_population("host", "host", "parrot", count=1)
            self._own = m
            self.sim = m.simulate(backend="cpu-ref", record_spikes=False)
        else:
            self.sim = getattr(simulation, "sim", simulation)
        self._builtin = simulation is not None
        self.sim.profile(True)

    def start(self, name):
        """n4d_sim_profile_start."""
        self.sim.profile_start(name)

    def stop(self, name):
        """n4d_sim_profile_stop."""
        self.sim.profile_stop(name)

    def add(self, name, seconds):
        """n4d_sim_profile_add: an interval measured elsewhere."""
        self.sim.profile_add(name, seconds)

    def get_results(self):
        """Sections with calls (n4d_sim_profile_get), as ProfileResult."""
        out = []
        entries = self.sim.profile_entries()
        if self._own is not None:  # the host sim's own sections are not the caller's
            entries = entries[_BUILTIN_SECTIONS:]
        for e in entries:
            if e["calls"]:
                out.append(ProfileResult(e["name"], e["calls"], e["total_s"], e["mean_s"],
                                         e["min_s"], e["max_s"]))
        return out

    def get_report(self):
        """n4d_sim_profile_report: the section table as text."""
        return self.sim.profile_report()

    def print_report(self):
        print(self.get_report())

    def reset(self):
        self.sim.profile_reset()

    def close(self):
        if self._own is not None:
            self._own.close()
            self._own = None
