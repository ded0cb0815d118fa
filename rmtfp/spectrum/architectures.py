"""Density, support and moments for other weight ensembles and rectangular layers.

The routes (see :mod:`rmtfp.spectrum.weights` for the equations):

- square layers, any weight law s(m): the single equation
  w = m_K(sigma_w^2 z^{-1/L} w^{1-1/L} (1+w)^{-(1-1/L)} / s(w)), solved by the
  same Newton continuation as the Gaussian case (float64, or ``dps`` digits
  by Newton from the float64 answer); moments by Lagrange inversion with the
  extra factor [(1+m) s(m)]^{-L} (exact, mpmath or float64);
- rectangular layers (Gaussian or orthogonal): the system
  m_K(u_l)/a_l = w, z prod_l u_l Q(w) = 1 of :mod:`rmtfp.spectrum.layered`
  (float64), moments from the reverted series of chi_J.

Atoms are exact: at 0 from the rank of J, and for orthogonal weights with a
law of D^2 on {0, v} at lambda_top = (sigma_w^2 v)^L n_L/n_0 (all the mass for
orthogonal linear networks, whose J J^T is sigma_w^{2L} times a projection).
"""

from __future__ import annotations

import dataclasses
import math

import mpmath
import numpy as np

from ..errors import ConvergenceError
from ..precision import round_to, workdps
from .weights import Architecture

__all__ = ["density_arch", "support_arch", "atoms", "weight_factor_series"]


def _two_point(act, q):
    from .density import _two_point as tp

    return tp(act, q)


def atoms(act, arch: Architecture, q) -> list:
    """[(location, mass), ...] of the atoms of the law of J J^T, the one at 0 first (mass may be 0)."""
    p0 = act.zero_probability(q) if act.depends_on_q else act.zero_probability()
    out = [(0.0, arch.zero_atom(1 - p0))]
    tp = _two_point(act, q)
    if tp is not None:
        top = arch.top_atom(*tp)
        if top is not None:
            out.append((float(top[0]), top[1]))
    return out


@dataclasses.dataclass(frozen=True)
class _ArchSupport:
    lambda_max: object  # top of the support, atoms included
    atom: float
    w_edge: object
    atoms: list
    lambda_max_continuous: object  # upper edge of the continuous part


def _square_two_point_edge(L, s, c, p0, dps=None):
    """Orthogonal square layers, m_K = c v u/(1 - v u): lambda(w) = s (c+w)^L / (w (1+w)^{L-1}).

    d log lambda/dw = 0 gives the branch point w = c/d, d = L - 1 - L c, and with c + w = c L (1-c)/d,
    1 + w = (L-1)(1-c)/d the upper edge of the continuous part is

        lambda_c = s c^{L-1} (1 - c) L^L / (L-1)^{L-1}

    (no cancellation: 1 - c = p0 = P(phi' = 0) is passed separately; L = 1 gives s (1 - c), L = 2 the
    free-projection edge 4 c (1-c) s).  For c > (L-1)/L (d < 0) the continuous part ends below s, which
    carries an atom of mass 1 - L(1 - c).  c = 1: no continuous part, the edge is s.
    """
    num = mpmath.mpf if dps else float
    L_, c, p0 = num(L), num(c), num(p0)
    if p0 <= 0:
        return num(s), num(math.inf)
    d = L_ - 1 - L_ * c
    w = c / d if d != 0 else num(math.inf)
    ratio = L_ * (L_ / (L_ - 1)) ** (L - 1) if L > 1 else num(1)  # L^L/(L-1)^{L-1} without overflow
    return s * c ** (L - 1) * p0 * ratio, w


