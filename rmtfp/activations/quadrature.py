"""Gaussian quadrature over h ~ N(0, q): the route of every quantity that has no closed form.

Composite Gauss-Legendre panels on |g| <= 12 (h = sqrt(q) g; the neglected
Gaussian mass is ~1e-32), split at the break points of phi' and folded onto
g >= 0 when phi'^2 is even; at high precision, ``mpmath.quad`` split at the
same break points.  :class:`GaussianQuadrature` is a part of
:class:`~rmtfp.activations.core.Activation`.
"""

from __future__ import annotations

import functools
import math

import mpmath
import numpy as np
import sympy as sp

__all__ = ["GaussianQuadrature"]

_QUAD_HALF_WIDTH = 12.0  # |g| <= 12 for g ~ N(0,1): neglected mass ~ 1e-32
_QUAD_PANEL = 0.25
_QUAD_ORDER = 20


class GaussianQuadrature:
    """E[f(h)], h ~ N(0, q), by quadrature (a base of :class:`~rmtfp.activations.core.Activation`).

    Uses the activation's ``d2_structure`` (its break points), ``derivative``, ``variable``, ``dphi``.
    """

    @functools.lru_cache(maxsize=64)
    def _quad_grid(self, q: float, fold: bool = True, panel: float = _QUAD_PANEL):
        """Composite Gauss-Legendre nodes g and weights (times the N(0,1) density), h = sqrt(q) g.

        Panels of width 1/4 on |g| <= 12 (on g >= 0 only, with doubled
        weights, when phi'^2 is even), split at the break points of phi'.
        """
        sq = math.sqrt(q)
        fold = fold and self._d2_even
        start = 0.0 if fold else -_QUAD_HALF_WIDTH
        edges = set(np.arange(start, _QUAD_HALF_WIDTH + 1e-9, panel).tolist())
        for b in self.d2_structure.breakpoints:
            g = float(b) / sq
            if start < g < _QUAD_HALF_WIDTH:
                edges.add(g)
        edges = np.array(sorted(edges))
        t, w = np.polynomial.legendre.leggauss(_QUAD_ORDER)
        lo, hi = edges[:-1, None], edges[1:, None]
        g = (0.5 * (hi - lo) * t + 0.5 * (hi + lo)).ravel()
        wg = (0.5 * (hi - lo) * w).ravel() * np.exp(-0.5 * g * g) / math.sqrt(2 * math.pi)
        return g, (2 * wg if fold else wg)

    @functools.cached_property
    def _d2_even(self) -> bool:
        """Whether phi'(x)^2 = phi'(-x)^2 (then quadrature folds onto x >= 0)."""
        d2 = self.derivative**2
        x = self.variable
        try:
            return bool(sp.simplify(d2 - d2.subs(x, -x)) == 0)
        except Exception:  # pragma: no cover - sympy failure means "not shown even"
            return False

    @functools.lru_cache(maxsize=64)
    def _quad_nodes(self, q: float, panel: float = _QUAD_PANEL):
        """Quadrature weights and D^2 = phi'(sqrt(q) g)^2 on the nodes (panels of width ``panel``)."""
        g, wg = self._quad_grid(q, panel=panel)
        with np.errstate(all="ignore"):
            d2 = self.dphi(math.sqrt(q) * g) ** 2
        if not np.all(np.isfinite(d2)):
            raise ValueError(f"phi' of activation {self.name!r} is not finite on the quadrature nodes at q={q}")
        return wg, d2

    def _quad_mp(self, f, q):
        """E[f(h)] for h ~ N(0, q) by mpmath quadrature split at the break points."""
        sq = mpmath.sqrt(q)
        pts = sorted({mpmath.mpf(sp.N(b, mpmath.mp.dps + 5)) / sq for b in self.d2_structure.breakpoints})
        dens = lambda g: mpmath.exp(-g * g / 2) / mpmath.sqrt(2 * mpmath.pi)  # noqa: E731
        return mpmath.quad(lambda g: f(sq * g) * dens(g), [-mpmath.inf] + pts + [mpmath.inf])
