"""Every registered family, in each of its types, passes the same checks.

The cases are the families' own examples (``FamilyEntry.examples``, see
:mod:`psychonetrics.families.examples`): a family registered with its
examples is tested here without a line of test code of its own.

Per example:

* analytic derivatives against central differences: d phi / d element for
  every table row, the gradient of the log-likelihood, and the expected
  information against minus the numerical Hessian where the statistics are
  the implied moments;
* the fast likelihood at the estimates against a brute-force density (every
  cluster one multivariate normal vector of its units' observed values,
  :func:`support.brute_force_loglik`), with complete data and with holes
  (the per-cluster route);
* simulate then refit: a large sample generated from the fitted example
  gives back its estimates within 5 standard errors;
* ``parameters()`` columns, printing, ``fit()`` and ``getmatrix``;
* modification indices; ``prune`` and ``stepup``; the cluster bootstrap;
  plots of the model.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

import psychonetrics as pn
from support import (assert_element_jacobian, assert_gradient, assert_information, brute_force_loglik, objective_of,
                     perturbed, quiet, unit_frame, units_with_holes)
from psychonetrics.families.examples import Example
from psychonetrics.families.registry import FAMILIES, load
from psychonetrics.parameterizations import TYPES

EXAMPLES: list[tuple[str, Example]] = [(entry.name, example) for entry in FAMILIES.values()
                                       for example in load(entry.examples)()]
IDS = [example.name for _, example in EXAMPLES]
PARAMETER_COLUMNS = ["var1", "op", "var2", "est", "se", "z", "p", "level", "matrix", "row", "col", "group", "par",
                     "fixed", "note"]
_FITTED: dict[str, pn.Model] = {}


def fitted(example: Example):  # noqa: ANN201
    if example.name not in _FITTED:
        _FITTED[example.name] = quiet(example.build(example.data()).runmodel)
    return _FITTED[example.name]


@pytest.fixture(params=EXAMPLES, ids=IDS)
def case(request) -> tuple[str, Example]:  # noqa: ANN001
    return request.param


def test_every_family_has_examples_of_every_wrapper_and_type() -> None:
    for entry in FAMILIES.values():
        examples = load(entry.examples)()
        assert examples, f"family {entry.name} has no examples"
        assert len({e.name for e in examples}) == len(examples)
        models = [e.build(e.data()) for e in examples]
        assert {m.wrapper for m in models} >= {w.name for w in entry.wrappers}, entry.name
        types = {block.ctype.name for m in models for block in m.family.blocks()}
        assert types >= set(TYPES), f"{entry.name}: no example of {set(TYPES) - types}"


def test_fits_and_converges(case) -> None:  # noqa: ANN001
    family, example = case
    model = fitted(example)
    assert model.converged, example.name
    assert model.family.name == family
    assert np.isfinite(model.fit()["logl"])


def test_analytic_derivatives(case) -> None:  # noqa: ANN001
    _, example = case
    model = fitted(example)
    obj = objective_of(model)
    x = perturbed(obj, np.random.default_rng(1))
    assert_element_jacobian(obj, x)
    assert_gradient(obj, x)
    assert_information(obj, x)


def test_likelihood_matches_brute_force_density(case) -> None:  # noqa: ANN001
    """Over the family's units (the rows its statistics come from: units of clusters, lag pairs of persons):
    the fitted log-likelihood, and the per-cluster route with holes in the units, against the density of
    every cluster's stacked observed values."""
    _, example = case
    model = fitted(example)
    from psychonetrics.data.frame import frame_to_stats
    from psychonetrics.likelihood import cluster_route

    total = 0.0
    for st, moments in zip(model.stats, model.fitted.moments):
        total += brute_force_loglik(unit_frame(st), list(st.vars), "cluster", moments)
    assert model.fit()["logl"] == pytest.approx(total, abs=1e-6)
    st, moments = model.stats[0], model.fitted.moments[0]
    holed = units_with_holes(st, 0.08, seed=2)
    (with_holes,) = frame_to_stats(holed, vars=list(st.vars), clusters="cluster")
    route = cluster_route(with_holes, model.family.roles)
    assert route.loglik(moments, with_holes) == pytest.approx(
        brute_force_loglik(holed, list(st.vars), "cluster", moments), abs=1e-6)


