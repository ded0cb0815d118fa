"""Vectorised float64 Lerch transcendent Phi(u, 1/2, a) on the cut plane.

Phi(u, s, a) = sum_{n>=0} u^n / (n + a)^s, continued analytically to
u in C minus [1, inf) (the principal branch, as :func:`mpmath.lerchphi`).

For s = 1/2 and a > 0 the integral representation

    Phi(u, 1/2, a) = (2/sqrt(pi)) int_0^inf exp(-a x^2) / (1 - u exp(-x^2)) dx

holds on the whole cut plane.  With L = log u and v = x^2 - L the kernel is
1/(1 - e^{-v}) = 1/v + h(v), where h(v) = 1/2 + coth(v/2)/2 - 1/v is analytic
in |Im v| < 2 pi; its poles at v = +-2 pi i are removed too.  Each pole
part integrates in closed form,

    int_0^inf exp(-a x^2) / (x^2 + beta^2) dx = pi/(2 beta) erfcx(beta sqrt(a)),

beta = sqrt(-L - 2 pi i k), k = -1, 0, 1 (Re beta > 0 off the cut), and the
analytic remainder (analytic in |Im v| < 4 pi) is
integrated by Gauss-Hermite quadrature, which converges geometrically (by
Gauss-Legendre panels for |u| > 50, where the remainder turns over in the
tail of the Gaussian, and for a < 1).  For |u| > 50 and |arg u| > 0.6, where Phi = O(1/u)
and the pole parts would cancel, the integral is taken directly on
Gauss-Legendre panels.  Near
u = 0 the defining series is summed directly.  Accuracy is checked against
``mpmath.lerchphi`` in the tests (relative error ~1e-13 for |u| up to 1e12, 1 < a <= 300).
"""

from __future__ import annotations

import functools

import numpy as np
from scipy import special

__all__ = ["lerch_half"]

_SERIES_RADIUS = 0.25
_SERIES_TERMS = 32  # 0.25**32 ~ 5e-20
_GH_NODES = 48  # half of them (t > 0) are used; the integrand is even
_SMALL_V = 0.5
_BIG = 50.0
_DIRECT_ANGLE = 0.6


