"""Solvers of the functional equation w = m_K(u(w, z)) along z = lambda + i eta.

All of them work in t = log u, u the argument of m_K, where the equation is
G(t; z) = 0 (:meth:`Equation.log_residual`, docs/theory.md): every quantity
stays O(log) of the data at any depth and any lambda > 0, and the trivial
root w = 0 of the w-form lies at t = -infinity, out of reach.

``newton_continuation``
    Newton's method on G(t) with the analytic G', along a path from
    eta = eta_0 (where w ~ m_1/z + m_2/z^2) down to eta_min, parametrised by
    log eta (z itself is never formed, so it may lie beyond float64), with an
    Euler predictor in log z (exact for t ~ const - log z at large |z|),
    adaptive step ratios per point, damping that keeps Im u < 0, and a final
    Newton solve on the real axis (eta = 0).
The other routes, :func:`~rmtfp.spectrum.polynomial.polynomial_roots` (all roots of a
polynomial, two-point laws) and :func:`~rmtfp.spectrum.iteration.papers_iteration` (the papers' scheme), are
re-exported here.

Per-point status codes are :class:`Status` values.  A point is
``CONVERGED`` only when, at the returned root, |G| is at the rounding level
of its terms (a root of the w-form's trivial branch, or a point where Newton
stalled, fails this) and Im w <= 0 (the physical sheet).
"""

from __future__ import annotations

import enum
import math
from typing import Optional

import numpy as np

from .equation import Equation

__all__ = ["Status", "newton_continuation", "refine_on_real_axis", "polynomial_roots", "papers_iteration",
           "log_z"]


class Status(enum.IntEnum):
    """Per-point outcome of a spectral solve (each non-zero code is the reason)."""

    CONVERGED = 0
    #: Newton (or the iteration) did not reach its tolerance
    NOT_CONVERGED = 1
    #: the solution left the physical half-plane (Im w > 0)
    WRONG_BRANCH = 2
    #: the papers' iteration hit N0 at some step of the path
    MAX_ITER = 3
    #: two routes to m_K(u) disagree at the root (m_K is not accurate enough there in float64)
    INACCURATE_MGF = 4
    #: the scale of the spectrum is beyond float64 (use ``dps``)
    OUT_OF_RANGE = 5
    #: the polynomial has no root, or more than one, on the physical branch
    AMBIGUOUS_ROOT = 6
    #: proven by ball arithmetic: lower <= rho <= upper (density(..., certify=True))
    CERTIFIED = 7
    #: certify=True could not prove this point (no enclosure)
    NOT_CERTIFIED = 8

    @classmethod
    def names(cls, codes) -> list[str]:
        return [cls(int(c)).name.lower() for c in np.ravel(codes)]

    @property
    def reason(self) -> str:
        """One line saying what the code means."""
        return _REASONS[self]


_REASONS = {
    Status.CONVERGED: "converged: the residual of the log equation is at rounding level and Im w <= 0",
    Status.NOT_CONVERGED: "Newton did not bring the residual of the log equation to rounding level",
    Status.WRONG_BRANCH: "the root left the physical sheet (Im w > 0)",
    Status.MAX_ITER: "the papers' iteration stopped at N0 iterations on some step",
    Status.INACCURATE_MGF: "two routes to m_K(u) disagree at the root: float64 m_K is not accurate there (use dps)",
    Status.OUT_OF_RANGE: "the spectrum's scale is beyond float64 (use dps)",
    Status.AMBIGUOUS_ROOT: "not exactly one polynomial root lies on the physical branch",
}


def log_z(bk, log_lam, ell):
    """log(lambda + i e^ell) with arg in [0, pi], from log lambda and ell = log eta (ell = -inf: eta = 0).

    Neither lambda nor eta is exponentiated when large, so the path may start
    beyond float64's range.
    """
    if bk.name == "float64":
        log_lam = np.asarray(log_lam, dtype=float)
        ell = np.asarray(ell, dtype=float)
        out = log_lam + 0j
        big = ell >= log_lam
        small = ~big & np.isfinite(ell)
        with np.errstate(all="ignore"):
            out[big] = ell[big] + np.log(np.exp(log_lam[big] - ell[big]) + 1j)
            out[small] = log_lam[small] + np.log1p(1j * np.exp(ell[small] - log_lam[small]))
        return out
    import mpmath

    out = np.empty(len(log_lam), dtype=object)
    for i, (a, e) in enumerate(zip(log_lam, ell)):
        if e == -np.inf or e == mpmath.ninf:
            out[i] = mpmath.mpc(a)
        elif e >= a:
            out[i] = e + mpmath.log(mpmath.exp(a - e) + 1j)
        else:
            out[i] = a + mpmath.log(1 + 1j * mpmath.exp(e - a))
    return out


