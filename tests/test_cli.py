"""The command line: ``psychonetrics demo`` and ``psychonetrics fit`` (through ``cli.main``)."""

from __future__ import annotations

import json
import sys
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


def test_latent_network_with_a_plot(seed_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib")
    png = tmp_path / "out.png"
    code, out, err = run(["fit", str(seed_csv), "--clusters", "cluster", "--model", SYNTAX,
                          "--type", "ml_lnm", "--plot", str(png)], capsys)
    assert code == 0, err
    assert "ml_lnm" in out and "omega_zeta_within:" in out
    assert png.stat().st_size > 1000
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
