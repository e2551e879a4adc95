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

from ..data.stats import TwoLevelStats
from ..linalg import FloatArray, IntArray
from ..parameterizations import derived_matrices
from ..spec.matrices import MatrixSpec
from ..parameterizations.base import unit_columns
from .base import Block, Elements, Family, MomentDerivatives, Moments, start_covariances


class MlVarcov(Family):
    """Two-level (co)variance model of the observed variables."""

    name = "ml_varcov"

    def __init__(self, observed: tuple[str, ...], *, within: str = "cov", between: str = "cov") -> None:
        self.observed = tuple(observed)
        self.latents: tuple[str, ...] = ()
        self.types = {"within": within, "between": between}
        self._blocks = {
            "within": Block.make("within", self.observed, within, argument="within", residual=False),
            "between": Block.make("between", self.observed, between, argument="between", residual=False),
        }

    def blocks(self) -> list[Block]:
        return list(self._blocks.values())

    def specs(self) -> list[MatrixSpec]:
        out = [MatrixSpec("mu", "mu", (len(self.observed), 1), "full", self.observed, ("1",), op="~1")]
        for block in self._blocks.values():
            out.extend(block.specs())
        return out

    def default_patterns(self) -> dict[str, object]:
        pats: dict[str, object] = {"mu": "full"}
        for block in self._blocks.values():
            for kind, pat in block.ctype.default_patterns(residual=False).items():
                pats[f"{kind}_{block.name}"] = pat
        return pats

    def implied(self, mats: dict[str, FloatArray]) -> Moments:
        sw = self._blocks["within"].sigma(mats)
        sb = self._blocks["between"].sigma(mats)
        return Moments(mats["mu"][:, 0], 0.5 * (sw + sw.T), 0.5 * (sb + sb.T))

    def derivatives(self, mats: dict[str, FloatArray], elements: Elements) -> MomentDerivatives:
        p = len(self.observed)
        out = MomentDerivatives.zeros(p, elements.count)
        for name, idx, rows, cols in elements.by_matrix:
            if name == "mu":
                out.mu[:, idx] = unit_columns(p, rows)
                continue
            level = next(lv for lv, block in self._blocks.items() if name in block.matrix_names())
            a, b = self._blocks[level].derivatives(mats, name, rows, cols)
            out.set_level(level, idx, a, b)
        return out

    def start(self, stats: TwoLevelStats, codes: dict[str, np.ndarray], fixed: dict[str, np.ndarray],
              moments: Moments | None = None) -> dict[str, FloatArray]:
        mean = stats.grand_mean if moments is None else moments.mu
        out: dict[str, FloatArray] = {"mu": mean.reshape(-1, 1)}
        s_w, s_b = start_covariances(stats, moments)
        for name, sigma in (("within", s_w), ("between", s_b)):
            block = self._blocks[name]
            for kind, mat in block.ctype.from_sigma(sigma).items():
                out[block.matrix_name(kind)] = mat
        return out

    def derived(self, mats: dict[str, FloatArray]) -> dict[str, FloatArray]:
        mom = self.implied(mats)
        out: dict[str, FloatArray] = {}
        out.update(derived_matrices(mom.sigma_within, "within"))
        out.update(derived_matrices(mom.sigma_between, "between"))
        out["mu"] = mom.mu.reshape(-1, 1)
        return out
