"""Speed of the ensemble statistics and of the training demo.

    python3 benchmarks/bench_ensembles.py [--networks 100] [--workers 2] [--skip-q] [--skip-train]

Targets (2 cores): ``q_statistics`` for depths 1..20, 100 networks each,
41 x 41 grid, width 100 (the papers' Fig. 2 setting, Cauchy weights,
hard-tanh) under 2 minutes; ``rmtfp train-demo`` under 1 minute.

Besides wall time the script reports the CPU seconds of all processes (this
one and its worker processes): on a shared machine the wall time grows with
the other users' load, the CPU time much less, and CPU / workers is what the
run takes on idle dedicated cores.  ``--networks`` below 100 measures a
fraction of the ensemble and extrapolates linearly (the networks are
independent tasks).
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import time

import numpy as np

from rmtfp import find_fixed_points, grid
from rmtfp._threads import single_blas_thread
from rmtfp.cli import main as cli_main
from rmtfp.ensembles import q_statistics

from _floor import bare_seconds_per_row


def cpu_seconds() -> float:
    """User + system CPU time of this process and of its reaped children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def timed(fn):
    c0, t0 = cpu_seconds(), time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, cpu_seconds() - c0, out


def floor_report(res, per_depth: int, workers: int):
    """The maps the search needs by definition, and their bare float64 cost, on a sample of the networks.

    Every start is iterated until it meets a criterion or spends its 50
    maps (chaotic starts spend them all); those point-maps cost at least
    the bare layer products (:mod:`_floor`), one core each.  The sample's
    floor, scaled to 100 networks per depth and divided by the workers, is
    the least wall time any float64 implementation of the papers' procedure
    needs on this machine; the sample's own find_fixed_points time shows
    how close the toolkit is to it.
    """
    if per_depth <= 0:
        return
    starts = grid()
    floor = floor32 = spent = 0.0
    maps = 0
    with single_blas_thread():
        for L in res.depths:
            for i in range(min(per_depth, res.n_networks)):
                net = res.network(int(L), i)
                t = time.process_time()
                fp = find_fixed_points(net, starts)
                spent += time.process_time() - t
                maps += int(fp.iterations.sum())
                floor += bare_seconds_per_row(net, repeat=3) * fp.iterations.sum()
                floor32 += bare_seconds_per_row(net, repeat=3, dtype=np.float32) * fp.iterations.sum()
    n = per_depth * len(res.depths)
    scale = 100 / per_depth / workers
    print(f"  float64 floor (sample of {n} networks, {maps / n:.0f} point-maps per network, bare layer products, "
          f"1 core each): {floor / n * 1e3:.0f} ms per network; find_fixed_points {spent / n * 1e3:.0f} ms "
          f"per network ({spent / floor:.2f}x the floor)")
    print(f"  floor for 100 networks per depth on {workers} cores: {floor * scale:.0f} s   "
          f"(target 120 s {'reachable' if floor * scale < 120 else 'below the float64 floor of this machine'})")
    print(f"  the same products in float32 (for comparison): {floor32 * scale:.0f} s for 100 networks per depth on "
          f"{workers} cores, before any convergence test")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", type=int, default=100, help="networks per depth (default: 100)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default: 2)")
    parser.add_argument("--skip-q", action="store_true", help="skip q_statistics")
    parser.add_argument("--skip-train", action="store_true", help="skip train-demo")
    parser.add_argument("--floor-sample", type=int, default=3,
                        help="networks per depth re-run for the float64 floor (default: 3; 0 skips it)")
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.2f}; numpy {np.__version__}")
    if not args.skip_q:
        depths = range(1, 21)
        wall, cpu, res = timed(lambda: q_statistics(depths, width=100, activation="hardtanh", weights="cauchy",
                                                    n_networks=args.networks, rng=0, workers=args.workers,
                                                    progress=False))
        scale = 100 / args.networks
        print(f"\nq_statistics: depths 1..20, {args.networks} networks each, 41 x 41 grid, width 100, hard-tanh, "
              f"Cauchy(0, 1/n_l), {args.workers} workers")
        print(f"  wall {wall:7.1f} s   CPU {cpu:7.1f} s   CPU / workers {cpu / args.workers:7.1f} s   "
              f"load average now {os.getloadavg()[0]:.2f}")
        if args.networks != 100:
            print(f"  extrapolated to 100 networks: wall {wall * scale:.0f} s, CPU / workers "
                  f"{cpu * scale / args.workers:.0f} s")
        est = cpu * scale / args.workers
        print(f"  target < 120 s on 2 cores: wall {'ok' if wall * scale < 120 else 'MISSED'}, "
              f"CPU / workers {'ok' if est < 120 else 'MISSED'}")
        floor_report(res, args.floor_sample, args.workers)
        print("  mode of Q by depth:    ", " ".join(f"{m:d}" for m in res.mode))
        print("  mean of Q by depth:    ", " ".join(f"{m:.1f}" for m in res.mean))
        print("  networks with cycles:  ", " ".join(f"{f:.2f}" for f in res.cycle_fraction))
        print("  with unresolved starts:", " ".join(f"{f:.2f}" for f in res.unresolved_fraction))
    if not args.skip_train:
        devnull = open(os.devnull, "w")
        import contextlib

        with contextlib.redirect_stdout(devnull):
            wall, cpu, rc = timed(lambda: cli_main(["train-demo", "--seed", "0", "--quiet"]))
        devnull.close()
        print(f"\nrmtfp train-demo --seed 0: wall {wall:.1f} s, CPU {cpu:.1f} s (exit {rc})   "
              f"target < 60 s: {'ok' if wall < 60 else 'MISSED'}")


if __name__ == "__main__":
    main()
