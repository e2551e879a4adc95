"""Model families: implied moments and their Jacobians."""

from ..moments import Moments, n_moments
from .base import Family
from .ml_lvm import MlLvm
from .ml_varcov import MlVarcov

__all__ = ["Family", "Moments", "n_moments", "MlLvm", "MlVarcov"]
