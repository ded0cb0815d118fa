"""Claim 3: the mode of Q(100, L) is non-monotone in L (it grows, then decreases).

Berlyand, Krupchytskyi & Slavin, section 4, Fig. 2 ("Q first grows with the
DNN depth L, but then decreases"); Berlyand & Slavin, section IV, Fig. 3 and
Proposition 2 ("Q(N_0, L) increases with L up to some L_0 and then decreases
to Q = 1").

Measurement
-----------
The mode of Q and its 95 % bootstrap interval at each depth of the shared
Cauchy ensemble (:mod:`validation._cauchy`: width 100, hard-tanh,
Cauchy(0, 1/n_l), the papers' iteration criterion), and the share P(Q >= 2)
of networks with two or more fixed points with its 95 % Clopper-Pearson
interval.

Criterion
---------
The papers' curve rises from Q = 1 to a mode of 2-5 and falls back to 1.
With the mode m(L), its interval [lo(L), hi(L)], and p(L) = P(Q >= 2) with
its interval [a(L), b(L)]:

* ``reproduced`` when the rise and fall are resolved: some L2 has lo(L2) >= 2
  and some L1 < L2 < L3 have hi(L1) < lo(L2) and hi(L3) < lo(L2), and p rises
  and falls beyond its intervals (some L1' < L2' < L3' with a(L2') > b(L1')
  and a(L2') > b(L3'));
* ``not reproduced`` when the data refute it: the mode's interval never
  reaches 2 (hi(L) <= 1 at every depth: the mode never rises to 2), or the
  intervals of p exclude any rise and fall (no L1 < L2 < L3 with
  b(L2) > a(L1) and b(L2) > a(L3));
* ``inconclusive`` otherwise.

Data whose mode never exceeds 1 and whose Q falls to 0 (attractors that are
cycles) refute the claim; the mean of Q is reported alongside.
"""

from __future__ import annotations

import itertools

import numpy as np

from . import _cauchy
from ._common import INCONCLUSIVE, NOT_REPRODUCED, REPRODUCED, Check, farr, proportion_interval, sizes


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
    """(a, b, c), a < b < c, where the interval at b lies above (strict) or reaches above (not strict) a and c."""
    out = []
    for a, b, c in itertools.combinations(range(len(lo)), 3):
        if strict and lo[b] > hi[a] and lo[b] > hi[c]:
            out.append((a, b, c))
        if not strict and hi[b] > lo[a] and hi[b] > lo[c]:
            out.append((a, b, c))
    return out


def check(result: dict) -> Check:
    """A resolved rise of the mode to >= 2 and of P(Q >= 2), a refuted one, or neither."""
    rows = result["per_depth"]
    L = [r["depth"] for r in rows]
    mode = [int(r["mode"]) for r in rows]
    lo = [int(r["mode_interval"][0]) for r in rows]
    hi = [int(r["mode_interval"][1]) for r in rows]
    mean, se = farr([r["mean"] for r in rows]), farr([r["mean_stderr"] for r in rows])
    k2 = [int(np.sum(np.asarray(r["Q"]) >= 2)) for r in rows]
    n = [len(r["Q"]) for r in rows]
    p = [a / b for a, b in zip(k2, n)]
    p_iv = [proportion_interval(a, b) for a, b in zip(k2, n)]
    p_lo, p_hi = [v[0] for v in p_iv], [v[1] for v in p_iv]
    k = int(np.argmax(mean))
    mean_peak = bool(0 < k < len(L) - 1 and mean[k] - 2 * se[k] > mean[0] + 2 * se[0]
                     and mean[k] - 2 * se[k] > mean[-1] + 2 * se[-1])
    mode_reaches_2 = max(hi) >= 2
    mode_peak = [t for t in _peaks(lo, hi, strict=True) if lo[t[1]] >= 2]
    p_peak = _peaks(p_lo, p_hi, strict=True)
    p_possible = _peaks(p_lo, p_hi, strict=False)
    numbers = {"depths": L, "mode": mode, "mode_interval_low": lo, "mode_interval_high": hi,
               "mode_interval_reaches_2": mode_reaches_2, "P_Q_ge_2": p, "P_Q_ge_2_95ci_low": p_lo,
               "P_Q_ge_2_95ci_high": p_hi, "P_Q_ge_2_rise_and_fall_resolved": bool(p_peak),
               "P_Q_ge_2_rise_and_fall_possible": bool(p_possible),
               "mean_Q": mean.tolist(), "mean_Q_stderr": se.tolist(),
               "mean_peaks_at_L": L[k], "mean_rise_and_fall_beyond_2se": mean_peak,
               "share_Q_0": [float(np.mean(np.asarray(r["Q"]) == 0)) for r in rows]}
    desc = ", ".join(f"L={a}: {m} [{x}, {y}]" for a, m, x, y in zip(L, mode, lo, hi))
    pdesc = ", ".join(f"{v:.2f}" for v in p)
    tail = (f"; P(Q >= 2) = {pdesc}; the mean of Q peaks at L = {L[k]} ({mean[k]:.2f} +- {se[k]:.2f}) and the "
            f"share of networks with Q = 0 is {numbers['share_Q_0'][-1]:.2f} at L = {L[-1]}")
    if mode_peak and p_peak:
        a, b, c = mode_peak[0]
        return Check(REPRODUCED, f"The mode rises to {mode[b]} at L = {L[b]} from L = {L[a]} and falls by "
                     f"L = {L[c]}, beyond the bootstrap intervals, and P(Q >= 2) rises and falls beyond its "
                     f"intervals. Modes (95 % intervals): {desc}{tail}.", numbers)
    if not mode_reaches_2 or not p_possible:
        why = ("the mode's 95 % interval never reaches 2 (the mode does not rise to 2-5)" if not mode_reaches_2
               else "the intervals of P(Q >= 2) exclude a rise and fall")
        return Check(NOT_REPRODUCED, f"Refuted: {why}. Modes (95 % intervals): {desc}{tail}.", numbers)
    return Check(INCONCLUSIVE, f"The intervals neither show nor exclude a rise of the mode to 2 and a fall: "
                 f"{desc}{tail}.", numbers,
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
