"""Orthogonal (Haar) weights: exact limits, independent routes, sampled Jacobians, bad input."""

import math

import mpmath
import numpy as np
import pytest
import sympy as sp
from scipy.integrate import quad

from rmtfp import compare_spectrum, density, moments, sample_jacobian_spectrum, support
from rmtfp.spectrum.layered import density_layered, moments_layered
from rmtfp.spectrum.weights import M, architecture


# ------------------------------------------------------------ exact limits
@pytest.mark.parametrize("L,sigma_w2", [(1, 1.0), (2, 0.8), (10, 1.3), (1000, 1.001)])
def test_orthogonal_linear_is_a_point_mass(L, sigma_w2):
    """J J^T = sigma_w^{2L} I exactly: no density anywhere, one atom of mass 1, moments s^k."""
    s = sigma_w2**L
    lam = np.array([1e-300, 0.5 * s, s * (1 - 1e-12), s * (1 + 1e-12), 2 * s])
    r = density(lam, "linear", L, sigma_w2=sigma_w2, weights="orthogonal")
    assert r.converged
    assert np.all(r.density == 0.0)
    assert r.params["atoms"] == [[0.0, 0.0], [pytest.approx(s, rel=1e-14), 1.0]]
    assert r.lambda_max == pytest.approx(s, rel=1e-14)
    m = moments("linear", L, 4, sigma_w2=sigma_w2, weights="orthogonal")
    # Lagrange inversion in float64: L k multiplications of s, rounding ~ 4 L k eps
    np.testing.assert_allclose(m, [s**k for k in range(1, 5)], rtol=20 * L * 4e-16)


def test_orthogonal_linear_exact_moments():
    m = moments("linear", 3, 3, sigma_w2=1.5, weights="orthogonal", exact=True)
    assert m == [sp.Rational(27, 8), sp.Rational(27, 8) ** 2, sp.Rational(27, 8) ** 3]


def _free_projection_density(x, c):
    """Continuous part of P Q P, P, Q free projections of trace c (Voiculescu): on (0, 4c(1-c))."""
    b = 4 * c * (1 - c)
    return np.where((x > 0) & (x < b), np.sqrt(np.maximum(x * (b - x), 0)) / (2 * np.pi * x * (1 - x)), 0.0)


@pytest.mark.parametrize("q", [0.3, 1.0, 4.0])
def test_hardtanh_depth_two_is_a_free_projection_product(q):
    """L = 2, sigma_w2 = 1: J J^T = D_2 O_2 D_1^2 O_2^T D_2 with D_l^2 projections of trace c = erf(1/sqrt(2q))."""
    c = math.erf(1 / math.sqrt(2 * q))
    b = 4 * c * (1 - c)
    lam = np.linspace(1e-3 * b, 0.999 * b, 50)
    r = density(lam, "hardtanh", 2, q=q, weights="orthogonal")
    assert r.converged
    # Newton to machine precision on the real axis; 1e-9 covers the conditioning near the edges
    np.testing.assert_allclose(r.density, _free_projection_density(lam, c), rtol=1e-9, atol=1e-12)
    top = max(0.0, 2 * c - 1)
    assert r.atom == pytest.approx(1 - c, abs=1e-15)
    atoms = dict((round(a, 12), m) for a, m in r.params["atoms"])
    if top > 0:
        assert atoms[1.0] == pytest.approx(top, abs=1e-15)
        assert r.params["lambda_max_continuous"] == pytest.approx(b, rel=1e-14)
    else:
        assert r.lambda_max == pytest.approx(b, rel=1e-14)
    mass, _ = quad(lambda x: _free_projection_density(np.array([x]), c)[0], 0, b, limit=200)
    # total mass: atoms + continuous part (quad to ~1e-8 on the x^{-1/2} singularity)
    assert mass + (1 - c) + top == pytest.approx(1, abs=1e-7)


@pytest.mark.parametrize("act,L,sigma_w2", [("relu", 3, 2.0), ("hardtanh", 4, 1.1), ("erf", 5, 1.4)])
def test_normalised_variance_is_pennington_formula(act, L, sigma_w2):
    """m_2/m_1^2 - 1 = L (mu_2/mu_1^2 - 1 - s_1), s_1 = 0 orthogonal, -1 Gaussian (Pennington et al. 2018)."""
    from rmtfp.activations import get

    a = get(act)
    q = a.q_star(sigma_w2, 0.0) if a.depends_on_q else None
    mu1, mu2 = a.d2_moment(1, q), a.d2_moment(2, q)
    for weights, s1 in (("orthogonal", 0), ("gaussian", -1)):
        m = moments(act, L, 2, sigma_w2=sigma_w2, weights=weights)
        assert m[0] == pytest.approx((sigma_w2 * mu1) ** L, rel=1e-13)
        assert m[1] / m[0] ** 2 - 1 == pytest.approx(L * (mu2 / mu1**2 - 1 - s1), rel=1e-12)


