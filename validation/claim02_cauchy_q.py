"""Claim 2: Cauchy weights give Q = 2, 3, 5 fixed points at L = 2, 3, 5 and Q = 1 at L = 20.

Berlyand, Krupchytskyi & Slavin, section 4, Fig. 1b-d; Berlyand & Slavin,
section IV, Fig. 2b-d: with weights and biases Cauchy(0, 1/n_l), widths
{2, 100, ..., 100, 2} and hard-tanh, one network per depth shows Q = 2
(L = 2), Q = 3 (L = 3), Q = 5 (L = 5), and "the result for L = 20 is the same
as that for L = 2 and a normal distribution -- the only FP, Q = 1".

The papers show single realisations.  The measurement is the distribution of
Q over the networks of the shared Cauchy ensemble (:mod:`validation._cauchy`),
iterated from a grid on [-1, 1]^2 with the papers' criterion (tol 1e-5, 50
maps); Q counts the distinct fixed points reached (starts attracted to
cycles or unresolved are classified, not counted as fixed points).

Criterion
---------
At each depth the stated Q is *typical* when it lies inside the 95 %
bootstrap interval of the mode of Q (:func:`rmtfp.ensembles.q_statistics`).

* ``reproduced`` when the stated Q is typical at every depth and every mode
  interval holds at most two values (the data pin the mode down);
* ``not reproduced`` when the stated Q lies outside the mode interval at some
  depth (its measured frequency is reported);
* ``inconclusive`` otherwise (typical everywhere, but an interval too wide
  to say so with confidence).
"""

from __future__ import annotations

import numpy as np

from . import _cauchy
from ._common import INCONCLUSIVE, NOT_REPRODUCED, REPRODUCED, Check, proportion_interval

NUMBER = 2
SLUG = "cauchy_q"
TITLE = "Cauchy weights: Q = 2, 3, 5 at L = 2, 3, 5 and Q = 1 at L = 20"
SOURCE = "Berlyand, Krupchytskyi & Slavin, sec. 4, Fig. 1b-d; Berlyand & Slavin, sec. IV, Fig. 2b-d"
CLAIM = ("With Cauchy(0, 1/n_l) weights and biases, widths {2, 100, ..., 100, 2} and hard-tanh, the number of fixed "
         "points is Q = 2, 3, 5 at L = 2, 3, 5, and Q = 1 at L = 20.")
CRITERION = ("The stated Q is typical at a depth when it lies in the 95 % bootstrap interval of the mode of Q over the "
             "ensemble. Reproduced: typical at every depth with mode intervals of at most two values; not reproduced: "
             "atypical at some depth; inconclusive: typical but an interval wider than two values.")

STATED = {2: 2, 3: 3, 5: 5, 20: 1}


def compute(mode: str = "quick") -> dict:
    """The distribution of Q at L = 2, 3, 5, 20 over the Cauchy ensemble."""
    ens = _cauchy.q_ensemble(sorted(STATED), mode)
    per_depth = []
    for L in sorted(STATED):
        e = ens[L]
        per_depth.append({"depth": L, "stated_Q": STATED[L], "Q": e["Q"].tolist(),
                          "n_cycles": e["n_cycles"].tolist(), "unresolved": e["status_fractions"][:, 2].tolist(),
                          "mode": e["mode"], "mode_interval": e["mode_interval"], "mean": e["mean"],
                          "mean_stderr": e["mean_stderr"], "cycle_fraction": e["cycle_fraction"],
                          "unresolved_fraction": e["unresolved_fraction"]})
    p = _cauchy.params(mode)
    return {"params": dict(p, depths=sorted(STATED), stated=STATED),
            "seeds": {"root": _cauchy.SEED, "network": p["network_stream"]},
            "per_depth": per_depth}


def check(result: dict) -> Check:
    """Stated Q against the mode interval at every depth."""
    rows, atypical, wide = [], [], []
    for d in result["per_depth"]:
        Q = np.asarray(d["Q"])
        n = Q.size
        lo, hi = d["mode_interval"]
        stated = int(d["stated_Q"])
        k = int(np.sum(Q == stated))
        f_lo, f_hi = proportion_interval(k, n)
        typical = lo <= stated <= hi
        rows.append({"depth": d["depth"], "stated_Q": stated, "mode": d["mode"], "mode_interval": [lo, hi],
                     "frequency_of_stated_Q": k / n, "frequency_95ci": [f_lo, f_hi], "typical": typical,
                     "mean_Q": d["mean"], "networks_with_cycles": d["cycle_fraction"],
                     "distribution": {int(q): float(np.mean(Q == q)) for q in np.unique(Q)}})
        if not typical:
            atypical.append(rows[-1])
        if hi - lo >= 2:
            wide.append(rows[-1])
    numbers = {"per_depth": rows,
               "modes": {r["depth"]: r["mode"] for r in rows},
               "stated_frequency": {r["depth"]: r["frequency_of_stated_Q"] for r in rows}}
    desc = "; ".join(f"L = {r['depth']}: mode {r['mode']} [{r['mode_interval'][0]}, {r['mode_interval'][1]}], "
                     f"P(Q = {r['stated_Q']}) = {r['frequency_of_stated_Q']:.2f}" for r in rows)
    if atypical:
        bad = ", ".join(f"Q = {r['stated_Q']} at L = {r['depth']}" for r in atypical)
        return Check(NOT_REPRODUCED, f"Atypical: {bad}. {desc}.", numbers)
    if wide:
        return Check(INCONCLUSIVE, f"The stated values lie in the mode intervals, but some intervals are wide. {desc}.",
                     numbers, decide="more networks per depth (the full mode uses 100) to narrow the mode intervals")
    return Check(REPRODUCED, f"The stated Q is the typical value at every depth. {desc}.", numbers)


def plot(result: dict):
    """Distribution of Q at each depth, the stated value marked."""
    from rmtfp.plotting._common import pyplot

    plt = pyplot()
    rows = result["per_depth"]
    fig, axes = plt.subplots(1, len(rows), figsize=(3.0 * len(rows), 3.2), sharey=True, layout="constrained")
    for ax, d in zip(np.atleast_1d(axes), rows):
        Q = np.asarray(d["Q"])
        qs = np.arange(0, max(int(Q.max()), d["stated_Q"]) + 2)
        freq = [np.mean(Q == q) for q in qs]
        ax.bar(qs, freq, color="C0", alpha=0.8, label="share of networks")
        ax.axvline(d["stated_Q"], color="C3", ls="--", lw=1.5, label="papers' Q")
        lo, hi = d["mode_interval"]
        ax.axvspan(lo - 0.4, hi + 0.4, color="C2", alpha=0.15, label="mode, 95 % interval")
        ax.set_title(f"L = {d['depth']}  ({Q.size} networks)", fontsize="medium")
        ax.set_xlabel("Q")
        ax.set_xticks(qs)
    np.atleast_1d(axes)[0].set_ylabel("share of networks")
    np.atleast_1d(axes)[-1].legend(fontsize="small", frameon=False)
    fig.suptitle("Cauchy weights, hard-tanh, width 100: distribution of the number of fixed points", fontsize="medium")
    return fig
