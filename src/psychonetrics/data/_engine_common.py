"""Pieces shared by the out-of-core engines (DuckDB, Spark).

Both engines run the same named steps over the rows and hand back small
tables; only the query language differs:

``_rows``
    the selected columns: group value ``g`` and its text ``label``, cluster
    ``cl``, the variables as doubles ``v0..`` and their missing flags.
``_fast_pass1`` / ``_detailed_pass1`` (pass 1, per group)
    row counts, rows without cluster id, infinite values, incomplete and
    empty rows, observed counts per variable, and the mean of every variable
    over the usable rows (the shift ``c``).  The fast pass uses plain
    aggregates and gives up (None) when a value is missing or infinite; the
    detailed pass then counts everything the messages need.
:func:`check_pass1`
    the same errors and warnings as the in-memory stage.
``_centred_rows``
    the usable complete rows as ``z = y - c`` (the shift of their group).
``_cluster_passes`` (passes 2 and 3)
    per cluster ``n_j`` and the mean ``m_j`` of ``z``; then
    ``sum (z - m_j)(z - m_j)'`` over the rows, joined to their cluster, and
    per cluster size the count, the mean of ``m_j`` and the mean of
    ``(m_j - a_s)(m_j - a_s)'``: one :class:`SizeAggregates` per group.
:func:`assemble_groups`
    :class:`TwoLevelStats` of every usable group.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .._arg import preview
from .._warn import warn
from ..exceptions import DataWarning
from .frame import _check_variances, resolve_names  # noqa: F401  (resolve_names: used by the engines)
from .stats import TwoLevelStats

#: Word used for the data argument in messages of the out-of-core engines.
SOURCE = "source"

FIML_HINT = (
    "pass dropna=True to drop them (listwise deletion), or load the data into a pandas "
    'DataFrame and fit ml_lvm(data, ..., estimator="FIML") to use every observed value'
)


@dataclass
class GroupCounts:
    """Result of pass 1 for one group (``label`` None: no `groups` column)."""

    label: str | None
    n_rows: int
    n_no_cluster: int
    n_incomplete: int
    n_empty: int
    n_inf: list[int]
    n_observed: list[int]
    shift: list[float | None]

    @classmethod
    def empty(cls, label: str | None, p: int) -> "GroupCounts":
        """Counts of a group before any row is added (fast pass 1 accumulates into it)."""
        return cls(label=label, n_rows=0, n_no_cluster=0, n_incomplete=0, n_empty=0, n_inf=[0] * p,
                   n_observed=[0] * p, shift=[None] * p)


@dataclass(frozen=True)
class SizeAggregates:
    """Result of passes 2 and 3 for one group, on the shifted scale (``z = y - c``).

    ``sizes[k]``, ``counts[k]``, ``centred_means[k]`` and ``cov_tri[k]``
    describe the clusters of one size (in any order); ``within_tri`` is
    ``sum (z - m_j)(z - m_j)'`` over the group's rows.  Triangles are in
    :func:`tri_indices` order.
    """

    sizes: list[int]
    counts: list[int]
    centred_means: list[Sequence[float]]
    cov_tri: list[Sequence[float]]
    within_tri: Sequence[float]


def check_pass1(
    counts: list[GroupCounts],
    *,
    names: Sequence[str],
    grouped: bool,
    dropna: bool,
) -> tuple[list[GroupCounts], int, int]:
    """Raise or warn as the in-memory stage does; return the usable groups and drop counts.

    ``counts`` may hold a group with ``label`` None when ``grouped``: the rows
    whose group label is missing (all counted as dropped).  Usable groups
    have rows with a cluster id and at least one complete row (a shift).
    """
    n_no_cluster = sum(c.n_no_cluster for c in counts)
    if n_no_cluster:
        what = "cluster id" if not grouped else "cluster id or group label"
        warn(
            f"`{SOURCE}`: {n_no_cluster} row(s) with a missing {what} were dropped.",
            DataWarning,
        )
    usable = [c for c in counts if c.n_rows > c.n_no_cluster]
    p = len(names)
    n_inf = [sum(c.n_inf[k] for c in usable) for k in range(p)]
    bad = [names[k] for k in range(p) if n_inf[k]]
    if bad:
        raise ValueError(
            f"`{SOURCE}`: variable(s) {preview(bad)} contain infinite values; recode them as missing (NULL/NaN)."
        )
    n_empty = sum(c.n_empty for c in usable)
    if n_empty:
        warn(
            f"`{SOURCE}`: {n_empty} row(s) with every variable missing carry no information and were dropped.",
            DataWarning,
        )
    n_observed = [sum(c.n_observed[k] for c in usable) for k in range(p)]
    never = [names[k] for k in range(p) if usable and n_observed[k] == 0]
    if never:
        raise ValueError(
            f"`{SOURCE}`: variable(s) {preview(never)} are missing in every row; leave them out of `vars`."
        )
    n_partial = sum(c.n_incomplete - c.n_empty for c in usable)
    if n_partial and not dropna:
        total = sum(c.n_rows - c.n_no_cluster - c.n_empty for c in usable)
        raise ValueError(
            f"`{SOURCE}`: {n_partial} of {total} row(s) have missing values (NULL or NaN) in the selected "
            f"variables, and out-of-core statistics need complete rows; {FIML_HINT}."
        )
    usable = [c for c in usable if c.shift[0] is not None]  # groups left with no complete row
    if not usable:
        raise ValueError("`clusters`: the data have 0 cluster(s); a two-level model needs at least two.")
    return usable, n_no_cluster, n_empty


def tri_indices(p: int) -> list[tuple[int, int]]:
    """Pairs (k, l) with k <= l, in the order the engines emit cross-products."""
    return [(k, l) for k in range(p) for l in range(k, p)]


def _unpack_tri(values: Sequence[float], p: int) -> np.ndarray:
    out = np.zeros((p, p))
    for (k, l), v in zip(tri_indices(p), values):
        out[k, l] = out[l, k] = float(v)
    return out


def assemble(
    *,
    names: Sequence[str],
    label: str | None,
    shift: Sequence[float],
    sizes: Sequence[int],
    counts: Sequence[int],
    centred_means: Sequence[Sequence[float]],
    cov_tri: Sequence[Sequence[float]],
    within_tri: Sequence[float],
    n_dropped_missing_cluster: int,
    n_dropped_empty: int,
) -> TwoLevelStats:
    """Build :class:`TwoLevelStats` of one group from the engines' per-size aggregates.

    ``centred_means[k]`` is the mean of the cluster means of size ``sizes[k]``
    on the shifted scale (``y - shift``); the shift is added back here, after
    the covariances were formed, so huge offsets cost no digits.
    """
    where = "" if label is None else f" (group {label!r})"
    p = len(names)
    order = np.argsort(np.asarray(sizes, dtype=np.int64), kind="stable")
    sizes_arr = np.asarray(sizes, dtype=np.int64)[order]
    counts_arr = np.asarray(counts, dtype=np.int64)[order]
    n_clusters = int(counts_arr.sum())
    if n_clusters < 2:
        raise ValueError(
            f"`clusters`: the data{where} have {n_clusters} cluster(s); a two-level model needs at least two."
        )
    if int(sizes_arr.max()) < 2:
        raise ValueError(
            f"`clusters`: every cluster{where} has a single unit, so the within-cluster level is not "
            "identified; a two-level model needs clusters with two or more units."
        )
    n_units = int((sizes_arr * counts_arr).sum())
    means = np.asarray(centred_means, dtype=float).reshape(-1, p)[order] + np.asarray(shift, dtype=float)
    covs = np.stack([_unpack_tri(cov_tri[i], p) for i in order])
    within = _unpack_tri(within_tri, p) / (n_units - n_clusters)
    stats = TwoLevelStats(
        vars=tuple(names),
        n_units=n_units,
        n_clusters=n_clusters,
        within_cov=within,
        sizes=sizes_arr,
        size_counts=counts_arr,
        size_means=means,
        size_covs=covs,
        group=label,
        units=None,
        n_dropped_missing_cluster=n_dropped_missing_cluster,
        n_dropped_empty=n_dropped_empty,
    )
    _check_variances(stats, where)
    return stats


def assemble_groups(
    usable: Sequence[GroupCounts],
    aggregates: dict[str | None, SizeAggregates],
    *,
    names: Sequence[str],
    grouped: bool,
    n_no_cluster: int,
    n_empty: int,
) -> list[TwoLevelStats]:
    """:class:`TwoLevelStats` of every usable group from its pass-3 aggregates (keyed by group label)."""
    q = len(tri_indices(len(names)))
    none = SizeAggregates(sizes=[], counts=[], centred_means=[], cov_tri=[], within_tri=[0.0] * q)
    out = []
    for c in usable:
        agg = aggregates.get(c.label, none)
        out.append(
            assemble(
                names=names,
                label=c.label if grouped else None,
                shift=[float(s) for s in c.shift],  # type: ignore[arg-type]
                sizes=agg.sizes,
                counts=agg.counts,
                centred_means=agg.centred_means,
                cov_tri=agg.cov_tri,
                within_tri=agg.within_tri,
                n_dropped_missing_cluster=n_no_cluster,
                n_dropped_empty=n_empty,
            )
        )
    return out
