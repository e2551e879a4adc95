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
from functools import cache

import numpy as np

from ..data.stats import TwoLevelStats
from ..linalg import FloatArray, IntArray, read_only, simultaneous_diagonalization, vech_indices
from ..moments import Moments
from .common import LOG2PI, fold_vech, gram, residual_term


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
    pair = simultaneous_diagonalization(w, b)
    if pair is None:
        return None
    e = 1.0 + stats.sizes[:, None] * pair.d[None, :]
    if np.any(e <= 0.0):
        return None
    return _Rotation(r=pair.r, logdet_w=pair.logdet_w, e=e, w_inv=pair.low_inv.T @ pair.low_inv)


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
    n, p = stats.n_units, stats.n_vars
    m, s = stats.cluster_counts, stats.sizes
    within = stats.within_dof * (rot.logdet_w + float(np.sum(rot.w_inv * stats.within_cov)))
    diag_y = np.diagonal(y, axis1=1, axis2=2)
    between = np.sum(m * (rot.logdet_w + np.log(rot.e).sum(axis=1) + s * (diag_y / rot.e).sum(axis=1)))
    return -0.5 * (n * p * LOG2PI + within + between)


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
    n, n_within = stats.n_units, stats.within_dof
    m, s = stats.cluster_counts, stats.sizes.astype(float)
    inv_e = 1.0 / rot.e  # (K, p)
    diag_y = np.diagonal(y, axis1=1, axis2=2)
    within = n_within * (rot.logdet_w + float(np.sum(rot.w_inv * stats.within_cov)))
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
    g_w = n_within * (w_inv - w_inv @ stats.within_cov @ w_inv) + r @ z_w @ r.T
    g_b = r @ z_b @ r.T
    g_mu = -2.0 * r @ ((m * s)[:, None] * rd * inv_e).sum(axis=0)
    grad_f = np.concatenate([g_mu, fold_vech(0.5 * (g_w + g_w.T)), fold_vech(0.5 * (g_b + g_b.T))])
    return loglik, -0.5 * grad_f


def _rotated_matrices(jac_vech: FloatArray, r: FloatArray) -> FloatArray:
    """The lower triangles (vech order) of R' X_k R for every column k of ``jac_vech`` (vech of a
    symmetric X_k): (K, p(p+1)/2).  Columns that are zero (parameters of the other level) are skipped."""
    p = r.shape[0]
    rows, cols = vech_indices(p)
    k = jac_vech.shape[1]
    out = np.zeros((k, rows.size))
    used = np.flatnonzero(np.any(jac_vech != 0.0, axis=0))
    if used.size == 0:
        return out
    x = np.zeros((used.size, p, p))
    x[:, rows, cols] = jac_vech[:, used].T
    x[:, cols, rows] = jac_vech[:, used].T
    # two large products instead of a batch of small ones: Y_k = X_k R, then (R' X_k R) = Y_k' R
    y = (x.reshape(-1, p) @ r).reshape(used.size, p, p)
    z = (np.ascontiguousarray(y.transpose(0, 2, 1)).reshape(-1, p) @ r).reshape(used.size, p, p)
    out[used] = z[:, rows, cols]
    return out


@cache
def _vech_weights(p: int) -> tuple[IntArray, IntArray, FloatArray]:
    """vech rows and columns and sqrt(2) off the diagonal (an off-diagonal element stands for two)."""
    rows, cols = vech_indices(p)
    return rows, cols, read_only(np.where(rows == cols, 1.0, np.sqrt(2.0)))


