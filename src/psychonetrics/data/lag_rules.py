"""The rules and the report of the lag-pair embedding, shared by the in-memory engine
(:mod:`.lagged`) and the out-of-core ones (DuckDB, Spark): the occasion kinds, the
column names of the pairs, the checks and their messages, and :class:`LagReport`.

See :mod:`.lagged` for what a lag pair is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .._arg import preview
from .._warn import warn
from ..exceptions import DataWarning
from ..linalg import read_only
from .frame import resolve_names

NIGHT = ("break", "missing")

#: Kinds of occasions, as the engines code them: the first of a person's day, one after a missed beep,
#: a repeated beep, and the second occasion of an incomplete or a complete pair.
START, GAP, DUPLICATE, INCOMPLETE, COMPLETE = 0, 1, 2, 3, 4

NEEDS_BEEP = (
    "`beepvar`: required for files, relations and Spark DataFrames, whose row order is not reliable; name the "
    "column with the beep numbers (pass a pandas DataFrame to take row order within person and day as time order)."
)


@dataclass(frozen=True)
class LagReport:
    """What the lag-pair embedding kept and dropped.

    Attributes
    ----------
    n_rows : int
        Input rows (occasions) used, after dropping the rows without an id or group label.
    n_pairs : int
        Complete lag pairs kept (both occasions observed on every variable).
    n_incomplete_pairs : int
        Lag pairs (both occasions recorded, consecutive beeps) dropped for a missing value.
    n_persons : int
        Persons kept (with groups: persons summed over the groups).
    dropped_persons : tuple
        Ids of the persons with fewer than two complete pairs (dropped), as given; with
        groups, ``(group label, id)`` pairs.  Sorted.
    n_missing_id : int
        Rows dropped because the id was missing.
    n_missing_group : int
        Rows dropped because the group label was missing (their id was not).
    n_day_breaks : int
        Occasions that start a later day of a person: no pair crosses a night.
    n_gap_breaks : int
        Occasions whose previous beep of the same day was not recorded: no pair spans the gap.
    n_missed_beeps : int
        Beeps missing between the first and the last recorded beep of a person's day.
    n_dropped_pairs : int
        Complete lag pairs of the dropped persons.
    """

    n_rows: int
    n_pairs: int
    n_incomplete_pairs: int
    n_persons: int
    dropped_persons: tuple
    n_missing_id: int
    n_missing_group: int = 0
    n_day_breaks: int = 0
    n_gap_breaks: int = 0
    n_missed_beeps: int = 0
    n_dropped_pairs: int = 0

    def summary(self) -> str:
        """A few lines for a model's printout."""
        lines = [
            f"Lag pairs: {self.n_pairs} complete pairs of {self.n_persons} persons (from {self.n_rows} occasions).",
        ]
        dropped = []
        if self.n_incomplete_pairs:
            dropped.append(f"{self.n_incomplete_pairs} incomplete pairs (missing values)")
        if self.n_gap_breaks:
            dropped.append(f"{self.n_gap_breaks} pairs broken by {self.n_missed_beeps} missed beeps")
        if self.n_day_breaks:
            dropped.append(f"{self.n_day_breaks} pairs across nights")
        if dropped:
            lines.append("Not formed or dropped: " + "; ".join(dropped) + ".")
        if self.dropped_persons:
            lines.append(
                f"Dropped {len(self.dropped_persons)} persons with fewer than two complete pairs "
                f"({self.n_dropped_pairs} pairs): {preview(self.dropped_persons, limit=8)}."
            )
        if self.n_missing_id or self.n_missing_group:
            what = f"{self.n_missing_id} rows without an id"
            if self.n_missing_group:
                what += f", {self.n_missing_group} rows without a group label"
            lines.append(f"Dropped {what}.")
        return "\n".join(lines)


@dataclass(frozen=True, eq=False)
class SeriesArrays:
    """The long data of one group as arrays, for an estimator of the exact likelihood.

    Rows are sorted by (person, segment, occasion).  A person's series is cut
    into segments (its days, or one segment per person); within a segment,
    ``occasion`` counts time in beeps from 0, so missed beeps show as jumps.

    Attributes
    ----------
    group : str or None
        Group label (None without groups).
    vars : tuple of str
        The p variables.
    ids : tuple
        Person ids (as given) in code order.
    values : (N, p) float array
        The values, NaN where missing (rows missing every value are missed occasions, kept).
    person : (N,) int array
        Person code 0..J-1 of each row.
    segment : (N,) int array
        Segment of each row within its person: the day's code (codes of the sorted days) with
        ``night="break"``; 0 with ``night="missing"``.
    occasion : (N,) int array
        Occasion of each row within its person and segment, starting at 0.
    """

    group: str | None
    vars: tuple[str, ...]
    ids: tuple
    values: np.ndarray
    person: np.ndarray
    segment: np.ndarray
    occasion: np.ndarray

    def __post_init__(self) -> None:
        for name in ("values", "person", "segment", "occasion"):
            object.__setattr__(self, name, read_only(getattr(self, name)))

    @property
    def n_persons(self) -> int:
        """J, the number of persons."""
        return len(self.ids)


