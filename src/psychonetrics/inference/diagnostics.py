"""Diagnostics of a fitted model: what is improper, where, and why.

Each problem names its matrix element; ``Model.runmodel`` turns them into
warnings (one per kind) and ``parameters()`` shows them in its ``note``
column.

Kinds
-----
* ``"not identified"``: a free parameter in a null direction of the
  information matrix (its SE is NaN).
* ``"negative variance"``: a negative diagonal of a block's covariance.
* ``"not positive definite"``: a block covariance with a negative eigenvalue
  although its variances are positive (reported on its first diagonal).
* ``"near-singular network"``: a partial correlation (omega) within 0.01 of
  +-1, or a network or precision block whose correlation matrix has an
  eigenvalue below 1e-3: the block's covariance is (nearly) singular, the
  model sits on the boundary of its parameter space and its edges are not
  interpretable (psychonetrics issue 36).  Common on real data for the
  between level, whose saturated estimate is often of lower rank.
* ``"near-singular correlations"``: a correlation (``cor``) block whose
  correlation matrix has an eigenvalue below 1e-3 (a correlation pressed
  against +-1): the maximum lies on or beyond the boundary of positive
  definite correlation matrices, which a ``cor`` block cannot cross.
* ``"empirically not identified"``: parameters moving along a ridge of the
  likelihood (a direction of the information with a scaled eigenvalue below
  1e-4, see :mod:`.information`): typically a variance near zero with large
  loadings that compensate.  Their standard errors are reported but are
  more than 100 times their conditional ones.  Parameters of blocks already
  reported as near-singular are not repeated here.
* ``"at bound"``: a bounded parameter (delta, SD, Cholesky diagonal,
  baseline variance) estimated on its bound.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .._warn import warn
from ..exceptions import ConvergenceWarning, ImproperSolutionWarning
from ..linalg import cov2cor

if TYPE_CHECKING:
    from ..interface import FittedModel
    from ..partable.table import ParTable


@dataclass(frozen=True)
class Problem:
    kind: str
    matrix: str
    row: int  # 0-based; -1: the whole matrix
    col: int
    group: int
    detail: str

    def block(self, table: "ParTable") -> tuple[int, str | None]:
        """(group, covariance block) of the problem's matrix (block None for a matrix outside any block)."""
        return self.group, table.specs[table.spec_index[self.matrix]].block

    def element(self, labels: tuple[str, ...]) -> str:
        """``matrix[row,col]`` (1-based), or the matrix name for a problem of the whole block (row -1)."""
        where = "" if len(labels) < 2 else f" (group {labels[self.group]})"
        if self.row < 0:
            return f"{self.matrix}{where}"
        return f"{self.matrix}[{self.row + 1},{self.col + 1}]{where}"


def diagnose(model: "FittedModel") -> list[Problem]:
    """Every problem of a fitted model."""
    fitted = model.fitted
    if fitted is None:
        return []
    table = model.table
    names = table.names()
    out: list[Problem] = []
    free = np.flatnonzero(table.par > 0)
    se = fitted.se
    for i in free:
        if not np.isfinite(se[table.par[i] - 1]):
            out.append(Problem("not identified", names[i], int(table.row[i]), int(table.col[i]), int(table.group[i]),
                               "singular information matrix"))
        lo = table.lower[i]
        if np.isfinite(lo) and table.value[i] <= lo + 1e-8:
            out.append(Problem("at bound", names[i], int(table.row[i]), int(table.col[i]), int(table.group[i]),
                               f"estimate on its lower bound {lo:g}"))
    for i in free:
        if table.specs[table.matrix[i]].kind == "omega" and abs(table.value[i]) > 0.99:
            out.append(Problem("near-singular network", names[i], int(table.row[i]), int(table.col[i]),
                               int(table.group[i]), f"partial correlation {table.value[i]:.3f}"))
    for g in range(len(model.stats)):
        mats = table.matrices(table.value, g)
        for block in model.family.blocks():
            try:
                sigma = block.sigma(mats)
            except np.linalg.LinAlgError:
                continue
            name = block.variance_matrix()
            diag = np.diag(sigma)
            negative = np.flatnonzero(diag < 0)
            for k in negative:
                out.append(Problem("negative variance", name, int(k), int(k), g,
                                   f"implied variance of {block.labels[k]} in {block.name} is {diag[k]:.4g}"))
            if negative.size == 0 and sigma.shape[0] > 1:
                eig = np.linalg.eigvalsh(0.5 * (sigma + sigma.T))
                if eig[0] < -1e-8 * max(1.0, abs(eig).max()):
                    out.append(Problem("not positive definite", name, 0, 0, g,
                                       f"the {block.name} covariance has a negative eigenvalue ({eig[0]:.3g})"))
                elif (block.ctype.needs_regular or block.ctype.name == "cor") and np.all(diag > 0):
                    smallest = float(np.linalg.eigvalsh(cov2cor(sigma))[0])
                    kind = "near-singular network" if block.ctype.needs_regular else "near-singular correlations"
                    if smallest < 1e-3 and not any(p.kind == kind and p.group == g
                                                   and table.specs[table.spec_index[p.matrix]].block == block.name
                                                   for p in out):
                        out.append(Problem(kind, block.matrix_names()[0], -1, -1, g,
                                           f"the {block.name} correlation matrix has an eigenvalue of {smallest:.1e}"))
    out.extend(_ridge(model, out))
    return out


