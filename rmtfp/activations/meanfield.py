"""The mean-field quantities of phi: the variance map, its fixed point q* and chi.

V(q) = E[phi(sqrt(q) g)^2] (closed form or quadrature), one step of the
recursion q -> sigma_w^2 V(q) + sigma_b^2, its attracting fixed point q*
(bracketed, polished by Brent's method or ``mpmath.findroot``), and
chi = sigma_w^2 E[phi'(h)^2].  :class:`MeanField` is a part of
:class:`~rmtfp.activations.core.Activation`.
"""

from __future__ import annotations

import functools
import math
from typing import Optional

import mpmath
import numpy as np
import sympy as sp
from scipy import optimize

from .._checks import positive_or_mpf as _check_positive
from ..errors import ConvergenceError
from ..precision import check_dps, round_to, workdps
from .derive import Q

__all__ = ["MeanField"]

_MOMENT_METHODS = ("auto", "formula", "quadrature")


class MeanField:
    """V(q), the variance map, q* and chi (a base of :class:`~rmtfp.activations.core.Activation`).

    Uses the activation's ``phi``, ``phi_mp``, ``second_moment_expr``, ``d2_moment`` and its quadrature.
    """

    def second_moment(self, q: float, method: str = "auto", dps: Optional[int] = None):
        """V(q) = E[phi(sqrt(q) g)^2], g ~ N(0, 1) (the variance map before sigma_w^2).

        ``method="formula"`` uses :attr:`second_moment_expr`;
        ``"quadrature"`` integrates numerically; ``"auto"`` prefers the formula.
        """
        if method not in _MOMENT_METHODS:
            raise ValueError(f"method must be one of {_MOMENT_METHODS}, got {method!r}")
        q = _check_positive("q", q, allow_zero=True)
        dps = check_dps(dps)
        if method == "formula" and self.second_moment_expr is None:
            raise ValueError(f"activation {self.name!r} has no second_moment_expr; use method='quadrature'")
        use_formula = self.second_moment_expr is not None and method != "quadrature"
        if q == 0:
            v = self.phi_mp(mpmath.mpf(0)) ** 2 if dps else float(self.phi(0.0)) ** 2
            return v
        if dps is None:
            if use_formula:
                return float(self._second_moment_np(float(q)))
            return float(self._quad_phi2_np(float(q)))
        with workdps(dps):
            r = self._second_moment_mp(mpmath.mpf(q), use_formula)
        return round_to(r, dps)

    @functools.cached_property
    def _second_moment_np(self):
        return sp.lambdify(Q, self.second_moment_expr, modules=["scipy", "numpy"])

    def _quad_phi2_np(self, q: float) -> float:
        g, wg = self._quad_grid(q, fold=False)
        return float(np.sum(wg * self.phi(math.sqrt(q) * g) ** 2))

    def variance_map(self, q: float, sigma_w2: float, sigma_b2: float = 0.0) -> float:
        """One mean-field step: q -> sigma_w^2 E[phi(sqrt(q) g)^2] + sigma_b^2."""
        return sigma_w2 * self.second_moment(q) + sigma_b2

    def q_star(self, sigma_w2: float, sigma_b2: float = 0.0, q0: float = 1.0, tol: float = 1e-14,
               dps: Optional[int] = None):
        """Attracting fixed point q* = sigma_w^2 E[phi(sqrt(q*) g)^2] + sigma_b^2.

        The fixed point reached by the mean-field recursion started at ``q0``
        (the variance of the first pre-activations): it is bracketed in the
        direction the recursion moves and polished by Brent's method
        (mpmath.findroot when ``dps`` is given).

        Raises
        ------
        ValueError
            For sigma_w2 <= 0 or sigma_b2 < 0, and when the variance map has
            a continuum of fixed points (e.g. linear at sigma_w2 = 1,
            sigma_b2 = 0, or ReLU at sigma_w2 = 2, sigma_b2 = 0): then q must
            be given explicitly.
        ConvergenceError
            When q grows without bound (no finite fixed point).
        """
        sigma_w2_in, sigma_b2_in = sigma_w2, sigma_b2
        sigma_w2 = float(_check_positive("sigma_w2", sigma_w2))
        sigma_b2 = float(_check_positive("sigma_b2", sigma_b2, allow_zero=True))
        q0 = _check_positive("q0", q0)
        dps = check_dps(dps)

        def f(q: float) -> float:
            return sigma_w2 * self.second_moment(q) + sigma_b2 - q

        f0 = f(q0)
        scale = max(q0, 1.0)
        if abs(f0) <= 1e-13 * scale:
            # q0 is (numerically) a fixed point: check for a continuum
            if abs(f(q0 * 2)) <= 1e-12 * scale and abs(f(q0 / 2)) <= 1e-12 * scale:
                raise ValueError(
                    f"every q is a fixed point of the variance map of {self.name!r} at "
                    f"sigma_w2={sigma_w2}, sigma_b2={sigma_b2}; pass q explicitly"
                )
            root = q0
        elif f0 > 0:
            lo, hi = q0, q0
            for _ in range(200):
                hi = hi * 2
                if f(hi) <= 0:
                    break
                lo = hi
            else:
                raise ConvergenceError(
                    f"the variance map of {self.name!r} at sigma_w2={sigma_w2}, sigma_b2={sigma_b2} "
                    "has no finite fixed point above q0 (q grows without bound)", last=hi)
            root = optimize.brentq(f, lo, hi, xtol=tol * hi, rtol=4 * np.finfo(float).eps)
        else:
            # the recursion decreases: find the largest root below q0.  A sign
            # change counts only when f clears its rounding level (16 eps q).
            hi, lo = q0, q0
            root = None
            while lo > 1e-13 * q0:
                lo = lo / 2
                if f(lo) > 16 * np.finfo(float).eps * lo:
                    root = optimize.brentq(f, lo, hi, xtol=tol * lo, rtol=4 * np.finfo(float).eps)
                    break
                hi = lo
            if root is None:
                if sigma_b2 == 0 and float(self.phi(0.0)) == 0.0:
                    # q = 0 is the attracting fixed point (approached slowly, like 1/l at criticality)
                    root = 0.0
                else:
                    raise ConvergenceError(
                        f"could not bracket q* for {self.name!r} at sigma_w2={sigma_w2}, sigma_b2={sigma_b2}",
                        last=lo)
        if dps is None or root == 0.0:
            return mpmath.mpf(root) if dps else float(root)
        with workdps(dps):
            try:
                sw2, sb2 = mpmath.mpf(sigma_w2_in), mpmath.mpf(sigma_b2_in)
                r = mpmath.findroot(lambda q: sw2 * self._second_moment_mp(q) + sb2 - q, mpmath.mpf(root))
            except (ValueError, ZeroDivisionError) as exc:  # pragma: no cover
                raise ConvergenceError(f"q* refinement failed: {exc}", last=root) from exc
        return round_to(r, dps)

    def _second_moment_mp(self, q, use_formula: bool = True):
        if use_formula and self.second_moment_expr is not None:
            return sp.lambdify(Q, self.second_moment_expr, modules="mpmath")(q)
        return self._quad_mp(lambda h: self.phi_mp(h) ** 2, q)

    def chi(self, sigma_w2: float, sigma_b2: float = 0.0, q: Optional[float] = None) -> float:
        """chi = sigma_w^2 E[phi'(h)^2], h ~ N(0, q) (q = q* by default).

        The mean eigenvalue of J J^T at depth L is chi^L.
        """
        sigma_w2 = _check_positive("sigma_w2", sigma_w2)
        if q is None and self.depends_on_q:
            q = self.q_star(sigma_w2, sigma_b2)
        return sigma_w2 * self.d2_moment(1, q)