def information_expected_stats(moments: Moments, stats: TwoLevelStats, jacobian: FloatArray | None = None,
                               rot: _Rotation | None = None) -> FloatArray:
    """Expected (Fisher) information of logL, summed over clusters: J' I(phi) J for the Jacobian J.

    Parameters
    ----------
    jacobian : (n_phi, K) array or None
        d phi / d theta for K parameters; None gives the information in phi
        itself (J = identity; only for small p: it is n_phi x n_phi).

    Notes
    -----
    Per cluster of size n, the Helmert transform gives n - 1 independent
    N(0, W) vectors and one N(sqrt(n) mu, V_n) vector, so::

        I = sum_s m_s s dmu' V_s^-1 dmu
            + 1/2 (N - J) tr(W^-1 dW W^-1 dW)
            + 1/2 sum_s m_s tr(V_s^-1 (dW + s dB) V_s^-1 (dW + s dB)).

    With V_s^-1 = R E_s R' (E_s = diag(1/e_s)) and W^-1 = R R', every term
    is a weighted sum over the elements of the rotated R' dW R and R' dB R;
    each parameter's rotated derivative is formed once, so the cost is
    O(K p^3 + K^2 p^2) for K parameters and no p^2 x p^2 matrix appears.
    """
    p = stats.n_vars
    ps = p * (p + 1) // 2
    n_phi = p + 2 * ps
    jac = np.eye(n_phi) if jacobian is None else jacobian
    k = jac.shape[1]
    rot = _rotate(moments, stats) if rot is None else rot
    if rot is None:
        return np.full((k, k), np.nan)
    m, s = stats.cluster_counts, stats.sizes.astype(float)
    inv_e = 1.0 / rot.e
    rows, cols, twice = _vech_weights(p)
    kron_e = inv_e[:, rows] * inv_e[:, cols]  # (sizes, p*): 1 / (e_sk e_sl) for the lower triangle
    a = stats.within_dof + m @ kron_e
    b = (m * s) @ kron_e
    c = (m * s * s) @ kron_e
    # Per element pair (k, l) the weights form a 2 x 2 positive semi-definite matrix [[a, b], [b, c]]
    # (Cauchy-Schwarz); with its Cholesky factor the information is one symmetric product Z Z'.
    # Off-diagonal elements stand for both (k, l) and (l, k): weight 2.
    l11 = np.sqrt(a)
    l21 = b / l11
    l22 = np.sqrt(np.maximum(c - l21 * l21, 0.0))
    x_w = _rotated_matrices(jac[p:p + ps], rot.r)
    x_b = _rotated_matrices(jac[p + ps:], rot.r)
    z = np.hstack([x_w * (l11 * twice) + x_b * (l21 * twice), x_b * (l22 * twice)])
    info = 0.5 * gram(z)
    mu_r = rot.r.T @ jac[:p]
    info += (mu_r.T * ((m * s) @ inv_e)) @ mu_r
    return 0.5 * (info + info.T)


def information_observed_stats(moments: Moments, stats: TwoLevelStats, jacobian: FloatArray | None = None,
                               ) -> FloatArray | None:
    """Observed information in phi contracted with a Jacobian: J' (-d2 logL / dphi dphi') J.

    Notes
    -----
    With G_s = V_s^-1 and the residual R_s = T_s - m_s V_s of the size-s
    scatter T_s = m_s s (C_s + d_s d_s') (E[R_s] = 0), the Hessian of
    F = -2 logL is the expected one plus terms linear in the residuals::

        d2F[a, b] = E[d2F[a, b]] + tr(G dV_a G dV_b G R_s) + tr(G dV_b G dV_a G R_s)
                    + 2 m_s s (dmu_a' G dV_b G d_s + dmu_b' G dV_a G d_s)

    summed over sizes (dV = dW + s dB), plus the within part with
    G = W^-1 and R = (N - J)(S_PW - W).  In the rotated basis of
    :func:`_rotate` every G is diagonal, so each term is a Frobenius product
    of p x p matrices: O(K^2 p^2) per size for K columns.
    """
    p = stats.n_vars
    ps = p * (p + 1) // 2
    jac = np.eye(p + 2 * ps) if jacobian is None else jacobian
    k = jac.shape[1]
    rot = _rotate(moments, stats)
    if rot is None:
        return np.full((k, k), np.nan)
    expected = information_expected_stats(moments, stats, jac, rot)
    r = rot.r
    rd, y = _rotated_moments(moments, stats, rot)
    x_w = _rotated_full(jac[p:p + ps], r)
    x_b = _rotated_full(jac[p + ps:], r)
    u = jac[:p].T @ r  # (K, p): R' dmu_k
    n_within = stats.within_dof
    correction = residual_term(x_w, n_within * (r.T @ stats.within_cov @ r - np.eye(p)))
    for i, (size, count) in enumerate(zip(stats.sizes.astype(float), stats.cluster_counts)):
        inv_e = 1.0 / rot.e[i]
        half = np.sqrt(inv_e)
        x = x_w + size * x_b
        scale = half[:, None] * half[None, :]
        residual = count * size * y[i] - count * np.diag(rot.e[i])
        correction += residual_term(x * scale, residual * scale)
        cross = (u * inv_e) @ (x @ (inv_e * rd[i])).T  # [a, b] = (E u_a)' X_b (E v)
        correction += 2.0 * count * size * (cross + cross.T)
    info = expected + 0.5 * correction
    return 0.5 * (info + info.T)


