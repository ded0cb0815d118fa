"""Moments of the law of J J^T by Lagrange inversion.

With m(zeta) = sum_k m_k zeta^k and chi_K the compositional inverse of
m_K(u) = sum_j E[D^{2j}] u^j, the equation m = m_K(sigma_w^2 zeta^{1/L}
Psi_L(m)) is zeta = m / phi(m) with

    phi(m) = sigma_w^{2L} (1 + m) (m / chi_K(m))^L,

so m_k = (1/k) [m^{k-1}] phi(m)^k.  The series arithmetic runs on exact
sympy numbers (``exact=True``), on mpmath numbers (``dps``) or on floats.
For m_K = c u/(1-u) this reproduces the closed form of docs/theory.md,
m_k = (s^k/k) sum_j C(k,j) C(Lk, k-1-j) c^{Lk-k+1+j}, and for c = s = 1 the
Fuss-Catalan numbers.
"""

from __future__ import annotations

import math
from typing import Optional

import mpmath
import numpy as np
import sympy as sp

from ..activations import Q as _Q
from ..activations import K as _K
from ..precision import check_dps, round_to, workdps

__all__ = ["moments", "two_point_moments"]


def _mul(a, b, n):
    out = [0] * n
    for i, ai in enumerate(a[:n]):
        if ai == 0:
            continue
        for j in range(min(len(b), n - i)):
            out[i + j] = out[i + j] + ai * b[j]
    return out


def _pow(a, p, n):
    out = [1] + [0] * (n - 1)
    base = list(a[:n])
    while p:
        if p & 1:
            out = _mul(out, base, n)
        base = _mul(base, base, n)
        p >>= 1
    return out


def _inverse_series(d, n):
    """Coefficients of chi with m_K(chi(m)) = m, given m_K = sum_{j>=1} d[j-1] u^j (n terms)."""
    # chi(m) = sum_{j>=1} c_j m^j; solve order by order
    c = [0] * (n + 1)
    c[1] = 1 / d[0] if not isinstance(d[0], sp.Basic) else 1 / d[0]
    for order in range(2, n + 1):
        # coefficient of m^order in sum_j d_j chi^j must vanish
        chi = [0] + c[1:order] + [0] * (n + 1 - order)
        total = 0
        p = [1] + [0] * n
        for j in range(1, order + 1):
            p = _mul(p, chi, n + 1)
            total = total + d[j - 1] * p[order]
        c[order] = -total / d[0]
    return c


def _lagrange(d, L, s, k, weight_factor=None):
    """m_1..m_k from D^2 moments d = [E D^2, E D^4, ...] (length >= k).

    ``weight_factor``: series of [(1+m) s(m)]^{-1} for a weight law s(m) other than the Gaussian
    1/(1+m) (:mod:`rmtfp.spectrum.weights`); phi(m) is then multiplied by its L-th power.
    """
    n = k + 1
    chi = _inverse_series(d, n)
    # g(m) = m / chi(m) = 1 / (c1 + c2 m + ...)
    h = chi[1:n + 1]
    g = [0] * n
    g[0] = 1 / h[0]
    for i in range(1, n):
        acc = 0
        for j in range(1, i + 1):
            acc = acc + h[j] * g[i - j]
        g[i] = -acc / h[0]
    gl = _pow(g, L, n)
    phi = _mul([1, 1], gl, n)
    if weight_factor is not None:
        phi = _mul(phi, _pow(weight_factor, L, n), n)
    phi = [s * x for x in phi]
    out = []
    for kk in range(1, k + 1):
        pk = _pow(phi, kk, kk)
        out.append(pk[kk - 1] / kk)
    return out


def two_point_moments(depth: int, k: int, s=1, c=1) -> list:
    """Closed form of the moments for m_K = c u/(1 - u) (docs/theory.md).

    m_j = (s^j / j) sum_{i=0}^{j-1} C(j, i) C(Lj, j-1-i) c^{Lj-j+1+i}, an
    independent route to the Lagrange inversion of :func:`moments`.

    Parameters
    ----------
    depth : int >= 1
    k : int >= 1
        Number of moments.
    s : number
        sigma_w^{2L} (times v^L when D^2 takes the value v).
    c : number
        P(D^2 != 0).  Python floats are read as exact decimals
        (``0.5`` is 1/2).

    Returns
    -------
    list of sympy numbers
    """
    L = depth

    def exact(x):
        return sp.Rational(str(x)) if isinstance(x, float) else sp.sympify(x)

    s, c = exact(s), exact(c)
    out = []
    for j in range(1, k + 1):
        tot = sum(sp.binomial(j, i) * sp.binomial(L * j, j - 1 - i) * c ** (L * j - j + 1 + i) for i in range(j))
        out.append(s**j * tot / j)
    return out


