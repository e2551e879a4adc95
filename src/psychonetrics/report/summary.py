"""The summary of a fitted model: one object that prints as text and displays as HTML in Jupyter.

``print(model.summary())`` gives the printed model followed by its
parameters grouped by matrix, as psychonetrics prints them; in Jupyter the
same summary displays as tables (``_repr_html_``).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from .printing import model_text, parameters_text

if TYPE_CHECKING:
    from ..interface import FittedModel

# fit measures shown in the HTML view, in order (the robust ones only for MLR fits, which have them)
HTML_MEASURES = ("chisq", "df", "pvalue", "chisq.scaled", "pvalue.scaled", "chisq.scaling.factor", "cfi", "tli",
                 "cfi.robust", "tli.robust", "rmsea", "srmr_within", "srmr_between", "aic.ll", "bic")


@dataclass(frozen=True, eq=False)
class Summary:
    """Summary of a fitted model.

    Attributes
    ----------
    header : str
        The printed model (``print(model)``): types, estimator, optimization and fit.
    estimates : str
        The parameters grouped by matrix, as text.
    fit : Series
        Every fit measure (``model.fit()``).
    parameters : DataFrame
        The parameter table (``model.parameters()``).
    multigroup : bool
        Whether the model has several groups (the HTML tables then name the group).
    """

    header: str
    estimates: str
    fit: pd.Series
    parameters: pd.DataFrame
    multigroup: bool = False

    def __str__(self) -> str:
        return self.header + "\n\nParameter estimates:\n" + self.estimates

    __repr__ = __str__

    def _repr_html_(self) -> str:
        parts = [f"<pre>{html.escape(self.header)}</pre>"]
        keys = [k for k in HTML_MEASURES if k in self.fit.index]
        fit = self.fit[keys].to_frame("value")
        parts.append("<h4>Fit</h4>" + fit.to_html(float_format=lambda v: f"{v:.4g}"))
        frame = self.parameters
        shown = frame.loc[~frame["fixed"] | (frame["est"].abs() > 0)]
        columns = ["var1", "op", "var2", "est", "se", "p", "note", "row", "col", "par"]
        parts.append("<h4>Parameter estimates</h4>")
        for (group, matrix), sub in shown.groupby(["group", "matrix"], sort=False):
            title = html.escape(matrix + (f" (group {group})" if self.multigroup else ""))
            table = sub[[c for c in columns if c in sub]].to_html(index=False, float_format=lambda v: f"{v:.3f}",
                                                                  na_rep="")
            parts.append(f"<h5>{title}</h5>{table}")
        return "".join(parts)


def summarize(model: "FittedModel") -> Summary:
    """The :class:`Summary` of a fitted ``model``."""
    return Summary(header=model_text(model), estimates=parameters_text(model), fit=model.fit(),
                   parameters=model.parameters(), multigroup=len(model.stats) > 1)


__all__ = ["Summary", "summarize"]
