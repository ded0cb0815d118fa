"""A sampled spectrum against the infinite-width theory, with the scale of each expected error."""

from __future__ import annotations

import dataclasses
import math
from typing import Callable, Optional, Sequence

import numpy as np

from .._results import jsonable_result, summary_repr
from .._checks import int_at_least, positive_real
from ..activations import get
from .cdf import SpectralCDF, _theory, spectral_cdf
from .results import JacobianSpectrum


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

    __repr__ = summary_repr

    @jsonable_result
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
    """sup over x >= floor of |F_n(x) - F(x)|, for sorted data and a CDF with ``cdf(x, left=True)`` = F(x-).

    ``sorted_x`` must be a non-empty, finite, ascending 1-d array of eigenvalues of J J^T (>= 0): an empty
    sample has no empirical CDF, and a NaN or negative eigenvalue is a failed computation, not data.
    """
    sorted_x = np.asarray(sorted_x, dtype=float)
    if sorted_x.ndim != 1 or sorted_x.size == 0:
        raise ValueError(f"ks_distance needs a non-empty 1-d sample, got shape {sorted_x.shape}")
    if not np.all(np.isfinite(sorted_x)):
        raise ValueError(f"ks_distance: the sample has {int(np.sum(~np.isfinite(sorted_x)))} non-finite values")
    if sorted_x[0] < 0:
        raise ValueError(f"ks_distance: eigenvalues of J J^T are >= 0, got {float(sorted_x[0])!r}")
    if np.any(np.diff(sorted_x) < 0):
        raise ValueError("ks_distance needs the sample sorted in ascending order")
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
    k = int_at_least("k", k, 1, integral_floats=True)
    law = result.weights
    if law.get("kind") == "orthogonal" or "widths" in law:  # orthogonal weights, rectangular layers
        from .._arch_sampling import compare_arch

        return compare_arch(result, k, per_decade)
    if sigma_w2 is None:
        if result.weight_variance is None:
            raise ValueError(f"weights={law['name']} have infinite variance: the free-probability law does not "
                             "exist; use spectrum_concentration(result) for the concentration statistics")
        sigma_w2 = result.weight_variance
    else:
        sigma_w2 = positive_real("sigma_w2", sigma_w2, allow_zero=False)
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