def moments(activation, depth: int, k: int, sigma_w2: float = 1.0, q: Optional[float] = None,
            sigma_b2: float = 0.0, exact: bool = False, dps: Optional[int] = None, weights=None, widths=None):
    """The first ``k`` moments m_1..m_k of the law of J J^T (atom included).

    Parameters
    ----------
    activation, depth, sigma_w2, q, sigma_b2
        As for :func:`rmtfp.density` (``q`` may be one value per layer).
    k : int >= 1
    exact : bool
        Return exact sympy numbers: the parameters are read as exact decimals
        (``sigma_w2=1.5`` is 3/2) and the D^2 moments come from the derived
        closed form (unavailable for activations without one).
    dps : int, optional
        mpmath precision; float64 otherwise.
    weights, widths
        Weight ensemble and layer widths, as for :func:`rmtfp.density`
        (rectangular layers: float64 only).  For square layers phi(m) gains
        the factor [(1+m) s(m)]^{-L} (docs/theory.md).

    Returns
    -------
    list of sympy numbers (exact), list of mpf (dps) or ndarray (float64)
    """
    from .density import is_per_layer, resolve_layered, resolve_parameters

    if isinstance(k, bool) or int(k) != k or k < 1:
        raise ValueError(f"k must be an integer >= 1, got {k!r}")
    k = int(k)
    dps = check_dps(dps)
    if is_per_layer(q):
        from .layered import moments_layered

        from .density import _architecture

        if _architecture(weights, widths, depth if isinstance(depth, int) and depth >= 1 else 1, 1.0) is not None:
            raise ValueError("weights/widths with a per-layer q are not supported; give one q (or None for q*)")
        if exact:
            raise ValueError("exact=True is not available for a per-layer q")
        act, depth, qs, sigma_w2 = resolve_layered(activation, depth, q, sigma_w2, sigma_b2, dps)
        return np.asarray(moments_layered(act, qs, k, sigma_w2), dtype=float)
    act, depth, sigma_w2, q, sigma_b2, _ = resolve_parameters(activation, depth, sigma_w2, q, sigma_b2)
    wf = None
    if weights is not None or widths is not None:
        from .density import _architecture

        arch = _architecture(weights, widths, depth, sigma_w2)
        if arch is not None and not arch.square:
            from .layered import moments_layered

            if exact or dps is not None:
                raise ValueError("widths: moments of rectangular layers are computed in float64 only; use "
                                 "exact=False and dps=None")
            return np.asarray(moments_layered(act, [q if q is not None else 1.0] * depth, k, sigma_w2, arch))
        if arch is not None:
            from .architectures import weight_factor_series

            wf = arch
    if exact:
        expr = act.d2_structure.moment_expr()
        if expr is None:
            raise ValueError(f"activation {act.name!r} has no exact D^2 moments; use exact=False")
        qq = sp.Rational(str(q)) if q is not None else sp.Integer(1)
        d = [sp.nsimplify(sp.simplify(expr.subs({_K: j, _Q: qq}))) for j in range(1, k + 2)]
        s = sp.Rational(str(sigma_w2)) ** depth
        f = None if wf is None else weight_factor_series(wf, k + 1, exact=True)
        return [sp.simplify(m) for m in _lagrange(d, depth, s, k, f)]
    if dps is None:
        # D^2 normalised by E[D^2] and sigma_w^2 by 1/E[D^2] (the same law of J J^T): m_k = chi^{Lk} mu_k
        # with mu_k = O((e L)^k); chi^{Lk} is applied in logarithms, so sigma_w^{2L} (which overflows
        # from L ~ 500 at sigma_w^2 = 4) is never formed and m_k is inf only when m_k itself is
        d = [act.d2_moment(j, q) for j in range(1, k + 2)]
        d1 = d[0]
        f = None if wf is None else weight_factor_series(wf, k + 1)  # a series in m: unchanged by the scaling
        mu = _lagrange([dj / d1 ** (j + 1) for j, dj in enumerate(d)], depth, 1.0, k, f)
        log_chi_L = depth * math.log(sigma_w2 * d1)
        with np.errstate(over="ignore"):
            return np.array([float(np.exp(j * log_chi_L + math.log(m))) if m > 0 else float(m)
                             for j, m in enumerate(mu, 1)])
    with workdps(dps):
        d = [act.d2_moment(j, q, dps=dps) for j in range(1, k + 2)]
        f = None if wf is None else weight_factor_series(wf, k + 1, dps=dps)
        res = _lagrange(d, depth, mpmath.mpf(sigma_w2) ** depth, k, f)
    return round_to(res, dps)
