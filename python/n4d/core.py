"""Models and simulations: the n4d C API behind Python classes.

Lifetimes (docs/python.md, "Lifetimes"): a Sim keeps its Model alive; closing
a Model first closes the sims still open on it; a closed object raises
n4d.ClosedError; close() is idempotent and also runs when the object is
garbage-collected or at a ``with`` block's end.
"""

import ctypes
import json
import logging
import math
import operator
import os
import weakref
from collections import namedtuple
from ctypes import POINTER, byref, c_char_p, c_double, c_float, c_int, c_int32, c_uint32, c_uint64

import numpy as np

from . import _lib
from ._lib import lib, new
from .errors import BY_STATUS, ClosedError, Error, InvalidArgError, RangeError, StateError

_log = logging.getLogger("n4d")

# ---- helpers ---------------------------------------------------------------------


def _b(s):
    """A str (or None) as the bytes a const char * parameter takes."""
    if s is None:
        return None
    if isinstance(s, bytes):
        return s
    return str(s).encode("utf-8")


def _path(p):
    return os.fsencode(os.fspath(p))


def _s(b):
    return None if b is None else b.decode("utf-8", errors="replace")


def _error(status, handle=None):
    """The n4d.Error subclass for a status, with n4d_last_error(handle)'s text."""
    L = lib()
    detail = _s(L.n4d_last_error(handle)) if handle else ""
    name = _s(L.n4d_status_string(status))
    cls = BY_STATUS.get(status, Error)
    return cls(detail, status, name)


def _check(status, handle=None):
    if status < 0:
        raise _error(status, handle)
    return status


def _index(x, what, minimum=0):
    """x as an int (an integer of any kind, not a float or a string), >= minimum."""
    try:
        i = operator.index(x)
    except TypeError:
        raise InvalidArgError("%s: an integer, got %r" % (what, x), -1,
                              "invalid argument") from None
    if i < minimum:
        raise InvalidArgError("%s: must be >= %d, got %d" % (what, minimum, i), -1,
                              "invalid argument")
    return i


def _ptr(arr, ctype):
    return arr.ctypes.data_as(POINTER(ctype))


def _lookup(table, value, what):
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    try:
        return table[str(value).lower()]
    except KeyError:
        raise InvalidArgError("%s: unknown value %r (one of %s)" % (what, value, ", ".join(table)),
                              -1, "invalid argument") from None


PLACEMENTS = {"all": 0, "density": 1, "count": 2}
RULES = {"fixed_probability": 0, "fixed_indegree": 1, "fixed_total_number": 2,
         "one_to_one": 3, "all_to_all": 4, "distance": 5, "explicit": 6}
KERNELS = {"gaussian": 0, "exponential": 1}
SYN_TYPES = {"auto": 0, "excitatory": 1, "inhibitory": 2}
INPUT_KINDS = {"dc": 0, "poisson": 1, "spikes": 2, "step_current": 3, "ac": 4, "noise": 5}
SAMPLINGS = {"per_step": 0, "sparse": 1}
MOD_TARGETS = {"threshold": 0, "gain": 1}
FEATURES = {"openmp": 1, "hdf5": 2, "cuda": 3, "json": 4}


class Dist(namedtuple("Dist", "kind value std lo hi")):
    """A constant or random value (n4d_dist): n4d.constant, n4d.uniform, n4d.normal."""

    def to_c(self):
        return _lib.n4d_dist(self.kind, self.value, self.std, self.lo, self.hi)


def constant(value):
    return Dist(0, float(value), 0.0, 0.0, 0.0)


def uniform(lo, hi):
    """Uniform in [lo, hi)."""
    return Dist(1, 0.0, 0.0, float(lo), float(hi))


def normal(mean, std, lo=-math.inf, hi=math.inf):
    """Normal(mean, std) clipped to [lo, hi]."""
    return Dist(2, float(mean), float(std), float(lo), float(hi))


def _dist(v, what):
    if isinstance(v, Dist):
        return v.to_c()
    if isinstance(v, (int, float, np.floating, np.integer)) and not isinstance(v, bool):
        return constant(v).to_c()
    raise InvalidArgError("%s: a number or n4d.constant/uniform/normal(...), not %r" % (what, v),
                          -1, "invalid argument")


def _params(d, what):
    """A dict of parameters as an n4d_param_value array (and the bytes it points to)."""
    if not d:
        return None, 0, []
    keep = []
    arr = (_lib.n4d_param_value * len(d))()
    for i, (k, v) in enumerate(d.items()):
        name = _b(k)
        keep.append(name)
        arr[i].name = name
        try:
            arr[i].value = float(v)
        except (TypeError, ValueError):
            raise InvalidArgError("%s: parameter %r: not a number: %r" % (what, k, v), -1,
                                  "invalid argument") from None
    return arr, len(d), keep


# ---- library-wide --------------------------------------------------------------

def version():
    """Version string of the loaded library ("MAJOR.MINOR.PATCH")."""
    return _s(lib().n4d_version_string())


def has_feature(name):
    """Whether a feature ("openmp", "hdf5", "cuda", "json") is built in."""
    return bool(lib().n4d_has_feature(_lookup(FEATURES, name, "feature")))


def backends():
    """The registered backends: {name: {"caps": flags, "available": bool, "why": text}}."""
    L = lib()
    out = {}
    for i in range(L.n4d_backend_count()):
        name = L.n4d_backend_name(i)
        why = ctypes.create_string_buffer(512)
        ok = L.n4d_backend_probe(name, why, len(why)) == 0
        out[_s(name)] = {"caps": L.n4d_backend_caps(name), "available": ok,
                         "why": "" if ok else _s(why.value)}
    return out


def _param_infos(getter, index, n):
    out = []
    for p in range(n):
        pi = new(_lib.n4d_param_info)
        _check(getter(index, p, byref(pi)))
        out.append({"name": _s(pi.name), "alias": _s(pi.alias), "unit": _s(pi.unit),
                    "description": _s(pi.description), "default": pi.default_value,
                    "min": pi.min, "max": pi.max})
    return out


def neuron_models():
    """Every registered neuron model: name, id, description, params, states, presets."""
    L = lib()
    out = []
    for i in range(L.n4d_neuron_model_count()):
        info = new(_lib.n4d_neuron_model_info)
        _check(L.n4d_neuron_model_info_get(i, byref(info)))
        states = []
        for s in range(info.num_states):
            si = new(_lib.n4d_state_info)
            _check(L.n4d_neuron_model_state_info(i, s, byref(si)))
            states.append({"name": _s(si.name), "unit": _s(si.unit), "initial": _s(si.initial),
                           "description": _s(si.description)})
        out.append({"name": _s(info.name), "id": info.id, "description": _s(info.description),
                    "params": _param_infos(L.n4d_neuron_model_param_info, i, info.num_params),
                    "states": states,
                    "presets": [_s(L.n4d_neuron_model_preset(i, p))
                                for p in range(info.num_presets)],
                    "has_refractory": bool(info.has_refractory)})
    return out


