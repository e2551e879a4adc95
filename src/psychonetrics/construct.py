"""The model-building functions users call: ml_lvm, its network wrappers, ml_varcov, ml_ggm."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._arg import choice, preview
from .data.checks import check_statistics
from .data.frame import frame_to_stats
from .data.stats import TwoLevelStats
from .families.base import Family
from .families.ml_lvm import MlLvm
from .families.ml_varcov import MlVarcov
from .model import Model
from .spec.build import IDENTIFICATION, build_partable, identify, parse_patterns, with_start_values
from .spec.patterns import Pattern

ESTIMATORS = ("default", "ML", "FIML")


def _statistics(data: object, *, vars: Sequence[str] | None, clusters: str | None, groups: str | None,
                standardize: str) -> tuple[TwoLevelStats, ...]:
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
    return tuple(frame_to_stats(data, vars=vars, clusters=clusters, groups=groups, standardize=standardize))


def _given_stats(data: object) -> TwoLevelStats | None:
    """The first group's statistics when ``data`` is a statistics object (or a list of them)."""
    if isinstance(data, TwoLevelStats):
        return data
    if isinstance(data, (list, tuple)) and data and isinstance(data[0], TwoLevelStats):
        return data[0]
    return None


def _resolve_estimator(estimator: str, stats: Sequence[TwoLevelStats], verbose: bool) -> str:
    choice("estimator", estimator, ESTIMATORS)
    for st in stats:
        check_statistics(st)
    complete = all(s.complete for s in stats)
    if estimator == "default":
        big = max(s.max_cluster_size for s in stats) > 5
        estimator = "ML" if complete and big else "FIML"
        if verbose:
            why = "complete data, largest cluster > 5 units" if estimator == "ML" else (
                "missing values" if not complete else "largest cluster has 5 or fewer units")
            print(f"estimator='default': using {estimator} ({why}).")
    if estimator == "FIML" and any(s.units is None for s in stats):
        raise ValueError(
            "`estimator`: 'FIML' needs the unit-level rows, but `data` is a statistics object; "
            "use estimator='ML' or pass the DataFrame."
        )
    return estimator


def _build(family: Family, stats: tuple[TwoLevelStats, ...], patterns: dict[str, object], *, identify_model: bool,
           identification: str, equal: Sequence[str], estimator: str, optimizer: str, verbose: bool,
           wrapper: str, fixed_values: dict[str, np.ndarray] | None = None) -> Model:
    choice("identification", identification, IDENTIFICATION)
    equal = tuple([equal] if isinstance(equal, str) else equal)
    est = _resolve_estimator(estimator, stats, verbose)
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
    labels = [s.group if s.group is not None else "1" for s in stats]
    table = build_partable(family, group_pats, marks, equal=equal, group_labels=labels)
    table = with_start_values(table, family, stats)
    nobs = len(stats) * family.n_phi
    if table.n_free > nobs:
        raise ValueError(
            f"The model is not identified: {table.n_free} free parameters for {nobs} sample moments "
            f"(df = {nobs - table.n_free}). Fix or constrain parameters (for example, a factor needs three "
            "indicators, or two with a further constraint)."
        )
    return Model(family=family, table=table, stats=stats, estimator=est, optimizer=optimizer, wrapper=wrapper,
                 identification=identification, equal=equal, verbose=verbose)


