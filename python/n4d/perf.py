"""Partitions, Z-order and locality, memory snapshots and optimisation: the
calls of include/n4d/partition.h, zorder.h and profile.h (memory part).

The model and sim methods (``Model.partition``, ``Model.partition_layout``,
``Model.target_jumps``, ``Model.optimize_memory``, ``Sim.optimize_memory``)
call the functions below; these are plain data in, plain data out.
"""

import ctypes
from collections import namedtuple
from ctypes import POINTER, byref, c_uint32, c_uint64

import numpy as np

from . import _lib
from ._lib import lib, new
from .errors import InvalidArgError

MiB = float(1 << 20)


def _s(b):
    return b.decode("utf-8", "replace") if b is not None else None


#: one box of a partitioning: inclusive corners (x, y, z, w), its neurons (user
#: ids, ascending) and their outgoing synapses
Box = namedtuple("Box", "index lo hi num_neurons num_synapses neurons")


class Partitioning(namedtuple("Partitioning",
                              "boxes partition_of neuron_stats synapse_stats balance_synapses")):
    """The result of n4d_partition_compute / n4d_partition_layout, copied into
    numpy: ``boxes`` (list of Box), ``partition_of`` (box index by user id),
    ``neuron_stats`` and ``synapse_stats`` (mean, std, min, max, imbalance =
    (max - min) / mean)."""

    def __len__(self):
        return len(self.boxes)


def _stats(b):
    return {"mean": b.mean, "std": b.std, "min": b.min, "max": b.max, "imbalance": b.imbalance}


def _partitioning(fn, handle_for_errors, *args):
    from .core import _check
    res = POINTER(_lib.n4d_partition_result)()
    _check(fn(*args, byref(res)), handle_for_errors)
    try:
        r = res.contents
        boxes = []
        for i in range(r.num_partitions):
            p = r.partitions[i]
            ids = np.ctypeslib.as_array(p.neurons, (p.num_neurons,)).copy() \
                if p.num_neurons else np.zeros(0, np.uint32)
            boxes.append(Box(i, tuple(p.lo), tuple(p.hi), p.num_neurons, p.num_synapses, ids))
        part_of = np.ctypeslib.as_array(r.partition_of, (r.num_neurons,)).copy() \
            if r.num_neurons else np.zeros(0, np.uint32)
        return Partitioning(boxes, part_of, _stats(r.neurons), _stats(r.synapses),
                            bool(r.balance_synapses))
    finally:
        lib().n4d_partition_result_destroy(res)


def partition(model, n, balance_synapses=False):
    """n4d_partition_compute: the built model's neurons in ``n`` boxes by
    recursive coordinate bisection (equal neurons, or neurons + synapses)."""
    opt = new(_lib.n4d_partition_options, "n4d_partition_options_init")
    opt.balance_synapses = int(bool(balance_synapses))
    h = model._handle
    return _partitioning(lib().n4d_partition_compute, h, h, int(n), byref(opt))


def partition_layout(model):
    """n4d_partition_layout: the boxes the model was built with (cpu-omp's work units)."""
    h = model._handle
    return _partitioning(lib().n4d_partition_layout, h, h)


# ---- Z-order and locality ---------------------------------------------------------

def morton_encode(xyzw):
    """4D Morton code(s) (n4d_morton_encode4) of one (x, y, z, w) or a (k, 4) array."""
    a = np.asarray(xyzw, dtype=np.uint32)
    L = lib()
    if a.ndim == 1:
        c = (c_uint32 * 4)(*[int(v) for v in a])
        return int(L.n4d_morton_encode4(c))
    a = np.ascontiguousarray(a.reshape(-1, 4))
    out = np.empty(a.shape[0], np.uint64)
    base = a.ctypes.data
    enc = L.n4d_morton_encode4
    for i in range(a.shape[0]):
        out[i] = enc(ctypes.cast(base + 16 * i, POINTER(c_uint32)))
    return out


def morton_decode(code):
    """(x, y, z, w) of a 4D Morton code (n4d_morton_decode4)."""
    c = (c_uint32 * 4)()
    lib().n4d_morton_decode4(int(code), c)
    return tuple(c)


def _seq(seq):
    a = np.ascontiguousarray(seq, dtype=np.uint64)
    return a, (a.ctypes.data_as(POINTER(c_uint64)) if a.size else None)


def _access_dict(s):
    return {f: getattr(s, f) for f, _ in s._fields_ if f != "struct_size"}


def access_pattern(seq):
    """n4d_access_pattern of an index sequence: jumps, mean_jump, max_jump,
    sequential_fraction, locality_score = 1 / (1 + mean_jump), lines and pages
    per access."""
    from .core import _check
    a, p = _seq(seq)
    s = new(_lib.n4d_access_stats)
    _check(lib().n4d_access_pattern(p, a.size, byref(s)))
    return _access_dict(s)


def locality_score(seq):
    """n4d_locality_score: 1 / (1 + mean |seq[k+1] - seq[k]|)."""
    a, p = _seq(seq)
    return lib().n4d_locality_score(p, a.size)