def _newton(eq: Equation, t, logz, maxit: int, tol, keep_lower: bool):
    """Damped Newton on G(t; z) = 0 for arrays, iterating only unconverged points.

    A point has converged when |G| <= max(tol, floor), floor the rounding
    level of G at that point (:meth:`Equation.log_residual`).  With
    ``keep_lower`` steps are halved while they would leave -pi < Im t < 0
    (Im u < 0, the physical half-plane).  Returns (t, ok, Gt) with dG/dt at
    the last evaluated point (used by the predictor).
    """
    bk = eq.backend
    n = len(t)
    t = t.copy()
    ok = np.zeros(n, dtype=bool)
    Gt_all = np.empty_like(t)
    active = np.arange(n)
    pi = float(np.pi)
    for it in range(maxit + 1):
        ta, la = t[active], logz[active]
        with np.errstate(all="ignore"):
            G, Gt, _, _, floor = eq.log_residual(ta, la)
        Gt_all[active] = Gt
        if eq.dps is None:
            aG = np.asarray(bk.abs(G), dtype=float)
            finite = np.isfinite(aG)
            conv = finite & (aG <= np.maximum(tol, np.asarray(floor, dtype=float)))
        else:  # compared as mpf: beyond ~300 digits |G| and its floor underflow a float to 0
            finite = np.asarray(bk.isfinite(G), dtype=bool)
            conv = finite & np.array([abs(g) <= max(tol, f) for g, f in zip(G, floor)], dtype=bool)
        ok[active[conv]] = True
        keep = ~conv & finite
        if it == maxit:
            break
        active, ta, G, Gt = active[keep], ta[keep], G[keep], Gt[keep]
        if active.size == 0:
            break
        with np.errstate(all="ignore"):
            step = G / Gt
        new = ta - step
        if keep_lower:
            for _h in range(40):
                im = np.asarray(bk.imag(new), dtype=float) if eq.dps is None else np.array(
                    [float(v.imag) for v in new])
                bad = ~((im < 0) & (im > -pi))
                if not bad.any():
                    break
                step = np.where(bad, step / 2, step)
                new = ta - step
        fin = np.asarray(bk.isfinite(new), dtype=bool)
        t[active[fin]] = new[fin]
        active = active[fin]
    return t, ok, Gt_all


