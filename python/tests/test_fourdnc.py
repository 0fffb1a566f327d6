"""n4d.fourdnc: the examples of 4D Neural Cognition's performance guide
(examples/python/fourdnc/NN_*.py, the guide's code with its imports changed)
run in order in one namespace, each followed by checks of what it computed
against numpy or n4d; then the error paths of the compatibility layer."""

import glob
import os
import sys

import numpy as np
import pytest

import n4d
from n4d import fourdnc

HERE = os.path.dirname(os.path.abspath(__file__))
GUIDE = os.path.join(os.path.dirname(os.path.dirname(HERE)), "examples", "python", "fourdnc")
EXAMPLES = sorted(os.path.basename(p) for p in glob.glob(os.path.join(GUIDE, "[0-9][0-9]_*.py")))


def _run(name, ns):
    path = os.path.join(GUIDE, name)
    with open(path) as f:
        exec(compile(f.read(), path, "exec"), ns)


@pytest.fixture(scope="module")
def guide(tmp_path_factory):
    pytest.importorskip("scipy")
    cwd = os.getcwd()
    os.chdir(tmp_path_factory.mktemp("guide"))
    ns = {"__name__": "__guide__"}
    _run("_context.py", ns)
    yield ns
    os.chdir(cwd)


def test_the_guide_has_19_examples():
    assert len(EXAMPLES) == 19, EXAMPLES


def _lif_reference(v, syn, ext, refr, p):
    v, syn, ext = (np.asarray(a, np.float32) for a in (v, syn, ext))
    f = np.float32
    dv = (-(v - f(p["v_rest"])) + (syn + ext)) / f(p["tau_m"]) * f(1.0)
    vn = (v + dv).astype(np.float32)
    vn = np.where(refr, v, vn)
    spk = (~refr) & (vn >= f(p["v_threshold"]))
    return np.where(spk, f(p["v_reset"]), vn), spk


def check_01(ns):
    acc = ns["accelerator"]
    assert acc.is_gpu_available() == (n4d.gpu.device_count() > 0 and acc.info["on_gpu"])
    if not acc.is_gpu_available():
        assert acc.info["reason"]


def check_02(ns):
    v, spk = _lif_reference(ns["v_membrane"], ns["synaptic_input"], ns["external_input"],
                            ns["refractory_mask"], ns["params"])
    assert ns["v_new"].dtype == np.float32 and ns["spikes"].dtype == bool
    np.testing.assert_allclose(ns["v_new"], v, rtol=0, atol=1e-4)
    assert (ns["spikes"] == spk).mean() > 0.999 and ns["spikes"].sum() > 0


def check_03(ns):
    want = ns["weight_matrix"] @ ns["spike_vector"].astype(np.float64)
    np.testing.assert_allclose(ns["synaptic_currents"], want, rtol=1e-5, atol=1e-5)


def check_04(ns):
    r = ns["results"]
    assert r["array_sizes"] == [1000, 5000, 10000, 50000]
    assert all(t > 0 for t in r["cpu_times"])
    if not r["gpu_available"]:
        assert all(np.isnan(r["gpu_times"])) and r["note"]


def check_05(ns):
    assert set(ns["memory"]) >= {"used", "total", "percent"}


def check_06(ns):
    sim, model = ns["sim"], ns["model"]
    assert sim.sim.backend == "cpu-omp" and sim.sim.num_threads == 4
    assert len(model.n4d_model.partition_layout()) == 4 and model.layout["partitions"] == 4
    assert 9000 < len(model.neurons) < 11000


def check_07(ns):
    parts = ns["partitions"]
    assert len(parts) == 4
    vol = sum(np.prod([r[1] - r[0] + 1 for r in (p.x_range, p.y_range, p.z_range, p.w_range)])
              for p in parts)
    assert vol == 50 * 50 * 20 * 10


def check_08(ns):
    st, model = ns["stats"], ns["model"]
    assert sum(st["neurons_per_partition"]) == len(model.neurons)
    assert st["imbalance"] < 0.01
    ids = sorted(i for p in ns["partitions"] for i in p.neuron_ids)
    assert ids == list(range(len(model.neurons)))


def check_09(ns):
    res, sim = ns["results"], ns["sim"].sim
    assert len(res) == len(ns["model"].neurons) and sim.current_step == 1
    fired = sorted(i for i, (_, s) in res.items() if s)
    assert fired == sorted(sim.last_spikes().tolist())
    v = sim.state("v")
    assert all(res[i][0] == pytest.approx(float(v[i])) for i in (0, 5000, len(v) - 1))


