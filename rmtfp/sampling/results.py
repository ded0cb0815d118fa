"""Sampled spectra: the eigenvalues of J J^T, their depth scans and concentration at 0."""

from __future__ import annotations

import dataclasses
import math
from typing import Optional

import numpy as np

from .._results import jsonable_result, summary_repr
from .._checks import int_at_least


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
        k = int_at_least("k", k, 1, integral_floats=True)
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

    __repr__ = summary_repr

    @jsonable_result
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

    __repr__ = summary_repr

    @jsonable_result
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

    __repr__ = summary_repr

    @jsonable_result
    def to_dict(self, eigenvalues: bool = False) -> dict:
        return {"depths": list(self.depths), "spectra": [s.to_dict(eigenvalues) for s in self.spectra],
                "concentration": [c.to_dict() for c in self.concentration()]}
