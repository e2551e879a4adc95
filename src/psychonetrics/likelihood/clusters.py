"""Exact two-level normal log-likelihood cluster by cluster, over the observed values.

For cluster j with units i observing the variables o_i (selection matrix S_i)::

    Omega_j = blockdiag(S_i W S_i') + Z B Z',   Z = [S_1; S_2; ...],

and with P_i = S_i' (S_i W S_i')^-1 S_i (p x p, zero outside o_i),
H_j = sum_i P_i, g_j = sum_i P_i (y_i - mu) and
M_j = B (I + H_j B)^-1 = (I + B H_j)^-1 B (Woodbury, no inverse of B needed)::

    log|Omega_j|          = sum_i log|W_oi| + log|I + B H_j|
    r' Omega_j^-1 r       = sum_i r_i' P_i r_i - g_j' M_j g_j

so every cluster costs p x p work whatever its size.  Units with the same
missingness pattern share P; clusters are processed as one batch of p x p
matrices.  Gradient (F = -2 logL, e_i = y_i - mu - M_j g_j,
u_j = g_j - H_j M_j g_j)::

    dF/dB  = sum_j [H_j - H_j M_j H_j - u_j u_j']
    dF/dW  = sum_k P_k [n_k W_k - sum_{i in k} (M_j(i) + e_i e_i')] P_k   (W_k: P_k's pseudo-inverse)
           = sum_k [n_k P_k - P_k (sum_j c_jk M_j + sum_{i in k} e_i e_i') P_k]
    dF/dmu = -2 sum_k P_k sum_{i in k} e_i

Invariants
----------
* ``UnitData.values`` are centred on ``UnitData.center`` and zero where
  missing; the moments' mean is shifted by the same centre.
* A point where some W_oi or I + B H_j is not positive definite returns -inf.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np

from ..data.stats import TwoLevelStats, UnitData
from ..families.base import Moments
from ..linalg import FloatArray
from .stats import LOG2PI, _fold_vech, information_expected_stats


@dataclass(frozen=True, eq=False)
class _Layout:
    """Data-only quantities of one group, computed once.

    Units are stored sorted by pattern (``values``, ``cluster``), so that
    pattern k's units are the contiguous block ``unit_starts[k]:unit_starts[k+1]``.
    Entries are the distinct (cluster, pattern) pairs with the sum of their
    units' values, also sorted by pattern (block ``entry_starts``);
    ``entry_by_cluster`` reorders them by cluster, where cluster j's entries
    start at ``cluster_starts[j]``.
    """

    n_clusters: int
    counts: FloatArray  # (J, K) units of pattern k in cluster j
    n_observed_values: int
    pattern_obs: list[np.ndarray]  # observed variable indices of each pattern
    pattern_n: FloatArray  # (K,)
    pattern_sum: FloatArray  # (K, p) sum of centred values
    pattern_cross: FloatArray  # (K, p, p) sum of y y'
    values: FloatArray  # (N, p) sorted by pattern
    cluster: np.ndarray  # (N,) sorted by pattern
    unit_starts: np.ndarray  # (K + 1,)
    entry_sum: FloatArray  # (E, p) sorted by pattern
    entry_starts: np.ndarray  # (K + 1,)
    entry_by_cluster: np.ndarray  # (E,) permutation to cluster order
    cluster_starts: np.ndarray  # (J,)


_LAYOUTS: "weakref.WeakKeyDictionary[UnitData, _Layout]" = weakref.WeakKeyDictionary()


def _layout(units: UnitData) -> _Layout:
    cached = _LAYOUTS.get(units)
    if cached is not None:
        return cached
    y, pat, cl = units.values, units.pattern, units.cluster
    n_clusters = int(cl.max()) + 1
    k_pat = units.patterns.shape[0]
    p = y.shape[1]
    counts = np.zeros((n_clusters, k_pat))
    np.add.at(counts, (cl, pat), 1.0)
    order = np.argsort(pat, kind="stable")
    p_n = np.bincount(pat, minlength=k_pat).astype(float)
    unit_starts = np.concatenate([[0], np.cumsum(p_n)]).astype(np.int64)
    y_sorted = np.ascontiguousarray(y[order])
    p_sum = np.stack([y_sorted[a:b].sum(axis=0) for a, b in zip(unit_starts[:-1], unit_starts[1:])])
    p_cross = np.stack([y_sorted[a:b].T @ y_sorted[a:b] for a, b in zip(unit_starts[:-1], unit_starts[1:])])
    key = pat * n_clusters + cl  # entries sorted by pattern, then cluster
    uniq, inverse = np.unique(key, return_inverse=True)
    inverse = inverse.reshape(-1)
    entry_sum = np.column_stack([np.bincount(inverse, weights=y[:, a], minlength=uniq.size) for a in range(p)])
    entry_pattern = uniq // n_clusters
    entry_cluster = uniq % n_clusters
    entry_starts = np.searchsorted(entry_pattern, np.arange(k_pat + 1))
    by_cluster = np.argsort(entry_cluster, kind="stable")
    cluster_starts = np.searchsorted(entry_cluster[by_cluster], np.arange(n_clusters))
    layout = _Layout(n_clusters, counts, int(units.observed.sum()),
                     [np.flatnonzero(units.patterns[k]) for k in range(k_pat)], p_n, p_sum, p_cross,
                     y_sorted, cl[order], unit_starts, entry_sum, entry_starts, by_cluster, cluster_starts)
    _LAYOUTS[units] = layout
    return layout


@dataclass(frozen=True)
class _State:
    precisions: FloatArray  # (K, p, p) P_k
    logdets: FloatArray  # (K,) log|W_ok|
    h: FloatArray  # (J, p, p)
    g: FloatArray  # (J, p)
    m: FloatArray  # (J, p, p)
    logdet_k: FloatArray  # (J,) log|I + B H_j|
    mu_c: FloatArray  # (p,) centred mean


def _state(moments: Moments, units: UnitData, lay: _Layout) -> _State | None:
    w, b = moments.sigma_within, moments.sigma_between
    if not (np.all(np.isfinite(w)) and np.all(np.isfinite(b)) and np.all(np.isfinite(moments.mu))):
        return None
    p = w.shape[0]
    k_pat = len(lay.pattern_obs)
    precisions = np.zeros((k_pat, p, p))
    logdets = np.zeros(k_pat)
    for k, o in enumerate(lay.pattern_obs):
        try:
            low = np.linalg.cholesky(w[np.ix_(o, o)])
        except np.linalg.LinAlgError:
            return None
        inv_low = np.linalg.inv(low)
        precisions[k][np.ix_(o, o)] = inv_low.T @ inv_low
        logdets[k] = 2.0 * np.log(np.diag(low)).sum()
    mu_c = moments.mu - units.center
    h = (lay.counts @ precisions.reshape(k_pat, -1)).reshape(-1, p, p)
    weighted = np.empty_like(lay.entry_sum)
    for k in range(k_pat):
        a, z = lay.entry_starts[k], lay.entry_starts[k + 1]
        weighted[a:z] = lay.entry_sum[a:z] @ precisions[k]
    g = np.add.reduceat(weighted[lay.entry_by_cluster], lay.cluster_starts, axis=0) - h @ mu_c
    kmat = np.eye(p) + np.matmul(b, h)
    # Omega_j is positive definite iff every eigenvalue of I + B H_j (real: B H_j is similar to
    # H^1/2 B H^1/2) is positive; a positive determinant alone misses an even number of negative
    # ones.  With B positive semi-definite every eigenvalue is >= 1, so only an indefinite B needs
    # the per-cluster check.
    if np.linalg.eigvalsh(0.5 * (b + b.T))[0] < 0.0 and np.any(np.linalg.eigvals(kmat).real <= 0.0):
        return None
    sign, logdet_k = np.linalg.slogdet(kmat)
    if np.any(sign <= 0):
        return None
    m = np.linalg.solve(kmat, np.broadcast_to(b, kmat.shape))
    return _State(precisions, logdets, h, g, m, logdet_k, mu_c)


def _quadratic(state: _State, lay: _Layout) -> float:
    """sum_i r_i' P_i r_i from per-pattern sums."""
    mu, pk = state.mu_c, state.precisions
    return float(np.sum(pk * lay.pattern_cross) - 2.0 * np.einsum("a,kab,kb->", mu, pk, lay.pattern_sum)
                 + np.einsum("k,a,kab,b->", lay.pattern_n, mu, pk, mu))


