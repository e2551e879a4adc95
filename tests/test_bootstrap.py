"""The cluster bootstrap: resampling, reproducibility, failures, SEs against the model's, network stability."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import psychonetrics as pn
from psychonetrics.exceptions import ConvergenceWarning
from psychonetrics.fitting.objective import Objective
from support import routes_of
from psychonetrics.resampling.replicate import Outcome, ReplicateContext
from psychonetrics.resampling.resample import GroupResampler

SYNTAX = "F1 =~ y1 + y2 + y3; F2 =~ y4 + y5 + y6"
VARS = ["y1", "y2", "y3", "y4", "y5", "y6"]


@pytest.fixture(scope="module")
def seed_model() -> pn.Model:
    return pn.ml_lvm(pn.datasets.seed_example(), SYNTAX, clusters="cluster").runmodel()


@pytest.fixture(scope="module")
def ggm() -> pn.Model:
    return pn.ml_ggm(pn.datasets.seed_example(), clusters="cluster").runmodel()


def _with_missing(seed: int = 2, rate: float = 0.05) -> pd.DataFrame:
    data = pn.datasets.seed_example()
    rng = np.random.default_rng(seed)
    data[VARS] = data[VARS].mask(rng.random((len(data), len(VARS))) < rate)
    return data


# ------------------------------------------------------------------------ resampling
@pytest.mark.parametrize("missing", [False, True])
def test_resample_equals_the_statistics_of_the_drawn_rows(missing: bool) -> None:
    """A drawn cluster set gives the statistics the data stage computes from those rows (a cluster drawn
    twice counts as two clusters)."""
    data = _with_missing() if missing else pn.datasets.seed_example()
    stats = pn.twolevel_stats(data, clusters="cluster")
    resampler = GroupResampler.of(stats, keep_units=True)
    drawn = np.array([0, 0, 5, 7, 7, 7, 12, 30, 59, 41])
    sample = resampler.sample(drawn)
    ids = pd.unique(data["cluster"])
    rows = pd.concat([data[data["cluster"] == ids[k]].assign(cluster=n) for n, k in enumerate(drawn)])
    expected = pn.twolevel_stats(rows, clusters="cluster")
    for name in ("n_units", "n_clusters", "within_cov", "sizes", "size_counts", "size_means", "size_covs"):
        np.testing.assert_allclose(getattr(sample, name), getattr(expected, name), rtol=1e-10, atol=1e-12,
                                   err_msg=name)
    np.testing.assert_array_equal(sample.units.observed, expected.units.observed)
    np.testing.assert_allclose(sample.units.values + sample.units.center * sample.units.observed,
                               expected.units.values + expected.units.center * expected.units.observed)


def test_identity_draw_reproduces_the_fitted_likelihood() -> None:
    model = pn.ml_lvm(_with_missing(), SYNTAX, clusters="cluster").runmodel()
    assert model.estimator.name == "FIML"
    stats = tuple(GroupResampler.of(st, keep_units=False).sample(np.arange(st.n_clusters)) for st in model.stats)
    obj = Objective(model.family, model.table, stats, routes_of(model, stats))
    assert obj.loglik(model.table.start_vector()) == pytest.approx(model.fitted.loglik, rel=1e-12)


def test_groups_are_resampled_separately() -> None:
    data = pn.datasets.seed_example()
    data["school_type"] = np.where(data["cluster"] <= 30, "a", "b")
    model = pn.ml_lvm(data, SYNTAX, clusters="cluster", groups="school_type")
    rng = np.random.default_rng(0)
    samples = [GroupResampler.of(st, keep_units=False).draw(rng) for st in model.stats]
    assert [s.n_clusters for s in samples] == [30, 30]
    assert [s.group for s in samples] == ["a", "b"]


# --------------------------------------------------------------------- reproducibility
def test_same_seed_same_result_for_any_jobs(seed_model: pn.Model) -> None:
    one = pn.bootstrap(seed_model, n_boot=24, seed=11, jobs=1, progress=False)
    two = seed_model.bootstrap(n_boot=24, seed=11, jobs=2, progress=False)
    np.testing.assert_array_equal(one.estimates, two.estimates)
    np.testing.assert_array_equal(one.replicates, np.arange(24))
    assert (one.seed, one.n_boot, one.n_failed) == (11, 24, 0)
    other = pn.bootstrap(seed_model, n_boot=24, seed=12, jobs=1)
    assert not np.allclose(one.estimates, other.estimates)
    again = pn.bootstrap(seed_model, n_boot=24, seed=np.random.SeedSequence(one.seed), jobs=1)
    np.testing.assert_array_equal(one.estimates, again.estimates)
    assert not one.estimates.flags.writeable


def test_confint_rows_and_percentiles(seed_model: pn.Model) -> None:
    boot = pn.bootstrap(seed_model, n_boot=60, seed=3, jobs=1)
    ci = boot.confint(level=0.9)
    free = seed_model.parameters().query("~fixed").drop_duplicates("par")
    assert list(ci.columns) == ["var1", "op", "var2", "matrix", "row", "col", "group", "par", "est", "se_boot",
                                "lower", "upper"]
    np.testing.assert_array_equal(ci["par"], free["par"])
    np.testing.assert_allclose(ci["est"], free["est"])
    np.testing.assert_allclose(ci["se_boot"], boot.estimates.std(axis=0, ddof=1))
    np.testing.assert_allclose(ci["lower"], np.quantile(boot.estimates, 0.05, axis=0))
    assert (ci["lower"] <= ci["est"]).all() and (ci["est"] <= ci["upper"]).all()
    assert (ci["upper"] - ci["lower"] < boot.confint(level=0.95)["upper"] - boot.confint(level=0.95)["lower"]
            + 1e-12).all()
    with pytest.raises(ValueError, match="`level`"):
        boot.confint(level=1.5)


# ---------------------------------------------------------------------------- failures
def test_failed_refits_are_counted_listed_and_warned(seed_model: pn.Model, monkeypatch: pytest.MonkeyPatch) -> None:
    original = ReplicateContext._refit

    def flaky(self: ReplicateContext, index: int, stats: tuple) -> Outcome:
        if index % 4 == 1:
            raise np.linalg.LinAlgError("singular between covariance")
        if index % 4 == 2:
            return Outcome(index, None, reason="not converged: iteration limit reached")
        return original(self, index, stats)

    monkeypatch.setattr(ReplicateContext, "_refit", flaky)
    with pytest.warns(ConvergenceWarning, match=r"10 of 20 bootstrap refits failed \(error: 5, not converged: 5"):
        boot = pn.bootstrap(seed_model, n_boot=20, seed=5, jobs=1)
    assert (boot.n_success, boot.n_failed) == (10, 10)
    assert boot.failure_counts() == {"error": 5, "not converged": 5}
    assert [f.replicate for f in boot.failures] == [1, 2, 5, 6, 9, 10, 13, 14, 17, 18]
    assert boot.failures[0].reason == "error: LinAlgError: singular between covariance"
    np.testing.assert_array_equal(boot.replicates, [0, 3, 4, 7, 8, 11, 12, 15, 16, 19])
    # the successes are the same replicates as in a run without failures
    monkeypatch.setattr(ReplicateContext, "_refit", original)
    full = pn.bootstrap(seed_model, n_boot=20, seed=5, jobs=1)
    np.testing.assert_array_equal(boot.estimates, full.estimates[boot.replicates])
    np.testing.assert_allclose(boot.se, full.estimates[boot.replicates].std(axis=0, ddof=1))
    assert "10 failed (error: 5, not converged: 5)" in str(boot)


def test_failures_in_worker_processes_match_in_process(seed_model: pn.Model, monkeypatch: pytest.MonkeyPatch) -> None:
    """Failures are decided by the replicate alone: the same ones, with the same reasons, for any ``jobs``
    (worker processes are forked with the patched refit)."""
    original = ReplicateContext._refit

    def flaky(self: ReplicateContext, index: int, stats: tuple) -> Outcome:
        if stats[0].sizes.size and stats[0].size_means[0, 0] > 0.15:  # a property of the resample itself
            raise FloatingPointError("overflow in the between level")
        return original(self, index, stats)

    monkeypatch.setattr(ReplicateContext, "_refit", flaky)
    with pytest.warns(ConvergenceWarning):
        one = pn.bootstrap(seed_model, n_boot=24, seed=8, jobs=1)
    with pytest.warns(ConvergenceWarning):
        two = pn.bootstrap(seed_model, n_boot=24, seed=8, jobs=2)
    assert 0 < one.n_failed < 24
    assert one.failures == two.failures
    np.testing.assert_array_equal(one.estimates, two.estimates)


# ------------------------------------------------------------------ SEs (large J)
@pytest.mark.parametrize("estimator", ["ML", "MLR"])
def test_bootstrap_se_agrees_with_model_se_for_many_clusters(seed_model: pn.Model, estimator: str) -> None:
    """J = 400 clusters of 5: the bootstrap SE estimates the sampling SD that the information-based SE
    (ML) and the cluster sandwich SE (MLR) estimate.  With B = 200 the Monte Carlo SD of a bootstrap SE is
    about SE / sqrt(2 B) = 5% of it; each ratio must lie within 4 such SDs (20%) of 1, and their mean
    within 5%."""
    data = pn.generate(seed_model, n_clusters=400, cluster_size=5, seed=2024)
    model = pn.ml_lvm(data, SYNTAX, clusters="cluster", estimator=estimator).runmodel()
    boot = pn.bootstrap(model, n_boot=200, seed=7, jobs=2)
    assert boot.n_failed == 0
    ratio = boot.se / model.fitted.se
    mc_sd = 1 / np.sqrt(2 * boot.n_success)
    assert np.all(np.abs(ratio - 1) < 4 * mc_sd), ratio.round(3)
    assert abs(ratio.mean() - 1) < 0.05


# ------------------------------------------------------------------ missing data
def test_fiml_bootstrap_resamples_unit_rows() -> None:
    model = pn.ml_lvm(_with_missing(), SYNTAX, clusters="cluster").runmodel()
    boot = pn.bootstrap(model, n_boot=12, seed=4, jobs=1)
    assert boot.n_failed == 0
    assert np.all(np.isfinite(boot.se)) and np.all(boot.se > 0)


def test_fixed_covariates_give_the_bootstrap_of_free_covariates() -> None:
    """lavaan's Demo.twolevel model (within-only and cluster-level covariates): with fixed_x the other
    estimates do not depend on the covariates' moments, so keeping them at the sample values in every
    replicate gives the replicates of the fixed_x=False model."""
    syntax = """
    level: 1
        fw =~ y1 + y2 + y3
        fw ~ x1 + x2 + x3
    level: 2
        fb =~ y1 + y2 + y3
        fb ~ w1 + w2
    """
    data = pn.datasets.demo_twolevel()
    fixed = pn.ml_lvm(data, syntax, clusters="cluster").runmodel()
    free = pn.ml_lvm(data, syntax, clusters="cluster", fixed_x=False).runmodel()
    a = pn.bootstrap(fixed, n_boot=12, seed=3, jobs=1).confint()
    b = pn.bootstrap(free, n_boot=12, seed=3, jobs=1).confint()
    both = a.merge(b, on=["var1", "op", "var2", "matrix", "group"], suffixes=("_fixed", "_free"))
    assert len(both) == len(a) == fixed.npar
    np.testing.assert_allclose(both["se_boot_fixed"], both["se_boot_free"], rtol=1e-4)


# ------------------------------------------------------------------ networks
def test_network_edges_without_search(ggm: pn.Model) -> None:
    boot = pn.bootstrap(ggm, n_boot=20, seed=2, jobs=1)
    edges = boot.edges()
    assert list(edges.columns) == ["level", "matrix", "node1", "node2", "group", "sample", "boot_mean", "boot_sd",
                                   "lower", "upper", "inclusion"]
    assert len(edges) == 30 and set(edges["level"]) == {"within", "between"}
    within = ggm.getmatrix("omega_within")
    first = edges.iloc[0]
    assert (first["node1"], first["node2"]) == ("y1", "y2")
    assert first["sample"] == pytest.approx(within[1, 0])
    assert (edges["inclusion"] == 1.0).all()
    np.testing.assert_allclose(edges["boot_mean"], boot.edge_values().mean(axis=0))


@pytest.mark.parametrize("search", ["prune", "callable"])
def test_network_stability_with_prune(ggm: pn.Model, search: str) -> None:
    if search == "prune":
        boot = pn.bootstrap(ggm, n_boot=16, seed=9, jobs=2, search="prune", search_options={"alpha": 0.01})
        assert boot.search == "prune(alpha=0.01)"
    else:
        boot = pn.bootstrap(ggm, n_boot=16, seed=9, jobs=2, search=lambda m: m.prune(alpha=0.01))
    edges = boot.edges()
    assert edges["inclusion"].between(0, 1).all()
    assert 0 < edges["inclusion"].mean() < 1
    pruned = ggm.prune(alpha=0.01)
    sample_within = pruned.getmatrix("omega_within")
    i, j = np.tril_indices(6, -1)
    np.testing.assert_allclose(edges.loc[edges["matrix"] == "omega_within", "sample"], sample_within[i, j])
    # an edge pruned in a replicate counts as 0 there
    values = boot.edge_values()
    np.testing.assert_allclose(edges["inclusion"], (np.abs(values) > 1e-10).mean(axis=0))
    assert boot.estimates.shape == (16, ggm.npar)


def test_robust_model_with_search_refits_with_rows() -> None:
    """MLR's standard errors (which a search reads) are built from the unit rows: replicates carry them."""
    mlr = pn.ml_ggm(pn.datasets.seed_example(), clusters="cluster", estimator="MLR").runmodel()
    boot = pn.bootstrap(mlr, n_boot=6, seed=1, jobs=1, search="prune")
    assert boot.n_failed == 0
    assert boot.edges()["inclusion"].between(0, 1).all()


