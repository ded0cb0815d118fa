"""Shared measurements of the isometry claims (group ``isometry``: claims beyond the two papers).

Theory: :func:`rmtfp.isometry` on the critical line parametrised by q* (spread m_2/m_1^2 - 1 by the
moments and by the formula L (mu_2/mu_1^2 - 1 - s_1), two routes).  Finite width: sampled Jacobians
(:func:`rmtfp.sample_jacobian_spectrum`) at the same (sigma_w2, sigma_b2), compared with the theory by
:func:`rmtfp.compare_spectrum` (KS and moments within 3 times their finite-width scales).
"""

from __future__ import annotations

import numpy as np

import rmtfp
from rmtfp.criticality import critical_parameters

#: the spread of the two routes must agree to this relative accuracy (float64 series reversion)
ROUTE_RTOL = 1e-9
#: "reaches isometry": spread below this at the smallest q* measured
ISOMETRY_SPREAD = 0.05
#: a sampled comparison passes when every statistic is within this many finite-width scales
AGREE_FACTOR = 3.0


def spreads(activation, depth, q_values, weights) -> list:
    """Rows of spread by the two routes along the critical line."""
    rows = []
    for q in q_values:
        r = rmtfp.isometry(activation, depth, weights=weights, q_star=q, quantiles=False)
        rows.append({"q_star": float(q), "sigma_w2": r.params["sigma_w2"], "sigma_b2": r.params["sigma_b2"],
                     "chi_1": r.chi_1, "spread": r.variance, "spread_formula": r.variance_formula,
                     "lambda_max": r.lambda_max})
    return rows


def sampled(activation, depth, width, n_samples, weights, q, seed) -> dict:
    """compare_spectrum of networks on the critical line at q* = q."""
    sw2, sb2 = critical_parameters(activation, q) if rmtfp.activations.get(activation).depends_on_q else (
        1 / rmtfp.activations.get(activation).d2_moment(1), 0.0)
    r = rmtfp.sample_jacobian_spectrum(activation, depth, width, n_samples, weights=weights, sigma_w2=sw2,
                                       sigma_b2=sb2, q=q if rmtfp.activations.get(activation).depends_on_q else None,
                                       rng=seed)
    c = rmtfp.compare_spectrum(r)
    m, se = r.moments(2)
    spread = r.sample_moments(2)
    s = spread[:, 1] / spread[:, 0] ** 2 - 1
    return {"activation": activation, "depth": depth, "width": width, "n_samples": n_samples, "weights": weights,
            "q_star": float(q), "sigma_w2": sw2, "sigma_b2": sb2, "ks_ratio": float(c.ks_ratio),
            "moments_ratio": [float(x) for x in c.moments_ratio], "agrees": bool(c.agrees(AGREE_FACTOR)),
            "spread_sampled": float(np.mean(s)), "spread_sampled_stderr": float(np.std(s, ddof=1) / np.sqrt(s.size)),
            "spread_theory": float(c.moments[1] / c.moments[0] ** 2 - 1)}


def routes_agree(rows) -> bool:
    return all(abs(r["spread"] - r["spread_formula"]) <= ROUTE_RTOL * max(1.0, abs(r["spread_formula"]))
               for r in rows)


def plot_spreads(result, title):
    from rmtfp.plotting._common import pyplot

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 4), layout="constrained")
    for key, rows in result["curves"].items():
        ax.loglog([r["q_star"] for r in rows], [max(r["spread"], 1e-16) for r in rows], "o-", label=key)
    for s in result.get("sampled", []):
        ax.errorbar([s["q_star"]], [s["spread_sampled"]], yerr=[2 * s["spread_sampled_stderr"]], fmt="kx")
    ax.set_xlabel("q* on the critical line")
    ax.set_ylabel("m_2/m_1^2 - 1 of J J^T")
    ax.set_title(title, fontsize="medium")
    ax.legend(fontsize="small", frameon=False)
    return fig
