"""The centred enclosure of dG/d ell on Krawczyk balls (ScaledEquation.dG_ball) and the second derivatives behind it.

dG_ball(X) must contain G'(y) at every point y of the ball X (checked at the corners, edge midpoints and random
points of the square against the point evaluation G(y)[1]), for every kind of law; for erf-type laws (centred
form) it must be first-order tight (radius ~ |G''| r), which a wrong G'' cannot give together with the containment.
"""

import cmath
import math

import numpy as np
import pytest

pytest.importorskip("flint", reason="python-flint (the rmtfp[flint] extra) is not installed")

from flint import acb, arb  # noqa: E402

from rmtfp.spectrum.arb import workprec  # noqa: E402
from rmtfp.spectrum.certify import ScaledEquation, _vertical  # noqa: E402
from rmtfp.spectrum.density import resolve_parameters  # noqa: E402
from rmtfp.spectrum.flint_density import _law  # noqa: E402

CASES = [("erf", 1, dict(sigma_w2=1.5, sigma_b2=0.1), (1e-3, 0.5, 2.5)),
         ("erf", 3, dict(sigma_w2=1.5, sigma_b2=0.1), (1e-3, 0.5, 2.0, 7.0)),
         ("erf", 10, dict(sigma_w2=1.5, sigma_b2=0.1), (1e-3, 1.0, 30.0)),
         ("erf", 2, dict(sigma_w2=0.6, sigma_b2=0.001), (0.3, 1.0)),  # q* ~ 0.0025: a ~ 130
         ("relu", 3, dict(sigma_w2=2.0), (1e-3, 1.0, 5.0)),
         ("hardtanh", 3, dict(sigma_w2=1.5, sigma_b2=0.1), (0.01, 0.5, 3.0)),
         ("linear", 2, dict(sigma_w2=1.0), (0.1, 2.0))]


def _equation(act, L, kw):
    a, depth, sw2, q, sb2, qs = resolve_parameters(act, L, kw.get("sigma_w2", 1.0), None, kw.get("sigma_b2", 0.0))
    law = _law(a, q, None, sw2, sb2, qs)
    return ScaledEquation(law, depth, arb(sw2))


def _square(c: complex, r: float, n_random: int = 6):
    rng = np.random.default_rng(11)
    s = 0.999 * r  # inside the ball after the rounding of the corners
    pts = [c + complex(i * s, j * s) for i in (-1, 0, 1) for j in (-1, 0, 1)]
    return pts + [c + complex(*rng.uniform(-s, s, 2)) for _ in range(n_random)]


def _roots(eq, lams):
    m1, m2 = eq.moments()
    out = []
    for lam in lams:
        ell, _, _ = _vertical(eq, float(lam), False, m1, m2)
        assert ell is not None, lam
        out.append((lam, ell))
    return out


@pytest.mark.parametrize("act, L, kw, lams", CASES)
@pytest.mark.parametrize("r", [1e-4, 1e-2, 5e-2])
def test_dG_ball_contains_G_prime_at_points_of_the_ball(act, L, kw, lams, r):
    with workprec(64):
        eq = _equation(act, L, kw)
        for lam, ell in _roots(eq, lams):
            c = complex(ell.mid())
            X = acb(c) + acb(arb(0, r), arb(0, r))
            dgc = eq.G(acb(c), acb(lam))[1]
            dgx = eq.dG_ball(X, acb(c), dgc)
            if not dgx.is_finite():
                continue  # no enclosure: the Krawczyk test fails (never a wrong one)
            for y in _square(c, r):
                assert dgx.contains(eq.G(acb(y), acb(lam))[1]), (act, L, lam, r, y)


