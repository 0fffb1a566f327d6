#!/usr/bin/python3
"""Brian2 C++ standalone peer of examples/configs/stdp_song.json: Brian2's own
STDP example (examples/synapses/STDP.py; Song, Miller & Abbott 2000): N
Poisson inputs at F Hz onto one integrate-and-fire neuron through additive
all-to-all STDP synapses, with every parameter read from the n4d config.

    /usr/bin/python3 bench/brian2/song.py --config examples/configs/stdp_song.json --threads 0

The example's equations are kept as they are:

    dv/dt  = (ge * (Ee - vr) + El - v) / taum      (method 'euler')
    dge/dt = -ge / taue
    on_pre:  ge += w; Apre += dApre; w = clip(w + Apost, 0, gmax)
    on_post: Apost += dApost; w = clip(w + Apre, 0, gmax)

n4d's lif_exp takes its input in mV, dV/dt = (-(V - v_rest) + ge_n4d) / tau_m,
so ge_n4d = ge * (Ee - vr) and an n4d weight W (mV) is the example's weight
w = W / (Ee - vr) with Ee = 0 mV (the example's reversal potential, the one
constant the n4d config cannot hold) and vr = v_reset: Wmax 0.6 mV is the
example's gmax 0.01. The STDP parameters map as NEST's stdp_synapse:
taupre = tau_plus, taupost = tau_minus, dApre = lambda * gmax,
dApost = -alpha * lambda * gmax (the example's -dApre * taupre / taupost *
1.05 with equal time constants). The example leaves v at 0 (one spike at
t = 0); this script starts it at the config's v_init (default v_rest = El).

Prints one JSON line (see common.py) with, besides the timing, the final
weights: frac_low (fraction of w < 0.1 gmax), frac_high (> 0.9 gmax),
w_mean (relative to gmax), and post_rate_hz, the rate of the post neuron
(also rate_hz)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

EE_MV = 0.0  # the example's excitatory reversal potential


def song_params(cfg):
    """The example's parameters from the n4d config (checked for its form)."""
    model, p = common.pop_params(cfg, "post")
    if model != "lif_exp":
        raise ValueError("song.py: expected a lif_exp population 'post'")
    src = common.population(cfg, "in")
    if src.get("model") != "parrot":
        raise ValueError("song.py: expected a parrot population 'in'")
    pr = common.projection(cfg, "in", "post")
    if pr["rule"] != "all_to_all":
        raise ValueError("song.py: expected an all_to_all projection in->post")
    syn = pr.get("synapse", {})
    if syn.get("model") != "stdp" or syn.get("pairing", "all_to_all") != "all_to_all" or \
            float(syn.get("mu_plus", 0.0)) != 0.0 or float(syn.get("mu_minus", 0.0)) != 0.0:
        raise ValueError("song.py: expected additive all-to-all stdp on in->post")
    inputs = [i for i in cfg.get("inputs", []) if i["target"] == "in"]
    if len(inputs) != 1 or inputs[0]["type"] != "poisson" or \
            int(inputs[0].get("n_sources", 1)) != 1 or float(inputs[0].get("weight", 1.0)) <= 0:
        raise ValueError("song.py: expected one Poisson input of one source onto 'in'")
    vr = p["v_reset"]
    scale = EE_MV - vr  # mV per unit of the example's ge
    wmax = float(syn["Wmax"])
    lo, hi = common.uniform(pr["weight"], "in->post.weight")
    v_init = common.population(cfg, "post").get("v_init", p["v_rest"])
    return {
        "N": common.pop_size(cfg, "in"), "F": float(inputs[0]["rate"]),
        "taum": p["tau_m"], "taue": p["tau_syn_ex"], "vt": p["v_threshold"], "vr": vr,
        "El": p["v_rest"], "Ee": EE_MV, "refractory": p.get("refractory_period", 0.0),
        "gmax": wmax / scale, "w_lo": lo / scale, "w_hi": hi / scale,
        "taupre": float(syn["tau_plus"]), "taupost": float(syn["tau_minus"]),
        "lambda": float(syn["lambda"]), "alpha": float(syn["alpha"]),
        "v_init": common.constant(v_init, "post.v_init"),
        "delay_ms": common.brian2_delay_ms(cfg, pr),
    }


def make_network(cfg, b2):
    ms, mV, Hz = b2.ms, b2.mV, b2.Hz
    q = song_params(cfg)
    gmax = q["gmax"]
    dApre = q["lambda"] * gmax
    dApost = -q["alpha"] * q["lambda"] * gmax
    ns = {"taum": q["taum"] * ms, "taue": q["taue"] * ms, "Ee": q["Ee"] * mV, "vt": q["vt"] * mV,
          "vr": q["vr"] * mV, "El": q["El"] * mV, "taupre": q["taupre"] * ms,
          "taupost": q["taupost"] * ms, "gmax": gmax, "dApre": dApre, "dApost": dApost,
          "w_lo": q["w_lo"], "w_hi": q["w_hi"]}
    eqs = """
    dv/dt = (ge * (Ee-vr) + El - v) / taum : volt
    dge/dt = -ge / taue : 1
    """
    inp = b2.PoissonGroup(q["N"], rates=q["F"] * Hz)
    kw = {"refractory": q["refractory"] * ms} if q["refractory"] > 0 else {}
    post = b2.NeuronGroup(1, eqs, threshold="v>vt", reset="v = vr", method="euler",
                          namespace=ns, **kw)
    post.v = q["v_init"] * mV
    S = b2.Synapses(inp, post,
                    """w : 1
                       dApre/dt = -Apre / taupre : 1 (event-driven)
                       dApost/dt = -Apost / taupost : 1 (event-driven)""",
                    on_pre="""ge += w
                              Apre += dApre
                              w = clip(w + Apost, 0, gmax)""",
                    on_post="""Apost += dApost
                               w = clip(w + Apre, 0, gmax)""",
                    namespace=ns)
    S.connect()
    S.w = "w_lo + rand() * (w_hi - w_lo)"
    if q["delay_ms"] > 0:
        S.delay = q["delay_ms"] * ms
    mon = b2.SpikeMonitor(post, record=False)
    return {"neurons": 1, "monitor": mon, "synapses": [S], "objects": [inp, post, S, mon],
            "arrays": {"w": S.variables["w"]}, "extra": {"gmax": gmax}}


def weight_stats(w, wmax):
    """Final weights relative to wmax: fractions below 0.1 and above 0.9,
    and the mean."""
    n = len(w)
    if n == 0:
        return {"frac_low": None, "frac_high": None, "w_mean": None}
    return {"frac_low": sum(1 for x in w if x < 0.1 * wmax) / n,
            "frac_high": sum(1 for x in w if x > 0.9 * wmax) / n,
            "w_mean": sum(w) / n / wmax}


def summarize(arrays, extra, figures):
    out = weight_stats(arrays["w"], extra["gmax"])
    out["post_rate_hz"] = figures["rate_hz"]
    return out


if __name__ == "__main__":
    sys.exit(common.main("song", make_network, summarize))
