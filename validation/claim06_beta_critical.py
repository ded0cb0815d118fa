"""Claim 6: beta_cr ~ 1/2 for tanh (L = 3, N = 400) and ~ 0.27 for the sigmoid.

Berlyand, Krupchytskyi & Slavin, section 5, Fig. 3: with weights of variance
sigma^2 = N^{-2 beta} (eq. (5.1)) and the contraction constant g of eq. (5.2)
on the 41 x 41 grid, "the existence of a critical value beta_cr ~ 1/2, so
that for beta >= beta_cr, the function Phi is a contraction on Omega for the
tanh activation" (L = 3, N = 400), and "for the three-layer DNN and the
sigmoid activation function ... the critical value is beta_cr ~ 0.27".

Measurement
-----------
:func:`rmtfp.ensembles.critical_beta` on a :func:`contraction_scan`: each
network (widths (2, N, N, 2), weights and biases N(0, sigma_l^2)) is drawn
once with unit-scale weights and rescaled at every beta (common random
numbers); its beta_i is where its g(beta) drops below 1 for good; beta_cr is
the median of the beta_i with a distribution-free 95 % interval.  The papers'
reading of "N" is the fan-in of each layer (sigma_l = n_l^{-beta}, so beta =
1/2 is their default initialisation 1/n_l); the other reading, sigma = N^{-beta}
on every layer with N the hidden width, is measured too and reported.

Criterion
---------
For each activation the stated value agrees when it lies in the 95 %
interval of beta_cr widened by a tolerance: the beta spacing of the scan
plus half a unit of the last digit the papers give (0.05 for "~ 1/2", 0.005
for "~ 0.27").  Decisive is the papers' (fan-in) reading.

* ``reproduced`` when both values agree;
* ``not reproduced`` when one disagrees (the measured beta_cr is reported);
* ``inconclusive`` when an interval is unbounded (networks that contract at
  every beta scanned, or at none), so agreement cannot be judged.
"""

from __future__ import annotations

import math

import numpy as np

from rmtfp import grid
from rmtfp.ensembles import contraction_scan, critical_beta

from ._common import INCONCLUSIVE, NOT_REPRODUCED, REPRODUCED, Check, farr, settings, sizes


SEED = 606
STATED = {"tanh": 0.5, "sigmoid": 0.27}
#: half a unit of the last digit the papers give: "~ 1/2" (one digit) and "~ 0.27" (two digits)
READING = {"tanh": 0.05, "sigmoid": 0.005}
QUICK = dict(width=400, depth=3, n_networks=6, step=0.2, beta_min=-0.2, beta_max=0.9, beta_step=0.05)
FULL = dict(width=400, depth=3, n_networks=20, step=0.05, beta_min=-0.2, beta_max=0.9, beta_step=0.02)
REFERENCES = ("fan_in", "width")


def compute(mode: str = "quick") -> dict:
    """beta_cr for tanh and sigmoid under both readings of N."""
    p = sizes(mode, QUICK, FULL)
    betas = np.round(np.arange(p["beta_min"], p["beta_max"] + 1e-9, p["beta_step"]), 6)
    pts = grid(step=p["step"])
    out = []
    for ref in REFERENCES:
        for act in STATED:
            scan = contraction_scan(betas, width=p["width"], depth=p["depth"], activation=act, weights="normal",
                                    n_networks=p["n_networks"], rng=SEED, workers=settings.workers, points=pts,
                                    beta_reference=ref, progress=False)
            cb = critical_beta(scan)
            per = cb.per_network
            out.append({"activation": act, "reference": ref, "beta_cr": cb.beta_cr,
                        "interval": [float(v) for v in cb.interval], "coverage": cb.coverage,
                        "per_network": [float(v) if math.isfinite(v) else None for v in per],
                        "censored_low": int(np.sum(per == -np.inf)), "censored_high": int(np.sum(per == np.inf)),
                        "median_g": scan.median.tolist(), "q10_g": scan.quantiles[:, 0].tolist(),
                        "q90_g": scan.quantiles[:, -1].tolist()})
    return {"params": dict(p, activations=list(STATED), references=list(REFERENCES), weights="normal", bias=True,
                           last_activation=True, grid_points=int(pts.shape[0]), g="eq. (5.2), all pairs"),
            "seeds": {"root": SEED, "network": "SeedSequence(root, spawn_key=(2, i)), the same at every beta"},
            "betas": betas.tolist(), "scans": out}


