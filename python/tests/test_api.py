"""The Python API over libn4d: results equal the C library's and the `n4d`
program's, errors become exceptions, handles close cleanly."""

import gc
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import n4d


def cli_checksum(cli, *args):
    out = subprocess.run([cli, "run", *args, "--quiet"], capture_output=True, text=True,
                         check=True).stdout
    line = [x for x in out.splitlines() if x.startswith("checksum:")][0]
    return int(line.split()[1], 16)


def test_cuba_checksum_equals_the_cli(cli, config):
    cuba = config("cuba.json")
    model = n4d.Model.from_json(cuba)
    with model.simulate(backend="cpu-omp", threads=2) as sim:
        sim.run(2000)
        assert sim.backend == "cpu-omp" and sim.num_threads == 2
        assert sim.current_step == 2000
        assert sim.checksum == cli_checksum(cli, cuba, "--steps", "2000", "--threads", "2",
                                            "--backend", "cpu-omp")
        sp = sim.spikes()
        assert len(sp) == sim.total_spikes > 0
        assert np.all(np.diff(sp.steps.astype(np.int64)) >= 0)
        assert sp.times[-1] == pytest.approx(sp.steps[-1] * 0.1)
        v = sim.state("v")
        assert v.shape == (4000,) and v.dtype == np.float32 and np.isfinite(v).all()
        ref_checksum = sim.checksum
    # the same model through a dict, on cpu-ref with one thread: the same bits
    with open(cuba) as f:
        m2 = n4d.Model.from_json(json.load(f))
    with m2, n4d.Sim(m2, backend="cpu-ref") as s2:
        s2.run(2000)
        assert s2.checksum == ref_checksum
    model.close()


def test_model_built_through_the_api(small_model):
    m = small_model
    assert m.lattice_shape == (8, 8, 2, 1) and m.dt == pytest.approx(0.1) and m.seed == 7
    assert not m.is_built
    m.build()
    pops = m.populations
    assert [p.name for p in pops] == ["E", "I"] and pops[1].count == 16
    assert pops[0].model == "lif_exp" and 0 < pops[0].count <= 128
    assert m.num_neurons == pops[0].count + 16 and m.num_synapses > 0
    assert m.population("I").first == pops[0].count
    pos = m.positions()
    assert pos.shape == (m.num_neurons, 4) and (pos[pops[0].count:, 2] == 1).all()
    syn = m.synapses(pops[1].first)  # I -> E, inhibitory
    assert len(syn.targets) > 0 and (syn.weights < 0).all()
    assert m.delay_range()[0] >= 1 and m.memory()["synapses"] > 0
    a = m.simulate(threads=1)
    b = m.simulate(backend="cpu-omp", threads=2)
    a.run(300)
    b.run(300)
    assert a.total_spikes > 0 and a.checksum == b.checksum
    w = a.get_weights("ie")
    assert len(w.weights) == pops[0].count * 4 and (w.weights == -2.0).all()
    assert (w.sources >= pops[1].first).all()


def test_sim_state_input_and_stepping(small_model):
    sim = small_model.simulate(backend="cpu-ref")
    n = small_model.num_neurons
    sim.set_state("v", np.full(n, -60.0))
    assert (sim.state("v") == np.float32(-60.0)).all()
    sim.add_input([0, 1], 5.0)
    sim.add_input(2, 7.0)
    i_ext = sim.state("i_ext")
    assert i_ext[0] == 5.0 and i_ext[2] == 7.0
    sim.step()
    assert sim.current_step == 1 and sim.time_ms == pytest.approx(0.1)
    last = sim.last_spikes()
    stats = sim.step_stats()
    assert stats["step"] == 0 and stats["spikes"] == len(last)
    sim.run(200)
    sp = sim.spikes(copy=False)
    assert not sp.ids.flags.writeable
    k = len(sp.ids) - 1
    assert sim.spiked_at(int(sp.ids[k]), int(sp.steps[k]))
    tr = sim.trace("v", 50, ids=[0, 5], every=10)
    assert tr.values.shape == (6, 2) and tr.times[0] == pytest.approx(20.1)
    assert sim.current_step == 251
    with pytest.raises(n4d.InvalidArgError, match="v"):
        sim.state("no_such_variable")
    with pytest.raises(n4d.RangeError):
        sim.spiked_at(n + 5, 10)


