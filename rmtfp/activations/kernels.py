"""The kernels of the spectral equation: m_K(u), 1 + m_K(u) and u m_K'(u), each without cancellation.

The equation of :mod:`rmtfp.spectrum.equation` needs ``1 + m_K(u) = E[1/(1 -
u D^2)]`` to full relative accuracy where it is small, and ``m_K`` where it
is small; :class:`SpectralKernels` (a part of
:class:`~rmtfp.activations.core.Activation`) sums each directly.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import sympy as sp

from .lerch import lerch_half
from .mgf import _lerch_half_mp
from .quadrature import _QUAD_PANEL

__all__ = ["SpectralKernels"]


class SpectralKernels:
    """(m_K, 1 + m_K, u m_K') in float64 and at mpmath precision (a base of
    :class:`~rmtfp.activations.core.Activation`)."""

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

