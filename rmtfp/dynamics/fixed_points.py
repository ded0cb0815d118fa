"""Fixed points, cycles and basins of attraction of a network Phi: R^n -> R^n.

:func:`find_fixed_points` iterates x^{m+1} = Phi(x^m) from every start at
once (the papers' procedure, eq. (8)/(4.2), with the Cauchy criterion
|x^{m+1} - x^m| < tol) and classifies every start instead of dropping the
ones that do not converge: fixed point k, cycle k of minimal period p,
unresolved within ``max_iter`` maps, or divergent.  Fixed points and cycles
are polished by Newton's method and merged when closer than ``merge_tol``.

:func:`find_all_fixed_points` runs Newton's method on F(x) = Phi(x) - x from
every start, which also finds the unstable fixed points that iteration never
reaches.
"""

from __future__ import annotations

import contextlib
import numbers
import warnings
from typing import Optional

import numpy as np

from .._checks import int_at_least, positive_real
from .._threads import blas_limited, check_blas_threads, limit_blas_threads
from ..errors import UnresolvedWarning
from .cycles import _find_cycles
from .iteration import _iterate
from .maps import Workers, _chunk_rows, _norm, _residuals, auto_workers, blas_thread_count
from .merge import _merge_fixed_points
from .network import Network
from .newton import _fixed_point_fun, _newton
from .results import (_CYCLE, _DIVERGENT, _FP, _STATUS_ARRAY, _UNRESOLVED, STATUSES, Cycle, FixedPointResult,
                      Stability, stability_from_eigenvalues)
from .starts import grid

__all__ = ["Stability", "Cycle", "FixedPointResult", "find_fixed_points", "find_all_fixed_points", "STATUSES"]


#: after the starts near an unstable fixed point or cycle were iterated on, drop the fixed points and cycles that
#: vanished with them instead of classifying everything anew when nothing else can change (:func:`_vanished`)
_DROP_VANISHED = True


# ----------------------------------------------------------------- checks
def _check_net(net) -> int:
    if not isinstance(net, Network):
        raise ValueError(f"net must be an rmtfp.Network, got {type(net).__name__}")
    if net.n_in != net.n_out:
        raise ValueError(f"fixed points need n_in = n_out, got widths {list(net.widths)} "
                         f"(n_in = {net.n_in}, n_out = {net.n_out})")
    return net.n_in


def _check_starts(starts, n: int) -> np.ndarray:
    try:
        x = np.array(starts, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"starts must be a real array of shape (M, {n})") from None
    if x.ndim != 2 or x.shape[1] != n:
        raise ValueError(f"starts must have shape (M, {n}) to match the network, got shape {x.shape}")
    if x.shape[0] == 0:
        raise ValueError("starts must contain at least one point, got an empty array")
    if not np.all(np.isfinite(x)):
        raise ValueError("starts must be finite")
    return x


def _classify(net: Network, code, period, cand, cand_res, orbits, tol, merge_tol, refine, refine_tol, neutral_tol,
              rows):
    """Cycles, fixed points, labels and stability from the raw outcome of :func:`_iterate`."""
    code, cand, cand_res = code.copy(), cand.copy(), cand_res.copy()
    cycles, labels, to_fp = _find_cycles(net, code, period, orbits, tol, merge_tol, refine, refine_tol,
                                         neutral_tol, rows)
    for starts_j, point in to_fp:
        r = float(_residuals(net, point[None])[0])
        if r < tol:
            code[starts_j], cand[starts_j], cand_res[starts_j] = _FP, point, r
        else:
            code[starts_j] = _UNRESOLVED
    fp_idx = np.flatnonzero(code == _FP)
    fps, res, refd, fp_labels, ev = _merge_fixed_points(net, cand[fp_idx], cand_res[fp_idx], tol, merge_tol,
                                                        refine, refine_tol, neutral_tol, rows)
    labels[fp_idx] = fp_labels
    labels[(code == _UNRESOLVED) | (code == _DIVERGENT)] = -1
    stab = stability_from_eigenvalues(ev, neutral_tol)
    return code, labels, cycles, fps, res, refd, stab


