"""Iteration of Phi from every start at once, each start classified by the first criterion it meets."""

from __future__ import annotations

import numpy as np

from .maps import _DistinctMap, _norm
from .network import Network
from .results import _CYCLE, _DIVERGENT, _FP, _UNRESOLVED


def _iterate(net: Network, x0: np.ndarray, tol: float, budget: np.ndarray, max_period: int, radius: float,
             rows: int, early: bool = True, bar=None):
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
    phi = _DistinctMap(net, rows)
    for m in range(1, int(budget.max()) + 1):
        if bar is not None:
            bar.update(1)
        y = phi(x)
        with np.errstate(invalid="ignore", over="ignore"):
            ynorm = _norm(y)
            step = _norm(y - x)
        last = bud == m
        div = ~(ynorm <= radius)  # not finite, or beyond the radius
        fp = ~div & (step < tol)
        if not early:
            fp &= last
        left = ~(div | fp)
        cyc_p = np.zeros(idx.size, dtype=int)
        if m >= 2 and max_period >= 2:
            back = hist[[(m - p) % max_period for p in range(2, min(max_period, m) + 1)]] - y  # x^{m-p} - x^m
            with np.errstate(invalid="ignore", over="ignore"):
                close = np.einsum("pki,pki->pk", back, back) < tol * tol
            close &= left if early else last & left
            cyc = close.any(axis=0)
            cyc_p[cyc] = close[:, cyc].argmax(axis=0) + 2  # the smallest period that returns
            left &= ~cyc
        cyc = cyc_p > 0
        out = last & left  # budget spent: unresolved, keep the last iterate
        if out.any() or not left.all():
            g = idx[fp]
            code[g], cand[g], cand_res[g], iters[g] = _FP, x[fp], step[fp], m
            g = idx[cyc]
            code[g], cand[g], period[g], iters[g] = _CYCLE, y[cyc], cyc_p[cyc], m
            g = idx[div]
            code[g], iters[g] = _DIVERGENT, m
            cand[idx[out]] = y[out]
            state[idx[~left | out]] = y[~left | out]
            left &= ~out
            idx, x, y, hist, bud = idx[left], x[left], y[left], hist[:, left], bud[left]
            if idx.size == 0:
                break
        hist[m % max_period] = y
        x = y
    return code, period, iters, cand, cand_res, state
