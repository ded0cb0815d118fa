"""The spectrum of J J^T: solvers against exact laws, against each other, and bad input."""

import math

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from scipy.integrate import simpson
from hypothesis import strategies as st

from rmtfp import (ConvergenceError, Status, density, fuss_catalan_density, fuss_catalan_lambda_max,
                   fuss_catalan_moments, marchenko_pastur_density, moments, support, two_point_moments)
from rmtfp.activations import get
from rmtfp.spectrum.support import _generic_edge


def interior(lmax, n=200, lo=1e-3, hi=0.995):
    return np.linspace(lo * lmax, hi * lmax, n)


# ----------------------------------------------------------------- exact laws
@pytest.mark.parametrize("L", range(1, 11))
def test_linear_against_haagerup_moeller(L):
    lam = interior(fuss_catalan_lambda_max(L), 300)
    res = density(lam, "linear", L)
    assert res.converged
    exact = fuss_catalan_density(lam, L)
    # Newton to machine precision on the real axis; exact density by bisection (~1e-15)
    np.testing.assert_allclose(res.density, exact, atol=1e-10, rtol=0)
    assert res.lambda_max == pytest.approx(fuss_catalan_lambda_max(L), rel=1e-13)
    assert res.atom == 0.0


@pytest.mark.parametrize("L", [1, 2, 3, 6])
def test_linear_moments_are_fuss_catalan(L):
    exact = moments("linear", L, 6, exact=True)
    assert exact == fuss_catalan_moments(L, 6)
    np.testing.assert_allclose(moments("linear", L, 6), fuss_catalan_moments(L, 6), rtol=1e-13)


def test_fuss_catalan_density_against_its_moments():
    """Independent check of the reference: integrate lambda^k rho on the parametrisation."""
    s = 2
    t = np.linspace(1e-6, math.pi / 3 - 1e-6, 200001)
    lam = np.sin(3 * t) ** 3 / (np.sin(t) * np.sin(2 * t) ** 2)
    rho = fuss_catalan_density(lam, s)
    order = np.argsort(lam)
    m = [np.trapezoid(lam[order] ** k * rho[order], lam[order]) for k in range(4)]
    # trapezoid on 2e5 points; the lambda^{-2/3} singularity at 0 limits m_0 to ~1e-3
    assert m[0] == pytest.approx(1, abs=2e-3)
    assert m[1:] == pytest.approx([1, 3, 12], rel=1e-4)


@pytest.mark.parametrize("sigma_w2", [0.7, 1.0, 2.3])
def test_depth_one_is_marchenko_pastur(sigma_w2):
    # linear: ratio 1
    lam = interior(4 * sigma_w2, 200, 1e-3, 0.999)
    res = density(lam, "linear", 1, sigma_w2=sigma_w2)
    np.testing.assert_allclose(res.density, marchenko_pastur_density(lam, 1.0, sigma_w2), atol=1e-10)
    # hard-tanh: ratio c = erf(1/sqrt(2q)), atom 1 - c
    q = 0.8
    c = math.erf(1 / math.sqrt(2 * q))
    lo, hi = sigma_w2 * (1 - math.sqrt(c)) ** 2, sigma_w2 * (1 + math.sqrt(c)) ** 2
    lam = np.linspace(lo * 0.5, hi * 1.1, 300)
    res = density(lam, "hardtanh", 1, sigma_w2=sigma_w2, q=q)
    assert res.converged
    np.testing.assert_allclose(res.density, marchenko_pastur_density(lam, c, sigma_w2), atol=1e-8)
    assert res.atom == pytest.approx(1 - c, rel=1e-14)
    assert res.lambda_max == pytest.approx(hi, rel=1e-12)


