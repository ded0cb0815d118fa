"""Claim 5: Proposition 1, a unique fixed point for Gaussian weights at any depth and width.

Berlyand & Slavin, section VI, Proposition 1: "Consider an untrained DNN with
random initialization of weight matrices according to light-tailed
distribution (e.g. normal). Then there exists a unique fixed point of Phi(x)
for any DNN's layer width N, any DNN's depth L and a wide class of
sigmoid-type activation functions."

Measurement
-----------
For every depth L, hidden width N and activation (hard-tanh and tanh, both
sigmoid-type), ``n_networks`` networks with widths (2, N, ..., N, 2) and
weights and biases N(0, 1/n_l) (:func:`rmtfp.ensembles.q_statistics`, root
seed :data:`SEED`) are iterated from a grid on [-1, 1]^2 with a long budget
(tol 1e-5, ``max_iter`` maps).  Depth 1 is a single 2 x 2 layer, the same
for every N, so it is run once.  A network is a *counterexample* when the
grid reaches two or more fixed points or a cycle (both are attractors:
iteration reaches them from open sets of starts, and cycles are confirmed by
Newton's method on Phi^p(x) - x).  A network whose starts are all attracted
to one fixed point, except some that stay unresolved within the budget, is
*undecided* (slow convergence or a non-periodic attractor).

Criterion
---------
A proposition about every network is refuted by one verified counterexample:

* ``not reproduced`` when any counterexample is found (their frequency per
  depth and width, with 95 % Clopper-Pearson intervals, is reported);
* ``reproduced`` when no counterexample and no undecided network is found
  (the rule of three bounds the counterexample rate by 3/n per cell);
* ``inconclusive`` when no counterexample is found but some networks stay
  undecided.
"""

from __future__ import annotations

import numpy as np

from rmtfp import grid
from rmtfp.ensembles import q_statistics

from ._common import INCONCLUSIVE, NOT_REPRODUCED, REPRODUCED, Check, farr, proportion_interval, settings, sizes

NUMBER = 5
SLUG = "proposition1"
TITLE = "Proposition 1: unique fixed point for Gaussian weights at any depth and width"
SOURCE = "Berlyand & Slavin, sec. VI, Proposition 1; Berlyand, Krupchytskyi & Slavin, sec. 7"
CLAIM = ("For Gaussian (light-tailed) weights, Phi has a unique fixed point for any width N, any depth L and a "
         "wide class of sigmoid-type activations.")
CRITERION = ("Counterexample = a network whose grid starts reach >= 2 fixed points or a (Newton-verified) cycle. "
             "Not reproduced when any counterexample is found (frequencies reported); reproduced when none is found "
             "and no network is left undecided (starts unresolved within the budget); inconclusive otherwise.")

SEED = 505
QUICK = dict(depths=(1, 2, 3, 5, 10), widths=(10, 100), activations=("hardtanh", "tanh"), n_networks=16,
             step=0.2, max_iter=500)
FULL = dict(depths=(1, 2, 3, 5, 10, 20), widths=(10, 100, 400), activations=("hardtanh", "tanh"), n_networks=100,
            step=0.05, max_iter=1000)


def compute(mode: str = "quick") -> dict:
    """Q, cycles and unresolved starts of Gaussian networks over depths, widths and activations."""
    p = sizes(mode, QUICK, FULL)
    starts = grid(step=p["step"])
    cells = []
    for act in p["activations"]:
        for j, N in enumerate(p["widths"]):
            depths = [L for L in p["depths"] if L > 1 or j == 0]
            qs = q_statistics(depths, width=N, activation=act, weights="normal", n_networks=p["n_networks"],
                              rng=SEED, workers=settings.workers, n_bootstrap=0, progress=False, starts=starts,
                              max_iter=p["max_iter"])
            for d, L in enumerate(qs.depths):
                cells.append({
                    "activation": act, "width": int(N) if L > 1 else None, "depth": int(L),
                    "Q": qs.Q[d].tolist(), "n_cycles": qs.n_cycles[d].tolist(),
                    "max_period": qs.max_period[d].tolist(),
                    "unresolved": qs.status_fractions[d, :, 2].tolist(),
                    "n_stable": qs.n_stable[d].tolist(),
                })
    return {
        "params": dict(p, weights="normal", scale="fan_in (variance 1/n_l)", bias=True, last_activation=True,
                       tol=1e-5, grid_points=int(starts.shape[0])),
        "seeds": {"root": SEED, "network": "SeedSequence(root, spawn_key=(1, L, i)) per activation and width"},
        "cells": cells,
    }


