"""Contraction constants: eq. (5.2) over pairs, the Jacobian route, the global Lipschitz bound."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rmtfp.dynamics.contraction as contraction
from rmtfp import (Network, contraction_constant, find_all_fixed_points, find_fixed_points, grid,
                   lipschitz_bound, random_starts)


def rounding_allowance(net, x) -> float:
    """Absolute float64 error of eq. (5.2): Phi(x_i) - Phi(x_j) carries ~eps |Phi| of rounding, so the
    ratio carries ~eps |Phi| / |x_i - x_j|; 1e-13 covers eps = 2.2e-16 times the forward error growth."""
    d = np.sqrt(contraction._sq_dist_block(x, x))
    d[np.diag_indices_from(d)] = np.inf
    return 1e-13 * max(1.0, np.abs(net(x)).max(), np.abs(x).max()) / d.min()


def brute_force_g(net, x):
    """max_{i<j} |Phi(x_i) - Phi(x_j)| / |x_i - x_j|, one row at a time."""
    y = net(x)
    best = 0.0
    for i in range(len(x) - 1):
        r = np.linalg.norm(y[i + 1:] - y[i], axis=1) / np.linalg.norm(x[i + 1:] - x[i], axis=1)
        best = max(best, float(r.max()))
    return best


# ------------------------------------------------------------------ exactness of the pairwise maximum
@pytest.mark.parametrize("law, act, seed", [("cauchy", "hardtanh", 1), ("normal", "tanh", 0), ("normal", "relu", 2)])
def test_pairs_equal_brute_force(law, act, seed):
    net = Network.random([2, 50, 50, 2], act, law, rng=seed)
    for pts in (random_starts(300, 2, rng=seed), grid()):  # dense path and pruned path (1681 > 4 x 256)
        g = contraction_constant(net, pts)
        # same maximum, different rounding of the norms: relative 1e-14
        assert g == pytest.approx(brute_force_g(net, pts), rel=1e-14)


def test_pruned_path_with_small_blocks_is_exact(monkeypatch):
    """Many blocks and sub-blocks: the bounds must never prune the maximising pair."""
    monkeypatch.setattr(contraction, "_BLOCK", 32)
    monkeypatch.setattr(contraction, "_SUBBLOCK", 8)
    monkeypatch.setattr(contraction, "_PAIR_ELEMENTS", 1000)
    for law, act, seed in [("cauchy", "hardtanh", 3), ("normal", "erf", 4), ("normal", "linear", 5)]:
        net = Network.random([2, 30, 2], act, law, rng=seed)
        pts = grid(step=0.08)
        assert contraction_constant(net, pts) == pytest.approx(brute_force_g(net, pts), rel=1e-14)


def test_return_pair_mask_and_duplicates():
    net = Network.random([2, 40, 2], "tanh", "cauchy", rng=6)
    pts = random_starts(200, 2, rng=7)
    g, i, j = contraction_constant(net, pts, return_pair=True)
    assert i < j
    ratio = np.linalg.norm(net(pts[i]) - net(pts[j])) / np.linalg.norm(pts[i] - pts[j])
    assert g == pytest.approx(ratio, rel=1e-14)  # rounding of the two norms
    doubled = np.vstack([pts, pts[::3]])
    assert contraction_constant(net, doubled) == pytest.approx(g, rel=1e-15)
    mask = pts[:, 0] > 0
    gm, im, jm = contraction_constant(net, pts, mask=mask, return_pair=True)
    assert mask[im] and mask[jm]
    assert gm == pytest.approx(brute_force_g(net, pts[mask]), rel=1e-14)
    gj, k = contraction_constant(net, pts, method="jacobian", return_pair=True)
    assert gj == pytest.approx(np.linalg.norm(net.jacobian(pts[k]), 2), rel=1e-14)


def test_per_basin_constants_from_a_result():
    net = Network.random([2, 100, 100, 100, 100, 2], "hardtanh", "cauchy", rng=1)
    res = find_fixed_points(net, grid(step=0.1))
    assert res.Q >= 2
    for k in range(res.Q):
        mask = res.basin(k)
        if mask.sum() >= 2:
            g = contraction_constant(net, res.starts, mask=mask)
            assert g == pytest.approx(brute_force_g(net, res.starts[mask]), rel=1e-14)


# ------------------------------------------------------------------ linear maps: everything known
def test_linear_map_constants_equal_the_operator_norm():
    a = np.array([[0.3, -1.2], [0.8, 0.5]])
    net = Network([a], [np.array([0.1, -0.4])], "linear")
    norm = np.linalg.norm(a, 2)
    assert lipschitz_bound(net) == pytest.approx(norm, rel=1e-15)
    pts = random_starts(100, 2, rng=0)
    assert contraction_constant(net, pts, method="jacobian") == pytest.approx(norm, rel=1e-14)
    assert contraction_constant(net, pts) <= norm * (1 + 1e-14) + rounding_allowance(net, pts)
    v = np.linalg.svd(a)[2][0]  # top right-singular vector: the ratio is the norm on that line
    line = np.outer(np.linspace(-1, 1, 11), v)
    assert contraction_constant(net, line) == pytest.approx(norm, rel=1e-14)


def test_lipschitz_bound_counts_activated_layers():
    net = Network.random([2, 5, 2], "sigmoid", rng=1)  # Lip(sigmoid) = 1/4
    norms = np.prod([np.linalg.norm(w, 2) for w in net.weights])
    assert lipschitz_bound(net) == pytest.approx(norms / 16, rel=1e-14)
    affine = Network(net.weights, net.biases, "sigmoid", last_activation=False)
    assert lipschitz_bound(affine) == pytest.approx(norms / 4, rel=1e-14)


# ------------------------------------------------------------------ properties on random small networks
@st.composite
def smooth_networks(draw):
    n = draw(st.integers(1, 3))
    hidden = draw(st.lists(st.integers(1, 6), min_size=0, max_size=2))
    act = draw(st.sampled_from(["tanh", "erf", "sigmoid", "linear"]))
    scale = draw(st.floats(0.1, 4.0))
    seed = draw(st.integers(0, 2**32 - 1))
    return Network.random([n, *hidden, n], act, "normal", scale=scale, rng=seed), seed


@st.composite
def piecewise_networks(draw):
    n = draw(st.integers(1, 3))
    hidden = draw(st.lists(st.integers(1, 6), min_size=0, max_size=2))
    act = draw(st.sampled_from(["hardtanh", "relu"]))
    seed = draw(st.integers(0, 2**32 - 1))
    law = draw(st.sampled_from(["normal", "cauchy"]))
    return Network.random([n, *hidden, n], act, law, rng=seed), seed


def _preact(net, x, layer):
    """Pre-activations of layer ``layer`` (hidden layers are always activated)."""
    if layer:
        x = Network(net.weights[:layer], net.biases[:layer], net.activation)(x)
    return x @ net.weights[layer].T + net.biases[layer]


def _segment_pieces(net, a, b):
    """Breakpoints 0 = t_0 < ... < t_K = 1 of the piecewise-affine t -> Phi(a + t (b - a)) (hard-tanh, ReLU).

    Layer by layer the pre-activations are affine in t on every piece found so far; each crossing of a kink
    (h = +-1 for hard-tanh, h = 0 for ReLU) is solved for exactly from the piece's two ends and splits it.
    """
    kinks = (-1.0, 1.0) if net.activation.name == "hardtanh" else (0.0,)
    ts = np.array([0.0, 1.0])
    for layer in range(net.depth):
        h = _preact(net, a + ts[:, None] * (b - a), layer)
        new = [ts]
        for p in range(ts.size - 1):
            lo, hi, h_lo, h_hi = ts[p], ts[p + 1], h[p], h[p + 1]
            for k in kinks:
                with np.errstate(divide="ignore", invalid="ignore"):
                    t = lo + (k - h_lo) / (h_hi - h_lo) * (hi - lo)
                new.append(t[np.isfinite(t) & (t > lo) & (t < hi)])
        ts = np.unique(np.concatenate(new))
    return ts


@given(st.one_of(smooth_networks(), piecewise_networks()))
@settings(deadline=None)
def test_pairs_below_jacobian_sup_on_hull_below_lipschitz_bound(case):
    net, seed = case
    pts = random_starts(40, net.n_in, rng=seed)
    g, i, j = contraction_constant(net, pts, return_pair=True)
    # sup ||DPhi|| on the convex hull, sampled: the segment [x_i, x_j] and random convex combinations
    t = np.linspace(0, 1, 2001)[:, None]
    seg = pts[i] + t * (pts[j] - pts[i])
    w = np.random.default_rng(seed).dirichlet(np.ones(len(pts)), size=2000)
    hull = np.vstack([seg, w @ pts, pts])
    norms = np.linalg.norm(net.jacobian(hull), ord=2, axis=(1, 2))
    sup_hull = norms.max()
    lip = lipschitz_bound(net)
    # submultiplicativity, pointwise: only rounding (1e-12 relative)
    assert sup_hull <= lip * (1 + 1e-12)
    assert g <= lip * (1 + 1e-12) + rounding_allowance(net, pts)
    gj, k = contraction_constant(net, pts, method="jacobian", return_pair=True)
    if net.activation.name not in ("hardtanh", "relu"):
        # the Jacobian route against central differences of Phi at its maximising point (an independent
        # route); step 1e-5: truncation h^2 |Phi^(3)| / 6 and rounding eps |Phi| / h, both below 1e-8 here
        h = 1e-5
        fd = np.column_stack([(net(pts[k] + h * e) - net(pts[k] - h * e)) / (2 * h) for e in np.eye(net.n_in)])
        assert gj == pytest.approx(np.linalg.norm(fd, 2), rel=1e-6, abs=1e-8 * max(1.0, lip))
        # mean-value inequality: g <= mean of ||DPhi|| on the segment <= its max; the sampled mean is a
        # midpoint rule with step 5e-4 for a Lipschitz integrand: relative error below 1e-4
        assert g <= norms[:2001].max() * (1 + 1e-4) + rounding_allowance(net, pts)
        assert g <= sup_hull * (1 + 1e-4) + rounding_allowance(net, pts)
        return
    # piecewise-linear phi: Phi is affine on each piece of the segment, so exactly
    # Phi(x_j) - Phi(x_i) = sum_k (t_{k+1} - t_k) DPhi(mid_k) (x_j - x_i), and the mean-value inequality
    # g <= sum_k (t_{k+1} - t_k) ||DPhi(mid_k)|| <= max_k ||DPhi(mid_k)|| holds, with the pieces found exactly
    ts = _segment_pieces(net, pts[i], pts[j])
    mids = pts[i] + (0.5 * (ts[:-1] + ts[1:]))[:, None] * (pts[j] - pts[i])
    jac = net.jacobian(mids)
    dt = np.diff(ts)
    d = pts[j] - pts[i]
    # the decomposition is complete (no piece missed): the increments add up, to rounding of |Phi| and of
    # the products (1e-12 relative to the scale of Phi and of the Lipschitz bound times |d|)
    tol = 1e-12 * max(1.0, float(np.abs(net(pts[[i, j]])).max()), lip * float(np.linalg.norm(d)))
    assert np.allclose(np.einsum("k,kab,b->a", dt, jac, d), net(pts[j]) - net(pts[i]), rtol=0, atol=tol)
    piece_norms = np.linalg.norm(jac, ord=2, axis=(1, 2))
    assert g <= float(dt @ piece_norms) * (1 + 1e-12) + rounding_allowance(net, pts)
    assert g <= piece_norms.max() * (1 + 1e-12) + rounding_allowance(net, pts)


@st.composite
def contracting_networks(draw):
    net, seed = draw(st.one_of(smooth_networks(), piecewise_networks()))
    q = draw(st.floats(0.05, 0.9))
    factor = (q / lipschitz_bound(net)) ** (1 / net.depth)  # the bound scales like factor^L
    return Network([w * factor for w in net.weights], net.biases, net.activation,
                   last_activation=net.last_activation), seed


@given(contracting_networks())
@settings(deadline=None)
def test_bound_below_one_gives_one_fixed_point_and_geometric_convergence(case):
    net, seed = case
    q = lipschitz_bound(net)
    assert q < 0.9 + 1e-9
    starts = random_starts(50, net.n_in, bounds=(-3, 3), rng=seed)
    # q^m 6 sqrt(n) < 1e-5 needs m < log(1e-5 / 11) / log(0.9) = 133 maps
    res = find_fixed_points(net, starts, max_iter=200)
    assert res.Q == 1 and np.all(res.status == "fixed_point") and np.all(res.labels == 0)
    assert res.fractions["fixed_point:0"] == 1.0
    assert res.stability[0].kind == "stable" and res.stability[0].spectral_radius <= q * (1 + 1e-12)
    assert contraction_constant(net, starts) <= q * (1 + 1e-12) + rounding_allowance(net, starts)
    x_star = res.fixed_points[0]
    x = starts.copy()
    err0 = np.linalg.norm(x - x_star, axis=1)
    for m in range(1, 40):
        x = net(x)
        err = np.linalg.norm(x - x_star, axis=1)
        # Banach: |x^m - x*| <= q^m |x^0 - x*|; floor 1e-14 for rounding at the fixed point
        assert np.all(err <= q**m * err0 * (1 + 1e-9) + 1e-14)
    newton = find_all_fixed_points(net, starts)
    assert newton.Q == 1 and np.linalg.norm(newton.fixed_points[0] - x_star) <= 1e-12


# ------------------------------------------------------------------ bad input
def test_bad_input():
    net = Network.random([2, 5, 2], "tanh", rng=0)
    pts = grid(step=0.5)
    with pytest.raises(ValueError, match="method must be one of"):
        contraction_constant(net, pts, method="max")
    with pytest.raises(ValueError, match=r"shape \(M, 2\)"):
        contraction_constant(net, np.zeros((4, 3)))
    with pytest.raises(ValueError, match="finite"):
        contraction_constant(net, np.array([[0.0, np.inf], [1.0, 1.0]]))
    with pytest.raises(ValueError, match="two distinct points"):
        contraction_constant(net, np.ones((5, 2)))
    with pytest.raises(ValueError, match="two distinct points"):
        contraction_constant(net, np.empty((0, 2)))
    with pytest.raises(ValueError, match="at least one point"):
        contraction_constant(net, pts, method="jacobian", mask=np.zeros(len(pts), dtype=bool))
    with pytest.raises(ValueError, match="mask must be a boolean array"):
        contraction_constant(net, pts, mask=np.ones(3, dtype=bool))
    with pytest.raises(ValueError, match="mask must be a boolean array"):
        contraction_constant(net, pts, mask=np.ones(len(pts)))
    with pytest.raises(ValueError, match="net must be"):
        contraction_constant(None, pts)
    with pytest.raises(ValueError, match="net must be"):
        lipschitz_bound("net")


@pytest.mark.slow
def test_pairs_on_401_grid_bounded_memory():
    """Exact g on 401 x 401 = 160801 points (1.3e10 pairs) with bounded memory."""
    net = Network.random([2, 100, 100, 2], "tanh", "normal", rng=0)
    pts = grid(step=0.005)
    tracemalloc.start()
    g = contraction_constant(net, pts)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 300 * 2**20  # Phi in small chunks, k-d tree and 2 MiB pair blocks; all pairs would be 100 GiB
    assert 0 < g <= lipschitz_bound(net)
    assert g >= contraction_constant(net, pts[::7])  # a subset cannot have a larger maximum
