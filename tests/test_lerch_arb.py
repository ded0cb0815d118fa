"""The fast Lerch transcendent in Arb (rmtfp.spectrum.lerch_arb) against Arb's own and mpmath's.

Every value is a ball: a correct ball contains Arb's ``acb.lerch_phi`` (an
independent algorithm: series plus integration), so ``overlaps`` must hold
at every point; the accuracy asked is the working precision less the bits
the expansion can lose (module doc of rmtfp.spectrum.lerch_arb).
"""

import cmath
import math

import mpmath
import numpy as np
import pytest

flint = pytest.importorskip("flint")
from flint import acb, arb  # noqa: E402

from rmtfp.spectrum.arb import workprec  # noqa: E402
from rmtfp.spectrum.lerch_arb import DIRECT_RADIUS, LerchHalf, lerch_half_arb  # noqa: E402

HALF = arb(1) / 2


def _ref(x, s, a):
    return acb.lerch_phi(x, acb(s), acb(a))


def _points(rng, n):
    """x across both regions: |x| from e^-5 to e^5, every argument (the cut [1, inf) excluded)."""
    pts = []
    for _ in range(n):
        r = math.exp(rng.uniform(-5, 5))
        th = rng.uniform(-math.pi, math.pi)
        pts.append(cmath.rect(r, th))
    return pts


@pytest.mark.parametrize("a1_str, prec", [("0.558754", 64), ("0.558754", 240), ("1e-7", 128),
                                          ("2.7", 200), ("26.3", 128)])
def test_values_contain_arb_lerch_phi(a1_str, prec):
    rng = np.random.default_rng(7)
    with workprec(prec):
        a1 = arb(a1_str)  # a - 1, given as such: a close to 1 keeps the relative accuracy of a - 1
        a = 1 + a1
        L = LerchHalf(None, prec, a_minus_1=a1)
        fast = 0
        # random points, and points inside the log region whatever its radius (it shrinks for large a)
        inner = [cmath.exp(0.9 * L.rho * cmath.exp(1j * th)) for th in (-2.5, -1.5, -0.5, 0.5, 1.5, 2.5)]
        for z in _points(rng, 24) + inner:
            x = acb(z)
            got = L.values(x)
            m1 = L.value_m1(x)
            w = abs(cmath.log(z))
            inside = abs(z) <= DIRECT_RADIUS or (w <= L.rho and not (abs(z.imag) < 1e-300 and z.real <= 0))
            assert (got is not None) == inside, z
            if got is None:
                assert m1 is None
                continue
            fast += 1
            refs = (_ref(x, HALF, a), _ref(x, -HALF, a), _ref(x, HALF, a1))
            for g, r in zip((*got, m1), refs):
                assert g.overlaps(r), (z, g, r)
                # bits that may be lost: 20 guard bits, plus in the log region log2 of the factor e^{-a w} against
                # terms of size up to e^{a |w|} (at most 2 a |w| log2(e))
                lost = 20 + (0 if abs(z) <= DIRECT_RADIUS else 2 * 1.4427 * float(a.mid()) * w)
                assert g.rel_accuracy_bits() >= prec - lost, (z, g)
        assert fast >= 12  # both regions were exercised


def test_against_mpmath_at_100_digits():
    """An independent implementation (mpmath.lerchphi) agrees to the digits asked (relative 1e-95)."""
    with workprec(350):
        a = arb("1.25")
        L = LerchHalf(a, 350)
        with mpmath.workdps(110):
            for z in (0.3 - 0.1j, 0.8 + 0.5j, 3 - 2j, -2.5 + 0.1j, 0.999, 1.0 + 1e-8j):
                v = L.values(acb(z))
                for val, s in zip(v, (mpmath.mpf(1) / 2, -mpmath.mpf(1) / 2)):
                    ref = mpmath.lerchphi(mpmath.mpc(z), s, mpmath.mpf("1.25"))
                    mid = mpmath.mpc(mpmath.mpf(val.real.mid().str(110, radius=False)),
                                     mpmath.mpf(val.imag.mid().str(110, radius=False)))
                    assert abs(mid - ref) <= abs(ref) * mpmath.mpf(10) ** -95, (z, s)


