"""One entry point for the two-level statistics of any data source.

:func:`twolevel_stats` dispatches on the type of ``source``:

========================================  ==========================================
source                                    engine
========================================  ==========================================
pandas / polars (Lazy)Frame              in memory, :func:`frame.frame_to_stats`
path, glob, directory, list of paths      DuckDB (``read_parquet`` / ``read_csv``)
``duckdb.DuckDBPyRelation``               DuckDB
table or view name + ``connection=``      DuckDB (``connection.table(name)``)
pyarrow Table / Dataset                   DuckDB
``pyspark.sql.DataFrame``                 Spark
========================================  ==========================================

Optional libraries are imported only when a source needs them.  The
out-of-core engines stream the rows: memory is bounded by the number of
clusters, not of rows.  Their statistics carry no unit rows (``units`` is
None), so they need complete rows (see ``dropna``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .frame import as_pandas, frame_to_stats, resolve_columns
from .stats import TwoLevelStats


def _module(obj: object) -> str:
    return type(obj).__module__ or ""


def twolevel_stats(
    source: object,
    *,
    vars: Sequence[str] | None = None,
    clusters: str,
    groups: str | None = None,
    dropna: bool = False,
    connection: object = None,
) -> TwoLevelStats | list[TwoLevelStats]:
    """Two-level sufficient statistics of a DataFrame, files, a DuckDB relation or a Spark DataFrame.

    Parameters
    ----------
    source
        The data, one row per unit: a pandas or polars DataFrame (in memory);
        a path, glob (``"data/*.parquet"``), directory of Parquet files, or a
        list of paths, to Parquet or CSV files (DuckDB; in CSV files empty
        fields and ``NA`` are missing); a ``duckdb.DuckDBPyRelation``; a table
        or view name together with ``connection``; a pyarrow Table or
        Dataset; or a ``pyspark.sql.DataFrame`` (Spark).
    vars : sequence of str or None
        Variables to model; default every column except ``clusters`` and ``groups``.
    clusters : str
        Column with the cluster ids (numbers or strings).  Rows whose cluster
        id is missing are dropped with a :class:`~psychonetrics.exceptions.DataWarning`.
    groups : str or None
        Column with the group labels; a cluster id reused in two groups names
        two different clusters.
    dropna : bool
        Out-of-core sources: drop rows with a missing value (NULL or NaN) in
        any of ``vars`` (listwise deletion).  By default such rows raise a
        ValueError, because the out-of-core statistics cannot carry the
        partially observed rows that full-information ML needs; load the data
        into a pandas DataFrame for ``estimator="FIML"``.  Rows missing every
        variable are dropped (with a DataWarning) in either case.  For
        DataFrames, ``dropna=True`` drops the incomplete rows before the
        statistics are formed; by default their unit rows are kept for FIML.
    connection : duckdb.DuckDBPyConnection or None
        Connection in which a table name is looked up (and files are read);
        by default a private in-memory connection is opened and closed.

    Returns
    -------
    TwoLevelStats or list of TwoLevelStats
        One object when ``groups`` is None; otherwise a list, one per group:
        in order of first appearance for DataFrames, in sorted order of the
        group values for the out-of-core engines (DuckDB, Spark), whose rows
        have no reliable order.  Group labels are the values as strings.

    Raises
    ------
    ImportError
        When the source needs duckdb or pyspark and it is not installed.

    Examples
    --------
    >>> import psychonetrics as pn
    >>> stats = pn.twolevel_stats(pn.datasets.seed_example(), clusters="cluster")
    >>> stats.n_units, stats.n_clusters, stats.sizes.tolist()
    (600, 60, [10])
    >>> mod = pn.ml_lvm(stats, "F1 =~ y1 + y2 + y3; F2 =~ y4 + y5 + y6").runmodel()
    >>> print(round(mod.fit()["chisq"], 2))
    15.92

    Out of core, from Parquet or CSV files (needs duckdb):

    >>> pn.datasets.seed_example().to_parquet("seed.parquet")
    >>> pn.twolevel_stats("seed.parquet", clusters="cluster").n_clusters
    60
    """
    if not isinstance(dropna, bool):
        raise TypeError(f"`dropna`: expected True or False, got {type(dropna).__name__}.")
    module = _module(source)
    if module.startswith(("pandas", "polars")):
        out = _frame_stats(source, vars=vars, clusters=clusters, groups=groups, dropna=dropna)
    elif module.startswith("pyspark"):
        from .spark_engine import spark_stats

        out = spark_stats(source, vars=vars, clusters=clusters, groups=groups, dropna=dropna)
    elif module.startswith(("duckdb", "_duckdb", "pyarrow")) or isinstance(source, (str, Path, list, tuple)):
        from .duckdb_engine import duckdb_stats

        out = duckdb_stats(
            source, vars=vars, clusters=clusters, groups=groups, dropna=dropna, connection=connection
        )
    else:
        raise TypeError(
            "`source`: expected a pandas or polars DataFrame, a path or glob to Parquet/CSV files, "
            "a DuckDB relation, a table name with `connection=`, a pyarrow Table or a Spark DataFrame; "
            f"got {type(source).__name__}."
        )
    return out[0] if groups is None else out


def _frame_stats(
    data: object,
    *,
    vars: Sequence[str] | None,
    clusters: str,
    groups: str | None,
    dropna: bool,
) -> list[TwoLevelStats]:
    if type(data).__name__ == "LazyFrame":  # polars
        data = data.collect()  # type: ignore[attr-defined]
    frame = as_pandas(data, argument="source")
    if dropna:
        names = resolve_columns(frame, vars=vars, clusters=clusters, groups=groups)
        missing = frame[names].isna()
        # Rows missing every variable are left to frame_to_stats, which drops them with a warning.
        frame = frame.loc[~(missing.any(axis=1) & ~missing.all(axis=1))]
    return frame_to_stats(frame, vars=vars, clusters=clusters, groups=groups)
