"""Claim 1: Gaussian weights, L = 2, widths {2, 100, 2}, hard-tanh: one fixed point at 0 whose basin is Omega.

The papers (Berlyand, Krupchytskyi & Slavin, section 4 and Fig. 1a; Berlyand &
Slavin, section IV and Fig. 2a) draw one network with weights and biases
N(0, 1/n_l) and report "the unique fixed point x = 0 exists (Q = 1) and the
corresponding basin of attraction is the entire Omega".

Measurement
-----------
The papers' N(0, sigma_l), sigma_l = 1/n_l, reads two ways (see
:data:`validation._common.READINGS`): sigma_l a standard deviation (variance
1/n_l^2) or a variance (1/n_l).  For each reading, ``n_networks`` independent
networks ``Network.random([2, 100, 2], "hardtanh", scale=gaussian_scale(reading),
rng=numpy.random.default_rng([SEED, i]))`` (weights and biases; the same
normal numbers for both readings) are iterated from the papers' 41 x 41 grid on
[-1, 1]^2, once with the papers' budget (N0 = 50 maps, tol 1e-5) and once
with a long budget (1000 maps), which separates slow convergence from other
attractors.  The same weights with zero biases are iterated as well, to see
where the fixed point sits without biases.

Criterion
---------
Per reading: a network has "one fixed point whose basin is Omega" when, with
the long budget, every grid start converges to the same fixed point (Q = 1,
no cycle, nothing unresolved).  With the rate r of such networks and its 95 %
Clopper-Pearson interval (:func:`~validation._common.proportion_verdict`):

* ``not reproduced`` when the interval lies below 90 % (:data:`TYPICAL`);
* ``inconclusive`` when it straddles 90 %;
* when it lies at or above 90 %, the claim of uniqueness holds, and it is
  ``reproduced`` when, in addition, the fixed point lies at 0 (|x*| <= 0.05,
  the papers' grid step, i.e. their resolution) and the papers' budget of 50
  maps suffices, each in a share of those networks whose 95 % interval lies at
  or above 90 %; ``reproduced with correction`` (saying which part) when one
  of these shares lies below 90 %, ``inconclusive`` when one straddles it.

The headline status is the standard-deviation reading's
(:data:`~validation._common.HEADLINE_READING`: the reading the text
supports); the variance reading's status is reported beside it.
"""

from __future__ import annotations

import numpy as np

from rmtfp import Network, find_fixed_points, grid

from ._common import (CORRECTED, HEADLINE_READING, INCONCLUSIVE, NOT_REPRODUCED, READINGS, REPRODUCED, TYPICAL, Check,
                      farr, gaussian_scale, per_reading, proportion_verdict, reading_params, sizes)


SEED = 101
#: quick: 40 networks, the fewest for which all-of-n puts the Clopper-Pearson interval above 90 % (n >= 36)
QUICK = dict(n_networks=40, step=0.05, max_iter_papers=50, max_iter_long=1000)
FULL = dict(n_networks=100, step=0.05, max_iter_papers=50, max_iter_long=1000)
#: |x*| below the papers' grid step counts as "at 0" (their figure cannot resolve less)
AT_ZERO = 0.05


def _summary(res) -> dict:
    """Q, cycles, unresolved fraction, the dominant fixed point and its basin share."""
    fr = res.fractions
    out = {"Q": int(res.Q), "n_cycles": int(res.n_cycles), "unresolved": float(fr["unresolved"]),
           "divergent": float(fr["divergent"])}
    if res.Q:
        shares = [fr[f"fixed_point:{k}"] for k in range(res.Q)]
        k = int(np.argmax(shares))
        out.update(basin_share=float(shares[k]), x_star=[float(v) for v in res.fixed_points[k]],
                   x_star_norm=float(np.linalg.norm(res.fixed_points[k])),
                   spectral_radius=float(res.stability[k].spectral_radius),
                   stability=res.stability[k].kind, max_iterations=int(np.max(res.iterations)))
    else:
        out.update(basin_share=0.0, x_star=None, x_star_norm=None, spectral_radius=None, stability=None,
                   max_iterations=int(np.max(res.iterations)))
    return out


