"""Covariance parameterizations: one module per type, found through :data:`REGISTRY`."""

import numpy as np

from . import chol, cor, cov, ggm, prec  # noqa: F401  (registration)
from .base import REGISTRY, CovarianceType, get_type, matrix_name

TYPES = tuple(REGISTRY)


def derived_matrices(sigma, block: str) -> dict[str, object]:
    """Every type's matrices for the covariance ``sigma`` of ``block``, keyed by full name."""
    out: dict[str, object] = {}
    for ctype in REGISTRY.values():
        try:
            mats = ctype.from_sigma(sigma)
        except (np.linalg.LinAlgError, ValueError, FloatingPointError):  # a singular block has no such view
            continue
        for kind, value in mats.items():
            out[matrix_name(kind, block)] = value
    return out


__all__ = ["REGISTRY", "TYPES", "CovarianceType", "get_type", "matrix_name", "derived_matrices"]
