"""The model-building functions users call: ml_lvm, its network wrappers, ml_varcov, ml_ggm."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ._arg import choice, flag, preview
from .data.checks import check_statistics
from .data.frame import frame_to_stats
from .data.stats import TwoLevelStats
from .estimators import Estimator, resolve
from .families.base import Family
from .families.ml_lvm import MlLvm
from .families.ml_lvm.exogenous import Exogenous
from .families.ml_varcov import MlVarcov
from .model import Model
from .moments import Roles
from .partable.build import IDENTIFICATION, build_partable, identify, parse_patterns, with_start_values
from .partable.patterns import Pattern


def _statistics(data: object, *, vars: Sequence[str] | None, clusters: str | None, groups: str | None,
                standardize: str, cluster_level: Sequence[str] = ()) -> tuple[TwoLevelStats, ...]:
    if isinstance(data, TwoLevelStats):
        data = [data]
    if isinstance(data, (list, tuple)) and data and all(isinstance(d, TwoLevelStats) for d in data):
        stats = tuple(data)
        if vars is not None and list(vars) != list(stats[0].vars):
            raise ValueError(f"`vars`: the statistics hold {preview(stats[0].vars)}; `vars` must be None or equal.")
        if standardize != "none":
            raise ValueError("`standardize`: cannot standardize precomputed statistics; standardize the data first.")
        if any(s.vars != stats[0].vars for s in stats):
            raise ValueError("`data`: the groups' statistics have different variables.")
        return stats
    return tuple(frame_to_stats(data, vars=vars, clusters=clusters, groups=groups, standardize=standardize,
                                cluster_level=cluster_level))


def _given_stats(data: object) -> TwoLevelStats | None:
    """The first group's statistics when ``data`` is a statistics object (or a list of them)."""
    if isinstance(data, TwoLevelStats):
        return data
    if isinstance(data, (list, tuple)) and data and isinstance(data[0], TwoLevelStats):
        return data[0]
    return None


def _resolve_estimator(estimator: object, stats: Sequence[TwoLevelStats], verbose: bool, roles: Roles,
                       information: str) -> tuple[Estimator, str]:
    """The estimator (see :mod:`psychonetrics.estimators`) and the information of its SEs."""
    for st in stats:
        check_statistics(st, roles)
    chosen = resolve(estimator, stats, verbose=verbose)
    return chosen, chosen.information(information, stats)


def _build(family: Family, stats: tuple[TwoLevelStats, ...], patterns: dict[str, object], *, identify_model: bool,
           identification: str, equal: Sequence[str], estimator: str, optimizer: str, verbose: bool,
           wrapper: str, information: str = "default", fixed_values: dict[str, np.ndarray] | None = None,
           adjust: Callable[[list[dict[str, Pattern]]], tuple[list[dict[str, Pattern]], Exogenous | None]] | None = None,
           starts: dict[str, np.ndarray] | None = None) -> Model:
    """Patterns -> identification (per group) -> parameter table -> start values -> Model.

    ``adjust`` changes the groups' patterns after identification (fixed
    covariates); ``starts`` are start values given by the syntax (NaN elsewhere).
    """
    choice("identification", identification, IDENTIFICATION)
    equal = tuple([equal] if isinstance(equal, str) else equal)
    est, information = _resolve_estimator(estimator, stats, verbose, family.roles, information)
    pats = parse_patterns(family, patterns)
    for name, values in (fixed_values or {}).items():
        known = ~np.isnan(values)
        pats[name] = Pattern(np.where(known, 0, pats[name].codes), np.where(known, values, pats[name].fixed))
    group_pats, marks = [], []
    for g in range(len(stats)):
        if identify_model:
            gp, mk = identify(family, pats, method=identification, group=g, equal=equal)
        else:
            gp, mk = pats, set()
        group_pats.append(gp)
        marks.append(mk)
    exogenous = None
    if adjust is not None:
        group_pats, exogenous = adjust(group_pats)
    labels = [s.group if s.group is not None else "1" for s in stats]
    table = build_partable(family, group_pats, marks, equal=equal, group_labels=labels)
    table = with_start_values(table, family, stats)
    given_starts = False
    for name, values in (starts or {}).items():
        rows = np.flatnonzero((table.names() == name) & (table.par > 0))
        chosen = values[table.row[rows], table.col[rows]]
        if np.any(np.isfinite(chosen)):
            value = table.value.copy()
            value[rows] = np.where(np.isfinite(chosen), chosen, value[rows])
            table = table.with_columns(value=value)
            given_starts = True
    nobs = len(stats) * family.roles.n_moments() - (exogenous.n_moments if exogenous is not None else 0)
    if table.n_free > nobs:
        raise ValueError(
            f"The model is not identified: {table.n_free} free parameters for {nobs} sample moments "
            f"(df = {nobs - table.n_free}). Fix or constrain parameters (for example, a factor needs three "
            "indicators, or two with a further constraint)."
        )
    return Model(family=family, table=table, stats=stats, estimator=est, information=information,
                 optimizer=optimizer, wrapper=wrapper,
                 identification=identification, equal=equal, verbose=verbose, exogenous=exogenous,
                 starts="values" if given_starts else "data")