def test_marchenko_pastur_normalisation():
    for ratio in (0.3, 1.0, 2.5):
        a, b = (1 - math.sqrt(ratio)) ** 2, (1 + math.sqrt(ratio)) ** 2
        x = np.linspace(max(a, 1e-9), b, 400001)
        mass = np.trapezoid(marchenko_pastur_density(x[1:-1], ratio), x[1:-1])
        assert mass == pytest.approx(min(1.0, ratio), abs=2e-3)  # edge square roots limit the trapezoid


# --------------------------------------------------------- routes against each other
@pytest.mark.parametrize("act, L, sw2, sb2", [("relu", 2, 2.0, 0.0), ("relu", 5, 1.5, 0.0),
                                              ("hardtanh", 3, 1.5, 0.1), ("hardtanh", 1, 1.2, 0.3)])
def test_newton_equals_polynomial(act, L, sw2, sb2):
    sup = support(act, L, sigma_w2=sw2, sigma_b2=sb2)
    lam = interior(sup.lambda_max, 150, 1e-3, 1.2)
    a = density(lam, act, L, sigma_w2=sw2, sigma_b2=sb2)
    b = density(lam, act, L, sigma_w2=sw2, sigma_b2=sb2, method="polynomial")
    assert a.converged and b.converged
    np.testing.assert_allclose(a.density, b.density, atol=1e-9)


@pytest.mark.parametrize("act, L", [("relu", 2), ("hardtanh", 3), ("linear", 4)])
def test_two_point_moments_lagrange_equals_closed_form(act, L):
    sw2, sb2 = 1.5, 0.1
    a = get(act)
    q = a.q_star(sw2, sb2) if a.depends_on_q else None
    c = a.d2_moment(1, q)
    lag = moments(act, L, 5, sigma_w2=sw2, q=q)
    closed = [float(v) for v in two_point_moments(L, 5, s=sw2**L, c=c)]
    np.testing.assert_allclose(lag, closed, rtol=1e-12)


def test_relu_moments_theory_check():
    # THEORY: ReLU, L = 2, sigma_w^2 = 2: moments 1, 5, 33
    assert moments("relu", 2, 3, sigma_w2=2, exact=True) == [1, 5, 33]


def test_moment_closed_forms_m1_m2():
    # m_1 = chi^L, m_2 = m_1^2 (1 + L E[D^4]/E[D^2]^2)
    for act in ("erf", "tanh", "hardtanh"):
        a = get(act)
        q = a.q_star(1.5, 0.1)
        L = 3
        m = moments(act, L, 2, sigma_w2=1.5, sigma_b2=0.1)
        d1, d2 = a.d2_moment(1, q), a.d2_moment(2, q)
        assert m[0] == pytest.approx((1.5 * d1) ** L, rel=1e-13)
        assert m[1] == pytest.approx(m[0] ** 2 * (1 + L * d2 / d1**2), rel=1e-12)


def test_moments_arbitrary_precision_erf():
    m30 = moments("erf", 2, 3, sigma_w2=1.5, q=0.5, dps=30)
    m64 = moments("erf", 2, 3, sigma_w2=1.5, q=0.5)
    np.testing.assert_allclose([float(x) for x in m30], m64, rtol=1e-13)
    ex = moments("erf", 2, 2, sigma_w2=1.5, q=0.5, exact=True)
    assert float(ex[0]) == pytest.approx(m64[0], rel=1e-14)
    assert ex[0].has(sp.pi)


def test_erf_float64_against_high_precision():
    """float64 (vectorised Lerch) against dps=30 (mpmath.lerchphi): two independent evaluations of m_K."""
    lam = np.array([1e-9, 0.01, 0.3, 1.0, 2.5, 5.0])
    a = density(lam, "erf", 2, sigma_w2=1.5, sigma_b2=0.1)
    b = density(lam, "erf", 2, sigma_w2=1.5, sigma_b2=0.1, dps=30)
    assert a.converged and b.converged
    np.testing.assert_allclose(a.density, b.density.astype(float), rtol=1e-11)


