"""Data, input and bad input (SPEC section 7).

Every bad input gives a ValueError or TypeError naming the argument; data
problems that can be worked around give a ``pn.DataWarning``; harmless
differences in how the data are laid out (row order, cluster labels, column
names, pandas vs polars) give identical estimates.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import psychonetrics as pn
from support import load_case, model_kwargs

LAMBDA = np.array([[1, 0]] * 3 + [[0, 1]] * 3)
VARS = [f"y{k}" for k in range(1, 7)]


@pytest.fixture(scope="module")
def seed() -> pd.DataFrame:
    return pn.datasets.seed_example()


@pytest.fixture(scope="module")
def seed_fit(seed):
    return pn.ml_lvm(seed, lambda_=LAMBDA, clusters="cluster").runmodel()


def build(data, **kwargs):
    kwargs.setdefault("lambda_", LAMBDA)
    kwargs.setdefault("clusters", "cluster")
    return pn.ml_lvm(data, **kwargs)


def assert_same_estimates(model, reference, *, atol: float = 1e-8) -> None:
    assert model.converged
    assert model.fit()["logl"] == pytest.approx(reference.fit()["logl"], rel=1e-10)
    np.testing.assert_allclose(model.table.start_vector(), reference.table.start_vector(), atol=atol)
    np.testing.assert_allclose(model.fitted.se, reference.fitted.se, rtol=1e-6)


def test_seed_example_shape(seed) -> None:
    assert list(seed.columns) == VARS + ["cluster"]
    assert seed.shape == (600, 7)


# ------------------------------------------------------------------ errors
def test_missing_clusters_argument(seed) -> None:
    with pytest.raises(ValueError, match="`clusters`: required"):
        pn.ml_lvm(seed, lambda_=LAMBDA)
    with pytest.raises(ValueError, match="clusters"):
        pn.ml_ggm(seed)


def test_unknown_cluster_column(seed) -> None:
    with pytest.raises(ValueError, match="`clusters`: column 'school' is not in `data`"):
        build(seed, clusters="school")


def test_unknown_variable_column(seed) -> None:
    with pytest.raises(ValueError, match="`vars`: 'zz' not in `data`"):
        build(seed, vars=VARS[:5] + ["zz"])


def test_clusters_must_be_one_column_name(seed) -> None:
    with pytest.raises(TypeError, match="`clusters`"):
        build(seed, clusters=["cluster"])


def test_non_numeric_variable(seed) -> None:
    data = seed.assign(y3=seed["y3"].astype(str))
    with pytest.raises(TypeError, match="'y3' are not numeric"):
        build(data)


def test_infinite_values(seed) -> None:
    data = seed.copy()
    data.loc[5, "y4"] = np.inf
    data.loc[9, "y5"] = -np.inf
    with pytest.raises(ValueError, match=r"'y4', 'y5' contain infinite values"):
        build(data)


def test_lambda_of_wrong_shape(seed) -> None:
    with pytest.raises(ValueError, match="`lambda_`: expected 6 rows"):
        build(seed, lambda_=LAMBDA[:5])
    with pytest.raises(ValueError, match="`lambda_`"):
        build(seed, lambda_=None)


@pytest.mark.parametrize("name,pattern", [
    ("sigma_zeta_within", np.ones((3, 3))),
    ("sigma_epsilon_between", np.eye(5)),
    ("beta_between", np.zeros((2, 3))),
    ("nu", np.ones(5)),
])
def test_pattern_of_wrong_shape(seed, name: str, pattern) -> None:
    with pytest.raises(ValueError, match=f"`{name}`: expected shape"):
        build(seed, **{name: pattern})


@pytest.mark.parametrize("name,pattern", [
    ("sigma_zeta_within", [[1, 0.5], [0.5, 1]]),
    ("sigma_epsilon_between", np.eye(6) * 0.5),
    ("beta_within", [[0, 0], [0.5, 0]]),
])
def test_float_pattern_value_is_an_error(seed, name: str, pattern) -> None:
    with pytest.raises(ValueError, match=f"`{name}`: .*0.5.* is not a pattern code"):
        build(seed, **{name: pattern})


def test_float_pattern_value_in_network_pattern(seed) -> None:
    with pytest.raises(ValueError, match="`omega_within`: .*0.5.* is not a pattern code"):
        pn.ml_ggm(seed, clusters="cluster", omega_within=np.full((6, 6), 0.5))


def test_unknown_pattern_word(seed) -> None:
    with pytest.raises(ValueError, match="`sigma_zeta_between`: 'ful' is not a pattern"):
        build(seed, sigma_zeta_between="ful")


@pytest.mark.parametrize("argument", ["within_latent", "between_latent", "within_residual", "between_residual"])
def test_unknown_type_name(seed, argument: str) -> None:
    with pytest.raises(ValueError, match=f"`{argument}`: 'foo' is not a valid choice"):
        build(seed, **{argument: "foo"})


def test_unknown_type_name_ml_varcov(seed) -> None:
    with pytest.raises(ValueError, match="`between`: 'network' is not a valid choice"):
        pn.ml_varcov(seed, clusters="cluster", between="network")


def test_unknown_matrix_keyword(seed) -> None:
    with pytest.raises(TypeError, match="ml_lvm\\(\\) got unexpected keyword argument\\(s\\) 'sigma_zeta_sideways'"):
        build(seed, sigma_zeta_sideways="full")
    # a matrix of another type than the block has
    with pytest.raises(TypeError, match="'omega_zeta_within'"):
        build(seed, omega_zeta_within="full")
    with pytest.raises(TypeError, match="ml_lnm\\(\\) got unexpected keyword argument\\(s\\) 'sigma_zeta_within'"):
        pn.ml_lnm(seed, lambda_=LAMBDA, clusters="cluster", sigma_zeta_within="full")
    with pytest.raises(TypeError, match="ml_ggm\\(\\) got unexpected keyword argument\\(s\\) 'sigma_within'"):
        pn.ml_ggm(seed, clusters="cluster", sigma_within="full")


def test_single_cluster(seed) -> None:
    with pytest.raises(ValueError, match="`clusters`: the data have 1 cluster"):
        build(seed.assign(cluster=7))


def test_no_cluster_with_two_units(seed) -> None:
    with pytest.raises(ValueError, match="`clusters`: every cluster has a single unit"):
        build(seed.assign(cluster=np.arange(len(seed))))


def test_variable_missing_in_every_row(seed) -> None:
    data = seed.assign(y6=np.nan)
    with pytest.raises(ValueError, match="'y6' are missing in every row"):
        build(data)


def test_errors_are_value_or_type_errors_never_linalg(seed) -> None:
    """Bad arguments never surface as a raw numpy error."""
    bad_calls = [
        lambda: build(seed, lambda_=np.ones((6, 2, 2))),
        lambda: build(seed, lambda_="full"),
        lambda: build(seed, identification="marker"),
        lambda: build(seed, estimator="REML"),
        lambda: build(seed, standardize="rank"),
    ]
    for call in bad_calls:
        with pytest.raises((ValueError, TypeError)) as info:
            call()
        assert not isinstance(info.value, np.linalg.LinAlgError)
        assert "`" in str(info.value)  # names the argument


# ------------------------------------------------------------------ warnings
def test_rows_with_missing_cluster_id_dropped(seed, seed_fit) -> None:
    data = seed.astype({"cluster": float})
    data.loc[[3, 17, 250], "cluster"] = np.nan
    with pytest.warns(pn.DataWarning, match="3 row\\(s\\) with a missing cluster id were dropped"):
        model = build(data)
    st = model.stats[0]
    assert st.n_units == 597 and st.n_dropped_missing_cluster == 3
    expected = build(seed.drop(index=[3, 17, 250])).runmodel()
    assert_same_estimates(model.runmodel(), expected)


def test_rows_with_every_variable_missing_dropped(seed) -> None:
    data = seed.copy()
    data.loc[[3, 17], VARS] = np.nan
    with pytest.warns(pn.DataWarning, match="2 row\\(s\\) with every variable missing .* dropped"):
        model = build(data)
    st = model.stats[0]
    assert st.n_units == 598 and st.n_dropped_empty == 2
    assert st.complete and model.estimator.name == "ML"
    expected = build(seed.drop(index=[3, 17])).runmodel()
    assert_same_estimates(model.runmodel(), expected)


def test_zero_within_cluster_variance_warning(seed) -> None:
    data = seed.assign(y2=seed.groupby("cluster")["y2"].transform("mean"))
    with pytest.warns(pn.DataWarning, match="'y2' have zero within-cluster variance"):
        pn.twolevel_stats(data, clusters="cluster")
    # a model cannot be fitted to it: a clear error, not a failed optimization
    with pytest.warns(pn.DataWarning), pytest.raises(ValueError, match="'y2' do not vary within clusters"):
        build(data)


def test_zero_between_cluster_variance_warning(seed) -> None:
    data = seed.assign(y5=seed["y5"] - seed.groupby("cluster")["y5"].transform("mean") + 3.0)
    with pytest.warns(pn.DataWarning, match="'y5' have zero between-cluster variance"):
        pn.twolevel_stats(data, clusters="cluster")
    # exactly equal cluster means leave the likelihood unbounded: a clear error
    with pytest.warns(pn.DataWarning), pytest.raises(ValueError, match="'y5' have exactly the same mean"):
        build(data)


def test_no_data_warning_on_clean_data(seed) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        build(seed)
    assert not [w for w in caught if issubclass(w.category, pn.DataWarning)]


def test_few_clusters_warning(seed) -> None:
    small = seed[seed["cluster"] <= 8]  # 8 clusters, 17 between-level parameters
    with pytest.warns(pn.DataWarning, match="clusters"):
        build(small)


# ------------------------------------------------------ layout invariance
def test_row_order_and_string_cluster_ids(seed, seed_fit) -> None:
    rng = np.random.default_rng(42)
    shuffled = seed.iloc[rng.permutation(len(seed))].reset_index(drop=True)
    labels = {c: f"school {k:03d}" for k, c in enumerate(rng.permutation(seed["cluster"].unique()))}
    shuffled["cluster"] = shuffled["cluster"].map(labels)
    assert shuffled["cluster"].dtype == object or pd.api.types.is_string_dtype(shuffled["cluster"])
    model = build(shuffled).runmodel()
    assert model.estimator.name == "ML"
    assert_same_estimates(model, seed_fit)


def test_integer_relabelling(seed, seed_fit) -> None:
    data = seed.assign(cluster=seed["cluster"] * 1000 + 7)
    assert_same_estimates(build(data).runmodel(), seed_fit)


def test_row_order_and_labels_fiml_with_missing_values() -> None:
    case = load_case("missing_mcar")
    reference = pn.ml_lvm(case.data, **model_kwargs(case)).runmodel()
    rng = np.random.default_rng(5)
    shuffled = case.data.iloc[rng.permutation(len(case.data))].reset_index(drop=True)
    shuffled["cluster"] = "c" + shuffled["cluster"].astype(str)
    model = pn.ml_lvm(shuffled, **model_kwargs(case)).runmodel()
    assert model.estimator.name == reference.estimator.name == "FIML"
    assert_same_estimates(model, reference, atol=1e-7)


def test_variable_names_with_dots_and_spaces(seed, seed_fit) -> None:
    names = {"y1": "y.1", "y2": "item 2", "y3": "y.3 (reversed)", "y4": "ü-4", "y5": "5", "y6": "a.b c",
             "cluster": "school id"}
    data = seed.rename(columns=names)
    model = pn.ml_lvm(data, lambda_=LAMBDA, clusters="school id").runmodel()
    assert model.stats[0].vars == ("y.1", "item 2", "y.3 (reversed)", "ü-4", "5", "a.b c")
    assert_same_estimates(model, seed_fit)
    params = model.parameters()
    loadings = params[params["matrix"] == "lambda"]
    assert set(loadings["var2"]) == set(model.stats[0].vars)
    intercepts = params[params["matrix"] == "nu"]
    assert list(intercepts["var1"]) == list(model.stats[0].vars)


def test_vars_selects_and_orders_columns(seed) -> None:
    data = seed.assign(extra=np.arange(len(seed)) % 3, note="x")
    model = build(data, vars=["y4", "y5", "y6", "y1", "y2", "y3"])
    assert model.stats[0].vars == ("y4", "y5", "y6", "y1", "y2", "y3")


def test_polars_dataframe(seed, seed_fit) -> None:
    pl = pytest.importorskip("polars", reason="polars is not installed (the test extra has it)")
    frame = pl.from_pandas(seed)
    assert_same_estimates(build(frame).runmodel(), seed_fit)
    frame = frame.with_columns(pl.col("cluster").cast(pl.Utf8))
    assert_same_estimates(build(frame).runmodel(), seed_fit)


def test_not_a_dataframe(seed) -> None:
    with pytest.raises(TypeError, match="`data`: expected a pandas or polars DataFrame"):
        build(seed.to_numpy())


def test_tiny_clusters_with_singletons() -> None:
    case = load_case("tiny_clusters")
    sizes = case.data.groupby("cluster").size()
    assert (sizes == 1).any() and sizes.max() <= 5
    model = pn.ml_lvm(case.data, **model_kwargs(case)).runmodel()
    assert model.converged
    fit = model.fit()
    assert fit["nclusters"] == case.reference["fit"]["J"] == sizes.size
    assert fit["nunits"] == case.reference["fit"]["N"] == len(case.data)
    assert fit["logl"] == pytest.approx(case.reference["fit"]["logl"], abs=1e-3)


def test_reused_cluster_ids_in_two_groups_are_different_clusters() -> None:
    case = load_case("two_groups")
    data = case.data.copy()
    assert not set(data.loc[data["group"] == "A", "cluster"]) & set(data.loc[data["group"] == "B", "cluster"])
    # renumber the clusters 1..J_g within each group: the same ids now appear in both groups
    data["cluster"] = data.groupby("group")["cluster"].transform(lambda c: pd.factorize(c)[0] + 1)
    assert set(data.loc[data["group"] == "A", "cluster"]) & set(data.loc[data["group"] == "B", "cluster"])
    original = pn.ml_lvm(case.data, estimator="ML", **model_kwargs(case))
    reused = pn.ml_lvm(data, estimator="ML", **model_kwargs(case))
    assert [s.n_clusters for s in reused.stats] == [s.n_clusters for s in original.stats]
    assert sum(s.n_clusters for s in reused.stats) == case.reference["fit"]["J"]
    obj_x = original.table.start_vector()
    np.testing.assert_allclose(reused.table.start_vector(), obj_x, atol=1e-12)


# -------------------------------------------------------------- estimator
@pytest.mark.parametrize("case_name,expected", [("seed_example", "ML"), ("missing_mcar", "FIML"),
                                                ("tiny_clusters", "FIML")])
def test_default_estimator(case_name: str, expected: str, capsys) -> None:
    case = load_case(case_name)
    model = pn.ml_lvm(case.data, estimator="default", verbose=True, **model_kwargs(case))
    assert model.estimator.name == expected
    out = capsys.readouterr().out
    assert f"estimator='default': using {expected}" in out
    reason = {"seed_example": "largest cluster > 5", "missing_mcar": "missing values",
              "tiny_clusters": "5 or fewer units"}[case_name]
    assert reason in out


def test_default_estimator_is_quiet_without_verbose(seed, capsys) -> None:
    model = build(seed)
    assert model.estimator.name == "ML"
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("size,expected", [(5, "FIML"), (6, "ML")])
def test_default_estimator_cluster_size_threshold(seed, size: int, expected: str) -> None:
    data = seed.groupby("cluster").head(size)
    assert data.groupby("cluster").size().max() == size
    assert build(data).estimator.name == expected


def test_explicit_estimator_is_kept(seed) -> None:
    assert build(seed, estimator="FIML").estimator.name == "FIML"
    case = load_case("tiny_clusters")
    assert pn.ml_lvm(case.data, estimator="ML", **model_kwargs(case)).estimator.name == "ML"