def test_latent_networks_of_a_factor_model(seed_model: pn.Model) -> None:
    boot = pn.bootstrap(seed_model, n_boot=10, seed=1, jobs=1)
    edges = boot.edges()
    assert list(edges["matrix"]) == ["omega_zeta_within", "omega_zeta_between"]
    assert edges["sample"].iloc[1] == pytest.approx(seed_model.getmatrix("omega_zeta_between")[1, 0])


def test_observed_covariates_are_not_nodes_of_the_latent_networks() -> None:
    """Covariates in regressions are phantom latents of their level, not nodes: lavaan's tutorial model has
    one latent variable per level (no edges), a model with two within factors one within edge."""
    data = pn.datasets.demo_twolevel()
    tutorial = pn.ml_lvm(data, "level: 1\n fw =~ y1 + y2 + y3\n fw ~ x1 + x2 + x3\n"
                               "level: 2\n fb =~ y1 + y2 + y3\n fb ~ w1 + w2", clusters="cluster").runmodel()
    assert len(pn.bootstrap(tutorial, n_boot=3, seed=1, jobs=1).edges()) == 0
    two = pn.ml_lnm(data, "level: 1\n fw1 =~ y1 + y2 + y3\n fw2 =~ y4 + y5 + y6\n fw1 ~~ x1\n"
                          "level: 2\n fb1 =~ y1 + y2 + y3\n fb2 =~ y4 + y5 + y6\n fb1 ~~ w1",
                    clusters="cluster").runmodel()
    edges = pn.bootstrap(two, n_boot=3, seed=1, jobs=1).edges()
    assert edges[["level", "node1", "node2"]].values.tolist() == [["within", "fw1", "fw2"], ["between", "fb1", "fb2"]]
    within, between = two.getmatrix("omega_zeta_within"), two.getmatrix("omega_zeta_between")
    assert two.family.matrix_labels("omega_zeta_within")[0] == ("fw1", "fw2", "x1")
    np.testing.assert_allclose(edges["sample"], [within[1, 0], between[1, 0]])


