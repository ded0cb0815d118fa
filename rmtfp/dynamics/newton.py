"""Damped Newton's method on F(x) = Phi^p(x) - x for a batch of points (fixed points, p = 1, and cycles)."""

from __future__ import annotations

import numpy as np

from .maps import _map, _map_jacobian, _norm
from .network import Network
from .results import eigenvalues_of

_EPS = np.finfo(float).eps
#: |F| below _ROUNDING_FLOOR eps max(1, |x|) is the rounding of F itself (the subtraction Phi(x) - x alone rounds
#: by up to eps |x| / 2 per coordinate, Phi's own last layer as much again): a further step only chases it
#: (measured: a step from 3.9e-16 to 3.3e-16 and another to 8.3e-17 at |x| = 1.4 on a hard-tanh network)
_ROUNDING_FLOOR = 4


def _solve(jac: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Batched solve of jac dx = rhs; least squares where jac is singular."""
    try:
        return np.linalg.solve(jac, rhs[..., None])[..., 0]
    except np.linalg.LinAlgError:
        return (np.linalg.pinv(jac) @ rhs[..., None])[..., 0]


def _newton(fun, x0: np.ndarray, max_steps: int = 50, radius: float = np.inf):
    """Damped Newton's method on F(x) = G(x) - x = 0 for a batch of points.

    ``fun(x)`` returns F(x) (k, n) and G'(x) (k, n, n) (F' = G' - I).  A step is halved
    (up to 30 times) until |F| decreases, starting from twice the damping
    accepted at the point's previous step (at most the full step, so that
    on a piecewise-smooth F with many kinks the step length is not searched
    anew from 1 each time); a point stops when no halving
    decreases |F| (halving stops once the step is below the rounding of x,
    t |dx| <= eps max(1, |x|)), when |F| <= 4 eps max(1, |x|) (the rounding
    of F itself), or after ``max_steps``.
    Points leaving the ball of radius ``radius`` or turning non-finite stop.

    Returns
    -------
    x, |F(x)|, steps, G'(x) : the final points, residuals, Newton steps taken
    and G' there (DPhi at a polished fixed point, as ``fun`` computed it).
    """
    x = x0.copy()
    eye = np.eye(x.shape[1])
    f, jac = fun(x)
    r = _norm(f)
    steps = np.zeros(x.shape[0], dtype=int)
    # first trial step of each point: twice its last accepted damping, at most 1
    first = np.ones(x.shape[0])
    active = np.isfinite(r) & np.all(np.isfinite(jac), axis=(1, 2))
    for _ in range(max_steps):
        active &= r > _ROUNDING_FLOOR * _EPS * np.maximum(1.0, _norm(x))
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        with np.errstate(all="ignore"):
            dx = _solve(jac[idx] - eye, -f[idx])
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
    return x, r, steps, jac


def _polish(fun, x0: np.ndarray, res0: np.ndarray, refine_tol: float, merge_tol: float, neutral_tol: float):
    """Newton's method from the candidates ``x0`` (residuals ``res0``), each polished point kept where
    :func:`_accept` admits it.

    Returns the points (polished where admitted, the candidate elsewhere), which were polished, and the
    eigenvalues of G' at Newton's final points.
    """
    xn, rn, _, jn = _newton(fun, x0)
    ev = eigenvalues_of(jn)
    ok = _accept(xn, x0, rn, res0, np.max(np.abs(ev), axis=1), refine_tol, merge_tol, neutral_tol)
    return np.where(ok[:, None], xn, x0), ok, ev


def _fixed_point_fun(net: Network, rows: int):
    """F(x) = Phi(x) - x and DPhi(x), for :func:`_newton`."""

    def fun(x):
        y, jac = _map_jacobian(net, x, rows)
        return y - x, jac

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
    """F(x) = Phi^p(x) - x and D(Phi^p)(x), for :func:`_newton`."""

    def fun(x):
        y, jac = _power_jacobian(net, x, p, rows)
        return y - x, jac

    return fun


def _accept(refined: np.ndarray, start: np.ndarray, res: np.ndarray, res0: np.ndarray, rho: np.ndarray,
            refine_tol: float, merge_tol: float, neutral_tol: float) -> np.ndarray:
    """Whether a Newton-refined point is fixed to ``refine_tol`` and belongs to the start it came from.

    It must lie within ``merge_tol`` of the unrefined candidate, or within
    twice the contraction estimate |F(x_0)| / (1 - rho) of a fixed point
    with spectral radius rho < 1 - neutral_tol (slow convergence stops the
    Cauchy criterion far from x*).  A neutral point (rho within
    ``neutral_tol`` of 1) attracts nothing: the estimate does not hold there
    (on a rotation, where Phi^p is the identity to rounding, Newton's method
    may move anywhere in a plane of fixed points).
    """
    dist = _norm(refined - start)
    fixed = res <= refine_tol * np.maximum(1.0, _norm(refined))
    with np.errstate(divide="ignore", invalid="ignore"):
        reach = np.where(rho < 1 - neutral_tol, 2 * res0 / (1 - rho), 0.0)
    return fixed & ((dist <= merge_tol) | (dist <= reach))
