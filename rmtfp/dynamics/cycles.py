"""Cycles of Phi: polishing, verification and merging of the cycle candidates of the iteration."""

from __future__ import annotations

import numpy as np

from .maps import _map_jacobian, _norm
from .merge import _leader_clusters
from .network import Network
from .newton import _cycle_fun, _polish, _power_jacobian, _power_orbit
from .results import _CYCLE, Cycle, eigenvalues_of, stability_of


def _collapsed_centre(net: Network, orbit: np.ndarray, tol: float, merge_tol: float, rows: int):
    """The fixed point an unpolished orbit of diameter < merge_tol was converging to, or None.

    Oscillating convergence to an attracting fixed point (an eigenvalue of
    DPhi near -1) meets the cycle test |x^m - x^{m-p}| < tol before the
    Cauchy criterion; the orbit is then shorter than ``merge_tol`` and its
    mean is the better estimate of the fixed point.  It is one when the mean
    is fixed to ``tol`` and attracting (spectral radius of DPhi < 1); a
    genuine small cycle (around a neutral or unstable fixed point) stays a
    cycle.
    """
    diff = orbit[:, None, :] - orbit[None, :, :]
    if _norm(diff).max() >= merge_tol:
        return None
    centre = orbit.mean(axis=0)
    y, jac = _map_jacobian(net, centre[None], rows)
    if not (_norm(y[0] - centre) < tol and np.all(np.isfinite(jac))):
        return None
    return centre if np.max(np.abs(eigenvalues_of(jac[:1])[0])) < 1 else None


def _find_cycles(net: Network, code, period, orbits, tol, merge_tol, refine, refine_tol, neutral_tol, rows):
    """Polish, verify and merge the cycle candidates (their orbits as the iteration saw them: ``orbits``).

    Returns the cycles and per-start labels; starts whose orbit collapses to
    a single point (oscillating convergence to a fixed point, not a cycle;
    without polishing: see :func:`_collapsed_centre`) are handed back as
    fixed-point candidates.
    """
    labels = np.full(code.size, -1)
    if orbits.starts.size == 0:  # no start met the cycle test
        return [], labels, []
    records = []  # (orbit (d, n), residual, refined, multipliers jac, starts)
    to_fp = []  # (starts, point)
    for p in np.unique(period[code == _CYCLE]):
        p = int(p)
        sel = np.flatnonzero((code == _CYCLE) & (period == p))
        seen = orbits.lookup(sel)
        pts, y = seen.points[:, 0], seen.image
        orbit = np.swapaxes(seen.points[:, :p], 0, 1)  # (p, k, n)
        res = _norm(y - pts)
        k = pts.shape[0]
        owner = np.tile(np.arange(k), p)
        cl, lead = _leader_clusters(orbit.reshape(-1, pts.shape[1]), res, merge_tol, owner=owner, n_items=k)
        x0 = pts[lead]
        res0 = res[lead]
        xr = x0
        ok = np.zeros(lead.size, dtype=bool)
        if refine:
            xr, ok, _ = _polish(_cycle_fun(net, p, rows), x0, res0, refine_tol, merge_tol, neutral_tol)
        orb = _power_orbit(net, xr, p, rows)[1]
        for j in range(lead.size):
            starts_j = sel[cl == j]
            o = orb[:, j]
            d = next((d for d in range(1, p + 1) if p % d == 0 and
                      (d == p or _norm(o[d] - o[0]) < tol)), p)
            if d == 1:
                to_fp.append((starts_j, o[0]))
                continue
            o = o[:d]
            if not ok[j]:
                centre = _collapsed_centre(net, o, tol, merge_tol, rows)
                if centre is not None:
                    to_fp.append((starts_j, centre))
                    continue
            # multipliers and residual of the minimal orbit
            yd, jd = _power_jacobian(net, o[:1], d, rows)
            records.append((o, float(_norm(yd[0] - o[0])), bool(ok[j]), jd[0], starts_j))
    # merge across candidates of the same period, then sort
    cycles = []
    if records:
        periods = np.array([r[0].shape[0] for r in records])
        res = np.array([r[1] for r in records])
        keep_order = []
        for p in np.unique(periods):
            sel = np.flatnonzero(periods == p)
            pts = np.concatenate([records[i][0] for i in sel])
            owner = np.repeat(np.arange(sel.size), p)
            cl, lead = _leader_clusters(pts, res[sel], merge_tol, owner=owner, n_items=sel.size)
            for j, li in enumerate(lead):
                o, r, refd, jac, _ = records[sel[li]]
                first = int(np.lexsort(o.T[::-1])[0])
                o = np.roll(o, -first, axis=0)
                starts_j = np.concatenate([records[i][4] for i in sel[cl == j]])
                keep_order.append((p, tuple(o[0]), o, r, refd, jac, starts_j))
        keep_order.sort(key=lambda t: (t[0], t[1]))
        stab = stability_of(np.stack([t[5] for t in keep_order]), neutral_tol)
        for k, (p, _, o, r, refd, _, starts_j) in enumerate(keep_order):
            o.setflags(write=False)
            cycles.append(Cycle(points=o, period=int(p), stability=stab[k], residual=r, refined=refd))
            labels[starts_j] = k
    return cycles, labels, to_fp
