"""Layer-dependent laws: the spectrum of J J^T when the layers are off the fixed point.

When the pre-activations of layer l have variance q_l (a network started away
from q*, or layers with their own sigma_l^2), the laws K_l of (D^l)^2 differ
and the S-transforms multiply layer by layer (docs/theory.md):

    prod_l chi_{K_l}(m) = zeta (1 + m) m^{L-1} prod_l sigma_l^2,

with chi_{K_l} the compositional inverse of m_{K_l}(u) = E[u D_l^2/(1 - u D_l^2)]
and m = m_J(zeta) = sum_k m_k zeta^k.  With w = m(1/z) and u_l = chi_{K_l}(w)
it is the system of L + 1 equations in (w, u_1, ..., u_L)

    G_l = m_{K_l}(u_l) - w = 0,                                 l = 1..L,
    H   = z prod_l u_l / (S (1 + w) w^{L-1}) - 1 = 0,           S = prod_l sigma_l^2,

which has no fractional powers, hence no branch cuts of its own.  For equal
laws it reduces to w = m_K(sigma_w^2 z^{-1/L} Psi_L(w)) of
:func:`rmtfp.density`, and the physical root (u_l = sigma_w^2 z^{-1/L}
Psi_L(w) on the principal branches) is the one reached by continuity from
large |z|, where w ~ m_1/z.

Solver: Newton's method on the system (the arrow-shaped Jacobian is
eliminated in closed form) along z = lambda + i eta, eta from eta_0 =
10 (lambda_max + lambda) down to eta_min = 1e-10 lambda, with per-point
adaptive steps, an Euler predictor in log-log variables (exact for
w ~ C z^s, the regime eta >> lambda where the path is long), a loose
tolerance (1e-8) on the path and the full one at the end, damping that keeps Im w < 0 and
Im u_l < 0 (m_K maps the lower half-plane into itself), and a last Newton
solve on the real axis (eta = 0), so the density has no Poisson smoothing.
See docs/theory.md "The papers' continuation scheme: what goes wrong": w_0 = 0 is a
spurious fixed point (start from m_1/z instead), the residual (not the step)
decides convergence, and non-convergence is reported per point.

Upper edge: on the real axis above the spectrum u_l in (0, 1/sup D_l^2) is real
and lambda is explicit in w,

    lambda(w) = S (1 + w) w^{L-1} / prod_l chi_{K_l}(w),

which decreases from +inf (w -> 0+) to its first minimum, the edge
lambda_max.  The atom at 0 has mass max_l P(phi'(h^l) = 0) (the rank of J is
min_l rank D^l; in the equation w(0) = -min_l c_l).
"""

from __future__ import annotations

import functools
import math
import numbers
from typing import Sequence, Union

import numpy as np
from scipy import optimize

from ..activations import Activation, get

__all__ = ["density_layered", "support_layered", "moments_layered", "layered_params"]

#: per-point status codes (the values of :class:`rmtfp.spectrum.Status`)
CONVERGED, NOT_CONVERGED, WRONG_BRANCH = 0, 1, 2

_TOL = 1e-12
_TOL_PATH = 1e-8  # on the path (eta > 0) the solution only has to stay on its branch; eta = 0 gets _TOL
_FLOOR = 100 * np.finfo(float).eps  # residual floor per unit |u|
_ETA_MIN_REL = 1e-10
_RATIO_START = 0.5  # first eta step: eta <- 0.5 eta
_RATIO_MIN = 1e-2  # largest step: eta <- eta / 100
_RATIO_GIVE_UP = 0.999