def _vanished(code2, labels, r, new_code, q: int, n_cycles: int):
    """The fixed points and cycles that vanish with the resumed starts ``r``, or None to classify anew.

    When every resumed start ends unresolved or divergent, and every start
    of each fixed point or cycle they belonged to is among them, those fixed
    points and cycles vanish and nothing else changes: their clusters held
    resumed starts only, so the greedy clustering of every other candidate
    meets the same leaders in the same order.  (Classifying anew would
    polish the other leaders in a smaller batch, whose products may round
    otherwise in the last bits.)
    """
    if not np.all((new_code == _UNRESOLVED) | (new_code == _DIVERGENT)):
        return None
    resumed = np.zeros(code2.size, dtype=bool)
    resumed[r] = True
    fp_gone, cy_gone = np.zeros(q, dtype=bool), np.zeros(n_cycles, dtype=bool)
    fp_gone[labels[r][code2[r] == _FP]] = True
    cy_gone[labels[r][code2[r] == _CYCLE]] = True
    if fp_gone[labels[(code2 == _FP) & ~resumed]].any() or cy_gone[labels[(code2 == _CYCLE) & ~resumed]].any():
        return None  # a fixed point or cycle keeps starts that were not resumed
    return fp_gone, cy_gone


def _drop(code2, labels, cycles, fps, res, refd, stab, r, new_code, fp_gone, cy_gone):
    """The classification without the fixed points and cycles that vanished (:func:`_vanished`)."""
    code2, labels = code2.copy(), labels.copy()
    for kind, gone in ((_FP, fp_gone), (_CYCLE, cy_gone)):
        number = np.where(gone, -1, np.cumsum(~gone) - 1)  # new index of each kept one
        members = code2 == kind
        labels[members] = number[labels[members]]
    code2[r], labels[r] = new_code, -1
    keep = ~fp_gone
    stab = [s for s, k in zip(stab, keep) if k]
    cycles = [c for c, g in zip(cycles, cy_gone) if not g]
    return code2, labels, cycles, fps[keep], res[keep], refd[keep], stab


def _fractions(code: np.ndarray, labels: np.ndarray, q: int, n_cycles: int) -> dict:
    m = code.size
    out = {}
    fp_counts = np.bincount(labels[code == _FP], minlength=q) if q else np.zeros(0, dtype=int)
    for k in range(q):
        out[f"fixed_point:{k}"] = fp_counts[k] / m
    cy_counts = np.bincount(labels[code == _CYCLE], minlength=n_cycles) if n_cycles else np.zeros(0, dtype=int)
    for k in range(n_cycles):
        out[f"cycle:{k}"] = cy_counts[k] / m
    out["unresolved"] = int(np.count_nonzero(code == _UNRESOLVED)) / m
    out["divergent"] = int(np.count_nonzero(code == _DIVERGENT)) / m
    return {k: float(v) for k, v in out.items()}


def _default_starts(starts, n: int) -> np.ndarray:
    if starts is not None:
        return _check_starts(starts, n)
    if n > 3:
        raise ValueError(f"starts=None builds the grid on [-1, 1]^n only for n <= 3, got n = {n}; "
                         "pass starts=random_starts(M, n, rng=...) or grid(..., dim=n)")
    return grid(dim=n)


def _check_common(tol, merge_tol, divergence_radius, refine_tol, neutral_tol):
    tol = positive_real("tol", tol)
    merge_tol = positive_real("merge_tol", merge_tol)
    divergence_radius = positive_real("divergence_radius", divergence_radius)
    refine_tol = positive_real("refine_tol", refine_tol)
    if not (isinstance(neutral_tol, numbers.Real) and 0 <= neutral_tol < 1):
        raise ValueError(f"neutral_tol must be a number in [0, 1), got {neutral_tol!r}")
    return tol, merge_tol, divergence_radius, refine_tol, float(neutral_tol)