def _two_point_gap_edge(arch: Architecture, c: float, v: float, top: float) -> float:
    """Upper edge of the continuous part below an atom at ``top`` (rectangular orthogonal layers, D^2 on {0, v}).

    lambda(w) = 1/(Q(w) prod_l chi_K(a_l w)), chi_K(x) = x/(v (c + x)), is real on w < 0; from w = -inf
    (lambda -> top-) it decreases to its first local minimum, the edge.
    """
    from scipy import optimize

    def lam_of(w):
        w = np.asarray(w, dtype=float)
        prod = np.ones_like(w)
        with np.errstate(all="ignore"):
            for l in range(1, arch.depth + 1):
                x = arch.a(l) * w
                prod = prod * x / (v * (c + x))
            return 1 / (np.real(arch.q_factor(w)[0]) * prod)

    w = -np.geomspace(1e8, 1e-8, 4001)
    lam = lam_of(w)
    ok = np.isfinite(lam) & (lam > 0) & (lam < top)
    i = 0
    while i + 1 < w.size and not (ok[i] and ok[i + 1] and lam[i + 1] > lam[i]):
        i += 1
    if i + 1 >= w.size:
        return top
    a, b = w[max(i - 1, 0)], w[i + 1]
    r = optimize.minimize_scalar(lambda x: float(lam_of(np.array([x]))[0]), bounds=(a, b), method="bounded",
                                 options={"xatol": 1e-13 * abs(a)})
    return float(min(r.fun, lam[i]))


def support_arch(act, arch: Architecture, q, dps=None) -> _ArchSupport:
    """Upper edge and atoms of the law of J J^T for ``arch``."""
    from .layered import support_layered

    L = arch.depth
    ats = atoms(act, arch, q)
    tp = _two_point(act, q)
    top = ats[1][0] if len(ats) > 1 else None
    if arch.square and arch.law.name == "orthogonal" and tp is not None:
        c, v = tp
        p0 = ats[0][1]  # 1 - c, accurate (P(phi' = 0) directly)
        if dps is None:
            lc, w = _square_two_point_edge(L, (arch.sigma_w2 * v) ** L, c, p0)
            return _ArchSupport(top if top is not None else lc, ats[0][1], w, ats, lc)
        from .support import _exact_two_point

        with workdps(dps):
            vm, cm = _exact_two_point(act, q)
            s = (mpmath.mpf(arch.sigma_w2) * vm) ** L
            lc, w = _square_two_point_edge(L, s, cm, 1 - cm, dps)
            lc, w, s = round_to(lc, dps), round_to(w, dps), round_to(s, dps)
        return _ArchSupport(s if top is not None else lc, ats[0][1], w, ats, lc)
    if top is not None:
        lc = _two_point_gap_edge(arch, *tp, top)
        if dps is not None:
            raise ValueError("dps: rectangular layers (widths) are solved in float64 only; use dps=None")
        return _ArchSupport(top, ats[0][1], float("nan"), ats, lc)
    qq = q if q is not None else 1.0
    if arch.square:  # log lambda(u): no under/overflow of u^L at large depth
        lmax = _square_edge(act, arch, qq)
    else:
        lmax, _ = support_layered(act, [qq] * L, arch.sigma_w2, arch)
    if dps is None:
        return _ArchSupport(float(lmax), ats[0][1], float("nan"), ats, float(lmax))
    if not arch.square:
        raise ValueError("dps: rectangular layers (widths) are solved in float64 only; use dps=None")
    lmax = _refine_edge(act, arch, q, float(lmax), dps)
    return _ArchSupport(lmax, ats[0][1], float("nan"), ats, lmax)


def _square_edge(act, arch: Architecture, q: float) -> float:
    """lambda_max of square layers: the first minimum over u in (0, 1/sup D^2) of

        log lambda(u) = L log sigma_w^2 + (L-1) log(w/(1+w)) - L log s(w) - L log u,   w = m_K(u),

    located on a logistic grid in u and refined by bounded minimisation (float64)."""
    from scipy import optimize

    L, law = arch.depth, arch.law
    ucut = 1.0 / act.d2_max

    def log_lam(x):
        u = ucut * np.asarray(x, dtype=float)
        with np.errstate(all="ignore"):
            w = np.real(act.mgf_d2(u.astype(complex), q))
            sv = np.real(law.log_derivative(w.astype(complex))[0])
            return (L * math.log(arch.sigma_w2) + (L - 1) * (np.log(w) - np.log1p(w)) - L * np.log(sv)
                    - L * np.log(u))

    t = np.linspace(-20.0, 30.0, 600)
    x = 1.0 / (1.0 + np.exp(-t))
    keep = x < 1 - 1e-13
    t, x = t[keep], x[keep]
    ll = log_lam(x)
    ok = np.isfinite(ll)
    if not ok.any():
        raise ConvergenceError(f"could not locate the spectral edge for {act.name!r} with weights={law.name!r}")
    idx = np.flatnonzero(ok)
    vals = ll[idx]
    rise = np.flatnonzero(np.diff(vals) > 0)
    i = int(rise[0]) if rise.size else len(vals) - 1
    lo, hi = t[idx[max(i - 1, 0)]], t[idx[min(i + 1, len(idx) - 1)]]
    r = optimize.minimize_scalar(lambda tt: float(log_lam(np.array([1 / (1 + math.exp(-tt))]))[0]),
                                 bounds=(lo, hi), method="bounded", options={"xatol": 1e-12})
    return float(math.exp(min(r.fun, vals[i])))


