"""Scale benchmark: two-level statistics out of core (DuckDB) and in memory (numpy).

Builds, in a temporary directory, a Parquet file of ``--rows`` rows x 10
variables in ``--clusters`` clusters (two-level two-factor data, written in
chunks so that generation itself needs little memory), and a smaller file of
``--memory-rows`` rows.  Then, each in a fresh child process so that peak
memory is that of the engine alone, it times

* DuckDB statistics of the large file (streamed: memory does not grow with rows),
* DuckDB statistics of the small file,
* numpy statistics of the small file loaded into a pandas DataFrame
  (``frame_to_stats``; peak memory includes the loaded data),
* optionally (``--spark``) Spark local mode on the large file (time only: the
  JVM's memory is set by ``spark.driver.memory``, not measured here),

and prints a table.  Statistics of the two engines on the small file are
compared (maximum relative difference).

Usage::

    python bench/bench_scale.py                        # 20M rows, 100k clusters
    python bench/bench_scale.py --rows 2000000 --clusters 10000

The temporary directory is removed at the end unless ``--keep`` is given.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

P = 10
#: Loadings pattern of the model fitted by :func:`fit_from_stats` (2 factors x 5 indicators).
LAMBDA_PATTERN = [[1, 0]] * 5 + [[0, 1]] * 5


def _ensure_package() -> None:
    """Import ``psychonetrics`` from the source checkout this script lives in (``src/`` beside ``bench/``)."""
    src = Path(__file__).resolve().parents[1] / "src"
    if (src / "psychonetrics").is_dir() and str(src) not in sys.path:
        sys.path.insert(0, str(src))


# --------------------------------------------------------------------------- model fitting hook
def fit_from_stats(stats):  # type: ignore[no-untyped-def]
    """Fit a two-factor ml_lvm (5 indicators per factor) from the statistics."""
    from psychonetrics import ml_lvm

    return ml_lvm(stats, lambda_=LAMBDA_PATTERN).runmodel()


# --------------------------------------------------------------------------- data
def cluster_sizes(rows: int, clusters: int, rng: np.random.Generator) -> np.ndarray:
    """Unequal cluster sizes (multinomial around rows/clusters), each >= 2, summing to ``rows``."""
    if rows < 2 * clusters:
        raise SystemExit("--rows must be at least twice --clusters")
    extra = rng.multinomial(rows - 2 * clusters, np.full(clusters, 1.0 / clusters))
    return (extra + 2).astype(np.int64)


def write_parquet(path: Path, rows: int, clusters: int, seed: int, chunk_rows: int = 1_000_000) -> None:
    """Two-level, two-factor data (cluster effect + unit noise) written chunk by chunk."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    sizes = cluster_sizes(rows, clusters, rng)
    lam = np.array(LAMBDA_PATTERN, dtype=float) * np.array([1.0, 0.9, 0.8, 0.7, 0.6] * 2)[:, None]
    nu = np.linspace(-1.0, 1.0, P)
    ends = np.cumsum(sizes)
    schema = pa.schema([(f"y{k + 1}", pa.float64()) for k in range(P)] + [("cluster", pa.int64())])
    with pq.ParquetWriter(path, schema) as writer:
        first = 0
        while first < clusters:
            start_row = ends[first] - sizes[first]
            last = int(np.searchsorted(ends, start_row + chunk_rows, side="right"))
            last = max(last, first + 1)
            n_j = sizes[first:last]
            ids = np.repeat(np.arange(first, last, dtype=np.int64), n_j)
            eta_b = rng.normal(0.0, 0.5, (last - first, 2))
            between = nu + eta_b @ lam.T + rng.normal(0.0, 0.3, (last - first, P))
            eta_w = rng.normal(0.0, 1.0, (ids.size, 2))
            y = between[ids - first] + eta_w @ lam.T + rng.normal(0.0, 0.7, (ids.size, P))
            arrays = [pa.array(y[:, k]) for k in range(P)] + [pa.array(ids)]
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
            first = last


