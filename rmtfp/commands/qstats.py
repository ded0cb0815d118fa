"""``rmtfp qstats``: the law of the number of fixed points Q against depth.

    rmtfp qstats --depths 1:20 --networks 100 --weights cauchy --workers 2
    rmtfp qstats --depths 2,3,5,20 --networks 50 --json
    rmtfp qstats --depths 1:10 --networks 30 --plot qstats.png
"""

from __future__ import annotations

import argparse
import contextlib
import time

import numpy as np

from . import dump_json, int_at_least, parse_bounds, parse_scale
from ._options import (add_activation, add_output, add_progress, add_scheduler, add_seed, add_weights, add_workers,
                       connect_scheduler, print_csv, resolve_seed, show_progress, wrote)

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
    p = subparsers.add_parser(
        "qstats",
        help="law of the number of fixed points Q of random networks against depth",
        description="For every depth L, draw --networks random networks R^2 -> R^2 with widths "
                    "(2, W, ..., W, 2), iterate each from every point of the grid, and report the "
                    "distribution of Q (fixed points reached), its mode with a bootstrap interval, its "
                    "mean, and the fractions of networks with cycles or unresolved starts.  The result "
                    "depends only on --seed, not on --workers.",
    )
    net = p.add_argument_group("networks")
    net.add_argument("--depths", type=parse_depths, default="1:20",
                     help="depths L: START:STOP (inclusive), START:STOP:STEP or a comma list (default: 1:20)")
    net.add_argument("--networks", type=int_at_least("--networks"), default=100,
                     help="networks per depth (default: 100)")
    net.add_argument("--width", type=int_at_least("--width"), default=100, help="hidden width N_0 (default: 100)")
    add_activation(net)
    add_weights(net, default="cauchy", extra_help=" (weights and biases; cauchy is the papers' experiment)")
    net.add_argument("--scale", type=parse_scale, default="fan_in",
                     help="'fan_in' (scale 1/n_l for Cauchy, variance 1/n_l for normal; default) or a number")
    net.add_argument("--dim", type=int_at_least("--dim"), default=2, help="input/output dimension n (default: 2)")
    add_seed(net, what="root seed of all networks")
    st = p.add_argument_group("fixed-point search")
    st.add_argument("--bounds", type=parse_bounds, default=(-1.0, 1.0), help="grid box LO,HI (default: -1,1)")
    st.add_argument("--step", type=float, default=0.05, help="grid step (default: 0.05, the 41 x 41 grid)")
    st.add_argument("--tol", type=float, default=1e-5, help="Cauchy criterion tolerance (default: 1e-5)")
    st.add_argument("--max-iter", type=int_at_least("--max-iter"), default=50,
                    help="maximum number of maps (default: 50)")
    st.add_argument("--merge-tol", type=float, default=1e-3, help="merge distance (default: 1e-3)")
    st.add_argument("--max-period", type=int_at_least("--max-period"), default=8,
                    help="longest cycle looked for (default: 8)")
    st.add_argument("--no-refine", action="store_true", help="do not polish with Newton's method")
    run_ = p.add_argument_group("run and output")
    add_workers(run_, kind="processes; 1 = this process")
    add_scheduler(run_)
    run_.add_argument("--confidence", type=float, default=0.95, help="of the mode interval (default: 0.95)")
    run_.add_argument("--bootstrap", type=int_at_least("--bootstrap", 0), default=2000,
                      help="bootstrap resamples (default: 2000)")
    add_progress(run_)
    add_output(p, group=run_, plot="qstats.png",
               csv="depth,mode,mode_low,mode_high,mean,mean_stderr,cycle_fraction,unresolved_fraction")
    p.set_defaults(func=run)


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
    if args.plot:
        from ..plotting import plot_q_statistics, save_figure

        save_figure(plot_q_statistics(result), args.plot)
        wrote(args, args.plot, "the figure")
    if args.json:
        payload = result.to_dict()
        payload["seed"] = args.seed
        payload["seconds"] = elapsed
        print(dump_json(payload))
        return 0
    if args.csv:
        print_csv(["depth", "mode", "mode_low", "mode_high", "mean", "mean_stderr", "cycle_fraction",
                   "unresolved_fraction"],
                  ([int(L), int(result.mode[d]),
                    *([int(v) for v in result.mode_interval[d]] if args.bootstrap > 0 else [None, None]),
                    float(result.mean[d]), float(result.mean_stderr[d]),
                    float(result.cycle_fraction[d]), float(result.unresolved_fraction[d])]
                   for d, L in enumerate(result.depths)))
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
