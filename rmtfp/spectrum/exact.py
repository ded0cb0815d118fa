"""Exact spectral laws used as references: Marchenko-Pastur and Fuss-Catalan.

* :func:`marchenko_pastur_density`: the free Poisson law with rate ``ratio``
  and jump size ``sigma2``; it is the law of J J^T for a single layer
  (L = 1) whose D^2 takes the value 1 with probability ``ratio`` and 0
  otherwise, with sigma_w^2 = ``sigma2``.
* :func:`fuss_catalan_density`, :func:`fuss_catalan_moments`: the law of
  J J^T for a product of s Gaussian matrices (linear network of depth s,
  sigma_w^2 = 1), whose moments are the Fuss-Catalan numbers
  C((s+1)k, k)/(sk + 1).  The density is evaluated through the
  Haagerup-Moeller parametrisation, t in (0, pi/(s+1)) (used in
  tau = pi/(s+1) - t, accurate down to lambda = 1e-300):

      lambda(t) = sin((s+1)t)^{s+1} / (sin t sin(st)^s),
      rho(t)    = sin^2 t sin(st)^{s-1} / (pi sin((s+1)t)^s).
"""

from __future__ import annotations

import math
from typing import Optional

import mpmath
import numpy as np

from .._checks import positive_real as _check_positive
from ..precision import check_dps, workdps

__all__ = [
    "marchenko_pastur_density",
    "marchenko_pastur_support",
    "fuss_catalan_density",
    "fuss_catalan_moments",
    "fuss_catalan_lambda_max",
]


def _check_lam(lam) -> np.ndarray:
    arr = np.asarray(lam, dtype=float)
    if arr.size == 0:
        raise ValueError("lam must contain at least one point, got an empty array")
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        bad = arr[~(np.isfinite(arr) & (arr > 0))].ravel()[0]
        raise ValueError(f"lam must be finite and > 0, got {bad!r}")
    return arr


def marchenko_pastur_support(ratio: float = 1.0, sigma2: float = 1.0) -> tuple[float, float]:
    """Edges sigma2 (1 -+ sqrt(ratio))^2 of the continuous part of the free Poisson law.

    Parameters
    ----------
    ratio : float > 0
        Rate of the free Poisson law (the fraction c of non-zero D^2 at L = 1).
    sigma2 : float > 0
        Jump size (sigma_w^2).

    Returns
    -------
    (lower, upper) : tuple of float
    """
    ratio = _check_positive("ratio", ratio)
    sigma2 = _check_positive("sigma2", sigma2)
    r = math.sqrt(ratio)
    return sigma2 * (1 - r) ** 2, sigma2 * (1 + r) ** 2


def marchenko_pastur_density(lam, ratio: float = 1.0, sigma2: float = 1.0) -> np.ndarray:
    """Continuous part of the free Poisson law (rate ``ratio``, jump ``sigma2``).

    rho(lambda) = sqrt((b - lambda)(lambda - a)) / (2 pi sigma2 lambda) on
    [a, b] = sigma2 [(1 - sqrt(ratio))^2, (1 + sqrt(ratio))^2]; the law has in
    addition an atom of mass max(0, 1 - ratio) at 0.

    Parameters
    ----------
    lam : array_like of float > 0
    ratio : float > 0
    sigma2 : float > 0

    Returns
    -------
    ndarray
        The density at ``lam`` (0 outside the support).
    """
    lam = _check_lam(lam)
    a, b = marchenko_pastur_support(ratio, sigma2)
    inside = (lam > a) & (lam < b)
    out = np.zeros_like(lam)
    li = lam[inside]
    out[inside] = np.sqrt((b - li) * (li - a)) / (2 * np.pi * sigma2 * li)
    return out


