"""Proven tails of the Gaussian expectations of the Arb route (generic phi): see :mod:`rmtfp.spectrum.arb`, "Tails"."""

from __future__ import annotations

import functools
import math

import mpmath
import sympy as sp

from ..activations.core import X
from .arb_common import workprec

# ----------------------------------------------------------- proven tails
# Gaussian expectations E[F(sqrt(q) g) g^j] are integrated by acb.integral on |g| <= R; the tails |g| > R are
# bounded by a proven envelope of F on |x| >= X0 = R sqrt(q_lo) (module doc, "Tails").  The envelope is proven by
# outward-rounded interval arithmetic (mpmath.iv, and Arb at the end points of monotone functions) on the half-line
# [X0, +inf] itself, after a symbolic rewriting of F that keeps the interval evaluation bounded.

_Y = sp.Symbol("y", positive=True)  # |x| on one tail
_W = sp.Symbol("w_exp", positive=True)  # exp(-y), in (0, exp(-X0)] on the tail
_MAX_DEGREE = 12  # polynomial envelopes y^N, N <= _MAX_DEGREE


def _cutoff(prec: int) -> int:
    """R: the N(0, 1) mass of |g| > R is below 2^-(prec+30)."""
    return math.ceil(math.sqrt(2 * ((prec + 30) * math.log(2) + 5)))


def _mpf_to_arb(x):
    """An mpf (or int) as an exact arb (+-inf kept)."""
    from flint import arb

    x = x if isinstance(x, mpmath.mpf) else mpmath.mpf(x)
    if mpmath.isnan(x):
        return arb.nan()
    if mpmath.isinf(x):
        return arb.pos_inf() if x > 0 else arb.neg_inf()
    sign, man, exp, _ = x._mpf_  # (mpf.man_exp drops the sign)
    return arb(-int(man) if sign else int(man)) * arb(2) ** int(exp)


def _arb_to_mpf(x):
    """The midpoint of an arb as an exact mpf (to_mpmath rounds to mpmath's precision); exact +-inf kept, NaN
    for any other non-finite ball."""
    if not x.is_finite():
        if x.is_exact() and not x.is_nan():
            return mpmath.inf if x > 0 else mpmath.ninf
        return mpmath.nan
    man, exp = x.mid().man_exp()
    return mpmath.mp.make_mpf(mpmath.libmp.from_man_exp(int(man), int(exp)))


def _iv_ends(v):
    """(lo, hi) of an mpmath.iv interval as mpf."""
    a, b = v._mpi_
    return mpmath.mp.make_mpf(a), mpmath.mp.make_mpf(b)


# monotone functions: values at +-inf (None: unbounded there) and whether increasing
_MONOTONE = {sp.tanh: ("tanh", -1, 1, True), sp.atan: ("atan", "-pi/2", "pi/2", True),
             sp.erf: ("erf", -1, 1, True), sp.erfc: ("erfc", 2, 0, False), sp.sinh: ("sinh", None, None, True),
             sp.asin: ("asin", None, None, True)}


def _monotone_iv(func, v):
    """f(v) for a monotone f on an interval v, end points by Arb (rounded outwards); None if not defined there."""
    from flint import arb

    name, at_minf, at_pinf, increasing = _MONOTONE[func]
    lo, hi = _iv_ends(v)
    if func is sp.asin and (lo < -1 or hi > 1):
        return None

    def end(x, lower):
        if mpmath.isinf(x):
            lim = at_pinf if x > 0 else at_minf
            if lim is None:
                return x if func is not sp.erfc else None
            b = arb.pi() * (1 if lim == "pi/2" else -1) / 2 if isinstance(lim, str) else arb(lim)
        else:
            b = getattr(_mpf_to_arb(x), name)()
        return _arb_to_mpf(b.lower() if lower else b.upper())

    with workprec(80):
        if increasing:
            a, b = end(lo, True), end(hi, False)
        else:
            a, b = end(hi, True), end(lo, False)
    if a is None or b is None or mpmath.isnan(a) or mpmath.isnan(b):
        return None
    return mpmath.iv.mpf([a, b])


