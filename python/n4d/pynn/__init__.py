"""pyNN.n4d: the PyNN 0.10 API over n4d (docs/pynn.md).

    import pyNN.n4d as sim           # or: import n4d.pynn as sim
    sim.setup(timestep=0.1, threads=2, rng_seed=42)
    ...

The backend lives in the n4d package as ``n4d.pynn``; ``import pyNN.n4d``
finds it through the small import hook ``_n4d_pynn`` (installed with a .pth
file by ``pip install ./python``, or ``n4d.pynn.install_alias()``).

Extra setup() keywords: ``threads`` (cpu-omp threads, 0: by model size),
``backend`` ("auto", "cpu-ref", "cpu-omp", "cuda"), ``rng_seed`` (the n4d
model and simulation seed: placement, connectivity, weights, Poisson
input). The network is built by n4d at the first run() (or connection
query); it cannot change afterwards.
"""

import logging
import sys

from pyNN import common
from pyNN.common.control import DEFAULT_MAX_DELAY, DEFAULT_MIN_DELAY, DEFAULT_TIMESTEP
from pyNN.connectors import *  # noqa: F401,F403
from pyNN.random import NativeRNG, NumpyRNG, RandomDistribution  # noqa: F401
from pyNN.recording import get_io
from pyNN.space import Space  # noqa: F401
from pyNN.standardmodels import StandardCellType

from . import simulator
from .populations import Assembly, Population, PopulationView  # noqa: F401
from .projections import Projection
from .standardmodels import *  # noqa: F401,F403
from .standardmodels import StaticSynapse
from .structure import Lattice4D  # noqa: F401

logger = logging.getLogger("PyNN")

name = simulator.name


def list_standard_models():
    """The StandardCellType classes this backend simulates."""
    from . import standardmodels as sm
    return [n for n, obj in vars(sm).items() if isinstance(obj, type) and
            issubclass(obj, StandardCellType) and hasattr(obj, "n4d_model") and
            obj.n4d_model is not None]


def setup(timestep=DEFAULT_TIMESTEP, min_delay=DEFAULT_MIN_DELAY, **extra_params):
    """Starts a new network (any previous one is discarded). Besides PyNN's
    arguments: ``threads``, ``backend`` and ``rng_seed`` (see the module doc)."""
    max_delay = extra_params.get("max_delay", DEFAULT_MAX_DELAY)
    common.setup(timestep, min_delay, **extra_params)
    st = simulator.state
    st.clear()
    st.dt = float(timestep)
    st.min_delay = min_delay
    st.max_delay = max_delay
    st.threads = int(extra_params.get("threads", 0))
    st.backend = extra_params.get("backend", "auto")
    seed = extra_params.get("rng_seed", extra_params.get("seed", 1))
    st.rng_seed = int(seed) if seed else 1
    for k in extra_params:
        if k not in ("max_delay", "threads", "backend", "rng_seed", "seed", "verbosity",
                     "spike_precision"):
            raise NotImplementedError("pyNN.n4d: setup(%s=...) is not an option of this backend"
                                      % k)
    return rank()


def end(compatible_output=True):
    """Writes the data requested with record(..., filename) and frees the n4d objects."""
    st = simulator.state
    for (population, variables, filename) in st.write_on_end:
        io = get_io(filename)
        population.write_data(io, variables)
    st.write_on_end = []
    st._close()


run, run_until = common.build_run(simulator)
run_for = run

reset = common.build_reset(simulator)

initialize = common.initialize

get_current_time, get_time_step, get_min_delay, get_max_delay, \
    num_processes, rank = common.build_state_queries(simulator)

create = common.build_create(Population)

connect = common.build_connect(Projection, FixedProbabilityConnector, StaticSynapse)  # noqa: F405

record = common.build_record(simulator)


def record_v(source, filename):
    return record(["v"], source, filename)


def record_gsyn(source, filename):
    return record(["gsyn_exc", "gsyn_inh"], source, filename)


def install_alias():
    """Makes ``import pyNN.n4d`` give this module (what the .pth hook does)."""
    import pyNN
    sys.modules.setdefault("pyNN.n4d", sys.modules[__name__])
    pyNN.n4d = sys.modules[__name__]


install_alias()
