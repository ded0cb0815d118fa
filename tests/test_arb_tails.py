"""Proven tails of the Arb route for generic phi: m_K, the moments and q* enclose independent mpmath quadratures.

The Gaussian expectations of generic phi are integrated by Arb on |g| <= R; the tails |g| > R are bounded by an
envelope of the integrand proven by interval arithmetic on the half-line (rmtfp.spectrum.arb, "Tails").  Each test
pits a ball against mpmath.quad on the whole line at 50 digits, computed here from phi alone.

Skipped as a whole only when python-flint (the ``rmtfp[flint]`` extra) is not installed.
"""

import math

import mpmath
import numpy as np
import pytest
import sympy as sp

flint = pytest.importorskip("flint", reason="python-flint (the rmtfp[flint] extra) is not installed")

from rmtfp import Status, density  # noqa: E402
from rmtfp.activations import Activation, get  # noqa: E402
from rmtfp.activations.core import X  # noqa: E402
from rmtfp.spectrum.arb import ArbLaw, q_star_arb, to_mpmath, workprec  # noqa: E402

#: phi'^2 grows without bound in the tails (polynomially), far beyond its maximum on any grid
CUBIC = Activation("cubic", X + X**3 / 10)
#: phi^2 = exp(2 x^2/3): heavy Gaussian tails, E[phi(sqrt(q) g)^2] = 1/sqrt(1 - 4q/3) for q < 3/4
EXPSQ = Activation("expsq", sp.exp(X**2 / 3))
#: phi'^2 = cosh^2 grows exponentially: no envelope is proven (finite moments, but not shown so)
SINH = Activation("sinh", sp.sinh(X))


def _gauss(f, q, dps=50):
    """E[f(sqrt(q) g)], g ~ N(0, 1), by mpmath.quad on the whole line (split at 0) at ``dps`` digits."""
    with mpmath.workdps(dps):
        sq = mpmath.sqrt(mpmath.mpf(q))
        dens = lambda g: mpmath.exp(-g * g / 2) / mpmath.sqrt(2 * mpmath.pi)  # noqa: E731
        return mpmath.quad(lambda g: f(sq * g) * dens(g), [-mpmath.inf, 0, mpmath.inf])


def _q_star_ref(act, sw2, sb2, q0):
    """The fixed point of q = sw2 E[phi(sqrt(q) g)^2] + sb2 by mpmath.findroot on 50-digit quadratures."""
    phi = sp.lambdify(X, act.expr, "mpmath")
    with mpmath.workdps(50):
        return mpmath.findroot(lambda q: sw2 * _gauss(lambda h: phi(h) ** 2, q) + sb2 - q, mpmath.mpf(q0))


def _rad(ball) -> float:
    return float(ball.rad()) if isinstance(ball, flint.arb) else float(max(ball.real.rad(), ball.imag.rad()))


def _inside(ball, ref):
    """ref lies in the ball (2 radii: real and imaginary part), up to the 10^-45 relative accuracy of a 50-digit
    quadrature (5 digits of margin for its own rounding)."""
    with mpmath.workdps(60):
        return abs(to_mpmath(ball) - ref) <= 2 * mpmath.mpf(_rad(ball)) + mpmath.mpf(10) ** -45 * (1 + abs(ref))


@pytest.mark.parametrize("u", [0.3 - 0.2j, 2.5 - 1.0j, -4.0 - 0.5j])
def test_growing_tail_mgf_and_moments_contain_quadrature(u):
    """phi = x + x^3/10 at q = 0.5: D^2 ~ (3 x^2/10)^2 is unbounded on the tails (the old bound assumed it below
    1.01 times its grid maximum there); the balls of A, B, B', B/u and E[D^2], E[D^4] contain 50-digit quadratures."""
    q = 0.5
    d2 = sp.lambdify(X, CUBIC.derivative**2, "mpmath")
    with workprec(200):
        law = ArbLaw(CUBIC, q)
        _, _, lo, hi = law._tail_info()
        # D^2 on the tails exceeds its maximum on the grid [-60, 60] (1.17e6) at |x| > 60: unbounded, so proven
        assert hi == mpmath.inf and lo > 0
        A, B, dB, Bu = law.evaluate(flint.acb(u))
        m1, m2 = law.moment(1), law.moment(2)
    refs = {"A": (A, lambda t: 1 / (1 - u * t)), "B": (B, lambda t: u * t / (1 - u * t)),
            "dB": (dB, lambda t: t / (1 - u * t) ** 2), "Bu": (Bu, lambda t: t / (1 - u * t)),
            "m1": (m1, lambda t: t), "m2": (m2, lambda t: t * t)}
    for name, (ball, f) in refs.items():
        assert ball.is_finite(), name
        # 200 bits: the balls are ~1e-55 wide, far below the quadrature's 1e-45
        assert _rad(ball) < 1e-40, name
        with mpmath.workdps(50):
            ref = _gauss(lambda h: f(d2(h)), q)
        assert _inside(ball, ref), (name, ball, ref)


