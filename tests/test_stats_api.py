"""The statistics API: a TwoLevelStats object stands in for the data everywhere."""

from __future__ import annotations

import numpy as np
import pytest

import psychonetrics as pn
from support import load_case

SYNTAX = "F1 =~ y1 + y2 + y3\nF2 =~ y4 + y5 + y6"


def test_fit_from_statistics_equals_fit_from_data(tmp_path) -> None:
    data = pn.datasets.seed_example()
    from_frame = pn.ml_lvm(data, SYNTAX, clusters="cluster").runmodel()
    stats = pn.twolevel_stats(data, clusters="cluster")
    path = tmp_path / "seed.json"
    stats.save(path)
    loaded = pn.TwoLevelStats.load(path)
    assert loaded.units is None
    from_stats = pn.ml_lvm(loaded, SYNTAX).runmodel()
    for key in ("logl", "unrestricted.logl", "baseline.logl", "chisq", "cfi", "rmsea", "bic"):
        assert abs(from_stats.fit()[key] - from_frame.fit()[key]) < 1e-8 * max(1.0, abs(from_frame.fit()[key]))
    np.testing.assert_allclose(from_stats.fitted.se, from_frame.fitted.se, rtol=1e-8)
    ggm = pn.ml_ggm(loaded).runmodel()
    assert abs(ggm.fit()["logl"] - from_frame.fit()["unrestricted.logl"]) < 1e-6


def test_statistics_refuse_fiml_and_standardize() -> None:
    stats = pn.twolevel_stats(pn.datasets.seed_example(), clusters="cluster")
    stats = pn.TwoLevelStats.from_dict(stats.to_dict())
    with pytest.raises(ValueError, match="`estimator`: 'FIML' needs the unit-level rows"):
        pn.ml_lvm(stats, SYNTAX, estimator="FIML")
    with pytest.raises(ValueError, match="`standardize`"):
        pn.ml_lvm(stats, SYNTAX, standardize="z")
    with pytest.raises(ValueError, match="version"):
        pn.TwoLevelStats.from_dict({**stats.to_dict(), "version": 99})


def test_multigroup_statistics_list() -> None:
    data = load_case("two_groups").data
    stats = pn.twolevel_stats(data, clusters="cluster", groups="group")
    assert [s.group for s in stats] == ["A", "B"]
    a = pn.ml_lvm(stats, SYNTAX, equal=["lambda"]).runmodel()
    b = pn.ml_lvm(data, SYNTAX, clusters="cluster", groups="group", equal=["lambda"]).runmodel()
    assert abs(a.fit()["logl"] - b.fit()["logl"]) < 1e-8


def test_parameters_state_their_information() -> None:
    data = load_case("missing_mcar").data
    model = pn.ml_lvm(data, SYNTAX, clusters="cluster").runmodel()
    assert model.parameters().attrs["information"] == "observed"
    assert "observed information" in str(model)


@pytest.mark.parametrize("method", ["z", "quantile"])
def test_standardize_option(method: str) -> None:
    data = pn.datasets.seed_example()
    model = pn.ml_ggm(data, clusters="cluster", standardize=method).runmodel()
    stats = model.stats[0]
    total = np.diag(stats.within_cov) * (stats.n_units - stats.n_clusters) / (stats.n_units - 1)
    assert np.all(np.abs(stats.grand_mean) < 1e-8) if method == "z" else True
    assert np.all((total > 0.3) & (total < 1.2))
    assert model.converged
