"""Helpers every likelihood route shares.

Invariants
----------
* Gradients in phi = (mu, vech W, vech B) fold the symmetric all-elements
  gradient G: d/d vech_ij = G_ij + G_ji off the diagonal (:func:`fold_vech`).
* ``LOG2PI`` is log(2 pi).
"""

from __future__ import annotations

from functools import cache

import numpy as np

from ..data.stats import TwoLevelStats
from ..linalg import FloatArray, IntArray, read_only, vech_indices
from ..moments import Moments

LOG2PI = float(np.log(2.0 * np.pi))


def fold_vech(g: FloatArray) -> FloatArray:
    """dF/dvech from the symmetric all-elements gradient G: G_ii, and G_ij + G_ji off the diagonal."""
    r, c, weight = _fold(g.shape[0])
    return weight * g[r, c]


@cache
def _fold(p: int) -> tuple[IntArray, IntArray, FloatArray]:
    r, c = vech_indices(p)
    return r, c, read_only(np.where(r == c, 1.0, 2.0))


def residual_term(y: FloatArray, q: FloatArray) -> FloatArray:
    """tr(Y_a Y_b Q) + tr(Y_b Y_a Q) for all pairs: <Y_a, Y_b Q + Q Y_b> (Y_k symmetric), (K, K)."""
    z = np.matmul(y, q) + np.matmul(q, y)
    k = y.shape[0]
    return y.reshape(k, -1) @ z.reshape(k, -1).T


def gram(z: FloatArray) -> FloatArray:
    """Z Z' by a symmetric rank-k update (half the work of a general product)."""
    if z.shape[0] < 64:
        return z @ z.T
    from scipy.linalg.blas import dsyrk

    lower = dsyrk(1.0, z, lower=1)
    return lower + np.tril(lower, -1).T


#: Eigenvalue (relative, see :func:`singular_covariances`) below which an implied covariance counts as singular.
SINGULAR_RATIO = 1e-10


def _smallest_correlation_eigenvalue(cov: FloatArray) -> float:
    d = np.sqrt(np.clip(np.diag(cov), 1e-300, None))
    return float(np.linalg.eigvalsh(cov / np.outer(d, d))[0]) if cov.size else 1.0


def singular_covariances(moments: Moments, stats: TwoLevelStats) -> str:
    """Why the implied distribution of the data is degenerate ("" when it is not).

    A cluster of size s has the covariance I_s (x) W + 1 1' (x) B, regular exactly when W (over the
    unit-level variables) and W + s B are.  Relative to W, the eigenvalues of W + s B are e = 1 + s d with
    d those of W^-1 B (``likelihood.statistics``), so the cluster covariance is singular when some e reaches 0
    (B negative along a direction, by -W/s).  With cluster means that span fewer dimensions than the
    between level has variables, the likelihood grows without bound as e -> 0: no maximum exists there.
    Cluster-level variables (no W) are judged by the correlation form of their B, and W by its own.
    Singular means below :data:`SINGULAR_RATIO`.
    """
    roles = moments.roles
    p = moments.mu.size
    w = np.arange(p) if roles is None else roles.within
    z = np.setdiff1d(np.arange(p), w)
    within, between = moments.sigma_within[np.ix_(w, w)], moments.sigma_between
    if not (np.all(np.isfinite(within)) and np.all(np.isfinite(between))):
        return "the implied covariances are not finite"
    if w.size and _smallest_correlation_eigenvalue(within) < SINGULAR_RATIO:
        return "the implied within-cluster covariance is singular"
    if z.size and _smallest_correlation_eigenvalue(between[np.ix_(z, z)]) < SINGULAR_RATIO:
        return "the implied covariance of the cluster-level variables is singular"
    if w.size:
        try:
            low_inv = np.linalg.inv(np.linalg.cholesky(within))
        except np.linalg.LinAlgError:
            return "the implied within-cluster covariance is singular"
        rel = low_inv @ between[np.ix_(w, w)] @ low_inv.T
        d = np.linalg.eigvalsh(0.5 * (rel + rel.T))
        e = 1.0 + stats.sizes.astype(float) * d[0]
        bad = e < SINGULAR_RATIO * np.maximum(1.0, stats.sizes * abs(d[0]))
        if bad.any():
            which = ", ".join(str(int(s)) for s in stats.sizes[bad][:5])
            return (f"the implied covariance of the clusters of size {which} is singular ({stats.n_clusters} "
                    "clusters cannot determine this between level)")
    return ""


__all__ = ["LOG2PI", "fold_vech", "residual_term", "gram", "singular_covariances", "SINGULAR_RATIO"]
