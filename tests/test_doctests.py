"""The docstring examples of the package run as doctests, and every public function has one."""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil
import warnings

import pytest

import psychonetrics as pn

OPTIONS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _modules() -> list[str]:
    names = ["psychonetrics"]
    for info in pkgutil.walk_packages(pn.__path__, prefix="psychonetrics."):
        if info.name.endswith("__main__"):
            continue
        names.append(info.name)
    return sorted(names)


def _has_examples(name: str) -> bool:
    try:
        module = importlib.import_module(name)
    except ImportError:  # an optional dependency (pyspark, duckdb) is missing
        return False
    finder = doctest.DocTestFinder(exclude_empty=True)
    return any(t.examples for t in finder.find(module, name))


MODULES = [m for m in _modules() if _has_examples(m)]


@pytest.mark.parametrize("name", MODULES)
def test_module_doctests(name: str, tmp_path, monkeypatch) -> None:
    # report.network draws figures
    pytest.importorskip("matplotlib", reason="matplotlib is not installed (the test extra has it)")
    if name in ("psychonetrics.data.engines", "psychonetrics.data.lagged"):
        # their examples read a Parquet file
        pytest.importorskip("duckdb", reason="duckdb is not installed (the test extra has it)")
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    module = importlib.import_module(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = doctest.testmod(module, optionflags=OPTIONS, report=False, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} doctest examples failed in {name}"


def _public_callables() -> list[str]:
    out = []
    for name in pn.__all__:
        obj = getattr(pn, name)
        if inspect.isfunction(obj) or (inspect.isclass(obj) and not issubclass(obj, (Warning, Exception))):
            out.append(name)
    return out


@pytest.mark.parametrize("name", _public_callables())
def test_public_api_has_numpydoc_examples(name: str) -> None:
    doc = inspect.getdoc(getattr(pn, name)) or ""
    assert "Examples\n--------" in doc, f"pn.{name} has no numpydoc 'Examples' section"
    assert ">>> " in doc.split("Examples\n--------", 1)[1], f"pn.{name}: its Examples section has no example"
    if inspect.isfunction(getattr(pn, name)):
        assert "Returns\n-------" in doc, f"pn.{name} has no numpydoc 'Returns' section"


def test_seed_example_dataset_is_documented() -> None:
    doc = inspect.getdoc(pn.datasets.seed_example) or ""
    assert "Examples\n--------" in doc