def newton_continuation(eq: Equation, lam, eta0: Optional[float] = None, eta_min_rel: float = 1e-9,
                        tol=None, max_newton: int = 12, max_final: int = 60, max_steps: int = 1000,
                        t_start=None, log_lam=None):
    """Solve for t = log u at every z = lambda + i0 (see module doc).

    Parameters
    ----------
    eq : Equation
    lam : array of float > 0
    eta0 : float, optional
        Lower bound of the starting eta (default: 5 times a bound of the spectrum).
    eta_min_rel : float
        The path goes down to eta_min_rel * min(lambda, scale) before the last
        solve at eta = 0 (divided by 1000 and retried when that solve fails).
    tol : float, optional
        Residual tolerance of Newton on the path (the final solve always goes
        to the rounding floor).
    t_start : array, optional
        Skip the path: one Newton solve on the real axis from these t (e.g.
        a float64 root refined at ``dps``); points that fail are redone by
        continuation.
    log_lam : array of float, optional
        log lambda instead of ``lam`` (float64 only): lambda may then lie
        beyond float64 (e.g. e^{-20000}, where the mass of a deep network's
        spectrum still is); lambda rho(lambda) = -Im(1 + w)/pi stays
        representable.

    Returns
    -------
    t : array (complex128 or object)
    status : int8 array of :class:`Status`
    """
    bk = eq.backend
    if log_lam is not None:
        if eq.dps is not None:
            raise ValueError("log_lam is float64 only")
        log_lam = np.asarray(log_lam, dtype=float)
        lam = np.exp(log_lam)
    lam = bk.farray(lam)
    n = len(lam)
    if log_lam is not None:
        pass
    elif eq.dps is None:
        log_lam = np.log(lam)
    else:
        import mpmath

        log_lam = np.array([mpmath.log(x) for x in lam], dtype=object)
    log_lam_f = np.array([float(x) for x in log_lam])
    tol_path = 1e-9 if tol is None else tol
    status = np.full(n, Status.CONVERGED, dtype=np.int8)
    real_axis = log_z(bk, log_lam, np.full(n, -np.inf))
    if t_start is not None:
        t, ok, _ = _newton(eq, bk.carray(t_start), real_axis, max_final, 0.0, keep_lower=False)
        if not ok.all():
            redo = np.flatnonzero(~ok)
            t[redo], status[redo] = newton_continuation(
                eq, lam[redo], eta0, eta_min_rel, tol, max_newton, max_final, max_steps,
                log_lam=log_lam[redo] if eq.dps is None else None)
        return t, _branch_check(eq, t, real_axis, status)
    log_scale = eq.log_scale()
    ell0 = math.log(5.0) + np.maximum(log_scale, log_lam_f)
    if eta0 is not None:
        ell0 = np.maximum(ell0, math.log(eta0))
    ell_min = math.log(eta_min_rel) + np.minimum(log_lam_f, log_scale)

    def ell_arr(idx, e):
        return e if eq.dps is None else np.array([bk.number(x) for x in e], dtype=object)

    lz = log_z(bk, log_lam, ell_arr(None, ell0))
    t = eq.t_start(lz)
    t, ok, Gt = _newton(eq, t, lz, 40, tol_path, keep_lower=True)
    status[~ok] = Status.NOT_CONVERGED
    ell = ell0.copy()
    ratio = np.full(n, math.log(0.2))  # log of the eta ratio of the next step
    done = ~ok
    steps = 0
    while not done.all():
        steps += 1
        idx = np.flatnonzero(~done)
        if steps > max_steps:
            status[idx] = Status.NOT_CONVERGED
            break
        at_min = ell[idx] <= ell_min[idx] + 1e-12
        target = np.where(at_min, -np.inf, np.maximum(ell[idx] + ratio[idx], ell_min[idx]))
        lz_old = log_z(bk, log_lam[idx], ell_arr(idx, ell[idx]))
        lz_new = log_z(bk, log_lam[idx], ell_arr(idx, target))
        t_old = t[idx]
        with np.errstate(all="ignore"):
            pred = t_old - (eq.inv_depth / Gt[idx]) * (lz_new - lz_old)  # dt/dlog z = -(1/L)/G_t
        im = np.asarray(bk.imag(pred), dtype=float) if eq.dps is None else np.array([float(v.imag) for v in pred])
        bad_pred = ~np.asarray(bk.isfinite(pred), dtype=bool) | (im >= 0) | (im <= -np.pi)
        pred = np.where(bad_pred & ~at_min, t_old, pred)
        t_new = t_old.copy()
        Gt_new = np.empty_like(t_old)
        ok = np.zeros(len(idx), dtype=bool)
        for final in (False, True):
            sel = np.flatnonzero(at_min == final)
            if sel.size:
                t_new[sel], ok[sel], Gt_new[sel] = _newton(
                    eq, pred[sel], lz_new[sel], max_final if final else max_newton, 0.0 if final else tol_path,
                    keep_lower=not final)
        acc = idx[ok]
        t[acc] = t_new[ok]
        Gt[acc] = Gt_new[ok]
        ell[acc] = target[ok]
        ratio[acc] = np.maximum(ratio[acc] * 1.5, -50.0)  # at most e^50 per step (the path may span e^20000)
        done[idx[at_min & ok]] = True
        rej = idx[~ok & ~at_min]
        ratio[rej] = ratio[rej] / 2
        give_up = rej[ratio[rej] > math.log(0.999)]
        status[give_up] = Status.NOT_CONVERGED
        done[give_up] = True
        # a failed solve on the real axis: go further down the path and try again
        fail_final = idx[~ok & at_min]
        ell_min[fail_final] -= math.log(1e3)
        hopeless = fail_final[ell_min[fail_final] < log_lam_f[fail_final] - 200]
        status[hopeless] = Status.NOT_CONVERGED
        done[hopeless] = True
    return t, _branch_check(eq, t, real_axis, status)


def _branch_check(eq: Equation, t, real_axis, status):
    """Mark converged points whose w = m_K(e^t) has Im w > 0 beyond rounding as WRONG_BRANCH."""
    bk = eq.backend
    with np.errstate(all="ignore"):
        _, _, _, nn, _ = eq.log_residual(t, real_axis)
    im = np.array([float(v) for v in bk.imag(nn)])
    size = np.array([float(v) for v in bk.abs(nn)])
    wrong = (im > 64 * float(bk.eps) * size) & (status == Status.CONVERGED)
    status = status.copy()
    status[wrong] = Status.WRONG_BRANCH
    return status


def refine_on_real_axis(eq: Equation, lam, t_start, **options):
    """Newton at z = lambda (eta = 0) at ``eq``'s precision from a nearby root, e.g. float64 -> mpmath.

    Newton converges quadratically from the float64 root; points where it
    fails are recomputed by continuation.  Returns (t, status).
    """
    return newton_continuation(eq, lam, t_start=t_start, **options)


from .iteration import papers_iteration  # noqa: E402 - re-exported (they use Status and _newton above)
from .polynomial import polynomial_roots  # noqa: E402
