"""Pure edits of the parameter table: fix, free, and equality across groups.

Elements are addressed as in ``parameters()``: matrix name, row and column
as 1-based integers (as psychonetrics) or as variable / latent labels.
Symmetric matrices are addressed by either triangle.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._arg import preview
from .table import ParTable


def _index(value: int | str, labels: Sequence[str], *, argument: str, matrix: str) -> int:
    if isinstance(value, str):
        if value not in labels:
            raise ValueError(f"`{argument}`: {value!r} is not a {argument} label of {matrix} (labels: {preview(labels)}).")
        return list(labels).index(value)
    if isinstance(value, (int, np.integer)) and 1 <= int(value) <= len(labels):
        return int(value) - 1
    raise ValueError(
        f"`{argument}`: expected a label or a 1-based index 1..{len(labels)} of {matrix}, got {value!r}."
    )


def element_rows(table: ParTable, matrix: str, row: int | str, col: int | str = 1,
                 group: int | str | None = None) -> np.ndarray:
    """Table rows of one matrix element (one per group, or the named group)."""
    if matrix not in table.spec_index:
        raise ValueError(f"`matrix`: {matrix!r} is not a model matrix (matrices: {preview([s.name for s in table.specs], 40)}).")
    k = table.spec_index[matrix]
    spec = table.specs[k]
    r = _index(row, spec.row_labels, argument="row", matrix=matrix)
    c = _index(col, spec.col_labels, argument="col", matrix=matrix)
    if spec.storage in ("symmetric",) and r < c:
        r, c = c, r
    if spec.storage == "lowertri" and r < c:
        raise ValueError(f"`row`/`col`: {matrix} is lower triangular; element ({r + 1}, {c + 1}) is structurally zero.")
    if spec.storage == "diagonal" and r != c:
        raise ValueError(f"`row`/`col`: {matrix} is diagonal; only diagonal elements exist.")
    if spec.fixed_diagonal is not None and r == c:
        raise ValueError(f"`row`/`col`: the diagonal of {matrix} is fixed at {spec.fixed_diagonal} by definition.")
    sel = (table.matrix == k) & (table.row == r) & (table.col == c)
    if group is not None:
        labels = table.group_labels
        if isinstance(group, str):
            if group not in labels:
                raise ValueError(f"`group`: {group!r} is not a group (groups: {', '.join(labels)}).")
            g = labels.index(group)
        else:
            g = int(group)
            if not 0 <= g < len(labels):
                raise ValueError(f"`group`: expected a label or an index 0..{len(labels) - 1}, got {group!r}.")
        sel &= table.group == g
    return np.flatnonzero(sel)


def fix(table: ParTable, rows: np.ndarray, value: float | None = 0.0) -> ParTable:
    """Fix ``rows`` at ``value`` (None keeps their current value)."""
    par = table.par.copy()
    val = table.value.copy()
    par[rows] = 0
    if value is not None:
        val[rows] = float(value)
    ident = table.identification.copy()
    return table.with_columns(par=par, value=val, identification=ident)


def free(table: ParTable, rows: np.ndarray, start: float | None = None, *, shared: bool = False) -> ParTable:
    """Free ``rows``; each gets its own parameter, or one shared parameter when ``shared``."""
    par = table.par.copy()
    val = table.value.copy()
    nxt = table.n_free + 1
    for i in rows:
        if par[i] > 0 and not shared:
            continue
        par[i] = nxt
        if not shared:
            nxt += 1
    if start is not None:
        val[rows] = float(start)
    ident = table.identification.copy()
    ident[rows] = False
    return table.with_columns(par=par, value=val, identification=ident)


def group_equal(table: ParTable, rows: np.ndarray) -> ParTable:
    """Constrain the rows (one element across groups) to one parameter."""
    par = table.par.copy()
    free_rows = rows[par[rows] > 0]
    if free_rows.size < 2:
        raise ValueError("`groupequal`: the element must be free in at least two groups.")
    par[free_rows] = par[free_rows[0]]
    val = table.value.copy()
    val[free_rows] = table.value[free_rows].mean()
    return table.with_columns(par=par, value=val)


def group_free(table: ParTable, rows: np.ndarray) -> ParTable:
    """Give every free row its own parameter (remove an equality across groups)."""
    par = table.par.copy()
    nxt = table.n_free + 1
    seen = False
    for i in rows:
        if par[i] == 0:
            continue
        if not seen:
            seen = True
            continue
        par[i] = nxt
        nxt += 1
    return table.with_columns(par=par)
