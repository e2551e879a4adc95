"""Edge stability plot of a cluster bootstrap: every network edge with its bootstrap interval.

Conventions as in :mod:`psychonetrics.report.plots`: matplotlib is imported
only when drawing, through its non-interactive API (a ``Figure`` with an Agg
canvas), and drawn elements carry a ``gid``: for edge ``a--b`` of a level,
the interval is a ``LineCollection`` segment set with gid
``"interval:<level>"`` (one segment per edge, bottom to top), and the sample
and bootstrap-mean markers are ``Line2D`` objects with gids
``"sample:<level>"`` and ``"mean:<level>"``; a directed (temporal) network's
edges ``a -> b`` use its matrix name instead of the level.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .plots import NEGATIVE_COLOR, POSITIVE_COLOR, PathLike, _check_filename, _new_figure, _require_matplotlib, _save

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..families.base import Network
    from ..resampling.result import BootstrapResult


def plot_stability(result: "BootstrapResult", *, level: float = 0.95, group: int | str | None = None,
                   inclusion: bool | None = None, title: str | None = None,
                   filename: PathLike | None = None) -> "Figure":
    """Network edges sorted by their sample weight, with their bootstrap percentile intervals.

    One panel per network of the model, side by side (the within-cluster
    and the between-cluster network; a temporal, contemporaneous and
    between-persons network).  Every edge is a row: its interval as a horizontal bar, the
    sample weight as a dot (blue positive, red negative) and the bootstrap
    mean as a tick.  With a search, the right margin shows how often each
    edge was kept (the inclusion proportion).

    Parameters
    ----------
    result : BootstrapResult
        A bootstrap of a model with a network (``pn.bootstrap(model, ...)``).
    level : float
        Coverage of the intervals.
    group : int or str, optional
        Only this group's edges (default: every group; rows are then labelled by group).
    inclusion : bool, optional
        Show the inclusion proportions (default: when a search was used).
    title : str, optional
        Figure title.
    filename : str or path, optional
        Also save the figure; the format follows the extension (.png, .svg, .pdf).

    Returns
    -------
    matplotlib.figure.Figure
        One axes per network.

    Examples
    --------
    >>> import psychonetrics as pn
    >>> ggm = pn.ml_ggm(pn.datasets.seed_example(), clusters="cluster").runmodel()
    >>> boot = pn.bootstrap(ggm, n_boot=20, seed=1, jobs=1)
    >>> fig = pn.plot_stability(boot, filename="stability.png")
    >>> [ax.get_title() for ax in fig.axes]
    ['Within network', 'Between network']
    """
    if not callable(getattr(result, "edges", None)) or not hasattr(result, "search"):
        raise TypeError(f"`result`: expected a BootstrapResult (from `pn.bootstrap`), got {type(result).__name__}.")
    edges = result.edges(level=level)
    if edges.empty:
        raise ValueError("`result`: the bootstrapped model has no network edges to plot.")
    if group is not None:
        label = result.model.group_labels[result.model.group_index(group)]
        edges = edges[edges["group"] == label]
    show_inclusion = result.search is not None if inclusion is None else bool(inclusion)
    fmt = _check_filename(filename)
    _require_matplotlib()
    several_groups = edges["group"].nunique() > 1
    panels = _panels(result, edges)
    n_rows = max(1, max(len(frame) for _, _, frame in panels))
    height = max(3.0, 0.28 * n_rows + 1.8) + (0.35 if title else 0.0)
    n = len(panels)
    fig = _new_figure(5.5 * n, height)
    top = 1.0 - (0.45 + (0.35 if title else 0.0)) / height
    bottom = 1.2 / height
    for index, (net, gid, frame) in enumerate(panels):
        ax = fig.add_axes(((0.09 + index) / n, bottom, (0.66 if show_inclusion else 0.76) / n, top - bottom))
        _draw_panel(ax, frame, net, gid, several_groups=several_groups, inclusion=show_inclusion)
    _legend(fig, level, inclusion=show_inclusion)
    if title is not None:
        fig.suptitle(str(title), fontsize=13)
    _save(fig, filename, fmt)
    return fig


def _panels(result: "BootstrapResult", edges: pd.DataFrame) -> list[tuple["Network", str, pd.DataFrame]]:
    """One panel per network of the model, in the family's order: (network, gid suffix, its edges sorted by
    their sample weight).  Undirected networks are named by their level in gids, directed ones by matrix."""
    out = []
    for net in result.model.family.networks():
        frame = edges[edges["matrix"] == net.matrix]
        if frame.empty and net.directed:
            continue
        out.append((net, net.matrix if net.directed else net.level, frame.sort_values("sample", kind="stable")))
    return out


def _legend(fig: "Figure", level: float, *, inclusion: bool) -> None:
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color="0.55", linewidth=3.0), Line2D([], [], color=POSITIVE_COLOR, marker="o",
               linestyle="none"), Line2D([], [], color="black", marker="|", markersize=9, linestyle="none")]
    labels = [f"{100 * level:g}% bootstrap interval", "sample weight", "bootstrap mean"]
    note = "; right: proportion of replicates where the search kept the edge" if inclusion else ""
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=8, frameon=False, bbox_to_anchor=(0.5, 0.0))
    if note:
        fig.text(0.5, 0.045, note.lstrip("; ").capitalize(), ha="center", fontsize=8, color="0.3")


def _draw_panel(ax: "Axes", frame: pd.DataFrame, net: "Network", gid: str, *, several_groups: bool,
                inclusion: bool) -> None:
    from matplotlib.collections import LineCollection

    level = gid
    ax.set_title(net.title)
    if frame.empty:
        ax.text(0.5, 0.5, "no edges", ha="center", va="center", transform=ax.transAxes, color="0.4")
        ax.set_xticks([])
        ax.set_yticks([])
        return
    y = np.arange(len(frame), dtype=float)
    sample = frame["sample"].to_numpy(dtype=float)
    lower, upper = frame["lower"].to_numpy(dtype=float), frame["upper"].to_numpy(dtype=float)
    segments = [((lo, yy), (hi, yy)) for lo, hi, yy in zip(lower, upper, y) if np.isfinite(lo) and np.isfinite(hi)]
    bars = LineCollection(segments, colors="0.55", linewidths=3.0, gid=f"interval:{level}")
    ax.add_collection(bars)
    colors = np.where(sample >= 0, POSITIVE_COLOR, NEGATIVE_COLOR)
    ax.scatter(sample, y, c=list(colors), s=22, zorder=3, gid=f"sample:{level}")
    ax.plot(frame["boot_mean"].to_numpy(dtype=float), y, linestyle="none", marker="|", markersize=9, color="black",
            zorder=4, gid=f"mean:{level}")
    ax.axvline(0.0, color="0.75", linewidth=0.8, zorder=0)
    link = " -> " if net.directed else "--"
    labels = [f"{a}{link}{b}" + (f" ({g})" if several_groups else "")
              for a, b, g in zip(frame["node1"], frame["node2"], frame["group"])]
    ax.set_yticks(y)
    ax.set_yticklabels(labels, fontsize=8)
    ax.set_ylim(-0.7, len(frame) - 0.3)
    finite = np.concatenate([v[np.isfinite(v)] for v in (lower, upper, sample)])
    span = (float(finite.min()), float(finite.max())) if finite.size else (-1.0, 1.0)
    pad = 0.05 * max(span[1] - span[0], 0.1)
    ax.set_xlim(min(span[0], 0.0) - pad, max(span[1], 0.0) + pad)
    ax.set_xlabel("temporal effect" if net.directed else "edge weight (partial correlation)")
    if inclusion:
        for yy, prop in zip(y, frame["inclusion"].to_numpy(dtype=float)):
            ax.text(1.03, yy, f"{prop:.2f}", transform=ax.get_yaxis_transform(), va="center", fontsize=8,
                    color="black" if prop >= 0.5 else "0.5")
        ax.text(1.03, 1.01, "included", transform=ax.transAxes, fontsize=8, va="bottom")


__all__ = ["plot_stability"]
