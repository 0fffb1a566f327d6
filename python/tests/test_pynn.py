"""pyNN.n4d (the PyNN backend, docs/pynn.md): skipped when PyNN or Neo is
missing. The Vogels-Abbott comparison with pyNN.brian2 is skipped when
Brian2 is missing; it runs Brian2 with the numpy code generation target
(Cython compilation would dominate the test time)."""

import importlib
import math
import os
import sys

import numpy as np
import pytest

pytest.importorskip("neo", reason="Neo is not installed (Debian: python3-neo)")
pytest.importorskip("pyNN", reason="PyNN is not installed (Debian: python3-pynn)")

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "python"))
sys.path.insert(0, os.path.join(REPO, "bench"))

import _n4d_pynn  # noqa: E402,F401
import pyNN.n4d as sim  # noqa: E402
from pyNN.random import RandomDistribution  # noqa: E402


@pytest.fixture(autouse=True)
def fresh():
    sim.setup(timestep=0.1, rng_seed=11, threads=2)
    yield
    sim.end()


def test_import_alias():
    import n4d.pynn
    import pyNN.n4d.standardmodels as sm
    assert sim is n4d.pynn
    assert sm is importlib.import_module("n4d.pynn.standardmodels")
    assert set(sim.list_standard_models()) == {"IF_curr_exp", "IF_cond_exp", "Izhikevich",
                                               "SpikeSourcePoisson"}


def test_va_cuba_rates_match_brian2():
    pytest.importorskip("brian2", reason="Brian2 is not installed (Debian: python3-brian)")
    import brian2
    import pyNN.brian2 as b2
    from pynn_va import va_cuba
    brian2.prefs.codegen.target = "numpy"
    n, t_stop = 1000, 500.0
    re_n, ri_n, _, _, _ = va_cuba(sim, n, t_stop, threads=2)
    re_b, ri_b, _, _, _ = va_cuba(b2, n, t_stop)
    assert re_n > 1.0 and ri_n > 1.0
    assert abs(re_n - re_b) <= 0.1 * re_b, (re_n, re_b)
    assert abs(ri_n - ri_b) <= 0.1 * ri_b, (ri_n, ri_b)


def _counts(prj, shape):
    pre, post, w = np.array(prj.get("weight", format="list")).T if len(prj) else ([], [], [])
    m = np.zeros(shape, int)
    np.add.at(m, (np.asarray(pre, int), np.asarray(post, int)), 1)
    return m


def test_connectors_statistics():
    a = sim.Population(60, sim.IF_curr_exp(), label="a")
    b = sim.Population(40, sim.IF_curr_exp(), label="b")
    c = sim.Population(40, sim.IF_curr_exp(), label="c")
    syn = sim.StaticSynapse(weight=0.25, delay=0.5)
    all_ab = sim.Projection(a, b, sim.AllToAllConnector(), syn)
    all_aa = sim.Projection(a, a, sim.AllToAllConnector(allow_self_connections=False),
                            sim.StaticSynapse(weight=0.1))
    one = sim.Projection(b, b, sim.OneToOneConnector(), sim.StaticSynapse(weight=0.3))
    fp = sim.Projection(b, a, sim.FixedProbabilityConnector(0.2), syn)
    pre = sim.Projection(a, c, sim.FixedNumberPreConnector(7), sim.StaticSynapse(weight=0.5),
                         receptor_type="excitatory")
    tot = sim.Projection(b, c, sim.FixedTotalNumberConnector(333),
                         sim.StaticSynapse(weight=-0.5), receptor_type="inhibitory")
    with pytest.raises(NotImplementedError, match="FixedNumberPostConnector"):
        sim.Projection(a, b, sim.FixedNumberPostConnector(3), syn)
    m = _counts(all_ab, (60, 40))
    assert (m == 1).all()
    m = _counts(all_aa, (60, 60))
    assert (np.diag(m) == 0).all() and m.sum() == 60 * 59
    m = _counts(one, (40, 40))
    assert (m == np.eye(40, dtype=int)).all()
    k = len(fp)
    mean, sd = 0.2 * 2400, math.sqrt(2400 * 0.2 * 0.8)
    assert abs(k - mean) < 5 * sd
    m = _counts(pre, (60, 40))
    assert (m.sum(axis=0) == 7).all() and m.max() == 1  # without replacement
    assert len(tot) == 333
    w = tot.get("weight", format="array")
    assert np.nanmax(w) < 0 and np.allclose(w[~np.isnan(w)] / np.rint(w[~np.isnan(w)] / -0.5),
                                            -0.5)
    wl = np.array(all_ab.get(["weight", "delay"], format="list"))
    assert np.allclose(wl[:, 2], 0.25, rtol=1e-6) and np.allclose(wl[:, 3], 0.5)
    # two projections of one sign between the same populations share n4d's storage
    sim.setup(timestep=0.1)
    a = sim.Population(10, sim.IF_curr_exp())
    p1 = sim.Projection(a, a, sim.OneToOneConnector(), sim.StaticSynapse(weight=0.1))
    sim.Projection(a, a, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.2))
    with pytest.raises(NotImplementedError, match="told apart"):
        p1.get("weight", format="array")


