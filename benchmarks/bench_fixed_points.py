"""Speed of the fixed-point search, the pairwise contraction constant and a fine basin map.

    python3 benchmarks/bench_fixed_points.py [--repeat 5] [--skip-fine]

Targets (2 cores): 41 x 41 grid, L = 5, width 100, 50 iterations under 50 ms
and at least 50x faster than a per-point Python loop; pairwise g on 41 x 41
under 0.5 s; a 401 x 401 basin map (search and figure) under 10 s.

The float64 floor is the time of the bare layer products (matrix product,
bias, activation; no checks or convergence tests) for the same number of
point-maps as the search made; loop time / floor bounds the speed-up any
float64 implementation of the same maps can show on this machine.  The same
products in float32 are printed for comparison (the toolkit iterates in
float64: single-precision rounding, amplified through the layers, reaches the
1e-5 convergence tolerance of deep heavy-tailed networks).

The per-point loop is what one writes without batching: for every start,
call ``net(x)`` on one point at a time with the same stopping rules (Cauchy
criterion, cycles up to period 8, at most 50 maps), so both do the same
number of maps per start; a second loop with the layers written out as
matrix-vector products (no input checks) is shown for reference.  Timings are the best of ``--repeat`` runs
(the machine is shared; the best run is the least disturbed one).  The
process CPU time is printed too: with ``OPENBLAS_NUM_THREADS=1`` it is what
the work costs on one core whatever else runs on the machine (with more
BLAS threads it also counts their spinning).
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time

import numpy as np

from rmtfp import Network, contraction_constant, find_fixed_points, grid
from rmtfp.plotting import plot_basins, save_figure

from _floor import bare_seconds_per_row

WIDTHS = [2, 100, 100, 100, 100, 2]  # L = 5 weight matrices, width 100
CASES = [("cauchy", 1), ("cauchy", 2), ("normal", 4)]


def best_time(fn, repeat: int):
    """Best and median wall time of ``repeat`` runs, best process CPU time, last result."""
    walls, cpus = [], []
    out = None
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        walls.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    return min(walls), float(np.median(walls)), min(cpus), out


def per_point_loop(step_fn, starts: np.ndarray, tol=1e-5, max_iter=50, max_period=8):
    """The papers' procedure start by start, with the same cycle test, in plain Python."""
    maps = np.empty(len(starts), dtype=int)
    for i, x in enumerate(starts):
        history = [x]
        for m in range(1, max_iter + 1):
            h = step_fn(history[-1])
            if np.linalg.norm(h - history[-1]) < tol:
                break
            if any(np.linalg.norm(h - history[-p]) < tol for p in range(2, min(max_period, m) + 1)):
                break
            history.append(h)
            history = history[-max_period:]
        maps[i] = m
    return maps


def matvec_step(net: Network):
    """One map of a hard-tanh network written out as matrix-vector products (no checks)."""
    layers = list(zip(net.weights, net.biases))

    def step(h):
        for w, b in layers:
            h = np.clip(w @ h + b, -1.0, 1.0)
        return h

    return step


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-fine", action="store_true", help="skip the 401 x 401 basin map")
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.2f}; numpy {np.__version__}")
    print(f"network: widths {WIDTHS} (L = 5), hard-tanh, papers' scale 1/n_l; grid 41 x 41, "
          f"tol 1e-5, max_iter 50, max_period 8, Newton refinement on\n")
    starts = grid()
    for law, seed in CASES:
        net = Network.random(WIDTHS, "hardtanh", law, rng=seed)
        t_best, t_med, c_best, res = best_time(lambda: find_fixed_points(net, starts), args.repeat)
        t_loop, _, c_loop, maps = best_time(lambda: per_point_loop(net, starts), 1)
        t_mv, _, c_mv, _ = best_time(lambda: per_point_loop(matvec_step(net), starts), 1)
        t_fixed, _, _, _ = best_time(lambda: [net(starts) for _ in range(50)], args.repeat)
        t_g, _, _, g = best_time(lambda: contraction_constant(net, starts), args.repeat)
        summary = f"Q={res.Q}, cycles={len(res.cycles)}, unresolved={res.fractions['unresolved']:.3f}"
        print(f"{law} seed {seed}: {summary}, mean maps/start {res.iterations.mean():.1f}")
        print(f"  find_fixed_points       best {1e3 * t_best:7.1f} ms  (median {1e3 * t_med:.1f} ms, "
              f"CPU {1e3 * c_best:.1f} ms)   target < 50 ms: {'ok' if t_best < 0.05 else 'MISSED'}")
        print(f"  per-point loop, net(x)       {1e3 * t_loop:7.1f} ms   speed-up {t_loop / t_best:6.1f}x"
              f"   target >= 50x: {'ok' if t_loop / t_best >= 50 else 'MISSED'}"
              f"   (CPU {c_loop / c_best:.1f}x; same maps per start: {100 * np.mean(maps == res.iterations):.1f}%)")
        print(f"  per-point loop, raw matvecs  {1e3 * t_mv:7.1f} ms   speed-up {t_mv / t_best:6.1f}x"
              f"   (CPU {c_mv / c_best:.1f}x; hand-written hard-tanh layers, no input checks)")
        per_row = bare_seconds_per_row(net)
        print(f"  50 full maps, no early stop  {1e3 * t_fixed:7.1f} ms   (raw batched throughput; float64 floor "
              f"{1e3 * per_row * 50 * len(starts):.1f} ms)")
        floor = per_row * res.iterations.sum()
        print(f"  float64 floor, same maps     {1e3 * floor:7.1f} ms   (bare layer products only: "
              f"{res.iterations.sum()} point-maps); the largest speed-up over the loop that these maps allow "
              f"in float64 here: {t_loop / floor:.1f}x")
        floor32 = bare_seconds_per_row(net, dtype=np.float32) * res.iterations.sum()
        print(f"  float32 floor, same maps     {1e3 * floor32:7.1f} ms   (for comparison: the same products in "
              f"single precision, {t_loop / floor32:.1f}x the loop, before any convergence test)")
        print(f"  pairwise g (eq. 5.2)    best {1e3 * t_g:7.1f} ms   g = {g:.4g}"
              f"   target < 500 ms: {'ok' if t_g < 0.5 else 'MISSED'}")
    if not args.skip_fine:
        fine = grid(step=0.005)
        print(f"\n401 x 401 basin map ({fine.shape[0]} starts), search + figure:")
        for law, seed in CASES:
            net = Network.random(WIDTHS, "hardtanh", law, rng=seed)
            with tempfile.TemporaryDirectory() as tmp:
                def basin_map():
                    res = find_fixed_points(net, fine)
                    t = time.perf_counter()
                    save_figure(plot_basins(res), os.path.join(tmp, "basins.png"))
                    return res, time.perf_counter() - t

                t_best, _, _, (res, t_plot) = best_time(basin_map, max(1, args.repeat // 2))
            print(f"  {law} seed {seed}: {t_best:6.2f} s (figure {t_plot:.2f} s), Q = {res.Q}, "
                  f"cycles = {len(res.cycles)}   target < 10 s: {'ok' if t_best < 10 else 'MISSED'}")


if __name__ == "__main__":
    main()