@pytest.mark.parametrize("act,sw2,sb2,q0", [(get("tanh"), 1.5, 0.1, 1.0), (get("sigmoid"), 4.0, 0.1, 1.0),
                                            (CUBIC, 0.5, 0.1, 0.2), (EXPSQ, 0.2, 0.1, 0.2),
                                            (Activation("softplus", sp.log(1 + sp.exp(X))), 0.5, 0.1, 1.0),
                                            (Activation("swish", X / (1 + sp.exp(-X))), 1.5, 0.1, 1.0)],
                         ids=["tanh", "sigmoid", "cubic", "expsq", "softplus", "swish"])
@pytest.mark.parametrize("prec", [64, 200])
def test_q_star_ball_contains_quadrature_fixed_point(act, sw2, sb2, q0, prec):
    """q_star_arb's Krawczyk ball contains the 50-digit fixed point.  For exp(x^2/3) the integrand of V decays
    only like exp(-0.24 g^2) at q* = 0.388: the ball proven without a tail bound missed q* (radius 2.2e-18, off by
    3.7e-17 at 64 bits; radius 3.9e-59, off by 4.0e-40 at 200 bits)."""
    ref = _q_star_ref(act, sw2, sb2, act.q_star(sw2, sb2, q0=q0))
    with workprec(prec):
        qb = q_star_arb(act, flint.arb(sw2), flint.arb(sb2), float(ref))
    assert qb is not None
    assert float(qb.rad()) < 2.0 ** (-prec + 16)  # as narrow as the precision allows (16 bits of margin)
    assert _inside(qb, ref)


def test_no_provable_tail_is_not_certified():
    """phi = sinh: phi^2 and phi'^2 grow like exp(2|x|), for which no envelope is proven: q* gives None and the
    density is not certified (NaN bounds), never certified on an assumption."""
    with workprec(64):
        assert q_star_arb(SINH, flint.arb(0.3), flint.arb(0.1), SINH.q_star(0.3, 0.1, q0=0.1)) is None
        assert not ArbLaw(SINH, 0.2).moment(1).is_finite()
    res = density([0.5], SINH, 2, sigma_w2=0.3, q=0.2, certify=True)
    assert list(res.status) == [Status.NOT_CERTIFIED]
    assert np.isnan(res.lower[0]) and np.isnan(res.upper[0])


@pytest.mark.parametrize("name,kw,lam", [("tanh", dict(sigma_w2=1.5, sigma_b2=0.1), 1.0),
                                         (CUBIC, dict(sigma_w2=0.5, sigma_b2=0.1), 0.3),
                                         # ~50-120 s on 2 cores: the poles of the sigmoid slow Arb's integration
                                         pytest.param("sigmoid", dict(sigma_w2=4.0, sigma_b2=0.1), 0.1,
                                                      marks=pytest.mark.slow)],
                         ids=["tanh", "cubic", "sigmoid"])
def test_generic_certified_density_contains_mpmath_route(name, kw, lam):
    """tanh, sigmoid and x + x^3/10 (D^2 unbounded: m_K's cut is all of (0, inf)) at L = 2 and q*: certified (q* by
    interval Newton, m_K with proven tails), and the mpmath route at 40 digits lies in the enclosure (64-bit
    balls: a few ulps wide)."""
    res = density([lam], name, 2, certify=True, **kw)
    ref = density([lam], name, 2, dps=40, backend="mpmath", **kw)
    assert list(res.status) == [Status.CERTIFIED]
    assert res.lower[0] <= float(ref.density[0]) <= res.upper[0]
    assert res.upper[0] - res.lower[0] <= 1e-12 * res.upper[0]  # 64 bits, conditioning ~1e2 at most
    assert math.isfinite(res.density[0])


ENVELOPE_CASES = {
    "tanh": sp.tanh(X), "sigmoid": 1 / (1 + sp.exp(-X)), "cubic": X + X**3 / 10, "expsq": sp.exp(X**2 / 3),
    "swish": X / (1 + sp.exp(-X)), "xerf": X * sp.erf(X), "bump": X + 10 * sp.erf(X - 80),
    "softplus": sp.log(1 + sp.exp(X)),
}


@pytest.mark.parametrize("x0", [0.05, 5])
@pytest.mark.parametrize("name", sorted(ENVELOPE_CASES))
def test_envelopes_hold_where_sampled(name, x0):
    """The proven envelopes |F(x)| <= S |x|^N exp(c x^2) on sign x >= x0 (F = phi'^2, phi^2, phi phi') against
    F at 60-digit points from x0 to 10^4 x0 (log grid) and on [x0, 100] (with the bump of erf(x - 80)): a wrong
    envelope fails.  x0 = 0.05 (small q) takes the split of [x0, 16] into boxes."""
    from rmtfp.spectrum.arb_tails import _envelope, _range_on_tail

    phi = ENVELOPE_CASES[name]
    d = sp.diff(phi, X)
    x0 = mpmath.mpf(x0)
    for F in (d**2, phi**2, phi * d):
        f = sp.lambdify(X, F, "mpmath")
        for sign in (1, -1):
            S, c, N = _envelope(F, sign, x0)
            lo, hi = _range_on_tail(F, sign, x0)  # the range of m_K's tails (F = phi'^2)
            assert mpmath.isfinite(S), (name, F, sign)  # each of these has a proven envelope
            with mpmath.workdps(60):
                for x in list(mpmath.linspace(x0, 100, 96)) + [x0 * 10 ** (k / 8) for k in range(33)]:
                    bound = S * x**N * mpmath.exp(mpmath.mpf(sp.Rational(c).p) / sp.Rational(c).q * x * x)
                    # 1e-50: the 60-digit rounding of F (sup |F| = 1 is attained in the limit for softplus)
                    v, tol = f(sign * x), mpmath.mpf(10) ** -50 * (1 + abs(f(sign * x)))
                    assert abs(v) <= bound * (1 + mpmath.mpf(10) ** -50), (name, F, sign, x)
                    assert lo - tol <= v <= hi + tol, (name, F, sign, x, lo, hi)