def lag_names(vars: Sequence[str], *, taken: Sequence[str | None] = ()) -> tuple[str, ...]:
    """Names of the p lagged variables, ``"<v>_lag1"``; more underscores (``"<v>__lag1"``, ...) when one
    of them would equal a name in ``vars`` (or in ``taken``: other columns of the output).

    >>> lag_names(["a", "b"])
    ('a_lag1', 'b_lag1')
    >>> lag_names(["a", "a_lag1"])
    ('a__lag1', 'a_lag1__lag1')
    """
    names = [vars] if isinstance(vars, str) else [str(v) for v in vars]
    reserved = set(names) | {str(t) for t in taken if t is not None}
    underscores = 1
    while True:
        lagged = tuple(f"{v}{'_' * underscores}lag1" for v in names)
        if reserved.isdisjoint(lagged):
            return lagged
        underscores += 1


# --------------------------------------------------------------------------- argument checks (all engines)
def resolve_lag_columns(
    columns: Sequence[str],
    numeric: Sequence[bool],
    *,
    idvar: str | None,
    vars: Sequence[str] | None,
    dayvar: str | None,
    beepvar: str | None,
    groups: str | None,
    source: str = "data",
    dtypes: Sequence[str] | None = None,
) -> list[str]:
    """Check the column arguments against a source's columns; return the variable names.

    ``vars`` defaults to every column except ``idvar``, ``dayvar``, ``beepvar`` and ``groups``.
    """
    columns = [str(c) for c in columns]
    if idvar is None:
        raise ValueError(
            f"`idvar`: required; name the column that holds the person ids (columns: {preview(columns)})."
        )
    roles = {"idvar": idvar, "dayvar": dayvar, "beepvar": beepvar, "groups": groups}
    for arg, col in roles.items():
        if col is not None and not isinstance(col, str):
            what = "one column name (str)" + ("" if arg == "idvar" else " or None")
            raise TypeError(f"`{arg}`: expected {what}, got {type(col).__name__}.")
        if col is not None and col not in columns:
            raise ValueError(f"`{arg}`: column {col!r} is not in `{source}` (columns: {preview(columns)}).")
    used = [(arg, col) for arg, col in roles.items() if col is not None]
    for i, (arg, col) in enumerate(used):
        for other, col2 in used[i + 1:]:
            if col == col2:
                raise ValueError(f"`{arg}` and `{other}` name the same column {col!r}.")
    special = {col for _, col in used}
    if vars is None:
        names = [c for c in columns if c not in special and not c.startswith("__index_level_")]
        if not names:
            raise ValueError(
                f"`vars`: no variables to model (`{source}` has only the id, day, beep and group columns)."
            )
    else:
        names = [vars] if isinstance(vars, str) else [str(v) for v in vars]
        clash = [v for v in names if v in special]
        if clash:
            raise ValueError(
                f"`vars`: {preview(clash)} must not be a variable: it is the `idvar`, `dayvar`, `beepvar` or "
                "`groups` column."
            )
    return resolve_names(columns, numeric, vars=names, clusters=idvar, groups=groups, source=source, dtypes=dtypes)


def missing_id_warnings(n_missing_id: int, n_missing_group: int, *, idvar: str, groups: str | None,
                        source: str) -> None:
    """Warn about rows dropped for a missing id or group label."""
    if n_missing_id:
        warn(f"`{source}`: {n_missing_id} row(s) with a missing id (`idvar` {idvar!r}) were dropped.", DataWarning)
    if n_missing_group:
        warn(f"`{source}`: {n_missing_group} row(s) with a missing group label (`groups` {groups!r}) were dropped.",
             DataWarning)


def missing_day_error(n: int, dayvar: str) -> ValueError:
    return ValueError(f"`dayvar`: {n} row(s) have a missing day (column {dayvar!r}); every occasion needs its day.")