def synapse_models():
    """Every registered synapse model: name, id, description, params, bytes per synapse."""
    L = lib()
    out = []
    for i in range(L.n4d_synapse_model_count()):
        info = new(_lib.n4d_synapse_model_info)
        _check(L.n4d_synapse_model_info_get(i, byref(info)))
        out.append({"name": _s(info.name), "id": info.id, "description": _s(info.description),
                    "num_vars": info.num_vars, "bytes_per_synapse": info.bytes_per_synapse,
                    "params": _param_infos(L.n4d_synapse_model_param_info, i, info.num_params)})
    return out


# ---- context -----------------------------------------------------------------------

_LEVELS = {0: logging.ERROR, 1: logging.WARNING, 2: logging.INFO, 3: logging.DEBUG}


def _log_cb(user_data, level, message):
    try:
        _log.log(_LEVELS.get(level, logging.INFO), "%s", _s(message))
    except Exception:  # never raise into C
        pass


_LOG_FN = _lib.LOG_FN(_log_cb)  # module-lived: no context outlives it


class _Context:
    """An n4d_context whose log messages go to the "n4d" logging logger."""

    def __init__(self):
        opt = new(_lib.n4d_context_options, "n4d_context_options_init")
        opt.log = _LOG_FN
        opt.log_level = 1  # warnings
        h = ctypes.c_void_p()
        _check(lib().n4d_context_create(byref(opt), byref(h)))
        self.h = h.value
        self._destroy = lib().n4d_context_destroy

    def close(self):
        h, self.h = self.h, None
        if h:
            self._destroy(h)

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


class _Handle:
    """Shared close/with/__del__ logic of the classes that own a C handle."""

    _h = None
    _kind = "object"

    @property
    def _handle(self):
        if not self._h:
            raise ClosedError("this n4d %s is closed" % self._kind, -8, "invalid state")
        return self._h

    @property
    def closed(self):
        return not self._h

    def __enter__(self):
        self._handle  # a closed object cannot be entered
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # interpreter shutdown: modules may be gone
            pass


# ---- model -----------------------------------------------------------------------------

Population = namedtuple("Population", "index name area model first count")
Synapses = namedtuple("Synapses", "targets weights delays_ms")


