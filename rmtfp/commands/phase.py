"""``rmtfp phase``: the order-to-chaos line chi_1 = 1, depth scales and the phase diagram.

The critical line sigma_w2(sigma_b2) on which chi_1 = sigma_w^2 E[phi'(h)^2] = 1 separates the ordered
(chi_1 < 1) and chaotic (chi_1 > 1) phases; at each point the fixed point q*, and with --sigma-w2 the depth
scales xi_q, xi_c and the correlation fixed point c* (Schoenholz et al. 2017).

    rmtfp phase --activation tanh
    rmtfp phase --activation erf --sigma-b2 0:0.5:11 --json
    rmtfp phase --activation tanh --sigma-w2 1,2 --sigma-b2 0,0.05
    rmtfp phase --activation tanh --plot phase.png
"""

from __future__ import annotations

import math

import numpy as np

from . import parse_range
from ._options import add_command, write_output

__all__ = ["register", "run"]


def register(subparsers) -> None:
    p = add_command(subparsers, "phase", run, doc=__doc__,
                    help="critical line chi_1 = 1, depth scales xi_q, xi_c and c* (mean field)", activation=True,
                    output=dict(plot="phase.png", csv="sigma_b2,sigma_w2,q_star,residual of the critical line"))
    p.add_argument("--sigma-b2", type=lambda t: parse_range(t, "--sigma-b2"), default=None,
                   help="bias variances of the critical line: START:STOP:NUM or a comma list "
                        "(default 0:0.5:11)")
    p.add_argument("--sigma-w2", type=lambda t: parse_range(t, "--sigma-w2"), default=None,
                   help="weight variances: depth scales at every (sigma_w2, sigma_b2), and the y axis of --plot "
                        "(default for --plot 0.5:4:36)")


def _check_grid(name, grid):
    if np.any(~np.isfinite(grid)) or np.any(grid < 0):
        raise ValueError(f"{name} must hold finite numbers >= 0, got {grid.tolist()}")


def _diagram(args, sb):
    """The phase diagram of --plot: the grid of --sigma-w2 and --sigma-b2 where each has two values or more."""
    from ..criticality import phase_diagram

    sw = args.sigma_w2 if args.sigma_w2 is not None and len(args.sigma_w2) > 1 else np.linspace(0.5, 4, 36)
    return phase_diagram(args.activation, sb if len(sb) > 1 else np.linspace(0, 0.5, 11), sw)


def run(args) -> int:
    from ..criticality import critical_line, depth_scales
    from ..errors import ConvergenceError

    sb = np.linspace(0.0, 0.5, 11) if args.sigma_b2 is None else args.sigma_b2
    _check_grid("--sigma-b2", sb)
    if args.sigma_w2 is not None:
        _check_grid("--sigma-w2", args.sigma_w2)
        if np.any(args.sigma_w2 == 0):
            raise ValueError("--sigma-w2 must be > 0")
    line = critical_line(args.activation, sb)
    scales = []
    if args.sigma_w2 is not None:
        for w in args.sigma_w2:
            for b in sb:
                try:
                    scales.append(depth_scales(args.activation, float(w), float(b)).to_dict())
                except (ValueError, ConvergenceError) as exc:
                    scales.append({"params": {"sigma_w2": float(w), "sigma_b2": float(b)}, "error": str(exc)})
    if write_output(args, figure=lambda plotting: plotting.plot_phase_diagram(_diagram(args, sb)),
                    figure_name="the phase diagram",
                    json={"critical_line": line.to_dict(), "depth_scales": scales},
                    csv=(["sigma_b2", "sigma_w2", "q_star", "residual"],
                         ([float(b), float(w), float(q), float(r)] for b, w, q, r in
                          zip(line.sigma_b2, line.sigma_w2, line.q_star, line.residual)))):
        return 0
    print(f"# critical line chi_1 = 1 of {line.activation}: sigma_w2 above it is chaotic, below ordered")
    print(f"{'sigma_b2':>12} {'sigma_w2':>20} {'q*':>20} {'|chi_1 - 1|':>12}")
    for b, w, q, r in zip(line.sigma_b2, line.sigma_w2, line.q_star, line.residual):
        print(f"{b:12.6g} {w:20.15g} {q:20.15g} {r:12.2e}")
    if scales:
        print(f"\n{'sigma_w2':>10} {'sigma_b2':>10} {'phase':>9} {'chi_1':>12} {'q*':>12} {'c*':>12} "
              f"{'xi_q':>10} {'xi_c':>10}")
        for s in scales:
            p = s["params"]
            if "error" in s:
                print(f"{p['sigma_w2']:10.4g} {p['sigma_b2']:10.4g}  {s['error']}")
                continue
            fmt = (lambda v: f"{float(v):10.4g}" if not isinstance(v, str) else f"{v:>10}")  # noqa: E731
            print(f"{p['sigma_w2']:10.4g} {p['sigma_b2']:10.4g} {s['phase']:>9} {s['chi_1']:12.8g} "
                  f"{s['q_star']:12.6g} {s['c_star']:12.8g} {fmt(s['xi_q'])} {fmt(s['xi_c'])}")
    return 0 if math.isfinite(float(np.max(line.residual))) else 3
