"""Drawing finite-width networks and the spectra of their Jacobians."""

from __future__ import annotations

import concurrent.futures
import dataclasses
import math
import numbers
import os
from typing import Optional, Sequence, Union

import numpy as np

from .._checks import int_at_least, positive_real
from .._threads import single_blas_thread
from ..activations import Activation, get
from ..errors import ConvergenceError
from .laws import _Law, _resolve_law, _resolve_rng, _sample_generators
from .results import DepthScan, JacobianSpectrum


_METHODS = ("svd", "eigh")
_MEMORY_BUDGET = 256 * 2**20  # bytes of matrices held at once when batch is None
_BUFFERS_PER_SAMPLE = 4  # W, J, the product and the LAPACK copy, N^2 each


def _available_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)




def _mean_field(act: Activation, q1: float, depth: int, sigma_w2: float, sigma_b2: float) -> tuple:
    qs = [q1]
    for _ in range(depth - 1):
        qs.append(act.variance_map(qs[-1], sigma_w2, sigma_b2))
    return tuple(float(v) for v in qs)


def _resolve_q(act: Activation, q, depth: int, sigma_eff: Optional[float], sigma_w2: float, sigma_b2: float):
    """Returns (targets, q_layers, q_source).

    ``targets[l]`` is the variance imposed on layer l's pre-activations (the
    input x^{l-1} is rescaled to it) or None; ``q_layers`` the per-layer
    variances the theory should use (None for laws without variance).
    """
    if q is not None and not isinstance(q, numbers.Real):
        try:
            seq = [float(v) for v in q]
        except TypeError:
            raise ValueError(f"q must be a number >= sigma_b2, a sequence of {depth} such numbers or None, "
                             f"got {q!r}") from None
        if len(seq) != depth:
            raise ValueError(f"q must have one value per layer (depth={depth}), got {len(seq)} values")
        for v in seq:
            if not math.isfinite(v) or v < sigma_b2:
                raise ValueError(f"every q must be finite and >= sigma_b2={sigma_b2}, got q={seq}")
        return list(seq), tuple(seq) if sigma_eff is not None else None, "per-layer"
    noise_scale = sigma_eff if sigma_eff is not None else sigma_w2
    if q is None:
        if sigma_eff is None:  # no variance: no q*, unit input entries
            q1, source = noise_scale + sigma_b2, "unit input"
        else:
            try:
                q1, source = act.q_star(sigma_eff, sigma_b2), "q_star"
            except (ValueError, ConvergenceError) as exc:
                if act.depends_on_q:
                    raise ValueError(f"q=None asks for q*, which does not exist for {act.name!r} at "
                                     f"sigma_w2={sigma_eff}, sigma_b2={sigma_b2} ({exc}); pass q") from exc
                q1, source = noise_scale + sigma_b2, "unit input"
    else:
        q1 = float(q)
        if not math.isfinite(q1) or q1 < sigma_b2:
            raise ValueError(f"q must be finite and >= sigma_b2={sigma_b2} (the bias alone gives variance "
                             f"sigma_b2), got {q!r}")
        source = "given"
    targets = [q1] + [None] * (depth - 1)
    if sigma_eff is None:
        return targets, None, source
    if source == "q_star":
        return targets, (float(q1),) * depth, source
    return targets, _mean_field(act, q1, depth, sigma_eff, sigma_b2), source



# ------------------------------------------------------------------- sampling
@dataclasses.dataclass(frozen=True)
class _Plan:
    act: Activation
    law: _Law
    depth: int
    width: int
    wscale: float
    sigma_w2: float  # sigma_w^2 used to prepare inputs (weight_variance, or sigma_w2 for laws without one)
    sigma_b2: float
    targets: tuple
    record: tuple  # depths (1-based) at which to take the spectrum
    dtype: np.dtype
    method: str


def _spectrum(J: np.ndarray, method: str) -> np.ndarray:
    """Ascending eigenvalues of J J^T for a stack J, float64."""
    if method == "svd":
        s = np.linalg.svd(J, compute_uv=False)
        return np.ascontiguousarray((s.astype(np.float64) ** 2)[:, ::-1])
    lam = np.linalg.eigvalsh(np.matmul(J, np.swapaxes(J, 1, 2))).astype(np.float64)
    return np.maximum(lam, 0.0, out=lam)


