"""Fixed points, cycles and basins: toy maps with known answers, invariances, properties, bad input."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize

from rmtfp import (FixedPointResult, Network, activations, find_all_fixed_points, find_fixed_points, grid,
                   random_starts)
from rmtfp.commands import dump_json

TOL = 1e-5  # the papers' epsilon, the default tol
# Newton's method stops at |F| <= eps max(1,|x|); accepted when |F| <= 1e-12 max(1, |x|) (refine_tol)
REFINE_TOL = 1e-12


def tanh_root(c: float) -> float:
    """The positive root of a = tanh(c a), c > 1, to machine precision."""
    return optimize.brentq(lambda a: a - np.tanh(c * a), 0.1, 1.0, xtol=1e-16, rtol=8.9e-16)


def check_invariants(net: Network, res: FixedPointResult):
    """Properties every result must have, whatever the network."""
    m = res.starts.shape[0]
    assert res.labels.shape == res.status.shape == res.iterations.shape == (m,)
    assert set(np.unique(res.status)) <= {"fixed_point", "cycle", "unresolved", "divergent"}
    # fractions: one entry per basin plus unresolved/divergent, summing to 1 (up to rounding of M terms)
    assert set(res.fractions) == ({f"fixed_point:{k}" for k in range(res.Q)}
                                  | {f"cycle:{k}" for k in range(len(res.cycles))} | {"unresolved", "divergent"})
    assert sum(res.fractions.values()) == pytest.approx(1.0, abs=1e-12)
    for k in range(res.Q):
        assert res.fractions[f"fixed_point:{k}"] == pytest.approx(np.mean(res.basin(k)), abs=0)
    fp = res.status == "fixed_point"
    cy = res.status == "cycle"
    assert np.all((res.labels[fp] >= 0) & (res.labels[fp] < res.Q))
    assert np.all((res.labels[cy] >= 0) & (res.labels[cy] < len(res.cycles)))
    assert np.all(res.labels[~fp & ~cy] == -1)
    # every reported fixed point is fixed to tol; polished ones to refine_tol
    assert res.fixed_points.shape == (res.Q, res.starts.shape[1])
    resid = np.linalg.norm(net(res.fixed_points) - res.fixed_points, axis=1) if res.Q else np.zeros(0)
    # the same quantity, recomputed as a caller would, on the same batch: equal up to the rounding of the norm
    # itself (a few ulps; another batch could differ by eps |x| |DPhi|, 10 % of a residual of 2e-14 once)
    np.testing.assert_allclose(res.residuals, resid, rtol=1e-15, atol=0)
    scale = np.maximum(1.0, np.linalg.norm(res.fixed_points, axis=1)) if res.Q else np.zeros(0)
    if res.params["method"] == "newton":  # find_all_fixed_points: |F(x)| <= tol max(1, |x|), as documented
        assert np.all(res.residuals <= res.params["tol"] * scale)
    else:  # the iteration: the Cauchy step below tol
        assert np.all(res.residuals < res.params["tol"])
    assert np.all(res.residuals[res.refined] <= REFINE_TOL * scale[res.refined])
    # distinct fixed points, lexicographic order
    for i in range(res.Q):
        for j in range(i + 1, res.Q):
            assert np.linalg.norm(res.fixed_points[i] - res.fixed_points[j]) > res.params["merge_tol"]
    if res.Q > 1:
        assert np.all(np.lexsort(res.fixed_points.T[::-1]) == np.arange(res.Q))
    # stability from the Jacobian at the fixed point
    for x, s in zip(res.fixed_points, res.stability):
        ev = np.linalg.eigvals(net.jacobian(x))
        assert s.spectral_radius == pytest.approx(np.max(np.abs(ev)), rel=1e-9, abs=1e-12)  # eig rounding
        assert s.kind == ("stable" if s.spectral_radius < 1 - 1e-8 else
                          "unstable" if s.spectral_radius > 1 + 1e-8 else "neutral")
    # cycles: minimal period, really periodic, points distinct
    for c in res.cycles:
        assert c.period >= 2 and c.points.shape == (c.period, res.starts.shape[1])
        images = net(c.points)
        np.testing.assert_allclose(images, np.roll(c.points, -1, axis=0), rtol=0,
                                   atol=res.params["tol"])  # one map along the orbit, within tol
        for i in range(c.period):
            for j in range(i + 1, c.period):
                assert np.linalg.norm(c.points[i] - c.points[j]) >= res.params["tol"]


# ------------------------------------------------------------------ toy maps with known answers
def test_attracting_two_cycle_around_unstable_fixed_point():
    """x -> tanh(-3x): 0 is unstable (slope -3), {a, -a} with a = tanh(3a) an attracting 2-cycle."""
    net = Network([[[-3.0]]], [[0.0]], "tanh")
    res = find_fixed_points(net, grid(dim=1))
    check_invariants(net, res)
    a = tanh_root(3.0)
    assert res.Q == 1 and res.fixed_points[0, 0] == 0.0
    assert res.stability[0].kind == "unstable" and res.stability[0].spectral_radius == pytest.approx(3.0)
    assert len(res.cycles) == 1
    cycle = res.cycles[0]
    assert cycle.period == 2  # minimal period, not [x*, x*] and not 4
    np.testing.assert_allclose(cycle.points[:, 0], [-a, a], rtol=0, atol=1e-14)  # Newton-polished
    assert cycle.refined and cycle.stability.kind == "stable"
    # multiplier of the 2-cycle: (3 (1 - a^2))^2
    assert cycle.stability.spectral_radius == pytest.approx((3 * (1 - a * a)) ** 2, rel=1e-10)
    zero = res.starts[:, 0] == 0.0
    assert np.all(res.status[zero] == "fixed_point")
    assert np.all(res.status[~zero] == "cycle")


def test_unstable_fixed_points_are_found_by_newton_not_by_iteration():
    """x -> tanh(3x) per coordinate: 4 stable corners (+-a, +-a), 4 saddles, unstable origin."""
    net = Network([3.0 * np.eye(2)], [np.zeros(2)], "tanh")
    a = tanh_root(3.0)
    starts = random_starts(400, 2, rng=0)  # no start on an axis: iteration sees only the corners
    res = find_fixed_points(net, starts)
    check_invariants(net, res)
    assert res.Q == 4 and all(s.kind == "stable" for s in res.stability)
    np.testing.assert_allclose(np.abs(res.fixed_points), a, rtol=0, atol=1e-14)
    # the basin of each corner is its quadrant
    quadrant = (res.starts > 0) @ np.array([1, 2])
    for k, x in enumerate(res.fixed_points):
        assert np.all(quadrant[res.basin(k)] == (x > 0) @ np.array([1, 2]))

    full = find_all_fixed_points(net, grid(step=0.1))
    check_invariants(net, full)
    assert full.Q == 9
    kinds = {tuple(np.sign(np.round(x, 12)).astype(int)): s.kind for x, s in zip(full.fixed_points, full.stability)}
    assert kinds[(0, 0)] == "unstable"
    assert [kinds[(1, 1)], kinds[(1, -1)], kinds[(-1, 1)], kinds[(-1, -1)]] == ["stable"] * 4
    assert [kinds[(0, 1)], kinds[(1, 0)], kinds[(0, -1)], kinds[(-1, 0)]] == ["unstable"] * 4
    origin = full.fixed_points[np.argmin(np.linalg.norm(full.fixed_points, axis=1))]
    assert np.linalg.norm(origin) <= 1e-14
    np.testing.assert_allclose(full.stability[np.argmin(np.linalg.norm(full.fixed_points, axis=1))].eigenvalues,
                               [3.0, 3.0], rtol=1e-14)


def test_starts_exactly_on_the_stable_manifold_of_a_saddle():
    """On the axis x_1 = 0 the iteration of tanh(3x) stays on it and converges to the saddle (0, a)."""
    net = Network([3.0 * np.eye(2)], [np.zeros(2)], "tanh")
    res = find_fixed_points(net, np.array([[0.0, 0.5], [0.0, -0.3], [0.4, 0.5]]))
    check_invariants(net, res)
    a = tanh_root(3.0)
    assert list(res.status) == ["fixed_point"] * 3
    np.testing.assert_allclose(res.fixed_points[res.labels], [[0, a], [0, -a], [a, a]], rtol=0, atol=1e-14)
    assert [res.stability[k].kind for k in res.labels] == ["unstable", "unstable", "stable"]


def test_four_cycle_of_a_saturated_rotation():
    """x -> hardtanh(2 R x), R the rotation by 90 degrees: the corners form an attracting 4-cycle."""
    net = Network([2.0 * np.array([[0.0, -1.0], [1.0, 0.0]])], [np.zeros(2)], "hardtanh")
    res = find_fixed_points(net)
    check_invariants(net, res)
    corners = [c for c in res.cycles if np.all(np.abs(c.points) == 1)]
    assert len(corners) == 1
    c = corners[0]
    assert c.period == 4 and c.stability.kind == "stable" and c.stability.spectral_radius == 0.0
    np.testing.assert_array_equal(c.points, [[-1, -1], [1, -1], [1, 1], [-1, 1]])  # exact: saturated
    off_axes = np.all(res.starts != 0, axis=1)
    assert np.all(res.status[off_axes] == "cycle")
    assert np.all(res.labels[off_axes] == res.cycles.index(c))
    assert res.Q == 1 and np.all(res.fixed_points == 0)


def test_divergence_is_a_status():
    net = Network([2.0 * np.eye(2)], [np.zeros(2)], "linear")
    res = find_fixed_points(net)
    check_invariants(net, res)
    origin = np.all(res.starts == 0, axis=1)
    assert np.all(res.status[~origin] == "divergent") and np.all(res.labels[~origin] == -1)
    assert res.status[origin][0] == "fixed_point"
    assert res.fractions["divergent"] == pytest.approx(1680 / 1681, abs=1e-15)
    # |x^m| = 2^m |x^0| > 1e8 first at m = 27 for the largest |x^0| = sqrt(2)
    assert res.iterations[~origin].min() == int(np.ceil(np.log2(1e8 / np.sqrt(2))))


def test_oscillating_slow_convergence_is_a_fixed_point_not_a_two_cycle():
    """x -> -0.99 x: |x^m - x^{m-2}| < tol long before |x^m - x^{m-1}| < tol."""
    net = Network([[[-0.99]]], [[0.0]], "linear")
    res = find_fixed_points(net, grid(dim=1), max_iter=1000)
    check_invariants(net, res)
    assert res.cycles == () and res.Q == 1 and np.all(res.status == "fixed_point")
    assert abs(res.fixed_points[0, 0]) <= 1e-15 and res.refined[0]


def test_oscillating_slow_convergence_without_refinement_is_a_fixed_point():
    """x -> -0.8 x, refine=False: the period-2 test fires at |x| ~ tol / 0.36 with the two points
    1.8 |x| ~ 5e-5 apart (< merge_tol); the orbit's mean 0.1 x has residual 1.8 * 0.1 |x| < tol."""
    net = Network([[[-0.8]]], [[0.0]], "linear")
    res = find_fixed_points(net, grid(dim=1), max_iter=200, refine=False)
    check_invariants(net, res)
    assert res.cycles == () and res.Q == 1 and np.all(res.status == "fixed_point")
    assert abs(res.fixed_points[0, 0]) < TOL and not res.refined[0] and res.residuals[0] < TOL


