"""Networks as data: construction, validation, evaluation, Jacobian, sampling, files."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from scipy import stats

from rmtfp import Network, activations
from rmtfp.activations import Activation

SMOOTH = [name for name in activations.available() if name not in ("relu", "hardtanh")]


def _small(activation="tanh", rng=0, widths=(3, 7, 5, 3), **kw):
    return Network.random(list(widths), activation, scale=1.5, rng=rng, **kw)


# ------------------------------------------------------------------ construction
def test_attributes():
    net = _small()
    assert net.widths == (3, 7, 5, 3)
    assert net.depth == 3
    assert [w.shape for w in net.weights] == [(7, 3), (5, 7), (3, 5)]
    assert [b.shape for b in net.biases] == [(7,), (5,), (3,)]
    assert net.activation is activations.get("tanh")
    assert net.n_in == 3 and net.n_out == 3
    assert "widths=[3, 7, 5, 3]" in repr(net)


def test_weights_are_read_only_copies():
    w = [np.ones((2, 2))]
    net = Network(w, [np.zeros(2)], "linear")
    w[0][0, 0] = 5.0
    assert net.weights[0][0, 0] == 1.0
    with pytest.raises(ValueError):
        net.weights[0][0, 0] = 2.0


@pytest.mark.parametrize(
    "weights, biases, match",
    [
        ([], [], "at least one matrix"),
        ([np.ones((3, 2))], [np.zeros(2)], r"biases\[0\] must have shape \(3,\)"),
        ([np.ones((3, 2)), np.ones((2, 4))], [np.zeros(3), np.zeros(2)], r"weights\[1\] needs 3 columns"),
        ([np.ones((3, 2))], [], "one vector per weight matrix"),
        ([np.ones(3)], [np.zeros(3)], "2-d array"),
        ([np.array([[1.0, np.nan]])], [np.zeros(1)], "finite"),
        ([np.array([[1.0, np.inf]])], [np.zeros(1)], "finite"),
        ([np.ones((1, 2))], [np.array([np.nan])], "finite"),
        (np.ones((2, 2)), [np.zeros(2)], "single 2-d array"),
    ],
)
def test_bad_construction(weights, biases, match):
    with pytest.raises(ValueError, match=match):
        Network(weights, biases, "tanh")


def test_bad_activation_and_flag():
    with pytest.raises(ValueError, match="unknown activation"):
        Network([np.eye(2)], [np.zeros(2)], "nope")
    with pytest.raises(ValueError, match="last_activation"):
        Network([np.eye(2)], [np.zeros(2)], "tanh", last_activation="yes")


# ------------------------------------------------------------------ evaluation
def test_call_matches_layer_by_layer_and_keeps_batch_shape():
    net = _small()
    rng = np.random.default_rng(1)
    x = rng.normal(size=(4, 6, 3))
    h = x
    for w, b in zip(net.weights, net.biases):
        h = np.tanh(h @ w.T + b)
    y = net(x)
    assert y.shape == (4, 6, 3)
    np.testing.assert_allclose(y, h, rtol=0, atol=1e-15)  # same operations, rounding only
    np.testing.assert_allclose(net(x[0, 0]), h[0, 0], rtol=0, atol=1e-15)


def _products_by_block(net, x, rows):
    """Phi of x with every layer product taken block by block (2-d products of ``rows`` rows), whole otherwise."""
    out = []
    for s in range(0, x.shape[0], rows):
        h = x[s:s + rows]
        for wt, b, activated in net._plan:
            h = h @ wt + b
            h = net._phi_inplace(h) if activated else h
        out.append(h)
    return np.concatenate(out)


@pytest.mark.parametrize("widths, block", [((2, 100, 100, 2), 100), ((3, 30, 40, 3), 833), ((2, 200, 200, 2), 0), ((2, 200, 2), 2500),
                                           ((2, 177, 177, 2), 0)])
def test_block_rows_follow_the_largest_layer(widths, block):
    """Blocks of at most 10^6 / (k n) rows over the largest layer (OpenBLAS's small products), none under 32."""
    assert Network.random(list(widths), "tanh", rng=0)._block == block


@pytest.mark.parametrize("m", [1, 99, 100, 101, 250, 1681])
def test_stacked_products_are_the_products_of_their_blocks(m):
    """Stacked, a batch of more rows than a block is multiplied in equal blocks: bit for bit the 2-d products of
    the blocks, the rows padded to equal blocks with copies of the last row, which never show; net(x) and the
    Jacobian's forward pass multiply the batch whole."""
    net = Network.random([2, 100, 100, 2], "tanh", rng=1)
    x = np.random.default_rng(m).uniform(-1, 1, size=(m, 2))
    y = net._forward(x, stacked=True)
    assert y.shape == (m, 2)
    blocks = -(-m // 100)
    rows = -(-m // blocks)
    padded = np.concatenate([x, np.repeat(x[-1:], blocks * rows - m, axis=0)])
    np.testing.assert_array_equal(y, _products_by_block(net, padded, rows)[:m])
    whole = net(x)
    np.testing.assert_array_equal(whole, _products_by_block(net, x, m))
    fwd, jac = net._forward_jacobian(x)
    np.testing.assert_array_equal(fwd, whole)  # the Jacobian's forward pass is Phi as net(x) gives it
    assert jac.shape == (m, 2, 2)
    np.testing.assert_allclose(jac, net.jacobian(x[::-1])[::-1], rtol=1e-12, atol=1e-13)  # other order: rounding
    # stacked against whole: the same sums in another order (100 terms of size <= ~1, eps each)
    np.testing.assert_allclose(y, whole, rtol=0, atol=1e-13)


def test_stacked_products_keep_non_finite_rows_to_themselves():
    net = Network.random([2, 100, 100, 2], "tanh", rng=2)
    x = np.random.default_rng(3).uniform(-1, 1, size=(257, 2))
    x[0], x[-1] = np.nan, np.inf  # the last row is the one the padding copies
    y = net._forward(x, stacked=True)
    assert np.isnan(y[0]).all() and not np.isfinite(y[-1]).all()
    assert np.isfinite(y[1:-1]).all()
    clean = x.copy()
    clean[0], clean[-1] = 0.5, -0.5
    # the same blocks: rounding at most
    np.testing.assert_allclose(y[1:-1], net._forward(clean, stacked=True)[1:-1], rtol=0, atol=1e-13)


def test_last_activation_false_is_affine_output():
    net = _small(last_activation=False)
    x = np.random.default_rng(2).normal(size=(5, 3))
    h = x
    for l, (w, b) in enumerate(zip(net.weights, net.biases)):
        h = h @ w.T + b
        if l < net.depth - 1:
            h = np.tanh(h)
    np.testing.assert_allclose(net(x), h, rtol=0, atol=1e-15)  # rounding only


def test_call_rejects_wrong_shape():
    net = _small()
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 3\)"):
        net(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="n_in = 3"):
        net.jacobian(np.zeros(5))


@pytest.mark.parametrize("name", activations.available())
def test_fast_activation_paths_match_registry(name):
    """The in-place float64 kernels equal the registered activation (kinks included)."""
    act = activations.get(name)
    net = Network([np.eye(1)], [np.zeros(1)], act)
    h = np.concatenate([np.linspace(-6, 6, 1001), [-1.0, 0.0, 1.0]])
    np.testing.assert_allclose(net._phi_inplace(h.copy()), act.phi(h), rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(net._dphi(h.copy()), act.dphi(h), rtol=1e-14, atol=1e-15)


def test_custom_activation_uses_generic_path():
    x = sp.Symbol("x", real=True)
    swish = Activation("swish_test", x / (1 + sp.exp(-x)))
    net = Network([np.array([[0.5, -1.0], [2.0, 0.3]])], [np.array([0.1, -0.2])], swish)
    assert net._fast is None
    pts = np.array([[0.3, -0.7], [1.0, 2.0]])
    h = pts @ net.weights[0].T + net.biases[0]
    np.testing.assert_allclose(net(pts), h / (1 + np.exp(-h)), rtol=1e-14)


def test_renamed_builtin_name_with_other_expression_is_not_fast_pathed():
    x = sp.Symbol("x", real=True)
    fake = Activation("tanh", 2 * sp.tanh(x))  # same name, different phi: must not use np.tanh
    net = Network([np.eye(1)], [np.zeros(1)], fake)
    assert net._fast is None
    np.testing.assert_allclose(net(np.array([[0.5]])), [[2 * np.tanh(0.5)]], rtol=1e-14)


@pytest.mark.parametrize("name", SMOOTH)
def test_jacobian_matches_finite_differences(name):
    net = Network.random([2, 6, 5, 2], name, scale=2.0, rng=4)
    x = np.random.default_rng(5).uniform(-1, 1, size=(7, 2))
    jac = net.jacobian(x)
    assert jac.shape == (7, 2, 2)
    eps = 1e-6
    for k in range(2):
        e = np.zeros(2)
        e[k] = eps
        fd = (net(x + e) - net(x - e)) / (2 * eps)
        # central differences: error O(eps^2 |phi'''|) + O(1e-16 / eps) ~ 1e-9
        np.testing.assert_allclose(jac[:, :, k], fd, rtol=0, atol=1e-8)


@pytest.mark.parametrize("name", ["relu", "hardtanh"])
def test_jacobian_piecewise_linear_is_exact_inside_pieces(name):
    net = Network.random([2, 8, 8, 2], name, scale=2.0, rng=6)
    x = np.random.default_rng(7).uniform(-1, 1, size=(20, 2))
    jac = net.jacobian(x)
    eps = 1e-7
    for k in range(2):
        e = np.zeros(2)
        e[k] = eps
        fd = (net(x + e) - net(x)) / eps
        same_piece = np.all(np.abs(fd - jac[:, :, k]) < 1e-6, axis=1)
        # away from kinks the map is affine: the forward difference is exact up to rounding 1e-9
        assert same_piece.mean() > 0.8


def test_jacobian_batch_shape():
    net = _small()
    assert net.jacobian(np.zeros((2, 4, 3))).shape == (2, 4, 3, 3)
    assert net.jacobian(np.zeros(3)).shape == (3, 3)


# ------------------------------------------------------------------ sampling
def test_random_is_reproducible_and_documented_draw_order():
    a = Network.random([2, 5, 2], "hardtanh", "normal", rng=11)
    b = Network.random([2, 5, 2], "hardtanh", "normal", rng=np.random.default_rng(11))
    for wa, wb in zip(a.weights + a.biases, b.weights + b.biases):
        np.testing.assert_array_equal(wa, wb)
    g = np.random.default_rng(11)
    w0 = g.standard_normal((5, 2)) * np.sqrt(1 / 2)  # variance 1/n_l, n_l the fan-in
    b0 = g.standard_normal(5) * np.sqrt(1 / 2)
    w1 = g.standard_normal((2, 5)) * np.sqrt(1 / 5)
    b1 = g.standard_normal(2) * np.sqrt(1 / 5)
    for got, want in zip(a.weights + a.biases, [w0, w1, b0, b1]):
        np.testing.assert_array_equal(got, want)


def test_random_cauchy_scale_is_one_over_fan_in():
    net = Network.random([2, 5, 2], "hardtanh", "cauchy", rng=3)
    g = np.random.default_rng(3)
    np.testing.assert_array_equal(net.weights[0], g.standard_cauchy((5, 2)) * (1 / 2))
    np.testing.assert_array_equal(net.biases[0], g.standard_cauchy(5) * (1 / 2))
    np.testing.assert_array_equal(net.weights[1], g.standard_cauchy((2, 5)) * (1 / 5))  # documented: draws times s_l


def test_random_variance_of_normal_weights():
    net = Network.random([400, 400, 400], "tanh", "normal", rng=0)
    # sample variance of 160000 entries: relative standard error sqrt(2/160000) = 0.0035
    assert net.weights[0].var() * 400 == pytest.approx(1.0, rel=0.02)
    std = Network.random([400, 400, 400], "tanh", "normal", rng=0, scale_means="scale")
    assert std.weights[0].std() * 400 == pytest.approx(1.0, rel=0.02)


def test_random_scale_options_and_frozen_law():
    beta = 0.75
    net = Network.random([4, 4, 4], "tanh", "normal", scale=lambda n: n ** (-2 * beta), rng=1)
    ref = Network.random([4, 4, 4], "tanh", "normal", scale=4 ** (-2 * beta), rng=1)
    np.testing.assert_array_equal(net.weights[1], ref.weights[1])
    law = stats.t(df=3)
    net = Network.random([3, 4, 3], "tanh", law, scale=0.5, rng=2)
    g = np.random.default_rng(2)
    np.testing.assert_array_equal(net.weights[0], law.rvs(size=(4, 3), random_state=g) * 0.5)
    nob = Network.random([3, 4, 3], "tanh", "normal", rng=2, bias=False)
    assert all(np.all(b == 0) for b in nob.biases)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(widths=[2]), "at least two"),
        (dict(widths=[2, 0, 2]), "at least two positive"),
        (dict(widths=[2, 2.5, 2]), "positive integer"),
        (dict(widths=[2, 3, 2], weights="uniform"), "weights must be one of"),
        (dict(widths=[2, 3, 2], weights=3), "weights must be one of"),
        (dict(widths=[2, 3, 2], scale="fan_out"), "scale must be"),
        (dict(widths=[2, 3, 2], scale=0.0), "scale must be"),
        (dict(widths=[2, 3, 2], scale=float("nan")), "scale"),
        (dict(widths=[2, 3, 2], scale=lambda n: -1.0), r"scale\(2\)"),
        (dict(widths=[2, 3, 2], scale_means="std"), "scale_means"),
    ],
)
def test_random_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Network.random(**kwargs)


