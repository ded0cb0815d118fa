"""Fixed points, basins of attraction, stability and contraction of networks R^n -> R^n."""

from __future__ import annotations

from .contraction import contraction_constant, lipschitz_bound
from .fixed_points import Cycle, FixedPointResult, Stability, find_all_fixed_points, find_fixed_points
from .network import Network
from .starts import grid, random_starts

__all__ = [
    "Network",
    "grid",
    "random_starts",
    "find_fixed_points",
    "find_all_fixed_points",
    "FixedPointResult",
    "Cycle",
    "Stability",
    "contraction_constant",
    "lipschitz_bound",
]
