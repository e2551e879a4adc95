"""The multilevel VAR(1) on lag pairs (psychonetrics' ``ml_var1``: ``ml_var`` / ``ml_gvar``).

Model (one group, p nodes): every lag pair z_it = (y_i,t-1', y_it')' of person
i (2p observed variables, the lagged ones first) is, given the person's
random intercept b_i ~ N(0, Sigma_zeta_between)::

    z_it ~ N((mu', mu')' + (b_i', b_i')', Sigma_W),

    Sigma_W = [[S0, S1'], [S1, S0]],   S1 = beta S0,
    S0 = beta S0 beta' + Sigma_zeta_within   (vec S0 = (I - beta kron beta)^-1 vec Sigma_zeta_within),

so the 2p x 2p between covariance is [[1, 1], [1, 1]] kron Sigma_zeta_between.
``beta[i, j]`` is the effect of node j at t-1 on node i at t (the temporal
network), Sigma_zeta_within the covariance of the innovations (its network is
the contemporaneous one), Sigma_zeta_between that of the person means (the
between-persons network).  The pairs are independent given b_i (a
working-independence pseudo-likelihood), so the two-level likelihood of the
pairs' statistics, with persons as clusters, is the objective.

Derivatives
-----------
The within covariance is not a rank-2 function of its parameters: with
M = (I - beta kron beta)^-1, an innovation element moves S0 by
vec dS0 = M vec dSigma and S1 by beta dS0, and a temporal element
beta_ij (dbeta = E_ij) by::

    dS0 - beta dS0 beta' = e_i (S1 e_j)' + (S1 e_j) e_i',     dS1 = E_ij S0 + beta dS0,

a Stein (discrete Lyapunov) equation solved with the same factorization of
I - beta kron beta for every element.  The family returns the dense Jacobian
(:class:`~psychonetrics.derivatives.DenseDerivatives`).  A beta whose
spectral radius reaches 1 (a non-stationary process) is outside the
parameter space.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from ...data.stats import TwoLevelStats
from ...derivatives import DenseDerivatives, Elements
from ...linalg import FloatArray, nearest_positive_definite, vech_indices
from ...moments import Moments, Roles
from ...parameterizations import derived_matrices
from ...partable.matrices import MatrixSpec
from ..base import Block, Family, Network, References, StandardizedValues, sample_between_cov

if TYPE_CHECKING:
    import pandas as pd

    from ...data.lag_rules import LagReport
    from ...partable.table import ParTable

#: Largest spectral radius of beta in start values (a stationary process, away from the unit circle).
START_RADIUS = 0.9


class MlVar(Family):
    """Multilevel VAR(1) of p nodes on their 2p lag-pair variables (see the module docstring).

    Parameters
    ----------
    nodes : tuple of str
        The p variables of the series.
    observed : tuple of str
        The 2p lag-pair variables: the lagged ones, then ``nodes``.
    within, between : str
        Covariance types of the innovations (contemporaneous) and of the person means (between persons).
    report : LagReport, optional
        What the lag embedding kept and dropped (printed with the model).
    """

    name = "ml_var"

    def __init__(self, nodes: Sequence[str], observed: Sequence[str], *, within: str = "cov", between: str = "cov",
                 report: "LagReport | None" = None) -> None:
        self.nodes = tuple(nodes)
        self.observed = tuple(observed)
        if len(self.observed) != 2 * len(self.nodes) or self.observed[len(self.nodes):] != self.nodes:
            raise ValueError("`observed`: expected the lagged variables followed by the nodes.")
        self.latents: tuple[str, ...] = ()
        self.roles = Roles(len(self.observed))
        self.types = {"within": within, "between": between}
        self.report = report
        self._blocks = {
            level: Block.make(f"zeta_{level}", self.nodes, kind, argument=level, residual=False, level=level)
            for level, kind in (("within", within), ("between", between))
        }

    # ------------------------------------------------------------------ structure
    @property
    def p(self) -> int:
        return len(self.nodes)

    def blocks(self) -> list[Block]:
        return list(self._blocks.values())

    def specs(self) -> list[MatrixSpec]:
        nodes = self.nodes
        out = [MatrixSpec("mu", "mu", (self.p, 1), "full", nodes, ("1",), op="~1", role="means"),
               MatrixSpec("beta", "beta", (self.p, self.p), "full", nodes, nodes, op="<-", role="temporal",
                          level="within")]
        for block in self._blocks.values():
            out.extend(block.specs())
        return out

    def default_patterns(self) -> dict[str, object]:
        pats: dict[str, object] = {"mu": "full", "beta": "full"}
        for block in self._blocks.values():
            for kind, pat in block.ctype.default_patterns(residual=False).items():
                pats[block.matrix_name(kind)] = pat
        return pats

    def linear_matrices(self) -> frozenset[str]:
        """The means and a ``cov`` between block enter phi linearly (the within block does not: S0 depends on
        beta and Sigma_zeta_within jointly)."""
        names = {"mu"}
        between = self._blocks["between"]
        if between.ctype.linear:
            names.update(between.matrix_names())
        return frozenset(names)

    def types_line(self) -> str:
        return f"temporal = beta, contemporaneous (within) = {self.types['within']}, between = {self.types['between']}"

    # ------------------------------------------------------------------ moments
    def _stationary(self, beta: FloatArray, sigma: FloatArray) -> tuple[FloatArray, object]:
        """S0 and the LU factors of I - beta kron beta (a LinAlgError when beta is not stationary)."""
        from scipy.linalg import lu_factor, lu_solve

        radius = float(np.max(np.abs(np.linalg.eigvals(beta)))) if beta.any() else 0.0
        if not radius < 1.0:
            raise np.linalg.LinAlgError("beta is not stationary (spectral radius >= 1)")
        p = self.p
        factors = lu_factor(np.eye(p * p) - np.kron(beta, beta), check_finite=False)
        # column-major vec: vec(beta S beta') = (beta kron beta) vec(S)
        s0 = lu_solve(factors, sigma.reshape(-1, order="F"), check_finite=False).reshape(p, p, order="F")
        return 0.5 * (s0 + s0.T), factors

    def _parts(self, mats: dict[str, FloatArray]) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, object]:
        beta = mats["beta"]
        sw = self._blocks["within"].sigma(mats)
        sb = self._blocks["between"].sigma(mats)
        s0, factors = self._stationary(beta, 0.5 * (sw + sw.T))
        return beta, s0, beta @ s0, 0.5 * (sb + sb.T), factors

    def implied(self, mats: dict[str, FloatArray]) -> Moments:
        beta, s0, s1, sb, _ = self._parts(mats)
        mu = mats["mu"][:, 0]
        w = np.block([[s0, s1.T], [s1, s0]])
        return Moments(np.concatenate([mu, mu]), 0.5 * (w + w.T), np.kron(np.ones((2, 2)), sb))

    def moments_and_derivatives(self, mats: dict[str, FloatArray], elements: Elements,
                                ) -> tuple[Moments, DenseDerivatives]:
        beta, s0, s1, sb, factors = self._parts(mats)
        mu = mats["mu"][:, 0]
        w = np.block([[s0, s1.T], [s1, s0]])
        moments = Moments(np.concatenate([mu, mu]), 0.5 * (w + w.T), np.kron(np.ones((2, 2)), sb))
        return moments, self._derivatives(mats, elements, beta, s0, s1, factors)

    def derivatives(self, mats: dict[str, FloatArray], elements: Elements) -> DenseDerivatives:
        beta, s0, s1, _, factors = self._parts(mats)
        return self._derivatives(mats, elements, beta, s0, s1, factors)

    @cached_property
    def _gather(self) -> tuple[np.ndarray, np.ndarray]:
        """For every vech element (R, C) of a 2p x 2p matrix: its source among the 2 p^2 entries of
        (vec_row S0, vec_row S1) for Sigma_W = [[S0, S1'], [S1, S0]], and among the p^2 entries of B for
        [[1, 1], [1, 1]] kron B."""
        p = self.p
        rows, cols = vech_indices(2 * p)
        r, c = rows % p, cols % p
        lower_left = (rows >= p) & (cols < p)
        within = np.where(lower_left, p * p + r * p + c, r * p + c)
        return within, r * p + c

    def _derivatives(self, mats: dict[str, FloatArray], elements: Elements, beta: FloatArray, s0: FloatArray,
                     s1: FloatArray, factors: object) -> DenseDerivatives:
        from scipy.linalg import lu_solve

        p, k = self.p, elements.count
        n_vech = p * (2 * p + 1)
        jac = np.zeros((2 * p + 2 * n_vech, k))
        gather_w, gather_b = self._gather
        stein_rhs: list[tuple[np.ndarray, FloatArray, FloatArray | None]] = []  # (columns, C_k, dbeta S0)
        for name, idx, rows, cols in elements.by_matrix:
            if name == "mu":
                jac[rows, idx] = 1.0
                jac[p + rows, idx] = 1.0
            elif name == "beta":
                b = s1[:, cols]  # S1 e_j, (p, K)
                unit = np.zeros((p, idx.size))
                unit[rows, np.arange(idx.size)] = 1.0
                c = unit.T[:, :, None] * b.T[:, None, :] + b.T[:, :, None] * unit.T[:, None, :]
                direct = np.zeros((idx.size, p, p))  # dbeta S0 = E_ij S0: row i is S0's row j
                direct[np.arange(idx.size), rows] = s0[cols]
                stein_rhs.append((idx, c, direct))
            else:
                level = "within" if name in self._blocks["within"].matrix_names() else "between"
                a, b = self._blocks[level].derivatives(mats, name, rows, cols)
                d_sigma = a.T[:, :, None] * b.T[:, None, :] + b.T[:, :, None] * a.T[:, None, :]
                if level == "between":
                    jac[2 * p + n_vech:, idx] = d_sigma.reshape(idx.size, -1)[:, gather_b].T
                else:
                    stein_rhs.append((idx, d_sigma, None))
        if stein_rhs:
            columns = np.concatenate([i for i, _, _ in stein_rhs])
            rhs = np.concatenate([c for _, c, _ in stein_rhs])  # (K_w, p, p)
            # column-major vec of every right-hand side at once
            d_s0 = lu_solve(factors, rhs.transpose(2, 1, 0).reshape(p * p, -1), check_finite=False)
            d_s0 = d_s0.reshape(p, p, -1).transpose(2, 1, 0)
            d_s0 = 0.5 * (d_s0 + d_s0.transpose(0, 2, 1))
            d_s1 = np.matmul(beta, d_s0)
            start = 0
            for idx, c, direct in stein_rhs:
                if direct is not None:
                    d_s1[start:start + idx.size] += direct
                start += idx.size
            stacked = np.concatenate([d_s0.reshape(len(columns), -1), d_s1.reshape(len(columns), -1)], axis=1)
            jac[2 * p:2 * p + n_vech, columns] = stacked[:, gather_w].T
        return DenseDerivatives(jac)

    # ------------------------------------------------------------------ starts and derived matrices
    def start(self, stats: TwoLevelStats, codes: dict[str, np.ndarray], fixed: dict[str, np.ndarray],
              moments: Moments | None = None) -> dict[str, FloatArray]:
        """Start values from the lag pairs' saturated moments (or moment estimates): mu the mean of the two
        halves; beta the regression S1 S0^-1 of the current on the lagged half (fixed elements kept, the
        spectral radius at most 0.9); the innovations S0 - beta S0 beta'; the person means the average of the
        four p x p blocks of Sigma_B."""
        p = self.p
        if moments is None:
            mean, w, b = stats.grand_mean, stats.within_cov, sample_between_cov(stats)
        else:
            mean, w, b = moments.mu, moments.sigma_within, moments.sigma_between
        s0 = nearest_positive_definite(0.5 * (w[:p, :p] + w[p:, p:]), floor=1e-3)
        s1 = w[p:, :p]
        beta = np.where(codes["beta"] > 0, np.linalg.solve(s0, s1.T).T, fixed["beta"])
        radius = float(np.max(np.abs(np.linalg.eigvals(beta)))) if beta.any() else 0.0
        if radius > START_RADIUS:
            beta = np.where(codes["beta"] > 0, beta * START_RADIUS / radius, beta)
        zeta = nearest_positive_definite(s0 - beta @ s0 @ beta.T, floor=0.05)
        between = nearest_positive_definite(0.25 * (b[:p, :p] + b[p:, p:] + b[:p, p:] + b[p:, :p]), floor=0.05)
        out: dict[str, FloatArray] = {"mu": (0.5 * (mean[:p] + mean[p:])).reshape(-1, 1), "beta": beta}
        for level, sigma in (("within", zeta), ("between", between)):
            block = self._blocks[level]
            for kind, mat in block.ctype.from_sigma(sigma).items():
                out[block.matrix_name(kind)] = mat
        return out

    def derived(self, mats: dict[str, FloatArray]) -> dict[str, FloatArray]:
        """Every type's view of both blocks, the partial directed correlations ``PDC``, the stationary lag-0
        and lag-1 covariances ``sigma0``, ``sigma1``, and the implied moments of the lag pairs."""
        beta, s0, s1, sb, _ = self._parts(mats)
        sw = self._blocks["within"].sigma(mats)
        out: dict[str, FloatArray] = {}
        out.update(derived_matrices(0.5 * (sw + sw.T), "zeta_within"))
        out.update(derived_matrices(sb, "zeta_between"))
        out["PDC"] = partial_directed_correlations(beta, sw)
        out["sigma0"], out["sigma1"] = s0, s1
        mom = self.implied(mats)
        out["sigma_within"], out["sigma_between"] = mom.sigma_within, mom.sigma_between
        return out

    def standardized(self, mats: dict[str, FloatArray]) -> StandardizedValues:
        """The innovations' and the person means' correlations, and beta standardized by the stationary
        standard deviations (beta_ij sd_j / sd_i, sd from S0)."""
        beta, s0, _, sb, _ = self._parts(mats)
        sw = self._blocks["within"].sigma(mats)
        out = StandardizedValues.empty()
        for name, level, sigma in (("sigma_zeta_within", "within", sw), ("sigma_zeta_between", "between", sb)):
            out.add_covariance(name, level, self.nodes, sigma, np.sqrt(np.diag(sigma)))
        sd = np.sqrt(np.diag(s0))
        r, c = np.indices(beta.shape)
        out.add("beta", "within", [self.nodes[i] for i in r.ravel()], "<-", [self.nodes[j] for j in c.ravel()],
                (beta * sd[None, :] / sd[:, None]).ravel())
        return out

    # ------------------------------------------------------------------ labels, networks, references
    def matrix_labels(self, name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        if name == "mu":
            return self.nodes, ("1",)
        if name in ("sigma_within", "sigma_between"):
            return self.observed, self.observed
        return self.nodes, self.nodes

    def network_matrices(self) -> list[str]:
        return ["omega_zeta_within", "omega_zeta_between"]

    def networks(self) -> list[Network]:
        """The temporal network (``beta``, drawn as its partial directed correlations), the contemporaneous
        network of the innovations and the between-persons network; the temporal one and every ``ggm``
        block are estimated (their edges searched)."""
        nodes = tuple(range(self.p))
        out = [Network("beta", "within", "Temporal network", nodes, self.nodes, estimated=True, directed=True,
                       display="PDC")]
        for level, title in (("within", "Contemporaneous network"), ("between", "Between-persons network")):
            block = self._blocks[level]
            out.append(Network(block.matrix_name("omega"), level, title, nodes, self.nodes,
                               estimated=block.ctype.name == "ggm"))
        return out

    def references(self) -> References:
        """psychonetrics' references for this family: the two-level saturated model of the 2p lag-pair variables
        and, as baseline, the same family with beta = 0 and diagonal blocks (independent nodes without
        temporal effects).  (psychonetrics keeps the model's equality constraints in its baseline; the
        baseline here is the same for every model of the data.)"""
        return References(baseline=self._baseline)

    def _baseline(self, stats: Sequence[TwoLevelStats]) -> tuple["MlVar", "ParTable"]:
        from ...partable.build import build_partable, parse_patterns, with_start_values

        family = MlVar(self.nodes, self.observed, within="cov", between="cov")
        pats = parse_patterns(family, {"beta": "zero", "sigma_zeta_within": "diag", "sigma_zeta_between": "diag"})
        labels = [st.group if st.group is not None else "1" for st in stats]
        table = build_partable(family, [pats] * len(stats), [set()] * len(stats), equal=(), group_labels=labels)
        return family, with_start_values(table, family, stats)

    def default_estimator(self, stats: Sequence[TwoLevelStats]) -> tuple[str, str]:
        """MLR: the same estimates as ML with standard errors from the sandwich over persons, since the
        pseudo-likelihood's model-based ones are too small; ML when only statistics are given."""
        if all(st.units is not None for st in stats):
            return "MLR", "the sandwich over persons: the lag pairs' model-based SEs are too small"
        return "ML", "statistics only: a sandwich over persons needs the lag pairs"

    def unit_names(self) -> tuple[str, str]:
        return "persons", "lag pairs"

    def variables_text(self) -> str:
        return f"nodes: {self.p} ({2 * self.p} lag-pair variables)"

    def data_lines(self) -> list[str]:
        return [] if self.report is None else self.report.summary().splitlines()

    def simulate(self, mats: dict[str, FloatArray], *, rng: np.random.Generator, n_persons: int = 100,
                 n_days: int = 1, n_beeps: int | tuple[int, int] = 50, missing: float = 0.0,
                 idvar: str = "id", dayvar: str | None = "day", beepvar: str | None = "beep",
                 ) -> "pd.DataFrame":
        """Simulated ESM data of one group: persons x days x beeps (see :func:`psychonetrics.generate`).

        Per person i: y_it = mu + b_i + w_it with b_i ~ N(0, Sigma_zeta_between) and, per day, w_it a
        VAR(1) w_it = beta w_i,t-1 + zeta_it, zeta_it ~ N(0, Sigma_zeta_within), started at its stationary
        distribution (a night breaks the process).

        Parameters
        ----------
        mats : dict
            The group's model matrices.
        rng : numpy Generator
        n_persons, n_days : int
        n_beeps : int or (low, high)
            Beeps per day: fixed, or uniform on [low, high] per person and day.
        missing : float
            Share of beeps dropped at random (absent rows, as a missed beep).
        idvar, dayvar, beepvar : str
            Column names (``dayvar``/``beepvar`` None: no such column).
        """
        import pandas as pd

        for argument, value in (("n_persons", n_persons), ("n_days", n_days)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"`{argument}`: expected a positive integer, got {value!r}.")
        if not 0.0 <= missing < 1.0:
            raise ValueError(f"`missing`: expected a share in [0, 1), got {missing!r}.")
        beta, s0, _, sb, _ = self._parts(mats)
        sw = self._blocks["within"].sigma(mats)
        mu = mats["mu"][:, 0]
        p = self.p
        f0, fz, fb = (np.linalg.cholesky(nearest_positive_definite(s, floor=1e-12)) for s in (s0, sw, sb))
        n_persons, n_days = int(n_persons), int(n_days)
        if isinstance(n_beeps, (int, np.integer)):
            lengths = np.full((n_persons, n_days), int(n_beeps))
        else:
            lengths = rng.integers(n_beeps[0], n_beeps[1] + 1, size=(n_persons, n_days))
        longest = int(lengths.max())
        means = mu + rng.standard_normal((n_persons, p)) @ fb.T  # mu + b_i
        frames = []
        for day in range(n_days):  # every person at once, beep by beep; a night restarts the process
            w = np.empty((n_persons, longest, p))
            w[:, 0] = rng.standard_normal((n_persons, p)) @ f0.T
            for t in range(1, longest):
                w[:, t] = w[:, t - 1] @ beta.T + rng.standard_normal((n_persons, p)) @ fz.T
            person, beep = np.nonzero(np.arange(longest)[None, :] < lengths[:, day][:, None])
            keep = rng.random(person.size) >= missing
            person, beep = person[keep], beep[keep]
            frame = pd.DataFrame(means[person] + w[person, beep], columns=list(self.nodes))
            columns = {idvar: person + 1, dayvar: day + 1, beepvar: beep + 1}
            for position, (name, values) in enumerate((k, v) for k, v in columns.items() if k is not None):
                frame.insert(position, name, values)
            frames.append(frame)
        out = pd.concat(frames, ignore_index=True)
        order = [c for c in (idvar, dayvar, beepvar) if c is not None]
        return out.sort_values(order, kind="stable", ignore_index=True)


def partial_directed_correlations(beta: FloatArray, sigma: FloatArray) -> FloatArray:
    """The partial directed correlations of a temporal network (psychonetrics' ``computePDC``)::

        PDC[i, j] = beta[j, i] / sqrt(sigma_jj kappa_ii + beta[j, i]^2),   kappa = sigma^-1,

    the standardized effect of node i at t-1 on node j at t (rows: from, columns: to, the transpose of
    beta's orientation); sigma is the innovation covariance.
    """
    kappa = np.linalg.inv(sigma)
    return (beta / np.sqrt(np.outer(np.diag(sigma), np.diag(kappa)) + beta ** 2)).T


__all__ = ["MlVar", "partial_directed_correlations"]
