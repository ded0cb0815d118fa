"""Ensembles of random networks: the number of fixed points, contraction and its loss.

The papers' claims about random networks are statistical.  This module turns
each into a reproducible experiment over many independent networks, with
uncertainties:

:func:`q_statistics`          law of Q, the number of fixed points reached from
                              the grid, at every depth (mode with a bootstrap
                              interval, mean, cycles and unresolved starts)
:func:`contraction_scan`      quantiles of the contraction constant g(beta) for
                              weights of scale sigma = n^{-beta}
:func:`critical_beta`         beta_cr, where g crosses 1, with an interval
:func:`contraction_vs_depth`  g(L) and the fitted per-layer factor g_0

Networks
--------
A network of depth L has widths (n, width, ..., width, n) with L weight
matrices (L = 1: one n x n layer); its weights and biases are drawn by
:meth:`rmtfp.Network.random`.

Seeds and parallelism
---------------------
All randomness comes from one :class:`numpy.random.SeedSequence` (from
``rng``).  Network ``i`` of depth ``L`` gets its own stream,
``SeedSequence(entropy, spawn_key=(*root.spawn_key, tag, L, i))`` with a tag
per experiment (1: :func:`q_statistics`, 2: :func:`contraction_scan`, 3:
:func:`contraction_vs_depth`), so the result depends only on the seed: not on
the executor, the number of workers, the chunking, the order of ``depths``,
nor on ``n_networks`` (the first 50 networks of a 100-network run are the
50 networks of a 50-network run).  :meth:`QStatistics.network` rebuilds any
network of a run.

The networks are independent tasks.  By default they run on a local
:class:`concurrent.futures.ProcessPoolExecutor` (``workers`` processes, one
BLAS thread each); ``executor=`` takes any :class:`concurrent.futures.Executor`
instead, e.g. :func:`dask_executor` (the ``[cluster]`` extra) to spread a
large ensemble over a dask cluster, or ``workers=1`` runs everything in this
process; :func:`use_executor` sets the executor of a block of code that
passes none.  The executor must be able to pickle module-level functions and
numpy arrays (process pools, dask and ``mpi4py.futures`` can).
"""

from __future__ import annotations

from .cluster import dask_executor
from .contraction import ContractionScan, contraction_scan
from .critical import CriticalBeta, critical_beta
from .depth import ContractionDepth, contraction_vs_depth
from .qstats import QStatistics, q_statistics
from .tasks import network_seed, use_executor

__all__ = [
    "QStatistics",
    "ContractionScan",
    "CriticalBeta",
    "ContractionDepth",
    "q_statistics",
    "contraction_scan",
    "critical_beta",
    "contraction_vs_depth",
    "network_seed",
    "use_executor",
    "dask_executor",
]
