"""compare(): a table of nested (or non-nested) models fitted to the same data."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .._warn import warn
from ..exceptions import ComparisonWarning

if TYPE_CHECKING:
    from ..interface import FittedModel


def _same_statistics(a: "FittedModel", b: "FittedModel") -> bool:
    if len(a.stats) != len(b.stats):
        return False
    for sa, sb in zip(a.stats, b.stats):
        if sa is sb:
            continue
        if (sa.vars != sb.vars or sa.n_units != sb.n_units or sa.n_clusters != sb.n_clusters
                or not np.allclose(sa.within_cov, sb.within_cov, rtol=1e-12, atol=0)
                or not np.array_equal(sa.sizes, sb.sizes)
                or not np.allclose(sa.size_means, sb.size_means, rtol=1e-12, atol=1e-300)):
            return False
    return True


def compare(*models: "FittedModel", **named: "FittedModel") -> pd.DataFrame:
    """Compare fitted models as psychonetrics does: one row per model, sorted by df.

    Columns: model, DF, AIC, BIC, RMSEA, Chisq, Chisq_diff, DF_diff, p_value
    (the chi-square difference test against the previous row).  When every
    model is robust (``estimator="MLR"``), the difference test is the
    scaled one of Satorra and Bentler (2001), as lavaan's
    ``lavTestLRT(method = "satorra.bentler.2001")``: with the standard
    chi-squares T, dfs d and scaling factors c of the two models (0: fewer
    df, 1: more df)::

        c_d = (d1 c1 - d0 c0) / (d1 - d0),   Chisq_diff = (T1 - T0) / c_d

    and the table gains ``Chisq_scaled`` (each model's scaled chi-square)
    and ``scaling_factor`` (c_d of each difference); ``Chisq`` stays the
    standard statistic, as in lavaan.

    Robust and standard (ML, FIML) models together: the chi-square
    difference of an ML and a robust model is not a valid test (the robust
    model's statistic needs its scaling, the ML model has none), so
    compare() warns (:class:`~psychonetrics.exceptions.ComparisonWarning`)
    and adds a ``test`` column saying which test each row uses: the scaled
    difference between two robust models, otherwise the standard difference
    of the (unscaled) chi-squares.  Fit every model with the same estimator
    for one valid test throughout.

    Parameters
    ----------
    *models : Model
        Fitted models, named ``Model 1``, ``Model 2``, ...
    **named : Model
        Fitted models named by their keyword.

    Returns
    -------
    pandas.DataFrame
        One row per model, sorted by DF.

    Models without a saturated model (``ml_var(..., estimator="FIML")``)
    have no chi-square and no df: their table is sorted by the number of
    parameters (most first) and the test is the likelihood ratio, with
    ``Chisq_diff`` = 2 |logl_a - logl_b| on ``DF_diff`` = |npar_a - npar_b|.

    Raises
    ------
    ValueError
        When fewer than two models are given, a model is not fitted, or the
        models were fitted to different data.

    Examples
    --------
    >>> import psychonetrics as pn
    >>> data = pn.datasets.seed_example()
    >>> ggm = pn.ml_ggm(data, clusters="cluster").runmodel()
    >>> table = pn.compare(saturated=ggm, pruned=ggm.prune(alpha=0.01))
    >>> table[["model", "DF", "BIC", "Chisq"]].round(1)
           model  DF      BIC  Chisq
    0  saturated   0  10474.3    0.0
    1     pruned  21  10428.8   40.4
    """
    items = [(f"Model {k + 1}", m) for k, m in enumerate(models)] + list(named.items())
    if len(items) < 2:
        raise ValueError("`models`: compare() needs at least two models.")
    for name, m in items:
        if not m.computed:
            raise ValueError(f"`{name}`: the model is not fitted; call runmodel() first.")
    first = items[0][1]
    for name, m in items[1:]:
        if not _same_statistics(first, m):
            raise ValueError(f"`{name}`: the models were fitted to different data; compare() needs the same data.")
    if any(not np.isfinite(m.fit()["df"]) for _, m in items):
        return _likelihood_ratio_table(items)
    rows = []
    for name, m in items:
        fit = m.fit()
        rows.append({"model": name, "DF": int(fit["df"]), "AIC": fit["aic.ll"], "BIC": fit["bic"],
                     "RMSEA": fit["rmsea"], "Chisq": fit["chisq"]})
    any_robust = any(m.robust for _, m in items)
    mixed = any_robust and not all(m.robust for _, m in items)
    for row, (_, m) in zip(rows, items):
        row["_robust"] = m.robust
        if any_robust:
            fit = m.fit()
            row["Chisq_scaled"] = fit["chisq.scaled"] if m.robust else np.nan
            row["_c"] = fit["chisq.scaling.factor"] if m.robust and fit["df"] > 0 else np.nan
    frame = pd.DataFrame(rows).sort_values("DF", kind="stable").reset_index(drop=True)
    robust = frame.pop("_robust").to_numpy(dtype=bool)
    chisq_diff = frame["Chisq"].diff().abs()
    df_diff = frame["DF"].diff().abs()
    if any_robust:
        d, c = frame["DF"].to_numpy(dtype=float), frame.pop("_c").to_numpy(dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            prod = np.where(d > 0, d * c, 0.0)  # a model with df 0 (saturated) contributes d c = 0
            c_d = np.concatenate([[np.nan], (prod[1:] - prod[:-1]) / (d[1:] - d[:-1])])
        scaled = np.concatenate([[False], robust[1:] & robust[:-1]])  # both models of the difference robust
        c_d = np.where(scaled, c_d, np.nan)
        frame["scaling_factor"] = c_d
        chisq_diff = chisq_diff.where(~scaled, chisq_diff / c_d)
    frame["Chisq_diff"] = chisq_diff
    frame["DF_diff"] = df_diff
    from scipy import stats as sps

    with np.errstate(invalid="ignore"):
        frame["p_value"] = [np.nan if not (d > 0 and np.isfinite(c)) else float(sps.chi2.sf(c, d))
                            for c, d in zip(chisq_diff, df_diff)]
    if mixed:
        frame["test"] = [""] + ["Satorra-Bentler 2001 (scaled)" if both else "standard (not valid: ML vs robust)"
                                if one else "standard" for both, one in zip(scaled[1:], robust[1:] | robust[:-1])]
        estimators = ", ".join(f"{name!r} ({m.estimator})" for name, m in items)
        pairs = [f"{frame['model'][k]} vs {frame['model'][k - 1]}: {frame['test'][k]}" for k in range(1, len(frame))]
        warn(f"compare(): the models mix standard and robust estimators ({estimators}); the chi-square "
             "difference of an ML and a robust (MLR) model is not a valid test. Tests used: "
             f"{'; '.join(pairs)}. Fit every model with estimator='MLR' for the Satorra-Bentler (2001) scaled "
             "difference throughout (see the `test` column).", ComparisonWarning)
    return frame


def _likelihood_ratio_table(items: list[tuple[str, "FittedModel"]]) -> pd.DataFrame:
    """compare() for models without a saturated model: likelihood-ratio tests between consecutive models
    ordered by their number of parameters (most first)."""
    from scipy import stats as sps

    fits = [(name, m.npar, m.fit()) for name, m in items]
    rows = [{"model": name, "npar": int(npar), "logl": fit["logl"], "AIC": fit["aic.ll"], "BIC": fit["bic"]}
            for name, npar, fit in fits]
    frame = pd.DataFrame(rows).sort_values("npar", ascending=False, kind="stable").reset_index(drop=True)
    frame["Chisq_diff"] = 2.0 * frame["logl"].diff().abs()
    frame["DF_diff"] = frame["npar"].diff().abs()
    frame["p_value"] = [float(sps.chi2.sf(c, d)) if d > 0 else np.nan
                        for c, d in zip(frame["Chisq_diff"], frame["DF_diff"])]
    return frame
