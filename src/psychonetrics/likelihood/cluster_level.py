"""Two-level likelihood from statistics when some variables are cluster-level (``estimator="ML"``).

A cluster-level (between-only) variable z is constant within clusters: it
has no within part, counts once per cluster and enters the likelihood
jointly with the cluster means of the unit-level variables.  For the
clusters of size s, the vector c_j of cluster means of every variable (z's
"mean" is its value) is normal with mean mu and covariance::

    Omega_s = W~ / s + B~

(W~ the within covariance with zero rows for z, B~ the between one with
zero rows for within-only variables), and the within deviations of the
unit-level variables w are N(0, W_ww) with N - J degrees of freedom.  So,
with C_s and cbar_s the covariance (divisor m_s) and mean of the c_j of
size s, d_s = cbar_s - mu, and p_w unit-level and p_z cluster-level
variables::

    -2 logL = N p_w log 2pi + J p_z log 2pi + (N - J) [log|W_ww| + tr(W_ww^-1 S_PW)]
              + sum_s m_s [log|Omega_s| + p_w log s + tr(Omega_s^-1 (C_s + d_s d_s'))]

which is the rotated formula of :mod:`.stats` when there is no z
(Omega_s = V_s / s).  lavaan writes the same likelihood conditionally on z
(``lav_mvnorm_cluster_loglik_samplestats_2l``).  The rotation of
:mod:`.stats` needs W positive definite over every variable, which z
breaks; here every distinct cluster size gets its own Cholesky factor, so
the cost per evaluation is O(K p^3) for K sizes, and the information
O(K (q p^3 + q^2 p^2)) for q parameters.

Invariants
----------
* Moments carry their ``roles``; the rows of z in Sigma_W and of
  within-only variables in Sigma_B are structural zeros, and gradients with
  respect to them are left at 0 (no parameter moves them).
* A point where W_ww or some Omega_s is not positive definite is outside
  the parameter space: -inf.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data.stats import TwoLevelStats
from ..linalg import FloatArray, vech_indices
from ..moments import Moments
from .common import LOG2PI, fold_vech, residual_term


@dataclass(frozen=True)
class _Parts:
    """Decompositions of one group at (mu, W, B)."""

    w: np.ndarray  # indices of the unit-level variables
    w_inv: FloatArray  # (p_w, p_w)
    w_low_inv: FloatArray  # (p_w, p_w): L_w^-1
    logdet_w: float
    omega_inv: FloatArray  # (K, p, p)
    omega_low_inv: FloatArray  # (K, p, p)
    logdet_omega: FloatArray  # (K,)
    dev: FloatArray  # (K, p): cbar_s - mu


def _parts(moments: Moments, stats: TwoLevelStats) -> _Parts | None:
    roles = moments.roles
    assert roles is not None
    w = roles.within
    sizes = stats.sizes.astype(float)
    ww = moments.sigma_within[np.ix_(w, w)]
    if not (np.all(np.isfinite(moments.sigma_within)) and np.all(np.isfinite(moments.sigma_between))
            and np.all(np.isfinite(moments.mu))):
        return None
    try:
        low_w = np.linalg.cholesky(ww)
        omega = moments.sigma_within[None] / sizes[:, None, None] + moments.sigma_between[None]
        low = np.linalg.cholesky(omega)
    except np.linalg.LinAlgError:
        return None
    eye = np.eye(moments.mu.size)
    low_inv = np.linalg.solve(low, np.broadcast_to(eye, low.shape))
    w_low_inv = np.linalg.solve(low_w, np.eye(w.size))
    return _Parts(
        w=w,
        w_inv=w_low_inv.T @ w_low_inv,
        w_low_inv=w_low_inv,
        logdet_w=2.0 * float(np.log(np.diag(low_w)).sum()),
        omega_inv=np.swapaxes(low_inv, 1, 2) @ low_inv,
        omega_low_inv=low_inv,
        logdet_omega=2.0 * np.log(np.diagonal(low, axis1=1, axis2=2)).sum(axis=1),
        dev=stats.size_means - moments.mu,
    )


def _minus_two_loglik(parts: _Parts, moments: Moments, stats: TwoLevelStats) -> float:
    roles = moments.roles
    assert roles is not None
    n, j, n_within = stats.n_units, stats.n_clusters, stats.within_dof
    m, s = stats.cluster_counts, stats.sizes.astype(float)
    p_w, p_z = roles.within.size, len(roles.between_only)
    within = n_within * (parts.logdet_w + float(np.sum(parts.w_inv * stats.within_cov[np.ix_(parts.w, parts.w)])))
    second = stats.size_covs + parts.dev[:, :, None] * parts.dev[:, None, :]
    traces = np.einsum("kab,kba->k", parts.omega_inv, second)
    between = float(np.sum(m * (parts.logdet_omega + p_w * np.log(s) + traces)))
    return n * p_w * LOG2PI + j * p_z * LOG2PI + within + between


def loglik_cluster_level(moments: Moments, stats: TwoLevelStats) -> float:
    """Log-likelihood of one group with cluster-level variables (-inf outside the parameter space)."""
    parts = _parts(moments, stats)
    if parts is None:
        return -np.inf
    return -0.5 * _minus_two_loglik(parts, moments, stats)


def dloglik_dmoments_cluster_level(moments: Moments, stats: TwoLevelStats) -> tuple[float, FloatArray]:
    """Log-likelihood and its gradient in phi = (mu, vech W, vech B) (over every variable)."""
    p = moments.mu.size
    parts = _parts(moments, stats)
    if parts is None:
        return -np.inf, np.full(p + p * (p + 1), np.nan)
    n_within = stats.within_dof
    m, s = stats.cluster_counts, stats.sizes.astype(float)
    second = stats.size_covs + parts.dev[:, :, None] * parts.dev[:, None, :]
    # dF / dOmega_s = m_s (Omega_s^-1 - Omega_s^-1 (C_s + d_s d_s') Omega_s^-1)
    g_omega = m[:, None, None] * (parts.omega_inv - parts.omega_inv @ second @ parts.omega_inv)
    g_b = g_omega.sum(axis=0)
    g_w = np.zeros((p, p))
    w = parts.w
    s_ww = stats.within_cov[np.ix_(w, w)]
    g_w[np.ix_(w, w)] = (n_within * (parts.w_inv - parts.w_inv @ s_ww @ parts.w_inv)
                         + (g_omega / s[:, None, None]).sum(axis=0)[np.ix_(w, w)])
    g_mu = -2.0 * np.einsum("k,kab,kb->a", m, parts.omega_inv, parts.dev)
    grad_f = np.concatenate([g_mu, fold_vech(0.5 * (g_w + g_w.T)), fold_vech(0.5 * (g_b + g_b.T))])
    return -0.5 * _minus_two_loglik(parts, moments, stats), -0.5 * grad_f


def _lower(x: FloatArray) -> FloatArray:
    """Lower triangles of symmetric (K, p, p) matrices with off-diagonals times sqrt 2: Frobenius products
    of the full matrices become dot products."""
    p = x.shape[-1]
    rows, cols = vech_indices(p)
    return x[:, rows, cols] * np.where(rows == cols, 1.0, np.sqrt(2.0))


def _unvech(jac_vech: FloatArray, p: int) -> FloatArray:
    """Symmetric (K, p, p) matrices from the columns of a vech Jacobian."""
    rows, cols = vech_indices(p)
    x = np.zeros((jac_vech.shape[1], p, p))
    x[:, rows, cols] = jac_vech.T
    x[:, cols, rows] = jac_vech.T
    return x


def information_expected_cluster_level(moments: Moments, stats: TwoLevelStats,
                                       jacobian: FloatArray | None = None) -> FloatArray:
    """Expected information J' I(phi) J summed over clusters, with cluster-level variables.

    Notes
    -----
    I = sum_s m_s [dmu' Omega_s^-1 dmu + 1/2 tr(Omega_s^-1 dOmega_s Omega_s^-1 dOmega_s)]
        + (N - J)/2 tr(W_ww^-1 dW W_ww^-1 dW),     dOmega_s = dW / s + dB.
    """
    return _information(moments, stats, jacobian, observed=False)


def information_observed_cluster_level(moments: Moments, stats: TwoLevelStats,
                                       jacobian: FloatArray | None = None) -> FloatArray:
    """Observed information J' (-d2 logL / dphi2) J with cluster-level variables.

    Notes
    -----
    As :func:`.stats.information_observed_stats`: the expected information
    plus, per size, the residual terms of R_s = m_s (C_s + d_s d_s' - Omega_s)
    and of the mean (G = Omega_s^-1, dOmega = dW / s + dB)::

        1/2 [tr(G dO_a G dO_b G R_s) + tr(G dO_b G dO_a G R_s)] + m_s (dmu_a' G dO_b G d_s + (a <-> b))

    and the within part with W_ww^-1 and R = (N - J)(S_PW - W_ww).  With the
    Cholesky factor L of each Omega_s, Y = L^-1 dOmega L^-T and
    Q = L^-1 R L^-T give tr(Y_a Y_b Q).
    """
    return _information(moments, stats, jacobian, observed=True)


def _information(moments: Moments, stats: TwoLevelStats, jacobian: FloatArray | None, *, observed: bool,
                 ) -> FloatArray:
    """The expected information, plus the residual terms when ``observed``: both from the same rotated
    derivatives Y = L^-1 dOmega L^-T (and L_w^-1 dW L_w^-T within)."""
    p = moments.mu.size
    ps = p * (p + 1) // 2
    jac = np.eye(p + 2 * ps) if jacobian is None else jacobian
    k = jac.shape[1]
    parts = _parts(moments, stats)
    if parts is None:
        return np.full((k, k), np.nan)
    m, s = stats.cluster_counts, stats.sizes.astype(float)
    d_w, d_b = _unvech(jac[p:p + ps], p), _unvech(jac[p + ps:], p)
    w = parts.w
    low_w = parts.w_low_inv
    y_w = low_w @ d_w[:, w][:, :, w] @ low_w.T
    n_within = stats.within_dof
    pieces = [np.sqrt(0.5 * n_within) * _lower(y_w)]
    correction = np.zeros((k, k))
    if observed:
        q_w = n_within * (low_w @ stats.within_cov[np.ix_(w, w)] @ low_w.T - np.eye(w.size))
        correction += residual_term(y_w, q_w)
    for size in range(s.size):
        low_inv = parts.omega_low_inv[size]
        y = low_inv @ (d_w / s[size] + d_b) @ low_inv.T
        u = (low_inv @ jac[:p]).T  # (K, p): L^-1 dmu_k
        pieces.append(np.sqrt(0.5 * m[size]) * _lower(y))
        pieces.append(np.sqrt(m[size]) * u)
        if observed:
            dev = parts.dev[size]
            omega = np.linalg.inv(parts.omega_inv[size])
            residual = m[size] * (stats.size_covs[size] + np.outer(dev, dev) - omega)
            correction += residual_term(y, low_inv @ residual @ low_inv.T)
            cross = u @ (y @ (low_inv @ dev)).T  # [a, b] = (L^-1 dmu_a)' Y_b (L^-1 d)
            correction += 2.0 * m[size] * (cross + cross.T)
    z = np.hstack(pieces)
    info = z @ z.T + 0.5 * correction
    return 0.5 * (info + info.T)


def scoring_cluster_level(moments: Moments, stats: TwoLevelStats, jacobian: FloatArray | None = None,
                          ) -> tuple[float, FloatArray, FloatArray]:
    """Log-likelihood, gradient in phi and the information J' I J."""
    ll, grad = dloglik_dmoments_cluster_level(moments, stats)
    k = grad.size if jacobian is None else jacobian.shape[1]
    if not np.isfinite(ll):
        return ll, grad, np.full((k, k), np.nan)
    return ll, grad, information_expected_cluster_level(moments, stats, jacobian)
