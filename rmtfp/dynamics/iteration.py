"""Iteration of Phi from every start at once, each start classified by the first criterion it meets."""

from __future__ import annotations

from typing import NamedTuple, Optional

import numpy as np

from .maps import Workers, _DistinctMap
from .network import Network
from .results import _CYCLE, _DIVERGENT, _FP, _UNRESOLVED


class Orbits(NamedTuple):
    """The orbits of the starts classified as cycles, as the iteration saw them.

    ``starts[j]`` has period ``period[j]`` = p, candidate ``points[j, 0]`` =
    x^{m-p}, orbit ``points[j, :p]`` = x^{m-p}, ..., x^{m-1} (the rest NaN)
    and ``image[j]`` = Phi^p(x^{m-p}) = x^m.
    """

    starts: np.ndarray
    points: np.ndarray
    image: np.ndarray

    @classmethod
    def empty(cls, max_period: int, n: int) -> "Orbits":
        return cls(np.empty(0, dtype=int), np.empty((0, max_period, n)), np.empty((0, n)))

    @classmethod
    def join(cls, parts, max_period: int, n: int) -> "Orbits":
        parts = [p for p in parts if p.starts.size]
        if not parts:
            return cls.empty(max_period, n)
        return cls(*(np.concatenate(a) for a in zip(*parts)))

    def take(self, keep: np.ndarray) -> "Orbits":
        return Orbits(self.starts[keep], self.points[keep], self.image[keep])

    def renumber(self, rows: np.ndarray) -> "Orbits":
        """The same orbits with start j renamed rows[j]."""
        return Orbits(rows[self.starts], self.points, self.image)

    def replace(self, rows: np.ndarray, new: "Orbits") -> "Orbits":
        """These orbits without those of ``rows``, with ``new`` (numbered like the whole batch) added."""
        return Orbits.join([self.take(~np.isin(self.starts, rows)), new], self.points.shape[1],
                           self.points.shape[2])

    def lookup(self, rows: np.ndarray) -> "Orbits":
        """The orbits of ``rows`` (each must have one), in that order."""
        order = np.argsort(self.starts)
        return self.take(order[np.searchsorted(self.starts, rows, sorter=order)])


