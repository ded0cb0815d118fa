"""The python-flint route of :func:`rmtfp.density`: ``backend="flint"`` and ``certify=True``.

``certify=True``
    Every root is followed from large Im z and proven (Krawczyk test and
    branch, :mod:`rmtfp.spectrum.certify`) at 64 bits; with ``dps`` it is
    then refined by Newton at ``dps`` digits and proven again inside the
    64-bit ball.  ``lower <= rho <= upper`` holds at every point whose status
    is ``certified``; the others are ``not_certified`` (no enclosure: NaN).
``backend="flint"`` without certify
    The float64 answer refined by Newton in Arb at ``dps`` digits (the
    mpmath route's scheme, on the scaled equation); points where float64
    failed or Newton does not settle are followed from large Im z in Arb.
    For erf-type laws, where float64 failed the start comes from the mpmath
    route at :data:`START_DPS` digits, and points whose argument of m_K lies
    beyond the fast Lerch route (:mod:`rmtfp.spectrum.lerch_arb`) are solved
    by the mpmath route (``params["mpmath_points"]``).
"""

from __future__ import annotations

import dataclasses
import math

import mpmath
import numpy as np

from ..precision import workdps
from .arb import ArbLaw, bits_for_dps, q_star_arb, require_flint, to_mpmath, workprec
from .certify import ScaledEquation, density_enclosure, refine, trace_roots
from .density import _solve, _two_point, density, resolve_parameters
from .density_result import DensityResult
from .equation import Equation
from .solvers import Status
from .support import support as _support

__all__ = ["density_by_flint", "density_flint", "TRACK_PREC", "START_DPS"]

#: bits of the path-following and of the branch proof (53-bit results plus guard bits)
TRACK_PREC = 64


def _arb_exact(x):
    """An exact arb of a float or an mpmath.mpf."""
    from flint import arb

    if isinstance(x, mpmath.mpf):
        man, exp = mpmath.mpf(x).man_exp
        return arb(int(man)) * arb(2) ** int(exp)
    return arb(float(x))


def _law(act, q, q_in, sigma_w2, sigma_b2, q_source):
    """The ArbLaw at the current precision (q* enclosed by interval Newton), or None if q* is not proven."""
    from flint import arb

    if q is None:
        return ArbLaw(act, None)
    if q_source == "q_star" and q > 0:
        qb = q_star_arb(act, _arb_exact(sigma_w2), _arb_exact(sigma_b2), float(q))
        return None if qb is None else ArbLaw(act, qb)
    return ArbLaw(act, _arb_exact(q_in) if isinstance(q_in, mpmath.mpf) else arb(float(q)))


def _bounds_float(rho):
    lo = np.nextafter(float(rho.lower()), -np.inf)
    hi = np.nextafter(float(rho.upper()), np.inf)
    return max(lo, 0.0), hi


def _bounds_mp(rho, dps):
    with mpmath.workdps(dps):
        lo, hi = +to_mpmath(rho.lower()), +to_mpmath(rho.upper())
        lo, hi = lo - abs(lo) * 2 * mpmath.eps, hi + abs(hi) * 2 * mpmath.eps  # outward after rounding
    return max(lo, mpmath.mpf(0)), hi


