"""DuckDB engine: two-level statistics of Parquet/CSV files, tables or relations, out of core.

Three streaming passes, all in SQL; nothing of size N leaves DuckDB:

1. per group: row counts and the mean ``c`` of every variable over the
   usable rows (the shift), with plain ``count``/``avg`` aggregates; only when
   these reveal NULL, NaN or infinite values does a slower pass count them
   per variable for the error messages;
2. per (group, cluster): ``n_j`` and ``m_j = mean(y - c)`` (a materialised
   table of J rows);
3. the rows again, joined to their cluster, for
   ``W = sum (y - c - m_j)(y - c - m_j)'``; and, from the cluster table, per
   (group, size): ``m_s``, ``a_s = mean(m_j)`` and ``mean((m_j - a_s)(m_j - a_s)')``.

Numerical stability: every cross-product is formed on deviations from the
cluster mean (a two-pass scheme, as the numpy stage) rather than with the
one-pass identity ``sum zz' - n m m'``, which cancels catastrophically when
the between-cluster spread is large next to the within spread.  With a shift
close to the data, ``y - c`` is exact (Sterbenz) even for means around 1e6,
and the shift is added back to the size means only after the covariances
are formed.

Memory is bounded by the cluster table (J rows) and DuckDB's scan buffers,
not by the number of rows.

The steps (``_rows``, ``_fast_pass1``/``_detailed_pass1``, ``_centred_rows``,
``_cluster_passes``) carry the same names in the Spark engine; the checks and
the assembly are shared (:mod:`psychonetrics.data._engine_common`).
"""

from __future__ import annotations

import glob as _glob
import math
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import lag_rules as lg
from ._engine_common import (
    SOURCE,
    GroupCounts,
    SizeAggregates,
    assemble_groups,
    check_pass1,
    resolve_names,
    tri_indices,
)
from .stats import TwoLevelStats

SRC = "__psychonetrics_source"
PARQUET = (".parquet", ".parq", ".pq")
CSV = (".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz", ".csv.zst")
NUMERIC = {
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
    "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "REAL",
}  # fmt: skip


def import_duckdb() -> Any:
    """Import duckdb or explain how to install it."""
    try:
        import duckdb
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            'Reading files, tables or relations out of core needs duckdb: pip install "psychonetrics[duckdb]"'
        ) from exc
    return duckdb


def ident(name: str) -> str:
    """Quote an SQL identifier (any characters)."""
    return '"' + str(name).replace('"', '""') + '"'


def literal(text: str) -> str:
    """Quote an SQL string literal."""
    return "'" + str(text).replace("'", "''") + "'"


def double(x: float) -> str:
    """An exact DOUBLE literal (round-trips through the shortest repr)."""
    return f"{literal(repr(float(x)))}::DOUBLE"


def _file_kind(path: str) -> str | None:
    low = path.lower()
    if low.endswith(PARQUET):
        return "parquet"
    if low.endswith(CSV):
        return "csv"
    return None


def _looks_like_path(text: str) -> bool:
    return any(ch in text for ch in "*?[") or _file_kind(text) is not None or Path(text).exists()


def _file_relation(con: Any, source: str | Path | Sequence[str | Path]) -> Any:
    """A relation over Parquet or CSV files (a path, a glob, a directory, or a list of them)."""
    items = [source] if isinstance(source, (str, Path)) else list(source)
    paths: list[str] = []
    for item in items:
        text = str(item)
        if Path(text).is_dir():
            text = str(Path(text) / "**" / "*.parquet")
        paths.append(text)
    kinds = {_file_kind(p) for p in paths}
    if len(kinds) != 1 or None in kinds:
        raise ValueError(
            "`source`: expected Parquet (.parquet) or CSV (.csv) file paths or globs of one kind, "
            f"got {paths[:3]!r}; for other formats pass a DuckDB relation."
        )
    for p in paths:
        if not _glob.has_magic(p) and not Path(p).exists():
            raise FileNotFoundError(f"`source`: no such file: {p!r}.")
    files = "[" + ", ".join(literal(p) for p in paths) + "]"
    if kinds == {"parquet"}:
        return con.sql(f"SELECT * FROM read_parquet({files})")
    return con.sql(f"SELECT * FROM read_csv({files}, nullstr = ['NA', ''])")


