"""Claim 5: Proposition 1, a unique fixed point for Gaussian weights at any depth and width.

Berlyand & Slavin, section VI, Proposition 1: "Consider an untrained DNN with
random initialization of weight matrices according to light-tailed
distribution (e.g. normal). Then there exists a unique fixed point of Phi(x)
for any DNN's layer width N, any DNN's depth L and a wide class of
sigmoid-type activation functions."

Measurement
-----------
For each reading of the papers' N(0, sigma_l), sigma_l = 1/n_l
(:data:`validation._common.READINGS`: sigma_l a standard deviation, variance
1/n_l^2, i.e. beta = 1 in sigma = n^-beta; or a variance 1/n_l, beta = 1/2),
every depth L, hidden width N and activation (hard-tanh and tanh, both
sigmoid-type), ``n_networks`` networks with widths (2, N, ..., N, 2) and
weights and biases of that law (:func:`rmtfp.ensembles.q_statistics`, root
seed :data:`SEED`; the two readings draw the same normal numbers) are
iterated from a grid on [-1, 1]^2 with a long budget (tol 1e-5, ``max_iter``
maps).  Depth 1 is a single 2 x 2 layer, the same for every N, so it is run
once.  Where iteration does not account for the whole grid (a start attracted
to a cycle or unresolved, or no fixed point reached), Newton's method from
every point of a grid of step :data:`NEWTON_STEP`
(:func:`rmtfp.find_all_fixed_points`, residual 1e-12) counts the fixed points,
stable or not.

A network *has two or more fixed points* when iteration reaches two (each
verified to tol) or Newton finds two: this is what Proposition 1 ("there
exists a unique fixed point") excludes.  An *attracting cycle* (confirmed by
Newton's method on Phi^p(x) - x) refutes the uniqueness of the attractor, a
different finding: it is reported apart and does not decide.  A network
is *undecided* when neither route counts a fixed point (Newton from the grid
finds none, although the bounded activations guarantee one by Brouwer's
theorem).  Limitation: in a network whose grid starts all converge to one
fixed point, an unstable fixed point is not searched for.

Criterion
---------
A proposition about every network is refuted by one verified counterexample.
Per reading:

* ``not reproduced`` when a network has two or more fixed points (their
  frequency per depth and width, with 95 % Clopper-Pearson intervals, is
  reported);
* ``reproduced`` when none has and no network is undecided (the rule of three
  bounds the rate by 3/n per cell);
* ``inconclusive`` when none has but some networks are undecided.

The headline is the standard-deviation reading (the one the text supports,
:data:`~validation._common.HEADLINE_READING`).  The proposition speaks of
every light-tailed law: when it holds under the standard-deviation reading
(beta = 1, a contracting scale) and fails under the variance reading (beta =
1/2 = beta_cr), the status is ``reproduced with correction``: it needs the
contracting scale beta > beta_cr, and the counterexamples at beta = 1/2 are
reported.
"""

from __future__ import annotations

import numpy as np

from rmtfp import find_all_fixed_points, grid
from rmtfp.ensembles import q_statistics

from ._common import (CORRECTED, HEADLINE_READING, INCONCLUSIVE, NOT_REPRODUCED, READINGS, REPRODUCED, Check, farr,
                      gaussian_scale, per_reading, proportion_interval, reading_params, settings, sizes)


SEED = 505
QUICK = dict(depths=(1, 2, 3, 5, 10), widths=(10, 100), activations=("hardtanh", "tanh"), n_networks=16,
             step=0.2, max_iter=500)
FULL = dict(depths=(1, 2, 3, 5, 10, 20), widths=(10, 100, 400), activations=("hardtanh", "tanh"), n_networks=100,
            step=0.05, max_iter=1000)
#: grid step of the Newton count of fixed points (121 starts on [-1, 1]^2)
NEWTON_STEP = 0.2


def _needs_newton(Q: int, n_cycles: int, unresolved: float) -> bool:
    return Q == 0 or n_cycles > 0 or unresolved > 0


