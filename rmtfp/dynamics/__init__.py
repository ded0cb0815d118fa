"""Fixed points, basins of attraction, stability and contraction of networks R^n -> R^n."""

from __future__ import annotations

__all__: list[str] = []
