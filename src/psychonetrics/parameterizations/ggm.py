"""``ggm``: Sigma = delta (I - omega)^-1 delta, a Gaussian graphical model.

``omega`` holds partial correlations (symmetric, zero diagonal, with
I - omega positive definite); ``delta`` is diagonal and positive.  With
kappa = Sigma^-1: delta_ii = kappa_ii^-1/2 and omega = I - delta kappa delta.

Derivatives, with A = (I - omega)^-1 and M = delta A (so Sigma = M delta)::

    d Sigma / d omega_ij = M_i M_j' + M_j M_i'       (M_i the i-th column of M)
    d Sigma / d delta_ii = e_i M_i' + M_i e_i'
"""

from __future__ import annotations

import numpy as np

from ..linalg import FloatArray, IntArray, nearest_positive_definite, spd_inverse
from ..partable.matrices import MatrixSpec
from .base import CovarianceType, diagonal_spec, half_on_diagonal, register, symmetric_spec, unit_columns


@register
class GGM(CovarianceType):
    name = "ggm"
    kinds = ("omega", "delta")
    variance_kind = "delta"
    needs_regular = True

    def specs(self, block: str, labels: tuple[str, ...]) -> list[MatrixSpec]:
        return [
            symmetric_spec("omega", block, labels, op="--", fixed_diagonal=0.0),
            diagonal_spec("delta", block, labels, op="~/~"),
        ]

    def default_patterns(self, *, residual: bool) -> dict[str, str]:
        return {"omega": "zero" if residual else "full", "delta": "diag"}

    def _m(self, mats: dict[str, FloatArray]) -> FloatArray:
        omega, delta = mats["omega"], mats["delta"]
        return delta @ spd_inverse(np.eye(omega.shape[0]) - omega)

    def sigma(self, mats: dict[str, FloatArray]) -> FloatArray:
        return self._m(mats) @ mats["delta"]

    def derivatives(self, mats: dict[str, FloatArray], kind: str, rows: IntArray, cols: IntArray,
                    ) -> tuple[FloatArray, FloatArray]:
        m = self._m(mats)
        if kind == "omega":
            return m[:, rows], m[:, cols] * half_on_diagonal(rows, cols)
        return unit_columns(m.shape[0], rows), m[:, rows]

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