def information_observed_phi(moments: Moments, stats: TwoLevelStats) -> FloatArray | None:
    """The observed information in phi = (mu, vech W, vech B) itself, (n_phi, n_phi), built element-wise.

    The same matrix as ``information_observed_stats(moments, stats)`` (identity Jacobian) at O(n_phi^2)
    cost per cluster size instead of O(n_phi^2 p^2): for unit perturbations the trace terms factor.
    With G = V_s^-1 and P = G R_s G, the Hessian of F = -2 logL in the full (unsymmetrized) elements
    is ``m_s G_jk G_li + G_jk P_li + P_jk G_li`` per size (dV = dW + s dB), the within part likewise
    with W^-1 and (N - J)(S_PW - W), and the mean-covariance block ``2 m_s s G_ik (G d_s)_l``;
    vech coordinates sum the symmetric versions.  None with cluster-level variables.
    """
    p = stats.n_vars
    ps = p * (p + 1) // 2
    rot = _rotate(moments, stats)
    if rot is None:
        return np.full((p + 2 * ps, p + 2 * ps), np.nan)
    r_idx, c_idx = vech_indices(p)
    half = np.where(r_idx == c_idx, 0.5, 1.0)
    scale = half[:, None] * half[None, :]

    def gathered(a: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        a_cr = a[np.ix_(c_idx, r_idx)]
        return a_cr, a[np.ix_(r_idx, r_idx)], a[np.ix_(c_idx, c_idx)], a_cr.T  # a symmetric: a[r, c] = a[c, r]
    def pair(a: tuple, b: tuple) -> FloatArray:
        """sum over the symmetric versions of a_jk b_li for vech elements (i, j) and (k, l) (a, b gathered)."""
        a_cr, a_rr, a_cc, a_rc = a
        b_cr, b_rr, b_cc, b_rc = b
        out = a_cr * b_cr.T
        out += a_rr * b_cc.T
        out += a_cc * b_rr.T
        out += a_rc * b_rc.T
        return out

    def second(a: FloatArray, b: FloatArray, weight: float) -> FloatArray:
        """weight * pair(a, a) + pair(a, b) + pair(b, a), with pair(b, a) = pair(a, b)'."""
        ga, gb = gathered(a), gathered(b)
        cross = pair(ga, gb)
        out = pair(ga, ga)
        out *= weight
        out += cross
        out += cross.T
        out *= scale
        return out

    n_within = stats.within_dof
    w_inv = rot.w_inv
    p_w = n_within * (w_inv @ (stats.within_cov - moments.sigma_within) @ w_inv)
    h_ww = second(w_inv, p_w, n_within)
    h_wb = np.zeros((ps, ps))
    h_bb = np.zeros((ps, ps))
    h_mu = np.zeros((p, p))
    h_mw = np.zeros((p, ps))
    h_mb = np.zeros((p, ps))
    r = rot.r
    dev = stats.size_means - moments.mu
    for k, (size, count) in enumerate(zip(stats.sizes.astype(float), stats.cluster_counts)):
        g = (r / rot.e[k]) @ r.T  # V_s^-1
        v = moments.sigma_within + size * moments.sigma_between
        t = count * size * (stats.size_covs[k] + np.outer(dev[k], dev[k]))
        block = second(g, g @ (t - count * v) @ g, count)
        h_ww += block
        block *= size
        h_wb += block
        block *= size
        h_bb += block
        h_mu += 2.0 * count * size * g
        gd = g @ dev[k]
        mixed = 2.0 * count * size * half * (g[:, r_idx] * gd[c_idx] + g[:, c_idx] * gd[r_idx])
        h_mw += mixed
        h_mb += size * mixed
    hess_f = np.block([[h_mu, h_mw, h_mb], [h_mw.T, h_ww, h_wb], [h_mb.T, h_wb.T, h_bb]])
    info = 0.5 * hess_f
    return 0.5 * (info + info.T)


def _rotated_full(jac_vech: FloatArray, r: FloatArray) -> FloatArray:
    """R' X_k R for every column k of ``jac_vech`` (vech of a symmetric X_k): (K, p, p)."""
    p = r.shape[0]
    rows, cols = vech_indices(p)
    x = np.zeros((jac_vech.shape[1], p, p))
    x[:, rows, cols] = jac_vech.T
    x[:, cols, rows] = jac_vech.T
    return np.matmul(np.matmul(r.T[None], x), r[None])


def scoring_stats(moments: Moments, stats: TwoLevelStats, jacobian: FloatArray | None = None,
                  ) -> tuple[float, FloatArray, FloatArray]:
    """Log-likelihood, gradient in phi and the information J' I J, sharing one decomposition."""
    rot = _rotate(moments, stats)
    ll, grad = dloglik_dmoments_stats(moments, stats, rot)
    k = grad.size if jacobian is None else jacobian.shape[1]
    if not np.isfinite(ll):
        return ll, grad, np.full((k, k), np.nan)
    return ll, grad, information_expected_stats(moments, stats, jacobian, rot)


__all__ = ["loglik_stats", "scoring_stats", "dloglik_dmoments_stats", "information_expected_stats",
           "information_observed_stats", "information_observed_phi"]
