"""The parameter table: the single source of truth of a model's parameters.

One row per stored matrix element per group (see
:mod:`psychonetrics.partable.matrices` for what each storage kind stores).
``par`` numbers the free parameters 1..n_free; 0 marks a fixed element; rows
sharing a ``par`` are constrained equal.  The map from the free-parameter
vector to model matrices, and its Jacobian, are derived from the table and
never kept beside it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np

from ..derivatives import Elements
from ..linalg import FloatArray, read_only
from .matrices import MatrixSpec

COLUMNS = ("group", "matrix", "row", "col", "par", "value", "lower", "upper", "identification")
#: Cached properties that depend on the table's structure only, not on its values (kept by ``with_values``).
_STRUCTURAL = ("spec_index", "_names", "free_rows", "free_elements", "_layout")


@dataclass(frozen=True, eq=False)
class ParTable:
    """Parameter table of a model (all groups).

    Columns are read-only numpy arrays of equal length (one entry per row);
    edit a copy and make a new table (:meth:`with_columns`).

    Attributes
    ----------
    specs : tuple of MatrixSpec
        The matrices of one group, in order; every group has the same.
    group : int array
    matrix : int array
        Index into ``specs``.
    row, col : int arrays
    par : int array
        Free-parameter number (1-based), 0 when fixed.
    value : float array
        Fixed value (fixed rows) or current value (free rows).
    lower, upper : float arrays
        Bounds of free rows (-inf / inf when unbounded).
    identification : bool array
        True for rows fixed by the identification rules (never MI candidates).
    group_labels : tuple of str
    """

    specs: tuple[MatrixSpec, ...]
    group: np.ndarray
    matrix: np.ndarray
    row: np.ndarray
    col: np.ndarray
    par: np.ndarray
    value: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    identification: np.ndarray
    group_labels: tuple[str, ...] = ("1",)

    def __post_init__(self) -> None:
        for name in COLUMNS:
            object.__setattr__(self, name, read_only(getattr(self, name)))

    # ------------------------------------------------------------ basics
    @property
    def n_rows(self) -> int:
        return int(self.par.size)

    @property
    def n_free(self) -> int:
        return int(self.par.max()) if self.par.size else 0

    @property
    def n_groups(self) -> int:
        return len(self.group_labels)

    @cached_property
    def spec_index(self) -> dict[str, int]:
        return {s.name: k for k, s in enumerate(self.specs)}

    def names(self) -> np.ndarray:
        """Matrix name of every row (read-only)."""
        return self._names

    @cached_property
    def _names(self) -> np.ndarray:
        out = np.array([s.name for s in self.specs], dtype=object)[self.matrix]
        out.flags.writeable = False
        return out

    def with_columns(self, **columns: np.ndarray) -> "ParTable":
        """A new table with some columns replaced (free parameters renumbered)."""
        new = replace(self, **columns)
        if columns.keys() <= {"value"}:  # same structure: no renumbering, and the structural caches stay
            new.__dict__.update({k: v for k, v in self.__dict__.items() if k in _STRUCTURAL})
            return new
        return new.renumbered()

    def renumbered(self) -> "ParTable":
        """Renumber ``par`` to 1..n_free in order of first appearance."""
        par = self.par
        free = par > 0
        if not free.any():
            return self
        _, first, inverse = np.unique(par[free], return_index=True, return_inverse=True)
        order = np.argsort(np.argsort(first))
        new = np.zeros_like(par)
        new[free] = order[inverse.reshape(-1)] + 1
        if np.array_equal(new, par):
            return self
        return replace(self, par=new)

    # ---------------------------------------------------- free parameters
    @cached_property
    def free_rows(self) -> np.ndarray:
        """Index of the first row of each free parameter, (n_free,)."""
        free = np.flatnonzero(self.par > 0)
        _, first = np.unique(self.par[free], return_index=True)
        return read_only(free[first])

    def start_vector(self) -> FloatArray:
        """Current values of the free parameters (mean over equal rows), (n_free,)."""
        free = self.par > 0
        sums = np.bincount(self.par[free] - 1, weights=self.value[free], minlength=self.n_free)
        counts = np.bincount(self.par[free] - 1, minlength=self.n_free)
        return sums / np.maximum(counts, 1)

    def bounds(self) -> tuple[FloatArray, FloatArray]:
        """Lower and upper bound of each free parameter (tightest over equal rows)."""
        lo = np.full(self.n_free, -np.inf)
        hi = np.full(self.n_free, np.inf)
        free = np.flatnonzero(self.par > 0)
        np.maximum.at(lo, self.par[free] - 1, self.lower[free])
        np.minimum.at(hi, self.par[free] - 1, self.upper[free])
        return lo, hi

    def strict_bounds(self) -> np.ndarray:
        """Per free parameter: whether its lower bound is open (see ``MatrixSpec.strict_lower``)."""
        strict = np.array([self.specs[k].strict_lower for k in self.matrix[self.free_rows]], dtype=bool)
        return strict & np.isfinite(self.bounds()[0])

    def values_at(self, x: FloatArray) -> FloatArray:
        """Row values with free rows set from ``x`` (n_free,)."""
        values = self.value.copy()
        free = self.par > 0
        values[free] = x[self.par[free] - 1]
        return values

    def with_values(self, x: FloatArray) -> "ParTable":
        """A new table whose free rows hold ``x`` (sharing this table's structure and its cached layouts)."""
        return self.with_columns(value=self.values_at(x))

    @cached_property
    def free_elements(self) -> tuple[tuple[np.ndarray, Elements, np.ndarray, bool], ...]:
        """Per group, the elements of its free rows: (table rows, their :class:`Elements`, the free
        parameter (0-based) of each, whether those are distinct), the columns of d phi / d theta."""
        return tuple(self.elements(g, self.par - 1) for g in range(self.n_groups))

    def elements(self, group: int, columns: np.ndarray) -> tuple[np.ndarray, Elements, np.ndarray, bool]:
        """The rows of ``group`` with a column (``columns`` >= 0, one entry per row) as in :attr:`free_elements`."""
        rows = np.flatnonzero((self.group == group) & (columns >= 0))
        elements = Elements.of(self.names()[rows], self.row[rows], self.col[rows])
        target = columns[rows]
        return rows, elements, target, np.unique(target).size == target.size

    # ------------------------------------------------------- matrices
    @cached_property
    def _layout(self) -> list[list[tuple[MatrixSpec, np.ndarray]]]:
        """Per group, per matrix: (spec, row indices into the table in storage order)."""
        out = []
        for g in range(self.n_groups):
            in_group = self.group == g
            per = []
            for k, spec in enumerate(self.specs):
                idx = np.flatnonzero(in_group & (self.matrix == k))
                per.append((spec, idx))
            out.append(per)
        return out

    def pattern(self, group: int) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Per matrix of ``group``: codes (1 free, 0 fixed) and the values of fixed elements (0 where free)."""
        free = (self.par > 0).astype(float)
        codes = {k: v.astype(np.int64) for k, v in self.matrices(free, group).items()}
        fixed = self.matrices(np.where(self.par > 0, 0.0, self.value), group)
        return codes, fixed

    def matrices(self, values: FloatArray, group: int) -> dict[str, FloatArray]:
        """Model matrices of ``group`` filled from row ``values`` (n_rows,)."""
        mats: dict[str, FloatArray] = {}
        for spec, idx in self._layout[group]:
            m = np.zeros(spec.shape)
            r, c = self.row[idx], self.col[idx]
            v = values[idx]
            m[r, c] = v
            if spec.storage == "symmetric":
                m[c, r] = v
            mats[spec.name] = m
        return mats