def test_senses_modulators_and_plasticity():
    m = n4d.Model(lattice_shape=(4, 4, 1, 1), dt=1.0, seed=3)
    m.add_area("retina", (0, 0, 0, 0), (3, 3, 0, 0))
    m.add_population("R", "retina", "lif")
    m.add_sense("vision", "retina", 4, 4)
    m.add_modulator("dopamine", baseline=0.5, decay_rate=0.0)
    m.add_projection("R", "R", "all_to_all", weight=1.0, allow_autapses=False,
                     synapse_model="stdp_dopamine", synapse_params={"A_plus": 0.1},
                     name="rr")
    assert m.modulators == ["dopamine"]
    with m.simulate(backend="cpu-omp", threads=1) as sim:
        w0 = sim.get_weights("rr").weights.copy()
        sim.reward(0.3)
        assert sim.modulator("dopamine") == pytest.approx(0.8)
        for _ in range(30):
            sim.feed_sense("vision", np.full((4, 4), 50.0))
            sim.step()
        assert sim.total_spikes > 0
        assert not np.array_equal(sim.get_weights("rr").weights, w0)  # it learned
        with pytest.raises(n4d.ConfigError, match="serotonin"):
            sim.set_modulator("serotonin", 0.2)
        with pytest.raises(n4d.RangeError):
            sim.set_modulator("dopamine", 2.0)
        with pytest.raises(n4d.InvalidArgError):
            sim.feed_sense("vision", np.zeros(4))


def test_save_load_checkpoint_resume_record(small_model, tmp_path):
    if not n4d.has_feature("hdf5"):
        pytest.skip("library built without HDF5")
    small_model.build()
    small_model.save(tmp_path / "m.h5", gzip=True)
    loaded = n4d.Model.load(tmp_path / "m.h5")
    assert loaded.num_synapses == small_model.num_synapses
    one = small_model.simulate(threads=1)
    one.run(400)
    with loaded.simulate(threads=1) as s:
        s.run(200)
        s.checkpoint(tmp_path / "ck.h5")
        s.save_model(tmp_path / "learned.h5")
    with n4d.Sim.resume(tmp_path / "ck.h5") as r:
        assert r.current_step == 200
        r.run(200)
        assert r.checksum == one.checksum
    assert n4d.Model.load(tmp_path / "learned.h5").num_neurons == small_model.num_neurons
    part = n4d.Model.load(tmp_path / "m.h5", first=0, count=10)
    assert part.num_neurons == 10
    # recording: the file holds the sim's spikes
    pytest.importorskip("h5py")
    sim = small_model.simulate(threads=1)
    with sim.record(tmp_path / "rec.h5", ids=[0, 1, 2], every=5):
        sim.run(300)
    data = n4d.read_spikes(tmp_path / "rec.h5")
    sp = sim.spikes()
    assert np.array_equal(data.ids, sp.ids) and np.allclose(data.times, sp.times)
    assert [g[0] for g in data.groups] == ["E", "I"]
    with pytest.raises(n4d.IoError):
        small_model.save(tmp_path / "no_such_dir" / "m.h5")
    with pytest.raises((n4d.IoError, n4d.FormatError)):
        n4d.Model.load(tmp_path / "nothing.h5")


