"""The law of Q, the number of fixed points, over an ensemble of random networks."""

from __future__ import annotations

import concurrent.futures
import dataclasses
import inspect
import math
import warnings
from typing import Any, Optional

import numpy as np

from .._results import jsonable_result, summary_repr
from .. import activations as _activations
from .._checks import int_at_least, open_fraction
from ..dynamics import Network, find_fixed_points, grid
from ..errors import UnresolvedWarning
from .tasks import (_TAG_BOOT, _TAG_Q, _activation_spec, _depths, _describe, _draw_network, _NetSpec, _root_seed,
                    _run_tasks, _weights_spec)


_STATUSES = ("fixed_point", "cycle", "unresolved", "divergent")


# ----------------------------------------------------------------- Q statistics
@dataclasses.dataclass(frozen=True)
class _QTask:
    net: _NetSpec
    starts: Optional[np.ndarray]
    options: dict


def _q_one(task: _QTask, item) -> tuple:
    depth, index = item
    net = _draw_network(task.net, _TAG_Q, depth, index, (depth, index))
    with warnings.catch_warnings():  # the ensemble reports its unresolved fraction itself
        warnings.simplefilter("ignore", UnresolvedWarning)
        res = find_fixed_points(net, task.starts, **task.options)
    st = res.status
    fractions = tuple(float(np.count_nonzero(st == s)) / st.size for s in _STATUSES)
    n_stable = sum(1 for s in res.stability if s.kind == "stable")
    periods = tuple(int(c.period) for c in res.cycles)
    return res.Q, len(res.cycles), fractions, n_stable, periods


@dataclasses.dataclass(frozen=True)
class QStatistics:
    """The law of Q, the number of fixed points, over an ensemble of random networks.

    For every depth L the ``n_networks`` networks are iterated from the
    starts by :func:`rmtfp.find_fixed_points`; Q is the number of distinct
    fixed points reached.  Starts attracted by cycles or unresolved within
    ``max_iter`` maps are classified, not dropped: Q = 0 means that no start
    converged to a fixed point (usually: the attractor is a cycle).

    Attributes
    ----------
    depths : ndarray of int, shape (D,)
    Q : ndarray of int, shape (D, n_networks)
        Q of every network.
    n_cycles : ndarray of int, shape (D, n_networks)
        Distinct cycles (period 2..max_period) reached from the starts.
    n_stable : ndarray of int, shape (D, n_networks)
        Fixed points whose linearisation is stable.
    status_fractions : ndarray, shape (D, n_networks, 4)
        Fraction of the starts of each network that end as "fixed_point",
        "cycle", "unresolved", "divergent" (in this order).
    max_period : ndarray of int, shape (D, n_networks)
        Longest cycle period found (0 without cycles).
    distribution : ndarray, shape (D, Q_max + 1)
        distribution[d, q] = fraction of the networks of depth d with Q = q.
    mode : ndarray of int, shape (D,)
        The most frequent Q (the smallest one on ties).
    mode_interval : ndarray of int, shape (D, 2)
        Bootstrap percentile interval of the mode at ``confidence``; (mode, mode)
        when ``n_bootstrap`` is 0 (no resamples, no interval).
    mean, mean_stderr : ndarray, shape (D,)
        Mean of Q and its standard error s / sqrt(n).
    cycle_fraction : ndarray, shape (D,)
        Fraction of networks some of whose starts end on a cycle.
    unresolved_fraction : ndarray, shape (D,)
        Fraction of networks with at least one unresolved start.
    divergent_fraction : ndarray, shape (D,)
    confidence : float
    params : dict
        Architecture, laws, fixed-point options, the seed (entropy and spawn
        key) and the number of bootstrap resamples.
    """

    depths: np.ndarray
    Q: np.ndarray
    n_cycles: np.ndarray
    n_stable: np.ndarray
    status_fractions: np.ndarray
    max_period: np.ndarray
    distribution: np.ndarray
    mode: np.ndarray
    mode_interval: np.ndarray
    mean: np.ndarray
    mean_stderr: np.ndarray
    cycle_fraction: np.ndarray
    unresolved_fraction: np.ndarray
    divergent_fraction: np.ndarray
    confidence: float
    params: dict
    _spec: Any = dataclasses.field(default=None, repr=False, compare=False)

    @property
    def n_networks(self) -> int:
        return int(self.Q.shape[1])

    def distribution_at(self, depth: int) -> dict:
        """{Q: fraction of networks} at one depth (only the Q that occur)."""
        d = self._index(depth)
        return {int(q): float(f) for q, f in enumerate(self.distribution[d]) if f > 0}

    def _index(self, depth: int) -> int:
        hits = np.flatnonzero(self.depths == depth)
        if hits.size == 0:
            raise ValueError(f"depth must be one of {self.depths.tolist()}, got {depth!r}")
        return int(hits[0])

    def network(self, depth: int, index: int) -> Network:
        """Rebuild network ``index`` of depth ``depth`` exactly as the run drew it."""
        self._index(depth)
        index = int_at_least("index", index, 0)
        if index >= self.n_networks:
            raise ValueError(f"index must be < n_networks = {self.n_networks}, got {index}")
        if self._spec is None:
            raise ValueError("this result was not produced by q_statistics in this session (no network spec)")
        return _draw_network(self._spec, _TAG_Q, int(depth), index, (int(depth), index))

    __repr__ = summary_repr

    @jsonable_result
    def to_dict(self) -> dict:
        return {
            "depths": self.depths,
            "Q": self.Q,
            "n_cycles": self.n_cycles,
            "n_stable": self.n_stable,
            "status_fractions": {s: self.status_fractions[..., k] for k, s in enumerate(_STATUSES)},
            "max_period": self.max_period,
            "distribution": [self.distribution_at(int(d)) for d in self.depths],
            "mode": self.mode,
            "mode_interval": self.mode_interval,
            "mean": self.mean,
            "mean_stderr": self.mean_stderr,
            "cycle_fraction": self.cycle_fraction,
            "unresolved_fraction": self.unresolved_fraction,
            "divergent_fraction": self.divergent_fraction,
            "confidence": self.confidence,
            "params": dict(self.params),
        }