def test_refine_false_agrees_on_a_slowly_oscillating_network():
    """tanh, normal weights, seed 0: a few starts approach x* with eigenvalue -0.93 and meet the
    period-2 test first; without polishing they must still count as fixed point, not a 2-cycle."""
    net = Network.random([2, 50, 50, 2], "tanh", "normal", rng=0)
    polished, raw = find_fixed_points(net), find_fixed_points(net, refine=False)
    assert polished.Q == raw.Q == 1 and polished.cycles == raw.cycles == ()
    np.testing.assert_array_equal(polished.status, raw.status)
    assert raw.residuals[0] < TOL


def test_small_genuine_cycle_without_refinement_stays_a_cycle():
    """x -> -x: every start is on a 2-cycle {x, -x}; starts within merge_tol / 2 of 0 included
    (the orbit's mean 0 is a fixed point but the orbit itself is not a fixed point to tol)."""
    net = Network([[[-1.0]]], [[0.0]], "linear")
    starts = np.array([[2e-4], [0.5]])
    res = find_fixed_points(net, starts, refine=False)
    check_invariants(net, res)
    assert np.all(res.status == "cycle") and [c.period for c in res.cycles] == [2, 2]


def test_slow_spiral_is_unresolved_within_the_budget():
    """Rotation by 60 degrees times 0.97: the Cauchy criterion needs more than 50 maps."""
    t = np.pi / 3
    w = 0.97 * np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    net = Network([w], [np.zeros(2)], "linear")
    starts = random_starts(50, 2, rng=1)
    res = find_fixed_points(net, starts)
    check_invariants(net, res)
    assert np.all(res.status == "unresolved") and res.Q == 0
    assert res.fractions["unresolved"] == 1.0
    longer = find_fixed_points(net, starts, max_iter=1000)
    assert np.all(longer.status == "fixed_point") and longer.Q == 1


