"""Phi on the distinct rows of a batch (:class:`rmtfp.dynamics.maps._DistinctMap`)."""

import numpy as np
import pytest

from rmtfp import Network
from rmtfp.dynamics import maps


def _counting(net):
    """The rows of every batch the network maps, recorded."""
    seen = []
    forward = net._forward

    def counted(x, stacked=False):
        seen.append(x.shape[0])
        return forward(x, stacked)

    net._forward = counted
    return seen


def _batch(rng, n, m, repeated, kind):
    """m rows of dimension n of which ``repeated`` repeat an earlier row (bit for bit)."""
    x = rng.uniform(-1, 1, size=(m, n))
    if kind == "saturated":
        # distinct rows with equal first coordinates (a saturated output unit)
        x[:, 0] = np.where(rng.random(m) < 0.5, -1.0, 1.0)
    elif kind == "signed_zero":
        x[: m // 2, 0] = 0.0
        x[m // 2:, 0] = -0.0
    elif kind == "far_columns" and n > 8:
        # distinct rows that agree in the first eight columns
        x[:, :8] = x[0, :8]
    copies = rng.choice(m, size=repeated, replace=False)
    x[copies] = x[rng.integers(0, m - repeated, size=repeated)]  # may copy a copy: count distinct rows below
    return x


@pytest.mark.parametrize("n", [1, 2, 3, 12])
@pytest.mark.parametrize("fraction", [0.0, 0.05, 0.09, 0.11, 0.5, 0.99])
@pytest.mark.parametrize("kind", ["uniform", "saturated", "signed_zero", "far_columns"])
def test_distinct_rows_mapped_once_exactly_when_a_tenth_repeat(n, fraction, kind):
    # the rule: a batch whose rows repeat (bit for bit) at least a tenth of the time is mapped on its distinct
    # rows; the cheap pre-test on weighted sums must never skip such a batch (equal rows, equal sums)
    rng = np.random.default_rng(int(1000 * fraction) + n)
    m = 400
    x = _batch(rng, n, m, int(fraction * m), kind)
    distinct = np.unique(x.view(np.dtype((np.void, 8 * n))).ravel()).size
    net = Network.random([n, 30, n], "hardtanh", "normal", rng=n)
    seen = _counting(net)
    y = maps._DistinctMap(net, rows=10_000)(x)
    assert y.shape == (m, n)
    if m - distinct >= 0.1 * m:
        assert seen == [distinct]
    else:
        assert seen == [m]
    # equal rows get equal images, and the images are Phi's (another batch shape may round differently
    # in the last bits: a few ulps of the products)
    reference = Network(net.weights, net.biases, "hardtanh")._forward(x)
    np.testing.assert_allclose(y, reference, rtol=0, atol=1e-13)
    _, first, inverse = np.unique(x.view(np.dtype((np.void, 8 * n))).ravel(), return_index=True,
                                  return_inverse=True)
    np.testing.assert_array_equal(y, y[first][inverse.ravel()])


def test_skipped_batches_wait_longer_each_time():
    # without repeats the test itself is skipped for 1, 2, 4, 8, 16, 16 maps
    rng = np.random.default_rng(0)
    net = Network.random([2, 30, 2], "hardtanh", "normal", rng=0)
    phi = maps._DistinctMap(net, rows=10_000)
    tested = []
    for k in range(64):
        tested.append(phi.wait == 0)
        phi(rng.uniform(-1, 1, size=(50, 2)))
    assert np.flatnonzero(tested).tolist() == [0, 2, 5, 10, 19, 36, 53]


def test_unequal_rows_with_equal_sums_are_still_mapped_once():
    # (2 v_1, 0) and (0, 2) have the same weighted sum to the bit (v_0 = 1, and 2 v_1 is exact): sorted by
    # sums the two rows alternate, so neighbours differ although each repeats 99 times; the rows' bytes decide
    v1 = maps._SUM_WEIGHTS[1]
    a, b = np.array([2 * v1, 0.0]), np.array([0.0, 2.0])
    assert maps._row_sums(a[None])[0] == maps._row_sums(b[None])[0]
    x = np.array([a, b] * 100)
    net = Network.random([2, 30, 2], "hardtanh", "normal", rng=0)
    seen = _counting(net)
    y = maps._DistinctMap(net, rows=10_000)(x)
    assert seen == [2]
    np.testing.assert_array_equal(y[0::2], np.broadcast_to(y[0], (100, 2)))
    np.testing.assert_array_equal(y[1::2], np.broadcast_to(y[1], (100, 2)))
    np.testing.assert_allclose(y[:2], Network(net.weights, net.biases, "hardtanh")._forward(x[:2]), rtol=0,
                               atol=1e-13)


def test_first_search_after_wait_maps():
    # wait=1 (the starts of a search are distinct): the first batch is mapped whole, the second is searched
    net = Network.random([2, 30, 2], "hardtanh", "normal", rng=0)
    x = np.repeat(np.random.default_rng(0).uniform(-1, 1, size=(10, 2)), 10, axis=0)
    seen = _counting(net)
    phi = maps._DistinctMap(net, rows=10_000, wait=1)
    phi(x)
    phi(x)
    assert seen == [100, 10]


@pytest.mark.parametrize("m", [0, 1, 2])
def test_batches_of_no_one_or_two_rows(m):
    net = Network.random([2, 30, 2], "hardtanh", "normal", rng=0)
    x = np.zeros((m, 2))  # two equal rows when m = 2
    y = maps._DistinctMap(net, rows=10_000)(x)
    assert y.shape == (m, 2)
    np.testing.assert_allclose(y, net._forward(x), rtol=0, atol=1e-13)


def test_rows_found_equal_are_mapped_once_in_later_batches():
    # 100 rows, ten copies of each of 10 points: the first batch is searched (wait=0), the next ones are not
    # (wait set by hand) and still map one row per group, also after the caller drops rows
    net = Network.random([2, 30, 2], "hardtanh", "normal", rng=0)
    x = np.repeat(np.random.default_rng(0).uniform(-1, 1, size=(10, 2)), 10, axis=0)
    seen = _counting(net)
    phi = maps._DistinctMap(net, rows=10_000)
    y = phi(x)
    assert seen == [10]
    phi.wait = 100  # no search from now on: only the groups found above
    y = phi(y)
    assert seen == [10, 10]
    keep = np.flatnonzero(np.arange(100) % 10 != 0)  # one row of each group leaves: no group is gone
    phi.keep(keep)
    y = phi(y[keep])
    assert seen[-1] == 10
    keep = np.arange(45)  # groups 0-3 whole, 5 rows of group 4, groups 5-9 gone
    phi.keep(keep)
    z = phi(y[keep])
    assert seen[-1] == 5
    np.testing.assert_allclose(z, net._forward(y[keep]), rtol=0, atol=1e-13)


@pytest.mark.parametrize("seed", range(20))
def test_batches_with_dropped_rows_map_like_phi(seed):
    # a random sequence of batches, each the image of the one before less random rows, some rows merged by
    # hand (a copy of another row, as saturation makes them): every image is Phi's, rows mapped as one group are
    # equal and get one image
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 5))
    net = Network.random([n, 20, n], "hardtanh", "cauchy", rng=seed)
    phi = maps._DistinctMap(net, rows=int(rng.integers(3, 50)), wait=int(rng.integers(0, 2)))
    x = rng.uniform(-1, 1, size=(int(rng.integers(1, 200)), n))
    for _ in range(12):
        if x.shape[0] > 1 and rng.random() < 0.5:
            k = int(rng.integers(1, x.shape[0]))
            x[rng.choice(x.shape[0], size=k)] = x[rng.integers(0, x.shape[0])]  # a row the image must copy
            phi._groups = None  # the batch changed outside the map: what was found no longer holds
        y = phi(x)
        np.testing.assert_allclose(y, net._forward(x), rtol=0, atol=1e-13)
        if phi._groups is not None:  # (rows mapped in different chunks may round otherwise in the last bit)
            first, inverse = phi._groups
            np.testing.assert_array_equal(x, x[first][inverse])  # a group holds equal rows only
            np.testing.assert_array_equal(y, y[first][inverse])  # and they have one image
        keep = np.flatnonzero(rng.random(y.shape[0]) < 0.8)
        if keep.size == 0:
            break
        phi.keep(keep)
        x = y[keep]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("early", [True, False])