# ----------------------------------------------------------------- public
def find_fixed_points(net: Network, starts=None, tol: float = 1e-5, max_iter: int = 50, merge_tol: float = 1e-3,
                      max_period: int = 8, refine: bool = True, chunk_size: Optional[int] = None, *,
                      divergence_radius: float = 1e8, refine_tol: float = 1e-12,
                      neutral_tol: float = 1e-8, progress: bool = False,
                      blas_threads: Optional[int] = 1, workers: Optional[int] = None) -> FixedPointResult:
    """Fixed points, cycles and basins of attraction of Phi by iteration from every start.

    Every start x^0 is iterated, x^m = Phi(x^{m-1}), all starts at once,
    and classified by the first criterion it meets:

    * ``"fixed_point"``: |x^m - x^{m-1}| < tol (the papers' Cauchy criterion,
      eq. (9)/(4.3), |.| Euclidean);
    * ``"cycle"``: |x^m - x^{m-p}| < tol for some 2 <= p <= max_period (the
      smallest such p), confirmed by polishing the orbit; starts whose orbit
      collapses to one point were converging to a fixed point in an
      oscillating way and are counted as such (an unpolished orbit shorter
      than ``merge_tol`` whose mean is an attracting point fixed to ``tol``
      counts as converging to that mean);
    * ``"divergent"``: x^m is not finite or |x^m| > divergence_radius;
    * ``"unresolved"``: none of these within ``max_iter`` maps.

    An unstable fixed point or cycle attracts no open set: a start that met
    a criterion near one (a chance near-return of chaotic dynamics, a weakly
    unstable point, the stable manifold of a saddle) is iterated on to the
    end of its ``max_iter`` budget and classified by where it is then.

    Candidates closer than ``merge_tol`` are one fixed point (one cycle);
    the one with the smallest residual leads, so reported fixed points are
    pairwise farther apart than ``merge_tol``.  With ``refine`` each is
    polished by damped Newton's method on F(x) = Phi(x) - x (on Phi^p(x) - x
    for cycles) and kept when |F| <= refine_tol max(1, |x|) and it stays
    within reach of the candidate; otherwise the unrefined candidate (residual
    < tol) is reported with ``refined`` false.

    Parameters
    ----------
    net : Network
        With n_in = n_out = n.
    starts : array_like, shape (M, n), optional
        Default: :func:`grid` on [-1, 1]^n with step 0.05 (the papers' 41 x 41
        grid for n = 2); required for n > 3 (see :func:`random_starts`).
    tol : float, default 1e-5
        Convergence tolerance of the Cauchy criterion (the papers' epsilon).
    max_iter : int, default 50
        Maximum number of applications of Phi (the papers' N_0).
    merge_tol : float, default 1e-3
        Distance below which two fixed points (two cycles) are the same.
    max_period : int, default 8
        Longest cycle period looked for.
    refine : bool, default True
        Polish fixed points and cycles with Newton's method.
    chunk_size : int, optional
        Rows per evaluation of Phi (memory bound).  It changes only the
        last bits of the products (BLAS may round a product of another
        shape otherwise), so the fixed points only to rounding; a start at
        the edge of a criterion (a cycle met within the last maps of the
        budget, or not at all) may be classified otherwise.
    divergence_radius : float, default 1e8
    refine_tol : float, default 1e-12
    neutral_tol : float, default 1e-8
        Spectral radii within neutral_tol of 1 are ``"neutral"``.
    progress : bool, default False
        A tqdm bar on stderr over the maps (the result does not depend on it).
    blas_threads : int or None, default 1
        BLAS threads during the search (restored afterwards).  The search
        is many small matrix products, which threaded BLAS makes slower on
        a loaded machine (1.1-3.3 times measured with two threads on two
        shared cores): the search parallelises over chunks of starts
        instead (``workers``).  None leaves BLAS as it is.  Only the speed
        depends on it (and the last bits of the products, which BLAS may
        sum in another order with more threads).
    workers : int or None, default None
        Threads that map the chunks of the batch of starts in parallel,
        each chunk handed to whichever thread is free (a thread the system
        holds back on a loaded machine leaves its share to the others).
        None: the cores this process may run on, at most the BLAS threads
        the caller allows (so ``threadpoolctl.threadpool_limits(1)`` around
        the call, as in the ensembles' worker processes, means one worker),
        divided by ``blas_threads``.  The chunks, and so the result, do not
        depend on it.

    Returns
    -------
    FixedPointResult

    Raises
    ------
    ValueError
        For a network with n_in != n_out, starts of the wrong shape, empty or
        non-finite, non-positive tolerances or counts, and ``blas_threads``
        or ``workers`` other than None or an integer >= 1.
    """
    blas_threads = check_blas_threads(blas_threads)
    if workers is not None:
        try:
            workers = int_at_least("workers", workers, 1)
        except ValueError:
            raise ValueError(f"workers must be None (automatic) or an integer >= 1, got {workers!r}") from None
    outer = blas_thread_count()
    # stacks of small products where BLAS runs on one thread during the search (network._SMALL_PRODUCT)
    stacked = (outer if blas_threads is None else blas_threads) == 1
    with limit_blas_threads(blas_threads), Workers(workers or auto_workers(outer, blas_threads), stacked) as pool:
        return _find_fixed_points(net, starts, tol, max_iter, merge_tol, max_period, refine, chunk_size,
                                  divergence_radius, refine_tol, neutral_tol, progress, pool)