def layered_params(activation: Union[str, Activation], qs, sigma_w2=1.0):
    """Validate (activation, q_1..q_L, sigma_w2) -> (Activation, qs, sigma2s).

    ``sigma_w2`` may be one number or one per layer.
    """
    act = get(activation)
    if isinstance(qs, (str, bytes)) or not hasattr(qs, "__len__"):
        raise ValueError(f"qs must be a sequence of per-layer variances, got {qs!r}")
    try:
        qs = [float(q) for q in qs]
    except (TypeError, ValueError):
        raise ValueError(f"qs must be a sequence of numbers >= 0, got {qs!r}") from None
    if not qs:
        raise ValueError("qs must have at least one value (one per layer)")
    if not all(math.isfinite(q) and q >= 0 for q in qs):
        raise ValueError(f"every q must be finite and >= 0, got {qs}")
    L = len(qs)
    if isinstance(sigma_w2, numbers.Real):
        s2 = [float(sigma_w2)] * L
    else:
        try:
            s2 = [float(s) for s in sigma_w2]
        except (TypeError, ValueError):
            raise ValueError(f"sigma_w2 must be a number or one number per layer, got {sigma_w2!r}") from None
        if len(s2) != L:
            raise ValueError(f"sigma_w2 must have one value per layer ({L}), got {len(s2)}")
    if not all(math.isfinite(s) and s > 0 for s in s2):
        raise ValueError(f"sigma_w2 must be finite and > 0, got {sigma_w2!r}")
    return act, qs, s2


# ---------------------------------------------------------------- the system
class _System:
    """The system in (w, u_g), one u per distinct (law, scale) (layers with equal q have equal u_l = chi_K(w)).

    G_g = m_{K_g}(u_g)/a_g - w, H = z prod_g u_g^{n_g} Q(w) - 1, vectorised over points, with
    Q(w) = 1/(S (1+w) w^{L-1}) and a_g = 1 for square Gaussian layers; ``arch`` (an
    :class:`~rmtfp.spectrum.weights.Architecture`) supplies a_l = n_L/n_l and Q for other weight
    ensembles and widths (see :mod:`rmtfp.spectrum.weights`).
    """

    def __init__(self, act: Activation, qs: list, s2: list, arch=None):
        self.act, self.L = act, len(qs)
        self.S = math.prod(s2)
        self.arch = arch
        scales = [1.0] * self.L if arch is None else [arch.a(l) for l in range(1, self.L + 1)]
        keys = list(zip(qs, scales))
        groups = sorted(set(keys))
        self.qs = [g[0] for g in groups]
        self.scale = np.array([g[1] for g in groups], dtype=float)[:, None]
        self.mult = np.array([keys.count(g) for g in groups], dtype=float)[:, None]

    def mgf(self, u: np.ndarray):
        m = np.empty_like(u)
        dm = np.empty_like(u)
        with np.errstate(all="ignore"):
            for g, q in enumerate(self.qs):
                m[g], dm[g] = self.act.mgf_d2(u[g], q, derivative=True)
        return m / self.scale, dm / self.scale

    def _q(self, w):
        """(Q(w), d log Q / dw)."""
        if self.arch is not None:
            return self.arch.q_factor(w)
        with np.errstate(all="ignore"):
            return 1 / (self.S * (1 + w) * w ** (self.L - 1)), -(1 / (1 + w) + (self.L - 1) / w)

    def residual(self, w, u, z):
        """(G (groups, n), H (n,), R = H + 1, dm)."""
        m, dm = self.mgf(u)
        Q, _ = self._q(w)
        with np.errstate(all="ignore"):
            R = z * np.prod(u ** self.mult, axis=0) * Q
        return m - w, R - 1, R, dm

    def _schur(self, w, u, R, dm):
        _, dlog = self._q(w)
        with np.errstate(all="ignore"):
            c = self.mult * R / (u * dm)
            Hw = R * dlog
            return c, np.sum(c, axis=0) + Hw

    def step(self, w, u, G, H, R, dm):
        """Newton step (dw, du) by eliminating the arrow-shaped Jacobian."""
        c, den = self._schur(w, u, R, dm)
        with np.errstate(all="ignore"):
            dw = (-H + np.sum(c * G, axis=0)) / den
            du = (dw - G) / dm
        return dw, du

    def tangent(self, w, u, z, R, dm):
        """(dw/dz, du/dz) on the solution curve (G = H = 0)."""
        _, den = self._schur(w, u, R, dm)
        with np.errstate(all="ignore"):
            dw = -(R / z) / den
            du = dw / dm
        return dw, du


def _errors(G, H, w):
    with np.errstate(all="ignore"):
        e = np.maximum(np.max(np.abs(G), axis=0) / (1 + np.abs(w)), np.abs(H))
    return np.where(np.isfinite(e), e, np.inf)


