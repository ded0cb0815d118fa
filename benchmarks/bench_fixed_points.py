"""Speed of the fixed-point search against plain numpy, the pairwise contraction constant and a fine basin map.

    python3 benchmarks/bench_fixed_points.py [--repeat 20] [--networks 10] [--load 0] [--skip-fine]

Targets (2 cores): 41 x 41 grid, L = 5, width 100, 50 iterations:
``find_fixed_points`` (default settings) takes at most 1.0x the time of a
plain batched numpy iteration of the same maps, under load and at rest, and
at most 1.5x the float64 floor; pairwise g on 41 x 41 under 0.5 s; a
401 x 401 basin map (search and figure) under 10 s.  The rmtfp / numpy
verdict is printed for the best runs and for the mean of the runs: at rest
the best run is the least disturbed one; under load the best run of each
is the one the scheduler favoured most, the mean the time a user waits on
average.

The plain numpy reference does less than the search: every start is mapped
until the Cauchy criterion |x^m - x^{m-1}| < tol or 50 maps, the finished
starts dropped from the batch -- no cycle test, no divergence test, no
Newton polishing, no merging, no stability.  It runs with one BLAS thread
and with the default threads; the ratio rmtfp / numpy is taken against the
faster of the two.  ``--load K`` starts K busy processes for the whole run
(a loaded machine on demand; the machine may be loaded by others anyway:
the load average is printed).

The reference loop is also timed with its products on the search's worker
threads (one BLAS thread each, the chunks and stacks of small products the
search uses): what the search's
threading gives the reference's own work, a bound the search (which does
more) cannot beat by its threading alone.

The search with ``blas_threads=None, workers=1`` (its products on the
caller's BLAS threads, as numpy's) is timed as well.

A control: the one-thread reference is timed twice, as two functions in
turn with the others; the ratio of the two (1.0 on a quiet machine) shows
how far the ratios above move with the machine alone, on the best runs and
on the mean of the runs.

The float64 floor is the time of the bare layer products (matrix product,
bias, activation; no checks or convergence tests) for the same number of
point-maps as the search made: the fastest of four, the best block of whole
products (1681, 561 or 256 points) and the best stack of small products
(``_floor.blocks``), each with one and with the default BLAS threads, all
timed in turn with the search and the references, each as one run (a floor
taken from the best of short blocks would catch the quiet moments of a
loaded machine that a whole search cannot).  The same products in float32 are printed for comparison (the
toolkit iterates in float64: single-precision rounding, amplified through
the layers, reaches the 1e-5 convergence tolerance of deep heavy-tailed
networks).  The per-point loop (every start on its own, ``net(x)`` one point
at a time with the same stopping rules) is printed for reference.  Timings
are the best of at least ``--repeat`` runs (the machine is shared; the best
run is the least disturbed one), the search, the two references and the
floor timed in turn within each round, in a new random order each time, so
that all see the same load, with more rounds (the same number for all)
until ten seconds of runs (:func:`interleaved`: under load a best of fewer
than 20 runs is a lottery); the process CPU time is printed too (summed
over threads).  Each run starts once the process's
other threads have let go of the cores: OpenBLAS's threads spin for about
0.1 s after every multi-threaded product, and a run started in that time
shares the machine with them (load the reference makes, not the machine's;
``--no-settle`` times the runs back to back, as before).

The search cuts the batch of starts into cache-sized chunks (a few hundred
rows) and maps them on ``workers`` threads (default: the cores the caller's
BLAS limit allows; each with one BLAS thread, the chunks handed to whichever
thread is free): that, not less arithmetic, is where it gains on the
reference, which maps the whole batch in one product per layer.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import tempfile
import time
from typing import NamedTuple

import numpy as np

from rmtfp import Network, contraction_constant, find_fixed_points, grid
from rmtfp._threads import limit_blas_threads
from rmtfp.dynamics.maps import Workers, _chunk_rows, _map, auto_workers, blas_thread_count
from rmtfp.plotting import plot_basins, save_figure

from _floor import bare_run, bare_seconds_per_row, best_block

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


def plain_numpy(net: Network, starts: np.ndarray, tol: float = 1e-5, max_iter: int = 50, forward=None):
    """The same maps of a hard-tanh network in plain batched numpy, stopped by the Cauchy criterion only.

    ``forward``: the map of a batch (default: the layer products written out, the whole batch at once).
    Returns the last iterate of every start and the number of maps it took.
    """
    if forward is None:
        layers = [(np.ascontiguousarray(w.T), b) for w, b in zip(net.weights, net.biases)]

        def forward(y):
            for wt, b in layers:
                y = y @ wt
                y += b
                np.clip(y, -1.0, 1.0, out=y)
            return y

    x = np.array(starts, dtype=float)
    out = x.copy()
    maps = np.full(len(x), max_iter)
    active = np.arange(len(x))
    for m in range(1, max_iter + 1):
        y = forward(x)
        done = np.sqrt(np.einsum("ij,ij->i", y - x, y - x)) < tol
        if done.any():
            out[active[done]] = x[done]
            maps[active[done]] = m
            active, y = active[~done], y[~done]
        x = y
        if active.size == 0:
            break
    out[active] = x
    return out, maps


def plain_on_workers(net: Network, starts: np.ndarray):
    """:func:`plain_numpy` with its products on the search's worker threads (its chunks and stacks of small
    products), one BLAS thread each."""
    rows = _chunk_rows(net, None, max(net.widths))
    workers = default_workers()  # before the limit below: the search counts the caller's BLAS threads
    with limit_blas_threads(1), Workers(workers, stacked=True) as pool:
        return plain_numpy(net, starts, forward=lambda x: _map(net, x, rows, pool))


class Timings(NamedTuple):
    """What :func:`timings` measured (seconds, best runs unless named otherwise)."""

    search: float  # find_fixed_points, default settings
    one: float  # plain numpy, one BLAS thread
    default: float  # plain numpy, the default BLAS threads
    floor: float  # the float64 floor: the fastest chunking, whole or stacked, with one or the default threads
    cpu_ratio: float  # process CPU time, search / plain numpy on one BLAS thread
    on_workers: float  # plain numpy's loop with its products on the search's worker threads
    threaded: float  # the search with blas_threads=None, workers=1
    single: float  # the search with workers=1
    typical: float  # search / plain numpy from the mean of the runs
    control: tuple  # plain numpy (one BLAS thread) against itself timed as a second function: best runs, mean
    runs: int  # runs of each function


def timings(net: Network, starts: np.ndarray, repeat: int, point_maps: int) -> Timings:
    """Best times of the search, of :func:`plain_numpy` with one and with the default BLAS threads, and of the
    float64 floor of ``point_maps`` point-maps with one and with the default threads, all in turn."""
    fns = {"rmtfp": lambda: find_fixed_points(net, starts),
           "threaded": lambda: find_fixed_points(net, starts, blas_threads=None, workers=1),
           "single": lambda: find_fixed_points(net, starts, workers=1),
           "one": one_thread(lambda: plain_numpy(net, starts)),
           "one_again": one_thread(lambda: plain_numpy(net, starts)),
           "default": lambda: plain_numpy(net, starts),
           "on_workers": lambda: plain_on_workers(net, starts)}
    # the floor: the fastest chunking of each kind (whole products of a block, stacks of small products), with
    # one and with the default BLAS threads, all four timed in turn (a chunking picked from short calibration
    # runs alone is a lottery with threaded BLAS)
    for stacked in (False, True):
        with limit_blas_threads(1):
            block = best_block(net, stacked)
        if block is not None:
            fns[f"floor_one_{stacked}"] = one_thread(bare_run(net, point_maps, block))
        block = best_block(net, stacked)
        if block is not None:
            fns[f"floor_default_{stacked}"] = bare_run(net, point_maps, block)
    best, cpu, mean, runs = interleaved(fns, repeat)
    typical = mean["rmtfp"] / min(mean["one"], mean["default"])
    floor = min(v for k, v in best.items() if k.startswith("floor"))
    return Timings(best["rmtfp"], best["one"], best["default"], floor, cpu["rmtfp"] / cpu["one"],
                   best["on_workers"], best["threaded"], best["single"], typical,
                   (best["one_again"] / best["one"], mean["one_again"] / mean["one"]), runs)


def default_workers() -> int:
    """The worker threads ``find_fixed_points(workers=None)`` takes in this process."""
    return auto_workers(blas_thread_count(), 1)


def floor_per_row(net: Network, dtype=np.float64) -> float:
    """The bare products' time per point-map, the faster of one and the default BLAS threads."""
    with limit_blas_threads(1):
        one = bare_seconds_per_row(net, dtype=dtype)
    return min(one, bare_seconds_per_row(net, dtype=dtype))


