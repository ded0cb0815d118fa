"""The python-flint (Arb) route: m_K and q* in ball arithmetic, and dps= agreeing with the mpmath route.

Skipped as a whole only when python-flint (the ``rmtfp[flint]`` extra) is not installed.
"""

import mpmath
import numpy as np
import pytest

flint = pytest.importorskip("flint", reason="python-flint (the rmtfp[flint] extra) is not installed")

from rmtfp import density, fuss_catalan_density  # noqa: E402
from rmtfp.spectrum import Status  # noqa: E402
from rmtfp.activations import available, get  # noqa: E402
from rmtfp.spectrum.arb import ArbLaw, q_star_arb, to_mpmath, workprec  # noqa: E402

# (activation, sigma_w2, sigma_b2, q) for every built-in; q=None: q* from (sigma_w2, sigma_b2) or not needed
CASES = {
    "linear": (1.0, 0.0, None),
    "relu": (2.0, 0.0, None),
    "hardtanh": (1.5, 0.1, None),
    "erf": (1.5, 0.1, None),
    "tanh": (1.5, 0.1, 0.75),
    "sigmoid": (4.0, 0.1, 0.5),
}


def test_every_builtin_has_a_case():
    assert set(available()) <= set(CASES), "add a case for the new built-in activation"


@pytest.mark.parametrize("name", sorted(CASES))
def test_mgf_ball_contains_mpmath_value(name):
    """A(u) = 1 + m_K(u), B = m_K(u), B' = m_K'(u) in Arb contain the 40-digit mpmath values (off the cut)."""
    act = get(name)
    sw2, sb2, q = CASES[name]
    q = 0.75 if q is None else q
    us = [0.3 - 0.2j, 2.5 - 1.0j, -4.0 - 0.5j]
    with workprec(160):
        law = ArbLaw(act, q if act.depends_on_q else None)
        for u in us:
            A, B, dB, Bu = law.evaluate(flint.acb(u))
            m, dm = act.mgf_d2(u, q=q, dps=40, derivative=True)
            with mpmath.workdps(40):
                for ball, ref in ((B, m), (A, 1 + m), (dB, dm), (Bu, m / u)):
                    assert ball.is_finite()
                    # the mpmath values are good to ~1e-38 (40 digits); the balls to their radius
                    err = abs(to_mpmath(ball) - ref)
                    rad = mpmath.mpf(float(max(ball.real.rad(), ball.imag.rad())))
                    assert err <= 2 * rad + mpmath.mpf(10) ** -35 * (1 + abs(ref)), (name, u, ball, ref)


@pytest.mark.parametrize("name", ["hardtanh", "erf", "tanh"])
def test_q_star_ball_contains_mpmath_fixed_point(name):
    act = get(name)
    sw2, sb2 = 1.5, 0.1
    ref = act.q_star(sw2, sb2, dps=40)
    with workprec(140):
        qb = q_star_arb(act, flint.arb(sw2), flint.arb(sb2), act.q_star(sw2, sb2))
    assert qb is not None
    with mpmath.workdps(40):
        # interval Newton proves a unique fixed point in the ball; mpmath's value is good to ~1e-38
        assert abs(to_mpmath(qb) - ref) <= mpmath.mpf(float(qb.rad())) + mpmath.mpf(10) ** -35
        assert float(qb.rad()) < 1e-30


@pytest.mark.parametrize("name", sorted(CASES))
def test_flint_dps_agrees_with_mpmath_dps(name):
    """dps=30 by the two routes, to the digits asked for (30 digits + guard each; 1e-27 relative leaves room
    for the conditioning of the root, ~|1/G'| <= 1e2 here)."""
    sw2, sb2, q = CASES[name]
    lam = [0.05, 0.7, 2.0] if get(name).d2_structure.kind != "generic" else [0.3]
    depth = 2
    a = density(lam, name, depth, sigma_w2=sw2, sigma_b2=sb2, q=q, dps=30, backend="flint")
    b = density(lam, name, depth, sigma_w2=sw2, sigma_b2=sb2, q=q, dps=30, backend="mpmath")
    assert a.params["backend"] == "flint"
    assert a.converged and b.converged
    with mpmath.workdps(30):
        for x, y in zip(a.density, b.density):
            assert isinstance(x, mpmath.mpf)
            assert abs(x - y) <= mpmath.mpf(10) ** -27 * abs(y), (name, x, y)


def test_dps_defaults_to_flint_for_closed_forms_and_mpmath_for_generic():
    assert density([0.5], "relu", 2, sigma_w2=2.0, dps=20).params["backend"] == "flint"
    assert "backend" not in density([0.5], "tanh", 2, sigma_w2=1.5, q=0.7, dps=20).params
    assert "backend" not in density([0.5], "relu", 2, sigma_w2=2.0, dps=20, backend="mpmath").params


