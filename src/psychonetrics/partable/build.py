"""Build the parameter table: patterns -> identification -> free-parameter numbers -> start values.

The identification rules belong to the family (``Family.identify``; for the
latent variable family see :mod:`psychonetrics.families.ml_lvm.identification`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .._arg import choice, preview
from ..data.stats import TwoLevelStats
from ..families.base import Family
from ..moments import Moments
from .patterns import Pattern, parse_pattern
from .table import ParTable

IDENTIFICATION = ("loadings", "variance")


def parse_patterns(family: Family, patterns: Mapping[str, object]) -> dict[str, Pattern]:
    """Parse every matrix pattern of ``family`` (defaults where not given)."""
    specs = {s.name: s for s in family.specs()}
    unknown = [k for k in patterns if k not in specs]
    if unknown:
        raise ValueError(
            f"unknown matrix name(s) {preview(unknown)} for {family.name} with these types "
            f"(matrices: {preview(specs)})."
        )
    defaults = family.default_patterns()
    out = {}
    for name, spec in specs.items():
        value = patterns.get(name)
        argument = name if name != "lambda" else "lambda_"
        if value is None:
            value = defaults[name]
        if isinstance(value, Pattern):  # compiled from model syntax: codes, labels and fixed values as given
            if value.codes.shape != spec.shape:
                raise ValueError(f"`{argument}`: expected shape {spec.shape}, got {value.codes.shape}.")
            codes, fixed = value.codes.copy(), value.fixed.copy()
            if spec.fixed_diagonal is not None:
                np.fill_diagonal(codes, 0)
                np.fill_diagonal(fixed, spec.fixed_diagonal)
            out[name] = Pattern(codes, fixed)
            continue
        out[name] = parse_pattern(value, spec, argument=argument, allow_fixed_values=spec.fixed_values)
    return out


def identify(
    family: Family,
    pats: dict[str, Pattern],
    *,
    method: str,
    group: int,
    equal: Sequence[str],
) -> tuple[dict[str, Pattern], set[tuple[str, int, int]]]:
    """Apply the family's identification rules; returns new patterns and the elements they fixed."""
    choice("identification", method, IDENTIFICATION)
    return family.identify(pats, method=method, group=group, equal=equal)


def build_partable(
    family: Family,
    group_patterns: Sequence[dict[str, Pattern]],
    group_marks: Sequence[set[tuple[str, int, int]]],
    *,
    equal: Sequence[str],
    group_labels: Sequence[str],
) -> ParTable:
    """Number the free parameters of every group (labels and ``equal`` share numbers)."""
    specs = tuple(family.specs())
    names = [s.name for s in specs]
    bad = [e for e in equal if e not in names]
    if bad:
        raise ValueError(f"`equal`: unknown matrix name(s) {preview(bad)} (matrices: {preview(names)}).")
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("group", "matrix", "row", "col", "code", "value", "lower", "ident")}
    for g, pats in enumerate(group_patterns):
        for k, spec in enumerate(specs):
            pat = pats[spec.name]
            rows, cs = spec.elements()
            codes = pat.codes[rows, cs]
            diag = rows == cs
            lower = np.full(rows.size, -np.inf)
            if spec.diagonal_lower is not None:
                lower[diag] = spec.diagonal_lower
            marks = group_marks[g]
            ident = np.array([(spec.name, r, c) in marks for r, c in zip(rows.tolist(), cs.tolist())], dtype=bool) \
                if marks else np.zeros(rows.size, dtype=bool)
            parts["group"].append(np.full(rows.size, g))
            parts["matrix"].append(np.full(rows.size, k))
            parts["row"].append(rows)
            parts["col"].append(cs)
            parts["code"].append(codes)
            parts["value"].append(np.where(codes == 0, pat.fixed[rows, cs], 0.0))
            parts["lower"].append(lower)
            parts["ident"].append(ident)
    cols = {k: np.concatenate(v) for k, v in parts.items()}
    par = _number_parameters(cols, specs, equal)
    table = ParTable(
        specs=specs,
        group=cols["group"].astype(np.int64),
        matrix=cols["matrix"].astype(np.int64),
        row=cols["row"].astype(np.int64),
        col=cols["col"].astype(np.int64),
        par=par,
        value=cols["value"].astype(float),
        lower=cols["lower"].astype(float),
        upper=np.full(par.size, np.inf),
        identification=cols["ident"],
        group_labels=tuple(group_labels),
    )
    return table.renumbered()


def _number_parameters(cols: dict[str, np.ndarray], specs: tuple, equal: Sequence[str]) -> np.ndarray:
    """Free-parameter numbers: 1 = a new parameter, labels > 1 shared model-wide, ``equal`` matrices
    shared with the first group's element (when free there)."""
    code = cols["code"]
    n = code.size
    par = np.zeros(n, dtype=np.int64)
    # key of an element within its group, to find the first group's copy
    key = (cols["matrix"] * 1_000_003 + cols["row"]) * 1_000_003 + cols["col"]
    first_group = cols["group"] == 0
    equal_idx = {i for i, s in enumerate(specs) if s.name in equal}
    in_equal = np.isin(cols["matrix"], list(equal_idx)) if equal_idx else np.zeros(n, dtype=bool)
    labels: dict[int, int] = {}
    next_par = 1
    first_par: dict[int, int] = {}
    for i in range(n):
        c = code[i]
        if c == 0:
            continue
        if c > 1:
            if c not in labels:
                labels[c] = next_par
                next_par += 1
            par[i] = labels[c]
        elif not first_group[i] and in_equal[i] and first_par.get(key[i], 0) > 0:
            par[i] = first_par[key[i]]
        else:
            par[i] = next_par
            next_par += 1
        if first_group[i]:
            first_par[key[i]] = par[i]
    return par


def with_start_values(table: ParTable, family: Family, stats: Sequence[TwoLevelStats],
                      moments: Sequence[Moments] | None = None) -> ParTable:
    """Fill the free rows of ``table`` with start values (fixed rows untouched).

    Starts come from ``moments`` (the fitted saturated model of each group)
    when given, else from moment estimates of the statistics.  Free rows
    sharing a parameter get the mean of their starts.
    """
    value = table.value.copy()
    names = table.names()
    for g, st in enumerate(stats):
        codes, fixed = table.pattern(g)
        start = family.start(st, codes, fixed, None if moments is None else moments[g])
        rows = np.flatnonzero((table.group == g) & (table.par > 0))
        value[rows] = [start[names[i]][table.row[i], table.col[i]] for i in rows]
    free = table.par > 0
    if free.any():  # equal parameters start at the mean of their elements' starts
        sums = np.bincount(table.par[free] - 1, weights=value[free], minlength=table.n_free)
        counts = np.bincount(table.par[free] - 1, minlength=table.n_free)
        value[free] = (sums / np.maximum(counts, 1))[table.par[free] - 1]
    # strictly inside the bounds
    lo = table.lower[free]
    value[free] = np.clip(value[free], np.where(np.isfinite(lo), lo + 1e-6, lo), table.upper[free])
    return table.with_columns(value=value)