def compute(mode: str = "quick") -> dict:
    """Q, cycles, unresolved starts and Newton counts of Gaussian networks over readings, depths, widths."""
    p = sizes(mode, QUICK, FULL)
    starts = grid(step=p["step"])
    newton_starts = grid(step=NEWTON_STEP)
    cells = []
    for reading in READINGS:
        for act in p["activations"]:
            for j, N in enumerate(p["widths"]):
                depths = [L for L in p["depths"] if L > 1 or j == 0]
                qs = q_statistics(depths, width=N, activation=act, weights="normal", n_networks=p["n_networks"],
                                  rng=SEED, workers=settings.workers, n_bootstrap=0, progress=False, starts=starts,
                                  max_iter=p["max_iter"], scale=gaussian_scale(reading))
                for d, L in enumerate(qs.depths):
                    unres = qs.status_fractions[d, :, 2]
                    newton = []
                    for i in range(qs.n_networks):
                        if _needs_newton(int(qs.Q[d, i]), int(qs.n_cycles[d, i]), float(unres[i])):
                            newton.append(int(find_all_fixed_points(qs.network(int(L), i), newton_starts).Q))
                        else:
                            newton.append(-1)
                    cells.append({
                        "reading": reading, "activation": act, "width": int(N) if L > 1 else None, "depth": int(L),
                        "Q": qs.Q[d].tolist(), "n_cycles": qs.n_cycles[d].tolist(),
                        "max_period": qs.max_period[d].tolist(), "unresolved": unres.tolist(),
                        "n_stable": qs.n_stable[d].tolist(), "newton_fixed_points": newton,
                    })
    return {
        "params": dict(p, weights="normal", **reading_params(), bias=True, last_activation=True, tol=1e-5,
                       grid_points=int(starts.shape[0]), newton_step=NEWTON_STEP,
                       newton_starts=int(newton_starts.shape[0]), newton_tol=1e-12),
        "seeds": {"root": SEED, "network": "SeedSequence(root, spawn_key=(1, L, i)) per activation and width; the "
                                           "same normal numbers for both readings"},
        "cells": cells,
    }


def _classify(cell: dict) -> dict:
    """Counts of one cell: two or more fixed points, attracting cycles, undecided."""
    Q, cyc, unres = np.asarray(cell["Q"]), np.asarray(cell["n_cycles"]), farr(cell["unresolved"])
    newton = np.asarray(cell["newton_fixed_points"])
    two = (Q >= 2) | (newton >= 2)
    undecided = ~two & (newton == 0)
    return {"two_or_more_fixed_points": int(two.sum()), "attracting_cycles": int((cyc > 0).sum()),
            "cycles_with_one_fixed_point": int(((cyc > 0) & ~two & (newton == 1)).sum()),
            "undecided": int(undecided.sum()), "unresolved_starts": int((unres > 0).sum()),
            "newton_runs": int((newton >= 0).sum())}


def judge(cells: list) -> dict:
    """Status, summary and numbers of one reading."""
    rows = []
    tot = {"networks": 0, "two_or_more_fixed_points": 0, "attracting_cycles": 0, "cycles_with_one_fixed_point": 0,
           "undecided": 0, "newton_runs": 0}
    for cell in cells:
        c = _classify(cell)
        n = len(cell["Q"])
        lo, hi = proportion_interval(c["two_or_more_fixed_points"], n)
        clo, chi = proportion_interval(c["attracting_cycles"], n)
        rows.append({"activation": cell["activation"], "depth": cell["depth"], "width": cell["width"],
                     "networks": n, "two_or_more_fixed_points": c["two_or_more_fixed_points"],
                     "rate": c["two_or_more_fixed_points"] / n, "rate_95ci": [lo, hi],
                     "attracting_cycles": c["attracting_cycles"], "cycle_rate_95ci": [clo, chi],
                     "undecided": c["undecided"]})
        tot["networks"] += n
        for k in tot:
            if k != "networks":
                tot[k] += c[k]
    worst = max(rows, key=lambda r: (r["rate"], r["attracting_cycles"]))
    where = f"L = {worst['depth']}, N = {worst['width']}" if worst["depth"] > 1 else "L = 1 (one 2 x 2 layer)"
    deep = [r for r in rows if r["depth"] >= 2]
    deep_two, deep_n = sum(r["two_or_more_fixed_points"] for r in deep), sum(r["networks"] for r in deep)
    numbers = dict(tot, counterexample_rate=tot["two_or_more_fixed_points"] / tot["networks"],
                   two_or_more_fixed_points_at_depth_1=tot["two_or_more_fixed_points"] - deep_two,
                   two_or_more_fixed_points_at_depth_2_up=deep_two, networks_at_depth_2_up=deep_n,
                   highest_rate_cell=f"{worst['activation']}, {where}: "
                                     f"{worst['two_or_more_fixed_points']}/{worst['networks']} with >= 2 fixed "
                                     f"points, {worst['attracting_cycles']} with cycles",
                   per_cell=rows)
    n, two, cyc = tot["networks"], tot["two_or_more_fixed_points"], tot["attracting_cycles"]
    apart = (f"apart from that, {cyc} have an attracting cycle (uniqueness of the attractor fails there; "
             f"{tot['cycles_with_one_fixed_point']} of them have a single fixed point by Newton's count)")
    if two:
        return {"status": NOT_REPRODUCED, "numbers": numbers,
                "summary": f"{two} of {n} networks have two or more fixed points, {two - deep_two} of them at L = 1 "
                           f"(one 2 x 2 layer) and {deep_two} of {deep_n} at L >= 2 (highest "
                           f"{worst['two_or_more_fixed_points']}/{worst['networks']} at {worst['activation']}, "
                           f"{where}); {apart}."}
    if tot["undecided"]:
        return {"status": INCONCLUSIVE, "numbers": numbers,
                "summary": f"no network of {n} has two or more fixed points, but {tot['undecided']} are undecided "
                           f"(Newton from the grid finds no fixed point); {apart}."}
    return {"status": REPRODUCED, "numbers": numbers,
            "summary": f"none of {n} networks has two or more fixed points (rate below 3/n per cell); {apart}."}


