"""Activations: registry, derived law of D^2, every route of m_K agreeing, q*."""

import math

import mpmath
import numpy as np
import pytest
import sympy as sp

from rmtfp import ConvergenceError, activations
from rmtfp.activations import Activation, X, get, mgf_d2_expr
from rmtfp.activations.lerch import lerch_half

ALL = activations.available()
CLOSED = [n for n in ALL if get(n).has_closed_form]
QS = [0.3, 1.0, 2.5]


def test_builtins_registered():
    assert set(ALL) >= {"linear", "relu", "hardtanh", "erf", "tanh", "sigmoid"}
    assert get("ReLU") is get("relu")
    assert get("hard_tanh") is get("hardtanh")
    assert get(get("erf")) is get("erf")


def test_unknown_activation_names_the_choices():
    with pytest.raises(ValueError, match="unknown activation 'softsign'.*available: .*erf"):
        get("softsign")
    with pytest.raises(TypeError):
        get(3)


def test_register_from_sympy_expression_alone():
    x = sp.Symbol("t", real=True)
    swish = Activation("swish_test", x / (1 + sp.exp(-x)))
    activations.register(swish)
    try:
        a = get("swish_test")
        assert a.d2_structure.kind == "generic"
        # E[phi'(h)^2] by quadrature agrees with a Monte Carlo estimate
        rng = np.random.default_rng(0)
        h = rng.normal(scale=math.sqrt(0.8), size=400_000)
        mc = np.mean(a.dphi(h) ** 2)
        # Monte Carlo standard error ~ std/sqrt(n) ~ 1e-3; 5 sigma
        assert a.d2_moment(1, 0.8) == pytest.approx(mc, abs=5e-3)
        assert np.isfinite(a.q_star(1.5, 0.1))
        with pytest.raises(ValueError, match="already registered"):
            activations.register(Activation("swish_test", x))
    finally:
        activations.unregister("swish_test")
    with pytest.raises(TypeError):
        activations.register("relu")


def test_expression_with_two_symbols_rejected():
    a, b = sp.symbols("a b")
    with pytest.raises(ValueError, match="one variable"):
        Activation("bad", a * b)


def test_float_constants_warn():
    with pytest.warns(UserWarning, match="53 bits"):
        Activation("leaky_float", sp.Max(0.1 * X, X))


@pytest.mark.parametrize(
    "name, kind, nvalues",
    [("linear", "discrete", 1), ("relu", "discrete", 1), ("hardtanh", "discrete", 1), ("erf", "gaussian", 0),
     ("tanh", "generic", 0), ("sigmoid", "generic", 0)],
)
def test_derived_law_kind(name, kind, nvalues):
    s = get(name).d2_structure
    assert s.kind == kind
    assert len(s.values) == nvalues


def test_derived_closed_forms_match_theory():
    u, q = activations.U, activations.Q
    # THEORY table of m_K
    assert sp.simplify(mgf_d2_expr("linear") - u / (1 - u)) == 0
    assert sp.simplify(mgf_d2_expr("relu") - u / (2 * (1 - u))) == 0
    c = sp.erf(1 / sp.sqrt(2 * q))
    assert sp.simplify(mgf_d2_expr("hardtanh") - c * u / (1 - u)) == 0
    erf_expr = u / sp.sqrt(sp.pi * q) * sp.lerchphi(u, sp.S.Half, 1 + 1 / (sp.pi * q))
    assert sp.simplify(mgf_d2_expr("erf") - erf_expr) == 0
    assert mgf_d2_expr("tanh") is None


def test_erf_prefactor_of_the_papers_is_off_by_sqrt2():
    """The derived m_K matches E[u D^2/(1 - u D^2)]; the papers' 1/sqrt(2 pi q) does not."""
    u0, q0 = 0.3, 0.7
    expr = mgf_d2_expr("erf")
    derived = complex(sp.N(expr.subs({activations.U: u0, activations.Q: q0}), 20))
    papers = derived * math.sqrt(q0 * math.pi) / math.sqrt(2 * math.pi * q0)
    quad = get("erf").mgf_d2(u0, q0, method="quadrature")
    assert derived == pytest.approx(quad, rel=1e-12)
    assert papers / derived == pytest.approx(1 / math.sqrt(2), rel=1e-14)
    assert abs(papers - quad) > 0.1 * abs(quad)


