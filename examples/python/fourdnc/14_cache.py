from n4d.fourdnc.memory_optimization import CacheOptimizer

optimizer = CacheOptimizer()

# Reorder neurons using Z-order curve
model.neurons = optimizer.reorder_neurons_spatial_locality(model.neurons)

# Analyze access patterns
access_sequence = [0, 1, 2, 3, 50, 51, 52]  # Example access pattern
stats = optimizer.analyze_access_pattern(access_sequence)
print(f"Locality score: {stats['locality_score']:.2f}")