# ------------------------------------------------------- independent routes
@pytest.mark.parametrize("act,L,sigma_w2", [("hardtanh", 4, 1.5), ("erf", 3, 1.5), ("relu", 4, 2.0),
                                            ("tanh", 2, 1.3)])
def test_single_equation_against_the_system(act, L, sigma_w2):
    """Equation route (u = sigma^2 z^{-1/L} (w/(1+w))^{1-1/L}) against the layered system with Q(w)."""
    r = density(np.linspace(0.02, 3.0, 25), act, L, sigma_w2=sigma_w2, weights="orthogonal")
    q = r.params["q"] if r.params["q"] is not None else 1.0
    d2, _, st = density_layered(r.lam, act, [q] * L, sigma_w2, arch=architecture("orthogonal", None, L, sigma_w2))
    # float64 m_K by quadrature (tanh) may be flagged inaccurate_mgf near 0 by the second m_K route: honest,
    # and excluded here; the closed forms (hard-tanh, erf, ReLU) converge everywhere
    ok = r.status == 0
    assert np.all(st == 0) and (ok.all() or (act == "tanh" and ok.sum() >= 20))
    # both solve to ~1e-12 relative on the real axis (the system's tolerance)
    np.testing.assert_allclose(r.density[ok], d2[ok], rtol=1e-7, atol=1e-9)
    m1 = moments(act, L, 5, sigma_w2=sigma_w2, weights="orthogonal")
    m2 = moments_layered(act, [q] * L, 5, sigma_w2, architecture("orthogonal", None, L, sigma_w2))
    np.testing.assert_allclose(m1, m2, rtol=1e-11)


def test_custom_s_transform_reproduces_both_ensembles():
    """s(m) = 1/(1+m) given as an expression (generic route) is the Gaussian law; s = 1 the orthogonal one."""
    lam = np.linspace(0.05, 2.5, 12)
    for expr, name in ((1 / (1 + M), "gaussian"), (sp.Integer(1) + 0 * M, "orthogonal")):
        a = density(lam, "erf", 3, sigma_w2=1.3, weights=expr)
        b = density(lam, "erf", 3, sigma_w2=1.3, weights=name)
        np.testing.assert_allclose(a.density, b.density, rtol=1e-10, atol=1e-12)
        ma = moments("hardtanh", 3, 4, sigma_w2=1.3, q=0.5, weights=expr, exact=True)
        mb = moments("hardtanh", 3, 4, sigma_w2=1.3, q=0.5, weights=name, exact=True)
        assert [sp.nsimplify(x - y) for x, y in zip(ma, mb)] == [0] * 4


def test_arbitrary_precision_route():
    """dps = 30 against dps = 50 (Newton from the float64 answer at full precision) and float64."""
    lam = [0.1, 0.7, 1.3]
    r15 = density(lam, "erf", 3, sigma_w2=1.5, weights="orthogonal")
    r30 = density(lam, "erf", 3, sigma_w2=1.5, weights="orthogonal", dps=30)
    r50 = density(lam, "erf", 3, sigma_w2=1.5, weights="orthogonal", dps=50)
    for a, b in zip(r30.density, r50.density):
        assert abs(a - b) <= mpmath.mpf(10) ** -27 * abs(b)
    np.testing.assert_allclose([float(x) for x in r30.density], r15.density, rtol=1e-11)
    s30 = support("hardtanh", 3, sigma_w2=1.2, weights="orthogonal", dps=30)
    s15 = support("hardtanh", 3, sigma_w2=1.2, weights="orthogonal")
    assert float(s30.lambda_max) == pytest.approx(s15.lambda_max, rel=1e-14)
    se30 = support("erf", 3, sigma_w2=1.5, weights="orthogonal", dps=30)
    se15 = support("erf", 3, sigma_w2=1.5, weights="orthogonal")
    # float64 edge by bounded minimisation (xatol 1e-12 relative in u): lambda_max to ~1e-9
    assert float(se30.lambda_max) == pytest.approx(se15.lambda_max, rel=1e-8)


def test_arbitrary_precision_with_q_star_and_an_atom():
    """hard-tanh with q = q* at dps = 30 (q* an mpf, an atom at 0) against float64 to its rounding."""
    lam = [0.5, 1.0]
    r64 = density(lam, "hardtanh", 4, sigma_w2=1.5, sigma_b2=0.1, weights="orthogonal")
    r30 = density(lam, "hardtanh", 4, sigma_w2=1.5, sigma_b2=0.1, weights="orthogonal", dps=30)
    assert r30.converged and r30.params["dps"] == 30
    # float64 Newton stops at a residual of a few ulps, amplified by 1/|F'| ~ 10 near the bulk
    np.testing.assert_allclose([float(x) for x in r30.density], r64.density, rtol=1e-11)


