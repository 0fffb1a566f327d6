"""PyNN's standard cell, synapse and current-source types on n4d's models.

Every type keeps PyNN's parameter names and units on the PyNN side (the
"native" names are the standard ones); the conversion to n4d's models and
units is done once, when the n4d model is built:

    IF_curr_exp  -> lif_exp       (currents nA -> mV: x tau_m / cm, the membrane resistance)
    IF_cond_exp  -> lif_cond_exp  (conductances uS -> relative to g_L = cm / tau_m)
    EIF_cond_exp_isfa_ista -> adex_cond (NEST aeif_cond_exp: nF, uS, nA -> pF, nS, pA)
    Izhikevich   -> izhikevich    (delta synapses: a weight w mV is a current w / dt
                                   for one step; currents nA -> x 1000, PyNN's 1 pF)
    SpikeSourcePoisson -> parrot neurons, each driven by its own Poisson train
    SpikeSourceArray   -> parrot neurons driven by an n4d "spikes" input (a spike
                          at t in step floor(t / dt + 0.001), as Brian2 bins them)

Types and parameters n4d cannot honour raise NotImplementedError naming
them; nothing is silently changed.
"""

import numpy as np

from pyNN.standardmodels import (StandardCurrentSource, build_translations, cells, electrodes,
                                 synapses, ModelNotAvailable)
from pyNN.parameters import ParameterSpace

from .simulator import state


def _scalars(ps, what):
    """{name: float} of a synapse (component) ParameterSpace; NotImplementedError
    for a parameter that is not one number for every synapse."""
    out = {}
    for k in ps.keys():
        v = ps[k]
        base = getattr(v, "base_value", v)
        if getattr(v, "operations", None) or not np.isscalar(base) or isinstance(base, str):
            raise NotImplementedError("pyNN.n4d: %s parameter %r must be one number for every "
                                      "synapse" % (what, k))
        out[k] = float(base)
    return out


def _identity(names):
    return build_translations(*[(n, n) for n in names])


class _N4DCell:
    """What the build needs from a cell type (PyNN parameter values are
    homogeneous floats here, checked by the population)."""

    n4d_model = None
    injectable_scale = None

    def n4d_params(self, p):
        raise NotImplementedError

    def weight_scale(self, p, receptor_type):
        """n4d weight per PyNN weight unit (nA, uS or mV) on this cell type."""
        raise NotImplementedError

    def current_scale(self, p):
        """n4d external input per nA."""
        raise NotImplementedError("pyNN.n4d: %s takes no injected current" % type(self).__name__)

    # state variables: PyNN unit <-> n4d unit
    def state_to_pynn(self, var, values, p):
        return values

    def state_from_pynn(self, var, values, p):
        return values

    n4d_state_names = {"v": "v"}


class IF_curr_exp(_N4DCell, cells.IF_curr_exp):
    __doc__ = cells.IF_curr_exp.__doc__
    translations = _identity(cells.IF_curr_exp.default_parameters)
    n4d_model = "lif_exp"

    def n4d_params(self, p):
        r = p["tau_m"] / p["cm"]  # membrane resistance, MOhm: nA -> mV
        return {"tau_m": p["tau_m"], "v_rest": p["v_rest"], "v_reset": p["v_reset"],
                "v_threshold": p["v_thresh"], "t_ref": p["tau_refrac"],
                "tau_syn_ex": p["tau_syn_E"], "tau_syn_in": p["tau_syn_I"],
                "i_e": p["i_offset"] * r}

    def weight_scale(self, p, receptor_type):
        return p["tau_m"] / p["cm"]

    def current_scale(self, p):
        return p["tau_m"] / p["cm"]


class IF_cond_exp(_N4DCell, cells.IF_cond_exp):
    __doc__ = cells.IF_cond_exp.__doc__
    translations = _identity(cells.IF_cond_exp.default_parameters)
    n4d_model = "lif_cond_exp"
    n4d_state_names = {"v": "v", "gsyn_exc": "ge", "gsyn_inh": "gi"}

    def n4d_params(self, p):
        r = p["tau_m"] / p["cm"]
        return {"tau_m": p["tau_m"], "v_rest": p["v_rest"], "v_reset": p["v_reset"],
                "v_threshold": p["v_thresh"], "t_ref": p["tau_refrac"],
                "tau_syn_ex": p["tau_syn_E"], "tau_syn_in": p["tau_syn_I"],
                "e_ex": p["e_rev_E"], "e_in": p["e_rev_I"], "i_e": p["i_offset"] * r}

    def weight_scale(self, p, receptor_type):
        return p["tau_m"] / p["cm"]  # uS relative to g_L = cm / tau_m

    def current_scale(self, p):
        return p["tau_m"] / p["cm"]

    def state_to_pynn(self, var, values, p):
        if var in ("gsyn_exc", "gsyn_inh"):
            return values * (p["cm"] / p["tau_m"])
        return values

    def state_from_pynn(self, var, values, p):
        if var in ("gsyn_exc", "gsyn_inh"):
            return values * (p["tau_m"] / p["cm"])
        return values


