"""Cluster resampling: the statistics of a bootstrap sample, built from per-cluster sums.

A bootstrap sample draws J clusters with replacement from the J clusters of
a group (groups are resampled separately and keep their sizes).  A cluster
drawn twice enters twice, as two distinct clusters.

Invariants
----------
* Everything a cluster contributes depends on that cluster alone: its size
  n_j, its mean ybar_j and its within cross-product
  C_j = sum_i (y_ij - ybar_j)(y_ij - ybar_j)'.  They are computed once per
  group; a bootstrap sample is then ``w @ C`` (w = how often each cluster was
  drawn) and the drawn means, with no pass over the unit rows.
* With missing values the cluster means and cross-products are the
  pairwise-available ones of :mod:`psychonetrics.data.frame` (used only for
  start values and checks), and the sample also carries its unit rows
  (whole clusters, in the order drawn), which the per-cluster likelihood
  reads.  Complete data fitted by ``"ML"`` need no unit rows.
* Unit rows stay centred on the original grand mean (``UnitData.center``):
  the likelihood needs a common shift, not the sample's own mean.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..data.frame import cluster_means, cluster_sums
from ..data.stats import TwoLevelStats, UnitData, stats_from_cluster_sums
from ..linalg import FloatArray

#: Per-cluster cross-products are kept when they take at most this many floats (else the rows are weighted).
MAX_CLUSTER_FLOATS = 20_000_000


@dataclass(frozen=True, eq=False)
class GroupResampler:
    """Per-cluster sums of one group and the draw of a bootstrap sample from them.

    Attributes
    ----------
    stats : TwoLevelStats
        The group's statistics (with unit rows).
    sizes : (J,) int array
        Units per cluster.
    means : (J, p) float array
        Cluster means of the centred values (pairwise-available with missing values).
    crossprod : (J, p, p) float array or None
        Within cross-product of every cluster; None when too large (then ``deviations`` is used).
    deviations : (N, p) float array or None
        Unit deviations from their cluster mean (zero where missing), for the weighted form.
    pairs : (J, p, p) float array or None
        Per cluster, the number of units observing each pair of variables (missing values only,
        None when too large).
    row_starts : (J + 1,) int array
        First unit row of every cluster (rows are sorted by cluster).
    complete : bool
        Whether every value is observed.
    keep_units : bool
        Whether bootstrap samples carry their unit rows.
    """

    stats: TwoLevelStats
    sizes: np.ndarray
    means: FloatArray
    crossprod: FloatArray | None
    deviations: FloatArray | None
    pairs: FloatArray | None
    row_starts: np.ndarray
    complete: bool
    keep_units: bool

    @classmethod
    def of(cls, stats: TwoLevelStats, *, keep_units: bool) -> "GroupResampler":
        """Precompute the per-cluster sums of ``stats`` (which must hold unit rows)."""
        units = stats.units
        assert units is not None
        codes, n_clusters = units.cluster, stats.n_clusters
        sizes = np.bincount(codes, minlength=n_clusters)
        values, observed = units.values, units.observed
        complete = units.complete
        means = cluster_means(codes, values, observed, n_clusters, sizes)
        deviations = values - means[codes] if complete else np.where(observed, values - means[codes], 0.0)
        p = values.shape[1]
        if n_clusters * p * p <= MAX_CLUSTER_FLOATS:
            crossprod = _per_cluster_crossprod(deviations, codes, n_clusters)
            pairs = None if complete else _per_cluster_crossprod(observed.astype(float), codes, n_clusters)
            deviations_kept = None
        else:  # too many clusters x variables: weight the unit rows instead
            crossprod = pairs = None
            deviations_kept = deviations
        row_starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        return cls(stats, sizes.astype(np.int64), means, crossprod, deviations_kept, pairs, row_starts,
                   complete, keep_units or not complete)

    @property
    def n_clusters(self) -> int:
        return self.stats.n_clusters

    def draw(self, rng: np.random.Generator) -> TwoLevelStats:
        """The statistics of one bootstrap sample: J clusters drawn with replacement."""
        return self.sample(rng.integers(0, self.n_clusters, size=self.n_clusters))

    def sample(self, drawn: np.ndarray) -> TwoLevelStats:
        """The statistics of the clusters ``drawn`` (indices 0..J-1, repeats allowed), in that order."""
        units = self.stats.units
        assert units is not None
        weights = np.bincount(drawn, minlength=self.n_clusters).astype(float)
        if self.crossprod is not None:
            within = np.tensordot(weights, self.crossprod, axes=1)
        else:
            assert self.deviations is not None
            row_weights = weights[units.cluster][:, None]
            within = (self.deviations * row_weights).T @ self.deviations
        sizes = self.sizes[drawn]
        n_units, n_clusters = int(sizes.sum()), drawn.size
        if not self.complete:  # pairwise-available, as the data stage computes it
            if self.pairs is not None:
                pair = np.tensordot(weights, self.pairs, axes=1)
            else:
                seen = units.observed.astype(float)
                pair = (seen * weights[units.cluster][:, None]).T @ seen
            within = within * (n_units - n_clusters) / np.maximum(pair - n_clusters, 1.0)
        sample_units = self._units(drawn, sizes) if self.keep_units else None
        return stats_from_cluster_sums(
            vars=self.stats.vars, cluster_sizes=sizes, cluster_means=self.means[drawn] + units.center,
            within_crossprod=within, group=self.stats.group, units=sample_units)

    def _units(self, drawn: np.ndarray, sizes: np.ndarray) -> UnitData:
        """The unit rows of the drawn clusters, renumbered 0..J-1 in the order drawn."""
        units = self.stats.units
        assert units is not None
        ends = np.cumsum(sizes)
        rows = np.arange(ends[-1]) + np.repeat(self.row_starts[drawn] - (ends - sizes), sizes)
        return UnitData(values=units.values[rows], observed=units.observed[rows],
                        cluster=np.repeat(np.arange(drawn.size, dtype=np.int64), sizes), center=units.center)


def _per_cluster_crossprod(values: FloatArray, codes: np.ndarray, n_clusters: int,
                           chunk_floats: int = 4_194_304) -> FloatArray:
    """sum over the rows of each cluster of x x', (J, p, p); rows are taken in chunks to bound memory."""
    n, p = values.shape
    out = np.zeros((n_clusters, p * p))
    step = max(1, chunk_floats // max(p * p, 1))
    for start in range(0, n, step):
        block = values[start:start + step]
        outer = (block[:, :, None] * block[:, None, :]).reshape(block.shape[0], p * p)
        out += cluster_sums(codes[start:start + step], outer, n_clusters)
    return out.reshape(n_clusters, p, p)


__all__ = ["GroupResampler"]


@dataclass(frozen=True, eq=False)
class SeriesResampler:
    """Draws persons of a group whose likelihood reads whole series (``TwoLevelStats.series``).

    A bootstrap sample holds the drawn persons' series, renumbered in the order drawn; its other
    statistics (the lag pairs, which only give start values) stay those of the group.
    """

    stats: TwoLevelStats

    @property
    def n_clusters(self) -> int:
        assert self.stats.series is not None
        return int(self.stats.series.n_persons)

    def draw(self, rng: np.random.Generator) -> TwoLevelStats:
        """The statistics of one bootstrap sample: J persons drawn with replacement."""
        return self.sample(rng.integers(0, self.n_clusters, size=self.n_clusters))

    def sample(self, drawn: np.ndarray) -> TwoLevelStats:
        """The statistics with the series of the persons ``drawn`` (indices 0..J-1, repeats allowed)."""
        from ..likelihood.var1_exact import resample_series

        assert self.stats.series is not None
        return replace(self.stats, series=resample_series(self.stats.series, drawn))
