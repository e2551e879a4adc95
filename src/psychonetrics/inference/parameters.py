"""The parameters() DataFrame: one row per matrix element of interest."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..families.base import ElementLabels
from ..partable.table import ParTable


def parameter_frame(table: ParTable, se: np.ndarray | None, labels: ElementLabels) -> pd.DataFrame:
    """Parameter table with estimates, standard errors, z and two-sided Wald p-values.

    Every stored element is listed (fixed elements with ``fixed=True`` and no
    SE) with the level it belongs to, except structural elements (see
    :meth:`~psychonetrics.families.base.Family.describe`).
    """
    from scipy import stats as sps

    free = table.par > 0
    se_rows = np.full(table.n_rows, np.nan)
    if se is not None and free.any():
        se_rows[free] = se[table.par[free] - 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(free, table.value / se_rows, np.nan)
    p = np.where(np.isfinite(z), 2.0 * sps.norm.sf(np.abs(z)), np.nan)
    frame = pd.DataFrame(
        {
            "var1": labels.var1,
            "op": labels.op,
            "var2": labels.var2,
            "est": table.value,
            "se": se_rows,
            "z": z,
            "p": p,
            "level": labels.level,
            "matrix": table.names(),
            "row": table.row + 1,
            "col": table.col + 1,
            "group": np.array(table.group_labels, dtype=object)[table.group],
            "par": table.par,
            "fixed": ~free,
        }
    )
    return frame.loc[~labels.structural].reset_index(drop=True)