def test_plot_writes_png(ggm: pn.Model, tmp_path) -> None:
    pytest.importorskip("matplotlib", reason="matplotlib is not installed (the test extra has it)")
    boot = pn.bootstrap(ggm, n_boot=8, seed=1, jobs=1, search="prune")
    target = tmp_path / "stability.png"
    fig = pn.plot_stability(boot, filename=target)
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [ax.get_title() for ax in fig.axes] == ["Within network", "Between network"]
    gids = {artist.get_gid() for ax in fig.axes for artist in ax.get_children()}
    assert {"interval:within", "sample:between", "mean:within"} <= gids
    assert boot.plot(filename=tmp_path / "again.svg") is not None
    with pytest.raises(ValueError, match="`filename`"):
        boot.plot(filename=tmp_path / "x.gif")


# -------------------------------------------------------------------- errors
def test_statistics_without_rows_are_refused(seed_model: pn.Model, tmp_path) -> None:
    stats = pn.twolevel_stats(pn.datasets.seed_example(), clusters="cluster")
    stats.save(tmp_path / "stats.json")
    model = pn.ml_lvm(pn.TwoLevelStats.load(tmp_path / "stats.json"), SYNTAX).runmodel()
    with pytest.raises(ValueError, match="needs the unit rows|unit rows of whole clusters"):
        pn.bootstrap(model, n_boot=5)


