# Benchmark LIF update performance
results = accelerator.benchmark_vs_cpu(
    operation='lif_update',
    array_sizes=[1000, 5000, 10000, 50000],
    n_iterations=100
)

print("\nGPU vs CPU Performance:")
for size, cpu_time, gpu_time, speedup in zip(
    results['array_sizes'],
    results['cpu_times'],
    results['gpu_times'],
    results['speedups']
):
    print(f"  {size:6d} neurons: {speedup:5.2f}x speedup "
          f"(CPU: {cpu_time*1000:.2f}ms, GPU: {gpu_time*1000:.2f}ms)")
