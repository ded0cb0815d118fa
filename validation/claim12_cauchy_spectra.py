"""Claim 12: with Cauchy weights the spectrum of J J^T becomes delta-like as the depth grows.

Berlyand & Slavin, section V.1, Fig. 7: "The equation (14) is not applicable
for 'heavy-tailed' distributions ... but direct numerical calculation of
eigenvalues shows that ESD takes a delta-like shape as L -> infinity even for
'heavy-tailed' distributions" (Cauchy weights, hard-tanh).

Measurement
-----------
:func:`rmtfp.sample_depth_scan` with Cauchy weights (entries Cauchy(0, 1/N),
no bias) for hard-tanh (the papers' case) and tanh (no exact zeros of
phi'), and :meth:`DepthScan.concentration`: the fraction of eigenvalues
below 1e-6, 1e-3, 1e-1 with standard errors over networks, the exact zeros,
and the median eigenvalue at each depth.

Criterion
---------
Judged by the standard of claim 11 (the Gaussian spectrum): mass piling up
at 0 is a delta-like shape only in distribution; the papers read it as "the
eigenvalues tend to zero", which needs the largest eigenvalue to fall too.
For hard-tanh, with F(L) = P(lambda <= 1e-3) and its standard error s(L),
and the largest eigenvalue lambda_max of each network (the same networks at
every depth) compared between the shallowest and the deepest depth by a sign
test (k of n networks with a larger lambda_max at the deepest depth, 95 %
Clopper-Pearson interval of k/n against 1/2):

* ``not reproduced`` when F does not rise by more than 2 s from the
  shallowest to the deepest depth, or the median eigenvalue does not
  decrease at every step;
* when F never drops between consecutive depths by more than 2 s
  (combined) and F >= 0.5 at the deepest depth (most of the mass in a peak
  of width 1e-3 at 0): ``reproduced`` when lambda_max falls (the interval
  lies below 1/2), ``reproduced with correction`` when it grows (the
  interval lies above 1/2: the mass concentrates, the spectrum does not
  narrow), ``inconclusive`` when the sign test cannot tell;
* ``inconclusive`` otherwise (a rise that has not reached a majority of the
  mass: deeper networks would decide).
"""

from __future__ import annotations

import numpy as np

import rmtfp

from ._common import CORRECTED, INCONCLUSIVE, NOT_REPRODUCED, REPRODUCED, Check, farr, proportion_interval, sizes


SEED = 1212
THRESHOLDS = (1e-6, 1e-3, 1e-1)
DECISIVE = 1e-3
QUICK = dict(depths=(1, 2, 3, 5, 10, 20), width=100, n_samples=20, activations=("hardtanh", "tanh"))
FULL = dict(depths=(1, 2, 3, 5, 10, 20), width=1000, n_samples=50, activations=("hardtanh", "tanh"))


def compute(mode: str = "quick") -> dict:
    """Concentration statistics of Cauchy-weight spectra over depth."""
    p = sizes(mode, QUICK, FULL)
    out = {}
    hists = {}
    lam_max = {}
    for act in p["activations"]:
        scan = rmtfp.sample_depth_scan(act, list(p["depths"]), p["width"], p["n_samples"], weights="cauchy",
                                       sigma_w2=1.0, rng=SEED)
        out[act] = [c.to_dict() for c in scan.concentration(THRESHOLDS)]
        lam_max[act] = [sp.eigenvalues.max(axis=1).tolist() for sp in scan.spectra]
        if act == p["activations"][0]:
            edges = np.linspace(-30, 5, 71)
            for L, sp in zip(scan.depths, scan.spectra):
                lam = sp.eigenvalues.ravel()
                h, _ = np.histogram(np.log10(lam[lam > 0]), bins=edges)
                hists[str(L)] = (h / lam.size).tolist()
            hists["edges"] = edges.tolist()
    return {"params": dict(p, weights="cauchy (scale 1/N)", sigma_b2=0.0, thresholds=list(THRESHOLDS),
                           decisive_threshold=DECISIVE),
            "seeds": {"rng": SEED, "network": "one SFC64 stream per network; the same networks at every depth"},
            "concentration": out, "lambda_max_per_network": lam_max, "log10_histograms": hists}


