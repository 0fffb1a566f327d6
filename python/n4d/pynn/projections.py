"""Projections as n4d projections: each PyNN connector maps onto one of n4d's
connection rules, and the synapses are drawn by n4d at the build (counter-
based, the same for any thread count), never connection by connection in
Python. Connectors that list their connections (FromListConnector,
FromFileConnector, ArrayConnector), and AllToAll / OneToOne connectors with
per-connection weight or delay arrays, become n4d "explicit" projections:
the list is handed to n4d as arrays. Connectors with no n4d rule raise
NotImplementedError."""

import math

import numpy as np

from pyNN import common, connectors
from pyNN.random import RandomDistribution
from pyNN.space import Space

import n4d

from . import simulator
from .simulator import state
from .standardmodels import StaticSynapse


def _whole_population(p, what):
    from .populations import Population
    if isinstance(p, Population):
        return p
    gp = getattr(p, "grandparent", None)
    if gp is not None and p.size == gp.size and \
            np.array_equal(p.index_in_grandparent(np.arange(p.size)), np.arange(gp.size)):
        return gp
    raise NotImplementedError(
        "pyNN.n4d: the %s of a Projection must be a whole Population (n4d connects "
        "populations), not %r" % (what, p))


def _dist(value, scale, what):
    """A PyNN weight or delay (number or RandomDistribution) as an n4d.Dist times scale."""
    base = getattr(value, "base_value", value)
    if getattr(value, "operations", None):
        raise NotImplementedError("pyNN.n4d: %s: an expression of a random value" % what)
    if isinstance(base, RandomDistribution):
        par = base.parameters
        if base.name == "uniform":
            return n4d.uniform(par["low"] * scale, par["high"] * scale)
        if base.name == "normal":
            return n4d.normal(par["mu"] * scale, par["sigma"] * scale)
        if base.name == "normal_clipped_to_boundary":
            return n4d.normal(par["mu"] * scale, par["sigma"] * scale, par["low"] * scale,
                              par["high"] * scale)
        raise NotImplementedError(
            "pyNN.n4d: %s: RandomDistribution(%r); n4d draws uniform, normal and "
            "normal_clipped_to_boundary (normal clipped to its bounds)" % (what, base.name))
    if np.isscalar(base) and not isinstance(base, (str, bool)):
        return n4d.constant(float(base) * scale)
    raise NotImplementedError(
        "pyNN.n4d: %s: %s values; n4d takes a number or a RandomDistribution per projection, "
        "not values per connection" % (what, type(base).__name__))


