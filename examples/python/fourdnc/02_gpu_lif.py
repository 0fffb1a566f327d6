import numpy as np

# Prepare neuron states
n_neurons = 10000
v_membrane = np.random.randn(n_neurons) * 10 - 65
synaptic_input = np.random.randn(n_neurons)
external_input = np.random.randn(n_neurons)
refractory_mask = np.random.rand(n_neurons) < 0.1

# LIF parameters
params = {
    'tau_m': 20.0,
    'v_rest': -65.0,
    'v_threshold': -50.0,
    'v_reset': -70.0
}

# Update all neurons on GPU
v_new, spikes = accelerator.vectorized_lif_update(
    v_membrane,
    synaptic_input,
    external_input,
    refractory_mask,
    params
)

print(f"Updated {n_neurons} neurons")
print(f"Spikes: {spikes.sum()}")
