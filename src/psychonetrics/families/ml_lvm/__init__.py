"""The two-level latent variable family (psychonetrics' ``ml_lvm`` and lavaan's level-specific models)."""

from .family import MlLvm

__all__ = ["MlLvm"]
