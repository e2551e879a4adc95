"""The two-level model of the observed variables themselves (``ml_varcov``, ``ml_ggm``)."""

from .family import MlVarcov

__all__ = ["MlVarcov"]
