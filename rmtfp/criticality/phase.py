"""The order-to-chaos line chi_1(sigma_w^2, sigma_b^2) = 1 and the phase diagram."""

from __future__ import annotations

import dataclasses
import math
from typing import Sequence

import numpy as np
from scipy import optimize

from ..activations import get
from ..errors import ConvergenceError
from .scales import _check, depth_scales, fixed_point

__all__ = ["critical_point", "critical_line", "CriticalLine", "phase_diagram", "PhaseDiagram"]


def _chi1(act, sigma_w2, sigma_b2):
    q = fixed_point(act, sigma_w2, sigma_b2)
    if q == 0:
        return sigma_w2 * float(act.dphi(np.zeros(1))[0]) ** 2, q
    return sigma_w2 * act.d2_moment(1, q), q


def critical_point(activation, sigma_b2: float = 0.0) -> tuple[float, float]:
    """(sigma_w2, q*) on the critical line chi_1 = 1 at bias variance ``sigma_b2``.

    chi_1 - 1 changes sign once along sigma_w2 (bracketed by doubling from sigma_w2 = 1/(4 max phi'^2))
    and Brent's method polishes the root to xtol = 1e-15 sigma_w2, so chi_1 = 1 to the accuracy of q*
    and E[phi'^2] (~1e-13).  Laws of phi'^2 independent of q (linear, ReLU) give sigma_w2 =
    1/E[phi'^2] directly; q* is then inf for sigma_b2 > 0 (the variance map has no fixed point at
    criticality) and reported as such.
    """
    act = get(activation)
    sigma_b2 = _check("sigma_b2", sigma_b2, True)
    if 0 < sigma_b2 < 1e-10:
        raise ValueError(f"sigma_b2={sigma_b2!r}: bias variances in (0, 1e-10) put q* below the resolution of the "
                         "variance-map solver; use 0 or a value >= 1e-10")
    if not act.depends_on_q:
        sw2 = 1.0 / act.d2_moment(1)
        return sw2, (math.inf if sigma_b2 > 0 else math.nan)

    def f(sw2):
        return _chi1(act, sw2, sigma_b2)[0] - 1

    lo = 0.25 / act.d2_max
    if f(lo) >= 0:
        raise ConvergenceError(f"chi_1 >= 1 already at sigma_w2={lo} for {act.name!r}", last=lo)
    hi = lo
    for _ in range(60):
        hi *= 2
        try:
            if f(hi) > 0:
                break
        except ConvergenceError:
            break
        lo = hi
    else:  # pragma: no cover
        raise ConvergenceError(f"no critical point for {act.name!r} at sigma_b2={sigma_b2}", last=hi)
    root = optimize.brentq(f, lo, hi, xtol=1e-15 * hi, rtol=4 * np.finfo(float).eps, maxiter=200)
    return float(root), float(_chi1(act, root, sigma_b2)[1])


@dataclasses.dataclass(frozen=True)
class CriticalLine:
    """sigma_w2(sigma_b2) on chi_1 = 1, with q* and the residual |chi_1 - 1| at each point."""

    sigma_b2: np.ndarray
    sigma_w2: np.ndarray
    q_star: np.ndarray
    residual: np.ndarray
    activation: str

    def to_dict(self) -> dict:
        def fl(a):
            return [float(x) if math.isfinite(x) else str(float(x)) for x in a]

        return {"activation": self.activation, "sigma_b2": fl(self.sigma_b2), "sigma_w2": fl(self.sigma_w2),
                "q_star": fl(self.q_star), "residual": fl(self.residual)}


def critical_line(activation, sigma_b2: Sequence[float]) -> CriticalLine:
    """The critical line at the given bias variances (see :func:`critical_point`)."""
    act = get(activation)
    sb = np.atleast_1d(np.asarray(sigma_b2, dtype=float))
    if sb.size == 0:
        raise ValueError("sigma_b2 must hold at least one value")
    sw, qs, res = [], [], []
    for b in sb:
        w, q = critical_point(act, b)
        sw.append(w)
        qs.append(q)
        res.append(abs(_chi1(act, w, b)[0] - 1) if act.depends_on_q else abs(w * act.d2_moment(1) - 1))
    return CriticalLine(sb, np.array(sw), np.array(qs), np.array(res), act.name)


@dataclasses.dataclass(frozen=True)
class PhaseDiagram:
    """chi_1 and xi_c on a (sigma_b2, sigma_w2) grid, with the critical line.

    ``chi_1[i, j]``, ``xi_c[i, j]`` at sigma_w2[i], sigma_b2[j]; NaN where q* does not exist.
    """

    sigma_b2: np.ndarray
    sigma_w2: np.ndarray
    chi_1: np.ndarray
    xi_c: np.ndarray
    xi_q: np.ndarray
    line: CriticalLine
    activation: str

    def to_dict(self) -> dict:
        def clean(a):
            return [[float(x) if math.isfinite(x) else None for x in row] for row in np.asarray(a)]

        return {"activation": self.activation, "sigma_b2": self.sigma_b2.tolist(),
                "sigma_w2": self.sigma_w2.tolist(), "chi_1": clean(self.chi_1), "xi_c": clean(self.xi_c),
                "xi_q": clean(self.xi_q), "critical_line": self.line.to_dict()}


def phase_diagram(activation, sigma_b2: Sequence[float], sigma_w2: Sequence[float]) -> PhaseDiagram:
    """chi_1, xi_c and xi_q over the grid (ValueError/ConvergenceError points become NaN)."""
    act = get(activation)
    sb = np.asarray(sigma_b2, dtype=float)
    sw = np.asarray(sigma_w2, dtype=float)
    if sb.ndim != 1 or sw.ndim != 1 or sb.size < 2 or sw.size < 2:
        raise ValueError("sigma_b2 and sigma_w2 must be 1-d grids of at least 2 values")
    chi = np.full((sw.size, sb.size), np.nan)
    xic = np.full_like(chi, np.nan)
    xiq = np.full_like(chi, np.nan)
    for i, w in enumerate(sw):
        for j, b in enumerate(sb):
            try:
                d = depth_scales(act, w, b)
            except (ValueError, ConvergenceError):
                continue
            chi[i, j], xic[i, j], xiq[i, j] = d.chi_1, d.xi_c, d.xi_q
    return PhaseDiagram(sb, sw, chi, xic, xiq, critical_line(act, sb), act.name)
