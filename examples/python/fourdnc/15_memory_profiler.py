from n4d.fourdnc.memory_optimization import MemoryProfiler

profiler = MemoryProfiler()

# Take initial snapshot
profiler.take_snapshot('initial', model)

# ... modify model ...

# Take another snapshot
profiler.take_snapshot('after_changes', model)

# Compare snapshots
diff = profiler.compare_snapshots('initial', 'after_changes')
print(f"Memory change: {diff['total_diff_mb']:.2f} MB")

# Print full report
profiler.print_report()