def check_10(ns):
    r = ns["results"]
    assert r["process_counts"] == [1, 2, 4, 8] and len(set(r["checksums"])) == 1
    assert r["efficiencies"][0] == pytest.approx(1.0)


def check_11(ns):
    m = ns["model"]
    assert m.use_sparse_connectivity and m.num_synapses() > 0


def check_12(ns):
    assert os.path.exists("large_model.h5")
    ref = ns["model"].neurons
    with fourdnc.MemoryMappedModel("large_model.h5", mode="r") as mm:
        sub = mm.load_neurons(indices=[0, 1, 2])
        assert list(sub) == [0, 1, 2]
        assert [sub[i].position for i in sub] == [ref[i].position for i in (0, 1, 2)]
        brain, _ = mm.load_model()  # the whole model, synapses mapped from the file
        assert brain.num_synapses() == ns["model"].num_synapses()
        for i in (0, 77, len(ref) - 1):
            a, b = brain.n4d_model.synapses(i), ns["model"].n4d_model.synapses(i)
            assert list(a.targets) == list(b.targets) and list(a.weights) == list(b.weights)


def check_13(ns):
    model, active = ns["model"], ns["active_neurons"]
    assert ns["bytes_saved"] > 0 and 0 < len(active) < len(model.neurons)
    v1 = model.n4d_model.population("V1_like")
    # V1 has Poisson input: never compressed; silent Association blocks are
    assert all(i in active for i in range(v1.first, v1.first + v1.count))
    assert ns["neuron"].id == ns["neuron_id"]


def check_14(ns):
    model = ns["model"]
    assert model.layout["order"] == "zorder"
    order = list(model.neurons)
    assert sorted(order) == list(range(len(order))) and order != sorted(order)
    codes = n4d.perf.morton_encode(model.n4d_model.positions()[order])
    assert np.all(np.diff(codes.astype(np.int64)) >= 0)
    assert ns["stats"]["locality_score"] == pytest.approx(1 / (1 + 52 / 6))


def check_15(ns):
    assert ns["diff"]["total_diff_mb"] == 0


def check_16(ns):
    r = ns["results"]
    assert "zorder" in r["optimizations_applied"] and "compress" in r["optimizations_applied"]
    assert r["bytes_saved"] == pytest.approx((r["initial_memory_mb"] - r["final_memory_mb"])
                                             * (1 << 20))


def check_17(ns):
    got = {r.name: r.n_calls for r in ns["results"]}
    assert got == {"simulation_step": 1, "neuron_update": 100}


def check_18(ns):
    assert ns["sim"].use_time_indexed_spikes and ns["sim"].current_step == 0


def check_19(ns):
    assert ns["sim"].current_step == 1000 and ns["model"].layout.get("order") == "zorder"


@pytest.mark.parametrize("name", EXAMPLES)
def test_guide_example(guide, name, capsys):
    _run(name, guide)
    globals()["check_" + name[:2]](guide)


# ---- error paths ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def brain():
    cfg = {"lattice_shape": [6, 6, 2, 1], "neuron_density": 1.0, "dt": 1.0,
           "areas": [{"name": "A", "coord_ranges": {"x": [0, 5], "y": [0, 5], "z": [0, 1],
                                                     "w": [0, 0]}}],
           "projections": [{"source": "A", "target": "A", "rule": "fixed_indegree",
                            "indegree": 3, "weight": 6.0, "delay": 1.0}],
           "inputs": [{"type": "poisson", "target": "A", "rate": 3000.0, "weight": 10.0}]}
    with fourdnc.BrainModel(config=cfg) as b:
        yield b


def test_errors_name_the_problem(brain, tmp_path):
    with pytest.raises(n4d.InvalidArgError, match="exactly one"):
        fourdnc.BrainModel()
    with pytest.raises(n4d.ConfigError, match="lattice_shape"):
        fourdnc.BrainModel(config={"neuron_density": 1})
    with pytest.raises(n4d.IoError):
        fourdnc.BrainModel(path=str(tmp_path / "missing.h5"))
    eng = fourdnc.ParallelSimulationEngine(2)
    with pytest.raises(n4d.InvalidArgError, match="model.neurons"):
        eng.assign_neurons_to_partitions({0: object()}, [])
    with pytest.raises(n4d.StateError):
        eng.get_load_balance_stats()
    with pytest.raises(n4d.InvalidArgError, match="lattice_shape"):
        eng.create_spatial_partitions([4, 4, 0, 1])
    with fourdnc.GPUAccelerator(use_gpu=False) as acc:
        with pytest.raises(n4d.UnsupportedError, match="lif_update"):
            acc.benchmark_vs_cpu("matmul", [10], 1)
    with pytest.raises(n4d.InvalidArgError, match="mode"):
        fourdnc.MemoryMappedModel("x.h5", mode="x")
    with pytest.raises(n4d.StateError, match="read-only"):
        fourdnc.MemoryMappedModel(str(tmp_path / "r.h5"), mode="r").store_neurons(brain.neurons)
    with pytest.raises(n4d.RangeError):
        mm = fourdnc.MemoryMappedModel(str(tmp_path / "m.h5"), mode="w")
        mm.store_neurons(brain.neurons, compression=None)
        mm.load_neurons(indices=[10 ** 6])
    with pytest.raises(n4d.StateError, match="nothing compressed"):
        fourdnc.InactiveNeuronCompressor().decompress_neuron(0)
    with pytest.raises(KeyError):
        brain.neurons[10 ** 6]
    with pytest.raises(n4d.UnsupportedError, match="cannot be built again"):
        fourdnc.BrainModel(path=str(tmp_path / "m.h5")).rebuild(order="zorder")


