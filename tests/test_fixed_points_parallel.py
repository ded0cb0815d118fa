"""The fast paths of the fixed-point search against the plain ones: worker threads, chunking, merging, Newton."""

from __future__ import annotations

import os
import threading
import time

import numpy as np
import pytest
from scipy.spatial import cKDTree
from threadpoolctl import threadpool_limits

import rmtfp.dynamics.maps as maps
import rmtfp.dynamics.merge as merge
from rmtfp import Network, find_fixed_points, grid, random_starts
from rmtfp.dynamics.merge import _leader_clusters
from rmtfp.dynamics.newton import _fixed_point_fun, _newton


def _same_result(a, b):
    """Every output of two searches identical to the bit."""
    for name in ("fixed_points", "labels", "status", "residuals", "refined", "iterations"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert a.fractions == b.fractions
    assert [s.kind for s in a.stability] == [s.kind for s in b.stability]
    for sa, sb in zip(a.stability, b.stability):
        np.testing.assert_array_equal(sa.eigenvalues, sb.eigenvalues)
    assert len(a.cycles) == len(b.cycles)
    for ca, cb in zip(a.cycles, b.cycles):
        assert ca.period == cb.period and ca.refined == cb.refined
        np.testing.assert_array_equal(ca.points, cb.points)


def _networks():
    """Networks whose searches meet every status: attracting points, cycles, unresolved and divergent starts."""
    out = []
    for seed in range(8):
        out.append((Network.random([2, 60, 60, 2], "hardtanh", "cauchy", rng=seed), grid(step=0.05)))
    for seed, act in enumerate(["tanh", "relu", "erf", "sigmoid"]):
        out.append((Network.random([2, 40, 2], act, "normal", scale=4.0, rng=seed), grid(step=0.05)))
    for seed in range(4):
        net = Network.random([3, 50, 3], "tanh", "normal", scale=3.0, rng=seed)
        out.append((net, random_starts(900, 3, rng=seed)))
    out.append((Network.random([2, 20, 2], "relu", "normal", scale=9.0, rng=0, last_activation=False),
                grid(step=0.05)))  # divergent starts
    return out


@pytest.mark.filterwarnings("ignore::rmtfp.errors.UnresolvedWarning")
@pytest.mark.parametrize("case", range(17))
def test_workers_do_not_change_the_result(case):
    # the chunks are cut by the batch size alone, so the products, and so every bit of the result, are the
    # same whatever the number of threads mapping them
    net, starts = _networks()[case]
    one = find_fixed_points(net, starts, workers=1)
    assert starts.shape[0] >= 2 * maps._SPLIT_ROWS  # the batch is cut into chunks: the parallel path runs
    for workers in (2, 3, None):
        _same_result(find_fixed_points(net, starts, workers=workers), one)


@pytest.mark.filterwarnings("ignore::rmtfp.errors.UnresolvedWarning")
def test_the_parallel_cases_meet_every_status():
    # the cases above are worth their time only if they meet every status
    seen = set()
    for net, starts in _networks():
        seen |= set(find_fixed_points(net, starts, workers=2).status)
    assert seen == {"fixed_point", "cycle", "unresolved", "divergent"}


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", True, [2]])
def test_bad_workers(bad):
    net = Network.random([2, 5, 2], "tanh", rng=0)
    with pytest.raises(ValueError, match="workers must be None"):
        find_fixed_points(net, grid(step=0.5), workers=bad)


def test_auto_workers_rule(monkeypatch):
    monkeypatch.setattr(maps.os, "sched_getaffinity", lambda pid: set(range(4)), raising=False)
    assert maps.auto_workers(8, 1) == 4  # the cores
    assert maps.auto_workers(3, 1) == 3  # the caller's BLAS limit
    assert maps.auto_workers(1, 1) == 1  # threadpool_limits(1) around the call: no threads
    assert maps.auto_workers(8, 2) == 2  # two BLAS threads per worker
    assert maps.auto_workers(4, None) == 1  # BLAS left as it is: its threads are the parallelism
    assert maps.auto_workers(8, 16) == 1


def test_a_caller_limiting_blas_to_one_thread_gets_one_worker(monkeypatch):
    seen = []
    original = maps.Workers.__init__

    def spy(self, workers=1, stacked=False):
        seen.append(workers)
        original(self, workers, stacked)

    monkeypatch.setattr(maps.Workers, "__init__", spy)
    net = Network.random([2, 10, 2], "tanh", rng=0)
    with threadpool_limits(limits=1, user_api="blas"):
        find_fixed_points(net, grid(step=0.25))  # as in the ensembles' worker processes
    with threadpool_limits(limits=2, user_api="blas"):
        find_fixed_points(net, grid(step=0.25))
        find_fixed_points(net, grid(step=0.25), workers=3)
    assert seen == [1, min(2, maps.auto_workers(2, 1)), 3]


def test_workers_run_every_task_and_reraise():
    for workers in (1, 2, 4):
        out = np.zeros(37)
        with maps.Workers(workers) as pool:
            pool.run(lambda i: out.__setitem__(i, i * i), 37)
        np.testing.assert_array_equal(out, np.arange(37.0) ** 2)

    def failing(i):
        if i == 5:
            raise ArithmeticError("task 5")

    with maps.Workers(2) as pool, pytest.raises(ArithmeticError, match="task 5"):
        pool.run(failing, 8)


def test_a_held_back_helper_does_not_stall_the_batch(monkeypatch):
    # a helper thread that does not come back (a loaded machine) leaves its task to the calling thread,
    # which runs it again after waiting as long as a task takes it; without that the run would block here
    monkeypatch.setattr(maps, "_last_stall", [-np.inf])  # the stall it makes is forgotten after the test
    release, helper_started = threading.Event(), threading.Event()
    main = threading.current_thread()
    out = np.zeros(4)

    def task(i):
        if threading.current_thread() is not main:
            helper_started.set()
            release.wait(30)  # held back until the run is over
        else:
            helper_started.wait(30)  # the helper holds a task before the calling thread runs out of them
        out[i] = i + 1

    with maps.Workers(2) as pool:
        t = time.perf_counter()
        pool.run(task, 4)
        blocked = time.perf_counter() - t
        release.set()
    np.testing.assert_array_equal(out, [1, 2, 3, 4])
    assert blocked < 20  # not the 30 s the helper was held back


@pytest.mark.parametrize("total", [1, 5, 127, 159, 160, 161, 255, 256, 511, 512, 1023, 1024, 1681, 5000, 100_000])
@pytest.mark.parametrize("rows", [1, 7, 64, 655])
def test_chunking(total, rows):
    per = maps._chunking(total, rows)
    chunks = -(-total // per)
    assert 1 <= per <= rows
    assert chunks * per - total < per  # no empty chunk
    if total >= 2 * maps._SPLIT_ROWS:
        assert chunks >= 2  # work for two workers
        if total < maps._SPLIT_WIDE and 2 * rows >= total:
            assert chunks == 2  # shared evenly by two
    if total >= maps._SPLIT_WIDE:
        assert chunks >= maps._SPLIT_CHUNKS
    if total < 2 * maps._SPLIT_ROWS:
        assert chunks == -(-total // rows)  # as few as the row limit allows


@pytest.mark.parametrize("seed", range(42))
def test_leader_clusters_one_point_per_item_agrees_with_the_general_route(seed):
    # the fast routes for one point per item (equal candidates merged first, groups far apart clustered one by
    # one, tight groups without a search) against the route for items with several points, given one each
    rng = np.random.default_rng(seed)
    k = int(rng.integers(1, 300))
    centres = rng.uniform(-1, 1, size=(int(rng.integers(1, 6)), 2))
    pts = centres[rng.integers(0, centres.shape[0], k)] + rng.normal(scale=10 ** rng.uniform(-6, -2), size=(k, 2))
    # exact duplicates of a few rows: a fifth of the candidates, or most of them (the route that merges equal
    # rows before clustering); a zero of either sign
    copies = rng.random(k) < rng.choice([0.2, 0.9])
    pts[copies] = pts[rng.integers(0, min(k, 3), k)][copies]
    if k > 3 and seed % 3 == 0:
        pts[1:3] = [[0.0, 0.5], [-0.0, 0.5]]
    radius = 1e-3
    if seed % 5 == 4:  # a chain with links shorter than the radius: one group of candidates, not one cluster
        pts = np.column_stack([np.cumsum(rng.uniform(0.2, 0.9, k)) * radius, rng.normal(scale=radius / 4, size=k)])
    if seed % 7 == 6:  # and a chain with repeated links far from the other groups: a loose group among tight ones
        chain = np.column_stack([5 + np.cumsum(rng.uniform(0.2, 0.9, 40)) * radius, np.zeros(40)])
        pts = np.concatenate([pts, chain[rng.integers(0, 40, 80)]])
        k = pts.shape[0]
    res = rng.choice([0.0, 1e-9, 1e-7], size=k)  # ties in the residual
    fast = _leader_clusters(pts, res, radius)
    general = _leader_clusters(pts, res, radius, owner=np.arange(k), n_items=k)
    np.testing.assert_array_equal(fast[0], general[0])
    np.testing.assert_array_equal(fast[1], general[1])
    # every candidate is within the radius of its leader; leaders are pairwise farther apart
    lead = pts[fast[1]]
    assert np.all(np.linalg.norm(pts - lead[fast[0]], axis=1) <= radius)
    if lead.shape[0] > 1:
        d = np.linalg.norm(lead[:, None] - lead[None], axis=2)
        assert np.all(d[np.triu_indices(lead.shape[0], 1)] > radius)


@pytest.mark.parametrize("seed", range(40))
def test_greedy_distance_table_agrees_with_the_kd_tree(seed, monkeypatch):
    # a few points are clustered through a table of their squared distances; the k-d tree the table replaces
    # gives the same clusters, also for pairs at the distance radius to the rounding
    rng = np.random.default_rng(seed)
    n = 1 + seed % 3
    k = int(rng.integers(1, merge._TABLE_POINTS + 1))
    radius = 1e-3
    pts = rng.uniform(-1, 1, size=(1, n)) + rng.normal(scale=radius, size=(k, n))
    for i in range(1, k, 2):  # every other point at the radius from the one before, to a few ulps
        d = rng.normal(size=n)
        pts[i] = pts[i - 1] + d / np.linalg.norm(d) * radius * (1 + rng.uniform(-3e-16, 3e-16))
    res = rng.choice([0.0, 1e-9, 1e-7], size=k)
    table = merge._greedy(pts, res, radius)
    monkeypatch.setattr(merge, "_TABLE_POINTS", 0)
    tree = merge._greedy(pts, res, radius)
    np.testing.assert_array_equal(table[0], tree[0])
    np.testing.assert_array_equal(table[1], tree[1])


@pytest.mark.parametrize("seed", range(40))
def test_orbit_clusters_by_scans_agree_with_the_kd_tree(seed, monkeypatch):
    # items with several points (cycle orbits): the first leaders scan all points instead of querying a k-d
    # tree; both give the same clusters, also for points of two items at the distance radius to the rounding,
    # and whether the scans stop after a few leaders or never
    rng = np.random.default_rng(seed)
    n = 1 + seed % 3
    p, k = int(rng.integers(2, 6)), int(rng.integers(1, 300))
    radius = 1e-3
    centres = rng.uniform(-1, 1, size=(int(rng.integers(1, 40)), p, n))
    orbit = centres[rng.integers(0, centres.shape[0], k)] + rng.normal(scale=radius / 3, size=(k, p, n))
    for j in range(1, k, 3):  # an orbit point at the radius, to a few ulps, from one of another item
        d = rng.normal(size=n)
        orbit[j, 0] = orbit[j - 1, 1] + d / np.linalg.norm(d) * radius * (1 + rng.uniform(-3e-16, 3e-16))
    points = np.swapaxes(orbit, 0, 1).reshape(-1, n)
    owner = np.tile(np.arange(k), p)
    res = rng.choice([0.0, 1e-9, 1e-7], size=k)
    scans = merge._greedy(points, res, radius, owner, k)
    for limit in (0, 3):
        monkeypatch.setattr(merge, "_OWNER_SCANS", limit)
        tree = merge._greedy(points, res, radius, owner, k)
        np.testing.assert_array_equal(scans[0], tree[0])
        np.testing.assert_array_equal(scans[1], tree[1])


@pytest.mark.parametrize("n", [1, 2, 3])
def test_distance_table_judges_pairs_at_the_radius_as_the_kd_tree(n):
    # pairs at the distance radius to a few ulps: the table and the k-d tree's ball query agree on every one
    # (a test of |p - q| <= radius instead of |p - q|^2 <= radius^2 disagrees on about one pair in 500)
    rng = np.random.default_rng(n)
    radius = 1e-3
    for _ in range(3000):
        p = rng.uniform(-1, 1, n)
        d = rng.normal(size=n)
        q = p + d / np.linalg.norm(d) * radius * (1 + rng.uniform(-3e-16, 3e-16))
        pts = np.stack([p, q])
        assert merge._near_table(pts, radius)[0, 1] == (1 in cKDTree(pts).query_ball_point(p, radius))


@pytest.mark.parametrize("n", [1, 2, 3])
def test_column_scan_judges_points_as_the_distance_table(n):
    # the scan of the orbit points column by column (_near_any) against the table of all distances: the same
    # points near, also for points at the distance radius to a few ulps (the same sums, in the same order)
    rng = np.random.default_rng(10 + n)
    radius = 1e-3
    for _ in range(200):
        mine = rng.uniform(-1, 1, size=(int(rng.integers(1, 6)), n))
        d = rng.normal(size=(50, n))
        at = mine[rng.integers(0, mine.shape[0], 50)]
        at = at + d / np.linalg.norm(d, axis=1)[:, None] * radius * (1 + rng.uniform(-3e-16, 3e-16, size=(50, 1)))
        others = np.concatenate([at, rng.uniform(-1, 1, size=(50, n))])
        columns = [np.ascontiguousarray(c) for c in others.T]
        table = merge._near_table(np.concatenate([mine, others]), radius)[:mine.shape[0], mine.shape[0]:]
        np.testing.assert_array_equal(merge._near_any(mine, radius, columns), table.any(axis=0))


@pytest.mark.parametrize("seed", range(12))
def test_batched_newton_agrees_with_one_point_at_a_time(seed):
    # Newton's method on a batch (one linear solve per point, stacked) against the same method started on
    # each point alone; the steps are the same up to the rounding of products of another shape, and both stop
    # at |F| <= eps max(1, |x|), so the fixed points agree to refine_tol = 1e-12 where both converge
    net = Network.random([2, 30, 30, 2], "tanh", "normal", scale=3.0, rng=seed)
    x0 = random_starts(40, 2, rng=seed)
    fun = _fixed_point_fun(net, 64)
    xb, rb, _, _ = _newton(fun, x0)
    for i in range(x0.shape[0]):
        xi, ri, _, _ = _newton(fun, x0[i:i + 1])
        scale = max(1.0, float(np.linalg.norm(xb[i])))
        if rb[i] <= 1e-12 * scale and ri[0] <= 1e-12 * scale:
            np.testing.assert_allclose(xi[0], xb[i], rtol=0, atol=1e-10)  # both converged: the same root


def test_after_a_stall_the_calling_thread_maps_alone_for_a_while(monkeypatch):
    # a stalled helper sends the next 1, 2, 4, ... batches to the calling thread alone, and workers made soon
    # after start that way: on a busy machine threads that wait for each other lose to one thread
    monkeypatch.setattr(maps, "_last_stall", [-np.inf])
    release, helper_started = threading.Event(), threading.Event()
    main = threading.current_thread()
    ran_on = []

    def held(i):
        if threading.current_thread() is not main:
            helper_started.set()
            release.wait(30)
        else:
            helper_started.wait(30)  # the helper holds a task before the calling thread runs out of them

    def record(i):
        ran_on.append(threading.current_thread() is main)

    with maps.Workers(2) as pool:
        pool.run(held, 4)  # stalls
        release.set()
        pool.run(record, 8)  # the backoff: one batch on the calling thread
        assert all(ran_on)
    assert maps._last_stall[0] > -np.inf
    ran_on.clear()
    with maps.Workers(2) as pool:
        for _ in range(16):
            pool.run(record, 8)
        assert all(ran_on)  # started on the calling thread alone
    monkeypatch.setattr(maps, "_last_stall", [-np.inf])
    with maps.Workers(2) as pool:
        assert pool._serial == 0  # no recent stall: threads from the start


def _search_in_child(labels, queue):
    net = Network.random([2, 40, 2], "tanh", "normal", scale=4.0, rng=0)
    queue.put(np.array_equal(find_fixed_points(net, grid(), workers=2).labels, labels))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork: the helper threads of the parent are not in the child")
def test_a_forked_child_starts_its_own_helper_threads():
    import multiprocessing

    net = Network.random([2, 40, 2], "tanh", "normal", scale=4.0, rng=0)
    labels = find_fixed_points(net, grid(), workers=2).labels  # the parent's helper threads exist now
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_search_in_child, args=(labels, queue))
    child.start()
    child.join(120)  # the parent's helper threads are not in the child: its search must not wait for them
    assert child.exitcode == 0
    assert queue.get(timeout=10)
