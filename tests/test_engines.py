"""Out-of-core engines (DuckDB, Spark) give the same two-level statistics as numpy."""

from __future__ import annotations

import json

import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from psychonetrics.data.engines import twolevel_stats
from psychonetrics.data.frame import frame_to_stats
from psychonetrics.data.stats import TwoLevelStats
from psychonetrics.exceptions import DataWarning

duckdb = pytest.importorskip("duckdb", reason="duckdb is not installed (the test extra has it)")

REFERENCE = Path(__file__).resolve().parent / "data" / "reference"
# the two-level cases (the multilevel VAR cases' lag-pair statistics are checked in test_lagged.py)
CASES = sorted(p.name for p in REFERENCE.iterdir() if (p / "data.csv").is_file()
               and json.loads((p / "expected.json").read_text()).get("format") != "ml_var")
RTOL = 1e-10
SPARK_PANDAS_NOTE = pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning")


# --------------------------------------------------------------------------- helpers
def read_case(case: str) -> pd.DataFrame:
    return pd.read_csv(REFERENCE / case / "data.csv")


def case_args(frame: pd.DataFrame) -> dict[str, object]:
    groups = "group" if "group" in frame.columns else None
    return {"vars": [c for c in frame.columns if c.startswith("y")], "clusters": "cluster", "groups": groups}


def _close(a: np.ndarray, b: np.ndarray, scale: float, what: str) -> None:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert a.shape == b.shape, what
    err = np.abs(a - b) / (np.abs(b) + scale)
    assert err.max(initial=0.0) <= RTOL, f"{what}: relative error {err.max():.3g}"


def assert_same_stats(a: TwoLevelStats, b: TwoLevelStats) -> None:
    """Same statistics to RTOL relative (off-diagonals relative to the diagonal scale)."""
    assert a.vars == b.vars
    assert a.group == b.group
    assert (a.n_units, a.n_clusters) == (b.n_units, b.n_clusters)
    np.testing.assert_array_equal(a.sizes, b.sizes)
    np.testing.assert_array_equal(a.size_counts, b.size_counts)
    _close(a.within_cov, b.within_cov, np.abs(np.diag(b.within_cov)).max(), "within_cov")
    between = np.abs(np.diag(b.between_cov())).max()
    _close(a.size_means, b.size_means, np.sqrt(between), "size_means")
    for k in range(b.sizes.size):
        _close(a.size_covs[k], b.size_covs[k], max(np.abs(b.size_covs[k]).max(), 1e-300), f"size_covs[{k}]")


def as_list(stats: TwoLevelStats | list[TwoLevelStats]) -> list[TwoLevelStats]:
    return stats if isinstance(stats, list) else [stats]


def longdouble_stats(y: np.ndarray, cluster: np.ndarray, names: tuple[str, ...]) -> TwoLevelStats:
    """Two-pass statistics in extended precision: the accuracy reference."""
    y = y.astype(np.longdouble)
    ids, codes = np.unique(cluster, return_inverse=True)
    n = np.bincount(codes).astype(np.int64)
    sums = np.zeros((ids.size, y.shape[1]), dtype=np.longdouble)
    np.add.at(sums, codes, y)
    means = sums / n[:, None]
    dev = y - means[codes]
    within = (dev.T @ dev) / (n.sum() - ids.size)
    sizes, inv, counts = np.unique(n, return_inverse=True, return_counts=True)
    size_means = np.stack([means[inv == k].mean(axis=0) for k in range(sizes.size)])
    size_covs = np.stack(
        [(means[inv == k] - size_means[k]).T @ (means[inv == k] - size_means[k]) / counts[k] for k in range(sizes.size)]
    )
    return TwoLevelStats(
        vars=names,
        n_units=int(n.sum()),
        n_clusters=int(ids.size),
        within_cov=within.astype(float),
        sizes=sizes.astype(np.int64),
        size_counts=counts.astype(np.int64),
        size_means=size_means.astype(float),
        size_covs=size_covs.astype(float),
    )


