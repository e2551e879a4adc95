"""Spark engine: two-level statistics of a ``pyspark.sql.DataFrame``.

Why Spark rather than Dask: Spark is the engine organisations most often
already run for data that do not fit one machine (Databricks, EMR, Synapse,
on-premise clusters), so the data that need an out-of-core route are usually
already Spark DataFrames; its DataFrame API maps one to one onto the SQL of
the DuckDB engine (group-by, join, sum), which keeps both engines the same
algorithm; and ``local[*]`` mode runs the identical code on one machine,
offline, for tests.  Dask users can hand their Parquet files to the DuckDB
engine, which is faster on one machine anyway.

The steps are those of :mod:`psychonetrics.data.duckdb_engine`, with the
same names (see :mod:`psychonetrics.data._engine_common`): ``_rows``,
pass 1 (``_fast_pass1``, and ``_detailed_pass1`` when values are missing
or infinite: counts and the per-group shift ``c``), ``_centred_rows``
(``z = y - c``) and ``_cluster_passes`` (pass 2: per cluster ``n_j`` and
``m_j = mean(z)``, persisted: J rows; pass 3: rows joined to their cluster
for ``sum (z - m_j)(z - m_j)'``, and per size the count, mean and ML
covariance of ``m_j`` around its size mean).  Every cross-product is taken
on deviations from a mean, never with ``sum zz' - n m m'``, so data with
means around 1e6 keep their digits.  Only per-group and per-size aggregates
are collected to the driver.  Group labels are the group values cast to
text by Spark, as DuckDB casts them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import reduce
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


def import_pyspark() -> Any:
    """Import pyspark.sql.functions or explain how to install it."""
    try:
        from pyspark.sql import functions as F
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError('Spark DataFrames need pyspark: pip install "psychonetrics[spark]"') from exc
    return F


def _col(F: Any, name: str) -> Any:
    return F.col("`" + str(name).replace("`", "``") + "`")


def _is_numeric(data_type: Any) -> bool:
    from pyspark.sql.types import BooleanType, NumericType

    return isinstance(data_type, NumericType) and not isinstance(data_type, BooleanType)


def spark_stats(
    df: Any,
    *,
    vars: Sequence[str] | None,
    clusters: str,
    groups: str | None,
    dropna: bool,
) -> list[TwoLevelStats]:
    """Statistics of every group of a Spark DataFrame (see :func:`twolevel_stats`).

    Groups come in the order of their sorted values.
    """
    F = import_pyspark()
    fields = {f.name: f.dataType for f in df.schema.fields}
    names = resolve_names(
        df.columns, [_is_numeric(fields[c]) for c in df.columns], vars=vars, clusters=clusters, groups=groups
    )
    p = len(names)
    rows = _rows(F, df, names, clusters=clusters, groups=groups)
    counts = _fast_pass1(F, rows, p=p)
    if counts is None:  # missing or infinite values somewhere: count them in detail
        counts = _detailed_pass1(F, rows, p=p)
    usable, n_no_cluster, n_empty = check_pass1(counts, names=names, grouped=groups is not None, dropna=dropna)
    z = _centred_rows(F, rows, usable, p=p, grouped=groups is not None)
    aggregates = _cluster_passes(F, z, p=p)
    return assemble_groups(usable, aggregates, names=names, grouped=groups is not None,
                           n_no_cluster=n_no_cluster, n_empty=n_empty)


def _rows(F: Any, df: Any, names: Sequence[str], *, clusters: str, groups: str | None) -> Any:
    """The selected columns: group value ``g`` (0 without groups) and its text ``label``, cluster ``cl``,
    the variables as doubles ``v0..``, their missing flags (NULL or NaN) ``miss0..``, ``miss_any`` and
    ``miss_all``, and ``has`` (the row has a cluster id and a group label)."""
    p = len(names)
    g = _col(F, groups) if groups is not None else F.lit(0)
    selected = df.select(g.alias("g"), _col(F, clusters).alias("cl"),
                         *[_col(F, v).cast("double").alias(f"v{k}") for k, v in enumerate(names)])
    miss = [F.col(f"v{k}").isNull() | F.isnan(F.col(f"v{k}")) for k in range(p)]
    return selected.select(
        "*",
        F.col("g").cast("string").alias("label"),
        *[m.alias(f"miss{k}") for k, m in enumerate(miss)],
        reduce(lambda a, b: a | b, miss).alias("miss_any"),
        reduce(lambda a, b: a & b, miss).alias("miss_all"),
        (F.col("cl").isNotNull() & F.col("g").isNotNull()).alias("has"),
    )


def _group_order(row: Any) -> tuple:
    """Sort key of collected rows: by group value, missing labels last."""
    return (row["g"] is None, row["g"] if row["g"] is not None else 0)


def _fast_pass1(F: Any, rows: Any, *, p: int) -> list[GroupCounts] | None:
    """Pass 1 with plain aggregates.

    ``count(v)`` finds NULLs and a non-finite ``avg(v)`` finds NaN and
    infinities; returns None when any is present, so that the detailed pass
    counts them.
    """
    result = (
        rows.groupBy("g", "label", "has")
        .agg(F.count(F.lit(1)).alias("n"), *[F.count(f"v{k}").alias(f"o{k}") for k in range(p)],
             *[F.avg(f"v{k}").alias(f"c{k}") for k in range(p)])
        .collect()
    )
    out: dict[str | None, GroupCounts] = {}
    for r in sorted(result, key=lambda r: (*_group_order(r), r["has"])):
        c = out.setdefault(r["label"], GroupCounts.empty(r["label"], p))
        n = int(r["n"])
        c.n_rows += n
        if not r["has"]:
            c.n_no_cluster += n
            continue
        observed = [int(r[f"o{k}"]) for k in range(p)]
        shift = [r[f"c{k}"] for k in range(p)]
        if any(o != n for o in observed) or not all(x is not None and math.isfinite(x) for x in shift):
            return None
        c.n_observed, c.shift = observed, shift
    return list(out.values())


def _detailed_pass1(F: Any, rows: Any, *, p: int) -> list[GroupCounts]:
    """Pass 1 with every count the messages need (used when values are missing or infinite)."""
    has, miss_any = F.col("has"), F.col("miss_any")

    def count_if(cond: Any) -> Any:
        return F.sum(F.when(cond, 1).otherwise(0))

    inf = float("inf")
    per_var = []
    for k in range(p):
        v = F.col(f"v{k}")
        per_var += [
            count_if(has & ((v == inf) | (v == -inf))).alias(f"inf{k}"),
            count_if(has & ~F.col(f"miss{k}")).alias(f"obs{k}"),
            F.avg(F.when(has & ~miss_any, v)).alias(f"c{k}"),
        ]
    result = (
        rows.groupBy("g", "label")
        .agg(
            F.count(F.lit(1)).alias("n_rows"),
            count_if(~has).alias("n_no_cluster"),
            count_if(has & miss_any).alias("n_incomplete"),
            count_if(has & F.col("miss_all")).alias("n_empty"),
            *per_var,
        )
        .collect()
    )
    return [
        GroupCounts(
            label=r["label"],
            n_rows=int(r["n_rows"]),
            n_no_cluster=int(r["n_no_cluster"]),
            n_incomplete=int(r["n_incomplete"]),
            n_empty=int(r["n_empty"]),
            n_inf=[int(r[f"inf{k}"]) for k in range(p)],
            n_observed=[int(r[f"obs{k}"]) for k in range(p)],
            shift=[r[f"c{k}"] for k in range(p)],
        )
        for r in sorted(result, key=_group_order)
    ]


def _centred_rows(F: Any, rows: Any, usable: Sequence[GroupCounts], *, p: int, grouped: bool) -> Any:
    """The usable complete rows as the group ``label`` (``g``), ``cl`` and ``z_k = v_k - c_k``."""

    def shift(k: int) -> Any:  # a literal, or a CASE over the group labels
        if not grouped:
            return F.lit(float(usable[0].shift[k]))  # type: ignore[arg-type]
        expr = F
        for c in usable:
            expr = expr.when(F.col("label") == F.lit(c.label), F.lit(float(c.shift[k])))  # type: ignore[arg-type]
        return expr

    return rows.where(F.col("has") & ~F.col("miss_any")).select(
        F.col("label").alias("g"), "cl", *[(F.col(f"v{k}") - shift(k)).alias(f"z{k}") for k in range(p)]
    )


def _cluster_passes(F: Any, z: Any, *, p: int) -> dict[str | None, SizeAggregates]:
    """Pass 2 (the cluster table, J rows, persisted) and pass 3 (the within-cluster cross-products of the
    rows joined to their cluster, and the per-size means and covariances of the cluster means)."""
    from pyspark import StorageLevel

    pairs = tri_indices(p)
    clus = (
        z.groupBy("g", "cl")
        .agg(F.count(F.lit(1)).alias("n"), *[F.sum(f"z{k}").alias(f"s{k}") for k in range(p)])
        .select("g", "cl", "n", *[(F.col(f"s{k}") / F.col("n")).alias(f"m{k}") for k in range(p)])
        .persist(StorageLevel.MEMORY_AND_DISK)
    )
    try:
        deviations = z.join(clus, on=["g", "cl"]).select(
            "g", *[(F.col(f"z{k}") - F.col(f"m{k}")).alias(f"d{k}") for k in range(p)]
        )
        within = (
            deviations.groupBy("g")
            .agg(*[F.sum(F.col(f"d{k}") * F.col(f"d{l}")).alias(f"w{k}_{l}") for k, l in pairs])
            .collect()
        )
        sz = clus.groupBy("g", "n").agg(
            F.count(F.lit(1)).alias("m"), *[F.avg(f"m{k}").alias(f"a{k}") for k in range(p)]
        )
        size_rows = (
            clus.join(sz, on=["g", "n"])
            .select(
                "g", "n", "m",
                *[f"a{k}" for k in range(p)],
                *[(F.col(f"m{k}") - F.col(f"a{k}")).alias(f"e{k}") for k in range(p)],
            )  # fmt: skip
            .groupBy("g", "n")
            .agg(
                F.first("m").alias("m"),
                *[F.first(f"a{k}").alias(f"a{k}") for k in range(p)],
                *[F.avg(F.col(f"e{k}") * F.col(f"e{l}")).alias(f"b{k}_{l}") for k, l in pairs],
            )
            .collect()
        )
    finally:
        clus.unpersist()
    within_by_label = {r["g"]: [r[f"w{k}_{l}"] for k, l in pairs] for r in within}
    out: dict[str | None, SizeAggregates] = {}
    for label, within_tri in within_by_label.items():
        mine = [r for r in size_rows if r["g"] == label]
        out[label] = SizeAggregates(
            sizes=[int(r["n"]) for r in mine],
            counts=[int(r["m"]) for r in mine],
            centred_means=[[r[f"a{k}"] for k in range(p)] for r in mine],
            cov_tri=[[r[f"b{k}_{l}"] for k, l in pairs] for r in mine],
            within_tri=within_tri,
        )
    return out


# --------------------------------------------------------------------------- lag pairs
def _check_lag_source(F: Any, base: Any, fields: dict, names: Sequence[str], *, idvar: str, dayvar: str | None,
                      beepvar: str, groups: str | None) -> tuple[Any, int, int]:
    """One aggregate pass over ``base`` (columns g, id, day, beep, v0..): warn about rows without a person or
    group, raise on missing days or beeps, beeps that are not whole numbers and infinite values.  Returns the
    condition of the usable rows and the counts of rows without a person and without a group."""
    from pyspark.sql.types import DoubleType, FloatType

    p = len(names)

    def missing(name: str | None, alias: str) -> Any:
        if name is None:
            return F.lit(False)
        c = F.col(alias)
        if isinstance(fields[name], (FloatType, DoubleType)):
            return c.isNull() | F.isnan(c)
        return c.isNull()

    no_id, no_g = missing(idvar, "id"), missing(groups, "g")
    no_day, no_beep = missing(dayvar, "day"), missing(beepvar, "beep")
    ok = ~no_id & ~no_g
    numeric_beep = _is_numeric(fields[beepvar])
    b = F.col("beep").cast("double")

    def count_if(cond: Any) -> Any:
        return F.sum(F.when(cond, 1).otherwise(0))

    inf = float("inf")
    bad = (F.abs(b) == inf) | (b != F.floor(b))
    check = base.agg(
        count_if(no_id).alias("no_id"), count_if(~no_id & no_g).alias("no_g"), count_if(ok & no_day).alias("no_day"),
        count_if(ok & no_beep).alias("no_beep"),
        (F.min(F.when(ok & ~no_beep & bad, b)) if numeric_beep else F.lit(None)).alias("bad"),
        *[count_if(ok & (F.abs(F.col(f"v{k}")) == inf)).alias(f"inf{k}") for k in range(p)],
    ).collect()[0]
    n_no_id, n_no_group = int(check["no_id"] or 0), int(check["no_g"] or 0)
    lg.missing_id_warnings(n_no_id, n_no_group, idvar=idvar, groups=groups, source=SOURCE)
    if check["no_day"]:
        raise lg.missing_day_error(int(check["no_day"]), dayvar)  # type: ignore[arg-type]
    if check["no_beep"]:
        raise lg.missing_beep_error(int(check["no_beep"]), beepvar)
    if not numeric_beep:
        first = base.where(ok).select("beep").limit(1).collect()
        raise lg.bad_beep_error(beepvar, first[0][0] if first else None, fields[beepvar].simpleString())
    if check["bad"] is not None:
        raise lg.bad_beep_error(beepvar, lg.whole_beep(float(check["bad"])))
    infinite = [names[k] for k in range(p) if check[f"inf{k}"]]
    if infinite:
        raise lg.infinite_error(infinite, SOURCE)
    return ok, n_no_id, n_no_group


def spark_lag_pair_stats(
    df: Any,
    *,
    idvar: str,
    vars: Sequence[str] | None,
    dayvar: str | None,
    beepvar: str | None,
    groups: str | None,
) -> tuple[list[TwoLevelStats], Any]:
    """Statistics of the complete lag pairs of a Spark DataFrame (see
    :func:`psychonetrics.data.lagged.lag_pair_stats`).

    The steps of the DuckDB engine: one aggregate pass for the checks; the occasions with ``lag`` over a
    window partitioned by (group, id, day) and ordered by beep, classified and persisted; the persons'
    counts (persisted), for the report and the persons kept; then the usual passes over the kept
    complete pairs.
    """
    from pyspark import StorageLevel
    from pyspark.sql import Window

    F = import_pyspark()
    fields = {f.name: f.dataType for f in df.schema.fields}
    columns = list(df.columns)
    names = lg.resolve_lag_columns(columns, [_is_numeric(fields[c]) for c in columns], idvar=idvar, vars=vars,
                                   dayvar=dayvar, beepvar=beepvar, groups=groups, source=SOURCE,
                                   dtypes=[fields[c].simpleString() for c in columns])
    if beepvar is None:
        raise ValueError(lg.NEEDS_BEEP)
    p = len(names)
    lagged = lg.lag_names(names, taken=(idvar, groups))

    base = df.select(
        (_col(F, groups) if groups is not None else F.lit(0)).alias("g"),
        _col(F, idvar).alias("id"),
        (_col(F, dayvar) if dayvar is not None else F.lit(0)).alias("day"),
        _col(F, beepvar).alias("beep"),
        *[_col(F, v).cast("double").alias(f"v{k}") for k, v in enumerate(names)],
    )
    ok, n_no_id, n_no_group = _check_lag_source(F, base, fields, names, idvar=idvar, dayvar=dayvar, beepvar=beepvar,
                                               groups=groups)
    b = F.col("beep").cast("double")

    def count_if(cond: Any) -> Any:
        return F.sum(F.when(cond, 1).otherwise(0))

    w = Window.partitionBy("g", "id", "day").orderBy("b")
    rows = base.where(ok).select("g", "id", "day", b.alias("b"), *[f"v{k}" for k in range(p)])
    with_lags = rows.select("*", F.lag("b").over(w).alias("pb"), *[F.lag(f"v{k}").over(w).alias(f"l{k}")
                                                                   for k in range(p)])
    present = [F.col(f"{x}{k}").isNotNull() & ~F.isnan(F.col(f"{x}{k}")) for x in "lv" for k in range(p)]
    complete = reduce(lambda a, c: a & c, present)
    pb, bb = F.col("pb"), F.col("b")
    kind = (F.when(pb.isNull(), lg.START).when(bb == pb, lg.DUPLICATE).when(bb - pb > 1, lg.GAP)
            .when(complete, lg.COMPLETE).otherwise(lg.INCOMPLETE))
    occasions = with_lags.select(
        "g", "id", "day", "b", kind.alias("kind"),
        F.when(bb - pb > 1, (bb - pb - 1).cast("long")).otherwise(F.lit(0).cast("long")).alias("missed"),
        *[f"l{k}" for k in range(p)], *[f"v{k}" for k in range(p)],
    ).persist(StorageLevel.MEMORY_AND_DISK)
    persons = None
    try:
        def n(k: int) -> Any:
            return count_if(F.col("kind") == k)

        persons = occasions.groupBy("g", "id").agg(
            F.count(F.lit(1)).alias("n_rows"), n(lg.START).alias("n_starts"), n(lg.GAP).alias("n_gaps"),
            F.sum("missed").alias("n_missed"), n(lg.DUPLICATE).alias("n_dups"),
            n(lg.INCOMPLETE).alias("n_incomplete"), n(lg.COMPLETE).alias("n_complete"),
        ).persist(StorageLevel.MEMORY_AND_DISK)
        kept = F.col("n_complete") >= 2
        totals_rows = persons.groupBy("g").agg(
            F.first(F.col("g").cast("string")).alias("label"),
            *[F.sum(c).alias(c) for c in ("n_rows", "n_starts", "n_gaps", "n_missed", "n_dups", "n_incomplete")],
            F.sum(F.when(kept, F.col("n_complete")).otherwise(0)).alias("n_pairs"),
            F.sum(F.when(~kept, F.col("n_complete")).otherwise(0)).alias("n_dropped_pairs"),
            count_if(kept).alias("n_persons"), count_if(~kept).alias("n_dropped_persons"),
        ).collect()
        totals_rows = sorted(totals_rows, key=_group_order)
        grouped = groups is not None
        if any(r["n_dups"] for r in totals_rows):
            dups = occasions.where(F.col("kind") == lg.DUPLICATE).select("g", "id", "day", "b").distinct()
            count = dups.count()
            keys = dups.orderBy("g", "id", "day", "b").limit(5).select(
                F.col("g").cast("string").alias("label"), "id", "day", "b").collect()
            shown = [(*((k["label"],) if grouped else ()), k["id"], *((k["day"],) if dayvar is not None else ()),
                      lg.whole_beep(k["b"])) for k in keys]
            raise lg.duplicates_error(int(count), shown, dayvar=dayvar, grouped=grouped, source=SOURCE)
        totals = [
            lg.GroupTotals(label=r["label"] if grouped else None, n_rows=int(r["n_rows"]),
                           n_starts=int(r["n_starts"]), n_gap_breaks=int(r["n_gaps"]),
                           n_missed_beeps=int(r["n_missed"] or 0), n_incomplete_pairs=int(r["n_incomplete"]),
                           n_pairs=int(r["n_pairs"]), n_dropped_pairs=int(r["n_dropped_pairs"]),
                           n_persons=int(r["n_persons"]), n_dropped_persons=int(r["n_dropped_persons"]))
            for r in totals_rows
        ]
        dropped = persons.where(~kept).select(F.col("g").cast("string").alias("label"), "id").collect()
        report = lg.build_report(totals, dropped=[(r["label"], r["id"]) if grouped else r["id"] for r in dropped],
                                 n_missing_id=n_no_id, n_missing_group=n_no_group)
        lg.dropped_persons_warning(report, SOURCE)
        lg.check_persons(totals, SOURCE)
        pairs = occasions.where(F.col("kind") == lg.COMPLETE).join(
            persons.where(kept).select("g", "id"), on=["g", "id"], how="left_semi"
        ).select(
            *([F.col("g").alias(groups)] if grouped else []), F.col("id").alias(idvar),
            *[F.col(f"l{k}").alias(lagged[k]) for k in range(p)], *[F.col(f"v{k}").alias(names[k]) for k in range(p)],
        )
        stats = spark_stats(pairs, vars=[*lagged, *names], clusters=idvar, groups=groups, dropna=True)
    finally:
        if persons is not None:
            persons.unpersist()
        occasions.unpersist()
    return stats, report
