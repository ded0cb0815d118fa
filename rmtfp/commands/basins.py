"""``rmtfp basins``: fixed points, cycles, basins and contraction of one network.

Iterate a random network (or one read from --weights-file) from every point of a grid, classify every start
(fixed point, cycle, unresolved, divergent) and report the fixed points, their stability, the cycles, the basin
fractions, the contraction constant g (eq. (5.2)) on the grid and the Lipschitz bound.

    rmtfp basins --widths 2,100,100,2 --activation hardtanh --weights cauchy --seed 3 --json
    rmtfp basins --weights-file net.npz --step 0.01 --plot basins.png
"""

from __future__ import annotations

import sys

import numpy as np

from . import check_pair_grid, int_at_least, int_list
from ._options import (add_command, add_grid, add_iteration, add_scale, note, resolve_seed, show_progress, write_output,
                       wrote)

__all__ = ["register", "run"]


def register(subparsers) -> None:
    p = add_command(subparsers, "basins", run, doc=__doc__,
                    help="fixed points, cycles, basins of attraction and contraction of a network R^n -> R^n",
                    activation=dict(extra_help="; with --weights-file, the file's unless given"),
                    weights=dict(extra_help=" (weights and biases)"),
                    seed=dict(what="random seed of the network and of --random-starts"),
                    output=dict(plot="basins.png", csv="kind,index,x,stability,spectral_radius,residual,"
                                "basin_fraction: one row per fixed point and cycle, then the unresolved and "
                                "divergent starts"))
    net = p.add_argument_group("network")
    net.add_argument("--widths", type=int_list("--widths"),
                     help="layer widths n_0,...,n_L (n_0 = n_L), e.g. 2,100,100,2")
    add_scale(net)
    net.add_argument("--no-bias", action="store_true", help="zero biases")
    net.add_argument("--no-last-activation", action="store_true",
                     help="affine last layer (with --weights-file, overrides the file's)")
    net.add_argument("--weights-file", help="read the network from an .npz file (keys W0.., b0.., activation)")
    net.add_argument("--save-weights", help="write the network to this .npz file")
    st = p.add_argument_group("starts and iteration")
    add_grid(st)
    st.add_argument("--random-starts", type=int_at_least("--random-starts"), default=None, metavar="M",
                    help="M uniform random starts in the box instead of the grid (seeded by --seed)")
    add_iteration(st)
    st.add_argument("--g-method", default="pairs", choices=("pairs", "jacobian", "none"),
                    help="contraction constant on the starts (default: pairs, eq. (5.2))")


def _network(args):
    from ..dynamics import Network

    if args.weights_file:
        drawn = [opt for opt, given in (("--widths", args.widths is not None), ("--weights", args.weights_given),
                                         ("--scale", args.scale_given), ("--no-bias", args.no_bias))
                 if given]
        if drawn:
            raise ValueError(f"options of a random network ({', '.join(drawn)}) cannot be combined with "
                             "--weights-file (--activation and --no-last-activation can)")
        try:
            net = Network.load(args.weights_file, activation=args.activation if args.activation_given else None)
        except ValueError as exc:
            if not args.activation_given and "stores no activation" in str(exc):
                raise ValueError(f"weights file {args.weights_file!r} stores no activation; "
                                 "name one with --activation") from None
            raise
        if args.no_last_activation:
            net = Network(net.weights, net.biases, net.activation, last_activation=False)
        info = {"weights_file": args.weights_file, "widths": list(net.widths),
                "activation": net.activation.name, "last_activation": net.last_activation}
        if args.seed is not None:  # seeds --random-starts
            info["seed"] = args.seed
        return net, info
    if args.widths is None:
        raise ValueError("--widths is required unless --weights-file is given")
    if args.widths[0] != args.widths[-1]:
        raise ValueError(f"--widths must start and end with the same n (fixed points of R^n -> R^n), "
                         f"got {','.join(map(str, args.widths))}")
    seed = resolve_seed(args)
    law = args.weights
    scale = args.scale
    net = Network.random(args.widths, args.activation, weights=law, scale=scale, rng=seed,
                         bias=not args.no_bias, last_activation=not args.no_last_activation)
    info = {"widths": list(net.widths), "activation": net.activation.name, "weights": law,
            "scale": scale, "seed": seed, "bias": not args.no_bias,
            "last_activation": not args.no_last_activation}
    return net, info