def test_flint_dps_at_depth_where_float64_underflows():
    """ReLU L = 25, sigma_w2 = 2, lambda = 0.01: 1.3436817546864... (an independent mpmath root tracking of
    z w = s (1+w)(c+w)^L); the flint route follows its own path where the float64 start is lost."""
    res = density([0.01], "relu", 25, sigma_w2=2.0, dps=30, backend="flint")
    assert res.converged
    assert abs(float(res.density[0]) - 1.3436817546864) < 1e-12  # the reference carries 14 digits


def test_flint_rejects_what_it_does_not_solve():
    with pytest.raises(ValueError, match="backend"):
        density([0.5], "relu", 2, dps=20, backend="arb")
    with pytest.raises(ValueError, match="method"):
        density([0.5], "relu", 2, dps=20, backend="flint", method="iteration")
    with pytest.raises(ValueError, match="per-layer"):
        density([0.5], "hardtanh", 2, q=[0.5, 0.6], backend="flint")


def _within_certified(dps, digits_off, **route):
    """hard-tanh L = 5 at q* (solved at dps digits; enclosed by interval Newton for certify): the values of
    ``route`` lie in the certified enclosure, widened by 10^-(dps - digits_off) relative."""
    kw = dict(sigma_w2=1.5, sigma_b2=0.1)
    lam = [0.5, 3.0]
    a = density(lam, "hardtanh", 5, dps=dps, **route, **kw)
    c = density(lam, "hardtanh", 5, dps=dps, certify=True, **kw)
    assert a.converged and c.converged
    with mpmath.workdps(dps):
        for x, lo, hi in zip(a.density, c.lower, c.upper):
            slack = mpmath.mpf(10) ** (digits_off - dps) * x
            assert lo - slack <= x <= hi + slack
            # the enclosure is as narrow as the digits asked for
            assert hi - lo <= mpmath.mpf(10) ** (2 - dps) * x


@pytest.mark.parametrize("dps", [15, 1000])
def test_dps_extremes_flint_within_certified(dps):
    _within_certified(dps, 1, backend="flint")  # x is rounded to dps digits


@pytest.mark.parametrize("dps", [15, 1000])
def test_dps_extremes_mpmath_within_certified(dps):
    _within_certified(dps, 3, backend="mpmath")  # 10^-(dps-3): the mpmath route's rounding and conditioning


@pytest.mark.parametrize("act", ["hardtanh", "erf", "tanh"])
def test_q_star_zero_is_the_linear_law(act):
    """sigma_w2 = 1, sigma_b2 = 0: q* = 0, D^2 = phi'(0)^2 = 1 surely, so J J^T has the linear (Fuss-Catalan) law;
    the Arb route and the certified enclosures must give it, not NaN from c = erf(1/sqrt(2q)) at q = 0."""
    lam = [1e-200, 0.5, 2.0]
    L = 2
    exact = fuss_catalan_density(lam, L, dps=30)
    r = density(lam, act, L, sigma_w2=1.0, sigma_b2=0.0, dps=30, backend="flint")
    c = density(lam, act, L, sigma_w2=1.0, sigma_b2=0.0, certify=True)
    assert r.converged and c.converged and np.all(c.status == Status.CERTIFIED)
    with mpmath.workdps(30):
        for x, e in zip(r.density, exact):
            assert abs(x - e) <= mpmath.mpf(10) ** -27 * e  # 30 digits, 3 for rounding and conditioning
    for lo, hi, e in zip(c.lower, c.upper, exact):
        assert lo <= float(e) * (1 + 1e-15) and float(e) * (1 - 1e-15) <= hi  # float(e) rounds by 1 ulp


def test_flint_erf_at_tiny_lambda_takes_the_mpmath_route_there():
    """erf at lambda = 1e-40 (x = A u ~ 1e15, beyond the fast Lerch route, where acb.lerch_phi gives ~20 digits):
    the flint route solves that point by the mpmath route (and says so in params), the other by Arb; both
    agree with backend='mpmath' to the digits asked."""
    kw = dict(sigma_w2=1.5, sigma_b2=0.1)
    lam = [1e-40, 0.5]
    a = density(lam, "erf", 2, dps=30, backend="flint", **kw)
    b = density(lam, "erf", 2, dps=30, backend="mpmath", **kw)
    assert a.converged and b.converged
    assert a.params["mpmath_points"] == [0]
    with mpmath.workdps(30):
        for x, y in zip(a.density, b.density):
            assert abs(x - y) <= abs(y) * mpmath.mpf(10) ** -27  # as test_flint_dps_agrees_with_mpmath_dps