class EIF_cond_exp_isfa_ista(_N4DCell, cells.EIF_cond_exp_isfa_ista):
    __doc__ = cells.EIF_cond_exp_isfa_ista.__doc__
    translations = _identity(cells.EIF_cond_exp_isfa_ista.default_parameters)
    n4d_model = "adex_cond"  # NEST aeif_cond_exp, in pF, nS, pA
    n4d_state_names = {"v": "v", "w": "w", "gsyn_exc": "g_ex", "gsyn_inh": "g_in"}

    def n4d_params(self, p):
        return {"C_m": p["cm"] * 1000.0, "g_L": p["cm"] / p["tau_m"] * 1000.0,
                "E_L": p["v_rest"], "V_th": p["v_thresh"], "Delta_T": p["delta_T"],
                "tau_w": p["tau_w"], "a": p["a"], "b": p["b"] * 1000.0,
                "V_reset": p["v_reset"], "t_ref": p["tau_refrac"], "V_peak": p["v_spike"],
                "tau_syn_ex": p["tau_syn_E"], "tau_syn_in": p["tau_syn_I"],
                "E_ex": p["e_rev_E"], "E_in": p["e_rev_I"], "I_e": p["i_offset"] * 1000.0}

    def weight_scale(self, p, receptor_type):
        return 1000.0  # uS -> nS

    def current_scale(self, p):
        return 1000.0  # nA -> pA

    def state_to_pynn(self, var, values, p):
        return values / 1000.0 if var in ("w", "gsyn_exc", "gsyn_inh") else values

    def state_from_pynn(self, var, values, p):
        return values * 1000.0 if var in ("w", "gsyn_exc", "gsyn_inh") else values


class Izhikevich(_N4DCell, cells.Izhikevich):
    __doc__ = cells.Izhikevich.__doc__
    translations = _identity(cells.Izhikevich.default_parameters)
    n4d_model = "izhikevich"
    n4d_state_names = {"v": "v", "u": "u"}

    def n4d_params(self, p):
        # PyNN's Izhikevich (NEST izhikevich, pyNN.brian2): v_peak 30 mV, i_offset
        # over a 1 pF membrane: 1 nA = 1000 mV/ms
        return {"a": p["a"], "b": p["b"], "c": p["c"], "d": p["d"], "v_peak": 30.0,
                "i_e": p["i_offset"] * 1000.0}

    def weight_scale(self, p, receptor_type):
        # a PyNN weight is a jump of v in mV; n4d's synaptic input is a current
        # for one step
        return 1.0 / state.dt

    def current_scale(self, p):
        return 1000.0


class SpikeSourcePoisson(_N4DCell, cells.SpikeSourcePoisson):
    __doc__ = cells.SpikeSourcePoisson.__doc__
    translations = _identity(cells.SpikeSourcePoisson.default_parameters)
    n4d_model = "parrot"
    n4d_state_names = {}

    def n4d_params(self, p):
        return {}

    def n4d_inputs(self, p):
        """One Poisson train per neuron; the parrot spikes in each step it has an event."""
        if p["rate"] < 0:
            raise ValueError("SpikeSourcePoisson: rate must be >= 0, got %g" % p["rate"])
        if p["rate"] == 0 or p["duration"] <= 0:
            return []
        stop = p["start"] + p["duration"]
        return [dict(kind="poisson", rate=p["rate"], weight=1.0, n_sources=1,
                     start=p["start"], stop=min(stop, 1e15))]


def _seq_values(v):
    """The float array of a Sequence (or a plain list / number)."""
    v = getattr(v, "base_value", v)
    return np.asarray(getattr(v, "value", v), dtype=float).ravel()