def test_constant_map_iteration_count_and_candidate():
    """Phi(x) = hardtanh(c): x^1 = c, |x^2 - x^1| = 0 at the second map."""
    c = np.array([0.3, -2.0])
    net = Network([np.zeros((2, 2))], [c], "hardtanh")
    res = find_fixed_points(net, np.array([[0.5, 0.5], [0.3, -1.0]]))
    np.testing.assert_array_equal(res.fixed_points, [[0.3, -1.0]])
    assert list(res.iterations) == [2, 1]
    assert res.residuals[0] == 0.0 and res.stability[0].spectral_radius == 0.0


def test_neutral_identity_map():
    net = Network([np.eye(2)], [np.zeros(2)], "linear")
    starts = grid(step=0.5)
    res = find_fixed_points(net, starts)
    check_invariants(net, res)
    assert res.Q == 25 and all(s.kind == "neutral" for s in res.stability)
    np.testing.assert_array_equal(res.fixed_points, starts)  # grid order is lexicographic


def test_merge_tol_merges_nearby_fixed_points():
    net = Network([np.eye(1)], [np.zeros(1)], "linear")
    starts = np.array([[0.0], [5e-4], [2e-3]])
    res = find_fixed_points(net, starts, merge_tol=1e-3)
    assert res.Q == 2 and list(res.labels) == [0, 0, 1]


def test_chaotic_map_has_no_spurious_attracting_basins():
    """Tent map x -> 0.9 - 1.9 |x| on [-1, 1]: chaotic, every fixed point and cycle unstable.

    Orbits come within tol of unstable cycles by chance; such starts are
    iterated to the end of their budget instead of being counted as basins.
    """
    net = Network([np.array([[1.0], [-1.0]]), np.array([[-1.9, -1.9]])], [np.zeros(2), np.array([0.9])],
                  "relu", last_activation=False)
    starts = random_starts(2000, 1, bounds=(-0.99, 0.99), rng=2)
    res = find_fixed_points(net, starts, max_iter=60)
    check_invariants(net, res)
    assert all(c.stability.kind == "unstable" for c in res.cycles)
    assert all(s.kind == "unstable" for s in res.stability)
    on_unstable = (res.status == "cycle") | (res.status == "fixed_point")
    assert np.all(res.iterations[on_unstable] == 60)
    assert res.fractions["unresolved"] > 0.99


# ------------------------------------------------------------------ invariances
@pytest.fixture(scope="module")
def cauchy_net():
    return Network.random([2, 100, 100, 100, 100, 2], "hardtanh", "cauchy", rng=1)


def test_labels_do_not_depend_on_start_order(cauchy_net):
    starts = grid(step=0.1)
    res = find_fixed_points(cauchy_net, starts)
    perm = np.random.default_rng(0).permutation(starts.shape[0])
    other = find_fixed_points(cauchy_net, starts[perm])
    check_invariants(cauchy_net, res)
    assert res.Q == other.Q and res.Q >= 2
    np.testing.assert_allclose(other.fixed_points, res.fixed_points, rtol=0, atol=1e-12)  # rounding only
    np.testing.assert_array_equal(other.labels, res.labels[perm])
    np.testing.assert_array_equal(other.status, res.status[perm])
    assert other.fractions == res.fractions


@pytest.mark.parametrize("chunk_size", [7, 100])
def test_labels_do_not_depend_on_chunk_size(cauchy_net, chunk_size):
    starts = grid(step=0.1)
    res = find_fixed_points(cauchy_net, starts)
    other = find_fixed_points(cauchy_net, starts, chunk_size=chunk_size)
    np.testing.assert_allclose(other.fixed_points, res.fixed_points, rtol=0, atol=1e-12)  # rounding only
    np.testing.assert_array_equal(other.labels, res.labels)
    np.testing.assert_array_equal(other.status, res.status)


