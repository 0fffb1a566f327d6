"""`pip install ./python` works offline (no build isolation, no downloads),
and the installed package finds the library through N4D_LIBRARY."""

import os
import shutil
import subprocess
import sys

import pytest

import n4d

PKG = os.path.dirname(os.path.dirname(os.path.abspath(n4d.__file__)))


def test_pip_install_offline(tmp_path):
    if subprocess.run([sys.executable, "-m", "pip", "--version"],
                      capture_output=True).returncode != 0:
        pytest.skip("pip is not installed for %s (Debian: python3-pip)" % sys.executable)
    src = tmp_path / "src"
    # a copy: the build writes egg-info and build/ beside the sources
    shutil.copytree(PKG, src, ignore=shutil.ignore_patterns("tests", "__pycache__", "build",
                                                            "*.egg-info"))
    target = tmp_path / "site"
    env = dict(os.environ, PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    r = subprocess.run([sys.executable, "-m", "pip", "install", "--no-build-isolation",
                        "--no-deps", "--no-index", "--target", str(target), str(src)],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    env = dict(os.environ, PYTHONPATH=str(target), N4D_LIBRARY=n4d.library_path())
    code = ("import n4d, n4d.fourdnc, sys; assert n4d.__file__.startswith(sys.argv[1]), n4d.__file__; "
            "m = n4d.Model(lattice_shape=(2, 2, 1, 1)); m.add_area('a', (0,0,0,0), (1,1,0,0)); "
            "m.add_population('P', 'a', 'lif'); print(m.simulate().run(5).current_step)")
    r = subprocess.run([sys.executable, "-c", code, str(target)], capture_output=True,
                       text=True, env=env, cwd=str(tmp_path))
    assert r.returncode == 0 and r.stdout.strip() == "5", r.stderr


def test_pip_install_pynn_alias(tmp_path):
    """The installed n4d-pynn.pth makes `import pyNN.n4d` load n4d.pynn."""
    if subprocess.run([sys.executable, "-m", "pip", "--version"],
                      capture_output=True).returncode != 0:
        pytest.skip("pip is not installed for %s (Debian: python3-pip)" % sys.executable)
    if subprocess.run([sys.executable, "-c", "import pyNN, neo"],
                      capture_output=True).returncode != 0:
        pytest.skip("PyNN or Neo is not installed (Debian: python3-pynn python3-neo)")
    src = tmp_path / "src"
    shutil.copytree(PKG, src, ignore=shutil.ignore_patterns("tests", "__pycache__", "build",
                                                            "*.egg-info"))
    target = tmp_path / "site"
    env = dict(os.environ, PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    r = subprocess.run([sys.executable, "-m", "pip", "install", "--no-build-isolation",
                        "--no-deps", "--no-index", "--target", str(target), str(src)],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert (target / "n4d-pynn.pth").is_file()
    # a site directory processes .pth files (as site-packages does at start-up)
    code = ("import site, sys; site.addsitedir(sys.argv[1]); import pyNN.n4d as sim; "
            "import n4d.pynn; assert sim is n4d.pynn and sim.__file__.startswith(sys.argv[1]); "
            "sim.setup(); p = sim.Population(3, sim.IF_curr_exp(i_offset=2.0)); "
            "p.record('spikes'); sim.run(50.0); print(p.mean_spike_count() > 0)")
    env = dict(os.environ, N4D_LIBRARY=n4d.library_path())
    env.pop("PYTHONPATH", None)
    r = subprocess.run([sys.executable, "-c", code, str(target)], capture_output=True,
                       text=True, env=env, cwd=str(tmp_path))
    assert r.returncode == 0 and r.stdout.strip() == "True", r.stdout + r.stderr
