"""``rmtfp beta-scan``: the contraction constant g(beta) for sigma^2 = n^{-2 beta}, beta_cr, and g(L).

Draw --networks random networks with weights and biases of scale sigma_l = n_l^(-beta) (n_l the fan-in;
--beta-reference width uses the hidden width on every layer), compute the contraction constant g of eq. (5.2)
on the grid at every beta, and report its quantiles and beta_cr (median crossing of g = 1 with a confidence
interval).  With --vs-depth, compute g against depth at each --beta and fit the per-layer factor g_0.

    rmtfp beta-scan --betas 0.2:0.8:13 --width 100 --depth 3 --activation tanh --networks 20
    rmtfp beta-scan --vs-depth 1:10 --beta 0.4,0.6 --plot g_vs_depth.png
"""

from __future__ import annotations

import time

import numpy as np

from . import check_pair_grid, int_at_least, parse_range
from ._options import add_command, float_list, resolve_seed, show_progress, write_output
from .qstats import parse_depths

__all__ = ["register", "run"]


def _betas(text: str):
    return parse_range(text, name="--betas")


def register(subparsers) -> None:
    p = add_command(subparsers, "beta-scan", run, doc=__doc__,
                    help="contraction constant g(beta) for weight variance n^(-2 beta), the critical beta_cr, "
                         "and g(L)",
                    activation=True, weights=dict(extra_help=" (weights and biases)"),
                    seed=dict(what="root seed of all networks"), workers=dict(kind="processes"),
                    output=dict(plot="beta_scan.png", csv="beta,q10,q25,q50,q75,q90,lipschitz_median (the "
                                "quantiles of g); with --vs-depth: beta,depth,log_g_mean,log_g_stderr"))
    net = p.add_argument_group("networks")
    net.add_argument("--betas", type=_betas, default="0.2:0.8:13",
                     help="START:STOP:NUM or a comma list, increasing (default: 0.2:0.8:13)")
    net.add_argument("--width", type=int_at_least("--width"), default=100, help="hidden width N (default: 100)")
    net.add_argument("--depth", type=int_at_least("--depth"), default=3,
                     help="number of weight matrices L (default: 3)")
    net.add_argument("--beta-reference", default="fan_in", choices=("fan_in", "width"),
                     help="n in sigma = n^(-beta): each layer's fan-in (default) or the hidden width")
    net.add_argument("--networks", type=int_at_least("--networks"), default=20, help="networks (default: 20)")
    g = p.add_argument_group("contraction constant")
    g.add_argument("--step", type=float, default=0.05, help="grid step on [-1, 1]^2 (default: 0.05)")
    g.add_argument("--method", default="pairs", choices=("pairs", "jacobian"),
                   help="pairs: eq. (5.2); jacobian: max ||DPhi|| on the grid (default: pairs)")
    g.add_argument("--level", type=float, default=1.0, help="threshold of beta_cr (default: 1)")
    g.add_argument("--confidence", type=float, default=0.95, help="of the intervals (default: 0.95)")
    d = p.add_argument_group("g against depth")
    d.add_argument("--vs-depth", type=parse_depths, default=None, metavar="DEPTHS",
                   help="depths (START:STOP or comma list): compute g(L) at each --beta instead of a beta scan")
    d.add_argument("--beta", type=float_list("--beta"), default="0.4,0.6",
                   help="beta(s) of --vs-depth, comma list (default: 0.4,0.6)")