def density_flint(lam, act, depth, sigma_w2, sigma_b2, q, q_in, q_source, dps, certify, start=None):
    """(density, w, status, lower, upper) by the flint route (module doc).

    ``start``: (DensityResult, t = log u) of the float64 solve, refined by the uncertified dps route.
    """
    require_flint()
    n = len(lam)
    prec = TRACK_PREC if dps is None else bits_for_dps(dps)
    with workprec(prec):
        law = _law(act, q, q_in, sigma_w2, sigma_b2, q_source)
    dens = np.empty(n, dtype=object if dps else float)
    w_out = np.empty(n, dtype=object if dps else complex)
    status = np.full(n, Status.NOT_CERTIFIED if certify else Status.NOT_CONVERGED, dtype=np.int8)
    lower = np.full(n, math.nan, dtype=object if dps else float) if certify else None
    upper = lower.copy() if certify else None
    nan = mpmath.mpf("nan") if dps else math.nan
    dens[:] = nan
    w_out[:] = mpmath.mpc(nan, nan) if dps else complex(nan, nan)
    if law is None:  # q* not enclosed
        return dens, w_out, status, lower, upper
    with workprec(TRACK_PREC):
        eq0 = ScaledEquation(law, depth, _arb_exact(sigma_w2))
        ells = [None] * n
        encl = [None] * n
        todo = np.arange(n)
        if start is not None and not certify:
            from flint import acb

            res64, t64 = start
            todo = []
            for i in range(n):
                # the float64 solver works in the same variable t = log u (no cancellation in 1 + w)
                if res64.status[i] == Status.CONVERGED and t64 is not None and np.isfinite(t64[i]):
                    ells[i] = acb(complex(t64[i]))
                    continue
                todo.append(i)
            todo = np.asarray(todo, dtype=int)
        if len(todo):
            e, E, _ = trace_roots(eq0, lam[todo], certify)
            for j, i in enumerate(todo):
                ells[i], encl[i] = e[j], E[j]
    with workprec(prec):
        eq = ScaledEquation(law, depth, _arb_exact(sigma_w2)) if dps else eq0
        for i in range(n):
            ell = ells[i]
            if ell is None:
                continue
            x = float(lam[i])
            K = None
            if dps is not None:
                ell, K = refine(eq, ell, _z(x), prec, outer=encl[i], certify=certify and encl[i] is not None)
                if ell is None and start is not None and not certify:
                    # the float64 start did not refine: follow the path in Arb
                    with workprec(TRACK_PREC):
                        e, _, _ = trace_roots(eq0, np.array([x]), False)
                    if e[0] is not None:
                        ell, K = refine(eq, e[0], _z(x), prec)
                if ell is None:
                    continue
            else:
                K = encl[i]
            ball = K if K is not None else ell
            rho, B = density_enclosure(eq, ball, x)
            if not rho.is_finite():
                continue
            if dps:
                with mpmath.workdps(dps):
                    dens[i] = +to_mpmath(rho)
                    w_out[i] = +to_mpmath(B)
            else:
                dens[i] = max(float(rho.mid()), 0.0) + 0.0
                w_out[i] = complex(B.mid())
            if certify:
                if K is not None:
                    status[i] = Status.CERTIFIED
                    lower[i], upper[i] = _bounds_mp(rho, dps) if dps else _bounds_float(rho)
            else:
                status[i] = Status.CONVERGED
    return dens, w_out, status, lower, upper


def _z(x: float):
    from flint import acb
    return acb(x)


def density_by_flint(lam, activation, depth, sigma_w2, q, sigma_b2, dps, certify, options) -> DensityResult:
    """:func:`rmtfp.density` with ``backend="flint"`` or ``certify=True`` (the arguments as given to it)."""
    if options:
        raise ValueError(f"backend='flint' takes no solver options, got {sorted(options)}")
    sigma_w2_in, q_in, sigma_b2_in = sigma_w2, q, sigma_b2
    act, depth, sigma_w2, q, sigma_b2, q_source = resolve_parameters(activation, depth, sigma_w2, q, sigma_b2)
    sup = _support(act, depth, sigma_w2=sigma_w2, q=q, _resolved=True)
    params = dict(activation=act.name, depth=depth, sigma_w2=sigma_w2, sigma_b2=sigma_b2,
                  q=None if q is None else float(q), q_source=q_source, dps=dps, method="newton",
                  mgf_method="auto", backend="flint", certify=bool(certify))
    start = None
    if dps is not None and not certify:
        with np.errstate(over="ignore", invalid="ignore"):  # float64 range exceeded: judged by the status
            start = _solve(Equation(act, depth, sigma_w2, q, None, "auto"), lam, "newton",
                           {"_two_point": _two_point(act, q)}, sup, params)
        if act.d2_structure.kind == "gaussian":
            start = _mpmath_starts(start, lam, act, depth, sigma_w2, q, sup, params)
    sw2 = sigma_w2_in if isinstance(sigma_w2_in, mpmath.mpf) else sigma_w2
    sb2 = sigma_b2_in if isinstance(sigma_b2_in, mpmath.mpf) else sigma_b2
    slow = _beyond_fast_lerch(act, start)
    if not slow.any():
        dens, w, status, lower, upper = density_flint(lam, act, depth, sw2, sb2, q, q_in, q_source, dps,
                                                      bool(certify), start)
        return DensityResult(lam, dens, w, status, sup.atom, sup.lambda_max, params, lower, upper)
    # erf-type law, points where x = A u lies beyond the fast Lerch route: the mpmath route there (module doc of
    # rmtfp.spectrum.lerch_arb; acb.lerch_phi gives about 20 digits at |x| ~ 1e15, at seconds a call)
    lam_a = np.asarray(lam, dtype=float)
    fast = np.flatnonzero(~slow)
    dens = np.empty(len(lam_a), dtype=object)
    w = np.empty(len(lam_a), dtype=object)
    status = np.empty(len(lam_a), dtype=np.int8)
    if fast.size:
        res64, t64 = start
        sub = (dataclasses.replace(res64, status=res64.status[fast]), np.asarray(t64)[fast])
        dens[fast], w[fast], status[fast], _, _ = density_flint(lam_a[fast], act, depth, sw2, sb2, q, q_in, q_source,
                                                                dps, False, sub)
    idx = np.flatnonzero(slow)
    res = density(lam_a[idx], act, depth, sigma_w2=sigma_w2_in, q=q_in, sigma_b2=sigma_b2_in, dps=dps,
                  backend="mpmath")
    dens[idx], w[idx], status[idx] = res.density, res.w, res.status
    params["mpmath_points"] = idx.tolist()
    return DensityResult(lam, dens, w, status, sup.atom, sup.lambda_max, params, None, None)


