"""The exact multilevel VAR likelihood (``ml_var(..., estimator="FIML")``) as a model: the reference, its
standard errors, fit measures, comparisons, the data options and the network verbs.

Reference ``ml_var_lmfa_short`` (tests/data/reference, format "ml_var"): the first 8 beeps of 100 persons of
the lmfa ESM data, six items, psychonetrics 0.17's ``ml_var1(..., estimator = "FIML")`` (panelvar route).
Its ``fit.logl`` is the brute-force density at psychonetrics' estimates (its own printed figure is on
another scale).  psychonetrics stops before the maximum there: our objective at its estimates equals that
density to 1e-9, the Newton decrement there is about 3.4, and our optimizer started at its estimates climbs
1.48 log-likelihood units to our estimates.  So the well-determined matrices (means, temporal and
contemporaneous networks) are compared with a tolerance that covers that distance, the indefinite between
covariance (a Heywood case in both fits) not at all, and the standard errors through their definition:
psychonetrics' are those of the expected information (a brute-force expected information at its estimates
reproduces them), ours those of the observed information (lavaan's choice for FIML), checked against a
numerical Hessian of the brute-force density.

The likelihood itself (against the brute-force density, with missing values and day breaks; derivatives)
is tested in test_var1_exact.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from support import oracle_s0, quiet, reference_positions, reference_vector, var1_brute_force_loglik

import psychonetrics as pn
from psychonetrics.fitting.objective import Objective
from psychonetrics.fitting.optimize import quasi_newton
from psychonetrics.likelihood.var1_exact import VarParameters

REFERENCE = Path(__file__).parent / "data" / "reference" / "ml_var_lmfa_short"
SPEC = json.loads((REFERENCE / "expected.json").read_text())
REF = SPEC["reference"]["var_cov_fiml"]


@pytest.fixture(scope="module")
def short() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "data.csv")


@pytest.fixture(scope="module")
def fiml(short: pd.DataFrame):  # noqa: ANN201
    return quiet(pn.ml_var(short, idvar="id", vars=SPEC["vars"], beepvar="beep", estimator="FIML").runmodel)


@pytest.fixture(scope="module")
def news() -> pd.DataFrame:
    return pn.datasets.esm_news()


def _objective(model) -> Objective:  # noqa: ANN001
    return Objective(model.family, model.table, model.stats, model.estimator.routes(model.stats, model.family.roles))


def _at_estimates(model) -> VarParameters:  # noqa: ANN001
    mats = model.table.matrices(model.table.value, 0)
    return VarParameters(np.ravel(mats["mu"]), mats["beta"], mats["sigma_zeta_within"], mats["sigma_zeta_between"])


def _brute_force(model) -> float:  # noqa: ANN001
    """The dense density of every person's observed values at the model's estimates."""
    series = model.stats[0].series
    return var1_brute_force_loglik(_at_estimates(model), np.asarray(series.values), series.row_person,
                                   series.row_segment, series.row_occasion)


# ------------------------------------------------------------------ the reference
def test_fit_reaches_at_least_the_reference(fiml) -> None:  # noqa: ANN001
    fit = fiml.fit()
    assert fiml.converged
    assert fit["logl"] >= REF["fit"]["logl"] - 1e-2
    assert int(fit["npar"]) == REF["fit"]["npar"] == 84
    assert fit["bic"] == pytest.approx(-2 * fit["logl"] + 84 * np.log(100), abs=1e-6)  # persons are J
    assert fit["aic.ll"] == pytest.approx(-2 * fit["logl"] + 2 * 84, abs=1e-6)


def test_the_reference_is_below_the_maximum_our_optimizer_finds_from_it(fiml) -> None:  # noqa: ANN001
    """At psychonetrics' estimates our objective is the reference density; from there our optimizer climbs to
    our estimates (the reference stopped early)."""
    obj = _objective(fiml)
    x_ref = reference_vector(fiml, REF["parameters"])
    assert obj.loglik(x_ref) == pytest.approx(REF["fit"]["logl"], abs=1e-6)
    ours = fiml.table.start_vector()
    res = quasi_newton(obj, x_ref)
    assert res.converged
    assert res.loglik == pytest.approx(fiml.fit()["logl"], abs=1e-5)
    assert res.loglik > REF["fit"]["logl"] + 1.0
    assert np.max(np.abs(res.x - ours) / np.maximum(1.0, np.abs(ours))) < 2e-3


@pytest.mark.parametrize(("name", "tol"), [("mu", 1e-3), ("beta", 1.5e-2), ("PDC", 1.5e-2),
                                           ("omega_zeta_within", 1e-2)])
def test_well_determined_matrices_near_the_reference(fiml, name: str, tol: float) -> None:  # noqa: ANN001
    ref = np.asarray(REF["matrices"][name], dtype=float)
    ours = np.asarray(fiml.getmatrix(name), dtype=float).reshape(ref.shape)
    assert np.max(np.abs(ours - ref) / np.maximum(1.0, np.abs(ref))) < tol


def test_reference_standard_errors_are_the_expected_information(fiml) -> None:  # noqa: ANN001
    """psychonetrics' FIML SEs are those of the expected information of the exact likelihood: a brute-force
    expected information (every person shares one complete 8-beep pattern: J times that of one 48-variate
    normal vector) at its estimates reproduces them."""
    p, n_beeps, n_persons = 6, 8, 100
    x_ref = reference_vector(fiml, REF["parameters"])

    def moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mats = fiml.table.matrices(fiml.table.values_at(x), 0)
        beta, sigma, between = mats["beta"], mats["sigma_zeta_within"], mats["sigma_zeta_between"]
        s0 = oracle_s0(beta, sigma)
        cov = np.zeros((n_beeps, p, n_beeps, p))
        for a in range(n_beeps):
            for c in range(n_beeps):
                k = a - c
                cov[a, :, c, :] = between + (np.linalg.matrix_power(beta, k) @ s0 if k >= 0
                                             else s0 @ np.linalg.matrix_power(beta, -k).T)
        return np.tile(np.ravel(mats["mu"]), n_beeps), cov.reshape(n_beeps * p, n_beeps * p)

    _, cov = moments(x_ref)
    inv = np.linalg.inv(cov)
    d_mu, d_cov = [], []
    for k in range(x_ref.size):
        h = 1e-6 * max(1.0, abs(x_ref[k]))
        up, down = x_ref.copy(), x_ref.copy()
        up[k] += h
        down[k] -= h
        (m1, c1), (m0, c0) = moments(up), moments(down)
        d_mu.append((m1 - m0) / (2 * h))
        d_cov.append(inv @ (c1 - c0) / (2 * h))
    d_mu = np.asarray(d_mu)
    info = n_persons * (0.5 * np.einsum("aij,bji->ab", d_cov, d_cov) + d_mu @ inv @ d_mu.T)
    se = np.sqrt(np.diag(np.linalg.inv(info)))[reference_positions(fiml, REF["parameters"])]
    ref_se = np.array([row["se"] for row in REF["parameters"]])
    np.testing.assert_allclose(se, ref_se, rtol=1e-3)


def test_our_standard_errors_are_the_observed_information(fiml) -> None:  # noqa: ANN001
    """Our SEs invert the observed information: a numerical Hessian (central differences of the analytic
    gradient) at our estimates gives them."""
    obj = _objective(fiml)
    x = fiml.table.start_vector()
    n = x.size
    hessian = np.zeros((n, n))
    for k in range(n):
        h = 1e-5 * max(1.0, abs(x[k]))
        up, down = x.copy(), x.copy()
        up[k] += h
        down[k] -= h
        hessian[:, k] = (obj.loglik_and_gradient(up)[1] - obj.loglik_and_gradient(down)[1]) / (2 * h)
    se = np.sqrt(np.diag(np.linalg.inv(-0.5 * (hessian + hessian.T))))
    params = fiml.parameters()
    ours = np.empty(n)
    ours[params["par"].to_numpy() - 1] = params["se"].to_numpy()
    np.testing.assert_allclose(ours, se, rtol=2e-3)
    # expected and observed differ at this sample size by a few per cent, up to 13% for between parameters
    assert "SEs from the observed information" in str(fiml)


# ------------------------------------------------------------------ fit measures and comparisons
def test_fit_measures_without_a_saturated_model_say_so(fiml) -> None:  # noqa: ANN001
    fit = fiml.fit()
    for key in ("nobs", "chisq", "df", "cfi", "tli", "rmsea", "srmr_within", "srmr_between"):
        assert np.isnan(fit[key]), key
    assert "no saturated model" in fit.attrs["unavailable"]
    text = str(fiml)
    assert "logl = -20712.3" in text and "parameters = 84" in text
    assert "Chi-square, CFI, TLI, RMSEA and SRMR: unavailable" in text
    assert "likelihood-ratio tests" in text
    assert "Estimator: FIML (exact likelihood" in text and "optimizer: quasi-newton" in text


def test_compare_runs_likelihood_ratio_tests(short: pd.DataFrame, fiml) -> None:  # noqa: ANN001
    diag = quiet(pn.ml_var(short, idvar="id", vars=SPEC["vars"], beepvar="beep", estimator="FIML",
                           beta="diag").runmodel)
    table = pn.compare(full=fiml, diag=diag)
    assert list(table["model"]) == ["full", "diag"]
    assert table["DF_diff"].iloc[1] == 30
    lr = 2 * (fiml.fit()["logl"] - diag.fit()["logl"])
    assert lr > 0
    assert table["Chisq_diff"].iloc[1] == pytest.approx(lr, rel=1e-10)
    from scipy.stats import chi2

    assert table["p_value"].iloc[1] == pytest.approx(chi2.sf(lr, 30), rel=1e-10)


# ------------------------------------------------------------------ data as ESM data come
def test_every_observed_value_enters_where_lag_pairs_lose_most(news: pd.DataFrame) -> None:
    """On esm_news (absent beeps, nights) the lag pairs keep 195 of 654 beeps; the exact likelihood reads all
    3270 values, and its log-likelihood is the brute-force density of every person's series."""
    items = ["Fearful", "Hopeful", "Anxious", "Down", "Relaxed"]
    model = quiet(pn.ml_var(news, idvar="subjnr", dayvar="daynr", beepvar="beepnr", vars=items,
                            estimator="FIML").runmodel)
    assert model.converged
    series = model.stats[0].series
    assert series.n_observed_values == 654 * 5 and model.n_units == 195
    assert model.fit()["logl"] == pytest.approx(_brute_force(model), abs=1e-6)
    assert "3270 observed values in 654 occasions of 53 persons" in str(model)


