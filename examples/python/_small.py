"""A small 4D Neural Cognition style config shared by the capability
examples: V1 (a vision sense of 16 x 16) and an association area on a
16 x 16 x 4 x 2 lattice, local excitation and inhibition, V1 -> association."""

import copy

CONFIG = {
    "name": "small_4dnc", "lattice_shape": [16, 16, 4, 2], "dt": 1.0, "seed": 7,
    "neuron_density": 0.5,
    "neuron_model": {"type": "LIF", "params_default": {
        "tau_m": 20.0, "v_rest": -65.0, "v_reset": -70.0, "v_threshold": -50.0,
        "refractory_period": 5.0}},
    "senses": {"vision": {"areal": "V1_like", "w_index": 0, "input_size": [16, 16]}},
    "areas": [
        {"name": "V1_like", "sense": "vision",
         "coord_ranges": {"x": [0, 15], "y": [0, 15], "z": [0, 3], "w": [0, 0]}},
        {"name": "Association",
         "coord_ranges": {"x": [0, 15], "y": [0, 15], "z": [0, 3], "w": [1, 1]}},
    ],
    "projections": [
        {"source": "V1_like", "target": "V1_like", "rule": "distance", "kernel": "gaussian",
         "sigma": 2.0, "cutoff": 4.0, "p": 0.3, "weight": 4.0, "delay": {"uniform": [1.0, 3.0]}},
        {"source": "V1_like", "target": "Association", "rule": "fixed_indegree", "indegree": 8,
         "weight": 5.0, "delay": {"uniform": [2.0, 5.0]}},
        {"source": "Association", "target": "Association", "rule": "distance",
         "kernel": "gaussian", "sigma": 2.0, "cutoff": 4.0, "p": 0.2, "weight": -8.0,
         "delay": 1.0, "type": "inhibitory"},
    ],
}


def config(**changes):
    """A copy of CONFIG with top-level keys changed."""
    c = copy.deepcopy(CONFIG)
    c.update(changes)
    return c
