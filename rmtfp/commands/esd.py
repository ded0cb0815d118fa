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
    p.add_argument("--dps", type=int, default=None,
                   help="decimal digits (python-flint when installed, else mpmath); float64 when omitted")
    p.add_argument("--certify", action="store_true",
                   help="prove every point by ball arithmetic (python-flint): enclosures lower <= density <= upper")
    p.add_argument("--backend", choices=["mpmath", "flint"], default=None,
                   help="arithmetic of --dps (default: flint when installed)")
    p.add_argument("--method", default="auto", choices=["auto", "newton", "polynomial", "iteration"])
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print one JSON object")
    out.add_argument("--csv", action="store_true", help="print CSV: lam,density,status")
    p.add_argument("--plot", metavar="FILE", default=None, help="save a figure of the density (PNG, PDF, SVG)")
    p.add_argument("--log", action="store_true", help="log-lambda axis in the figure")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..spectrum import density, support

    lam = args.lam
    if lam is None:
        sup = support(args.activation, args.depth, sigma_w2=args.sigma_w2, q=args.q, sigma_b2=args.sigma_b2)
        lmax = float(sup.lambda_max)
        lam = np.geomspace(lmax * 1e-6, 1.05 * lmax, 400) if args.log else np.linspace(lmax * 1e-3, 1.05 * lmax, 400)
    res = density(lam, args.activation, args.depth, sigma_w2=args.sigma_w2, q=args.q, sigma_b2=args.sigma_b2,
                  dps=args.dps, method=args.method, backend=args.backend, certify=args.certify)
    if args.plot:
        from ..plotting import plot_density, save_figure

        save_figure(plot_density(res, log_lambda=args.log), args.plot)
    names = res.status_names()
    def text(values):
        return [mpmath.nstr(d, args.dps) if args.dps else repr(float(d)) for d in values]

    dens = text(res.density)
    bounds = {} if res.lower is None else {"lower": text(res.lower), "upper": text(res.upper)}
    if args.json:
        d = res.to_dict()
        if args.dps:  # keep every digit
            d["density"] = dens
            d.update(bounds)
        keys = ("lam", "density") + tuple(bounds) + ("status", "atom", "lambda_max", "params")
        print(dump_json({k: d[k] for k in keys}))
    elif args.csv:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(["lam", "density"] + list(bounds) + ["status"])
        for i, (x, y, s) in enumerate(zip(res.lam, dens, names)):
            writer.writerow([repr(float(x)), y] + [bounds[k][i] for k in bounds] + [s])
        sys.stdout.write(buf.getvalue())
    else:
        pr = res.params
        q = "not needed" if pr["q"] is None else f"{pr['q']:.10g} ({pr['q_source']})"
        print(f"# activation={pr['activation']} depth={pr['depth']} sigma_w2={pr['sigma_w2']} "
              f"sigma_b2={pr['sigma_b2']} q={q} method={pr['method']}")
        print(f"# atom at 0: {float(res.atom):.12g}   lambda_max: {float(res.lambda_max):.12g}")
        print(f"{'lam':>22} {'density':>24}  status")
        for x, y, s in zip(res.lam, dens, names):
            print(f"{float(x):22.15g} {y:>24}  {s}")
    if not res.converged:
        print(f"rmtfp esd: warning: {res.n_failed} of {len(names)} points did not converge "
              "(status column)", file=sys.stderr)
        return 3
    return 0
