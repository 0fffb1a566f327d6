from n4d.fourdnc.memory_optimization import MemoryMappedModel

# Create memory-mapped model
filepath = "large_model.h5"
mm_model = MemoryMappedModel(filepath, mode='w')

# Store neurons with compression
mm_model.store_neurons(
    model.neurons,
    chunk_size=1000,
    compression='gzip'
)

# Load neurons (entire model or partial)
loaded_neurons = mm_model.load_neurons()  # All neurons
loaded_subset = mm_model.load_neurons(indices=[0, 1, 2])  # Subset

mm_model.close()
