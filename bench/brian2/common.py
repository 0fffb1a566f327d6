"""Shared code of the Brian2 peer scripts (cuba.py, coba.py, brunel.py, song.py,
cuba_stdp.py).

Each script builds the model of an n4d JSON config (bench/configs/) in Brian2
C++ standalone mode and reports, as one JSON line on stdout:

    sim_s         simulation-loop wall time (steady clock around the
                  network run, inserted into main.cpp)
    brian2_run_s  Brian2's own figure (results/last_run_info.txt; CPU time
                  of the loop when built without OpenMP, wall time with it)
    setup_s       construction: from the start of main() to the network run
                  (loading static arrays, creating synapses, initial values)
    wall_s        the whole binary (setup + loop + writing the results)
    compile_s     code generation + compilation (make), never simulation time
    peak_rss_kb   peak RSS of the simulation binary alone, by GNU time
                  (/usr/bin/time -f %M, as for n4d; the compiler is not
                  counted)
    spikes, rate_hz, neurons, synapses

Scripts may report more (song.py, cuba_stdp.py: the final weights): their
network names arrays to read back after the run and a `summarize` function
turns them into further keys of the JSON line.

Modes: `--mode build` generates and compiles the project into --dir;
`--mode run` runs the compiled binary once (no Brian2 import: fast, so the
runner can alternate it with n4d); `--mode all` (default) does both.
Threads: `--threads 0` builds without OpenMP (serial, Brian2's fastest
single-thread mode), `--threads N` with N OpenMP threads.

Run with the Debian interpreter: /usr/bin/python3 (python3-brian 2.5.1).
"""
import argparse
import json
import os
import subprocess
import sys
import time

TIMING_FILE = os.path.join("results", "n4d_bench_timing.txt")
META_FILE = "n4d_bench_meta.json"


def parse_args(model):
    ap = argparse.ArgumentParser(description=f"Brian2 C++ standalone peer of the n4d {model} config")
    ap.add_argument("--config", required=True, help="n4d JSON config (bench/configs/...)")
    ap.add_argument("--threads", type=int, default=0,
                    help="0: no OpenMP (serial); N >= 1: OpenMP with N threads")
    ap.add_argument("--dir", default=None, help="standalone project directory")
    ap.add_argument("--mode", choices=("all", "build", "run"), default="all")
    ap.add_argument("--duration", type=float, default=None, help="simulated ms (default: the config's)")
    a = ap.parse_args()
    if a.dir is None:
        here = os.path.dirname(os.path.abspath(__file__))
        name = os.path.splitext(os.path.basename(a.config))[0]
        a.dir = os.path.join(here, "..", "out", "brian2", f"{name}_t{a.threads}")
    a.dir = os.path.abspath(a.dir)
    return a


def load_config(path):
    with open(path) as f:
        return json.load(f)


def population(cfg, name):
    for p in cfg["populations"]:
        if p["name"] == name:
            return p
    raise KeyError(f"population {name!r} not in config")


def pop_params(cfg, name):
    """Parameters of population `name`: defaults of the model then its own."""
    p = population(cfg, name)
    nm = cfg.get("neuron_model", {})
    model = p.get("model", nm.get("type", "lif")).lower()
    out = {}
    if nm.get("type", "lif").lower() == model:
        out.update(nm.get("params_default", {}))
    out.update(p.get("params", {}))
    if "t_ref" in out:
        out["refractory_period"] = out.pop("t_ref")
    return model, out


def pop_size(cfg, name):
    """Neurons of population `name`: its count, or every site of its area
    (neither count nor density, or density 1)."""
    p = population(cfg, name)
    if "count" in p:
        return int(p["count"])
    if float(p.get("density", 1.0)) != 1.0:
        raise ValueError(f"population {name!r}: the peer scripts need count placement or every site")
    area = [a for a in cfg["areas"] if a["name"] == p["area"]]
    if len(area) != 1:
        raise KeyError(f"population {name!r}: area {p['area']!r} not in config")
    n = 1
    for lo, hi in area[0]["coord_ranges"].values():
        n *= int(hi) - int(lo) + 1
    return n


def projection(cfg, source, target):
    found = [pr for pr in cfg["projections"] if pr["source"] == source and pr["target"] == target]
    if len(found) != 1:
        raise ValueError(f"expected one projection {source}->{target}, found {len(found)}")
    return found[0]


