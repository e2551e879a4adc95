"""Examples of the multilevel VAR family (see :mod:`psychonetrics.families.examples`): three affect items of
the lmfa ESM data with every covariance type for the innovations and the person means, and the network
wrapper."""

from __future__ import annotations

from ...parameterizations import TYPES
from ..examples import Example

NODES = ["Interested", "Joyful", "Upset"]
#: a large sample from a fitted example: 100 persons of 200 beeps (long series: the lag pairs' pseudo-likelihood
#: overstates the between-person variances by O(1/T))
SIMULATE = {"n_persons": 100, "n_beeps": 200, "n_days": 1}


def _lmfa():  # noqa: ANN202
    from ... import datasets

    return datasets.esm_lmfa()[["id", *NODES]]


def examples() -> list[Example]:
    from . import build

    def options(data):  # noqa: ANN001, ANN202
        # simulated data carry their beeps; the lmfa data are in time order
        return {"beepvar": "beep", "dayvar": "day"} if "beep" in data.columns else {}

    out = []
    for kind in TYPES:
        def make(data, kind=kind, **extra):  # noqa: ANN001, ANN003, ANN202
            return build.ml_var(data, "id", NODES, within=kind, between=kind, **options(data), **extra)

        out.append(Example(f"ml_var, {kind} blocks", make, _lmfa, SIMULATE,
                           search=None if kind == "ggm" else ("beta",)))

    def gvar(data, **extra):  # noqa: ANN001, ANN003, ANN202
        return build.ml_gvar(data, "id", NODES, **options(data), **extra)

    out.append(Example("ml_gvar", gvar, _lmfa, SIMULATE))
    return out
