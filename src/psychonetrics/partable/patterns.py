"""Pattern arguments -> integer codes per matrix element.

A pattern is ``"full"``, ``"diag"``, ``"zero"`` or an array:

* 0 = fixed (at zero, or at the value identification gives it),
* 1 = free,
* an integer k > 1 = free and equal to every other element labelled k
  anywhere in the model (labels are global across matrices and groups).

For symmetric matrices only the lower triangle counts.  For ``lambda`` a
non-integer value is a loading fixed at that value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .matrices import MatrixSpec

PATTERN_WORDS = ("full", "diag", "zero")


@dataclass(frozen=True)
class Pattern:
    """Parsed pattern of one matrix.

    Attributes
    ----------
    codes : (n, q) int array
        0 fixed, 1 free, > 1 equality label.
    fixed : (n, q) float array
        Value of each fixed element (NaN where free).
    """

    codes: np.ndarray
    fixed: np.ndarray


def parse_pattern(value: object, spec: MatrixSpec, *, argument: str, allow_fixed_values: bool = False) -> Pattern:
    """Parse one pattern argument for the matrix ``spec``.

    Raises
    ------
    ValueError
        Unknown word, wrong shape, or values that are not 0/1/integer labels.
    """
    n, q = spec.shape
    if isinstance(value, str):
        if value not in PATTERN_WORDS:
            raise ValueError(f"`{argument}`: {value!r} is not a pattern (expected 'full', 'diag', 'zero' or an array).")
        if value == "full":
            codes = np.ones((n, q), dtype=np.int64)
        elif value == "diag":
            if not spec.square:
                raise ValueError(f"`{argument}`: 'diag' needs a square matrix ({spec.name} is {n} x {q}).")
            codes = np.eye(n, dtype=np.int64)
        else:
            codes = np.zeros((n, q), dtype=np.int64)
        fixed = np.zeros((n, q))
    else:
        try:
            arr = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            raise TypeError(
                f"`{argument}`: expected 'full', 'diag', 'zero' or a numeric array, got {type(value).__name__}."
            ) from None
        if arr.ndim == 1 and q == 1 and arr.shape[0] == n:
            arr = arr.reshape(n, 1)
        if arr.shape != (n, q):
            raise ValueError(
                f"`{argument}`: expected shape {n} x {q} for {spec.name} "
                f"(rows: {len(spec.row_labels)}, columns: {len(spec.col_labels)}), got {' x '.join(map(str, arr.shape))}."
            )
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"`{argument}`: contains NaN or infinite values.")
        integral = arr == np.round(arr)
        fixed = np.zeros((n, q))
        if allow_fixed_values:
            fixed = np.where(integral, 0.0, arr)
            arr = np.where(integral, arr, 0.0)
        elif not integral.all():
            bad = arr[~integral][0]
            raise ValueError(
                f"`{argument}`: {bad!r} is not a pattern code (expected 0 = fixed, 1 = free, "
                "or an integer > 1 = equality label)."
            )
        if (arr < 0).any():
            raise ValueError(f"`{argument}`: negative codes are not allowed (0 fixed, 1 free, > 1 equality label).")
        codes = arr.astype(np.int64)
        if spec.storage == "symmetric":
            low = np.tril(codes)
            codes = low + np.tril(low, -1).T
            fixed = np.tril(fixed) + np.tril(fixed, -1).T
        elif spec.storage == "diagonal":
            off = codes - np.diag(np.diag(codes))
            if off.any():
                raise ValueError(f"`{argument}`: {spec.name} is diagonal; off-diagonal elements must be 0.")
        elif spec.storage == "lowertri":
            codes = np.tril(codes)
    if spec.fixed_diagonal is not None:
        np.fill_diagonal(codes, 0)
        np.fill_diagonal(fixed, spec.fixed_diagonal)
    return Pattern(codes=codes, fixed=fixed)
