"""Simulation: the reference's simulation loop over an n4d.Sim."""

import numpy as np

from ..core import Sim


class Simulation:
    """``Simulation(model, seed=42, use_time_indexed_spikes=True)`` over an n4d
    sim of the BrainModel's n4d model (backend "auto": cpu-omp when built with
    OpenMP). ``use_time_indexed_spikes`` is accepted: n4d answers "did neuron
    i spike at step t" from a bit window in O(1) (n4d_sim_spiked_at) always.
    ``seed`` (None or 0: the model's) seeds the run-time randomness."""

    def __init__(self, model, seed=None, use_time_indexed_spikes=True, *, backend="auto",
                 threads=0):
        self.model = model
        self.use_time_indexed_spikes = bool(use_time_indexed_spikes)
        self.sim = Sim(model.n4d_model, backend=backend, threads=threads, seed=int(seed or 0))
        model._attach(self.sim)

    @property
    def current_step(self):
        return self.sim.current_step

    def step(self):
        """One step; returns {"step", "spikes" (ids that fired), "n_spikes"}."""
        self.sim.step()
        ids = self.sim.last_spikes()
        return {"step": self.sim.current_step, "spikes": ids.tolist(), "n_spikes": int(ids.size)}

    def run(self, n_steps, verbose=False):
        """n_steps steps; returns {"steps", "total_spikes", "checksum"}."""
        self.sim.run(int(n_steps))
        return {"steps": self.sim.current_step, "total_spikes": self.sim.total_spikes,
                "checksum": self.sim.checksum}

    def spiked(self, neuron_id, step):
        """Whether the neuron fired at ``step`` (within the history window)."""
        return self.sim.spiked_at(neuron_id, step)

    def close(self):
        self.sim.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
