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

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .._warn import warn
from ..data.stats import TwoLevelStats
from ..exceptions import ConvergenceWarning
from ..families.ml_varcov import MlVarcov
from ..linalg import nearest_positive_definite
from ..moments import Moments, Roles
from ..partable.build import build_partable, parse_patterns
from .run import estimate
from .saturated import MomentsFit, fit_reference_stats

if TYPE_CHECKING:
    from ..estimators import Estimator
    from ..families.base import Family


@dataclass(frozen=True, eq=False)
class ReferenceFits:
    """Saturated and baseline fits of the same data."""

    saturated: MomentsFit
    baseline: MomentsFit
    # tr(A^-1 B) of the saturated and the baseline model per information kind (robust tests); they depend on the
    # data only, so every model that carries these fits shares them (filled on first use)
    robust_traces: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def baseline_npar(self) -> int:
        return self.baseline.npar


def _per_cluster(stats: Sequence[TwoLevelStats], start: MomentsFit, *, diagonal: bool, estimator: "Estimator",
                 roles: Roles | None, block: tuple[int, ...]) -> MomentsFit:
    """The reference model on the per-cluster route (missing values), from ``start``'s moments; the baseline
    keeps a saturated ``block`` (of covariates)."""
    labels = [st.group or "1" for st in stats]
    within = between = "cov" if diagonal else "chol"
    family = MlVarcov(stats[0].vars, within=within, between=between, roles=roles)
    given: dict[str, object] = {}
    if diagonal:
        for level, index in (("within", family.roles.within), ("between", family.roles.between)):
            pattern = np.eye(index.size, dtype=int)
            inside = np.isin(index, block)
            pattern[np.ix_(inside, inside)] = 1
            given[f"sigma_{level}"] = pattern
    pats = parse_patterns(family, given)
    table = build_partable(family, [pats] * len(stats), [set()] * len(stats), equal=(), group_labels=labels)
    names = table.names()
    if diagonal:
        var = (table.row == table.col) & (names == "sigma_between")
        table = table.with_columns(lower=np.where(var, 0.0, table.lower))
    values = table.value.copy()
    w, b = family.roles.within, family.roles.between
    for g, mom in enumerate(start.moments):
        sw, sb = mom.sigma_within[np.ix_(w, w)], mom.sigma_between[np.ix_(b, b)]
        if diagonal:
            mats = {"mu": mom.mu, "sigma_within": sw, "sigma_between": sb}
        else:
            mats = {"mu": mom.mu, "lowertri_within": np.linalg.cholesky(nearest_positive_definite(sw, floor=1e-6)),
                    "lowertri_between": np.linalg.cholesky(nearest_positive_definite(sb, floor=1e-6))}
        rows = np.flatnonzero((table.group == g) & (table.par > 0))
        values[rows] = [mats[names[i]].reshape(mats[names[i]].shape[0], -1)[table.row[i], table.col[i]]
                        for i in rows]
    table = table.with_columns(value=values)
    fit = estimate(family, table, stats, estimator=estimator, optimizer="default", standard_errors=False)
    return MomentsFit(fit.loglik, table.n_free, fit.moments, fit.result.converged, fit.result.iterations,
                      fit.result.message)


def reference_fits(family: "Family", stats: Sequence[TwoLevelStats], *, estimator: "Estimator",
                   saturated: MomentsFit | None = None) -> ReferenceFits:
    """Fit the saturated and baseline models of ``family``'s data (warning when one does not converge).

    The family says what they are (:meth:`Family.references`): by default
    the two-level saturated model and the independence baseline whose block
    of observed exogenous covariates stays saturated, as lavaan's (their
    means and covariances free, or fixed, see
    :mod:`psychonetrics.families.ml_lvm.exogenous`; the other variables
    independent of them and of each other), or the family's own baseline
    model.  ``saturated``: the saturated model of the complete-data
    statistics, when the model's build fitted it already.
    """
    spec = family.references()
    roles = family.roles
    sat = fit_reference_stats(stats, diagonal=False, roles=roles) if saturated is None else saturated
    covariates = tuple(int(k) for k in spec.covariates)
    complete = all(st.complete for st in stats)
    if spec.baseline is not None:
        base_family, base_table = spec.baseline(stats)
        fit = estimate(base_family, base_table, stats, estimator=estimator, optimizer="default",
                       standard_errors=False)
        base = MomentsFit(fit.loglik, base_table.n_free, fit.moments, fit.result.converged, fit.result.iterations,
                          fit.result.message, model=(base_family, fit.table))
    else:
        base = _baseline(stats, roles, covariates)
        if not complete:
            base = _per_cluster(stats, base, diagonal=True, estimator=estimator, roles=roles, block=covariates)
    if not complete:
        sat = _per_cluster(stats, sat, diagonal=False, estimator=estimator, roles=roles, block=())
    for what, fit in (("saturated", sat), ("baseline", base)):
        if not fit.converged:
            warn(
                f"The {what} model did not converge ({fit.message}); chi-square and fit indices "
                "that use it are unreliable.",
                ConvergenceWarning,
            )
    return ReferenceFits(sat, base)


def _baseline(stats: Sequence[TwoLevelStats], roles: Roles, covariates: tuple[int, ...]) -> MomentsFit:
    """Independence model, with a saturated block of the covariates: its likelihood factors into the
    covariates' saturated one and the other variables' diagonal one."""
    if not covariates:
        return fit_reference_stats(stats, diagonal=True, roles=roles)
    p = stats[0].n_vars
    names = stats[0].vars
    rest = tuple(k for k in range(p) if k not in covariates)
    parts = []
    for block, diagonal in ((covariates, False), (rest, True)):
        sub = tuple(names[k] for k in block)
        sub_roles = Roles(len(block), tuple(i for i, k in enumerate(block) if k in roles.within_only),
                          tuple(i for i, k in enumerate(block) if k in roles.between_only))
        parts.append((block, fit_reference_stats([st.subset(sub) for st in stats], diagonal=diagonal,
                                                 roles=sub_roles) if block else None))
    moments = []
    for g in range(len(stats)):
        mu, w, b = np.zeros(p), np.zeros((p, p)), np.zeros((p, p))
        for block, fit in parts:
            if fit is None:
                continue
            idx = np.asarray(block)
            mom = fit.moments[g]
            mu[idx] = mom.mu
            w[np.ix_(idx, idx)] = mom.sigma_within
            b[np.ix_(idx, idx)] = mom.sigma_between
        moments.append(Moments(mu, w, b, None if roles.plain else roles))
    fits = [fit for _, fit in parts if fit is not None]
    return MomentsFit(sum(f.loglik for f in fits), sum(f.npar for f in fits), tuple(moments),
                      all(f.converged for f in fits), max(f.iterations for f in fits),
                      "; ".join(sorted({f.message for f in fits})))


__all__ = ["ReferenceFits", "reference_fits", "Moments"]
