"""Benchmark: cluster-bootstrap refits, per number of processes.

Run from the project root::

    python bench/bench_bootstrap.py               # 1000 refits with 1 process and with every core
    python bench/bench_bootstrap.py --n-boot 200  # a quicker look
    python bench/bench_bootstrap.py --network     # also the seed example's ml_ggm with prune on every replicate

Cases and their targets for 1000 refits: the seed example's two-factor model
(10 s); bhr2000's 6-item ml_ggm (99 companies, a between network near its
boundary; 20 s on every core), and the same with ``search="prune"`` on every
replicate (60 s).  Times are wall-clock seconds of whole ``pn.bootstrap`` calls
(worker start-up included; the sample fit is not); ``vs_target`` is the time
over the target scaled to 1000 refits (below 1 meets it).  ``cpu_load`` is the
1-minute load average before each run: other work on the machine slows the
parallel runs most; ``cpu_s`` (CPU seconds of this process and its workers) does
not depend on it, and ``cpu_s / 1000 refits`` over the cores is the time on an
idle machine.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
import warnings
from pathlib import Path

import pandas as pd

import psychonetrics as pn
from psychonetrics._pool import default_jobs

SYNTAX = "F1 =~ y1 + y2 + y3; F2 =~ y4 + y5 + y6"
BHR2000 = Path(__file__).resolve().parent.parent / "tests" / "data" / "bhr2000.csv"
BHR_ITEMS = ["AF06", "AF07", "AP12", "AP17", "AS14", "AS15"]


def _load() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:  # pragma: no cover - not on every platform
        return float("nan")


def _cpu_seconds() -> float:
    """CPU time of this process and of its finished child processes (the bootstrap's workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def run(model: pn.Model, *, n_boot: int, jobs: int, target: float, case: str,
        search: str | None = None) -> dict[str, object]:
    load = _load()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cpu0 = _cpu_seconds()
        t0 = time.perf_counter()
        result = pn.bootstrap(model, n_boot=n_boot, seed=1, jobs=jobs, search=search, progress=False)
        seconds = time.perf_counter() - t0
        cpu = _cpu_seconds() - cpu0
    return {
        "case": case,
        "model": model.wrapper + (f" + {search}" if search else ""),
        "n_boot": n_boot,
        "jobs": jobs,
        "seconds": round(seconds, 2),
        "cpu_s": round(cpu, 2),
        "refits/s": round(n_boot / seconds, 1),
        "target_s": target,
        "vs_target": round(seconds * 1000 / n_boot / target, 2),
        "failed": result.n_failed,
        "cpu_load": round(load, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-boot", type=int, default=1000)
    parser.add_argument("--network", action="store_true", help="also the seed example's ml_ggm with prune")
    args = parser.parse_args()
    cores = default_jobs()
    jobs_list = [1] if cores == 1 else [1, cores]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        seed = pn.datasets.seed_example()
        model = pn.ml_lvm(seed, SYNTAX, clusters="cluster").runmodel()
        bhr = pd.read_csv(BHR2000)
        ggm = pn.ml_ggm(bhr, vars=BHR_ITEMS, clusters="company").runmodel()
    rows = [run(model, n_boot=args.n_boot, jobs=jobs, target=10.0, case="seed example") for jobs in jobs_list]
    rows += [run(ggm, n_boot=args.n_boot, jobs=cores, target=20.0, case="bhr2000 6 items")]
    rows += [run(ggm, n_boot=args.n_boot, jobs=cores, target=60.0, case="bhr2000 6 items", search="prune")]
    if args.network:
        seed_ggm = pn.ml_ggm(seed, clusters="cluster").runmodel()
        n = max(1, args.n_boot // 10)
        rows += [run(seed_ggm, n_boot=n, jobs=jobs, target=100.0, case="seed example", search="prune")
                 for jobs in jobs_list]
    print(f"cluster bootstrap, {cores} core(s): the seed example (J = 60, N = 600) and bhr2000 (J = 99, N = 5400)")
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