def test_unsupported_raise_naming_the_problem():
    with pytest.raises(NotImplementedError, match="FromListConnector"):
        a = sim.Population(3, sim.IF_curr_exp())
        sim.Projection(a, a, sim.FromListConnector([(0, 1, 0.1, 1.0)]))
    with pytest.raises(NotImplementedError, match="IF_curr_alpha"):
        sim.IF_curr_alpha()
    stdp = sim.STDPMechanism(timing_dependence=sim.SpikePairRule(),
                             weight_dependence=sim.AdditiveWeightDependence(w_min=0.1,
                                                                            w_max=1.0),
                             weight=0.5)
    with pytest.raises(NotImplementedError, match="w_min"):
        sim.Projection(a, a, sim.AllToAllConnector(), stdp)
    with pytest.raises(NotImplementedError, match="lognormal"):
        sim.Projection(a, a, sim.AllToAllConnector(),
                       sim.StaticSynapse(weight=RandomDistribution("lognormal", mu=0,
                                                                   sigma=1)))
    het = sim.Population(5, sim.IF_curr_exp(tau_m=RandomDistribution("uniform", low=10,
                                                                      high=20)))
    het.record("spikes")
    with pytest.raises(NotImplementedError, match="'tau_m'"):
        sim.run(1.0)
    sim.setup(timestep=0.1)
    p = sim.Population(5, sim.IF_curr_exp())
    sim.run(1.0)
    with pytest.raises(NotImplementedError, match="immutable"):
        sim.Population(5, sim.IF_curr_exp())
    with pytest.raises(NotImplementedError, match="immutable"):
        p.set(tau_m=10.0)
    with pytest.raises(NotImplementedError, match="setup"):
        sim.setup(timestep=0.1, cuda_device=3)


def test_dc_source_and_v_recording(tmp_path):
    import neo
    p = sim.Population(4, sim.IF_curr_exp(cm=0.5, tau_m=10.0, v_rest=-65.0, v_thresh=-40.0),
                       label="dc")
    p.initialize(v=-65.0)
    p[2:4].initialize(v=-60.0)
    sim.DCSource(amplitude=0.8, start=0.0, stop=1e12).inject_into(p)
    p.record(["v", "spikes"], sampling_interval=1.0)
    sim.run(50.0)
    seg = p.get_data().segments[0]
    v = seg.filter(name="v")[0]
    assert v.shape == (51, 4) and float(v.sampling_period) == 1.0
    t = np.arange(51) * 1.0
    # R I = 10 / 0.5 * 0.8 = 16 mV; exact propagator: v = v_rest + RI (1 - e^-t/tau) + (v0 - v_rest) e^-t/tau
    expect = -65.0 + 16.0 * (1 - np.exp(-t / 10.0))
    assert np.allclose(np.asarray(v)[:, 0], expect, atol=1e-3)
    expect2 = expect + 5.0 * np.exp(-t / 10.0)
    assert np.allclose(np.asarray(v)[:, 3], expect2, atol=1e-3)
    assert sum(len(s) for s in seg.spiketrains) == 0
    path = str(tmp_path / "dc.pkl")
    p.write_data(path)
    blk = neo.io.PickleIO(path).read_block()
    assert np.allclose(np.asarray(blk.segments[0].filter(name="v")[0]), np.asarray(v))


