"""Finite-width sampling of J J^T: reproducibility, an independent reference, exact facts, bad input.

Tolerances on sampled statistics are multiples of their finite-width error:
the O(1/N) bias of the moments ((1 + k(k-1)L/2)/N, measured on linear, ReLU,
hard-tanh and erf networks) plus the standard error over samples.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats

from rmtfp import DepthScan, JacobianSpectrum, sample_depth_scan, sample_jacobian_spectrum
from rmtfp.activations import get
from rmtfp.commands import dump_json
from rmtfp.sampling import ks_distance, spectrum_concentration


def reference_spectrum(activation, depth, width, n_samples, seed, sigma_w2=1.0, sigma_b2=0.0, q=1.0, index=0):
    """Plain-numpy re-implementation for network ``index``, following the documented stream layout."""
    act = get(activation)
    child = np.random.SeedSequence(seed).spawn(n_samples)[index]
    gen = np.random.Generator(np.random.SFC64(child))
    x = gen.standard_normal(width)
    x *= math.sqrt(width * (q - sigma_b2) / sigma_w2) / np.linalg.norm(x)
    J = np.eye(width)
    for _ in range(depth):
        W = gen.standard_normal((width, width)) * math.sqrt(sigma_w2 / width)
        b = math.sqrt(sigma_b2) * gen.standard_normal(width) if sigma_b2 > 0 else 0.0
        h = W @ x + b
        J = (act.dphi(h)[:, None] * W) @ J
        x = act.phi(h)
    return np.sort(np.linalg.eigvalsh(J @ J.T))


def moment_tolerance(k, depth, width, stderr, value):
    """3 x (finite-width bias scale (1 + k(k-1)L/2)/N + relative standard error)."""
    return 3 * ((1 + k * (k - 1) * depth / 2) / width + stderr / abs(value))


# ------------------------------------------------------------------- structure
def test_result_structure():
    r = sample_jacobian_spectrum("relu", 2, 40, 6, sigma_w2=2.0, rng=0)
    assert isinstance(r, JacobianSpectrum)
    assert r.eigenvalues.shape == (6, 40) and r.eigenvalues.dtype == np.float64
    assert np.all(np.diff(r.eigenvalues, axis=1) >= 0)
    assert np.all(r.eigenvalues >= 0)
    for s in range(6):  # the structural zeros are exact and come first
        assert np.all(r.eigenvalues[s, : r.n_zeros[s]] == 0.0)
        assert np.all(r.eigenvalues[s, r.n_zeros[s]:] > 0)
    assert r.preactivation_q.shape == (6, 2)
    assert r.params["seed"] == 0 and r.q_source == "unit input"  # ReLU at sigma_w2 = 2: every q is fixed
    d = json.loads(dump_json(r.to_dict()))
    assert d["width"] == 40 and len(d["eigenvalues"]) == 6
    assert "eigenvalues" not in r.to_dict(eigenvalues=False)


@pytest.mark.parametrize("activation, depth, s2, b2", [("linear", 2, 1.0, 0.0), ("relu", 2, 2.0, 0.0),
                                                      ("hardtanh", 3, 1.5, 0.1), ("erf", 2, 2.0, 0.0)])
def test_matches_plain_numpy_reference(activation, depth, s2, b2):
    act = get(activation)
    q = act.q_star(s2, b2) if act.depends_on_q else s2 + b2
    r = sample_jacobian_spectrum(activation, depth, 30, 3, sigma_w2=s2, sigma_b2=b2, rng=123, workers=1)
    for s in range(3):
        ref = reference_spectrum(activation, depth, 30, 3, 123, s2, b2, q, index=s)
        # svd of J vs eigvalsh of J J^T, different operation order: ~1e-14 lambda_max
        np.testing.assert_allclose(r.eigenvalues[s], ref, rtol=0, atol=1e-10 * ref[-1])


def test_reproducible_and_independent_of_batch_and_workers():
    a = sample_jacobian_spectrum("erf", 2, 25, 7, sigma_w2=2.0, sigma_b2=0.05, rng=5, batch=7, workers=1)
    b = sample_jacobian_spectrum("erf", 2, 25, 7, sigma_w2=2.0, sigma_b2=0.05, rng=5, batch=2, workers=2)
    c = sample_jacobian_spectrum("erf", 2, 25, 7, sigma_w2=2.0, sigma_b2=0.05, rng=5, batch=3, workers=3)
    np.testing.assert_array_equal(a.eigenvalues, b.eigenvalues)
    np.testing.assert_array_equal(a.eigenvalues, c.eigenvalues)
    np.testing.assert_array_equal(a.preactivation_q, c.preactivation_q)
    d = sample_jacobian_spectrum("erf", 2, 25, 7, sigma_w2=2.0, sigma_b2=0.05, rng=6)
    assert not np.array_equal(a.eigenvalues, d.eigenvalues)


def test_fresh_entropy_is_recorded_and_reproduces():
    a = sample_jacobian_spectrum("linear", 1, 10, 3)
    assert isinstance(a.seed, int)
    b = sample_jacobian_spectrum("linear", 1, 10, 3, rng=a.seed)
    np.testing.assert_array_equal(a.eigenvalues, b.eigenvalues)


def test_generator_rng():
    g1, g2 = np.random.default_rng(9), np.random.default_rng(9)
    a = sample_jacobian_spectrum("linear", 1, 10, 3, rng=g1)
    b = sample_jacobian_spectrum("linear", 1, 10, 3, rng=g2)
    np.testing.assert_array_equal(a.eigenvalues, b.eigenvalues)
    c = sample_jacobian_spectrum("linear", 1, 10, 3, rng=g1)  # the generator moves on
    assert not np.array_equal(a.eigenvalues, c.eigenvalues)
    assert a.seed is None


def test_depth_scan_equals_separate_runs():
    scan = sample_depth_scan("hardtanh", [3, 1, 2], 20, 4, sigma_w2=1.5, sigma_b2=0.1, rng=2)
    assert isinstance(scan, DepthScan) and scan.depths == (1, 2, 3)
    for L, spec in zip(scan.depths, scan.spectra):
        one = sample_jacobian_spectrum("hardtanh", L, 20, 4, sigma_w2=1.5, sigma_b2=0.1, rng=2)
        np.testing.assert_array_equal(spec.eigenvalues, one.eigenvalues)
        np.testing.assert_array_equal(spec.n_zeros, one.n_zeros)
    assert len(scan.concentration()) == 3
    json.loads(dump_json(scan.to_dict()))


def test_eigh_agrees_with_svd():
    a = sample_jacobian_spectrum("relu", 2, 30, 3, sigma_w2=2.0, rng=4, method="svd")
    b = sample_jacobian_spectrum("relu", 2, 30, 3, sigma_w2=2.0, rng=4, method="eigh")
    assert b.method == "eigh"
    np.testing.assert_allclose(a.eigenvalues, b.eigenvalues, rtol=0, atol=1e-12 * a.eigenvalues.max())


def test_float32_moments():
    r = sample_jacobian_spectrum("linear", 2, 60, 20, rng=1, dtype=np.float32)
    assert r.dtype == "float32" and r.eigenvalues.dtype == np.float64
    m, se = r.moments(2)
    assert abs(m[0] - 1) < moment_tolerance(1, 2, 60, se[0], 1.0)
    assert abs(m[1] - 3) < moment_tolerance(2, 2, 60, se[1], 3.0)


def test_progress_bar(capsys):
    sample_jacobian_spectrum("linear", 1, 8, 3, rng=0, progress=True)
    assert "3/3" in capsys.readouterr().err


# ----------------------------------------------------------------- exact facts
FACT_CASES = [
    ("linear", 1, 1.0, 0.0),
    ("linear", 3, 1.0, 0.0),
    ("relu", 2, 2.0, 0.0),
    ("hardtanh", 3, 1.5, 0.1),
    ("erf", 2, 2.0, 0.0),
]


@pytest.mark.parametrize("activation, depth, s2, b2", FACT_CASES)
def test_first_two_moments(activation, depth, s2, b2):
    # m_1 = chi^L and m_2 = m_1^2 (1 + L E[D^4] / E[D^2]^2) (THEORY)
    act = get(activation)
    q = act.q_star(s2, b2) if act.depends_on_q else None
    mu1, mu2 = act.d2_moment(1, q), act.d2_moment(2, q)
    m1 = (s2 * mu1) ** depth
    m2 = m1**2 * (1 + depth * mu2 / mu1**2)
    r = sample_jacobian_spectrum(activation, depth, 100, 40, sigma_w2=s2, sigma_b2=b2, rng=11)
    m, se = r.moments(2)
    assert abs(m[0] / m1 - 1) < moment_tolerance(1, depth, 100, se[0], m1)
    assert abs(m[1] / m2 - 1) < moment_tolerance(2, depth, 100, se[1], m2)


def test_marchenko_pastur_ks():
    # linear, L = 1: Marchenko-Pastur with ratio 1, F(lambda) = (2/pi)(t + sin t cos t), lambda = 4 sin^2 t
    r = sample_jacobian_spectrum("linear", 1, 100, 30, rng=3)

    def cdf(x, left=False):
        t = np.arcsin(np.sqrt(np.clip(np.asarray(x) / 4, 0, 1)))
        return 2 / np.pi * (t + np.sin(t) * np.cos(t))

    ks = ks_distance(r.pooled, cdf)
    assert ks < 3 / 100  # 3 x the bulk scale 1/N (one eigenvalue carries mass 1/N)


@pytest.mark.parametrize("activation, depth, s2, b2", [("relu", 1, 2.0, 0.0), ("relu", 2, 2.0, 0.0),
                                                      ("hardtanh", 3, 1.5, 0.1)])
def test_atom(activation, depth, s2, b2):
    # zeros = N - min_l #{phi'(h^l) != 0}; each count ~ Binomial(N, c): the zero fraction is
    # 1 - c for L = 1 and exceeds it by ~ sqrt(c(1-c)/N) for L >= 2 (the minimum of L counts)
    from rmtfp.sampling.compare import _finite_width_atom

    act = get(activation)
    q = act.q_star(s2, b2) if act.depends_on_q else None
    c = 1 - act.zero_probability(q)
    N, ns = 100, 60
    r = sample_jacobian_spectrum(activation, depth, N, ns, sigma_w2=s2, sigma_b2=b2, rng=8)
    expected = _finite_width_atom([c] * depth, N)
    se = (r.n_zeros / N).std(ddof=1) / math.sqrt(ns)
    assert abs(r.zero_fraction - expected) < 4 * se + 1 / N  # 4 standard errors, plus 1/N for the q jitter
    if depth == 1:
        assert expected == pytest.approx(1 - c)
    else:
        assert expected > 1 - c + 0.3 * math.sqrt(c * (1 - c) / N)


def test_finite_width_atom_formula_by_simulation():
    from rmtfp.sampling.compare import _finite_width_atom

    rng = np.random.default_rng(0)
    x = rng.binomial(50, [0.5, 0.7, 0.6], size=(200000, 3)).min(axis=1)
    mc = 1 - x.mean() / 50
    assert _finite_width_atom([0.5, 0.7, 0.6], 50) == pytest.approx(mc, abs=5 * x.std() / 50 / math.sqrt(200000))


def test_first_layer_variance_and_mean_field():
    # given x^0, h^1 ~ N(0, q) exactly: (1/N) sum h^2 has mean q and sd q sqrt(2/N)
    act = get("erf")
    q_star = act.q_star(2.0)
    r = sample_jacobian_spectrum("erf", 3, 200, 30, sigma_w2=2.0, q=3.0, rng=1)
    assert r.q_source == "given" and r.q[0] == 3.0
    assert r.q[1] == pytest.approx(act.variance_map(3.0, 2.0)) and abs(r.q[2] - q_star) < abs(r.q[1] - q_star)
    measured = r.preactivation_q.mean(axis=0)
    sd = np.array(r.q) * math.sqrt(2 / 200) / math.sqrt(30)
    assert np.all(np.abs(measured - np.array(r.q)) < 4 * sd + 3 * np.array(r.q) / 200)  # + O(1/N) bias


def test_per_layer_q_is_imposed():
    qs = [0.4, 2.0, 1.0]
    r = sample_jacobian_spectrum("hardtanh", 3, 200, 20, sigma_w2=1.5, sigma_b2=0.1, q=qs, rng=3)
    assert r.q == tuple(qs) and r.q_source == "per-layer"
    sd = np.array(qs) * math.sqrt(2 / 200) / math.sqrt(20)
    assert np.all(np.abs(r.preactivation_q.mean(axis=0) - qs) < 4 * sd)
    # the zero fractions follow the imposed variances: the largest P(|h| > 1) is at q = 2
    c = [1 - get("hardtanh").zero_probability(q) for q in qs]
    assert r.zero_fraction == pytest.approx(1 - min(c), abs=4 * math.sqrt(0.25 / 200 / 20) + 0.03)


def test_q_star_zero_gives_the_linear_law():
    # hard-tanh at sigma_w2 <= 1, sigma_b2 = 0: q* = 0, x^0 = 0, D = 1
    r = sample_jacobian_spectrum("hardtanh", 2, 30, 3, sigma_w2=0.8, rng=0)
    assert r.q == (0.0, 0.0) and r.zero_fraction == 0
    lin = sample_jacobian_spectrum("linear", 2, 30, 3, sigma_w2=0.8, rng=0)
    np.testing.assert_allclose(r.eigenvalues, lin.eigenvalues, rtol=1e-12)


# ----------------------------------------------------------------- weight laws
def test_scipy_frozen_law_variance_enters():
    law = stats.t(df=5)  # Var = 5/3
    r = sample_jacobian_spectrum("linear", 1, 80, 30, weights=law, rng=2)
    assert r.weight_variance == pytest.approx(5 / 3)
    assert r.weights["kind"] == "scipy" and "t" in r.weights["name"]
    m, se = r.moments(1)
    assert abs(m[0] / (5 / 3) - 1) < moment_tolerance(1, 1, 80, se[0], 5 / 3)


def test_universality_uniform_and_rademacher():
    # standardised laws give the Gaussian moments (Fuss-Catalan 1, 3 for linear L = 2)
    uniform = stats.uniform(loc=-math.sqrt(3), scale=2 * math.sqrt(3))
    r = sample_jacobian_spectrum("linear", 2, 80, 30, weights=uniform, rng=2)
    m, se = r.moments(2)
    assert abs(m[1] / 3 - 1) < moment_tolerance(2, 2, 80, se[1], 3.0)

    def rademacher(rng, shape):
        return rng.choice([-1.0, 1.0], size=shape)

    r = sample_jacobian_spectrum("linear", 2, 80, 30, weights=rademacher, rng=2)
    assert r.weights["kind"] == "callable" and r.weight_variance == 1.0
    m, se = r.moments(2)
    assert abs(m[1] / 3 - 1) < moment_tolerance(2, 2, 80, se[1], 3.0)


def test_cauchy_concentrates_with_depth():
    scan = sample_depth_scan("tanh", [1, 3, 6], 60, 8, weights="cauchy", rng=4)
    s = scan.spectra[0]
    assert s.weight_variance is None and s.q is None and s.weights["name"] == "cauchy"
    assert all(np.all(np.isfinite(sp.eigenvalues)) for sp in scan.spectra)
    conc = scan.concentration((1e-3,))
    frac = [c.fraction_below[0] for c in conc]
    med = [c.median for c in conc]
    # the papers' observation (their Fig. 7): the spectrum piles up at 0 as L grows
    assert frac[0] < frac[1] < frac[2] and med[0] > med[1] > med[2]
    assert conc[2].fraction_below[0] > 0.5


def test_cauchy_scale_is_sigma_w2_over_n():
    # "cauchy" entries are (sigma_w2/N) C with C standard Cauchy; a callable law is scaled by
    # sqrt(sigma_w2'/N): the two agree when sigma_w2' = sigma_w2^2/N (same stream, linear: D = 1)
    N, s = 20, 2.0
    a = sample_jacobian_spectrum("linear", 2, N, 3, weights="cauchy", sigma_w2=s, q=1.0, rng=1)

    def cauchy(rng, shape):
        return rng.standard_cauchy(shape)

    b = sample_jacobian_spectrum("linear", 2, N, 3, weights=cauchy, sigma_w2=s**2 / N, q=1.0, rng=1)
    np.testing.assert_allclose(a.eigenvalues, b.eigenvalues, rtol=1e-10, atol=1e-12 * a.eigenvalues.max())


def test_concentration_statistics():
    r = sample_jacobian_spectrum("relu", 2, 30, 5, sigma_w2=2.0, rng=0)
    c = spectrum_concentration(r, [1e-9, 1.0])
    assert c.fraction_below[0] >= r.zero_fraction
    assert c.fraction_below[1] == pytest.approx(np.mean(r.eigenvalues <= 1.0))
    assert c.median == pytest.approx(np.median(r.eigenvalues))
    json.loads(dump_json(c.to_dict()))
    with pytest.raises(ValueError, match="thresholds"):
        spectrum_concentration(r, [-1.0])


# ------------------------------------------------------------------- bad input
@pytest.mark.parametrize("kwargs, match", [
    (dict(width=0), "width"),
    (dict(n_samples=0), "n_samples"),
    (dict(depth=0), "depth"),
    (dict(width=2.5), "width"),
    (dict(weights="levy"), "unknown law 'levy'"),
    (dict(sigma_w2=0.0), "sigma_w2"),
    (dict(sigma_b2=-1.0), "sigma_b2"),
    (dict(sigma_b2=0.5, q=0.2), "q must be finite and >= sigma_b2"),
    (dict(q=[1.0, 1.0, 1.0]), "one value per layer"),
    (dict(dtype=np.int32), "dtype"),
    (dict(method="qr"), "method"),
    (dict(batch=0), "batch"),
    (dict(rng=-1), "rng"),
])
def test_bad_input_raises(kwargs, match):
    args = dict(activation="erf", depth=2, width=10, n_samples=2, sigma_w2=2.0)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        sample_jacobian_spectrum(**args)


def test_bad_types_raise():
    with pytest.raises(TypeError, match="weights"):
        sample_jacobian_spectrum("erf", 2, 10, 2, weights=3)
    with pytest.raises(TypeError, match="rng"):
        sample_jacobian_spectrum("erf", 2, 10, 2, rng="seed")
    with pytest.raises(ValueError, match="unknown activation"):
        sample_jacobian_spectrum("swishy", 2, 10, 2)


def test_non_finite_draws_raise():
    def broken(rng, shape):
        x = rng.standard_normal(shape)
        x[0, 0] = np.inf
        return x

    with pytest.raises(ValueError, match="non-finite"):
        sample_jacobian_spectrum("linear", 1, 10, 2, weights=broken, rng=0)

    def wrong_shape(rng, shape):
        return rng.standard_normal(3)

    with pytest.raises(ValueError, match="shape"):
        sample_jacobian_spectrum("linear", 1, 10, 2, weights=wrong_shape, rng=0)


def test_overflow_raises():
    # entries of scale 1e15 overflow float32 within a few layers: an error, not silent inf
    with pytest.raises(ValueError, match="overflowed"):
        sample_jacobian_spectrum("linear", 8, 20, 1, weights="cauchy", sigma_w2=1e16, dtype=np.float32, rng=0)


def test_degenerate_or_invalid_scipy_laws_raise():
    with pytest.raises(ValueError, match="variance 0"):
        sample_jacobian_spectrum("linear", 1, 10, 2, weights=stats.rv_discrete(values=([1.0], [1.0])), rng=0)
    with pytest.raises(ValueError, match="invalid parameters"):
        sample_jacobian_spectrum("linear", 1, 10, 2, weights=stats.norm(scale=0.0), rng=0)
