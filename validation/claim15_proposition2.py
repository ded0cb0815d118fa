"""Claim 15: Proposition 2, fixed points of heavy-tailed networks are stable and interior points of their basins.

Berlyand & Slavin, section VI, Proposition 2: "Our numerical calculations
indicate stability of these FP. Moreover, each FP of Phi is an interior point
of its basin of attraction."  (The part of Proposition 2 on the growth and
decay of Q with L is claim 3.)

Measurement
-----------
Every fixed point of the basin-map networks of the Cauchy ensemble
(:func:`validation._cauchy.basin_runs`: depths 2, 3, 5, hard-tanh, width
100, Cauchy(0, 1/n_l)) is found by Newton's method from every point of a
grid of step 0.2 (:data:`NEWTON`: 121 starts, at most 30 steps in quick
mode, 50 in full; :func:`rmtfp.find_all_fixed_points`, residual 1e-12), which
reaches unstable fixed points as well; fixed points reached by forward
iteration (stable by construction, so they alone could not refute the
claim) are added where Newton missed them.  Each is tested for

* stability: the spectral radius rho of DPhi(x*) is < 1;
* interiority: all of 16 starts on each of the circles |x - x*| = r,
  r in :data:`RADII`, converge (tol 1e-5, 50 maps) to a fixed point within
  ``merge_tol`` = 1e-3 of x*.  The decisive radius is the smallest, 1e-3:
  it equals the merge tolerance of the fixed-point search, below which two
  points are not told apart.

Criterion
---------
A fixed point passes when it is stable and interior.  With the rate of
passing fixed points among all fixed points and its 95 % Clopper-Pearson
interval (:func:`~validation._common.proportion_verdict`): ``reproduced``
when the interval lies at or above 90 % (:data:`TYPICAL`), ``not
reproduced`` when it lies below 90 %, ``inconclusive`` otherwise.  The rate
of stable fixed points among all of them is reported, and the rate among
those reached by iteration as context.
"""

from __future__ import annotations

import numpy as np

from rmtfp import find_all_fixed_points, find_fixed_points, grid

from . import _cauchy
from ._common import INCONCLUSIVE, TYPICAL, Check, farr, proportion_interval, proportion_verdict, rate_check


#: radii of the circles of test starts around each fixed point (1e-3 = merge_tol decides)
RADII = (1e-3, 1e-2, 5e-2)
N_DIRECTIONS = 16
MERGE_TOL = 1e-3
#: Newton's starts (grid step) and steps per mode; a Newton step costs a Jacobian of the whole network at every
#: start (about 1 s per network of depth 5 with 121 starts on two shared cores)
NEWTON = {"quick": dict(step=0.2, max_iter=30), "full": dict(step=0.2, max_iter=50)}


def _interior(net, x_star: np.ndarray, radius: float) -> float:
    """Fraction of the starts on the circle of ``radius`` that converge to x*."""
    theta = 2 * np.pi * np.arange(N_DIRECTIONS) / N_DIRECTIONS
    starts = x_star + radius * np.column_stack([np.cos(theta), np.sin(theta)])
    res = find_fixed_points(net, starts)
    ok = 0
    for s, lab in zip(res.status, res.labels):
        if s == "fixed_point" and np.linalg.norm(res.fixed_points[lab] - x_star) <= MERGE_TOL:
            ok += 1
    return ok / N_DIRECTIONS


def compute(mode: str = "quick") -> dict:
    """Stability and interiority of every fixed point (Newton and iteration) of the basin-map networks."""
    runs = _cauchy.basin_runs(mode)
    bp = _cauchy.basin_params(mode)
    nw = NEWTON[mode]
    newton_starts = grid(step=nw["step"])
    fps = []
    for L, nets in runs.items():
        for i, (net, res) in enumerate(nets):
            newton = find_all_fixed_points(net, newton_starts, max_iter=nw["max_iter"], merge_tol=MERGE_TOL)
            found = [(newton.fixed_points[k], newton.stability[k], False) for k in range(newton.Q)]
            for k in range(res.Q):
                x = res.fixed_points[k]
                near = [j for j, (y, _, _) in enumerate(found) if np.linalg.norm(y - x) <= MERGE_TOL]
                if near:
                    y, st, _ = found[near[0]]
                    found[near[0]] = (y, st, True)
                else:
                    found.append((x, res.stability[k], True))
            for k, (x, st, by_iteration) in enumerate(found):
                fps.append({"depth": int(L), "network": i, "fixed_point": k, "x_star": np.asarray(x).tolist(),
                            "spectral_radius": float(st.spectral_radius), "kind": st.kind,
                            "reached_by_iteration": bool(by_iteration), "found_by_newton": k < newton.Q,
                            "returning": {str(r): _interior(net, np.asarray(x), r) for r in RADII}})
    return {"params": dict(bp, radii=list(RADII), directions=N_DIRECTIONS, merge_tol=MERGE_TOL,
                           newton=dict(nw, starts=int(newton_starts.shape[0]), tol=1e-12),
                           fixed_points="Newton from every point of a grid (residual 1e-12) and iteration"),
            "seeds": {"root": _cauchy.SEED, "network": bp["ensemble"]["network_stream"]},
            "fixed_points": fps}


