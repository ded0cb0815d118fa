"""Merging of fixed-point (and cycle) candidates closer than ``merge_tol``.

Candidates closer than ``merge_tol`` are one fixed point; the one with the
smallest residual leads its cluster, and the leaders are polished by
Newton's method (:mod:`rmtfp.dynamics.newton`) and merged once more.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
from scipy.spatial import cKDTree

from .maps import _map_jacobian, _new_rows, _residuals, _row_sums, _span
from .network import Network
from .newton import _fixed_point_fun, _polish
from .results import eigenvalues_of


#: at most this many points are clustered through a table of their distances rather than a k-d tree
_TABLE_POINTS = 32
#: the first this many leaders of items with several points (cycle orbits) scan all points rather than query a
#: k-d tree (building it costs more than a few scans)
_OWNER_SCANS = 16


def _leader_order(points: np.ndarray, residuals: np.ndarray) -> np.ndarray:
    """Candidates by increasing residual, ties broken lexicographically (independent of input order)."""
    return np.lexsort(tuple(points.T[::-1]) + (residuals,))


def _collapse_duplicates(points: np.ndarray, residuals: np.ndarray, radius: float):
    """:func:`_leader_clusters` of one point per item through the distinct points, or None.

    Candidates that are the same point (saturating activations send whole
    basins to one corner, to the bit) are always in one cluster; each
    distinct point enters with its smallest residual (ties: the first
    index), which is the one the greedy order would reach first, so the
    clusters and leaders are those of all the candidates.  None when fewer
    than half of the candidates repeat another (judged on a column of row
    sums, whose repeats bound those of the rows: sorting whole rows would
    cost more than it saves).
    """
    m = points.shape[0]
    if np.unique(_row_sums(points)).size > m // 2:
        return None
    # equal rows next to each other, by increasing residual, then index (lexsort is stable); -0.0 == 0.0
    # like the distance, which puts them in one cluster anyway
    order = np.lexsort((residuals,) + tuple(points.T[::-1]))
    new_row = _new_rows(points, order)
    best = order[new_row]  # per distinct point: the smallest residual, the first index among equal ones
    if best.size == m:
        return None
    inverse = np.empty(m, dtype=int)
    inverse[order] = np.cumsum(new_row) - 1
    cluster, leaders = _leader_clusters(points[best], residuals[best], radius)
    return cluster[inverse], best[leaders]


def _leader_clusters(points: np.ndarray, residuals: np.ndarray, radius: float,
                     owner: Optional[np.ndarray] = None, n_items: Optional[int] = None):
    """Greedy clustering around the best candidates.

    The candidate with the smallest residual leads a cluster holding every
    unassigned candidate within ``radius`` of it; repeat.  Leaders are
    pairwise farther apart than ``radius`` and the result does not depend on
    the order of the input.  With ``owner``, ``points`` are the orbit points
    of ``n_items`` items (``owner[i]`` the item of point i) and items
    sharing a point within ``radius`` are merged; ``residuals`` are per item.

    Returns
    -------
    cluster : ndarray of int, per item
    leaders : ndarray of int, the leading item of each cluster
    """
    if owner is None and points.shape[0] > 2:
        for shortcut in (_split_far_apart, _collapse_duplicates):
            found = shortcut(points, residuals, radius)
            if found is not None:
                return found
    return _greedy(points, residuals, radius, owner, n_items)


def _split_far_apart(points: np.ndarray, residuals: np.ndarray, radius: float, margin: float = 1e-9):
    """:func:`_leader_clusters` of one point per item, group by group, or None.

    Sorted by the first coordinate, the candidates fall into groups
    separated by gaps wider than ``radius`` (1 + margin): no candidate is
    within ``radius`` of one in another group, so the greedy clustering runs
    group by group (each in the global order restricted to it).  A group
    whose bounding box has a diagonal below ``radius`` (1 - margin) is one
    cluster led by its first candidate in that order, without a search; the
    margins keep both tests on the safe side of the rounding of the
    distances.  None when there is a single group and it is not that tight.
    """
    m = points.shape[0]
    by_first = np.argsort(points[:, 0], kind="stable")
    cut = np.flatnonzero(np.diff(points[by_first, 0]) > radius * (1 + margin)) + 1
    if cut.size == 0 and not _tight(points, radius * (1 - margin)):
        return None
    cluster = np.empty(m, dtype=int)  # first the leading candidate of each, then the cluster's number
    leaders = []
    for group in np.split(by_first, cut):
        if group.size == m or _tight(points[group], radius * (1 - margin)):
            # the first of the group in the order: the smallest residual, then the smallest point
            best = group[residuals[group] == residuals[group].min()]
            lead = int(best[_leader_order(points[best], residuals[best])[0]])
            cluster[group] = lead
            leaders.append(lead)
        else:
            group = np.sort(group)  # the input order, as the whole search sees it
            # (no gap within a group: its repeated candidates are collapsed, then the greedy search)
            sub_cluster, sub_leaders = _leader_clusters(points[group], residuals[group], radius)
            cluster[group] = group[sub_leaders][sub_cluster]
            leaders.extend(group[sub_leaders].tolist())
    # the greedy search meets the leaders in the global order: number the clusters that way
    leaders = np.array(leaders, dtype=int)
    leaders = leaders[_leader_order(points[leaders], residuals[leaders])]
    number = np.empty(m, dtype=int)
    number[leaders] = np.arange(leaders.size)
    return number[cluster], leaders


def _tight(points: np.ndarray, diameter: float) -> bool:
    """Whether the bounding box of the points has a diagonal of at most ``diameter``."""
    span = _span(points)
    return float(np.sqrt(np.dot(span, span))) <= diameter


def _near_table(points: np.ndarray, radius: float) -> np.ndarray:
    """Which points are within ``radius`` of which, judged as the k-d tree judges them: the squared differences
    summed coordinate by coordinate (in order: up to three coordinates) compared with radius^2."""
    diff = points[:, None, :] - points[None, :, :]
    return (diff * diff).sum(axis=2) <= radius * radius


def _near_any(points: np.ndarray, radius: float, columns: list) -> np.ndarray:
    """Which of the points whose coordinates are ``columns`` are within ``radius`` of any of ``points``, with the
    sums of :func:`_near_table`, column by column (numpy sums the last axis of a (k, m, n) array slowly for
    small n: 0.5 ms against 0.1 ms for 4 points against 6724)."""
    r2 = radius * radius
    near = np.zeros(columns[0].size, dtype=bool)
    for point in points:
        d2 = columns[0] - point[0]
        d2 *= d2
        for col, x in zip(columns[1:], point[1:]):
            d = col - x
            d *= d
            d2 += d  # coordinate by coordinate, in order: the sums of _near_table (and of the k-d tree)
        near |= d2 <= r2
    return near


def _greedy(points: np.ndarray, residuals: np.ndarray, radius: float, owner: Optional[np.ndarray] = None,
            n_items: Optional[int] = None):
    """:func:`_leader_clusters` by a k-d tree search around every leader in turn (in up to three dimensions,
    a table of all distances for a few points, and a scan of all points for the first leaders of items with
    several points)."""
    if owner is None:  # one point per item: the item's point itself breaks ties
        n_items = points.shape[0]
        order = _leader_order(points, residuals)
        if n_items <= _TABLE_POINTS and points.shape[1] <= 3:
            near_all = _near_table(points, radius)  # building the tree costs more for a few points

            def near_points(item):
                return np.flatnonzero(near_all[item])
        else:
            tree = cKDTree(points)

            def near_points(item):
                return np.asarray(tree.query_ball_point(points[item], radius), dtype=int)
    else:
        # each item's lexicographically smallest point breaks ties between equal residuals: the first point of
        # each item in the order by item, then point
        order_pts = np.lexsort(tuple(points.T[::-1]) + (owner,))
        first = np.ones(order_pts.size, dtype=bool)
        first[1:] = owner[order_pts[1:]] != owner[order_pts[:-1]]
        order = _leader_order(points[order_pts[first]], residuals)
        # the points of item i are by_owner[start[i]:start[i + 1]]
        by_owner = np.argsort(owner, kind="stable")
        start = np.searchsorted(owner[by_owner], np.arange(n_items + 1))
        tree = []  # built once a few leaders have scanned all points (a scan is cheaper for a few clusters)
        columns = [np.ascontiguousarray(c) for c in points.T] if points.shape[1] <= 3 else None

        def near_points(item):
            mine = points[by_owner[start[item]:start[item + 1]]]
            hit = np.zeros(n_items, dtype=bool)  # the items owning a point near one of mine (no sort needed)
            if not tree and columns is not None and len(leaders) < _OWNER_SCANS:
                hit[owner[_near_any(mine, radius, columns)]] = True
            else:
                if not tree:
                    tree.append(cKDTree(points))
                found = tree[0].query_ball_point(mine, radius)
                hit[owner[np.concatenate([np.asarray(f, dtype=int) for f in found])]] = True
            return np.flatnonzero(hit)
    cluster = np.full(n_items, -1)
    free = np.ones(n_items, dtype=bool)
    leaders = []
    pos = 0  # order[:pos] are taken
    while True:
        # the next free item in the order (a scan in numpy rather than a Python step per taken item)
        rest = free[order[pos:]]
        if not rest.any():
            break
        pos += int(rest.argmax())
        item = int(order[pos])
        near = near_points(item)
        near = near[free[near]]
        cluster[near] = len(leaders)
        cluster[item] = len(leaders)
        free[near] = False
        free[item] = False
        leaders.append(item)
    return cluster, np.asarray(leaders, dtype=int)


def _merge_fixed_points(net: Network, pts, res, tol, merge_tol, refine, refine_tol, neutral_tol, rows):
    """Cluster fixed-point candidates, polish one per cluster, merge again.

    Returns the fixed points (sorted), their residuals, refined flags, the
    label of every candidate and the eigenvalues of DPhi at the fixed points.
    """
    n = pts.shape[1]
    if pts.shape[0] == 0:
        return (np.empty((0, n)), np.empty(0), np.empty(0, dtype=bool), np.empty(0, dtype=int),
                np.empty((0, n), dtype=complex))
    cl1, lead1 = _leader_clusters(pts, res, merge_tol)
    x0, res0 = pts[lead1], res[lead1]
    xr = x0
    ok = np.zeros(lead1.size, dtype=bool)
    if refine:
        # Newton's last evaluation gives DPhi at the polished points (and _polish its eigenvalues)
        xr, ok, ev = _polish(_fixed_point_fun(net, rows), x0, res0, refine_tol, merge_tol, neutral_tol)
        if not ok.all():
            ev = ev.copy()
            ev[~ok] = eigenvalues_of(_map_jacobian(net, x0[~ok], rows)[1])
    else:
        ev = eigenvalues_of(_map_jacobian(net, xr, rows)[1])
    # the residuals as a caller evaluates them, net(fixed_points): the points in the order reported (:func:`_residuals`)
    by_point = np.lexsort(xr.T[::-1])
    xr, ok, ev = xr[by_point], ok[by_point], ev[by_point]
    cl1 = np.argsort(by_point)[cl1]
    rr = _residuals(net, xr)
    cl2, lead2 = _leader_clusters(xr, rr, merge_tol)
    final = xr[lead2]
    order = np.lexsort(final.T[::-1])
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    labels = rank[cl2[cl1]]
    final, residuals = final[order], rr[lead2][order]
    if lead2.size < xr.shape[0]:  # some merged: the reported points are another batch
        residuals = _residuals(net, final)
    return final, residuals, ok[lead2][order], labels, ev[lead2][order]
