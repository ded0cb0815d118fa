"""The float64 floor of iterating a network: the bare layer products and nothing else.

A map of Phi on M points costs at least the L matrix products
(M, n_l) @ (n_l, n_{l+1}), the bias additions and the activation.  The
functions here time exactly that, without input checks, convergence tests or
bookkeeping, so that a benchmark can print how far an implementation is from
what the hardware allows for the same number of maps.
"""

from __future__ import annotations

import time

import numpy as np

from rmtfp.dynamics.network import in_place_kernels


def bare_seconds_per_row(net, rows: int = 1681, repeat: int = 20, dtype=np.float64) -> float:
    """Best time of one bare map of ``net`` per point, over chunkings of ``rows`` points.

    Tries one block of ``rows`` points and blocks of about 256 and 561 rows
    (cache-sized); returns the best time divided by ``rows``.  With
    ``dtype=np.float32`` the same products in single precision (for
    comparison; the toolkit iterates in float64).  The in-place activation
    kernels are ufuncs writing into ``h``, so they keep its dtype.
    """
    phi = in_place_kernels(net.activation)[0]
    layers = [(np.ascontiguousarray(w.T, dtype=dtype), b.astype(dtype)) for w, b in zip(net.weights, net.biases)]
    x = np.random.default_rng(0).uniform(-1, 1, size=(rows, net.n_in)).astype(dtype)

    def bare(block: int):
        for s in range(0, rows, block):
            h = x[s:s + block]
            for wt, b in layers:
                h = h @ wt
                h += b
                phi(h)

    best = np.inf
    for block in sorted({rows, 561, 256}):
        bare(block)  # warm up
        for _ in range(repeat):
            t = time.perf_counter()
            bare(block)
            best = min(best, time.perf_counter() - t)
    return best / rows


def _bare_layers(net, dtype=np.float64):
    phi = in_place_kernels(net.activation)[0]
    layers = [(np.ascontiguousarray(w.T, dtype=dtype), b.astype(dtype)) for w, b in zip(net.weights, net.biases)]

    def bare(h):
        for wt, b in layers:
            h = h @ wt
            h += b
            phi(h)

    return bare


def best_block(net, rows: int = 1681, repeat: int = 10) -> int:
    """The block (1681, 561 or 256 rows) whose bare map is fastest per point, with the BLAS threads set now."""
    bare = _bare_layers(net)
    x = np.random.default_rng(0).uniform(-1, 1, size=(rows, net.n_in))
    best, best_block_rows = np.inf, rows
    for block in sorted({rows, 561, 256}):
        for _ in range(repeat):
            t = time.perf_counter()
            for s in range(0, rows, block):
                bare(x[s:s + block])
            if (time.perf_counter() - t) < best:
                best, best_block_rows = time.perf_counter() - t, block
    return best_block_rows


def bare_run(net, point_maps: int, block: int):
    """A function mapping ``point_maps`` points through the bare layers, ``block`` at a time.

    The floor of a whole search, timed as one run like the search itself
    (and in turn with it), so that both meet the same load.
    """
    bare = _bare_layers(net)
    x = np.random.default_rng(0).uniform(-1, 1, size=(block, net.n_in))
    full, rest = divmod(int(point_maps), block)

    def run():
        for _ in range(full):
            bare(x)
        if rest:
            bare(x[:rest])

    return run