def _newton(sys_: _System, w, u, z, maxit: int, tol: float, keep_lower: bool):
    """Damped Newton for arrays.

    Returns (w, u, converged, iterations, R, dm), R and dm at the returned point.
    """
    w, u = w.copy(), u.copy()
    n = w.size
    ok = np.zeros(n, dtype=bool)
    its = np.zeros(n, dtype=int)
    R_out = np.full(n, np.nan, dtype=complex)
    dm_out = np.full(u.shape, np.nan, dtype=complex)
    active = np.arange(n)
    for it in range(maxit + 1):
        if active.size == 0:
            break
        wa, ua, za = w[active], u[:, active], z[active]
        G, H, R, dm = sys_.residual(wa, ua, za)
        R_out[active], dm_out[:, active] = R, dm
        err = _errors(G, H, wa)
        # float64 m_K loses ~eps |u| absolute accuracy far from 0 (Lerch at large |u|): that is the floor
        conv = err < np.maximum(tol, _FLOOR * np.max(np.abs(ua), axis=0))
        ok[active[conv]] = True
        its[active] = it
        keep = ~conv & np.isfinite(err)
        if it == maxit:
            break
        active, wa, ua = active[keep], wa[keep], ua[:, keep]
        G, H, R, dm = G[:, keep], H[keep], R[keep], dm[:, keep]
        dw, du = sys_.step(wa, ua, G, H, R, dm)
        t = np.ones(active.size)
        if keep_lower:  # damping: stay in Im w < 0, Im u < 0
            for _ in range(30):
                bad = (np.imag(wa + t * dw) > 0) | np.any(np.imag(ua + t * du) > 0, axis=0)
                if not bad.any():
                    break
                t[bad] *= 0.5
        wn, un = wa + t * dw, ua + t * du
        fin = np.isfinite(wn) & np.all(np.isfinite(un), axis=0)
        active = active[fin]
        w[active], u[:, active] = wn[fin], un[:, fin]
    return w, u, ok, its, R_out, dm_out


def _real_inverse(act: Activation, q: float, w: np.ndarray) -> np.ndarray:
    """u in (0, 1/sup D^2) with m_K(u) = w for real w > 0 (nan beyond the range).

    m_K is increasing and convex there (m_K'' = E[2 D^4/(1 - u D^2)^3] > 0): a few bisection steps give a
    bracket, and Newton's method from its right end then decreases monotonically to the root.
    """
    top = (1 - 1e-13) / act.d2_max
    lo = np.zeros_like(w)
    hi = np.full_like(w, top)
    with np.errstate(all="ignore"):
        m_top = np.real(act.mgf_d2(np.array([top]), q))[0]
        for _ in range(12):
            mid = 0.5 * (lo + hi)
            f = np.real(act.mgf_d2(mid, q)) - w
            lo = np.where(f < 0, mid, lo)
            hi = np.where(f < 0, hi, mid)
        u = hi
        for _ in range(30):
            m, dm = act.mgf_d2(u, q, derivative=True)
            f, df = np.real(m) - w, np.real(dm)
            step = np.where(df > 0, f / df, 0.0)
            u = np.clip(u - step, lo, hi)
            if np.all(np.abs(step) <= 4 * np.finfo(float).eps * np.abs(u)):
                break
    return np.where(w < m_top, u, np.nan)


def _lambda_of_w(act, qs, s2, w: np.ndarray, arch=None) -> np.ndarray:
    L = len(qs)
    prod_u = np.ones_like(w)
    cache: dict = {}
    for l, q in enumerate(qs, start=1):
        a = 1.0 if arch is None else arch.a(l)
        if (q, a) not in cache:
            cache[q, a] = _real_inverse(act, q, a * w)
        prod_u = prod_u * cache[q, a]
    with np.errstate(all="ignore"):
        if arch is not None:
            return 1 / (np.real(arch.q_factor(w)[0]) * prod_u)
        return math.prod(s2) * (1 + w) * w ** (L - 1) / prod_u