def _burn(stop, parent: int):
    """Keep one core busy until told to stop or the benchmark's process is gone."""
    while not stop.is_set() and os.getppid() == parent:
        sum(i * i for i in range(10_000))


def settle(max_seconds: float = 0.5, window: float = 0.012) -> bool:
    """Busy-wait on this thread until no other thread of this process holds a core; False if it took too long.

    OpenBLAS's threads keep spinning for about 0.1 s after every multi-threaded product (measured here: 100 ms
    of process CPU time during a sleep after one): whatever runs next shares the machine with them.  The
    threaded reference would hand that load to the run after it, which on two cores leaves a search with two
    threads one core and the one-thread reference none less.  The process CPU time counts every thread; while
    this thread alone runs it grows as fast as the wall clock.  Windows of 12 ms: the CPU time advances in
    clock ticks (4 ms here).  Busy rather than asleep: a machine left idle for tens of milliseconds maps the
    next few milliseconds' work slower (measured here: the first maps after a 50 ms sleep ~1.6 times slower).
    """
    deadline = time.perf_counter() + max_seconds
    while time.perf_counter() < deadline:
        w, c = time.perf_counter(), time.process_time()
        while time.perf_counter() - w < window:
            pass
        if time.process_time() - c < 1.5 * (time.perf_counter() - w):
            return True
    return False


