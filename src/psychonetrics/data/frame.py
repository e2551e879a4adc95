"""In-memory data stage: a DataFrame (pandas or polars) -> TwoLevelStats per group.

One pass over the rows, O(N p^2).  Values are centred on the grand mean of
each variable before any cross-product is formed, so data with huge offsets
(means around 1e6) keep their digits.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .._arg import choice, preview
from .._warn import warn
from ..exceptions import DataWarning
from .stats import TwoLevelStats, UnitData, stats_from_cluster_sums

STANDARDIZE = ("none", "z", "quantile")


def as_pandas(data: object, *, argument: str = "data") -> pd.DataFrame:
    """Return ``data`` as a pandas DataFrame (polars DataFrames are converted).

    Raises
    ------
    TypeError
        ``data`` is not a DataFrame; a polars LazyFrame is named as such,
        with the ``.collect()`` that turns it into one.
    ValueError
        Two columns share a name (compared as str, as variables are named).
    """
    if isinstance(data, pd.DataFrame):
        frame = data
    elif type(data).__module__.startswith("polars"):
        if type(data).__name__ == "LazyFrame":
            raise TypeError(
                f"`{argument}`: got a polars LazyFrame, which holds a query rather than rows "
                "(expected a DataFrame; call `.collect()` on it first)."
            )
        frame = data.to_pandas()  # type: ignore[attr-defined]
    else:
        raise TypeError(
            f"`{argument}`: expected a pandas or polars DataFrame (or a TwoLevelStats object), "
            f"got {type(data).__name__}."
        )
    _check_unique_columns(frame, argument)
    return frame


def _check_unique_columns(frame: pd.DataFrame, argument: str) -> None:
    """Raise ValueError naming the column names that occur more than once in ``frame``."""
    names = [str(c) for c in frame.columns]
    if len(set(names)) != len(names):
        seen: set[str] = set()
        repeated = list(dict.fromkeys(n for n in names if n in seen or seen.add(n)))
        raise ValueError(
            f"`{argument}`: column name(s) {preview(repeated)} occur more than once "
            "(expected unique column names; rename or drop the duplicates)."
        )


def resolve_names(
    columns: Sequence[str],
    numeric: Sequence[bool],
    *,
    vars: Sequence[str] | None,
    clusters: str | None,
    groups: str | None,
    source: str = "source",
    dtypes: Sequence[str] | None = None,
) -> list[str]:
    """Check the column arguments against a data source's columns; return the variable names.

    ``numeric`` flags which columns hold numbers; ``source`` names the data
    argument in messages (``"data"`` for DataFrames, ``"source"`` out of
    core); ``dtypes``, when given, are quoted for non-numeric variables.
    """
    if clusters is None:
        raise ValueError("`clusters`: required; name the column that holds the cluster ids.")
    if not isinstance(clusters, str):
        raise TypeError(f"`clusters`: expected one column name (str), got {type(clusters).__name__}.")
    if groups is not None and not isinstance(groups, str):
        raise TypeError(f"`groups`: expected one column name (str) or None, got {type(groups).__name__}.")
    columns = [str(c) for c in columns]
    is_numeric = dict(zip(columns, numeric))
    for arg, col in (("clusters", clusters), ("groups", groups)):
        if col is not None and col not in columns:
            raise ValueError(f"`{arg}`: column {col!r} is not in `{source}` (columns: {preview(columns)}).")
    if vars is None:
        # pandas writes a non-default index as "__index_level_0__": never a variable
        names = [c for c in columns if c not in (clusters, groups) and not str(c).startswith("__index_level_")]
    else:
        if isinstance(vars, str):
            vars = [vars]
        names = [str(v) for v in vars]
        unknown = [v for v in names if v not in columns]
        if unknown:
            raise ValueError(f"`vars`: {preview(unknown)} not in `{source}` (columns: {preview(columns)}).")
        if len(set(names)) != len(names):
            raise ValueError("`vars`: contains duplicated names.")
        if clusters in names or (groups is not None and groups in names):
            raise ValueError("`vars`: must not include the `clusters` or `groups` column.")
    if not names:
        raise ValueError(f"`vars`: no variables to model (`{source}` has only the cluster/group columns).")
    bad = [v for v in names if not is_numeric[v]]
    if bad:
        kinds = "" if dtypes is None else " (dtypes: " + ", ".join(
            str(dict(zip(columns, dtypes))[v]) for v in bad[:5]) + ")"
        raise TypeError(
            f"`{source}`: variable(s) {preview(bad)} are not numeric{kinds}; convert or leave them out of `vars`."
        )
    return names


def resolve_columns(
    frame: pd.DataFrame,
    *,
    vars: Sequence[str] | None,
    clusters: str | None,
    groups: str | None,
) -> list[str]:
    """Check the column arguments against ``frame`` and return the variable names."""
    dtypes = list(frame.dtypes)
    numeric = [pd.api.types.is_numeric_dtype(d) and not pd.api.types.is_bool_dtype(d) for d in dtypes]
    return resolve_names([str(c) for c in frame.columns], numeric, vars=vars, clusters=clusters, groups=groups,
                         source="data", dtypes=[str(d) for d in dtypes])


def _standardize(values: np.ndarray, method: str) -> np.ndarray:
    if method == "none":
        return values
    from scipy import stats as sps

    out = values.copy()
    for k in range(values.shape[1]):
        col = values[:, k]
        ok = ~np.isnan(col)
        if method == "z":
            sd = col[ok].std(ddof=1)
            out[ok, k] = (col[ok] - col[ok].mean()) / (sd if sd > 0 else 1.0)
        else:  # quantile: normal scores of the ranks, as psychonetrics
            ranks = sps.rankdata(col[ok])
            out[ok, k] = sps.norm.ppf(ranks / (ok.sum() + 1))
    return out


def frame_to_stats(
    data: object,
    *,
    vars: Sequence[str] | None,
    clusters: str | None,
    groups: str | None = None,
    standardize: str = "none",
    cluster_level: Sequence[str] = (),
) -> list[TwoLevelStats]:
    """Compute the two-level statistics of every group in ``data``.

    Parameters
    ----------
    data : pandas or polars DataFrame
        One row per unit.
    vars : sequence of str or None
        Variables to model; default every column except ``clusters`` and ``groups``.
    clusters : str
        Column with the cluster ids (any hashable values; need not be sorted).
    groups : str or None
        Column with the group labels; a cluster id reused in two groups names
        two different clusters.
    standardize : {"none", "z", "quantile"}
        Transformation applied to each variable (over all groups) first.
    cluster_level : sequence of str
        Variables measured on the cluster level: each must be constant within
        every cluster (a ValueError names the clusters where it is not), and
        their zero within-cluster variance is expected, not warned about.

    Returns
    -------
    list of TwoLevelStats
        One per group, in order of first appearance of the group label.
    """
    frame = as_pandas(data)
    choice("standardize", standardize, STANDARDIZE)
    names = resolve_columns(frame, vars=vars, clusters=clusters, groups=groups)
    assert clusters is not None
    cluster_col = frame[clusters]
    missing_cluster = cluster_col.isna().to_numpy()
    if groups is not None:
        missing_cluster = missing_cluster | frame[groups].isna().to_numpy()
    n_missing_cluster = int(missing_cluster.sum())
    if n_missing_cluster:
        what = "cluster id" if groups is None else "cluster id or group label"
        warn(
            f"`data`: {n_missing_cluster} row(s) with a missing {what} were dropped.",
            DataWarning,
        )
        frame = frame.loc[~missing_cluster]
    # column by column: a pandas selection of several columns copies the frame first
    values = np.column_stack([frame[name].to_numpy(dtype=float, na_value=np.nan) for name in names])
    if np.isinf(values).any():
        bad = [names[k] for k in np.flatnonzero(np.isinf(values).any(axis=0))]
        raise ValueError(f"`data`: variable(s) {preview(bad)} contain infinite values; recode them as missing (NaN).")
    observed = ~np.isnan(values)
    empty = ~observed.any(axis=1)
    n_empty = int(empty.sum())
    if n_empty:
        warn(
            f"`data`: {n_empty} row(s) with every variable missing carry no information and were dropped.",
            DataWarning,
        )
        frame = frame.loc[~empty]
        values = values[~empty]
        observed = observed[~empty]
    never = [names[k] for k in np.flatnonzero(~observed.any(axis=0))]
    if never:
        raise ValueError(f"`data`: variable(s) {preview(never)} are missing in every row; leave them out of `vars`.")
    unknown = [v for v in cluster_level if v not in names]
    if unknown:
        raise ValueError(f"cluster-level variable(s) {preview(unknown)} are not among the variables {preview(names)}.")
    values = _standardize(values, standardize)

    if groups is None:
        group_codes = np.zeros(len(frame), dtype=np.int64)
        group_labels: list[str | None] = [None]
    else:
        codes, uniques = pd.factorize(frame[groups], sort=False)
        group_codes = codes.astype(np.int64)
        group_labels = [str(u) for u in uniques]
    cluster_ids = frame[clusters].to_numpy()

    out = []
    for g, label in enumerate(group_labels):
        rows = slice(None) if len(group_labels) == 1 else group_codes == g  # one group: no copy
        out.append(
            _group_stats(
                values[rows],
                observed[rows],
                cluster_ids[rows],
                names=tuple(names),
                label=label,
                dropped_cluster=n_missing_cluster,
                dropped_empty=n_empty,
                cluster_level=tuple(cluster_level),
            )
        )
    return out


def _group_stats(
    values: np.ndarray,
    observed: np.ndarray,
    cluster_ids: np.ndarray,
    *,
    names: tuple[str, ...],
    label: str | None,
    dropped_cluster: int,
    dropped_empty: int,
    cluster_level: tuple[str, ...] = (),
) -> TwoLevelStats:
    where = "" if label is None else f" (group {label!r})"
    codes, cluster_names = pd.factorize(cluster_ids, sort=False)
    codes = codes.astype(np.int64)
    if np.any(codes[1:] < codes[:-1]):  # rows not grouped by cluster: sort them (stable)
        order = np.argsort(codes, kind="stable")
        codes = codes[order]
        values = values[order]
        observed = observed[order]
    else:
        values = values.copy()  # centred in place below; the caller's array stays intact
    n_clusters = int(codes.max()) + 1 if codes.size else 0
    if n_clusters < 2:
        raise ValueError(
            f"`clusters`: the data{where} have {n_clusters} cluster(s); a two-level model needs at least two."
        )
    sizes = np.bincount(codes, minlength=n_clusters)
    if sizes.max() < 2:
        raise ValueError(
            f"`clusters`: every cluster{where} has a single unit, so the within-cluster level is not "
            "identified; a two-level model needs clusters with two or more units."
        )
    _check_constant_in_clusters(values, observed, codes, n_clusters, names, cluster_level, cluster_names, where)
    complete = bool(observed.all())
    # Centre on the grand mean of the observed values, then zero-fill holes.
    count = observed.sum(axis=0)
    center = np.nansum(values, axis=0) / count
    centred = values
    centred -= center
    centred[~observed] = 0.0

    units = UnitData(
        values=centred,
        observed=observed,
        cluster=codes,
        center=center,
    )
    means = cluster_means(codes, centred, observed, n_clusters, sizes)
    if complete:
        crossprod = _within_crossprod(centred, means, codes)
    else:
        # Pairwise-available statistics: used only for start values and checks.
        dev = np.where(observed, centred - means[codes], 0.0)
        pair = observed.T.astype(float) @ observed.astype(float)
        crossprod = dev.T @ dev * (observed.shape[0] - n_clusters) / np.maximum(pair - n_clusters, 1.0)
    stats = stats_from_cluster_sums(
        vars=names,
        cluster_sizes=sizes,
        cluster_means=means + center,
        within_crossprod=crossprod,
        group=label,
        units=units,
        n_dropped_missing_cluster=dropped_cluster,
        n_dropped_empty=dropped_empty,
    )
    _check_variances(stats, where, cluster_level=cluster_level)
    return stats


def _check_constant_in_clusters(values: np.ndarray, observed: np.ndarray, codes: np.ndarray, n_clusters: int,
                                names: tuple[str, ...], cluster_level: tuple[str, ...], cluster_names: object,
                                where: str) -> None:
    """Raise when a cluster-level variable takes two values in one cluster (rows sorted by cluster)."""
    for name in cluster_level:
        k = names.index(name)
        seen = observed[:, k]
        col = np.where(seen, values[:, k], np.nan)
        low = np.full(n_clusters, np.inf)
        high = np.full(n_clusters, -np.inf)
        np.fmin.at(low, codes[seen], col[seen])
        np.fmax.at(high, codes[seen], col[seen])
        scale = max(float(np.nanmax(np.abs(col))) if seen.any() else 0.0, 1e-300)
        bad = np.flatnonzero(np.isfinite(low) & (high - low > 1e-9 * scale))
        if bad.size:
            ids = [np.asarray(cluster_names)[b].item() for b in bad]
            raise ValueError(
                f"`data`{where}: cluster-level variable {name!r} varies within cluster(s) {preview(ids, limit=8)} "
                f"({bad.size} of {n_clusters}); a variable named only on the between level must be constant "
                "within each cluster."
            )


def _within_crossprod(centred: np.ndarray, means: np.ndarray, codes: np.ndarray, chunk: int = 262_144) -> np.ndarray:
    """sum_i (y_i - ybar_j(i))(y_i - ybar_j(i))', accumulated in chunks to bound temporary memory."""
    p = centred.shape[1]
    out = np.zeros((p, p))
    for start in range(0, centred.shape[0], chunk):
        dev = centred[start:start + chunk] - means[codes[start:start + chunk]]
        out += dev.T @ dev
    return out


