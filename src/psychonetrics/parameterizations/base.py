"""The covariance-parameterization protocol and its registry.

A parameterization turns a few matrices into one covariance matrix
``Sigma`` (n x n) of a block (``zeta_within``, ``epsilon_between``, ``within``
...).  Each lives in its own module and registers itself; adding a type
touches one file.

Invariants
----------
* :meth:`CovarianceType.derivatives` gives the derivative of Sigma with
  respect to stored elements of one of its matrices as a symmetric rank-2
  term: ``d Sigma / d m_k = a_k b_k' + b_k a_k'`` (every parameterization's
  single-element derivative has this form).  A stored off-diagonal element
  of a symmetric matrix moves both (i, j) and (j, i); its derivative
  includes both.  Nothing of size n^2 x n^2 is ever formed.
* A matrix whose values leave the type's parameter space (a precision or
  ``I - omega`` that is not positive definite, a correlation matrix that
  is not) makes :meth:`CovarianceType.sigma` raise ``LinAlgError``: the
  likelihood is -inf there.
* :meth:`CovarianceType.from_sigma` inverts :meth:`sigma` (used for start
  values and for the derived matrices of every other type).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import numpy as np

from .._arg import choice
from ..linalg import FloatArray, IntArray
from ..partable.matrices import MatrixSpec

REGISTRY: dict[str, "CovarianceType"] = {}


class CovarianceType(ABC):
    """One way to parameterize a covariance matrix."""

    #: name used in ``within_latent=`` etc.
    name: ClassVar[str]
    #: kinds of its matrices, in order (e.g. ``("omega", "delta")``)
    kinds: ClassVar[tuple[str, ...]]
    #: the kind that carries the variances (fixed to 1 by ``identification="variance"``)
    variance_kind: ClassVar[str]
    #: whether the parameterization degenerates when Sigma is (nearly) singular (networks, precisions):
    #: such a block is reported as near-singular, and retried when it collapses
    needs_regular: ClassVar[bool] = False
    #: whether Sigma is its matrix's elements themselves (linear in them, second derivatives 0)
    linear: ClassVar[bool] = False

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
    def derivatives(self, mats: dict[str, FloatArray], kind: str, rows: IntArray, cols: IntArray,
                    ) -> tuple[FloatArray, FloatArray]:
        """Derivatives of Sigma with respect to the stored elements (``rows[k]``, ``cols[k]``) of ``kind``.

        Returns
        -------
        a, b : (n, K) arrays
            ``d Sigma / d m_k = a[:, k] b[:, k]' + b[:, k] a[:, k]'``.
        """

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


#: The role (see :class:`~psychonetrics.partable.matrices.MatrixSpec`) of every covariance type's matrix kinds.
ROLES = {"sigma": "covariance", "lowertri": "cholesky", "kappa": "precision", "omega": "network", "delta": "scale",
         "rho": "correlation", "SD": "scale"}


def symmetric_spec(kind: str, block: str, labels: tuple[str, ...], *, op: str,
                   fixed_diagonal: float | None = None) -> MatrixSpec:
    n = len(labels)
    return MatrixSpec(matrix_name(kind, block), kind, (n, n), "symmetric", labels, labels,
                      fixed_diagonal=fixed_diagonal, op=op, block=block, role=ROLES[kind])


def diagonal_spec(kind: str, block: str, labels: tuple[str, ...], *, op: str) -> MatrixSpec:
    n = len(labels)
    return MatrixSpec(matrix_name(kind, block), kind, (n, n), "diagonal", labels, labels,
                      diagonal_lower=0.0, strict_lower=True, op=op, block=block, role=ROLES[kind])


def unit_columns(n: int, index: IntArray, scale: FloatArray | float = 1.0) -> FloatArray:
    """(n, K) matrix whose column k is ``scale[k]`` times the unit vector e_index[k]."""
    out = np.zeros((n, index.size))
    out[index, np.arange(index.size)] = scale
    return out


def half_on_diagonal(rows: IntArray, cols: IntArray) -> FloatArray:
    """1/2 where an element is on the diagonal (its a b' + b a' counts the element twice), else 1."""
    return np.where(rows == cols, 0.5, 1.0)