def simulate(
    n_clusters: int = 120, p: int = 4, offset: float = 0.0, seed: int = 1, between_sd: float = 1.0
) -> pd.DataFrame:
    """Two-level data: cluster effect + unit noise, cluster sizes 1..12, shuffled rows."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 13, n_clusters)
    sizes[:2] = 2
    cluster = np.repeat(np.arange(n_clusters), sizes)
    effect = rng.normal(0.0, between_sd, (n_clusters, p))
    y = offset + effect[cluster] + rng.normal(0.0, 1.0, (cluster.size, p))
    frame = pd.DataFrame(y, columns=[f"y{k + 1}" for k in range(p)])
    frame["cluster"] = cluster
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)


def quiet(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return fn(*args, **kwargs)


# --------------------------------------------------------------------------- DuckDB
@pytest.mark.parametrize("case", CASES or ["<no reference cases>"])
def test_reference_cases_duckdb_equals_numpy(case: str, tmp_path: Path) -> None:
    frame = read_case(case)
    args = case_args(frame)
    has_missing = bool(frame[args["vars"]].isna().to_numpy().any())  # type: ignore[index]
    complete = frame.dropna(subset=args["vars"]) if has_missing else frame  # type: ignore[arg-type]
    expected = quiet(frame_to_stats, complete, **args)
    relation = duckdb.connect().from_df(frame)
    got_rel = as_list(quiet(twolevel_stats, relation, dropna=has_missing, **args))
    got_csv = as_list(quiet(twolevel_stats, REFERENCE / case / "data.csv", dropna=has_missing, **args))
    assert len(got_rel) == len(got_csv) == len(expected)
    for e, r, c in zip(expected, got_rel, got_csv):
        assert r.units is None and c.units is None
        assert_same_stats(r, e)
        assert_same_stats(c, e)


def test_no_groups_returns_one_object_and_groups_a_list() -> None:
    frame = read_case("two_groups")
    one = twolevel_stats(duckdb.connect().from_df(frame), vars=["y1", "y2"], clusters="cluster")
    assert isinstance(one, TwoLevelStats) and one.group is None
    many = twolevel_stats(duckdb.connect().from_df(frame), vars=["y1", "y2"], clusters="cluster", groups="group")
    assert [s.group for s in many] == ["A", "B"]


@pytest.mark.parametrize("between_sd", [1.0, 30.0])
def test_huge_offsets_match_extended_precision(between_sd: float) -> None:
    frame = simulate(offset=1e6, between_sd=between_sd, seed=7)
    names = ("y1", "y2", "y3", "y4")
    reference = longdouble_stats(frame[list(names)].to_numpy(), frame["cluster"].to_numpy(), names)
    # (quiet: the frame stage's zero-variance heuristic may flag SD/mean ~ 1e-6)
    got = quiet(twolevel_stats, duckdb.connect().from_df(frame), clusters="cluster")
    assert_same_stats(got, reference)
    assert_same_stats(quiet(frame_to_stats, frame, vars=None, clusters="cluster")[0], reference)


def test_parquet_csv_glob_and_directory_sources(tmp_path: Path) -> None:
    frame = simulate(seed=3)
    expected = frame_to_stats(frame, vars=None, clusters="cluster")[0]
    frame.to_parquet(tmp_path / "one.parquet", index=False)
    frame.to_csv(tmp_path / "one.csv", index=False)
    parts = tmp_path / "parts"
    parts.mkdir()
    for k, rows in enumerate(np.array_split(np.arange(len(frame)), 3)):  # clusters straddle the files
        frame.iloc[rows].to_parquet(parts / f"part-{k}.parquet", index=False)
    for source in (
        tmp_path / "one.parquet",
        str(tmp_path / "one.csv"),
        str(parts / "*.parquet"),
        parts,
        [str(parts / "part-0.parquet"), str(parts / "part-[12].parquet")],
    ):
        assert_same_stats(twolevel_stats(source, clusters="cluster"), expected)


def test_relation_and_table_name_with_connection() -> None:
    frame = simulate(seed=4)
    expected = frame_to_stats(frame, vars=["y2", "y1"], clusters="cluster")[0]
    con = duckdb.connect()
    con.register("frame_view", frame)
    con.execute("CREATE TABLE units AS SELECT * FROM frame_view")
    assert_same_stats(twolevel_stats("units", vars=["y2", "y1"], clusters="cluster", connection=con), expected)
    rel = con.sql("SELECT * FROM units WHERE cluster >= 0")
    assert_same_stats(twolevel_stats(rel, vars=["y2", "y1"], clusters="cluster"), expected)


def test_pyarrow_table_and_missing_group_labels() -> None:
    pa = pytest.importorskip("pyarrow", reason="pyarrow is not installed (the test extra has it)")
    frame = read_case("two_groups")
    expected = frame_to_stats(frame, vars=None, clusters="cluster", groups="group")
    holed = frame.astype({"group": object})
    holed.loc[[5, 700], "group"] = None
    table = pa.Table.from_pandas(pd.concat([frame, holed.loc[[5, 700]]]), preserve_index=False)
    with pytest.warns(DataWarning, match="2 row.*missing cluster id or group label"):
        got = twolevel_stats(table, clusters="cluster", groups="group")
    assert [g.group for g in got] == ["A", "B"]
    for g, e in zip(got, expected):
        assert g.n_dropped_missing_cluster == 2
        assert_same_stats(g, e)


def test_string_cluster_ids_and_awkward_names(tmp_path: Path) -> None:
    frame = simulate(p=3, seed=5)
    frame.columns = ["y.1", "y 2", 'q"uote', "cluster"]
    frame["cluster"] = "c-" + frame["cluster"].astype(str) + "'s"
    expected = frame_to_stats(frame, vars=None, clusters="cluster")[0]
    path = tmp_path / "odd names.parquet"
    frame.to_parquet(path, index=False)
    got = twolevel_stats(path, clusters="cluster")
    assert got.vars == ("y.1", "y 2", 'q"uote')
    assert_same_stats(got, expected)


def test_missing_values_raise_unless_dropna(tmp_path: Path) -> None:
    frame = simulate(seed=6)
    frame.loc[[3, 10, 11], "y2"] = np.nan
    frame.loc[20, ["y1", "y4"]] = np.nan
    frame.loc[30, ["y1", "y2", "y3", "y4"]] = np.nan  # empty row: dropped with a warning
    frame.loc[40, "cluster"] = np.nan  # missing cluster id: dropped with a warning
    path = tmp_path / "missing.parquet"
    frame.to_parquet(path, index=False)
    incomplete = r"4 of .* row\(s\) have missing.*dropna=True.*FIML"
    with pytest.warns(DataWarning), pytest.raises(ValueError, match=incomplete):
        twolevel_stats(path, clusters="cluster")
    with pytest.warns(DataWarning) as record:
        got = twolevel_stats(path, clusters="cluster", dropna=True)
    messages = " ".join(str(w.message) for w in record)
    assert "1 row(s) with a missing cluster id" in messages and "every variable missing" in messages
    assert (got.n_dropped_missing_cluster, got.n_dropped_empty) == (1, 1)
    complete = frame.dropna().astype({"cluster": int})
    assert_same_stats(got, frame_to_stats(complete, vars=None, clusters="cluster")[0])
    # NaN stored as a floating value (not NULL) counts as missing too
    con = duckdb.connect()
    rel = con.sql(
        "SELECT * FROM (VALUES (1.0, 0.0, 1), ('nan'::DOUBLE, 1.0, 1), (2.0, 1.0, 2), (3.0, 0.0, 2)) t(y, x, cl)"
    )
    with pytest.raises(ValueError, match="1 of 4 row"):
        twolevel_stats(rel, clusters="cl")


def test_pandas_and_polars_sources_delegate_to_numpy() -> None:
    frame = simulate(seed=8)
    expected = frame_to_stats(frame, vars=None, clusters="cluster")[0]
    got = twolevel_stats(frame, clusters="cluster")
    assert got.units is not None
    assert_same_stats(got, expected)
    polars = pytest.importorskip("polars", reason="polars is not installed (the test extra has it)")
    assert_same_stats(twolevel_stats(polars.from_pandas(frame), clusters="cluster"), expected)
    holed = frame.copy()
    holed.loc[[1, 2], "y3"] = np.nan
    dropped = twolevel_stats(holed, clusters="cluster", dropna=True)
    assert dropped.n_units == len(frame) - 2 and dropped.complete


def test_validation_messages_match_the_frame_stage() -> None:
    con = duckdb.connect()
    rel = con.from_df(simulate(seed=9))
    with pytest.raises(ValueError, match=r"`vars`: 'nope' not in `source`"):
        twolevel_stats(rel, vars=["y1", "nope"], clusters="cluster")
    with pytest.raises(ValueError, match=r"`clusters`: column 'school' is not in `source`"):
        twolevel_stats(rel, clusters="school")
    with pytest.raises(ValueError, match="must not include the `clusters`"):
        twolevel_stats(rel, vars=["y1", "cluster"], clusters="cluster")
    one = con.sql("SELECT * FROM (VALUES (1.0, 1), (2.0, 1), (3.0, 1)) t(y, cl)")
    with pytest.raises(ValueError, match=r"have 1 cluster\(s\); a two-level model needs at least two"):
        twolevel_stats(one, clusters="cl")
    singletons = con.sql("SELECT * FROM (VALUES (1.0, 1), (2.0, 2), (3.0, 3)) t(y, cl)")
    with pytest.raises(ValueError, match="every cluster has a single unit"):
        twolevel_stats(singletons, clusters="cl")
    text = con.sql("SELECT * FROM (VALUES ('a', 1), ('b', 1)) t(y, cl)")
    with pytest.raises(TypeError, match="not numeric"):
        twolevel_stats(text, clusters="cl")
    infinite = con.sql("SELECT * FROM (VALUES (1.0, 1), ('inf'::DOUBLE, 1), (2.0, 2), (3.0, 2)) t(y, cl)")
    with pytest.raises(ValueError, match="infinite values"):
        twolevel_stats(infinite, clusters="cl")
    with pytest.raises(TypeError, match="`source`"):
        twolevel_stats(42, clusters="cl")
    frame = simulate(seed=10)
    frame["group"] = np.where(frame["cluster"] < 60, "a", "b")
    frame.loc[frame["group"] == "b", "cluster"] = 999  # group b: a single cluster
    with pytest.raises(ValueError, match=r"data \(group 'b'\) have 1 cluster"):
        twolevel_stats(con.from_df(frame), clusters="cluster", groups="group")


def test_missing_duckdb_gives_an_install_hint(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "duckdb", None)
    with pytest.raises(ImportError, match=r'pip install "psychonetrics\[duckdb\]"'):
        twolevel_stats(tmp_path / "data.parquet", clusters="cluster")


# --------------------------------------------------------------------------- Spark
def _spark_frame(spark, frame: pd.DataFrame, tmp_path: Path, name: str):  # type: ignore[no-untyped-def]
    path = tmp_path / f"{name}.parquet"
    frame.to_parquet(path, index=False)
    return spark.read.parquet(str(path))


@SPARK_PANDAS_NOTE
def test_spark_reference_cases_equal_numpy(spark, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for case in CASES:
        frame = read_case(case)
        args = case_args(frame)
        has_missing = bool(frame[args["vars"]].isna().to_numpy().any())  # type: ignore[index]
        complete = frame.dropna(subset=args["vars"]) if has_missing else frame  # type: ignore[arg-type]
        expected = quiet(frame_to_stats, complete, **args)
        got = as_list(quiet(twolevel_stats, _spark_frame(spark, frame, tmp_path, case), dropna=has_missing, **args))
        assert len(got) == len(expected), case
        for g, e in zip(got, expected):
            assert g.units is None
            assert_same_stats(g, e)


@SPARK_PANDAS_NOTE
def test_spark_huge_offsets_string_ids_and_awkward_names(spark, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    frame = simulate(p=3, offset=1e6, between_sd=30.0, seed=11)
    names = ("y.1", "y 2", "y`3")
    reference = longdouble_stats(frame[["y1", "y2", "y3"]].to_numpy(), frame["cluster"].to_numpy(), names)
    frame.columns = [*names, "cluster"]
    frame["cluster"] = "c" + frame["cluster"].astype(str)
    got = quiet(twolevel_stats, _spark_frame(spark, frame, tmp_path, "offsets"), clusters="cluster")
    assert got.vars == names
    assert_same_stats(got, reference)


@SPARK_PANDAS_NOTE
def test_spark_missing_values(spark, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    frame = simulate(seed=12)
    frame.loc[[3, 10], "y2"] = np.nan
    sdf = _spark_frame(spark, frame, tmp_path, "missing")
    with pytest.raises(ValueError, match=r"2 of .* row\(s\) have missing.*dropna=True"):
        twolevel_stats(sdf, clusters="cluster")
    expected = frame_to_stats(frame.dropna(), vars=None, clusters="cluster")[0]
    assert_same_stats(twolevel_stats(sdf, clusters="cluster", dropna=True), expected)


@SPARK_PANDAS_NOTE
def test_spark_pass1_messages_and_drops_equal_duckdb(spark, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    frame = simulate(seed=13)
    frame["group"] = np.where(frame["cluster"] % 2 == 0, "a", "b")
    frame.loc[[3, 10, 11], "y2"] = np.nan
    frame.loc[30, ["y1", "y2", "y3", "y4"]] = np.nan  # empty row
    frame.loc[40, "cluster"] = np.nan  # missing cluster id
    frame.loc[50, "group"] = None  # missing group label
    path = tmp_path / "pass1.parquet"
    frame.to_parquet(path, index=False)
    sdf = spark.read.parquet(str(path))
    for engine_source in (path, sdf):
        with pytest.warns(DataWarning), pytest.raises(ValueError, match=r"3 of .* row\(s\) have missing"):
            twolevel_stats(engine_source, clusters="cluster", groups="group")
    with pytest.warns(DataWarning) as duck_record:
        expected = twolevel_stats(path, clusters="cluster", groups="group", dropna=True)
    with pytest.warns(DataWarning) as spark_record:
        got = twolevel_stats(sdf, clusters="cluster", groups="group", dropna=True)
    assert [str(w.message) for w in spark_record] == [str(w.message) for w in duck_record]
    assert [w.filename for w in spark_record] == [__file__] * len(spark_record)
    assert [g.group for g in got] == [e.group for e in expected] == ["a", "b"]
    for g, e in zip(got, expected):
        assert (g.n_dropped_missing_cluster, g.n_dropped_empty) == (e.n_dropped_missing_cluster, e.n_dropped_empty)
        assert_same_stats(g, e)
    frame.loc[5, "y3"] = np.inf
    frame.to_parquet(path, index=False)
    with pytest.warns(DataWarning), pytest.raises(ValueError, match=r"variable\(s\) 'y3' contain infinite values"):
        twolevel_stats(spark.read.parquet(str(path)), clusters="cluster", groups="group", dropna=True)
