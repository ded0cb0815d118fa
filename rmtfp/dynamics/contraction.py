"""Contraction constants of a network: pairwise (the papers' eq. (5.2)), Jacobian and global bounds.

For points x_1, ..., x_M (a grid, a basin),

    g_pairs = max_{x_i != x_j} |Phi(x_i) - Phi(x_j)| / |x_i - x_j|          (5.2)
    g_jac   = max_i ||DPhi(x_i)||_2
    Lip     = prod_l ||W_l||_2 * Lip(phi)^{L_phi}

By the mean-value inequality g_pairs <= sup ||DPhi|| over the convex hull of
the points <= Lip; g_jac is a lower estimate of that supremum from the
sample.  The papers' g = g_0^L (eq. (5.4)) is an upper bound of this kind,
not an identity.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from .maps import _chunk_rows, _map, _map_jacobian
from .network import Network

__all__ = ["contraction_constant", "lipschitz_bound"]

_METHODS = ("pairs", "jacobian")
#: elements of the (rows x M) work arrays of the pairwise maximum (2 MiB each, cache-sized)
_PAIR_ELEMENTS = 2**18
#: points per spatial block of the pruned pairwise maximum
_BLOCK = 256
_SUBBLOCK = 32


def _check_points(net: Network, points, mask) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(net, Network):
        raise ValueError(f"net must be an rmtfp.Network, got {type(net).__name__}")
    try:
        x = np.asarray(points, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"points must be a real array of shape (M, {net.n_in})") from None
    if x.ndim != 2 or x.shape[1] != net.n_in:
        raise ValueError(f"points must have shape (M, {net.n_in}) to match the network, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("points must be finite")
    index = np.arange(x.shape[0])
    if mask is not None:
        m = np.asarray(mask)
        if m.dtype != bool or m.shape != (x.shape[0],):
            raise ValueError(f"mask must be a boolean array of shape ({x.shape[0]},), "
                             f"got dtype {m.dtype} and shape {m.shape}")
        x, index = x[m], index[m]
    return x, index


def _sq_dist_block(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """|a_i - b_j|^2 for all i, j, by explicit differences (no cancellation)."""
    if a.shape[1] <= 8:
        out = np.subtract.outer(a[:, 0], b[:, 0])
        out *= out
        for k in range(1, a.shape[1]):
            d = np.subtract.outer(a[:, k], b[:, k])
            d *= d
            out += d
        return out
    d = a[:, None, :] - b[None, :, :]
    return np.einsum("ijk,ijk->ij", d, d)


def _ratio_block(xa: np.ndarray, ya: np.ndarray, xb: np.ndarray, yb: np.ndarray):
    """|y_a - y_b|^2 / |x_a - x_b|^2 for all rows of a against all rows of b (0 where x_a = x_b)."""
    dx2 = _sq_dist_block(xa, xb)
    dy2 = _sq_dist_block(ya, yb)
    return np.divide(dy2, dx2, out=np.zeros_like(dy2), where=dx2 > 0)


def _max_pair_ratio_dense(x: np.ndarray, y: np.ndarray):
    """All pairs i < j in row blocks: rows a..b-1 against columns a+1..M-1."""
    m = x.shape[0]
    rows = max(1, _PAIR_ELEMENTS // (m * _width(x, y)))
    best, bi, bj = -1.0, -1, -1
    for a in range(0, m - 1, rows):
        b = min(m - 1, a + rows)
        r2 = _ratio_block(x[a:b], y[a:b], x[a + 1:], y[a + 1:])
        r2[:, :b - a][np.tri(b - a, b - a, -1, dtype=bool)] = -1.0  # j <= i: seen already
        k = int(np.argmax(r2))
        if r2.flat[k] > best:
            best = float(r2.flat[k])
            bi, bj = a + k // r2.shape[1], a + 1 + k % r2.shape[1]
    return best, bi, bj


def _width(x, y) -> int:
    return max(1, max(x.shape[1], y.shape[1]) // 8)


def _blocks(xs: np.ndarray, ys: np.ndarray, size: int):
    """Start index, size, centres and radii (in x and in y) of consecutive blocks of ``size`` rows."""
    m = xs.shape[0]
    starts = np.arange(0, m, size)
    sizes = np.diff(np.append(starts, m))
    group = np.repeat(np.arange(starts.size), sizes)
    out = [starts, sizes]
    for v in (xs, ys):
        c = np.add.reduceat(v, starts) / sizes[:, None]
        d = v - c[group]
        out += [c, np.maximum.reduceat(np.sqrt(np.einsum("ij,ij->i", d, d)), starts)]
    return out


def _bound(blocks, ia, ib, delta: float) -> np.ndarray:
    """Upper bound of the squared ratio over pairs of blocks ia (rows) x ib (columns)."""
    _, _, cx, rx, cy, ry = blocks
    dcx = np.sqrt(_sq_dist_block(cx[ia], cx[ib]))
    dcy = np.sqrt(_sq_dist_block(cy[ia], cy[ib]))
    den = np.maximum(dcx - rx[ia][:, None] - rx[ib][None, :], delta)
    return ((dcy + ry[ia][:, None] + ry[ib][None, :]) / den) ** 2


def _max_pair_ratio(x: np.ndarray, y: np.ndarray):
    """max over pairs of |y_i - y_j|^2 / |x_i - x_j|^2 (x_i distinct), exact.

    Small sets: every pair.  Large sets: the points are put in k-d tree
    order and cut into blocks (``_BLOCK`` points, each cut again into
    ``_SUBBLOCK`` points) with centres c and radii r in x and in y; for two
    blocks A, B every pair obeys

        |y_i - y_j| / |x_i - x_j| <= (|c^y_A - c^y_B| + r^y_A + r^y_B)
                                      / max(|c^x_A - c^x_B| - r^x_A - r^x_B, delta),

    delta the smallest distance between two points.  Starting from the
    exact maximum over nearest-neighbour pairs, only the blocks, then the
    sub-blocks, whose bound reaches the running maximum are evaluated pair
    by pair; the others cannot hold the maximum, so the result is the exact
    all-pairs maximum (cost between O(M) and O(M^2)).
    """
    m = x.shape[0]
    if m <= 4 * _BLOCK:
        return _max_pair_ratio_dense(x, y)
    tree = cKDTree(x)
    # exact lower bound: nearest-neighbour pairs
    dist, nb = tree.query(x, k=min(9, m))
    delta = float(dist[:, 1].min())
    dy = y[nb[:, 1:]] - y[:, None, :]
    r2 = np.einsum("ijk,ijk->ij", dy, dy) / dist[:, 1:] ** 2
    k = int(np.argmax(r2))
    best, bi, bj = float(r2.flat[k]), k // r2.shape[1], int(nb[k // r2.shape[1], 1 + k % r2.shape[1]])
    order = tree.indices
    xs, ys = x[order], y[order]
    coarse = _blocks(xs, ys, _BLOCK)
    fine = _blocks(xs, ys, _SUBBLOCK)
    per = _BLOCK // _SUBBLOCK  # fine blocks per coarse block
    n_coarse, n_fine = coarse[0].size, fine[0].size
    bound = _bound(coarse, np.arange(n_coarse), np.arange(n_coarse), delta)
    bound[np.tri(n_coarse, n_coarse, -1, dtype=bool)] = -1.0  # each block pair once (A <= B)
    slack = 1 - 1e-9  # rounding in the bounds: never prune a pair within 1e-9 of the maximum
    cols_max = max(1, _PAIR_ELEMENTS // (_SUBBLOCK * _width(x, y)))
    fstart, fsize = fine[0], fine[1]
    for a in np.argsort(-bound.max(axis=1), kind="stable"):
        if bound[a].max() < best * slack:
            break
        partners = np.flatnonzero(bound[a] >= best * slack)
        fa = np.arange(a * per, min((a + 1) * per, n_fine))
        fb = (partners[:, None] * per + np.arange(per)[None, :]).ravel()
        fb = fb[fb < n_fine]
        fbound = _bound(fine, fa, fb, delta)
        for i, f in enumerate(fa):
            keep = fb[fbound[i] >= best * slack]
            if keep.size == 0:
                continue
            cols = np.concatenate([np.arange(fstart[c], fstart[c] + fsize[c]) for c in keep])
            rows = slice(fstart[f], fstart[f] + fsize[f])
            for c0 in range(0, cols.size, cols_max):
                cc = cols[c0:c0 + cols_max]
                r2 = _ratio_block(xs[rows], ys[rows], xs[cc], ys[cc])
                k = int(np.argmax(r2))
                if r2.flat[k] > best:
                    best = float(r2.flat[k])
                    bi, bj = int(order[fstart[f] + k // r2.shape[1]]), int(order[cc[k % r2.shape[1]]])
    return best, bi, bj


def contraction_constant(net: Network, points, method: str = "pairs", mask=None, chunk_size=None, *,
                         return_pair: bool = False):
    """Contraction constant of Phi on a set of points.

    Parameters
    ----------
    net : Network
    points : array_like, shape (M, n_in)
        E.g. ``grid()`` or ``result.starts``.
    method : {"pairs", "jacobian"}, default "pairs"
        ``"pairs"``: the papers' eq. (5.2),
        g = max_{x_i != x_j} |Phi(x_i) - Phi(x_j)| / |x_i - x_j| over all
        pairs of distinct points, computed exactly (explicit differences, no
        Gram-matrix cancellation) in row blocks so that memory stays bounded
        (O(M) extra memory, O(M^2) time).
        ``"jacobian"``: g = max_i ||DPhi(x_i)||_2 (largest singular value).
    mask : array_like of bool, shape (M,), optional
        Restrict to the points where ``mask`` is true, e.g.
        ``result.basin(k)`` for the basin of fixed point k.
    chunk_size : int, optional
        Rows per evaluation of Phi or DPhi.
    return_pair : bool, default False
        Also return where the maximum is attained: ``(g, i, j)`` for
        ``"pairs"``, ``(g, i)`` for ``"jacobian"``, indices into ``points``.

    Returns
    -------
    float (or tuple, see ``return_pair``)

    Raises
    ------
    ValueError
        For an unknown method, points of the wrong shape or non-finite, a bad
        mask, or fewer than two distinct points (``"pairs"``) / no point
        (``"jacobian"``).

    Notes
    -----
    g_pairs <= sup ||DPhi|| on the convex hull of the points <=
    :func:`lipschitz_bound`.  g < 1 on a convex set that Phi maps into
    itself makes Phi a contraction there (Banach: one fixed point, every
    start converges to it, error <= g^m |x^0 - x*|).
    """
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
    x, index = _check_points(net, points, mask)
    if method == "jacobian":
        if x.shape[0] == 0:
            raise ValueError("points (after mask) must contain at least one point")
        rows = _chunk_rows(net, chunk_size, max(net.widths) * net.n_in)
        norms = np.empty(x.shape[0])
        for s in range(0, x.shape[0], rows):
            jac = _map_jacobian(net, x[s:s + rows], rows)[1]
            norms[s:s + rows] = np.linalg.norm(jac, ord=2, axis=(1, 2))
        i = int(np.argmax(norms))
        g = float(norms[i])
        return (g, int(index[i])) if return_pair else g
    # duplicate points have no ratio: keep the first of each
    _, first = np.unique(x, axis=0, return_index=True)
    first.sort()
    if first.size < 2:
        raise ValueError(f"points (after mask) must contain at least two distinct points, got {first.size}")
    x, index = x[first], index[first]
    y = _map(net, x, _chunk_rows(net, chunk_size, max(net.widths)))
    best, i, j = _max_pair_ratio(x, y)
    g = float(np.sqrt(best))
    if return_pair:
        i, j = sorted((int(index[i]), int(index[j])))
        return g, i, j
    return g


def lipschitz_bound(net: Network) -> float:
    """Global Lipschitz bound of Phi in the Euclidean norm.

    .. math:: \\mathrm{Lip}(\\Phi) \\le \\prod_{l=0}^{L-1} \\|W_l\\|_2 \\cdot \\mathrm{Lip}(\\varphi)^{L_\\varphi}

    with L_phi = L (activation on every layer) or L - 1 when the last layer
    is affine, and Lip(phi) = sup |phi'| (``net.activation.lipschitz``).
    When it is < 1, Phi is a contraction of R^n: exactly one fixed point,
    and |x^m - x*| <= Lip^m |x^0 - x*| from every start.
    """
    if not isinstance(net, Network):
        raise ValueError(f"net must be an rmtfp.Network, got {type(net).__name__}")
    norms = [float(np.linalg.norm(w, 2)) for w in net.weights]
    n_act = net.depth if net.last_activation else net.depth - 1
    return float(np.prod(norms) * net.activation.lipschitz ** n_act)