def target_jumps(model, space="internal"):
    """n4d_model_target_jumps: access statistics of the synapse targets of a
    built model, in its storage order ("internal") or in user ids ("user", the
    figures of a default lattice-order build)."""
    from .core import _check, _lookup
    sp = _lookup({"internal": 0, "user": 1}, space, "space")
    s = new(_lib.n4d_access_stats)
    h = model._handle
    _check(lib().n4d_model_target_jumps(h, sp, byref(s)), h)
    return _access_dict(s)


# ---- memory -------------------------------------------------------------------------

def _ctx_of(obj):
    """The n4d_context handle of a Model, Sim or Gpu."""
    from .core import Model, Sim
    if isinstance(obj, Sim):
        obj = obj.model
    if isinstance(obj, Model):
        obj._handle  # raises ClosedError when closed
        return obj._ctx.h
    ctx = getattr(obj, "_ctx", None)
    if ctx is None:
        raise InvalidArgError("memory_snapshot: a Model, Sim or Gpu expected, got %r" % (obj,),
                              -1, "invalid argument")
    return ctx.h


def tag_names():
    L = lib()
    return [_s(L.n4d_mem_tag_name(i)) for i in range(_lib.MEM_TAG_COUNT)]


class MemorySnapshot:
    """n4d_memory_snapshot: bytes per allocation tag of a context (a Model's,
    shared with its sims) at one moment. ``bytes`` is a dict by tag name."""

    def __init__(self, c_snapshot):
        self._c = c_snapshot

    @property
    def label(self):
        return _s(self._c.label)

    @property
    def total(self):
        return self._c.total

    @property
    def peak_total(self):
        return self._c.peak_total

    @property
    def bytes(self):
        return dict(zip(tag_names(), list(self._c.bytes)))

    def __repr__(self):
        return "<n4d.MemorySnapshot %r: %.3f MiB>" % (self.label, self.total / MiB)


def memory_snapshot(obj, label=None):
    from .core import _check
    h = _ctx_of(obj)
    s = new(_lib.n4d_mem_snapshot)
    _check(lib().n4d_memory_snapshot(h, None if label is None else str(label).encode(),
                                     byref(s)), h)
    return MemorySnapshot(s)


def memory_diff(before, after):
    """n4d_memory_diff: {"bytes": {tag: change}, "total": change} (after - before)."""
    from .core import _check
    d = new(_lib.n4d_mem_diff)
    _check(lib().n4d_memory_diff(byref(before._c), byref(after._c), byref(d)))
    return {"bytes": dict(zip(tag_names(), list(d.bytes))), "total": d.total}


def memory_report(snapshots):
    """n4d_memory_report: a table of the snapshots (MiB per tag, and the change
    from the first to the last)."""
    from .core import _check
    snaps = list(snapshots)
    if not snaps:
        raise InvalidArgError("memory_report: no snapshot", -1, "invalid argument")
    arr = (_lib.n4d_mem_snapshot * len(snaps))(*[s._c for s in snaps])
    n = ctypes.c_size_t()
    L = lib()
    _check(L.n4d_memory_report(arr, len(snaps), None, 0, byref(n)))
    buf = ctypes.create_string_buffer(n.value + 1)
    _check(L.n4d_memory_report(arr, len(snaps), buf, len(buf), byref(n)))
    return _s(buf.value)


OPTIMIZE_FLAGS = {"zorder": _lib.OPTIMIZE_ZORDER, "shrink": _lib.OPTIMIZE_SHRINK,
                  "history": _lib.OPTIMIZE_HISTORY, "compress": _lib.OPTIMIZE_COMPRESS}


def _flags(names):
    if isinstance(names, int):
        return names
    if isinstance(names, str):
        names = [names]
    out = 0
    for n in names:
        if n not in OPTIMIZE_FLAGS:
            raise InvalidArgError("optimize_memory: unknown optimisation %r (one of %s)"
                                  % (n, ", ".join(OPTIMIZE_FLAGS)), -1, "invalid argument")
        out |= OPTIMIZE_FLAGS[n]
    return out


def _names(bits):
    return [n for n, b in OPTIMIZE_FLAGS.items() if bits & b]


def optimize_memory(obj, flags=("zorder", "shrink")):
    """n4d_optimize_memory (a Model) or n4d_sim_optimize_memory (a Sim):
    {"initial_bytes", "final_bytes", "bytes_saved", "applied": [names],
    "skipped": [names], "description"}."""
    from .core import Model, Sim, _check
    r = new(_lib.n4d_memory_optimization)
    if isinstance(obj, Sim):
        fn = lib().n4d_sim_optimize_memory
    elif isinstance(obj, Model):
        fn = lib().n4d_optimize_memory
    else:
        raise InvalidArgError("optimize_memory: a Model or Sim expected", -1, "invalid argument")
    h = obj._handle
    _check(fn(h, _flags(flags), byref(r)), h)
    return {"initial_bytes": r.initial_bytes, "final_bytes": r.final_bytes,
            "bytes_saved": r.bytes_saved, "applied": _names(r.applied),
            "skipped": _names(r.skipped), "description": _s(r.description)}