def test_leaky_relu_gets_a_rational_closed_form():
    leaky = Activation("leaky_test", sp.Max(X / 10, X))
    s = leaky.d2_structure
    assert s.kind == "discrete" and sorted(s.values) == [sp.Rational(1, 100), 1]
    assert leaky.mgf_d2(0.4 + 0.2j, 1.0) == pytest.approx(leaky.mgf_d2(0.4 + 0.2j, 1.0, method="quadrature"),
                                                          rel=1e-12)


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("q", QS)
def test_d2_moment_formula_equals_quadrature(name, q):
    a = get(name)
    for k in range(1, 5):
        quad = a.d2_moment(k, q, method="quadrature")
        auto = a.d2_moment(k, q)
        # composite Gauss-Legendre with 20 nodes per panel of width 1/2: ~1e-14
        assert auto == pytest.approx(quad, rel=1e-11, abs=1e-14)


@pytest.mark.parametrize("name", ALL)
def test_d2_moments_against_monte_carlo(name):
    a = get(name)
    rng = np.random.default_rng(1)
    h = rng.normal(scale=math.sqrt(0.9), size=200_000)
    d2 = a.dphi(h) ** 2
    for k in (1, 2):
        mc = np.mean(d2**k)
        se = np.std(d2**k) / math.sqrt(h.size)
        assert abs(a.d2_moment(k, 0.9) - mc) < 5 * se + 1e-12


U_INSIDE = [0.3 + 0.2j, -0.45 + 0.1j, 0.1 - 0.4j]
# away from the cut [1/sup D^2, inf): near it the quadrature route resolves a nearly real pole poorly
U_OUTSIDE = [3.0 + 2.0j, -2.5 + 0.5j, 1.5 - 4.0j, 5.0 + 3.0j, -40.0 + 1.0j]


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("q", QS)
def test_mgf_routes_agree(name, q):
    a = get(name)
    u_in = np.array(U_INSIDE)
    series = a.mgf_d2(u_in, q, method="series")
    quad = a.mgf_d2(u_in, q, method="quadrature")
    np.testing.assert_allclose(series, quad, rtol=1e-11)
    u_out = np.array(U_OUTSIDE) / a.d2_max
    quad_out = a.mgf_d2(u_out, q, method="quadrature")
    if a.has_closed_form:
        for uu in (u_in, u_out):
            np.testing.assert_allclose(a.mgf_d2(uu, q, method="formula"), a.mgf_d2(uu, q, method="quadrature"),
                                       rtol=1e-11)
    np.testing.assert_allclose(a.mgf_d2(u_out, q), quad_out, rtol=1e-11)


@pytest.mark.parametrize("name", ALL)
def test_mgf_derivative_matches_finite_difference(name):
    a = get(name)
    u = np.array([0.3 + 0.2j, 2.0 + 1.0j, -3.0 + 0.5j]) / a.d2_max
    m, dm = a.mgf_d2(u, 0.7, derivative=True)
    h = 1e-6
    fd = (a.mgf_d2(u + h, 0.7) - a.mgf_d2(u - h, 0.7)) / (2 * h)
    np.testing.assert_allclose(dm, fd, rtol=1e-7)  # central difference error ~h^2 + eps/h


@pytest.mark.parametrize("name", CLOSED)
def test_mgf_arbitrary_precision_matches_float64(name):
    a = get(name)
    for u in (0.3 + 0.2j, 2.0 + 1.0j, -4.0 - 0.5j):
        hi = a.mgf_d2(u, 0.7, dps=30)
        lo = a.mgf_d2(u, 0.7)
        assert complex(hi) == pytest.approx(lo, rel=1e-13)


def test_mgf_erf_arbitrary_precision_against_direct_series():
    """mpmath.lerchphi route vs the defining series at 40 digits (inside the disk)."""
    a = get("erf")
    u, q = mpmath.mpf("0.35"), mpmath.mpf("0.8")
    with mpmath.workdps(45):
        direct = mpmath.nsum(lambda k: u**k / mpmath.sqrt(1 + mpmath.pi * k * q), [1, mpmath.inf])
    val = a.mgf_d2(u, 0.8, dps=40)
    assert abs(val - direct) < mpmath.mpf(10) ** -38


def test_lerch_float64_against_mpmath():
    rng = np.random.default_rng(2)
    for a in (1.05, 1.3, 3.0, 40.0):
        r = np.exp(rng.uniform(np.log(0.01), np.log(60), 40))
        th = rng.uniform(-np.pi, np.pi, 40)
        u = np.concatenate([r * np.exp(1j * th), [2 + 1e-9j, 2 - 1e-9j, -5.0, 0.99 + 1e-12j]])
        got = lerch_half(u, a)
        ref = np.array([complex(mpmath.lerchphi(x, 0.5, a)) for x in u])
        np.testing.assert_allclose(got, ref, rtol=1e-12)  # measured worst case 1.2e-13
    with pytest.raises(ValueError, match="a must be > 0"):
        lerch_half([0.5], -1.0)


