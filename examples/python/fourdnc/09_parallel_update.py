# Prepare synaptic inputs
synaptic_inputs = {nid: 0.0 for nid in model.neurons.keys()}

# Update neurons in parallel
results = sim.parallel_neuron_update(
    synaptic_inputs,
    current_step=0
)

# Results contain (v_membrane, spiked) for each neuron
for neuron_id, (v_mem, spiked) in results.items():
    if spiked:
        print(f"Neuron {neuron_id} spiked!")
