"""The layer-dependent law (rmtfp.spectrum.layered) against exact facts and the equal-layer solver."""

from __future__ import annotations

import math

import numpy as np
import pytest

import rmtfp
from rmtfp.activations import get
from rmtfp.spectrum import fuss_catalan_density, marchenko_pastur_density
from rmtfp.spectrum.layered import density_layered, moments_layered, support_layered

HT_Q = get("hardtanh").q_star(1.5, 0.1)
ERF_Q = get("erf").q_star(2.0)

EQUAL_CASES = [
    ("linear", 1, 1.0, 1.0, 0.0),
    ("linear", 3, 1.0, 1.0, 0.0),
    ("relu", 2, 1.0, 2.0, 0.0),
    ("hardtanh", 3, HT_Q, 1.5, 0.1),
    ("erf", 2, ERF_Q, 2.0, 0.0),
]


@pytest.mark.parametrize("name, L, q, s2, b2", EQUAL_CASES)
def test_moments_equal_layers_match_lagrange_inversion(name, L, q, s2, b2):
    # two independent routes (series reversion here, Lagrange inversion in rmtfp.moments): 1e-10 relative
    ours = moments_layered(name, [q] * L, 5, s2)
    ref = rmtfp.moments(name, L, 5, sigma_w2=s2, q=q if get(name).depends_on_q else None)
    np.testing.assert_allclose(ours, ref, rtol=1e-10)


def test_moments_distinct_layers_first_two_exact():
    # S-transforms multiply: m_1 = prod sigma_l^2 E[D_l^2] and the normalised variances add,
    # m_2 / m_1^2 - 1 = sum_l E[D_l^4] / E[D_l^2]^2 (each Wishart factor contributes 1)
    act = get("hardtanh")
    qs, s2 = [0.5, 2.0, 1.0], [1.5, 0.7, 2.0]
    mu = [(act.d2_moment(1, q), act.d2_moment(2, q)) for q in qs]
    m1 = math.prod(s * a for s, (a, _) in zip(s2, mu))
    m2 = m1**2 * (1 + sum(b / a**2 for a, b in mu))
    got = moments_layered(act, qs, 2, s2)
    np.testing.assert_allclose(got, [m1, m2], rtol=1e-12)


@pytest.mark.parametrize("name, L, q, s2, b2", EQUAL_CASES)
def test_support_equal_layers(name, L, q, s2, b2):
    lmax, atom = support_layered(name, [q] * L, s2)
    ref = rmtfp.support(name, L, sigma_w2=s2, q=q if get(name).depends_on_q else None)
    assert lmax == pytest.approx(ref.lambda_max, rel=1e-9)  # both minimise lambda(w) to ~1e-12
    assert atom == pytest.approx(ref.atom, abs=1e-15)


def test_atom_is_largest_zero_probability():
    # rank J = min_l rank D^l: the atom is max_l P(phi'(h^l) = 0)
    act = get("hardtanh")
    qs = [0.3, 4.0, 1.0]
    _, atom = support_layered(act, qs, 1.0)
    assert atom == pytest.approx(max(act.zero_probability(q) for q in qs), abs=1e-15)


def test_marchenko_pastur():
    lam = np.linspace(0.01, 3.99, 60)
    rho, _, status = density_layered(lam, "linear", [1.0])
    assert np.all(status == 0)
    np.testing.assert_allclose(rho, marchenko_pastur_density(lam), rtol=1e-9)  # Newton to 1e-12 residual


def test_linear_per_layer_variances_give_fuss_catalan():
    # J = (sqrt(2) W_2)(W_1 / sqrt(2)): the same law as W_2 W_1, the Fuss-Catalan law of order 2
    lam = np.geomspace(1e-4, 6.7, 50)
    rho, _, status = density_layered(lam, "linear", [1.0, 1.0], sigma_w2=[2.0, 0.5])
    assert np.all(status == 0)
    np.testing.assert_allclose(rho, fuss_catalan_density(lam, 2), rtol=1e-8)