def _ridge(model: "FittedModel", found: list[Problem]) -> list[Problem]:
    """Parameters along a ridge of the likelihood (``Estimates.weak``), except those of blocks already
    reported as near-singular and those without a standard error."""
    fitted = model.fitted
    if fitted is None or fitted.weak is None or not fitted.weak.any() or not fitted.result.converged:
        return []
    table = model.table
    singular = {(p.group, table.specs[table.spec_index[p.matrix]].block) for p in found
                if p.kind.startswith("near-singular")}
    names = table.names()
    out = []
    for par0 in np.flatnonzero(fitted.weak):
        i = int(table.free_rows[par0])
        spec = table.specs[table.matrix[i]]
        if (int(table.group[i]), spec.block) in singular and spec.block is not None:
            continue
        ratio = np.sqrt(fitted.vcov[par0, par0]) if np.isfinite(fitted.vcov[par0, par0]) else np.nan
        out.append(Problem("empirically not identified", names[i], int(table.row[i]), int(table.col[i]),
                           int(table.group[i]), f"estimate {table.value[i]:.4g}, SE {ratio:.3g}"))
    return out


def degenerate_blocks(problems: list[Problem], table: "ParTable") -> set[tuple[int, str | None]]:
    """(group, block) of every network block reported as near-singular: its edges in null directions of the
    information are not identified at the boundary, so Wald tests are unavailable for them."""
    return {p.block(table) for p in problems if p.kind == "near-singular network"}


def warn_problems(model: "FittedModel") -> None:
    """Warn about a fitted model's non-convergence and improper solution: one warning per kind of
    :class:`Problem`, naming the elements and what to do (``runmodel`` calls it)."""
    fitted = model.fitted
    assert fitted is not None
    res = fitted.result
    if not res.converged:
        from ..fitting.optimize import UNBOUNDED

        if res.message.startswith(UNBOUNDED):
            advice = ("the likelihood has no maximum on these data; give the between level fewer parameters (a "
                      "'chol' residual block keeps its covariance positive semi-definite) or use more clusters")
        elif res.message.startswith("collapsed"):
            advice = ("that level's covariance went to zero, where its network (or correlation) parameters "
                      "are not identified; use a 'cov' or 'chol' type for that block, or drop variables "
                      "without variance on that level")
        else:
            advice = "check the model's identification, try `optimizer='lbfgs'`, or simplify the model"
        warn(
            f"The model did not converge ({res.message}; {res.iterations} iterations, gradient norm "
            f"{res.gradient_norm:.3g}). Estimates and fit measures are unreliable: {advice}.",
            ConvergenceWarning,
        )
    if fitted.information_fallback:
        warn(
            "The observed information is not positive definite at this solution (a parameter on its bound or "
            "a nearly singular level), so the standard errors use the expected information instead"
            + (" as the sandwich's bread" if fitted.robust else "") + ".",
            ImproperSolutionWarning,
        )
    problems = model.problems()
    singular = degenerate_blocks(problems, model.table)
    by_kind: dict[str, list] = {}
    for problem in problems:
        if problem.kind == "not identified" and (problem.block(model.table) in singular or not res.converged):
            continue  # said once, by the near-singular network warning; or moot without a maximum
        by_kind.setdefault(problem.kind, []).append(problem)
    advice = {
        "not identified": "the model may not be identified; these parameters have no standard error",
        "negative variance": "improper solution (Heywood case)",
        "not positive definite": "improper solution",
        "at bound": "estimates on a bound; their standard errors and p-values are unreliable",
        "near-singular network": "the block's covariance is (nearly) singular, so its network is not "
                                 "interpretable; use a 'cov' or 'chol' block or drop variables without variance "
                                 "on that level",
        "near-singular correlations": "a correlation is pressed against +-1: the maximum lies on or beyond the "
                                      "boundary of positive definite correlation matrices, which a 'cor' block "
                                      "cannot cross; a 'chol' block reaches the maximum among positive "
                                      "semi-definite covariances, a 'cov' block the unrestricted maximum (which "
                                      "may be an indefinite, improper covariance)",
        "empirically not identified": "the likelihood is nearly flat along a direction that moves these "
                                      "parameters together (a variance near zero with large loadings that "
                                      "compensate, or edges of a network on a nearly singular level), so their "
                                      "standard errors are more than 100 times their conditional ones and "
                                      "unreliable; fix or drop the variance, factor or edges at the origin of "
                                      "the ridge",
    }
    for kind, items in by_kind.items():
        where = ", ".join(p.element(model.group_labels) for p in items[:8]) + (" ..." if len(items) > 8 else "")
        detail = "" if kind in ("not identified", "empirically not identified") else f" ({items[0].detail})"
        extra = ""
        if kind == "near-singular network":
            untested = sum(p.kind == "not identified" and p.block(model.table) in singular for p in problems)
            if untested:
                extra = (f"; {untested} of its edges lie in null directions of the information and have no "
                         "standard error (prune removes them; stepup can test them again by their modification "
                         "indices in the pruned model)")
        warn(f"{kind.capitalize()}: {where}{detail}; {advice[kind]}{extra}.", ImproperSolutionWarning)
