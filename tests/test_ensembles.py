"""Ensembles of random networks: Q statistics, contraction scans, beta_cr, g(L)."""

from __future__ import annotations

import concurrent.futures
import json

import numpy as np
import pytest

from rmtfp import Network, contraction_constant, find_fixed_points, grid, lipschitz_bound
from rmtfp.commands import dump_json
from rmtfp.ensembles import (
    ContractionScan,
    QStatistics,
    contraction_scan,
    contraction_vs_depth,
    critical_beta,
    network_seed,
    q_statistics,
)
from rmtfp.ensembles.critical import _crossings, _median_interval
from rmtfp.ensembles.depth import _fit_log_linear
from rmtfp.ensembles.qstats import _bootstrap_mode

COARSE = grid(step=0.25)  # 9 x 9 starts: keeps every test well under a second per network


# ----------------------------------------------------------------- Q statistics
@pytest.fixture(scope="module")
def serial():
    return q_statistics([1, 2, 3], width=16, n_networks=6, rng=42, workers=1, starts=COARSE)


def test_q_statistics_shapes_and_consistency(serial):
    r = serial
    assert isinstance(r, QStatistics)
    assert r.Q.shape == (3, 6) and r.status_fractions.shape == (3, 6, 4)
    np.testing.assert_allclose(r.status_fractions.sum(axis=2), 1.0)
    np.testing.assert_allclose(r.distribution.sum(axis=1), 1.0)
    for d, L in enumerate(r.depths):
        counts = np.bincount(r.Q[d], minlength=r.distribution.shape[1])
        np.testing.assert_allclose(r.distribution[d], counts / 6)
        assert r.mode[d] == np.argmax(counts)
        assert r.mode_interval[d, 0] <= r.mode[d] <= r.mode_interval[d, 1]
        assert r.mean[d] == pytest.approx(r.Q[d].mean())
        assert r.cycle_fraction[d] == pytest.approx(np.mean(r.n_cycles[d] > 0))
        assert r.unresolved_fraction[d] == pytest.approx(np.mean(r.status_fractions[d, :, 2] > 0))
    json.loads(dump_json(r.to_dict()))


def test_q_statistics_matches_find_fixed_points_network_by_network(serial):
    for d, L in enumerate(serial.depths):
        for i in (0, 5):
            net = serial.network(int(L), i)
            assert net.depth == L and net.widths[0] == net.widths[-1] == 2
            res = find_fixed_points(net, COARSE)
            assert res.Q == serial.Q[d, i]
            assert len(res.cycles) == serial.n_cycles[d, i]
    # the documented stream of network i at depth L
    gen = np.random.Generator(np.random.PCG64(network_seed(42, 1, 2, 3)))
    manual = Network.random([2, 16, 2], "hardtanh", weights="cauchy", rng=gen)
    np.testing.assert_array_equal(manual.weights[0], serial.network(2, 3).weights[0])


def test_same_seed_same_result_serial_vs_process_pool(serial):
    pooled = q_statistics([1, 2, 3], width=16, n_networks=6, rng=42, workers=2, starts=COARSE, chunksize=1)
    for name in ("Q", "n_cycles", "n_stable", "status_fractions", "max_period", "mode", "mode_interval"):
        np.testing.assert_array_equal(getattr(pooled, name), getattr(serial, name), err_msg=name)


def test_same_result_with_an_explicit_executor_and_other_order(serial):
    with concurrent.futures.ProcessPoolExecutor(max_workers=2) as ex:
        r = q_statistics([3, 1, 2], width=16, n_networks=6, rng=42, executor=ex, starts=COARSE)
    order = [list(r.depths).index(L) for L in serial.depths]
    np.testing.assert_array_equal(r.Q[order], serial.Q)
    np.testing.assert_array_equal(r.status_fractions[order], serial.status_fractions)
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
        t = q_statistics([1, 2, 3], width=16, n_networks=6, rng=42, executor=ex, starts=COARSE)
    np.testing.assert_array_equal(t.Q, serial.Q)


def test_prefix_property_of_the_seeds(serial):
    # the first networks of a larger run are the networks of a smaller one
    small = q_statistics([2], width=16, n_networks=3, rng=42, workers=1, starts=COARSE)
    np.testing.assert_array_equal(small.Q[0], serial.Q[1, :3])


def test_seed_types():
    a = q_statistics([1], width=8, n_networks=3, rng=np.random.SeedSequence(5), workers=1, starts=COARSE)
    b = q_statistics([1], width=8, n_networks=3, rng=5, workers=1, starts=COARSE)
    np.testing.assert_array_equal(a.Q, b.Q)
    c = q_statistics([1], width=8, n_networks=3, rng=np.random.default_rng(5), workers=1, starts=COARSE)
    d = q_statistics([1], width=8, n_networks=3, rng=np.random.default_rng(5), workers=1, starts=COARSE)
    np.testing.assert_array_equal(c.Q, d.Q)
    e = q_statistics([1], width=8, n_networks=2, rng=None, workers=1, starts=COARSE)
    assert isinstance(e.params["seed"]["entropy"], int)