class Model(_Handle):
    """A network model (n4d_model): described, then built once, then read-only.

    ``Model(lattice_shape=(X, Y, Z, W), dt=0.1, seed=1)`` starts an empty
    model built through add_area / add_population / add_projection /
    add_input ...; ``Model.from_json``, ``Model.load`` and
    ``Model.import_4dnc`` read one. ``model.simulate(...)`` creates an n4d.Sim
    (building the model first if needed).
    """

    _kind = "model"

    def __init__(self, lattice_shape=None, dt=None, seed=None, *, _handle=None, _ctx=None):
        self._sims = weakref.WeakSet()
        self._sim_cells = []  # [handle] of each open sim, shared with the Sim (see close)
        self._positions = None
        self._ctx = _ctx or _Context()
        if _handle is None:
            h = ctypes.c_void_p()
            _check(lib().n4d_model_create(self._ctx.h, byref(h)), self._ctx.h)
            _handle = h.value
        self._h = _handle
        self._destroy = lib().n4d_model_destroy
        if lattice_shape is not None:
            self.set_lattice(lattice_shape)
        if dt is not None:
            self.set_dt(dt)
        if seed is not None:
            self.set_seed(seed)

    # -- construction from files --------------------------------------------------------

    @classmethod
    def _create(cls, fn, *args):
        ctx = _Context()
        h = ctypes.c_void_p()
        st = fn(ctx.h, *args, byref(h))
        if st < 0:
            err = _error(st, ctx.h)
            ctx.close()
            raise err
        return cls(_handle=h.value, _ctx=ctx)

    @classmethod
    def from_json(cls, source):
        """A model from a JSON config: a path, or a dict holding the config.
        Errors (n4d.ConfigError) name the file, line:column and key path."""
        if isinstance(source, dict):
            return cls.from_json_string(json.dumps(source), name="<dict>")
        return cls._create(lib().n4d_model_from_json_file, _path(source))

    @classmethod
    def from_json_string(cls, text, name="<string>"):
        """A model from JSON text; ``name`` names it in error messages."""
        data = _b(text)
        return cls._create(lib().n4d_model_from_json_string, data, len(data), _b(name))

    @classmethod
    def load(cls, path, *, ids=None, first=None, count=None, region=None, mmap=False):
        """A built model saved by Model.save / Sim.save_model (HDF5). Partial loads:
        ``ids=[...]``, ``first=, count=``, or ``region=(lo, hi)`` (inclusive 4D boxes);
        ``mmap=True`` maps the synapses from a file saved with contiguous=True."""
        opt = new(_lib.n4d_load_options, "n4d_load_options_init")
        opt.mmap_synapses = int(bool(mmap))
        keep = None
        if ids is not None:
            keep = np.ascontiguousarray(ids, dtype=np.uint64)
            opt.select, opt.ids, opt.n_ids = 1, _ptr(keep, c_uint64), keep.size
        elif first is not None or count is not None:
            opt.select, opt.first, opt.count = 2, int(first or 0), int(count or 0)
        elif region is not None:
            lo, hi = region
            opt.select = 3
            opt.lo[:] = [int(x) for x in lo]
            opt.hi[:] = [int(x) for x in hi]
        m = cls._create(lib().n4d_model_load, _path(path), byref(opt))
        del keep
        return m

    @classmethod
    def import_4dnc(cls, path, *, format="auto", reference_inhibition=False,
                    static_weights=False):
        """A built model from a 4D Neural Cognition save (save_to_json / save_to_hdf5)."""
        opt = new(_lib.n4d_import_options, "n4d_import_options_init")
        opt.format = _lookup({"auto": 0, "json": 1, "hdf5": 2}, format, "format")
        opt.reference_inhibition = int(bool(reference_inhibition))
        opt.static_weights = int(bool(static_weights))
        return cls._create(lib().n4d_model_import_4dnc, _path(path), byref(opt))

    # -- description ----------------------------------------------------------------------

    def _c(self, status):
        return _check(status, self._h)

    def set_lattice(self, shape):
        shape = [int(x) for x in shape]
        if len(shape) != 4:
            raise InvalidArgError("lattice_shape: 4 sizes (x, y, z, w), got %r" % (shape,), -1,
                                  "invalid argument")
        self._c(lib().n4d_model_set_lattice(self._handle, (c_uint32 * 4)(*shape)))

    def set_dt(self, dt_ms):
        self._c(lib().n4d_model_set_dt(self._handle, float(dt_ms)))

    def set_seed(self, seed):
        self._c(lib().n4d_model_set_seed(self._handle, int(seed)))

    def set_build_threads(self, threads):
        self._c(lib().n4d_model_set_build_threads(self._handle, int(threads)))

    def set_build_backend(self, name):
        """"cpu" (default), "cuda", "cuda:N" or "auto"."""
        self._c(lib().n4d_model_set_build_backend(self._handle, _b(name)))

    def set_layout(self, order="lattice", partitions=0, balance_synapses=False):
        opt = new(_lib.n4d_layout_options, "n4d_layout_options_init")
        opt.order = _lookup({"lattice": 0, "zorder": 1}, order, "order")
        opt.partitions = int(partitions)
        opt.balance_synapses = int(bool(balance_synapses))
        self._c(lib().n4d_model_set_layout(self._handle, byref(opt)))

    def add_area(self, name, lo, hi):
        """An area: the inclusive box lo..hi of lattice coordinates (x, y, z, w)."""
        self._c(lib().n4d_model_add_area(self._handle, _b(name), (c_int32 * 4)(*map(int, lo)),
                                         (c_int32 * 4)(*map(int, hi))))

    def add_population(self, name, area, model="lif", *, placement=None, density=None,
                       count=None, params=None, preset=None, v_init=None):
        """A population of neuron model ``model`` (a registered name, n4d.neuron_models())
        on the sites of ``area``: all of them (default), ``density=`` (each site with that
        probability) or ``count=`` sites. ``params``: {name: value} over the model's
        defaults (and ``preset``). ``v_init``: a number or n4d.uniform/normal (default:
        the model's resting value). Returns the population's index."""
        d = new(_lib.n4d_population_desc, "n4d_population_desc_init")
        d.name, d.area = _b(name), _b(area)
        if isinstance(model, int):
            d.model = model
        else:
            d.model_name = _b(model)
        if placement is None:
            placement = "density" if density is not None else "count" if count is not None \
                else "all"
        d.placement = _lookup(PLACEMENTS, placement, "placement")
        if density is not None:
            d.density = float(density)
        if count is not None:
            d.count = int(count)
        if v_init is not None:
            d.v_init = _dist(v_init, "v_init")
        d.preset = _b(preset)
        arr, n, keep = _params(params, "population %s" % name)
        d.params, d.n_params = arr, n
        idx = c_int32()
        self._c(lib().n4d_model_add_population(self._handle, byref(d), byref(idx)))
        del keep
        return idx.value

    def add_projection(self, source, target, rule="fixed_probability", *, p=None, n=None,
                       weight=1.0, delay=None, syn_type="auto", name=None, kernel="gaussian",
                       sigma=None, cutoff=None, allow_autapses=True, allow_multapses=True,
                       synapse_model=None, synapse_params=None, pre=None, post=None,
                       weights=None, delays=None):
        """Synapses from population ``source`` to ``target`` by a connection rule
        ("fixed_probability" with p, "fixed_indegree" / "fixed_total_number" with n,
        "one_to_one", "all_to_all", "distance" with p, sigma, cutoff, kernel), or
        "explicit": connection k from cell ``pre[k]`` of the source to cell
        ``post[k]`` of the target (indices within them) with ``weights[k]`` and
        ``delays[k]`` ms (None: the constant ``weight`` / ``delay``).
        ``weight`` and ``delay`` (ms; default one step): numbers or
        n4d.uniform/normal. ``syn_type``: "auto", "excitatory" or "inhibitory".
        ``synapse_model``: "static" (default) or a plastic model ("stdp",
        "stdp_dopamine", "tsodyks", "hebb_4dnc") with ``synapse_params``.
        Returns the projection's index."""
        d = new(_lib.n4d_projection_desc, "n4d_projection_desc_init")
        d.name, d.source, d.target = _b(name), _b(source), _b(target)
        d.rule = _lookup(RULES, rule, "rule")
        if p is not None:
            d.p = float(p)
        if n is not None:
            d.n = int(n)
        d.kernel = _lookup(KERNELS, kernel, "kernel")
        if sigma is not None:
            d.sigma = float(sigma)
        if cutoff is not None:
            d.cutoff = float(cutoff)
        d.weight = _dist(weight, "weight")
        if delay is not None:
            d.delay = _dist(delay, "delay")
        d.syn_type = _lookup(SYN_TYPES, syn_type, "syn_type")
        d.allow_autapses = int(bool(allow_autapses))
        d.allow_multapses = int(bool(allow_multapses))
        conn = []  # the explicit arrays, alive until the call returns
        if pre is not None or post is not None:
            def idx(v, what):
                raw = np.asarray(v, dtype=float).ravel()
                if raw.size and not (np.all(raw >= 0) and np.all(raw == np.floor(raw))
                                     and np.all(raw < 2 ** 32)):
                    bad = int(np.flatnonzero(~((raw >= 0) & (raw == np.floor(raw))
                                               & (raw < 2 ** 32)))[0])
                    raise ValueError("add_projection: %s[%d] = %r is not an index >= 0"
                                     % (what, bad, raw[bad]))
                return np.ascontiguousarray(raw, dtype=np.uint32)
            a, b = idx(pre, "pre"), idx(post, "post")
            if a.size != b.size:
                raise ValueError("add_projection: %d pre but %d post indices" % (a.size, b.size))
            conn += [a, b]
            d.pre, d.post = _ptr(a, c_uint32), _ptr(b, c_uint32)
            d.n_connections = a.size
            for fld, v in (("weights", weights), ("delays", delays)):
                if v is None:
                    continue
                x = np.ascontiguousarray(np.asarray(v, dtype=float).ravel())
                if x.size != a.size:
                    raise ValueError("add_projection: %d %s for %d connections"
                                     % (x.size, fld, a.size))
                conn.append(x)
                setattr(d, fld, _ptr(x, c_double))
        d.synapse_model = _b(synapse_model)
        arr, cnt, keep = _params(synapse_params, "projection %s" % (name or
                                                                    "%s->%s" % (source, target)))
        d.synapse_params, d.n_synapse_params = arr, cnt
        idx = c_int32()
        self._c(lib().n4d_model_add_projection(self._handle, byref(d), byref(idx)))
        del keep
        return idx.value

    def add_input(self, target, kind="poisson", *, rate=None, weight=None, n_sources=None,
                  amplitude=None, start=None, stop=None, sampling=None, neurons=None,
                  times=None, indices=None, values=None, offset=None, frequency=None,
                  phase=None, std=None, interval=None):
        """An input to population ``target``, active from ``start`` to ``stop`` ms:
        "poisson" (``rate`` Hz per source, ``n_sources`` sources per neuron, each
        event adds ``weight``), "dc" (``amplitude``), "spikes" (spike ``times`` in ms
        of the target's cells ``indices``, each adding ``weight``), "step_current"
        (``values[k]`` from ``times[k]`` on), "ac" (``offset + amplitude sin(2 pi
        frequency (t - start) + phase)``, phase in degrees) or "noise" (mean
        ``amplitude``, ``std``, a new draw every ``interval`` ms). ``neurons``: the
        cells of the target (indices within it) that get a current; None: all."""
        d = new(_lib.n4d_input_desc, "n4d_input_desc_init")
        d.kind = _lookup(INPUT_KINDS, kind, "kind")
        d.target = _b(target)
        for k, v in (("rate", rate), ("weight", weight), ("amplitude", amplitude),
                     ("start", start), ("stop", stop), ("offset", offset),
                     ("frequency", frequency), ("phase", phase), ("std", std),
                     ("interval", interval)):
            if v is not None:
                setattr(d, k, float(v))
        if n_sources is not None:
            d.n_sources = int(n_sources)
        if sampling is not None:
            d.sampling = _lookup(SAMPLINGS, sampling, "sampling")
        keep = []

        def arr(values, dtype, ctype, what):
            if dtype == np.uint32:
                raw = np.asarray(values, dtype=float).ravel()
                if raw.size and not (np.all(raw >= 0) and np.all(raw == np.floor(raw))
                                     and np.all(raw < 2 ** 32)):
                    raise ValueError("add_input: %s must be indices >= 0" % what)
            a = np.ascontiguousarray(values, dtype=dtype).ravel()
            keep.append(a)
            return a.ctypes.data_as(POINTER(ctype)), a.size

        if neurons is not None:
            d.neurons, d.n_neurons = arr(neurons, np.uint32, c_uint32, "neurons")
        nt = None
        for name, v, dt_, ct in (("times", times, np.float64, c_double),
                                 ("indices", indices, np.uint32, c_uint32),
                                 ("values", values, np.float64, c_double)):
            if v is None:
                continue
            p, n = arr(v, dt_, ct, name)
            if nt is not None and n != nt:
                raise ValueError("add_input: times, indices and values differ in length")
            nt = n
            setattr(d, name, p)
        if nt is not None:
            d.n_times = nt
        self._c(lib().n4d_model_add_input(self._handle, byref(d)))
        del keep

    def add_modulator(self, name, *, baseline=None, decay_rate=None, level=None,
                      driven_by=None, per_spike=None, delay=None):
        """A neuromodulator (e.g. "dopamine"): a level in [0, 1] per sim."""
        d = new(_lib.n4d_modulator_desc, "n4d_modulator_desc_init")
        d.name, d.driven_by = _b(name), _b(driven_by)
        for k, v in (("baseline", baseline), ("decay_rate", decay_rate), ("level", level),
                     ("per_spike", per_spike), ("delay", delay)):
            if v is not None:
                setattr(d, k, float(v))
        self._c(lib().n4d_model_add_modulator(self._handle, byref(d)))

    def bind_modulator(self, population, what, modulator, strength):
        """Binds "threshold" or "gain" of a population to a modulator's level."""
        self._c(lib().n4d_model_bind_modulator(self._handle, _b(population),
                                               _lookup(MOD_TARGETS, what, "what"),
                                               _b(modulator), float(strength)))

    def add_sense(self, name, area, rows, cols):
        """A sense: a rows x cols input matrix fed into ``area`` (Sim.feed_sense)."""
        self._c(lib().n4d_model_add_sense(self._handle, _b(name), _b(area), int(rows),
                                          int(cols)))

    def set_population_param(self, population, param, value):
        self._c(lib().n4d_model_set_population_param(self._handle, _b(population), _b(param),
                                                     float(value)))

    def get_population_param(self, population, param):
        v = c_double()
        self._c(lib().n4d_model_get_population_param(self._handle, _b(population), _b(param),
                                                     byref(v)))
        return v.value

    def set_lifecycle(self, population, **fields):
        """The cell lifecycle of a population (n4d_lifecycle fields as keywords:
        enable_death, enable_reproduction, max_age, health_decay_per_step,
        mutation_std_params, mutation_std_weights); no keywords: off."""
        if not fields:
            self._c(lib().n4d_model_set_population_lifecycle(self._handle, _b(population), None))
            return
        lc = new(_lib.n4d_lifecycle, "n4d_lifecycle_init")
        _set_fields(lc, fields, "lifecycle")
        self._c(lib().n4d_model_set_population_lifecycle(self._handle, _b(population),
                                                         byref(lc)))

    def set_homeostasis(self, population, target_rate=None, **fields):
        """Homeostatic scaling of a population (target_rate Hz; window, eta,
        scale_min, scale_max); target_rate None: off."""
        if target_rate is None:
            self._c(lib().n4d_model_set_homeostasis(self._handle, _b(population), None))
            return
        h = new(_lib.n4d_homeostasis, "n4d_homeostasis_init")
        h.target_rate = float(target_rate)
        _set_fields(h, fields, "homeostasis")
        self._c(lib().n4d_model_set_homeostasis(self._handle, _b(population), byref(h)))

    def build(self):
        """Places the neurons and generates the synapses (idempotent)."""
        self._c(lib().n4d_model_build(self._handle))
        return self

    # -- queries ------------------------------------------------------------------------

    @property
    def is_built(self):
        return bool(lib().n4d_model_is_built(self._handle))

    @property
    def dt(self):
        return lib().n4d_model_dt(self._handle)

    @property
    def seed(self):
        return lib().n4d_model_seed(self._handle)

    @property
    def lattice_shape(self):
        s = (c_uint32 * 4)()
        self._c(lib().n4d_model_lattice(self._handle, s))
        return tuple(s)

    @property
    def num_neurons(self):
        return lib().n4d_model_num_neurons(self._handle)

    @property
    def num_synapses(self):
        return lib().n4d_model_num_synapses(self._handle)

    @property
    def build_backend(self):
        return _s(lib().n4d_model_build_backend(self._handle))

    @property
    def warnings(self):
        """Warnings collected while loading (a list of lines)."""
        w = _s(lib().n4d_model_warnings(self._handle))
        return [x for x in w.split("\n") if x]

    @property
    def default_duration(self):
        """The config's "duration" in ms (0 if unset)."""
        return lib().n4d_model_default_duration(self._handle)

    @property
    def populations(self):
        L, h = lib(), self._handle
        out = []
        for i in range(L.n4d_model_num_populations(h)):
            pi = new(_lib.n4d_population_info)
            self._c(L.n4d_model_population_info(h, i, byref(pi)))
            out.append(Population(i, _s(pi.name), _s(pi.area), _s(pi.model_name), pi.first,
                                  pi.count))
        return out

    def population(self, name):
        """The Population called ``name``."""
        i = lib().n4d_model_find_population(self._handle, _b(name))
        if i == -7:  # N4D_E_RANGE: the C query leaves no text (a shared model is not written)
            raise RangeError("unknown population %r (populations: %s)"
                             % (name, ", ".join(p.name for p in self.populations)), i,
                             "out of range")
        self._c(i)
        return self.populations[i]

    @property
    def num_projections(self):
        return lib().n4d_model_num_projections(self._handle)

    @property
    def modulators(self):
        L, h = lib(), self._handle
        return [_s(L.n4d_model_modulator_name(h, i)) for i in range(L.n4d_model_num_modulators(h))]

    def neuron_position(self, neuron):
        xyzw = (c_int32 * 4)()
        self._c(lib().n4d_model_neuron_position(self._handle, int(neuron), xyzw))
        return tuple(xyzw)

    def positions(self):
        """(num_neurons, 4) int32 array of every neuron's (x, y, z, w) (built model)."""
        if self._positions is None:
            L, h = lib(), self._handle
            n = self.num_neurons
            out = np.empty((n, 4), dtype=np.int32)
            xyzw = (c_int32 * 4)()
            for i in range(n):
                self._c(L.n4d_model_neuron_position(h, i, xyzw))
                out[i] = xyzw
            out.flags.writeable = False
            self._positions = out
        return self._positions

    def synapses(self, source):
        """Outgoing synapses of neuron ``source``: targets, weights, delays (ms)."""
        L, h = lib(), self._handle
        n = c_uint64()
        self._c(L.n4d_model_out_degree(h, int(source), byref(n)))
        t = np.empty(n.value, np.uint32)
        w = np.empty(n.value, np.float32)
        d = np.empty(n.value, np.float32)
        self._c(L.n4d_model_get_synapses(h, int(source), n.value, _ptr(t, c_uint32),
                                         _ptr(w, c_float), _ptr(d, c_float), byref(n)))
        return Synapses(t, w, d)

    def delay_range(self):
        """(min, max) delay in steps."""
        lo, hi = c_uint32(), c_uint32()
        self._c(lib().n4d_model_delay_range(self._handle, byref(lo), byref(hi)))
        return lo.value, hi.value

    def memory(self):
        """Bytes of the built model by component ({"neurons": ..., "synapses": ...})."""
        L = lib()
        b = (c_uint64 * _lib.MEM_TAG_COUNT)()
        self._c(L.n4d_model_memory(self._handle, b))
        return {_s(L.n4d_mem_tag_name(i)): b[i] for i in range(_lib.MEM_TAG_COUNT)}

    def save(self, path, **opts):
        """Saves the built model (HDF5, atomically); options as n4d_save_options
        (gzip=True or gzip_level=, shuffle, chunk_size, contiguous, sonata_edges)."""
        self._c(lib().n4d_model_save(self._handle, _path(path), byref(_save_options(opts))))

    # -- partitions, locality, memory (n4d.perf) ------------------------------------------

    def partition(self, n, balance_synapses=False):
        """n4d_partition_compute: an n4d.perf.Partitioning of the neurons in n boxes."""
        from . import perf
        return perf.partition(self, n, balance_synapses)

    def partition_layout(self):
        """n4d_partition_layout: the boxes of the layout the model was built with."""
        from . import perf
        return perf.partition_layout(self)

    def target_jumps(self, space="internal"):
        """n4d_model_target_jumps: locality of the synapse targets ("internal" or "user")."""
        from . import perf
        return perf.target_jumps(self, space)

    def optimize_memory(self, flags=("zorder", "shrink")):
        """n4d_optimize_memory (before the build: "zorder", "shrink")."""
        from . import perf
        return perf.optimize_memory(self, flags)

    def memory_snapshot(self, label=None):
        """n4d_memory_snapshot of the model's context (the model and its sims)."""
        from . import perf
        return perf.memory_snapshot(self, label)

    # -- simulations and lifetime ---------------------------------------------------------

    def simulate(self, **kw):
        """An n4d.Sim of this model (same keywords as n4d.Sim)."""
        return Sim(self, **kw)

    def close(self):
        """Closes the sims still open on the model, then frees it (refused, as
        Sim.close, while a sim's copy=False views are alive)."""
        for s in list(self._sims):
            if not s.closed and len(s._views):
                s.close()  # raises StateError, before anything is freed
        h, self._h = self._h, None
        if not h:
            return
        for s in list(self._sims):
            s.close()
        # sims the weak set no longer reaches: a garbage collection of a cycle
        # clears weak references before it runs finalizers, so a Model and its
        # Sim collected together may finalize the Model first; the sim handles
        # (held here in cells, not the Sim objects) must go before the model
        for cell in self._sim_cells:
            sh, cell[0] = cell[0], None
            if sh:
                lib().n4d_sim_destroy(sh)
        self._sim_cells = []
        self._destroy(h)
        self._ctx.close()

    def __repr__(self):
        if self.closed:
            return "<n4d.Model closed>"
        return "<n4d.Model %s, %d neurons, %d synapses%s>" % (
            "x".join(map(str, self.lattice_shape)), self.num_neurons, self.num_synapses,
            "" if self.is_built else ", not built")


