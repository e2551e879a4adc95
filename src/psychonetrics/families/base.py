"""What every model family provides: matrices, implied moments and their Jacobian.

Invariants
----------
* The moment vector of one group is
  ``phi = (mu, vech(Sigma_W), vech(Sigma_B))`` of length p + p(p+1).
* ``Family.jacobian`` returns ``d phi / d vec(M)`` for every model matrix M,
  shape (n_phi, size(M)), treating all elements of M as independent
  (the parameter table folds symmetric pairs).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from ..data.stats import TwoLevelStats
from ..linalg import FloatArray, vech_positions
from ..parameterizations import get_type
from ..parameterizations.base import CovarianceType
from ..spec.matrices import MatrixSpec


@dataclass(frozen=True)
class Moments:
    """Implied moments of one group."""

    mu: FloatArray  # (p,)
    sigma_within: FloatArray  # (p, p)
    sigma_between: FloatArray  # (p, p)

    def phi(self) -> FloatArray:
        pos = vech_positions(self.mu.size)
        return np.concatenate([self.mu, self.sigma_within.reshape(-1, order="F")[pos],
                               self.sigma_between.reshape(-1, order="F")[pos]])


def n_moments(p: int) -> int:
    """Length of phi for p observed variables."""
    return p + p * (p + 1)


@dataclass(frozen=True)
class Block:
    """A covariance block of a family: its name, labels and parameterization."""

    name: str  # e.g. "zeta_within"
    labels: tuple[str, ...]
    ctype: CovarianceType
    residual: bool

    @classmethod
    def make(cls, name: str, labels: tuple[str, ...], type_name: str, *, argument: str, residual: bool) -> "Block":
        return cls(name, labels, get_type(type_name, argument=argument), residual)

    def specs(self) -> list[MatrixSpec]:
        return self.ctype.specs(self.name, self.labels)

    def mats(self, mats: dict[str, FloatArray]) -> dict[str, FloatArray]:
        """This block's matrices keyed by kind."""
        return {kind: mats[f"{kind}_{self.name}" if self.name else kind] for kind in self.ctype.kinds}

    def sigma(self, mats: dict[str, FloatArray]) -> FloatArray:
        return self.ctype.sigma(self.mats(mats))

    def jacobian(self, mats: dict[str, FloatArray]) -> dict[str, FloatArray]:
        """d vec(Sigma_block) / d vec(M) keyed by full matrix name."""
        jac = self.ctype.jacobian(self.mats(mats))
        return {(f"{k}_{self.name}" if self.name else k): v for k, v in jac.items()}

    def variance_matrix(self) -> str:
        kind = self.ctype.variance_kind
        return f"{kind}_{self.name}" if self.name else kind


class Family(ABC):
    """A two-level model family (ml_lvm, ml_varcov)."""

    name: str
    observed: tuple[str, ...]

    @property
    def n_vars(self) -> int:
        return len(self.observed)

    @property
    def n_phi(self) -> int:
        return n_moments(self.n_vars)

    @abstractmethod
    def specs(self) -> list[MatrixSpec]:
        """Every model matrix of one group, in table order."""

    @abstractmethod
    def default_patterns(self) -> dict[str, object]:
        """Default pattern of every matrix (by full name)."""

    @abstractmethod
    def blocks(self) -> list[Block]:
        """The covariance blocks."""

    @abstractmethod
    def implied(self, mats: dict[str, FloatArray]) -> Moments:
        """Implied moments of one group from its matrices."""

    @abstractmethod
    def jacobian(self, mats: dict[str, FloatArray]) -> dict[str, FloatArray]:
        """``d phi / d vec(M)`` for every matrix M, shape (n_phi, size(M))."""

    def moments_and_jacobian(self, mats: dict[str, FloatArray]) -> tuple[Moments, dict[str, FloatArray]]:
        """Implied moments and their Jacobian (families may share work between the two)."""
        return self.implied(mats), self.jacobian(mats)

    @abstractmethod
    def start(self, stats: TwoLevelStats, codes: dict[str, np.ndarray], fixed: dict[str, np.ndarray]) -> dict[str, FloatArray]:
        """Start values of every matrix from the data."""

    @abstractmethod
    def derived(self, mats: dict[str, FloatArray]) -> dict[str, FloatArray]:
        """Derived matrices (implied moments, other types' views of each block)."""


def sample_between_cov(stats: TwoLevelStats) -> FloatArray:
    """A moment estimate of Sigma_B: covariance of cluster means minus S_PW / mean size, made PD."""
    from ..linalg import nearest_positive_definite

    sizes = np.repeat(stats.sizes, stats.size_counts).astype(float)
    harmonic = sizes.size / np.sum(1.0 / sizes)
    raw = stats.between_cov() - stats.within_cov / harmonic
    return nearest_positive_definite(raw, floor=0.05)


def vech_rows(jac_vec: FloatArray, p: int) -> FloatArray:
    """Keep the vech rows of a Jacobian whose rows index vec of a p x p matrix."""
    return jac_vec[vech_positions(p)]