def test_explicit_weights_reproduce_network_random():
    widths = [2, 100, 100, 2]
    g = np.random.default_rng(3)
    ws, bs = [], []
    for fan_in, fan_out in zip(widths[:-1], widths[1:]):
        ws.append(g.standard_cauchy((fan_out, fan_in)) * (1 / fan_in))
        bs.append(g.standard_cauchy(fan_out) * (1 / fan_in))
    explicit = find_fixed_points(Network(ws, bs, "hardtanh"))
    drawn = find_fixed_points(Network.random(widths, "hardtanh", "cauchy", rng=3))
    np.testing.assert_array_equal(explicit.fixed_points, drawn.fixed_points)
    np.testing.assert_array_equal(explicit.labels, drawn.labels)
    np.testing.assert_array_equal(explicit.status, drawn.status)
    assert [c.period for c in explicit.cycles] == [c.period for c in drawn.cycles]
    assert explicit.fractions == drawn.fractions


def test_refine_false_keeps_cauchy_candidates(cauchy_net):
    res = find_fixed_points(cauchy_net, grid(step=0.1), refine=False)
    check_invariants(cauchy_net, res)
    assert not res.refined.any()
    polished = find_fixed_points(cauchy_net, grid(step=0.1))
    assert polished.Q == res.Q
    # unrefined points are x^{m-1} with |x^m - x^{m-1}| < tol, within tol/(1 - rho) of x*
    np.testing.assert_allclose(res.fixed_points, polished.fixed_points, rtol=0, atol=1e-3)


# ------------------------------------------------------------------ properties on random networks
@st.composite
def small_networks(draw):
    n = draw(st.integers(1, 3))
    hidden = draw(st.lists(st.integers(1, 8), min_size=0, max_size=2))
    act = draw(st.sampled_from(["tanh", "hardtanh", "erf", "relu", "sigmoid"]))
    law = draw(st.sampled_from(["normal", "cauchy"]))
    scale = draw(st.floats(0.2, 6.0))
    seed = draw(st.integers(0, 2**32 - 1))
    return Network.random([n, *hidden, n], act, law, scale=scale, rng=seed), seed


@given(small_networks())
@settings(deadline=None)
def test_invariants_on_random_small_networks(case):
    net, seed = case
    res = find_fixed_points(net, random_starts(60, net.n_in, bounds=(-2, 2), rng=seed), max_iter=80)
    check_invariants(net, res)
    json.loads(dump_json(res.to_dict()))


def test_newton_fixed_point_far_from_zero_meets_the_relative_criterion():
    """A ReLU network with Cauchy weights whose fixed point lies at |x| ~ 1e5: its residual 7e-10 is at the
    rounding level there (|x| |DPhi| eps), above an absolute 1e-12, within tol max(1, |x|) as documented."""
    net = Network.random([2, 3, 3, 2], "relu", "cauchy", scale=4.79801867199558, rng=144)
    starts = random_starts(40, 2, bounds=(-2, 2), rng=144)
    res = find_fixed_points(net, starts, max_iter=80)
    full = find_all_fixed_points(net, np.vstack([starts, res.fixed_points]))
    check_invariants(net, full)
    far = np.linalg.norm(full.fixed_points, axis=1) > 1e4
    assert far.any()  # the relative criterion is what is exercised here
    assert np.all(full.residuals[far] <= full.params["tol"] * np.linalg.norm(full.fixed_points[far], axis=1))


@given(small_networks())
@settings(deadline=None)
def test_newton_from_every_start_finds_the_attracting_fixed_points(case):
    net, seed = case
    starts = random_starts(40, net.n_in, bounds=(-2, 2), rng=seed)
    res = find_fixed_points(net, starts, max_iter=80)
    full = find_all_fixed_points(net, np.vstack([starts, res.fixed_points]))
    check_invariants(net, full)
    assert np.all(full.residuals <= REFINE_TOL * np.maximum(1, np.linalg.norm(full.fixed_points, axis=1)))
    # every polished fixed point found by iteration is among Newton's (started on it)
    for x in res.fixed_points[res.refined]:
        assert np.min(np.linalg.norm(full.fixed_points - x, axis=1)) <= res.params["merge_tol"]


# ------------------------------------------------------------------ results
def test_result_is_frozen_and_serialisable():
    net = Network([[[-3.0]]], [[0.0]], "tanh")
    res = find_fixed_points(net, grid(dim=1))
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.Q = 3
    with pytest.raises(ValueError):
        res.labels[0] = 5
    d = json.loads(dump_json(res.to_dict()))
    assert d["Q"] == 1 and d["cycles"][0]["period"] == 2 and d["stability"][0]["kind"] == "unstable"
    assert d["params"]["method"] == "iteration" and d["params"]["tol"] == 1e-5
    assert sum(d["fractions"].values()) == pytest.approx(1.0, abs=1e-12)


# ------------------------------------------------------------------ starts
def test_grid_is_the_papers_grid():
    g = grid()
    assert g.shape == (41 * 41, 2)
    np.testing.assert_array_equal(g[0], [-1, -1])
    np.testing.assert_allclose(g[-1], [1, 1], rtol=0, atol=1e-15)  # -1 + 0.05 * 40 rounded
    np.testing.assert_allclose(g[1], [-1, -0.95], rtol=0, atol=1e-15)  # last coordinate fastest
    np.testing.assert_allclose(g[41], [-0.95, -1], rtol=0, atol=1e-15)
    assert grid(step=0.1).shape == (21 * 21, 2)
    assert grid(bounds=[(0, 1), (0, 2)], step=0.5).shape == (3 * 5, 2)
    assert grid(dim=3, step=0.5).shape == (125, 3)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(step=0), "step must be"),
        (dict(step=-0.1), "step must be"),
        (dict(step=float("nan")), "step must be"),
        (dict(bounds=(1, -1)), "lo < hi"),
        (dict(bounds=(0, np.inf)), "finite"),
        (dict(bounds=[(0, 1)] * 3), "bounds must be"),
        (dict(dim=0), "dim must be"),
        (dict(step=1e-5, dim=2), "more than"),
    ],
)
def test_grid_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        grid(**kwargs)