def missing_beep_error(n: int, beepvar: str) -> ValueError:
    return ValueError(
        f"`beepvar`: {n} row(s) have a missing beep number (column {beepvar!r}); every occasion needs its beep."
    )


def bad_beep_error(beepvar: str, value: object, dtype: object = None) -> ValueError:
    kind = "" if dtype is None else f" (dtype {dtype})"
    return ValueError(
        f"`beepvar`: column {beepvar!r} must hold beep numbers (whole numbers); found {value!r}{kind}."
    )


def infinite_error(bad: Sequence[str], source: str) -> ValueError:
    return ValueError(f"`{source}`: variable(s) {preview(bad)} contain infinite values; recode them as missing.")


def duplicates_error(n: int, keys: Sequence[tuple], *, dayvar: str | None, grouped: bool, source: str) -> ValueError:
    fields = (["group"] if grouped else []) + ["id"] + (["day"] if dayvar is not None else []) + ["beep"]
    return ValueError(
        f"`{source}`: {n} ({', '.join(fields)}) combination(s) occur in more than one row, e.g. "
        f"{preview(keys, limit=5)}; each beep of a person{' and day' if dayvar is not None else ''} "
        "must be recorded once (check `idvar`, `dayvar` and `beepvar`)."
    )


def python_scalar(x: object) -> object:
    """A numpy scalar as the Python scalar it holds (ids in reports compare and print plainly)."""
    return x.item() if isinstance(x, np.generic) else x


def whole_beep(x: float) -> object:
    """A beep number for messages: whole floats print as ints."""
    return int(x) if isinstance(x, float) and x.is_integer() else x


@dataclass
class GroupTotals:
    """Occasion counts of one group (the engines fill one per group label)."""

    label: str | None
    n_rows: int = 0
    n_starts: int = 0  # first occasion of a person's day
    n_gap_breaks: int = 0
    n_missed_beeps: int = 0
    n_incomplete_pairs: int = 0
    n_pairs: int = 0  # complete pairs of kept persons
    n_dropped_pairs: int = 0  # complete pairs of dropped persons
    n_persons: int = 0  # kept
    n_dropped_persons: int = 0


def _sorted_persons(persons: Sequence[object]) -> tuple:
    try:
        return tuple(sorted(persons, key=lambda x: (x[0] is None, x) if isinstance(x, tuple) else (False, x)))
    except TypeError:  # ids of mixed types: keep the order found
        return tuple(persons)


def build_report(totals: Sequence[GroupTotals], *, dropped: Sequence[object], n_missing_id: int,
                 n_missing_group: int) -> LagReport:
    """One :class:`LagReport` from the per-group counts."""
    return LagReport(
        n_rows=sum(t.n_rows for t in totals),
        n_pairs=sum(t.n_pairs for t in totals),
        n_incomplete_pairs=sum(t.n_incomplete_pairs for t in totals),
        n_persons=sum(t.n_persons for t in totals),
        dropped_persons=_sorted_persons([python_scalar(d) if not isinstance(d, tuple)
                                         else tuple(python_scalar(x) for x in d) for d in dropped]),
        n_missing_id=int(n_missing_id),
        n_missing_group=int(n_missing_group),
        n_day_breaks=sum(t.n_starts - t.n_persons - t.n_dropped_persons for t in totals),
        n_gap_breaks=sum(t.n_gap_breaks for t in totals),
        n_missed_beeps=sum(t.n_missed_beeps for t in totals),
        n_dropped_pairs=sum(t.n_dropped_pairs for t in totals),
    )


def dropped_persons_warning(report: LagReport, source: str) -> None:
    if report.dropped_persons:
        warn(
            f"`{source}`: {len(report.dropped_persons)} person(s) with fewer than two complete lag pairs were "
            f"dropped: {preview(report.dropped_persons, limit=8)}.",
            DataWarning,
        )


def check_persons(totals: Sequence[GroupTotals], source: str) -> None:
    """Raise when a group keeps fewer than two persons (no two-level statistics)."""
    if not totals:
        raise ValueError(f"`{source}`: no rows with a person id.")
    for t in totals:
        if t.n_persons < 2:
            where = "" if t.label is None else f" (group {t.label!r})"
            raise ValueError(
                f"`{source}`{where}: {t.n_persons} person(s) with two or more complete lag pairs "
                f"({t.n_pairs + t.n_dropped_pairs} complete pairs in all); a multilevel VAR model needs at least two."
            )