def _iv_eval(e, env):
    """An mpmath.iv interval containing e on the box env (symbol -> interval); None where unsupported."""
    iv = mpmath.iv

    if e in env:
        return env[e]
    if e.is_Rational:
        return iv.mpf(int(e.p)) / int(e.q)
    if e is sp.pi:
        return iv.pi
    if e is sp.E:
        return iv.e
    if e.is_Float:
        return iv.mpf(str(e))
    if e.is_Mul and _Y in env:
        hit = _decreasing_product(e, env)
        if hit is not None:
            return hit
    if e.is_Add or e.is_Mul:
        parts = [_iv_eval(a, env) for a in e.args]
        if any(p is None for p in parts):
            return None
        return functools.reduce(lambda x, y: x + y if e.is_Add else x * y, parts)
    if e.is_Pow:
        b = _iv_eval(e.base, env)
        if b is None:
            return None
        ex = e.exp
        if ex.is_Integer:
            n = int(ex)
            return b ** n if n >= 0 else 1 / b ** (-n)
        lo, hi = _iv_ends(b)
        if not (ex.is_Rational and lo >= 0):
            return None
        r = _iv_eval(ex, env)
        if lo > 0:
            return iv.exp(iv.log(b) * r)
        if ex > 0:  # x^r increasing on [0, hi]
            top = iv.exp(iv.log(iv.mpf(hi)) * r) if hi > 0 else iv.mpf(0)
            return iv.mpf([0, _iv_ends(top)[1]])
        return None
    if len(e.args) == 1:
        a = _iv_eval(e.args[0], env)
        if a is None:
            return None
        if e.func in _MONOTONE:
            return _monotone_iv(e.func, a)
        if e.func is sp.exp:
            return _iv_exp(a)
        if e.func is sp.log:
            return iv.log(a) if _iv_ends(a)[0] > 0 else None
        if e.func in (sp.sin, sp.cos):
            return getattr(iv, e.func.__name__)(a)
        if e.func is sp.cosh:
            return (_iv_exp(a) + _iv_exp(-a)) / 2
    return None


_EXP_CAP = 2**20


def _iv_exp(a):
    """exp on an interval, with the argument capped at +-2^20 (exp(exp(exp(16))) would take forever): beyond the
    cap the bound is +inf above (0 below), still an enclosure."""
    iv = mpmath.iv
    lo, hi = _iv_ends(a)
    if mpmath.isnan(lo) or mpmath.isnan(hi):
        return iv.mpf([mpmath.ninf, mpmath.inf])
    clamp = lambda x: min(max(x, -_EXP_CAP), _EXP_CAP)  # noqa: E731
    v = iv.exp(iv.mpf([clamp(lo), clamp(hi)]))
    vlo, vhi = _iv_ends(v)
    return iv.mpf([0 if lo < -_EXP_CAP else vlo, mpmath.inf if hi > _EXP_CAP else vhi])


def _decreasing_product(e, env):
    """y^k exp(P(y)) w^m (w = exp(-y)) inside a product, as one factor: where k/y + P'(y) - m < 0 on the interval
    of y = [y0, +inf] (checked by interval evaluation) it decreases from its value at y0 to 0, which the factor-wise
    product ([y0, inf] * [0, small] = [0, inf]) does not see.  None when the rule does not apply."""
    iv = mpmath.iv

    k, P, rest = sp.S(0), sp.S(0), []
    for f in e.args:
        b, ex = f.as_base_exp()
        if b == _Y and ex.is_Rational:
            k += ex
        elif b == _W and ex.is_Rational:
            P -= ex * _Y
        elif f.func == sp.exp and f.args[0].is_polynomial(_Y):
            P += f.args[0]
        else:
            rest.append(f)
    if not (k > 0 and P.has(_Y)):
        return None
    slope = _iv_eval(k / _Y + sp.diff(P, _Y), {_Y: env[_Y]})
    if slope is None or not _iv_ends(slope)[1] < 0:
        return None
    y0 = iv.mpf(_iv_ends(env[_Y])[0])
    ex = _iv_eval(P, {_Y: y0})
    if ex is None or not _iv_ends(y0)[0] > 0:
        return None
    top = _iv_exp(iv.log(y0) * _iv_eval(k, {}) + ex)
    v = iv.mpf([0, _iv_ends(top)[1]])
    for f in rest:
        r = _iv_eval(f, env)
        if r is None:
            return None
        v = v * r
    return v


