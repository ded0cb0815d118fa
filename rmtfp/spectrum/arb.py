"""Arb ball arithmetic (python-flint) for the law of D^2 = phi'(h)^2 and q*.

Every quantity is an ``arb``/``acb`` ball that contains the exact value:
a wrong digit shows up as a wide ball, never as a silently wrong number.
The precision is python-flint's ``ctx.prec`` (bits), scoped by
:func:`workprec`; parameters may themselves be balls (q* enters as the ball
of :func:`q_star_arb`).

For the spectral equation (see :mod:`rmtfp.spectrum.certify`) the law of D^2
enters through three expectations at the argument u of m_K,

    A(u)  = E[1 / (1 - u D^2)]        = 1 + m_K(u) = 1 + w,
    B(u)  = E[u D^2 / (1 - u D^2)]    = m_K(u)     = w,
    B'(u) = E[D^2 / (1 - u D^2)^2]    = m_K'(u),

each computed without cancellation, so that 1 + w and the imaginary part of
w keep their relative accuracy where w is close to -1 or to -P(D^2 > 0)
(tiny lambda, deep networks):

``discrete`` laws (linear, ReLU, hard-tanh, ...)
    p_0 + sum_i p_i / (1 - v_i u) and sum_i p_i v_i u / (1 - v_i u), the
    latter written -p_i + p_i / (1 - v_i u) where |v_i u| >= 1/2;
``gaussian`` laws (erf-type, phi'^2 = a exp(-alpha x^2)), with c = 2 alpha q
    A = Phi(a u, 1/2, 1/c) / sqrt(c), B = a u Phi(a u, 1/2, 1 + 1/c) / sqrt(c),
    B' = a (Phi(a u, -1/2, 1 + 1/c) - Phi(a u, 1/2, 1 + 1/c) / c) / sqrt(c),
    Phi the Lerch transcendent, by :mod:`rmtfp.spectrum.lerch_arb` (one-time
    precomputation per precision, then polynomials) for |x| <= 1/2 and
    |log x| <= 4.5, by ``acb.lerch_phi`` elsewhere;
``generic`` phi (tanh, sigmoid, ...)
    Gaussian expectations by Arb's rigorous integration (``acb.integral``)
    over |g| <= R, g ~ N(0, 1), plus a proven bound of the tails |g| > R
    (below), where the Gaussian mass is below 2^-(prec+30).  q* (V(q) =
    E[phi(sqrt(q) g)^2] and V'(q) without a closed form) is integrated the
    same way.

Tails
-----
With x = sqrt(q) g, the tails |g| > R are x >= x0 and x <= -x0, x0 =
R sqrt(q_lo) (q_lo the lower end of the ball of q).  On each half-line the
integrand's factor F (phi'^2, phi'^(2k), phi^2 or phi phi') is bounded by an
*envelope*

    |F(x)| <= S |x|^N exp(c x^2)   for all |x| >= x0 on that side,

proven by interval arithmetic on the whole half-line [x0, +inf]
(``mpmath.iv``, outward rounded, with end points from Arb for the monotone
functions tanh, erf, erfc, atan, sinh, asin): the sympy expression of
F(+-y) y^-N exp(-c y^2) is evaluated on y in [x0, +inf], as written, expanded,
and with exp(a y + b) rewritten as exp(b) w^-a, w = exp(-y) in (0, exp(-x0)]
and cancelled (e^y/(1 + e^y)^2 = w/(1 + w)^2; log(1 + e^y) = y + log(1 + w)),
a product y^k exp(P(y)) w^m
being bounded by its value at x0 where k/y + P'(y) - m < 0 is shown on the
interval (so x e^-x is not [x0, inf] times [0, e^-x0]); where the half-line
gives no bound and x0 < 16, [x0, 16] is cut into 8 boxes.  The smallest N <= 12
with c = 0 is tried first; then c = the limit of log F^2/(2 x^2) as found by
sympy (only a guess of c: the bound is the interval evaluation).  Then

    int_R^oo g^M exp(-a g^2) dg <= R^M exp(-a R^2/2) sqrt(pi/2a) erfc(R sqrt(a/2))

for R >= sqrt(M/a) (g^M exp(-a g^2/2) decreases there; the piece [R,
sqrt(M/a)] is added at the maximum otherwise), with M = N (+1 for V'),
a = 1/2 - c q_hi > 0, gives a proven bound of the tail integral; R grows
while that bound exceeds 2^-(prec+10).  m_K's integrands are rational in
t = D^2: their tails are sup |f(u, t)| over the proven range [lo, hi] of t
on the tails, by ball arithmetic, times P(|g| > R); an unbounded range is
split at t = 1 and [1, inf) taken in s = 1/t in [0, 1].  Where no envelope is
proven (an interval is infinite: exponential growth such as sinh, functions
outside the list) the expectation is a NaN ball: the density is
``not_certified`` and :func:`q_star_arb` returns None.  Nothing is assumed
about phi beyond its sympy expression.
"""

