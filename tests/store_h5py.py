#!/usr/bin/env python3
"""h5py reads what n4d writes (docs/storage.md): the SONATA spike file
(/spikes/<population>/{timestamps, node_ids}, sorting by_time), the state
report (/report/<population>/{data, mapping}), and the /nodes and /edges of a
saved model and a checkpoint, whose edges (source, target, weight,
delay) equal the model's synapses read through the API. Usage: store_h5py.py GENERATOR OUTDIR.
Exits 77 (skipped) when h5py is missing."""
import json
import os
import subprocess
import sys

try:
    import h5py
    import numpy as np
except ImportError as e:
    print("SKIP: h5py is not available:", e)
    sys.exit(77)

gen, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
rc = subprocess.call([gen, out])
if rc != 0:
    sys.exit(rc)
exp = json.load(open(os.path.join(out, "expected.json")))


def check(cond, what):
    if not cond:
        print("FAIL:", what)
        sys.exit(1)


with h5py.File(os.path.join(out, "spikes.h5"), "r") as f:
    check(f.attrs["magic"] == 0x0A7A, "spikes: root magic")
    check(list(f.attrs["version"]) == [0, 1], "spikes: root version")
    total = 0
    for pop, e in exp["populations"].items():
        g = f["spikes"][pop]
        t = g["timestamps"][()]
        ids = g["node_ids"][()]
        check(len(t) == len(ids) == e["spikes"], "%s: %d spikes, expected %d" % (pop, len(t), e["spikes"]))
        check(t.dtype == np.float64 and ids.dtype == np.uint64, "%s: dtypes" % pop)
        check(np.all(np.diff(t) >= 0), "%s: timestamps sorted" % pop)
        check(np.all(ids < e["n"]), "%s: node ids below the population size" % pop)
        check(np.all(t < exp["steps"] * exp["dt"] + 1e-9), "%s: timestamps within the run" % pop)
        enum = h5py.check_enum_dtype(g.attrs.get_id("sorting").dtype)
        check(enum is not None and g.attrs["sorting"] == enum["by_time"], "%s: sorting by_time" % pop)
        check(g["timestamps"].attrs["units"] == "ms", "%s: units" % pop)
        total += len(t)
    check(total == exp["total_spikes"], "total spikes")
    rep = f["report"]["exc"]
    data = rep["data"][()]
    check(data.shape == (exp["steps"] // exp["report_every"] + 1, 2), "exc report shape %s" % (data.shape,))
    check(list(rep["mapping"]["node_ids"][()]) == [0, 1], "exc report node ids")
    check(np.all(np.isfinite(data)), "report values finite")
    tm = rep["mapping"]["time"][()]
    check(abs(tm[2] - exp["report_every"] * exp["dt"]) < 1e-12, "report time step")
    inh = f["report"]["inh"]
    check(list(inh["mapping"]["node_ids"][()]) == [exp["report_ids"][2]], "inh report node ids")

# The model's synapses read through the API (n4d_model_get_synapses): source
# population, local id, target population, local id, weight, delay (ms).
api = np.loadtxt(os.path.join(out, "synapses.txt"), ndmin=2)
check(len(api) == exp["synapses"], "synapses.txt: %d synapses, expected %d" % (len(api), exp["synapses"]))
pops = list(exp["populations"])


def text(x):
    """An attribute string (fixed-length strings read as bytes)."""
    return x.decode() if isinstance(x, bytes) else str(x)


def edge_table(src, tgt, w, d):
    """Rows (source, target, delay, weight) in one canonical order."""
    t = np.rec.fromarrays([np.asarray(src, np.uint64), np.asarray(tgt, np.uint64),
                           np.asarray(d, np.float32), np.asarray(w, np.float32)],
                          names="s,t,d,w")
    return np.sort(t, order=["s", "t", "d", "w"])


compared = 0
for name in ("model.h5", "checkpoint.h5"):
    with h5py.File(os.path.join(out, name), "r") as f:
        check(f.attrs["magic"] == 0x0A7A, name + ": magic")
        nsyn = 0
        for gname, e in f["edges"].items():
            src = e["source_node_id"][()]
            tgt = e["target_node_id"][()]
            w = e["0"]["syn_weight"][()]
            d = e["0"]["delay"][()]
            check(len(src) == len(tgt) == len(w) == len(d), name + ": edge columns")
            check(np.all(d > 0) and np.all(np.isfinite(w)), name + ": delays and weights")
            # every edge is one of the model's synapses with its weight and
            # delay, and every synapse of the population pair is there
            a = pops.index(text(e["source_node_id"].attrs["node_population"]))
            b = pops.index(text(e["target_node_id"].attrs["node_population"]))
            sel = api[(api[:, 0] == a) & (api[:, 2] == b)]
            got, want = edge_table(src, tgt, w, d), edge_table(sel[:, 1], sel[:, 3], sel[:, 4], sel[:, 5])
            check(len(got) == len(want), "%s %s: %d edges, the model has %d" % (name, gname, len(got), len(want)))
            bad = np.flatnonzero(got != want)
            check(len(bad) == 0, "%s %s: %d edges differ from the model's synapses, first %s, model %s"
                  % (name, gname, len(bad), got[bad[0]] if len(bad) else "", want[bad[0]] if len(bad) else ""))
            compared += len(got)
            check(len(np.unique(d)) > 5 and np.any(w < 0) == (b == 0 and a == 1),
                  "%s %s: mixed delays, inhibitory weights negative" % (name, gname))
            r = e["indices"]["source_to_target"]["node_id_to_range"][()]
            check(r.shape[1] == 2, name + ": node_id_to_range shape")
            nsyn += len(src)
        check(nsyn == exp["synapses"], name + ": %d edges, expected %d" % (nsyn, exp["synapses"]))
        for pop, e in exp["populations"].items():
            n = f["nodes"][pop]
            check(len(n["node_id"]) == e["n"] and len(n["0"]["x"]) == e["n"], name + ": nodes of " + pop)
        desc = json.loads(f["n4d"]["description"][()])
        check([p["name"] for p in desc["populations"]] == ["exc", "inh"], name + ": description")
        if name == "checkpoint.h5":
            st = f["n4d"]["state"]
            check(st.attrs["step"] == exp["steps"], "checkpoint step")
            check("%016x" % st.attrs["checksum"] == exp["checksum"], "checkpoint checksum")
            check(len(st["rec_ids"]) == exp["total_spikes"], "checkpoint recorded spikes")

check(compared == 2 * exp["synapses"], "%d edges compared" % compared)
print("h5py read the spike file, the report, the model and the checkpoint; %d edges equal "
      "the model's synapses (weight, delay)" % compared)
