"""beta_cr, where the contraction constant crosses 1, with a distribution-free interval."""

from __future__ import annotations

import dataclasses
import math
import numbers

import numpy as np

from .._results import jsonable_result, summary_repr
from .._checks import open_fraction
from .contraction import ContractionScan, contraction_scan


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
    confidence = open_fraction("confidence", confidence)
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