def test_bump_beyond_the_grid_is_in_the_proven_range():
    """phi = x + 10 erf(x - 80): phi'^2 peaks at (1 + 20/sqrt(pi))^2 = 151.8 at x = 80, outside the grid [-60, 60]
    whose maximum (~1) the old tail bound took (times 1.01); the proven range of D^2 on the tails contains the peak."""
    act = Activation("bump", ENVELOPE_CASES["bump"])
    assert act.d2_max < 1.5
    with workprec(64):
        _, _, lo, hi = ArbLaw(act, 4.0)._tail_info()  # tails |x| >= 2 R = 24
    assert hi >= (1 + 20 / math.sqrt(math.pi)) ** 2 and lo >= 0


def _expressions():
    """Random sympy expressions in x over the functions the interval evaluator knows."""
    from hypothesis import strategies as st

    leaves = st.sampled_from([X, X, sp.Integer(2), sp.Rational(-3, 7), sp.pi, -X])
    unary = [sp.exp, lambda e: sp.exp(-e), sp.tanh, sp.erf, sp.atan, sp.sin, sp.cos, sp.erfc, sp.sinh, sp.cosh,
             lambda e: sp.log(1 + e**2), lambda e: sp.sqrt(1 + e**2), lambda e: 1 / (1 + sp.exp(-e)),
             lambda e: sp.log(1 + sp.exp(e))]
    return st.recursive(leaves, lambda ch: st.one_of(
        st.tuples(st.sampled_from(unary), ch).map(lambda t: t[0](t[1])),
        st.tuples(ch, ch).map(lambda t: t[0] + t[1]), st.tuples(ch, ch).map(lambda t: t[0] * t[1]),
        st.tuples(ch, st.integers(-3, 3)).map(lambda t: t[0] ** t[1] if t[1] >= 0 else 1 / (1 + t[0] ** 2))),
        max_leaves=6)


def test_interval_ranges_contain_sampled_values():
    """_range_on_tail (every rewriting, box splitting and monotone rule) against random expressions evaluated in
    Arb balls (an independent route: compile_arb) on [x0, 10^6 x0], on both sides: any unsound rule fails here.
    Derandomized: the same 150 expressions on every run."""
    from hypothesis import given, settings, strategies as st

    from rmtfp.spectrum.arb_common import compile_arb
    from rmtfp.spectrum.arb_tails import _mpf_to_arb, _range_on_tail

    @settings(max_examples=150, deadline=None, derandomize=True)
    @given(F=_expressions(), x0=st.sampled_from([0.05, 1.0, 7.5]), sign=st.sampled_from([1, -1]))
    def check(F, x0, sign):
        lo, hi = _range_on_tail(F, sign, mpmath.mpf(x0))
        f = compile_arb(F, (X,))
        with workprec(128):
            lo_b, hi_b = _mpf_to_arb(lo), _mpf_to_arb(hi)
            for k in range(25):
                v = f(flint.arb(sign * x0) * flint.arb(10) ** (flint.arb(k) / 4))
                if isinstance(v, flint.acb):
                    v = v.real  # F is real where the interval evaluation applies (log, sqrt of positives)
                if not v.is_finite():
                    continue
                # the ball of F(x) must meet [lo, hi] (Arb's radius covers its rounding)
                assert not (v < lo_b) and not (v > hi_b), (F, sign, x0, k, v, lo, hi)
    check()


@pytest.mark.parametrize("name,sw2,sb2", [("tanh", 0.5, 1e-8), ("tanh", 100.0, 1.0), ("sigmoid", 100.0, 1.0)])
def test_q_star_ball_at_extreme_variances(name, sw2, sb2):
    """q* = 2e-8 (the tails start at |x| = R sqrt(q) ~ 2e-3: the boxes near 0) and q* = 93 or 45 (|x| >= 100):
    the 140-bit ball contains the 50-digit quadrature fixed point."""
    act = get(name)
    ref = _q_star_ref(act, sw2, sb2, act.q_star(sw2, sb2))
    with workprec(140):
        qb = q_star_arb(act, flint.arb(sw2), flint.arb(sb2), float(ref))
    assert qb is not None and float(qb.rad()) < 1e-35 * float(ref)  # 140 bits ~ 1e-42, 7 digits of margin
    assert _inside(qb, ref)
