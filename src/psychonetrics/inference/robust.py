"""Cluster-robust inference: sandwich covariance and the Yuan-Bentler scaled chi-square (MLR).

With per-cluster scores s_j = d logL_j / d theta (the rows of S), the
observed (or expected) information A and the meat B = S'S = sum_j s_j s_j'::

    vcov_robust = A^-1 B A^-1                     (Huber-White, clusters independent)

The scaled test is lavaan's ``yuan.bentler.mplus`` (the Mplus MLR
chi-square).  Its scaling factor compares the saturated model (h1, the
unrestricted moments phi = (mu, vech Sigma_W, vech Sigma_B) at their
estimates) with the model (h0)::

    c = [tr(A1^-1 B1) - tr(A0^-1 B0)] / df,       chisq.scaled = chisq / c

A1 and B1 are the information and the score cross-product of the saturated
model in phi, summed over groups (each group's trace separately); A0, B0 the
model's bread and meat.  Under normality both traces approach the number of
parameters and c approaches 1.  With fixed covariates (``fixed_x``) the
saturated parameters of the covariates' own moments (their means and the
covariances among them) are left out of the h1 trace, as lavaan does.  The
baseline model's scaled chi-square uses the same h1 trace with the baseline
as h0.  All traces are invariant to the parameterization, so unnormalized
sums give lavaan's values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..data.stats import TwoLevelStats
from ..likelihood import Route
from ..linalg import FloatArray, vech_indices
from ..moments import Moments, Roles

if TYPE_CHECKING:
    import pandas as pd

    from ..estimators import Estimator
    from ..families.base import Family
    from ..interface import FittedModel
    from ..partable.table import ParTable


def sandwich(bread_inverse: FloatArray, meat: FloatArray) -> FloatArray:
    """A^-1 B A^-1; parameters with NaN rows and columns in A^-1 (not identified) stay NaN, the others are
    not touched by them."""
    bad = np.isnan(np.diag(bread_inverse))
    if not bad.any():
        return bread_inverse @ meat @ bread_inverse
    inverse = np.where(np.isnan(bread_inverse), 0.0, bread_inverse)
    out = inverse @ meat @ inverse
    out[bad, :] = np.nan
    out[:, bad] = np.nan
    return out


def trace_ratio(information: FloatArray, meat: FloatArray | None = None, *, scores: FloatArray | None = None,
                ) -> float:
    """tr(A^-1 B) for a positive definite A (NaN when A is singular).

    Give the meat B, or the scores S with B = S'S: then tr(A^-1 S'S) = ||L^-1 S'||^2 (A = L L'), which
    costs K^2 J instead of K^3 for K parameters and J clusters.
    """
    from scipy.linalg import solve_triangular

    if information.shape[0] == 0:
        return 0.0
    try:
        low = np.linalg.cholesky(0.5 * (information + information.T))
    except np.linalg.LinAlgError:
        return np.nan
    if scores is not None:
        return float(np.sum(solve_triangular(low, scores.T, lower=True) ** 2))
    assert meat is not None
    half = solve_triangular(low, meat, lower=True)  # L^-1 B
    return float(np.trace(solve_triangular(low, half.T, lower=True)))  # tr(L^-1 B L^-T) = tr(A^-1 B)


# ----------------------------------------------------------------------------- phi coordinates
def phi_coordinates(roles: Roles, *, covariates: Sequence[int] = (), diagonal: bool = False,
                    fixed: Sequence[int] = ()) -> np.ndarray:
    """Positions in phi = (mu, vech W, vech B) of a reference model's parameters.

    Parameters
    ----------
    roles : Roles
        Which variables have a within and a between part.
    covariates : sequence of int
        Exogenous covariates, whose block the baseline keeps saturated.
    diagonal : bool
        The baseline (diagonal W and B, except a saturated block among
        ``covariates``) instead of the saturated model.
    fixed : sequence of int
        Variables whose own moments are fixed (``fixed_x``): their means and
        the (co)variances among them are dropped.
    """
    p = roles.n_vars
    r, c = vech_indices(p)
    fixed_set = np.zeros(p, dtype=bool)
    fixed_set[list(fixed)] = True
    cov_set = np.zeros(p, dtype=bool)
    cov_set[list(covariates)] = True
    keep = [np.flatnonzero(~fixed_set)]
    for offset, level in ((p, roles.within), (p + r.size, roles.between)):
        on = np.zeros(p, dtype=bool)
        on[level] = True
        sel = on[r] & on[c] & ~(fixed_set[r] & fixed_set[c])
        if diagonal:
            sel &= (r == c) | (cov_set[r] & cov_set[c])
        keep.append(offset + np.flatnonzero(sel))
    return np.concatenate(keep)


def moments_at(phi: FloatArray, p: int, roles: Roles | None) -> Moments:
    """Moments from phi = (mu, vech W, vech B)."""
    r, c = vech_indices(p)
    k = r.size
    w = np.zeros((p, p))
    b = np.zeros((p, p))
    w[r, c] = w[c, r] = phi[p:p + k]
    b[r, c] = b[c, r] = phi[p + k:]
    return Moments(phi[:p].copy(), w, b, roles)


def phi_information(route: Route, moments: Moments, stats: TwoLevelStats, coordinates: np.ndarray, *,
                    kind: str, step: float = 1e-6) -> FloatArray:
    """Information of the log-likelihood in the ``coordinates`` of phi at ``moments``.

    ``kind="observed"``: minus the Hessian, in closed form where the route
    has it (complete data without cluster-level variables), else by forward
    differences of the analytic gradient;
    ``"expected"``: the route's expected information.  NaN when a step
    leaves the parameter space.
    """
    n_phi = stats.n_vars + stats.n_vars * (stats.n_vars + 1)
    # all of phi element-wise costs O(n_phi^2) per cluster size, the contracted form O(K^2 p^2) for K
    # coordinates: the first for the saturated model, the second for the baseline's few coordinates
    if kind == "observed" and coordinates.size * stats.n_vars > 4 * n_phi:
        full = route.observed_phi(moments, stats)
        if full is not None:
            return full[np.ix_(coordinates, coordinates)]
    select = np.zeros((n_phi, coordinates.size))  # the Jacobian of phi in the coordinates
    select[coordinates, np.arange(coordinates.size)] = 1.0
    if kind == "expected":
        return route.information(moments, stats, select)
    closed = route.observed(moments, stats, select)
    if closed is not None:
        return closed
    phi = moments.phi()
    g0 = route.dloglik(moments, stats)[1][coordinates]
    hess = np.zeros((coordinates.size, coordinates.size))
    for a, k in enumerate(coordinates):
        h = step * max(1.0, abs(phi[k]))
        up = phi.copy()
        up[k] += h
        hess[:, a] = (route.dloglik(moments_at(up, stats.n_vars, moments.roles), stats)[1][coordinates] - g0) / h
    return -0.5 * (hess + hess.T)


def reference_trace(routes: Sequence[Route], moments: Sequence[Moments], stats: Sequence[TwoLevelStats],
                    coordinates: np.ndarray, *, kind: str) -> float:
    """sum_g tr(A_g^-1 B_g) of a reference model whose parameters are ``coordinates`` of phi (per group)."""
    from ..likelihood.clusters import cluster_scores

    total = 0.0
    for route, mom, st in zip(routes, moments, stats):
        scores = cluster_scores(mom, st)[:, coordinates]
        info = phi_information(route, mom, st, coordinates, kind=kind)
        total += trace_ratio(info, scores=scores)
    return total


def model_trace(model: "tuple[Family, ParTable]", stats: Sequence[TwoLevelStats], estimator: "Estimator", *,
                kind: str) -> float:
    """tr(A^-1 B) of a reference model that is a model of its own (a family's baseline) at its estimates:
    its information A and the cross-product B of its per-cluster scores in its own parameters."""
    from ..fitting.objective import Objective

    family, table = model
    obj = Objective(family, table, tuple(stats), estimator.routes(stats, family.roles))
    x = table.start_vector()
    return trace_ratio(obj.information(x, kind=kind), scores=obj.cluster_scores(x))


@dataclass(frozen=True)
class ScaledTest:
    """The Yuan-Bentler (Mplus) scaled chi-square of a model and of its baseline."""

    chisq: float
    df: int
    scaling_factor: float
    baseline_chisq: float
    baseline_df: int
    baseline_scaling_factor: float
    trace_h1: float
    trace_h0: float

    @property
    def chisq_scaled(self) -> float:
        return self.chisq / self.scaling_factor

    @property
    def baseline_chisq_scaled(self) -> float:
        return self.baseline_chisq / self.baseline_scaling_factor


def scaled_test(*, chisq: float, df: int, trace_h0: float, trace_h1: float, baseline_chisq: float,
                baseline_df: int, baseline_trace: float) -> ScaledTest:
    """Scaling factors c = (trace_h1 - trace_h0) / df of the model and of the baseline (NaN when df = 0)."""
    c = (trace_h1 - trace_h0) / df if df > 0 else np.nan
    c_b = (trace_h1 - baseline_trace) / baseline_df if baseline_df > 0 else np.nan
    return ScaledTest(chisq, df, c, baseline_chisq, baseline_df, c_b, trace_h1, trace_h0)


def robust_measures(test: ScaledTest, *, n_clusters: int, n_groups: int) -> dict[str, float]:
    """Fit measures from the scaled test: lavaan's ``.scaled`` measures (the formulas of the standard
    ones with the scaled chi-squares) and ``cfi.robust``/``tli.robust`` (Brosseau-Liard & Savalei)::

        cfi.robust = 1 - max(T - c d, 0) / max(T - c d, Tb - cb db, 0)
        tli.robust = 1 - (T - c d) db / ((Tb - cb db) d)

    RMSEA uses J, as the unscaled one (see :mod:`.fitmeasures`).
    """
    from scipy import stats as sps

    t, d, c = test.chisq, test.df, test.scaling_factor
    tb, db, cb = test.baseline_chisq, test.baseline_df, test.baseline_scaling_factor
    ts, tbs = test.chisq_scaled, test.baseline_chisq_scaled
    out = {
        "chisq.scaled": ts,
        "df.scaled": float(d),
        "pvalue.scaled": float(sps.chi2.sf(ts, d)) if d > 0 and np.isfinite(ts) else np.nan,
        "chisq.scaling.factor": c,
        "baseline.chisq.scaled": tbs,
        "baseline.df.scaled": float(db),
        "baseline.pvalue.scaled": float(sps.chi2.sf(tbs, db)) if db > 0 and np.isfinite(tbs) else np.nan,
        "baseline.chisq.scaling.factor": cb,
    }
    out["cfi.scaled"] = _cfi(ts, d, tbs, db)
    out["tli.scaled"] = _tli(ts, d, tbs, db)
    out["cfi.robust"] = _cfi(t, c * d, tb, cb * db)
    out["tli.robust"] = _tli(t, c * d, tb, cb * db, df=d, baseline_df=db)
    out["rmsea.scaled"] = (float(np.sqrt(max(ts / (n_clusters * d) - 1.0 / n_clusters, 0.0)) * np.sqrt(n_groups))
                           if d > 0 and np.isfinite(ts) else np.nan)
    return out


def _cfi(t: float, shift: float, tb: float, shift_b: float) -> float:
    """1 - max(T - shift, 0) / max(T - shift, Tb - shift_b, 0) (1 when both are 0)."""
    if not np.all(np.isfinite([t, shift, tb, shift_b])):
        return np.nan
    t1 = max(t - shift, 0.0)
    t2 = max(t - shift, tb - shift_b, 0.0)
    return 1.0 if t2 == 0.0 else 1.0 - t1 / t2


def _tli(t: float, shift: float, tb: float, shift_b: float, *, df: float | None = None,
         baseline_df: float | None = None) -> float:
    """1 - ((T - shift) db) / ((Tb - shift_b) d), shift = d (and shift_b = db) for the plain form."""
    d = shift if df is None else df
    db = shift_b if baseline_df is None else baseline_df
    if not np.all(np.isfinite([t, shift, tb, shift_b])) or d <= 0:
        return np.nan
    t2 = (tb - shift_b) * d
    return np.nan if t2 == 0 else 1.0 - (t - shift) * db / t2


ROBUST_KEYS = ("chisq.scaled", "df.scaled", "pvalue.scaled", "chisq.scaling.factor", "baseline.chisq.scaled",
               "baseline.df.scaled", "baseline.pvalue.scaled", "baseline.chisq.scaling.factor", "cfi.scaled",
               "tli.scaled", "cfi.robust", "tli.robust", "rmsea.scaled")


def robust_fit_measures(model: "FittedModel", series: "pd.Series") -> dict[str, float]:
    """The Yuan-Bentler scaled chi-square of a robust fit and the measures built on it, from the fit
    measures ``series``.  The traces of the saturated and baseline models depend on the data only: they are
    computed once and kept with the reference fits, which every model of the same data shares."""
    from .._threads import single_threaded_blas

    fitted, ref = model.fitted, model.reference
    assert fitted is not None
    if ref is None or not np.isfinite(fitted.trace_h0):
        return dict.fromkeys(ROBUST_KEYS, np.nan)
    roles = model.family.roles
    routes = model.estimator.routes(model.stats, roles)
    observed = model.family.observed
    fixed = [observed.index(v) for v in (model.exogenous.names if model.exogenous is not None else ())]
    covariates = [observed.index(v) for v in model.family.covariates]
    key = (fitted.information_kind, tuple(fixed))
    if key not in ref.robust_traces:
        with single_threaded_blas(), np.errstate(all="ignore"):
            ref.robust_traces[key] = (
                reference_trace(routes, ref.saturated.moments, model.stats, phi_coordinates(roles, fixed=fixed),
                                kind=fitted.information_kind),
                model_trace(ref.baseline.model, model.stats, model.estimator, kind=fitted.information_kind)
                if ref.baseline.model is not None else
                reference_trace(routes, ref.baseline.moments, model.stats,
                                phi_coordinates(roles, covariates=covariates, diagonal=True, fixed=fixed),
                                kind=fitted.information_kind))
    trace_h1, trace_b = ref.robust_traces[key]
    test = scaled_test(chisq=float(series["chisq"]), df=int(series["df"]), trace_h0=fitted.trace_h0,
                       trace_h1=trace_h1, baseline_chisq=float(series["baseline.chisq"]),
                       baseline_df=int(series["baseline.df"]), baseline_trace=trace_b)
    out = robust_measures(test, n_clusters=model.n_clusters, n_groups=len(model.stats))
    if int(series["df"]) == 0:
        out["chisq.scaled"], out["pvalue.scaled"] = float(series["chisq"]), np.nan  # as lavaan: nothing to scale
    return out
