"""``cov``: the covariance matrix itself, Sigma = sigma.

Derivatives: d Sigma / d sigma_ij = E_ij + E_ji = e_i e_j' + e_j e_i'
(i != j) and E_ii = e_i (e_i / 2)' + (e_i / 2) e_i'.  Any symmetric value
is allowed (a Heywood case is reported, not excluded).
"""

from __future__ import annotations

from ..linalg import FloatArray, IntArray
from ..partable.matrices import MatrixSpec
from .base import CovarianceType, half_on_diagonal, register, symmetric_spec, unit_columns


@register
class Cov(CovarianceType):
    name = "cov"
    kinds = ("sigma",)
    linear = True
    variance_kind = "sigma"

    def specs(self, block: str, labels: tuple[str, ...]) -> list[MatrixSpec]:
        return [symmetric_spec("sigma", block, labels, op="~~")]

    def default_patterns(self, *, residual: bool) -> dict[str, str]:
        return {"sigma": "diag" if residual else "full"}

    def sigma(self, mats: dict[str, FloatArray]) -> FloatArray:
        return mats["sigma"]

    def derivatives(self, mats: dict[str, FloatArray], kind: str, rows: IntArray, cols: IntArray,
                    ) -> tuple[FloatArray, FloatArray]:
        n = mats["sigma"].shape[0]
        return unit_columns(n, rows), unit_columns(n, cols, half_on_diagonal(rows, cols))

    def from_sigma(self, sigma: FloatArray) -> dict[str, FloatArray]:
        return {"sigma": sigma.copy()}
