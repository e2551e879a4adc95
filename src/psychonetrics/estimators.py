"""Estimators: how a model is estimated, chosen by name in one place.

An :class:`Estimator` owns what the estimator string used to decide in many
modules: the likelihood route of every group (sufficient statistics for
complete data, cluster by cluster otherwise), the information of the
standard errors and whether they are the cluster sandwich, the scaled test,
the data it needs (unit rows rather than a statistics object), and how it is
printed.  Nothing outside this module compares estimator names.

=========  ==============================================================  ===========================
name       estimates and route                                             standard errors, test
=========  ==============================================================  ===========================
``ML``     ML; sufficient statistics for complete data, cluster by         information; chi-square
           cluster over the observed values with missing data
``FIML``   ML, cluster by cluster over the observed values                 information; chi-square
``MLR``    ML, as ``ML``                                                   cluster sandwich; Yuan-
                                                                           Bentler scaled chi-square
=========  ==============================================================  ===========================

``"default"`` resolves to ``ML`` for complete data whose largest cluster has
more than 5 units and to ``FIML`` otherwise, unless the family prefers
another (a multilevel VAR: ``MLR``, whose sandwich over persons corrects the
pseudo-likelihood's standard errors).  A family may replace an
estimator of a name with its own (its ``estimators()``: a multilevel VAR's
exact likelihood is its ``FIML``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ._arg import choice
from .data.stats import TwoLevelStats
from .likelihood import Route, cluster_route, statistics_route
from .moments import Roles

INFORMATION = ("default", "observed", "expected")


@dataclass(frozen=True)
class Estimator:
    """An estimator of two-level models (see the module docstring).

    Attributes
    ----------
    name : str
        ``"ML"``, ``"FIML"``, ``"MLR"``.
    robust : bool
        Cluster-robust (sandwich) standard errors and the Yuan-Bentler scaled chi-square.
    per_cluster : bool
        Always the per-cluster route (not the sufficient statistics).
    own_route : Route or None
        A family's own likelihood of the whole data (the exact multilevel VAR(1)), taken for every group;
        the statistics then carry the persons' series.
    expected : bool
        The expected information exists (else standard errors come from the observed one).
    label : str
        What the route is, as printed (with ``own_route``).
    optimizer : str
        The optimizer ``optimizer="default"`` runs (see :func:`psychonetrics.fitting.optimize.optimize`).
    """

    name: str
    robust: bool = False
    per_cluster: bool = False
    own_route: Route | None = None
    expected: bool = True
    label: str = ""
    optimizer: str = "default"

    def __str__(self) -> str:
        return self.name

    @property
    def needs_units(self) -> bool:
        """Whether the estimator needs the unit rows (a statistics object will not do)."""
        return (self.per_cluster or self.robust) and self.own_route is None

    @property
    def needs_series(self) -> bool:
        """Whether the estimator needs the persons' whole series (``TwoLevelStats.series``)."""
        return self.own_route is not None

    def route(self, stats: TwoLevelStats, roles: Roles | None = None) -> Route:
        """The likelihood route of one group's data, for variables with these roles."""
        if self.own_route is not None:
            return self.own_route
        if self.per_cluster or not stats.complete:
            return cluster_route(stats, roles)
        return statistics_route(roles)

    def routes(self, stats: Sequence[TwoLevelStats], roles: Roles | None = None) -> tuple[Route, ...]:
        """The route of every group."""
        return tuple(self.route(st, roles) for st in stats)

    def check(self, stats: Sequence[TwoLevelStats]) -> None:
        """Raise ValueError when the data cannot serve this estimator."""
        if self.needs_series and any(s.series is None for s in stats):
            raise ValueError(
                f"`estimator`: {self.name!r} is the likelihood of every observed occasion and needs the long data "
                "(one row per beep); `data` is a statistics object. Pass the data, or use estimator='ML'."
            )
        if self.needs_units and any(s.units is None for s in stats):
            why = ("its standard errors and scaled test are built from per-cluster scores" if self.robust
                   else "it works cluster by cluster")
            raise ValueError(
                f"`estimator`: {self.name!r} needs the unit-level rows ({why}), but `data` is a statistics object; "
                "pass the DataFrame, or use estimator='ML'."
            )

    def information(self, requested: str, stats: Sequence[TwoLevelStats]) -> str:
        """The information of the standard errors (the sandwich's bread when robust): ``requested``, or for
        ``"default"`` the expected information for complete data and the observed one with missing values
        or a robust estimator (lavaan's two-level default)."""
        choice("information", requested, INFORMATION)
        if not self.expected:
            if requested == "expected":
                raise ValueError(f"`information`: {self.name!r} has no expected information here; use 'observed' "
                                 "(the default).")
            return "observed"
        complete = all(s.complete for s in stats)
        if requested == "expected" and not complete:
            raise ValueError(
                "`information`: 'expected' is not available with missing values (the complete-data expected "
                "information understates the standard errors there); use 'observed' (the default with missing "
                "values)."
            )
        if requested == "default":
            return "observed" if (self.robust or not complete) else "expected"
        return requested

    def describe(self, stats: Sequence[TwoLevelStats]) -> str:
        """The estimator and the route it takes on these data, as printed."""
        if self.own_route is not None:
            return f"{self.name} ({self.label or self.own_route.name})"
        if self.per_cluster:
            return f"{self.name} (cluster by cluster over the observed values)"
        if all(s.complete for s in stats):
            return f"{self.name} (two-level sufficient statistics)"
        return f"{self.name} (cluster by cluster over the observed values: the data have missing values)"

    def se_label(self, information_kind: str) -> str:
        """Which standard errors a fit with this estimator reports."""
        if self.robust:
            return f"robust SEs (cluster sandwich, {information_kind} information as bread)"
        return f"SEs from the {information_kind} information"

    def test_label(self) -> str:
        """Which chi-square tests a fit with this estimator reports."""
        if self.own_route is not None:
            return "none (no saturated model); likelihood-ratio tests between nested models"
        if self.robust:
            return "standard (chisq) and Yuan-Bentler scaled (chisq.scaled, lavaan's yuan.bentler.mplus)"
        return "standard (likelihood ratio chisq)"