def test_parallel_update_is_deterministic(brain):
    """parallel_neuron_update is n4d_sim_add_input + one step: the same spikes
    and checksum for any thread count and a plain sim fed the same input."""
    sums = []
    for threads in (1, 3):
        sim = fourdnc.ParallelSimulator(brain, n_processes=threads)
        with pytest.raises(n4d.StateError, match="at step 0"):
            sim.parallel_neuron_update({0: 1.0}, current_step=5)
        for step in range(30):
            res = sim.parallel_neuron_update({i: 2.0 * (i % 3) for i in range(0, 72, 5)}, step)
        sums.append((sim.sim.checksum, sorted(i for i, (_, s) in res.items() if s)))
        sim.close()
    plain = brain.n4d_model.simulate(backend="cpu-ref")
    for step in range(30):
        plain.add_input(list(range(0, 72, 5)), [2.0 * (i % 3) for i in range(0, 72, 5)])
        plain.step()
    assert sums[0] == sums[1] and sums[0][0] == plain.checksum and plain.total_spikes > 0
    plain.close()


def test_perf_module(brain):
    m = brain.n4d_model
    p = m.partition(5, balance_synapses=True)
    assert len(p) == 5 and p.balance_synapses
    assert sorted(np.concatenate([b.neurons for b in p.boxes]).tolist()) == \
        list(range(m.num_neurons))
    assert all(p.partition_of[i] == b.index for b in p.boxes for i in b.neurons)
    pos = m.positions()
    for b in p.boxes:
        assert np.all(pos[b.neurons] >= b.lo) and np.all(pos[b.neurons] <= b.hi)
    with pytest.raises(n4d.RangeError):
        m.partition(m.num_neurons + 1)
    assert n4d.perf.morton_decode(n4d.perf.morton_encode((5, 3, 1, 2))) == (5, 3, 1, 2)
    assert n4d.perf.morton_encode((1, 0, 0, 0)) == 1 and n4d.perf.morton_encode((0, 1, 0, 0)) == 2
    a = n4d.perf.access_pattern([0, 1, 2, 10])
    assert a["jumps"] == 3 and a["max_jump"] == 8 and a["mean_jump"] == pytest.approx(10 / 3)
    assert n4d.perf.locality_score([4]) == 1.0
    tj = m.target_jumps("user")
    assert tj["accesses"] > 0
    with pytest.raises(n4d.InvalidArgError):
        m.target_jumps("nowhere")
    s0 = m.memory_snapshot("a")
    sim = m.simulate(backend="cpu-omp", threads=2)
    s1 = m.memory_snapshot("b")
    d = n4d.perf.memory_diff(s0, s1)
    assert d["total"] == s1.total - s0.total > 0 and sum(d["bytes"].values()) == d["total"]
    assert "change" in n4d.perf.memory_report([s0, s1])
    r = sim.optimize_memory(("shrink", "compress"))
    assert "compress" in r["applied"] or "compress" in r["skipped"]
    with pytest.raises(n4d.InvalidArgError, match="unknown optimisation"):
        sim.optimize_memory("fast")
    assert not sim.compressed_neurons().any()  # Poisson input: never compressed
    sim.close()
    with n4d.Model.from_json({"lattice_shape": [4, 4, 1, 1], "areas": [
            {"name": "A", "coord_ranges": {"x": [0, 3], "y": [0, 3], "z": [0, 0],
                                           "w": [0, 0]}}]}) as fresh:
        r = fresh.optimize_memory(("zorder",))
        assert r["applied"] == ["zorder"]
        fresh.build()
        assert fresh.optimize_memory(("zorder",))["skipped"] == ["zorder"]
