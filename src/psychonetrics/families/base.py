"""What every model family provides: matrices, implied moments and their derivatives.

Invariants
----------
* The moment vector of one group is
  ``phi = (mu, vech(Sigma_W), vech(Sigma_B))`` of length p + p(p+1).
* :meth:`Family.derivatives` gives d phi / d m for a list of stored matrix
  elements m (table rows).  Every single-element derivative of a covariance
  matrix in these families is a symmetric rank-2 term
  ``d Sigma = a b' + b a'`` (see :mod:`psychonetrics.parameterizations`),
  so a family returns the vectors a and b per level and the mean derivative;
  :meth:`MomentDerivatives.phi` assembles the dense (n_phi, K) Jacobian.
  Nothing of size p^2 x p^2 is formed, so the cost grows as p^2 per element.
* A parameter vector outside the model's parameter space (a singular
  I - B, a network whose I - omega is not positive definite) makes
  :meth:`Family.implied` raise ``LinAlgError``.  Matrices are finite: the
  objective checks the parameter values before they reach a family.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from ..data.stats import TwoLevelStats
from ..derivatives import Elements, MomentDerivatives
from ..linalg import FloatArray, IntArray
from ..moments import Moments, Roles, n_moments
from ..parameterizations import get_type
from ..parameterizations.base import CovarianceType
from ..partable.matrices import MatrixSpec

if TYPE_CHECKING:
    import pandas as pd

    from ..estimators import Estimator
    from ..partable.patterns import Pattern
    from ..partable.table import ParTable


@dataclass(frozen=True)
class Block:
    """A covariance block of a family: its name, labels and parameterization."""

    name: str  # e.g. "zeta_within"
    labels: tuple[str, ...]
    ctype: CovarianceType
    residual: bool
    level: str | None = None  # "within" or "between"
    label: str = ""  # what its network is called between the level and "network": "latent", "residual", ...

    @classmethod
    def make(cls, name: str, labels: tuple[str, ...], type_name: str, *, argument: str, residual: bool,
             level: str | None, label: str = "") -> "Block":
        return cls(name, labels, get_type(type_name, argument=argument), residual, level, label)

    @property
    def network_title(self) -> str:
        """How the block's network is called: "Within latent network", "Between network", ..."""
        return " ".join(x for x in ((self.level or "").capitalize(), self.label, "network") if x)

    def specs(self) -> list[MatrixSpec]:
        return [replace(spec, level=self.level) for spec in self.ctype.specs(self.name, self.labels)]

    def matrix_name(self, kind: str) -> str:
        return f"{kind}_{self.name}" if self.name else kind

    def matrix_names(self) -> list[str]:
        return [self.matrix_name(kind) for kind in self.ctype.kinds]

    def kind_of(self, matrix: str) -> str:
        """The kind (``omega``, ``delta``...) of one of this block's matrices."""
        return next(k for k in self.ctype.kinds if self.matrix_name(k) == matrix)

    def mats(self, mats: dict[str, FloatArray]) -> dict[str, FloatArray]:
        """This block's matrices keyed by kind."""
        return {kind: mats[self.matrix_name(kind)] for kind in self.ctype.kinds}

    def sigma(self, mats: dict[str, FloatArray]) -> FloatArray:
        return self.ctype.sigma(self.mats(mats))

    def derivatives(self, mats: dict[str, FloatArray], matrix: str, rows: IntArray, cols: IntArray,
                    ) -> tuple[FloatArray, FloatArray]:
        """Rank-2 factors of d Sigma_block / d m for elements of ``matrix``."""
        return self.ctype.derivatives(self.mats(mats), self.kind_of(matrix), rows, cols)

    def variance_matrix(self) -> str:
        return self.matrix_name(self.ctype.variance_kind)


@dataclass(frozen=True)
class References:
    """What a family's fits are compared with (chi-square, CFI, TLI, RMSEA).

    Attributes
    ----------
    saturated : bool
        The two-level saturated model over the family's observed variables (free mu, Sigma_W, Sigma_B,
        positive semi-definite) exists; False for an estimator of the whole series, which has none.
    covariates : tuple of int
        Observed exogenous covariates: the baseline keeps their block saturated.
    baseline : callable or None
        ``baseline(stats) -> (family, table)``: the family's own baseline model, fitted as any model;
        None for the two-level independence model (free means, diagonal Sigma_W and Sigma_B).
    unavailable : str
        Without a saturated model: why the measures that compare with it are unavailable (printed).
    """

    saturated: bool = True
    covariates: tuple[int, ...] = ()
    baseline: "Callable[[Sequence[TwoLevelStats]], tuple[Family, ParTable]] | None" = None
    unavailable: str = ""


