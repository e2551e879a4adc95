"""Simulate two-level data from a model: power analysis, teaching, tests.

For cluster c of size n_c and unit i::

    y_ic = mu + b_c + w_ic,   b_c ~ N(0, Sigma_B),   w_ic ~ N(0, Sigma_W)

with mu, Sigma_W, Sigma_B the model's implied moments at its current values
(the estimates of a fitted model, the start values otherwise).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from .model import Model


def _factor(sigma: np.ndarray, *, argument: str) -> np.ndarray:
    """A matrix F with F F' = sigma (sigma positive semi-definite)."""
    vals, vecs = np.linalg.eigh(0.5 * (sigma + sigma.T))
    if vals.min() < -1e-8 * max(1.0, abs(vals).max()):
        raise ValueError(f"`model`: the implied {argument} is not positive semi-definite; cannot simulate from it.")
    return vecs * np.sqrt(np.clip(vals, 0.0, None))


def _sizes(n_clusters: int, cluster_size: int | Sequence[int] | tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    if isinstance(cluster_size, (int, np.integer)):
        sizes = np.full(n_clusters, int(cluster_size))
    elif isinstance(cluster_size, tuple) and len(cluster_size) == 2:
        lo, hi = cluster_size
        if not 1 <= lo <= hi:
            raise ValueError(f"`cluster_size`: expected (low, high) with 1 <= low <= high, got {cluster_size!r}.")
        sizes = rng.integers(lo, hi + 1, size=n_clusters)
    else:
        sizes = np.asarray(cluster_size, dtype=int)
        if sizes.shape != (n_clusters,):
            raise ValueError(f"`cluster_size`: expected an int, a (low, high) range or {n_clusters} sizes.")
    if (sizes < 1).any():
        raise ValueError("`cluster_size`: every cluster needs at least one unit.")
    return sizes


def generate(model: "Model", *, n_clusters: int, cluster_size: int | Sequence[int] | tuple[int, int] = 10,
             seed: int | None = None, group: int | str | None = None, cluster_column: str = "cluster") -> pd.DataFrame:
    """Simulate a DataFrame of two-level data from ``model``.

    Parameters
    ----------
    model : Model
        Fitted or specified model; its current parameter values are used.
    n_clusters : int
        J, the number of clusters.
    cluster_size : int, (low, high) or sequence of int
        Units per cluster: fixed, uniform on [low, high], or one size per cluster.
    seed : int, optional
        Seed of numpy's default generator.
    group : int or str, optional
        Which group's moments to use (multi-group models; default the first).

    Returns
    -------
    DataFrame
        The observed variables and ``cluster_column`` (cluster ids 1..J).

    Examples
    --------
    >>> import psychonetrics as pn
    >>> mod = pn.ml_lvm(pn.datasets.seed_example(), "F1 =~ y1 + y2 + y3; F2 =~ y4 + y5 + y6", clusters="cluster")
    >>> data = pn.generate(mod.runmodel(), n_clusters=100, cluster_size=(5, 15), seed=1)
    >>> data["cluster"].nunique()
    100
    """
    if not isinstance(n_clusters, (int, np.integer)) or n_clusters < 1:
        raise ValueError(f"`n_clusters`: expected a positive integer, got {n_clusters!r}.")
    rng = np.random.default_rng(seed)
    g = model.group_index(group)
    mom = model.family.implied(model.table.matrices(model.table.value, g))
    f_w = _factor(mom.sigma_within, argument="Sigma_W")
    f_b = _factor(mom.sigma_between, argument="Sigma_B")
    sizes = _sizes(int(n_clusters), cluster_size, rng)
    p = mom.mu.size
    between = rng.standard_normal((n_clusters, p)) @ f_b.T
    cluster = np.repeat(np.arange(n_clusters), sizes)
    within = rng.standard_normal((cluster.size, p)) @ f_w.T
    values = mom.mu + between[cluster] + within
    frame = pd.DataFrame(values, columns=list(model.family.observed))
    frame[cluster_column] = cluster + 1
    return frame
