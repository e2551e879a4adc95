"""Saturated and baseline two-level models from sufficient statistics.

The saturated model has free mu, Sigma_W and Sigma_B, with Sigma_B kept
positive semi-definite (psychonetrics parameterizes both by Cholesky
factors); the baseline model has diagonal Sigma_W and Sigma_B with
non-negative between variances.  Both are fitted here by Fisher scoring in
a rotated basis, where the expected information is diagonal in the element
pairs, so an iteration costs O(K p^3) for K distinct cluster sizes, with no
p^2 x p^2 matrix anywhere.

Notes
-----
With W = L L' and L^-1 B L^-T = Q diag(d) Q', the rotation R = L^-T Q gives
R' W R = I and R' B R = diag(d), so every V_s = W + s B becomes diag(e_s),
e_s = 1 + s d.  In rotated coordinates (W~ = R' W R, B~ = R' B R,
mu~ = R' mu) the expected information of logL is

    I(mu~_k)               = sum_s m_s s / e_sk
    I(W~_kl, W~_kl)        = c_kl [(N - J) + sum_s m_s / (e_sk e_sl)]
    I(W~_kl, B~_kl)        = c_kl sum_s m_s s / (e_sk e_sl)
    I(B~_kl, B~_kl)        = c_kl sum_s m_s s^2 / (e_sk e_sl)

(c_kl = 1 off the diagonal, 1/2 on it) and every other entry is zero: each
element pair (W~_kl, B~_kl) is a 2 x 2 system.  The score of the pair is
-c_kl G_kl with G the gradient of -2 logL, so c_kl cancels from the step.

Positive semi-definiteness of B (boundary solutions are common on real data:
a between level of rank below p) is kept by projecting the new B~ onto the
PSD cone (clipping eigenvalues) and re-solving the W~ steps given the
projected B~ steps; the line search then runs along a feasible segment.

Invariants
----------
* Variables that exist only on the within level (``within_only``) have
  structurally zero rows and columns in Sigma_B.  They are ordered first
  before the Cholesky factor is taken, so that L^-1 B L^-T keeps their rows
  at zero and the between steps live in the block of the other variables.
* Statistics are never modified; all work happens on permuted copies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..data.stats import TwoLevelStats
from ..families.base import Moments
from ..likelihood.stats import LOG2PI
from ..linalg import FloatArray, nearest_positive_definite


@dataclass(frozen=True, eq=False)
class MomentsFit:
    """A fitted reference model: its log-likelihood and implied moments per group."""

    loglik: float
    npar: int
    moments: tuple[Moments, ...]
    converged: bool
    iterations: int
    message: str


@dataclass(frozen=True, eq=False)
class _Data:
    """Permuted statistics of one group."""

    n: int
    j: int
    sizes: FloatArray  # (K,)
    counts: FloatArray  # (K,)
    within: FloatArray  # (p, p)
    means: FloatArray  # (K, p)
    covs: FloatArray  # (K, p, p)
    n_x: int  # leading variables without a between part


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


def _loglik(data: _Data, mu: FloatArray, rot: _Rotation) -> float:
    """logL of one group at (mu, W, B) given their rotation."""
    e = 1.0 + data.sizes[:, None] * rot.d[None, :]
    if np.any(e <= 0.0):
        return -np.inf
    rd = (data.means - mu) @ rot.r
    cov_diag = np.einsum("ak,sab,bk->sk", rot.r, data.covs, rot.r, optimize=True)
    quad = cov_diag + rd * rd
    p = mu.size
    within = (data.n - data.j) * (rot.logdet_w + float(np.sum((rot.r @ rot.r.T) * data.within)))
    between = np.sum(data.counts * (rot.logdet_w + np.log(e).sum(axis=1) + data.sizes * (quad / e).sum(axis=1)))
    return -0.5 * (data.n * p * LOG2PI + within + between)


def _clip_psd(block: FloatArray) -> tuple[FloatArray, bool]:
    vals, vecs = np.linalg.eigh(0.5 * (block + block.T))
    if vals[0] >= 0.0:
        return block, False
    return (vecs * np.clip(vals, 0.0, None)) @ vecs.T, True


def _fit_group(data: _Data, mu: FloatArray, w: FloatArray, b: FloatArray, *, diagonal: bool, max_iter: int,
               tol: float) -> tuple[FloatArray, FloatArray, FloatArray, float, bool, int, str]:
    n_x = data.n_x
    p = mu.size
    m, s = data.counts, data.sizes
    rot = _rotation(w, b, n_x, diagonal)
    if rot is None:
        return mu, w, b, -np.inf, False, 0, "start values outside the parameter space"
    ll = _loglik(data, mu, rot)
    free_b = np.ones((p, p), dtype=bool)
    free_b[:n_x, :] = False
    free_b[:, :n_x] = False
    if diagonal:
        free_b &= np.eye(p, dtype=bool)
    for it in range(1, max_iter + 1):
        r = rot.r
        e = 1.0 + s[:, None] * rot.d[None, :]
        inv_e = 1.0 / e
        rd = (data.means - mu) @ r  # (K, p)
        y = np.einsum("ak,sab,bl->skl", r, data.covs, r, optimize=True) + rd[:, :, None] * rd[:, None, :]
        s_w = r.T @ data.within @ r
        # gradient of -2 logL in rotated coordinates (all elements of the symmetric matrices)
        per_size = inv_e[:, :, None] * np.eye(p) - s[:, None, None] * y * inv_e[:, :, None] * inv_e[:, None, :]
        g_w = (data.n - data.j) * (np.eye(p) - s_w) + np.einsum("s,skl->kl", m, per_size)
        g_b = np.einsum("s,skl->kl", m * s, per_size)
        g_mu = -2.0 * ((m * s)[:, None] * rd * inv_e).sum(axis=0)
        # 2 x 2 information per element pair, without the c_kl factor
        kron_e = inv_e[:, :, None] * inv_e[:, None, :]
        a_ww = (data.n - data.j) + np.einsum("s,skl->kl", m, kron_e)
        a_wb = np.einsum("s,skl->kl", m * s, kron_e)
        a_bb = np.einsum("s,skl->kl", m * s * s, kron_e)
        info_mu = ((m * s)[:, None] * inv_e).sum(axis=0)
        det = a_ww * a_bb - a_wb * a_wb
        with np.errstate(divide="ignore", invalid="ignore"):
            step_w = np.where(free_b, (-g_w * a_bb + g_b * a_wb) / det, -g_w / a_ww)
            step_b = np.where(free_b, (-g_b * a_ww + g_w * a_wb) / det, 0.0)
        if diagonal:
            off = ~np.eye(p, dtype=bool)
            step_w[off] = 0.0
            step_b[off] = 0.0
        step_mu = -0.5 * g_mu / info_mu
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
                step_w[~np.eye(p, dtype=bool)] = 0.0
        # decrement (score . step) in logL units; the symmetric matrices count every element once
        weights = np.where(np.eye(p, dtype=bool), 0.5, 1.0)
        decrement = float(-0.5 * g_mu @ step_mu - np.sum(np.tril(weights * (g_w * step_w + g_b * step_b))))
        if decrement < tol:
            return mu, w, b, ll, True, it - 1, "converged"
        d_mu = rot.r_inv_t @ step_mu
        d_w = rot.r_inv_t @ step_w @ rot.r_inv_t.T
        d_b = rot.r_inv_t @ step_b @ rot.r_inv_t.T
        alpha = 1.0
        for _ in range(40):
            mu_t, w_t, b_t = mu + alpha * d_mu, w + alpha * d_w, b + alpha * d_b
            w_t, b_t = 0.5 * (w_t + w_t.T), 0.5 * (b_t + b_t.T)
            rot_t = _rotation(w_t, b_t, n_x, diagonal)
            ll_t = _loglik(data, mu_t, rot_t) if rot_t is not None else -np.inf
            if np.isfinite(ll_t) and ll_t >= ll + 1e-4 * alpha * decrement - 1e-13 * abs(ll):
                break
            alpha *= 0.5
        else:
            return mu, w, b, ll, decrement < 1e-6, it, "no further improvement possible"
        mu, w, b, ll, rot = mu_t, w_t, b_t, ll_t, rot_t
    return mu, w, b, ll, False, max_iter, "iteration limit reached"


def _permuted(stats: TwoLevelStats, order: np.ndarray, n_x: int) -> _Data:
    return _Data(
        n=stats.n_units,
        j=stats.n_clusters,
        sizes=stats.sizes.astype(float),
        counts=stats.size_counts.astype(float),
        within=stats.within_cov[np.ix_(order, order)],
        means=stats.size_means[:, order],
        covs=stats.size_covs[:, order][:, :, order],
        n_x=n_x,
    )


def _start(stats: TwoLevelStats, order: np.ndarray, n_x: int, diagonal: bool) -> tuple[FloatArray, ...]:
    data = _permuted(stats, order, n_x)
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
    mu = stats.grand_mean[order]
    return mu, w, b


def fit_reference_stats(stats: Sequence[TwoLevelStats], *, diagonal: bool, within_only: Sequence[int] = (),
                        max_iter: int = 500, tol: float = 1e-10) -> MomentsFit:
    """Fit the saturated (``diagonal=False``) or baseline (``diagonal=True``) model to complete-data statistics.

    Parameters
    ----------
    stats : sequence of TwoLevelStats
        One per group (complete data: the route uses only the statistics).
    diagonal : bool
        Baseline model (diagonal Sigma_W and Sigma_B) instead of the saturated one.
    within_only : sequence of int
        Variables without a between part (their Sigma_B rows are fixed at 0).
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
        x = np.asarray(sorted(set(int(i) for i in within_only)), dtype=np.int64)
        rest = np.setdiff1d(np.arange(p), x)
        order = np.concatenate([x, rest]).astype(np.int64)
        back = np.argsort(order)
        n_x = x.size
        data = _permuted(st, order, n_x)
        mu, w, b = _start(st, order, n_x, diagonal)
        mu, w, b, ll, ok, its, msg = _fit_group(data, mu, w, b, diagonal=diagonal, max_iter=max_iter, tol=tol)
        total += ll
        converged &= ok
        iterations = max(iterations, its)
        messages.append(msg)
        moments.append(Moments(mu[back], w[np.ix_(back, back)], b[np.ix_(back, back)]))
        n_b = p - n_x
        npar += p + (p if diagonal else p * (p + 1) // 2) + (n_b if diagonal else n_b * (n_b + 1) // 2)
    message = "converged" if converged else "; ".join(sorted(set(m for m in messages if m != "converged")))
    return MomentsFit(total, npar, tuple(moments), converged, iterations, message)