def _set_fields(s, fields, what):
    names = [f for f, _ in s._fields_ if f != "struct_size"]
    for k, v in fields.items():
        if k not in names:
            raise InvalidArgError("%s: unknown field %r (one of %s)" % (what, k, ", ".join(names)),
                                  -1, "invalid argument")
        setattr(s, k, v)


def _save_options(opts):
    o = new(_lib.n4d_save_options, "n4d_save_options_init")
    opts = dict(opts)
    gz = opts.pop("gzip", None)
    if gz is not None:
        o.compression = 1 if gz else 0
    _set_fields(o, {k: int(v) for k, v in opts.items()}, "save options")
    return o


# ---- simulation ----------------------------------------------------------------------------

class Spikes(namedtuple("Spikes", "steps ids dt")):
    """Spikes in canonical order (step ascending, then neuron id)."""

    @property
    def times(self):
        """Spike times in ms (step * dt)."""
        return self.steps.astype(np.float64) * self.dt

    def __len__(self):
        return len(self.ids)


Weights = namedtuple("Weights", "sources targets weights")
Trace = namedtuple("Trace", "times ids values var")


class _Borrowed:
    """The owner of a read-only view of a sim's memory: the view keeps the sim
    alive (its base is this object), and the sim counts its live views, so an
    explicit close() while one exists is refused instead of freeing memory
    the view still reads."""

    def __init__(self, sim, ptr, count, dtype):
        self.sim = sim
        addr = ctypes.cast(ptr, ctypes.c_void_p).value
        self.__array_interface__ = {"shape": (count,), "typestr": np.dtype(dtype).str,
                                    "data": (addr, True), "version": 3}


