"""python-flint basics for the Arb route: availability, precision, conversions, sympy expressions as Arb functions."""

from __future__ import annotations

import contextlib
import functools
import math
from typing import Callable, Iterator

import sympy as sp

__all__ = ["have_flint", "require_flint", "bits_for_dps", "workprec", "to_mpmath", "compile_arb"]


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