def _rescale_input(x: np.ndarray, target: float, plan: _Plan, layer: int) -> None:
    """Scale each row of x so that sigma_w^2 |x|^2 / N + sigma_b^2 = target."""
    want = (target - plan.sigma_b2) * plan.width / plan.sigma_w2  # |x|^2
    norm2 = np.einsum("ij,ij->i", x, x, dtype=np.float64)
    if want > 0 and np.any(norm2 == 0):
        raise ValueError(f"cannot give layer {layer} pre-activations of variance q={target}: its input vanishes")
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(norm2 > 0, np.sqrt(want / np.where(norm2 > 0, norm2, 1.0)), 0.0)
    x *= factor[:, None].astype(x.dtype)


def _run_chunk(plan: _Plan, gens: list) -> tuple[list, list, np.ndarray]:
    """Draw ``len(gens)`` networks; spectra at the recorded depths.

    Returns (eigenvalue stacks, structural-rank stacks, preactivation q).
    Overflow is not warned about but checked: non-finite values raise.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        return _run_chunk_unchecked(plan, gens)


def _run_chunk_unchecked(plan: _Plan, gens: list) -> tuple[list, list, np.ndarray]:
    b, N, dt = len(gens), plan.width, plan.dtype
    x = np.empty((b, N), dtype=dt)
    for s, g in enumerate(gens):
        x[s] = g.standard_normal(N)
    W = np.empty((b, N, N), dtype=dt)
    J = tmp = None
    rank = np.full(b, N)
    hq = np.empty((b, plan.depth))
    eigs, ranks = [], []
    for layer in range(1, plan.depth + 1):
        for s, g in enumerate(gens):
            plan.law.draw(g, W[s])  # X; the weights are wscale * X, the scale is applied with D
        if plan.law.kind != "gaussian" and not np.all(np.isfinite(W)):
            raise ValueError(f"weights={plan.law.name} produced non-finite values (inf or nan) in layer {layer}; "
                             "weight draws must be finite")
        target = plan.targets[layer - 1]
        if target is not None:
            _rescale_input(x, target, plan, layer)
        h = np.matmul(W, x[:, :, None])[:, :, 0]
        h *= dt.type(plan.wscale)
        if plan.sigma_b2 > 0:
            for s, g in enumerate(gens):
                h[s] += plan.law.draw_bias(g, N, plan.sigma_b2, dt)
        if not np.all(np.isfinite(h)):
            raise ValueError(f"the pre-activations of layer {layer} overflowed {dt.name} (weights="
                             f"{plan.law.name}); use fewer layers, dtype=float64 or a lighter-tailed law")
        h64 = h.astype(np.float64, copy=False)
        hq[:, layer - 1] = np.einsum("ij,ij->i", h64, h64) / N
        d = plan.act.dphi(h64)
        x = plan.act.phi(h64).astype(dt, copy=False)
        rank = np.minimum(rank, np.count_nonzero(d, axis=1))
        d = (plan.wscale * d).astype(dt, copy=False)[:, :, None]  # D^l W^l = (wscale D^l) X^l
        if J is None:
            J, W = W, (np.empty_like(W) if layer < plan.depth else None)
            J *= d
        else:
            if tmp is None:
                tmp = np.empty_like(J)
            np.matmul(W, J, out=tmp)
            tmp *= d
            J, tmp = tmp, J
        if layer in plan.record:  # an overflow anywhere before propagates to here as inf or nan
            if not np.all(np.isfinite(J)):
                raise ValueError(f"the Jacobian overflowed {dt.name} by layer {layer} (weights={plan.law.name}); "
                                 "use fewer layers, dtype=float64 or a lighter-tailed law")
            lam = _spectrum(J, plan.method)
            zeros = N - rank
            for s in range(b):
                lam[s, :zeros[s]] = 0.0
            eigs.append(lam)
            ranks.append(rank.copy())
    return eigs, ranks, hq


def _available_memory() -> Optional[int]:
    """Bytes of memory available now (MemAvailable on Linux, else the physical memory), or None if unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return None