def _loglik(state: _State, lay: _Layout) -> float:
    mg = np.einsum("jab,jb->ja", state.m, state.g)
    f = (lay.n_observed_values * LOG2PI + float(lay.pattern_n @ state.logdets) + float(state.logdet_k.sum())
         + _quadratic(state, lay) - float(np.einsum("ja,ja->", state.g, mg)))
    return -0.5 * f


def _units(stats: TwoLevelStats) -> UnitData:
    if stats.units is None:
        raise ValueError("the per-cluster route needs unit-level rows; these statistics have none.")
    return stats.units


def loglik_clusters(moments: Moments, stats: TwoLevelStats) -> float:
    """Log-likelihood of the observed values of one group (-inf outside the parameter space)."""
    units = _units(stats)
    lay = _layout(units)
    state = _state(moments, units, lay)
    if state is None:
        return -np.inf
    return _loglik(state, lay)


def dloglik_dmoments_clusters(moments: Moments, stats: TwoLevelStats) -> tuple[float, FloatArray]:
    """Log-likelihood and its gradient in phi = (mu, vech W, vech B), per-cluster route."""
    units = _units(stats)
    lay = _layout(units)
    p = stats.n_vars
    state = _state(moments, units, lay)
    if state is None:
        return -np.inf, np.full(p + p * (p + 1), np.nan)
    loglik = _loglik(state, lay)
    h, m, g = state.h, state.m, state.g
    mg = np.einsum("jab,jb->ja", m, g)
    u = g - np.einsum("jab,jb->ja", h, mg)
    hm = np.matmul(h, m)
    d_b = h.sum(axis=0) - np.einsum("jab,jbc->ac", hm, h) - u.T @ u
    # per unit e_i = y_i - mu - M_j g_j, visited pattern by pattern
    k_pat = len(lay.pattern_obs)
    e_sum = np.empty((k_pat, p))
    e_cross = np.empty((k_pat, p, p))
    for k in range(k_pat):
        a, z = lay.unit_starts[k], lay.unit_starts[k + 1]
        e = lay.values[a:z] - state.mu_c - mg[lay.cluster[a:z]]
        e_sum[k] = e.sum(axis=0)
        e_cross[k] = e.T @ e
    inner = (lay.counts.T @ m.reshape(m.shape[0], -1)).reshape(-1, p, p) + e_cross
    pk = state.precisions
    d_w = np.einsum("k,kab->ab", lay.pattern_n, pk) - np.einsum("kab,kbc,kcd->ad", pk, inner, pk)
    d_mu = -2.0 * np.einsum("kab,kb->a", pk, e_sum)
    grad_f = np.concatenate([d_mu, _fold_vech(0.5 * (d_w + d_w.T)), _fold_vech(0.5 * (d_b + d_b.T))])
    return loglik, -0.5 * grad_f


def route_for(stats: TwoLevelStats):  # noqa: ANN201 - returns likelihood.Route
    """The per-cluster route; SEs from the expected information for complete data, observed otherwise."""
    from . import Route

    if stats.complete:
        return Route("clusters", loglik_clusters, dloglik_dmoments_clusters, information_expected_stats, "expected")
    # With missing values the complete-data expected information serves as the scoring metric
    # of the optimizer; standard errors use the observed information.
    return Route("clusters", loglik_clusters, dloglik_dmoments_clusters, information_expected_stats, "observed")
