"""Power-law tails: maximum-likelihood fits with a KS-chosen cutoff, on samples and weight spectra."""

from __future__ import annotations

import dataclasses
import math
import numbers
from typing import Optional

import numpy as np

from .._results import jsonable_result, summary_repr
from .._checks import int_at_least, positive_real
from .._rng import generator


# ----------------------------------------------------------------- heavy tails
@dataclasses.dataclass(frozen=True)
class TailFit:
    """A power-law fit p(x) ~ x^{-alpha} for x >= x_min.

    Attributes
    ----------
    alpha : float
        Maximum-likelihood exponent of the density.
    alpha_stderr : float
        Its asymptotic standard error (alpha - 1) / sqrt(n_tail).
    alpha_interval : tuple or None
        Bootstrap percentile interval (cutoff re-chosen in every resample),
        when ``n_bootstrap > 0``.
    xmin : float
        The cutoff minimising the Kolmogorov-Smirnov distance.
    ks : float
        That KS distance between the tail and the fitted law.
    n_tail, n_total : int
    samples : ndarray
        The data, sorted (eigenvalues for :func:`weight_spectrum_tail`).
    confidence : float
    """

    alpha: float
    alpha_stderr: float
    alpha_interval: Optional[tuple]
    xmin: float
    ks: float
    n_tail: int
    n_total: int
    samples: np.ndarray
    confidence: float

    __repr__ = summary_repr

    @jsonable_result
    def to_dict(self, samples: bool = False) -> dict:
        out = {"alpha": self.alpha, "alpha_stderr": self.alpha_stderr,
               "alpha_interval": None if self.alpha_interval is None else list(self.alpha_interval),
               "xmin": self.xmin, "ks": self.ks, "n_tail": self.n_tail, "n_total": self.n_total,
               "confidence": self.confidence}
        if samples:
            out["samples"] = self.samples
        return out


def _fit_sorted(x: np.ndarray, min_tail: int, xmin: Optional[float]):
    """(alpha, xmin, ks, n_tail) for ascending positive x (Clauset, Shalizi & Newman 2009)."""
    n = x.size
    logx = np.log(x)
    # suffix sums of log x: S[i] = sum_{j >= i} log x_j
    suffix = np.cumsum(logx[::-1])[::-1]
    if xmin is not None:
        i = int(np.searchsorted(x, xmin, side="left"))
        cands = np.array([i])
    else:
        # candidate cutoffs: every distinct value leaving at least min_tail points
        first = np.flatnonzero(np.r_[True, x[1:] != x[:-1]])
        cands = first[first <= n - min_tail]
    best = None
    for i in cands:
        m = n - i
        s = suffix[i] - m * logx[i]
        if s <= 0:
            continue
        a = 1.0 + m / s
        tail = x[i:]
        cdf = 1.0 - (tail / tail[0]) ** (1.0 - a)
        emp_hi = np.arange(1, m + 1) / m
        emp_lo = np.arange(0, m) / m
        ks = float(max(np.max(np.abs(emp_hi - cdf)), np.max(np.abs(cdf - emp_lo))))
        if best is None or ks < best[2]:
            best = (a, float(tail[0]), ks, m)
    return best