def compute(mode: str = "quick") -> dict:
    """Iterate ``n_networks`` Gaussian networks per reading from the grid with the papers' and a long budget."""
    p = sizes(mode, QUICK, FULL)
    starts = grid(step=p["step"])
    readings, examples = {}, {}
    for reading in READINGS:
        papers, long, nobias = [], [], []
        for i in range(p["n_networks"]):
            net = Network.random([2, 100, 2], "hardtanh", weights="normal", scale=gaussian_scale(reading),
                                 rng=np.random.default_rng([SEED, i]))
            net0 = Network(net.weights, [np.zeros_like(b) for b in net.biases], net.activation)
            r_p = find_fixed_points(net, starts, max_iter=p["max_iter_papers"])
            r_l = find_fixed_points(net, starts, max_iter=p["max_iter_long"])
            r_0 = find_fixed_points(net0, starts, max_iter=p["max_iter_long"])
            papers.append(_summary(r_p))
            long.append(_summary(r_l))
            nobias.append(_summary(r_0))
            if i == 0:
                examples[f"_example_{reading}"] = (r_p, r_l)
        readings[reading] = {"scale": repr(gaussian_scale(reading)), "papers_budget": papers, "long_budget": long,
                             "zero_bias": nobias}
    return {
        "params": dict(p, widths=[2, 100, 2], activation="hardtanh", weights="normal", **reading_params(),
                       bias=True, last_activation=True, tol=1e-5, grid_points=int(starts.shape[0]), at_zero=AT_ZERO),
        "seeds": {"network_i": f"numpy.random.default_rng([{SEED}, i]), i = 0..{p['n_networks'] - 1}, "
                               "the same normal numbers for both readings"},
        "readings": readings,
        **examples,
    }


def _unique(s: dict) -> bool:
    return s["Q"] == 1 and s["n_cycles"] == 0 and s["unresolved"] == 0 and s["divergent"] == 0 \
        and s["basin_share"] == 1.0


def _share(k: int, n: int) -> str:
    """proportion_verdict of a share that must be at least 90 %."""
    return proportion_verdict(k, n, TYPICAL)[0]


def judge(data: dict) -> dict:
    """Status, summary, numbers, correction and decision of one reading's measurement."""
    long, papers, nob = data["long_budget"], data["papers_budget"], data["zero_bias"]
    n = len(long)
    uniq = [i for i in range(n) if _unique(long[i])]
    verdict, rate, (lo, hi) = proportion_verdict(len(uniq), n, TYPICAL)
    norms = farr([long[i]["x_star_norm"] for i in uniq]) if uniq else farr([])
    at_zero = int(np.sum(norms <= AT_ZERO))
    fast = int(sum(_unique(papers[i]) for i in uniq))
    nob_zero = int(sum(1 for s in nob if s["Q"] >= 1 and s["x_star_norm"] is not None
                       and s["x_star_norm"] <= 1e-8 and _unique(s)))
    rho = farr([long[i]["spectral_radius"] for i in uniq]) if uniq else farr([])
    numbers = {
        "networks": n,
        "unique_attractor_networks": len(uniq),
        "unique_rate": rate,
        "unique_rate_95ci": [lo, hi],
        "x_star_at_0": at_zero,
        "median_abs_x_star": float(np.median(norms)) if norms.size else None,
        "max_abs_x_star": float(np.max(norms)) if norms.size else None,
        "papers_budget_suffices": fast,
        "zero_bias_fixed_point_at_0": nob_zero,
        "median_spectral_radius": float(np.median(rho)) if rho.size else None,
        "networks_with_2_or_more_fixed_points": int(sum(s["Q"] >= 2 for s in long)),
        "networks_with_cycles": int(sum(s["n_cycles"] > 0 for s in long)),
    }
    context = (f" {numbers['networks_with_2_or_more_fixed_points']} networks reach two or more fixed points and "
               f"{numbers['networks_with_cycles']} a cycle; the single fixed points lie at 0 in {at_zero} of "
               f"{len(uniq)} (median |x*| = {_num(numbers['median_abs_x_star'])}).")
    out = {"numbers": numbers, "correction": None, "decide": None}
    if verdict == "fails":
        return dict(out, status=NOT_REPRODUCED, summary=f"only {len(uniq)} of {n} networks have a single attractor "
                    f"whose basin is the whole grid (95 % interval {lo:.2f}-{hi:.2f}, below {TYPICAL:.0%})." + context)
    if verdict == "undecided":
        return dict(out, status=INCONCLUSIVE, summary=f"{len(uniq)} of {n} networks have a single fixed point "
                    f"attracting the whole grid (95 % interval {lo:.2f}-{hi:.2f}, straddling {TYPICAL:.0%})."
                    + context, decide=f"more networks (the full mode draws {FULL['n_networks']}) to put the "
                                      f"interval of the rate on one side of {TYPICAL:.0%}")
    # each share must hold in at least TYPICAL of the unique networks: (count, correction if it fails, what is open)
    shares = [(at_zero, f"the fixed point is not at 0: |x*| <= {AT_ZERO} in {at_zero} of {len(uniq)} networks "
                        f"(median |x*| = {numbers['median_abs_x_star']:.3f}); the biases move it, and with zero "
                        f"biases it is at 0 in {nob_zero} of {n}",
               f"|x*| <= {AT_ZERO} in {at_zero} of {len(uniq)}"),
              (fast, f"the papers' budget of 50 maps leaves starts unresolved in {len(uniq) - fast} of {len(uniq)} "
                     f"networks (slow spirals, median spectral radius {numbers['median_spectral_radius']:.2f}); "
                     f"1000 maps resolve them",
               f"50 maps suffice in {fast} of {len(uniq)}")]
    verdicts = [(_share(k, len(uniq)), fails, undecided) for k, fails, undecided in shares]
    parts = [fails for v, fails, _ in verdicts if v == "fails"]
    open_parts = [undecided for v, _, undecided in verdicts if v == "undecided"]
    summary = (f"{len(uniq)} of {n} networks have one fixed point attracting the whole grid "
               f"(95 % interval {lo:.2f}-{hi:.2f}); it lies at 0 (|x*| <= {AT_ZERO}) in {at_zero} of them "
               f"(largest |x*| = {_num(numbers['max_abs_x_star'])}) and 50 maps suffice in {fast}.")
    if parts:
        return dict(out, status=CORRECTED, summary=summary, correction="; ".join(parts) + ".")
    if open_parts:
        return dict(out, status=INCONCLUSIVE, summary=summary,
                    decide=f"more networks (the full mode draws {FULL['n_networks']}): " + ", ".join(open_parts)
                           + f" leaves the share's interval straddling {TYPICAL:.0%}")
    return dict(out, status=REPRODUCED, summary=summary)