def _beyond_fast_lerch(act, start) -> np.ndarray:
    """Mask of the points whose start puts x = A u beyond the fast Lerch route of the flint backend.

    Only for erf-type laws without certification (``start`` is None with certify=True): there the point is
    solved by the mpmath route instead.  The region is the stricter one of every precision (|x| <= 1/2 or
    |log x| <= RHO, :mod:`rmtfp.spectrum.lerch_arb`), with 3 % margin.
    """
    if start is None or act.d2_structure.kind != "gaussian":
        return np.zeros(0 if start is None else len(start[1]), dtype=bool)
    from .lerch_arb import DIRECT_RADIUS, RHO

    res64, t64 = start
    t = np.asarray(t64, dtype=complex)
    logx = np.log(float(act.d2_structure.amplitude)) + t
    with np.errstate(over="ignore", invalid="ignore"):
        inside = (logx.real <= np.log(DIRECT_RADIUS)) | (np.abs(logx) <= 0.97 * RHO)
    return (res64.status == Status.CONVERGED) & np.isfinite(t) & ~inside


#: digits of the mpmath solve that gives the Arb Newton its start where float64 failed (erf-type laws)
START_DPS = 30


def _mpmath_starts(start, lam, act, depth, sigma_w2, q, sup, params):
    """The float64 starts of the flint route, with roots of the mpmath route at :data:`START_DPS` digits where
    float64 did not converge (erf below lambda ~ 1e-20).

    Without a start the flint route follows the root from large Im z in Arb, where u is huge and each of the
    thousands of steps calls ``acb.lerch_phi`` (minutes a point); the mpmath route solves such a point in about
    a second.  The start only needs ~48 good bits: Newton in Arb then doubles them up to ``dps`` digits and
    the point is ``converged`` only if that Newton settles (as for the float64 starts).
    """
    res64, t64 = start
    bad = np.flatnonzero(res64.status != Status.CONVERGED)
    if not bad.size or t64 is None:
        return start
    with workdps(START_DPS):
        eq = Equation(act, depth, mpmath.mpf(sigma_w2), None if q is None else mpmath.mpf(q), START_DPS, "auto")
        try:
            res_mp, t_mp = _solve(eq, np.asarray(lam, dtype=float)[bad], "newton", {}, sup, params)
        except (ZeroDivisionError, OverflowError):  # mpmath at the edge of its range: the Arb path stays
            return start
    t = np.array(t64, dtype=complex)
    status = res64.status.copy()
    for j, i in enumerate(bad):
        if res_mp.status[j] == Status.CONVERGED and t_mp is not None:
            t[i] = complex(t_mp[j])
            status[i] = Status.CONVERGED
    return dataclasses.replace(res64, status=status), t
