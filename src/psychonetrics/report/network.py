"""Model-level plotting: network plots of omega matrices and the two-level path diagram."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .._arg import preview
from . import plots

if TYPE_CHECKING:
    from ..interface import FittedModel


def plot_model(model: "FittedModel", matrix: str | Sequence[str] | None = None, *, group: int | str | None = None,
               significant: bool = False, alpha: float = 0.01, filename: str | None = None, **kwargs: Any) -> Any:
    """Draw one or several networks of a fitted model side by side (partial-correlation networks; a temporal
    network with arrows from the effect's source to its target)."""
    family = model.family
    if matrix is None:
        chosen = family.networks()
    else:
        names = [matrix] if isinstance(matrix, str) else list(matrix)
        chosen = [family.network(name) for name in names]
    names = [net.matrix for net in chosen]
    if len(model.stats) > 1 and group is None:
        group = 0
    networks: dict[str, np.ndarray] = {}
    masks: dict[str, np.ndarray] = {}
    labels: dict[str, list[str]] = {}
    directed: list[str] = []
    for net in chosen:
        if not net.nodes:
            continue  # a level whose latent variables are all observed covariates has no latent network
        keep = np.ix_(net.nodes, net.nodes)
        # a directed network is drawn from its sources (rows) to its targets (columns): its display matrix,
        # or the transpose of a matrix whose [i, j] is the effect of node j on node i
        shown = net.display or net.matrix
        weights = np.asarray(model.getmatrix(shown, group=group), dtype=float)
        networks[net.title] = (weights.T if net.directed and net.display is None else weights)[keep]
        labels[net.title] = list(net.labels)
        if net.directed:
            directed.append(net.title)
        if significant:
            thresholded = np.abs(model.getmatrix(net.matrix, group=group, threshold=True, alpha=alpha)) > 0
            masks[net.title] = (thresholded.T if net.directed else thresholded)[keep]
    if not networks:
        raise ValueError(f"`matrix`: {preview(names)} ha{'s' if len(names) == 1 else 've'} no network nodes (every "
                         "row is an observed covariate of a regression, which is not a node).")
    if len(networks) == 1:
        title, weights = next(iter(networks.items()))
        return plots.plot_network(weights, labels[title], title=title, directed=title in directed,
                                  significant=masks.get(title) if significant else None, filename=filename, **kwargs)
    return plots.plot_networks(networks, labels, significant=masks if significant else None, filename=filename,
                               directed=directed, **kwargs)


def plot_path(model: "FittedModel", *, group: int | str | None = None, filename: str | None = None, **kwargs: Any) -> Any:
    """Path diagram of a fitted two-level factor model (shared loadings, latent covariances per level).

    Parameters
    ----------
    model : Model
        A model of the ``ml_lvm`` family (any wrapper).
    group : int or str, optional
        Group to draw (default the first).
    filename : str, optional
        Save the figure (``.png``, ``.svg`` or ``.pdf``).
    **kwargs
        Passed to :func:`psychonetrics.report.plots.plot_path_diagram`.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import psychonetrics as pn
    >>> data = pn.datasets.seed_example()
    >>> mod = pn.ml_lvm(data, "F1 =~ y1 + y2 + y3; F2 =~ y4 + y5 + y6", clusters="cluster").runmodel()
    >>> fig = pn.plot_path(mod, filename="path.png")
    >>> type(fig).__name__
    'Figure'
    """
    if len(model.stats) > 1 and group is None:
        group = 0
    parts = model.family.path_diagram(lambda name: np.asarray(model.getmatrix(name, group=group), dtype=float))
    if parts is None:
        raise ValueError("`model`: a path diagram needs a latent variable model (ml_lvm and its wrappers).")
    return plots.plot_path_diagram(**parts, filename=filename, **kwargs)


def plot_network(model: "FittedModel", matrix: str | Sequence[str] | None = None, *, filename: str | None = None,
                 **kwargs: Any) -> Any:
    """Network plot of a fitted model's ``omega_*`` matrices: functional form of ``model.plot(...)``.

    Edges are blue (positive) or red (negative), wider for stronger partial
    correlations.

    Parameters
    ----------
    model : Model
        A fitted model.
    matrix : str or sequence of str, optional
        Network matrices to draw side by side (default: every ``omega_*``
        matrix of the model; for models without one, the derived latent or
        observed networks of both levels).  Each panel's nodes are the rows of
        its matrix less the phantoms of a level-specific model (observed
        covariates in regressions); a matrix without other rows is left out.
    filename : str, optional
        Save the figure (``.png``, ``.svg`` or ``.pdf``).
    **kwargs
        ``group``, ``significant``, ``alpha`` (see :meth:`Model.plot`) and
        the drawing options of :func:`psychonetrics.report.plots.plot_network`.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import psychonetrics as pn
    >>> data = pn.datasets.seed_example()
    >>> ggm = pn.ml_ggm(data, clusters="cluster").runmodel()
    >>> fig = pn.plot_network(ggm, filename="networks.png")
    >>> len(fig.axes)
    2
    """
    return plot_model(model, matrix, filename=filename, **kwargs)