def _names_list(argument: str, value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    try:
        names = tuple(value)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"`{argument}`: expected a list of variable names, got {type(value).__name__}.") from None
    if not all(isinstance(v, str) for v in names):
        raise TypeError(f"`{argument}`: expected variable names (str).")
    return names


def _roles(observed: tuple[str, ...], *, within_only: tuple[str, ...], between_only: tuple[str, ...]) -> Roles:
    """Check the level arguments against the variables and build the roles."""
    for argument, names in (("within_only", within_only), ("between_only", between_only)):
        unknown = [v for v in names if v not in observed]
        if unknown:
            raise ValueError(f"`{argument}`: {preview(unknown)} are not among the variables {preview(observed)}.")
    both = sorted(set(within_only) & set(between_only))
    if both:
        raise ValueError(f"`within_only`, `between_only`: {preview(both)} cannot be on one level only twice.")
    return Roles.of(observed, within_only=within_only, between_only=between_only)


def _check_patterns(fn: str, family: Family, patterns: dict[str, object]) -> None:
    explicit = {"lambda", "lambda_within", "lambda_between", "mu"}  # named arguments of their own
    names = {s.name for s in family.specs()} - explicit
    unknown = [k for k in patterns if k not in names]
    if unknown:
        raise TypeError(
            f"{fn}() got unexpected keyword argument(s) {preview(unknown)}; the other matrix patterns of this "
            f"model are {preview(sorted(names), limit=40)}."
        )


