"""Solvers of the functional equation w = m_K(u(w, z)) along z = lambda + i eta.

``newton_continuation``
    Newton's method on F(w) = w - T(w) with the analytic F', along a path
    from eta = eta_0 (where w ~ m_1/z + m_2/z^2) down to eta_min, with an
    Euler predictor, adaptive step ratios per point, damping that keeps
    Im w < 0, and a final Newton solve on the real axis (eta = 0).
``polynomial_roots``
    For m_K(u) = c v u/(1 - v u) (linear, ReLU, hard-tanh) the equation is
    the polynomial z w = s (1 + w)(c + w)^L, s = (sigma_w^2 v)^L.  All roots
    are computed (batched companion matrices) along the same kind of path and
    the physical one is tracked by continuity from large Im z.
``papers_iteration``
    The papers' scheme: z_k = lambda + i b^{N-k}, k = 0..2N, fixed-point
    iteration w <- T(w) with the Cauchy criterion |w_n - w_{n-1}| < eps and at
    most N0 iterations, warm-started from the previous k.  Kept to reproduce
    the papers and their failure modes; every step that hits N0 is reported.

Per-point status codes are :class:`Status` values.
"""

from __future__ import annotations

import enum
import math
from typing import Optional

import numpy as np

from .equation import Equation

__all__ = ["Status", "newton_continuation", "refine_on_real_axis", "polynomial_roots", "papers_iteration"]


class Status(enum.IntEnum):
    """Per-point outcome of a spectral solve."""

    CONVERGED = 0
    #: Newton (or the iteration) did not reach its tolerance
    NOT_CONVERGED = 1
    #: the solution left the physical half-plane (Im w > 0)
    WRONG_BRANCH = 2
    #: the papers' iteration hit N0 at some step of the path
    MAX_ITER = 3
    #: proven by ball arithmetic: lower <= rho <= upper (density(..., certify=True))
    CERTIFIED = 4
    #: certify=True could not prove this point (no enclosure)
    NOT_CERTIFIED = 5

    @classmethod
    def names(cls, codes) -> list[str]:
        return [cls(int(c)).name.lower() for c in np.ravel(codes)]


def _newton(eq: Equation, w, z, maxit: int, tol, keep_lower: bool):
    """Damped Newton on F(w; z) = 0 for arrays w, z, iterating only unconverged points.

    A point has converged when its last Newton step was below tol (1 + |w|),
    or when |F| <= 1000 eps (1 + |w|) -- above the rounding level of m_K
    (the float64 Lerch and quadrature routes are accurate to ~1e-13) -- after
    which one more Newton step polishes it.  Returns (w, ok, Fw, Fz) with the
    derivatives at the last evaluated point (used by the predictor).
    """
    ftol = 1000 * eq.backend.eps
    bk = eq.backend
    n = len(w)
    w = w.copy()
    ok = np.zeros(n, dtype=bool)
    Fw_all = np.empty_like(w)
    Fz_all = np.empty_like(w)
    active = np.arange(n)
    small_prev = np.zeros(n, dtype=bool)
    for it in range(maxit + 1):
        wa, za = w[active], z[active]
        F, Fw, Fz = eq.residual(wa, za)
        Fw_all[active] = Fw
        Fz_all[active] = Fz
        scale = 1 + bk.abs(wa)
        finite_F = np.asarray(bk.isfinite(F), dtype=bool)
        res_small = np.asarray(bk.abs(F) <= ftol * scale, dtype=bool) & finite_F
        conv = (small_prev[active] & finite_F) | res_small
        polish = res_small & ~small_prev[active]
        if polish.any():  # one last Newton step for points accepted on the residual
            pi = active[polish]
            pw = wa[polish] - F[polish] / Fw[polish]
            keep = np.asarray(bk.isfinite(pw), dtype=bool)
            if keep_lower:
                keep &= np.asarray(bk.imag(pw) < 0, dtype=bool)
            w[pi[keep]] = pw[keep]
        ok[active[conv]] = True
        active = active[~conv]
        if active.size == 0 or it == maxit:
            break
        F, Fw, wa, za, scale = F[~conv], Fw[~conv], wa[~conv], za[~conv], scale[~conv]
        step = F / Fw
        new = wa - step
        if keep_lower:
            # halve the step while it would cross into Im w >= 0
            for _h in range(30):
                bad = np.asarray(bk.imag(new) >= 0, dtype=bool)
                if not bad.any():
                    break
                step = np.where(bad, step / 2, step)
                new = wa - step
        finite = np.asarray(bk.isfinite(new), dtype=bool)
        small_prev[active] = np.asarray(bk.abs(step) <= tol * scale, dtype=bool) & finite
        w[active] = np.where(finite, new, wa)
    return w, ok, Fw_all, Fz_all


