"""Network plots and two-level path diagrams drawn from plain arrays.

matplotlib is an optional dependency (``pip install "psychonetrics[plot]"``).
It is imported only when something is drawn, and only its non-interactive API
is used (a ``Figure`` with an Agg canvas, never pyplot), so plots work headless.

Every drawn element carries a ``gid`` so that it can be found afterwards:
network edges are ``Line2D`` objects with gid ``"edge:i-j"`` (``i < j``) and
nodes are ``Circle`` patches with gid ``"node:i"``; path-diagram arrows are
``FancyArrowPatch`` objects with gid ``"loading:<level>:k-i"`` (latent ``k``
to observed ``i``), ``"cov:<level>:k-l"`` or ``"beta:<level>:j-i"`` (``j``
predicts ``i``), where ``<level>`` is ``between`` or ``within``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._arg import choice, flag, preview

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_network", "plot_networks", "plot_path_diagram"]

POSITIVE_COLOR = "#0000D5"
NEGATIVE_COLOR = "#D50000"
LAYOUTS = ("circle", "spring")
SAVE_FORMATS = ("png", "svg", "pdf")
MISSING_MATPLOTLIB = 'Plotting needs matplotlib: pip install "psychonetrics[plot]"'

FloatArray = NDArray[np.float64]
PathLike = str | os.PathLike[str]


# --------------------------------------------------------------------------- helpers
def _require_matplotlib() -> None:
    """Import matplotlib, or raise ImportError telling how to install it."""
    try:
        import matplotlib.backends.backend_agg  # noqa: F401
        import matplotlib.figure  # noqa: F401
    except ImportError as exc:
        raise ImportError(MISSING_MATPLOTLIB) from exc


def _new_figure(width: float, height: float) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def _check_filename(filename: PathLike | None) -> str | None:
    """Return the save format implied by ``filename`` (None when not saving)."""
    if filename is None:
        return None
    if not isinstance(filename, (str, os.PathLike)):
        raise TypeError(f"`filename`: got {type(filename).__name__} (expected a str or path).")
    fmt = Path(filename).suffix.lower().lstrip(".")
    if fmt not in SAVE_FORMATS:
        suffix = Path(filename).suffix
        raise ValueError(f"`filename`: extension {suffix!r} is not supported (expected .png, .svg or .pdf).")
    return fmt


def _save(fig: Figure, filename: PathLike | None, fmt: str | None) -> None:
    if filename is not None:
        fig.savefig(os.fspath(filename), format=fmt, dpi=150, bbox_inches="tight", facecolor="white")


def _matrix(name: str, value: ArrayLike, shape: tuple[int, int] | None = None, *,
            symmetric: bool = False, hint: str = "") -> FloatArray:
    """Return ``value`` as a finite float matrix, checking its shape and symmetry."""
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"`{name}`: could not be read as numbers (expected a 2-D numeric array).") from exc
    if arr.ndim != 2:
        raise ValueError(f"`{name}`: has {arr.ndim} dimension(s) (expected a 2-D matrix).")
    if shape is None and arr.shape[0] != arr.shape[1]:
        raise ValueError(f"`{name}`: has shape {arr.shape} (expected a square p x p matrix).")
    if shape is not None and arr.shape != shape:
        raise ValueError(f"`{name}`: has shape {arr.shape} (expected {shape}{hint}).")
    if arr.size == 0:
        raise ValueError(f"`{name}`: is empty (expected at least one row and one column).")
    if not np.isfinite(arr).all():
        raise ValueError(f"`{name}`: contains NaN or infinite values (expected finite numbers).")
    if symmetric and not np.allclose(arr, arr.T, rtol=1e-6, atol=1e-8):
        raise ValueError(f"`{name}`: is not symmetric (expected a symmetric matrix).")
    return arr


def _mask(name: str, value: ArrayLike, p: int, *, symmetric: bool = True) -> NDArray[np.bool_]:
    """Boolean p x p mask; an undirected edge counts as marked when either triangle is True."""
    arr = np.asarray(value)
    if arr.dtype != np.bool_:
        raise TypeError(f"`{name}`: has dtype {arr.dtype} (expected a boolean matrix, e.g. `pvalues < 0.05`).")
    if arr.shape != (p, p):
        raise ValueError(f"`{name}`: has shape {arr.shape} (expected ({p}, {p}), the shape of the weights).")
    return arr | arr.T if symmetric else arr


def _names(name: str, value: Sequence[str], n: int | None = None, what: str = "") -> list[str]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise TypeError(f"`{name}`: got {type(value).__name__} (expected a sequence of names, e.g. a list of str).")
    names = [str(v) for v in value]
    if n is not None and len(names) != n:
        raise ValueError(f"`{name}`: got {len(names)} names (expected {n}, {what}).")
    return names


def _positive(name: str, value: float | None, *, allow_zero: bool = False) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"`{name}`: got {type(value).__name__} (expected a number).")
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"`{name}`: got {value!r} (expected a finite number {'>=' if allow_zero else '>'} 0).")
    return float(value)


def _root_figure(ax: Axes) -> Figure:
    from matplotlib.axes import Axes

    if not isinstance(ax, Axes):
        raise TypeError(f"`ax`: got {type(ax).__name__} (expected a matplotlib Axes).")
    return ax.figure.figure  # a SubFigure's .figure is its root; a Figure's is itself


# --------------------------------------------------------------------------- layouts
def _normalize(pos: FloatArray) -> FloatArray:
    """Centre a layout and scale it into [-1, 1] (aspect kept)."""
    centre = (pos.max(axis=0) + pos.min(axis=0)) / 2
    scale = np.abs(pos - centre).max()
    return (pos - centre) / scale if scale > 0 else np.zeros_like(pos)


def _circle_layout(p: int) -> FloatArray:
    """qgraph's circle: first node on top, then clockwise."""
    if p == 1:
        return np.zeros((1, 2))  # a single node in the middle
    angle = 2 * np.pi * np.arange(p) / p
    return np.column_stack([np.sin(angle), np.cos(angle)])


