"""Checks of the statistics that would make every two-level fit fail or mislead.

* A within-cluster covariance that is singular (a constant variable, a
  variable without within-cluster variation, or variables that are exact
  linear combinations of others) makes the likelihood unbounded: error,
  naming the variables involved.
* A variable whose cluster means are all equal (cluster-mean centred):
  the likelihood is unbounded (V_s can become singular): error.
* Fewer than 3 clusters: error (no between level can be estimated).
* Fewer clusters than the saturated between level's parameters
  (p + p(p+1)/2): warning, the between-level estimates are unstable; with
  J <= p the saturated between level is degenerate and the fit measures
  that compare with it are marked unavailable (see ``Model.fit``).
"""

from __future__ import annotations

import warnings

import numpy as np

from .._arg import preview
from ..exceptions import DataWarning
from .stats import TwoLevelStats


def check_statistics(stats: TwoLevelStats) -> None:
    """Raise ValueError for a singular within covariance; warn for too few clusters."""
    where = "" if stats.group is None else f" (group {stats.group!r})"
    if stats.n_clusters < 3:
        raise ValueError(
            f"`data`{where}: {stats.n_clusters} clusters; a two-level model needs at least 3 (the cluster means "
            "of 2 clusters give a between-level covariance of rank 1, which no between level can be fitted to)."
        )
    within = stats.within_cov
    p = stats.n_vars
    if not np.all(np.isfinite(within)):
        raise ValueError(f"`data`{where}: the within-cluster covariance could not be computed (too few units).")
    sd = np.sqrt(np.clip(np.diag(within), 0.0, None))
    scale = max(float(sd.max()), 1e-300)
    flat = [v for v, s in zip(stats.vars, sd) if s <= 1e-8 * scale or s == 0.0]
    if flat:
        between = np.diag(stats.between_cov())
        constant = [v for v in flat if between[stats.vars.index(v)] <= 1e-16 * scale**2]
        what = (f"variable(s) {preview(constant)} are constant" if constant
                else f"variable(s) {preview(flat)} do not vary within clusters")
        raise ValueError(
            f"`data`{where}: {what}; a two-level model needs within-cluster variance in every variable. "
            "Leave them out of `vars` (cluster-level variables are not supported)."
        )
    if stats.complete:
        between = np.diag(stats.between_cov())
        exact = [v for v, b, w in zip(stats.vars, between, np.diag(within)) if b <= 1e-14 * w]
        if exact:
            raise ValueError(
                f"`data`{where}: variable(s) {preview(exact)} have exactly the same mean in every cluster "
                "(for example cluster-mean centred), so the two-level likelihood has no maximum; "
                "use the raw scores or leave them out of `vars`."
            )
    corr = within / np.outer(sd, sd)
    vals, vecs = np.linalg.eigh(corr)
    if vals[0] < 1e-10 * p:
        involved = [stats.vars[k] for k in np.flatnonzero(np.abs(vecs[:, 0]) > 1e-3)]
        raise ValueError(
            f"`data`{where}: variables {preview(involved)} are (nearly) exact linear combinations of each other "
            "within clusters; drop one of them."
        )
    needed = p + p * (p + 1) // 2
    if stats.n_clusters < needed:
        warnings.warn(
            f"`data`{where}: {stats.n_clusters} clusters for a between level whose saturated model has {needed} "
            "parameters; between-level estimates and the chi-square are unreliable.",
            DataWarning,
            stacklevel=4,
        )