def test_izhikevich_matches_its_equations():
    p = sim.Population(1, sim.Izhikevich(a=0.02, b=0.2, c=-65.0, d=8.0, i_offset=0.01))
    p.initialize(v=-70.0, u=-14.0)
    p.record("spikes")
    sim.run(200.0)
    got = np.asarray(p.get_data().segments[0].spiketrains[0])
    v, u, dt, spikes = -70.0, -14.0, 0.1, []
    for k in range(2000):  # Euler with I = 0.01 nA over PyNN's 1 pF: 10 mV/ms
        v2 = np.float32(v + dt * (0.04 * v * v + 5 * v + 140 - u + 10.0))
        u = np.float32(u + dt * 0.02 * (0.2 * v - u))
        v = v2
        if v >= 30.0:
            spikes.append((k + 1) * dt)
            v, u = -65.0, u + 8.0
    assert len(got) == len(spikes) > 3
    assert np.allclose(got, spikes, atol=0.11)


def _stdp_net(wd):
    src = sim.Population(100, sim.SpikeSourcePoisson(rate=20.0), label="in")
    post = sim.Population(20, sim.IF_curr_exp(tau_refrac=2.0), label="out")
    src.record("spikes")
    post.record("spikes")
    stdp = sim.STDPMechanism(timing_dependence=sim.SpikePairRule(tau_plus=20.0, tau_minus=20.0,
                                                                 A_plus=0.01, A_minus=0.012),
                             weight_dependence=wd, weight=0.3, delay=1.0)
    prj = sim.Projection(src, post, sim.FixedProbabilityConnector(0.5), stdp,
                         receptor_type="excitatory")
    return src, post, prj


@pytest.mark.parametrize("dep", ["additive", "multiplicative"])
def test_poisson_stdp(dep):
    wd = (sim.AdditiveWeightDependence if dep == "additive"
          else sim.MultiplicativeWeightDependence)(w_min=0.0, w_max=0.6)
    src, post, prj = _stdp_net(wd)
    w0 = prj.get("weight", format="array")
    mask = ~np.isnan(w0)
    assert np.allclose(w0[mask], 0.3, rtol=1e-6)
    sim.run(2000.0)
    rate = src.mean_spike_count() / 2.0
    assert abs(rate - 20.0) < 2.0
    assert post.mean_spike_count() > 5
    w1 = prj.get("weight", format="array")
    assert np.array_equal(np.isnan(w1), ~mask)
    learned = w1[mask]
    assert (learned >= 0).all() and (learned <= 0.6 + 1e-6).all()
    assert np.abs(learned - 0.3).max() > 0.01  # the weights learned
    # the same seed gives the same weights after reset (a fresh n4d sim)
    sim.reset()
    assert sim.get_current_time() == 0.0
    assert np.allclose(prj.get("weight", format="array")[mask], 0.3, rtol=1e-6)
    sim.run(2000.0)
    assert np.array_equal(prj.get("weight", format="array")[mask], learned)
    assert len(post.get_data().segments) == 2


def test_tsodyks_markram_depresses():
    rates = []
    for syn in (sim.StaticSynapse(weight=0.5, delay=1.0),
                sim.TsodyksMarkramSynapse(U=0.5, tau_rec=800.0, tau_facil=0.0, weight=0.5,
                                          delay=1.0)):
        sim.setup(timestep=0.1, rng_seed=5)
        src = sim.Population(50, sim.SpikeSourcePoisson(rate=40.0))
        post = sim.Population(10, sim.IF_curr_exp())
        post.record("spikes")
        sim.Projection(src, post, sim.AllToAllConnector(), syn)
        sim.run(1000.0)
        rates.append(post.mean_spike_count())
    assert rates[0] > 10 and rates[1] < 0.5 * rates[0], rates
