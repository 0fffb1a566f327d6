from n4d.fourdnc.parallel_computing import ParallelSimulationEngine

# Create engine
engine = ParallelSimulationEngine(n_processes=4)

# Create spatial partitions
lattice_shape = [50, 50, 20, 10]
partitions = engine.create_spatial_partitions(lattice_shape)

print(f"Created {len(partitions)} partitions")
for p in partitions:
    print(f"  Partition {p.partition_id}: "
          f"x={p.x_range}, y={p.y_range}, z={p.z_range}, w={p.w_range}")