@pytest.mark.parametrize("act", ["erf", "tanh", "sigmoid"])
def test_closed_form_vs_quadrature_route(act):
    lam = np.geomspace(1e-3, 0.99 * support(act, 2, sigma_w2=1.5, sigma_b2=0.1).lambda_max, 40)
    a = density(lam, act, 2, sigma_w2=1.5, sigma_b2=0.1)
    b = density(lam, act, 2, sigma_w2=1.5, sigma_b2=0.1, mgf_method="quadrature")
    assert a.converged and b.converged
    np.testing.assert_allclose(a.density, b.density, rtol=1e-9)


def test_generic_edge_equals_two_point_formula():
    for act, L in (("relu", 3), ("hardtanh", 2)):
        a = get(act)
        q = a.q_star(1.5, 0.1) if a.depends_on_q else None
        lmax, _, _ = _generic_edge(a, L, 1.5, q)
        assert lmax == pytest.approx(support(act, L, sigma_w2=1.5, sigma_b2=0.1).lambda_max, rel=1e-9)


def test_density_vanishes_above_lambda_max():
    sup = support("erf", 3, sigma_w2=1.5, sigma_b2=0.1)
    res = density([0.99 * sup.lambda_max, 1.01 * sup.lambda_max, 2 * sup.lambda_max], "erf", 3, sigma_w2=1.5,
                  sigma_b2=0.1)
    assert res.density[0] > 0
    # outside the support w is real; what remains of Im w is rounding
    assert res.density[1] < 1e-14 and res.density[2] < 1e-14


@pytest.mark.parametrize("method", ["newton", "polynomial"])
def test_density_outside_the_support_is_a_positive_zero(method):
    """Printed tables show 0.0, not -0.0, where w is exactly real."""
    res = density([20.0, 50.0], "relu", 2, sigma_w2=2.0, method=method)
    assert np.all(res.density == 0) and not np.any(np.signbit(res.density))


# ------------------------------------------------------- normalisation and moments
def _integrate(act, L, sw2, sb2, powers):
    """int lambda^p rho d lambda for p in powers: log grid below lambda_max/2, and
    lambda = lambda_max (1 - s^2) above, which makes the square-root edge smooth."""
    sup = support(act, L, sigma_w2=sw2, sigma_b2=sb2)
    lmax = sup.lambda_max
    x = np.geomspace(1e-30 * lmax, 0.5 * lmax, 1201)
    s = np.linspace(0, math.sqrt(0.5), 601)[1:]
    y = lmax * (1 - s**2)
    r1 = density(x, act, L, sigma_w2=sw2, sigma_b2=sb2)
    r2 = density(y, act, L, sigma_w2=sw2, sigma_b2=sb2)
    assert r1.converged and r2.converged
    out = []
    for p in powers:
        low = simpson(r1.density * x ** (p + 1), x=np.log(x))
        high = simpson(np.concatenate([[0.0], r2.density * y**p * 2 * lmax * s]), x=np.concatenate([[0.0], s]))
        out.append(low + high)
    return sup, out


@pytest.mark.parametrize("act, L, sw2, sb2", [("linear", 2, 1.0, 0.0), ("relu", 2, 2.0, 0.0),
                                              ("hardtanh", 3, 1.5, 0.1), ("erf", 2, 1.5, 0.1)])
def test_normalisation_and_first_moments(act, L, sw2, sb2):
    sup, (mass, m1, m2) = _integrate(act, L, sw2, sb2, (0, 1, 2))
    mom = moments(act, L, 2, sigma_w2=sw2, sigma_b2=sb2)
    # Simpson on smooth integrands (log grid, 1200 points over 30 decades; edge mapped to s^2): ~1e-8.
    # Mass below 1e-30 lambda_max: ~1e-10 for rho ~ lambda^{-L/(L+1)}; for erf (THEORY: 3.5 % below
    # 1e-8 at L = 2) ~1e-6, hence the tolerance.
    assert mass + sup.atom == pytest.approx(1.0, abs=3e-6)
    assert m1 == pytest.approx(mom[0], rel=1e-6)
    assert m2 == pytest.approx(mom[1], rel=1e-6)