def _is_numeric(type_name: str) -> bool:
    return type_name in NUMERIC or type_name.startswith("DECIMAL")


def duckdb_stats(
    source: Any,
    *,
    vars: Sequence[str] | None,
    clusters: str,
    groups: str | None,
    dropna: bool,
    connection: Any = None,
) -> list[TwoLevelStats]:
    """Statistics of every group of a DuckDB-readable source (see :func:`twolevel_stats`).

    Groups come in the order of their sorted labels.
    """
    with _opened(source, connection) as rel:
        return _relation_stats(rel, vars=vars, clusters=clusters, groups=groups, dropna=dropna)


@contextmanager
def _opened(source: Any, connection: Any) -> Iterator[Any]:
    """A relation over ``source``; a private connection opened for it is closed on exit."""
    duckdb = import_duckdb()
    own = None
    try:
        if isinstance(source, duckdb.DuckDBPyRelation):
            rel = source
        elif isinstance(source, str) and connection is not None and not _looks_like_path(source):
            rel = connection.table(source)
        elif isinstance(source, (str, Path, list, tuple)):
            con = connection
            if con is None:
                own = con = duckdb.connect()
            rel = _file_relation(con, source)
        elif type(source).__module__.startswith("pyarrow"):
            con = connection
            if con is None:
                own = con = duckdb.connect()
            rel = con.from_arrow(source)
        else:
            raise TypeError(f"`source`: cannot read a {type(source).__name__} with DuckDB.")
        yield rel
    finally:
        if own is not None:
            own.close()


def _relation_stats(
    rel: Any,
    *,
    vars: Sequence[str] | None,
    clusters: str,
    groups: str | None,
    dropna: bool,
) -> list[TwoLevelStats]:
    names = resolve_names(
        rel.columns,
        [_is_numeric(str(t)) for t in rel.types],
        vars=vars,
        clusters=clusters,
        groups=groups,
    )
    p = len(names)
    rows = _rows(names, clusters=clusters, groups=groups)
    counts = _fast_pass1(rel, rows, p=p)
    if counts is None:  # missing or infinite values somewhere: count them in detail
        counts = _detailed_pass1(rel, rows, p=p)
    usable, n_no_cluster, n_empty = check_pass1(counts, names=names, grouped=groups is not None, dropna=dropna)
    z = _centred_rows(rows, usable, p=p, grouped=groups is not None)
    aggregates = _cluster_passes(rel, z, p=p)
    return assemble_groups(usable, aggregates, names=names, grouped=groups is not None,
                           n_no_cluster=n_no_cluster, n_empty=n_empty)


@dataclass(frozen=True)
class _Rows:
    """SQL over the source's rows (see :func:`_rows`)."""

    selected: str  # g, cl and the variables as doubles v0..
    flagged: str  # the same with miss0.., miss_any and miss_all
    has: str  # the row has a cluster id and a group label


def _rows(names: Sequence[str], *, clusters: str, groups: str | None) -> _Rows:
    """The selected columns: group value ``g`` (0 without groups), cluster ``cl``, the variables as
    doubles ``v0..``, and (``flagged``) their missing flags (NULL or NaN)."""
    p = len(names)
    g_expr = ident(groups) if groups is not None else "0"
    values = ", ".join(f"CAST({ident(v)} AS DOUBLE) AS v{k}" for k, v in enumerate(names))
    selected = f"SELECT {g_expr} AS g, {ident(clusters)} AS cl, {values} FROM {SRC}"
    missing = ", ".join(f"(v{k} IS NULL OR isnan(v{k})) AS miss{k}" for k in range(p))
    any_miss = " OR ".join(f"miss{k}" for k in range(p))
    all_miss = " AND ".join(f"miss{k}" for k in range(p))
    flagged = (
        "SELECT *, (" + any_miss + ") AS miss_any, (" + all_miss + ") AS miss_all FROM ("
        f"SELECT *, {missing} FROM ({selected}))"
    )
    return _Rows(selected=selected, flagged=flagged, has="cl IS NOT NULL AND g IS NOT NULL")