def _spring_layout(strength: FloatArray, *, seed: int = 0, iterations: int = 500) -> FloatArray:
    """Fruchterman-Reingold in a [-1, 1] box (attraction scaled by ``strength``), seeded, deterministic."""
    p = strength.shape[0]
    if p < 2:
        return np.zeros((p, 2))
    w = strength / strength.max() if strength.max() > 0 else strength
    pos = np.random.default_rng(seed).uniform(-1.0, 1.0, size=(p, 2))
    k = 0.6 * np.sqrt(4.0 / p)  # a bit under the ideal distance for p nodes in the 2 x 2 box
    for step in range(iterations):
        delta = pos[:, None, :] - pos[None, :, :]
        dist = np.maximum(np.sqrt((delta**2).sum(axis=-1)), 1e-3)
        pull = k * k / dist**2 - w * dist / k  # repulsion k^2/d minus attraction w d^2/k, per unit of delta
        np.fill_diagonal(pull, 0.0)
        force = (pull[..., None] * delta).sum(axis=1)
        length = np.maximum(np.sqrt((force**2).sum(axis=1)), 1e-12)
        temperature = 0.2 * (1.0 - step / iterations) + 1e-3
        pos = np.clip(pos + force * (np.minimum(length, temperature) / length)[:, None], -1.0, 1.0)
    return _normalize(pos)


def _positions(p: int, layout: str, positions: ArrayLike | None, strength: FloatArray) -> FloatArray:
    choice("layout", layout, LAYOUTS)
    if positions is not None:
        return _normalize(_matrix("positions", positions, (p, 2), hint=": one (x, y) row per node"))
    return _circle_layout(p) if layout == "circle" else _spring_layout(strength)


def _offdiag_max(weights: FloatArray, *, directed: bool = False) -> float:
    off = np.abs(weights if directed else weights[~np.eye(weights.shape[0], dtype=bool)])
    return float(off.max()) if off.size and off.max() > 0 else 1.0


