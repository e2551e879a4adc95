"""Reading the files users have (``read_table``) and the DataFrames they pass (``as_pandas``)."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import psychonetrics as pn
from psychonetrics.cli import main
from psychonetrics.data.readers import COMPRESSIONS, EXTENSIONS, DataFileNotFoundError, read_table

SYNTAX = "F1 =~ y1 + y2 + y3; F2 =~ y4 + y5 + y6"


@pytest.fixture
def frame() -> pd.DataFrame:
    """Decimals, integers, a missing value and text cluster ids: what the readers must carry over."""
    return pd.DataFrame({
        "y1": [1.25, -0.5, 3.0, np.nan],
        "y2": [10, 20, 30, 40],
        "school": ["a", "a", "b", "b"],
    })


def _write_sav(frame: pd.DataFrame, path: Path) -> None:
    pyreadstat = pytest.importorskip("pyreadstat", reason="pyreadstat is not installed (the test extra has it)")
    pyreadstat.write_sav(frame, str(path))


def _write_excel(frame: pd.DataFrame, path: Path) -> None:
    pytest.importorskip("openpyxl", reason="openpyxl is not installed (the test extra has it)")
    frame.to_excel(path, index=False)


def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    pytest.importorskip("pyarrow", reason="pyarrow is not installed (the test extra has it)")
    frame.to_parquet(path, index=False)


def _write_feather(frame: pd.DataFrame, path: Path) -> None:
    pytest.importorskip("pyarrow", reason="pyarrow is not installed (the test extra has it)")
    frame.to_feather(path)


WRITERS: dict[str, Callable[[pd.DataFrame, Path], None]] = {
    "data.csv": lambda f, p: f.to_csv(p, index=False),
    "data.CSV": lambda f, p: f.to_csv(p, index=False),
    "data.csv.gz": lambda f, p: f.to_csv(p, index=False),
    "data.csv.bz2": lambda f, p: f.to_csv(p, index=False),
    "data.csv.zip": lambda f, p: f.to_csv(p, index=False),
    "data.tsv": lambda f, p: f.to_csv(p, sep="\t", index=False),
    "data.tab": lambda f, p: f.to_csv(p, sep="\t", index=False),
    "data.tsv.xz": lambda f, p: f.to_csv(p, sep="\t", index=False),
    "data.txt": lambda f, p: f.to_csv(p, sep=" ", na_rep="NA", index=False),  # as R's write.table
    "data.parquet": _write_parquet,
    "data.pq": _write_parquet,
    "data.feather": _write_feather,
    "data.xlsx": _write_excel,
    "data.sav": _write_sav,
    "data.dta": lambda f, p: f.to_stata(p, write_index=False),
}


def assert_same_table(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert list(got.columns) == list(expected.columns)
    np.testing.assert_allclose(got[["y1", "y2"]].to_numpy(dtype=float), expected[["y1", "y2"]].to_numpy(dtype=float))
    assert got["school"].tolist() == expected["school"].tolist()


@pytest.mark.parametrize("name", list(WRITERS))
def test_every_format_reads_back_what_was_written(name: str, frame: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / name
    WRITERS[name](frame, path)
    got = read_table(path)
    assert isinstance(got, pd.DataFrame)
    assert_same_table(got, frame)


def test_every_extension_has_a_round_trip_test() -> None:
    tested = {Path(name.lower()).suffixes[0] for name in WRITERS}
    assert set(EXTENSIONS) - tested == {".xls"}  # pandas cannot write .xls; see the xlrd tests below


def test_read_table_is_exported_lazily() -> None:
    assert pn.read_table is read_table
    assert "read_table" in pn.__all__ and "read_table" in dir(pn)


def test_a_string_path_works_too(frame: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    frame.to_csv(tmp_path / "data.csv", index=False)
    monkeypatch.chdir(tmp_path)
    assert_same_table(read_table("data.csv"), frame)


def test_sep_and_decimal_are_honoured(frame: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "european.csv"
    frame.to_csv(path, sep=";", decimal=",", index=False)
    assert "1,25" in path.read_text()
    assert_same_table(read_table(path, sep=";", decimal=","), frame)
    # without them the file is one text column: the header names the problem
    assert list(read_table(path).columns) == ["y1;y2;school"]


def test_txt_splits_on_any_whitespace_unless_sep_is_given(tmp_path: Path) -> None:
    path = tmp_path / "spaced.txt"
    path.write_text("y1   y2\tschool\n1.25 10   a\n-0.5\t20 a\n")
    assert read_table(path).to_dict("list") == {"y1": [1.25, -0.5], "y2": [10, 20], "school": ["a", "a"]}
    path.write_text("y1|y2\n1.5|2\n")
    assert read_table(path, sep="|").to_dict("list") == {"y1": [1.5], "y2": [2]}


def test_a_separator_of_several_characters_reads_without_a_parser_warning(tmp_path: Path) -> None:
    path = tmp_path / "double.csv"
    path.write_text("y1::y2\n1.5::2\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # pandas' ParserWarning about falling back to its python engine
        assert read_table(path, sep="::").to_dict("list") == {"y1": [1.5], "y2": [2]}


def test_excel_sheet_by_name_or_position(frame: pd.DataFrame, tmp_path: Path) -> None:
    pytest.importorskip("openpyxl", reason="openpyxl is not installed (the test extra has it)")
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path) as book:
        frame.iloc[:2].to_excel(book, sheet_name="wave1", index=False)
        frame.to_excel(book, sheet_name="wave2", index=False)
    assert len(read_table(path)) == 2  # the first sheet by default
    assert_same_table(read_table(path, sheet="wave2"), frame)
    assert_same_table(read_table(path, sheet=1), frame)
    with pytest.raises(ValueError, match=r"`sheet`: 'book.xlsx' has no sheet named 'wave3' \(sheets: 'wave1', 'wave2'\)"):
        read_table(path, sheet="wave3")
    with pytest.raises(ValueError, match=r"`sheet`: position 2 is out of range"):
        read_table(path, sheet=2)


def test_spss_and_stata_value_labels_keep_the_numeric_codes(tmp_path: Path) -> None:
    pyreadstat = pytest.importorskip("pyreadstat", reason="pyreadstat is not installed (the test extra has it)")
    codes = pd.DataFrame({"item": [1.0, 2.0, 5.0], "school": [1.0, 1.0, 2.0]})
    labels = {"item": {1.0: "disagree", 2.0: "neutral", 5.0: "agree"}}
    pyreadstat.write_sav(codes, str(tmp_path / "labelled.sav"), variable_value_labels=labels)
    assert read_table(tmp_path / "labelled.sav")["item"].tolist() == [1.0, 2.0, 5.0]
    codes.astype({"item": "int8"}).to_stata(tmp_path / "labelled.dta", write_index=False,
                                            value_labels={"item": {1: "disagree", 2: "neutral", 5: "agree"}})
    assert read_table(tmp_path / "labelled.dta")["item"].tolist() == [1, 2, 5]


@pytest.mark.parametrize("name", ["data.foo", "data.json", "data", "data.gz", "data.parquet.gz"])
def test_an_unknown_extension_is_never_read_as_csv(name: str, tmp_path: Path) -> None:
    path = tmp_path / name
    path.write_text("y1,y2\n1,2\n")
    with pytest.raises(ValueError) as info:
        read_table(path)
    message = str(info.value)
    assert message.startswith("`path`: ") and name in message
    for extension in EXTENSIONS:
        assert extension in message
    assert ".csv" + COMPRESSIONS[0] in message


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "nothere.csv"
    with pytest.raises(DataFileNotFoundError, match=r"`path`: file '.*nothere\.csv' not found"):
        read_table(path)
    with pytest.raises(ValueError):  # ... which is a ValueError
        read_table(path)
    with pytest.raises(FileNotFoundError):  # ... and a FileNotFoundError
        read_table(path)


def test_a_relative_missing_file_says_where_it_was_looked_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="not found in '" + str(tmp_path)):
        read_table("nothere.csv")


def test_a_directory_is_not_a_data_file(tmp_path: Path) -> None:
    (tmp_path / "folder.csv").mkdir()
    with pytest.raises(ValueError, match="is a directory"):
        read_table(tmp_path / "folder.csv")


def test_a_directory_of_parquet_files_is_one_table(frame: pd.DataFrame, tmp_path: Path) -> None:
    pytest.importorskip("pyarrow", reason="pyarrow is not installed (the test extra has it)")
    folder = tmp_path / "data.parquet"
    folder.mkdir()
    frame.iloc[:2].to_parquet(folder / "part-0.parquet", index=False)
    frame.iloc[2:].to_parquet(folder / "part-1.parquet", index=False)
    assert_same_table(read_table(folder).sort_values("y2").reset_index(drop=True), frame)


@pytest.mark.parametrize(("name", "content", "label"), [
    ("broken.parquet", b"not a parquet file", "a Parquet file"),
    ("broken.xlsx", b"not a zip archive", "an Excel workbook"),
    ("broken.xls", b"not an OLE2 file either", "an Excel 97-2003 workbook"),
    ("broken.sav", b"not SPSS", "an SPSS file"),
    ("broken.dta", b"not Stata", "a Stata file"),
    ("broken.feather", b"not Arrow", "a Feather file"),
    ("broken.csv", b"y1,y2\n1,2\n\xff\xfe\x00\x81,3\n", "a CSV file"),
    ("broken.csv.gz", b"not gzip", "a CSV file"),
])
def test_an_unreadable_file_is_one_valueerror_naming_it(name: str, content: bytes, label: str, tmp_path: Path) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ValueError) as info:
        read_table(path)
    message = str(info.value)
    assert message.startswith(f"`path`: '{path}' could not be read as {label} (")
    assert "\n" not in message
    assert info.value.__cause__ is not None  # the reader's own error is chained


@pytest.mark.parametrize(("name", "blocked", "extra"), [
    ("data.xlsx", ["openpyxl"], "excel"),
    ("data.xls", ["xlrd"], "excel"),
    ("data.sav", ["pyreadstat"], "spss"),
    ("data.parquet", ["pyarrow", "fastparquet"], "parquet"),
    ("data.feather", ["pyarrow"], "parquet"),
])
def test_a_missing_reader_library_names_the_extra(name: str, blocked: list[str], extra: str, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / name
    path.write_bytes(b"whatever")
    for module in blocked:
        monkeypatch.setitem(sys.modules, module, None)  # import fails, as when it is not installed
    with pytest.raises(ImportError, match=rf'needs {" or ".join(blocked)}: pip install "psychonetrics\[{extra}\]"'):
        read_table(path)


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"sep": ";"}, ValueError, r"`sep`: applies to text files only, not to a Parquet file \(\.parquet\)"),
    ({"decimal": ","}, ValueError, r"`decimal`: applies to text files only"),
    ({"sheet": "wave1"}, ValueError, r"`sheet`: applies to Excel workbooks only"),
])
def test_text_and_excel_options_on_other_formats(kwargs: dict[str, str], error: type[Exception], message: str,
                                                 frame: pd.DataFrame, tmp_path: Path) -> None:
    pytest.importorskip("pyarrow", reason="pyarrow is not installed (the test extra has it)")
    path = tmp_path / "data.parquet"
    frame.to_parquet(path)
    with pytest.raises(error, match=message):
        read_table(path, **kwargs)


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"sep": ""}, TypeError, "`sep`: got ''"),
    ({"decimal": ".."}, TypeError, "`decimal`: got '..'"),
    ({"sheet": True}, TypeError, "`sheet`: got bool"),
    ({"decimal": ","}, ValueError, "`decimal`: ',' is also the column separator"),
])
def test_bad_options_are_named(kwargs: dict[str, object], error: type[Exception], message: str,
                               frame: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(error, match=message):
        read_table(path, **kwargs)  # type: ignore[arg-type]


def test_a_path_must_be_a_name(frame: pd.DataFrame) -> None:
    with pytest.raises(TypeError, match=r"`path`: got DataFrame \(expected a file name"):
        read_table(frame)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- through the command line
def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def api_chisq() -> str:
    fit = pn.ml_lvm(pn.datasets.seed_example(), SYNTAX, clusters="cluster").runmodel().fit()
    return f"chisq({int(fit['df'])}) = {fit['chisq']:.3f}"


def test_cli_reads_semicolons_and_decimal_commas(tmp_path: Path, api_chisq: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "seed_eu.csv"
    pn.datasets.seed_example().to_csv(path, sep=";", decimal=",", index=False)
    code, out, err = run(["fit", str(path), "--sep", ";", "--decimal", ",", "--clusters", "cluster",
                          "--model", SYNTAX], capsys)
    assert code == 0, err
    assert api_chisq in out


def test_cli_reads_an_excel_sheet(tmp_path: Path, api_chisq: str, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("openpyxl", reason="openpyxl is not installed (the test extra has it)")
    path = tmp_path / "seed.xlsx"
    with pd.ExcelWriter(path) as book:
        pd.DataFrame({"note": ["the data are on the next sheet"]}).to_excel(book, sheet_name="readme", index=False)
        pn.datasets.seed_example().to_excel(book, sheet_name="pupils", index=False)
    code, out, err = run(["fit", str(path), "--sheet", "pupils", "--clusters", "cluster", "--model", SYNTAX], capsys)
    assert code == 0, err
    assert api_chisq in out
    code, out, err = run(["fit", str(path), "--sheet", "2", "--clusters", "cluster", "--model", SYNTAX], capsys)
    assert code == 2
    assert err == "psychonetrics: error: `sheet`: 'seed.xlsx' has no sheet named '2' (sheets: 'readme', 'pupils').\n"


def test_cli_reads_spss(tmp_path: Path, api_chisq: str, capsys: pytest.CaptureFixture[str]) -> None:
    pyreadstat = pytest.importorskip("pyreadstat", reason="pyreadstat is not installed (the test extra has it)")
    path = tmp_path / "seed.sav"
    pyreadstat.write_sav(pn.datasets.seed_example(), str(path))
    code, out, err = run(["fit", str(path), "--clusters", "cluster", "--model", SYNTAX], capsys)
    assert code == 0, err
    assert api_chisq in out


# --------------------------------------------------------------------------- DataFrames passed as data
def test_a_polars_lazyframe_is_told_to_collect() -> None:
    pl = pytest.importorskip("polars", reason="polars is not installed (the test extra has it)")
    lazy = pl.from_pandas(pn.datasets.seed_example()).lazy()
    for build in (lambda: pn.ml_lvm(lazy, SYNTAX, clusters="cluster"), lambda: pn.ml_ggm(lazy, clusters="cluster")):
        with pytest.raises(TypeError, match=r"`data`: got a polars LazyFrame.*call `\.collect\(\)` on it first"):
            build()
    # twolevel_stats collects a LazyFrame itself, as before
    assert pn.twolevel_stats(lazy, clusters="cluster").n_units == 600
    mod = pn.ml_lvm(lazy.collect(), SYNTAX, clusters="cluster")
    assert mod.stats[0].n_units == 600


@pytest.mark.parametrize("columns", [
    ["y1", "y1", "y3", "y4", "y5", "y5", "cluster"],
    [1, "1", "y3", "y4", "y5", "y6", "cluster"],  # the same name once written as text
])
def test_duplicated_column_names_are_named(columns: list[object]) -> None:
    data = pn.datasets.seed_example()
    data.columns = columns
    repeated = "'y1', 'y5'" if "y1" in columns else "'1'"
    message = rf"`data`: column name\(s\) {repeated} occur more than once"
    with pytest.raises(ValueError, match=message):
        pn.ml_ggm(data, clusters="cluster")
    with pytest.raises(ValueError, match=message.replace("data", "source")):
        pn.twolevel_stats(data, clusters="cluster")