# erf-type laws only (discrete laws keep the direct form: their pieces are not limited by it); not at a ~ 130
# (small q*): these points lie beyond the fast Lerch route (its log region shrinks to |log x| <= 0.17), where
# acb.lerch_phi on a ball is not first-order tight
@pytest.mark.parametrize("act, L, kw, lams", [c for c in CASES if c[0] == "erf" and c[2].get("sigma_w2") != 0.6])
def test_dG_ball_is_first_order_tight(act, L, kw, lams):
    """At r = 1e-5 the radius is at most that of G'(c) at the point (the rounding, and the radius of q* carried through
    the cancellation of the log expansion at large a) plus 3 |G''(c)| r sqrt(2): sqrt(2) the corner of the square,
    up to sqrt(2) from the product of the rectangles G''(X) (X - c), the rest for second-order terms.  G''(c) by a
    central difference of G' at 128 bits (step 1e-12: truncation ~1e-24, rounding ~1e-26, far below |G''| ~ 0.01-1
    here).  The direct evaluation on X is 5-15 times wider than this bound for erf."""
    r = 1e-5
    with workprec(64):
        eq = _equation(act, L, kw)
        roots = _roots(eq, lams)
    for lam, ell in roots:
        c = complex(ell.mid())
        with workprec(128):
            eq128 = _equation(act, L, kw)
            h = 1e-12
            g2 = (eq128.G(acb(c + h), acb(lam))[1] - eq128.G(acb(c - h), acb(lam))[1]) / (2 * h)
            g2 = abs(complex(g2.mid()))
        with workprec(64):
            X = acb(c) + acb(arb(0, r), arb(0, r))
            dgc = eq.G(acb(c), acb(lam))[1]
            dgx = eq.dG_ball(X, acb(c), dgc)
            rad = float(max(dgx.real.rad(), dgx.imag.rad()))
            assert rad <= float(max(dgc.real.rad(), dgc.imag.rad())) + 3 * g2 * r * math.sqrt(2), (act, L, lam, rad, g2)


@pytest.mark.parametrize("act, L, kw, lams", CASES)
def test_second_derivative_of_B_against_a_difference_quotient(act, L, kw, lams):
    """u B''(u) from evaluate(second=True) against u (B'(u + h) - B'(u - h)) / (2 h) at 128 bits (h = 1e-12 |u|)."""
    with workprec(64):
        eq = _equation(act, L, kw)
        roots = _roots(eq, lams)
    with workprec(128):
        law = _equation(act, L, kw).law
        for lam, ell in roots:
            u = acb(cmath.exp(complex(ell.mid())))
            h = 1e-12 * abs(complex(u.mid()))
            uddB = law.evaluate(u, second=True)[4]
            fd = u * (law.evaluate(u + h)[2] - law.evaluate(u - h)[2]) / (2 * h)
            ref = complex(fd.mid())
            assert abs(complex(uddB.mid()) - ref) <= 1e-9 * (1 + abs(ref)), (act, L, lam)  # difference error ~1e-20


def test_generic_law_has_no_second_derivative_and_keeps_the_direct_enclosure():
    """tanh (integrated law): evaluate(second=True) gives None for u B''; dG_ball is the direct enclosure."""
    with workprec(64):
        eq = _equation("tanh", 2, dict(sigma_w2=1.5, sigma_b2=0.1))
        u = acb(0.3 - 0.2j)
        assert eq.law.evaluate(u, second=True)[4] is None
        (lam, ell), = _roots(eq, [0.5])
        c = complex(ell.mid())
        r = 1e-3
        X = acb(c) + acb(arb(0, r), arb(0, r))
        dgx = eq.dG_ball(X, acb(c), eq.G(acb(c), acb(lam))[1])
        assert dgx.is_finite()
        for y in _square(c, r, n_random=0):
            assert dgx.contains(eq.G(acb(y), acb(lam))[1])


@pytest.mark.parametrize("L", [1, 3, 10])
def test_certified_erf_balls_hold_mpmath_at_50_digits(L):
    """erf (sigma_w2 = 1.5, sigma_b2 = 0.1) at lambda = 1e-3 and 0.6 lambda_max: every point certified, the ball
    holds the mpmath route at 50 digits (mpmath.lerchphi, an independent Lerch implementation), and it is narrow
    (relative width <= 1e-12: the 64-bit proof with its guard bits gives ~1e-15)."""
    import mpmath

    from rmtfp import Status, density, support

    kw = dict(sigma_w2=1.5, sigma_b2=0.1)
    lam = [1e-3, 0.6 * support("erf", L, **kw).lambda_max]
    cert = density(lam, "erf", L, certify=True, **kw)
    ref = density(lam, "erf", L, dps=50, backend="mpmath", **kw)
    assert np.all(cert.status == Status.CERTIFIED) and ref.converged
    with mpmath.workdps(50):
        for lo, hi, y in zip(cert.lower, cert.upper, ref.density):
            assert mpmath.mpf(lo) <= y <= mpmath.mpf(hi), (L, lo, y, hi)
            assert hi - lo <= 1e-12 * hi