# --------------------------------------------------------------------------- networks
def _draw_directed(ax: Axes, weights: FloatArray, pos: FloatArray, show: NDArray[np.bool_], *, radius: float,
                   max_weight: float, max_width: float, edge_labels: bool, fontsize: float) -> None:
    """Arrows from row i to column j (curved, so that i -> j and j -> i stay apart) and self-loops (the
    diagonal) as small rings outside the node, away from the centre."""
    from matplotlib.patches import Circle, FancyArrowPatch

    p = weights.shape[0]
    cells = [(i, j) for i in range(p) for j in range(p) if show[i, j]]
    for i, j in sorted(cells, key=lambda ij: abs(weights[ij])):  # strongest on top (a stable sort)
        value = weights[i, j]
        ratio = min(abs(value) / max_weight, 1.0)
        colour = POSITIVE_COLOR if value > 0 else NEGATIVE_COLOR
        width = max(ratio * max_width, 0.4)
        if i == j:
            out = pos[i] / max(np.hypot(*pos[i]), 1e-12) if np.hypot(*pos[i]) > 1e-9 else np.array([0.0, 1.0])
            centre = pos[i] + out * 1.55 * radius
            ax.add_patch(Circle(tuple(centre), 0.6 * radius, fill=False, ec=colour, lw=width, alpha=max(ratio, 0.1),
                                zorder=1 + ratio, gid=f"edge:{i}-{j}"))
            if edge_labels:
                ax.text(*(centre + out * 0.9 * radius), f"{value:.2f}", fontsize=0.7 * fontsize, ha="center",
                        va="center", zorder=3)
            continue
        ax.add_patch(FancyArrowPatch(tuple(pos[i]), tuple(pos[j]), arrowstyle="-|>", mutation_scale=8 + 6 * ratio,
                                     connectionstyle="arc3,rad=0.15", color=colour, lw=width, alpha=max(ratio, 0.1),
                                     shrinkA=0, shrinkB=0, zorder=1 + ratio, gid=f"edge:{i}-{j}",
                                     patchA=None, patchB=Circle(tuple(pos[j]), radius)))
        if edge_labels:
            mid = (pos[i] + pos[j]) / 2
            ax.text(*mid, f"{value:.2f}", fontsize=0.7 * fontsize, ha="center", va="center", zorder=3,
                    bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.85})


def _draw_network(ax: Axes, weights: FloatArray, labels: list[str], pos: FloatArray, show: NDArray[np.bool_], *,
                  max_weight: float, edge_labels: bool, title: str | None, directed: bool = False) -> None:
    from matplotlib.patches import Circle

    p = len(labels)
    dist = np.sqrt(((pos[:, None] - pos[None]) ** 2).sum(-1)) + np.eye(p) * 9.0
    radius = float(np.clip(0.38 * dist.min(), 0.05, 0.15)) if p > 1 else 0.15
    limit = 1.0 + radius + 0.05 + (2.2 * radius if directed and np.any(show[np.diag_indices(p)]) else 0.0)
    extent = ax.get_window_extent()
    points_per_unit = min(extent.width, extent.height) * 72 / ax.figure.dpi / (2 * limit)
    widest = max([len(s) for s in labels] + [2])
    fontsize = float(np.clip(1.15 * radius * points_per_unit / (0.6 * widest), 5.0, 12.0))
    max_width = 8.0 * np.exp(-p / 90) + 1.0  # points, after qgraph's esize default
    iu, ju = np.triu_indices(p, 1)
    if directed:
        _draw_directed(ax, weights, pos, show, radius=radius, max_weight=max_weight, max_width=max_width,
                       edge_labels=edge_labels, fontsize=fontsize)
        iu = ju = np.zeros(0, dtype=int)
    for idx in np.argsort(np.abs(weights[iu, ju]), kind="stable"):  # strongest edges on top
        i, j = int(iu[idx]), int(ju[idx])
        if not show[i, j]:
            continue
        value = weights[i, j]
        ratio = min(abs(value) / max_weight, 1.0)
        step = pos[j] - pos[i]
        unit = step / max(np.hypot(*step), 1e-12)
        a, b = pos[i] + unit * radius, pos[j] - unit * radius
        ax.plot([a[0], b[0]], [a[1], b[1]], color=POSITIVE_COLOR if value > 0 else NEGATIVE_COLOR,
                lw=max(ratio * max_width, 0.4), alpha=max(ratio, 0.1), solid_capstyle="round",
                zorder=1 + ratio, gid=f"edge:{i}-{j}")
        if edge_labels:
            ax.text(*(a + b) / 2, f"{value:.2f}", fontsize=0.7 * fontsize, ha="center", va="center", zorder=3,
                    bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.85})
    for i, label in enumerate(labels):
        ax.add_patch(Circle(tuple(pos[i]), radius, fc="white", ec="#444444", lw=1.2, zorder=4, gid=f"node:{i}"))
        ax.text(pos[i][0], pos[i][1], label, fontsize=fontsize, ha="center", va="center", zorder=5)
    ax.set_xlim(-limit, limit)
    ax.set_ylim(-limit, limit)
    ax.set_aspect("equal")
    ax.set_axis_off()
    if title is not None:
        ax.set_title(str(title))


