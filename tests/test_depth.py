"""Any depth, any lambda: the density is right or its status says it is not.

Depths 1..1000 for every built-in activation, lambda from 1e-300 to past
lambda_max, each checked against a route that a wrong root would not pass:
mass conservation and m_1 = chi^L integrated from the density itself (on a
logarithmic grid that reaches the mass near 0, which for deep networks lies
hundreds of decades below lambda_max), float64 against ``dps=40``, the
two-point laws against an independent mpmath root tracking of their
polynomial, and Fuss-Catalan against its closed form down to 1e-300.
"""

import math

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize

from rmtfp import ConvergenceError, Status, density, fuss_catalan_density, fuss_catalan_lambda_max, support
from rmtfp.activations import get
from rmtfp.spectrum.equation import Equation
from rmtfp.spectrum.solvers import newton_continuation

DEPTHS = [1, 2, 3, 5, 10, 25, 50, 100, 200, 500, 1000]
TWO_POINT = ("linear", "relu", "hardtanh")
SMOOTH = ("erf", "tanh", "sigmoid")
#: depths of the smooth laws in the default run (the others are marked slow: quadrature m_K is ~100x dearer)
SMOOTH_FAST = (25,)
#: note: float64 Phi(u, 1/2, a) (erf) is not accurate for |u| > ~1e13 next to its cut; the lambda where that
#: happens (below ~1e-20 at depth <= 5) must carry a failure status, not a number


def _critical_sigma_w2(act, sigma_b2):
    """sigma_w^2 on the critical line chi(sigma_w^2, sigma_b^2) = 1 (keeps chi^L representable at L = 1000)."""
    a = get(act)
    return optimize.brentq(lambda s: a.chi(s, sigma_b2) - 1, 0.5, 1000, xtol=1e-14)


def _params(act):
    if act == "linear":
        return dict(sigma_w2=1.0)
    if act == "relu":
        return dict(sigma_w2=2.0)
    if act == "sigmoid":  # the critical sigmoid has sigma_w^2 ~ 100 and q* ~ 25: use an ordered one
        return dict(sigma_w2=16.0, sigma_b2=0.05)
    return dict(sigma_w2=_critical_sigma_w2(act, 0.05), sigma_b2=0.05)


def _cases(acts, fast_depths=None):
    out = []
    for a in acts:
        for L in DEPTHS:
            slow = fast_depths is not None and L not in fast_depths
            out.append(pytest.param(a, L, marks=[pytest.mark.slow] if slow else [], id=f"{a}-{L}"))
    return out


def _gauss(a, b, panels, order=16):
    t, w = np.polynomial.legendre.leggauss(order)
    e = np.linspace(a, b, panels + 1)
    half = 0.5 * (e[1:, None] - e[:-1, None])
    return (half * t + 0.5 * (e[1:, None] + e[:-1, None])).ravel(), (half * w).ravel()


def _log_lambda_max(act, L, kw):
    # support at 20 digits: lambda_max itself may be below float64 (sigmoid, chi < 1, L = 1000)
    return float(mpmath.log(support(act, L, dps=20, **kw).lambda_max))


def _mass_and_m1(act, L, kw):
    """(mass of the continuous part + atom, m_1/chi^L, statuses) integrated from the solver's own density.

    x = log lambda on [x_max - 40 (L+1) - 50, x_max]: lambda rho ~ lambda^{1/(L+1)} at worst near 0, so
    the truncated mass is below e^{-40}; y = sqrt(x_max - x) on the last 60 units (square-root edge) and
    16-node Gauss-Legendre panels elsewhere.  lambda is passed as its logarithm (it goes down to e^{-40000}).
    """
    a = get(act)
    q = a.q_star(kw["sigma_w2"], kw.get("sigma_b2", 0.0)) if a.depends_on_q else None
    eq = Equation(a, L, kw["sigma_w2"], q)
    xmax = _log_lambda_max(act, L, kw)
    y, wy = _gauss(0.0, math.sqrt(60.0), 12)
    xb, wb = _gauss(xmax - 40 * (L + 1) - 50, xmax - 60, 32)
    x = np.concatenate([xmax - y * y, xb])
    wx = np.concatenate([2 * y * wy, wb])
    t, status = newton_continuation(eq, None, log_lam=x)
    lam_rho = -np.minimum(eq.kernels(np.exp(t))[1].imag, 0.0) / np.pi  # lambda rho = -Im(1 + w)/pi
    log_chi_L = L * math.log(kw["sigma_w2"] * a.d2_moment(1, q))
    atom = a.zero_probability(q) if a.depends_on_q else a.zero_probability()
    return np.sum(wx * lam_rho) + atom, np.sum(wx * lam_rho * np.exp(x - log_chi_L)), status


