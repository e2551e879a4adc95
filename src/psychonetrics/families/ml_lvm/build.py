"""The model functions of the latent variable family: ``ml_lvm`` and its network wrappers ``ml_lnm``,
``ml_rnm`` and ``ml_lrnm``.

Three ways to give the structure, each a path to a :class:`.family.MlLvm`:
lavaan's model syntax (both dialects, :mod:`.syntax`), level-specific loading
matrices (``lambda_within`` / ``lambda_between``), or psychonetrics' shared
loading matrix ``lambda_``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ..._arg import flag, preview
from ...data.stats import TwoLevelStats
from ...fitting.saturated import MomentsFit
from ...model import Model
from ...moments import Roles
from ...partable.patterns import Pattern
from ..builder import Common, check_patterns, given_stats, level_roles, names_list, statistics
from .exogenous import Exogenous
from .family import MlLvm

#: Matrices with named arguments of their own (not among the ``**patterns``).
EXPLICIT = ("lambda", "lambda_within", "lambda_between")


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
    common = Common(clusters=clusters, groups=groups, equal=equal, identify=identify,
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


def _is_syntax(value: object) -> bool:
    return isinstance(value, str) and any(op in value for op in ("=~", "~", "\n", ";", "level"))


def _data_columns(data: object, common: Common) -> tuple[str, ...]:
    """The variables the data offer, in their order (for the syntax's observed variables)."""
    given = given_stats(data)
    if given is not None:
        return given.vars
    from ...data.frame import as_pandas

    frame = as_pandas(data)
    return tuple(str(c) for c in frame.columns if c not in (common.clusters, common.groups))


def _syntax_model(data: object, text: str, *, vars: Sequence[str] | None, types: dict[str, str],
                  patterns: dict[str, object], fixed_x: bool, within_only: Sequence[str],
                  between_only: Sequence[str], common: Common) -> Model:
    """ml_lvm from lavaan's model syntax (both dialects, see :mod:`psychonetrics.families.ml_lvm.syntax.compile`)."""
    from .syntax.compile import block_patterns, compile_syntax
    from .syntax.parser import parse_syntax

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
        observed = list(vars) if given_stats(data) is None else observed
    stats = statistics(data, vars=observed if given_stats(data) is None else None, clusters=common.clusters,
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
    check_patterns(common.wrapper, family, patterns, explicit=EXPLICIT)
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
    from .syntax.compile import Grid

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
                      ) -> Callable[..., tuple[list[dict[str, Pattern]], Exogenous | None]]:
    """The pattern change of ``fixed_x``: covariate moments at the saturated model's values (the builder's
    saturated fit, which the model keeps for its reference fits)."""
    from .exogenous import fix_exogenous

    def adjust(group_pats: list[dict[str, Pattern]], saturated: Callable[[], MomentsFit],
               ) -> tuple[list[dict[str, Pattern]], Exogenous | None]:
        if not any(exogenous.values()):
            return group_pats, None
        return fix_exogenous(family, stats, group_pats, exogenous, saturated().moments)

    return adjust


def _level_matrices_model(data: object, *, vars: Sequence[str] | None, types: dict[str, str],
                          patterns: dict[str, object], within_only: Sequence[str], between_only: Sequence[str],
                          common: Common, lambda_within: object, lambda_between: object,
                          latents_within: Sequence[str] | None, latents_between: Sequence[str] | None) -> Model:
    """ml_lvm with level-specific loading matrices (psychonetrics style)."""
    within_only = names_list("within_only", within_only)
    between_only = names_list("between_only", between_only)
    stats = statistics(data, vars=vars, clusters=common.clusters, groups=common.groups,
                        standardize=common.standardize, cluster_level=between_only)
    observed = stats[0].vars
    roles = level_roles(observed, within_only=within_only, between_only=between_only)
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
    check_patterns(common.wrapper, family, patterns, explicit=EXPLICIT)
    pats: dict[str, object] = dict(patterns)
    pats["lambda_within"], pats["lambda_between"] = loadings["within"], loadings["between"]
    for level in ("within", "between"):
        pats.setdefault(f"beta_{level}", "zero")
    return common.build(family, stats, pats)


def _shared_matrices_model(data: object, lambda_: object, *, vars: Sequence[str] | None,
                           latents: Sequence[str] | None, types: dict[str, str], patterns: dict[str, object],
                           common: Common) -> Model:
    """psychonetrics' ml_lvm: one loading matrix for both levels."""
    stats = statistics(data, vars=vars, clusters=common.clusters, groups=common.groups,
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
    check_patterns(common.wrapper, family, patterns, explicit=EXPLICIT)
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
