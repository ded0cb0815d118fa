"""``rmtfp qstats``: the law of the number of fixed points Q against depth.

For every depth L, draw --networks random networks R^2 -> R^2 with widths (2, W, ..., W, 2), iterate each from
every point of the grid, and report the distribution of Q (fixed points reached), its mode with a bootstrap
interval, its mean, and the fractions of networks with cycles or unresolved starts.  The result depends only on
--seed, not on --workers.

    rmtfp qstats --depths 1:20 --networks 100 --weights cauchy --workers 2
    rmtfp qstats --depths 2,3,5,20 --networks 50 --json
    rmtfp qstats --depths 1:10 --networks 30 --plot qstats.png
"""

from __future__ import annotations

import argparse
import contextlib
import time

import numpy as np

from . import int_at_least
from ._options import (add_command, add_grid, add_iteration, add_scale, connect_scheduler, resolve_seed, show_progress,
                       write_output)

__all__ = ["register", "run", "parse_depths"]


def parse_depths(text: str) -> list:
    """``A:B`` (A..B inclusive), ``A:B:S`` (step S) or a comma list ``2,3,5`` of positive integers."""
    text = text.strip()
    try:
        if ":" in text:
            parts = [int(p) for p in text.split(":")]
            if len(parts) not in (2, 3):
                raise ValueError
            start, stop = parts[0], parts[1]
            step = parts[2] if len(parts) == 3 else 1
            if step < 1 or stop < start:
                raise ValueError
            values = list(range(start, stop + 1, step))
        else:
            values = [int(v) for v in text.split(",")]  # an empty item is an int("") ValueError
        if not values or min(values) < 1 or len(set(values)) != len(values):
            raise ValueError
        return values
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"depths must be START:STOP (inclusive), START:STOP:STEP or a comma list of distinct integers >= 1, "
            f"got {text!r}") from None


def register(subparsers) -> None:
    p = add_command(subparsers, "qstats", run, doc=__doc__,
                    help="law of the number of fixed points Q of random networks against depth", activation=True,
                    weights=dict(default="cauchy",
                                 extra_help=" (weights and biases; cauchy is the papers' experiment)"),
                    seed=dict(what="root seed of all networks"), workers=dict(kind="processes; 1 = this process"),
                    scheduler=True, output=dict(plot="qstats.png", csv="depth,mode,mode_low,mode_high,mean,"
                                                "mean_stderr,cycle_fraction,unresolved_fraction"))
    net = p.add_argument_group("networks")
    net.add_argument("--depths", type=parse_depths, default="1:20",
                     help="depths L: START:STOP (inclusive), START:STOP:STEP or a comma list (default: 1:20)")
    net.add_argument("--networks", type=int_at_least("--networks"), default=100,
                     help="networks per depth (default: 100)")
    net.add_argument("--width", type=int_at_least("--width"), default=100, help="hidden width N_0 (default: 100)")
    add_scale(net)
    net.add_argument("--dim", type=int_at_least("--dim"), default=2, help="input/output dimension n (default: 2)")
    st = p.add_argument_group("fixed-point search")
    add_grid(st)
    add_iteration(st)
    mode = p.add_argument_group("mode interval")
    mode.add_argument("--confidence", type=float, default=0.95, help="of the mode interval (default: 0.95)")
    mode.add_argument("--bootstrap", type=int_at_least("--bootstrap", 0), default=2000,
                      help="bootstrap resamples (default: 2000)")


def run(args) -> int:
    from ..dynamics import grid
    from ..ensembles import q_statistics

    starts = grid(bounds=args.bounds, step=args.step, dim=args.dim)
    resolve_seed(args)
    with contextlib.ExitStack() as stack:
        executor = connect_scheduler(args, stack)
        t0 = time.perf_counter()
        result = q_statistics(args.depths, width=args.width, activation=args.activation, weights=args.weights,
                              n_networks=args.networks, rng=args.seed, executor=executor, workers=args.workers,
                              dim=args.dim, scale=args.scale, confidence=args.confidence,
                              n_bootstrap=args.bootstrap, progress=show_progress(args), starts=starts,
                              tol=args.tol, max_iter=args.max_iter, merge_tol=args.merge_tol,
                              max_period=args.max_period, refine=not args.no_refine)
    elapsed = time.perf_counter() - t0
    header = ["depth", "mode", "mode_low", "mode_high", "mean", "mean_stderr", "cycle_fraction",
              "unresolved_fraction"]
    rows = ([int(L), int(result.mode[d]),
             *([int(v) for v in result.mode_interval[d]] if args.bootstrap > 0 else [None, None]),
             float(result.mean[d]), float(result.mean_stderr[d]),
             float(result.cycle_fraction[d]), float(result.unresolved_fraction[d])]
            for d, L in enumerate(result.depths))
    if write_output(args, figure=lambda plotting: plotting.plot_q_statistics(result),
                    json=dict(result.to_dict(), seed=args.seed, seconds=elapsed), csv=(header, rows)):
        return 0
    p = result.params
    print(f"{p['n_networks']} networks per depth: widths (n, {p['width']}, ..., {p['width']}, n), n = {p['dim']}, "
          f"{p['activation']}, {p['weights']} weights (scale {p['scale']}), seed {args.seed}; "
          f"{p['n_starts']} starts (grid step {args.step}), tol {args.tol}, max_iter {args.max_iter}")
    pct = f"{100 * result.confidence:.0f}%"
    print(f"{'L':>3}  {'mode':>4}  {pct + ' interval':>13}  {'mean Q':>13}  {'cycles':>6}  {'unres.':>6}  "
          f"distribution of Q")
    for d, L in enumerate(result.depths):
        lo, hi = result.mode_interval[d]
        dist = ", ".join(f"{q}: {100 * f:.0f}%" for q, f in result.distribution_at(int(L)).items())
        interval = f"[{lo}, {hi}]" if args.bootstrap > 0 else "n/a"
        stderr = f"{result.mean_stderr[d]:<4.2f}" if np.isfinite(result.mean_stderr[d]) else "n/a "
        print(f"{L:>3}  {result.mode[d]:>4}  {interval:>13}  "
              f"{result.mean[d]:>6.2f} ± {stderr}  {100 * result.cycle_fraction[d]:>5.0f}%  "
              f"{100 * result.unresolved_fraction[d]:>5.0f}%  {dist}")
    print("cycles / unres.: fraction of networks with starts ending on a cycle / unresolved after max_iter maps")
    if args.bootstrap == 0:
        print("mode interval n/a: --bootstrap 0 draws no resamples")
    print(f"{elapsed:.1f} s")
    return 0
