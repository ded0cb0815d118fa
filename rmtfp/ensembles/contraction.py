"""The contraction constant g(beta) over an ensemble, weights of scale n^{-beta}."""

from __future__ import annotations

import concurrent.futures
import dataclasses
from typing import Optional

import numpy as np

from .._results import jsonable_result, summary_repr
from .. import activations as _activations
from .._checks import int_at_least
from ..dynamics import Network, contraction_constant, grid, lipschitz_bound
from .tasks import (_TAG_SCAN, _activation_spec, _describe, _NetSpec, _root_seed, _run_tasks, _weights_spec,
                    _widths)


_BETA_REFERENCES = ("fan_in", "width")
_G_METHODS = ("pairs", "jacobian")


# ----------------------------------------------------------------- contraction
@dataclasses.dataclass(frozen=True)
class _GTask:
    net: _NetSpec
    betas: np.ndarray
    reference: str
    points: np.ndarray
    method: str
    tag: int


def _multipliers(widths: list, beta: float, reference: str, width: int) -> list:
    """sigma_l = n^{-beta} per layer: n the fan-in n_l (``"fan_in"``) or the hidden width."""
    return [(n if reference == "fan_in" else width) ** (-beta) for n in widths[:-1]]


def _g_one(task: _GTask, item) -> tuple:
    """g and the Lipschitz bound of one network at every beta (common random numbers)."""
    depth, index, key = item
    spec = task.net
    widths = _widths(spec.dim, spec.width, depth)
    unit = Network.random(widths, spec.activation, weights=spec.weights, scale=1.0, scale_means="scale",
                          rng=spec.seed.generator(task.tag, *key), bias=spec.bias,
                          last_activation=spec.last_activation)
    lip_unit = lipschitz_bound(unit)
    g = np.empty(task.betas.size)
    lip = np.empty(task.betas.size)
    for k, beta in enumerate(task.betas):
        mult = _multipliers(widths, float(beta), task.reference, spec.width)
        net = Network([w * m for w, m in zip(unit.weights, mult)], [b * m for b, m in zip(unit.biases, mult)],
                      unit.activation, last_activation=spec.last_activation)
        g[k] = contraction_constant(net, task.points, method=task.method)
        lip[k] = lip_unit * float(np.prod(mult))
    return g, lip


def _points(points, dim: int) -> np.ndarray:
    if points is None:
        if dim > 3:
            raise ValueError(f"the default grid points exist for dim <= 3 only, got dim={dim}; pass points=")
        return grid(dim=dim)
    p = np.asarray(points, dtype=float)
    if p.ndim != 2 or p.shape[1] != dim or p.shape[0] < 2:
        raise ValueError(f"points must have shape (M, {dim}) with M >= 2, got shape {p.shape}")
    return p


def _quantile_levels(levels) -> np.ndarray:
    q = np.asarray(levels, dtype=float).ravel()
    if q.size == 0 or np.any(~np.isfinite(q)) or np.any((q < 0) | (q > 1)):
        raise ValueError(f"quantiles must be numbers in [0, 1], got {levels!r}")
    return q


@dataclasses.dataclass(frozen=True)
class ContractionScan:
    """The contraction constant g as a function of beta, sigma = n^{-beta} (papers' Fig. 3).

    Every network is drawn once with unit-scale weights Z_l, z_l and
    rescaled, W_l = sigma_l Z_l, b_l = sigma_l z_l with sigma_l = n^{-beta}
    (standard deviation for the normal law, variance sigma^2 = n^{-2 beta};
    scale gamma for Cauchy), so each network's g(beta) is a smooth curve
    (common random numbers).  At beta = 1/2 with ``beta_reference="fan_in"``
    the weights have the papers' default variance 1/n_l.

    Attributes
    ----------
    betas : ndarray, shape (B,)
    g : ndarray, shape (B, n_networks)
        Eq. (5.2) on ``points`` (or max ||DPhi|| for method "jacobian").
    lipschitz : ndarray, shape (B, n_networks)
        The global bound prod ||W_l|| Lip(phi)^L, >= g.
    quantile_levels : ndarray, shape (P,)
    quantiles : ndarray, shape (B, P)
        Quantiles of g over the networks at every beta.
    params : dict
    """

    betas: np.ndarray
    g: np.ndarray
    lipschitz: np.ndarray
    quantile_levels: np.ndarray
    quantiles: np.ndarray
    params: dict

    @property
    def median(self) -> np.ndarray:
        return np.median(self.g, axis=1)

    __repr__ = summary_repr

    @jsonable_result
    def to_dict(self) -> dict:
        return {"betas": self.betas, "g": self.g, "lipschitz": self.lipschitz,
                "quantile_levels": self.quantile_levels, "quantiles": self.quantiles, "median": self.median,
                "params": dict(self.params)}


