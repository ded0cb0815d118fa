"""One reading of ``rng`` for the functions that draw from a single generator."""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["generator"]


def generator(rng) -> np.random.Generator:
    """``numpy.random.default_rng`` for the accepted seeds, a clear error for anything else.

    Accepted: None (fresh entropy), a non-negative integer seed, a
    ``numpy.random.SeedSequence`` or a ``numpy.random.Generator`` (used as
    is, so it advances).
    """
    if rng is None or isinstance(rng, (np.random.Generator, np.random.SeedSequence)):
        return np.random.default_rng(rng)
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool) and rng >= 0:
        return np.random.default_rng(int(rng))
    raise ValueError(f"rng must be None, a non-negative integer seed, a SeedSequence or a numpy Generator, "
                     f"got {rng!r}")