def test_erf_singularity_at_zero_is_integrable_on_log_grid():
    # THEORY: ~3.5 % of the mass lies below 1e-8 at L = 2 (erf); the log grid captures it
    x = np.geomspace(1e-30, 1e-8, 400)
    r = density(x, "erf", 2, sigma_w2=1.5, sigma_b2=0.1)
    assert r.converged
    low = np.trapezoid(r.density * x, np.log(x))
    assert 0 < low < 0.2


# ------------------------------------------------------------- the papers' scheme
def test_papers_iteration_from_zero_returns_zero_density():
    lam = np.linspace(0.5, 5, 20)
    r = density(lam, "linear", 2, method="iteration", w0="zero", N=20)
    # w = 0 is an exact fixed point of T for L >= 2: the continuous density is zero and
    # what is left, -Im(1/z)/pi, is the unit atom at 0 smoothed at eta = b^-N
    assert np.all(r.w == 0)
    eta = 2.0**-20
    np.testing.assert_allclose(r.density, eta / (np.pi * (lam**2 + eta**2)), rtol=1e-12)
    assert np.all(r.density < 1e-5)


def test_papers_iteration_reports_non_convergence_at_depth_one():
    lam = np.linspace(0.2, 3.8, 40)
    r = density(lam, "linear", 1, method="iteration", b=2.0, N=20)
    # THEORY: |T'(w*)| -> 1 on the bulk at L = 1, steps hit N0 and are reported
    assert np.any(r.status == Status.MAX_ITER)
    assert not r.converged
    assert max(r.params["steps_at_N0"]) > 0


def test_papers_iteration_is_inaccurate_where_newton_is_not():
    lam = interior(fuss_catalan_lambda_max(2), 100)
    exact = fuss_catalan_density(lam, 2)
    it = density(lam, "linear", 2, method="iteration", b=2.0, N=20)
    nw = density(lam, "linear", 2)
    err_it = np.max(np.abs(it.density - exact))
    err_nw = np.max(np.abs(nw.density - exact))
    assert err_it > 1e-6
    assert err_nw < 1e-12


def test_iteration_arbitrary_precision_runs():
    r = density([1.0, 2.0], "linear", 2, method="iteration", N=8, dps=20, eps=1e-12, N0=200)
    assert len(r.density) == 2 and all(x > 0 for x in r.density)


# ---------------------------------------------------------------- deep networks
def test_depth_100_has_no_wrong_branch():
    lmax = fuss_catalan_lambda_max(100)
    lam = np.geomspace(1e-6 * lmax, 0.999 * lmax, 300)
    r = density(lam, "linear", 100)
    assert not np.any(r.status == Status.WRONG_BRANCH)
    assert r.converged
    np.testing.assert_allclose(r.density, fuss_catalan_density(lam, 100), rtol=1e-8)


def test_linear_arbitrary_precision_to_25_digits():
    lam = np.linspace(0.1, 6.5, 5)
    r = density(lam, "linear", 2, dps=30)
    ex = fuss_catalan_density(lam, 2, dps=30)
    with mpmath.workdps(30):
        assert max(abs(a - b) for a, b in zip(r.density, ex)) < mpmath.mpf(10) ** -25


# ------------------------------------------------------------------ properties
@given(st.lists(st.floats(1e-4, 12.0), min_size=1, max_size=12),
       st.sampled_from(["linear", "relu", "hardtanh", "erf"]), st.integers(1, 5))
def test_density_nonnegative_and_w_in_lower_half_plane(lam, act, L):
    r = density(lam, act, L, sigma_w2=1.3, sigma_b2=0.2 if act != "linear" else 0.0,
                q=None if act != "linear" else None)
    assert np.all(r.density >= 0)
    assert np.all(np.imag(r.w) <= 64 * np.finfo(float).eps * (1 + np.abs(r.w)))


