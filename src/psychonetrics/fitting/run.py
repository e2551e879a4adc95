"""Fitting a specified model: start -> optimize -> information -> standard errors.

Also the two reference models every fit is compared with:

* saturated: free mu, Sigma_W and Sigma_B, both Cholesky-parameterized (so
  kept positive semi-definite), as psychonetrics;
* baseline: free mu, diagonal Sigma_W and Sigma_B with non-negative variances.

They depend only on the data, are fitted once by ``runmodel()`` and are
carried along by every verb that keeps the data.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..data.stats import TwoLevelStats
from ..exceptions import ConvergenceWarning
from ..families.base import Family, Moments
from ..families.ml_varcov import MlVarcov
from ..likelihood import Route, route_for
from ..linalg import FloatArray, nearest_positive_definite
from ..spec.build import build_partable, parse_patterns, with_start_values
from ..spec.partable import ParTable
from .objective import Objective
from .optimize import OptimizerResult, optimize


@dataclass(frozen=True, eq=False)
class Estimates:
    """The outcome of one optimization with its inference."""

    result: OptimizerResult
    table: ParTable  # free rows hold the estimates
    vcov: FloatArray  # (n_free, n_free); NaN rows/cols where not identified
    se: FloatArray  # (n_free,)
    information_kind: str
    moments: tuple[Moments, ...]

    @property
    def loglik(self) -> float:
        return self.result.loglik


@dataclass(frozen=True, eq=False)
class ReferenceFits:
    """Saturated and baseline fits of the same data."""

    saturated: Estimates
    saturated_npar: int
    baseline: Estimates
    baseline_npar: int


def routes_for(estimator: str, stats: Sequence[TwoLevelStats]) -> tuple[Route, ...]:
    return tuple(route_for(estimator, st) for st in stats)


def invert_information(info: FloatArray) -> tuple[FloatArray, bool]:
    """Inverse of the information matrix; NaN for parameters in a singular direction.

    Returns the covariance matrix and whether the information was singular.
    """
    n = info.shape[0]
    if n == 0:
        return np.zeros((0, 0)), False
    if not np.all(np.isfinite(info)):
        return np.full((n, n), np.nan), True
    scale = np.sqrt(np.clip(np.diag(info), 1e-300, None))
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        scaled = info / np.outer(scale, scale)
    if not np.all(np.isfinite(scaled)):
        return np.full((n, n), np.nan), True
    try:  # the usual case: well conditioned, Cholesky suffices
        low = np.linalg.cholesky(scaled)
        if np.min(np.diag(low)) ** 2 > 1e-10:
            inv_low = np.linalg.inv(low)
            return (inv_low.T @ inv_low) / np.outer(scale, scale), False
    except np.linalg.LinAlgError:
        pass
    vals, vecs = np.linalg.eigh(scaled)
    tol = max(vals.max(), 1e-300) * 1e-10
    singular = vals < tol
    inv_vals = np.where(singular, 0.0, 1.0 / np.where(singular, 1.0, vals))
    cov = (vecs * inv_vals) @ vecs.T / np.outer(scale, scale)
    if singular.any():
        # parameters involved in a null direction have no standard error
        involved = np.abs(vecs[:, singular]).max(axis=1) > 1e-6
        cov[involved, :] = np.nan
        cov[:, involved] = np.nan
    return cov, bool(singular.any())


def estimate(
    family: Family,
    table: ParTable,
    stats: Sequence[TwoLevelStats],
    *,
    estimator: str,
    optimizer: str,
    x0: FloatArray | None = None,
    standard_errors: bool = True,
) -> Estimates:
    """Optimize ``table`` on ``stats`` and compute standard errors (unless ``standard_errors`` is False)."""
    routes = routes_for(estimator, stats)
    obj = Objective(family, table, tuple(stats), routes)
    start = table.start_vector() if x0 is None else x0
    result = optimize(obj, start, optimizer=optimizer)
    if not result.converged:
        # As psychonetrics: retry from shrunken and from emergency starts before giving up.
        for alternative in alternative_starts(table, start):
            retry = optimize(obj, alternative, optimizer=optimizer, fallback=False)
            if retry.converged and (not result.converged or retry.loglik > result.loglik):
                result = retry
                break
            if np.isfinite(retry.loglik) and retry.loglik > result.loglik:
                result = retry
    kind = "observed" if any(r.information_kind == "observed" for r in routes) else "expected"
    if np.isfinite(result.loglik) and standard_errors:
        if kind == "expected" and result.information is not None:
            info = result.information  # computed by the optimizer at the solution
        else:
            info = obj.information(result.x, kind=kind)
        vcov, _ = invert_information(info)
        moments = tuple(obj.moments(result.x))
    elif np.isfinite(result.loglik):
        vcov = np.full((table.n_free, table.n_free), np.nan)
        moments = tuple(obj.moments(result.x))
    else:
        vcov = np.full((table.n_free, table.n_free), np.nan)
        moments = ()
    se = np.sqrt(np.clip(np.diag(vcov), 0.0, None))
    se[np.isnan(np.diag(vcov))] = np.nan
    return Estimates(result, table.with_values(result.x), vcov, se, kind, moments)


def alternative_starts(table: ParTable, start: FloatArray) -> list[FloatArray]:
    """Shrunken and emergency start vectors.

    The emergency start zeroes every free off-diagonal element of symmetric
    matrices, every regression and network edge, and sets free loadings to
    0.5 (variances and intercepts keep their data-based starts); the shrunken
    start lies halfway between it and ``start``.
    """
    emergency = start.copy()
    for par0, row in enumerate(table.free_rows):
        spec = table.specs[table.matrix[row]]
        r, c = table.row[row], table.col[row]
        if spec.kind == "lambda":
            emergency[par0] = 0.5
        elif spec.kind in ("beta", "omega", "rho") or (spec.storage in ("symmetric", "lowertri") and r != c):
            emergency[par0] = 0.0
    lo, hi = table.bounds()
    shrunken = np.clip(0.5 * (start + emergency), lo, hi)
    return [shrunken, np.clip(emergency, lo, hi)]


def _saturated(stats: Sequence[TwoLevelStats], *, estimator: str, labels: list[str]) -> Estimates:
    """The saturated model: free mu, Sigma_W and Sigma_B, both kept positive semi-definite.

    Fitted first with unconstrained covariance blocks (cheap: the Jacobian is
    an identity).  When that maximum has positive semi-definite Sigma_W and
    Sigma_B it is also the constrained maximum; otherwise the Cholesky
    parameterization (as psychonetrics) is fitted from the projected solution.
    """
    observed = stats[0].vars
    family = MlVarcov(observed, within="cov", between="cov")
    pats = parse_patterns(family, {})
    table = build_partable(family, [pats] * len(stats), [set()] * len(stats), equal=(), group_labels=labels)
    table = with_start_values(table, family, stats, [pats] * len(stats))
    free = estimate(family, table, stats, estimator=estimator, optimizer="fisher", standard_errors=False)
    if free.result.converged and all(
        np.linalg.eigvalsh(m)[0] >= -1e-12 * max(1.0, np.abs(m).max())
        for mom in free.moments for m in (mom.sigma_within, mom.sigma_between)
    ):
        return free
    chol_family = MlVarcov(observed, within="chol", between="chol")
    pats = parse_patterns(chol_family, {})
    table = build_partable(chol_family, [pats] * len(stats), [set()] * len(stats), equal=(), group_labels=labels)
    table = with_start_values(table, chol_family, stats, [pats] * len(stats))
    if free.moments:
        # start from the unconstrained maximum projected onto the PSD cone
        values = table.value.copy()
        names = table.names()
        for g, mom in enumerate(free.moments):
            start = {"mu": mom.mu.reshape(-1, 1)}
            for level, sigma in (("within", mom.sigma_within), ("between", mom.sigma_between)):
                start[f"lowertri_{level}"] = chol_family.blocks()[0].ctype.from_sigma(
                    nearest_positive_definite(sigma, floor=1e-6))["lowertri"]
            rows = np.flatnonzero((table.group == g) & (table.par > 0))
            for i in rows:
                values[i] = start[names[i]][table.row[i], table.col[i]]
        table = table.with_columns(value=values)
    return estimate(chol_family, table, stats, estimator=estimator, optimizer="default", standard_errors=False)


def reference_fits(stats: Sequence[TwoLevelStats], *, estimator: str) -> ReferenceFits:
    """Fit the saturated and baseline models of ``stats``."""
    observed = stats[0].vars
    labels = [st.group or "1" for st in stats]
    sat = _saturated(stats, estimator=estimator, labels=labels)

    base_family = MlVarcov(observed, within="cov", between="cov")
    pats = parse_patterns(base_family, {"sigma_within": "diag", "sigma_between": "diag"})
    table = build_partable(base_family, [pats] * len(stats), [set()] * len(stats), equal=(), group_labels=labels)
    names = table.names()
    diag = (table.row == table.col) & np.isin(names, ["sigma_within", "sigma_between"])
    table = table.with_columns(lower=np.where(diag, 0.0, table.lower))
    table = with_start_values(table, base_family, stats, [pats] * len(stats))
    base = estimate(base_family, table, stats, estimator=estimator, optimizer="default", standard_errors=False)
    for what, fit in (("saturated", sat), ("baseline", base)):
        if not fit.result.converged:
            warnings.warn(
                f"The {what} model did not converge ({fit.result.message}); chi-square and fit indices "
                "that use it are unreliable.",
                ConvergenceWarning,
                stacklevel=3,
            )
    return ReferenceFits(sat, sat.table.n_free, base, base.table.n_free)
