"""The two-level latent variable model: psychonetrics' ``ml_lvm`` and level-specific structures.

Model (one group).  Each level X (within, between) has its own variables
(rows), latent variables (columns), loadings, latent regressions, latent
(zeta) and residual (epsilon) blocks, intercepts and latent means::

    Sigma_X = Lambda_X A_X Psi_X A_X' Lambda_X' + Theta_X,     A_X = (I - B_X)^-1
    mu      = sum_X  pad_X( nu_X + Lambda_X A_X alpha_X )

``pad_X`` places a level's rows among all observed variables (a variable
measured only within has no row on the between level, a cluster-level
variable none on the within level; see :class:`~.base.Roles`).  In
psychonetrics' ``ml_lvm`` both levels share one loading matrix ``lambda``,
every variable lives on both levels, the intercepts ``nu`` and latent means
``nu_eta`` belong to the between level, and the within level has neither.
lavaan's level-specific models (``level: 1`` / ``level: 2`` syntax) have
``lambda_within`` and ``lambda_between``, ``nu_within`` (free only for
within-only variables) and ``nu_between``; observed variables in
regressions are latent variables of their level with a unit loading and no
residual ("phantoms", lavaan's dummy latents).

Derivatives (rank-2 form d Sigma = a b' + b a', see :mod:`.base`; C = A Psi A')::

    d Sigma_X / d Lambda_rc  : a = e_r,           b = (Lambda C)_c
    d Sigma_X / d B_ij       : a = (Lambda A)_i,  b = (Lambda C)_j
    d Sigma_X / d Psi element: a, b of the latent type, premultiplied by Lambda A
    d Sigma_X / d Theta elem.: a, b of the residual type
    d mu / d Lambda_rc       = e_r (A alpha)_c       (levels with latent means)
    d mu / d B_ij            = (Lambda A)_i (A alpha)_j
    d mu / d alpha_k         = (Lambda A)_k,   d mu / d nu_r = e_r
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ...data.stats import TwoLevelStats
from ...derivatives import Elements, MomentDerivatives
from ...linalg import FloatArray, IntArray, nearest_positive_definite
from ...moments import Moments, Roles, place_block, place_rows
from ...parameterizations import derived_matrices
from ...parameterizations.base import unit_columns
from ...partable.matrices import MatrixSpec
from ...partable.patterns import Pattern
from ...partable.table import ParTable
from ..base import Block, ElementLabels, Family, StandardizedValues, start_covariances
from .identification import identify_ml_lvm

LEVELS = ("within", "between")
BLOCK_ARGUMENTS = {"zeta_within": "within_latent", "zeta_between": "between_latent",
                   "epsilon_within": "within_residual", "epsilon_between": "between_residual"}


@dataclass(frozen=True)
class Level:
    """The structure of one level.

    Attributes
    ----------
    name : {"within", "between"}
    observed : tuple of str
        The level's variables (rows of its loadings), in the model's order.
    index : int array
        Their positions among the model's observed variables.
    latents : tuple of str
        The level's latent variables (columns of its loadings), phantoms included.
    loadings : str
        Name of its loading matrix (``"lambda"`` when shared by both levels).
    intercepts, latent_means : str or None
        Names of its intercept (p_X x 1) and latent mean (m_X x 1) matrices.
    zeta, epsilon : Block
        Latent and residual covariance blocks.
    phantoms : frozenset of str
        Latent variables that stand for the observed variable of the same name.
    measured : frozenset of (str, str)
        (factor, indicator) pairs whose loading is an element of beta: the
        indicator is a phantom or a latent variable (higher-order factor).
    """

    name: str
    observed: tuple[str, ...]
    index: IntArray
    latents: tuple[str, ...]
    loadings: str
    intercepts: str | None
    latent_means: str | None
    zeta: Block
    epsilon: Block
    phantoms: frozenset[str] = frozenset()
    measured: frozenset[tuple[str, str]] = frozenset()

    @property
    def beta(self) -> str:
        return f"beta_{self.name}"


@dataclass(frozen=True)
class _LevelValues:
    """Matrices of one level at the current parameter values."""

    lam: FloatArray  # (p_X, m_X)
    a: FloatArray  # (m_X, m_X) (I - B)^-1
    psi: FloatArray  # (m_X, m_X)
    c: FloatArray  # (m_X, m_X) A Psi A'
    theta: FloatArray  # (p_X, p_X)
    la: FloatArray  # (p_X, m_X) Lambda A
    lc: FloatArray  # (p_X, m_X) Lambda C
    a_alpha: FloatArray  # (m_X,) A alpha (zeros without latent means)


class MlLvm(Family):
    """Two-level latent variable model: shared loadings (psychonetrics) or level-specific structures.

    Build it with :meth:`shared` or :meth:`per_level` (the model functions in
    :mod:`psychonetrics.families.ml_lvm.build` do).
    """

    name = "ml_lvm"

    def __init__(self, observed: Sequence[str], levels: tuple[Level, Level], roles: Roles, *, shared: bool,
                 types: dict[str, str]) -> None:
        self.observed = tuple(observed)
        self.levels = {level.name: level for level in levels}
        self.roles = roles
        self.shared = shared
        self.types = dict(types)
        within, between = self.levels["within"], self.levels["between"]
        self.latents = within.latents if shared else tuple(dict.fromkeys(within.latents + between.latents))
        self._blocks = {block.name: block for lv in levels for block in (lv.zeta, lv.epsilon)}
        self._block_of = {name: block for block in self._blocks.values() for name in block.matrix_names()}
        # every matrix that is not a covariance block: (level, role) pairs that use it
        self._uses: dict[str, list[tuple[str, str]]] = {}
        for lv in levels:
            for role, matrix in (("loadings", lv.loadings), ("beta", lv.beta), ("intercepts", lv.intercepts),
                                 ("latent_means", lv.latent_means)):
                if matrix is not None:
                    self._uses.setdefault(matrix, []).append((lv.name, role))

    # ----------------------------------------------------------- construction
    @classmethod
    def shared_loadings(cls, observed: Sequence[str], latents: Sequence[str], *, within_latent: str = "cov",
                        between_latent: str = "cov", within_residual: str = "cov",
                        between_residual: str = "cov") -> "MlLvm":
        """psychonetrics' ``ml_lvm``: one loading matrix ``lambda`` for both levels, every variable on both."""
        observed, latents = tuple(observed), tuple(latents)
        types = {"zeta_within": within_latent, "zeta_between": between_latent,
                 "epsilon_within": within_residual, "epsilon_between": between_residual}
        index = np.arange(len(observed), dtype=np.int64)
        levels = tuple(
            Level(lv, observed, index, latents, "lambda", None if lv == "within" else "nu",
                  None if lv == "within" else "nu_eta",
                  Block.make(f"zeta_{lv}", latents, types[f"zeta_{lv}"], argument=BLOCK_ARGUMENTS[f"zeta_{lv}"],
                             residual=False, level=lv, label="latent"),
                  Block.make(f"epsilon_{lv}", observed, types[f"epsilon_{lv}"],
                             argument=BLOCK_ARGUMENTS[f"epsilon_{lv}"], residual=True, level=lv, label="residual"))
            for lv in LEVELS
        )
        return cls(observed, levels, Roles(len(observed)), shared=True, types=types)  # type: ignore[arg-type]

    @classmethod
    def per_level(cls, observed: Sequence[str], *, roles: Roles, latents_within: Sequence[str],
                  latents_between: Sequence[str], within_latent: str = "cov", between_latent: str = "cov",
                  within_residual: str = "cov", between_residual: str = "cov",
                  phantoms_within: Sequence[str] = (), phantoms_between: Sequence[str] = (),
                  measured_within: Sequence[tuple[str, str]] = (), measured_between: Sequence[tuple[str, str]] = (),
                  covariates: Sequence[str] = ()) -> "MlLvm":
        """Level-specific loadings ``lambda_within`` / ``lambda_between`` over each level's variables.

        ``phantoms_*`` are observed variables that are latent variables of
        that level (in regressions); ``covariates`` the observed exogenous
        covariates among them.
        """
        observed = tuple(observed)
        types = {"zeta_within": within_latent, "zeta_between": between_latent,
                 "epsilon_within": within_residual, "epsilon_between": between_residual}
        spec = {"within": (roles.within, tuple(latents_within), frozenset(phantoms_within),
                           frozenset(map(tuple, measured_within))),
                "between": (roles.between, tuple(latents_between), frozenset(phantoms_between),
                            frozenset(map(tuple, measured_between)))}
        levels = []
        for lv in LEVELS:
            index, latents, phantoms, measured = spec[lv]
            names = tuple(observed[k] for k in index)
            levels.append(Level(
                lv, names, index, latents, f"lambda_{lv}", f"nu_{lv}", f"nu_eta_{lv}",
                Block.make(f"zeta_{lv}", latents, types[f"zeta_{lv}"], argument=BLOCK_ARGUMENTS[f"zeta_{lv}"],
                           residual=False, level=lv, label="latent"),
                Block.make(f"epsilon_{lv}", names, types[f"epsilon_{lv}"], argument=BLOCK_ARGUMENTS[f"epsilon_{lv}"],
                           residual=True, level=lv, label="residual"),
                phantoms, measured))
        family = cls(observed, tuple(levels), roles, shared=False, types=types)  # type: ignore[arg-type]
        family.covariates = tuple(covariates)
        return family

    # ----------------------------------------------------------- structure
    def blocks(self) -> list[Block]:
        return [self.levels[lv].zeta for lv in LEVELS] + [self.levels[lv].epsilon for lv in LEVELS]

    def specs(self) -> list[MatrixSpec]:
        w, b = self.levels["within"], self.levels["between"]
        out: list[MatrixSpec] = []
        if self.shared:
            obs, lat = self.observed, self.latents
            out += [MatrixSpec("lambda", "lambda", (len(obs), len(lat)), "full", obs, lat, op="=~", role="loadings",
                               fixed_values=True),
                    MatrixSpec("nu", "nu", (len(obs), 1), "full", obs, ("1",), op="~1", level="between",
                               role="intercepts", fixed_values=True),
                    MatrixSpec("nu_eta", "nu_eta", (len(lat), 1), "full", lat, ("1",), op="~1", level="between",
                               role="latent_means", fixed_values=True)]
        else:
            for lv in (w, b):
                out.append(MatrixSpec(lv.loadings, "lambda", (len(lv.observed), len(lv.latents)), "full",
                                      lv.observed, lv.latents, op="=~", level=lv.name, role="loadings",
                                      fixed_values=True))
            for lv in (w, b):
                out.append(MatrixSpec(f"nu_{lv.name}", "nu", (len(lv.observed), 1), "full", lv.observed, ("1",),
                                      op="~1", level=lv.name, role="intercepts", fixed_values=True))
            for lv in (w, b):
                out.append(MatrixSpec(f"nu_eta_{lv.name}", "nu_eta", (len(lv.latents), 1), "full", lv.latents,
                                      ("1",), op="~1", level=lv.name, role="latent_means", fixed_values=True))
        for lv in (w, b):
            m = len(lv.latents)
            out.append(MatrixSpec(lv.beta, "beta", (m, m), "full", lv.latents, lv.latents, fixed_diagonal=0.0,
                                  op="~", level=lv.name, role="regression"))
        for block in self.blocks():
            out.extend(block.specs())
        return out

    def default_patterns(self) -> dict[str, object]:
        pats: dict[str, object] = {f"beta_{lv}": "zero" for lv in LEVELS}
        if self.shared:
            pats.update({"lambda": "full", "nu": "full", "nu_eta": "zero"})
        else:
            within_only = set(self.roles.within_only)
            for lv in self.levels.values():
                pats[lv.loadings] = "full"
                pats[f"nu_eta_{lv.name}"] = "zero"
            # as lavaan: the means of variables on both levels are between-level intercepts
            pats["nu_within"] = np.array([[1 if k in within_only else 0] for k in self.levels["within"].index])
            pats["nu_between"] = "full"
        for block in self.blocks():
            for kind, pat in block.ctype.default_patterns(residual=block.residual).items():
                pats[block.matrix_name(kind)] = pat
        return pats

    def describe(self, table: ParTable) -> ElementLabels:
        """As :meth:`Family.describe`, in lavaan's terms for phantoms: their unit loadings, zero
        residuals and zero intercepts are structural; a loading on a phantom indicator, stored in
        beta, reads ``factor =~ indicator``."""
        out = super().describe(table)
        names = table.names()
        for lv in self.levels.values():
            if not lv.phantoms:
                continue
            phantom_rows = [k for k, v in enumerate(lv.observed) if v in lv.phantoms]
            # unit loadings of phantoms on themselves; a loading on another variable's phantom is a
            # regression of the observed variable on that variable
            rows = np.flatnonzero(names == lv.loadings)
            for i, r, c in zip(rows, table.row[rows], table.col[rows]):
                if lv.observed[r] in lv.phantoms:  # the variable is its phantom: only the unit loading
                    out.structural[i] = True
                elif lv.latents[c] in lv.phantoms:
                    out.var1[i], out.op[i], out.var2[i] = lv.observed[r], "~", lv.latents[c]
            # their intercepts (the mean is the phantom's) and fixed residuals
            rows = np.flatnonzero(names == lv.intercepts)
            out.structural[rows[np.isin(table.row[rows], phantom_rows)]] = True
            rows = np.flatnonzero(np.isin(names, lv.epsilon.matrix_names()))
            touches = np.isin(table.row[rows], phantom_rows) | np.isin(table.col[rows], phantom_rows)
            out.structural[rows[touches & (table.par[rows] == 0)]] = True
            # loadings stored in beta
            for i in np.flatnonzero(names == lv.beta):
                pair = (lv.latents[table.col[i]], lv.latents[table.row[i]])
                if pair in lv.measured:
                    out.var1[i], out.op[i], out.var2[i] = pair[0], "=~", pair[1]
        return out

    def linear_matrices(self) -> frozenset[str]:
        """Observed intercepts (mu = nu + Lambda (I - B)^-1 alpha) and ``cov`` residual blocks
        (Sigma = ... + Theta): both enter linearly, and no other element's derivative involves them."""
        names: set[str] = set()
        for lv in self.levels.values():
            if lv.intercepts is not None:
                names.add(lv.intercepts)
            if lv.epsilon.ctype.linear:
                names.update(lv.epsilon.matrix_names())
        return frozenset(names)

    def types_line(self) -> str:
        return ", ".join(f"{BLOCK_ARGUMENTS[block]} = {kind}" for block, kind in self.types.items())

    def network_matrices(self) -> list[str]:
        return ["omega_zeta_within", "omega_zeta_between"]

    def path_diagram(self, get: Callable[[str], FloatArray]) -> dict[str, object]:
        """Loadings over every observed variable (a level-specific loading matrix placed in its rows), the
        latent covariances and regressions of each level."""
        loadings, names = {}, {}
        for level, lv in self.levels.items():
            loadings[level] = place_rows(len(self.observed), lv.index, get(lv.loadings))
            names[level] = list(lv.latents)
        return dict(lambda_=loadings["within"], latents=names["within"], observed=list(self.observed),
                    lambda_between=None if self.shared else loadings["between"],
                    latents_between=None if self.shared else names["between"],
                    latent_cov_within=get("sigma_zeta_within"), latent_cov_between=get("sigma_zeta_between"),
                    beta_within=get("beta_within"), beta_between=get("beta_between"))

    def summary_matrices(self) -> list[str]:
        return ["sigma_zeta_within", "sigma_zeta_between"]

    def matrix_labels(self, name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Labels of model matrices from their specs; of derived ones by their name: latent views
        (``..._zeta_<level>``, ``sigma_eta_<level>``) by the level's latents, the others by its variables."""
        for spec in self.specs():
            if spec.name == name:
                return spec.row_labels, spec.col_labels
        level = self.levels["within" if name.endswith("within") else "between"]
        if name == "mu":
            return self.observed, ("1",)
        if "zeta" in name or "_eta_" in name:
            return level.latents, level.latents
        labels = self.observed if (self.shared and not name.startswith(("sigma_epsilon", "omega_epsilon"))) \
            else level.observed
        return labels, labels

    def network_nodes(self, name: str) -> tuple[int, ...]:
        """Rows of a latent or residual network that are nodes: phantoms (observed variables in regressions,
        lavaan's dummy latents) stand for observed variables and have no residual, so they are neither
        latent nor residual nodes."""
        rows = self.matrix_labels(name)[0]
        if not name.endswith(LEVELS):
            return tuple(range(len(rows)))
        phantoms = self.levels["within" if name.endswith("within") else "between"].phantoms
        return tuple(k for k, label in enumerate(rows) if label not in phantoms)

    def identify(self, pats: dict[str, Pattern], *, method: str, group: int, equal: Sequence[str],
                 ) -> tuple[dict[str, Pattern], set[tuple[str, int, int]]]:
        return identify_ml_lvm(self, pats, method=method, group=group, equal=equal)

    # -------------------------------------------------------------- moments
    def _level(self, mats: dict[str, FloatArray], lv: Level) -> _LevelValues:
        m = len(lv.latents)
        lam = mats[lv.loadings]
        beta = mats[lv.beta]
        psi = lv.zeta.sigma(mats)
        theta = lv.epsilon.sigma(mats)
        alpha = mats[lv.latent_means][:, 0] if lv.latent_means is not None else np.zeros(m)
        if not beta.any():  # no regressions: A = I
            return _LevelValues(lam, np.eye(m), psi, psi, theta, lam, lam @ psi, alpha)
        a = np.linalg.inv(np.eye(m) - beta)
        if not np.all(np.isfinite(a)):
            raise np.linalg.LinAlgError("I - B is singular")
        c = a @ psi @ a.T
        return _LevelValues(lam, a, psi, c, theta, lam @ a, lam @ c, a @ alpha)

    def _levels(self, mats: dict[str, FloatArray]) -> dict[str, _LevelValues]:
        return {name: self._level(mats, lv) for name, lv in self.levels.items()}

    def implied(self, mats: dict[str, FloatArray], levels: dict[str, _LevelValues] | None = None) -> Moments:
        values = self._levels(mats) if levels is None else levels
        p = len(self.observed)
        mu = np.zeros(p)
        sigma = {}
        for name, lv in self.levels.items():
            v = values[name]
            idx = lv.index
            mean = v.lam @ v.a_alpha
            if lv.intercepts is not None:
                mean = mean + mats[lv.intercepts][:, 0]
            mu[idx] += mean
            s = v.lc @ v.lam.T + v.theta
            sigma[name] = place_block(p, idx, 0.5 * (s + s.T))
        return Moments(mu, sigma["within"], sigma["between"], None if self.roles.plain else self.roles)

    def moments_and_derivatives(self, mats: dict[str, FloatArray], elements: Elements,
                                ) -> tuple[Moments, MomentDerivatives]:
        levels = self._levels(mats)
        return self.implied(mats, levels), self.derivatives(mats, elements, levels)

    def derivatives(self, mats: dict[str, FloatArray], elements: Elements,
                    levels: dict[str, _LevelValues] | None = None) -> MomentDerivatives:
        values = self._levels(mats) if levels is None else levels
        p = len(self.observed)
        out = MomentDerivatives.zeros(p, elements.count)

        def pad(lv: Level, x: FloatArray) -> FloatArray:
            return place_rows(p, lv.index, x)

        for name, idx, r, c in elements.by_matrix:
            block = self._block_of.get(name)
            if block is not None:
                lv = self.levels[block.level]
                if block.ctype.linear:  # derivatives that do not depend on the values
                    a, b = elements.constant(name, lambda: block.derivatives(mats, name, r, c))
                else:
                    a, b = block.derivatives(mats, name, r, c)
                if block.residual:
                    out.set_level(lv.name, idx, *elements.constant(("padded", name), lambda: (pad(lv, a), pad(lv, b)))
                                  if block.ctype.linear else (pad(lv, a), pad(lv, b)))
                else:
                    la = values[lv.name].la
                    out.set_level(lv.name, idx, pad(lv, la @ a), pad(lv, la @ b))
                continue
            for level_name, role in self._uses[name]:
                lv, v = self.levels[level_name], values[level_name]
                k = len(lv.observed)
                if role == "loadings":
                    unit = elements.constant((name, level_name), lambda: pad(lv, unit_columns(k, r)))
                    out.set_level(level_name, idx, unit, pad(lv, v.lc[:, c]))
                    if v.a_alpha.any():
                        out.mu[:, idx] += unit * v.a_alpha[c]
                elif role == "beta":
                    out.set_level(level_name, idx, pad(lv, v.la[:, r]), pad(lv, v.lc[:, c]))
                    out.mu[:, idx] += pad(lv, v.la[:, r] * v.a_alpha[c])
                elif role == "intercepts":
                    out.mu[:, idx] += elements.constant((name, level_name), lambda: pad(lv, unit_columns(k, r)))
                else:  # latent means
                    out.mu[:, idx] += pad(lv, v.la[:, r])
        return out

    # --------------------------------------------------------------- starts
    def start(self, stats: TwoLevelStats, codes: dict[str, np.ndarray], fixed: dict[str, np.ndarray],
              moments: Moments | None = None) -> dict[str, FloatArray]:
        """Start values from the data.

        Loadings: per factor, the first principal component of the level's
        covariance of its indicators (rescaled to the marker or to unit
        latent variance).  Residual variances: half the observed variance of
        each level.  Latent covariances: Lambda^+ (S - Theta) Lambda^+', made
        positive definite.  S is the saturated model's covariance of each
        level when ``moments`` is given, else a moment estimate.
        """
        s_w, s_b = start_covariances(stats, moments)
        covariance = {"within": s_w, "between": s_b}
        mean = stats.grand_mean if moments is None else moments.mu
        out: dict[str, FloatArray] = {}
        for name, lv in self.levels.items():
            s = covariance[name][np.ix_(lv.index, lv.index)]
            if lv.loadings not in out:
                out[lv.loadings] = _start_loadings(s, codes[lv.loadings], fixed[lv.loadings])
            lam = out[lv.loadings]
            m = len(lv.latents)
            out[lv.beta] = np.zeros((m, m))
            if lv.latent_means is not None:
                out[lv.latent_means] = np.zeros((m, 1))
            if lv.intercepts is not None:
                # the means go to the between level, except for variables without one
                target = mean[lv.index] if (lv.name == "between" or self.shared) else np.where(
                    np.isin(lv.index, self.roles.within_only), mean[lv.index], 0.0)
                out[lv.intercepts] = target.reshape(-1, 1)
            # residual variances: half the variance, or 0 where fixed at 0 (single indicators, phantoms)
            var = np.diag(s)
            free = np.diag(codes[lv.epsilon.variance_matrix()]) > 0
            zero = ~free & (np.diag(fixed[lv.epsilon.variance_matrix()]) == 0)
            theta = np.diag(np.where(zero, 0.0, np.maximum(0.5 * var, 1e-4 * max(var.mean(), 1e-8))))
            pinv = np.linalg.pinv(lam)
            psi = nearest_positive_definite(pinv @ (s - theta) @ pinv.T, floor=0.05)
            for block, sigma in ((lv.zeta, psi), (lv.epsilon, theta)):
                for kind, mat in block.ctype.from_sigma(sigma).items():
                    out[block.matrix_name(kind)] = mat
        return out

    def standardized(self, mats: dict[str, FloatArray]) -> StandardizedValues:
        """std.all per level (each level its own variances, so shared loadings get two standardized values)::

            lambda_std[i, j] = lambda[i, j] sd(eta_j) / sd(y_i),   beta_std[i, j] = beta[i, j] sd(eta_j) / sd(eta_i)
            psi_std[i, j]    = Psi[i, j] / (sd(eta_i) sd(eta_j)),   theta_std[i, j] = Theta[i, j] / (sd(y_i) sd(y_j))
            nu_std[i]        = nu[i] / sd(y_i),                     alpha_std[k] = alpha[k] / sd(eta_k)

        with sd(eta) from A Psi A' and sd(y) from the level's implied covariance.
        """
        values = self._levels(mats)
        out = StandardizedValues.empty()
        for name, lv in self.levels.items():
            v = values[name]
            sigma = v.lc @ v.lam.T + v.theta
            sd_y, sd_eta = np.sqrt(np.diag(sigma)), np.sqrt(np.diag(v.c))
            ratio = np.divide(sd_eta[None, :], sd_y[:, None], out=np.full(v.lam.shape, np.nan), where=sd_y[:, None] > 0)
            r, c = np.nonzero(v.lam)
            keep = [not (lv.latents[cc] in lv.phantoms and lv.observed[rr] == lv.latents[cc]) for rr, cc in zip(r, c)]
            r, c = r[keep], c[keep]
            out.add(lv.loadings, name, [lv.latents[k] for k in c], "=~", [lv.observed[k] for k in r],
                    v.lam[r, c] * ratio[r, c])
            beta = mats[lv.beta]
            r, c = np.nonzero(beta)
            measured = [(lv.latents[cc], lv.latents[rr]) in lv.measured for rr, cc in zip(r, c)]
            out.add(lv.beta, name, [lv.latents[cc] if m else lv.latents[rr] for rr, cc, m in zip(r, c, measured)],
                    ["=~" if m else "~" for m in measured],
                    [lv.latents[rr] if m else lv.latents[cc] for rr, cc, m in zip(r, c, measured)],
                    beta[r, c] * sd_eta[c] / sd_eta[r])
            exogenous = ~np.any(beta != 0, axis=1)
            out.add_covariance(f"sigma_zeta_{name}", name, lv.latents, v.psi, sd_eta, exogenous)
            real = np.asarray([k for k, obs in enumerate(lv.observed) if obs not in lv.phantoms], dtype=np.int64)
            out.add_covariance(f"sigma_epsilon_{name}", name, [lv.observed[k] for k in real],
                               v.theta[np.ix_(real, real)], sd_y[real], np.zeros(real.size, dtype=bool))
            if lv.intercepts is not None:
                nu = mats[lv.intercepts][:, 0]
                rows = [k for k in real if nu[k] != 0]
                out.add(lv.intercepts, name, [lv.observed[k] for k in rows], "~1", [""] * len(rows),
                        nu[rows] / sd_y[rows])
            if lv.latent_means is not None:
                alpha = mats[lv.latent_means][:, 0]
                rows = [k for k in range(len(lv.latents)) if alpha[k] != 0]
                out.add(lv.latent_means, name, [lv.latents[k] for k in rows], "~1", [""] * len(rows),
                        alpha[rows] / sd_eta[rows])
        return out

    def derived(self, mats: dict[str, FloatArray]) -> dict[str, FloatArray]:
        values = self._levels(mats)
        mom = self.implied(mats, values)
        out: dict[str, FloatArray] = {"mu": mom.mu.reshape(-1, 1)}
        for name, lv in self.levels.items():
            v = values[name]
            out[f"sigma_eta_{name}"] = v.c
            out.update(derived_matrices(v.psi, f"zeta_{name}"))
            out.update(derived_matrices(v.theta, f"epsilon_{name}"))
            sigma = mom.sigma_within if name == "within" else mom.sigma_between
            level_sigma = sigma[np.ix_(lv.index, lv.index)]
            out.update(derived_matrices(level_sigma, name))
            out[f"sigma_{name}"] = sigma if self.shared else level_sigma
        return out


def _start_loadings(s: FloatArray, codes: np.ndarray, fixed: np.ndarray) -> FloatArray:
    """Loadings from the first principal component of each factor's indicators."""
    lam = np.where(codes > 0, 0.0, fixed)
    for k in range(codes.shape[1]):
        free = np.flatnonzero(codes[:, k] > 0)
        if free.size == 0:
            continue
        markers = np.flatnonzero((codes[:, k] == 0) & (fixed[:, k] != 0))
        items = np.concatenate([markers[:1], free])
        vals, vecs = np.linalg.eigh(s[np.ix_(items, items)])
        v = vecs[:, -1] * np.sqrt(max(vals[-1], 1e-6))
        if v.sum() < 0:
            v = -v
        if markers.size and abs(v[0]) > 1e-8:
            v = v / v[0] * fixed[markers[0], k]
            lam[free, k] = v[1:]
        else:
            lam[free, k] = v[-free.size:]
    return lam
