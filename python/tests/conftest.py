"""Shared fixtures. The library is found as n4d finds it (N4D_LIBRARY, which
the ctest registration sets, or a build tree); the `n4d` program through
N4D_CLI or beside the library (BUILD/n4d for BUILD/src/libn4d.so)."""

import os
import shutil
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "python"))

import n4d  # noqa: E402


@pytest.fixture(scope="session")
def repo():
    return REPO


@pytest.fixture(scope="session")
def config(repo):
    return lambda name: os.path.join(repo, "examples", "configs", name)


@pytest.fixture(scope="session")
def cli():
    path = os.environ.get("N4D_CLI")
    if not path:
        libdir = os.path.dirname(os.path.abspath(n4d.library_path()))
        path = os.path.join(os.path.dirname(libdir), "n4d")
    if not os.access(path, os.X_OK):
        path = shutil.which("n4d")
    if not path:
        pytest.skip("the n4d program was not found (set N4D_CLI)")
    return path


@pytest.fixture
def small_model():
    """A small model built through the API (two populations, Poisson drive)."""
    m = n4d.Model(lattice_shape=(8, 8, 2, 1), dt=0.1, seed=7)
    m.add_area("all", (0, 0, 0, 0), (7, 7, 1, 0))
    m.add_area("top", (0, 0, 1, 0), (7, 7, 1, 0))
    m.add_population("E", "all", "lif_exp", density=0.8)
    m.add_population("I", "top", "lif_exp", count=16)
    m.add_projection("E", "E", p=0.1, weight=n4d.normal(0.5, 0.1, 0, 2), delay=1.0,
                     syn_type="excitatory", name="ee")
    m.add_projection("I", "E", "fixed_indegree", n=4, weight=2.0, syn_type="inhibitory",
                     name="ie")
    m.add_projection("E", "I", "distance", p=0.5, sigma=2.0, cutoff=4.0, weight=0.5,
                     delay=n4d.uniform(0.1, 1.0), syn_type="excitatory", name="ei")
    m.add_input("E", "poisson", rate=2000.0, weight=1.0)
    m.add_input("I", "dc", amplitude=100.0)
    yield m
    m.close()
