#!/usr/bin/env python3
"""The PyNN Vogels-Abbott CUBA benchmark (PyNN's examples/VAbenchmarks.py,
current-based variant) on pyNN.n4d and pyNN.brian2, timed end to end:
setup, construction, the run and reading the spikes back.

    N4D_LIBRARY=build/src/libn4d.so python3 bench/pynn_va.py [--n 4000 40000]
        [--t-stop 1000] [--threads 2] [--backends n4d brian2] [--brian2-target numpy]
        [--progress 60]

The network (as PyNN's benchmark): 80 % excitatory, 20 % inhibitory
IF_curr_exp cells (cm 0.2 nF, tau_m 20 ms, v_rest -49 mV above the -50 mV
threshold, so the network is self-driven), fixed connection probability
0.02 (at 4000 cells; at larger sizes the in-degree is kept at 80 by
p = 80 / n), excitatory weight 0.0162 nA (1.62 mV), inhibitory -0.09 nA
(-9 mV), delay 0.2 ms, initial v uniform in [-60, -50] mV.
`va_cuba(sim, n, t_stop)` is imported by python/tests/test_pynn.py.
"""

import argparse
import importlib
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "python"))


COBA_V_REST = -49.0


def va_cuba(sim, n=4000, t_stop=1000.0, threads=0, seed=4242, dt=0.1, **setup_kw):
    """Builds and runs the CUBA network on backend module `sim`; returns
    (exc rate Hz, inh rate Hz, timings dict, exc population, inh population)."""
    return va_net(sim, "cuba", n, t_stop, threads, seed, dt, **setup_kw)


def va_coba(sim, n=4000, t_stop=1000.0, threads=0, seed=4242, dt=0.1, **setup_kw):
    """The same for the COBA network (IF_cond_exp)."""
    return va_net(sim, "coba", n, t_stop, threads, seed, dt, **setup_kw)


def va_net(sim, benchmark, n=4000, t_stop=1000.0, threads=0, seed=4242, dt=0.1, **setup_kw):
    from pyNN.random import NumpyRNG, RandomDistribution
    t0 = time.perf_counter()
    kw = dict(setup_kw)
    if sim.__name__.endswith("n4d"):
        kw.update(threads=threads, rng_seed=seed)
    sim.setup(timestep=dt, min_delay=0.2 if dt <= 0.2 else dt, max_delay=10.0, **kw)
    n_exc = int(n * 0.8)
    n_inh = n - n_exc
    p = 0.02 if n <= 4000 else 80.0 / n
    if benchmark == "cuba":
        cell = sim.IF_curr_exp(cm=0.2, tau_m=20.0, tau_syn_E=5.0, tau_syn_I=10.0,
                               v_rest=-49.0, v_thresh=-50.0, v_reset=-60.0, tau_refrac=5.0,
                               i_offset=0.0)
        w_exc, w_inh = 0.0162, -0.09
    elif benchmark == "coba":
        cell = sim.IF_cond_exp(cm=0.2, tau_m=20.0, tau_syn_E=5.0, tau_syn_I=10.0,
                               v_rest=COBA_V_REST, v_thresh=-50.0, v_reset=-60.0,
                               tau_refrac=5.0, i_offset=0.0, e_rev_E=0.0, e_rev_I=-80.0)
        w_exc, w_inh = 0.004, 0.051
    else:
        raise ValueError("benchmark %r: 'cuba' or 'coba'" % benchmark)
    exc = sim.Population(n_exc, cell, label="exc")
    inh = sim.Population(n_inh, cell, label="inh")
    rng = NumpyRNG(seed=seed)
    for pop in (exc, inh):
        pop.initialize(v=RandomDistribution("uniform", low=-60.0, high=-50.0, rng=rng))
        pop.record("spikes")
    conn = sim.FixedProbabilityConnector(p, rng=rng)
    we = sim.StaticSynapse(weight=w_exc, delay=0.2)
    wi = sim.StaticSynapse(weight=w_inh, delay=0.2)
    sim.Projection(exc, exc, conn, we, receptor_type="excitatory")
    sim.Projection(exc, inh, conn, we, receptor_type="excitatory")
    sim.Projection(inh, exc, conn, wi, receptor_type="inhibitory")
    sim.Projection(inh, inh, conn, wi, receptor_type="inhibitory")
    t1 = time.perf_counter()
    sim.run(t_stop)
    t2 = time.perf_counter()
    rates = []
    for pop in (exc, inh):
        st = pop.get_data("spikes").segments[0].spiketrains
        n_spikes = st.multiplexed[1].size if hasattr(st, "multiplexed") else \
            sum(len(s) for s in st)
        rates.append(n_spikes / (pop.size * t_stop / 1000.0))
    t3 = time.perf_counter()
    sim.end()
    return rates[0], rates[1], {"build": t1 - t0, "run": t2 - t1, "read": t3 - t2,
                                "total": t3 - t0}, exc, inh


