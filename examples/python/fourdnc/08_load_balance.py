# Assign neurons to partitions
engine.assign_neurons_to_partitions(model.neurons, partitions)

# Get load balance statistics
stats = engine.get_load_balance_stats()
print(f"Neurons per partition: {stats['neurons_per_partition']}")
print(f"Mean: {stats['mean']:.1f}, Std: {stats['std']:.1f}")
print(f"Imbalance: {stats['imbalance']:.2%}")
