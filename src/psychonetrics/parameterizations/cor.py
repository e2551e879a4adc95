"""``cor``: Sigma = SD rho SD, a correlation matrix and standard deviations."""

from __future__ import annotations

import numpy as np

from ..linalg import kron, FloatArray, cov2cor
from ..spec.matrices import MatrixSpec
from .base import CovarianceType, diagonal_spec, register, symmetric_spec


@register
class Cor(CovarianceType):
    name = "cor"
    kinds = ("rho", "SD")
    variance_kind = "SD"

    def specs(self, block: str, labels: tuple[str, ...]) -> list[MatrixSpec]:
        return [
            symmetric_spec("rho", block, labels, op="<->", fixed_diagonal=1.0),
            diagonal_spec("SD", block, labels, op="~SD~"),
        ]

    def default_patterns(self, *, residual: bool) -> dict[str, str]:
        return {"rho": "zero" if residual else "full", "SD": "diag"}

    def sigma(self, mats: dict[str, FloatArray]) -> FloatArray:
        sd = mats["SD"]
        return sd @ mats["rho"] @ sd

    def jacobian(self, mats: dict[str, FloatArray]) -> dict[str, FloatArray]:
        sd, rho = mats["SD"], mats["rho"]
        eye = np.eye(sd.shape[0])
        sr = sd @ rho
        # d(S R S) = dS (R S) + (S R) dS + S dR S
        return {"SD": kron(sr, eye) + kron(eye, sr), "rho": kron(sd, sd)}

    def from_sigma(self, sigma: FloatArray) -> dict[str, FloatArray]:
        sd = np.sqrt(np.clip(np.diag(sigma), 1e-12, None))
        rho = cov2cor(sigma)
        np.fill_diagonal(rho, 1.0)
        return {"rho": rho, "SD": np.diag(sd)}
