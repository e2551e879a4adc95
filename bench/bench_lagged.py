"""Lag-pair benchmark: two-level statistics of the lag pairs of ESM data, out of core (DuckDB) and in memory.

Simulates ``--persons`` persons x ``--beeps`` beeps (``--days`` days of
``beeps / days`` beeps) x ``--items`` items from a multilevel VAR(1) (person
intercepts, a temporal matrix, correlated innovations), drops about
``--missing`` of the beeps (absent rows, so that gaps break pairs), and writes
the rows once to a Parquet file in a temporary directory.  Then it times

* ``lag_pair_stats`` of the Parquet file (DuckDB: ``LAG`` over each person's day, then the statistics),
* ``lag_pairs`` and ``lag_pair_stats`` (pandas + numpy) of the first ``--pandas-persons`` persons, loaded
  into a DataFrame, and DuckDB on the same persons,

and prints a table, with the largest difference between the statistics of the two engines on the small
data and whether their reports agree.

Usage::

    python bench/bench_lagged.py                      # 10,000 persons x 100 beeps x 10 items
    python bench/bench_lagged.py --persons 2000 --pandas-persons 500
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np


def _ensure_package() -> None:
    """Import ``psychonetrics`` from the source checkout this script lives in (``src/`` beside ``bench/``)."""
    src = Path(__file__).resolve().parents[1] / "src"
    if (src / "psychonetrics").is_dir() and str(src) not in sys.path:
        sys.path.insert(0, str(src))


def write_parquet(path: Path, *, persons: int, beeps: int, days: int, items: int, missing: float, seed: int,
                  chunk: int = 2000) -> int:
    """Multilevel VAR(1) data, long format (id, day, beep, y1..), written chunk by chunk; returns the rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    per_day = beeps // days
    beta = 0.3 * np.eye(items) + 0.05 * rng.normal(size=(items, items))
    innovation = np.linalg.cholesky(0.5 * np.eye(items) + 0.5 / items * np.ones((items, items)))
    names = [f"y{k + 1}" for k in range(items)]
    schema = pa.schema([("id", pa.int64()), ("day", pa.int64()), ("beep", pa.int64())]
                       + [(n, pa.float64()) for n in names])
    total = 0
    with pq.ParquetWriter(path, schema) as writer:
        for first in range(0, persons, chunk):
            m = min(chunk, persons - first)
            mu = rng.normal(size=(m, items))
            y = np.empty((m, days * per_day, items))
            state = rng.normal(size=(m, items))
            for t in range(days * per_day):
                state = state @ beta.T + rng.normal(size=(m, items)) @ innovation.T
                y[:, t] = mu + state
            keep = rng.random((m, days * per_day)) >= missing
            person, occasion = np.nonzero(keep)
            columns = {
                "id": first + person,
                "day": occasion // per_day + 1,
                "beep": occasion % per_day + 1,
                **{n: y[person, occasion, k] for k, n in enumerate(names)},
            }
            writer.write_table(pa.table(columns, schema=schema))
            total += person.size
    return total


def max_relative_difference(a, b) -> float:  # type: ignore[no-untyped-def]
    worst = 0.0
    for x, y in ((a.within_cov, b.within_cov), (a.size_means, b.size_means), (a.size_covs, b.size_covs)):
        scale = max(float(np.abs(y).max()), 1e-300)
        worst = max(worst, float(np.abs(x - y).max()) / scale)
    return worst


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=10_000)
    parser.add_argument("--beeps", type=int, default=100)
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--items", type=int, default=10)
    parser.add_argument("--missing", type=float, default=0.05, help="share of beeps absent")
    parser.add_argument("--pandas-persons", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)
    _ensure_package()
    import pandas as pd

    from psychonetrics.data.lagged import lag_pair_stats, lag_pairs

    folder = Path(tempfile.mkdtemp(prefix="bench_lagged_"))
    keys = {"idvar": "id", "dayvar": "day", "beepvar": "beep"}
    try:
        path = folder / "esm.parquet"
        start = time.perf_counter()
        rows = write_parquet(path, persons=args.persons, beeps=args.beeps, days=args.days, items=args.items,
                             missing=args.missing, seed=args.seed)
        seconds_write = time.perf_counter() - start
        table = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # dropped persons and the like: counted in the report
            start = time.perf_counter()
            stats, report = lag_pair_stats(path, **keys)
            table.append(("DuckDB lag_pair_stats (Parquet)", args.persons, rows, report.n_pairs,
                          time.perf_counter() - start))
            small = pd.read_parquet(path, filters=[("id", "<", args.pandas_persons)])
            start = time.perf_counter()
            pairs, small_report = lag_pairs(small, **keys)
            seconds_pairs = time.perf_counter() - start
            table.append(("pandas lag_pairs", args.pandas_persons, len(small), small_report.n_pairs, seconds_pairs))
            start = time.perf_counter()
            in_memory, again = lag_pair_stats(small, **keys)
            table.append(("pandas lag_pair_stats (pairs + numpy)", args.pandas_persons, len(small), again.n_pairs,
                          time.perf_counter() - start))
            start = time.perf_counter()
            duck_small, duck_report = lag_pair_stats(_relation(small), **keys)
            table.append(("DuckDB lag_pair_stats (same DataFrame)", args.pandas_persons, len(small),
                          duck_report.n_pairs, time.perf_counter() - start))
        print(f"data: {args.persons} persons x {args.beeps} beeps ({args.days} days) x {args.items} items, "
              f"{args.missing:.0%} of beeps absent: {rows} rows, Parquet written in {seconds_write:.1f} s")
        print(f"{'step':<42}{'persons':>9}{'rows':>10}{'pairs':>10}{'seconds':>9}")
        for step, n_persons, n_rows, n_pairs, seconds in table:
            print(f"{step:<42}{n_persons:>9}{n_rows:>10}{n_pairs:>10}{seconds:>9.2f}")
        print(f"large file: {report.n_persons} persons kept, {report.n_gap_breaks} gap breaks, "
              f"{report.n_day_breaks} day breaks")
        difference = max_relative_difference(in_memory[0], duck_small[0])
        print(f"pandas vs DuckDB on {args.pandas_persons} persons: reports equal {again == duck_report}, "
              f"largest relative difference of the statistics {difference:.1e}")
    finally:
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


def _relation(frame):  # type: ignore[no-untyped-def]
    import duckdb

    return duckdb.connect().from_df(frame)


if __name__ == "__main__":
    main()