def plot_network(weights: ArrayLike, labels: Sequence[str], *, title: str | None = None,
                 significant: ArrayLike | None = None, ax: Axes | None = None, layout: str = "circle",
                 max_weight: float | None = None, min_weight: float = 0.0, positions: ArrayLike | None = None,
                 edge_labels: bool = False, directed: bool = False, filename: PathLike | None = None) -> Figure:
    """Draw a weighted network, qgraph style: undirected, or directed (a temporal network).

    Parameters
    ----------
    weights : (p, p) array_like
        Symmetric edge weights (e.g. partial correlations; the diagonal is ignored), or with ``directed``
        the weight of the arrow from node i (row) to node j (column), the diagonal drawn as self-loops
        (e.g. partial directed correlations, autoregressions on the diagonal).
    labels : sequence of str
        One node label per row of ``weights``.
    title : str, optional
        Axes title.
    significant : (p, p) bool array_like, optional
        When given, only edges marked True (in either triangle) are drawn.
    ax : matplotlib Axes, optional
        Draw into this axes (its figure is returned) instead of a new figure.
    layout : {"circle", "spring"}
        ``"circle"``: first node on top, then clockwise. ``"spring"``: a seeded
        Fruchterman-Reingold layout with attraction ``|weights|``.
    max_weight : float, optional
        Weight drawn at full width and opacity; default the largest ``|weight|``.
        Width and alpha are proportional to ``|weight| / max_weight`` (capped at 1).
    min_weight : float
        Edges with ``|weight| <= min_weight`` are omitted (so are zero weights).
    positions : (p, 2) array_like, optional
        Node coordinates; override ``layout`` (rescaled to fit).
    edge_labels : bool
        Print each drawn edge's weight (2 decimals) at its middle.
    directed : bool
        Draw ``weights`` as a directed network (arrows, self-loops).
    filename : str or path, optional
        Also save the figure; the format follows the extension (.png, .svg, .pdf).

    Returns
    -------
    matplotlib.figure.Figure
        Edges are ``Line2D`` (undirected) or arrow and ring patches (directed) with gid ``"edge:i-j"``;
        nodes ``Circle`` with gid ``"node:i"``.
    """
    directed = flag("directed", directed)
    w = _matrix("weights", weights, symmetric=not directed)
    p = w.shape[0]
    names = _names("labels", labels, p, "one per row of `weights`")
    show = (_mask("significant", significant, p, symmetric=not directed) if significant is not None
            else np.ones((p, p), dtype=bool))
    top = _positive("max_weight", max_weight) or _offdiag_max(w, directed=directed)
    cut = _positive("min_weight", min_weight, allow_zero=True) or 0.0
    pos = _positions(p, layout, positions, np.abs(w) * (1 - np.eye(p)))
    fmt = _check_filename(filename)
    _require_matplotlib()
    if ax is None:
        fig = _new_figure(5.0, 5.0)
        ax = fig.add_axes((0.02, 0.02, 0.96, 0.9))
    else:
        fig = _root_figure(ax)
    _draw_network(ax, w, names, pos, show & (np.abs(w) > cut), max_weight=top, edge_labels=edge_labels, title=title,
                  directed=directed)
    _save(fig, filename, fmt)
    return fig


