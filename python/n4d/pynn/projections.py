"""Projections as n4d projections: each PyNN connector maps onto one of n4d's
connection rules, and the synapses are drawn by n4d at the build (counter-
based, the same for any thread count), never connection by connection in
Python. Connectors with no n4d rule raise NotImplementedError."""

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

    def _translate(self, c):
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
            "FixedProbability, FixedNumberPre and FixedTotalNumber connectors); explicit "
            "connection lists are not supported" % type(c).__name__)

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
        return dict(self._rule, weight=_dist(w, scale, "weight"),
                    delay=_dist(d, 1.0, "delay"), syn_type=self.receptor_type,
                    name=self._n4d_name, synapse_model=model, synapse_params=params)

    def _n4d_add(self, model):
        model.add_projection(self._pre._n4d_name, self._post._n4d_name, **self._spec())

    # -- connections -------------------------------------------------------------------

    def _connections(self, want_delays=False):
        """(pre index, post index, weight in PyNN units, delay ms) of every
        connection, weights as the running sim has them (learned ones included)."""
        sim = state.ensure_sim()
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
        if np.isscalar(base):
            steps = max(1, int(math.floor(float(base) / dt + 0.5)))
            return pre, post, w, np.full(pre.size, steps * dt)
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
        raise NotImplementedError("pyNN.n4d: Projection.set: n4d projections take their "
                                  "weights and delays from the synapse type given at creation")
