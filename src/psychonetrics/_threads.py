"""BLAS threads for the small matrix products of a fit.

A fit multiplies many small matrices (p x p, and at most a few hundred by a
few thousand).  With several BLAS threads, each product pays for waking and
synchronizing threads, and when another process is busy on the same cores
the threads wait for each other: measured here, a fit ran up to 150 times
slower with multithreaded BLAS on a loaded 2-core machine, and even on an
idle one the single-threaded fit was faster at every size up to p = 100.
Fits therefore run with one BLAS thread; parallel work (model searches,
the bootstrap) uses processes instead.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from functools import cache


@cache
def _controller() -> object | None:
    """The BLAS libraries of this process (numpy's and scipy's), found once: looking them up takes
    milliseconds, switching their thread count microseconds."""
    try:
        import scipy.linalg  # noqa: F401  (loads scipy's BLAS, used for the information products)
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        return None
    return ThreadpoolController()


def single_threaded_blas() -> AbstractContextManager[object]:
    """A context in which BLAS uses one thread (no-op when threadpoolctl is unavailable)."""
    controller = _controller()
    if controller is None:  # pragma: no cover
        return nullcontext()
    return controller.limit(limits=1, user_api="blas")  # type: ignore[attr-defined]
