"""Claim 7: log g is linear in the depth L, with g = g_0^L (eq. (5.4)).

Berlyand, Krupchytskyi & Slavin, section 5, Fig. 4: "Linear dependence in the
semi-log scale log(g) vs. L means the power dependence of the contraction
constant g on the number of layers L ... if g_0 is a contraction constant of a
single layer, the contraction constant g of the entire DNN is given by
g = (g_0)^L" (eq. (5.4)), shown for one beta_1 < beta_cr and one
beta_2 > beta_cr.

Measurement
-----------
:func:`rmtfp.ensembles.contraction_vs_depth`: for beta in :data:`BETAS`
(below and above beta_cr ~ 1/2 of claim 6), networks of every depth
(widths (2, N, ..., N, 2), tanh, Gaussian weights and biases of variance
n_l^{-2 beta}) give g of eq. (5.2) on a grid; the per-depth mean of log g is
fitted by weighted least squares, mean log g = c + L log g_0 (weights
1/s_L^2, s_L the standard error at depth L).

Criterion
---------
Per beta: *linear* when the fit's chi^2 (D - 2 degrees of freedom, D depths)
has p >= 0.01; *g = g_0^L* when moreover the intercept is consistent with 0
(|c| <= 3 standard errors).

* ``reproduced`` when both hold at every beta;
* ``reproduced with correction`` when log g is linear at every beta but the
  intercept is not 0: g = C g_0^L with C = e^c, not g_0^L;
* ``not reproduced`` when log g is not linear at some beta.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from rmtfp import grid
from rmtfp.ensembles import contraction_vs_depth

from ._common import CORRECTED, NOT_REPRODUCED, REPRODUCED, Check, farr, settings, sizes

NUMBER = 7
SLUG = "g_vs_depth"
TITLE = "log g is linear in L, with g = g0^L"
SOURCE = "Berlyand, Krupchytskyi & Slavin, sec. 5, Fig. 4, eq. (5.4)"
CLAIM = ("The contraction constant g of eq. (5.2) depends on the depth as g = g_0^L: log g is linear in L, below "
         "and above beta_cr.")
CRITERION = ("Weighted fit of the mean log g over networks: mean log g = c + L log g_0. Linear when the chi^2 "
             "p-value >= 0.01; g = g_0^L when also |c| <= 3 s.e. Reproduced: both at every beta; reproduced with "
             "correction: linear but c != 0 (g = C g_0^L); not reproduced: not linear at some beta.")

SEED = 707
#: beta_1 < beta_cr ~ 1/2 < beta_2 (claim 6): the two regimes of the papers' Fig. 4
BETAS = (0.3, 0.7)
QUICK = dict(depths=(2, 3, 4, 5, 6, 8), width=100, n_networks=8, step=0.2)
FULL = dict(depths=(2, 3, 4, 5, 6, 8, 10, 12, 15, 20), width=100, n_networks=50, step=0.05)
#: chi^2 p-value below which the straight line is rejected
P_MIN = 0.01
#: standard errors within which the intercept counts as 0
Z_MAX = 3.0


def compute(mode: str = "quick") -> dict:
    """g(L) for every beta and the weighted log-linear fits."""
    p = sizes(mode, QUICK, FULL)
    pts = grid(step=p["step"])
    fits = []
    for beta in BETAS:
        r = contraction_vs_depth(list(p["depths"]), beta=beta, width=p["width"], activation="tanh",
                                 weights="normal", n_networks=p["n_networks"], rng=SEED, workers=settings.workers,
                                 points=pts, progress=False)
        fits.append({"beta": beta, "depths": r.depths.tolist(), "log_g_mean": r.log_g_mean.tolist(),
                     "log_g_stderr": r.log_g_stderr.tolist(), "slope": r.slope, "slope_stderr": r.slope_stderr,
                     "intercept": r.intercept, "intercept_stderr": r.intercept_stderr, "chi2": r.chi2,
                     "g0": r.g0, "g0_interval": list(r.g0_interval), "g": r.g.tolist(),
                     "lipschitz_median": np.median(r.lipschitz, axis=1).tolist()})
    return {"params": dict(p, betas=list(BETAS), activation="tanh", weights="normal", bias=True,
                           beta_reference="fan_in", grid_points=int(pts.shape[0])),
            "seeds": {"root": SEED, "network": "SeedSequence(root, spawn_key=(3, L, i))"},
            "fits": fits}


def check(result: dict) -> Check:
    """Linearity (chi^2) and a zero intercept at every beta."""
    numbers, linear, zero = {}, {}, {}
    for f in result["fits"]:
        b = f["beta"]
        dof = len(f["depths"]) - 2
        pval = float(stats.chi2.sf(f["chi2"], dof))
        z = f["intercept"] / f["intercept_stderr"] if f["intercept_stderr"] > 0 else np.inf
        linear[b], zero[b] = pval >= P_MIN, abs(z) <= Z_MAX
        numbers[f"beta={b}"] = {"g0": f["g0"], "slope": f["slope"], "intercept": f["intercept"],
                                "intercept_z": float(z), "C=e^c": float(np.exp(f["intercept"])), "chi2": f["chi2"],
                                "dof": dof, "p_value": pval}
    desc = "; ".join(f"beta = {b}: g0 = {v['g0']:.3f}, C = {v['C=e^c']:.2f} (z = {v['intercept_z']:.1f}), "
                     f"chi2 = {v['chi2']:.1f} on {v['dof']} dof (p = {v['p_value']:.2g})"
                     for b, v in ((f["beta"], numbers[f"beta={f['beta']}"]) for f in result["fits"]))
    if not all(linear.values()):
        bad = ", ".join(str(b) for b, ok in linear.items() if not ok)
        return Check(NOT_REPRODUCED, f"log g is not linear in L at beta = {bad}: {desc}.", numbers)
    if not all(zero.values()):
        return Check(CORRECTED, f"log g is linear in L: {desc}.", numbers,
                     correction="g = C g0^L with a depth-independent factor C = e^c != 1 (measured above), so eq. "
                                "(5.4) g = g0^L holds only up to C; log g is linear in L")
    return Check(REPRODUCED, f"log g is linear in L with zero intercept: {desc}.", numbers)


def plot(result: dict):
    """Mean log g with standard errors against L and the fitted lines."""
    from rmtfp.plotting._common import pyplot

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.2, 4.2))
    for m, f in enumerate(result["fits"]):
        L = farr(f["depths"])
        ax.errorbar(L, f["log_g_mean"], yerr=f["log_g_stderr"], fmt="o", color=f"C{m}", capsize=3,
                    label=f"beta = {f['beta']}: mean log g")
        ax.plot(L, f["intercept"] + f["slope"] * L, "-", color=f"C{m}", lw=1,
                label=f"fit c + L log g0 (g0 = {f['g0']:.2f})")
        ax.plot(L, f["slope"] * L, ":", color=f"C{m}", lw=1, label="g0^L (c = 0)")
    ax.axhline(0, color="0.5", lw=0.8)
    ax.set_xlabel("depth L")
    ax.set_ylabel("log g")
    ax.set_title(f"tanh, N = {result['params']['width']}: log g against L", fontsize="medium")
    ax.legend(fontsize="small", frameon=False)
    return fig
