"""Thresholded matrices: a model matrix with its non-significant free elements set to zero."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..linalg import FloatArray
from .padjust import p_adjust

if TYPE_CHECKING:
    from ..interface import FittedModel


def thresholded(model: "FittedModel", matrix: str, group: int, *, alpha: float, adjust: str) -> FloatArray:
    """``matrix`` of ``group`` (an index) with every tested free element whose ``adjust``-ed Wald p-value
    exceeds ``alpha`` (or is NaN) set to zero; which elements are tested is the matrix spec's rule
    (:meth:`~psychonetrics.partable.matrices.MatrixSpec.tested`: not the diagonal of a covariance-like
    matrix)."""
    frame = model.parameters()
    table = model.table
    sel = frame[(frame["matrix"] == matrix) & (frame["group"] == model.group_labels[group]) & ~frame["fixed"]]
    spec = table.specs[table.spec_index[matrix]]
    sel = sel[spec.tested(sel["row"].to_numpy() - 1, sel["col"].to_numpy() - 1)]
    mat = table.matrices(table.value, group)[matrix].copy()
    p = p_adjust(sel["p"].to_numpy(dtype=float), adjust)
    for (r, c), pv in zip(zip(sel["row"] - 1, sel["col"] - 1), p):
        if not pv <= alpha:
            mat[r, c] = 0.0
            if spec.symmetric:
                mat[c, r] = 0.0
    return mat