def support_layered(activation: Union[str, Activation], qs: Sequence[float], sigma_w2=1.0,
                    arch=None) -> tuple[float, float]:
    """(lambda_max, atom) of the layer-dependent law.

    lambda_max is the first minimum over w > 0 of lambda(w) = S (1+w) w^{L-1}
    / prod_l chi_{K_l}(w) (the branch point of the real solution); the atom
    is max_l P(phi'(h^l) = 0).  With ``arch`` (other weight ensembles and widths) lambda(w) =
    1/(Q(w) prod_l chi_K(a_l w)) and the atom is :meth:`~rmtfp.spectrum.weights.Architecture.zero_atom`.
    """
    act, qs, s2 = layered_params(activation, qs, sigma_w2)
    return _support(act, tuple(qs), tuple(s2), arch)


@functools.lru_cache(maxsize=64)
def _support(act: Activation, qs: tuple, s2: tuple, arch=None) -> tuple[float, float]:
    atom = max(act.zero_probability(q) for q in qs)
    if arch is not None:
        atom = arch.zero_atom(1 - atom)
    w = np.geomspace(1e-6, 1e6, 241)
    lam = _lambda_of_w(act, qs, s2, w, arch)
    finite = np.isfinite(lam)
    if not finite.any():  # pragma: no cover - m_K(0+) = 0 always leaves small w
        raise ValueError("could not locate the upper edge")
    lam_f = np.where(finite, lam, np.inf)
    # the first local minimum from w = 0+ (lambda decreases until the edge; inf - inf counts as a rise)
    with np.errstate(invalid="ignore"):
        rise = ~(np.diff(lam_f) < 0)
    i = int(np.argmax(rise)) if rise.any() else int(np.argmin(lam_f))
    if not np.isfinite(lam_f[min(i + 1, w.size - 1)]):  # the range of m_K ends first: the edge is there
        return float(lam_f[i]), float(atom)
    a, b = w[max(i - 1, 0)], w[min(i + 1, w.size - 1)]
    res = optimize.minimize_scalar(lambda x: float(_lambda_of_w(act, qs, s2, np.array([x]), arch)[0]),
                                   bounds=(a, b), method="bounded", options={"xatol": 1e-12 * b})
    return float(min(res.fun, lam_f[i])), float(atom)