def _size(nbytes: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if nbytes < 1024 or unit == "PiB":
            return f"{nbytes:.3g} {unit}"
        nbytes /= 1024
    return f"{nbytes:.3g} PiB"  # pragma: no cover


def _check_memory(needed: int, width: int, batch: int, dt) -> None:
    """Refuse a run whose matrices cannot fit in the memory available, before drawing anything."""
    available = _available_memory()
    if available is not None and needed > available:
        raise MemoryError(f"width={width} needs {_size(needed)} ({batch} network(s) at once, {_BUFFERS_PER_SAMPLE} "
                          f"{dt.name} matrices of {width} x {width} each, and the eigenvalues) but "
                          f"{_size(available)} is available: use a smaller width (or batch)")


def _sample(activation, depths, width, n_samples, weights, sigma_w2, sigma_b2, q, rng, dtype, batch, progress,
            method, workers) -> tuple:
    act = get(activation)
    depths = tuple(depths)
    max_depth = max(depths)
    width = int_at_least("width", width, 1, integral_floats=True)
    n_samples = int_at_least("n_samples", n_samples, 1, integral_floats=True)
    law = _resolve_law(weights)
    sigma_w2 = positive_real("sigma_w2", sigma_w2, allow_zero=False)
    sigma_b2 = positive_real("sigma_b2", sigma_b2, allow_zero=True)
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise ValueError(f"dtype must be float64 or float32, got {dtype!r}") from None
    if dt not in (np.dtype(np.float64), np.dtype(np.float32)):
        raise ValueError(f"dtype must be float64 or float32, got {dt.name}")
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
    if workers is None:
        workers = _available_cores()
    workers = int_at_least("workers", workers, 1, integral_floats=True)
    per_sample = _BUFFERS_PER_SAMPLE * width * width * dt.itemsize
    if batch is None:
        batch = int(min(n_samples, max(workers, _MEMORY_BUDGET // per_sample)))
    batch = min(int_at_least("batch", batch, 1, integral_floats=True), n_samples)
    _check_memory(batch * per_sample + n_samples * width * dt.itemsize, width, batch, dt)
    if law.kind == "scipy" and law.mean is None:
        law = dataclasses.replace(law, mean=math.nan)
    if law.variance is None:  # callable: standardised by contract
        weight_variance = sigma_w2
    elif math.isfinite(law.variance):
        weight_variance = sigma_w2 * law.variance
    else:
        weight_variance = None
    if law.kind == "scipy" and law.variance == 0:
        raise ValueError(f"weights={law.name} has variance 0: every weight would be the same number")
    targets, q_layers, q_source = _resolve_q(act, q, max_depth, weight_variance, sigma_w2, sigma_b2)
    source, seed = _resolve_rng(rng)
    plan = _Plan(act, law, max_depth, width, law.weight_scale(sigma_w2, width),
                 weight_variance if weight_variance is not None else sigma_w2, sigma_b2, tuple(targets),
                 depths, dt, method)

    gens = _sample_generators(source, n_samples)
    act.phi(np.zeros(1)), act.dphi(np.zeros(1))  # build the vectorised phi, phi' before the threads use them
    workers = min(workers, batch)
    chunk = max(1, batch // workers)
    starts = list(range(0, n_samples, chunk))
    eig = [np.empty((n_samples, width)) for _ in depths]
    rank = [np.empty(n_samples, dtype=np.int64) for _ in depths]
    hq = np.empty((n_samples, max_depth))

    def store(start, out):
        e, r, h = out
        stop = start + len(h)
        for i in range(len(depths)):
            eig[i][start:stop] = e[i]
            rank[i][start:stop] = r[i]
        hq[start:stop] = h

    from tqdm.auto import tqdm

    with tqdm(total=n_samples, disable=not progress, unit="net",
              desc=f"J J^T {act.name} L={max_depth} N={width}") as bar, single_blas_thread():
        if workers == 1:
            for start in starts:
                out = _run_chunk(plan, gens[start:start + chunk])
                store(start, out)
                bar.update(len(out[2]))
        else:
            with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
                pending = {}
                it = iter(starts)
                for start in it:  # at most `workers` chunks (= batch samples) in memory at once
                    pending[pool.submit(_run_chunk, plan, gens[start:start + chunk])] = start
                    if len(pending) < workers:
                        continue
                    done, _ = concurrent.futures.wait(pending, return_when=concurrent.futures.FIRST_COMPLETED)
                    for f in done:
                        out = f.result()
                        store(pending.pop(f), out)
                        bar.update(len(out[2]))
                for f in concurrent.futures.as_completed(list(pending)):
                    out = f.result()
                    store(pending.pop(f), out)
                    bar.update(len(out[2]))

    results = []
    for i, L in enumerate(depths):
        results.append(JacobianSpectrum(
            eigenvalues=eig[i], n_zeros=width - rank[i], preactivation_q=hq[:, :L].copy(), activation=act.name,
            depth=L, width=width, n_samples=n_samples, sigma_w2=sigma_w2, sigma_b2=sigma_b2,
            weight_variance=weight_variance, weights=law.to_dict(),
            q=None if q_layers is None else tuple(q_layers[:L]), q_source=q_source, seed=seed, dtype=dt.name,
            method=method))
    return tuple(results)


def sample_jacobian_spectrum(activation: Union[str, Activation], depth: int, width: int, n_samples: int,
                             weights="gaussian", sigma_w2: float = 1.0, sigma_b2: float = 0.0,
                             q: Optional[Union[float, Sequence[float]]] = None, rng=None, dtype=np.float64,
                             batch: Optional[int] = None, progress: bool = False, method: str = "svd",
                             workers: Optional[int] = None, widths: Optional[Sequence[int]] = None) -> JacobianSpectrum:
    """Eigenvalues of J J^T for ``n_samples`` independent networks of finite width.

    J = D^L W^L ... D^1 W^1 is built from the right, J <- D^l (W^l J), with
    D^l = diag phi'(h^l) applied as a row scaling, alongside the forward pass
    h^l = W^l x^{l-1} + b^l, x^l = phi(h^l).  The input x^0 is uniform on
    the sphere of radius sqrt(N (q - sigma_b^2)/sigma_w^2), so that given
    x^0 the first pre-activations are exactly N(0, q) for Gaussian weights:
    at q = q* every layer sits at the fixed point, as the theory assumes.

    Parameters
    ----------
    activation : str or Activation
    depth : int >= 1
        Number of layers L.
    width : int >= 1
        N, the width of every layer (J is N x N).
    n_samples : int >= 1
        Number of independent networks.
    weights : {"gaussian", "cauchy"}, frozen scipy.stats distribution or callable
        Law of the weights (see the module documentation): Gaussian entries of
        variance sigma_w2/N; Cauchy entries of scale sigma_w2/N; otherwise
        sqrt(sigma_w2/N) X with X drawn from the law (``callable(rng, shape)``
        returns an array of that shape).  Non-finite draws raise.
    sigma_w2 : float > 0
    sigma_b2 : float >= 0
        Bias variance (Cauchy: bias scale).  Biases are Gaussian except for
        ``"cauchy"``.
    q : float, sequence of ``depth`` floats, or None
        ``None``: q*, the fixed point of q -> sigma_w^2 E[phi(sqrt(q) g)^2] +
        sigma_b^2 (where it does not exist and the law of phi'(h)^2 does not
        depend on q, or for laws without a variance: |x^0|^2 = N).  A number:
        the variance of the first pre-activations; the later layers follow
        the network (their mean-field variances are reported in ``q``).  A
        sequence: the variance of every layer, imposed by rescaling each
        layer's input x^{l-1}; the rescaling gains are not part of J, which
        stays prod D^l W^l with the D^l of the imposed variances (the matrix
        of the layer-dependent theory).
    rng : None, int, SeedSequence or numpy Generator
        Every network draws from its own child stream of this seed (an SFC64
        generator for a seed or SeedSequence; a Generator spawns children of
        its own kind), in the order x^0, then W^l, b^l for l = 1..L: the
        result does not depend on ``batch`` or ``workers``.  ``None`` draws
        fresh entropy, recorded in ``seed``.
    dtype : float64 or float32
        Precision of the matrices (eigenvalues are returned as float64).
    batch : int, optional
        Number of networks held in memory at once (about 4 N^2 numbers each);
        by default as many as fit in 256 MiB.
    progress : bool
        Show a tqdm progress bar on stderr.
    method : {"svd", "eigh"}
        ``"svd"``: singular values of J (absolute accuracy ~ eps |J| on the
        singular values, so eigenvalues far below eps lambda_max are still
        resolved: needed for erf, whose spectrum has mass at 1e-20).
        ``"eigh"``: eigenvalues of J J^T, about twice as fast, absolute
        accuracy ~ N eps lambda_max (negative rounding clipped to 0).
    workers : int, optional
        Threads that process networks in parallel (default: the usable cores);
        BLAS runs single-threaded meanwhile.
    widths : sequence of depth + 1 ints, optional
        n_0, ..., n_L: rectangular layers (W_l is n_l x n_{l-1}, entries of
        variance sigma_w2/n_{l-1}; ``width`` is then ignored and the
        eigenvalues are those of the n_L x n_L matrix J J^T).  With
        ``weights="orthogonal"`` (W_l = sigma_w sqrt(n_l/n_{l-1}) O_l, O_l
        Haar with orthonormal columns, n_l >= n_{l-1}) or ``widths`` the
        networks are drawn one at a time by :mod:`rmtfp._arch_sampling`
        (float64; ``dtype``, ``batch``, ``workers`` and ``progress`` unused).

    Returns
    -------
    JacobianSpectrum

    Raises
    ------
    ValueError
        For depth, width or n_samples < 1, an unknown weight law, sigma_w2 <= 0,
        sigma_b2 < 0, q < sigma_b2, a q sequence of the wrong length, a q* that
        does not exist while the law of phi'(h)^2 depends on q, and non-finite
        weight draws, pre-activations or Jacobians (overflow).

    Examples
    --------
    >>> from rmtfp import sample_jacobian_spectrum
    >>> r = sample_jacobian_spectrum("relu", depth=2, width=50, n_samples=4, sigma_w2=2.0, rng=0)
    >>> r.eigenvalues.shape
    (4, 50)
    """
    depth = int_at_least("depth", depth, 1, integral_floats=True)
    if widths is not None or (isinstance(weights, str) and weights.strip().lower() in ("orthogonal", "haar")):
        from .._arch_sampling import arch_of, sample_arch

        law, ws = arch_of(weights, widths, depth, width if widths is not None else int_at_least("width", width, 1))
        return sample_arch(activation, depth, n_samples, law, ws, sigma_w2, sigma_b2, q, rng, method)
    return _sample(activation, (depth,), width, n_samples, weights, sigma_w2, sigma_b2, q, rng, dtype, batch,
                   progress, method, workers)[0]


def sample_depth_scan(activation: Union[str, Activation], depths: Sequence[int], width: int, n_samples: int,
                      weights="gaussian", sigma_w2: float = 1.0, sigma_b2: float = 0.0,
                      q: Optional[float] = None, rng=None, dtype=np.float64, batch: Optional[int] = None,
                      progress: bool = False, method: str = "svd", workers: Optional[int] = None) -> DepthScan:
    """Spectra of J J^T at several depths of the same networks.

    Each network is drawn once with ``max(depths)`` layers and its Jacobian
    spectrum is taken after each depth in ``depths`` (so the spectrum at
    depth L equals that of :func:`sample_jacobian_spectrum` with the same
    seed and ``depth=L``).  Use it with ``weights="cauchy"`` to watch the
    spectrum concentrate at 0 as the depth grows
    (:meth:`DepthScan.concentration`).

    Parameters are those of :func:`sample_jacobian_spectrum`, except
    ``depths`` (distinct integers >= 1) and ``q``, a number or None.
    """
    try:
        ds = sorted({int_at_least("depths", d, 1, integral_floats=True) for d in depths})
    except TypeError:
        raise ValueError(f"depths must be a sequence of integers >= 1, got {depths!r}") from None
    if not ds:
        raise ValueError("depths must contain at least one depth")
    if q is not None and not isinstance(q, numbers.Real):
        raise ValueError(f"q must be a number or None for a depth scan, got {q!r}")
    spectra = _sample(activation, ds, width, n_samples, weights, sigma_w2, sigma_b2, q, rng, dtype, batch, progress,
                      method, workers)
    return DepthScan(tuple(ds), spectra)