def cluster_sums(codes: np.ndarray, values: np.ndarray, n_clusters: int) -> np.ndarray:
    """Column sums of ``values`` (N, p) per cluster code, (J, p); one bincount per column."""
    return np.column_stack([np.bincount(codes, weights=values[:, k], minlength=n_clusters)
                            for k in range(values.shape[1])]) if values.shape[1] else np.zeros((n_clusters, 0))



def cluster_means(codes: np.ndarray, values: np.ndarray, observed: np.ndarray, n_clusters: int,
                  sizes: np.ndarray) -> np.ndarray:
    """Each cluster's mean of every variable over its observed values, (J, p) (0 where a cluster observed
    none); ``values`` are 0 where missing."""
    if observed.all():
        return cluster_sums(codes, values, n_clusters) / sizes[:, None]
    counts = cluster_sums(codes, observed.astype(float), n_clusters)
    sums = cluster_sums(codes, values, n_clusters)
    return np.where(counts > 0, sums / np.maximum(counts, 1), 0.0)

def missingness_patterns(observed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of the (N, p) boolean ``observed`` and each row's pattern index.

    Rows are hashed to integers (bit k = variable k observed) so that large
    data need a 1-D ``unique`` rather than a row-wise sort.
    """
    n, p = observed.shape
    if observed.all():
        return np.ones((1, p), dtype=bool), np.zeros(n, dtype=np.int64)
    if p <= 62:
        keys = observed.astype(np.int64) @ (np.int64(1) << np.arange(p, dtype=np.int64))
        uniq, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        return observed[first].copy(), inverse.reshape(-1).astype(np.int64)
    patterns, inverse = np.unique(observed, axis=0, return_inverse=True)
    return patterns.astype(bool), inverse.reshape(-1).astype(np.int64)


def _check_variances(stats: TwoLevelStats, where: str, *, cluster_level: Sequence[str] = ()) -> None:
    """Warn for variables without within- or between-cluster variance (relative to their total variance);
    cluster-level variables have none within by definition."""
    within = np.diag(stats.within_cov)
    between = np.diag(stats.between_cov())
    total = within + np.clip(between, 0.0, None)
    flat_within = [v for v, w, t in zip(stats.vars, within, total)
                   if (not w > 1e-12 * t or t == 0) and v not in cluster_level]
    if flat_within:
        warn(
            f"`data`{where}: variable(s) {preview(flat_within)} have zero within-cluster variance.",
            DataWarning,
        )
    flat_between = [v for v, b, t in zip(stats.vars, between, total) if t > 0 and not b > 1e-12 * t]
    if flat_between:
        warn(
            f"`data`{where}: variable(s) {preview(flat_between)} have zero between-cluster variance.",
            DataWarning,
        )