@pytest.mark.parametrize("prec", [200, 300])  # rho = 5.5 (up to 256 bits) and 4.5
def test_near_the_cut_and_region_edges(prec):
    """Both sides of the cut [1, inf) (limits differ by the jump), x near 1, and the edges of the two regions."""
    with workprec(prec):
        a = arb("1.6")
        L = LerchHalf(a, prec)
        # x = e^{3i} (|log x| = 3) and |log x| = 0.98 rho with Im log x = 3.1, next to the negative axis
        edge = cmath.exp(complex(math.sqrt((0.98 * L.rho) ** 2 - 3.1 ** 2), 3.1))
        for z in (2 + 1e-30j, 2 - 1e-30j, 1 + 1e-12j, 0.999999, 0.5, -0.5, 0.5j, cmath.exp(3j), edge):
            x = acb(z)
            got = L.values(x)
            assert got is not None, z
            for g, s in zip(got, (HALF, -HALF)):
                assert g.overlaps(_ref(x, s, a)), z
                assert g.rel_accuracy_bits() >= prec - 20 - 2 * 1.4427 * 1.6 * L.rho, z  # as in the first test
        # above and below the cut: Im Phi has opposite signs
        up, dn = L.values(acb(2 + 1e-30j))[0], L.values(acb(2 - 1e-30j))[0]
        assert up.imag > 0 and dn.imag < 0
        # on the cut, on the negative axis beyond 1/2 and beyond RHO: not served (None), never a wrong ball
        for z in (2.0, -0.7, cmath.exp(complex(L.rho * 1.01, 0.5))):
            assert L.values(acb(z)) is None and L.value_m1(acb(z)) is None


def test_wide_ball_of_x_is_enclosed():
    """A ball of x (the certified route evaluates on segments): the result contains Phi at points of the ball."""
    with workprec(64):
        a = arb("1.558754")
        L = LerchHalf(a, 64)
        for z in (0.3 + 0.1j, 2.0 - 1.5j):
            x = acb(arb(z.real, 1e-6), arb(z.imag, 1e-6))
            got = L.values(x)
            for dz in (0, 1e-6, -1e-6j, 0.7e-6 + 0.7e-6j):
                ref = _ref(acb(z + dz), HALF, a)
                assert got[0].overlaps(ref)


def _ball(z: complex, r: float):
    return acb(arb(z.real, r), arb(z.imag, r))


def _ball_points(z: complex, r: float):
    """The centre, the corners and edge midpoints (pulled in by 1e-3 relative), and 8 random points of the square."""
    if r == 0:
        return [z]
    rng = np.random.default_rng(3)
    s = 0.999 * r
    pts = [z] + [z + complex(i * s, j * s) for i in (-1, 0, 1) for j in (-1, 0, 1) if i or j]
    return pts + [z + complex(*rng.uniform(-s, s, 2)) for _ in range(8)]


# centres in the direct region (|x| <= 1/2) and in the log region, next to the negative axis and near x = 1
_CENTRES = (0.3 + 0.1j, -0.4 - 0.2j, -0.49 - 0.52j, -1.66 - 1.18j, -3.7 - 2.45j, 0.21 - 0.46j, 2.0 - 1.5j,
            1.1 + 0.05j, 0.8 - 0.3j, -6.0 - 0.5j)


@pytest.mark.parametrize("a1_str, prec", [("0.558754", 64), ("2.7", 64), ("0.558754", 200), ("26.3", 128)])
@pytest.mark.parametrize("rel", [0.0, 1e-4, 1e-2])
def test_centred_form_on_wide_balls_contains_every_point(a1_str, prec, rel):
    """The centred form on a wide ball X (the certified route's Krawczyk balls): Phi(y, +-1/2, a),
    Phi(y, 1/2, a - 1) and Phi(y, -3/2, a) (values2, for second derivatives) by Arb's own acb.lerch_phi at points y
    of X (corners, edges, random; rel = 0: the point itself) lie in the balls."""
    with workprec(prec):
        a1 = arb(a1_str)
        L = LerchHalf(None, prec, a_minus_1=a1)
        served = 0
        for z in _CENTRES:
            r = rel * abs(z)
            X = _ball(z, r)
            got = L.values(X)
            if got is None:
                continue  # beyond the fast regions (large a: small log region)
            served += 1
            m1 = L.value_m1(X)
            got2 = L.values2(X)
            for g, g2 in zip(got, got2):  # the same balls: same midpoints and radii
                assert g.mid() == g2.mid() and g.real.rad() == g2.real.rad() and g.imag.rad() == g2.imag.rad()
            for y in _ball_points(z, r):
                refs = (_ref(acb(y), HALF, 1 + a1), _ref(acb(y), -HALF, 1 + a1), _ref(acb(y), HALF, a1),
                        _ref(acb(y), -3 * HALF, 1 + a1))
                for g, ref in zip((*got, m1, got2[2]), refs):
                    assert g.overlaps(ref) if r == 0 else g.contains(ref), (z, y, g, ref)
        assert served >= 4