def _view(ptr, count, dtype, sim=None):
    if count == 0:
        return np.empty(0, dtype)
    if sim is None:
        a = np.ctypeslib.as_array(ptr, shape=(count,))
    else:
        owner = _Borrowed(sim, ptr, count, dtype)
        sim._views.add(owner)
        a = np.asarray(owner)
    a.flags.writeable = False
    return a


class Sim(_Handle):
    """A simulation of a model (n4d_sim): its own state over the shared model.

    ``backend``: "auto", "cpu-ref", "cpu-omp", "cuda", "cuda:N"; ``threads``:
    cpu-omp threads (0: by model size); ``seed``: run-time randomness (0: the
    model's); ``history_steps``: window of spiked_at; ``record_spikes``: keep
    every spike for spikes(). The sim keeps its model alive.
    """

    _kind = "sim"

    # the handle lives in a one-entry list that the model also holds, so that
    # closing the model frees this sim even when this object cannot be reached
    @property
    def _h(self):
        cell = self.__dict__.get("_cell")
        return cell[0] if cell else None

    @_h.setter
    def _h(self, value):
        self.__dict__.setdefault("_cell", [None])[0] = value

    def __init__(self, model, backend="auto", threads=0, seed=0, *, history_steps=None,
                 record_spikes=True, dt=0.0, _handle=None):
        self._cell = [None]
        self._model = model
        self._record_keep = None
        self._views = weakref.WeakSet()  # owners of live copy=False views
        if _handle is None:
            opt = new(_lib.n4d_sim_options, "n4d_sim_options_init")
            opt.backend = _b(backend)
            opt.num_threads = int(threads)
            opt.seed = int(seed)
            opt.dt = float(dt)
            if history_steps is not None:
                opt.history_steps = int(history_steps)
            opt.record_spikes = int(bool(record_spikes))
            h = ctypes.c_void_p()
            mh = model._handle
            _check(lib().n4d_sim_create(mh, byref(opt), byref(h)), mh)
            _handle = h.value
        self._h = _handle
        self._destroy = lib().n4d_sim_destroy
        model._sims.add(self)
        model._sim_cells.append(self._cell)

    @classmethod
    def resume(cls, path, backend=None, threads=0, mmap=False):
        """A sim in the state a checkpoint saved (with its own model, sim.model)."""
        ctx = _Context()
        opt = new(_lib.n4d_resume_options, "n4d_resume_options_init")
        opt.backend = _b(backend)
        opt.num_threads = int(threads)
        opt.mmap_synapses = int(bool(mmap))
        mh, sh = ctypes.c_void_p(), ctypes.c_void_p()
        st = lib().n4d_sim_resume(ctx.h, _path(path), byref(opt), byref(mh), byref(sh))
        if st < 0:
            err = _error(st, ctx.h)
            ctx.close()
            raise err
        model = Model(_handle=mh.value, _ctx=ctx)
        return cls(model, _handle=sh.value)

    def _c(self, status):
        return _check(status, self._h)

    @property
    def model(self):
        return self._model

    # -- running ------------------------------------------------------------------------

    def step(self):
        """Advances one step."""
        self._c(lib().n4d_sim_step(self._handle))
        return self

    def run(self, steps):
        """Advances ``steps`` steps (the GIL is released meanwhile)."""
        steps = _index(steps, "run: steps")
        self._c(lib().n4d_sim_run(self._handle, steps))
        return self

    def run_ms(self, duration_ms):
        """Advances round(duration_ms / dt) steps."""
        return self.run(int(math.floor(duration_ms / self.dt + 0.5)))

    @property
    def current_step(self):
        return lib().n4d_sim_current_step(self._handle)

    @property
    def time_ms(self):
        return self.current_step * self.dt

    @property
    def dt(self):
        return lib().n4d_sim_dt(self._handle)

    @property
    def backend(self):
        return _s(lib().n4d_sim_backend(self._handle))

    @property
    def num_threads(self):
        return lib().n4d_sim_num_threads(self._handle)

    @property
    def checksum(self):
        """64-bit FNV-1a hash of the spike train, as the `n4d` program prints it
        (format with "%016x")."""
        return lib().n4d_sim_checksum(self._handle)

    @property
    def total_spikes(self):
        return lib().n4d_sim_total_spikes(self._handle)

    def step_stats(self):
        s = new(_lib.n4d_step_stats)
        self._c(lib().n4d_sim_step_stats(self._handle, byref(s)))
        return {"step": s.step, "spikes": s.spikes, "total_spikes": s.total_spikes}

    # -- spikes ---------------------------------------------------------------------------

    def spikes(self, copy=True):
        """Every spike recorded (since creation or clear_spikes): Spikes(steps, ids, dt),
        .times in ms. copy=False gives read-only views of the sim's own arrays,
        valid only until the next step, run, clear_spikes or close."""
        steps, ids, n = POINTER(c_uint64)(), POINTER(c_uint32)(), c_uint64()
        self._c(lib().n4d_sim_spikes(self._handle, byref(steps), byref(ids), byref(n)))
        if copy:
            s, i = _view(steps, n.value, np.uint64).copy(), _view(ids, n.value, np.uint32).copy()
        else:
            s, i = _view(steps, n.value, np.uint64, self), _view(ids, n.value, np.uint32, self)
        return Spikes(s, i, self.dt)

    def last_spikes(self, copy=True):
        """Ids of the neurons that spiked in the last step (copy=False: a view valid
        until the next step, run or close)."""
        ids, n = POINTER(c_uint32)(), c_uint64()
        self._c(lib().n4d_sim_last_spikes(self._handle, byref(ids), byref(n)))
        return _view(ids, n.value, np.uint32).copy() if copy else _view(ids, n.value, np.uint32,
                                                                         self)

    def clear_spikes(self):
        self._c(lib().n4d_sim_clear_spikes(self._handle))

    def spiked_at(self, neuron, step):
        """Whether ``neuron`` spiked at ``step`` (within the history window)."""
        neuron, step = _index(neuron, "spiked_at: neuron"), _index(step, "spiked_at: step")
        return bool(self._c(lib().n4d_sim_spiked_at(self._handle, neuron, step)))

    # -- state and input ----------------------------------------------------------------

    def state(self, var="v"):
        """A copy of state variable ``var`` of every neuron (float32, by id; NaN where
        the neuron's model lacks it): "v", "ge", "gi", "u", "w", "i_ext", "refractory"..."""
        n = self._model.num_neurons
        out = np.empty(n, np.float32)
        self._c(lib().n4d_sim_get_state(self._handle, _b(var), _ptr(out, c_float), n))
        return out

    def set_state(self, var, values):
        n = self._model.num_neurons
        v = np.asarray(values, np.float32)
        if v.ndim > 1 or (v.ndim == 1 and v.shape[0] != n):
            raise InvalidArgError("set_state: a scalar or %d values (one per neuron), got shape %r"
                                  % (n, v.shape), -1, "invalid argument")
        a = np.ascontiguousarray(np.broadcast_to(v, (n,)))
        self._c(lib().n4d_sim_set_state(self._handle, _b(var), _ptr(a, c_float), n))

    def add_input(self, ids, values):
        """Adds values to the external input of neurons ``ids`` for the next step
        (scalars or arrays)."""
        ids = [_index(i, "add_input: neuron id") for i in np.atleast_1d(np.asarray(ids)).tolist()]
        try:
            vals = np.broadcast_to(np.asarray(values, np.float32), (len(ids),))
        except ValueError:
            raise InvalidArgError("add_input: %d ids but values of shape %r"
                                  % (len(ids), np.shape(values)), -1, "invalid argument") from None
        n = self._model.num_neurons
        bad = [i for i in ids if i >= n]
        if bad:  # checked before any input is added
            raise RangeError("add_input: neuron %d does not exist (%d neurons)" % (bad[0], n), -7,
                             "out of range")
        L, h = lib(), self._handle
        for i, v in zip(ids, vals.tolist()):
            self._c(L.n4d_sim_add_input(h, i, v))

    def feed_sense(self, name, matrix, z_layer=0):
        """Feeds a 2D matrix (rows along x) into sense ``name`` for the next step."""
        m = np.ascontiguousarray(matrix, dtype=np.float32)
        if m.ndim != 2:
            raise InvalidArgError("feed_sense: a 2D matrix, got shape %r" % (m.shape,), -1,
                                  "invalid argument")
        self._c(lib().n4d_sim_feed_sense(self._handle, _b(name), _ptr(m, c_float), m.shape[0],
                                         m.shape[1], int(z_layer)))

    def trace(self, var, steps, ids=None, every=1):
        """Runs ``steps`` steps, sampling ``var`` of ``ids`` (default: all) at the start
        and after every ``every``-th step: Trace(times ms, ids, values [samples, ids])."""
        every = int(every)
        if every < 1:
            raise InvalidArgError("trace: every must be >= 1", -1, "invalid argument")
        sel = np.arange(self._model.num_neurons) if ids is None else np.asarray(ids, np.int64)
        times, rows = [self.time_ms], [self.state(var)[sel]]
        done = 0
        while done + every <= steps:
            self.run(every)
            done += every
            times.append(self.time_ms)
            rows.append(self.state(var)[sel])
        if done < steps:
            self.run(steps - done)
        return Trace(np.array(times), sel, np.array(rows), var)

    # -- plasticity, modulators, lifecycle --------------------------------------------

    def get_weights(self, projection=None):
        """Current weights of a projection (or synapse class; None: all synapses):
        Weights(sources, targets, weights), ordered by source."""
        L, h = lib(), self._handle
        n = c_uint64()
        self._c(L.n4d_sim_get_weights(h, _b(projection), 0, None, None, None, byref(n)))
        s = np.empty(n.value, np.uint32)
        t = np.empty(n.value, np.uint32)
        w = np.empty(n.value, np.float32)
        self._c(L.n4d_sim_get_weights(h, _b(projection), n.value, _ptr(s, c_uint32),
                                      _ptr(t, c_uint32), _ptr(w, c_float), byref(n)))
        return Weights(s, t, w)

    def set_weights(self, projection, weights):
        """Sets the weights of the static synapses of a projection (None: every
        synapse) for this sim, in the order of get_weights (the same count)."""
        w = np.ascontiguousarray(np.asarray(weights, dtype=np.float32).ravel())
        self._c(lib().n4d_sim_set_weights(self._handle, _b(projection), _ptr(w, c_float),
                                          w.size))

    def set_modulator(self, name, level):
        self._c(lib().n4d_sim_set_modulator(self._handle, _b(name), float(level)))

    def modulator(self, name):
        """The level of modulator ``name`` for the next step."""
        v = c_double()
        self._c(lib().n4d_sim_get_modulator(self._handle, _b(name), byref(v)))
        return v.value

    def reward(self, reward, expected=0.0):
        """dopamine = clip(baseline + reward - expected, 0, 1)."""
        self._c(lib().n4d_sim_reward(self._handle, float(reward), float(expected)))

    def punishment(self, punishment, stress=0.0):
        self._c(lib().n4d_sim_punishment(self._handle, float(punishment), float(stress)))

    def novelty(self, uncertainty, novelty=0.0):
        self._c(lib().n4d_sim_novelty(self._handle, float(uncertainty), float(novelty)))

    def homeostatic_scale(self):
        n = self._model.num_neurons
        out = np.empty(n, np.float32)
        self._c(lib().n4d_sim_get_homeostatic_scale(self._handle, _ptr(out, c_float), n))
        return out

    def lineage(self, first=0, count=None):
        """Lineage of neurons [first, first + count): dict of arrays id, generation,
        parent, alive, age, health."""
        if count is None:
            count = self._model.num_neurons - first
        a = {"id": np.empty(count, np.uint64), "generation": np.empty(count, np.uint32),
             "parent": np.empty(count, np.int64), "alive": np.empty(count, np.uint8),
             "age": np.empty(count, np.uint64), "health": np.empty(count, np.float64)}
        self._c(lib().n4d_sim_get_lineage(
            self._handle, int(first), int(count), _ptr(a["id"], c_uint64),
            _ptr(a["generation"], c_uint32), _ptr(a["parent"], ctypes.c_int64),
            _ptr(a["alive"], ctypes.c_uint8), _ptr(a["age"], c_uint64),
            _ptr(a["health"], c_double)))
        a["alive"] = a["alive"].astype(bool)
        return a

    def lifecycle_counts(self):
        """(deaths, births) since the sim was created."""
        d, b = c_uint64(), c_uint64()
        self._c(lib().n4d_sim_lifecycle_counts(self._handle, byref(d), byref(b)))
        return d.value, b.value

    # -- storage ------------------------------------------------------------------------

    def checkpoint(self, path, **opts):
        """Saves the model and the full state (Sim.resume continues it bit for bit)."""
        self._c(lib().n4d_sim_checkpoint(self._handle, _path(path),
                                         byref(_save_options(opts))))

    def save_model(self, path, **opts):
        """Saves the model with the sim's learned weights (Model.load reads it)."""
        self._c(lib().n4d_sim_save_model(self._handle, _path(path),
                                         byref(_save_options(opts))))

    def record(self, path, *, ids=None, vars="v", every=1, weights=None, gzip=False,
               buffer_spikes=None):
        """Records spikes (and the state ``vars`` of neurons ``ids``, and the weights
        of projection ``weights``, every ``every`` steps) to HDF5 from now on; the
        file appears at ``path`` when the recording is closed (record_close, the
        returned object's close() / with block, or the sim's close)."""
        o = new(_lib.n4d_record_options, "n4d_record_options_init")
        if buffer_spikes is not None:
            o.buffer_spikes = int(buffer_spikes)
        o.compression = 1 if gzip else 0
        keep = None
        if ids is not None:
            keep = np.ascontiguousarray(ids, dtype=np.uint64)
            o.report_ids, o.n_report_ids = _ptr(keep, c_uint64), keep.size
        o.report_vars = _b(vars if isinstance(vars, str) else ",".join(vars))
        o.report_every = int(every)
        o.report_weights = _b(weights)
        self._c(lib().n4d_sim_record_open(self._handle, _path(path), byref(o)))
        self._record_keep = (keep, o)
        return Recording(self, os.fspath(path))

    def record_close(self):
        """Flushes and closes the recording; the file is then at its path."""
        try:
            self._c(lib().n4d_sim_record_close(self._handle))
        finally:
            self._record_keep = None

    # -- compression and profiling --------------------------------------------------------

    def enable_compression(self, **opts):
        """Inactive-neuron compression (threshold_steps, check_every, level)."""
        o = new(_lib.n4d_compress_options, "n4d_compress_options_init")
        _set_fields(o, opts, "compression")
        self._c(lib().n4d_sim_compression_enable(self._handle, byref(o)))

    def disable_compression(self):
        self._c(lib().n4d_sim_compression_disable(self._handle))

    def compression_stats(self):
        s = new(_lib.n4d_compress_stats)
        self._c(lib().n4d_sim_compression_stats(self._handle, byref(s)))
        return {f: getattr(s, f) for f, _ in s._fields_ if f != "struct_size"}

    def restore_neuron(self, neuron):
        """n4d_sim_restore_neuron: decompresses the block holding ``neuron``."""
        self._c(lib().n4d_sim_restore_neuron(self._handle, int(neuron)))

    def compressed_neurons(self):
        """n4d_sim_compressed_neurons: a bool array, True for neurons in compressed blocks."""
        n = self._model.num_neurons
        out = np.zeros(max(n, 1), np.uint8)
        self._c(lib().n4d_sim_compressed_neurons(self._handle, _ptr(out, ctypes.c_uint8), n))
        return out[:n].astype(bool)

    def optimize_memory(self, flags=("shrink", "compress")):
        """n4d_sim_optimize_memory ("shrink", "history", "compress")."""
        from . import perf
        return perf.optimize_memory(self, flags)

    def profile(self, on=True):
        """Turns the section profiler on or off."""
        self._c(lib().n4d_sim_profile_enable(self._handle, int(bool(on))))

    def profile_start(self, name):
        """Starts the caller's section ``name`` (a no-op while the profiler is off)."""
        self._c(lib().n4d_sim_profile_start(self._handle, _b(name)))

    def profile_stop(self, name):
        self._c(lib().n4d_sim_profile_stop(self._handle, _b(name)))

    def profile_add(self, name, seconds):
        """Adds an interval measured by the caller to section ``name``."""
        self._c(lib().n4d_sim_profile_add(self._handle, _b(name), float(seconds)))

    def profile_reset(self):
        self._c(lib().n4d_sim_profile_reset(self._handle))

    def profile_entries(self):
        """The profiler's sections: [{name, calls, total_s, mean_s, min_s, max_s}]."""
        L, h = lib(), self._handle
        n = ctypes.c_size_t()
        self._c(L.n4d_sim_profile_get(h, None, 0, byref(n)))
        arr = (_lib.n4d_profile_entry * max(n.value, 1))()
        self._c(L.n4d_sim_profile_get(h, arr, n.value, byref(n)))
        return [{"name": _s(e.name), "calls": e.calls, "total_s": e.total_s,
                 "mean_s": e.mean_s, "min_s": e.min_s, "max_s": e.max_s}
                for e in arr[:n.value]]

    def profile_report(self):
        """The profiler's section table as text."""
        L, h = lib(), self._handle
        n = ctypes.c_size_t()
        self._c(L.n4d_sim_profile_report(h, None, 0, byref(n)))
        buf = ctypes.create_string_buffer(n.value + 1)
        self._c(L.n4d_sim_profile_report(h, buf, len(buf), byref(n)))
        return _s(buf.value)

    # -- lifetime ----------------------------------------------------------------------------

    def close(self):
        """Frees the sim (closing an open recording, whose file then appears).
        Refused (StateError) while views from copy=False are alive: they read the
        sim's memory; delete them (or take copies) first."""
        if self._h and len(getattr(self, "_views", ())):
            raise StateError("close: %d array view(s) from copy=False still read this sim's "
                             "memory; delete them first (or take copies)" % len(self._views),
                             -8, "invalid state")
        h, self._h = self._h, None
        if h:
            self._destroy(h)
            self._record_keep = None
            try:
                self._model._sim_cells.remove(self._cell)
            except (AttributeError, ValueError):
                pass

    def __repr__(self):
        if self.closed:
            return "<n4d.Sim closed>"
        return "<n4d.Sim %s, step %d, %d spikes>" % (self.backend, self.current_step,
                                                     self.total_spikes)


class Recording:
    """An open HDF5 recording of a sim (Sim.record); close() puts the file in place."""

    def __init__(self, sim, path):
        self.sim, self.path, self._open = sim, path, True

    def close(self):
        if self._open:
            self._open = False
            if not self.sim.closed:
                self.sim.record_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def resume(path, **kw):
    """n4d.Sim.resume(path, backend=None, threads=0, mmap=False)."""
    return Sim.resume(path, **kw)