def _exp_to_w(e):
    """exp(c y + d) -> exp(d) w^-c (w = exp(-y), c rational), then cancel: e^y/(1 + e^y)^2 -> w/(1 + w)^2."""
    def rep(arg):
        a = sp.expand(arg)
        c = a.coeff(_Y, 1)
        d = sp.expand(a - c * _Y)
        if c.is_Rational and not d.has(_Y):
            return sp.exp(d) * _W ** (-c)
        return sp.exp(arg)
    def split_log(arg):
        # log(W^a n / (W^b d)) = (b - a) y + log n - log d: right wherever log n and log d are shown real (n, d > 0)
        n, d = sp.fraction(sp.cancel(arg))
        low = [min(m[0] for m in sp.Poly(p, _W).monoms()) if p.is_polynomial(_W) and p.has(_W) else 0
               for p in (n, d)]
        if low == [0, 0]:
            return sp.log(arg)
        n, d = sp.cancel(n / _W ** low[0]), sp.cancel(d / _W ** low[1])
        return (low[1] - low[0]) * _Y + sp.log(n) - sp.log(d)

    r = e.replace(lambda t: t.func == sp.exp, lambda t: rep(t.args[0]))
    r = r.replace(lambda t: t.func == sp.log and t.has(_W), lambda t: split_log(t.args[0]))
    return sp.cancel(r) if r.has(_W) else None


@functools.lru_cache(maxsize=256)
def _envelope_forms(F: sp.Expr, sign: int, c, N: int):
    """Expressions equal to F(sign y) y^-N exp(-c y^2) for y > 0, written for a bounded interval evaluation."""
    e = F.subs(X, sign * _Y)
    g = e * _Y ** (-N) * sp.exp(-c * _Y**2) if c else e * _Y ** (-N)
    forms = [sp.powsimp(g)]
    if N or c:  # y^-N distributed over a product of sums: deep=False keeps exp(-(y - 80)^2) whole
        forms += [sp.powsimp(sp.expand(g)), sp.expand(g, deep=False)]
    w = _exp_to_w(forms[0])
    if w is not None:
        ex = sp.expand(w)
        forms += [w, ex, sp.Add(*[sp.cancel(t) for t in sp.Add.make_args(ex)])]  # y/(y (w + 1)) -> 1/(w + 1)
    return tuple(dict.fromkeys(forms))


def _sup_on_tail(F: sp.Expr, sign: int, x0, c=0, N: int = 0):
    """A proven upper bound (mpf, +inf when none) of |F(x)| |x|^-N exp(-c x^2) for sign x >= x0 > 0."""
    lo, hi = _range_on_tail(F, sign, x0, c, N)
    return max(abs(lo), abs(hi))


def _range_on_tail(F: sp.Expr, sign: int, x0, c=0, N: int = 0):
    """(lo, hi) with lo <= F(x) |x|^-N exp(-c x^2) <= hi for sign x >= x0 > 0, proven (mpf, may be infinite).

    The half-line [x0, inf] as one box; where that is unbounded and x0 < 16 (the monotone rule of
    _decreasing_product fails near y = 0: x e^-x rises up to x = 1), [x0, 16] in 8 geometric boxes and [16, inf].
    """
    lo, hi = _range_on(F, sign, c, N, x0, mpmath.inf)
    if (mpmath.isinf(lo) or mpmath.isinf(hi)) and x0 < _SPLIT:
        last = _range_on(F, sign, c, N, mpmath.mpf(_SPLIT), mpmath.inf)
        if mpmath.isinf(last[0]) or mpmath.isinf(last[1]):
            return lo, hi  # unbounded at infinity: the boxes would not help (keep the half-line's enclosure)
        ends = [x0 * (_SPLIT / x0) ** (mpmath.mpf(i) / 8) for i in range(8)] + [mpmath.mpf(_SPLIT)]
        parts = [last] + [_range_on(F, sign, c, N, a, b) for a, b in zip(ends[:-1], ends[1:])]
        lo, hi = min(p[0] for p in parts), max(p[1] for p in parts)
    return lo, hi


_SPLIT = 16


def _range_on(F: sp.Expr, sign: int, c, N: int, a, b):
    """(lo, hi) enclosing F(sign y) y^-N exp(-c y^2) for y in [a, b] (b may be +inf); every form of
    _envelope_forms encloses the same function, so their intervals are intersected."""
    iv = mpmath.iv

    ea, eb = iv.exp(-iv.mpf(a)), iv.exp(-iv.mpf(b)) if mpmath.isfinite(b) else iv.mpf(0)
    env = {_Y: iv.mpf([a, b]), _W: iv.mpf([_iv_ends(eb)[0], _iv_ends(ea)[1]])}  # w = exp(-y)
    lo, hi = mpmath.ninf, mpmath.inf
    for f in _envelope_forms(F, sign, c, N):
        try:
            v = _iv_eval(f, env)
        except (ZeroDivisionError, ValueError, TypeError):
            continue
        if v is None:
            continue
        va, vb = _iv_ends(v)
        if not mpmath.isnan(va):
            lo = max(lo, va)
        if not mpmath.isnan(vb):
            hi = min(hi, vb)
    return lo, hi