def interleaved(fns: dict, repeat: int, min_seconds: float = 10.0, max_seconds: float = 30.0):
    """Best wall time, best process CPU time and mean wall time of each function, and the runs of each, the
    functions run in turn within every round.

    On a machine whose load changes during the run, timing one function
    ``repeat`` times and then the next would hand a quiet minute to one of
    them; in turn, each sees the same load.  Every function runs at least
    ``repeat`` times; short ones get more rounds (all the same number),
    until the timed runs have taken ``min_seconds`` in all, or 20 times
    ``repeat`` rounds, or ``max_seconds`` have passed.  Under load the
    time of a run is bimodal (on two cores with two busy processes, a run
    of 30-60 ms of the one-thread reference takes about 0.7 or 1.4-1.6
    times its median, as it has a core to itself or shares one), and a
    best of a few runs is a lottery: timed as two functions, the same loop
    read 0.64-1.37 times itself from its best of 5 runs, 0.96-1.04 times
    from its best of 20 (``bench_timing_spread.py``: 95 % of the windows of
    5 or 20 rounds in 90 s of runs on each of three networks; 0.83-1.13 for
    a fourth, whose runs of 0.3 s rarely have a core to themselves
    throughout).  The mean of the runs
    moves less than their median, which falls between the two modes:
    0.81-1.20 against 0.63-1.70 times itself from 20 runs.  Each run starts
    after :func:`settle`: none inherits the spinning BLAS threads of the
    one before it (``SETTLE[0] = False``, ``--no-settle``, times them back
    to back).
    """
    start = time.perf_counter()

    def more(rounds: int, timed: float) -> bool:
        return rounds < repeat or (timed < min_seconds and rounds < 20 * repeat
                                   and time.perf_counter() - start < max_seconds)

    walls, cpus = timed_rounds(fns, more)
    return ({k: min(v) for k, v in walls.items()}, {k: min(v) for k, v in cpus.items()},
            {k: float(np.mean(v)) for k, v in walls.items()}, len(walls[next(iter(fns))]))


