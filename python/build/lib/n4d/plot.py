"""Plots of simulations and spike files (matplotlib). Every function returns
the matplotlib Axes it drew on; with ``path=`` the figure is also saved.

Sources of spikes: an n4d.Sim (its recorded spikes and populations), an
n4d.Spikes, an n4d.spikefile.SpikeData, or the path of a spike file (.csv or
.h5 as the `n4d` program writes them). Without a display (no $DISPLAY and
no $MPLBACKEND) matplotlib's Agg backend is used.
"""

import os
import sys

import numpy as np

import matplotlib

if ("matplotlib.pyplot" not in sys.modules and not os.environ.get("DISPLAY")
        and not os.environ.get("MPLBACKEND")):
    matplotlib.use("Agg")

from .spikefile import SpikeData, read_spikes  # noqa: E402


def _spike_data(source):
    from .core import Sim, Spikes
    if isinstance(source, SpikeData):
        return source
    if isinstance(source, Sim):
        sp = source.spikes()
        groups = [(p.name, p.first, p.count) for p in source.model.populations]
        return SpikeData(sp.times, sp.ids.astype(np.int64), groups)
    if isinstance(source, Spikes):
        return SpikeData(source.times, source.ids.astype(np.int64), [("all", 0, None)])
    if isinstance(source, (str, bytes, os.PathLike)):
        return read_spikes(source)
    raise TypeError("not a spike source: %r (an n4d.Sim, n4d.Spikes, SpikeData or a path)"
                    % (source,))


def _axes(ax, path, figsize=(8, 4.5)):
    if ax is not None:
        return ax
    if path is not None:  # no pyplot state: nothing to close, works headless
        from matplotlib.figure import Figure
        return Figure(figsize=figsize).add_subplot()
    import matplotlib.pyplot as plt
    return plt.subplots(figsize=figsize)[1]


def _finish(ax, path, title):
    if title:
        ax.set_title(title)
    if path is not None:
        ax.figure.tight_layout()
        ax.figure.savefig(os.fspath(path), dpi=120)
    return ax


def _group_of(ids, groups):
    firsts = np.array([g[1] for g in groups])
    return np.searchsorted(firsts, ids, side="right") - 1


def raster(source, ax=None, path=None, title=None, markersize=1.5, max_spikes=None):
    """Spike raster (time in ms against neuron id), one colour per population.
    ``max_spikes`` draws an even subsample of that many spikes at most."""
    d = _spike_data(source)
    ax = _axes(ax, path)
    t, ids = d.times, d.ids
    if max_spikes is not None and len(t) > max_spikes:
        keep = np.linspace(0, len(t) - 1, int(max_spikes)).astype(np.int64)
        t, ids = t[keep], ids[keep]
    g = _group_of(ids, d.groups) if len(d.groups) > 1 else np.zeros(len(ids), int)
    for k, (name, _, _) in enumerate(d.groups):
        sel = g == k
        ax.plot(t[sel], ids[sel], ".", ms=markersize, color="C%d" % (k % 10),
                label="%s (%d)" % (name, sel.sum()), rasterized=True)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("neuron id")
    if len(d.groups) > 1:
        ax.legend(loc="upper right", markerscale=6, fontsize="small")
    return _finish(ax, path, title if title is not None else "%d spikes" % len(d.times))


def rates(source, bin_ms=5.0, ax=None, path=None, title=None):
    """Population rates over time: spikes per bin of ``bin_ms``, in Hz per neuron
    where the population's size is known (a Sim), else in spikes per second."""
    d = _spike_data(source)
    ax = _axes(ax, path)
    end = d.times.max() if len(d.times) else 0.0
    if hasattr(source, "time_ms"):  # a Sim: up to its current time
        end = max(end, source.time_ms)
    edges = np.arange(0.0, end + bin_ms, bin_ms)
    if len(edges) < 2:
        edges = np.array([0.0, bin_ms])
    g = _group_of(d.ids, d.groups) if len(d.groups) > 1 else np.zeros(len(d.ids), int)
    per_neuron = all(n for _, _, n in d.groups)
    for k, (name, _, n) in enumerate(d.groups):
        counts, _ = np.histogram(d.times[g == k], bins=edges)
        r = counts / (bin_ms / 1000.0) / (n if per_neuron and n else 1)
        ax.step(edges[:-1], r, where="post", label=name, color="C%d" % (k % 10))
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("rate (Hz per neuron)" if per_neuron else "spikes per second")
    ax.legend(loc="upper right", fontsize="small")
    return _finish(ax, path, title)


