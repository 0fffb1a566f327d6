from n4d.fourdnc.parallel_computing import benchmark_parallel_scaling

results = benchmark_parallel_scaling(
    model,
    n_steps=100,
    process_counts=[1, 2, 4, 8]
)

print("\nParallel Scaling:")
for n_proc, time, speedup, efficiency in zip(
    results['process_counts'],
    results['times'],
    results['speedups'],
    results['efficiencies']
):
    print(f"  {n_proc} processes: {speedup:.2f}x speedup, "
          f"{efficiency:.1%} efficiency ({time:.2f}s)")
