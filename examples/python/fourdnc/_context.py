# What the guide leaves to the reader: a config (the guide shows it as
# "{...}"), and the names its snippets use without defining them
# (spike_history, current_step, neuron_id, simulation). Run before the
# examples, in the same namespace (run_all.py).
import numpy as np

from n4d.fourdnc.brain_model import BrainModel
from n4d.fourdnc.simulation import Simulation

# a 4D Neural Cognition config (n4d reads it as is): the guide's lattice, sparse
# enough to run in a test (about 10000 neurons), a Poisson drive into V1
config = {
    "lattice_shape": [50, 50, 20, 10],
    "neuron_density": 0.02,
    "seed": 42,
    "neuron_model": {"type": "LIF", "params_default": {
        "tau_m": 20.0, "v_rest": -65.0, "v_reset": -70.0, "v_threshold": -50.0,
        "refractory_period": 5.0}},
    "areas": [
        {"name": "V1_like", "coord_ranges": {"x": [0, 49], "y": [0, 49], "z": [0, 19], "w": [0, 0]}},
        {"name": "Association", "coord_ranges": {"x": [0, 49], "y": [0, 49], "z": [0, 19], "w": [1, 9]}},
    ],
}
model = BrainModel(config=config)
simulation = Simulation(model)
spike_history = {}      # the reference's per-neuron spike lists: n4d keeps its own
current_step = 2000     # compress as of this step (the model's sim runs up to it)
neuron_id = 0
