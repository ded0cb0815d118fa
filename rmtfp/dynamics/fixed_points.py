"""Fixed points, cycles and basins of attraction of a network Phi: R^n -> R^n.

:func:`find_fixed_points` iterates x^{m+1} = Phi(x^m) from every start at
once (the papers' procedure, eq. (8)/(4.2), with the Cauchy criterion
|x^{m+1} - x^m| < tol) and classifies every start instead of dropping the
ones that do not converge: fixed point k, cycle k of minimal period p,
unresolved within ``max_iter`` maps, or divergent.  Fixed points and cycles
are polished by Newton's method and merged when closer than ``merge_tol``.

:func:`find_all_fixed_points` runs Newton's method on F(x) = Phi(x) - x from
every start, which also finds the unstable fixed points that iteration never
reaches.
"""

from __future__ import annotations

import dataclasses
import numbers
import warnings
from typing import Optional

import numpy as np
from scipy.spatial import cKDTree

from .._results import jsonable_result, summary_repr
from ..errors import UnresolvedWarning
from .._checks import int_at_least, positive_real
from .._threads import blas_limited
from .network import Network
from .starts import grid

__all__ = ["Stability", "Cycle", "FixedPointResult", "find_fixed_points", "find_all_fixed_points", "STATUSES"]

#: the per-start statuses, in the order of their internal codes
STATUSES = ("fixed_point", "cycle", "unresolved", "divergent")
_FP, _CYCLE, _UNRESOLVED, _DIVERGENT = range(4)
_STATUS_ARRAY = np.array(STATUSES)
#: elements of one float64 work array per chunk (512 KiB: layer activations stay in cache)
_CHUNK_ELEMENTS = 2**16
_EPS = np.finfo(float).eps


# ----------------------------------------------------------------- results
@dataclasses.dataclass(frozen=True)
class Stability:
    """Linear stability of a fixed point x* (or of a cycle, through D(Phi^p)).

    Attributes
    ----------
    eigenvalues : ndarray of complex, shape (n,)
        Eigenvalues of DPhi(x*) (the multipliers of a cycle), sorted by
        decreasing modulus.
    spectral_radius : float
        max |eigenvalue|.
    kind : {"stable", "unstable", "neutral"}
        ``"stable"`` when spectral_radius < 1 - neutral_tol, ``"unstable"``
        when > 1 + neutral_tol, ``"neutral"`` otherwise (linearisation
        inconclusive).
    """

    eigenvalues: np.ndarray
    spectral_radius: float
    kind: str

    __repr__ = summary_repr

    @jsonable_result
    def to_dict(self) -> dict:
        return {"eigenvalues": self.eigenvalues, "spectral_radius": self.spectral_radius, "kind": self.kind}


@dataclasses.dataclass(frozen=True)
class Cycle:
    """A periodic orbit x_0 -> x_1 -> ... -> x_{p-1} -> x_0 of Phi of minimal period p >= 2.

    Attributes
    ----------
    points : ndarray, shape (period, n)
        The orbit in the order Phi visits it, starting from its
        lexicographically smallest point.
    period : int
        The minimal period p.
    stability : Stability
        From the multipliers, the eigenvalues of D(Phi^p)(x_0) =
        DPhi(x_{p-1}) ... DPhi(x_0).
    residual : float
        |Phi^p(x_0) - x_0|.
    refined : bool
        Whether Newton's method on Phi^p(x) - x polished the orbit.
    """

    points: np.ndarray
    period: int
    stability: Stability
    residual: float
    refined: bool

    __repr__ = summary_repr

    @jsonable_result
    def to_dict(self) -> dict:
        return {"period": self.period, "points": self.points, "residual": self.residual,
                "refined": self.refined, **{f"{k}": v for k, v in self.stability.to_dict().items()}}