@pytest.mark.parametrize("kw", [dict(certify=True), dict(dps=20, backend="flint")])
def test_arb_route_refuses_other_ensembles(kw):
    pytest.importorskip("flint", reason="the Arb route needs python-flint (rmtfp[flint])")
    with pytest.raises(ValueError, match="square layers with Gaussian weights"):
        density([0.5], "relu", 3, weights="orthogonal", **kw)
    with pytest.raises(ValueError, match="square layers with Gaussian weights"):
        density([0.5], "relu", 2, widths=(1, 2, 1), **kw)


def test_edge_is_where_the_density_vanishes():
    s = support("erf", 4, sigma_w2=1.5, weights="orthogonal")
    lmax = float(s.lambda_max)
    r = density([lmax * 0.999, lmax * 1.001], "erf", 4, sigma_w2=1.5, weights="orthogonal")
    # outside the support w is real up to the rounding of the final Newton step (|Im w| ~ eps |w|)
    assert r.density[0] > 0 and r.density[1] < 1e-14 * r.density[0]


def test_gaussian_default_is_unchanged():
    lam = np.linspace(0.05, 3, 9)
    a = density(lam, "hardtanh", 3, sigma_w2=1.2)
    b = density(lam, "hardtanh", 3, sigma_w2=1.2, weights="gaussian", widths=(5, 5, 5, 5))
    assert np.array_equal(a.density, b.density)
    assert support("erf", 3, sigma_w2=1.3) == support("erf", 3, sigma_w2=1.3, weights="gaussian")


# -------------------------------------------------------- sampled Jacobians
def test_haar_matrices_are_orthogonal_and_unbiased():
    from rmtfp._arch_sampling import haar_columns

    g = np.random.default_rng(0)
    Q = haar_columns(g, 50, 50)
    np.testing.assert_allclose(Q.T @ Q, np.eye(50), atol=1e-13)
    # Haar: E[Q_11] = 0 and E[Q_11^2] = 1/N; the sign fix matters (without it Q_11 < 0 always for numpy's QR)
    x = np.array([haar_columns(g, 8, 8)[0, 0] for _ in range(4000)])
    assert abs(x.mean()) < 4 * math.sqrt(1 / 8 / 4000)  # 4 standard errors
    assert x.var() == pytest.approx(1 / 8, rel=4 * math.sqrt(2 / 4000) * 1.5)


@pytest.mark.parametrize("act,L,sigma_w2,N", [("hardtanh", 4, 1.1, 400), ("relu", 3, 2.0, 200),
                                              ("erf", 8, 1.2, 100)])
def test_theory_against_sampled_orthogonal_networks(act, L, sigma_w2, N):
    # 12 networks: the standard errors in the moment scales come from 11 degrees of freedom
    r = sample_jacobian_spectrum(act, L, N, 12, weights="orthogonal", sigma_w2=sigma_w2, rng=17)
    c = compare_spectrum(r)
    # KS and moments within 3 times their finite-width scales (SpectrumComparison.agrees)
    assert c.agrees(), c.to_dict()
    if act == "hardtanh":  # the atom at lambda_top = (sigma_w^2)^L: its sampled mass to the rounding band
        top = (sigma_w2) ** L
        frac = np.mean(np.abs(r.eigenvalues - top) <= 1e-9 * top)
        atoms = dict((round(a, 9), m) for a, m in c.theory_params["atoms"])
        # finite-N mass n_0 - (1-c) sum n_l counted over ranks: binomial spread ~ sqrt(L N c(1-c))/N
        assert abs(frac - atoms[round(top, 9)]) < 5 * math.sqrt(L * 0.05) / math.sqrt(N * 12)


@pytest.mark.slow
def test_orthogonal_hardtanh_agrees_over_seeds():
    """20 seeds: a 3-scale criterion should fail rarely (we require >= 18/20)."""
    ok = sum(compare_spectrum(sample_jacobian_spectrum("hardtanh", 4, 400, 5, weights="orthogonal",
                                                       sigma_w2=1.05, rng=s)).agrees() for s in range(20))
    assert ok >= 18


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("weights,match", [("cauchy", "weights"), ("unitary", "weights"), (3, "weights"),
                                           (sp.Float(1.0) / (1 + M), "floats"), (2 / (1 + M), "s\\(0\\) = 1"),
                                           (1 / (1 + sp.Symbol("x")), "depend on m")])
def test_bad_weights(weights, match):
    with pytest.raises(ValueError, match=match):
        density([1.0], "relu", 2, sigma_w2=2, weights=weights)


def test_bad_weights_in_sampling():
    with pytest.raises(ValueError, match="weights"):
        sample_jacobian_spectrum("relu", 2, 10, 2, weights="orthogonal", widths=(10, 5, 10), rng=0)
    with pytest.raises(ValueError, match="per-layer"):
        density([1.0], "tanh", 2, q=[0.5, 0.6], weights="orthogonal")
