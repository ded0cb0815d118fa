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
n_l^{-2 beta}, the variance eq. (5.1) states) give g on a grid two ways:

* ``pairs``, the papers' eq. (5.2), the largest ratio over pairs of grid
  points.  It has a ceiling: |Phi(x) - Phi(y)| <= diam (-1, 1)^2 = 2 sqrt 2
  and |x - y| >= delta (the grid step), so g <= 2 sqrt 2 / delta (log 4.035
  at delta = 0.05).  Where g reaches it (beta = 0.3, deep networks) the
  pairs measure the grid, not the network;
* ``jacobian``, the largest ||DPhi(x)||_2 over the grid points: the limit of
  the ratio over pairs at distance well below delta, with no ceiling.

The per-depth mean of log g is fitted by weighted least squares (weights
1/s_L^2, s_L the standard error at depth L) with a line, mean log g = c + L
log g_0, and with a parabola, c + a L + b L^2.

Criterion
---------
Linearity is judged on the ceiling-free Jacobian route.  The curvature
matters over the papers' depth range (L = 2 to 20, the full mode's): the
parabola departs from its chord there by D = |b| (20 - 2)^2 / 4.  With D's
95 % bounds (|b| -+ 2 s.e.): *linear* when the upper bound is <= log 1.5 (g
within a factor 1.5 of a power law over the range), *curved* when the lower
bound is > log 1.5, *unresolved* otherwise (too few depths or networks: the
quick mode's depths 2-8 usually cannot bound the curvature up to L = 20).
*g = g_0^L* when the line's intercept is consistent with 0 (|c| <= 3 s.e.).

* ``not reproduced`` when log g is curved at some beta;
* ``inconclusive`` when it is unresolved at some beta (and curved at none);
* ``reproduced with correction`` when log g is linear at every beta but
  the intercept is not 0: g = C g_0^L with C = e^c, not g_0^L;
* ``reproduced`` when it is linear with zero intercept at every beta.

The papers' pairwise g, its ceiling and its fits are reported beside it.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from rmtfp import grid
from rmtfp.ensembles import contraction_vs_depth

from ._common import CORRECTED, INCONCLUSIVE, NOT_REPRODUCED, REPRODUCED, Check, farr, settings, sizes


SEED = 707
#: beta_1 < beta_cr ~ 1/2 < beta_2 (claim 6): the two regimes of the papers' Fig. 4
BETAS = (0.3, 0.7)
QUICK = dict(depths=(2, 3, 4, 5, 6, 8), width=100, n_networks=8, step=0.2)
FULL = dict(depths=(2, 3, 4, 5, 6, 8, 10, 12, 15, 20), width=100, n_networks=50, step=0.05)
#: the depth range over which the curvature is judged (the full mode's, L = 2 to 20)
RANGE = (2, 20)
#: largest departure of log g from a line over RANGE that still reads as a power law: a factor 1.5 in g
D_MAX = float(np.log(1.5))
#: standard errors of the curvature for its 95 % bounds
Z_CURV = 2.0
METHODS = ("jacobian", "pairs")
#: standard errors within which the intercept counts as 0
Z_MAX = 3.0


def compute(mode: str = "quick") -> dict:
    """g(L) for every beta by both routes, and the weighted log-linear fits."""
    p = sizes(mode, QUICK, FULL)
    pts = grid(step=p["step"])
    fits = []
    for beta in BETAS:
        for method in METHODS:
            r = contraction_vs_depth(list(p["depths"]), beta=beta, width=p["width"], activation="tanh",
                                     weights="normal", n_networks=p["n_networks"], rng=SEED, workers=settings.workers,
                                     points=pts, progress=False, method=method)
            fits.append({"beta": beta, "method": method, "depths": r.depths.tolist(),
                         "log_g_mean": r.log_g_mean.tolist(), "log_g_stderr": r.log_g_stderr.tolist(),
                         "slope": r.slope, "slope_stderr": r.slope_stderr, "intercept": r.intercept,
                         "intercept_stderr": r.intercept_stderr, "chi2": r.chi2, "g0": r.g0,
                         "g0_interval": list(r.g0_interval), "g": r.g.tolist(),
                         "lipschitz_median": np.median(r.lipschitz, axis=1).tolist()})
    return {"params": dict(p, betas=list(BETAS), methods=list(METHODS), activation="tanh", weights="normal",
                           bias=True, beta_reference="fan_in", grid_points=int(pts.shape[0]),
                           pairs_ceiling=float(2 * np.sqrt(2) / p["step"]), curvature_range=list(RANGE),
                           curvature_max=D_MAX),
            "seeds": {"root": SEED, "network": "SeedSequence(root, spawn_key=(3, L, i)), the same networks for "
                                               "both routes"},
            "fits": fits}


def quadratic_fit(depths, mean, se) -> tuple:
    """Weighted (1/se^2) least squares of mean on (1, L, L^2): (b, s.e. of b)."""
    L = farr(depths)
    se = farr(se)
    w = 1.0 / se**2 if np.all(se > 0) else np.ones_like(L)
    A = np.column_stack([np.ones_like(L), L, L**2]) * np.sqrt(w)[:, None]
    coef, *_ = np.linalg.lstsq(A, farr(mean) * np.sqrt(w), rcond=None)
    cov = np.linalg.inv(A.T @ A)
    return float(coef[2]), float(np.sqrt(cov[2, 2]))


def _judge(f: dict) -> dict:
    b, sb = quadratic_fit(f["depths"], f["log_g_mean"], f["log_g_stderr"])
    span = (RANGE[1] - RANGE[0]) ** 2 / 4
    d_lo, d_hi = max(0.0, abs(b) - Z_CURV * sb) * span, (abs(b) + Z_CURV * sb) * span
    shape = "linear" if d_hi <= D_MAX else "curved" if d_lo > D_MAX else "unresolved"
    dof = len(f["depths"]) - 2
    z = f["intercept"] / f["intercept_stderr"] if f["intercept_stderr"] > 0 else np.inf
    return {"shape": shape, "curvature_b": b, "curvature_b_stderr": sb, "departure_95ci": [d_lo, d_hi],
            "g0": f["g0"], "slope": f["slope"], "intercept": f["intercept"], "intercept_z": float(z),
            "C=e^c": float(np.exp(f["intercept"])), "chi2": f["chi2"], "dof": dof,
            "p_value_line": float(stats.chi2.sf(f["chi2"], dof)), "max_mean_log_g": float(np.max(f["log_g_mean"]))}


def check(result: dict) -> Check:
    """Curvature of log g (Jacobian route) over L = 2-20 at every beta; intercept; pairs and their ceiling."""
    ceiling = float(np.log(result["params"]["pairs_ceiling"]))
    numbers, shape, zero = {"log_pairs_ceiling": ceiling}, {}, {}
    for f in result["fits"]:
        j = _judge(f)
        numbers[f"beta={f['beta']}, {f['method']}"] = j
        if f["method"] == "jacobian":
            shape[f["beta"]], zero[f["beta"]] = j["shape"], abs(j["intercept_z"]) <= Z_MAX
    pairs = {f["beta"]: numbers[f"beta={f['beta']}, pairs"] for f in result["fits"] if f["method"] == "pairs"}
    jac = {b: numbers[f"beta={b}, jacobian"] for b in shape}
    desc = "; ".join(f"beta = {b}: {v['shape']} (departure from a line over L = {RANGE[0]}-{RANGE[1]} "
                     f"{v['departure_95ci'][0]:.2f}-{v['departure_95ci'][1]:.2f} against log 1.5 = {D_MAX:.2f}), "
                     f"g0 = {v['g0']:.3f}, C = {v['C=e^c']:.2f} (z = {v['intercept_z']:.1f})" for b, v in jac.items())
    pdesc = "; ".join(f"beta = {b}: largest mean log g {v['max_mean_log_g']:.3f} (ceiling {ceiling:.3f}), line "
                      f"chi2 = {v['chi2']:.1f} on {v['dof']} dof" for b, v in pairs.items())
    text = (f"Jacobian route (max ||DPhi|| on the grid, no ceiling): {desc}. The papers' pairwise g: {pdesc}; near "
            f"the ceiling log(2 sqrt 2 / delta) it measures the grid step, not the network.")
    if any(v == "curved" for v in shape.values()):
        return Check(NOT_REPRODUCED, text, numbers)
    if any(v == "unresolved" for v in shape.values()):
        return Check(INCONCLUSIVE, text, numbers,
                     decide=f"depths up to {RANGE[1]} with more networks (the full mode: L = 2-20, 50 networks) to "
                            f"bound the curvature of log g")
    if not all(zero.values()):
        return Check(CORRECTED, text, numbers,
                     correction="g = C g0^L with a depth-independent factor C = e^c != 1 (measured above), so eq. "
                                "(5.4) g = g0^L holds only up to C; log g is linear in L")
    return Check(REPRODUCED, text, numbers)


def plot(result: dict):
    """Mean log g with standard errors against L and the fitted lines, per route; the pairs' ceiling."""
    from rmtfp.plotting._common import pyplot

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.6, 4.4))
    for m, f in enumerate(result["fits"]):
        L = farr(f["depths"])
        mk = "o" if f["method"] == "jacobian" else "s"
        ax.errorbar(L, f["log_g_mean"], yerr=f["log_g_stderr"], fmt=mk, color=f"C{m}", capsize=3, ms=4,
                    label=f"beta = {f['beta']}, {f['method']}: mean log g")
        ax.plot(L, f["intercept"] + f["slope"] * L, "-", color=f"C{m}", lw=1)
    ax.axhline(np.log(result["params"]["pairs_ceiling"]), color="C3", ls="--", lw=1,
               label="ceiling of the pairs, log(2 sqrt 2 / delta)")
    ax.axhline(0, color="0.5", lw=0.8)
    ax.set_xlabel("depth L")
    ax.set_ylabel("log g")
    ax.set_title(f"tanh, N = {result['params']['width']}: log g against L (lines: weighted fits)", fontsize="medium")
    ax.legend(fontsize="x-small", frameon=False)
    return fig