def density_layered(lam, activation: Union[str, Activation], qs: Sequence[float], sigma_w2=1.0,
                    tol: float = _TOL, eta_min_rel: float = _ETA_MIN_REL, max_steps: int = 2000, arch=None):
    """Density of the layer-dependent law of J J^T (continuous part).

    Solves the system of the module documentation by Newton continuation
    along z = lambda + i eta down to the real axis and returns
    rho(lambda) = -Im w(lambda + i0) / (pi lambda).

    Parameters
    ----------
    lam : array_like of float > 0
    activation : str or Activation
    qs : sequence of float >= 0
        Variance of the pre-activations of each layer (its length is the
        depth L).
    sigma_w2 : float or sequence of float > 0
        Weight variance times the width, one value or one per layer.
    tol : float
        Residual tolerance of Newton's method.
    eta_min_rel : float
        The path goes down to eta = eta_min_rel * lambda before the last
        Newton solve at eta = 0.
    max_steps : int
        Bound on the number of continuation steps (per point).
    arch : Architecture, optional
        Other weight ensembles and widths (:mod:`rmtfp.spectrum.weights`).

    Returns
    -------
    density : ndarray of float
    w : ndarray of complex
        w(lambda + i0) on the physical branch.
    status : ndarray of int8
        0 converged, 1 not converged (the density is then that of the last
        eta reached), 2 the solution left the lower half-plane.
    """
    act, qs, s2 = layered_params(activation, qs, sigma_w2)
    lam_in = np.asarray(lam, dtype=float)
    shape = lam_in.shape
    lam = np.atleast_1d(lam_in).ravel()
    if lam.size and (not np.all(np.isfinite(lam)) or np.any(lam <= 0)):
        raise ValueError("lam must be finite and > 0")
    n = lam.size
    sys_ = _System(act, qs, s2, arch)
    mom = moments_layered(act, qs, 2, s2, arch)
    lmax, _ = support_layered(act, qs, s2, arch)
    mu = [(act.d2_moment(1, q) / a, act.d2_moment(2, q) / a) for q, a in zip(sys_.qs, sys_.scale[:, 0])]

    eta = 10.0 * (lmax + lam)
    z = lam + 1j * eta
    w = mom[0] / z + mom[1] / z**2
    u = np.array([w / m1 - m2 * w**2 / m1**3 for m1, m2 in mu])
    w, u, ok, _, R, dm = _newton(sys_, w, u, z, 40, tol, keep_lower=True)
    status = np.where(ok, CONVERGED, NOT_CONVERGED).astype(np.int8)
    ratio = np.full(n, _RATIO_START)
    eta_min = eta_min_rel * lam
    done = ~ok
    steps = 0
    while not done.all() and steps < max_steps:
        steps += 1
        idx = np.nonzero(~done)[0]
        e_new = eta[idx] * ratio[idx]
        final = e_new < eta_min[idx]
        e_new[final] = 0.0
        z_old = lam[idx] + 1j * eta[idx]
        z_new = lam[idx] + 1j * e_new
        w0, u0 = w[idx], u[:, idx]
        dw, du = sys_.tangent(w0, u0, z_old, R[idx], dm[:, idx])
        # Euler predictor in log-log variables: exact for w ~ C z^s (the regime eta >> lambda, where the path
        # is long), the ordinary tangent near the real axis
        with np.errstate(all="ignore"):
            dlog = np.log(z_new / z_old)
            wp = w0 * np.exp(z_old * dw / w0 * dlog)
            up = u0 * np.exp(z_old * du / u0 * dlog)
        good_pred = np.isfinite(wp) & (np.imag(wp) < 0) & np.all(np.isfinite(up) & (np.imag(up) < 0), axis=0)
        wp = np.where(good_pred, wp, w0)
        up = np.where(good_pred, up, u0)
        wn = np.empty_like(wp)
        un = np.empty_like(up)
        okn = np.empty(idx.size, dtype=bool)
        itn = np.empty(idx.size, dtype=int)
        Rn = np.empty(idx.size, dtype=complex)
        dmn = np.empty_like(up)
        for fin, maxit, tol_step in ((False, 8, max(tol, _TOL_PATH)), (True, 60, tol)):
            sel = final == fin
            if sel.any():
                a, b, c, d, e, f = _newton(sys_, wp[sel], up[:, sel], z_new[sel], maxit, tol_step,
                                           keep_lower=not fin)
                wn[sel], un[:, sel], okn[sel], itn[sel], Rn[sel], dmn[:, sel] = a, b, c, d, e, f
        # on the path: reject steps that leave the lower half-plane
        okn &= final | (np.imag(wn) < 0)
        acc = idx[okn]
        w[acc], u[:, acc], eta[acc], R[acc], dm[:, acc] = wn[okn], un[:, okn], e_new[okn], Rn[okn], dmn[:, okn]
        fast = okn & (itn <= 3)
        ratio[idx[fast]] = np.maximum(ratio[idx[fast]] ** 2, _RATIO_MIN)
        done[idx[okn & final]] = True
        rej = idx[~okn]
        ratio[rej] = np.sqrt(ratio[rej])
        # a failed last solve: go further down the path before trying again
        stuck_final = idx[~okn & final]
        eta_min[stuck_final] *= 1e-3
        give_up = rej[(ratio[rej] > _RATIO_GIVE_UP) | (eta_min[rej] < 1e-300)]
        status[give_up] = NOT_CONVERGED
        done[give_up] = True
    status[~done] = NOT_CONVERGED
    unreached = eta > 0
    status[unreached & (status == CONVERGED)] = NOT_CONVERGED
    status[np.imag(w) > 1e-8 * (1 + np.abs(w))] = WRONG_BRANCH
    z_fin = lam + 1j * eta
    with np.errstate(all="ignore"):
        dens = np.where(eta > 0, -np.imag((1 + w) / z_fin), -np.minimum(np.imag(w), 0.0) / lam) / np.pi
    return dens.reshape(shape), w.reshape(shape), status.reshape(shape)


from .layered_moments import moments_layered  # noqa: E402 - re-exported (it uses layered_params above)
