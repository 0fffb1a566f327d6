#!/usr/bin/python3
"""Brian2 C++ standalone peer of bench/configs/brunel.json: Brunel (2000)
model A with delta synapses (Brian2's examples/frompapers/Brunel_2000.py),
with every parameter read from the n4d config so that both agree.

The n4d config uses the `lif` model (Euler step; a synaptic or Poisson
event of weight w moves V by w * dt / tau_m; inputs that arrive while the
neuron is refractory are discarded). This script mirrors it: method
'euler', J = w * dt / tau_m, `v += J` (Brian2 itself skips updates of a
`(unless refractory)` variable from synapses and PoissonInput while the
neuron is refractory; its window ends one step later than n4d's), fixed
in-degree by `connect(i='k for k in sample(N_pre, size=K)')` (no
multapses), external input by PoissonInput with C_ext sources per neuron,
delay (d - 1) * dt for n4d's d steps (see common.brian2_delay_ms).

    /usr/bin/python3 bench/brian2/brunel.py --config bench/configs/brunel.json --threads 0

Prints one JSON line (see common.py)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


def make_network(cfg, b2):
    ms, mV, Hz = b2.ms, b2.mV, b2.Hz
    dt = float(cfg.get("dt", 0.1))
    model, p = common.pop_params(cfg, "E")
    model_i, p_i = common.pop_params(cfg, "I")
    if model != "lif" or p != p_i:
        raise ValueError("brunel.py: expected E and I lif populations with equal parameters")
    ne, ni = common.pop_size(cfg, "E"), common.pop_size(cfg, "I")
    lo, hi = common.uniform(common.population(cfg, "E").get("v_init"), "E.v_init")
    if common.uniform(common.population(cfg, "I").get("v_init"), "I.v_init") != (lo, hi):
        raise ValueError("brunel.py: expected the same v_init for E and I")
    tau_m = p["tau_m"]
    scale = dt / tau_m          # lif: V jump per unit of weight
    ns = {
        "tau": tau_m * ms, "theta": p["v_threshold"] * mV, "V_r": p["v_reset"] * mV,
        "El": p["v_rest"] * mV, "vlo": lo * mV, "vhi": hi * mV,
    }
    eqs = """
    dv/dt = -(v - El)/tau : volt (unless refractory)
    """
    P = b2.NeuronGroup(ne + ni, eqs, threshold="v >= theta", reset="v = V_r",
                       refractory=p["refractory_period"] * ms, method="euler", namespace=ns)
    P.v = "vlo + rand() * (vhi - vlo)"
    syns = []
    for src, sl in (("E", slice(0, ne)), ("I", slice(ne, ne + ni))):
        for tgt, tsl in (("E", slice(0, ne)), ("I", slice(ne, ne + ni))):
            pr = common.projection(cfg, src, tgt)
            if pr["rule"] != "fixed_indegree" or pr.get("allow_multapses", True):
                raise ValueError(f"brunel.py: {src}->{tgt} must be fixed_indegree without multapses")
            if pr.get("allow_autapses", True) is False and src == tgt:
                raise ValueError("brunel.py: autapses must be allowed (Brian2's sample())")
            w = common.constant(pr["weight"], "weight")
            w = abs(w) if pr.get("type") == "excitatory" else (-abs(w) if pr.get("type") == "inhibitory" else w)
            J = w * scale
            S = b2.Synapses(P[sl], P[tsl], on_pre=f"v_post += J_{src}{tgt}",
                            namespace={f"J_{src}{tgt}": J * mV})
            S.connect(i=f"k for k in sample(N_pre, size={int(pr['indegree'])})")
            d = common.brian2_delay_ms(cfg, pr)
            if d > 0:
                S.delay = d * ms
            syns.append(S)
    inputs = []
    for inp in cfg.get("inputs", []):
        if inp["type"] != "poisson":
            raise ValueError("brunel.py: only poisson inputs")
        sl = slice(0, ne) if inp["target"] == "E" else slice(ne, ne + ni)
        J = float(inp.get("weight", 1.0)) * scale
        inputs.append(b2.PoissonInput(P[sl], "v", N=int(inp.get("n_sources", 1)), rate=float(inp["rate"]) * Hz,
                                      weight=J * mV))
    mon = b2.SpikeMonitor(P, record=False)
    return {"neurons": ne + ni, "monitor": mon, "synapses": syns, "objects": [P, mon] + syns + inputs}


if __name__ == "__main__":
    sys.exit(common.main("brunel", make_network))