def plot_networks(networks: Mapping[str, ArrayLike], labels: Sequence[str] | Mapping[str, Sequence[str]], *,
                  significant: Mapping[str, ArrayLike] | None = None, max_weight: float | None = None,
                  min_weight: float = 0.0, layout: str = "circle", positions: ArrayLike | None = None,
                  edge_labels: bool = False, title: str | None = None, directed: Sequence[str] = (),
                  filename: PathLike | None = None) -> Figure:
    """Draw several networks side by side with one weight scale (and, on the same nodes, identical positions).

    Parameters
    ----------
    networks : mapping of str to (p, p) array_like
        Panel title to weight matrix, e.g. ``{"Within": omega_w, "Between": omega_b}``.
    labels : sequence of str, or mapping of str to sequence of str
        Node labels shared by all panels (every matrix then has one row per
        label), or per panel (keys those of ``networks``): panels on
        different nodes, such as the latent networks of a level-specific
        model, each with its own layout.
    significant : mapping of str to (p, p) bool array_like, optional
        Per-panel masks (keys a subset of ``networks``); panels without one draw every edge.
    max_weight : float, optional
        Shared full-scale weight; default the largest ``|weight|`` over the undirected panels, and
        separately over the directed ones.
    min_weight, layout, positions, edge_labels
        As in :func:`plot_network`; a spring layout uses the mean ``|weight|``
        over panels.  ``positions`` place the shared nodes (not available
        when the panels have different nodes).
    title : str, optional
        Figure title above the panels.
    directed : sequence of str
        Panels drawn as directed networks (see :func:`plot_network`), e.g. a temporal network beside
        the undirected contemporaneous and between-persons ones.
    filename : str or path, optional
        Also save the figure (.png, .svg or .pdf).

    Returns
    -------
    matplotlib.figure.Figure
        One axes per panel, in the order of ``networks``.
    """
    if not isinstance(networks, Mapping):
        raise TypeError(f"`networks`: got {type(networks).__name__} (expected a mapping of panel title to matrix).")
    if not networks:
        raise ValueError("`networks`: is empty (expected at least one panel).")
    arrows = {str(k) for k in _names("directed", directed)}
    unknown = sorted(arrows - {str(k) for k in networks})
    if unknown:
        raise ValueError(f"`directed`: unknown panel(s) {preview(unknown)} (expected keys of `networks`).")
    mats = {str(k): _matrix(f"networks[{k!r}]", v, symmetric=str(k) not in arrows) for k, v in networks.items()}
    if isinstance(labels, Mapping):
        keys = {str(k): k for k in labels}
        missing = [k for k in mats if k not in keys]
        unknown = [k for k in keys if k not in mats]
        if missing or unknown:
            what = f"no labels for {preview(missing)}" if missing else f"unknown panel(s) {preview(unknown)}"
            raise ValueError(f"`labels`: {what} (expected one label list per panel of `networks`).")
        names = {key: _names(f"labels[{key!r}]", labels[keys[key]], mat.shape[0],
                             f"one per row of `networks[{key!r}]`") for key, mat in mats.items()}
    else:
        p = next(iter(mats.values())).shape[0]
        for key, mat in mats.items():
            if mat.shape != (p, p):
                raise ValueError(f"`networks[{key!r}]`: has shape {mat.shape} (expected ({p}, {p}) like the first "
                                 "panel; panels on different nodes need per-panel `labels`).")
        shared_names = _names("labels", labels, p, "one per row of the weight matrices")
        names = {key: shared_names for key in mats}
    masks = {key: np.ones(mat.shape, dtype=bool) for key, mat in mats.items()}
    if significant is not None:
        if not isinstance(significant, Mapping):
            raise TypeError(f"`significant`: got {type(significant).__name__} (expected a mapping like `networks`).")
        unknown = [k for k in significant if str(k) not in mats]
        if unknown:
            raise ValueError(f"`significant`: unknown panel(s) {preview(unknown)} (expected keys of `networks`).")
        masks.update({str(k): _mask(f"significant[{k!r}]", v, mats[str(k)].shape[0], symmetric=str(k) not in arrows)
                      for k, v in significant.items()})
    given = _positive("max_weight", max_weight)
    # one scale for the undirected panels and one for the directed ones (partial directed correlations are
    # an order of magnitude below partial correlations)
    tops = {key: given or max(_offdiag_max(m, directed=key in arrows) for k, m in mats.items()
                              if (k in arrows) == (key in arrows)) for key in mats}
    cut = _positive("min_weight", min_weight, allow_zero=True) or 0.0
    first = next(iter(names.values()))
    if all(n == first for n in names.values()):  # the same nodes: the same place in every panel
        p = len(first)
        mean_abs = np.mean([np.abs(m) for m in mats.values()], axis=0) * (1 - np.eye(p))
        shared_pos = _positions(p, layout, positions, mean_abs)
        pos = {key: shared_pos for key in mats}
    else:
        if positions is not None:
            raise ValueError("`positions`: the panels have different nodes (per-panel `labels`), so one set of "
                             "positions cannot place them (draw each panel with plot_network and `ax=`).")
        pos = {key: _positions(m.shape[0], layout, None, np.abs(m) * (1 - np.eye(m.shape[0])))
               for key, m in mats.items()}
    fmt = _check_filename(filename)
    _require_matplotlib()
    n = len(mats)
    fig = _new_figure(4.5 * n, 4.9 if title is None else 5.3)
    top_edge = 0.9 if title is None else 0.84
    for index, (key, mat) in enumerate(mats.items()):
        ax = fig.add_axes((index / n + 0.01, 0.02, 1 / n - 0.02, top_edge - 0.02))
        _draw_network(ax, mat, names[key], pos[key], masks[key] & (np.abs(mat) > cut), max_weight=tops[key],
                      edge_labels=edge_labels, title=key, directed=key in arrows)
    if title is not None:
        fig.suptitle(str(title), fontsize=14)
    _save(fig, filename, fmt)
    return fig