def _sizes(n_clusters: int, cluster_size: int | Sequence[int] | tuple[int, int], rng: np.random.Generator) -> IntArray:
    if isinstance(cluster_size, (int, np.integer)):
        sizes = np.full(n_clusters, int(cluster_size))
    elif isinstance(cluster_size, tuple) and len(cluster_size) == 2:
        lo, hi = cluster_size
        if not 1 <= lo <= hi:
            raise ValueError(f"`cluster_size`: expected (low, high) with 1 <= low <= high, got {cluster_size!r}.")
        sizes = rng.integers(lo, hi + 1, size=n_clusters)
    else:
        sizes = np.asarray(cluster_size, dtype=int)
        if sizes.shape != (n_clusters,):
            raise ValueError(f"`cluster_size`: expected an int, a (low, high) range or {n_clusters} sizes.")
    if (sizes < 1).any():
        raise ValueError("`cluster_size`: every cluster needs at least one unit.")
    return sizes


def _factor(sigma: FloatArray, *, argument: str) -> FloatArray:
    """A matrix F with F F' = sigma (sigma positive semi-definite)."""
    vals, vecs = np.linalg.eigh(0.5 * (sigma + sigma.T))
    if vals.min() < -1e-8 * max(1.0, abs(vals).max()):
        raise ValueError(f"`model`: the implied {argument} is not positive semi-definite; cannot simulate from it.")
    return vecs * np.sqrt(np.clip(vals, 0.0, None))


@dataclass(frozen=True)
class Network:
    """A network of a model: a partial-correlation (or temporal) matrix and its nodes.

    Attributes
    ----------
    matrix : str
        A model matrix (``omega_within``) or a derived one (``omega_zeta_between`` of a ``cov`` block).
    level : {"within", "between"} or ""
    title : str
        How plots and tables name it ("Within latent network").
    nodes : tuple of int
        Rows (and columns) of ``matrix`` that are nodes (not the phantom latents of observed variables).
    labels : tuple of str
        The nodes' labels.
    estimated : bool
        ``matrix`` is a model matrix whose free elements are edges a search prunes or adds.
    directed : bool
        A temporal network (``matrix[i, j]``: the effect of node j on node i), drawn with arrows.
    display : str or None
        A derived matrix drawn instead of ``matrix`` (a temporal network's partial directed correlations);
        a directed one's rows are the sources and its columns the targets.
    """

    matrix: str
    level: str
    title: str
    nodes: tuple[int, ...]
    labels: tuple[str, ...]
    estimated: bool
    directed: bool = False
    display: str | None = None


@dataclass(frozen=True)
class ElementLabels:
    """How the rows of a parameter table read, lavaan-like (see :meth:`Family.describe`).

    All arrays have one entry per table row.  ``structural`` rows are fixed
    by the model's definition (the zero diagonal of a network, the unit
    loading of an observed variable that is a latent variable of its level)
    and are neither reported nor candidates for modification indices.
    """

    var1: np.ndarray
    op: np.ndarray
    var2: np.ndarray
    level: np.ndarray
    structural: np.ndarray


