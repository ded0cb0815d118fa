"""chi_1, chi_q, c*, chi_c and the depth scales xi_q, xi_c (Schoenholz et al. 2017).

At the fixed point q* of q -> sigma_w^2 E[phi(sqrt(q) z)^2] + sigma_b^2:

    chi_1 = sigma_w^2 E[phi'(h)^2]                       (the mean eigenvalue of J J^T per layer)
    chi_q = dV/dq (q*) = sigma_w^2 E[phi(h) phi'(h) h]/q*  (= sigma_w^2 E[phi'^2 + phi phi''], Gaussian
                                                           integration by parts; no delta functions for
                                                           piecewise-linear phi)
    xi_q  = -1/log chi_q
    c*    = the stable fixed point of the correlation map C(c) in [-1, 1] (1 in the ordered phase)
    chi_c = C'(c*) = sigma_w^2 E[phi'(u1) phi'(u2)] at c*  (= chi_1 when c* = 1)
    xi_c  = -1/log chi_c,

so xi_c diverges on the critical line chi_1 = 1.  The phase is "ordered" for chi_1 < 1 and
"chaotic" for chi_1 > 1.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Optional

import numpy as np
from scipy import optimize

from ..activations import get
from ..errors import ConvergenceError
from .gaussian2d import bivariate_expectation, correlation_map

__all__ = ["DepthScales", "depth_scales", "chi_q", "c_star", "chi_c", "fixed_point"]

#: |chi_1 - 1| below this is reported as the critical phase
CRITICAL_TOL = 1e-9


def _check(name, v, allow_zero):
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real number, got {v!r}") from None
    if not math.isfinite(x) or x < 0 or (x == 0 and not allow_zero):
        raise ValueError(f"{name} must be finite and {'>= 0' if allow_zero else '> 0'}, got {v!r}")
    return x


def fixed_point(act, sigma_w2: float, sigma_b2: float) -> float:
    """q* from q0 = 1, or from q0 = sigma_b2 when q* is below the reach of the search from 1 (tiny sigma_b2)."""
    try:
        return act.q_star(sigma_w2, sigma_b2)
    except ConvergenceError:
        if not 0 < sigma_b2 < 1:
            raise
        return act.q_star(sigma_w2, sigma_b2, q0=sigma_b2)


def chi_q(activation, sigma_w2: float, q: float) -> float:
    """dV/dq at q: sigma_w^2 E[phi(h) phi'(h) h]/q, h ~ N(0, q) (sigma_w^2 phi'(0)^2 at q = 0)."""
    act = get(activation)
    if q == 0:
        return sigma_w2 * float(act.dphi(np.zeros(1))[0]) ** 2
    g, wg = act._quad_grid(q, fold=False)
    h = math.sqrt(q) * g
    return float(sigma_w2 * np.sum(wg * act.phi(h) * act.dphi(h) * h) / q)


def c_star(activation, sigma_w2: float, sigma_b2: float = 0.0, q: Optional[float] = None,
           method: str = "auto") -> float:
    """Stable fixed point of the correlation map (1 in the ordered phase).

    In the chaotic phase C(c) - c < 0 just below c = 1 (C'(1) = chi_1 > 1); the stable fixed point is
    the largest root below 1, bracketed on a grid of c and polished by Brent's method (xtol 1e-14).
    """
    act = get(activation)
    if q is None:
        q = fixed_point(act, sigma_w2, sigma_b2)
    chi1 = sigma_w2 * act.d2_moment(1, q) if q > 0 else sigma_w2 * float(act.dphi(np.zeros(1))[0]) ** 2
    if chi1 <= 1 or q == 0:
        return 1.0

    def f(c):
        return correlation_map(act, c, q, sigma_w2, sigma_b2, method) - c

    grid = np.concatenate([np.linspace(-1.0, 0.9, 20), 1 - np.geomspace(0.1, 1e-7, 25)])
    vals = np.array([f(c) for c in grid])
    # the largest sign change from + to - below 1
    idx = np.flatnonzero((vals[:-1] >= 0) & (vals[1:] < 0))
    if idx.size == 0:
        if np.all(vals < 0):  # C(c) < c everywhere: c* = -1 cannot be (C(-1) >= -1); report the bottom
            raise ConvergenceError(f"no fixed point of the correlation map below 1 for {act.name!r}", last=grid)
        return 1.0  # chi_1 - 1 below the resolution of the grid: c* within 1e-7 of 1
    i = idx[-1]
    if vals[i] == 0:
        return float(grid[i])
    return float(optimize.brentq(f, grid[i], grid[i + 1], xtol=1e-14, rtol=4 * np.finfo(float).eps))


def chi_c(activation, sigma_w2: float, c: float, q: float, method: str = "auto") -> float:
    """C'(c) = sigma_w^2 E[phi'(u1) phi'(u2)]."""
    return sigma_w2 * bivariate_expectation(activation, "dphi", q, c, method)


@dataclasses.dataclass(frozen=True)
class DepthScales:
    """Signal propagation at (sigma_w2, sigma_b2).

    Attributes
    ----------
    q_star, chi_1, chi_q, c_star, chi_c, xi_q, xi_c : float
        See the module documentation; xi = inf where chi = 1.
    phase : str
        "ordered", "critical" (|chi_1 - 1| <= 1e-9) or "chaotic".
    params : dict
    """

    q_star: float
    chi_1: float
    chi_q: float
    c_star: float
    chi_c: float
    xi_q: float
    xi_c: float
    phase: str
    params: dict

    def to_dict(self) -> dict:
        return {k: (v if not isinstance(v, float) or math.isfinite(v) else str(v))
                for k, v in dataclasses.asdict(self).items()}


def _xi(chi: float) -> float:
    if chi <= 0:
        return 0.0
    if chi == 1:
        return math.inf
    return -1 / math.log(chi)


def depth_scales(activation, sigma_w2: float, sigma_b2: float = 0.0, method: str = "auto") -> DepthScales:
    """q*, chi_1, chi_q, c*, chi_c, xi_q, xi_c and the phase (see the module documentation).

    Raises
    ------
    ValueError
        Bad input, or a variance map without a unique fixed point (linear at sigma_w2 = 1 and
        ReLU at sigma_w2 = 2 with sigma_b2 = 0: every q is one).
    ConvergenceError
        When q* does not exist (q grows without bound: ReLU/linear in the chaotic phase).
    """
    act = get(activation)
    sigma_w2 = _check("sigma_w2", sigma_w2, False)
    sigma_b2 = _check("sigma_b2", sigma_b2, True)
    q = fixed_point(act, sigma_w2, sigma_b2)
    chi1 = sigma_w2 * act.d2_moment(1, q) if q > 0 else sigma_w2 * float(act.dphi(np.zeros(1))[0]) ** 2
    cq = chi_q(act, sigma_w2, q)
    cs = c_star(act, sigma_w2, sigma_b2, q, method)
    cc = chi1 if cs == 1.0 else chi_c(act, sigma_w2, cs, q, method)
    phase = "critical" if abs(chi1 - 1) <= CRITICAL_TOL else ("ordered" if chi1 < 1 else "chaotic")
    return DepthScales(float(q), float(chi1), float(cq), float(cs), float(cc), _xi(cq), _xi(cc), phase,
                       dict(activation=act.name, sigma_w2=sigma_w2, sigma_b2=sigma_b2, method=method))