def timed_rounds(fns: dict, more) -> tuple[dict, dict]:
    """Wall and process CPU times of every run of each function, the functions run in turn, in a new random
    order every round, while ``more(rounds done, seconds of timed runs)``; each run after :func:`settle`."""
    walls = {k: [] for k in fns}
    cpus = {k: [] for k in fns}
    keys = list(fns)
    order = np.random.default_rng(0)
    timed = 0.0
    r = 0
    while more(r, timed):
        # a new order in every round, so that each function follows each other about equally often (without
        # settling, the BLAS threads of a threaded run keep spinning a while after it and slow down whatever
        # runs next: a rotation of one order would keep every function behind the same one)
        for k in order.permutation(keys):
            if SETTLE[0] and not settle():
                UNSETTLED[0] += 1
            t, c = time.perf_counter(), time.process_time()
            fns[k]()
            walls[k].append(time.perf_counter() - t)
            cpus[k].append(time.process_time() - c)
            timed += walls[k][-1]
        r += 1
    return walls, cpus


SETTLE = [True]
UNSETTLED = [0]  # runs started although another thread of the process still held a core after 0.5 s


def one_thread(fn):
    def run():
        with limit_blas_threads(1):
            return fn()
    return run


def ten_networks(starts: np.ndarray, n: int, repeat: int):
    """rmtfp / numpy on ``n`` Cauchy networks (seeds 0..n-1), the three timed in turn.

    Also counts how often the search maps each start against the
    reference: the same number of maps where the Cauchy criterion decides,
    fewer where the search's cycle or divergence test stops a start first,
    more where it iterates on from an unstable fixed point or cycle.
    """
    agree, measured = [], []
    for seed in range(n):
        net = Network.random(WIDTHS, "hardtanh", "cauchy", rng=seed)
        res = find_fixed_points(net, starts)
        _, np_maps = plain_numpy(net, starts)
        agree.append([np.mean(res.iterations == np_maps), np.mean(res.iterations < np_maps),
                      np.mean(res.iterations > np_maps)])
        measured.append(timings(net, starts, repeat, res.iterations.sum()))
    t = Timings(*(np.array(field) for field in zip(*measured)))
    reference = np.minimum(t.one, t.default)
    return (t.search / reference, t.search / t.floor, np.array(agree), t.cpu_ratio, t.on_workers / reference,
            np.column_stack([t.threaded / reference, t.threaded / t.floor]), t.search / t.one, t.single / t.one,
            t.typical, t.control, t.runs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="runs of each function at least")
    parser.add_argument("--networks", type=int, default=10, help="Cauchy networks of the rmtfp / numpy summary")
    parser.add_argument("--load", type=int, default=0, help="busy processes started for the whole run")
    parser.add_argument("--skip-fine", action="store_true", help="skip the 401 x 401 basin map")
    parser.add_argument("--no-settle", action="store_true",
                        help="time the runs back to back, each inheriting the spinning BLAS threads of the one before")
    args = parser.parse_args()
    SETTLE[0] = not args.no_settle
    stop = multiprocessing.Event()
    burners = [multiprocessing.Process(target=_burn, args=(stop, os.getpid()), daemon=True) for _ in range(args.load)]
    for b in burners:
        b.start()
    try:
        run(args)
    finally:
        stop.set()
        for b in burners:
            b.join()