def check(result: dict) -> Check:
    """Stated beta_cr against the measured interval (fan-in reading)."""
    step = float(result["params"]["beta_step"])
    numbers, verdicts = {}, {}
    for s in result["scans"]:
        key = f"{s['activation']}_{s['reference']}"
        lo, hi = (farr(s["interval"]) if None not in s["interval"] else farr([-np.inf, np.inf]))
        numbers[f"beta_cr_{key}"] = s["beta_cr"]
        numbers[f"interval_{key}"] = s["interval"]
        if s["reference"] != "fan_in":
            continue
        act = s["activation"]
        tol = step + READING[act]
        if not (np.isfinite(lo) and np.isfinite(hi)):
            verdicts[act] = "unbounded"
        else:
            verdicts[act] = "agrees" if lo - tol <= STATED[act] <= hi + tol else "disagrees"
        numbers[f"tolerance_{act}"] = tol
    numbers["verdicts"] = dict(verdicts)
    fan = {s["activation"]: s for s in result["scans"] if s["reference"] == "fan_in"}
    desc = "; ".join(f"{a}: beta_cr = {fan[a]['beta_cr']:.3f} (95 % interval {_iv(fan[a]['interval'])}, "
                     f"stated {STATED[a]})" for a in STATED)
    other = {s["activation"]: s for s in result["scans"] if s["reference"] == "width"}
    alt = "; ".join(f"{a} {other[a]['beta_cr']:.3f}" for a in STATED if a in other)
    text = f"{desc}. With sigma = N^-beta on every layer instead: {alt}."
    if any(v == "unbounded" for v in verdicts.values()):
        return Check(INCONCLUSIVE, text, numbers, decide="a wider beta range (networks contract at every beta "
                                                         "scanned, or at none)")
    if all(v == "agrees" for v in verdicts.values()):
        return Check(REPRODUCED, text, numbers)
    return Check(NOT_REPRODUCED, text, numbers)


def _iv(iv) -> str:
    lo, hi = (float("nan") if v is None else v for v in iv)
    return f"{lo:.3f}-{hi:.3f}"


def plot(result: dict):
    """Median and 10-90 % band of g(beta) per activation and reading, stated beta_cr marked."""
    from rmtfp.plotting._common import pyplot

    plt = pyplot()
    betas = farr(result["betas"])
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.0), sharey=True, layout="constrained")
    for ax, act in zip(axes, STATED):
        for m, s in enumerate(x for x in result["scans"] if x["activation"] == act):
            c = f"C{m}"
            ax.plot(betas, s["median_g"], color=c, label=f"median g, N = {s['reference']}")
            ax.fill_between(betas, s["q10_g"], s["q90_g"], color=c, alpha=0.2, lw=0)
            ax.axvline(s["beta_cr"], color=c, ls=":", lw=1.2)
        ax.axvline(STATED[act], color="C3", ls="--", lw=1.2, label=f"papers: {STATED[act]}")
        ax.axhline(1, color="0.4", lw=0.8)
        ax.set_yscale("log")
        ax.set_xlabel("beta  (sigma = N^-beta)")
        ax.set_title(f"{act}, L = {result['params']['depth']}, N = {result['params']['width']}", fontsize="medium")
        ax.legend(fontsize="small", frameon=False)
    axes[0].set_ylabel("g (eq. 5.2) on the grid; 10-90 % band")
    return fig
