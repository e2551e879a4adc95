"""Matrix calculus helpers shared by the parameterizations, families and likelihoods.

Invariants
----------
* ``vec`` is column-major: element (r, c) of an (n x q) matrix sits at index
  ``r + c * n``.  With this convention ``vec(A X B) = (B' kron A) vec(X)`` and
  ``np.kron`` gives the Kronecker product directly.
* ``vech`` stacks the lower triangle (diagonal included) column by column:
  (0,0), (1,0), ..., (n-1,0), (1,1), (2,1), ...
* Jacobians of symmetric outputs are taken with respect to the *vech* of the
  output (rows) and the general ``vec`` of the inputs (columns).
* Arrays held by results (parameter tables, estimates, statistics) and the
  cached index arrays below are read-only (:func:`read_only`): edit a copy.
"""

from __future__ import annotations

from functools import cache
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def read_only(array: np.ndarray) -> np.ndarray:
    """``array`` that cannot be written to.

    A writeable array is wrapped in a read-only view, so the caller's own
    array stays writeable; an array already read-only is returned as is.
    """
    array = np.asarray(array)
    if not array.flags.writeable:
        return array
    view = array.view()
    view.flags.writeable = False
    return view


@cache
def vech_indices(n: int) -> tuple[IntArray, IntArray]:
    """Row and column indices of the vech elements of an n x n matrix."""
    rows, cols = [], []
    for c in range(n):
        for r in range(c, n):
            rows.append(r)
            cols.append(c)
    return read_only(np.array(rows, dtype=np.int64)), read_only(np.array(cols, dtype=np.int64))


@cache
def vech_positions(n: int) -> IntArray:
    """Positions in ``vec`` (column-major) of the vech elements of an n x n matrix."""
    r, c = vech_indices(n)
    return read_only(r + c * n)


def spd_inverse(a: FloatArray) -> FloatArray:
    """Inverse of a symmetric positive definite matrix by Cholesky.

    Raises ``LinAlgError`` when ``a`` is not positive definite or holds a
    non-finite number (which never reaches LAPACK).
    """
    if not np.all(np.isfinite(a)):
        raise np.linalg.LinAlgError("non-finite matrix")
    low = np.linalg.cholesky(a)
    inv_low = np.linalg.solve(low, np.eye(a.shape[0]))
    return inv_low.T @ inv_low


class Diagonalization(NamedTuple):
    """R with R' W R = I and R' B R = diag(d) (see :func:`simultaneous_diagonalization`)."""

    r: FloatArray  # (n, n) L^-T Q
    d: FloatArray  # (n,) ascending
    low: FloatArray  # (n, n) L, W = L L'
    low_inv: FloatArray  # (n, n) L^-1
    logdet_w: float  # log|W|


def simultaneous_diagonalization(w: FloatArray, b: FloatArray) -> Diagonalization | None:
    """R with R' W R = I and R' B R = diag(d), for symmetric positive definite ``w`` and symmetric ``b``.

    With W = L L' (Cholesky) and L^-1 B L^-T = Q diag(d) Q', R = L^-T Q (and
    R^-T = L Q).  Calls LAPACK directly (potrf, trtri, syevd; the lower
    triangles only), as the likelihood evaluates this for every trial point.
    None when ``w`` is not positive definite.
    """
    from scipy.linalg import lapack

    low, info = lapack.dpotrf(w, lower=1, clean=1)
    if info != 0:
        return None
    low_inv, info = lapack.dtrtri(low, lower=1)
    if info != 0:
        return None
    d, q, info = lapack.dsyevd(low_inv @ b @ low_inv.T, compute_v=1, lower=1)
    if info != 0:
        return None
    return Diagonalization(low_inv.T @ q, d, low, low_inv, 2.0 * float(np.log(np.diagonal(low)).sum()))


def cov2cor(a: FloatArray) -> FloatArray:
    """Correlation matrix of a covariance matrix (zero variances give NaN rows)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.sqrt(np.diag(a))
        return a / np.outer(sd, sd)


def nearest_positive_definite(a: FloatArray, *, floor: float = 1e-3) -> FloatArray:
    """Clip the eigenvalues of symmetric ``a`` at ``floor`` times its mean diagonal."""
    a = 0.5 * (a + a.T)
    if a.size == 0:  # a level without latent variables
        return a
    vals, vecs = np.linalg.eigh(a)
    scale = max(float(np.mean(np.abs(np.diag(a)))), 1e-8)
    vals = np.maximum(vals, floor * scale)
    return (vecs * vals) @ vecs.T
