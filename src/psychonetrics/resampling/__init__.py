"""Resampling inference: the cluster bootstrap of two-level models and the stability of their networks.

* :mod:`.resample`: a bootstrap sample's statistics from per-cluster sums.
* :mod:`.replicate`: one replicate (resample, refit, search) and running many on every core.
* :mod:`.run`: :func:`bootstrap`, the public entry point.
* :mod:`.result`: :class:`BootstrapResult` (SEs, percentile intervals, edge stability).
"""

from .result import BootstrapResult, Failure
from .run import bootstrap

__all__ = ["BootstrapResult", "Failure", "bootstrap"]
