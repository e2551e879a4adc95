"""The command line: ``psychonetrics demo`` and ``psychonetrics fit`` (through ``cli.main``)."""

from __future__ import annotations

import ast
import json
import re
import shlex
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import psychonetrics as pn
from psychonetrics.cli import main

SYNTAX = "F1 =~ y1 + y2 + y3; F2 =~ y4 + y5 + y6"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of the command; a SystemExit counts as an exit."""
    try:
        code = main(argv)
    except SystemExit as exc:
        if isinstance(exc.code, str):  # SystemExit("message"): Python prints it and exits with 1
            print(exc.code, file=sys.stderr)
            code = 1
        else:
            code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def api_model() -> pn.Model:
    return pn.ml_lvm(pn.datasets.seed_example(), SYNTAX, clusters="cluster").runmodel()


@pytest.fixture
def seed_csv(tmp_path: Path) -> Path:
    path = tmp_path / "seed.csv"
    pn.datasets.seed_example().to_csv(path, index=False)
    return path


def test_demo_prints_fit_and_both_latent_covariance_matrices(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["demo"], capsys)
    assert code == 0, err
    assert "chisq(20) = 15.921" in out
    assert "15.92" in out
    assert "sigma_zeta_between:" in out and "sigma_zeta_within:" in out
    assert "Traceback" not in out + err


def test_fit_prints_the_chisquare_of_the_api(seed_csv: Path, api_model: pn.Model,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["fit", str(seed_csv), "--clusters", "cluster", "--model", SYNTAX], capsys)
    assert code == 0, err
    fit = api_model.fit()
    assert f"chisq({int(fit['df'])}) = {fit['chisq']:.3f}" in out
    assert "Parameter estimates:" in out


def test_fit_reads_the_model_from_a_file(seed_csv: Path, tmp_path: Path, api_model: pn.Model,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    model_file = tmp_path / "model.txt"
    model_file.write_text("F1 =~ y1 + y2 + y3\nF2 =~ y4 + y5 + y6\n")
    code, out, err = run(["fit", str(seed_csv), "--clusters", "cluster", "--model", str(model_file)], capsys)
    assert code == 0, err
    assert f"{api_model.fit()['chisq']:.3f}" in out


def test_json_output_parses_and_matches_the_api(seed_csv: Path, api_model: pn.Model,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["fit", str(seed_csv), "--clusters", "cluster", "--model", SYNTAX, "--json"], capsys)
    assert code == 0, err
    result = json.loads(out)
    assert result["converged"] is True
    assert result["estimator"] == "ML"
    assert result["fit"]["chisq"] == pytest.approx(api_model.fit()["chisq"], rel=1e-9)
    assert result["fit"]["df"] == 20
    np.testing.assert_allclose(result["matrices"]["sigma_zeta_between"],
                               api_model.getmatrix("sigma_zeta_between"), rtol=1e-8)
    assert len(result["parameters"]) == len(api_model.parameters())


def test_mlr_and_information_options(seed_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["fit", str(seed_csv), "--clusters", "cluster", "--model", SYNTAX, "--estimator", "MLR",
                          "--json"], capsys)
    assert code == 0, err
    result = json.loads(out)
    api = pn.ml_lvm(pn.datasets.seed_example(), SYNTAX, clusters="cluster", estimator="MLR").runmodel()
    assert result["estimator"] == "MLR" and "sandwich" in result["standard_errors"]
    assert result["fit"]["chisq.scaled"] == pytest.approx(api.fit()["chisq.scaled"], rel=1e-8)
    code, out, err = run(["fit", str(seed_csv), "--clusters", "cluster", "--model", SYNTAX,
                          "--information", "observed"], capsys)
    assert code == 0, err
    assert "SEs from the observed information" in out


def test_latent_network_with_a_plot(seed_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib", reason="matplotlib is not installed (the test extra has it)")
    png = tmp_path / "out.png"
    code, out, err = run(["fit", str(seed_csv), "--clusters", "cluster", "--model", SYNTAX,
                          "--type", "ml_lnm", "--plot", str(png)], capsys)
    assert code == 0, err
    assert "ml_lnm" in out and "omega_zeta_within:" in out
    assert png.stat().st_size > 1000
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_of_a_level_specific_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Each level has its own latent variables (two within, one between): each panel its own nodes."""
    pytest.importorskip("matplotlib", reason="matplotlib is not installed (the test extra has it)")
    data = tmp_path / "demo.csv"
    pn.datasets.demo_twolevel().to_csv(data, index=False)
    png = tmp_path / "levels.png"
    syntax = "level: 1; fw1 =~ y1 + y2 + y3; fw2 =~ y4 + y5 + y6; level: 2; fb =~ y1 + y2 + y3 + y4 + y5 + y6"
    code, out, err = run(["fit", str(data), "--clusters", "cluster", "--model", syntax, "--plot", str(png)], capsys)
    assert code == 0, err
    assert f"Network plot written to {png}" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_ggm_needs_no_model_and_can_be_pruned(seed_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["fit", str(seed_csv), "--clusters", "cluster", "--type", "ml_ggm"], capsys)
    assert code == 0, err
    assert "omega_within:" in out and "omega_between:" in out
    assert "chisq(0) = 0.000" in out
    code, out, err = run(["fit", str(seed_csv), "--clusters", "cluster", "--type", "ml_ggm", "--prune", "0.01",
                          "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["fit"]["df"] == 21


def test_missing_data_file_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["fit", str(tmp_path / "nothere.csv"), "--clusters", "cluster", "--model", SYNTAX], capsys)
    assert code != 0
    assert "not found" in err and "nothere.csv" in err
    assert "Traceback" not in out + err


@pytest.mark.parametrize(("args", "message"), [
    (["--clusters", "school", "--model", SYNTAX], "`clusters`: column 'school' is not in `data`"),
    (["--clusters", "cluster", "--model", "F1 =~ y1 + y2 + q3"], "'q3'"),
    (["--clusters", "cluster"], "--model is required"),
])
def test_bad_column_or_model_is_a_clear_error(seed_csv: Path, args: list[str], message: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["fit", str(seed_csv), *args], capsys)
    assert code in (1, 2)
    assert message in err
    assert "Traceback" not in out + err


def test_unknown_option_is_an_argparse_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["fit", "x.csv", "--clusters", "c", "--type", "ml_nope"], capsys)
    assert code == 2
    assert "invalid choice" in err


