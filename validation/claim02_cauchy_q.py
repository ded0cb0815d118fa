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
The papers' figures are single realisations, shown as the behaviour at
each depth.  Per depth, the share P(Q = stated) of networks showing the
stated Q, with its 95 % Clopper-Pearson interval [a, b], says how typical
the figure is; the mode of Q and its 95 % bootstrap interval are reported.
A figure is *refuted as a realisation* when b < :data:`RARE` = 5 %: one
random network would show the stated Q in fewer than 1 of 20 draws (e.g. Q
= 5 at L = 5 never seen in 100 networks: b = 3.6 %).

* ``not reproduced`` when the stated Q is refuted as a realisation at some
  depth;
* ``inconclusive`` when none is refuted but some interval reaches below 5 %
  (a = 0 or small: more networks would decide; a coarse grid of starts
  undercounts Q, so the quick mode's small ensemble cannot refute);
* ``reproduced`` when every a >= 5 % and the stated Q lies in the mode's
  interval at every depth (the figures show typical networks);
* ``reproduced with correction`` when every a >= 5 % but the stated Q lies
  outside the mode's interval at some depth (the figures are possible
  realisations, not the typical Q: the mode is given).
"""

from __future__ import annotations

import numpy as np

from . import _cauchy
from ._common import CORRECTED, INCONCLUSIVE, NOT_REPRODUCED, REPRODUCED, Check, proportion_interval


STATED = {2: 2, 3: 3, 5: 5, 20: 1}
#: a realisation shown with probability below 5 % (fewer than 1 in 20 random networks) is not the behaviour at that
#: depth that a single figure presents
RARE = 0.05


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
    """P(Q = stated) with its interval at every depth: refuted, undecided or possible realisations."""
    rows, refuted, open_, atypical = [], [], [], []
    for d in result["per_depth"]:
        Q = np.asarray(d["Q"])
        n = Q.size
        lo, hi = d["mode_interval"]
        stated = int(d["stated_Q"])
        k = int(np.sum(Q == stated))
        f_lo, f_hi = proportion_interval(k, n)
        typical = lo <= stated <= hi
        rows.append({"depth": d["depth"], "stated_Q": stated, "networks": n, "networks_with_stated_Q": k,
                     "frequency_of_stated_Q": k / n, "frequency_95ci": [f_lo, f_hi], "mode": d["mode"],
                     "mode_interval": [lo, hi], "stated_in_mode_interval": typical, "mean_Q": d["mean"],
                     "networks_with_cycles": d["cycle_fraction"],
                     "distribution": {int(q): float(np.mean(Q == q)) for q in np.unique(Q)}})
        if f_hi < RARE:
            refuted.append(rows[-1])
        elif f_lo < RARE:
            open_.append(rows[-1])
        if not typical:
            atypical.append(rows[-1])
    numbers = {"per_depth": rows,
               "modes": {r["depth"]: r["mode"] for r in rows},
               "stated_frequency": {r["depth"]: r["frequency_of_stated_Q"] for r in rows},
               "refuted_as_realisation": [r["depth"] for r in refuted]}
    desc = "; ".join(f"L = {r['depth']}: P(Q = {r['stated_Q']}) = {r['networks_with_stated_Q']}/{r['networks']} "
                     f"(95 % interval {r['frequency_95ci'][0]:.2f}-{r['frequency_95ci'][1]:.2f}), mode {r['mode']} "
                     f"[{r['mode_interval'][0]}, {r['mode_interval'][1]}]" for r in rows)
    if refuted:
        bad = ", ".join(f"Q = {r['stated_Q']} at L = {r['depth']} ({r['networks_with_stated_Q']} of {r['networks']})"
                        for r in refuted)
        return Check(NOT_REPRODUCED, f"Refuted as realisations (shown by fewer than 5 % of networks): {bad}. "
                     f"{desc}.", numbers)
    if open_:
        return Check(INCONCLUSIVE, f"No stated Q is refuted, but the share of networks showing it may be below 5 % "
                     f"at L = {', '.join(str(r['depth']) for r in open_)}. {desc}.", numbers,
                     decide="more networks per depth on the papers' 41 x 41 grid (the full mode uses 100; a coarse "
                            "grid undercounts Q)")
    if atypical:
        return Check(CORRECTED, f"Every stated Q is shown by at least 5 % of the networks. {desc}.", numbers,
                     correction="the figures are possible realisations but not the typical Q at L = "
                                + ", ".join(f"{r['depth']} (mode {r['mode']})" for r in atypical))
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
