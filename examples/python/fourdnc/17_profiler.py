from n4d.fourdnc.profiling_tools import PerformanceProfiler

profiler = PerformanceProfiler()

# Profile simulation step
profiler.start('simulation_step')
stats = simulation.step()
profiler.stop('simulation_step')

# Profile multiple iterations
for i in range(100):
    profiler.start('neuron_update')
    # ... neuron updates ...
    profiler.stop('neuron_update')

# Get results
results = profiler.get_results()
for result in results:
    print(f"{result.name}: {result.avg_time*1000:.2f}ms avg "
          f"({result.n_calls} calls)")
