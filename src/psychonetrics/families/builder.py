"""What every family's model function shares: data to statistics, the estimator, and the pipeline
patterns -> identification (per group) -> parameter table -> start values -> Model.

A family's own module (``families/<name>/build.py``) turns its arguments into
a :class:`~psychonetrics.families.base.Family` and patterns, and calls
:func:`build_model`; :class:`Common` carries the arguments it passes through
unchanged.  A family that prepares its data first (the lag pairs of a
multilevel VAR) hands :func:`statistics` the prepared frame.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .._arg import choice, preview
from ..data.checks import check_statistics
from ..data.frame import frame_to_stats
from ..data.stats import TwoLevelStats
from ..estimators import Estimator, resolve
from ..fitting.run import data_start
from ..fitting.saturated import MomentsFit, fit_reference_stats
from ..model import Model
from ..moments import Roles
from ..partable.build import IDENTIFICATION, build_partable, identify, parse_patterns
from ..partable.patterns import Pattern
from .base import Family


def statistics(data: object, *, vars: Sequence[str] | None, clusters: str | None, groups: str | None,
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


def given_stats(data: object) -> TwoLevelStats | None:
    """The first group's statistics when ``data`` is a statistics object (or a list of them)."""
    if isinstance(data, TwoLevelStats):
        return data
    if isinstance(data, (list, tuple)) and data and isinstance(data[0], TwoLevelStats):
        return data[0]
    return None


def resolve_estimator(estimator: object, stats: Sequence[TwoLevelStats], verbose: bool, family: Family,
                      information: str) -> tuple[Estimator, str]:
    """The estimator (see :mod:`psychonetrics.estimators`) and the information of its SEs."""
    for st in stats:
        check_statistics(st, family.roles)
    chosen = resolve(estimator, stats, verbose=verbose, own=family.estimators(),
                     preferred=family.default_estimator(stats))
    return chosen, chosen.information(information, stats)


def build_model(family: Family, stats: tuple[TwoLevelStats, ...], patterns: dict[str, object], *, identify_model: bool,
           identification: str, equal: Sequence[str], estimator: str, optimizer: str, verbose: bool,
           wrapper: str, information: str = "default", fixed_values: dict[str, np.ndarray] | None = None,
           adjust: Callable[..., tuple[list[dict[str, Pattern]], object | None]] | None = None,
           starts: dict[str, np.ndarray] | None = None) -> Model:
    """Patterns -> identification (per group) -> parameter table -> start values -> Model.

    ``adjust(group_patterns, saturated)`` changes the groups' patterns after
    identification (fixed covariates); ``saturated()`` is the saturated model
    of the statistics, fitted on first use and kept with the model for its
    reference fits.  ``starts`` are start values given by the syntax (NaN
    elsewhere).
    """
    choice("identification", identification, IDENTIFICATION)
    equal = tuple([equal] if isinstance(equal, str) else equal)
    est, information = resolve_estimator(estimator, stats, verbose, family, information)
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
    saturated: list[MomentsFit] = []

    def saturated_fit() -> MomentsFit:
        if not saturated:
            saturated.append(fit_reference_stats(stats, diagonal=False, roles=family.roles))
        return saturated[0]

    if adjust is not None:
        group_pats, exogenous = adjust(group_pats, saturated_fit)
    labels = [s.group if s.group is not None else "1" for s in stats]
    table = build_partable(family, group_pats, marks, equal=equal, group_labels=labels)
    # start values from the data: the saturated model's moments (kept with the model for its reference fits)
    table = data_start(family, table, stats, saturated_fit().moments)
    for name, values in (starts or {}).items():
        rows = np.flatnonzero((table.names() == name) & (table.par > 0))
        chosen = values[table.row[rows], table.col[rows]]
        if np.any(np.isfinite(chosen)):
            value = table.value.copy()
            value[rows] = np.where(np.isfinite(chosen), chosen, value[rows])
            table = table.with_columns(value=value)

    nobs = len(stats) * family.n_moments() - (exogenous.n_moments if exogenous is not None else 0)
    if table.n_free > nobs:
        raise ValueError(
            f"The model is not identified: {table.n_free} free parameters for {nobs} sample moments "
            f"(df = {nobs - table.n_free}). Fix or constrain parameters (for example, a factor needs three "
            "indicators, or two with a further constraint)."
        )
    return Model(family=family, table=table, stats=stats, estimator=est, information=information,
                 optimizer=optimizer, wrapper=wrapper,
                 identification=identification, equal=equal, verbose=verbose, exogenous=exogenous,
                 starts="values", saturated_fit=saturated[0] if saturated else None)


def names_list(argument: str, value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    try:
        names = tuple(value)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"`{argument}`: expected a list of variable names, got {type(value).__name__}.") from None
    if not all(isinstance(v, str) for v in names):
        raise TypeError(f"`{argument}`: expected variable names (str).")
    return names


def level_roles(observed: tuple[str, ...], *, within_only: tuple[str, ...], between_only: tuple[str, ...]) -> Roles:
    """Check the level arguments against the variables and build the roles."""
    for argument, names in (("within_only", within_only), ("between_only", between_only)):
        unknown = [v for v in names if v not in observed]
        if unknown:
            raise ValueError(f"`{argument}`: {preview(unknown)} are not among the variables {preview(observed)}.")
    both = sorted(set(within_only) & set(between_only))
    if both:
        raise ValueError(f"`within_only`, `between_only`: {preview(both)} cannot be on one level only twice.")
    return Roles.of(observed, within_only=within_only, between_only=between_only)


def check_patterns(fn: str, family: Family, patterns: dict[str, object], *, explicit: Sequence[str] = ()) -> None:
    """Raise TypeError for a keyword argument of ``fn`` that is no matrix pattern of ``family`` (``explicit``:
    matrices with named arguments of their own, such as ``lambda_``)."""
    names = {s.name for s in family.specs()} - set(explicit)
    unknown = [k for k in patterns if k not in names]
    if unknown:
        raise TypeError(
            f"{fn}() got unexpected keyword argument(s) {preview(unknown)}; the other matrix patterns of this "
            f"model are {preview(sorted(names), limit=40)}."
        )


@dataclass(frozen=True)
class Common:
    """Arguments a model function passes through to :func:`build_model` unchanged."""

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
        return build_model(family, stats, patterns, identify_model=self.identify if identify is None else identify,
                      identification=self.identification, equal=self.equal, estimator=self.estimator,
                      information=self.information,
                      optimizer=self.optimizer, verbose=self.verbose, wrapper=self.wrapper, **extra)  # type: ignore[arg-type]