class SpikeSourceArray(_N4DCell, cells.SpikeSourceArray):
    __doc__ = cells.SpikeSourceArray.__doc__
    translations = _identity(cells.SpikeSourceArray.default_parameters)
    n4d_model = "parrot"
    n4d_state_names = {}
    n4d_per_cell = ("spike_times",)  # may differ between the cells

    def n4d_params(self, p):
        return {}

    def n4d_cell_inputs(self, pop):
        """One n4d "spikes" input with every cell's times: the parrot spikes in the
        step of each time, floor(t / dt + 0.001) (Brian2's SpikeGeneratorGroup)."""
        vals = pop._parameters["spike_times"]
        dt = state.dt
        times, idx = [], []
        for i in range(pop.size):
            seq = vals[i] if isinstance(vals, np.ndarray) and vals.ndim else vals
            t = _seq_values(seq)
            if t.size == 0:
                continue
            if not np.all(np.isfinite(t)) or np.any(t < 0):
                bad = t[~(np.isfinite(t) & (t >= 0))][0]
                raise ValueError("SpikeSourceArray %r: cell %d has spike time %g ms (expected "
                                 "finite times >= 0)" % (pop.label, i, bad))
            steps = np.floor(t / dt + 1e-3).astype(np.int64)
            u, c = np.unique(steps, return_counts=True)
            if np.any(c > 1):
                s = u[c > 1][0]
                raise ValueError("SpikeSourceArray %r: cell %d has %d spikes in the step at "
                                 "%g ms (dt %g ms); a cell spikes at most once per step"
                                 % (pop.label, i, c[c > 1][0], s * dt, dt))
            times.append(t)
            idx.append(np.full(t.size, i, dtype=np.uint32))
        if not times:
            return []
        return [dict(kind="spikes", times=np.concatenate(times), indices=np.concatenate(idx),
                     weight=1.0)]


# Standard types n4d has no model for: using one raises NotImplementedError.
def _unavailable(base):
    return type(base.__name__, (ModelNotAvailable, base), {"__doc__": base.__doc__})


IF_curr_alpha = _unavailable(cells.IF_curr_alpha)
IF_cond_alpha = _unavailable(cells.IF_cond_alpha)
IF_curr_delta = _unavailable(cells.IF_curr_delta)
IF_cond_exp_gsfa_grr = _unavailable(cells.IF_cond_exp_gsfa_grr)
HH_cond_exp = _unavailable(cells.HH_cond_exp)
EIF_cond_alpha_isfa_ista = _unavailable(cells.EIF_cond_alpha_isfa_ista)
GIF_cond_exp = _unavailable(cells.GIF_cond_exp)
SpikeSourceGamma = _unavailable(cells.SpikeSourceGamma)
SpikeSourceInhGamma = _unavailable(cells.SpikeSourceInhGamma)
SpikeSourcePoissonRefractory = _unavailable(cells.SpikeSourcePoissonRefractory)


# ---- current sources ---------------------------------------------------------------

class _FixedAfterBuild:
    """What n4d's current sources share: the cells they were injected into
    (`_targets`), registration with the simulator state, and parameters that
    cannot change once the model is built."""

    def __init__(self, **parameters):
        object.__setattr__(self, "_targets", [])
        super().__init__(**parameters)  # PyNN's electrode class
        state.current_sources.append(self)

    def set_native_parameters(self, parameters):
        state.check_not_built("%s: changing a parameter" % type(self).__name__)
        parameters.evaluate(simplify=True)
        for name, value in parameters.items():
            self.parameter_space[name] = value

    def get_native_parameters(self):
        return ParameterSpace({k: self.parameter_space[k] for k in self.parameter_space.keys()},
                              self.get_schema(), (1,))


class DCSource(_FixedAfterBuild, electrodes.DCSource):
    """A DC current (nA) from `start` to `stop` ms, as an n4d "dc" input of the
    population it is injected into (whole populations only)."""

    __doc__ = electrodes.DCSource.__doc__
    translations = _identity(electrodes.DCSource.default_parameters)

    def inject_into(self, cells):
        __doc__ = StandardCurrentSource.inject_into.__doc__  # noqa: F841
        state.check_not_built("DCSource.inject_into")
        from .populations import Population
        pops = getattr(cells, "populations", None)  # an Assembly
        groups = pops if pops is not None else [cells]
        for g in groups:
            parent = g if isinstance(g, Population) else getattr(g, "grandparent", None)
            if parent is None or g.size != parent.size:
                raise NotImplementedError(
                    "pyNN.n4d: DCSource can be injected into whole populations only (n4d's "
                    "dc input has one amplitude per population), not into %r" % (g,))
            if not parent.celltype.injectable:
                raise TypeError("can't inject current into a spike source")
            self._targets.append(parent)

    def _n4d_add(self, model):
        ps = _scalars(self.parameter_space, "DCSource")
        amp, start, stop = ps["amplitude"], ps["start"], ps["stop"]
        for pop in self._targets:
            p = pop._homogeneous_parameters()
            model.add_input(pop._n4d_name, "dc", amplitude=amp * pop.celltype.current_scale(p),
                            start=start, stop=min(stop, 1e15))


