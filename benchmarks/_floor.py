"""The float64 floor of iterating a network: the bare layer products and nothing else.

A map of Phi on M points costs at least the L matrix products
(M, n_l) @ (n_l, n_{l+1}), the bias additions and the activation.  The
functions here time exactly that, without input checks, convergence tests or
bookkeeping, so that a benchmark can print how far an implementation is from
what the hardware allows for the same number of maps.

The products are timed in blocks of 1681, 561 and 256 rows, and in stacked
blocks of 1, 4 and 8 small products (at most 10^6 / (k n) rows each over the
largest layer: OpenBLAS's kernel without packing, 15 % faster per row on two
cores here; numpy's matmul of a stack calls BLAS once per product); the fastest
is the floor.
"""

from __future__ import annotations

import time

import numpy as np

from rmtfp.dynamics.network import _SMALL_PRODUCT, in_place_kernels


def blocks(net, rows: int = 1681, small=None) -> list:
    """(rows per block, rows per product) of the chunkings timed: whole products of a block (``small`` false),
    stacks of small products (``small`` true), or both (None)."""
    whole = [(b, b) for b in sorted({rows, 561, 256})]
    product = _SMALL_PRODUCT // max(w.size for w in net.weights)
    stacks = [(k * product, product) for k in (1, 4, 8) if 1 <= k * product <= rows] if product >= 1 else []
    return {False: whole, True: stacks, None: whole + stacks}[small]


def bare_seconds_per_row(net, rows: int = 1681, repeat: int = 20, dtype=np.float64) -> float:
    """Best time of one bare map of ``net`` per point, over chunkings of ``rows`` points.

    Tries the chunkings of :func:`blocks` (one block of ``rows`` points,
    cache-sized blocks, stacks of small products); returns the best time
    divided by ``rows``.  With
    ``dtype=np.float32`` the same products in single precision (for
    comparison; the toolkit iterates in float64).  The in-place activation
    kernels are ufuncs writing into ``h``, so they keep its dtype.
    """
    x = np.random.default_rng(0).uniform(-1, 1, size=(rows, net.n_in)).astype(dtype)
    best = np.inf
    for block, product in blocks(net, rows):
        bare = _bare_layers(net, product, dtype)

        def run():
            for s in range(0, rows, block):
                bare(x[s:s + block])

        run()  # warm up
        for _ in range(repeat):
            t = time.perf_counter()
            run()
            best = min(best, time.perf_counter() - t)
    return best / rows


def _bare_layers(net, product: int, dtype=np.float64):
    """The bare map of a block of rows, its products in stacks of ``product`` rows where the rows divide evenly."""
    phi = in_place_kernels(net.activation)[0]
    layers = [(np.ascontiguousarray(w.T, dtype=dtype), b.astype(dtype)) for w, b in zip(net.weights, net.biases)]

    def bare(h):
        m = h.shape[0]
        stack = m > product and m % product == 0
        for wt, b in layers:
            if stack:
                h = np.matmul(h.reshape(m // product, product, h.shape[1]), wt).reshape(m, wt.shape[1])
            else:
                h = h @ wt
            h += b
            phi(h)

    return bare


def best_block(net, stacked: bool, rows: int = 1681, repeat: int = 10):
    """The chunking of :func:`blocks`, whole products or stacks of small ones, whose bare map is fastest per point,
    with the BLAS threads set now; None when the network has no stacks of small products."""
    x = np.random.default_rng(0).uniform(-1, 1, size=(rows, net.n_in))
    best, best_block = np.inf, None
    for block, product in blocks(net, rows, small=stacked):
        bare = _bare_layers(net, product)
        for _ in range(repeat):
            t = time.perf_counter()
            for s in range(0, rows, block):
                bare(x[s:s + block])
            if (time.perf_counter() - t) < best:
                best, best_block = time.perf_counter() - t, (block, product)
    return best_block


def bare_run(net, point_maps: int, block: int):
    """A function mapping ``point_maps`` points through the bare layers, ``block`` at a time.

    The floor of a whole search, timed as one run like the search itself
    (and in turn with it), so that both meet the same load.
    """
    block, product = block
    bare = _bare_layers(net, product)
    x = np.random.default_rng(0).uniform(-1, 1, size=(block, net.n_in))
    full, rest = divmod(int(point_maps), block)

    def run():
        for _ in range(full):
            bare(x)
        if rest:
            bare(x[:rest])

    return run