from __future__ import annotations

import contextlib
import functools
import math
from typing import Callable, Iterator

import mpmath
import sympy as sp

from ..activations import Activation
from ..activations.derive import Q
from ..activations.core import X
from .lerch_arb import lerch_half_arb

__all__ = ["have_flint", "require_flint", "workprec", "ArbLaw", "q_star_arb", "compile_arb", "to_mpmath",
           "bits_for_dps"]


def have_flint() -> bool:
    """Whether python-flint (the ``rmtfp[flint]`` extra) is importable."""
    try:
        import flint  # noqa: F401
    except ImportError:
        return False
    return True


def require_flint():
    """The ``flint`` module; raises ImportError with the install hint when absent."""
    try:
        import flint
    except ImportError:
        raise ImportError("backend='flint' and certify=True need python-flint: pip install 'rmtfp[flint]'") from None
    return flint


def bits_for_dps(dps: int) -> int:
    """Working precision in bits for ``dps`` decimal digits (plus 10 guard digits, as the mpmath route)."""
    return int(math.ceil((dps + 10) * math.log2(10)))


@contextlib.contextmanager
def workprec(prec: int) -> Iterator[None]:
    """Run the enclosed block at ``prec`` bits in python-flint; restores the previous precision."""
    flint = require_flint()
    old = flint.ctx.prec
    flint.ctx.prec = int(prec)
    try:
        yield
    finally:
        flint.ctx.prec = old


def to_mpmath(x):
    """An exact ``mpmath.mpf`` of the midpoint of an ``arb`` (or of the real part of an ``acb``)."""
    import mpmath
    from flint import acb

    if isinstance(x, acb):
        return mpmath.mpc(to_mpmath(x.real), to_mpmath(x.imag))
    if not x.is_finite():
        return mpmath.nan
    man, exp = x.mid().man_exp()
    return mpmath.mpf((int(man), int(exp)))


# ------------------------------------------------------------ sympy -> Arb
def _unary(name):
    def f(x, analytic):
        m = getattr(x, name)
        return m(analytic=analytic) if name in ("sqrt", "log") else m()
    return f


_FUNCS = {sp.exp: _unary("exp"), sp.log: _unary("log"), sp.tanh: _unary("tanh"), sp.sinh: _unary("sinh"),
          sp.cosh: _unary("cosh"), sp.sin: _unary("sin"), sp.cos: _unary("cos"), sp.erf: _unary("erf"),
          sp.erfc: _unary("erfc"), sp.asin: _unary("asin"), sp.atan: _unary("atan")}