def _find_fixed_points(net, starts, tol, max_iter, merge_tol, max_period, refine, chunk_size, divergence_radius,
                       refine_tol, neutral_tol, progress, pool) -> FixedPointResult:
    n = _check_net(net)
    x0 = _default_starts(starts, n)
    tol, merge_tol, divergence_radius, refine_tol, neutral_tol = _check_common(
        tol, merge_tol, divergence_radius, refine_tol, neutral_tol)
    max_iter = int_at_least("max_iter", max_iter, 1, integral_floats=True)
    max_period = int_at_least("max_period", max_period, 1, integral_floats=True)
    rows = _chunk_rows(net, chunk_size, max(net.widths))
    jrows = _chunk_rows(net, chunk_size, max(net.widths) * n)
    if not isinstance(refine, (bool, np.bool_)):
        raise ValueError(f"refine must be True or False, got {refine!r}")

    budget = np.full(x0.shape[0], max_iter)
    if progress:
        from tqdm.auto import tqdm

        bar_context = tqdm(total=max_iter, desc="iterating", unit="map", leave=False)
    else:
        bar_context = contextlib.nullcontext()  # tqdm(disable=True) still costs ~0.1 ms
    with bar_context as bar:
        code, period, iters, cand, cand_res, state, orbits = _iterate(net, x0, tol, budget, max_period,
                                                                      divergence_radius, rows, bar=bar, pool=pool)
    settings = (tol, merge_tol, refine, refine_tol, neutral_tol, jrows)
    code2, labels, cycles, fps, res, refd, stab = _classify(net, code, period, cand, cand_res, orbits, *settings)
    # an unstable fixed point or cycle attracts no open set: a start that met
    # the criterion near one (near-return of chaotic dynamics, weakly unstable
    # point, stable manifold of a saddle) is iterated to the end of its budget
    # and classified by where it is then
    unstable_fp = np.array([s.kind == "unstable" for s in stab] + [False])
    unstable_cy = np.array([c.stability.kind == "unstable" for c in cycles] + [False])
    resume = None
    if unstable_fp.any() or unstable_cy.any():
        resume = unstable_fp[np.where(code2 == _FP, labels, -1)] | unstable_cy[np.where(code2 == _CYCLE, labels, -1)]
        resume &= iters < max_iter
    if resume is not None and resume.any():
        r = np.flatnonzero(resume)
        sub = _iterate(net, state[r], tol, max_iter - iters[r], max_period, divergence_radius, rows, early=False,
                       pool=pool)
        code[r], period[r], cand[r], cand_res[r] = sub[0], sub[1], sub[3], sub[4]
        iters[r] += sub[2]
        orbits = orbits.replace(r, sub[6].renumber(r))
        gone = _vanished(code2, labels, r, sub[0], fps.shape[0], len(cycles)) if _DROP_VANISHED else None
        if gone is not None:
            code2, labels, cycles, fps, res, refd, stab = _drop(code2, labels, cycles, fps, res, refd, stab, r,
                                                                sub[0], *gone)
            if gone[0].any() and fps.shape[0]:
                res = _residuals(net, fps)  # fewer fixed points: the residuals of this batch
        else:
            code2, labels, cycles, fps, res, refd, stab = _classify(net, code, period, cand, cand_res, orbits,
                                                                    *settings)
    code = code2
    for a in (fps, res, refd, labels, iters, x0):
        a.setflags(write=False)
    status = _STATUS_ARRAY[code]
    status.setflags(write=False)
    params = dict(method="iteration", tol=tol, max_iter=max_iter, merge_tol=merge_tol, max_period=max_period,
                  refine=bool(refine), chunk_size=chunk_size, divergence_radius=divergence_radius,
                  refine_tol=refine_tol, neutral_tol=neutral_tol, norm="euclidean")
    unresolved = float(np.mean(code == _UNRESOLVED))
    if unresolved > 0.5:
        warnings.warn(f"{100 * unresolved:.1f}% of the starts are unresolved after max_iter={max_iter} maps "
                      f"(no fixed point, cycle or divergence detected): raise max_iter", UnresolvedWarning,
                      stacklevel=3)  # past find_fixed_points
    return FixedPointResult(fixed_points=fps, labels=labels, status=status, cycles=tuple(cycles),
                            fractions=_fractions(code, labels, fps.shape[0], len(cycles)), stability=tuple(stab),
                            residuals=res, refined=refd, iterations=iters, starts=x0, params=params)


