"""What every model family provides: matrices, implied moments and their derivatives.

Invariants
----------
* The moment vector of one group is
  ``phi = (mu, vech(Sigma_W), vech(Sigma_B))`` of length p + p(p+1).
* :meth:`Family.derivatives` gives d phi / d m for a list of stored matrix
  elements m (table rows).  Every single-element derivative of a covariance
  matrix in these families is a symmetric rank-2 term
  ``d Sigma = a b' + b a'`` (see :mod:`psychonetrics.parameterizations`),
  so a family returns the vectors a and b per level and the mean derivative;
  :meth:`MomentDerivatives.phi` assembles the dense (n_phi, K) Jacobian.
  Nothing of size p^2 x p^2 is formed, so the cost grows as p^2 per element.
* A parameter vector outside the model's parameter space (a singular
  I - B, a network whose I - omega is not positive definite) makes
  :meth:`Family.implied` raise ``LinAlgError``.  Matrices are finite: the
  objective checks the parameter values before they reach a family.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from ..data.stats import TwoLevelStats
from ..linalg import FloatArray, IntArray, vech_indices, vech_positions
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
class Elements:
    """Stored matrix elements of one group, grouped by matrix: the columns of a derivative.

    ``by_matrix`` holds, per matrix, its name, the positions of its elements
    among the K columns and their rows and columns in the matrix.
    """

    count: int
    by_matrix: tuple[tuple[str, IntArray, IntArray, IntArray], ...]

    @classmethod
    def of(cls, names: np.ndarray, rows: IntArray, cols: IntArray) -> "Elements":
        groups = []
        for name in dict.fromkeys(names.tolist()):
            idx = np.flatnonzero(names == name)
            groups.append((str(name), idx, rows[idx], cols[idx]))
        return cls(len(names), tuple(groups))


@dataclass
class MomentDerivatives:
    """d phi / d m for K elements m, in rank-2 form.

    ``d mu / d m_k = mu[:, k]``; ``d Sigma_W / d m_k = a_w[:, k] b_w[:, k]' + b_w[:, k] a_w[:, k]'``
    and likewise for Sigma_B.  All arrays are (p, K).
    """

    mu: FloatArray
    a_w: FloatArray
    b_w: FloatArray
    a_b: FloatArray
    b_b: FloatArray

    @classmethod
    def zeros(cls, p: int, k: int) -> "MomentDerivatives":
        return cls(*(np.zeros((p, k)) for _ in range(5)))

    def set_level(self, level: str, idx: IntArray, a: FloatArray, b: FloatArray) -> None:
        """Store the rank-2 factors of elements ``idx`` on ``level`` ("within" or "between")."""
        if level == "within":
            self.a_w[:, idx], self.b_w[:, idx] = a, b
        else:
            self.a_b[:, idx], self.b_b[:, idx] = a, b

    def phi(self) -> FloatArray:
        """The dense Jacobian d phi / d m, (n_phi, K)."""
        p = self.mu.shape[0]
        r, c = vech_indices(p)
        w = self.a_w[r] * self.b_w[c] + self.b_w[r] * self.a_w[c]
        b = self.a_b[r] * self.b_b[c] + self.b_b[r] * self.a_b[c]
        return np.vstack([self.mu, w, b])


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

    def matrix_name(self, kind: str) -> str:
        return f"{kind}_{self.name}" if self.name else kind

    def matrix_names(self) -> list[str]:
        return [self.matrix_name(kind) for kind in self.ctype.kinds]

    def kind_of(self, matrix: str) -> str:
        """The kind (``omega``, ``delta``...) of one of this block's matrices."""
        return next(k for k in self.ctype.kinds if self.matrix_name(k) == matrix)

    def mats(self, mats: dict[str, FloatArray]) -> dict[str, FloatArray]:
        """This block's matrices keyed by kind."""
        return {kind: mats[self.matrix_name(kind)] for kind in self.ctype.kinds}

    def sigma(self, mats: dict[str, FloatArray]) -> FloatArray:
        return self.ctype.sigma(self.mats(mats))

    def derivatives(self, mats: dict[str, FloatArray], matrix: str, rows: IntArray, cols: IntArray,
                    ) -> tuple[FloatArray, FloatArray]:
        """Rank-2 factors of d Sigma_block / d m for elements of ``matrix``."""
        return self.ctype.derivatives(self.mats(mats), self.kind_of(matrix), rows, cols)

    def variance_matrix(self) -> str:
        return self.matrix_name(self.ctype.variance_kind)


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
        """Implied moments of one group from its matrices (``LinAlgError`` outside the parameter space)."""

    @abstractmethod
    def derivatives(self, mats: dict[str, FloatArray], elements: Elements) -> MomentDerivatives:
        """d phi / d m for the stored ``elements`` of one group."""

    def moments_and_derivatives(self, mats: dict[str, FloatArray], elements: Elements,
                                ) -> tuple[Moments, MomentDerivatives]:
        """Both at once (families share their intermediate matrices)."""
        return self.implied(mats), self.derivatives(mats, elements)

    @abstractmethod
    def start(self, stats: TwoLevelStats, codes: dict[str, np.ndarray], fixed: dict[str, np.ndarray],
              moments: Moments | None = None) -> dict[str, FloatArray]:
        """Start values of every matrix, from ``moments`` (a fitted saturated model) or the statistics."""

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


def start_covariances(stats: TwoLevelStats, moments: Moments | None) -> tuple[FloatArray, FloatArray]:
    """Within and between covariance to start from: the saturated fit when given, else moment estimates.

    Both are made positive definite, so that every parameterization
    (precision, network, Cholesky) can be started from them: the moment
    estimates with eigenvalues of at least 1e-3 (within) or 0.05 (between)
    times the mean variance; the saturated fit, whose between level is often
    singular on real data, with a floor of only 1e-4, so that a network
    starts within a small fraction of a logl unit of the saturated model.
    """
    from ..linalg import nearest_positive_definite

    if moments is None:
        return nearest_positive_definite(stats.within_cov, floor=1e-3), sample_between_cov(stats)
    return (nearest_positive_definite(moments.sigma_within, floor=1e-4),
            nearest_positive_definite(moments.sigma_between, floor=1e-4))
