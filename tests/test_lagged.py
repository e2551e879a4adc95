"""Lag pairs of ESM data: the rules on hand-made data, an occasion-by-occasion reference, the three engines
(pandas, DuckDB, Spark) on real files, and psychonetrics' own ml_var1 numbers."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from psychonetrics.data.frame import frame_to_stats
from psychonetrics.data.lagged import LagReport, lag_names, lag_pair_stats, lag_pairs, series_arrays
from psychonetrics.data.stats import TwoLevelStats
from psychonetrics.exceptions import DataWarning

duckdb = pytest.importorskip("duckdb", reason="duckdb is not installed (the test extra has it)")

ESM = Path(__file__).resolve().parent / "data" / "esm"
NEWS_VARS = ["Fearful", "Hopeful", "Anxious", "Down", "Inspiring", "Irritated", "Relaxed", "Insecure"]
LMFA_VARS = ["Interested", "Joyful", "Calm", "Upset", "Gloomy", "Nervous"]
SPARK_PANDAS_NOTE = pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning")
NAN = np.nan


def quiet(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return fn(*args, **kwargs)


def assert_same_stats(a: TwoLevelStats, b: TwoLevelStats, tol: float = 1e-10) -> None:
    assert (a.vars, a.group, a.n_units, a.n_clusters) == (b.vars, b.group, b.n_units, b.n_clusters)
    np.testing.assert_array_equal(a.sizes, b.sizes)
    np.testing.assert_array_equal(a.size_counts, b.size_counts)
    np.testing.assert_allclose(a.within_cov, b.within_cov, rtol=0, atol=tol * np.abs(b.within_cov).max())
    np.testing.assert_allclose(a.size_means, b.size_means, rtol=tol, atol=tol)
    np.testing.assert_allclose(a.size_covs, b.size_covs, rtol=0, atol=tol * max(np.abs(b.size_covs).max(), 1.0))


def occasions_identity(r: LagReport) -> int:
    """Every occasion counted once: persons (kept and dropped), day and gap breaks, and pairs."""
    return (r.n_persons + len(r.dropped_persons) + r.n_day_breaks + r.n_gap_breaks + r.n_incomplete_pairs
            + r.n_pairs + r.n_dropped_pairs)


# --------------------------------------------------------------------------- hand-made data
def hand_made() -> pd.DataFrame:
    """Persons A and B keep their complete pairs; C has one complete pair and is dropped; one row has no id."""
    rows = [
        ("A", 1, 1, 1.0, 10.0),
        ("A", 1, 2, 2.0, 20.0),  # complete pair
        ("A", 1, 4, 3.0, 30.0),  # beep 3 missed: gap break
        ("A", 1, 5, 4.0, NAN),  # incomplete (current value missing)
        ("A", 1, 6, 5.0, 50.0),  # incomplete (lagged value missing)
        ("A", 1, 7, 6.0, 60.0),  # complete
        ("A", 2, 1, 7.0, 70.0),  # day break
        ("A", 2, 2, 8.0, 80.0),  # complete
        ("B", 1, 3, 1.5, 15.0),
        ("B", 1, 4, 2.5, 25.0),  # complete
        ("B", 1, 7, 3.5, 35.0),  # beeps 5 and 6 missed: gap break
        ("B", 1, 8, NAN, NAN),  # incomplete (all missing)
        ("B", 1, 9, 4.5, 45.0),  # incomplete
        ("B", 1, 10, 5.5, 55.0),  # complete
        ("C", 1, 1, 0.0, 0.0),
        ("C", 1, 2, 1.0, 1.0),  # complete: C's only one
        ("C", 2, 1, 2.0, 2.0),  # day break
        (None, 1, 3, 9.0, 9.0),  # no id
    ]
    return pd.DataFrame(rows, columns=["id", "day", "beep", "x", "y"])


HAND_PAIRS = pd.DataFrame({
    "x_lag1": [1.0, 5.0, 7.0, 1.5, 4.5], "y_lag1": [10.0, 50.0, 70.0, 15.0, 45.0],
    "x": [2.0, 6.0, 8.0, 2.5, 5.5], "y": [20.0, 60.0, 80.0, 25.0, 55.0], "id": ["A", "A", "A", "B", "B"],
})
HAND_REPORT = LagReport(n_rows=17, n_pairs=5, n_incomplete_pairs=4, n_persons=2, dropped_persons=("C",),
                        n_missing_id=1, n_missing_group=0, n_day_breaks=2, n_gap_breaks=2, n_missed_beeps=3,
                        n_dropped_pairs=1)
HAND_ARGS = {"idvar": "id", "dayvar": "day", "beepvar": "beep"}


def test_known_pairs_gaps_day_breaks_missing_values_and_dropped_person() -> None:
    with pytest.warns(DataWarning) as record:
        pairs, report = lag_pairs(hand_made(), **HAND_ARGS)
    messages = [str(w.message) for w in record]
    assert any("1 row(s) with a missing id (`idvar` 'id')" in m for m in messages)
    assert any("1 person(s) with fewer than two complete lag pairs were dropped: 'C'" in m for m in messages)
    pd.testing.assert_frame_equal(pairs, HAND_PAIRS, check_dtype=False)
    assert report == HAND_REPORT
    assert occasions_identity(report) == report.n_rows
    text = report.summary()
    assert "5 complete pairs of 2 persons (from 17 occasions)" in text and "'C'" in text


def test_rows_in_any_order_and_polars() -> None:
    frame = hand_made()
    expected, report = quiet(lag_pairs, frame, **HAND_ARGS)
    for seed in range(3):
        shuffled = frame.sample(frac=1.0, random_state=seed)
        got, again = quiet(lag_pairs, shuffled, **HAND_ARGS)
        pd.testing.assert_frame_equal(got, expected)
        assert again == report
    polars = pytest.importorskip("polars", reason="polars is not installed (the test extra has it)")
    got, again = quiet(lag_pairs, polars.from_pandas(frame), **HAND_ARGS)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    assert again == report


def test_without_beepvar_row_order_within_person_and_day_is_time_order() -> None:
    frame = pd.DataFrame({"id": [2, 1, 2, 1, 1, 2, 1], "day": [1, 1, 1, 2, 1, 1, 2],
                          "x": [10.0, 1.0, 20.0, 4.0, 2.0, 30.0, 5.0], "y": [0.0, 1.0, 1.0, 2.0, 0.0, 3.0, 1.0]})
    pairs, report = lag_pairs(frame, idvar="id", dayvar="day")
    assert pairs["id"].tolist() == [1, 1, 2, 2]
    assert pairs[["x_lag1", "x"]].to_numpy().tolist() == [[1.0, 2.0], [4.0, 5.0], [10.0, 20.0], [20.0, 30.0]]
    assert (report.n_pairs, report.n_day_breaks, report.n_gap_breaks) == (4, 1, 0)
    # without a day, person 1's rows run on across its days
    pairs, report = lag_pairs(frame, idvar="id", vars=["x", "y"])
    assert pairs[pairs["id"] == 1][["x_lag1", "x"]].to_numpy().tolist() == [[1.0, 4.0], [4.0, 2.0], [2.0, 5.0]]
    assert report.n_day_breaks == 0


def test_groups_string_ids_and_reused_ids() -> None:
    frame = pd.concat([hand_made().assign(team="red"), hand_made().assign(team="blue")], ignore_index=True)
    frame.loc[3, "team"] = None  # a row without a group label
    with pytest.warns(DataWarning) as record:
        pairs, report = lag_pairs(frame, groups="team", **HAND_ARGS)
    assert "1 row(s) with a missing group label (`groups` 'team')" in " ".join(str(w.message) for w in record)
    assert pairs["team"].tolist()[:2] == ["red", "red"] and pairs["team"].iloc[-1] == "blue"
    assert report.n_persons == 4 and report.n_missing_group == 1 and report.n_missing_id == 2
    assert report.dropped_persons == (("blue", "C"), ("red", "C"))
    # red lost A's beep 5 (its row has no group label): A's beeps 4 -> 6 now span a gap
    assert (report.n_gap_breaks, report.n_missed_beeps) == (5, 7)
    assert occasions_identity(report) == report.n_rows
    stats, again = quiet(lag_pair_stats, frame, groups="team", **HAND_ARGS)
    assert again == report
    assert [s.group for s in stats] == ["red", "blue"] and [s.n_clusters for s in stats] == [2, 2]


def test_lag_names_never_clash() -> None:
    assert lag_names(["a", "b"]) == ("a_lag1", "b_lag1")
    assert lag_names(["a", "a_lag1"]) == ("a__lag1", "a_lag1__lag1")
    assert lag_names(["a"], taken=["a_lag1", None]) == ("a__lag1",)
    frame = hand_made().rename(columns={"id": "x_lag1"})
    pairs, _ = quiet(lag_pairs, frame, idvar="x_lag1", dayvar="day", beepvar="beep")
    assert list(pairs.columns) == ["x__lag1", "y__lag1", "x", "y", "x_lag1"]


def test_argument_errors() -> None:
    frame = hand_made()
    with pytest.raises(ValueError, match=r"`idvar`: required.*columns: 'id', 'day', 'beep', 'x', 'y'"):
        lag_pairs(frame, idvar=None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"`idvar`: column 'person' is not in `data` \(columns: 'id'"):
        lag_pairs(frame, idvar="person")
    with pytest.raises(TypeError, match="`idvar`: expected one column name"):
        lag_pairs(frame, idvar=["id"])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"`dayvar`: column 'date' is not in `data`"):
        lag_pairs(frame, idvar="id", dayvar="date")
    with pytest.raises(ValueError, match="`vars`: 'beep' must not be a variable"):
        lag_pairs(frame, idvar="id", beepvar="beep", vars=["x", "beep"])
    with pytest.raises(ValueError, match="`beepvar` and `dayvar`|`dayvar` and `beepvar`"):
        lag_pairs(frame, idvar="id", dayvar="day", beepvar="day")
    with pytest.raises(TypeError, match="not numeric"):
        lag_pairs(frame.assign(x=frame["x"].astype(str)), **HAND_ARGS)
    with pytest.raises(ValueError, match="infinite values"):
        quiet(lag_pairs, frame.assign(y=frame["y"].replace(30.0, np.inf)), **HAND_ARGS)


@pytest.mark.parametrize(("beeps", "shown"), [
    (["1", "2"], "'1'"),
    ([1.0, 2.5], "2.5"),
    ([1.0, np.inf], "inf"),
    ([True, False], "True"),
])
def test_beeps_must_be_whole_numbers(beeps: list, shown: str) -> None:
    frame = pd.DataFrame({"id": [1, 1], "beep": beeps, "x": [1.0, 2.0]})
    with pytest.raises(ValueError, match=rf"`beepvar`: column 'beep' must hold beep numbers.*found {shown}"):
        lag_pairs(frame, idvar="id", beepvar="beep")


def test_missing_days_and_beeps_and_duplicated_beeps() -> None:
    frame = hand_made()
    with pytest.raises(ValueError, match=r"`dayvar`: 1 row\(s\) have a missing day"):
        quiet(lag_pairs, frame.assign(day=frame["day"].where(frame.index != 2)), **HAND_ARGS)
    with pytest.raises(ValueError, match=r"`beepvar`: 2 row\(s\) have a missing beep"):
        quiet(lag_pairs, frame.assign(beep=frame["beep"].where(~frame.index.isin([0, 9]))), **HAND_ARGS)
    doubled = pd.concat([frame, frame.iloc[[1, 1, 9]]], ignore_index=True)
    with pytest.raises(ValueError, match=r"2 \(id, day, beep\) combination\(s\) occur in more than one row, "
                                         r"e.g. \('A', 1, 2\), \('B', 1, 4\)"):
        quiet(lag_pairs, doubled, **HAND_ARGS)
    with pytest.raises(ValueError, match=r"\(id, beep\) combination"):
        quiet(lag_pairs, doubled, idvar="id", beepvar="beep")  # without days: (A, 1, 1) and (A, 2, 1) collide too


# --------------------------------------------------------------------------- an occasion-by-occasion reference
def reference_pairs(frame: pd.DataFrame, *, idvar: str, vars: list[str], dayvar: str | None = None,
                    beepvar: str | None = None, groups: str | None = None) -> tuple[pd.DataFrame, dict]:
    """psychonetrics' tsData rule written out: missed beeps between a day's first and last beep are missing
    occasions, the lagged values are the previous occasion's of the same person and day, incomplete pairs
    are dropped; then persons with fewer than two complete pairs."""
    series: dict[tuple, list[dict]] = {}
    group_order: dict = {}
    for rec in frame.to_dict("records"):
        if pd.isna(rec[idvar]) or (groups is not None and pd.isna(rec[groups])):
            continue
        g = rec[groups] if groups is not None else None
        group_order.setdefault(g, len(group_order))
        series.setdefault((g, rec[idvar], rec[dayvar] if dayvar else 0), []).append(rec)
    out, incomplete = [], 0
    for (g, pid, day), recs in series.items():
        if beepvar is not None:
            by_beep = {int(r[beepvar]): r for r in recs}
            grid = range(min(by_beep), max(by_beep) + 1)
            recs = [by_beep.get(b) for b in grid]  # None: a missed beep
        for t in range(1, len(recs)):
            prev, cur = recs[t - 1], recs[t]
            if prev is None or cur is None:
                continue
            lag, now = [prev[v] for v in vars], [cur[v] for v in vars]
            if any(pd.isna(x) for x in lag + now):
                incomplete += 1
                continue
            out.append({"g": group_order[g], "id": pid, "day": day, "t": t, "lag": lag, "now": now})
    counts: dict = {}
    for r in out:
        counts[(r["g"], r["id"])] = counts.get((r["g"], r["id"]), 0) + 1
    kept = [r for r in out if counts[(r["g"], r["id"])] >= 2]
    kept.sort(key=lambda r: (r["g"], r["id"], r["day"], r["t"]))
    lagged = [f"{v}_lag1" for v in vars]
    pairs = pd.DataFrame([r["lag"] + r["now"] for r in kept], columns=lagged + vars, dtype=float)
    pairs[idvar] = [r["id"] for r in kept]
    persons = {(g, pid) for g, pid, _ in series}
    return pairs, {"n_pairs": len(kept), "n_incomplete_pairs": incomplete,
                   "n_persons": sum(1 for k in persons if counts.get((group_order[k[0]], k[1]), 0) >= 2)}


def random_esm(seed: int, *, n_persons: int = 12, groups: bool = True) -> pd.DataFrame:
    """String ids reused across two groups, 3 days of up to 6 beeps, ~25% of beeps absent, ~10% values
    missing, rows shuffled."""
    rng = np.random.default_rng(seed)
    rows = []
    for team in (["a", "b"] if groups else ["a"]):
        for person in range(n_persons):
            for day in (1, 2, 4):
                for beep in range(1, 7):
                    if rng.random() < 0.25:
                        continue
                    x, y = rng.normal(size=2)
                    rows.append((team, f"p{person}", day, beep, x, y, rng.normal()))
    frame = pd.DataFrame(rows, columns=["team", "id", "day", "beep", "x", "y", "z"])
    holes = rng.random(frame[["x", "y", "z"]].shape) < 0.1
    frame[["x", "y", "z"]] = frame[["x", "y", "z"]].mask(holes)
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)


@pytest.mark.parametrize("seed", range(4))
def test_lag_pairs_equal_the_occasion_by_occasion_reference(seed: int) -> None:
    frame = random_esm(seed)
    for args in ({"dayvar": "day", "beepvar": "beep", "groups": "team"}, {"beepvar": "beep", "groups": "team"},
                 {"dayvar": "day", "groups": "team"}, {"dayvar": "day", "beepvar": "beep"}):
        data = frame if "groups" in args else frame[frame["team"] == "a"].drop(columns="team")
        if "dayvar" not in args and "beepvar" in args:  # beeps of one day only: no repeats
            data = data[data["day"] == 2]
        expected, counts = reference_pairs(data, idvar="id", vars=["x", "y", "z"], **args)
        got, report = quiet(lag_pairs, data, idvar="id", vars=["x", "y", "z"], **args)
        pd.testing.assert_frame_equal(got.drop(columns=[c for c in ("team",) if c in got]), expected)
        assert {k: getattr(report, k) for k in counts} == counts
        assert occasions_identity(report) == report.n_rows == len(data)


# --------------------------------------------------------------------------- series arrays
def test_series_arrays_break_and_missing_nights() -> None:
    frame = hand_made().sample(frac=1.0, random_state=1)
    (broken,) = quiet(series_arrays, frame, **HAND_ARGS)
    assert broken.group is None and broken.vars == ("x", "y") and broken.ids == ("A", "B", "C")
    assert broken.person.tolist() == [0] * 8 + [1] * 6 + [2] * 3
    assert broken.segment.tolist() == [0] * 6 + [1, 1] + [0] * 6 + [0, 0, 1]
    assert broken.occasion.tolist() == [0, 1, 3, 4, 5, 6, 0, 1] + [0, 1, 4, 5, 6, 7] + [0, 1, 0]
    assert np.isnan(broken.values[11]).all()  # B's beep 8: a missed occasion, kept
    assert broken.values[:2].tolist() == [[1.0, 10.0], [2.0, 20.0]]
    (joined,) = quiet(series_arrays, frame, night="missing", **HAND_ARGS)
    # 10 beep positions (1..10): occasion = (day - 1) * 11 + beep - 1, from each person's first occasion
    assert joined.segment.tolist() == [0] * 17
    assert joined.occasion.tolist() == [0, 1, 3, 4, 5, 6, 11, 12] + [0, 1, 4, 5, 6, 7] + [0, 1, 11]
    with pytest.raises(ValueError, match="`night`"):
        series_arrays(frame, night="bridge", **HAND_ARGS)


def test_series_arrays_days_beeps_groups_and_empty_persons() -> None:
    frame = pd.DataFrame({
        "team": ["z", "z", "z", "a", "a", "a", "a", "z"],
        "id": [1, 1, 1, 1, 1, 2, 2, 3],
        "date": ["2024-03-02", "2024-03-01", "2024-03-02", "2024-03-05", "2024-03-01", "2024-03-01", "2024-03-01",
                 "2024-03-01"],
        "x": [3.0, 1.0, 4.0, 2.0, 1.0, NAN, 5.0, NAN],
    })
    with pytest.warns(DataWarning, match=r"1 person\(s\) with every value missing were dropped: 3"):
        z, a = series_arrays(frame, idvar="id", dayvar="date", groups="team", night="missing")
    assert (z.group, z.ids, a.group, a.ids) == ("z", (1,), "a", (1, 2))
    # no beep column: position within person and day; day index = code of the sorted dates; 2 beep positions
    assert z.values[:, 0].tolist() == [1.0, 3.0, 4.0] and z.occasion.tolist() == [0, 3, 4]
    assert a.person.tolist() == [0, 0, 1, 1] and a.occasion.tolist() == [0, 6, 0, 1]  # 2024-03-05: code 2
    numeric_days = frame.assign(date=[2.0, 1.0, 2.0, 5.0, 1.0, 1.0, 1.0, 1.0])
    z, a = quiet(series_arrays, numeric_days, idvar="id", dayvar="date", groups="team", night="missing")
    assert a.occasion.tolist() == [0, 12, 0, 1]  # day 5 is 4 days after day 1: 4 * 3 + 0
    with pytest.raises(ValueError, match="`dayvar`: with night='missing', numeric days must be whole"):
        quiet(series_arrays, numeric_days.assign(date=1.5), idvar="id", dayvar="date", groups="team",
              night="missing")


# --------------------------------------------------------------------------- engines
def test_lag_pair_stats_in_memory_equal_the_statistics_of_the_pairs() -> None:
    frame = random_esm(5, n_persons=20)
    pairs, report = quiet(lag_pairs, frame, idvar="id", dayvar="day", beepvar="beep", groups="team")
    stats, again = quiet(lag_pair_stats, frame, idvar="id", dayvar="day", beepvar="beep", groups="team")
    assert again == report
    expected = quiet(frame_to_stats, pairs, vars=None, clusters="id", groups="team")
    assert [s.group for s in stats] == ["a", "b"]
    for s, e in zip(stats, expected):
        assert s.vars == ("x_lag1", "y_lag1", "z_lag1", "x", "y", "z")
        assert_same_stats(s, e, tol=0.0)
    assert sum(s.n_units for s in stats) == report.n_pairs
    assert sum(s.n_clusters for s in stats) == report.n_persons


def news(groups: bool = True) -> pd.DataFrame:
    """news_30 with a few missing values, and (``groups``) a group column, rows shuffled."""
    frame = pd.read_csv(ESM / "news_30.csv")
    rng = np.random.default_rng(3)
    holes = rng.random(frame[NEWS_VARS].shape) < 0.01
    frame[NEWS_VARS] = frame[NEWS_VARS].astype(float).mask(holes)
    if groups:
        frame["arm"] = np.where(frame["subjnr"] % 3 == 0, "control", "news")
    return frame.sample(frac=1.0, random_state=3).reset_index(drop=True)


def lmfa() -> pd.DataFrame:
    """lmfa_30 with its beep numbers (row order within person) written out for the out-of-core engines."""
    frame = pd.read_csv(ESM / "lmfa_30.csv")
    frame["beep"] = frame.groupby("id").cumcount() + 1
    return frame


NEWS_ARGS = {"idvar": "subjnr", "dayvar": "daynr", "beepvar": "beepnr", "vars": NEWS_VARS}


def test_news_and_lmfa_duckdb_equals_pandas(tmp_path: Path) -> None:
    frame = news()
    expected, report = quiet(lag_pair_stats, frame, groups="arm", **NEWS_ARGS)
    assert report.n_pairs > 80 and report.n_incomplete_pairs > 0 and report.dropped_persons
    assert occasions_identity(report) == report.n_rows == len(frame)
    frame.to_parquet(tmp_path / "news.parquet", index=False)
    frame.to_csv(tmp_path / "news.csv", index=False)
    con = duckdb.connect()
    for source in (tmp_path / "news.parquet", str(tmp_path / "news.csv"), con.from_df(frame)):
        with pytest.warns(DataWarning, match="fewer than two complete lag pairs"):
            got, again = lag_pair_stats(source, groups="arm", **NEWS_ARGS)
        assert again == report
        assert [g.group for g in got] == sorted(e.group for e in expected)
        for g in got:
            assert g.units is None
            assert_same_stats(g, next(e for e in expected if e.group == g.group))
    # the original file, without groups, read by DuckDB's CSV reader
    expected, report = quiet(lag_pair_stats, pd.read_csv(ESM / "news_30.csv"), **NEWS_ARGS)
    got, again = quiet(lag_pair_stats, ESM / "news_30.csv", **NEWS_ARGS)
    assert again == report and report.n_incomplete_pairs == 0
    assert_same_stats(got[0], expected[0])
    # lmfa: row order is time order (pandas); the engines need the beep numbers
    data = lmfa()
    expected, report = lag_pair_stats(data.drop(columns="beep"), idvar="id", vars=LMFA_VARS)
    assert (report.n_pairs, report.n_persons, report.n_rows) == (len(data) - 30, 30, len(data))
    data.to_parquet(tmp_path / "lmfa.parquet", index=False)
    got, again = lag_pair_stats(tmp_path / "lmfa.parquet", idvar="id", beepvar="beep", vars=LMFA_VARS)
    assert again == report
    assert_same_stats(got[0], expected[0])
    with pytest.raises(ValueError, match="`beepvar`: required for files, relations and Spark DataFrames"):
        lag_pair_stats(tmp_path / "lmfa.parquet", idvar="id", vars=LMFA_VARS)


def test_duckdb_reports_and_errors_equal_pandas(tmp_path: Path) -> None:
    con = duckdb.connect()
    frame = hand_made()
    with pytest.warns(DataWarning) as record:
        _, report = lag_pair_stats(con.from_df(frame), **HAND_ARGS)
    assert report == HAND_REPORT
    assert any("1 row(s) with a missing id" in str(w.message) for w in record)
    doubled = pd.concat([frame, frame.iloc[[1, 1, 9]]], ignore_index=True)
    cases = [
        (doubled, HAND_ARGS, r"2 \(id, day, beep\) combination\(s\) .* e.g. \('A', 1, 2\), \('B', 1, 4\)"),
        (frame.assign(beep=frame["beep"].astype(str)), HAND_ARGS, "`beepvar`: column 'beep' must hold beep numbers"),
        (frame.assign(beep=frame["beep"] + 0.5), HAND_ARGS, r"`beepvar`: .*found 1.5"),
        (frame.assign(day=frame["day"].where(frame.index != 2)), HAND_ARGS, "`dayvar`: 1 row"),
        (frame.assign(y=frame["y"].replace(30.0, np.inf)), HAND_ARGS, r"'y' contain infinite values"),
        (frame, {"idvar": None}, r"`idvar`: required.*columns: 'id'"),
    ]
    for data, args, message in cases:
        with pytest.raises(ValueError, match=message):
            quiet(lag_pair_stats, data, **args)  # pandas: the same checks
        with pytest.raises(ValueError, match=message):
            quiet(lag_pair_stats, con.from_df(data), **args)
    with pytest.raises(ValueError, match="`beepvar`: required for files, relations and Spark DataFrames"):
        lag_pair_stats(con.from_df(frame), idvar="id", dayvar="day")
    two_groups = frame.assign(grp=np.where(frame["id"] == "C", "solo", "pair"))
    for source in (two_groups, con.from_df(two_groups)):
        with pytest.raises(ValueError, match=r"\(group 'solo'\): 0 person\(s\) with two or more complete lag "
                                             r"pairs \(1 complete pairs in all\)"):
            quiet(lag_pair_stats, source, groups="grp", **HAND_ARGS)


@SPARK_PANDAS_NOTE
def test_spark_equals_pandas_and_duckdb(spark, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    frame = news()
    expected, report = quiet(lag_pair_stats, frame, groups="arm", **NEWS_ARGS)
    frame.to_parquet(tmp_path / "news.parquet", index=False)
    with pytest.warns(DataWarning, match="fewer than two complete lag pairs"):
        got, again = lag_pair_stats(spark.read.parquet(str(tmp_path / "news.parquet")), groups="arm", **NEWS_ARGS)
    assert again == report
    assert [g.group for g in got] == sorted(e.group for e in expected)
    for g in got:
        assert_same_stats(g, next(e for e in expected if e.group == g.group))
    data = lmfa()
    expected, report = lag_pair_stats(data.drop(columns="beep"), idvar="id", vars=LMFA_VARS)
    data.to_parquet(tmp_path / "lmfa.parquet", index=False)
    got, again = lag_pair_stats(spark.read.parquet(str(tmp_path / "lmfa.parquet")), idvar="id", beepvar="beep",
                                vars=LMFA_VARS)
    assert again == report
    assert_same_stats(got[0], expected[0])
    hand = hand_made()
    hand.to_parquet(tmp_path / "hand.parquet", index=False)
    _, again = quiet(lag_pair_stats, spark.read.parquet(str(tmp_path / "hand.parquet")), **HAND_ARGS)
    assert again == HAND_REPORT
    doubled = pd.concat([hand, hand.iloc[[1, 1, 9]]], ignore_index=True)
    for data, message in ((doubled, r"2 \(id, day, beep\) combination\(s\) .* e.g. \('A', 1, 2\), \('B', 1, 4\)"),
                          (hand.assign(beep=hand["beep"].astype(str)), "`beepvar`: column 'beep' must hold"),
                          (hand.assign(beep=hand["beep"] + 0.5), r"`beepvar`: .*found 1.5")):
        data.to_parquet(tmp_path / "bad.parquet", index=False)
        with pytest.raises(ValueError, match=message):
            quiet(lag_pair_stats, spark.read.parquet(str(tmp_path / "bad.parquet")), **HAND_ARGS)
    with pytest.raises(ValueError, match="`beepvar`: required"):
        lag_pair_stats(spark.read.parquet(str(tmp_path / "hand.parquet")), idvar="id", dayvar="day")


# --------------------------------------------------------------------------- psychonetrics' ml_var1
@pytest.mark.parametrize(("case", "n_pairs"), [("ml_var_lmfa", 4676), ("ml_var_lmfa_short", 700)])
def test_psychonetrics_loglik_at_its_estimates(case: str, n_pairs: int) -> None:
    """psychonetrics' ml_var1 log-likelihood, evaluated at its estimates on these lag-pair statistics,
    is the logl it reports: the same complete pairs (4676 = 4776 rows - 100 persons) and persons."""
    from psychonetrics.moments import Moments
    from psychonetrics.likelihood.statistics import loglik_stats

    ref = json.loads((ESM / "psychonetrics_ml_var.json").read_text())[case]
    data = pd.read_csv(ESM / ref["data"])
    stats, report = lag_pair_stats(data, idvar=ref["idvar"], vars=ref["vars"], dayvar=ref["dayvar"],
                                   beepvar=ref["beepvar"])
    assert (report.n_pairs, report.n_persons, report.n_incomplete_pairs) == (n_pairs, 100, 0)
    fit, m = ref["fit"], ref["matrices"]
    assert math.isclose(math.exp((fit["bic"] + 2 * fit["logl"]) / fit["npar"]), stats[0].n_clusters, rel_tol=1e-9)
    beta, zeta = np.asarray(m["beta"]), np.asarray(m["sigma_zeta_within"])
    p = beta.shape[0]
    s0 = np.linalg.solve(np.eye(p * p) - np.kron(beta, beta), zeta.reshape(-1, order="F")).reshape(p, p, order="F")
    within = np.block([[s0, s0 @ beta.T], [beta @ s0, s0]])
    between = np.kron(np.ones((2, 2)), np.asarray(m["sigma_zeta_between"]))
    loglik = loglik_stats(Moments(np.asarray(m["mu"]).ravel(), within, between), stats[0])
    assert loglik == pytest.approx(fit["logl"], rel=1e-12)
