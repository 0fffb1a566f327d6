#!/usr/bin/env python3
"""The GPU array API (include/n4d/gpu.h) with its CPU fallback: the
vectorised LIF update against numpy, the sparse synapse product against a
dense product, the benchmark against the CPU and the device memory.

    PYTHONPATH=python python3 examples/python/gpu_api.py [--cpu]
"""

import argparse

import numpy as np

import n4d

ap = argparse.ArgumentParser()
ap.add_argument("--cpu", action="store_true", help="use the CPU path even with a GPU")
a = ap.parse_args()

with n4d.Gpu(use_gpu=not a.cpu) as gpu:
    info = gpu.info
    print("running on %s%s" % (info["name"] or "cpu",
                               "" if info["on_gpu"] else " (%s)" % info["reason"]))
    rng = np.random.default_rng(1)
    n = 20000
    v = (rng.standard_normal(n) * 10 - 65).astype(np.float32)
    i_syn = rng.standard_normal(n).astype(np.float32)
    refr = rng.random(n) < 0.1
    v_new, spikes, count = gpu.lif_update(v, i_syn, None, refr, tau_m=20.0, v_rest=-65.0,
                                          v_threshold=-50.0, v_reset=-70.0, dt=1.0)
    ref = np.where(refr, v, v + (-(v - np.float32(-65)) + i_syn) / np.float32(20))
    ref = np.where(~refr & (ref >= -50), np.float32(-70), ref)
    print("LIF update of %d neurons: %d spikes, max |difference to numpy| %.2g mV"
          % (n, count, np.abs(v_new - ref).max()))

    m = 2000
    dense = np.where(rng.random((m, m)) < 0.01, rng.standard_normal((m, m)), 0).astype(np.float32)
    rows, cols = np.nonzero(dense)
    indptr = np.searchsorted(rows, np.arange(m + 1)).astype(np.int32)
    csr = (indptr, cols.astype(np.int32), dense[rows, cols], (m, m))
    s = rng.random(m) < 0.05
    cur = gpu.sparse_synapse_matmul(csr, s)
    print("sparse synapse product (%d x %d, %d synapses): max |difference to dense| %.2g"
          % (m, m, rows.size, np.abs(cur - dense @ s.astype(np.float32)).max()))

    b = gpu.benchmark(sizes=[1000, 10000, 100000], iterations=20)
    print("benchmark_vs_cpu (%s):" % (b["device"] if b["gpu_available"] else "CPU only: "
                                      + b["note"]))
    for k, size in enumerate(b["sizes"]):
        print("  %7d neurons: CPU %.3f ms, GPU %.3f ms, speed-up %.2f"
              % (size, b["cpu_seconds"][k] * 1e3, b["gpu_seconds"][k] * 1e3, b["speedups"][k]))
    mem = gpu.memory_usage()
    print("device memory: %.0f / %.0f MiB used, %d bytes cached; cleared %d bytes"
          % (mem["used_mb"], mem["total_mb"], mem["cached_bytes"], gpu.clear_memory()))
