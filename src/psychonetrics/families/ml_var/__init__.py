"""The multilevel VAR(1) of experience-sampling data on lag pairs (``ml_var``, ``ml_gvar``)."""

from .family import MlVar, partial_directed_correlations

__all__ = ["MlVar", "partial_directed_correlations"]
