"""The covariance-parameterization protocol and its registry.

A parameterization turns a few matrices into one covariance matrix
``Sigma`` (n x n) of a block (``zeta_within``, ``epsilon_between``, ``within``
...).  Each lives in its own module and registers itself; adding a type
touches one file.

Invariants
----------
* :meth:`CovarianceType.jacobian` returns, for each of its matrices M,
  ``d vec(Sigma) / d vec(M)`` of shape (n^2, n^2): rows index the
  column-major vec of Sigma, columns the column-major vec of M *with every
  element treated as independent*.  The parameter table later adds the
  columns of (i, j) and (j, i) for symmetric storage.
* :meth:`CovarianceType.from_sigma` inverts :meth:`sigma` (used for start
  values and for the derived matrices of every other type).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import numpy as np

from .._arg import choice
from ..linalg import FloatArray
from ..spec.matrices import MatrixSpec

REGISTRY: dict[str, "CovarianceType"] = {}


class CovarianceType(ABC):
    """One way to parameterize a covariance matrix."""

    #: name used in ``within_latent=`` etc.
    name: ClassVar[str]
    #: kinds of its matrices, in order (e.g. ``("omega", "delta")``)
    kinds: ClassVar[tuple[str, ...]]
    #: the kind that carries the variances (fixed to 1 by ``identification="variance"``)
    variance_kind: ClassVar[str]

    @abstractmethod
    def specs(self, block: str, labels: tuple[str, ...]) -> list[MatrixSpec]:
        """Matrix specs named ``<kind>_<block>`` (or ``<kind>`` when ``block`` is empty)."""

    @abstractmethod
    def default_patterns(self, *, residual: bool) -> dict[str, str]:
        """psychonetrics' default pattern of each of its matrices (by kind)."""

    @abstractmethod
    def sigma(self, mats: dict[str, FloatArray]) -> FloatArray:
        """The covariance matrix, (n, n)."""

    @abstractmethod
    def jacobian(self, mats: dict[str, FloatArray]) -> dict[str, FloatArray]:
        """``d vec(Sigma) / d vec(M)`` (n^2, n^2) for each matrix kind M."""

    @abstractmethod
    def from_sigma(self, sigma: FloatArray) -> dict[str, FloatArray]:
        """Matrices of this type that reproduce ``sigma`` (must be positive definite)."""


def register(cls: type[CovarianceType]) -> type[CovarianceType]:
    """Class decorator adding a parameterization to :data:`REGISTRY`."""
    REGISTRY[cls.name] = cls()
    return cls


def get_type(name: str, *, argument: str) -> CovarianceType:
    """The registered parameterization called ``name``; errors name ``argument``."""
    choice(argument, name, REGISTRY)
    return REGISTRY[name]


def matrix_name(kind: str, block: str) -> str:
    """``<kind>_<block>``, or ``kind`` alone for an unnamed block."""
    return f"{kind}_{block}" if block else kind


def symmetric_spec(kind: str, block: str, labels: tuple[str, ...], *, op: str, fixed_diagonal: float | None = None) -> MatrixSpec:
    n = len(labels)
    return MatrixSpec(matrix_name(kind, block), kind, (n, n), "symmetric", labels, labels,
                      fixed_diagonal=fixed_diagonal, op=op, block=block)


def diagonal_spec(kind: str, block: str, labels: tuple[str, ...], *, op: str) -> MatrixSpec:
    n = len(labels)
    return MatrixSpec(matrix_name(kind, block), kind, (n, n), "diagonal", labels, labels,
                      diagonal_lower=0.0, op=op, block=block)


def identity(n: int) -> FloatArray:
    return np.eye(n)