def test_lerch_float64_large_argument_against_quadrature():
    """|u| up to 1e12: float64 against the mpmath integral route (mpmath.lerchphi itself is wrong there)."""
    from rmtfp.activations.core import _lerch_half_mp

    u = np.array([-1e3 + 5j, -1e6 + 1e4j, -1e9 - 3e7j, 1e6 * np.exp(2.5j), -1e12 + 1.4e11j])
    for a in (1.2, 5.0):
        got, dgot = lerch_half(u, a, derivative=True)
        with mpmath.workdps(30):
            ref = [_lerch_half_mp(mpmath.mpc(x), mpmath.mpf(a)) for x in u]
        np.testing.assert_allclose(got, [complex(r[0]) for r in ref], rtol=1e-11)
        np.testing.assert_allclose(dgot, [complex(r[1]) for r in ref], rtol=1e-9)


def test_series_outside_disk_refused():
    with pytest.raises(ValueError, match="needs \\|u\\| < 1"):
        get("erf").mgf_d2(2.0, 1.0, method="series")


@pytest.mark.parametrize("name", [n for n in ALL if get(n).second_moment_expr is not None])
@pytest.mark.parametrize("q", QS)
def test_second_moment_formula_equals_quadrature(name, q):
    a = get(name)
    assert a.second_moment(q) == pytest.approx(a.second_moment(q, method="quadrature"), rel=1e-12)


@pytest.mark.parametrize("name", ALL)
def test_q_star_is_a_fixed_point(name):
    a = get(name)
    sw2, sb2 = (1.5, 0.1) if name not in ("linear",) else (0.5, 0.1)
    q = a.q_star(sw2, sb2)
    assert q == pytest.approx(a.variance_map(q, sw2, sb2), rel=1e-12)
    q30 = a.q_star(sw2, sb2, dps=30)
    assert float(q30) == pytest.approx(q, rel=1e-12)
    with mpmath.workdps(30):
        assert abs(sw2 * a.second_moment(q30, dps=30) + sb2 - q30) < mpmath.mpf(10) ** -25


def test_q_star_closed_cases():
    assert get("linear").q_star(0.5, 0.1) == pytest.approx(0.1 / 0.5)
    assert get("hardtanh").q_star(1.0) == 0.0  # THEORY: q* = 0 at sigma_w^2 <= 1, sigma_b^2 = 0
    assert get("erf").q_star(0.9) == 0.0
    with pytest.raises(ValueError, match="every q is a fixed point"):
        get("linear").q_star(1.0, 0.0)
    with pytest.raises(ValueError, match="every q is a fixed point"):
        get("relu").q_star(2.0, 0.0)
    with pytest.raises(ConvergenceError, match="no finite fixed point"):
        get("linear").q_star(1.5, 0.1)


def test_chi():
    # ReLU: chi = sigma_w^2 / 2
    assert get("relu").chi(2.0) == pytest.approx(1.0)
    a = get("erf")
    q = a.q_star(1.5, 0.1)
    assert a.chi(1.5, 0.1) == pytest.approx(1.5 / math.sqrt(1 + math.pi * q))


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf"), "x"])
def test_bad_q_rejected(bad):
    with pytest.raises(ValueError, match="q must"):
        get("erf").d2_moment(1, bad)


def test_bad_arguments_named():
    a = get("erf")
    with pytest.raises(ValueError, match="q is required"):
        a.mgf_d2(0.5)
    with pytest.raises(ValueError, match="method must be one of"):
        a.mgf_d2(0.5, 1.0, method="magic")
    with pytest.raises(ValueError, match="dps must be"):
        a.mgf_d2(0.5, 1.0, dps=3)
    with pytest.raises(ValueError, match="k must be"):
        a.d2_moment(-1, 1.0)
    with pytest.raises(ValueError, match="sigma_w2 must be"):
        a.q_star(-1.0)
    with pytest.raises(ValueError, match="sigma_b2 must be"):
        a.q_star(1.0, -0.1)
    with pytest.raises(ValueError, match="no closed form"):
        get("tanh").mgf_d2(0.5, 1.0, method="formula")


def test_relu_needs_no_q():
    assert get("relu").mgf_d2(0.5) == pytest.approx(0.5)
    assert not get("relu").depends_on_q
    assert get("hardtanh").depends_on_q
