"""In-memory data stage: a DataFrame (pandas or polars) -> TwoLevelStats per group.

One pass over the rows, O(N p^2).  Values are centred on the grand mean of
each variable before any cross-product is formed, so data with huge offsets
(means around 1e6) keep their digits.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats as sps

from .._arg import choice, preview
from ..exceptions import DataWarning
from .stats import TwoLevelStats, UnitData, stats_from_cluster_sums

STANDARDIZE = ("none", "z", "quantile")


def as_pandas(data: object, *, argument: str = "data") -> pd.DataFrame:
    """Return ``data`` as a pandas DataFrame (polars DataFrames are converted)."""
    if isinstance(data, pd.DataFrame):
        return data
    module = type(data).__module__
    if module.startswith("polars"):
        return data.to_pandas()  # type: ignore[attr-defined]
    raise TypeError(
        f"`{argument}`: expected a pandas or polars DataFrame (or a TwoLevelStats object), "
        f"got {type(data).__name__}."
    )


def resolve_columns(
    frame: pd.DataFrame,
    *,
    vars: Sequence[str] | None,
    clusters: str | None,
    groups: str | None,
) -> list[str]:
    """Check the column arguments against ``frame`` and return the variable names."""
    if clusters is None:
        raise ValueError("`clusters`: required; name the column that holds the cluster ids.")
    if not isinstance(clusters, str):
        raise TypeError(f"`clusters`: expected one column name (str), got {type(clusters).__name__}.")
    columns = list(frame.columns)
    for arg, col in (("clusters", clusters), ("groups", groups)):
        if col is not None and col not in columns:
            raise ValueError(f"`{arg}`: column {col!r} is not in `data` (columns: {preview(columns)}).")
    if vars is None:
        names = [c for c in columns if c not in (clusters, groups)]
    else:
        if isinstance(vars, str):
            vars = [vars]
        names = list(vars)
        unknown = [v for v in names if v not in columns]
        if unknown:
            raise ValueError(f"`vars`: {preview(unknown)} not in `data` (columns: {preview(columns)}).")
        if len(set(names)) != len(names):
            raise ValueError("`vars`: contains duplicated names.")
        if clusters in names or (groups is not None and groups in names):
            raise ValueError("`vars`: must not include the `clusters` or `groups` column.")
    if not names:
        raise ValueError("`vars`: no variables to model (data has only the cluster/group columns).")
    bad = [v for v in names if not (pd.api.types.is_numeric_dtype(frame[v]) and not pd.api.types.is_bool_dtype(frame[v]))]
    if bad:
        raise TypeError(
            f"`data`: variable(s) {preview(bad)} are not numeric "
            f"(dtypes: {', '.join(str(frame[v].dtype) for v in bad[:5])}); convert or leave them out of `vars`."
        )
    return [str(v) for v in names]


def _standardize(values: np.ndarray, method: str) -> np.ndarray:
    if method == "none":
        return values
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
        warnings.warn(
            f"`data`: {n_missing_cluster} row(s) with a missing {what} were dropped.",
            DataWarning,
            stacklevel=3,
        )
        frame = frame.loc[~missing_cluster]
    values = frame[names].to_numpy(dtype=float, na_value=np.nan)
    if np.isinf(values).any():
        bad = [names[k] for k in np.flatnonzero(np.isinf(values).any(axis=0))]
        raise ValueError(f"`data`: variable(s) {preview(bad)} contain infinite values; recode them as missing (NaN).")
    observed = ~np.isnan(values)
    empty = ~observed.any(axis=1)
    n_empty = int(empty.sum())
    if n_empty:
        warnings.warn(
            f"`data`: {n_empty} row(s) with every variable missing carry no information and were dropped.",
            DataWarning,
            stacklevel=3,
        )
        frame = frame.loc[~empty]
        values = values[~empty]
        observed = observed[~empty]
    never = [names[k] for k in np.flatnonzero(~observed.any(axis=0))]
    if never:
        raise ValueError(f"`data`: variable(s) {preview(never)} are missing in every row; leave them out of `vars`.")
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
        rows = group_codes == g
        out.append(
            _group_stats(
                values[rows],
                observed[rows],
                cluster_ids[rows],
                names=tuple(names),
                label=label,
                dropped_cluster=n_missing_cluster,
                dropped_empty=n_empty,
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
) -> TwoLevelStats:
    where = "" if label is None else f" (group {label!r})"
    codes, _ = pd.factorize(pd.Series(cluster_ids), sort=False)
    order = np.argsort(codes, kind="stable")
    codes = codes[order].astype(np.int64)
    values = values[order]
    observed = observed[order]
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
    complete = bool(observed.all())
    # Centre on the grand mean of the observed values, then zero-fill holes.
    count = observed.sum(axis=0)
    center = np.where(observed, values, 0.0).sum(axis=0) / count
    centred = np.where(observed, values - center, 0.0)

    patterns, pattern_index = np.unique(observed, axis=0, return_inverse=True)
    units = UnitData(
        values=centred,
        observed=observed,
        cluster=codes,
        pattern=pattern_index.reshape(-1).astype(np.int64),
        patterns=patterns.astype(bool),
        center=center,
    )
    p = len(names)
    if complete:
        sums = np.zeros((n_clusters, p))
        np.add.at(sums, codes, centred)
        means = sums / sizes[:, None]
        dev = centred - means[codes]
        crossprod = dev.T @ dev
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
    else:
        # Pairwise-available statistics: used only for start values and checks.
        obs_count = np.zeros((n_clusters, p))
        np.add.at(obs_count, codes, observed.astype(float))
        sums = np.zeros((n_clusters, p))
        np.add.at(sums, codes, centred)
        with np.errstate(invalid="ignore", divide="ignore"):
            means = np.where(obs_count > 0, sums / np.maximum(obs_count, 1), 0.0)
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
    _check_variances(stats, where)
    return stats


def _check_variances(stats: TwoLevelStats, where: str) -> None:
    within = np.diag(stats.within_cov)
    scale = np.maximum(np.abs(stats.grand_mean), 1.0)
    flat_within = [v for v, s, c in zip(stats.vars, within, scale) if not s > 1e-12 * c * c]
    if flat_within:
        warnings.warn(
            f"`data`{where}: variable(s) {preview(flat_within)} have zero within-cluster variance.",
            DataWarning,
            stacklevel=4,
        )
    between = np.diag(stats.between_cov())
    total = within + between
    flat_between = [v for v, b, t in zip(stats.vars, between, total) if t > 0 and not b > 1e-12 * t]
    if flat_between:
        warnings.warn(
            f"`data`{where}: variable(s) {preview(flat_between)} have zero between-cluster variance.",
            DataWarning,
            stacklevel=4,
        )
