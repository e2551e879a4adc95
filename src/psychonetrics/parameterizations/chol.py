"""``chol``: Sigma = L L' with L lower triangular (``lowertri``)."""

from __future__ import annotations

import numpy as np

from ..linalg import kron, FloatArray, nearest_positive_definite, sym_jacobian
from ..spec.matrices import MatrixSpec
from .base import CovarianceType, matrix_name, register


@register
class Chol(CovarianceType):
    name = "chol"
    kinds = ("lowertri",)
    variance_kind = "lowertri"

    def specs(self, block: str, labels: tuple[str, ...]) -> list[MatrixSpec]:
        n = len(labels)
        return [MatrixSpec(matrix_name("lowertri", block), "lowertri", (n, n), "lowertri", labels, labels,
                           diagonal_lower=0.0, op="~chol~", block=block)]

    def default_patterns(self, *, residual: bool) -> dict[str, str]:
        return {"lowertri": "diag" if residual else "full"}

    def sigma(self, mats: dict[str, FloatArray]) -> FloatArray:
        low = mats["lowertri"]
        return low @ low.T

    def jacobian(self, mats: dict[str, FloatArray]) -> dict[str, FloatArray]:
        # d vec(L L') = (I + K)(L kron I) d vec(L)
        low = mats["lowertri"]
        n = low.shape[0]
        return {"lowertri": sym_jacobian(kron(low, np.eye(n)), n)}

    def from_sigma(self, sigma: FloatArray) -> dict[str, FloatArray]:
        try:
            return {"lowertri": np.linalg.cholesky(sigma)}
        except np.linalg.LinAlgError:
            return {"lowertri": np.linalg.cholesky(nearest_positive_definite(sigma))}
