"""Claim 8: for Cauchy weights the contraction constant is g < 1 on each basin of attraction.

Berlyand, Krupchytskyi & Slavin, section 5: "Our computations for the
heavy-tailed Cauchy distribution also show that on each basin of attraction
of Phi, the contraction constant is g < 1."

Measurement
-----------
For the basin-map networks of the Cauchy ensemble
(:func:`validation._cauchy.basin_runs`: depths 2, 3, 5, hard-tanh, width 100,
Cauchy(0, 1/n_l)), every fixed point reached from the grid whose basin holds
at least two grid points gets the papers' eq. (5.2) restricted to its basin,

    g_k = max over grid points x != y in basin k of |Phi(x) - Phi(y)| / |x - y|

(:func:`rmtfp.contraction_constant` with ``mask=result.basin(k)``), and the
spectral radius of DPhi at the fixed point.

Criterion
---------
"Each basin" is read as at least 90 % of the basins (:data:`TYPICAL`).
With the rate of basins with g_k < 1 and its 95 % Clopper-Pearson interval:
``reproduced`` when the interval lies at or above 90 %, ``not reproduced``
when it lies below 90 %, ``inconclusive`` otherwise.
"""

from __future__ import annotations

import numpy as np

from rmtfp import contraction_constant

from . import _cauchy
from ._common import INCONCLUSIVE, TYPICAL, Check, farr, proportion_verdict, rate_check


def compute(mode: str = "quick") -> dict:
    """g on every basin of every basin-map network."""
    runs = _cauchy.basin_runs(mode)
    bp = _cauchy.basin_params(mode)
    basins = []
    for L, nets in runs.items():
        for i, (net, res) in enumerate(nets):
            for k in range(res.Q):
                mask = res.basin(k)
                size = int(mask.sum())
                g = contraction_constant(net, res.starts, mask=mask) if size >= 2 else None
                basins.append({"depth": int(L), "network": i, "fixed_point": k, "basin_points": size,
                               "basin_share": float(res.fractions[f"fixed_point:{k}"]), "g": g,
                               "x_star": res.fixed_points[k].tolist(),
                               "spectral_radius": float(res.stability[k].spectral_radius)})
    return {"params": bp, "seeds": {"root": _cauchy.SEED, "network": bp["ensemble"]["network_stream"]},
            "basins": basins}


def check(result: dict) -> Check:
    """Rate of basins with g < 1."""
    rows = [b for b in result["basins"] if b["g"] is not None]
    g = farr([b["g"] for b in rows])
    n, k = int(g.size), int(np.sum(g < 1))
    verdict, rate, (lo, hi) = proportion_verdict(k, n, TYPICAL)
    rho = farr([b["spectral_radius"] for b in rows])
    numbers = {"basins": n, "basins_with_g_below_1": k, "rate": rate, "rate_95ci": [lo, hi],
               "median_g": float(np.median(g)) if n else None,
               "g_quartiles": np.quantile(g, [0.25, 0.75]).tolist() if n else None,
               "max_g": float(g.max()) if n else None,
               "median_spectral_radius_at_fixed_point": float(np.median(rho)) if n else None,
               "single_point_basins_skipped": len(result["basins"]) - n}
    if n == 0:
        return Check(INCONCLUSIVE, "No basin with two or more grid points was found.", numbers,
                     decide="a finer grid or more networks")
    text = (f"g < 1 on {k} of {n} basins (rate {rate:.2f}, 95 % interval {lo:.2f}-{hi:.2f}); median g = "
            f"{numbers['median_g']:.3g}, largest {numbers['max_g']:.3g}; the spectral radius of DPhi at the fixed "
            f"points has median {numbers['median_spectral_radius_at_fixed_point']:.3g}.")
    return rate_check(verdict, text, numbers, "more networks (the full mode uses 100 per depth)")


def plot(result: dict):
    """g on each basin against the basin's share of the grid, and the spectral radius at the fixed point."""
    from rmtfp.plotting._common import pyplot

    plt = pyplot()
    rows = [b for b in result["basins"] if b["g"] is not None]
    fig, ax = plt.subplots(figsize=(6.0, 4.2))
    for L in sorted({b["depth"] for b in rows}):
        s = [b for b in rows if b["depth"] == L]
        ax.scatter([b["basin_share"] for b in s], [b["g"] for b in s], s=22, label=f"g on basin, L = {L}")
    ax.scatter([b["basin_share"] for b in rows], [max(b["spectral_radius"], 1e-3) for b in rows], s=14,
               marker="x", color="0.4", label="spectral radius of D$\\Phi$(x*) (floored at 1e-3)")
    ax.axhline(1, color="C3", ls="--", lw=1, label="g = 1")
    ax.set_yscale("log")
    ax.set_xlabel("basin's share of the grid")
    ax.set_ylabel("g (eq. 5.2 on the basin)")
    ax.set_title("Cauchy weights, hard-tanh: contraction on each basin", fontsize="medium")
    ax.legend(fontsize="small", frameon=False)
    return fig
