#!/usr/bin/env python3
"""h5py reads what n4d writes (docs/storage.md): the SONATA spike file
(/spikes/<population>/{timestamps, node_ids}, sorting by_time), the state
report (/report/<population>/{data, mapping}), and the /nodes and /edges of a
saved model and a checkpoint. Usage: store_h5py.py GENERATOR OUTDIR.
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

for name in ("model.h5", "checkpoint.h5"):
    with h5py.File(os.path.join(out, name), "r") as f:
        check(f.attrs["magic"] == 0x0A7A, name + ": magic")
        nsyn = 0
        for e in f["edges"].values():
            src = e["source_node_id"][()]
            tgt = e["target_node_id"][()]
            w = e["0"]["syn_weight"][()]
            d = e["0"]["delay"][()]
            check(len(src) == len(tgt) == len(w) == len(d), name + ": edge columns")
            check(np.all(d > 0) and np.all(np.isfinite(w)), name + ": delays and weights")
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

print("h5py read the spike file, the report, the model and the checkpoint")