# --------------------------------------------------------------------------- version, errors, pipes, Ctrl-C
HEAVY = ("scipy", "matplotlib", "duckdb", "pyspark", "polars")


@pytest.fixture
def no_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any fit fail the test: the errors below must come before the model is fitted."""
    def refuse(self: pn.Model, **kwargs: object) -> pn.Model:
        raise AssertionError("the command fitted the model before checking its arguments")

    monkeypatch.setattr(pn.Model, "runmodel", refuse)


def assert_one_error_line(err: str, message: str) -> None:
    assert err.startswith(f"psychonetrics: error: {message}"), err
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert "Traceback" not in err


def test_version_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["--version"], capsys)
    assert code == 0, err
    assert out == f"psychonetrics {pn.__version__}\n"


def test_a_missing_plot_folder_fails_before_fitting(seed_csv: Path, tmp_path: Path, no_fit: None,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "plots"
    code, out, err = run(["fit", str(seed_csv), "--clusters", "cluster", "--model", SYNTAX,
                          "--plot", str(folder / "net.png")], capsys)
    assert code == 2
    assert_one_error_line(err, f"`--plot`: folder '{folder}' does not exist")
    assert out == ""
    code, out, err = run(["fit", str(seed_csv), "--clusters", "cluster", "--model", SYNTAX,
                          "--plot", str(seed_csv / "net.png")], capsys)
    assert code == 2
    assert_one_error_line(err, f"`--plot`: '{seed_csv}' is a file, not a folder")


@pytest.mark.parametrize(("name", "shown"), [("net.jpg", "'.jpg'"), ("net.BMP", "'.BMP'"), ("net", "no extension")])
def test_a_plot_format_that_cannot_be_written_fails_before_fitting(name: str, shown: str, seed_csv: Path,
                                                                   tmp_path: Path, no_fit: None,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["fit", str(seed_csv), "--clusters", "cluster", "--type", "ml_ggm",
                          "--plot", str(tmp_path / name)], capsys)
    assert code == 2
    assert_one_error_line(err, f"`--plot`: cannot write '{name}' with {shown} (expected .png, .svg, .pdf).")
    assert not (tmp_path / name).exists()


def test_a_plot_without_matplotlib_fails_before_fitting(seed_csv: Path, tmp_path: Path, no_fit: None,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    code, _, err = run(["fit", str(seed_csv), "--clusters", "cluster", "--type", "ml_ggm",
                        "--plot", str(tmp_path / "net.png")], capsys)
    assert code == 2
    assert_one_error_line(err, 'Plotting needs matplotlib: pip install "psychonetrics[plot]"')


@pytest.mark.parametrize(("name", "content", "message"), [
    ("seed.parquet", b"PAR1 but not really", "`path`: '{path}' could not be read as a Parquet file ("),
    ("seed.csv", b"y1,cluster\n1,\xff\xfe\n", "`path`: '{path}' could not be read as a CSV file ("),
    ("seed.json", b"{}", "`path`: cannot tell the format of 'seed.json' from its extension '.json' (expected one of"),
])
def test_an_unreadable_data_file_is_one_line(name: str, content: bytes, message: str, tmp_path: Path, no_fit: None,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    code, out, err = run(["fit", str(path), "--clusters", "cluster", "--model", SYNTAX], capsys)
    assert code == 2
    assert_one_error_line(err, message.format(path=path))
    assert out == ""


def test_a_directory_as_data_is_one_line(tmp_path: Path, no_fit: None, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["fit", str(tmp_path), "--clusters", "cluster", "--type", "ml_ggm"], capsys)
    assert code == 2
    assert_one_error_line(err, f"`path`: '{tmp_path}' is a directory (expected a data file).")


def test_a_missing_reader_library_is_one_line(tmp_path: Path, no_fit: None, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "seed.xlsx"
    path.write_bytes(b"an Excel file, as far as the extension says")
    monkeypatch.setitem(sys.modules, "openpyxl", None)
    code, _, err = run(["fit", str(path), "--clusters", "cluster", "--model", SYNTAX], capsys)
    assert code == 2
    assert_one_error_line(err, 'Reading .xlsx files needs openpyxl: pip install "psychonetrics[excel]"')


def test_a_typeerror_of_the_library_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = pn.datasets.seed_example().assign(name="pupil")
    data.to_csv(tmp_path / "named.csv", index=False)
    code, _, err = run(["fit", str(tmp_path / "named.csv"), "--clusters", "cluster", "--type", "ml_ggm"], capsys)
    assert code == 2
    assert_one_error_line(err, "`data`: variable(s) 'name' are not numeric")


def test_the_model_is_required_for_latent_variable_models(seed_csv: Path, no_fit: None,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["fit", str(seed_csv), "--clusters", "cluster", "--type", "ml_lnm"], capsys)
    assert code == 2
    assert_one_error_line(err, "--model is required for latent variable models")


def test_ctrl_c_exits_130_with_one_line(seed_csv: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted(self: pn.Model, **kwargs: object) -> pn.Model:
        raise KeyboardInterrupt

    monkeypatch.setattr(pn.Model, "runmodel", interrupted)
    code, out, err = run(["fit", str(seed_csv), "--clusters", "cluster", "--model", SYNTAX], capsys)
    assert code == 130
    assert err == "psychonetrics: error: interrupted\n"
    assert out == ""


def test_a_closed_pipe_ends_quietly_in_process(monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    class ClosedPipe:
        """A stdout whose reader has gone: every write or flush raises EPIPE."""

        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self) -> None:
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    assert main(["demo"]) == 1
    monkeypatch.undo()
    assert capsys.readouterr().err == ""


def _shell(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, shell=True, cwd=cwd, capture_output=True, text=True, timeout=300,
                          executable="/bin/bash")


@pytest.mark.parametrize("reader", ["head -1", "true"])
def test_a_closed_pipe_ends_quietly(reader: str, seed_csv: Path, tmp_path: Path) -> None:
    command = (f"{shlex.quote(sys.executable)} -m psychonetrics fit {shlex.quote(str(seed_csv))} "
               f"--clusters cluster --model {shlex.quote(SYNTAX)} | {reader}; exit ${{PIPESTATUS[0]}}")
    result = _shell(command, tmp_path)
    assert "Traceback" not in result.stderr
    assert "BrokenPipeError" not in result.stderr and "Exception ignored" not in result.stderr
    assert result.stderr == ""
    assert result.returncode in (0, 1)  # 1 when the write found the pipe closed, as Python's docs do
    if reader == "head -1":
        assert result.stdout == "psychonetrics ml_lvm model (family ml_lvm)\n"


# --------------------------------------------------------------------------- model files, separators, warnings
@pytest.mark.parametrize("value", ["nothere.txt", "two_factors.lav", "my.model", "models/two_factors"])
def test_a_missing_model_file_is_reported_as_such(value: str, seed_csv: Path, no_fit: None,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["fit", str(seed_csv), "--clusters", "cluster", "--model", value], capsys)
    assert code == 2
    assert_one_error_line(err, f"`--model`: file {value!r} not found in ")
    assert "`lambda_`" not in err and out == ""


def test_a_model_file_in_the_home_folder_is_read(seed_csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 api_model: pn.Model, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "model.lav").write_text(SYNTAX)
    code, out, err = run(["fit", str(seed_csv), "--clusters", "cluster", "--model", "~/model.lav"], capsys)
    assert code == 0, err
    assert f"{api_model.fit()['chisq']:.3f}" in out


@pytest.mark.parametrize(("sep", "decimal", "suggested"), [
    (";", ",", "--sep ';', with --decimal ',' for decimal commas"),
    (";", ".", "--sep ';', with --decimal ','"),
    ("\t", ".", "--sep '\\t'"),
])
def test_a_file_with_another_separator_suggests_it(sep: str, decimal: str, suggested: str, tmp_path: Path,
                                                   no_fit: None, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "seed_eu.csv"
    pn.datasets.seed_example().to_csv(path, sep=sep, decimal=decimal, index=False)
    code, _, err = run(["fit", str(path), "--clusters", "cluster", "--type", "ml_ggm"], capsys)
    assert code == 2
    assert_one_error_line(err, f"`--sep`: 'seed_eu.csv' looks {sep!r}-separated: its header is one column when "
                               f"split at ',' (expected {suggested}")


@pytest.mark.parametrize("sep", ["\\t", "tab"])
def test_a_tab_given_as_the_shell_passes_it(sep: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "seed.csv"
    pn.datasets.seed_example().to_csv(path, sep="\t", index=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # a pandas ParserWarning would be recorded or printed
        code, out, err = run(["fit", str(path), "--sep", sep, "--clusters", "cluster", "--type", "ml_ggm"], capsys)
    assert code == 0, err
    assert err == "" and [str(w.message) for w in caught] == []
    assert "omega_within:" in out


def test_warnings_print_as_one_line_each(seed_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    few = tmp_path / "few.csv"
    data = pn.datasets.seed_example()
    data[data["cluster"] <= 8].to_csv(few, index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        code, out, err = run(["fit", str(few), "--clusters", "cluster", "--type", "ml_varcov"], capsys)
    assert code == 0
    lines = err.splitlines()
    assert lines[0] == ("psychonetrics: warning: `data`: 8 clusters for a between level whose saturated model has 27 "
                        "parameters; between-level estimates and the chi-square are unreliable.")
    assert all(line.startswith("psychonetrics: warning: ") for line in lines)  # no file, line or class of Python's
    assert "Warning:" not in err and ".py:" not in err
    assert "psychonetrics ml_varcov model" in out


def test_cluster_level_variables_of_a_network(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Messages suggest the command line's options, and the options exist."""
    path = tmp_path / "schools.csv"
    pn.datasets.demo_twolevel().to_csv(path, index=False)
    base = ["fit", str(path), "--clusters", "cluster", "--type", "ml_ggm", "--json"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code, _, err = run(base, capsys)
    assert code == 2
    assert "(`--between-only` or naming them only on level 2" in err and "between_only" not in err
    code, out, err = run([*base, "--between-only", "w1,w2", "--within-only", "x1,x2,x3"], capsys)
    assert code == 0, err
    between = np.asarray(json.loads(out)["matrices"]["omega_between"])
    within = np.asarray(json.loads(out)["matrices"]["omega_within"])
    assert between.shape == (8, 8) and within.shape == (9, 9)  # y1..y6 with w1, w2 / with x1..x3
    code, _, err = run(["fit", str(path), "--clusters", "cluster", "--model", SYNTAX, "--between-only", "w1"], capsys)
    assert code == 2
    assert_one_error_line(err, "`--within-only` / `--between-only`: apply to --type ml_ggm and ml_varcov")


def test_free_covariates_of_a_level_specific_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "schools.csv"
    pn.datasets.demo_twolevel().to_csv(path, index=False)
    syntax = "level: 1; fw =~ y1 + y2 + y3; fw ~ x1 + x2 + x3; level: 2; fb =~ y1 + y2 + y3; fb ~ w1 + w2"
    code, _, err = run(["fit", str(path), "--clusters", "cluster", "--type", "ml_lnm", "--model", syntax], capsys)
    assert code == 2
    assert "needs a 'cov' block (--type ml_lvm or ml_rnm) or --free-x." in err
    assert "fixed_x=" not in err and "_latent=" not in err
    code, out, err = run(["fit", str(path), "--clusters", "cluster", "--model", syntax, "--free-x", "--json"], capsys)
    assert code == 0, err
    free = pn.ml_lvm(pn.datasets.demo_twolevel(), syntax.replace("; ", "\n"), clusters="cluster", fixed_x=False)
    assert json.loads(out)["fit"]["npar"] == free.runmodel().npar


# --------------------------------------------------------------------------- the help shown in docs/cli.md
DOCS_CLI = Path(__file__).resolve().parents[1] / "docs" / "cli.md"


@pytest.mark.parametrize("command", ["fit", "demo"])
def test_docs_show_the_help_verbatim(command: str, capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # the help has its own width, whatever the terminal
    monkeypatch.setenv("NO_COLOR", "1")
    code, out, err = run([command, "--help"], capsys)
    assert code == 0, err
    prompt = f"$ psychonetrics {command} --help\n"
    blocks = [b for b in re.findall(r"^```text\n(.*?)^```$", DOCS_CLI.read_text(), re.S | re.M) if b.startswith(prompt)]
    assert len(blocks) == 1, f"docs/cli.md has no (or several) ```text blocks starting with {prompt!r}"
    assert blocks[0][len(prompt):] == out, (
        f"docs/cli.md shows an outdated `psychonetrics {command} --help` (refresh it with `python docs/update_cli_help.py`):\n{out}")


def test_docs_list_every_exit_status() -> None:
    from psychonetrics import cli

    text = DOCS_CLI.read_text()
    for status in (0, cli.EXIT_BROKEN_PIPE, cli.EXIT_ERROR, cli.EXIT_INTERRUPTED):
        assert f"\n| {status} | " in text


# --------------------------------------------------------------------------- import cost
def _loaded_after(statement: str) -> list[str]:
    code = (f"import sys; {statement}; "
            f"print(sorted(m for m in sys.modules if m.startswith({HEAVY!r})))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return ast.literal_eval(result.stdout)


def test_import_loads_no_heavy_library() -> None:
    assert _loaded_after("import psychonetrics") == []


def test_the_model_functions_load_neither_scipy_stats_nor_the_optional_engines() -> None:
    loaded = _loaded_after("import psychonetrics; psychonetrics.ml_lvm; psychonetrics.Model")
    assert [m for m in loaded if m.startswith(("scipy.stats", "scipy.optimize", *HEAVY[1:]))] == []


def test_every_public_name_is_exported_lazily() -> None:
    listed = dir(pn)
    for name in pn.__all__:
        assert name in listed
        assert getattr(pn, name) is not None
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        pn.nope  # noqa: B018
    namespace: dict[str, object] = {}
    exec("from psychonetrics import *", namespace)  # noqa: S102
    assert namespace["ml_lvm"] is pn.ml_lvm and namespace["read_table"] is pn.read_table