@pytest.mark.parametrize("z", _CENTRES)
def test_centred_form_is_first_order_tight(z):
    """At a small ball (radius 1e-5 |x|) the radius of the values is that of the exact image to first order:
    at most 3 |dPhi/dx(x)| r sqrt(2) (sqrt(2) the corner of the square; a factor up to sqrt(2) from the product
    of the rectangles dPhi(X) (X - x_c), and 1.5 for the map to w = log x and the second-order terms).
    Horner on the ball instead gives 5-50 times that here (the terms of the log expansion cancel)."""
    with workprec(64):
        a1 = arb("0.558754")
        L = LerchHalf(None, 64, a_minus_1=a1)
        r = 1e-5 * abs(z)
        got = L.values(_ball(z, r))
        m1 = L.value_m1(_ball(z, r))
        # dPhi(x, s, a)/dx = (Phi(x, s - 1, a) - a Phi(x, s, a)) / x, at the centre by Arb
        x, a = acb(z), 1 + a1
        p_h, p_mh = _ref(x, HALF, a), _ref(x, -HALF, a)
        derivs = ((p_mh - a * p_h) / x, (_ref(x, -3 * HALF, a) - a * p_mh) / x,
                  (_ref(x, -HALF, a1) - a1 * _ref(x, HALF, a1)) / x)
        for g, dphi in zip((*got, m1), derivs):
            rad = float(max(g.real.rad(), g.imag.rad()))
            assert rad <= 3 * abs(complex(dphi.mid())) * r * math.sqrt(2), (z, g, dphi)


def test_a_ball_and_cache():
    """a may be a ball (q* enclosed); the cache returns one object per (a, precision step)."""
    with workprec(100):
        a = arb("1.558754", 1e-20)
        L1 = lerch_half_arb(a - 1, 100)
        L2 = lerch_half_arb(a - 1, 120)
        assert L1 is L2 and L1.prec >= 120
        v = L1.values(acb(1.5 - 1j))[0]
        assert v.overlaps(_ref(acb(1.5 - 1j), HALF, arb("1.558754")))
        assert v.rad() > 1e-25  # the radius of a is carried


@pytest.mark.parametrize("a", [1.0, 0.5, -2.0])
def test_a_not_above_one_is_refused(a):
    with pytest.raises(ValueError, match="a must be > 1"):
        LerchHalf(arb(a), 64)


def test_direct_series_at_1000_digits():
    """dps = 1000 (3400 bits): the defining series alone (the log expansion is not built for |x| <= 1/2)."""
    with workprec(3400):
        a1 = arb("0.558754")
        L = LerchHalf(None, 3400, a_minus_1=a1)
        for z in (0.3 + 0.2j, -0.45, 0.49j):
            got = L.values(acb(z))
            for g, s in zip(got, (HALF, -HALF)):
                assert g.overlaps(_ref(acb(z), s, 1 + a1))
                assert g.rel_accuracy_bits() >= 3400 - 20  # guard bits only: the series has no cancellation here
        assert not L._log_ready


