#!/usr/bin/python3
"""Brian2 C++ standalone peer of bench/configs/coba_4k.json: the
Vogels-Abbott COBA network of the Brian2 C++-standalone COBA benchmark
(conductances relative to the leak, constant drive I, method 'euler'), with
every parameter read from the n4d config (lif_cond_exp) so that both agree.

    /usr/bin/python3 bench/brian2/coba.py --config bench/configs/coba_4k.json --threads 0

n4d's lif_cond_exp takes the same Euler step for V and decays the
conductances by their exact factors exp(-dt/tau) where Brian2's Euler uses
1 - dt/tau (a 1 % difference in the decay time at dt = 0.1 ms, tau = 5 ms).
Prints one JSON line (see common.py)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


def make_network(cfg, b2):
    ms, mV = b2.ms, b2.mV
    model, p = common.pop_params(cfg, "E")
    model_i, p_i = common.pop_params(cfg, "I")
    if model != "lif_cond_exp" or p != p_i:
        raise ValueError("coba.py: expected E and I lif_cond_exp populations with equal parameters")
    ne, ni = common.pop_size(cfg, "E"), common.pop_size(cfg, "I")
    lo, hi = common.uniform(common.population(cfg, "E").get("v_init"), "E.v_init")
    if common.uniform(common.population(cfg, "I").get("v_init"), "I.v_init") != (lo, hi):
        raise ValueError("coba.py: expected the same v_init for E and I")
    ns = {
        "taum": p["tau_m"] * ms, "taue": p["tau_syn_ex"] * ms, "taui": p["tau_syn_in"] * ms,
        "Vt": p["v_threshold"] * mV, "Vr": p["v_reset"] * mV, "El": p["v_rest"] * mV,
        "Erev_exc": p.get("e_ex", 0.0) * mV, "Erev_inh": p.get("e_in", -80.0) * mV,
        "I": p.get("i_e", 0.0) * mV, "vlo": lo * mV, "vhi": hi * mV,
    }
    eqs = """
    dv/dt  = (ge*(Erev_exc-v)+gi*(Erev_inh-v)-(v-El) + I)*(1./taum) : volt (unless refractory)
    dge/dt = -ge/taue : 1
    dgi/dt = -gi/taui : 1
    """
    P = b2.NeuronGroup(ne + ni, eqs, threshold="v>Vt", reset="v = Vr",
                       refractory=p["refractory_period"] * ms, method="euler", namespace=ns)
    P.v = "vlo + rand() * (vhi - vlo)"
    syns = []
    for src, sl, var in (("E", slice(0, ne), "ge"), ("I", slice(ne, ne + ni), "gi")):
        prs = [common.projection(cfg, src, tgt) for tgt in ("E", "I")]
        probs = {pr["p"] for pr in prs}
        weights = {abs(common.constant(pr["weight"], "weight")) for pr in prs}
        delays = {common.brian2_delay_ms(cfg, pr) for pr in prs}
        if any(pr["rule"] != "fixed_probability" for pr in prs) or len(probs) != 1 or \
                len(weights) != 1 or len(delays) != 1:
            raise ValueError(f"coba.py: {src}->E and {src}->I must be one fixed_probability rule")
        # conductance increments are magnitudes (n4d: an inhibitory weight is
        # negative and adds its magnitude to gi)
        S = b2.Synapses(P[sl], P, on_pre=f"{var} += w_{var}", namespace={f"w_{var}": weights.pop()})
        S.connect(p=probs.pop())
        d = delays.pop()
        if d > 0:
            S.delay = d * ms
        syns.append(S)
    mon = b2.SpikeMonitor(P, record=False)
    return {"neurons": ne + ni, "monitor": mon, "synapses": syns, "objects": [P, mon] + syns}


if __name__ == "__main__":
    sys.exit(common.main("coba", make_network))
