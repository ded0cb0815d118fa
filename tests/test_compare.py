"""Finite-width networks against the infinite-width theory (compare_spectrum), its CDF, plots and the CLI.

Agreement means every statistic within 3 times its finite-width scale
(SpectrumComparison.agrees): KS within 3 x (1/N + |atom bias| + standard
error), moments within 3 x ((1 + k(k-1)L/2)/N + standard error).  The
scales are checked to be O(1/N) apart from the atom bias, which is computed
exactly (min of binomial counts, O(N^{-1/2})).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import integrate, stats

import rmtfp
from rmtfp import SpectrumComparison, compare_spectrum, sample_jacobian_spectrum, spectral_cdf
from rmtfp.cli import main
from rmtfp.commands import dump_json
from rmtfp.sampling import ks_distance
from rmtfp.spectrum import fuss_catalan_density

CASES = [
    # (activation, depth, sigma_w2, sigma_b2, q, width, samples)
    ("linear", 1, 1.0, 0.0, None, 120, 40),
    ("linear", 2, 1.0, 0.0, None, 120, 40),
    ("linear", 3, 1.0, 0.0, None, 120, 40),
    ("relu", 2, 2.0, 0.0, None, 120, 40),  # criticality chi = 1
    ("hardtanh", 3, 1.5, 0.1, None, 120, 40),
    ("erf", 2, 2.0, 0.0, None, 120, 40),  # at q*
    ("erf", 2, 2.0, 0.0, 3.0, 120, 40),  # started at q = 3 != q* = 0.70: the layer-dependent law
]


@pytest.fixture(scope="module")
def comparisons():
    out = {}
    for case in CASES:
        name, L, s2, b2, q, N, ns = case
        r = sample_jacobian_spectrum(name, L, N, ns, sigma_w2=s2, sigma_b2=b2, q=q, rng=2024)
        out[case] = (r, compare_spectrum(r))
    return out


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}-L{c[1]}" + ("-q" if c[4] else "") for c in CASES])
def test_theory_agrees_with_sampling(comparisons, case):
    r, c = comparisons[case]
    N = r.width
    assert isinstance(c, SpectrumComparison)
    assert c.ks <= 3 * c.ks_scale, c.to_dict()
    assert np.all(c.moments_rel_err <= 3 * c.moments_rel_scale), c.to_dict()
    assert c.agrees()
    # the tolerance scales with the width: O(1/N) plus the exactly computed atom bias
    assert c.ks_scale <= 4 / N + abs(c.atom_expected - c.atom) + 1e-12
    assert np.all(c.moments_rel_scale <= (1 + np.arange(4) * np.arange(1, 5) * r.depth) / N + 0.05)
    assert c.cdf.n_failed == 0


def test_layer_dependent_case_uses_the_layered_law(comparisons):
    case = CASES[-1]
    r, c = comparisons[case]
    assert len(set(r.q)) == 2 and c.theory_params["law"] == "layered"
    # the equal-layer law at q* is far off: the layer dependence is what makes the agreement
    eq = spectral_cdf("erf", 2, sigma_w2=2.0)
    assert ks_distance(r.pooled, eq) > 5 * c.ks_scale


def test_disagreement_is_detected(comparisons):
    r, c = comparisons[CASES[3]]  # ReLU, sigma_w2 = 2
    # the papers' equation without sigma_w^2 (= sigma_w2 = 1 here): m_1 = 1/4 instead of 1
    wrong = compare_spectrum(r, sigma_w2=1.0)
    assert not wrong.agrees() and wrong.ks_ratio > 3 and wrong.moments_ratio[0] > 10
    # a 10 % error in sigma_w2 is seen too
    off = compare_spectrum(r, sigma_w2=1.8)
    assert not off.agrees() and off.moments_ratio[0] > 3


def test_atom_bias_is_explained(comparisons):
    # ReLU L = 2: zeros = N - min(#h^1 > 0, #h^2 > 0) exceed the theory's atom 1/2 by ~ sqrt(1/(4 pi N))
    r, c = comparisons[CASES[3]]
    assert c.atom == 0.5
    assert c.atom_expected - 0.5 == pytest.approx(math.sqrt(0.25 / (math.pi * r.width)), rel=0.1)
    assert abs(c.atom_sampled - c.atom_expected) < 4 * c.atom_stderr


def test_comparison_to_dict(comparisons):
    _, c = comparisons[CASES[0]]
    d = json.loads(dump_json(c.to_dict(cdf=True)))
    assert d["agrees"] is True and len(d["moments"]) == 4 and "cdf" in d


# --------------------------------------------------------------------- the CDF
def test_cdf_basic_properties():
    cdf = spectral_cdf("relu", 2, sigma_w2=2.0)
    assert np.all(np.diff(cdf.cdf) >= 0)
    assert cdf.cdf[-1] == 1.0 and cdf.lam[-1] == cdf.lambda_max
    assert cdf(np.array([0.0]))[0] == 0.5 and cdf(np.array([0.0]), left=True)[0] == 0.0
    assert cdf(np.array([-1.0, 2 * cdf.lambda_max])).tolist() == [0.0, 1.0]
    tiny = cdf(np.array([1e-3 * cdf.lam[0]]))[0]  # extrapolated below the grid, between atom and F(lam_lo)
    assert cdf.atom <= tiny <= cdf.cdf[0]


def test_cdf_marchenko_pastur_exact():
    # F(lambda) = (2/pi)(t + sin t cos t), lambda = 4 sin^2 t.  Simpson on the default grid plus monotone
    # interpolation between nodes: ~6e-6, far below any finite-width KS scale (1/N)
    cdf = spectral_cdf("linear", 1)
    x = np.linspace(0.0005, 3.9995, 400)
    t = np.arcsin(np.sqrt(x / 4))
    np.testing.assert_allclose(cdf(x), 2 / np.pi * (t + np.sin(t) * np.cos(t)), atol=1e-5)
    fine = spectral_cdf("linear", 1, per_decade=48, n_edge=321)  # and it converges with the grid
    np.testing.assert_allclose(fine(x), 2 / np.pi * (t + np.sin(t) * np.cos(t)), atol=1e-6)


def test_cdf_fuss_catalan_by_quadrature():
    cdf = spectral_cdf("linear", 2)
    lmax = 27 / 4
    for x in (0.01, 0.5, 2.0, 5.0, 6.5):
        tail, _ = integrate.quad(lambda v: fuss_catalan_density(np.array([v]), 2)[0], x, lmax, limit=200)
        assert cdf(np.array([x]))[0] == pytest.approx(1 - tail, abs=1e-5)  # as for Marchenko-Pastur


def test_ks_distance():
    def uniform(x, left=False):
        return np.clip(x, 0, 1)

    assert ks_distance(np.array([0.5]), uniform) == pytest.approx(0.5)
    n = 50
    assert ks_distance((np.arange(n) + 0.5) / n, uniform) == pytest.approx(0.5 / n)


def test_ks_distance_above_a_floor_compares_the_mass_below_it_as_a_whole():
    def uniform(x, left=False):
        return np.clip(x, 0, 1)

    n = 50
    x = (np.arange(n) + 0.5) / n
    # the 5 smallest points all at 1e-9: wrong below 0.1, right as a mass at 0.1
    junk = np.sort(np.concatenate([np.full(5, 1e-9), x[5:]]))
    assert ks_distance(junk, uniform) == pytest.approx(0.1 - 1e-9, abs=1e-12)
    assert ks_distance(junk, uniform, floor=0.1) == pytest.approx(0.5 / n)
    # mass missing below the floor is still seen: F_n = 0 on [0.1, 0.11) where F reaches 0.11
    assert ks_distance(x[5:], uniform, floor=0.1) == pytest.approx(0.11)


def test_comparison_reports_its_floor():
    r = sample_jacobian_spectrum("relu", 2, 60, 6, sigma_w2=2.0, rng=1)
    c = compare_spectrum(r)
    # the theory's grid starts at <= 1e-10 lambda_max; float64 SVD resolves down to ~(N eps)^2 lambda_top
    assert c.ks_floor >= c.cdf.lam[0] and c.ks_floor <= 1.000001e-10 * c.lambda_max
    assert c.to_dict()["ks_floor"] == c.ks_floor
    assert c.ks <= ks_distance(r.pooled, c.cdf) + 1e-15


# ------------------------------------------------------------------ bad input
def test_compare_refuses_laws_without_theory():
    r = sample_jacobian_spectrum("tanh", 2, 20, 2, weights="cauchy", rng=0)
    with pytest.raises(ValueError, match="infinite variance"):
        compare_spectrum(r)
    r = sample_jacobian_spectrum("linear", 1, 20, 2, weights=stats.norm(loc=1.0), rng=0)
    with pytest.raises(ValueError, match="mean"):
        compare_spectrum(r)
    with pytest.raises(TypeError, match="JacobianSpectrum"):
        compare_spectrum(np.ones((2, 2)))


def test_compare_needs_two_samples(capsys):
    """One sample has no sample-to-sample spread: no verdict rather than a confident one."""
    r = sample_jacobian_spectrum("relu", 2, 50, 1, sigma_w2=2.0, rng=0)
    with pytest.raises(ValueError, match="n_samples >= 2"):
        compare_spectrum(r)
    assert main(["sample", "--activation", "relu", "--depth", "2", "--width", "50", "--samples", "1",
                 "--compare"]) == 2
    assert "--samples >= 2" in capsys.readouterr().err


def test_scipy_law_comparison_uses_its_variance():
    # t(5) entries have variance 5/3: the theory at sigma_w^2 = 5/3 agrees
    r = sample_jacobian_spectrum("relu", 2, 100, 30, weights=stats.t(df=5), sigma_w2=1.2, rng=3)
    c = compare_spectrum(r)
    assert c.theory_params["sigma_w2"] == pytest.approx(2.0)
    assert c.agrees()


# ----------------------------------------------------------------------- plots
def test_plots(comparisons, tmp_path):
    import matplotlib

    from rmtfp.plotting import plot_concentration, plot_density, plot_spectrum_comparison, save_figure

    r, c = comparisons[CASES[3]]
    for log in (False, True):
        fig = plot_spectrum_comparison(r, c, log_lambda=log)
        assert isinstance(fig, matplotlib.figure.Figure)
        ax = fig.axes[0]
        assert len(ax.lines) == 1 and ax.get_ylim()[1] > 0
        save_figure(fig, tmp_path / f"cmp{int(log)}.png")
    d = rmtfp.density(np.linspace(0.05, 12, 50), "relu", 2, sigma_w2=2.0)
    fig = plot_density(d, log_lambda=True)
    assert len(fig.axes[0].lines) >= 1
    save_figure(fig, tmp_path / "density.png")
    scan = rmtfp.sample_depth_scan("tanh", [1, 2, 3], 20, 3, weights="cauchy", rng=0)
    fig = plot_concentration(scan, thresholds=(1e-3,))
    save_figure(fig, tmp_path / "conc.pdf")
    assert (tmp_path / "conc.pdf").stat().st_size > 0


# ------------------------------------------------------------------------- CLI
def test_cli_sample_json_compare(capsys, tmp_path):
    rc = main(["sample", "--activation", "relu", "--depth", "2", "--width", "60", "--samples", "10",
               "--sigma-w2", "2", "--seed", "0", "--compare", "--json", "--no-progress",
               "--plot", str(tmp_path / "s.png"), "--log", "--save", str(tmp_path / "s.npz")])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out["sample"]["seed"] == 0 and out["sample"]["width"] == 60
    assert out["comparison"]["atom"] == 0.5 and "ks_scale" in out["comparison"]
    assert (tmp_path / "s.png").exists()
    saved = np.load(tmp_path / "s.npz")
    ref = sample_jacobian_spectrum("relu", 2, 60, 10, sigma_w2=2.0, rng=0)
    np.testing.assert_array_equal(saved["eigenvalues"], ref.eigenvalues)


def test_cli_sample_text_and_progress(capsys, monkeypatch):
    import sys

    argv = ["sample", "--activation", "erf", "--depth", "2", "--width", "40", "--samples", "4",
            "--sigma-w2", "2", "--seed", "1", "--compare"]
    assert main(argv) == 0
    cap = capsys.readouterr()
    assert "KS =" in cap.out and "q = q* = 0.703859" in cap.out
    assert "4/4" not in cap.err  # stderr is not a terminal here: no progress frames in logs
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert main(argv) == 0
    assert "4/4" in capsys.readouterr().err  # on a terminal the bar is on by default


def test_cli_sample_errors(capsys):
    assert main(["sample", "--activation", "tanh", "--depth", "2", "--width", "10", "--samples", "2",
                 "--weights", "cauchy", "--compare", "--no-progress"]) == 2
    assert "finite variance" in capsys.readouterr().err
    assert main(["sample", "--activation", "nope", "--depth", "2", "--width", "10", "--samples", "2",
                 "--no-progress"]) == 2
    with pytest.raises(SystemExit):
        main(["sample", "--activation", "relu", "--depth", "2", "--width", "0", "--samples", "2"])


# ------------------------------------------------------------------------ slow
@pytest.mark.slow
@pytest.mark.parametrize("name, L, s2, b2", [("linear", 2, 1.0, 0.0), ("relu", 2, 2.0, 0.0),
                                             ("hardtanh", 3, 1.5, 0.1), ("erf", 2, 2.0, 0.0)])
def test_theory_agrees_at_width_500(name, L, s2, b2):
    r = sample_jacobian_spectrum(name, L, 500, 40, sigma_w2=s2, sigma_b2=b2, rng=7)
    c = compare_spectrum(r)
    assert c.agrees(), c.to_dict()
    assert c.ks_scale <= 4 / 500 + abs(c.atom_expected - c.atom)