def _bootstrap_mode(values: np.ndarray, n_boot: int, gen: np.random.Generator, confidence: float):
    """Mode of integer ``values`` (smallest on ties) and its bootstrap percentile interval."""
    n = values.size
    width = int(values.max()) + 1
    mode = int(np.argmax(np.bincount(values, minlength=width)))
    if n_boot == 0:
        return mode, (mode, mode)
    idx = gen.integers(0, n, size=(n_boot, n))
    flat = (np.arange(n_boot)[:, None] * width + values[idx]).ravel()
    counts = np.bincount(flat, minlength=n_boot * width).reshape(n_boot, width)
    modes = np.argmax(counts, axis=1)
    a = (1 - confidence) / 2
    lo = int(np.quantile(modes, a, method="inverted_cdf"))
    hi = int(np.quantile(modes, 1 - a, method="inverted_cdf"))
    return mode, (lo, hi)


def _check_options(options: dict) -> dict:
    allowed = set(inspect.signature(find_fixed_points).parameters) - {"net"}
    bad = sorted(set(options) - allowed)
    if bad:
        raise ValueError(f"unknown fixed-point option(s) {bad}; find_fixed_points accepts {sorted(allowed)}")
    return dict(options)


def q_statistics(depths, width: int = 100, activation="hardtanh", weights="cauchy", n_networks: int = 100,
                 rng=0, executor: Optional[concurrent.futures.Executor] = None, *, workers: Optional[int] = None,
                 dim: int = 2, scale="fan_in", bias: bool = True, last_activation: bool = True,
                 confidence: float = 0.95, n_bootstrap: int = 2000, chunksize: Optional[int] = None,
                 progress: Optional[bool] = None, **fixed_point_options) -> QStatistics:
    """The law of the number of fixed points Q at every depth (papers: Fig. 2 / Fig. 3, Q(N_0, L)).

    For each depth L, ``n_networks`` independent networks Phi: R^n -> R^n
    with widths (n, width, ..., width, n) (L weight matrices) and i.i.d.
    weights and biases (:meth:`rmtfp.Network.random`; the papers' default
    is Cauchy(0, 1/n_l), n_l the fan-in) are iterated from every start by
    :func:`rmtfp.find_fixed_points` (papers' defaults: the 41 x 41 grid on
    [-1, 1]^2, tol 1e-5, 50 maps).  For every depth the result holds the
    distribution of Q, its mode with a bootstrap interval (``n_bootstrap``
    resamples of the networks), its mean with standard error, and the
    fractions of networks with cycles, unresolved or divergent starts.

    Parameters
    ----------
    depths : int or sequence of int >= 1
    width : int >= 1, default 100
        Hidden width N_0.
    activation : str or Activation, default "hardtanh"
    weights : {"normal", "cauchy"} or scipy.stats frozen distribution, default "cauchy"
    n_networks : int >= 1, default 100
    rng : int, SeedSequence, Generator or None, default 0
        Root of every network's stream (see the module notes); None draws
        fresh entropy, recorded in ``params["seed"]``.
    executor : concurrent.futures.Executor, optional
        Where the networks run (e.g. a dask.distributed client's
        ``get_executor()``); default: a local process pool of ``workers``.
    workers : int, optional
        Local worker processes (default: the available cores; 1 runs in
        this process).  Ignored, except for chunking, with ``executor``.
    dim : int, default 2
        n, the input and output dimension.
    scale : "fan_in", float or callable, default "fan_in"
        As in :meth:`rmtfp.Network.random`.
    bias, last_activation : bool, default True
    confidence : float, default 0.95
        Of the mode interval.
    n_bootstrap : int >= 0, default 2000
    chunksize : int, optional
        Networks per task sent to the executor (default: about 64 tasks
        per worker); it does not change the result.
    progress : bool or None
        tqdm progress bar; None shows it on an interactive terminal only.
    **fixed_point_options
        Passed to :func:`rmtfp.find_fixed_points`: ``starts``, ``tol``,
        ``max_iter``, ``merge_tol``, ``max_period``, ``refine``, ...

    Returns
    -------
    QStatistics

    Raises
    ------
    ValueError
        For bad arguments (named in the message) or unknown fixed-point
        options; errors inside a network's search are re-raised.

    Examples
    --------
    >>> from rmtfp.ensembles import q_statistics
    >>> from rmtfp import grid
    >>> res = q_statistics([1, 2], width=20, n_networks=8, workers=1,
    ...                    starts=grid(step=0.25))           # doctest: +SKIP
    >>> res.distribution_at(2)                               # doctest: +SKIP
    """
    depth_arr = _depths(depths)
    width = int_at_least("width", width, 1)
    n_networks = int_at_least("n_networks", n_networks, 1)
    dim = int_at_least("dim", dim, 1)
    confidence = open_fraction("confidence", confidence)
    n_bootstrap = int_at_least("n_bootstrap", n_bootstrap, 0)
    options = _check_options(fixed_point_options)
    starts = options.pop("starts", None)
    if starts is None:
        if dim > 3:
            raise ValueError(f"the default grid starts exist for dim <= 3 only, got dim={dim}; pass starts=")
        starts = grid(dim=dim)
    starts = np.asarray(starts, dtype=float)
    if starts.ndim != 2 or starts.shape[1] != dim:
        raise ValueError(f"starts must have shape (M, {dim}), got shape {starts.shape}")
    seed = _root_seed(rng)
    spec = _NetSpec(seed=seed, dim=dim, width=width, activation=_activation_spec(activation),
                    weights=_weights_spec(weights), scale=scale, bias=bool(bias),
                    last_activation=bool(last_activation))
    # deepest first: the slow tasks start early, the pool ends balanced
    items = [(int(d), i) for d in sorted(depth_arr, reverse=True) for i in range(n_networks)]
    out = _run_tasks(_q_one, _QTask(spec, starts, options), items, executor=executor, workers=workers,
                     chunksize=chunksize, progress=progress, desc="Q statistics")
    by_item = dict(zip(items, out))
    D = depth_arr.size
    Q = np.zeros((D, n_networks), dtype=int)
    cyc = np.zeros_like(Q)
    stab = np.zeros_like(Q)
    maxp = np.zeros_like(Q)
    frac = np.zeros((D, n_networks, len(_STATUSES)))
    for d, L in enumerate(depth_arr):
        for i in range(n_networks):
            q, c, f, s, periods = by_item[(int(L), i)]
            Q[d, i], cyc[d, i], stab[d, i], frac[d, i] = q, c, s, f
            maxp[d, i] = max(periods, default=0)
    qmax = int(Q.max())
    dist = np.stack([np.bincount(Q[d], minlength=qmax + 1) / n_networks for d in range(D)])
    mode = np.zeros(D, dtype=int)
    interval = np.zeros((D, 2), dtype=int)
    for d, L in enumerate(depth_arr):
        gen = seed.generator(_TAG_BOOT, _TAG_Q, int(L))
        mode[d], interval[d] = _bootstrap_mode(Q[d], n_bootstrap, gen, confidence)
    mean = Q.mean(axis=1)
    stderr = Q.std(axis=1, ddof=1) / math.sqrt(n_networks) if n_networks > 1 else np.full(D, np.nan)
    params = dict(width=width, dim=dim, activation=_describe(_activations.get(activation)),
                  weights=_describe(spec.weights), scale=_describe(scale), bias=bool(bias),
                  last_activation=bool(last_activation), n_networks=n_networks, n_starts=int(starts.shape[0]),
                  fixed_point_options={k: _describe(v) for k, v in options.items()},
                  seed=seed.to_dict(), n_bootstrap=n_bootstrap)
    arrays = (depth_arr, Q, cyc, stab, frac, maxp, dist, mode, interval, mean, stderr)
    for a in arrays:
        a.setflags(write=False)
    return QStatistics(depths=depth_arr, Q=Q, n_cycles=cyc, n_stable=stab, status_fractions=frac, max_period=maxp,
                       distribution=dist, mode=mode, mode_interval=interval, mean=mean, mean_stderr=stderr,
                       cycle_fraction=(cyc > 0).mean(axis=1), unresolved_fraction=(frac[..., 2] > 0).mean(axis=1),
                       divergent_fraction=(frac[..., 3] > 0).mean(axis=1), confidence=confidence, params=params,
                       _spec=spec)
