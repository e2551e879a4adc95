"""Identification rules of the latent variable family, as psychonetrics applies them.

For every group (``identify=True``):

* latent means fixed at 0 (in groups after the first they are free when the
  intercepts are constrained equal across groups and the latent means are
  not); phantom latents (observed variables in regressions) keep theirs;
* ``"loadings"``: in each factor of each loading matrix the first free
  loading is fixed at 1, unless a fixed nonzero loading already sets the
  scale (one marker serves both levels when the loadings are shared);
* ``"variance"``: the latent variances (diagonal of the latent block's
  variance-carrying matrix: sigma, kappa, delta, lowertri or SD) fixed at 1:
  the within level's when the loadings are shared (in groups after the
  first they are free when ``lambda`` is equal across groups), each level's
  otherwise.  Where the user fixed that variance at 0 (a factor without a
  within part), the between-level variance is fixed at 1 instead; a nonzero
  value the user fixed sets the scale itself: identification never
  overwrites a value the user gave;
* an observed variable that is the only indicator of a latent variable and
  loads on nothing else gets its residual variance on that level fixed at 0
  where the residual type allows it (cov, chol, cor).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ...partable.patterns import Pattern

if TYPE_CHECKING:
    from .family import MlLvm

Marks = set[tuple[str, int, int]]


def identify_ml_lvm(family: "MlLvm", pats: dict[str, Pattern], *, method: str, group: int,
                    equal: Sequence[str]) -> tuple[dict[str, Pattern], Marks]:
    """New patterns with the identification rules applied, and the elements they fixed."""
    codes = {k: v.codes.copy() for k, v in pats.items()}
    fixed = {k: v.fixed.copy() for k, v in pats.items()}
    marks: Marks = set()

    def fix(name: str, r: int, c: int, value: float) -> None:
        codes[name][r, c] = 0
        fixed[name][r, c] = value
        marks.add((name, r, c))

    levels = list(family.levels.values())
    for lv in levels:
        _latent_means(lv, codes, fixed, fix, group=group, equal=equal)
    for loadings in dict.fromkeys(lv.loadings for lv in levels):
        if method == "loadings":
            _markers(loadings, codes, fixed, fix)
    if method == "variance":
        scaled = levels[:1] if family.shared else levels
        for lv in scaled:
            if group > 0 and lv.loadings in equal:
                continue
            fallback = levels[1] if family.shared and lv.name == "within" else None
            _unit_variances(lv, fallback, codes, fixed, fix)
    for lv in levels:
        _single_indicators(lv, codes, fixed, fix)
    return {k: Pattern(codes[k], fixed[k]) for k in pats}, marks


def _latent_means(lv, codes, fixed, fix, *, group: int, equal: Sequence[str]) -> None:  # noqa: ANN001
    name = lv.latent_means
    if name is None:
        return
    for k, latent in enumerate(lv.latents):
        if latent in lv.phantoms:
            continue
        if group > 0 and lv.intercepts in equal and name not in equal:
            if fixed[name][k, 0] == 0:
                codes[name][k, 0] = 1
        elif codes[name][k, 0] != 0:
            fix(name, k, 0, 0.0)


def _markers(loadings: str, codes, fixed, fix) -> None:  # noqa: ANN001
    lam_c, lam_f = codes[loadings], fixed[loadings]
    for k in range(lam_c.shape[1]):
        if np.any((lam_c[:, k] == 0) & (lam_f[:, k] != 0)):
            continue  # a fixed nonzero loading sets the scale
        free = np.flatnonzero(lam_c[:, k] > 0)
        if free.size:
            fix(loadings, int(free[0]), k, 1.0)


def _unit_variances(lv, fallback, codes, fixed, fix) -> None:  # noqa: ANN001
    lam_c, lam_f = codes[lv.loadings], fixed[lv.loadings]
    for k, latent in enumerate(lv.latents):
        if latent in lv.phantoms or np.any((lam_c[:, k] == 0) & (lam_f[:, k] != 0)):
            continue
        for level in (lv, fallback):
            if level is None:
                break
            var = level.zeta.variance_matrix()
            if codes[var][k, k] != 0:
                fix(var, k, k, 1.0)
                break
            if fixed[var][k, k] != 0:
                break  # a nonzero value the user fixed sets the scale


def _single_indicators(lv, codes, fixed, fix) -> None:  # noqa: ANN001
    if lv.epsilon.ctype.name not in ("cov", "chol", "cor"):
        return
    lam_c, lam_f = codes[lv.loadings], fixed[lv.loadings]
    loads = (lam_c != 0) | (lam_f != 0)
    var = lv.epsilon.variance_matrix()
    for k in range(loads.shape[1]):
        items = np.flatnonzero(loads[:, k])
        if items.size == 1 and loads[items[0]].sum() == 1:
            i = int(items[0])
            if codes[var][i, i] != 0:  # a value the user fixed stays
                fix(var, i, i, 0.0)
