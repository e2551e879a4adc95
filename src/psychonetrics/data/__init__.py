"""Data stage: raw data -> two-level sufficient statistics."""

from .stats import TwoLevelStats, UnitData, stats_from_cluster_sums

__all__ = ["TwoLevelStats", "UnitData", "stats_from_cluster_sums"]
