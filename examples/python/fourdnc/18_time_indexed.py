from n4d.fourdnc.simulation import Simulation

# Enable time-indexed spikes
sim = Simulation(
    model,
    seed=42,
    use_time_indexed_spikes=True  # O(1) spike lookup
)

# Simulation will automatically use optimized spike checking
