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

from .fixed_points import _chunk_rows, _map, _map_jacobian
from .network import Network

__all__ = ["contraction_constant", "lipschitz_bound"]

_METHODS = ("pairs", "jacobian")
#: elements of the (rows x M) work arrays of the pairwise maximum (32 MiB each)
_PAIR_ELEMENTS = 2**22


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


def _max_pair_ratio(x: np.ndarray, y: np.ndarray):
    """max over i < j of |y_i - y_j|^2 / |x_i - x_j|^2 (x_i distinct), exactly, in row blocks."""
    m = x.shape[0]
    per_row = max(1, m * max(1, max(x.shape[1], y.shape[1]) // 8))
    rows = max(1, _PAIR_ELEMENTS // per_row)
    best, bi, bj = -1.0, -1, -1
    for a in range(0, m - 1, rows):
        b = min(m - 1, a + rows)
        # rows a..b-1 against columns a+1..m-1 (pairs with j <= i give ratio 0 below)
        dx2 = _sq_dist_block(x[a:b], x[a + 1:])
        dy2 = _sq_dist_block(y[a:b], y[a + 1:])
        upper = np.arange(a, b)[:, None] < np.arange(a + 1, m)[None, :]
        np.divide(dy2, dx2, out=dy2, where=upper)
        dy2[~upper] = -1.0
        k = int(np.argmax(dy2))
        if dy2.flat[k] > best:
            best = float(dy2.flat[k])
            bi, bj = a + k // dy2.shape[1], a + 1 + k % dy2.shape[1]
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
