"""What the rooms downstream of fitting read from a model: the fitted-model interface.

``inference``, ``report``, ``search`` and ``resampling`` take a
:class:`FittedModel`: the specification (family, parameter table,
statistics, estimator), the fitted results and the few verbs a search needs
(``with_table``, ``runmodel``).  :class:`psychonetrics.model.Model` is the
implementation; these modules import it only for type checking, so the
house has no import loop through the model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    import pandas as pd

    from .data.stats import TwoLevelStats
    from .estimators import Estimator
    from .families.base import Family
    from .fitting.reference import ReferenceFits
    from .fitting.run import Estimates
    from .partable.table import ParTable


@runtime_checkable
class FittedModel(Protocol):
    """A model as the rooms after fitting see it (``isinstance`` checks that the members exist)."""

    family: "Family"
    table: "ParTable"
    stats: "tuple[TwoLevelStats, ...]"
    estimator: "Estimator"
    optimizer: str
    information: str
    fitted: "Estimates | None"
    reference: "ReferenceFits | None"
    exogenous: Any
    wrapper: str
    verbose: bool

    @property
    def group_labels(self) -> tuple[str, ...]: ...

    @property
    def n_clusters(self) -> int: ...

    @property
    def n_units(self) -> int: ...

    @property
    def npar(self) -> int: ...

    @property
    def nobs(self) -> int: ...

    @property
    def computed(self) -> bool: ...

    @property
    def converged(self) -> bool: ...

    def with_table(self, table: "ParTable", *, starts: str | None = None) -> "FittedModel": ...

    def runmodel(self, *, verbose: bool | None = None, reference: bool | None = None) -> "FittedModel": ...

    def fit(self) -> "pd.Series": ...

    def parameters(self, *, standardized: bool = False, mi: bool = False) -> "pd.DataFrame": ...

    def problems(self) -> list: ...

    def getmatrix(self, matrix: str, *, group: int | str | None = None, threshold: bool = False,
                  alpha: float = 0.01, adjust: str = "none") -> Any: ...

    def group_index(self, group: int | str | None) -> int: ...


__all__ = ["FittedModel"]
