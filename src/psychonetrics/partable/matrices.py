"""Description of one model matrix: its shape, storage and labels.

Storage kinds and the elements they own (each element is one row of the
parameter table):

* ``"full"``: every element, column-major (lambda, beta, nu).
* ``"symmetric"``: the lower triangle, column by column (vech order); the
  upper triangle mirrors it (sigma, kappa, omega, rho).
* ``"lowertri"``: the lower triangle; the upper triangle is zero (lowertri).
* ``"diagonal"``: the diagonal only (delta, SD).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..linalg import vech_indices


@dataclass(frozen=True)
class MatrixSpec:
    """One model matrix.

    Attributes
    ----------
    name : str
        Full name, e.g. ``"omega_zeta_within"``.
    kind : str
        Matrix kind (its name without the block), e.g. ``"omega"``.
    shape : (int, int)
    storage : {"full", "symmetric", "lowertri", "diagonal"}
    row_labels, col_labels : tuple of str
    fixed_diagonal : float or None
        When set, diagonal elements are always fixed at this value (omega: 0,
        rho: 1, beta: 0) and never free parameters or MI candidates.
    diagonal_lower : float or None
        Lower bound of free diagonal elements (delta, SD, lowertri: 0).
    strict_lower : bool
        The lower bound is open: a value on it is outside the parameter
        space, not a boundary solution (delta and SD at 0 collapse a
        whole row of the block; a Cholesky diagonal at 0 is a valid
        singular covariance).  The optimizer never steps onto it.
    op : str
        Operator shown in ``parameters()`` (``"=~"``, ``"~~"``, ``"--"``, ...).
    block : str or None
        Covariance block the matrix parameterizes (``"zeta_within"``), if any.
    level : {"within", "between"} or None
        The level the matrix belongs to; None for a matrix of both levels
        (loadings shared by the levels, the means of a variable model).
    role : str
        What the matrix is: ``"loadings"``, ``"regression"``, ``"temporal"``,
        ``"intercepts"``, ``"means"``, ``"latent_means"``, or a covariance
        type's ``"covariance"``, ``"cholesky"``, ``"precision"``,
        ``"network"``, ``"correlation"``, ``"scale"``.
    fixed_values : bool
        Its pattern may fix elements at values other than 0 (a non-integer
        entry of a pattern array is a fixed value): loadings and intercepts.
    """

    name: str
    kind: str
    shape: tuple[int, int]
    storage: str
    row_labels: tuple[str, ...]
    col_labels: tuple[str, ...]
    fixed_diagonal: float | None = None
    diagonal_lower: float | None = None
    strict_lower: bool = False
    op: str = "~~"
    block: str | None = None
    level: str | None = None
    role: str = ""
    fixed_values: bool = False

    def elements(self) -> tuple[np.ndarray, np.ndarray]:
        """(rows, cols) of the stored elements, in storage order."""
        n, q = self.shape
        if self.storage == "full":
            cols, rows = np.meshgrid(np.arange(q), np.arange(n))
            return rows.T.reshape(-1), cols.T.reshape(-1)
        if self.storage in ("symmetric", "lowertri"):
            return vech_indices(n)
        if self.storage == "diagonal":
            d = np.arange(n)
            return d, d
        raise ValueError(f"unknown storage {self.storage!r}")

    def tested(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Which elements (``rows[k]``, ``cols[k]``) are paths or edges that a search tests and a threshold
        zeroes: every element except the diagonal of a covariance-like matrix (symmetric, lowertri or
        diagonal storage: variances and scales).  Loadings, regressions and means are all tested, whatever
        their shape (a square ``lambda`` has no diagonal in this sense)."""
        rows, cols = np.asarray(rows), np.asarray(cols)
        if self.storage in ("symmetric", "lowertri", "diagonal"):
            return rows != cols
        return np.ones(rows.shape, dtype=bool)

    @property
    def symmetric(self) -> bool:
        return self.storage == "symmetric"

    @property
    def square(self) -> bool:
        return self.shape[0] == self.shape[1]
