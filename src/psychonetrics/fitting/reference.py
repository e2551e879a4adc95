"""The two reference models every fit is compared with.

* saturated: free mu, Sigma_W and Sigma_B, both kept positive semi-definite
  (psychonetrics parameterizes them by Cholesky factors);
* baseline: free mu, diagonal Sigma_W and Sigma_B with non-negative variances.

They depend only on the data, are fitted once by ``runmodel()`` and carried
along by every verb that keeps the data.  Complete data use the
rotated-basis Fisher scoring of :mod:`.saturated` (fast at any p);
with missing values the per-cluster route is optimized from its solution
on the pairwise statistics.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..data.stats import TwoLevelStats
from ..exceptions import ConvergenceWarning
from ..families.base import Moments
from ..families.ml_varcov import MlVarcov
from ..linalg import nearest_positive_definite
from ..spec.build import build_partable, parse_patterns
from .run import estimate
from .saturated import MomentsFit, fit_reference_stats


@dataclass(frozen=True, eq=False)
class ReferenceFits:
    """Saturated and baseline fits of the same data."""

    saturated: MomentsFit
    baseline: MomentsFit

    @property
    def baseline_npar(self) -> int:
        return self.baseline.npar


def _per_cluster(stats: Sequence[TwoLevelStats], start: MomentsFit, *, diagonal: bool, estimator: str) -> MomentsFit:
    """The reference model on the per-cluster route (missing values), from ``start``'s moments."""
    labels = [st.group or "1" for st in stats]
    within = between = "cov" if diagonal else "chol"
    family = MlVarcov(stats[0].vars, within=within, between=between)
    given = {"sigma_within": "diag", "sigma_between": "diag"} if diagonal else {}
    pats = parse_patterns(family, given)
    table = build_partable(family, [pats] * len(stats), [set()] * len(stats), equal=(), group_labels=labels)
    names = table.names()
    if diagonal:
        var = (table.row == table.col) & (names == "sigma_between")
        table = table.with_columns(lower=np.where(var, 0.0, table.lower))
    values = table.value.copy()
    for g, mom in enumerate(start.moments):
        if diagonal:
            mats = {"mu": mom.mu, "sigma_within": mom.sigma_within, "sigma_between": mom.sigma_between}
        else:
            mats = {"mu": mom.mu, "lowertri_within": np.linalg.cholesky(nearest_positive_definite(mom.sigma_within,
                                                                                                   floor=1e-6)),
                    "lowertri_between": np.linalg.cholesky(nearest_positive_definite(mom.sigma_between, floor=1e-6))}
        rows = np.flatnonzero((table.group == g) & (table.par > 0))
        values[rows] = [mats[names[i]].reshape(mats[names[i]].shape[0], -1)[table.row[i], table.col[i]]
                        for i in rows]
    table = table.with_columns(value=values)
    fit = estimate(family, table, stats, estimator=estimator, optimizer="default", standard_errors=False)
    return MomentsFit(fit.loglik, table.n_free, fit.moments, fit.result.converged, fit.result.iterations,
                      fit.result.message)


def reference_fits(stats: Sequence[TwoLevelStats], *, estimator: str) -> ReferenceFits:
    """Fit the saturated and baseline models of ``stats`` (warning when one does not converge)."""
    sat = fit_reference_stats(stats, diagonal=False)
    base = fit_reference_stats(stats, diagonal=True)
    if not all(st.complete for st in stats):
        sat = _per_cluster(stats, sat, diagonal=False, estimator=estimator)
        base = _per_cluster(stats, base, diagonal=True, estimator=estimator)
    for what, fit in (("saturated", sat), ("baseline", base)):
        if not fit.converged:
            warnings.warn(
                f"The {what} model did not converge ({fit.message}); chi-square and fit indices "
                "that use it are unreliable.",
                ConvergenceWarning,
                stacklevel=3,
            )
    return ReferenceFits(sat, base)


__all__ = ["ReferenceFits", "reference_fits", "Moments"]