def _iterate(net: Network, x0: np.ndarray, tol: float, budget: np.ndarray, max_period: int, radius: float,
             rows: int, early: bool = True, bar=None, pool: Optional[Workers] = None):
    """Iterate all starts; classify each by the first criterion it meets.

    With x^0 the start and x^m = Phi(x^{m-1}): fixed point when
    |x^m - x^{m-1}| < tol (candidate x^{m-1}, its residual is that step);
    cycle of period p (2 <= p <= max_period, smallest first) when
    |x^m - x^{m-p}| < tol (candidate x^{m-p}, its residual that distance,
    its orbit kept: :class:`Orbits`); divergent when x^m is not finite or
    |x^m| > radius.  Start i gets ``budget[i]`` maps; it is unresolved when
    it meets no criterion within them.  With ``early`` false the criteria are
    only tested after the last map of each budget (divergence is always
    tested).

    Returns (code, period, iterations, candidate, residual, state, orbits),
    state the last iterate of every start.
    """
    m_total, n = x0.shape
    code = np.full(m_total, _UNRESOLVED, dtype=np.int8)
    period = np.zeros(m_total, dtype=int)
    iters = budget.copy()
    cand = x0.copy()
    cand_res = np.full(m_total, np.inf)
    state = x0.copy()
    found = []  # Orbits of the starts classified as cycles

    idx = np.arange(m_total)
    bud = budget.copy()  # the budgets of the starts still in the batch
    x = x0.copy()
    ring = max_period + 1
    # ring of iterates: hist[k % (P + 1)] = x^k, so that x^m is stored at once without losing x^{m-P}
    hist = np.empty((ring, m_total, n))
    hist[0] = x
    # the starts of a search are distinct points (a grid, random starts): the first repeats are looked for among
    # their images; the states a resumed iteration starts from may repeat (saturated corners)
    phi = _DistinctMap(net, rows, pool, wait=1 if early else 0)
    ones = np.ones(n)
    tol2 = tol * tol
    # a map on which no start can have met a criterion (bounds on the safe side of the rounding of the
    # tests below) needs no more than these two comparisons
    near2, far2 = tol2 * (1 + 1e-9), radius * radius * (1 - 1e-9)
    # every coordinate within `far` puts every |x^m|^2 below far2 (NaN fails the comparison)
    far = np.sqrt(far2 / n) * (1 - 1e-9)
    fixed = []  # (starts, map, candidate x^{m-1}, residual, x^m) of the fixed points met at each map
    back_rows = [[(m - p) % ring for p in range(1, min(max_period, m) + 1)] for m in range(2 * ring)]
    first_last = int(bud.min())  # no budget in the batch ends before this map
    # one budget for all (a search from scratch): the budgets need no bookkeeping, all end at the last map
    uniform = first_last == int(bud.max())
    none = np.zeros(m_total, dtype=bool)
    every = np.ones(m_total, dtype=bool)
    with np.errstate(invalid="ignore", over="ignore"):
        for m in range(1, int(budget.max()) + 1):
            if bar is not None:
                bar.update(1)
            y = phi(x)
            # x^{m-p} - x^m for p = 1, ..., min(P, m) in one go: p = 1 is the step, the others the cycle test;
            # squared norms as a matrix-vector product with ones (einsum's loop costs more for small n)
            back = hist.take(back_rows[m if m < ring else ring + m % ring], axis=0)
            hist[m % ring] = y
            back -= y
            dist2 = np.square(back, out=back) @ ones
            near = y.size == 0 or (-far <= y.min() and y.max() <= far)  # no start can diverge at this map
            if m < first_last and near and dist2.min() >= near2:  # (NaN: the full tests below)
                x = y
                continue
            step = np.sqrt(dist2[0])
            # the tests skip what cannot happen at this map: a budget ending (m before first_last), a divergent
            # start (every |x^m|^2 below far2)
            ends = m >= first_last
            last = (every[:idx.size] if uniform else bud == m) if ends else none[:idx.size]
            div = None if near else ~(np.sqrt(np.square(y) @ ones) <= radius)  # not finite, or too far
            fp = step < tol
            if div is not None:
                fp &= ~div
            if not early:
                fp &= last
            left = ~fp if div is None else ~(div | fp)
            cyc_p = None
            if m >= 2 and max_period >= 2:
                close = dist2[1:] < tol2
                if close.any():
                    close &= left if early else last & left
                    cyc = close.any(axis=0)
                    if cyc.any():
                        cyc_p = np.zeros(idx.size, dtype=int)
                        cyc_p[cyc] = close[:, cyc].argmax(axis=0) + 2  # the smallest period that returns
                        left &= ~cyc
            if ends:
                out = last & left  # budget spent: unresolved, keep the last iterate
                cand[idx[out]] = y[out]
                left &= ~out
            if not left.all():
                f = np.flatnonzero(fp)
                if f.size:
                    fixed.append((idx[f], m, x[f], step[f], y[f]))
                if cyc_p is not None:
                    found.append(_cycle_orbits(idx, hist, y, cyc_p, dist2, m, code, period, iters, cand, cand_res))
                if div is not None:
                    g = idx[div]
                    code[g], iters[g] = _DIVERGENT, m
                if div is not None or cyc_p is not None or ends:
                    # the starts that stopped other than at a fixed point (whose state is recorded with it)
                    stop = np.flatnonzero(~left & ~fp)
                    state[idx[stop]] = y[stop]
                keep = np.flatnonzero(left)
                if keep.size == 0:
                    break
                idx = idx[keep]
                hist = hist.take(keep, axis=1)
                phi.keep(keep)
                y = hist[m % ring]
                if not uniform:
                    bud = bud[keep]
                    if ends:
                        first_last = int(bud.min())  # (a bound from before is still a bound: rows only leave)
            x = y
    if fixed:  # written once: a start stops at most once
        starts, at, candidate, residual, last_iterate = zip(*fixed)
        g = np.concatenate(starts)
        code[g], iters[g] = _FP, np.repeat(at, [a.size for a in starts])
        cand[g], cand_res[g] = np.concatenate(candidate), np.concatenate(residual)
        state[g] = np.concatenate(last_iterate)
    return code, period, iters, cand, cand_res, state, Orbits.join(found, max_period, n)


def _cycle_orbits(idx, hist, y, cyc_p, dist2, m: int, code, period, iters, cand, cand_res) -> Orbits:
    """Record the starts that met the cycle test at map m; their orbits from the ring of iterates."""
    ring = hist.shape[0]  # hist[k % ring] = x^k, ring = max_period + 1
    max_period = ring - 1
    rows = np.flatnonzero(cyc_p)
    p = cyc_p[rows]
    g = idx[rows]
    # orbit[j, i] = x^{m - p_j + i} for i < p_j, NaN beyond
    i = np.arange(max_period)
    k = (m - p[:, None] + i[None, :]) % ring
    orbit = hist[k, rows[:, None]]
    orbit[i[None, :] >= p[:, None]] = np.nan
    code[g], period[g], iters[g] = _CYCLE, p, m
    cand[g] = orbit[:, 0]
    cand_res[g] = np.sqrt(dist2[p - 1, rows])
    return Orbits(g, orbit, y[rows].copy())
