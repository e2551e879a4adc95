"""Shared fixtures: the lavaan reference cases in ``tests/data/reference`` (see its README), a local Spark
session."""

from __future__ import annotations

import os
import shutil

import pytest

from support import COMPLETE_CASES, ReferenceCase, load_case  # noqa: E402  (shared with the tests)


@pytest.fixture(params=COMPLETE_CASES)
def complete_case(request) -> ReferenceCase:
    return load_case(request.param)


@pytest.fixture(scope="session")
def spark():  # type: ignore[no-untyped-def]
    """A local Spark session (one JVM for every test that needs it)."""
    pytest.importorskip("pyspark", reason="pyspark is not installed")
    if shutil.which("java") is None and "JAVA_HOME" not in os.environ:
        pytest.skip("Spark needs Java (no `java` on PATH and JAVA_HOME unset)")
    from pyspark.sql import SparkSession

    try:
        session = (
            SparkSession.builder.master("local[1]")
            .appName("psychonetrics-tests")
            .config("spark.sql.shuffle.partitions", "2")
            .config("spark.default.parallelism", "1")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.session.timeZone", "UTC")
            .getOrCreate()
        )
    except Exception as exc:  # pragma: no cover - depends on the machine
        pytest.skip(f"could not start a local Spark session: {exc}")
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):  # type: ignore[no-untyped-def]
    """With ``CI`` set, a skipped test fails: CI installs every optional dependency (and Java), so a skip
    there would hide a test that did not run."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped in CI (CI is set, so skips fail): {reason}"
