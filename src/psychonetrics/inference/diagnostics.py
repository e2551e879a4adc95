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