def _refine_edge(act, arch: Architecture, q, lmax: float, dps: int):
    """lambda_max at ``dps`` digits: the minimum over real u of lambda(u) = 1/(Q(w) u^L), w = m_K(u)."""
    L = arch.depth
    law = arch.law
    # float64 start: u at the edge from the real inverse of m_K
    from .layered import _real_inverse

    w_grid = np.geomspace(1e-8, 1e4, 400)
    u_grid = _real_inverse(act, q if q is not None else 1.0, w_grid)
    with np.errstate(all="ignore"):
        Q = np.real(arch.q_factor(w_grid)[0])
        lam = 1 / (Q * u_grid**L)
    i = int(np.nanargmin(np.where(np.isfinite(lam), np.abs(lam - lmax), np.inf)))
    u0 = float(u_grid[i])
    with workdps(dps):
        qm = mpmath.mpf(q) if q is not None else mpmath.mpf(1)
        s2 = mpmath.mpf(arch.sigma_w2)

        def log_lam(uu):
            w = act._mgf_mp(mpmath.mpc(uu), qm, "auto")[0].real
            s, _ = law.log_derivative(w, mp=True)
            return (L * mpmath.log(s2) + (L - 1) * mpmath.log(w) - (L - 1) * mpmath.log(1 + w)
                    - L * mpmath.log(s) - L * mpmath.log(uu))

        def dlog_lam(uu):  # analytic: w' = m_K'(u)
            w, dw = act._mgf_mp(mpmath.mpc(uu), qm, "auto")
            w, dw = w.real, dw.real
            _, dls = law.log_derivative(w, mp=True)
            return dw * ((L - 1) / w - (L - 1) / (1 + w) - L * dls) - L / uu

        try:
            um = mpmath.findroot(dlog_lam, mpmath.mpf(u0))
        except (ValueError, ZeroDivisionError) as exc:  # pragma: no cover
            raise ConvergenceError(f"edge refinement failed: {exc}", last=u0) from exc
        return round_to(mpmath.exp(log_lam(um)), dps)


