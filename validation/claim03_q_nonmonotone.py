"""Claim 3: the mode of Q(100, L) is non-monotone in L (it grows, then decreases).

Berlyand, Krupchytskyi & Slavin, section 4, Fig. 2 ("Q first grows with the
DNN depth L, but then decreases"); Berlyand & Slavin, section IV, Fig. 3 and
Proposition 2 ("Q(N_0, L) increases with L up to some L_0 and then decreases
to Q = 1").

Measurement
-----------
The mode of Q and its 95 % bootstrap interval at each depth of the shared
Cauchy ensemble (:mod:`validation._cauchy`: width 100, hard-tanh,
Cauchy(0, 1/n_l), the papers' iteration criterion).

Criterion
---------
With the mode m(L) and its interval [lo(L), hi(L)]:

* ``reproduced`` when there are L1 < L2 < L3 with lo(L2) > hi(L1) and
  lo(L2) > hi(L3): a rise and a fall that the intervals resolve;
* ``not reproduced`` when no rise-and-fall is possible within the intervals:
  no L1 < L2 < L3 with hi(L2) > lo(L1) and hi(L2) > lo(L3);
* ``inconclusive`` otherwise (a peak the intervals neither show nor exclude).

The mean of Q (better determined than the mode) is reported alongside.
"""

from __future__ import annotations

import itertools

import numpy as np

from . import _cauchy
from ._common import INCONCLUSIVE, NOT_REPRODUCED, REPRODUCED, Check, farr, sizes

NUMBER = 3
SLUG = "q_nonmonotone"
TITLE = "The mode of Q(100, L) is non-monotone in L"
SOURCE = "Berlyand, Krupchytskyi & Slavin, sec. 4, Fig. 2; Berlyand & Slavin, sec. IV, Fig. 3, Proposition 2"
CLAIM = "For Cauchy weights and width N_0 = 100, the mode of Q(N_0, L) first grows with the depth L and then decreases."
CRITERION = ("Reproduced when some L1 < L2 < L3 have lo(L2) > hi(L1) and lo(L2) > hi(L3) (95 % bootstrap intervals of "
             "the mode); not reproduced when no L1 < L2 < L3 has hi(L2) > lo(L1) and hi(L2) > lo(L3) (the intervals "
             "exclude any peak); inconclusive otherwise.")

QUICK = dict(depths=(1, 2, 3, 5, 8, 12, 20))
FULL = dict(depths=(1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 15, 20))


def compute(mode: str = "quick") -> dict:
    """Mode, interval and mean of Q over depth for the Cauchy ensemble."""
    p = sizes(mode, QUICK, FULL)
    ens = _cauchy.q_ensemble(p["depths"], mode)
    rows = []
    for L in p["depths"]:
        e = ens[L]
        rows.append({"depth": L, "mode": e["mode"], "mode_interval": e["mode_interval"], "mean": e["mean"],
                     "mean_stderr": e["mean_stderr"], "distribution": e["distribution"],
                     "cycle_fraction": e["cycle_fraction"], "unresolved_fraction": e["unresolved_fraction"],
                     "Q": e["Q"].tolist()})
    ep = _cauchy.params(mode)
    return {"params": dict(ep, depths=list(p["depths"])), "seeds": {"root": _cauchy.SEED,
                                                                    "network": ep["network_stream"]},
            "per_depth": rows}


def _peaks(lo, hi, strict: bool) -> list:
    out = []
    for a, b, c in itertools.combinations(range(len(lo)), 3):
        if strict and lo[b] > hi[a] and lo[b] > hi[c]:
            out.append((a, b, c))
        if not strict and hi[b] > lo[a] and hi[b] > lo[c]:
            out.append((a, b, c))
    return out


