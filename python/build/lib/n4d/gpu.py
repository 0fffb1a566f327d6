"""The GPU array API (include/n4d/gpu.h): a thin wrapper of n4d_gpu.

Without libn4d_cuda.so, a driver or a device, a Gpu runs every operation on
the CPU and says why (``Gpu().info["reason"]``); the LIF update gives the
same bits on both paths.
"""

import ctypes
from ctypes import POINTER, byref, c_double, c_float, c_int32, c_uint8, c_uint64

import numpy as np

from . import _lib
from ._lib import lib, new
from .core import _Context, _check, _error, _s, _set_fields, _Handle
from .errors import InvalidArgError


def device_count():
    """Usable CUDA devices (0 without the CUDA library, a driver or a device)."""
    return lib().n4d_gpu_device_count()


def _f32(a, n=None, what="array"):
    a = np.ascontiguousarray(a, dtype=np.float32)
    if n is not None and a.size != n:
        raise InvalidArgError("%s: %d entries expected, got %d" % (what, n, a.size), -1,
                              "invalid argument")
    return a


def _p(a, ct):
    return None if a is None else a.ctypes.data_as(POINTER(ct))


class Gpu(_Handle):
    """An n4d_gpu handle: a CUDA device, or the CPU fallback.

    ``use_gpu=False`` forces the CPU; ``require=True`` raises
    (n4d.NotBuiltError / n4d.NoDeviceError) instead of falling back."""

    _kind = "gpu"

    def __init__(self, use_gpu=True, device=0, require=False):
        self._ctx = _Context()
        opt = new(_lib.n4d_gpu_options, "n4d_gpu_options_init")
        opt.use_gpu, opt.device_id, opt.require_gpu = int(bool(use_gpu)), int(device), \
            int(bool(require))
        h = ctypes.c_void_p()
        st = lib().n4d_gpu_create(self._ctx.h, byref(opt), byref(h))
        if st < 0:
            err = _error(st, self._ctx.h)
            self._ctx.close()
            raise err
        self._h = h.value
        self._destroy = lib().n4d_gpu_destroy

    def _c(self, status):
        return _check(status, self._h)

    @property
    def is_available(self):
        """True when the handle runs on a GPU."""
        return bool(lib().n4d_gpu_is_available(self._handle))

    @property
    def info(self):
        i = new(_lib.n4d_gpu_info)
        self._c(lib().n4d_gpu_get_info(self._handle, byref(i)))
        out = {f: getattr(i, f) for f, _ in i._fields_ if f != "struct_size"}
        out["name"], out["reason"] = _s(i.name), _s(i.reason)
        out["on_gpu"] = bool(i.on_gpu)
        return out

    def select_device(self, device):
        self._c(lib().n4d_gpu_select_device(self._handle, int(device)))

    def memory_usage(self):
        m = new(_lib.n4d_gpu_memory)
        self._c(lib().n4d_gpu_memory_usage(self._handle, byref(m)))
        out = {f: getattr(m, f) for f, _ in m._fields_ if f != "struct_size"}
        out["on_gpu"] = bool(m.on_gpu)
        return out

    def clear_memory(self):
        """Releases cached device buffers; returns their bytes."""
        n = c_uint64()
        self._c(lib().n4d_gpu_clear_memory(self._handle, byref(n)))
        return n.value

    def lif_update(self, v, i_syn=None, i_ext=None, refractory=None, *, out=None, **params):
        """One vectorised LIF step (tau_m, v_rest, v_threshold, v_reset, dt keywords;
        4D Neural Cognition's defaults). Returns (v_new, spikes bool array, n_spikes);
        ``out=v`` updates v in place (v must then be a float32 contiguous array)."""
        v = _f32(v, what="v")
        n = v.size
        i_syn = None if i_syn is None else _f32(i_syn, n, "i_syn")
        i_ext = None if i_ext is None else _f32(i_ext, n, "i_ext")
        if refractory is not None:
            refractory = np.ascontiguousarray(refractory, dtype=np.uint8)
            if refractory.size != n:
                raise InvalidArgError("refractory: %d entries expected" % n, -1,
                                      "invalid argument")
        p = new(_lib.n4d_gpu_lif_params, "n4d_gpu_lif_params_init")
        _set_fields(p, {k: float(x) for k, x in params.items()}, "lif params")
        v_out = np.empty_like(v) if out is None else out
        if v_out.dtype != np.float32 or not v_out.flags.c_contiguous or v_out.size != n:
            raise InvalidArgError("out: a contiguous float32 array of %d entries" % n, -1,
                                  "invalid argument")
        spikes = np.empty(n, np.uint8)
        count = c_uint64()
        self._c(lib().n4d_gpu_lif_update(self._handle, byref(p), n, _p(v, c_float),
                                         _p(i_syn, c_float), _p(i_ext, c_float),
                                         _p(refractory, c_uint8), _p(v_out, c_float),
                                         _p(spikes, c_uint8), byref(count)))
        return v_out, spikes.astype(bool), count.value

    @staticmethod
    def _csr(a):
        """(csr struct, arrays kept alive) from a scipy.sparse-like object with
        indptr/indices/data/shape, or a tuple (row_ptr, col_idx, values, shape)."""
        if hasattr(a, "indptr"):
            rp, ci, vals, shape = a.indptr, a.indices, a.data, a.shape
        else:
            rp, ci, vals, shape = a
        rp = np.ascontiguousarray(rp, np.int32)
        ci = np.ascontiguousarray(ci, np.int32)
        vals = np.ascontiguousarray(vals, np.float32)
        c = new(_lib.n4d_gpu_csr)
        c.rows, c.cols, c.nnz = int(shape[0]), int(shape[1]), ci.size
        c.row_ptr, c.col_idx, c.values = _p(rp, c_int32), _p(ci, c_int32), _p(vals, c_float)
        return c, (rp, ci, vals)

    def spmv(self, a, x):
        """y = A x for a CSR matrix A (see _csr)."""
        c, keep = self._csr(a)
        x = _f32(x, c.cols, "x")
        y = np.empty(c.rows, np.float32)
        self._c(lib().n4d_gpu_spmv(self._handle, byref(c), _p(x, c_float), _p(y, c_float)))
        del keep
        return y

    def sparse_synapse_matmul(self, weights, spikes):
        """currents = W s (W targets x sources in CSR, s the spiking sources)."""
        c, keep = self._csr(weights)
        s = np.ascontiguousarray(spikes, dtype=np.uint8)
        if s.size != c.cols:
            raise InvalidArgError("spikes: %d entries expected" % c.cols, -1, "invalid argument")
        y = np.empty(c.rows, np.float32)
        self._c(lib().n4d_gpu_sparse_synapse_matmul(self._handle, byref(c), _p(s, c_uint8),
                                                    _p(y, c_float)))
        del keep
        return y

    def gemm_batched(self, a, b, c=None, alpha=1.0, beta=0.0):
        """C_b = alpha A_b B_b + beta C_b for stacks a (batch, m, k), b (batch, k, n)."""
        a = np.ascontiguousarray(a, np.float32)
        b = np.ascontiguousarray(b, np.float32)
        if a.ndim == 2:
            a = a[None]
        if b.ndim == 2:
            b = b[None]
        if a.ndim != 3 or b.ndim != 3 or a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
            raise InvalidArgError("gemm_batched: shapes %r x %r do not fit" % (a.shape, b.shape),
                                  -1, "invalid argument")
        batch, m, k = a.shape
        n = b.shape[2]
        if c is None:
            out = np.zeros((batch, m, n), np.float32)
        else:
            out = np.array(c, dtype=np.float32, order="C").reshape(batch, m, n)
        g = new(_lib.n4d_gpu_gemm, "n4d_gpu_gemm_init")
        g.m, g.n, g.k, g.batch, g.alpha, g.beta = m, n, k, batch, alpha, beta
        g.a, g.b, g.c = _p(a, c_float), _p(b, c_float), _p(out, c_float)
        self._c(lib().n4d_gpu_gemm_batched(self._handle, byref(g)))
        return out

    def benchmark(self, sizes=(1000, 10000, 100000), iterations=100, cpu_threads=1, seed=1):
        """benchmark_vs_cpu of the LIF update: a dict of per-size arrays and flags."""
        sz = np.ascontiguousarray(sizes, np.uint64)
        k = sz.size
        o = new(_lib.n4d_gpu_benchmark_options, "n4d_gpu_benchmark_options_init")
        o.sizes, o.n_sizes = _p(sz, c_uint64), k
        o.iterations, o.cpu_threads, o.seed = int(iterations), int(cpu_threads), int(seed)
        arrays = {f: np.zeros(k, np.float64) for f in
                  ("cpu_seconds", "gpu_seconds", "gpu_seconds_with_transfers", "speedups",
                   "speedups_with_transfers")}
        echo = np.zeros(k, np.uint64)
        r = new(_lib.n4d_gpu_benchmark_result)
        r.sizes = _p(echo, c_uint64)
        for f, a in arrays.items():
            setattr(r, f, _p(a, c_double))
        self._c(lib().n4d_gpu_benchmark(self._handle, byref(o), byref(r)))
        arrays.update(sizes=echo, gpu_available=bool(r.gpu_available),
                      results_match=r.results_match, device=_s(r.device), note=_s(r.note))
        return arrays

    def close(self):
        h, self._h = self._h, None
        if h:
            self._destroy(h)
            self._ctx.close()