def check(result: dict) -> Check:
    """Rise of P(lambda <= 1e-3) and fall of the median with depth (hard-tanh)."""
    act = result["params"]["activations"][0]
    rows = result["concentration"][act]
    j = list(result["params"]["thresholds"]).index(DECISIVE)
    L = [r["depth"] for r in rows]
    F = farr([r["fraction_below"][j] for r in rows])
    s = farr([r["fraction_below_stderr"][j] for r in rows])
    med = farr([r["median"] for r in rows])
    step_se = np.sqrt(s[1:] ** 2 + s[:-1] ** 2)
    no_drop = bool(np.all(np.diff(F) > -2 * step_se))
    rises = bool(F[-1] - F[0] > 2 * np.hypot(s[-1], s[0]))
    med_falls = bool(np.all(np.diff(med) < 0))
    lm = [farr(v) for v in result["lambda_max_per_network"][act]]
    grows = int(np.sum(lm[-1] > lm[0]))
    g_lo, g_hi = proportion_interval(grows, lm[0].size)
    numbers = {"activation": act, "depths": L, "P_le_1e-3": F.tolist(), "stderr": s.tolist(),
               "median": med.tolist(), "zero_fraction": [r["zero_fraction"] for r in rows],
               "lambda_max_median": [float(np.median(v)) for v in lm],
               "networks_with_larger_lambda_max_at_deepest": grows, "networks": int(lm[0].size),
               "sign_test_95ci": [g_lo, g_hi]}
    for other, orows in result["concentration"].items():
        if other != act:
            numbers[f"P_le_1e-3_{other}"] = [r["fraction_below"][j] for r in orows]
    text = (f"{act}: P(lambda <= 1e-3) = {' -> '.join(f'{v:.2f}' for v in F)} for L = {', '.join(map(str, L))}; "
            f"median eigenvalue {med[0]:.2g} -> {med[-1]:.2g}; exact zeros {rows[0]['zero_fraction']:.2f} -> "
            f"{rows[-1]['zero_fraction']:.2f}; median largest eigenvalue {numbers['lambda_max_median'][0]:.3g} -> "
            f"{numbers['lambda_max_median'][-1]:.3g} (larger at L = {L[-1]} than at L = {L[0]} in {grows} of "
            f"{lm[0].size} networks, 95 % interval {g_lo:.2f}-{g_hi:.2f}).")
    if not rises or not med_falls:
        return Check(NOT_REPRODUCED, text, numbers)
    if no_drop and F[-1] >= 0.5:
        if g_hi < 0.5:
            return Check(REPRODUCED, text, numbers)
        if g_lo > 0.5:
            return Check(CORRECTED, text, numbers,
                         correction="the mass concentrates at 0 (delta-like in distribution) but the largest "
                                    "eigenvalue grows with L: the spectrum does not narrow and the eigenvalues do not "
                                    "all tend to 0 (as for Gaussian weights, claim 11)")
        return Check(INCONCLUSIVE, text, numbers, decide="more networks to tell whether the largest eigenvalue grows "
                                                         "or falls with depth")
    return Check(INCONCLUSIVE, text, numbers, decide="deeper networks or more samples per depth")


def plot(result: dict):
    """Histograms of log10 lambda per depth and the concentration against depth."""
    from rmtfp.plotting._common import pyplot

    plt = pyplot()
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.0), layout="constrained")
    h = result["log10_histograms"]
    edges = farr(h["edges"])
    for k, L in enumerate(x for x in h if x != "edges"):
        a.stairs(h[L], edges, color=f"C{k}", label=f"L = {L}")
    a.set_xlabel("log10 lambda (non-zero eigenvalues)")
    a.set_ylabel("share of all eigenvalues")
    a.set_title(f"{result['params']['activations'][0]}, Cauchy weights, N = {result['params']['width']}",
                fontsize="medium")
    a.legend(fontsize="small", frameon=False)
    for m, (act, rows) in enumerate(result["concentration"].items()):
        L = [r["depth"] for r in rows]
        for j, t in enumerate(result["params"]["thresholds"]):
            b.errorbar(L, [r["fraction_below"][j] for r in rows], yerr=[r["fraction_below_stderr"][j] for r in rows],
                       marker="o" if m == 0 else "s", ms=3, capsize=2, ls="-" if m == 0 else "--", color=f"C{j}",
                       label=f"{act}: P(lambda <= {t:g})")
    b.set_xscale("log")
    b.set_xlabel("depth L")
    b.set_ylim(0, 1)
    b.legend(fontsize="small", frameon=False)
    return fig
