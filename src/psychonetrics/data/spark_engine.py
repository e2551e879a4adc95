"""Spark engine: two-level statistics of a ``pyspark.sql.DataFrame``.

Why Spark rather than Dask: Spark is the engine organisations most often
already run for data that do not fit one machine (Databricks, EMR, Synapse,
on-premise clusters), so the data that need an out-of-core route are usually
already Spark DataFrames; its DataFrame API maps one to one onto the SQL of
the DuckDB engine (group-by, join, sum), which keeps both engines the same
algorithm; and ``local[*]`` mode runs the identical code on one machine,
offline, for tests.  Dask users can hand their Parquet files to the DuckDB
engine, which is faster on one machine anyway.

The algorithm is that of :mod:`psychonetrics.data.duckdb_engine`: pass 1
(counts and per-group shift ``c``), pass 2 (per cluster ``n_j`` and
``m_j = mean(y - c)``, persisted: J rows), pass 3 (rows joined to their
cluster for ``sum (y - c - m_j)(y - c - m_j)'``; per size the count, mean and
ML covariance of ``m_j`` around its size mean).  Every cross-product is taken
on deviations from a mean, never with ``sum zz' - n m m'``, so data with
means around 1e6 keep their digits.  Only per-group and per-size aggregates
are collected to the driver.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._engine_common import GroupCounts, assemble, check_pass1, resolve_names, tri_indices
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

    Groups come in the order of their sorted labels.
    """
    F = import_pyspark()
    from pyspark import StorageLevel

    fields = {f.name: f.dataType for f in df.schema.fields}
    names = resolve_names(
        df.columns, [_is_numeric(fields[c]) for c in df.columns], vars=vars, clusters=clusters, groups=groups
    )
    p = len(names)
    g = _col(F, groups) if groups is not None else F.lit(0)
    values_ = [_col(F, v).cast("double").alias(f"v{k}") for k, v in enumerate(names)]
    base = df.select(g.alias("g"), _col(F, clusters).alias("cl"), *values_)
    miss = [F.col(f"v{k}").isNull() | F.isnan(F.col(f"v{k}")) for k in range(p)]
    miss_any, miss_all = miss[0], miss[0]
    for m in miss[1:]:
        miss_any, miss_all = miss_any | m, miss_all & m
    has = F.col("cl").isNotNull() & F.col("g").isNotNull()
    ok = has & ~miss_any

    def count_if(cond: Any) -> Any:
        return F.sum(F.when(cond, 1).otherwise(0))

    inf = float("inf")
    is_inf = [(F.col(f"v{k}") == inf) | (F.col(f"v{k}") == -inf) for k in range(p)]
    any_inf = is_inf[0]
    for e in is_inf[1:]:
        any_inf = any_inf | e
    # Few aggregates here (wide aggregates are slow in Spark); the per-variable
    # counts that only name culprits in error messages are computed on demand.
    rows = (
        base.groupBy("g")
        .agg(
            F.count(F.lit(1)).alias("n_rows"),
            count_if(~has).alias("n_no_cluster"),
            count_if(has & miss_any).alias("n_incomplete"),
            count_if(has & miss_all).alias("n_empty"),
            count_if(has & any_inf).alias("n_inf"),
            *[F.avg(F.when(ok, F.col(f"v{k}"))).alias(f"c{k}") for k in range(p)],
        )
        .collect()
    )
    rows.sort(key=lambda r: (r["g"] is None, r["g"] if r["g"] is not None else 0))
    detail: dict[object, object] = {}
    if any(r["n_inf"] or r["n_incomplete"] for r in rows):
        per_var = base.groupBy("g").agg(
            *[count_if(has & is_inf[k]).alias(f"inf{k}") for k in range(p)],
            *[count_if(has & ~miss[k]).alias(f"obs{k}") for k in range(p)],
        )
        detail = {r["g"]: r for r in per_var.collect()}
    counts = []
    for r in rows:
        d = detail.get(r["g"])
        usable_rows = int(r["n_rows"]) - int(r["n_no_cluster"])
        counts.append(
            GroupCounts(
                label=None if r["g"] is None else str(r["g"]),
                n_rows=int(r["n_rows"]),
                n_no_cluster=int(r["n_no_cluster"]),
                n_incomplete=int(r["n_incomplete"]),
                n_empty=int(r["n_empty"]),
                n_inf=[0 if d is None else int(d[f"inf{k}"]) for k in range(p)],  # type: ignore[index]
                n_observed=[usable_rows if d is None else int(d[f"obs{k}"]) for k in range(p)],  # type: ignore[index]
                shift=[r[f"c{k}"] for k in range(p)],
            )
        )
    values = {c.label: r["g"] for c, r in zip(counts, rows)}
    usable, n_no_cluster, n_empty = check_pass1(counts, names=names, grouped=groups is not None, dropna=dropna)
    usable = [c for c in usable if c.shift[0] is not None]
    if not usable:
        raise ValueError("`clusters`: the data have 0 cluster(s); a two-level model needs at least two.")

    def shift_col(k: int) -> Any:
        """The shift of variable k: CASE over the group values."""
        expr = F
        for c in usable:
            expr = expr.when(F.col("g") == F.lit(values[c.label]), F.lit(float(c.shift[k])))
        return expr

    z = base.where(ok).select("g", "cl", *[(F.col(f"v{k}") - shift_col(k)).alias(f"z{k}") for k in range(p)])
    clus = (
        z.groupBy("g", "cl")
        .agg(F.count(F.lit(1)).alias("n"), *[F.sum(f"z{k}").alias(f"s{k}") for k in range(p)])
        .select("g", "cl", "n", *[(F.col(f"s{k}") / F.col("n")).alias(f"m{k}") for k in range(p)])
        .persist(StorageLevel.MEMORY_AND_DISK)
    )
    try:
        pairs = tri_indices(p)
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
    out = []
    for c in usable:
        key = values[c.label]
        mine = [r for r in size_rows if r["g"] == key]
        w = [r for r in within if r["g"] == key]
        out.append(
            assemble(
                names=names,
                label=c.label if groups is not None else None,
                shift=[float(s) for s in c.shift],
                sizes=[int(r["n"]) for r in mine],
                counts=[int(r["m"]) for r in mine],
                centred_means=[[r[f"a{k}"] for k in range(p)] for r in mine],
                cov_tri=[[r[f"b{k}_{l}"] for k, l in pairs] for r in mine],
                within_tri=[w[0][f"w{k}_{l}"] for k, l in pairs] if w else [0.0] * len(pairs),
                n_dropped_missing_cluster=n_no_cluster,
                n_dropped_empty=n_empty,
            )
        )
    return out
