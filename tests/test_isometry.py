"""Dynamical isometry: the spread on the critical line by two routes, the classic findings, the claim group."""

import json
import math

import numpy as np
import pytest

from rmtfp import isometry
from rmtfp.criticality import critical_parameters


@pytest.mark.parametrize("act", ["erf", "hardtanh", "tanh"])
@pytest.mark.parametrize("q", [1.0, 0.1, 0.01])
def test_critical_parameters_put_chi_at_one_and_q_at_q_star(act, q):
    from rmtfp.activations import get

    sw2, sb2 = critical_parameters(act, q)
    a = get(act)
    # chi_1 = 1 by construction; the variance map at q: the closed form/quadrature of E[phi^2] (~1e-14)
    assert sw2 * a.d2_moment(1, q) == pytest.approx(1.0, abs=1e-13)
    assert a.variance_map(q, sw2, sb2) == pytest.approx(q, rel=1e-12)


@pytest.mark.parametrize("act,weights", [("relu", "gaussian"), ("relu", "orthogonal"), ("erf", "gaussian"),
                                         ("erf", "orthogonal"), ("hardtanh", "orthogonal"), ("tanh", "orthogonal")])
def test_spread_two_routes(act, weights):
    """Lagrange-inversion moments against L (mu_2/mu_1^2 - 1 - s_1) (Pennington et al. 2018)."""
    for L in (1, 8, 128):
        r = isometry(act, L, weights=weights, q_star=0.3, quantiles=False)
        assert r.m1 == pytest.approx(1.0, abs=1e-12)  # chi_1 = 1: m_1 = chi^L
        assert r.variance == pytest.approx(r.variance_formula, rel=1e-9, abs=1e-12)


def test_classic_findings():
    """ReLU: spread 2L (Gaussian), L (orthogonal) at every q*; erf/hard-tanh orthogonal -> 0 as q* -> 0,
    Gaussian -> L."""
    L = 32
    assert isometry("relu", L, weights="gaussian", q_star=1.0, quantiles=False).variance == pytest.approx(2 * L)
    assert isometry("relu", L, weights="orthogonal", q_star=1.0, quantiles=False).variance == pytest.approx(L)
    for act in ("erf", "hardtanh"):
        o = [isometry(act, L, weights="orthogonal", q_star=q, quantiles=False).variance for q in (1, 0.1, 1e-3)]
        g = [isometry(act, L, weights="gaussian", q_star=q, quantiles=False).variance for q in (1, 0.1, 1e-3)]
        assert o[0] > o[1] > o[2] and o[2] < 0.05  # erf: L (mu_2/mu_1^2 - 1) = O(L q*) = 0.004 at q* = 1e-3
        assert g[2] == pytest.approx(L, rel=2e-3)  # mu_2/mu_1^2 - 1 = O(q*) for erf: 3e-3 L at q* = 1e-3


def test_orthogonal_hardtanh_small_q_is_nearly_a_point_mass():
    """q* -> 0: c -> 1, the atom at lambda_top = c^-L carries 1 - L(1 - c) of the mass."""
    r = isometry("hardtanh", 8, weights="orthogonal", q_star=0.05, quantiles=True)
    c = math.erf(1 / math.sqrt(2 * 0.05))
    assert r.lambda_max == pytest.approx(c**-8, rel=1e-12)
    top = [m for a, m in r.atoms if a > 0]
    assert top and top[0] == pytest.approx(1 - 8 * (1 - c), rel=1e-9)
    assert r.condition_bulk == pytest.approx(1.0, rel=1e-6)  # both quantiles sit on the atom


def test_bad_input():
    with pytest.raises(ValueError, match="q_star"):
        isometry("erf", 2, q_star=-1.0)
    with pytest.raises(ValueError, match="not both"):
        isometry("erf", 2, sigma_w2=1.0, q_star=0.1)
    with pytest.raises(ValueError, match="weights"):
        isometry("erf", 2, sigma_w2=1.0, weights="cauchy", quantiles=False)


@pytest.fixture
def validation_pkg():
    from rmtfp import validation  # the repository's validation/ folder, installed as rmtfp.validation

    return validation


def test_isometry_group(validation_pkg):
    assert validation_pkg.available("isometry") == [101, 102]
    assert validation_pkg.available("all")[-2:] == [101, 102]
    assert validation_pkg.group_of(3) == "papers" and validation_pkg.group_of(101) == "isometry"
    rec = validation_pkg.run_claim(101, "quick")
    assert rec.status == "reproduced", rec.error or rec.summary
    # every status can be re-derived from the saved JSON
    back = json.loads(json.dumps(rec.to_dict()))
    assert validation_pkg.load(101).check(back["result"]).status == rec.status


@pytest.mark.slow
def test_isometry_claim_two(validation_pkg):
    rec = validation_pkg.run_claim(102, "quick")
    assert rec.status == "reproduced", rec.error or rec.summary


def test_claim_check_fails_on_wrong_numbers(validation_pkg):
    """The criterion can fail: an orthogonal spread that stays large is not reproduced."""
    mod = validation_pkg.load(102)
    rows = [{"q_star": q, "spread": 1.0, "spread_formula": 1.0} for q in (1, 0.1)]
    g = [{"q_star": q, "spread": 8.0, "spread_formula": 8.0} for q in (1, 0.1)]
    fake = {"params": {"depth": 8}, "curves": {"hardtanh orthogonal": rows, "erf orthogonal": rows,
                                               "hardtanh gaussian": g, "erf gaussian": g}, "sampled": []}
    assert mod.check(fake).status == "not reproduced"


def test_isometry_figure(tmp_path):
    from rmtfp import density, support
    from rmtfp.plotting import plot_isometry_spectra, save_figure

    curves = {}
    for L in (2, 8):
        sup = support("hardtanh", L, sigma_w2=1.1, weights="orthogonal")
        lam = np.geomspace(1e-4, sup.params["lambda_max_continuous"], 40)
        r = density(lam, "hardtanh", L, sigma_w2=1.1, weights="orthogonal")
        curves[L] = (lam, r.density, sup.params["atoms"])
    fig = plot_isometry_spectra([{"title": "hard-tanh, orthogonal", "curves": curves}], (2, 8))
    path = tmp_path / "iso.png"
    save_figure(fig, path)
    assert path.stat().st_size > 1000


def test_q_star_zero_is_the_linear_network():
    """erf at sigma_w2 = 1, sigma_b2 = 0 has q* = 0 and D^2 = 1 surely: the linear network's exact laws
    (orthogonal: a point mass at 1; Gaussian: Fuss-Catalan, m2 = 1 + L, lambda_max = (L+1)^(L+1)/L^L)."""
    L = 8
    orth = isometry("erf", L, 1.0, 0.0, "orthogonal")
    assert (orth.m1, orth.m2, orth.variance) == pytest.approx((1.0, 1.0, 0.0), abs=1e-12)
    assert orth.atoms[-1] == pytest.approx([1.0, 1.0])
    gauss = isometry("erf", L, 1.0, 0.0, "gaussian", quantiles=False)
    assert gauss.m2 == pytest.approx(1.0 + L, rel=1e-12)
    assert gauss.lambda_max == pytest.approx((L + 1) ** (L + 1) / L**L, rel=1e-12)
