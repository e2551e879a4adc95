"""Fitting a specified model: start -> optimize -> information -> standard errors."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from ..data.stats import TwoLevelStats
from ..families.base import Family
from ..inference.information import SANDWICH_FLOOR, invert_information, invert_observed, weak_parameters
from ..inference.information import standard_errors as standard_errors_of
from ..linalg import FloatArray, read_only
from ..moments import Moments
from ..partable.build import with_start_values
from ..partable.table import ParTable
from .objective import Objective
from .optimize import FIT_TOLERANCE, UNBOUNDED, OptimizerResult, optimize

if TYPE_CHECKING:
    from ..estimators import Estimator
    from ..report.progress import Progress


@dataclass(frozen=True, eq=False)
class Estimates:
    """The outcome of one optimization with its inference."""

    result: OptimizerResult
    table: ParTable  # free rows hold the estimates
    vcov: FloatArray  # (n_free, n_free); NaN rows/cols where not identified
    se: FloatArray  # (n_free,)
    information_kind: str
    moments: tuple[Moments, ...]
    robust: bool = False  # vcov is the cluster-robust sandwich
    trace_h0: float = np.nan  # tr(A^-1 B) of the robust SEs (for the scaled test)
    information_fallback: bool = False  # the observed information was not positive definite: expected used
    weak: np.ndarray | None = None  # (n_free,) parameters along a ridge of the likelihood (inference.information)

    def __post_init__(self) -> None:
        object.__setattr__(self, "vcov", read_only(self.vcov))
        object.__setattr__(self, "se", read_only(self.se))

    @property
    def loglik(self) -> float:
        return self.result.loglik


def estimate(
    family: Family,
    table: ParTable,
    stats: Sequence[TwoLevelStats],
    *,
    estimator: Estimator,
    optimizer: str,
    standard_errors: bool = True,
    information: str = "expected",
    progress: "Progress | None" = None,
    further_starts: Callable[[], Sequence[FloatArray]] | None = None,
    tol: float = FIT_TOLERANCE,
    first_iterations: int = 300,
) -> Estimates:
    """Optimize ``table`` on ``stats`` and compute standard errors (unless ``standard_errors`` is False).

    This is the one fitting path: ``runmodel``, the candidates of a search,
    the bootstrap replicates and the reference models all call it.

    Parameters
    ----------
    family, table, stats
        The model: its family, its parameter table (whose free values are
        the first start) and the statistics of every group.
    estimator : Estimator
        Its route of every group, and whether the SEs are the cluster
        sandwich A^-1 B A^-1 with the information as bread A and
        B = sum_j s_j s_j' over the per-cluster scores (see
        :mod:`..inference.robust`).
    optimizer : str
    standard_errors : bool
        Compute the covariance of the estimates.
    information : {"observed", "expected"}
        The information of the SEs (resolved by the estimator).
    progress : Progress, optional
    further_starts : callable, optional
        Returns further start vectors, tried in order (with Fisher scoring)
        when the table's own start does not converge, before any fallback:
        a bootstrap replicate starts from the sample estimates and then from
        its own data, as the sample did.
    tol : float
        Newton decrement (log-likelihood units) at which Fisher scoring has
        converged (default :data:`~psychonetrics.fitting.optimize.FIT_TOLERANCE`).
    first_iterations : int
        Fisher-scoring iterations allowed from the table's own start when
        ``further_starts`` follow (a start near the maximum converges in a
        few; one that crawls along a boundary gives way to the next start).

    Notes
    -----
    The order: Fisher scoring from each start until one converges; then, as
    psychonetrics does, L-BFGS-B from the best point so far and retries from
    shrunken and emergency starts (:func:`alternative_starts`).  A result
    whose block collapsed (:func:`collapsed_blocks`) or whose implied data
    covariance is singular (an unbounded likelihood) has not converged; an
    unbounded likelihood ends the search at once.
    """
    obj = Objective(family, table, tuple(stats), estimator.routes(stats, family.roles))
    robust = estimator.robust
    if optimizer == "default":
        optimizer = estimator.optimizer
    start = table.start_vector()
    # the scale of every block from moment estimates of the data: a block whose scales all fall far
    # below it has collapsed
    scale = with_start_values(table, family, stats).start_vector() if table.strict_bounds().any() else start
    first = optimizer if further_starts is None else ("fisher" if optimizer == "default" else optimizer)
    result = _checked(obj, optimize(obj, start, optimizer=first, progress=progress, tol=tol,
                                    max_iter=300 if further_starts is None else first_iterations), scale)
    if not result.converged and further_starts is not None and not result.message.startswith(UNBOUNDED):
        for x0 in further_starts():
            retry = _checked(obj, optimize(obj, x0, optimizer=first, tol=tol), scale)
            if retry.converged or (np.isfinite(retry.loglik) and not np.isfinite(result.loglik)):
                result = retry
            if result.converged:
                break
        if not result.converged and optimizer == "default":  # the fallback the first pass skipped
            fallback_from = result.x if np.isfinite(result.loglik) else start
            result = _checked(obj, optimize(obj, fallback_from, optimizer="default", tol=tol), scale)
    if not result.converged and not result.message.startswith(UNBOUNDED):
        # As psychonetrics: retry from shrunken and from emergency starts before giving up.
        for alternative in alternative_starts(table, start):
            retry = _checked(obj, optimize(obj, alternative, optimizer=optimizer, fallback=False, tol=tol), scale)
            if retry.converged and (not result.converged or retry.loglik > result.loglik):
                result = retry
                break
            if np.isfinite(retry.loglik) and retry.loglik > result.loglik and not collapsed_blocks(obj, retry.x, scale):
                result = retry
    kind = information
    trace_h0 = np.nan
    fallback = False
    weak = np.zeros(table.n_free, dtype=bool)
    vcov = np.full((table.n_free, table.n_free), np.nan)
    moments: tuple[Moments, ...] = ()
    if np.isfinite(result.loglik):
        moments = tuple(obj.moments(result.x))
    if np.isfinite(result.loglik) and standard_errors:
        # the expected information decides which directions are not identified (see inference.information)
        expected = result.information if result.information is not None else obj.information(result.x)
        info = expected if kind == "expected" else obj.information(result.x, kind=kind)
        inverse, _ = invert_information(info, expected=None if kind == "expected" else expected)
        if inverse is None and kind == "observed":
            if estimator.expected and all(st.complete for st in stats):
                # At a bound or on a nearly singular level the observed information can be indefinite; the
                # expected one (positive definite wherever the model is identified) is the usable bread.
                inverse, _ = invert_information(expected)
                if inverse is not None:
                    info, kind, fallback = expected, "expected", True
            elif not estimator.expected:  # only the observed information exists: invert it where it is positive
                inverse = invert_observed(info)
            else:  # the complete-data expected information understates missing-data SEs: use the observed kernel
                inverse, _ = invert_information(info)
        if inverse is not None:
            vcov = inverse
            weak = weak_parameters(vcov, info)
            if robust:
                from ..inference.robust import sandwich, trace_ratio

                bread, _ = invert_information(info, expected=None if kind == "expected" else expected,
                                              floor=SANDWICH_FLOOR)
                scores = obj.cluster_scores(result.x)
                meat = scores.T @ scores
                trace_h0 = trace_ratio(info, meat)
                vcov = sandwich(vcov if bread is None else bread, meat)
    se = standard_errors_of(vcov)
    return Estimates(result, table.with_values(result.x), vcov, se, kind, moments, robust, trace_h0, fallback, weak)


def data_start(family: Family, table: ParTable, stats: Sequence[TwoLevelStats],
               saturated: Sequence[Moments] | None = None) -> ParTable:
    """``table`` with the start values a model takes from its data: from the saturated model's moments
    (given, or its quick complete-data fit), else from moment estimates of the statistics."""
    from .saturated import fit_reference_stats

    if saturated is None:
        saturated = fit_reference_stats(stats, diagonal=False, roles=family.roles).moments
    if all(np.all(np.isfinite(m.sigma_between)) for m in saturated):
        return with_start_values(table, family, stats, saturated)
    return with_start_values(table, family, stats)


def feasible(family: Family, table: ParTable, stats: Sequence[TwoLevelStats], *, estimator: Estimator) -> bool:
    """Whether the table's current values lie in the model's parameter space (a finite likelihood)."""
    obj = Objective(family, table, tuple(stats), estimator.routes(stats, family.roles))
    return bool(np.isfinite(obj.loglik(table.start_vector())))


def collapsed_blocks(obj: Objective, x: FloatArray, scale: FloatArray) -> list[str]:
    """Network or correlation blocks whose every scale (delta, SD: open lower bound) is below 1e-4 of
    ``scale`` (its moment-based start) while the block has free edges: the block's covariance collapsed
    towards 0, a degenerate point where the edges are not identified.  (A one-variable block at 0 is an
    ordinary boundary estimate.)"""
    table = obj.table
    strict = table.strict_bounds()
    if not strict.any():
        return []
    names = table.names()[table.free_rows]
    out = []
    for block in obj.family.blocks():
        matrices = block.matrix_names()
        sel = strict & np.isin(names, matrices)
        edges = ~strict & np.isin(names, matrices)
        if sel.any() and edges.any() and np.all(np.abs(x[sel]) < 1e-4 * np.abs(scale[sel])):
            out.append(f"the {block.name.replace('_', ' ')} block ({block.variance_matrix()})")
    return out


def _checked(obj: Objective, result: OptimizerResult, scale: FloatArray) -> OptimizerResult:
    """``result``, marked as not converged when a block collapsed (see :func:`collapsed_blocks`) or the
    implied distribution of the data is degenerate (the likelihood has no maximum there)."""
    if not result.converged or not np.isfinite(result.loglik):
        return result
    collapsed = collapsed_blocks(obj, result.x, scale)
    if collapsed:
        return replace(result, converged=False, message=f"collapsed: {' and '.join(collapsed)} went to 0")
    reason = obj.degenerate(result.x)
    if reason:
        return replace(result, converged=False, message=f"{UNBOUNDED}: {reason}")
    return result


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