@functools.lru_cache(maxsize=64)
def _composite(a: float) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre panels on [0, sqrt(40/a)] with the weight exp(-a x^2) folded in.

    Used for |u| > 50, where h2(x^2 - log u) turns over at x ~ sqrt(log|u|), in
    the tail of the Gaussian where Gauss-Hermite nodes are too sparse.
    """
    xmax = np.sqrt(40.0 / a)
    n_panels = int(np.ceil(xmax / 0.2))
    t, w = np.polynomial.legendre.leggauss(12)
    edges = np.linspace(0.0, xmax, n_panels + 1)
    lo, hi = edges[:-1, None], edges[1:, None]
    x = (0.5 * (hi - lo) * t + 0.5 * (hi + lo)).ravel()
    wx = (0.5 * (hi - lo) * w).ravel() * np.exp(-a * x * x)
    return x * x, wx


@functools.lru_cache(maxsize=64)
def _gh_nodes(a: float) -> tuple[np.ndarray, np.ndarray]:
    """x^2 and weights of Gauss-Hermite for int_0^inf exp(-a x^2) f(x^2) dx."""
    t, w = np.polynomial.hermite.hermgauss(_GH_NODES)
    keep = t > 0
    return t[keep] ** 2 / a, w[keep] / np.sqrt(a)  # x = t / sqrt(a); half of the even integral over R


_FOUR_PI2 = 4 * np.pi**2


def _direct(u: np.ndarray, a: float, derivative: bool):
    """(2/sqrt(pi)) int_0^inf exp(-a x^2) / (1 - u exp(-x^2)) dx by Gauss-Legendre panels, no subtraction.

    For large |u| away from the cut Phi is O(1/u) and the pole decomposition
    would cancel O(1) terms; the integrand itself is small and smooth (its
    pole x0 = sqrt(log u) lies |Im log u| / (2 Re x0) off the real axis).
    """
    lnu = float(np.max(np.log(np.abs(u))))
    xmax = np.sqrt((max(lnu, 0.0) + 40.0) / a) + 1.0
    n_panels = int(np.ceil(xmax / 0.05))
    t, w = np.polynomial.legendre.leggauss(12)
    edges = np.linspace(0.0, xmax, n_panels + 1)
    lo, hi = edges[:-1, None], edges[1:, None]
    x = (0.5 * (hi - lo) * t + 0.5 * (hi + lo)).ravel()
    wx = (0.5 * (hi - lo) * w).ravel() * np.exp(-a * x * x) * (2 / np.sqrt(np.pi))
    e = np.exp(-x * x)
    phi = np.empty_like(u)
    dphi = np.empty_like(u)
    for start in range(0, u.size, 256):
        uc = u[start:start + 256, None]
        inv = 1.0 / (1.0 - uc * e)
        phi[start:start + 256] = inv @ wx
        if derivative:
            dphi[start:start + 256] = (e * inv * inv) @ wx
    return phi, dphi


def _h2(v: np.ndarray, derivative: bool):
    """h2(v) = 1/(1 - e^{-v}) - 1/v - 2v/(v^2 + 4 pi^2) and h2'(v).

    The poles at v = 0, +-2 pi i are removed (they are integrated in closed
    form), so h2 is analytic in |Im v| < 4 pi.
    """
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        E = np.exp(-v)
        inv = 1.0 / (1.0 - E)
        h = inv - 1.0 / v
        dh = 1.0 / (v * v) - E * inv * inv if derivative else None
    small = np.abs(v) < _SMALL_V
    if small.any():
        vs = v[small]
        v2 = vs * vs
        h[small] = 0.5 + vs * (1 / 12 + v2 * (-1 / 720 + v2 * (1 / 30240 + v2 * (-1 / 1209600 + v2 / 47900160))))
        if derivative:
            dh[small] = 1 / 12 + v2 * (-1 / 240 + v2 * (1 / 6048 + v2 * (-1 / 172800 + v2 / 5322240)))
    d = v * v + _FOUR_PI2
    h -= 2 * v / d
    if derivative:
        dh -= 2 * (_FOUR_PI2 - v * v) / (d * d)
    return h, dh


def lerch_half(u, a: float, derivative: bool = False):
    """Phi(u, 1/2, a) (and d/du Phi) for complex ``u`` off [1, inf), ``a > 0``.

    Parameters
    ----------
    u : array_like of complex
    a : float
        Must be positive.
    derivative : bool
        Also return dPhi/du.

    Returns
    -------
    phi : ndarray of complex128
    dphi : ndarray of complex128, only with ``derivative=True``
    """
    if not a > 0:
        raise ValueError(f"a must be > 0, got {a!r}")
    u = np.asarray(u, dtype=complex)
    shape = u.shape
    u = u.ravel()
    phi = np.empty_like(u)
    dphi = np.empty_like(u)
    near0 = np.abs(u) < _SERIES_RADIUS
    if near0.any():
        n = np.arange(_SERIES_TERMS)
        c = (n + a) ** -0.5
        un = u[near0, None] ** n
        phi[near0] = un @ c
        dphi[near0] = (un[:, :-1] * n[1:]) @ c[1:]
    # large |u| off the positive axis: direct integration (no cancellation)
    direct = ~near0 & (np.abs(u) > _BIG) & (np.abs(np.angle(u)) > _DIRECT_ANGLE)
    if direct.any():
        phi[direct], dphi[direct] = _direct(u[direct], a, derivative)
    far = ~near0 & ~direct
    if far.any():
        uf = u[far]
        L = np.log(uf)
        sa = np.sqrt(a)
        # remainder int_0^inf exp(-a x^2) h2(x^2 - L) dx
        total = np.empty_like(L)
        dtotal = np.empty_like(L)
        big = np.abs(uf) > _BIG
        # Gauss-Hermite in x = t/sqrt(a) spreads its nodes too thinly for a < 1: panels there
        for sel, (x2, wx) in ((~big, _gh_nodes(a) if a >= 1 else _composite(a)), (big, _composite(a))):
            if sel.any():
                v = x2[None, :] - L[sel, None]
                h, dh = _h2(v, derivative)
                total[sel] = h @ wx
                if derivative:
                    dtotal[sel] = -(dh @ wx)
        for k in (-1, 0, 1):
            beta = np.sqrt(-(L + 2j * np.pi * k))
            ex = special.erfcx(beta * sa)
            pole = (np.pi / 2) * ex / beta
            total = total + pole
            if derivative:
                dex = 2 * beta * sa * ex - 2 / np.sqrt(np.pi)
                dpole_dbeta = (np.pi / 2) * (sa * dex / beta - ex / beta**2)
                dtotal = dtotal + dpole_dbeta * (-1 / (2 * beta))
        phi[far] = (2 / np.sqrt(np.pi)) * total
        if derivative:
            dphi[far] = (2 / np.sqrt(np.pi)) * dtotal / uf
    if derivative:
        return phi.reshape(shape), dphi.reshape(shape)
    return phi.reshape(shape)