def newton_continuation(eq: Equation, lam, eta0: Optional[float] = None, eta_min_rel: float = 1e-9,
                        tol=None, max_newton: int = 12, max_final: int = 60, max_steps: int = 400):
    """Solve for w(lambda + i0) at every lambda (see module doc).

    Returns
    -------
    w : array (complex128 or object)
    status : int8 array of :class:`Status`
    """
    bk = eq.backend
    lam = bk.farray(lam)
    n = len(lam)
    scale = eq.scale()
    if tol is None:
        tol = 8 * bk.eps
    lam_f = np.asarray([float(x) for x in lam]) if eq.dps is not None else lam
    eta0_arr = 4.0 * np.maximum(scale, lam_f) + 1.0 * scale
    if eta0 is not None:
        eta0_arr = np.maximum(eta0_arr, eta0)
    eta_min = eta_min_rel * np.maximum(np.minimum(lam_f, scale), 1e-300)
    status = np.full(n, Status.CONVERGED, dtype=np.int8)

    def zof(idx, eta):
        if eq.dps is None:
            return lam[idx] + 1j * eta
        return bk.carray(lam[idx]) + bk.carray(1j * bk.farray(eta))

    # start: asymptotic series refined by Newton at eta0
    idx_all = np.arange(n)
    z0 = zof(idx_all, eta0_arr)
    w = eq.asymptotic(z0)
    w, ok, Fw_cur, Fz_cur = _newton(eq, w, z0, 40, tol, keep_lower=True)
    status[~ok] = Status.NOT_CONVERGED
    eta = eta0_arr.copy()
    ratio = np.full(n, 0.2)
    done = ~ok
    final = np.zeros(n, dtype=bool)
    steps = 0
    while not done.all():
        steps += 1
        idx = np.flatnonzero(~done)
        if steps > max_steps:
            status[idx] = Status.NOT_CONVERGED
            break
        at_min = eta[idx] <= eta_min[idx] * (1 + 1e-12)
        target = np.where(at_min, 0.0, np.maximum(eta[idx] * ratio[idx], eta_min[idx]))
        z_old = zof(idx, eta[idx])
        z_new = zof(idx, target)
        w_old = w[idx]
        # Euler predictor: dw/dz = -F_z / F_w
        pred = w_old - (Fz_cur[idx] / Fw_cur[idx]) * (z_new - z_old)
        bad_pred = ~np.asarray(bk.isfinite(pred), dtype=bool) | np.asarray(bk.imag(pred) >= 0, dtype=bool)
        pred = np.where(bad_pred & ~at_min, w_old, pred)
        is_final = at_min
        ni = np.flatnonzero(~is_final)
        w_new = w_old.copy()
        Fw_new = np.empty_like(w_old)
        Fz_new = np.empty_like(w_old)
        ok = np.zeros(len(idx), dtype=bool)
        if ni.size:
            w_new[ni], ok[ni], Fw_new[ni], Fz_new[ni] = _newton(eq, pred[ni], z_new[ni], max_newton, tol,
                                                                keep_lower=True)
        if is_final.any():
            # the real axis: plain Newton, more iterations (slow near edges)
            fi = np.flatnonzero(is_final)
            w_new[fi], ok[fi], Fw_new[fi], Fz_new[fi] = _newton(eq, w_old[fi], z_new[fi], max_final, tol,
                                                                keep_lower=False)
        im_new = np.asarray(bk.imag(w_new), dtype=float) if eq.dps is None else np.array(
            [float(v) for v in bk.imag(w_new)])
        ok &= (im_new < 0) | is_final
        # accept
        acc = idx[ok]
        w[acc] = w_new[ok]
        Fw_cur[acc] = Fw_new[ok]
        Fz_cur[acc] = Fz_new[ok]
        eta[acc] = target[ok]
        ratio[acc] = np.maximum(ratio[acc] ** 1.5, 1e-3)
        final_ok = is_final & ok
        done[idx[final_ok]] = True
        final[idx[final_ok]] = True
        # reject: smaller step (final step failures are final)
        rej = idx[~ok & ~is_final]
        ratio[rej] = np.sqrt(ratio[rej])
        give_up = rej[ratio[rej] > 0.999]
        status[give_up] = Status.NOT_CONVERGED
        done[give_up] = True
        fail_final = idx[~ok & is_final]
        status[fail_final] = Status.NOT_CONVERGED
        done[fail_final] = True
    im = bk.imag(w)
    wrong = np.asarray(im > 64 * bk.eps * (1 + bk.abs(w)), dtype=bool) & (status == Status.CONVERGED)
    status[wrong] = Status.WRONG_BRANCH
    return w, status


def refine_on_real_axis(eq: Equation, lam, w_start, tol=None, maxit: int = 12):
    """Newton at z = lambda (eta = 0) from a nearby solution, e.g. float64 -> mpmath.

    Newton converges quadratically from the float64 solution, so a few
    iterations at ``eq``'s precision give the high-precision w.  Returns
    (w, ok); points that are not ok should be recomputed by continuation.
    """
    bk = eq.backend
    if tol is None:
        tol = 8 * bk.eps
    z = bk.carray(lam)
    w, ok, _, _ = _newton(eq, bk.carray(w_start), z, maxit, tol, keep_lower=False)
    im = bk.imag(w)
    ok &= ~np.asarray(im > 64 * bk.eps * (1 + bk.abs(w)), dtype=bool)
    return w, ok