def test_simulate_then_refit_recovers_the_estimates(case) -> None:  # noqa: ANN001
    _, example = case
    truth = fitted(example)
    sample = pn.generate(truth, seed=11, **example.simulate)
    refit = quiet(example.build(sample).runmodel)
    assert refit.converged
    ours, theirs = refit.parameters(), truth.parameters()
    free = ~ours["fixed"].to_numpy() & ours["se"].notna().to_numpy()
    assert free.sum() >= 0.8 * (~ours["fixed"]).sum()  # nearly every free parameter has an SE
    z = (ours["est"].to_numpy() - theirs["est"].to_numpy())[free] / ours["se"].to_numpy()[free]
    assert np.max(np.abs(z)) < 5, example.name


def test_parameters_printing_and_matrices(case) -> None:  # noqa: ANN001
    _, example = case
    model = fitted(example)
    params = model.parameters()
    assert list(params.columns) == PARAMETER_COLUMNS
    free = ~params["fixed"]
    assert np.isfinite(params.loc[free, "est"]).all()
    assert params.loc[free, "par"].nunique() == model.npar
    text = str(model)
    assert "logl" in text and model.family.name in text
    fit = model.fit()
    for key in ("logl", "npar", "chisq", "df", "aic.ll", "bic", "rmsea", "cfi"):
        assert key in fit.index
    for spec in model.table.specs:
        assert model.getmatrix(spec.name).shape == spec.shape


def _search_matrices(example: Example, model) -> list[str]:  # noqa: ANN001
    if example.search is not None:
        return list(example.search)
    return [n.matrix for n in model.family.networks() if n.estimated]


def test_modification_indices(case) -> None:  # noqa: ANN001
    """The modification index of an off-diagonal element of a searched matrix (a score test) is close to the
    likelihood-ratio statistic of freeing it: fix a free one at 0 and test it, or free a fixed one; no MI is
    negative."""
    _, example = case
    model = fitted(example)
    params = model.parameters()
    matrix = _search_matrices(example, model)[0]
    off = params.loc[(params["matrix"] == matrix) & (params["row"] != params["col"])]
    if (~off["fixed"]).any():  # fix a free element at 0 and test it
        element = off.loc[~off["fixed"]].iloc[0]
        restricted = quiet(model.fixpar(matrix, int(element["row"]), int(element["col"]), 0.0).runmodel)
        larger = model
    else:  # test a fixed element and free it
        element, restricted = off.iloc[0], model
        larger = quiet(model.freepar(matrix, int(element["row"]), int(element["col"])).runmodel)
    mi = restricted.MIs()
    assert {"mi", "pmi", "epc"} <= set(mi.columns)
    values = mi["mi"].to_numpy(dtype=float)
    assert np.all(values[np.isfinite(values)] >= -1e-8)
    row = mi.loc[(mi["matrix"] == matrix) & (mi["row"] == element["row"]) & (mi["col"] == element["col"])]
    assert len(row) == 1
    lr = 2 * (larger.fit()["logl"] - restricted.fit()["logl"])
    assert row["mi"].iloc[0] == pytest.approx(lr, rel=0.3, abs=0.5), example.name


def test_prune_and_stepup(case) -> None:  # noqa: ANN001
    _, example = case
    model = fitted(example)
    options = {"matrices": _search_matrices(example, model)}
    pruned = quiet(model.prune, alpha=0.01, **options)
    assert pruned.npar <= model.npar and pruned.computed
    stepped = quiet(pruned.stepup, alpha=0.01, **options)
    assert stepped.npar >= pruned.npar and stepped.computed
    assert stepped.fit()["bic"] <= pruned.fit()["bic"] + 1e-6


def test_bootstrap(case) -> None:  # noqa: ANN001
    _, example = case
    boot = quiet(fitted(example).bootstrap, n_boot=4, seed=3, jobs=1)
    assert boot.n_failed == 0 and boot.n_success == 4


def test_plots(case) -> None:  # noqa: ANN001
    import matplotlib.pyplot as plt

    _, example = case
    model = fitted(example)
    figure = model.plot()
    assert figure is not None
    plt.close("all")