def compile_arb(expr: sp.Expr, symbols: tuple) -> Callable:
    """Compile a sympy expression into f(*args, analytic=False) on arb/acb balls.

    Constants are evaluated at the precision current at call time.  With
    ``analytic=True`` a branch cut touched by the input gives a non-finite
    ball (for ``acb.integral``).  Supported: + - * /, integer and rational
    powers, exp, log, sqrt, tanh, sinh, cosh, sin, cos, erf, erfc, asin,
    atan, pi, E.  Anything else (Abs, Max, Piecewise) raises ValueError.
    """
    from flint import acb, arb

    index = {s: i for i, s in enumerate(symbols)}

    def build(e):
        if e in index:
            i = index[e]
            return lambda args, an: args[i]
        if e.is_Integer:
            v = int(e)
            return lambda args, an: arb(v)
        if e.is_Rational:
            p, q = int(e.p), int(e.q)
            return lambda args, an: arb(p) / q
        if e is sp.pi:
            return lambda args, an: arb.pi()
        if e is sp.E:
            return lambda args, an: arb(1).exp()
        if e.is_Float:
            s = str(e)
            return lambda args, an: arb(s)
        if e.is_Add:
            parts = [build(a) for a in e.args]
            return lambda args, an: functools.reduce(lambda x, y: x + y, (p(args, an) for p in parts))
        if e.is_Mul:
            parts = [build(a) for a in e.args]
            return lambda args, an: functools.reduce(lambda x, y: x * y, (p(args, an) for p in parts))
        if e.is_Pow:
            base, ex = build(e.base), e.exp
            if ex.is_Integer:
                n = int(ex)
                return lambda args, an: base(args, an) ** n if n >= 0 else 1 / base(args, an) ** (-n)
            if ex == sp.S.Half:
                return lambda args, an: _lift(base(args, an)).sqrt(analytic=an) if an else base(args, an).sqrt()
            if ex == -sp.S.Half:
                return lambda args, an: 1 / (_lift(base(args, an)).sqrt(analytic=an) if an else
                                             base(args, an).sqrt())
            expo = build(ex)
            return lambda args, an: (_lift(expo(args, an)) * _lift(base(args, an)).log(analytic=an)).exp()
        f = _FUNCS.get(e.func)
        if f is not None and len(e.args) == 1:
            inner = build(e.args[0])
            if e.func in (sp.log,):
                return lambda args, an: f(_lift(inner(args, an)), an)
            return lambda args, an: f(inner(args, an), an)
        raise ValueError(f"no Arb evaluation for {e.func.__name__} in {expr} (supported: + - * / powers, exp, log, "
                         "sqrt, tanh, sinh, cosh, sin, cos, erf, erfc, asin, atan)")

    def _lift(x):
        return x if isinstance(x, acb) else acb(x)

    body = build(sp.sympify(expr))

    def f(*args, analytic=False):
        return body(args, analytic)
    return f