@given(st.lists(st.floats(1e-3, 9.0), min_size=2, max_size=10, unique=True), st.randoms())
def test_result_invariant_to_order(lam, rnd):
    perm = list(range(len(lam)))
    rnd.shuffle(perm)
    a = density(lam, "erf", 3, sigma_w2=1.5, sigma_b2=0.1)
    b = density(np.asarray(lam)[perm], "erf", 3, sigma_w2=1.5, sigma_b2=0.1)
    np.testing.assert_array_equal(a.density[perm], b.density)


@given(st.floats(0.05, 6.0), st.sampled_from(["linear", "hardtanh", "erf"]))
def test_float64_equals_dps30(lam, act):
    a = density([lam], act, 2, sigma_w2=1.4, sigma_b2=0.1 if act != "linear" else 0.0)
    b = density([lam], act, 2, sigma_w2=1.4, sigma_b2=0.1 if act != "linear" else 0.0, dps=30)
    # float64 accuracy: Newton to ~1e-15 on the real axis, m_K to ~1e-13 (Lerch), conditioning O(1) in the bulk
    assert a.density[0] == pytest.approx(float(b.density[0]), rel=1e-11, abs=1e-13)


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("kwargs, match", [
    (dict(depth=0), "depth must be an integer >= 1"),
    (dict(depth=2.5), "depth must be an integer >= 1"),
    (dict(lam=[0.0, 1.0]), "lam must be finite and > 0"),
    (dict(lam=[-1.0]), "lam must be finite and > 0"),
    (dict(lam=[float("nan")]), "lam must be finite and > 0"),
    (dict(lam=[float("inf")]), "lam must be finite and > 0"),
    (dict(lam=[]), "empty grid"),
    (dict(sigma_w2=0.0), "sigma_w2 must be finite and > 0"),
    (dict(sigma_w2=-1.0), "sigma_w2 must be finite and > 0"),
    (dict(sigma_w2=float("inf")), "infinite variance"),
    (dict(sigma_w2="cauchy"), "finite variance"),
    (dict(sigma_b2=-0.1), "sigma_b2 must be finite and >= 0"),
    (dict(q=0.0), "q must be finite and > 0"),
    (dict(q=-2.0), "q must be finite and > 0"),
    (dict(activation="softplusx"), "unknown activation"),
    (dict(dps=5), "dps must be"),
    (dict(dps=10**6), "dps must be"),
    (dict(method="magic"), "method must be one of"),
    (dict(activation="erf", method="polynomial"), "polynomial"),
    (dict(mgf_method="magic"), "mgf_method"),
])
def test_bad_input(kwargs, match):
    args = dict(lam=[1.0], activation="hardtanh", depth=2, sigma_w2=1.5, sigma_b2=0.1)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        density(**args)


def test_no_fixed_point_raises_convergence_error():
    with pytest.raises(ConvergenceError):
        density([1.0], "linear", 2, sigma_w2=1.5, sigma_b2=0.1, q=None) if get("linear").depends_on_q else \
            get("linear").q_star(1.5, 0.1)


def test_result_to_dict_is_json_ready():
    import json

    r = density([0.5, 1.0], "relu", 2, sigma_w2=2.0)
    d = r.to_dict()
    json.dumps(d)
    assert d["status"] == ["converged", "converged"]
    assert d["atom"] == 0.5
    assert d["params"]["q_source"] == "not needed"


# ------------------------------------------------------------ per-layer q
def test_per_layer_q_with_equal_values_equals_single_q():
    lam = np.linspace(0.05, 5, 9)
    a = density(lam, "erf", 3, sigma_w2=1.5, q=[0.6, 0.6, 0.6])
    b = density(lam, "erf", 3, sigma_w2=1.5, q=0.6)
    assert a.converged
    np.testing.assert_allclose(a.density, b.density, rtol=1e-10)  # two independent solvers
    assert a.lambda_max == pytest.approx(b.lambda_max, rel=1e-9)
    assert a.params["q"] == [0.6, 0.6, 0.6]


