"""The functional equation for the spectrum of J J^T, J = prod_l D_l W_l.

With w(z) = m(1/z) = -1 - z f(z) (f the Stieltjes transform), the law of
J J^T at depth L satisfies (docs/theory.md, with sigma_w^2 restored)

    w = m_K(u),    u = sigma_w^2 z^{-1/L} (1 + w)^{1/L} w^{1 - 1/L},

m_K the moment generating function of D^2 = phi'(h)^2, h ~ N(0, q).
The three powers are separate principal powers: for Im z >= 0 the argument
of z is taken in [0, pi]; for Im w <= 0 the arguments of w and 1 + w are taken
in [-pi, 0] (the closed lower half-plane, so that the limit onto the real
axis is the one from the physical side).  A single principal L-th root of
the product is a different, wrong branch.

The density is rho(lambda) = -Im w(lambda + i0) / (pi lambda).

:class:`Equation` evaluates F(w; z) = w - m_K(u(w, z)) with its derivatives
in w and z, in float64 (vectorised) or in mpmath (object arrays).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Optional

import mpmath
import numpy as np

from ..activations import Activation

__all__ = ["Equation", "NumpyBackend", "MpBackend"]


class NumpyBackend:
    """float64 / complex128 arithmetic, vectorised."""

    name = "float64"
    eps = float(np.finfo(float).eps)

    @staticmethod
    def carray(x) -> np.ndarray:
        return np.asarray(x, dtype=complex)

    @staticmethod
    def farray(x) -> np.ndarray:
        return np.asarray(x, dtype=float)

    @staticmethod
    def log_lower(w):
        """log w with arg in [-pi, 0] for Im w <= 0 (continued across the positive axis)."""
        return np.log(np.abs(w)) - 1j * np.arctan2(-w.imag + 0.0, w.real)

    @staticmethod
    def log_upper(z):
        """log z with arg in [0, pi] for Im z >= 0."""
        return np.log(np.abs(z)) + 1j * np.arctan2(z.imag + 0.0, z.real)

    exp = staticmethod(np.exp)
    abs = staticmethod(np.abs)

    @staticmethod
    def imag(x):
        return np.imag(x)

    @staticmethod
    def real(x):
        return np.real(x)

    @staticmethod
    def isfinite(x):
        return np.isfinite(x)

    @staticmethod
    def number(x):
        return float(x)


def _ofunc(f):
    g = np.frompyfunc(f, 1, 1)
    return lambda x: g(x) if isinstance(x, np.ndarray) else f(x)


def _object_array(x, number) -> np.ndarray:
    """An object array of the same shape with every entry converted by ``number`` (mpmath.mpf or mpc)."""
    arr = np.asarray(x, dtype=object)
    out = np.empty(arr.shape, dtype=object)
    out.flat[:] = [number(v) for v in arr.flat]
    return out

class MpBackend:
    """mpmath arithmetic on object arrays (current mpmath precision)."""

    name = "mpmath"

    @property
    def eps(self):
        return mpmath.eps

    @staticmethod
    def carray(x) -> np.ndarray:
        return _object_array(x, mpmath.mpc)

    @staticmethod
    def farray(x) -> np.ndarray:
        return _object_array(x, mpmath.mpf)

    log_lower = staticmethod(_ofunc(lambda w: mpmath.mpc(mpmath.log(abs(w)), -mpmath.atan2(-w.imag, w.real))))
    log_upper = staticmethod(_ofunc(lambda z: mpmath.mpc(mpmath.log(abs(z)), mpmath.atan2(z.imag, z.real))))
    exp = staticmethod(_ofunc(mpmath.exp))
    abs = staticmethod(_ofunc(abs))
    imag = staticmethod(_ofunc(lambda x: mpmath.mpf(x.imag) if isinstance(x, mpmath.mpc) else mpmath.mpf(0)))
    real = staticmethod(_ofunc(lambda x: mpmath.mpf(x.real)))
    isfinite = staticmethod(lambda x: np.array([mpmath.isfinite(v) for v in np.ravel(x)], dtype=bool).reshape(
        np.shape(x)))

    @staticmethod
    def number(x):
        return mpmath.mpf(x)


@dataclasses.dataclass
class Equation:
    """F(w; z) = w - m_K(sigma_w^2 z^{-1/L} (1+w)^{1/L} w^{1-1/L}) for one activation.

    Parameters
    ----------
    activation : Activation
    depth : int
    sigma_w2 : float
    q : float or None
        Variance of the pre-activations (None where the law does not depend on q).
    dps : int or None
        None: float64 backend; otherwise mpmath at the current precision
        (callers wrap the computation in :func:`rmtfp.precision.workdps`).
    mgf_method : str
        Route for m_K (see :meth:`Activation.mgf_d2`).
    weights : WeightLaw, optional
        The weight ensemble (:mod:`rmtfp.spectrum.weights`); ``None`` is Gaussian.
        Otherwise u = sigma_w^2 z^{-1/L} w^{1-1/L} (1+w)^{-(1-1/L)} / s(w).
    """

    activation: Activation
    depth: int
    sigma_w2: float
    q: Optional[float]
    dps: Optional[int] = None
    mgf_method: str = "auto"
    weights: Optional[object] = None

    def __post_init__(self):
        self.backend = NumpyBackend() if self.dps is None else MpBackend()
        L = self.depth
        if self.dps is None:
            self._a, self._b = 1.0 / L, 1.0 - 1.0 / L
            self._s2 = float(self.sigma_w2)
        else:
            self._a, self._b = mpmath.mpf(1) / L, 1 - mpmath.mpf(1) / L
            self._s2 = mpmath.mpf(self.sigma_w2)
        # D^2 moments: m_1 = chi^L, m_2 = m_1^2 (1 + L E[D^4]/E[D^2]^2)
        d1 = self.activation.d2_moment(1, self.q)
        d2 = self.activation.d2_moment(2, self.q)
        self.m1 = (self.sigma_w2 * d1) ** L
        self.m2 = self.m1**2 * (1 + L * d2 / d1**2) if d1 > 0 else 0.0
        if self.weights is not None and not self.weights.is_gaussian:
            # m_2/m_1^2 - 1 = L (E D^4/E[D^2]^2 - 1) - L s_1, s(m) = 1 + s_1 m + ...
            s1 = float(self.weights.s1)
            self.m2 = self.m1**2 * (1 + L * d2 / d1**2 - L - L * s1) if d1 > 0 else 0.0

    def mgf(self, u):
        """(m_K(u), m_K'(u)), vectorised."""
        if self.dps is None:
            return self.activation.mgf_d2(u, self.q, method=self.mgf_method, derivative=True)
        out_m = np.empty(u.shape, dtype=object)
        out_d = np.empty(u.shape, dtype=object)
        q = mpmath.mpf(self.q) if self.q is not None else None
        for i, ui in enumerate(u.flat):
            m, d = self.activation._mgf_mp(ui, q if q is not None else mpmath.mpf(1), self.mgf_method)
            out_m.flat[i] = m
            out_d.flat[i] = d
        return out_m, out_d

    def u_of(self, w, z):
        """u = sigma_w^2 z^{-1/L} (1 + w)^{1/L} w^{1 - 1/L} (three principal powers)."""
        bk = self.backend
        if self.weights is not None and not self.weights.is_gaussian:
            return self._u_weights(w, z)[0]
        return self._s2 * bk.exp(-self._a * bk.log_upper(z) + self._a * bk.log_lower(1 + w)
                                 + self._b * bk.log_lower(w))

    def _u_weights(self, w, z):
        """u = sigma_w^2 z^{-1/L} w^{1-1/L} (1+w)^{-(1-1/L)} / s(w) and du/dw (other weight ensembles)."""
        bk = self.backend
        s, dlog_s = self.weights.log_derivative(w, mp=self.dps is not None)
        u = self._s2 * bk.exp(-self._a * bk.log_upper(z) - self._b * bk.log_lower(1 + w)
                              + self._b * bk.log_lower(w)) / s
        return u, u * (self._b / w - self._b / (1 + w) - dlog_s)

    def residual(self, w, z):
        """F(w; z), dF/dw and dF/dz."""
        if self.weights is not None and not self.weights.is_gaussian:
            u, du_dw = self._u_weights(w, z)
        else:
            u = self.u_of(w, z)
            du_dw = u * (self._a / (1 + w) + self._b / w)
        m, dm = self.mgf(u)
        du_dz = -self._a * u / z
        return w - m, 1 - dm * du_dw, -dm * du_dz

    def T(self, w, z):
        """The fixed-point map w -> m_K(u(w, z)) of the papers' iteration."""
        m, _ = self.mgf(self.u_of(w, z))
        return m

    def asymptotic(self, z):
        """w(z) ~ m_1/z + m_2/z^2 for large |z|."""
        return self.m1 / z + self.m2 / (z * z)

    def scale(self) -> float:
        """A rough upper bound of the spectrum, used to place the start of the path."""
        L = self.depth
        d1 = float(self.activation.d2_moment(1, self.q))
        ratio = float(self.m2) / float(self.m1) ** 2 if float(self.m1) > 0 else 1.0
        # for the two-point laws lambda_max <= e (L+1) m_1 / c; m_2/m_1^2 - 1 = L/c there
        base = float(self.m1) * math.e * (L + 1) * max(1.0, (ratio - 1) / L)
        return max(base, float(self.sigma_w2) ** L * max(d1, 1e-300) * 1.0, 1e-300)
