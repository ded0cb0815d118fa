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

The class is assembled from one module per concept: this one holds the data,
phi and phi', and the law of D^2 with its moments; :mod:`.quadrature` the
Gaussian quadrature over h, :mod:`.mgf` the routes of m_K, :mod:`.kernels`
the cancellation-free kernels of the spectral equation, :mod:`.meanfield`
the variance map, q* and chi.
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

from .._checks import positive_or_mpf as _check_positive  # noqa: F401 - also used by rmtfp.dynamics.network
from ..precision import check_dps, round_to, workdps
from .derive import Q, D2Structure, derive_d2_structure
from .kernels import SpectralKernels
from .meanfield import _MOMENT_METHODS, MeanField
from .mgf import _lerch_half_mp, MomentGeneratingFunction  # noqa: F401 - _lerch_half_mp: its tests import it here
from .quadrature import GaussianQuadrature

__all__ = ["Activation", "X"]

#: the default variable of activation expressions
X = sp.Symbol("x", real=True)


@dataclasses.dataclass(frozen=True, eq=False)
class Activation(GaussianQuadrature, MomentGeneratingFunction, SpectralKernels, MeanField):
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

