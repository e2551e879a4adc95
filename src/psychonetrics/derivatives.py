"""Derivatives of the moments with respect to stored matrix elements: the protocol families return.

A family gives d phi / d m for a list of stored matrix elements m (table
rows), phi = (mu, vech Sigma_W, vech Sigma_B) of one group (see
:mod:`psychonetrics.moments`), as an object with two methods:

* ``phi()``: the dense Jacobian (n_phi, K);
* ``contract(g)``: J' g for a vector g over phi, (K,), which the observed
  information's second-order term differences without the dense Jacobian.

Two implementations:

* :class:`MomentDerivatives`, the fast one for structures whose every
  single-element covariance derivative is a symmetric rank-2 term
  ``d Sigma = a b' + b a'`` (every covariance parameterization and the
  latent variable family): only the vectors a and b are stored, so the cost
  grows as p^2 per element and nothing of size p^2 x p^2 is formed;
* :class:`DenseDerivatives`, for structures whose derivatives are full rank
  (a stationary VAR covariance through a Lyapunov equation, anything through
  ``(I - beta kron beta)^-1``): the Jacobian itself.

``Objective``, the information matrices, the modification indices and the
robust scores call only ``phi()`` and ``contract()``, so either serves.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

import numpy as np

from .linalg import FloatArray, IntArray, vech_indices

T = TypeVar("T")


class PhiDerivatives(Protocol):
    """What every derivative object offers (see the module docstring)."""

    def phi(self) -> FloatArray: ...

    def contract(self, g: FloatArray) -> FloatArray: ...


@dataclass(frozen=True)
class Elements:
    """Stored matrix elements of one group, grouped by matrix: the columns of a derivative.

    ``by_matrix`` holds, per matrix, its name, the positions of its elements
    among the K columns and their rows and columns in the matrix.  A family
    may keep derivative parts that do not depend on the matrices' values (unit
    vectors, the derivatives of a linear parameterization) with
    :meth:`constant`: they are computed once per element set, not per
    evaluation.
    """

    count: int
    by_matrix: tuple[tuple[str, IntArray, IntArray, IntArray], ...]
    _constants: dict = field(default_factory=dict, compare=False, repr=False)

    def constant(self, key: Hashable, make: Callable[[], T]) -> T:
        """``make()``, computed on the first call with ``key`` and kept (the value must not depend on
        matrix values)."""
        try:
            return self._constants[key]
        except KeyError:
            value = self._constants[key] = make()
            return value

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

    def contract(self, g: FloatArray) -> FloatArray:
        """J' g for a vector g over phi, (K,), without the dense Jacobian: with G the lower-triangular
        p x p matrix of g's vech part, sum_vech g (a_r b_c + b_r a_c) = a' (G + G') b."""
        p = self.mu.shape[0]
        r, c = vech_indices(p)
        ps = r.size
        out = self.mu.T @ g[:p]
        for part, a, b in ((g[p:p + ps], self.a_w, self.b_w), (g[p + ps:], self.a_b, self.b_b)):
            low = np.zeros((p, p))
            low[r, c] = part
            out += np.einsum("pk,pk->k", a, (low + low.T) @ b)
        return out

    def phi(self) -> FloatArray:
        """The dense Jacobian d phi / d m, (n_phi, K)."""
        p = self.mu.shape[0]
        r, c = vech_indices(p)
        w = self.a_w[r] * self.b_w[c] + self.b_w[r] * self.a_w[c]
        b = self.a_b[r] * self.b_b[c] + self.b_b[r] * self.a_b[c]
        return np.vstack([self.mu, w, b])




@dataclass
class DenseDerivatives:
    """d phi / d m for K elements as a dense (n_phi, K) Jacobian."""

    jacobian: FloatArray

    def phi(self) -> FloatArray:
        return self.jacobian

    def contract(self, g: FloatArray) -> FloatArray:
        return g @ self.jacobian


__all__ = ["PhiDerivatives", "Elements", "MomentDerivatives", "DenseDerivatives"]
