"""Phi and DPhi on a batch of points, in cache-sized chunks.

The fixed-point search and the contraction constants evaluate the network
on thousands of points at once; a chunk of rows keeps the layer activations
in cache, which matters more than the size of the matrix products.
"""

from __future__ import annotations

import numpy as np

from .._checks import int_at_least
from .network import Network

#: elements of one float64 work array per chunk (512 KiB: layer activations stay in cache)
_CHUNK_ELEMENTS = 2**16


def _chunk_rows(net: Network, chunk_size, per_row: int) -> int:
    if chunk_size is None:
        return max(64, _CHUNK_ELEMENTS // max(1, per_row))
    return int_at_least("chunk_size", chunk_size, 1, integral_floats=True)


# ----------------------------------------------------------------- maps
def _even(total: int, rows: int) -> int:
    """At most ``rows`` rows per chunk, the chunks as equal as possible (no small last chunk)."""
    return -(-total // -(-total // rows))


def _map(net: Network, x: np.ndarray, rows: int) -> np.ndarray:
    """Phi on the rows of x, at most ``rows`` at a time."""
    if x.shape[0] <= rows:
        return net._forward(x)
    rows = _even(x.shape[0], rows)
    out = np.empty((x.shape[0], net.n_out))
    for s in range(0, x.shape[0], rows):
        out[s:s + rows] = net._forward(x[s:s + rows])
    return out


def _map_jacobian(net: Network, x: np.ndarray, rows: int):
    """Phi and DPhi on the rows of x, at most ``rows`` at a time."""
    if x.shape[0] <= rows:
        return net._forward_jacobian(x)
    rows = _even(x.shape[0], rows)
    y = np.empty((x.shape[0], net.n_out))
    jac = np.empty((x.shape[0], net.n_out, net.n_in))
    for s in range(0, x.shape[0], rows):
        y[s:s + rows], jac[s:s + rows] = net._forward_jacobian(x[s:s + rows])
    return y, jac


class _DistinctMap:
    """Phi on the rows of x, evaluated once per distinct row.

    Starts that reach exactly the same state have the same future
    (saturating activations send many starts to the same corner); the
    duplicates are found by sorting the rows' bytes.  When fewer than 10 %
    of the rows are duplicates the search is skipped for 1, 2, 4, ..., 16
    maps before it is tried again.
    """

    def __init__(self, net: Network, rows: int):
        self.net, self.rows, self.wait, self.backoff = net, rows, 0, 1

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if self.wait > 0:
            self.wait -= 1
            return _map(self.net, x, self.rows)
        keys = np.ascontiguousarray(x).view(np.dtype((np.void, x.dtype.itemsize * x.shape[1]))).ravel()
        uniq, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        if uniq.size > 0.9 * x.shape[0]:
            self.wait, self.backoff = self.backoff, min(16, 2 * self.backoff)
            return _map(self.net, x, self.rows)
        self.backoff = 1
        return _map(self.net, x[first], self.rows)[inverse.ravel()]


def _norm(v: np.ndarray) -> np.ndarray:
    return np.sqrt(np.einsum("...i,...i->...", v, v))

