"""``prec``: Sigma = kappa^-1 (a precision matrix, positive definite).

Derivatives: d kappa^-1 / d kappa_ij = -Sigma (E_ij + E_ji) Sigma
= -(s_i s_j' + s_j s_i') with s_i the i-th column of Sigma (half of it on
the diagonal).
"""

from __future__ import annotations

import numpy as np

from ..linalg import FloatArray, IntArray, nearest_positive_definite, spd_inverse
from ..partable.matrices import MatrixSpec
from .base import CovarianceType, half_on_diagonal, register, symmetric_spec


@register
class Prec(CovarianceType):
    name = "prec"
    kinds = ("kappa",)
    variance_kind = "kappa"
    needs_regular = True

    def specs(self, block: str, labels: tuple[str, ...]) -> list[MatrixSpec]:
        return [symmetric_spec("kappa", block, labels, op="~/~")]

    def default_patterns(self, *, residual: bool) -> dict[str, str]:
        return {"kappa": "diag" if residual else "full"}

    def sigma(self, mats: dict[str, FloatArray]) -> FloatArray:
        return spd_inverse(mats["kappa"])

    def derivatives(self, mats: dict[str, FloatArray], kind: str, rows: IntArray, cols: IntArray,
                    ) -> tuple[FloatArray, FloatArray]:
        sigma = spd_inverse(mats["kappa"])
        return -sigma[:, rows], sigma[:, cols] * half_on_diagonal(rows, cols)

    def from_sigma(self, sigma: FloatArray) -> dict[str, FloatArray]:
        try:
            np.linalg.cholesky(sigma)
        except np.linalg.LinAlgError:
            sigma = nearest_positive_definite(sigma)
        return {"kappa": np.linalg.inv(sigma)}