def constant(value, what):
    if isinstance(value, dict):
        raise ValueError(f"{what}: the peer scripts need a constant, got {value}")
    return float(value)


def uniform(dist, what):
    if not (isinstance(dist, dict) and "uniform" in dist):
        raise ValueError(f"{what}: expected {{\"uniform\": [lo, hi]}}, got {dist}")
    lo, hi = dist["uniform"]
    return float(lo), float(hi)


def delay_steps(cfg, pr):
    dt = float(cfg.get("dt", 0.1))
    d = constant(pr.get("delay", dt), f"{pr['source']}->{pr['target']}.delay")
    return max(1, int(round(d / dt)))


def brian2_delay_ms(cfg, pr):
    """n4d delivers a spike of step t into the update of step t + d, where it
    acts at once; Brian2 applies `on_pre` after the state update of its
    delivery step, so it acts one step later. Brian2 delay = (d - 1) * dt
    gives the same timing (0 for the CUBA/COBA delay of one step, which is
    what Brian2's own examples use)."""
    return (delay_steps(cfg, pr) - 1) * float(cfg.get("dt", 0.1))


# ---- build ---------------------------------------------------------------------

def build(args, make_network):
    """Generates and compiles the project. make_network(cfg, b2) creates the
    network in the current scope (b2: the brian2 module) and returns a dict
    with 'neurons' (int), 'monitor' (a SpikeMonitor with record=False),
    'synapses' (list of Synapses) and 'objects' (everything to simulate);
    optionally 'arrays' ({key: a variable, e.g. S.variables["w"]}: read
    back after each run for `summarize`, see main) and 'extra' (a dict of
    JSON values kept in the project's metadata for `summarize`)."""
    t_start = time.time()
    import brian2 as b2
    b2.prefs.logging.console_log_level = "WARNING"
    cfg = load_config(args.config)
    b2.set_device("cpp_standalone", directory=args.dir, build_on_run=False)
    b2.prefs.devices.cpp_standalone.openmp_threads = max(0, args.threads)
    b2.prefs.codegen.cpp.headers += ["<chrono>", "<cstdio>"]
    b2.defaultclock.dt = float(cfg.get("dt", 0.1)) * b2.ms
    b2.seed(int(cfg.get("seed", 1)))
    duration = args.duration if args.duration is not None else float(cfg.get("duration", 1000))
    b2.device.insert_code("before_start",
                          "const auto _n4d_t0 = std::chrono::steady_clock::now();")
    net = make_network(cfg, b2)
    b2.device.insert_code("main", "const auto _n4d_t1 = std::chrono::steady_clock::now();")
    network = b2.Network(*net["objects"])
    network.run(duration * b2.ms)
    b2.device.insert_code("main", r"""
{
    const auto _n4d_t2 = std::chrono::steady_clock::now();
    FILE *_f = fopen("results/n4d_bench_timing.txt", "w");
    if (_f) {
        fprintf(_f, "%.9f %.9f\n",
                std::chrono::duration<double>(_n4d_t1 - _n4d_t0).count(),
                std::chrono::duration<double>(_n4d_t2 - _n4d_t1).count());
        fclose(_f);
    }
}
""")
    t_py = time.time()
    b2.device.build(directory=args.dir, compile=True, run=False, with_output=False)
    t_end = time.time()
    dev = b2.device
    meta = {
        "config": os.path.abspath(args.config),
        "name": cfg.get("name", ""),
        "threads": args.threads,
        "duration_ms": duration,
        "neurons": int(net["neurons"]),
        "spike_count_file": dev.get_array_filename(net["monitor"].variables["N"]),
        "spike_count_dtype": _dtype_name(net["monitor"].variables["N"]),
        "synapse_count_files": [dev.get_array_filename(s.variables["N"]) for s in net["synapses"]],
        "synapse_count_dtypes": [_dtype_name(s.variables["N"]) for s in net["synapses"]],
        "arrays": {k: [dev.get_array_filename(v), _dtype_name(v)]
                   for k, v in net.get("arrays", {}).items()},
        "extra": net.get("extra", {}),
        "python_s": t_py - t_start,
        "compile_s": t_end - t_start,
        "brian2_version": b2.__version__,
    }
    with open(os.path.join(args.dir, META_FILE), "w") as f:
        json.dump(meta, f, indent=1)
    return meta