def test_missing_items_are_marginalized(short: pd.DataFrame) -> None:
    rng = np.random.default_rng(5)
    data = short.copy()
    values = data[SPEC["vars"][:3]].to_numpy(dtype=float).copy()
    values[rng.random(values.shape) < 0.15] = np.nan
    data[SPEC["vars"][:3]] = values
    model = quiet(pn.ml_var(data, idvar="id", vars=SPEC["vars"][:3], beepvar="beep", estimator="FIML").runmodel)
    assert model.converged
    series = model.stats[0].series
    assert series.n_observed_values == int(np.isfinite(values).sum())
    assert model.fit()["logl"] == pytest.approx(_brute_force(model), abs=1e-6)
    assert np.all(np.isfinite(model.parameters()["se"]))


def test_nights_break_the_process_or_count_as_one_missed_occasion(news: pd.DataFrame) -> None:
    items = ["Fearful", "Hopeful", "Down"]
    kw = dict(idvar="subjnr", dayvar="daynr", beepvar="beepnr", vars=items, estimator="FIML")
    apart = quiet(pn.ml_var(news, **kw).runmodel)
    joined = quiet(pn.ml_var(news, night="missing", **kw).runmodel)
    a, b = apart.stats[0].series, joined.stats[0].series
    assert a.n_segments > b.n_segments == b.n_persons == 53
    assert apart.fit()["logl"] != pytest.approx(joined.fit()["logl"], abs=1e-3)
    with pytest.raises(ValueError, match="`night`"):
        pn.ml_var(news, night="sleep", **kw)