@dataclasses.dataclass(frozen=True)
class FixedPointResult:
    """Fixed points, cycles and the classification of every start.

    Attributes
    ----------
    fixed_points : ndarray, shape (Q, n)
        Sorted lexicographically; pairwise farther apart than ``merge_tol``.
    labels : ndarray of int, shape (M,)
        Per start: the index of its fixed point (status ``"fixed_point"``) or
        of its cycle in :attr:`cycles` (status ``"cycle"``); -1 otherwise.
    status : ndarray of str, shape (M,)
        Per start, one of ``"fixed_point"``, ``"cycle"``, ``"unresolved"``,
        ``"divergent"``.
    cycles : tuple of Cycle
        Sorted by period, then lexicographically by first point.
    fractions : dict
        ``"fixed_point:k"`` and ``"cycle:k"`` (the basins, as fractions of the
        starts), ``"unresolved"`` and ``"divergent"``; the values sum to 1.
    stability : tuple of Stability
        One per fixed point, from the eigenvalues of DPhi(x*).
    residuals : ndarray, shape (Q,)
        |Phi(x*) - x*| for every fixed point.
    refined : ndarray of bool, shape (Q,)
        Whether Newton's method polished the fixed point (then the residual
        is <= ``refine_tol`` max(1, |x*|)).
    iterations : ndarray of int, shape (M,)
        Per start, the number of maps (or Newton steps) after which it was
        classified.
    starts : ndarray, shape (M, n)
    params : dict
        The parameters that produced the result (``method`` is
        ``"iteration"`` or ``"newton"``).
    """

    fixed_points: np.ndarray
    labels: np.ndarray
    status: np.ndarray
    cycles: tuple
    fractions: dict
    stability: tuple
    residuals: np.ndarray
    refined: np.ndarray
    iterations: np.ndarray
    starts: np.ndarray
    params: dict

    @property
    def Q(self) -> int:
        """The number of fixed points found."""
        return int(self.fixed_points.shape[0])

    @property
    def n_cycles(self) -> int:
        return len(self.cycles)

    def basin(self, k: int, kind: str = "fixed_point") -> np.ndarray:
        """Boolean mask of the starts in the basin of fixed point (or cycle) ``k``."""
        if kind not in ("fixed_point", "cycle"):
            raise ValueError(f"kind must be 'fixed_point' or 'cycle', got {kind!r}")
        return (self.status == kind) & (self.labels == k)

    __repr__ = summary_repr

    @jsonable_result
    def to_dict(self) -> dict:
        """Plain containers (numpy arrays left as arrays; see :func:`rmtfp.commands.to_jsonable`)."""
        return {
            "Q": self.Q,
            "fixed_points": self.fixed_points,
            "stability": [s.to_dict() for s in self.stability],
            "residuals": self.residuals,
            "refined": self.refined,
            "cycles": [c.to_dict() for c in self.cycles],
            "fractions": dict(self.fractions),
            "labels": self.labels,
            "status": self.status,
            "iterations": self.iterations,
            "starts": self.starts,
            "params": dict(self.params),
        }


# ----------------------------------------------------------------- checks
def _check_net(net) -> int:
    if not isinstance(net, Network):
        raise ValueError(f"net must be an rmtfp.Network, got {type(net).__name__}")
    if net.n_in != net.n_out:
        raise ValueError(f"fixed points need n_in = n_out, got widths {list(net.widths)} "
                         f"(n_in = {net.n_in}, n_out = {net.n_out})")
    return net.n_in


def _check_starts(starts, n: int) -> np.ndarray:
    try:
        x = np.array(starts, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"starts must be a real array of shape (M, {n})") from None
    if x.ndim != 2 or x.shape[1] != n:
        raise ValueError(f"starts must have shape (M, {n}) to match the network, got shape {x.shape}")
    if x.shape[0] == 0:
        raise ValueError("starts must contain at least one point, got an empty array")
    if not np.all(np.isfinite(x)):
        raise ValueError("starts must be finite")
    return x


