"""The contraction constant against depth and the fitted per-layer factor g_0."""

from __future__ import annotations

import concurrent.futures
import dataclasses
import math
import numbers
from typing import Optional

import numpy as np

from .._results import jsonable_result, summary_repr
from .. import activations as _activations
from .._checks import int_at_least, open_fraction
from .contraction import _BETA_REFERENCES, _G_METHODS, _GTask, _g_one, _points
from .tasks import _TAG_DEPTH, _activation_spec, _depths, _describe, _NetSpec, _root_seed, _run_tasks, _weights_spec


@dataclasses.dataclass(frozen=True)
class ContractionDepth:
    """g as a function of depth and the per-layer factor g_0 (papers' Fig. 4, eq. (5.4)).

    The fit is weighted least squares of the per-depth mean of log g on L,

    .. math:: \\overline{\\log g}(L) = c + L \\log g_0,

    weights 1/s_L^2 (s_L the standard error of the mean at depth L).  The
    papers' g = g_0^L is the case c = 0; docs/theory.md: it is an upper-bound shape,
    not an identity, hence the free intercept.

    Attributes
    ----------
    depths : ndarray of int, shape (D,)
    g, lipschitz : ndarray, shape (D, n_networks)
    log_g_mean, log_g_stderr : ndarray, shape (D,)
    g0 : float
        exp(slope).
    g0_interval : (float, float)
        exp(slope +- t s_slope) at ``confidence`` (t with D - 2 degrees of
        freedom).
    intercept, intercept_stderr, slope, slope_stderr : float
    chi2 : float
        Weighted residual sum of squares (about D - 2 for a good fit).
    beta : float
    confidence : float
    params : dict
    """

    depths: np.ndarray
    g: np.ndarray
    lipschitz: np.ndarray
    log_g_mean: np.ndarray
    log_g_stderr: np.ndarray
    g0: float
    g0_interval: tuple
    slope: float
    slope_stderr: float
    intercept: float
    intercept_stderr: float
    chi2: float
    beta: float
    confidence: float
    params: dict

    def fitted(self, depths=None) -> np.ndarray:
        """exp(c + L log g_0) at ``depths`` (default: the scanned ones)."""
        L = self.depths if depths is None else np.asarray(depths, dtype=float)
        return np.exp(self.intercept + self.slope * L)

    __repr__ = summary_repr

    @jsonable_result
    def to_dict(self) -> dict:
        return {"depths": self.depths, "g": self.g, "lipschitz": self.lipschitz, "log_g_mean": self.log_g_mean,
                "log_g_stderr": self.log_g_stderr, "g0": self.g0, "g0_interval": list(self.g0_interval),
                "slope": self.slope, "slope_stderr": self.slope_stderr, "intercept": self.intercept,
                "intercept_stderr": self.intercept_stderr, "chi2": self.chi2, "beta": self.beta,
                "confidence": self.confidence, "params": dict(self.params)}


def _fit_log_linear(depths: np.ndarray, mean: np.ndarray, se: np.ndarray) -> tuple:
    """Weighted (1/se^2) least squares of mean on depths: slope, its se, intercept, its se, chi2."""
    L = depths.astype(float)
    use_w = np.all(se > 0) and np.all(np.isfinite(se))
    w = 1.0 / se**2 if use_w else np.ones_like(L)
    A = np.column_stack([np.ones_like(L), L])
    Aw = A * np.sqrt(w)[:, None]
    yw = mean * np.sqrt(w)
    coef, *_ = np.linalg.lstsq(Aw, yw, rcond=None)
    resid = yw - Aw @ coef
    chi2 = float(resid @ resid)
    cov = np.linalg.inv(Aw.T @ Aw)
    dof = L.size - 2
    if not use_w and dof > 0:
        cov = cov * chi2 / dof  # unweighted: residual variance estimates the noise
    c, s = float(coef[0]), float(coef[1])
    return s, float(math.sqrt(cov[1, 1])), c, float(math.sqrt(cov[0, 0])), chi2


