# Example: Large-scale simulation with all optimizations
from n4d.fourdnc.brain_model import BrainModel
from n4d.fourdnc.simulation import Simulation
from n4d.fourdnc.gpu_acceleration import GPUAccelerator
from n4d.fourdnc.parallel_computing import ParallelSimulator
from n4d.fourdnc.memory_optimization import optimize_model_memory

# Create model with sparse connectivity
model = BrainModel(config=config, use_sparse_connectivity=True)

# Optimize memory
optimize_model_memory(model, enable_compression=True, enable_cache_optimization=True)

# Choose acceleration based on model size
n_neurons = len(model.neurons)

if n_neurons > 10000:
    # Large model: Use GPU if available
    accelerator = GPUAccelerator(use_gpu=True)
    if accelerator.is_gpu_available():
        print("Using GPU acceleration")
        # Integrate GPU updates with simulation
    else:
        # Fall back to parallel CPU
        sim = ParallelSimulator(model, n_processes=4)
elif n_neurons > 1000:
    # Medium model: Use parallel CPU
    sim = ParallelSimulator(model, n_processes=4)
else:
    # Small model: Standard simulation
    sim = Simulation(model, use_time_indexed_spikes=True)

# Run simulation
for step in range(1000):
    stats = sim.step() if hasattr(sim, 'step') else None