class Projection(common.Projection):
    __doc__ = common.Projection.__doc__
    _simulator = simulator
    _static_synapse_class = StaticSynapse

    def __init__(self, presynaptic_population, postsynaptic_population, connector,
                 synapse_type=None, source=None, receptor_type=None, space=Space(),
                 label=None):
        state.check_not_built("creating a Projection")
        common.Projection.__init__(self, presynaptic_population, postsynaptic_population,
                                   connector, synapse_type, source, receptor_type, space, label)
        if source not in (None, "spike"):
            raise NotImplementedError("pyNN.n4d: Projection source %r" % (source,))
        self._pre = _whole_population(presynaptic_population, "presynaptic side")
        self._post = _whole_population(postsynaptic_population, "postsynaptic side")
        if not hasattr(self.synapse_type, "n4d_synapse"):
            raise NotImplementedError("pyNN.n4d: synapse type %s" % type(self.synapse_type).__name__)
        self._rule = self._translate(connector)
        self._n4d_name = "j%d" % len(state.projections)
        self._spec()  # errors now rather than at the first run
        state.projections.append(self)

    # -- translation -------------------------------------------------------------------

    def _pairs_of(self, c):
        """(pre, post, {column: values}) of a connector that lists its
        connections, else None."""
        if isinstance(c, connectors.FromFileConnector):  # a FromListConnector too
            f = c.file
            if c.distributed:
                raise NotImplementedError("pyNN.n4d: FromFileConnector(distributed=True) (one "
                                          "process)")
            cols = [x for x in f.get_metadata().get("columns", ("i", "j", "weight", "delay"))
                    if x not in ("i", "j")]
            data = np.asarray(f.read(), dtype=float)
            return self._list_columns(data, cols, "FromFileConnector")
        if type(c) is connectors.FromListConnector:
            data = np.asarray(c.conn_list, dtype=float)
            return self._list_columns(data, list(getattr(c, "column_names", ())),
                                      "FromListConnector")
        if type(c) is connectors.DistanceDependentProbabilityConnector:
            return self._distance_pairs(c)
        if type(c) is connectors.ArrayConnector:
            a = np.asarray(c.array)
            if a.shape != (self._pre.size, self._post.size):
                raise ValueError("ArrayConnector: an array of shape %s for populations of %d x "
                                 "%d cells" % (a.shape, self._pre.size, self._post.size))
            pre, post = np.nonzero(a.astype(bool))
            return pre, post, {}
        return None

    def _distance_pairs(self, c):
        """The pairs of a DistanceDependentProbabilityConnector: p = f(d) per
        pair, drawn with the connector's RNG row by row (as PyNN's other
        backends draw it), d the 4D distance between two Lattice4D populations,
        else the distance in the projection's Space (axes, scale, periodic
        boundaries)."""
        from .structure import Lattice4D
        if c.allow_self_connections == "NoMutual":
            raise NotImplementedError("pyNN.n4d: allow_self_connections='NoMutual'")
        pre, post = self._pre, self._post
        four = isinstance(pre.structure, Lattice4D) and isinstance(post.structure, Lattice4D)
        if four:
            A, B = pre.positions4d.T, post.positions4d.T
        else:
            A, B = pre.positions.T, post.positions.T
        f = c.distance_function
        same = pre is post
        rows_pre, rows_post = [], []
        for i in range(pre.size):
            if four:
                d = np.sqrt(((B - A[i]) ** 2).sum(axis=1))
            else:
                d = self.space.distances(A[i:i + 1], B)
            p = np.broadcast_to(np.asarray(f(d), dtype=float), (post.size,))
            if np.any(p > 1 + 1e-12) or np.any(p < 0) or not np.all(np.isfinite(p)):
                raise ValueError("DistanceDependentProbabilityConnector(%r): probabilities "
                                 "outside [0, 1]" % c.d_expression)
            u = np.asarray(c.rng.next(post.size, "uniform", {"low": 0.0, "high": 1.0}),
                           dtype=float).reshape(-1)
            j = np.flatnonzero(u < p)
            if same and not c.allow_self_connections:
                j = j[j != i]
            rows_pre.append(np.full(j.size, i, dtype=np.int64))
            rows_post.append(j.astype(np.int64))
        return np.concatenate(rows_pre), np.concatenate(rows_post), {}

    def _list_columns(self, data, cols, what):
        if data.size == 0:
            return np.empty(0, np.int64), np.empty(0, np.int64), {}
        if data.ndim != 2 or data.shape[1] != 2 + len(cols):
            raise ValueError("%s: rows of %d values for the columns i, j%s" % (
                what, 2 + len(cols), "".join(", " + x for x in cols)))
        bad = [x for x in cols if x not in ("weight", "delay")]
        if bad:
            raise NotImplementedError("pyNN.n4d: %s column %r: n4d takes per-connection "
                                      "weights and delays only" % (what, bad[0]))
        ij = data[:, :2]
        if np.any(ij != np.floor(ij)) or np.any(ij < 0):
            k = int(np.flatnonzero(np.any((ij != np.floor(ij)) | (ij < 0), axis=1))[0])
            raise ValueError("%s: connection %d: (%g, %g) is not a pair of cell indices"
                             % (what, k, ij[k, 0], ij[k, 1]))
        pre, post = ij[:, 0].astype(np.int64), ij[:, 1].astype(np.int64)
        for side, idx, pop in (("pre", pre, self._pre), ("post", post, self._post)):
            if idx.size and idx.max() >= pop.size:
                k = int(np.flatnonzero(idx >= pop.size)[0])
                raise IndexError("%s: connection %d: %s index %d is past %r (%d cells)"
                                 % (what, k, side, idx[k], pop.label, pop.size))
        return pre, post, {x: data[:, 2 + k] for k, x in enumerate(cols)}

    def _translate(self, c):
        listed = self._pairs_of(c)
        if listed is not None:
            pre, post, cols = listed
            return dict(rule="explicit", _pre=pre, _post=post, _cols=cols)
        ps = self.synapse_type.parameter_space
        arrays = [n for n in ("weight", "delay")
                  if isinstance(getattr(ps[n], "base_value", ps[n]), np.ndarray)]
        if arrays and type(c) in (connectors.AllToAllConnector, connectors.OneToOneConnector):
            # per-connection arrays on a deterministic connector: its pairs, explicitly
            if type(c) is connectors.OneToOneConnector:
                if self._pre.size != self._post.size:
                    raise ValueError("OneToOneConnector: populations of %d and %d cells"
                                     % (self._pre.size, self._post.size))
                pre = post = np.arange(self._pre.size)
            else:
                pre, post = np.meshgrid(np.arange(self._pre.size), np.arange(self._post.size),
                                        indexing="ij")
                pre, post = pre.ravel(), post.ravel()
                autapses = bool(getattr(c, "allow_self_connections", True))
                if self._pre is self._post and not autapses:
                    keep = pre != post
                    pre, post = pre[keep], post[keep]
            return dict(rule="explicit", _pre=pre, _post=post, _cols={})
        same = self._pre is self._post
        autapses = bool(getattr(c, "allow_self_connections", True)) or not same
        if getattr(c, "allow_self_connections", True) == "NoMutual":
            raise NotImplementedError("pyNN.n4d: allow_self_connections='NoMutual'")
        if type(c) is connectors.AllToAllConnector:
            return dict(rule="all_to_all", allow_autapses=autapses)
        if type(c) is connectors.OneToOneConnector:
            if self._pre.size != self._post.size:
                raise ValueError("OneToOneConnector: populations of %d and %d cells"
                                 % (self._pre.size, self._post.size))
            return dict(rule="one_to_one")
        if type(c) is connectors.FixedProbabilityConnector:
            return dict(rule="fixed_probability", p=c.p_connect, allow_autapses=autapses)
        if type(c) in (connectors.FixedNumberPreConnector, connectors.FixedTotalNumberConnector):
            if not isinstance(c.n, (int, np.integer)):
                raise NotImplementedError("pyNN.n4d: %s with n = %r (a fixed integer only)"
                                          % (type(c).__name__, c.n))
            rule = "fixed_indegree" if type(c) is connectors.FixedNumberPreConnector \
                else "fixed_total_number"
            return dict(rule=rule, n=int(c.n), allow_autapses=autapses,
                        allow_multapses=bool(c.with_replacement))
        if type(c) is connectors.FixedNumberPostConnector:
            raise NotImplementedError("pyNN.n4d: FixedNumberPostConnector: n4d has no fixed "
                                      "out-degree rule (FixedNumberPreConnector is n4d's "
                                      "fixed_indegree)")
        raise NotImplementedError(
            "pyNN.n4d: %s: n4d's connection rules are all_to_all, one_to_one, "
            "fixed_probability, fixed_indegree and fixed_total_number (AllToAll, OneToOne, "
            "FixedProbability, FixedNumberPre and FixedTotalNumber connectors), and explicit "
            "lists (FromListConnector, FromFileConnector, ArrayConnector, "
            "DistanceDependentProbabilityConnector)" % type(c).__name__)

    def _per_connection(self, name, pre, post, given, scale):
        """The values of parameter `name` for the listed connections times scale:
        the list's column, else the synapse type's value (an array indexed by
        (pre, post), or a RandomDistribution drawn here by its own RNG, as PyNN
        does); None for one number (n4d's constant)."""
        if given is not None:
            return np.asarray(given, dtype=float) * scale
        v = self.synapse_type.parameter_space[name]
        base = getattr(v, "base_value", v)
        if getattr(v, "operations", None):
            raise NotImplementedError("pyNN.n4d: %s: an expression of values" % name)
        if isinstance(base, np.ndarray):
            a = np.asarray(base, dtype=float)
            if a.shape != (self._pre.size, self._post.size):
                raise ValueError("%s array of shape %s for populations of %d x %d cells"
                                 % (name, a.shape, self._pre.size, self._post.size))
            return a[pre, post] * scale
        if isinstance(base, RandomDistribution):
            return np.asarray(base.next(pre.size), dtype=float).reshape(-1) * scale
        if np.isscalar(base) and not isinstance(base, (str, bool)):
            return None
        raise NotImplementedError("pyNN.n4d: %s: %s values" % (name, type(base).__name__))

    def _weight_scale(self):
        post = self._post
        return post.celltype.weight_scale(post._homogeneous_parameters(), self.receptor_type)

    def _spec(self):
        """The keywords of Model.add_projection for this projection."""
        scale = self._weight_scale()
        ps = self.synapse_type.parameter_space
        w = ps["weight"]
        base = getattr(w, "base_value", w)
        if np.isscalar(base) and not isinstance(base, str):
            from pyNN.standardmodels import check_weights
            check_weights(float(base), self)
        model, params = self.synapse_type.n4d_synapse(scale)
        d = ps["delay"]
        if self._rule["rule"] == "explicit":
            r = self._rule
            pre, post, cols = r["_pre"], r["_post"], r["_cols"]
            if "_wd" not in r:  # drawn once (a RandomDistribution), in PyNN units
                r["_wd"] = (self._per_connection("weight", pre, post, cols.get("weight"), 1.0),
                            self._per_connection("delay", pre, post, cols.get("delay"), 1.0))
            wv, dv = r["_wd"]
            from pyNN.standardmodels import check_weights
            if wv is not None and wv.size:
                check_weights(wv, self)
            if dv is not None and dv.size and not np.all(dv >= state.dt / 2):
                k = int(np.flatnonzero(~(dv >= state.dt / 2))[0])
                raise ValueError("Projection %s: connection %d (%d -> %d): delay %g ms is "
                                 "below one step (%g ms)" % (self.label, k, pre[k], post[k],
                                                            dv[k], state.dt))
            const_w = None if wv is not None else _dist(w, scale, "weight")
            const_d = None if dv is not None else _dist(d, 1.0, "delay")
            out = dict(rule="explicit", pre=pre, post=post, syn_type=self.receptor_type,
                       name=self._n4d_name, synapse_model=model, synapse_params=params,
                       weights=None if wv is None else wv * scale, delays=dv)
            if const_w is not None:
                out["weight"] = const_w
            if const_d is not None:
                out["delay"] = const_d
            return out
        return dict(self._rule, weight=_dist(w, scale, "weight"),
                    delay=_dist(d, 1.0, "delay"), syn_type=self.receptor_type,
                    name=self._n4d_name, synapse_model=model, synapse_params=params)

    def _n4d_add(self, model):
        model.add_projection(self._pre._n4d_name, self._post._n4d_name, **self._spec())

    # -- connections -------------------------------------------------------------------

    def _connections(self, want_delays=False, sim=None):
        """(pre index, post index, weight in PyNN units, delay ms) of every
        connection, weights as the running sim (or `sim`) has them (learned
        ones included)."""
        sim = sim if sim is not None else state.ensure_sim()
        try:
            W = sim.get_weights(self._n4d_name)
        except n4d.ConfigError as e:
            raise NotImplementedError("pyNN.n4d: the connections of %s cannot be told apart "
                                      "from another projection's: %s" % (self, e.detail)) from None
        pre = W.sources.astype(np.int64) - self._pre.first_id
        post = W.targets.astype(np.int64) - self._post.first_id
        w = W.weights.astype(float) / self._weight_scale()
        if self._post.celltype.conductance_based:
            w = np.abs(w)
        if not want_delays:
            return pre, post, w, None
        d = self.synapse_type.parameter_space["delay"]
        base = getattr(d, "base_value", d)
        dt = state.dt
        if np.isscalar(base) and not (self._rule["rule"] == "explicit" and
                                      self._rule["_wd"][1] is not None):
            steps = max(1, int(math.floor(float(base) / dt + 0.5)))
            return pre, post, w, np.full(pre.size, steps * dt)
        if self._rule["rule"] == "explicit":
            # the list's delays in n4d's order: by source, then delay, sign, target, weight
            r = self._rule
            lw, ld = r["_wd"]
            lpre, lpost = np.asarray(r["_pre"]), np.asarray(r["_post"])
            steps = np.maximum(1, np.floor(ld / dt + 0.5)).astype(np.int64)
            sw = self._spec()
            wq = sw["weights"] if sw.get("weights") is not None else \
                np.full(lpre.size, float(getattr(sw["weight"], "value", 0.0)))
            sign = (wq < 0) if self.receptor_type != "inhibitory" else np.ones(lpre.size, bool)
            o = np.lexsort((wq, lpost, sign, steps, lpre))
            if np.array_equal(lpre[o], pre) and np.array_equal(lpost[o], post):
                return pre, post, w, steps[o] * dt
        others = [p for p in state.projections if p is not self and p._pre is self._pre
                  and p._post is self._post]
        if others:
            raise NotImplementedError("pyNN.n4d: random delays of one of several projections "
                                      "between the same populations")
        m = state.model
        lo, hi = self._post.first_id, self._post.first_id + self._post.size
        rows = []
        for s in range(self._pre.first_id, self._pre.first_id + self._pre.size):
            syn = m.synapses(s)
            keep = (syn.targets >= lo) & (syn.targets < hi)
            rows.append((np.full(keep.sum(), s - self._pre.first_id), syn.targets[keep] - lo,
                         syn.delays_ms[keep]))
        ms = np.concatenate([r[0] for r in rows]) if rows else np.empty(0, int)
        mt = np.concatenate([r[1] for r in rows]) if rows else np.empty(0, int)
        md = np.concatenate([r[2] for r in rows]) if rows else np.empty(0)
        o1 = np.lexsort((post, pre))
        o2 = np.lexsort((mt, ms))
        delays = np.empty(pre.size)
        delays[o1] = md[o2]
        return pre, post, w, delays

    def __len__(self):
        return int(self._connections()[0].size)

    def _get_attributes_as_list(self, names):
        pre, post, w, d = self._connections(want_delays="delay" in names)
        cols = []
        for n in names:
            if n == "presynaptic_index":
                cols.append(pre)
            elif n == "postsynaptic_index":
                cols.append(post)
            elif n == "weight":
                cols.append(w)
            elif n == "delay":
                cols.append(d)
            else:
                raise NotImplementedError("pyNN.n4d: Projection.get(%r)" % n)
        return [tuple(float(c[i]) if k > 1 or names[k] not in
                      ("presynaptic_index", "postsynaptic_index") else int(c[i])
                      for k, c in enumerate(cols)) for i in range(pre.size)]

    def _get_attributes_as_arrays(self, names, multiple_synapses="sum"):
        pre, post, w, d = self._connections(want_delays="delay" in names)
        out = []
        for n in names:
            vals = {"weight": w, "delay": d}.get(n)
            if vals is None:
                raise NotImplementedError("pyNN.n4d: Projection.get(%r)" % n)
            a = np.full((self._pre.size, self._post.size), np.nan)
            if multiple_synapses == "sum":
                np.add.at(a, (pre, post), 0.0)  # placeholders for the pairs
                a[pre, post] = 0.0
                np.add.at(a, (pre, post), vals)
            elif multiple_synapses in ("last", "first"):
                order = slice(None) if multiple_synapses == "last" else slice(None, None, -1)
                a[pre[order], post[order]] = vals[order]
            else:
                f = np.fmin if multiple_synapses == "min" else np.fmax
                f.at(a, (pre, post), vals)
            out.append(a)
        return out

    def set(self, **attributes):
        """Sets the weights of the projection's connections (``weight``: a
        number, a (pre x post) array, a list in get() order, or a
        RandomDistribution), through n4d's per-sim weights
        (n4d_sim_set_weights). It holds for the running sim and every later
        one (after reset()); delays and plasticity parameters are fixed at the
        build and raise."""
        for name in attributes:
            if name != "weight":
                raise NotImplementedError(
                    "pyNN.n4d: Projection.set(%s=...): n4d fixes %s at the build (only "
                    "weights of static synapses can be set)" % (name, name))
        if not isinstance(self.synapse_type, StaticSynapse):
            raise NotImplementedError("pyNN.n4d: Projection.set(weight=...) on %s synapses: "
                                      "their rule owns the weights"
                                      % type(self.synapse_type).__name__)
        if not hasattr(self, "_weight_sets"):
            self._weight_sets = []
        self._weight_sets.append(attributes["weight"])
        if state.sim is not None:
            try:
                self._n4d_apply_sets(state.sim, last_only=True)
            except BaseException:
                self._weight_sets.pop()
                raise

    def _n4d_apply_sets(self, sim, last_only=False):
        sets = getattr(self, "_weight_sets", [])
        if not sets:
            return
        pre, post, w, _ = self._connections(sim=sim)
        scale = self._weight_scale()
        drawn = getattr(self, "_weight_drawn", {})
        self._weight_drawn = drawn
        for k, value in enumerate(sets):
            if last_only and k != len(sets) - 1:
                continue
            base = getattr(value, "base_value", value)
            if isinstance(base, RandomDistribution):
                if k not in drawn:  # drawn once, the same after reset()
                    drawn[k] = np.asarray(base.next(pre.size), dtype=float).reshape(-1)
                vals = drawn[k]
            else:
                a = np.asarray(base, dtype=float)
                if a.ndim == 0:
                    vals = np.full(pre.size, float(a))
                elif a.shape == (self._pre.size, self._post.size):
                    vals = a[pre, post]
                elif a.shape == (pre.size,):
                    vals = a
                else:
                    raise ValueError("Projection.set(weight=...): %s values for %d connections "
                                     "(%d x %d cells)" % (a.shape, pre.size, self._pre.size,
                                                           self._post.size))
            from pyNN.standardmodels import check_weights
            if vals.size:
                check_weights(vals, self)
            signed = np.abs(vals * scale)  # n4d's channel: inhibitory weights negative
            if self.receptor_type == "inhibitory":
                signed = -signed
            try:
                sim.set_weights(self._n4d_name, signed)
            except n4d.ConfigError as e:
                raise NotImplementedError("pyNN.n4d: the connections of %s cannot be told apart "
                                          "from another projection's: %s" % (self, e.detail)) \
                    from None