def test_random_starts():
    a = random_starts(100, 3, bounds=(-2, 5), rng=4)
    np.testing.assert_array_equal(a, random_starts(100, 3, bounds=(-2, 5), rng=np.random.default_rng(4)))
    assert a.shape == (100, 3) and a.min() >= -2 and a.max() < 5
    with pytest.raises(ValueError, match="n must be"):
        random_starts(0, 2)


# ------------------------------------------------------------------ bad input
def test_bad_input():
    square = Network.random([2, 5, 2], "tanh", rng=0)
    with pytest.raises(ValueError, match="n_in = n_out"):
        find_fixed_points(Network.random([2, 5, 3], "tanh", rng=0))
    with pytest.raises(ValueError, match="n_in = n_out"):
        find_all_fixed_points(Network.random([2, 5, 3], "tanh", rng=0), grid())
    with pytest.raises(ValueError, match="at least one point"):
        find_fixed_points(square, np.empty((0, 2)))
    with pytest.raises(ValueError, match=r"shape \(M, 2\)"):
        find_fixed_points(square, np.zeros((5, 3)))
    with pytest.raises(ValueError, match=r"shape \(M, 2\)"):
        find_fixed_points(square, np.zeros(2))
    with pytest.raises(ValueError, match="finite"):
        find_fixed_points(square, np.array([[0.0, np.nan]]))
    with pytest.raises(ValueError, match="net must be"):
        find_fixed_points(lambda x: x, grid())
    with pytest.raises(ValueError, match="n <= 3"):
        find_fixed_points(Network.random([4, 5, 4], "tanh", rng=0))
    for kwargs, match in [(dict(tol=0), "tol"), (dict(tol=-1e-5), "tol"), (dict(max_iter=0), "max_iter"),
                          (dict(max_iter=2.5), "max_iter"), (dict(merge_tol=-1), "merge_tol"),
                          (dict(max_period=0), "max_period"), (dict(refine="yes"), "refine"),
                          (dict(chunk_size=0), "chunk_size"), (dict(neutral_tol=2), "neutral_tol"),
                          (dict(divergence_radius=0), "divergence_radius")]:
        with pytest.raises(ValueError, match=match):
            find_fixed_points(square, grid(step=0.5), **kwargs)
    with pytest.raises(ValueError, match="kind"):
        find_fixed_points(square, grid(step=0.5)).basin(0, kind="attractor")


def test_all_registered_activations_run():
    for name in activations.available():
        net = Network.random([2, 10, 2], name, "normal", rng=0)
        check_invariants(net, find_fixed_points(net, grid(step=0.25)))