def power_law_fit(samples, xmin: Optional[float] = None, min_tail: int = 10, n_bootstrap: int = 0, rng=None,
                  confidence: float = 0.95) -> TailFit:
    """Maximum-likelihood power-law tail with a KS-chosen cutoff.

    For x >= x_min the density p(x) = (alpha - 1)/x_min (x/x_min)^{-alpha}
    has the maximum-likelihood estimate

    .. math:: \\hat\\alpha = 1 + n \\Big/ \\sum_{x_i \\ge x_{\\min}} \\ln(x_i / x_{\\min}),
              \\qquad \\sigma_{\\hat\\alpha} = (\\hat\\alpha - 1)/\\sqrt{n},

    and x_min is the sample value minimising the Kolmogorov-Smirnov
    distance between the tail's empirical CDF and the fitted one (Clauset,
    Shalizi & Newman, SIAM Review 51, 2009).  The asymptotic error ignores
    the choice of x_min; the bootstrap interval (``n_bootstrap`` resamples,
    x_min chosen again in each) includes it.

    Parameters
    ----------
    samples : array_like
        Positive values (non-positive ones are ignored: zero eigenvalues of a
        rank-deficient W^T W carry no tail information).
    xmin : float, optional
        Fixed cutoff instead of the KS choice.
    min_tail : int >= 2, default 10
        Smallest tail size considered.
    n_bootstrap : int >= 0, default 0
    rng : seed of the bootstrap
    confidence : float in (0, 1), default 0.95

    Returns
    -------
    TailFit

    Raises
    ------
    ValueError
        With fewer than ``min_tail`` positive samples, or a ``xmin`` leaving
        fewer than 2 of them.
    """
    x = np.asarray(samples, dtype=float).ravel()
    if not np.all(np.isfinite(x)):
        raise ValueError("samples must be finite")
    x = np.sort(x[x > 0])
    min_tail = int_at_least("min_tail", min_tail, 2)
    n_bootstrap = int_at_least("n_bootstrap", n_bootstrap, 0)
    if not (isinstance(confidence, numbers.Real) and 0 < confidence < 1):
        raise ValueError(f"confidence must be a number in (0, 1), got {confidence!r}")
    if x.size < min_tail:
        raise ValueError(f"samples must contain at least min_tail={min_tail} positive values, got {x.size}")
    if xmin is not None:
        xmin = positive_real("xmin", xmin)
        if np.count_nonzero(x >= xmin) < 2:
            raise ValueError(f"xmin={xmin!r} leaves fewer than 2 samples in the tail")
    best = _fit_sorted(x, min_tail, xmin)
    if best is None:
        raise ValueError("samples have no spread above any admissible cutoff (all tail values equal)")
    alpha, x0, ks, m = best
    interval = None
    if n_bootstrap:
        gen = generator(rng)
        boots = []
        for _ in range(n_bootstrap):
            xb = np.sort(gen.choice(x, size=x.size, replace=True))
            fb = _fit_sorted(xb, min_tail, xmin)
            if fb is not None:
                boots.append(fb[0])
        if boots:
            q = (1 - confidence) / 2
            interval = (float(np.quantile(boots, q)), float(np.quantile(boots, 1 - q)))
    x.setflags(write=False)
    return TailFit(alpha=float(alpha), alpha_stderr=float((alpha - 1) / math.sqrt(m)), alpha_interval=interval,
                   xmin=x0, ks=ks, n_tail=int(m), n_total=int(x.size), samples=x, confidence=float(confidence))


def weight_spectrum_tail(W, xmin: Optional[float] = None, min_tail: int = 10, n_bootstrap: int = 0, rng=None,
                         confidence: float = 0.95) -> TailFit:
    """Power-law exponent of the eigenvalue density of W^T W.

    The eigenvalues lambda_i = s_i^2 (s_i the singular values of W, so the
    zero eigenvalues of a rectangular W are left out) are fitted by
    :func:`power_law_fit`: rho(lambda) ~ lambda^{-alpha} for lambda >=
    lambda_min.  Heavy-tailed self-regularisation (Martin & Mahoney 2021)
    reads alpha: for i.i.d. entries with P(|W_ij| > x) ~ x^{-mu}, mu < 2,
    the density of W^T W / N has the tail exponent alpha = 1 + mu/2
    (1.5 for Cauchy entries); Gaussian entries give a Marchenko-Pastur law
    with a hard edge, whose "tail" fit returns a large alpha with a large
    KS distance.  The exponent does not depend on the scale of W.

    Parameters
    ----------
    W : array_like, shape (m, n)
        A weight matrix (e.g. ``net.weights[1]``).
    xmin, min_tail, n_bootstrap, rng, confidence
        As in :func:`power_law_fit`.

    Returns
    -------
    TailFit
        ``samples`` holds the eigenvalues.
    """
    try:
        w = np.asarray(W, dtype=float)
    except (TypeError, ValueError):
        raise ValueError("W must be a real 2-d array") from None
    if w.ndim != 2 or min(w.shape) == 0:
        raise ValueError(f"W must be a non-empty 2-d array, got shape {w.shape}")
    if not np.all(np.isfinite(w)):
        raise ValueError("W must be finite")
    s = np.linalg.svd(w, compute_uv=False)
    return power_law_fit(s * s, xmin=xmin, min_tail=min_tail, n_bootstrap=n_bootstrap, rng=rng,
                         confidence=confidence)
