"""The result of a cluster bootstrap: estimates per replicate, SEs, percentile intervals, edge stability.

Invariants
----------
* ``estimates`` has one row per successful replicate (in replicate order,
  ``replicates`` gives their numbers) and one column per free parameter of
  the bootstrapped model (its ``par`` numbering).  Failed replicates are
  never in it; they are listed in ``failures`` with their reason.
* Bootstrap SEs are standard deviations (divisor n - 1) over the successful
  replicates; intervals are percentile intervals (numpy's linear quantiles).
* Edges are the lower triangle of every network matrix of every group:
  the model's own ``omega_*`` matrices, or else the family's derived
  networks (:meth:`Family.network_matrices`), over the rows that are
  network nodes (:meth:`Family.network_nodes`: not the phantoms of observed
  covariates).  With a search, an edge's
  bootstrap values are those of the searched model, where a removed edge
  counts as 0 and as not included.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..linalg import FloatArray

if TYPE_CHECKING:
    from ..interface import FittedModel

#: An edge weight counts as included when its absolute value exceeds this.
INCLUDED_ABOVE = 1e-10


@dataclass(frozen=True)
class Failure:
    """A replicate whose refit (or search) failed: its number (0-based) and why."""

    replicate: int
    reason: str




def _readonly(array: np.ndarray) -> np.ndarray:
    array = np.asarray(array)
    array.flags.writeable = False
    return array


@dataclass(frozen=True, eq=False)
class BootstrapResult:
    """Cluster-bootstrap replicates of a fitted model (build it with :func:`psychonetrics.bootstrap`).

    Attributes
    ----------
    model : Model
        The bootstrapped (fitted) model.
    estimates : (n_success, n_free) float array
        Free-parameter estimates of every successful replicate (read-only).
    replicates : (n_success,) int array
        Replicate number (0-based) of every row of ``estimates``.
    failures : tuple of Failure
        Every failed replicate (not converged, or an error) with its reason.
    n_boot : int
        Replicates drawn.
    seed : int or tuple of int
        Entropy of the seed sequence the replicates' seeds were spawned from:
        ``bootstrap(model, n_boot=n_boot, seed=result.seed)`` repeats the result.
    jobs : int
        Processes used.
    seconds : float
        Wall time of the replicates.
    search : str or None
        The search applied to every replicate (None: the model as specified).
    searched_model : Model or None
        The search applied to the sample (the sample network of :meth:`edges`).
    searched_values : (n_success, n_rows) float array or None
        With a search: the parameter-table values of every searched replicate.

    Examples
    --------
    >>> import psychonetrics as pn
    >>> ggm = pn.ml_ggm(pn.datasets.seed_example(), clusters="cluster").runmodel()
    >>> boot = ggm.bootstrap(n_boot=20, seed=1, jobs=1)
    >>> boot.estimates.shape, boot.n_failed
    ((20, 48), 0)
    >>> edges = boot.edges()
    >>> edges[["level", "node1", "node2", "sample", "inclusion"]].head(2).round(2)
        level node1 node2  sample  inclusion
    0  within    y1    y2    0.47        1.0
    1  within    y1    y3    0.32        1.0
    """

    model: "FittedModel"
    estimates: FloatArray
    replicates: np.ndarray
    failures: tuple[Failure, ...]
    n_boot: int
    seed: int | tuple[int, ...]
    jobs: int
    seconds: float
    search: str | None = None
    searched_model: "FittedModel | None" = None
    searched_values: FloatArray | None = None
    _cache: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("estimates", "replicates", "searched_values"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, _readonly(value))

    # ------------------------------------------------------------- counts
    @property
    def n_success(self) -> int:
        """Replicates that converged (the rows of ``estimates``)."""
        return int(self.estimates.shape[0])

    @property
    def n_failed(self) -> int:
        """Replicates whose refit or search failed (left out of every summary)."""
        return len(self.failures)

    def failure_counts(self) -> dict[str, int]:
        """How many replicates failed for each kind of reason (the text before the first colon)."""
        counts: dict[str, int] = {}
        for failure in self.failures:
            kind = failure.reason.split(":", 1)[0]
            counts[kind] = counts.get(kind, 0) + 1
        return counts

    # ------------------------------------------------------- parameters
    @property
    def se(self) -> FloatArray:
        """Bootstrap standard error of every free parameter, (n_free,) (NaN with fewer than 2 replicates)."""
        if self.n_success < 2:
            return np.full(self.estimates.shape[1], np.nan)
        return self.estimates.std(axis=0, ddof=1)

    def confint(self, *, level: float = 0.95) -> pd.DataFrame:
        """Percentile intervals of the free parameters.

        Parameters
        ----------
        level : float
            Coverage of the intervals, between 0 and 1.

        Returns
        -------
        pandas.DataFrame
            One row per free parameter (the free rows of ``model.parameters()``,
            one per ``par``): var1, op, var2, matrix, row, col, group, par,
            est (the sample estimate), se_boot, lower, upper.
        """
        lo, hi = _quantiles(self.estimates, level)
        frame = self.model.parameters()
        frame = frame.loc[~frame["fixed"]].drop_duplicates("par")
        out = frame[["var1", "op", "var2", "matrix", "row", "col", "group", "par", "est"]].copy()
        k = out["par"].to_numpy() - 1
        out["se_boot"] = self.se[k]
        out["lower"] = lo[k]
        out["upper"] = hi[k]
        out.attrs["level"] = level
        out.attrs["n_success"] = self.n_success
        return out.reset_index(drop=True)

    # ------------------------------------------------------------ edges
    def _edge_layout(self) -> list[tuple[str, int, np.ndarray, np.ndarray, tuple[str, ...], str]]:
        """Per network matrix and group: (matrix, group, rows i, cols j, labels of all rows, level): i > j in an
        undirected network, every (i, j) in a directed one."""
        if "layout" not in self._cache:
            out = []
            model = self.model
            for net in model.family.networks():
                labels = model.family.matrix_labels(net.matrix)[0]
                nodes = np.asarray(net.nodes, dtype=int)  # phantoms are not nodes
                if net.directed:  # every effect of node j on node i, the autoregressions (i = j) included
                    rows, cols = np.indices((nodes.size, nodes.size)).reshape(2, -1)
                    i, j = nodes[rows], nodes[cols]
                else:
                    lower, upper = np.tril_indices(nodes.size, k=-1)
                    i, j = nodes[lower], nodes[upper]
                for g in range(len(model.stats)):
                    out.append((net.matrix, g, i, j, tuple(labels), net.level))
            self._cache["layout"] = out
        return self._cache["layout"]

    def _edge_values(self, values: FloatArray) -> FloatArray:
        """The edge weights of one set of table values, (n_edges,)."""
        model = self.model
        parts, by_group = [], {}
        for name, g, i, j, _, _ in self._edge_layout():
            if g not in by_group:
                by_group[g] = model.table.matrices(values, g)
            mats = by_group[g]
            if name not in mats:
                if ("derived", g) not in by_group:
                    by_group[("derived", g)] = model.family.derived(mats)
                matrix = by_group[("derived", g)][name]
            else:
                matrix = mats[name]
            parts.append(np.asarray(matrix, dtype=float)[i, j])
        return np.concatenate(parts) if parts else np.zeros(0)

    def edge_values(self) -> FloatArray:
        """Edge weights of every successful replicate, (n_success, n_edges), in the row order of :meth:`edges`."""
        if "edge_values" not in self._cache:
            if self.searched_values is not None:
                rows = [self._edge_values(v) for v in self.searched_values]
            else:
                rows = [self._edge_values(self.model.table.values_at(x)) for x in self.estimates]
            n_edges = sum(part[2].size for part in self._edge_layout())
            self._cache["edge_values"] = _readonly(np.vstack(rows) if rows else np.zeros((0, n_edges)))
        return self._cache["edge_values"]

    def edges(self, *, level: float = 0.95) -> pd.DataFrame:
        """Stability of every network edge, per level (within/between) and group.

        Parameters
        ----------
        level : float
            Coverage of the percentile intervals.

        Returns
        -------
        pandas.DataFrame
            One row per edge (of a directed network: from node1 to node2): level, matrix, node1, node2, group,
            sample (the
            edge in the sample: of the searched sample model when a search was
            used), boot_mean, boot_sd, lower, upper (percentile interval) and
            inclusion (proportion of replicates where the edge is nonzero; with
            a search, how often the search kept it).  Empty when the model has
            no network.
        """
        sample_model = self.searched_model if self.searched_model is not None else self.model
        sample = self._edge_values(sample_model.table.value)
        boot = self.edge_values()
        lo, hi = _quantiles(boot, level)
        rows = []
        for name, g, i, j, labels, level in self._edge_layout():
            for a, b in zip(j, i):
                rows.append((level, name, labels[a], labels[b], self.model.group_labels[g]))
        frame = pd.DataFrame(rows, columns=["level", "matrix", "node1", "node2", "group"])
        n = boot.shape[0]
        frame["sample"] = sample
        frame["boot_mean"] = boot.mean(axis=0) if n else np.nan
        frame["boot_sd"] = boot.std(axis=0, ddof=1) if n > 1 else np.nan
        frame["lower"] = lo
        frame["upper"] = hi
        frame["inclusion"] = (np.abs(boot) > INCLUDED_ABOVE).mean(axis=0) if n else np.nan
        frame.attrs["level"] = level
        frame.attrs["search"] = self.search
        return frame

    def plot(self, **kwargs: Any) -> Any:
        """Edge stability plot (see :func:`psychonetrics.plot_stability`); needs matplotlib."""
        from ..report.stability import plot_stability

        return plot_stability(self, **kwargs)

    # ----------------------------------------------------------- output
    def _lines(self) -> list[str]:
        failed = ""
        if self.n_failed:
            kinds = ", ".join(f"{k}: {v}" for k, v in self.failure_counts().items())
            failed = f" ({kinds})"
        clusters = self.model.family.unit_names()[0]
        lines = [
            f"Cluster bootstrap of {self.model.wrapper}: {self.n_boot} replicates, "
            f"{self.n_success} refits used, {self.n_failed} failed{failed}",
            f"  {clusters.capitalize()} resampled within each group ({self.model.n_clusters} {clusters}, "
            f"{len(self.model.stats)} group(s)); seed {self.seed}; {self.jobs} process(es), {self.seconds:.1f} s",
        ]
        if self.search is not None:
            lines.append(f"  Search on every replicate: {self.search}")
        return lines

    def __repr__(self) -> str:
        return "\n".join(self._lines())

    __str__ = __repr__

    def _repr_html_(self) -> str:
        body = "<br>".join(html.escape(line.strip()) for line in self._lines())
        return f"<div><b>BootstrapResult</b><br>{body}</div>"


def _quantiles(values: FloatArray, level: float) -> tuple[FloatArray, FloatArray]:
    """Lower and upper percentile bounds per column (NaN without replicates)."""
    if not 0 < level < 1:
        raise ValueError(f"`level`: expected a confidence level between 0 and 1, got {level!r}.")
    if values.shape[0] == 0:
        nan = np.full(values.shape[1], np.nan)
        return nan, nan.copy()
    lo, hi = np.quantile(values, [(1 - level) / 2, (1 + level) / 2], axis=0)
    return lo, hi


__all__ = ["BootstrapResult", "Failure"]
