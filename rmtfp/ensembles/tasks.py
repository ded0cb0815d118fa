"""What every ensemble shares: argument specs, the seed of every network, and running the networks as tasks."""

from __future__ import annotations

import concurrent.futures
import contextlib
import contextvars
import dataclasses
import math
import numbers
import os
from typing import Any, Optional

import numpy as np

from .. import activations as _activations
from .._checks import int_at_least
from .._threads import init_single_blas_thread_worker, single_blas_thread
from ..activations import Activation
from ..dynamics import Network


_TAG_Q, _TAG_SCAN, _TAG_DEPTH, _TAG_BOOT = 1, 2, 3, 0


# ----------------------------------------------------------------- checks
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


_EXECUTOR: contextvars.ContextVar = contextvars.ContextVar("rmtfp_ensembles_executor", default=None)


@contextlib.contextmanager
def use_executor(executor: Optional[concurrent.futures.Executor]):
    """Run the ensembles of the enclosed block on ``executor`` where they are given none.

    For code that calls the ensembles without passing ``executor=`` (the
    validation claims, a script): ``with use_executor(pool): ...`` sends
    their networks to ``pool``.  An explicit ``executor=`` still wins, and
    ``None`` restores the local process pool for the block.

    Examples
    --------
    >>> from concurrent.futures import ThreadPoolExecutor
    >>> from rmtfp.ensembles import q_statistics, use_executor
    >>> with ThreadPoolExecutor(2) as pool, use_executor(pool):
    ...     res = q_statistics([1], width=10, n_networks=2, n_bootstrap=0)  # doctest: +SKIP
    """
    if executor is not None and not isinstance(executor, concurrent.futures.Executor):
        raise ValueError(f"executor must be a concurrent.futures.Executor (or None), got {type(executor).__name__}")
    token = _EXECUTOR.set(executor)
    try:
        yield executor
    finally:
        _EXECUTOR.reset(token)


def _run_tasks(func, spec, items: list, *, executor, workers, chunksize, progress, desc: str) -> list:
    """``[func(spec, item) for item in items]``, possibly in parallel; results in the order of ``items``.

    ``items`` are submitted in the given order (put the slow ones first) in
    chunks of ``chunksize``; without ``executor`` the one of
    :func:`use_executor`, if any, runs them.
    """
    n = len(items)
    if executor is None:
        executor = _EXECUTOR.get()
    if workers is not None:
        workers = int_at_least("workers", workers, 1)
    if executor is not None and not isinstance(executor, concurrent.futures.Executor):
        raise ValueError(f"executor must be a concurrent.futures.Executor (or None), got {type(executor).__name__}")
    n_workers = workers if workers is not None else (
        getattr(executor, "_max_workers", None) or _default_workers())
    if chunksize is None:
        chunksize = max(1, math.ceil(n / (max(1, n_workers) * 64)))
    else:
        chunksize = int_at_least("chunksize", chunksize, 1)
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