# --------------------------------------------------------------------------- path diagram
def _latent_x(lam: FloatArray) -> FloatArray:
    """Place each latent above the mean position of its indicators, at least 1.2 apart."""
    p, m = lam.shape
    even = np.linspace(0.0, p - 1.0, m + 2)[1:-1]  # for a latent without indicators
    x = np.array([np.flatnonzero(lam[:, k]).mean() if lam[:, k].any() else even[k] for k in range(m)])
    placed, order = x.copy(), np.argsort(x, kind="stable")
    for prev, cur in zip(order[:-1], order[1:]):
        placed[cur] = max(placed[cur], placed[prev] + 1.2)
    return placed + (x.min() + x.max() - placed.min() - placed.max()) / 2


def _arrow(ax: Axes, a: tuple[float, float], b: tuple[float, float], patch_a: object, patch_b: object, *,
           value: float, gid: str, style: str = "-|>", height: float = 0.0, label_at: float = 0.5) -> None:
    """Arrow from ``a`` to ``b``; ``height`` != 0 bends it (same-row nodes) up (> 0) or down (< 0)."""
    from matplotlib.patches import FancyArrowPatch

    dx = b[0] - a[0]
    rad = -2.0 * height / dx if height and dx else 0.0  # arc3 control point sits 2 * height off the chord
    colour = "#222222" if value >= 0 else NEGATIVE_COLOR
    ax.add_patch(FancyArrowPatch(a, b, patchA=patch_a, patchB=patch_b, arrowstyle=style, mutation_scale=11,
                                 connectionstyle=f"arc3,rad={rad}", color=colour, lw=1.1, shrinkA=1, shrinkB=1,
                                 zorder=2, gid=gid))
    x = a[0] + label_at * (b[0] - a[0])
    y = a[1] + label_at * (b[1] - a[1]) + height
    ax.text(x, y, f"{value:.2f}", fontsize=7, ha="center", va="center", color=colour, zorder=3,
            bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.9})


