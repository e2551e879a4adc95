"""psychonetrics: two-level latent variable and network models (the ml_lvm family)."""

from .data import TwoLevelStats

__version__ = "0.1.0"

__all__ = ["TwoLevelStats", "__version__"]
