"""Exact log-likelihood of the random-intercept multilevel VAR(1) model (experience sampling).

Model
-----
Person i = 1..J, p variables, occasion t of segment s (a day, say)::

    y_ist = mu + b_i + w_ist,      w_ist = beta w_is,t-1 + zeta_ist,
    zeta_ist ~ N(0, Sigma),        b_i ~ N(0, Sigma_B),
    w_is0 ~ N(0, S0),              S0 = beta S0 beta' + Sigma,

with the spectral radius of beta below 1, segments independent given b_i and
b_i independent of everything else.  beta[i, j] is the effect of variable j
at t - 1 on variable i at t.  The log-likelihood is the exact normal log
density of all observed values (missing values marginalized), summed over
persons.  No (T p) x (T p) matrix is ever formed.

Transitions
-----------
Only occasions with at least one observed value enter ("observed
occasions"); an occasion missing altogether only lengthens a gap.  By the
Markov property the states at a segment's observed occasions t_1 < t_2 < ...
form a Markov chain::

    w_t_k | w_t_k-1 ~ N(T_d w_t_k-1, Q_d),   d = t_k - t_k-1,
    T_d = beta^d,   Q_1 = Sigma,   Q_d = Sigma + beta Q_d-1 beta'  (= S0 - T_d S0 T_d'),

and the first observed occasion of a segment is the transition "from
nothing" of class d = inf (gap code 0): T_inf = 0, Q_inf = S0.  Every
observed occasion ends exactly one transition; transitions are grouped by
their gap class d.  Given b, with r = y - mu and e0 = r_t - T_d r_prev, a
transition whose two ends are fully observed ("complete transition")
contributes::

    -2 log p = p log 2 pi + log|Q_d| + (e0 - (I - T_d) b)' Q_d^-1 (e0 - (I - T_d) b).

For a gap-free complete segment of length T these terms are the closed-form
block tridiagonal precision of a stationary VAR(1) (density
p(w_0) prod_t p(w_t | w_t-1)): with P = Sigma^-1 the diagonal blocks are
S0^-1 + beta' P beta (first), P + beta' P beta (inner), P (last), the
off-diagonal blocks -P beta, and all blocks sum to
S0^-1 + (T - 1)(I - beta)' P (I - beta).  Summed over a class, the complete
transitions need only statistics computed once from the data: per person
the count n_id and the sums of y_t and y_prev, and in total the
cross-products y_t y_t', y_t y_prev', y_prev y_prev'.  An evaluation on
complete data therefore costs O(C p^3 + J p^2) for C classes, whatever the
series' length.

Runs (values missing within an occasion)
----------------------------------------
A transition into or out of a partly observed occasion belongs to a run: a
maximal chain of partly observed occasions, started by the complete occasion
before it (a known state given b; nothing at the start of a segment) and
closed by the complete occasion after it, if any.  Given b, runs are
independent of the rest of the person's data.  A Kalman filter, batched over
all runs (sorted by length, so that the runs still active at step k are a
prefix), steps through them with the exact observation D_k w_k (no
measurement error).  Missing coordinates are padded: with D the diagonal
observed mask, F = D P D + (I - D) has log|F| = log|F_oo| and F^-1 is zero
between observed and missing coordinates, so one batched factorization
serves every pattern.  The filter runs on the p + 1 columns [r_k, I]: since
y = mu + b + w, its state estimate is E(w_k | data, b) = a_k - H_k b (the
first column and the last p), and the innovations v = [v_r, V_b] give the
run's terms of the same quadratic form in b::

    quad = sum_k v_r' F_k^-1 v_r,  g = sum_k V_b' F_k^-1 v_r,  A = sum_k V_b' F_k^-1 V_b,
    log|Omega| = sum_k log|F_k|.

Random intercept (Woodbury)
---------------------------
Given b a person's observed values have -2 log density
N_i log 2 pi + log|Omega_i| + quad_i - 2 g_i' b + b' A_i b, with
log|Omega_i|, quad_i, g_i and A_i the sums of the complete-transition terms
(log|Omega_i| = sum_d n_id log|Q_d|, A_i = sum_d n_id (I - T_d)' Q_d^-1 (I - T_d))
and the run terms.  With K_i = I + Sigma_B A_i::

    -2 log L_i = N_i log 2 pi + log|Omega_i| + log|K_i| + quad_i - g_i' M_i g_i,
    M_i = K_i^-1 Sigma_B = (Sigma_B^-1 + A_i)^-1 = Cov(b_i | y),   b_i^ = M_i g_i = E(b_i | y),

(log|V_i| = log|Omega_i| + log|K_i|).  Sigma_B is never inverted or
factored, so it may be indefinite (a Heywood case) as long as every person's
covariance V_i is positive definite, i.e. every eigenvalue of K_i is
positive: the parameter space of the likelihood, as the two-level
likelihoods of this package have it.  A person without runs has A_i fixed by
its counts n_id, so persons with the same counts share one p x p
factorization ("units").

Gradient (Fisher's identity)
----------------------------
The gradient is the expected complete-data score given the observed values;
the complete data are b and the full vectors w at the observed occasions, so
with w = y - mu - b::

    log p_c = log N(b; 0, Sigma_B) + sum over transitions log N(w_t - T_d w_prev; 0, Q_d).

Per class it needs only the expected moments C11 = sum E(w_t w_t'),
C10 = sum E(w_t w_prev'), C00 = sum E(w_prev w_prev'), m1 = sum E(w_t),
m0 = sum E(w_prev) and the count n::

    dl/dT_d   = Q^-1 (C10 - T C00),
    dl/dQ_d   = -1/2 (n Q^-1 - Q^-1 E_ee Q^-1),  E_ee = C11 - T C10' - C10 T' + T C00 T',
    dl/dmu    = sum_d (I - T_d)' Q_d^-1 (m1 - T_d m0),
    dl/dSigma_B = -1/2 sum_i (A_i K_i^-1 - u_i u_i'),   u_i = (I + A_i Sigma_B)^-1 g_i,

(the last by differentiating -2 log L_i directly: equal to Fisher's
-1/2 Sigma_B^-1 [sum_i (Sigma_B - M_i - b_i^ b_i^')] Sigma_B^-1 where Sigma_B
is positive definite, and defined where it is not; the other derivatives are
rational in Sigma_B, so Fisher's form extends to an indefinite Sigma_B too).

On a complete occasion w_t = r_t - b, so E(w_t w_s' | y) = (r_t - b^)(r_s - b^)' + M:
the complete transitions' moments follow from the same statistics.  In a
run, an RTS smoother on the same p + 1 columns gives E(w_k | y, b) = a_k - H_k b
and the covariances given b, P_k and P_k,k-1 = P_k G_k-1' (G the smoother
gain), so E(w_k w_j' | y) = P_kj + H_k M H_j' + m_k m_j', m_k = a_k - H_k b^.
The derivatives in (T_d, Q_d) are carried to (beta, Sigma) by one backward
sweep over d (T_d = beta T_d-1, Q_d = Sigma + beta Q_d-1 beta'), and Q_inf = S0
through the adjoint Lyapunov equation X = beta' X beta + G (then
dl/dSigma += X, dl/dbeta += 2 X beta S0).  Both Lyapunov equations are solved
by doubling (Smith's iteration), p x p products only.  Person scores are the same map
applied per person (it is linear in the moments), so they sum to the
gradient.

Invariants
----------
* Coordinates psi = (mu, vec(beta) column-major, vech(Sigma), vech(Sigma_B)),
  vech in :func:`psychonetrics.linalg.vech_indices` order; a gradient in an
  off-diagonal vech element counts both (i, j) and (j, i).
* ``SeriesData`` holds the observed occasions sorted by (person, segment,
  occasion); its statistics are of the values centred on ``center`` (the
  parameters' mu is shifted by the same centre); its arrays are read-only.
* A point with a non-finite value, spectral radius of beta >= 1, or Sigma or
  Sigma_B not positive definite is outside the parameter space: the
  log-likelihood is -inf and the gradient NaN, without an exception or a
  warning.  So is a point inside where a matrix is numerically singular (a
  factorization fails or a result is not finite).
* Cost per evaluation: O(C p^3 + J p^2 + d_max p^3) for C classes and the
  longest gap d_max, plus O(L R p^3) for R runs of at most L steps, with a
  Python loop over the L steps only.  Evaluations are meant to run with one
  BLAS thread (as fits do): the work is many small matrix products.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..linalg import FloatArray, IntArray, read_only, vech_indices

LOG2PI = float(np.log(2.0 * np.pi))


# ------------------------------------------------------------------ parameters
@dataclass(frozen=True, eq=False)
class VarParameters:
    """Parameters of the random-intercept VAR(1) model (read-only float arrays).

    Attributes
    ----------
    mu : (p,) array
        Grand means.
    beta : (p, p) array
        Temporal effects: ``beta[i, j]`` is the effect of variable j at t - 1 on variable i at t.
    sigma_within : (p, p) array
        Innovation (contemporaneous) covariance Sigma.
    sigma_between : (p, p) array
        Random-intercept covariance Sigma_B.
    """

    mu: FloatArray
    beta: FloatArray
    sigma_within: FloatArray
    sigma_between: FloatArray

    def __post_init__(self) -> None:
        mu = np.array(self.mu, dtype=float).reshape(-1)
        p = mu.size
        for name in ("beta", "sigma_within", "sigma_between"):
            value = np.array(getattr(self, name), dtype=float)
            if value.shape != (p, p):
                raise ValueError(f"`{name}`: expected shape ({p}, {p}) to match mu, got {value.shape}.")
            object.__setattr__(self, name, read_only(value))
        object.__setattr__(self, "mu", read_only(mu))

    @property
    def n_vars(self) -> int:
        """p, the number of variables."""
        return int(self.mu.size)


def psi_size(p: int) -> int:
    """Number of coordinates of psi for p variables: p + p^2 + p(p + 1)."""
    return p + p * p + p * (p + 1)


def _unvech(v: FloatArray, p: int) -> FloatArray:
    rows, cols = vech_indices(p)
    out = np.zeros(v.shape[:-1] + (p, p))
    out[..., rows, cols] = v
    out[..., cols, rows] = v
    return out


def _fold_vech(g: FloatArray) -> FloatArray:
    """d/dvech from the all-elements gradient G (..., p, p): G_ii, and G_ij + G_ji off the diagonal."""
    p = g.shape[-1]
    rows, cols = vech_indices(p)
    return g[..., rows, cols] + np.where(rows == cols, 0.0, 1.0) * g[..., cols, rows]


def parameters_from_psi(psi: np.ndarray, p: int) -> VarParameters:
    """The parameters at coordinates psi = (mu, vec(beta) column-major, vech(Sigma), vech(Sigma_B))."""
    psi = np.asarray(psi, dtype=float)
    if psi.shape != (psi_size(p),):
        raise ValueError(f"`psi`: expected {psi_size(p)} coordinates for p = {p}, got shape {psi.shape}.")
    ps = p * (p + 1) // 2
    mu = psi[:p]
    beta = psi[p:p + p * p].reshape(p, p, order="F")
    sigma = _unvech(psi[p + p * p:p + p * p + ps], p)
    between = _unvech(psi[p + p * p + ps:], p)
    return VarParameters(mu, beta, sigma, between)


def psi_of(params: VarParameters) -> FloatArray:
    """Coordinates psi of ``params`` (the lower triangles of the covariances)."""
    p = params.n_vars
    rows, cols = vech_indices(p)
    return np.concatenate([params.mu, params.beta.reshape(-1, order="F"),
                           params.sigma_within[rows, cols], params.sigma_between[rows, cols]])


def _spectral_radius(beta: FloatArray) -> float:
    return float(np.abs(np.linalg.eigvals(beta)).max()) if beta.size else 0.0


#: Largest p for which Lyapunov equations are solved through the p^2 x p^2 Kronecker system (faster than
#: doubling for small p); larger p use doubling.
KRONECKER_MAX = 10


def _lyapunov(a: FloatArray, q: FloatArray) -> FloatArray | None:
    """X = sum_k a^k q a'^k, the solution of X = a X a' + q (spectral radius of a below 1), for q
    (p, p) or a stack (..., p, p); None when the series does not converge.

    For p <= :data:`KRONECKER_MAX` by one solve of (I - a kron a) vec X = vec q; otherwise
    by doubling (Smith's iteration): X_j+1 = X_j + A_j X_j A_j', A_j+1 = A_j^2 sums 2^j terms after
    j steps, so a spectral radius r needs about log2(37 / -log r) steps of p x p products (r = 0.999:
    16).  It stops once ||A_j|| < 1 (the remaining terms then shrink) and the last increment is below
    the rounding of X.
    """
    p = a.shape[0]
    if 0 < p <= KRONECKER_MAX:  # small p: one solve with I - a kron a (column-major vec)
        with np.errstate(all="ignore"):
            rhs = np.moveaxis(np.asarray(q, dtype=float), (-2, -1), (1, 0)).reshape(p * p, -1)
            try:
                kron = (a[:, None, :, None] * a[None, :, None, :]).reshape(p * p, p * p)  # np.kron(a, a)
                vec = np.linalg.solve(np.eye(p * p) - kron, rhs)
            except np.linalg.LinAlgError:
                return None
        x = np.moveaxis(vec.reshape((p, p) + np.shape(q)[:-2]), (0, 1), (-1, -2))
        if not np.all(np.isfinite(x)):
            return None
        return 0.5 * (x + np.swapaxes(x, -1, -2))
    x = np.array(q, dtype=float)
    power = np.array(a, dtype=float)
    with np.errstate(all="ignore"):
        for _ in range(64):
            step = power @ x @ power.T
            x += step
            if not np.all(np.isfinite(x)):
                return None
            if np.linalg.norm(power) < 1.0 and np.abs(step).max() <= 1e-17 * np.abs(x).max():
                return 0.5 * (x + np.swapaxes(x, -1, -2))
            power = power @ power
    return None


def stationary_covariance(beta: np.ndarray, sigma: np.ndarray) -> FloatArray:
    """S0 = Cov(w_t) of the stationary VAR(1): S0 = beta S0 beta' + Sigma.

    Raises
    ------
    ValueError
        When beta or sigma hold a non-finite value or the spectral radius of
        beta is not below 1 (no stationary distribution).
    """
    beta = np.asarray(beta, dtype=float)
    sigma = np.asarray(sigma, dtype=float)
    p = beta.shape[0] if beta.ndim == 2 else -1
    if beta.shape != (p, p) or sigma.shape != (p, p):
        raise ValueError(f"`beta` and `sigma`: expected two square matrices of one size, got {beta.shape} "
                         f"and {sigma.shape}.")
    if not (np.all(np.isfinite(beta)) and np.all(np.isfinite(sigma))):
        raise ValueError("`beta`, `sigma`: non-finite values.")
    radius = _spectral_radius(beta)
    s0 = _lyapunov(beta, 0.5 * (sigma + sigma.T)) if radius < 1.0 else None
    if s0 is None:
        raise ValueError(f"`beta`: spectral radius {radius:.6g} >= 1, the process has no stationary covariance.")
    return s0


# ------------------------------------------------------------------ data
@dataclass(frozen=True, eq=False)
class SeriesData:
    """One group's persons' series, arranged once (statistics of complete transitions, layout of runs).

    Rows are the observed occasions (at least one value observed), sorted by
    (person, segment, occasion).  Transition classes are the distinct gaps
    ``gaps`` between consecutive observed occasions of a segment, ascending,
    with gap 0 standing for the first observed occasion of a segment (d = inf).

    Attributes
    ----------
    n_persons : int
        J (person codes 0..J-1; a person without observed values contributes nothing).
    n_vars : int
        p.
    n_observed_values : int
        Number of observed values.
    n_occasions : int
        Number of observed occasions (rows with at least one observed value).
    n_segments : int
        Number of segments with at least one observed value.
    center : (p,) array
        Mean of each variable's observed values; the statistics are of the values centred on it.
    """

    n_persons: int
    n_vars: int
    n_observed_values: int
    n_occasions: int
    n_segments: int
    center: FloatArray = field(repr=False)
    values: FloatArray = field(repr=False)  # (M, p) as given, NaN where missing
    row_person: IntArray = field(repr=False)  # (M,) person of each row (rows sorted by person, segment, occasion)
    row_segment: IntArray = field(repr=False)  # (M,)
    row_occasion: IntArray = field(repr=False)  # (M,)
    gaps: IntArray = field(repr=False)  # (C,) gap of each class, 0 = first occasion
    # complete transitions
    count: FloatArray = field(repr=False)  # (J, C)
    sum_cur: FloatArray = field(repr=False)  # (J, C, p) sums of y_t
    sum_prev: FloatArray = field(repr=False)  # (J, C, p) sums of y_prev (0 for gap 0)
    cross_cur: FloatArray = field(repr=False)  # (C, p, p) totals of y_t y_t'
    cross_lag: FloatArray = field(repr=False)  # (C, p, p) totals of y_t y_prev'
    cross_prev: FloatArray = field(repr=False)  # (C, p, p) totals of y_prev y_prev'
    complete_cur: IntArray = field(repr=False)  # (Nc,) end row, sorted by complete_key
    complete_prev: IntArray = field(repr=False)  # (Nc,) start row, -1 for gap 0
    complete_key: IntArray = field(repr=False)  # (Nc,) person * C + class, ascending
    # runs, sorted by decreasing length
    run_person: IntArray = field(repr=False)  # (R,)
    run_start: IntArray = field(repr=False)  # (R,) row of the known start, -1 at a segment start
    run_rows: IntArray = field(repr=False)  # (L, R) row of step k + 1, -1 past the run's end
    run_class: IntArray = field(repr=False)  # (L, R)
    run_active: IntArray = field(repr=False)  # (L,) runs with at least k + 1 steps
    trans_class: IntArray = field(repr=False)  # (Nr,) class of each run transition, step by step
    trans_person: IntArray = field(repr=False)  # (Nr,) its person
    run_group_order: IntArray = field(repr=False)  # runs grouped by person (see _grouping)
    run_group_starts: IntArray = field(repr=False)
    run_group_person: IntArray = field(repr=False)
    trans_group_order: IntArray = field(repr=False)  # run transitions grouped by class
    trans_group_starts: IntArray = field(repr=False)
    trans_group_class: IntArray = field(repr=False)
    # Woodbury units: persons without runs sharing their counts, and each person with runs
    unit: IntArray = field(repr=False)  # (J,)
    unit_size: FloatArray = field(repr=False)  # (U,) persons per unit
    unit_count: FloatArray = field(repr=False)  # (U, C) complete transitions of a unit's person

    @property
    def n_classes(self) -> int:
        """C, the number of transition classes."""
        return int(self.gaps.size)

    @property
    def n_runs(self) -> int:
        """R, the number of runs (stretches with values missing within an occasion)."""
        return int(self.run_person.size)


def _integer_codes(a: np.ndarray, name: str, n: int) -> IntArray:
    a = np.asarray(a)
    if a.shape != (n,):
        raise ValueError(f"`{name}`: expected shape ({n},) to match the rows of `values`, got {a.shape}.")
    if a.dtype.kind in "iu":
        return a.astype(np.int64)
    if a.dtype.kind == "f" and np.all(np.isfinite(a)) and np.all(a == np.round(a)):
        return a.astype(np.int64)
    raise ValueError(f"`{name}`: expected integer codes.")


def _grouping(keys: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    """(order, starts, distinct keys): the sums of rows by key are ``np.add.reduceat(x[order], starts)``."""
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]]) if keys.size else np.zeros(0, np.int64)
    return order, starts, ordered[starts]


def _strictly_sorted(person: IntArray, segment: IntArray, occasion: IntArray) -> bool:
    """Whether the rows are sorted by (person, segment, occasion) without ties."""
    dp, ds, do = np.diff(person), np.diff(segment), np.diff(occasion)
    return bool(np.all((dp > 0) | ((dp == 0) & ((ds > 0) | ((ds == 0) & (do > 0))))))


_CHUNK = 1 << 16  # rows per chunk of the statistics pass (bounded temporaries)


def series_data(values: np.ndarray, person: np.ndarray, segment: np.ndarray, occasion: np.ndarray) -> SeriesData:
    """Arrange one group's series for :func:`loglik_var1` and friends (data-only work, done once).

    Parameters
    ----------
    values : (N, p) float array
        The measurements, NaN where missing.  Rows with every value missing
        are allowed (missed occasions) and may be left out altogether.
    person : (N,) int array
        Person codes 0..J-1.
    segment : (N,) int array
        Segment id, unique within a person (the day, say); the process starts
        afresh from its stationary distribution in every segment.
    occasion : (N,) int array
        Time index within the segment; a gap of k between two rows means k - 1
        missed occasions.

    Rows may come in any order (sorted input skips the sort).

    Raises
    ------
    ValueError
        On inconsistent shapes, non-integer codes, negative person codes,
        infinite values, no observed value at all, or duplicate
        (person, segment, occasion) rows (the message names them).
    """
    values = np.asarray(values, dtype=float)
    if values.ndim != 2 or values.shape[1] == 0:
        raise ValueError(f"`values`: expected an (N, p) array with p >= 1, got shape {values.shape}.")
    n_rows, p = values.shape
    person = _integer_codes(person, "person", n_rows)
    segment = _integer_codes(segment, "segment", n_rows)
    occasion = _integer_codes(occasion, "occasion", n_rows)
    if n_rows and person.min() < 0:
        raise ValueError("`person`: codes must be 0..J-1 (found a negative code).")
    if _strictly_sorted(person, segment, occasion):
        y, sp, ss, so = values, person, segment, occasion
    else:
        order = np.lexsort((occasion, segment, person))
        sp, ss, so = person[order], segment[order], occasion[order]
        dup = (sp[1:] == sp[:-1]) & (ss[1:] == ss[:-1]) & (so[1:] == so[:-1])
        if dup.any():
            where = np.flatnonzero(dup)
            shown = ", ".join(f"({sp[k]}, {ss[k]}, {so[k]})" for k in where[:5])
            more = f" and {where.size - 5} more" if where.size > 5 else ""
            raise ValueError(f"duplicate (person, segment, occasion) rows: {shown}{more}.")
        y = values[order]
    if np.isinf(y).any():
        raise ValueError("`values`: infinite values; use NaN for missing values.")
    n_persons = int(sp.max()) + 1 if n_rows else 0
    obs = ~np.isnan(y)
    keep = obs.any(axis=1)
    if not keep.any():
        raise ValueError("`values`: no observed value.")
    if keep.all():
        y = np.array(y)  # a copy of our own: the caller may change theirs
    else:
        y, obs, sp, ss, so = y[keep], obs[keep], sp[keep], ss[keep], so[keep]
    m = y.shape[0]
    complete = obs.all(axis=1)
    total, n_obs_var = np.zeros(p), np.zeros(p)
    for lo in range(0, m, _CHUNK):
        block = y[lo:lo + _CHUNK]
        seen = obs[lo:lo + _CHUNK]
        total += np.where(seen, block, 0.0).sum(axis=0)
        n_obs_var += seen.sum(axis=0)
    center = np.where(n_obs_var > 0, total / np.maximum(n_obs_var, 1.0), 0.0)

    # transitions: every observed occasion ends one
    same = np.zeros(m, dtype=bool)
    same[1:] = (sp[1:] == sp[:-1]) & (ss[1:] == ss[:-1])
    gap = np.zeros(m, dtype=np.int64)
    gap[1:] = np.where(same[1:], so[1:] - so[:-1], 0)
    gaps = np.unique(gap)
    cls = np.searchsorted(gaps, gap)
    n_cls = gaps.size
    prev_known = np.ones(m, dtype=bool)  # start state known given b: complete, or no previous occasion
    prev_known[1:] = ~same[1:] | complete[:-1]
    comp = complete & prev_known
    prev_row = np.where(same, np.arange(m) - 1, -1)

    idx, prev_idx, key, count, sums, cross = _complete_transitions(y, sp, cls, comp, prev_row, center, gaps,
                                                                   n_persons)
    runs = _runs(comp, prev_known, prev_row, cls, sp)
    has_run = np.bincount(runs["run_person"], minlength=n_persons) > 0
    unit, unit_size, first_of_unit = _woodbury_units(count, has_run)

    ro = read_only
    return SeriesData(
        n_persons=n_persons, n_vars=p, n_observed_values=int(n_obs_var.sum()), n_occasions=m,
        n_segments=int((gap == 0).sum()), center=ro(center), values=ro(y), row_person=ro(sp),
        row_segment=ro(ss), row_occasion=ro(so),
        gaps=ro(gaps), count=ro(count), sum_cur=ro(sums[0].reshape(n_persons, n_cls, p)),
        sum_prev=ro(sums[1].reshape(n_persons, n_cls, p)), cross_cur=ro(cross[0]), cross_lag=ro(cross[1]),
        cross_prev=ro(cross[2]), complete_cur=ro(idx), complete_prev=ro(prev_idx), complete_key=ro(key),
        **{name: ro(value) for name, value in runs.items()}, unit=ro(unit), unit_size=ro(unit_size),
        unit_count=ro(count[first_of_unit]),
    )


def _complete_transitions(y: FloatArray, sp: IntArray, cls: IntArray, comp: np.ndarray, prev_row: IntArray,
                          center: FloatArray, gaps: IntArray, n_persons: int) -> tuple:
    """The complete transitions (both occasions fully observed, or a segment's first occasion): their end and
    start rows and (person, class) keys, ascending, counts and sums of y_t and y_prev per (person, class), and
    the cross-products y_t y_t', y_t y_prev', y_prev y_prev' per class, in chunks of rows."""
    n_cls, p = gaps.size, y.shape[1]
    idx = np.flatnonzero(comp)
    key = sp[idx] * n_cls + cls[idx]
    if np.any(key[1:] < key[:-1]):
        srt = np.argsort(key, kind="stable")
        idx, key = idx[srt], key[srt]
    prev_idx = prev_row[idx]
    size = n_persons * n_cls
    count = np.bincount(key, minlength=size).astype(float).reshape(n_persons, n_cls)
    sums = np.zeros((2, size, p))
    cross = np.zeros((3, n_cls, p, p))
    for lo in range(0, idx.size, _CHUNK):
        k_chunk = key[lo:lo + _CHUNK]
        prev = prev_idx[lo:lo + _CHUNK]
        a = y[idx[lo:lo + _CHUNK]] - center
        b = y[np.maximum(prev, 0)] - center
        b[prev < 0] = 0.0
        bounds = np.flatnonzero(np.r_[True, k_chunk[1:] != k_chunk[:-1]])  # keys are sorted
        sums[0, k_chunk[bounds]] += np.add.reduceat(a, bounds, axis=0)
        sums[1, k_chunk[bounds]] += np.add.reduceat(b, bounds, axis=0)
        # products over the whole chunk for its most frequent class, the other classes' rows moved out
        c_chunk = cls[idx[lo:lo + _CHUNK]]
        present = np.bincount(c_chunk, minlength=n_cls)
        major = int(present.argmax())
        products = np.stack([a.T @ a, a.T @ b, b.T @ b])
        for c in np.flatnonzero(present):
            if c == major:
                continue
            sel = c_chunk == c
            ac, bc = a[sel], b[sel]
            part = np.stack([ac.T @ ac, ac.T @ bc, bc.T @ bc])
            cross[:, c] += part
            products -= part
        cross[:, major] += products
    cross[1:, gaps == 0] = 0.0  # no previous occasion (its rows are zero: exact zeros)
    return idx, prev_idx, key, count, sums, cross


def _runs(comp: np.ndarray, prev_known: np.ndarray, prev_row: IntArray, cls: IntArray, sp: IntArray,
          ) -> dict[str, IntArray]:
    """The runs: maximal chains of transitions touching a partly observed occasion, laid out step by step
    (sorted by decreasing length, so the runs still active at step k are a prefix), with the groupings the
    filter and the gradient sum over (the :class:`SeriesData` fields ``run_*`` and ``trans_*``)."""
    run_tr = np.flatnonzero(~comp)
    starts = prev_known[run_tr]  # a run starts where its start state is known
    run_of = np.cumsum(starts) - 1
    n_runs = int(starts.sum())
    first = run_tr[starts]
    lengths = np.bincount(run_of, minlength=n_runs)
    step = np.arange(run_tr.size) - np.repeat(np.flatnonzero(starts), lengths)
    by_length = np.argsort(-lengths, kind="stable")
    rank = np.empty(n_runs, dtype=np.int64)
    rank[by_length] = np.arange(n_runs)
    max_len = int(lengths.max()) if n_runs else 0
    run_rows = np.full((max_len, n_runs), -1, dtype=np.int64)
    run_class = np.zeros((max_len, n_runs), dtype=np.int64)
    run_rows[step, rank[run_of]] = run_tr
    run_class[step, rank[run_of]] = cls[run_tr]
    run_person = sp[first][by_length]
    run_start = prev_row[first][by_length]
    run_active = (lengths[None, :] > np.arange(max_len)[:, None]).sum(axis=1)
    trans_class = np.concatenate([run_class[k, :n] for k, n in enumerate(run_active)] + [np.zeros(0, np.int64)])
    trans_person = np.concatenate([run_person[:n] for n in run_active] + [np.zeros(0, np.int64)])
    run_group = _grouping(run_person)
    trans_group = _grouping(trans_class)
    return dict(run_person=run_person, run_start=run_start, run_rows=run_rows, run_class=run_class,
                run_active=run_active, trans_class=trans_class, trans_person=trans_person,
                run_group_order=run_group[0], run_group_starts=run_group[1], run_group_person=run_group[2],
                trans_group_order=trans_group[0], trans_group_starts=trans_group[1],
                trans_group_class=trans_group[2])


def _woodbury_units(count: FloatArray, has_run: np.ndarray) -> tuple[IntArray, FloatArray, IntArray]:
    """Persons without runs that share their counts of complete transitions form one Woodbury unit (their
    p x p step is the same); each person with runs is its own.  Returns the unit of every person, the
    persons per unit and the first person of every unit."""
    n_persons = count.shape[0]
    unit_key = np.column_stack([count.astype(np.int64), np.where(has_run, np.arange(n_persons) + 1, 0)])
    _, first_of_unit, unit = np.unique(unit_key, axis=0, return_index=True, return_inverse=True)
    unit = unit.reshape(-1)
    unit_size = np.bincount(unit, minlength=first_of_unit.size).astype(float)
    return unit, unit_size, first_of_unit


def resample_series(data: SeriesData, drawn: np.ndarray) -> SeriesData:
    """The series of the persons ``drawn`` (codes 0..J-1, repeats allowed), renumbered 0..len(drawn)-1 in the
    order drawn: a person drawn twice enters as two persons (the cluster bootstrap)."""
    drawn = np.asarray(drawn, dtype=np.int64)
    bounds = np.searchsorted(data.row_person, np.arange(data.n_persons + 1))
    sizes = bounds[drawn + 1] - bounds[drawn]
    ends = np.cumsum(sizes)
    rows = np.arange(int(ends[-1]) if ends.size else 0) + np.repeat(bounds[drawn] - (ends - sizes), sizes)
    person = np.repeat(np.arange(drawn.size, dtype=np.int64), sizes)
    return series_data(data.values[rows], person, data.row_segment[rows], data.row_occasion[rows])


# ------------------------------------------------------------------ parameter-derived quantities
@dataclass(frozen=True)
class _Model:
    mu: FloatArray  # centred mean (the statistics are centred)
    mu_raw: FloatArray
    beta: FloatArray
    between: FloatArray  # Sigma_B (symmetric; indefinite allowed while every person's covariance is PD)
    s0: FloatArray
    powers: list[FloatArray]  # beta^d, d = 0..d_max
    noises: list[FloatArray]  # Q_d, d = 0..d_max (Q_0 = 0)
    trans: FloatArray  # (C, p, p) T of each class
    noise: FloatArray  # (C, p, p) Q of each class
    noise_inv: FloatArray  # (C, p, p)
    noise_logdet: FloatArray  # (C,)


def _tr(a: FloatArray) -> FloatArray:
    """The transposes of a stack of matrices, contiguous (numpy's batched matmul is several times
    slower on a transposed view)."""
    return np.ascontiguousarray(np.swapaxes(a, -1, -2))


def _chol_inverse(a: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Inverse and log-determinant of a stack (n, p, p) of symmetric positive definite matrices.

    The inverse of the Cholesky factor by forward substitution, one row at a time over the whole
    stack: for small p much faster than a LAPACK call per matrix.  Raises ``LinAlgError`` when a
    matrix is not positive definite.
    """
    low = np.linalg.cholesky(a)
    n, p, _ = low.shape
    diag = np.diagonal(low, axis1=1, axis2=2)
    if p > 16 or n < 50:  # LAPACK per matrix: for few matrices cheaper than the Python loop over rows
        low_inv = np.linalg.inv(low)
    else:
        low_inv = np.zeros_like(low)
        scale = 1.0 / diag
        for i in range(p):
            if i:
                row = -np.matmul(low[:, i:i + 1, :i], low_inv[:, :i, :])[:, 0, :]
            else:
                row = np.zeros((n, p))
            row[:, i] += 1.0
            low_inv[:, i, :] = row * scale[:, i:i + 1]
    return _tr(low_inv) @ low_inv, 2.0 * np.log(diag).sum(axis=1)


def _prepare(params: VarParameters, data: SeriesData) -> _Model | None:
    """Parameter-derived quantities, or None outside the parameter space."""
    p = data.n_vars
    if params.n_vars != p:
        raise ValueError(f"`params`: {params.n_vars} variables, the data have {p}.")
    mu, beta = params.mu, params.beta
    sigma = 0.5 * (params.sigma_within + params.sigma_within.T)
    between = 0.5 * (params.sigma_between + params.sigma_between.T)
    if not all(np.all(np.isfinite(a)) for a in (mu, beta, sigma, between)):
        return None
    try:
        np.linalg.cholesky(sigma)
    except np.linalg.LinAlgError:
        return None
    if _spectral_radius(beta) >= 1.0:
        return None
    d_max = int(data.gaps.max())
    s0 = _lyapunov(beta, sigma)
    if s0 is None:
        return None
    with np.errstate(all="ignore"):
        powers, noises = [np.eye(p)], [np.zeros((p, p))]
        for _ in range(d_max):
            powers.append(beta @ powers[-1])
            q = sigma + beta @ noises[-1] @ beta.T
            noises.append(0.5 * (q + q.T))
    if not (np.all(np.isfinite(s0)) and np.all(np.isfinite(powers[-1])) and np.all(np.isfinite(noises[-1]))):
        return None
    trans = np.stack([np.zeros((p, p)) if d == 0 else powers[d] for d in data.gaps])
    noise = np.stack([s0 if d == 0 else noises[d] for d in data.gaps])
    try:
        noise_inv, noise_logdet = _chol_inverse(noise)
    except np.linalg.LinAlgError:
        return None
    return _Model(mu - data.center, mu, beta, between, s0, powers, noises, trans, noise, noise_inv, noise_logdet)


# ------------------------------------------------------------------ forward pass
@dataclass(frozen=True)
class _Step:
    """One filter step of the runs still active (a prefix of n runs)."""

    n: int
    trans: FloatArray  # (n, p, p) T into this step
    x_pred: FloatArray  # (n, p, p + 1) predicted state, one column per data column
    p_pred: FloatArray  # (n, p, p)
    u: FloatArray  # (n, p, p + 1): D F^-1 D v
    m: FloatArray  # (n, p, p): D F^-1 D


@dataclass(frozen=True)
class _Forward:
    loglik: float
    g: FloatArray  # (J, p)
    u: FloatArray  # (J, p): (I + A Sigma_B)^-1 g
    bhat: FloatArray  # (J, p): E(b | y) = M g
    ak: FloatArray  # (U, p, p): A (I + Sigma_B A)^-1 (symmetric)
    m: FloatArray  # (U, p, p): Cov(b | y) = (I + Sigma_B A)^-1 Sigma_B
    x0: FloatArray  # (R, p, p + 1) known start states of the runs
    steps: list[_Step]


def _by_unit(mats: FloatArray, unit: IntArray, vecs: FloatArray) -> FloatArray:
    """Row j: mats[unit[j]] @ vecs[j]."""
    if mats.shape[0] == 1:
        return vecs @ mats[0].T
    return np.einsum("jab,jb->ja", mats[unit], vecs)


def _sum_groups(x: FloatArray, order: IntArray, starts: IntArray) -> FloatArray:
    """Sums of the rows of ``x`` by group (a grouping from :func:`_grouping`)."""
    return np.add.reduceat(x[order], starts, axis=0)


def _filter(model: _Model, data: SeriesData) -> tuple[FloatArray, FloatArray, FloatArray, list[_Step]]:
    """The batched Kalman filter over the runs: log|Omega| and the cross matrix [quad, g'; g, A] per run,
    the start states and the steps (kept for the smoother)."""
    p = data.n_vars
    n_runs = data.n_runs
    x_f = np.zeros((n_runs, p, p + 1))
    known = data.run_start >= 0
    x_f[known, :, 0] = data.values[data.run_start[known]] - model.mu_raw
    x_f[known, :, 1:] = np.eye(p)
    x0 = x_f
    p_f = None  # the start state is known: no covariance
    logdet = np.zeros(n_runs)
    cross = np.zeros((n_runs, p + 1, p + 1))
    steps = []
    eye = np.eye(p)
    for k, n in enumerate(data.run_active):
        rows = data.run_rows[k, :n]
        cls = data.run_class[k, :n]
        t = model.trans[cls]
        x_p = t @ x_f[:n]
        p_p = model.noise[cls]
        if p_f is not None:
            p_p = p_p + t @ p_f[:n] @ _tr(t)
        y = data.values[rows]
        seen = ~np.isnan(y)
        o = seen.astype(float)
        v = -x_p
        v[:, :, 0] += np.where(seen, y - model.mu_raw, 0.0)
        v[:, :, 1:] += eye
        v *= o[:, :, None]
        oo = o[:, :, None] * o[:, None, :]
        f = p_p * oo + eye * (1.0 - o)[:, :, None]
        f_inv, f_logdet = _chol_inverse(f)
        logdet[:n] += f_logdet
        m = f_inv * oo
        u = m @ v
        cross[:n] += _tr(v) @ u
        x_f = x_p + p_p @ u
        p_f = p_p - p_p @ m @ p_p
        p_f = 0.5 * (p_f + np.swapaxes(p_f, 1, 2))
        steps.append(_Step(int(n), t, x_p, p_p, u, m))
    return logdet, cross, x0, steps


def _forward(model: _Model, data: SeriesData) -> _Forward:
    """The log-likelihood: complete transitions from the statistics, runs by the filter, the random
    intercept by the Woodbury step per unit; keeps what the gradient needs."""
    p, n_cls = data.n_vars, data.n_classes
    eye = np.eye(p)
    t, q_inv = model.trans, model.noise_inv
    imt = eye - t
    w = q_inv @ imt  # Q^-1 (I - T)
    a_class = np.swapaxes(imt, 1, 2) @ w
    level = imt @ model.mu  # (C, p): (I - T) mu
    totals = data.count.sum(axis=0)
    logdet = float(totals @ model.noise_logdet)
    quad = 0.0
    g = np.zeros((data.n_persons, p))
    for c in range(n_cls):
        x = data.sum_cur[:, c] - data.sum_prev[:, c] @ t[c].T - data.count[:, c, None] * level[c]
        g += x @ w[c]
        s = data.sum_cur[:, c].sum(axis=0) - t[c] @ data.sum_prev[:, c].sum(axis=0)
        tl = t[c] @ data.cross_lag[c].T
        e = (data.cross_cur[c] - tl - tl.T + t[c] @ data.cross_prev[c] @ t[c].T
             - np.outer(s, level[c]) - np.outer(level[c], s) + totals[c] * np.outer(level[c], level[c]))
        quad += float(np.sum(q_inv[c] * e))
    a_unit = (data.unit_count @ a_class.reshape(n_cls, -1)).reshape(-1, p, p)
    if data.n_runs:
        run_logdet, cross, x0, steps = _filter(model, data)
        logdet += float(run_logdet.sum())
        quad += float(cross[:, 0, 0].sum())
        by_person = _sum_groups(cross[:, 1:], data.run_group_order, data.run_group_starts)
        g[data.run_group_person] += by_person[:, :, 0]
        a_unit[data.unit[data.run_group_person]] += by_person[:, :, 1:]  # a person with runs is a unit
    else:
        x0, steps = np.zeros((0, p, p + 1)), []
    # Woodbury with K = I + Sigma_B A (no inverse or factor of Sigma_B, which may be indefinite as long as
    # every person's covariance Omega + Z Sigma_B Z' is positive definite, i.e. every eigenvalue of K is)
    # |K| = |I + L_A' Sigma_B L_A| (A = L_A L_A'), a symmetric matrix whose Cholesky factor exists exactly
    # when the person's covariance is positive definite
    # (A is positive semi-definite; a relative jitter of 1e-13 keeps its factor defined for a person whose A
    # is singular and moves log|K| by far less than rounding elsewhere)
    jitter = 1e-13 * (np.trace(a_unit, axis1=1, axis2=2) / p + 1.0)
    low_a = np.linalg.cholesky(a_unit + jitter[:, None, None] * eye)
    low_s = np.linalg.cholesky(eye + _tr(low_a) @ model.between @ low_a)  # LinAlgError: outside the space
    k_logdet = 2.0 * np.log(np.diagonal(low_s, axis1=1, axis2=2)).sum(axis=1)
    k = eye + model.between @ a_unit
    k_inv = np.linalg.inv(k)
    m = k_inv @ model.between
    m = 0.5 * (m + np.swapaxes(m, 1, 2))
    bhat = _by_unit(m, data.unit, g)
    u = _by_unit(_tr(k_inv), data.unit, g)
    ak = a_unit @ k_inv
    f = (data.n_observed_values * LOG2PI + logdet + quad + float(data.unit_size @ k_logdet)
         - float(np.sum(g * bhat)))
    return _Forward(-0.5 * f, g, u, bhat, 0.5 * (ak + np.swapaxes(ak, 1, 2)), m, x0, steps)


# ------------------------------------------------------------------ expected complete-data moments
@dataclass(frozen=True)
class _Moments:
    """Expected complete-data moments per class, summed over persons (leading axis J per person)."""

    n: FloatArray  # (..., C)
    c11: FloatArray  # (..., C, p, p)
    c10: FloatArray
    c00: FloatArray
    m1: FloatArray  # (..., C, p)
    m0: FloatArray
    b_inner: FloatArray  # (..., p, p): sum_i A_i K_i^-1 - u_i u_i' (d -2 logL / d Sigma_B, all elements)


def _smoothed_transitions(model: _Model, data: SeriesData, fw: _Forward) -> tuple[FloatArray, ...]:
    """Smoothed moments of every run transition (E11, E10, E00, m1, m0), concatenated over the steps.

    The backward recursion of de Jong (1989) and Durbin & Koopman (2012, sec. 4.4-4.7) uses only the
    filter's D F^-1 D, so no further matrix is inverted::

        r_k-1 = u_k + L_k' r_k,   N_k-1 = M_k + L_k' N_k L_k,   L_k = T_k+1 (I - P_k M_k),
        E(w_k) = x_k + P_k r_k-1,   Var(w_k) = P_k - P_k N_k-1 P_k,
        Cov(w_k+1, w_k) = (I - P_k+1 N_k) L_k P_k

    (predicted x_k, P_k; u_k = M_k v_k), per data column and given b.
    """
    steps = fw.steps
    n_steps = len(steps)
    p = data.n_vars
    eye = np.eye(p)
    xs: list[FloatArray] = [fw.x0] + [np.empty(0)] * n_steps
    vs: list[FloatArray] = [np.zeros((data.n_runs, p, p))] + [np.empty(0)] * n_steps
    lag: list[FloatArray] = [np.empty(0)] * (n_steps + 1)
    lag[1] = np.zeros((steps[0].n, p, p))  # the start state is known given b
    r = n_mat = np.empty(0)
    for k in range(n_steps, 0, -1):
        st = steps[k - 1]
        r_new, n_new = st.u.copy(), st.m.copy()
        if k < n_steps:
            nxt = steps[k]
            n1 = nxt.n
            l_mat = nxt.trans @ (eye - st.p_pred[:n1] @ st.m[:n1])
            l_t = _tr(l_mat)
            r_new[:n1] += l_t @ r
            n_new[:n1] += l_t @ n_mat @ l_mat
            lag[k + 1] = (eye - nxt.p_pred @ n_mat) @ l_mat @ st.p_pred[:n1]
        xs[k] = st.x_pred + st.p_pred @ r_new
        v = st.p_pred - st.p_pred @ n_new @ st.p_pred
        vs[k] = 0.5 * (v + _tr(v))
        r, n_mat = r_new, n_new
    out: list[list[FloatArray]] = [[] for _ in range(5)]
    for k in range(1, n_steps + 1):
        n = steps[k - 1].n
        person = data.run_person[:n]
        bh = fw.bhat[person][:, :, None]
        mm = fw.m[data.unit[person]]
        h1, h0 = xs[k][:, :, 1:], xs[k - 1][:n, :, 1:]
        m1 = xs[k][:, :, :1] - h1 @ bh
        m0 = xs[k - 1][:n, :, :1] - h0 @ bh
        hm1, hm0 = h1 @ mm, h0 @ mm
        h1t, h0t = _tr(h1), _tr(h0)
        out[0].append(vs[k] + hm1 @ h1t + m1 * m1[:, :, 0][:, None, :])
        out[1].append(lag[k] + hm1 @ h0t + m1 * m0[:, :, 0][:, None, :])
        out[2].append(vs[k - 1][:n] + hm0 @ h0t + m0 * m0[:, :, 0][:, None, :])
        out[3].append(m1[:, :, 0])
        out[4].append(m0[:, :, 0])
    return tuple(np.concatenate(a) for a in out)


def _moments_total(model: _Model, data: SeriesData, fw: _Forward) -> _Moments:
    """The expected moments summed over persons: complete transitions from the statistics with the
    persons' expected levels u_i = mu + b_i^ (sum_t (y_t - u_i)(y_t - u_i)' + n_i M_i), runs from
    the smoother."""
    p, n_cls = data.n_vars, data.n_classes
    u = model.mu + fw.bhat  # (J, p): the persons' expected levels
    m_flat = fw.m.reshape(fw.m.shape[0], -1)
    n = data.count.sum(axis=0)
    c11 = np.zeros((n_cls, p, p))
    c10 = np.zeros((n_cls, p, p))
    c00 = np.zeros((n_cls, p, p))
    m1 = np.zeros((n_cls, p))
    m0 = np.zeros((n_cls, p))
    for c in range(n_cls):
        cnt = data.count[:, c]
        nu = cnt[:, None] * u
        uu = u.T @ nu + ((data.unit_size * data.unit_count[:, c]) @ m_flat).reshape(p, p)
        s1u = data.sum_cur[:, c].T @ u
        c11[c] = data.cross_cur[c] - s1u - s1u.T + uu
        m1[c] = data.sum_cur[:, c].sum(axis=0) - nu.sum(axis=0)
        if data.gaps[c] != 0:
            s0u = data.sum_prev[:, c].T @ u
            c10[c] = data.cross_lag[c] - s1u - s0u.T + uu
            c00[c] = data.cross_prev[c] - s0u - s0u.T + uu
            m0[c] = data.sum_prev[:, c].sum(axis=0) - nu.sum(axis=0)
    if data.n_runs:
        order, starts, cls = data.trans_group_order, data.trans_group_starts, data.trans_group_class
        for target, value in zip((c11, c10, c00, m1, m0), _smoothed_transitions(model, data, fw)):
            target[cls] += _sum_groups(value, order, starts)
        n = n + np.bincount(data.trans_class, minlength=n_cls)
    b_inner = (data.unit_size[:, None, None] * fw.ak).sum(axis=0) - fw.u.T @ fw.u
    return _Moments(n, c11, c10, c00, m1, m0, b_inner)


def _person_cross(data: SeriesData) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Per (person, class) totals of y_t y_t', y_t y_prev', y_prev y_prev' over complete transitions."""
    p, n_cls = data.n_vars, data.n_classes
    out = np.zeros((3, data.n_persons * n_cls, p, p))
    n = data.complete_key.size
    chunk = max(1, 1_000_000 // (p * p))
    for lo in range(0, n, chunk):
        key = data.complete_key[lo:lo + chunk]
        prev = data.complete_prev[lo:lo + chunk]
        a = data.values[data.complete_cur[lo:lo + chunk]] - data.center
        b = data.values[np.maximum(prev, 0)] - data.center
        b[prev < 0] = 0.0
        bounds = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])  # keys are sorted
        keys = key[bounds]
        out[0, keys] += np.add.reduceat(a[:, :, None] * a[:, None, :], bounds)
        out[1, keys] += np.add.reduceat(a[:, :, None] * b[:, None, :], bounds)
        out[2, keys] += np.add.reduceat(b[:, :, None] * b[:, None, :], bounds)
    out = out.reshape(3, data.n_persons, n_cls, p, p)
    return out[0], out[1], out[2]


def _moments_by_person(model: _Model, data: SeriesData, fw: _Forward) -> _Moments:
    """The expected moments of every person (leading axis J), for the scores."""
    n_cls = data.n_classes
    y11, y10, y00 = _person_cross(data)
    u = model.mu + fw.bhat
    cnt = data.count[:, :, None, None]
    m_person = fw.m[data.unit][:, None]
    uu = u[:, :, None] * u[:, None, :]
    s1u = data.sum_cur[:, :, :, None] * u[:, None, None, :]  # (J, C, p, p): s1 u'
    s0u = data.sum_prev[:, :, :, None] * u[:, None, None, :]
    first = data.gaps == 0
    c11 = y11 - s1u - np.swapaxes(s1u, 2, 3) + cnt * (uu[:, None] + m_person)
    lagged = cnt * (uu[:, None] + m_person)
    c10 = y10 - s1u - np.swapaxes(s0u, 2, 3) + lagged
    c00 = y00 - s0u - np.swapaxes(s0u, 2, 3) + lagged
    nu = data.count[:, :, None] * u[:, None, :]
    m1 = data.sum_cur - nu
    m0 = data.sum_prev - nu
    for a in (m0, c10, c00):  # no previous state in the first occasion's class
        a[:, first] = 0.0
    n = data.count.copy()
    if data.n_runs:
        key = data.trans_person * n_cls + data.trans_class
        order, starts, keys = _grouping(key)
        for target, value in zip((c11, c10, c00, m1, m0), _smoothed_transitions(model, data, fw)):
            target.reshape((-1,) + target.shape[2:])[keys] += _sum_groups(value, order, starts)
        n.reshape(-1)[keys] += np.diff(np.append(starts, key.size))
    b_inner = fw.ak[data.unit] - fw.u[:, :, None] * fw.u[:, None, :]
    return _Moments(n, c11, c10, c00, m1, m0, b_inner)


# ------------------------------------------------------------------ gradient
def _swap(a: FloatArray) -> FloatArray:
    return np.swapaxes(a, -1, -2)


def _gradient(model: _Model, data: SeriesData, mom: _Moments) -> FloatArray:
    """The gradient in psi from the expected moments (batched over any leading axes of ``mom``)."""
    p = data.n_vars
    t, q_inv = model.trans, model.noise_inv
    e_ee = mom.c11 - t @ _swap(mom.c10) - mom.c10 @ _swap(t) + t @ mom.c00 @ _swap(t)
    e_ee = 0.5 * (e_ee + _swap(e_ee))
    g_t = q_inv @ (mom.c10 - t @ mom.c00)
    g_q = -0.5 * (mom.n[..., None, None] * q_inv - q_inv @ e_ee @ q_inv)
    resid = mom.m1 - np.einsum("cab,...cb->...ca", t, mom.m0)
    g_mu = np.einsum("cab,...ca->...b", q_inv @ (np.eye(p) - t), resid)
    batch = g_mu.shape[:-1]
    beta = model.beta
    d_beta = np.zeros(batch + (p, p))
    d_sigma = np.zeros(batch + (p, p))
    gaps = list(data.gaps)
    if 0 in gaps:  # Q_inf = S0: adjoint Lyapunov equation X = beta' X beta + G
        x = _lyapunov(beta.T, g_q[..., gaps.index(0), :, :])
        d_sigma += x
        d_beta += 2.0 * x @ (beta @ model.s0)
    a_t = np.zeros(batch + (p, p))
    a_q = np.zeros(batch + (p, p))
    for d in range(int(data.gaps.max()), 0, -1):  # T_d = beta T_d-1, Q_d = Sigma + beta Q_d-1 beta'
        if d in gaps:
            a_t += g_t[..., gaps.index(d), :, :]
            a_q += g_q[..., gaps.index(d), :, :]
        d_beta += a_t @ model.powers[d - 1].T + 2.0 * a_q @ (beta @ model.noises[d - 1])
        d_sigma += a_q
        a_t = beta.T @ a_t
        a_q = beta.T @ a_q @ beta
    g_b = -0.5 * mom.b_inner
    d_sigma = 0.5 * (d_sigma + _swap(d_sigma))
    g_b = 0.5 * (g_b + _swap(g_b))
    return np.concatenate([g_mu, _swap(d_beta).reshape(batch + (p * p,)), _fold_vech(d_sigma), _fold_vech(g_b)],
                          axis=-1)


# ------------------------------------------------------------------ public functions
def _evaluate(params: VarParameters, data: SeriesData, what: str) -> tuple[float, FloatArray | None]:
    """Log-likelihood and, for ``what`` "gradient" or "scores", its gradient or the persons' gradients;
    ``(-inf, None)`` outside the parameter space or where the model's matrices are numerically
    singular (a factorization fails or a result is not finite)."""
    model = _prepare(params, data)
    if model is None:
        return -np.inf, None
    try:
        with np.errstate(all="ignore"):
            fw = _forward(model, data)
            if not np.isfinite(fw.loglik):
                return -np.inf, None
            if what == "loglik":
                return fw.loglik, None
            moments = _moments_total(model, data, fw) if what == "gradient" else _moments_by_person(model, data, fw)
            grad = _gradient(model, data, moments)
    except np.linalg.LinAlgError:
        return -np.inf, None
    if not np.all(np.isfinite(grad)):
        return -np.inf, None
    return fw.loglik, grad


def loglik_var1(params: VarParameters, data: SeriesData) -> float:
    """Exact log-likelihood of all observed values (-inf outside the parameter space)."""
    return _evaluate(params, data, "loglik")[0]


def dloglik_var1(params: VarParameters, data: SeriesData) -> tuple[float, FloatArray]:
    """Log-likelihood and its gradient in psi; ``(-inf, NaN vector)`` outside the parameter space."""
    ll, grad = _evaluate(params, data, "gradient")
    if grad is None:
        return -np.inf, np.full(psi_size(data.n_vars), np.nan)
    return ll, grad


def person_scores_var1(params: VarParameters, data: SeriesData) -> FloatArray:
    """Per-person gradients of the log-likelihood in psi, (J, psi_size); they sum to the gradient.

    Row i is d logL_i / d psi (zero for a person without observed values);
    their cross product is the meat of the cluster-robust (sandwich)
    covariance.  NaN outside the parameter space.
    """
    _, scores = _evaluate(params, data, "scores")
    if scores is None:
        return np.full((data.n_persons, psi_size(data.n_vars)), np.nan)
    return scores


def information_var1(params: VarParameters, data: SeriesData, *, kind: str = "observed",
                     central: bool = True) -> FloatArray:
    """Observed information in psi: minus the Hessian of the log-likelihood, (psi_size, psi_size).

    Computed by central differences of the analytic gradient (2 psi_size
    gradient evaluations), step h_k = 1e-5 max(1, |psi_k|), shrunk when a
    step leaves the parameter space; or, with ``central=False``, by forward
    differences (psi_size evaluations, step 1e-6 max(1, |psi_k|), agreeing
    with the central ones to about 1e-5 relative: enough for standard
    errors).  The result is symmetrized.  Only ``kind="observed"`` is
    available.  NaN outside the parameter space.
    """
    if kind != "observed":
        raise ValueError(f"`kind`: only 'observed' information is available, got {kind!r}.")
    p = data.n_vars
    psi = psi_of(params)
    n = psi.size
    ll, g0 = dloglik_var1(params, data)
    if not np.isfinite(ll):
        return np.full((n, n), np.nan)
    hess = np.empty((n, n))
    for k in range(n):
        if not central:
            h = 1e-6 * max(1.0, abs(psi[k]))
            for _ in range(30):
                up = psi.copy()
                up[k] += h
                ll_up, g_up = dloglik_var1(parameters_from_psi(up, p), data)
                if np.isfinite(ll_up):
                    break
                h *= -0.5  # the other side, closer
            hess[k] = (g_up - g0) / h
            continue
        h = 1e-5 * max(1.0, abs(psi[k]))
        for _ in range(30):
            up, down = psi.copy(), psi.copy()
            up[k] += h
            down[k] -= h
            ll_up, g_up = dloglik_var1(parameters_from_psi(up, p), data)
            ll_down, g_down = dloglik_var1(parameters_from_psi(down, p), data)
            if np.isfinite(ll_up) and np.isfinite(ll_down):
                break
            h *= 0.25
        hess[k] = (g_up - g_down) / (2.0 * h)
    info = -0.5 * (hess + hess.T)
    return info


# ------------------------------------------------------------------ simulation
def simulate_var1(params: VarParameters, n_persons: int, n_occasions: int | np.ndarray, *, n_segments: int = 1,
                  rng: np.random.Generator | int | None = None, missing: float = 0.0,
                  missing_values: float = 0.0) -> tuple[FloatArray, IntArray, IntArray, IntArray]:
    """Simulate series from the model.

    Parameters
    ----------
    params : VarParameters
        Must be inside the parameter space.
    n_persons : int
        J.
    n_occasions : int or (J,) int array
        Occasions per segment (one number, or one per person).
    n_segments : int
        Segments (days) per person; each starts from the stationary distribution.
    rng : Generator, int or None
        Random generator or seed.
    missing : float
        Probability that an occasion is missing altogether (its row is kept, all NaN).
    missing_values : float
        Probability that each remaining value is missing.

    Returns
    -------
    values, person, segment, occasion
        (N, p) values and (N,) codes, sorted by person, segment, occasion.
    """
    rng = np.random.default_rng(rng)
    p = params.n_vars
    lengths = np.broadcast_to(np.asarray(n_occasions, dtype=np.int64), (n_persons,))
    if (lengths < 1).any():
        raise ValueError("`n_occasions`: every segment needs at least one occasion.")
    if not (np.all(np.isfinite(params.beta)) and _spectral_radius(params.beta) < 1.0):
        raise ValueError("`params`: beta must be finite with spectral radius below 1.")
    s0 = stationary_covariance(params.beta, params.sigma_within)
    chol_w = np.linalg.cholesky(0.5 * (params.sigma_within + params.sigma_within.T))
    chol_0 = np.linalg.cholesky(s0)
    chol_b = np.linalg.cholesky(0.5 * (params.sigma_between + params.sigma_between.T))
    t_max = int(lengths.max())
    n_series = n_persons * n_segments
    b = rng.standard_normal((n_persons, p)) @ chol_b.T
    w = np.empty((t_max, n_series, p))
    w[0] = rng.standard_normal((n_series, p)) @ chol_0.T
    for t in range(1, t_max):
        w[t] = w[t - 1] @ params.beta.T + rng.standard_normal((n_series, p)) @ chol_w.T
    person = np.repeat(np.arange(n_persons), n_segments)
    y = params.mu + b[person][None] + w  # (T, series, p)
    y = np.swapaxes(y, 0, 1).reshape(-1, p)
    series_person = np.repeat(person, t_max)
    segment = np.tile(np.repeat(np.arange(n_segments), t_max), n_persons)
    occasion = np.tile(np.arange(t_max), n_series)
    keep = occasion < lengths[series_person]
    y, series_person, segment, occasion = y[keep], series_person[keep], segment[keep], occasion[keep]
    if missing > 0.0:
        y[rng.random(y.shape[0]) < missing] = np.nan
    if missing_values > 0.0:
        y[rng.random(y.shape) < missing_values] = np.nan
    return y, series_person, segment, occasion


__all__ = ["SeriesData", "VarParameters", "series_data", "psi_size", "parameters_from_psi", "psi_of",
           "loglik_var1", "dloglik_var1", "person_scores_var1", "information_var1", "stationary_covariance",
           "simulate_var1"]
