from n4d.fourdnc.parallel_computing import ParallelSimulator
from n4d.fourdnc.brain_model import BrainModel

# Create brain model
# changed: the guide's "{...}" and "..." (not Python) filled in: a real 4D
# Neural Cognition config of the guide's lattice (n4d gives neurons only to
# areas; about 10000 neurons, V1 driven by Poisson input, n4d's "inputs")
config = {
    "lattice_shape": [50, 50, 20, 10],
    "neuron_model": {"params_default": {"tau_m": 20.0, "v_rest": -65.0, "v_reset": -70.0,
                                        "v_threshold": -50.0, "refractory_period": 5.0}},
    "neuron_density": 0.02,
    "areas": [{"name": "V1_like", "coord_ranges": {"x": [0, 49], "y": [0, 49], "z": [0, 19], "w": [0, 0]}},
              {"name": "Association", "coord_ranges": {"x": [0, 49], "y": [0, 49], "z": [0, 19], "w": [1, 9]}}],
    "projections": [{"source": "V1_like", "target": "Association", "rule": "fixed_indegree", "indegree": 2, "weight": 4.0, "delay": 1.0}],
    "inputs": [{"type": "poisson", "target": "V1_like", "rate": 2000.0, "weight": 2.0}],
}
model = BrainModel(config=config)

# Initialize parallel simulator with 4 processes
sim = ParallelSimulator(
    model,
    n_processes=4,
    use_spatial_partitioning=True
)