def ml_lvm(
    data: object,
    lambda_: object = None,
    clusters: str | None = None,
    vars: Sequence[str] | None = None,
    *,
    within_latent: str = "cov",
    within_residual: str = "cov",
    between_latent: str = "cov",
    between_residual: str = "cov",
    beta_within: object = None,
    beta_between: object = None,
    nu: object = None,
    nu_eta: object = None,
    latents: Sequence[str] | None = None,
    lambda_within: object = None,
    lambda_between: object = None,
    latents_within: Sequence[str] | None = None,
    latents_between: Sequence[str] | None = None,
    within_only: Sequence[str] = (),
    between_only: Sequence[str] = (),
    fixed_x: bool = True,
    groups: str | None = None,
    equal: Sequence[str] = (),
    identify: bool = True,
    identification: str = "loadings",
    estimator: str = "default",
    information: str = "default",
    optimizer: str = "default",
    standardize: str = "none",
    verbose: bool = False,
    _wrapper: str = "ml_lvm",
    **patterns: object,
) -> Model:
    """Specify a two-level latent variable model (psychonetrics' ``ml_lvm``).

    Parameters
    ----------
    data : DataFrame (pandas or polars), TwoLevelStats, or list of TwoLevelStats
        One row per unit, or precomputed two-level statistics.
    lambda_ : array (p, m) or str
        Loading pattern: 0 fixed at zero, 1 free, integer > 1 equality label;
        a non-integer value fixes the loading at that value.  The same
        loadings hold on both levels.  Or lavaan's model syntax: without
        ``level:`` blocks (``"F1 =~ y1 + y2 + y3; F2 =~ y4 + y5 + y6; F2 ~ F1"``)
        the structure holds on both levels with shared loadings; with
        ``level: 1`` / ``level: 2`` blocks each level has its own structure,
        with lavaan's rules (within-only and cluster-level variables,
        regressions on observed covariates, labels, ``NA*``, fixed values,
        intercepts; see :mod:`psychonetrics.families.ml_lvm.syntax.compile`).
    clusters : str
        Column with the cluster ids.
    vars : sequence of str, optional
        Observed variables (default: every column but ``clusters``/``groups``).
    within_latent, within_residual, between_latent, between_residual : str
        Covariance type of each block: ``"cov"``, ``"chol"``, ``"prec"``, ``"ggm"`` or ``"cor"``.
    beta_within, beta_between : pattern
        Latent regressions; ``beta[i, j]`` is the effect of eta_j on eta_i.
    nu, nu_eta : pattern, optional
        Intercepts (default free) and latent means (default fixed at 0 when identified).
    latents : sequence of str, optional
        Latent variable names (default ``Eta_1``, ``Eta_2``, ...).
    lambda_within, lambda_between : array, optional
        Level-specific loading patterns (instead of ``lambda_``): rows are the
        variables with a part on that level (``vars`` without ``between_only``,
        or without ``within_only``), columns that level's latent variables.
    latents_within, latents_between : sequence of str, optional
        Their latent variable names (default ``W1, W2, ...`` and ``B1, B2, ...``).
    within_only, between_only : sequence of str
        With level-specific loadings: variables without a between part, and
        cluster-level variables (constant within clusters).
    fixed_x : bool
        Level-specific syntax: fix the means and covariances of observed
        covariates at their sample values, as lavaan's ``fixed.x`` (the
        default there too); see :mod:`psychonetrics.families.ml_lvm.exogenous`.
    groups : str, optional
        Column with group labels (multi-group model).
    equal : sequence of str
        Matrices constrained equal across groups, e.g. ``["lambda", "nu"]``.
    identify : bool
        Apply the identification rules (see :mod:`psychonetrics.partable.build`).
    identification : {"loadings", "variance"}
    estimator : {"default", "ML", "FIML", "MLR"} (any case)
        ``"default"`` is ``"ML"`` for complete data whose largest cluster has
        more than 5 units and ``"FIML"`` otherwise.  ``"MLR"``: ML estimates
        with cluster-robust (sandwich) standard errors and the Yuan-Bentler
        scaled chi-square (lavaan's and Mplus' MLR); it needs the unit rows.
    information : {"default", "observed", "expected"}
        Information matrix of the standard errors (the bread of MLR's
        sandwich).  ``"default"``: expected for ML on complete data, observed
        with missing values and for MLR (lavaan's two-level default).
    optimizer : {"default", "fisher", "lbfgs"}
    standardize : {"none", "z", "quantile"}
    verbose : bool
    **patterns
        Pattern of any other model matrix by name, e.g. ``sigma_zeta_within``,
        ``omega_epsilon_between``, ``delta_zeta_within``.

    Returns
    -------
    Model
        Unfitted; call ``runmodel()``.

    Notes
    -----
    mu = nu + Lambda (I - B_B)^-1 nu_eta;
    Sigma_W = Lambda (I - B_W)^-1 Psi_W (I - B_W)^-T Lambda' + Theta_W;
    Sigma_B likewise with the between matrices.

    As in psychonetrics (and unlike lavaan's default two-level model) the
    loadings are the same matrix on both levels.

    Examples
    --------
    >>> import psychonetrics as pn
    >>> data = pn.datasets.seed_example()
    >>> mod = pn.ml_lvm(data, "F1 =~ y1 + y2 + y3; F2 =~ y4 + y5 + y6", clusters="cluster")
    >>> mod = mod.runmodel()
    >>> fit = mod.fit()
    >>> print(round(fit["chisq"], 2), int(fit["df"]))
    15.92 20
    >>> mod.getmatrix("lambda").round(2)
    array([[1.  , 0.  ],
           [0.79, 0.  ],
           [0.61, 0.  ],
           [0.  , 1.  ],
           [0.  , 0.79],
           [0.  , 0.57]])

    The same model with a loading pattern (0 fixed at zero, 1 free):

    >>> lam = [[1, 0]] * 3 + [[0, 1]] * 3
    >>> print(round(pn.ml_lvm(data, lambda_=lam, clusters="cluster").runmodel().fit()["chisq"], 2))
    15.92
    """
    fixed_x, identify, verbose = flag("fixed_x", fixed_x), flag("identify", identify), flag("verbose", verbose)
    types = {"within_latent": within_latent, "between_latent": between_latent,
             "within_residual": within_residual, "between_residual": between_residual}
    common = _Common(clusters=clusters, groups=groups, equal=equal, identify=identify,
                     identification=identification, estimator=estimator, information=information,
                     optimizer=optimizer, standardize=standardize, verbose=verbose, wrapper=_wrapper)
    level_args = {"lambda_within": lambda_within, "lambda_between": lambda_between,
                  "latents_within": latents_within, "latents_between": latents_between}
    explicit = {k: v for k, v in (("beta_within", beta_within), ("beta_between", beta_between), ("nu", nu),
                                  ("nu_eta", nu_eta)) if v is not None}
    if _is_syntax(lambda_):
        given = [k for k, v in level_args.items() if v is not None] + (["latents"] if latents is not None else [])
        if given:
            raise TypeError(f"`lambda_`: model syntax sets the structure; leave out {preview(given)}.")
        return _syntax_model(data, str(lambda_), vars=vars, types=types, patterns={**patterns, **explicit},
                             fixed_x=fixed_x, within_only=within_only, between_only=between_only, common=common)
    if lambda_within is not None or lambda_between is not None:
        if lambda_ is not None or latents is not None:
            raise TypeError("`lambda_`: give either `lambda_` (loadings shared by both levels) or "
                            "`lambda_within` and `lambda_between`, not both.")
        return _level_matrices_model(data, vars=vars, types=types, patterns={**patterns, **explicit},
                                     within_only=within_only, between_only=between_only, common=common,
                                     **level_args)
    if within_only or between_only:
        raise TypeError("`within_only` / `between_only`: variables on one level only need level-specific "
                        "loadings (`lambda_within=`, `lambda_between=`) or level: blocks in the model syntax.")
    return _shared_matrices_model(data, lambda_, vars=vars, latents=latents, types=types,
                                  patterns={**patterns, **explicit}, common=common)