def _check_patterns(fn: str, family: Family, patterns: dict[str, object]) -> None:
    explicit = {"lambda", "nu", "nu_eta", "beta_within", "beta_between", "mu"}
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
    groups: str | None = None,
    equal: Sequence[str] = (),
    identify: bool = True,
    identification: str = "loadings",
    estimator: str = "default",
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
        loadings hold on both levels.  Or model syntax, e.g.
        ``"F1 =~ y1 + y2 + y3; F2 =~ y4 + y5 + y6; F2 ~ F1"``: it sets the
        variables, latent names, loadings and (on both levels) the latent
        regressions.
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
    groups : str, optional
        Column with group labels (multi-group model).
    equal : sequence of str
        Matrices constrained equal across groups, e.g. ``["lambda", "nu"]``.
    identify : bool
        Apply the identification rules (see :mod:`psychonetrics.spec.build`).
    identification : {"loadings", "variance"}
    estimator : {"default", "ML", "FIML"}
        ``"default"`` is ``"ML"`` for complete data whose largest cluster has
        more than 5 units and ``"FIML"`` otherwise.
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
    fixed_loadings = None
    syntax_beta = None
    if isinstance(lambda_, str) and ("=~" in lambda_ or "\n" in lambda_ or ";" in lambda_):
        from .syntax import parse_model

        given = _given_stats(data)
        if given is not None and vars is None:
            parsed = parse_model(lambda_)
            if set(parsed.vars) != set(given.vars):
                raise ValueError(
                    f"`lambda_`: the model syntax uses {preview(parsed.vars)} but the statistics hold "
                    f"{preview(given.vars)}; compute the statistics for exactly the model's variables."
                )
            vars = list(given.vars)
        parsed = parse_model(lambda_, observed=vars)
        vars = None if given is not None else list(parsed.vars)
        if latents is None:
            latents = parsed.latents
        if parsed.lambda_fixed is not None:
            fixed_loadings = np.asarray(parsed.lambda_fixed, dtype=float)
        syntax_beta = np.asarray(parsed.beta)
        lambda_ = np.asarray(parsed.lambda_)
    stats = _statistics(data, vars=vars, clusters=clusters, groups=groups, standardize=standardize)
    observed = stats[0].vars
    if lambda_ is None:
        raise ValueError("`lambda_`: required; give the p x m loading pattern (rows: variables, columns: latents).")
    if isinstance(lambda_, str):
        raise ValueError("`lambda_`: expected a p x m array (0 = fixed zero, 1 = free) or model syntax "
                         "such as 'F1 =~ y1 + y2 + y3', not a word.")
    lam = np.asarray(lambda_, dtype=float)
    if lam.ndim == 1:
        lam = lam.reshape(-1, 1)
    if lam.ndim != 2 or lam.shape[0] != len(observed):
        raise ValueError(
            f"`lambda_`: expected {len(observed)} rows (one per variable: {preview(observed)}), "
            f"got shape {' x '.join(map(str, np.shape(lambda_)))}."
        )
    m = lam.shape[1]
    if latents is None:
        latents = tuple(f"Eta_{k + 1}" for k in range(m))
    latents = tuple(str(x) for x in latents)
    if len(latents) != m:
        raise ValueError(f"`latents`: expected {m} names (one per column of `lambda_`), got {len(latents)}.")
    empty = [latents[k] for k in np.flatnonzero(~np.any(lam != 0, axis=0))]
    if empty:
        raise ValueError(
            f"`lambda_`: latent variable(s) {preview(empty)} have no indicator (their column of `lambda_` is all "
            "zero); give each latent variable at least one nonzero loading or leave it out."
        )
    family = MlLvm(observed, latents, within_latent=within_latent, between_latent=between_latent,
                   within_residual=within_residual, between_residual=between_residual)
    _check_patterns(_wrapper, family, patterns)
    pats: dict[str, object] = dict(patterns)
    pats["lambda"] = lam
    if syntax_beta is not None and syntax_beta.any():
        # As lavaan: residuals of endogenous latent variables are uncorrelated with other latents.
        endogenous = syntax_beta.any(axis=1)
        cov_pattern = np.ones((m, m), dtype=int)
        cov_pattern[endogenous, :] = 0
        cov_pattern[:, endogenous] = 0
        np.fill_diagonal(cov_pattern, 1)
        for level, kind in (("within", within_latent), ("between", between_latent)):
            if kind == "cov":
                pats.setdefault(f"sigma_zeta_{level}", cov_pattern)
    default_beta = syntax_beta if syntax_beta is not None else "zero"
    pats["beta_within"] = default_beta if beta_within is None else beta_within
    pats["beta_between"] = default_beta if beta_between is None else beta_between
    if nu is not None:
        pats["nu"] = nu
    if nu_eta is not None:
        pats["nu_eta"] = nu_eta
    fixed = {"lambda": fixed_loadings} if fixed_loadings is not None else {}
    return _build(family, stats, pats, identify_model=identify, identification=identification, equal=equal,
                  estimator=estimator, optimizer=optimizer, verbose=verbose, wrapper=_wrapper, fixed_values=fixed)


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
    groups: str | None = None,
    equal: Sequence[str] = (),
    estimator: str = "default",
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
    groups, equal, estimator, optimizer, standardize, verbose
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
    stats = _statistics(data, vars=vars, clusters=clusters, groups=groups, standardize=standardize)
    family = MlVarcov(stats[0].vars, within=within, between=between)
    _check_patterns(_wrapper, family, patterns)
    pats: dict[str, object] = dict(patterns)
    if mu is not None:
        pats["mu"] = mu
    return _build(family, stats, pats, identify_model=False, identification="loadings", equal=equal,
                  estimator=estimator, optimizer=optimizer, verbose=verbose, wrapper=_wrapper)


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
