"""The two-level model of the observed variables themselves (``ml_varcov`` / ``ml_ggm``).

Model (one group)::

    mu = mu,   Sigma_W = type_within(...),   Sigma_B = type_between(...)

i.e. ``ml_lvm`` with Lambda = I and no residual layer.  Its matrices are named
``mu``, ``<kind>_within`` and ``<kind>_between`` (``omega_within``,
``sigma_between``, ...).  With ``chol`` on both levels it is the saturated
model; with diagonal ``cov`` blocks, the baseline model.
"""

from __future__ import annotations

import numpy as np

from ...data.stats import TwoLevelStats
from ...derivatives import Elements, MomentDerivatives
from ...linalg import FloatArray
from ...moments import Moments, Roles, place_block, place_rows
from ...parameterizations import derived_matrices
from ...parameterizations.base import unit_columns
from ...partable.matrices import MatrixSpec
from ..base import Block, Family, StandardizedValues, start_covariances


class MlVarcov(Family):
    """Two-level (co)variance model of the observed variables.

    With ``roles``, within-only variables have no between part and
    cluster-level variables no within part: each block covers its level's
    variables only (a network of cluster-level nodes beside the cluster
    means of unit-level variables, for example).
    """

    name = "ml_varcov"

    def __init__(self, observed: tuple[str, ...], *, within: str = "cov", between: str = "cov",
                 roles: Roles | None = None) -> None:
        self.observed = tuple(observed)
        self.latents: tuple[str, ...] = ()
        self.roles = Roles(len(self.observed)) if roles is None else roles
        self.types = {"within": within, "between": between}
        self._index = {"within": self.roles.within, "between": self.roles.between}
        self._blocks = {
            level: Block.make(level, tuple(self.observed[k] for k in self._index[level]), kind, argument=level,
                              residual=False, level=level)
            for level, kind in (("within", within), ("between", between))
        }

    def blocks(self) -> list[Block]:
        return list(self._blocks.values())

    def linear_matrices(self) -> frozenset[str]:
        """The means and every ``cov`` block: Sigma and mu are their elements."""
        names = {"mu"}
        for block in self._blocks.values():
            if block.ctype.linear:
                names.update(block.matrix_names())
        return frozenset(names)

    def specs(self) -> list[MatrixSpec]:
        out = [MatrixSpec("mu", "mu", (len(self.observed), 1), "full", self.observed, ("1",), op="~1", role="means")]
        for block in self._blocks.values():
            out.extend(block.specs())
        return out

    def default_patterns(self) -> dict[str, object]:
        pats: dict[str, object] = {"mu": "full"}
        for block in self._blocks.values():
            for kind, pat in block.ctype.default_patterns(residual=False).items():
                pats[block.matrix_name(kind)] = pat
        return pats

    def _padded(self, level: str, sigma: FloatArray) -> FloatArray:
        return place_block(len(self.observed), self._index[level], sigma)

    def implied(self, mats: dict[str, FloatArray]) -> Moments:
        sw = self._blocks["within"].sigma(mats)
        sb = self._blocks["between"].sigma(mats)
        return Moments(mats["mu"][:, 0], self._padded("within", 0.5 * (sw + sw.T)),
                       self._padded("between", 0.5 * (sb + sb.T)), None if self.roles.plain else self.roles)

    def derivatives(self, mats: dict[str, FloatArray], elements: Elements) -> MomentDerivatives:
        p = len(self.observed)
        out = MomentDerivatives.zeros(p, elements.count)
        for name, idx, rows, cols in elements.by_matrix:
            if name == "mu":
                out.mu[:, idx] = unit_columns(p, rows)
                continue
            level = next(lv for lv, block in self._blocks.items() if name in block.matrix_names())
            a, b = self._blocks[level].derivatives(mats, name, rows, cols)
            index = self._index[level]
            out.set_level(level, idx, place_rows(p, index, a), place_rows(p, index, b))
        return out

    def start(self, stats: TwoLevelStats, codes: dict[str, np.ndarray], fixed: dict[str, np.ndarray],
              moments: Moments | None = None) -> dict[str, FloatArray]:
        mean = stats.grand_mean if moments is None else moments.mu
        out: dict[str, FloatArray] = {"mu": mean.reshape(-1, 1)}
        s_w, s_b = start_covariances(stats, moments)
        for name, sigma in (("within", s_w), ("between", s_b)):
            block = self._blocks[name]
            idx = self._index[name]
            for kind, mat in block.ctype.from_sigma(sigma[np.ix_(idx, idx)]).items():
                out[block.matrix_name(kind)] = mat
        return out

    def network_matrices(self) -> list[str]:
        return ["omega_within", "omega_between"]

    def matrix_labels(self, name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        if name == "mu":
            return self.observed, ("1",)
        labels = tuple(self.observed[k] for k in self._index["within" if name.endswith("within") else "between"])
        return labels, labels

    def standardized(self, mats: dict[str, FloatArray]) -> StandardizedValues:
        """Correlations of each level's covariance, and the means over each variable's standard deviation
        on the level of its mean (between, or within for within-only variables)."""
        mom = self.implied(mats)
        out = StandardizedValues.empty()
        for level, sigma in (("within", mom.sigma_within), ("between", mom.sigma_between)):
            idx = self._index[level]
            block = sigma[np.ix_(idx, idx)]
            out.add_covariance(f"sigma_{level}", level, [self.observed[k] for k in idx], block,
                               np.sqrt(np.diag(block)))
        sd = np.sqrt(np.where(np.isin(np.arange(len(self.observed)), self.roles.within_only),
                              np.diag(mom.sigma_within), np.diag(mom.sigma_between)))
        levels = ["within" if k in self.roles.within_only else "between" for k in range(len(self.observed))]
        for k, var in enumerate(self.observed):
            out.add("mu", levels[k], [var], "~1", [""], np.asarray([mom.mu[k] / sd[k]]))
        return out

    def derived(self, mats: dict[str, FloatArray]) -> dict[str, FloatArray]:
        mom = self.implied(mats)
        out: dict[str, FloatArray] = {}
        for level, sigma in (("within", mom.sigma_within), ("between", mom.sigma_between)):
            idx = self._index[level]
            out.update(derived_matrices(sigma[np.ix_(idx, idx)], level))
        out["mu"] = mom.mu.reshape(-1, 1)
        return out
