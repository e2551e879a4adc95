"""Modification indices: the score test (1 df) of freeing one fixed element.

For a candidate element psi with all free parameters theta at their
estimates (so d logL / d theta = 0)::

    MI  = g_psi^2 / (I_psi,psi - I_psi,theta I_theta,theta^-1 I_theta,psi)
    EPC = g_psi   / (I_psi,psi - I_psi,theta I_theta,theta^-1 I_theta,psi)

with g and I the gradient and expected information of logL with respect to
table rows (``J_rows' (d logL / d phi)`` and ``J_rows' I(phi) J_rows``).

Multi-group, as psychonetrics: ``mi`` frees the element in its group only;
``mi_equal`` frees it in every group as one parameter (equal across
groups); ``mi_free`` (for a free element constrained equal across groups)
releases this group's copy from the equality.

With missing data the complete-data expected information is used (an
approximation; stated in the output's ``information`` attribute).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..families.base import ElementLabels
from ..fitting.objective import Objective

if TYPE_CHECKING:
    from ..interface import FittedModel


def _row_quantities(model: "FittedModel", rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gradient (R,) and expected information (R, R) of logL per table row in ``rows``."""
    table = model.table
    obj = Objective(model.family, table, model.stats, model.estimator.routes(model.stats, model.family.roles))
    columns = np.full(table.n_rows, -1, dtype=np.int64)
    columns[rows] = np.arange(rows.size)
    ev = obj.evaluate(table.start_vector(), gradient=True, information=True, columns=columns, n_columns=rows.size)
    return ev.gradient, ev.information  # type: ignore[return-value]


def _score_tests(grad: np.ndarray, info: np.ndarray, free_map: np.ndarray, columns: np.ndarray,
                 ) -> tuple[np.ndarray, np.ndarray]:
    """MI and EPC for each candidate direction (columns of ``columns``: (R, n_cand)).

    ``grad`` and ``info`` are per row (R rows); ``free_map`` (R, n_free) maps
    rows to free parameters.
    """
    i_tt = free_map.T @ info @ free_map
    i_tc = free_map.T @ info @ columns
    i_cc = np.einsum("rc,rs,sc->c", columns, info, columns)
    solved = np.linalg.lstsq(i_tt, i_tc, rcond=None)[0] if i_tt.size else np.zeros_like(i_tc)
    cond = i_cc - np.einsum("tc,tc->c", i_tc, solved)
    g = grad @ columns
    with np.errstate(divide="ignore", invalid="ignore"):
        ok = cond > 1e-10 * np.maximum(i_cc, 1e-300)
        mi = np.where(ok, g * g / cond, np.nan)
        epc = np.where(ok, g / cond, np.nan)
    return mi, epc


def candidate_mask(model: "FittedModel", labels: ElementLabels | None = None) -> np.ndarray:
    """Fixed rows that could be freed (not identification, not structural elements)."""
    table = model.table
    labels = model.family.describe(table) if labels is None else labels
    return (table.par == 0) & ~table.identification & ~labels.structural


def modification_indices(model: "FittedModel", *, matrices: Sequence[str] | None = None) -> pd.DataFrame:
    """MIs (and, multi-group, mi_equal / mi_free) sorted by MI, for every candidate element.

    ``matrices`` restricts the candidates to the named matrices (a search
    only needs its own), which keeps the cost down for wide models.
    """
    table = model.table
    labels = model.family.describe(table)
    mask = candidate_mask(model, labels)
    if matrices is not None:
        mask &= np.isin(table.names(), list(matrices))
    cand = np.flatnonzero(mask)
    free_rows = np.flatnonzero(table.par > 0)
    rows = np.concatenate([free_rows, cand])
    grad, info = _row_quantities(model, rows)
    free_map = np.zeros((rows.size, table.n_free))
    free_map[np.arange(free_rows.size), table.par[free_rows] - 1] = 1.0
    position = np.full(table.n_rows, -1, dtype=np.int64)
    position[rows] = np.arange(rows.size)
    cols = np.zeros((rows.size, cand.size))
    cols[position[cand], np.arange(cand.size)] = 1.0
    mi, epc = _score_tests(grad, info, free_map, cols)
    from scipy import stats as sps

    frame = _element_frame(table, labels, cand).assign(mi=mi, pmi=sps.chi2.sf(mi, 1), epc=epc)
    if table.n_groups > 1:
        frame["mi_equal"] = _mi_equal(table, grad, info, free_map, cand, position)
        frame["pmi_equal"] = sps.chi2.sf(frame["mi_equal"], 1)
        shared = _shared_free_rows(table)
        if shared.size:
            cols = np.zeros((rows.size, shared.size))
            cols[position[shared], np.arange(shared.size)] = 1.0
            mi_free, epc_free = _score_tests(grad, info, free_map, cols)
            extra = _element_frame(table, labels, shared).assign(
                mi_free=mi_free, pmi_free=sps.chi2.sf(mi_free, 1), epc_free=epc_free)
            frame = pd.concat([frame, extra], ignore_index=True)
    frame = frame.sort_values("mi", ascending=False, na_position="last", kind="stable").reset_index(drop=True)
    frame.attrs["information"] = "expected" if all(s.complete for s in model.stats) else "expected (complete-data)"
    return frame


def _element_frame(table, labels: ElementLabels, rows: np.ndarray) -> pd.DataFrame:  # noqa: ANN001
    """Labels and 1-based positions of table ``rows``, as in ``parameters()``."""
    return pd.DataFrame({
        "var1": labels.var1[rows],
        "op": labels.op[rows],
        "var2": labels.var2[rows],
        "level": labels.level[rows],
        "matrix": table.names()[rows],
        "row": table.row[rows] + 1,
        "col": table.col[rows] + 1,
        "group": np.array(table.group_labels, dtype=object)[table.group[rows]],
    })


def _mi_equal(table, grad, info, free_map, cand, position) -> np.ndarray:  # noqa: ANN001
    """Score test of freeing a fixed element in every group as one shared parameter."""
    key = np.stack([table.matrix, table.row, table.col], axis=1)
    cols = np.zeros((grad.size, cand.size))
    in_cand = np.zeros(table.n_rows, dtype=bool)
    in_cand[cand] = True
    for j, i in enumerate(cand):
        same = np.flatnonzero((key == key[i]).all(axis=1) & in_cand)
        cols[position[same], j] = 1.0
    mi, _ = _score_tests(grad, info, free_map, cols)
    return mi


def _shared_free_rows(table) -> np.ndarray:  # noqa: ANN001
    """Free rows whose parameter is shared with a row of another group."""
    free = np.flatnonzero(table.par > 0)
    out = []
    for i in free:
        same = (table.par == table.par[i]) & (table.group != table.group[i])
        if same.any():
            out.append(i)
    return np.asarray(out, dtype=np.int64)
