"""GPUAccelerator: the reference's CuPy accelerator as n4d's GPU array API
(include/n4d/gpu.h), which runs on the CPU without CUDA, a driver or a device."""

import numpy as np

from ..errors import UnsupportedError
from ..gpu import Gpu

_LIF_KEYS = ("tau_m", "v_rest", "v_threshold", "v_reset", "dt")


class GPUAccelerator:
    """``GPUAccelerator(use_gpu=True, device_id=0)``: an n4d_gpu handle
    (n4d.Gpu); without a usable GPU every call runs n4d's CPU path and
    ``is_gpu_available()`` is False (``info["reason"]`` says why)."""

    def __init__(self, use_gpu=True, device_id=0):
        self.use_gpu = bool(use_gpu)
        self.device_id = int(device_id)
        self.gpu = Gpu(use_gpu=self.use_gpu, device=self.device_id)

    @property
    def info(self):
        return self.gpu.info

    def is_gpu_available(self):
        """n4d_gpu_is_available."""
        return self.gpu.is_available

    def vectorized_lif_update(self, v_membrane, synaptic_input, external_input,
                              refractory_mask, params, dt=None):
        """n4d_gpu_lif_update: V' = V + (-(V - v_rest) + I_syn + I_ext) / tau_m * dt,
        spike and reset at v_threshold, refractory neurons held. ``params``
        keys tau_m, v_rest, v_threshold, v_reset, dt (others ignored); dt
        defaults to 1 ms. Returns (v_new float32, spikes bool)."""
        p = {k: float(params[k]) for k in _LIF_KEYS if k in params}
        if dt is not None:
            p["dt"] = float(dt)
        v_new, spikes, _ = self.gpu.lif_update(v_membrane, synaptic_input, external_input,
                                               refractory_mask, **p)
        return v_new, spikes

    def sparse_synapse_matmul(self, spike_vector, weight_matrix):
        """n4d_gpu_sparse_synapse_matmul: currents = W s for a scipy sparse (or
        any object with indptr, indices, data, shape) W of targets x sources and
        a spike vector s (nonzero = spiked). Returns float32 currents."""
        if not hasattr(weight_matrix, "indptr"):
            if hasattr(weight_matrix, "tocsr"):
                weight_matrix = weight_matrix.tocsr()
            else:
                import scipy.sparse
                weight_matrix = scipy.sparse.csr_matrix(np.asarray(weight_matrix))
        return self.gpu.sparse_synapse_matmul(weight_matrix, np.asarray(spike_vector) != 0)

    def benchmark_vs_cpu(self, operation="lif_update", array_sizes=(1000, 10000, 100000),
                         n_iterations=100):
        """n4d_gpu_benchmark: mean seconds per iteration on the CPU path and on
        the GPU (NaN without one) for each size. Returns array_sizes,
        cpu_times, gpu_times, gpu_times_with_transfers, speedups (NaN without a
        GPU), gpu_available, results_match, device and note."""
        if operation != "lif_update":
            raise UnsupportedError("benchmark_vs_cpu: operation %r is not benchmarked by n4d "
                                   "(only 'lif_update')" % (operation,), -9, "unsupported")
        r = self.gpu.benchmark(sizes=list(array_sizes), iterations=n_iterations)
        return {"operation": operation, "array_sizes": [int(s) for s in r["sizes"]],
                "cpu_times": r["cpu_seconds"].tolist(), "gpu_times": r["gpu_seconds"].tolist(),
                "gpu_times_with_transfers": r["gpu_seconds_with_transfers"].tolist(),
                "speedups": r["speedups"].tolist(),
                "speedups_with_transfers": r["speedups_with_transfers"].tolist(),
                "gpu_available": r["gpu_available"], "results_match": r["results_match"],
                "device": r["device"], "note": r["note"]}

    def get_memory_usage(self):
        """n4d_gpu_memory_usage in MB (MiB): used, total, free, percent, cached_bytes
        (all 0 on the CPU path)."""
        m = self.gpu.memory_usage()
        return {"used": m["used_mb"], "total": m["total_mb"], "free": m["free_mb"],
                "percent": m["percent"], "cached_bytes": m["cached_bytes"],
                "on_gpu": m["on_gpu"]}

    def clear_memory(self):
        """n4d_gpu_clear_memory: frees the cached device buffers; returns their bytes."""
        return self.gpu.clear_memory()

    def close(self):
        self.gpu.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
