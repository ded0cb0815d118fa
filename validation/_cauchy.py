"""The ensemble of Cauchy-weight networks shared by claims 2, 3, 4, 8 and 15.

All of them look at the same random networks: widths (2, 100, ..., 100, 2),
hard-tanh on every layer, weights and biases Cauchy(0, 1/n_l) with n_l the
fan-in (the papers' reading), drawn by :func:`rmtfp.ensembles.q_statistics`
from the root seed :data:`SEED`.  Network ``i`` of depth ``L`` has its own
stream (key (1, L, i)), so its weights do not depend on which other depths
or how many networks a claim asks for: claim 2's networks at L = 5 are claim
3's networks at L = 5.  Results are cached per (mode, depth) for one run.
"""

from __future__ import annotations

from typing import Optional

from rmtfp import Network, find_fixed_points, grid
from rmtfp.ensembles import q_statistics

from ._common import settings, sizes

__all__ = ["SEED", "ENSEMBLE", "BASINS", "q_ensemble", "basin_runs", "network", "clear_cache"]

#: root seed of the Cauchy ensemble
SEED = 20240515
#: the ensemble of Q(N_0, L): networks per depth and the grid of starts
ENSEMBLE = {
    "quick": dict(width=100, n_networks=10, step=0.2, n_bootstrap=1000),
    "full": dict(width=100, n_networks=100, step=0.05, n_bootstrap=2000),
}
#: the basin maps (claims 4, 8, 15): networks per depth and grid step; depths 2, 3, 5 as in the papers' Fig. 1/2
BASINS = {
    "quick": dict(depths=(2, 3, 5), n_networks=8, step=0.1),
    "full": dict(depths=(2, 3, 5), n_networks=100, step=0.05),
}
ACTIVATION = "hardtanh"

_Q_CACHE: dict = {}
_NET_CACHE: dict = {}
_BASIN_CACHE: dict = {}


def clear_cache() -> None:
    """Forget every cached ensemble (the next call recomputes)."""
    _Q_CACHE.clear()
    _NET_CACHE.clear()
    _BASIN_CACHE.clear()


def _per_depth(qs, d: int) -> dict:
    L = int(qs.depths[d])
    return {
        "depth": L,
        "Q": qs.Q[d].copy(),
        "n_cycles": qs.n_cycles[d].copy(),
        "n_stable": qs.n_stable[d].copy(),
        "status_fractions": qs.status_fractions[d].copy(),
        "distribution": qs.distribution_at(L),
        "mode": int(qs.mode[d]),
        "mode_interval": [int(v) for v in qs.mode_interval[d]],
        "mean": float(qs.mean[d]),
        "mean_stderr": float(qs.mean_stderr[d]),
        "cycle_fraction": float(qs.cycle_fraction[d]),
        "unresolved_fraction": float(qs.unresolved_fraction[d]),
        "_qstats": qs,
    }


def q_ensemble(depths, mode: str) -> dict:
    """{depth: statistics of Q} for the Cauchy ensemble of ``mode``.

    Depths already computed in this run are taken from the cache; the others
    are computed together (one process pool of ``settings.workers``).
    """
    p = sizes(mode, ENSEMBLE["quick"], ENSEMBLE["full"])
    missing = [int(L) for L in depths if (mode, int(L)) not in _Q_CACHE]
    if missing:
        qs = q_statistics(missing, width=p["width"], activation=ACTIVATION, weights="cauchy",
                          n_networks=p["n_networks"], rng=SEED, workers=settings.workers,
                          n_bootstrap=p["n_bootstrap"], progress=False, starts=grid(step=p["step"]))
        for d, L in enumerate(qs.depths):
            _Q_CACHE[(mode, int(L))] = _per_depth(qs, d)
    return {int(L): _Q_CACHE[(mode, int(L))] for L in depths}


def params(mode: str) -> dict:
    """The ensemble's parameters as recorded by the claims."""
    p = sizes(mode, ENSEMBLE["quick"], ENSEMBLE["full"])
    return dict(p, activation=ACTIVATION, weights="cauchy", scale="fan_in (Cauchy scale 1/n_l)", bias=True,
                last_activation=True, tol=1e-5, max_iter=50, root_seed=SEED,
                network_stream="SeedSequence(root_seed, spawn_key=(1, L, i))")


def network(depth: int, index: int, mode: str) -> Network:
    """Network ``index`` of depth ``depth`` of the ensemble (the same weights q_ensemble used)."""
    key = (mode, int(depth), int(index))
    if key not in _NET_CACHE:
        qs = q_ensemble([depth], mode)[int(depth)]["_qstats"]
        # the per-network stream does not depend on n_networks, so a larger index than the
        # ensemble holds is drawn the same way by a bigger ensemble
        _NET_CACHE[key] = qs.network(int(depth), int(index))
    return _NET_CACHE[key]


def basin_runs(mode: str, depths: Optional[tuple] = None) -> dict:
    """{depth: [(network, FixedPointResult on the basin grid), ...]} for the basin claims.

    The networks are the first ``BASINS[mode]["n_networks"]`` of the Q
    ensemble at each depth, iterated from the grid of step
    ``BASINS[mode]["step"]`` with the papers' criterion (tol 1e-5, 50 maps).
    """
    b = BASINS[mode]
    depths = b["depths"] if depths is None else depths
    starts = grid(step=b["step"])
    out = {}
    for L in depths:
        key = (mode, int(L))
        if key not in _BASIN_CACHE:
            runs = []
            n_avail = sizes(mode, ENSEMBLE["quick"], ENSEMBLE["full"])["n_networks"]
            for i in range(min(b["n_networks"], n_avail)):
                net = network(L, i, mode)
                runs.append((net, find_fixed_points(net, starts)))
            _BASIN_CACHE[key] = runs
        out[int(L)] = _BASIN_CACHE[key]
    return out


def basin_params(mode: str) -> dict:
    b = BASINS[mode]
    return dict(depths=list(b["depths"]), n_networks=b["n_networks"], step=b["step"],
                grid_points=int(grid(step=b["step"]).shape[0]), tol=1e-5, max_iter=50, ensemble=params(mode))