# ---------------------------------------------------------------- the law
class ArbLaw:
    """The law of D^2 in Arb: A(u), B(u), B'(u) (module doc) at the current precision.

    Parameters
    ----------
    activation : Activation
    q : float, arb or None
        Variance of h (a ball is carried through); None where the law does
        not depend on q.
    """

    def __init__(self, activation: Activation, q):
        from flint import arb

        self.activation = activation
        s = activation.d2_structure
        self.kind = s.kind
        self.q = None if q is None else (q if isinstance(q, arb) else arb(q))
        qv = self.q if self.q is not None else arb(1)
        if self.q is not None and self.q.is_zero() and activation.depends_on_q:
            # q = 0: h = 0 almost surely and D^2 = phi'(0)^2, the degenerate law (as in Activation.mgf_d2)
            d0 = compile_arb(sp.simplify((activation.derivative ** 2).subs(X, 0)), ())()  # exact: no Piecewise
            self.kind = "discrete"
            self.values, self.probs = ([], []) if d0.is_zero() else ([d0], [arb(1)])
            self.p0 = arb(1) if d0.is_zero() else arb(0)
            self.c = sum(self.probs, arb(0))
        elif self.kind == "discrete":
            self.values = [compile_arb(v, ())() for v in s.values]
            self.probs = [compile_arb(p, (Q,))(qv) for p in s.probabilities]
            self.p0 = compile_arb(s.zero_probability, (Q,))(qv)
            self.c = sum(self.probs, arb(0))
        elif self.kind == "gaussian":
            self.amp = compile_arb(s.amplitude, ())()
            al = compile_arb(s.alpha, ())()
            self.cq = 2 * al * qv
            self.sqc = self.cq.sqrt()
            self.a1 = 1 / self.cq  # a - 1 of the Lerch parameter a = 1 + 1/c
            self.a = 1 + self.a1
        else:
            self.d2_expr = activation.derivative ** 2
            self.d2 = compile_arb(self.d2_expr, (X,))
            self.sq = qv.sqrt()
            self._tails = {}  # prec -> (R, N(0,1) mass of |g| > R, proven range [lo, hi] of D^2 there)

    # -- moments, for the start of the path (w ~ m_1/z + m_2/z^2)
    def moment(self, k: int):
        """E[D^{2k}] as a ball."""
        from flint import acb, arb

        if self.kind == "discrete":
            return sum((p * v**k for p, v in zip(self.probs, self.values)), arb(0))
        if self.kind == "gaussian":
            return self.amp**k / (1 + k * self.cq).sqrt()
        return _gauss_expect(lambda g, an: self.d2(self.sq * g, analytic=an) ** k, self.d2_expr ** k, 0, self.sq)

    def evaluate(self, u, need_a: bool = True):
        """(A(u), B(u), B'(u), B(u)/u) as acb balls; non-finite balls where u touches the cut of m_K.

        B/u = E[D^2/(1 - u D^2)] is computed as such (not by a division), so
        that u B'/B keeps its accuracy on wide balls of u.
        """
        from flint import acb, arb, ctx

        if self.kind == "discrete":
            A = acb(self.p0)
            B = acb(0)
            dB = acb(0)
            Bu = acb(0)
            for p, v in zip(self.probs, self.values):
                vu = v * u
                inv = 1 / (1 - vu)
                A += p * inv
                dB += p * v * inv * inv
                Bu += p * v * inv
                if abs(vu.mid()) < 0.5:
                    B += p * vu * inv
                else:
                    B += p * (inv - 1)
            return A, B, dB, Bu
        if self.kind == "gaussian":
            x = self.amp * u
            if x.imag.contains(0) and not (x.real < 1):
                nan = acb(arb.nan(), arb.nan())
                return nan, nan, nan, nan
            fast = lerch_half_arb(self.a1, ctx.prec)
            half = acb(arb(1) / 2)
            got = fast.values(x)
            if got is None:  # outside the regions of the fast route: Arb's own Lerch transcendent
                got = acb.lerch_phi(x, half, acb(self.a)), acb.lerch_phi(x, -half, acb(self.a))
            ph, ph1 = got
            Bu = self.amp * ph / self.sqc
            B = u * Bu
            dB = self.amp * (ph1 - ph / self.cq) / self.sqc
            if need_a and abs((1 + B).mid()) < 0.125:
                ph0 = fast.value_m1(x)
                if ph0 is None:
                    ph0 = acb.lerch_phi(x, half, acb(self.a1))
                A = ph0 / self.sqc
            else:
                A = 1 + B
            return A, B, dB, Bu
        tA, tB, tdB, tBu = self._tail_bound(u)
        d2 = lambda g, an: self.d2(self.sq * g, analytic=an)  # noqa: E731
        A = self._expect(lambda g, an: 1 / (1 - u * d2(g, an)), tA)
        B = self._expect(lambda g, an: _ratio(u * d2(g, an)), tB)
        dB = self._expect(lambda g, an: (lambda t: t / (1 - u * t) ** 2)(d2(g, an)), tdB)
        Bu = self._expect(lambda g, an: (lambda t: t / (1 - u * t))(d2(g, an)), tBu)
        return A, B, dB, Bu

    def _tail_info(self):
        """(R, P(|g| > R), lo, hi) at the current precision: lo <= D^2 <= hi on |g| > R, proven (hi may be +inf)."""
        from flint import arb, ctx

        prec = ctx.prec
        if prec not in self._tails:
            R = _cutoff(prec)
            mass = (arb(R) / arb(2).sqrt()).erfc()
            sq_lo = self.sq.lower()
            lo, hi = mpmath.mpf(0), mpmath.inf
            if sq_lo > 0:
                x0 = _arb_to_mpf((sq_lo * R).lower())  # rounded down: the half-lines cover |g| > R
                sides = [_range_on_tail(self.d2_expr, sign, x0) for sign in (1, -1)]
                lo = max(mpmath.mpf(0), min(a for a, _ in sides))  # D^2 >= 0
                hi = max(b for _, b in sides)
            self._tails[prec] = (R, mass, lo, hi)
        return self._tails[prec]

    def _tail_bound(self, u):
        """Bounds of the tails |g| > R of A, B, B', B/u at u (a ball): sup over t in [lo, hi] (the proven range of
        D^2 there, :meth:`_tail_info`) of |1/(1 - u t)|, |u t/(1 - u t)|, |t/(1 - u t)^2|, |t/(1 - u t)| by ball
        arithmetic, times P(|g| > R).  An unbounded range is split at t = 1; on [1, inf) the same functions are
        evaluated in s = 1/t in [0, 1]: s/(s - u), u/(s - u), s/(s - u)^2, 1/(s - u).  +inf where a ball touches
        the pole (u t = 1 for some t in the range)."""
        from flint import arb

        _, mass, lo, hi = self._tail_info()
        # |x/y^2| as |x/y| |1/y|: the ball of y^2 can touch 0 where y's rectangle does not
        in_t = (lambda t: 1 / (1 - u * t), lambda t: u * t / (1 - u * t),
                lambda t: abs(t / (1 - u * t)) * abs(1 / (1 - u * t)), lambda t: t / (1 - u * t))
        in_s = (lambda s: s / (s - u), lambda s: u / (s - u), lambda s: abs(s / (s - u)) * abs(1 / (s - u)),
                lambda s: 1 / (s - u))
        pieces = []
        if mpmath.isfinite(hi):
            pieces.append((in_t, _mpf_to_arb(lo).union(_mpf_to_arb(hi))))
        else:
            one = max(lo, mpmath.mpf(1))
            if lo < 1:
                pieces.append((in_t, _mpf_to_arb(lo).union(arb(1))))
            pieces.append((in_s, arb(0).union(1 / _mpf_to_arb(one))))
        out = []
        for i in range(4):
            b = arb(0)
            for fs, ball in pieces:
                v = abs(fs[i](ball))
                if not v.is_finite():
                    return (arb.pos_inf(),) * 4
                b = max(b, v.upper())
            out.append(b * mass)
        return tuple(out)

    def _expect(self, f, tail):
        """E[f(g)] for g ~ N(0, 1): acb.integral on |g| <= R plus [-tail, tail] (real and imaginary part)."""
        from flint import acb, arb

        R = self._tail_info()[0]
        if not tail.is_finite():
            return acb(arb.nan(), arb.nan())
        val = acb.integral(lambda g, an: f(g, an) * (-(g * g) / 2).exp(), -R, R) / (2 * arb.pi()).sqrt()
        err = arb(0, tail.upper())
        return val + acb(err, err)


