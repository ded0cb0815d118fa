"""``rmtfp esd``: the eigenvalue density of J J^T from the free-probability equation.

Solve w = m_K(sigma_w^2 z^{-1/L} (1+w)^{1/L} w^{1-1/L}) for the eigenvalue density of J J^T,
J = prod_l D_l W_l, at the points --lam.  Prints a table (or --json / --csv); the atom at 0 and the upper edge
lambda_max are reported separately.

    rmtfp esd --activation hardtanh --depth 3 --sigma-w2 1.5 --sigma-b2 0.1 --lam 0.01:10:1000
    rmtfp esd --activation erf --depth 2 --sigma-w2 1.5 --sigma-b2 0.1 --lam log:1e-8:10:200 --json
    rmtfp esd --activation linear --depth 2 --lam 0.5,1,2 --dps 30
"""

from __future__ import annotations

import argparse
import sys

import mpmath
import numpy as np

from ..errors import ConvergenceError
from . import parse_range
from ._options import add_command, parse_floats, write_output

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
    p = add_command(subparsers, "esd", run, doc=__doc__, help="eigenvalue density of J J^T (theory)",
                    activation=True, output=dict(plot="esd.png", csv="lam,density,status"),
                    weights=dict(default="normal", choices=("normal", "orthogonal"),
                                 extra_help="; the theory's weight ensemble (orthogonal: W = sigma_w O, O Haar)"))
    model = p.add_argument_group("model")
    model.add_argument("--depth", type=_integer, default=2, help="number of layers L (default 2)")
    model.add_argument("--sigma-w2", type=float, default=1.0, help="weight variance x width (default 1)")
    model.add_argument("--sigma-b2", type=float, default=0.0, help="bias variance (default 0)")
    model.add_argument("--q", type=parse_floats("--q"), default=None,
                       help="pre-activation variance, or one value per layer (comma list of L values; float64 "
                            "only) (default: q* from sigma_w2, sigma_b2)")
    model.add_argument("--widths", type=lambda t: [float(v) for v in parse_range(t, "--widths")], default=None,
                       help="layer widths n_0,...,n_L (rectangular layers; only the ratios matter; float64)")
    comp = p.add_argument_group("points and computation")
    comp.add_argument("--lam", type=_lam, default=None,
                      help="START:STOP:NUM, log:START:STOP:NUM, or a comma list (default: 400 points up to "
                           "1.05 lambda_max, linear from 1e-3 lambda_max, or with --log geometric from 1e-6 "
                           "lambda_max)")
    comp.add_argument("--dps", type=int, default=None,
                      help="decimal digits (python-flint when installed, else mpmath); float64 when omitted.  "
                           "mpmath costs about a second a point at 30 digits, flint ~1 ms (closed-form laws); "
                           "both grow fast with the digits (a progress bar shows it)")
    comp.add_argument("--certify", action="store_true",
                      help="prove every point by ball arithmetic (python-flint): enclosures lower <= density "
                           "<= upper, in --json and --csv")
    comp.add_argument("--backend", choices=["mpmath", "flint"], default=None,
                      help="arithmetic of --dps (default: flint when installed and the law has a closed form)")
    comp.add_argument("--method", default="auto", choices=["auto", "newton", "polynomial", "iteration"])
    out = p.add_argument_group("output")
    out.add_argument("--log", action="store_true",
                     help="log-lambda axis in the figure; without --lam also a geometric default grid")
    return p


#: float64 points solved at once: bounds the memory of large grids (about 750 bytes a point in the solver)
FLOAT64_CHUNK = 50_000
#: announce the expected cost (stderr) of runs longer than this many seconds
ANNOUNCE_SECONDS = 10.0
#: from this many digits on, say before starting that a point can take minutes (erf at 200 digits: ~1.5 min)
SLOW_DPS = 100


