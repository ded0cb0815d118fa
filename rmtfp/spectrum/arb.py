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
    and for second derivatives (x = a u, a' = 1 + 1/c; x dPhi(x, s, a')/dx = Phi(x, s - 1, a') - a' Phi(x, s, a'))
    u B'' = a ((Phi(x, -3/2, a') - a' Phi(x, -1/2, a')) - (Phi(x, -1/2, a') - a' Phi(x, 1/2, a')) / c) / sqrt(c),
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

import math

import mpmath
import sympy as sp

from ..activations import Activation
from ..activations.derive import Q
from ..activations.core import X
from .arb_common import bits_for_dps, compile_arb, have_flint, require_flint, to_mpmath, workprec
from .arb_tails import _arb_to_mpf, _cutoff, _mpf_to_arb, _range_on_tail, _tail_integral
from .lerch_arb import lerch_half_arb

__all__ = ["have_flint", "require_flint", "workprec", "ArbLaw", "q_star_arb", "compile_arb", "to_mpmath",
           "bits_for_dps"]


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
            self._fast = {}  # precision -> LerchHalf
        else:
            self.d2_expr = activation.derivative ** 2
            self.d2 = compile_arb(self.d2_expr, (X,))
            self.sq = qv.sqrt()
            self._tails = {}  # prec -> (R, N(0,1) mass of |g| > R, proven range [lo, hi] of D^2 there)

    # -- moments, for the start of the path (w ~ m_1/z + m_2/z^2)
    def moment(self, k: int):
        """E[D^{2k}] as a ball."""
        from flint import arb

        if self.kind == "discrete":
            return sum((p * v**k for p, v in zip(self.probs, self.values)), arb(0))
        if self.kind == "gaussian":
            return self.amp**k / (1 + k * self.cq).sqrt()
        return _gauss_expect(lambda g, an: self.d2(self.sq * g, analytic=an) ** k, self.d2_expr ** k, 0, self.sq)

    def evaluate(self, u, need_a: bool = True, second: bool = False):
        """(A(u), B(u), B'(u), B(u)/u) as acb balls; non-finite balls where u touches the cut of m_K.

        B/u = E[D^2/(1 - u D^2)] is computed as such (not by a division), so
        that u B'/B keeps its accuracy on wide balls of u.  ``second``: a fifth
        ball u B''(u) = E[2 u D^4 / (1 - u D^2)^3] (None for ``generic`` laws),
        for the second derivative of the spectral equation.
        """
        from flint import acb, arb, ctx

        if self.kind == "discrete":
            A = acb(self.p0)
            B = acb(0)
            dB = acb(0)
            Bu = acb(0)
            ddB = acb(0)
            for p, v in zip(self.probs, self.values):
                vu = v * u
                inv = 1 / (1 - vu)
                A += p * inv
                dB += p * v * inv * inv
                Bu += p * v * inv
                if second:
                    ddB += 2 * p * v * vu * inv ** 3
                if abs(vu.mid()) < 0.5:
                    B += p * vu * inv
                else:
                    B += p * (inv - 1)
            return (A, B, dB, Bu, ddB) if second else (A, B, dB, Bu)
        if self.kind == "gaussian":
            x = self.amp * u
            if x.imag.contains(0) and not (x.real < 1):
                nan = acb(arb.nan(), arb.nan())
                return (nan,) * (5 if second else 4)
            fast = self._fast.get(ctx.prec)
            if fast is None:
                fast = self._fast[ctx.prec] = lerch_half_arb(self.a1, ctx.prec)
            got = fast.values2(x) if second else fast.values(x)
            if got is None:  # outside the regions of the fast route: Arb's own Lerch transcendent
                a = acb(self.a)
                got = tuple(acb.lerch_phi(x, acb(arb(s) / 2), a) for s in ((1, -1, -3) if second else (1, -1)))
            ph, ph1 = got[:2]
            Bu = self.amp * ph / self.sqc
            B = u * Bu
            dB = self.amp * (ph1 - ph / self.cq) / self.sqc
            if need_a and abs((1 + B).mid()) < 0.125:
                ph0 = fast.value_m1(x)
                if ph0 is None:
                    ph0 = acb.lerch_phi(x, acb(arb(1) / 2), acb(self.a1))
                A = ph0 / self.sqc
            else:
                A = 1 + B
            if not second:
                return A, B, dB, Bu
            # u B'' = A ((Phi(x, -3/2, a) - a Phi(x, -1/2, a)) - (a - 1) (Phi(x, -1/2, a) - a Phi(x, 1/2, a))) / sqrt(c)
            # (x dPhi(x, s, a)/dx = Phi(x, s - 1, a) - a Phi(x, s, a), x = A u)
            ddB = self.amp * ((got[2] - self.a * ph1) - self.a1 * (ph1 - self.a * ph)) / self.sqc
            return A, B, dB, Bu, ddB
        if second:
            return (*self.evaluate(u, need_a), None)
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
