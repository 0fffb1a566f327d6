#!/usr/bin/python3
"""Brian2 C++ standalone peer of bench/configs/cuba_40k_stdp.json: the CUBA
network of cuba.py (the same neurons, E->I, I->E and I->I) with the E->E
synapses plastic: additive all-to-all STDP with traces on the pre and the
post side and weights clipped to [0, Wmax], every parameter read from the
n4d config (NEST stdp_synapse semantics with mu_plus = mu_minus = 0):

    on_pre:  ge += w; Apre += dApre; w = clip(w + Apost, 0, Wmax)
    on_post: Apost += dApost; w = clip(w + Apre, 0, Wmax)
    dApre = lambda * Wmax, dApost = -alpha * lambda * Wmax,
    taupre = tau_plus, taupost = tau_minus (Apre, Apost event-driven)

    /usr/bin/python3 bench/brian2/cuba_stdp.py --config bench/configs/cuba_40k_stdp.json --threads 0

E->E and E->I are two Synapses objects here (one in cuba.py), each drawn
with the config's p. Prints one JSON line (see common.py) with, besides the
timing, the final E->E weights relative to Wmax: frac_low (< 0.1),
frac_high (> 0.9) and w_mean."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import cuba  # noqa: E402
import song  # noqa: E402


def stdp_params(pr):
    syn = pr.get("synapse", {})
    if syn.get("model") != "stdp" or syn.get("pairing", "all_to_all") != "all_to_all" or \
            float(syn.get("mu_plus", 0.0)) != 0.0 or float(syn.get("mu_minus", 0.0)) != 0.0:
        raise ValueError(f"cuba_stdp.py: expected additive all-to-all stdp on {pr['name']}")
    return {"wmax": float(syn["Wmax"]), "lambda": float(syn["lambda"]),
            "alpha": float(syn["alpha"]), "taupre": float(syn["tau_plus"]),
            "taupost": float(syn["tau_minus"])}


def connect_static(b2, cfg, src_group, tgt_group, pr, var):
    if pr["rule"] != "fixed_probability":
        raise ValueError(f"cuba_stdp.py: {pr['name']} must be fixed_probability")
    w = common.constant(pr["weight"], f"{pr['name']}.weight")
    w = abs(w) if var == "ge" else -abs(w)
    S = b2.Synapses(src_group, tgt_group, on_pre=f"{var} += w_{var}",
                    namespace={f"w_{var}": w * b2.mV})
    S.connect(p=pr["p"])
    d = common.brian2_delay_ms(cfg, pr)
    if d > 0:
        S.delay = d * b2.ms
    return S


def make_network(cfg, b2):
    ms, mV = b2.ms, b2.mV
    P, ne, ni = cuba.make_group(cfg, b2)
    E, I = P[:ne], P[ne:]
    ee = common.projection(cfg, "E", "E")
    q = stdp_params(ee)
    if ee["rule"] != "fixed_probability":
        raise ValueError("cuba_stdp.py: E->E must be fixed_probability")
    wmax = q["wmax"] * mV
    ns = {"wmax": wmax, "dApre": q["lambda"] * wmax, "dApost": -q["alpha"] * q["lambda"] * wmax,
          "taupre": q["taupre"] * ms, "taupost": q["taupost"] * ms}
    S_ee = b2.Synapses(E, E,
                       """w : volt
                          dApre/dt = -Apre / taupre : volt (event-driven)
                          dApost/dt = -Apost / taupost : volt (event-driven)""",
                       on_pre="""ge += w
                                 Apre += dApre
                                 w = clip(w + Apost, 0*volt, wmax)""",
                       on_post="""Apost += dApost
                                  w = clip(w + Apre, 0*volt, wmax)""",
                       namespace=ns)
    S_ee.connect(p=ee["p"])
    S_ee.w = abs(common.constant(ee["weight"], "E->E.weight")) * mV
    d = common.brian2_delay_ms(cfg, ee)
    if d > 0:
        S_ee.delay = d * ms
    syns = [S_ee, connect_static(b2, cfg, E, I, common.projection(cfg, "E", "I"), "ge")]
    prs = [common.projection(cfg, "I", tgt) for tgt in ("E", "I")]
    if len({pr["p"] for pr in prs}) == 1 and len({common.constant(pr["weight"], "w") for pr in prs}) == 1 \
            and len({common.brian2_delay_ms(cfg, pr) for pr in prs}) == 1:
        syns.append(connect_static(b2, cfg, I, P, prs[0], "gi"))  # as cuba.py: I -> all
    else:
        syns += [connect_static(b2, cfg, I, E, prs[0], "gi"), connect_static(b2, cfg, I, I, prs[1], "gi")]
    mon = b2.SpikeMonitor(P, record=False)
    return {"neurons": ne + ni, "monitor": mon, "synapses": syns, "objects": [P, mon] + syns,
            "arrays": {"w": S_ee.variables["w"]}, "extra": {"wmax_v": float(wmax)}}


def summarize(arrays, extra, figures):
    return song.weight_stats(arrays["w"], extra["wmax_v"])


if __name__ == "__main__":
    sys.exit(common.main("cuba_stdp", make_network, summarize))
