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

The solvers do not work in w but in t = log u, where the equation reads
(docs/theory.md, "The equation in log variables")

    G(t; z) = t + (1/L) log z - (1 - 1/L) [log m_K(u) - log n_K(u)] - omega = 0,
    omega   = log(sigma_w^2 n_K(u))          (the weight law: -log S_W(w)),

with u = e^t, w = m_K(u) and n_K(u) = 1 + m_K(u) = E[1/(1 - u D^2)] summed
without cancellation.  Every term is O(log) of the data, for any depth and
any lambda > 0 that float64 represents: nothing is raised to the power L,
and the trivial root w = 0 of the w-form (where w - m_K(u) is below any
absolute tolerance) sits at t = -infinity.  G is what the solvers drive to
zero and what the convergence test measures (see :meth:`Equation.log_residual`).
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
        """log w with arg in [-pi, 0] for Im w <= 0 (continued across the positive axis); -inf at w = 0."""
        with np.errstate(divide="ignore"):
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
    mgf_check : bool
        Evaluate m_K by the independent check route of
        :meth:`Activation.mgf_kernels` (used to verify float64 roots).
    weights : WeightLaw, optional
        The weight ensemble (:mod:`rmtfp.spectrum.weights`); ``None`` is Gaussian.
        Otherwise u = sigma_w^2 z^{-1/L} w^{1-1/L} (1+w)^{-(1-1/L)} / s(w), and
        omega = log sigma_w^2 - log s(w) (:meth:`weight_log`).
    """

    activation: Activation
    depth: int
    sigma_w2: float
    q: Optional[float]
    dps: Optional[int] = None
    mgf_method: str = "auto"
    mgf_check: bool = False
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
        self._d1, self._d2 = d1, d2
        self.inv_depth = self._a
        log = math.log if self.dps is None else mpmath.log
        self._log_s2 = log(self._s2)
        self._log_d1 = log(d1)
        self.log_m1 = L * log(self._s2 * d1)  # log chi^L
        self._log1p_ratio = log(1 + L * d2 / d1**2)  # log(m_2 / m_1^2)
        if self._other_weights:
            # m_2/m_1^2 - 1 = L (E D^4/E[D^2]^2 - 1) - L s_1, s(m) = 1 + s_1 m + ...
            self._log1p_ratio = log(1 + L * d2 / d1**2 - L - L * float(self.weights.s1))

    @property
    def _other_weights(self) -> bool:
        return self.weights is not None and not self.weights.is_gaussian

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
        if self._other_weights:
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
        if self._other_weights:
            u, du_dw = self._u_weights(w, z)
        else:
            u = self.u_of(w, z)
            du_dw = u * (self._a / (1 + w) + self._b / w)
        m, dm = self.mgf(u)
        du_dz = -self._a * u / z
        return w - m, 1 - dm * du_dw, -dm * du_dz

    # ---------------------------------------------------- the log formulation
    def kernels(self, u):
        """(m_K(u), n_K(u) = 1 + m_K(u), u m_K'(u), relative accuracy of the route), vectorised.

        Im m_K = Im n_K exactly, and only n_K's imaginary part is free of
        cancellation (:meth:`Activation.mgf_kernels`): m is returned with it,
        so that m and n always lie on the same side of the real axis -- the
        cut of the logarithms, which w and 1 + w approach as lambda -> 0.
        """
        if self.dps is None:
            m, n, um, relerr = self.activation.mgf_kernels(u, self.q if self.q is not None else 1.0,
                                                           self.mgf_method, check=self.mgf_check)
            return m.real + 1j * n.imag, n, um, relerr
        q = mpmath.mpf(self.q) if self.q is not None else mpmath.mpf(1)
        out = [np.empty(u.shape, dtype=object) for _ in range(3)]
        for i, ui in enumerate(u.flat):
            m, n, um = self.activation.mgf_kernels_mp(ui, q, self.mgf_method)
            out[0].flat[i] = mpmath.mpc(m.real, mpmath.mpc(n).imag)
            out[1].flat[i] = n
            out[2].flat[i] = um
        return (*out, 0)

    def weight_log(self, m, n):
        """omega = -log S_W(w) and d omega/dw for the weight law (w = m, 1 + w = n).

        Gaussian weights of variance sigma_w^2/N: S_W(w) = 1/(sigma_w^2 (1 + w)),
        omega = log sigma_w^2 + log(1 + w).  This is the only place where the
        law of the weights enters the equation.
        """
        bk = self.backend
        if self._other_weights:  # omega = log sigma_w^2 - log s(w)
            s, dlog_s = self.weights.log_derivative(m, mp=self.dps is not None)
            if self.weights.name == "orthogonal":
                return self._log_s2 + 0 * m, 0 * m
            return self._log_s2 - bk.log_lower(s), -dlog_s
        return self._log_s2 + bk.log_lower(n), 1 / n

    def log_residual(self, t, logz):
        """G(t; z), dG/dt, and the pieces the solvers need.

        G(t; z) = t + (1/L) log z - (1 - 1/L)(log m - log n) - omega(w),
        given ``logz`` = log z (arg in [0, pi]; z itself may be beyond float64),
        u = e^t, m = m_K(u) = w, n = 1 + w (module doc).  The logarithms are
        the principal ones on the physical side: arg z in [0, pi], arg w and
        arg(1 + w) in [-pi, 0], i.e. the three separate principal powers of the
        w-form.  dG/d(log z) = 1/L.

        Returns
        -------
        G, Gt : arrays
        m, n : arrays
            w and 1 + w at u = e^t.
        floor : float array
            Rounding level of G: eps times the size of its terms, plus the
            accuracy of the m_K route (relative errors of m and n enter G as
            absolute errors of their logarithms).
        """
        bk = self.backend
        u = bk.exp(t)
        m, n, um, relerr = self.kernels(u)
        lz = logz
        lm, ln = bk.log_lower(m), bk.log_lower(n)
        om, dom = self.weight_log(m, n)
        G = t + self._a * lz - self._b * (lm - ln) - om
        Gt = 1 - um * (self._b * (1 / m - 1 / n) + dom)
        size = bk.abs(t) + self._a * bk.abs(lz) + self._b * (bk.abs(lm) + bk.abs(ln)) + bk.abs(om)
        floor = 32 * bk.eps * size + 4 * relerr
        return G, Gt, m, n, floor

    def t_start(self, logz):
        """t = log u at large |z| from w ~ m_1/z + m_2/z^2 and u ~ w/E[D^2] - E[D^4] w^2/E[D^2]^3.

        Formed in logarithms: m_1 = chi^L and z may lie beyond float64 (only
        |w| = O(1/L) at the start is exponentiated).
        """
        bk = self.backend
        r = bk.exp(self.log_m1 + self._log1p_ratio - logz)  # (m_2/m_1)/z
        w = bk.exp(self.log_m1 - logz) * (1 + r)
        return bk.log_lower(w) - self._log_d1 + bk.log_lower(1 - (self._d2 / self._d1**2) * w)

    def log_scale(self) -> float:
        """log of a rough upper bound of the spectrum (places the start of the path; no overflow)."""
        L = self.depth
        return float(self.log_m1) + 1.0 + math.log(L + 1) + max(0.0, math.log(float(self._d2) / float(self._d1) ** 2))

    def T(self, w, z):
        """The fixed-point map w -> m_K(u(w, z)) of the papers' iteration."""
        m, _ = self.mgf(self.u_of(w, z))
        return m