# ----------------------------------------------------------------- BLAS threads
def _blas_threads_now() -> int:
    from threadpoolctl import threadpool_info

    return max(lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas")


@pytest.mark.parametrize("search", ["iteration", "newton"])
def test_the_search_holds_blas_to_the_threads_it_is_given(search, monkeypatch):
    from threadpoolctl import threadpool_limits

    import rmtfp.dynamics.fixed_points as fp

    seen = []
    inner = "_iterate" if search == "iteration" else "_newton"
    original = getattr(fp, inner)

    def spy(*args, **kwargs):
        seen.append(_blas_threads_now())
        return original(*args, **kwargs)

    monkeypatch.setattr(fp, inner, spy)
    net = Network.random([2, 30, 30, 2], "tanh", rng=1)
    run = (lambda **kw: find_fixed_points(net, grid(step=0.25), **kw)) if search == "iteration" else \
        (lambda **kw: find_all_fixed_points(net, grid(step=0.25), **kw))
    with threadpool_limits(limits=2, user_api="blas"):
        outside = _blas_threads_now()
        assert outside == 2
        results = {}
        for threads in (1, None, 2):
            seen.clear()
            results[threads] = run() if threads == 1 else run(blas_threads=threads)
            assert set(seen) == {1 if threads == 1 else outside}, threads  # default: one thread
            assert _blas_threads_now() == outside  # restored
    # only the speed changes: the same fixed points, to refine_tol = 1e-12 (Newton stops there; a product
    # summed in another order moves the iterates by a few ulps only)
    for threads in (None, 2):
        assert results[threads].Q == results[1].Q
        np.testing.assert_allclose(results[threads].fixed_points, results[1].fixed_points, rtol=0, atol=1e-12)
        np.testing.assert_array_equal(results[threads].labels, results[1].labels)


def test_the_maps_stack_small_products_only_on_one_blas_thread(monkeypatch):
    """OpenBLAS runs a small product on one thread and a whole one on all it has: the iteration's maps take
    stacks of small products where BLAS runs on one thread during the search, whole products otherwise."""
    from threadpoolctl import threadpool_limits

    flags = []
    original = Network._forward

    def spy(self, x, stacked=False):
        flags.append(stacked)
        return original(self, x, stacked)

    monkeypatch.setattr(Network, "_forward", spy)
    net = Network.random([2, 100, 100, 2], "hardtanh", "cauchy", rng=0)
    starts = grid(step=0.1)
    expected = {}
    with threadpool_limits(limits=2, user_api="blas"):
        for kw, stacked in ((dict(), True), (dict(blas_threads=2), False), (dict(blas_threads=None), False)):
            flags.clear()
            expected[stacked] = find_fixed_points(net, starts, **kw)
            assert stacked in flags and (not stacked) in flags if stacked else not any(flags), kw
    with threadpool_limits(limits=1, user_api="blas"):
        flags.clear()
        find_fixed_points(net, starts, blas_threads=None)
        assert any(flags)  # the caller's one BLAS thread
    np.testing.assert_array_equal(expected[True].labels, expected[False].labels)
    np.testing.assert_allclose(expected[True].fixed_points, expected[False].fixed_points, rtol=0, atol=1e-12)


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", True])
def test_bad_blas_threads(bad):
    net = Network.random([2, 5, 2], "tanh", rng=0)
    with pytest.raises(ValueError, match="blas_threads must be None"):
        find_fixed_points(net, grid(step=0.5), blas_threads=bad)
    with pytest.raises(ValueError, match="blas_threads must be None"):
        find_all_fixed_points(net, grid(step=0.5), blas_threads=bad)


# ----------------------------------------------------------------- cycle orbits kept from the iteration
@pytest.mark.parametrize("early", [True, False])
def test_cycle_orbits_are_the_iterates(early):
    """Each cycle candidate's orbit, as the iteration kept it, is x, Phi(x), ..., Phi^{p-1}(x), its image
    Phi^p(x), and its residual |Phi^p(x) - x| is below tol (seed 7: three attracting cycles, all starts), also
    when the criteria are tested only after the last map (``early=False``, the resumed starts)."""
    from rmtfp.dynamics.iteration import _iterate
    from rmtfp.dynamics.results import _CYCLE

    net = Network.random([2, 100, 100, 100, 100, 2], "hardtanh", "cauchy", rng=7)
    starts = grid()
    budget = np.full(len(starts), 50)
    code, period, iters, cand, cand_res, _, orbits = _iterate(net, starts, 1e-5, budget, 8, 1e8, 655, early=early)
    cyc = np.flatnonzero(code == _CYCLE)
    assert cyc.size > 0.5 * len(starts)
    if not early:
        assert np.all(iters[cyc] == 50)
    seen = orbits.lookup(cyc)
    assert np.array_equal(seen.starts, cyc)
    assert np.array_equal(seen.points[:, 0], cand[cyc])
    for p in np.unique(period[cyc]):
        j = period[cyc] == p
        pts = seen.points[j]
        assert np.all(np.isnan(pts[:, p:])) and np.all(np.isfinite(pts[:, :p]))
        # the same maps in another batch composition round in the last bits only (a few ulps through 5 layers)
        for i in range(p - 1):
            np.testing.assert_allclose(net(pts[:, i]), pts[:, i + 1], rtol=0, atol=1e-13)
        np.testing.assert_allclose(net(pts[:, p - 1]), seen.image[j], rtol=0, atol=1e-13)
        res = np.linalg.norm(seen.image[j] - pts[:, 0], axis=1)
        np.testing.assert_allclose(cand_res[cyc][j], res, rtol=1e-12, atol=0)
        assert np.all(res < 1e-5)


def test_orbits_replace_keeps_the_others_and_renumbers_the_new():
    from rmtfp.dynamics.iteration import Orbits

    nan = np.nan
    old = Orbits(np.array([1, 4, 6]), np.array([[[0.0], [1.0], [nan]], [[2.0], [3.0], [nan]], [[4.0], [5.0], [6.0]]]),
                 np.array([[0.5], [2.5], [4.5]]))
    new = Orbits(np.array([0]), np.array([[[7.0], [8.0], [nan]]]), np.array([[7.5]])).renumber(np.array([4, 5]))
    merged = old.replace(np.array([4, 5]), new)
    assert sorted(merged.starts.tolist()) == [1, 4, 6]
    got = merged.lookup(np.array([6, 4, 1]))
    assert got.image[:, 0].tolist() == [4.5, 7.5, 0.5]
    assert got.points[1, :2, 0].tolist() == [7.0, 8.0]


@pytest.mark.parametrize("start", [[1.0, 0.0], [0.5, 0.5], [0.3, -0.7]])
def test_neutral_cycle_stays_on_the_start_orbit(start):
    """A rotation by 120 degrees: every start but 0 lies on a neutral 3-cycle of its own radius.  Phi^3 is the
    identity to rounding, so Newton's method on Phi^3(x) - x may move anywhere; the reported cycle must still be
    the start's orbit (a polished point far from the candidate is not accepted on a neutral cycle)."""
    th = 2 * np.pi / 3
    rot = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
    net = Network([rot], [np.zeros(2)], "linear")
    res = find_fixed_points(net, np.array([start]))
    assert res.status.tolist() == ["cycle"] and len(res.cycles) == 1
    cyc = res.cycles[0]
    assert cyc.period == 3 and cyc.stability.kind == "neutral"
    radius = np.linalg.norm(start)
    np.testing.assert_allclose(np.linalg.norm(cyc.points, axis=1), radius, rtol=0, atol=1e-5)  # tol of the search
    assert min(np.linalg.norm(cyc.points - np.array(start), axis=1)) < 1e-5
    for i in range(3):
        np.testing.assert_allclose(net(cyc.points[i]), cyc.points[(i + 1) % 3], rtol=0, atol=1e-12)


@pytest.mark.filterwarnings("ignore::rmtfp.errors.UnresolvedWarning")
@pytest.mark.parametrize("seed, dropped", [(7, True), (8, True), (21, True), (24, False), (50, True)])
def test_vanished_unstable_points_dropped_as_a_new_classification_would(seed, dropped, monkeypatch):
    # starts near an unstable cycle or fixed point are iterated on; when all of them end unresolved and the
    # point held nothing else, it is dropped instead of classifying every start again; otherwise (seed 24: a
    # resumed start meets a new candidate, or the point keeps other starts) everything is classified again.
    # Both routes give the same result, up to the rounding of polishing the other leaders in another batch
    from rmtfp.dynamics import fixed_points as fpmod

    calls = []
    classify = fpmod._classify

    def counting(*args):
        calls.append(1)
        return classify(*args)

    monkeypatch.setattr(fpmod, "_classify", counting)
    net = Network.random([2, 100, 100, 100, 100, 2], "hardtanh", "cauchy", rng=seed)
    short = find_fixed_points(net)
    assert len(calls) == (1 if dropped else 2)
    monkeypatch.setattr(fpmod, "_DROP_VANISHED", False)
    calls.clear()
    full = find_fixed_points(net)
    assert len(calls) == 2  # a start was iterated on: the case exercises the resumed route
    for key in ("status", "labels", "iterations"):
        np.testing.assert_array_equal(getattr(short, key), getattr(full, key))
    assert short.fractions == full.fractions
    assert short.Q == full.Q and len(short.cycles) == len(full.cycles)
    # polished points agree to far below tol; the kind of every point is the same
    np.testing.assert_allclose(short.fixed_points, full.fixed_points, rtol=0, atol=1e-12)
    for a, b in zip(short.cycles, full.cycles):
        np.testing.assert_allclose(a.points, b.points, rtol=0, atol=1e-12)
        assert a.stability.kind == b.stability.kind
    assert [s.kind for s in short.stability] == [s.kind for s in full.stability]
    check_invariants(net, short)


def test_vanished_needs_every_start_of_the_point_resumed_and_none_found_again():
    from rmtfp.dynamics.fixed_points import _CYCLE, _DIVERGENT, _FP, _UNRESOLVED, _vanished

    # starts 0-5: fixed points 0, 1, 1, 2 and cycles 0, 1
    code2 = np.array([_FP, _FP, _FP, _FP, _CYCLE, _CYCLE], dtype=np.int8)
    labels = np.array([0, 1, 1, 2, 0, 1])
    unresolved = np.array([_UNRESOLVED, _DIVERGENT])
    fp_gone, cy_gone = _vanished(code2, labels, np.array([1, 2]), unresolved, 3, 2)
    assert fp_gone.tolist() == [False, True, False] and cy_gone.tolist() == [False, False]
    fp_gone, cy_gone = _vanished(code2, labels, np.array([0, 4]), unresolved, 3, 2)
    assert fp_gone.tolist() == [True, False, False] and cy_gone.tolist() == [True, False]
    # fixed point 1 keeps start 2, which was not resumed
    assert _vanished(code2, labels, np.array([1, 5]), unresolved, 3, 2) is None
    # a resumed start found a fixed point (a new candidate)
    assert _vanished(code2, labels, np.array([1, 2]), np.array([_UNRESOLVED, _FP]), 3, 2) is None


def test_drop_renumbers_the_points_that_stay():
    from rmtfp.dynamics.fixed_points import _CYCLE, _FP, _UNRESOLVED, _drop

    code2 = np.array([_FP, _FP, _FP, _FP, _CYCLE, _CYCLE, _UNRESOLVED], dtype=np.int8)
    labels = np.array([0, 1, 1, 2, 0, 1, -1])
    fps = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]])
    res, refd = np.array([1e-16, 2e-16, 3e-16]), np.array([True, False, True])
    stab, cycles = ["s0", "s1", "s2"], ["c0", "c1"]
    r = np.array([1, 2, 4])
    out = _drop(code2, labels, cycles, fps, res, refd, stab, r, np.array([_UNRESOLVED] * 3),
                np.array([False, True, False]), np.array([True, False]))
    code, lab, cyc, f, rs, rf, st = out
    assert code.tolist() == [_FP, _UNRESOLVED, _UNRESOLVED, _FP, _UNRESOLVED, _CYCLE, _UNRESOLVED]
    assert lab.tolist() == [0, -1, -1, 1, -1, 0, -1]  # fixed point 2 is now 1, cycle 1 is now 0
    assert cyc == ["c1"] and st == ["s0", "s2"]
    np.testing.assert_array_equal(f, fps[[0, 2]])
    np.testing.assert_array_equal(rs, res[[0, 2]])
    np.testing.assert_array_equal(rf, refd[[0, 2]])
    assert labels.tolist() == [0, 1, 1, 2, 0, 1, -1]  # the first classification is left as it was