def test_argument_errors(seed_model: pn.Model) -> None:
    with pytest.raises(ValueError, match="`n_boot`"):
        pn.bootstrap(seed_model, n_boot=0)
    with pytest.raises(ValueError, match="`jobs`"):
        pn.bootstrap(seed_model, n_boot=5, jobs=0)
    with pytest.raises(ValueError, match="`search`"):
        pn.bootstrap(seed_model, n_boot=5, search="lasso")
    with pytest.raises(ValueError, match="`search_options`"):
        pn.bootstrap(seed_model, n_boot=5, search_options={"alpha": 0.05})
    with pytest.raises(TypeError, match="`search_options`: 'alhpa'"):
        pn.bootstrap(seed_model, n_boot=5, search="prune", search_options={"alhpa": 0.05})
    with pytest.raises(ValueError, match="`seed`"):
        pn.bootstrap(seed_model, n_boot=5, seed=-1)
    with pytest.raises(TypeError, match="`model`"):
        pn.bootstrap("model", n_boot=5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="`search`: must return a fitted Model"):
        pn.bootstrap(seed_model, n_boot=5, search=lambda m: None)


def test_plot_of_one_group(tmp_path) -> None:
    pytest.importorskip("matplotlib", reason="matplotlib is not installed (the test extra has it)")
    data = pn.datasets.seed_example()
    data["school_type"] = np.where(data["cluster"] % 2 == 0, "public", "private")
    two = pn.ml_ggm(data, clusters="cluster", groups="school_type").runmodel()
    boot = pn.bootstrap(two, n_boot=5, seed=1, jobs=1)
    for group in (0, "private"):
        fig = pn.plot_stability(boot, group=group)
        labels = [t.get_text() for ax in fig.axes for t in ax.get_yticklabels()]
        assert len(labels) == 30 and not any("(" in label for label in labels)  # one group: no group tags
    with pytest.raises(ValueError, match="`group`"):
        pn.plot_stability(boot, group=2)
