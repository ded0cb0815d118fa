"""Expectations over two correlated pre-activations and the correlation map.

u1 = sqrt(q) z1, u2 = sqrt(q) (c z1 + sqrt(1 - c^2) z2), z1, z2 independent N(0, 1): the
pre-activations of two inputs with correlation c at the fixed point q.  The correlation map
(Poole et al. 2016; Schoenholz et al. 2017, eq. 3) is

    C(c) = (sigma_w^2 E[phi(u1) phi(u2)] + sigma_b^2) / q*.

Routes (``method``):

- ``"formula"``: closed forms for linear, ReLU (arc-cosine kernel, Cho & Saul 2009) and
  erf(sqrt(pi) x/2) (Williams 1997);
- ``"quadrature"``: composite Gauss-Legendre on |z| <= 10 in z1 (panels split at the break points
  of phi, phi'), and in z2 per node z1 with the panels split where u2 crosses a break point, so
  every panel integrates a smooth function (any registered activation);
- ``"auto"``: the formula where there is one.
"""

from __future__ import annotations

import math

import numpy as np

from ..activations import get

__all__ = ["bivariate_expectation", "correlation_map"]

_R = 10.0  # |z| <= 10: the Gaussian tail beyond is 1.5e-23
_PANELS = 40  # panels per segment
_ORDER = 8
_GL = np.polynomial.legendre.leggauss(_ORDER)


def _breaks(act, q: float) -> list:
    return sorted(float(b) / math.sqrt(q) for b in act.d2_structure.breakpoints)


def _panels(lo, hi, n):
    """GL nodes and weights of n equal panels on [lo, hi] (arrays of shape S) -> shape S + (n*order,)."""
    t, w = _GL
    lo, hi = np.asarray(lo, dtype=float)[..., None], np.asarray(hi, dtype=float)[..., None]
    h = (hi - lo) / n  # S + (1,)
    a = lo + h * np.arange(n)  # S + (n,)
    x = a[..., None] + 0.5 * h[..., None] * (t + 1)  # S + (n, order)
    wx = 0.5 * h[..., None] * w * np.ones_like(x)
    return x.reshape(*x.shape[:-2], -1), wx.reshape(*wx.shape[:-2], -1)


def _segments_1d(cuts):
    edges = sorted({-_R, _R, *[c for c in cuts if -_R < c < _R]})
    xs, ws = [], []
    for lo, hi in zip(edges[:-1], edges[1:]):
        n = max(2, int(math.ceil(_PANELS * (hi - lo) / (2 * _R))))
        x, w = _panels(lo, hi, n)
        xs.append(x)
        ws.append(w)
    x, w = np.concatenate(xs), np.concatenate(ws)
    return x, w * np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)


def _expect_quad(act, f, g, q: float, c: float) -> float:
    """E[f(u1) g(u2)] by the split composite rule (see the module documentation)."""
    sq = math.sqrt(q)
    br = _breaks(act, q)
    s = math.sqrt(max(0.0, 1 - c * c))
    if s < 1e-12:  # u2 = u1 (c = 1) or -u1 (c = -1)
        z1, w1 = _segments_1d(br)
        return float(np.sum(w1 * f(sq * z1) * g(sq * math.copysign(1.0, c) * z1)))
    # the inner integral changes on the scale s/|c| around z1 = b/c: graded panel edges there
    outer = list(br)
    for b in br:
        if c != 0:
            outer += [b / c + sgn * s / abs(c) * 4.0**k for k in range(-2, 6) for sgn in (-1, 1)]
    z1, w1 = _segments_1d(outer)
    f1 = f(sq * z1)
    if not br:  # smooth phi: no cuts in z2
        x, wx = _segments_1d([])
        u2 = sq * (c * z1[:, None] + s * x[None, :])
        return float(np.sum(w1 * f1 * np.sum(wx[None, :] * g(u2), axis=1)))
    # inner integral over z2 for every z1: cuts at (b/sqrt(q) - c z1)/s
    cuts = np.sort(np.clip(np.array([(b - c * z1) / s for b in br]), -_R, _R), axis=0)
    edges = np.concatenate([np.full((1, z1.size), -_R), cuts, np.full((1, z1.size), _R)], axis=0)
    inner = np.zeros(z1.size)
    for j in range(edges.shape[0] - 1):
        lo, hi = edges[j], edges[j + 1]
        width = hi - lo
        x, wx = _panels(lo, hi, _PANELS)
        wx = np.where(width[:, None] > 0, wx, 0.0) * np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
        u2 = sq * (c * z1[:, None] + s * x)
        inner += np.sum(wx * g(u2), axis=1)
    return float(np.sum(w1 * f1 * inner))


def _formula(name: str, which: str, q: float, c: float):
    """Closed forms of E[phi phi] ("phi") and E[phi' phi'] ("dphi"); None when there is none."""
    if name == "linear":
        return q * c if which == "phi" else 1.0
    if name == "relu":
        theta = math.acos(max(-1.0, min(1.0, c)))
        if which == "phi":
            return q / (2 * math.pi) * (math.sin(theta) + (math.pi - theta) * c)
        return (math.pi - theta) / (2 * math.pi)
    if name == "erf":
        a = math.pi * q / 2
        if which == "phi":
            return 2 / math.pi * math.asin(a * c / (1 + a))
        return 1 / math.sqrt((1 + a) ** 2 - (a * c) ** 2)
    return None


def bivariate_expectation(activation, which: str, q: float, c: float, method: str = "auto") -> float:
    """E[phi(u1) phi(u2)] (``which="phi"``) or E[phi'(u1) phi'(u2)] (``which="dphi"``).

    Parameters
    ----------
    activation : str or Activation
    which : {"phi", "dphi"}
    q : float >= 0
        Variance of u1 and u2.
    c : float in [-1, 1]
        Their correlation.
    method : {"auto", "formula", "quadrature"}
    """
    act = get(activation)
    if which not in ("phi", "dphi"):
        raise ValueError(f"which must be 'phi' or 'dphi', got {which!r}")
    if method not in ("auto", "formula", "quadrature"):
        raise ValueError(f"method must be 'auto', 'formula' or 'quadrature', got {method!r}")
    q, c = float(q), float(c)
    if not (math.isfinite(q) and q >= 0):
        raise ValueError(f"q must be finite and >= 0, got {q!r}")
    if not (math.isfinite(c) and -1 <= c <= 1):
        raise ValueError(f"c must be a correlation in [-1, 1], got {c!r}")
    fn = act.phi if which == "phi" else act.dphi
    if q == 0:
        v = float(fn(np.zeros(1))[0])
        return v * v
    if method != "quadrature":
        val = _formula(act.name, which, q, c)
        if val is not None:
            return float(val)
        if method == "formula":
            raise ValueError(f"activation {act.name!r} has no closed form for E[{which} {which}]; use "
                             "method='quadrature'")
    return _expect_quad(act, fn, fn, q, c)


def correlation_map(activation, c: float, q: float, sigma_w2: float, sigma_b2: float = 0.0,
                    method: str = "auto") -> float:
    """C(c) = (sigma_w^2 E[phi(u1) phi(u2)] + sigma_b^2)/q at the fixed point q (q* of the variance map)."""
    if q == 0:
        return 1.0
    return (sigma_w2 * bivariate_expectation(activation, "phi", q, c, method) + sigma_b2) / q
