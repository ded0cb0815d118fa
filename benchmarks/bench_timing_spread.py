"""How far a timing moves with the machine alone: the same loop timed as two functions, run after run.

    python3 benchmarks/bench_timing_spread.py [--seconds 90] [--load 2] [--seeds 0 2 6 7] [--out runs.npz]

For each Cauchy network of ``bench_fixed_points.py`` (seeds ``--seeds``)
the one-thread plain numpy reference is timed twice, as two functions, in
turn with the search and the one-thread float64 floor, in a new random order
every round, for ``--seconds`` seconds.  From the recorded runs it prints,
over all windows of k consecutive rounds (k = 5, 10, 20, 40), the range
(2.5 % to 97.5 %) of each estimator of the ratio of the two copies -- the
best run, the median run, the mean of the runs -- and of the search against
the reference and against the floor.  Identical code reads 1.0 on a quiet
machine; the ranges show how many runs a verdict needs under the load of
``--load`` busy processes (default 2), and the quantiles of the
reference's run times show the two modes of a loaded machine (a core to
itself, or a core shared).  ``--out`` keeps the runs (npz).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import time

import numpy as np

from bench_fixed_points import WIDTHS, _burn, one_thread, plain_numpy, timed_rounds
from rmtfp import Network, find_fixed_points, grid
from rmtfp._threads import limit_blas_threads

from _floor import bare_run, best_block

ESTIMATORS = {"best": np.min, "median": np.median, "mean": np.mean}


def record(net: Network, starts: np.ndarray, seconds: float) -> dict:
    """Wall times of the search, the reference (twice) and the floor, run in turn until ``seconds`` passed."""
    point_maps = find_fixed_points(net, starts).iterations.sum()
    with limit_blas_threads(1):
        chunking = best_block(net, True) or best_block(net, False)
    fns = {"search": lambda: find_fixed_points(net, starts),
           "reference": one_thread(lambda: plain_numpy(net, starts)),
           "reference again": one_thread(lambda: plain_numpy(net, starts)),
           "floor": one_thread(bare_run(net, point_maps, chunking))}
    start = time.perf_counter()
    walls, _ = timed_rounds(fns, lambda rounds, timed: time.perf_counter() - start < seconds)
    return {k: np.array(v) for k, v in walls.items()}


def spread(a: np.ndarray, b: np.ndarray, k: int, estimator) -> tuple:
    """2.5 % and 97.5 % quantiles of estimator(a) / estimator(b) over all windows of k consecutive rounds."""
    ratios = [estimator(a[i:i + k]) / estimator(b[i:i + k]) for i in range(a.size - k + 1)]
    return tuple(np.quantile(ratios, [0.025, 0.975]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=90.0, help="seconds of runs per network")
    parser.add_argument("--load", type=int, default=2, help="busy processes started for the whole run")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 2, 6, 7])
    parser.add_argument("--out", help="keep the runs in this .npz file")
    args = parser.parse_args()
    stop = multiprocessing.Event()
    burners = [multiprocessing.Process(target=_burn, args=(stop, os.getpid()), daemon=True) for _ in range(args.load)]
    for b in burners:
        b.start()
    try:
        time.sleep(2 if args.load else 0)
        print(f"{os.cpu_count()} cores, {args.load} busy processes, load average {os.getloadavg()[0]:.2f}; "
              f"{args.seconds:.0f} s of runs per network; 2.5-97.5 % of the windows of k rounds")
        kept = {}
        for seed in args.seeds:
            net = Network.random(WIDTHS, "hardtanh", "cauchy", rng=seed)
            w = record(net, grid(), args.seconds)
            kept.update({f"{seed}_{k}": v for k, v in w.items()})
            quantiles = np.quantile(w["reference"], [0.05, 0.25, 0.5, 0.75, 0.95]) / np.median(w["reference"])
            print(f"seed {seed}: {w['search'].size} rounds; reference median {1e3 * np.median(w['reference']):.1f} ms, "
                  f"its runs at 5, 25, 50, 75, 95 %: " + ", ".join(f"{q:.2f}" for q in quantiles) + " x the median")
            pairs = {"control": ("reference again", "reference"), "search / reference": ("search", "reference"),
                     "search / floor": ("search", "floor")}
            for k in (5, 10, 20, 40):
                if k > w["search"].size:
                    break
                cells = []
                for name, (a, b) in pairs.items():
                    cells.append(name + " " + ", ".join(
                        f"{e} {lo:.2f}-{hi:.2f}" for e, (lo, hi) in
                        ((e, spread(w[a], w[b], k, f)) for e, f in ESTIMATORS.items())))
                print(f"  k = {k:2d}: " + "; ".join(cells))
        if args.out:
            np.savez(args.out, **kept)
    finally:
        stop.set()
        for b in burners:
            b.join()


if __name__ == "__main__":
    main()