@dataclass(frozen=True)
class _Common:
    """Arguments every latent variable model passes through unchanged."""

    clusters: str | None
    groups: str | None
    equal: Sequence[str]
    identify: bool
    identification: str
    estimator: str
    information: str
    optimizer: str
    standardize: str
    verbose: bool
    wrapper: str

    def build(self, family: Family, stats: tuple[TwoLevelStats, ...], patterns: dict[str, object], *,
              identify: bool | None = None, **extra: object) -> Model:
        return _build(family, stats, patterns, identify_model=self.identify if identify is None else identify,
                      identification=self.identification, equal=self.equal, estimator=self.estimator,
                      information=self.information,
                      optimizer=self.optimizer, verbose=self.verbose, wrapper=self.wrapper, **extra)  # type: ignore[arg-type]


def _is_syntax(value: object) -> bool:
    return isinstance(value, str) and any(op in value for op in ("=~", "~", "\n", ";", "level"))


def _data_columns(data: object, common: _Common) -> tuple[str, ...]:
    """The variables the data offer, in their order (for the syntax's observed variables)."""
    given = _given_stats(data)
    if given is not None:
        return given.vars
    from .data.frame import as_pandas

    frame = as_pandas(data)
    return tuple(str(c) for c in frame.columns if c not in (common.clusters, common.groups))