# --------------------------------------------------------------------------- child processes
def _memory_mb(kind: str) -> float:
    """Current ("VmRSS") or peak ("VmHWM") resident memory of this process, MiB.

    Read from /proc where available: ``ru_maxrss`` of a freshly exec'd child
    starts at the parent's peak on Linux (it survives fork + exec), which
    would hide the engine's own footprint.  Elsewhere fall back to ``ru_maxrss``.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(kind + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 1024 if sys.platform != "darwin" else rss / 2**20


def _child(engine: str, path: str, out: str, threads: int | None, memory_limit: str | None) -> None:
    _ensure_package()
    from psychonetrics.data.engines import twolevel_stats

    before = _memory_mb("VmRSS")
    extra: dict[str, float] = {}
    start = time.perf_counter()
    if engine == "duckdb":
        import duckdb

        config: dict[str, object] = {}
        if threads:
            config["threads"] = threads
        if memory_limit:
            config["memory_limit"] = memory_limit
        con = duckdb.connect(config=config)
        before = _memory_mb("VmRSS")
        start = time.perf_counter()
        stats = twolevel_stats(path, clusters="cluster", connection=con)
    elif engine == "numpy":
        import pandas as pd

        before = _memory_mb("VmRSS")
        start = time.perf_counter()
        frame = pd.read_parquet(path)
        extra["load_s"] = time.perf_counter() - start
        start = time.perf_counter()
        stats = twolevel_stats(frame, clusters="cluster")
    elif engine == "spark":
        from pyspark.sql import SparkSession

        spark = (
            SparkSession.builder.master(f"local[{threads or 2}]")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "8")
            .config("spark.driver.memory", "4g")
            .getOrCreate()
        )
        spark.sparkContext.setLogLevel("ERROR")
        start = time.perf_counter()
        stats = twolevel_stats(spark.read.parquet(path), clusters="cluster")
        extra["seconds_total"] = time.perf_counter() - start
        spark.stop()
    else:
        raise SystemExit(f"unknown engine {engine!r}")
    seconds = extra.pop("seconds_total", time.perf_counter() - start)
    stats.save(out)
    print(json.dumps({"seconds": seconds, "peak_mb": _memory_mb("VmHWM"), "start_mb": before, **extra}))


def run_child(engine: str, path: Path, out: Path, threads: int | None, memory_limit: str | None) -> dict[str, float]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", engine, "--path", str(path), "--out", str(out)]
    if threads:
        cmd += ["--threads", str(threads)]
    if memory_limit:
        cmd += ["--memory-limit", memory_limit]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{engine} child failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def max_rel_diff(a, b) -> float:  # type: ignore[no-untyped-def]
    scale = np.abs(np.diag(b.within_cov)).max()
    d = [np.abs(a.within_cov - b.within_cov).max() / scale]
    for k in range(b.sizes.size):
        s = max(np.abs(b.size_covs[k]).max(), 1e-300)
        d.append(np.abs(a.size_covs[k] - b.size_covs[k]).max() / s)
    return float(max(d))


# --------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=20_000_000, help="rows of the large (out-of-core) file")
    ap.add_argument("--clusters", type=int, default=100_000, help="clusters of the large file")
    ap.add_argument("--memory-rows", type=int, default=2_000_000, help="rows of the in-memory comparison")
    ap.add_argument("--threads", type=int, default=None, help="DuckDB threads / Spark local cores")
    ap.add_argument("--memory-limit", default=None, help="DuckDB memory_limit, e.g. 256MB (default: 80%% of RAM)")
    ap.add_argument("--spark", action="store_true", help="also time Spark local mode on the large file")
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--path", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        _child(args.child, args.path, args.out, args.threads, args.memory_limit)
        return

    _ensure_package()
    from psychonetrics.data.stats import TwoLevelStats

    tmp = Path(tempfile.mkdtemp(prefix="psychonetrics-bench-"))
    try:
        small_clusters = max(2, round(args.clusters * args.memory_rows / args.rows))
        files = {"large": (tmp / "large.parquet", args.rows, args.clusters),
                 "small": (tmp / "small.parquet", args.memory_rows, small_clusters)}  # fmt: skip
        for name, (path, rows, clusters) in files.items():
            start = time.perf_counter()
            write_parquet(path, rows, clusters, seed=args.seed + len(name))
            size = path.stat().st_size / 2**20
            print(f"wrote {name}: {rows:,} rows x {P} vars, {clusters:,} clusters, "
                  f"{size:,.0f} MiB in {time.perf_counter() - start:.1f} s", flush=True)  # fmt: skip

        runs = [("duckdb", "large"), ("duckdb", "small"), ("numpy", "small")]
        if args.spark:
            runs.append(("spark", "large"))
        results = []
        stats = {}
        for engine, name in runs:
            path, rows, clusters = files[name]
            out = tmp / f"{engine}-{name}.json"
            r = run_child(engine, path, out, args.threads, args.memory_limit if engine == "duckdb" else None)
            stats[engine, name] = TwoLevelStats.load(out)
            results.append((engine, rows, clusters, r))
            print(f"  done {engine} on {rows:,} rows: {r['seconds']:.2f} s", flush=True)

        print()
        head = (
            f"{'engine':<8} {'rows':>12} {'clusters':>9} {'stats s':>8} {'Mrows/s':>8} "
            f"{'peak RSS MiB':>13} {'start MiB':>10}"
        )
        print(head)
        print("-" * len(head))
        for engine, rows, clusters, r in results:
            peak = f"{r['peak_mb']:.0f}" if engine != "spark" else "n/a (JVM)"
            note = f"   (+ {r['load_s']:.2f} s to load the DataFrame)" if "load_s" in r else ""
            print(f"{engine:<8} {rows:>12,} {clusters:>9,} {r['seconds']:>8.2f} {rows / r['seconds'] / 1e6:>8.2f} "
                  f"{peak:>13} {r['start_mb']:>10.0f}{note}")  # fmt: skip
        diff = max_rel_diff(stats["duckdb", "small"], stats["numpy", "small"])
        print(f"\nmax relative difference DuckDB vs numpy ({args.memory_rows:,} rows): {diff:.2e}")
        if ("spark", "large") in stats:
            diff = max_rel_diff(stats["spark", "large"], stats["duckdb", "large"])
            print(f"max relative difference Spark vs DuckDB ({args.rows:,} rows): {diff:.2e}")

        start = time.perf_counter()
        fit = fit_from_stats(stats["duckdb", "large"])
        if fit is None:
            print("model fit: skipped (psychonetrics.ml_lvm not available yet)")
        else:
            print(f"model fit from the statistics: {time.perf_counter() - start:.2f} s")
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
