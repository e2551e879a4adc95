"""``cov``: the covariance matrix itself, Sigma = sigma."""

from __future__ import annotations

import numpy as np

from ..linalg import FloatArray
from ..spec.matrices import MatrixSpec
from .base import CovarianceType, register, symmetric_spec


@register
class Cov(CovarianceType):
    name = "cov"
    kinds = ("sigma",)
    variance_kind = "sigma"

    def specs(self, block: str, labels: tuple[str, ...]) -> list[MatrixSpec]:
        return [symmetric_spec("sigma", block, labels, op="~~")]

    def default_patterns(self, *, residual: bool) -> dict[str, str]:
        return {"sigma": "diag" if residual else "full"}

    def sigma(self, mats: dict[str, FloatArray]) -> FloatArray:
        return mats["sigma"]

    def jacobian(self, mats: dict[str, FloatArray]) -> dict[str, FloatArray]:
        n = mats["sigma"].shape[0]
        return {"sigma": np.eye(n * n)}

    def from_sigma(self, sigma: FloatArray) -> dict[str, FloatArray]:
        return {"sigma": sigma.copy()}
