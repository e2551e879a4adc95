"""Examples of the two-level latent variable family (see :mod:`psychonetrics.families.examples`): the seed
example's two-factor model with every covariance type in its latent and residual blocks, and its network
wrappers."""

from __future__ import annotations

from ...parameterizations import TYPES
from ..examples import Example

SYNTAX = "F1 =~ y1 + y2 + y3\nF2 =~ y4 + y5 + y6"
#: a large sample from a fitted example: 300 clusters of 5 to 15 units
SIMULATE = {"n_clusters": 300, "cluster_size": (5, 15)}


def _seed_example():  # noqa: ANN202
    from ... import datasets

    return datasets.seed_example()


def examples() -> list[Example]:
    from . import build

    out = []
    for kind in TYPES:
        def make(data, kind=kind, **options):  # noqa: ANN001, ANN003, ANN202
            return build.ml_lvm(data, SYNTAX, clusters="cluster", within_latent=kind, between_latent=kind,
                                within_residual=kind, between_residual=kind, **options)

        out.append(Example(f"ml_lvm, {kind} blocks", make, _seed_example, SIMULATE,
                           search=None if kind == "ggm" else (f"{_off_diagonal(kind)}_zeta_between",)))
    for wrapper in ("ml_lnm", "ml_rnm", "ml_lrnm"):
        def make(data, wrapper=wrapper, **options):  # noqa: ANN001, ANN003, ANN202
            return getattr(build, wrapper)(data, SYNTAX, clusters="cluster", **options)

        out.append(Example(wrapper, make, _seed_example, SIMULATE))
    return out


def _off_diagonal(kind: str) -> str:
    """The matrix kind of a covariance type that holds its off-diagonal elements."""
    return {"cov": "sigma", "chol": "lowertri", "prec": "kappa", "ggm": "omega", "cor": "rho"}[kind]