@pytest.mark.filterwarnings("ignore::rmtfp.errors.UnresolvedWarning")
def test_fixed_point_whose_jacobian_overflows_is_a_clear_error():
    # x = 0 is a fixed point of this linear network, but DPhi = W_1 W_0 has entries 2e600: no stability can be
    # computed in float64, and the search says why instead of numpy's "Array must not contain infs or NaNs"
    weights = [np.full((2, 2), 1e300), np.full((2, 2), 1e300)]
    net = Network(weights, [np.zeros(2), np.zeros(2)], "linear")
    with pytest.raises(ValueError, match="DPhi is not finite in float64 at 1 fixed point"):
        find_fixed_points(net, grid(step=0.5))
    with pytest.raises(ValueError, match="DPhi is not finite in float64"):
        find_all_fixed_points(net, np.zeros((1, 2)))


@pytest.mark.parametrize("period", [2, 3, 5, 8])
def test_a_cycle_of_the_longest_period_keeps_its_whole_orbit(period):
    # x -> R x, R the rotation by 2 pi / p: every start returns at map p (to rounding), and at no earlier map
    # comes within tol of itself. With max_period = p the orbit x^0, ..., x^{p-1} must come from the ring of
    # iterates, the oldest of which (x^0) is the one a ring of only p iterates would have overwritten with x^p
    from rmtfp.dynamics.iteration import _iterate
    from rmtfp.dynamics.results import _CYCLE

    a = 2 * np.pi / period
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    net = Network([rot], [np.zeros(2)], "linear")
    x0 = np.random.default_rng(period).uniform(-1, 1, size=(20, 2))
    x0 *= (0.5 / np.linalg.norm(x0, axis=1))[:, None] * np.linspace(1, 2, 20)[:, None]  # |x| from 0.5 to 1
    code, per, iters, cand, _, state, orbits = _iterate(net, x0, 1e-9, np.full(20, 50), period, 1e8, 64)
    assert np.all(code == _CYCLE) and np.all(per == period) and np.all(iters == period)
    np.testing.assert_array_equal(cand, x0)
    seen = orbits.lookup(np.arange(20))
    expected = x0.copy()
    for i in range(period):  # x^i, mapped as the network maps it
        np.testing.assert_array_equal(seen.points[:, i], expected)
        expected = net._forward(expected)
    np.testing.assert_array_equal(seen.image, expected)  # x^p
    np.testing.assert_array_equal(state, expected)
    assert np.all(np.isnan(seen.points[:, period:]))


