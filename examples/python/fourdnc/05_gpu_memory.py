# Check GPU memory usage
memory = accelerator.get_memory_usage()
print(f"GPU Memory: {memory['used']:.1f} / {memory['total']:.1f} MB "
      f"({memory['percent']:.1f}% used)")

# Clear GPU memory cache
accelerator.clear_memory()