ML = Estimator("ML")
FIML = Estimator("FIML", per_cluster=True)
MLR = Estimator("MLR", robust=True)

#: The estimators by name.
ESTIMATORS: dict[str, Estimator] = {e.name: e for e in (ML, FIML, MLR)}
#: What ``estimator=`` accepts (any case).
NAMES = ("default", *ESTIMATORS)


def named(name: object, *, own: Mapping[str, Estimator] | None = None) -> Estimator | None:
    """The estimator ``name`` names explicitly (any case), or None for ``"default"`` and unknown names (which
    :func:`resolve` then chooses or rejects)."""
    if isinstance(name, Estimator):
        return name
    table = {**ESTIMATORS, **(own or {})}
    key = name.upper() if isinstance(name, str) and name.upper() in table else name
    return table.get(key) if isinstance(key, str) else None


def resolve(name: object, stats: Sequence[TwoLevelStats], *, verbose: bool = False,
            own: Mapping[str, Estimator] | None = None, preferred: tuple[str, str] | None = None,
            check: bool = True) -> Estimator:
    """The estimator called ``name`` (any case; ``"default"`` chosen from the data) for ``stats``.

    Parameters
    ----------
    name : str or Estimator
        The ``estimator=`` argument.
    stats : sequence of TwoLevelStats
        The groups' statistics (the default and the data requirements depend on them).
    verbose : bool
        Say which estimator ``"default"`` chose and why.
    own : mapping, optional
        A family's own estimators by name, which replace the general ones.
    preferred : (str, str), optional
        The estimator a family chooses for ``"default"`` on these data, and why (see
        :meth:`psychonetrics.families.base.Family.default_estimator`).
    check : bool
        Check that the data serve the estimator (a family that still prepares them checks later).
    """
    if isinstance(name, Estimator):
        estimator = name
    else:
        if isinstance(name, str) and name.upper() in ESTIMATORS:
            name = name.upper()
        table = {**ESTIMATORS, **(own or {})}
        choice("estimator", name, ("default", *table))
        if name == "default" and preferred is not None:
            name, why = preferred
            if verbose:
                print(f"estimator='default': using {name} ({why}).")
        elif name == "default":
            complete = all(s.complete for s in stats)
            big = max(s.max_cluster_size for s in stats) > 5
            name = "ML" if complete and big else "FIML"
            if verbose:
                why = "complete data, largest cluster > 5 units" if name == "ML" else (
                    "missing values" if not complete else "largest cluster has 5 or fewer units")
                print(f"estimator='default': using {name} ({why}).")
        estimator = table[str(name)]
    if check:
        estimator.check(stats)
    return estimator


__all__ = ["Estimator", "ESTIMATORS", "ML", "FIML", "MLR", "NAMES", "named", "resolve", "INFORMATION"]