class _N4DCurrentSource(_FixedAfterBuild):
    """A current source injected into cells of any populations (whole ones,
    views, assemblies or lists of IDs): one n4d input of `_n4d_kind` per
    population, on the cells it was injected into, scaled to the cell type's
    input unit. Its parameters cannot change after the build."""

    _n4d_kind = None

    def inject_into(self, cells):
        __doc__ = StandardCurrentSource.inject_into.__doc__  # noqa: F841
        state.check_not_built("%s.inject_into" % type(self).__name__)
        from .populations import Population
        pops = getattr(cells, "populations", None)  # an Assembly
        if pops is not None:
            groups = [(p if isinstance(p, Population) else p.grandparent,
                       None if isinstance(p, Population) else
                       p.index_in_grandparent(np.arange(p.size))) for p in pops]
        elif isinstance(cells, Population):
            groups = [(cells, None)]
        elif hasattr(cells, "grandparent"):  # a PopulationView
            groups = [(cells.grandparent, cells.index_in_grandparent(np.arange(cells.size)))]
        else:  # IDs
            by = {}
            for c in cells:
                by.setdefault(id(c.parent), (c.parent, []))[1].append(c.parent.id_to_index(c))
            groups = [(p, np.asarray(i)) for p, i in by.values()]
        for parent, idx in groups:
            if not parent.celltype.injectable:
                raise TypeError("can't inject current into a spike source")
            if idx is not None:
                idx = np.unique(np.asarray(idx, dtype=np.int64))
                if idx.size == parent.size:
                    idx = None
            self._targets.append((parent, idx))

    def _n4d_add(self, model):
        fields = self._n4d_fields()
        for pop, idx in self._targets:
            scale = pop.celltype.current_scale(pop._homogeneous_parameters())
            model.add_input(pop._n4d_name, self._n4d_kind, neurons=idx, **fields(scale))


def _window(ps):
    return dict(start=float(ps["start"]), stop=min(float(ps["stop"]), 1e15))


class StepCurrentSource(_N4DCurrentSource, electrodes.StepCurrentSource):
    """Amplitudes (nA) from the given times (ms, ascending, rounded to the nearest
    step as PyNN does; the later of two in one step wins) on, 0 before the first:
    an n4d "step_current" input on the cells it is injected into."""

    __doc__ = electrodes.StepCurrentSource.__doc__
    translations = _identity(electrodes.StepCurrentSource.default_parameters)
    _n4d_kind = "step_current"

    def _n4d_fields(self):
        t = _seq_values(self.parameter_space["times"])
        a = _seq_values(self.parameter_space["amplitudes"])
        if t.size != a.size:
            raise ValueError("StepCurrentSource: %d times but %d amplitudes" % (t.size, a.size))
        if np.any(t < 0) or np.any(np.diff(t) <= 0):
            raise ValueError("StepCurrentSource: times must be >= 0 and increasing")
        return lambda s: dict(times=t, values=a * s)


class ACSource(_N4DCurrentSource, electrodes.ACSource):
    """offset + amplitude sin(2 pi frequency (t - start) + phase) (nA, Hz,
    degrees) in [start, stop): an n4d "ac" input."""

    __doc__ = electrodes.ACSource.__doc__
    translations = _identity(electrodes.ACSource.default_parameters)
    _n4d_kind = "ac"

    def _n4d_fields(self):
        ps = _scalars(self.parameter_space, "ACSource")
        return lambda s: dict(amplitude=ps["amplitude"] * s, offset=ps["offset"] * s,
                              frequency=ps["frequency"], phase=ps["phase"], **_window(ps))


class NoisyCurrentSource(_N4DCurrentSource, electrodes.NoisyCurrentSource):
    """mean + stdev N(0, 1) (nA), a new draw for each cell every `dt` ms (at
    least one step) in [start, stop): an n4d "noise" input, drawn from n4d's
    counter generator (the same currents for any thread count; `rng_seed`)."""

    __doc__ = electrodes.NoisyCurrentSource.__doc__
    translations = _identity(electrodes.NoisyCurrentSource.default_parameters)
    _n4d_kind = "noise"

    def _n4d_fields(self):
        ps = _scalars(self.parameter_space, "NoisyCurrentSource")
        return lambda s: dict(amplitude=ps["mean"] * s, std=ps["stdev"] * abs(s),
                              interval=ps["dt"], **_window(ps))