@blas_limited
def find_all_fixed_points(net: Network, starts, tol: float = 1e-12, max_iter: int = 100, merge_tol: float = 1e-3,
                          chunk_size: Optional[int] = None, *, divergence_radius: float = 1e8,
                          neutral_tol: float = 1e-8, blas_threads: Optional[int] = 1) -> FixedPointResult:
    """Fixed points of Phi, stable or not, by Newton's method from every start.

    Damped Newton's method on F(x) = Phi(x) - x, F' = DPhi - I (least squares
    where F' is singular) runs from every start; it converges to unstable
    fixed points as well, which iteration of Phi cannot reach.

    Parameters
    ----------
    net : Network
        With n_in = n_out = n.
    starts : array_like, shape (M, n)
    tol : float, default 1e-12
        A start converged when |F(x)| <= tol max(1, |x|).
    max_iter : int, default 100
        Maximum number of Newton steps.
    merge_tol : float, default 1e-3
    chunk_size : int, optional
    divergence_radius : float, default 1e8
    neutral_tol : float, default 1e-8
    blas_threads : int or None, default 1
        BLAS threads during the search, as in :func:`find_fixed_points`.

    Returns
    -------
    FixedPointResult
        With ``params["method"] == "newton"``: ``labels``/``fractions``
        describe the Newton basins (which fixed point Newton's method reaches
        from each start), not the basins of attraction of Phi; ``cycles`` is
        empty; ``"unresolved"`` starts stalled at a non-zero local minimum of
        |F| or ran out of steps.
    """
    n = _check_net(net)
    x0 = _check_starts(starts, n)
    tol, merge_tol, divergence_radius, _, neutral_tol = _check_common(tol, merge_tol, divergence_radius, tol,
                                                                      neutral_tol)
    max_iter = int_at_least("max_iter", max_iter, 1, integral_floats=True)
    jrows = _chunk_rows(net, chunk_size, max(net.widths) * n)
    x, r, steps, _ = _newton(_fixed_point_fun(net, jrows), x0, max_steps=max_iter, radius=divergence_radius)
    xn = _norm(x)
    code = np.full(x0.shape[0], _UNRESOLVED, dtype=np.int8)
    code[r <= tol * np.maximum(1.0, xn)] = _FP
    code[~np.isfinite(r) | ~np.isfinite(xn) | (xn > divergence_radius)] = _DIVERGENT
    fp_idx = np.flatnonzero(code == _FP)
    labels = np.full(x0.shape[0], -1)
    fps, res, refd, fp_labels, ev = _merge_fixed_points(net, x[fp_idx], r[fp_idx], tol, merge_tol,
                                                        False, tol, neutral_tol, jrows)
    labels[fp_idx] = fp_labels
    refd = np.ones(fps.shape[0], dtype=bool)
    stab = stability_from_eigenvalues(ev, neutral_tol)
    for a in (fps, res, refd, labels, steps, x0):
        a.setflags(write=False)
    status = _STATUS_ARRAY[code]
    status.setflags(write=False)
    params = dict(method="newton", tol=tol, max_iter=max_iter, merge_tol=merge_tol, chunk_size=chunk_size,
                  divergence_radius=divergence_radius, neutral_tol=neutral_tol, norm="euclidean")
    return FixedPointResult(fixed_points=fps, labels=labels, status=status, cycles=(),
                            fractions=_fractions(code, labels, fps.shape[0], 0), stability=tuple(stab),
                            residuals=res, refined=refd, iterations=steps, starts=x0, params=params)
