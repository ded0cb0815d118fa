"""m_K(u) = E[u D^2/(1 - u D^2)], D^2 = phi'(h)^2: the closed forms, the series and quadrature.

Every route of the moment generating function of the law K, in float64
(vectorised) and at mpmath precision: the rational closed form of discrete
laws, the Lerch transcendent of erf-type laws (``D^2 = A exp(-alpha h^2)``),
the power series inside its disk, and Gaussian quadrature for any phi.
:class:`MomentGeneratingFunction` is a part of
:class:`~rmtfp.activations.core.Activation`.
"""

from __future__ import annotations

import math
from typing import Optional

import mpmath
import numpy as np
import sympy as sp

from ..precision import round_to, workdps
from .lerch import lerch_half

__all__ = ["MomentGeneratingFunction"]

_MGF_METHODS = ("auto", "formula", "series", "quadrature")


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


class MomentGeneratingFunction:
    """m_K(u) and dm_K/du (a base of :class:`~rmtfp.activations.core.Activation`).

    Uses the activation's law of D^2 (``d2_structure``, ``_discrete_law``, ``_gaussian_params``,
    ``d2_moment``, ``d2_max``), its quadrature and ``_check_route``.
    """

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

