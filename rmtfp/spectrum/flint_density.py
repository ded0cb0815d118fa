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
"""

from __future__ import annotations

import math

import mpmath
import numpy as np

from .arb import ArbLaw, bits_for_dps, q_star_arb, require_flint, to_mpmath, workprec
from .certify import ScaledEquation, density_enclosure, refine, trace_roots
from .solvers import Status

__all__ = ["density_flint", "TRACK_PREC"]

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
