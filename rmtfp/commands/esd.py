"""``rmtfp esd``: the eigenvalue density of J J^T from the free-probability equation.

    rmtfp esd --activation hardtanh --depth 3 --sigma-w2 1.5 --sigma-b2 0.1 --lam 0.01:10:1000
    rmtfp esd --activation erf --depth 2 --sigma-w2 1.5 --sigma-b2 0.1 --lam log:1e-8:10:200 --json
    rmtfp esd --activation linear --depth 2 --lam 0.5,1,2 --dps 30
"""

from __future__ import annotations

import argparse
import csv
import io
import sys

import mpmath
import numpy as np

from . import dump_json, parse_range

__all__ = ["register", "run"]


def _integer(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--depth must be an integer >= 1, got {text!r}") from None
    return v


def _lam(text: str) -> np.ndarray:
    return parse_range(text, "--lam")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "esd",
        help="eigenvalue density of J J^T (theory)",
        description="Solve w = m_K(sigma_w^2 z^{-1/L} (1+w)^{1/L} w^{1-1/L}) for the eigenvalue density of "
                    "J J^T, J = prod_l D_l W_l, at the points --lam.  Prints a table (or --json / --csv); "
                    "the atom at 0 and the upper edge lambda_max are reported separately.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1],
    )
    p.add_argument("--activation", default="relu", help="registered activation (rmtfp.activations.available())")
    p.add_argument("--depth", type=_integer, default=2, help="number of layers L (default 2)")
    p.add_argument("--sigma-w2", type=float, default=1.0, help="weight variance x width (default 1)")
    p.add_argument("--sigma-b2", type=float, default=0.0, help="bias variance (default 0)")
    p.add_argument("--q", type=float, default=None,
                   help="pre-activation variance (default: q* from sigma_w2, sigma_b2)")
    p.add_argument("--lam", type=_lam, default=None,
                   help="START:STOP:NUM, log:START:STOP:NUM, or a comma list (default: 400 points up to "
                        "1.05 lambda_max)")
    p.add_argument("--dps", type=int, default=None, help="decimal digits (mpmath); float64 when omitted")
    p.add_argument("--method", default="auto", choices=["auto", "newton", "polynomial", "iteration"])
    p.add_argument("--weights", default="gaussian", choices=["gaussian", "orthogonal"],
                   help="weight ensemble (default gaussian; orthogonal: W = sigma_w O, O Haar)")
    p.add_argument("--widths", type=lambda t: parse_range(t, "--widths"), default=None,
                   help="layer widths n_0,...,n_L (rectangular layers; only the ratios matter)")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print one JSON object")
    out.add_argument("--csv", action="store_true", help="print CSV: lam,density,status")
    p.add_argument("--plot", metavar="FILE", default=None, help="save a figure of the density (PNG, PDF, SVG)")
    p.add_argument("--log", action="store_true", help="log-lambda axis in the figure")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..spectrum import density, support

    lam = args.lam
    arch = dict(weights=args.weights, widths=None if args.widths is None else args.widths.tolist())
    if lam is None:
        sup = support(args.activation, args.depth, sigma_w2=args.sigma_w2, q=args.q, sigma_b2=args.sigma_b2,
                      **arch)
        lmax = float(sup.lambda_max)
        lam = np.geomspace(lmax * 1e-6, 1.05 * lmax, 400) if args.log else np.linspace(lmax * 1e-3, 1.05 * lmax, 400)
    res = density(lam, args.activation, args.depth, sigma_w2=args.sigma_w2, q=args.q, sigma_b2=args.sigma_b2,
                  dps=args.dps, method=args.method, **arch)
    if args.plot:
        from ..plotting import plot_density, save_figure

        save_figure(plot_density(res, log_lambda=args.log), args.plot)
    names = res.status_names()
    dens = [mpmath.nstr(d, args.dps) if args.dps else repr(float(d)) for d in res.density]
    if args.json:
        d = res.to_dict()
        if args.dps:  # keep every digit
            d["density"] = dens
        print(dump_json({k: d[k] for k in ("lam", "density", "status", "atom", "lambda_max", "params")}))
    elif args.csv:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(["lam", "density", "status"])
        for x, y, s in zip(res.lam, dens, names):
            writer.writerow([repr(float(x)), y, s])
        sys.stdout.write(buf.getvalue())
    else:
        pr = res.params
        q = "not needed" if pr["q"] is None else f"{pr['q']:.10g} ({pr['q_source']})"
        print(f"# activation={pr['activation']} depth={pr['depth']} sigma_w2={pr['sigma_w2']} "
              f"sigma_b2={pr['sigma_b2']} q={q} method={pr['method']}")
        print(f"# atom at 0: {float(res.atom):.12g}   lambda_max: {float(res.lambda_max):.12g}")
        if pr.get("atoms") and len(pr["atoms"]) > 1:
            print("# atoms (lambda, mass): " + ", ".join(f"({a:.12g}, {m:.12g})" for a, m in pr["atoms"]))
        print(f"{'lam':>22} {'density':>24}  status")
        for x, y, s in zip(res.lam, dens, names):
            print(f"{float(x):22.15g} {y:>24}  {s}")
    if not res.converged:
        print(f"rmtfp esd: warning: {res.n_failed} of {len(names)} points did not converge "
              "(status column)", file=sys.stderr)
        return 3
    return 0