def _ratio(x):
    return x / (1 - x)


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


# ------------------------------------------------------------------- q*
def _second_moment_arb(act: Activation):
    """(V(q), V'(q)) on balls, V(q) = E[phi(sqrt(q) g)^2]: the closed form where given, else integration with the
    proven tail bound of :func:`_gauss_expect` (NaN balls where no tail bound is proven)."""
    if act.second_moment_expr is not None:
        V = compile_arb(act.second_moment_expr, (Q,))
        dV = compile_arb(sp.diff(act.second_moment_expr, Q), (Q,))
        return lambda q: (V(q), dV(q))
    phi = compile_arb(act.expr, (X,))
    dphi = compile_arb(act.derivative, (X,))
    phi2, phidphi = act.expr ** 2, act.expr * act.derivative

    def vdv(q):
        sq = q.sqrt()
        V = _gauss_expect(lambda g, an: phi(sq * g, analytic=an) ** 2, phi2, 0, sq)
        # dV/dq = E[phi phi'(sqrt(q) g) g] / sqrt(q)
        dV = _gauss_expect(lambda g, an: phi(sq * g, analytic=an) * dphi(sq * g, analytic=an) * g, phidphi, 1,
                           sq) / sq
        return V, dV
    return vdv


def _gauss_expect(f, F: sp.Expr, j: int, sq):
    """E[f(g)] (real), g ~ N(0, 1), f(g) = F(sqrt(q) g) g^j: acb.integral on |g| <= R plus the proven tail bound
    of :func:`_tail_integral`; NaN when no tail bound is proven.  R starts at :func:`_cutoff` and grows (at most
    four times by 3/2) while the tail bound exceeds 2^-(prec+10) (heavy tails: envelopes exp(c x^2))."""
    from flint import acb, arb, ctx

    prec = ctx.prec
    R = _cutoff(prec)
    tail = _tail_integral(F, j, sq, R)
    for _ in range(4):
        if not (tail.is_finite() and tail > arb(2) ** (-prec - 10)):
            break
        R = math.ceil(1.5 * R)
        tail = _tail_integral(F, j, sq, R)
    if not tail.is_finite():
        return arb.nan()
    val = acb.integral(lambda g, an: f(g, an) * (-(g * g) / 2).exp(), -R, R).real / (2 * arb.pi()).sqrt()
    return val + arb(0, tail.upper())