def contraction_vs_depth(depths, beta: float = 0.5, width: int = 100, activation="tanh", weights="normal",
                         n_networks: int = 20, rng=0, executor: Optional[concurrent.futures.Executor] = None, *,
                         workers: Optional[int] = None, points=None, method: str = "pairs",
                         beta_reference: str = "fan_in", dim: int = 2, bias: bool = True,
                         last_activation: bool = True, confidence: float = 0.95, chunksize: Optional[int] = None,
                         progress: Optional[bool] = None) -> ContractionDepth:
    """g(L) over an ensemble and the fitted per-layer factor g_0 (log g linear in L).

    Networks of every depth are drawn independently (stream key (3, L, i)),
    with sigma_l = n^{-beta} as in :func:`contraction_scan`; g is eq. (5.2)
    on ``points``.  Networks with g = 0 (constant on the points) are left
    out of the fit.

    Parameters
    ----------
    depths : sequence of int >= 1
        At least three depths.
    beta : float, default 0.5
    width, activation, weights, n_networks, rng, executor, workers, points, method,
    beta_reference, dim, bias, last_activation, chunksize, progress
        As in :func:`contraction_scan`.
    confidence : float, default 0.95

    Returns
    -------
    ContractionDepth

    Raises
    ------
    ValueError
        For fewer than three depths, or a depth where every network has
        g = 0.
    """
    depth_arr = _depths(depths)
    if depth_arr.size < 3:
        raise ValueError(f"depths must hold at least three depths for a fit with its error, "
                         f"got {depth_arr.tolist()}")
    depth_arr = np.sort(depth_arr)
    if not (isinstance(beta, numbers.Real) and math.isfinite(beta)):
        raise ValueError(f"beta must be a finite number, got {beta!r}")
    width = int_at_least("width", width, 1)
    n_networks = int_at_least("n_networks", n_networks, 1)
    dim = int_at_least("dim", dim, 1)
    confidence = open_fraction("confidence", confidence)
    if method not in _G_METHODS:
        raise ValueError(f"method must be one of {_G_METHODS}, got {method!r}")
    if beta_reference not in _BETA_REFERENCES:
        raise ValueError(f"beta_reference must be one of {_BETA_REFERENCES}, got {beta_reference!r}")
    pts = _points(points, dim)
    seed = _root_seed(rng)
    spec = _NetSpec(seed=seed, dim=dim, width=width, activation=_activation_spec(activation),
                    weights=_weights_spec(weights), scale=1.0, bias=bool(bias), last_activation=bool(last_activation))
    task = _GTask(spec, np.array([float(beta)]), beta_reference, pts, method, _TAG_DEPTH)
    items = [(int(L), i, (int(L), i)) for L in depth_arr[::-1] for i in range(n_networks)]
    out = _run_tasks(_g_one, task, items, executor=executor, workers=workers, chunksize=chunksize,
                     progress=progress, desc="g(L)")
    by_item = {it[:2]: o for it, o in zip(items, out)}
    g = np.array([[by_item[(int(L), i)][0][0] for i in range(n_networks)] for L in depth_arr])
    lip = np.array([[by_item[(int(L), i)][1][0] for i in range(n_networks)] for L in depth_arr])
    mean = np.empty(depth_arr.size)
    se = np.empty(depth_arr.size)
    for d in range(depth_arr.size):
        pos = g[d][g[d] > 0]
        if pos.size == 0:
            raise ValueError(f"every network of depth {depth_arr[d]} has g = 0 on the points: log g is undefined")
        logs = np.log(pos)
        mean[d] = logs.mean()
        se[d] = logs.std(ddof=1) / math.sqrt(pos.size) if pos.size > 1 else 0.0
    slope, s_slope, c, s_c, chi2 = _fit_log_linear(depth_arr, mean, se)
    from scipy import stats  # here, not at import: scipy.stats costs a second of CPU

    t = float(stats.t.ppf(0.5 + confidence / 2, max(1, depth_arr.size - 2)))
    for a in (depth_arr, g, lip, mean, se):
        a.setflags(write=False)
    params = dict(width=width, dim=dim, activation=_describe(_activations.get(activation)),
                  weights=_describe(spec.weights), bias=bool(bias), last_activation=bool(last_activation),
                  n_networks=n_networks, method=method, beta_reference=beta_reference, n_points=int(pts.shape[0]),
                  seed=seed.to_dict())
    return ContractionDepth(depths=depth_arr, g=g, lipschitz=lip, log_g_mean=mean, log_g_stderr=se,
                            g0=math.exp(slope), g0_interval=(math.exp(slope - t * s_slope), math.exp(slope + t * s_slope)),
                            slope=slope, slope_stderr=s_slope, intercept=c, intercept_stderr=s_c, chi2=chi2,
                            beta=float(beta), confidence=confidence, params=params)