def _chunk_rows(net: Network, chunk_size, per_row: int) -> int:
    if chunk_size is None:
        return max(64, _CHUNK_ELEMENTS // max(1, per_row))
    return int_at_least("chunk_size", chunk_size, 1, integral_floats=True)


# ----------------------------------------------------------------- maps
def _even(total: int, rows: int) -> int:
    """At most ``rows`` rows per chunk, the chunks as equal as possible (no small last chunk)."""
    return -(-total // -(-total // rows))


def _map(net: Network, x: np.ndarray, rows: int) -> np.ndarray:
    """Phi on the rows of x, at most ``rows`` at a time."""
    if x.shape[0] <= rows:
        return net._forward(x)
    rows = _even(x.shape[0], rows)
    out = np.empty((x.shape[0], net.n_out))
    for s in range(0, x.shape[0], rows):
        out[s:s + rows] = net._forward(x[s:s + rows])
    return out


def _map_jacobian(net: Network, x: np.ndarray, rows: int):
    """Phi and DPhi on the rows of x, at most ``rows`` at a time."""
    if x.shape[0] <= rows:
        return net._forward_jacobian(x)
    rows = _even(x.shape[0], rows)
    y = np.empty((x.shape[0], net.n_out))
    jac = np.empty((x.shape[0], net.n_out, net.n_in))
    for s in range(0, x.shape[0], rows):
        y[s:s + rows], jac[s:s + rows] = net._forward_jacobian(x[s:s + rows])
    return y, jac


class _DistinctMap:
    """Phi on the rows of x, evaluated once per distinct row.

    Starts that reach exactly the same state have the same future
    (saturating activations send many starts to the same corner); the
    duplicates are found by sorting the rows' bytes.  When fewer than 10 %
    of the rows are duplicates the search is skipped for 1, 2, 4, ..., 16
    maps before it is tried again.
    """

    def __init__(self, net: Network, rows: int):
        self.net, self.rows, self.wait, self.backoff = net, rows, 0, 1

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if self.wait > 0:
            self.wait -= 1
            return _map(self.net, x, self.rows)
        keys = np.ascontiguousarray(x).view(np.dtype((np.void, x.dtype.itemsize * x.shape[1]))).ravel()
        uniq, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        if uniq.size > 0.9 * x.shape[0]:
            self.wait, self.backoff = self.backoff, min(16, 2 * self.backoff)
            return _map(self.net, x, self.rows)
        self.backoff = 1
        return _map(self.net, x[first], self.rows)[inverse.ravel()]


def _norm(v: np.ndarray) -> np.ndarray:
    return np.sqrt(np.einsum("...i,...i->...", v, v))


def _solve(jac: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Batched solve of jac dx = rhs; least squares where jac is singular."""
    try:
        return np.linalg.solve(jac, rhs[..., None])[..., 0]
    except np.linalg.LinAlgError:
        return (np.linalg.pinv(jac) @ rhs[..., None])[..., 0]


def _newton(fun, x0: np.ndarray, max_steps: int = 50, radius: float = np.inf):
    """Damped Newton's method on F(x) = 0 for a batch of points.

    ``fun(x)`` returns F(x) (k, n) and F'(x) (k, n, n).  A step is halved
    (up to 30 times) until |F| decreases, starting from twice the damping
    accepted at the point's previous step (at most the full step, so that
    on a piecewise-smooth F with many kinks the step length is not searched
    anew from 1 each time); a point stops when no halving
    decreases |F| (halving stops once the step is below the rounding of x,
    t |dx| <= eps max(1, |x|)), when |F| <= eps max(1, |x|), or after
    ``max_steps``.
    Points leaving the ball of radius ``radius`` or turning non-finite stop.

    Returns
    -------
    x, |F(x)|, steps : the final points, residuals and the Newton steps taken.
    """
    x = x0.copy()
    f, jac = fun(x)
    r = _norm(f)
    steps = np.zeros(x.shape[0], dtype=int)
    # first trial step of each point: twice its last accepted damping, at most 1
    first = np.ones(x.shape[0])
    active = np.isfinite(r) & np.all(np.isfinite(jac), axis=(1, 2))
    for _ in range(max_steps):
        active &= r > _EPS * np.maximum(1.0, _norm(x))
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        with np.errstate(all="ignore"):
            dx = _solve(jac[idx], -f[idx])
        ok = np.all(np.isfinite(dx), axis=1)
        active[idx[~ok]] = False
        idx, dx = idx[ok], dx[ok]
        t = first[idx].copy()
        # a step shorter than the rounding of x cannot move it: halve no further
        floor = _EPS * np.maximum(1.0, _norm(x[idx])) / np.maximum(_norm(dx), np.finfo(float).tiny)
        pending = np.ones(idx.size, dtype=bool)
        moved = np.zeros(idx.size, dtype=bool)
        for _ in range(31):
            pending &= t > floor
            if not pending.any():
                break
            p = np.flatnonzero(pending)
            xt = x[idx[p]] + t[p, None] * dx[p]
            ft, jt = fun(xt)
            rt = _norm(ft)
            good = np.isfinite(rt) & (rt < r[idx[p]]) & (_norm(xt) <= radius)
            g = idx[p[good]]
            x[g], f[g], jac[g], r[g] = xt[good], ft[good], jt[good], rt[good]
            steps[g] += 1
            pending[p[good]] = False
            moved[p[good]] = True
            first[g] = np.minimum(1.0, 2 * t[p[good]])
            t[p[~good]] *= 0.5
        active[idx[~moved]] = False
    return x, r, steps


def _fixed_point_fun(net: Network, rows: int):
    eye = np.eye(net.n_in)

    def fun(x):
        y, jac = _map_jacobian(net, x, rows)
        return y - x, jac - eye

    return fun


def _power_jacobian(net: Network, x: np.ndarray, p: int, rows: int):
    """Phi^p(x) and D(Phi^p)(x) = DPhi(x_{p-1}) ... DPhi(x_0) (the orbit itself: :func:`_power_orbit`)."""
    total = None
    y = x
    for _ in range(p):
        y, jac = _map_jacobian(net, y, rows)
        total = jac if total is None else jac @ total
    return y, total


def _power_orbit(net: Network, x: np.ndarray, p: int, rows: int):
    """Phi^p(x) and the orbit (p, k, n) x_0 = x, ..., x_{p-1}, without Jacobians."""
    orbit = np.empty((p,) + x.shape)
    y = x
    for i in range(p):
        orbit[i] = y
        y = _map(net, y, rows)
    return y, orbit


def _cycle_fun(net: Network, p: int, rows: int):
    eye = np.eye(net.n_in)

    def fun(x):
        y, jac = _power_jacobian(net, x, p, rows)
        return y - x, jac - eye

    return fun


def _stability(jac: np.ndarray, neutral_tol: float) -> list:
    """Stability objects from a stack of Jacobians (k, n, n)."""
    out = []
    if jac.shape[0] == 0:
        return out
    ev = np.linalg.eigvals(jac)
    for e in ev:
        e = e[np.argsort(-np.abs(e), kind="stable")]
        rho = float(np.max(np.abs(e)))
        kind = "stable" if rho < 1 - neutral_tol else "unstable" if rho > 1 + neutral_tol else "neutral"
        out.append(Stability(eigenvalues=e.astype(complex), spectral_radius=rho, kind=kind))
    return out


# ----------------------------------------------------------------- merging
def _leader_order(points: np.ndarray, residuals: np.ndarray) -> np.ndarray:
    """Candidates by increasing residual, ties broken lexicographically (independent of input order)."""
    return np.lexsort(tuple(points.T[::-1]) + (residuals,))


def _leader_clusters(points: np.ndarray, residuals: np.ndarray, radius: float,
                     owner: Optional[np.ndarray] = None, n_items: Optional[int] = None):
    """Greedy clustering around the best candidates.

    The candidate with the smallest residual leads a cluster holding every
    unassigned candidate within ``radius`` of it; repeat.  Leaders are
    pairwise farther apart than ``radius`` and the result does not depend on
    the order of the input.  With ``owner``, ``points`` are the orbit points
    of ``n_items`` items (``owner[i]`` the item of point i) and items
    sharing a point within ``radius`` are merged; ``residuals`` are per item.

    Returns
    -------
    cluster : ndarray of int, per item
    leaders : ndarray of int, the leading item of each cluster
    """
    if owner is None:
        owner = np.arange(points.shape[0])
        n_items = points.shape[0]
    # each item's lexicographically smallest point breaks ties between equal residuals
    order_pts = np.lexsort(tuple(points.T[::-1]))
    _, pos = np.unique(owner[order_pts], return_index=True)
    order = _leader_order(points[order_pts[pos]], residuals)
    # the points of item i are by_owner[start[i]:start[i + 1]]
    by_owner = np.argsort(owner, kind="stable")
    start = np.searchsorted(owner[by_owner], np.arange(n_items + 1))
    tree = cKDTree(points)
    cluster = np.full(n_items, -1)
    leaders = []
    for item in order:
        if cluster[item] >= 0:
            continue
        found = tree.query_ball_point(points[by_owner[start[item]:start[item + 1]]], radius)
        near = np.unique(owner[np.concatenate([np.asarray(f, dtype=int) for f in found])])
        near = near[cluster[near] < 0]
        cluster[near] = len(leaders)
        cluster[item] = len(leaders)
        leaders.append(item)
    return cluster, np.asarray(leaders, dtype=int)


def _accept(refined: np.ndarray, start: np.ndarray, res: np.ndarray, res0: np.ndarray, rho: np.ndarray,
            refine_tol: float, merge_tol: float) -> np.ndarray:
    """Whether a Newton-refined point is fixed to ``refine_tol`` and belongs to the start it came from.

    It must lie within ``merge_tol`` of the unrefined candidate, or within
    twice the contraction estimate |F(x_0)| / (1 - rho) of a fixed point
    with spectral radius rho < 1 (slow convergence stops the Cauchy
    criterion far from x*).
    """
    dist = _norm(refined - start)
    fixed = res <= refine_tol * np.maximum(1.0, _norm(refined))
    with np.errstate(divide="ignore", invalid="ignore"):
        reach = np.where(rho < 1, 2 * res0 / (1 - rho), 0.0)
    return fixed & ((dist <= merge_tol) | (dist <= reach))


# ----------------------------------------------------------------- iteration
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
    return centre if np.max(np.abs(np.linalg.eigvals(jac[0]))) < 1 else None


def _find_cycles(net: Network, code, period, cand, tol, merge_tol, refine, refine_tol, neutral_tol, rows):
    """Polish, verify and merge the cycle candidates.

    Returns the cycles and per-start labels; starts whose orbit collapses to
    a single point (oscillating convergence to a fixed point, not a cycle;
    without polishing: see :func:`_collapsed_centre`) are handed back as
    fixed-point candidates.
    """
    labels = np.full(code.size, -1)
    records = []  # (orbit (d, n), residual, refined, multipliers jac, starts)
    to_fp = []  # (starts, point)
    for p in np.unique(period[code == _CYCLE]):
        p = int(p)
        sel = np.flatnonzero((code == _CYCLE) & (period == p))
        pts = cand[sel]
        y, orbit = _power_orbit(net, pts, p, rows)
        res = _norm(y - pts)
        k = pts.shape[0]
        owner = np.tile(np.arange(k), p)
        cl, lead = _leader_clusters(orbit.reshape(-1, pts.shape[1]), res, merge_tol, owner=owner, n_items=k)
        x0 = pts[lead]
        res0 = res[lead]
        xr = x0
        ok = np.zeros(lead.size, dtype=bool)
        if refine:
            xn, rn, _ = _newton(_cycle_fun(net, p, rows), x0)
            _, jn = _power_jacobian(net, xn, p, rows)
            rho = np.max(np.abs(np.linalg.eigvals(jn)), axis=1) if xn.shape[0] else np.zeros(0)
            ok = _accept(xn, x0, rn, res0, rho, refine_tol, merge_tol)
            xr = np.where(ok[:, None], xn, x0)
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
        stab = _stability(np.stack([t[5] for t in keep_order]), neutral_tol)
        for k, (p, _, o, r, refd, _, starts_j) in enumerate(keep_order):
            o.setflags(write=False)
            cycles.append(Cycle(points=o, period=int(p), stability=stab[k], residual=r, refined=refd))
            labels[starts_j] = k
    return cycles, labels, to_fp


def _merge_fixed_points(net: Network, pts, res, tol, merge_tol, refine, refine_tol, rows):
    """Cluster fixed-point candidates, polish one per cluster, merge again.

    Returns the fixed points (sorted), their residuals, refined flags and the
    label of every candidate.
    """
    n = pts.shape[1]
    if pts.shape[0] == 0:
        return np.empty((0, n)), np.empty(0), np.empty(0, dtype=bool), np.empty(0, dtype=int)
    cl1, lead1 = _leader_clusters(pts, res, merge_tol)
    x0, res0 = pts[lead1], res[lead1]
    xr = x0
    ok = np.zeros(lead1.size, dtype=bool)
    if refine:
        xn, rn, _ = _newton(_fixed_point_fun(net, rows), x0)
        _, jn = _map_jacobian(net, xn, rows)
        rho = np.max(np.abs(np.linalg.eigvals(jn)), axis=1)
        ok = _accept(xn, x0, rn, res0, rho, refine_tol, merge_tol)
        xr = np.where(ok[:, None], xn, x0)
    rr = _norm(_map(net, xr, rows) - xr)
    cl2, lead2 = _leader_clusters(xr, rr, merge_tol)
    final = xr[lead2]
    order = np.lexsort(final.T[::-1])
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    labels = rank[cl2[cl1]]
    return final[order], rr[lead2][order], ok[lead2][order], labels


def _classify(net: Network, code, period, cand, cand_res, tol, merge_tol, refine, refine_tol, neutral_tol, rows):
    """Cycles, fixed points, labels and stability from the raw outcome of :func:`_iterate`."""
    code, cand, cand_res = code.copy(), cand.copy(), cand_res.copy()
    cycles, labels, to_fp = _find_cycles(net, code, period, cand, tol, merge_tol, refine, refine_tol,
                                         neutral_tol, rows)
    for starts_j, point in to_fp:
        r = float(_norm(net._forward(point[None])[0] - point))
        if r < tol:
            code[starts_j], cand[starts_j], cand_res[starts_j] = _FP, point, r
        else:
            code[starts_j] = _UNRESOLVED
    fp_idx = np.flatnonzero(code == _FP)
    fps, res, refd, fp_labels = _merge_fixed_points(net, cand[fp_idx], cand_res[fp_idx], tol, merge_tol,
                                                    refine, refine_tol, rows)
    labels[fp_idx] = fp_labels
    labels[(code == _UNRESOLVED) | (code == _DIVERGENT)] = -1
    stab = _stability(_map_jacobian(net, fps, rows)[1], neutral_tol)
    return code, labels, cycles, fps, res, refd, stab


def _fractions(code: np.ndarray, labels: np.ndarray, q: int, n_cycles: int) -> dict:
    m = code.size
    out = {}
    fp_counts = np.bincount(labels[code == _FP], minlength=q) if q else np.zeros(0, dtype=int)
    for k in range(q):
        out[f"fixed_point:{k}"] = fp_counts[k] / m
    cy_counts = np.bincount(labels[code == _CYCLE], minlength=n_cycles) if n_cycles else np.zeros(0, dtype=int)
    for k in range(n_cycles):
        out[f"cycle:{k}"] = cy_counts[k] / m
    out["unresolved"] = int(np.count_nonzero(code == _UNRESOLVED)) / m
    out["divergent"] = int(np.count_nonzero(code == _DIVERGENT)) / m
    return {k: float(v) for k, v in out.items()}


def _default_starts(starts, n: int) -> np.ndarray:
    if starts is not None:
        return _check_starts(starts, n)
    if n > 3:
        raise ValueError(f"starts=None builds the grid on [-1, 1]^n only for n <= 3, got n = {n}; "
                         "pass starts=random_starts(M, n, rng=...) or grid(..., dim=n)")
    return grid(dim=n)


def _check_common(tol, merge_tol, divergence_radius, refine_tol, neutral_tol):
    tol = positive_real("tol", tol)
    merge_tol = positive_real("merge_tol", merge_tol)
    divergence_radius = positive_real("divergence_radius", divergence_radius)
    refine_tol = positive_real("refine_tol", refine_tol)
    if not (isinstance(neutral_tol, numbers.Real) and 0 <= neutral_tol < 1):
        raise ValueError(f"neutral_tol must be a number in [0, 1), got {neutral_tol!r}")
    return tol, merge_tol, divergence_radius, refine_tol, float(neutral_tol)


# ----------------------------------------------------------------- public
@blas_limited
def find_fixed_points(net: Network, starts=None, tol: float = 1e-5, max_iter: int = 50, merge_tol: float = 1e-3,
                      max_period: int = 8, refine: bool = True, chunk_size: Optional[int] = None, *,
                      divergence_radius: float = 1e8, refine_tol: float = 1e-12,
                      neutral_tol: float = 1e-8, progress: bool = False,
                      blas_threads: Optional[int] = 1) -> FixedPointResult:
    """Fixed points, cycles and basins of attraction of Phi by iteration from every start.

    Every start x^0 is iterated, x^m = Phi(x^{m-1}), all starts at once,
    and classified by the first criterion it meets:

    * ``"fixed_point"``: |x^m - x^{m-1}| < tol (the papers' Cauchy criterion,
      eq. (9)/(4.3), |.| Euclidean);
    * ``"cycle"``: |x^m - x^{m-p}| < tol for some 2 <= p <= max_period (the
      smallest such p), confirmed by polishing the orbit; starts whose orbit
      collapses to one point were converging to a fixed point in an
      oscillating way and are counted as such (an unpolished orbit shorter
      than ``merge_tol`` whose mean is an attracting point fixed to ``tol``
      counts as converging to that mean);
    * ``"divergent"``: x^m is not finite or |x^m| > divergence_radius;
    * ``"unresolved"``: none of these within ``max_iter`` maps.

    An unstable fixed point or cycle attracts no open set: a start that met
    a criterion near one (a chance near-return of chaotic dynamics, a weakly
    unstable point, the stable manifold of a saddle) is iterated on to the
    end of its ``max_iter`` budget and classified by where it is then.

    Candidates closer than ``merge_tol`` are one fixed point (one cycle);
    the one with the smallest residual leads, so reported fixed points are
    pairwise farther apart than ``merge_tol``.  With ``refine`` each is
    polished by damped Newton's method on F(x) = Phi(x) - x (on Phi^p(x) - x
    for cycles) and kept when |F| <= refine_tol max(1, |x|) and it stays
    within reach of the candidate; otherwise the unrefined candidate (residual
    < tol) is reported with ``refined`` false.

    Parameters
    ----------
    net : Network
        With n_in = n_out = n.
    starts : array_like, shape (M, n), optional
        Default: :func:`grid` on [-1, 1]^n with step 0.05 (the papers' 41 x 41
        grid for n = 2); required for n > 3 (see :func:`random_starts`).
    tol : float, default 1e-5
        Convergence tolerance of the Cauchy criterion (the papers' epsilon).
    max_iter : int, default 50
        Maximum number of applications of Phi (the papers' N_0).
    merge_tol : float, default 1e-3
        Distance below which two fixed points (two cycles) are the same.
    max_period : int, default 8
        Longest cycle period looked for.
    refine : bool, default True
        Polish fixed points and cycles with Newton's method.
    chunk_size : int, optional
        Rows per evaluation of Phi (memory bound); the result does not depend
        on it.
    divergence_radius : float, default 1e8
    refine_tol : float, default 1e-12
    neutral_tol : float, default 1e-8
        Spectral radii within neutral_tol of 1 are ``"neutral"``.
    progress : bool, default False
        A tqdm bar on stderr over the maps (the result does not depend on it).
    blas_threads : int or None, default 1
        BLAS threads during the search (restored afterwards).  The search
        is many small matrix products, which threaded BLAS makes slower on
        a loaded machine (1.1-3.3 times measured with two threads on two
        shared cores); parallelise over networks instead (the ensembles
        do).  None leaves BLAS as it is.  Only the speed depends on it
        (and the last bits of the products, which BLAS may sum in another
        order with more threads).

    Returns
    -------
    FixedPointResult

    Raises
    ------
    ValueError
        For a network with n_in != n_out, starts of the wrong shape, empty or
        non-finite, and non-positive tolerances or counts.
    """
    n = _check_net(net)
    x0 = _default_starts(starts, n)
    tol, merge_tol, divergence_radius, refine_tol, neutral_tol = _check_common(
        tol, merge_tol, divergence_radius, refine_tol, neutral_tol)
    max_iter = int_at_least("max_iter", max_iter, 1, integral_floats=True)
    max_period = int_at_least("max_period", max_period, 1, integral_floats=True)
    rows = _chunk_rows(net, chunk_size, max(net.widths))
    jrows = _chunk_rows(net, chunk_size, max(net.widths) * n)
    if not isinstance(refine, (bool, np.bool_)):
        raise ValueError(f"refine must be True or False, got {refine!r}")

    budget = np.full(x0.shape[0], max_iter)
    from tqdm.auto import tqdm

    with tqdm(total=max_iter, desc="iterating", unit="map", disable=not progress, leave=False) as bar:
        code, period, iters, cand, cand_res, state = _iterate(net, x0, tol, budget, max_period, divergence_radius,
                                                              rows, bar=bar)
    settings = (tol, merge_tol, refine, refine_tol, neutral_tol, jrows)
    code2, labels, cycles, fps, res, refd, stab = _classify(net, code, period, cand, cand_res, *settings)
    # an unstable fixed point or cycle attracts no open set: a start that met
    # the criterion near one (near-return of chaotic dynamics, weakly unstable
    # point, stable manifold of a saddle) is iterated to the end of its budget
    # and classified by where it is then
    unstable_fp = np.array([s.kind == "unstable" for s in stab] + [False])
    unstable_cy = np.array([c.stability.kind == "unstable" for c in cycles] + [False])
    resume = (unstable_fp[np.where(code2 == _FP, labels, -1)] | unstable_cy[np.where(code2 == _CYCLE, labels, -1)])
    resume &= iters < max_iter
    if resume.any():
        r = np.flatnonzero(resume)
        sub = _iterate(net, state[r], tol, max_iter - iters[r], max_period, divergence_radius, rows, early=False)
        code[r], period[r], cand[r], cand_res[r] = sub[0], sub[1], sub[3], sub[4]
        iters[r] += sub[2]
        code2, labels, cycles, fps, res, refd, stab = _classify(net, code, period, cand, cand_res, *settings)
    code = code2
    for a in (fps, res, refd, labels, iters, x0):
        a.setflags(write=False)
    status = _STATUS_ARRAY[code]
    status.setflags(write=False)
    params = dict(method="iteration", tol=tol, max_iter=max_iter, merge_tol=merge_tol, max_period=max_period,
                  refine=bool(refine), chunk_size=chunk_size, divergence_radius=divergence_radius,
                  refine_tol=refine_tol, neutral_tol=neutral_tol, norm="euclidean")
    unresolved = float(np.mean(code == _UNRESOLVED))
    if unresolved > 0.5:
        warnings.warn(f"{100 * unresolved:.1f}% of the starts are unresolved after max_iter={max_iter} maps "
                      f"(no fixed point, cycle or divergence detected): raise max_iter", UnresolvedWarning,
                      stacklevel=3)  # past the blas_limited wrapper
    return FixedPointResult(fixed_points=fps, labels=labels, status=status, cycles=tuple(cycles),
                            fractions=_fractions(code, labels, fps.shape[0], len(cycles)), stability=tuple(stab),
                            residuals=res, refined=refd, iterations=iters, starts=x0, params=params)


@blas_limited
def find_all_fixed_points(net: Network, starts, tol: float = 1e-12, max_iter: int = 100, merge_tol: float = 1e-3,
                          chunk_size: Optional[int] = None, *, divergence_radius: float = 1e8,
                          neutral_tol: float = 1e-8, blas_threads: Optional[int] = 1) -> FixedPointResult:
    """Fixed points of Phi, stable or not, by Newton's method from every start.

    Damped Newton's method on F(x) = Phi(x) - x, F' = DPhi - I (least squares
    where F' is singular) runs from every start; it converges to unstable
    fixed points as well, which iteration of Phi cannot reach.

    Parameters
    ----------
    net : Network
        With n_in = n_out = n.
    starts : array_like, shape (M, n)
    tol : float, default 1e-12
        A start converged when |F(x)| <= tol max(1, |x|).
    max_iter : int, default 100
        Maximum number of Newton steps.
    merge_tol : float, default 1e-3
    chunk_size : int, optional
    divergence_radius : float, default 1e8
    neutral_tol : float, default 1e-8
    blas_threads : int or None, default 1
        BLAS threads during the search, as in :func:`find_fixed_points`.

    Returns
    -------
    FixedPointResult
        With ``params["method"] == "newton"``: ``labels``/``fractions``
        describe the Newton basins (which fixed point Newton's method reaches
        from each start), not the basins of attraction of Phi; ``cycles`` is
        empty; ``"unresolved"`` starts stalled at a non-zero local minimum of
        |F| or ran out of steps.
    """
    n = _check_net(net)
    x0 = _check_starts(starts, n)
    tol, merge_tol, divergence_radius, _, neutral_tol = _check_common(tol, merge_tol, divergence_radius, tol,
                                                                      neutral_tol)
    max_iter = int_at_least("max_iter", max_iter, 1, integral_floats=True)
    jrows = _chunk_rows(net, chunk_size, max(net.widths) * n)
    x, r, steps = _newton(_fixed_point_fun(net, jrows), x0, max_steps=max_iter, radius=divergence_radius)
    xn = _norm(x)
    code = np.full(x0.shape[0], _UNRESOLVED, dtype=np.int8)
    code[r <= tol * np.maximum(1.0, xn)] = _FP
    code[~np.isfinite(r) | ~np.isfinite(xn) | (xn > divergence_radius)] = _DIVERGENT
    fp_idx = np.flatnonzero(code == _FP)
    labels = np.full(x0.shape[0], -1)
    fps, res, refd, fp_labels = _merge_fixed_points(net, x[fp_idx], r[fp_idx], tol, merge_tol,
                                                    False, tol, jrows)
    labels[fp_idx] = fp_labels
    refd = np.ones(fps.shape[0], dtype=bool)
    stab = _stability(_map_jacobian(net, fps, jrows)[1], neutral_tol)
    for a in (fps, res, refd, labels, steps, x0):
        a.setflags(write=False)
    status = _STATUS_ARRAY[code]
    status.setflags(write=False)
    params = dict(method="newton", tol=tol, max_iter=max_iter, merge_tol=merge_tol, chunk_size=chunk_size,
                  divergence_radius=divergence_radius, neutral_tol=neutral_tol, norm="euclidean")
    return FixedPointResult(fixed_points=fps, labels=labels, status=status, cycles=(),
                            fractions=_fractions(code, labels, fps.shape[0], 0), stability=tuple(stab),
                            residuals=res, refined=refd, iterations=steps, starts=x0, params=params)
