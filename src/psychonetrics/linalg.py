"""Matrix calculus helpers shared by the parameterizations, families and likelihoods.

Invariants
----------
* ``vec`` is column-major: element (r, c) of an (n x q) matrix sits at index
  ``r + c * n``.  With this convention ``vec(A X B) = (B' kron A) vec(X)`` and
  ``np.kron`` gives the Kronecker product directly.
* ``vech`` stacks the lower triangle (diagonal included) column by column:
  (0,0), (1,0), ..., (n-1,0), (1,1), (2,1), ...
* Jacobians of symmetric outputs are taken with respect to the *vech* of the
  output (rows) and the general ``vec`` of the inputs (columns).  Reducing
  input columns to the stored elements of a symmetric matrix adds the
  columns of (i, j) and (j, i) (see :func:`reduce_columns`).
"""

from __future__ import annotations

from functools import cache

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@cache
def vech_indices(n: int) -> tuple[IntArray, IntArray]:
    """Row and column indices of the vech elements of an n x n matrix."""
    rows, cols = [], []
    for c in range(n):
        for r in range(c, n):
            rows.append(r)
            cols.append(c)
    return np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64)


@cache
def vech_positions(n: int) -> IntArray:
    """Positions in ``vec`` (column-major) of the vech elements of an n x n matrix."""
    r, c = vech_indices(n)
    return r + c * n


@cache
def commutation_permutation(n: int, q: int | None = None) -> IntArray:
    """Permutation ``perm`` with ``vec(A')[k] = vec(A)[perm[k]]`` for A of shape (n, q)."""
    q = n if q is None else q
    # vec(A') has shape (q, n): element (c, r) at c + r q equals A[r, c] at r + c n.
    k = np.arange(n * q)
    c, r = k % q, k // q
    return (r + c * n).astype(np.int64)


def sym_jacobian(jac: FloatArray, n: int) -> FloatArray:
    """Return (I + K_n) @ jac for a Jacobian whose rows index vec of an n x n matrix."""
    return jac + jac[commutation_permutation(n)]


def vech(a: FloatArray) -> FloatArray:
    """vech of a square matrix (lower triangle, column by column)."""
    r, c = vech_indices(a.shape[0])
    return a[r, c]


def unvech(v: FloatArray, n: int) -> FloatArray:
    """Symmetric n x n matrix from its vech."""
    r, c = vech_indices(n)
    out = np.zeros((n, n))
    out[r, c] = v
    out[c, r] = v
    return out


@cache
def duplication_matrix(n: int) -> FloatArray:
    """D with ``vec(A) = D vech(A)`` for symmetric A, shape (n^2, n(n+1)/2)."""
    r, c = vech_indices(n)
    d = np.zeros((n * n, r.size))
    k = np.arange(r.size)
    d[r + c * n, k] = 1.0
    d[c + r * n, k] = 1.0
    return d


def kron(a: FloatArray, b: FloatArray) -> FloatArray:
    """Kronecker product of two 2-D arrays (``np.kron`` without its Python overhead)."""
    return (a[:, None, :, None] * b[None, :, None, :]).reshape(a.shape[0] * b.shape[0], a.shape[1] * b.shape[1])


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


def cov2cor(a: FloatArray) -> FloatArray:
    """Correlation matrix of a covariance matrix (zero variances give NaN rows)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.sqrt(np.diag(a))
        return a / np.outer(sd, sd)


def nearest_positive_definite(a: FloatArray, *, floor: float = 1e-3) -> FloatArray:
    """Clip the eigenvalues of symmetric ``a`` at ``floor`` times its mean diagonal."""
    a = 0.5 * (a + a.T)
    vals, vecs = np.linalg.eigh(a)
    scale = max(float(np.mean(np.abs(np.diag(a)))), 1e-8)
    vals = np.maximum(vals, floor * scale)
    return (vecs * vals) @ vecs.T
