"""Exact two-level normal log-likelihood from sufficient statistics (complete data).

With N units in J clusters, S_PW the pooled within covariance and, for every
distinct cluster size s, m_s clusters whose means have mean ybar_s and ML
covariance C_s (McDonald & Goldstein, 1989; Muthen, 1990)::

    -2 logL = N p log(2 pi) + (N - J) [log|W| + tr(W^-1 S_PW)]
              + sum_s m_s [log|V_s| + s tr(V_s^-1 (C_s + d_s d_s'))],
    V_s = W + s B,   d_s = ybar_s - mu.

Invariants
----------
* One eigendecomposition serves every size: with W = L L' and
  L^-1 B L^-T = Q diag(d) Q', the matrix R = L^-T Q gives R' W R = I and
  R' V_s R = diag(e_s), e_s = 1 + s d.  So V_s^-1 = R diag(1/e_s) R' and
  log|V_s| = log|W| + sum log e_s.  Cost per evaluation: O(K p^3) for K
  distinct sizes, independent of N.
* Gradients are with respect to phi = (mu, vech W, vech B); off-diagonal
  vech elements receive G_ij + G_ji.
* A point where W is not positive definite or some V_s is not, is outside
  the parameter space: :func:`loglik_stats` returns -inf there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data.stats import TwoLevelStats
from ..families.base import Moments
from ..linalg import kron, FloatArray, vech_indices, vech_positions

LOG2PI = float(np.log(2.0 * np.pi))


@dataclass(frozen=True)
class _Rotation:
    """Shared decomposition of (W, B)."""

    r: FloatArray  # (p, p), R' W R = I, R' B R = diag(d)
    logdet_w: float
    e: FloatArray  # (K, p): 1 + s d
    w_inv: FloatArray  # (p, p)


def _rotate(moments: Moments, stats: TwoLevelStats) -> _Rotation | None:
    w, b = moments.sigma_within, moments.sigma_between
    if not (np.all(np.isfinite(w)) and np.all(np.isfinite(b)) and np.all(np.isfinite(moments.mu))):
        return None
    try:
        low = np.linalg.cholesky(w)
    except np.linalg.LinAlgError:
        return None
    low_inv = np.linalg.inv(low)
    bt = low_inv @ b @ low_inv.T
    d, q = np.linalg.eigh(0.5 * (bt + bt.T))
    e = 1.0 + stats.sizes[:, None] * d[None, :]
    if np.any(e <= 0.0):
        return None
    r = low_inv.T @ q
    return _Rotation(r=r, logdet_w=2.0 * float(np.log(np.diag(low)).sum()), e=e, w_inv=low_inv.T @ low_inv)


def _rotated_moments(moments: Moments, stats: TwoLevelStats, rot: _Rotation) -> tuple[FloatArray, FloatArray]:
    """(R' d_s for every size (K, p), R'(C_s + d_s d_s')R (K, p, p))."""
    dev = stats.size_means - moments.mu  # (K, p)
    rd = dev @ rot.r
    y = rot.r.T @ stats.size_covs @ rot.r
    y += rd[:, :, None] * rd[:, None, :]
    return rd, y


def loglik_stats(moments: Moments, stats: TwoLevelStats) -> float:
    """Two-level log-likelihood of one group (-inf outside the parameter space)."""
    rot = _rotate(moments, stats)
    if rot is None:
        return -np.inf
    _, y = _rotated_moments(moments, stats, rot)
    n, j, p = stats.n_units, stats.n_clusters, stats.n_vars
    m, s = stats.size_counts, stats.sizes
    within = (n - j) * (rot.logdet_w + float(np.sum(rot.w_inv * stats.within_cov)))
    diag_y = np.diagonal(y, axis1=1, axis2=2)
    between = np.sum(m * (rot.logdet_w + np.log(rot.e).sum(axis=1) + s * (diag_y / rot.e).sum(axis=1)))
    return -0.5 * (n * p * LOG2PI + within + between)


def _fold_vech(g: FloatArray) -> FloatArray:
    """dF/dvech from the symmetric all-elements gradient G: G_ii, and G_ij + G_ji off the diagonal."""
    p = g.shape[0]
    r, c = vech_indices(p)
    return np.where(r == c, 1.0, 2.0) * g[r, c]


def dloglik_dmoments_stats(moments: Moments, stats: TwoLevelStats, rot: _Rotation | None = None,
                           ) -> tuple[float, FloatArray]:
    """Log-likelihood and its gradient with respect to phi = (mu, vech W, vech B).

    Returns ``(-inf, nan-vector)`` outside the parameter space.
    """
    p = stats.n_vars
    n_phi = p + p * (p + 1)
    rot = _rotate(moments, stats) if rot is None else rot
    if rot is None:
        return -np.inf, np.full(n_phi, np.nan)
    rd, y = _rotated_moments(moments, stats, rot)
    n, j = stats.n_units, stats.n_clusters
    m, s = stats.size_counts.astype(float), stats.sizes.astype(float)
    inv_e = 1.0 / rot.e  # (K, p)
    diag_y = np.diagonal(y, axis1=1, axis2=2)
    within = (n - j) * (rot.logdet_w + float(np.sum(rot.w_inv * stats.within_cov)))
    between = np.sum(m * (rot.logdet_w + np.log(rot.e).sum(axis=1) + s * (diag_y * inv_e).sum(axis=1)))
    loglik = -0.5 * (n * p * LOG2PI + within + between)

    # dF/dV_s in rotated coordinates: E_s - s E_s Y_s E_s, with E_s = diag(1/e_s).
    eye = np.eye(p)
    per_size = inv_e[:, :, None] * eye - s[:, None, None] * y * inv_e[:, :, None] * inv_e[:, None, :]
    flat = per_size.reshape(len(s), -1)
    z_w = (m @ flat).reshape(p, p)
    z_b = ((m * s) @ flat).reshape(p, p)
    r = rot.r
    w_inv = rot.w_inv
    g_w = (n - j) * (w_inv - w_inv @ stats.within_cov @ w_inv) + r @ z_w @ r.T
    g_b = r @ z_b @ r.T
    g_mu = -2.0 * r @ ((m * s)[:, None] * rd * inv_e).sum(axis=0)
    grad_f = np.concatenate([g_mu, _fold_vech(0.5 * (g_w + g_w.T)), _fold_vech(0.5 * (g_b + g_b.T))])
    return loglik, -0.5 * grad_f


def _cov_transform(r: FloatArray) -> FloatArray:
    """U = (R kron R)' D, (p^2, p*): maps vech of a symmetric matrix to vec of R' X R."""
    p = r.shape[0]
    kr = kron(r, r).T
    rows, cols = vech_indices(p)
    pos = rows + cols * p
    mirror = cols + rows * p
    u = kr[:, pos].copy()
    off = rows != cols
    u[:, off] += kr[:, mirror[off]]
    return u


def information_expected_stats(moments: Moments, stats: TwoLevelStats, rot: _Rotation | None = None) -> FloatArray:
    """Expected (Fisher) information of logL in phi = (mu, vech W, vech B), summed over clusters.

    Notes
    -----
    Per cluster of size n, the Helmert transform gives n - 1 independent
    N(0, W) vectors and one N(sqrt(n) mu, V_n) vector, so::

        I_mu,mu = sum_s m_s s V_s^-1
        I_W,W   = 1/2 D'[(N - J) W^-1 (x) W^-1 + sum_s m_s V_s^-1 (x) V_s^-1] D
        I_W,B   = 1/2 D'[sum_s m_s s V_s^-1 (x) V_s^-1] D
        I_B,B   = 1/2 D'[sum_s m_s s^2 V_s^-1 (x) V_s^-1] D

    and with V_s^-1 = R E_s R' every block is U' diag(w) U with U = (R kron R)' D.
    """
    p = stats.n_vars
    ps = p * (p + 1) // 2
    rot = _rotate(moments, stats) if rot is None else rot
    if rot is None:
        return np.full((p + 2 * ps, p + 2 * ps), np.nan)
    m, s = stats.size_counts.astype(float), stats.sizes.astype(float)
    inv_e = 1.0 / rot.e
    kron_e = (inv_e[:, :, None] * inv_e[:, None, :]).reshape(len(s), -1)  # (K, p^2), index k*p + l
    u = _cov_transform(rot.r)
    # vec index in U rows is column-major; kron_e is symmetric in (k, l), so the order agrees.
    w_ww = (stats.n_units - stats.n_clusters) + m @ kron_e
    w_wb = (m * s) @ kron_e
    w_bb = (m * s * s) @ kron_e
    info = np.zeros((p + 2 * ps, p + 2 * ps))
    info[:p, :p] = rot.r @ np.diag((m * s) @ inv_e) @ rot.r.T
    iw = slice(p, p + ps)
    ib = slice(p + ps, p + 2 * ps)
    info[iw, iw] = 0.5 * (u.T * w_ww) @ u
    info[iw, ib] = 0.5 * (u.T * w_wb) @ u
    info[ib, iw] = info[iw, ib].T
    info[ib, ib] = 0.5 * (u.T * w_bb) @ u
    return info


def scoring_stats(moments: Moments, stats: TwoLevelStats) -> tuple[float, FloatArray, FloatArray]:
    """Log-likelihood, gradient and expected information in phi, sharing one decomposition."""
    rot = _rotate(moments, stats)
    ll, grad = dloglik_dmoments_stats(moments, stats, rot)
    if not np.isfinite(ll):
        return ll, grad, np.full((grad.size, grad.size), np.nan)
    return ll, grad, information_expected_stats(moments, stats, rot)


__all__ = ["loglik_stats", "scoring_stats", "dloglik_dmoments_stats", "information_expected_stats", "vech_positions"]