def check(result: dict) -> Check:
    """Status of the headline (standard-deviation) reading; the variance reading reported beside it."""
    verdicts = {r: judge(result["readings"][r]) for r in READINGS}
    head = verdicts[HEADLINE_READING]
    numbers, summary = per_reading(verdicts)
    correction = head["correction"] and f"Read as a standard deviation: {head['correction']}"
    return Check(head["status"], summary, numbers, correction=correction, decide=head["decide"])


def _num(v) -> str:
    return "n/a" if v is None else f"{v:.3f}"


def plot(result: dict):
    """Basin maps of the first network (papers' and long budget) per reading, and |x*| against the spectral radius."""
    from rmtfp.plotting import plot_basins
    from rmtfp.plotting._common import pyplot

    plt = pyplot()
    figs = []
    examples = [r for r in READINGS if f"_example_{r}" in result]
    if examples:
        fig, axes = plt.subplots(len(examples), 2, figsize=(13, 4.6 * len(examples)), layout="constrained",
                                 squeeze=False)
        for row, r in zip(axes, examples):
            r_p, r_l = result[f"_example_{r}"]
            name = "standard deviation" if r == "sd" else r
            plot_basins(r_p, ax=row[0], legend=True, title=f"network 0, sigma_l read as a {name}, 50 maps")
            plot_basins(r_l, ax=row[1], legend=True, title=f"network 0, sigma_l read as a {name}, 1000 maps")
        fig.suptitle("Gaussian weights, L = 2, widths {2, 100, 2}, hard-tanh", fontsize="medium")
        figs.append(fig)
    fig, ax = plt.subplots(figsize=(5.6, 4.0))
    for m, r in enumerate(READINGS):
        long = result["readings"][r]["long_budget"]
        norms = farr([s["x_star_norm"] for s in long])
        rho = farr([s["spectral_radius"] for s in long])
        uniq = np.array([_unique(s) for s in long])
        ax.scatter(rho[uniq], norms[uniq], s=18, color=f"C{m}", label=f"{r}: one attractor, basin = grid")
        if np.any(~uniq):
            ax.scatter(rho[~uniq], norms[~uniq], s=30, marker="x", color=f"C{m}", label=f"{r}: other networks")
    ax.axhline(AT_ZERO, color="0.5", ls="--", lw=1, label=f"|x*| = {AT_ZERO} (grid step)")
    ax.set_xlabel("spectral radius of D$\\Phi$(x*)")
    ax.set_ylabel("|x*|")
    ax.set_yscale("symlog", linthresh=1e-3)
    ax.set_title("where the fixed point is, per reading of N(0, 1/n_l)", fontsize="medium")
    ax.legend(fontsize="small", frameon=False)
    figs.append(fig)
    return figs