# erf at depth <= 5 reaches lambda where float64 m_K fails (flagged): see test_erf_tiny_lambda_is_flagged_or_right
@pytest.mark.parametrize("act, L", _cases(TWO_POINT) + [c for c in _cases(SMOOTH, SMOOTH_FAST)
                                                        if not (c.values[0] == "erf" and c.values[1] <= 5)])
def test_mass_and_first_moment_from_the_density(act, L):
    kw = _params(act)
    if L == 1 and act in ("relu", "hardtanh"):
        # Marchenko-Pastur with an atom: [a, b] has two square-root edges; integrate in
        # lambda = a + (b - a) sin^2(theta), where the integrand is analytic
        lmax = support(act, 1, **kw).lambda_max
        res = density([lmax / 2], act, 1, **kw)
        c = 1 - res.atom
        lo = lmax * ((1 - math.sqrt(c)) / (1 + math.sqrt(c))) ** 2
        th, wt = _gauss(0.0, math.pi / 2, 8)
        lam = lo + (lmax - lo) * np.sin(th) ** 2
        jac = (lmax - lo) * 2 * np.sin(th) * np.cos(th)
        r = density(lam, act, 1, **kw)
        assert r.converged
        mass = np.sum(wt * jac * r.density) + r.atom
        chi = kw["sigma_w2"] * get(act).d2_moment(1, r.params["q"])
        m1 = np.sum(wt * jac * lam * r.density) / chi
        status = r.status
    else:
        mass, m1, status = _mass_and_m1(act, L, kw)
    assert np.all(status == Status.CONVERGED), Status.names(status[status != 0])[:3]
    # the density is solved to ~1e-12; the grid quadrature (analytic integrand, 16-node panels) and the
    # truncation (< e^{-40} of the mass) add < 1e-8; a wrong density is off by O(1) (the bug gave mass = atom)
    assert mass == pytest.approx(1.0, abs=1e-7)
    assert m1 == pytest.approx(1.0, rel=1e-7)


def test_erf_tiny_lambda_is_flagged_or_right():
    """erf, depth 2: lambda down to 1e-300 is either converged and equal to dps=30, or flagged."""
    kw = _params("erf")
    lam = np.array([1e-300, 1e-100, 1e-40, 1e-12, 1e-3])
    res = density(lam, "erf", 2, **kw)
    ok = res.status == Status.CONVERGED
    assert ok[-2:].all()  # |u| stays moderate down to 1e-12
    # the mpmath route: the Arb Lerch transcendent is slow where |u| is huge (tiny lambda), see docs/howto/precision.md
    ref = density(lam[ok], "erf", 2, dps=30, backend="mpmath", **kw)
    assert ref.converged
    # float64 Newton to rounding level; dps=30 refined from it (quadratic convergence)
    np.testing.assert_allclose(res.density[ok], np.array(ref.density, dtype=float), rtol=1e-9)


# ------------------------------------------------------- float64 against dps=40
@pytest.mark.parametrize("act, L", _cases(TWO_POINT, (1, 2, 25, 200, 1000)) + _cases(("erf",), (25,))
                         + _cases(("tanh", "sigmoid"), ()))
def test_float64_against_dps40(act, L):
    kw = _params(act)
    xmax = _log_lambda_max(act, L, kw)
    lam = np.exp([xmax - 7.0, xmax - 0.7])  # 1e-3 and 0.5 of lambda_max
    if act in TWO_POINT:
        lam = np.concatenate([[1e-300], lam])
    lam = lam[lam > 1e-300 * 0.99]
    if lam.size == 0:
        # the whole support lies below 1e-300 (sigmoid at L = 1000: lambda_max ~ e^-915): no float64 point of it
        # to compare; at 1e-300, beyond lambda_max, the density is 0, which float64 must give or not claim
        a = density([1e-300], act, L, **kw)
        b = density([1e-300], act, L, dps=40, **kw)
        assert b.converged and float(b.density[0]) == 0.0
        assert not a.converged or a.density[0] == 0.0
        return
    a = density(lam, act, L, **kw)
    b = density(lam, act, L, dps=40, **kw)
    assert a.converged and b.converged
    # the float64 root has |G| at rounding (~1e-13 of its terms) and G_t = O(1) away from the edge
    np.testing.assert_allclose(a.density, np.array(b.density, dtype=float), rtol=1e-9)


