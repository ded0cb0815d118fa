"""Rectangular layers (widths n_0..n_L): exact limits, sampled Jacobians, bad input."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rmtfp import compare_spectrum, density, marchenko_pastur_density, moments, sample_jacobian_spectrum, support


@pytest.mark.parametrize("n0,n1,sigma_w2", [(2, 1, 1.0), (1, 2, 1.0), (400, 300, 1.7), (3, 5, 0.6)])
def test_depth_one_is_marchenko_pastur_with_ratio(n0, n1, sigma_w2):
    """W W^T (n_1 x n_1), entries of variance sigma_w^2/n_0: MP with ratio y = n_1/n_0, i.e. the free Poisson
    law of rate 1/y and jump sigma_w^2 y; atom 1 - 1/y at 0 for y > 1."""
    y = n1 / n0
    lo, hi = sigma_w2 * (1 - math.sqrt(y)) ** 2, sigma_w2 * (1 + math.sqrt(y)) ** 2
    lam = np.linspace(lo + 1e-3 * (hi - lo), hi - 1e-3 * (hi - lo), 40)
    r = density(lam, "linear", 1, sigma_w2=sigma_w2, widths=(n0, n1))
    assert r.converged
    # Newton on the system to 1e-12; the density near the edges is conditioned like sqrt
    np.testing.assert_allclose(r.density, marchenko_pastur_density(lam, 1 / y, sigma_w2 * y), rtol=1e-8, atol=1e-10)
    assert r.atom == pytest.approx(max(0.0, 1 - 1 / y), abs=1e-15)
    assert r.lambda_max == pytest.approx(hi, rel=1e-9)  # bounded minimisation, xatol 1e-12 in w


@given(st.lists(st.integers(1, 50), min_size=2, max_size=7), st.floats(0.3, 3.0))
def test_linear_normalised_variance_is_sum_of_ratios(ns, sigma_w2):
    """m_2/m_1^2 - 1 = sum_l n_L/n_(l-1) for a linear Gaussian product, m_1 = sigma_w^(2L)."""
    L = len(ns) - 1
    m = moments("linear", L, 2, sigma_w2=sigma_w2, widths=ns)
    # series reversion in float64: a few hundred operations on O(1) numbers
    assert m[0] == pytest.approx(sigma_w2**L, rel=1e-12)
    assert m[1] / m[0] ** 2 - 1 == pytest.approx(sum(ns[-1] / n for n in ns[:-1]), rel=1e-11)


def test_only_ratios_matter_and_square_is_unchanged():
    lam = np.linspace(0.05, 3, 7)
    a = density(lam, "relu", 3, sigma_w2=2, widths=(2, 3, 4, 3))
    b = density(lam, "relu", 3, sigma_w2=2, widths=(200, 300, 400, 300))
    np.testing.assert_array_equal(a.density, b.density)
    c = density(lam, "relu", 3, sigma_w2=2, widths=(7, 7, 7, 7))
    np.testing.assert_array_equal(c.density, density(lam, "relu", 3, sigma_w2=2).density)


def test_orthogonal_widening_linear_network_is_atoms():
    """J^T J = sigma_w^(2L) (n_L/n_0) I_(n_0): atoms (0, 1 - n_0/n_L) and (sigma^(2L) n_L/n_0, n_0/n_L)."""
    ws = (100, 150, 200, 300)
    r = density([0.5, 2.0, 3.5], "linear", 3, sigma_w2=1.0, weights="orthogonal", widths=ws)
    assert np.all(r.density == 0)
    (z, mz), (t, mt) = r.params["atoms"]
    assert (z, mz) == (0.0, pytest.approx(2 / 3, abs=1e-15))
    assert t == pytest.approx(3.0, rel=1e-15) and mt == pytest.approx(1 / 3, abs=1e-15)
    np.testing.assert_allclose(moments("linear", 3, 3, weights="orthogonal", widths=ws), [1, 3, 9], rtol=1e-12)


def test_rank_atom():
    """1 - min(n_0, c min_l n_l)/n_L: ReLU (c = 1/2) with a narrow input."""
    s = support("relu", 2, sigma_w2=2, widths=(10, 40, 20))
    assert s.atom == pytest.approx(1 - 10 / 20, abs=1e-15)
    s = support("relu", 2, sigma_w2=2, widths=(40, 40, 20))
    assert s.atom == pytest.approx(1 - 0.5 * 20 / 20, abs=1e-15)


@pytest.mark.parametrize("act,weights,widths,sigma_w2", [
    ("relu", "gaussian", (150, 300, 200, 250), 2.0),
    ("erf", "gaussian", (300, 200, 250), 1.5),
    ("hardtanh", "orthogonal", (100, 150, 200, 300), 1.2),
])
def test_theory_against_sampled_rectangular_networks(act, weights, widths, sigma_w2):
    r = sample_jacobian_spectrum(act, len(widths) - 1, 0, 12, weights=weights, widths=widths, sigma_w2=sigma_w2,
                                 rng=3)
    assert r.eigenvalues.shape == (12, widths[-1])
    c = compare_spectrum(r)
    # KS and moments within 3 times their finite-width scales
    assert c.agrees(), c.to_dict()


@pytest.mark.parametrize("widths,match", [((2, 3), "depth \\+ 1"), ((2, 0, 3, 4), "> 0"), ((2, -1, 3, 4), "> 0"),
                                          ((2, float("inf"), 3, 4), "> 0"), ("234", "sequence"),
                                          ((2, "a", 3, 4), "positive numbers")])
def test_bad_widths(widths, match):
    with pytest.raises(ValueError, match=match):
        density([1.0], "relu", 3, sigma_w2=2, widths=widths)


def test_orthogonal_narrowing_layer_is_refused():
    with pytest.raises(ValueError, match="n_l >= n_\\(l-1\\)"):
        density([1.0], "relu", 2, sigma_w2=2, weights="orthogonal", widths=(4, 2, 4))
    with pytest.raises(ValueError, match="widths"):
        sample_jacobian_spectrum("relu", 2, 0, 2, weights="orthogonal", widths=(4, 2, 4), rng=0)
    with pytest.raises(ValueError, match="integers"):
        sample_jacobian_spectrum("relu", 2, 0, 2, widths=(4, 2.5, 4), rng=0)


def test_rectangular_is_float64_only():
    with pytest.raises(ValueError, match="float64"):
        density([1.0], "relu", 2, sigma_w2=2, widths=(2, 3, 4), dps=30)
    with pytest.raises(ValueError, match="float64"):
        moments("relu", 2, 3, sigma_w2=2, widths=(2, 3, 4), exact=True)
