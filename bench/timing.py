"""The timing every benchmark script uses: the median wall time of repeated calls."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_time(fn: Callable[[], object], repeat: int, *, warm: bool = False) -> float:
    """Median seconds of ``repeat`` calls of ``fn`` (after one untimed call when ``warm``)."""
    if warm:
        fn()  # imports and caches
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)
