"""Two-level sufficient statistics: the only thing the estimators read.

Invariants
----------
* ``within_cov`` is the pooled within-cluster covariance
  ``S_PW = sum_j sum_i (y_ij - ybar_j)(y_ij - ybar_j)' / (N - J)``; it is
  invariant to any shift of the data, so it is accumulated on centred data.
* Clusters are grouped by their size ``s``.  For each distinct size
  (``sizes[k]``) we keep the number of clusters ``size_counts[k]`` (m_s), the
  mean of their cluster means ``size_means[k]`` and the maximum-likelihood
  covariance (divisor m_s) of their cluster means ``size_covs[k]``.
* Sizes are sorted increasingly; every array over sizes shares that order.
* Every array is read-only; statistics are made once and never edited.
* ``units`` holds the unit-level rows (needed by the per-cluster route and for
  missing values). It is ``None`` when the statistics came from an
  out-of-core engine; then only the complete-data route is available.

Nothing downstream knows where the statistics came from (numpy, DuckDB, Spark).

Seams (designed for, not built)
-------------------------------
* Sampling weights: a cluster weight w_j would make every cluster-size group's
  count the sum of its clusters' weights and N - J the weighted count of
  units beyond the first of their cluster.  The likelihood routes read both
  only through :attr:`TwoLevelStats.cluster_counts` and
  :attr:`TwoLevelStats.within_dof` (float), so weights enter there and in
  the engines' sums, nowhere else.
* Moments that vary by cluster (random slopes, cluster covariates on the
  means): the statistics group clusters by size, which presumes one mean and
  covariance per size; such a model would take the per-cluster route
  (:mod:`psychonetrics.likelihood.clusters`), which already works cluster by
  cluster over the unit rows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from ..linalg import read_only

if TYPE_CHECKING:
    from ..likelihood.var1_exact import SeriesData

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

STATS_FORMAT_VERSION = 1


@dataclass(frozen=True, eq=False)
class UnitData:
    """Unit-level rows of one group, sorted by cluster, for the per-cluster route.

    Attributes
    ----------
    values : (N, p) float array
        Observed values minus ``center``, with missing entries set to 0.
    observed : (N, p) bool array
        True where a value was observed.
    cluster : (N,) int array
        Cluster index (0..J-1) of each row; non-decreasing.
    center : (p,) float array
        Shift subtracted from every observed value (the grand mean).
    layouts : dict
        Data-only arrangements of these rows for the per-cluster likelihood,
        one per variable roles, filled on first use (derived, never edited).
    """

    values: FloatArray
    observed: NDArray[np.bool_]
    cluster: IntArray
    center: FloatArray
    layouts: dict = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for name in ("values", "observed", "cluster", "center"):
            object.__setattr__(self, name, read_only(getattr(self, name)))

    @property
    def complete(self) -> bool:
        """Whether every value is observed."""
        return bool(self.observed.all())


@dataclass(frozen=True, eq=False)
class TwoLevelStats:
    """Sufficient statistics of one group of two-level data.

    Attributes
    ----------
    vars : tuple of str
        Names of the p observed variables, in column order.
    n_units : int
        N, the number of units (rows) used.
    n_clusters : int
        J, the number of clusters.
    within_cov : (p, p) float array
        Pooled within-cluster covariance S_PW (divisor N - J).
    sizes : (K,) int array
        Distinct cluster sizes, increasing.
    size_counts : (K,) int array
        Number of clusters of each size (m_s).
    size_means : (K, p) float array
        Mean of the cluster means of the clusters of each size.
    size_covs : (K, p, p) float array
        Covariance (divisor m_s) of the cluster means of each size.
    group : str or None
        Label of the group these statistics belong to.
    units : UnitData or None
        Unit-level rows (in-memory data only).
    series : SeriesData or None
        The persons' whole series, for a likelihood of every observed occasion (the exact multilevel
        VAR(1) estimator; these statistics are then those of its lag pairs).
    n_dropped_missing_cluster : int
        Rows dropped because their cluster id was missing.
    n_dropped_empty : int
        Rows dropped because every variable was missing.

    Examples
    --------
    Statistics are all the ``"ML"`` estimator needs; they can be saved and
    fitted later without the data:

    >>> import psychonetrics as pn
    >>> stats = pn.twolevel_stats(pn.datasets.seed_example(), clusters="cluster")
    >>> stats.save("seed_stats.json")
    >>> again = pn.TwoLevelStats.load("seed_stats.json")
    >>> again.vars
    ('y1', 'y2', 'y3', 'y4', 'y5', 'y6')
    >>> mod = pn.ml_lvm(again, "F1 =~ y1 + y2 + y3; F2 =~ y4 + y5 + y6").runmodel()
    >>> print(round(mod.fit()["chisq"], 2))
    15.92
    """

    vars: tuple[str, ...]
    n_units: int
    n_clusters: int
    within_cov: FloatArray
    sizes: IntArray
    size_counts: IntArray
    size_means: FloatArray
    size_covs: FloatArray
    group: str | None = None
    units: UnitData | None = field(default=None, repr=False)
    series: "SeriesData | None" = field(default=None, repr=False)
    n_dropped_missing_cluster: int = 0
    n_dropped_empty: int = 0

    def __post_init__(self) -> None:
        for name in ("within_cov", "sizes", "size_counts", "size_means", "size_covs"):
            object.__setattr__(self, name, read_only(getattr(self, name)))

    def __repr__(self) -> str:
        group = "" if self.group is None else f", group={self.group!r}"
        kind = "complete" if self.complete else "with missing values"
        sizes = f"{self.sizes.min()}..{self.sizes.max()}" if self.sizes.size else "-"
        return (f"TwoLevelStats(N={self.n_units}, J={self.n_clusters}, p={self.n_vars}, cluster sizes {sizes} "
                f"({self.sizes.size} distinct), {kind}{group}; vars={list(self.vars)})")

    @property
    def n_vars(self) -> int:
        """p, the number of observed variables."""
        return len(self.vars)

    @property
    def within_dof(self) -> float:
        """N - J: the within level's degrees of freedom (every unit beyond the first of its cluster), the
        weight of S_PW in the likelihood.

        With sampling weights (a seam, not built: see the module docstring) this and
        :attr:`cluster_counts` would be the weighted counts; every route reads them from here."""
        return float(self.n_units - self.n_clusters)

    @property
    def cluster_counts(self) -> FloatArray:
        """m_s, the number of clusters of each size, as floats (the weights of the between terms)."""
        return self.size_counts.astype(float)

    @property
    def complete(self) -> bool:
        """Whether the data had no missing values (always true out of core)."""
        return self.units is None or self.units.complete

    @property
    def max_cluster_size(self) -> int:
        """Size of the largest cluster."""
        return int(self.sizes.max())

    @property
    def grand_mean(self) -> FloatArray:
        """Mean of all units, (p,) (for complete data)."""
        w = self.sizes * self.size_counts
        return (w[:, None] * self.size_means).sum(axis=0) / w.sum()

    def subset(self, names: "tuple[str, ...] | list[str]") -> "TwoLevelStats":
        """The statistics of some of the variables (in the order given)."""
        idx = np.asarray([self.vars.index(v) for v in names], dtype=np.int64)
        units = None
        if self.units is not None:
            u = self.units
            observed = u.observed[:, idx]
            keep = observed.any(axis=1)
            units = UnitData(values=u.values[keep][:, idx], observed=observed[keep], cluster=u.cluster[keep],
                             center=u.center[idx])
        return TwoLevelStats(
            vars=tuple(names), n_units=self.n_units, n_clusters=self.n_clusters,
            within_cov=self.within_cov[np.ix_(idx, idx)], sizes=self.sizes, size_counts=self.size_counts,
            size_means=self.size_means[:, idx], size_covs=self.size_covs[:, idx][:, :, idx], group=self.group,
            units=units, n_dropped_missing_cluster=self.n_dropped_missing_cluster,
            n_dropped_empty=self.n_dropped_empty)

    def between_cov(self) -> FloatArray:
        """Covariance (divisor J) of all cluster means around their mean, (p, p)."""
        m = self.size_counts.astype(float)
        mean = (m[:, None] * self.size_means).sum(axis=0) / m.sum()
        dev = self.size_means - mean
        total = (m[:, None, None] * (self.size_covs + dev[:, :, None] * dev[:, None, :])).sum(axis=0)
        return total / m.sum()

    # ------------------------------------------------------------------ I/O
    def to_dict(self) -> dict[str, object]:
        """A JSON-serialisable dict of the statistics (unit rows are not kept)."""
        return {
            "format": "psychonetrics.TwoLevelStats",
            "version": STATS_FORMAT_VERSION,
            "vars": list(self.vars),
            "group": self.group,
            "n_units": int(self.n_units),
            "n_clusters": int(self.n_clusters),
            "within_cov": self.within_cov.tolist(),
            "sizes": self.sizes.tolist(),
            "size_counts": self.size_counts.tolist(),
            "size_means": self.size_means.tolist(),
            "size_covs": self.size_covs.tolist(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> "TwoLevelStats":
        """Inverse of :meth:`to_dict`."""
        if d.get("format") != "psychonetrics.TwoLevelStats":
            raise ValueError("`d`: not a psychonetrics TwoLevelStats record (missing 'format').")
        version = d.get("version")
        if version != STATS_FORMAT_VERSION:
            raise ValueError(
                f"`d`: statistics format version {version} is not supported "
                f"(this psychonetrics reads version {STATS_FORMAT_VERSION})."
            )
        return cls(
            vars=tuple(d["vars"]),  # type: ignore[arg-type]
            n_units=int(d["n_units"]),  # type: ignore[arg-type]
            n_clusters=int(d["n_clusters"]),  # type: ignore[arg-type]
            within_cov=np.asarray(d["within_cov"], dtype=float),
            sizes=np.asarray(d["sizes"], dtype=np.int64),
            size_counts=np.asarray(d["size_counts"], dtype=np.int64),
            size_means=np.asarray(d["size_means"], dtype=float).reshape(len(d["sizes"]), -1),  # type: ignore[arg-type]
            size_covs=np.asarray(d["size_covs"], dtype=float).reshape(
                len(d["sizes"]), len(d["vars"]), len(d["vars"])  # type: ignore[arg-type]
            ),
            group=d.get("group"),  # type: ignore[arg-type]
        )

    def save(self, path: str | Path) -> None:
        """Write the statistics as versioned JSON (unit rows are not written)."""
        Path(path).write_text(json.dumps(self.to_dict()))

    @classmethod
    def load(cls, path: str | Path) -> "TwoLevelStats":
        """Read statistics written by :meth:`save`."""
        return cls.from_dict(json.loads(Path(path).read_text()))


def stats_from_cluster_sums(
    *,
    vars: tuple[str, ...],
    cluster_sizes: IntArray,
    cluster_means: FloatArray,
    within_crossprod: FloatArray,
    group: str | None = None,
    units: UnitData | None = None,
    n_dropped_missing_cluster: int = 0,
    n_dropped_empty: int = 0,
) -> TwoLevelStats:
    """Assemble :class:`TwoLevelStats` from per-cluster sizes and means.

    Parameters
    ----------
    cluster_sizes : (J,) int array
        n_j for every cluster.
    cluster_means : (J, p) float array
        Mean vector of every cluster.
    within_crossprod : (p, p) float array
        sum_j sum_i (y_ij - ybar_j)(y_ij - ybar_j)' (not yet divided).

    Every engine (numpy, DuckDB, Spark) reduces its data to these three
    arrays (or directly to the per-size arrays) and calls this function or
    the constructor.
    """
    cluster_sizes = np.asarray(cluster_sizes, dtype=np.int64)
    cluster_means = np.asarray(cluster_means, dtype=float)
    n_units = int(cluster_sizes.sum())
    n_clusters = int(cluster_sizes.size)
    sizes, inverse, counts = np.unique(cluster_sizes, return_inverse=True, return_counts=True)
    p = cluster_means.shape[1]
    means = np.zeros((sizes.size, p))
    np.add.at(means, inverse, cluster_means)
    means /= counts[:, None]
    dev = cluster_means - means[inverse]
    covs = np.zeros((sizes.size, p, p))
    np.add.at(covs, inverse, dev[:, :, None] * dev[:, None, :])
    covs /= counts[:, None, None]
    dof = n_units - n_clusters  # within_dof of the statistics below
    within = within_crossprod / dof if dof > 0 else np.full((p, p), np.nan)
    return TwoLevelStats(
        vars=tuple(vars),
        n_units=n_units,
        n_clusters=n_clusters,
        within_cov=0.5 * (within + within.T),
        sizes=sizes.astype(np.int64),
        size_counts=counts.astype(np.int64),
        size_means=means,
        size_covs=0.5 * (covs + np.swapaxes(covs, 1, 2)),
        group=group,
        units=units,
        n_dropped_missing_cluster=n_dropped_missing_cluster,
        n_dropped_empty=n_dropped_empty,
    )