@pytest.mark.parametrize("kwargs, match", [(dict(q=[1.0, 1.0]), "one value per layer"),
                                           (dict(q=[1.0, -1.0, 1.0]), r"q\[1\] must be"),
                                           (dict(q=[1.0, 1.0, 1.0], dps=20), "float64 only")])
def test_per_layer_q_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        density([1.0], "erf", 3, **kwargs)


def test_per_layer_q_moments_and_support():
    m = moments("erf", 3, 3, sigma_w2=1.5, q=[0.6, 0.6, 0.6])
    np.testing.assert_allclose(m, moments("erf", 3, 3, sigma_w2=1.5, q=0.6), rtol=1e-10)
    s = support("erf", 3, sigma_w2=1.5, q=[0.6, 0.6, 0.6])
    assert s.lambda_max == pytest.approx(support("erf", 3, sigma_w2=1.5, q=0.6).lambda_max, rel=1e-8)
    # hard-tanh off the fixed point: the atom is set by the layer with the most zeros
    s2 = support("hardtanh", 2, sigma_w2=1.5, q=[3.0, 0.5])
    assert s2.atom == pytest.approx(1 - math.erf(1 / math.sqrt(6.0)), rel=1e-12)
    with pytest.raises(ValueError, match="one value per layer"):
        moments("erf", 2, 2, q=[0.5])


# ------------------------------------------------------------------ slow sweeps
# closed-form m_K at every depth; quadrature m_K (tanh, sigmoid: ~2 s a point at 30 digits) at small depths
_SWEEP = ([(act, L, 12) for act in ("linear", "relu", "hardtanh", "erf") for L in (1, 2, 3, 5, 8)]
          + [(act, L, 5) for act in ("tanh", "sigmoid") for L in (1, 2, 3)])


@pytest.mark.slow
@pytest.mark.parametrize("act, L, n", _SWEEP)
def test_float64_against_30_digits_everywhere(act, L, n):
    sb2 = 0.0 if act in ("linear", "relu") else 0.1
    ref0 = density([1.0], act, L, sigma_w2=1.3, sigma_b2=sb2)
    lam = interior(ref0.lambda_max, n, lo=1e-2, hi=0.95)
    a = density(lam, act, L, sigma_w2=1.3, sigma_b2=sb2)
    b = density(lam, act, L, sigma_w2=1.3, sigma_b2=sb2, dps=30)
    ref = np.array([float(v) for v in b.density])
    assert a.converged and b.converged
    # float64 accuracy: Newton converges to ~1e-15 on the real axis, m_K carries ~1e-13 (Lerch, quadrature);
    # conditioning of the depth-L equation grows mildly with L in the bulk (0.01..0.95 lambda_max)
    np.testing.assert_allclose(a.density, ref, rtol=1e-9, atol=1e-13 * ref.max())


@pytest.mark.slow
@pytest.mark.parametrize("sw2", [0.7, 1.0, 1.5, 2.5])
@pytest.mark.parametrize("q", [0.2, 1.0, 3.0])
@pytest.mark.parametrize("L", [1, 2, 4, 7])
def test_newton_equals_polynomial_over_parameters(sw2, q, L):
    ref0 = density([1.0], "hardtanh", L, sigma_w2=sw2, q=q)
    lam = interior(ref0.lambda_max, 40)
    a = density(lam, "hardtanh", L, sigma_w2=sw2, q=q)
    b = density(lam, "hardtanh", L, sigma_w2=sw2, q=q, method="polynomial")
    assert a.converged and b.converged
    # two float64 routes to the same root: Newton on w - T(w) and the roots of the rational equation
    # (numpy.roots, companion-matrix eigenvalues); same tolerance as test_newton_equals_polynomial
    np.testing.assert_allclose(a.density, b.density, rtol=0, atol=1e-9 * max(1.0, np.max(b.density)))
