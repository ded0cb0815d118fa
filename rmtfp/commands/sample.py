"""``rmtfp sample``: eigenvalues of J J^T for finite-width random networks.

Draw independent networks of depth L and width N, compute the eigenvalues of J J^T (J the input-output
Jacobian, inputs prepared so that the pre-activations have variance q*, or --q), report moments, exact zeros and
concentration statistics, and with --compare the KS distance and moment errors against the infinite-width law,
each with its expected finite-width scale.

    rmtfp sample --activation erf --depth 2 --width 500 --samples 100 --sigma-w2 2 --seed 0 --compare
    rmtfp sample --activation relu --depth 2 --width 1000 --samples 1000 --sigma-w2 2 --plot relu.png --log
    rmtfp sample --activation tanh --depth 5 --width 200 --samples 20 --weights cauchy --json
"""

from __future__ import annotations

import json
import math

import numpy as np

from . import int_at_least, to_jsonable
from ._options import add_command, float_list, parse_floats, resolve_seed, show_progress, write_output, wrote

__all__ = ["register", "run"]


def register(subparsers) -> None:
    p = add_command(subparsers, "sample", run, doc=__doc__,
                    help="eigenvalues of J J^T for finite-width random networks, compared with the theory",
                    activation=True, weights=dict(extra_help=" (variance or scale sigma_w2/N)"), seed=True,
                    workers=dict(kind="threads"), output=dict(plot="sample.png", csv="k,sampled,stderr,theory,"
                                                              "rel_err,scale,ratio: the moments m_1..m_4 (theory "
                                                              "columns with --compare)"))
    net = p.add_argument_group("networks")
    net.add_argument("--depth", type=int_at_least("--depth"), required=True, help="number of layers L")
    net.add_argument("--width", type=int_at_least("--width"), required=True, help="width N of every layer")
    net.add_argument("--samples", type=int_at_least("--samples"), required=True, help="number of networks")
    net.add_argument("--sigma-w2", type=float, default=1.0, help="sigma_w^2 (default: 1)")
    net.add_argument("--sigma-b2", type=float, default=0.0, help="sigma_b^2 (default: 0)")
    net.add_argument("--q", type=parse_floats("--q"), default=None,
                     help="variance of the first pre-activations (default: q*), or one value per layer")
    comp = p.add_argument_group("computation")
    comp.add_argument("--dtype", default="float64", choices=("float64", "float32"))
    comp.add_argument("--method", default="svd", choices=("svd", "eigh"),
                      help="singular values of J (default, accurate for tiny eigenvalues) or eigh of J J^T")
    comp.add_argument("--batch", type=int_at_least("--batch"), default=None,
                      help="networks held in memory at once (default: as many as fit in 256 MiB)")
    out = p.add_argument_group("output")
    out.add_argument("--compare", action="store_true", help="compare with the infinite-width theory")
    out.add_argument("--thresholds", type=float_list("--thresholds"), default=[1e-6, 1e-3, 1e-1],
                     help="concentration thresholds (default: 1e-6,1e-3,1e-1)")
    out.add_argument("--log", action="store_true", help="log10(lambda) axis in the plot")
    out.add_argument("--save", help="write eigenvalues, zeros and parameters to this .npz file")


def _fmt_q(result) -> str:
    if result.q is None:
        return "q: none (weights without variance; |x0|^2 = N)"
    qs = result.q
    if result.q_source == "q_star":
        return f"q = q* = {qs[0]:.6g}"
    if len(set(qs)) == 1:
        return f"q = {qs[0]:.6g} ({result.q_source})"
    return f"q per layer = [{', '.join(f'{v:.4g}' for v in qs)}] ({result.q_source})"


