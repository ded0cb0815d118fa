"""Starting points for the fixed-point search: a regular grid or uniform random points."""

from __future__ import annotations

import math
import numbers

import numpy as np

from .._rng import generator

__all__ = ["grid", "random_starts"]

#: refuse grids larger than this many points (memory guard, ~ 1.6 GB at n = 2)
MAX_GRID_POINTS = 10**8


def _check_dim(dim) -> int:
    if isinstance(dim, bool) or not isinstance(dim, numbers.Integral) or dim < 1:
        raise ValueError(f"dim must be a positive integer, got {dim!r}")
    return int(dim)


def _box(bounds, dim: int) -> np.ndarray:
    """``bounds`` as a (dim, 2) array of [lo, hi] with lo < hi, both finite."""
    try:
        b = np.array(bounds, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"bounds must be (lo, hi) or one (lo, hi) per dimension, got {bounds!r}") from None
    if b.shape == (2,):
        b = np.tile(b, (dim, 1))
    if b.shape != (dim, 2):
        raise ValueError(f"bounds must be (lo, hi) or a ({dim}, 2) array of (lo, hi) per dimension, got {bounds!r}")
    if not np.all(np.isfinite(b)) or np.any(b[:, 0] >= b[:, 1]):
        raise ValueError(f"bounds must be finite with lo < hi, got {bounds!r}")
    return b


def grid(bounds=(-1, 1), step=0.05, dim: int = 2) -> np.ndarray:
    """The regular grid of starting points of the papers' eq. (7)/(4.1).

    Along each axis the points are lo + step j, j = 0, 1, ..., floor((hi - lo)/step)
    (computed as lo + step * j, not by accumulation; the floor tolerates a
    relative rounding error of 1e-9, so (-1, 1) with step 0.05 gives 41 points).
    The default is the papers' 41 x 41 grid on [-1, 1]^2.

    Parameters
    ----------
    bounds : (lo, hi) or sequence of ``dim`` pairs, default (-1, 1)
    step : float > 0, default 0.05
    dim : int >= 1, default 2

    Returns
    -------
    ndarray, shape (prod_k N_k, dim)
        Row-major in the axes: the last coordinate varies fastest, i.e. the
        point x_{j,l} of the papers is row ``j * N_1 + l``.

    Raises
    ------
    ValueError
        For step <= 0 or non-finite, bad bounds, or more than 10^8 points.
    """
    dim = _check_dim(dim)
    if isinstance(step, bool) or not isinstance(step, numbers.Real) or not math.isfinite(step) or step <= 0:
        raise ValueError(f"step must be a finite number > 0, got {step!r}")
    box = _box(bounds, dim)
    counts = [int(math.floor((hi - lo) / step * (1 + 1e-9))) + 1 for lo, hi in box]
    total = math.prod(counts)
    if total > MAX_GRID_POINTS:
        raise ValueError(f"grid with step={step!r} and bounds={bounds!r} in dim={dim} has {total} points "
                         f"(more than {MAX_GRID_POINTS}); use a larger step or random_starts")
    axes = [lo + step * np.arange(c) for (lo, _), c in zip(box, counts)]
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.stack([m.ravel() for m in mesh], axis=-1)


def random_starts(n: int, dim: int, bounds=(-1, 1), rng=None) -> np.ndarray:
    """``n`` starting points drawn uniformly from the box ``bounds`` in R^dim.

    Parameters
    ----------
    n : int >= 1
    dim : int >= 1
    bounds : (lo, hi) or sequence of ``dim`` pairs, default (-1, 1)
    rng : int, Generator or None
        Seed or generator (``numpy.random.default_rng``).

    Returns
    -------
    ndarray, shape (n, dim)
        ``lo + (hi - lo) * rng.random((n, dim))``.
    """
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    dim = _check_dim(dim)
    box = _box(bounds, dim)
    gen = generator(rng)
    return box[:, 0] + (box[:, 1] - box[:, 0]) * gen.random((int(n), dim))