def check(result: dict) -> Check:
    """Rate of fixed points that are stable and interior at the smallest radius."""
    fps = result["fixed_points"]
    r0 = str(min(float(r) for r in result["params"]["radii"]))
    rho = farr([f["spectral_radius"] for f in fps])
    stable = rho < 1
    interior = farr([f["returning"][r0] for f in fps]) == 1.0
    passing = stable & interior
    n, k = len(fps), int(passing.sum())
    verdict, rate, (lo, hi) = proportion_verdict(k, n, TYPICAL)
    by_radius = {r: float(np.mean([f["returning"][r] == 1.0 for f in fps])) if fps else None
                 for r in (str(v) for v in result["params"]["radii"])}
    it = np.array([f["reached_by_iteration"] for f in fps], dtype=bool)
    s_lo, s_hi = proportion_interval(int(stable.sum()), n)
    numbers = {"fixed_points": n, "stable": int(stable.sum()), "stable_rate": float(stable.mean()) if n else None,
               "stable_rate_95ci": [s_lo, s_hi], "interior": int(interior.sum()), "passing": k,
               "rate": rate, "rate_95ci": [lo, hi], "median_spectral_radius": float(np.median(rho)) if n else None,
               "max_spectral_radius": float(rho.max()) if n else None, "interior_rate_by_radius": by_radius,
               "reached_by_iteration": int(it.sum()), "stable_among_reached_by_iteration": int((stable & it).sum()),
               "only_by_newton": int((~it).sum())}
    if n == 0:
        return Check(INCONCLUSIVE, "No fixed point was reached from the grid.", numbers,
                     decide="more networks or a finer grid")
    step = result["params"]["newton"]["step"]
    text = (f"{k} of {n} fixed points (Newton from every point of a grid of step {step}, and iteration) are stable "
            f"and interior (rate {rate:.2f}, 95 % interval {lo:.2f}-{hi:.2f}): {int(stable.sum())} stable (rate "
            f"{stable.mean():.2f}, 95 % interval {s_lo:.2f}-{s_hi:.2f}; median spectral radius "
            f"{numbers['median_spectral_radius']:.3g}), "
            f"{int(interior.sum())} attract the whole circle of radius {r0}. Of the {int(it.sum())} reached by "
            f"iteration (stable by construction) {int((stable & it).sum())} are stable; {int((~it).sum())} are "
            "found by Newton's method only.")
    return rate_check(verdict, text, numbers, "more networks (the full mode uses 100 per depth)")


def plot(result: dict):
    """Spectral radius of every fixed point and the share of returning test starts per radius."""
    from rmtfp.plotting._common import pyplot

    plt = pyplot()
    fps = result["fixed_points"]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
    rho = farr([f["spectral_radius"] for f in fps])
    depth = np.array([f["depth"] for f in fps])
    for L in sorted(set(depth.tolist())):
        s = depth == L
        a.scatter(np.flatnonzero(s), np.maximum(rho[s], 1e-6), s=18, label=f"L = {L}")
    a.axhline(1, color="C3", ls="--", lw=1)
    a.set_yscale("log")
    a.set_xlabel("fixed point (all networks)")
    a.set_ylabel("spectral radius of D$\\Phi$(x*) (floored at 1e-6)")
    a.legend(fontsize="small", frameon=False)
    a.set_title("stability", fontsize="medium")
    radii = [str(r) for r in result["params"]["radii"]]
    share = [np.mean([f["returning"][r] for f in fps]) if fps else np.nan for r in radii]
    full = [np.mean([f["returning"][r] == 1.0 for f in fps]) if fps else np.nan for r in radii]
    x = np.arange(len(radii))
    b.bar(x - 0.2, share, 0.4, label="share of test starts returning")
    b.bar(x + 0.2, full, 0.4, label="share of fixed points with all returning")
    b.set_xticks(x, [f"r = {r}" for r in radii])
    b.set_ylim(0, 1.05)
    b.legend(fontsize="small", frameon=False, loc="lower left")
    b.set_title("interior points: 16 starts on |x - x*| = r", fontsize="medium")
    fig.suptitle("Cauchy weights, hard-tanh, width 100", fontsize="medium")
    return fig
