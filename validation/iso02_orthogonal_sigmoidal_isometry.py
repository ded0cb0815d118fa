"""Isometry claim 2: erf / tanh / hard-tanh networks reach isometry with orthogonal weights as q* -> 0.

Pennington, Schoenholz & Ganguli 2017, sec. 4-5, Figs. 2-4: on the critical line, as q* -> 0, phi' is
constant on the pre-activations (mu_2/mu_1^2 -> 1) and with orthogonal weights (s_1 = 0) the spread of
the squared singular values of J vanishes at any fixed depth; with Gaussian weights (s_1 = -1) it tends
to L instead.

Measurement: the spread m_2/m_1^2 - 1 along the critical line q* = 1 ... 1e-3 at depth L for
hard-tanh and erf, both ensembles, by two routes; sampled orthogonal hard-tanh (L = 4, N = 400) and
orthogonal erf (L = 8) networks against the theory.

Criterion: reproduced when, for both activations, the orthogonal spread decreases with q* to below 0.05 at
the smallest q*, the Gaussian spread stays >= L (1 - 0.05) there, the routes agree (1e-9) and the sampled
networks agree with the theory (3 finite-width scales); not reproduced when the orthogonal spread does not
fall below 0.05 or the Gaussian one does.
"""

from __future__ import annotations

import numpy as np

from ._common import INCONCLUSIVE, NOT_REPRODUCED, REPRODUCED, Check, sizes
from ._isometry import ISOMETRY_SPREAD, plot_spreads, routes_agree, sampled, spreads

SEED = 1702
QUICK = dict(depth=8, q_values=(1.0, 0.3, 0.1, 0.03, 0.01, 0.003, 0.001), samples=(
    ("hardtanh", 4, 400, 8, 0.1), ("erf", 8, 150, 8, 0.1)))
FULL = dict(depth=32, q_values=(1.0, 0.3, 0.1, 0.03, 0.01, 0.003, 0.001, 0.0003), samples=(
    ("hardtanh", 4, 400, 30, 0.1), ("erf", 8, 400, 30, 0.1), ("hardtanh", 32, 400, 20, 0.01)))


def compute(mode: str = "quick") -> dict:
    p = sizes(mode, QUICK, FULL)
    curves = {}
    for act in ("hardtanh", "erf"):
        for weights in ("gaussian", "orthogonal"):
            curves[f"{act} {weights}"] = spreads(act, p["depth"], p["q_values"], weights)
    samp = [sampled(act, L, N, n, "orthogonal", q, SEED + i) for i, (act, L, N, n, q) in enumerate(p["samples"])]
    return {"params": {k: v for k, v in p.items()}, "seeds": {"sampled": [SEED + i for i in range(len(samp))]},
            "curves": curves, "sampled": samp}


def check(result: dict) -> Check:
    L = result["params"]["depth"]
    curves = result["curves"]
    rows = [r for v in curves.values() for r in v]
    agree = routes_agree(rows)
    ok_ortho, ok_gauss, numbers = True, True, {}
    for act in ("hardtanh", "erf"):
        o = np.array([r["spread"] for r in curves[f"{act} orthogonal"]])
        g = np.array([r["spread"] for r in curves[f"{act} gaussian"]])
        ok_ortho &= bool(np.all(np.diff(o) <= 1e-15) and o[0] > o[-1] and o[-1] < ISOMETRY_SPREAD)  # 0 for hard-tanh
        ok_gauss &= bool(g[-1] >= (1 - ISOMETRY_SPREAD) * L)
        numbers[f"{act}_orthogonal_spread"] = o.tolist()
        numbers[f"{act}_gaussian_spread"] = g.tolist()
    numbers["q_star"] = [r["q_star"] for r in curves["erf orthogonal"]]
    samples_ok = all(s["agrees"] for s in result["sampled"])
    numbers["sampled_ks_ratio"] = [s["ks_ratio"] for s in result["sampled"]]
    numbers["sampled_spread"] = [s["spread_sampled"] for s in result["sampled"]]
    numbers["sampled_spread_theory"] = [s["spread_theory"] for s in result["sampled"]]
    q = numbers["q_star"]
    text = (f"L = {L}, q* = {q[0]:g} -> {q[-1]:g}: orthogonal spread hard-tanh "
            f"{numbers['hardtanh_orthogonal_spread'][0]:.3g} -> {numbers['hardtanh_orthogonal_spread'][-1]:.3g}, "
            f"erf {numbers['erf_orthogonal_spread'][0]:.3g} -> {numbers['erf_orthogonal_spread'][-1]:.3g}; Gaussian "
            f"hard-tanh -> {numbers['hardtanh_gaussian_spread'][-1]:.4g}, erf -> "
            f"{numbers['erf_gaussian_spread'][-1]:.4g} (L = {L}); sampled networks agree: {samples_ok}.")
    if not (ok_ortho and ok_gauss):
        return Check(NOT_REPRODUCED, text, numbers)
    if not (agree and samples_ok):
        return Check(INCONCLUSIVE, text + " (routes or samples disagree)", numbers)
    return Check(REPRODUCED, text, numbers)


def plot(result: dict):
    return plot_spreads(result, f"spread on the critical line, L = {result['params']['depth']}")
