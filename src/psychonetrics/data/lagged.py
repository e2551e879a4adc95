"""Lag pairs of experience-sampling (ESM) data: the data stage of multilevel VAR models.

Per person the p-variate series is embedded into lag pairs
``z_it = (y_i,t-1', y_it')'`` (2p variables: the p lagged ones first, then the
p current ones).  A pair joins two consecutive occasions of one person and one
day: with a beep variable, occasion ``b`` pairs with beep ``b - 1`` of the same
person and day, so a missed beep breaks the pair that would span it (as
psychonetrics' ``tsData`` does by inserting the missed beeps as missing
occasions); without one, row order within person (and day) is time order.
Pairs with a missing value are dropped (complete pairs), and persons left with
fewer than two complete pairs are dropped, because the two-level statistics
of the pairs, with persons as clusters, need variation within persons.

:func:`lag_pairs` returns the pairs as a DataFrame, :func:`lag_pair_stats`
their two-level statistics (in memory, or out of core through DuckDB or
Spark, with the same counts), and :func:`series_arrays` the long data as
arrays for an estimator of the exact likelihood.  Every route reports what it
kept and dropped in a :class:`LagReport`.

Every occasion (row) of a person is counted once in the report::

    n_rows = persons + n_day_breaks + n_gap_breaks + n_incomplete_pairs + n_pairs + n_dropped_pairs

where persons counts the kept and the dropped ones: the first occasion of a
person's day has no predecessor (the first day, or a day break), and every
other occasion follows a missed beep (gap break) or forms a pair.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._arg import choice, preview
from .._warn import warn
from ..exceptions import DataWarning
from .frame import as_pandas, frame_to_stats
from .lag_rules import (
    NIGHT,
    GroupTotals,
    LagReport,
    SeriesArrays,
    bad_beep_error,
    build_report,
    check_persons,
    dropped_persons_warning,
    duplicates_error,
    infinite_error,
    lag_names,
    missing_beep_error,
    missing_day_error,
    missing_id_warnings,
    python_scalar,
    resolve_lag_columns,
    whole_beep,
)
from .stats import TwoLevelStats


# --------------------------------------------------------------------------- in memory
@dataclass(frozen=True, eq=False)
class _Long:
    """Long data of a DataFrame, rows sorted by (group, person, day, beep)."""

    frame: pd.DataFrame  # rows with an id (and group label), in input order
    rows: np.ndarray  # (N,) positions in ``frame`` of the sorted rows
    names: tuple[str, ...]
    values: np.ndarray  # (N, p) float, NaN missing
    group: np.ndarray  # (N,) group code (order of first appearance)
    group_labels: list[str | None]
    person: np.ndarray  # (N,) person code, ordered by (group code, id)
    person_ids: list  # id of every person code
    person_group: np.ndarray  # group code of every person
    day: np.ndarray  # (N,) code of the sorted days (0 without dayvar)
    day_values: np.ndarray | None  # the sorted distinct days (codes index into it)
    beep: np.ndarray  # (N,) beep number, or position within person and day
    n_missing_id: int
    n_missing_group: int


def _factorize(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes of sorted distinct values (order of first appearance when they do not sort)."""
    try:
        codes, uniques = pd.factorize(values, sort=True)
    except TypeError:
        codes, uniques = pd.factorize(values, sort=False)
    return codes.astype(np.int64), np.asarray(uniques, dtype=object)


def _beep_numbers(column: pd.Series, beepvar: str) -> np.ndarray:
    """The beep numbers as int64; ValueError for missing, non-numeric or fractional beeps."""
    missing = column.isna().to_numpy()
    if missing.any():
        raise missing_beep_error(int(missing.sum()), beepvar)
    dtype = column.dtype
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        x = column.to_numpy(dtype=float)
        bad = ~np.isfinite(x) | (x != np.floor(x))
        if bad.any():
            raise bad_beep_error(beepvar, whole_beep(float(np.min(x[bad]))))
        if pd.api.types.is_integer_dtype(dtype):
            return column.to_numpy(dtype=np.int64)
        return x.astype(np.int64)

    def whole(v: object) -> bool:
        return (isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_))
                and math.isfinite(float(v)) and float(v).is_integer())

    values = column.to_numpy(dtype=object)
    for v in values:
        if not whole(v):
            raise bad_beep_error(beepvar, python_scalar(v), dtype)
    return np.asarray([int(v) for v in values], dtype=np.int64)