def _syntax_model(data: object, text: str, *, vars: Sequence[str] | None, types: dict[str, str],
                  patterns: dict[str, object], fixed_x: bool, within_only: Sequence[str],
                  between_only: Sequence[str], common: _Common) -> Model:
    """ml_lvm from lavaan's model syntax (both dialects, see :mod:`psychonetrics.families.ml_lvm.syntax.compile`)."""
    from .families.ml_lvm.syntax.compile import block_patterns, compile_syntax
    from .families.ml_lvm.syntax.parser import parse_syntax

    if within_only or between_only:
        raise TypeError("`within_only` / `between_only`: with model syntax, the level blocks say which variables "
                        "live on one level only; leave these arguments out.")
    compiled = compile_syntax(parse_syntax(text), data_order=_data_columns(data, common))
    observed = list(compiled.observed)
    if vars is not None:
        missing = [v for v in observed if v not in vars]
        if missing:
            raise ValueError(f"`vars`: the model syntax also uses {preview(missing)}.")
        if not compiled.shared and set(vars) != set(observed):
            raise ValueError("`vars`: with level blocks every variable must be named in the syntax "
                             f"(not named: {preview([v for v in vars if v not in observed])}).")
        observed = list(vars) if _given_stats(data) is None else observed
    stats = _statistics(data, vars=observed if _given_stats(data) is None else None, clusters=common.clusters,
                        groups=common.groups, standardize=common.standardize, cluster_level=compiled.between_only)
    observed_t = stats[0].vars
    if compiled.shared:
        family = MlLvm.shared_loadings(observed_t, compiled.latents["within"], **types)
        pats = _expand_rows(compiled.patterns, compiled.observed, observed_t)
    else:
        roles = Roles.of(observed_t, within_only=compiled.within_only, between_only=compiled.between_only)
        family = MlLvm.per_level(observed_t, roles=roles, latents_within=compiled.latents["within"],
                                 latents_between=compiled.latents["between"],
                                 phantoms_within=compiled.phantoms["within"],
                                 phantoms_between=compiled.phantoms["between"],
                                 covariates=tuple(dict.fromkeys(compiled.exogenous["within"]
                                                                + compiled.exogenous["between"])),
                                 **types)
        pats = dict(compiled.patterns)
    _check_patterns(common.wrapper, family, patterns)
    defaults = family.default_patterns()
    for block in family.blocks():
        grid = compiled.blocks[block.name]
        if compiled.shared and block.residual and len(observed_t) != len(compiled.observed):
            grid = _expand_grid(grid, compiled.observed, observed_t)
        pats.update(block_patterns(block, grid, defaults))
    pats.update(patterns)  # explicit matrix arguments win over the syntax
    adjust = None
    if not compiled.shared and fixed_x:
        adjust = _fixed_covariates(family, stats, compiled.exogenous)
    return common.build(family, stats, pats, identify=common.identify if compiled.shared else False,
                        adjust=adjust, starts=compiled.starts)


def _expand_rows(patterns: dict[str, Pattern], syntax_vars: tuple[str, ...], observed: tuple[str, ...],
                 ) -> dict[str, object]:
    """Patterns of the shared dialect over ``observed`` (``vars`` may add variables the syntax does not use:
    no loadings, their own residual variances)."""
    if syntax_vars == observed:
        return dict(patterns)
    index = [syntax_vars.index(v) if v in syntax_vars else -1 for v in observed]
    out: dict[str, object] = {}
    for name, pat in patterns.items():
        if name in ("lambda", "nu"):
            codes = np.array([pat.codes[i] if i >= 0 else np.zeros_like(pat.codes[0]) for i in index])
            fixed = np.array([pat.fixed[i] if i >= 0 else np.zeros_like(pat.fixed[0]) for i in index])
            if name == "nu":
                codes[np.asarray(index) < 0] = 1
            out[name] = Pattern(codes, fixed)
        else:
            out[name] = pat
    return out


def _expand_grid(grid, syntax_vars: tuple[str, ...], observed: tuple[str, ...]):  # noqa: ANN001, ANN202
    from .families.ml_lvm.syntax.compile import Grid

    p = len(observed)
    out = Grid.zeros(p, p)
    index = [syntax_vars.index(v) if v in syntax_vars else -1 for v in observed]
    for a, ia in enumerate(index):
        for b, ib in enumerate(index):
            if ia >= 0 and ib >= 0:
                out.codes[a, b], out.fixed[a, b] = grid.codes[ia, ib], grid.fixed[ia, ib]
                out.explicit[a, b] = grid.explicit[ia, ib]
        if ia < 0:
            out.codes[a, a] = 1
    return out


def _fixed_covariates(family: MlLvm, stats: tuple[TwoLevelStats, ...], exogenous: dict[str, tuple[str, ...]],
                      ) -> Callable[[list[dict[str, Pattern]]], tuple[list[dict[str, Pattern]], Exogenous | None]]:
    """The pattern change of ``fixed_x``: covariate moments at the saturated model's values."""
    from .families.ml_lvm.exogenous import fix_exogenous
    from .fitting.saturated import fit_reference_stats

    def adjust(group_pats: list[dict[str, Pattern]]) -> tuple[list[dict[str, Pattern]], Exogenous | None]:
        if not any(exogenous.values()):
            return group_pats, None
        saturated = fit_reference_stats(stats, diagonal=False, roles=family.roles)
        return fix_exogenous(family, stats, group_pats, exogenous, saturated.moments)

    return adjust