def test_eigenvalues_of_a_rejected_leader_keep_their_imaginary_parts(monkeypatch):
    # the eigenvalues of Newton's points are all real (numpy's eigvals then returns a real array); the leader
    # whose Newton point was rejected is evaluated at the candidate, where DPhi = 0.5 R(0.3) has the eigenvalues
    # 0.5 exp(+-0.3i): written into a real array they would lose their imaginary parts
    from rmtfp.dynamics import merge
    from rmtfp.dynamics.results import eigenvalues_of

    a = 0.3
    rot = 0.5 * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    net = Network([rot], [np.zeros(2)], "linear")
    newton_jac = np.array([np.diag([0.5, 0.1]), np.diag([0.2, 0.1])])
    assert np.linalg.eigvals(newton_jac).dtype.kind == "f"

    def polish(fun, x0, res0, *args):  # _polish with Newton's Jacobians above, the second point rejected
        return x0, np.array([True, False]), eigenvalues_of(newton_jac)

    monkeypatch.setattr(merge, "_polish", polish)
    pts = np.array([[0.0, 0.0], [0.5, 0.5]])
    fps, _, _, _, ev = merge._merge_fixed_points(net, pts, np.zeros(2), 1e-5, 1e-3, True, 1e-12, 1e-8, 64)
    rejected = ev[np.flatnonzero(np.all(fps == [0.5, 0.5], axis=1))[0]]
    np.testing.assert_allclose(np.sort_complex(rejected), 0.5 * np.exp([-0.3j, 0.3j]), rtol=1e-15)


@pytest.mark.parametrize("seed", range(40))
def test_residuals_are_those_of_the_reported_batch(seed):
    # every reported residual is |net(x) - x| as a caller evaluates net(res.fixed_points): the reported points
    # in the reported order, in one batch (a batch of another shape or order may round otherwise in the last
    # bits), also after fixed points merged in the second clustering or vanished with resumed starts
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 4))
    widths = [n, *rng.integers(1, 9, size=int(rng.integers(0, 3))).tolist(), n]
    act = ["tanh", "hardtanh", "erf", "relu", "sigmoid"][seed % 5]
    net = Network.random(widths, act, "cauchy" if seed % 2 else "normal", scale=float(rng.uniform(0.2, 6)),
                         rng=seed)
    starts = random_starts(40, n, bounds=(-2, 2), rng=seed)
    res = find_fixed_points(net, starts, max_iter=80)
    full = find_all_fixed_points(net, np.vstack([starts, res.fixed_points]))
    for r in (res, full):
        if r.Q:
            np.testing.assert_allclose(r.residuals, np.linalg.norm(net(r.fixed_points) - r.fixed_points, axis=1),
                                       rtol=1e-15, atol=0)


def test_leaders_that_polish_to_one_point_merge_with_the_reported_residual():
    # x -> 0.99 x: the Cauchy criterion stops the starts from either side near +-1e-3 (the step 0.01 |x| below
    # 1e-5), two candidates farther apart than merge_tol; Newton's method takes both to 0, where they merge.
    # The reported point is then another batch than the one the residuals were first evaluated on.
    net = Network([[[0.99]], [[1.0]]], [[0.0], [0.0]], "tanh", last_activation=False)
    res = find_fixed_points(net, np.array([[-1.0], [-0.5], [0.5], [1.0]]), max_iter=2000)
    assert res.Q == 1 and np.all(res.labels == 0) and np.all(res.refined)
    np.testing.assert_allclose(res.fixed_points, [[0.0]], rtol=0, atol=1e-12)
    check_invariants(net, res)


def test_residuals_of_a_wide_layer_are_those_of_one_blas_thread():
    # a hidden layer of 2e5 units: the last product is one sum of 2e5 terms, which threaded BLAS may split
    # otherwise; the search holds BLAS to one thread, and net(fixed_points) on one thread gives its residuals
    from threadpoolctl import threadpool_limits

    net = Network.random([1, 200_000, 1], "tanh", "normal", rng=1)
    res = find_fixed_points(net, np.linspace(-2, 2, 9)[:, None])
    assert res.Q == 1
    with threadpool_limits(limits=1, user_api="blas"):
        np.testing.assert_allclose(res.residuals, np.linalg.norm(net(res.fixed_points) - res.fixed_points, axis=1),
                                   rtol=1e-15, atol=0)
