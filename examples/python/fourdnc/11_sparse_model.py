from n4d.fourdnc.brain_model import BrainModel

# Enable sparse connectivity
model = BrainModel(
    config=config,
    use_sparse_connectivity=True
)

# Add neurons and synapses as usual
# Internally uses sparse matrix for O(num_synapses) memory
