"""Examples of the two-level (co)variance family (see :mod:`psychonetrics.families.examples`): the seed
example's six variables with every covariance type on both levels, and the network wrapper."""

from __future__ import annotations

from ...parameterizations import TYPES
from ..examples import Example
from ..ml_lvm.examples import SIMULATE, _off_diagonal, _seed_example


def examples() -> list[Example]:
    from . import build

    out = []
    for kind in TYPES:
        def make(data, kind=kind, **options):  # noqa: ANN001, ANN003, ANN202
            return build.ml_varcov(data, clusters="cluster", within=kind, between=kind, **options)

        out.append(Example(f"ml_varcov, {kind} levels", make, _seed_example, SIMULATE,
                           search=None if kind == "ggm" else (f"{_off_diagonal(kind)}_between",)))

    def ggm(data, **options):  # noqa: ANN001, ANN003, ANN202
        return build.ml_ggm(data, clusters="cluster", **options)

    out.append(Example("ml_ggm", ggm, _seed_example, SIMULATE))
    return out
