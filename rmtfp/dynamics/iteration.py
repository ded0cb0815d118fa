"""Iteration of Phi from every start at once, each start classified by the first criterion it meets."""

from __future__ import annotations

from typing import Optional

import numpy as np

from .maps import Workers, _DistinctMap
from .network import Network
from .results import _CYCLE, _DIVERGENT, _FP, _UNRESOLVED


def _iterate(net: Network, x0: np.ndarray, tol: float, budget: np.ndarray, max_period: int, radius: float,
             rows: int, early: bool = True, bar=None, pool: Optional[Workers] = None):
    """Iterate all starts; classify each by the first criterion it meets.

    With x^0 the start and x^m = Phi(x^{m-1}): fixed point when
    |x^m - x^{m-1}| < tol (candidate x^{m-1}, its residual is that step);
    cycle of period p (2 <= p <= max_period, smallest first) when
    |x^m - x^{m-p}| < tol (candidate x^m); divergent when x^m is not finite
    or |x^m| > radius.  Start i gets ``budget[i]`` maps; it is unresolved
    when it meets no criterion within them.  With ``early`` false the
    criteria are only tested after the last map of each budget (divergence
    is always tested).
    """
    m_total, n = x0.shape
    code = np.full(m_total, _UNRESOLVED, dtype=np.int8)
    period = np.zeros(m_total, dtype=int)
    iters = budget.copy()
    cand = x0.copy()
    cand_res = np.full(m_total, np.inf)
    state = x0.copy()

    idx = np.arange(m_total)
    bud = budget.copy()  # the budgets of the starts still in the batch
    x = x0.copy()
    hist = np.empty((max_period, m_total, n))  # ring: hist[k % P] = x^k
    hist[0] = x
    phi = _DistinctMap(net, rows, pool)
    ones = np.ones(n)
    tol2 = tol * tol
    first_last = int(bud.min())  # no budget in the batch ends before this map
    none = np.zeros(m_total, dtype=bool)
    with np.errstate(invalid="ignore", over="ignore"):
        for m in range(1, int(budget.max()) + 1):
            if bar is not None:
                bar.update(1)
            y = phi(x)
            # squared norms as a matrix-vector product with ones: einsum's loop costs more for small n
            ynorm = np.sqrt(np.square(y) @ ones)
            # x^{m-p} - x^m for p = 1, ..., min(P, m) in one go: p = 1 is the step, the others the cycle test
            back = hist.take([(m - p) % max_period for p in range(1, min(max_period, m) + 1)], axis=0)
            back -= y
            dist2 = np.square(back, out=back) @ ones
            step = np.sqrt(dist2[0])
            last = bud == m if m >= first_last else none[:idx.size]
            div = ~(ynorm <= radius)  # not finite, or beyond the radius
            fp = ~div & (step < tol)
            if not early:
                fp &= last
            left = ~(div | fp)
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
            out = last & left  # budget spent: unresolved, keep the last iterate
            if not left.all() or out.any():
                g = idx[fp]
                code[g], cand[g], cand_res[g], iters[g] = _FP, x[fp], step[fp], m
                if cyc_p is not None:
                    cyc = cyc_p > 0
                    g = idx[cyc]
                    code[g], cand[g], period[g], iters[g] = _CYCLE, y[cyc], cyc_p[cyc], m
                g = idx[div]
                code[g], iters[g] = _DIVERGENT, m
                cand[idx[out]] = y[out]
                stop = ~left | out
                state[idx[stop]] = y[stop]
                keep = np.flatnonzero(left & ~out)
                if keep.size == 0:
                    break
                idx, x, y, bud = idx[keep], x[keep], y[keep], bud[keep]
                hist = hist.take(keep, axis=1)
                first_last = int(bud.min())
            hist[m % max_period] = y
            x = y
    return code, period, iters, cand, cand_res, state
