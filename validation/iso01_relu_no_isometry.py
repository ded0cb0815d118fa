"""Isometry claim 1: ReLU networks cannot reach dynamical isometry, with Gaussian or orthogonal weights.

Pennington, Schoenholz & Ganguli 2017, sec. 4 and Fig. 2: for ReLU, mu_2/mu_1^2 = 2 at every q*, so the
spread of the squared singular values of J grows linearly with depth for either ensemble.

Measurement: on the critical line (sigma_w2 = 2, sigma_b2 = 0; the law of phi'^2 does not depend on q*)
the spread m_2/m_1^2 - 1 of J J^T at depths L by the moments and by L (mu_2/mu_1^2 - 1 - s_1); sampled
orthogonal and Gaussian ReLU networks compared with the theory.

Criterion: reproduced when both routes agree (1e-9) and give spread >= L for both ensembles (2L Gaussian,
L orthogonal) at every L, and every sampled comparison agrees (3 finite-width scales); not reproduced when
a spread falls below L; inconclusive when the routes or samples disagree.
"""

from __future__ import annotations

from ._common import INCONCLUSIVE, NOT_REPRODUCED, REPRODUCED, Check, sizes
from ._isometry import plot_spreads, routes_agree, sampled, spreads

SEED = 1701
QUICK = dict(depths=(2, 8, 32, 128), sample_depth=4, width=200, n_samples=12)
FULL = dict(depths=(2, 8, 32, 128, 512), sample_depth=8, width=400, n_samples=30)


def compute(mode: str = "quick") -> dict:
    p = sizes(mode, QUICK, FULL)
    curves, per_depth = {}, []
    for weights in ("gaussian", "orthogonal"):
        for L in p["depths"]:
            row = spreads("relu", L, [1.0], weights)[0]
            per_depth.append(dict(row, depth=L, weights=weights))
        curves[weights] = [r for r in per_depth if r["weights"] == weights]
    samp = [sampled("relu", p["sample_depth"], p["width"], p["n_samples"], w, 1.0, SEED + i)
            for i, w in enumerate(("gaussian", "orthogonal"))]
    return {"params": dict(p, activation="relu", sigma_w2=2.0, sigma_b2=0.0),
            "seeds": {"gaussian": SEED, "orthogonal": SEED + 1}, "per_depth": per_depth, "sampled": samp,
            "curves": {"gaussian": [dict(r, q_star=r["depth"]) for r in curves["gaussian"]],
                       "orthogonal": [dict(r, q_star=r["depth"]) for r in curves["orthogonal"]]}}


def check(result: dict) -> Check:
    rows = result["per_depth"]
    agree = routes_agree(rows)
    above = all(r["spread"] >= r["depth"] * (1 - 1e-12) for r in rows)
    samples_ok = all(s["agrees"] for s in result["sampled"])
    numbers = {"depth": [r["depth"] for r in rows], "weights": [r["weights"] for r in rows],
               "spread": [r["spread"] for r in rows], "spread_formula": [r["spread_formula"] for r in rows],
               "sampled_ks_ratio": [s["ks_ratio"] for s in result["sampled"]],
               "sampled_spread": [s["spread_sampled"] for s in result["sampled"]],
               "sampled_spread_theory": [s["spread_theory"] for s in result["sampled"]]}
    g = [r["spread"] for r in rows if r["weights"] == "gaussian"]
    o = [r["spread"] for r in rows if r["weights"] == "orthogonal"]
    text = (f"spread m_2/m_1^2 - 1 at L = {', '.join(str(r['depth']) for r in rows if r['weights'] == 'gaussian')}: "
            f"Gaussian {', '.join(f'{v:.4g}' for v in g)} (2L), orthogonal {', '.join(f'{v:.4g}' for v in o)} (L); "
            f"sampled networks agree: {samples_ok}.")
    if not above:
        return Check(NOT_REPRODUCED, text, numbers)
    if not (agree and samples_ok):
        return Check(INCONCLUSIVE, text + " (routes or samples disagree)", numbers)
    return Check(REPRODUCED, text, numbers)


def plot(result: dict):
    return plot_spreads({"curves": {k: [dict(r, q_star=r["depth"]) for r in v] for k, v in result["curves"].items()}},
                        "ReLU on the critical line: spread against depth (x axis: L)")
