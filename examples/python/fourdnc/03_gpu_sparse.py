# Create sparse connectivity matrix
from scipy.sparse import csr_matrix

n_neurons = 5000
connectivity_prob = 0.01
connections = np.random.rand(n_neurons, n_neurons) < connectivity_prob
weights = connections * np.random.randn(n_neurons, n_neurons) * 0.1
weight_matrix = csr_matrix(weights)

# Compute synaptic currents on GPU
spike_vector = np.random.rand(n_neurons) < 0.05
synaptic_currents = accelerator.sparse_synapse_matmul(
    spike_vector,
    weight_matrix
)

print(f"Computed synaptic currents for {n_neurons} neurons")