def _level_matrices_model(data: object, *, vars: Sequence[str] | None, types: dict[str, str],
                          patterns: dict[str, object], within_only: Sequence[str], between_only: Sequence[str],
                          common: _Common, lambda_within: object, lambda_between: object,
                          latents_within: Sequence[str] | None, latents_between: Sequence[str] | None) -> Model:
    """ml_lvm with level-specific loading matrices (psychonetrics style)."""
    within_only = _names_list("within_only", within_only)
    between_only = _names_list("between_only", between_only)
    stats = _statistics(data, vars=vars, clusters=common.clusters, groups=common.groups,
                        standardize=common.standardize, cluster_level=between_only)
    observed = stats[0].vars
    roles = _roles(observed, within_only=within_only, between_only=between_only)
    loadings = {}
    names = {}
    for level, value, given, prefix, index in (("within", lambda_within, latents_within, "W", roles.within),
                                               ("between", lambda_between, latents_between, "B", roles.between)):
        rows = tuple(observed[k] for k in index)
        if value is None:
            raise ValueError(f"`lambda_{level}`: required with level-specific loadings (one row per variable of the "
                             f"{level} level: {preview(rows)}).")
        lam = _loading_array(value, rows, argument=f"lambda_{level}")
        names[level] = _latent_labels(given, lam.shape[1], prefix, argument=f"latents_{level}")
        _check_indicators(lam, names[level], argument=f"lambda_{level}")
        loadings[level] = lam
    family = MlLvm.per_level(observed, roles=roles, latents_within=names["within"],
                             latents_between=names["between"], **types)
    _check_patterns(common.wrapper, family, patterns)
    pats: dict[str, object] = dict(patterns)
    pats["lambda_within"], pats["lambda_between"] = loadings["within"], loadings["between"]
    for level in ("within", "between"):
        pats.setdefault(f"beta_{level}", "zero")
    return common.build(family, stats, pats)


def _shared_matrices_model(data: object, lambda_: object, *, vars: Sequence[str] | None,
                           latents: Sequence[str] | None, types: dict[str, str], patterns: dict[str, object],
                           common: _Common) -> Model:
    """psychonetrics' ml_lvm: one loading matrix for both levels."""
    stats = _statistics(data, vars=vars, clusters=common.clusters, groups=common.groups,
                        standardize=common.standardize)
    observed = stats[0].vars
    if lambda_ is None:
        raise ValueError("`lambda_`: required; give the p x m loading pattern (rows: variables, columns: latents).")
    if isinstance(lambda_, str):
        raise ValueError("`lambda_`: expected a p x m array (0 = fixed zero, 1 = free) or model syntax "
                         "such as 'F1 =~ y1 + y2 + y3', not a word.")
    lam = _loading_array(lambda_, observed, argument="lambda_")
    names = _latent_labels(latents, lam.shape[1], "Eta_", argument="latents")
    _check_indicators(lam, names, argument="lambda_")
    family = MlLvm.shared_loadings(observed, names, **types)
    _check_patterns(common.wrapper, family, patterns)
    pats: dict[str, object] = {"beta_within": "zero", "beta_between": "zero", **patterns, "lambda": lam}
    return common.build(family, stats, pats)


def _loading_array(value: object, rows: tuple[str, ...], *, argument: str) -> np.ndarray:
    try:
        lam = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"`{argument}`: expected a numeric p x m array, got {type(value).__name__}.") from None
    if lam.ndim == 1:
        lam = lam.reshape(-1, 1)
    if lam.ndim != 2 or lam.shape[0] != len(rows):
        raise ValueError(
            f"`{argument}`: expected {len(rows)} rows (one per variable: {preview(rows)}), "
            f"got shape {' x '.join(map(str, np.shape(value)))}."
        )
    return lam


def _latent_labels(given: Sequence[str] | None, m: int, prefix: str, *, argument: str) -> tuple[str, ...]:
    if given is None:
        return tuple(f"{prefix}{k + 1}" for k in range(m))
    names = tuple(str(x) for x in given)
    if len(names) != m:
        raise ValueError(f"`{argument}`: expected {m} names (one per column of the loadings), got {len(names)}.")
    return names


def _check_indicators(lam: np.ndarray, names: tuple[str, ...], *, argument: str) -> None:
    empty = [names[k] for k in np.flatnonzero(~np.any(lam != 0, axis=0))]
    if empty:
        raise ValueError(
            f"`{argument}`: latent variable(s) {preview(empty)} have no indicator (their column of `{argument}` is "
            "all zero); give each latent variable at least one nonzero loading or leave it out."
        )


