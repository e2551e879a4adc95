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

from typing import TYPE_CHECKING

import numpy as np

from .._arg import preview
from .._warn import warn
from ..exceptions import DataWarning
from .stats import TwoLevelStats

if TYPE_CHECKING:
    from ..moments import Roles


def check_statistics(stats: TwoLevelStats, roles: "Roles | None" = None) -> None:
    """Raise ValueError for a singular within covariance; warn for too few clusters.

    ``roles`` says which variables are within-only (their cluster means may
    all be equal, e.g. cluster-mean centred covariates) and cluster-level
    (constant within clusters: no within variance, by definition).
    """
    where = "" if stats.group is None else f" (group {stats.group!r})"
    if stats.n_clusters < 3:
        raise ValueError(
            f"`data`{where}: {stats.n_clusters} clusters; a two-level model needs at least 3 (the cluster means "
            "of 2 clusters give a between-level covariance of rank 1, which no between level can be fitted to)."
        )
    p = stats.n_vars
    within_idx = np.arange(p) if roles is None else roles.within
    between_idx = np.arange(p) if roles is None else roles.between
    between_only = [] if roles is None else list(roles.between_only)
    if not np.all(np.isfinite(stats.within_cov[np.ix_(within_idx, within_idx)])):
        raise ValueError(f"`data`{where}: the within-cluster covariance could not be computed (too few units).")
    sd_all = np.sqrt(np.clip(np.diag(stats.within_cov), 0.0, None))
    between_var = np.diag(stats.between_cov())
    scale = max(float(sd_all[within_idx].max()), 1e-300)
    varying = [stats.vars[k] for k in between_only if sd_all[k] > 1e-6 * np.sqrt(max(between_var[k], 1e-300))]
    if varying:
        raise ValueError(
            f"`data`{where}: cluster-level variable(s) {preview(varying)} vary within clusters; a variable named "
            "only on the between level must be constant within each cluster."
        )
    within = stats.within_cov[np.ix_(within_idx, within_idx)]
    names = [stats.vars[k] for k in within_idx]
    sd = sd_all[within_idx]
    flat = [v for v, s in zip(names, sd) if s <= 1e-8 * scale or s == 0.0]
    if flat:
        constant = [v for v in flat if between_var[stats.vars.index(v)] <= 1e-16 * scale**2]
        what = (f"variable(s) {preview(constant)} are constant" if constant
                else f"variable(s) {preview(flat)} do not vary within clusters")
        raise ValueError(
            f"`data`{where}: {what}; a two-level model needs within-cluster variance in every unit-level "
            "variable. Leave them out of `vars`, or declare variables measured on the cluster level as such "
            "(`between_only=` or naming them only on level 2 of the model syntax)."
        )
    if stats.complete:
        exact = [stats.vars[k] for k in between_idx if k not in between_only
                 and between_var[k] <= 1e-14 * stats.within_cov[k, k]]
        if exact:
            raise ValueError(
                f"`data`{where}: variable(s) {preview(exact)} have exactly the same mean in every cluster "
                "(for example cluster-mean centred), so the two-level likelihood has no maximum; "
                "use the raw scores, leave them out of `vars`, or model them on the within level only."
            )
    corr = within / np.outer(sd, sd)
    vals, vecs = np.linalg.eigh(corr)
    if vals[0] < 1e-10 * len(names):
        involved = [names[k] for k in np.flatnonzero(np.abs(vecs[:, 0]) > 1e-3)]
        raise ValueError(
            f"`data`{where}: variables {preview(involved)} are (nearly) exact linear combinations of each other "
            "within clusters; drop one of them."
        )
    p_b = between_idx.size
    needed = p_b + p_b * (p_b + 1) // 2
    if stats.n_clusters < needed:
        warn(
            f"`data`{where}: {stats.n_clusters} clusters for a between level whose saturated model has {needed} "
            "parameters; between-level estimates and the chi-square are unreliable.",
            DataWarning,
        )
