"""Finite-width Jacobian spectra and their comparison with the theory.

The network has ``depth`` layers of equal width N,

    h^l = W^l x^{l-1} + b^l,    x^l = phi(h^l),    l = 1..L,

and its input-output Jacobian is J = D^L W^L ... D^1 W^1 with
D^l = diag phi'(h^l).  :func:`sample_jacobian_spectrum` draws independent
networks and returns the eigenvalues of J J^T (the squared singular values of
J) of each; :func:`compare_spectrum` measures how far they are from the
infinite-width law of :func:`rmtfp.density` and says how far they should be.

Weight laws
-----------
``"gaussian"``   W_ij ~ N(0, sigma_w2/N), b_i ~ N(0, sigma_b2).
``"cauchy"``     W_ij ~ Cauchy(0, sigma_w2/N), b_i ~ Cauchy(0, sigma_b2):
                 sigma_w2/N is the *scale* parameter (the law has no
                 variance), so sigma_w2 = 1 is the papers' Cauchy(0, 1/N).
frozen scipy     ``scipy.stats.t(5)``, ``scipy.stats.uniform(-3**.5, 2*3**.5)``...:
distribution     W_ij = sqrt(sigma_w2/N) X_ij with X_ij drawn from the law,
                 b_i ~ N(0, sigma_b2).  The theory sees the weight variance
                 sigma_w2 Var(X) and needs E[X] = 0.
callable         ``f(rng, shape) -> array`` of i.i.d. draws X, used like a
                 frozen distribution; X is taken to be standardised (mean 0,
                 variance 1).

Every network draws from its own stream (``SeedSequence(seed).spawn``, one
SFC64 generator per network: half the cost of PCG64 for the N^2 normal
draws), so the eigenvalues depend only on the seed: not on ``batch``,
``workers`` or the machine's number of cores.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import math
import numbers
import os
from typing import Any, Callable, Optional, Sequence, Union

import numpy as np

from ._threads import single_blas_thread
from .activations import Activation, get
from .errors import ConvergenceError

__all__ = [
    "JacobianSpectrum",
    "DepthScan",
    "Concentration",
    "SpectralCDF",
    "SpectrumComparison",
    "sample_jacobian_spectrum",
    "sample_depth_scan",
    "spectrum_concentration",
    "spectral_cdf",
    "compare_spectrum",
    "ks_distance",
    "WEIGHT_LAWS",
]

#: names accepted by ``weights`` (besides frozen scipy distributions and callables)
WEIGHT_LAWS = ("gaussian", "cauchy")
_LAW_ALIASES = {"normal": "gaussian", "gauss": "gaussian"}
_METHODS = ("svd", "eigh")
_MEMORY_BUDGET = 256 * 2**20  # bytes of matrices held at once when batch is None
_BUFFERS_PER_SAMPLE = 4  # W, J, the product and the LAPACK copy, N^2 each


def _available_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


# ------------------------------------------------------------------ arguments
def _check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, numbers.Real) and float(value).is_integer() and not isinstance(value, bool):
            value = int(value)
        else:
            raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    value = int(value)
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return value


def _check_nonneg(name: str, value, allow_zero: bool) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real number, got {value!r}") from None
    if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        raise ValueError(f"{name} must be finite and {'>= 0' if allow_zero else '> 0'}, got {value!r}")
    return v


@dataclasses.dataclass(frozen=True)
class _Law:
    """A weight law: draws of the standardised entry X and how they are scaled."""

    name: str
    kind: str  # "gaussian" | "cauchy" | "scipy" | "callable"
    obj: Any = None
    mean: Optional[float] = 0.0
    variance: Optional[float] = 1.0  # Var(X); inf for laws without variance, None when unknown

    @property
    def has_variance(self) -> bool:
        return self.variance is None or math.isfinite(self.variance)

    def weight_scale(self, sigma_w2: float, width: int) -> float:
        if self.kind == "cauchy":
            return sigma_w2 / width
        return math.sqrt(sigma_w2 / width)

    def draw(self, gen: np.random.Generator, out: np.ndarray) -> None:
        """Fill ``out`` with i.i.d. draws of X."""
        if self.kind == "gaussian":
            gen.standard_normal(out=out, dtype=out.dtype)
            return
        shape = out.shape
        if self.kind == "cauchy":
            x = gen.standard_cauchy(shape)
        elif self.kind == "scipy":
            if hasattr(self.obj, "rvs"):
                x = self.obj.rvs(size=shape, random_state=gen)
            else:  # scipy.stats distribution objects of the new interface
                x = self.obj.sample(shape, rng=gen)
        else:
            x = self.obj(gen, shape)
        x = np.asarray(x)
        if x.shape != shape:
            raise ValueError(f"weights={self.name} returned an array of shape {x.shape}, expected {shape}")
        if not np.issubdtype(x.dtype, np.number) or np.iscomplexobj(x):
            raise ValueError(f"weights={self.name} must return real numbers, got dtype {x.dtype}")
        out[...] = x

    def draw_bias(self, gen: np.random.Generator, size: int, sigma_b2: float, dtype) -> np.ndarray:
        if self.kind == "cauchy":
            return (sigma_b2 * gen.standard_cauchy(size)).astype(dtype, copy=False)
        return (math.sqrt(sigma_b2) * gen.standard_normal(size)).astype(dtype, copy=False)

    def to_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "mean": self.mean, "variance": self.variance}


def _scipy_moment(obj, name: str) -> Optional[float]:
    try:
        f = getattr(obj, name)
        v = float(f())
    except Exception:  # noqa: BLE001 - scipy raises several types for undefined moments
        return None
    return v if not math.isnan(v) else math.inf


def _resolve_law(weights) -> _Law:
    if isinstance(weights, str):
        key = weights.strip().lower()
        key = _LAW_ALIASES.get(key, key)
        if key == "gaussian":
            return _Law("gaussian", "gaussian")
        if key == "cauchy":
            return _Law("cauchy", "cauchy", mean=None, variance=math.inf)
        raise ValueError(f"weights must be one of {WEIGHT_LAWS}, a frozen scipy.stats distribution or a "
                         f"callable (rng, shape) -> array; got unknown law {weights!r}")
    if hasattr(weights, "rvs") and hasattr(weights, "var") and hasattr(weights, "mean"):
        name = getattr(getattr(weights, "dist", None), "name", type(weights).__name__)
        args = ", ".join([*(repr(a) for a in getattr(weights, "args", ())),
                          *(f"{k}={v!r}" for k, v in getattr(weights, "kwds", {}).items())])
        try:
            lo, hi = (float(v) for v in weights.support())
        except Exception:  # noqa: BLE001 - frozen objects without support(): checked by their draws
            lo = hi = 0.0
        if math.isnan(lo) or math.isnan(hi):
            raise ValueError(f"weights=scipy.stats.{name}({args}) has invalid parameters (its support is undefined)")
        return _Law(f"scipy.stats.{name}({args})", "scipy", weights, _scipy_moment(weights, "mean"),
                    _scipy_moment(weights, "var"))
    if hasattr(weights, "sample") and hasattr(weights, "variance") and hasattr(weights, "mean"):
        return _Law(repr(weights), "scipy", weights, _scipy_moment(weights, "mean"),
                    _scipy_moment(weights, "variance"))
    if callable(weights):
        return _Law(getattr(weights, "__name__", repr(weights)), "callable", weights, mean=None, variance=None)
    raise TypeError(f"weights must be one of {WEIGHT_LAWS}, a frozen scipy.stats distribution or a callable "
                    f"(rng, shape) -> array; got {type(weights).__name__}")


def _resolve_rng(rng) -> tuple[Any, Optional[int]]:
    """(object with .spawn, recorded seed)."""
    if rng is None:
        ss = np.random.SeedSequence()
        return ss, ss.entropy
    if isinstance(rng, np.random.Generator):
        return rng, None
    if isinstance(rng, np.random.SeedSequence):
        return rng, rng.entropy if not rng.spawn_key else None
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        if rng < 0:
            raise ValueError(f"rng must be a non-negative integer seed or a numpy Generator, got {rng}")
        return np.random.SeedSequence(int(rng)), int(rng)
    raise TypeError(f"rng must be None, a non-negative integer seed, a SeedSequence or a numpy Generator, "
                    f"got {type(rng).__name__}")


def _sample_generators(source, n: int) -> list[np.random.Generator]:
    if isinstance(source, np.random.Generator):
        return source.spawn(n)
    return [np.random.Generator(np.random.SFC64(s)) for s in source.spawn(n)]


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


# -------------------------------------------------------------------- results
@dataclasses.dataclass(frozen=True, eq=False)
class JacobianSpectrum:
    """Eigenvalues of J J^T for independently drawn finite-width networks.

    Attributes
    ----------
    eigenvalues : ndarray, shape (n_samples, width)
        Eigenvalues of J J^T (squared singular values of J), ascending per
        sample, float64.  The ``n_zeros[s]`` structural zeros are exactly 0.
    n_zeros : ndarray of int, shape (n_samples,)
        N - rank J = N - min_l #{i : phi'(h^l_i) != 0}: the exact zeros
        (the rank of a product of matrices with a density; weight laws with
        atoms may lose more rank, seen as eigenvalues at rounding level).
    preactivation_q : ndarray, shape (n_samples, depth)
        (1/N) sum_i (h^l_i)^2 per network and layer: the measured counterpart
        of ``q``.
    activation : str
    depth, width, n_samples : int
    sigma_w2, sigma_b2 : float
        As passed (for ``"cauchy"``, sigma_w2/N is the scale of the entries).
    weight_variance : float or None
        N Var(W_ij): the sigma_w^2 the theory sees (sigma_w2 Var(X)); None for
        laws without a variance (Cauchy).
    weights : dict
        The weight law: name, kind, mean and variance of X.
    q : tuple of float or None
        Variance of the pre-activations of each layer as the theory sees it
        (the mean-field recursion from the prepared input, or the imposed
        per-layer values); None for laws without a variance.
    q_source : str
        ``"q_star"``, ``"given"``, ``"per-layer"`` or ``"unit input"`` (q* not
        defined: inputs with |x^0|^2 = N).
    seed : int or None
        Entropy of the seed sequence (reproduces the result with ``rng=seed``);
        None when a Generator was passed.
    dtype, method : str
    """

    eigenvalues: np.ndarray
    n_zeros: np.ndarray
    preactivation_q: np.ndarray
    activation: str
    depth: int
    width: int
    n_samples: int
    sigma_w2: float
    sigma_b2: float
    weight_variance: Optional[float]
    weights: dict
    q: Optional[tuple]
    q_source: str
    seed: Optional[int]
    dtype: str
    method: str

    @property
    def pooled(self) -> np.ndarray:
        """All eigenvalues of all samples, sorted (n_samples * width values)."""
        return np.sort(self.eigenvalues, axis=None)

    @property
    def zero_fraction(self) -> float:
        """Fraction of exact zeros over all samples: the sampled atom at 0."""
        return float(np.sum(self.n_zeros)) / (self.n_samples * self.width)

    def sample_moments(self, k: int = 4) -> np.ndarray:
        """Per-sample moments (1/N) tr (J J^T)^j, j = 1..k, shape (n_samples, k)."""
        k = _check_int("k", k, 1)
        lam = self.eigenvalues
        return np.stack([np.mean(lam**j, axis=1) for j in range(1, k + 1)], axis=1)

    def moments(self, k: int = 4) -> tuple[np.ndarray, np.ndarray]:
        """Sample means of m_1..m_k and their standard errors (zeros if one sample)."""
        m = self.sample_moments(k)
        se = m.std(axis=0, ddof=1) / math.sqrt(self.n_samples) if self.n_samples > 1 else np.zeros(m.shape[1])
        return m.mean(axis=0), se

    def concentration(self, thresholds=(1e-6, 1e-3, 1e-1)) -> "Concentration":
        """See :func:`spectrum_concentration`."""
        return spectrum_concentration(self, thresholds)

    @property
    def params(self) -> dict:
        """The parameters that produced the sample."""
        return dict(activation=self.activation, depth=self.depth, width=self.width, n_samples=self.n_samples,
                    sigma_w2=self.sigma_w2, sigma_b2=self.sigma_b2, weight_variance=self.weight_variance,
                    weights=dict(self.weights), q=None if self.q is None else list(self.q),
                    q_source=self.q_source, seed=self.seed, dtype=self.dtype, method=self.method)

    def to_dict(self, eigenvalues: bool = True) -> dict:
        """JSON-ready dict; ``eigenvalues=False`` leaves out the (large) eigenvalue array."""
        m, se = self.moments(4)
        out = dict(self.params, zero_fraction=self.zero_fraction, n_zeros=self.n_zeros.tolist(),
                   moments=m.tolist(), moments_stderr=se.tolist(),
                   preactivation_q=self.preactivation_q.mean(axis=0).tolist())
        if eigenvalues:
            out["eigenvalues"] = self.eigenvalues.tolist()
        return out


@dataclasses.dataclass(frozen=True, eq=False)
class Concentration:
    """How much of the spectrum of J J^T sits near 0 (no theory needed).

    Attributes
    ----------
    thresholds : ndarray
    fraction_below : ndarray
        Fraction of eigenvalues (pooled over samples, zeros included) <= each
        threshold.
    fraction_below_stderr : ndarray
        Standard error of that fraction over samples.
    median : float
        Median of the pooled eigenvalues.
    quantiles : dict
        The 1, 10, 50, 90, 99 % quantiles of the pooled eigenvalues.
    zero_fraction : float
        Fraction of exact zeros.
    lambda_max_median : float
        Median over samples of the largest eigenvalue.
    log10_mean : float
        Mean of log10 lambda over the non-zero eigenvalues.
    depth, width, n_samples : int
    """

    thresholds: np.ndarray
    fraction_below: np.ndarray
    fraction_below_stderr: np.ndarray
    median: float
    quantiles: dict
    zero_fraction: float
    lambda_max_median: float
    log10_mean: float
    depth: int
    width: int
    n_samples: int

    def to_dict(self) -> dict:
        return {"thresholds": self.thresholds.tolist(), "fraction_below": self.fraction_below.tolist(),
                "fraction_below_stderr": self.fraction_below_stderr.tolist(), "median": self.median,
                "quantiles": {str(k): v for k, v in self.quantiles.items()}, "zero_fraction": self.zero_fraction,
                "lambda_max_median": self.lambda_max_median, "log10_mean": self.log10_mean, "depth": self.depth,
                "width": self.width, "n_samples": self.n_samples}


def spectrum_concentration(result: JacobianSpectrum, thresholds=(1e-6, 1e-3, 1e-1)) -> Concentration:
    """Concentration statistics of a sampled spectrum.

    For heavy-tailed weights (Cauchy) the free-probability law does not
    exist, but the spectrum of J J^T still concentrates at 0 as the depth
    grows: these numbers measure it.

    Parameters
    ----------
    result : JacobianSpectrum
    thresholds : sequence of float > 0
        The fraction of eigenvalues <= t is reported for each t.
    """
    if not isinstance(result, JacobianSpectrum):
        raise TypeError(f"result must be a JacobianSpectrum, got {type(result).__name__}")
    t = np.atleast_1d(np.asarray(thresholds, dtype=float))
    if t.ndim != 1 or t.size == 0 or not np.all(np.isfinite(t)) or np.any(t <= 0):
        raise ValueError(f"thresholds must be finite numbers > 0, got {thresholds!r}")
    lam = result.eigenvalues
    per_sample = np.stack([np.mean(lam <= ti, axis=1) for ti in t], axis=1)
    frac = per_sample.mean(axis=0)
    se = per_sample.std(axis=0, ddof=1) / math.sqrt(result.n_samples) if result.n_samples > 1 \
        else np.zeros(t.size)
    pooled = lam.ravel()
    qs = np.quantile(pooled, [0.01, 0.1, 0.5, 0.9, 0.99])
    nz = pooled[pooled > 0]
    return Concentration(
        thresholds=t, fraction_below=frac, fraction_below_stderr=se, median=float(qs[2]),
        quantiles={p: float(v) for p, v in zip((0.01, 0.1, 0.5, 0.9, 0.99), qs)},
        zero_fraction=result.zero_fraction, lambda_max_median=float(np.median(lam[:, -1])),
        log10_mean=float(np.mean(np.log10(nz))) if nz.size else -math.inf,
        depth=result.depth, width=result.width, n_samples=result.n_samples)


@dataclasses.dataclass(frozen=True, eq=False)
class DepthScan:
    """Spectra of the same networks truncated at several depths.

    Attributes
    ----------
    depths : tuple of int
    spectra : tuple of JacobianSpectrum
        ``spectra[i]`` is the spectrum of the first ``depths[i]`` layers;
        equal to ``sample_jacobian_spectrum(depth=depths[i], ...)`` with the
        same seed.
    """

    depths: tuple
    spectra: tuple

    def concentration(self, thresholds=(1e-6, 1e-3, 1e-1)) -> tuple:
        """:class:`Concentration` at each depth."""
        return tuple(spectrum_concentration(s, thresholds) for s in self.spectra)

    def to_dict(self, eigenvalues: bool = False) -> dict:
        return {"depths": list(self.depths), "spectra": [s.to_dict(eigenvalues) for s in self.spectra],
                "concentration": [c.to_dict() for c in self.concentration()]}


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


def _sample(activation, depths, width, n_samples, weights, sigma_w2, sigma_b2, q, rng, dtype, batch, progress,
            method, workers) -> tuple:
    act = get(activation)
    depths = tuple(depths)
    max_depth = max(depths)
    width = _check_int("width", width, 1)
    n_samples = _check_int("n_samples", n_samples, 1)
    law = _resolve_law(weights)
    sigma_w2 = _check_nonneg("sigma_w2", sigma_w2, allow_zero=False)
    sigma_b2 = _check_nonneg("sigma_b2", sigma_b2, allow_zero=True)
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
    workers = _check_int("workers", workers, 1)
    per_sample = _BUFFERS_PER_SAMPLE * width * width * dt.itemsize
    if batch is None:
        batch = int(min(n_samples, max(workers, _MEMORY_BUDGET // per_sample)))
    batch = min(_check_int("batch", batch, 1), n_samples)
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
    depth = _check_int("depth", depth, 1)
    if widths is not None or (isinstance(weights, str) and weights.strip().lower() in ("orthogonal", "haar")):
        from ._arch_sampling import arch_of, sample_arch

        law, ws = arch_of(weights, widths, depth, width if widths is not None else _check_int("width", width, 1))
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
        ds = sorted({_check_int("depths", d, 1) for d in depths})
    except TypeError:
        raise ValueError(f"depths must be a sequence of integers >= 1, got {depths!r}") from None
    if not ds:
        raise ValueError("depths must contain at least one depth")
    if q is not None and not isinstance(q, numbers.Real):
        raise ValueError(f"q must be a number or None for a depth scan, got {q!r}")
    spectra = _sample(activation, ds, width, n_samples, weights, sigma_w2, sigma_b2, q, rng, dtype, batch, progress,
                      method, workers)
    return DepthScan(tuple(ds), spectra)


# ------------------------------------------------------------ the theory's CDF
@dataclasses.dataclass(frozen=True, eq=False)
class SpectralCDF:
    """Cumulative distribution function of the infinite-width law of J J^T.

    F(lambda) = atom + int_0^lambda rho, computed as 1 - int_lambda^lambda_max rho
    (integrated from the upper edge down, so the singularity of rho at 0 never
    enters): Simpson's rule in log(lambda) on [lambda_lo, lambda_max/2] and in
    s on [lambda_max/2, lambda_max], lambda = lambda_max (1 - s^2/2), which
    resolves the square-root edge.  Below the grid F - atom is extrapolated as
    the power law (lambda/lambda_lo)^p that matches F and rho at lambda_lo.

    Attributes
    ----------
    lam, density, cdf : ndarray
        The grid (ascending), rho (continuous part) and F on it.
    atom : float
        Mass at lambda = 0.
    lambda_max : float
    unresolved_mass : float
        F(lambda_lo) - atom: continuous mass below the grid (clipped at 0).
    tail_exponent : float
        p of the extrapolation below the grid.
    n_failed : int
        Grid points where the density solver did not converge (interpolated
        from their neighbours).
    params : dict
    """

    lam: np.ndarray
    density: np.ndarray
    cdf: np.ndarray
    atom: float
    lambda_max: float
    unresolved_mass: float
    tail_exponent: float
    n_failed: int
    params: dict

    def __call__(self, x, left: bool = False) -> np.ndarray:
        """F(x), or its left limit F(x-) with ``left=True`` (F(0-) = 0)."""
        x = np.asarray(x, dtype=float)
        out = np.empty(x.shape)
        lo, hi = self.lam[0], self.lambda_max
        t = np.log(np.clip(x, lo, hi))
        out[...] = self._interp(t)
        below = (x < lo) & (x > 0)
        if np.any(below):
            r = x[below] / lo
            out[below] = self.atom + self.unresolved_mass * r**self.tail_exponent
        out[x >= hi] = 1.0
        out[x == 0] = 0.0 if left else self.atom
        out[x < 0] = 0.0
        return out

    @property
    def _interp(self):
        from scipy.interpolate import PchipInterpolator

        return PchipInterpolator(np.log(self.lam), self.cdf, extrapolate=True)

    def to_dict(self) -> dict:
        return {"lam": self.lam.tolist(), "density": self.density.tolist(), "cdf": self.cdf.tolist(),
                "atom": self.atom, "lambda_max": self.lambda_max, "unresolved_mass": self.unresolved_mass,
                "tail_exponent": self.tail_exponent, "n_failed": self.n_failed, "params": dict(self.params)}


def _theory(activation, depth, sigma_w2, q, sigma_b2):
    """(density(lam) -> (rho, status), lambda_max, atom, moments(k), description) of the law of J J^T.

    ``q``: None (q* or not needed), a number, or a per-layer sequence.
    """
    from . import spectrum
    from .spectrum.layered import density_layered, moments_layered, support_layered

    act = get(activation)
    if q is not None and not isinstance(q, numbers.Real):
        qs = [float(v) for v in q]
        if len(qs) != depth:
            raise ValueError(f"q must have one value per layer (depth={depth}), got {len(qs)} values")
        if not act.depends_on_q or max(qs) - min(qs) <= 1e-12 * max(max(qs), 1e-300):
            q = None if not act.depends_on_q else qs[0]
        else:
            lmax, atom = support_layered(act, qs, sigma_w2)

            def dens(lam):
                rho, _, status = density_layered(lam, act, qs, sigma_w2)
                return rho, status

            return dens, lmax, atom, (lambda k: moments_layered(act, qs, k, sigma_w2)), "layered"
    sup = spectrum.support(act, depth, sigma_w2=sigma_w2, q=q, sigma_b2=sigma_b2)
    q_value = sup.params.get("q")
    q_value = (1.0 if not act.depends_on_q else act.q_star(sigma_w2, sigma_b2)) if q_value is None else q_value

    def dens(lam):
        r = spectrum.density(lam, act, depth, sigma_w2=sigma_w2, q=q, sigma_b2=sigma_b2)
        rho, status = np.array(r.density, dtype=float), np.array(r.status)
        bad = status != 0
        if bad.any():  # second opinion: the same law through the layer-dependent system
            rho2, _, status2 = density_layered(lam[bad], act, [q_value] * depth, sigma_w2)
            rho[bad], status[bad] = rho2, status2
        return rho, status

    return (dens, float(sup.lambda_max), float(sup.atom),
            (lambda k: np.asarray(spectrum.moments(act, depth, k, sigma_w2=sigma_w2, q=q, sigma_b2=sigma_b2),
                                  dtype=float)), "equal")


def spectral_cdf(activation: Union[str, Activation], depth: int, sigma_w2: float = 1.0,
                 q: Optional[Union[float, Sequence[float]]] = None, sigma_b2: float = 0.0,
                 lam_min: Optional[float] = None, per_decade: int = 24, n_edge: int = 161) -> SpectralCDF:
    """The theory's CDF of the eigenvalues of J J^T, atom included.

    Parameters
    ----------
    activation, depth, sigma_w2, q, sigma_b2
        As for :func:`rmtfp.density`; ``q`` may be a per-layer sequence
        (layer-dependent law, :mod:`rmtfp.spectrum.layered`).
    lam_min : float, optional
        Lower end of the grid (default 1e-12 lambda_max).
    per_decade : int
        Grid points per decade of lambda below lambda_max/2.
    n_edge : int
        Grid points on [lambda_max/2, lambda_max].

    Raises
    ------
    ConvergenceError
        When the density solver fails on more than 5 % of the grid.
    """
    from scipy.integrate import cumulative_simpson

    depth = _check_int("depth", depth, 1)
    per_decade = _check_int("per_decade", per_decade, 2)
    n_edge = _check_int("n_edge", n_edge, 3)
    dens, lmax, atom, _, kind = _theory(activation, depth, sigma_w2, q, sigma_b2)
    lo = 1e-12 * lmax if lam_min is None else _check_nonneg("lam_min", lam_min, allow_zero=False)
    if lo >= lmax / 2:
        raise ValueError(f"lam_min must be < lambda_max/2 = {lmax / 2}, got {lam_min}")
    n_log = max(3, int(math.ceil(per_decade * math.log10(lmax / 2 / lo))) + 1)
    t_low = np.linspace(math.log(lo), math.log(lmax / 2), n_log)
    s = np.linspace(0.0, 1.0, n_edge)[1:]  # s = 0 is the edge itself, rho = 0 there
    lam_up = lmax * (1 - s**2 / 2)
    lam = np.concatenate([np.exp(t_low[:-1]), lam_up[::-1]])
    rho, status = dens(lam)
    rho = np.where(np.isfinite(rho), np.maximum(rho, 0.0), np.nan)
    bad = (status != 0) | ~np.isfinite(rho)
    n_failed = int(np.sum(bad))
    if n_failed > 0.05 * lam.size:
        raise ConvergenceError(f"the density solver failed at {n_failed} of {lam.size} grid points "
                               f"(activation={get(activation).name}, depth={depth})", last=lam[bad])
    if n_failed:
        good = ~bad
        rho[bad] = np.exp(np.interp(np.log(lam[bad]), np.log(lam[good]), np.log(np.maximum(rho[good], 1e-300))))
    rho_low = np.concatenate([rho[: n_log - 1], rho[n_log - 1: n_log]])  # rho at t_low (last = lambda_max/2)
    rho_up = np.concatenate([[0.0], rho[n_log - 1:][::-1]])  # rho at s = 0..1
    s_full = np.concatenate([[0.0], s])
    tail_up = cumulative_simpson(rho_up * lmax * s_full, x=s_full, initial=0.0)  # mass in [lam(s), lmax]
    g = rho_low * np.exp(t_low)
    tail_low = tail_up[-1] + cumulative_simpson(g[::-1], x=-t_low[::-1], initial=0.0)[::-1]
    tail = np.concatenate([tail_low[:-1], tail_up[::-1][:-1]])  # on lam without lambda_max
    lam_all = np.append(lam, lmax)
    rho_all = np.append(rho, 0.0)
    cdf = np.clip(np.append(1.0 - tail, 1.0), 0.0, 1.0)
    cdf = np.maximum.accumulate(cdf)
    unresolved = float(max(cdf[0] - atom, 0.0))
    p = float(g[0] / unresolved) if unresolved > 0 else math.inf
    params = dict(activation=get(activation).name, depth=depth, sigma_w2=sigma_w2, sigma_b2=sigma_b2,
                  q=None if q is None else (float(q) if isinstance(q, numbers.Real) else [float(v) for v in q]),
                  law=kind, lam_min=lo, per_decade=per_decade, n_edge=n_edge,
                  mass_defect=float(cdf[0] - atom) if cdf[0] < atom else 0.0)
    return SpectralCDF(lam_all, rho_all, cdf, atom, lmax, unresolved, p, n_failed, params)


# ------------------------------------------------------------------ comparison
@dataclasses.dataclass(frozen=True, eq=False)
class SpectrumComparison:
    """Sampled spectrum against the infinite-width theory.

    Every statistic comes with the scale of its expected finite-width error;
    ``*_ratio`` = statistic / scale is O(1) when the sample agrees with the
    theory and large when it does not.

    Attributes
    ----------
    ks : float
        Kolmogorov-Smirnov distance sup |F_N(lambda) - F(lambda)| over
        lambda >= ``ks_floor`` between the pooled empirical CDF (all samples)
        and the theory's CDF, atom included (the mass below the floor is
        compared at the floor).
    ks_floor : float
        The smallest lambda the comparison resolves: the larger of the
        sampler's resolution (computed eigenvalues below (N eps)^2 lambda_top
        for the SVD, N eps lambda_top for eigh, are rounding) and the bottom
        of the theory's CDF grid (below it the CDF is extrapolated).
    ks_scale : float
        (1 + log N / sqrt(n_samples)) / N (the bulk: one eigenvalue carries
        mass 1/N, the ESD of one matrix fluctuates by ~log N / N) + |atom
        bias| + the atom's standard error.
    atom, atom_sampled, atom_expected, atom_stderr : float
        Theory's atom; sampled fraction of exact zeros; its finite-width
        expectation 1 - E[min(N, min_l X_l)]/N, X_l ~ Binomial(N, c_l)
        independent (rank J = min_l #{phi'(h^l_i) != 0}); standard error.
    moments, moments_sampled, moments_stderr : ndarray
        m_1..m_k of the theory, sample means of (1/N) tr (J J^T)^j, standard
        errors.
    moments_rel_err, moments_rel_scale : ndarray
        |sampled - theory| / theory, and its scale (1 + j (j-1) L / 2)/N + the
        relative standard error (finite-width bias O(j^2 L / N), measured on
        linear, ReLU, hard-tanh and erf networks, plus sampling noise).
    lambda_max, lambda_max_sampled : float
        Theory's upper edge; median over samples of the largest eigenvalue
        (above lambda_max by O(N^{-2/3}) at finite width).
    cdf : SpectralCDF
        The theory's CDF and density on its grid (for plots).
    sample_params, theory_params : dict
    """

    ks: float
    ks_scale: float
    ks_floor: float
    atom: float
    atom_sampled: float
    atom_expected: float
    atom_stderr: float
    moments: np.ndarray
    moments_sampled: np.ndarray
    moments_stderr: np.ndarray
    moments_rel_err: np.ndarray
    moments_rel_scale: np.ndarray
    lambda_max: float
    lambda_max_sampled: float
    cdf: SpectralCDF
    sample_params: dict
    theory_params: dict

    @property
    def ks_ratio(self) -> float:
        return self.ks / self.ks_scale

    @property
    def moments_ratio(self) -> np.ndarray:
        return self.moments_rel_err / self.moments_rel_scale

    def agrees(self, factor: float = 3.0) -> bool:
        """Whether every statistic is within ``factor`` times its finite-width scale."""
        return bool(self.ks_ratio <= factor and np.all(self.moments_ratio <= factor))

    def to_dict(self, cdf: bool = False) -> dict:
        out = {"ks": self.ks, "ks_scale": self.ks_scale, "ks_ratio": self.ks_ratio, "ks_floor": self.ks_floor,
               "atom": self.atom, "atom_sampled": self.atom_sampled, "atom_expected": self.atom_expected,
               "atom_stderr": self.atom_stderr, "moments": self.moments.tolist(),
               "moments_sampled": self.moments_sampled.tolist(), "moments_stderr": self.moments_stderr.tolist(),
               "moments_rel_err": self.moments_rel_err.tolist(),
               "moments_rel_scale": self.moments_rel_scale.tolist(),
               "moments_ratio": self.moments_ratio.tolist(), "lambda_max": self.lambda_max,
               "lambda_max_sampled": self.lambda_max_sampled, "agrees": self.agrees(),
               "sample_params": dict(self.sample_params), "theory_params": dict(self.theory_params)}
        if cdf:
            out["cdf"] = self.cdf.to_dict()
        return out


def ks_distance(sorted_x: np.ndarray, cdf: Callable, floor: float = -math.inf) -> float:
    """sup over x >= floor of |F_n(x) - F(x)|, for sorted data and a CDF with ``cdf(x, left=True)`` = F(x-)."""
    n = sorted_x.size
    i = np.arange(1, n + 1)
    keep = sorted_x >= floor
    d = 0.0
    if keep.any():
        x, i = sorted_x[keep], i[keep]
        d = max(float(np.max(i / n - cdf(x))), float(np.max(cdf(x, left=True) - (i - 1) / n)))
    if math.isfinite(floor):  # at the floor itself: the mass below it, compared as a whole
        below = int(np.searchsorted(sorted_x, floor, side="right"))
        d = max(d, abs(below / n - float(np.asarray(cdf(np.array([floor])))[0])))
    return float(max(d, 0.0))


def _resolution(result: "JacobianSpectrum") -> float:
    """Eigenvalues of J J^T below this are rounding: the SVD resolves singular values to ~N eps sigma_max."""
    eps = float(np.finfo(np.dtype(result.dtype)).eps)
    top = float(np.max(result.eigenvalues[:, -1])) if result.eigenvalues.size else 0.0  # rows ascend
    n_eps = result.width * eps
    return n_eps**2 * top if result.method == "svd" else n_eps * top


def _pooled_cdf_stderr(eigenvalues: np.ndarray, pooled: np.ndarray) -> float:
    """Largest standard error of the pooled empirical CDF, over its percentiles and 0.

    SE(x) = std_s F_s(x) / sqrt(n_samples), F_s the empirical CDF of sample s.
    With one sample, the typical fluctuation of one matrix's ESD, log(N)/N.
    """
    ns, N = eigenvalues.shape
    if ns == 1:
        return math.log(max(N, 2)) / N
    xs = np.unique(np.concatenate([[0.0], np.quantile(pooled, np.linspace(0.01, 0.99, 99))]))
    F = np.stack([np.searchsorted(row, xs, side="right") for row in eigenvalues]) / N
    return float(np.max(F.std(axis=0, ddof=1)) / math.sqrt(ns))


def _finite_width_atom(nonzero_probs: Sequence[float], width: int) -> float:
    """1 - E[min(N, min_l X_l)]/N for independent X_l ~ Binomial(N, c_l)."""
    from scipy.stats import binom

    if all(c >= 1 for c in nonzero_probs):
        return 0.0
    k = np.arange(1, width + 1)
    surv = np.ones(width)
    for c in nonzero_probs:
        surv *= binom.sf(k - 1, width, c)
    return float(1 - surv.sum() / width)


def compare_spectrum(result: JacobianSpectrum, k: int = 4, sigma_w2: Optional[float] = None,
                     per_decade: int = 24) -> SpectrumComparison:
    """Compare a sampled spectrum with the infinite-width theory.

    The theory is :func:`rmtfp.density` at the sample's parameters: sigma_w^2
    = N Var(W_ij) (``result.weight_variance``), sigma_b^2, and the
    pre-activation variances ``result.q`` (q* for networks at the fixed
    point, the layer-dependent law of :mod:`rmtfp.spectrum.layered` for
    networks started elsewhere).

    Parameters
    ----------
    result : JacobianSpectrum
    k : int
        Number of moments compared.
    sigma_w2 : float, optional
        Override the weight variance the theory uses (e.g. for a callable
        weight law whose draws are not standardised).
    per_decade : int
        Resolution of the theory's CDF grid (see :func:`spectral_cdf`).

    Returns
    -------
    SpectrumComparison

    Raises
    ------
    ValueError
        For weight laws without a variance (Cauchy: use
        :func:`spectrum_concentration`), with a non-zero mean, or a single
        sample (the spread between samples cannot be estimated; with fewer
        than about 5 the estimate, and so the verdict of
        :meth:`SpectrumComparison.agrees`, is rough).
    """
    if not isinstance(result, JacobianSpectrum):
        raise TypeError(f"result must be a JacobianSpectrum, got {type(result).__name__}")
    if result.n_samples < 2:
        raise ValueError(f"comparison needs n_samples >= 2 (the sample-to-sample spread is part of the finite-width "
                         f"error scale), got n_samples={result.n_samples}")
    k = _check_int("k", k, 1)
    law = result.weights
    if law.get("kind") == "orthogonal" or "widths" in law:  # orthogonal weights, rectangular layers
        from ._arch_sampling import compare_arch

        return compare_arch(result, k, per_decade)
    if sigma_w2 is None:
        if result.weight_variance is None:
            raise ValueError(f"weights={law['name']} have infinite variance: the free-probability law does not "
                             "exist; use spectrum_concentration(result) for the concentration statistics")
        sigma_w2 = result.weight_variance
    else:
        sigma_w2 = _check_nonneg("sigma_w2", sigma_w2, allow_zero=False)
    mean = law.get("mean")
    if mean is not None and (not math.isfinite(mean) or abs(mean) > 1e-12):
        raise ValueError(f"weights={law['name']} have mean {mean}: the theory needs mean-zero weights")
    act = get(result.activation)
    L, N = result.depth, result.width
    qs = result.q if result.q is not None else (None,) * L
    if not act.depends_on_q:
        q_theory = None
    elif result.q_source == "q_star":
        q_theory = None  # the theory recomputes q* (also covers q* = 0)
    elif len(set(qs)) == 1:
        q_theory = qs[0]
    else:
        q_theory = list(qs)
    if result.weight_variance is not None and sigma_w2 != result.weight_variance and q_theory is None \
            and act.depends_on_q:
        q_theory = qs[0]
    pooled = result.pooled
    positive = pooled[pooled > 0]
    lo_sample = float(positive[0]) if positive.size else math.inf
    _, lmax, _, moments_fn, _ = _theory(act, L, sigma_w2, q_theory, result.sigma_b2)
    lam_min = min(1e-10 * lmax, max(lo_sample, 1e-30 * lmax))
    cdf = spectral_cdf(act, L, sigma_w2=sigma_w2, q=q_theory, sigma_b2=result.sigma_b2, lam_min=lam_min,
                       per_decade=per_decade)
    ks_floor = max(_resolution(result), float(cdf.lam[0]))
    ks = ks_distance(pooled, cdf, ks_floor)

    ns = result.n_samples
    zero_frac = result.n_zeros / N
    atom_se = float(zero_frac.std(ddof=1) / math.sqrt(ns)) if ns > 1 else 0.0
    cdf_se = _pooled_cdf_stderr(result.eigenvalues, pooled)
    cs = [1 - act.zero_probability(qv if qv is not None else (None if not act.depends_on_q else 0.0))
          for qv in (qs if act.depends_on_q else (None,) * L)]
    atom_expected = _finite_width_atom(cs, N) if cdf.atom > 0 else 0.0
    ks_scale = 1 / N + abs(atom_expected - cdf.atom) + cdf_se

    m_th = moments_fn(k)
    m_s, se = result.moments(k)
    j = np.arange(1, k + 1)
    rel_err = np.abs(m_s - m_th) / np.abs(m_th)
    rel_scale = (1 + j * (j - 1) * L / 2) / N + se / np.abs(m_th)
    theory_params = dict(cdf.params, lambda_max=lmax, atom=cdf.atom)
    return SpectrumComparison(
        ks=ks, ks_scale=ks_scale, ks_floor=ks_floor, atom=cdf.atom, atom_sampled=result.zero_fraction,
        atom_expected=atom_expected, atom_stderr=atom_se, moments=m_th, moments_sampled=m_s, moments_stderr=se,
        moments_rel_err=rel_err, moments_rel_scale=rel_scale, lambda_max=lmax,
        lambda_max_sampled=float(np.median(result.eigenvalues[:, -1])), cdf=cdf, sample_params=result.params,
        theory_params=theory_params)