def run(args) -> int:
    from ..spectrum import support

    lam = args.lam
    if args.certify or args.backend == "flint":
        from ..spectrum.arb import have_flint

        if not have_flint():
            raise ValueError(f"{'--certify' if args.certify else '--backend flint'} needs python-flint: "
                             "pip install 'rmtfp[flint]'")
    if isinstance(args.q, list) and args.dps is not None:
        raise ValueError(f"--q with one value per layer is solved in float64 only; drop --dps (got --dps {args.dps})")
    if lam is None:
        sup = support(args.activation, args.depth, sigma_w2=args.sigma_w2, q=args.q,
                      sigma_b2=args.sigma_b2, weights=_ensemble(args), widths=args.widths)
        lmax = float(sup.lambda_max)
        lam = np.geomspace(lmax * 1e-6, 1.05 * lmax, 400) if args.log else np.linspace(lmax * 1e-3, 1.05 * lmax, 400)
    res = solve_in_chunks(args, lam)
    names = res.status_names()
    dens = [_digits(d, args.dps) for d in res.density]
    bounds = {} if res.lower is None else {k: [_digits(v, args.dps) for v in getattr(res, k)]
                                           for k in ("lower", "upper")}

    def payload():
        d = res.to_dict()
        if args.dps:  # keep every digit
            d["density"] = dens
            d.update(bounds)
        return {k: d[k] for k in ("lam", "density") + tuple(bounds) + ("status", "atom", "lambda_max", "params")}

    if not write_output(args, figure=lambda plotting: plotting.plot_density(res, log_lambda=args.log), json=payload,
                        csv=(["lam", "density"] + list(bounds) + ["status"],
                             ([repr(float(x)), y] + [bounds[k][i] for k in bounds] + [s]
                              for i, (x, y, s) in enumerate(zip(res.lam, dens, names))))):
        pr = res.params
        if pr["q"] is None:
            q = "not needed"
        elif isinstance(pr["q"], list):
            q = "[" + ", ".join(f"{v:.6g}" for v in pr["q"]) + f"] ({pr['q_source']})"
        else:
            q = f"{pr['q']:.10g} ({pr['q_source']})"
        print(f"# activation={pr['activation']} depth={pr['depth']} sigma_w2={pr['sigma_w2']} "
              f"sigma_b2={pr['sigma_b2']} q={q} method={pr['method']}")
        print(f"# atom at 0: {float(res.atom):.12g}   lambda_max: {float(res.lambda_max):.12g}")
        if len(pr.get("atoms") or ()) > 1:  # orthogonal weights: atoms away from 0
            print("# atoms (lambda, mass): " + ", ".join(f"({a:.12g}, {m:.12g})" for a, m in pr["atoms"]))
        print(f"{'lam':>22} {'density':>24}  status")
        for x, y, s in zip(res.lam, dens, names):
            print(f"{float(x):22.15g} {y:>24}  {s}")
    if not res.converged:
        from ..spectrum import Status

        reasons = "; ".join(f"{Status(c).name.lower()}: {Status(c).reason}"
                            for c in sorted(set(int(v) for v in res.status) - {0}))
        print(f"rmtfp esd: warning: {res.n_failed} of {len(names)} points did not converge "
              f"(status column; {reasons})", file=sys.stderr)
        return 3
    return 0


def _ensemble(args):
    """The theory's ``weights=``: None (Gaussian, the default) or "orthogonal"."""
    return None if args.weights in (None, "normal") else args.weights


def _digits(value, dps) -> str:
    if dps:
        return mpmath.nstr(value, dps)
    return repr(float(value))


def solve_in_chunks(args, lam):
    """:func:`rmtfp.density` at ``lam``, in chunks: a progress bar (stderr, on a terminal), bounded memory,
    and a note of the expected time when it is long.

    Every point is solved on its own (the continuation runs in eta, point by point), so the chunks give the
    numbers one call would.
    """
    import time

    from ..spectrum import density

    from ._options import note, show_progress

    lam = np.asarray(lam, dtype=float)
    kwargs = dict(sigma_w2=args.sigma_w2, q=args.q, sigma_b2=args.sigma_b2, dps=args.dps, method=args.method,
                  backend=args.backend, certify=args.certify, weights=_ensemble(args), widths=args.widths)
    n = lam.size
    if args.dps is None and n <= FLOAT64_CHUNK:
        with np.errstate(over="ignore", under="ignore"):  # rounding of extreme lambda is judged by the status
            return density(lam, args.activation, args.depth, **kwargs)
    from tqdm.auto import tqdm

    # mpmath: one point a chunk; Arb (certify, flint): chunks along which the root is carried from point to point
    step = FLOAT64_CHUNK if args.dps is None else (200 if args.certify or args.backend == "flint" else 1)
    if args.dps is not None and args.dps >= SLOW_DPS:
        note(args, f"{n} point(s) at {args.dps} digits: each can take minutes at this precision "
                   "(the time of the first point is reported when more follow)")
    parts, failed = [], []
    t0 = time.perf_counter()
    announced = False
    with tqdm(total=n, desc="esd", unit="pt", file=sys.stderr, disable=not show_progress(args), leave=False) as bar:
        for i in range(0, n, step):
            try:
                with np.errstate(over="ignore", under="ignore"):
                    parts.append(density(lam[i:i + step], args.activation, args.depth, **kwargs))
            except ConvergenceError as exc:
                if step > 1:
                    raise
                failed.append((i, str(exc)))
                parts.append(None)
            bar.update(min(step, n - i))
            done = min(i + step, n)
            if not announced and done < n:
                per = (time.perf_counter() - t0) / done
                if per * n > ANNOUNCE_SECONDS:
                    what = f"at {args.dps} digits" if args.dps is not None else "in float64"
                    note(args, f"{n} points {what}: about {per * n:.0f} s ({per:.3g} s a point)")
                announced = True
    for i, message in failed:
        note(args, f"lambda = {lam[i]:.6g}: {message}")
    return _concatenate(parts, lam)


def _concatenate(parts, lam):
    """One DensityResult from the chunks; a chunk that failed (None) is a not-converged point of density NaN."""
    import dataclasses

    from ..spectrum import Status

    good = [p for p in parts if p is not None]
    if not good:
        raise ConvergenceError(f"density: no point of the {len(parts)} converged")
    if len(good) == 1 and len(parts) == 1:
        return good[0]
    first = good[0]
    nan = mpmath.nan if first.params.get("dps") else np.nan

    def pick(attr, fill):
        out = []
        for p in parts:
            out.extend(np.ravel(getattr(p, attr)) if p is not None else [fill])
        return np.array(out, dtype=getattr(first, attr).dtype)

    bounds = {} if first.lower is None else {k: pick(k, nan) for k in ("lower", "upper")}
    return dataclasses.replace(first, lam=np.asarray(lam), density=pick("density", nan), w=pick("w", nan),
                               status=pick("status", Status.NOT_CONVERGED), **bounds)
