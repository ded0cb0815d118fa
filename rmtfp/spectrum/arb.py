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
    over |g| <= R, g ~ N(0, 1), plus a bound of the tail |g| > R.  The tail
    bound assumes D^2 <= 1.01 sup D^2 (the grid maximum of
    :attr:`Activation.d2_max`) for |g| > R, where the Gaussian weight is below
    2^-(prec+30).
"""

from __future__ import annotations

import contextlib
import functools
import math
from typing import Callable, Iterator

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
            self.d2 = compile_arb(activation.derivative ** 2, (X,))
            self.sq = qv.sqrt()
            self.d2_bound = arb(activation.d2_max) * arb("1.01")

    # -- moments, for the start of the path (w ~ m_1/z + m_2/z^2)
    def moment(self, k: int):
        """E[D^{2k}] as a ball."""
        from flint import acb, arb

        if self.kind == "discrete":
            return sum((p * v**k for p, v in zip(self.probs, self.values)), arb(0))
        if self.kind == "gaussian":
            return self.amp**k / (1 + k * self.cq).sqrt()
        return self._expect(lambda g, an: self.d2(self.sq * g, analytic=an) ** k, acb(0)).real

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
        bound = self._tail_bound(u)
        A = self._expect(lambda g, an: 1 / (1 - u * self.d2(self.sq * g, analytic=an)), bound)
        B = self._expect(lambda g, an: _ratio(u * self.d2(self.sq * g, analytic=an)), bound)
        dB = self._expect(lambda g, an: self.d2(self.sq * g, analytic=an) /
                          (1 - u * self.d2(self.sq * g, analytic=an)) ** 2, bound)
        Bu = self._expect(lambda g, an: self.d2(self.sq * g, analytic=an) /
                          (1 - u * self.d2(self.sq * g, analytic=an)), bound)
        return A, B, dB, Bu

    def _tail_bound(self, u):
        """Bound of |1/(1 - u t)|, |u t/(1 - u t)| and |t/(1 - u t)^2| over u in the ball, 0 <= t <= sup D^2."""
        from flint import acb, arb

        um = complex(u.mid())
        if um == 0:
            return arb(1)
        p = 1 / um
        d = float(self.d2_bound.upper())
        if abs(um) * d < 0.5:  # |1 - u t| >= 1/2
            return arb(max(2.0, 2 * abs(um) * d, 4 * d)) * arb("1.0001")
        if p.real < 0:
            dist = abs(p)
        elif p.real > d:
            dist = abs(p - d)
        else:
            dist = abs(p.imag)
        if dist == 0:
            return arb.pos_inf()
        # |1/(1 - u t)| = 1/(|u| |1/u - t|) <= 1/(|u| dist), |u t/(1 - u t)| <= d/dist,
        # |t/(1 - u t)^2| <= d/(|u| dist)^2; the ball of u moves 1/u by at most 2 rad |p|^2
        rad = float(u.rad()) * 2 + 1e-300
        dist = dist - rad * abs(p) ** 2 * 2
        ua = abs(um) - rad
        if dist <= 0 or ua <= 0:
            return arb.pos_inf()
        return arb(max(1 / (ua * dist), d / dist, d / (ua * dist) ** 2)) * arb("1.0001")

    def _expect(self, f, tail_scale):
        """E[f(g)] for g ~ N(0, 1) by acb.integral on |g| <= R plus the tail bound tail_scale erfc(R/sqrt 2)."""
        from flint import acb, arb, ctx

        prec = ctx.prec
        R = math.ceil(math.sqrt(2 * ((prec + 30) * math.log(2) + 5)))
        norm = 1 / (2 * arb.pi()).sqrt()
        val = acb.integral(lambda g, an: f(g, an) * (-(g * g) / 2).exp(), -R, R) * norm
        tail = arb(tail_scale if isinstance(tail_scale, arb) else arb(tail_scale)) * (arb(R) / arb(2).sqrt()).erfc()
        if not tail.is_finite():
            return acb(arb.nan(), arb.nan())
        err = arb(0, tail.upper())
        return val + acb(err, err)


def _ratio(x):
    return x / (1 - x)


# ------------------------------------------------------------------- q*
def _second_moment_arb(act: Activation):
    """(V(q), V'(q)) on balls, V(q) = E[phi(sqrt(q) g)^2]: the closed form where given, else integration."""
    from flint import acb, arb

    if act.second_moment_expr is not None:
        V = compile_arb(act.second_moment_expr, (Q,))
        dV = compile_arb(sp.diff(act.second_moment_expr, Q), (Q,))
        return lambda q: (V(q), dV(q))
    phi = compile_arb(act.expr, (X,))
    dphi = compile_arb(act.derivative, (X,))
    R = None

    def vdv(q):
        nonlocal R
        from flint import ctx
        R = math.ceil(math.sqrt(2 * ((ctx.prec + 30) * math.log(2) + 5)))
        sq = q.sqrt()
        norm = 1 / (2 * arb.pi()).sqrt()
        w = lambda g: (-(g * g) / 2).exp()  # noqa: E731
        V = acb.integral(lambda g, an: phi(sq * g, analytic=an) ** 2 * w(g), -R, R).real * norm
        # dV/dq = E[phi phi'(sqrt(q) g) g] / sqrt(q)
        dV = acb.integral(lambda g, an: phi(sq * g, analytic=an) * dphi(sq * g, analytic=an) * g * w(g),
                          -R, R).real * norm / sq
        # tails beyond R: phi^2 grows at most like the values at +-R times a polynomial; Gaussian weight < 2^-(prec+30)
        return V, dV
    return vdv


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
        step = (s2 * V + b2 - q) / (s2 * dV - 1)
        q = arb((q - step).mid())
        if abs(step.mid()) <= abs(q.mid()) * arb(2) ** (-_prec() + 4):
            break
    # interval Newton (Krawczyk) on a small ball around q
    for shift in (8, _prec() // 2):  # radii as exact arbs: 2^-prec underflows a float beyond ~1000 bits
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
