"""Saturated and baseline two-level models from sufficient statistics.

The saturated model has free means, Sigma_W and Sigma_B (over each level's
variables), with Sigma_B kept positive semi-definite (psychonetrics
parameterizes both by Cholesky factors); the baseline model has diagonal
Sigma_W and Sigma_B with non-negative between variances.  Both are fitted
here by Fisher scoring in a rotated basis, where the expected information
is diagonal in the element pairs, so an iteration costs O(K p^3) for K
distinct cluster sizes, with no p^2 x p^2 matrix anywhere.

Notes
-----
With W = L L' and L^-1 B L^-T = Q diag(d) Q', the rotation R = L^-T Q gives
R' W R = I and R' B R = diag(d), so every V_s = W + s B becomes diag(e_s),
e_s = 1 + s d.  In rotated coordinates (W~ = R' W R, B~ = R' B R) the
expected information of logL is

    I(W~_kl, W~_kl)        = c_kl [(N - J) + sum_s m_s / (e_sk e_sl)]
    I(W~_kl, B~_kl)        = c_kl sum_s m_s s / (e_sk e_sl)
    I(B~_kl, B~_kl)        = c_kl sum_s m_s s^2 / (e_sk e_sl)

(c_kl = 1 off the diagonal, 1/2 on it) and every other covariance entry is
zero: each element pair (W~_kl, B~_kl) is a 2 x 2 system.  The score of the
pair is -c_kl G_kl with G the gradient of -2 logL, so c_kl cancels.  The
mean parameters are uncorrelated with the covariances; given the
covariances their maximum is a weighted least squares problem that
separates over the rotated coordinates, solved exactly at every step.

Positive semi-definiteness of B (boundary solutions are common on real data:
a between level of rank below p) is kept by projecting the new B~ onto the
PSD cone (clipping eigenvalues) and re-solving the W~ steps given the
projected B~ steps; the line search then runs along a feasible segment.

Variable roles
--------------
* Within-only variables (no between part) are ordered first before the
  Cholesky factor is taken, so that L^-1 B L^-T keeps their rows at zero and
  the between steps live in the block of the other variables.
* Cluster-level variables z (constant within clusters) split the
  likelihood as p(z) p(ybar | z): z's mean and covariance over clusters are
  closed-form maxima (divisor J), and the unit-level variables' cluster
  means get z as covariates: ybar_j | z_j ~ N(mu + Gamma (z_j - zbar),
  (W + n_j B*) / n_j), a saturated model with a mean regression (lavaan
  writes the two-level likelihood in this conditional form too).  Then
  Sigma_B[y, z] = Gamma Sigma_zz and Sigma_B[y, y] = B* + Gamma Sigma_zz Gamma'.
  The baseline has no y-z covariance, so its z part is independent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..data.stats import TwoLevelStats
from ..likelihood.common import LOG2PI
from ..linalg import FloatArray, nearest_positive_definite, simultaneous_diagonalization

if TYPE_CHECKING:
    from ..families.base import Family
    from ..partable.table import ParTable
from ..moments import Moments, Roles


@dataclass(frozen=True, eq=False)
class MomentsFit:
    """A fitted reference model: its log-likelihood and implied moments per group.

    ``model``: the family and the parameter table at the estimates, for a reference model that is a model
    of its own (a family's baseline), whose robust trace is computed from its own scores; None for the
    reference models in phi (the saturated and independence models).
    """

    loglik: float
    npar: int
    moments: tuple[Moments, ...]
    converged: bool
    iterations: int
    message: str
    model: "tuple[Family, ParTable] | None" = None


@dataclass(frozen=True, eq=False)
class _Data:
    """Statistics of one group's unit-level variables (within-only first), with cluster-level covariates."""

    n: int
    j: int
    within_dof: float  # N - J
    sizes: FloatArray  # (K,)
    counts: FloatArray  # (K,)
    within: FloatArray  # (p, p)
    means: FloatArray  # (K, p)
    covs: FloatArray  # (K, p, p)
    n_x: int  # leading variables without a between part
    z_means: FloatArray  # (K, q): mean of the centred covariates per size
    z_covs: FloatArray  # (K, q, q)
    yz_covs: FloatArray  # (K, p, q)


@dataclass(frozen=True, eq=False)
class _Rotation:
    r: FloatArray  # (p, p): R' W R = I, R' B R = diag(d)
    r_inv_t: FloatArray  # (p, p): R^-T = L P
    d: FloatArray  # (p,)
    logdet_w: float


def _rotation(w: FloatArray, b: FloatArray, n_x: int, diagonal: bool) -> _Rotation | None:
    if not (np.all(np.isfinite(w)) and np.all(np.isfinite(b))):
        return None
    if diagonal:
        wd = np.diag(w)
        if np.any(wd <= 0):
            return None
        sd = np.sqrt(wd)
        return _Rotation(np.diag(1.0 / sd), np.diag(sd), np.diag(b) / wd, float(np.log(wd).sum()))
    if n_x == 0:
        pair = simultaneous_diagonalization(w, b)
        if pair is None:
            return None
        return _Rotation(pair.r, w @ pair.r, pair.d, pair.logdet_w)  # R^-T = L Q = W R
    try:
        low = np.linalg.cholesky(w)
    except np.linalg.LinAlgError:
        return None
    p = w.shape[0]
    low_inv = np.linalg.solve(low, np.eye(p))
    bt = low_inv @ b @ low_inv.T
    d = np.zeros(p)
    q = np.eye(p)
    if n_x < p:
        block = bt[n_x:, n_x:]
        d_y, q_y = np.linalg.eigh(0.5 * (block + block.T))
        d[n_x:] = d_y
        q[n_x:, n_x:] = q_y
    return _Rotation(low_inv.T @ q, low @ q, d, 2.0 * float(np.log(np.diag(low)).sum()))


def _residuals(data: _Data, mu: FloatArray, gamma: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Per size: mean deviation of ybar - mu - Gamma z~ (K, p) and its covariance (K, p, p)."""
    dev = data.means - mu - data.z_means @ gamma.T
    if gamma.shape[1] == 0:
        return dev, data.covs
    cross = data.yz_covs @ gamma.T  # C_yz Gamma'
    covs = data.covs - cross - np.swapaxes(cross, 1, 2) + gamma @ data.z_covs @ gamma.T
    return dev, covs


def _loglik(data: _Data, mu: FloatArray, gamma: FloatArray, rot: _Rotation) -> float:
    """logL of the unit-level variables given the covariates, at (mu, Gamma, W, B) with their rotation."""
    e = 1.0 + data.sizes[:, None] * rot.d[None, :]
    if np.any(e <= 0.0):
        return -np.inf
    dev, covs = _residuals(data, mu, gamma)
    rd = dev @ rot.r
    quad = np.einsum("sak,ak->sk", covs @ rot.r, rot.r) + rd * rd  # diagonals of R' C_s R
    p = mu.size
    within = data.within_dof * (rot.logdet_w + float(np.sum((rot.r @ rot.r.T) * data.within)))
    between = np.sum(data.counts * (rot.logdet_w + np.log(e).sum(axis=1) + data.sizes * (quad / e).sum(axis=1)))
    return -0.5 * (data.n * p * LOG2PI + within + between)


def _clip_psd(block: FloatArray) -> tuple[FloatArray, bool]:
    if block.size == 0:
        return block, False
    vals, vecs = np.linalg.eigh(0.5 * (block + block.T))
    if vals[0] >= 0.0:
        return block, False
    return (vecs * np.clip(vals, 0.0, None)) @ vecs.T, True


def _mean_step(data: _Data, mu: FloatArray, gamma: FloatArray, rot: _Rotation, inv_e: FloatArray,
               ) -> tuple[FloatArray, FloatArray, float]:
    """The exact weighted least squares (mu, Gamma) given the covariances, as a step from the current ones,
    and its decrement (in logL units).  It separates over the rotated coordinates k, with weights
    m_s s / e_sk and regressors (1, z~)."""
    q = gamma.shape[1]
    m, s = data.counts, data.sizes
    weight = (m * s)[:, None] * inv_e  # (K, p)
    ybar = data.means @ rot.r  # (K, p) rotated size means
    if q == 0:  # the weighted mean of each rotated coordinate
        total = weight.sum(axis=0)
        score = (weight * ybar).sum(axis=0) - total * (rot.r.T @ mu)
        step = score / total
        return rot.r_inv_t @ step, gamma, float(score @ step)
    # second moments of the regressors x = (1, z~) per size, and their cross-products with ybar~
    xx = np.empty((s.size, 1 + q, 1 + q))
    xx[:, 0, 0] = 1.0
    xx[:, 0, 1:] = data.z_means
    xx[:, 1:, 0] = data.z_means
    xx[:, 1:, 1:] = data.z_covs + data.z_means[:, :, None] * data.z_means[:, None, :]
    xy = np.empty((s.size, mu.size, 1 + q))
    xy[:, :, 0] = ybar
    if q:
        xy[:, :, 1:] = np.einsum("sbq,bk->skq", data.yz_covs, rot.r) + ybar[:, :, None] * data.z_means[:, None, :]
    a = np.einsum("sk,sab->kab", weight, xx)
    b = np.einsum("sk,ska->ka", weight, xy)
    current = np.column_stack([rot.r.T @ mu, rot.r.T @ gamma])  # (p, 1 + q) rotated parameters
    score = b - np.einsum("kab,kb->ka", a, current)
    if q and data.n_x:
        # within-only variables have no between part, so no covariance with the cluster-level variables:
        # their rows of Gamma are 0, i.e. (R' has no y-to-x block) the rotated rows of their coordinates
        a[:data.n_x, 1:, :] = 0.0
        a[:data.n_x, :, 1:] = 0.0
        a[:data.n_x, 1:, 1:] = np.eye(q)
        score[:data.n_x, 1:] = 0.0
    step = np.linalg.solve(a, score[:, :, None])[:, :, 0]
    decrement = float(np.sum(score * step))
    step_orig = rot.r_inv_t @ step  # back to the original coordinates (rows)
    return step_orig[:, 0], step_orig[:, 1:], decrement


def _fit_group(data: _Data, mu: FloatArray, gamma: FloatArray, w: FloatArray, b: FloatArray, *, diagonal: bool,
               max_iter: int, tol: float) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, float, bool, int,
                                                    str]:
    n_x = data.n_x
    p = mu.size
    m, s = data.counts, data.sizes
    rot = _rotation(w, b, n_x, diagonal)
    if rot is None:
        return mu, gamma, w, b, -np.inf, False, 0, "start values outside the parameter space"
    ll = _loglik(data, mu, gamma, rot)
    free_b = np.ones((p, p), dtype=bool)
    free_b[:n_x, :] = False
    free_b[:, :n_x] = False
    eye = np.eye(p, dtype=bool)
    lower_weights = np.tril(np.where(eye, 0.5, 1.0))  # the symmetric matrices count every element once
    if diagonal:
        free_b &= eye
    for it in range(1, max_iter + 1):
        r = rot.r
        e = 1.0 + s[:, None] * rot.d[None, :]
        inv_e = 1.0 / e
        dev, covs = _residuals(data, mu, gamma)
        rd = dev @ r  # (K, p)
        y = r.T @ covs @ r + rd[:, :, None] * rd[:, None, :]
        s_w = r.T @ data.within @ r
        # gradient of -2 logL in rotated coordinates (all elements of the symmetric matrices)
        per_size = inv_e[:, :, None] * np.eye(p) - s[:, None, None] * y * inv_e[:, :, None] * inv_e[:, None, :]
        g_w = data.within_dof * (np.eye(p) - s_w) + np.einsum("s,skl->kl", m, per_size)
        g_b = np.einsum("s,skl->kl", m * s, per_size)
        # 2 x 2 information per element pair, without the c_kl factor
        kron_e = inv_e[:, :, None] * inv_e[:, None, :]
        a_ww = data.within_dof + np.einsum("s,skl->kl", m, kron_e)
        a_wb = np.einsum("s,skl->kl", m * s, kron_e)
        a_bb = np.einsum("s,skl->kl", m * s * s, kron_e)
        det = a_ww * a_bb - a_wb * a_wb
        with np.errstate(divide="ignore", invalid="ignore"):
            step_w = np.where(free_b, (-g_w * a_bb + g_b * a_wb) / det, -g_w / a_ww)
            step_b = np.where(free_b, (-g_b * a_ww + g_w * a_wb) / det, 0.0)
        if diagonal:
            step_w[~eye] = 0.0
            step_b[~eye] = 0.0
        d_mu, d_gamma, mean_decrement = _mean_step(data, mu, gamma, rot, inv_e)
        # keep B positive semi-definite: project, then re-solve W given the projected B step
        current = np.diag(rot.d)
        if diagonal:
            target = np.clip(rot.d + np.diag(step_b), 0.0, None)
            clipped = bool(np.any(target != rot.d + np.diag(step_b)))
            new_b = np.diag(target)
        else:
            new_b = current.copy()
            new_b[n_x:, n_x:], clipped = _clip_psd(current[n_x:, n_x:] + step_b[n_x:, n_x:])
        if clipped:
            step_b = new_b - current
            step_w = np.where(free_b, (-g_w - a_wb * step_b) / a_ww, step_w)
            if diagonal:
                step_w[~eye] = 0.0
        # decrement (score . step) in logL units
        decrement = mean_decrement - float(np.sum(lower_weights * (g_w * step_w + g_b * step_b)))
        if decrement < tol:
            return mu, gamma, w, b, ll, True, it - 1, "converged"
        d_w = rot.r_inv_t @ step_w @ rot.r_inv_t.T
        d_b = rot.r_inv_t @ step_b @ rot.r_inv_t.T
        alpha = 1.0
        for _ in range(40):
            mu_t, gamma_t = mu + alpha * d_mu, gamma + alpha * d_gamma
            w_t, b_t = w + alpha * d_w, b + alpha * d_b
            w_t, b_t = 0.5 * (w_t + w_t.T), 0.5 * (b_t + b_t.T)
            rot_t = _rotation(w_t, b_t, n_x, diagonal)
            ll_t = _loglik(data, mu_t, gamma_t, rot_t) if rot_t is not None else -np.inf
            if np.isfinite(ll_t) and ll_t >= ll + 1e-4 * alpha * decrement - 1e-13 * abs(ll):
                break
            alpha *= 0.5
        else:
            return mu, gamma, w, b, ll, decrement < 1e-6, it, "no further improvement possible"
        mu, gamma, w, b, ll, rot = mu_t, gamma_t, w_t, b_t, ll_t, rot_t
    return mu, gamma, w, b, ll, False, max_iter, "iteration limit reached"


def _group_data(stats: TwoLevelStats, order: np.ndarray, z: np.ndarray, n_x: int, z_center: FloatArray) -> _Data:
    means = stats.size_means
    covs = stats.size_covs
    return _Data(
        n=stats.n_units,
        j=stats.n_clusters,
        within_dof=stats.within_dof,
        sizes=stats.sizes.astype(float),
        counts=stats.cluster_counts,
        within=stats.within_cov[np.ix_(order, order)],
        means=means[:, order],
        covs=covs[:, order][:, :, order],
        n_x=n_x,
        z_means=means[:, z] - z_center,
        z_covs=covs[:, z][:, :, z],
        yz_covs=covs[:, order][:, :, z],
    )


def _start(stats: TwoLevelStats, data: _Data, order: np.ndarray, diagonal: bool) -> tuple[FloatArray, ...]:
    n_x = data.n_x
    w = data.within.copy()
    try:
        np.linalg.cholesky(w)
    except np.linalg.LinAlgError:  # pairwise statistics of incomplete data
        w = nearest_positive_definite(w, floor=1e-6)
    sizes = np.repeat(stats.sizes, stats.size_counts).astype(float)
    harmonic = sizes.size / np.sum(1.0 / sizes)
    b = stats.between_cov()[np.ix_(order, order)] - w / harmonic
    b[:n_x, :] = 0.0
    b[:, :n_x] = 0.0
    if diagonal:
        w = np.diag(np.diag(w))
        b = np.diag(np.clip(np.diag(b), 0.0, None))
    else:
        b[n_x:, n_x:], _ = _clip_psd(b[n_x:, n_x:])
    weights = stats.sizes * stats.size_counts
    mu = (weights[:, None] * data.means).sum(axis=0) / weights.sum()
    return mu, w, b


def fit_reference_stats(stats: Sequence[TwoLevelStats], *, diagonal: bool, roles: Roles | None = None,
                        max_iter: int = 500, tol: float = 1e-10) -> MomentsFit:
    """Fit the saturated (``diagonal=False``) or baseline (``diagonal=True``) model to complete-data statistics.

    Parameters
    ----------
    stats : sequence of TwoLevelStats
        One per group (the route uses only the statistics).
    diagonal : bool
        Baseline model (diagonal Sigma_W and Sigma_B) instead of the saturated one.
    roles : Roles, optional
        Within-only variables (their Sigma_B rows are fixed at 0) and
        cluster-level variables (no within part); default: every variable on both levels.
    max_iter, tol : int, float
        Iteration limit; convergence when the Newton decrement (in logL units) is below ``tol``.

    Returns
    -------
    MomentsFit
        Total log-likelihood over groups, npar and the implied moments of each group.
    """
    total, converged, iterations, messages, moments = 0.0, True, 0, [], []
    npar = 0
    for st in stats:
        p = st.n_vars
        role = Roles(p) if roles is None else roles
        x = np.asarray(role.within_only, dtype=np.int64)
        z = np.asarray(role.between_only, dtype=np.int64)
        rest = np.setdiff1d(np.arange(p), np.concatenate([x, z]))
        order = np.concatenate([x, rest]).astype(np.int64)  # the unit-level variables, within-only first
        n_x = x.size
        # cluster-level variables: mean and covariance over clusters (divisor J), the maxima of p(z)
        counts = st.cluster_counts
        z_mean = (counts[:, None] * st.size_means[:, z]).sum(axis=0) / counts.sum()
        dev = st.size_means[:, z] - z_mean
        z_cov = (counts[:, None, None] * (st.size_covs[:, z][:, :, z] + dev[:, :, None] * dev[:, None, :])
                 ).sum(axis=0) / counts.sum()
        if diagonal:
            z_cov = np.diag(np.diag(z_cov))
        data = _group_data(st, order, z if not diagonal else z[:0], n_x, z_mean if not diagonal else z_mean[:0])
        gamma = np.zeros((order.size, 0 if diagonal else z.size))
        if order.size:
            mu, w, b = _start(st, data, order, diagonal)
            mu, gamma, w, b, ll, ok, its, msg = _fit_group(data, mu, gamma, w, b, diagonal=diagonal,
                                                           max_iter=max_iter, tol=tol)
        else:  # only cluster-level variables
            mu, w, b = np.zeros(0), np.zeros((0, 0)), np.zeros((0, 0))
            ll, ok, its, msg = 0.0, True, 0, "converged"
        if z.size:
            try:
                sign, logdet = np.linalg.slogdet(z_cov)
            except np.linalg.LinAlgError:  # pragma: no cover - a finite matrix
                sign, logdet = 0.0, -np.inf
            if sign <= 0:
                ll, ok, msg = -np.inf, False, "the cluster-level variables' covariance is singular"
            else:
                ll += -0.5 * st.n_clusters * (z.size * LOG2PI + logdet + z.size)
        total += ll
        converged &= ok
        iterations = max(iterations, its)
        messages.append(msg)
        moments.append(_assemble(p, order, z, mu, gamma, w, b, z_mean, z_cov, None if role.plain else role))
        n_w, n_b = order.size, p - n_x
        npar += p + (n_w if diagonal else n_w * (n_w + 1) // 2) + (n_b if diagonal else n_b * (n_b + 1) // 2)
    message = "converged" if converged else "; ".join(sorted(set(m for m in messages if m != "converged")))
    return MomentsFit(total, npar, tuple(moments), converged, iterations, message)


def _assemble(p: int, order: np.ndarray, z: np.ndarray, mu: FloatArray, gamma: FloatArray, w: FloatArray,
              b_star: FloatArray, z_mean: FloatArray, z_cov: FloatArray, roles: Roles | None) -> Moments:
    """The moments over every variable from the unit-level part (given z) and the cluster-level part."""
    full_mu = np.zeros(p)
    full_w = np.zeros((p, p))
    full_b = np.zeros((p, p))
    full_mu[order] = mu  # the covariates are centred at their mean, so mu is the marginal mean
    full_mu[z] = z_mean
    full_w[np.ix_(order, order)] = w
    b_yz = gamma @ z_cov if gamma.size else np.zeros((order.size, z.size))
    full_b[np.ix_(order, order)] = b_star + (gamma @ z_cov @ gamma.T if gamma.size else 0.0)
    full_b[np.ix_(order, z)] = b_yz
    full_b[np.ix_(z, order)] = b_yz.T
    full_b[np.ix_(z, z)] = z_cov
    return Moments(full_mu, full_w, 0.5 * (full_b + full_b.T), roles)
