#!/usr/bin/python3
"""Writes the benchmark configs of bench/configs/ (the JSON files are
committed; rerun this after changing a parameter here so that they stay in
sync):

    /usr/bin/python3 bench/configs/make_configs.py

cuba_4k / cuba_40k / cuba_400k  Vogels-Abbott CUBA exactly as Brian2's CUBA
    example (examples/CUBA.py), scaled with p = 80 / N so every neuron keeps
    ~80 inputs (p = 0.02 at 4k).
coba_4k       Vogels-Abbott COBA as the Brian2 C++-standalone COBA benchmark
    (taum 20, taue 5, taui 10, Vt -50, Vr = El = -60, Ee 0, Ei -80,
    we 0.6, wi 6.7 relative to the leak, I = 20 mV, p 0.02, refractory 5).
brunel        Brunel (2000) model A, panel C (g = 5, nu_ext = 2 nu_thr):
    NE 10000, NI 2500, fixed in-degree CE = 1000, CI = 250, J 0.1 mV,
    delay 1.5 ms, delta synapses (the n4d `lif` model adds w * dt / tau_m
    to V per event, so w = J * tau_m / dt), external Poisson input of
    C_ext = CE sources per neuron.
microcircuit  Potjans & Diesmann (2014): 77,169 neurons, the published
    connection probabilities turned into fixed total numbers of synapses
    (as the NEST microcircuit example), PSC 87.8 pA -> 3.512 mV for lif_exp
    (R = tau_m / C_m = 40 MOhm), g = -4, L4E->L23E doubled, delays
    normal 1.5 ms (E) / 0.75 ms (I) with 50 % std, K_ext Poisson at 8 Hz.
nc_1k         a 1,000-neuron 4D Neural Cognition style model (lif, dt 1 ms,
    fixed_probability p = 0.01) driven by a constant sense-like input.
cuba_40k_stdp cuba_40k with additive all-to-all STDP on E->E (NEST
    stdp_synapse, mu_plus = mu_minus = 0): Wmax = 2 we = 3.24 mV, lambda
    0.005, alpha 1.05, tau_plus = tau_minus = 20 ms; weights start at we.
    Its Brian2 peer is bench/brian2/cuba_stdp.py.
"""
import json
import math
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def write(name, cfg):
    path = os.path.join(HERE, name + ".json")
    with open(path, "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    print("wrote", os.path.relpath(path))


def box(x, y, z, w):
    return {"x": list(x), "y": list(y), "z": list(z), "w": list(w)}


# ---- Vogels-Abbott CUBA ------------------------------------------------------

CUBA_PARAMS = {
    "tau_m": 20.0, "v_rest": -49.0, "v_reset": -60.0, "v_threshold": -50.0,
    "refractory_period": 5.0, "tau_syn_ex": 5.0, "tau_syn_in": 10.0,
}
WE_CUBA = 60 * 0.27 / 10   # 1.62 mV
WI_CUBA = -20 * 4.5 / 10   # -9 mV


def cuba(n, shape, z_split):
    """n neurons on a lattice `shape` = [X, Y, Z, 1]; E takes z < z_split."""
    X, Y, Z, W = shape
    ne, ni = X * Y * z_split, X * Y * (Z - z_split)
    assert ne + ni == n and ne == 4 * ni
    p = 80.0 / n
    proj = []
    for src, w, typ in (("E", WE_CUBA, "excitatory"), ("I", WI_CUBA, "inhibitory")):
        for tgt in ("E", "I"):
            proj.append({"name": f"{src}->{tgt}", "source": src, "target": tgt,
                         "rule": "fixed_probability", "p": p, "weight": round(w, 6),
                         "delay": 0.1, "type": typ})
    return {
        "name": f"cuba_{n // 1000}k",
        "dt": 0.1, "seed": 1, "duration": 1000,
        "lattice_shape": shape,
        "areas": [
            {"name": "exc", "coord_ranges": box((0, X - 1), (0, Y - 1), (0, z_split - 1), (0, 0))},
            {"name": "inh", "coord_ranges": box((0, X - 1), (0, Y - 1), (z_split, Z - 1), (0, 0))},
        ],
        "neuron_model": {"type": "lif_exp", "params_default": CUBA_PARAMS},
        "populations": [
            {"name": "E", "area": "exc", "count": ne, "v_init": {"uniform": [-60.0, -50.0]}},
            {"name": "I", "area": "inh", "count": ni, "v_init": {"uniform": [-60.0, -50.0]}},
        ],
        "projections": proj,
    }


def cuba_stdp():
    """cuba_40k with the E->E projection plastic (additive STDP)."""
    cfg = cuba(40000, [40, 40, 25, 1], 20)
    cfg["name"] = "cuba_40k_stdp"
    for pr in cfg["projections"]:
        if pr["name"] == "E->E":
            pr["synapse"] = {"model": "stdp", "tau_plus": 20.0, "tau_minus": 20.0,
                             "lambda": 0.005, "alpha": 1.05, "mu_plus": 0.0, "mu_minus": 0.0,
                             "Wmax": round(2 * WE_CUBA, 6), "pairing": "all_to_all"}
    return cfg


# ---- Vogels-Abbott COBA --------------------------------------------------------

def coba():
    cfg = cuba(4000, [20, 20, 10, 1], 8)
    cfg["name"] = "coba_4k"
    cfg["neuron_model"] = {"type": "lif_cond_exp", "params_default": {
        "tau_m": 20.0, "v_rest": -60.0, "v_reset": -60.0, "v_threshold": -50.0,
        "refractory_period": 5.0, "tau_syn_ex": 5.0, "tau_syn_in": 10.0,
        "e_ex": 0.0, "e_in": -80.0, "i_e": 20.0}}
    for pr in cfg["projections"]:
        pr["weight"] = 0.6 if pr["source"] == "E" else -6.7
    return cfg


# ---- Brunel (2000) ---------------------------------------------------------------

def brunel():
    NE, NI = 10000, 2500
    eps, g, eta, J, D = 0.1, 5.0, 2.0, 0.1, 1.5
    tau_m, dt, theta = 20.0, 0.1, 20.0
    CE, CI = int(eps * NE), int(eps * NI)
    w = J * tau_m / dt                        # lif: jump of w * dt / tau_m = J
    nu_thr = theta / (J * CE * tau_m) * 1e3   # Hz
    nu_ext = eta * nu_thr
    proj = []
    for src, k, wt, typ in (("E", CE, w, "excitatory"), ("I", CI, -g * w, "inhibitory")):
        for tgt in ("E", "I"):
            proj.append({"name": f"{src}->{tgt}", "source": src, "target": tgt,
                         "rule": "fixed_indegree", "indegree": k, "allow_multapses": False,
                         "weight": wt, "delay": D, "type": typ})
    return {
        "name": "brunel2000_C",
        "dt": dt, "seed": 1, "duration": 1000,
        "lattice_shape": [100, 125, 1, 1],
        "areas": [
            {"name": "exc", "coord_ranges": box((0, 99), (0, 99), (0, 0), (0, 0))},
            {"name": "inh", "coord_ranges": box((0, 99), (100, 124), (0, 0), (0, 0))},
        ],
        "neuron_model": {"type": "lif", "params_default": {
            "tau_m": tau_m, "v_rest": -70.0, "v_reset": -60.0, "v_threshold": -70.0 + theta,
            "refractory_period": 2.0}},
        "populations": [
            {"name": "E", "area": "exc", "count": NE, "v_init": {"uniform": [-70.0, -50.0]}},
            {"name": "I", "area": "inh", "count": NI, "v_init": {"uniform": [-70.0, -50.0]}},
        ],
        "projections": proj,
        "inputs": [
            {"type": "poisson", "target": "E", "rate": nu_ext, "n_sources": CE, "weight": w},
            {"type": "poisson", "target": "I", "rate": nu_ext, "n_sources": CE, "weight": w},
        ],
    }


# ---- Potjans & Diesmann (2014) ---------------------------------------------------

PD_POPS = ["L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I"]
PD_N = [20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948]
# connection probabilities, rows = target, columns = source (PD14 table 5)
PD_P = [
    [0.1009, 0.1689, 0.0437, 0.0818, 0.0323, 0.0, 0.0076, 0.0],
    [0.1346, 0.1371, 0.0316, 0.0515, 0.0755, 0.0, 0.0042, 0.0],
    [0.0077, 0.0059, 0.0497, 0.135, 0.0067, 0.0003, 0.0453, 0.0],
    [0.0691, 0.0029, 0.0794, 0.1597, 0.0033, 0.0, 0.1057, 0.0],
    [0.1004, 0.0622, 0.0505, 0.0057, 0.0831, 0.3726, 0.0204, 0.0],
    [0.0548, 0.0269, 0.0257, 0.0022, 0.06, 0.3158, 0.0086, 0.0],
    [0.0156, 0.0066, 0.0211, 0.0166, 0.0572, 0.0197, 0.0396, 0.2252],
    [0.0364, 0.001, 0.0034, 0.0005, 0.0277, 0.008, 0.0658, 0.1443],
]
PD_K_EXT = [1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100]


def microcircuit():
    C_m, tau_m = 250.0, 10.0                  # pF, ms
    psc = 87.8                                # pA
    w = round(psc * tau_m / C_m, 6)           # mV for lif_exp (R = tau_m / C_m)
    g, rel_std, bg_rate = -4.0, 0.1, 8.0
    d_exc, d_inh, d_rel = 1.5, 0.75, 0.5
    dt = 0.1
    shape = [150, 150, 1, len(PD_POPS)]
    assert max(PD_N) <= shape[0] * shape[1]
    areas, pops, proj, inputs = [], [], [], []
    for k, (name, n) in enumerate(zip(PD_POPS, PD_N)):
        areas.append({"name": name, "coord_ranges": box((0, shape[0] - 1), (0, shape[1] - 1), (0, 0), (k, k))})
        pops.append({"name": name, "area": name, "count": n,
                     "v_init": {"normal": {"mean": -58.0, "std": 10.0}}})
        inputs.append({"type": "poisson", "target": name, "rate": bg_rate,
                       "n_sources": PD_K_EXT[k], "weight": w})
    total = 0
    for t, tgt in enumerate(PD_POPS):
        for s, src in enumerate(PD_POPS):
            p = PD_P[t][s]
            if p <= 0:
                continue
            prod = float(PD_N[s]) * float(PD_N[t])
            # expected number of distinct pairs = p: the NEST microcircuit count
            n_syn = int(round(math.log(1.0 - p) / math.log((prod - 1.0) / prod)))
            total += n_syn
            exc = src.endswith("E")
            mean = w * (1.0 if exc else -g)
            if src == "L4E" and tgt == "L23E":
                mean *= 2.0
            dmean = d_exc if exc else d_inh
            proj.append({
                "name": f"{src}->{tgt}", "source": src, "target": tgt,
                "rule": "fixed_total_number", "n": n_syn,
                "weight": {"normal": {"mean": round(mean, 6), "std": round(rel_std * mean, 6), "min": 0.0}},
                "type": "excitatory" if exc else "inhibitory",
                "delay": {"normal": {"mean": dmean, "std": d_rel * dmean, "min": dt}},
            })
    print(f"microcircuit: {sum(PD_N)} neurons, {total} synapses")
    return {
        "name": "potjans_diesmann_2014",
        "dt": dt, "seed": 1, "duration": 100,
        "lattice_shape": shape,
        "areas": areas,
        "neuron_model": {"type": "lif_exp", "params_default": {
            "tau_m": tau_m, "v_rest": -65.0, "v_reset": -65.0, "v_threshold": -50.0,
            "refractory_period": 2.0, "tau_syn_ex": 0.5, "tau_syn_in": 0.5}},
        "populations": pops,
        "projections": proj,
        "inputs": inputs,
    }


# ---- 4D Neural Cognition style, 1,000 neurons -------------------------------------

def nc_1k():
    return {
        "model_version": 1,
        "dimensions": 4,
        "name": "nc_1k",
        "lattice_shape": [5, 5, 5, 8],
        "dt": 1.0, "seed": 42, "duration": 100000,
        "neuron_model": {"type": "LIF", "params_default": {
            "tau_m": 20.0, "v_rest": -65.0, "v_reset": -70.0, "v_threshold": -50.0,
            "refractory_period": 5.0}},
        "senses": {"vision": {"areal": "cortex", "w_index": 0, "input_size": [5, 5]}},
        "areas": [{"name": "cortex", "sense": "vision",
                   "coord_ranges": box((0, 4), (0, 4), (0, 4), (0, 7))}],
        "populations": [{"name": "cortex", "area": "cortex",
                         "v_init": {"uniform": [-70.0, -50.0]}}],
        "projections": [
            {"name": "recurrent", "source": "cortex", "target": "cortex",
             "rule": "fixed_probability", "p": 0.01, "allow_autapses": False,
             "weight": {"uniform": [-20.0, 20.0]}, "delay": {"uniform": [1.0, 3.0]}},
        ],
        "inputs": [{"type": "dc", "target": "cortex", "amplitude": 16.0}],
    }


if __name__ == "__main__":
    write("cuba_4k", cuba(4000, [20, 20, 10, 1], 8))
    write("cuba_40k", cuba(40000, [40, 40, 25, 1], 20))
    write("cuba_40k_stdp", cuba_stdp())
    write("cuba_400k", cuba(400000, [100, 100, 40, 1], 32))
    write("coba_4k", coba())
    write("brunel", brunel())
    write("microcircuit", microcircuit())
    write("nc_1k", nc_1k())