def _centred_rows(rows: _Rows, usable: Sequence[GroupCounts], *, p: int, grouped: bool) -> str:
    """The usable complete rows as the group ``label`` (``g``), ``cl`` and ``z_k = v_k - c_k``."""

    def shift(k: int) -> str:  # a literal, or a CASE over the group labels
        if not grouped:
            return double(usable[0].shift[k])  # type: ignore[arg-type]
        whens = " ".join(f"WHEN {literal(c.label)} THEN {double(c.shift[k])}" for c in usable)  # type: ignore[arg-type]
        return f"(CASE CAST(g AS VARCHAR) {whens} END)"

    centred = ", ".join(f"v{k} - {shift(k)} AS z{k}" for k in range(p))
    return f"SELECT CAST(g AS VARCHAR) AS g, cl, {centred} FROM ({rows.flagged}) WHERE {rows.has} AND NOT miss_any"


def _cluster_passes(rel: Any, z: str, *, p: int) -> dict[str | None, SizeAggregates]:
    """Passes 2 and 3 in one query: the cluster table (J rows, materialised), its per-size means and
    covariances, and the within-cluster cross-products of the rows joined to their cluster."""
    pairs = tri_indices(p)
    mean_cols = ", ".join(f"sum(z{k}) / count(*) AS m{k}" for k in range(p))
    size_means = ", ".join(f"avg(m{k}) AS a{k}" for k in range(p))
    size_cov = ", ".join(f"avg((c.m{k} - s.a{k}) * (c.m{l} - s.a{l})) AS b{k}_{l}" for k, l in pairs)
    within = ", ".join(f"sum(d{k} * d{l}) AS w{k}_{l}" for k, l in pairs)
    deviations = ", ".join(f"r.z{k} - c.m{k} AS d{k}" for k in range(p))
    main = (
        f"WITH clus AS MATERIALIZED (SELECT g, cl, count(*) AS n, {mean_cols} FROM ({z}) GROUP BY g, cl), "
        f"sz AS MATERIALIZED (SELECT g, n, count(*) AS m, {size_means} FROM clus GROUP BY g, n), "
        f"szc AS (SELECT c.g, c.n, {size_cov} FROM clus c JOIN sz s ON c.g = s.g AND c.n = s.n "
        "GROUP BY c.g, c.n), "
        f"w AS (SELECT g, {within} FROM (SELECT r.g, {deviations} "
        f"FROM ({z}) r JOIN clus c ON r.g = c.g AND r.cl = c.cl) GROUP BY g) "
        "SELECT s.*, "
        + ", ".join(f"szc.b{k}_{l}" for k, l in pairs)
        + ", "
        + ", ".join(f"w.w{k}_{l}" for k, l in pairs)
        + " FROM sz s JOIN szc ON s.g = szc.g AND s.n = szc.n JOIN w ON s.g = w.g ORDER BY s.g, s.n"
    )
    result = rel.query(SRC, main).fetchall()
    q = len(pairs)
    out: dict[str | None, SizeAggregates] = {}
    for label in dict.fromkeys(r[0] for r in result):
        mine = [r for r in result if r[0] == label]
        out[label] = SizeAggregates(
            sizes=[int(r[1]) for r in mine],
            counts=[int(r[2]) for r in mine],
            centred_means=[r[3 : 3 + p] for r in mine],
            cov_tri=[r[3 + p : 3 + p + q] for r in mine],
            within_tri=mine[0][3 + p + q :],
        )
    return out


def _fast_pass1(rel: Any, rows: _Rows, *, p: int) -> list[GroupCounts] | None:
    """Pass 1 with plain aggregates (no FILTER clauses: several times faster).

    ``count(v)`` finds NULLs and a non-finite ``avg(v)`` finds NaN and
    infinities; returns None when any is present, so that the detailed pass
    counts them.
    """
    counts = ", ".join(f"count(v{k})" for k in range(p))
    means = ", ".join(f"avg(v{k})" for k in range(p))
    sql = (
        "SELECT g IS NULL, CAST(g AS VARCHAR), cl IS NULL AS no_cl, count(*), "
        f"{counts}, {means} FROM ({rows.selected}) "
        "GROUP BY g, cl IS NULL ORDER BY g NULLS LAST, no_cl"
    )
    out: dict[tuple[bool, str], GroupCounts] = {}
    for r in rel.query(SRC, sql).fetchall():
        g_null, label, no_cl, n = bool(r[0]), r[1], bool(r[2]), int(r[3])
        c = out.setdefault((g_null, label), GroupCounts.empty(None if g_null else label, p))
        c.n_rows += n
        if no_cl or g_null:
            c.n_no_cluster += n
            continue
        observed = [int(x) for x in r[4 : 4 + p]]
        shift = list(r[4 + p : 4 + 2 * p])
        if any(o != n for o in observed) or not all(math.isfinite(x) for x in shift):
            return None
        c.n_observed, c.shift = observed, shift
    return list(out.values())