def papers_iteration(eq: Equation, lam, b: float = 2.0, N: int = 20, eps: float = 1e-5, N0: int = 50,
                     w0: str = "asymptotic"):
    """The papers' continuation scheme (see module doc).

    Parameters
    ----------
    b, N : path z_k = lambda + i b^{N-k}, k = 0..2N (final eta = b^{-N}).
    eps, N0 : Cauchy tolerance and maximum number of iterations per step.
    w0 : {"asymptotic", "zero"}
        ``"zero"`` is the papers' start: w = 0 is an exact fixed point of T
        for L >= 2, so the scheme then returns zero density.  ``"asymptotic"``
        starts from m_1/z_0.

    Returns
    -------
    w, z_final, status, n_hit
        ``n_hit`` counts, per point, the steps that stopped at N0.
    """
    bk = eq.backend
    lam = bk.farray(lam)
    n = len(lam)
    if eq.dps is None:
        z = lam + 1j * b**N
    else:
        z = bk.carray(lam) + bk.carray(1j * bk.number(b) ** N)
    if w0 == "zero":
        w = bk.carray(np.zeros(n))
    elif w0 == "asymptotic":
        w = eq.m1 / z
    else:
        raise ValueError(f"w0 must be 'asymptotic' or 'zero', got {w0!r}")
    n_hit = np.zeros(n, dtype=int)
    for k in range(2 * N + 1):
        eta = (b ** (N - k)) if eq.dps is None else bk.number(b) ** (N - k)
        z = (lam + 1j * eta) if eq.dps is None else bk.carray(lam) + bk.carray(1j * eta)
        active = np.ones(n, dtype=bool)
        for _ in range(N0):
            idx = np.flatnonzero(active)
            if idx.size == 0:
                break
            with np.errstate(all="ignore"):
                new = eq.T(w[idx], z[idx])
            conv = np.asarray(bk.abs(new - w[idx]) < eps, dtype=bool)
            w[idx] = new
            active[idx[conv]] = False
        n_hit += active
    status = np.where(n_hit > 0, Status.MAX_ITER, Status.CONVERGED).astype(np.int8)
    finite = np.asarray(bk.isfinite(w), dtype=bool)
    status[~finite] = Status.NOT_CONVERGED
    return w, z, status, n_hit


def polynomial_roots(lam, depth: int, s: float, c: float, n_path: int = 60, eta_min_rel: float = 1e-10):
    """Physical root of z w = s (1 + w)(c + w)^L at z = lambda + i0 (float64).

    Roots of the degree-(L+1) polynomial are computed as eigenvalues of
    batched companion matrices at each eta of a geometric path and the
    physical root is tracked by nearest-neighbour continuation from
    w ~ s c^L / z at large eta.
    """
    lam = np.asarray(lam, dtype=float)
    L = depth
    # coefficients of s (1 + w)(c + w)^L in increasing powers of w
    binom = np.array([math.comb(L, j) * c ** (L - j) for j in range(L + 1)])
    p = s * (np.concatenate([binom, [0.0]]) + np.concatenate([[0.0], binom]))  # degree L+1
    m1 = s * c**L
    lam_max_est = s * (L + 1) ** (L + 1) / L**L  # the edge at c = 1, an upper bound for c <= 1
    eta0 = 4 * np.maximum(lam, lam_max_est) + lam_max_est
    eta_min = eta_min_rel * np.maximum(np.minimum(lam, lam_max_est), 1e-300)
    t = np.linspace(0.0, 1.0, n_path)
    etas = np.exp(np.log(eta0)[:, None] * (1 - t) + np.log(eta_min)[:, None] * t)  # (n, n_path)
    etas = np.concatenate([etas, np.zeros((len(lam), 1))], axis=1)
    n = len(lam)
    deg = L + 1
    w = None
    status = np.full(n, Status.CONVERGED, dtype=np.int8)
    for j in range(etas.shape[1]):
        z = lam + 1j * etas[:, j]
        coeffs = np.tile(p.astype(complex), (n, 1))
        coeffs[:, 1] -= z  # - z w
        lead = coeffs[:, -1]
        comp = np.zeros((n, deg, deg), dtype=complex)
        comp[:, 1:, :-1] = np.eye(deg - 1)
        comp[:, :, -1] = -coeffs[:, :-1] / lead[:, None]
        roots = np.linalg.eigvals(comp)
        if w is None:
            w = m1 / z
        pick = np.argmin(np.abs(roots - w[:, None]), axis=1)
        w = roots[np.arange(n), pick]
    # polish the root with Newton on the polynomial at the real axis
    z = lam.astype(complex)
    for _ in range(3):
        P = s * (1 + w) * (c + w) ** L - z * w
        dP = s * ((c + w) ** L + L * (1 + w) * (c + w) ** (L - 1)) - z
        w = w - P / dP
    wrong = w.imag > 1e-10 * (1 + np.abs(w))
    status[wrong] = Status.WRONG_BRANCH
    return w, status