def check(result: dict) -> Check:
    """Per reading: not reproduced on two or more fixed points; headline the standard-deviation reading."""
    v = {r: judge([c for c in result["cells"] if c["reading"] == r]) for r in READINGS}
    numbers, summary = per_reading(v)
    head, var = v[HEADLINE_READING], v["variance"]
    if head["status"] == REPRODUCED and var["status"] == NOT_REPRODUCED:
        vn = var["numbers"]
        return Check(CORRECTED, summary, numbers,
                     correction=f"Proposition 1 holds at the papers' scale read as a standard deviation (sigma_l = "
                                f"1/n_l, beta = 1 > beta_cr = 1/2, a contracting scale), not for any light-tailed "
                                f"law: at variance 1/n_l (beta = 1/2) {vn['two_or_more_fixed_points']} of "
                                f"{vn['networks']} networks have two or more fixed points (and "
                                f"{vn['attracting_cycles']} an attracting cycle); it needs the contracting scale "
                                f"beta > beta_cr")
    if head["status"] == INCONCLUSIVE:
        return Check(INCONCLUSIVE, summary, numbers,
                     decide="a Newton count from a finer grid for the undecided networks of the standard-deviation "
                            "reading")
    return Check(head["status"], summary, numbers)


def plot(result: dict):
    """Share of networks with two or more fixed points and with cycles against depth, per reading."""
    from rmtfp.plotting._common import pyplot

    plt = pyplot()
    fig, axes = plt.subplots(1, len(READINGS), figsize=(6.0 * len(READINGS), 4.2), sharey=True, layout="constrained")
    for ax, reading in zip(np.atleast_1d(axes), READINGS):
        cells_r = [c for c in result["cells"] if c["reading"] == reading]
        keys = sorted({(c["activation"], c["width"]) for c in cells_r if c["depth"] > 1}, key=lambda k: (k[0], k[1]))
        ones = [c for c in cells_r if c["depth"] == 1]
        for m, key in enumerate(keys):
            cells = sorted([c for c in cells_r if (c["activation"], c["width"]) == key]
                           + [c for c in ones if c["activation"] == key[0]], key=lambda c: c["depth"])
            L = np.array([c["depth"] for c in cells]) * (1 + 0.02 * m)
            for what, ls, mk in (("two_or_more_fixed_points", "-", "o"), ("attracting_cycles", ":", "x")):
                rate, lo, hi = [], [], []
                for c in cells:
                    k, n = _classify(c)[what], len(c["Q"])
                    a, b = proportion_interval(k, n)
                    rate.append(k / n)
                    lo.append(k / n - a)
                    hi.append(b - k / n)
                ax.errorbar(L, rate, yerr=[lo, hi], marker=mk, ms=4, capsize=2, ls=ls, color=f"C{m}",
                            label=f"{key[0]}, N = {key[1]}: " + ("≥ 2 fixed points" if mk == "o" else "cycles"))
        ax.set_xscale("log")
        ax.set_xlabel("depth L (L = 1: one 2 x 2 layer)")
        ax.set_ylim(-0.02, 1.0)
        ax.set_title(f"N(0, 1/n_l) read as a {'standard deviation' if reading == 'sd' else reading}",
                     fontsize="medium")
        ax.legend(fontsize="x-small", frameon=False)
    np.atleast_1d(axes)[0].set_ylabel("fraction of networks")
    fig.suptitle("Proposition 1 under test: Gaussian weights", fontsize="medium")
    return fig