def log_progress(sim, every):
    """Prints, at most every `every` seconds, how many target cells each
    projection has connected so far: pyNN.brian2 (like pyNN.nest) connects
    target by target in Python, so a long construction can be followed and,
    if stopped, reported as the fraction it reached."""
    proj_cls = sim.Projection
    orig = proj_cls._convergent_connect
    state = {"last": time.perf_counter(), "t0": time.perf_counter(), "calls": 0}

    def wrapped(self, presynaptic_indices, postsynaptic_index, **kw):
        orig(self, presynaptic_indices, postsynaptic_index, **kw)
        state["calls"] += 1
        now = time.perf_counter()
        if now - state["last"] >= every:
            state["last"] = now
            print("  [%s %.0f s] %s: target %d of %d (%d connect calls in all)"
                  % (time.strftime("%H:%M:%S"), now - state["t0"], self.label,
                     int(postsynaptic_index) + 1, self.post.size, state["calls"]),
                  file=sys.stderr, flush=True)
    proj_cls._convergent_connect = wrapped
    return state


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, nargs="+", default=[4000])
    ap.add_argument("--t-stop", type=float, default=1000.0)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--backends", nargs="+", default=["n4d", "brian2"])
    ap.add_argument("--brian2-target", default=None,
                    help="brian2 codegen target (numpy, cython); default: Brian2's own")
    ap.add_argument("--progress", type=float, default=0.0, metavar="SECONDS",
                    help="print the construction's progress (targets connected per "
                    "projection) every SECONDS on stderr (pyNN.brian2 only)")
    a = ap.parse_args()
    import _n4d_pynn  # noqa: F401  (import pyNN.n4d from the source tree)
    if a.brian2_target and "brian2" in a.backends:
        import brian2
        brian2.prefs.codegen.target = a.brian2_target
    print("%-8s %7s %9s %9s %9s %9s %9s %9s" % ("backend", "n", "exc Hz", "inh Hz", "build s",
                                                "run s", "read s", "total s"))
    for n in a.n:
        totals = {}
        for b in a.backends:
            sim = importlib.import_module("pyNN." + b)
            if a.progress > 0 and b != "n4d" and not hasattr(sim.Projection, "_n4d_logged"):
                log_progress(sim, a.progress)
                sim.Projection._n4d_logged = True
            re, ri, t, _, _ = va_cuba(sim, n, a.t_stop, threads=a.threads)
            totals[b] = t["total"]
            print("%-8s %7d %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f" % (b, n, re, ri, t["build"],
                                                                   t["run"], t["read"],
                                                                   t["total"]), flush=True)
        if "n4d" in totals and "brian2" in totals:
            print("n=%d: pyNN.n4d is %.1fx faster end to end" % (n, totals["brian2"]
                                                                 / totals["n4d"]))


if __name__ == "__main__":
    main()
