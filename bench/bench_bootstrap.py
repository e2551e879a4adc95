"""Benchmark: cluster-bootstrap refits of the seed example, per number of processes.

Run from the project root::

    python bench/bench_bootstrap.py               # 1000 refits with 1 process and with every core
    python bench/bench_bootstrap.py --n-boot 200  # a quicker look
    python bench/bench_bootstrap.py --network     # also the ml_ggm network with prune on every replicate

Times are wall-clock seconds of whole ``pn.bootstrap`` calls (worker start-up
included; the sample fit is not).  The target is 1000 refits of the seed
example's two-factor model within 10 seconds; ``vs_target`` is the time over
the target scaled to 1000 refits (below 1 meets it).  ``cpu_load`` is the
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

import pandas as pd

import psychonetrics as pn
from psychonetrics.search.parallel import default_jobs

SYNTAX = "F1 =~ y1 + y2 + y3; F2 =~ y4 + y5 + y6"
TARGET_SECONDS = 10.0  # for 1000 refits of the seed example


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


def run(model: pn.Model, *, n_boot: int, jobs: int, search: str | None = None) -> dict[str, object]:
    load = _load()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cpu0 = _cpu_seconds()
        t0 = time.perf_counter()
        result = pn.bootstrap(model, n_boot=n_boot, seed=1, jobs=jobs, search=search, progress=False)
        seconds = time.perf_counter() - t0
        cpu = _cpu_seconds() - cpu0
    return {
        "model": model.wrapper + (f" + {search}" if search else ""),
        "n_boot": n_boot,
        "jobs": jobs,
        "seconds": round(seconds, 2),
        "cpu_s": round(cpu, 2),
        "refits/s": round(n_boot / seconds, 1),
        "vs_target": round(seconds * 1000 / n_boot / TARGET_SECONDS, 2),
        "failed": result.n_failed,
        "cpu_load": round(load, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-boot", type=int, default=1000)
    parser.add_argument("--network", action="store_true", help="also bootstrap ml_ggm with prune")
    args = parser.parse_args()
    data = pn.datasets.seed_example()
    model = pn.ml_lvm(data, SYNTAX, clusters="cluster").runmodel()
    cores = default_jobs()
    jobs_list = [1] if cores == 1 else [1, cores]
    rows = [run(model, n_boot=args.n_boot, jobs=jobs) for jobs in jobs_list]
    if args.network:
        ggm = pn.ml_ggm(data, clusters="cluster").runmodel()
        n = max(1, args.n_boot // 10)
        rows += [run(ggm, n_boot=n, jobs=jobs, search="prune") for jobs in jobs_list]
    print(f"cluster bootstrap of the seed example (J = 60, N = 600), {cores} core(s)")
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
