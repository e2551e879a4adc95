"""The parameters() DataFrame: one row per matrix element of interest."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as sps

from ..spec.partable import ParTable

COLUMNS = ["var1", "op", "var2", "est", "se", "z", "p", "matrix", "row", "col", "group", "par", "fixed"]


def labels(table: ParTable) -> tuple[list[str], list[str], list[str]]:
    """(var1, op, var2) of every row, lavaan-like.

    lambda: ``latent =~ observed``; beta: ``eta_i ~ eta_j`` (effect of
    eta_j on eta_i); intercepts ``var ~1``; covariance-type matrices
    ``var1 <op> var2`` with the matrix's operator (``~~``, ``--``, ...).
    """
    var1, ops, var2 = [], [], []
    for k, r, c in zip(table.matrix.tolist(), table.row.tolist(), table.col.tolist()):
        spec = table.specs[k]
        if spec.kind == "lambda":
            var1.append(spec.col_labels[c])
            var2.append(spec.row_labels[r])
        elif spec.op == "~1":
            var1.append(spec.row_labels[r])
            var2.append("")
        else:
            var1.append(spec.row_labels[r])
            var2.append(spec.col_labels[c])
        ops.append(spec.op)
    return var1, ops, var2


def parameter_frame(table: ParTable, se: np.ndarray | None) -> pd.DataFrame:
    """Parameter table with estimates, standard errors, z and two-sided Wald p-values.

    Every stored element is listed (fixed elements with ``fixed=True`` and no
    SE), except the fixed diagonals of beta / omega / rho, which are structural.
    """
    var1, ops, var2 = labels(table)
    free = table.par > 0
    se_rows = np.full(table.n_rows, np.nan)
    if se is not None and free.any():
        se_rows[free] = se[table.par[free] - 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(free, table.value / se_rows, np.nan)
    p = np.where(np.isfinite(z), 2.0 * sps.norm.sf(np.abs(z)), np.nan)
    frame = pd.DataFrame(
        {
            "var1": var1,
            "op": ops,
            "var2": var2,
            "est": table.value,
            "se": se_rows,
            "z": z,
            "p": p,
            "matrix": table.names(),
            "row": table.row + 1,
            "col": table.col + 1,
            "group": np.array(table.group_labels, dtype=object)[table.group],
            "par": table.par,
            "fixed": ~free,
        }
    )
    structural = np.array(
        [table.specs[k].fixed_diagonal is not None and r == c
         for k, r, c in zip(table.matrix.tolist(), table.row.tolist(), table.col.tolist())]
    )
    return frame.loc[~structural].reset_index(drop=True)