# --------------------------------------------- two-point laws: an independent root tracking
def _track(L, s, c, lam, dps=50, ratio=0.8):
    """rho(lambda) from the polynomial z w = s (1+w)(c+w)^L, tracked at dps digits from w ~ s c^L/z.

    Written independently of the package: plain Newton on the polynomial in w (no logarithms, no
    scaling: at 50 digits nothing underflows for the depths used here), eta decreasing by ``ratio``
    per step with a continuity check, then Newton on the real axis.
    """
    with mpmath.workdps(dps):
        s, c, lam = mpmath.mpf(s), mpmath.mpf(c), mpmath.mpf(lam)
        P = lambda w, z: s * (1 + w) * (c + w) ** L - z * w  # noqa: E731
        dP = lambda w, z: s * ((c + w) ** L + L * (1 + w) * (c + w) ** (L - 1)) - z  # noqa: E731
        eta = 10 * (s * (L + 1) ** (L + 1) / mpmath.mpf(L) ** L + lam)
        w = s * c**L / (lam + 1j * eta)
        while eta > lam * mpmath.mpf(10) ** (-dps // 2):
            z = lam + 1j * eta
            wn = w
            for _ in range(100):
                step = P(wn, z) / dP(wn, z)
                wn -= step
                if abs(step) < 10 * mpmath.eps * abs(wn):
                    break
            assert abs(wn - w) < 0.3 * abs(w) + 1e-3, "tracking jumped"
            w = wn
            eta *= ratio
        for _ in range(60):
            w -= P(w, lam) / dP(w, lam)
        return -w.imag / (mpmath.pi * lam)


@pytest.mark.parametrize("act, L, kw, lam, expected", [
    # the value quoted with the report of the underflow (ReLU, depth 25), from an mpmath tracking at 30 digits
    ("relu", 25, dict(sigma_w2=2.0), 0.01, "1.3436817546864"),
    ("hardtanh", 200, dict(sigma_w2=4.0, sigma_b2=0.05), 0.01, None),
    ("hardtanh", 25, dict(sigma_w2=4.0, sigma_b2=0.05), 0.01, None),
    ("linear", 50, dict(sigma_w2=1.0), 1e-30, None),
])
def test_two_point_against_independent_tracking(act, L, kw, lam, expected):
    a = get(act)
    q = a.q_star(kw["sigma_w2"], kw.get("sigma_b2", 0.0)) if a.depends_on_q else 1.0
    vals, probs = a._discrete_law(q)
    ref = _track(L, (kw["sigma_w2"] * vals[0]) ** L, probs[0], lam)
    if expected is not None:
        assert mpmath.nstr(ref, 14) == expected
    for method in ("newton", "polynomial"):
        res = density([lam], act, L, method=method, **kw)
        assert res.converged
        # float64 to rounding; q* and c enter at float64 in both (the tracking takes them from the package)
        assert res.density[0] == pytest.approx(float(ref), rel=1e-10)
    hp = density([lam], act, L, dps=40, **kw)
    assert hp.converged and float(hp.density[0]) == pytest.approx(float(ref), rel=1e-12)


# ----------------------------------------------------------- Fuss-Catalan down to 1e-300
@pytest.mark.parametrize("L", [pytest.param(L, marks=[pytest.mark.slow] if L in (500, 1000) else []) for L in DEPTHS])
def test_fuss_catalan_down_to_1e300(L):
    lmax = fuss_catalan_lambda_max(L)
    lam = np.geomspace(1e-300, 0.99 * lmax, 25)
    exact = fuss_catalan_density(lam, L)
    res = density(lam, "linear", L)
    assert res.converged
    # both to ~1e-13 relative; t = log u carries |t| eps ~ 1e-13 absolute at lambda = 1e-300
    np.testing.assert_allclose(res.density, exact, rtol=1e-9)
    if L <= 100:  # the polynomial route costs O(L^3) per point
        poly = density(lam, "linear", L, method="polynomial")
        assert poly.converged
        np.testing.assert_allclose(poly.density, exact, rtol=1e-9)


@pytest.mark.parametrize("lam, expected", [(1e-50, 5.939010489568e32), (1e-100, 1.279521022319e66),
                                           (1e-200, 5.939010489568e132)])
def test_fuss_catalan_values_quoted_in_the_report(lam, expected):
    # values from the Haagerup-Moeller parametrisation at 30 digits (dps=30 route of fuss_catalan_density)
    assert float(fuss_catalan_density([lam], 2, dps=30)[0]) == pytest.approx(expected, rel=1e-12)
    assert density([lam], "linear", 2).density[0] == pytest.approx(expected, rel=1e-10)


# ------------------------------------------------------------------ outside the support
@pytest.mark.parametrize("act", TWO_POINT + SMOOTH)
def test_density_above_lambda_max_is_exactly_zero(act):
    kw = _params(act)
    lmax = support(act, 10, **kw).lambda_max
    res = density([lmax * (1 + 1e-6), 2 * lmax, 1e6 * lmax], act, 10, **kw)
    assert res.converged
    assert np.all(res.density == 0.0)


def test_wrong_root_is_not_converged():
    """A start on the wrong sheet (Im u > 0) fails the branch check instead of returning a number."""
    eq = Equation(get("relu"), 25, 2.0, None)
    lam = np.array([0.01])
    good, st_good = newton_continuation(eq, lam)
    assert st_good[0] == Status.CONVERGED
    t, status = newton_continuation(eq, lam, t_start=np.conj(good))
    assert status[0] != Status.CONVERGED


# ----------------------------------------------------------------------- hypothesis
@settings(max_examples=20, deadline=None)
@given(act=st.sampled_from(TWO_POINT), sigma_w2=st.floats(0.5, 4.0), sigma_b2=st.floats(0.0, 0.5),
       L=st.integers(1, 1000), k=st.floats(0.0, 1.0))
def test_hypothesis_two_point_laws(act, sigma_w2, sigma_b2, L, k):
    """Converged float64 points agree with dps=30 (and with the polynomial route where it is cheap)."""
    kw = dict(sigma_w2=sigma_w2) if act != "hardtanh" else dict(sigma_w2=sigma_w2, sigma_b2=sigma_b2)
    try:
        xmax = _log_lambda_max(act, L, kw)
    except ConvergenceError:  # q* -> 0 too slowly to be solved (hard-tanh, sigma_b2 ~ 0): an explicit error
        return
    # from 0.999 lambda_max (the edge itself is ill-conditioned in any precision) down to 1e-300
    x = min(max(xmax - 1e-3 - k * (xmax + 700), -690.0), 700.0)
    lam = [math.exp(x)]
    res = density(lam, act, L, **kw)
    if res.status[0] != Status.CONVERGED:
        return  # an explicit failure is an acceptable answer; a wrong number marked converged is not
    ref = density(lam, act, L, dps=30, **kw)
    assert ref.converged
    assert res.density[0] == pytest.approx(float(ref.density[0]), rel=1e-8, abs=1e-300)
    if L <= 60:
        poly = density(lam, act, L, method="polynomial", **kw)
        if poly.converged:
            assert poly.density[0] == pytest.approx(res.density[0], rel=1e-8, abs=1e-300)


@pytest.mark.slow
@settings(max_examples=15, deadline=None)
@given(act=st.sampled_from(SMOOTH), sigma_w2=st.floats(0.8, 3.0), sigma_b2=st.floats(0.01, 0.5),
       L=st.integers(1, 1000), k=st.floats(0.0, 1.0))
def test_hypothesis_smooth_laws(act, sigma_w2, sigma_b2, L, k):
    kw = dict(sigma_w2=sigma_w2, sigma_b2=sigma_b2)
    try:
        xmax = _log_lambda_max(act, L, kw)
    except ConvergenceError:
        return
    x = xmax - 1e-3 - k * 200.0
    if x < -690:
        return
    lam = [math.exp(x)]
    res = density(lam, act, L, **kw)
    if res.status[0] != Status.CONVERGED:
        return
    ref = density(lam, act, L, dps=20, **kw)
    assert ref.converged
    assert res.density[0] == pytest.approx(float(ref.density[0]), rel=1e-7, abs=1e-300)