def test_fully_contracting_family_has_one_fixed_point():
    # weights of scale 0.05/n_l: every network's Lipschitz bound is < 1 (checked below), so by
    # Banach's theorem each has exactly one fixed point and every start converges to it
    r = q_statistics([1, 2, 4], width=20, activation="tanh", weights="normal", scale=0.05 / 20, n_networks=10,
                     rng=0, workers=1, starts=COARSE)
    for L in r.depths:
        for i in range(r.n_networks):
            assert lipschitz_bound(r.network(int(L), i)) < 1
        assert r.distribution_at(int(L)) == {1: 1.0}
    np.testing.assert_array_equal(r.mode, 1)
    np.testing.assert_array_equal(r.mode_interval, [[1, 1]] * 3)
    np.testing.assert_array_equal(r.cycle_fraction, 0)
    np.testing.assert_array_equal(r.unresolved_fraction, 0)


def test_bootstrap_mode():
    gen = np.random.default_rng(0)
    assert _bootstrap_mode(np.full(20, 3), 500, gen, 0.95) == (3, (3, 3))
    # a clear mode: 2 in 70 % of the networks; the interval stays on it
    v = np.array([2] * 70 + [1] * 15 + [3] * 15)
    assert _bootstrap_mode(v, 1000, gen, 0.95) == (2, (2, 2))
    # ties go to the smaller Q
    assert _bootstrap_mode(np.array([1, 1, 2, 2]), 0, gen, 0.95) == (1, (1, 1))


def test_q_statistics_arguments():
    with pytest.raises(ValueError, match="depths"):
        q_statistics([0, 1], n_networks=1)
    with pytest.raises(ValueError, match="depths"):
        q_statistics([2, 2], n_networks=1)
    with pytest.raises(ValueError, match="n_networks"):
        q_statistics([1], n_networks=0)
    with pytest.raises(ValueError, match="weights"):
        q_statistics([1], weights="laplace", n_networks=1)
    with pytest.raises(ValueError, match="unknown fixed-point option"):
        q_statistics([1], n_networks=1, max_iters=3)
    with pytest.raises(ValueError, match="rng"):
        q_statistics([1], n_networks=1, rng=-3)
    with pytest.raises(ValueError, match="executor"):
        q_statistics([1], n_networks=1, executor="dask")
    with pytest.raises(ValueError, match="starts"):
        q_statistics([1], n_networks=1, starts=np.zeros((4, 3)))
    with pytest.raises(ValueError, match="workers"):
        q_statistics([1], n_networks=1, workers=0)
    with pytest.raises(ValueError, match="unknown activation"):
        q_statistics([1], n_networks=1, activation="swishy")


# ----------------------------------------------------------------- contraction
def test_contraction_scan_matches_direct_computation():
    betas = [0.3, 0.5, 0.7]
    pts = grid(step=0.25)
    s = contraction_scan(betas, width=12, depth=3, n_networks=3, rng=1, workers=1, points=pts)
    assert isinstance(s, ContractionScan)
    assert s.g.shape == (3, 3) and s.quantiles.shape == (3, 3)
    # rebuild network 1 at beta = 0.5: unit draws times n_l^{-beta}
    gen = np.random.Generator(np.random.PCG64(network_seed(1, 2, 1)))
    unit = Network.random([2, 12, 12, 2], "tanh", weights="normal", scale=1.0, scale_means="scale", rng=gen)
    m = [2**-0.5, 12**-0.5, 12**-0.5]
    net = Network([w * f for w, f in zip(unit.weights, m)], [b * f for b, f in zip(unit.biases, m)], "tanh")
    # the same arithmetic up to the order of the scaling (rounding ~1e-16); the Lipschitz bound is
    # rescaled analytically from the unit network's norms, exact up to rounding of the SVDs (~1e-14)
    assert s.g[1, 1] == pytest.approx(contraction_constant(net, pts), rel=1e-12)
    assert s.lipschitz[1, 1] == pytest.approx(lipschitz_bound(net), rel=1e-10)
    # g <= Lipschitz bound (mean-value inequality), g decreasing in beta for these networks
    assert np.all(s.g <= s.lipschitz * (1 + 1e-12))
    assert np.all(np.diff(s.g, axis=0) < 0)
    json.loads(dump_json(s.to_dict()))


def test_critical_beta_tanh_gaussian_near_one_half():
    # THEORY: a hidden layer scales distances by N^{1/2 - beta} (E phi'^2)^{1/2}, so beta_cr = 1/2
    # up to O(1/log N) corrections; at N = 50, L = 3 on a 21 x 21 grid the 8 networks give
    # beta_cr = 0.507 with the median interval (0.470, 0.524), so |beta_cr - 1/2| < 0.1 is a
    # statement about the physics, not about the noise
    cb = critical_beta(np.arange(0.25, 0.80, 0.05), width=50, depth=3, activation="tanh", n_networks=8, rng=0,
                       workers=1, points=grid(step=0.1))
    assert abs(cb.beta_cr - 0.5) < 0.1
    lo, hi = cb.interval
    assert lo <= cb.beta_cr <= hi and cb.coverage >= 0.95
    assert np.all(np.isfinite(cb.per_network))
    json.loads(dump_json(cb.to_dict()))
    # sigma = N^{-beta} on every layer instead of the fan-in: beta_cr moves to about (L - 1)/(2L) = 1/3
    cw = critical_beta(cb.scan.betas, width=50, depth=3, n_networks=8, rng=0, workers=1, points=grid(step=0.1),
                       beta_reference="width")
    assert cw.beta_cr < cb.beta_cr - 0.05