def test_config_errors_name_the_place(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{\n  "lattice_shape": [4, 4, 1, 1],\n  "dt": 0.1,,\n}\n')
    with pytest.raises(n4d.ConfigError) as e:
        n4d.Model.from_json(bad)
    assert "bad.json:3:13:" in str(e.value) and e.value.status == -3
    assert e.value.status_name  # n4d_status_string
    with pytest.raises(n4d.ConfigError) as e:
        n4d.Model.from_json_string('{"lattice_shape": [2, 2, 1, 1], "areas": 5}',
                                   name="inline.json")
    assert str(e.value).startswith("inline.json:1:") and "areas" in str(e.value)
    with pytest.raises(n4d.Error) as e:
        n4d.Model.from_json(tmp_path / "missing.json")
    assert "missing.json" in str(e.value)
    m = n4d.Model(lattice_shape=(2, 2, 1, 1))
    m.add_area("a", (0, 0, 0, 0), (1, 1, 0, 0))
    with pytest.raises(n4d.ConfigError, match="nonsense"):
        m.add_population("P", "a", "lif", params={"nonsense": 1.0})
    with pytest.raises(n4d.InvalidArgError, match="rule"):
        m.add_projection("P", "P", "fixed_prob")
    with pytest.raises(n4d.Error):
        n4d.Sim(m, backend="no-such-backend")
    m.build()
    with pytest.raises(n4d.StateError):
        m.set_dt(0.5)


def test_use_after_close_is_a_clean_error(small_model):
    sim = small_model.simulate()
    sim.run(10)
    sim.close()
    sim.close()  # idempotent
    assert sim.closed and "closed" in repr(sim)
    with pytest.raises(n4d.ClosedError):
        sim.run(1)
    with pytest.raises(n4d.ClosedError):
        sim.checksum
    with pytest.raises(n4d.StateError):  # ClosedError is a StateError
        sim.spikes()
    # closing a model closes the sims still open on it
    s2 = small_model.simulate()
    small_model.close()
    assert s2.closed
    with pytest.raises(n4d.ClosedError):
        s2.state("v")
    with pytest.raises(n4d.ClosedError):
        small_model.num_neurons
    with pytest.raises(n4d.ClosedError):
        small_model.simulate()


def test_a_sim_keeps_its_model_alive(config):
    sim = n4d.Model.from_json(config("cuba.json")).simulate(threads=1)
    gc.collect()
    sim.run(100)  # the model object is only referenced by the sim
    assert sim.model.num_neurons == 4000
    sim = None
    gc.collect()


def test_registry_and_library():
    assert n4d.version().startswith("0.")
    assert os.path.exists(n4d.library_path())
    models = {m["name"]: m for m in n4d.neuron_models()}
    assert {"lif", "lif_exp", "izhikevich"} <= set(models)
    assert models["lif_exp"]["states"][0]["name"] == "v"
    assert any(p["name"] == "tau_m" for p in models["lif_exp"]["params"])
    assert {"static", "stdp"} <= {s["name"] for s in n4d.synapse_models()}
    b = n4d.backends()
    assert b["cpu-ref"]["available"] and b["cpu-omp"]["available"]
    assert n4d.has_feature("json")
    with pytest.raises(n4d.InvalidArgError):
        n4d.has_feature("teleport")


def test_library_not_found_names_the_variable(tmp_path):
    env = dict(os.environ, N4D_LIBRARY=str(tmp_path / "libnothing.so"))
    r = subprocess.run([sys.executable, "-c", "import n4d; n4d.version()"], env=env,
                       capture_output=True, text=True,
                       cwd=os.path.dirname(os.path.dirname(os.path.abspath(n4d.__file__))))
    assert r.returncode != 0
    assert "LibraryNotFound" in r.stderr and "N4D_LIBRARY" in r.stderr


def test_gpu_api_with_cpu_fallback():
    with n4d.Gpu(use_gpu=False) as g:
        assert not g.is_available and g.info["reason"]
        assert g.memory_usage()["on_gpu"] is False
        rng = np.random.default_rng(1)
        v = rng.uniform(-70, -49, 1000).astype(np.float32)
        i = rng.uniform(0, 30, 1000).astype(np.float32)
        ref = np.zeros(1000, bool)
        ref[:10] = True
        v2, spikes, n = g.lif_update(v, i_syn=i, refractory=ref, dt=1.0)
        vn = v + (-(v - np.float32(-65)) + i) / np.float32(20) * np.float32(1)
        want_spk = (vn >= -50) & ~ref
        assert np.array_equal(spikes, want_spk) and n == want_spk.sum()
        assert np.allclose(v2[~ref & ~want_spk], vn[~ref & ~want_spk], atol=1e-4)
        assert (v2[want_spk] == -70).all() and np.array_equal(v2[ref], v[ref])
        dense = np.array([[1, 0, 2], [0, 0, 3]], np.float32)
        csr = ([0, 2, 3], [0, 2, 2], [1, 2, 3], (2, 3))
        x = np.array([1, 2, 3], np.float32)
        assert np.allclose(g.spmv(csr, x), dense @ x)
        assert np.allclose(g.sparse_synapse_matmul(csr, [1, 0, 1]), dense @ [1, 0, 1])
        a = rng.standard_normal((3, 4, 5)).astype(np.float32)
        b = rng.standard_normal((3, 5, 2)).astype(np.float32)
        assert np.allclose(g.gemm_batched(a, b), a @ b, atol=1e-5)
        bench = g.benchmark(sizes=[100, 1000], iterations=2)
        assert list(bench["sizes"]) == [100, 1000] and not bench["gpu_available"]
        assert (bench["cpu_seconds"] > 0).all() and np.isnan(bench["gpu_seconds"]).all()
        with pytest.raises(n4d.Error):
            g.spmv(([0, 1, 9], [0, 1], [1, 1], (2, 2)), [1, 1])  # bad row_ptr
    if n4d.Gpu.__init__ and n4d.gpu.device_count() == 0:
        with pytest.raises((n4d.NotBuiltError, n4d.NoDeviceError)):
            n4d.Gpu(require=True)
    with pytest.raises(n4d.ClosedError):
        g.info


def test_import_4dnc(repo):
    path = os.path.join(repo, "tests", "data", "4dnc_small_model.json")
    with n4d.Model.import_4dnc(path, static_weights=True) as m:
        assert m.is_built and m.num_neurons > 0 and m.dt == 1.0
        with m.simulate(backend="cpu-ref") as a, m.simulate(backend="cpu-omp", threads=2) as b:
            a.run(50)
            b.run(50)
            assert a.checksum == b.checksum
    with pytest.raises(n4d.Error):
        n4d.Model.import_4dnc(os.path.join(repo, "README.md"))


def test_abi_rule():
    """Within 0.x a minor version may change the ABI: only the bindings' own
    minor is taken; the loaded library has it."""
    from n4d import _lib
    assert _lib.abi_compatible(_lib.ABI_MAJOR, _lib.ABI_MIN_MINOR)
    assert not _lib.abi_compatible(_lib.ABI_MAJOR + 1, _lib.ABI_MIN_MINOR)
    if _lib.ABI_MAJOR == 0:
        assert not _lib.abi_compatible(0, _lib.ABI_MIN_MINOR + 1)
        assert not _lib.abi_compatible(0, _lib.ABI_MIN_MINOR - 1)
        assert _lib.SONAME == "libn4d.so.0.%d" % _lib.ABI_MIN_MINOR
    major, minor = (int(x) for x in n4d.version().split(".")[:2])
    assert _lib.abi_compatible(major, minor)
    assert os.path.realpath(n4d.library_path()).endswith(
        ".so.%d.%d.%s" % (major, minor, n4d.version().split(".")[2]))


class _Cycle:
    pass


def test_cycle_finalization_order():
    """A garbage cycle holding a Model and its Sim: the collector clears weak
    references before finalizers and may finalize the Model first; the sim
    must still be freed before the model (a use after free otherwise, which
    ASan reports and plain builds may survive)."""
    for _ in range(3):
        m = n4d.Model(lattice_shape=(4, 4, 1, 1), dt=1.0, seed=3)
        m.add_area("a", (0, 0, 0, 0), (3, 3, 0, 0))
        m.add_population("P", "a", "lif")
        holder = _Cycle()
        holder.self, holder.model, holder.sim = holder, m, m.simulate(backend="cpu-omp")
        holder.sim.run(3)
        sims = m._sim_cells
        del m, holder
        gc.collect()
        assert all(c[0] is None for c in sims)


def test_views_keep_the_sim_until_deleted(small_model):
    """copy=False views read the sim's memory: closing under them is refused."""
    sim = small_model.simulate(threads=1)
    sim.run(200)
    assert sim.total_spikes > 0
    spk = sim.spikes(copy=False)
    head = spk.ids[:3]  # a slice keeps its view (and so the sim) alive
    with pytest.raises(n4d.StateError, match="copy=False"):
        sim.close()
    with pytest.raises(n4d.StateError, match="copy=False"):
        small_model.close()
    assert not sim.closed and not small_model.closed
    assert np.array_equal(head, sim.spikes().ids[:3])
    del spk, head
    gc.collect()
    sim.close()
    small_model.close()


def test_arguments_are_checked_before_the_call(small_model):
    sim = small_model.simulate(threads=1)
    for bad in (lambda: sim.run("10"), lambda: sim.run(2.5), lambda: sim.run(-1),
                lambda: sim.spiked_at(-5, 0), lambda: sim.set_state("v", np.zeros(3)),
                lambda: sim.add_input([0, -1], 1.0)):
        with pytest.raises(n4d.InvalidArgError):
            bad()
    sim.run(np.int64(3))  # any integer type
    twin = small_model.simulate(threads=1)
    twin.run(3)
    with pytest.raises(n4d.RangeError, match="does not exist"):
        sim.add_input([0, small_model.num_neurons], 50.0)  # the ids are checked first:
    sim.run(1)                                           # nothing was added to neuron 0
    twin.run(1)
    assert np.array_equal(sim.state("v"), twin.state("v"))
    with pytest.raises(n4d.RangeError, match="unknown population 'nope'"):
        small_model.population("nope")


def test_an_installed_package_ignores_build_trees_near_it(tmp_path):
    """Build folders are searched only beside a source checkout, and never a
    sanitizer build."""
    from n4d import _lib
    site = tmp_path / "site"
    (tmp_path / "build" / "src").mkdir(parents=True)
    (tmp_path / "build" / "src" / "libn4d.so").write_bytes(b"not a library")
    shutil.copytree(os.path.dirname(n4d.__file__), site / "n4d")
    env = dict(os.environ, PYTHONPATH=str(site))
    env.pop("N4D_LIBRARY", None)
    r = subprocess.run([sys.executable, "-c", "from n4d import _lib; "
                        "print('\\n'.join(_lib._candidates()))"], env=env, capture_output=True,
                       text=True, cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert str(tmp_path / "build") not in r.stdout
    fake = tmp_path / "libasan_built.so"
    fake.write_bytes(b"\x7fELF....libasan.so.8\x00")
    assert _lib._sanitized(str(fake))
    assert not _lib._sanitized(n4d.library_path())  # the tests load a plain build