@pytest.mark.parametrize("name, L, q, s2, b2", EQUAL_CASES[2:])
def test_density_equal_layers_matches_core_solver(name, L, q, s2, b2):
    lmax = rmtfp.support(name, L, sigma_w2=s2, q=q if get(name).depends_on_q else None).lambda_max
    lam = np.geomspace(1e-3, 0.999 * lmax, 40)
    ref = rmtfp.density(lam, name, L, sigma_w2=s2, q=q if get(name).depends_on_q else None)
    ours, _, status = density_layered(lam, name, [q] * L, s2)
    ok = ref.status == 0
    assert np.all(status == 0) and ok.sum() > 30
    # two solvers of the same equation, each to ~1e-12 residual; 1e-7 leaves room near the edge
    np.testing.assert_allclose(ours[ok], ref.density[ok], rtol=1e-7, atol=1e-12)


def test_two_point_layers_solve_their_polynomial():
    # m_{K_l} = c_l u/(1-u) turns the system into z w = S (1+w) prod_l (c_l + w)
    act = get("hardtanh")
    qs, s2 = [0.5, 2.0], 1.3
    cs = [1 - act.zero_probability(q) for q in qs]
    lmax, atom = support_layered(act, qs, s2)
    lam = np.linspace(0.02, 1.2 * lmax, 80)
    rho, w, status = density_layered(lam, act, qs, s2)
    assert np.all(status == 0)
    resid = lam * w - s2**2 * (1 + w) * (cs[0] + w) * (cs[1] + w)
    assert np.max(np.abs(resid)) < 1e-9
    assert np.all(np.imag(w) <= 1e-12)
    assert np.all(rho[lam > lmax * 1.0001] < 1e-8)  # nothing above the edge
    assert atom == pytest.approx(1 - min(cs))


def test_layered_mass_sums_to_one():
    # the continuous part carries 1 - atom: the CDF is built from the top down, so the mass left below
    # the grid, F(lam_lo) - atom, must be >= 0 and small (rho ~ lambda^{-a} with a < 1 near 0)
    cdf = rmtfp.spectral_cdf("hardtanh", 2, sigma_w2=1.3, q=[0.5, 2.0])
    assert cdf.params["law"] == "layered"
    assert cdf.n_failed == 0
    assert cdf.params["mass_defect"] == 0.0
    assert 0 <= cdf.unresolved_mass < 2e-3
    assert cdf.atom == pytest.approx(get("hardtanh").zero_probability(2.0))


def test_layered_first_moment_from_density():
    # erf started at q = 3: most of the mass is at moderate lambda, but a few % sit below 1e-11
    # (the erf singularity); m_1 = int lambda rho is insensitive to it (trapezoid on a coarse grid: 2e-3)
    cdf = rmtfp.spectral_cdf("erf", 2, sigma_w2=2.0, q=[3.0, 1.2], per_decade=8)
    assert cdf.params["law"] == "layered" and cdf.n_failed == 0
    m1 = np.trapezoid(cdf.lam * cdf.density, cdf.lam)
    assert m1 == pytest.approx(moments_layered("erf", [3.0, 1.2], 1, 2.0)[0], rel=2e-3)


def test_bad_input():
    with pytest.raises(ValueError, match="qs"):
        density_layered([1.0], "erf", 2.0)
    with pytest.raises(ValueError, match="at least one"):
        density_layered([1.0], "erf", [])
    with pytest.raises(ValueError, match="q must be finite"):
        density_layered([1.0], "erf", [1.0, -1.0])
    with pytest.raises(ValueError, match="one value per layer"):
        density_layered([1.0], "erf", [1.0, 2.0], sigma_w2=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="sigma_w2"):
        density_layered([1.0], "erf", [1.0], sigma_w2=0.0)
    with pytest.raises(ValueError, match="lam"):
        density_layered([0.0, 1.0], "erf", [1.0])
    with pytest.raises(ValueError, match="unknown activation"):
        density_layered([1.0], "swishy", [1.0])
    with pytest.raises(ValueError, match="k must"):
        moments_layered("erf", [1.0], 0)