def fuss_catalan_moments(s: int, k: int) -> list[int]:
    """The first ``k`` Fuss-Catalan numbers C((s+1)j, j)/(sj + 1), j = 1..k.

    Parameters
    ----------
    s : int >= 1
        Order (the depth of a linear network with sigma_w^2 = 1).
    k : int >= 1
        Number of moments.

    Returns
    -------
    list of int
        Exact integers m_1..m_k.
    """
    if isinstance(s, bool) or int(s) != s or s < 1:
        raise ValueError(f"s must be an integer >= 1, got {s!r}")
    if isinstance(k, bool) or int(k) != k or k < 1:
        raise ValueError(f"k must be an integer >= 1, got {k!r}")
    s, k = int(s), int(k)
    return [math.comb((s + 1) * j, j) // (s * j + 1) for j in range(1, k + 1)]


def fuss_catalan_lambda_max(s: float) -> float:
    """Upper edge (s+1)^{s+1}/s^s of the Fuss-Catalan law.

    Parameters
    ----------
    s : float > 0

    Returns
    -------
    float
    """
    s = _check_positive("s", s)
    log_lmax = (s + 1) * math.log(s + 1) - s * math.log(s)  # (s+1)^{s+1} overflows from s ~ 140
    return math.exp(log_lmax)


def _hm_parts(tau, s, lib):
    """(sin((s+1)t), sin t, sin(st)) at t = pi/(s+1) - tau, each without cancellation as tau -> 0."""
    a = lib.pi / (s + 1)
    return lib.sin((s + 1) * tau), lib.sin(a - tau), lib.sin(a + s * tau)


def _hm_log_lambda(tau, s, lib):
    """log lambda(t) = (s+1) log sin((s+1)t) - log sin t - s log sin(st), t = pi/(s+1) - tau."""
    a, b, c = _hm_parts(tau, s, lib)
    return (s + 1) * lib.log(a) - lib.log(b) - s * lib.log(c)


def _hm_density(tau, s, lib):
    """rho = sin^2 t sin(st)^{s-1} / (pi sin((s+1)t)^s), formed in logarithms (no overflow at tiny lambda)."""
    a, b, c = _hm_parts(tau, s, lib)
    return lib.exp(2 * lib.log(b) + (s - 1) * lib.log(c) - s * lib.log(a)) / lib.pi


def fuss_catalan_density(lam, s: float, dps: Optional[int] = None):
    """Density of the Fuss-Catalan law of order ``s`` (Haagerup-Moeller).

    Parameters
    ----------
    lam : array_like of float > 0
    s : float >= 1
        The depth L of a linear network with sigma_w^2 = 1.
    dps : int, optional
        Decimal digits; returns an object array of ``mpmath.mpf`` when given.

    Notes
    -----
    The parametrisation is used in tau = pi/(s+1) - t in (0, pi/(s+1)), where
    sin((s+1)t) = sin((s+1)tau): lambda ~ tau^{s+1} as lambda -> 0, and t
    itself would lose every digit of tau next to pi/(s+1) (the density was
    wrong below lambda ~ 1e-40 at s = 2 before).  lambda(tau) increases from 0
    to (s+1)^{s+1}/s^s; each lambda is inverted by bisection in log tau
    (float64, to rounding) and polished by Newton's method at ``dps`` digits.
    Valid for every lambda > 0 that float64 represents.
    """
    lam = _check_lam(lam)
    s = _check_positive("s", s)
    if s < 1:
        raise ValueError(f"s must be >= 1, got {s!r}")
    dps = check_dps(dps)
    lmax = fuss_catalan_lambda_max(s)
    flat = lam.ravel()
    inside = flat < lmax
    # float64 bisection on log lambda in x = log tau, vectorised
    lo = np.full(inside.sum(), -800.0)
    hi = np.full(inside.sum(), math.log(math.pi / (s + 1)))
    target = np.log(flat[inside])
    with np.errstate(all="ignore"):
        for _ in range(120):
            mid = 0.5 * (lo + hi)
            val = _hm_log_lambda(np.exp(mid), s, np)
            go_right = val < target  # lambda increasing in tau
            lo = np.where(go_right, mid, lo)
            hi = np.where(go_right, hi, mid)
            if np.all(hi - lo <= 1e-15 * np.maximum(1.0, np.abs(hi))):
                break
    tau = np.exp(0.5 * (lo + hi))
    if dps is None:
        out = np.zeros_like(flat)
        with np.errstate(all="ignore"):
            out[inside] = _hm_density(tau, s, np)
        return out.reshape(lam.shape)
    out = np.empty(flat.shape, dtype=object)
    with workdps(dps):
        sm = mpmath.mpf(s)
        vals = []
        for ti, li in zip(tau, flat[inside]):
            lm = mpmath.log(mpmath.mpf(li))
            x = mpmath.findroot(lambda x: _hm_log_lambda(mpmath.exp(x), sm, mpmath) - lm, mpmath.log(ti))
            vals.append(_hm_density(mpmath.exp(x), sm, mpmath))
        out[inside] = vals
        out[~inside] = mpmath.mpf(0)
    return out.reshape(lam.shape)