def density_arch(lam, act, arch: Architecture, q, dps, method, mgf_method, options, params):
    """DensityResult for ``arch`` (see the module documentation)."""
    from .density import DensityResult, _solve
    from .equation import Equation
    from .layered import density_layered
    from .solvers import Status

    sup = support_arch(act, arch, None if q is None else float(q))  # a dps q* is an mpf: the support is float64
    params = dict(params, weights=arch.law.name, widths=list(arch.widths) if not arch.square else None,
                  atoms=[[float(a), float(m)] for a, m in sup.atoms],
                  lambda_max_continuous=float(sup.lambda_max_continuous))
    if method == "auto":
        method = params["method"] = "newton"
    if sum(m for _, m in sup.atoms) >= 1 - 1e-15:  # all the mass in atoms (orthogonal linear): no density
        n = len(lam)
        zero = np.zeros(n) if dps is None else np.array([mpmath.mpf(0)] * n, dtype=object)
        return DensityResult(lam, zero, zero.astype(complex) if dps is None else zero,
                             np.full(n, Status.CONVERGED, dtype=np.int8), sup.atom, sup.lambda_max, params)
    if method == "polynomial":
        raise ValueError("method='polynomial' is for Gaussian square layers; use method='newton'")
    if not arch.square:
        if dps is not None or method != "newton" or mgf_method != "auto":
            raise ValueError("widths: rectangular layers are solved by method='newton' in float64 (dps=None) with "
                             "the default m_K routes only")
        qq = q if q is not None else 1.0
        dens, w, status = density_layered(lam, act, [qq] * arch.depth, arch.sigma_w2, arch=arch, **options)
        return DensityResult(lam, np.asarray(dens) + 0.0, np.asarray(w), np.asarray(status, dtype=np.int8),
                             sup.atom, sup.lambda_max, params)
    eq = Equation(act, arch.depth, float(arch.sigma_w2), None if q is None else float(q), None, mgf_method,
                  weights=arch.law)
    cont = dataclasses.replace(sup, lambda_max=sup.lambda_max_continuous)  # the solver sees the continuous part
    raw = _solve(eq, lam, method, options, cont, params)  # (DensityResult, t = log u)
    res = _gap(raw[0], sup, method)
    if dps is None:
        return _second_route(res, act, arch, q) if method == "newton" else res
    sw2 = arch.sigma_w2 if isinstance(arch.sigma_w2, mpmath.mpf) else mpmath.mpf(arch.sigma_w2)
    q_mp = None if q is None else (q if isinstance(q, mpmath.mpf) else mpmath.mpf(q))
    with workdps(dps):
        eq = Equation(act, arch.depth, sw2, q_mp, dps, mgf_method, weights=arch.law)
        out = _gap(_solve(eq, lam, method, options, cont, params, raw if method == "newton" else None)[0], sup,
                   method)
    return dataclasses.replace(out, density=round_to(out.density, dps), w=round_to(out.w, dps))


def _second_route(res, act, arch: Architecture, q):
    """Points the single equation did not solve (status != 0), solved again by the layer system.

    The system (:mod:`rmtfp.spectrum.layered`, with Q(w) of the weight law) is an independent route;
    a point keeps the status of the second route, and ``params["second_route"]`` counts the points it
    solved.
    """
    from .layered import density_layered

    bad = np.flatnonzero(res.status != 0)
    if bad.size == 0:
        return res
    dens, w, status = density_layered(res.lam[bad], act, [q if q is not None else 1.0] * arch.depth,
                                      arch.sigma_w2, arch=arch)
    rho, st, ww = res.density.copy(), res.status.copy(), res.w.copy()
    good = np.asarray(status) == 0
    rho[bad[good]] = np.asarray(dens)[good]
    ww[bad[good]] = np.asarray(w)[good]
    st[bad[good]] = 0
    return dataclasses.replace(res, density=rho, w=ww, status=st,
                               params=dict(res.params, second_route=int(good.sum())))


def _gap(res, sup, method):
    """Above the continuous part (the gap below an atom at the top) w is real: rho = 0 exactly there."""
    from .solvers import Status

    lc = float(sup.lambda_max_continuous)
    above = np.asarray([float(x) > lc for x in res.lam])
    if method != "newton" or not above.any():
        return dataclasses.replace(res, lambda_max=sup.lambda_max)
    zero = 0.0 if res.density.dtype != object else mpmath.mpf(0)
    dens = res.density.copy()
    dens[above] = zero
    status = res.status.copy()
    status[above] = Status.CONVERGED
    return dataclasses.replace(res, density=dens, status=status, lambda_max=sup.lambda_max)


def weight_factor_series(arch: Architecture, n: int, exact: bool = False, dps=None) -> list:
    """Coefficients of [(1+m) s(m)]^{-1} (the weight factor of phi in the Lagrange inversion)."""
    from .moments import _mul

    if exact:
        s = arch.law.series(n, exact=True)
    elif dps is not None:
        s = arch.law.series_mp(n)
    else:
        s = arch.law.series(n)
    a = _mul([1, 1], s, n)
    return _series_reciprocal(a, n)


def _series_reciprocal(a, n):
    """1/a as a power series (a[0] != 0), n terms, in whatever arithmetic a holds."""
    out = [1 / a[0]] + [0] * (n - 1)
    for i in range(1, n):
        out[i] = -sum(a[j] * out[i - j] for j in range(1, i + 1)) / a[0]
    return out