@functools.lru_cache(maxsize=64)
def _gaussian_rate(F: sp.Expr, sign: int):
    """A candidate c >= 0 with |F(x)| <~ exp(c x^2) at sign x -> oo (sympy's limit of log F^2 / (2 x^2)).

    Only a guess of the envelope to try: the bound itself is proven by _sup_on_tail.  None if sympy finds none.
    """
    try:
        lim = sp.limit(sp.log(F.subs(X, sign * _Y) ** 2) / (2 * _Y**2), _Y, sp.oo)
    except Exception:  # noqa: BLE001 - sympy gives up in many ways: then no candidate
        return None
    if lim.is_number and lim.is_finite and lim.is_positive:
        return sp.nsimplify(lim) if lim.is_Rational else sp.Rational(math.ceil(float(lim) * 2**20), 2**20)
    return None


def _envelope(F: sp.Expr, sign: int, x0):
    """(S, c, N): |F(x)| <= S |x|^N exp(c x^2) for sign x >= x0, proven; S = +inf when no envelope is proven."""

    for N in range(_MAX_DEGREE + 1):
        S = _sup_on_tail(F, sign, x0, 0, N)
        if mpmath.isfinite(S):
            return S, 0, N
    c = _gaussian_rate(F, sign)
    if c is not None:
        for N in range(_MAX_DEGREE + 1):
            S = _sup_on_tail(F, sign, x0, c, N)
            if mpmath.isfinite(S):
                return S, c, N
    return mpmath.inf, 0, 0


def _tail_integral(F: sp.Expr, j: int, sq, R):
    """An arb upper bound of int_{|g| > R} |F(sqrt(q) g)| |g|^j dN(g), sq = sqrt(q) a ball; +inf when not proven.

    With |F(x)| <= S |x|^N exp(c x^2) on |x| >= x0 = R sq_lo (_envelope, each side) the integrand is at most
    S sq_hi^N g^M exp(-a g^2)/sqrt(2 pi), M = N + j, a = 1/2 - c q_hi, and (g^M exp(-a g^2/2) decreasing for
    g >= g0 = sqrt(M/a))  int_R^oo g^M exp(-a g^2) dg <= R^M exp(-a R^2/2) sqrt(pi/(2a)) erfc(R sqrt(a/2)) for
    R >= g0; for R < g0 the piece [R, g0] adds (g0 - R) max g^M exp(-a g^2).
    """
    from flint import arb

    sq_lo = sq.lower()
    x0 = _arb_to_mpf((sq_lo * R).lower()) if sq_lo > 0 else mpmath.mpf(0)  # rounded down
    if not x0 > 0:
        return arb.pos_inf()
    total = arb(0)
    sq_hi = sq.upper()
    q_hi = sq_hi * sq_hi
    for sign in (1, -1):
        S, c, N = _envelope(F, sign, x0)
        if not mpmath.isfinite(S):
            return arb.pos_inf()
        a = arb(1) / 2 - _arb_rational(c) * q_hi
        if not a > 0:
            return arb.pos_inf()
        M = N + j
        Ra = arb(R)
        if M == 0:
            integral = (arb.pi() / (4 * a)).sqrt() * (Ra * a.sqrt()).erfc()
        else:
            g0 = (M / a).sqrt()
            start = Ra if Ra >= g0 else g0.upper()
            integral = start**M * (-a * start * start / 2).exp() * (arb.pi() / (2 * a)).sqrt() * \
                (start * (a / 2).sqrt()).erfc()
            if not Ra >= g0:
                peak = (arb(M) / (2 * a)) ** (arb(M) / 2) * (-arb(M) / 2).exp()
                integral += (start - Ra) * peak
        total += _mpf_to_arb(S) * sq_hi**N * integral
    return (total / (2 * arb.pi()).sqrt()).upper()


def _arb_rational(c):
    from flint import arb
    c = sp.Rational(c)
    return arb(int(c.p)) / int(c.q)