def test_fiml_needs_the_rows_and_has_no_expected_information(short: pd.DataFrame) -> None:
    stats, _ = pn.lag_pair_stats(short, idvar="id", vars=SPEC["vars"][:3], beepvar="beep")
    with pytest.raises(ValueError, match="FIML"):
        pn.ml_var(stats, estimator="FIML")
    with pytest.raises(ValueError, match="`information`"):
        pn.ml_var(short, idvar="id", vars=SPEC["vars"][:3], beepvar="beep", estimator="FIML",
                  information="expected").runmodel()


def test_groups_with_equal_temporal_effects() -> None:
    lmfa = pn.datasets.esm_lmfa()
    lmfa = lmfa.assign(arm=np.where(lmfa["id"] % 2 == 0, "even", "odd"))
    items = ["Interested", "Joyful", "Upset"]
    free = quiet(pn.ml_var(lmfa, idvar="id", vars=items, groups="arm", estimator="FIML").runmodel)
    equal = quiet(pn.ml_var(lmfa, idvar="id", vars=items, groups="arm", estimator="FIML", equal=["beta"]).runmodel)
    assert free.converged and equal.converged
    assert free.npar - equal.npar == 9
    assert np.allclose(equal.getmatrix("beta", group=0), equal.getmatrix("beta", group=1))
    assert free.fit()["logl"] >= equal.fit()["logl"] - 1e-6
    table = pn.compare(free=free, equal=equal)
    assert table["DF_diff"].iloc[1] == 9