def test_crossings_and_median_interval():
    betas = np.array([0.0, 1.0, 2.0])
    g = np.array([[4.0, 0.5, 4.0, 4.0],
                  [2.0, 0.4, 0.5, 4.0],
                  [0.5, 0.3, 4.0, 4.0]])
    c = _crossings(betas, g, 1.0)
    # column 0: log-linear between (1, 2) and (2, 0.5): log 2 / log 4 = 1/2 of the way
    assert c[0] == pytest.approx(1.5)
    assert c[1] == -np.inf and c[3] == np.inf
    # column 2 returns above 1 at the last beta: never contracting for good on the grid
    assert c[2] == np.inf
    (lo, hi), cover = _median_interval(np.arange(10.0), 0.9)
    # Bin(10, 1/2): P(X <= 1) = 11/1024, so (x_(2), x_(9)) covers with 1 - 22/1024
    assert (lo, hi) == (1.0, 8.0) and cover == pytest.approx(1 - 22 / 1024)


def test_critical_beta_out_of_range():
    s = contraction_scan([0.8, 0.9], width=10, depth=2, n_networks=3, rng=0, workers=1, points=grid(step=0.5))
    with pytest.raises(ValueError, match="widen betas"):
        critical_beta(s)
    with pytest.raises(ValueError, match="not both"):
        critical_beta(s, 3)


def test_fit_log_linear_exact():
    L = np.arange(1, 8)
    slope, s_slope, c, s_c, chi2 = _fit_log_linear(L, 0.3 + L * np.log(0.8), np.full(7, 0.1))
    assert slope == pytest.approx(np.log(0.8)) and c == pytest.approx(0.3)
    assert chi2 == pytest.approx(0, abs=1e-20)
    # weighted least squares: slope error = sigma / sqrt(sum (L - mean L)^2)
    assert s_slope == pytest.approx(0.1 / np.sqrt(np.sum((L - L.mean()) ** 2)))


def test_contraction_vs_depth():
    r = contraction_vs_depth([1, 2, 3, 4], beta=0.7, width=16, n_networks=4, rng=3, workers=1,
                             points=grid(step=0.25))
    assert r.g.shape == (4, 4)
    np.testing.assert_allclose(r.log_g_mean, np.log(r.g).mean(axis=1))
    # beta above beta_cr: every layer contracts, g0 < 1
    assert r.g0 < 1 and r.g0_interval[0] < r.g0 < r.g0_interval[1]
    assert np.all(r.g <= r.lipschitz * (1 + 1e-12))
    np.testing.assert_allclose(r.fitted(), np.exp(r.intercept + r.slope * r.depths))
    json.loads(dump_json(r.to_dict()))
    with pytest.raises(ValueError, match="three depths"):
        contraction_vs_depth([1, 2], n_networks=1)


def test_contraction_arguments():
    with pytest.raises(ValueError, match="betas"):
        contraction_scan([0.5], n_networks=1)
    with pytest.raises(ValueError, match="betas"):
        contraction_scan([0.6, 0.5], n_networks=1)
    with pytest.raises(ValueError, match="method"):
        contraction_scan([0.4, 0.5], n_networks=1, method="max")
    with pytest.raises(ValueError, match="beta_reference"):
        contraction_scan([0.4, 0.5], n_networks=1, beta_reference="N")
    with pytest.raises(ValueError, match="points"):
        contraction_scan([0.4, 0.5], n_networks=1, points=np.zeros((1, 2)))


# ----------------------------------------------------------------- figures
def test_figures(serial, tmp_path):
    from rmtfp.plotting import (plot_contraction_scan, plot_contraction_vs_depth, plot_q_statistics,
                                save_figure)

    fig = plot_q_statistics(serial)
    assert len(fig.axes) == 2
    assert save_figure(fig, tmp_path / "q.png")
    cb = critical_beta([0.3, 0.5, 0.7], width=12, depth=3, n_networks=3, rng=0, workers=1, points=grid(step=0.5))
    fig = plot_contraction_scan(cb)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any("beta_{cr}" in t for t in labels)
    save_figure(fig, tmp_path / "scan.png")
    d = contraction_vs_depth([1, 2, 3], beta=0.7, width=8, n_networks=2, rng=0, workers=1, points=grid(step=0.5))
    save_figure(plot_contraction_vs_depth([d, d]), tmp_path / "depth.png")
    assert (tmp_path / "depth.png").stat().st_size > 1000