def check(result: dict) -> Check:
    """Resolved peak, excluded peak, or neither."""
    rows = result["per_depth"]
    L = [r["depth"] for r in rows]
    mode = [int(r["mode"]) for r in rows]
    lo = [int(r["mode_interval"][0]) for r in rows]
    hi = [int(r["mode_interval"][1]) for r in rows]
    mean, se = farr([r["mean"] for r in rows]), farr([r["mean_stderr"] for r in rows])
    k = int(np.argmax(mean))
    mean_peak = bool(0 < k < len(L) - 1 and mean[k] - 2 * se[k] > mean[0] + 2 * se[0]
                     and mean[k] - 2 * se[k] > mean[-1] + 2 * se[-1])
    numbers = {"depths": L, "mode": mode, "mode_interval_low": lo, "mode_interval_high": hi,
               "mean_Q": mean.tolist(), "mean_Q_stderr": se.tolist(),
               "mean_peaks_at_L": L[k], "mean_rise_and_fall_beyond_2se": mean_peak}
    desc = ", ".join(f"L={a}: {m} [{x}, {y}]" for a, m, x, y in zip(L, mode, lo, hi))
    strict = _peaks(lo, hi, strict=True)
    if strict:
        a, b, c = strict[0]
        return Check(REPRODUCED, f"The mode rises from L = {L[a]} to L = {L[b]} and falls by L = {L[c]}, beyond the "
                     f"bootstrap intervals. Modes: {desc}.", numbers)
    possible = _peaks(lo, hi, strict=False)
    if not possible:
        return Check(NOT_REPRODUCED, f"The mode of Q does not rise and fall: modes (95 % intervals) {desc}; the "
                     f"mean of Q peaks at L = {L[k]} ({mean[k]:.2f} +- {se[k]:.2f}).", numbers)
    return Check(INCONCLUSIVE, f"The intervals neither show nor exclude a rise and fall of the mode: {desc}; the "
                 f"mean of Q peaks at L = {L[k]} ({mean[k]:.2f} +- {se[k]:.2f}).", numbers,
                 decide="more networks per depth (the full mode uses 100 on 12 depths) to narrow the mode intervals")


def plot(result: dict):
    """Mode with interval, mean with standard error, and the share of networks with cycles, against L."""
    from rmtfp.plotting._common import pyplot

    plt = pyplot()
    rows = result["per_depth"]
    L = np.array([r["depth"] for r in rows])
    mode = np.array([r["mode"] for r in rows])
    lo = np.array([r["mode_interval"][0] for r in rows])
    hi = np.array([r["mode_interval"][1] for r in rows])
    mean, se = farr([r["mean"] for r in rows]), farr([r["mean_stderr"] for r in rows])
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(6.4, 5.2), sharex=True, layout="constrained",
                                      gridspec_kw={"height_ratios": [3, 1.3]})
    for r in rows:
        for q, f in r["distribution"].items():
            top.scatter([r["depth"]], [int(q)], s=400 * float(f), color="0.6", alpha=0.5, zorder=1)
    top.errorbar(L, mode, yerr=[mode - lo, hi - mode], fmt="o", color="C3", capsize=3, zorder=3,
                 label="mode (95 % bootstrap interval)")
    top.plot(L, mean, "-", color="C0", label="mean")
    top.fill_between(L, mean - se, mean + se, color="C0", alpha=0.2, lw=0, label="mean +- 1 s.e.")
    top.scatter([], [], s=100, color="0.6", alpha=0.5, label="share of networks (area)")
    top.set_ylabel("number of fixed points Q")
    top.legend(fontsize="small", frameon=False)
    top.set_title("Cauchy weights, hard-tanh, width 100", fontsize="medium")
    bottom.plot(L, [r["cycle_fraction"] for r in rows], "s-", ms=4, label="with cycles")
    bottom.plot(L, [r["unresolved_fraction"] for r in rows], "^-", ms=4, label="with unresolved starts")
    bottom.set_ylim(-0.05, 1.05)
    bottom.set_ylabel("fraction of\nnetworks")
    bottom.set_xlabel("depth L")
    bottom.legend(fontsize="small", frameon=False)
    return fig