def run(args) -> int:
    from ..dynamics import grid
    from ..ensembles import contraction_scan, contraction_vs_depth, critical_beta

    points = grid(step=args.step)
    check_pair_grid(points, args.step)
    resolve_seed(args)
    common = dict(width=args.width, activation=args.activation, weights=args.weights, n_networks=args.networks,
                  rng=args.seed, workers=args.workers, points=points, method=args.method,
                  beta_reference=args.beta_reference, progress=show_progress(args))
    if args.vs_depth is not None and len(args.vs_depth) < 3:
        raise ValueError(f"--vs-depth needs at least three depths (a line fit with its error), "
                         f"got {','.join(map(str, args.vs_depth))}")
    if args.vs_depth is None and len(args.betas) < 2:
        raise ValueError(f"--betas needs at least two values (a scan), got {','.join(f'{b:g}' for b in args.betas)}")
    t0 = time.perf_counter()
    if args.vs_depth is not None:
        results = [contraction_vs_depth(args.vs_depth, beta=b, confidence=args.confidence, **common)
                   for b in args.beta]
        elapsed = time.perf_counter() - t0
        if write_output(args, figure=lambda plotting: plotting.plot_contraction_vs_depth(results),
                        json={"vs_depth": [r.to_dict() for r in results], "seed": args.seed, "seconds": elapsed},
                        csv=(["beta", "depth", "log_g_mean", "log_g_stderr"],
                             ([float(r.beta), int(L), float(m), float(s)] for r in results
                              for L, m, s in zip(r.depths, r.log_g_mean, r.log_g_stderr)))):
            return 0
        p = results[0].params
        print(f"g against depth: {p['activation']}, {p['weights']} weights, width {p['width']}, "
              f"{p['n_networks']} networks per depth, sigma_l = n^-beta ({p['beta_reference']}), seed {args.seed}")
        for r in results:
            lo, hi = r.g0_interval
            print(f"beta = {r.beta:g}: g0 = {r.g0:.4f} [{lo:.4f}, {hi:.4f}] ({100 * r.confidence:.0f}%), "
                  f"log g = {r.intercept:.3f} + L log g0, chi2 = {r.chi2:.2f} on {r.depths.size - 2} dof")
            for L, m, s in zip(r.depths, r.log_g_mean, r.log_g_stderr):
                print(f"   L = {L:>3}: geometric mean g = {2.718281828459045 ** m:.4g} (log g = {m:.3f} ± {s:.3f})")
        print(f"{elapsed:.1f} s")
        return 0

    scan = contraction_scan(args.betas, depth=args.depth, **common)
    crit = critical_beta(scan, level=args.level, confidence=args.confidence)
    elapsed = time.perf_counter() - t0
    names = [f"q{100 * q:.0f}" for q in scan.quantile_levels]
    if write_output(args, figure=lambda plotting: plotting.plot_contraction_scan(crit),
                    json=dict(crit.to_dict(), seed=args.seed, seconds=elapsed),
                    csv=(["beta", *names, "lipschitz_median"],
                         ([float(b), *(float(v) for v in qs), float(np.median(lip))]
                          for b, qs, lip in zip(scan.betas, scan.quantiles, scan.lipschitz)))):
        return 0
    p = scan.params
    print(f"g(beta): {p['activation']}, {p['weights']} weights, L = {p['depth']}, width {p['width']}, "
          f"{p['n_networks']} networks, sigma_l = n^-beta ({p['beta_reference']}), {p['n_points']} points, "
          f"seed {args.seed}")
    levels = "  ".join(f"{'q' + format(100 * q, '.0f'):>9}" for q in scan.quantile_levels)
    print(f"{'beta':>6}  {levels}  {'Lipschitz (median)':>18}")
    for b, qs, lip in zip(scan.betas, scan.quantiles, scan.lipschitz):
        row = "  ".join(f"{v:>9.4g}" for v in qs)
        print(f"{b:>6.3f}  {row}  {float(sorted(lip)[len(lip) // 2]):>18.4g}")
    lo, hi = crit.interval
    print(f"beta_cr (g = {crit.level:g}) = {crit.beta_cr:.4f}, {100 * crit.coverage:.1f}% interval "
          f"[{lo:.4f}, {hi:.4f}]; 10-90% of networks: [{crit.spread[0]:.4f}, {crit.spread[1]:.4f}]")
    print(f"{elapsed:.1f} s")
    return 0
