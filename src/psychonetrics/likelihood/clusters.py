"""Exact two-level normal log-likelihood cluster by cluster, over the observed values.

For cluster j with units i observing the unit-level variables o_i
(selection matrix S_i)::

    Omega_j = blockdiag(S_i W S_i') + Z B Z',   Z = [S_1; S_2; ...],

and with P_i = S_i' (S_i W S_i')^-1 S_i (zero outside o_i), H_j = sum_i P_i,
g_j = sum_i P_i (y_i - m_j) for the cluster's mean m_j, and
M_j = B (I + H_j B)^-1 = (I + B H_j)^-1 B (Woodbury, no inverse of B needed)::

    log|Omega_j|          = sum_i log|W_oi| + log|I + B H_j|
    r' Omega_j^-1 r       = sum_i r_i' P_i r_i - g_j' M_j g_j

so every cluster costs p x p work whatever its size.  Units with the same
missingness pattern share P; clusters are processed as one batch of p x p
matrices.  Gradient (F = -2 logL, e_i = y_i - m_j - M_j g_j,
u_j = g_j - H_j M_j g_j)::

    dF/dB_j  = H_j - H_j M_j H_j - u_j u_j'          (per cluster)
    dF/dm_j  = -2 u_j
    dF/dW    = sum_k [n_k P_k - P_k (sum_j c_jk M_j + sum_{i in k} e_i e_i') P_k]

Cluster-level variables
-----------------------
A cluster-level variable z is observed once per cluster (its value is
constant within the cluster); with q_j the observed ones of cluster j, the
likelihood factors as p(z_q) p(y | z_q) (as lavaan writes it)::

    z_q          ~ N(mu_q, B_qq)
    y | z_q      : the cluster above with m_j = mu_w + K_q (z_q - mu_q),
                   B*_q = B_ww - K_q B_qw,   K_q = B_wq B_qq^-1

Clusters with the same observed pattern of z share K_q and B*_q; the
gradient runs the chain rule from (m_j, B*_q) back to (mu, B).

Invariants
----------
* ``UnitData.values`` are centred on ``UnitData.center`` and zero where
  missing; the moments' mean is shifted by the same centre.
* A point where some W_oi, B_qq or I + B* H_j is not positive definite
  returns -inf.
* The data-only layout is computed once per (unit data, roles) and kept on
  the unit data (``UnitData.layouts``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data.frame import missingness_patterns
from ..data.stats import TwoLevelStats, UnitData
from ..linalg import FloatArray
from ..moments import Moments, Roles
from .common import LOG2PI, fold_vech


@dataclass(frozen=True, eq=False)
class _Layout:
    """Data-only quantities of one group, computed once.

    Unit-level variables ``w`` (indices among all variables): units are
    stored sorted by their missingness pattern over ``w`` (``values``,
    ``cluster``), so that pattern k's units are the contiguous block
    ``unit_starts[k]:unit_starts[k+1]``.  Entries are the distinct
    (cluster, pattern) pairs with the sum of their units' values, also sorted
    by pattern (block ``entry_starts``); ``entry_by_cluster`` reorders them by
    cluster, where cluster j's entries start at ``cluster_starts[j]``.
    Cluster-level variables ``z``: one (centred) value per cluster, with the
    observed-pattern index of each cluster.
    """

    w: np.ndarray
    z: np.ndarray
    n_clusters: int
    counts: FloatArray  # (J, K) units of pattern k in cluster j
    n_observed_values: int  # unit-level values
    pattern_obs: list[np.ndarray]  # observed positions (within w) of each pattern
    pattern_groups: list[tuple[np.ndarray, np.ndarray]]  # per number observed s: (patterns, their positions (n, s))
    entry_pattern: np.ndarray  # (E,) pattern of each entry
    pattern_n: FloatArray  # (K,)
    pattern_cross: FloatArray  # (K, p_w, p_w) sum of y y'
    values: FloatArray  # (N, p_w) sorted by pattern
    cluster: np.ndarray  # (N,) sorted by pattern
    unit_starts: np.ndarray  # (K + 1,)
    entry_sum: FloatArray  # (E, p_w) sorted by pattern
    entry_starts: np.ndarray  # (K + 1,)
    entry_by_cluster: np.ndarray  # (E,) permutation to cluster order
    cluster_starts: np.ndarray  # (J,)
    z_values: FloatArray  # (J, p_z), 0 where missing
    z_patterns: list[np.ndarray]  # observed positions (within z) of each distinct cluster pattern
    z_pattern: np.ndarray  # (J,) pattern of each cluster
    n_observed_z: int  # observed cluster-level values


def _layout(units: UnitData, roles: Roles | None) -> _Layout:
    key = () if roles is None else (roles.within_only, roles.between_only)
    cached = units.layouts.get(key)
    if cached is not None:
        return cached
    p_all = units.values.shape[1]
    z = np.asarray(() if roles is None else roles.between_only, dtype=np.int64)
    w = np.setdiff1d(np.arange(p_all), z)
    observed = units.observed[:, w]
    keep = observed.any(axis=1)  # units that observed no unit-level variable carry only z
    y, cl = units.values[keep][:, w], units.cluster[keep]
    observed = observed[keep]
    n_clusters = int(units.cluster.max()) + 1
    patterns, pat = missingness_patterns(observed)
    k_pat = patterns.shape[0]
    counts = np.zeros((n_clusters, k_pat))
    np.add.at(counts, (cl, pat), 1.0)
    order = np.argsort(pat, kind="stable")
    p_n = np.bincount(pat, minlength=k_pat).astype(float)
    unit_starts = np.concatenate([[0], np.cumsum(p_n)]).astype(np.int64)
    y_sorted = np.ascontiguousarray(y[order])
    p_cross = np.stack([y_sorted[a:b].T @ y_sorted[a:b] for a, b in zip(unit_starts[:-1], unit_starts[1:])])
    key_entry = pat * n_clusters + cl  # entries sorted by pattern, then cluster
    uniq, inverse = np.unique(key_entry, return_inverse=True)
    inverse = inverse.reshape(-1)
    entry_sum = np.column_stack([np.bincount(inverse, weights=y[:, a], minlength=uniq.size) for a in range(w.size)])
    entry_pattern = uniq // n_clusters
    entry_cluster = uniq % n_clusters
    entry_starts = np.searchsorted(entry_pattern, np.arange(k_pat + 1))
    by_cluster = np.argsort(entry_cluster, kind="stable")
    cluster_starts = np.searchsorted(entry_cluster[by_cluster], np.arange(n_clusters))
    # cluster-level values: the (constant) observed value of each cluster
    z_values = np.zeros((n_clusters, z.size))
    z_seen = np.zeros((n_clusters, z.size), dtype=bool)
    for a, col in enumerate(z):
        rows = np.flatnonzero(units.observed[:, col])
        z_values[units.cluster[rows], a] = units.values[rows, col]
        z_seen[units.cluster[rows], a] = True
    z_pats, z_pattern = np.unique(z_seen, axis=0, return_inverse=True)
    pattern_obs = [np.flatnonzero(patterns[k]) for k in range(k_pat)]
    n_obs = np.array([o.size for o in pattern_obs])
    groups = [(np.flatnonzero(n_obs == size), np.array([pattern_obs[k] for k in np.flatnonzero(n_obs == size)]))
              for size in np.unique(n_obs)]
    layout = _Layout(w, z, n_clusters, counts, int(observed.sum()), pattern_obs, groups, entry_pattern, p_n, p_cross,
                     y_sorted, cl[order], unit_starts, entry_sum, entry_starts, by_cluster, cluster_starts,
                     z_values, [np.flatnonzero(zp) for zp in z_pats], z_pattern.reshape(-1), int(z_seen.sum()))
    units.layouts[key] = layout
    return layout


@dataclass(frozen=True)
class _ZPart:
    """The cluster-level part at the current moments, per pattern of observed z."""

    k: list[FloatArray]  # K_q (p_w, |q|)
    b_qq_inv: list[FloatArray]
    resid: FloatArray  # (J, p_z): z_j - mu_z (0 where missing)
    f_z: float  # -2 log p(z) without its 2 pi constant


@dataclass(frozen=True)
class _State:
    precisions: FloatArray  # (K, p_w, p_w) P_k
    logdets: FloatArray  # (K,) log|W_ok|
    h: FloatArray  # (J, p_w, p_w)
    a: FloatArray  # (J, p_w) sum_i P_i y_i
    mean: FloatArray  # (J, p_w) centred cluster means m_j
    g: FloatArray  # (J, p_w)
    m: FloatArray  # (J, p_w, p_w)
    b: FloatArray  # (J, p_w, p_w) B*_j (or B broadcast)
    logdet_k: FloatArray  # (J,) log|I + B* H_j|
    zpart: _ZPart | None


def _z_part(moments: Moments, units: UnitData, lay: _Layout) -> tuple[_ZPart, FloatArray, FloatArray] | None:
    """K_q, B_qq^-1, -2 log p(z) and the per-cluster mean shifts and between covariances of y | z."""
    b, w, z = moments.sigma_between, lay.w, lay.z
    mu_z = moments.mu[z] - units.center[z]
    b_ww = b[np.ix_(w, w)]
    resid = np.zeros_like(lay.z_values)
    shift = np.zeros((lay.n_clusters, w.size))
    b_star = np.broadcast_to(b_ww, (lay.n_clusters, w.size, w.size)).copy()
    ks, invs = [], []
    f_z = 0.0
    for r, q in enumerate(lay.z_patterns):
        clusters = np.flatnonzero(lay.z_pattern == r)
        if q.size == 0:
            ks.append(np.zeros((w.size, 0)))
            invs.append(np.zeros((0, 0)))
            continue
        zq = z[q]
        b_qq = b[np.ix_(zq, zq)]
        try:
            low = np.linalg.cholesky(b_qq)
        except np.linalg.LinAlgError:
            return None
        low_inv = np.linalg.solve(low, np.eye(q.size))
        inv = low_inv.T @ low_inv
        k = b[np.ix_(w, zq)] @ inv
        rq = (lay.z_values[clusters][:, q] - mu_z[q])
        resid[np.ix_(clusters, q)] = rq
        shift[clusters] = rq @ k.T
        b_star[clusters] = b_ww - k @ b[np.ix_(zq, w)]
        f_z += clusters.size * 2.0 * float(np.log(np.diag(low)).sum()) + float(np.einsum("ja,ab,jb->", rq, inv, rq))
        ks.append(k)
        invs.append(inv)
    return _ZPart(ks, invs, resid, f_z), shift, b_star


def _state(moments: Moments, units: UnitData, lay: _Layout) -> _State | None:
    if not (np.all(np.isfinite(moments.sigma_within)) and np.all(np.isfinite(moments.sigma_between))
            and np.all(np.isfinite(moments.mu))):
        return None
    w_idx = lay.w
    w = moments.sigma_within[np.ix_(w_idx, w_idx)]
    p = w_idx.size
    k_pat = len(lay.pattern_obs)
    precisions = np.zeros((k_pat, p, p))
    logdets = np.zeros(k_pat)
    for ks, obs in lay.pattern_groups:  # patterns observing the same number of variables: one batch
        rows, cols = obs[:, :, None], obs[:, None, :]
        try:
            low = np.linalg.cholesky(w[rows, cols])
        except np.linalg.LinAlgError:
            return None
        inv_low = np.linalg.solve(low, np.broadcast_to(np.eye(obs.shape[1]), low.shape))
        precisions[ks[:, None, None], rows, cols] = np.matmul(np.swapaxes(inv_low, 1, 2), inv_low)
        logdets[ks] = 2.0 * np.log(np.diagonal(low, axis1=1, axis2=2)).sum(axis=1)
    mu_c = moments.mu[w_idx] - units.center[w_idx]
    if lay.z.size:
        parts = _z_part(moments, units, lay)
        if parts is None:
            return None
        zpart, shift, b = parts
        mean = mu_c + shift
    else:
        zpart = None
        b = np.broadcast_to(moments.sigma_between[np.ix_(w_idx, w_idx)], (lay.n_clusters, p, p))
        mean = np.broadcast_to(mu_c, (lay.n_clusters, p))
    h = (lay.counts @ precisions.reshape(k_pat, -1)).reshape(-1, p, p)
    weighted = np.einsum("ea,eab->eb", lay.entry_sum, precisions[lay.entry_pattern])
    a = np.add.reduceat(weighted[lay.entry_by_cluster], lay.cluster_starts, axis=0)
    g = a - np.einsum("jab,jb->ja", h, mean)
    kmat = np.eye(p) + np.matmul(b, h)
    # Omega_j is positive definite iff every eigenvalue of I + B H_j (real: B H_j is similar to
    # H^1/2 B H^1/2) is positive; a positive determinant alone misses an even number of negative
    # ones.  With B positive semi-definite every eigenvalue is >= 1, so only an indefinite B needs
    # the per-cluster check.
    # (a rank-deficient B, as a saturated between level on its boundary, has eigenvalues of rounding size:
    # those are not negative)
    distinct = b if zpart is not None else b[:1]  # without cluster-level variables every B*_j is B
    lowest = np.linalg.eigvalsh(0.5 * (distinct + np.swapaxes(distinct, 1, 2)))
    tiny = 1e-12 * max(1.0, float(np.abs(lowest).max()))
    if np.any(lowest[:, 0] < -tiny) and np.any(np.linalg.eigvals(kmat).real <= 0.0):
        return None
    sign, logdet_k = np.linalg.slogdet(kmat)
    if np.any(sign <= 0):
        return None
    m = np.linalg.solve(kmat, b)
    return _State(precisions, logdets, h, a, mean, g, m, b, logdet_k, zpart)


def _loglik(state: _State, lay: _Layout) -> float:
    mg = np.einsum("jab,jb->ja", state.m, state.g)
    # sum_i r_i' P_i r_i = sum_i y_i' P y_i - 2 sum_j m_j' a_j + sum_j m_j' H_j m_j
    quadratic = (float(np.sum(state.precisions * lay.pattern_cross)) - 2.0 * float(np.sum(state.mean * state.a))
                 + float(np.einsum("ja,jab,jb->", state.mean, state.h, state.mean)))
    f = (lay.n_observed_values * LOG2PI + float(lay.pattern_n @ state.logdets) + float(state.logdet_k.sum())
         + quadratic - float(np.einsum("ja,ja->", state.g, mg)))
    if state.zpart is not None:
        f += state.zpart.f_z + lay.n_observed_z * LOG2PI
    return -0.5 * f


def _units(stats: TwoLevelStats) -> UnitData:
    if stats.units is None:
        raise ValueError("the per-cluster route needs unit-level rows; these statistics have none.")
    return stats.units


def loglik_clusters(moments: Moments, stats: TwoLevelStats) -> float:
    """Log-likelihood of the observed values of one group (-inf outside the parameter space)."""
    units = _units(stats)
    lay = _layout(units, moments.roles)
    state = _state(moments, units, lay)
    if state is None:
        return -np.inf
    return _loglik(state, lay)


def dloglik_dmoments_clusters(moments: Moments, stats: TwoLevelStats) -> tuple[float, FloatArray]:
    """Log-likelihood and its gradient in phi = (mu, vech W, vech B), per-cluster route."""
    units = _units(stats)
    lay = _layout(units, moments.roles)
    p_all = stats.n_vars
    state = _state(moments, units, lay)
    if state is None:
        return -np.inf, np.full(p_all + p_all * (p_all + 1), np.nan)
    loglik = _loglik(state, lay)
    h, m, g = state.h, state.m, state.g
    p = lay.w.size
    mg = np.einsum("jab,jb->ja", m, g)
    u = g - np.einsum("jab,jb->ja", h, mg)
    hm = np.matmul(h, m)
    d_b_cluster = h - np.matmul(hm, h) - u[:, :, None] * u[:, None, :]  # dF/dB*_j
    d_mean = -2.0 * u  # dF/dm_j
    # per unit e_i = y_i - m_j - M_j g_j, visited pattern by pattern
    k_pat = len(lay.pattern_obs)
    e_cross = np.empty((k_pat, p, p))
    offset = state.mean + mg
    for k in range(k_pat):
        lo, hi = lay.unit_starts[k], lay.unit_starts[k + 1]
        e = lay.values[lo:hi] - offset[lay.cluster[lo:hi]]
        e_cross[k] = e.T @ e
    inner = (lay.counts.T @ m.reshape(m.shape[0], -1)).reshape(-1, p, p) + e_cross
    pk = state.precisions
    d_w_block = np.einsum("k,kab->ab", lay.pattern_n, pk) - np.matmul(np.matmul(pk, inner), pk).sum(axis=0)
    d_w = np.zeros((p_all, p_all))
    d_w[np.ix_(lay.w, lay.w)] = d_w_block
    d_mu = np.zeros(p_all)
    d_mu[lay.w] = d_mean.sum(axis=0)
    d_b = np.zeros((p_all, p_all))
    if state.zpart is None:
        d_b[np.ix_(lay.w, lay.w)] = d_b_cluster.sum(axis=0)
    else:
        _chain_cluster_level(moments, lay, state.zpart, d_b_cluster, d_mean, d_mu, d_b)
    grad_f = np.concatenate([d_mu, fold_vech(0.5 * (d_w + d_w.T)), fold_vech(0.5 * (d_b + d_b.T))])
    return loglik, -0.5 * grad_f


def _chain_cluster_level(moments: Moments, lay: _Layout, zpart: _ZPart, d_b_cluster: FloatArray,
                         d_mean: FloatArray, d_mu: FloatArray, d_b: FloatArray) -> None:
    """Add dF/dmu and dF/dB (all elements) of the cluster-level part: the chain rule from the y | z cluster
    quantities (m_j = mu_w + K_q r_j, B*_q = B_ww - K_q B_qw, K_q = B_wq B_qq^-1) and the marginal of z."""
    w, z, b = lay.w, lay.z, moments.sigma_between
    for r, q in enumerate(lay.z_patterns):
        clusters = np.flatnonzero(lay.z_pattern == r)
        g_star = d_b_cluster[clusters].sum(axis=0)
        d_b[np.ix_(w, w)] += g_star
        if q.size == 0:
            continue
        zq = z[q]
        k, inv = zpart.k[r], zpart.b_qq_inv[r]
        rq = zpart.resid[np.ix_(clusters, q)]
        g_mean = d_mean[clusters]
        # through the mean shift: dm_j = dK r_j - K dmu_q ;  through B*: dB* = -dK B_qw - K dB_qw
        d_k = g_mean.T @ rq - g_star @ b[np.ix_(w, zq)]
        d_mu[zq] += -k.T @ g_mean.sum(axis=0)
        # K = B_wq B_qq^-1: dK = dB_wq B_qq^-1 - K dB_qq B_qq^-1
        d_b[np.ix_(w, zq)] += d_k @ inv
        d_b[np.ix_(zq, w)] += -k.T @ g_star
        d_b[np.ix_(zq, zq)] += -k.T @ d_k @ inv
        # the marginal of z: sum_j [log|B_qq| + r_j' B_qq^-1 r_j]
        d_mu[zq] += -2.0 * inv @ rq.sum(axis=0)
        d_b[np.ix_(zq, zq)] += clusters.size * inv - inv @ (rq.T @ rq) @ inv


# ------------------------------------------------------------------ per-cluster scores
def _entries(lay: _Layout) -> tuple[np.ndarray, np.ndarray, FloatArray, FloatArray]:
    """Per (cluster, pattern) entry, sorted by pattern: its cluster, its pattern, its number of units
    and the sum of its units' y y' (p_w, p_w)."""
    k_pat = len(lay.pattern_obs)
    n_entries = lay.entry_sum.shape[0]
    pattern = np.repeat(np.arange(k_pat), np.diff(lay.entry_starts))
    cluster = np.empty(n_entries, dtype=np.int64)
    cluster[lay.entry_by_cluster] = np.repeat(np.arange(lay.n_clusters),
                                              np.diff(np.append(lay.cluster_starts, n_entries)))
    count = lay.counts[cluster, pattern]
    # the entry of each sorted unit: entries are sorted by (pattern, cluster), as the key below
    key_entry = pattern * lay.n_clusters + cluster
    unit_pattern = np.repeat(np.arange(k_pat), np.diff(lay.unit_starts))
    unit_entry = np.searchsorted(key_entry, unit_pattern * lay.n_clusters + lay.cluster)
    p = lay.w.size
    cross = np.zeros((n_entries, p, p))
    step = max(1, 2_000_000 // max(p * p, 1))  # bounded memory for the unit outer products
    for lo in range(0, lay.values.shape[0], step):
        y = lay.values[lo:lo + step]
        np.add.at(cross, unit_entry[lo:lo + step], y[:, :, None] * y[:, None, :])
    return cluster, pattern, count, cross


def cluster_scores(moments: Moments, stats: TwoLevelStats) -> FloatArray:
    """Per-cluster gradients of the log-likelihood in phi = (mu, vech W, vech B): (J, n_phi).

    Row j is d logL_j / d phi for cluster j's observed values, so the rows sum
    to the group's gradient (:func:`dloglik_dmoments_clusters`); their cross
    product is the meat of the cluster-robust (sandwich) covariance.  With
    E_e = sum over the units of entry e (cluster j, pattern k) of e_i e_i'::

        dF_j/dW = sum_{e in j} [n_e P_k - P_k (n_e M_j + E_e) P_k]

    and dF_j/dB*_j, dF_j/dm_j as in the module docstring, chained back to
    (mu, B) through the cluster-level part per cluster.
    """
    units = _units(stats)
    lay = _layout(units, moments.roles)
    p_all = stats.n_vars
    n_phi = p_all + p_all * (p_all + 1)
    state = _state(moments, units, lay)
    if state is None:
        return np.full((lay.n_clusters, n_phi), np.nan)
    key = ("entries",) + ((() if moments.roles is None else (moments.roles.within_only, moments.roles.between_only)),)
    entries = units.layouts.get(key)
    if entries is None:
        entries = units.layouts[key] = _entries(lay)
    e_cluster, e_pattern, e_count, e_cross = entries
    h, m, g = state.h, state.m, state.g
    w, p = lay.w, lay.w.size
    mg = np.einsum("jab,jb->ja", m, g)
    u = g - np.einsum("jab,jb->ja", h, mg)
    d_b_cluster = h - np.matmul(np.matmul(h, m), h) - u[:, :, None] * u[:, None, :]
    d_mean = -2.0 * u
    # within part per entry: E_e = C_e - s_e o' - o s_e' + n_e o o' with o the cluster's offset
    offset = (state.mean + mg)[e_cluster]
    s = lay.entry_sum
    e_mat = (e_cross - s[:, :, None] * offset[:, None, :] - offset[:, :, None] * s[:, None, :]
             + e_count[:, None, None] * offset[:, :, None] * offset[:, None, :])
    pk = state.precisions[e_pattern]
    inner = e_count[:, None, None] * m[e_cluster] + e_mat
    d_entry = e_count[:, None, None] * pk - np.matmul(np.matmul(pk, inner), pk)
    d_w_cluster = np.zeros((lay.n_clusters, p, p))
    np.add.at(d_w_cluster, e_cluster, d_entry)

    n_cl = lay.n_clusters
    d_mu = np.zeros((n_cl, p_all))
    d_w = np.zeros((n_cl, p_all, p_all))
    d_b = np.zeros((n_cl, p_all, p_all))
    d_w[:, w[:, None], w[None, :]] = d_w_cluster
    d_mu[:, w] = d_mean
    d_b[:, w[:, None], w[None, :]] = d_b_cluster
    if state.zpart is not None:
        _chain_cluster_level_per_cluster(moments, lay, state.zpart, d_b_cluster, d_mean, d_mu, d_b)
    rows, cols = np.tril_indices(p_all)  # vech order is column-major lower triangle: cols then rows
    order = np.lexsort((rows, cols))
    r, c = rows[order], cols[order]
    factor = np.where(r == c, 1.0, 2.0)

    def fold(d: FloatArray) -> FloatArray:
        return factor * 0.5 * (d[:, r, c] + d[:, c, r])

    grad_f = np.concatenate([d_mu, fold(d_w), fold(d_b)], axis=1)
    return -0.5 * grad_f


def _chain_cluster_level_per_cluster(moments: Moments, lay: _Layout, zpart: _ZPart, d_b_cluster: FloatArray,
                                     d_mean: FloatArray, d_mu: FloatArray, d_b: FloatArray) -> None:
    """:func:`_chain_cluster_level` cluster by cluster (``d_mu`` (J, p), ``d_b`` (J, p, p) are added to;
    their (w, w) block already holds dF_j/dB*_j)."""
    w, z, b = lay.w, lay.z, moments.sigma_between
    for r, q in enumerate(lay.z_patterns):
        if q.size == 0:
            continue
        clusters = np.flatnonzero(lay.z_pattern == r)
        zq = z[q]
        k, inv = zpart.k[r], zpart.b_qq_inv[r]
        rq = zpart.resid[np.ix_(clusters, q)]
        g_star = d_b_cluster[clusters]
        g_mean = d_mean[clusters]
        d_k = g_mean[:, :, None] * rq[:, None, :] - np.matmul(g_star, b[np.ix_(w, zq)])
        d_mu[np.ix_(clusters, zq)] += -g_mean @ k - 2.0 * rq @ inv
        idx = clusters[:, None, None]
        d_b[idx, w[None, :, None], zq[None, None, :]] += np.matmul(d_k, inv)
        d_b[idx, zq[None, :, None], w[None, None, :]] += np.matmul(-k.T[None], g_star)
        rr = np.einsum("ab,jb,jc,cd->jad", inv, rq, rq, inv)
        d_b[idx, zq[None, :, None], zq[None, None, :]] += (np.matmul(np.matmul(-k.T[None], d_k), inv)
                                                           + inv[None] - rr)