def run(args):
    if args.load:
        time.sleep(2)  # let the busy processes show in the load average
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.2f} ({args.load} busy processes of this run); numpy {np.__version__}")
    print(f"network: widths {WIDTHS} (L = 5), hard-tanh, papers' scale 1/n_l; grid 41 x 41, "
          f"tol 1e-5, max_iter 50, max_period 8, Newton refinement on")
    print(f"find_fixed_points defaults: blas_threads=1, workers=None ({default_workers()} worker threads here)")
    print("timed runs " + ("each after the process's other threads (spinning BLAS threads) have let go of the cores"
                           if SETTLE[0] else "back to back (--no-settle)") + "\n")
    starts = grid()
    ratios, floors, agree, cpu_ratios, bound, threaded, vs_one, single, typical, control, runs = ten_networks(
        starts, args.networks, args.repeat)
    print(f"{args.networks} Cauchy networks (seeds 0..{args.networks - 1}): rmtfp / plain numpy "
          f"min {ratios.min():.2f}x, median {np.median(ratios):.2f}x, max {ratios.max():.2f}x   "
          f"target <= 1.0x: {'ok' if ratios.max() <= 1.0 else 'MISSED'}")
    print(f"  rmtfp / float64 floor min {floors.min():.2f}x, median {np.median(floors):.2f}x, "
          f"max {floors.max():.2f}x   target <= 1.5x: {'ok' if floors.max() <= 1.5 else 'MISSED'}")
    print("  per network: " + ", ".join(f"{r:.2f}x" for r in ratios) + "; against the floor: "
          + ", ".join(f"{r:.2f}x" for r in floors))
    print(f"  against the reference with one BLAS thread only (like for like with the search's default of one "
          f"BLAS thread): min {vs_one.min():.2f}x, median {np.median(vs_one):.2f}x, max {vs_one.max():.2f}x")
    print(f"  the mean of the runs of each instead of the best (the time a user waits on average; on a loaded machine the "
          f"best run is the one the scheduler favoured most): rmtfp / numpy min {typical.min():.2f}x, median {np.median(typical):.2f}x, "
          f"max {typical.max():.2f}x   target <= 1.0x: {'ok' if typical.max() <= 1.0 else 'MISSED'}")
    print(f"  one thread each, workers=1 / the reference with one BLAS thread: min {single.min():.2f}x, "
          f"median {np.median(single):.2f}x, max {single.max():.2f}x   (what decides on a loaded machine, where "
          f"either may get one core at best)")
    print(f"  the reference's own loop, its products on the search's worker threads / plain numpy: "
          f"min {bound.min():.2f}x, median {np.median(bound):.2f}x, max {bound.max():.2f}x   (what the search's "
          f"threading gives the reference's work)")
    print(f"  blas_threads=None, workers=1 (the products on the caller's BLAS threads, as numpy's): rmtfp / numpy "
          f"min {threaded[:, 0].min():.2f}x, median {np.median(threaded[:, 0]):.2f}x, max {threaded[:, 0].max():.2f}x; "
          f"rmtfp / floor median {np.median(threaded[:, 1]):.2f}x, max {threaded[:, 1].max():.2f}x")
    print(f"  control, the reference against itself (its one-thread loop timed as a second function, in turn with the "
          f"others: how far these ratios move with the machine alone): best runs min {control[:, 0].min():.2f}x, "
          f"max {control[:, 0].max():.2f}x; mean of the runs min {control[:, 1].min():.2f}x, max {control[:, 1].max():.2f}x"
          f" ({runs.min()}-{runs.max()} runs of each function per network)")
    print(f"  process CPU time (all threads), rmtfp / numpy with one BLAS thread: min {cpu_ratios.min():.2f}x, "
          f"median {np.median(cpu_ratios):.2f}x, max {cpu_ratios.max():.2f}x   (the work done, whatever the load)")
    same, fewer, more = 100 * agree.mean(axis=0)
    print(f"  maps per start, search vs reference: the same {same:.1f}%, fewer {fewer:.1f}% (cycle or divergence "
          f"test first), more {more:.1f}% (iterated on from an unstable point); load average "
          f"{os.getloadavg()[0]:.2f} at the end" + (f"; {UNSETTLED[0]} runs started unsettled" if SETTLE[0] else "")
          + "\n")
    for law, seed in CASES:
        net = Network.random(WIDTHS, "hardtanh", law, rng=seed)
        _, t_med, c_best, res = best_time(lambda: find_fixed_points(net, starts), args.repeat)
        t_loop, _, c_loop, maps = best_time(lambda: per_point_loop(net, starts), 1)
        t_mv, _, c_mv, _ = best_time(lambda: per_point_loop(matvec_step(net), starts), 1)
        t_fixed, _, _, _ = best_time(lambda: [net(starts) for _ in range(50)], args.repeat)
        t_g, _, _, g = best_time(lambda: contraction_constant(net, starts), args.repeat)
        summary = f"Q={res.Q}, cycles={len(res.cycles)}, unresolved={res.fractions['unresolved']:.3f}"
        print(f"{law} seed {seed}: {summary}, mean maps/start {res.iterations.mean():.1f}")
        t = timings(net, starts, args.repeat, res.iterations.sum())
        t_best, one, default, floor = t.search, t.one, t.default, t.floor
        np_maps = plain_numpy(net, starts)[1]
        t_np = min(one, default)
        print(f"  find_fixed_points       best {1e3 * t_best:7.1f} ms  (separate runs: median {1e3 * t_med:.1f} ms, "
              f"CPU {1e3 * c_best:.1f} ms)")
        print(f"  plain numpy reference   best {1e3 * t_np:7.1f} ms  (one BLAS thread {1e3 * one:.1f} ms, default "
              f"threads {1e3 * default:.1f} ms; {np_maps.sum()} point-maps)   rmtfp / numpy {t_best / t_np:.2f}x"
              f"   target <= 1.0x: {'ok' if t_best <= t_np else 'MISSED'}")
        per_row = floor_per_row(net)
        print(f"  float64 floor, same maps     {1e3 * floor:7.1f} ms   (bare layer products only: "
              f"{res.iterations.sum()} point-maps)   rmtfp / floor {t_best / floor:.2f}x"
              f"   target <= 1.5x: {'ok' if t_best <= 1.5 * floor else 'MISSED'}")
        floor32 = floor_per_row(net, dtype=np.float32) * res.iterations.sum()
        print(f"  float32 floor, same maps     {1e3 * floor32:7.1f} ms   (for comparison: the same products in "
              f"single precision, before any convergence test)")
        print(f"  50 full maps, no early stop  {1e3 * t_fixed:7.1f} ms   (raw batched throughput; float64 floor "
              f"{1e3 * per_row * 50 * len(starts):.1f} ms)")
        print(f"  per-point loop, net(x)       {1e3 * t_loop:7.1f} ms   {t_loop / t_best:6.1f}x the search"
              f"   (CPU {c_loop / c_best:.1f}x; same maps per start: {100 * np.mean(maps == res.iterations):.1f}%)")
        print(f"  per-point loop, raw matvecs  {1e3 * t_mv:7.1f} ms   {t_mv / t_best:6.1f}x the search"
              f"   (CPU {c_mv / c_best:.1f}x; hand-written hard-tanh layers, no input checks)")
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

                t_best, _, _, (res, t_plot) = best_time(basin_map, min(3, args.repeat))
            print(f"  {law} seed {seed}: {t_best:6.2f} s (figure {t_plot:.2f} s), Q = {res.Q}, "
                  f"cycles = {len(res.cycles)}   target < 10 s: {'ok' if t_best < 10 else 'MISSED'}")


if __name__ == "__main__":
    main()
