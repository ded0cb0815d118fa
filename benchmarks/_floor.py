"""The float64 floor of iterating a network: the bare layer products and nothing else.

A map of Phi on M points costs at least the L matrix products
(M, n_l) @ (n_l, n_{l+1}), the bias additions and the activation.  The
functions here time exactly that, without input checks, convergence tests or
bookkeeping, so that a benchmark can print how far an implementation is from
what the hardware allows for the same number of maps.

The products are timed in blocks of 1681, 561 and 256 rows, and in stacks of
1, 4 and 8 of the small products the search takes (``Network._block`` rows
each: OpenBLAS's kernel without packing, 15 % faster per row on two cores
here; numpy's matmul of a stack calls BLAS once per product); the fastest is
the floor.
"""

from __future__ import annotations

import time

import numpy as np

from rmtfp.dynamics.network import Network, in_place_kernels


def blocks(net, rows: int = 1681, stacked=None) -> list:
    """(rows per block, rows per product) of the chunkings timed: whole products of a block (``stacked`` false),
    stacks of the small products the search takes (``Network._block`` rows each; ``stacked`` true), or both
    (None)."""
    whole = [(b, b) for b in sorted({rows, 561, 256})]
    product = net._block
    stacks = [(k * product, product) for k in (1, 4, 8) if k * product <= rows] if product else []
    return {False: whole, True: stacks, None: whole + stacks}[stacked]


def _fastest(net, chunkings, rows: int, repeat: int, dtype=np.float64):
    """(best time of one bare map of ``rows`` points, its chunking) over ``chunkings``; (inf, None) for none."""
    x = np.random.default_rng(0).uniform(-1, 1, size=(rows, net.n_in)).astype(dtype)
    best, fastest = np.inf, None
    for block, product in chunkings:
        bare = _bare_layers(net, product, dtype)

        def run():
            for s in range(0, rows, block):
                bare(x[s:s + block])

        run()  # warm up
        for _ in range(repeat):
            t = time.perf_counter()
            run()
            t = time.perf_counter() - t
            if t < best:
                best, fastest = t, (block, product)
    return best, fastest


def bare_seconds_per_row(net, rows: int = 1681, repeat: int = 20, dtype=np.float64) -> float:
    """Best time of one bare map of ``net`` per point, over chunkings of ``rows`` points.

    Tries the chunkings of :func:`blocks` (one block of ``rows`` points,
    cache-sized blocks, stacks of small products); returns the best time
    divided by ``rows``.  With
    ``dtype=np.float32`` the same products in single precision (for
    comparison; the toolkit iterates in float64).  The in-place activation
    kernels are ufuncs writing into ``h``, so they keep its dtype.
    """
    return _fastest(net, blocks(net, rows), rows, repeat, dtype)[0] / rows


def _bare_layers(net, product: int, dtype=np.float64):
    """The bare map of a block of rows, its products in stacks of ``product`` rows where the rows divide evenly."""
    phi = in_place_kernels(net.activation)[0]
    layers = [(np.ascontiguousarray(w.T, dtype=dtype), b.astype(dtype)) for w, b in zip(net.weights, net.biases)]

    def bare(h):
        m = h.shape[0]
        stacks = m // product if m > product and m % product == 0 else 0
        for wt, b in layers:
            h = Network._product(h, wt, stacks, product)
            h += b
            phi(h)

    return bare


def best_block(net, stacked: bool, rows: int = 1681, repeat: int = 10):
    """The chunking of :func:`blocks`, whole products or stacks of small ones, whose bare map is fastest per point,
    with the BLAS threads set now; None when the network has no stacks of small products."""
    return _fastest(net, blocks(net, rows, stacked), rows, repeat)[1]


def bare_run(net, point_maps: int, chunking: tuple):
    """A function mapping ``point_maps`` points through the bare layers in the ``chunking`` of :func:`blocks`.

    The floor of a whole search, timed as one run like the search itself
    (and in turn with it), so that both meet the same load.
    """
    block, product = chunking
    bare = _bare_layers(net, product)
    x = np.random.default_rng(0).uniform(-1, 1, size=(block, net.n_in))
    full, rest = divmod(int(point_maps), block)

    def run():
        for _ in range(full):
            bare(x)
        if rest:
            bare(x[:rest])

    return run
