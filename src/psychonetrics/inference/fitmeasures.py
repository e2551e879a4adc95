"""Fit measures, with psychonetrics' conventions for two-level models.

Sample-size-dependent measures use J, the number of clusters (summed over
groups), as psychonetrics does; lavaan uses N for RMSEA, so RMSEA and BIC
differ from lavaan's by design while chi-square, df, CFI and TLI agree.

Formulas (T = chi-square, d = df, b = baseline, G = number of groups)::

    chisq  = -2 (logl - unrestricted.logl)
    cfi    = 1 - max(T - d, 0) / max(Tb - db, T - d, 0)          (clamped to [0, 1])
    tli    = (Tb/db - T/d) / (Tb/db - 1)
    rmsea  = sqrt(max(T / (J d) - 1 / J, 0)) sqrt(G)
    bic    = -2 logl + npar log J
    ebic_g = bic + 4 npar g log(p)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from ..interface import FittedModel


#: measures that compare the model with the saturated or baseline model
REFERENCE_MEASURES = (
    "unrestricted.logl", "baseline.logl", "chisq", "pvalue", "baseline.chisq", "baseline.df", "baseline.pvalue",
    "nfi", "pnfi", "tli", "nnfi", "rfi", "ifi", "rni", "cfi", "rmsea", "rmsea.ci.lower", "rmsea.ci.upper",
    "rmsea.pvalue", "srmr_within", "srmr_between", "aic.x", "aic.x2",
)


@dataclass(frozen=True)
class FitInputs:
    """Everything the fit measures depend on."""

    logl: float
    npar: int
    unrestricted_logl: float
    baseline_logl: float
    baseline_npar: int
    nvar: int
    nobs: int
    n_clusters: int
    n_units: int
    n_groups: int
    objective: float
    srmr_within: float = np.nan
    srmr_between: float = np.nan


def _rmsea_ci(chisq: float, df: int, n: int, groups: int, level: float = 0.90) -> tuple[float, float, float]:
    """90% interval and close-fit p-value of RMSEA, as lavaan computes them (with n = J)."""
    if df <= 0 or not np.isfinite(chisq):
        return np.nan, np.nan, np.nan
    from scipy import optimize as sopt
    from scipy import stats as sps

    upper_p = (1 + level) / 2  # 0.95
    lower_p = (1 - level) / 2  # 0.05

    def root(target: float) -> float:
        f = lambda lam: sps.ncx2.cdf(chisq, df, lam) - target if lam > 0 else sps.chi2.cdf(chisq, df) - target  # noqa: E731
        if f(0.0) < 0:
            return 0.0
        hi = max(chisq, 1.0)
        while f(hi) > 0:
            hi *= 2
            if hi > 1e8:
                return np.nan
        return sopt.brentq(f, 0.0, hi, xtol=1e-12)

    lam_lower = root(upper_p)
    lam_upper = root(lower_p)
    lower = np.sqrt(lam_lower / (n * df)) * np.sqrt(groups)
    upper = np.sqrt(lam_upper / (n * df)) * np.sqrt(groups)
    ncp = n * df * 0.05**2 / groups
    pclose = float(sps.ncx2.sf(chisq, df, ncp))
    return float(lower), float(upper), pclose


def fit_measures(inp: FitInputs) -> pd.Series:
    """All fit measures of SPEC section 5 (plus srmr_within / srmr_between) as a Series."""
    t = -2.0 * (inp.logl - inp.unrestricted_logl)
    if -1e-6 < t <= 0.0:
        t = 0.0  # rounding at the saturated optimum (and no negative zero)
    df = np.float64(inp.nobs - inp.npar)
    tb = -2.0 * (inp.baseline_logl - inp.unrestricted_logl)
    dfb = np.float64(inp.nobs - inp.baseline_npar)
    t, tb = np.float64(t), np.float64(tb)  # numpy division: x/0 is inf or nan, never an exception
    j = inp.n_clusters
    from scipy import stats as sps

    with np.errstate(divide="ignore", invalid="ignore"):
        pvalue = float(sps.chi2.sf(t, df)) if df > 0 else np.nan
        pb = float(sps.chi2.sf(tb, dfb)) if dfb > 0 else np.nan
        nfi = (tb - t) / tb
        pnfi = (df / dfb) * nfi
        tli = (tb / dfb - t / df) / (tb / dfb - 1.0) if df > 0 else np.nan
        rfi = (tb / dfb - t / df) / (tb / dfb) if df > 0 else np.nan
        ifi = (tb - t) / (tb - df)
        rni = ((tb - dfb) - (t - df)) / (tb - dfb)
        denom = max(tb - dfb, t - df, 0.0)
        cfi = 1.0 - max(t - df, 0.0) / denom if denom > 0 else 1.0
        rmsea = np.sqrt(max(t / (j * df) - 1.0 / j, 0.0)) * np.sqrt(inp.n_groups) if df > 0 else np.nan
    lo, hi, pclose = _rmsea_ci(t, df, j, inp.n_groups)
    k = inp.npar
    aic = -2.0 * inp.logl + 2.0 * k
    bic = -2.0 * inp.logl + k * np.log(j)
    ebic = {g: bic + 4.0 * k * g * np.log(inp.nvar) for g in (0.25, 0.5, 0.75, 1.0)}
    values = {
        "logl": inp.logl,
        "unrestricted.logl": inp.unrestricted_logl,
        "baseline.logl": inp.baseline_logl,
        "nvar": inp.nvar,
        "nobs": inp.nobs,
        "npar": k,
        "df": int(df),
        "objective": inp.objective,
        "chisq": t,
        "pvalue": pvalue,
        "baseline.chisq": tb,
        "baseline.df": int(dfb),
        "baseline.pvalue": pb,
        "nfi": nfi,
        "pnfi": pnfi,
        "tli": tli,
        "nnfi": tli,
        "rfi": rfi,
        "ifi": ifi,
        "rni": rni,
        "cfi": float(np.clip(cfi, 0.0, 1.0)),
        "rmsea": rmsea,
        "rmsea.ci.lower": lo,
        "rmsea.ci.upper": hi,
        "rmsea.pvalue": pclose,
        "srmr_within": inp.srmr_within,
        "srmr_between": inp.srmr_between,
        "aic.ll": aic,
        "aic.ll2": aic + (2.0 * k * (k + 1)) / (j - k - 1) if j - k - 1 > 0 else np.nan,
        "aic.x": t - 2.0 * df,
        "aic.x2": t + 2.0 * k,
        "bic": bic,
        "bic2": -2.0 * inp.logl + k * np.log((j + 2.0) / 24.0),
        "ebic.25": ebic[0.25],
        "ebic.5": ebic[0.5],
        "ebic.75": ebic[0.75],
        "ebic1": ebic[1.0],
        "nclusters": j,
        "nunits": inp.n_units,
    }
    return pd.Series(values, name="value", dtype=float)


def srmr(sample_cov: np.ndarray, implied_cov: np.ndarray) -> float:
    """SRMR of one level, as lavaan reports ``srmr_within`` / ``srmr_between``.

    Root mean square, over the lower triangle with the diagonal, of the
    differences between the correlation matrices of the unrestricted
    (saturated) and the implied covariance.  Mean residuals are not included.
    """
    from ..linalg import cov2cor

    resid = cov2cor(sample_cov) - cov2cor(implied_cov)
    r, c = np.tril_indices(sample_cov.shape[0])
    return float(np.sqrt(np.mean(np.square(resid[r, c]))))


# ------------------------------------------------------------------------------ of a fitted model
def model_fit(model: "FittedModel") -> pd.Series:
    """Every fit measure of a fitted model, with ``attrs`` saying which SEs and test it reports, why the
    measures built on the reference models are unavailable (``"unavailable"``) and a ``"warning"`` when
    the model did not converge or beats the saturated model (an improper solution)."""
    from .._warn import warn
    from ..exceptions import ImproperSolutionWarning

    fitted = model.fitted
    assert fitted is not None
    ref = model.reference
    srmr_w, srmr_b = _srmr(model) if ref is not None else (np.nan, np.nan)
    # with fixed covariates, log-likelihoods are conditional on them (see families.ml_lvm.exogenous)
    shift = model.exogenous.loglik if model.exogenous is not None else 0.0
    fixed_moments = model.exogenous.n_moments if model.exogenous is not None else 0
    inputs = FitInputs(
        logl=fitted.loglik - shift,
        npar=model.npar,
        unrestricted_logl=ref.saturated.loglik - shift if ref is not None else np.nan,
        baseline_logl=ref.baseline.loglik - shift if ref is not None else np.nan,
        baseline_npar=ref.baseline_npar - fixed_moments if ref is not None else 0,
        nvar=model.family.n_vars,
        nobs=model.nobs,
        n_clusters=model.n_clusters,
        n_units=model.n_units,
        n_groups=len(model.stats),
        objective=-2.0 * (fitted.loglik - shift) / model.n_units,
        srmr_within=srmr_w,
        srmr_between=srmr_b,
    )
    series = fit_measures(inputs)
    if model.estimator.robust:
        from .robust import robust_fit_measures

        series = pd.concat([series, pd.Series(robust_fit_measures(model, series))])
    series.attrs["se"] = model.estimator.se_label(fitted.information_kind)
    series.attrs["test"] = model.estimator.test_label()
    unavailable = reference_unavailable(model)
    if unavailable:
        series[[k for k in series.index if k in REFERENCE_MEASURES or "scal" in k or "robust" in k]] = np.nan
        series.attrs["unavailable"] = f"chi-square and the fit measures built on it are unavailable: {unavailable}"
        if not model.family.references().saturated:  # no saturated model: no sample moments, no df against it
            series[["nobs", "df", "baseline.df"]] = np.nan
    if not fitted.result.converged:
        series.attrs["warning"] = "the model did not converge: these fit measures are unreliable"
    elif not unavailable and series["chisq"] < 0:
        series.attrs["warning"] = (
            "negative chi-square: the model's implied covariance is not positive semi-definite (an improper "
            "solution) and fits better than the saturated model, which keeps Sigma_W and Sigma_B positive "
            "semi-definite (as psychonetrics)"
        )
        warn(f"Fit: {series.attrs['warning']}.", ImproperSolutionWarning)
    return series


def reference_unavailable(model: "FittedModel") -> str:
    """Why the comparisons with the saturated model are unavailable ("" when they are available)."""
    references = model.family.references()
    if not references.saturated:
        return references.unavailable or "the model has no saturated model"
    if model.reference is None:
        return "the saturated and baseline models were skipped (runmodel(reference=False))"
    p_b = model.family.roles.between.size
    for st in model.stats:
        if st.n_clusters <= p_b:
            where = "" if st.group is None else f" group {st.group!r} has"
            return (f"{where or 'the data have'} {st.n_clusters} clusters for {p_b} variables, so the "
                    "covariance of the cluster means is singular and the saturated between level degenerate")
    return ""


def _srmr(model: "FittedModel") -> tuple[float, float]:
    """SRMR of each level over that level's variables (lavaan's srmr_within / srmr_between)."""
    fitted, ref = model.fitted, model.reference
    assert fitted is not None and ref is not None
    w_idx, b_idx = model.family.roles.within, model.family.roles.between
    w, b = [], []
    for mom, sat in zip(fitted.moments, ref.saturated.moments):
        w.append(srmr(sat.sigma_within[np.ix_(w_idx, w_idx)], mom.sigma_within[np.ix_(w_idx, w_idx)]))
        b.append(srmr(sat.sigma_between[np.ix_(b_idx, b_idx)], mom.sigma_between[np.ix_(b_idx, b_idx)]))
    if not w:
        return np.nan, np.nan
    return float(np.mean(w)), float(np.mean(b))