def ml_lnm(data: object, lambda_: object = None, clusters: str | None = None, vars: Sequence[str] | None = None,
           **kwargs: object) -> Model:
    """Two-level latent network model: ``ml_lvm`` with both latent levels ``"ggm"``.

    The latent partial-correlation networks are ``omega_zeta_within`` and
    ``omega_zeta_between``; residual blocks stay ``"cov"``.

    Parameters
    ----------
    data, lambda_, clusters, vars
        As in :func:`ml_lvm`.
    **kwargs
        Any other argument of :func:`ml_lvm`; ``within_latent`` and
        ``between_latent`` default to ``"ggm"``.

    Returns
    -------
    Model
        Unfitted; call ``runmodel()``.

    Examples
    --------
    >>> import psychonetrics as pn
    >>> data = pn.datasets.seed_example()
    >>> lnm = pn.ml_lnm(data, "F1 =~ y1 + y2 + y3; F2 =~ y4 + y5 + y6", clusters="cluster").runmodel()
    >>> lnm.getmatrix("omega_zeta_between").round(3)
    array([[ 0.   , -0.167],
           [-0.167,  0.   ]])
    """
    for key in ("within_latent", "between_latent"):
        kwargs.setdefault(key, "ggm")
    return ml_lvm(data, lambda_, clusters, vars, _wrapper="ml_lnm", **kwargs)  # type: ignore[arg-type]


def ml_rnm(data: object, lambda_: object = None, clusters: str | None = None, vars: Sequence[str] | None = None,
           **kwargs: object) -> Model:
    """Two-level residual network model: ``ml_lvm`` with both residual levels ``"ggm"``.

    The residual networks ``omega_epsilon_within`` and
    ``omega_epsilon_between`` start empty (psychonetrics' default for
    residual blocks); free edges with ``omega_epsilon_within=...`` patterns,
    ``freepar`` or ``stepup``.

    Parameters
    ----------
    data, lambda_, clusters, vars
        As in :func:`ml_lvm`.
    **kwargs
        Any other argument of :func:`ml_lvm`; ``within_residual`` and
        ``between_residual`` default to ``"ggm"``.

    Returns
    -------
    Model
        Unfitted; call ``runmodel()``.

    Examples
    --------
    >>> import psychonetrics as pn
    >>> data = pn.datasets.seed_example()
    >>> rnm = pn.ml_rnm(data, "F1 =~ y1 + y2 + y3; F2 =~ y4 + y5 + y6", clusters="cluster").runmodel()
    >>> print(round(rnm.fit()["chisq"], 2))
    15.92
    >>> int(abs(rnm.getmatrix("omega_epsilon_within")).sum())
    0
    """
    for key in ("within_residual", "between_residual"):
        kwargs.setdefault(key, "ggm")
    return ml_lvm(data, lambda_, clusters, vars, _wrapper="ml_rnm", **kwargs)  # type: ignore[arg-type]


def ml_lrnm(data: object, lambda_: object = None, clusters: str | None = None, vars: Sequence[str] | None = None,
            **kwargs: object) -> Model:
    """Two-level latent and residual network model: all four blocks ``"ggm"``.

    Parameters
    ----------
    data, lambda_, clusters, vars
        As in :func:`ml_lvm`.
    **kwargs
        Any other argument of :func:`ml_lvm`; the four block types default
        to ``"ggm"``.

    Returns
    -------
    Model
        Unfitted; call ``runmodel()``.

    Examples
    --------
    >>> import psychonetrics as pn
    >>> data = pn.datasets.seed_example()
    >>> lrnm = pn.ml_lrnm(data, "F1 =~ y1 + y2 + y3; F2 =~ y4 + y5 + y6", clusters="cluster").runmodel()
    >>> lrnm.getmatrix("omega_zeta_within").round(3)
    array([[0.   , 0.026],
           [0.026, 0.   ]])
    """
    for key in ("within_latent", "between_latent", "within_residual", "between_residual"):
        kwargs.setdefault(key, "ggm")
    return ml_lvm(data, lambda_, clusters, vars, _wrapper="ml_lrnm", **kwargs)  # type: ignore[arg-type]


