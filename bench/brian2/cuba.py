#!/usr/bin/python3
"""Brian2 C++ standalone peer of bench/configs/cuba_*.json: the Vogels-Abbott
CUBA network exactly as Brian2's examples/CUBA.py (method 'exact', v uniform
in [Vr, Vt], no synaptic delay), with every parameter read from the n4d
config so that both always agree.

    /usr/bin/python3 bench/brian2/cuba.py --config bench/configs/cuba_4k.json --threads 0

Prints one JSON line (see common.py)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


def make_group(cfg, b2):
    """The E and I neurons (one NeuronGroup, E first); returns it with the
    sizes ne, ni."""
    ms, mV = b2.ms, b2.mV
    model, p = common.pop_params(cfg, "E")
    model_i, p_i = common.pop_params(cfg, "I")
    if model != "lif_exp" or p != p_i:
        raise ValueError("cuba.py: expected E and I lif_exp populations with equal parameters")
    ne, ni = common.pop_size(cfg, "E"), common.pop_size(cfg, "I")
    lo, hi = common.uniform(common.population(cfg, "E").get("v_init"), "E.v_init")
    if common.uniform(common.population(cfg, "I").get("v_init"), "I.v_init") != (lo, hi):
        raise ValueError("cuba.py: expected the same v_init for E and I")
    ns = {
        "taum": p["tau_m"] * ms, "taue": p["tau_syn_ex"] * ms, "taui": p["tau_syn_in"] * ms,
        "Vt": p["v_threshold"] * mV, "Vr": p["v_reset"] * mV, "El": p["v_rest"] * mV,
        "vlo": lo * mV, "vhi": hi * mV,
    }
    eqs = """
    dv/dt  = (ge+gi-(v-El))/taum : volt (unless refractory)
    dge/dt = -ge/taue : volt
    dgi/dt = -gi/taui : volt
    """
    P = b2.NeuronGroup(ne + ni, eqs, threshold="v>Vt", reset="v = Vr",
                       refractory=p["refractory_period"] * ms, method="exact", namespace=ns)
    P.v = "vlo + rand() * (vhi - vlo)"
    P.ge = 0 * mV
    P.gi = 0 * mV
    return P, ne, ni


def make_network(cfg, b2):
    mV, ms = b2.mV, b2.ms
    P, ne, ni = make_group(cfg, b2)
    syns = []
    for src, sl, var in (("E", slice(0, ne), "ge"), ("I", slice(ne, ne + ni), "gi")):
        prs = [common.projection(cfg, src, tgt) for tgt in ("E", "I")]
        probs = {pr["p"] for pr in prs}
        weights = {common.constant(pr["weight"], "weight") for pr in prs}
        delays = {common.brian2_delay_ms(cfg, pr) for pr in prs}
        if any(pr["rule"] != "fixed_probability" for pr in prs) or len(probs) != 1 or \
                len(weights) != 1 or len(delays) != 1:
            raise ValueError(f"cuba.py: {src}->E and {src}->I must be one fixed_probability rule")
        w = weights.pop()
        w = abs(w) if var == "ge" else -abs(w)
        S = b2.Synapses(P[sl], P, on_pre=f"{var} += w_{var}",
                        namespace={f"w_{var}": w * mV})
        S.connect(p=probs.pop())
        d = delays.pop()
        if d > 0:
            S.delay = d * ms
        syns.append(S)
    mon = b2.SpikeMonitor(P, record=False)
    return {"neurons": ne + ni, "monitor": mon, "synapses": syns, "objects": [P, mon] + syns}


if __name__ == "__main__":
    sys.exit(common.main("cuba", make_network))
