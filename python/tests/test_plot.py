"""Plots render real images; the plot CLI reads the `n4d` program's spike
files (CSV and HDF5); the example script runs."""

import os
import subprocess
import sys

import numpy as np
import pytest

import n4d
import n4d.plot
from matplotlib.image import imread

PKG = os.path.dirname(os.path.dirname(os.path.abspath(n4d.__file__)))


def assert_not_blank(png):
    img = imread(str(png))
    assert img.ndim == 3 and img.shape[0] > 100 and img.shape[1] > 100
    rgb = img[..., :3]
    # a blank (single-colour) image has no variance; a plot has many non-white pixels
    assert rgb.std() > 0.05
    assert (rgb.min(axis=2) < 0.5).mean() > 0.01, "almost no dark pixels"


@pytest.fixture(scope="module")
def cuba_sim(config):
    sim = n4d.Model.from_json(config("cuba.json")).simulate(backend="cpu-omp", threads=2)
    sim.run(1000)
    yield sim
    sim.model.close()


def test_raster_rates_lattice(cuba_sim, tmp_path):
    ax = n4d.plot.raster(cuba_sim, path=tmp_path / "raster.png")
    assert ax.get_xlabel() == "time (ms)"
    n_points = sum(len(line.get_xdata()) for line in ax.get_lines())
    assert n_points == cuba_sim.total_spikes
    assert_not_blank(tmp_path / "raster.png")
    ax = n4d.plot.rates(cuba_sim, bin_ms=5.0, path=tmp_path / "rates.png")
    e_rate = ax.get_lines()[0].get_ydata()
    n_e = cuba_sim.model.population("E").count
    spikes = cuba_sim.spikes()
    want = (spikes.ids < n_e).sum() / n_e / (cuba_sim.time_ms / 1000.0)
    assert np.mean(e_rate[:20]) == pytest.approx(want, rel=1e-6)
    assert_not_blank(tmp_path / "rates.png")
    ax = n4d.plot.lattice_slice(cuba_sim, path=tmp_path / "lattice.png")
    assert_not_blank(tmp_path / "lattice.png")
    img = ax.get_images()[0].get_array()
    assert np.nansum(img) == cuba_sim.total_spikes  # every spike lands on its site
    ax = n4d.plot.lattice_slice(cuba_sim, values=cuba_sim.state("v"), z=3)
    assert ax.get_images()[0].get_array().shape == (20, 20)
    with pytest.raises(ValueError):
        n4d.plot.lattice_slice(cuba_sim, z=99)


def test_traces_from_a_sim_and_from_a_recording(small_model, tmp_path):
    sim = small_model.simulate(threads=1)
    tr = sim.trace("v", 200, ids=[0, 3, 7], every=2)
    ax = n4d.plot.traces(tr, path=tmp_path / "traces.png")
    assert len(ax.get_lines()) == 3
    assert np.array_equal(ax.get_lines()[1].get_ydata(), tr.values[:, 1])
    assert_not_blank(tmp_path / "traces.png")
    if not n4d.has_feature("hdf5"):
        return
    pytest.importorskip("h5py")
    s2 = small_model.simulate(threads=1)
    with s2.record(tmp_path / "rec.h5", ids=[0, 3, 7], every=2):
        s2.run(200)
    ax = n4d.plot.traces(tmp_path / "rec.h5", ids=[3])
    # the recorder samples the same states as Sim.trace
    assert np.allclose(ax.get_lines()[0].get_ydata(), tr.values[:, 1])


def run_plot_cli(*args):
    return subprocess.run([sys.executable, "-m", "n4d", "plot", *args], capture_output=True,
                          text=True, cwd=PKG)


def test_plot_cli_on_the_programs_csv_and_hdf5(cli, config, tmp_path):
    pytest.importorskip("h5py")
    csv, h5 = tmp_path / "s.csv", tmp_path / "s.h5"
    for f in (csv, h5):
        subprocess.run([cli, "run", config("cuba.json"), "--steps", "500", "--threads", "1",
                        "--spikes", str(f), "--quiet"], check=True, capture_output=True)
    a, b = n4d.read_spikes(csv), n4d.read_spikes(h5)
    assert len(a.ids) > 0 and np.array_equal(a.ids, b.ids) and np.allclose(a.times, b.times)
    assert [g[0] for g in b.groups] == ["E", "I"]
    for src in (csv, h5):
        out = tmp_path / (src.name + ".png")
        r = run_plot_cli(str(src), "-o", str(out))
        assert r.returncode == 0, r.stderr
        assert_not_blank(out)
    r = run_plot_cli(str(h5), "-o", str(tmp_path / "rates.png"), "--kind", "rates", "--bin",
                     "2")
    assert r.returncode == 0, r.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    r = run_plot_cli(str(bad), "-o", str(tmp_path / "x.png"))
    assert r.returncode == 1 and "not an n4d spike CSV" in r.stderr


def test_example_script(repo, tmp_path):
    env = dict(os.environ, PYTHONPATH=PKG + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = subprocess.run([sys.executable, os.path.join(repo, "examples", "python", "plots.py"),
                        str(tmp_path), "--steps", "1000"], capture_output=True, text=True,
                       env=env)
    assert r.returncode == 0, r.stderr
    for name in ("raster.png", "rates.png", "traces.png", "lattice.png"):
        assert_not_blank(tmp_path / name)
    assert "checksum" in r.stdout
