"""The API of 4D Neural Cognition's performance guide, backed by n4d.

The reference's modules become submodules, so a script of the guide runs
with ``src.`` replaced by ``n4d.fourdnc.`` in its imports::

    from n4d.fourdnc.gpu_acceleration import GPUAccelerator    # src.gpu_acceleration
    from n4d.fourdnc.parallel_computing import ParallelSimulator
    from n4d.fourdnc.memory_optimization import MemoryMappedModel
    from n4d.fourdnc.profiling_tools import PerformanceProfiler
    from n4d.fourdnc.brain_model import BrainModel
    from n4d.fourdnc.simulation import Simulation

(``from n4d.fourdnc import GPUAccelerator`` works too). Every class calls
libn4d: the GPU array API with its CPU fallback, recursive coordinate
bisection, HDF5 storage and memory-mapped loads, inactive-neuron
compression, Z-order layouts and locality statistics, the memory and
section profilers. docs/python-fourdnc.md names the n4d call behind each
name and every difference from the reference.
"""

from .brain_model import BrainModel, Neuron, NeuronDict, Synapse
from .gpu_acceleration import GPUAccelerator
from .memory_optimization import (CacheOptimizer, InactiveNeuronCompressor, MemoryMappedModel,
                                  MemoryProfiler, optimize_model_memory)
from .parallel_computing import (ParallelSimulationEngine, ParallelSimulator, SpatialPartition,
                                 benchmark_parallel_scaling)
from .profiling_tools import PerformanceProfiler, ProfileResult
from .simulation import Simulation

__all__ = [
    "BrainModel", "Neuron", "NeuronDict", "Synapse", "Simulation", "GPUAccelerator",
    "ParallelSimulator", "ParallelSimulationEngine", "SpatialPartition",
    "benchmark_parallel_scaling", "MemoryMappedModel", "InactiveNeuronCompressor",
    "CacheOptimizer", "MemoryProfiler", "optimize_model_memory", "PerformanceProfiler",
    "ProfileResult",
]
