"""n4d: spiking neural networks on a 4D lattice (Python bindings of libn4d).

    import n4d
    model = n4d.Model.from_json("examples/configs/cuba.json")
    sim = model.simulate(backend="cpu-omp", threads=2)
    sim.run(2000)
    print(sim.checksum, sim.spikes().ids[:10], sim.state("v").mean())
    n4d.plot.raster(sim, path="raster.png")

The bindings call the C library through ctypes (no compiled extension); see
docs/python.md for how libn4d is found, the API and the lifetimes of arrays
and handles. ``n4d.plot`` (matplotlib) is imported on first use.
"""

from ._lib import LibraryNotFound, library_path
from .core import (Dist, Model, Population, Recording, Sim, Spikes, Synapses, Trace, Weights,
                   backends, constant, has_feature, neuron_models, normal, resume,
                   synapse_models, uniform, version)
from .errors import (ClosedError, ConfigError, Error, FormatError, InternalError,
                     InvalidArgError, IoError, LimitError, NoDeviceError, NoMemError,
                     NotBuiltError, RangeError, StateError, UnsupportedError)
from .gpu import Gpu
from . import perf
from .spikefile import SpikeData, read_spikes

__version__ = "0.2.0"

__all__ = [
    "Model", "Sim", "Gpu", "Population", "Recording", "Spikes", "Synapses", "Trace", "Weights",
    "Dist", "constant", "uniform", "normal", "resume", "backends", "has_feature",
    "neuron_models", "synapse_models", "version", "library_path", "read_spikes", "SpikeData",
    "Error", "InvalidArgError", "NoMemError", "ConfigError", "IoError", "NotBuiltError",
    "NoDeviceError", "RangeError", "StateError", "ClosedError", "UnsupportedError",
    "FormatError", "InternalError", "LimitError", "LibraryNotFound", "plot", "perf",
    "fourdnc",
]


def __getattr__(name):
    # matplotlib is imported only by those who plot
    if name in ("plot", "fourdnc"):
        import importlib
        return importlib.import_module("." + name, __name__)
    raise AttributeError("module 'n4d' has no attribute %r" % name)
