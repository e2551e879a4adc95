"""Example models of a family: small models of each of its types on data of its own kind.

Every registered family lists its examples (``FamilyEntry.examples``); the
package's conformance tests run each through the same checks (analytic
derivatives against numerical ones, the fast likelihood against a
brute-force density, simulate-then-refit, parameter tables and printing,
modification indices, pruning and step-up search, the bootstrap, plots), so
a new family is tested by registering it with its examples.  They double as
small runnable examples of each type.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from ..model import Model


@dataclass(frozen=True)
class Example:
    """One example model of a family.

    Attributes
    ----------
    name : str
        What it shows (``"ml_lvm, ggm latent blocks"``), unique among the family's examples.
    build : callable
        ``build(data, **options) -> Model``: the (unfitted) model on a DataFrame of the family's kind;
        ``options`` are passed to the model function (``estimator="FIML"``, ...).
    data : callable
        ``data() -> DataFrame``: a small real or bundled data set the example is fitted to.
    simulate : mapping
        Options of :func:`psychonetrics.generate` for a large sample from the fitted example (the
        sample that simulate-then-refit recovers the estimates from).
    search : tuple of str or None
        The matrices ``prune`` and ``stepup`` search; None: the model's networks.
    """

    name: str
    build: Callable[..., "Model"]
    data: Callable[[], "pd.DataFrame"]
    simulate: Mapping[str, Any] = field(default_factory=dict)
    search: tuple[str, ...] | None = None


__all__ = ["Example"]