def ml_varcov(
    data: object,
    clusters: str | None = None,
    vars: Sequence[str] | None = None,
    *,
    within: str = "cov",
    between: str = "cov",
    mu: object = None,
    within_only: Sequence[str] = (),
    between_only: Sequence[str] = (),
    groups: str | None = None,
    equal: Sequence[str] = (),
    estimator: str = "default",
    information: str = "default",
    optimizer: str = "default",
    standardize: str = "none",
    verbose: bool = False,
    _wrapper: str = "ml_varcov",
    **patterns: object,
) -> Model:
    """Two-level (co)variance model of the observed variables (no latent variables).

    Sigma_W and Sigma_B are parameterized by ``within`` and ``between``
    (``"cov"``, ``"chol"``, ``"prec"``, ``"ggm"``, ``"cor"``); matrices are
    named ``mu``, ``<kind>_within`` and ``<kind>_between`` (``omega_within``,
    ``delta_between``, ``sigma_within``, ...).

    Parameters
    ----------
    data : DataFrame (pandas or polars), TwoLevelStats, or list of TwoLevelStats
        One row per unit, or precomputed two-level statistics.
    clusters : str
        Column with the cluster ids.
    vars : sequence of str, optional
        Observed variables (default: every column but ``clusters``/``groups``).
    within, between : str
        Covariance type of each level.
    mu : pattern, optional
        Means (default free).
    within_only, between_only : sequence of str
        Variables without a between part, and cluster-level variables
        (constant within clusters, one value per cluster): nodes of the
        within or of the between network only.  ``<kind>_within`` matrices
        then cover the variables with a within part, ``<kind>_between`` those
        with a between part.
    groups, equal, estimator, information, optimizer, standardize, verbose
        As in :func:`ml_lvm`.
    **patterns
        Pattern of any model matrix by name, e.g. ``sigma_between="diag"``
        or ``omega_within=...``.

    Returns
    -------
    Model
        Unfitted; call ``runmodel()``.

    Examples
    --------
    A model with uncorrelated between-cluster parts (a diagonal Sigma_B):

    >>> import psychonetrics as pn
    >>> data = pn.datasets.seed_example()
    >>> mod = pn.ml_varcov(data, clusters="cluster", sigma_between="diag").runmodel()
    >>> fit = mod.fit()
    >>> print(round(fit["chisq"], 2), int(fit["df"]))
    113.68 15
    """
    verbose = flag("verbose", verbose)
    within_only, between_only = _names_list("within_only", within_only), _names_list("between_only", between_only)
    stats = _statistics(data, vars=vars, clusters=clusters, groups=groups, standardize=standardize,
                        cluster_level=between_only)
    roles = _roles(stats[0].vars, within_only=within_only, between_only=between_only)
    family = MlVarcov(stats[0].vars, within=within, between=between, roles=roles)
    _check_patterns(_wrapper, family, patterns)
    pats: dict[str, object] = dict(patterns)
    if mu is not None:
        pats["mu"] = mu
    return _build(family, stats, pats, identify_model=False, identification="loadings", equal=equal,
                  estimator=estimator, optimizer=optimizer, verbose=verbose, wrapper=_wrapper,
                  information=information)


def ml_ggm(data: object, clusters: str | None = None, vars: Sequence[str] | None = None, **kwargs: object) -> Model:
    """Multilevel Gaussian graphical model: within and between partial-correlation networks
    (``omega_within``, ``omega_between``) of the observed variables.

    ``ml_varcov`` with ``within="ggm"`` and ``between="ggm"``; saturated
    until edges are removed (``prune``, ``modelsearch``, or ``omega_*``
    patterns).

    Parameters
    ----------
    data, clusters, vars
        As in :func:`ml_varcov`.
    **kwargs
        Any other argument of :func:`ml_varcov`.

    Returns
    -------
    Model
        Unfitted; call ``runmodel()``.

    Examples
    --------
    >>> import psychonetrics as pn
    >>> data = pn.datasets.seed_example()
    >>> ggm = pn.ml_ggm(data, clusters="cluster").runmodel()
    >>> ggm.getmatrix("omega_within")[0].round(2)
    array([ 0.  ,  0.47,  0.32, -0.02,  0.05,  0.01])
    >>> int(ggm.prune(alpha=0.01).fit()["df"])
    21
    """
    kwargs.setdefault("within", "ggm")
    kwargs.setdefault("between", "ggm")
    return ml_varcov(data, clusters, vars, _wrapper="ml_ggm", **kwargs)  # type: ignore[arg-type]
