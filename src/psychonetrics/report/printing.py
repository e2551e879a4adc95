"""Text and HTML views of a model, in the spirit of psychonetrics' print method."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..fitting.optimize import AT_BOUNDARY

if TYPE_CHECKING:
    from ..interface import FittedModel

def se_label(model: "FittedModel") -> str:
    """Which standard errors a fitted model reports."""
    fitted = model.fitted
    return "" if fitted is None else model.estimator.se_label(fitted.information_kind)


def _fmt(x: float, digits: int = 3) -> str:
    if x is None or not np.isfinite(x):
        return "NA"
    return f"{x:.{digits}f}"


def model_text(model: "FittedModel") -> str:
    """The text printed by ``print(model)``."""
    lines = [f"psychonetrics {model.wrapper} model (family {model.family.name})", f"  Types: {model.family.types_line()}"]
    optimizer = model.estimator.optimizer if model.optimizer == "default" else model.optimizer
    lines.append(f"  Estimator: {model.estimator.describe(model.stats)}; optimizer: {optimizer}")
    groups = len(model.stats)
    clusters, units = model.family.unit_names()
    lines.append(
        f"  {clusters.capitalize()}: {model.n_clusters}, {units}: {model.n_units}, {model.family.variables_text()}, "
        f"parameters: {model.npar}"
        + (f", groups: {groups} ({', '.join(model.group_labels)})" if groups > 1 else "")
    )
    lines.extend(f"  {line}" for line in model.family.data_lines())
    fitted = model.fitted
    if fitted is None:
        lines.append("  Not yet fitted: call runmodel().")
        return "\n".join(lines)
    res = fitted.result
    status = ("DID NOT CONVERGE" if not res.converged else
              "converged at the boundary of the parameter space" if res.message.startswith(AT_BOUNDARY) else "converged")
    lines.append(f"  Optimization: {status} in {res.iterations} iterations ({res.optimizer}; gradient norm "
                 f"{res.gradient_norm:.2e}); {se_label(model)}")
    if not res.converged:
        lines.append("  WARNING: the model did not converge; estimates and fit measures are unreliable.")
    fit = model.fit()
    lines.append("")
    if "unavailable" in fit.attrs:
        df = f"df = {int(fit['df'])}" if np.isfinite(fit["df"]) else f"parameters = {model.npar}"
        lines.append(f"  logl = {fit['logl']:.3f}, {df}")
        lines.append(f"  Chi-square, CFI, TLI, RMSEA and SRMR: unavailable ({fit.attrs['unavailable'].split(': ', 1)[1]})")
    else:
        lines.append(f"  logl = {fit['logl']:.3f}, unrestricted.logl = {fit['unrestricted.logl']:.3f}")
        lines.append(f"  chisq({int(fit['df'])}) = {_fmt(fit['chisq'])}, p = {_fmt(fit['pvalue'], 4)}")
        lines.append(
            f"  CFI = {_fmt(fit['cfi'])}, TLI = {_fmt(fit['tli'])}, RMSEA = {_fmt(fit['rmsea'])} "
            f"[{_fmt(fit['rmsea.ci.lower'])}, {_fmt(fit['rmsea.ci.upper'])}] (J-based)"
        )
        if model.robust and not np.isfinite(fit["chisq.scaled"]):
            lines.append("  Scaled (Yuan-Bentler) test: unavailable (the saturated model's information at its estimates "
                         "is not positive definite: a between covariance on its boundary)")
        elif model.robust:
            lines.append(
                f"  Scaled (Yuan-Bentler, Mplus MLR): chisq({int(fit['df'])}) = {_fmt(fit['chisq.scaled'])}, "
                f"p = {_fmt(fit['pvalue.scaled'], 4)}, scaling factor = {_fmt(fit['chisq.scaling.factor'], 4)}"
            )
            lines.append(
                f"  Robust CFI = {_fmt(fit['cfi.robust'])}, TLI = {_fmt(fit['tli.robust'])}; scaled CFI = "
                f"{_fmt(fit['cfi.scaled'])}, TLI = {_fmt(fit['tli.scaled'])}, RMSEA = {_fmt(fit['rmsea.scaled'])}"
            )
        lines.append(f"  SRMR within = {_fmt(fit['srmr_within'])}, between = {_fmt(fit['srmr_between'])}")
    lines.append(f"  AIC = {_fmt(fit['aic.ll'], 2)}, BIC = {_fmt(fit['bic'], 2)} (log J), EBIC(0.5) = {_fmt(fit['ebic.5'], 2)}")
    return "\n".join(lines)


def fit_table(model: "FittedModel") -> str:
    """Two-column text table of every fit measure."""
    fit = model.fit()
    width = max(len(k) for k in fit.index)
    rows = [f"{'Measure':<{width}}  Value"]
    for k, v in fit.items():
        text = f"{v:.0f}" if float(v).is_integer() and abs(v) < 1e12 else f"{v:.6g}"
        rows.append(f"{k:<{width}}  {text}")
    return "\n".join(rows)


def _stars(p: float) -> str:
    if not np.isfinite(p):
        return ""
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else ""


def parameters_text(model: "FittedModel", *, digits: int = 3) -> str:
    """Parameters grouped by matrix, as psychonetrics prints them."""
    frame = model.parameters()
    out = []
    shown = ~frame["fixed"] | (frame["est"].abs() > 0)
    for (group, matrix), sub in frame.loc[shown].groupby(["group", "matrix"], sort=False):
        header = f" - {matrix}" + (f" (group {group})" if len(model.stats) > 1 else "")
        out.append(header)
        table = pd.DataFrame({
            "var1": sub["var1"], "op": sub["op"], "var2": sub["var2"],
            "est": sub["est"].map(lambda v: f"{v:.{digits}f}"),
            "se": sub["se"].map(lambda v: "" if not np.isfinite(v) else f"{v:.{digits}f}"),
            "p": sub["p"].map(lambda v: "" if not np.isfinite(v) else ("< 0.0001" if v < 1e-4 else f"{v:.4f}")),
            "": sub["p"].map(_stars),
            "row": sub["row"], "col": sub["col"], "par": sub["par"],
        })
        out.append(table.to_string(index=False))
        out.append("")
    return "\n".join(out)


def model_html(model: "FittedModel") -> str:
    """HTML for Jupyter: the printed header, then (when fitted) the main fit measures and the
    parameters grouped by matrix as tables."""
    parts = [f"<pre>{html.escape(model_text(model))}</pre>"]
    if model.fitted is None:
        return "".join(parts)
    keys = ["chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr_within", "srmr_between", "aic.ll", "bic"]
    if model.robust:
        keys[3:3] = ["chisq.scaled", "pvalue.scaled", "chisq.scaling.factor", "cfi.robust", "tli.robust"]
    fit = model.fit()[keys].to_frame("value")
    parts.append("<h4>Fit</h4>" + fit.to_html(float_format=lambda v: f"{v:.4g}"))
    frame = model.parameters()
    shown = frame.loc[~frame["fixed"] | (frame["est"].abs() > 0),
                      ["group", "matrix", "var1", "op", "var2", "est", "se", "p", "note"]]
    parts.append("<h4>Parameters</h4>" + shown.to_html(index=False, float_format=lambda v: f"{v:.3f}", na_rep=""))
    return "".join(parts)