# ---- synapses ------------------------------------------------------------------------

class _MinDelay:
    def _get_minimum_delay(self):
        d = state.min_delay
        return state.dt if d == "auto" else d


class StaticSynapse(_MinDelay, synapses.StaticSynapse):
    __doc__ = synapses.StaticSynapse.__doc__
    translations = _identity(["weight", "delay"])

    def n4d_synapse(self, scale):
        return None, None


class TsodyksMarkramSynapse(_MinDelay, synapses.TsodyksMarkramSynapse):
    __doc__ = synapses.TsodyksMarkramSynapse.__doc__
    translations = _identity(synapses.TsodyksMarkramSynapse.default_parameters)

    def n4d_synapse(self, scale):
        ps = self.parameter_space
        ps = _scalars({k: ps[k] for k in ("U", "tau_rec", "tau_facil")},
                      "TsodyksMarkramSynapse")
        # NEST's tsodyks2_synapse with u = 0, x = 1 at the start: the first spike
        # releases U (PyNN's and pyNN.brian2's initial condition)
        return "tsodyks", {"U": float(ps["U"]), "tau_rec": float(ps["tau_rec"]),
                           "tau_fac": float(ps["tau_facil"]), "u": 0.0, "x": 1.0}


class STDPMechanism(_MinDelay, synapses.STDPMechanism):
    __doc__ = synapses.STDPMechanism.__doc__
    base_translations = _identity(["weight", "delay", "dendritic_delay_fraction"])

    def n4d_synapse(self, scale):
        td, wd = self.timing_dependence, self.weight_dependence
        if self.voltage_dependence is not None:
            raise NotImplementedError("pyNN.n4d: STDPMechanism: voltage_dependence")
        if not isinstance(td, SpikePairRule):
            raise NotImplementedError("pyNN.n4d: STDP timing dependence %s (only SpikePairRule)"
                                      % type(td).__name__)
        if not isinstance(wd, (AdditiveWeightDependence, MultiplicativeWeightDependence)):
            raise NotImplementedError(
                "pyNN.n4d: STDP weight dependence %s (only AdditiveWeightDependence and "
                "MultiplicativeWeightDependence)" % type(wd).__name__)
        if self.dendritic_delay_fraction != 1.0:
            raise NotImplementedError(
                "pyNN.n4d: STDPMechanism dendritic_delay_fraction=%g: n4d's stdp treats the "
                "whole delay as dendritic (1.0, as NEST)" % self.dendritic_delay_fraction)
        p = {}
        for comp in (td, wd):
            p.update(_scalars(comp.parameter_space, "STDP"))
        if p["w_min"] != 0.0:
            raise NotImplementedError(
                "pyNN.n4d: STDP w_min=%g: n4d's stdp (NEST stdp_synapse) bounds weights to "
                "[0, w_max]; only w_min = 0 is supported" % p["w_min"])
        if p["A_plus"] == 0.0 and p["A_minus"] != 0.0:
            raise NotImplementedError("pyNN.n4d: STDP A_plus = 0 with A_minus != 0 (n4d: "
                                      "lambda = A_plus, alpha = A_minus / A_plus)")
        mu = 0.0 if isinstance(wd, AdditiveWeightDependence) else 1.0
        return "stdp", {"tau_plus": p["tau_plus"], "tau_minus": p["tau_minus"],
                        "lambda": p["A_plus"],
                        "alpha": p["A_minus"] / p["A_plus"] if p["A_plus"] else 1.0,
                        "mu_plus": mu, "mu_minus": mu, "Wmax": p["w_max"] * scale}


class SpikePairRule(synapses.SpikePairRule):
    __doc__ = synapses.SpikePairRule.__doc__
    translations = _identity(synapses.SpikePairRule.default_parameters)


class AdditiveWeightDependence(synapses.AdditiveWeightDependence):
    __doc__ = synapses.AdditiveWeightDependence.__doc__
    translations = _identity(synapses.AdditiveWeightDependence.default_parameters)


class MultiplicativeWeightDependence(synapses.MultiplicativeWeightDependence):
    __doc__ = synapses.MultiplicativeWeightDependence.__doc__
    translations = _identity(synapses.MultiplicativeWeightDependence.default_parameters)


AdditivePotentiationMultiplicativeDepression = _unavailable(
    synapses.AdditivePotentiationMultiplicativeDepression)
GutigWeightDependence = _unavailable(synapses.GutigWeightDependence)
Vogels2011Rule = _unavailable(synapses.Vogels2011Rule)
ElectricalSynapse = _unavailable(synapses.ElectricalSynapse)
