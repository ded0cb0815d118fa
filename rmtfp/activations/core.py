"""The :class:`Activation` dataclass and everything derived from phi.

An activation is data: a name and an exact sympy expression phi(x).  From it
rmtfp derives phi', the law of D^2 = phi'(h)^2 for h ~ N(0, q), its moments,
its moment generating function m_K(u) = E[u D^2 / (1 - u D^2)], the
mean-field variance map and its fixed point q*, and chi = sigma_w^2 E[phi'^2].

Every numerical quantity has more than one route, selected with ``method``:

``"formula"``     the closed form derived symbolically (rational for
                  piecewise-linear phi, Lerch transcendent for erf-type phi);
``"series"``      the power series sum_k E[D^{2k}] u^k (inside its disk);
``"quadrature"``  Gaussian quadrature over h, valid for any phi;
``"auto"``        the formula where one exists, quadrature otherwise.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import warnings
from typing import Callable, Optional

import mpmath
import numpy as np
import sympy as sp
from scipy import optimize

from .._checks import positive_or_mpf as _check_positive
from ..errors import ConvergenceError
from ..precision import check_dps, round_to, workdps
from .derive import Q, D2Structure, derive_d2_structure
from .lerch import lerch_half

__all__ = ["Activation", "X"]

#: the default variable of activation expressions
X = sp.Symbol("x", real=True)

_MGF_METHODS = ("auto", "formula", "series", "quadrature")
_MOMENT_METHODS = ("auto", "formula", "quadrature")
_QUAD_HALF_WIDTH = 12.0  # |g| <= 12 for g ~ N(0,1): neglected mass ~ 1e-32
_QUAD_PANEL = 0.25
_QUAD_ORDER = 20


def _lerch_half_mp(u, a):
    """Phi(u, 1/2, a) and dPhi/du at the current mpmath precision.

    ``mpmath.lerchphi`` is used for |u| <= 50.  Beyond, it was seen to return
    stable but wrong digits (|u| ~ 1e9 at 30 digits; right at 50), so the
    integral (2/sqrt(pi)) int_0^inf exp(-a x^2)/(1 - u exp(-x^2)) dx is
    integrated by ``mpmath.quad`` split around x = sqrt(log|u|), where the
    integrand turns over (the pole lies off the real axis for |arg u| > 0.6;
    nearer the cut lerchphi is used at twice the precision).
    """
    if abs(u) <= 50 or abs(mpmath.arg(u)) <= 0.6:
        extra = 0 if abs(u) <= 50 else mpmath.mp.dps
        with mpmath.extradps(extra):
            ph = mpmath.lerchphi(u, mpmath.mpf(1) / 2, a)
            # d/du Phi(u, s, a) = (Phi(u, s-1, a) - a Phi(u, s, a)) / u
            ph1 = mpmath.lerchphi(u, -mpmath.mpf(1) / 2, a)
            return +ph, +((ph1 - a * ph) / u)
    x0 = mpmath.sqrt(mpmath.log(abs(u)))
    pts = [0, max(x0 - 1, x0 / 2), x0, x0 + 1, mpmath.inf]
    c = 2 / mpmath.sqrt(mpmath.pi)
    ph = c * mpmath.quad(lambda x: mpmath.exp(-a * x * x) / (1 - u * mpmath.exp(-x * x)), pts)
    dph = c * mpmath.quad(lambda x: mpmath.exp(-(a + 1) * x * x) / (1 - u * mpmath.exp(-x * x)) ** 2, pts)
    return ph, dph


@dataclasses.dataclass(frozen=True, eq=False)
class Activation:
    """An activation function phi given by an exact sympy expression.

    Parameters
    ----------
    name : str
        Registry key.
    expr : sympy.Expr
        phi as an expression in one real variable.  Use exact numbers
        (``sympy.Rational``, ``sympy.pi``): a Python float caps arbitrary
        precision at 53 bits.
    variable : sympy.Symbol, optional
        The variable of ``expr``; inferred when ``expr`` has one free symbol.
    second_moment_expr : sympy.Expr, optional
        Closed form of E[phi(sqrt(q) g)^2] in the symbol ``q`` (positive),
        g ~ N(0, 1).  Checked against quadrature in the test suite.
    numpy_phi, numpy_dphi : callable, optional
        Numerically stable float64 implementations overriding the lambdified
        expressions (e.g. ``scipy.special.expit`` for the sigmoid).
    description : str
        One line for listings.
    """

    name: str
    expr: sp.Expr
    variable: Optional[sp.Symbol] = None
    second_moment_expr: Optional[sp.Expr] = None
    numpy_phi: Optional[Callable] = None
    numpy_dphi: Optional[Callable] = None
    description: str = ""

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"name must be a non-empty string, got {self.name!r}")
        expr = sp.sympify(self.expr)
        free = expr.free_symbols
        var = self.variable
        if var is None:
            if len(free) > 1:
                raise ValueError(f"expr must depend on one variable, got {sorted(map(str, free))}")
            var = next(iter(free)) if free else X
        elif free - {var}:
            raise ValueError(f"expr has free symbols {sorted(map(str, free - {var}))} besides {var}")
        if expr.atoms(sp.Float):
            warnings.warn(
                f"activation {self.name!r} contains floating-point constants {sorted(expr.atoms(sp.Float))}; "
                "arbitrary-precision results are limited to 53 bits (use sympy.Rational)",
                stacklevel=3,
            )
        # normalise to the real symbol X so that derived expressions are comparable
        expr = expr.subs(var, X)
        object.__setattr__(self, "expr", expr)
        object.__setattr__(self, "variable", X)

    def __repr__(self) -> str:
        return f"Activation({self.name!r}, {self.expr})"

    # ------------------------------------------------------------------ symbolic
    @functools.cached_property
    def derivative(self) -> sp.Expr:
        """phi'(x) as a sympy expression."""
        return sp.diff(self.expr, X)

    @functools.cached_property
    def d2_structure(self) -> D2Structure:
        """The derived law of D^2 (see :mod:`rmtfp.activations.derive`)."""
        return derive_d2_structure(self.expr, X)

    @property
    def depends_on_q(self) -> bool:
        """Whether the law of D^2 depends on the pre-activation variance q."""
        return self.d2_structure.depends_on_q

    @property
    def has_closed_form(self) -> bool:
        """Whether m_K has a closed form (discrete or erf-type law)."""
        return self.d2_structure.kind != "generic"

    # ------------------------------------------------------------------ numerics
    @functools.cached_property
    def _phi_np(self) -> Callable:
        return self.numpy_phi or sp.lambdify(X, self.expr, modules=["scipy", "numpy"])

    @functools.cached_property
    def _dphi_np(self) -> Callable:
        return self.numpy_dphi or sp.lambdify(X, self.derivative, modules=["scipy", "numpy"])

    @functools.cached_property
    def _phi_mp(self) -> Callable:
        return sp.lambdify(X, self.expr, modules="mpmath")

    @functools.cached_property
    def _dphi_mp(self) -> Callable:
        return sp.lambdify(X, self.derivative, modules="mpmath")

    def phi(self, x):
        """phi evaluated elementwise on a float array (float64)."""
        x = np.asarray(x, dtype=float)
        return np.broadcast_to(np.asarray(self._phi_np(x), dtype=float), x.shape).copy()

    def dphi(self, x):
        """phi' evaluated elementwise on a float array (float64)."""
        x = np.asarray(x, dtype=float)
        return np.broadcast_to(np.asarray(self._dphi_np(x), dtype=float), x.shape).copy()

    def phi_mp(self, x):
        """phi at an mpmath number (current mpmath precision)."""
        return self._phi_mp(x)

    def dphi_mp(self, x):
        """phi' at an mpmath number (current mpmath precision)."""
        return self._dphi_mp(x)

    @functools.cached_property
    def lipschitz(self) -> float:
        """sup |phi'| (exact for discrete and erf-type laws, grid maximum otherwise)."""
        s = self.d2_structure
        if s.kind == "discrete":
            return float(max([sp.sqrt(v) for v in s.values], default=0))
        if s.kind == "gaussian":
            return float(sp.sqrt(s.amplitude))
        grid = np.linspace(-60.0, 60.0, 240001)
        with np.errstate(all="ignore"):
            vals = np.abs(self.dphi(grid))
        return float(np.nanmax(vals))

    @functools.cached_property
    def d2_max(self) -> float:
        """sup D^2: m_K is analytic off [1/d2_max, inf)."""
        return self.lipschitz**2

    # --------------------------------------------------------------- the law K
    @functools.cached_property
    def _discrete_np(self):
        s = self.d2_structure
        vals = np.array([float(v) for v in s.values])
        probs = [sp.lambdify(Q, p, modules=["scipy", "numpy"]) for p in s.probabilities]
        zero = sp.lambdify(Q, s.zero_probability, modules=["scipy", "numpy"])
        return vals, probs, zero

    def _discrete_law(self, q: float):
        """(values, probabilities) of D^2 > 0 at float64."""
        vals, probs, _ = self._discrete_np
        qq = max(q, 1e-300)  # q = 0: the q -> 0+ limit
        return vals, np.array([float(p(qq)) for p in probs])

    def _discrete_law_mp(self, q):
        s = self.d2_structure
        qq = q if q > 0 else mpmath.mpf(10) ** (-10 * mpmath.mp.dps)
        vals = [mpmath.mpf(sp.N(v, mpmath.mp.dps + 5)) if v.is_Rational is False else
                mpmath.mpf(v.p) / v.q for v in s.values]
        probs = [sp.lambdify(Q, p, modules="mpmath")(qq) for p in s.probabilities]
        return vals, probs

    def zero_probability(self, q: Optional[float] = None) -> float:
        """P(D^2 = 0) for h ~ N(0, q): the mass of the spectral atom at 0."""
        s = self.d2_structure
        if s.kind != "discrete":
            return 0.0
        if not s.zero_probability.has(Q):
            return float(s.zero_probability)
        q = self._require_q(q)
        return float(self._discrete_np[2](max(q, 1e-300)))

    def _require_q(self, q) -> float:
        if q is None:
            if self.depends_on_q:
                raise ValueError(
                    f"q is required for activation {self.name!r}: the law of phi'(h)^2 depends on the variance of h"
                )
            return 1.0
        return _check_positive("q", q, allow_zero=True)

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
        try:
            return bool(sp.simplify(d2 - d2.subs(X, -X)) == 0)
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

    def _gaussian_params(self, q):
        s = self.d2_structure
        return float(s.amplitude), float(s.alpha)

    def _check_route(self, method, allowed, q, dps, what):
        """Validate (method, q, dps) of a D^2 quantity; returns (q, dps, structure)."""
        if method not in allowed:
            raise ValueError(f"method must be one of {allowed}, got {method!r}")
        q = self._require_q(q)
        dps = check_dps(dps)
        s = self.d2_structure
        if method == "formula" and s.kind == "generic":
            raise ValueError(f"activation {self.name!r} has no closed form for {what}; use method='quadrature'")
        return q, dps, s

    # ----------------------------------------------------------- D^2 moments
    def d2_moment(self, k, q: Optional[float] = None, method: str = "auto", dps: Optional[int] = None):
        """E[phi'(h)^{2k}] for h ~ N(0, q).

        Parameters
        ----------
        k : int >= 0
        q : float, optional
            Variance of h; may be omitted when the law does not depend on q.
        method : {"auto", "formula", "quadrature"}
        dps : int, optional
            Decimal digits (mpmath); float64 when ``None``.
        """
        if isinstance(k, bool) or int(k) != k or k < 0:
            raise ValueError(f"k must be a non-negative integer, got {k!r}")
        k = int(k)
        q, dps, s = self._check_route(method, _MOMENT_METHODS, q, dps, "E[D^2k]")
        use_formula = s.kind != "generic" and method != "quadrature"
        if k == 0:
            return mpmath.mpf(1) if dps else 1.0
        if dps is None:
            q = float(q)
            if use_formula:
                if s.kind == "discrete":
                    v, p = self._discrete_law(q)
                    return float(np.sum(p * v**k))
                A, al = self._gaussian_params(q)
                return float(A**k / math.sqrt(1 + 2 * al * k * q))
            wg, d2 = self._quad_nodes(q)
            return float(np.sum(wg * d2**k))
        with workdps(dps):
            qm = mpmath.mpf(q)
            if use_formula:
                if s.kind == "discrete":
                    v, p = self._discrete_law_mp(qm)
                    r = mpmath.fsum(pi * vi**k for vi, pi in zip(v, p))
                else:
                    A = mpmath.mpf(sp.N(s.amplitude, dps + 20))
                    al = mpmath.mpf(sp.N(s.alpha, dps + 20))
                    r = A**k / mpmath.sqrt(1 + 2 * al * k * qm)
            else:
                r = self._quad_mp(lambda h: self.dphi_mp(h) ** (2 * k), qm)
        return round_to(r, dps)

    # ---------------------------------------------------------------- m_K(u)
    def mgf_d2(self, u, q: Optional[float] = None, method: str = "auto", dps: Optional[int] = None,
               derivative: bool = False):
        """Moment generating function m_K(u) = E[u D^2/(1 - u D^2)] of D^2 = phi'(h)^2.

        m_K(u) = sum_{k>=1} E[D^{2k}] u^k inside the disk |u| < 1/sup D^2, and
        its analytic continuation (principal branch, cut along
        [1/sup D^2, inf)) outside.

        Parameters
        ----------
        u : complex or array_like
        q : float, optional
            Variance of h ~ N(0, q).  Not needed where the law of D^2 does not
            depend on q (linear, ReLU).  ``q = 0`` gives the degenerate law.
        method : {"auto", "formula", "series", "quadrature"}
            ``"formula"``: rational closed form (piecewise-linear phi) or
            ``A u (2 alpha q)^{-1/2} Phi(A u, 1/2, 1 + 1/(2 alpha q))`` for
            phi'^2 = A exp(-alpha x^2) (erf: ``u/sqrt(pi q) Phi(u, 1/2,
            1 + 1/(pi q))``).  ``"series"``: the power series, only inside the
            disk.  ``"quadrature"``: Gaussian quadrature over h (any phi; a
            fixed rule, inaccurate where the integrand's pole nears the real
            axis, i.e. close to the cut: 7% error for erf at u = 20+0.5i, q = 1).
        dps : int, optional
            Decimal digits; float64 (vectorised) when ``None``.
        derivative : bool
            Also return dm_K/du.

        Returns
        -------
        m : complex ndarray (float64) or mpmath.mpc / object ndarray (dps)
        dm : same, only with ``derivative=True``
        """
        q, dps, s = self._check_route(method, _MGF_METHODS, q, dps, "m_K")
        if dps is None:
            scalar = np.ndim(u) == 0
            uu = np.asarray(u, dtype=complex)
            m, dm = self._mgf_np(uu, float(q), method)
            if scalar:
                m, dm = complex(m), complex(dm)
            return (m, dm) if derivative else m
        with workdps(dps):
            if isinstance(u, np.ndarray) or isinstance(u, (list, tuple)):
                arr = np.asarray(u, dtype=object)
                res = [self._mgf_mp(mpmath.mpc(x), mpmath.mpf(q), method) for x in arr.ravel()]
                m = np.array([r[0] for r in res], dtype=object).reshape(arr.shape)
                dm = np.array([r[1] for r in res], dtype=object).reshape(arr.shape)
            else:
                m, dm = self._mgf_mp(mpmath.mpc(u), mpmath.mpf(q), method)
        m, dm = round_to(m, dps), round_to(dm, dps)
        return (m, dm) if derivative else m

    def _series_terms(self, umax: float) -> int:
        r = umax * self.d2_max
        if r >= 1:
            raise ValueError(
                f"method='series' needs |u| < 1/sup D^2 = {1 / self.d2_max:.6g}; got |u| = {umax:.6g}"
            )
        return int(min(20000, max(8, math.ceil(math.log(1e-18) / math.log(max(r, 1e-300))) + 2)))

    def _mgf_np(self, u: np.ndarray, q: float, method: str):
        s = self.d2_structure
        if method == "series":
            n = self._series_terms(float(np.max(np.abs(u), initial=0.0)))
            d = np.array([self.d2_moment(k, q) for k in range(1, n + 1)])
            m = np.zeros_like(u)
            dm = np.zeros_like(u)
            for k in range(n, 0, -1):  # Horner
                m = (m + d[k - 1]) * u
                dm = dm * u + k * d[k - 1]
            return m, dm
        if method == "quadrature" or s.kind == "generic":
            if q == 0:
                return self._point_mass_np(u, float(self.dphi(0.0)) ** 2)
            wg, d2 = self._quad_nodes(q)
            flat = u.ravel()
            m = np.empty_like(flat)
            dm = np.empty_like(flat)
            for start in range(0, flat.size, 2048):
                uc = flat[start:start + 2048, None]
                den = 1.0 / (1.0 - uc * d2)
                m[start:start + 2048] = (uc * d2 * den) @ wg
                dm[start:start + 2048] = (d2 * den * den) @ wg
            return m.reshape(u.shape), dm.reshape(u.shape)
        if s.kind == "discrete":
            v, p = self._discrete_law(q)
            m = np.zeros_like(u)
            dm = np.zeros_like(u)
            for vi, pi in zip(v, p):
                den = 1.0 / (1.0 - vi * u)
                m += pi * vi * u * den
                dm += pi * vi * den * den
            return m, dm
        A, al = self._gaussian_params(q)
        if q == 0:
            return self._point_mass_np(u, A)
        c = 2 * al * q
        a = 1 + 1 / c
        ph, dph = lerch_half(A * u, a, derivative=True)
        pref = A / math.sqrt(c)
        return pref * u * ph, pref * (ph + A * u * dph)

    @staticmethod
    def _point_mass_np(u, v):
        den = 1.0 / (1.0 - v * u)
        return v * u * den, v * den * den

    def _mgf_mp(self, u, q, method):
        s = self.d2_structure
        if method == "series":
            n = self._series_terms(float(abs(u)))
            n = int(n * mpmath.mp.dps / 15) + 5
            d = [self.d2_moment(k, q, dps=mpmath.mp.dps) for k in range(1, n + 1)]
            m = mpmath.fsum(dk * u**k for k, dk in enumerate(d, 1))
            dm = mpmath.fsum(k * dk * u ** (k - 1) for k, dk in enumerate(d, 1))
            return m, dm
        if method == "quadrature" or s.kind == "generic":
            if q == 0:
                v = self.dphi_mp(mpmath.mpf(0)) ** 2
                return v * u / (1 - v * u), v / (1 - v * u) ** 2
            d2 = lambda h: self.dphi_mp(h) ** 2  # noqa: E731
            m = self._quad_mp(lambda h: u * d2(h) / (1 - u * d2(h)), q)
            dm = self._quad_mp(lambda h: d2(h) / (1 - u * d2(h)) ** 2, q)
            return m, dm
        if s.kind == "discrete":
            vals, probs = self._discrete_law_mp(q)
            m = mpmath.fsum(p * v * u / (1 - v * u) for v, p in zip(vals, probs))
            dm = mpmath.fsum(p * v / (1 - v * u) ** 2 for v, p in zip(vals, probs))
            return m, dm
        A = mpmath.mpf(sp.N(s.amplitude, mpmath.mp.dps + 20))
        al = mpmath.mpf(sp.N(s.alpha, mpmath.mp.dps + 20))
        if q == 0:
            return A * u / (1 - A * u), A / (1 - A * u) ** 2
        c = 2 * al * q
        a = 1 + 1 / c
        ph, dph = _lerch_half_mp(A * u, a)
        pref = A / mpmath.sqrt(c)
        return pref * u * ph, pref * (ph + A * u * dph)

    # ------------------------------------------- kernels of the scaled equation
    def mgf_kernels(self, u: np.ndarray, q: float, method: str = "auto", check: bool = False):
        """(m_K(u), 1 + m_K(u), u m_K'(u)) in float64, each without cancellation.

        The spectral equation in log variables (:mod:`rmtfp.spectrum.equation`)
        needs ``1 + m_K(u) = E[1/(1 - u D^2)]`` to full relative accuracy where
        it is small (|u| large, lambda small), which ``1 + m_K`` loses; and
        ``m_K`` where it is small (|u| small).  Each is summed directly:

        * discrete laws: ``n = P(D^2 = 0) + sum_i p_i/(1 - v_i u)``;
        * D^2 = A exp(-alpha h^2): ``n = sqrt(b) Phi(A u, 1/2, b)``,
          ``b = 1/(2 alpha q)`` (the integral representation of Phi);
        * quadrature: ``n = sum_j w_j/(1 - u d_j)``.

        Im m_K = Im n exactly, and the imaginary part of ``n`` is the
        relatively accurate one (``1/(1 - v u)`` has no cancellation in its
        imaginary part), so densities are taken from it.  ``u m_K'`` is formed
        as a product of bounded factors (no overflow for |u| up to 1e300).

        ``check=True`` gives a second, independent evaluation for routes that
        are not closed forms: quadrature on panels of half the width (for the
        quadrature route and for the Lerch route alike); the solvers accept a
        root only when the equation holds with both.

        Returns
        -------
        m, n, um : complex ndarrays
        relerr : float
            Relative accuracy of the route (rounding for closed forms, the
            stated accuracy of the float64 Lerch transcendent).
        """
        s = self.d2_structure
        eps = float(np.finfo(float).eps)
        with np.errstate(all="ignore"):
            if check or method == "quadrature" or s.kind == "generic" or (q == 0 and s.kind == "gaussian"):
                if q == 0:
                    vals, probs, p0 = np.array([float(self.dphi(0.0)) ** 2]), np.array([1.0]), 0.0
                else:
                    wg, vals = self._quad_nodes(q, _QUAD_PANEL / 2 if check else _QUAD_PANEL)
                    probs, p0 = wg, 0.0
                return (*self._discrete_kernels(u, vals, probs, p0), 1e3 * eps)
            if s.kind == "discrete":
                vals, probs = self._discrete_law(q)
                return (*self._discrete_kernels(u, vals, probs, max(1.0 - float(np.sum(probs)), 0.0)), 16 * eps)
            A, al = self._gaussian_params(q)
            c = 2 * al * q
            a = 1 + 1 / c
            ph, dph = lerch_half(A * u, a, derivative=True)
            pref = A / math.sqrt(c)
            m = pref * u * ph
            um = pref * u * (ph + A * u * dph)
            # where 1 + m is not small it is as accurate; elsewhere Phi(A u, 1/2, b) directly
            n = 1 + m
            small = np.abs(n) <= 0.5
            if small.any():
                n[small] = math.sqrt(1 / c) * lerch_half(A * u[small], 1 / c)
            return m, n, um, 1e-12

    @staticmethod
    def _discrete_kernels(u, vals, probs, p0):
        if len(vals) <= 4:  # two-point laws: plain vector arithmetic
            u = np.asarray(u, dtype=complex)
            m = np.zeros_like(u)
            n = np.full_like(u, p0)
            um = np.zeros_like(u)
            for v, p in zip(vals, probs):
                r = 1.0 / (1.0 - u * v)
                x = u * v * r
                m += p * x
                n += p * r
                um += p * x * r
            return m, n, um
        flat = np.asarray(u, dtype=complex).ravel()
        m = np.empty_like(flat)
        n = np.empty_like(flat)
        um = np.empty_like(flat)
        for start in range(0, flat.size, 2048):
            uc = flat[start:start + 2048, None]
            r = 1.0 / (1.0 - uc * vals)  # 1/(1 - u v)
            x = uc * vals * r  # u v/(1 - u v)
            m[start:start + 2048] = x @ probs
            n[start:start + 2048] = r @ probs + p0
            um[start:start + 2048] = (x * r) @ probs
        shape = np.shape(u)
        return m.reshape(shape), n.reshape(shape), um.reshape(shape)

    def mgf_kernels_mp(self, u, q, method: str = "auto"):
        """(m_K(u), 1 + m_K(u), u m_K'(u)) at the current mpmath precision (see :meth:`mgf_kernels`)."""
        s = self.d2_structure
        if method == "quadrature" or s.kind == "generic" or (q == 0 and s.kind == "gaussian"):
            if q == 0:
                v = self.dphi_mp(mpmath.mpf(0)) ** 2
                r = 1 / (1 - v * u)
                return v * u * r, r, v * u * r * r
            d2 = lambda h: self.dphi_mp(h) ** 2  # noqa: E731
            m = self._quad_mp(lambda h: u * d2(h) / (1 - u * d2(h)), q)
            n = self._quad_mp(lambda h: 1 / (1 - u * d2(h)), q)
            um = self._quad_mp(lambda h: u * d2(h) / (1 - u * d2(h)) ** 2, q)
            return m, n, um
        if s.kind == "discrete":
            vals, probs = self._discrete_law_mp(q)
            p0 = 1 - mpmath.fsum(probs)
            rs = [1 / (1 - v * u) for v in vals]
            m = mpmath.fsum(p * v * u * r for v, p, r in zip(vals, probs, rs))
            n = p0 + mpmath.fsum(p * r for p, r in zip(probs, rs))
            um = mpmath.fsum(p * v * u * r * r for v, p, r in zip(vals, probs, rs))
            return m, n, um
        A = mpmath.mpf(sp.N(s.amplitude, mpmath.mp.dps + 20))
        al = mpmath.mpf(sp.N(s.alpha, mpmath.mp.dps + 20))
        c = 2 * al * q
        ph, dph = _lerch_half_mp(A * u, 1 + 1 / c)
        pref = A / mpmath.sqrt(c)
        m = pref * u * ph
        n = 1 + m
        if abs(n) < 0.5:
            n = mpmath.sqrt(1 / c) * _lerch_half_mp(A * u, 1 / c)[0]
        return m, n, pref * u * (ph + A * u * dph)

    # ------------------------------------------------------------- mean field
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
