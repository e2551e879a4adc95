"""``ggm``: Sigma = delta (I - omega)^-1 delta, a Gaussian graphical model.

``omega`` holds partial correlations (symmetric, zero diagonal); ``delta`` is
diagonal and positive.  With kappa = Sigma^-1: delta_ii = kappa_ii^-1/2 and
omega = I - delta kappa delta.
"""

from __future__ import annotations

import numpy as np

from ..linalg import kron, FloatArray, nearest_positive_definite
from ..spec.matrices import MatrixSpec
from .base import CovarianceType, diagonal_spec, register, symmetric_spec


@register
class GGM(CovarianceType):
    name = "ggm"
    kinds = ("omega", "delta")
    variance_kind = "delta"

    def specs(self, block: str, labels: tuple[str, ...]) -> list[MatrixSpec]:
        return [
            symmetric_spec("omega", block, labels, op="--", fixed_diagonal=0.0),
            diagonal_spec("delta", block, labels, op="~/~"),
        ]

    def default_patterns(self, *, residual: bool) -> dict[str, str]:
        return {"omega": "zero" if residual else "full", "delta": "diag"}

    def sigma(self, mats: dict[str, FloatArray]) -> FloatArray:
        omega, delta = mats["omega"], mats["delta"]
        inner = np.linalg.inv(np.eye(omega.shape[0]) - omega)
        return delta @ inner @ delta

    def jacobian(self, mats: dict[str, FloatArray]) -> dict[str, FloatArray]:
        omega, delta = mats["omega"], mats["delta"]
        n = omega.shape[0]
        inner = np.linalg.inv(np.eye(n) - omega)
        da = delta @ inner
        eye = np.eye(n)
        # d(D A D) = dD (A D) + (D A) dD + (D A) dOmega (A D)
        return {"delta": kron(da, eye) + kron(eye, da), "omega": kron(da, da)}

    def from_sigma(self, sigma: FloatArray) -> dict[str, FloatArray]:
        try:
            kappa = np.linalg.inv(sigma)
            np.linalg.cholesky(kappa)
        except np.linalg.LinAlgError:
            kappa = np.linalg.inv(nearest_positive_definite(sigma))
        d = 1.0 / np.sqrt(np.diag(kappa))
        omega = -kappa * np.outer(d, d)
        np.fill_diagonal(omega, 0.0)
        return {"omega": omega, "delta": np.diag(d)}