class Family(ABC):
    """A two-level model family (ml_lvm, ml_varcov)."""

    name: str
    observed: tuple[str, ...]
    roles: Roles
    #: observed exogenous covariates (lavaan's ov.x): a saturated block in the baseline model
    covariates: tuple[str, ...] = ()

    @property
    def n_vars(self) -> int:
        return len(self.observed)

    @property
    def n_phi(self) -> int:
        return n_moments(self.n_vars)

    @abstractmethod
    def specs(self) -> list[MatrixSpec]:
        """Every model matrix of one group, in table order."""

    @abstractmethod
    def default_patterns(self) -> dict[str, object]:
        """Default pattern of every matrix (by full name)."""

    @abstractmethod
    def blocks(self) -> list[Block]:
        """The covariance blocks."""

    @abstractmethod
    def implied(self, mats: dict[str, FloatArray]) -> Moments:
        """Implied moments of one group from its matrices (``LinAlgError`` outside the parameter space)."""

    @abstractmethod
    def derivatives(self, mats: dict[str, FloatArray], elements: Elements) -> MomentDerivatives:
        """d phi / d m for the stored ``elements`` of one group."""

    def moments_and_derivatives(self, mats: dict[str, FloatArray], elements: Elements,
                                ) -> tuple[Moments, MomentDerivatives]:
        """Both at once (families share their intermediate matrices)."""
        return self.implied(mats), self.derivatives(mats, elements)

    def describe(self, table: "ParTable") -> ElementLabels:
        """Labels of every table row: ``latent =~ observed`` for loadings, ``y ~ x`` for regressions
        (beta[i, j]: the effect of x_j on y_i), ``var ~1`` for intercepts and means, ``var1 <op> var2``
        with the matrix's operator (``~~``, ``--``...) otherwise; the level each row belongs to
        ("within", "between", or "both" for loadings shared by the levels; a mean belongs to the level
        of its variable's intercept: level 2 unless the variable is within-only, as lavaan)."""
        n = table.n_rows
        var1, op, var2 = np.empty(n, dtype=object), np.empty(n, dtype=object), np.empty(n, dtype=object)
        level = np.empty(n, dtype=object)
        structural = np.zeros(n, dtype=bool)
        within_only = {self.observed[k] for k in self.roles.within_only}
        for k, spec in enumerate(table.specs):
            rows = np.flatnonzero(table.matrix == k)
            r, c = table.row[rows], table.col[rows]
            row_labels = np.asarray(spec.row_labels, dtype=object)[r]
            col_labels = np.asarray(spec.col_labels, dtype=object)[c]
            if spec.kind == "lambda":
                var1[rows], var2[rows] = col_labels, row_labels
            elif spec.op == "~1":
                var1[rows], var2[rows] = row_labels, ""
            else:
                var1[rows], var2[rows] = row_labels, col_labels
            op[rows] = spec.op
            if spec.level is not None:
                level[rows] = spec.level
            elif spec.op == "~1":
                level[rows] = np.where(np.isin(row_labels, list(within_only)), "within", "between")
            else:
                level[rows] = "both"
            if spec.fixed_diagonal is not None:
                structural[rows] = r == c
        return ElementLabels(var1, op, var2, level, structural)

    def identify(self, pats: dict[str, "Pattern"], *, method: str, group: int, equal: Sequence[str],
                 ) -> tuple[dict[str, "Pattern"], set[tuple[str, int, int]]]:
        """Patterns with the family's identification rules applied, and the elements they fixed
        (families without latent variables need none)."""
        return pats, set()

    @abstractmethod
    def start(self, stats: TwoLevelStats, codes: dict[str, np.ndarray], fixed: dict[str, np.ndarray],
              moments: Moments | None = None) -> dict[str, FloatArray]:
        """Start values of every matrix, from ``moments`` (a fitted saturated model) or the statistics."""

    @abstractmethod
    def derived(self, mats: dict[str, FloatArray]) -> dict[str, FloatArray]:
        """Derived matrices (implied moments, other types' views of each block)."""

    def types_line(self) -> str:
        """The covariance types of the blocks, as printed."""
        return ", ".join(f"{name} = {kind}" for name, kind in self.types.items())  # type: ignore[attr-defined]

    @abstractmethod
    def network_matrices(self) -> list[str]:
        """The (derived) networks to draw when the model has no omega matrix of its own."""

    @abstractmethod
    def matrix_labels(self, name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Row and column labels of a model or derived matrix."""

    def network_nodes(self, name: str) -> tuple[int, ...]:
        """Rows (and columns) of the network matrix ``name`` that are nodes of its network (plots, bootstrap
        edges); default every row."""
        return tuple(range(len(self.matrix_labels(name)[0])))

    def networks(self) -> list[Network]:
        """The model's networks, the one list search, bootstrap, plots and the command line read.

        The ``omega`` matrices of the blocks parameterized as networks (``ggm``), whose edges a search
        prunes and adds; a model without one shows the partial-correlation networks that
        :meth:`network_matrices` names, derived from its blocks (not searched).  A family with other
        networks (a temporal one) extends the list.
        """
        own = [block for block in self.blocks() if block.ctype.name == "ggm"]
        wanted = set(self.network_matrices())
        chosen = own or [block for block in self.blocks() if block.matrix_name("omega") in wanted]
        out = []
        for block in chosen:
            name = block.matrix_name("omega")
            nodes = self.network_nodes(name)
            labels = self.matrix_labels(name)[0]
            out.append(Network(name, block.level or "", block.network_title, tuple(nodes),
                               tuple(labels[k] for k in nodes), estimated=bool(own)))
        return out

    def network(self, matrix: str) -> Network:
        """The :class:`Network` of one matrix of :meth:`networks` (or of another block's ``omega``)."""
        for net in self.networks():
            if net.matrix == matrix:
                return net
        for block in self.blocks():
            if block.matrix_name("omega") == matrix:
                nodes = self.network_nodes(matrix)
                labels = self.matrix_labels(matrix)[0]
                return Network(matrix, block.level or "", block.network_title, tuple(nodes),
                               tuple(labels[k] for k in nodes), estimated=block.ctype.name == "ggm")
        raise ValueError(f"`matrix`: {matrix!r} is not a network of this model (networks: "
                         f"{', '.join(n.matrix for n in self.networks())}).")

    def path_diagram(self, get: "Callable[[str], FloatArray]") -> dict[str, object] | None:
        """The arrays of a two-level path diagram (the arguments of
        :func:`psychonetrics.report.plots.plot_path_diagram` but the file), read through ``get`` (a
        matrix by name); None for a family without latent variables to draw."""
        return None

    def n_moments(self) -> int:
        """Sample moments of one group (the saturated model's parameters): one mean per variable and vech of
        Sigma_W and Sigma_B over each level's variables."""
        return self.roles.n_moments()

    def references(self) -> "References":
        """The reference models of this family's fits (see :class:`References`): by default the two-level
        saturated model and the independence baseline, with the observed covariates' block saturated."""
        return References(covariates=tuple(self.observed.index(v) for v in self.covariates))

    def simulate(self, mats: dict[str, FloatArray], *, rng: np.random.Generator, n_clusters: int,
                 cluster_size: int | Sequence[int] | tuple[int, int] = 10, cluster_column: str = "cluster",
                 ) -> "pd.DataFrame":
        """Simulated two-level data of one group with matrices ``mats`` (see :func:`psychonetrics.generate`).

        For cluster c of size n_c and unit i: y_ic = mu + b_c + w_ic, b_c ~ N(0, Sigma_B),
        w_ic ~ N(0, Sigma_W), the units i.i.d. within their cluster.  A family whose units are not
        exchangeable within a cluster (the occasions of a time series) overrides it, with its own options.

        Parameters
        ----------
        mats : dict
            The group's model matrices.
        rng : numpy Generator
        n_clusters : int
            J, the number of clusters.
        cluster_size : int, (low, high) or sequence of int
            Units per cluster: fixed, uniform on [low, high], or one size per cluster.
        cluster_column : str
            Name of the cluster id column (ids 1..J).
        """
        import pandas as pd

        if isinstance(n_clusters, bool) or not isinstance(n_clusters, (int, np.integer)) or n_clusters < 1:
            raise ValueError(f"`n_clusters`: expected a positive integer, got {n_clusters!r}.")
        moments = self.implied(mats)
        f_w = _factor(moments.sigma_within, argument="Sigma_W")
        f_b = _factor(moments.sigma_between, argument="Sigma_B")
        sizes = _sizes(int(n_clusters), cluster_size, rng)
        p = moments.mu.size
        between = rng.standard_normal((n_clusters, p)) @ f_b.T
        cluster = np.repeat(np.arange(n_clusters), sizes)
        within = rng.standard_normal((cluster.size, p)) @ f_w.T
        frame = pd.DataFrame(moments.mu + between[cluster] + within, columns=list(self.observed))
        frame[cluster_column] = cluster + 1
        return frame

    def degenerate(self, moments: Moments, stats: TwoLevelStats) -> str:
        """Why the implied distribution of a group's data is degenerate, "" when it is not (see
        :func:`psychonetrics.likelihood.singular_covariances`)."""
        from ..likelihood import singular_covariances

        return singular_covariances(moments, stats)

    def n_clusters(self, stats: Sequence[TwoLevelStats]) -> int:
        """J over the groups: the independent clusters the data hold (the sample size of BIC and RMSEA)."""
        return sum(st.n_clusters for st in stats)

    def estimators(self) -> dict[str, "Estimator"]:
        """The family's own estimators by name, replacing the general ones of that name (see
        :func:`psychonetrics.estimators.resolve`); default none."""
        return {}

    def default_estimator(self, stats: Sequence[TwoLevelStats]) -> tuple[str, str] | None:
        """The estimator ``"default"`` chooses on ``stats`` and why, or None for the general rule."""
        return None

    def unit_names(self) -> tuple[str, str]:
        """What the clusters and the units of this family's data are called in printouts."""
        return "clusters", "units"

    def variables_text(self) -> str:
        """The model's variables, as printed."""
        return f"variables: {self.n_vars}, latents: {len(self.latents)}"  # type: ignore[attr-defined]

    def data_lines(self) -> list[str]:
        """Lines about the family's own data preparation for the printout (what it kept and dropped)."""
        return []

    def summary_matrices(self) -> list[str]:
        """Matrices worth printing beside the fit (the command line shows them)."""
        return []

    def linear_matrices(self) -> frozenset[str]:
        """Matrices whose elements enter phi linearly and appear in no other element's derivative, so that
        every second derivative of phi involving them is 0 (the observed information skips them in its
        second-order term).  Default: none."""
        return frozenset()

    @abstractmethod
    def standardized(self, mats: dict[str, FloatArray]) -> "StandardizedValues":
        """The completely standardized solution (lavaan's std.all) of one group, per level."""


@dataclass
class StandardizedValues:
    """Standardized elements: a row per (matrix, level, var1, op, var2) and its value.

    ``constant`` marks values that are 1 by definition (the standardized
    variance of an exogenous latent or observed variable): no inference.
    """

    keys: list[tuple[str, str, str, str, str]]
    values: list[float]
    constant: list[bool]

    @classmethod
    def empty(cls) -> "StandardizedValues":
        return cls([], [], [])

    def add(self, matrix: str, level: str, var1: Sequence[str], op: str | Sequence[str], var2: Sequence[str],
            values: FloatArray, constant: FloatArray | bool = False) -> None:
        ops = [op] * len(var1) if isinstance(op, str) else list(op)
        const = np.broadcast_to(np.asarray(constant, dtype=bool), (len(var1),))
        for a, o, c, v, k in zip(var1, ops, var2, np.asarray(values, dtype=float), const):
            self.keys.append((matrix, level, str(a), o, str(c)))
            self.values.append(1.0 if k else float(v))
            self.constant.append(bool(k))

    def add_covariance(self, matrix: str, level: str, labels: Sequence[str], cov: FloatArray, scale: FloatArray,
                       exogenous: FloatArray | None = None) -> None:
        """Lower triangle of ``cov / (scale_i scale_j)`` as ``~~`` rows; variances of ``exogenous``
        entries are 1 by definition."""
        r, c = np.tril_indices(cov.shape[0])
        with np.errstate(divide="ignore", invalid="ignore"):
            values = cov[r, c] / (scale[r] * scale[c])
        constant = (r == c) & (np.ones(cov.shape[0], bool) if exogenous is None else exogenous)[r]
        self.add(matrix, level, [labels[i] for i in r], "~~", [labels[j] for j in c], values, constant)


def sample_between_cov(stats: TwoLevelStats) -> FloatArray:
    """A moment estimate of Sigma_B: covariance of cluster means minus S_PW / mean size, made PD."""
    from ..linalg import nearest_positive_definite

    sizes = np.repeat(stats.sizes, stats.size_counts).astype(float)
    harmonic = sizes.size / np.sum(1.0 / sizes)
    raw = stats.between_cov() - stats.within_cov / harmonic
    return nearest_positive_definite(raw, floor=0.05)


def start_covariances(stats: TwoLevelStats, moments: Moments | None) -> tuple[FloatArray, FloatArray]:
    """Within and between covariance to start from: the saturated fit when given, else moment estimates.

    Both are made positive definite, so that every parameterization
    (precision, network, Cholesky) can be started from them: the moment
    estimates with eigenvalues of at least 1e-3 (within) or 0.05 (between)
    times the mean variance; the saturated fit, whose between level is often
    singular on real data, with a floor of only 1e-4, so that a network
    starts within a small fraction of a logl unit of the saturated model.
    """
    from ..linalg import nearest_positive_definite

    if moments is None:
        return nearest_positive_definite(stats.within_cov, floor=1e-3), sample_between_cov(stats)
    return (nearest_positive_definite(moments.sigma_within, floor=1e-4),
            nearest_positive_definite(moments.sigma_between, floor=1e-4))