def _detailed_pass1(rel: Any, rows: _Rows, *, p: int) -> list[GroupCounts]:
    """Pass 1 with every count the messages need (used when values are missing or infinite)."""
    has = rows.has
    per_var = ", ".join(
        f"count(*) FILTER (WHERE {has} AND isinf(v{k})) AS inf{k}, "
        f"count(*) FILTER (WHERE {has} AND NOT miss{k}) AS obs{k}, "
        f"avg(v{k}) FILTER (WHERE {has} AND NOT miss_any) AS c{k}"
        for k in range(p)
    )
    sql = (
        "SELECT g IS NULL AS g_null, CAST(g AS VARCHAR) AS label, count(*) AS n_rows, "
        f"count(*) FILTER (WHERE NOT ({has})) AS n_no_cluster, "
        f"count(*) FILTER (WHERE {has} AND miss_any) AS n_incomplete, "
        f"count(*) FILTER (WHERE {has} AND miss_all) AS n_empty, {per_var} "
        f"FROM ({rows.flagged}) GROUP BY g ORDER BY g NULLS LAST"
    )
    return [
        GroupCounts(
            label=None if r[0] else r[1],
            n_rows=int(r[2]),
            n_no_cluster=int(r[3]),
            n_incomplete=int(r[4]),
            n_empty=int(r[5]),
            n_inf=[int(r[6 + 3 * k]) for k in range(p)],
            n_observed=[int(r[7 + 3 * k]) for k in range(p)],
            shift=[r[8 + 3 * k] for k in range(p)],
        )
        for r in rel.query(SRC, sql).fetchall()
    ]


# --------------------------------------------------------------------------- lag pairs
FLOATS = {"FLOAT", "DOUBLE", "REAL"}


def duckdb_lag_pair_stats(
    source: Any,
    *,
    idvar: str,
    vars: Sequence[str] | None,
    dayvar: str | None,
    beepvar: str | None,
    groups: str | None,
    connection: Any = None,
) -> tuple[list[TwoLevelStats], Any]:
    """Statistics of the complete lag pairs of a DuckDB-readable source (see
    :func:`psychonetrics.data.lagged.lag_pair_stats`)."""
    with _opened(source, connection) as rel:
        return _relation_lag_pair_stats(rel, idvar=idvar, vars=vars, dayvar=dayvar, beepvar=beepvar, groups=groups)


def _missing(expr: str, type_name: str) -> str:
    """SQL that is true where ``expr`` is missing: NULL, or NaN for floating types (as pandas sees them)."""
    if type_name in FLOATS:
        return f"({expr} IS NULL OR isnan({expr}))"
    return f"({expr} IS NULL)"


