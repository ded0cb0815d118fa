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

from rmtfp.cli import main as cli_main
from rmtfp.ensembles import q_statistics


def cpu_seconds() -> float:
    """User + system CPU time of this process and of its reaped children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def timed(fn):
    c0, t0 = cpu_seconds(), time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, cpu_seconds() - c0, out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", type=int, default=100, help="networks per depth (default: 100)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default: 2)")
    parser.add_argument("--skip-q", action="store_true", help="skip q_statistics")
    parser.add_argument("--skip-train", action="store_true", help="skip train-demo")
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