def contraction_scan(betas, width: int = 100, depth: int = 3, activation="tanh", weights="normal",
                     n_networks: int = 20, rng=0, executor: Optional[concurrent.futures.Executor] = None, *,
                     workers: Optional[int] = None, points=None, method: str = "pairs",
                     beta_reference: str = "fan_in", dim: int = 2, bias: bool = True, last_activation: bool = True,
                     quantiles=(0.1, 0.5, 0.9), chunksize: Optional[int] = None,
                     progress: Optional[bool] = None) -> ContractionScan:
    """Quantiles of the contraction constant g(beta) for weights of variance sigma^2 = n^{-2 beta}.

    The papers' section 5: with sigma^2 = N^{-2 beta} (eq. (5.1)) and

    .. math:: g = \\max_{x_i \\ne x_j} |\\Phi(x_i) - \\Phi(x_j)| / |x_i - x_j|   \\qquad (5.2)

    on the grid, Phi is a contraction (g < 1) for beta above a critical
    beta_cr.  A hidden layer multiplies distances by about
    sigma sqrt(N) (E phi'^2)^{1/2} = N^{1/2 - beta} (E phi'^2)^{1/2}, so
    beta_cr = 1/2 up to O(1 / log N) corrections for odd phi (docs/theory.md).
    With ``beta_reference="fan_in"`` (default) sigma_l = n_l^{-beta}, n_l
    the fan-in of layer l, so the expansion of the first layer (2 -> N) and
    the contraction of the last (N -> 2) cancel and beta = 1/2 is the papers'
    default initialisation; ``"width"`` uses sigma = N^{-beta} on every
    layer (then beta_cr shifts to about (L - 1)/(2 L)).

    Parameters
    ----------
    betas : sequence of float
        Increasing exponents.
    width : int, default 100
        Hidden width N (the papers use N = 400).
    depth : int, default 3
        L, the number of weight matrices.
    activation : str or Activation, default "tanh"
    weights : {"normal", "cauchy"} or frozen distribution, default "normal"
    n_networks : int, default 20
    rng, executor, workers, chunksize, progress
        As in :func:`q_statistics`; network i uses the stream with key
        (2, i), the same at every beta.
    points : array_like, shape (M, dim), optional
        Default: the 41 x 41 grid on [-1, 1]^2.
    method : {"pairs", "jacobian"}, default "pairs"
        See :func:`rmtfp.contraction_constant`.
    beta_reference : {"fan_in", "width"}, default "fan_in"
    dim : int, default 2
    bias, last_activation : bool, default True
    quantiles : sequence of float, default (0.1, 0.5, 0.9)

    Returns
    -------
    ContractionScan
    """
    try:
        b = np.asarray(betas, dtype=float).ravel()
    except (TypeError, ValueError):
        raise ValueError(f"betas must be a sequence of numbers, got {betas!r}") from None
    if b.size < 2 or not np.all(np.isfinite(b)) or np.any(np.diff(b) <= 0):
        raise ValueError(f"betas must be at least two finite, strictly increasing numbers, got {b.tolist()}")
    width = int_at_least("width", width, 1)
    depth = int_at_least("depth", depth, 1)
    n_networks = int_at_least("n_networks", n_networks, 1)
    dim = int_at_least("dim", dim, 1)
    if method not in _G_METHODS:
        raise ValueError(f"method must be one of {_G_METHODS}, got {method!r}")
    if beta_reference not in _BETA_REFERENCES:
        raise ValueError(f"beta_reference must be one of {_BETA_REFERENCES}, got {beta_reference!r}")
    levels = _quantile_levels(quantiles)
    pts = _points(points, dim)
    seed = _root_seed(rng)
    spec = _NetSpec(seed=seed, dim=dim, width=width, activation=_activation_spec(activation),
                    weights=_weights_spec(weights), scale=1.0, bias=bool(bias), last_activation=bool(last_activation))
    task = _GTask(spec, b, beta_reference, pts, method, _TAG_SCAN)
    items = [(depth, i, (i,)) for i in range(n_networks)]
    out = _run_tasks(_g_one, task, items, executor=executor, workers=workers, chunksize=chunksize,
                     progress=progress, desc="g(beta)")
    g = np.stack([o[0] for o in out], axis=1)
    lip = np.stack([o[1] for o in out], axis=1)
    qs = np.quantile(g, levels, axis=1).T
    for a in (b, g, lip, levels, qs):
        a.setflags(write=False)
    params = dict(width=width, depth=depth, dim=dim, activation=_describe(_activations.get(activation)),
                  weights=_describe(spec.weights), bias=bool(bias), last_activation=bool(last_activation),
                  n_networks=n_networks, method=method, beta_reference=beta_reference, n_points=int(pts.shape[0]),
                  seed=seed.to_dict())
    return ContractionScan(betas=b, g=g, lipschitz=lip, quantile_levels=levels, quantiles=qs, params=params)