@pytest.mark.slow
def test_erf_density_dps_100_by_the_fast_route_against_mpmath():
    """erf, L = 3, 100 digits, at lambda where x = A u lies in each region (|x| > 1/2 at the small lambda):
    the flint route (fast Lerch) and the mpmath route (mpmath.lerchphi) agree to 1e-95 relative."""
    from rmtfp import density

    kw = dict(sigma_w2=1.5, sigma_b2=0.1)
    lam = [1e-3, 1.0, 6.0]
    a = density(lam, "erf", 3, dps=100, backend="flint", **kw)
    b = density(lam, "erf", 3, dps=100, backend="mpmath", **kw)
    assert a.converged and b.converged
    with mpmath.workdps(100):
        for x, y in zip(a.density, b.density):
            # 100 digits asked of each route (+10 guard digits); the root's conditioning costs < 5 digits here
            assert abs(x - y) <= abs(y) * mpmath.mpf(10) ** -95


@pytest.mark.parametrize("prec", [64, 300])
def test_every_truncation_radius_at_its_edges(prec):
    """The log expansion is cut at fewer terms for smaller |log x| (radii 1.5, 3, 4.5 and rho): just inside and
    just outside each radius the value (from that piece or the next) contains Arb's own."""
    with workprec(prec):
        a1 = arb("0.558754")
        L = LerchHalf(None, prec, a_minus_1=a1)
        L._ensure_log()
        radii = [p[0] for p in L._pieces]
        assert radii == sorted(radii) and radii[-1] == L.rho and len(radii) >= 3
        assert [p[1] for p in L._pieces] == sorted(p[1] for p in L._pieces)  # fewer terms for smaller radii
        for r in radii:
            for f in (0.999, 1.001):
                w = f * r * cmath.exp(-0.55j)  # Im w = -0.52 f r > -pi for r <= 5.5
                x = acb(cmath.exp(w))
                got = L.values2(x)  # with Phi(x, -3/2, a): the truncation bound of F'' at the same radii
                if f * r > L.rho or abs(x.mid()) <= DIRECT_RADIUS:
                    continue
                for g, s in zip(got, (HALF, -HALF, -3 * HALF)):
                    assert g.overlaps(_ref(x, s, 1 + a1)), (r, f, s)
                    assert g.rel_accuracy_bits() >= prec - 20 - 2 * 1.4427 * 1.56 * r  # as in the first test


def test_large_a_shrinks_the_log_region_and_keeps_the_digits():
    """a ~ 100 (small q*: erf at sigma_w2 = 0.6, sigma_b2 = 0.001): e^{-a w} against terms e^{a |w|} would cost
    ~2 a |w| log2(e) bits, so the log region shrinks to a loss of at most 64 bits, evaluated with those bits as
    guard: the values keep the working precision (20 guard bits) and contain Arb's own.  a is exact here (a ball
    of a is widened by the same factor: ball arithmetic does not see the cancellation)."""
    with workprec(128):
        a1 = arb(100.625)  # exact in binary
        L = LerchHalf(None, 128, a_minus_1=a1)
        assert L.rho <= 64 / (2 * math.log2(math.e) * 101.625) * (1 + 1e-12)
        for z in (cmath.exp(0.9 * L.rho * cmath.exp(1j * th)) for th in (-2.0, 0.0001, 2.0)):
            got = L.values(acb(z))
            assert got is not None
            for g, s in zip(got, (HALF, -HALF)):
                assert g.overlaps(_ref(acb(z), s, 1 + a1))
                assert g.rel_accuracy_bits() >= 128 - 20
        assert L.values(acb(cmath.exp(1.2 * L.rho * 1j))) is None  # beyond: acb.lerch_phi


def test_erf_flint_at_small_q_star_agrees_with_mpmath():
    """erf at q* = 0.0025 (a = 1 + 1/(4 q*) ~ 101): the flint route converges and agrees with the mpmath route."""
    from rmtfp import density

    kw = dict(sigma_w2=0.6, sigma_b2=0.001)
    a = density([0.3, 1.0], "erf", 2, dps=30, backend="flint", **kw)
    b = density([0.3, 1.0], "erf", 2, dps=30, backend="mpmath", **kw)
    assert a.converged and b.converged
    with mpmath.workdps(30):
        for x, y in zip(a.density, b.density):
            assert abs(x - y) <= abs(y) * mpmath.mpf(10) ** -27  # as test_flint_dps_agrees_with_mpmath_dps
