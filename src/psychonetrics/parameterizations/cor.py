"""``cor``: Sigma = SD rho SD, a correlation matrix (positive definite) and standard deviations.

Derivatives::

    d Sigma / d rho_ij = sd_i sd_j (E_ij + E_ji) = (sd_i e_i)(sd_j e_j)' + (sd_j e_j)(sd_i e_i)'
    d Sigma / d SD_ii  = e_i (SD rho)_i' + (SD rho)_i e_i'      ((SD rho)_i: i-th column)
"""

from __future__ import annotations

import numpy as np

from ..linalg import FloatArray, IntArray, cov2cor
from ..partable.matrices import MatrixSpec
from .base import CovarianceType, diagonal_spec, half_on_diagonal, register, symmetric_spec, unit_columns


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
        sd, rho = mats["SD"], mats["rho"]
        np.linalg.cholesky(rho)  # LinAlgError: not a correlation matrix
        return sd @ rho @ sd

    def derivatives(self, mats: dict[str, FloatArray], kind: str, rows: IntArray, cols: IntArray,
                    ) -> tuple[FloatArray, FloatArray]:
        sd, rho = mats["SD"], mats["rho"]
        n = sd.shape[0]
        if kind == "rho":
            s = np.diag(sd)
            return unit_columns(n, rows, s[rows]), unit_columns(n, cols, s[cols] * half_on_diagonal(rows, cols))
        return unit_columns(n, rows), (sd @ rho)[:, rows]

    def from_sigma(self, sigma: FloatArray) -> dict[str, FloatArray]:
        sd = np.sqrt(np.clip(np.diag(sigma), 1e-12, None))
        rho = cov2cor(sigma)
        np.fill_diagonal(rho, 1.0)
        return {"rho": rho, "SD": np.diag(sd)}