# ------------------------------------------------------------------ the network verbs
def test_prune_stepup_and_bootstrap(news: pd.DataFrame) -> None:
    items = ["Fearful", "Hopeful", "Anxious", "Down", "Relaxed"]
    net = quiet(pn.ml_gvar(news, idvar="subjnr", dayvar="daynr", beepvar="beepnr", vars=items,
                           estimator="FIML").runmodel)
    pruned = quiet(net.prune, alpha=0.01)
    assert pruned.estimator.name == "FIML" and pruned.converged
    assert pruned.npar < net.npar and pruned.fit()["bic"] < net.fit()["bic"]
    stepped = quiet(pruned.stepup, alpha=0.01)
    assert stepped.fit()["bic"] <= pruned.fit()["bic"] + 1e-9
    boot = quiet(net.bootstrap, n_boot=8, seed=3, jobs=1)
    assert not boot.failures  # boundary replicates (an indefinite between maximum) are kept
    edges = boot.edges()
    assert set(edges["matrix"]) >= {"beta", "omega_zeta_within", "omega_zeta_between"}
    temporal = edges[edges["matrix"] == "beta"]
    assert np.all(np.isfinite(temporal["boot_sd"])) and len(temporal) == 25


def test_a_between_maximum_outside_the_network_space_is_reported_at_the_boundary() -> None:
    """On lmfa's four items the between maximum is indefinite (the 'cov' fit has negative eigenvalues): the
    network parameterization approaches its boundary, and says so."""
    lmfa = pn.datasets.esm_lmfa()
    items = ["Interested", "Joyful", "Upset", "Gloomy"]
    cov = quiet(pn.ml_var(lmfa, idvar="id", vars=items, estimator="FIML").runmodel)
    assert np.linalg.eigvalsh(cov.getmatrix("sigma_zeta_between"))[0] < 0
    with pytest.warns(pn.exceptions.ImproperSolutionWarning, match="Near-singular network: omega_zeta_between"):
        net = pn.ml_gvar(lmfa, idvar="id", vars=items, estimator="FIML").runmodel()
    assert net.converged and "converged at the boundary" in str(net)
    assert net.fit()["logl"] <= cov.fit()["logl"] + 1e-6
    params = net.parameters()
    within = params[params["matrix"].isin(["beta", "omega_zeta_within"])]
    assert np.all(np.isfinite(within["se"]))  # estimable parameters keep their SEs


def test_files_and_relations_are_read_into_memory(news: pd.DataFrame, tmp_path: Path) -> None:
    """The exact likelihood holds every value in memory: a Parquet file or a DuckDB relation is read, and
    gives the DataFrame's fit."""
    import duckdb

    path = tmp_path / "news.parquet"
    news.to_parquet(path)
    kw = dict(idvar="subjnr", dayvar="daynr", beepvar="beepnr", vars=["Fearful", "Hopeful"], estimator="FIML")
    frame = quiet(pn.ml_var(news, **kw).runmodel).fit()["logl"]
    assert quiet(pn.ml_var(str(path), **kw).runmodel).fit()["logl"] == pytest.approx(frame, abs=1e-9)
    relation = duckdb.sql(f"select * from read_parquet('{path}')")
    assert quiet(pn.ml_var(relation, **kw).runmodel).fit()["logl"] == pytest.approx(frame, abs=1e-9)