def _long(data: object, *, idvar: str | None, vars: Sequence[str] | None, dayvar: str | None,
          beepvar: str | None, groups: str | None) -> _Long:
    """Check a DataFrame and sort its rows by (group, person, day, beep)."""
    if type(data).__name__ == "LazyFrame":  # polars
        data = data.collect()  # type: ignore[attr-defined]
    frame = as_pandas(data)
    dtypes = list(frame.dtypes)
    numeric = [pd.api.types.is_numeric_dtype(d) and not pd.api.types.is_bool_dtype(d) for d in dtypes]
    names = resolve_lag_columns([str(c) for c in frame.columns], numeric, idvar=idvar, vars=vars, dayvar=dayvar,
                                beepvar=beepvar, groups=groups, dtypes=[str(d) for d in dtypes])
    assert idvar is not None
    no_id = frame[idvar].isna().to_numpy()
    no_group = ~no_id & frame[groups].isna().to_numpy() if groups is not None else np.zeros_like(no_id)
    missing_id_warnings(int(no_id.sum()), int(no_group.sum()), idvar=idvar, groups=groups, source="data")
    if (no_id | no_group).any():
        frame = frame.iloc[np.flatnonzero(~(no_id | no_group))]
    n = len(frame)
    if dayvar is not None:
        missing = frame[dayvar].isna().to_numpy()
        if missing.any():
            raise missing_day_error(int(missing.sum()), dayvar)
        day, day_values = _factorize(frame[dayvar])
    else:
        day, day_values = np.zeros(n, dtype=np.int64), None
    beep = _beep_numbers(frame[beepvar], beepvar) if beepvar is not None else None
    values = frame[names].to_numpy(dtype=float, na_value=np.nan)
    infinite = np.isinf(values).any(axis=0)
    if infinite.any():
        raise infinite_error([names[k] for k in np.flatnonzero(infinite)], "data")

    if groups is None:
        group = np.zeros(n, dtype=np.int64)
        group_labels: list[str | None] = [None]
    else:
        codes, uniques = pd.factorize(frame[groups], sort=False)
        group = codes.astype(np.int64)
        group_labels = [str(u) for u in uniques]
    id_codes, id_values = _factorize(frame[idvar])
    keys, person = np.unique(group * max(id_values.size, 1) + id_codes, return_inverse=True)
    person = person.reshape(-1).astype(np.int64)
    person_ids = [python_scalar(id_values[k % max(id_values.size, 1)]) for k in keys]
    person_group = (keys // max(id_values.size, 1)).astype(np.int64)
    if beep is None:  # position within person and day, in row order
        order = np.lexsort((np.arange(n), day, person))
        first = np.ones(n, dtype=bool)
        first[1:] = (person[order][1:] != person[order][:-1]) | (day[order][1:] != day[order][:-1])
        start = np.maximum.accumulate(np.where(first, np.arange(n), 0))
        beep = np.empty(n, dtype=np.int64)
        beep[order] = np.arange(n) - start
    else:
        order = np.lexsort((beep, day, person))
    return _Long(frame=frame, rows=order, names=tuple(names), values=values[order], group=group[order],
                 group_labels=group_labels, person=person[order], person_ids=person_ids,
                 person_group=person_group, day=day[order], day_values=day_values, beep=beep[order],
                 n_missing_id=int(no_id.sum()), n_missing_group=int(no_group.sum()))


def _check_duplicates(long: _Long, *, dayvar: str | None) -> None:
    same = (long.person[1:] == long.person[:-1]) & (long.day[1:] == long.day[:-1]) & (long.beep[1:] == long.beep[:-1])
    if not same.any():
        return
    repeat = np.concatenate([[False], same])
    first_repeat = repeat & ~np.concatenate([[False], repeat[:-1]])  # one per duplicated combination
    where = np.flatnonzero(first_repeat)
    grouped = long.group_labels != [None]
    keys = []
    for i in where[:5]:
        key = [long.person_ids[long.person[i]]]
        if grouped:
            key.insert(0, long.group_labels[long.group[i]])
        if dayvar is not None:
            key.append(python_scalar(long.day_values[long.day[i]]))  # type: ignore[index]
        key.append(int(long.beep[i]))
        keys.append(tuple(key))
    raise duplicates_error(int(where.size), keys, dayvar=dayvar, grouped=grouped, source="data")


def _embed(long: _Long, *, dayvar: str | None) -> tuple[np.ndarray, list[GroupTotals], list[object]]:
    """Rows (sorted positions) that end a kept complete pair, the per-group counts and the dropped persons."""
    _check_duplicates(long, dayvar=dayvar)
    n = long.person.size
    same = np.zeros(n, dtype=bool)
    same[1:] = (long.person[1:] == long.person[:-1]) & (long.day[1:] == long.day[:-1])
    step = np.zeros(n, dtype=np.int64)
    step[1:] = long.beep[1:] - long.beep[:-1]
    gap = same & (step > 1)
    pair = same & (step == 1)
    observed = ~np.isnan(long.values).any(axis=1)
    complete = pair & observed & np.concatenate([[False], observed[:-1]])
    n_persons_all = len(long.person_ids)
    per_person = np.bincount(long.person[complete], minlength=n_persons_all)
    kept = per_person >= 2
    keep = complete & kept[long.person]
    n_groups = len(long.group_labels)

    def per_group(mask: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        return np.bincount(long.group[mask], weights=None if weights is None else weights[mask], minlength=n_groups)

    rows = np.bincount(long.group, minlength=n_groups)
    starts, gaps = per_group(~same), per_group(gap)
    missed = per_group(gap, (step - 1).astype(float))
    incomplete, pairs = per_group(pair & ~complete), per_group(keep)
    dropped_pairs = per_group(complete & ~kept[long.person])
    persons = np.bincount(long.person_group, weights=kept.astype(float), minlength=n_groups)
    dropped_n = np.bincount(long.person_group, weights=(~kept).astype(float), minlength=n_groups)
    totals = [
        GroupTotals(label=label, n_rows=int(rows[g]), n_starts=int(starts[g]), n_gap_breaks=int(gaps[g]),
                    n_missed_beeps=int(missed[g]), n_incomplete_pairs=int(incomplete[g]), n_pairs=int(pairs[g]),
                    n_dropped_pairs=int(dropped_pairs[g]), n_persons=int(persons[g]),
                    n_dropped_persons=int(dropped_n[g]))
        for g, label in enumerate(long.group_labels)
    ]
    grouped = long.group_labels != [None]
    dropped = [(long.group_labels[long.person_group[j]], long.person_ids[j]) if grouped else long.person_ids[j]
               for j in np.flatnonzero(~kept)]
    return np.flatnonzero(keep), totals, dropped


def _pairs_frame(data: object, *, idvar: str | None, vars: Sequence[str] | None, dayvar: str | None,
                 beepvar: str | None, groups: str | None
                 ) -> tuple[pd.DataFrame, LagReport, list[GroupTotals], tuple[str, ...], tuple[str, ...]]:
    long = _long(data, idvar=idvar, vars=vars, dayvar=dayvar, beepvar=beepvar, groups=groups)
    keep, totals, dropped = _embed(long, dayvar=dayvar)
    lagged = lag_names(long.names, taken=(idvar, groups))
    columns: dict[str, object] = {}
    for k, name in enumerate(lagged):
        columns[name] = long.values[keep - 1, k]
    for k, name in enumerate(long.names):
        columns[name] = long.values[keep, k]
    source_rows = long.rows[keep]
    assert idvar is not None
    columns[idvar] = long.frame[idvar].iloc[source_rows].reset_index(drop=True)
    if groups is not None:
        columns[groups] = long.frame[groups].iloc[source_rows].reset_index(drop=True)
    out = pd.DataFrame(columns)
    report = build_report(totals, dropped=dropped, n_missing_id=long.n_missing_id,
                          n_missing_group=long.n_missing_group)
    dropped_persons_warning(report, "data")
    return out, report, totals, lagged, long.names


def lag_pairs(
    data: object,
    *,
    idvar: str,
    vars: Sequence[str] | None = None,
    dayvar: str | None = None,
    beepvar: str | None = None,
    groups: str | None = None,
) -> tuple[pd.DataFrame, LagReport]:
    """The complete lag pairs of long-format ESM data, one row per pair.

    Parameters
    ----------
    data : pandas or polars DataFrame
        One row per occasion (rows in any order).
    idvar : str
        Column with the person ids.  Rows without an id are dropped with a
        :class:`~psychonetrics.exceptions.DataWarning`.
    vars : sequence of str or None
        The p variables; default every column except ``idvar``, ``dayvar``, ``beepvar`` and ``groups``.
    dayvar : str or None
        Column with the day: no pair crosses days.
    beepvar : str or None
        Column with the beep number within the day (whole numbers): a pair is
        (beep b - 1, beep b) of one person and day, so missed beeps break
        pairs.  Without it, row order within person (and day) is time order.
    groups : str or None
        Column with the group labels; a person id reused in two groups names two persons.

    Returns
    -------
    pairs : pandas DataFrame
        The 2p lag-pair columns (:func:`lag_names` of ``vars``, then ``vars``),
        ``idvar`` (and ``groups``), one row per complete pair of a person with
        two or more of them, sorted by (group, id, day, beep); groups in order
        of first appearance.
    report : LagReport
        What was kept and dropped.

    Raises
    ------
    ValueError
        Missing days or beeps, beeps that are not whole numbers, an (id, day,
        beep) recorded twice, infinite values, or unknown columns.
    TypeError
        Non-numeric variables.

    Examples
    --------
    >>> import pandas as pd
    >>> esm = pd.DataFrame({"id": [1, 1, 1, 1, 2, 2, 2], "beep": [1, 2, 3, 5, 1, 2, 3],
    ...                     "x": [1.0, 2.0, 3.0, 4.0, 5.0, 7.0, 6.0]})
    >>> pairs, report = lag_pairs(esm, idvar="id", beepvar="beep")
    >>> pairs
       x_lag1    x  id
    0     1.0  2.0   1
    1     2.0  3.0   1
    2     5.0  7.0   2
    3     7.0  6.0   2
    >>> report.n_pairs, report.n_gap_breaks, report.n_missed_beeps
    (4, 1, 1)
    """
    out, report, *_ = _pairs_frame(data, idvar=idvar, vars=vars, dayvar=dayvar, beepvar=beepvar, groups=groups)
    return out, report


def series_arrays(
    data: object,
    *,
    idvar: str,
    vars: Sequence[str] | None = None,
    dayvar: str | None = None,
    beepvar: str | None = None,
    groups: str | None = None,
    night: str = "break",
) -> list[SeriesArrays]:
    """The long data as arrays per group, for an estimator of the exact likelihood.

    Parameters
    ----------
    data, idvar, vars, dayvar, beepvar, groups
        As for :func:`lag_pairs`.
    night : {"break", "missing"}
        ``"break"``: every day is its own segment (series), as the lag pairs
        treat days.  ``"missing"``: one segment per person in which, as
        psychonetrics' panelvar route does, ``occasion = day_index *
        (max_beeps + 1) + beep``, so one all-missing occasion separates
        consecutive days; ``day_index`` is the day minus the first day when
        days are numbers (whole numbers), the code of the sorted days
        otherwise, and ``max_beeps`` the number of beep positions
        (``max(beep) - min(beep) + 1`` over all rows).

    Returns
    -------
    list of SeriesArrays
        One per group, in order of first appearance of the group label (the
        order of :func:`~psychonetrics.data.frame.frame_to_stats`).  Rows
        missing every value are kept (missed occasions); persons without any
        observed value are dropped with a DataWarning.

    Examples
    --------
    >>> import pandas as pd
    >>> esm = pd.DataFrame({"id": [1, 1, 1, 1, 2, 2], "day": [1, 1, 2, 2, 1, 1], "beep": [1, 3, 1, 2, 2, 3],
    ...                     "x": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]})
    >>> (s,) = series_arrays(esm, idvar="id", dayvar="day", beepvar="beep")
    >>> s.person.tolist(), s.segment.tolist(), s.occasion.tolist()
    ([0, 0, 0, 0, 1, 1], [0, 0, 1, 1, 0, 0], [0, 2, 0, 1, 0, 1])
    >>> (s,) = series_arrays(esm, idvar="id", dayvar="day", beepvar="beep", night="missing")
    >>> s.segment.tolist(), s.occasion.tolist()
    ([0, 0, 0, 0, 0, 0], [0, 2, 4, 5, 0, 1])
    """
    choice("night", night, NIGHT)
    long = _long(data, idvar=idvar, vars=vars, dayvar=dayvar, beepvar=beepvar, groups=groups)
    _check_duplicates(long, dayvar=dayvar)
    n = long.person.size
    observed = ~np.isnan(long.values).all(axis=1)
    seen = np.bincount(long.person[observed], minlength=len(long.person_ids)) > 0
    if not seen.all():
        empty = [long.person_ids[j] for j in np.flatnonzero(~seen)]
        warn(f"`data`: {len(empty)} person(s) with every value missing were dropped: {preview(empty, limit=8)}.",
             DataWarning)
    if night == "break":
        first = np.ones(n, dtype=bool)
        first[1:] = (long.person[1:] != long.person[:-1]) | (long.day[1:] != long.day[:-1])
        segment = long.day.copy()
        occasion = long.beep - long.beep[np.maximum.accumulate(np.where(first, np.arange(n), 0))]
    else:
        day_index = _day_index(long, dayvar)
        beep0 = long.beep - (long.beep.min() if n else 0)
        max_beeps = int(beep0.max()) + 1 if n else 1
        raw = day_index * (max_beeps + 1) + beep0
        first = np.ones(n, dtype=bool)
        first[1:] = long.person[1:] != long.person[:-1]
        segment = np.zeros(n, dtype=np.int64)
        occasion = raw - raw[np.maximum.accumulate(np.where(first, np.arange(n), 0))]
    out = []
    for g, label in enumerate(long.group_labels):
        mine = (long.group == g) & seen[long.person]
        codes, person = np.unique(long.person[mine], return_inverse=True)
        out.append(SeriesArrays(
            group=label,
            vars=long.names,
            ids=tuple(long.person_ids[j] for j in codes),
            values=long.values[mine],
            person=person.reshape(-1).astype(np.int64),
            segment=segment[mine].astype(np.int64),
            occasion=occasion[mine].astype(np.int64),
        ))
    return out


def _day_index(long: _Long, dayvar: str | None) -> np.ndarray:
    """Day minus the first day for numeric days (whole numbers); the code of the sorted days otherwise."""
    if dayvar is None or long.day_values is None:
        return np.zeros(long.day.size, dtype=np.int64)
    days = pd.Series(long.day_values)
    kinds = {type(v) for v in long.day_values}
    if all(issubclass(k, numbers.Real) and not issubclass(k, (bool, np.bool_)) for k in kinds):
        x = days.to_numpy(dtype=float)
        bad = x != np.floor(x)
        if bad.any():
            raise ValueError(
                f"`dayvar`: with night='missing', numeric days must be whole numbers (day numbers); "
                f"found {python_scalar(x[bad][0])!r}."
            )
        index = (x - x.min()).astype(np.int64)
        return index[long.day]
    return long.day.astype(np.int64)


def lag_pair_stats(
    source: object,
    *,
    idvar: str,
    vars: Sequence[str] | None = None,
    dayvar: str | None = None,
    beepvar: str | None = None,
    groups: str | None = None,
    connection: object = None,
) -> tuple[list[TwoLevelStats], LagReport]:
    """Two-level statistics of the complete lag pairs (2p variables, persons as clusters).

    Parameters
    ----------
    source
        Any source :func:`~psychonetrics.data.engines.twolevel_stats` accepts:
        a pandas or polars DataFrame (in memory: :func:`lag_pairs`, then the
        numpy statistics); Parquet or CSV paths, a DuckDB relation, a table
        name with ``connection``, or a pyarrow Table (DuckDB); or a Spark
        DataFrame.  Out of core the pairs are formed with window functions
        (``LAG`` over the rows of a person and day ordered by beep), and
        ``beepvar`` is required, since row order is not reliable there.
    idvar, vars, dayvar, beepvar, groups
        As for :func:`lag_pairs`.
    connection : duckdb.DuckDBPyConnection or None
        As for ``twolevel_stats``.

    Returns
    -------
    stats : list of TwoLevelStats
        One per group (DataFrames: order of first appearance; out of core: sorted group values);
        variables :func:`lag_names` of ``vars``, then ``vars``.
    report : LagReport
        What was kept and dropped; the same counts on every engine.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> esm = pd.DataFrame({"id": np.repeat(np.arange(20), 10), "beep": np.tile(np.arange(1, 11), 20),
    ...                     "x": rng.normal(size=200), "y": rng.normal(size=200)})
    >>> (stats,), report = lag_pair_stats(esm.drop(index=[3, 57]), idvar="id", beepvar="beep")
    >>> stats.vars, stats.n_units, stats.n_clusters
    (('x_lag1', 'y_lag1', 'x', 'y'), 176, 20)
    >>> report.n_gap_breaks, report.n_missed_beeps
    (2, 2)

    The same from a Parquet file, out of core (needs duckdb):

    >>> esm.drop(index=[3, 57]).to_parquet("esm.parquet")
    >>> (stats,), again = lag_pair_stats("esm.parquet", idvar="id", beepvar="beep")
    >>> stats.n_units, again == report
    (176, True)
    """
    module = type(source).__module__ or ""
    if module.startswith(("pandas", "polars")):
        frame, report, totals, lagged, names = _pairs_frame(source, idvar=idvar, vars=vars, dayvar=dayvar,
                                                            beepvar=beepvar, groups=groups)
        check_persons(totals, "data")
        stats = frame_to_stats(frame, vars=[*lagged, *names], clusters=idvar, groups=groups)
        return stats, report
    if module.startswith("pyspark"):
        from .spark_engine import spark_lag_pair_stats

        return spark_lag_pair_stats(source, idvar=idvar, vars=vars, dayvar=dayvar, beepvar=beepvar, groups=groups)
    from pathlib import Path

    if module.startswith(("duckdb", "_duckdb", "pyarrow")) or isinstance(source, (str, Path, list, tuple)):
        from .duckdb_engine import duckdb_lag_pair_stats

        return duckdb_lag_pair_stats(source, idvar=idvar, vars=vars, dayvar=dayvar, beepvar=beepvar, groups=groups,
                                     connection=connection)
    raise TypeError(
        "`source`: expected a pandas or polars DataFrame, a path or glob to Parquet/CSV files, "
        "a DuckDB relation, a table name with `connection=`, a pyarrow Table or a Spark DataFrame; "
        f"got {type(source).__name__}."
    )
