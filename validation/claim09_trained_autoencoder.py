"""Claim 9: a trained autoencoder (K = 5 employees) has fixed points at the true photos and T_k inside Omega_k.

Berlyand, Krupchytskyi & Slavin, section 6, Fig. 5: a network with L = 3,
widths {2, 100, 100, 2}, hard-tanh, initialised N(0, sigma^2), sigma^2 = 1/n_l
(this section states the variance, so the two readings of N(0, sigma_l) of
claims 1 and 5 do not arise), is trained on the
loss (2.6) for K = 5 employees whose photos fill circles T_k around the true
photos x_k^*; then "the positions of FPs coincide with the 'true' photos x_k^*"
and "T_k subset Omega_k; that is, each basin of attraction is larger than the
corresponding training set".

Measurement
-----------
For each seed s in ``seeds``: ``employee_dataset(K=5, rng=s)`` (circles of
radius 0.2 in [-1, 1]^2, 40 training photos each, the centre included),
``train_autoencoder(data=..., rng=s)`` (Adam, lr 3e-3, 1500 full-batch
epochs on eq. (2.6)), then :func:`rmtfp.training.identification_report` on
the papers' 41 x 41 grid (tol 1e-5, 50 maps).  Held-out photos and fakes
(photos of no employee) are reported as context; the claim does not speak
of them.

Criterion
---------
A trained network *has the property* when every x_k^* has a stable fixed
point within 0.05 (the papers' grid step, the resolution of their figure)
and every training photo of T_k converges to that fixed point
(``train_in_basin`` = 1 for every k).  With the rate over seeds and its
95 % Clopper-Pearson interval: ``reproduced`` when the interval lies at or
above 90 % (:data:`TYPICAL`), ``not reproduced`` when it lies below 90 %,
``inconclusive`` otherwise.  The quick mode's 3 trainings cannot confirm the
rate (3 of 3: interval 0.29-1.00); confirming needs 36 of 36, so the full
mode trains 40 (40 of 40: 0.91-1.00).
"""

from __future__ import annotations

import numpy as np

from rmtfp import training

from ._common import TYPICAL, Check, farr, proportion_verdict, rate_check, sizes


QUICK = dict(seeds=(0, 1, 2), epochs=1500, lr=3e-3, K=5, radius=0.2, n_per_class=40, step=0.05)
#: 40 trainings: all of n confirm a 90 % rate (Clopper-Pearson lower bound >= 0.9) from n = 36 on
FULL = dict(seeds=tuple(range(40)), epochs=1500, lr=3e-3, K=5, radius=0.2, n_per_class=40, step=0.05)
#: a fixed point "coincides" with x_k^* within the papers' grid step
COINCIDE = 0.05


def compute(mode: str = "quick") -> dict:
    """Train one network per seed and measure its fixed points and basins."""
    p = sizes(mode, QUICK, FULL)
    nets = []
    example = {}
    for s in p["seeds"]:
        data = training.employee_dataset(K=p["K"], radius=p["radius"], n_per_class=p["n_per_class"], rng=s)
        tr = training.train_autoencoder((2, 100, 100, 2), "hardtanh", data=data, epochs=p["epochs"], lr=p["lr"],
                                        rng=s)
        rep = training.identification_report(tr.network, data, match_radius=COINCIDE)
        kinds = list(rep.stability)
        stable_match = [bool(m >= 0 and kinds[m] == "stable") for m in rep.matched]
        nets.append({"seed": s, "final_loss": tr.final_loss, "Q": rep.Q, "distances": rep.distances.tolist(),
                     "matched_stable": stable_match, "train_in_basin": rep.train_in_basin.tolist(),
                     "heldout_accuracy": rep.heldout_accuracy, "fakes_rejected": rep.fakes_rejected,
                     "fake_outcomes": rep.fake_outcomes, "spurious_fixed_points": int(rep.spurious.size),
                     "grid_fractions": {k: float(v) for k, v in rep.grid_result.fractions.items()},
                     "loss_history": tr.loss_history[:: max(1, p["epochs"] // 100)].tolist()})
        if not example:
            example = {"_report": rep, "_data": data}
    return {"params": dict(p, widths=[2, 100, 100, 2], activation="hardtanh", init="normal, variance 1/n_l",
                           optimiser="Adam, full batch", coincide=COINCIDE, tol=1e-5, max_iter=50),
            "seeds": {"data_and_training": list(p["seeds"])}, "networks": nets, **example}


def _has_property(n: dict) -> bool:
    d = farr(n["distances"])
    return bool(np.all(d <= COINCIDE) and all(n["matched_stable"]) and np.all(farr(n["train_in_basin"]) == 1.0))


def check(result: dict) -> Check:
    """Rate of trained networks with fixed points at every x_k^* and T_k inside its basin."""
    nets = result["networks"]
    ok = [_has_property(n) for n in nets]
    verdict, rate, (lo, hi) = proportion_verdict(int(sum(ok)), len(nets), TYPICAL)
    dist = farr([n["distances"] for n in nets])
    tib = farr([n["train_in_basin"] for n in nets])
    numbers = {"networks": len(nets), "with_property": int(sum(ok)), "rate": rate, "rate_95ci": [lo, hi],
               "max_distance_to_true_photo": float(np.max(dist)), "median_distance": float(np.median(dist)),
               "min_train_in_basin": float(np.min(tib)),
               "final_loss_median": float(np.median([n["final_loss"] for n in nets])),
               "Q": [n["Q"] for n in nets],
               "heldout_accuracy_median": float(np.median([n["heldout_accuracy"] for n in nets])),
               "fakes_rejected_median": float(np.median([n["fakes_rejected"] for n in nets]))}
    text = (f"{sum(ok)} of {len(nets)} trained networks have a stable fixed point within {COINCIDE} of every true "
            f"photo (largest distance {numbers['max_distance_to_true_photo']:.3g}) and every T_k in its basin "
            f"(smallest share {numbers['min_train_in_basin']:.2f}). Context: held-out photos identified "
            f"{numbers['heldout_accuracy_median']:.0%}, fakes rejected {numbers['fakes_rejected_median']:.0%} "
            "(median over networks).")
    return rate_check(verdict, text, numbers, f"more trained networks (the full mode trains {len(FULL['seeds'])})")


def plot(result: dict):
    """Basins of the first trained network with the circles and photos, and the loss histories."""
    from rmtfp.plotting import plot_identification
    from rmtfp.plotting._common import pyplot

    plt = pyplot()
    figs = []
    if "_report" in result:
        figs.append(plot_identification(result["_report"], result["_data"]))
    fig, ax = plt.subplots(figsize=(5.6, 3.6))
    step = max(1, result["params"]["epochs"] // 100)
    for n in result["networks"]:
        h = farr(n["loss_history"])
        ax.semilogy(np.arange(h.size) * step, h, lw=1, label=f"seed {n['seed']}")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (2.6)")
    ax.set_title("training", fontsize="medium")
    if len(result["networks"]) <= 10:
        ax.legend(fontsize="small", frameon=False)
    figs.append(fig)
    return figs
