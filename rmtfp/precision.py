"""Precision policy: scoped mpmath precision and argument checks for ``dps``.

Precision is never set globally: every arbitrary-precision computation runs
inside :func:`workdps`, which adds guard digits and restores mpmath's context
on exit.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

import mpmath

__all__ = ["DPS_MIN", "DPS_MAX", "GUARD_DIGITS", "check_dps", "workdps", "round_to"]

DPS_MIN = 15
DPS_MAX = 1000
GUARD_DIGITS = 10


def check_dps(dps: object) -> int | None:
    """Validate ``dps`` (``None`` means float64)."""
    if dps is None:
        return None
    if isinstance(dps, bool) or not isinstance(dps, (int,)) and not (
        hasattr(dps, "__index__")
    ):
        raise ValueError(f"dps must be an integer in [{DPS_MIN}, {DPS_MAX}] or None, got {dps!r}")
    dps = int(dps)  # type: ignore[arg-type]
    if not DPS_MIN <= dps <= DPS_MAX:
        raise ValueError(f"dps must be an integer in [{DPS_MIN}, {DPS_MAX}] or None, got {dps}")
    return dps


@contextlib.contextmanager
def workdps(dps: int, guard: int = GUARD_DIGITS) -> Iterator[None]:
    """Run the enclosed block at ``dps + guard`` decimal digits."""
    with mpmath.workdps(dps + guard):
        yield


def round_to(value, dps: int):
    """Round an mpmath number, or every element of an object array/list, to ``dps`` digits."""
    import numpy as np

    with mpmath.workdps(dps):
        if isinstance(value, np.ndarray):
            out = np.empty(value.shape, dtype=object)
            out.flat[:] = [+v for v in value.flat]
            return out
        if isinstance(value, (list, tuple)):
            return type(value)(+v for v in value)
        return +value