def test_iteration_classifies_as_without_the_search_for_repeats(seed, early, monkeypatch):
    # saturating networks (many starts reach the same corner, bit for bit) with budgets of different lengths
    # (rows leave the batch at different maps, groups of equal rows in part): the iteration that maps each
    # group once classifies every start as the one that maps every row
    from rmtfp.dynamics.iteration import _iterate

    rng = np.random.default_rng(seed)
    net = Network.random([2, 40, 40, 2], "hardtanh", "cauchy", rng=seed)
    x0 = np.concatenate([rng.uniform(-1, 1, size=(150, 2)), np.repeat(rng.uniform(-3, 3, size=(5, 2)), 10, axis=0)])
    budget = rng.integers(1, 40, size=x0.shape[0])
    args = (net, x0, 1e-5, budget, 6, 1e8, 37)
    grouped = _iterate(*args, early=early)
    mapped = []
    monkeypatch.setattr(maps._DistinctMap, "__call__",
                        lambda self, x: mapped.append(x.shape[0]) or maps._map(self.net, x, self.rows, self.pool))
    plain = _iterate(*args, early=early)
    assert sum(mapped) > 0
    for a, b in zip(grouped[:3], plain[:3]):  # code, period, iterations
        np.testing.assert_array_equal(a, b)
    # candidates, residuals, last states: the same maps in other chunks round in the last bits only
    for a, b in zip(grouped[3:6], plain[3:6]):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


@pytest.mark.parametrize("n", [1, 2, 8, 9, 30])
@pytest.mark.parametrize("m", [0, 1, 2, 50])
def test_new_rows_and_span_column_by_column_as_over_rows(n, m):
    # up to eight columns the comparisons and extremes run column by column: the same answers as over rows
    rng = np.random.default_rng(10 * n + m)
    a = rng.integers(0, 3, size=(m, n)).astype(float)  # many equal rows
    a[a == 0] = -0.0 if n % 2 else 0.0
    order = np.lexsort(a.T[::-1]) if m else np.zeros(0, dtype=int)
    rows = a[order]
    expected = np.ones(m, dtype=bool)
    expected[1:] = np.any(rows[1:] != rows[:-1], axis=1)
    np.testing.assert_array_equal(maps._new_rows(a, order), expected)
    if m:
        np.testing.assert_array_equal(maps._span(a), a.max(axis=0) - a.min(axis=0))


def test_new_rows_bit_for_bit_on_an_integer_view():
    # as floats -0.0 == 0.0 (the clustering's distance agrees); as int64 bits they differ (the repeated-row
    # search, whose rows must map to the same bits)
    a = np.array([[0.0, 1.0], [-0.0, 1.0]])
    order = np.arange(2)
    np.testing.assert_array_equal(maps._new_rows(a, order), [True, False])
    np.testing.assert_array_equal(maps._new_rows(a.view(np.int64), order), [True, True])