def _relation_lag_pair_stats(
    rel: Any,
    *,
    idvar: str,
    vars: Sequence[str] | None,
    dayvar: str | None,
    beepvar: str | None,
    groups: str | None,
) -> tuple[list[TwoLevelStats], Any]:
    """Lag pairs with window functions, in four steps over the relation:

    1. one scan for the checks: missing ids, group labels, days and beeps, beeps that are not whole
       numbers, infinite values;
    2. a temporary table of the occasions with ``LAG`` over (group, id, day) ordered by beep: each
       occasion's kind (first of a day, after a gap, repeated beep, incomplete or complete pair) and
       the lagged values;
    3. a temporary table of the persons (their counts of every kind), for the report and the
       persons kept (two or more complete pairs);
    4. the two-level statistics of the kept complete pairs (the engine's usual passes).
    """
    columns = [str(c) for c in rel.columns]
    types = [str(t) for t in rel.types]
    type_of = dict(zip(columns, types))
    names = lg.resolve_lag_columns(columns, [_is_numeric(t) for t in types], idvar=idvar, vars=vars,
                                   dayvar=dayvar, beepvar=beepvar, groups=groups, source="source", dtypes=types)
    if beepvar is None:
        raise ValueError(lg.NEEDS_BEEP)
    p = len(names)
    lagged = lg.lag_names(names, taken=(idvar, groups))
    g_expr = ident(groups) if groups is not None else "0"
    day_expr = ident(dayvar) if dayvar is not None else "0"
    values = ", ".join(f"CAST({ident(v)} AS DOUBLE) AS v{k}" for k, v in enumerate(names))
    base = (f"SELECT {g_expr} AS g, {ident(idvar)} AS id, {day_expr} AS day, {ident(beepvar)} AS beep, {values} "
            f"FROM {SRC}")
    no_id = _missing("id", type_of[idvar])
    no_g = _missing("g", type_of[groups]) if groups is not None else "FALSE"
    no_day = _missing("day", type_of[dayvar]) if dayvar is not None else "FALSE"
    no_beep = _missing("beep", type_of[beepvar])
    ok = f"NOT {no_id} AND NOT {no_g}"
    numeric_beep = _is_numeric(type_of[beepvar])
    b = "CAST(beep AS DOUBLE)"
    bad_beep = (f"min({b}) FILTER (WHERE {ok} AND NOT {no_beep} AND (isinf({b}) OR {b} <> floor({b})))"
                if numeric_beep else "NULL")
    infinite = "".join(f", count(*) FILTER (WHERE {ok} AND isinf(v{k}))" for k in range(p))
    check = rel.query(SRC, (
        f"SELECT count(*) FILTER (WHERE {no_id}), count(*) FILTER (WHERE NOT {no_id} AND {no_g}), "
        f"count(*) FILTER (WHERE {ok} AND {no_day}), count(*) FILTER (WHERE {ok} AND {no_beep}), "
        f"{bad_beep}{infinite} FROM ({base})"
    )).fetchall()[0]
    n_no_id, n_no_group, n_no_day, n_no_beep, bad = check[:5]
    lg.missing_id_warnings(int(n_no_id), int(n_no_group), idvar=idvar, groups=groups, source=SOURCE)
    if n_no_day:
        raise lg.missing_day_error(int(n_no_day), dayvar)  # type: ignore[arg-type]
    if n_no_beep:
        raise lg.missing_beep_error(int(n_no_beep), beepvar)
    if not numeric_beep:
        first = rel.query(SRC, f"SELECT beep FROM ({base}) WHERE {ok} LIMIT 1").fetchall()
        raise lg.bad_beep_error(beepvar, first[0][0] if first else None, type_of[beepvar])
    if bad is not None:
        raise lg.bad_beep_error(beepvar, lg.whole_beep(float(bad)))
    n_inf = check[5:]
    if any(n_inf):
        raise lg.infinite_error([names[k] for k in range(p) if n_inf[k]], SOURCE)

    tag = uuid.uuid4().hex
    occasions, persons = f"__psychonetrics_occasions_{tag}", f"__psychonetrics_persons_{tag}"
    lags = ", ".join(f"lag(v{k}) OVER w AS l{k}" for k in range(p))
    complete = " AND ".join(f"NOT {_missing(f'{x}{k}', 'DOUBLE')}" for x in "lv" for k in range(p))
    kind = (f"CASE WHEN pb IS NULL THEN {lg.START} WHEN b = pb THEN {lg.DUPLICATE} WHEN b - pb > 1 THEN {lg.GAP} "
            f"WHEN {complete} THEN {lg.COMPLETE} ELSE {lg.INCOMPLETE} END")
    pair_values = ", ".join([*(f"l{k}" for k in range(p)), *(f"v{k}" for k in range(p))])
    try:
        rel.query(SRC, (
            f"CREATE TEMPORARY TABLE {occasions} AS SELECT g, id, day, b, {kind} AS kind, "
            f"CASE WHEN b - pb > 1 THEN CAST(b - pb - 1 AS BIGINT) ELSE 0 END AS missed, {pair_values} "
            f"FROM (SELECT g, id, day, {b} AS b, lag({b}) OVER w AS pb, {lags}, "
            + ", ".join(f"v{k}" for k in range(p))
            + f" FROM ({base}) WHERE {ok} WINDOW w AS (PARTITION BY g, id, day ORDER BY {b}))"
        ))
        totals, dropped = _lag_totals(rel, occasions, persons, dayvar=dayvar, grouped=groups is not None)
        report = lg.build_report(totals, dropped=dropped, n_missing_id=int(n_no_id),
                                 n_missing_group=int(n_no_group))
        lg.dropped_persons_warning(report, SOURCE)
        lg.check_persons(totals, SOURCE)
        out_cols = ([f"o.g AS {ident(groups)}"] if groups is not None else []) + [f"o.id AS {ident(idvar)}"]
        out_cols += [f"o.l{k} AS {ident(lagged[k])}" for k in range(p)]
        out_cols += [f"o.v{k} AS {ident(names[k])}" for k in range(p)]
        pairs = rel.query(SRC, (
            f"SELECT {', '.join(out_cols)} FROM {occasions} o SEMI JOIN "
            f"(SELECT g, id FROM {persons} WHERE n_complete >= 2) k ON o.g = k.g AND o.id = k.id "
            f"WHERE o.kind = {lg.COMPLETE}"
        ))
        stats = _relation_stats(pairs, vars=[*lagged, *names], clusters=idvar, groups=groups, dropna=True)
    finally:
        rel.query(SRC, f"DROP TABLE IF EXISTS {persons}")
        rel.query(SRC, f"DROP TABLE IF EXISTS {occasions}")
    return stats, report


