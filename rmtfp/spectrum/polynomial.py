"""All roots of the spectral equation as a polynomial (two-point laws of D^2).

For m_K(u) = c v u/(1 - v u) (linear, ReLU, hard-tanh) the equation is
the polynomial z w = s (1 + w)(c + w)^L, s = (sigma_w^2 v)^L.  In the
variable r = 1/(1 - v u) = (c + w)/c, rescaled by an L-th root taken once
(in logarithms), its coefficients are O(1); all roots are computed (companion matrix) on
the real axis and the physical one is the root on the principal branch of
the log equation (G = 0) with Im w <= 0 -- found without any continuation,
an independent route to the same root.
"""

from __future__ import annotations

import math

import numpy as np

from .equation import Equation
from .solvers import Status, _branch_check, _newton

__all__ = ["polynomial_roots"]


def _companion_roots(coeffs: np.ndarray) -> np.ndarray:
    """Roots of sum_j coeffs[:, j] x^j for each row (batched companion matrices).

    A row whose leading coefficient is smaller than its constant term is
    solved reversed (roots 1/x): a tiny leading coefficient puts huge entries
    into the companion matrix and loses the O(1) roots.
    """
    rev = np.abs(coeffs[:, -1]) < np.abs(coeffs[:, 0])
    if rev.any():
        out = np.empty((coeffs.shape[0], coeffs.shape[1] - 1), dtype=complex)
        out[~rev] = _companion_roots(coeffs[~rev]) if (~rev).any() else out[~rev]
        with np.errstate(all="ignore"):
            out[rev] = 1 / _companion_roots(coeffs[rev, ::-1])
        return out
    n, deg1 = coeffs.shape
    deg = deg1 - 1
    comp = np.zeros((n, deg, deg), dtype=complex)
    comp[:, 1:, :-1] = np.eye(deg - 1)
    comp[:, :, -1] = -coeffs[:, :-1] / coeffs[:, -1:]
    return np.linalg.eigvals(comp)


def polynomial_roots(eq: Equation, lam, c: float, v: float, outside=None):
    """Physical root of z w = s (1 + w)(c + w)^L at z = lambda + i0 (float64), as t = log u.

    With r = 1/(1 - v u) (so w = c (r - 1), 1 + w = 1 - c + c r) the
    polynomial is z (r - 1) = S r^L (1 - c + c r), S = s c^{L-1} =
    (sigma_w^2 v c)^L / c.  With r = kappa R, kappa = min(1, |z/S|^{1/(L+1)})
    (the L-th root taken once, in logarithms) its coefficients are

        c R^{L+1} + ((1 - c)/kappa) R^L - zeta kappa R + zeta = 0,
        zeta = z / (S kappa^{L+1}),

    all O(1) in the regimes where the root is O(1) in R.  Every root is
    mapped to t = log u and the physical one is the only root that solves
    the log equation G(t) = 0 on the principal branch with Im w <= 0;
    points with no such root or several get ``AMBIGUOUS_ROOT``.  Outside the
    support (``outside``, a mask) the real roots on both sides of a branch
    point solve G, and the density is 0 on either: the smallest u is kept
    (above lambda_max it is the one continued from w ~ m_1/z).  The chosen
    root is polished by Newton on G (so its status is earned the same way as
    the continuation's).
    """
    lam = np.asarray(lam, dtype=float)
    L = eq.depth
    n = len(lam)
    logS = L * math.log(eq.sigma_w2 * v * c) - math.log(c)
    logz = np.log(lam)
    lzs = logz - logS  # log(z/S)
    # |r| where c r^{L+1} or (1 - c) r^L first balances z/S (r = 1 at large z)
    log_kappa = np.minimum(0.0, (lzs - math.log(c)) / (L + 1))
    if c < 1:
        log_kappa = np.minimum(log_kappa, (lzs - math.log1p(-c)) / L)
    kappa = np.exp(log_kappa)
    # coefficients of R^{L+1}, R^L, R^1, R^0 in logarithms, normalised by the largest
    with np.errstate(divide="ignore"):
        logc = np.stack([math.log(c) + (L + 1) * log_kappa, np.log1p(-c) + L * log_kappa + 0 * lzs,
                         lzs + log_kappa, lzs], axis=1)
    logc -= np.max(logc, axis=1, keepdims=True)
    k = np.exp(logc)
    coeffs = np.zeros((n, L + 2), dtype=complex)
    coeffs[:, 0] = k[:, 3]
    coeffs[:, 1] = -k[:, 2]
    coeffs[:, L] += k[:, 1]
    coeffs[:, L + 1] = k[:, 0]
    roots = _companion_roots(coeffs)  # (n, L+1)
    with np.errstate(all="ignore"):
        r = kappa[:, None] * roots
        vu = 1 - 1 / r
        t_all = np.log(np.abs(vu)) - 1j * np.arctan2(-vu.imag + 0.0, vu.real) - math.log(v)
        flat_t = t_all.ravel()
        lz = np.repeat(logz + 0j, L + 1)
        G, _, m, nn, floor = eq.log_residual(flat_t, lz)
    G = np.abs(G).reshape(n, L + 1)
    size = (1 + np.abs(flat_t)).reshape(n, L + 1)
    im_t = t_all.imag
    # the candidates: on the principal branch of G (to well above rounding: the root of the
    # polynomial carries the companion matrix's backward error) and on the physical sheet,
    # u in the closed lower half-plane (Im w has the sign of Im u; |Im w| may be 1e-50 |w|)
    cand = (G <= 1e-6 * size) & (im_t <= 1e-9) & (im_t >= -np.pi - 1e-9)
    above = np.zeros(n, dtype=bool) if outside is None else np.asarray(outside, dtype=bool)
    if above.any():  # keep the smallest real u among the candidates
        re_t = np.where(cand, t_all.real, np.inf)
        first = np.argmin(re_t, axis=1)
        cand[above] = False
        cand[np.flatnonzero(above), first[above]] = np.isfinite(re_t[above, first[above]])
    count = cand.sum(axis=1)
    pick = np.argmax(cand, axis=1)
    t = t_all[np.arange(n), pick]
    t, ok, _ = _newton(eq, t, logz + 0j, 20, 0.0, keep_lower=False)
    status = np.where(ok, Status.CONVERGED, Status.NOT_CONVERGED).astype(np.int8)
    status[count != 1] = Status.AMBIGUOUS_ROOT
    return t, _branch_check(eq, t, logz + 0j, status)