def q_star_arb(act: Activation, sigma_w2, sigma_b2, q_float: float):
    """A ball around the fixed point q* = sigma_w^2 V(q*) + sigma_b^2 near ``q_float``, proven by interval Newton.

    Returns the ball, or None when the interval Newton test fails (no
    enclosure proven at this precision).
    """
    from flint import arb

    s2 = arb(sigma_w2) if not isinstance(sigma_w2, arb) else sigma_w2
    b2 = arb(sigma_b2) if not isinstance(sigma_b2, arb) else sigma_b2
    vdv = _second_moment_arb(act)
    q = arb(q_float)
    for _ in range(60):  # Newton on midpoints
        V, dV = vdv(q)
        if not (V.is_finite() and dV.is_finite()):
            return None  # V or V' not enclosed (no proven tail bound)
        step = (s2 * V + b2 - q) / (s2 * dV - 1)
        q = arb((q - step).mid())
        if abs(step.mid()) <= abs(q.mid()) * arb(2) ** (-_prec() + 4):
            break
    # interval Newton (Krawczyk) on a small ball around q
    for shift in (8, 20, _prec() // 2):  # radii as exact arbs: 2^-prec underflows a float beyond ~1000 bits
        X = q + arb(0, abs(q.mid()) * arb(2) ** (-_prec() + shift) + arb(2) ** (-2 * _prec()))
        V, dV = vdv(q)
        Vx, dVx = vdv(X)
        f = s2 * V + b2 - q
        Y = 1 / float((s2 * dV - 1).mid())
        K = q - Y * f + (1 - Y * (s2 * dVx - 1)) * (X - q)
        if K.is_finite() and X.contains_interior(K):
            return K
    return None


def _prec() -> int:
    from flint import ctx
    return ctx.prec