def _lag_totals(rel: Any, occasions: str, persons: str, *, dayvar: str | None, grouped: bool) -> tuple[list, list]:
    """Per-group counts of the occasion kinds and the dropped persons (from the table of persons); raises
    for repeated beeps."""
    def n(kind: int) -> str:
        return f"count(*) FILTER (WHERE kind = {kind})"

    rel.query(SRC, (
        f"CREATE TEMPORARY TABLE {persons} AS SELECT g, id, count(*) AS n_rows, {n(lg.START)} AS n_starts, "
        f"{n(lg.GAP)} AS n_gaps, coalesce(sum(missed), 0) AS n_missed, {n(lg.DUPLICATE)} AS n_dups, "
        f"{n(lg.INCOMPLETE)} AS n_incomplete, {n(lg.COMPLETE)} AS n_complete FROM {occasions} GROUP BY g, id"
    ))
    rows = rel.query(SRC, (
        "SELECT CAST(g AS VARCHAR), sum(n_rows), sum(n_starts), sum(n_gaps), sum(n_missed), sum(n_dups), "
        "sum(n_incomplete), coalesce(sum(n_complete) FILTER (WHERE n_complete >= 2), 0), "
        "coalesce(sum(n_complete) FILTER (WHERE n_complete < 2), 0), count(*) FILTER (WHERE n_complete >= 2), "
        f"count(*) FILTER (WHERE n_complete < 2) FROM {persons} GROUP BY g ORDER BY g"
    )).fetchall()
    if any(r[5] for r in rows):
        dups = f"SELECT DISTINCT g, id, day, b FROM {occasions} WHERE kind = {lg.DUPLICATE}"
        count = rel.query(SRC, f"SELECT count(*) FROM ({dups})").fetchall()[0][0]
        keys = rel.query(SRC, f"SELECT CAST(g AS VARCHAR), id, day, b FROM ({dups}) ORDER BY g, id, day, b LIMIT 5"
                         ).fetchall()
        shown = [(*((k[0],) if grouped else ()), k[1], *((k[2],) if dayvar is not None else ()), lg.whole_beep(k[3]))
                 for k in keys]
        raise lg.duplicates_error(int(count), shown, dayvar=dayvar, grouped=grouped, source=SOURCE)
    totals = [
        lg.GroupTotals(label=r[0] if grouped else None, n_rows=int(r[1]), n_starts=int(r[2]), n_gap_breaks=int(r[3]),
                       n_missed_beeps=int(r[4]), n_incomplete_pairs=int(r[6]), n_pairs=int(r[7]),
                       n_dropped_pairs=int(r[8]), n_persons=int(r[9]), n_dropped_persons=int(r[10]))
        for r in rows
    ]
    dropped = rel.query(SRC, f"SELECT CAST(g AS VARCHAR), id FROM {persons} WHERE n_complete < 2").fetchall()
    return totals, [(g, i) if grouped else i for g, i in dropped]