def _classify(cell: dict) -> tuple:
    """(counterexamples, undecided, unique) counts of one cell."""
    Q, cyc, unres = np.asarray(cell["Q"]), np.asarray(cell["n_cycles"]), farr(cell["unresolved"])
    counter = (Q >= 2) | (cyc > 0)
    undecided = ~counter & ((unres > 0) | (Q == 0))
    return int(counter.sum()), int(undecided.sum()), int((~counter & ~undecided).sum())


def check(result: dict) -> Check:
    """Not reproduced on any counterexample; reproduced when every network has one attractor."""
    rows, n_counter, n_undec, n_total = [], 0, 0, 0
    two_fp = cyc_nets = 0
    for cell in result["cells"]:
        c, u, ok = _classify(cell)
        n = len(cell["Q"])
        lo, hi = proportion_interval(c, n)
        rows.append({"activation": cell["activation"], "depth": cell["depth"], "width": cell["width"],
                     "networks": n, "counterexamples": c, "rate": c / n, "rate_95ci": [lo, hi], "undecided": u})
        n_counter += c
        n_undec += u
        n_total += n
        two_fp += int(np.sum(np.asarray(cell["Q"]) >= 2))
        cyc_nets += int(np.sum(np.asarray(cell["n_cycles"]) > 0))
    worst = max(rows, key=lambda r: r["rate"])
    numbers = {"networks": n_total, "counterexamples": n_counter, "counterexample_rate": n_counter / n_total,
               "with_2_or_more_fixed_points": two_fp, "with_cycles": cyc_nets, "undecided": n_undec,
               "highest_rate_cell": f"{worst['activation']}, L = {worst['depth']}, N = {worst['width']}: "
                                    f"{worst['counterexamples']}/{worst['networks']}",
               "per_cell": rows}
    if n_counter:
        return Check(NOT_REPRODUCED, f"{n_counter} of {n_total} Gaussian networks have more than one attractor "
                     f"({two_fp} with two or more fixed points, {cyc_nets} with attracting cycles); highest rate "
                     f"{worst['counterexamples']}/{worst['networks']} at {worst['activation']}, L = {worst['depth']}, "
                     f"N = {worst['width']}.", numbers)
    if n_undec:
        return Check(INCONCLUSIVE, f"No counterexample among {n_total} networks, but {n_undec} keep unresolved "
                     "starts.", numbers, decide="a longer iteration budget (or more networks) for the undecided "
                                                "networks")
    return Check(REPRODUCED, f"All {n_total} networks have a single attracting fixed point (rate of "
                 f"counterexamples below 3/n per cell).", numbers)


def plot(result: dict):
    """Counterexample rate against depth, one line per (activation, width)."""
    from rmtfp.plotting._common import pyplot

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    keys = sorted({(c["activation"], c["width"]) for c in result["cells"] if c["depth"] > 1},
                  key=lambda k: (k[0], k[1]))
    ones = [c for c in result["cells"] if c["depth"] == 1]
    for m, key in enumerate(keys):
        cells = sorted([c for c in result["cells"] if (c["activation"], c["width"]) == key]
                       + [c for c in ones if c["activation"] == key[0]], key=lambda c: c["depth"])
        L = [c["depth"] for c in cells]
        rate, lo, hi = [], [], []
        for c in cells:
            k, _, _ = _classify(c)
            n = len(c["Q"])
            a, b = proportion_interval(k, n)
            rate.append(k / n)
            lo.append(k / n - a)
            hi.append(b - k / n)
        ax.errorbar(np.array(L) * (1 + 0.02 * m), rate, yerr=[lo, hi], marker="o", ms=4, capsize=2,
                    label=f"{key[0]}, N = {key[1]}")
    ax.set_xscale("log")
    ax.set_xlabel("depth L (L = 1: one 2 x 2 layer)")
    ax.set_ylabel("fraction of networks with\n>= 2 fixed points or a cycle")
    ax.set_ylim(-0.02, 1.0)
    ax.set_title("Proposition 1 under test: Gaussian weights N(0, 1/n_l)", fontsize="medium")
    ax.legend(fontsize="small", frameon=False)
    return fig
