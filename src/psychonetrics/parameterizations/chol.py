"""``chol``: Sigma = L L' with L lower triangular (``lowertri``).

Derivatives: d (L L') / d L_ij = e_i L_j' + L_j e_i' (L_j the j-th column of L).
"""

from __future__ import annotations

import numpy as np

from ..linalg import FloatArray, IntArray, nearest_positive_definite
from ..partable.matrices import MatrixSpec
from .base import CovarianceType, matrix_name, register, unit_columns


@register
class Chol(CovarianceType):
    name = "chol"
    kinds = ("lowertri",)
    variance_kind = "lowertri"

    def specs(self, block: str, labels: tuple[str, ...]) -> list[MatrixSpec]:
        n = len(labels)
        return [MatrixSpec(matrix_name("lowertri", block), "lowertri", (n, n), "lowertri", labels, labels,
                           diagonal_lower=0.0, op="~chol~", block=block, role="cholesky")]

    def default_patterns(self, *, residual: bool) -> dict[str, str]:
        return {"lowertri": "diag" if residual else "full"}

    def sigma(self, mats: dict[str, FloatArray]) -> FloatArray:
        low = mats["lowertri"]
        return low @ low.T

    def derivatives(self, mats: dict[str, FloatArray], kind: str, rows: IntArray, cols: IntArray,
                    ) -> tuple[FloatArray, FloatArray]:
        low = mats["lowertri"]
        return unit_columns(low.shape[0], rows), low[:, cols]

    def from_sigma(self, sigma: FloatArray) -> dict[str, FloatArray]:
        try:
            return {"lowertri": np.linalg.cholesky(sigma)}
        except np.linalg.LinAlgError:
            return {"lowertri": np.linalg.cholesky(nearest_positive_definite(sigma))}