def run(args) -> int:
    from ..sampling import compare_spectrum, sample_jacobian_spectrum

    if args.compare and args.weights == "cauchy":
        raise ValueError("--compare needs weights with a finite variance: Cauchy weights have no "
                         "infinite-width law (the concentration statistics are printed without --compare)")
    if args.compare and args.samples < 2:
        raise ValueError(f"--compare needs --samples >= 2 (the spread between samples is part of the finite-width "
                         f"error scale), got {args.samples}")
    seed = resolve_seed(args)
    result = sample_jacobian_spectrum(
        args.activation, args.depth, args.width, args.samples, weights=args.weights, sigma_w2=args.sigma_w2,
        sigma_b2=args.sigma_b2, q=args.q, rng=seed, dtype=np.dtype(args.dtype), batch=args.batch,
        progress=show_progress(args), method=args.method, workers=args.workers)
    conc = result.concentration(args.thresholds)
    comparison = compare_spectrum(result) if args.compare else None
    if args.save:
        with open(args.save, "wb") as f:  # the name as given (numpy would append ".npz")
            np.savez_compressed(f, eigenvalues=result.eigenvalues, n_zeros=result.n_zeros,
                                preactivation_q=result.preactivation_q,
                                params=json.dumps(to_jsonable(result.params)))
        wrote(args, args.save, "eigenvalues, zeros and parameters")
    payload = {"seed": seed, "sample": result.to_dict(eigenvalues=False), "concentration": conc.to_dict()}
    if comparison is not None:
        payload["comparison"] = comparison.to_dict()
    m, se = result.moments(4)
    c = comparison
    rows = ([k + 1, float(m[k]), float(se[k])] + ([float(c.moments[k]), float(c.moments_rel_err[k]),
                                                   float(c.moments_rel_scale[k]), float(c.moments_ratio[k])]
                                                  if c is not None else [None] * 4)
            for k in range(4))
    if write_output(args, figure=lambda plotting: plotting.plot_spectrum_comparison(result, comparison,
                                                                                     log_lambda=args.log),
                    json=payload, csv=(["k", "sampled", "stderr", "theory", "rel_err", "scale", "ratio"], rows)):
        return 0

    w = result.weights["name"]
    print(f"J J^T of {result.n_samples} networks: {result.activation}, L = {result.depth}, N = {result.width}, "
          f"weights {w} (sigma_w2 = {result.sigma_w2:g}, sigma_b2 = {result.sigma_b2:g}), seed {seed}")
    print(f"  {_fmt_q(result)}; measured per layer: "
          + ", ".join(f"{v:.4g}" for v in result.preactivation_q.mean(axis=0)))
    print(f"  exact zeros: {result.zero_fraction:.4f}")
    print("  moments m_1..m_4: " + ", ".join(f"{a:.5g} +- {b:.2g}" for a, b in zip(m, se)))
    print("  concentration: " + ", ".join(f"P(lambda <= {t:g}) = {f:.4f}" for t, f in
                                         zip(conc.thresholds, conc.fraction_below))
          + f"; median {conc.median:.4g}; largest (median over samples) {conc.lambda_max_median:.4g}")
    if comparison is not None:
        print(f"theory (N -> inf): lambda_max = {c.lambda_max:.6g}, atom = {c.atom:.6g}")
        print(f"  KS = {c.ks:.4g}   finite-width scale {c.ks_scale:.3g}   ratio {c.ks_ratio:.2f}")
        if c.atom > 0 or c.atom_sampled > 0:
            print(f"  atom: sampled {c.atom_sampled:.4f} +- {c.atom_stderr:.2g}, expected at N = {result.width}: "
                  f"{c.atom_expected:.4f}, theory {c.atom:.4f}")
        print("   k      theory     sampled   rel.err     scale   ratio")
        for j in range(len(c.moments)):
            print(f"  {j + 1:2d} {c.moments[j]:11.5g} {c.moments_sampled[j]:11.5g} {c.moments_rel_err[j]:9.2e} "
                  f"{c.moments_rel_scale[j]:9.2e} {c.moments_ratio[j]:7.2f}")
        verdict = "agrees with the theory" if c.agrees() else "DISAGREES with the theory"
        print(f"  {verdict} (every ratio <= 3 means agreement within the finite-width error)")
        if result.n_samples < 5:
            print(f"  note: {result.n_samples} samples give a rough estimate of the sample-to-sample error; "
                  "use --samples 5 or more for a verdict")
        if math.isfinite(c.cdf.unresolved_mass) and c.cdf.unresolved_mass > 1e-3:
            print(f"  note: {c.cdf.unresolved_mass:.2g} of the theory's mass lies below lambda = "
                  f"{c.cdf.lam[0]:.2g} (extrapolated as a power law)")
    return 0
