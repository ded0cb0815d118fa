"""Moments of J J^T with layer-dependent laws of (D^l)^2, by power series (see :mod:`rmtfp.spectrum.layered`).

The layers' inverse generating functions chi_l are power series (reverted
from the moments E[(D^l)^{2j}]); their product gives zeta(m) as a power
series, whose reversion m(zeta) = sum_k m_k zeta^k holds the moments of
J J^T (float64; no solve of the equation).
"""

from __future__ import annotations

import math
from typing import Sequence, Union

import numpy as np

from ..activations import Activation
from .layered import layered_params

__all__ = ["moments_layered"]


# -------------------------------------------------------------- power series
def _mul(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    return np.convolve(a, b)[:n]


def _reciprocal(a: np.ndarray, n: int) -> np.ndarray:
    """1/a as a power series (a[0] != 0), n terms."""
    out = np.zeros(n)
    out[0] = 1 / a[0]
    for j in range(1, n):
        out[j] = -np.dot(a[1:j + 1], out[j - 1::-1][:j]) / a[0]
    return out


def _compose(f: np.ndarray, g: np.ndarray, n: int) -> np.ndarray:
    """f(g(x)) for g[0] = 0, n terms (Horner)."""
    out = np.zeros(n)
    for c in f[::-1]:
        out = _mul(out, g, n)
        out[0] += c
    return out


def _revert(f: np.ndarray, n: int) -> np.ndarray:
    """Compositional inverse of f (f[0] = 0, f[1] != 0), n terms (index = power)."""
    g = np.zeros(n)
    g[1] = 1 / f[1]
    for j in range(2, n):
        g[j] -= _compose(f, g, n)[j] / f[1]
    return g


def moments_layered(activation: Union[str, Activation], qs: Sequence[float], k: int, sigma_w2=1.0,
                    arch=None) -> np.ndarray:
    """Moments m_1..m_k of the layer-dependent law of J J^T (atom included).

    From prod_l chi_{K_l}(m) = zeta (1+m) m^{L-1} S: with chi_l(m) = m P_l(m),
    zeta = m prod_l P_l(m) / (S (1 + m)) is a power series in m, whose
    compositional inverse is m(zeta) = sum_k m_k zeta^k.  P_l comes from
    reverting m_{K_l}(u) = sum_j E[D_l^{2j}] u^j.  For equal layers this is
    the Lagrange-inversion formula of :func:`rmtfp.moments`; m_1 = prod_l
    sigma_l^2 E[D_l^2].  ``arch`` (:class:`~rmtfp.spectrum.weights.Architecture`): other weight
    ensembles and widths, zeta = chi_J(m) from :meth:`~rmtfp.spectrum.weights.Architecture.zeta_series`.
    """
    act, qs, s2 = layered_params(activation, qs, sigma_w2)
    if isinstance(k, bool) or int(k) != k or k < 1:
        raise ValueError(f"k must be an integer >= 1, got {k!r}")
    k = int(k)
    n = k + 2
    P = np.zeros(n)
    P[0] = 1.0
    chis = []
    for q in qs:
        mk = np.array([0.0] + [act.d2_moment(j, q) for j in range(1, n)])
        if mk[1] <= 0:
            raise ValueError(f"E[phi'(h)^2] = 0 at q={q}: the Jacobian vanishes")
        chi = _revert(mk, n)  # chi[0] = 0
        chis.append(chi[1:])
        P = _mul(P, chi[1:], n - 1)  # chi(m)/m
    if arch is not None:
        return _revert(arch.zeta_series(chis, n), n)[1:k + 1].copy()
    S = math.prod(s2)
    one_plus = np.zeros(n - 1)
    one_plus[:2] = 1.0
    zeta_over_m = _mul(P, _reciprocal(one_plus, n - 1), n - 1) / S
    zeta = np.concatenate([[0.0], zeta_over_m])[:n]
    m = _revert(zeta, n)
    return m[1:k + 1].copy()
