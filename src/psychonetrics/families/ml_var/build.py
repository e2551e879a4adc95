"""The model functions of the multilevel VAR family: ``ml_var`` and the network wrapper ``ml_gvar``."""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence

import numpy as np

from ..._arg import flag, preview
from ...data.lag_rules import lag_names
from ...data.stats import TwoLevelStats
from ...estimators import ML, named, resolve
from ...exceptions import DataWarning
from ...model import Model
from ..builder import build_model, check_patterns, given_stats
from .exact import MlVarExact
from .family import MlVar


def _lag_statistics(data: object, *, idvar: str | None, vars: Sequence[str] | None, dayvar: str | None,
                    beepvar: str | None, groups: str | None, connection: object) -> tuple[tuple[TwoLevelStats, ...],
                                                                                           tuple[str, ...], object]:
    """The lag pairs' statistics of every group, the nodes, and the embedding's report (None for given
    statistics)."""
    from ...data.lagged import lag_pair_stats

    given = given_stats(data)
    if given is not None:
        stats = tuple(data) if isinstance(data, (list, tuple)) else (given,)
        names = given.vars
        p = len(names) // 2
        nodes = tuple(names[p:])
        if len(names) % 2 or tuple(names[:p]) != lag_names(nodes):
            raise ValueError(
                f"`data`: statistics of lag pairs have the lagged variables, then the nodes ({lag_names(['a'])[0]!r} "
                f"before 'a'); these hold {preview(names)}. Compute them with `pn.lag_pair_stats`."
            )
        if vars is not None and tuple(vars) != nodes:
            raise ValueError(f"`vars`: the statistics hold the nodes {preview(nodes)}; `vars` must be None or equal.")
        return stats, nodes, None
    if idvar is None:
        raise ValueError("`idvar`: a multilevel VAR needs the column that identifies the persons (e.g. idvar='id').")
    stats, report = lag_pair_stats(data, idvar=idvar, vars=vars, dayvar=dayvar, beepvar=beepvar, groups=groups,
                                   connection=connection)
    names = stats[0].vars
    return tuple(stats), tuple(names[len(names) // 2:]), report


def _in_memory(data: object) -> object:
    """The rows of a file, DuckDB relation or Spark DataFrame as a pandas DataFrame (the exact likelihood
    holds every observed value in memory: (N, p) floats); DataFrames and statistics as they are."""
    import os

    module = type(data).__module__ or ""
    if isinstance(data, (str, os.PathLike)):
        from ...data.readers import read_table

        return read_table(data)
    if module.startswith("duckdb"):
        return data.df()  # type: ignore[attr-defined]
    if module.startswith("pyspark"):
        return data.toPandas()  # type: ignore[attr-defined]
    return data


def ml_var(
    data: object,
    idvar: str | None = None,
    vars: Sequence[str] | None = None,
    *,
    dayvar: str | None = None,
    beepvar: str | None = None,
    groups: str | None = None,
    within: str = "cov",
    between: str = "cov",
    beta: object = "full",
    mu: object = None,
    equal: Sequence[str] = (),
    estimator: str = "default",
    information: str = "default",
    optimizer: str = "default",
    connection: object = None,
    night: str = "break",
    verbose: bool = False,
    _wrapper: str = "ml_var",
    **patterns: object,
) -> Model:
    """Multilevel VAR(1) of experience-sampling data: temporal, contemporaneous and between-persons networks.

    psychonetrics' ``ml_var1``: every person's series is embedded into lag pairs
    (y[t-1], y[t]) that never cross a night (``dayvar``) or a missed beep
    (``beepvar``), and the two-level likelihood of the pairs, with persons as
    clusters, is maximized (see :mod:`psychonetrics.families.ml_var.family`).
    Matrices: ``mu`` (means), ``beta`` (``beta[i, j]``: the effect of node j at
    t-1 on node i at t), ``<kind>_zeta_within`` (the innovations: the
    contemporaneous network) and ``<kind>_zeta_between`` (the person means:
    the between-persons network); derived: ``PDC`` (partial directed
    correlations, rows the sources), every type's view of both blocks,
    ``sigma0`` and ``sigma1`` (the stationary lag-0 and lag-1 covariances).

    Parameters
    ----------
    data : DataFrame, source, or list of TwoLevelStats
        Long ESM data: one row per beep (pandas or polars; rows in any order),
        a Parquet/CSV path, DuckDB relation or Spark DataFrame (the lag pairs
        are formed out of core; ``beepvar`` is then required; the exact
        likelihood reads such a source into memory), or the statistics of
        :func:`psychonetrics.lag_pair_stats`.
    idvar : str
        Column identifying the persons.
    vars : sequence of str, optional
        The nodes (default: every other column).
    dayvar, beepvar : str, optional
        Day and beep columns: no pair crosses a night, and a missed beep
        breaks the pair that would span it; without ``beepvar`` the row order
        within person (and day) is time order.
    groups : str, optional
        Column with group labels (multiple-group model).
    within, between : str
        Covariance types of the innovations and of the person means
        (``"cov"``, ``"chol"``, ``"prec"``, ``"ggm"``, ``"cor"``).
    beta : "full", "diag", "zero" or array
        The temporal effects that are free (a 0/1/label pattern array).
    mu : pattern, optional
        Means (default free).
    equal : sequence of str
        Matrices constrained equal across groups.
    estimator : {"default", "ML", "MLR", "FIML"}
        ``"ML"``: psychonetrics' estimates and its model-based SEs, which are
        too small for the pseudo-likelihood of lag pairs; ``"MLR"``: the same
        estimates with SEs from the sandwich over persons (per-person scores),
        which cover.  ``"default"``: MLR, or ML when only statistics are given
        (a sandwich needs the pairs).  ``"FIML"``: the exact likelihood of
        every observed value (missed beeps and missing items marginalized,
        no O(1/T) bias; see :mod:`psychonetrics.families.ml_var.exact`), with
        standard errors from the observed information; it has no saturated
        model, so no chi-square (compare nested models with ``pn.compare``).
    information, optimizer, verbose
        As in :func:`ml_lvm`.
    connection : duckdb connection, optional
        For a table name as ``data``.
    night : {"break", "missing"}
        ``estimator="FIML"``: every day is its own series started at the
        stationary distribution (``"break"``, as the lag pairs treat nights), or
        a person's days are one series with one unobserved occasion between
        days (``"missing"``, psychonetrics' panelvar route).
    **patterns
        Pattern of any model matrix by name (``omega_zeta_within=...``,
        ``sigma_zeta_between="diag"``).

    Returns
    -------
    Model
        Unfitted; call ``runmodel()``.

    Examples
    --------
    >>> import psychonetrics as pn
    >>> esm = pn.datasets.esm_lmfa()
    >>> mod = pn.ml_var(esm, idvar="id", vars=["Interested", "Joyful", "Upset"]).runmodel()
    >>> mod.getmatrix("beta").round(2)[0]
    array([-0.01,  0.03, -0.02])
    """
    verbose = flag("verbose", verbose)
    own = MlVarExact.estimators()
    explicit = named(estimator, own=own)
    exact_route = explicit is not None and explicit.needs_series
    if exact_route:
        data = _in_memory(data)
    with warnings.catch_warnings():
        if exact_route:  # the lag pairs only give start values: their losses are not the exact likelihood's
            warnings.simplefilter("ignore", DataWarning)
        stats, nodes, report = _lag_statistics(data, idvar=idvar, vars=vars, dayvar=dayvar, beepvar=beepvar,
                                               groups=groups, connection=connection)
    family = MlVar(nodes, stats[0].vars, within=within, between=between, report=report)
    check_patterns(_wrapper, family, patterns, explicit=("mu", "beta"))
    pats: dict[str, object] = dict(patterns)
    pats["beta"] = beta
    if mu is not None:
        pats["mu"] = mu
    chosen = resolve(estimator, stats, verbose=verbose, own=own,
                     preferred=family.default_estimator(stats), check=False) if given_stats(data) is None else None
    common = dict(identify_model=False, identification="loadings", equal=equal, optimizer=optimizer,
                  verbose=verbose, wrapper=_wrapper, information=information)
    if chosen is None or not chosen.needs_series:
        return build_model(family, stats, pats, estimator=chosen or explicit or estimator, **common)
    # the exact likelihood: the persons' whole series beside the lag pairs, which give the start values
    from ...data.lagged import series_arrays
    from ...likelihood.var1_exact import series_data

    arrays = series_arrays(data, idvar=idvar, vars=list(nodes), dayvar=dayvar, beepvar=beepvar, groups=groups,
                           night=night)
    series = [series_data(a.values, a.person, a.segment, a.occasion) for a in arrays]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pairs = build_model(family, stats, pats, estimator=ML, **{**common, "verbose": False}).runmodel(
            reference=False)
    starts = {name: np.asarray(value, dtype=float) for name, value in pairs.table.matrices(pairs.table.value, 0)
              .items()} if len(stats) == 1 else None
    exact = MlVarExact(nodes, stats[0].vars, within=within, between=between, report=report, series=series)
    with_series = tuple(dataclasses.replace(st, series=sd) for st, sd in zip(stats, series))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)  # the checks of the lag pairs' statistics (see above)
        model = build_model(exact, with_series, pats, estimator=chosen, starts=starts, **common)
    if len(stats) > 1:  # every group's start from the lag pairs' estimates
        model = model.with_table(model.table.with_columns(value=pairs.table.value))
    return model


def ml_gvar(data: object, idvar: str | None = None, vars: Sequence[str] | None = None, **kwargs: object) -> Model:
    """Multilevel graphical VAR: ``ml_var`` with network (``ggm``) blocks for the innovations and the person
    means, so the contemporaneous and between-persons networks are estimated (``omega_zeta_within``,
    ``omega_zeta_between``) beside the temporal one.

    Parameters
    ----------
    data, idvar, vars
        As in :func:`ml_var`.
    **kwargs
        Any other argument of :func:`ml_var`.

    Returns
    -------
    Model
        Unfitted; call ``runmodel()``.

    Examples
    --------
    >>> import psychonetrics as pn
    >>> esm = pn.datasets.esm_lmfa()
    >>> net = pn.ml_gvar(esm, idvar="id", vars=["Interested", "Joyful", "Upset"]).runmodel()
    >>> net.getmatrix("omega_zeta_within").round(2)[0]
    array([ 0.  ,  0.49, -0.04])
    >>> int(net.prune(alpha=0.01).npar), int(net.npar)
    (14, 24)
    """
    kwargs.setdefault("within", "ggm")
    kwargs.setdefault("between", "ggm")
    return ml_var(data, idvar, vars, _wrapper="ml_gvar", **kwargs)  # type: ignore[arg-type]


__all__ = ["ml_var", "ml_gvar"]