def _rows(result) -> list:
    """The rows of --csv: the fixed points, the cycles, then the unresolved and divergent starts."""
    fr = result.fractions
    rows = [["fixed_point", k, " ".join(repr(float(v)) for v in x), s.kind, float(s.spectral_radius), float(r),
             fr[f"fixed_point:{k}"]]
            for k, (x, s, r) in enumerate(zip(result.fixed_points, result.stability, result.residuals))]
    rows += [["cycle", k, "", c.stability.kind, float(c.stability.spectral_radius), None, fr[f"cycle:{k}"]]
             for k, c in enumerate(result.cycles)]
    return rows + [["unresolved", "", "", "", None, None, fr["unresolved"]],
                   ["divergent", "", "", "", None, None, fr["divergent"]]]


def run(args) -> int:
    import warnings

    from tqdm.auto import tqdm

    from ..dynamics import contraction_constant, find_fixed_points, grid, lipschitz_bound, random_starts
    from ..errors import UnresolvedWarning

    net, info = _network(args)
    if net.n_in != net.n_out:
        raise ValueError(f"the network maps R^{net.n_in} -> R^{net.n_out}; fixed points need n_in = n_out")
    n = net.n_in
    if args.random_starts is not None:
        starts = random_starts(args.random_starts, n, bounds=args.bounds, rng=info.get("seed"))
    else:
        starts = grid(bounds=args.bounds, step=args.step, dim=n)
        if args.g_method != "none":
            check_pair_grid(starts, args.step)
    stages = ["fixed points"] + ([] if args.g_method == "none" else [f"g ({args.g_method})"])
    with tqdm(total=len(stages), desc="basins", unit="stage", file=sys.stderr, disable=not show_progress(args),
              leave=False, bar_format="{desc}: {n}/{total} stages, {elapsed} elapsed ({postfix})") as bar:
        bar.set_postfix_str(f"{stages[0]} from {starts.shape[0]} starts")
        with warnings.catch_warnings():  # said below, with the option to change
            warnings.simplefilter("ignore", UnresolvedWarning)
            result = find_fixed_points(net, starts, tol=args.tol, max_iter=args.max_iter, merge_tol=args.merge_tol,
                                       max_period=args.max_period, refine=not args.no_refine,
                                       progress=show_progress(args))
        bar.update(1)
        g = None
        if args.g_method != "none":
            bar.set_postfix_str(f"{stages[1]} on {starts.shape[0]} starts")
            g = contraction_constant(net, starts, method=args.g_method)
            bar.update(1)
    lip = lipschitz_bound(net)
    if args.save_weights:
        net.save(args.save_weights)
        wrote(args, args.save_weights, "the network")
    unresolved = result.fractions["unresolved"]
    if unresolved > 0.5:
        note(args, f"warning: {100 * unresolved:.1f}% of the starts are unresolved after --max-iter "
                   f"{args.max_iter} maps; the basins are those of the budget: raise --max-iter")
    payload = {"Q": result.Q, "fixed_points": result.fixed_points, "stability": [s.to_dict() for s in result.stability],
               "residuals": result.residuals, "cycles": [c.to_dict() for c in result.cycles],
               "fractions": result.fractions, "g": g, "g_method": args.g_method, "lipschitz_bound": lip,
               "network": info, "n_starts": int(starts.shape[0]), "params": result.params}
    if write_output(args, figure=lambda plotting: plotting.plot_basins(result), figure_name="the basin map",
                    json=payload, csv=(["kind", "index", "x", "stability", "spectral_radius", "residual",
                                        "basin_fraction"], _rows(result))):
        return 0
    desc = ", ".join(f"{k}={v}" for k, v in info.items())
    print(f"network: {desc}")
    print(f"starts: {starts.shape[0]} ({'random' if args.random_starts else f'grid step {args.step}'}); "
          f"tol={args.tol}, max_iter={args.max_iter}")
    print(f"Q = {result.Q} fixed point(s), {len(result.cycles)} cycle(s)")
    for k, (x, s, r) in enumerate(zip(result.fixed_points, result.stability, result.residuals)):
        frac = result.fractions[f"fixed_point:{k}"]
        print(f"  x*_{k} = {np.array2string(x, precision=6)}  {s.kind} (rho = {s.spectral_radius:.4g}), "
              f"residual {r:.2e}, basin {100 * frac:.1f}%")
    for k, c in enumerate(result.cycles):
        frac = result.fractions[f"cycle:{k}"]
        print(f"  cycle {k}: period {c.period}, {c.stability.kind} (rho = {c.stability.spectral_radius:.4g}), "
              f"basin {100 * frac:.1f}%")
    print(f"  unresolved {100 * unresolved:.1f}%, divergent {100 * result.fractions['divergent']:.1f}%")
    if g is not None:
        print(f"g ({args.g_method}) = {g:.6g}")
    print(f"Lipschitz bound = {lip:.6g}")
    return 0
