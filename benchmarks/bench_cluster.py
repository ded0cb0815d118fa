"""Overhead of the dask route against the local process pool, for 100 networks.

    python3 benchmarks/bench_cluster.py [--networks 100] [--workers 2] [--depth 5] [--repeat 3]

Needs the ``[cluster]`` extra (dask.distributed).  The same ``q_statistics``
run (hard-tanh, Cauchy weights, width 100, the 41 x 41 grid, one depth) goes
three ways: in this process (``workers=1``), on the local process pool
(``workers`` processes), and on a ``LocalCluster`` of ``workers`` dask worker
processes with one thread each, through :func:`rmtfp.ensembles.dask_executor`.
Printed: the fixed cost of the dask route (starting the cluster, and the first
run, in which every worker imports rmtfp), then the best of ``--repeat`` warm
runs of each route, the ratio dask / local pool and the overhead per network.
The results of all routes are compared bit for bit.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

from rmtfp import grid
from rmtfp.ensembles import dask_executor, q_statistics


def best(fn, repeat: int):
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--depth", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.2f}; numpy {np.__version__}")
    print(f"q_statistics: {args.networks} networks, depth {args.depth}, width 100, hard-tanh, Cauchy, "
          f"41 x 41 grid; {args.workers} workers\n")
    kw = dict(depths=[args.depth], width=100, n_networks=args.networks, rng=0, starts=grid(), n_bootstrap=0,
              progress=False)

    t_one, ref = best(lambda: q_statistics(**kw, workers=1), 1)
    t_pool, pool = best(lambda: q_statistics(**kw, workers=args.workers), args.repeat)
    t0 = time.perf_counter()
    with dask_executor(n_workers=args.workers) as executor:
        t_start = time.perf_counter() - t0
        t_first, _ = best(lambda: q_statistics(**kw, executor=executor), 1)
        t_dask, dask = best(lambda: q_statistics(**kw, executor=executor), args.repeat)
    same = all(np.array_equal(getattr(r, name), getattr(ref, name)) for r in (pool, dask)
               for name in ("Q", "n_cycles", "status_fractions", "max_period"))
    print(f"  this process (workers=1)      {t_one:7.2f} s")
    print(f"  local process pool            {t_pool:7.2f} s   (best of {args.repeat}, pool started each run)")
    print(f"  dask LocalCluster, warm       {t_dask:7.2f} s   (best of {args.repeat})")
    print(f"  dask / local pool             {t_dask / t_pool:7.2f}x   overhead "
          f"{1e3 * (t_dask - t_pool) / args.networks:+.1f} ms per network")
    print(f"  dask fixed costs              start {t_start:.2f} s, first run {t_first:.2f} s "
          f"(workers import rmtfp)")
    print(f"  results bit-identical across the three routes: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
