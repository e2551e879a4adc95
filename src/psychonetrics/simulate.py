"""Simulate data from a model: power analysis, teaching, tests.

The model's family simulates its own kind of data from the model's current
values (the estimates of a fitted model, the start values otherwise): for the
two-level families, units i.i.d. within their cluster around the cluster's
random effect (:meth:`psychonetrics.families.base.Family.simulate`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from .model import Model


def generate(model: "Model", *, seed: int | None = None, group: int | str | None = None,
             **options: Any) -> pd.DataFrame:
    """Simulate a DataFrame of data from ``model``.

    Parameters
    ----------
    model : Model
        Fitted or specified model; its current parameter values are used.
    seed : int, optional
        Seed of numpy's default generator.
    group : int or str, optional
        Which group's values to use (multi-group models; default the first).
    **options
        The family's options; for the two-level families ``n_clusters`` (J),
        ``cluster_size`` (units per cluster: an int, a (low, high) range or
        one size per cluster; default 10) and ``cluster_column`` (default
        ``"cluster"``, ids 1..J).

    Returns
    -------
    DataFrame
        The observed variables and the cluster ids.

    Examples
    --------
    >>> import psychonetrics as pn
    >>> mod = pn.ml_lvm(pn.datasets.seed_example(), "F1 =~ y1 + y2 + y3; F2 =~ y4 + y5 + y6", clusters="cluster")
    >>> data = pn.generate(mod.runmodel(), n_clusters=100, cluster_size=(5, 15), seed=1)
    >>> data["cluster"].nunique()
    100
    """
    rng = np.random.default_rng(seed)
    g = model.group_index(group)
    return model.family.simulate(model.table.matrices(model.table.value, g), rng=rng, **options)
