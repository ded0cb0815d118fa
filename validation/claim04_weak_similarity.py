"""Claim 4: the activation does not change the number of fixed points ("weak similarity").

Berlyand, Krupchytskyi & Slavin, section 4: "Due to the 'weak similarity'
effect, the choice of activation function phi does not change the number of
FPs"; Berlyand & Slavin, section IV, the same sentence.

Measurement
-----------
The networks of the basin maps of the Cauchy ensemble
(:func:`validation._cauchy.basin_runs`: depths 2, 3, 5, Cauchy(0, 1/n_l)
weights and biases, width 100) keep their weights and biases and get each of
the sigmoid-type activations hard-tanh, tanh and erf(sqrt(pi) x / 2) (all odd,
phi'(0) = 1, range (-1, 1)).  Each version is iterated from the same grid
with the papers' criterion (tol 1e-5, 50 maps) and its Q recorded.

Criterion
---------
A network *agrees* when Q is the same for all three activations.  With the
rate of agreeing networks and its 95 % Clopper-Pearson interval:
``reproduced`` when the interval lies at or above 90 % (:data:`TYPICAL`),
``not reproduced`` when it lies below 90 %, ``inconclusive`` otherwise.
Only Cauchy weights enter: the two readings of the Gaussian N(0, sigma_l)
(claims 1 and 5) do not arise.
"""

from __future__ import annotations

import numpy as np

from rmtfp import Network, find_fixed_points, grid

from . import _cauchy
from ._common import TYPICAL, Check, proportion_verdict, rate_check


ACTIVATIONS = ("hardtanh", "tanh", "erf")


def compute(mode: str = "quick") -> dict:
    """Q of every basin-map network under each activation."""
    runs = _cauchy.basin_runs(mode)
    bp = _cauchy.basin_params(mode)
    starts = grid(step=bp["step"])
    rows = []
    for L, nets in runs.items():
        for i, (net, res) in enumerate(nets):
            q = {"hardtanh": int(res.Q)}
            cyc = {"hardtanh": int(res.n_cycles)}
            for act in ACTIVATIONS[1:]:
                other = Network(net.weights, net.biases, act)
                r = find_fixed_points(other, starts)
                q[act] = int(r.Q)
                cyc[act] = int(r.n_cycles)
            rows.append({"depth": int(L), "index": i, "Q": q, "n_cycles": cyc})
    return {"params": dict(bp, activations=list(ACTIVATIONS)),
            "seeds": {"root": _cauchy.SEED, "network": bp["ensemble"]["network_stream"]},
            "networks": rows}


def check(result: dict) -> Check:
    """Rate of networks whose Q does not depend on the activation."""
    rows = result["networks"]
    acts = result["params"]["activations"]
    agree = [len({r["Q"][a] for a in acts}) == 1 for r in rows]
    n, k = len(rows), int(sum(agree))
    verdict, rate, (lo, hi) = proportion_verdict(k, n, TYPICAL)
    pair = {f"{a}=={b}": float(np.mean([r["Q"][a] == r["Q"][b] for r in rows]))
            for i, a in enumerate(acts) for b in acts[i + 1:]}
    per_depth = {}
    for L in sorted({r["depth"] for r in rows}):
        sel = [g for g, r in zip(agree, rows) if r["depth"] == L]
        per_depth[L] = float(np.mean(sel))
    mean_q = {a: float(np.mean([r["Q"][a] for r in rows])) for a in acts}
    numbers = {"networks": n, "agreeing": k, "agreement_rate": rate, "agreement_95ci": [lo, hi],
               "pairwise_agreement": pair, "agreement_by_depth": per_depth, "mean_Q": mean_q}
    text = (f"Q is the same for {', '.join(acts)} in {k} of {n} networks (rate {rate:.2f}, 95 % interval "
            f"{lo:.2f}-{hi:.2f}); mean Q " + ", ".join(f"{a} {v:.2f}" for a, v in mean_q.items()) + ".")
    return rate_check(verdict, text, numbers, "more networks (the full mode uses 100 per depth)")


def plot(result: dict):
    """Q under tanh and erf against Q under hard-tanh (jittered), one panel per activation."""
    from rmtfp.plotting._common import pyplot

    plt = pyplot()
    rows = result["networks"]
    acts = result["params"]["activations"]
    fig, axes = plt.subplots(1, len(acts) - 1, figsize=(4.4 * (len(acts) - 1), 4.0), layout="constrained")
    gen = np.random.default_rng(0)  # jitter only
    x = np.array([r["Q"][acts[0]] for r in rows], dtype=float)
    depth = np.array([r["depth"] for r in rows])
    for ax, act in zip(np.atleast_1d(axes), acts[1:]):
        y = np.array([r["Q"][act] for r in rows], dtype=float)
        top = max(x.max(), y.max()) + 0.5
        ax.plot([-0.5, top], [-0.5, top], color="0.6", lw=1)
        for L in sorted(set(depth.tolist())):
            s = depth == L
            ax.scatter(x[s] + gen.uniform(-0.15, 0.15, s.sum()), y[s] + gen.uniform(-0.15, 0.15, s.sum()),
                       s=18, label=f"L = {L}")
        ax.set_xlabel(f"Q with {acts[0]}")
        ax.set_ylabel(f"Q with {act}")
        ax.set_title(f"same weights: {acts[0]} vs {act}", fontsize="medium")
    np.atleast_1d(axes)[0].legend(fontsize="small", frameon=False)
    return fig
