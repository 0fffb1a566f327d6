from n4d.fourdnc.memory_optimization import optimize_model_memory

results = optimize_model_memory(
    model,
    enable_compression=True,
    enable_cache_optimization=True
)

print(f"Initial memory: {results['initial_memory_mb']:.2f} MB")
print(f"Final memory: {results['final_memory_mb']:.2f} MB")
print(f"Bytes saved: {results['bytes_saved'] / 1024:.1f} KB")
print(f"Optimizations: {results['optimizations_applied']}")