# ------------------------------------------------------------------ files
def test_save_load_roundtrip(tmp_path):
    net = _small("hardtanh", last_activation=False)
    path = tmp_path / "net.npz"
    net.save(path)
    back = Network.load(path)
    assert back.widths == net.widths and back.activation is net.activation
    assert back.last_activation is False
    for a, b in zip(net.weights + net.biases, back.weights + back.biases):
        np.testing.assert_array_equal(a, b)
    with np.load(path) as data:
        assert sorted(data.files) == ["W0", "W1", "W2", "activation", "b0", "b1", "b2", "last_activation"]


def test_load_handwritten_file_and_errors(tmp_path):
    path = tmp_path / "hand.npz"
    np.savez(path, W0=np.eye(2), b0=np.zeros(2), activation="tanh")
    net = Network.load(path)
    assert net.last_activation is True and net.activation.name == "tanh"
    np.savez(tmp_path / "noact.npz", W0=np.eye(2), b0=np.zeros(2))
    with pytest.raises(ValueError, match="stores no activation; pass activation=") as info:
        Network.load(tmp_path / "noact.npz")
    assert "--activation" not in str(info.value)  # the library speaks of its arguments, not of CLI options
    assert Network.load(tmp_path / "noact.npz", activation="relu").activation.name == "relu"
    np.savez(tmp_path / "nob.npz", W0=np.eye(2), activation="tanh")
    with pytest.raises(ValueError, match=r"lacks bias vectors \['b0'\]"):
        Network.load(tmp_path / "nob.npz")
    np.savez(tmp_path / "extra.npz", W0=np.eye(2), b0=np.zeros(2), W2=np.eye(2), activation="tanh")
    with pytest.raises(ValueError, match="unexpected keys"):
        Network.load(tmp_path / "extra.npz")
    with pytest.raises(ValueError, match="does not exist"):
        Network.load(tmp_path / "missing.npz")
    (tmp_path / "junk.npz").write_text("not a zip")
    with pytest.raises(ValueError, match=r"not a readable .npz file: not in the .npz format"):
        Network.load(tmp_path / "junk.npz")
    np.save(tmp_path / "one.npy", np.eye(2))
    with pytest.raises(ValueError, match="single array"):
        Network.load(tmp_path / "one.npy")


@pytest.mark.parametrize("rng", ["x", -1, 1.5, True, np.random.RandomState(0)])
def test_random_rejects_what_is_not_a_seed(rng):
    with pytest.raises(ValueError, match="rng must be None, a non-negative integer seed"):
        Network.random([2, 5, 2], "tanh", rng=rng)


def test_random_seeds_are_read_like_default_rng():
    a = Network.random([2, 5, 2], "tanh", rng=7)
    b = Network.random([2, 5, 2], "tanh", rng=np.random.default_rng(7))
    c = Network.random([2, 5, 2], "tanh", rng=np.random.SeedSequence(7))
    for x, y in zip(a.weights + a.biases, b.weights + b.biases):
        np.testing.assert_array_equal(x, y)
    for x, y in zip(a.weights + a.biases, c.weights + c.biases):
        np.testing.assert_array_equal(x, y)
