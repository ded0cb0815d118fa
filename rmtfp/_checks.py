"""Argument checks shared by the whole package.

Bad input raises ``ValueError`` naming the argument, the value and what is
allowed (house style, habit 3).  Every module checks its arguments with
these, so the same kind of argument is refused the same way everywhere.
"""

from __future__ import annotations

import math
import numbers

import mpmath

__all__ = ["int_at_least", "positive_real", "positive_or_mpf", "open_fraction"]


def int_at_least(name: str, value, minimum: int, *, integral_floats: bool = False) -> int:
    """``value`` as an ``int`` >= ``minimum``.

    Booleans are refused; with ``integral_floats`` a real number that is a
    whole number (``3.0``) is accepted as that integer.
    """
    if integral_floats and isinstance(value, numbers.Real) and not isinstance(value, (bool, numbers.Integral)) \
            and float(value).is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def positive_real(name: str, value, allow_zero: bool = False) -> float:
    """``value`` as a finite ``float`` > 0 (>= 0 with ``allow_zero``); booleans and non-numbers are refused."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0 or (value == 0 and not allow_zero):
        allowed = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be finite and {allowed}, got {value!r}")
    return float(value)


def positive_or_mpf(name: str, value, allow_zero: bool = False):
    """Like :func:`positive_real` for anything ``float()`` reads; an ``mpmath.mpf`` keeps its precision."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive real number, got {value!r}") from None
    if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        allowed = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be finite and {allowed}, got {value!r}")
    return value if isinstance(value, mpmath.mpf) else v


def open_fraction(name: str, value) -> float:
    """``value`` as a ``float`` in the open interval (0, 1) (a confidence level)."""
    if not (isinstance(value, numbers.Real) and not isinstance(value, bool) and 0 < value < 1):
        raise ValueError(f"{name} must be a number in (0, 1), got {value!r}")
    return float(value)
