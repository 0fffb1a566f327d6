from n4d.fourdnc.memory_optimization import InactiveNeuronCompressor

compressor = InactiveNeuronCompressor(inactivity_threshold=1000)

# Compress inactive neurons
active_neurons, bytes_saved = compressor.compress_inactive_neurons(
    model.neurons,
    spike_history,
    current_step
)

print(f"Compressed {len(model.neurons) - len(active_neurons)} neurons")
print(f"Saved {bytes_saved / 1024:.1f} KB")

# Decompress when needed
neuron = compressor.decompress_neuron(neuron_id)