def plot_path_diagram(lambda_: ArrayLike, latents: Sequence[str], observed: Sequence[str], *,
                      latent_cov_within: ArrayLike | None = None, latent_cov_between: ArrayLike | None = None,
                      beta_within: ArrayLike | None = None, beta_between: ArrayLike | None = None,
                      lambda_between: ArrayLike | None = None, latents_between: Sequence[str] | None = None,
                      title: str | None = None, filename: PathLike | None = None) -> Figure:
    """Draw a two-level factor model: between latents on top, observed boxes, within latents below.

    Parameters
    ----------
    lambda_ : (p, m) array_like
        Factor loadings, shared by both levels (or the within level's when
        ``lambda_between`` is given); zero entries are not drawn.
    latents : sequence of str
        The m latent names (columns of ``lambda_``).
    lambda_between, latents_between : array_like and sequence of str, optional
        The between level's own loadings (p x m_b, rows of the same
        ``observed``; a variable without a between part has a zero row) and
        latent names, for level-specific models.
    observed : sequence of str
        The p observed names (rows of ``lambda_``).
    latent_cov_within, latent_cov_between : (m, m) array_like, optional
        Symmetric latent (residual) covariances; non-zero off-diagonal entries are
        drawn as curved double-headed arrows on their level.
    beta_within, beta_between : (m, m) array_like, optional
        Latent regressions, ``beta[i, j]`` the effect of latent j on latent i
        (zero diagonal); drawn as arrows, straight between neighbours and bent
        otherwise so that they do not cross other latents.
    title : str, optional
        Figure title.
    filename : str or path, optional
        Also save the figure (.png, .svg or .pdf).

    Returns
    -------
    matplotlib.figure.Figure
        Arrows are ``FancyArrowPatch`` with gids as described in the module docstring.
    """
    obs = _names("observed", observed)
    names = {"within": _names("latents", latents)}
    names["between"] = names["within"] if latents_between is None else _names("latents_between", latents_between)
    lams = {"within": _matrix("lambda_", lambda_, (len(obs), len(names["within"])),
                              hint=": one row per `observed`, one column per `latents`")}
    lams["between"] = lams["within"] if lambda_between is None else _matrix(
        "lambda_between", lambda_between, (len(obs), len(names["between"])),
        hint=": one row per `observed`, one column per `latents_between`")
    p = len(obs)
    extra: dict[str, FloatArray] = {}
    for name, value in (("latent_cov_between", latent_cov_between), ("latent_cov_within", latent_cov_within),
                        ("beta_between", beta_between), ("beta_within", beta_within)):
        m = len(names[name.rsplit("_", 1)[1]])
        mat = np.zeros((m, m)) if value is None else _matrix(
            name, value, (m, m), symmetric=name.startswith("latent_cov"), hint=": one row and column per latent")
        if name.startswith("beta") and np.any(np.diag(mat) != 0):
            raise ValueError(f"`{name}`: has a non-zero diagonal (expected zeros: a latent cannot predict itself).")
        extra[name] = mat
    fmt = _check_filename(filename)
    _require_matplotlib()
    from matplotlib.patches import Circle, FancyBboxPatch

    places = {level: _latent_x(lam) for level, lam in lams.items()}
    radius, box_w, box_h, row = 0.38, 0.72, 0.42, 2.4
    low = min(float(x.min()) for x in places.values() if x.size) if any(x.size for x in places.values()) else 0.0
    high = max(float(x.max()) for x in places.values() if x.size) if any(x.size for x in places.values()) else 0.0
    left = min(-0.5, low - radius) - 1.6
    right = max(p - 0.5, high + radius) + 0.3
    inch = float(np.clip(0.85 * (right - left), 6.0, 18.0)) / (right - left)  # inches per data unit
    fig = _new_figure(inch * (right - left), 7.0)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))

    def text(x: float, y: float, label: str, room: float) -> None:  # room: available width in data units
        size = min(10.0, room * inch * 72 / (0.62 * max(len(label), 1)))
        ax.text(x, y, label, fontsize=size, ha="center", va="center", zorder=5)

    boxes: list[object] = []
    heights: dict[str, list[float]] = {"between": [0.0], "within": [0.0]}
    for i, name in enumerate(obs):
        boxes.append(ax.add_patch(FancyBboxPatch((i - box_w / 2, -box_h / 2), box_w, box_h, boxstyle="square,pad=0",
                                                 fc="white", ec="#222222", lw=1.2, zorder=4, gid=f"observed:{i}")))
        text(i, 0.0, name, 0.9 * box_w)
    for level, y, up in (("between", row, 1.0), ("within", -row, -1.0)):
        lat, lam, x_lat = names[level], lams[level], places[level]
        circles = []
        for k, name in enumerate(lat):
            circles.append(ax.add_patch(Circle((x_lat[k], y), radius, fc="#F2F2F2", ec="#222222", lw=1.2, zorder=4,
                                               gid=f"latent:{level}:{k}")))
            text(x_lat[k], y, name, 1.7 * radius)
        ax.text(left + 0.1, y, level.capitalize(), fontsize=12, fontweight="bold", ha="left", va="center")
        for i, k in zip(*np.nonzero(lam)):  # labels of an item's weaker loadings sit nearer their latent
            weaker = int((np.abs(lam[i]) > abs(lam[i, k])).sum())
            _arrow(ax, (x_lat[k], y), (float(i), 0.0), circles[k], boxes[i], value=lam[i, k],
                   gid=f"loading:{level}:{k}-{i}", label_at=0.62 - 0.2 * (weaker % 3))
        arcs: dict[tuple[int, int], int] = {}
        rank = np.argsort(np.argsort(x_lat, kind="stable"), kind="stable")

        def bend(a: int, b: int, *, straight_ok: bool) -> float:
            """0 (straight) for a first link between neighbours, else an outward arc height."""
            pair = (min(a, b), max(a, b))
            if straight_ok and abs(int(rank[a]) - int(rank[b])) == 1 and pair not in arcs:
                arcs[pair] = 0
                return 0.0
            arcs[pair] = arcs.get(pair, 0) + 1
            heights[level].append((0.25 + 0.18 * abs(x_lat[a] - x_lat[b])) * (1 + 0.5 * (arcs[pair] - 1)))
            return up * heights[level][-1]

        beta, cov = extra[f"beta_{level}"], extra[f"latent_cov_{level}"]
        for i, j in zip(*np.nonzero(beta)):  # j predicts i
            _arrow(ax, (x_lat[j], y), (x_lat[i], y), circles[j], circles[i], value=beta[i, j],
                   gid=f"beta:{level}:{j}-{i}", height=bend(j, i, straight_ok=beta[j, i] == 0))
        for k, l in zip(*np.nonzero(np.triu(cov, 1))):
            _arrow(ax, (x_lat[k], y), (x_lat[l], y), circles[k], circles[l], value=cov[k, l],
                   gid=f"cov:{level}:{k}-{l}", style="<|-|>", height=bend(k, l, straight_ok=False))
    top = row + radius + max(heights["between"]) + 0.4 + (0.6 if title is not None else 0.0)
    bottom = -row - radius - max(heights["within"]) - 0.4
    ax.set_xlim(left, right)
    ax.set_ylim(bottom, top)
    ax.set_aspect("equal")
    ax.set_axis_off()
    fig.set_size_inches(inch * (right - left), inch * (top - bottom))
    if title is not None:
        ax.text((left + right) / 2, top - 0.3, str(title), fontsize=13, ha="center", va="center")
    _save(fig, filename, fmt)
    return fig
