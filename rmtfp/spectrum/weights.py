"""Weight ensembles and layer widths: the S-transform factor of the weights.

The free multiplicative structure of J = D_L W_L ... D_1 W_1 (Pennington,
Schoenholz & Ganguli 2018) is

    S_{J J^T}(m) = prod_l S_{D_l^2}(.) S_{W_l^T W_l}(.),

and only the weight factor depends on the ensemble.  With W_l = sigma_w X_l,
write S_{W^T W}(m) = s(m) / sigma_w^2 with s(0) = 1:

    gaussian     s(m) = 1/(1 + m)        (Marchenko-Pastur, ratio 1)
    orthogonal   s(m) = 1                (X_l Haar: W^T W = sigma_w^2 I)
    custom       s(m) = any sympy expression in m with s(0) = 1.

Square layers (docs/theory.md, "Other weight ensembles"): with w = m(1/z)
and u = chi_K(w) the equation of :mod:`rmtfp.spectrum.equation` becomes

    w = m_K(u),    u = sigma_w^2 z^{-1/L} w^{1-1/L} (1+w)^{-(1-1/L)} / s(w),

which is the papers' equation for s = 1/(1+m).  Rectangular layers (widths
n_0, ..., n_L, W_l of size n_l x n_{l-1} with entries of variance
sigma_w^2/n_{l-1}; the law is that of the n_L x n_L matrix J J^T): with
a_l = n_L/n_l and c_l = n_l/n_{l-1}, one layer maps S_{M_{l-1}} to
S_{M_l}(m) = S_K(m) (1+m) c_l/(1 + c_l m) S_{A_l}(c_l m) S_{M_{l-1}}(c_l m),
A_l = W_l^T W_l; unrolled,

    1/z = chi_J(w) = Q(w) prod_l chi_K(a_l w),
    Q(w) = a_0 w/(1 + a_0 w) prod_l f_l(w)/(a_l w),   f_l(w) = (1 + a_l w) S_{A_l}(a_{l-1} w),

with f_l = 1/(sigma_w^2 c_l) (Gaussian, S_A(x) = 1/(sigma_w^2 (c_l + x))) and
f_l = (1 + a_l w)/(sigma_w^2 c_l) (orthogonal, W_l = sigma_w sqrt(c_l) O_l,
O_l with orthonormal columns, S_A = 1/(sigma_w^2 c_l); needs n_l >= n_{l-1}).
For square layers Q(w) = (1+w)^{L-1} w^{1-L} s(w)^L / sigma_w^{2L}.
The normalised variance of a linear Gaussian product is sum_l n_L/n_{l-1}.

Atoms: the rank of J is min(n_0, min_l c n_l) (c = P(phi' != 0)), so the
atom at 0 has mass 1 - min(n_0, c min_l n_l)/n_L.  With orthogonal weights
and a law of D^2 on {0, v}, |J^T x|^2 = lambda_top |x|^2 on a subspace of
dimension n_0 - (1-c) sum_l n_l (the intersections of the ranges of the D_l
and O_l in general position): an atom at lambda_top = (sigma_w^2 v)^L
n_L/n_0 (a point mass for orthogonal linear networks).
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from typing import Optional, Sequence

import numpy as np
import sympy as sp

__all__ = ["WeightLaw", "Architecture", "WEIGHT_ENSEMBLES", "resolve_weights", "architecture", "M"]

#: the symbol of S-transforms given as sympy expressions
M = sp.Symbol("m")

WEIGHT_ENSEMBLES = ("gaussian", "orthogonal")
_ALIASES = {"normal": "gaussian", "gauss": "gaussian", "haar": "orthogonal", "ortho": "orthogonal"}


@dataclasses.dataclass(frozen=True)
class WeightLaw:
    """A weight ensemble given by s(m) = sigma_w^2 S_{W^T W}(m), s(0) = 1.

    Attributes
    ----------
    name : str
    s_expr : sympy.Expr
        s as an expression in :data:`M` (exact numbers only).
    """

    name: str
    s_expr: sp.Expr

    def __post_init__(self):
        free = self.s_expr.free_symbols - {M}
        if free:
            raise ValueError(f"weights: the S-transform may depend on m only, got symbols {sorted(map(str, free))}")
        if self.s_expr.atoms(sp.Float):
            raise ValueError(f"weights: the S-transform {self.s_expr} holds floats; use exact numbers (Rational)")
        s0 = sp.simplify(self.s_expr.subs(M, 0))
        if s0 != 1:
            raise ValueError(f"weights: the S-transform must be normalised to s(0) = 1 (sigma_w^2 carries the "
                             f"scale), got s(0) = {s0}")

    @property
    def is_gaussian(self) -> bool:
        return self.name == "gaussian"

    @property
    def s1(self):
        """First coefficient of s(m) = 1 + s1 m + ... (-1 Gaussian, 0 orthogonal): exact."""
        return sp.nsimplify(sp.diff(self.s_expr, M).subs(M, 0))

    def series(self, n: int, exact: bool = False) -> list:
        """Coefficients s_0..s_{n-1} (sympy numbers when ``exact``, floats otherwise)."""
        ser = sp.series(self.s_expr, M, 0, n).removeO()
        coeffs = [sp.nsimplify(ser.coeff(M, j)) for j in range(n)]
        return coeffs if exact else [float(c) for c in coeffs]

    def series_mp(self, n: int) -> list:
        """Coefficients as mpmath numbers at the current precision."""
        import mpmath

        return [mpmath.mpf(sp.N(c, mpmath.mp.dps + 5)) for c in self.series(n, exact=True)]

    @property
    def _np(self):
        f = sp.lambdify(M, self.s_expr, modules="numpy")
        df = sp.lambdify(M, sp.diff(self.s_expr, M), modules="numpy")
        return f, df

    @property
    def _mp(self):
        f = sp.lambdify(M, self.s_expr, modules="mpmath")
        df = sp.lambdify(M, sp.diff(self.s_expr, M), modules="mpmath")
        return f, df

    def log_derivative(self, w, mp: bool = False):
        """(s(w), s'(w)/s(w)), vectorised over numpy arrays or elementwise on mpmath object arrays."""
        if self.name == "orthogonal":
            one = np.ones_like(w) if isinstance(w, np.ndarray) else 1
            return one, 0 * w
        f, df = self._mp if mp else self._np
        if mp and isinstance(w, np.ndarray):
            s = np.array([f(v) for v in w.flat], dtype=object).reshape(w.shape)
            d = np.array([df(v) for v in w.flat], dtype=object).reshape(w.shape)
        else:
            s = f(w) + 0 * w
            d = df(w) + 0 * w
        return s, d / s

    def to_dict(self) -> dict:
        return {"name": self.name, "s": str(self.s_expr)}


GAUSSIAN = WeightLaw("gaussian", 1 / (1 + M))
ORTHOGONAL = WeightLaw("orthogonal", sp.Integer(1))


def resolve_weights(weights) -> WeightLaw:
    """"gaussian", "orthogonal" (aliases "haar", "ortho"), a :class:`WeightLaw` or a sympy expression s(m).

    Raises ValueError naming ``weights`` for anything else.
    """
    if weights is None:
        return GAUSSIAN
    if isinstance(weights, WeightLaw):
        return weights
    if isinstance(weights, str):
        key = _ALIASES.get(weights.strip().lower(), weights.strip().lower())
        if key == "gaussian":
            return GAUSSIAN
        if key == "orthogonal":
            return ORTHOGONAL
        raise ValueError(f"weights must be one of {WEIGHT_ENSEMBLES} or a sympy expression of the S-transform "
                         f"s(m) (s(0) = 1), got {weights!r} (heavy-tailed laws have no theory here: sample them "
                         "with rmtfp.sample_jacobian_spectrum)")
    if isinstance(weights, sp.Expr):
        return WeightLaw(f"s(m) = {weights}", weights)
    raise ValueError(f"weights must be one of {WEIGHT_ENSEMBLES} or a sympy expression of the S-transform s(m), "
                     f"got {type(weights).__name__} {weights!r}")


@dataclasses.dataclass(frozen=True)
class Architecture:
    """Depth, widths and weight law of a network, as the spectral theory sees them.

    Attributes
    ----------
    law : WeightLaw
    depth : int
    widths : tuple of float
        n_0..n_L, normalised to n_L = 1 (only the ratios matter).
    sigma_w2 : float
    """

    law: WeightLaw
    depth: int
    widths: tuple
    sigma_w2: float

    @property
    def square(self) -> bool:
        return all(n == self.widths[0] for n in self.widths)

    def a(self, l: int) -> float:
        """a_l = n_L / n_l."""
        return 1.0 / self.widths[l]

    def _factors(self, w):
        """(Q(w), d log Q/dw) for complex arrays w (float64)."""
        L, s2 = self.depth, self.sigma_w2
        a0 = self.a(0)
        with np.errstate(all="ignore"):
            Q = a0 * w / (1 + a0 * w)
            dlog = 1 / w - a0 / (1 + a0 * w)
            for l in range(1, L + 1):
                al, c = self.a(l), self.widths[l] / self.widths[l - 1]
                Q = Q / (s2 * c * al * w)
                dlog = dlog - 1 / w
                if self.law.name == "orthogonal":
                    Q = Q * (1 + al * w)
                    dlog = dlog + al / (1 + al * w)
                elif not self.law.is_gaussian:  # custom law, square layers
                    s, ds = self.law.log_derivative(w)
                    Q = Q * (1 + w) * s
                    dlog = dlog + 1 / (1 + w) + ds
        return Q, dlog

    def q_factor(self, w):
        """Q(w) of 1/z = Q(w) prod_l chi_K(a_l w) and its log-derivative."""
        return self._factors(np.asarray(w, dtype=complex))

    def zeta_series(self, chi_over_m: Sequence[np.ndarray], n: int) -> np.ndarray:
        """Power series of chi_J(m) = Q(m) prod_l chi_K(a_l m) (n terms, index = power).

        ``chi_over_m[l-1]`` holds chi_K(x)/x as a series in x for layer l.
        """
        from .layered_moments import _mul, _reciprocal

        L, s2 = self.depth, self.sigma_w2
        a0 = self.a(0)
        out = np.zeros(n)
        out[0] = 1.0
        for l in range(1, L + 1):
            al, c = self.a(l), self.widths[l] / self.widths[l - 1]
            p = np.asarray(chi_over_m[l - 1][:n], dtype=float) * al ** np.arange(min(n, len(chi_over_m[l - 1])))
            p = np.concatenate([p, np.zeros(n - p.size)]) / (s2 * c)
            out = _mul(out, p, n)
            if self.law.name == "orthogonal":
                out = _mul(out, np.array([1.0, al]), n)
            elif not self.law.is_gaussian:
                sw = np.array(self.law.series(n))
                out = _mul(_mul(out, sw, n), np.array([1.0, 1.0]), n)
        out = _mul(out, _reciprocal(np.array([1.0, a0] + [0.0] * (n - 2))[:n], n), n) * a0
        return np.concatenate([[0.0], out])[:n]

    def zero_atom(self, c: float) -> float:
        """Mass at 0: 1 - min(n_0, c min_l n_l)/n_L (rank of J, c = P(phi'(h) != 0))."""
        rank = min(self.widths[0], c * min(self.widths[1:]))
        return float(max(0.0, 1.0 - rank / self.widths[-1]))

    def top_atom(self, c: float, v: float) -> Optional[tuple]:
        """(location, mass) of the atom at lambda_top for orthogonal weights and D^2 on {0, v}, else None."""
        if self.law.name != "orthogonal":
            return None
        mass = (self.widths[0] - (1 - c) * sum(self.widths[1:])) / self.widths[-1]
        if mass <= 0:
            return None
        return (self.sigma_w2 * v) ** self.depth * self.widths[-1] / self.widths[0], float(mass)

    def normalised_variance(self, d1: float, d2: float) -> float:
        """m_2/m_1^2 - 1 of J J^T for E[D^2] = d1, E[D^4] = d2 (sum of the layers' normalised variances)."""
        L = self.depth
        if self.square:
            return float(L * (d2 / d1**2 - 1) - L * float(self.law.s1))
        raise NotImplementedError  # pragma: no cover - computed from the moments series instead

    def to_dict(self) -> dict:
        return {"weights": self.law.name, "widths": list(self.widths), "depth": self.depth,
                "sigma_w2": self.sigma_w2}


def architecture(weights, widths, depth: int, sigma_w2: float) -> Architecture:
    """Validate ``weights`` and ``widths`` against ``depth``: an :class:`Architecture`.

    ``widths=None`` means square layers.  Raises ValueError naming the
    argument: widths of the wrong length, non-positive or non-finite widths,
    orthogonal weights with a narrowing layer (n_l < n_{l-1}), a custom law
    with rectangular layers.
    """
    law = resolve_weights(weights)
    if widths is None:
        ws = (1.0,) * (depth + 1)
    else:
        if isinstance(widths, (str, bytes)) or not hasattr(widths, "__len__"):
            raise ValueError(f"widths must be a sequence (n_0, ..., n_L) of depth + 1 = {depth + 1} positive "
                             f"numbers, got {widths!r}")
        try:
            ws = tuple(float(n) for n in widths)
        except (TypeError, ValueError):
            raise ValueError(f"widths must hold positive numbers, got {widths!r}") from None
        if len(ws) != depth + 1:
            raise ValueError(f"widths must have depth + 1 = {depth + 1} entries (n_0, ..., n_L), got {len(ws)}: "
                             f"{widths!r}")
        bad = [n for n in ws if not (math.isfinite(n) and n > 0)]
        if bad:
            raise ValueError(f"widths must be finite and > 0, got {bad[0]!r} in {widths!r}")
        ws = tuple(n / ws[-1] for n in ws)
    square = all(n == ws[0] for n in ws)
    if not square:
        if law.name == "orthogonal":
            for l in range(1, depth + 1):
                if ws[l] < ws[l - 1] * (1 - 1e-15):
                    raise ValueError(f"widths={tuple(widths)}: orthogonal weights need n_l >= n_(l-1) (an n_l x "
                                     f"n_(l-1) matrix with orthonormal columns); layer {l} narrows from "
                                     f"{widths[l - 1]} to {widths[l]}")
        elif not law.is_gaussian:
            raise ValueError(f"widths: rectangular layers are solved for weights='gaussian' or 'orthogonal' only, "
                             f"got weights={law.name!r}")
    if not isinstance(sigma_w2, numbers.Real):
        sigma_w2 = float(sigma_w2)
    return Architecture(law, depth, ws, sigma_w2)
