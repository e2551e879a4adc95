"""The moments of a two-level model and where its variables live: the value types every room shares.

Invariants
----------
* The moment vector of one group is ``phi = (mu, vech(Sigma_W), vech(Sigma_B))``
  of length p + p(p+1) (``vech``: the lower triangle column by column, see
  :mod:`psychonetrics.linalg`).
* Sigma_W and Sigma_B are p x p over every observed variable, with the
  structural zeros of the variables' :class:`Roles` (rows of cluster-level
  variables in Sigma_W, of within-only variables in Sigma_B).
* Values are read-only.

Families produce :class:`Moments`, likelihood routes consume them; neither
imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .linalg import FloatArray, IntArray, read_only, vech_positions


@dataclass(frozen=True)
class Roles:
    """On which level(s) each observed variable lives.

    Variables measured on both levels (the default) have a within and a
    between part; a within-only variable (named only on level 1, as lavaan
    defines it) has no between part: its rows of Sigma_B are structurally 0;
    a between-only (cluster-level) variable is constant within clusters: its
    rows of Sigma_W are structurally 0 and it counts once per cluster.

    Attributes
    ----------
    n_vars : int
    within_only, between_only : tuple of int
        Indices of the within-only and of the cluster-level variables.
    """

    n_vars: int
    within_only: tuple[int, ...] = ()
    between_only: tuple[int, ...] = ()

    @classmethod
    def of(cls, observed: tuple[str, ...], *, within_only: tuple[str, ...] = (),
           between_only: tuple[str, ...] = ()) -> "Roles":
        index = {name: k for k, name in enumerate(observed)}
        return cls(len(observed), tuple(sorted(index[v] for v in within_only)),
                   tuple(sorted(index[v] for v in between_only)))

    @property
    def plain(self) -> bool:
        """Every variable lives on both levels."""
        return not self.within_only and not self.between_only

    @property
    def within(self) -> IntArray:
        """Variables with a within part (both-level and within-only), increasing."""
        return np.setdiff1d(np.arange(self.n_vars), self.between_only).astype(np.int64)

    @property
    def between(self) -> IntArray:
        """Variables with a between part (both-level and cluster-level), increasing."""
        return np.setdiff1d(np.arange(self.n_vars), self.within_only).astype(np.int64)

    def n_moments(self) -> int:
        """Free sample moments of a group: one mean per variable, vech of Sigma_W over the within
        variables and of Sigma_B over the between variables (the saturated model's parameters)."""
        pw, pb = self.within.size, self.between.size
        return self.n_vars + pw * (pw + 1) // 2 + pb * (pb + 1) // 2


@dataclass(frozen=True)
class Moments:
    """Implied moments of one group.

    Sigma_W and Sigma_B are p x p over every observed variable, with the
    structural zeros of ``roles`` (rows of cluster-level variables in
    Sigma_W, of within-only variables in Sigma_B).
    """

    mu: FloatArray  # (p,)
    sigma_within: FloatArray  # (p, p)
    sigma_between: FloatArray  # (p, p)
    roles: Roles | None = None  # None: every variable on both levels

    def __post_init__(self) -> None:
        for name in ("mu", "sigma_within", "sigma_between"):
            object.__setattr__(self, name, read_only(getattr(self, name)))

    def phi(self) -> FloatArray:
        pos = vech_positions(self.mu.size)
        return np.concatenate([self.mu, self.sigma_within.reshape(-1, order="F")[pos],
                               self.sigma_between.reshape(-1, order="F")[pos]])


def n_moments(p: int) -> int:
    """Length of phi for p observed variables."""
    return p + p * (p + 1)




def place_rows(n: int, index: IntArray, x: FloatArray) -> FloatArray:
    """``x`` (rows: some of the variables, in ``index`` order) placed at rows ``index`` of an (n, ...) zero
    array; ``x`` itself when ``index`` covers all n rows (a level's rows among all observed variables)."""
    if index.size == n:
        return x
    full = np.zeros((n,) + x.shape[1:])
    full[index] = x
    return full


def place_block(n: int, index: IntArray, x: FloatArray) -> FloatArray:
    """The square ``x`` (over the variables ``index``) placed in an n x n zero matrix."""
    if index.size == n:
        return x
    full = np.zeros((n, n))
    full[np.ix_(index, index)] = x
    return full


__all__ = ["Roles", "Moments", "n_moments", "place_rows", "place_block"]
