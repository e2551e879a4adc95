"""``prec``: Sigma = kappa^-1 (a precision matrix)."""

from __future__ import annotations

import numpy as np

from ..linalg import kron, FloatArray, nearest_positive_definite
from ..spec.matrices import MatrixSpec
from .base import CovarianceType, register, symmetric_spec


@register
class Prec(CovarianceType):
    name = "prec"
    kinds = ("kappa",)
    variance_kind = "kappa"

    def specs(self, block: str, labels: tuple[str, ...]) -> list[MatrixSpec]:
        return [symmetric_spec("kappa", block, labels, op="~/~")]

    def default_patterns(self, *, residual: bool) -> dict[str, str]:
        return {"kappa": "diag" if residual else "full"}

    def sigma(self, mats: dict[str, FloatArray]) -> FloatArray:
        return np.linalg.inv(mats["kappa"])

    def jacobian(self, mats: dict[str, FloatArray]) -> dict[str, FloatArray]:
        # d vec(K^-1) = -(Sigma kron Sigma) d vec(K)
        sigma = np.linalg.inv(mats["kappa"])
        return {"kappa": -kron(sigma, sigma)}

    def from_sigma(self, sigma: FloatArray) -> dict[str, FloatArray]:
        try:
            np.linalg.cholesky(sigma)
        except np.linalg.LinAlgError:
            sigma = nearest_positive_definite(sigma)
        return {"kappa": np.linalg.inv(sigma)}