def _read_report(path, var):
    import h5py
    times, ids, cols = None, [], []
    with h5py.File(os.fspath(path), "r") as f:
        if "report" not in f:
            raise ValueError("%s: no /report group (record with ids=...)" % path)
        for name, g in f["report"].items():
            if name == "weights" or "mapping" not in g:
                continue
            first_var = g["data"].attrs.get("variable_name", "v")
            if isinstance(first_var, bytes):
                first_var = first_var.decode()
            if var == first_var:
                data = g["data"]
            elif var in g and "data" in g[var]:
                data = g[var]["data"]
            else:
                continue
            first = int(f["spikes"][name].attrs.get("n4d_first_id", 0)) \
                if "spikes" in f and name in f["spikes"] else 0
            start, stop, step = g["mapping/time"][()]
            t = start + step * np.arange(data.shape[0])
            times = t if times is None else times
            ids.append(np.asarray(g["mapping/node_ids"][()], np.int64) + first)
            cols.append(np.asarray(data[()], np.float64))
    if times is None:
        raise ValueError("%s: no state report of %r" % (path, var))
    return times, np.concatenate(ids), np.concatenate(cols, axis=1)


def traces(source, ids=None, ax=None, path=None, title=None, var="v", max_traces=10):
    """Membrane (or other state) traces from a recorded state series: an n4d.Trace
    (Sim.trace), a (times, values[samples, neurons]) pair, or an HDF5 recording with
    a state report (Sim.record(ids=...), `n4d run --record-v`). ``ids`` picks
    neurons (default: the first ``max_traces``)."""
    from .core import Trace
    if isinstance(source, Trace):
        times, all_ids, values, var = source.times, source.ids, source.values, source.var
    elif isinstance(source, (str, bytes, os.PathLike)):
        times, all_ids, values = _read_report(source, var)
    else:
        times, values = source
        values = np.asarray(values)
        all_ids = np.arange(values.shape[1])
    all_ids = np.asarray(all_ids)
    if ids is None:
        cols = np.arange(min(max_traces, len(all_ids)))
    else:
        pos = {int(i): k for k, i in enumerate(all_ids)}
        missing = [int(i) for i in np.atleast_1d(ids) if int(i) not in pos]
        if missing:
            raise ValueError("traces: neurons %s were not recorded" % missing)
        cols = np.array([pos[int(i)] for i in np.atleast_1d(ids)])
    ax = _axes(ax, path)
    for c in cols:
        ax.plot(times, values[:, c], lw=1, label="neuron %d" % all_ids[c])
    ax.set_xlabel("time (ms)")
    ax.set_ylabel(var + (" (mV)" if var == "v" else ""))
    if len(cols) <= 10:
        ax.legend(loc="upper right", fontsize="small")
    return _finish(ax, path, title)


def lattice_slice(sim, values=None, z=None, w=0, ax=None, path=None, title=None,
                  cmap="viridis"):
    """Activity on the 4D lattice: ``values`` per neuron (default: each neuron's
    recorded spike count) summed per site and drawn as x-y images at layer ``z``
    and ``w``; with z None every z layer of ``w`` side by side (left to right)."""
    model = sim.model
    pos = model.positions()
    X, Y, Z, W = model.lattice_shape
    if values is None:
        values = np.bincount(sim.spikes().ids, minlength=model.num_neurons)
        label = "spikes"
    else:
        label = "value"
    values = np.asarray(values, np.float64)
    if values.shape != (model.num_neurons,):
        raise ValueError("lattice_slice: one value per neuron (%d), got shape %r"
                         % (model.num_neurons, values.shape))
    if not 0 <= w < W or (z is not None and not 0 <= z < Z):
        raise ValueError("lattice_slice: z=%r, w=%r outside the lattice %dx%dx%dx%d"
                         % (z, w, X, Y, Z, W))
    grid = np.full((Z, X, Y), np.nan)
    sel = pos[:, 3] == w
    p = pos[sel]
    acc = np.zeros((Z, X, Y))
    np.add.at(acc, (p[:, 2], p[:, 0], p[:, 1]), values[sel])
    has = np.zeros((Z, X, Y), bool)
    has[p[:, 2], p[:, 0], p[:, 1]] = True
    grid[has] = acc[has]
    layers = [z] if z is not None else list(range(Z))
    # tiles of x (left to right) by y (bottom up), in a near-square grid of layers
    cols = int(np.ceil(np.sqrt(len(layers))))
    rows = int(np.ceil(len(layers) / cols))
    img = np.full((rows * (Y + 1) - 1, cols * (X + 1) - 1), np.nan)
    corners = []
    for k, lz in enumerate(layers):
        r, c = (rows - 1 - k // cols), k % cols  # first layer at the top left
        img[r * (Y + 1):r * (Y + 1) + Y, c * (X + 1):c * (X + 1) + X] = grid[lz].T
        corners.append((c * (X + 1), r * (Y + 1) + Y, lz))
    ax = _axes(ax, path, figsize=(7, 6))
    im = ax.imshow(img, origin="lower", cmap=cmap, interpolation="nearest", aspect="equal")
    ax.figure.colorbar(im, ax=ax, label=label, shrink=0.8)
    if len(layers) == 1:
        ax.set_xlabel("x (z = %d, w = %d)" % (layers[0], w))
        ax.set_ylabel("y")
    else:
        for cx, cy, lz in corners:
            ax.text(cx, cy - 0.5, "z=%d" % lz, fontsize="x-small", va="top", color="w",
                    bbox=dict(fc="black", alpha=0.5, pad=1, lw=0))
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel("x-y planes of each z layer (w = %d)" % w)
    return _finish(ax, path, title)