# ---- run -------------------------------------------------------------------------

def _dtype_name(var):
    import numpy as np
    return np.dtype(var.dtype).name


def _read_scalar(path, dtype):
    import array
    code = {"int32": "i", "int64": "q", "uint32": "I", "uint64": "Q",
            "float64": "d", "float32": "f"}[dtype]
    a = array.array(code)
    with open(path, "rb") as f:
        a.frombytes(f.read(a.itemsize))
    return a[0]


def _read_array(path, dtype):
    import array
    code = {"int32": "i", "int64": "q", "uint32": "I", "uint64": "Q",
            "float64": "d", "float32": "f"}[dtype]
    a = array.array(code)
    with open(path, "rb") as f:
        a.frombytes(f.read())
    return a


def run_binary(directory, summarize=None):
    """Runs the compiled project once; returns the measured figures (and
    what summarize(arrays, extra, figures) adds: arrays as named by the
    network's 'arrays', extra its 'extra', figures the dict returned)."""
    with open(os.path.join(directory, META_FILE)) as f:
        meta = json.load(f)
    main = os.path.join(directory, "main")
    if not os.path.exists(main):
        raise RuntimeError(f"{main}: not built (run with --mode build first)")
    for name in (TIMING_FILE, os.path.join("results", "last_run_info.txt")):
        try:
            os.remove(os.path.join(directory, name))
        except FileNotFoundError:
            pass
    # Peak RSS through GNU time (as for n4d): a child forked from this Python
    # process would inherit its high-water mark in ru_maxrss.
    rss_file = os.path.join(directory, "results", "n4d_bench_rss.txt")
    t0 = time.time()
    with open(os.path.join(directory, "results", "stdout.txt"), "w") as out:
        rc = subprocess.call(["/usr/bin/time", "-f", "%M", "-o", rss_file, main],
                             cwd=directory, stdout=out, stderr=subprocess.STDOUT)
    wall = time.time() - t0
    if rc != 0:
        raise RuntimeError(f"{main} exited with {rc} (see {directory}/results/stdout.txt)")
    with open(rss_file) as f:
        peak_rss_kb = int(f.read().split()[-1])
    with open(os.path.join(directory, TIMING_FILE)) as f:
        setup_s, sim_s = (float(x) for x in f.read().split())
    brian2_run_s = None
    lri = os.path.join(directory, "results", "last_run_info.txt")
    if os.path.exists(lri):
        with open(lri) as f:
            brian2_run_s = float(f.read().split()[0])
    spikes = int(_read_scalar(os.path.join(directory, meta["spike_count_file"]), meta["spike_count_dtype"]))
    synapses = sum(int(_read_scalar(os.path.join(directory, p), d))
                   for p, d in zip(meta["synapse_count_files"], meta["synapse_count_dtypes"]))
    n = meta["neurons"]
    dur_s = meta["duration_ms"] / 1000.0
    out = {
        "simulator": "brian2",
        "config": meta["config"],
        "threads": meta["threads"],
        "neurons": n,
        "synapses": synapses,
        "spikes": spikes,
        "rate_hz": spikes / n / dur_s if n and dur_s > 0 else 0.0,
        "sim_s": sim_s,
        "brian2_run_s": brian2_run_s,
        "setup_s": setup_s,
        "wall_s": wall,
        "peak_rss_kb": peak_rss_kb,
        "compile_s": meta["compile_s"],
        "duration_ms": meta["duration_ms"],
    }
    if summarize is not None:
        arrays = {k: _read_array(os.path.join(directory, path), dtype)
                  for k, (path, dtype) in meta.get("arrays", {}).items()}
        out.update(summarize(arrays, meta.get("extra", {}), out))
    return out


def main(model, make_network, summarize=None):
    args = parse_args(model)
    out = {}
    if args.mode in ("all", "build"):
        meta = build(args, make_network)
        out = {"simulator": "brian2", "model": model, "config": meta["config"], "threads": args.threads,
               "dir": args.dir, "compile_s": meta["compile_s"], "python_s": meta["python_s"]}
    if args.mode in ("all", "run"):
        out = run_binary(args.dir, summarize)
        out["model"] = model
    print(json.dumps(out), flush=True)
    return 0
