"""Ensembles of random networks: the number of fixed points, contraction and its loss.

The papers' claims about random networks are statistical.  This module turns
each into a reproducible experiment over many independent networks, with
uncertainties:

:func:`q_statistics`          law of Q, the number of fixed points reached from
                              the grid, at every depth (mode with a bootstrap
                              interval, mean, cycles and unresolved starts)
:func:`contraction_scan`      quantiles of the contraction constant g(beta) for
                              weights of scale sigma = n^{-beta}
:func:`critical_beta`         beta_cr, where g crosses 1, with an interval
:func:`contraction_vs_depth`  g(L) and the fitted per-layer factor g_0

Networks
--------
A network of depth L has widths (n, width, ..., width, n) with L weight
matrices (L = 1: one n x n layer); its weights and biases are drawn by
:meth:`rmtfp.Network.random`.

Seeds and parallelism
---------------------
All randomness comes from one :class:`numpy.random.SeedSequence` (from
``rng``).  Network ``i`` of depth ``L`` gets its own stream,
``SeedSequence(entropy, spawn_key=(*root.spawn_key, tag, L, i))`` with a tag
per experiment (1: :func:`q_statistics`, 2: :func:`contraction_scan`, 3:
:func:`contraction_vs_depth`), so the result depends only on the seed: not on
the executor, the number of workers, the chunking, the order of ``depths``,
nor on ``n_networks`` (the first 50 networks of a 100-network run are the
50 networks of a 50-network run).  :meth:`QStatistics.network` rebuilds any
network of a run.

The networks are independent tasks.  By default they run on a local
:class:`concurrent.futures.ProcessPoolExecutor` (``workers`` processes, one
BLAS thread each); ``executor=`` takes any :class:`concurrent.futures.Executor`
instead, e.g. ``dask.distributed.Client(...).get_executor()`` to spread a
large ensemble over a cluster, or ``workers=1`` runs everything in this
process.  The executor must be able to pickle module-level functions and
numpy arrays (process pools, dask and ``mpi4py.futures`` can).
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import inspect
import math
import numbers
import os
import warnings
from typing import Any, Optional

import numpy as np

from ._results import jsonable_result, summary_repr
from ._threads import init_single_blas_thread_worker, single_blas_thread
from . import activations as _activations
from .activations import Activation
from .errors import UnresolvedWarning
from .dynamics import Network, contraction_constant, find_fixed_points, grid, lipschitz_bound

__all__ = [
    "QStatistics",
    "ContractionScan",
    "CriticalBeta",
    "ContractionDepth",
    "q_statistics",
    "contraction_scan",
    "critical_beta",
    "contraction_vs_depth",
    "network_seed",
]

_TAG_Q, _TAG_SCAN, _TAG_DEPTH, _TAG_BOOT = 1, 2, 3, 0
_STATUSES = ("fixed_point", "cycle", "unresolved", "divergent")
_BETA_REFERENCES = ("fan_in", "width")
_G_METHODS = ("pairs", "jacobian")


# ----------------------------------------------------------------- checks
def _int_at_least(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _depths(depths) -> np.ndarray:
    if isinstance(depths, numbers.Integral) and not isinstance(depths, bool):
        depths = [depths]
    try:
        raw = list(depths)
    except TypeError:
        raise ValueError(f"depths must be a sequence of integers >= 1, got {depths!r}") from None
    if not raw or any(isinstance(d, bool) or not isinstance(d, numbers.Integral) or d < 1 for d in raw):
        raise ValueError(f"depths must be a non-empty sequence of integers >= 1, got {depths!r}")
    if len(set(int(d) for d in raw)) != len(raw):
        raise ValueError(f"depths must not repeat a depth, got {raw!r}")
    return np.array([int(d) for d in raw])


def _confidence(value) -> float:
    if not (isinstance(value, numbers.Real) and not isinstance(value, bool) and 0 < value < 1):
        raise ValueError(f"confidence must be a number in (0, 1), got {value!r}")
    return float(value)


def _activation_spec(activation):
    """A picklable stand-in for the activation: its registered name, or a fresh copy."""
    act = _activations.get(activation)
    try:
        if _activations.get(act.name) is act:
            return act.name
    except ValueError:
        pass
    # an unregistered Activation: a copy without the cached (unpicklable) lambdified functions
    return dataclasses.replace(act)


def _weights_spec(weights):
    if isinstance(weights, str):
        law = weights.strip().lower()
        if law not in ("normal", "cauchy"):
            raise ValueError(f"weights must be 'normal', 'cauchy' or a scipy.stats frozen distribution, "
                             f"got {weights!r}")
        return law
    if hasattr(weights, "rvs"):
        return weights
    raise ValueError(f"weights must be 'normal', 'cauchy' or a scipy.stats frozen distribution, "
                     f"got {type(weights).__name__}")


def _describe(obj) -> Any:
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return obj
    if isinstance(obj, Activation):
        return obj.name
    dist = getattr(obj, "dist", None)
    if dist is not None:
        return f"{getattr(dist, 'name', type(dist).__name__)}{tuple(getattr(obj, 'args', ()))}" \
               f"{dict(getattr(obj, 'kwds', {})) or ''}"
    return repr(obj)


# ----------------------------------------------------------------- seeds
@dataclasses.dataclass(frozen=True)
class _Seed:
    """The root SeedSequence as plain data (picklable, JSON-able)."""

    entropy: Any
    spawn_key: tuple
    pool_size: int

    def child(self, *key: int) -> np.random.SeedSequence:
        return np.random.SeedSequence(self.entropy, spawn_key=self.spawn_key + tuple(int(k) for k in key),
                                      pool_size=self.pool_size)

    def generator(self, *key: int) -> np.random.Generator:
        return np.random.Generator(np.random.PCG64(self.child(*key)))

    def to_dict(self) -> dict:
        ent = self.entropy
        return {"entropy": [int(e) for e in ent] if isinstance(ent, (list, tuple, np.ndarray)) else int(ent),
                "spawn_key": list(self.spawn_key)}


def _root_seed(rng) -> _Seed:
    """The root of all streams of one experiment.

    int -> SeedSequence(int); SeedSequence -> itself; Generator -> a
    SeedSequence from 128 bits drawn from it (so the generator advances);
    None -> fresh entropy (recorded in the result, so the run can be repeated).
    """
    if rng is None:
        ss = np.random.SeedSequence()
    elif isinstance(rng, np.random.SeedSequence):
        ss = rng
    elif isinstance(rng, np.random.Generator):
        ss = np.random.SeedSequence([int(v) for v in rng.integers(0, 2**32, size=4, dtype=np.uint64)])
    elif isinstance(rng, numbers.Integral) and not isinstance(rng, bool) and rng >= 0:
        ss = np.random.SeedSequence(int(rng))
    else:
        raise ValueError(f"rng must be None, a non-negative integer seed, a SeedSequence or a numpy Generator, "
                         f"got {rng!r}")
    return _Seed(entropy=ss.entropy, spawn_key=tuple(int(k) for k in ss.spawn_key), pool_size=int(ss.pool_size))


def network_seed(rng, tag: int, *key: int) -> np.random.SeedSequence:
    """The SeedSequence of one network of an experiment (see the module notes).

    ``network_seed(rng, 1, L, i)`` is the stream of network ``i`` at depth
    ``L`` of ``q_statistics(..., rng=rng)`` (tag 2: ``(i,)`` of
    :func:`contraction_scan`; tag 3: ``(L, i)`` of :func:`contraction_vs_depth`).
    """
    return _root_seed(rng).child(int(tag), *key)


# ----------------------------------------------------------------- tasks
def _widths(dim: int, width: int, depth: int) -> list:
    return [dim] + [width] * (depth - 1) + [dim]


def _run_chunk(func, spec, items, limit_blas: bool):
    with single_blas_thread(limit_blas):
        return [func(spec, item) for item in items]


def _default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _run_tasks(func, spec, items: list, *, executor, workers, chunksize, progress, desc: str) -> list:
    """``[func(spec, item) for item in items]``, possibly in parallel; results in the order of ``items``.

    ``items`` are submitted in the given order (put the slow ones first) in
    chunks of ``chunksize``.
    """
    n = len(items)
    if workers is not None:
        workers = _int_at_least("workers", workers, 1)
    if executor is not None and not isinstance(executor, concurrent.futures.Executor):
        raise ValueError(f"executor must be a concurrent.futures.Executor (or None), got {type(executor).__name__}")
    n_workers = workers if workers is not None else (
        getattr(executor, "_max_workers", None) or _default_workers())
    if chunksize is None:
        chunksize = max(1, math.ceil(n / (max(1, n_workers) * 64)))
    else:
        chunksize = _int_at_least("chunksize", chunksize, 1)
    chunks = [items[s:s + chunksize] for s in range(0, n, chunksize)]
    bar = None
    if progress is None or progress:
        from tqdm.auto import tqdm

        # progress=None: a bar only on an interactive terminal (tqdm's disable=None)
        bar = tqdm(total=n, desc=desc, unit="net", disable=None if progress is None else False, leave=False)
    results: list = [None] * len(chunks)
    own_pool = None
    try:
        if executor is None and (n_workers == 1 or len(chunks) == 1):
            for k, chunk in enumerate(chunks):
                results[k] = _run_chunk(func, spec, chunk, True)
                if bar is not None:
                    bar.update(len(chunk))
        else:
            if executor is None:
                own_pool = concurrent.futures.ProcessPoolExecutor(max_workers=min(n_workers, len(chunks)),
                                                                  initializer=init_single_blas_thread_worker)
                pool, limit = own_pool, False
            else:
                pool = executor
                limit = not isinstance(executor, concurrent.futures.ThreadPoolExecutor)
            futures = {pool.submit(_run_chunk, func, spec, chunk, limit): k for k, chunk in enumerate(chunks)}
            try:
                for fut in concurrent.futures.as_completed(futures):
                    k = futures[fut]
                    results[k] = fut.result()
                    if bar is not None:
                        bar.update(len(chunks[k]))
            except BaseException:
                for fut in futures:
                    fut.cancel()
                raise
    finally:
        if own_pool is not None:
            own_pool.shutdown(wait=True, cancel_futures=True)
        if bar is not None:
            bar.close()
    return [r for chunk in results for r in chunk]


@dataclasses.dataclass(frozen=True)
class _NetSpec:
    """Everything a worker needs to draw networks (picklable)."""

    seed: _Seed
    dim: int
    width: int
    activation: Any
    weights: Any
    scale: Any
    bias: bool
    last_activation: bool


def _draw_network(spec: _NetSpec, tag: int, depth: int, index: int, key: tuple) -> Network:
    return Network.random(_widths(spec.dim, spec.width, depth), spec.activation, weights=spec.weights,
                          scale=spec.scale, rng=spec.seed.generator(tag, *key), bias=spec.bias,
                          last_activation=spec.last_activation)


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
        index = _int_at_least("index", index, 0)
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
    width = _int_at_least("width", width, 1)
    n_networks = _int_at_least("n_networks", n_networks, 1)
    dim = _int_at_least("dim", dim, 1)
    confidence = _confidence(confidence)
    n_bootstrap = _int_at_least("n_bootstrap", n_bootstrap, 0)
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
    width = _int_at_least("width", width, 1)
    depth = _int_at_least("depth", depth, 1)
    n_networks = _int_at_least("n_networks", n_networks, 1)
    dim = _int_at_least("dim", dim, 1)
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


@dataclasses.dataclass(frozen=True)
class CriticalBeta:
    """beta_cr: where the contraction constant crosses ``level`` (papers: beta_cr ~ 1/2 for odd phi).

    Attributes
    ----------
    beta_cr : float
        Median over the networks of the per-network crossing beta_i.
    interval : (float, float)
        Distribution-free confidence interval of that median (order
        statistics of the beta_i, binomial coverage >= ``confidence``).
    coverage : float
        The exact coverage of ``interval``.
    per_network : ndarray, shape (n_networks,)
        beta_i = the smallest beta above which g_i stays below ``level`` on
        the scanned grid (log g interpolated linearly between the two
        betas around the last crossing); -inf when g_i < level at every
        beta, +inf when g_i >= level at the largest beta.
    spread : (float, float)
        The 10 % and 90 % quantiles of beta_i.
    level : float
    confidence : float
    scan : ContractionScan
    """

    beta_cr: float
    interval: tuple
    coverage: float
    per_network: np.ndarray
    spread: tuple
    level: float
    confidence: float
    scan: ContractionScan

    __repr__ = summary_repr

    @jsonable_result
    def to_dict(self) -> dict:
        return {"beta_cr": self.beta_cr, "interval": list(self.interval), "coverage": self.coverage,
                "per_network": self.per_network, "spread": list(self.spread), "level": self.level,
                "confidence": self.confidence, "scan": self.scan.to_dict()}


def _crossings(betas: np.ndarray, g: np.ndarray, level: float) -> np.ndarray:
    """Per column of g (B, n): the beta above which g stays < level (log-linear interpolation)."""
    out = np.empty(g.shape[1])
    for i in range(g.shape[1]):
        above = np.flatnonzero(g[:, i] >= level)
        if above.size == 0:
            out[i] = -np.inf
            continue
        j = int(above[-1])
        if j == betas.size - 1:
            out[i] = np.inf
            continue
        g0, g1 = g[j, i], g[j + 1, i]
        if g1 <= 0:
            t = 0.0
        else:
            t = (math.log(g0) - math.log(level)) / (math.log(g0) - math.log(g1))
        out[i] = betas[j] + t * (betas[j + 1] - betas[j])
    return out


def _median_interval(x: np.ndarray, confidence: float):
    """Order-statistic interval (x_(k), x_(n-k+1)) of the median with coverage >= confidence."""
    from scipy import stats  # here, not at import: scipy.stats costs a second of CPU

    xs = np.sort(x)
    n = xs.size
    # coverage of (x_(k), x_(n+1-k)) is 1 - 2 P(Bin(n, 1/2) <= k - 1)
    k_best = 1
    for k in range(1, n // 2 + 1):
        if 1 - 2 * stats.binom.cdf(k - 1, n, 0.5) >= confidence:
            k_best = k
        else:
            break
    cover = float(1 - 2 * stats.binom.cdf(k_best - 1, n, 0.5))
    return (float(xs[k_best - 1]), float(xs[n - k_best])), cover


def critical_beta(betas_or_scan, *args, level: float = 1.0, confidence: float = 0.95, **kwargs) -> CriticalBeta:
    """beta_cr with a confidence interval.

    Each network's crossing beta_i (where its g(beta) drops below
    ``level`` for good, see :class:`CriticalBeta`) is found on the scan;
    beta_cr is their median and the interval is the distribution-free
    order-statistic interval of the median.

    Parameters
    ----------
    betas_or_scan : ContractionScan or sequence of float
        A finished scan, or the betas of a new one; then ``*args`` and
        ``**kwargs`` go to :func:`contraction_scan`.
    level : float > 0, default 1
        The contraction threshold.
    confidence : float, default 0.95

    Returns
    -------
    CriticalBeta

    Raises
    ------
    ValueError
        When the median crossing lies outside the scanned betas (widen
        them), with the range and the censored counts in the message.
    """
    if isinstance(betas_or_scan, ContractionScan):
        if args or kwargs:
            raise ValueError("pass either a ContractionScan or the arguments of contraction_scan, not both")
        scan = betas_or_scan
    else:
        scan = contraction_scan(betas_or_scan, *args, **kwargs)
    if not (isinstance(level, numbers.Real) and math.isfinite(level) and level > 0):
        raise ValueError(f"level must be a finite number > 0, got {level!r}")
    confidence = _confidence(confidence)
    with np.errstate(divide="ignore"):
        per = _crossings(scan.betas, scan.g, float(level))
    with np.errstate(invalid="ignore"):
        med = float(np.median(per))
    n_low, n_high = int(np.sum(per == -np.inf)), int(np.sum(per == np.inf))
    if not math.isfinite(med):
        raise ValueError(
            f"the median crossing of g = {level} lies outside the scanned betas [{scan.betas[0]:g}, "
            f"{scan.betas[-1]:g}] ({n_low} networks contract at every beta, {n_high} at none); widen betas")
    interval, cover = _median_interval(per, confidence)
    # order statistics (no interpolation), so censored values stay +-inf instead of nan
    spread = tuple(float(np.quantile(per, q, method="inverted_cdf")) for q in (0.1, 0.9))
    per.setflags(write=False)
    return CriticalBeta(beta_cr=med, interval=interval, coverage=cover, per_network=per, spread=spread,
                        level=float(level), confidence=confidence, scan=scan)


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
    width = _int_at_least("width", width, 1)
    n_networks = _int_at_least("n_networks", n_networks, 1)
    dim = _int_at_least("dim", dim, 1)
    confidence = _confidence(confidence)
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
    from scipy import stats

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
